//! # Requant: the activation unit after the accumulation buffer
//!
//! `y = ((acc·multiplier + 2^(shift−1)) >> shift) + zero_point`, clamped to int8, then
//! `max(y, zero_point)` with `relu` (docs/arithmetic.md). With `ort`, ONNX Runtime's float32
//! pipeline computed in integers ([`OrtRequant`], docs/onnx.md) instead, with the same zero point
//! and relu. With `en` low the accumulator passes through unchanged (int32 output). Bit-exact
//! with `accelgen_golden::requantize` and `accelgen_golden::ort::ort_requantize`.
//!
//! The 32×16 product is built from two unsigned 16×16 multipliers (the only multiplier rust-hdl
//! offers): `acc·m = hi·m·2^16 + lo·m − [acc < 0]·m·2^32`, where `lo`/`hi` are the unsigned halves
//! of the accumulator's two's-complement bits; the sum is formed in 64 bits.
//!
//! Pipeline: 6 stages, one value per cycle. `out_*` follow `in_*` 6 cycles later: partial
//! products (in the multipliers' output registers); the partial products again, in fabric
//! registers (timing: the route out of an ECP5 DSP block took 4.5 ns of the sum's cycle); their
//! 64-bit sum plus the rounding term; the arithmetic shift; the zero point added and the int8
//! range tested; clamp, relu and sign extension. (The sum and the shift were one
//! stage, and so were the zero point and the clamp: each was the ECP5's critical path. The
//! rounding term and the negative correction are one registered constant per sign, formed from
//! the parameter registers two cycles ahead (the rounding term is registered first), so the sum
//! stage adds three operands and no shifter; the parameters must be stable a cycle before a value
//! enters.)
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `in_valid`, `in_idx`, `in_acc` | in | 1, 16, 32 | a value and its output-buffer entry |
//! | `set_en`, `set_mult`, `set_shift`, `set_zp`, `set_relu` | in | 1, 16, 8, 8, 1 | parameter registers ([`RequantPorts`]) |
//! | `set_ort`, `set_s_sig`, `set_s_exp` | in | 1, 24, 8 | ONNX Runtime's requantization ([`OrtRequant`], alongside; its results come `ORT_REQUANT_STAGES` = 10 cycles after their values) and its scale |
//! | `out_valid`, `out_idx`, `out_data` | out | 1, 16, 32 | result (int8 sign-extended, or acc) |

use crate::pe::mul::RegMul;
use crate::pe::RequantPorts;
use crate::pe::ort_requant::{OrtRequant, ORT_REQUANT_REGS};

/// Registered stages between `in_*` and `out_*` in ONNX Runtime's mode (`ort` and `en`).
pub const ORT_REQUANT_STAGES: usize = ORT_REQUANT_REGS + 1;
use rust_hdl::prelude::*;

/// Registered stages between `in_*` and `out_*`.
pub const REQUANT_STAGES: usize = 6;

