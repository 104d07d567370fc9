//! Network files that are graphs (issue #30): layers name their inputs (`"inputs"`), and the
//! element-wise `"add"` reads two tensors. The golden model runs them; a chain stays a chain;
//! every malformed graph is refused naming the field and what is allowed.

use accelgen_formats::{Layer, Network, Source};
use accelgen_golden::ort_add::QAdd;
use accelgen_golden::{conv2d, requantize_tensor, ConvParams, Requant, Tensor};
use serde_json::{json, Value};
use std::path::Path;

fn parse(v: Value) -> Result<Network, String> {
    Network::from_value(&v, Path::new("."))
}

/// A 1×2×2 input; conv a (1×1, ×2), conv b reading the input again (1×1, ×3), their add with
/// ReLU, then a conv reading the add.
fn residual(add: Value) -> Value {
    let conv = |w: i64| json!({"op": "conv2d", "weight": {"shape": [1, 1, 1, 1], "data": [w]}, "requant": {"multiplier": 1, "shift": 0, "zero_point": 0}});
    let mut b = conv(3);
    b["inputs"] = json!(["input"]);
    json!({"input": {"shape": [1, 2, 2], "data": [1, -2, 30, -40]}, "layers": [conv(2), b, add, conv(1)]})
}

fn add(inputs: Value) -> Value {
    json!({"op": "add", "inputs": inputs, "a": {"scale": 0.5, "zero_point": 1}, "b": {"scale": 0.25, "zero_point": -3}, "scale": 0.75, "zero_point": 2, "relu": true})
}

#[test]
fn a_residual_graph_runs_on_the_golden_model() {
    let net = parse(residual(add(json!([0, 1])))).unwrap();
    assert_eq!(net.sources, [vec![Source::Input], vec![Source::Input], vec![Source::Layer(0), Source::Layer(1)], vec![Source::Layer(2)]]);
    assert_eq!(net.first_branch(), Some(1), "the second conv reads the input, not the first conv's output");
    let e = net.require_chain().unwrap_err();
    assert!(e.starts_with("layers[1] (conv2d): the block engines (--blocks) run chains") && e.contains("accelgen golden"), "{e}");
    let q = match &net.layers[2] {
        Layer::Add(a) => a.q,
        other => panic!("{other:?}"),
    };
    assert_eq!(q, QAdd { a_scale: 0.5, a_zp: 1, b_scale: 0.25, b_zp: -3, y_scale: 0.75, y_zp: 2, qmin: 2 });
    // By the layers' own golden functions, one after the other.
    let x = Tensor::from_vec(&[1, 2, 2], vec![1i8, -2, 30, -40]).unwrap();
    let rq = Requant { multiplier: 1, shift: 0, zero_point: 0, relu: false, ort: None };
    let conv = |x: &Tensor<i8>, w: i8| {
        let w = Tensor::from_vec(&[1, 1, 1, 1], vec![w]).unwrap();
        requantize_tensor(&conv2d(x, &w, None, &ConvParams::default()).unwrap(), &rq)
    };
    let (a, b) = (conv(&x, 2), conv(&x, 3));
    let sum = Tensor::from_vec(&[1, 2, 2], a.data.iter().zip(&b.data).map(|(&p, &r)| q.fused(p, r)).collect()).unwrap();
    let want = conv(&sum, 1);
    assert_eq!(net.golden().unwrap().as_i8().unwrap(), &want);
    // ReLU: (−4 − 1)·0.5 + (−6 + 3)·0.25 is negative, so the sum is the zero point 2
    assert_eq!(sum.data[1], 2, "{sum:?}");
}

#[test]
fn a_chain_written_with_explicit_inputs_is_still_a_chain() {
    let conv = |i: Value| json!({"op": "conv2d", "inputs": i, "weight": {"shape": [1, 1, 1, 1], "data": [1]}, "requant": {"multiplier": 1, "shift": 0, "zero_point": 0}});
    let net = parse(json!({"input": {"shape": [1, 2, 2]}, "layers": [conv(json!(["input"])), conv(json!([0]))]})).unwrap();
    assert_eq!(net.first_branch(), None);
    assert!(net.require_chain().is_ok());
}

