//! Models the importer must refuse, each with a message naming the file, the node (name and
//! op_type), the attribute or input and what is supported; built by editing the committed
//! fixtures' protobuf.

use accelgen_onnx::model::from_bytes;
use accelgen_onnx::proto::{AttributeProto, ModelProto};
use prost::Message;
use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx")
}

fn fixture(name: &str) -> ModelProto {
    let p = dir().join(name);
    ModelProto::decode(&std::fs::read(p).unwrap()[..]).unwrap()
}

fn refusal(m: &ModelProto) -> String {
    match from_bytes(&m.encode_to_vec(), "m.onnx").and_then(|m| accelgen_onnx::import(&m)) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

fn node<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut accelgen_onnx::proto::NodeProto {
    m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name == name).unwrap()
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), ints: v.to_vec(), r#type: 7, ..Default::default() }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i: v, r#type: 2, ..Default::default() }
}

#[test]
fn an_unsupported_operator_is_named_with_its_node_and_the_supported_list() {
    let mut m = fixture("small_qdq.onnx");
    node(&mut m, "conv1").op_type = "Softmax".into();
    let e = refusal(&m);
    assert!(e.starts_with("m.onnx: node 'conv1' (Softmax): operator Softmax is not supported (supported: "), "{e}");
}

#[test]
fn graphs_out_of_order_or_with_missing_initializers_are_refused() {
    let mut m = fixture("small_qop.onnx");
    let g = m.graph.as_mut().unwrap();
    g.node.swap(0, 1);
    let e = refusal(&m);
    assert!(e.contains("before the node that produces it: the graph is not in topological order"), "{e}");
    let mut m = fixture("small_qop.onnx");
    let g = m.graph.as_mut().unwrap();
    g.initializer.retain(|t| t.name != "conv1.w_quantized");
    let e = refusal(&m);
    assert!(e.contains("node 'conv1_quant' (QLinearConv) uses 'conv1.w_quantized', which no initializer, graph input or node provides"), "{e}");
}

#[test]
fn opsets_ir_versions_and_non_protobuf_bytes_are_refused() {
    let mut m = fixture("small_qop.onnx");
    m.opset_import.iter_mut().find(|o| o.domain.is_empty()).unwrap().version = 9;
    assert_eq!(refusal(&m), "m.onnx: opset 9 of the default domain (supported: 10 to 22)");
    let mut m = fixture("small_qop.onnx");
    m.ir_version = 2;
    assert_eq!(refusal(&m), "m.onnx: ir_version 2 (supported: 3 and later)");
    let e = from_bytes(b"\xff\xff\xff not a model", "x.onnx").unwrap_err();
    assert!(e.starts_with("x.onnx: not an ONNX model (protobuf: "), "{e}");
}

#[test]
fn attributes_the_hardware_does_not_do_are_refused_naming_the_attribute() {
    let mut m = fixture("small_qop.onnx");
    node(&mut m, "conv1_quant").attribute.push(ints("dilations", &[2, 2]));
    assert_eq!(refusal(&m), "m.onnx: node 'conv1_quant' (QLinearConv): attribute 'dilations' = [2, 2] (supported: 1)");
    let mut m = fixture("small_qop.onnx");
    node(&mut m, "conv1_quant").attribute.push(int("group", 2));
    assert_eq!(refusal(&m), "m.onnx: node 'conv1_quant' (QLinearConv): attribute 'group' = 2 (supported: a divisor of the 1 input and the 4 output channels)");
    // conv2 reads 4 channels with a [8, 4, 3, 3] weight: 2 groups would need [8, 2, 3, 3]
    let mut m = fixture("small_qop.onnx");
    node(&mut m, "conv2_quant").attribute.push(int("group", 2));
    assert_eq!(
        refusal(&m),
        "m.onnx: node 'conv2_quant' (QLinearConv): weight [8, 4, 3, 3] does not take the 4 input channels in 2 group(s) (its second dimension must be 2)"
    );
    let mut m = fixture("small_qop.onnx");
    node(&mut m, "pool1").attribute.push(int("ceil_mode", 1));
    assert_eq!(refusal(&m), "m.onnx: node 'pool1' (MaxPool): attribute 'ceil_mode' = 1 (supported: 0)");
    let mut m = fixture("small_qop.onnx");
    node(&mut m, "pool1").attribute.push(int("count_include_pad", 1));
    let e = refusal(&m);
    assert!(e.starts_with("m.onnx: node 'pool1' (MaxPool): attribute 'count_include_pad' is not supported (supported: kernel_shape, "), "{e}");
}

