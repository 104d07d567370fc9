//! An imported model as an accelgen network, the form the compiler and `accel_top` run
//! (docs/onnx.md, "On the hardware"):
//! - a convolution keeps its weights; the input zero point becomes the padding value, and the
//!   `−x_zp · Σ w` the zero point contributes over every tap (padded taps included, since they
//!   hold `x_zp`) is folded into the bias, so the hardware's `Σ x·w + bias'` equals
//!   `Σ (x − x_zp)·w + bias`; the requantizer is ONNX Runtime's (`"scale"`);
//! - a fully connected layer after a Flatten is a convolution whose kernel covers the whole
//!   `[C, H, W]` map (the flattened order is the map's C, H, W order), so Flatten moves nothing;
//! - max pooling keeps its window (padding never wins, as in ONNX Runtime).
//!
//! Not on the hardware (refused naming the node): scales outside the requantizer's range.

use std::path::{Path, PathBuf};

use accelgen_formats::{AddLayer, ConvLayer, Layer as NetLayer, Network, PoolLayer, Source, TensorField};
use accelgen_golden::ort_add::AddWay;
use std::collections::HashMap;
use serde_json::{json, Value};
use accelgen_golden::{ConvParams, OrtScale, PoolMode, PoolParams, Requant, Tensor, TensorI8};

use crate::qnet::{LayerKind, QNet};

/// The network's layers with the ONNX node each comes from.
#[derive(Clone, Debug)]
pub struct HwNet {
    /// The network (input without data until [`HwNet::with_input`]).
    pub net: Network,
    /// The ONNX node of each layer.
    pub nodes: Vec<String>,
}

impl HwNet {
    /// `msg` (a message of the compiler or the hardware run) with the ONNX node of the first
    /// layer it names (`layers[i]`) added.
    pub fn name_layers(&self, msg: &str) -> String {
        let at = msg.find("layers[").map(|p| p + "layers[".len());
        let node = at.and_then(|p| msg[p..].split(']').next()).and_then(|i| i.parse::<usize>().ok()).and_then(|i| self.nodes.get(i).map(|n| (i, n)));
        match node {
            Some((i, n)) => format!("{msg} (layers[{i}] is node '{n}')"),
            None => msg.to_string(),
        }
    }

    /// The network with `input` as its input data.
    pub fn with_input(&self, input: &TensorI8) -> Network {
        let mut n = self.net.clone();
        n.input = TensorField { shape: input.shape.clone(), data: Some(input.data.clone()) };
        n
    }
}

