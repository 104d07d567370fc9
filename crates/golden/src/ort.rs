//! ONNX's quantized operators as ONNX Runtime's CPU kernels compute them (QLinearConv, QGemm,
//! QLinearMatMul, MaxPool on int8), the reference for imported models (docs/onnx.md).
//!
//! The accumulator is exact: `acc = bias + Σ (x − x_zp)·(w − w_zp)`, the input padded with its
//! zero point (so a padded tap adds nothing). Requantization is ONNX Runtime's float pipeline
//! (MlasRequantizeOutput): `y = clamp(round_half_even(f32(acc) · scale) + y_zp, qmin, qmax)`,
//! where `f32(acc)` rounds to nearest even above 2^24, the product is one float32 multiply
//! (round to nearest even) and `scale = f32(f32(x_scale · w_scale) / y_scale)`, computed once per
//! output channel. Rust's `f32` arithmetic is IEEE 754 binary32 with round to nearest even, as
//! the x86-64 SSE and AArch64 instructions ONNX Runtime uses, so these functions reproduce it bit
//! for bit. Activations are int8 here; uint8 tensors are moved to int8 by subtracting 128 from
//! values and zero points (exact: `x − x_zp` is unchanged).

use crate::{Tensor, TensorI32, TensorI8};

/// One output channel's requantization, as ONNX Runtime computes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrtRequant {
    /// `f32(f32(x_scale · w_scale) / y_scale)`.
    pub scale: f32,
    /// Output zero point (int8 domain).
    pub zero_point: i32,
    /// Smallest output (−128; the zero point after a fused ReLU).
    pub qmin: i32,
    /// Largest output (127).
    pub qmax: i32,
}

/// ONNX Runtime's output scale of a quantized convolution or matrix product.
pub fn ort_scale(x_scale: f32, w_scale: f32, y_scale: f32) -> f32 {
    x_scale * w_scale / y_scale
}

/// Rounds half to even, as `_mm_cvtps_epi32` and `vcvtnq_s32_f32` do (for values in int32's
/// range; larger ones saturate here, which the clamp that follows makes irrelevant).
pub fn round_half_even(v: f32) -> i64 {
    let r = v.round_ties_even();
    if r >= i32::MAX as f32 {
        i32::MAX as i64
    } else if r <= i32::MIN as f32 {
        i32::MIN as i64
    } else {
        r as i64
    }
}

/// One accumulator to its quantized output.
pub fn ort_requantize(acc: i32, q: &OrtRequant) -> i8 {
    let v = acc as f32 * q.scale;
    (round_half_even(v) + q.zero_point as i64).clamp(q.qmin as i64, q.qmax as i64) as i8
}

/// A positive normal float32 scale as `S · 2^e` with `S ∈ [2^23, 2^24)`: the form the hardware
/// requantizer takes (docs/onnx.md). `None` for zero, negative, subnormal, infinite or NaN scales.
pub fn scale_parts(scale: f32) -> Option<(u32, i32)> {
    let b = scale.to_bits();
    let exp = ((b >> 23) & 0xFF) as i32;
    if b >> 31 != 0 || exp == 0 || exp == 0xFF {
        return None;
    }
    Some(((b & 0x7F_FFFF) | 0x80_0000, exp - 127 - 23))
}

/// Rounds `v · 2^-d` (d ≥ 0) to the nearest integer, ties to even, in integers.
fn rne_shift(v: u64, d: u32) -> u64 {
    if d >= 64 {
        return 0;
    }
    crate::ort_add::rne_shift128(u128::from(v), d) as u64
}

