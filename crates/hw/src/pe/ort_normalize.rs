//! # OrtNormalize: float32 of |acc|, the first three stages of [`OrtRequant`](crate::pe::OrtRequant)
//!
//! `|acc|` as float32, `am · 2^(n − 24)` with the significand `am ∈ [2^23, 2^24]` rounded to
//! nearest even (a carry gives 2^24), and the exponent of the product with the scale
//! `S · 2^s_exp` that follows: `e = n − 24 + s_exp`. The scale's significand travels alongside.
//! - r1: the sign, `|acc|`, and the leading zeros `lz` of the one's complement magnitude (`acc`
//!   or `!acc`: no carry chain before the count; one too many when `|acc|` is a power of two,
//!   which r2 corrects);
//! - r2: `|acc|` shifted left by `lz`, so that its leading one is bit 31 (a carry into bit 32:
//!   the power of two, one more significant bit);
//! - r3: rounded to nearest even on the 8 bits below the significand; the exponent.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `acc` | in | 32 | accumulator (two's complement) |
//! | `s_sig`, `s_exp` | in | 24, 8 | the scale's significand and exponent (two's complement) |
//! | `am`, `e` | out | 25, 8 | significand and exponent, three cycles after `acc` (registers) |
//! | `sig` | out | 24 | `s_sig`, three cycles later |
//! | `neg`, `zero` | out | 1, 1 | `acc` was negative, zero |

use rust_hdl::prelude::*;

/// Registers between `acc` and the outputs.
pub const ORT_NORMALIZE_REGS: usize = 3;

/// float32 of the accumulator's magnitude.
#[derive(LogicBlock, Default)]
pub struct OrtNormalize {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// Scale significand.
    pub s_sig: Signal<In, Bits<24>>,
    /// Scale exponent.
    pub s_exp: Signal<In, Bits<8>>,
    /// Significand of |acc|.
    pub am: Signal<Out, Bits<25>>,
    /// Exponent of `am · S`.
    pub e: Signal<Out, Bits<8>>,
    /// The scale significand, delayed.
    pub sig: Signal<Out, Bits<24>>,
    /// Negative accumulator.
    pub neg: Signal<Out, Bit>,
    /// Zero accumulator.
    pub zero: Signal<Out, Bit>,
    /// r1: sign, zero, |acc|, leading zeros, scale.
    r1_neg: DFF<Bit>,
    r1_zero: DFF<Bit>,
    r1_abs: DFF<Bits<32>>,
    r1_lz: DFF<Bits<8>>,
    r1_sig: DFF<Bits<24>>,
    r1_exp: DFF<Bits<8>>,
    /// r2: |acc| with its leading one at bit 31, the leading zeros and the power-of-two carry
    /// (significant bits: 32 − lz + carry), and what r1 carried.
    r2_neg: DFF<Bit>,
    r2_zero: DFF<Bit>,
    r2_norm: DFF<Bits<32>>,
    r2_lz: DFF<Bits<8>>,
    r2_pow2: DFF<Bit>,
    r2_sig: DFF<Bits<24>>,
    r2_exp: DFF<Bits<8>>,
    /// r3: significand, exponent, and what r2 carried.
    r3_neg: DFF<Bit>,
    r3_zero: DFF<Bit>,
    r3_am: DFF<Bits<25>>,
    r3_e: DFF<Bits<8>>,
    r3_sig: DFF<Bits<24>>,
    /// The one's complement magnitude (`acc`, or `!acc` when negative).
    ones: Signal<Local, Bits<32>>,
    /// |acc| shifted left by lz, in 33 bits.
    sh33: Signal<Local, Bits<33>>,
    /// Leading zeros of the one's complement magnitude: each byte's count and "all zero" beside
    /// each other (timing: the halving steps one after the other were the ECP5's critical
    /// path), then the upper half's and the upper quarter's tests pick a byte's count.
    lz_b0: Lz8,
    lz_b1: Lz8,
    lz_b2: Lz8,
    lz_b3: Lz8,
    z16: Signal<Local, Bit>,
    z8: Signal<Local, Bit>,
    low3: Signal<Local, Bits<3>>,
    n: Signal<Local, Bits<8>>,
}

