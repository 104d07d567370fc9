//! From an ONNX graph to a [`QNet`]: QDQ groups (DequantizeLinear → Conv/Gemm/MatMul/MaxPool/
//! Flatten → QuantizeLinear, as `quantize_static` writes them by default) and QOperator nodes
//! (QLinearConv, QLinearMatMul, QGemm, int8 MaxPool and Flatten) become the same layers, with
//! exactly the arithmetic ONNX Runtime's CPU kernels use for them (docs/onnx.md). Anything else
//! is refused naming the node, its op_type and what is supported: nothing is approximated.

use std::collections::HashMap;

use accelgen_golden::ort::{ort_scale, window_out, OrtRequant, QConvGeometry};
use accelgen_golden::Tensor;

use crate::model::{Const, ConstData, Model, MAX_TENSOR_ELEMENTS};
use crate::proto::{dtype, AttributeProto, NodeProto};
use crate::qnet::{chw, Edge, EdgeQuant, Layer, LayerKind, QNet};
use accelgen_golden::ort_add::{AddWay, QAdd};

/// The operators read, for messages.
pub const SUPPORTED: &str = "QuantizeLinear, DequantizeLinear, Conv, Gemm, MatMul, MaxPool, GlobalAveragePool, AveragePool (the whole map), Add, Relu, Flatten, Reshape (a flatten), \
QLinearConv, QLinearMatMul, QGemm, QLinearAdd, QLinearGlobalAveragePool and QLinearAveragePool (the whole map) (com.microsoft); in a model without quantization (integers as float32, int8 or uint8): \
Conv, ConvInteger, MatMulInteger, MaxPool, GlobalMaxPool";

/// A quantized activation: its scale, int8-domain zero point and type.
#[derive(Clone, Copy, Debug, PartialEq)]
struct QAct {
    scale: f32,
    zp: i32,
    unsigned: bool,
}

/// A dequantized constant (weights or bias): int8-domain values, scales, zero points (int8
/// domain), the quantization axis.
struct QConst {
    dims: Vec<usize>,
    values: Vec<i32>,
    scales: Vec<f32>,
    zps: Vec<i32>,
}

/// A float op of a QDQ group waiting for its QuantizeLinear.
struct Pending {
    node: String,
    op_type: String,
    /// The quantized tensors it reads.
    src: Vec<String>,
    /// The shape it reads.
    in_shape: [usize; 3],
    input: QAct,
    kind: PendingKind,
    out: [usize; 3],
    relu: bool,
}

enum PendingKind {
    Conv { weight: Tensor<i8>, bias: Vec<i32>, w_scales: Vec<f32>, geom: QConvGeometry, groups: usize },
    MaxPool { kernel: [usize; 2], geom: QConvGeometry },
    /// GlobalAveragePool of a `[C, H, W]` map.
    GlobalAvgPool,
    Flatten,
    /// An element-wise Add of the input and a second operand `b` of the same shape, in one of
    /// ONNX Runtime's two ways.
    Add { b: QAct, way: AddWay },
}

struct Importer<'a> {
    m: &'a Model,
    input: Option<Edge>,
    /// Quantized activations of the chain, by tensor name.
    acts: HashMap<String, QAct>,
    /// Float tensors that are a DequantizeLinear of a quantized activation.
    deq: HashMap<String, String>,
    /// Float tensors that are a DequantizeLinear of a constant.
    cdeq: HashMap<String, QConst>,
    pending: HashMap<String, Pending>,
    /// The shape of each quantized tensor, by name.
    shapes: HashMap<String, [usize; 3]>,
    /// The int8 tensor the first layer reads (the graph input, or its QuantizeLinear's output).
    first: String,
    /// The input shape of the node being imported.
    shape: [usize; 3],
    layers: Vec<Layer>,
    /// The final DequantizeLinear: its output name and the quantized tensor it reads.
    out_deq: Option<(String, String)>,
    /// An integer model: no quantization operator in the graph (ONNX's integer-exact node
    /// tests; ConvInteger): tensors hold integers, scale 1.
    integer: bool,
    /// The chain ends in int32 sums (a convolution without requantization).
    raw: bool,
    /// The graph input's first dimension is rows, each an inference ([`rows_are_batch`]).
    rows: bool,
}

/// Operators that make a graph a quantized one (else it is an integer model).
const QUANT_OPS: [&str; 5] = ["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm"];

/// Imports a model read by [`crate::model::load`].
pub fn import(m: &Model) -> Result<QNet, String> {
    if m.inputs.len() != 1 || m.outputs.len() != 1 {
        return Err(format!(
            "{}: the graph has {} inputs and {} outputs besides its initializers (supported: one of each)",
            m.file,
            m.inputs.len(),
            m.outputs.len()
        ));
    }
    let mut im = Importer {
        m,
        input: None,
        acts: HashMap::new(),
        deq: HashMap::new(),
        cdeq: HashMap::new(),
        pending: HashMap::new(),
        shapes: HashMap::new(),
        first: String::new(),
        shape: [0; 3],
        layers: vec![],
        out_deq: None,
        integer: !m.nodes.iter().any(|n| QUANT_OPS.contains(&n.op_type.as_str())),
        raw: false,
        rows: false,
    };
    let gin = &m.inputs[0];
    im.rows = rows_are_batch(m);
    let in_dims = batch_dims(&gin.dims, im.rows).map_err(|e| format!("{}: graph input '{}': {e}", m.file, gin.name))?;
    let elements = in_dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64)).unwrap_or(u64::MAX);
    if in_dims.len() > 3 || elements == 0 || elements > MAX_TENSOR_ELEMENTS {
        return Err(format!(
            "{}: graph input '{}' is {:?} (supported: [1, C, H, W] or [1, N] with 1 to {MAX_TENSOR_ELEMENTS} elements)",
            m.file, gin.name, gin.dims
        ));
    }
    im.shape = chw(&in_dims);
    if im.integer && [dtype::FLOAT, dtype::INT8, dtype::UINT8].contains(&gin.elem_type) {
        // Integers as they are: scale 1, zero point 0 (uint8 values less 128 in the int8 domain).
        let unsigned = gin.elem_type == dtype::UINT8;
        let q = QAct { scale: 1.0, zp: if unsigned { -128 } else { 0 }, unsigned };
        im.input = Some(Edge { name: gin.name.clone(), shape: im.in_shape(), quant: edge(q), float: gin.elem_type == dtype::FLOAT, exact: true });
        im.first = gin.name.clone();
        im.chain_to(&gin.name.clone(), q);
    } else if gin.elem_type == dtype::INT8 || gin.elem_type == dtype::UINT8 {
        // An integer model: its first node (a QOperator one) gives the input's quantization.
        im.first = gin.name.clone();
        im.shapes.insert(gin.name.clone(), im.shape);
    } else if gin.elem_type != dtype::FLOAT {
        return Err(format!("{}: graph input '{}' is {} (supported: float32, int8, uint8)", m.file, gin.name, dtype::name(gin.elem_type)));
    }
    for n in &m.nodes {
        // An error about a layer that this node completes already names that layer's node.
        im.node(n).map_err(|e| {
            if e.starts_with("node '") {
                format!("{}: {e}", m.file)
            } else {
                format!("{}: node '{}' ({}): {e}", m.file, n.name, n.op_type)
            }
        })?;
    }
    im.finish()
}