/// The requantizer.
#[derive(LogicBlock)]
pub struct Requant {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Input valid.
    pub in_valid: Signal<In, Bit>,
    /// Output index carried alongside.
    pub in_idx: Signal<In, Bits<16>>,
    /// Accumulator (two's complement).
    pub in_acc: Signal<In, Bits<32>>,
    /// The parameters (see [`RequantPorts`]).
    pub set: RequantPorts,
    /// Output valid.
    pub out_valid: Signal<Out, Bit>,
    /// Output index.
    pub out_idx: Signal<Out, Bits<16>>,
    /// Output value.
    pub out_data: Signal<Out, Bits<32>>,
    /// Stage 1: valid, index, accumulator, partial products, sign.
    s1_valid: DFF<Bit>,
    s1_idx: DFF<Bits<16>>,
    s1_acc: DFF<Bits<32>>,
    /// The partial products `lo·m`, `hi·m`, registered in their multipliers ([`RegMul`]: on
    /// ECP5 a DSP block with its output register).
    s1_plo: RegMul<16, 16, 32>,
    s1_phi: RegMul<16, 16, 32>,
    /// Stage 1b: the same, the partial products in fabric registers.
    s1b_valid: DFF<Bit>,
    s1b_idx: DFF<Bits<16>>,
    s1b_acc: DFF<Bits<32>>,
    s1b_plo: DFF<Bits<32>>,
    s1b_phi: DFF<Bits<32>>,
    /// Stage 2a: the product plus the rounding term, before the shift.
    s2a_valid: DFF<Bit>,
    s2a_idx: DFF<Bits<16>>,
    s2a_acc: DFF<Bits<32>>,
    s2a_rounded: DFF<Bits<64>>,
    /// The constant added to the product, from the parameter registers (registered: they are
    /// stable while the engine runs): the rounding term, and the rounding term minus
    /// `mult`·2^32 (the correction for a negative accumulator on the unsigned multipliers).
    rc_pos: DFF<Bits<64>>,
    rc_neg: DFF<Bits<64>>,
    /// The rounding term from this cycle's parameters, and registered (`rc_r`: the constants
    /// below are formed from it a cycle later, so the parameters must be stable a cycle before
    /// a value enters, as they are in the engine, where they are written before a run
    /// starts).
    rc_now: Signal<Local, Bits<64>>,
    rc_r: DFF<Bits<64>>,
    /// The high half of the negative correction, `rc_now[63:32] − mult` (timing: `mult`·2^32
    /// has no low bits, so the subtraction is 32 bits wide, not a 64-bit carry chain).
    rc_neg_hi: Signal<Local, Bits<32>>,
    /// Stage 2: the rounded, shifted 64-bit value.
    s2_valid: DFF<Bit>,
    s2_idx: DFF<Bits<16>>,
    s2_acc: DFF<Bits<32>>,
    s2_y: DFF<Bits<64>>,
    /// Stage 3a: the shifted value plus the zero point, as its low byte, whether it lies in the
    /// int8 range, and its sign.
    s3a_valid: DFF<Bit>,
    s3a_idx: DFF<Bits<16>>,
    s3a_acc: DFF<Bits<32>>,
    s3a_low: DFF<Bits<8>>,
    s3a_inrange: DFF<Bit>,
    s3a_neg: DFF<Bit>,
    /// Stage 3: output registers.
    s3_valid: DFF<Bit>,
    s3_idx: DFF<Bits<16>>,
    s3_data: DFF<Bits<32>>,
    /// acc·mult in 64-bit two's complement.
    prod: Signal<Local, Bits<64>>,
    /// prod plus the rounding term.
    rounded: Signal<Local, Bits<64>>,
    /// Arithmetic right shift of `rounded`.
    shifted: Signal<Local, Bits<64>>,
    /// Zero point sign-extended to 11 bits.
    zp11: Signal<Local, Bits<11>>,
    /// The low 11 bits of shifted + zero point: the whole sum when `y_small`.
    y11: Signal<Local, Bits<11>>,
    /// The shifted value lies in [−512, 511] (bits 63..9 equal): only then can the sum with a
    /// zero point in [−128, 127] be in the int8 range, and then it fits 11 bits (timing: an
    /// 11-bit adder beside a 55-bit reduction, not a 64-bit adder and a 57-bit reduction behind
    /// it).
    y_small: Signal<Local, Bit>,
    /// y clamped to int8.
    clamped: Signal<Local, Bits<8>>,
    /// After relu.
    act: Signal<Local, Bits<8>>,
    /// ONNX Runtime's pipeline, beside this one, and the valid flags, indices and result
    /// register of its longer latency.
    ortq: OrtRequant,
    o_valid: Vec<DFF<Bit>>,
    o_idx: Vec<DFF<Bits<16>>>,
    o_data: DFF<Bits<32>>,
    /// ONNX Runtime's mode is in use (it requantizes).
    use_ort: Signal<Local, Bit>,
}

