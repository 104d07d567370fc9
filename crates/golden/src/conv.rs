//! 2-D convolution (cross-correlation, as PyTorch and ONNX define it).

use crate::{out_len2, Tensor, TensorI32, TensorI8};

/// Stride and padding of a convolution, `[vertical, horizontal]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// `[sh, sw]`, each at least 1.
    pub stride: [usize; 2],
    /// `[ph, pw]`: pixels added above and left (and below and right unless `padding_end`).
    pub padding: [usize; 2],
    /// `[bottom, right]` when they differ from `padding` (ONNX's asymmetric `pads`, `auto_pad`
    /// SAME with an odd total).
    pub padding_end: Option<[usize; 2]>,
    /// The value of a padding pixel (0; an imported model's input zero point).
    pub pad_value: i8,
}

impl Default for ConvParams {
    fn default() -> Self {
        ConvParams { stride: [1, 1], padding: [0, 0], padding_end: None, pad_value: 0 }
    }
}

impl ConvParams {
    /// Padding below and right.
    pub fn end(&self) -> [usize; 2] {
        self.padding_end.unwrap_or(self.padding)
    }

    /// `[top, left, bottom, right]`.
    pub fn pads(&self) -> [usize; 4] {
        let e = self.end();
        [self.padding[0], self.padding[1], e[0], e[1]]
    }

