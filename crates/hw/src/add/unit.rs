//! # AddUnit: ONNX Runtime's quantized element-wise Add, one element per cycle
//!
//! `y = max(clamp(cvt(fma(a, r_a, fma(b, r_b, fixed))), −128, 127), qmin)` for int8 operands
//! `a`, `b`: QLinearAdd's AVX2 kernel as measured on ONNX Runtime (docs/arithmetic.md,
//! "Element-wise add"; [`QAdd::fused`](accelgen_golden::ort_add::QAdd::fused)). `cvt` is
//! `_mm256_cvtps_epi32`: round half to even, and a float32 at or past 2^31 in magnitude gives
//! int32's minimum, so −128. The constants are float32 bit patterns written by the compiler
//! ([`QAdd::unit_constants`](accelgen_golden::ort_add::QAdd::unit_constants)), stable while
//! elements flow:
//! - the inner [`IntFma`] computes `fma(b, r_b, fixed)`, the outer `fma(a, r_a, ·)` with `a`
//!   delayed to meet it;
//! - o1: the float32 `±m · 2^e` to an integer magnitude: `e ≥ 8` is int32's minimum, `e ≥ −16`
//!   (at least 2^23 · 2^−16 = 128) saturates, `e < −25` is below a half; else `m` shifted right by
//!   `−e` (17 to 25 places), ties to even;
//! - o2: the sign, the clamp to int8 and the lower bound `qmin` (a fused ReLU's zero point).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `a`, `b`, `valid` | in | 8, 8, 1 | operands (int8), they are an element |
//! | `ra`, `rb`, `fixed` | in | 32 each | float32 bits of `r_a`, `r_b` (normal) and `fixed` (normal or zero) |
//! | `qmin` | in | 8 | lowest output (int8) |
//! | `y`, `y_valid` | out | 8, 1 | the sum (int8), [`ADD_UNIT_REGS`] cycles after its operands |

use crate::add::fma::{IntFma, FMA_REGS};
use rust_hdl::prelude::*;

/// Registers between the operands and `y`.
pub const ADD_UNIT_REGS: usize = 2 * FMA_REGS + 2;

/// The element-wise add unit.
#[derive(LogicBlock)]
pub struct AddUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// First operand (int8).
    pub a: Signal<In, Bits<8>>,
    /// Second operand (int8).
    pub b: Signal<In, Bits<8>>,
    /// The operands are an element.
    pub valid: Signal<In, Bit>,
    /// float32 bits of `r_a`.
    pub ra: Signal<In, Bits<32>>,
    /// float32 bits of `r_b`.
    pub rb: Signal<In, Bits<32>>,
    /// float32 bits of `fixed`.
    pub fixed: Signal<In, Bits<32>>,
    /// Lowest output (int8).
    pub qmin: Signal<In, Bits<8>>,
    /// The sum (int8).
    pub y: Signal<Out, Bits<8>>,
    /// `y` is an element's sum.
    pub y_valid: Signal<Out, Bit>,
    inner: IntFma,
    outer: IntFma,
    /// `a`, delayed to meet the inner result; `valid`, delayed to `y`.
    a_dly: Vec<DFF<Bits<8>>>,
    v_dly: Vec<DFF<Bit>>,
    /// o1: the integer magnitude and its class.
    k: Signal<Local, Bits<10>>,
    eb: Signal<Local, Bits<10>>,
    sh: Signal<Local, Bits<10>>,
    t: Signal<Local, Bits<24>>,
    lost: Signal<Local, Bits<24>>,
    o1_mag: DFF<Bits<8>>,
    o1_neg: DFF<Bit>,
    o1_zero: DFF<Bit>,
    o1_sat: DFF<Bit>,
    o1_min: DFF<Bit>,
    /// o2: the int8 result.
    y8: Signal<Local, Bits<8>>,
    o2_y: DFF<Bits<8>>,
}

