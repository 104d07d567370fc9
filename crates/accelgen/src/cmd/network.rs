//! `accelgen run NET.json`: a network on accel_top (compiled, compressed, loaded by register
//! writes, run from a memory model) or, with `--blocks`, on the hardware blocks host-sequenced;
//! the per-layer table and the comparison with the golden network.

use crate::failure::Failure;
use crate::report::{conclude, shape_str, Ending};
use accelgen_config::HwConfig;
use accelgen_formats::Network;
use accelgen_sim::accel::MemTiming;
use accelgen_sim::RunOptions;
use std::path::Path;

/// `accelgen run NET.json`: the network compiled, compressed, loaded through the register port
/// and run on accel_top from a memory model; a per-layer table; the output read from memory
/// against the golden network and `expected`. With `program`, that folder's program.cbin runs
/// instead of a fresh compile.
pub(crate) fn run_network(file: &Path, cfg: &HwConfig, out: Option<&Path>, opts: RunOptions, mem: MemTiming, program: Option<&Path>) -> Result<(), Failure> {
    let net = Network::load(file).map_err(Failure::Input)?;
    let golden = net.golden().map_err(|e| Failure::in_file(file, e))?.to_i64();
    let mut faults = accelgen_sim::accel::AccelFaults::default();
    if let Some(dir) = program {
        let cap = u64::from(cfg.isa.buffer_depth) * u64::from(cfg.isa.word_bits / 8);
        let cbin = accelgen_config::input::read_limited(&dir.join("program.cbin"), cap, "compressed program").map_err(Failure::Input)?;
        accelgen_isa::compress::decompress(&cbin, 64).map_err(|e| Failure::Input(format!("{}: {e}", dir.join("program.cbin").display())))?;
        faults.program = Some(cbin);
    }
    let run = accelgen_sim::accel::run_accel(&net, cfg, &opts, mem, &faults).map_err(|e| Failure::of_run(e, file, cfg))?;
    println!(
        "{}: network of {} layers on accel_top ({}); configuration {}, engine {}, memory latency {}{}",
        file.display(),
        net.layers.len(),
        program.map_or("compiled, compressed, loaded by register writes".to_string(), |d| format!("program {}", d.join("program.cbin").display())),
        cfg.name,
        opts.engine.name(),
        mem.latency,
        if mem.stall_every > 0 { format!(", not ready 1 cycle in {}", mem.stall_every) } else { String::new() }
    );
    println!(
        "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>7} {:>7} {:>12} {:>12} {:>9} {:>9}",
        "layer", "op", "output", "cycles", "macs", "util", "divider", "mem read B", "mem write B", "roofline", "x bound"
    );
    for (i, layer) in net.layers.iter().enumerate() {
        let per = &run.stats["layers"][i];
        let bound = per["compute_bound_cycles"].as_u64().unwrap_or(0).max(per["memory_bound_cycles"].as_u64().unwrap_or(0));
        println!(
            "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>7} {:>7} {:>12} {:>12} {:>9} {:>9}",
            i,
            layer.op(),
            shape_str(&net.shapes[i + 1]),
            per["cycles"].to_string(),
            per["macs"].to_string(),
            per["pe_utilization"].to_string(),
            per["pool_divider"].as_u64().map_or("-".to_string(), |d| d.to_string()),
            per["mem_read_bytes"].to_string(),
            per["mem_write_bytes"].to_string(),
            bound,
            per["roofline_ratio"].to_string(),
        );
    }
    if let Some(code) = run.error_code {
        println!("  accel_top stopped with error code {code}: {}", accelgen_isa::error_meaning(code));
    }
    let got = run.output.to_i64();
    let verdict = conclude(Ending {
        reference: "golden network",
        got: &got,
        golden: &golden,
        expected: net.expected.as_ref(),
        stats: &run.stats,
        violations: 0,
        waveform: opts.vcd.as_ref().map(|v| {
            format!("waveform written to {} (GTKWave layout: {})", v.display(), accelgen_sim::tb::gtkw_path(v).display())
        }),
        out,
    });
    if let Some(code) = run.error_code {
        return Err(Failure::Hardware(format!("{}: accel_top stopped with error code {code} ({})", file.display(), accelgen_isa::error_meaning(code))));
    }
    if run.stats["mem_outside_accesses"].as_u64().unwrap_or(0) > 0 {
        return Err(Failure::Hardware(format!("{}: accel_top accessed memory outside the network's layout", file.display())));
    }
    verdict
}

