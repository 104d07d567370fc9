//! The command line: clap types only. Argument groups shared by several commands
//! ([`ConfigArgs`], [`EngineArg`], [`WaveArgs`]) are declared once; flags a mode cannot honour
//! are refused by clap (`conflicts_with`, `requires`) or, where the rule depends on the mode, by
//! [`crate::cmd::run::Mode::of`], never ignored.

use crate::failure::Failure;
use accelgen_config::{HwConfig, Preset};
use accelgen_sim::engines::Engine;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  accelgen config show --preset tiny
  accelgen golden testbenches/vectors/conv_bias_4ch_6k_3x3.json
  accelgen run testbenches/vectors/maxpool_2x2_s2.json --preset tiny --out result.json
  accelgen generate --preset default            # writes hdl_out/default/
  accelgen suite --preset default               # every case in testbenches/, a pass/fail table
  accelgen run testbenches/vectors/avgpool_3x3_s1.json --preset tiny --divider 2 --engine icarus
  accelgen plan-clock testbenches/networks/alexnet.json
  accelgen compile testbenches/networks/lenet5.json --out target/lenet5 && accelgen run --program target/lenet5
  accelgen bench sim --json

Exit codes: 0 all matched, 1 a mismatch, 2 bad input, 3 no hardware block for the operation.";

/// The command line.
#[derive(Parser)]
#[command(name = "accelgen", version, about = "Generator for a CNN accelerator: Verilog, golden-model testbenches, waveforms", after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Which hardware configuration to use.
#[derive(Args, Clone)]
pub(crate) struct ConfigArgs {
    /// A named preset (tiny, default).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    preset: Option<String>,
    /// A configuration file: a whole configuration, or {"preset": NAME, ...overrides}.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration named (default: the `default` preset), validated.
    pub(crate) fn load(&self) -> Result<HwConfig, Failure> {
        match (&self.preset, &self.config) {
            (_, Some(file)) => {
                use accelgen_config::input;
                let text = input::read_text(file, input::MAX_CONFIG_BYTES, "configuration file").map_err(Failure::Input)?;
                HwConfig::from_json(&text).map_err(|e| Failure::in_file(file, e))
            }
            (Some(name), None) => Ok(Preset::from_name(name).map_err(Failure::Input)?.config()),
            (None, None) => Ok(Preset::Default.config()),
        }
    }
}

/// The top a network runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum TopArg {
    /// the integrated accelerator: host register port, a memory model
    #[value(name = "accel_top")]
    AccelTop,
    /// the SoC top: AXI4-Lite registers, an AXI4 memory with random delays on every channel,
    /// checked by a protocol checker every cycle (docs/soc.md)
    #[value(name = "accel_axi")]
    AccelAxi,
}

/// Simulation engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum EngineArg {
    /// rust-hdl (the reference)
    Rust,
    /// the emitted Verilog as a Verilator model in this process (no rust-hdl run)
    Verilator,
    /// rust-hdl and Verilator in lock-step: every output and observed signal equal on every clock period
    Cross,
    /// rust-hdl's recorded stimulus replayed on the emitted Verilog in Icarus
    Icarus,
    /// rust-hdl's recorded stimulus replayed in a standalone Verilator harness
    VerilatorStandalone,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Rust => Engine::Rust,
            EngineArg::Verilator => Engine::Verilator,
            EngineArg::Cross => Engine::Cross,
            EngineArg::Icarus => Engine::Icarus,
            EngineArg::VerilatorStandalone => Engine::VerilatorStandalone,
        }
    }
}

/// Waveform output of a run.
#[derive(Args, Clone, Default)]
pub(crate) struct WaveArgs {
    /// Write a waveform of the simulation here (engines rust, verilator, icarus), with a
    /// GTKWave layout beside it (FILE with extension .gtkw).
    #[arg(long, value_name = "FILE")]
    pub vcd: Option<PathBuf>,
    /// With --vcd: only clock periods FROM..TO (end exclusive).
    #[arg(long, value_name = "FROM:TO", requires = "vcd", value_parser = parse_window)]
    pub vcd_window: Option<(u64, u64)>,
    /// With --vcd: only signals whose full name matches (`*` wildcards, e.g.
    /// 'pool_unit.region.*'); repeatable. The clock is always kept.
    #[arg(long, value_name = "PATTERN", requires = "vcd")]
    pub vcd_scope: Vec<String>,
}

/// `--vcd-window FROM:TO`: clock periods with FROM < TO.
fn parse_window(w: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected FROM:TO, clock periods with FROM < TO (got {w})");
    let (a, b) = w.split_once(':').ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a >= b {
        return Err(bad());
    }
    Ok((a, b))
}

