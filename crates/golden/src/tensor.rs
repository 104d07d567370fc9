//! A dense row-major tensor of exact integers.

/// A dense tensor stored row-major (the last axis varies fastest), as numpy and the file formats
/// store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor<T> {
    /// Extent of each axis.
    pub shape: Vec<usize>,
    /// Elements in row-major order; `data.len()` is the product of `shape`.
    pub data: Vec<T>,
}

/// An int8 tensor: activations, weights and pooled outputs.
pub type TensorI8 = Tensor<i8>;
/// An int32 tensor: biases and convolution accumulators.
pub type TensorI32 = Tensor<i32>;

impl<T: Copy + Default> Tensor<T> {
    /// A tensor of the given shape filled with `T::default()` (zero).
    pub fn zeros(shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Tensor { shape: shape.to_vec(), data: vec![T::default(); n] }
    }

    /// Wraps `data` with `shape`, or explains why the lengths disagree.
    pub fn from_vec(shape: &[usize], data: Vec<T>) -> Result<Self, String> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(format!(
                "data has {} elements but shape {:?} needs {}",
                data.len(),
                shape,
                n
            ));
        }
        Ok(Tensor { shape: shape.to_vec(), data })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row-major flat index of a multi-index (no bounds check beyond the slice's own).
    pub fn index(&self, idx: &[usize]) -> usize {
        debug_assert_eq!(idx.len(), self.shape.len());
        idx.iter().zip(&self.shape).fold(0, |acc, (&i, &n)| acc * n + i)
    }

    /// Multi-index of a row-major flat index.
    pub fn coords(&self, mut flat: usize) -> Vec<usize> {
        let mut out = vec![0; self.shape.len()];
        for (o, &n) in out.iter_mut().zip(&self.shape).rev() {
            *o = flat % n.max(1);
            flat /= n.max(1);
        }
        out
    }

    /// Element at a multi-index.
    pub fn at(&self, idx: &[usize]) -> T {
        self.data[self.index(idx)]
    }

    /// Elements converted to `i64`, for comparisons and serialisation across types.
    pub fn to_i64(&self) -> Tensor<i64>
    where
        T: Into<i64>,
    {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|&v| v.into()).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_coords_are_inverse_row_major() {
        let t = TensorI8::zeros(&[2, 3, 4]);
        assert_eq!(t.index(&[1, 2, 3]), 23);
        assert_eq!(t.index(&[0, 1, 0]), 4);
        for flat in 0..t.len() {
            assert_eq!(t.index(&t.coords(flat)), flat);
        }
    }

    #[test]
    fn from_vec_rejects_a_length_that_does_not_match_the_shape() {
        let err = TensorI8::from_vec(&[2, 3], vec![0; 5]).unwrap_err();
        assert_eq!(err, "data has 5 elements but shape [2, 3] needs 6");
    }
}
