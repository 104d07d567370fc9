//! Case and network files, and their evaluation by the golden model.

use crate::json::{field_err, join, kind, Obj};
use crate::tensor::{parse_tensor, TensorField};
use accelgen_golden::ort_add::{qadd, AddWay, QAdd};
use accelgen_golden::{
    avgpool2d, conv2d, maxpool2d, requantize_tensor, requantize_tensor_channels, ConvParams, OrtScale,
    PoolMode, PoolParams, Requant, Tensor, TensorI32, TensorI8,
};
use serde_json::Value;
use std::path::Path;

/// Largest stride, padding or pooling window side a file may give (a guard against typos; the
/// hardware limits are narrower and checked by each block).
pub const MAX_GEOMETRY: i64 = 4096;

/// Most elements a layer's output, or its input with the padding added, may have: what padding
/// and layer chains make of a small input is bounded before the golden model, the cycle model or
/// a simulation does any work (the largest layer of VGG-16 has 3.2·10^6).
pub const MAX_LAYER_ELEMENTS: u64 = 1 << 24;
/// Most multiply-accumulates one conv layer may need (VGG-16's largest layer needs 1.85·10^9).
pub const MAX_LAYER_MACS: u64 = 1 << 34;
/// Most elements a network's tensors may hold at once, between the layer that writes each and
/// the last that reads it (what the golden model keeps; a chain holds two tensors at a time, a
/// residual block three or four).
pub const MAX_LIVE_ELEMENTS: u64 = 1 << 26;

/// A convolution layer.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvLayer {
    /// `[K, C, R, S]` int8.
    pub weight: TensorField<i8>,
    /// `[K]` int32.
    pub bias: Option<TensorField<i32>>,
    /// Stride and padding.
    pub params: ConvParams,
    /// Requantization to int8; without it the output is the int32 accumulator.
    pub requant: Option<Requant>,
    /// ONNX Runtime's requantization with one scale per output channel (`"scale": [..]`, one
    /// float32 per output channel; `requant.ort` holds the first channel's).
    pub channel_scales: Option<Vec<OrtScale>>,
}

/// A pooling layer.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolLayer {
    /// Max or average.
    pub mode: PoolMode,
    /// Window, stride and padding.
    pub params: PoolParams,
}

/// An element-wise add of two int8 tensors of one shape, each with its scale and zero point,
/// requantized to the output's (`"op": "add"`, network files only): ONNX Runtime's QLinearAdd
/// ([`QAdd::fused`], docs/arithmetic.md).
#[derive(Clone, Debug, PartialEq)]
pub struct AddLayer {
    /// The operands' and the output's quantization; `qmin` is the output zero point with `relu`.
    pub q: QAdd,
}

/// One layer of a case or network.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `"op": "conv2d"`.
    Conv(ConvLayer),
    /// `"op": "maxpool2d"` or `"avgpool2d"`.
    Pool(PoolLayer),
    /// `"op": "add"` (network files only).
    Add(AddLayer),
}

/// The known values of `op`.
pub const OPS: [&str; 4] = ["conv2d", "maxpool2d", "avgpool2d", "add"];

/// Where a network layer's input comes from: the network input, or an earlier layer's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The network input (`"input"`).
    Input,
    /// The output of `layers[i]`.
    Layer(usize),
}

impl Layer {
    /// The `op` string of this layer.
    pub fn op(&self) -> &'static str {
        match self {
            Layer::Conv(_) => "conv2d",
            Layer::Pool(PoolLayer { mode: PoolMode::Max, .. }) => "maxpool2d",
            Layer::Pool(PoolLayer { mode: PoolMode::Avg, .. }) => "avgpool2d",
            Layer::Add(_) => "add",
        }
    }

    /// Output shape and whether the output is int8 (else int32), given the input shape.
    /// The sizes are checked against [`MAX_LAYER_ELEMENTS`] and [`MAX_LAYER_MACS`].
    pub fn output_shape(&self, input: &[usize], path: &str) -> Result<(Vec<usize>, bool), String> {
        let (dims, padding, is_i8, taps) = match self {
            Layer::Conv(c) => {
                let bias = c.bias.as_ref().map(|b| b.shape.as_slice());
                let dims = c.params.check(input, &c.weight.shape, bias).map_err(|e| field_err(path, e))?;
                let taps = c.weight.shape[1..].iter().map(|&d| d as u64).product::<u64>();
                (dims, c.params.pads(), c.requant.is_some(), taps)
            }
            Layer::Pool(p) => {
                let dims = p.params.check(input).map_err(|e| field_err(path, e))?;
                (dims, p.params.pads(), true, 0)
            }
            Layer::Add(_) => {
                let dims: [usize; 3] = input.try_into().map_err(|_| field_err(path, format!("an add takes [C, H, W] operands, got {input:?}")))?;
                (dims, [0; 4], true, 0)
            }
        };
        check_layer_size(input, &dims, padding, taps, path)?;
        Ok((dims.to_vec(), is_i8))
    }
}

