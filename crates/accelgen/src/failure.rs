//! How a command fails, and the one place where a failure becomes an exit code and a message
//! (README, "Exit codes").

use accelgen_config::HwConfig;
use accelgen_sim::RunError;
use std::path::Path;

/// How a command failed; each maps to an exit code.
#[derive(Debug)]
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

impl Failure {
    /// The process exit code (README: 1 mismatch or hardware failure, 2 bad input, 3 no block).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Mismatch | Failure::Hardware(_) => 1,
            Failure::Input(_) => 2,
            Failure::NoBlock(_) => 3,
        }
    }

    /// What is printed on stderr.
    pub(crate) fn message(&self) -> Option<String> {
        match self {
            Failure::Mismatch => None,
            Failure::Input(m) => Some(format!("error: {m}")),
            Failure::NoBlock(m) => Some(format!("not available: {m}")),
            Failure::Hardware(m) => Some(format!("hardware failure: {m}")),
        }
    }

    /// Bad input in `file`: the message starts with the file's name.
    pub(crate) fn in_file(file: &Path, e: impl std::fmt::Display) -> Failure {
        Failure::Input(format!("{}: {e}", file.display()))
    }

    /// A run's error as the command reports it: a case or network that does not fit names the
    /// file and the configuration.
    pub(crate) fn of_run(e: RunError, file: &Path, cfg: &HwConfig) -> Failure {
        match e {
            RunError::Unsupported(s) => Failure::Input(format!("{}: {s} (configuration {})", file.display(), cfg.name)),
            other => other.into(),
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
        let cfg = accelgen_config::Preset::Tiny.config();
        let e = Failure::of_run(RunError::Unsupported("too big".into()), Path::new("n.json"), &cfg);
        assert_eq!(e.message().unwrap(), "error: n.json: too big (configuration tiny)");
    }
}
