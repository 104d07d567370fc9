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
    // The command runs on a thread with a large stack: rust-hdl simulates a design by nested
    // calls of its blocks' updates, whose frames grow with the design (accel_axi on rust-hdl
    // needs more than a spawned thread's default 2 MiB).
    let run = std::thread::Builder::new()
        .name("accelgen".into())
        .stack_size(SIM_STACK)
        .spawn(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd::dispatch(cli.cmd))));
    let outcome = match run {
        Ok(handle) => handle.join().and_then(|r| r),
        Err(e) => Ok(Err(failure::Failure::Hardware(format!("cannot start the command's thread: {e}")))),
    };
    match outcome {
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

/// Stack of the thread a command runs on (bytes).
const SIM_STACK: usize = 64 << 20;

/// Whether a panic is `println!`'s on a closed standard output.
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let msg = payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
    msg.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains("Broken pipe"))
}
