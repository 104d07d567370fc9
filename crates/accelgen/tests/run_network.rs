//! `accelgen run NET.json`: LeNet-5 with numpy-computed data (testbenches/gen_networks.py) through
//! the golden network, through accel_top (compiled program, external memory) and through the
//! hardware blocks layer by layer (`--blocks`).

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
fn lenet5_runs_on_accel_top_and_matches_numpy() {
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
        for key in ["op", "cycles", "macs", "pe_utilization", "pool_divider", "mem_read_bytes", "mem_write_bytes"] {
            assert!(l.get(key).is_some(), "{key} in {l}");
        }
    }
    assert!(layers[1]["pool_divider"].as_u64().unwrap() >= 1);
    assert_eq!(doc["stats"]["macs"], layers.iter().map(|l| l["macs"].as_u64().unwrap()).sum::<u64>());
    assert_eq!(doc["stats"]["mode"], "accel_top");
    for key in ["cycles", "macs", "pe_utilization", "mem_read_bytes", "mem_write_bytes", "register_writes", "compressed_bytes", "instructions"] {
        assert!(doc["stats"].get(key).is_some(), "stats.{key}");
    }
    assert!(out.contains("network of 7 layers on accel_top") && out.contains("mem read B") && out.contains("x bound"), "{out}");
    // The roofline beside the cycles: each ratio is the layer's cycles over its larger bound, the
    // network's its cycles over the sum of the layers' bounds (accelgen_compiler::roofline).
    let (mut bound_sum, mut compute_sum) = (0u64, 0u64);
    for l in layers {
        let (c, m) = (l["compute_bound_cycles"].as_u64().unwrap(), l["memory_bound_cycles"].as_u64().unwrap());
        let ratio = l["cycles"].as_u64().unwrap() as f64 / c.max(m) as f64;
        assert!((l["roofline_ratio"].as_f64().unwrap() - ratio).abs() < 0.001, "{l}");
        bound_sum += c.max(m);
        compute_sum += c;
    }
    assert_eq!(doc["stats"]["compute_bound_cycles"], compute_sum);
    let net_ratio = doc["stats"]["cycles"].as_u64().unwrap() as f64 / bound_sum as f64;
    assert!((doc["stats"]["roofline_ratio"].as_f64().unwrap() - net_ratio).abs() < 0.001);
    // LeNet-5's first conv: 117,600 MACs on 64 PEs.
    assert_eq!(layers[0]["compute_bound_cycles"], 1838);
}

