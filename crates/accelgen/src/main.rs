//! `accelgen`: generate the accelerator's Verilog, run cases and networks through its hardware
//! simulation and the golden model, compile networks, and inspect configurations and waveforms.
//!
//! This file parses the command line and dispatches: the clap types are in [`cli`], one module
//! per command in [`cmd`], the report every run ends with in [`report`], and the mapping of
//! failures to exit codes (README: 0 matched, 1 a mismatch or hardware failure, 2 bad input,
//! 3 no hardware block) in [`failure`].

mod cli;
mod cmd;
mod failure;
mod report;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cmd::dispatch(cli::Cli::parse().cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if let Some(msg) = f.message() {
                eprintln!("{msg}");
            }
            ExitCode::from(f.exit_code())
        }
    }
}
