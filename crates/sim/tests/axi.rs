//! Networks on accel_axi (docs/soc.md): programmed through AXI4-Lite, memory from an AXI4 slave
//! model with random delays on every channel, a protocol checker on every cycle, the output
//! read from memory after the interrupt and compared with the golden network.

use accelgen_config::Preset;
use accelgen_formats::Network;
use accelgen_sim::axi::{run_accel_axi, AxiSetup};
use accelgen_sim::engines::Engine;
use accelgen_sim::{RunError, RunOptions};
use std::path::{Path, PathBuf};

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("axi");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

const SMALL: AxiSetup = AxiSetup { base: 0x1000, seed: 3, fault_drop_valid: false, slverr_read: None };

fn lenet() -> Network {
    Network::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/networks/lenet5_data.json")).unwrap()
}

/// LeNet-5 on the default preset's accel_axi (64-bit AXI) in Verilator, at a base address that
/// is not 0: bit-exact, DONE alone in IRQ_STATUS, every transfer answered.
#[test]
fn lenet5_runs_bit_exact_on_accel_axi_under_the_protocol_checker() {
    let net = lenet();
    let cfg = Preset::Default.config();
    let setup = AxiSetup { base: 0x4000_0000, seed: 7, fault_drop_valid: false, slverr_read: None };
    let r = run_accel_axi(&net, &cfg, &opts(Engine::Verilator), setup).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64());
    assert!(r.irq_status == 1 && r.status & 2 != 0 && r.reads > 0 && r.writes > 0, "{r:?}");
    // The core's own cycle count, read through CORE_READ, ends before the interrupt.
    assert!(r.core_cycles > 0 && r.core_cycles <= r.cycles, "{r:?}");
    // Read bursts, overlapping (the checker holds them to memory.read_bursts), and packed
    // traffic within 1.25× of the packed minimum (issue #24).
    assert!(r.read_bursts * 4 < r.reads, "bursts of several beats: {r:?}");
    assert!(r.peak_read_bursts >= 2, "read bursts overlap: {r:?}");
    // LeNet-5's stores are runs of 2 output rows per channel (a band), 3 to 4 words each.
    assert!(r.write_bursts * 3 <= r.writes, "write bursts of several beats: {r:?}");
    assert!(r.bus_bytes * 4 <= r.min_bytes * 5, "bus bytes {} vs packed minimum {}", r.bus_bytes, r.min_bytes);
    eprintln!(
        "LeNet-5 on accel_axi (default, Verilator, random AXI delays): {} cycles, {} read beats in {} bursts (at most {} outstanding), {} write beats in {} bursts; {} bus bytes, packed minimum {}",
        r.cycles, r.reads, r.read_bursts, r.peak_read_bursts, r.writes, r.write_bursts, r.bus_bytes, r.min_bytes
    );
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
    let r = run_accel_axi(&net, &cfg, &opts(Engine::Rust), SMALL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64());
    assert_eq!(r.irq_status, 1, "{r:?}");
}

/// A read answered with SLVERR stops the program with error code 7 (the bus error) and raises
/// the interrupt with ERROR and BUS_ERROR.
#[test]
fn a_bus_error_stops_the_program_with_its_code() {
    let cfg = Preset::Tiny.config();
    let r = run_accel_axi(&small(), &cfg, &opts(Engine::Rust), AxiSetup { slverr_read: Some(5), ..SMALL }).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.irq_status & 6, r.status & 4, (r.status >> 8) & 15), (6, 4, u64::from(accelgen_isa::ERR_BUS)), "{r:?}");
}

/// The memory master's built-in fault drops an AR valid before its ready: the checker stops
/// the run naming the rule.
#[test]
fn the_protocol_checker_catches_a_dropped_valid() {
    let cfg = Preset::Tiny.config();
    match run_accel_axi(&small(), &cfg, &opts(Engine::Rust), AxiSetup { fault_drop_valid: true, ..SMALL }) {
        Err(RunError::Sim(e)) => assert!(e.contains("AR valid dropped or payload changed before ready"), "{e}"),
        other => panic!("the checker did not fire: {other:?}"),
    }
}
