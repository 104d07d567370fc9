//! Exact comparison of tensors, reporting coordinates of the first differences.

use accelgen_golden::Tensor;

/// One differing element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Multi-index of the element.
    pub coords: Vec<usize>,
    /// The value under test.
    pub got: i64,
    /// The reference value.
    pub want: i64,
}

/// Outcome of comparing a tensor with a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Shapes differ (then no element is compared).
    pub shape_mismatch: Option<(Vec<usize>, Vec<usize>)>,
    /// Number of differing elements.
    pub count: usize,
    /// The first differing elements, in row-major order (at most the limit asked for).
    pub first: Vec<Mismatch>,
}

impl Comparison {
    /// True when shape and every element agree.
    pub fn matches(&self) -> bool {
        self.shape_mismatch.is_none() && self.count == 0
    }

    /// A few lines for a summary: nothing when it matches.
    pub fn describe(&self, what: &str) -> String {
        if let Some((got, want)) = &self.shape_mismatch {
            return format!("{what}: shape {got:?} differs from {want:?}\n");
        }
        let mut s = String::new();
        if self.count > 0 {
            s += &format!("{what}: {} element(s) differ; first:\n", self.count);
            for m in &self.first {
                s += &format!("  at {:?}: got {}, want {}\n", m.coords, m.got, m.want);
            }
        }
        s
    }
}

/// Compares `got` with `want` exactly, keeping at most `limit` mismatches.
pub fn compare(got: &Tensor<i64>, want: &Tensor<i64>, limit: usize) -> Comparison {
    if got.shape != want.shape {
        return Comparison {
            shape_mismatch: Some((got.shape.clone(), want.shape.clone())),
            count: 0,
            first: vec![],
        };
    }
    let mut count = 0;
    let mut first = vec![];
    for (i, (&g, &w)) in got.data.iter().zip(&want.data).enumerate() {
        if g != w {
            count += 1;
            if first.len() < limit {
                first.push(Mismatch { coords: got.coords(i), got: g, want: w });
            }
        }
    }
    Comparison { shape_mismatch: None, count, first }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_reports_coordinates_of_the_first_differences() {
        let want = Tensor::from_vec(&[2, 2], vec![1, 2, 3, 4]).unwrap();
        let got = Tensor::from_vec(&[2, 2], vec![1, 9, 3, 8]).unwrap();
        let c = compare(&got, &want, 1);
        assert!(!c.matches());
        assert_eq!(c.count, 2);
        assert_eq!(c.first, vec![Mismatch { coords: vec![0, 1], got: 9, want: 2 }]);
        assert_eq!(c.describe("golden"), "golden: 2 element(s) differ; first:\n  at [0, 1]: got 9, want 2\n");
        assert!(compare(&want, &want, 4).matches());
        let other = Tensor::from_vec(&[4], vec![1, 2, 3, 4]).unwrap();
        assert!(!compare(&other, &want, 4).matches());
    }
}