/// Refuses a layer whose output, padded input or (for a conv with `taps` = C·R·S) MAC count is
/// above the limits, naming the figure, the limit and the padding that made it.
fn check_layer_size(input: &[usize], out: &[usize; 3], pads: [usize; 4], taps: u64, path: &str) -> Result<(), String> {
    let elems = |d: &[u64]| d.iter().try_fold(1u64, |a, &x| a.checked_mul(x)).unwrap_or(u64::MAX);
    let c = input.first().copied().unwrap_or(1) as u64;
    let padded = [c, (input[1] + pads[0] + pads[2]) as u64, (input[2] + pads[1] + pads[3]) as u64];
    let outd = out.map(|d| d as u64);
    let padded_any = pads != [0; 4];
    let shown = if pads[..2] == pads[2..] { format!("{:?}", &pads[..2]) } else { format!("{pads:?}") };
    let why = if padded_any { format!(" (padding {shown} on a {input:?} input)") } else { String::new() };
    // The field to blame: the padding when there is some, else the layer (or a case's input).
    let field = match (padded_any, path.is_empty()) {
        (true, _) => join(path, "padding"),
        (false, true) => "input".to_string(),
        (false, false) => path.to_string(),
    };
    let shape = |d: &[u64]| d.iter().map(u64::to_string).collect::<Vec<_>>().join("×");
    if elems(&padded) > MAX_LAYER_ELEMENTS {
        let what = if padded_any { "the padded input" } else { "the input" };
        return Err(field_err(&field, format!(
            "{what} {} has {} elements{why}: allowed at most {MAX_LAYER_ELEMENTS} per layer",
            shape(&padded), elems(&padded)
        )));
    }
    if elems(&outd) > MAX_LAYER_ELEMENTS {
        return Err(field_err(&field, format!(
            "the output {} has {} elements{why}: allowed at most {MAX_LAYER_ELEMENTS} per layer",
            shape(&outd), elems(&outd)
        )));
    }
    let macs = elems(&outd).saturating_mul(taps);
    if macs > MAX_LAYER_MACS {
        return Err(field_err(&field, format!(
            "the conv needs {macs} multiply-accumulates ({} outputs × {taps} taps): allowed at most {MAX_LAYER_MACS} per layer",
            elems(&outd)
        )));
    }
    Ok(())
}

/// The output of a layer: int8 after requantization or pooling, int32 accumulators otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// int8 values.
    I8(TensorI8),
    /// int32 values.
    I32(TensorI32),
}

impl Output {
    /// The values widened to `i64`, for comparison and output files.
    pub fn to_i64(&self) -> Tensor<i64> {
        match self {
            Output::I8(t) => t.to_i64(),
            Output::I32(t) => t.to_i64(),
        }
    }

    /// The int8 tensor, if this output is one.
    pub fn as_i8(&self) -> Option<&TensorI8> {
        match self {
            Output::I8(t) => Some(t),
            Output::I32(_) => None,
        }
    }
}

