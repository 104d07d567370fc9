//! The pooling clock planner on a hand-computed example, cross-checked against the simulations of
//! both engines: the conv engine's simulated cycles are T; on accel_top this one-band layer leaves
//! pooling no time beside it (full rate); where the two run side by side, the pooling unit at the
//! rule's divider finishes within T, with results identical to full rate.

use accelgen_config::Preset;
use accelgen_formats::{ConvLayer, Layer, Network, PoolLayer, Source, TensorField};
use accelgen_golden::{ConvParams, PoolMode, PoolParams, Requant};
use accelgen_hw::pe::ConvEngineParams;
use accelgen_hw::pool::PoolUnitParams;
use accelgen_golden::testutil::Rng;
use accelgen_compiler::planner::plan_clock;
use accelgen_sim::{conv::run_conv, pool::run_pool, RunOptions};

#[test]
fn planner_picks_the_slowest_divider_that_fits_the_simulated_conv_time() {
    let cfg = Preset::Tiny.config();
    let mut rng = Rng::from_env("planner", 12);
    // Two input channels: 18 (channel, tap) pairs would take 9 tap groups on tiny's 2 PE rows, as
    // many passes as the plain plan, so the layer runs as the standalone engine runs it.
    let input_data: Vec<i8> = (0..128).map(|_| rng.range(-128, 127) as i8).collect();
    let weight: Vec<i8> = (0..72).map(|_| rng.range(-128, 127) as i8).collect();
    let conv = ConvLayer {
        weight: TensorField { shape: vec![4, 2, 3, 3], data: Some(weight) },
        bias: None,
        params: ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 },
        requant: Some(Requant { multiplier: 900, shift: 12, zero_point: 0, relu: true, ort: None }),
        channel_scales: None,
    };
    let pool = PoolLayer {
        mode: PoolMode::Max,
        params: PoolParams::new([2, 2], [2, 2], [0, 0]),
    };
    let net = Network {
        input: TensorField { shape: vec![2, 8, 8], data: Some(input_data.clone()) },
        layers: vec![Layer::Conv(conv.clone()), Layer::Pool(pool.clone()), Layer::Pool(pool.clone())],
        sources: vec![vec![Source::Input], vec![Source::Layer(0)], vec![Source::Layer(1)]],
        shapes: vec![vec![2, 8, 8], vec![4, 8, 8], vec![4, 4, 4], vec![4, 2, 2]],
        expected: None,
    };
    let rows = plan_clock(&net, &cfg).unwrap();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    // By hand: 4 channels × 4 row bands × 8 padded columns (Wo = 4 windows of 2 at stride 2 end at
    // column 7; 8 is a multiple of n = 2) + n + 16 pipeline cycles (three priming the row masks, the
    // read data's landing register, the first-level stage, two window stages, four divider stages,
    // the output register and the finishing countdown among them).
    assert_eq!(r.pool_cycles_full, 4 * 4 * 8 + 2 + 16);
    // The budget is the conv engine's simulated cycle count.
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let input = accelgen_golden::Tensor::from_vec(&[2, 8, 8], input_data).unwrap();
    let conv_run = run_conv(&e, &input, &conv, &RunOptions::default()).unwrap();
    let t = conv_run.stats["cycles"].as_u64().unwrap();
    assert_eq!(r.conv_cycles, Some(t));
    // On accel_top the pooling layer runs beside the conv layer's bands when the compiler splits
    // it (n bands, one output group): it can start after the first band, and its last band, which
    // pools after the convolution, may take T/16 at a divider slower than full rate (planner::fused_budget); one band
    // leaves no budget and full rate.
    let plan = accelgen_compiler::ConvPlan::for_layer(&cfg.conv_array(), &[2, 8, 8], &conv).unwrap();
    let ct = accelgen_compiler::tiling::conv_tiling(&cfg.conv_array(), plan, "conv", 2, false, None, cfg.first_cache_lanes()).unwrap();
    let n = 8u64.div_ceil(ct.band as u64);
    let budget = if n > 1 { (t * (n - 1) / n).min(r.pool_cycles_full.max(t * n / 16)) } else { 0 };
    assert_eq!(r.budget, Some(budget), "{n} bands");
    let (d_top, meets_top) = accelgen_compiler::planner::choose_divider(r.pool_cycles_full, budget, &cfg.pool_clock.dividers);
    assert_eq!((r.divider, r.overlaps, r.meets), (d_top, budget > 0, budget > 0 && meets_top), "{n} bands");
    assert_eq!(r.switch, d_top != 1);
    // The patent's rule where the two run side by side (the block testbenches): the slowest
    // configured divider (tiny: 1, 2, 4) whose E·d fits T.
    let want = [1u32, 2, 4].into_iter().filter(|&d| 146 * d as u64 <= t).max().unwrap_or(1);
    let (d, meets) = accelgen_compiler::planner::choose_divider(r.pool_cycles_full, t, &cfg.pool_clock.dividers);
    assert_eq!(d, want, "T = {t}");
    assert!(meets && want > 1, "T = {t} leaves room for a slower rate");
    // The pooling unit at that divider finishes within T, with the same results as at full rate.
    let u = PoolUnitParams::from_config(&cfg.pooling);
    let pooled_input = conv_run.output.as_i8().unwrap().clone();
    let full = run_pool(&u, &cfg.pool_clock.dividers, &pooled_input, &pool, &RunOptions::default()).unwrap();
    let slow = run_pool(
        &u,
        &cfg.pool_clock.dividers,
        &pooled_input,
        &pool,
        &RunOptions { divider: Some(d), ..Default::default() },
    )
    .unwrap();
    assert_eq!(full.output, slow.output);
    assert!(slow.stats["cycles"].as_u64().unwrap() <= t);
    assert_eq!(full.stats["enabled_cycles"], r.pool_cycles_full);
    // A pooling layer right after another pooling layer has no convolution time to fill.
    let r2 = &rows[1];
    assert_eq!((r2.conv_layer, r2.divider, r2.enabled_cycles_saved), (None, 1, 0));
    // It switches back to full rate where the layer before ran slower.
    assert_eq!(r2.switch, r.divider != 1, "divider {} was in force", r.divider);
}
