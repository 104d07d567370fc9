//! `accelgen golden MODEL.onnx`: a batch through the golden model, compared with ONNX Runtime's
//! outputs (testbenches/onnx, made by testbenches/gen_onnx.py), saved, and bad data refused.

mod common;
use common::accelgen;

use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("onnx-cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DIGITS: &str = "testbenches/onnx/digits_qdq.onnx";
const IMAGES: &str = "testbenches/onnx/digits.input.npy";

#[test]
fn the_trained_digits_model_equals_onnx_runtime_on_every_image() {
    let (code, out, err) = accelgen(&["golden", DIGITS, "--input", IMAGES, "--expected", "testbenches/onnx/digits_qdq.expected.npy"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("397 inference(s): output 397×10"), "{out}");
    assert!(out.contains("all 3970 elements equal"), "{out}");
    // Layers are named by their ONNX nodes.
    assert!(out.contains("conv2") && out.contains("fc") && out.contains("Gemm"), "{out}");
}

#[test]
fn a_different_output_exits_1_with_the_count_and_first_positions() {
    let (code, out, _) = accelgen(&[
        "golden",
        "testbenches/onnx/small_qdq.onnx",
        "--input",
        "testbenches/onnx/small_qdq.input.npy",
        "--expected",
        "testbenches/onnx/small_qdq_pc.expected.npy",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("of 10 elements differ, largest difference"), "{out}");
    assert!(out.contains("    element "), "{out}");
}

#[test]
fn the_saved_output_is_what_was_compared_and_is_not_overwritten_unasked() {
    let dir = scratch("save");
    let y = dir.join("y.npy");
    let ys = y.to_str().unwrap();
    let (code, out, err) = accelgen(&["golden", DIGITS, "--input", IMAGES, "--save-output", ys]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = accelgen(&["golden", DIGITS, "--input", IMAGES, "--expected", ys]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("all 3970 elements equal"), "{out}");
    let (code, _, err) = accelgen(&["golden", DIGITS, "--input", IMAGES, "--save-output", ys]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists: pass --force"), "{err}");
}

#[test]
fn inputs_of_the_wrong_type_or_shape_are_refused_naming_the_file() {
    let (code, _, err) = accelgen(&["golden", DIGITS, "--input", "testbenches/onnx/digits.labels.npy"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim(), "error: testbenches/onnx/digits.labels.npy: dtype <i8 (supported: float32, int8, uint8, int32)");
    let dir = scratch("shape");
    let x = dir.join("x.npy");
    std::fs::copy("../../testbenches/onnx/small_qdq.expected.npy", &x).unwrap();
    let (code, _, err) = accelgen(&["golden", DIGITS, "--input", x.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("x.npy: shape [1, 10]; the model's input 'input' is [N, 1, 8, 8] with N at least 1"), "{err}");
    let (code, _, err) = accelgen(&["golden", "testbenches/vectors/conv_1ch_3x3_5x5.json", "--input", IMAGES]);
    assert_eq!(code, 2);
    assert!(err.contains("--input, --expected and --save-output are for ONNX models"), "{err}");
}

/// The trained model on accel_top (Verilator), the first 8 held-out images: every output equal
/// to ONNX Runtime's and to the golden model, the per-layer table named by ONNX nodes.
#[test]
fn the_trained_digits_model_runs_on_accel_top_equal_to_onnx_runtime() {
    let dir = scratch("run");
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    let images = accelgen_onnx::io::read_npy(std::path::Path::new("../../testbenches/onnx/digits.input.npy")).unwrap();
    let want = accelgen_onnx::io::read_npy(std::path::Path::new("../../testbenches/onnx/digits_qdq.expected.npy")).unwrap();
    let head = |a: &accelgen_onnx::io::Array, n: usize| {
        let per = a.shape[1..].iter().product::<usize>();
        let mut shape = a.shape.clone();
        shape[0] = n;
        let values = match &a.values {
            accelgen_onnx::io::Values::F32(v) => accelgen_onnx::io::Values::F32(v[..n * per].to_vec()),
            _ => unreachable!("float32 fixtures"),
        };
        accelgen_onnx::io::Array { shape, values }
    };
    accelgen_onnx::io::write_npy(&x, &head(&images, 8)).unwrap();
    accelgen_onnx::io::write_npy(&y, &head(&want, 8)).unwrap();
    let (code, out, err) = accelgen(&["run", DIGITS, "--input", x.to_str().unwrap(), "--expected", y.to_str().unwrap(), "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("golden model (ONNX Runtime's arithmetic): 8 of 8 images equal"), "{out}");
    assert!(out.contains("all 80 elements equal"), "{out}");
    assert!(out.contains("conv1") && out.contains("pool2") && out.contains("cycles per inference:"), "{out}");
}

#[test]
fn an_onnx_run_refuses_what_it_cannot_honour() {
    let (code, _, err) = accelgen(&["run", DIGITS]);
    assert_eq!(code, 2);
    assert!(err.contains("an ONNX model runs on --input X.npy"), "{err}");
    let (code, _, err) = accelgen(&["run", DIGITS, "--input", IMAGES, "--blocks"]);
    assert_eq!(code, 2);
    assert!(err.contains("--blocks does not apply to an ONNX model"), "{err}");
}

/// The small models of each quantization form on accel_top (Verilator): per-channel scales
/// (scale bank), uint8 activations, the QOperator form and asymmetric padding (explicit pads and
/// auto_pad SAME_UPPER) equal ONNX Runtime's outputs.
#[test]
fn the_small_models_of_each_form_run_on_accel_top_equal_to_onnx_runtime() {
    for name in ["small_qdq_pc", "small_qdq_u8", "small_qop", "small_same_pc"] {
        let f = |ext: &str| format!("testbenches/onnx/{name}.{ext}");
        let (code, out, err) = accelgen(&["run", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("1 of 1 images equal"), "{name}: {out}");
        assert!(out.contains("all 10 elements equal"), "{name}: {out}");
    }
}

/// `accelgen import` writes a network file that golden, compile and run take as it is; its
/// tensors are named by ONNX node; nothing is overwritten unasked.
#[test]
fn an_imported_model_is_a_network_that_golden_compile_and_run_take() {
    let dir = scratch("import");
    let net = dir.join("digits.json");
    let ns = net.to_str().unwrap();
    let (code, out, err) = accelgen(&["import", DIGITS, "--out", ns, "--input", IMAGES]);
    assert_eq!(code, 0, "{out}{err}");
    for f in ["conv1.weight.npy", "conv1.bias.npy", "conv2.weight.npy", "fc.weight.npy", "digits.input.npy"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let (code, out, err) = accelgen(&["golden", ns]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("network of 5 layers: input 1×8×8 → output 10×1×1"), "{out}");
    let (code, out, err) = accelgen(&["compile", ns, "--out", dir.join("prog").to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = accelgen(&["run", ns, "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("golden network: match"), "{out}");
    let (code, _, err) = accelgen(&["import", DIGITS, "--out", ns]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists: pass --force"), "{err}");
}

/// A per-channel model imported as a network file: one float32 scale per output channel in
/// `requant.scale`, which golden and run (the scale bank) take; a scale list of the wrong length
/// is refused naming the field.
#[test]
fn an_imported_per_channel_model_carries_one_scale_per_output_channel() {
    let dir = scratch("import-pc");
    let net = dir.join("pc.json");
    let ns = net.to_str().unwrap();
    let (code, out, err) = accelgen(&["import", "testbenches/onnx/small_qdq_pc.onnx", "--out", ns, "--input", "testbenches/onnx/small_qdq_pc.input.npy"]);
    assert_eq!(code, 0, "{out}{err}");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    let scales = doc["layers"][0]["requant"]["scale"].as_array().expect("a scale per channel").clone();
    let k = accelgen_onnx::io::read_npy(&dir.join(doc["layers"][0]["weight"].as_str().unwrap())).unwrap().shape[0];
    assert_eq!(scales.len(), k);
    let (code, out, err) = accelgen(&["run", ns, "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("golden network: match"), "{out}");
    doc["layers"][0]["requant"]["scale"] = serde_json::json!(scales[1..]);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let (code, _, err) = accelgen(&["golden", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("field \"layers[0].requant.scale\": has {} scales but the weight has {k} output channels", k - 1)), "{err}");
}

/// An integer model ending in MatMulInteger (int8 input with its zero point, Flatten, int32
/// sums out), 16 random inputs: the golden model and accel_top equal ONNX Runtime's outputs.
#[test]
fn an_integer_matmul_equals_onnx_runtime_on_the_golden_model_and_accel_top() {
    let f = |ext: &str| format!("testbenches/onnx/int_matmul.{ext}");
    for cmd in ["golden", "run"] {
        let (code, out, err) = accelgen(&[cmd, &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"][..if cmd == "golden" { 6 } else { 8 }]);
        assert_eq!(code, 0, "{cmd}: {out}{err}");
        assert!(out.contains("all 80 elements equal"), "{cmd}: {out}");
    }
}

/// Global average pooling (QLinearGlobalAveragePool, and GlobalAveragePool in a QDQ group; and
/// AveragePool / QLinearAveragePool whose window is the whole map, which ONNX Runtime computes
/// the same way) as ONNX Runtime computes it, on 64 random images: the golden model for each form
/// and accel_top (a convolution with a one-hot kernel) equal ONNX Runtime's outputs.
#[test]
fn global_average_pooling_equals_onnx_runtime_on_the_golden_model_and_accel_top() {
    for name in ["small_gap_qop", "small_gap_qdq", "small_avg_qop", "small_avg_qdq"] {
        let f = |ext: &str| format!("testbenches/onnx/{name}.{ext}");
        let (code, out, err) = accelgen(&["golden", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy")]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("all 640 elements equal"), "{name}: {out}");
    }
    let f = |ext: &str| format!("testbenches/onnx/small_gap_qop.{ext}");
    let (code, out, err) = accelgen(&["run", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("64 of 64 images equal") && out.contains("all 640 elements equal"), "{out}");
    assert!(out.contains("gap_quant"), "{out}");
    let f = |ext: &str| format!("testbenches/onnx/small_avg_qdq.{ext}");
    let (code, out, err) = accelgen(&["run", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("64 of 64 images equal") && out.contains("all 640 elements equal"), "{out}");
    assert!(out.lines().any(|l| l.split_whitespace().nth(1) == Some("avg")), "the layer named by its node: {out}");
}

/// Depthwise, pointwise and grouped convolutions (32 random images, QOperator and per-channel
/// QDQ) on accel_top (Verilator) equal ONNX Runtime's outputs: a grouped convolution runs as the
/// dense one with zero weights between its groups, and the MAC count says so (the observation
/// port counts the MACs the PEs performed, zeros included).
#[test]
fn depthwise_and_grouped_convolutions_run_on_accel_top_equal_to_onnx_runtime() {
    for name in ["small_dw_qop", "small_dw_qdq_pc"] {
        let f = |ext: &str| format!("testbenches/onnx/{name}.{ext}");
        let (code, out, err) = accelgen(&["run", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("32 of 32 images equal") && out.contains("all 320 elements equal"), "{name}: {out}");
        // dw1: 8 channels × 64 pixels × 9 taps useful, × 8 input channels as a dense convolution
        let dw1 = out.lines().find(|l| l.split_whitespace().nth(1).is_some_and(|n| n.starts_with("dw1"))).unwrap_or_else(|| panic!("{out}"));
        assert_eq!(dw1.split_whitespace().nth(5), Some("36864"), "{name}: {dw1}");
    }
}

/// Residual blocks (QLinearAdd, and DequantizeLinear → Add → QuantizeLinear): the golden model
/// runs the graph equal to ONNX Runtime, its table says which layers each Add reads and its
/// memory plan reuses dead tensors' regions; `accelgen run` runs it on accel_top (Verilator), each
/// add a load-add into the conv output before it is stored, every output equal to ONNX Runtime's.
#[test]
fn residual_blocks_run_on_the_golden_model_and_on_accel_top() {
    for name in ["small_res_qop", "small_res_qdq_pc"] {
        let f = |ext: &str| format!("testbenches/onnx/{name}.{ext}");
        let (code, out, err) = accelgen(&["golden", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy")]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("all 320 elements equal"), "{name}: {out}");
        let add = out.lines().find(|l| l.split_whitespace().nth(1).is_some_and(|n| n.starts_with("b1add"))).unwrap_or_else(|| panic!("{out}"));
        assert!(add.trim_end().ends_with("#2, #0"), "{name}: the add reads conv b1c2 and the stem: {add}");
        // the memory plan: at the first add the stem's output, b1c2's and the sum (8×8×8 bytes
        // each) are live together, and no layer needs more
        assert!(out.contains("12 tensors in 1536 bytes; most live at one layer 1536"), "{name}: {out}");
    }
    for name in ["small_res_qop", "small_res_qdq_pc"] {
        let f = |ext: &str| format!("testbenches/onnx/{name}.{ext}");
        let (code, out, err) = accelgen(&["run", &f("onnx"), "--input", &f("input.npy"), "--expected", &f("expected.npy"), "--engine", "verilator"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("32 of 32 images equal") && out.contains("all 320 elements equal"), "{name}: {out}");
        let add = out.lines().find(|l| l.split_whitespace().nth(1).is_some_and(|n| n.starts_with("b1add"))).unwrap_or_else(|| panic!("{out}"));
        // the add reads the shortcut (8×8×8 bytes) from memory and writes nothing of its own
        let cols: Vec<&str> = add.split_whitespace().collect();
        assert_eq!((cols[2], cols[7], cols[8]), ("add", "512", "0"), "{name}: {add}");
    }
    // Imported, the graph is a network file whose adds and shortcut readers name their inputs;
    // the golden model runs the file equal to the model, and so does accel_top.
    // `accelgen compile` lowers it: each add a load-add before its conv layer's stores.
    let dir = scratch("import-res");
    let net = dir.join("res.json");
    let ns = net.to_str().unwrap();
    let (code, out, err) = accelgen(&["import", "testbenches/onnx/small_res_qop.onnx", "--out", ns, "--input", "testbenches/onnx/small_res_qop.input.npy"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = accelgen(&["golden", ns]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("network of 10 layers: input 1×8×8 → output 10×1×1"), "{out}");
    // The file's memory plan: the same three 8×8×8 tensors live at the first add (the Flatten of
    // the model is no layer of the file: 11 tensors, not 12).
    assert!(out.contains("11 tensors in 1536 bytes; most live at one layer 1536"), "{out}");
    let file = accelgen_formats::Network::load(&net).unwrap();
    assert_eq!(file.first_branch(), Some(3));
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx");
    let q = accelgen_onnx::load(&repo.join("small_res_qop.onnx")).unwrap();
    let x = accelgen_onnx::io::read_npy(&repo.join("small_res_qop.input.npy")).unwrap();
    let first = q.batch_inputs(&x, "input").unwrap().remove(0);
    assert_eq!(file.golden().unwrap().as_i8().unwrap(), &q.run_int8(&first).unwrap(), "the file computes what the model does");
    let prog = dir.join("prog");
    let (code, out, err) = accelgen(&["compile", ns, "--out", prog.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(prog.join("program.txt")).unwrap();
    assert!(text.contains("MEM_LOADADD") && text.contains("ACT_ADDK") && text.contains("ACT_ADD qmin="), "{text}");
    // The conv layer joined to the add stores no output of its own; the sum lives from it on.
    let map: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(prog.join("memory.json")).unwrap()).unwrap();
    let names: Vec<&str> = map["regions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"layers[2] (conv2d) output") && names.contains(&"layers[3] (add) output"), "{names:?}");
    let sum = map["regions"].as_array().unwrap().iter().find(|r| r["name"] == "layers[3] (add) output").unwrap();
    assert_eq!(sum["live"][0], 2, "{sum}");
    let (code, out, err) = accelgen(&["run", ns, "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("golden network: match"), "{out}");
}

/// MLPerf Tiny's ResNet-8 (CIFAR-10 shapes, three residual adds, stride-2 1×1 shortcut convs;
/// seeded random weights, testbenches/gen_mlperf.py) on accel_top (Verilator): every output of 4
/// inputs equal to ONNX Runtime's in each quantized form, each add a load-add.
#[test]
fn the_mlperf_tiny_resnet8_runs_on_accel_top_equal_to_onnx_runtime() {
    for form in ["qop", "qdq", "qdq_pc"] {
        let model = format!("testbenches/onnx/mlperf/resnet8_{form}.onnx");
        let expected = format!("testbenches/onnx/mlperf/resnet8_{form}.expected.npy");
        let (code, out, err) = accelgen(&["run", &model, "--input", "testbenches/onnx/mlperf/resnet8.input.npy", "--expected", &expected, "--engine", "verilator"]);
        assert_eq!(code, 0, "{form}: {out}{err}");
        assert!(out.contains("4 of 4 images equal") && out.contains("all 40 elements equal"), "{form}: {out}");
        let adds = out.lines().filter(|l| l.split_whitespace().nth(2) == Some("add")).count();
        assert_eq!(adds, 3, "{form}: {out}");
    }
}

/// MLPerf Tiny's anomaly-detection autoencoder (640 → 128 ×4 → 8 → 128 ×4 → 640, seeded random
/// weights, testbenches/gen_mlperf.py) on accel_top (Verilator): every output of 4 inputs equal
/// to ONNX Runtime's, in the QOperator and per-channel QDQ forms.
#[test]
fn the_mlperf_tiny_autoencoder_runs_on_accel_top_equal_to_onnx_runtime() {
    for form in ["qop", "qdq_pc"] {
        let model = format!("testbenches/onnx/mlperf/autoencoder_{form}.onnx");
        let expected = format!("testbenches/onnx/mlperf/autoencoder_{form}.expected.npy");
        let (code, out, err) = accelgen(&["run", &model, "--input", "testbenches/onnx/mlperf/autoencoder.input.npy", "--expected", &expected, "--engine", "verilator"]);
        assert_eq!(code, 0, "{form}: {out}{err}");
        assert!(out.contains("4 of 4 images equal") && out.contains("all 2560 elements equal"), "{form}: {out}");
    }
}

/// MLPerf Tiny's DS-CNN (49×10 features, a 10×4/2 conv, four depthwise-separable blocks, a 25×5
/// average pooling, seeded random weights) on accel_top (Verilator): every output of 4 inputs
/// equal to ONNX Runtime's. The pooling is a convolution with a 25×5 kernel (`PE_KERNEL` takes
/// sides up to 31), the depthwise layers dense convolutions; the table prints each layer's
/// roofline from the model's own MACs and bytes.
#[test]
fn the_mlperf_tiny_ds_cnn_runs_on_accel_top_equal_to_onnx_runtime() {
    let (code, out, err) = accelgen(&[
        "run", "testbenches/onnx/mlperf/dscnn_qdq_pc.onnx", "--input", "testbenches/onnx/mlperf/dscnn.input.npy",
        "--expected", "testbenches/onnx/mlperf/dscnn_qdq_pc.expected.npy", "--engine", "verilator",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 of 4 images equal") && out.contains("all 48 elements equal"), "{out}");
    // dw2: 64 channels × 125 pixels × 9 taps = 72,000 useful MACs, ⌈/64⌉ = 1,125 periods; it
    // moves 8,000 + 8,000 bytes of maps, 576 weight bytes and 256 bias bytes: ⌈16,832 / 8⌉ = 2,104
    let dw = out.lines().find(|l| l.split_whitespace().nth(1) == Some("dw2")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(dw.split_whitespace().nth(9), Some("2104"), "{dw}");
    assert!(out.contains("roofline: ") && out.contains("x bound"), "{out}");
}
