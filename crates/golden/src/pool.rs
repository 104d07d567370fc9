//! 2-D max and average pooling over int8 `[C, H, W]` feature maps.

use crate::{out_len2, Tensor, TensorI8};

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
    /// `[ph, pw]` above and left (and below and right unless `padding_end`), each at most half
    /// the kernel (so every window holds a real element).
    pub padding: [usize; 2],
    /// `[bottom, right]` when they differ from `padding` (ONNX's asymmetric `pads`, `auto_pad`
    /// SAME with an odd total), each at most half the kernel too.
    pub padding_end: Option<[usize; 2]>,
}

impl PoolParams {
    /// Window, stride and the same padding on both sides.
    pub fn new(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> PoolParams {
        PoolParams { kernel, stride, padding, padding_end: None }
    }

    /// Padding below and right.
    pub fn end(&self) -> [usize; 2] {
        self.padding_end.unwrap_or(self.padding)
    }

    /// `[top, left, bottom, right]`.
    pub fn pads(&self) -> [usize; 4] {
        let e = self.end();
        [self.padding[0], self.padding[1], e[0], e[1]]
    }

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
        let pads = self.pads();
        for (i, axis) in ["top", "left", "bottom", "right"].iter().enumerate() {
            if pads[i] > self.kernel[i % 2] / 2 {
                return Err(format!(
                    "padding {axis} = {} must be at most half the kernel ({}), so that every \
                     window holds an input element",
                    pads[i],
                    self.kernel[i % 2] / 2
                ));
            }
        }
        pool_output_dims(input, self)
    }
}

/// Output shape `[C, Ho, Wo]` of a pooling layer, or why there is none.
pub fn pool_output_dims(input: &[usize], p: &PoolParams) -> Result<[usize; 3], String> {
    let [t, l, b, r] = p.pads();
    let padded = |len: usize, a: usize, b: usize| if a == b { format!("{len} + 2·{a}") } else { format!("{len} + {a} + {b}") };
    let ho = out_len2(input[1], p.kernel[0], p.stride[0], t, b).ok_or_else(|| {
        format!("kernel height {} is larger than the padded input height {}", p.kernel[0], padded(input[1], t, b))
    })?;
    let wo = out_len2(input[2], p.kernel[1], p.stride[1], l, r).ok_or_else(|| {
        format!("kernel width {} is larger than the padded input width {}", p.kernel[1], padded(input[2], l, r))
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
        let p = PoolParams::new([1, 2], [1, 2], [0, 0]);
        // Windows: (1,2) -> 1.5 -> 2; (-1,-2) -> -1.5 -> -1; (-1,-1) -> -1; (3,-4) -> -0.5 -> 0.
        let input = t8(&[1, 1, 8], &[1, 2, -1, -2, -1, -1, 3, -4]);
        assert_eq!(avgpool2d(&input, &p).unwrap().data, vec![2, -1, -1, 0]);
    }

    #[test]
    fn pool_worked_example_from_the_arithmetic_doc() {
        // 3×3 window, stride 2, padding 1 over a 1×3×3 map of negatives.
        let input = t8(&[1, 3, 3], &[-1, -2, -3, -4, -5, -6, -7, -8, -9]);
        let p = PoolParams::new([3, 3], [2, 2], [1, 1]);
        // Max ignores the padding, so the top-left window gives -1, not 0.
        assert_eq!(maxpool2d(&input, &p).unwrap().data, vec![-1, -2, -4, -5]);
        // Avg: top-left window sum -12 over 9: floor((-24 + 9) / 18) = floor(-0.83) = -1.
        // Top-right: -2-3-5-6 = -16: floor((-32+9)/18) = -2. Bottom-left: -4-5-7-8 = -24:
        // floor((-48+9)/18) = -3. Bottom-right: -5-6-8-9 = -28: floor((-56+9)/18) = -3.
        assert_eq!(avgpool2d(&input, &p).unwrap().data, vec![-1, -2, -3, -3]);
    }

    #[test]
    fn pool_rejects_padding_over_half_the_kernel() {
        let p = PoolParams::new([2, 2], [2, 2], [0, 2]);
        assert_eq!(
            p.check(&[1, 4, 4]).unwrap_err(),
            "padding left = 2 must be at most half the kernel (1), so that every window holds an \
             input element"
        );
        let p = PoolParams { padding_end: Some([2, 0]), ..PoolParams::new([3, 3], [1, 1], [0, 0]) };
        assert!(p.check(&[1, 4, 4]).unwrap_err().starts_with("padding bottom = 2 must be at most half the kernel (1)"));
    }

    /// Asymmetric padding (ONNX's `pads` [top, left, bottom, right]) is pooling without padding
    /// over the input with those rows and columns written out: −128 for max (never above a real
    /// element), 0 for the average (padding counts as zeros).
    #[test]
    fn asymmetric_padding_equals_the_explicitly_padded_input() {
        let (h, w) = (5, 6);
        let input = t8(&[2, h, w], &(0..2 * h * w).map(|i| (i as i8).wrapping_mul(41)).collect::<Vec<_>>());
        for (kernel, stride, pads) in [([3, 3], [2, 2], [0, 0, 1, 1]), ([2, 3], [1, 2], [1, 1, 0, 0]), ([3, 2], [2, 1], [1, 0, 0, 1])] {
            let p = PoolParams { padding_end: Some([pads[2], pads[3]]), ..PoolParams::new(kernel, stride, [pads[0], pads[1]]) };
            let (hp, wp) = (h + pads[0] + pads[2], w + pads[1] + pads[3]);
            for (mode, fill) in [(PoolMode::Max, -128i8), (PoolMode::Avg, 0)] {
                let mut padded = vec![fill; 2 * hp * wp];
                for c in 0..2 {
                    for y in 0..h {
                        for x in 0..w {
                            padded[(c * hp + y + pads[0]) * wp + x + pads[1]] = input.data[(c * h + y) * w + x];
                        }
                    }
                }
                let want = pool2d(&t8(&[2, hp, wp], &padded), &PoolParams::new(kernel, stride, [0, 0]), mode).unwrap();
                assert_eq!(pool2d(&input, &p, mode).unwrap(), want, "{mode:?} pads {pads:?}");
            }
        }
    }
}
