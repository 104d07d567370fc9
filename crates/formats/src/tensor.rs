//! Tensors in files: `{"shape": [...], "data": [...]}` inline, or the path of a `.npy` file.

use crate::json::{field_err, int_value, kind, Obj};
use accelgen_golden::Tensor;
use serde_json::{json, Value};
use std::path::Path;

/// Element types a tensor field can hold.
pub trait Elem: Copy + Default + Into<i64> + std::fmt::Debug {
    /// Name used in messages (`int8`, `int32`).
    const NAME: &'static str;
    /// Smallest value.
    const MIN: i64;
    /// Largest value.
    const MAX: i64;
    /// Narrowing from an `i64` already checked to be in range.
    fn from_i64(v: i64) -> Self;
    /// Byte widths of signed-integer `.npy` dtypes accepted for this element type.
    const NPY_BYTES: &'static [usize];
}

impl Elem for i8 {
    const NAME: &'static str = "int8";
    const MIN: i64 = i8::MIN as i64;
    const MAX: i64 = i8::MAX as i64;
    fn from_i64(v: i64) -> Self {
        v as i8
    }
    const NPY_BYTES: &'static [usize] = &[1];
}

impl Elem for i32 {
    const NAME: &'static str = "int32";
    const MIN: i64 = i32::MIN as i64;
    const MAX: i64 = i32::MAX as i64;
    fn from_i64(v: i64) -> Self {
        v as i32
    }
    const NPY_BYTES: &'static [usize] = &[1, 2, 4];
}

/// A tensor as a file gives it: always a shape, and data unless the file is shape-only (networks
/// compiled to instructions need no data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorField<T> {
    /// Extent of each axis.
    pub shape: Vec<usize>,
    /// Row-major data, `None` for a shape-only tensor.
    pub data: Option<Vec<T>>,
}

impl<T: Elem> TensorField<T> {
    /// The tensor with its data, or an error naming the field when it has none.
    pub fn require(&self, path: &str) -> Result<Tensor<T>, String> {
        match &self.data {
            Some(d) => Ok(Tensor { shape: self.shape.clone(), data: d.clone() }),
            None => Err(field_err(path, "has a shape but no \"data\": a case needs the values")),
        }
    }
}

/// Largest number of elements one tensor may have (guards memory against a typo in a shape).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Reads a tensor field: an object `{"shape", "data"?}` or a string naming a `.npy` file relative
/// to `base` (the folder of the file that names it). `rank` is the required rank, if any.
pub fn parse_tensor<T: Elem>(
    v: &Value,
    path: &str,
    base: &Path,
    rank: Option<usize>,
) -> Result<TensorField<T>, String> {
    let t = match v {
        Value::String(file) => read_npy::<T>(&base.join(file), path)?,
        Value::Object(_) => {
            let o = Obj::new(v, path)?;
            o.only(&["shape", "data"])?;
            let shape_v = o.req("shape")?;
            let shape_arr = shape_v.as_array().ok_or_else(|| {
                field_err(&o.path_of("shape"), format!("must be an array, got {}", kind(shape_v)))
            })?;
            let mut shape = Vec::with_capacity(shape_arr.len());
            for (i, d) in shape_arr.iter().enumerate() {
                let p = format!("{}[{i}]", o.path_of("shape"));
                shape.push(int_value(d, &p, 1, MAX_ELEMENTS as i64)? as usize);
            }
            let n = checked_len(&shape, path)?;
            let data = match o.get("data") {
                None => None,
                Some(dv) => {
                    let dp = o.path_of("data");
                    let arr = dv.as_array().ok_or_else(|| {
                        field_err(&dp, format!("must be an array of integers, got {}", kind(dv)))
                    })?;
                    if arr.len() != n {
                        return Err(field_err(
                            &dp,
                            format!(
                                "has {} values but shape {:?} needs {n}",
                                arr.len(),
                                shape
                            ),
                        ));
                    }
                    let mut data = Vec::with_capacity(n);
                    for (i, x) in arr.iter().enumerate() {
                        let n = int_value(x, &format!("{dp}[{i}]"), T::MIN, T::MAX).map_err(
                            |e| format!("{e} ({} values)", T::NAME),
                        )?;
                        data.push(T::from_i64(n));
                    }
                    Some(data)
                }
            };
            TensorField { shape, data }
        }
        other => {
            return Err(field_err(
                path,
                format!(
                    "must be a tensor object {{\"shape\", \"data\"}} or the path of a .npy file, \
                     got {}",
                    kind(other)
                ),
            ))
        }
    };
    if let Some(r) = rank {
        if t.shape.len() != r {
            return Err(field_err(
                path,
                format!("must have rank {r}, got shape {:?} (rank {})", t.shape, t.shape.len()),
            ));
        }
    }
    Ok(t)
}

fn checked_len(shape: &[usize], path: &str) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            field_err(path, format!("shape {shape:?} has more than {MAX_ELEMENTS} elements"))
        })
}

fn read_npy<T: Elem>(file: &Path, path: &str) -> Result<TensorField<T>, String> {
    let shown = file.display();
    use accelgen_config::input;
    let bytes = input::read_limited(file, input::MAX_NPY_BYTES, ".npy file").map_err(|e| field_err(path, e))?;
    // npyz's header errors quote the parser's state over several lines: keep the first line.
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or("").trim().to_string();
        field_err(path, format!("{shown} is not a valid .npy file: {first}"))
    })?;
    if npy.order() != npyz::Order::C {
        return Err(field_err(path, format!("{shown} is in Fortran order; save it in C order")));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    if shape.contains(&0) {
        return Err(field_err(path, format!("{shown} has an empty axis: shape {shape:?}")));
    }
    checked_len(&shape, path)?;
    let accepted: Vec<String> = T::NPY_BYTES.iter().map(|b| format!("int{}", b * 8)).collect();
    let wrong = |dt: &dyn std::fmt::Display| {
        field_err(
            path,
            format!(
                "{shown} has dtype {dt}, but this field holds {} values: use {}",
                T::NAME,
                accepted.join(" or ")
            ),
        )
    };
    let ts = match npy.dtype() {
        npyz::DType::Plain(ts) => ts,
        other => return Err(wrong(&format!("{other:?}"))),
    };
    let bytes_per = ts.num_bytes().unwrap_or(0);
    if ts.type_char() != npyz::TypeChar::Int || !T::NPY_BYTES.contains(&bytes_per) {
        return Err(wrong(&ts));
    }
    let io = |e: std::io::Error| field_err(path, format!("{shown}: {e}"));
    let data: Vec<i64> = match bytes_per {
        1 => npy.into_vec::<i8>().map_err(io)?.into_iter().map(i64::from).collect(),
        2 => npy.into_vec::<i16>().map_err(io)?.into_iter().map(i64::from).collect(),
        _ => npy.into_vec::<i32>().map_err(io)?.into_iter().map(i64::from).collect(),
    };
    Ok(TensorField { shape, data: Some(data.into_iter().map(T::from_i64).collect()) })
}

/// A tensor as the JSON object of the file format.
pub fn tensor_json<T: Copy + Into<i64>>(t: &Tensor<T>) -> Value {
    let data: Vec<i64> = t.data.iter().map(|&v| v.into()).collect();
    json!({ "shape": t.shape, "data": data })
}
