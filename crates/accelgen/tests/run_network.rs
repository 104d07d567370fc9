//! `accelgen run NET.json`: LeNet-5 with numpy-computed data (testbenches/gen_networks.py) through
//! the golden network and through the hardware blocks, layer by layer.

mod common;
use common::accelgen;

use std::path::PathBuf;

const NET: &str = "testbenches/networks/lenet5_data.json";

#[test]
fn the_golden_network_matches_numpy_on_lenet5() {
    let (code, out, err) = accelgen(&["golden", NET]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("network of 7 layers: input 1×32×32 → output 10×1×1"), "{out}");
    assert!(out.contains("expected: match"), "{out}");
}

#[test]
fn lenet5_runs_on_the_hardware_blocks_and_matches_numpy() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("run_network");
    std::fs::create_dir_all(&dir).unwrap();
    let result = dir.join("lenet5.json");
    let _ = std::fs::remove_file(&result);
    let (code, out, err) = accelgen(&["run", NET, "--preset", "default", "--engine", "verilator", "--out", result.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("golden network: match") && out.contains("expected: match"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    let layers = doc["stats"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 7);
    let ops: Vec<&str> = layers.iter().map(|l| l["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["conv2d", "maxpool2d", "conv2d", "maxpool2d", "conv2d", "conv2d", "conv2d"]);
    for l in layers {
        for key in ["cycles", "macs", "pe_utilization", "pool_divider"] {
            assert!(l.get(key).is_some(), "{key} in {l}");
        }
    }
    assert!(layers[1]["pool_divider"].as_u64().unwrap() >= 1);
    assert_eq!(doc["stats"]["macs"], layers.iter().map(|l| l["macs"].as_u64().unwrap()).sum::<u64>());
}

#[test]
fn network_runs_refuse_case_only_options_and_layers_that_do_not_fit() {
    let (code, _, err) = accelgen(&["run", NET, "--preset", "default", "--divider", "2"]);
    assert_eq!(code, 2);
    assert!(err.contains("--divider applies to pooling cases"), "{err}");
    let (code, _, err) = accelgen(&["run", NET, "--preset", "tiny"]);
    assert_eq!(code, 2);
    assert!(err.contains("lenet5_data.json: layers[0] (conv2d): this layer needs") && err.contains("(configuration tiny)"), "{err}");
}
