//! `accelgen run`: decides what is run from the arguments ([`Mode`]) and runs a case; networks
//! and programs are in [`super::network`] and [`super::program`].

use crate::cli::RunArgs;
use crate::failure::Failure;
use crate::report::{check_writable, conclude, describe_case, Ending};
use accelgen_formats::{read_json, Case, Network};
use accelgen_sim::accel::MemTiming;
use accelgen_sim::{run_case, RunOptions};
use std::path::{Path, PathBuf};

/// What `accelgen run` runs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A case file on its block.
    Case(PathBuf),
    /// A network file on accel_top.
    Network(PathBuf),
    /// A network file on accel_axi (`--top accel_axi`).
    NetworkAxi(PathBuf),
    /// A network file on the blocks, host-sequenced (`--blocks`).
    Blocks(PathBuf),
    /// A compiled program in the decompressor alone (`--program`).
    Program(PathBuf),
    /// A compiled program on accel_top with a network's tensors (`--program --net`).
    ProgramOnNetwork { dir: PathBuf, net: PathBuf },
    /// An ONNX model's batch on accel_top (`MODEL.onnx --input X.npy`).
    Onnx(PathBuf),
}

impl Mode {
    /// The mode of `a`, refusing every flag the mode would not honour (clap has refused the
    /// combinations that do not depend on the file's kind).
    pub(crate) fn of(a: &RunArgs) -> Result<Mode, Failure> {
        let refuse = |flags: &[(&str, bool)], what: &str| match flags.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(Failure::Input(format!("{flag} does not apply to {what}"))),
            None => Ok(()),
        };
        let mem = [("--mem-latency", a.mem_latency.is_some()), ("--mem-stall", a.mem_stall.is_some())];
        let axi = a.top == crate::cli::TopArg::AccelAxi;
        if axi && a.program.is_some() {
            return Err(Failure::Input("--top accel_axi runs network files; --program runs on accel_top".into()));
        }
        if let Some(dir) = &a.program {
            return match &a.net {
                Some(net) => Ok(Mode::ProgramOnNetwork { dir: dir.clone(), net: net.clone() }),
                None => {
                    let mut flags = vec![("--out", a.out.is_some())];
                    flags.extend(mem);
                    refuse(&flags, "--program (it runs the decompressor on a compiled program)")?;
                    Ok(Mode::Program(dir.clone()))
                }
            };
        }
        let file = a.file.clone().expect("clap requires a file without --program");
        if super::onnx::is_onnx(&file) {
            refuse(&[("--top accel_axi", axi)], "an ONNX model (it runs on accel_top)")?;
            refuse(&[("--blocks", a.blocks), ("--divider", a.divider.is_some())], "an ONNX model (it runs on accel_top)")?;
            if a.onnx.input.is_none() {
                return Err(Failure::Input(format!("{}: an ONNX model runs on --input X.npy (a batch [N, ...] in its input type)", file.display())));
            }
            return Ok(Mode::Onnx(file));
        }
        super::onnx::refuse_io(&file, &a.onnx)?;
        if read_json(&file).map_err(Failure::Input)?.get("layers").is_some() {
            if a.divider.is_some() {
                return Err(Failure::Input(
                    "--divider applies to pooling cases; a network's pooling layers run at the planner's dividers".into(),
                ));
            }
            if axi {
                let mut flags = vec![("--blocks", a.blocks)];
                flags.extend(mem);
                refuse(&flags, "--top accel_axi (its AXI memory model has random delays of its own)")?;
                return Ok(Mode::NetworkAxi(file));
            }
            return Ok(if a.blocks { Mode::Blocks(file) } else { Mode::Network(file) });
        }
        if axi {
            return Err(Failure::Input("--top accel_axi applies to network files".into()));
        }
        if a.blocks || a.mem_latency.is_some() || a.mem_stall.is_some() {
            return Err(Failure::Input("--blocks, --mem-latency and --mem-stall apply to network files".into()));
        }
        Ok(Mode::Case(file))
    }
}