impl Importer<'_> {
    fn node(&mut self, n: &NodeProto) -> Result<(), String> {
        let domain_ok = n.domain.is_empty() || n.domain == "ai.onnx" || (n.domain == "com.microsoft" && ["QGemm", "QLinearAdd", "QLinearGlobalAveragePool", "QLinearAveragePool"].contains(&n.op_type.as_str()));
        if !domain_ok {
            return Err(format!("domain '{}' is not supported (supported: {SUPPORTED})", n.domain));
        }
        // The shape this node reads: its first input's (a quantized tensor or a
        // DequantizeLinear of one; a QDQ group's op keeps its own in its pending entry).
        if let Some(x) = n.input.first() {
            let q = self.deq.get(x).unwrap_or(x);
            if let Some(s) = self.shapes.get(q) {
                self.shape = *s;
            }
        }
        match n.op_type.as_str() {
            "QuantizeLinear" => self.quantize_linear(n),
            "DequantizeLinear" => self.dequantize_linear(n),
            _ if self.raw => Err("it reads int32 sums, which only the graph output may be (supported: a layer without requantization last)".into()),
            "Conv" | "ConvInteger" if self.integer => self.integer_conv(n),
            "MatMulInteger" if self.integer => self.integer_matmul(n),
            "GlobalMaxPool" if self.integer => self.global_maxpool(n),
            "Conv" => self.float_conv(n),
            "Gemm" | "MatMul" => self.float_gemm(n),
            "MaxPool" | "Flatten" | "Reshape" => self.pool_or_flatten(n),
            "GlobalAveragePool" | "AveragePool" => {
                if n.op_type == "AveragePool" {
                    whole_map_window(n, &AVGPOOL_ATTRS, [self.shape[1], self.shape[2]])?;
                } else {
                    only_attrs(n, &[])?;
                }
                let q = self.float_input(n)?;
                self.pend(n, q, PendingKind::GlobalAvgPool, [self.shape[0], 1, 1])
            }
            "Relu" => self.relu(n),
            "Add" => self.float_add(n),
            "QLinearAdd" => self.qlinear_add(n),
            "QLinearConv" => self.qlinear_conv(n),
            "QLinearMatMul" | "QGemm" => self.qlinear_gemm(n),
            "QLinearGlobalAveragePool" | "QLinearAveragePool" => self.qlinear_global_avgpool(n),
            other => Err(format!("operator {other} is not supported (supported: {SUPPORTED})")),
        }
    }

    fn quantize_linear(&mut self, n: &NodeProto) -> Result<(), String> {
        let (x, y) = (input(n, 0)?, output(n)?);
        let q = self.act_quant(n, 1, 2)?;
        if self.input.is_none() && x == self.m.inputs[0].name {
            self.input = Some(Edge { name: x.to_string(), shape: self.in_shape(), quant: edge(q), float: true, exact: false });
            self.first = y.to_string();
            self.chain_to(y, q);
            return Ok(());
        }
        let p = self.pending.remove(x).ok_or_else(|| format!("quantizes '{x}', which is not the output of a supported operator in a QDQ group"))?;
        let layer = self.complete(p, q)?;
        self.emit(layer, y, q);
        Ok(())
    }

    fn dequantize_linear(&mut self, n: &NodeProto) -> Result<(), String> {
        let (x, y) = (input(n, 0)?, output(n)?);
        if self.m.consts.contains_key(x) {
            let c = self.qconst(n)?;
            self.cdeq.insert(y.to_string(), c);
            return Ok(());
        }
        let q = *self.acts.get(x).ok_or_else(|| format!("dequantizes '{x}', which is not a quantized tensor of the chain"))?;
        let (s, zp) = (self.act_quant(n, 1, 2)?, q);
        if s.scale != zp.scale || s.zp != zp.zp {
            return Err(format!("dequantizes '{x}' with a scale or zero point other than it was quantized with"));
        }
        if self.m.outputs[0].name == y {
            self.out_deq = Some((y.to_string(), x.to_string()));
        } else {
            self.deq.insert(y.to_string(), x.to_string());
        }
        Ok(())
    }

    /// The chain's current tensor, dequantized: the input of a float op of a QDQ group.
    fn float_input(&self, n: &NodeProto) -> Result<QAct, String> {
        let x = input(n, 0)?;
        let q = self.deq.get(x).ok_or_else(|| format!("input '{x}' is not a DequantizeLinear of a quantized tensor (a float op outside a QDQ group)"))?;
        self.on_chain(q)?;
        Ok(self.acts[q])
    }

    fn float_conv(&mut self, n: &NodeProto) -> Result<(), String> {
        let x = self.float_input(n)?;
        let w = self.cdeq.get(input(n, 1)?).ok_or_else(|| "its weight is not a DequantizeLinear of an initializer".to_string())?;
        let weight = conv_weight(w)?;
        let bias = self.bias(n, 2, weight.shape[0])?;
        let geom = conv_geometry(n, [weight.shape[2], weight.shape[3]], [self.shape[1], self.shape[2]])?;
        let groups = conv_groups(n, &weight.shape, self.shape[0])?;
        let [ho, wo] = window_out([self.shape[1], self.shape[2]], [weight.shape[2], weight.shape[3]], &geom)?;
        let out = [weight.shape[0], ho, wo];
        let w_scales = w.scales.clone();
        self.pend(n, x, PendingKind::Conv { weight, bias, w_scales, geom, groups }, out)
    }

    fn float_gemm(&mut self, n: &NodeProto) -> Result<(), String> {
        let x = self.float_input(n)?;
        let trans_b = gemm_attrs(n)?;
        let b = self.cdeq.get(input(n, 1)?).ok_or_else(|| "its B is not a DequantizeLinear of an initializer".to_string())?;
        let (weight, w_scales) = fc_weight(b, trans_b, self.flat_len()?)?;
        let bias = if n.op_type == "Gemm" { self.bias(n, 2, weight.shape[0])? } else { vec![0; weight.shape[0]] };
        let out = [weight.shape[0], 1, 1];
        self.pend(n, x, PendingKind::Conv { weight, bias, w_scales, geom: unit_geometry(), groups: 1 }, out)
    }

    fn pool_or_flatten(&mut self, n: &NodeProto) -> Result<(), String> {
        let x = input(n, 0)?;
        let (kind, out) = if n.op_type == "Flatten" {
            flatten_attrs(n)?;
            (PendingKind::Flatten, [self.shape.iter().product(), 1, 1])
        } else if n.op_type == "Reshape" {
            (PendingKind::Flatten, self.reshape_target(n)?)
        } else {
            let (kernel, geom) = maxpool_attrs(n, [self.shape[1], self.shape[2]])?;
            let [ho, wo] = window_out([self.shape[1], self.shape[2]], kernel, &geom)?;
            (PendingKind::MaxPool { kernel, geom }, [self.shape[0], ho, wo])
        };
        if self.acts.contains_key(x) {
            // An integer op of a QOperator model: same scale and zero point out as in.
            self.on_chain(x)?;
            let q = self.acts[x];
            let p = Pending { node: n.name.clone(), op_type: n.op_type.clone(), src: vec![x.to_string()], in_shape: self.shape, input: q, kind, out, relu: false };
            let layer = self.complete(p, q)?;
            self.emit(layer, output(n)?, q);
            return Ok(());
        }
        let q = self.float_input(n)?;
        self.pend(n, q, kind, out)
    }

    /// The shape a Reshape makes, where it moves no data: `[1, C·H·W]` (a flatten, as PyTorch's
    /// `x.view(1, -1)` exports it) or the map's own `[1, C, H, W]`; `-1` and `0` resolved as ONNX
    /// defines them (`allowzero` 0).
    fn reshape_target(&self, n: &NodeProto) -> Result<[usize; 3], String> {
        only_attrs(n, &["allowzero"])?;
        if int(n, "allowzero", 0) != 0 {
            return Err("attribute 'allowzero' = 1 (supported: 0)".into());
        }
        let name = input(n, 1)?;
        let ConstData::I64(want) = &self.cst(n, 1)?.data else {
            return Err(format!("shape '{name}' must be an int64 initializer"));
        };
        let have: Vec<i64> = std::iter::once(1).chain(self.shape.iter().map(|&d| d as i64)).collect();
        let total: i64 = have.iter().product();
        let mut dims: Vec<i64> = want.iter().enumerate().map(|(i, &d)| if d == 0 { have.get(i).copied().unwrap_or(0) } else { d }).collect();
        let unknown = dims.iter().filter(|&&d| d == -1).count();
        let known: i64 = dims.iter().filter(|&&d| d != -1).product();
        if unknown > 1 || dims.iter().any(|&d| d < -1) || known <= 0 {
            return Err(format!("shape {want:?} is not a valid target shape"));
        }
        if unknown == 1 {
            if total % known != 0 {
                return Err(format!("shape {want:?} does not divide the {total} elements of {have:?}"));
            }
            dims.iter_mut().filter(|d| **d == -1).for_each(|d| *d = total / known);
        }
        let [c, h, w] = self.shape.map(|d| d as i64);
        if dims == [1, c * h * w] {
            Ok([self.shape.iter().product(), 1, 1])
        } else if dims == have {
            Ok(self.shape)
        } else {
            Err(format!("shape {want:?} of a {have:?} tensor (supported: [1, {}], a flatten, or the shape it has: a Reshape that moves no data)", c * h * w))
        }
    }

    /// A convolution of an integer model: `Conv` on float32 tensors that hold integers (weights
    /// from −128 to 127, biases below 2^24 in magnitude), or `ConvInteger` (int8/uint8 input
    /// with its zero point, int8 or uint8 weights of zero point 0 that fit int8). Its output is
    /// the int32 sums, which must be the graph's output: no requantization is defined.
    fn integer_conv(&mut self, n: &NodeProto) -> Result<(), String> {
        let x_name = input(n, 0)?;
        self.on_chain(x_name)?;
        let x = self.acts[x_name];
        let w = self.cst(n, 1)?;
        let name = input(n, 1)?;
        let values: Vec<i32> = match (&w.data, n.op_type.as_str()) {
            (ConstData::F32(v), "Conv") => v.iter().map(|&f| exact_int(f, -128, 127).ok_or_else(|| format!("weight '{name}' holds {f}: an integer model's weights must be integers from -128 to 127"))).collect::<Result<_, _>>()?,
            (ConstData::I8(v), "ConvInteger") => v.iter().map(|&b| b as i32).collect(),
            (ConstData::U8(v), "ConvInteger") => v.iter().map(|&b| b as i32).collect(),
            (other, _) => return Err(format!("weight '{name}' is {} (supported: float32 for Conv, int8 or uint8 for ConvInteger)", other.type_name())),
        };
        let mut x_zp = x.zp;
        let bias = if n.op_type == "ConvInteger" {
            x_zp = self.integer_zero_points(n, x)?;
            None
        } else if n.input.len() > 2 && !n.input[2].is_empty() {
            let b = self.cst(n, 2)?;
            match &b.data {
                ConstData::F32(v) => Some(v.iter().map(|&f| exact_int(f, -(1 << 24), 1 << 24).ok_or_else(|| format!("bias holds {f}: an integer model's biases must be integers of magnitude at most 2^24"))).collect::<Result<Vec<_>, _>>()?),
                other => return Err(format!("bias is {} (supported: float32)", other.type_name())),
            }
        } else {
            None
        };
        if w.dims.len() != 4 {
            return Err(format!("weight {:?} (supported: [K, C, kh, kw], a 2-D convolution)", w.dims));
        }
        let data = values.iter().map(|&v| i8::try_from(v).map_err(|_| format!("weight {v} does not fit int8 (the PE array multiplies int8)"))).collect::<Result<Vec<_>, _>>()?;
        let weight = Tensor::from_vec(&w.dims, data)?;
        let k = weight.shape[0];
        let bias = bias.unwrap_or_else(|| vec![0; k]);
        if bias.len() != k {
            return Err(format!("bias of {} values for {k} outputs", bias.len()));
        }
        let groups = conv_groups(n, &weight.shape, self.shape[0])?;
        let geom = conv_geometry(n, [weight.shape[2], weight.shape[3]], [self.shape[1], self.shape[2]])?;
        let [ho, wo] = window_out([self.shape[1], self.shape[2]], [weight.shape[2], weight.shape[3]], &geom)?;
        // A float32 output is exact only below 2^24: bound |sum| by Σ|w|·max|x − x_zp| + |bias|.
        let taps = weight.shape[1..].iter().product::<usize>();
        let span = 255i64; // |x − x_zp| of int8 or uint8 values
        let bound = (0..k).map(|o| weight.data[o * taps..(o + 1) * taps].iter().map(|&v| (v as i64).abs()).sum::<i64>() * span + (bias[o] as i64).abs()).max().unwrap_or(0);
        if self.m.outputs[0].elem_type == dtype::FLOAT && bound > 1 << 24 {
            return Err(format!("its sums may reach {bound}, above 2^24, where float32 is no longer exact (the hardware's int32 sums would differ from ONNX's float arithmetic)"));
        }
        let out = [k, ho, wo];
        let layer = Layer { node: n.name.clone(), op_type: n.op_type.clone(), kind: LayerKind::Conv { weight, bias, x_zp, geom, requant: vec![], groups }, out, inputs: vec![x_name.to_string()], output: String::new() };
        self.shape = out;
        self.raw = true;
        self.emit(layer, output(n)?, QAct { scale: 1.0, zp: 0, unsigned: false });
        Ok(())
    }

    /// MatMulInteger of an integer model: `A` the chain's vector (the graph input's row, or a
    /// Flatten of the map) with `a_zero_point`, `B` a `[K, N]` initializer of int8 or uint8 values
    /// that fit int8, `b_zero_point` 0: a fully connected layer whose int32 sums are the graph's
    /// int32 output.
    fn integer_matmul(&mut self, n: &NodeProto) -> Result<(), String> {
        let x_name = input(n, 0)?;
        self.on_chain(x_name)?;
        let x = self.acts[x_name];
        let name = input(n, 1)?;
        let b = self.cst(n, 1)?;
        let values: Vec<i32> = match &b.data {
            ConstData::I8(v) => v.iter().map(|&v| v as i32).collect(),
            ConstData::U8(v) => v.iter().map(|&v| v as i32).collect(),
            other => return Err(format!("B '{name}' is {} (supported: int8 or uint8)", other.type_name())),
        };
        let x_zp = self.integer_zero_points(n, x)?;
        if self.m.outputs[0].elem_type != dtype::INT32 {
            return Err(format!("graph output is {} (supported: int32, the sums MatMulInteger makes)", dtype::name(self.m.outputs[0].elem_type)));
        }
        let qb = QConst { dims: b.dims.clone(), values, scales: vec![1.0], zps: vec![0] };
        let (weight, _) = fc_weight(&qb, false, self.flat_len()?)?;
        let k = weight.shape[0];
        let out = [k, 1, 1];
        let layer = Layer { node: n.name.clone(), op_type: n.op_type.clone(), kind: LayerKind::Conv { weight, bias: vec![0; k], x_zp, geom: unit_geometry(), requant: vec![], groups: 1 }, out, inputs: vec![x_name.to_string()], output: String::new() };
        self.shape = out;
        self.raw = true;
        self.emit(layer, output(n)?, QAct { scale: 1.0, zp: 0, unsigned: false });
        Ok(())
    }

    /// The input zero point of a ConvInteger or MatMulInteger (input 2; the input's own when
    /// absent) in the int8 domain; the weight zero point (input 3) must be 0.
    fn integer_zero_points(&self, n: &NodeProto, x: QAct) -> Result<i32, String> {
        let mut x_zp = x.zp;
        if n.input.len() > 2 && !n.input[2].is_empty() {
            let (z, unsigned) = zp_values(self.cst(n, 2)?)?;
            if z.len() != 1 || unsigned != x.unsigned {
                return Err(format!("{} must be one value of the input's type", if n.op_type == "MatMulInteger" { "a_zero_point" } else { "x_zero_point" }));
            }
            x_zp = if unsigned { z[0] - 128 } else { z[0] };
        }
        if n.input.len() > 3 && !n.input[3].is_empty() {
            let (z, _) = zp_values(self.cst(n, 3)?)?;
            if z.iter().any(|&v| v != 0) {
                let w = if n.op_type == "MatMulInteger" { "b_zero_point" } else { "w_zero_point" };
                return Err(format!("{w} {z:?} (supported: 0: a weight zero point makes each sum depend on its window's input sum, which the PE array does not compute)"));
            }
        }
        Ok(x_zp)
    }

    /// GlobalMaxPool of an integer model: max pooling with the whole map as its window.
    fn global_maxpool(&mut self, n: &NodeProto) -> Result<(), String> {
        only_attrs(n, &[])?;
        let x = input(n, 0)?;
        self.on_chain(x)?;
        let q = self.acts[x];
        let kernel = [self.shape[1], self.shape[2]];
        if kernel.iter().any(|&k| k > 16) {
            return Err(format!("the map is {}x{} (supported: a window of at most 16x16)", kernel[0], kernel[1]));
        }
        let p = Pending { node: n.name.clone(), op_type: n.op_type.clone(), src: vec![x.to_string()], in_shape: self.shape, input: q, kind: PendingKind::MaxPool { kernel, geom: unit_geometry() }, out: [self.shape[0], 1, 1], relu: false };
        let layer = self.complete(p, q)?;
        self.emit(layer, output(n)?, q);
        Ok(())
    }

    /// QLinearGlobalAveragePool (com.microsoft): ONNX Runtime sums `x − x_zp` over the map in
    /// integers and requantizes the sum with `f32(x_scale / f32(y_scale · f32(H·W)))` as a
    /// convolution's output (its x86 kernel, MlasQLinearGlobalAveragePool). On the hardware it is
    /// a convolution whose `[C, C, H, W]` kernel is 1 where the output channel is the input's.
    /// QLinearAveragePool whose window is the whole map without padding is the same (ONNX
    /// Runtime's kernel calls its global pooling for it).
    fn qlinear_global_avgpool(&mut self, n: &NodeProto) -> Result<(), String> {
        if n.op_type == "QLinearAveragePool" {
            let mut known = AVGPOOL_ATTRS.to_vec();
            known.push("channels_last");
            whole_map_window(n, &known, [self.shape[1], self.shape[2]])?;
        } else {
            only_attrs(n, &["channels_last"])?;
        }
        if int(n, "channels_last", 0) != 0 {
            return Err("attribute 'channels_last' = 1 (supported: 0, NCHW)".into());
        }
        let x_name = input(n, 0)?;
        let x = self.qop_input(n, x_name, 1, 2)?;
        let y = self.act_quant(n, 3, 4)?;
        let c = self.shape[0];
        let layer = Layer { node: n.name.clone(), op_type: n.op_type.clone(), kind: global_avgpool(self.shape, x, y)?, out: [c, 1, 1], inputs: vec![x_name.to_string()], output: String::new() };
        if x.unsigned != y.unsigned {
            return Err("input and output types differ (int8 and uint8)".into());
        }
        self.shape = [c, 1, 1];
        self.emit(layer, output(n)?, y);
        Ok(())
    }

    fn relu(&mut self, n: &NodeProto) -> Result<(), String> {
        let (x, y) = (input(n, 0)?, output(n)?);
        let mut p = self.pending.remove(x).ok_or_else(|| format!("input '{x}' is not the output of a Conv, Gemm or MatMul in a QDQ group (ReLU is fused into the requantizer)"))?;
        if !matches!(p.kind, PendingKind::Conv { .. } | PendingKind::Add { .. }) {
            return Err("a ReLU after pooling or Flatten is not supported (only after Conv, Gemm, MatMul, Add)".into());
        }
        p.relu = true;
        self.pending.insert(y.to_string(), p);
        Ok(())
    }

    /// An element-wise Add of two dequantized tensors of one shape in a QDQ group: QLinearAdd's
    /// arithmetic, what ONNX Runtime makes of the group in the QOperator form of the same
    /// quantization (the reference, docs/onnx.md; its default session on the QDQ file may add
    /// some in float32 instead, `accelgen_golden::ort_add`).
    fn float_add(&mut self, n: &NodeProto) -> Result<(), String> {
        only_attrs(n, &[])?;
        let (a_in, b_in) = (input(n, 0)?, input(n, 1)?);
        let deq_of = |x: &str| self.deq.get(x).cloned().ok_or_else(|| format!("input '{x}' is not a DequantizeLinear of a quantized tensor (a float Add outside a QDQ group)"));
        let (a, b) = (deq_of(a_in)?, deq_of(b_in)?);
        let (sa, sb) = (self.shape_of(&a)?, self.shape_of(&b)?);
        if sa != sb {
            return Err(format!("adds '{a}' {sa:?} and '{b}' {sb:?} (supported: operands of one shape, no broadcasting)"));
        }
        let (qa, qb) = (self.acts[&a], self.acts[&b]);
        self.shape = sa;
        self.pend(n, qa, PendingKind::Add { b: qb, way: AddWay::Fused }, sa)
    }

    /// QLinearAdd (com.microsoft): A (inputs 0–2), B (3–5), the output's scale and zero point
    /// (6, 7); ONNX Runtime's kernel ([`AddWay::Fused`]).
    fn qlinear_add(&mut self, n: &NodeProto) -> Result<(), String> {
        only_attrs(n, &[])?;
        let (a, b) = (input(n, 0)?, input(n, 3)?);
        let qa = self.qop_input(n, a, 1, 2)?;
        let qb = self.qop_input(n, b, 4, 5)?;
        let y = self.act_quant(n, 6, 7)?;
        let (sa, sb) = (self.shape_of(a)?, self.shape_of(b)?);
        if sa != sb {
            return Err(format!("adds '{a}' {sa:?} and '{b}' {sb:?} (supported: operands of one shape, no broadcasting)"));
        }
        self.shape = sa;
        let p = Pending { node: n.name.clone(), op_type: n.op_type.clone(), src: vec![a.to_string(), b.to_string()], in_shape: self.shape, input: qa, kind: PendingKind::Add { b: qb, way: AddWay::Fused }, out: sa, relu: false };
        let layer = self.complete(p, y)?;
        self.emit(layer, output(n)?, y);
        Ok(())
    }

    fn qlinear_conv(&mut self, n: &NodeProto) -> Result<(), String> {
        let x_name = input(n, 0)?;
        let x = self.qop_input(n, x_name, 1, 2)?;
        let w = self.qconst_at(n, 3, 4, 5)?;
        let weight = conv_weight(&w)?;
        let y = self.act_quant(n, 6, 7)?;
        let bias = if n.input.len() > 8 && !n.input[8].is_empty() { int32_bias(self.cst(n, 8)?, weight.shape[0])? } else { vec![0; weight.shape[0]] };
        let groups = conv_groups(n, &weight.shape, self.shape[0])?;
        let geom = conv_geometry(n, [weight.shape[2], weight.shape[3]], [self.shape[1], self.shape[2]])?;
        let [ho, wo] = window_out([self.shape[1], self.shape[2]], [weight.shape[2], weight.shape[3]], &geom)?;
        let w_scales = w.scales.clone();
        let out = [weight.shape[0], ho, wo];
        let p = Pending { node: n.name.clone(), op_type: n.op_type.clone(), src: vec![x_name.to_string()], in_shape: self.shape, input: x, kind: PendingKind::Conv { weight, bias, w_scales, geom, groups }, out, relu: false };
        let layer = self.complete(p, y)?;
        self.emit(layer, output(n)?, y);
        Ok(())
    }

    fn qlinear_gemm(&mut self, n: &NodeProto) -> Result<(), String> {
        let x_name = input(n, 0)?;
        let x = self.qop_input(n, x_name, 1, 2)?;
        let b = self.qconst_at(n, 3, 4, 5)?;
        let trans_b = if n.op_type == "QGemm" { gemm_attrs(n)? } else { false };
        let (weight, w_scales) = fc_weight(&b, trans_b, self.flat_len()?)?;
        let (bias, y) = if n.op_type == "QGemm" {
            let bias = if n.input.len() > 6 && !n.input[6].is_empty() { int32_bias(self.cst(n, 6)?, weight.shape[0])? } else { vec![0; weight.shape[0]] };
            if n.input.len() < 9 || n.input[7].is_empty() {
                return Err("a QGemm without y_scale (float output) is not supported".into());
            }
            (bias, self.act_quant(n, 7, 8)?)
        } else {
            (vec![0; weight.shape[0]], self.act_quant(n, 6, 7)?)
        };
        let out = [weight.shape[0], 1, 1];
        let p = Pending { node: n.name.clone(), op_type: n.op_type.clone(), src: vec![x_name.to_string()], in_shape: self.shape, input: x, kind: PendingKind::Conv { weight, bias, w_scales, geom: unit_geometry(), groups: 1 }, out, relu: false };
        let layer = self.complete(p, y)?;
        self.emit(layer, output(n)?, y);
        Ok(())
    }

    /// The quantized input of a QOperator node: the chain's tensor (or the integer graph input,
    /// whose quantization this node gives).
    fn qop_input(&mut self, n: &NodeProto, x: &str, si: usize, zi: usize) -> Result<QAct, String> {
        let q = self.act_quant(n, si, zi)?;
        if self.input.is_none() && x == self.m.inputs[0].name {
            let gin = &self.m.inputs[0];
            if (gin.elem_type == dtype::UINT8) != q.unsigned {
                return Err(format!("its input's zero point type does not match graph input '{x}' ({})", dtype::name(gin.elem_type)));
            }
            self.input = Some(Edge { name: x.to_string(), shape: self.in_shape(), quant: edge(q), float: false, exact: false });
            self.acts.insert(x.to_string(), q);
            self.shapes.insert(x.to_string(), self.shape);
            return Ok(q);
        }
        self.on_chain(x)?;
        let have = self.acts[x];
        if have.scale != q.scale || have.zp != q.zp {
            return Err(format!("reads '{x}' with a scale or zero point other than it was written with"));
        }
        Ok(q)
    }

    fn pend(&mut self, n: &NodeProto, input: QAct, kind: PendingKind, out: [usize; 3]) -> Result<(), String> {
        // The quantized tensors it reads: those its inputs dequantize (not the constants').
        let src = n.input.iter().filter_map(|i| self.deq.get(i).cloned()).collect();
        self.pending.insert(output(n)?.to_string(), Pending { node: n.name.clone(), op_type: n.op_type.clone(), src, in_shape: self.shape, input, kind, out, relu: false });
        Ok(())
    }

    /// A layer whose output is the quantized tensor `name`.
    fn emit(&mut self, mut layer: Layer, name: &str, q: QAct) {
        layer.output = name.to_string();
        self.layers.push(layer);
        self.chain_to(name, q);
    }

    /// A layer from its op and its output's quantization.
    fn complete(&mut self, p: Pending, y: QAct) -> Result<Layer, String> {
        let kind = match p.kind {
            PendingKind::Conv { weight, bias, w_scales, geom, groups } => {
                let qmin = if p.relu { y.zp.max(-128) } else { -128 };
                let requant = w_scales.iter().map(|&ws| OrtRequant { scale: ort_scale(p.input.scale, ws, y.scale), zero_point: y.zp, qmin, qmax: 127 }).collect();
                LayerKind::Conv { weight, bias, x_zp: p.input.zp, geom, requant, groups }
            }
            PendingKind::MaxPool { kernel, geom } => {
                same_quant(&p, y)?;
                LayerKind::MaxPool { kernel, geom }
            }
            PendingKind::Flatten => {
                same_quant(&p, y)?;
                LayerKind::Flatten
            }
            PendingKind::GlobalAvgPool => global_avgpool(p.in_shape, p.input, y)?,
            PendingKind::Add { b, way } => {
                if b.unsigned != y.unsigned {
                    return Err(format!("node '{}' ({}): its operands' types differ (int8 and uint8)", p.node, p.op_type));
                }
                let qmin = if p.relu { y.zp.max(-128) } else { -128 };
                let q = QAdd { a_scale: p.input.scale, a_zp: p.input.zp, b_scale: b.scale, b_zp: b.zp, y_scale: y.scale, y_zp: y.zp, qmin };
                LayerKind::Add { q, way }
            }
        };
        let elements = p.out.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64)).unwrap_or(u64::MAX);
        if elements > MAX_TENSOR_ELEMENTS {
            return Err(format!("node '{}' ({}): its output {:?} has more than {MAX_TENSOR_ELEMENTS} elements", p.node, p.op_type, p.out));
        }
        if p.input.unsigned != y.unsigned {
            return Err(format!("node '{}' ({}): input and output types differ (int8 and uint8)", p.node, p.op_type));
        }
        self.shape = p.out;
        Ok(Layer { node: p.node, op_type: p.op_type, kind, out: p.out, inputs: p.src, output: String::new() })
    }

    /// Records the quantized tensor `name`, of the shape the last layer made.
    fn chain_to(&mut self, name: &str, q: QAct) {
        self.acts.insert(name.to_string(), q);
        self.shapes.insert(name.to_string(), self.shape);
    }

    /// The shape of quantized tensor `x`.
    fn shape_of(&self, x: &str) -> Result<[usize; 3], String> {
        self.shapes.get(x).copied().ok_or_else(|| format!("reads '{x}', which no node before it writes as a quantized tensor"))
    }

    /// `x` must be a quantized tensor written before (nodes come in topological order).
    fn on_chain(&self, x: &str) -> Result<(), String> {
        if !self.acts.contains_key(x) {
            return Err(format!("reads '{x}', which no node before it writes as a quantized tensor"));
        }
        Ok(())
    }

    fn flat_len(&self) -> Result<usize, String> {
        if self.shape[1] != 1 || self.shape[2] != 1 {
            return Err(format!("its input is {}x{}x{}: a fully connected layer takes a vector (Flatten first)", self.shape[0], self.shape[1], self.shape[2]));
        }
        Ok(self.shape[0])
    }

    fn in_shape(&self) -> Vec<usize> {
        batch_dims(&self.m.inputs[0].dims, self.rows).unwrap_or_default()
    }

    fn cst(&self, n: &NodeProto, i: usize) -> Result<&Const, String> {
        let name = input(n, i)?;
        self.m.consts.get(name).ok_or_else(|| format!("input {i} ('{name}') must be an initializer"))
    }

    /// The scale (input `si`) and zero point (input `zi`) of an activation.
    fn act_quant(&self, n: &NodeProto, si: usize, zi: usize) -> Result<QAct, String> {
        let s = f32_values(self.cst(n, si)?).map_err(|e| format!("scale: {e}"))?;
        if s.len() != 1 {
            return Err(format!("an activation scale must be one value, '{}' has {}", input(n, si)?, s.len()));
        }
        if !(s[0].is_finite() && s[0] > 0.0) {
            return Err(format!("scale {} must be positive and finite", s[0]));
        }
        let (zps, unsigned) = if n.input.len() > zi && !n.input[zi].is_empty() { zp_values(self.cst(n, zi)?)? } else { (vec![0], true) };
        if zps.len() != 1 {
            return Err("an activation zero point must be one value".into());
        }
        Ok(QAct { scale: s[0], zp: if unsigned { zps[0] - 128 } else { zps[0] }, unsigned })
    }

    /// A DequantizeLinear of an initializer: values, scales and zero points in the int8 domain.
    fn qconst(&self, n: &NodeProto) -> Result<QConst, String> {
        self.qconst_at(n, 0, 1, 2)
    }

    fn qconst_at(&self, n: &NodeProto, vi: usize, si: usize, zi: usize) -> Result<QConst, String> {
        let c = self.cst(n, vi)?;
        let (values, shift) = match &c.data {
            ConstData::I8(v) => (v.iter().map(|&x| x as i32).collect::<Vec<_>>(), 0),
            ConstData::U8(v) => (v.iter().map(|&x| x as i32 - 128).collect(), 128),
            ConstData::I32(v) => (v.clone(), 0),
            other => return Err(format!("quantized constant '{}' is {} (supported: int8, uint8, int32)", input(n, vi)?, other.type_name())),
        };
        let scales = f32_values(self.cst(n, si)?)?;
        let zps = if n.input.len() > zi && !n.input[zi].is_empty() {
            let (z, _) = zp_values(self.cst(n, zi)?)?;
            z.into_iter().map(|z| z - shift).collect()
        } else {
            vec![-shift; scales.len()]
        };
        if zps.len() != scales.len() {
            return Err(format!("{} scales and {} zero points", scales.len(), zps.len()));
        }
        Ok(QConst { dims: c.dims.clone(), values, scales, zps })
    }

    /// A bias input: a DequantizeLinear of int32 values with zero point 0.
    fn bias(&self, n: &NodeProto, i: usize, k: usize) -> Result<Vec<i32>, String> {
        if n.input.len() <= i || n.input[i].is_empty() {
            return Ok(vec![0; k]);
        }
        let b = self.cdeq.get(input(n, i)?).ok_or_else(|| "its bias is not a DequantizeLinear of an int32 initializer".to_string())?;
        if b.zps.iter().any(|&z| z != 0) {
            return Err("a bias zero point other than 0 is not supported".into());
        }
        if b.values.len() != k {
            return Err(format!("bias of {} values for {k} outputs", b.values.len()));
        }
        Ok(b.values.clone())
    }

    fn finish(self) -> Result<QNet, String> {
        let m = self.m;
        let input = self.input.ok_or_else(|| format!("{}: no QuantizeLinear of the graph input and no quantized operator reads it", m.file))?;
        if let Some(p) = self.pending.values().next() {
            return Err(format!("{}: node '{}' ({}): its output is never quantized", m.file, p.node, p.op_type));
        }
        let gout = &m.outputs[0];
        let (out_name, q, float) = match &self.out_deq {
            Some((y, q)) => (y.clone(), q.clone(), true),
            None => (gout.name.clone(), gout.name.clone(), false),
        };
        let qa = self.acts.get(&q).copied().ok_or_else(|| format!("{}: graph output '{}' is not a quantized tensor", m.file, gout.name))?;
        if self.layers.last().is_none_or(|l| l.output != q) {
            return Err(format!("{}: graph output '{}' is not the last layer's output", m.file, gout.name));
        }
        let out_shape = self.shapes.get(&q).copied().unwrap_or(self.shape);
        let shape = match batch_dims(&gout.dims, self.rows) {
            Ok(d) if !d.is_empty() => d,
            _ => out_shape.to_vec(),
        };
        if shape.iter().product::<usize>() != out_shape.iter().product::<usize>() {
            return Err(format!("{}: graph output '{}' is declared {:?}, the layers make {:?}", m.file, gout.name, shape, out_shape));
        }
        let float = float || (self.integer && gout.elem_type == dtype::FLOAT);
        Ok(QNet { file: m.file.clone(), input, first: self.first, layers: self.layers, output: Edge { name: out_name, shape, quant: edge(qa), float, exact: self.integer } })
    }
}