/// Runs one layer through the golden model. `path` names the layer in messages.
pub fn golden_layer(input: &TensorI8, layer: &Layer, path: &str) -> Result<Output, String> {
    match layer {
        Layer::Conv(c) => {
            let weight = c.weight.require(&join(path, "weight"))?;
            let bias = c.bias.as_ref().map(|b| b.require(&join(path, "bias"))).transpose()?;
            let acc = conv2d(input, &weight, bias.as_ref(), &c.params)
                .map_err(|e| field_err(path, e))?;
            Ok(match (&c.requant, &c.channel_scales) {
                (Some(q), Some(s)) => Output::I8(requantize_tensor_channels(&acc, q, s)),
                (Some(q), None) => Output::I8(requantize_tensor(&acc, q)),
                (None, _) => Output::I32(acc),
            })
        }
        Layer::Pool(p) => {
            let f = match p.mode {
                PoolMode::Max => maxpool2d,
                PoolMode::Avg => avgpool2d,
            };
            Ok(Output::I8(f(input, &p.params).map_err(|e| field_err(path, e))?))
        }
        Layer::Add(_) => Err(field_err(path, "an add reads two tensors: run it with its network (Network::golden)")),
    }
}

/// A case file: one layer applied to one input, with an optional expected output.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `[C, H, W]` int8 with data.
    pub input: TensorI8,
    /// The operation.
    pub layer: Layer,
    /// The output the file says to expect.
    pub expected: Option<Tensor<i64>>,
}

impl Case {
    /// Parses a case document. `base` is the folder `.npy` paths are relative to.
    pub fn from_value(v: &Value, base: &Path) -> Result<Case, String> {
        let o = Obj::new(v, "")?;
        let input = parse_tensor::<i8>(o.req("input")?, "input", base, Some(3))?.require("input")?;
        let layer = parse_layer(&o, base, &["input", "expected"], false)?;
        let (out_shape, out_i8) = layer.output_shape(&input.shape, "")
            .map_err(|e| e.replacen("field \"\": ", "", 1))?;
        let layer = require_layer_data(layer, "")?;
        let expected = parse_expected(&o, base, &out_shape, out_i8)?;
        Ok(Case { input, layer, expected })
    }

    /// Reads and parses a case file; messages start with the file's path.
    pub fn load(file: &Path) -> Result<Case, String> {
        let v = read_json(file)?;
        let base = file.parent().unwrap_or(Path::new("."));
        Case::from_value(&v, base).map_err(|e| format!("{}: {e}", file.display()))
    }

    /// The golden model's output for this case.
    pub fn golden(&self) -> Result<Output, String> {
        golden_layer(&self.input, &self.layer, "")
    }
}

/// The optional `expected` output of a case or network: int8, or int32 for a conv2d without
/// requant, of the output's shape.
fn parse_expected(o: &Obj, base: &Path, out_shape: &[usize], out_i8: bool) -> Result<Option<Tensor<i64>>, String> {
    let Some(ev) = o.get("expected") else { return Ok(None) };
    let t = if out_i8 {
        parse_tensor::<i8>(ev, "expected", base, None)?.require("expected")?.to_i64()
    } else {
        parse_tensor::<i32>(ev, "expected", base, None)?.require("expected")?.to_i64()
    };
    if t.shape != out_shape {
        return Err(field_err("expected", format!("has shape {:?} but the output has shape {out_shape:?}", t.shape)));
    }
    Ok(Some(t))
}

/// A network file: an input and layers in a topological order, each reading the previous
/// layer's output (a chain) unless its `"inputs"` name other tensors (a graph: residual adds).
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// `[C, H, W]` int8, with or without data.
    pub input: TensorField<i8>,
    /// The layers in order.
    pub layers: Vec<Layer>,
    /// What each layer reads (one source; an add's two).
    pub sources: Vec<Vec<Source>>,
    /// The network input's shape, then each layer's output shape (`layers.len() + 1` entries):
    /// in a chain, `shapes[i]` is layer i's input ([`Network::input_shape`] in a graph).
    pub shapes: Vec<Vec<usize>>,
    /// The network's expected output, when given.
    pub expected: Option<Tensor<i64>>,
}

