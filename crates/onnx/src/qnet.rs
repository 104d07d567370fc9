//! The imported network: a chain of quantized layers in the int8 domain, with the host's
//! quantization of the input and dequantization of the output, and its golden execution
//! (ONNX Runtime's kernels: [`accelgen_golden::ort`]).

use accelgen_golden::ort::{ort_requantize_channels, qconv_acc_groups, qmaxpool, OrtRequant, QConvGeometry};
use accelgen_golden::ort_add::{qadd, AddWay, QAdd};
use std::collections::HashMap;
use accelgen_formats::Output;
use accelgen_golden::{Tensor, TensorI8};

/// How a tensor at the network's edge is quantized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeQuant {
    /// Scale.
    pub scale: f32,
    /// Zero point in the tensor's own type (0..=255 when `unsigned`).
    pub zero_point: i32,
    /// uint8 (else int8).
    pub unsigned: bool,
}

impl EdgeQuant {
    /// The zero point in the int8 domain the hardware computes in (uint8 values less 128).
    pub fn zp_i8(&self) -> i32 {
        if self.unsigned {
            self.zero_point - 128
        } else {
            self.zero_point
        }
    }

    /// ONNX Runtime's QuantizeLinear of one value, in the int8 domain:
    /// `saturate(round_half_even(x / scale) + zero_point)`, the division in float32.
    pub fn quantize(&self, x: f32) -> i8 {
        let (lo, hi) = if self.unsigned { (0, 255) } else { (-128, 127) };
        let q = (accelgen_golden::ort::round_half_even(x / self.scale) + self.zero_point as i64).clamp(lo, hi);
        (if self.unsigned { q - 128 } else { q }) as i8
    }

    /// DequantizeLinear of one int8-domain value: `float32(q − zero_point) · scale`.
    pub fn dequantize(&self, q: i8) -> f32 {
        (q as i32 - self.zp_i8()) as f32 * self.scale
    }

    /// An int8-domain value in the tensor's own type (uint8 values plus 128).
    pub fn to_own(&self, q: i8) -> i32 {
        if self.unsigned {
            q as i32 + 128
        } else {
            q as i32
        }
    }
}

/// The network's input or output.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// The graph's name for it.
    pub name: String,
    /// Its shape without the batch dimension (`[C, H, W]`, or `[N]` for a vector).
    pub shape: Vec<usize>,
    /// Its quantization.
    pub quant: EdgeQuant,
    /// The graph gives or wants float32 (quantized or dequantized on the host), else the
    /// integer type itself.
    pub float: bool,
    /// An integer-exact float model (no quantization in the graph: float32 tensors that hold
    /// integers): a float input must hold integers of the int8 range and is taken as it is,
    /// never rounded; a float output is the integer result as float32.
    pub exact: bool,
}

/// What a layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// A quantized convolution (a fully connected layer is one on a `[K, 1, 1]` input).
    Conv {
        /// `[K, C, kh, kw]`, zero point 0.
        weight: TensorI8,
        /// `[K]`, at scale x_scale·w_scale.
        bias: Vec<i32>,
        /// The input's zero point (int8 domain): padding value and subtrahend.
        x_zp: i32,
        /// Strides and padding.
        geom: QConvGeometry,
        /// One setting, or one per output channel; none: the output is the int32 sums (an
        /// integer model's last layer: ConvInteger, or an integer-exact float Conv).
        requant: Vec<OrtRequant>,
        /// ONNX's `group`: the weight is `[K, C / groups, kh, kw]` (depthwise: C groups).
        groups: usize,
    },
    /// Max pooling.
    MaxPool {
        /// Window `[kh, kw]`.
        kernel: [usize; 2],
        /// Strides and padding.
        geom: QConvGeometry,
    },
    /// `[C, H, W]` to `[C·H·W, 1, 1]`: no data moves.
    Flatten,
    /// An element-wise Add of two int8 tensors of one shape, each with its own scale and zero
    /// point, requantized to the output's (ONNX Runtime's arithmetic, in the way it would run it).
    Add {
        /// Scales, zero points and the lower clamp.
        q: QAdd,
        /// QLinearAdd's kernel, or DequantizeLinear → Add → QuantizeLinear.
        way: AddWay,
    },
}

/// One layer, named by its ONNX node.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The node's name.
    pub node: String,
    /// The node's op_type (of the QDQ group's centre in a QDQ model).
    pub op_type: String,
    /// What it computes.
    pub kind: LayerKind,
    /// Its output `[C, H, W]`.
    pub out: [usize; 3],
    /// The int8 tensors it reads, by name (one, or an Add's two).
    pub inputs: Vec<String>,
    /// The int8 tensor it writes.
    pub output: String,
}