fn edge(q: QAct) -> EdgeQuant {
    EdgeQuant { scale: q.scale, zero_point: if q.unsigned { q.zp + 128 } else { q.zp }, unsigned: q.unsigned }
}

/// Global average pooling as ONNX Runtime computes it (QLinearGlobalAveragePool, x86): the sum of
/// `x − x_zp` over the map, requantized with `f32(x_scale / f32(y_scale · f32(H·W)))`; as a
/// layer, a convolution whose `[C, C, H, W]` kernel is 1 where the output channel is the input's.
fn global_avgpool(shape: [usize; 3], x: QAct, y: QAct) -> Result<LayerKind, String> {
    let [c, h, w] = shape;
    let taps = h * w;
    if (taps as u64) >= 1 << 24 || (c * c * taps) as u64 > MAX_TENSOR_ELEMENTS {
        return Err(format!("a {c}x{h}x{w} map makes a {c}x{c}x{h}x{w} kernel, more than {MAX_TENSOR_ELEMENTS} elements"));
    }
    let data = (0..c * c * taps).map(|i| i8::from(i / taps / c == (i / taps) % c)).collect();
    let weight = Tensor::from_vec(&[c, c, h, w], data)?;
    let scale = x.scale / (y.scale * taps as f32);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("scale x_scale / (y_scale · {taps}) = {scale} must be positive and finite"));
    }
    let requant = vec![OrtRequant { scale, zero_point: y.zp, qmin: -128, qmax: 127 }];
    Ok(LayerKind::Conv { weight, bias: vec![0; c], x_zp: x.zp, geom: unit_geometry(), requant, groups: 1 })
}

