//! The row-sum mapping of a depthwise convolution (issue #30; docs/conv-array.md, "Grouped and
//! depthwise convolutions"), as an executable model: the specification of the hardware mode and
//! its cycle count, checked against the golden convolution before any hardware is built (as
//! `QAdd::fused_int` was for the add unit).
//!
//! The patent's structure stays: PE row r has one input port and carries one channel `c`; its
//! datum enters PE (r, 0) and shifts one PE to the right per slot, so PE (r, j) holds the datum
//! that entered j slots earlier; each PE holds K kernels and uses one per fast sub-cycle. What
//! changes is where products go: a *column group* of `kw` PEs adds its products along the row
//! (the row sum), and that sum goes to one accumulator of channel `c`. In sub-cycle `s`, column
//! group `g` uses kernel row `assign[g][s]` (or nothing): PE (r, g·kw + jj) multiplies by
//! `w[c][dy][kw − 1 − jj]`, so when the group's PEs hold `kw` consecutive columns of one input
//! row `y` (padded coordinates), its sum is kernel row `dy` applied to the window whose left
//! column is the oldest of them, and it adds into output row `(y − dy) / sh` when that window
//! exists. Every input row is streamed once per channel group, padding included (pad values
//! enter the chain as data, as `PE_PAD` feeds them today), without a gap between rows or groups:
//! a group lagging `g·kw` columns finishes a row's last windows as the next row enters.
//!
//! The default assignment (`RowSumMap::new`) gives each kernel row a (group, sub-cycle) pair,
//! filling sub-cycles before column groups, so `kh` kernel rows take `⌈kh / groups⌉` sub-cycles:
//! a 3×3 kernel on 8 columns (2 whole groups of 3) takes 2 sub-cycles a slot, group 0 the kernel
//! rows 0 and 1, group 1 row 2 (for the window 3 columns further left).

use accelgen_golden::TensorI8;

/// A depthwise layer: channels, map, kernel, stride, padding (top, left, bottom, right) and the
/// padding value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DwLayer {
    /// Channels (each its own kernel).
    pub c: usize,
    /// Input height and width.
    pub h: usize,
    /// See `h`.
    pub w: usize,
    /// Kernel height and width.
    pub kh: usize,
    /// See `kh`.
    pub kw: usize,
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// The padding value (the input zero point).
    pub pad_value: i8,
}

impl DwLayer {
    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        let hp = self.h + self.pads[0] + self.pads[2];
        let wp = self.w + self.pads[1] + self.pads[3];
        ((hp - self.kh) / self.stride[0] + 1, (wp - self.kw) / self.stride[1] + 1)
    }
}

/// The mapping on an array of `rows` × `cols` PEs: which kernel row each column group computes in
/// each sub-cycle (`None`: idle); its sub-cycles per slot are `assign[0].len()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowSumMap {
    /// PE rows R (channels per pass).
    pub rows: usize,
    /// PE columns C.
    pub cols: usize,
    /// `assign[g][s]`: the kernel row column group g computes in sub-cycle s.
    pub assign: Vec<Vec<Option<usize>>>,
}

/// A datum in a PE: its value, channel, padded row and padded column.
type Held = (i8, usize, usize, usize);

/// What a run of the model did: slots (data streamed per PE row), fast cycles (slots ×
/// sub-cycles), the products that reached an output, and every product the array offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DwCounts {
    /// Slots: one datum enters each PE row.
    pub slots: u64,
    /// Fast cycles: slots × sub-cycles per slot.
    pub cycles: u64,
    /// Products added into an output (the layer's MACs, padding taps included).
    pub useful: u64,
    /// R·C products per fast cycle.
    pub offered: u64,
}

impl RowSumMap {
    /// The default assignment for `kh` × `kw` kernels on `rows` × `cols` PEs (at most `k` sub-cycles),
    /// or why the mapping cannot run it.
    pub fn new(rows: usize, cols: usize, k: usize, kh: usize, kw: usize) -> Result<RowSumMap, String> {
        if kw == 0 || kh == 0 || kw > cols {
            return Err(format!("a {kh}×{kw} kernel needs a column group of {kw} PEs; the array has {cols} columns"));
        }
        let groups = cols / kw;
        let subs = kh.div_ceil(groups);
        if subs > k {
            return Err(format!("{kh} kernel rows on {groups} column groups need {subs} sub-cycles; the PEs hold {k} kernels"));
        }
        let mut assign = vec![vec![None; subs]; groups];
        for dy in 0..kh {
            assign[dy / subs][dy % subs] = Some(dy);
        }
        Ok(RowSumMap { rows, cols, assign })
    }

