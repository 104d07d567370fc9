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
    let cli = cli::Cli::parse();
    // A closed standard output (`accelgen config show | head`) makes `println!` panic; the run
    // then ends quietly, as other tools end on a closed pipe (exit 141, 128 + SIGPIPE), instead of
    // printing a panic. Any other panic is reported as before.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default_hook(info);
        }
    }));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd::dispatch(cli.cmd))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            if let Some(msg) = f.message() {
                eprintln!("{msg}");
            }
            ExitCode::from(f.exit_code())
        }
        Err(p) if is_broken_pipe(p.as_ref()) => ExitCode::from(141),
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Whether a panic is `println!`'s on a closed standard output.
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let msg = payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
    msg.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains("Broken pipe"))
}