#[test]
fn lenet5_runs_on_the_hardware_blocks_with_blocks() {
    let (code, out, err) = accelgen(&["run", NET, "--preset", "default", "--engine", "verilator", "--blocks"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("host-sequenced (--blocks)") && out.contains("expected: match"), "{out}");
}

#[test]
fn a_compiled_program_executes_with_its_network() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("run_program_net");
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let (code, out, err) = accelgen(&["compile", NET, "--preset", "tiny", "--out", d]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = accelgen(&["run", "--program", d, "--net", NET, "--preset", "tiny", "--engine", "verilator"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("program.cbin") && out.contains("golden network: match"), "{out}");
    // Another network's program on this network's memory: the output differs (exit 1).
    let other = dir.join("other");
    let (code, _, err) = accelgen(&["compile", "testbenches/networks/lenet5.json", "--preset", "default", "--out", other.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = accelgen(&["run", "--program", other.to_str().unwrap(), "--net", NET, "--preset", "tiny", "--engine", "verilator"]);
    assert_eq!(code, 1, "{out}{err}");
}

#[test]
fn network_runs_refuse_case_only_options_and_layers_that_do_not_fit() {
    let (code, _, err) = accelgen(&["run", NET, "--preset", "default", "--divider", "2"]);
    assert_eq!(code, 2);
    assert!(err.contains("--divider applies to pooling cases"), "{err}");
    let (code, _, err) = accelgen(&["run", NET, "--preset", "tiny", "--blocks"]);
    assert_eq!(code, 2);
    assert!(err.contains("lenet5_data.json: layers[0] (conv2d): this layer needs") && err.contains("(configuration tiny)"), "{err}");
    let (code, _, err) = accelgen(&["run", NET, "--preset", "tiny", "--mem-latency", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--mem-latency 0 is out of range: allowed 1..=1000"), "{err}");
    let (code, _, err) = accelgen(&["run", NET, "--blocks", "--mem-stall", "3"]);
    assert_eq!(code, 2);
    assert!(err.contains("'--blocks' cannot be used with '--mem-stall <N>'"), "{err}");
    let (code, _, err) = accelgen(&["run", "testbenches/vectors/maxpool_2x2_s2.json", "--mem-latency", "3"]);
    assert_eq!(code, 2);
    assert!(err.contains("apply to network files"), "{err}");
    // A layer no tiling fits: a 3-row kernel over a 2000-wide map on the tiny preset.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("run_network_wide");
    std::fs::create_dir_all(&dir).unwrap();
    let wide = dir.join("wide.json");
    std::fs::write(&wide, r#"{"input": {"shape": [1, 4, 1000]}, "layers": [{"op": "conv2d", "weight": {"shape": [1, 1, 3, 3]}, "padding": [1, 1]}]}"#).unwrap();
    let (code, _, err) = accelgen(&["compile", wide.to_str().unwrap(), "--preset", "tiny", "--out", dir.join("out").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("layers[0] (conv2d): cannot be tiled onto this configuration: one output row's input (kernel rows·W of one input tile) needs 3000, but pe_array.first_cache_depth = 256"),
        "{err}"
    );
}

/// `--top accel_axi`: a tiled network (two input-channel groups on tiny's 4 PE rows) on tiny's
/// accel_axi, programmed through AXI4-Lite, memory from the AXI4 model with random delays: the
/// golden network's output, the AXI traffic in the result's stats. The flags that belong to
/// accel_top's memory model are refused.
#[test]
fn a_network_runs_on_accel_axi_from_the_command_line() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("run_network");
    std::fs::create_dir_all(&dir).unwrap();
    let result = dir.join("small_tiled_axi.json");
    let _ = std::fs::remove_file(&result);
    let net = "testbenches/cocotb/small_tiled.json";
    let (code, out, err) = accelgen(&["run", net, "--top", "accel_axi", "--preset", "tiny", "--out", result.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("on accel_axi") && out.contains("golden network: match"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    let s = &doc["stats"];
    assert_eq!(s["mode"], "accel_axi");
    assert_eq!(s["irq_status"], 1);
    let n = |k: &str| s[k].as_u64().unwrap();
    assert!(n("axi_read_bursts") > 0 && n("axi_read_beats") >= n("axi_read_bursts") && n("axi_write_beats") > 0, "{s}");
    assert!(n("axi_write_bursts") > 0 && n("axi_write_beats") >= 2 * n("axi_write_bursts"), "write bursts of several beats: {s}");
    assert_eq!(n("mem_read_bytes"), 4 * n("axi_read_beats"), "32-bit words on tiny");
    assert!(n("core_cycles") <= n("cycles"), "{s}");
    for flags in [&["--mem-latency", "3"][..], &["--blocks"], &["--mem-stall", "2"]] {
        let mut args = vec!["run", net, "--top", "accel_axi", "--preset", "tiny"];
        args.extend_from_slice(flags);
        let (code, out, err) = accelgen(&args);
        assert_eq!(code, 2, "{flags:?}: {out}{err}");
        assert!(err.contains(flags[0]) && err.contains("--top accel_axi"), "{flags:?}: {err}");
    }
    let (code, _, err) = accelgen(&["run", "testbenches/vectors/maxpool_2x2_s2.json", "--top", "accel_axi", "--preset", "tiny"]);
    assert_eq!(code, 2);
    assert!(err.contains("--top accel_axi applies to network files"), "{err}");
}
