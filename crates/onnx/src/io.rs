//! Batches of a model's inputs and outputs as `.npy` files: read with limits and checked against
//! the model's input (type and shape, with a leading batch dimension N), written in the model's
//! output type, and compared element for element.

use std::path::Path;

use accelgen_config::input::{read_limited, MAX_NPY_BYTES};
use accelgen_formats::Output;
use accelgen_golden::{Tensor, TensorI8};
use npyz::WriterBuilder;

use crate::qnet::{Edge, QNet};

/// Most golden-model MACs one command may ask for (the batch's images times the network's
/// MACs per image): about a minute of the golden model.
pub const MAX_GOLDEN_MACS: u64 = 1 << 33;

/// The values of an array, by type.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// float32.
    F32(Vec<f32>),
    /// int8.
    I8(Vec<i8>),
    /// uint8.
    U8(Vec<u8>),
    /// int32 (the raw sums of an integer convolution: ConvInteger, MatMulInteger).
    I32(Vec<i32>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::I8(v) => v.len(),
            Values::U8(v) => v.len(),
            Values::I32(v) => v.len(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Values::F32(_) => "float32",
            Values::I8(_) => "int8",
            Values::U8(_) => "uint8",
            Values::I32(_) => "int32",
        }
    }

    fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => v[i] as f64,
            Values::I8(v) => v[i] as f64,
            Values::U8(v) => v[i] as f64,
            Values::I32(v) => v[i] as f64,
        }
    }

    fn same(&self, other: &Values, i: usize) -> bool {
        match (self, other) {
            (Values::F32(a), Values::F32(b)) => a[i].to_bits() == b[i].to_bits(),
            (Values::I8(a), Values::I8(b)) => a[i] == b[i],
            (Values::U8(a), Values::U8(b)) => a[i] == b[i],
            (Values::I32(a), Values::I32(b)) => a[i] == b[i],
            _ => false,
        }
    }
}

/// An array read from or written to a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Shape (C order).
    pub shape: Vec<usize>,
    /// Values.
    pub values: Values,
}

/// Reads a float32, int8, uint8 or int32 `.npy` file in C order.
pub fn read_npy(file: &Path) -> Result<Array, String> {
    let shown = file.display();
    let bytes = read_limited(file, MAX_NPY_BYTES, ".npy file")?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| format!("{shown}: not a valid .npy file: {}", e.to_string().lines().next().unwrap_or("").trim()))?;
    if npy.order() != npyz::Order::C {
        return Err(format!("{shown}: Fortran order; save it in C order"));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let ts = match npy.dtype() {
        npyz::DType::Plain(ts) => ts,
        other => return Err(format!("{shown}: dtype {other:?} (supported: float32, int8, uint8, int32)")),
    };
    let io = |e: std::io::Error| format!("{shown}: {e}");
    let values = match (ts.type_char(), ts.num_bytes()) {
        (npyz::TypeChar::Float, Some(4)) => Values::F32(npy.into_vec::<f32>().map_err(io)?),
        (npyz::TypeChar::Int, Some(1)) => Values::I8(npy.into_vec::<i8>().map_err(io)?),
        (npyz::TypeChar::Uint, Some(1)) => Values::U8(npy.into_vec::<u8>().map_err(io)?),
        (npyz::TypeChar::Int, Some(4)) => Values::I32(npy.into_vec::<i32>().map_err(io)?),
        _ => return Err(format!("{shown}: dtype {ts} (supported: float32, int8, uint8, int32)")),
    };
    Ok(Array { shape, values })
}

/// Writes `a` as a `.npy` file.
pub fn write_npy(file: &Path, a: &Array) -> Result<(), String> {
    let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    let f = std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let w = std::io::BufWriter::new(f);
    let io = |e: std::io::Error| format!("{}: {e}", file.display());
    match &a.values {
        Values::F32(v) => write_all(w, &shape, v.iter().copied()),
        Values::I8(v) => write_all(w, &shape, v.iter().copied()),
        Values::U8(v) => write_all(w, &shape, v.iter().copied()),
        Values::I32(v) => write_all(w, &shape, v.iter().copied()),
    }
    .map_err(io)
}

