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
//! Pipeline: four registers, then the output stage is combinational, so that the parent
//! ([`Requant`](crate::pe::Requant)) registers `y` with its other outputs (its five stages):
//! - r1: the sign, `|acc|`, `S` and `e` (carried with the value, so a per-channel scale can
//!   arrive with it);
//! - r2: the significand `am ∈ [2^23, 2^24]` and the exponent correction `n − 24` (n: significant
//!   bits of `|acc|`), with the scale carried along;
//! - r3: four 16 × 16 partial products of `am · S` ([`RegMul`]: DSP blocks with their output
//!   registers);
//! - r4: the product rounded to 24 bits `pm` and the right shift `d = −(n − 24 + e + pn − 24)`
//!   that makes it an integer (pn: the product's significant bits, 47 or 48), with `d ≤ 15`
//!   (the result is at least 256: saturates) and `d ≥ 26` (below a half: zero) decided here;
//! - output: `pm` shifted by `d ∈ [16, 25]` with round half to even, then the sign, zero point,
//!   clamp and ReLU.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `acc` | in | 32 | accumulator (two's complement) |
//! | `s_sig`, `s_exp` | in | 24, 8 | scale significand (bit 23 set) and exponent (two's complement, −128..−1) |
//! | `zp`, `relu` | in | 8, 1 | zero point, clamp below at it (parameters: stable while values flow) |
//! | `y` | out | 8 | the int8 result of the value that entered four cycles before the last edge |

use crate::pe::mul::RegMul;
use rust_hdl::prelude::*;

/// Registers between `acc` and `y` (the output stage is combinational).
pub const ORT_REQUANT_REGS: usize = 4;

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
    /// r1: sign, zero, |acc|, scale.
    r1_neg: DFF<Bit>,
    r1_zero: DFF<Bit>,
    r1_abs: DFF<Bits<32>>,
    r1_sig: DFF<Bits<24>>,
    r1_exp: DFF<Bits<8>>,
    /// r2: significand, n − 24 (two's complement), and what r1 carried.
    r2_neg: DFF<Bit>,
    r2_zero: DFF<Bit>,
    r2_am: DFF<Bits<25>>,
    r2_ea: DFF<Bits<8>>,
    r2_exp: DFF<Bits<8>>,
    r2_sig: DFF<Bits<24>>,
    /// r3: partial products (in the multipliers) and what r2 carried.
    m_ll: RegMul<16, 16, 32>,
    m_lh: RegMul<16, 16, 32>,
    m_hl: RegMul<16, 16, 32>,
    m_hh: RegMul<16, 16, 32>,
    r3_neg: DFF<Bit>,
    r3_zero: DFF<Bit>,
    r3_e: DFF<Bits<8>>,
    /// r4: rounded product, shift, saturate, zero.
    r4_neg: DFF<Bit>,
    r4_zero: DFF<Bit>,
    r4_sat: DFF<Bit>,
    r4_pm: DFF<Bits<25>>,
    r4_d: DFF<Bits<8>>,
    /// Significant bits of |acc| (1..=32), found by halving: what is left and the count so far.
    x16: Signal<Local, Bits<16>>,
    n16: Signal<Local, Bits<8>>,
    x8: Signal<Local, Bits<8>>,
    n8: Signal<Local, Bits<8>>,
    x4: Signal<Local, Bits<4>>,
    n4: Signal<Local, Bits<8>>,
    x2: Signal<Local, Bits<2>>,
    n2: Signal<Local, Bits<8>>,
    n: Signal<Local, Bits<8>>,
    /// |acc| shifted left so that its leading one is bit 31: the significand's 24 bits and 8
    /// rounding bits (zero when |acc| has 24 significant bits or fewer).
    norm: Signal<Local, Bits<32>>,
    /// The 48-bit product, its 24 kept bits and the remainder below them (as the upper 24 of 24
    /// or 23 bits), and the final exponent and right shift −e.
    prod: Signal<Local, Bits<48>>,
    q_p: Signal<Local, Bits<24>>,
    rem_p: Signal<Local, Bits<24>>,
    e_fin: Signal<Local, Bits<8>>,
    d_fin: Signal<Local, Bits<8>>,
    /// Output stage: pm shifted right by d − 16 (0..=9), the bits that shift lost, the integer
    /// part and the rounding bits that remain.
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
            clock, acc, s_sig, s_exp, zp, relu, y, r1_neg, r1_zero, r1_abs, r1_sig, r1_exp, r2_neg, r2_zero, r2_am,
            r2_ea, r2_exp, r2_sig, r3_neg, r3_zero, r3_e, r4_neg, r4_zero, r4_sat, r4_pm, r4_d, x16, n16, x8, n8, x4, n4, x2, n2, n, norm,
            prod, q_p, rem_p, e_fin, d_fin, t_y, lost, mag, zp11, sum11, clamped,
        })
    }
}

