//! Reading an ONNX file: size and kind checked before parsing, the protobuf decoded, the graph's
//! initializers turned into typed arrays and its nodes checked to be in an order where every
//! input is produced before it is used (ONNX requires topological order; a graph that is not is
//! refused, not reordered).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use prost::Message;

use crate::proto::{dtype, GraphProto, ModelProto, NodeProto, TensorProto};

/// Largest ONNX file read, in bytes (the networks an FPGA serves are far smaller).
pub const MAX_ONNX_BYTES: u64 = 64 << 20;
/// Most nodes in a graph.
pub const MAX_NODES: usize = 10_000;
/// Most elements in one initializer or graph input.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 24;
/// Opset versions of the default domain the importer reads (QuantizeLinear with per-axis
/// scales, as `quantize_static` emits, needs 10 or later; 13 is its default).
pub const OPSET_RANGE: (i64, i64) = (10, 22);

/// A constant tensor of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    /// Dimensions.
    pub dims: Vec<usize>,
    /// Values.
    pub data: ConstData,
}

/// The values of a constant, by element type.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstData {
    /// float32.
    F32(Vec<f32>),
    /// int8.
    I8(Vec<i8>),
    /// uint8.
    U8(Vec<u8>),
    /// int32.
    I32(Vec<i32>),
    /// int64.
    I64(Vec<i64>),
}

impl ConstData {
    /// The element type's name.
    pub fn type_name(&self) -> &'static str {
        match self {
            ConstData::F32(_) => "float32",
            ConstData::I8(_) => "int8",
            ConstData::U8(_) => "uint8",
            ConstData::I32(_) => "int32",
            ConstData::I64(_) => "int64",
        }
    }
}

/// A graph input or output: its name, element type and static shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// Name.
    pub name: String,
    /// ONNX element type (`proto::dtype`).
    pub elem_type: i32,
    /// Dimensions (symbolic ones are `None`).
    pub dims: Vec<Option<usize>>,
}

/// A model read from a file.
#[derive(Clone, Debug)]
pub struct Model {
    /// The file, for messages.
    pub file: String,
    /// Opset version of the default domain.
    pub opset: i64,
    /// Nodes, in the file's (topological) order.
    pub nodes: Vec<NodeProto>,
    /// Initializers by name.
    pub consts: HashMap<String, Const>,
    /// Graph inputs that are not initializers.
    pub inputs: Vec<Value>,
    /// Graph outputs.
    pub outputs: Vec<Value>,
}

/// Reads and checks `file`.
pub fn load(file: &Path) -> Result<Model, String> {
    let bytes = accelgen_config::input::read_limited(file, MAX_ONNX_BYTES, "model (.onnx)")?;
    from_bytes(&bytes, &file.display().to_string())
}

/// Decodes and checks a model's bytes; `name` names it in messages.
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Model, String> {
    if bytes.len() as u64 > MAX_ONNX_BYTES {
        return Err(format!("{name}: {} bytes, more than the {MAX_ONNX_BYTES} an ONNX model may have", bytes.len()));
    }
    let m = ModelProto::decode(bytes).map_err(|e| format!("{name}: not an ONNX model (protobuf: {e})"))?;
    if m.ir_version < 3 {
        return Err(format!("{name}: ir_version {} (supported: 3 and later)", m.ir_version));
    }
    let opset = m
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| format!("{name}: opset_import has no entry for the default domain"))?;
    if !(OPSET_RANGE.0..=OPSET_RANGE.1).contains(&opset) {
        return Err(format!("{name}: opset {opset} of the default domain (supported: {} to {})", OPSET_RANGE.0, OPSET_RANGE.1));
    }
    let g = m.graph.ok_or_else(|| format!("{name}: the model has no graph"))?;
    graph(g, name, opset)
}

