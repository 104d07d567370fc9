//! `accelgen bench dw`: the conv engine's depthwise mode (docs/conv-array.md) against the dense
//! form on the depthwise layers of MLPerf Tiny's networks and their global average poolings, on
//! the default preset's engine alone (its Verilog on Verilator). Both forms of each layer run in this process on
//! the same input, and each output must equal the golden convolution.
//!
//! Timed region: the engine's run, from `start` to `done` (the `cycles` statistic of both runs;
//! the input is already in the first cache and the weights in the weight buffer, so no memory
//! transfer is counted). The roofline beside it is the layer's (docs/accelerator.md): the larger
//! of its MACs over R·C and its minimum bytes (input, output, weights, four per bias) over the
//! bus's 8 bytes a cycle — a model figure. On `accel_top` the transfers add to the engine's
//! cycles where the compiler cannot overlap them.

use crate::failure::Failure;
use accelgen_config::Preset;
use accelgen_formats::{Case, ConvLayer, Layer, TensorField};
use accelgen_golden::{ConvParams, OrtScale, Requant, Tensor, TensorI8};
use accelgen_hw::pe::ConvEngineParams;
use accelgen_sim::conv::{run_conv, run_dw};
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use serde_json::{json, Value};

/// A depthwise layer of an MLPerf Tiny network: name, channels, map, kernel, stride, padding
/// (0: a global pooling of the whole map).
const LAYERS: [(&str, usize, usize, usize, usize, usize, usize); 13] = [
    ("DS-CNN depthwise (x4)", 64, 25, 5, 3, 1, 1),
    ("DS-CNN pooling", 64, 25, 5, 0, 1, 0),
    ("MobileNet dw 8ch 48x48 s1", 8, 48, 48, 3, 1, 1),
    ("MobileNet dw 16ch 48x48 s2", 16, 48, 48, 3, 2, 1),
    ("MobileNet dw 32ch 24x24 s1", 32, 24, 24, 3, 1, 1),
    ("MobileNet dw 32ch 24x24 s2", 32, 24, 24, 3, 2, 1),
    ("MobileNet dw 64ch 12x12 s1", 64, 12, 12, 3, 1, 1),
    ("MobileNet dw 64ch 12x12 s2", 64, 12, 12, 3, 2, 1),
    ("MobileNet dw 128ch 6x6 s1 (x5)", 128, 6, 6, 3, 1, 1),
    ("MobileNet dw 128ch 6x6 s2", 128, 6, 6, 3, 2, 1),
    ("MobileNet dw 256ch 3x3 s1", 256, 3, 3, 3, 1, 1),
    ("MobileNet pooling", 256, 3, 3, 0, 1, 0),
    ("ResNet-8 pooling", 64, 8, 8, 0, 1, 0),
];

/// Deterministic data: the layer's input, its depthwise weight `[C, 1, kh, kw]` (one weight per
/// channel for a pooling) and bias.
fn data(c: usize, h: usize, w: usize, kh: usize, kw: usize, pool: bool) -> (TensorI8, Vec<i8>, Vec<i32>) {
    let input = Tensor::from_vec(&[c, h, w], (0..c * h * w).map(|i| (i * 37 % 251) as u8 as i8).collect()).expect("shape");
    let wt = (0..c * kh * kw).map(|i| if pool { 1 + (i / (kh * kw) % 5) as i8 } else { (i * 13 % 251) as u8 as i8 }).collect();
    let bias = (0..c).map(|i| (i as i32 * 977) % 20_000 - 10_000).collect();
    (input, wt, bias)
}

fn conv_layer(shape: Vec<usize>, wt: Vec<i8>, bias: &[i32], stride: usize, pad: usize) -> ConvLayer {
    ConvLayer {
        weight: TensorField { shape, data: Some(wt) },
        bias: Some(TensorField { shape: vec![bias.len()], data: Some(bias.to_vec()) }),
        params: ConvParams { stride: [stride, stride], padding: [pad, pad], padding_end: None, pad_value: 3 },
        requant: Some(Requant { multiplier: 0, shift: 0, zero_point: -5, relu: false, ort: OrtScale::of(1.0 / 700.0) }),
        channel_scales: None,
    }
}