impl Logic for OrtNormalize {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r1_neg, r1_zero, r1_abs, r1_lz, r1_sig, r1_exp, r2_neg, r2_zero, r2_norm, r2_lz, r2_pow2, r2_sig, r2_exp,
            r3_neg, r3_zero, r3_am, r3_e, r3_sig
        );
        // ---- r1: sign and magnitude (|−2^31| = 2^31 fits 32 unsigned bits); beside the
        // negation, the leading zeros of the one's complement magnitude, found by halving: each
        // step keeps the upper half when it is not zero, else counts its zeros.
        self.r1_neg.d.next = self.acc.val().get_bit(31);
        self.r1_zero.d.next = !self.acc.val().any();
        if self.acc.val().get_bit(31) {
            self.r1_abs.d.next = bits::<32>(0) - self.acc.val();
            self.ones.next = !self.acc.val();
        } else {
            self.r1_abs.d.next = self.acc.val();
            self.ones.next = self.acc.val();
        }
        // The count: 16 when the upper half is zero, 8 more when the upper byte of what is left
        // is, then that byte's own count; all 32 bits zero: 32.
        self.lz_b0.x.next = self.ones.val().get_bits::<8>(0);
        self.lz_b1.x.next = self.ones.val().get_bits::<8>(8);
        self.lz_b2.x.next = self.ones.val().get_bits::<8>(16);
        self.lz_b3.x.next = self.ones.val().get_bits::<8>(24);
        self.z16.next = self.lz_b3.zero.val() & self.lz_b2.zero.val();
        if self.z16.val() {
            self.z8.next = self.lz_b1.zero.val();
            if self.lz_b1.zero.val() {
                self.low3.next = self.lz_b0.n.val();
            } else {
                self.low3.next = self.lz_b1.n.val();
            }
        } else {
            self.z8.next = self.lz_b3.zero.val();
            if self.lz_b3.zero.val() {
                self.low3.next = self.lz_b2.n.val();
            } else {
                self.low3.next = self.lz_b3.n.val();
            }
        }
        self.n.next = bit_cast::<8, 3>(self.low3.val())
            | (bit_cast::<8, 1>(self.z8.val().into()) << 3)
            | (bit_cast::<8, 1>(self.z16.val().into()) << 4);
        if self.z16.val() & self.lz_b1.zero.val() & self.lz_b0.zero.val() {
            self.n.next = bits::<8>(32);
        }
        self.r1_lz.d.next = self.n.val();
        self.r1_sig.d.next = self.s_sig.val();
        self.r1_exp.d.next = self.s_exp.val();

        // ---- r2: |acc| · 2^lz: its leading one at bit 31, or at bit 32 when |acc| is a power of
        // two (the one's complement had one leading zero more), which is then 2^31 exactly.
        self.sh33.next = bit_cast::<33, 32>(self.r1_abs.q.val()) << self.r1_lz.q.val();
        self.r2_pow2.d.next = self.sh33.val().get_bit(32);
        if self.sh33.val().get_bit(32) {
            self.r2_norm.d.next = bits::<32>(1) << 31;
        } else {
            self.r2_norm.d.next = self.sh33.val().get_bits::<32>(0);
        }
        self.r2_lz.d.next = self.r1_lz.q.val();
        self.r2_neg.d.next = self.r1_neg.q.val();
        self.r2_zero.d.next = self.r1_zero.q.val();
        self.r2_sig.d.next = self.r1_sig.q.val();
        self.r2_exp.d.next = self.r1_exp.q.val();

        // ---- r3: float32 of |acc| as am · 2^(n − 24), am ∈ [2^23, 2^24]: round to nearest even
        // on the 8 bits below the significand (a carry gives 2^24).
        if (self.r2_norm.q.val().get_bits::<8>(0) > bits::<8>(0x80))
            | ((self.r2_norm.q.val().get_bits::<8>(0) == bits::<8>(0x80)) & self.r2_norm.q.val().get_bit(8))
        {
            self.r3_am.d.next = bit_cast::<25, 24>(self.r2_norm.q.val().get_bits::<24>(8)) + bits::<25>(1);
        } else {
            self.r3_am.d.next = bit_cast::<25, 24>(self.r2_norm.q.val().get_bits::<24>(8));
        }
        // n − 24 + e with n = 32 − lz + carry.
        self.r3_e.d.next = bits::<8>(8) - self.r2_lz.q.val() + bit_cast::<8, 1>(self.r2_pow2.q.val().into()) + self.r2_exp.q.val();
        self.r3_neg.d.next = self.r2_neg.q.val();
        self.r3_zero.d.next = self.r2_zero.q.val();
        self.r3_sig.d.next = self.r2_sig.q.val();
        self.am.next = self.r3_am.q.val();
        self.e.next = self.r3_e.q.val();
        self.sig.next = self.r3_sig.q.val();
        self.neg.next = self.r3_neg.q.val();
        self.zero.next = self.r3_zero.q.val();
    }
}