/// `accelgen run NET.json --top accel_axi`: the network on accel_axi as a host driver runs it
/// (docs/soc.md): the memory image at MEM_BASE 0x4000_0000 in an AXI4 slave model with random
/// delays on every channel, the program through AXI4-Lite, START, the interrupt; a protocol
/// checker on every cycle. The output read from memory against the golden network.
pub(crate) fn run_network_axi(file: &Path, cfg: &HwConfig, out: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    use accelgen_sim::axi::{run_accel_axi, AxiSetup};
    let net = Network::load(file).map_err(Failure::Input)?;
    let golden = net.golden().map_err(|e| Failure::in_file(file, e))?.to_i64();
    let setup = AxiSetup { base: 0x4000_0000, seed: 1, fault_drop_valid: false, slverr_read: None };
    let r = run_accel_axi(&net, cfg, &opts, setup).map_err(|e| Failure::of_run(e, file, cfg))?;
    println!(
        "{}: network of {} layers on accel_axi (AXI4-Lite registers, AXI4 memory at 0x4000_0000 with random delays, protocol checker); configuration {}, engine {}",
        file.display(),
        net.layers.len(),
        cfg.name,
        opts.engine.name()
    );
    let word_bytes = u64::from(cfg.memory.word_bits / 8);
    let mut stats = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        stats.insert(k.into(), v);
    };
    put("mode", "accel_axi".into());
    put("engine", opts.engine.name().into());
    put("cycles", r.cycles.into());
    put("core_cycles", r.core_cycles.into());
    put("irq_status", r.irq_status.into());
    put("status", r.status.into());
    put("axi_read_beats", r.reads.into());
    put("axi_read_bursts", r.read_bursts.into());
    put("axi_peak_read_bursts", r.peak_read_bursts.into());
    put("axi_write_beats", r.writes.into());
    put("axi_write_bursts", r.write_bursts.into());
    put("mem_word_bits", cfg.memory.word_bits.into());
    put("mem_read_bytes", (r.reads * word_bytes).into());
    put("mem_write_bytes", (r.writes * word_bytes).into());
    put("mem_min_bytes", r.min_bytes.into());
    let got = r.output.to_i64();
    let verdict = conclude(Ending {
        reference: "golden network",
        got: &got,
        golden: &golden,
        expected: net.expected.as_ref(),
        stats: &stats,
        violations: 0,
        waveform: opts.vcd.as_ref().map(|v| format!("waveform written to {}", v.display())),
        out,
    });
    if r.irq_status != 1 {
        let code = (r.status >> 8) & 15;
        return Err(Failure::Hardware(format!(
            "{}: accel_axi interrupted with IRQ_STATUS {:#x} (error code {code}: {})",
            file.display(),
            r.irq_status,
            accelgen_isa::error_meaning(code)
        )));
    }
    verdict
}

/// `accelgen run NET.json --blocks`: every layer on its hardware block, host-sequenced.
pub(crate) fn run_blocks(file: &Path, cfg: &HwConfig, out: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    let engine = opts.engine;
    let net = Network::load(file).map_err(Failure::Input)?;
    let golden = net.golden().map_err(|e| Failure::in_file(file, e))?.to_i64();
    let run = accelgen_sim::network::run_network(&net, cfg, &opts).map_err(|e| Failure::of_run(e, file, cfg))?;
    println!(
        "{}: network of {} layers on the hardware blocks, host-sequenced (--blocks); configuration {}, engine {}",
        file.display(),
        net.layers.len(),
        cfg.name,
        engine.name()
    );
    println!(
        "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>10} {:>7} {:>7} {:>7} {:>10}",
        "layer", "op", "output", "cycles", "compute", "macs", "util", "divider", "golden", "violations"
    );
    for (i, l) in run.layers.iter().enumerate() {
        let per = &run.stats["layers"][i];
        println!(
            "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>10} {:>7} {:>7} {:>7} {:>10}",
            i,
            l.op,
            shape_str(&net.shapes[i + 1]),
            per["cycles"].to_string(),
            per["compute_cycles"].to_string(),
            per["macs"].to_string(),
            per["pe_utilization"].to_string(),
            per["pool_divider"].as_u64().map_or("-".to_string(), |d| d.to_string()),
            if l.matches_golden { "match" } else { "DIFFER" },
            l.violations
        );
    }
    let got = run.output.to_i64();
    let last = net.layers.len() - 1;
    conclude(Ending {
        reference: "golden network",
        got: &got,
        golden: &golden,
        expected: net.expected.as_ref(),
        stats: &run.stats,
        violations: run.violations,
        waveform: opts.vcd.as_ref().map(|v| {
            format!(
                "waveforms: one per layer, {} … {} (each with its .gtkw layout)",
                accelgen_sim::network::layer_waveform(v, 0).display(),
                accelgen_sim::network::layer_waveform(v, last).display()
            )
        }),
        out,
    })?;
    if run.layers.iter().any(|l| !l.matches_golden) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
