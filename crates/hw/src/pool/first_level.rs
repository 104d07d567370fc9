//! # FirstLevel: first-level pooling down every region column
//!
//! The k values of each region column, masked by the column's element mask, reduced to their max
//! and sum by two chains of [`ReduceStep`]s (rows 0..⌈k/2⌉ and the rest: timing), registered on
//! the enabled cycle in which an update awaits the kernel (`load`). The outputs combine each
//! column's two registered halves: its biased max (x + 256, 0 when no row counts), its sum, and
//! whether any row counts.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce`, `load` | in | 1 | clock, the unit's clock enable, register this update's columns |
//! | `values`, `mask` | in | 16 per element, 16 per column | the region, column-major (row r of column j is `values[j·k + r]`), and its masks |
//! | `max`, `sum`, `any` | out | 9, 16, 1 per column | the registered first-level results |

use crate::pool::ReduceStep;
use crate::vec_of;
use rust_hdl::prelude::*;

/// The first level of a region of k rows.
#[derive(LogicBlock)]
pub struct FirstLevel {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clock enable.
    pub ce: Signal<In, Bit>,
    /// Register the columns' results.
    pub load: Signal<In, Bit>,
    /// The region's values (sign-extended int8), column-major.
    pub values: Vec<Signal<In, Bits<16>>>,
    /// Element masks, one per column.
    pub mask: Vec<Signal<In, Bits<16>>>,
    /// Biased max of each column's counted rows.
    pub max: Vec<Signal<Out, Bits<9>>>,
    /// Sum of them.
    pub sum: Vec<Signal<Out, Bits<16>>>,
    /// Some row of the column counts.
    pub any: Vec<Signal<Out, Bit>>,
    /// Per column, the chain over rows 0..⌈k/2⌉ (`upper[j·⌈k/2⌉ + r]`) and over the rest.
    upper: Vec<ReduceStep>,
    lower: Vec<ReduceStep>,
    upper_max: Vec<DFF<Bits<9>>>,
    upper_sum: Vec<DFF<Bits<16>>>,
    lower_max: Vec<DFF<Bits<9>>>,
    lower_sum: Vec<DFF<Bits<16>>>,
    any_r: Vec<DFF<Bit>>,
}

impl FirstLevel {
    /// The first level of a region of `k` rows and `cols` columns.
    pub fn new(k: usize, cols: usize) -> Self {
        FirstLevel {
            clock: Default::default(),
            ce: Default::default(),
            load: Default::default(),
            values: vec_of(k * cols),
            mask: vec_of(cols),
            max: vec_of(cols),
            sum: vec_of(cols),
            any: vec_of(cols),
            upper: vec_of(k.div_ceil(2) * cols),
            lower: vec_of((k - k.div_ceil(2)) * cols),
            upper_max: vec_of(cols),
            upper_sum: vec_of(cols),
            lower_max: vec_of(cols),
            lower_sum: vec_of(cols),
            any_r: vec_of(cols),
        }
    }
}