/// The network of `q`: a chain, or a graph whose layers name their inputs (residual adds: the
/// compiler runs each as a load-add into the conv layer before it, docs/accelerator.md).
pub fn to_network(q: &QNet) -> Result<HwNet, String> {
    let mut layers = vec![];
    let mut sources = vec![];
    let mut nodes = vec![];
    let mut shapes = vec![q.input_chw().to_vec()];
    // Each int8 tensor: the layer whose output it is, and its map as the hardware holds it
    // (Flatten does not change it).
    let mut tensors: HashMap<&str, (Source, Vec<usize>)> = HashMap::new();
    tensors.insert(q.first.as_str(), (Source::Input, shapes[0].clone()));
    for l in &q.layers {
        let here = |e: String| format!("{}: node '{}' ({}): {e}", q.file, l.node, l.op_type);
        let read = |i: usize| {
            l.inputs.get(i).and_then(|t| tensors.get(t.as_str())).cloned().ok_or_else(|| here(format!("reads {:?}, which no layer before it writes", l.inputs)))
        };
        let (src, shape) = read(0)?;
        let mut src = vec![src];
        let layer = match &l.kind {
            LayerKind::Add { q: qa, way } => {
                if *way != AddWay::Fused {
                    return Err(here("DequantizeLinear → Add → QuantizeLinear computed unfused has no network-file form (the reference is QLinearAdd)".into()));
                }
                let (b, b_shape) = read(1)?;
                if b_shape != shape {
                    return Err(here(format!("adds a {shape:?} and a {b_shape:?} map: the operands must have one shape")));
                }
                if qa.qmin != -128 && qa.qmin != qa.y_zp {
                    return Err(here(format!("clamps its output below at {} (a network file's add clamps at -128 or, with relu, its zero point {})", qa.qmin, qa.y_zp)));
                }
                src.push(b);
                NetLayer::Add(AddLayer { q: *qa })
            }
            LayerKind::Flatten => {
                tensors.insert(l.output.as_str(), (src[0], shape));
                continue;
            }
            LayerKind::MaxPool { kernel, geom } => {
                // ONNX's pads are [top, left, bottom, right]; asymmetric ones run as they are.
                let (padding, end) = ([geom.pads[0], geom.pads[1]], [geom.pads[2], geom.pads[3]]);
                NetLayer::Pool(PoolLayer { mode: PoolMode::Max, params: PoolParams { kernel: *kernel, stride: geom.stride, padding, padding_end: (end != padding).then_some(end) } })
            }
            LayerKind::Conv { weight, bias, x_zp, geom, requant, groups } => {
                // A grouped convolution runs as the dense one whose weights are zero between
                // groups (exact: a zero weight adds nothing, to the sums or to the folded zero
                // point), at C / groups times its MACs until the PE array has a grouped mapping
                // (issue #30; docs/onnx.md).
                let dense = if *groups > 1 { dense_of_grouped(weight, *groups) } else { weight.clone() };
                let weight = &dense;
                // ONNX's pads are [top, left, bottom, right]; asymmetric ones run as they are.
                let (padding, end) = ([geom.pads[0], geom.pads[1]], [geom.pads[2], geom.pads[3]]);
                let padding_end = (end != padding).then_some(end);
                // No requantization setting: the int32 sums are the output (an integer model's
                // last layer). Otherwise one zero point and clamp, and one scale or one per channel
                // (`per_channel=True`, from the scale bank).
                let (hw_requant, channel_scales) = match requant.first() {
                    None => (None, None),
                    Some(&rq) => {
                        if requant.iter().any(|r| (r.zero_point, r.qmin, r.qmax) != (rq.zero_point, rq.qmin, rq.qmax)) {
                            return Err(here("the output channels' zero points or clamps differ: accel_top takes one per layer".into()));
                        }
                        let scale_of = |s: f32| OrtScale::of(s).ok_or_else(|| here(format!("scale {s:e} is outside the requantizer's range (2^-105 to 2^23)")));
                        let ort = scale_of(rq.scale)?;
                        let channels = if requant.len() > 1 { Some(requant.iter().map(|r| scale_of(r.scale)).collect::<Result<Vec<_>, _>>()?) } else { None };
                        (Some(Requant { multiplier: 0, shift: 0, zero_point: rq.zero_point, relu: rq.qmin > -128, ort: Some(ort) }), channels)
                    }
                };
                // A fully connected layer on a flattened map: its kernel covers the map.
                let [k, c] = [weight.shape[0], weight.shape[1]];
                let w = if weight.shape[2..] == [1, 1] && shape[1..] != [1, 1] && c == shape.iter().product::<usize>() {
                    Tensor { shape: vec![k, shape[0], shape[1], shape[2]], data: weight.data.clone() }
                } else {
                    weight.clone()
                };
                let taps = w.shape[1..].iter().product::<usize>();
                let folded = bias
                    .iter()
                    .enumerate()
                    .map(|(o, &b)| {
                        let sum: i64 = w.data[o * taps..(o + 1) * taps].iter().map(|&v| v as i64).sum();
                        i32::try_from(b as i64 - *x_zp as i64 * sum).map_err(|_| here(format!("the bias of output {o} with the zero point folded in overflows int32")))
                    })
                    .collect::<Result<Vec<i32>, String>>()?;
                NetLayer::Conv(ConvLayer {
                    weight: TensorField { shape: w.shape.clone(), data: Some(w.data) },
                    bias: Some(TensorField { shape: vec![k], data: Some(folded) }),
                    params: ConvParams { stride: geom.stride, padding, padding_end, pad_value: *x_zp as i8 },
                    requant: hw_requant,
                    channel_scales,
                })
            }
        };
        let path = format!("layers[{}]", layers.len());
        let (out, _) = layer.output_shape(&shape, &path).map_err(&here)?;
        tensors.insert(l.output.as_str(), (Source::Layer(layers.len()), out.clone()));
        shapes.push(out);
        layers.push(layer);
        sources.push(src);
        nodes.push(l.node.clone());
    }
    if layers.is_empty() {
        return Err(format!("{}: the model has no layer that runs on accel_top", q.file));
    }
    let input = TensorField { shape: shapes[0].clone(), data: None };
    Ok(HwNet { net: Network { input, layers, sources, shapes, expected: None }, nodes })
}

/// The `[K, C, kh, kw]` weight of a grouped convolution's `[K, C / groups, kh, kw]` one: output
/// channel `o` keeps its kernels on the input channels of its group, zeros elsewhere.
pub fn dense_of_grouped(w: &TensorI8, groups: usize) -> TensorI8 {
    let [k, kc, kh, kw] = [w.shape[0], w.shape[1], w.shape[2], w.shape[3]];
    let (c, taps, k_per) = (kc * groups, kh * kw, k / groups);
    let mut data = vec![0i8; k * c * taps];
    for o in 0..k {
        let c0 = (o / k_per) * kc;
        for ci in 0..kc {
            let src = (o * kc + ci) * taps;
            let dst = (o * c + c0 + ci) * taps;
            data[dst..dst + taps].copy_from_slice(&w.data[src..src + taps]);
        }
    }
    Tensor { shape: vec![k, c, kh, kw], data }
}

/// A node name as part of a file name: letters, digits, `-`, `_` and `.` kept, anything else `_`.
fn file_stem(node: &str, i: usize) -> String {
    let clean: String = node.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if clean.trim_matches(['.', '_']).is_empty() {
        format!("layer{i}")
    } else {
        clean
    }
}