/// [`ort_requantize`] in integers only, as the hardware computes it: `|acc|` normalized to a
/// 24-bit significand `A` (rounded to nearest even when it has more than 24 significant bits:
/// float32 of the accumulator), the 48-bit product `A · S` rounded to 24 bits (the float32
/// multiply), then shifted to an integer with round half to even; the sign, zero point and clamp
/// last. Equal to the float pipeline for every accumulator and every positive normal scale
/// (tests below).
pub fn ort_requantize_int(acc: i32, s_sig: u32, s_exp: i32, zero_point: i32, qmin: i32, qmax: i32) -> i8 {
    let clamp = |v: i64| v.clamp(qmin as i64, qmax as i64) as i8;
    let a = acc.unsigned_abs() as u64;
    if a == 0 {
        return clamp(zero_point as i64);
    }
    // float32(|acc|) = am · 2^ea, am ∈ [2^23, 2^24] (2^24 after a rounding carry).
    let n = 64 - a.leading_zeros() as i32; // significant bits, 1..=32
    let (am, ea) = if n <= 24 { (a << (24 - n), n - 24) } else { (rne_shift(a, (n - 24) as u32), n - 24) };
    // The product am · S in [2^46, 2^49), rounded to 24 significant bits.
    let p = am * s_sig as u64;
    let pn = 64 - p.leading_zeros() as i32;
    let pm = rne_shift(p, (pn - 24) as u32);
    // value = pm · 2^e, pm ≤ 2^24.
    let e = ea + s_exp + (pn - 24);
    let q = if e >= 0 {
        // At least 2^23: saturates whatever the zero point.
        i64::MAX / 2
    } else {
        rne_shift(pm, (-e) as u32) as i64
    };
    let signed = if acc < 0 { -q } else { q };
    clamp(signed + zero_point as i64)
}

/// Geometry of a quantized convolution: strides and `[top, left, bottom, right]` padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QConvGeometry {
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
}

/// Output height and width of a window over `[h, w]`, or an error.
pub fn window_out(hw: [usize; 2], k: [usize; 2], g: &QConvGeometry) -> Result<[usize; 2], String> {
    let mut out = [0; 2];
    for a in 0..2 {
        let padded = hw[a] + g.pads[a] + g.pads[a + 2];
        if g.stride[a] == 0 || k[a] == 0 || k[a] > padded {
            return Err(format!("a {}x{} window does not fit the padded {}x{} input", k[0], k[1], hw[0] + g.pads[0] + g.pads[2], hw[1] + g.pads[1] + g.pads[3]));
        }
        out[a] = (padded - k[a]) / g.stride[a] + 1;
    }
    Ok(out)
}

/// The accumulators of a quantized convolution: input `[C, H, W]` (int8, zero point `x_zp`),
/// weight `[K, C, kh, kw]` (zero point 0: ONNX Runtime's symmetric weights), bias `[K]`.
pub fn qconv_acc(x: &TensorI8, x_zp: i32, w: &TensorI8, bias: &[i32], g: &QConvGeometry) -> Result<TensorI32, String> {
    qconv_acc_groups(x, x_zp, w, bias, g, 1)
}

