//! # OrtRequant: ONNX Runtime's requantization in integers
//!
//! `y = clamp(round_half_even(f32(acc) · scale) + zp, −128, 127)`, then `max(y, zp)` with `relu`,
//! as ONNX Runtime computes it in float32 (docs/onnx.md), here in integers
//! ([`accelgen_golden::ort::ort_requantize_int`]): the scale is a 24-bit significand `S` and an
//! exponent `e` (`scale = S · 2^e`), and
//! 1. `|acc|` is normalized to a 24-bit significand (float32 of the accumulator: rounded to
//!    nearest even when it has more than 24 significant bits);
//! 2. its product with `S`, 48 bits, is rounded to 24 significant bits (the float32 multiply);
//! 3. that is shifted right to an integer, rounding half to even; sign, zero point, clamp, ReLU.
//!
//! Pipeline: nine registers, then the output stage is combinational, so that the parent
//! ([`Requant`](crate::pe::Requant)) registers `y` (ten stages, where the fixed-point pipeline
//! has five; the engine's drain waits five cycles more in this mode). Each stage does one of the
//! steps (the ECP5 at 100 MHz: with all of them in five stages the tiny conv engine placed at
//! 55 MHz):
//! - r1: the sign, `|acc|`, and the leading zeros `lz` of the one's complement magnitude
//!   (`acc` or `!acc`: no carry chain before the count; one too many when `|acc|` is a power of
//!   two, which r2 corrects);
//! - r2: `|acc|` shifted left by `lz`, so that its leading one is bit 31 (a carry into bit 32:
//!   the power of two, one more significant bit);
//! - r3: rounded to nearest even to the significand `am ∈ [2^23, 2^24]` (float32 of `|acc|`), the
//!   exponent `n − 24 + e`;
//! - r4: four 16 × 16 partial products of `am · S` ([`RegMul`]: DSP blocks with their output
//!   registers);
//! - r5: the two middle partial products added; r6: the 48-bit product;
//! - r7: the product rounded to 24 significant bits `pm` (float32 multiply) and the right shift
//!   `d` that makes it an integer, with `d ≤ 15` (at least 256: saturates) and `d ≥ 26` (below a
//!   half: zero) decided;
//! - r8: `pm` shifted by `d ∈ [16, 25]` with round half to even: the magnitude;
//! - r9: the sign and the zero point;
//! - output: clamp and ReLU.
//! The scale travels with the value (a per-channel scale can arrive with it).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `acc` | in | 32 | accumulator (two's complement) |
//! | `s_sig`, `s_exp` | in | 24, 8 | scale significand (bit 23 set) and exponent (two's complement, −128..−1) |
//! | `zp`, `relu` | in | 8, 1 | zero point, clamp below at it (parameters: stable while values flow) |
//! | `y` | out | 8 | the int8 result of the value that entered nine cycles before the last edge |

use crate::pe::mul::RegMul;
use rust_hdl::prelude::*;

/// Registers between `acc` and `y` (the output stage is combinational).
pub const ORT_REQUANT_REGS: usize = 9;

