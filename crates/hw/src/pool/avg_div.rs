//! # AvgDiv: exact rounded division of a window sum, pipelined (two quotient bits per stage)
//!
//! `avg = floor((2·sum + count) / (2·count))` (docs/arithmetic.md), for `count = kh·kw ≤ 256` and
//! `|sum| ≤ 128·count`. The quotient lies in [−128, 127], so with `M = 2·sum + count + 256·count`
//! (never negative, below 2^17) it is `floor(M / (2·count)) − 128`, an 8-bit quotient that a
//! restoring divider computes exactly. No multiplier, no approximation.
//!
//! Each restoring step is one 19-bit subtraction whose borrow decides the quotient bit (a single
//! carry chain, no separate comparator). The steps are spread over [`AVG_DIV_STAGES`] registered
//! stages that advance on `ce`: stage 1 forms `M` and quotient bit 7, stages 2 to 4 two bits each,
//! and bit 0 with the final offset is combinational on `avg`, meant to feed the user's output
//! register. So `avg` shows the result of the `sum` presented [`AVG_DIV_STAGES`] enabled edges
//! earlier. `2·count` and `257·count` are registered every cycle (`count` is a per-run constant).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce` | in | 1 | clock and the stage enable |
//! | `sum` | in | 16 | window sum (two's complement) |
//! | `count` | in | 16 | kh·kw, held while the unit runs |
//! | `avg` | out | 8 | the rounded average (two's complement), `AVG_DIV_STAGES` enables later |

use rust_hdl::prelude::*;

/// Registered stages between `sum` and `avg`.
pub const AVG_DIV_STAGES: usize = 4;

/// The divider.
#[derive(LogicBlock, Default)]
pub struct AvgDiv {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Stage enable.
    pub ce: Signal<In, Bit>,
    /// Window sum.
    pub sum: Signal<In, Bits<16>>,
    /// Window size kh·kw.
    pub count: Signal<In, Bits<16>>,
    /// Rounded average.
    pub avg: Signal<Out, Bits<8>>,
    /// Divisor 2·count.
    dd: DFF<Bits<18>>,
    /// Dividend offset 257·count.
    kk: DFF<Bits<18>>,
    /// Remainder and partial quotient after stages 1 to 4.
    r1: DFF<Bits<18>>,
    q1: DFF<Bits<8>>,
    r2: DFF<Bits<18>>,
    q2: DFF<Bits<8>>,
    r3: DFF<Bits<18>>,
    q3: DFF<Bits<8>>,
    r4: DFF<Bits<18>>,
    q4: DFF<Bits<8>>,
    /// Sum sign-extended to 18 bits.
    s18: Signal<Local, Bits<18>>,
    /// Dividend M.
    m18: Signal<Local, Bits<18>>,
    /// Quotient bit 0: the partial quotient after it.
    p0: Signal<Local, Bits<8>>,
    /// Quotient bit 1: trial difference, remainder and partial quotient after it.
    t1: Signal<Local, Bits<19>>,
    a1: Signal<Local, Bits<18>>,
    p1: Signal<Local, Bits<8>>,
    /// Quotient bit 2: trial difference, remainder and partial quotient after it.
    t2: Signal<Local, Bits<19>>,
    a2: Signal<Local, Bits<18>>,
    p2: Signal<Local, Bits<8>>,
    /// Quotient bit 3: trial difference, remainder and partial quotient after it.
    t3: Signal<Local, Bits<19>>,
    a3: Signal<Local, Bits<18>>,
    p3: Signal<Local, Bits<8>>,
    /// Quotient bit 4: trial difference, remainder and partial quotient after it.
    t4: Signal<Local, Bits<19>>,
    a4: Signal<Local, Bits<18>>,
    p4: Signal<Local, Bits<8>>,
    /// Quotient bit 5: trial difference, remainder and partial quotient after it.
    t5: Signal<Local, Bits<19>>,
    a5: Signal<Local, Bits<18>>,
    p5: Signal<Local, Bits<8>>,
    /// Quotient bit 6: trial difference, remainder and partial quotient after it.
    t6: Signal<Local, Bits<19>>,
    a6: Signal<Local, Bits<18>>,
    p6: Signal<Local, Bits<8>>,
    /// Quotient bit 7: trial difference, remainder and partial quotient after it.
    t7: Signal<Local, Bits<19>>,
    a7: Signal<Local, Bits<18>>,
    p7: Signal<Local, Bits<8>>,
}

