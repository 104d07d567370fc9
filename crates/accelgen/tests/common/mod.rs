//! Running the `accelgen` binary from the command-line tests.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs accelgen in the repository root with `args`: (exit code, stdout, stderr). A panic or a
/// run longer than 60 s fails the test (a hang must not block the suite).
pub fn accelgen(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accelgen"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("accelgen {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "accelgen {args:?} panicked: {err}");
    (out.status.code().expect("exited normally"), String::from_utf8_lossy(&out.stdout).into_owned(), err)
}