impl Default for Requant {
    fn default() -> Self {
        block_with_defaults!(Requant {
            o_valid: crate::vec_of(ORT_REQUANT_STAGES),
            o_idx: crate::vec_of(ORT_REQUANT_STAGES),
        } defaults {
            clock, in_valid, in_idx, in_acc, set, out_valid, out_idx,
            out_data, s1_valid, s1_idx, s1_acc, s1_plo, s1_phi, s1b_valid, s1b_idx, s1b_acc, s1b_plo, s1b_phi, s2a_valid, s2a_idx, s2a_acc, s2a_rounded, rc_pos,
            rc_neg, rc_now, rc_r, rc_neg_hi, s2_valid, s2_idx, s2_acc, s2_y, s3a_valid, s3a_idx, s3a_acc, s3a_low,
            s3a_inrange, s3a_neg, s3_valid, s3_idx, s3_data, prod, rounded, shifted, zp11, y11, y_small, clamped,
            act, ortq, o_data, use_ort,
        })
    }
}

impl Logic for Requant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_valid, s1_idx, s1_acc, s1b_valid, s1b_idx, s1b_acc, s1b_plo, s1b_phi, s2a_valid, s2a_idx, s2a_acc,
            s2a_rounded, rc_r, rc_pos, rc_neg, s2_valid, s2_idx, s2_acc, s2_y, s3a_valid, s3a_idx, s3a_acc, s3a_low, s3a_inrange,
            s3a_neg, s3_valid, s3_idx, s3_data, o_data
        );
        // Stage 1: the two 16×16 partial products.
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_idx.d.next = self.in_idx.val();
        self.s1_acc.d.next = self.in_acc.val();
        self.s1_plo.clock.next = self.clock.val();
        self.s1_plo.a.next = self.in_acc.val().get_bits::<16>(0);
        self.s1_plo.b.next = self.set.mult.val();
        self.s1_phi.clock.next = self.clock.val();
        self.s1_phi.a.next = self.in_acc.val().get_bits::<16>(16);
        self.s1_phi.b.next = self.set.mult.val();
        // Stage 1b: out of the DSP blocks into fabric registers.
        self.s1b_valid.d.next = self.s1_valid.q.val();
        self.s1b_idx.d.next = self.s1_idx.q.val();
        self.s1b_acc.d.next = self.s1_acc.q.val();
        self.s1b_plo.d.next = self.s1_plo.p.val();
        self.s1b_phi.d.next = self.s1_phi.p.val();
        // Stage 2: 64-bit product, rounding, arithmetic shift.
        if self.set.shift.val().any() {
            self.rc_now.next = bits::<64>(1) << (self.set.shift.val() - 1);
        } else {
            self.rc_now.next = 0.into();
        }
        self.rc_r.d.next = self.rc_now.val();
        self.rc_pos.d.next = self.rc_r.q.val();
        self.rc_neg_hi.next = self.rc_r.q.val().get_bits::<32>(32) - bit_cast::<32, 16>(self.set.mult.val());
        self.rc_neg.d.next = (bit_cast::<64, 32>(self.rc_neg_hi.val()) << 32) | bit_cast::<64, 32>(self.rc_r.q.val().get_bits::<32>(0));
        self.prod.next = (bit_cast::<64, 32>(self.s1b_phi.q.val()) << 16) + bit_cast::<64, 32>(self.s1b_plo.q.val());
        if self.s1b_acc.q.val().get_bit(31) {
            self.rounded.next = self.prod.val() + self.rc_neg.q.val();
        } else {
            self.rounded.next = self.prod.val() + self.rc_pos.q.val();
        }
        self.s2a_valid.d.next = self.s1b_valid.q.val();
        self.s2a_idx.d.next = self.s1b_idx.q.val();
        self.s2a_acc.d.next = self.s1b_acc.q.val();
        self.s2a_rounded.d.next = self.rounded.val();
        // Stage 2b: arithmetic shift.
        if self.s2a_rounded.q.val().get_bit(63) {
            self.shifted.next = !((!self.s2a_rounded.q.val()) >> self.set.shift.val());
        } else {
            self.shifted.next = self.s2a_rounded.q.val() >> self.set.shift.val();
        }
        self.s2_valid.d.next = self.s2a_valid.q.val();
        self.s2_idx.d.next = self.s2a_idx.q.val();
        self.s2_acc.d.next = self.s2a_acc.q.val();
        self.s2_y.d.next = self.shifted.val();
        // Stage 3a: zero point, and the int8 range test.
        if self.set.zp.val().get_bit(7) {
            // Sign extension by subtraction: `!bit_cast(!x)` would differ in Verilog, where the
            // inner `~` is evaluated at the context width (found by the Icarus/Verilator replay).
            self.zp11.next = bit_cast::<11, 8>(self.set.zp.val()) - bits::<11>(0x100);
        } else {
            self.zp11.next = bit_cast::<11, 8>(self.set.zp.val());
        }
        self.y11.next = self.s2_y.q.val().get_bits::<11>(0) + self.zp11.val();
        self.y_small.next = self.s2_y.q.val().get_bits::<55>(9).all() | !self.s2_y.q.val().get_bits::<55>(9).any();
        self.s3a_valid.d.next = self.s2_valid.q.val();
        self.s3a_idx.d.next = self.s2_idx.q.val();
        self.s3a_acc.d.next = self.s2_acc.q.val();
        self.s3a_low.d.next = self.y11.val().get_bits::<8>(0);
        // In int8 range iff the sum's bits 63..7 are all equal: the shifted value is small and
        // the 11-bit sum's bits 10..7 are equal. Otherwise the sum has the shifted value's sign.
        self.s3a_inrange.d.next = self.y_small.val()
            & (self.y11.val().get_bits::<4>(7).all() | !self.y11.val().get_bits::<4>(7).any());
        if self.y_small.val() {
            self.s3a_neg.d.next = self.y11.val().get_bit(10);
        } else {
            self.s3a_neg.d.next = self.s2_y.q.val().get_bit(63);
        }
        // Stage 3: clamp, relu, sign extension.
        if self.s3a_inrange.q.val() {
            self.clamped.next = self.s3a_low.q.val();
        } else if self.s3a_neg.q.val() {
            self.clamped.next = bits::<8>(0x80);
        } else {
            self.clamped.next = bits::<8>(0x7F);
        }
        // Signed compare as unsigned with the sign bits flipped.
        if self.set.relu.val() & ((self.clamped.val() ^ 0x80) < (self.set.zp.val() ^ 0x80)) {
            self.act.next = self.set.zp.val();
        } else {
            self.act.next = self.clamped.val();
        }
        // ONNX Runtime's pipeline beside: its valid flags and indices follow it.
        self.ortq.clock.next = self.clock.val();
        self.ortq.acc.next = self.in_acc.val();
        self.ortq.s_sig.next = self.set.s_sig.val();
        self.ortq.s_exp.next = self.set.s_exp.val();
        self.ortq.zp.next = self.set.zp.val();
        self.ortq.relu.next = self.set.relu.val();
        self.o_valid[0].clock.next = self.clock.val();
        self.o_idx[0].clock.next = self.clock.val();
        self.o_valid[0].d.next = self.in_valid.val();
        self.o_idx[0].d.next = self.in_idx.val();
        for i in 1..self.o_valid.len() {
            self.o_valid[i].clock.next = self.clock.val();
            self.o_idx[i].clock.next = self.clock.val();
            self.o_valid[i].d.next = self.o_valid[i - 1].q.val();
            self.o_idx[i].d.next = self.o_idx[i - 1].q.val();
        }
        if self.ortq.y.val().get_bit(7) {
            self.o_data.d.next = bit_cast::<32, 8>(self.ortq.y.val()) - bits::<32>(0x100);
        } else {
            self.o_data.d.next = bit_cast::<32, 8>(self.ortq.y.val());
        }
        self.s3_valid.d.next = self.s3a_valid.q.val();
        self.s3_idx.d.next = self.s3a_idx.q.val();
        if self.set.en.val() {
            if self.act.val().get_bit(7) {
                self.s3_data.d.next = bit_cast::<32, 8>(self.act.val()) - bits::<32>(0x100);
            } else {
                self.s3_data.d.next = bit_cast::<32, 8>(self.act.val());
            }
        } else {
            self.s3_data.d.next = self.s3a_acc.q.val();
        }
        // The mode is a parameter register, stable while values flow.
        self.use_ort.next = self.set.ort.val() & self.set.en.val();
        if self.use_ort.val() {
            for last in (ORT_REQUANT_STAGES - 1)..ORT_REQUANT_STAGES {
                self.out_valid.next = self.o_valid[last].q.val();
                self.out_idx.next = self.o_idx[last].q.val();
            }
            self.out_data.next = self.o_data.q.val();
        } else {
            self.out_valid.next = self.s3_valid.q.val();
            self.out_idx.next = self.s3_idx.q.val();
            self.out_data.next = self.s3_data.q.val();
        }
    }
}