fn graph(g: GraphProto, name: &str, opset: i64) -> Result<Model, String> {
    if g.node.len() > MAX_NODES {
        return Err(format!("{name}: {} nodes (at most {MAX_NODES})", g.node.len()));
    }
    if !g.sparse_initializer.is_empty() {
        return Err(format!("{name}: sparse initializers are not supported"));
    }
    let mut consts = HashMap::new();
    for t in &g.initializer {
        let c = tensor(t).map_err(|e| format!("{name}: initializer '{}': {e}", t.name))?;
        if consts.insert(t.name.clone(), c).is_some() {
            return Err(format!("{name}: initializer '{}' is defined twice", t.name));
        }
    }
    let inputs: Vec<Value> = g.input.iter().filter(|v| !consts.contains_key(&v.name)).map(value).collect::<Result<_, _>>().map_err(|e| format!("{name}: {e}"))?;
    let outputs: Vec<Value> = g.output.iter().map(value).collect::<Result<_, _>>().map_err(|e| format!("{name}: {e}"))?;
    // Every node input is an initializer, a graph input or an earlier node's output.
    let mut known: HashSet<&str> = consts.keys().map(String::as_str).chain(inputs.iter().map(|v| v.name.as_str())).collect();
    known.insert("");
    for (i, n) in g.node.iter().enumerate() {
        for inp in &n.input {
            if !known.contains(inp.as_str()) {
                let later = g.node[i + 1..].iter().any(|m| m.output.contains(inp));
                return Err(if later {
                    format!("{name}: node '{}' ({}) uses '{inp}' before the node that produces it: the graph is not in topological order", n.name, n.op_type)
                } else {
                    format!("{name}: node '{}' ({}) uses '{inp}', which no initializer, graph input or node provides", n.name, n.op_type)
                });
            }
        }
        for o in &n.output {
            if !known.insert(o.as_str()) && !o.is_empty() {
                return Err(format!("{name}: node '{}' ({}) writes '{o}', which is already defined", n.name, n.op_type));
            }
        }
    }
    for o in &outputs {
        if !known.contains(o.name.as_str()) {
            return Err(format!("{name}: graph output '{}' is produced by no node", o.name));
        }
    }
    Ok(Model { file: name.to_string(), opset, nodes: g.node, consts, inputs, outputs })
}

fn value(v: &crate::proto::ValueInfoProto) -> Result<Value, String> {
    let t = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).ok_or_else(|| format!("value '{}' is not a tensor", v.name))?;
    let dims = t
        .shape
        .as_ref()
        .map(|s| s.dim.iter().map(|d| d.dim_value.and_then(|x| usize::try_from(x).ok())).collect())
        .unwrap_or_default();
    Ok(Value { name: v.name.clone(), elem_type: t.elem_type, dims })
}

/// An initializer's values (raw little-endian data or the typed fields).
fn tensor(t: &TensorProto) -> Result<Const, String> {
    if !t.external_data.is_empty() || t.data_location == 1 {
        return Err("its data is in an external file, which is not supported".into());
    }
    let mut n: u64 = 1;
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = u64::try_from(d).map_err(|_| format!("dimension {d} is negative"))?;
        n = n.saturating_mul(d);
        dims.push(d as usize);
    }
    if n > MAX_TENSOR_ELEMENTS {
        return Err(format!("{n} elements (at most {MAX_TENSOR_ELEMENTS})"));
    }
    let n = n as usize;
    let raw = &t.raw_data;
    let check = |len: usize| -> Result<(), String> {
        if len != n {
            Err(format!("{len} values for dimensions {dims:?} ({n} elements)"))
        } else {
            Ok(())
        }
    };
    let data = match t.data_type {
        dtype::FLOAT => {
            let v: Vec<f32> = if raw.is_empty() { t.float_data.clone() } else { le(raw, 4)?.map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect() };
            check(v.len())?;
            ConstData::F32(v)
        }
        dtype::INT8 => {
            let v: Vec<i8> = if raw.is_empty() { narrow(&t.int32_data)? } else { raw.iter().map(|&b| b as i8).collect() };
            check(v.len())?;
            ConstData::I8(v)
        }
        dtype::UINT8 => {
            let v: Vec<u8> = if raw.is_empty() { narrow(&t.int32_data)? } else { raw.clone() };
            check(v.len())?;
            ConstData::U8(v)
        }
        dtype::INT32 => {
            let v: Vec<i32> = if raw.is_empty() { t.int32_data.clone() } else { le(raw, 4)?.map(|b| i32::from_le_bytes(b.try_into().unwrap())).collect() };
            check(v.len())?;
            ConstData::I32(v)
        }
        dtype::INT64 => {
            let v: Vec<i64> = if raw.is_empty() { t.int64_data.clone() } else { le(raw, 8)?.map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect() };
            check(v.len())?;
            ConstData::I64(v)
        }
        other => return Err(format!("element type {} is not supported (float32, int8, uint8, int32, int64)", dtype::name(other))),
    };
    Ok(Const { dims, data })
}

fn le(raw: &[u8], size: usize) -> Result<std::slice::ChunksExact<'_, u8>, String> {
    if raw.len() % size != 0 {
        return Err(format!("raw_data of {} bytes is not a whole number of {size}-byte values", raw.len()));
    }
    Ok(raw.chunks_exact(size))
}

fn narrow<T: TryFrom<i32>>(v: &[i32]) -> Result<Vec<T>, String> {
    v.iter().map(|&x| T::try_from(x).map_err(|_| format!("value {x} is out of range of its 8-bit type"))).collect()
}
