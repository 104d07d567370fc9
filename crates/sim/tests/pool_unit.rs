//! The pooling unit against the golden model: a sweep of windows, strides, modes, widths (every
//! residue mod n), padding and channel counts on four unit shapes (n = 1 among them); identical results at every
//! clock divider; the enabled-cycle model; the read counts the window register file promises.

use accelgen_formats::{Case, Layer, PoolLayer};
use accelgen_golden::{PoolMode, PoolParams, Tensor, TensorI8};
use accelgen_hw::pool::PoolUnitParams;
use accelgen_golden::testutil::Rng;
use accelgen_compiler::PoolPlan;
use accelgen_sim::pool::run_pool;
use accelgen_sim::RunOptions;

fn unit(k: usize, n: usize, m: usize, w: usize) -> PoolUnitParams {
    PoolUnitParams {
        array: accelgen_config::PoolArray {
            rows_per_read: k,
            cols_per_update: n,
            retained_cols: m,
            max_window: w,
            feature_memory_depth: 4096,
        },
        fault: accelgen_hw::pool::PoolFault::None,
        fm_lanes: 1,
    }
}

fn random_input(rng: &mut Rng, c: usize, h: usize, w: usize) -> TensorI8 {
    Tensor::from_vec(&[c, h, w], (0..c * h * w).map(|_| rng.range(-128, 127) as i8).collect())
        .unwrap()
}

/// Runs on the unit, compares with golden, asserts zero violations; returns the stats.
fn check(
    u: &PoolUnitParams,
    input: &TensorI8,
    layer: &PoolLayer,
    divider: u32,
    what: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let case = Case { input: input.clone(), layer: Layer::Pool(layer.clone()), expected: None };
    let golden = case.golden().unwrap().to_i64();
    let opts = RunOptions { divider: Some(divider), ..Default::default() };
    let run = run_pool(u, &[1, 2, 3, 4], input, layer, &opts)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let c = accelgen_formats::compare(&run.output.to_i64(), &golden, 5);
    assert!(c.matches(), "{what}: {}", c.describe("unit vs golden"));
    assert_eq!(run.violations, 0, "{what}: {:?}", run.stats);
    for key in ["update_period_violations", "retained_mismatches", "column_rereads"] {
        assert_eq!(run.stats[key], 0, "{what}: {key}");
    }
    run.stats
}