/// An average pooling over part of the map: ONNX Runtime averages it in float32, so it is
/// refused with the reason, in both forms; the whole map is taken (tests/ort_models.rs).
#[test]
fn an_average_pooling_that_onnx_runtime_computes_in_float_is_refused() {
    for (file, name, op) in [("small_avg_qdq.onnx", "avg", "AveragePool"), ("small_avg_qop.onnx", "avg_quant", "QLinearAveragePool")] {
        let mut m = fixture(file);
        let n = node(&mut m, name);
        n.attribute.retain(|a| a.name != "kernel_shape");
        n.attribute.push(ints("kernel_shape", &[1, 2]));
        let e = refusal(&m);
        assert!(e.starts_with(&format!("m.onnx: node '{name}' ({op}): a 1x2 window with pads [0, 0, 0, 0] on the 2x2 map: ONNX Runtime averages such windows in float32")), "{e}");
        assert!(e.contains("(supported: the whole map as the window, without padding"), "{e}");
        let mut m = fixture(file);
        node(&mut m, name).attribute.push(ints("pads", &[1, 1, 1, 1]));
        let e = refusal(&m);
        assert!(e.contains("a 2x2 window with pads [1, 1, 1, 1] on the 2x2 map"), "{e}");
        let mut m = fixture(file);
        node(&mut m, name).attribute.push(int("ceil_mode", 1));
        assert_eq!(refusal(&m), format!("m.onnx: node '{name}' ({op}): attribute 'ceil_mode' = 1 (supported: 0)"));
    }
}

/// A Reshape is read where it moves no data (a flatten to [1, C·H·W], as the fixture's
/// `[1, -1]`, or the shape the tensor has); another shape is refused naming it.
#[test]
fn a_reshape_that_would_move_data_is_refused() {
    let set_shape = |m: &mut ModelProto, v: &[i64]| {
        let t = m.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == "flat.shape").unwrap();
        t.dims = vec![v.len() as i64];
        t.raw_data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    };
    for file in ["small_avg_qdq.onnx", "small_avg_qop.onnx"] {
        for ok in [&[1, 8][..], &[1, 8, 1, 1], &[0, -1], &[-1, 8]] {
            let mut m = fixture(file);
            set_shape(&mut m, ok);
            from_bytes(&m.encode_to_vec(), "m.onnx").and_then(|m| accelgen_onnx::import(&m)).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        let mut m = fixture(file);
        set_shape(&mut m, &[2, -1]);
        let e = refusal(&m);
        assert!(e.contains("node 'flatten' (Reshape): shape [2, -1] of a [1, 8, 1, 1] tensor (supported: [1, 8], a flatten, or the shape it has"), "{e}");
        let mut m = fixture(file);
        set_shape(&mut m, &[-1, -1]);
        assert!(refusal(&m).contains("shape [-1, -1] is not a valid target shape"));
    }
}

#[test]
fn a_weight_zero_point_that_cannot_fold_is_refused() {
    let mut m = fixture("small_qop.onnx");
    let g = m.graph.as_mut().unwrap();
    let zp = g.initializer.iter_mut().find(|t| t.name == "conv1.w_zero_point").unwrap();
    zp.raw_data = vec![3];
    let e = refusal(&m);
    assert!(e.starts_with("m.onnx: node 'conv1_quant' (QLinearConv): a weight zero point other than 0 (int8) or 128 (uint8) is not supported"), "{e}");
}