impl Logic for OrtRequant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r1_neg, r1_zero, r1_abs, r1_sig, r1_exp, r2_neg, r2_zero, r2_am, r2_ea, r2_exp, r2_sig, r3_neg,
            r3_zero, r3_e, r4_neg, r4_zero, r4_sat, r4_pm, r4_d
        );
        clock!(self, clock, m_ll, m_lh, m_hl, m_hh);
        // ---- r1: sign and magnitude (|−2^31| = 2^31 fits 32 unsigned bits).
        self.r1_neg.d.next = self.acc.val().get_bit(31);
        self.r1_zero.d.next = !self.acc.val().any();
        if self.acc.val().get_bit(31) {
            self.r1_abs.d.next = bits::<32>(0) - self.acc.val();
        } else {
            self.r1_abs.d.next = self.acc.val();
        }
        self.r1_sig.d.next = self.s_sig.val();
        self.r1_exp.d.next = self.s_exp.val();

        // ---- r2: float32 of |acc| as am · 2^(n − 24), am ∈ [2^23, 2^24].
        // Significant bits by halving: each step keeps the upper half when it is not zero.
        self.x16.next = self.r1_abs.q.val().get_bits::<16>(0);
        self.n16.next = 0.into();
        if self.r1_abs.q.val().get_bits::<16>(16).any() {
            self.x16.next = self.r1_abs.q.val().get_bits::<16>(16);
            self.n16.next = 16.into();
        }
        self.x8.next = self.x16.val().get_bits::<8>(0);
        self.n8.next = self.n16.val();
        if self.x16.val().get_bits::<8>(8).any() {
            self.x8.next = self.x16.val().get_bits::<8>(8);
            self.n8.next = self.n16.val() + 8;
        }
        self.x4.next = self.x8.val().get_bits::<4>(0);
        self.n4.next = self.n8.val();
        if self.x8.val().get_bits::<4>(4).any() {
            self.x4.next = self.x8.val().get_bits::<4>(4);
            self.n4.next = self.n8.val() + 4;
        }
        self.x2.next = self.x4.val().get_bits::<2>(0);
        self.n2.next = self.n4.val();
        if self.x4.val().get_bits::<2>(2).any() {
            self.x2.next = self.x4.val().get_bits::<2>(2);
            self.n2.next = self.n4.val() + 2;
        }
        self.n.next = self.n2.val() + bit_cast::<8, 1>(self.x2.val().get_bits::<1>(0));
        if self.x2.val().get_bit(1) {
            self.n.next = self.n2.val() + 2;
        }
        // (n = 0 only for a zero accumulator, whose result the zero flag decides: masked.)
        self.norm.next = self.r1_abs.q.val() << ((bits::<8>(32) - self.n.val()) & bits::<8>(0x1F));
        // Round to nearest even on the 8 bits below the significand (a carry gives 2^24).
        if (self.norm.val().get_bits::<8>(0) > bits::<8>(0x80)) | ((self.norm.val().get_bits::<8>(0) == bits::<8>(0x80)) & self.norm.val().get_bit(8)) {
            self.r2_am.d.next = bit_cast::<25, 24>(self.norm.val().get_bits::<24>(8)) + bits::<25>(1);
        } else {
            self.r2_am.d.next = bit_cast::<25, 24>(self.norm.val().get_bits::<24>(8));
        }
        self.r2_ea.d.next = self.n.val() - 24;
        self.r2_neg.d.next = self.r1_neg.q.val();
        self.r2_zero.d.next = self.r1_zero.q.val();
        self.r2_exp.d.next = self.r1_exp.q.val();
        self.r2_sig.d.next = self.r1_sig.q.val();

        // ---- r3: am · S as four 16 × 16 products (am = ah·2^16 + al, S = sh·2^16 + sl).
        self.m_ll.a.next = self.r2_am.q.val().get_bits::<16>(0);
        self.m_ll.b.next = self.r2_sig.q.val().get_bits::<16>(0);
        self.m_lh.a.next = self.r2_am.q.val().get_bits::<16>(0);
        self.m_lh.b.next = bit_cast::<16, 8>(self.r2_sig.q.val().get_bits::<8>(16));
        self.m_hl.a.next = bit_cast::<16, 9>(self.r2_am.q.val().get_bits::<9>(16));
        self.m_hl.b.next = self.r2_sig.q.val().get_bits::<16>(0);
        self.m_hh.a.next = bit_cast::<16, 9>(self.r2_am.q.val().get_bits::<9>(16));
        self.m_hh.b.next = bit_cast::<16, 8>(self.r2_sig.q.val().get_bits::<8>(16));
        self.r3_neg.d.next = self.r2_neg.q.val();
        self.r3_zero.d.next = self.r2_zero.q.val();
        self.r3_e.d.next = self.r2_ea.q.val() + self.r2_exp.q.val();

        // ---- r4: the product rounded to 24 significant bits; the shift to an integer.
        self.prod.next = (bit_cast::<48, 32>(self.m_hh.p.val()) << 32)
            + (bit_cast::<48, 32>(self.m_hl.p.val()) << 16)
            + (bit_cast::<48, 32>(self.m_lh.p.val()) << 16)
            + bit_cast::<48, 32>(self.m_ll.p.val());
        // am, S ≥ 2^23: the product has 47 or 48 significant bits; keep 24, round on the rest
        // (their top bit is the half).
        if self.prod.val().get_bit(47) {
            self.q_p.next = self.prod.val().get_bits::<24>(24);
            self.rem_p.next = self.prod.val().get_bits::<24>(0);
            self.e_fin.next = self.r3_e.q.val() + 24;
        } else {
            self.q_p.next = self.prod.val().get_bits::<24>(23);
            self.rem_p.next = bit_cast::<24, 23>(self.prod.val().get_bits::<23>(0)) << 1;
            self.e_fin.next = self.r3_e.q.val() + 23;
        }
        if (self.rem_p.val() > bits::<24>(0x80_0000)) | ((self.rem_p.val() == bits::<24>(0x80_0000)) & self.q_p.val().get_bit(0)) {
            self.r4_pm.d.next = bit_cast::<25, 24>(self.q_p.val()) + bits::<25>(1);
        } else {
            self.r4_pm.d.next = bit_cast::<25, 24>(self.q_p.val());
        }
        self.d_fin.next = bits::<8>(0) - self.e_fin.val();
        // e ≥ 0 or d ≤ 15: at least 2^23 / 2^15 = 256 in magnitude, saturates.
        self.r4_sat.d.next = !self.e_fin.val().get_bit(7) | (self.d_fin.val() < bits::<8>(16));
        // d ≥ 26: at most 2^24 / 2^26, below a half: zero.
        self.r4_zero.d.next = self.r3_zero.q.val() | (self.e_fin.val().get_bit(7) & (self.d_fin.val() > bits::<8>(25)));
        // Used only for d in 16..=25.
        self.r4_d.d.next = self.d_fin.val();
        self.r4_neg.d.next = self.r3_neg.q.val();

        // ---- Output: pm >> d (d in 16..=25) with round half to even; sign; zero point; clamp.
        // First by d − 16 (0..=9), keeping what is lost as a sticky bit; then the integer part
        // is bits 24..16 and bits 15..0 with the sticky bit decide the rounding.
        self.t_y.next = self.r4_pm.q.val() >> ((self.r4_d.q.val() - 16) & 0xF);
        self.lost.next = self.r4_pm.q.val() & ((bits::<25>(1) << ((self.r4_d.q.val() - 16) & 0xF)) - 1);
        if (self.t_y.val().get_bits::<16>(0) > bits::<16>(0x8000))
            | ((self.t_y.val().get_bits::<16>(0) == bits::<16>(0x8000)) & (self.lost.val().any() | self.t_y.val().get_bit(16)))
        {
            self.mag.next = bit_cast::<11, 9>(self.t_y.val().get_bits::<9>(16)) + bits::<11>(1);
        } else {
            self.mag.next = bit_cast::<11, 9>(self.t_y.val().get_bits::<9>(16));
        }
        if self.zp.val().get_bit(7) {
            self.zp11.next = bit_cast::<11, 8>(self.zp.val()) - bits::<11>(0x100);
        } else {
            self.zp11.next = bit_cast::<11, 8>(self.zp.val());
        }
        if self.r4_neg.q.val() {
            self.sum11.next = self.zp11.val() - self.mag.val();
        } else {
            self.sum11.next = self.zp11.val() + self.mag.val();
        }
        if self.r4_zero.q.val() {
            self.clamped.next = self.zp.val();
        } else if self.r4_sat.q.val() {
            if self.r4_neg.q.val() {
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