impl Network {
    /// Parses a network document and checks that the layers' shapes chain.
    pub fn from_value(v: &Value, base: &Path) -> Result<Network, String> {
        let o = Obj::new(v, "")?;
        o.only(&["input", "layers", "expected"])?;
        let input = parse_tensor::<i8>(o.req("input")?, "input", base, Some(3))?;
        let lv = o.req("layers")?;
        let arr = lv
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| field_err("layers", "must be a non-empty array of layer objects"))?;
        let mut layers = Vec::with_capacity(arr.len());
        let mut sources = Vec::with_capacity(arr.len());
        let mut shapes = vec![input.shape.clone()];
        for (i, lv) in arr.iter().enumerate() {
            let path = format!("layers[{i}]");
            let lo = Obj::new(lv, &path)?;
            let layer = parse_layer(&lo, base, &["inputs"], true)?;
            let src = parse_sources(&lo, i, &layer)?;
            let shape_of = |s: &Source| match s {
                Source::Input => &shapes[0],
                Source::Layer(j) => &shapes[j + 1],
            };
            if let [a, b] = src.as_slice() {
                if shape_of(a) != shape_of(b) {
                    return Err(field_err(&lo.path_of("inputs"), format!("an add needs operands of one shape, got {:?} and {:?}", shape_of(a), shape_of(b))));
                }
            }
            let (out, is_i8) = layer.output_shape(shape_of(&src[0]), &path)?;
            if !is_i8 && i + 1 < arr.len() {
                return Err(field_err(
                    &path,
                    "conv2d without \"requant\" outputs int32 accumulators, which the next layer \
                     cannot take as int8 input: add \"requant\"",
                ));
            }
            layers.push(layer);
            sources.push(src);
            shapes.push(out);
        }
        check_live(&shapes, &sources)?;
        let last = shapes.last().expect("non-empty").clone();
        let out_i8 = match layers.last() {
            Some(Layer::Conv(c)) => c.requant.is_some(),
            _ => true,
        };
        let expected = parse_expected(&o, base, &last, out_i8)?;
        Ok(Network { input, layers, sources, shapes, expected })
    }

    /// Reads and parses a network file; messages start with the file's path.
    pub fn load(file: &Path) -> Result<Network, String> {
        let v = read_json(file)?;
        let base = file.parent().unwrap_or(Path::new("."));
        Network::from_value(&v, base).map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Runs every layer through the golden model; needs every tensor's data. A tensor is dropped
    /// after its last reader (the live set is bounded at parse time: [`MAX_LIVE_ELEMENTS`]).
    pub fn golden(&self) -> Result<Output, String> {
        let last = last_reads(self.layers.len(), &self.sources);
        let mut input = Some(Output::I8(self.input.require("input")?));
        let mut outs: Vec<Option<Output>> = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let path = format!("layers[{i}]");
            let read = |s: &Source| {
                let o = match s {
                    Source::Input => input.as_ref(),
                    Source::Layer(j) => outs[*j].as_ref(),
                };
                o.and_then(Output::as_i8).ok_or_else(|| field_err(&path, "reads a tensor that is int32 or gone (checked at parse time)"))
            };
            let y = match (layer, self.sources[i].as_slice()) {
                (Layer::Add(a), [x, y]) => Output::I8(qadd(read(x)?, read(y)?, &a.q, AddWay::Fused).map_err(|e| field_err(&path, e))?),
                (_, [x]) => golden_layer(read(x)?, layer, &path)?,
                _ => return Err(field_err(&path, "has the wrong number of inputs (checked at parse time)")),
            };
            for s in &self.sources[i] {
                match *s {
                    Source::Input if last[0] == i => input = None,
                    Source::Layer(j) if last[j + 1] == i => outs[j] = None,
                    _ => {}
                }
            }
            outs.push(Some(y));
        }
        Ok(outs.pop().flatten().or(input).expect("the last layer's output"))
    }

    /// The last layer that reads each tensor: index 0 the input, j + 1 layer j's output (a tensor
    /// nobody reads: the layer that writes it; the network output: the last layer).
    pub fn last_reads(&self) -> Vec<usize> {
        last_reads(self.layers.len(), &self.sources)
    }

    /// The layers that read layer `i`'s output, in order (a layer reading it twice counted once).
    pub fn readers(&self, i: usize) -> Vec<usize> {
        (i + 1..self.layers.len()).filter(|&j| self.sources[j].contains(&Source::Layer(i))).collect()
    }

    /// Whether layer `i + 1` is the only reader of layer `i`'s output and reads nothing else: the
    /// pair may be joined on chip as in a chain.
    pub fn feeds_only_next(&self, i: usize) -> bool {
        i + 1 < self.layers.len() && self.sources[i + 1] == [Source::Layer(i)] && self.readers(i) == [i + 1]
    }

    /// The tensor layer `i` reads as its source `k`: 0 for the network input, j + 1 for layer
    /// j's output.
    pub fn source_tensor(&self, i: usize, k: usize) -> usize {
        match self.sources[i][k] {
            Source::Input => 0,
            Source::Layer(j) => j + 1,
        }
    }

    /// Layer `i`'s (first) input shape.
    pub fn input_shape(&self, i: usize) -> &[usize] {
        match self.sources[i][0] {
            Source::Input => &self.shapes[0],
            Source::Layer(j) => &self.shapes[j + 1],
        }
    }

    /// The first layer that makes this network not a chain (an add, or a layer that reads other
    /// than the previous layer's output), if any.
    pub fn first_branch(&self) -> Option<usize> {
        (0..self.layers.len()).find(|&i| {
            let prev = if i == 0 { Source::Input } else { Source::Layer(i - 1) };
            matches!(self.layers[i], Layer::Add(_)) || self.sources[i] != [prev]
        })
    }

    /// Refuses a network that is not a chain (what the block engines of `accelgen run --blocks` run; `accel_top` runs graphs), naming
    /// the first layer that branches.
    pub fn require_chain(&self) -> Result<(), String> {
        match self.first_branch() {
            None => Ok(()),
            Some(i) => Err(format!(
                "layers[{i}] ({}): the block engines (--blocks) run chains of conv2d and pooling layers; element-wise adds and layers that read an earlier tensor than their predecessor's output run on accel_top (accelgen run without --blocks) and the golden model (accelgen golden)",
                self.layers[i].op()
            )),
        }
    }
}