#[test]
fn an_input_too_large_to_hold_is_refused_before_any_work() {
    let mut m = fixture("small_qop.onnx");
    let g = m.graph.as_mut().unwrap();
    let dims = &mut g.input[0].r#type.as_mut().unwrap().tensor_type.as_mut().unwrap().shape.as_mut().unwrap().dim;
    dims[2].dim_value = Some(1 << 20);
    dims[3].dim_value = Some(1 << 20);
    let e = refusal(&m);
    assert!(e.starts_with("m.onnx: graph input 'input' is [Some(1), Some(1), Some(1048576), Some(1048576)] (supported: [1, C, H, W] or [1, N] with 1 to 16777216 elements)"), "{e}");
}

/// Issue #27 for `import`: a graph input within the limits whose first convolution's output is
/// not (4 channels of 4096×4096 from a 1×4096×4096 input) is refused as the layer is read, before
/// any tensor of that size exists, naming the node and the limit.
#[test]
fn a_layer_output_too_large_to_hold_is_refused_before_any_work() {
    let mut m = fixture("small_qop.onnx");
    let g = m.graph.as_mut().unwrap();
    let dims = &mut g.input[0].r#type.as_mut().unwrap().tensor_type.as_mut().unwrap().shape.as_mut().unwrap().dim;
    dims[2].dim_value = Some(4096);
    dims[3].dim_value = Some(4096);
    let e = refusal(&m);
    assert_eq!(e, "m.onnx: node 'conv1_quant' (QLinearConv): its output [4, 4096, 4096] has more than 16777216 elements");
}

#[test]
fn a_float_tensor_read_as_quantized_is_refused_naming_the_node() {
    let mut m = fixture("small_qop.onnx");
    let n = node(&mut m, "fc_quant");
    n.input[0] = "input".into();
    let e = refusal(&m);
    assert_eq!(e, "m.onnx: node 'fc_quant' (QGemm): reads 'input', which no node before it writes as a quantized tensor");
}

/// A graph with residual adds imports (the golden model runs it: tests/ort_models.rs) and
/// becomes a network whose layers name their inputs; a message naming a layer gets its node.
#[test]
fn a_branch_becomes_a_graph_network_named_by_node() {
    let net = accelgen_onnx::load(&dir().join("small_res_qop.onnx")).unwrap();
    assert!(!net.is_chain());
    let hw = accelgen_onnx::network::to_network(&net).unwrap();
    assert_eq!(hw.net.first_branch(), Some(3), "the first add is the network's fourth layer");
    assert_eq!(hw.name_layers("layers[3] (add): refused"), "layers[3] (add): refused (layers[3] is node 'b1add_quant')");
    assert_eq!(hw.name_layers("no layer named"), "no layer named");
    let chain = accelgen_onnx::load(&dir().join("small_qop.onnx")).unwrap();
    assert!(chain.is_chain() && accelgen_onnx::network::to_network(&chain).is_ok());
}

