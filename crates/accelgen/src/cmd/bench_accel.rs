//! `accelgen bench accel`: whole networks on `accel_top` (default preset, Verilator: LeNet-5, the
//! 3-channel stem, ResNet-8's layer chain, a fully connected stack, a VGG-style block, and MLPerf
//! Tiny's ResNet-8, FC autoencoder, DS-CNN and MobileNetV1 0.25 from their ONNX files), their
//! network-wide PE utilization next to the conv engine's compute-only figure from its cycle model,
//! and external-memory traffic next to the minimum (every input, weight, bias and output word moved
//! once). All figures of a row come from the same run; the cycle model is the conv engine's exact
//! model (`accelgen_compiler::cycle_model`, equal to the simulation on every tested layer) applied to
//! each conv layer as one run, without tiling, data movement or pooling.

use crate::cmd::roofline_plot::{plot_network, LayerPoint};
use crate::failure::Failure;
use accelgen_config::Preset;
use accelgen_formats::{Layer, Network};
use accelgen_sim::accel::{run_accel, AccelFaults, MemTiming};
use accelgen_compiler::ConvPlan;
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use serde_json::{json, Value};
use std::path::Path;

/// A network document with seeded data for every shape-only tensor.
fn with_data(mut doc: Value) -> Value {
    accelgen_compiler::testnets::fill(&mut doc, &mut accelgen_golden::testutil::Rng::new(7), "");
    doc
}