/// Reads a JSON file with messages that name it.
/// Only regular files of at most [`input::MAX_JSON_BYTES`] are read; duplicate keys are refused.
pub fn read_json(file: &Path) -> Result<Value, String> {
    use accelgen_config::input;
    let text = input::read_text(file, input::MAX_JSON_BYTES, "JSON file")?;
    input::parse_json(&text).map_err(|e| format!("{}: not valid JSON: {e}", file.display()))
}

fn require_layer_data(layer: Layer, path: &str) -> Result<Layer, String> {
    if let Layer::Conv(c) = &layer {
        c.weight.require(&join(path, "weight"))?;
        if let Some(b) = &c.bias {
            b.require(&join(path, "bias"))?;
        }
    }
    Ok(layer)
}

/// A number that is a float32 value exactly (a model's scale, written out as JSON).
fn exact_f32(v: &Value, path: &str) -> Result<f32, String> {
    let x = v.as_f64().ok_or_else(|| field_err(path, format!("must be a number, got {}", short(v))))?;
    let f = x as f32;
    if f as f64 != x {
        return Err(field_err(path, format!("{x} is not a float32 value: write the model's float32 scale exactly")));
    }
    Ok(f)
}

/// One float32 scale of ONNX Runtime's requantization, as the hardware takes it.
fn parse_scale(v: &Value, path: &str) -> Result<OrtScale, String> {
    let f = exact_f32(v, path)?;
    let x = f as f64;
    OrtScale::of(f).ok_or_else(|| field_err(path, format!("{x} is out of range: allowed a normal float32 from 2^-105 to below 2^23 (ONNX Runtime's x_scale·w_scale/y_scale)")))
}

/// `{"multiplier", "shift", "zero_point", "relu"}`, or ONNX Runtime's `{"scale", "zero_point",
/// "relu"}` with a float32 scale, or an array of one float32 scale per output channel
/// (docs/onnx.md). Returns the settings and the per-channel scales.
fn parse_requant(r: &Obj) -> Result<(Requant, Option<Vec<OrtScale>>), String> {
    let (zl, zh) = Requant::ZERO_POINT;
    if let Some(sv) = r.get("scale") {
        r.only(&["scale", "zero_point", "relu"])?;
        let path = r.path_of("scale");
        let channels = match sv.as_array() {
            Some(a) if a.is_empty() => return Err(field_err(&path, "must be a number or a non-empty array of numbers (one per output channel)")),
            Some(a) => Some(a.iter().enumerate().map(|(i, v)| parse_scale(v, &format!("{path}[{i}]"))).collect::<Result<Vec<_>, _>>()?),
            None => None,
        };
        let ort = match &channels {
            Some(c) => c[0],
            None => parse_scale(sv, &path)?,
        };
        let q = Requant {
            multiplier: 0,
            shift: 0,
            zero_point: r.int("zero_point", zl, zh)? as i32,
            relu: r.bool_or("relu", false)?,
            ort: Some(ort),
        };
        return Ok((q, channels));
    }
    r.only(&["multiplier", "shift", "zero_point", "relu"])?;
    let (ml, mh) = Requant::MULTIPLIER;
    let (sl, sh) = Requant::SHIFT;
    let q = Requant {
        multiplier: r.int("multiplier", ml, mh)? as i32,
        shift: r.int("shift", sl, sh)? as u32,
        zero_point: r.int("zero_point", zl, zh)? as i32,
        relu: r.bool_or("relu", false)?,
        ort: None,
    };
    Ok((q, None))
}

