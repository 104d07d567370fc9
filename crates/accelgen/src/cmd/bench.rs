//! `accelgen bench sim`: the same design and stimulus (the default preset's conv engine on a fixed
//! 3x3 16->32 layer on a 10x10 map) in every engine, as clock periods per second, and the wall
//! time of `accelgen run` on a 64->64 3x3 14x14 layer on rust-hdl and on Verilator.
//!
//! Timed regions (docs/engines.md): `rust_hdl_cps` and `verilator_direct_cps` time the testbench
//! from the end of its construction to the end of the run (loading, running, unloading, the
//! driver's own checks included; model build, Verilog generation and harness construction
//! excluded); the replay keys time the replay loop alone; `layer_wall_s` times a whole `accelgen
//! run` process (parse, golden model, Verilog, model load, simulation, compare) after a warm-up
//! run that builds and caches the Verilator model.
//!
//! The engine measurements are repeated (`--repeat`, default 5) and reported as medians with their
//! min, max and spread (max/min), so a reader sees how noisy a figure is (a loaded machine moves
//! single runs by 1.5x); every ratio is of medians, or for the direct-vs-standalone comparison the
//! median of the per-repetition ratios (both measured in the same repetition).

use crate::failure::Failure;
use accelgen_config::Preset;
use accelgen_formats::{ConvLayer, TensorField};
use accelgen_golden::{ConvParams, Tensor};
use accelgen_hw::pe::ConvEngineParams;
use accelgen_sim::conv::run_conv;
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A deterministic layer: `cin`→`cout`, 3x3, padding 1, on `h`x`w`.
fn layer(cin: usize, cout: usize, h: usize, w: usize) -> (accelgen_golden::TensorI8, ConvLayer) {
    let input = Tensor::from_vec(&[cin, h, w], (0..cin * h * w).map(|i| (i * 7 % 255) as u8 as i8).collect())
        .expect("shape");
    let n = cout * cin * 9;
    let layer = ConvLayer {
        weight: TensorField { shape: vec![cout, cin, 3, 3], data: Some((0..n).map(|i| (i * 13 % 251) as u8 as i8).collect()) },
        bias: None,
        params: ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 },
        requant: None,
        channel_scales: None,
    };
    (input, layer)
}