impl Default for AddUnit {
    fn default() -> Self {
        block_with_defaults!(AddUnit {
            a_dly: crate::vec_of(FMA_REGS),
            v_dly: crate::vec_of(ADD_UNIT_REGS),
        } defaults {
            clock, a, b, valid, ra, rb, fixed, qmin, y, y_valid, inner, outer,
            k, eb, sh, t, lost, o1_mag, o1_neg, o1_zero, o1_sat, o1_min, y8, o2_y,
        })
    }
}

impl Logic for AddUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, o1_mag, o1_neg, o1_zero, o1_sat, o1_min, o2_y);
        for i in 0..self.a_dly.len() {
            self.a_dly[i].clock.next = self.clock.val();
        }
        for i in 0..self.v_dly.len() {
            self.v_dly[i].clock.next = self.clock.val();
        }
        // The delay lines; each loop's last pass connects the line's end (rust-hdl's Verilog
        // takes an index computed from the vector's length, not a named constant).
        self.a_dly[0].d.next = self.a.val();
        self.v_dly[0].d.next = self.valid.val();
        for i in 1..self.a_dly.len() {
            self.a_dly[i].d.next = self.a_dly[i - 1].q.val();
        }
        for i in 0..self.a_dly.len() {
            self.outer.x.next = self.a_dly[i].q.val();
        }
        for i in 1..self.v_dly.len() {
            self.v_dly[i].d.next = self.v_dly[i - 1].q.val();
        }
        for i in 0..self.v_dly.len() {
            self.y_valid.next = self.v_dly[i].q.val();
        }
        self.inner.clock.next = self.clock.val();
        self.outer.clock.next = self.clock.val();

        // The constants' parts: significand with its hidden bit, exponent of its lowest bit
        // (biased exponent − 150), zero for a zero exponent field (no subnormals reach here).
        self.inner.x.next = self.b.val();
        self.inner.r_sig.next = bit_cast::<24, 23>(self.rb.val().get_bits::<23>(0)) | bits::<24>(0x80_0000);
        self.inner.r_neg.next = self.rb.val().get_bit(31);
        self.inner.r_exp.next = bit_cast::<10, 8>(self.rb.val().get_bits::<8>(23)) - bits::<10>(150);
        self.inner.c_neg.next = self.fixed.val().get_bit(31);
        self.inner.c_zero.next = !self.fixed.val().get_bits::<8>(23).any();
        self.inner.c_sig.next = bit_cast::<24, 23>(self.fixed.val().get_bits::<23>(0)) | bits::<24>(0x80_0000);
        self.inner.c_exp.next = bit_cast::<10, 8>(self.fixed.val().get_bits::<8>(23)) - bits::<10>(150);
        self.outer.r_sig.next = bit_cast::<24, 23>(self.ra.val().get_bits::<23>(0)) | bits::<24>(0x80_0000);
        self.outer.r_neg.next = self.ra.val().get_bit(31);
        self.outer.r_exp.next = bit_cast::<10, 8>(self.ra.val().get_bits::<8>(23)) - bits::<10>(150);
        self.outer.c_neg.next = self.inner.neg.val();
        self.outer.c_zero.next = self.inner.zero.val();
        self.outer.c_sig.next = self.inner.sig.val();
        self.outer.c_exp.next = self.inner.exp.val();

        // ---- o1: classes by the exponent (two's complement): e ≥ 8, e ≥ −16, e ≤ −26.
        // Compared with the sign bit flipped (offset binary: 0x200 is e = 0).
        self.k.next = bits::<10>(0) - self.outer.exp.val();
        self.eb.next = self.outer.exp.val() ^ 0x200;
        self.o1_min.d.next = !self.outer.zero.val() & (self.eb.val() >= bits::<10>(0x208));
        self.o1_sat.d.next = !self.outer.zero.val() & (self.eb.val() >= bits::<10>(0x1F0));
        self.o1_zero.d.next = self.outer.zero.val() | (self.eb.val() <= bits::<10>(0x1E6));
        self.o1_neg.d.next = self.outer.neg.val();
        // For −e in 17..=25: m >> (−e − 17) (0..=8 places, the lost bits sticky), then the
        // integer is bits 23..17 and bits 16..0 with the sticky bit round it.
        self.sh.next = (self.k.val() - 17) & 15;
        self.t.next = self.outer.sig.val() >> self.sh.val();
        self.lost.next = self.outer.sig.val() & ((bits::<24>(1) << self.sh.val()) - 1);
        self.o1_mag.d.next = bit_cast::<8, 7>(self.t.val().get_bits::<7>(17));
        if self.t.val().get_bit(16) & (self.t.val().get_bits::<16>(0).any() | self.lost.val().any() | self.t.val().get_bit(17)) {
            self.o1_mag.d.next = bit_cast::<8, 7>(self.t.val().get_bits::<7>(17)) + bits::<8>(1);
        }

        // ---- o2: sign, clamp, lower bound (signed compare: the sign bits flipped).
        if self.o1_min.q.val() {
            self.y8.next = bits::<8>(0x80);
        } else if self.o1_sat.q.val() {
            if self.o1_neg.q.val() {
                self.y8.next = bits::<8>(0x80);
            } else {
                self.y8.next = bits::<8>(0x7F);
            }
        } else if self.o1_zero.q.val() {
            self.y8.next = bits::<8>(0);
        } else if self.o1_neg.q.val() {
            self.y8.next = bits::<8>(0) - self.o1_mag.q.val();
        } else if self.o1_mag.q.val().get_bit(7) {
            self.y8.next = bits::<8>(0x7F);
        } else {
            self.y8.next = self.o1_mag.q.val();
        }
        self.o2_y.d.next = self.y8.val();
        if (self.y8.val() ^ 0x80) < (self.qmin.val() ^ 0x80) {
            self.o2_y.d.next = self.qmin.val();
        }
        self.y.next = self.o2_y.q.val();
    }
}

