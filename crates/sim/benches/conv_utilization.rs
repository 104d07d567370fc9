//! `make bench`: the conv engine's cycles, ideal cycles and PE utilization for a table of layers on
//! the default preset, from the cycle model (equal to the simulation's count, as the tests check),
//! plus one layer simulated side by side to show the model and the simulation agree here too.

use accelgen_config::Preset;
use accelgen_hw::pe::ConvEngineParams;
use accelgen_compiler::ConvPlan;
use accelgen_compiler::cycle_model::conv_cycles;

fn main() {
    let cfg = Preset::Default.config();
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let (r, c, k) = (e.rows, e.cols, e.kernels);
    println!("conv engine utilization, preset default: {r}x{c} PEs, K={k} (cycle model)");
    println!(
        "{:<28} {:>6} {:>10} {:>12} {:>12} {:>7}",
        "layer (Cin->Cout, HxW, kernel)", "passes", "macs", "cycles", "ideal", "util"
    );
    // (name, cin, cout, h, w, kh, kw, stride, pad)
    let layers = [
        ("3x3 16->32 28x28", 16, 32, 28, 28, 3, 3, 1, 1),
        ("3x3 32->32 28x28", 32, 32, 28, 28, 3, 3, 1, 1),
        ("3x3 32->64 28x28", 32, 64, 28, 28, 3, 3, 1, 1),
        ("3x3 64->64 14x14", 64, 64, 14, 14, 3, 3, 1, 1),
        ("3x3 64->64 28x28", 64, 64, 28, 28, 3, 3, 1, 1),
        ("3x3 16->16 14x14", 16, 16, 14, 14, 3, 3, 1, 1),
        ("3x3 48->40 20x20 (odd)", 48, 40, 20, 20, 3, 3, 1, 1),
        ("1x1 64->64 28x28", 64, 64, 28, 28, 1, 1, 1, 0),
        ("1x1 32->128 14x14", 32, 128, 14, 14, 1, 1, 1, 0),
        ("3x3/2 32->64 28x28", 32, 64, 28, 28, 3, 3, 2, 1),
    ];
    for (name, cin, cout, h, w, kh, kw, s, p) in layers {
        let plan = match ConvPlan::geometry(&e, &[cin, h, w], &[cout, cin, kh, kw], &ConvParams { stride: [s, s], padding: [p, p], padding_end: None, pad_value: 0 }).and_then(|plan| plan.fits(&e)) {
            Ok(p) => p,
            Err(err) => {
                println!("{name:<28} does not fit: {err}");
                continue;
            }
        };
        let m = conv_cycles(&e, &plan);
        let ideal = plan.macs as f64 / (r * c) as f64;
        println!(
            "{name:<28} {:>6} {:>10} {:>12} {:>12.0} {:>6.1}%",
            plan.passes,
            plan.macs,
            m.cycles,
            ideal,
            100.0 * ideal / m.cycles as f64
        );
    }
    println!("ideal = macs / (R·C) fast cycles = macs / (R·C·K) slow cycles; util = ideal / cycles");

    // Side by side: the rust-hdl simulation of one layer against the model, same run.
    use accelgen_formats::{ConvLayer, TensorField};
    use accelgen_golden::{ConvParams, Tensor};
    let (cin, cout, h, w) = (16, 32, 10, 10);
    let input = Tensor::from_vec(&[cin, h, w], (0..cin * h * w).map(|i| (i * 7 % 255) as i8).collect()).unwrap();
    let n = cout * cin * 9;
    let layer = ConvLayer {
        weight: TensorField { shape: vec![cout, cin, 3, 3], data: Some((0..n).map(|i| (i * 13 % 251) as i8).collect()) },
        bias: None,
        params: ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 },
        requant: None,
        channel_scales: None,
    };
    let t = std::time::Instant::now();
    let run = accelgen_sim::conv::run_conv(&e, &input, &layer, &Default::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let plan = ConvPlan::geometry(&e, &[cin, h, w], &[cout, cin, 3, 3], &ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 }).and_then(|plan| plan.fits(&e)).unwrap();
    let sim_cycles = run.stats["cycles"].as_u64().unwrap();
    println!(
        "side by side, 3x3 {cin}->{cout} {h}x{w}: simulated {sim_cycles} cycles, model {} cycles, \
         ratio {:.3}; rust-hdl simulated {:.0} cycles/s",
        conv_cycles(&e, &plan).cycles,
        sim_cycles as f64 / conv_cycles(&e, &plan).cycles as f64,
        (sim_cycles + run.stats["load_cycles"].as_u64().unwrap()) as f64 / secs
    );
}