/// The last layer that reads each tensor (index 0: the input, j + 1: layer j's output; a
/// tensor nobody reads: the layer that writes it, the network output: the last layer).
fn last_reads(n: usize, sources: &[Vec<Source>]) -> Vec<usize> {
    let mut last: Vec<usize> = (0..=n).map(|t| t.saturating_sub(1)).collect();
    for (i, src) in sources.iter().enumerate() {
        for s in src {
            let t = match s {
                Source::Input => 0,
                Source::Layer(j) => j + 1,
            };
            last[t] = last[t].max(i);
        }
    }
    if let Some(l) = last.last_mut() {
        *l = n.saturating_sub(1);
    }
    last
}

/// Refuses a network whose tensors live at one layer hold more than [`MAX_LIVE_ELEMENTS`],
/// naming the layer (a tensor is live from the layer that writes it to the last that reads it).
fn check_live(shapes: &[Vec<usize>], sources: &[Vec<Source>]) -> Result<(), String> {
    let n = sources.len();
    let last = last_reads(n, sources);
    // Elements live at each layer, as differences: +size where a tensor appears, −size after its last read.
    let mut delta = vec![0i128; n + 1];
    for (t, shape) in shapes.iter().enumerate() {
        let size = shape.iter().map(|&d| d as i128).product::<i128>();
        delta[t.saturating_sub(1)] += size;
        delta[last[t] + 1] -= size;
    }
    let mut live = 0i128;
    for (i, d) in delta.iter().take(n).enumerate() {
        live += d;
        if live > MAX_LIVE_ELEMENTS as i128 {
            return Err(field_err(&format!("layers[{i}]"), format!("the tensors live at this layer hold {live} elements: allowed at most {MAX_LIVE_ELEMENTS} (a tensor lives from the layer that writes it to the last that reads it)")));
        }
    }
    Ok(())
}

/// A network layer's `"inputs"`: each `"input"` or the index of an earlier layer; by default the
/// previous layer's output (or the input). An add needs two.
fn parse_sources(o: &Obj, i: usize, layer: &Layer) -> Result<Vec<Source>, String> {
    let want = if matches!(layer, Layer::Add(_)) { 2 } else { 1 };
    let Some(v) = o.get("inputs") else {
        if want == 2 {
            return Err(field_err(&o.path_of("inputs"), "an add needs \"inputs\": two sources, each \"input\" or the index of an earlier layer"));
        }
        return Ok(vec![if i == 0 { Source::Input } else { Source::Layer(i - 1) }]);
    };
    let path = o.path_of("inputs");
    let arr = v.as_array().filter(|a| a.len() == want).ok_or_else(|| {
        field_err(&path, format!("must be an array of {want} source(s) for {}, each \"input\" or the index of an earlier layer", layer.op()))
    })?;
    arr.iter()
        .enumerate()
        .map(|(j, e)| match e {
            Value::String(s) if s == "input" => Ok(Source::Input),
            _ => match e.as_u64() {
                Some(n) if (n as usize) < i => Ok(Source::Layer(n as usize)),
                _ if i == 0 => Err(field_err(&format!("{path}[{j}]"), format!("the first layer can read only \"input\", got {}", short(e)))),
                _ => Err(field_err(&format!("{path}[{j}]"), format!("must be \"input\" or the index of an earlier layer (0 to {}), got {}", i - 1, short(e)))),
            },
        })
        .collect()
}

/// A JSON value for a message: its text when short, else its kind.
fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.len() <= 24 { t } else { kind(v).to_string() }
}

