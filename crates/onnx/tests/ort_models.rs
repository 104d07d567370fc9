//! Models quantized by ONNX Runtime's `quantize_static` in each form (testbenches/gen_onnx.py),
//! imported and run on the golden model: every output element equals what ONNX Runtime computed.

use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx")
}

fn npy_f32(p: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(p).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

fn check(name: &str) {
    let (net, q, y) = check_golden(name);
    // The hardware form (zero point folded into the bias, padding with it, the fully connected
    // layer as a convolution over the map) computes the same on the golden model.
    let hw = accelgen_onnx::network::to_network(&net).unwrap();
    let g = hw.with_input(&q).golden().unwrap().to_i64();
    assert_eq!(g.data, y.data.iter().map(|&v| v as i64).collect::<Vec<_>>(), "{name}: hardware network");
}

fn check_golden(name: &str) -> (accelgen_onnx::QNet, accelgen_golden::TensorI8, accelgen_golden::TensorI8) {
    let net = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
    let (xs, x) = npy_f32(&dir().join(format!("{name}.input.npy")));
    let (ys, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
    assert_eq!(xs[0], 1);
    assert_eq!(ys[0], 1);
    let q = net.quantize_input(&x).unwrap();
    let y = net.run_int8(&q).unwrap();
    let got: Vec<f32> = y.data.iter().map(|&v| net.output.quant.dequantize(v)).collect();
    assert_eq!(got.len(), want.len());
    let diff: Vec<usize> = (0..got.len()).filter(|&i| got[i].to_bits() != want[i].to_bits()).collect();
    assert!(diff.is_empty(), "{name}: {} of {} outputs differ, first at {}: {} vs ONNX Runtime {}", diff.len(), got.len(), diff[0], got[diff[0]], want[diff[0]]);
    (net, q, y)
}

#[test]
fn qdq_per_tensor_int8_equals_onnx_runtime() {
    check("small_qdq");
}

#[test]
fn qdq_per_channel_equals_onnx_runtime() {
    // Per-channel scales: the hardware network carries one scale per output channel.
    check("small_qdq_pc");
    let hw = accelgen_onnx::network::to_network(&accelgen_onnx::load(&dir().join("small_qdq_pc.onnx")).unwrap()).unwrap();
    let Some(accelgen_formats::Layer::Conv(c)) = hw.net.layers.first() else { panic!("a conv first") };
    let scales = c.channel_scales.as_ref().expect("per-channel scales");
    assert_eq!(scales.len(), c.weight.shape[0]);
    assert!(scales.windows(2).any(|w| w[0] != w[1]), "the channels' scales differ");
}

/// Asymmetric padding: explicit `pads` [1, 0, 1, 2] and `auto_pad` SAME_UPPER with stride 2
/// ([0, 0, 1, 1]) on the convolutions and on a 3×3/2 max pooling, with per-channel scales; the
/// hardware network keeps them as they are.
#[test]
fn asymmetric_padding_equals_onnx_runtime() {
    check("small_same_pc");
    let hw = accelgen_onnx::network::to_network(&accelgen_onnx::load(&dir().join("small_same_pc.onnx")).unwrap()).unwrap();
    let pads: Vec<[usize; 4]> = hw.net.layers.iter().map(|l| match l {
        accelgen_formats::Layer::Conv(c) => c.params.pads(),
        accelgen_formats::Layer::Pool(p) => p.params.pads(),
        accelgen_formats::Layer::Add(_) => [0; 4],
    }).collect();
    assert_eq!(pads[..3], [[1, 0, 1, 2], [0, 0, 1, 1], [0, 0, 1, 1]]);
}

#[test]
fn qdq_uint8_activations_equal_onnx_runtime() {
    check("small_qdq_u8");
}

#[test]
fn qoperator_equals_onnx_runtime() {
    check("small_qop");
}

/// The CNN trained on scikit-learn's digits, quantized by ONNX Runtime (QDQ and QOperator):
/// every held-out image's ten outputs equal ONNX Runtime's, and so does the top-1 accuracy.
#[test]
fn trained_digits_cnn_equals_onnx_runtime_on_every_held_out_image() {
    digits("digits_qdq");
    digits("digits_qop");
}

fn digits(name: &str) {
    let net = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
    let (xs, x) = npy_f32(&dir().join("digits.input.npy"));
    let (ys, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
    let labels: Vec<i64> = npyz::NpyFile::new(&std::fs::read(dir().join("digits.labels.npy")).unwrap()[..]).unwrap().into_vec().unwrap();
    let (n, per_in, per_out) = (xs[0] as usize, 64, ys[1] as usize);
    assert!(n > 300, "{n} images");
    let (mut differ, mut correct, mut ort_correct) = (0, 0, 0);
    let argmax = |v: &[f32]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
    for i in 0..n {
        let q = net.quantize_input(&x[i * per_in..(i + 1) * per_in]).unwrap();
        let got: Vec<f32> = net.run_int8(&q).unwrap().data.iter().map(|&v| net.output.quant.dequantize(v)).collect();
        let w = &want[i * per_out..(i + 1) * per_out];
        for (j, (a, b)) in got.iter().zip(w).enumerate() {
            if a.to_bits() != b.to_bits() {
                differ += 1;
                println!("image {i}, output {j}: golden {a}, ONNX Runtime {b}");
            }
        }
        correct += usize::from(argmax(&got) as i64 == labels[i]);
        ort_correct += usize::from(argmax(w) as i64 == labels[i]);
    }
    println!("{name}: {n} images, {} outputs, {differ} differ; top-1 golden {correct}/{n}, ONNX Runtime {ort_correct}/{n}", n * per_out);
    assert_eq!(differ, 0);
    assert_eq!(correct, ort_correct);
}

/// Depthwise (group = channels), pointwise and grouped (group 2) convolutions, 32 random images,
/// in each form: the golden model equals ONNX Runtime on every output, and so does the hardware
/// form, where a grouped convolution is the dense one with zero weights between groups.
#[test]
fn depthwise_and_grouped_convolutions_equal_onnx_runtime() {
    for name in ["small_dw_qop", "small_dw_qdq", "small_dw_qdq_pc"] {
        let net = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
        let groups: Vec<usize> = net.layers.iter().filter_map(|l| match &l.kind {
            accelgen_onnx::LayerKind::Conv { groups, .. } => Some(*groups),
            _ => None,
        }).collect();
        assert_eq!(groups, [1, 8, 1, 2, 8, 1], "{name}: the groups of its convolutions");
        let hw = accelgen_onnx::network::to_network(&net).unwrap();
        let (xs, x) = npy_f32(&dir().join(format!("{name}.input.npy")));
        let (_, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
        let (n, per_in) = (xs[0] as usize, 64);
        assert_eq!(n, 32);
        for i in 0..n {
            let q = net.quantize_input(&x[i * per_in..(i + 1) * per_in]).unwrap();
            let y = net.run_int8(&q).unwrap();
            let got: Vec<f32> = y.data.iter().map(|&v| net.output.quant.dequantize(v)).collect();
            assert_eq!(got, want[i * 10..(i + 1) * 10], "{name}: image {i}");
            let g = hw.with_input(&q).golden().unwrap().to_i64();
            assert_eq!(g.data, y.data.iter().map(|&v| v as i64).collect::<Vec<_>>(), "{name}: image {i}, hardware network");
        }
    }
}

/// Two residual blocks as ResNet-8's (an identity shortcut, and a stride-2 one through a 1×1
/// conv), 32 random images, in each form: the golden model runs the graph (each layer reads its
/// tensors by name) equal to ONNX Runtime on every output, its Adds with QLinearAdd's arithmetic.
#[test]
fn residual_blocks_equal_onnx_runtime() {
    for name in ["small_res_qop", "small_res_qdq", "small_res_qdq_pc"] {
        let net = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
        let adds: Vec<(&str, usize)> = net.layers.iter().filter_map(|l| match &l.kind {
            accelgen_onnx::LayerKind::Add { way, .. } => {
                assert_eq!(*way, accelgen_golden::ort_add::AddWay::Fused, "{name}: {}", l.node);
                Some((l.node.as_str(), l.inputs.len()))
            }
            _ => None,
        }).collect();
        assert_eq!(adds.len(), 2, "{name}: {adds:?}");
        assert!(adds.iter().all(|a| a.1 == 2), "{name}: {adds:?}");
        assert!(!net.is_chain(), "{name}");
        let (xs, x) = npy_f32(&dir().join(format!("{name}.input.npy")));
        let (_, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
        assert_eq!(xs[0], 32);
        for i in 0..32 {
            let q = net.quantize_input(&x[i * 64..(i + 1) * 64]).unwrap();
            let got: Vec<f32> = net.run_int8(&q).unwrap().data.iter().map(|&v| net.output.quant.dequantize(v)).collect();
            assert_eq!(got, want[i * 10..(i + 1) * 10], "{name}: image {i}");
        }
    }
}