fn same_quant(p: &Pending, y: QAct) -> Result<(), String> {
    if p.input.scale != y.scale || p.input.zp != y.zp {
        return Err(format!(
            "node '{}' ({}): its output is quantized with another scale or zero point than its input (supported: the same, so no requantization)",
            p.node, p.op_type
        ));
    }
    Ok(())
}

fn input<'n>(n: &'n NodeProto, i: usize) -> Result<&'n str, String> {
    n.input.get(i).map(String::as_str).filter(|s| !s.is_empty()).ok_or_else(|| format!("input {i} is missing"))
}

fn output(n: &NodeProto) -> Result<&str, String> {
    if n.output.len() != 1 {
        return Err(format!("{} outputs (supported: one)", n.output.len()));
    }
    Ok(&n.output[0])
}

/// Whether the graph input's first dimension may be any number of rows, each an inference of its
/// own: a `[M, K]` input whose only reader is a MatMul, MatMulInteger, Gemm or QLinearMatMul
/// (directly or through its QuantizeLinear), which compute each row of their output from that row
/// alone, as every operator after them does. `A·B` for M rows is then M inferences of one row.
fn rows_are_batch(m: &Model) -> bool {
    let gin = &m.inputs[0];
    if gin.dims.len() != 2 {
        return false;
    }
    let readers = |t: &str| m.nodes.iter().filter(|n| n.input.first().map(String::as_str) == Some(t)).collect::<Vec<_>>();
    let row_wise = ["MatMul", "MatMulInteger", "Gemm", "QLinearMatMul"];
    match readers(&gin.name)[..] {
        [n] if row_wise.contains(&n.op_type.as_str()) => true,
        [n] if n.op_type == "QuantizeLinear" => match readers(&n.output[0])[..] {
            [d] if d.op_type == "DequantizeLinear" => matches!(readers(&d.output[0])[..], [g] if row_wise.contains(&g.op_type.as_str())),
            _ => false,
        },
        _ => false,
    }
}