#[test]
fn malformed_graphs_are_refused_naming_the_field() {
    let cases: Vec<(Value, &str)> = vec![
        (residual(add(json!([0, 3]))), "field \"layers[2].inputs[1]\": must be \"input\" or the index of an earlier layer (0 to 1), got 3"),
        (residual(add(json!([0, -1]))), "field \"layers[2].inputs[1]\": must be \"input\" or the index of an earlier layer (0 to 1), got -1"),
        (residual(add(json!([0, "x"]))), "got \"x\""),
        (residual(add(json!([0]))), "field \"layers[2].inputs\": must be an array of 2 source(s) for add"),
        (residual(add(json!(0))), "field \"layers[2].inputs\": must be an array of 2 source(s)"),
        (residual(json!({"op": "add", "a": {"scale": 0.5, "zero_point": 1}, "b": {"scale": 0.5, "zero_point": 1}, "scale": 1.0, "zero_point": 0})), "field \"layers[2].inputs\": an add needs \"inputs\""),
        (residual(json!({"op": "add", "inputs": [0, 1], "a": {"scale": 0.1, "zero_point": 1}, "b": {"scale": 0.5, "zero_point": 1}, "scale": 1.0, "zero_point": 0})), "field \"layers[2].a.scale\": 0.1 is not a float32 value"),
        (residual(json!({"op": "add", "inputs": [0, 1], "a": {"scale": -0.5, "zero_point": 1}, "b": {"scale": 0.5, "zero_point": 1}, "scale": 1.0, "zero_point": 0})), "field \"layers[2].a.scale\": -0.5 is out of range: allowed a positive normal float32"),
        (residual(json!({"op": "add", "inputs": [0, 1], "a": {"scale": 0.5, "zero_point": 1}, "b": {"scale": 0.5, "zero_point": 200}, "scale": 1.0, "zero_point": 0})), "field \"layers[2].b.zero_point\": 200 is out of range: allowed -128..=127"),
        (residual(json!({"op": "add", "inputs": [0, 1], "a": {"scale": 0.5, "zero_point": 1}, "scale": 1.0, "zero_point": 0})), "layers[2]"),
        (residual(json!({"op": "add", "inputs": [0, 1], "a": {"scale": 0.5, "zero_point": 1}, "b": {"scale": 0.5, "zero_point": 1}, "scale": 1.0, "zero_point": 0, "weight": 1})), "weight"),
    ];
    for (doc, want) in cases {
        let e = parse(doc).unwrap_err();
        assert!(e.contains(want), "expected {want:?} in: {e}");
    }
    // The first layer can read only the input.
    let conv = json!({"op": "conv2d", "inputs": [0], "weight": {"shape": [1, 1, 1, 1], "data": [1]}, "requant": {"multiplier": 1, "shift": 0, "zero_point": 0}});
    let e = parse(json!({"input": {"shape": [1, 2, 2]}, "layers": [conv]})).unwrap_err();
    assert!(e.contains("field \"layers[0].inputs[0]\": the first layer can read only \"input\", got 0"), "{e}");
    // Operands of an add must have one shape.
    let pool = json!({"op": "maxpool2d", "kernel": [2, 2]});
    let doc = json!({"input": {"shape": [1, 2, 2]}, "layers": [pool, add(json!([0, "input"]))]});
    let e = parse(doc).unwrap_err();
    assert!(e.contains("field \"layers[1].inputs\": an add needs operands of one shape, got [1, 1, 1] and [1, 2, 2]"), "{e}");
}

#[test]
fn a_case_file_cannot_hold_an_add() {
    let doc = json!({"input": {"shape": [1, 2, 2], "data": [0, 0, 0, 0]}, "op": "add", "a": {"scale": 0.5, "zero_point": 0}});
    let e = accelgen_formats::Case::from_value(&doc, Path::new(".")).unwrap_err();
    assert!(e.contains("field \"op\": \"add\" reads two tensors: it is a network layer"), "{e}");
}

#[test]
fn an_unknown_op_in_a_network_lists_the_network_ops() {
    let e = parse(json!({"input": {"shape": [1, 2, 2]}, "layers": [{"op": "mul"}]})).unwrap_err();
    assert!(e.contains("unknown op \"mul\": known ops are conv2d, maxpool2d, avgpool2d, add"), "{e}");
}

/// The tensors a graph keeps at once are bounded before any work: four 4096×4096 copies of the
/// input all waiting for later adds (five such tensors, 80·2^20 elements) are refused at the layer
/// where they pile up; three (the input read no more) pass.
#[test]
fn a_graph_that_keeps_too_much_alive_is_refused_naming_the_layer() {
    let copy = json!({"op": "maxpool2d", "kernel": 1, "inputs": ["input"]});
    let doc = json!({"input": {"shape": [1, 4096, 4096]}, "layers": [copy, copy, copy, copy, add(json!([0, 1])), add(json!([2, 3])), add(json!([4, 5]))]});
    let e = parse(doc).unwrap_err();
    assert!(e.contains("field \"layers[3]\": the tensors live at this layer hold 83886080 elements: allowed at most 67108864"), "{e}");
    let doc = json!({"input": {"shape": [1, 4096, 4096]}, "layers": [copy, copy, add(json!([0, 1]))]});
    assert!(parse(doc).is_ok(), "input and two copies: 48·2^20 elements");
}