/// ONNX Runtime's requantizer.
#[derive(LogicBlock)]
pub struct OrtRequant {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// Scale significand, bit 23 set.
    pub s_sig: Signal<In, Bits<24>>,
    /// Scale exponent, two's complement.
    pub s_exp: Signal<In, Bits<8>>,
    /// Zero point (int8).
    pub zp: Signal<In, Bits<8>>,
    /// Clamp below at the zero point.
    pub relu: Signal<In, Bit>,
    /// Result (int8).
    pub y: Signal<Out, Bits<8>>,
    /// r1: sign, zero, |acc|, the one's complement magnitude's significant bits, scale.
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
    /// r3: significand, exponent n − 24 + e, and what r2 carried.
    r3_neg: DFF<Bit>,
    r3_zero: DFF<Bit>,
    r3_am: DFF<Bits<25>>,
    r3_e: DFF<Bits<8>>,
    r3_sig: DFF<Bits<24>>,
    /// r4: partial products (in the multipliers) and what r3 carried.
    m_ll: RegMul<16, 16, 32>,
    m_lh: RegMul<16, 16, 32>,
    m_hl: RegMul<16, 16, 32>,
    m_hh: RegMul<16, 16, 32>,
    r4_neg: DFF<Bit>,
    r4_zero: DFF<Bit>,
    r4_e: DFF<Bits<8>>,
    /// r5: the middle products' sum, the outer products.
    r5_mid: DFF<Bits<33>>,
    r5_hh: DFF<Bits<32>>,
    r5_ll: DFF<Bits<32>>,
    r5_neg: DFF<Bit>,
    r5_zero: DFF<Bit>,
    r5_e: DFF<Bits<8>>,
    /// r6: the 48-bit product.
    r6_prod: DFF<Bits<48>>,
    r6_neg: DFF<Bit>,
    r6_zero: DFF<Bit>,
    r6_e: DFF<Bits<8>>,
    /// r7: rounded product, shift, saturate, zero.
    r7_neg: DFF<Bit>,
    r7_zero: DFF<Bit>,
    r7_sat: DFF<Bit>,
    r7_pm: DFF<Bits<25>>,
    r7_d: DFF<Bits<8>>,
    /// r8: the integer magnitude, and what r7 carried.
    r8_mag: DFF<Bits<11>>,
    r8_neg: DFF<Bit>,
    r8_zero: DFF<Bit>,
    r8_sat: DFF<Bit>,
    /// r9: the zero point added (11 bits), and what r8 carried.
    r9_sum: DFF<Bits<11>>,
    r9_neg: DFF<Bit>,
    r9_zero: DFF<Bit>,
    r9_sat: DFF<Bit>,
    /// The one's complement magnitude (`acc`, or `!acc` when negative).
    ones: Signal<Local, Bits<32>>,
    /// |acc| shifted left by 32 − n1, in 33 bits.
    sh33: Signal<Local, Bits<33>>,
    /// Leading zeros of the one's complement magnitude, found by halving: what is left and the
    /// count so far.
    x16: Signal<Local, Bits<16>>,
    n16: Signal<Local, Bits<8>>,
    x8: Signal<Local, Bits<8>>,
    n8: Signal<Local, Bits<8>>,
    x4: Signal<Local, Bits<4>>,
    n4: Signal<Local, Bits<8>>,
    x2: Signal<Local, Bits<2>>,
    n2: Signal<Local, Bits<8>>,
    n: Signal<Local, Bits<8>>,
    /// The 48-bit product, its 24 kept bits and the remainder below them (as the upper 24 of 24
    /// or 23 bits), and the final exponent and right shift −e.
    prod: Signal<Local, Bits<48>>,
    q_p: Signal<Local, Bits<24>>,
    rem_p: Signal<Local, Bits<24>>,
    e_fin: Signal<Local, Bits<8>>,
    d_fin: Signal<Local, Bits<8>>,
    /// r8: pm shifted right by d − 16 (0..=9), the bits that shift lost; then the magnitude.
    t_y: Signal<Local, Bits<25>>,
    lost: Signal<Local, Bits<25>>,
    mag: Signal<Local, Bits<11>>,
    zp11: Signal<Local, Bits<11>>,
    sum11: Signal<Local, Bits<11>>,
    clamped: Signal<Local, Bits<8>>,
}

impl Default for OrtRequant {
    fn default() -> Self {
        block_with_defaults!(OrtRequant {
            m_ll: RegMul::unsigned(),
            m_lh: RegMul::unsigned(),
            m_hl: RegMul::unsigned(),
            m_hh: RegMul::unsigned(),
        } defaults {
            clock, acc, s_sig, s_exp, zp, relu, y, r1_neg, r1_zero, r1_abs, r1_lz, r1_sig, r1_exp, r2_neg, r2_zero,
            r2_norm, r2_lz, r2_pow2, r2_sig, r2_exp, r3_neg, r3_zero, r3_am, r3_e, r3_sig, r4_neg, r4_zero, r4_e, r5_mid, r5_hh,
            r5_ll, r5_neg, r5_zero, r5_e, r6_prod, r6_neg, r6_zero, r6_e, r7_neg, r7_zero, r7_sat, r7_pm, r7_d, r8_mag,
            r8_neg, r8_zero, r8_sat, r9_sum, r9_neg, r9_zero, r9_sat, ones, sh33, x16, n16, x8, n8, x4, n4, x2, n2, n, prod, q_p, rem_p, e_fin, d_fin,
            t_y, lost, mag, zp11, sum11, clamped,
        })
    }
}

