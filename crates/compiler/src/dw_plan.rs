//! The plan of a depthwise layer on the conv engine's depthwise mode (docs/conv-array.md,
//! `accelgen_hw::pe::DwRows`): the carrier run whose slots stream the padded input, the
//! sub-cycles per slot, the engine's depthwise parameters and the weight-buffer image. The
//! hardware the mode specifies is checked against [`crate::dw_map`]'s model and the golden
//! convolution (crates/sim/tests/conv_engine.rs).

use crate::ConvPlan;
use accelgen_config::ConvArray;
use accelgen_golden::TensorI8;

/// A depthwise layer on the engine's depthwise mode (docs/conv-array.md): its run parameters.
/// The slots are those of a 1 × 1 convolution of the padded input ("the carrier": every padded
/// pixel of a channel group streamed once, a pass per group of R channels), the sums are the
/// row sums of `DwRows`.
#[derive(Clone, Debug)]
pub struct DwPlan {
    /// The carrier's plan (stride 1, the layer's padding, C·k output channels: one tile).
    pub carrier: ConvPlan,
    /// Channels, kernel height and width, strides, output height and width.
    pub c: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
    /// Sub-cycles per slot (the least k ≥ 2 whose column groups cover the kernel's rows).
    pub k: usize,
    /// Global mode (`kh × kw` is the whole map: one output per channel).
    pub global: bool,
}

impl DwPlan {
    /// The run of a depthwise layer (`weight` `[C, 1, kh, kw]`) on `input` `[C, H, W]`, or why
    /// the depthwise mode cannot run it.
    pub fn plan(e: &ConvArray, input: &[usize], weight: &[usize], p: &accelgen_golden::ConvParams) -> Result<DwPlan, String> {
        let [c, h, w] = [input[0], input[1], input[2]];
        let (kh, kw) = (weight[2], weight[3]);
        if weight[0] != c || weight[1] != 1 {
            return Err(format!("a depthwise weight is [C, 1, kh, kw] with C = {c}; got {weight:?}"));
        }
        if e.rows > e.cols {
            return Err(format!("the depthwise mode needs rows <= cols (row r's outputs use column r); the array is {}x{}", e.rows, e.cols));
        }
        let (kwmax, khmax, groups) = (e.dw_group_width(), e.dw_kernel_rows(), e.cols / e.dw_group_width());
        let [pt, pl, pb, pr] = p.pads();
        let (hp, wp) = (h + pt + pb, w + pl + pr);
        let global = kh == hp && kw == wp && kh * kw > 1 && pt + pl + pb + pr == 0;
        if !global {
            if kw > kwmax || kh > khmax {
                return Err(format!("a {kh}x{kw} kernel; the depthwise mode runs kernels up to {khmax}x{kwmax} on this array"));
            }
            if p.stride.iter().any(|&s| !(1..=2).contains(&s)) {
                return Err(format!("stride {:?}; the depthwise mode runs strides 1 and 2", p.stride));
            }
        }
        let ho = if global { 1 } else { (hp - kh) / p.stride[0] + 1 };
        let wo = if global { 1 } else { (wp - kw) / p.stride[1] + 1 };
        let k = if global { 2 } else { (2..=e.kernels).find(|&k| groups * k >= kh).ok_or_else(|| format!("{kh} kernel rows need more than {} sub-cycles", e.kernels))? };
        if wo + 8 > e.dw_line_depth() {
            return Err(format!("output rows of {wo}; the depthwise line FIFOs hold {} entries (rows up to {})", e.dw_line_depth(), e.dw_line_depth() - 8));
        }
        let ek = ConvArray { kernels: k, ..*e };
        let cp = accelgen_golden::ConvParams { stride: [1, 1], ..p.clone() };
        let carrier = ConvPlan::geometry(&ek, input, &[e.cols * k, c, 1, 1], &cp)?;
        Ok(DwPlan { carrier, c, kh, kw, stride: p.stride, ho, wo, k, global })
    }

    /// Outputs per channel.
    pub fn pixels(&self) -> usize {
        self.ho * self.wo
    }

    /// The `p_dw` word: on, global, stride-2 bits, kernel height.
    pub fn mode_word(&self) -> u64 {
        let kh = if self.global { 1 } else { self.kh };
        1 | u64::from(self.global) << 1 | u64::from(self.stride[1] == 2) << 2 | u64::from(self.stride[0] == 2) << 3 | (kh as u64) << 4
    }

    /// (Wo − 1)·sw and (Ho − 1)·sh: the last window's left column and top row (global: the
    /// last padded pixel).
    pub fn last_window(&self) -> (usize, usize) {
        if self.global {
            (self.carrier.wo - 1, self.carrier.ho - 1)
        } else {
            ((self.wo - 1) * self.stride[1], (self.ho - 1) * self.stride[0])
        }
    }

    /// PE (r, c)'s kernel j in pass g (channel g·R + r): kernel row g'·k + j of column group
    /// g' = c div KW, kernel column KW − 1 − (c mod KW), zero outside the kernel. Global mode: the
    /// channel's one weight in group 0's last PE, kernel 0 (a 1 × 1 kernel applied to every
    /// position).
    pub fn pe_weight(&self, e: &ConvArray, weight: &TensorI8, g: usize, r: usize, c: usize, j: usize) -> i8 {
        let (kwg, groups) = (e.dw_group_width(), e.cols / e.dw_group_width());
        let ch = g * e.rows + r;
        let (cg, jj) = (c / kwg, c % kwg);
        if ch >= self.c || cg >= groups {
            return 0;
        }
        let (dy, dx) = (cg * self.k + j, kwg - 1 - jj);
        if self.global {
            // Every position's datum times the layer's one weight: a 1 × 1 kernel.
            return if dy == 0 && dx == 0 { weight.data[ch * self.kh * self.kw] } else { 0 };
        }
        if dy < self.kh && dx < self.kw { weight.data[(ch * self.kh + dy) * self.kw + dx] } else { 0 }
    }