crate::clocked!(Requant);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use accelgen_golden::{requantize, Requant as Q};

    #[test]
    /// Both modes: the multiplier and shift, and ONNX Runtime's (one case in three).
    fn requant_is_bit_exact_with_golden_on_random_and_extreme_values() {
        let mut rng = Rng::from_env("requant", 7);
        let mut h = Harness::new(Requant::default()).unwrap();
        let extremes = [i32::MIN, i32::MAX, 0, -1, 1, 127, -128, 128, -129, 1 << 30, -(1 << 30)];
        let mut cases = vec![];
        for i in 0..3000 {
            let acc = if i < 200 {
                extremes[i % extremes.len()]
            } else {
                match rng.below(3) {
                    0 => rng.next() as i32,
                    1 => rng.range(-70000, 70000) as i32,
                    _ => rng.range(-300, 300) as i32,
                }
            };
            let q = Q {
                multiplier: if i % 7 == 0 { 32767 } else { rng.range(0, 32767) as i32 },
                shift: if i % 11 == 0 { 47 } else { rng.range(0, 47) as u32 },
                zero_point: rng.range(-128, 127) as i32,
                relu: rng.below(2) == 1,
                // One case in three in ONNX Runtime's mode, scales from 2^-40 to 2^3.
                ort: (rng.below(3) == 0).then(|| {
                    accelgen_golden::OrtScale::of(f32::from_bits(0x2B80_0000 + rng.below(0x1A00_0000) as u32)).unwrap()
                }),
            };
            cases.push((acc, q, rng.below(4) != 0));
        }
        // Parameters are registers in the engine, written before a run: set each case's a cycle
        // before its value and hold them for the whole pipeline.
        for (n, (acc, q, en)) in cases.iter().enumerate() {
            let u = &mut h.uut;
            u.in_valid.next = false;
            u.set.en.next = *en;
            u.set.mult.next = (q.multiplier as u64).into();
            u.set.shift.next = (q.shift as u64).into();
            u.set.zp.next = (q.zero_point as u8 as u64).into();
            u.set.relu.next = q.relu;
            u.set.ort.next = q.ort.is_some();
            let o = q.ort.unwrap_or(accelgen_golden::OrtScale { sig: 0, exp: 0 });
            u.set.s_sig.next = (o.sig as u64).into();
            u.set.s_exp.next = (o.exp as u8 as u64).into();
            h.step().unwrap();
            let u = &mut h.uut;
            u.in_valid.next = true;
            u.in_idx.next = (n as u64).into();
            u.in_acc.next = (*acc as u32 as u64).into();
            let stages = if q.ort.is_some() && *en { ORT_REQUANT_STAGES } else { REQUANT_STAGES };
            for _ in 0..stages {
                h.step().unwrap();
            }
            h.settle().unwrap();
            let u = &h.uut;
            assert!(u.out_valid.val());
            assert_eq!(u.out_idx.val().index(), n);
            let want = if *en { requantize(*acc, q) as i32 } else { *acc };
            assert_eq!(u.out_data.val().index() as u32 as i32, want, "acc {acc}, {q:?}, en {en}");
        }
    }
}