/// Writes `it` as an `.npy` array of `shape`.
pub(crate) fn write_all<T: npyz::AutoSerialize, W: std::io::Write>(w: W, shape: &[u64], it: impl Iterator<Item = T>) -> std::io::Result<()> {
    let mut out = npyz::WriteOptions::new().default_dtype().shape(shape).writer(w).begin_nd()?;
    out.extend(it)?;
    out.finish()
}

impl QNet {
    /// MACs of one inference (convolutions and fully connected layers).
    pub fn macs(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| match &l.kind {
                crate::LayerKind::Conv { weight, .. } => (l.out[0] * l.out[1] * l.out[2]) as u64 * (weight.shape[1] * weight.shape[2] * weight.shape[3]) as u64,
                _ => 0,
            })
            .sum()
    }

    /// A batch `[N, ...input shape]` in the model's input type, as int8-domain images.
    pub fn batch_inputs(&self, a: &Array, file: &str) -> Result<Vec<TensorI8>, String> {
        let e = &self.input;
        let n = batch_of(a, e, file, "input")?;
        let want = want_type(e);
        if a.values.type_name() != want {
            return Err(format!("{file}: {} values; the model's input '{}' takes {want}", a.values.type_name(), e.name));
        }
        let per = e.shape.iter().product::<usize>();
        let macs = (n as u64).saturating_mul(self.macs());
        if macs > MAX_GOLDEN_MACS {
            return Err(format!("{file}: {n} images of {} MACs each make {macs} MACs, more than the {MAX_GOLDEN_MACS} one run may take", self.macs()));
        }
        let chw = self.input_chw();
        (0..n)
            .map(|i| match &a.values {
                Values::F32(v) => self.quantize_input(&v[i * per..(i + 1) * per]).map_err(|e| format!("{file}: image {i}: {e}")),
                Values::I8(v) => Tensor::from_vec(&chw, v[i * per..(i + 1) * per].to_vec()),
                Values::U8(v) => Tensor::from_vec(&chw, v[i * per..(i + 1) * per].iter().map(|&x| (x as i32 - 128) as i8).collect()),
                Values::I32(_) => unreachable!("the type was checked"),
            })
            .collect()
    }

    /// Outputs of a batch as the model gives them: dequantized float32 when its output is
    /// float, else int8 or uint8 (int32 for raw sums); shape `[N, ...output shape]`.
    pub fn batch_outputs(&self, ys: &[Output]) -> Array {
        let e = &self.output;
        let mut shape = vec![ys.len()];
        shape.extend(&e.shape);
        if let Some(Output::I32(_)) = ys.first() {
            // Raw sums: float32 of each (exact: the importer bounds them by 2^24), or int32.
            let all = ys.iter().flat_map(|y| match y {
                Output::I32(t) => t.data.clone(),
                Output::I8(t) => t.data.iter().map(|&v| i32::from(v)).collect(),
            });
            let values = if e.float { Values::F32(all.map(|v| v as f32).collect()) } else { Values::I32(all.collect()) };
            return Array { shape, values };
        }
        let all = ys.iter().filter_map(Output::as_i8).flat_map(|t| t.data.iter().copied());
        let values = if e.float {
            Values::F32(all.map(|q| e.quant.dequantize(q)).collect())
        } else if e.quant.unsigned {
            Values::U8(all.map(|q| e.quant.to_own(q) as u8).collect())
        } else {
            Values::I8(all.collect())
        };
        Array { shape, values }
    }
}

fn want_type(e: &Edge) -> &'static str {
    if e.float {
        "float32"
    } else if e.quant.unsigned {
        "uint8"
    } else {
        "int8"
    }
}

