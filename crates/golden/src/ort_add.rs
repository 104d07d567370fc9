//! ONNX's quantized element-wise Add as ONNX Runtime's x86-64 CPU kernels compute it: the
//! reference for imported residual adds (issue #30; docs/arithmetic.md, "Element-wise add").
//!
//! ONNX Runtime runs a quantized Add in one of two ways, and they differ on some elements
//! (`testbenches/ort_add.py` measures both on this machine's ONNX Runtime):
//! - **fused** ([`QAdd::fused`]): QLinearAdd (com.microsoft), which its QDQ transformer also makes
//!   of DequantizeLinear → Add → QuantizeLinear. The AVX2 kernel folds the zero points into one
//!   float32 constant and adds each operand with a fused multiply-add;
//! - **unfused** ([`QAdd::unfused`]): DequantizeLinear of each operand, a float32 Add,
//!   QuantizeLinear, where ONNX Runtime leaves the nodes as they are.
//!
//! Both are exact functions of the int8 operands and the float32 parameters: Rust's `f32`
//! arithmetic is IEEE 754 binary32 rounded to nearest even and `f32::mul_add` rounds once, as
//! the x86-64 instructions do.

use crate::TensorI8;

/// A quantized element-wise Add: each operand's and the output's scale and zero point (int8
/// domain), and the lowest output (−128, or the output zero point for a fused ReLU).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QAdd {
    /// Scale of the first operand.
    pub a_scale: f32,
    /// Zero point of the first operand.
    pub a_zp: i32,
    /// Scale of the second operand.
    pub b_scale: f32,
    /// Zero point of the second operand.
    pub b_zp: i32,
    /// Scale of the output.
    pub y_scale: f32,
    /// Zero point of the output.
    pub y_zp: i32,
    /// Smallest output: −128, or `y_zp` where a ReLU follows (`max(y, y_zp)` is the quantized
    /// ReLU exactly, since rounding is monotone and 0 quantizes to `y_zp`).
    pub qmin: i32,
}

/// `_mm256_cvtps_epi32`: round half to even; a value outside int32 (or NaN) gives int32's
/// minimum, the "integer indefinite" value.
pub fn cvtps_epi32(v: f32) -> i32 {
    let r = v.round_ties_even();
    if (-2_147_483_648.0..2_147_483_648.0).contains(&r) {
        r as i32
    } else {
        i32::MIN
    }
}

impl QAdd {
    /// The float32 constants of the fused kernel: `(r_a, r_b, fixed)` with `r_a = sa / sy`,
    /// `r_b = sb / sy` and `fixed = f32(y_zp) − fma(r_a, a_zp, r_b · b_zp)` (the compiler of
    /// ONNX Runtime's kernel contracted `r_a·a_zp + r_b·b_zp` into one fused multiply-add:
    /// measured, the other orders differ on some elements).
    pub fn fused_constants(&self) -> (f32, f32, f32) {
        let ra = self.a_scale / self.y_scale;
        let rb = self.b_scale / self.y_scale;
        let fixed = self.y_zp as f32 - ra.mul_add(self.a_zp as f32, rb * self.b_zp as f32);
        (ra, rb, fixed)
    }

    /// One element as QLinearAdd's AVX2 kernel computes it:
    /// `t = fma(a, r_a, fma(b, r_b, fixed))`, then [`cvtps_epi32`] (so a sum past int32 gives
    /// −128, not 127) and the saturating packs to int8; then the ReLU's lower bound.
    pub fn fused(&self, a: i8, b: i8) -> i8 {
        let (ra, rb, fixed) = self.fused_constants();
        let t = (a as f32).mul_add(ra, (b as f32).mul_add(rb, fixed));
        let y = cvtps_epi32(t).clamp(-128, 127);
        y.max(self.qmin) as i8
    }