/// A positive, finite float32 scale given exactly (`path` names it).
fn parse_f32_scale(v: &Value, path: &str) -> Result<f32, String> {
    let f = exact_f32(v, path)?;
    let x = f as f64;
    if !(f.is_normal() && f > 0.0) {
        return Err(field_err(path, format!("{x} is out of range: allowed a positive normal float32")));
    }
    Ok(f)
}

/// `"a"` / `"b"`: `{"scale", "zero_point"}` of an add's operand.
fn parse_operand(o: &Obj, field: &str) -> Result<(f32, i32), String> {
    let q = Obj::new(o.req(field)?, &o.path_of(field))?;
    q.only(&["scale", "zero_point"])?;
    Ok((parse_f32_scale(q.req("scale")?, &q.path_of("scale"))?, q.int("zero_point", -128, 127)? as i32))
}

fn parse_layer(o: &Obj, base: &Path, extra: &[&str], network: bool) -> Result<Layer, String> {
    let op = o.str("op")?;
    let g = MAX_GEOMETRY;
    match op {
        "add" if !network => Err(field_err(&o.path_of("op"), "\"add\" reads two tensors: it is a network layer (a case file has one input)")),
        "add" => {
            let mut allowed = vec!["op", "a", "b", "scale", "zero_point", "relu"];
            allowed.extend_from_slice(extra);
            o.only(&allowed)?;
            let (a_scale, a_zp) = parse_operand(o, "a")?;
            let (b_scale, b_zp) = parse_operand(o, "b")?;
            let y_scale = parse_f32_scale(o.req("scale")?, &o.path_of("scale"))?;
            let y_zp = o.int("zero_point", -128, 127)? as i32;
            let qmin = if o.bool_or("relu", false)? { y_zp } else { -128 };
            Ok(Layer::Add(AddLayer { q: QAdd { a_scale, a_zp, b_scale, b_zp, y_scale, y_zp, qmin } }))
        }
        "conv2d" => {
            let mut allowed = vec!["op", "weight", "bias", "stride", "padding", "pad_value", "requant"];
            allowed.extend_from_slice(extra);
            o.only(&allowed)?;
            let weight = parse_tensor::<i8>(o.req("weight")?, &o.path_of("weight"), base, Some(4))?;
            let bias = o
                .get("bias")
                .map(|b| parse_tensor::<i32>(b, &o.path_of("bias"), base, Some(1)))
                .transpose()?;
            let (padding, padding_end) = o.pads("padding", 0, g)?;
            let params = ConvParams {
                stride: o.pair("stride", 1, g, Some([1, 1]))?,
                padding,
                padding_end, pad_value: if o.get("pad_value").is_some() { o.int("pad_value", -128, 127)? as i8 } else { 0 },
            };
            let (requant, channel_scales) = match o.get("requant") {
                None => (None, None),
                Some(rv) => {
                    let (q, s) = parse_requant(&Obj::new(rv, &o.path_of("requant"))?)?;
                    (Some(q), s)
                }
            };
            if let Some(s) = &channel_scales {
                let k = weight.shape.first().copied().unwrap_or(0);
                if s.len() != k {
                    return Err(field_err(&join(&o.path_of("requant"), "scale"), format!("has {} scales but the weight has {k} output channels: give one per output channel", s.len())));
                }
            }
            Ok(Layer::Conv(ConvLayer { weight, bias, params, requant, channel_scales }))
        }
        "maxpool2d" | "avgpool2d" => {
            let mut allowed = vec!["op", "kernel", "stride", "padding"];
            allowed.extend_from_slice(extra);
            o.only(&allowed)?;
            let kernel = o.pair("kernel", 1, g, None)?;
            let (padding, padding_end) = o.pads("padding", 0, g)?;
            let params = PoolParams { kernel, stride: o.pair("stride", 1, g, Some(kernel))?, padding, padding_end };
            let mode = if op == "maxpool2d" { PoolMode::Max } else { PoolMode::Avg };
            Ok(Layer::Pool(PoolLayer { mode, params }))
        }
        other => Err(field_err(
            &o.path_of("op"),
            // A case file's ops, and a network's (which adds "add").
            format!("unknown op \"{other}\": known ops are {}", OPS[..if network { OPS.len() } else { 3 }].join(", ")),
        )),
    }
}