/// Writes the 64->64 3x3 14x14 case file for the wall-time measurement.
fn write_layer_case(path: &Path) -> Result<(), Failure> {
    let (input, l) = layer(64, 64, 14, 14);
    let case = serde_json::json!({
        "op": "conv2d",
        "input": {"shape": input.shape, "data": input.data},
        "weight": {"shape": l.weight.shape, "data": l.weight.data},
        "stride": [1, 1],
        "padding": [1, 1],
    });
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
        .and_then(|_| std::fs::write(path, case.to_string()))
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

/// Wall time of one `accelgen run CASE --preset default --engine ENGINE` process.
fn run_wall(case: &Path, engine: &str) -> Result<f64, Failure> {
    let exe = std::env::current_exe().map_err(|e| Failure::Input(format!("bench sim: {e}")))?;
    let t = Instant::now();
    let out = std::process::Command::new(exe)
        .args(["run", &case.display().to_string(), "--preset", "default", "--engine", engine])
        .output()
        .map_err(|e| Failure::Input(format!("bench sim: {e}")))?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(Failure::Input(format!(
            "bench sim: accelgen run --engine {engine} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(secs)
}

/// Median, min and max of repeated measurements.
#[derive(Clone, Copy, Debug)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(v: &[f64]) -> Spread {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 };
        Spread { median, min: s[0], max: s[n - 1] }
    }
}

/// One repetition of the engine measurements: clock periods per second of each engine (and the
/// direct testbench over the standalone replay, measured in the same repetition).
fn engine_rates(e: &ConvEngineParams, input: &accelgen_golden::TensorI8, layer: &ConvLayer) -> Result<(f64, BTreeMap<&'static str, f64>), Failure> {
    let sim = |e: accelgen_sim::RunError| Failure::Input(format!("bench sim: {e}"));
    let opts = |engine, extra_engines| RunOptions { engine, extra_engines, timing: true, ..Default::default() };
    let secs = |run: &accelgen_sim::HwRun, key: &str| run.stats.get(key).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    let rust = run_conv(e, input, layer, &opts(Engine::Rust, vec![])).map_err(sim)?;
    let direct = run_conv(e, input, layer, &opts(Engine::Verilator, vec![])).map_err(sim)?;
    // rust-hdl once more, recording the stimulus, which Icarus and Verilator (batched in-process
    // and standalone) replay: the same stimulus, period for period.
    let replay = run_conv(e, input, layer, &opts(Engine::Icarus, vec![Engine::Verilator, Engine::VerilatorStandalone]))
        .map_err(sim)?;
    if rust.output != direct.output || rust.output != replay.output {
        return Err(Failure::Mismatch);
    }
    let periods = rust.stats["sim_periods"].as_u64().unwrap_or(0) as f64;
    for run in [&direct, &replay] {
        if run.stats["sim_periods"].as_u64() != Some(periods as u64) {
            return Err(Failure::Input("bench sim: the engines ran different stimuli".into()));
        }
    }
    let standalone = periods / secs(&replay, "engine_seconds.verilator-standalone");
    let direct_cps = periods / secs(&direct, "sim_seconds");
    let rates = BTreeMap::from([
        ("rust_hdl_cps", periods / secs(&rust, "sim_seconds")),
        ("verilator_direct_cps", direct_cps),
        ("verilator_inproc_cps", periods / secs(&replay, "engine_seconds.verilator")),
        ("verilator_standalone_cps", standalone),
        ("icarus_cps", periods / secs(&replay, "engine_seconds")),
        ("direct_over_standalone", direct_cps / standalone),
    ]);
    Ok((periods, rates))
}

pub(crate) fn bench_sim(as_json: bool, repeat: u32) -> Result<(), Failure> {
    let cfg = Preset::Default.config();
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let (cin, cout, h, w) = (16, 32, 10, 10);
    let (input, layer) = layer(cin, cout, h, w);
    let sim = |e: accelgen_sim::RunError| Failure::Input(format!("bench sim: {e}"));
    let warm = RunOptions { engine: Engine::Verilator, timing: true, ..Default::default() };
    eprintln!("bench sim: the first run builds and caches each simulator; then {repeat} repetitions");
    // Warm-up: builds the Verilator model and caches the Verilog; not timed.
    run_conv(&e, &input, &layer, &warm).map_err(sim)?;
    let mut samples: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut periods = 0.0;
    for _ in 0..repeat {
        let (p, rates) = engine_rates(&e, &input, &layer)?;
        periods = p;
        for (k, v) in rates {
            samples.entry(k).or_default().push(v);
        }
    }
    let st: BTreeMap<&str, Spread> = samples.iter().map(|(k, v)| (*k, Spread::of(v))).collect();
    let med = |k: &str| st[k].median;

    let case = PathBuf::from("target/bench/layer_64to64_3x3_14x14.json");
    write_layer_case(&case)?;
    eprintln!("bench sim: accelgen run of the 64->64 3x3 14x14 layer on the default preset (rust-hdl takes about half a minute)");
    run_wall(&case, "verilator")?; // warm-up: model build
    let wall_v = run_wall(&case, "verilator")?;
    let wall_r = run_wall(&case, "rust")?;
    if as_json {
        let mut j = serde_json::json!({
            "repetitions": repeat,
            "layer_wall_s": {"rust": (wall_r * 1000.0).round() / 1000.0, "verilator": (wall_v * 1000.0).round() / 1000.0},
        });
        for (k, s) in &st {
            if *k == "direct_over_standalone" {
                j[*k] = serde_json::json!((s.median * 100.0).round() / 100.0);
                j["direct_over_standalone_range"] = serde_json::json!([(s.min * 100.0).round() / 100.0, (s.max * 100.0).round() / 100.0]);
            } else {
                j[*k] = serde_json::json!(s.median.round());
                j[format!("{k}_range")] = serde_json::json!([s.min.round(), s.max.round()]);
            }
        }
        println!("{j}");
    } else {
        println!("simulation speed, default conv engine, 3x3 {cin}->{cout} on {h}x{w}: {periods} clock periods per run, {repeat} repetitions");
        println!("  engine                           median cycles/s   vs rust-hdl          min..max   spread");
        let row = |name: &str, k: &str, extra: String| {
            let s = st[k];
            println!(
                "  {name:<32} {:>14.0}   {:>9.2}x   {:>9.0}..{:<9.0} {:.2}x{extra}",
                s.median,
                s.median / med("rust_hdl_cps"),
                s.min,
                s.max,
                s.max / s.min
            );
        };
        row("rust-hdl (testbench)", "rust_hdl_cps", String::new());
        let d = st["direct_over_standalone"];
        row("Verilator, direct testbench", "verilator_direct_cps", format!("   ({:.2}x the standalone harness, {:.2}..{:.2})", d.median, d.min, d.max));
        row("Verilator, in-process replay", "verilator_inproc_cps", String::new());
        row("Verilator, standalone replay", "verilator_standalone_cps", String::new());
        row("Icarus replay", "icarus_cps", String::new());
        println!("accelgen run, 64->64 3x3 on 14x14, default preset, whole process:");
        println!("  rust-hdl {wall_r:.2} s, Verilator {wall_v:.2} s: {:.0}x shorter on Verilator", wall_r / wall_v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spread_is_the_median_min_and_max() {
        let s = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Spread::of(&[4.0, 1.0, 2.0, 10.0]);
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 10.0));
        assert_eq!(Spread::of(&[5.0]).median, 5.0);
    }
}