/// Runs what the arguments name.
pub(crate) fn run(a: RunArgs) -> Result<(), Failure> {
    let mode = Mode::of(&a)?;
    let vcd = a.wave.vcd.clone();
    let gtkw = vcd.as_deref().map(accelgen_sim::tb::gtkw_path);
    for p in a.out.iter().chain(vcd.iter()).chain(gtkw.iter()) {
        check_writable(p, a.force)?;
    }
    if let (Some(o), Some(v)) = (&a.out, &vcd) {
        let same = o == v || (o.exists() && v.exists() && std::fs::canonicalize(o).ok() == std::fs::canonicalize(v).ok());
        if same {
            return Err(Failure::Input(format!(
                "--out and --vcd name the same file {}: the result would overwrite the waveform",
                o.display()
            )));
        }
    }
    let opts = RunOptions {
        vcd,
        vcd_window: a.wave.vcd_window,
        vcd_scopes: a.wave.vcd_scope.clone(),
        divider: a.divider,
        engine: a.engine.into(),
        ..Default::default()
    };
    let mem = MemTiming { latency: a.mem_latency.unwrap_or(1), stall_every: a.mem_stall.unwrap_or(0) };
    let cfg = a.config.load()?;
    let out = a.out.as_deref();
    match mode {
        Mode::Case(file) => run_case_file(&file, &cfg, out, opts),
        Mode::Network(file) => super::network::run_network(&file, &cfg, out, opts, mem, None),
        Mode::NetworkAxi(file) => super::network::run_network_axi(&file, &cfg, out, opts),
        Mode::Blocks(file) => {
            if let Some(v) = &opts.vcd {
                let net = Network::load(&file).map_err(Failure::Input)?;
                for i in 0..net.layers.len() {
                    let lw = accelgen_sim::network::layer_waveform(v, i);
                    check_writable(&lw, a.force)?;
                    check_writable(&accelgen_sim::tb::gtkw_path(&lw), a.force)?;
                }
            }
            super::network::run_blocks(&file, &cfg, out, opts)
        }
        Mode::Program(dir) => super::program::run_program(&dir, &cfg, opts),
        Mode::ProgramOnNetwork { dir, net } => super::network::run_network(&net, &cfg, out, opts, mem, Some(&dir)),
        Mode::Onnx(file) => super::onnx::run(&file, &a.onnx, &cfg, out, a.force, opts, mem),
    }
}

/// A case on the block that implements its operation, against the golden model and `expected`.
fn run_case_file(file: &Path, cfg: &accelgen_config::HwConfig, out: Option<&Path>, opts: RunOptions) -> Result<(), Failure> {
    let case = Case::load(file).map_err(Failure::Input)?;
    if opts.divider.is_some() && case.layer.op() == "conv2d" {
        return Err(Failure::Input("--divider applies to pooling cases only".into()));
    }
    let golden = case.golden().map_err(|e| Failure::in_file(file, e))?.to_i64();
    println!("{}: hardware simulation, configuration {}", file.display(), cfg.name);
    println!("  {}", describe_case(&case, &golden));
    let run = run_case(&case, cfg, &opts).map_err(|e| Failure::of_run(e, file, cfg))?;
    let waveform = opts.vcd.as_ref().map(|v| {
        let here = if v.extension().is_some_and(|e| e == "fst") {
            String::new()
        } else {
            format!("; `accelgen wave {}` shows it here", v.display())
        };
        format!("waveform written to {} (GTKWave layout: {}{here})", v.display(), accelgen_sim::tb::gtkw_path(v).display())
    });
    conclude(Ending {
        reference: "golden",
        got: &run.output.to_i64(),
        golden: &golden,
        expected: case.expected.as_ref(),
        stats: &run.stats,
        violations: run.violations,
        waveform,
        out,
    })
}
