//! # OutputStage: a window's two halves combined, averaged or maxed, into the output register
//!
//! The window stage combines the halves from [`WindowScan`](crate::pool::WindowScan) (the larger
//! biased max, whose low eight bits are the int8 value, and the sum of the sums) into registers;
//! the window's sum then enters the [`AvgDiv`] while its valid flag, index and max ride along in
//! [`AVG_DIV_STAGES`] side registers, so both results reach the output register together: the
//! average when `p_avg`, else the max. `valid` is high for one clock per window, on the clock
//! after the enabled edge that loaded it.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce` | in | 1 | clock and the unit's clock enable |
//! | `w_valid`, `w_idx` | in | 1, 32 | a window ended, and its output index |
//! | `wa_max`, `wa_sum`, `wb_max`, `wb_sum` | in | 9, 16 | its two halves |
//! | `p_avg`, `p_count` | in | 1, 16 | average (else max), and kh·kw |
//! | `valid`, `idx`, `data` | out | 1, 32, 8 | one pooled value |

use crate::pool::{AvgDiv, AVG_DIV_STAGES};
use crate::vec_of;
use rust_hdl::prelude::*;

/// The output stage.
#[derive(LogicBlock)]
pub struct OutputStage {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clock enable.
    pub ce: Signal<In, Bit>,
    /// A window ended.
    pub w_valid: Signal<In, Bit>,
    /// Its output index.
    pub w_idx: Signal<In, Bits<32>>,
    /// First half's biased max.
    pub wa_max: Signal<In, Bits<9>>,
    /// First half's sum.
    pub wa_sum: Signal<In, Bits<16>>,
    /// Second half's biased max.
    pub wb_max: Signal<In, Bits<9>>,
    /// Second half's sum.
    pub wb_sum: Signal<In, Bits<16>>,
    /// Average (else max).
    pub p_avg: Signal<In, Bit>,
    /// kh·kw.
    pub p_count: Signal<In, Bits<16>>,
    /// A pooled value is out (one clock per window).
    pub valid: Signal<Out, Bit>,
    /// Its flat output index.
    pub idx: Signal<Out, Bits<32>>,
    /// The pooled value.
    pub data: Signal<Out, Bits<8>>,
    avgdiv: AvgDiv,
    /// Window stage.
    q_valid: DFF<Bit>,
    q_idx: DFF<Bits<32>>,
    q_sum: DFF<Bits<16>>,
    q_max: DFF<Bits<8>>,
    /// Side registers of the divider's stages: valid, index, max.
    h_valid: Vec<DFF<Bit>>,
    h_idx: Vec<DFF<Bits<32>>>,
    h_max: Vec<DFF<Bits<8>>>,
    /// Output register.
    o_valid: DFF<Bit>,
    o_idx: DFF<Bits<32>>,
    o_data: DFF<Bits<8>>,
    /// The window's max (int8) and sum.
    omax: Signal<Local, Bits<8>>,
    wsum: Signal<Local, Bits<16>>,
}

impl Default for OutputStage {
    fn default() -> Self {
        block_with_defaults!(OutputStage {
            h_valid: vec_of(AVG_DIV_STAGES),
            h_idx: vec_of(AVG_DIV_STAGES),
            h_max: vec_of(AVG_DIV_STAGES),
        } defaults {
            clock, ce, w_valid, w_idx, wa_max, wa_sum, wb_max, wb_sum, p_avg, p_count, valid, idx,
            data, avgdiv, q_valid, q_idx, q_sum, q_max, o_valid, o_idx, o_data,
            omax, wsum,
        })
    }
}