/// [`qconv_acc`] of a grouped convolution (ONNX's `group`): the C input and K output channels
/// split into `groups` equal parts, output channel `o` reading only the input channels of its
/// part, `(o / (K / groups))·C/groups ..`; the weight is `[K, C / groups, kh, kw]`. A depthwise
/// convolution is `groups` = C.
pub fn qconv_acc_groups(x: &TensorI8, x_zp: i32, w: &TensorI8, bias: &[i32], g: &QConvGeometry, groups: usize) -> Result<TensorI32, String> {
    let (c, h, wd) = match x.shape[..] {
        [c, h, w] => (c, h, w),
        _ => return Err(format!("input must be [C,H,W], got {:?}", x.shape)),
    };
    let (k, kc, kh, kw) = match w.shape[..] {
        [k, kc, kh, kw] => (k, kc, kh, kw),
        _ => return Err(format!("weight must be [K,C,kh,kw], got {:?}", w.shape)),
    };
    if groups == 0 || !c.is_multiple_of(groups) || !k.is_multiple_of(groups) || kc * groups != c || bias.len() != k {
        return Err(format!("input {:?}, weight {:?}, bias [{}] and {groups} groups do not chain", x.shape, w.shape, bias.len()));
    }
    let k_per = k / groups;
    let [ho, wo] = window_out([h, wd], [kh, kw], g)?;
    let mut out = Tensor::zeros(&[k, ho, wo]);
    for o in 0..k {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut acc = bias[o] as i64;
                let c0 = (o / k_per) * kc;
                for ci in 0..kc {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let y = (oy * g.stride[0] + ky) as isize - g.pads[0] as isize;
                            let xx = (ox * g.stride[1] + kx) as isize - g.pads[1] as isize;
                            if y < 0 || xx < 0 || y >= h as isize || xx >= wd as isize {
                                continue; // padded with the zero point: x − x_zp = 0
                            }
                            let xv = x.at(&[c0 + ci, y as usize, xx as usize]) as i64 - x_zp as i64;
                            acc += xv * w.at(&[o, ci, ky, kx]) as i64;
                        }
                    }
                }
                let i = out.index(&[o, oy, ox]);
                out.data[i] = i32::try_from(acc).map_err(|_| format!("accumulator {acc} of output {o},{oy},{ox} overflows int32"))?;
            }
        }
    }
    Ok(out)
}

/// Requantizes `[K, ...]` accumulators, channel `k` with `q[k]` (or `q[0]` for all).
pub fn ort_requantize_channels(acc: &TensorI32, q: &[OrtRequant]) -> Result<TensorI8, String> {
    let k = acc.shape[0];
    if q.len() != 1 && q.len() != k {
        return Err(format!("{} requantization settings for {k} channels", q.len()));
    }
    let per = acc.len() / k.max(1);
    let data = acc.data.iter().enumerate().map(|(i, &a)| ort_requantize(a, &q[if q.len() == 1 { 0 } else { i / per }])).collect();
    Ok(Tensor { shape: acc.shape.clone(), data })
}

