//! One module per command; [`dispatch`] runs the one the command line names.

pub(crate) mod bench;
pub(crate) mod bench_accel;
pub(crate) mod bench_dw;
pub(crate) mod compile;
pub(crate) mod generate;
pub(crate) mod golden;
pub(crate) mod network;
pub(crate) mod onnx;
pub(crate) mod plan_clock;
mod roofline_plot;
pub(crate) mod program;
pub(crate) mod run;
pub(crate) mod suite;
pub(crate) mod wave;

use crate::cli::{BenchCmd, Cmd, ConfigCmd};
use crate::failure::Failure;
use std::path::PathBuf;

/// Runs a parsed command.
pub(crate) fn dispatch(cmd: Cmd) -> Result<(), Failure> {
    match cmd {
        Cmd::Config { cmd: ConfigCmd::Show { config } } => {
            println!("{}", config.load()?.to_json());
            Ok(())
        }
        Cmd::Golden { file, out, force, onnx: io } => {
            if onnx::is_onnx(&file) {
                onnx::golden(&file, &io, out.as_deref(), force)
            } else {
                onnx::refuse_io(&file, &io)?;
                golden::golden(&file, out.as_deref(), force)
            }
        }
        Cmd::Run(args) => run::run(args),
        Cmd::Import { model, out, input, force } => onnx::import(&model, &out, input.as_deref(), force),
        Cmd::Generate { config, out } => {
            let cfg = config.load()?;
            let dir = out.unwrap_or_else(|| PathBuf::from("hdl_out").join(&cfg.name));
            generate::generate(&cfg, &dir).map_err(Failure::Input)
        }
        Cmd::Suite { paths, config } => suite::suite(&paths, &config.load()?),
        Cmd::Compile { file, config, out, json, force } => compile::compile(&file, &config.load()?, &out, json, force),
        Cmd::Bench { cmd: BenchCmd::Sim { json, repeat } } => bench::bench_sim(json, repeat),
        Cmd::Bench { cmd: BenchCmd::Dw { json } } => bench_dw::bench_dw(json),
        Cmd::Bench { cmd: BenchCmd::Accel { json, plot, force } } => bench_accel::bench_accel(json, plot.as_deref(), force),
        Cmd::Wave { file, signals, from, to, svg, png, force } => {
            wave::wave(&file, &signals, from, to, svg.as_deref(), png.as_deref(), force)
        }
        Cmd::PlanClock { file, config, json } => plan_clock::plan_clock(&file, &config.load()?, json),
    }
}