/// An integer model (no quantization in the graph) is read only where it is exact: weights that
/// are not integers of int8, a conv whose int32 sums feed another layer, float32 sums that may
/// pass 2^24 are refused naming the node; a weight zero point of ConvInteger too.
#[test]
fn integer_models_are_refused_where_they_would_not_be_exact() {
    let conv = "node/test_basic_conv_with_padding/model.onnx";
    let set_w = |m: &mut ModelProto, v: f32| {
        let w = m.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == "W").unwrap();
        w.float_data = vec![v; 9];
        w.raw_data.clear();
    };
    let mut m = fixture(conv);
    set_w(&mut m, 0.5);
    let e = refusal(&m);
    assert!(e.contains("(Conv): weight 'W' holds 0.5: an integer model's weights must be integers from -128 to 127"), "{e}");
    let mut m = fixture(conv);
    set_w(&mut m, 300.0);
    assert!(refusal(&m).contains("weight 'W' holds 300"), "weights outside int8");
    // 1·9 taps·255 is far below 2^24, but 127 on a 3×3 kernel of 2^10 channels is not: here the
    // single channel stays exact, so widen the bound with a bias instead.
    let mut m = fixture(conv);
    let g = m.graph.as_mut().unwrap();
    g.initializer.push(accelgen_onnx::proto::TensorProto { name: "B".into(), dims: vec![1], data_type: 1, float_data: vec![16_777_216.0], ..Default::default() });
    g.node[0].input.push("B".into());
    let e = refusal(&m);
    assert!(e.contains("its sums may reach 16779511, above 2^24, where float32 is no longer exact"), "{e}");
    // Two convolutions: the first one's int32 sums would feed the second.
    let mut m = fixture(conv);
    let g = m.graph.as_mut().unwrap();
    let mut second = g.node[0].clone();
    second.input[0] = g.node[0].output[0].clone();
    g.node[0].output[0] = "mid".into();
    second.input[0] = "mid".into();
    g.node.push(second);
    let e = refusal(&m);
    assert!(e.contains("it reads int32 sums, which only the graph output may be"), "{e}");
    let e = refusal(&fixture("node/test_convinteger_with_padding/model.onnx"));
    assert!(e.contains("(ConvInteger): w_zero_point [0, 1] (supported: 0"), "{e}");
    // MatMulInteger: a B zero point, a float output, a B of uint8 values past int8.
    let mut m = fixture("int_matmul.onnx");
    let zp = m.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == "b_zp").unwrap();
    zp.raw_data = vec![2];
    assert_eq!(refusal(&m), "m.onnx: node 'fc' (MatMulInteger): b_zero_point [2] (supported: 0: a weight zero point makes each sum depend on its window's input sum, which the PE array does not compute)");
    let mut m = fixture("int_matmul.onnx");
    m.graph.as_mut().unwrap().output[0].r#type.as_mut().unwrap().tensor_type.as_mut().unwrap().elem_type = 1;
    assert_eq!(refusal(&m), "m.onnx: node 'fc' (MatMulInteger): graph output is float32 (supported: int32, the sums MatMulInteger makes)");
    let mut m = fixture("int_matmul.onnx");
    let b = m.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == "B").unwrap();
    b.data_type = 2; // the same bytes as uint8: values from 128 up do not fit int8
    let e = refusal(&m);
    assert!(e.contains("(MatMulInteger): weight ") && e.contains("is not an 8-bit value"), "{e}");
}

/// An Add of two tensors of different shapes (broadcasting) is refused naming both, in both
/// forms; so is a float Add outside a QDQ group and an attribute on QLinearAdd.
#[test]
fn adds_the_hardware_and_golden_model_do_not_take_are_refused_by_name() {
    // b2add reads the 16×4×4 block output and, here, the 8×8×8 one of block 1.
    let mut m = fixture("small_res_qop.onnx");
    let n = node(&mut m, "b2add_quant");
    n.input[3] = "b1.sum_quantized".into();
    n.input[4] = "b1.sum_scale".into();
    n.input[5] = "b1.sum_zero_point".into();
    let e = refusal(&m);
    assert_eq!(e, "m.onnx: node 'b2add_quant' (QLinearAdd): adds 'b2c2.c_quantized' [16, 4, 4] and 'b1.sum_quantized' [8, 8, 8] (supported: operands of one shape, no broadcasting)");
    let mut m = fixture("small_res_qdq.onnx");
    let n = node(&mut m, "b2add");
    n.input[1] = "b1c2.c".into();
    let e = refusal(&m);
    assert_eq!(e, "m.onnx: node 'b2add' (Add): input 'b1c2.c' is not a DequantizeLinear of a quantized tensor (a float Add outside a QDQ group)");
    let mut m = fixture("small_res_qop.onnx");
    node(&mut m, "b1add_quant").attribute.push(int("axis", 1));
    let e = refusal(&m);
    assert!(e.starts_with("m.onnx: node 'b1add_quant' (QLinearAdd): attribute 'axis'"), "{e}");
}
