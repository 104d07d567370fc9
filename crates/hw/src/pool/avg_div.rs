//! # AvgDiv: exact rounded division of a window sum (combinational)
//!
//! `avg = floor((2·sum + count) / (2·count))` (docs/arithmetic.md), for `count = kh·kw ≤ 256` and
//! `|sum| ≤ 128·count`. The quotient lies in [−128, 127], so with `M = 2·sum + count + 256·count`
//! (never negative, below 2^17) it is `floor(M / (2·count)) − 128`, an 8-bit quotient that an
//! 8-stage restoring divider computes exactly. No multiplier, no approximation.
//!
//! The eight stages are two halves with ports between them, so a user can register the
//! remainder and partial quotient after the upper four quotient bits (the pooling unit does: one
//! long combinational path became two). Connecting `hi_rem`/`hi_quot` to `lo_rem`/`lo_quot`
//! directly gives the single-cycle divider.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `sum` | in | 16 | window sum (two's complement) |
//! | `count` | in | 16 | kh·kw (held for both halves) |
//! | `hi_rem`, `hi_quot` | out | 18, 8 | remainder and quotient bits 7..4 after the upper half |
//! | `lo_rem`, `lo_quot` | in | 18, 8 | the same, into the lower half |
//! | `avg` | out | 8 | the rounded average (two's complement) |

use rust_hdl::prelude::*;

/// The divider.
#[derive(LogicBlock, Default)]
pub struct AvgDiv {
    /// Window sum.
    pub sum: Signal<In, Bits<16>>,
    /// Window size kh·kw.
    pub count: Signal<In, Bits<16>>,
    /// Remainder after the upper half.
    pub hi_rem: Signal<Out, Bits<18>>,
    /// Quotient bits 7..4 after the upper half.
    pub hi_quot: Signal<Out, Bits<8>>,
    /// Remainder into the lower half.
    pub lo_rem: Signal<In, Bits<18>>,
    /// Quotient bits into the lower half.
    pub lo_quot: Signal<In, Bits<8>>,
    /// Rounded average.
    pub avg: Signal<Out, Bits<8>>,
    /// Dividend M in 18 bits.
    m18: Signal<Local, Bits<18>>,
    /// Divisor 2·count in 18 bits.
    d18: Signal<Local, Bits<18>>,
    /// Sum sign-extended to 18 bits.
    s18: Signal<Local, Bits<18>>,
    /// Remainder and partial quotient after quotient bit 7.
    r7: Signal<Local, Bits<18>>,
    p7: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 6.
    r6: Signal<Local, Bits<18>>,
    p6: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 5.
    r5: Signal<Local, Bits<18>>,
    p5: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 4.
    r4: Signal<Local, Bits<18>>,
    p4: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 3.
    r3: Signal<Local, Bits<18>>,
    p3: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 2.
    r2: Signal<Local, Bits<18>>,
    p2: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 1.
    r1: Signal<Local, Bits<18>>,
    p1: Signal<Local, Bits<8>>,
    /// Remainder and partial quotient after quotient bit 0.
    r0: Signal<Local, Bits<18>>,
    p0: Signal<Local, Bits<8>>,
}

impl Logic for AvgDiv {
    #[hdl_gen]
    fn update(&mut self) {
        if self.sum.val().get_bit(15) {
            self.s18.next = bit_cast::<18, 16>(self.sum.val()) | bits::<18>(0x30000);
        } else {
            self.s18.next = bit_cast::<18, 16>(self.sum.val());
        }
        self.d18.next = bit_cast::<18, 16>(self.count.val()) << 1;
        self.m18.next = (self.s18.val() << 1)
            + bit_cast::<18, 16>(self.count.val())
            + (bit_cast::<18, 16>(self.count.val()) << 8);
        if self.m18.val() >= (self.d18.val() << 7) {
            self.r7.next = self.m18.val() - (self.d18.val() << 7);
            self.p7.next = bits::<8>(0) | bits::<8>(128);
        } else {
            self.r7.next = self.m18.val();
            self.p7.next = bits::<8>(0);
        }
        if self.r7.val() >= (self.d18.val() << 6) {
            self.r6.next = self.r7.val() - (self.d18.val() << 6);
            self.p6.next = self.p7.val() | bits::<8>(64);
        } else {
            self.r6.next = self.r7.val();
            self.p6.next = self.p7.val();
        }
        if self.r6.val() >= (self.d18.val() << 5) {
            self.r5.next = self.r6.val() - (self.d18.val() << 5);
            self.p5.next = self.p6.val() | bits::<8>(32);
        } else {
            self.r5.next = self.r6.val();
            self.p5.next = self.p6.val();
        }
        if self.r5.val() >= (self.d18.val() << 4) {
            self.r4.next = self.r5.val() - (self.d18.val() << 4);
            self.p4.next = self.p5.val() | bits::<8>(16);
        } else {
            self.r4.next = self.r5.val();
            self.p4.next = self.p5.val();
        }
        // Upper half out, lower half in.
        self.hi_rem.next = self.r4.val();
        self.hi_quot.next = self.p4.val();
        if self.lo_rem.val() >= (self.d18.val() << 3) {
            self.r3.next = self.lo_rem.val() - (self.d18.val() << 3);
            self.p3.next = self.lo_quot.val() | bits::<8>(8);
        } else {
            self.r3.next = self.lo_rem.val();
            self.p3.next = self.lo_quot.val();
        }
        if self.r3.val() >= (self.d18.val() << 2) {
            self.r2.next = self.r3.val() - (self.d18.val() << 2);
            self.p2.next = self.p3.val() | bits::<8>(4);
        } else {
            self.r2.next = self.r3.val();
            self.p2.next = self.p3.val();
        }
        if self.r2.val() >= (self.d18.val() << 1) {
            self.r1.next = self.r2.val() - (self.d18.val() << 1);
            self.p1.next = self.p2.val() | bits::<8>(2);
        } else {
            self.r1.next = self.r2.val();
            self.p1.next = self.p2.val();
        }
        if self.r1.val() >= (self.d18.val() << 0) {
            self.r0.next = self.r1.val() - (self.d18.val() << 0);
            self.p0.next = self.p1.val() | bits::<8>(1);
        } else {
            self.r0.next = self.r1.val();
            self.p0.next = self.p1.val();
        }
        // Quotient minus 128: flip the top bit.
        self.avg.next = self.p0.val() ^ 0x80;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden rule, written independently of the divider.
    fn golden(sum: i64, count: i64) -> i64 {
        (2 * sum + count).div_euclid(2 * count)
    }

    #[test]
    fn avg_div_is_exact_for_every_count_and_extreme_sums() {
        let mut d = AvgDiv::default();
        d.connect_all();
        for count in 1..=256i64 {
            let sums = [-128 * count, -128 * count + 1, -count / 2 - 1, -count / 2, -1, 0, 1, count / 2, 127 * count - 1, 127 * count];
            for &sum in sums.iter().chain((0..40).map(|i| (i * 7919 % (255 * count + 1)) - 128 * count).collect::<Vec<_>>().iter()) {
                d.sum.next = ((sum as u64) & 0xFFFF).into();
                d.count.next = (count as u64).into();
                assert!(simulate(&mut d, 100));
                // The halves joined, as a register between them would after a cycle.
                d.lo_rem.next = d.hi_rem.val();
                d.lo_quot.next = d.hi_quot.val();
                assert!(simulate(&mut d, 100));
                let got = d.avg.val().index() as u8 as i8 as i64;
                assert_eq!(got, golden(sum, count), "sum {sum} count {count}");
            }
        }
    }
}