/// `accelgen run`: a case, a network, or a compiled program.
#[derive(Args)]
pub(crate) struct RunArgs {
    /// The case or network file (JSON), or an ONNX model quantized by ONNX Runtime (.onnx, with
    /// --input).
    #[arg(required_unless_present = "program", conflicts_with = "program")]
    pub file: Option<PathBuf>,
    /// A folder written by `accelgen compile`: load program.cbin through the decompressor's
    /// register interface and check its register writes against program.bin's.
    #[arg(long, value_name = "DIR")]
    pub program: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Write the result document here.
    #[arg(long, value_name = "RESULT.json")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub wave: WaveArgs,
    /// Overwrite --out / --vcd files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Pooling clock divider, one of the configuration's pool_clock.dividers (pooling cases).
    #[arg(long, value_name = "D", conflicts_with = "program")]
    pub divider: Option<u32>,
    /// Simulation engine.
    #[arg(long, value_name = "ENGINE", value_enum, default_value = "rust")]
    pub engine: EngineArg,
    /// Networks: run each layer on its block, host-sequenced (the reference run without
    /// accel_top, its program or external memory).
    #[arg(long, conflicts_with_all = ["program", "mem_latency", "mem_stall"])]
    pub blocks: bool,
    /// Networks: the top they run on (accel_axi: programmed through AXI4-Lite, memory an AXI4
    /// slave model with random delays, at MEM_BASE 0x4000_0000).
    #[arg(long, value_name = "TOP", value_enum, default_value = "accel_top")]
    pub top: TopArg,
    /// Networks on accel_top: cycles from a memory read request to its response (1..=1000).
    #[arg(long, value_name = "N")]
    pub mem_latency: Option<u32>,
    /// Networks on accel_top: the memory is not ready one cycle in every N (0: always ready).
    #[arg(long, value_name = "N")]
    pub mem_stall: Option<u32>,
    /// With --program: execute the program on accel_top with this network's tensors in
    /// external memory (laid out as `accelgen compile` lays them out for the configuration).
    #[arg(long, value_name = "NET.json", requires = "program")]
    pub net: Option<PathBuf>,
    #[command(flatten)]
    pub onnx: OnnxIo,
}

