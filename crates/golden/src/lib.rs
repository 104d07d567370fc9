//! Golden model of the accelgen accelerator.
//!
//! Plain Rust with exact integer arithmetic and no hardware dependency: every hardware block is
//! checked against these functions, and these functions are checked against vectors produced
//! independently with numpy (`testbenches/vectors/`). The arithmetic is specified, with a worked
//! example for every rule, in `docs/arithmetic.md`.
//!
//! The functions here assume their arguments were validated (see [`ConvParams::check`] and
//! [`PoolParams::check`]); they return an error string rather than panic when they were not.

mod conv;
pub mod ort;
pub mod ort_add;
mod pool;
mod requant;
mod tensor;
pub mod testutil;

pub use conv::{conv2d, conv_output_dims, ConvParams};
pub use pool::{avgpool2d, maxpool2d, pool_output_dims, PoolMode, PoolParams};
pub use requant::{requantize, requantize_tensor, requantize_tensor_channels, OrtScale, Requant};
pub use tensor::{Tensor, TensorI32, TensorI8};

/// Output length of a sliding window along one axis: `floor((len + 2·pad − k) / stride) + 1`,
/// or `None` when the kernel is larger than the padded input or the stride is zero.
pub fn out_len(len: usize, k: usize, stride: usize, pad: usize) -> Option<usize> {
    out_len2(len, k, stride, pad, pad)
}

/// [`out_len`] with `before` and `after` padding pixels.
pub fn out_len2(len: usize, k: usize, stride: usize, before: usize, after: usize) -> Option<usize> {
    let padded = len + before + after;
    if stride == 0 || k == 0 || k > padded {
        return None;
    }
    Some((padded - k) / stride + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_len_follows_the_floor_formula() {
        assert_eq!(out_len(5, 3, 1, 0), Some(3));
        assert_eq!(out_len(5, 3, 2, 1), Some(3));
        assert_eq!(out_len(6, 3, 2, 0), Some(2));
        assert_eq!(out_len(1, 1, 1, 0), Some(1));
        assert_eq!(out_len(2, 3, 1, 0), None);
        assert_eq!(out_len(2, 3, 1, 1), Some(2));
        assert_eq!(out_len(4, 2, 0, 0), None);
    }
}