    /// Checks the shapes of a convolution; the message names what is wrong.
    pub fn check(
        &self,
        input: &[usize],
        weight: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<[usize; 3], String> {
        if input.len() != 3 {
            return Err(format!("input must have rank 3 [C,H,W], got shape {input:?}"));
        }
        if weight.len() != 4 {
            return Err(format!("weight must have rank 4 [K,C,R,S], got shape {weight:?}"));
        }
        if input.contains(&0) || weight.contains(&0) {
            return Err(format!(
                "every dimension must be at least 1, got input {input:?} and weight {weight:?}"
            ));
        }
        if weight[1] != input[0] {
            return Err(format!(
                "weight has {} input channels (shape {weight:?}) but input has {} (shape {input:?})",
                weight[1], input[0]
            ));
        }
        if let Some(b) = bias {
            if b != [weight[0]] {
                return Err(format!(
                    "bias must have shape [{}] (one value per output channel), got {b:?}",
                    weight[0]
                ));
            }
        }
        conv_output_dims(input, weight, self)
    }
}

/// Output shape `[K, Ho, Wo]` of a convolution, or why there is none.
pub fn conv_output_dims(
    input: &[usize],
    weight: &[usize],
    p: &ConvParams,
) -> Result<[usize; 3], String> {
    for (axis, &s) in ["sh", "sw"].iter().zip(&p.stride) {
        if s == 0 {
            return Err(format!("stride {axis} must be at least 1, got 0"));
        }
    }
    let end = p.end();
    let padded = |len: usize, a: usize, b: usize| if a == b { format!("{len} + 2·{a}") } else { format!("{len} + {a} + {b}") };
    let ho = out_len2(input[1], weight[2], p.stride[0], p.padding[0], end[0]).ok_or_else(|| {
        format!("kernel height {} is larger than the padded input height {}", weight[2], padded(input[1], p.padding[0], end[0]))
    })?;
    let wo = out_len2(input[2], weight[3], p.stride[1], p.padding[1], end[1]).ok_or_else(|| {
        format!("kernel width {} is larger than the padded input width {}", weight[3], padded(input[2], p.padding[1], end[1]))
    })?;
    Ok([weight[0], ho, wo])
}

/// `out[k, y, x] = bias[k] + Σ_{c,r,s} input[c, y·sh + r − ph, x·sw + s − pw] · weight[k, c, r, s]`,
/// with positions outside the input reading as `pad_value` (zero unless set). Products are exact (int8 × int8 fits 16
/// bits); sums wrap modulo 2^32 as a 32-bit two's-complement accumulator does.
pub fn conv2d(
    input: &TensorI8,
    weight: &TensorI8,
    bias: Option<&TensorI32>,
    p: &ConvParams,
) -> Result<TensorI32, String> {
    let [k_out, ho, wo] =
        p.check(&input.shape, &weight.shape, bias.map(|b| b.shape.as_slice()))?;
    let [c_in, h, w] = [input.shape[0], input.shape[1], input.shape[2]];
    let [kr, ks] = [weight.shape[2], weight.shape[3]];
    let mut out: TensorI32 = Tensor::zeros(&[k_out, ho, wo]);
    for k in 0..k_out {
        let b = bias.map_or(0, |b| b.data[k]);
        for y in 0..ho {
            for x in 0..wo {
                let mut acc = b;
                for c in 0..c_in {
                    for r in 0..kr {
                        let iy = (y * p.stride[0] + r) as isize - p.padding[0] as isize;
                        for s in 0..ks {
                            let ix = (x * p.stride[1] + s) as isize - p.padding[1] as isize;
                            let inside = iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize;
                            let a = if inside { input.data[(c * h + iy as usize) * w + ix as usize] as i32 } else { p.pad_value as i32 };
                            let wt = weight.data[((k * c_in + c) * kr + r) * ks + s] as i32;
                            acc = acc.wrapping_add(a * wt);
                        }
                    }
                }
                out.data[(k * ho + y) * wo + x] = acc;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t8(shape: &[usize], data: &[i8]) -> TensorI8 {
        Tensor::from_vec(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn conv_worked_example_from_the_arithmetic_doc() {
        // docs/arithmetic.md, "Convolution": 1 channel 3×3 input, 2×2 kernel, padding 1, stride 2.
        let input = t8(&[1, 3, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let weight = t8(&[1, 1, 2, 2], &[1, -1, 2, 3]);
        let bias = Tensor::from_vec(&[1], vec![10]).unwrap();
        let p = ConvParams { stride: [2, 2], padding: [1, 1], padding_end: None, pad_value: 0 };
        let out = conv2d(&input, &weight, Some(&bias), &p).unwrap();
        assert_eq!(out.shape, vec![1, 2, 2]);
        // (0,0): only input(0,0)=1 meets weight(1,1)=3 -> 3 + 10.
        // (0,1): input(0,1)=2·2 + input(0,2)=3·3 = 13 -> 23.
        // (1,0): input(1,0)=4·(-1) + input(2,0)=7·3 = 17 -> 27.
        // (1,1): 5·1 + 6·(-1) + 8·2 + 9·3 = 42 -> 52.
        assert_eq!(out.data, vec![13, 23, 27, 52]);
    }

    /// Asymmetric padding (ONNX's `pads` [top, left, bottom, right]) is the unpadded
    /// convolution of the input with those rows and columns of `pad_value` written out.
    #[test]
    fn asymmetric_padding_equals_the_explicitly_padded_input() {
        let (h, w) = (4, 5);
        let input = t8(&[2, h, w], &(0..2 * h * w).map(|i| (i as i8).wrapping_mul(37)).collect::<Vec<_>>());
        let weight = t8(&[3, 2, 3, 2], &(0..36).map(|i| (i as i8 - 18).wrapping_mul(5)).collect::<Vec<_>>());
        for (pads, stride) in [([0, 0, 1, 1], [2, 2]), ([2, 1, 0, 3], [1, 2]), ([1, 0, 2, 0], [3, 1])] {
            let p = ConvParams { stride, padding: [pads[0], pads[1]], padding_end: Some([pads[2], pads[3]]), pad_value: -7 };
            let got = conv2d(&input, &weight, None, &p).unwrap();
            let (hp, wp) = (h + pads[0] + pads[2], w + pads[1] + pads[3]);
            let mut padded = vec![-7i8; 2 * hp * wp];
            for c in 0..2 {
                for y in 0..h {
                    for x in 0..w {
                        padded[(c * hp + y + pads[0]) * wp + x + pads[1]] = input.data[(c * h + y) * w + x];
                    }
                }
            }
            let want = conv2d(&t8(&[2, hp, wp], &padded), &weight, None, &ConvParams { stride, ..ConvParams::default() }).unwrap();
            assert_eq!(got, want, "pads {pads:?}");
        }
    }

    #[test]
    fn conv_accumulator_wraps_at_32_bits() {
        // 2^17 products of (-128)·(-128) = 2^14 sum to 2^31, which wraps to -2^31.
        let c = 1 << 17;
        let input = t8(&[c, 1, 1], &vec![-128; c]);
        let weight = t8(&[1, c, 1, 1], &vec![-128; c]);
        let out = conv2d(&input, &weight, None, &ConvParams::default()).unwrap();
        assert_eq!(out.data, vec![i32::MIN]);
    }

    #[test]
    fn conv_rejects_mismatched_channels_and_oversized_kernels() {
        let p = ConvParams::default();
        assert_eq!(
            p.check(&[2, 4, 4], &[1, 3, 1, 1], None).unwrap_err(),
            "weight has 3 input channels (shape [1, 3, 1, 1]) but input has 2 (shape [2, 4, 4])"
        );
        assert_eq!(
            p.check(&[1, 2, 4], &[1, 1, 3, 1], None).unwrap_err(),
            "kernel height 3 is larger than the padded input height 2 + 2·0"
        );
        assert_eq!(
            ConvParams { stride: [1, 0], padding: [0, 0], padding_end: None, pad_value: 0 }
                .check(&[1, 2, 4], &[1, 1, 1, 1], None)
                .unwrap_err(),
            "stride sw must be at least 1, got 0"
        );
    }
}
