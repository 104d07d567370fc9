//! Whole networks on the block engines, sequenced by the host: each layer runs on the hardware
//! block that implements it (conv engine, pooling unit) with its own testbench, the host carries
//! the layer's output to the next layer's input, and every pooling layer runs at the clock divider
//! the planner chose for it. Every layer is compared with the golden model on its own input, and
//! the network's output with the golden network.
//!
//! This is the reference run beside the integrated accelerator (`accelgen run NET.json` runs
//! `accel_top`, where the decompressed program drives a data mover and the engines from an
//! external memory port): here there is no program, no external memory and no tiling. A layer must fit its block's buffers; one that does not is refused naming the layer.

use crate::{run_case, HwRun, RunError, RunOptions};
use accelgen_config::HwConfig;
use accelgen_formats::{Case, Layer, Network, Output};
use serde_json::{json, Map, Value};

/// One layer's run.
#[derive(Clone, Debug)]
pub struct LayerRun {
    /// `conv2d`, `maxpool2d`, `avgpool2d`.
    pub op: &'static str,
    /// The block's stats for this layer (as for a case), plus `pool_divider` on pooling layers.
    pub stats: Map<String, Value>,
    /// The block's output equals the golden model on the same input.
    pub matches_golden: bool,
    /// Invariant violations the block's testbench saw.
    pub violations: u64,
}

/// A network's run.
#[derive(Clone, Debug)]
pub struct NetRun {
    /// The last layer's output as the hardware produced it.
    pub output: Output,
    /// Per layer.
    pub layers: Vec<LayerRun>,
    /// Network totals (see [`run_network`]).
    pub stats: Map<String, Value>,
    /// Invariant violations over all layers.
    pub violations: u64,
}

fn u(stats: &Map<String, Value>, key: &str) -> u64 {
    stats.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn ratio(x: u64, y: u64) -> f64 {
    (x as f64 / y.max(1) as f64 * 10000.0).round() / 10000.0
}

/// The waveform of layer `i` when the network's is `path`: `net.vcd` → `net.layer0.vcd` (each
/// layer runs on its own testbench, so each has its own waveform and GTKWave layout).
pub fn layer_waveform(path: &std::path::Path, i: usize) -> std::path::PathBuf {
    let stem = path.file_stem().map_or_else(|| "wave".into(), |s| s.to_string_lossy().into_owned());
    let ext = path.extension().map_or_else(|| "vcd".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.layer{i}.{ext}"))
}

/// Runs `net` (every tensor with data) layer by layer. Network stats: `mode`; `cycles`, the clock
/// periods the blocks ran (loading through their ports, running, reading back); `compute_cycles`,
/// start to done summed; `macs` (formula) and `pe_macs` (observed) of the conv layers;
/// `pe_utilization` = macs / (R·C·cycles); and `layers`, per layer `op`, `cycles`,
/// `compute_cycles`, `macs`, `pe_utilization` (over the layer's cycles), `pool_divider`.
pub fn run_network(net: &Network, cfg: &HwConfig, opts: &RunOptions) -> Result<NetRun, RunError> {
    net.require_chain().map_err(RunError::Unsupported)?;
    let input = net.input.require("input").map_err(RunError::Unsupported)?;
    let plan = accelgen_compiler::planner::plan_clock(net, cfg).map_err(RunError::Unsupported)?;
    let pes = u64::from(cfg.pe_array.rows * cfg.pe_array.cols);
    let mut x = Output::I8(input);
    let mut layers = vec![];
    let (mut cycles, mut compute, mut macs, mut pe_macs, mut violations) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for (i, layer) in net.layers.iter().enumerate() {
        let at = format!("layers[{i}]");
        let layer_input = x.as_i8().ok_or_else(|| {
            RunError::Unsupported(format!("{at}: its input is int32 (a conv2d without requant before it)"))
        })?;
        let case = Case { input: layer_input.clone(), layer: layer.clone(), expected: None };
        let golden = case.golden().map_err(|e| RunError::Unsupported(format!("{at}: {e}")))?;
        let divider = match layer {
            Layer::Pool(_) => plan.iter().find(|r| r.layer == i).map(|r| r.divider),
            Layer::Conv(_) | Layer::Add(_) => None,
        };
        let vcd = opts.vcd.as_deref().map(|p| layer_waveform(p, i));
        let o = RunOptions { divider, vcd, ..opts.clone() };
        let run: HwRun = run_case(&case, cfg, &o).map_err(|e| match e {
            RunError::Unsupported(s) => RunError::Unsupported(format!("{at} ({}): {s}", layer.op())),
            RunError::Sim(s) => RunError::Sim(format!("{at} ({}): {s}", layer.op())),
            other => other,
        })?;
        let matches_golden = run.output.to_i64() == golden.to_i64();
        let mut stats = run.stats.clone();
        let layer_cycles = u(&stats, "sim_periods");
        let layer_macs = u(&stats, "macs");
        if let Some(d) = divider {
            stats.insert("pool_divider".into(), json!(d));
        }
        cycles += layer_cycles;
        compute += u(&stats, "cycles");
        macs += layer_macs;
        pe_macs += u(&stats, "pe_macs");
        violations += run.violations;
        layers.push(LayerRun { op: layer.op(), stats, matches_golden, violations: run.violations });
        x = run.output;
    }
    let mut stats = Map::new();
    stats.insert("mode".into(), json!("host-sequenced blocks (not yet accel_top)"));
    stats.insert("engine".into(), json!(opts.engine.name()));
    stats.insert("cycles".into(), json!(cycles));
    stats.insert("compute_cycles".into(), json!(compute));
    stats.insert("macs".into(), json!(macs));
    stats.insert("pe_macs".into(), json!(pe_macs));
    stats.insert("pe_utilization".into(), json!(ratio(macs, pes * cycles)));
    let per_layer: Vec<Value> = layers
        .iter()
        .map(|l| {
            let c = u(&l.stats, "sim_periods");
            json!({
                "op": l.op,
                "cycles": c,
                "compute_cycles": u(&l.stats, "cycles"),
                "macs": u(&l.stats, "macs"),
                "pe_utilization": ratio(u(&l.stats, "macs"), pes * c),
                "pool_divider": l.stats.get("pool_divider").cloned().unwrap_or(Value::Null),
                "matches_golden": l.matches_golden,
            })
        })
        .collect();
    stats.insert("layers".into(), Value::Array(per_layer));
    Ok(NetRun { output: x, layers, stats, violations })
}
