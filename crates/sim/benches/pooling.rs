//! `make bench`, pooling: feature values read per input value by the window register file against
//! naive window re-reading (kh·kw / (sh·sw)), simulated in rust-hdl on the default preset; and the
//! pooling clock planner's enabled-cycle savings on LeNet-5 and AlexNet.

use accelgen_config::Preset;
use accelgen_formats::{Network, PoolLayer};
use accelgen_golden::{PoolMode, PoolParams, Tensor};
use accelgen_hw::pool::PoolUnitParams;
use accelgen_compiler::planner::plan_clock;
use accelgen_sim::pool::run_pool;

fn main() {
    let cfg = Preset::Default.config();
    let u = PoolUnitParams::from_config(&cfg.pooling);
    let (c, h, w) = (4, 28, 28);
    let input = Tensor::from_vec(&[c, h, w], (0..c * h * w).map(|i| (i * 37 % 256) as u8 as i8).collect()).unwrap();
    println!(
        "pooling reads per input element, preset default (k={}, n={}, m={}), {c}x{h}x{w} map (rust-hdl simulation)",
        u.rows_per_read, u.cols_per_update, u.retained_cols
    );
    println!("{:<10} {:>12} {:>14} {:>12} {:>10} {:>10}", "window", "this unit", "naive", "ratio", "cycles", "win/cycle");
    for (k, s) in [(2, 2), (3, 2), (3, 1)] {
        let layer = PoolLayer { mode: PoolMode::Max, params: PoolParams::new([k, k], [s, s], [0, 0]) };
        let run = run_pool(&u, &cfg.pool_clock.dividers, &input, &layer, &Default::default()).unwrap();
        let ours = run.stats["reads_per_input"].as_f64().unwrap();
        let naive = (k * k) as f64 / (s * s) as f64;
        println!(
            "{:<10} {:>12.4} {:>14.4} {:>11.2}x {:>10} {:>10}",
            format!("{k}x{k}/{s}"),
            ours,
            naive,
            naive / ours,
            run.stats["cycles"],
            run.stats["windows_per_cycle"]
        );
    }
    println!("(vertical overlap is the remaining re-read: a row band of kh rows advances by sh rows)");
    println!();
    for net in ["lenet5", "alexnet"] {
        let path = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
        let n = Network::load(std::path::Path::new(&path)).unwrap();
        let rows = plan_clock(&n, &cfg).unwrap();
        let budget: u64 = rows.iter().filter_map(|r| r.conv_cycles).sum();
        let saved: u64 = rows.iter().map(|r| r.enabled_cycles_saved).sum();
        let divs: Vec<u32> = rows.iter().map(|r| r.divider).collect();
        println!(
            "planner {net:<8} dividers {divs:?}: enabled cycles {} at planned rates vs {budget} at full rate, saved {saved} ({:.1}%)",
            budget - saved,
            100.0 * saved as f64 / budget as f64
        );
    }
}