impl Logic for OrtRequant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r1_neg, r1_zero, r1_abs, r1_lz, r1_sig, r1_exp, r2_neg, r2_zero, r2_norm, r2_lz, r2_pow2, r2_sig, r2_exp,
            r3_neg, r3_zero, r3_am, r3_e, r3_sig, r4_neg, r4_zero, r4_e, r5_mid, r5_hh, r5_ll, r5_neg, r5_zero, r5_e,
            r6_prod, r6_neg, r6_zero, r6_e, r7_neg, r7_zero, r7_sat, r7_pm, r7_d, r8_mag, r8_neg, r8_zero, r8_sat, r9_sum, r9_neg,
            r9_zero, r9_sat
        );
        clock!(self, clock, m_ll, m_lh, m_hl, m_hh);
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
        self.x16.next = self.ones.val().get_bits::<16>(16);
        self.n16.next = 0.into();
        if !self.ones.val().get_bits::<16>(16).any() {
            self.x16.next = self.ones.val().get_bits::<16>(0);
            self.n16.next = 16.into();
        }
        self.x8.next = self.x16.val().get_bits::<8>(8);
        self.n8.next = self.n16.val();
        if !self.x16.val().get_bits::<8>(8).any() {
            self.x8.next = self.x16.val().get_bits::<8>(0);
            self.n8.next = self.n16.val() + 8;
        }
        self.x4.next = self.x8.val().get_bits::<4>(4);
        self.n4.next = self.n8.val();
        if !self.x8.val().get_bits::<4>(4).any() {
            self.x4.next = self.x8.val().get_bits::<4>(0);
            self.n4.next = self.n8.val() + 4;
        }
        self.x2.next = self.x4.val().get_bits::<2>(2);
        self.n2.next = self.n4.val();
        if !self.x4.val().get_bits::<2>(2).any() {
            self.x2.next = self.x4.val().get_bits::<2>(0);
            self.n2.next = self.n4.val() + 2;
        }
        // Two bits left: 1x → no more zeros, 01 → one, 00 → two.
        self.n.next = self.n2.val();
        if !self.x2.val().get_bit(1) {
            if self.x2.val().get_bit(0) {
                self.n.next = self.n2.val() + 1;
            } else {
                self.n.next = self.n2.val() + 2;
            }
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

        // ---- r4: am · S as four 16 × 16 products (am = ah·2^16 + al, S = sh·2^16 + sl).
        self.m_ll.a.next = self.r3_am.q.val().get_bits::<16>(0);
        self.m_ll.b.next = self.r3_sig.q.val().get_bits::<16>(0);
        self.m_lh.a.next = self.r3_am.q.val().get_bits::<16>(0);
        self.m_lh.b.next = bit_cast::<16, 8>(self.r3_sig.q.val().get_bits::<8>(16));
        self.m_hl.a.next = bit_cast::<16, 9>(self.r3_am.q.val().get_bits::<9>(16));
        self.m_hl.b.next = self.r3_sig.q.val().get_bits::<16>(0);
        self.m_hh.a.next = bit_cast::<16, 9>(self.r3_am.q.val().get_bits::<9>(16));
        self.m_hh.b.next = bit_cast::<16, 8>(self.r3_sig.q.val().get_bits::<8>(16));
        self.r4_neg.d.next = self.r3_neg.q.val();
        self.r4_zero.d.next = self.r3_zero.q.val();
        self.r4_e.d.next = self.r3_e.q.val();

        // ---- r5: the middle products added; r6: the 48-bit product.
        self.r5_mid.d.next = bit_cast::<33, 32>(self.m_hl.p.val()) + bit_cast::<33, 32>(self.m_lh.p.val());
        self.r5_hh.d.next = self.m_hh.p.val();
        self.r5_ll.d.next = self.m_ll.p.val();
        self.r5_neg.d.next = self.r4_neg.q.val();
        self.r5_zero.d.next = self.r4_zero.q.val();
        self.r5_e.d.next = self.r4_e.q.val();
        self.r6_prod.d.next = (bit_cast::<48, 32>(self.r5_hh.q.val()) << 32)
            + (bit_cast::<48, 33>(self.r5_mid.q.val()) << 16)
            + bit_cast::<48, 32>(self.r5_ll.q.val());
        self.r6_neg.d.next = self.r5_neg.q.val();
        self.r6_zero.d.next = self.r5_zero.q.val();
        self.r6_e.d.next = self.r5_e.q.val();

        // ---- r7: the product rounded to 24 significant bits; the shift to an integer.
        self.prod.next = self.r6_prod.q.val();
        // am, S ≥ 2^23: the product has 47 or 48 significant bits; keep 24, round on the rest
        // (their top bit is the half).
        if self.prod.val().get_bit(47) {
            self.q_p.next = self.prod.val().get_bits::<24>(24);
            self.rem_p.next = self.prod.val().get_bits::<24>(0);
            self.e_fin.next = self.r6_e.q.val() + 24;
        } else {
            self.q_p.next = self.prod.val().get_bits::<24>(23);
            self.rem_p.next = bit_cast::<24, 23>(self.prod.val().get_bits::<23>(0)) << 1;
            self.e_fin.next = self.r6_e.q.val() + 23;
        }
        if (self.rem_p.val() > bits::<24>(0x80_0000)) | ((self.rem_p.val() == bits::<24>(0x80_0000)) & self.q_p.val().get_bit(0)) {
            self.r7_pm.d.next = bit_cast::<25, 24>(self.q_p.val()) + bits::<25>(1);
        } else {
            self.r7_pm.d.next = bit_cast::<25, 24>(self.q_p.val());
        }
        self.d_fin.next = bits::<8>(0) - self.e_fin.val();
        // e ≥ 0 or d ≤ 15: at least 2^23 / 2^15 = 256 in magnitude, saturates.
        self.r7_sat.d.next = !self.e_fin.val().get_bit(7) | (self.d_fin.val() < bits::<8>(16));
        // d ≥ 26: at most 2^24 / 2^26, below a half: zero.
        self.r7_zero.d.next = self.r6_zero.q.val() | (self.e_fin.val().get_bit(7) & (self.d_fin.val() > bits::<8>(25)));
        // Used only for d in 16..=25.
        self.r7_d.d.next = self.d_fin.val();
        self.r7_neg.d.next = self.r6_neg.q.val();

        // ---- r8: pm >> d (d in 16..=25) with round half to even: first by d − 16 (0..=9),
        // keeping what is lost as a sticky bit; then the integer part is bits 24..16 and bits
        // 15..0 with the sticky bit decide the rounding.
        self.t_y.next = self.r7_pm.q.val() >> ((self.r7_d.q.val() - 16) & 0xF);
        self.lost.next = self.r7_pm.q.val() & ((bits::<25>(1) << ((self.r7_d.q.val() - 16) & 0xF)) - 1);
        if (self.t_y.val().get_bits::<16>(0) > bits::<16>(0x8000))
            | ((self.t_y.val().get_bits::<16>(0) == bits::<16>(0x8000)) & (self.lost.val().any() | self.t_y.val().get_bit(16)))
        {
            self.mag.next = bit_cast::<11, 9>(self.t_y.val().get_bits::<9>(16)) + bits::<11>(1);
        } else {
            self.mag.next = bit_cast::<11, 9>(self.t_y.val().get_bits::<9>(16));
        }
        self.r8_mag.d.next = self.mag.val();
        self.r8_neg.d.next = self.r7_neg.q.val();
        self.r8_zero.d.next = self.r7_zero.q.val();
        self.r8_sat.d.next = self.r7_sat.q.val();

        // ---- r9: sign and zero point.
        if self.zp.val().get_bit(7) {
            self.zp11.next = bit_cast::<11, 8>(self.zp.val()) - bits::<11>(0x100);
        } else {
            self.zp11.next = bit_cast::<11, 8>(self.zp.val());
        }
        if self.r8_neg.q.val() {
            self.r9_sum.d.next = self.zp11.val() - self.r8_mag.q.val();
        } else {
            self.r9_sum.d.next = self.zp11.val() + self.r8_mag.q.val();
        }
        self.r9_neg.d.next = self.r8_neg.q.val();
        self.r9_zero.d.next = self.r8_zero.q.val();
        self.r9_sat.d.next = self.r8_sat.q.val();

        // ---- Output: clamp, ReLU.
        self.sum11.next = self.r9_sum.q.val();
        if self.r9_zero.q.val() {
            self.clamped.next = self.zp.val();
        } else if self.r9_sat.q.val() {
            if self.r9_neg.q.val() {
                self.clamped.next = bits::<8>(0x80);
            } else {
                self.clamped.next = bits::<8>(0x7F);
            }
        } else if self.sum11.val().get_bit(10) & !self.sum11.val().get_bits::<3>(7).all() {
            self.clamped.next = bits::<8>(0x80);
        } else if !self.sum11.val().get_bit(10) & self.sum11.val().get_bits::<3>(7).any() {
            self.clamped.next = bits::<8>(0x7F);
        } else {
            self.clamped.next = self.sum11.val().get_bits::<8>(0);
        }
        // Signed compare as unsigned with the sign bits flipped.
        if self.relu.val() & ((self.clamped.val() ^ 0x80) < (self.zp.val() ^ 0x80)) {
            self.y.next = self.zp.val();
        } else {
            self.y.next = self.clamped.val();
        }
    }
}

