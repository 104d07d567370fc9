//! # OrtRound: the float32 product to an int8, the last stages of [`OrtRequant`](crate::pe::OrtRequant)
//!
//! The product `prod · 2^e` of the accumulator's float32 significand and the scale's
//! (`prod ∈ [2^46, 2^48)`), rounded as ONNX Runtime rounds it: to 24 significant bits (the float32
//! multiply), then to an integer with round half to even; then the sign, the zero point, the clamp
//! to int8 and ReLU.
//! - r7: the product rounded to 24 significant bits `pm` and the right shift `d` that makes it an
//!   integer, with `d ≤ 15` (at least 256: saturates) and `d ≥ 26` (below a half: zero) decided;
//! - r8: `pm` shifted by `d ∈ [16, 25]` with round half to even: the magnitude;
//! - r9: the sign and the zero point;
//! - output (combinational, registered by the parent): clamp and ReLU.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `prod`, `e` | in | 48, 8 | the product and its exponent (two's complement) |
//! | `neg`, `zero` | in | 1, 1 | the value is negative, zero (then the result is the zero point) |
//! | `zp`, `relu` | in | 8, 1 | zero point, clamp below at it (parameters: stable while values flow) |
//! | `y` | out | 8 | the int8 result of the value that entered three cycles before the last edge |

use rust_hdl::prelude::*;

/// Registers between `prod` and `y` (the output stage is combinational).
pub const ORT_ROUND_REGS: usize = 3;

/// Rounding, zero point, clamp and ReLU.
#[derive(LogicBlock, Default)]
pub struct OrtRound {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Product of the significands.
    pub prod: Signal<In, Bits<48>>,
    /// Its exponent.
    pub e: Signal<In, Bits<8>>,
    /// Negative.
    pub neg: Signal<In, Bit>,
    /// Zero.
    pub zero: Signal<In, Bit>,
    /// Zero point (int8).
    pub zp: Signal<In, Bits<8>>,
    /// Clamp below at the zero point.
    pub relu: Signal<In, Bit>,
    /// Result (int8).
    pub y: Signal<Out, Bits<8>>,
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
    /// The product's 24 kept bits and the remainder below them (as the upper 24 of 24 or 23
    /// bits), and the final exponent and right shift −e.
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

impl Logic for OrtRound {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r7_neg, r7_zero, r7_sat, r7_pm, r7_d, r8_mag, r8_neg, r8_zero, r8_sat, r9_sum, r9_neg, r9_zero, r9_sat);
        // ---- r7: the product rounded to 24 significant bits; the shift to an integer. Two
        // significands ≥ 2^23: the product has 47 or 48 significant bits; keep 24, round on the
        // rest (their top bit is the half).
        if self.prod.val().get_bit(47) {
            self.q_p.next = self.prod.val().get_bits::<24>(24);
            self.rem_p.next = self.prod.val().get_bits::<24>(0);
            self.e_fin.next = self.e.val() + 24;
        } else {
            self.q_p.next = self.prod.val().get_bits::<24>(23);
            self.rem_p.next = bit_cast::<24, 23>(self.prod.val().get_bits::<23>(0)) << 1;
            self.e_fin.next = self.e.val() + 23;
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
        self.r7_zero.d.next = self.zero.val() | (self.e_fin.val().get_bit(7) & (self.d_fin.val() > bits::<8>(25)));
        // Used only for d in 16..=25.
        self.r7_d.d.next = self.d_fin.val();
        self.r7_neg.d.next = self.neg.val();

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

crate::clocked!(OrtRound);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Against float arithmetic: the product rounded to float32 by Rust's conversion, scaled by
    /// the exact power of two in f64, rounded half to even, then sign, zero point, clamp, ReLU.
    /// Products with 47 and 48 significant bits, halfway cases, exponents from saturation to
    /// zero, one value per cycle; zero point and ReLU are parameters, one setting per run.
    #[test]
    fn results_equal_float32_rounding_then_round_half_even() {
        let mut rng = Rng::from_env("ort-round", 3);
        let mut h = Harness::new(OrtRound::default()).unwrap();
        for run in 0..6 {
            let (zp, relu) = (rng.range(-128, 127) as i32, run % 2 == 1);
            let cases: Vec<(u64, i32, bool, bool)> = (0..1000u64)
                .map(|i| {
                    let prod = match i % 4 {
                        // A halfway case of the integer rounding at some exponent.
                        0 => (rng.range(1 << 22, 1 << 23) as u64 * 2 + 1) << 24,
                        1 => (1 << 46) + rng.below(1 << 30) as u64,
                        _ => (1u64 << 46) + ((rng.next() as u64) << 32 | rng.next() as u64) % (3 << 46),
                    };
                    (prod, rng.range(-80, -20) as i32, rng.below(2) == 1, rng.below(50) == 0)
                })
                .collect();
            let mut got = vec![];
            for t in 0..cases.len() + ORT_ROUND_REGS {
                let (prod, e, neg, zero) = cases.get(t).copied().unwrap_or((1 << 46, -60, false, true));
                let u = &mut h.uut;
                u.prod.next = prod.into();
                u.e.next = (e as u8 as u64).into();
                u.neg.next = neg;
                u.zero.next = zero;
                u.zp.next = (zp as u8 as u64).into();
                u.relu.next = relu;
                h.settle().unwrap();
                if t >= ORT_ROUND_REGS {
                    got.push(h.uut.y.val().index() as u8 as i8 as i32);
                }
                h.step().unwrap();
            }
            for (&(prod, e, neg, zero), g) in cases.iter().zip(got) {
                let v = (prod as f64) as f32 as f64 * 2f64.powi(e);
                let m = if zero { 0.0 } else { v.round_ties_even().min(1e6) };
                let y = ((if neg { -m } else { m }) as i64 + zp as i64).clamp(-128, 127) as i32;
                let want = if relu { y.max(zp) } else { y };
                assert_eq!(g, want, "prod {prod:#x}, e {e}, neg {neg}, zero {zero}, zp {zp}, relu {relu}");
            }
        }
    }
}