    /// One element through DequantizeLinear, a float32 Add and QuantizeLinear:
    /// `d = f32(x − zp) · scale` for each operand, `q = f32(d_a + d_b) / sy` clamped to
    /// `[−128 − y_zp, 127 − y_zp]` (NaN to the lower bound, as MAXPS does), rounded half to
    /// even, plus `y_zp`; then the ReLU's lower bound.
    pub fn unfused(&self, a: i8, b: i8) -> i8 {
        let da = (a as i32 - self.a_zp) as f32 * self.a_scale;
        let db = (b as i32 - self.b_zp) as f32 * self.b_scale;
        let q = (da + db) / self.y_scale;
        let lo = (-128 - self.y_zp) as f32;
        let hi = (127 - self.y_zp) as f32;
        let q = if q.is_nan() { lo } else { q.clamp(lo, hi) };
        let y = q.round_ties_even() as i32 + self.y_zp;
        y.max(self.qmin) as i8
    }
}

/// A finite float32 as `(sign · m) · 2^e` with `m` < 2^24 an integer (0 for ±0; subnormals
/// keep their exponent −149).
fn f32_parts(v: f32) -> (i64, i32) {
    let b = v.to_bits();
    let exp = ((b >> 23) & 0xFF) as i32;
    let frac = (b & 0x7F_FFFF) as i64;
    let (m, e) = if exp == 0 { (frac, -149) } else { (frac | 0x80_0000, exp - 150) };
    (if b >> 31 == 1 { -m } else { m }, e)
}

/// `|v| · 2^-d` rounded to the nearest integer, ties to even, for `d` ≥ 0 (`v` ≥ 0).
pub(crate) fn rne_shift128(v: u128, d: u32) -> u128 {
    if d == 0 {
        return v;
    }
    if d >= 128 {
        return 0;
    }
    let q = v >> d;
    let rem = v & ((1u128 << d) - 1);
    let half = 1u128 << (d - 1);
    if rem > half || (rem == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// The float32 of the exact value `s · 2^e` (round to nearest even, float32's subnormal
/// range, infinities past its largest), in integers.
fn round_to_f32(s: i128, e: i32) -> f32 {
    if s == 0 {
        return 0.0;
    }
    let (neg, a) = (s < 0, s.unsigned_abs());
    let n = 128 - a.leading_zeros() as i32;
    // Bits below the 24th significant one go, and none below 2^-149.
    let drop = (n - 24).max(-149 - e).max(0);
    let mut m = rne_shift128(a, drop as u32);
    let mut ex = e + drop;
    if m >> 24 != 0 {
        m >>= 1; // a rounding carry: 2^24 is 2^23 · 2, exact
        ex += 1;
    }
    let v = if m == 0 {
        0.0
    } else if ex + (128 - m.leading_zeros() as i32) > 128 {
        f32::INFINITY
    } else {
        // m < 2^24 and ex ≥ −149: exactly representable; scale in two steps to stay normal.
        let (h, l) = (ex / 2, ex - ex / 2);
        m as f32 * 2f32.powi(h) * 2f32.powi(l)
    };
    if neg {
        -v
    } else {
        v
    }
}

/// `fma(x, r, c)` for an integer `x` (|x| < 2^9) and finite float32 `r`, `c`, in integers: the
/// product `x · m_r · 2^e_r` is exact; the two terms are aligned at the smaller exponent (a term
/// more than 62 binary places below the other's lowest bit only decides ties and direction, so
/// it stands in as one unit there), summed, and rounded once to float32.
fn fma_int(x: i32, r: f32, c: f32) -> f32 {
    let (mr, er) = f32_parts(r);
    let (mc, ec) = f32_parts(c);
    let p = x as i64 * mr;
    if p == 0 {
        return round_to_f32(mc as i128, ec);
    }
    if mc == 0 {
        return round_to_f32(p as i128, er);
    }
    const GAP: i32 = 62;
    let (e0, s) = if (er - ec).abs() <= GAP {
        let e0 = er.min(ec);
        (e0, ((p as i128) << (er - e0)) + ((mc as i128) << (ec - e0)))
    } else if er > ec {
        (er - GAP, ((p as i128) << GAP) + mc.signum() as i128)
    } else {
        (ec - GAP, ((mc as i128) << GAP) + p.signum() as i128)
    };
    round_to_f32(s, e0)
}

impl QAdd {
    /// [`QAdd::fused`] with the two fused multiply-adds computed in integers ([`fma_int`]): the
    /// form a hardware add unit computes, equal to the float pipeline (tests below).
    pub fn fused_int(&self, a: i8, b: i8) -> i8 {
        let (ra, rb, fixed) = self.fused_constants();
        let t = fma_int(a as i32, ra, fma_int(b as i32, rb, fixed));
        let y = cvtps_epi32(t).clamp(-128, 127);
        y.max(self.qmin) as i8
    }
}

/// The constants a hardware add unit takes (`crates/hw/src/add/`): `r_a`, `r_b` and `fixed` of
/// [`QAdd::fused_constants`] as float32 bit patterns, and the lowest output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddUnitConstants {
    /// `r_a = sa / sy`, float32 bits.
    pub ra_bits: u32,
    /// `r_b = sb / sy`, float32 bits.
    pub rb_bits: u32,
    /// `fixed = f32(y_zp) − fma(r_a, a_zp, r_b · b_zp)`, float32 bits.
    pub fixed_bits: u32,
    /// The lowest output (−128, or the output zero point under a fused ReLU).
    pub qmin: i8,
}

impl AddUnitConstants {
    /// One element as the add unit computes it from its constants alone (what the program
    /// carries: `ACT_ADDK`, `ACT_ADD`): `fma(a, r_a, fma(b, r_b, fixed))` rounded once each, then
    /// [`cvtps_epi32`], the clamp to int8 and the lower bound; [`QAdd::fused`] for constants of
    /// [`QAdd::unit_constants`].
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        let (ra, rb, fixed) = (f32::from_bits(self.ra_bits), f32::from_bits(self.rb_bits), f32::from_bits(self.fixed_bits));
        let t = (a as f32).mul_add(ra, (b as f32).mul_add(rb, fixed));
        cvtps_epi32(t).clamp(-128, 127).max(i32::from(self.qmin)) as i8
    }
}

