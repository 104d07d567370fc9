//! Running the `accelgen` binary from the command-line tests.

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

/// A run longer than this fails the test: a guard against a hang blocking the suite, not a
/// performance check (a loaded CI machine runs the longest case, LeNet-5 on Verilator with its
/// model build, in about a minute).
const HANG_GUARD: Duration = Duration::from_secs(600);

/// Runs accelgen in the repository root with `args`: (exit code, stdout, stderr). A panic or a
/// run longer than the hang guard fails the test. Both pipes are drained while the child runs,
/// so a long log cannot block it.
pub fn accelgen(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accelgen"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = vec![];
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out_t = drain(Box::new(child.stdout.take().unwrap()));
    let err_t = drain(Box::new(child.stderr.take().unwrap()));
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("accelgen {args:?} did not finish within {} s", HANG_GUARD.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_t.join().unwrap();
    let err = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    assert!(!err.contains("panicked"), "accelgen {args:?} panicked: {err}");
    (status.code().expect("exited normally"), String::from_utf8_lossy(&out).into_owned(), err)
}