    /// The weight-buffer image: pass g, then row r, kernel j, column c (the loader's order).
    pub fn weight_image(&self, e: &ConvArray, weight: &TensorI8) -> Vec<i8> {
        let mut v = Vec::new();
        for g in 0..self.carrier.ic_tiles {
            for r in 0..e.rows {
                for j in 0..self.k {
                    for c in 0..e.cols {
                        v.push(self.pe_weight(e, weight, g, r, c, j));
                    }
                }
            }
        }
        v
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::dw_map::RowSumMap;
    use accelgen_config::Preset;
    use accelgen_golden::{ConvParams, Tensor};

    fn default() -> ConvArray {
        Preset::Default.config().conv_array()
    }

    fn params(s: usize, p: usize) -> ConvParams {
        ConvParams { stride: [s, s], padding: [p, p], padding_end: None, pad_value: 0 }
    }

    /// DS-CNN's depthwise layer on `default`: 8 passes of 8 channels over the 27×7 padded map,
    /// k = 2 (two groups of 3 PEs cover 3 kernel rows), and the engine's words.
    #[test]
    fn ds_cnn_depthwise_layer_plan() {
        let d = DwPlan::plan(&default(), &[64, 25, 5], &[64, 1, 3, 3], &params(1, 1)).unwrap();
        assert_eq!((d.k, d.ho, d.wo, d.global), (2, 25, 5, false));
        assert_eq!((d.carrier.ic_tiles, d.carrier.oc_tiles, d.carrier.ho, d.carrier.wo), (8, 1, 27, 7));
        assert_eq!(d.mode_word(), 1 | 3 << 4);
        assert_eq!(d.last_window(), (4, 24));
        let s2 = DwPlan::plan(&default(), &[16, 48, 48], &[16, 1, 3, 3], &params(2, 1)).unwrap();
        assert_eq!((s2.ho, s2.wo, s2.mode_word(), s2.last_window()), (24, 24, 1 | 1 << 2 | 1 << 3 | 3 << 4, (46, 46)));
        let gap = DwPlan::plan(&default(), &[64, 8, 8], &[64, 1, 8, 8], &params(1, 0)).unwrap();
        assert_eq!((gap.global, gap.pixels(), gap.mode_word(), gap.last_window()), (true, 1, 1 | 1 << 1 | 1 << 4, (7, 7)));
    }

    /// What the mode cannot run is refused with the limit named.
    #[test]
    fn layers_outside_the_mode_are_refused_naming_the_limit() {
        let e = default();
        let err = |input: &[usize], w: &[usize], p: ConvParams| DwPlan::plan(&e, input, w, &p).unwrap_err();
        assert!(err(&[8, 9, 9], &[8, 1, 3, 5], params(1, 1)).contains("up to 3x3"));
        assert!(err(&[8, 9, 9], &[8, 1, 5, 3], params(1, 1)).contains("up to 3x3"));
        assert!(err(&[8, 9, 9], &[8, 1, 3, 3], params(3, 1)).contains("strides 1 and 2"));
        assert!(err(&[8, 9, 9], &[8, 2, 3, 3], params(1, 1)).contains("[C, 1, kh, kw]"));
        assert!(err(&[8, 9, 80], &[8, 1, 3, 3], params(1, 1)).contains("line FIFOs"));
        let tall = ConvArray { rows: 9, ..e };
        assert!(DwPlan::plan(&tall, &[8, 9, 9], &[8, 1, 3, 3], &params(1, 1)).unwrap_err().contains("rows <= cols"));
    }

    /// The weight image places kernel row dy of the channel in the sub-cycle and column group
    /// that `dw_map`'s row-sum model assigns it (an independent statement of the mapping), its
    /// columns right to left in each group, zeros elsewhere.
    #[test]
    fn the_weight_image_follows_the_row_sum_model() {
        let e = default();
        let (c, kh, kw) = (11, 3, 3);
        let w = Tensor::from_vec(&[c, 1, kh, kw], (0..c * kh * kw).map(|i| (i % 127) as i8 + 1).collect()).unwrap();
        let d = DwPlan::plan(&e, &[c, 6, 6], &w.shape, &params(1, 1)).unwrap();
        let model = RowSumMap::new(e.rows, e.cols, d.k, kh, kw).unwrap();
        let img = d.weight_image(&e, &w);
        assert_eq!(img.len(), d.carrier.ic_tiles * e.rows * d.k * e.cols);
        let kwg = e.dw_group_width();
        for g in 0..d.carrier.ic_tiles {
            for r in 0..e.rows {
                let ch = g * e.rows + r;
                for j in 0..d.k {
                    for cc in 0..e.cols {
                        let v = img[((g * e.rows + r) * d.k + j) * e.cols + cc];
                        let want = match model.assign.get(cc / kwg).and_then(|a| a[j]) {
                            Some(dy) if ch < c => w.data[(ch * kh + dy) * kw + kwg - 1 - cc % kwg],
                            _ => 0,
                        };
                        assert_eq!(v, want, "pass {g}, row {r}, kernel {j}, column {cc}");
                    }
                }
            }
        }
    }
}
