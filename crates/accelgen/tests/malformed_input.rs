//! Malformed input through the command: each gets a clear message naming the file and field, exit
//! code 2, and no panic.

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("malformed").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn accelgen(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accelgen")).args(args).output().unwrap();
    (
        out.status.code().expect("exited normally, not by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `json` as a case file and runs `accelgen golden` on it; returns (code, stderr).
fn golden_on(name: &str, json: &str) -> (i32, String, PathBuf) {
    let file = scratch(name).join("case.json");
    std::fs::write(&file, json).unwrap();
    let (code, _, err) = accelgen(&["golden", file.to_str().unwrap()]);
    assert!(!err.contains("panicked"), "{name}: panicked: {err}");
    (code, err, file)
}

fn assert_error(name: &str, json: &str, message: &str) {
    let (code, err, file) = golden_on(name, json);
    assert_eq!(code, 2, "{name}: exit code, stderr: {err}");
    assert_eq!(err.trim_end(), format!("error: {}: {message}", file.display()), "{name}");
}

const W: &str = r#"{"shape":[1,1,1,1],"data":[1]}"#;

#[test]
fn missing_field_is_named() {
    assert_error("missing", &format!(r#"{{"op":"conv2d","weight":{W}}}"#), r#"field "input": is missing"#);
}

#[test]
fn wrong_rank_is_named_with_the_shape() {
    assert_error(
        "rank",
        &format!(r#"{{"op":"conv2d","input":{{"shape":[2,2],"data":[1,2,3,4]}},"weight":{W}}}"#),
        r#"field "input": must have rank 3, got shape [2, 2] (rank 2)"#,
    );
}

#[test]
fn data_length_must_match_the_shape() {
    assert_error(
        "length",
        &format!(r#"{{"op":"conv2d","input":{{"shape":[1,2,2],"data":[1,2,3]}},"weight":{W}}}"#),
        r#"field "input.data": has 3 values but shape [1, 2, 2] needs 4"#,
    );
}

#[test]
fn values_outside_int8_are_rejected_with_their_index() {
    assert_error(
        "range",
        &format!(r#"{{"op":"conv2d","input":{{"shape":[1,1,2],"data":[1,200]}},"weight":{W}}}"#),
        r#"field "input.data[1]": 200 is out of range: allowed -128..=127 (int8 values)"#,
    );
}

#[test]
fn zero_and_negative_strides_are_rejected() {
    let input = r#"{"shape":[1,2,2],"data":[1,2,3,4]}"#;
    assert_error(
        "stride0",
        &format!(r#"{{"op":"conv2d","input":{input},"weight":{W},"stride":[1,0]}}"#),
        r#"field "stride[1]": 0 is out of range: allowed 1..=4096"#,
    );
    assert_error(
        "stride_neg",
        &format!(r#"{{"op":"maxpool2d","input":{input},"kernel":1,"stride":-2}}"#),
        r#"field "stride": -2 is out of range: allowed 1..=4096"#,
    );
}

#[test]
fn a_kernel_larger_than_the_padded_input_is_rejected() {
    assert_error(
        "kernel",
        r#"{"op":"maxpool2d","input":{"shape":[1,2,2],"data":[1,2,3,4]},"kernel":[3,2]}"#,
        "kernel height 3 is larger than the padded input height 2 + 2·0",
    );
    assert_error(
        "kernel_conv",
        r#"{"op":"conv2d","input":{"shape":[1,2,2],"data":[1,2,3,4]},"weight":{"shape":[1,1,1,5],"data":[1,2,3,4,5]},"padding":[0,1]}"#,
        "kernel width 5 is larger than the padded input width 2 + 2·1",
    );
}

#[test]
fn an_unknown_op_lists_the_known_ones() {
    assert_error(
        "op",
        r#"{"op":"conv3d","input":{"shape":[1,1,1],"data":[1]}}"#,
        r#"field "op": unknown op "conv3d": known ops are conv2d, maxpool2d, avgpool2d"#,
    );
}

#[test]
fn a_misspelt_field_is_not_ignored() {
    assert_error(
        "typo",
        r#"{"op":"maxpool2d","input":{"shape":[1,1,1],"data":[1]},"kernel":1,"strides":1}"#,
        r#"field "strides": is not a known field here (known: op, kernel, stride, padding, input, expected)"#,
    );
}

/// A minimal version-1.0 .npy file with the given dtype and shape.
fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn a_npy_of_the_wrong_dtype_is_rejected() {
    let dir = scratch("npy");
    std::fs::write(dir.join("x.npy"), npy("<f4", "(1, 1, 2)", &[0; 8])).unwrap();
    let (code, err, file) =
        golden_on("npy", r#"{"op":"maxpool2d","input":"../npy/x.npy","kernel":1}"#);
    assert_eq!(code, 2);
    let npy_path = file.parent().unwrap().join("../npy/x.npy");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: field \"input\": {} has dtype <f4, but this field holds int8 values: use int8",
            file.display(),
            npy_path.display()
        )
    );
}

#[test]
fn a_npy_of_the_right_dtype_loads() {
    let dir = scratch("npy_ok");
    std::fs::write(dir.join("x.npy"), npy("|i1", "(1, 1, 2)", &[5, 0xfe])).unwrap();
    let expected = r#"{"shape":[1,1,2],"data":[5,-2]}"#;
    let (code, err, _) = golden_on(
        "npy_ok",
        &format!(r#"{{"op":"maxpool2d","input":"x.npy","kernel":1,"expected":{expected}}}"#),
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn invalid_json_and_missing_files_are_input_errors() {
    let (code, err, _) = golden_on("json", "{not json");
    assert_eq!(code, 2);
    assert!(err.contains("not valid JSON"), "{err}");
    let (code, _, err) = accelgen(&["golden", "/nonexistent/case.json"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: /nonexistent/case.json: cannot read:"), "{err}");
}

#[test]
fn a_bad_configuration_file_is_named_with_its_field() {
    let file = scratch("config").join("cfg.json");
    std::fs::write(&file, r#"{"preset":"tiny","pooling":{"max_window":0}}"#).unwrap();
    let (code, _, err) = accelgen(&["config", "show", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!("error: {}: pooling.max_window = 0 is out of range: allowed 1..=16", file.display())
    );
}

#[test]
fn an_existing_result_file_is_not_overwritten_without_force() {
    let dir = scratch("force");
    let case = dir.join("case.json");
    std::fs::write(&case, r#"{"op":"maxpool2d","input":{"shape":[1,1,1],"data":[3]},"kernel":1}"#)
        .unwrap();
    let out = dir.join("result.json");
    std::fs::write(&out, "mine").unwrap();
    let (code, _, err) = accelgen(&["golden", case.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(err.trim_end(), format!("error: {} already exists: pass --force to overwrite it", out.display()));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    let (code, _, _) =
        accelgen(&["golden", case.to_str().unwrap(), "--out", out.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["output"]["data"], serde_json::json!([3]));
    assert_eq!(doc["expected_match"], serde_json::Value::Null);
}

#[test]
fn a_wrong_expected_tensor_exits_1_with_coordinates() {
    let (code, _, file) = golden_on(
        "expected",
        r#"{"op":"maxpool2d","input":{"shape":[1,1,2],"data":[3,4]},"kernel":1,"expected":{"shape":[1,1,2],"data":[3,5]}}"#,
    );
    assert_eq!(code, 1);
    let (_, out, _) = accelgen(&["golden", file.to_str().unwrap()]);
    assert!(out.contains("at [0, 0, 1]: got 4, want 5"), "{out}");
}