/// Dimensions without the batch dimension: with `rows`, the first of a 2-D tensor, whatever it
/// is ([`rows_are_batch`]); else it must be 1 (or symbolic).
fn batch_dims(dims: &[Option<usize>], rows: bool) -> Result<Vec<usize>, String> {
    if rows && dims.len() == 2 {
        return batch_one(&[None, dims[1]]);
    }
    batch_one(dims)
}

/// Dimensions without the batch dimension, which must be 1 (or symbolic).
fn batch_one(dims: &[Option<usize>]) -> Result<Vec<usize>, String> {
    match dims.split_first() {
        Some((b, rest)) if b.is_none() || *b == Some(1) => {
            rest.iter().map(|d| d.ok_or_else(|| "a symbolic dimension other than the batch is not supported".to_string())).collect()
        }
        Some((b, _)) => Err(format!("batch dimension {:?} (supported: 1 in the graph)", b)),
        None => Err("no shape".into()),
    }
}

/// `f` as an integer in `lo..=hi`, if it is one.
fn exact_int(f: f32, lo: i32, hi: i32) -> Option<i32> {
    (f.fract() == 0.0 && (lo as f32..=hi as f32).contains(&f)).then_some(f as i32)
}

fn f32_values(c: &Const) -> Result<Vec<f32>, String> {
    match &c.data {
        ConstData::F32(v) => Ok(v.clone()),
        other => Err(format!("a scale must be float32, not {}", other.type_name())),
    }
}