impl Logic for OutputStage {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, q_valid, q_idx, q_sum, q_max, o_valid, o_idx, o_data);
        for s in 0..self.h_valid.len() {
            self.h_valid[s].clock.next = self.clock.val();
            self.h_valid[s].d.next = self.h_valid[s].q.val();
            self.h_idx[s].clock.next = self.clock.val();
            self.h_idx[s].d.next = self.h_idx[s].q.val();
            self.h_max[s].clock.next = self.clock.val();
            self.h_max[s].d.next = self.h_max[s].q.val();
        }
        self.valid.next = self.o_valid.q.val();
        self.idx.next = self.o_idx.q.val();
        self.data.next = self.o_data.q.val();
        if self.wa_max.val() > self.wb_max.val() {
            self.omax.next = self.wa_max.val().get_bits::<8>(0);
        } else {
            self.omax.next = self.wb_max.val().get_bits::<8>(0);
        }
        self.wsum.next = self.wa_sum.val() + self.wb_sum.val();
        // The divider takes the registered window sum and advances with the side registers.
        self.avgdiv.clock.next = self.clock.val();
        self.avgdiv.ce.next = self.ce.val();
        self.avgdiv.sum.next = self.q_sum.q.val();
        self.avgdiv.count.next = self.p_count.val();
        self.o_valid.d.next = false;
        if self.ce.val() {
            // A loop of one iteration binds the last stage to a name an index may use (rust-hdl
            // evaluates index expressions over loop variables only).
            for last in (self.h_valid.len() - 1)..self.h_valid.len() {
                self.o_valid.d.next = self.h_valid[last].q.val();
                self.o_idx.d.next = self.h_idx[last].q.val();
                if self.p_avg.val() {
                    self.o_data.d.next = self.avgdiv.avg.val();
                } else {
                    self.o_data.d.next = self.h_max[last].q.val();
                }
            }
            for s in 1..self.h_valid.len() {
                self.h_valid[s].d.next = self.h_valid[s - 1].q.val();
                self.h_idx[s].d.next = self.h_idx[s - 1].q.val();
                self.h_max[s].d.next = self.h_max[s - 1].q.val();
            }
            self.h_valid[0].d.next = self.q_valid.q.val();
            self.h_idx[0].d.next = self.q_idx.q.val();
            self.h_max[0].d.next = self.q_max.q.val();
            self.q_valid.d.next = self.w_valid.val();
            self.q_idx.d.next = self.w_idx.val();
            self.q_sum.d.next = self.wsum.val();
            self.q_max.d.next = self.omax.val();
        }
    }
}

crate::clocked!(OutputStage);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use accelgen_golden::{avgpool2d, maxpool2d, PoolParams, Tensor};

    /// Random windows (halves of up to 8 int8 elements each) under a random clock enable: every
    /// window comes out once, in order, with its index and the golden model's max or rounded
    /// average of its elements.
    #[test]
    fn windows_come_out_maxed_or_averaged() {
        let mut rng = Rng::from_env("output-stage", 37);
        for avg in [false, true] {
            let mut h = Harness::new(OutputStage::default()).unwrap();
            let count = 1 + rng.below(16);
            h.uut.p_avg.next = avg;
            h.uut.p_count.next = count.into();
            let (mut want, mut got) = (vec![], vec![]);
            for i in 0..300u64 {
                let ce = rng.below(3) > 0;
                h.uut.ce.next = ce;
                let window = ce && rng.below(2) == 0;
                h.uut.w_valid.next = window;
                if window {
                    let elems: Vec<i64> = (0..count).map(|_| rng.below(256) as i64 - 128).collect();
                    let split = rng.below(count + 1) as usize;
                    let half = |e: &[i64]| (e.iter().max().map_or(0, |&m| (m + 256) as u64), (e.iter().sum::<i64>() as u16) as u64);
                    let (a, b) = (half(&elems[..split]), half(&elems[split..]));
                    h.uut.w_idx.next = i.into();
                    h.uut.wa_max.next = a.0.into();
                    h.uut.wa_sum.next = a.1.into();
                    h.uut.wb_max.next = b.0.into();
                    h.uut.wb_sum.next = b.1.into();
                    // The golden pooling of the window's elements as one 1×count window.
                    let t = Tensor::from_vec(&[1, 1, count as usize], elems.iter().map(|&e| e as i8).collect()).unwrap();
                    let p = PoolParams::new([1, count as usize], [1, 1], [0, 0]);
                    let v = if avg { avgpool2d(&t, &p) } else { maxpool2d(&t, &p) }.unwrap().data[0];
                    want.push((i, v));
                }
                h.step().unwrap();
                if h.uut.valid.val() {
                    got.push((h.uut.idx.val().index() as u64, h.uut.data.val().index() as u8 as i8));
                }
            }
            for _ in 0..64 {
                h.uut.w_valid.next = false;
                h.uut.ce.next = true;
                h.step().unwrap();
                if h.uut.valid.val() {
                    got.push((h.uut.idx.val().index() as u64, h.uut.data.val().index() as u8 as i8));
                }
            }
            assert_eq!(got, want, "avg {avg} count {count}");
        }
    }
}