crate::clocked!(OrtNormalize);

/// Leading zeros of a byte (combinational): `n` (0 to 7; 7 when the byte is zero) and `zero`.
#[derive(LogicBlock, Default)]
pub struct Lz8 {
    /// The byte.
    pub x: Signal<In, Bits<8>>,
    /// Its leading zeros below 8.
    pub n: Signal<Out, Bits<3>>,
    /// It is zero.
    pub zero: Signal<Out, Bit>,
    /// The halving steps: whether the upper half was zero, the upper pair of the half left,
    /// whether it is zero, the upper bit of the pair left, and the count's last bit (its
    /// complement; a bit of its own: a `~` inside a wider expression is taken at the
    /// expression's width in Verilog).
    p2: Signal<Local, Bits<2>>,
    z4: Signal<Local, Bit>,
    z2: Signal<Local, Bit>,
    h1: Signal<Local, Bit>,
    n0: Signal<Local, Bit>,
}

impl Logic for Lz8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.zero.next = !self.x.val().any();
        self.z4.next = !self.x.val().get_bits::<4>(4).any();
        self.p2.next = self.x.val().get_bits::<2>(6);
        if self.z4.val() {
            self.p2.next = self.x.val().get_bits::<2>(2);
        }
        self.z2.next = !self.p2.val().any();
        self.h1.next = self.p2.val().get_bit(1);
        if self.z2.val() {
            self.h1.next = self.x.val().get_bit(5);
            if self.z4.val() {
                self.h1.next = self.x.val().get_bit(1);
            }
        }
        self.n0.next = !self.h1.val();
        self.n.next = bit_cast::<3, 1>(self.n0.val().into())
            | (bit_cast::<3, 1>(self.z2.val().into()) << 1)
            | (bit_cast::<3, 1>(self.z4.val().into()) << 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Against Rust's own float32 conversion (`u32 as f32`, round half to even): every bit
    /// length's boundaries and random values, one per cycle, random exponents.
    #[test]
    fn significand_and_exponent_are_float32_of_the_magnitude() {
        let mut rng = Rng::from_env("ort-normalize", 5);
        let mut accs = vec![0i32, 1, -1, i32::MAX, i32::MIN, i32::MIN + 1, 0x01FF_FFFF, 0x0100_0080, 0x0100_0180, -0x0100_0081];
        for b in 0..31 {
            for d in [-1i64, 0, 1] {
                let v = (1i64 << b) + d;
                if v > 0 && v <= i32::MAX as i64 {
                    accs.extend([v as i32, -(v as i32)]);
                }
            }
        }
        accs.extend((0..2000).map(|_| rng.next() as i32 >> rng.below(31)));
        let exps: Vec<i32> = accs.iter().map(|_| rng.range(-100, -1) as i32).collect();
        let mut h = Harness::new(OrtNormalize::default()).unwrap();
        for t in 0..accs.len() + ORT_NORMALIZE_REGS - 1 {
            if let Some(&a) = accs.get(t) {
                h.uut.acc.next = (a as u32 as u64).into();
                h.uut.s_exp.next = (exps[t] as u8 as u64).into();
                h.uut.s_sig.next = ((0x80_0000 | t as u64) & 0xFF_FFFF).into();
            }
            h.step().unwrap();
            let Some(i) = (t + 1).checked_sub(ORT_NORMALIZE_REGS) else { continue };
            let (a, u) = (accs[i], &h.uut);
            assert_eq!((u.neg.val(), u.zero.val()), (a < 0, a == 0), "acc {a}");
            assert_eq!(u.sig.val().index() as u64, (0x80_0000 | i as u64) & 0xFF_FFFF, "the scale travels with acc {a}");
            if a == 0 {
                continue;
            }
            let (am, e) = (u.am.val().index() as u64, u.e.val().index() as u8 as i8 as i32);
            assert!((1 << 23..=1 << 24).contains(&am), "acc {a}: significand {am:#x}");
            let want = a.unsigned_abs() as f32 as f64;
            assert_eq!(am as f64 * 2f64.powi(e - exps[i]), want, "acc {a}: {am:#x} · 2^{}", e - exps[i]);
        }
    }
}