/// The range of the scale ratios `sa / sy` and `sb / sy` the hardware add unit computes exactly:
/// `[2^-RATIO_EXP_LIMIT, 2^RATIO_EXP_LIMIT]`.
pub const RATIO_EXP_LIMIT: i32 = 32;

impl QAdd {
    /// The hardware add unit's constants, or why it cannot compute this Add exactly. The unit's
    /// exponent fields are 10 bits wide and it takes normal float32 operands only: with both
    /// ratios within `2^±32` every value of the two fused multiply-adds is zero or a normal
    /// float32 of magnitude between 2^-78 and 2^48 (each is a float32 sum of terms whose lowest
    /// bit is at least 2^-55), so those fields never overflow. Real quantized models have ratios
    /// near 1 (2^±10 is already extreme).
    pub fn unit_constants(&self) -> Result<AddUnitConstants, String> {
        let (ra, rb, fixed) = self.fused_constants();
        let lo = 2f32.powi(-RATIO_EXP_LIMIT);
        let hi = 2f32.powi(RATIO_EXP_LIMIT);
        for (name, v) in [("a_scale / y_scale", ra), ("b_scale / y_scale", rb)] {
            if !(lo..=hi).contains(&v) {
                return Err(format!("{name} is {v:e}; the hardware add unit takes scale ratios from 2^-{RATIO_EXP_LIMIT} to 2^{RATIO_EXP_LIMIT}"));
            }
        }
        let qmin = self.qmin.clamp(-128, 127);
        if !(-128..=127).contains(&self.a_zp) || !(-128..=127).contains(&self.b_zp) || !(-128..=127).contains(&self.y_zp) {
            return Err(format!("zero points {}, {}, {} must be int8 (-128 to 127)", self.a_zp, self.b_zp, self.y_zp));
        }
        Ok(AddUnitConstants { ra_bits: ra.to_bits(), rb_bits: rb.to_bits(), fixed_bits: fixed.to_bits(), qmin: qmin as i8 })
    }
}

/// Which of ONNX Runtime's two ways an Add is computed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddWay {
    /// QLinearAdd's kernel ([`QAdd::fused`]).
    Fused,
    /// DequantizeLinear → Add → QuantizeLinear ([`QAdd::unfused`]).
    Unfused,
}

