//! Pooling clock planner (patents.md §4): for each pooling layer of a network, the slowest clock
//! divider from the configured set with which pooling still finishes within the cycles of its
//! convolution layer.
//!
//! - T is the cycle count of the associated convolution layer (the nearest `conv2d` before the
//!   pooling layer) from the conv engine's cycle model, which the tests hold equal to the engine's
//!   simulation. The budget is the part of T the pooling unit can run beside the convolution on
//!   `accel_top` (`compiler`): a pooling layer fused with its convolution layer in n bands starts
//!   when the first band's output is there, so its budget is T·(n − 1)/n; one that is not fused
//!   (the convolution layer has several output-channel groups) waits for the whole output. With no
//!   time beside the convolution (n = 1, or not fused; `overlaps` false) pooling only adds to the
//!   network's time, so it runs at full rate (d = 1); the patent's rule applies where the two
//!   run side by side.
//! - The pooling unit needs E enabled cycles at any divider ([`PoolPlan::enabled_cycles`], equal to
//!   its simulation); at divider d it takes E·d cycles. The chosen divider is the largest d with
//!   E·d ≤ budget; when even d = 1 misses it, d = 1 and the row says so.
//! - The divider is applied only when the convolution layer is done and the unit is idle, and only
//!   when it differs from the one in force (`switch`).
//! - *Enabled cycles saved*: over the convolution layer's T cycles, a unit at full rate has its
//!   clock enable high in all T cycles (it finishes and idles, still enabled); at divider d the
//!   enable is high in ceil(T/d) of them. The difference is the register clocking the plan avoids.

use crate::conv_plan::ConvPlan;
use crate::cycle_model::{conv_cycles, cycle_estimate};
use crate::pool_plan::PoolPlan;

use accelgen_config::HwConfig;
use accelgen_formats::{Layer, Network};

/// The plan of one pooling layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolClockRow {
    /// Index of the pooling layer in the network.
    pub layer: usize,
    /// `maxpool2d` or `avgpool2d`.
    pub op: &'static str,
    /// Index of the associated convolution layer, if any precedes it.
    pub conv_layer: Option<usize>,
    /// T: that convolution layer's cycles (None without one).
    pub conv_cycles: Option<u64>,
    /// The budget the divider is chosen for: T·(n − 1)/n when fused with n conv bands, else 0.
    pub budget: Option<u64>,
    /// The budget is not zero: pooling runs beside its convolution layer (else at full rate).
    pub overlaps: bool,
    /// E: pooling cycles at full rate (divider 1).
    pub pool_cycles_full: u64,
    /// Chosen divider.
    pub divider: u32,
    /// Pooling cycles at the chosen divider, E·d.
    pub pool_cycles: u64,
    /// T − ceil(T/d).
    pub enabled_cycles_saved: u64,
    /// E·d ≤ budget (true when no convolution precedes; false when nothing overlaps).
    pub meets: bool,
    /// The divider differs from the one in force before this layer (a switch happens).
    pub switch: bool,
}

/// The largest divider d in `dividers` with `full·d ≤ budget`, and whether one exists (if not, 1).
pub fn choose_divider(full: u64, budget: u64, dividers: &[u32]) -> (u32, bool) {
    dividers
        .iter()
        .copied()
        .filter(|&d| full * d as u64 <= budget)
        .max()
        .map_or((1, false), |d| (d, true))
}

/// The share of its convolution layer's time T that a fused pooling layer's last band, which
/// pools after the convolution, may take at a divider d > 1: E·d/n ≤ T/16 (docs/pooling.md).
pub const TAIL_SHARE: u64 = 16;

/// The budget of a pooling layer fused with its convolution layer of T cycles in `n` bands, for
/// E·d at full-rate enabled cycles E (`full`): the time beside the bands after the first,
/// T·(n − 1)/n, and a last band of at most T/[`TAIL_SHARE`] at a slower rate (at full rate it
/// may take longer: a slower rate would only add to it); 0 for one band or a layer that is not
/// fused (`n` = 0).
pub fn fused_budget(t: u64, n: u64, full: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    (t * (n - 1) / n).min(full.max(t * n / TAIL_SHARE))
}

/// Most clock periods the cycle model is asked to step through for one network, all its conv
/// layers together (about 25 s of stepping at 200 million modelled cycles per second; a VGG-16
/// layer needs under 10^8).
pub const MAX_MODEL_CYCLES: u64 = 5_000_000_000;