/// An imported network.
#[derive(Clone, Debug, PartialEq)]
pub struct QNet {
    /// The model file.
    pub file: String,
    /// Input.
    pub input: Edge,
    /// The int8 tensor the layers read as the input (the graph input, or its QuantizeLinear's
    /// output).
    pub first: String,
    /// Layers, in a topological order; the last one's output is the network's.
    pub layers: Vec<Layer>,
    /// Output.
    pub output: Edge,
}

impl QNet {
    /// The input `[C, H, W]`.
    pub fn input_chw(&self) -> [usize; 3] {
        chw(&self.input.shape)
    }

    /// Runs the layers on an int8-domain input `[C, H, W]` (golden: ONNX Runtime's kernels);
    /// the output is int8, or the int32 sums of a last layer without requantization. Each layer
    /// reads its inputs by name, so a graph whose tensors have several readers (a residual
    /// block's shortcut) runs as well as a chain.
    pub fn run(&self, x: &TensorI8) -> Result<Output, String> {
        let mut env: HashMap<&str, TensorI8> = HashMap::new();
        env.insert(&self.first, x.clone());
        let mut last = self.first.as_str();
        for (i, l) in self.layers.iter().enumerate() {
            let arg = |k: usize| -> Result<&TensorI8, String> {
                let name = l.inputs.get(k).ok_or_else(|| format!("node '{}': input {k} is missing", l.node))?;
                env.get(name.as_str()).ok_or_else(|| format!("node '{}': reads '{name}' before any layer writes it", l.node))
            };
            let t = arg(0)?;
            let y = match &l.kind {
                LayerKind::Conv { weight, bias, x_zp, geom, requant, groups } => {
                    let acc = qconv_acc_groups(t, *x_zp, weight, bias, geom, *groups).map_err(|e| format!("node '{}': {e}", l.node))?;
                    if requant.is_empty() {
                        if i + 1 != self.layers.len() {
                            return Err(format!("node '{}': int32 sums feed another layer", l.node));
                        }
                        return Ok(Output::I32(acc));
                    }
                    ort_requantize_channels(&acc, requant)?
                }
                LayerKind::MaxPool { kernel, geom } => qmaxpool(t, *kernel, geom).map_err(|e| format!("node '{}': {e}", l.node))?,
                LayerKind::Flatten => Tensor { shape: vec![t.len(), 1, 1], data: t.data.clone() },
                LayerKind::Add { q, way } => qadd(t, arg(1)?, q, *way).map_err(|e| format!("node '{}': {e}", l.node))?,
            };
            env.insert(&l.output, y);
            last = &l.output;
        }
        env.remove(last).map(Output::I8).ok_or_else(|| format!("the output tensor '{last}' was never written"))
    }

    /// Whether the layers form a chain: each reads only the tensor the layer before it wrote
    /// (the first the input), and no tensor is read twice.
    pub fn is_chain(&self) -> bool {
        self.first_branch().is_none()
    }

    /// The first layer that reads anything but the tensor the layer before it wrote (an Add's
    /// second operand, a shortcut's second reader), with that tensor's name.
    pub fn first_branch(&self) -> Option<(&Layer, &str)> {
        let mut prev = self.first.as_str();
        for l in &self.layers {
            if l.inputs.len() != 1 || l.inputs[0] != prev {
                return Some((l, prev));
            }
            prev = &l.output;
        }
        None
    }

    /// [`QNet::run`] of a model whose output is int8.
    pub fn run_int8(&self, x: &TensorI8) -> Result<TensorI8, String> {
        match self.run(x)? {
            Output::I8(t) => Ok(t),
            Output::I32(_) => Err("the model's output is int32 sums, not int8".into()),
        }
    }

    /// Quantizes one float32 input image as the model's first QuantizeLinear does.
    pub fn quantize_input(&self, x: &[f32]) -> Result<TensorI8, String> {
        let [c, h, w] = self.input_chw();
        if x.len() != c * h * w {
            return Err(format!("an input image has {} values, the model takes {c}x{h}x{w}", x.len()));
        }
        if self.input.exact {
            // An integer-exact model: integers of the int8 (uint8) range, taken as they are.
            let (lo, hi) = if self.input.quant.unsigned { (0.0, 255.0) } else { (-128.0, 127.0) };
            if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| v.fract() != 0.0 || !(lo..=hi).contains(*v)) {
                return Err(format!(
                    "element {i} is {v}: the model has no quantization, so its float input must hold integers from {lo} to {hi} (it is computed exactly, never rounded)"
                ));
            }
        }
        Tensor::from_vec(&[c, h, w], x.iter().map(|&v| self.input.quant.quantize(v)).collect())
    }
}

/// A shape as `[C, H, W]` (a vector `[N]` is `[N, 1, 1]`).
pub fn chw(shape: &[usize]) -> [usize; 3] {
    match shape {
        [c, h, w] => [*c, *h, *w],
        [n] => [*n, 1, 1],
        _ => [shape.iter().product(), 1, 1],
    }
}