/// Zero points and whether they are uint8.
fn zp_values(c: &Const) -> Result<(Vec<i32>, bool), String> {
    match &c.data {
        ConstData::I8(v) => Ok((v.iter().map(|&x| x as i32).collect(), false)),
        ConstData::U8(v) => Ok((v.iter().map(|&x| x as i32).collect(), true)),
        ConstData::I32(v) => Ok((v.clone(), false)),
        other => Err(format!("a zero point must be int8, uint8 or int32, not {}", other.type_name())),
    }
}

fn int32_bias(c: &Const, k: usize) -> Result<Vec<i32>, String> {
    match &c.data {
        ConstData::I32(v) if v.len() == k => Ok(v.clone()),
        ConstData::I32(v) => Err(format!("bias of {} values for {k} outputs", v.len())),
        other => Err(format!("a bias must be int32, not {}", other.type_name())),
    }
}

/// Weights with zero point 0 as int8 values.
fn weights_i8(w: &QConst) -> Result<Vec<i8>, String> {
    if w.zps.iter().any(|&z| z != 0) {
        return Err("a weight zero point other than 0 (int8) or 128 (uint8) is not supported: ONNX Runtime's quantizer writes symmetric weights".into());
    }
    w.values.iter().map(|&v| i8::try_from(v).map_err(|_| format!("weight {v} is not an 8-bit value"))).collect()
}