crate::clocked!(AddUnit);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use accelgen_golden::ort_add::QAdd;

    /// Streams `(params, a, b)` elements, holding each parameter set for its elements and
    /// letting the pipeline drain between sets (the constants are stable while elements flow);
    /// returns `y` per element.
    pub(crate) fn run(elements: &[(QAdd, i8, i8)]) -> Vec<i8> {
        let mut h = Harness::new(AddUnit::default()).unwrap();
        let mut got = vec![];
        let mut i = 0;
        let mut idle = 0;
        while got.len() < elements.len() {
            let cur = elements.get(i);
            // a new parameter set waits for the previous elements to leave the pipeline
            let next_params = cur.map(|e| e.0);
            let prev_params = i.checked_sub(1).map(|j| elements[j].0);
            let feed = match (next_params, prev_params) {
                (Some(n), Some(p)) if n != p => idle >= ADD_UNIT_REGS,
                (Some(_), _) => true,
                _ => false,
            };
            let u = &mut h.uut;
            if feed {
                let (q, a, b) = elements[i];
                let c = q.unit_constants().unwrap();
                u.ra.next = (c.ra_bits as u64).into();
                u.rb.next = (c.rb_bits as u64).into();
                u.fixed.next = (c.fixed_bits as u64).into();
                u.qmin.next = (c.qmin as u8 as u64).into();
                u.a.next = (a as u8 as u64).into();
                u.b.next = (b as u8 as u64).into();
                u.valid.next = true;
                i += 1;
                idle = 0;
            } else {
                u.valid.next = false;
                idle += 1;
            }
            h.step().unwrap();
            if h.uut.y_valid.val() {
                got.push(h.uut.y.val().index() as u8 as i8);
            }
            assert!(idle < 10 * ADD_UNIT_REGS, "the unit stopped giving results");
        }
        got
    }

    fn random_params(rng: &mut Rng, dyadic: bool) -> QAdd {
        let s = |rng: &mut Rng| {
            if dyadic {
                2f32.powi(rng.range(-6, 2) as i32)
            } else {
                2f32.powi(rng.range(-10, 1) as i32) * (1.0 + rng.below(1 << 20) as f32 / (1 << 20) as f32)
            }
        };
        let relu = rng.below(3) == 0;
        let y_zp = rng.range(-128, 127) as i32;
        QAdd {
            a_scale: s(rng),
            a_zp: rng.range(-128, 127) as i32,
            b_scale: s(rng),
            b_zp: rng.range(-128, 127) as i32,
            y_scale: s(rng),
            y_zp,
            qmin: if relu { y_zp } else { -128 },
        }
    }

    /// Against the golden model's float32 pipeline (`QAdd::fused`, itself equal to ONNX
    /// Runtime's outputs): every operand pair of two parameter sets, random pairs of 60 more,
    /// half of them with power-of-two scales (ties after the zero points), ReLU on a third, and
    /// the kernel's int32 overflow (a ratio of 2^25: −128 where a saturation gives 127).
    #[test]
    fn every_sum_equals_the_golden_fused_add() {
        let mut rng = Rng::from_env("add-unit", 3);
        let mut elements = vec![];
        for s in 0..2 {
            let q = random_params(&mut rng, s == 1);
            for a in -128..=127 {
                for b in -128..=127 {
                    elements.push((q, a as i8, b as i8));
                }
            }
        }
        for s in 0..60 {
            let q = random_params(&mut rng, s % 2 == 0);
            for _ in 0..300 {
                elements.push((q, rng.range(-128, 127) as i8, rng.range(-128, 127) as i8));
            }
        }
        let big = QAdd { a_scale: 1.0, a_zp: 0, b_scale: 1.0, b_zp: 0, y_scale: 2f32.powi(-25), y_zp: 0, qmin: -128 };
        for a in [-128, -65, -64, -1, 0, 1, 63, 64, 127] {
            elements.push((big, a, 0));
        }
        let got = run(&elements);
        let mut bad = vec![];
        for ((q, a, b), y) in elements.iter().zip(&got) {
            if *y != q.fused(*a, *b) {
                bad.push(format!("{q:?} a {a} b {b}: unit {y}, golden {}", q.fused(*a, *b)));
            }
        }
        assert!(bad.is_empty(), "{} of {} differ:\n{}", bad.len(), elements.len(), bad[..bad.len().min(8)].join("\n"));
        // the overflow case is in the set: 64 · 2^25 = 2^31
        assert_eq!(got[got.len() - 2], -128, "a 2^31 sum gives int32's minimum, so −128");
        assert_eq!(got[got.len() - 3], 127);
    }
    /// Against ONNX Runtime's own outputs: every row of `testbenches/onnx/add_vectors.npy`
    /// (QLinearAdd on this machine, 456 parameter sets, written by `testbenches/ort_add.py`),
    /// whose scale ratios are all within the unit's range.
    #[test]
    fn every_sum_equals_onnx_runtimes_qlinearadd() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx");
        let t = accelgen_formats::parse_tensor::<i32>(&serde_json::Value::String("add_vectors.npy".into()), "add_vectors", &dir, Some(2))
            .unwrap()
            .require("add_vectors")
            .unwrap();
        let f = |v: i32| f32::from_bits(v as u32);
        let rows: Vec<&[i32]> = t.data.chunks(10).collect();
        let mut elements: Vec<(QAdd, i8, i8)> = rows
            .iter()
            .map(|r| {
                let q = QAdd { a_scale: f(r[2]), a_zp: r[3], b_scale: f(r[4]), b_zp: r[5], y_scale: f(r[6]), y_zp: r[7], qmin: -128 };
                (q, r[0] as i8, r[1] as i8)
            })
            .collect();
        let mut order: Vec<usize> = (0..elements.len()).collect();
        order.sort_by_key(|&i| (rows[i][2..8].to_vec(), i)); // one parameter set after the other
        elements = order.iter().map(|&i| elements[i]).collect();
        assert!(elements.len() >= 5_000, "{} rows", elements.len());
        let got = run(&elements);
        let bad: Vec<String> = order
            .iter()
            .zip(&got)
            .filter(|(&i, &y)| y as i32 != rows[i][8])
            .map(|(&i, y)| format!("row {i} {:?}: unit {y}", rows[i]))
            .collect();
        assert!(bad.is_empty(), "{} of {} differ from ONNX Runtime:\n{}", bad.len(), rows.len(), bad[..bad.len().min(8)].join("\n"));
    }
}