/// The element-wise Add of two tensors of the same shape.
pub fn qadd(a: &TensorI8, b: &TensorI8, p: &QAdd, way: AddWay) -> Result<TensorI8, String> {
    if a.shape != b.shape {
        return Err(format!("an element-wise add needs operands of one shape, got {:?} and {:?}", a.shape, b.shape));
    }
    let f = match way {
        AddWay::Fused => QAdd::fused,
        AddWay::Unfused => QAdd::unfused,
    };
    let data = a.data.iter().zip(&b.data).map(|(&x, &y)| f(p, x, y)).collect();
    Ok(TensorI8 { shape: a.shape.clone(), data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a_scale: f32, a_zp: i32, b_scale: f32, b_zp: i32, y_scale: f32, y_zp: i32) -> QAdd {
        QAdd { a_scale, a_zp, b_scale, b_zp, y_scale, y_zp, qmin: -128 }
    }

    #[test]
    fn add_worked_examples_from_the_arithmetic_doc() {
        // equal scales: the sum of the integers, saturated
        let one = p(1.0, 0, 1.0, 0, 1.0, 0);
        assert_eq!((one.fused(100, 20), one.unfused(100, 20)), (120, 120));
        assert_eq!((one.fused(100, 100), one.unfused(100, 100)), (127, 127));
        // halves round to even: 3·0.5 = 1.5 → 2, 5·0.5 = 2.5 → 2
        let half = p(0.5, 0, 1.0, 0, 1.0, 0);
        assert_eq!((half.fused(3, 0), half.fused(5, 0)), (2, 2));
        assert_eq!((half.unfused(3, 0), half.unfused(5, 0)), (2, 2));
        // zero points: (10 − 4)·0.5 + (−3 − 1)·1 = −1, plus the output's 7
        let zp = p(0.5, 4, 1.0, 1, 1.0, 7);
        assert_eq!((zp.fused(10, -3), zp.unfused(10, -3)), (6, 6));
        // a fused ReLU: (20 − 4)·0.5 − 4 = 4 stays (4 + 7 = 11); −1 is raised to 0 (7)
        let relu = QAdd { qmin: 7, ..zp };
        assert_eq!((relu.fused(20, -3), relu.fused(10, -3)), (11, 7));
        assert_eq!((relu.unfused(20, -3), relu.unfused(10, -3)), (11, 7));
    }

    #[test]
    fn the_fused_kernel_gives_minus_128_past_int32() {
        // r_a = 2^25: 64 · 2^25 = 2^31 is outside int32, which the conversion makes int32's
        // minimum: −128 where the float pipeline saturates to 127
        let big = p(1.0, 0, 1.0, 0, 2f32.powi(-25), 0);
        assert_eq!(big.fused(63, 0), 127);
        assert_eq!(big.fused(64, 0), -128);
        assert_eq!(big.unfused(64, 0), 127);
        assert_eq!(cvtps_epi32(f32::NAN), i32::MIN);
        assert_eq!(cvtps_epi32(-2_147_483_648.0), i32::MIN);
        assert_eq!(cvtps_epi32(2_147_483_520.0), 2_147_483_520);
    }

    #[test]
    fn the_zero_points_fold_with_one_fused_multiply_add() {
        // an element of testbenches/onnx/add_vectors.npy where the order of the fixed part
        // decides: ONNX Runtime gives 92; rounding r_a·a_zp before adding gives 91
        let q = p(1.951_589_8, -104, 1.087_534_5, 120, 1.478_103_9, 85);
        assert_eq!(q.fused(-1, -56), 92);
        let (ra, rb, _) = q.fused_constants();
        let plain = 85.0 - (ra * -104.0 + rb * 120.0);
        let t = (-1f32).mul_add(ra, (-56f32).mul_add(rb, plain));
        assert_eq!(cvtps_epi32(t), 91, "the example no longer separates the two orders");
    }

    /// The integer fused multiply-add equals `f32::mul_add` on random operands of every
    /// magnitude (exponent gaps past 62 places included, cancellations, subnormal addends), and
    /// the integer add equals the float one on random parameters and every operand pair.
    #[test]
    fn the_integer_fused_multiply_add_equals_the_float_one() {
        let mut rng = crate::testutil::Rng::from_env("fma_int", 32);
        let f = |rng: &mut crate::testutil::Rng| {
            let e = rng.range(-40, 40) as i32;
            let m = 1.0 + rng.below(1 << 23) as f32 / (1u32 << 23) as f32;
            let v = m * 2f32.powi(e);
            if rng.below(2) == 0 { v } else { -v }
        };
        for i in 0..400_000 {
            let x = rng.range(-256, 255) as i32;
            let r = f(&mut rng).abs();
            let c = match i % 7 {
                0 => 0.0,
                1 => -(x as f32) * r, // exact cancellation
                2 => f32::from_bits(rng.below(1 << 23) as u32), // subnormal
                _ => f(&mut rng),
            };
            let want = (x as f32).mul_add(r, c);
            assert_eq!(fma_int(x, r, c).to_bits(), want.to_bits(), "fma({x}, {r:e}, {c:e})");
        }
        for _ in 0..200 {
            let sc = 2f32.powi(rng.range(-12, 1) as i32) * (1.0 + rng.below(1000) as f32 / 1000.0);
            let q = QAdd {
                a_scale: sc * (0.2 + rng.below(1000) as f32 / 400.0),
                a_zp: rng.range(-128, 127) as i32,
                b_scale: sc * (0.2 + rng.below(1000) as f32 / 400.0),
                b_zp: rng.range(-128, 127) as i32,
                y_scale: sc * (0.5 + rng.below(1000) as f32 / 250.0),
                y_zp: rng.range(-128, 127) as i32,
                qmin: -128,
            };
            for a in -128..=127 {
                for b in (-128..=127).step_by(3) {
                    assert_eq!(q.fused_int(a, b), q.fused(a, b), "{q:?} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn the_unit_constants_refuse_ratios_past_its_exponent_range() {
        let ok = p(0.5, 3, 0.25, -2, 0.125, 1).unit_constants().unwrap();
        assert_eq!((f32::from_bits(ok.ra_bits), f32::from_bits(ok.rb_bits)), (4.0, 2.0));
        assert_eq!(f32::from_bits(ok.fixed_bits), 1.0 - (4.0 * 3.0 + 2.0 * -2.0));
        let edge = p(2f32.powi(32), 0, 1.0, 0, 1.0, 0).unit_constants();
        assert!(edge.is_ok(), "{edge:?}");
        let e = p(2f32.powi(33), 0, 1.0, 0, 1.0, 0).unit_constants().unwrap_err();
        assert!(e.contains("a_scale / y_scale") && e.contains("2^-32 to 2^32"), "{e}");
        let e = p(1.0, 0, 2f32.powi(-40), 0, 1.0, 0).unit_constants().unwrap_err();
        assert!(e.contains("b_scale / y_scale"), "{e}");
        let e = p(1.0, 200, 1.0, 0, 1.0, 0).unit_constants().unwrap_err();
        assert!(e.contains("int8"), "{e}");
    }

    /// The unit's constants alone (what a program carries) give QLinearAdd's result on every
    /// operand pair, ReLU bound included; a swapped operand order is another function.
    #[test]
    fn the_unit_constants_alone_compute_the_fused_add() {
        let mut rng = crate::testutil::Rng::from_env("add_apply", 33);
        let mut swapped_differs = false;
        for n in 0..40 {
            let q = QAdd {
                a_scale: 0.01 + rng.below(1000) as f32 / 20_000.0,
                a_zp: rng.range(-128, 127) as i32,
                b_scale: 0.01 + rng.below(1000) as f32 / 20_000.0,
                b_zp: rng.range(-128, 127) as i32,
                y_scale: 0.01 + rng.below(1000) as f32 / 20_000.0,
                y_zp: rng.range(-128, 127) as i32,
                qmin: -128,
            };
            let q = if n % 2 == 1 { QAdd { qmin: q.y_zp, ..q } } else { q };
            let k = q.unit_constants().unwrap();
            for a in -128..=127i8 {
                for b in (-128..=127i8).step_by(5) {
                    assert_eq!(k.apply(a, b), q.fused(a, b), "{q:?} {a} {b}");
                    swapped_differs |= k.apply(b, a) != q.fused(a, b);
                }
            }
        }
        assert!(swapped_differs, "the operand order matters on these parameters");
    }

    #[test]
    fn operands_of_different_shapes_are_refused() {
        let a = TensorI8 { shape: vec![2, 2], data: vec![0; 4] };
        let b = TensorI8 { shape: vec![4], data: vec![0; 4] };
        let e = qadd(&a, &b, &p(1.0, 0, 1.0, 0, 1.0, 0), AddWay::Fused).unwrap_err();
        assert!(e.contains("[2, 2]") && e.contains("[4]"), "{e}");
    }
}
