//! Whole networks on accel_top: the compiled program, loaded through the register port, runs
//! from the memory model to done and leaves the golden network's output in memory.

mod common;

use accelgen_config::{HwConfig, Preset};
use accelgen_formats::Network;
use accelgen_hw::testutil::Rng;
use accelgen_sim::accel::{run_accel, AccelFaults, AccelRun, MemTiming};
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accel");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

fn run(net: &Network, cfg: &HwConfig, engine: Engine, mem: MemTiming, what: &str) -> AccelRun {
    let r = run_accel(net, cfg, &opts(engine), mem, &AccelFaults::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(r.error_code, None, "{what}: {:?}", r.stats);
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64(), "{what}");
    r
}

#[test]
fn a_small_network_runs_on_rust_hdl() {
    let net = net_of([2, 8, 8], vec![conv(2, 3, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}), conv(3, 2, 1, 1, 0, true)], 3);
    let r = run(&net, &Preset::Tiny.config(), Engine::Rust, MemTiming::default(), "small");
    eprintln!("{}", serde_json::to_string_pretty(&r.stats).unwrap());
}

#[test]
fn lenet5_runs_bit_exact_on_the_tiny_preset_with_every_tiling() {
    let net = with_data("lenet5", 5);
    let r = run(&net, &Preset::Tiny.config(), Engine::Verilator, MemTiming::default(), "LeNet-5 on tiny");
    eprintln!("{}", serde_json::to_string_pretty(&r.stats).unwrap());
}