fn conv_weight(w: &QConst) -> Result<Tensor<i8>, String> {
    if w.dims.len() != 4 {
        return Err(format!("weight {:?} (supported: [K, C, kh, kw], a 2-D convolution)", w.dims));
    }
    if w.scales.len() != 1 && w.scales.len() != w.dims[0] {
        return Err(format!("{} weight scales for {} output channels (supported: one, or one per output channel)", w.scales.len(), w.dims[0]));
    }
    Tensor::from_vec(&w.dims, weights_i8(w)?)
}

/// A fully connected layer's weights as a `[N, K, 1, 1]` convolution: B is `[K, N]`
/// (`[N, K]` when transposed); per-channel scales are along N.
fn fc_weight(b: &QConst, trans_b: bool, k_in: usize) -> Result<(Tensor<i8>, Vec<f32>), String> {
    if b.dims.len() != 2 {
        return Err(format!("B {:?} (supported: a 2-D matrix)", b.dims));
    }
    let (k, n) = if trans_b { (b.dims[1], b.dims[0]) } else { (b.dims[0], b.dims[1]) };
    if k != k_in {
        return Err(format!("B {:?} does not take the {k_in} inputs", b.dims));
    }
    if b.scales.len() != 1 && b.scales.len() != n {
        return Err(format!("{} scales of B for {n} outputs (supported: one, or one per output)", b.scales.len()));
    }
    let v = weights_i8(b)?;
    let data = (0..n).flat_map(|o| (0..k).map(move |i| (o, i))).map(|(o, i)| if trans_b { v[o * k + i] } else { v[i * n + o] }).collect();
    Ok((Tensor::from_vec(&[n, k, 1, 1], data)?, b.scales.clone()))
}

fn unit_geometry() -> QConvGeometry {
    QConvGeometry { stride: [1, 1], pads: [0; 4] }
}

fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

fn int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

/// Only the attributes in `known` may appear.
fn only_attrs(n: &NodeProto, known: &[&str]) -> Result<(), String> {
    match n.attribute.iter().find(|a| !known.contains(&a.name.as_str())) {
        Some(a) => Err(format!("attribute '{}' is not supported (supported: {})", a.name, known.join(", "))),
        None => Ok(()),
    }
}

