//! ONNX's own backend node tests (exported from the `onnx` package by
//! testbenches/gen_onnx_node.py into testbenches/onnx/node/): the cases of the operators accelgen
//! reads. Those it supports must equal ONNX's expected outputs on the golden model and on
//! accel_top; every other case must be refused with exit 2 and a message naming what is not
//! supported, never approximated.

mod common;
use common::accelgen;

/// The cases that run (docs/onnx.md, "ONNX's node tests" lists why the others are refused).
const PASS: [&str; 13] = [
    "test_basic_conv_with_padding",
    "test_basic_conv_without_padding",
    "test_conv_with_autopad_same",
    "test_conv_with_strides_and_asymmetric_padding",
    "test_conv_with_strides_no_padding",
    "test_conv_with_strides_padding",
    "test_convinteger_without_padding",
    "test_globalmaxpool_precomputed",
    "test_matmulinteger",
    "test_maxpool_2d_precomputed_pads",
    "test_maxpool_2d_precomputed_same_upper",
    "test_maxpool_2d_precomputed_strides",
    "test_maxpool_2d_uint8",
];

fn cases() -> Vec<String> {
    let list = std::fs::read_to_string("../../testbenches/onnx/node/CASES.txt").unwrap();
    list.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect()
}

fn files(case: &str) -> [String; 3] {
    let d = format!("testbenches/onnx/node/{case}");
    [format!("{d}/model.onnx"), format!("{d}/input.npy"), format!("{d}/expected.npy")]
}

#[test]
fn the_supported_node_tests_equal_onnx_on_the_golden_model_and_the_rest_are_refused() {
    let all = cases();
    assert!(all.len() >= 40, "{} cases exported", all.len());
    for p in PASS {
        assert!(all.iter().any(|c| c == p), "{p} is exported");
    }
    let mut passed = 0;
    for case in &all {
        let [m, x, y] = files(case);
        let (code, out, err) = accelgen(&["golden", &m, "--input", &x, "--expected", &y]);
        if PASS.contains(&case.as_str()) {
            assert_eq!(code, 0, "{case}: {out}{err}");
            assert!(out.contains("elements equal"), "{case}: {out}");
            passed += 1;
        } else {
            assert_eq!(code, 2, "{case} must be refused: {out}{err}");
            let first = err.lines().next().unwrap_or("");
            assert!(first.starts_with("error: ") && first.contains(case.as_str()), "{case}: {err}");
            assert!(!err.contains("panicked"), "{case}: {err}");
        }
    }
    assert_eq!(passed, 13);
}

/// The supported cases on accel_top (default preset, Verilator) but the two 5×5 max poolings,
/// which the default preset's pooling window (at most 3×3) refuses by name.
#[test]
fn the_supported_node_tests_run_on_accel_top_equal_to_onnx() {
    let window5 = ["test_maxpool_2d_precomputed_pads", "test_maxpool_2d_uint8"];
    for case in PASS {
        let [m, x, y] = files(case);
        let (code, out, err) = accelgen(&["run", &m, "--input", &x, "--expected", &y, "--engine", "verilator"]);
        if window5.contains(&case) {
            assert_eq!(code, 2, "{case}: {out}{err}");
            assert!(err.contains("window height 5 exceeds pooling.max_window = 3"), "{case}: {err}");
        } else {
            assert_eq!(code, 0, "{case}: {out}{err}");
            // One image, or one per row of a matrix input (test_matmulinteger: 4).
            let images = if case == "test_matmulinteger" { 4 } else { 1 };
            assert!(out.contains(&format!("{images} of {images} images equal")) && out.contains("elements equal"), "{case}: {out}");
        }
    }
}
