//! MLPerf Tiny's four reference networks in their published shapes (testbenches/gen_mlperf.py:
//! seeded random weights, quantized by ONNX Runtime's `quantize_static` as QDQ, QDQ per-channel
//! and QOperator), imported and run on the golden model, as imported and as accelgen networks
//! (graphs with residual adds): every output element equals ONNX Runtime's (its QOperator run of
//! the same quantization).

use accelgen_onnx::LayerKind;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx/mlperf")
}

fn npy_f32(p: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(p).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

/// Imports every form of `net`, checks its structure with `shape`, runs every input image.
fn check(net: &str, shape: impl Fn(&accelgen_onnx::QNet)) {
    let (xs, x) = npy_f32(&dir().join(format!("{net}.input.npy")));
    let n = xs[0] as usize;
    let per_in = x.len() / n;
    for form in ["qop", "qdq", "qdq_pc"] {
        let name = format!("{net}_{form}");
        let q = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
        shape(&q);
        let (ys, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
        assert_eq!(ys[0] as usize, n, "{name}");
        let per_out = want.len() / n;
        // The model as an accelgen network (a graph where it has residual adds), on the golden model.
        let hw = accelgen_onnx::network::to_network(&q).unwrap();
        for i in 0..n {
            let t = q.quantize_input(&x[i * per_in..(i + 1) * per_in]).unwrap();
            let got: Vec<f32> = q.run_int8(&t).unwrap().data.iter().map(|&v| q.output.quant.dequantize(v)).collect();
            assert_eq!(got, want[i * per_out..(i + 1) * per_out], "{name}: image {i}");
            let y = hw.with_input(&t).golden().unwrap();
            let y = y.as_i8().unwrap_or_else(|| panic!("{name}: an int8 output"));
            let got: Vec<f32> = y.data.iter().map(|&v| q.output.quant.dequantize(v)).collect();
            assert_eq!(got, want[i * per_out..(i + 1) * per_out], "{name}: image {i} as an accelgen network");
        }
    }
}

/// Compiles every form of `net` as an accelgen network for `presets` and runs the program on the
/// instruction interpreter (docs/isa.md, "Program semantics") for every input image: the output
/// left in memory equals ONNX Runtime's on every element. Returns the programs' load-add element
/// count (each image's).
fn check_program(net: &str, presets: &[(&str, accelgen_config::Preset)]) -> u64 {
    let (xs, x) = npy_f32(&dir().join(format!("{net}.input.npy")));
    let n = xs[0] as usize;
    let per_in = x.len() / n;
    let mut adds = 0;
    for &(form, preset) in presets {
        let name = format!("{net}_{form}");
        let q = accelgen_onnx::load(&dir().join(format!("{name}.onnx"))).unwrap();
        let (_, want) = npy_f32(&dir().join(format!("{name}.expected.npy")));
        let per_out = want.len() / n;
        let cfg = preset.config();
        let hw = accelgen_onnx::network::to_network(&q).unwrap();
        for i in 0..n {
            let t = q.quantize_input(&x[i * per_in..(i + 1) * per_in]).unwrap();
            let net = hw.with_input(&t);
            let c = accelgen_compiler::compile_full(&net, &cfg).unwrap_or_else(|e| panic!("{name} on {preset:?}: {e}"));
            let mem = accelgen_compiler::memory_image(&net, &cfg, &c.layout).unwrap();
            let (out, trace) = accelgen_compiler::interp::run_compiled(&c, &cfg, mem).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got: Vec<f32> = out.iter().map(|&v| q.output.quant.dequantize(v as i8)).collect();
            assert_eq!(got, want[i * per_out..(i + 1) * per_out], "{name} on {preset:?}: image {i}, the program on the interpreter");
            adds = trace.adds;
        }
    }
    adds
}

fn count(q: &accelgen_onnx::QNet, f: impl Fn(&LayerKind) -> bool) -> usize {
    q.layers.iter().filter(|l| f(&l.kind)).count()
}

#[test]
fn resnet8_equals_onnx_runtime() {
    check("resnet8", |q| {
        assert_eq!(count(q, |k| matches!(k, LayerKind::Add { .. })), 3, "three residual adds");
        // stem, 2 + 2 + 2 convs, two shortcut convs, the average pooling (as a conv), the classifier
        assert_eq!(count(q, |k| matches!(k, LayerKind::Conv { .. })), 11);
        assert!(!q.is_chain());
    });
}

/// ResNet-8's residual adds run as load-adds into the output stage of the conv layer before each
/// (the other operand read from memory): every form, compiled, equals ONNX Runtime.
#[test]
fn resnet8_program_equals_onnx_runtime() {
    use accelgen_config::Preset;
    let presets = [("qop", Preset::Default), ("qdq", Preset::Default), ("qdq_pc", Preset::Default), ("qop", Preset::Tiny)];
    let adds = check_program("resnet8", &presets);
    // 16×32×32 + 32×16×16 + 64×8×8 elements summed, each once.
    assert_eq!(adds, 16 * 32 * 32 + 32 * 16 * 16 + 64 * 8 * 8);
}

#[test]
fn dscnn_equals_onnx_runtime() {
    check("dscnn", |q| {
        assert_eq!(count(q, |k| matches!(k, LayerKind::Conv { groups: 64, .. })), 4, "four depthwise convolutions");
        assert!(q.is_chain());
    });
}

#[test]
fn mobilenet_v1_025_equals_onnx_runtime() {
    check("mobilenet", |q| {
        let dw = q.layers.iter().filter(|l| matches!(&l.kind, LayerKind::Conv { groups, .. } if *groups > 1 && *groups == l.out[0])).count();
        assert_eq!(dw, 13, "thirteen depthwise convolutions");
        assert_eq!(q.output.shape, [2]);
    });
}

#[test]
fn fc_autoencoder_equals_onnx_runtime() {
    check("autoencoder", |q| {
        assert_eq!(count(q, |k| matches!(k, LayerKind::Conv { .. })), 10, "ten fully connected layers");
        assert_eq!(q.output.shape, [640]);
    });
}
