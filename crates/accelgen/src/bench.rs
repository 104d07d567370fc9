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
    // One more rust-hdl run records the stimulus; every Verilog engine replays that same trace
    // and must reproduce every output on every period.
    eprintln!("bench sim: replaying in Verilator (in-process, standalone) and Icarus; the first run builds and caches each simulator");
    let opts = RunOptions {
        engine: Engine::Verilator,
        extra_engines: vec![Engine::VerilatorStandalone, Engine::Icarus],
        ..Default::default()
    };
    let run = run_conv(&e, &input, &layer, &opts).map_err(sim)?;
    if base.output != run.output {
        return Err(Failure::Mismatch);
    }
    let periods = run.stats["engine_periods"].as_u64().unwrap_or(0) as f64;
    let cps = |key: &str| periods / run.stats[key].as_f64().unwrap_or(f64::NAN);
    let rust_cps = periods / rust_secs;
    let inproc = cps("engine_seconds");
    let standalone = cps("engine_seconds.verilator-standalone");
    let icarus = cps("engine_seconds.icarus");
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "rust_hdl_cps": rust_cps.round(),
                "verilator_inproc_cps": inproc.round(),
                "verilator_standalone_cps": standalone.round(),
                "icarus_cps": icarus.round(),
            })
        );
    } else {
        println!("simulation speed, default conv engine, 3x3 {cin}->{cout} on {h}x{w}: {periods} clock periods per run");
        println!("  engine                      cycles/s   vs rust-hdl");
        println!("  rust-hdl                {rust_cps:>12.0}   1.0x");
        println!("  Verilator (in-process)  {inproc:>12.0}   {:.1}x   ({:.2}x the standalone harness)", inproc / rust_cps, inproc / standalone);
        println!("  Verilator (standalone)  {standalone:>12.0}   {:.1}x", standalone / rust_cps);
        println!("  Icarus                  {icarus:>12.0}   {:.2}x", icarus / rust_cps);
    }
    Ok(())
}
