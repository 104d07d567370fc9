//! Requantization of 32-bit accumulators to int8.

use crate::{Tensor, TensorI32, TensorI8};

/// Requantization parameters: `y = ((acc·multiplier + 2^(shift−1)) >> shift) + zero_point`,
/// clamped to int8, then `max(y, zero_point)` when `relu` is set. With `ort`, ONNX Runtime's
/// requantization by a float32 scale instead (`multiplier` and `shift` unused; docs/onnx.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requant {
    /// Fixed-point multiplier, `0..=32767` (a 16-bit signed hardware operand that is never negative).
    pub multiplier: i32,
    /// Arithmetic right shift, `0..=47`.
    pub shift: u32,
    /// Output zero point, `-128..=127`.
    pub zero_point: i32,
    /// Clamp below at the zero point (ReLU in the quantized domain).
    pub relu: bool,
    /// ONNX Runtime's requantization with this scale.
    pub ort: Option<OrtScale>,
}

/// A positive normal float32 scale as `sig · 2^exp`, `sig ∈ [2^23, 2^24)`
/// ([`crate::ort::scale_parts`]); `exp` in `−128..=−1` (the hardware's 8-bit exponent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrtScale {
    /// 24-bit significand, bit 23 set.
    pub sig: u32,
    /// Exponent.
    pub exp: i32,
}

impl OrtScale {
    /// The scale of a float32, if the hardware takes it (positive, normal, `exp` in −128..=−1:
    /// from about 1.8·10^−31 to 1).
    pub fn of(scale: f32) -> Option<OrtScale> {
        crate::ort::scale_parts(scale).filter(|&(_, e)| (-128..=-1).contains(&e)).map(|(sig, exp)| OrtScale { sig, exp })
    }

    /// The float32 it stands for.
    pub fn to_f32(self) -> f32 {
        self.sig as f32 * 2f32.powi(self.exp)
    }
}

impl Requant {
    /// Allowed range of `multiplier`.
    pub const MULTIPLIER: (i64, i64) = (0, 32767);
    /// Allowed range of `shift`.
    pub const SHIFT: (i64, i64) = (0, 47);
    /// Allowed range of `zero_point`.
    pub const ZERO_POINT: (i64, i64) = (-128, 127);
}

/// One accumulator to int8. The product is formed in 64 bits (it cannot overflow: |acc| ≤ 2^31,
/// multiplier < 2^15), the rounding term is added only when `shift > 0`, and `>>` is arithmetic
/// (rounds toward −∞), so ties round toward +∞ ("half up").
pub fn requantize(acc: i32, q: &Requant) -> i8 {
    if let Some(o) = q.ort {
        let qmin = if q.relu { q.zero_point } else { -128 };
        return crate::ort::ort_requantize_int(acc, o.sig, o.exp, q.zero_point, qmin, 127);
    }
    let prod = acc as i64 * q.multiplier as i64;
    let rounded = if q.shift == 0 { prod } else { (prod + (1i64 << (q.shift - 1))) >> q.shift };
    let mut y = (rounded + q.zero_point as i64).clamp(-128, 127);
    if q.relu {
        y = y.max(q.zero_point as i64);
    }
    y as i8
}

/// [`requantize`] applied element-wise.
pub fn requantize_tensor(acc: &TensorI32, q: &Requant) -> TensorI8 {
    Tensor { shape: acc.shape.clone(), data: acc.data.iter().map(|&a| requantize(a, q)).collect() }
}

/// [`requantize`] of `[K, ...]` accumulators with ONNX Runtime's requantization and one scale per
/// output channel: channel `k` with `scales[k]` (`q`'s zero point and ReLU for all; its
/// `multiplier`, `shift` and `ort` unused). `scales` has one entry per channel.
pub fn requantize_tensor_channels(acc: &TensorI32, q: &Requant, scales: &[OrtScale]) -> TensorI8 {
    let per = acc.len() / scales.len().max(1);
    let data = acc
        .data
        .iter()
        .enumerate()
        .map(|(i, &a)| requantize(a, &Requant { ort: Some(scales[i / per.max(1)]), ..*q }))
        .collect();
    Tensor { shape: acc.shape.clone(), data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(multiplier: i32, shift: u32, zero_point: i32, relu: bool) -> Requant {
        Requant { multiplier, shift, zero_point, relu, ort: None }
    }

    #[test]
    fn requant_worked_examples_from_the_arithmetic_doc() {
        // 100·3 = 300; (300 + 4) >> 3 = 38; + 5 = 43.
        assert_eq!(requantize(100, &q(3, 3, 5, false)), 43);
        // Ties: 12 >> 3 = 1.5 rounds to 2; -12 >> 3 = -1.5 rounds to -1 (half up).
        assert_eq!(requantize(12, &q(1, 3, 0, false)), 2);
        assert_eq!(requantize(-12, &q(1, 3, 0, false)), -1);
        // shift 0: no rounding term.
        assert_eq!(requantize(-7, &q(2, 0, 0, false)), -14);
        // Saturation both ways.
        assert_eq!(requantize(1000, &q(1, 0, 0, false)), 127);
        assert_eq!(requantize(-1000, &q(1, 0, 0, false)), -128);
        // relu clamps at the zero point, not at 0.
        assert_eq!(requantize(-50, &q(1, 0, -10, true)), -10);
        assert_eq!(requantize(-5, &q(1, 0, -10, true)), -10);
        assert_eq!(requantize(20, &q(1, 0, -10, true)), 10);
    }

    /// Each channel is requantized with its own scale, as ONNX Runtime's float pipeline does it.
    #[test]
    fn per_channel_requantization_uses_each_channels_scale() {
        let scales = [0.0123f32, 0.5, 3.0e-5];
        let acc = Tensor { shape: vec![3, 2, 1], data: vec![1000, -777, 1000, -777, 123_456, 9] };
        let q = Requant { multiplier: 0, shift: 0, zero_point: -3, relu: true, ort: None };
        let parts: Vec<OrtScale> = scales.iter().map(|&s| OrtScale::of(s).unwrap()).collect();
        let y = requantize_tensor_channels(&acc, &q, &parts);
        for (i, &a) in acc.data.iter().enumerate() {
            let f = crate::ort::OrtRequant { scale: scales[i / 2], zero_point: -3, qmin: -3, qmax: 127 };
            assert_eq!(y.data[i], crate::ort::ort_requantize(a, &f), "element {i}");
        }
        assert_ne!(y.data[0], y.data[2], "the channels' scales differ, so must their outputs");
    }

    #[test]
    fn requant_extreme_operands_do_not_overflow() {
        assert_eq!(requantize(i32::MIN, &q(32767, 47, 0, false)), 0);
        assert_eq!(requantize(i32::MIN, &q(32767, 16, 0, false)), -128);
        assert_eq!(requantize(i32::MAX, &q(32767, 47, 0, false)), 0);
        assert_eq!(requantize(i32::MAX, &q(32767, 30, 0, false)), 127);
    }
}