fn pair(n: &NodeProto, name: &str, default: usize) -> Result<[usize; 2], String> {
    match ints(n, name) {
        None => Ok([default; 2]),
        Some(v) if v.len() == 2 && v.iter().all(|&x| (1..=1024).contains(&x)) => Ok([v[0] as usize, v[1] as usize]),
        Some(v) => Err(format!("attribute '{name}' = {v:?} (supported: two values from 1 to 1024)")),
    }
}

/// Strides and padding from `strides`, `pads` and `auto_pad` (SAME_UPPER puts the odd padding
/// at the end, SAME_LOWER at the start, as ONNX defines them).
fn geometry(n: &NodeProto, k: [usize; 2], hw: [usize; 2]) -> Result<QConvGeometry, String> {
    let stride = pair(n, "strides", 1)?;
    if let Some(d) = ints(n, "dilations") {
        if d.iter().any(|&x| x != 1) {
            return Err(format!("attribute 'dilations' = {d:?} (supported: 1)"));
        }
    }
    let auto = attr(n, "auto_pad").map(|a| String::from_utf8_lossy(&a.s).into_owned()).unwrap_or_else(|| "NOTSET".into());
    let pads = match auto.as_str() {
        "NOTSET" => match ints(n, "pads") {
            None => [0; 4],
            Some(p) if p.len() == 4 && p.iter().all(|&x| (0..=64).contains(&x)) => [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize],
            Some(p) => return Err(format!("attribute 'pads' = {p:?} (supported: four values from 0 to 64)")),
        },
        "VALID" => [0; 4],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut p = [0; 4];
            for a in 0..2 {
                let out = hw[a].div_ceil(stride[a]);
                let total = ((out - 1) * stride[a] + k[a]).saturating_sub(hw[a]);
                let (lo, hi) = if auto == "SAME_UPPER" { (total / 2, total - total / 2) } else { (total - total / 2, total / 2) };
                p[a] = lo;
                p[a + 2] = hi;
            }
            p
        }
        other => return Err(format!("attribute 'auto_pad' = {other} (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")),
    };
    Ok(QConvGeometry { stride, pads })
}

/// A convolution's `group` attribute, checked against its weight `[K, C / group, kh, kw]` and
/// its `cin` input channels: it must divide both channel counts (depthwise: `group` = C).
fn conv_groups(n: &NodeProto, wshape: &[usize], cin: usize) -> Result<usize, String> {
    let g = int(n, "group", 1);
    if g < 1 || g as usize > cin || !cin.is_multiple_of(g as usize) || !wshape[0].is_multiple_of(g as usize) {
        return Err(format!(
            "attribute 'group' = {g} (supported: a divisor of the {cin} input and the {} output channels)",
            wshape[0]
        ));
    }
    let g = g as usize;
    if wshape[1] * g != cin {
        return Err(format!("weight {wshape:?} does not take the {cin} input channels in {g} group(s) (its second dimension must be {})", cin / g));
    }
    Ok(g)
}

fn conv_geometry(n: &NodeProto, k: [usize; 2], hw: [usize; 2]) -> Result<QConvGeometry, String> {
    only_attrs(n, &["kernel_shape", "strides", "pads", "auto_pad", "dilations", "group"])?;
    if let Some(ks) = ints(n, "kernel_shape") {
        if ks.len() != 2 || ks[0] as usize != k[0] || ks[1] as usize != k[1] {
            return Err(format!("attribute 'kernel_shape' = {ks:?} does not match the weight's {k:?}"));
        }
    }
    geometry(n, k, hw)
}

fn maxpool_attrs(n: &NodeProto, hw: [usize; 2]) -> Result<([usize; 2], QConvGeometry), String> {
    only_attrs(n, &["kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode", "storage_order"])?;
    for (a, ok) in [("ceil_mode", 0), ("storage_order", 0)] {
        if int(n, a, 0) != ok {
            return Err(format!("attribute '{a}' = {} (supported: {ok})", int(n, a, 0)));
        }
    }
    let k = ints(n, "kernel_shape").ok_or("attribute 'kernel_shape' is missing")?;
    if k.len() != 2 || k.iter().any(|&x| !(1..=16).contains(&x)) {
        return Err(format!("attribute 'kernel_shape' = {k:?} (supported: two values from 1 to 16)"));
    }
    let k = [k[0] as usize, k[1] as usize];
    Ok((k, geometry(n, k, hw)?))
}

/// AveragePool's attributes (QLinearAveragePool adds `channels_last`).
const AVGPOOL_ATTRS: [&str; 7] = ["kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode", "count_include_pad"];

/// An average pooling's window must be the whole `hw` map without padding (strides and
/// `count_include_pad` then change nothing): ONNX Runtime averages that window exactly, with its
/// global pooling kernel. Any other window it averages in float32 (the dequantized values summed
/// in window order, divided by the count, then `nearbyintf(y / y_scale + y_zero_point)`), whose
/// rounding no integer datapath reproduces: refused, never approximated (docs/onnx.md).
fn whole_map_window(n: &NodeProto, known: &[&str], hw: [usize; 2]) -> Result<(), String> {
    only_attrs(n, known)?;
    if int(n, "ceil_mode", 0) != 0 {
        return Err(format!("attribute 'ceil_mode' = {} (supported: 0)", int(n, "ceil_mode", 0)));
    }
    let cip = int(n, "count_include_pad", 0);
    if cip != 0 && cip != 1 {
        return Err(format!("attribute 'count_include_pad' = {cip} (supported: 0 or 1)"));
    }
    let k = ints(n, "kernel_shape").ok_or("attribute 'kernel_shape' is missing")?;
    if k.len() != 2 || k.iter().any(|&x| !(1..=1024).contains(&x)) {
        return Err(format!("attribute 'kernel_shape' = {k:?} (supported: two values from 1 to 1024)"));
    }
    let k = [k[0] as usize, k[1] as usize];
    let geom = geometry(n, k, hw)?;
    if k != hw || geom.pads != [0; 4] {
        return Err(format!(
            "a {}x{} window with pads {:?} on the {}x{} map: ONNX Runtime averages such windows in float32 (dequantized values summed in window order, divided by the count, requantized), \
which differs from the exact average at ties (on 12.7% of 2x2 windows requantized to the input's scale, testbenches/ort_avgpool.py) and which no integer datapath reproduces (supported: the whole map as the window, without padding, which ONNX Runtime averages exactly)",
            k[0], k[1], geom.pads, hw[0], hw[1]
        ));
    }
    Ok(())
}

fn flatten_attrs(n: &NodeProto) -> Result<(), String> {
    only_attrs(n, &["axis"])?;
    match int(n, "axis", 1) {
        1 => Ok(()),
        a => Err(format!("attribute 'axis' = {a} (supported: 1, which keeps the batch dimension)")),
    }
}

/// Gemm's transB; transA, alpha and beta must be the defaults.
fn gemm_attrs(n: &NodeProto) -> Result<bool, String> {
    only_attrs(n, &["transA", "transB", "alpha", "beta"])?;
    if int(n, "transA", 0) != 0 {
        return Err("attribute 'transA' = 1 (supported: 0)".into());
    }
    for a in ["alpha", "beta"] {
        if let Some(v) = attr(n, a).map(|x| x.f) {
            if v != 1.0 {
                return Err(format!("attribute '{a}' = {v} (supported: 1.0)"));
            }
        }
    }
    Ok(int(n, "transB", 0) != 0)
}
