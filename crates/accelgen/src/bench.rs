//! `accelgen bench sim`: the same design and stimulus (the default preset's conv engine on a fixed
//! 3x3 16->32 layer on a 10x10 map) in every engine, as clock periods per second.

use crate::Failure;
use accelgen_config::Preset;
use accelgen_formats::{ConvLayer, TensorField};
use accelgen_golden::{ConvParams, Tensor};
use accelgen_hw::pe::ConvEngineParams;
use accelgen_sim::conv::run_conv;
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use std::time::Instant;

pub(crate) fn bench_sim(as_json: bool) -> Result<(), Failure> {
    let cfg = Preset::Default.config();
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let (cin, cout, h, w) = (16, 32, 10, 10);
    let input = Tensor::from_vec(&[cin, h, w], (0..cin * h * w).map(|i| (i * 7 % 255) as u8 as i8).collect())
        .expect("shape");
    let n = cout * cin * 9;
    let layer = ConvLayer {
        weight: TensorField { shape: vec![cout, cin, 3, 3], data: Some((0..n).map(|i| (i * 13 % 251) as u8 as i8).collect()) },
        bias: None,
        params: ConvParams { stride: [1, 1], padding: [1, 1] },
        requant: None,
    };
    let sim = |e: accelgen_sim::RunError| Failure::Input(format!("bench sim: {e}"));
    // rust-hdl alone (no trace recording).
    let t = Instant::now();
    let base = run_conv(&e, &input, &layer, &RunOptions::default()).map_err(sim)?;
    let rust_secs = t.elapsed().as_secs_f64();
    let mut cps = vec![];
    let mut periods = 0u64;
    for engine in [Engine::Icarus, Engine::Verilator] {
        eprintln!("bench sim: {} (the first run builds and caches the simulator)", engine.name());
        let run = run_conv(&e, &input, &layer, &RunOptions { engine, ..Default::default() }).map_err(sim)?;
        periods = run.stats["engine_periods"].as_u64().unwrap_or(0);
        let secs = run.stats["engine_seconds"].as_f64().unwrap_or(f64::NAN);
        cps.push(periods as f64 / secs);
    }
    if base.output != run_conv(&e, &input, &layer, &RunOptions::default()).map_err(sim)?.output {
        return Err(Failure::Mismatch);
    }
    let rust_cps = periods as f64 / rust_secs;
    let (icarus, verilator) = (cps[0], cps[1]);
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "rust_hdl_cps": rust_cps.round(),
                "verilator_inproc_cps": null,
                "verilator_standalone_cps": verilator.round(),
                "icarus_cps": icarus.round(),
            })
        );
    } else {
        println!("simulation speed, default conv engine, 3x3 {cin}->{cout} on {h}x{w}: {periods} clock periods per run");
        println!("  rust-hdl                {rust_cps:>12.0} cycles/s   1.0x");
        println!("  Verilator (standalone)  {verilator:>12.0} cycles/s   {:.1}x", verilator / rust_cps);
        println!("  Icarus                  {icarus:>12.0} cycles/s   {:.1}x", icarus / rust_cps);
        println!("  Verilator (in-process)  not built yet");
    }
    Ok(())
}