/// The network as an accelgen network file at `file`: weights and biases as `.npy` files beside
/// it named by their ONNX nodes (`<node>.weight.npy`, `<node>.bias.npy`), the input as
/// `<stem>.input.npy` when given (else its shape only). Returns the files written; none is
/// written if one of them exists and `force` is off.
pub fn write_network(hw: &HwNet, input: Option<&TensorI8>, file: &Path, force: bool) -> Result<Vec<PathBuf>, String> {
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("network").to_string();
    let mut files: Vec<(PathBuf, NpyData)> = vec![];
    let mut layers = vec![];
    let mut seen = std::collections::HashSet::new();
    for (i, (layer, node)) in hw.net.layers.iter().zip(&hw.nodes).enumerate() {
        let mut name = file_stem(node, i);
        if !seen.insert(name.clone()) {
            name = format!("{name}.{i}");
            seen.insert(name.clone());
        }
        layers.push(match layer {
            NetLayer::Conv(c) => {
                let w = format!("{name}.weight.npy");
                let b = format!("{name}.bias.npy");
                files.push((dir.join(&w), NpyData::I8(c.weight.shape.clone(), c.weight.data.clone().unwrap_or_default())));
                let bias = c.bias.clone().expect("imported convolutions have a bias");
                files.push((dir.join(&b), NpyData::I32(bias.shape.clone(), bias.data.unwrap_or_default())));
                let mut doc = json!({
                    "op": "conv2d",
                    "weight": w,
                    "bias": b,
                    "stride": c.params.stride,
                    "padding": if c.params.padding_end.is_some() { json!(c.params.pads()) } else { json!(c.params.padding) },
                    "pad_value": c.params.pad_value,
                });
                // Without requantization (an integer model's last layer) the output is the sums.
                if let Some(rq) = c.requant {
                    let scale = match (&c.channel_scales, rq.ort) {
                        (Some(s), _) => json!(s.iter().map(|s| s.to_f32() as f64).collect::<Vec<_>>()),
                        (None, Some(o)) => json!(o.to_f32() as f64),
                        (None, None) => return Err("an imported convolution requantizes with ONNX Runtime's scale".into()),
                    };
                    doc["requant"] = json!({"scale": scale, "zero_point": rq.zero_point, "relu": rq.relu});
                }
                doc
            }
            NetLayer::Pool(p) => json!({
                "op": layer.op(),
                "kernel": p.params.kernel,
                "stride": p.params.stride,
                "padding": if p.params.padding_end.is_some() { json!(p.params.pads()) } else { json!(p.params.padding) },
            }),
            NetLayer::Add(a) => json!({
                "op": "add",
                "a": {"scale": a.q.a_scale as f64, "zero_point": a.q.a_zp},
                "b": {"scale": a.q.b_scale as f64, "zero_point": a.q.b_zp},
                "scale": a.q.y_scale as f64,
                "zero_point": a.q.y_zp,
                "relu": a.q.qmin > -128,
            }),
        });
        // A layer that reads other than its predecessor's output names its inputs.
        let prev = if i == 0 { Source::Input } else { Source::Layer(i - 1) };
        if matches!(layer, NetLayer::Add(_)) || hw.net.sources[i] != [prev] {
            let refs: Vec<Value> = hw.net.sources[i].iter().map(|s| match s {
                Source::Input => json!("input"),
                Source::Layer(j) => json!(j),
            }).collect();
            layers.last_mut().expect("pushed")["inputs"] = json!(refs);
        }
    }
    let input_field: Value = match input {
        Some(t) => {
            let f = format!("{stem}.input.npy");
            files.push((dir.join(&f), NpyData::I8(t.shape.clone(), t.data.clone())));
            json!(f)
        }
        None => json!({ "shape": hw.net.shapes[0] }),
    };
    let doc = json!({ "input": input_field, "layers": layers });
    if !force {
        if let Some(p) = std::iter::once(file.to_path_buf()).chain(files.iter().map(|(p, _)| p.clone())).find(|p| p.exists()) {
            return Err(format!("{} already exists: pass --force to overwrite it", p.display()));
        }
    }
    let mut written = vec![];
    for (p, d) in &files {
        d.write(p)?;
        written.push(p.clone());
    }
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
    std::fs::write(file, text).map_err(|e| format!("{}: cannot write: {e}", file.display()))?;
    written.push(file.to_path_buf());
    Ok(written)
}

/// A tensor to write as `.npy`.
enum NpyData {
    I8(Vec<usize>, Vec<i8>),
    I32(Vec<usize>, Vec<i32>),
}

impl NpyData {
    fn write(&self, p: &Path) -> Result<(), String> {
        let io = |e: std::io::Error| format!("{}: cannot write: {e}", p.display());
        let f = std::io::BufWriter::new(std::fs::File::create(p).map_err(io)?);
        let shape = |s: &[usize]| s.iter().map(|&d| d as u64).collect::<Vec<_>>();
        match self {
            NpyData::I8(s, v) => crate::io::write_all(f, &shape(s), v.iter().copied()),
            NpyData::I32(s, v) => crate::io::write_all(f, &shape(s), v.iter().copied()),
        }
        .map_err(io)
    }
}