/// Max pooling over the valid taps of each window (padding is never a maximum).
pub fn qmaxpool(x: &TensorI8, k: [usize; 2], g: &QConvGeometry) -> Result<TensorI8, String> {
    let (c, h, w) = match x.shape[..] {
        [c, h, w] => (c, h, w),
        _ => return Err(format!("input must be [C,H,W], got {:?}", x.shape)),
    };
    let [ho, wo] = window_out([h, w], k, g)?;
    let mut out = Tensor::zeros(&[c, ho, wo]);
    for ci in 0..c {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut m: Option<i8> = None;
                for ky in 0..k[0] {
                    for kx in 0..k[1] {
                        let y = (oy * g.stride[0] + ky) as isize - g.pads[0] as isize;
                        let xx = (ox * g.stride[1] + kx) as isize - g.pads[1] as isize;
                        if y >= 0 && xx >= 0 && y < h as isize && xx < w as isize {
                            let v = x.at(&[ci, y as usize, xx as usize]);
                            m = Some(m.map_or(v, |m| m.max(v)));
                        }
                    }
                }
                let i = out.index(&[ci, oy, ox]);
                out.data[i] = m.ok_or_else(|| format!("pooling window {ci},{oy},{ox} covers only padding"))?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(scale: f32, zero_point: i32) -> OrtRequant {
        OrtRequant { scale, zero_point, qmin: -128, qmax: 127 }
    }

    /// Worked examples of docs/onnx.md: ties to even, the zero point after rounding, clamps.
    #[test]
    fn requantization_rounds_half_to_even_then_adds_the_zero_point() {
        assert_eq!(ort_requantize(5, &q(0.5, 0)), 2); // 2.5 -> 2
        assert_eq!(ort_requantize(7, &q(0.5, 0)), 4); // 3.5 -> 4
        assert_eq!(ort_requantize(-5, &q(0.5, 0)), -2); // -2.5 -> -2
        assert_eq!(ort_requantize(-7, &q(0.5, 3)), -1); // -3.5 -> -4, + 3
        assert_eq!(ort_requantize(1000, &q(1.0, 0)), 127);
        assert_eq!(ort_requantize(-1000, &q(1.0, -120)), -128);
        let relu = OrtRequant { scale: 1.0, zero_point: -128, qmin: -128, qmax: 127 };
        assert_eq!(ort_requantize(-3, &relu), -128);
        // float32 of an accumulator above 2^24 rounds first: 16777217 -> 16777216.
        assert_eq!(ort_requantize(16_777_217, &q(2f32.powi(-24), 0)), 1);
    }

    /// The float pipeline differs from exact rounding where float32 rounds the product onto a
    /// tie: scale = f32 0x3E2AAAAB (0.16666667), acc = 3 has the exact product 0.5 + 1.49e-8
    /// (found with Python's fractions), which rounds up to 1 exactly, but float32 makes it 0.5,
    /// and the tie goes to even, 0.
    #[test]
    fn the_float32_product_is_rounded_before_the_integer_rounding() {
        let s = f32::from_bits(0x3E2A_AAAB);
        assert_eq!(3.0f32 * s, 0.5);
        assert_eq!(ort_requantize(3, &q(s, 0)), 0);
        assert_eq!(ort_requantize(3, &q(s, 7)), 7);
    }

    /// A 1-channel 3x3 input, 2x2 kernel of ones, pads [1,0,0,1]: each output is the sum of the
    /// valid taps minus the zero point per valid tap, plus the bias.
    #[test]
    fn padded_taps_add_nothing_and_the_zero_point_is_subtracted_per_valid_tap() {
        let x = Tensor::from_vec(&[1, 3, 3], vec![1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
        let w = Tensor::from_vec(&[1, 1, 2, 2], vec![1, 1, 1, 1]).unwrap();
        let g = QConvGeometry { stride: [1, 1], pads: [1, 0, 0, 1] };
        let acc = qconv_acc(&x, 1, &w, &[10], &g).unwrap();
        assert_eq!(acc.shape, vec![1, 3, 3]);
        // Row -1 is padding: output (0,0) covers x[0][0..2] = 1, 2 -> (1-1)+(2-1) + 10 = 11.
        assert_eq!(acc.at(&[0, 0, 0]), 11);
        // Output (0,2) covers x[0][2] and the right padding -> (3-1) + 10 = 12.
        assert_eq!(acc.at(&[0, 0, 2]), 12);
        // Output (2,1): x[1][1..3], x[2][1..3] = 5, 6, 8, 9 -> 28 - 4 + 10 = 34.
        assert_eq!(acc.at(&[0, 2, 1]), 34);
    }

    /// A grouped convolution is its groups' plain convolutions side by side: each part of the
    /// input channels with its part of the kernels (depthwise: 4 groups of one channel; and 2
    /// groups of 2 channels with 3 kernels each).
    #[test]
    fn grouped_convolution_is_each_groups_convolution_side_by_side() {
        let mut rng = crate::testutil::Rng::new(30);
        let x = Tensor::from_vec(&[4, 5, 6], (0..120).map(|_| rng.range(-128, 127) as i8).collect()).unwrap();
        let g = QConvGeometry { stride: [2, 1], pads: [1, 0, 1, 2] };
        for (groups, k) in [(4, 4), (2, 6), (1, 3)] {
            let (kc, kp) = (4 / groups, k / groups);
            let w = Tensor::from_vec(&[k, kc, 3, 3], (0..k * kc * 9).map(|_| rng.range(-128, 127) as i8).collect()).unwrap();
            let bias: Vec<i32> = (0..k).map(|_| rng.range(-1000, 1000) as i32).collect();
            let got = qconv_acc_groups(&x, -5, &w, &bias, &g, groups).unwrap();
            let mut want = vec![];
            for gi in 0..groups {
                let xs = Tensor::from_vec(&[kc, 5, 6], x.data[gi * kc * 30..(gi + 1) * kc * 30].to_vec()).unwrap();
                let ws = Tensor::from_vec(&[kp, kc, 3, 3], w.data[gi * kp * kc * 9..(gi + 1) * kp * kc * 9].to_vec()).unwrap();
                want.extend(qconv_acc(&xs, -5, &ws, &bias[gi * kp..(gi + 1) * kp], &g).unwrap().data);
            }
            assert_eq!(got.data, want, "{groups} groups");
        }
        let w = Tensor::from_vec(&[4, 2, 3, 3], vec![0; 72]).unwrap();
        assert!(qconv_acc_groups(&x, 0, &w, &[0; 4], &g, 4).is_err(), "4 groups of a [4, 2, ..] weight");
        assert!(qconv_acc_groups(&x, 0, &w, &[0; 4], &g, 3).is_err(), "3 groups of 4 channels");
    }

    fn both(acc: i32, scale: f32, zp: i32) -> (i8, i8) {
        let (sig, exp) = scale_parts(scale).unwrap();
        let q = OrtRequant { scale, zero_point: zp, qmin: -128, qmax: 127 };
        (ort_requantize(acc, &q), ort_requantize_int(acc, sig, exp, zp, -128, 127))
    }

    /// The integer pipeline equals the float one: accumulators at every bit length and at the
    /// float32 rounding boundaries (2^24 ± 1, odd values above 2^24, ties), and 400,000 random
    /// (accumulator, scale, zero point) triples with scales from 2^-40 to 2^4.
    #[test]
    fn the_integer_pipeline_equals_the_float_pipeline() {
        let mut rng = crate::testutil::Rng::new(2026);
        let mut accs = vec![0, 1, -1, 3, -3, i32::MAX, i32::MIN, i32::MIN + 1];
        for b in 0..31 {
            for d in [-2i64, -1, 0, 1, 2] {
                let v = (1i64 << b) + d;
                if v > 0 && v <= i32::MAX as i64 {
                    accs.push(v as i32);
                    accs.push(-(v as i32));
                }
            }
        }
        let scales: Vec<f32> = (0..200).map(|_| f32::from_bits(0x3000_0000 + rng.below(0x1400_0000) as u32)).collect();
        for &s in scales.iter().chain(&[0.5f32, 1.0, f32::from_bits(0x3E2A_AAAB), 2f32.powi(-24), 0.004_085_921]) {
            for &a in &accs {
                let (f, i) = both(a, s, 0);
                assert_eq!(f, i, "acc {a}, scale {s:e} ({:#x})", s.to_bits());
            }
        }
        for _ in 0..400_000 {
            let a = match rng.below(3) {
                0 => rng.range(-300, 300) as i32,
                1 => rng.range(-70_000, 70_000) as i32,
                _ => rng.next() as i32,
            };
            let s = f32::from_bits(0x2B80_0000 + rng.below(0x1800_0000) as u32);
            let zp = rng.range(-128, 127) as i32;
            let (f, i) = both(a, s, zp);
            assert_eq!(f, i, "acc {a}, scale {s:e} ({:#x}), zp {zp}", s.to_bits());
        }
    }

    #[test]
    fn scales_split_into_a_24_bit_significand_and_an_exponent() {
        assert_eq!(scale_parts(1.0), Some((1 << 23, -23)));
        assert_eq!(scale_parts(0.75), Some((3 << 22, -24)));
        for s in [0.0f32, -1.0, f32::INFINITY, f32::NAN, f32::from_bits(1)] {
            assert_eq!(scale_parts(s), None, "{s}");
        }
    }

    #[test]
    fn max_pooling_ignores_padding() {
        let x = Tensor::from_vec(&[1, 2, 2], vec![-100, -50, -128, -90]).unwrap();
        let g = QConvGeometry { stride: [2, 2], pads: [1, 1, 1, 1] };
        let y = qmaxpool(&x, [2, 2], &g).unwrap();
        assert_eq!(y.data, vec![-100, -50, -128, -90]);
    }
}
