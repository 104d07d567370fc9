//! # ReduceStep: one element of a max-and-sum chain (the pooling kernel's reduction)
//!
//! The pooling kernel reduces twice: down each region column (first level,
//! [`FirstLevel`](crate::pool::FirstLevel)) and across a window's column results (second level,
//! [`WindowScan`](crate::pool::WindowScan)). Both are chains of this step: the running max and sum
//! of the elements before it in, the running values after its element out. Each level is two
//! chains side by side (timing: two short carry chains instead of one long one), combined a
//! register later. A chain's first step takes the identities, 0 and 0.
//!
//! Max values are int8 biased to nine bits (x + 256, i.e. the low nine bits of x with bit 8
//! flipped): unsigned order equals signed order and 0 is below every int8, so the max of no
//! element is 0. The sum is 16-bit two's complement. Elements are masked separately for the max
//! (`max_en`) and the sum (`sum_en`): a padding element counts for neither, and an empty column
//! counts as 0 in a window's sum but never wins its max.
//!
//! A step is a block, not an expression, because rust-hdl resolves only the first index of a name
//! (`a[i].b[j]` keeps `[j]`): chains are vectors of steps indexed once.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `acc_max`, `acc_sum` | in | 9, 16 | the running max and sum before this element |
//! | `max_in`, `max_en` | in | 9, 1 | the element's biased value, and whether it counts for the max |
//! | `sum_in`, `sum_en` | in | 16, 1 | the element's value, and whether it counts for the sum |
//! | `max`, `sum` | out | 9, 16 | the running max and sum after it (combinational) |

use rust_hdl::prelude::*;

/// One step of a max-and-sum chain.
#[derive(LogicBlock, Default)]
pub struct ReduceStep {
    /// Running max before this element.
    pub acc_max: Signal<In, Bits<9>>,
    /// Running sum before this element.
    pub acc_sum: Signal<In, Bits<16>>,
    /// Biased max operand.
    pub max_in: Signal<In, Bits<9>>,
    /// It counts for the max.
    pub max_en: Signal<In, Bit>,
    /// Sum operand.
    pub sum_in: Signal<In, Bits<16>>,
    /// It counts for the sum.
    pub sum_en: Signal<In, Bit>,
    /// Running max after this element.
    pub max: Signal<Out, Bits<9>>,
    /// Running sum after this element.
    pub sum: Signal<Out, Bits<16>>,
}

impl Logic for ReduceStep {
    #[hdl_gen]
    fn update(&mut self) {
        if self.max_en.val() & (self.max_in.val() > self.acc_max.val()) {
            self.max.next = self.max_in.val();
        } else {
            self.max.next = self.acc_max.val();
        }
        if self.sum_en.val() {
            self.sum.next = self.acc_sum.val() + self.sum_in.val();
        } else {
            self.sum.next = self.acc_sum.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random operands and masks: the step is max and wrapping add of the counted operand.
    #[test]
    fn step_is_the_masked_max_and_wrapping_add() {
        let mut rng = Rng::from_env("reduce-step", 5);
        let mut s = ReduceStep::default();
        s.connect_all();
        check_all(&s).unwrap();
        for _ in 0..2000 {
            let (am, m, as_, v) = (rng.below(512), rng.below(512), rng.below(1 << 16), rng.below(1 << 16));
            let (me, se) = (rng.below(2) == 1, rng.below(2) == 1);
            s.acc_max.next = am.into();
            s.max_in.next = m.into();
            s.acc_sum.next = as_.into();
            s.sum_in.next = v.into();
            s.max_en.next = me;
            s.sum_en.next = se;
            assert!(simulate(&mut s, 10), "settles");
            let want_max = if me { am.max(m) } else { am };
            let want_sum = if se { (as_ + v) & 0xFFFF } else { as_ };
            assert_eq!((s.max.val(), s.sum.val()), (bits::<9>(want_max), bits::<16>(want_sum)));
        }
    }
}
