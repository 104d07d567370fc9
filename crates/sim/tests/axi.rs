//! Networks on accel_axi (docs/soc.md): programmed through AXI4-Lite, memory from an AXI4 slave
//! model with random delays on every channel, a protocol checker on every cycle, the output
//! read from memory after the interrupt and compared with the golden network.

use accelgen_config::Preset;
use accelgen_formats::Network;
use accelgen_sim::axi::run_accel_axi;
use accelgen_sim::engines::Engine;
use accelgen_sim::{RunError, RunOptions};
use std::path::{Path, PathBuf};

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("axi");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

fn lenet() -> Network {
    Network::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/networks/lenet5_data.json")).unwrap()
}

/// LeNet-5 on the default preset's accel_axi (64-bit AXI) in Verilator, at a base address that
/// is not 0: bit-exact, DONE alone in IRQ_STATUS, every transfer answered.
#[test]
fn lenet5_runs_bit_exact_on_accel_axi_under_the_protocol_checker() {
    let net = lenet();
    let cfg = Preset::Default.config();
    let r = run_accel_axi(&net, &cfg, &opts(Engine::Verilator), 0x4000_0000, 7, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64());
    assert!(r.status & 2 != 0 && r.reads > 0 && r.writes > 0, "{r:?}");
    eprintln!("LeNet-5 on accel_axi (default, Verilator, random AXI delays): {} cycles, {} read and {} write beats", r.cycles, r.reads, r.writes);
}

/// A small tiled network: two input-channel groups on tiny's 4 rows, a pooling layer.
fn small() -> Network {
    use accelgen_compiler::testnets::{conv, net_of};
    let pool = serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]});
    net_of([6, 10, 10], vec![conv(6, 5, 3, 1, 1, false), pool, conv(5, 3, 3, 1, 0, true)], 31)
}

/// The small network on the tiny preset's accel_axi (32-bit AXI) on rust-hdl.
#[test]
fn a_small_network_runs_on_tiny_accel_axi_on_rust_hdl() {
    let net = small();
    let cfg = Preset::Tiny.config();
    let r = run_accel_axi(&net, &cfg, &opts(Engine::Rust), 0x1000, 3, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64());
}

/// The memory master's built-in fault drops an AR valid before its ready: the checker stops
/// the run naming the rule.
#[test]
fn the_protocol_checker_catches_a_dropped_valid() {
    let cfg = Preset::Tiny.config();
    match run_accel_axi(&small(), &cfg, &opts(Engine::Rust), 0x1000, 3, true) {
        Err(RunError::Sim(e)) => assert!(e.contains("AR valid dropped or payload changed before ready"), "{e}"),
        other => panic!("the checker did not fire: {other:?}"),
    }
}