pub(crate) fn bench_dw(as_json: bool) -> Result<(), Failure> {
    let cfg = Preset::Default.config();
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let (pes, bus) = ((e.rows * e.cols) as u64, u64::from(cfg.memory.word_bits / 8));
    let mut rows = Vec::new();
    if !as_json {
        println!("The conv engine's depthwise mode vs the dense form (default preset, engine alone, Verilator; cycles from start to done)");
        println!("{:<32} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7}", "layer", "macs", "roofline", "dw", "dw/roof", "dense", "dense/dw");
    }
    for (name, c, h, w, k, s, p) in LAYERS {
        let pool = k == 0;
        let (kh, kw) = if pool { (h, w) } else { (k, k) };
        let (input, wt, bias) = data(c, h, w, kh, kw, pool);
        let dw = conv_layer(vec![c, 1, kh, kw], wt.clone(), &bias, s, p);
        let mut dense_w = vec![0i8; c * c * kh * kw];
        for o in 0..c {
            dense_w[(o * c + o) * kh * kw..(o * c + o + 1) * kh * kw].copy_from_slice(&wt[o * kh * kw..(o + 1) * kh * kw]);
        }
        let dense = conv_layer(vec![c, c, kh, kw], dense_w, &bias, s, p);
        let golden = Case { input: input.clone(), layer: Layer::Conv(dense.clone()), expected: None }
            .golden()
            .map_err(|e| Failure::Input(format!("bench dw: {name}: {e}")))?
            .to_i64();
        let opts = RunOptions { engine: Engine::Verilator, ..RunOptions::default() };
        let run = run_dw(&e, &input, &dw, &opts).map_err(|e| Failure::Input(format!("bench dw: {name}: {e}")))?;
        if run.output.to_i64() != golden || run.violations != 0 {
            return Err(Failure::Mismatch);
        }
        let cycles = run.stats["cycles"].as_u64().unwrap_or(0);
        // The dense form, where it fits the engine's buffers alone.
        let dense_cycles = match run_conv(&e, &input, &dense, &opts) {
            Ok(r) if r.output.to_i64() == golden => Some(r.stats["cycles"].as_u64().unwrap_or(0)),
            Ok(_) => return Err(Failure::Mismatch),
            Err(_) => None,
        };
        let (ho, wo) = if pool { (1, 1) } else { ((h + 2 * p - kh) / s + 1, (w + 2 * p - kw) / s + 1) };
        let macs = (c * ho * wo * kh * kw) as u64;
        // int8 output; a pooling's weight is one per channel.
        let weights = if pool { c } else { c * kh * kw };
        let bytes = (c * h * w + c * ho * wo + weights + 4 * c) as u64;
        let roof = macs.div_ceil(pes).max(bytes.div_ceil(bus));
        let ratio = |a: u64, b: u64| (a as f64 / b as f64 * 100.0).round() / 100.0;
        let row = json!({
            "layer": name, "macs": macs, "roofline_cycles": roof, "dw_cycles": cycles,
            "dw_roofline_ratio": ratio(cycles, roof), "dense_cycles": dense_cycles,
            "dense_over_dw": dense_cycles.map(|d| ratio(d, cycles)),
        });
        if !as_json {
            let dense_txt = dense_cycles.map_or("(too big)".to_string(), |d| d.to_string());
            let speed = dense_cycles.map_or("-".to_string(), |d| format!("{:.1}", ratio(d, cycles)));
            println!("{name:<32} {macs:>9} {roof:>9} {cycles:>9} {:>8.2} {dense_txt:>8} {speed:>7}", ratio(cycles, roof));
        }
        rows.push(row);
    }
    if as_json {
        println!("{}", Value::Array(rows));
    }
    Ok(())
}
