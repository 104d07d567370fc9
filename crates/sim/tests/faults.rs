//! Every invariant counter catches the fault it watches for: each test builds the hardware with a
//! fault on purpose (`ConvFault`, `PoolFault`: generator parameters that change the emitted logic,
//! `None` in every product) and runs a layer; the counter must rise on the faulty block and stay
//! at zero on the correct one with the same layer.

use accelgen_formats::{ConvLayer, PoolLayer, TensorField};
use accelgen_golden::{ConvParams, PoolMode, PoolParams, Tensor, TensorI8};
use accelgen_hw::pe::{ConvEngineParams, ConvFault};
use accelgen_hw::pool::{PoolFault, PoolUnitParams};
use accelgen_golden::testutil::Rng;
use accelgen_sim::conv::run_conv;
use accelgen_sim::engines::Engine;
use accelgen_sim::pool::run_pool;
use accelgen_sim::RunOptions;
use std::path::PathBuf;

fn tensor(rng: &mut Rng, shape: &[usize]) -> TensorI8 {
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.range(-128, 127) as i8).collect()).unwrap()
}

fn engine(fault: ConvFault) -> ConvEngineParams {
    ConvEngineParams {
        array: accelgen_config::ConvArray {
            rows: 2,
            cols: 3,
            kernels: 2,
            first_cache_depth: 1024,
            weight_buffer_depth: 4096,
            acc_buffer_depth: 512,
            bias_buffer_depth: 64,
            output_buffer_depth: 2048,
        },
        fault,
        lanes: 1,
        out_lanes: 1,
    }
}

fn conv_layer(rng: &mut Rng) -> (TensorI8, ConvLayer) {
    let (cin, cout, h, w) = (4, 6, 5, 6);
    let wt = tensor(rng, &[cout, cin, 3, 3]);
    let layer = ConvLayer {
        weight: TensorField { shape: wt.shape.clone(), data: Some(wt.data) },
        bias: None,
        params: ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 },
        requant: None,
        channel_scales: None,
    };
    (tensor(rng, &[cin, h, w]), layer)
}

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("faults");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

/// Runs the layer on the correct engine (every conv counter zero) and on the faulty one; returns
/// the faulty run's value of `counter`.
fn conv_counter_under(fault: ConvFault, counter: &str, eng: Engine) -> u64 {
    let mut rng = Rng::from_env("faults-conv", 41);
    let (input, layer) = conv_layer(&mut rng);
    let good = run_conv(&engine(ConvFault::None), &input, &layer, &opts(eng)).unwrap();
    for key in ["cache_writes_outside_col0", "shift_chain_breaks", "kernel_use_violations"] {
        assert_eq!(good.stats[key], 0, "{key} on the correct engine");
    }
    let bad = run_conv(&engine(fault), &input, &layer, &opts(eng))
        .unwrap_or_else(|e| panic!("{fault:?}: the faulty engine must still finish: {e}"));
    assert!(bad.violations > 0, "{fault:?}: the run must fail");
    bad.stats[counter].as_u64().unwrap()
}

#[test]
fn cache_writes_outside_col0_catches_the_first_cache_wired_into_column_1() {
    assert!(conv_counter_under(ConvFault::CacheIntoCol1, "cache_writes_outside_col0", Engine::Rust) > 0);
}

#[test]
fn cache_writes_outside_col0_catches_it_on_verilator_too() {
    assert!(conv_counter_under(ConvFault::CacheIntoCol1, "cache_writes_outside_col0", Engine::Verilator) > 0);
}

#[test]
fn shift_chain_breaks_catches_an_input_register_that_does_not_load() {
    let n = conv_counter_under(ConvFault::HoldRegister, "shift_chain_breaks", Engine::Rust);
    assert!(n > 0);
}

#[test]
fn kernel_use_violations_catches_a_pe_multiplying_the_wrong_kernel() {
    let n = conv_counter_under(ConvFault::KernelRotated, "kernel_use_violations", Engine::Rust);
    assert!(n > 0);
}

/// The hold fault breaks the chain without any first-cache write outside column 0, and the wiring
/// fault is seen as a cache write: the two counters watch different things.
#[test]
fn a_register_that_does_not_load_is_no_cache_write() {
    assert_eq!(conv_counter_under(ConvFault::HoldRegister, "cache_writes_outside_col0", Engine::Rust), 0);
}

fn unit(fault: PoolFault) -> PoolUnitParams {
    PoolUnitParams {
        array: accelgen_config::PoolArray {
            rows_per_read: 3,
            cols_per_update: 2,
            retained_cols: 2,
            max_window: 3,
            feature_memory_depth: 1024,
        },
        fault,
        fm_lanes: 1,
    }
}

/// As for the conv engine, with a 3x3 stride-2 max pool (overlapping windows) at divider 2.
fn pool_counter_under(fault: PoolFault, counter: &str) -> u64 {
    let mut rng = Rng::from_env("faults-pool", 43);
    let input = tensor(&mut rng, &[2, 7, 9]);
    let layer = PoolLayer { mode: PoolMode::Max, params: PoolParams::new([3, 3], [2, 2], [0, 0]) };
    let o = RunOptions { divider: Some(2), ..opts(Engine::Rust) };
    let dividers = [1, 2, 4];
    let good = run_pool(&unit(PoolFault::None), &dividers, &input, &layer, &o).unwrap();
    for key in ["update_period_violations", "retained_mismatches", "column_rereads", "divider_changes_while_running"] {
        assert_eq!(good.stats[key], 0, "{key} on the correct unit");
    }
    let bad = run_pool(&unit(fault), &dividers, &input, &layer, &o)
        .unwrap_or_else(|e| panic!("{fault:?}: the faulty unit must still finish: {e}"));
    assert!(bad.violations > 0, "{fault:?}: the run must fail");
    bad.stats[counter].as_u64().unwrap()
}

#[test]
fn column_rereads_catches_a_bank_address_that_reads_a_column_twice() {
    assert!(pool_counter_under(PoolFault::RereadColumn, "column_rereads") > 0);
}

#[test]
fn update_period_violations_catches_updates_shorter_than_n_reads() {
    assert!(pool_counter_under(PoolFault::ShortUpdate, "update_period_violations") > 0);
}

#[test]
fn retained_mismatches_catches_a_region_column_that_does_not_shift() {
    assert!(pool_counter_under(PoolFault::StaleRetained, "retained_mismatches") > 0);
}

#[test]
fn divider_changes_while_running_catches_a_divider_switched_mid_layer() {
    assert!(pool_counter_under(PoolFault::DividerWhileRunning, "divider_changes_while_running") > 0);
}