impl Logic for AvgDiv {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, dd, kk, r1, q1, r2, q2, r3, q3, r4, q4);
        self.dd.d.next = bit_cast::<18, 16>(self.count.val()) << 1;
        self.kk.d.next = bit_cast::<18, 16>(self.count.val()) + (bit_cast::<18, 16>(self.count.val()) << 8);
        if self.sum.val().get_bit(15) {
            self.s18.next = bit_cast::<18, 16>(self.sum.val()) | bits::<18>(0x30000);
        } else {
            self.s18.next = bit_cast::<18, 16>(self.sum.val());
        }
        self.m18.next = (self.s18.val() << 1) + self.kk.q.val();
        // Quotient bit 7.
        self.t7.next = bit_cast::<19, 18>(self.m18.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 7);
        if self.t7.val().get_bit(18) {
            self.a7.next = self.m18.val();
            self.p7.next = bits::<8>(0);
        } else {
            self.a7.next = self.t7.val().get_bits::<18>(0);
            self.p7.next = bits::<8>(0) | bits::<8>(128);
        }
        // Quotient bit 6.
        self.t6.next = bit_cast::<19, 18>(self.r1.q.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 6);
        if self.t6.val().get_bit(18) {
            self.a6.next = self.r1.q.val();
            self.p6.next = self.q1.q.val();
        } else {
            self.a6.next = self.t6.val().get_bits::<18>(0);
            self.p6.next = self.q1.q.val() | bits::<8>(64);
        }
        // Quotient bit 5.
        self.t5.next = bit_cast::<19, 18>(self.a6.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 5);
        if self.t5.val().get_bit(18) {
            self.a5.next = self.a6.val();
            self.p5.next = self.p6.val();
        } else {
            self.a5.next = self.t5.val().get_bits::<18>(0);
            self.p5.next = self.p6.val() | bits::<8>(32);
        }
        // Quotient bit 4.
        self.t4.next = bit_cast::<19, 18>(self.r2.q.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 4);
        if self.t4.val().get_bit(18) {
            self.a4.next = self.r2.q.val();
            self.p4.next = self.q2.q.val();
        } else {
            self.a4.next = self.t4.val().get_bits::<18>(0);
            self.p4.next = self.q2.q.val() | bits::<8>(16);
        }
        // Quotient bit 3.
        self.t3.next = bit_cast::<19, 18>(self.a4.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 3);
        if self.t3.val().get_bit(18) {
            self.a3.next = self.a4.val();
            self.p3.next = self.p4.val();
        } else {
            self.a3.next = self.t3.val().get_bits::<18>(0);
            self.p3.next = self.p4.val() | bits::<8>(8);
        }
        // Quotient bit 2.
        self.t2.next = bit_cast::<19, 18>(self.r3.q.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 2);
        if self.t2.val().get_bit(18) {
            self.a2.next = self.r3.q.val();
            self.p2.next = self.q3.q.val();
        } else {
            self.a2.next = self.t2.val().get_bits::<18>(0);
            self.p2.next = self.q3.q.val() | bits::<8>(4);
        }
        // Quotient bit 1.
        self.t1.next = bit_cast::<19, 18>(self.a2.val()) - (bit_cast::<19, 18>(self.dd.q.val()) << 1);
        if self.t1.val().get_bit(18) {
            self.a1.next = self.a2.val();
            self.p1.next = self.p2.val();
        } else {
            self.a1.next = self.t1.val().get_bits::<18>(0);
            self.p1.next = self.p2.val() | bits::<8>(2);
        }
        // Quotient bit 0 (the last remainder is not needed: a comparison).
        if self.r4.q.val() >= self.dd.q.val() {
            self.p0.next = self.q4.q.val() | bits::<8>(1);
        } else {
            self.p0.next = self.q4.q.val();
        }
        if self.ce.val() {
            self.r1.d.next = self.a7.val();
            self.q1.d.next = self.p7.val();
            self.r2.d.next = self.a5.val();
            self.q2.d.next = self.p5.val();
            self.r3.d.next = self.a3.val();
            self.q3.d.next = self.p3.val();
            self.r4.d.next = self.a1.val();
            self.q4.d.next = self.p1.val();
        }
        // Quotient minus 128: flip the top bit.
        self.avg.next = self.p0.val() ^ 0x80;
    }
}

crate::clocked!(AvgDiv);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;

    /// The golden rule, written independently of the divider.
    fn golden(sum: i64, count: i64) -> i64 {
        (2 * sum + count).div_euclid(2 * count)
    }

    /// Every count, extreme and spread sums, one new sum per cycle through the pipeline (and a
    /// cycle without `ce` in between, which must hold every stage).
    #[test]
    fn avg_div_is_exact_for_every_count_and_extreme_sums() {
        let mut h = Harness::new(AvgDiv::default()).unwrap();
        for count in 1..=256i64 {
            let mut sums = vec![-128 * count, -128 * count + 1, -count / 2 - 1, -count / 2, -1, 0, 1];
            sums.extend([count / 2, 127 * count - 1, 127 * count]);
            sums.extend((0..40).map(|i| (i * 7919 % (255 * count + 1)) - 128 * count));
            h.uut.count.next = (count as u64).into();
            h.uut.ce.next = false;
            h.step().unwrap();
            let mut fed: Vec<i64> = vec![];
            for (i, &sum) in sums.iter().chain([0; AVG_DIV_STAGES - 1].iter()).enumerate() {
                if i % 5 == 3 {
                    // A disabled cycle: nothing moves, whatever the input.
                    h.uut.ce.next = false;
                    h.uut.sum.next = 0x5555u64.into();
                    h.step().unwrap();
                }
                h.uut.ce.next = true;
                h.uut.sum.next = ((sum as u64) & 0xFFFF).into();
                h.step().unwrap();
                fed.push(sum);
                if fed.len() >= AVG_DIV_STAGES {
                    // Captured AVG_DIV_STAGES edges ago, counting its own capture edge.
                    let s = fed[fed.len() - AVG_DIV_STAGES];
                    h.settle().unwrap();
                    let got = h.uut.avg.val().index() as u8 as i8 as i64;
                    assert_eq!(got, golden(s, count), "sum {s} count {count}");
                }
            }
        }
    }
}