/// The VGG-style block of the issue: two 3×3 convs of 64 channels on 56×56, then maxpool 2.
fn vgg_block() -> Value {
    let conv = || {
        json!({"op": "conv2d", "weight": {"shape": [64, 64, 3, 3]}, "bias": {"shape": [64]}, "stride": [1, 1], "padding": [1, 1],
               "requant": {"multiplier": 300, "shift": 16, "zero_point": 0, "relu": true}})
    };
    json!({"input": {"shape": [64, 56, 56]}, "layers": [conv(), conv(), {"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}]})
}

/// A conv layer of the benchmark networks: `cin`→`cout`, k×k, stride, padding k/2, ReLU.
fn conv(cin: usize, cout: usize, k: usize, stride: usize) -> Value {
    json!({"op": "conv2d", "weight": {"shape": [cout, cin, k, k]}, "bias": {"shape": [cout]}, "stride": [stride, stride],
           "padding": [k / 2, k / 2], "requant": {"multiplier": 300, "shift": 16, "zero_point": 0, "relu": true}})
}

/// The 3-channel stem: one 3→16 3×3 conv on 32×32.
fn stem() -> Value {
    json!({"input": {"shape": [3, 32, 32]}, "layers": [conv(3, 16, 3, 1)]})
}

/// ResNet-8's layer shapes without the residual adds and the shortcut convs (a chain): a 3→16
/// stem, stacks of 16, 32 and 64 channels (the 2nd and 3rd start with a stride-2 conv) on 32×32,
/// and the classifier as a conv covering the 8×8 map (fully connected in effect).
fn resnet8_chain() -> Value {
    let mut layers = vec![conv(3, 16, 3, 1), conv(16, 16, 3, 1), conv(16, 16, 3, 1)];
    layers.extend([conv(16, 32, 3, 2), conv(32, 32, 3, 1), conv(32, 64, 3, 2), conv(64, 64, 3, 1)]);
    layers.push(json!({"op": "conv2d", "weight": {"shape": [10, 64, 8, 8]}, "bias": {"shape": [10]}, "stride": [1, 1], "padding": [0, 0],
                       "requant": {"multiplier": 300, "shift": 16, "zero_point": 0, "relu": false}}));
    json!({"input": {"shape": [3, 32, 32]}, "layers": layers})
}

/// A fully connected stack (MLPerf Tiny's anomaly-detection encoder shape): 640→128→128→128→8,
/// each layer a 1×1 conv on a 1×1 map.
fn fc_stack() -> Value {
    let layers: Vec<Value> = [(640, 128), (128, 128), (128, 128), (128, 8)].iter().map(|&(i, o)| conv(i, o, 1, 1)).collect();
    json!({"input": {"shape": [640, 1, 1]}, "layers": layers})
}

/// An MLPerf Tiny network from its ONNX file (testbenches/gen_mlperf.py, the QOperator form):
/// the imported model, its hardware network with the first input image.
fn mlperf(net: &str) -> Result<(accelgen_onnx::QNet, accelgen_onnx::network::HwNet, Network), String> {
    let dir = Path::new("testbenches/onnx/mlperf");
    let q = accelgen_onnx::load(&dir.join(format!("{net}_qop.onnx")))?;
    let hw = accelgen_onnx::network::to_network(&q)?;
    let file = dir.join(format!("{net}.input.npy"));
    let x = accelgen_onnx::io::read_npy(&file)?;
    let images = q.batch_inputs(&x, &file.display().to_string())?;
    let n = hw.with_input(&images[0]);
    Ok((q, hw, n))
}

fn ratio(x: f64, y: f64) -> f64 {
    (x / y.max(1e-12) * 1000.0).round() / 1000.0
}

/// Each layer's measured cycles.
fn measured_of(s: &serde_json::Map<String, Value>, n: usize) -> Vec<u64> {
    (0..n).map(|i| s["layers"][i]["cycles"].as_u64().unwrap_or(0)).collect()
}

pub(crate) fn bench_accel(as_json: bool, plot: Option<&Path>, force: bool) -> Result<(), Failure> {
    let cfg = Preset::Default.config();
    let e = cfg.conv_array();
    let pes = (e.rows * e.cols) as f64;
    let fail = |s: String| Failure::Input(format!("bench accel: {s}"));
    let lenet = Network::load(Path::new("testbenches/networks/lenet5_data.json")).map_err(fail)?;
    let vgg = Network::from_value(&with_data(vgg_block()), Path::new(".")).map_err(fail)?;
    let stem = Network::from_value(&with_data(stem()), Path::new(".")).map_err(fail)?;
    let resnet = Network::from_value(&with_data(resnet8_chain()), Path::new(".")).map_err(fail)?;
    let fc = Network::from_value(&with_data(fc_stack()), Path::new(".")).map_err(fail)?;
    // MLPerf Tiny's networks on accel_top (issue #30): their rooflines from the model's own
    // layers (a depthwise layer runs dense; ResNet-8's adds as load-adds).
    let (r8_q, r8_hw, r8) = mlperf("resnet8").map_err(fail)?;
    let (ae_q, ae_hw, ae) = mlperf("autoencoder").map_err(fail)?;
    let (ds_q, ds_hw, ds) = mlperf("dscnn").map_err(fail)?;
    let (mb_q, mb_hw, mb) = mlperf("mobilenet").map_err(fail)?;
    let opts = RunOptions { engine: Engine::Verilator, ..Default::default() };
    let mut rows = vec![];
    let m = MemTiming::default();
    for (name, net, mem, model) in [
        ("LeNet-5", &lenet, m, None),
        ("3-channel stem", &stem, m, None),
        ("ResNet-8 chain", &resnet, m, None),
        ("FC stack", &fc, m, None),
        ("VGG-style block", &vgg, m, None),
        ("VGG-style block, latency 20", &vgg, MemTiming { latency: 20, stall_every: 0 }, None),
        ("MLPerf Tiny ResNet-8", &r8, m, Some((&r8_q, &r8_hw))),
        ("MLPerf Tiny FC autoencoder", &ae, m, Some((&ae_q, &ae_hw))),
        ("MLPerf Tiny DS-CNN", &ds, m, Some((&ds_q, &ds_hw))),
        ("MLPerf Tiny MobileNetV1 0.25", &mb, m, Some((&mb_q, &mb_hw))),
    ] {
        eprintln!("bench accel: {name} on accel_top (default preset, Verilator)");
        let run = run_accel(net, &cfg, &opts, mem, &AccelFaults::default()).map_err(|e| fail(e.to_string()))?;
        if run.error_code.is_some() || run.output.to_i64() != net.golden().map_err(fail)?.to_i64() {
            return Err(fail(format!("{name}: accel_top's output differs from the golden network")));
        }
        let s = &run.stats;
        let u = |k: &str| s[k].as_u64().unwrap_or(0);
        // The conv engine's compute-only cycles per conv layer, from its cycle model.
        let (mut model_cycles, mut macs) = (0u64, 0u64);
        for (i, layer) in net.layers.iter().enumerate() {
            if let Layer::Conv(c) = layer {
                // With the mapping the compiler picks (ConvPlan::for_layer).
                let plan = ConvPlan::for_layer(&e, net.input_shape(i), c).map_err(|e| fail(e.to_string()))?;
                model_cycles += accelgen_compiler::cycle_model::conv_cycles(&e, &plan).cycles;
                macs += plan.macs;
            }
        }
        // The layers' rooflines: the network's, or for an imported model its own layers'
        // (crate::cmd::onnx::model_bounds: a depthwise layer counts its useful MACs, not the
        // zeros of the dense convolution it runs as), which also give its useful MACs.
        let bounds = match model {
            None => accelgen_compiler::roofline::layer_bounds(net, &cfg),
            Some((q, hw)) => {
                let b = crate::cmd::onnx::model_bounds(q, hw, &cfg);
                macs = b.iter().map(|b| b.macs).sum();
                b
            }
        };
        if let Some(dir) = plot {
            let points: Vec<LayerPoint> = (0..net.layers.len())
                .map(|i| LayerPoint { op: net.layers[i].op().to_string(), cycles: s["layers"][i]["cycles"].as_u64().unwrap_or(0), bound: bounds[i] })
                .collect();
            let bus_bytes = f64::from(cfg.memory.word_bits / 8);
            let files = plot_network(dir, name, &points, pes, bus_bytes, force).map_err(Failure::Input)?;
            for f in files {
                eprintln!("bench accel: wrote {}", f.display());
            }
        }
        // The program's cycle model (accelgen_compiler::net_model) beside the measurement, per layer.
        let pm = accelgen_compiler::net_model::program_cycles(&run.compiled, &cfg, mem.latency).map_err(fail)?;
        let measured = measured_of(s, net.layers.len());
        let layer_err: Vec<f64> = pm.layer_cycles.iter().zip(&measured).map(|(&m, &x)| (m as f64 - x as f64) / (x.max(1) as f64)).collect();
        let worst = layer_err.iter().fold(0f64, |a, &b| a.max(b.abs()));
        let net_util = macs as f64 / (pes * u("cycles") as f64);
        let model_util = macs as f64 / (pes * model_cycles as f64);
        let moved = u("mem_read_bytes") + u("mem_write_bytes");
        // The roofline: the statistics' (the network's layers), or for an imported model the
        // model's own layers' (crate::cmd::onnx::model_bounds).
        let (net_ratio, layer_ratios) = match model {
            None => (
                s["roofline_ratio"].clone(),
                s["layers"].as_array().map(|l| l.iter().map(|x| x["roofline_ratio"].clone()).collect::<Vec<_>>()).unwrap_or_default(),
            ),
            Some(_) => {
                let sum: u64 = bounds.iter().map(|b| b.cycles()).sum();
                let per = measured.iter().zip(&bounds).map(|(&c, b)| json!(accelgen_compiler::roofline::ratio(c, b.cycles()))).collect();
                (json!(accelgen_compiler::roofline::ratio(u("cycles"), sum)), per)
            }
        };
        rows.push(json!({
            "network": name,
            "mem_latency": mem.latency,
            "cycles": u("cycles"),
            "conv_model_cycles": model_cycles,
            "macs": macs,
            "pe_utilization": (net_util * 10000.0).round() / 10000.0,
            "conv_model_utilization": (model_util * 10000.0).round() / 10000.0,
            "utilization_ratio": ratio(net_util, model_util),
            "conv_busy_cycles": u("conv_busy_cycles"),
            "mem_busy_cycles": u("mem_busy_cycles"),
            "pool_busy_cycles": u("pool_busy_cycles"),
            "layer_cycles": s["layers"].as_array().map(|l| l.iter().map(|x| x["cycles"].clone()).collect::<Vec<_>>()),
            "pool_dividers": s["layers"].as_array().map(|l| l.iter().map(|x| x["pool_divider"].clone()).collect::<Vec<_>>()),
            "mem_bytes": moved,
            "mem_min_bytes": u("mem_min_bytes"),
            "mem_bytes_ratio": ratio(moved as f64, u("mem_min_bytes") as f64),
            "compute_bound_cycles": u("compute_bound_cycles"),
            "memory_bound_cycles": u("memory_bound_cycles"),
            "roofline_ratio": net_ratio,
            "layer_roofline_ratios": layer_ratios,
            "program_model_cycles": pm.cycles,
            "layer_model_cycles": pm.layer_cycles,
            "layer_model_errors": layer_err.iter().map(|e| (e * 10000.0).round() / 10000.0).collect::<Vec<_>>(),
            "layer_model_worst_error": (worst * 10000.0).round() / 10000.0,
        }));
    }
    if as_json {
        println!("{}", Value::Array(rows));
        return Ok(());
    }
    println!("accel_top, default preset, Verilator (one run per row; utilization = MACs / (R·C·cycles)):");
    println!(
        "  {:<28} {:>10} {:>10} {:>8} {:>8} {:>7} {:>10} {:>10} {:>6} {:>9}",
        "network", "cycles", "model", "util", "model", "ratio", "mem B", "min B", "ratio", "x bound"
    );
    for r in &rows {
        println!(
            "  {:<28} {:>10} {:>10} {:>8} {:>8} {:>7} {:>10} {:>10} {:>6} {:>9}",
            r["network"].as_str().unwrap_or(""),
            r["cycles"].to_string(),
            r["conv_model_cycles"].to_string(),
            r["pe_utilization"].to_string(),
            r["conv_model_utilization"].to_string(),
            r["utilization_ratio"].to_string(),
            r["mem_bytes"].to_string(),
            r["mem_min_bytes"].to_string(),
            r["mem_bytes_ratio"].to_string(),
            r["roofline_ratio"].to_string()
        );
        let per: Vec<String> = r["layer_roofline_ratios"].as_array().into_iter().flatten().map(|x| x.to_string()).collect();
        println!("      per layer, cycles / roofline: {}", per.join(", "));
        let errs: Vec<String> = r["layer_model_errors"].as_array().into_iter().flatten().map(|x| format!("{:+.2}%", x.as_f64().unwrap_or(0.0) * 100.0)).collect();
        println!(
            "      program model: {} cycles; per layer, model vs measured: {} (worst {:.2}%)",
            r["program_model_cycles"],
            errs.join(", "),
            r["layer_model_worst_error"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
    println!("  model: the conv engine's cycle model on each conv layer as one run (no tiling, no data movement, no pooling)");
    println!("  program model: the cycle model of the compiled program on accel_top (accelgen_compiler::net_model: dispatch rules, the conv engine's model per run, the pooling unit's, the mover's rate)");
    println!("  x bound: cycles / the sum of the layers' rooflines (docs/accelerator.md; memory bounds at the packed memory port, memory.word_bits / 8 bytes per cycle)");
    Ok(())
}
