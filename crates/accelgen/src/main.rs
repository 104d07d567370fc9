//! `accelgen`: generate the accelerator's Verilog, run cases through its hardware simulation and
//! the golden model, and inspect configurations.
//!
//! Exit codes: 0 everything matched, 1 a result differed (from the golden model or `expected`),
//! 2 bad input (file, field or value), 3 the operation has no hardware block yet.

use accelgen_config::{HwConfig, Preset};
use accelgen_formats::{compare, read_json, result_json, Case, Comparison, Network, Output};
use accelgen_golden::Tensor;
use accelgen_sim::accel::MemTiming;
use accelgen_sim::engines::Engine;
use accelgen_sim::{run_case, RunError, RunOptions};
use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod bench_accel;
mod generate;
mod suite;

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

#[derive(Parser)]
#[command(name = "accelgen", version, about = "Generator for a CNN accelerator: Verilog, golden-model testbenches, waveforms", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Which hardware configuration to use.
#[derive(Args, Clone)]
struct ConfigArgs {
    /// A named preset (tiny, default).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    preset: Option<String>,
    /// A configuration file: a whole configuration, or {"preset": NAME, ...overrides}.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArgs {
    fn load(&self) -> Result<HwConfig, Failure> {
        match (&self.preset, &self.config) {
            (_, Some(file)) => {
                use accelgen_config::input;
                let text = input::read_text(file, input::MAX_CONFIG_BYTES, "configuration file")
                    .map_err(Failure::Input)?;
                HwConfig::from_json(&text)
                    .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))
            }
            (Some(name), None) => Ok(Preset::from_name(name).map_err(Failure::Input)?.config()),
            (None, None) => Ok(Preset::Default.config()),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Show a configuration as JSON.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Run a case through the hardware simulation and compare it with the golden model, or load a
    /// compiled program into the hardware decompressor (--program).
    #[command(after_help = "Examples:\n  accelgen run testbenches/vectors/maxpool_2x2_s2.json --preset tiny --vcd target/pool.vcd\n  accelgen compile testbenches/networks/lenet5.json --out target/lenet5 && accelgen run --program target/lenet5")]
    Run {
        /// The case file (JSON).
        #[arg(required_unless_present = "program", conflicts_with = "program")]
        file: Option<PathBuf>,
        /// A folder written by `accelgen compile`: load program.cbin through the decompressor's
        /// register interface and check its register writes against program.bin's.
        #[arg(long, value_name = "DIR")]
        program: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
        /// Write the result document here.
        #[arg(long, value_name = "RESULT.json")]
        out: Option<PathBuf>,
        /// Write a waveform of the simulation here (engines rust, verilator, icarus), with a
        /// GTKWave layout beside it (FILE with extension .gtkw).
        #[arg(long, value_name = "FILE")]
        vcd: Option<PathBuf>,
        /// With --vcd: only clock periods FROM..TO (end exclusive).
        #[arg(long, value_name = "FROM:TO")]
        vcd_window: Option<String>,
        /// With --vcd: only signals whose full name matches (`*` wildcards, e.g.
        /// 'pool_unit.region__*'); repeatable. The clock is always kept.
        #[arg(long, value_name = "PATTERN")]
        vcd_scope: Vec<String>,
        /// Overwrite --out / --vcd files that already exist.
        #[arg(long)]
        force: bool,
        /// Pooling clock divider, one of the configuration's pool_clock.dividers (pooling cases).
        #[arg(long, value_name = "D")]
        divider: Option<u32>,
        /// Simulation engine: rust (rust-hdl, default), verilator (the emitted Verilog as a
        /// Verilator model in this process; no rust-hdl run), cross (both in lock-step, every
        /// output and observed signal equal on every clock period), icarus or
        /// verilator-standalone (rust-hdl's recorded stimulus replayed on the emitted Verilog).
        #[arg(long, value_name = "ENGINE", default_value = "rust")]
        engine: String,
        /// Networks: run each layer on its block, host-sequenced (the reference run without
        /// accel_top, its program or external memory).
        #[arg(long)]
        blocks: bool,
        /// Networks on accel_top: cycles from a memory read request to its response (1..=1000).
        #[arg(long, value_name = "N")]
        mem_latency: Option<u32>,
        /// Networks on accel_top: the memory is not ready one cycle in every N (0: always ready).
        #[arg(long, value_name = "N")]
        mem_stall: Option<u32>,
        /// With --program: execute the program on accel_top with this network's tensors in
        /// external memory (laid out as `accelgen compile` lays them out for the configuration).
        #[arg(long, value_name = "NET.json", requires = "program")]
        net: Option<PathBuf>,
    },
    /// Run a case or a network file through the golden model only.
    #[command(after_help = "Example:\n  accelgen golden testbenches/vectors/avgpool_3x3_s2_pad1.json --out golden.json")]
    Golden {
        /// The case or network file (JSON).
        file: PathBuf,
        /// Write the result document here.
        #[arg(long, value_name = "RESULT.json")]
        out: Option<PathBuf>,
        /// Overwrite --out if it exists.
        #[arg(long)]
        force: bool,
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
    /// Compile a network into the accelerator's instructions, uncompressed and compressed.
    #[command(after_help = "Example:\n  accelgen compile testbenches/networks/vgg16.json --preset default --out target/vgg16 --json\n\nWrites DIR/program.bin (one instruction per W-bit word, little-endian), DIR/program.cbin\n(duplicates dropped, transfers as MEM_ADD deltas, loops as REPEAT, packed into W-bit words),\nDIR/program.txt (disassembly of program.bin) and DIR/program.ctxt (program.cbin, one word per line).")]
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
    #[command(after_help = "Examples:\n  accelgen run testbenches/vectors/maxpool_2x2_s2.json --preset tiny --vcd target/p.vcd\n  accelgen wave target/p.vcd --signals 'pool_unit.ce' 'pool_unit.region__*' --from 40 --to 70\n  accelgen wave target/p.vcd --signals '*out_*' --svg target/p.svg")]
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

#[derive(Subcommand)]
enum BenchCmd {
    /// Cycles per second of every simulation engine on the same design and stimulus.
    Sim {
        /// One line of JSON: {"rust_hdl_cps", "verilator_inproc_cps", "verilator_standalone_cps", "icarus_cps"}.
        #[arg(long)]
        json: bool,
    },
    /// Whole networks on accel_top (default preset, Verilator): network-wide PE utilization next
    /// to the conv engine's compute-only figure, memory traffic next to the minimum.
    Accel {
        /// One line of JSON, a list of rows.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print a preset, or a configuration file after validation, as JSON.
    Show {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// How a command failed; each maps to an exit code.
pub(crate) enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// A result differed: exit 1.
    Mismatch,
    /// No hardware block: exit 3.
    NoBlock(String),
    /// The hardware failed (did not finish, engines disagreed, a simulator failed): exit 1.
    Hardware(String),
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::NoBlock(s) => Failure::NoBlock(s),
            RunError::Unsupported(s) => Failure::Input(s),
            RunError::Sim(s) => Failure::Hardware(s),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Config { cmd: ConfigCmd::Show { config } } => config.load().map(|c| {
            println!("{}", c.to_json());
        }),
        Cmd::Golden { file, out, force } => cmd_golden(&file, out.as_deref(), force),
        Cmd::Run { file, program, config, out, vcd, vcd_window, vcd_scope, force, divider, engine, blocks, mem_latency, mem_stall, net } => {
            let mem = NetArgs {
                blocks,
                timing: MemTiming { latency: mem_latency.unwrap_or(1), stall_every: mem_stall.unwrap_or(0) },
                given: mem_latency.is_some() || mem_stall.is_some(),
            };
            Engine::from_name(&engine).map_err(Failure::Input).and_then(|engine| match (file, program) {
                (_, Some(dir)) if net.is_some() => {
                    let gtkw = vcd.as_deref().map(accelgen_sim::tb::gtkw_path);
                    out.iter().chain(vcd.iter()).chain(gtkw.iter()).try_for_each(|p| check_writable(p, force)).and_then(|()| {
                        let opts = RunOptions { engine, vcd, ..Default::default() };
                        config.load().and_then(|cfg| cmd_run_network(net.as_deref().expect("given"), &cfg, out.as_deref(), opts, mem, Some(&dir)))
                    })
                }
                (_, Some(dir)) => {
                    // Options of case runs that a program run would silently ignore are refused.
                    let unused = [("--out", out.is_some()), ("--divider", divider.is_some())];
                    match unused.iter().find(|(_, given)| *given) {
                        Some((flag, _)) => Err(Failure::Input(format!(
                            "{flag} does not apply to --program (it runs the decompressor on a compiled program)"
                        ))),
                        None => parse_window(vcd_window.as_deref(), vcd.is_some(), !vcd_scope.is_empty()).and_then(|w| {
                            let gtkw = vcd.as_deref().map(accelgen_sim::tb::gtkw_path);
                            for p in vcd.iter().chain(gtkw.iter()) {
                                check_writable(p, force)?;
                            }
                            let opts = RunOptions { engine, vcd, vcd_window: w, vcd_scopes: vcd_scope, ..Default::default() };
                            cmd_run_program(&dir, &config, opts)
                        }),
                    }
                }
                (Some(file), None) => parse_window(vcd_window.as_deref(), vcd.is_some(), !vcd_scope.is_empty())
                    .and_then(|w| cmd_run(&file, &config, out.as_deref(), vcd, (w, vcd_scope), force, divider, engine, mem)),
                (None, None) => Err(Failure::Input("give a case file or --program DIR".into())),
            })
        }
        Cmd::Generate { config, out } => config.load().and_then(|cfg| {
            let dir = out.unwrap_or_else(|| PathBuf::from("hdl_out").join(&cfg.name));
            generate::generate(&cfg, &dir).map_err(Failure::Input)
        }),
        Cmd::Suite { paths, config } => config.load().and_then(|cfg| suite::suite(&paths, &cfg)),
        Cmd::Compile { file, config, out, json, force } => {
            config.load().and_then(|cfg| cmd_compile(&file, &cfg, &out, json, force))
        }
        Cmd::Bench { cmd: BenchCmd::Sim { json } } => bench::bench_sim(json),
        Cmd::Bench { cmd: BenchCmd::Accel { json } } => bench_accel::bench_accel(json),
        Cmd::Wave { file, signals, from, to, svg, png, force } => cmd_wave(&file, &signals, from, to, svg.as_deref(), png.as_deref(), force),
        Cmd::PlanClock { file, config, json } => {
            config.load().and_then(|cfg| cmd_plan_clock(&file, &cfg, json))
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if let Some(msg) = f.message() {
                eprintln!("{msg}");
            }
            ExitCode::from(f.exit_code())
        }
    }
}

impl Failure {
    /// The process exit code (README: 1 mismatch or hardware failure, 2 bad input, 3 no block).
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Mismatch | Failure::Hardware(_) => 1,
            Failure::Input(_) => 2,
            Failure::NoBlock(_) => 3,
        }
    }

    /// What is printed on stderr.
    fn message(&self) -> Option<String> {
        match self {
            Failure::Mismatch => None,
            Failure::Input(m) => Some(format!("error: {m}")),
            Failure::NoBlock(m) => Some(format!("not available: {m}")),
            Failure::Hardware(m) => Some(format!("hardware failure: {m}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulation that never finishes is a hardware failure (exit 1) with the period, not bad
    /// input; a case that does not fit is bad input.
    #[test]
    fn simulation_failures_exit_1_and_bad_input_exits_2() {
        let hang = Failure::from(RunError::Sim("no done after 10 cycles: the engine hung; stopped at clock period 99".into()));
        assert_eq!(hang.exit_code(), 1);
        assert_eq!(
            hang.message().unwrap(),
            "hardware failure: no done after 10 cycles: the engine hung; stopped at clock period 99"
        );
        assert_eq!(Failure::from(RunError::Unsupported("too big".into())).exit_code(), 2);
        assert_eq!(Failure::from(RunError::NoBlock("x".into())).exit_code(), 3);
        assert_eq!(Failure::Mismatch.exit_code(), 1);
    }
}

/// Refuses to replace an existing file unless `force` is given.
pub(crate) fn check_writable(path: &Path, force: bool) -> Result<(), Failure> {
    if path.exists() && !force {
        return Err(Failure::Input(format!(
            "{} already exists: pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

fn write_result(path: &Path, doc: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(doc).expect("a result serialises") + "\n";
    std::fs::write(path, text)
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
}

fn shape_str(s: &[usize]) -> String {
    s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
}

fn describe_case(case: &Case, out: &Tensor<i64>) -> String {
    format!(
        "{}: input {} → output {} ({})",
        case.layer.op(),
        shape_str(&case.input.shape),
        shape_str(&out.shape),
        if matches!(case.golden(), Ok(Output::I8(_))) { "int8" } else { "int32" }
    )
}

fn cmd_golden(file: &Path, out: Option<&Path>, force: bool) -> Result<(), Failure> {
    if let Some(o) = out {
        check_writable(o, force)?;
    }
    let doc = read_json(file).map_err(Failure::Input)?;
    let is_network = doc.get("layers").is_some();
    let base = file.parent().unwrap_or(Path::new("."));
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    let (output, expected, headline) = if is_network {
        let net = Network::from_value(&doc, base).map_err(in_file)?;
        let o = net.golden().map_err(in_file)?.to_i64();
        let head = format!(
            "network of {} layers: input {} → output {}",
            net.layers.len(),
            shape_str(&net.shapes[0]),
            shape_str(&o.shape)
        );
        (o, net.expected.clone(), head)
    } else {
        let case = Case::from_value(&doc, base).map_err(in_file)?;
        let o = case.golden().map_err(in_file)?.to_i64();
        let head = describe_case(&case, &o);
        (o, case.expected.clone(), head)
    };
    println!("{}: golden model", file.display());
    println!("  {headline}");
    let cmp = expected.as_ref().map(|e| compare(&output, e, 8));
    print_expected(cmp.as_ref());
    let expected_match = cmp.as_ref().map(Comparison::matches);
    if let Some(o) = out {
        // The golden model is the reference here, so golden_match holds by definition.
        write_result(o, &result_json(&output, true, expected_match, Map::new()))?;
        println!("  result written to {}", o.display());
    }
    if expected_match == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

fn print_expected(cmp: Option<&Comparison>) {
    match cmp {
        None => println!("  expected: none given"),
        Some(c) if c.matches() => println!("  expected: match"),
        Some(c) => print!("  expected: MISMATCH\n{}", indent(&c.describe("    vs expected"))),
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// `--vcd-window FROM:TO` (only with --vcd, like --vcd-scope).
fn parse_window(w: Option<&str>, vcd: bool, scopes: bool) -> Result<Option<(u64, u64)>, Failure> {
    if !vcd && (w.is_some() || scopes) {
        return Err(Failure::Input("--vcd-window and --vcd-scope need --vcd FILE".into()));
    }
    let Some(w) = w else { return Ok(None) };
    let bad = || Failure::Input(format!("--vcd-window {w}: expected FROM:TO, clock periods with FROM < TO"));
    let (a, b) = w.split_once(':').ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a >= b {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    file: &Path,
    config: &ConfigArgs,
    out: Option<&Path>,
    vcd: Option<PathBuf>,
    (vcd_window, vcd_scopes): (Option<(u64, u64)>, Vec<String>),
    force: bool,
    divider: Option<u32>,
    engine: Engine,
    mem: NetArgs,
) -> Result<(), Failure> {
    let gtkw = vcd.as_deref().map(accelgen_sim::tb::gtkw_path);
    for p in out.iter().copied().chain(vcd.as_deref()).chain(gtkw.as_deref()) {
        check_writable(p, force)?;
    }
    if let (Some(o), Some(v)) = (out, vcd.as_deref()) {
        let same = o == v
            || (o.exists() && v.exists() && std::fs::canonicalize(o).ok() == std::fs::canonicalize(v).ok());
        if same {
            return Err(Failure::Input(format!(
                "--out and --vcd name the same file {}: the result would overwrite the waveform",
                o.display()
            )));
        }
    }
    let cfg = config.load()?;
    if read_json(file).map_err(Failure::Input)?.get("layers").is_some() {
        if divider.is_some() {
            return Err(Failure::Input(
                "--divider applies to pooling cases; a network's pooling layers run at the planner's dividers".into(),
            ));
        }
        if let (Some(v), true) = (&vcd, mem.blocks) {
            let net = Network::load(file).map_err(Failure::Input)?;
            for i in 0..net.layers.len() {
                let lw = accelgen_sim::network::layer_waveform(v, i);
                check_writable(&lw, force)?;
                check_writable(&accelgen_sim::tb::gtkw_path(&lw), force)?;
            }
        }
        let opts = RunOptions { vcd: vcd.clone(), vcd_window, vcd_scopes, engine, ..Default::default() };
        if mem.blocks {
            if mem.given {
                return Err(Failure::Input("--mem-latency and --mem-stall apply to accel_top runs, not --blocks".into()));
            }
            return cmd_run_blocks(file, &cfg, out, opts);
        }
        return cmd_run_network(file, &cfg, out, opts, mem, None);
    }
    if mem.blocks || mem.given {
        return Err(Failure::Input("--blocks, --mem-latency and --mem-stall apply to network files".into()));
    }
    let case = Case::load(file).map_err(Failure::Input)?;
    if divider.is_some() && case.layer.op() == "conv2d" {
        return Err(Failure::Input("--divider applies to pooling cases only".into()));
    }
    let golden = case
        .golden()
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?
        .to_i64();
    println!("{}: hardware simulation, configuration {}", file.display(), cfg.name);
    println!("  {}", describe_case(&case, &golden));
    let opts = RunOptions { vcd: vcd.clone(), vcd_window, vcd_scopes, divider, engine, ..Default::default() };
    let run = run_case(&case, &cfg, &opts).map_err(|e| naming(e, file, &cfg))?;
    let got = run.output.to_i64();
    let (gcmp, ecmp) = report_comparisons("golden", &got, &golden, case.expected.as_ref());
    println!("  stats:");
    for (k, v) in &run.stats {
        println!("    {k}: {v}");
    }
    if run.violations > 0 {
        println!("  invariant violations: {} (a violation fails the run)", run.violations);
    }
    if let (Some(v), Some(g)) = (&vcd, &gtkw) {
        let here = if v.extension().is_some_and(|e| e == "fst") {
            String::new()
        } else {
            format!("; `accelgen wave {}` shows it here", v.display())
        };
        println!("  waveform written to {} (GTKWave layout: {}{here})", v.display(), g.display());
    }
    let expected_match = ecmp.as_ref().map(Comparison::matches);
    if let Some(o) = out {
        write_result(o, &result_json(&got, gcmp.matches(), expected_match, run.stats.clone()))?;
        println!("  result written to {}", o.display());
    }
    if !gcmp.matches() || expected_match == Some(false) || run.violations > 0 {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// A run's error as the command reports it: a case or network that does not fit names the file
/// and the configuration.
fn naming(e: RunError, file: &Path, cfg: &HwConfig) -> Failure {
    match e {
        RunError::Unsupported(s) => Failure::Input(format!("{}: {s} (configuration {})", file.display(), cfg.name)),
        other => other.into(),
    }
}

/// Prints the output's comparison with the golden model (`what`) and with `expected`.
fn report_comparisons(
    what: &str,
    got: &Tensor<i64>,
    golden: &Tensor<i64>,
    expected: Option<&Tensor<i64>>,
) -> (Comparison, Option<Comparison>) {
    let gcmp = compare(got, golden, 8);
    if gcmp.matches() {
        println!("  {what}: match");
    } else {
        print!("  {what}: MISMATCH\n{}", indent(&gcmp.describe("    vs golden")));
    }
    let ecmp = expected.map(|e| compare(got, e, 8));
    print_expected(ecmp.as_ref());
    (gcmp, ecmp)
}

/// What a network run on accel_top takes beyond a case run's options.
#[derive(Clone, Copy, Debug)]
struct NetArgs {
    /// Host-sequenced blocks instead of accel_top.
    blocks: bool,
    /// The memory model.
    timing: MemTiming,
    /// --mem-latency or --mem-stall was given.
    given: bool,
}

/// Meaning of accel_top's error codes (docs/accelerator.md).
fn error_meaning(code: u64) -> &'static str {
    match code {
        1 => "malformed instruction stream",
        2 => "a transfer reached past an on-chip buffer",
        3 => "an instruction the dispatcher cannot execute",
        4 => "the program is larger than the instruction buffer",
        5 => "watchdog: an instruction waited too long for a module",
        6 => "a RUN with a zero size, stride or tile count in its registers",
        _ => "unknown",
    }
}

/// `accelgen run NET.json`: the network compiled, compressed, loaded through the register port
/// and run on accel_top from a memory model; a per-layer table; the output read from memory
/// against the golden network and `expected`. With `program`, that folder's program.cbin runs
/// instead of a fresh compile.
fn cmd_run_network(file: &Path, cfg: &HwConfig, out: Option<&Path>, opts: RunOptions, mem: NetArgs, program: Option<&Path>) -> Result<(), Failure> {
    let net = Network::load(file).map_err(Failure::Input)?;
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    let golden = net.golden().map_err(in_file)?.to_i64();
    let mut faults = accelgen_sim::accel::AccelFaults::default();
    if let Some(dir) = program {
        let cap = u64::from(cfg.isa.buffer_depth) * u64::from(cfg.isa.word_bits / 8);
        let cbin = accelgen_config::input::read_limited(&dir.join("program.cbin"), cap, "compressed program").map_err(Failure::Input)?;
        accelgen_isa::compress::decompress(&cbin, 64).map_err(|e| Failure::Input(format!("{}: {e}", dir.join("program.cbin").display())))?;
        faults.program = Some(cbin);
    }
    let run = accelgen_sim::accel::run_accel(&net, cfg, &opts, mem.timing, &faults).map_err(|e| naming(e, file, cfg))?;
    println!(
        "{}: network of {} layers on accel_top ({}); configuration {}, engine {}, memory latency {}{}",
        file.display(),
        net.layers.len(),
        program.map_or("compiled, compressed, loaded by register writes".to_string(), |d| format!("program {}", d.join("program.cbin").display())),
        cfg.name,
        opts.engine.name(),
        mem.timing.latency,
        if mem.timing.stall_every > 0 { format!(", not ready 1 cycle in {}", mem.timing.stall_every) } else { String::new() }
    );
    println!(
        "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>7} {:>7} {:>12} {:>12}",
        "layer", "op", "output", "cycles", "macs", "util", "divider", "mem read B", "mem write B"
    );
    for (i, layer) in net.layers.iter().enumerate() {
        let per = &run.stats["layers"][i];
        println!(
            "  {:<5} {:<10} {:<12} {:>10} {:>10} {:>7} {:>7} {:>12} {:>12}",
            i,
            layer.op(),
            shape_str(&net.shapes[i + 1]),
            per["cycles"].to_string(),
            per["macs"].to_string(),
            per["pe_utilization"].to_string(),
            per["pool_divider"].as_u64().map_or("-".to_string(), |d| d.to_string()),
            per["mem_read_bytes"].to_string(),
            per["mem_write_bytes"].to_string(),
        );
    }
    if let Some(code) = run.error_code {
        println!("  accel_top stopped with error code {code}: {}", error_meaning(code));
    }
    let got = run.output.to_i64();
    let (gcmp, ecmp) = report_comparisons("golden network", &got, &golden, net.expected.as_ref());
    println!("  stats:");
    for (k, v) in run.stats.iter().filter(|(k, _)| *k != "layers") {
        println!("    {k}: {v}");
    }
    if let Some(v) = &opts.vcd {
        println!("  waveform written to {} (GTKWave layout: {})", v.display(), accelgen_sim::tb::gtkw_path(v).display());
    }
    let expected_match = ecmp.as_ref().map(Comparison::matches);
    if let Some(o) = out {
        write_result(o, &result_json(&got, gcmp.matches(), expected_match, run.stats.clone()))?;
        println!("  result written to {}", o.display());
    }
    if let Some(code) = run.error_code {
        return Err(Failure::Hardware(format!("{}: accel_top stopped with error code {code} ({})", file.display(), error_meaning(code))));
    }
    if run.stats["mem_outside_accesses"].as_u64().unwrap_or(0) > 0 {
        return Err(Failure::Hardware(format!("{}: accel_top accessed memory outside the network's layout", file.display())));
    }
    if !gcmp.matches() || expected_match == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// `accelgen run NET.json --blocks`: every layer on its hardware block, host-sequenced.
fn cmd_run_blocks(file: &Path, cfg: &HwConfig, out: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    let engine = opts.engine;
    let net = Network::load(file).map_err(Failure::Input)?;
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    let golden = net.golden().map_err(in_file)?.to_i64();
    let run = accelgen_sim::network::run_network(&net, cfg, &opts).map_err(|e| naming(e, file, cfg))?;
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
    let (gcmp, ecmp) = report_comparisons("golden network", &got, &golden, net.expected.as_ref());
    println!("  stats:");
    for (k, v) in run.stats.iter().filter(|(k, _)| *k != "layers") {
        println!("    {k}: {v}");
    }
    if run.violations > 0 {
        println!("  invariant violations: {} (a violation fails the run)", run.violations);
    }
    if let Some(v) = &opts.vcd {
        println!(
            "  waveforms: one per layer, {} … {} (each with its .gtkw layout)",
            accelgen_sim::network::layer_waveform(v, 0).display(),
            accelgen_sim::network::layer_waveform(v, net.layers.len() - 1).display()
        );
    }
    let expected_match = ecmp.as_ref().map(Comparison::matches);
    if let Some(o) = out {
        write_result(o, &result_json(&got, gcmp.matches(), expected_match, run.stats.clone()))?;
        println!("  result written to {}", o.display());
    }
    if !gcmp.matches() || expected_match == Some(false) || run.violations > 0 || run.layers.iter().any(|l| !l.matches_golden) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

fn cmd_wave(
    file: &Path,
    signals: &[String],
    from: usize,
    to: Option<usize>,
    svg: Option<&Path>,
    png: Option<&Path>,
    force: bool,
) -> Result<(), Failure> {
    for p in svg.iter().chain(png.iter()) {
        check_writable(p, force)?;
    }
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("fst")) {
        return Err(Failure::Input(format!(
            "{}: accelgen wave reads VCD files; open FST in GTKWave, or write the waveform as .vcd",
            file.display()
        )));
    }
    let waves = accelgen_wave::load(file).map_err(Failure::Input)?;
    let to = to.unwrap_or(from + 40);
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    match (svg, png) {
        (None, None) => print!("{}", accelgen_wave::render_text(&waves, signals, from, to).map_err(in_file)?),
        (Some(out), _) | (None, Some(out)) => {
            let picture = accelgen_wave::render_svg(&waves, signals, from, to).map_err(in_file)?;
            let bytes = if png.is_some() {
                accelgen_wave::svg_to_png(&picture).map_err(Failure::Input)?
            } else {
                picture.into_bytes()
            };
            std::fs::write(out, bytes).map_err(|e| Failure::Input(format!("{}: cannot write: {e}", out.display())))?;
            println!("{}: periods {from}..{} of {} written to {}", file.display(), to.min(waves.periods), waves.periods, out.display());
        }
    }
    Ok(())
}

fn cmd_plan_clock(file: &Path, cfg: &HwConfig, as_json: bool) -> Result<(), Failure> {
    let net = Network::load(file).map_err(Failure::Input)?;
    let rows = accelgen_sim::planner::plan_clock(&net, cfg)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    if as_json {
        let v: Vec<Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "layer": r.layer, "op": r.op, "conv_layer": r.conv_layer,
                    "conv_cycles": r.conv_cycles, "budget": r.budget, "pool_cycles_full": r.pool_cycles_full,
                    "divider": r.divider, "pool_cycles": r.pool_cycles,
                    "enabled_cycles_saved": r.enabled_cycles_saved, "meets": r.meets,
                    "switch": r.switch,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
        return Ok(());
    }
    println!(
        "{}: pooling clock plan, configuration {} (dividers {:?})",
        file.display(),
        cfg.name,
        cfg.pool_clock.dividers
    );
    println!(
        "{:<7} {:<10} {:>5} {:>12} {:>12} {:>12} {:>7} {:>12} {:>14} {:>6}",
        "layer", "op", "conv", "conv cycles", "budget", "pool @1", "divider", "pool @div", "enabled saved", "switch"
    );
    for r in &rows {
        let conv = r.conv_layer.map_or("-".to_string(), |c| c.to_string());
        let t = r.conv_cycles.map_or("-".to_string(), |c| c.to_string());
        let b = r.budget.map_or("-".to_string(), |c| c.to_string());
        println!(
            "{:<7} {:<10} {:>5} {:>12} {:>12} {:>12} {:>7} {:>12} {:>14} {:>6}{}",
            r.layer,
            r.op,
            conv,
            t,
            b,
            r.pool_cycles_full,
            r.divider,
            r.pool_cycles,
            r.enabled_cycles_saved,
            if r.switch { "yes" } else { "no" },
            if r.meets { "" } else { "  (misses the budget even at full rate)" }
        );
    }
    let saved: u64 = rows.iter().map(|r| r.enabled_cycles_saved).sum();
    let budget: u64 = rows.iter().filter_map(|r| r.conv_cycles).sum();
    if budget > 0 {
        println!(
            "enabled cycles saved: {saved} of {budget} ({:.1}%)",
            100.0 * saved as f64 / budget as f64
        );
    }
    Ok(())
}

fn cmd_compile(file: &Path, cfg: &HwConfig, out: &Path, as_json: bool, force: bool) -> Result<(), Failure> {
    use accelgen_isa::compress;
    let net = Network::load(file).map_err(Failure::Input)?;
    let prog = accelgen_sim::compiler::compile(&net, cfg)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let w = cfg.isa.word_bits;
    let raw = compress::one_per_word(&prog, w);
    let (packed, stats) = compress::compress(&prog, w);
    if stats.packed_words > cfg.isa.buffer_depth as usize {
        return Err(Failure::Input(format!(
            "{}: the compressed program needs {} words, but isa.buffer_depth = {}",
            file.display(),
            stats.packed_words,
            cfg.isa.buffer_depth
        )));
    }
    let names = ["program.bin", "program.cbin", "program.txt", "program.ctxt"];
    for n in names {
        check_writable(&out.join(n), force)?;
    }
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", out.display())))?;
    let text: String = prog.iter().map(|i| i.disassemble() + "\n").collect();
    // The compressed stream as the decompressor reads it, one line per word.
    let ctext: String = compress::unpack_words(&packed, w)
        .map_err(|e| Failure::Input(format!("internal: the compressed program does not unpack: {e}")))?
        .iter()
        .enumerate()
        .map(|(n, word)| format!("{n:6}: {}\n", word.iter().map(|i| i.disassemble()).collect::<Vec<_>>().join(" | ")))
        .collect();
    // All four files or none: each is written into a private folder beside them, then renamed
    // into place once every one is written and no target is something other than a file.
    for n in names {
        let p = out.join(n);
        if p.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            return Err(Failure::Input(format!("{}: exists and is not a file; nothing was written", p.display())));
        }
    }
    let tmp = out.join(format!(".accelgen-compile-{}", std::process::id()));
    let io = |p: &Path, e: std::io::Error| Failure::Input(format!("{}: cannot write: {e}", p.display()));
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let written = names.iter().zip([raw, packed, text.into_bytes(), ctext.into_bytes()]).try_for_each(|(n, bytes)| {
        let p = tmp.join(n);
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))
    });
    let moved = written.and_then(|()| {
        names.iter().try_for_each(|n| std::fs::rename(tmp.join(n), out.join(n)).map_err(|e| io(&out.join(n), e)))
    });
    let _ = std::fs::remove_dir_all(&tmp);
    moved?;
    let ratio = stats.raw_bytes as f64 / stats.compressed_bytes.max(1) as f64;
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "instructions": stats.instructions, "raw_bytes": stats.raw_bytes,
                "compressed_bytes": stats.compressed_bytes, "dropped_duplicates": stats.dropped_duplicates,
                "packed_words": stats.packed_words, "ratio": (ratio * 1000.0).round() / 1000.0,
                "delta_transfers": stats.delta_transfers, "repeats": stats.repeats,
                "stream_instructions": stats.stream_instructions,
            })
        );
    } else {
        println!(
            "{}: {} instructions, {} raw bytes, {} compressed bytes ({} duplicates dropped, {} words of {w} bits), ratio {ratio:.2}; wrote {}",
            file.display(), stats.instructions, stats.raw_bytes, stats.compressed_bytes,
            stats.dropped_duplicates, stats.packed_words, out.display()
        );
    }
    Ok(())
}

fn cmd_run_program(dir: &Path, config: &ConfigArgs, opts: RunOptions) -> Result<(), Failure> {
    use accelgen_isa::compress::{drop_duplicates, unpack};
    let cfg = config.load()?;
    if cfg.isa.word_bits != accelgen_hw::isa::WORD_BITS as u32 {
        return Err(Failure::Input(format!(
            "isa.word_bits = {} is not supported by the hardware decompressor: allowed 64",
            cfg.isa.word_bits
        )));
    }
    // Both files are bad input (exit 2) when malformed or too large, checked before any
    // simulation: program.cbin must fit the decompressor's buffer and decode in software.
    let word_bytes = (cfg.isa.word_bits / 8) as u64;
    let cap = cfg.isa.buffer_depth as u64 * word_bytes;
    let read = |name: &str, limit: u64, what: &str| {
        accelgen_config::input::read_limited(&dir.join(name), limit, what).map_err(|e| {
            Failure::Input(if name == "program.cbin" && e.contains("larger than") {
                format!("{e}: the decompressor buffer holds isa.buffer_depth = {} words of {} bits", cfg.isa.buffer_depth, cfg.isa.word_bits)
            } else {
                e
            })
        })
    };
    let bin = read("program.bin", accelgen_config::input::MAX_JSON_BYTES, "program")?;
    let cbin = read("program.cbin", cap, "compressed program")?;
    let in_file = |name: &str, e: String| Failure::Input(format!("{}: {e}", dir.join(name).display()));
    let prog = unpack(&bin, 64).map_err(|e| in_file("program.bin", e))?;
    accelgen_isa::compress::decompress(&cbin, 64).map_err(|e| in_file("program.cbin", e))?;
    let want = drop_duplicates(&prog).0;
    let run = accelgen_sim::program::run_program(cfg.isa.buffer_depth as usize, &cbin, &opts)?;
    println!("{}: hardware decompressor, configuration {}", dir.display(), cfg.name);
    println!(
        "  {} words loaded by register writes ({} accepted), {} register writes decoded",
        cbin.len() / 8,
        run.accepted_words,
        run.writes.len()
    );
    for (k, v) in &run.stats {
        println!("    {k}: {v}");
    }
    let matches = run.writes == want;
    if matches {
        println!("  register writes: match ({} effective writes of {} instructions)", want.len(), prog.len());
    } else {
        let at = run.writes.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(run.writes.len().min(want.len()));
        println!("  register writes: MISMATCH at write {at}");
        if let Some(w) = want.get(at) {
            println!("    want {}", w.disassemble());
        }
        if let Some(g) = run.writes.get(at) {
            println!("    got  {}", g.disassemble());
        }
    }
    if run.error || run.overflow {
        println!("  status: error {}, overflow {}", run.error, run.overflow);
    }
    if !matches || run.error || run.overflow {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
