//! Simulation engines: run a case through the hardware block that implements its operation and
//! return the block's output with cycle statistics.
//!
//! The command line and the test suites call [`run_case`]; it chooses the block by the case's `op`.
//! Blocks not built yet answer [`RunError::NoBlock`], which the command reports as such.

use accelgen_config::HwConfig;
use accelgen_formats::{Case, Layer, Output};
use serde_json::{Map, Value};
use std::path::PathBuf;

pub mod compiler;
pub mod conv;
pub mod conv_model;
pub mod network;
pub mod engines;
pub mod planner;
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
        if self.vcd.is_some() && matches!(self.engine, engines::Engine::Verilator | engines::Engine::Cross) {
            return Err(RunError::Unsupported(format!(
                "--vcd is not available with --engine {} yet: run with --engine rust for a waveform",
                self.engine.name()
            )));
        }
        let vcd = self.vcd.as_deref().map(tb::VcdSink::create).transpose().map_err(RunError::Unsupported)?;
        tb::Tb::new(make, top, key, self.engine, &self.work(), vcd).map_err(RunError::Sim)
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
        let t = engines::replay(self.engine, top, &design, &trace, &work).map_err(RunError::Sim)?;
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
