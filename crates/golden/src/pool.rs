//! 2-D max and average pooling over int8 `[C, H, W]` feature maps.

use crate::{out_len, Tensor, TensorI8};

/// Pooling mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// Largest value of the window; padded positions are ignored.
    Max,
    /// Window sum over `kh·kw` (padded positions count as zeros), rounded half up.
    Avg,
}

/// Window, stride and padding of a pooling layer, `[vertical, horizontal]` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolParams {
    /// `[kh, kw]`, each at least 1.
    pub kernel: [usize; 2],
    /// `[sh, sw]`, each at least 1 (the file formats default it to the kernel).
    pub stride: [usize; 2],
    /// `[ph, pw]`, each at most half the kernel (so every window holds a real element).
    pub padding: [usize; 2],
}

impl PoolParams {
    /// Checks the parameters against an input shape and returns the output shape `[C, Ho, Wo]`.
    pub fn check(&self, input: &[usize]) -> Result<[usize; 3], String> {
        if input.len() != 3 {
            return Err(format!("input must have rank 3 [C,H,W], got shape {input:?}"));
        }
        if input.contains(&0) {
            return Err(format!("every input dimension must be at least 1, got {input:?}"));
        }
        for (i, axis) in ["kh", "kw"].iter().enumerate() {
            if self.kernel[i] == 0 {
                return Err(format!("kernel {axis} must be at least 1, got 0"));
            }
        }
        for (i, axis) in ["sh", "sw"].iter().enumerate() {
            if self.stride[i] == 0 {
                return Err(format!("stride {axis} must be at least 1, got 0"));
            }
        }
        for (i, axis) in ["ph", "pw"].iter().enumerate() {
            if self.padding[i] > self.kernel[i] / 2 {
                return Err(format!(
                    "padding {axis} = {} must be at most half the kernel ({}), so that every \
                     window holds an input element",
                    self.padding[i],
                    self.kernel[i] / 2
                ));
            }
        }
        pool_output_dims(input, self)
    }
}

/// Output shape `[C, Ho, Wo]` of a pooling layer, or why there is none.
pub fn pool_output_dims(input: &[usize], p: &PoolParams) -> Result<[usize; 3], String> {
    let ho = out_len(input[1], p.kernel[0], p.stride[0], p.padding[0]).ok_or_else(|| {
        format!(
            "kernel height {} is larger than the padded input height {} + 2·{}",
            p.kernel[0], input[1], p.padding[0]
        )
    })?;
    let wo = out_len(input[2], p.kernel[1], p.stride[1], p.padding[1]).ok_or_else(|| {
        format!(
            "kernel width {} is larger than the padded input width {} + 2·{}",
            p.kernel[1], input[2], p.padding[1]
        )
    })?;
    Ok([input[0], ho, wo])
}

fn pool2d(input: &TensorI8, p: &PoolParams, mode: PoolMode) -> Result<TensorI8, String> {
    let [c_n, ho, wo] = p.check(&input.shape)?;
    let [h, w] = [input.shape[1] as isize, input.shape[2] as isize];
    let count = (p.kernel[0] * p.kernel[1]) as i64;
    let mut out: TensorI8 = Tensor::zeros(&[c_n, ho, wo]);
    for c in 0..c_n {
        for y in 0..ho {
            for x in 0..wo {
                let mut max = i64::MIN;
                let mut sum = 0i64;
                for r in 0..p.kernel[0] {
                    let iy = (y * p.stride[0] + r) as isize - p.padding[0] as isize;
                    for s in 0..p.kernel[1] {
                        let ix = (x * p.stride[1] + s) as isize - p.padding[1] as isize;
                        if iy < 0 || iy >= h || ix < 0 || ix >= w {
                            continue; // padding: ignored by max, a zero for the sum
                        }
                        let v = input.data[(c * h as usize + iy as usize) * w as usize + ix as usize]
                            as i64;
                        max = max.max(v);
                        sum += v;
                    }
                }
                let v = match mode {
                    PoolMode::Max => max,
                    // floor((2·sum + count) / (2·count)), floor toward −∞.
                    PoolMode::Avg => (2 * sum + count).div_euclid(2 * count),
                };
                out.data[(c * ho + y) * wo + x] = v as i8;
            }
        }
    }
    Ok(out)
}

/// Max pooling; padded positions never win.
pub fn maxpool2d(input: &TensorI8, p: &PoolParams) -> Result<TensorI8, String> {
    pool2d(input, p, PoolMode::Max)
}

/// Average pooling: `floor((2·sum + count) / (2·count))` with `count = kh·kw` and padding as zeros.
pub fn avgpool2d(input: &TensorI8, p: &PoolParams) -> Result<TensorI8, String> {
    pool2d(input, p, PoolMode::Avg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t8(shape: &[usize], data: &[i8]) -> TensorI8 {
        Tensor::from_vec(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn avgpool_rounds_half_up_with_floor_toward_negative_infinity() {
        let p = PoolParams { kernel: [1, 2], stride: [1, 2], padding: [0, 0] };
        // Windows: (1,2) -> 1.5 -> 2; (-1,-2) -> -1.5 -> -1; (-1,-1) -> -1; (3,-4) -> -0.5 -> 0.
        let input = t8(&[1, 1, 8], &[1, 2, -1, -2, -1, -1, 3, -4]);
        assert_eq!(avgpool2d(&input, &p).unwrap().data, vec![2, -1, -1, 0]);
    }

    #[test]
    fn pool_worked_example_from_the_arithmetic_doc() {
        // 3×3 window, stride 2, padding 1 over a 1×3×3 map of negatives.
        let input = t8(&[1, 3, 3], &[-1, -2, -3, -4, -5, -6, -7, -8, -9]);
        let p = PoolParams { kernel: [3, 3], stride: [2, 2], padding: [1, 1] };
        // Max ignores the padding, so the top-left window gives -1, not 0.
        assert_eq!(maxpool2d(&input, &p).unwrap().data, vec![-1, -2, -4, -5]);
        // Avg: top-left window sum -12 over 9: floor((-24 + 9) / 18) = floor(-0.83) = -1.
        // Top-right: -2-3-5-6 = -16: floor((-32+9)/18) = -2. Bottom-left: -4-5-7-8 = -24:
        // floor((-48+9)/18) = -3. Bottom-right: -5-6-8-9 = -28: floor((-56+9)/18) = -3.
        assert_eq!(avgpool2d(&input, &p).unwrap().data, vec![-1, -2, -3, -3]);
    }

    #[test]
    fn pool_rejects_padding_over_half_the_kernel() {
        let p = PoolParams { kernel: [2, 2], stride: [2, 2], padding: [0, 2] };
        assert_eq!(
            p.check(&[1, 4, 4]).unwrap_err(),
            "padding pw = 2 must be at most half the kernel (1), so that every window holds an \
             input element"
        );
    }
}