    /// Runs the layer: the accumulators `[C, Ho, Wo]` (bias added) and the counts. `x` is
    /// `[C, H, W]`, `wt` `[C, 1, kh, kw]`, `bias` one per channel.
    pub fn run(&self, l: &DwLayer, x: &TensorI8, wt: &TensorI8, bias: &[i32]) -> Result<(Vec<i32>, DwCounts), String> {
        if x.shape != [l.c, l.h, l.w] || wt.shape != [l.c, 1, l.kh, l.kw] || bias.len() != l.c {
            return Err(format!("input {:?}, weight {:?}, bias [{}] do not fit {l:?}", x.shape, wt.shape, bias.len()));
        }
        let (ho, wo) = l.out_hw();
        let (hp, wp) = (l.h + l.pads[0] + l.pads[2], l.w + l.pads[1] + l.pads[3]);
        let subs = self.assign.first().map_or(0, Vec::len);
        let mut acc: Vec<i32> = (0..l.c).flat_map(|c| std::iter::repeat_n(bias[c], ho * wo)).collect();
        let mut n = DwCounts::default();
        let datum = |c: usize, y: usize, xx: usize| -> i8 {
            let (iy, ix) = (y as isize - l.pads[0] as isize, xx as isize - l.pads[1] as isize);
            if iy >= 0 && (iy as usize) < l.h && ix >= 0 && (ix as usize) < l.w {
                x.data[(c * l.h + iy as usize) * l.w + ix as usize]
            } else {
                l.pad_value
            }
        };
        // Each PE row's shift chain: (datum, channel, padded row, padded column) per PE. The
        // stream does not stop between input rows or channel groups (a datum keeps its channel's
        // weights as it shifts, as swap-tagged data carry their pass's weights today); after the
        // last group the chain empties in `groups·kw − 1` more slots.
        let mut chain: Vec<Vec<Option<Held>>> = vec![vec![None; self.cols]; self.rows];
        let span = self.assign.len() * l.kw;
        let feed: Vec<Option<(usize, usize, usize)>> = (0..l.c)
            .step_by(self.rows)
            .flat_map(|c0| (0..hp).flat_map(move |y| (0..wp).map(move |t| Some((c0, y, t)))))
            .chain(std::iter::repeat_n(None, span.saturating_sub(1)))
            .collect();
        for f in feed {
            n.slots += 1;
            n.cycles += subs as u64;
            n.offered += (subs * self.rows * self.cols) as u64;
            for (r, ch) in chain.iter_mut().enumerate() {
                ch.rotate_right(1);
                ch[0] = f.and_then(|(c0, y, t)| (c0 + r < l.c).then(|| (datum(c0 + r, y, t), c0 + r, y, t)));
            }
            for ch in &chain {
                for (g, rows_of) in self.assign.iter().enumerate() {
                    // The group's PEs must hold kw consecutive columns of one row of one channel;
                    // the oldest (its last PE) is the window's left column.
                    let pes = &ch[g * l.kw..(g + 1) * l.kw];
                    let Some(Some((_, c, py, left))) = pes.last().copied() else { continue };
                    let whole = pes.iter().enumerate().all(|(jj, e)| matches!(e, Some((_, cc, yy, xx)) if *cc == c && *yy == py && *xx == left + l.kw - 1 - jj));
                    if !whole || left % l.stride[1] != 0 || left / l.stride[1] >= wo {
                        continue;
                    }
                    for dy in rows_of.iter().flatten() {
                        let Some(top) = py.checked_sub(*dy) else { continue };
                        if top % l.stride[0] != 0 || top / l.stride[0] >= ho {
                            continue;
                        }
                        let sum: i32 = pes
                            .iter()
                            .enumerate()
                            .map(|(jj, e)| e.map_or(0, |(v, ..)| v as i32) * wt.data[(c * l.kh + dy) * l.kw + (l.kw - 1 - jj)] as i32)
                            .sum();
                        let o = (c * ho + top / l.stride[0]) * wo + left / l.stride[1];
                        acc[o] = acc[o].wrapping_add(sum);
                        n.useful += l.kw as u64;
                    }
                }
            }
        }
        Ok((acc, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_golden::{conv2d, ConvParams};
    use accelgen_golden::testutil::Rng;
    use accelgen_golden::Tensor;

    /// The golden convolution of each channel alone (a depthwise layer is C one-channel ones).
    fn golden(l: &DwLayer, x: &TensorI8, wt: &TensorI8, bias: &[i32]) -> Vec<i32> {
        let p = ConvParams {
            stride: l.stride,
            padding: [l.pads[0], l.pads[1]],
            padding_end: Some([l.pads[2], l.pads[3]]),
            pad_value: l.pad_value,
        };
        (0..l.c)
            .flat_map(|c| {
                let xc = Tensor::from_vec(&[1, l.h, l.w], x.data[c * l.h * l.w..(c + 1) * l.h * l.w].to_vec()).unwrap();
                let wc = Tensor::from_vec(&[1, 1, l.kh, l.kw], wt.data[c * l.kh * l.kw..(c + 1) * l.kh * l.kw].to_vec()).unwrap();
                let bc = Tensor::from_vec(&[1], vec![bias[c]]).unwrap();
                conv2d(&xc, &wc, Some(&bc), &p).unwrap().data
            })
            .collect()
    }

    fn random(rng: &mut Rng, l: &DwLayer) -> (TensorI8, TensorI8, Vec<i32>) {
        let mut v = |n: usize| (0..n).map(|_| rng.range(-128, 127) as i8).collect::<Vec<_>>();
        let x = Tensor::from_vec(&[l.c, l.h, l.w], v(l.c * l.h * l.w)).unwrap();
        let w = Tensor::from_vec(&[l.c, 1, l.kh, l.kw], v(l.c * l.kh * l.kw)).unwrap();
        let b = v(l.c).iter().map(|&b| b as i32 * 1000).collect();
        (x, w, b)
    }

    #[test]
    fn the_row_sum_mapping_equals_the_golden_depthwise_convolution() {
        let mut rng = Rng::from_env("dw-map", 4);
        let mut ran = 0;
        for i in 0..120 {
            let (kh, kw) = [(3, 3), (3, 3), (5, 5), (1, 1), (3, 1), (2, 4), (7, 3)][i % 7];
            let s = [1 + rng.below(2) as usize, 1 + rng.below(2) as usize];
            let pads = [0; 4].map(|_| rng.below(kh.min(kw) as u64) as usize);
            let l = DwLayer {
                c: 1 + rng.below(20) as usize,
                h: kh + rng.below(9) as usize,
                w: kw + rng.below(9) as usize,
                kh,
                kw,
                stride: s,
                pads,
                pad_value: rng.range(-128, 127) as i8,
            };
            let (rows, cols, k) = [(8, 8, 4), (4, 4, 2), (8, 8, 3), (2, 16, 2)][i % 4];
            let Ok(m) = RowSumMap::new(rows, cols, k, kh, kw) else { continue };
            let (x, w, b) = random(&mut rng, &l);
            let (acc, n) = m.run(&l, &x, &w, &b).unwrap();
            assert_eq!(acc, golden(&l, &x, &w, &b), "{l:?} on {rows}×{cols}, k = {k}: {m:?}");
            // every product of every output's window is made once; a slot per padded input
            // datum of each channel group, then the chain empties behind the last
            let (ho, wo) = l.out_hw();
            assert_eq!(n.useful, (l.c * ho * wo * kh * kw) as u64, "{l:?}");
            let padded = (l.h + pads[0] + pads[2]) * (l.w + pads[1] + pads[3]);
            assert_eq!(n.slots as usize, l.c.div_ceil(rows) * padded + m.assign.len() * kw - 1, "{l:?}");
            assert_eq!(n.cycles, n.slots * m.assign[0].len() as u64);
            ran += 1;
        }
        assert!(ran >= 80, "{ran} of 120 layers mapped");
    }

    #[test]
    fn a_wrong_kernel_row_assignment_is_caught() {
        // the check above can fail: two groups swapped onto one kernel row
        let l = DwLayer { c: 3, h: 6, w: 6, kh: 3, kw: 3, stride: [1, 1], pads: [1; 4], pad_value: 2 };
        let mut m = RowSumMap::new(8, 8, 4, 3, 3).unwrap();
        m.assign[1][0] = Some(1);
        let mut rng = Rng::new(1);
        let (x, w, b) = random(&mut rng, &l);
        assert_ne!(m.run(&l, &x, &w, &b).unwrap().0, golden(&l, &x, &w, &b));
    }

    #[test]
    fn kernels_the_array_cannot_hold_are_refused() {
        let e = RowSumMap::new(8, 8, 4, 3, 9).unwrap_err();
        assert!(e.contains("3×9") && e.contains("8 columns"), "{e}");
        let e = RowSumMap::new(8, 8, 2, 7, 5).unwrap_err();
        assert!(e.contains("7 kernel rows") && e.contains("2 kernels"), "{e}");
    }
}
