//! Simulation engines: run a case through the hardware block that implements its operation and
//! return the block's output with cycle statistics.
//!
//! The command line and the test suites call [`run_case`]; it chooses the block by the case's `op`.
//! Blocks not built yet answer [`RunError::NoBlock`], which the command reports as such.

use accelgen_config::HwConfig;
use accelgen_formats::{Case, Layer, Output};
use serde_json::{Map, Value};
use std::path::PathBuf;

pub mod accel;
pub mod axi;
pub mod conv;
pub mod network;
pub mod engines;
pub mod program;
pub mod pool;
pub mod tb;

/// Options of one hardware run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write a waveform of the run here.
    pub vcd: Option<PathBuf>,
    /// Pooling clock divider (default 1, full rate).
    pub divider: Option<u32>,
    /// Also replay the run on the emitted Verilog in this simulator (default: rust-hdl only).
    pub engine: engines::Engine,
    /// More engines to replay the same recorded run in (`accelgen bench sim`); each adds
    /// `engine_seconds.<name>` to the stats.
    pub extra_engines: Vec<engines::Engine>,
    /// Where Verilog engines build and cache their simulators (default `target/accelgen-engines`).
    pub work_dir: Option<PathBuf>,
    /// Report the testbench's wall time as `sim_seconds` (benchmarks; never asserted).
    pub timing: bool,
    /// With `vcd`: clock periods `from..to` only.
    pub vcd_window: Option<(u64, u64)>,
    /// With `vcd`: signal name patterns to keep (all when empty).
    pub vcd_scopes: Vec<String>,
}

impl RunOptions {
    /// Where Verilog engines build and cache their simulators.
    pub fn work(&self) -> PathBuf {
        self.work_dir.clone().unwrap_or_else(|| PathBuf::from("target/accelgen-engines"))
    }

    /// The testbench for the block `make` builds (top module `top`, generator parameters `key`)
    /// on this run's engine, with the waveform file opened when `vcd` is set.
    pub fn testbench<B: accelgen_hw::io::TopIo + 'static>(
        &self,
        make: impl Fn() -> B,
        top: &str,
        key: &str,
    ) -> Result<tb::Tb, RunError> {
        let wave = match (&self.vcd, self.engine) {
            (Some(_), engines::Engine::Cross | engines::Engine::VerilatorStandalone) => {
                return Err(RunError::Unsupported(format!(
                    "--vcd is not available with --engine {}: use rust, verilator or icarus",
                    self.engine.name()
                )))
            }
            // Icarus writes its own waveform when it replays the run (check_engine).
            (Some(path), engines::Engine::Rust | engines::Engine::Verilator) => Some(self.wave_request(path, top)),
            _ => None,
        };
        tb::Tb::new(make, top, key, self.engine, &self.work(), wave)
    }

    /// The waveform request for `path` with this run's window, scopes and `top`'s viewer groups.
    pub fn wave_request(&self, path: &std::path::Path, top: &str) -> tb::WaveRequest {
        tb::WaveRequest {
            path: path.to_path_buf(),
            window: self.vcd_window,
            scopes: self.vcd_scopes.clone(),
            groups: wave_groups(top),
        }
    }

    /// Replays a recorded rust-hdl run of `block` (top module `top`) in the chosen Verilog engine,
    /// adding `engine` and `engine_periods` to the stats; any difference is a simulation error.
    pub fn check_engine<B: accelgen_hw::rust_hdl::prelude::Block>(
        &self,
        make: impl FnOnce() -> B,
        top: &str,
        trace: Option<accelgen_hw::sim::Trace>,
        stats: &mut Map<String, Value>,
    ) -> Result<(), RunError> {
        stats.insert("engine".into(), Value::from(self.engine.name()));
        let Some(trace) = trace else { return Ok(()) };
        let mut block = make();
        let design = accelgen_hw::emit::verilog_of_block(&mut block, top, "// replayed design\n");
        let work = self.work();
        let raw = match (&self.vcd, self.engine) {
            (Some(_), engines::Engine::Icarus) => {
                std::fs::create_dir_all(work.join("waves")).map_err(|e| RunError::Sim(e.to_string()))?;
                Some(work.join("waves").join(format!("icarus-raw-{}-{top}.vcd", std::process::id())))
            }
            _ => None,
        };
        let t = engines::replay_with_vcd(self.engine, top, &design, &trace, &work, raw.as_deref()).map_err(RunError::Sim)?;
        if let (Some(raw), Some(path)) = (&raw, &self.vcd) {
            let req = self.wave_request(path, top);
            let r = tb::normalize_and_layout(raw, &["tb".to_string(), "uut".to_string()], top, &req, &[]);
            let _ = std::fs::remove_file(raw);
            r.map_err(RunError::Unsupported)?;
        }
        stats.insert("engine_periods".into(), Value::from(trace.inputs.len()));
        // Timing information for `accelgen bench sim`; never asserted.
        stats.insert("engine_seconds".into(), Value::from(t.as_secs_f64()));
        for &e in &self.extra_engines {
            let t = engines::replay(e, top, &design, &trace, &work).map_err(RunError::Sim)?;
            stats.insert(format!("engine_seconds.{}", e.name()), Value::from(t.as_secs_f64()));
        }
        Ok(())
    }
}