/// The batch size of `a`, whose shape must be `[N, ...e.shape]` (N ≥ 1).
fn batch_of(a: &Array, e: &Edge, file: &str, what: &str) -> Result<usize, String> {
    let ok = a.shape.len() == e.shape.len() + 1 && a.shape[1..] == e.shape[..] && a.shape[0] >= 1;
    if !ok || a.values.len() != a.shape.iter().product::<usize>() {
        return Err(format!("{file}: shape {:?}; the model's {what} '{}' is [N, {}] with N at least 1", a.shape, e.name, dims(&e.shape)));
    }
    Ok(a.shape[0])
}

fn dims(s: &[usize]) -> String {
    s.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

/// Element-for-element comparison of an output batch with an expected one.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// Elements compared.
    pub elements: usize,
    /// Elements that differ.
    pub differ: usize,
    /// The first differing positions (flat index, got, expected).
    pub first: Vec<(usize, f64, f64)>,
    /// The largest absolute difference.
    pub largest: f64,
}

/// Compares `got` with the expected array of `file` (same shape and type).
pub fn agreement(got: &Array, want: &Array, file: &str) -> Result<Agreement, String> {
    if got.shape != want.shape || got.values.type_name() != want.values.type_name() {
        return Err(format!(
            "{file}: {} {:?}, the model gives {} {:?}",
            want.values.type_name(),
            want.shape,
            got.values.type_name(),
            got.shape
        ));
    }
    let mut a = Agreement { elements: got.values.len(), differ: 0, first: vec![], largest: 0.0 };
    for i in 0..got.values.len() {
        if !got.values.same(&want.values, i) {
            a.differ += 1;
            let (g, w) = (got.values.get(i), want.values.get(i));
            a.largest = a.largest.max((g - w).abs());
            if a.first.len() < 8 {
                a.first.push((i, g, w));
            }
        }
    }
    Ok(a)
}

/// Reads class labels: a 1-D `.npy` of integers (int8 to int64), one per image.
pub fn read_labels(file: &Path) -> Result<Vec<i64>, String> {
    let shown = file.display();
    let bytes = read_limited(file, MAX_NPY_BYTES, ".npy file")?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| format!("{shown}: not a valid .npy file: {}", e.to_string().lines().next().unwrap_or("").trim()))?;
    if npy.shape().len() != 1 {
        return Err(format!("{shown}: shape {:?}; labels are one integer per image, [N]", npy.shape()));
    }
    let io = |e: std::io::Error| format!("{shown}: {e}");
    match npy.dtype() {
        npyz::DType::Plain(ts) if ts.type_char() == npyz::TypeChar::Int => match ts.num_bytes() {
            Some(1) => Ok(npy.into_vec::<i8>().map_err(io)?.into_iter().map(i64::from).collect()),
            Some(2) => Ok(npy.into_vec::<i16>().map_err(io)?.into_iter().map(i64::from).collect()),
            Some(4) => Ok(npy.into_vec::<i32>().map_err(io)?.into_iter().map(i64::from).collect()),
            _ => Ok(npy.into_vec::<i64>().map_err(io)?),
        },
        other => Err(format!("{shown}: dtype {other:?}; labels are integers")),
    }
}

/// Top-1 accuracy of an output batch `[N, classes]` against labels: (correct, N). Ties go to the
/// first class, as numpy's argmax.
pub fn top1(a: &Array, labels: &[i64], file: &str) -> Result<(usize, usize), String> {
    let n = a.shape[0];
    if labels.len() != n {
        return Err(format!("{file}: {} labels for {n} images", labels.len()));
    }
    let per = a.values.len() / n.max(1);
    let mut correct = 0;
    for (i, &l) in labels.iter().enumerate() {
        let best = (0..per).fold(0, |b, j| if a.values.get(i * per + j) > a.values.get(i * per + b) { j } else { b });
        correct += usize::from(best as i64 == l);
    }
    Ok((correct, n))
}