/// Refuses, before any layer is modelled, a network whose conv layers together would step the
/// cycle model through more than [`MAX_MODEL_CYCLES`] clock periods (each layer's estimate is
/// the closed-form one; a chain of layers that are each within the limit is refused here).
fn check_model_work(net: &Network, cfg: &HwConfig) -> Result<(), String> {
    let e = cfg.conv_array();
    let mut total = 0u64;
    for (i, layer) in net.layers.iter().enumerate() {
        if let Layer::Conv(c) = layer {
            let path = format!("layers[{i}]");
            let plan = ConvPlan::for_layer(&e, net.input_shape(i), c).map_err(|err| format!("{path}: {err}"))?;
            let estimate = cycle_estimate(&e, &plan);
            total = total.saturating_add(estimate);
            if total > MAX_MODEL_CYCLES {
                return Err(format!(
                    "{path}: the conv layers up to this one take about {total} clock periods on this configuration \
                     (this one {estimate}), more than the {MAX_MODEL_CYCLES} the cycle model evaluates for a network"
                ));
            }
        }
    }
    Ok(())
}

/// Plans every pooling layer of `net` on the configured hardware.
pub fn plan_clock(net: &Network, cfg: &HwConfig) -> Result<Vec<PoolClockRow>, String> {
    check_model_work(net, cfg)?;
    let e = cfg.conv_array();
    let u = cfg.pool_array();
    let dividers = &cfg.pool_clock.dividers;
    let mut rows = vec![];
    // The last conv layer: index, cycles, and the bands a pooling layer right after it is fused
    // with (0: not fused).
    let mut last_conv: Option<(usize, u64, u64)> = None;
    let mut in_force = 1u32;
    for (i, layer) in net.layers.iter().enumerate() {
        let input = net.input_shape(i);
        let path = format!("layers[{i}]");
        match layer {
            Layer::Conv(c) => {
                let plan = ConvPlan::for_layer(&e, input, c).map_err(|err| format!("{path}: {err}"))?;
                let t = conv_cycles(&e, &plan).cycles;
                // Fused pooling (one output group, n bands and their column tiles): the first
                // band's time is lost; not fused, pooling waits for the whole output.
                let bands = match crate::layout::conv_layer_tiling(cfg, net, i, plan.clone(), &path) {
                    Ok(ct) if ct.oc_groups() == 1 => (plan.ho.div_ceil(ct.band.max(1)) * ct.col_tiles()) as u64,
                    _ => 0,
                };
                last_conv = Some((i, t, bands));
            }
            Layer::Pool(p) => {
                let plan = PoolPlan::geometry(&u, input, p).map_err(|err| format!("{path}: {err}"))?;
                let full = plan.enabled_cycles(&u);
                // The budget beside the conv layer's bands: the conv layer right before, when
                // this layer reads its output and nothing else does.
                let conv = last_conv.filter(|&(j, ..)| j + 1 == i && net.feeds_only_next(j)).map(|(j, t, n)| (j, t, fused_budget(t, n, full)));
                let (divider, meets) = match conv {
                    Some((_, _, budget)) => choose_divider(full, budget, dividers),
                    None => (1, true),
                };
                let saved = conv.map_or(0, |(_, t, _)| t - t.div_ceil(divider as u64));
                rows.push(PoolClockRow {
                    layer: i,
                    op: layer.op(),
                    conv_layer: conv.map(|(j, _, _)| j),
                    conv_cycles: conv.map(|(_, t, _)| t),
                    budget: conv.map(|(_, _, b)| b),
                    overlaps: conv.is_some_and(|(_, _, b)| b > 0),
                    pool_cycles_full: full,
                    divider,
                    pool_cycles: full * divider as u64,
                    enabled_cycles_saved: saved,
                    meets,
                    switch: divider != in_force,
                });
                in_force = divider;
                // A pooling layer consumes its convolution layer's time budget.
                last_conv = None;
            }
            // An add joins its conv layer's output stage (docs/accelerator.md): no pooling budget.
            Layer::Add(_) => last_conv = None,
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_divider_takes_the_slowest_rate_that_meets_the_budget() {
        let d = [1, 2, 4, 8];
        assert_eq!(choose_divider(100, 450, &d), (4, true)); // 400 ≤ 450 < 800
        assert_eq!(choose_divider(100, 400, &d), (4, true)); // equality meets
        assert_eq!(choose_divider(100, 399, &d), (2, true));
        assert_eq!(choose_divider(100, 800, &d), (8, true));
        assert_eq!(choose_divider(100, 100_000, &d), (8, true)); // no slower rate exists
        assert_eq!(choose_divider(100, 99, &d), (1, false)); // even full rate misses
        assert_eq!(choose_divider(10, 35, &[1, 3]), (3, true));
    }
}
