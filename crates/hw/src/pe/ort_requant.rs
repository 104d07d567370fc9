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
//! - r1–r3: [`OrtNormalize`]: the sign, `|acc|` as float32 (`am`, 25 bits) and the exponent of
//!   its product with the scale;
//! - r4: four 16 × 16 partial products of `am · S` ([`RegMul`]: DSP blocks with their output
//!   registers);
//! - r5: the two middle partial products added; r6: the 48-bit product;
//! - r7–r9 and the output: [`OrtRound`]: rounded to 24 significant bits (the float32 multiply),
//!   to an integer half to even, the sign, the zero point, clamp and ReLU.
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
use crate::pe::ort_normalize::{OrtNormalize, ORT_NORMALIZE_REGS};
use crate::pe::ort_round::{OrtRound, ORT_ROUND_REGS};
use rust_hdl::prelude::*;

/// Registers between `acc` and `y` (the output stage is combinational).
pub const ORT_REQUANT_REGS: usize = ORT_NORMALIZE_REGS + 3 + ORT_ROUND_REGS;

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
    /// r1–r3: float32 of |acc|.
    norm: OrtNormalize,
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
    /// r7–r9, output.
    round: OrtRound,
}

impl Default for OrtRequant {
    fn default() -> Self {
        block_with_defaults!(OrtRequant {
            m_ll: RegMul::unsigned(),
            m_lh: RegMul::unsigned(),
            m_hl: RegMul::unsigned(),
            m_hh: RegMul::unsigned(),
        } defaults {
            clock, acc, s_sig, s_exp, zp, relu, y, norm, r4_neg, r4_zero, r4_e, r5_mid, r5_hh, r5_ll, r5_neg, r5_zero, r5_e,
            r6_prod, r6_neg, r6_zero, r6_e, round,
        })
    }
}

impl Logic for OrtRequant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r4_neg, r4_zero, r4_e, r5_mid, r5_hh, r5_ll, r5_neg, r5_zero, r5_e, r6_prod, r6_neg, r6_zero, r6_e);
        clock!(self, clock, norm, m_ll, m_lh, m_hl, m_hh, round);
        self.norm.acc.next = self.acc.val();
        self.norm.s_sig.next = self.s_sig.val();
        self.norm.s_exp.next = self.s_exp.val();

        // ---- r4: am · S as four 16 × 16 products (am = ah·2^16 + al, S = sh·2^16 + sl).
        self.m_ll.a.next = self.norm.am.val().get_bits::<16>(0);
        self.m_ll.b.next = self.norm.sig.val().get_bits::<16>(0);
        self.m_lh.a.next = self.norm.am.val().get_bits::<16>(0);
        self.m_lh.b.next = bit_cast::<16, 8>(self.norm.sig.val().get_bits::<8>(16));
        self.m_hl.a.next = bit_cast::<16, 9>(self.norm.am.val().get_bits::<9>(16));
        self.m_hl.b.next = self.norm.sig.val().get_bits::<16>(0);
        self.m_hh.a.next = bit_cast::<16, 9>(self.norm.am.val().get_bits::<9>(16));
        self.m_hh.b.next = bit_cast::<16, 8>(self.norm.sig.val().get_bits::<8>(16));
        self.r4_neg.d.next = self.norm.neg.val();
        self.r4_zero.d.next = self.norm.zero.val();
        self.r4_e.d.next = self.norm.e.val();

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

        // ---- r7–r9, output.
        self.round.prod.next = self.r6_prod.q.val();
        self.round.e.next = self.r6_e.q.val();
        self.round.neg.next = self.r6_neg.q.val();
        self.round.zero.next = self.r6_zero.q.val();
        self.round.zp.next = self.zp.val();
        self.round.relu.next = self.relu.val();
        self.y.next = self.round.y.val();
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