#[test]
fn pool_unit_matches_golden_on_the_window_stride_mode_width_padding_sweep() {
    let mut rng = Rng::from_env("pool_sweep", 4);
    let mut runs = 0;
    for u in [unit(3, 1, 2, 3), unit(3, 2, 2, 3), unit(3, 3, 2, 3), unit(4, 4, 3, 4)] {
        let n = u.cols_per_update;
        for kh in 1..=u.max_window {
            for kw in 1..=u.max_window {
                for sh in 1..=kh {
                    for sw in 1..=kw {
                        let mode = if (kh + kw + sh + sw) % 2 == 0 { PoolMode::Max } else { PoolMode::Avg };
                        let pad = [(kh >= 2 && rng.below(2) == 0) as usize, (kw >= 2 && rng.below(2) == 0) as usize];
                        // Width: cycle through every residue of the padded width mod n.
                        let w = kw + (runs % n) + rng.below(3) as usize;
                        let h = kh + rng.below(3) as usize;
                        let c = if runs % 3 == 0 { 3 } else { 1 };
                        let input = random_input(&mut rng, c, h, w);
                        let layer = PoolLayer {
                            mode,
                            params: PoolParams::new([kh, kw], [sh, sw], pad),
                        };
                        let what = format!(
                            "unit k{} n{} m{}: {mode:?} {kh}x{kw}/{sh}x{sw} pad {pad:?} on {c}x{h}x{w}",
                            u.rows_per_read, n, u.retained_cols
                        );
                        let stats = check(&u, &input, &layer, 1, &what);
                        assert_eq!(stats["enabled_cycles"], stats["model_enabled_cycles"], "{what}");
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 100, "{runs} runs");
}

#[test]
fn pool_results_are_identical_at_every_divider() {
    let mut rng = Rng::from_env("pool_dividers", 9);
    let u = unit(3, 2, 2, 3);
    for (mode, k, s, p) in [(PoolMode::Max, 3, 2, 1), (PoolMode::Avg, 3, 1, 1), (PoolMode::Avg, 2, 2, 0)] {
        let input = random_input(&mut rng, 2, 7, 9);
        let layer = PoolLayer {
            mode,
            params: PoolParams::new([k, k], [s, s], [p, p]),
        };
        let base = check(&u, &input, &layer, 1, "divider 1");
        for d in [2u32, 3, 4] {
            let stats = check(&u, &input, &layer, d, &format!("divider {d}"));
            // The same work in the same number of enabled cycles, spread over d times as many.
            assert_eq!(stats["enabled_cycles"], base["enabled_cycles"]);
            let (cyc, en) = (stats["cycles"].as_u64().unwrap(), base["cycles"].as_u64().unwrap());
            assert!(cyc > (en - 1) * d as u64 && cyc <= en * d as u64, "divider {d}: {cyc} vs {en}");
        }
    }
}

#[test]
fn an_unconfigured_divider_is_refused() {
    let u = unit(3, 2, 2, 3);
    let input = Tensor::from_vec(&[1, 2, 2], vec![1, 2, 3, 4]).unwrap();
    let layer = PoolLayer { mode: PoolMode::Max, params: PoolParams::new([2, 2], [2, 2], [0, 0]) };
    let opts = RunOptions { divider: Some(8), ..Default::default() };
    let err = run_pool(&u, &[1, 2, 4], &input, &layer, &opts).unwrap_err();
    assert_eq!(err.to_string(), "--divider 8 is not one of the configured pool_clock.dividers [1, 2, 4]");
}

#[test]
fn overlapping_windows_never_re_read_a_column_within_a_row_band() {
    let mut rng = Rng::new(5);
    let u = unit(3, 4, 2, 3);
    // No padding, H = 2·Ho + 1 rows: each band of 3 rows reads each of its columns once, so the
    // values read are exactly bands · 3 · W; the naive window re-reading figure is 9/4 per input.
    let (c, h, w) = (2, 9, 12);
    let input = random_input(&mut rng, c, h, w);
    let layer = PoolLayer { mode: PoolMode::Max, params: PoolParams::new([3, 3], [2, 2], [0, 0]) };
    let stats = check(&u, &input, &layer, 1, "3x3/2");
    let ho = 4;
    assert_eq!(stats["feature_reads"], (c * ho * w) as u64, "one read per column per band");
    let expected = (c * ho * 3 * w) as f64 / (c * h * w) as f64;
    assert!((stats["reads_per_input"].as_f64().unwrap() - expected).abs() < 1e-3);
    assert_eq!(stats["naive_reads_per_input"], 2.25);
    let plan = PoolPlan::new(&u, &[c, h, w], &layer).unwrap();
    assert_eq!(stats["enabled_cycles"], plan.enabled_cycles(&u));
}

#[test]
fn pool_unit_matches_every_committed_pool_vector_at_every_divider() {
    let cfg = accelgen_config::Preset::Tiny.config();
    let u = PoolUnitParams::from_config(&cfg.pooling);
    let files = accelgen_formats::vector_files();
    let mut n = 0;
    for f in files {
        let case = Case::load(&f).unwrap();
        let Layer::Pool(pool) = &case.layer else { continue };
        let expected = case.expected.clone().unwrap();
        for &d in &cfg.pool_clock.dividers {
            let opts = RunOptions { divider: Some(d), ..Default::default() };
            let run = run_pool(&u, &cfg.pool_clock.dividers, &case.input, pool, &opts).unwrap();
            let c = accelgen_formats::compare(&run.output.to_i64(), &expected, 5);
            assert!(c.matches(), "{} at divider {d}: {}", f.display(), c.describe("unit vs numpy"));
            assert_eq!(run.violations, 0, "{} at divider {d}", f.display());
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} pooling vectors");
}

/// One-column row bands (n = 1 and a one-column output): each band's only read is also its last,
/// so the unit waits one enabled cycle for the next band's registered row masks. Padded rows at
/// the top and bottom make the masks differ from band to band; the cycle model counts the wait.
#[test]
fn one_column_bands_wait_for_their_row_masks() {
    let mut rng = Rng::from_env("pool_one_column", 21);
    for u in [unit(2, 1, 1, 2), unit(3, 1, 2, 3), unit(3, 2, 2, 3)] {
        for (kh, sh, ph, w) in [(1, 1, 0, 1), (2, 1, 1, 1), (3, 2, 1, 1), (3, 1, 1, 2), (2, 2, 0, 3)] {
            if kh > u.max_window {
                continue;
            }
            let input = random_input(&mut rng, 2, 5, w);
            for mode in [PoolMode::Max, PoolMode::Avg] {
                let layer = PoolLayer {
                    mode,
                    params: PoolParams::new([kh, 1], [sh, 1], [ph, 0]),
                };
                let what = format!("n{} {mode:?} {kh}x1/{sh} pad {ph} on 2x5x{w}", u.cols_per_update);
                let stats = check(&u, &input, &layer, 1, &what);
                assert_eq!(stats["enabled_cycles"], stats["model_enabled_cycles"], "{what}");
                let slow = check(&u, &input, &layer, 3, &what);
                assert_eq!(slow["enabled_cycles"], stats["enabled_cycles"], "{what}");
            }
        }
    }
}
