//! 2-D convolution (cross-correlation, as PyTorch and ONNX define it).

use crate::{out_len, Tensor, TensorI32, TensorI8};

/// Stride and zero padding of a convolution, `[vertical, horizontal]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// `[sh, sw]`, each at least 1.
    pub stride: [usize; 2],
    /// `[ph, pw]`: pixels added on every side.
    pub padding: [usize; 2],
    /// The value of a padding pixel (0; an imported model's input zero point).
    pub pad_value: i8,
}

impl Default for ConvParams {
    fn default() -> Self {
        ConvParams { stride: [1, 1], padding: [0, 0], pad_value: 0 }
    }
}

impl ConvParams {
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
    let ho = out_len(input[1], weight[2], p.stride[0], p.padding[0]).ok_or_else(|| {
        format!(
            "kernel height {} is larger than the padded input height {} + 2·{}",
            weight[2], input[1], p.padding[0]
        )
    })?;
    let wo = out_len(input[2], weight[3], p.stride[1], p.padding[1]).ok_or_else(|| {
        format!(
            "kernel width {} is larger than the padded input width {} + 2·{}",
            weight[3], input[2], p.padding[1]
        )
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
        let p = ConvParams { stride: [2, 2], padding: [1, 1], pad_value: 0 };
        let out = conv2d(&input, &weight, Some(&bias), &p).unwrap();
        assert_eq!(out.shape, vec![1, 2, 2]);
        // (0,0): only input(0,0)=1 meets weight(1,1)=3 -> 3 + 10.
        // (0,1): input(0,1)=2·2 + input(0,2)=3·3 = 13 -> 23.
        // (1,0): input(1,0)=4·(-1) + input(2,0)=7·3 = 17 -> 27.
        // (1,1): 5·1 + 6·(-1) + 8·2 + 9·3 = 42 -> 52.
        assert_eq!(out.data, vec![13, 23, 27, 52]);
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
            ConvParams { stride: [1, 0], padding: [0, 0], pad_value: 0 }
                .check(&[1, 2, 4], &[1, 1, 1, 1], None)
                .unwrap_err(),
            "stride sw must be at least 1, got 0"
        );
    }
}