impl Logic for FirstLevel {
    #[hdl_gen]
    fn update(&mut self) {
        for j in 0..self.any_r.len() {
            self.upper_max[j].clock.next = self.clock.val();
            self.upper_max[j].d.next = self.upper_max[j].q.val();
            self.upper_sum[j].clock.next = self.clock.val();
            self.upper_sum[j].d.next = self.upper_sum[j].q.val();
            self.lower_max[j].clock.next = self.clock.val();
            self.lower_max[j].d.next = self.lower_max[j].q.val();
            self.lower_sum[j].clock.next = self.clock.val();
            self.lower_sum[j].d.next = self.lower_sum[j].q.val();
            self.any_r[j].clock.next = self.clock.val();
            self.any_r[j].d.next = self.any_r[j].q.val();
            if self.upper_max[j].q.val() > self.lower_max[j].q.val() {
                self.max[j].next = self.upper_max[j].q.val();
            } else {
                self.max[j].next = self.lower_max[j].q.val();
            }
            self.sum[j].next = self.upper_sum[j].q.val() + self.lower_sum[j].q.val();
            self.any[j].next = self.any_r[j].q.val();
        }
        // Loops of one iteration bind k, ⌈k/2⌉ and k − ⌈k/2⌉ to names an index may use (rust-hdl
        // evaluates index expressions over loop variables only). Max compares nine-bit biased
        // values: unsigned order equals signed order, 0 is below every int8, and the carry chains
        // are nine bits long instead of sixteen.
        for kk in (self.values.len() / self.any_r.len())..(self.values.len() / self.any_r.len() + 1) {
            for ka in (self.upper.len() / self.any_r.len())..(self.upper.len() / self.any_r.len() + 1) {
                for kb in (self.lower.len() / self.any_r.len())..(self.lower.len() / self.any_r.len() + 1) {
                    for j in 0..self.any_r.len() {
                        self.upper[j * ka].acc_max.next = 0.into();
                        self.upper[j * ka].acc_sum.next = 0.into();
                        for r in 1..(self.upper.len() / self.any_r.len()) {
                            self.upper[j * ka + r].acc_max.next = self.upper[j * ka + r - 1].max.val();
                            self.upper[j * ka + r].acc_sum.next = self.upper[j * ka + r - 1].sum.val();
                        }
                        for r in 0..(self.upper.len() / self.any_r.len()) {
                            self.upper[j * ka + r].max_in.next = self.values[j * kk + r].val().get_bits::<9>(0) ^ 0x100;
                            self.upper[j * ka + r].sum_in.next = self.values[j * kk + r].val();
                            self.upper[j * ka + r].max_en.next = self.mask[j].val().get_bit(r);
                            self.upper[j * ka + r].sum_en.next = self.mask[j].val().get_bit(r);
                        }
                        for i in 0..(self.lower.len() / self.any_r.len()) {
                            self.lower[j * kb + i].max_in.next = self.values[j * kk + ka + i].val().get_bits::<9>(0) ^ 0x100;
                            self.lower[j * kb + i].sum_in.next = self.values[j * kk + ka + i].val();
                            self.lower[j * kb + i].max_en.next = self.mask[j].val().get_bit(ka + i);
                            self.lower[j * kb + i].sum_en.next = self.mask[j].val().get_bit(ka + i);
                        }
                        for _first in 0..(self.lower.len() / self.any_r.len()).min(1) {
                            self.lower[j * kb].acc_max.next = 0.into();
                            self.lower[j * kb].acc_sum.next = 0.into();
                        }
                        for i in 1..(self.lower.len() / self.any_r.len()) {
                            self.lower[j * kb + i].acc_max.next = self.lower[j * kb + i - 1].max.val();
                            self.lower[j * kb + i].acc_sum.next = self.lower[j * kb + i - 1].sum.val();
                        }
                        if self.ce.val() & self.load.val() {
                            self.any_r[j].d.next = self.mask[j].val().any();
                            self.upper_max[j].d.next = self.upper[j * ka + ka - 1].max.val();
                            self.upper_sum[j].d.next = self.upper[j * ka + ka - 1].sum.val();
                            // An empty lower chain (k = 1) contributes the identities.
                            self.lower_max[j].d.next = 0.into();
                            self.lower_sum[j].d.next = 0.into();
                            for i in (self.lower.len() / self.any_r.len()).saturating_sub(1)..(self.lower.len() / self.any_r.len()) {
                                self.lower_max[j].d.next = self.lower[j * kb + i].max.val();
                                self.lower_sum[j].d.next = self.lower[j * kb + i].sum.val();
                            }
                        }
                    }
                }
            }
        }
    }
}

crate::clocked!(FirstLevel);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random regions and masks: after a load each column's outputs are the masked max (biased)
    /// and sum of its int8 values, and they hold while `load` or `ce` is low.
    #[test]
    fn column_results_are_the_masked_max_and_sum() {
        let mut rng = Rng::from_env("first-level", 29);
        for k in 1..=5usize {
            let cols = 1 + rng.below(4) as usize;
            let mut h = Harness::new(FirstLevel::new(k, cols)).unwrap();
            let mut want = vec![(0u64, 0u64, false); cols];
            for step in 0..100 {
                let vals: Vec<i64> = (0..k * cols).map(|_| rng.below(256) as i64 - 128).collect();
                let masks: Vec<u64> = (0..cols).map(|_| rng.below(1 << k)).collect();
                let (ce, load) = (rng.below(3) > 0, rng.below(2) == 0);
                for (i, &v) in vals.iter().enumerate() {
                    h.uut.values[i].next = ((v as i16 as u16) as u64).into();
                }
                for (j, &m) in masks.iter().enumerate() {
                    h.uut.mask[j].next = m.into();
                }
                h.uut.ce.next = ce;
                h.uut.load.next = load;
                h.step().unwrap();
                if ce && load {
                    for (j, w) in want.iter_mut().enumerate() {
                        let counted: Vec<i64> = (0..k).filter(|&r| masks[j] >> r & 1 == 1).map(|r| vals[j * k + r]).collect();
                        let max = counted.iter().max().map_or(0, |&m| (m + 256) as u64);
                        let sum = (counted.iter().sum::<i64>() as i16 as u16) as u64;
                        *w = (max, sum, !counted.is_empty());
                    }
                }
                for (j, w) in want.iter().enumerate() {
                    let u = &h.uut;
                    assert_eq!((u.max[j].val(), u.sum[j].val(), u.any[j].val()), (bits::<9>(w.0), bits::<16>(w.1), w.2), "k {k} step {step} column {j}");
                }
            }
        }
    }
}
