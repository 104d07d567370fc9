//! Hostile input through the command, one test per class: every one ends with a clear message
//! naming the file (and the field or limit), the documented exit code, no panic, no hang and no
//! unbounded allocation.

mod common;
use common::accelgen;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs accelgen with a 60 s guard (a hang fails the test instead of blocking the suite).

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const CASE: &str = r#"{"op": "maxpool2d", "input": {"shape": [1, 4, 4], "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}, "kernel": [2, 2], "stride": [2, 2]}"#;

#[test]
fn a_buffer_depth_the_decompressor_cannot_count_is_refused_by_validation() {
    let dir = scratch("depth");
    let cfg = dir.join("cfg.json");
    std::fs::write(&cfg, r#"{"preset": "tiny", "isa": {"buffer_depth": 70000}}"#).unwrap();
    let (code, _, err) = accelgen(&["config", "show", "--config", s(&cfg)]);
    assert_eq!(code, 2);
    assert_eq!(err.trim(), format!("error: {}: isa.buffer_depth = 70000 is out of range: allowed 1..=65535", cfg.display()));
}

#[test]
fn configuration_type_errors_name_the_field_and_range() {
    let dir = scratch("cfgtype");
    let cfg = dir.join("cfg.json");
    std::fs::write(&cfg, r#"{"pe_array": {"rows": -1}, "preset": "tiny"}"#).unwrap();
    let (code, _, err) = accelgen(&["config", "show", "--config", s(&cfg)]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!("error: {}: field \"pe_array.rows\": invalid value: integer `-1`, expected u32 (allowed 1..=64)", cfg.display())
    );
}

#[test]
fn a_waveform_that_cannot_be_written_is_an_error_not_a_panic() {
    let dir = scratch("vcdfull");
    let case = dir.join("case.json");
    std::fs::write(&case, CASE).unwrap();
    let (code, _, err) = accelgen(&["run", s(&case), "--preset", "tiny", "--vcd", "/dev/full", "--force"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/dev/full") && err.contains("No space left on device"), "{err}");
}

#[test]
fn out_and_vcd_naming_one_file_are_refused() {
    let dir = scratch("samefile");
    let case = dir.join("case.json");
    std::fs::write(&case, CASE).unwrap();
    let same = dir.join("x");
    let (code, _, err) = accelgen(&["run", s(&case), "--preset", "tiny", "--out", s(&same), "--vcd", s(&same)]);
    assert_eq!(code, 2);
    assert!(err.contains("--out and --vcd name the same file"), "{err}");
    assert!(!same.exists());
}

#[test]
fn a_huge_shape_only_network_is_refused_before_any_work() {
    let dir = scratch("bignet");
    let net = dir.join("net.json");
    std::fs::write(&net, r#"{"input": {"shape": [1, 16384, 16384]}, "layers": [{"op": "conv2d", "weight": {"shape": [8, 1, 3, 3]}}]}"#).unwrap();
    for cmd in [vec!["plan-clock", s(&net)], vec!["compile", s(&net), "--out", s(&dir)]] {
        let t = Instant::now();
        let (code, _, err) = accelgen(&cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("field \"layers[0]\": the input 1×16384×16384 has 268435456 elements: allowed at most 16777216 per layer"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}

const REQUANT: &str = r#""requant": {"multiplier": 1, "shift": 0, "zero_point": 0}"#;

/// Issue #27's constructions: padding that turns a 1×1×1 input into an 8191×8191 output (once
/// computed by the golden model at 2.4–3.1 GB), refused by every command on the size of the
/// padded input, naming the layer's padding and the limit.
#[test]
fn padding_that_multiplies_the_work_is_refused_before_any_work() {
    let dir = scratch("padding");
    let case = dir.join("case.json");
    let w = vec!["1"; 36].join(",");
    std::fs::write(&case, format!(r#"{{"op": "conv2d", "input": {{"shape": [1, 1, 1], "data": [1]}}, "weight": {{"shape": [4, 1, 3, 3], "data": [{w}]}}, "padding": [4096, 4096]}}"#)).unwrap();
    let net = dir.join("net.json");
    let chain = vec![format!(r#"{{"op": "conv2d", "weight": {{"shape": [4, 4, 1, 1]}}, {REQUANT}}}"#); 29].join(", ");
    std::fs::write(&net, format!(r#"{{"input": {{"shape": [1, 1, 1]}}, "layers": [{{"op": "conv2d", "weight": {{"shape": [4, 1, 3, 3]}}, "padding": [4096, 4096], {REQUANT}}}, {chain}]}}"#)).unwrap();
    let limit = "the padded input 1×8193×8193 has 67125249 elements (padding [4096, 4096] on a [1, 1, 1] input): allowed at most 16777216 per layer";
    let out = dir.join("out");
    for (cmd, field) in [
        (vec!["golden", s(&case)], "padding"),
        (vec!["run", s(&case), "--preset", "tiny"], "padding"),
        (vec!["plan-clock", s(&net)], "layers[0].padding"),
        (vec!["compile", s(&net), "--preset", "tiny", "--out", s(&out)], "layers[0].padding"),
    ] {
        let (code, _, err) = accelgen(&cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains(&format!("field \"{field}\": {limit}")), "{cmd:?}: {err}");
    }
    assert!(!out.exists(), "nothing written");
}

/// A chain of layers each within the per-layer limits (64×512×512 through 29 1×1 convs) that
/// together would step the cycle model through about 8·10^9 clock periods on `tiny`: refused by
/// the network's total before the first layer is modelled.
#[test]
fn a_chain_of_layers_is_refused_by_its_total_model_work() {
    let dir = scratch("chain");
    let net = dir.join("net.json");
    let chain = vec![format!(r#"{{"op": "conv2d", "weight": {{"shape": [64, 64, 1, 1]}}, {REQUANT}}}"#); 29].join(", ");
    std::fs::write(&net, format!(r#"{{"input": {{"shape": [64, 512, 512]}}, "layers": [{chain}]}}"#)).unwrap();
    let out = dir.join("out");
    for cmd in [vec!["plan-clock", s(&net), "--preset", "tiny"], vec!["compile", s(&net), "--preset", "tiny", "--out", s(&out)]] {
        let (code, _, err) = accelgen(&cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("the conv layers up to this one take about") && err.contains("more than the 5000000000 the cycle model evaluates for a network"), "{cmd:?}: {err}");
    }
}

#[test]
fn only_regular_files_within_the_size_limit_are_read() {
    let dir = scratch("files");
    let (code, _, err) = accelgen(&["golden", "/dev/zero"]);
    assert_eq!(code, 2);
    assert!(err.contains("/dev/zero: is not a regular file"), "{err}");
    let fifo = dir.join("fifo.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (code, _, err) = accelgen(&["golden", s(&fifo)]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a regular file"), "{err}");
    // A sparse 40 MiB file: refused from its size, without being read.
    let big = dir.join("big.json");
    std::fs::File::create(&big).unwrap().set_len(40 << 20).unwrap();
    let (code, _, err) = accelgen(&["golden", s(&big)]);
    assert_eq!(code, 2);
    assert!(err.contains("41943040 bytes is larger than the 33554432 bytes allowed for a JSON file"), "{err}");
}

#[test]
fn duplicate_json_keys_are_refused_with_their_path() {
    let dir = scratch("dupkey");
    let case = dir.join("case.json");
    std::fs::write(&case, r#"{"op": "maxpool2d", "kernel": [2, 2], "kernel": [3, 3], "input": {"shape": [1, 2, 2], "data": [1, 2, 3, 4]}}"#).unwrap();
    let (code, _, err) = accelgen(&["golden", s(&case)]);
    assert_eq!(code, 2);
    assert!(err.contains("not valid JSON: duplicate field \"kernel\""), "{err}");
}

#[test]
fn a_malformed_npy_header_is_one_line() {
    let dir = scratch("npy");
    std::fs::write(dir.join("x.npy"), b"\x93NUMPY\x01\x00\x10\x00{'descr': garbage}\n").unwrap();
    let case = dir.join("case.json");
    std::fs::write(&case, r#"{"op": "maxpool2d", "kernel": [2, 2], "input": "x.npy"}"#).unwrap();
    let (code, _, err) = accelgen(&["golden", s(&case)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("is not a valid .npy file"), "{err}");
}

#[test]
fn suite_reports_files_that_are_neither_case_nor_network() {
    let dir = scratch("suite");
    std::fs::write(dir.join("good.json"), CASE).unwrap();
    std::fs::write(dir.join("empty.json"), "").unwrap();
    std::fs::write(dir.join("garbage.json"), "{\"op\": ").unwrap();
    std::fs::write(dir.join("other.json"), "{\"hello\": 1}").unwrap();
    let (code, out, _) = accelgen(&["suite", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 passed, 3 failed"), "{out}");
    assert!(out.contains("neither a case (op, input) nor a network (layers)"), "{out}");
}

#[test]
fn a_symlink_loop_in_a_suite_folder_is_named_as_such() {
    let dir = scratch("symloop");
    std::os::unix::fs::symlink(dir.join("b.json"), dir.join("a.json")).unwrap();
    std::os::unix::fs::symlink(dir.join("a.json"), dir.join("b.json")).unwrap();
    let (code, _, err) = accelgen(&["suite", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 2);
    assert!(err.contains("symbolic links"), "{err}");
    // A link back up the tree is entered once, not forever.
    let dir = scratch("uplink");
    std::fs::write(dir.join("good.json"), CASE).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("again")).unwrap();
    let (code, out, _) = accelgen(&["suite", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

fn compiled(name: &str) -> PathBuf {
    let dir = scratch(name);
    let net = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbenches/networks/lenet5.json");
    let (code, _, err) = accelgen(&["compile", net, "--out", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 0, "{err}");
    dir
}

#[test]
fn run_program_refuses_options_it_would_ignore() {
    let dir = compiled("progopts");
    // Refused by the mode (they apply to --program --net) ...
    for extra in [vec!["--out", "x.json"], vec!["--mem-latency", "3"], vec!["--mem-stall", "2"]] {
        let mut args = vec!["run", "--program", s(&dir), "--preset", "tiny"];
        args.extend(extra.iter());
        let (code, _, err) = accelgen(&args);
        assert_eq!(code, 2, "{extra:?}");
        assert!(err.contains(&format!("{} does not apply to --program", extra[0])), "{err}");
    }
    // ... and by the command line, with or without --net.
    let net = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbenches/networks/lenet5.json");
    for (flag, extra) in [("--divider", vec!["--divider", "2"]), ("--blocks", vec!["--blocks"]), ("--divider", vec!["--net", net, "--divider", "2"]), ("--blocks", vec!["--net", net, "--blocks"])] {
        let mut args = vec!["run", "--program", s(&dir), "--preset", "tiny"];
        args.extend(extra.iter());
        let (code, _, err) = accelgen(&args);
        assert_eq!(code, 2, "{extra:?}");
        assert!(err.contains(&format!("'{flag}")) && err.contains("'--program <DIR>'") && err.contains("cannot be used with"), "{extra:?}: {err}");
    }
}

#[test]
fn a_corrupt_truncated_or_oversized_compressed_program_is_bad_input_naming_the_file() {
    let dir = compiled("badcbin");
    let cbin = dir.join("program.cbin");
    let good = std::fs::read(&cbin).unwrap();
    // Truncated to a partial word.
    std::fs::write(&cbin, &good[..good.len() - 3]).unwrap();
    let (code, _, err) = accelgen(&["run", "--program", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{}:", cbin.display())), "{err}");
    // Garbage words.
    std::fs::write(&cbin, vec![0xffu8; 64]).unwrap();
    let (code, _, err) = accelgen(&["run", "--program", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{}:", cbin.display())), "{err}");
    // More words than the tiny preset's 256-word buffer: refused from the size.
    std::fs::File::create(&cbin).unwrap().set_len(100 << 20).unwrap();
    let t = Instant::now();
    let (code, _, err) = accelgen(&["run", "--program", s(&dir), "--preset", "tiny"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the decompressor buffer holds isa.buffer_depth = 256 words of 64 bits"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn compile_force_writes_all_files_or_none() {
    let dir = scratch("atomic");
    std::fs::create_dir_all(dir.join("program.txt")).unwrap();
    let net = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbenches/networks/lenet5.json");
    let (code, _, err) = accelgen(&["compile", net, "--out", s(&dir), "--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("program.txt: exists and is not a file; nothing was written"), "{err}");
    assert!(!dir.join("program.bin").exists() && !dir.join("program.cbin").exists());
}

#[test]
fn a_case_too_large_for_the_engine_is_refused_before_simulating() {
    let dir = scratch("toolong");
    let cfg = dir.join("cfg.json");
    std::fs::write(&cfg, r#"{"preset": "default", "pe_array": {"rows": 64, "cols": 64, "kernels_per_pe": 2, "first_cache_depth": 65536, "weight_buffer_depth": 65536, "acc_buffer_depth": 65536, "output_buffer_depth": 65536}}"#).unwrap();
    let n = 64 * 64 * 64;
    let case = dir.join("case.json");
    let data = vec!["1"; n].join(",");
    std::fs::write(&case, format!(r#"{{"op": "conv2d", "input": {{"shape": [64, 64, 64], "data": [{data}]}}, "weight": {{"shape": [8, 64, 1, 1], "data": [{}]}}}}"#, vec!["1"; 512].join(","))).unwrap();
    let t = Instant::now();
    let (code, _, err) = accelgen(&["run", s(&case), "--config", s(&cfg)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("PE-cycles), more than the 300000000 allowed on the rust engine"), "{err}");
    assert!(err.contains(&format!("{}:", case.display())) && err.contains("(configuration default-custom)"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
}

/// A closed standard output (`accelgen golden CASE | head -1`, the reader gone before the first
/// line): the command ends without a panic message, with 141 (128 + SIGPIPE) as other tools end,
/// or 0 if it finished writing first.
#[test]
fn a_closed_standard_output_ends_the_command_quietly() {
    let case = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/vectors/conv_bias_4ch_6k_3x3.json");
    for _ in 0..3 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_accelgen"))
            .arg("golden")
            .arg(&case)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "stderr: {err}");
        assert!(matches!(out.status.code(), Some(0) | Some(141)), "{:?}, stderr: {err}", out.status);
    }
}