/// GTKWave groups of each top: titles and signal name patterns, in the order a reader wants them.
pub fn wave_groups(top: &str) -> Vec<(String, Vec<String>)> {
    let g = |title: &str, pats: &[&str]| (title.to_string(), pats.iter().map(|p| format!("{top}.{p}")).collect::<Vec<_>>());
    match top {
        "conv_engine" => vec![
            g("handshake and parameters", &["clock", "start", "busy", "done", "ld_we", "ld_target", "ld_rowsel", "ld_addr", "ld_data", "p_*"]),
            g("row 0 shift chain: strobe, kernel select, datum into PE (0, 0), each PE's input register, tag, weight used", &["strobe", "seq.ksel", "row0_x", "seq.slot_tag", "pes__*.x_out", "pes__*.tag_out", "pes__*.w_used", "pes__*.mac"]),
            g("first cache reads", &["banks__*.r_en", "banks__*.r_addr", "banks__*.r_data"]),
            g("output read port", &["rd_en", "rd_bank", "rd_addr", "rd_data"]),
        ],
        "pool_unit" => vec![
            g("handshake, divider and clock enable", &["clock", "start", "busy", "done", "conv_done", "p_div", "div_now", "enable", "ce"]),
            g("reads: column cursor, bank read enables", &["reader.rd_x", "reader.upd.q", "reader.rowmask", "banks__*.r_en", "banks__*.r_addr"]),
            g("window register file: shift, update end, region columns (retained m, new n)", &["region.arrive", "region.update_end", "region.band_first", "region.pending", "region.valid__*", "region.value__*"]),
            g("output", &["out_valid", "out_idx", "out_data"]),
        ],
        "instr_decompressor" => vec![
            g("register writes from the host", &["clock", "reg_we", "reg_addr", "reg_wdata", "count", "st_busy", "st_error", "st_overflow"]),
            g("decoded instructions, one per cycle", &["wr_valid", "wr_module", "wr_op", "wr_payload"]),
        ],
        "accel_top" => vec![
            g("host register port and status", &["clock", "reg_we", "reg_addr", "reg_wdata", "reg_raddr", "reg_rdata", "st_busy", "st_done", "st_error"]),
            g("dispatch: the instruction presented, back-pressure, module busy flags", &["dec.wr_valid", "dec.wr_op", "dec.wr_payload", "dec.hold", "perf.instr_count", "disp.settle.q", "conv.busy", "conv.done", "pool.busy", "mover.busy", "rc.code.q"]),
            g("external memory port and the mover's on-chip side", &["m_req_*", "m_rsp_*", "mover.w_en", "mover.w_sel", "mover.w_bank", "mover.w_addr", "mover.w_data", "mover.r_en", "mover.r_sel", "mover.r_addr"]),
            g("conv engine and pooling unit", &["conv.start", "conv.p_*", "pool.start", "pool.p_div", "pool.div_now", "pool.unit.conv_done", "pool.unit.out_valid", "pool.unit.out_idx", "pool.unit.out_data"]),
        ],
        _ => vec![g("ports", &["*"])],
    }
}

/// What a hardware run produced.
#[derive(Clone, Debug)]
pub struct HwRun {
    /// The block's output as read from its ports.
    pub output: Output,
    /// Cycle statistics and invariant counters (`stats` in the result file).
    pub stats: Map<String, Value>,
    /// Invariant violations seen by the testbench; any violation fails the run.
    pub violations: u64,
}

/// Why a hardware run gave no output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// No hardware block implements this operation yet.
    NoBlock(String),
    /// The case does not fit the configured hardware (names the limit).
    Unsupported(String),
    /// The simulation itself failed (a hang caught by the cycle bound, a protocol error).
    Sim(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::NoBlock(s) | RunError::Unsupported(s) | RunError::Sim(s) => f.write_str(s),
        }
    }
}

/// Runs `case` through the hardware simulation of the block that implements its operation.
pub fn run_case(case: &Case, cfg: &HwConfig, opts: &RunOptions) -> Result<HwRun, RunError> {
    if let Layer::Conv(conv) = &case.layer {
        let e = accelgen_hw::pe::ConvEngineParams::from_config(&cfg.pe_array);
        return conv::run_conv(&e, &case.input, conv, opts);
    }
    if let Layer::Pool(pool) = &case.layer {
        let u = accelgen_hw::pool::PoolUnitParams::from_config(&cfg.pooling);
        return pool::run_pool(&u, &cfg.pool_clock.dividers, &case.input, pool, opts);
    }
    Err(RunError::NoBlock(format!(
        "no hardware block implements {} yet (see the open block issues); `accelgen golden` \
         runs the golden model alone",
        case.layer.op()
    )))
}