crate::clocked!(OrtRequant);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use accelgen_golden::ort::{ort_requantize, scale_parts, OrtRequant as Q};

    /// Values streamed one per cycle, each with its own scale (as a per-channel scale arrives),
    /// against ONNX Runtime's float pipeline (`ort_requantize`): boundary accumulators at every
    /// bit length and random ones, scales from 2^-40 to 2^3, random zero points, ReLU on and off.
    #[test]
    fn every_result_equals_onnx_runtimes_float_pipeline() {
        let mut rng = Rng::from_env("ort-requant", 11);
        let mut h = Harness::new(OrtRequant::default()).unwrap();
        let mut accs = vec![0i32, 1, -1, 3, -3, i32::MAX, i32::MIN, i32::MIN + 1];
        for b in 0..31 {
            for d in [-1i64, 0, 1] {
                let v = (1i64 << b) + d;
                if v > 0 && v <= i32::MAX as i64 {
                    accs.push(v as i32);
                    accs.push(-(v as i32));
                }
            }
        }
        for _ in 0..3000 {
            accs.push(match rng.below(3) {
                0 => rng.next() as i32,
                1 => rng.range(-70_000, 70_000) as i32,
                _ => rng.range(-300, 300) as i32,
            });
        }
        let (zp, relu) = (rng.range(-128, 127) as i32, false);
        for pass in 0..2 {
            let (zp, relu) = if pass == 0 { (zp, relu) } else { (-128 + rng.range(0, 40) as i32, true) };
            let cases: Vec<(i32, f32)> = accs
                .iter()
                .map(|&a| (a, f32::from_bits(0x2B80_0000 + rng.below(0x1A00_0000) as u32)))
                .collect();
            let mut got = vec![];
            for t in 0..cases.len() + ORT_REQUANT_REGS {
                let u = &mut h.uut;
                let (a, s) = cases.get(t).copied().unwrap_or((0, 1.0));
                let (sig, exp) = scale_parts(s).unwrap();
                u.acc.next = (a as u32 as u64).into();
                u.s_sig.next = (sig as u64).into();
                u.s_exp.next = (exp as u8 as u64).into();
                u.zp.next = (zp as u8 as u64).into();
                u.relu.next = relu;
                h.settle().unwrap();
                if t >= ORT_REQUANT_REGS {
                    got.push(h.uut.y.val().index() as u8 as i8);
                }
                h.step().unwrap();
            }
            for ((a, s), g) in cases.iter().zip(&got) {
                let q = Q { scale: *s, zero_point: zp, qmin: if relu { zp } else { -128 }, qmax: 127 };
                assert_eq!(*g, ort_requantize(*a, &q), "acc {a}, scale {s:e} ({:#x}), zp {zp}, relu {relu}", s.to_bits());
            }
        }
    }
}