/// The commands.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Show a configuration as JSON.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Run a case through the hardware simulation and compare it with the golden model, run a
    /// network on accel_top, or load a compiled program into the hardware decompressor (--program).
    #[command(after_help = "Examples:\n  accelgen run testbenches/vectors/maxpool_2x2_s2.json --preset tiny --vcd target/pool.vcd\n  accelgen compile testbenches/networks/lenet5.json --out target/lenet5 && accelgen run --program target/lenet5")]
    Run(RunArgs),
    /// Run a case or a network file through the golden model only.
    #[command(after_help = "Example:\n  accelgen golden testbenches/vectors/avgpool_3x3_s2_pad1.json --out golden.json")]
    Golden {
        /// The case or network file (JSON), or an ONNX model quantized by ONNX Runtime (.onnx).
        file: PathBuf,
        /// Write the result document here.
        #[arg(long, value_name = "RESULT.json")]
        out: Option<PathBuf>,
        /// Overwrite --out and --save-output if they exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        onnx: OnnxIo,
    },
    /// Emit the accelerator's Verilog.
    #[command(after_help = "Example:\n  accelgen generate --preset tiny --out hdl_out/tiny")]
    Generate {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output folder (default hdl_out/<configuration name>). Only files accelgen wrote are
        /// replaced.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Import an ONNX model quantized by ONNX Runtime as an accelgen network file (tensors as
    /// .npy files beside it, named by their ONNX nodes), which golden, compile and run take.
    #[command(after_help = "Example:\n  accelgen import testbenches/onnx/digits_qdq.onnx --out target/digits/net.json --input testbenches/onnx/digits.input.npy\n  accelgen run target/digits/net.json --engine verilator")]
    Import {
        /// The model (.onnx).
        model: PathBuf,
        /// The network file to write.
        #[arg(long, value_name = "NET.json")]
        out: PathBuf,
        /// Include the first image of this batch as the network's input (quantized as the
        /// model's QuantizeLinear does).
        #[arg(long, value_name = "X.npy")]
        input: Option<PathBuf>,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Compile a network into the accelerator's instructions, uncompressed and compressed.
    #[command(after_help = "Example:\n  accelgen compile testbenches/networks/vgg16.json --preset default --out target/vgg16 --json\n\nWrites DIR/program.bin (one instruction per W-bit word, little-endian), DIR/program.cbin\n(duplicates dropped, transfers as MEM_ADD deltas, loops as REPEAT, packed into W-bit words),\nDIR/program.txt (disassembly of program.bin) and DIR/program.ctxt (program.cbin, one word per line);\nfor a network with data also DIR/memory_init.bin (the memory image the program expects at its base)\nand DIR/memory.json (its regions: name, byte offset, bytes, dtype, shape; which is the input and the output).")]
    Compile {
        /// The network file (JSON; shapes without data are enough).
        file: PathBuf,
        #[command(flatten)]
        config: ConfigArgs,
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the sizes as one JSON object.
        #[arg(long)]
        json: bool,
        /// Overwrite program files that already exist in DIR.
        #[arg(long)]
        force: bool,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        cmd: BenchCmd,
    },
    /// Show a waveform: in the terminal, or as an SVG or PNG picture.
    #[command(after_help = "Examples:\n  accelgen run testbenches/vectors/maxpool_2x2_s2.json --preset tiny --vcd target/p.vcd\n  accelgen wave target/p.vcd --signals 'pool_unit.ce' 'pool_unit.region.*' --from 40 --to 70\n  accelgen wave target/p.vcd --signals '*out_*' --svg target/p.svg")]
    Wave {
        /// The waveform (VCD; as written by --vcd, or any VCD with a clock in its top scope).
        file: PathBuf,
        /// Signals to show: full names with `*` wildcards, or name endings (default: all).
        #[arg(long, value_name = "PATTERN", num_args = 1..)]
        signals: Vec<String>,
        /// First clock period shown.
        #[arg(long, value_name = "N", default_value_t = 0)]
        from: usize,
        /// Clock period after the last shown (default FROM + 40).
        #[arg(long, value_name = "M")]
        to: Option<usize>,
        /// Write an SVG picture here instead of printing.
        #[arg(long, value_name = "OUT.svg", conflicts_with = "png")]
        svg: Option<PathBuf>,
        /// Write a PNG picture here instead of printing.
        #[arg(long, value_name = "OUT.png")]
        png: Option<PathBuf>,
        /// Overwrite --svg / --png if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Plan the pooling clock divider of every pooling layer of a network.
    #[command(name = "plan-clock", after_help = "Example:\n  accelgen plan-clock testbenches/networks/alexnet.json --preset default")]
    PlanClock {
        /// The network file (JSON; shapes without data are enough).
        file: PathBuf,
        #[command(flatten)]
        config: ConfigArgs,
        /// Print the plan as JSON (one object per pooling layer).
        #[arg(long)]
        json: bool,
    },
    /// Run every case under the given folders (default testbenches/) and print a pass/fail table.
    #[command(after_help = "Example:\n  accelgen suite testbenches/vectors --preset tiny")]
    Suite {
        /// Folders (searched recursively) or case files.
        paths: Vec<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// `accelgen bench`.
#[derive(Subcommand)]
pub(crate) enum BenchCmd {
    /// Cycles per second of every simulation engine on the same design and stimulus.
    Sim {
        /// One line of JSON: {"rust_hdl_cps", "verilator_inproc_cps", "verilator_standalone_cps",
        /// "icarus_cps", ...} (medians), with "repetitions" and each figure's min and max.
        #[arg(long)]
        json: bool,
        /// Repetitions of the engine measurements (the medians are reported, with min, max and
        /// the spread max/min).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
        repeat: u32,
    },
    /// The conv engine's depthwise mode against the dense form on MLPerf Tiny's depthwise layers
    /// and global poolings (default preset, engine alone, Verilator): cycles, each layer's
    /// roofline, the speed-up.
    Dw {
        /// One line of JSON, a list of rows.
        #[arg(long)]
        json: bool,
    },
    /// Whole networks on accel_top (default preset, Verilator): network-wide PE utilization next
    /// to the conv engine's compute-only figure, memory traffic next to the minimum.
    Accel {
        /// One line of JSON, a list of rows.
        #[arg(long)]
        json: bool,
        /// Also draw each network's roofline chart and per-layer bars as PNG files in DIR
        /// (`<network>_roofline.png`, `<network>_layers.png`).
        #[arg(long, value_name = "DIR")]
        plot: Option<PathBuf>,
        /// Overwrite existing chart files.
        #[arg(long, requires = "plot")]
        force: bool,
    },
}

/// `accelgen config`.
#[derive(Subcommand)]
pub(crate) enum ConfigCmd {
    /// Print a preset, or a configuration file after validation, as JSON.
    Show {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_engine_has_its_command_line_name() {
        for e in EngineArg::value_variants() {
            let name = e.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(Engine::from(*e).name(), name);
        }
    }
}

/// The data of an ONNX model's run: a batch in, the output compared and saved.
#[derive(Args, Debug, Default)]
pub(crate) struct OnnxIo {
    /// An ONNX model's input batch [N, ...] in its input type (float32 for a QDQ model, quantized
    /// on the host as the model's QuantizeLinear does; int8/uint8 for an integer model).
    #[arg(long, value_name = "X.npy")]
    pub(crate) input: Option<PathBuf>,
    /// Compare the output with this array, element for element (exit 1 on a difference).
    #[arg(long, value_name = "Y.npy", requires = "input")]
    pub(crate) expected: Option<PathBuf>,
    /// Write the output batch here (the model's output type).
    #[arg(long, value_name = "Y.npy", requires = "input")]
    pub(crate) save_output: Option<PathBuf>,
    /// The batch's class labels [N] (integers): print the top-1 accuracy of the output (and of
    /// --expected).
    #[arg(long, value_name = "LABELS.npy", requires = "input")]
    pub(crate) labels: Option<PathBuf>,
}
