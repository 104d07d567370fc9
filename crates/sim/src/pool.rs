//! The pooling unit's host driver and testbench: lays the input out in the banked feature memory,
//! loads it through the unit's port, applies the clock divider through the `conv_done` event, runs
//! the layer, collects the output stream, and checks the window-register-file invariants every
//! cycle.

use crate::{HwRun, RunError, RunOptions};
use accelgen_compiler::PoolPlan;
use accelgen_formats::{Output, PoolLayer};
use accelgen_golden::{PoolMode, Tensor, TensorI8};
use accelgen_hw::pool::{PoolUnit, PoolUnitParams};
use crate::tb::{Sig, Tb};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// The unit's signals the driver uses, resolved once.
struct PoolSigs {
    ld_we: Sig,
    ld_bank: Sig,
    ld_addr: Sig,
    ld_data: Sig,
    p_div: Sig,
    conv_done: Sig,
    start: Sig,
    done: Sig,
    enable: Sig,
    div_now: Sig,
    out_valid: Sig,
    out_idx: Sig,
    out_data: Sig,
    ce: Sig,
    run: Sig,
    reads_done: Sig,
    rd_x: Sig,
    m_valid: Sig,
    m_updend: Sig,
    m_bandfirst: Sig,
    ld_pending: Sig,
    /// Per region column: holds current-band data, and its k values.
    rvalid: Vec<Sig>,
    region: Vec<Vec<Sig>>,
    /// Per feature-memory bank: read enable and address.
    bank_ren: Vec<Sig>,
    bank_raddr: Vec<Sig>,
}

impl PoolSigs {
    fn new(tb: &Tb, u: &PoolUnitParams) -> Result<PoolSigs, String> {
        let s = |n: &str| tb.sig(n);
        let k = u.rows_per_read;
        let mn = u.retained_cols + u.cols_per_update;
        Ok(PoolSigs {
            ld_we: s("ld_we")?,
            ld_bank: s("ld_bank")?,
            ld_addr: s("ld_addr")?,
            ld_data: s("ld_data")?,
            p_div: s("p_div")?,
            conv_done: s("conv_done")?,
            start: s("start")?,
            done: s("done")?,
            enable: s("enable")?,
            div_now: s("div_now")?,
            out_valid: s("out_valid")?,
            out_idx: s("out_idx")?,
            out_data: s("out_data")?,
            ce: s("ce")?,
            run: s("running")?,
            reads_done: s("reader__reads_done")?,
            rd_x: s("reader__rd_x")?,
            m_valid: s("region__arrive")?,
            m_updend: s("region__update_end")?,
            m_bandfirst: s("region__band_first")?,
            ld_pending: s("region__pending")?,
            rvalid: (0..mn).map(|j| s(&format!("region__valid__{j}"))).collect::<Result<_, _>>()?,
            region: (0..mn)
                .map(|j| (0..k).map(|r| s(&format!("region__value__{}", j * k + r))).collect::<Result<_, _>>())
                .collect::<Result<_, _>>()?,
            bank_ren: (0..k).map(|b| s(&format!("banks__{b}__r_en"))).collect::<Result<_, _>>()?,
            bank_raddr: (0..k).map(|b| s(&format!("banks__{b}__r_addr"))).collect::<Result<_, _>>()?,
        })
    }
}

/// Loads the feature memory through the unit's port (padded row ρ = y + ph in bank ρ mod k,
/// entry (c·hb + ρ div k)·W + x) and sets the layer's parameter registers; returns the load
/// cycles.
fn load_layer(tb: &mut Tb, sg: &PoolSigs, u: &PoolUnitParams, plan: &PoolPlan, input: &TensorI8, layer: &PoolLayer) -> Result<u64, String> {
    let k = u.rows_per_read;
    let mut load_cycles = 0u64;
    for c in 0..plan.c {
        for y in 0..plan.h {
            let rho = y + plan.padding[0];
            for x in 0..plan.w {
                tb.poke(sg.ld_we, 1);
                tb.poke(sg.ld_bank, 1u64 << (rho % k));
                tb.poke(sg.ld_addr, ((c * plan.hb + rho / k) * plan.w + x) as u64);
                tb.poke(sg.ld_data, input.data[(c * plan.h + y) * plan.w + x] as u8 as u64);
                tb.step()?;
                load_cycles += 1;
            }
        }
    }
    tb.poke(sg.ld_we, 0);
    let params: [(&str, usize); 15] = [
        ("p_c", plan.c),
        ("p_h", plan.h),
        ("p_w", plan.w),
        ("p_ho", plan.ho),
        ("p_wo", plan.wo),
        ("p_kh", plan.kernel[0]),
        ("p_kw", plan.kernel[1]),
        ("p_sh", plan.stride[0]),
        ("p_sw", plan.stride[1]),
        ("p_ph", plan.padding[0]),
        ("p_pw", plan.padding[1]),
        ("p_hbw", plan.hb * plan.w),
        ("p_xcols", plan.xcols),
        ("p_count", plan.kernel[0] * plan.kernel[1]),
        ("p_avg", usize::from(layer.mode == PoolMode::Avg)),
    ];
    for (name, v) in params {
        let s = tb.sig(name)?;
        tb.poke(s, v as u64);
    }
    Ok(load_cycles)
}

/// The invariant checks and counters of a running unit, observed every clock period before the
/// edge.
#[derive(Default)]
struct PoolMonitor {
    /// Each output as it left the unit.
    out: Vec<Option<i64>>,
    /// The divider in force at the start; a change while running is counted.
    div_now: u32,
    update_period_violations: u64,
    retained_mismatches: u64,
    column_rereads: u64,
    column_reads: u64,
    enabled: u64,
    windows: u64,
    bank_reads: u64,
    /// Outputs written twice or outside the tensor (counted, so a faulty unit's stats are seen).
    output_faults: u64,
    div_changes: u64,
    /// (bank, address) pairs read in the current row band.
    band_reads: HashSet<(usize, u64)>,
    shifts_in_update: usize,
    band_shifts: usize,
    prev_region: Option<Vec<Vec<u8>>>,
}

impl PoolMonitor {
    fn observe(&mut self, tb: &mut Tb, sg: &PoolSigs, u: &PoolUnitParams) {
        let (k, n, m) = (u.rows_per_read, u.cols_per_update, u.retained_cols);
        if tb.peek(sg.div_now) as u32 != self.div_now {
            self.div_changes += 1;
        }
        if tb.is_set(sg.enable) {
            self.enabled += 1;
        }
        // Memory reads as the banks see them; a row band starts at the read of column 0.
        let ce = tb.is_set(sg.ce);
        let reading = ce && tb.is_set(sg.run) && !tb.is_set(sg.reads_done);
        if reading && tb.peek(sg.rd_x) == 0 {
            self.band_reads.clear();
        }
        for b in 0..k {
            if tb.is_set(sg.bank_ren[b]) {
                self.bank_reads += 1;
                if !self.band_reads.insert((b, tb.peek(sg.bank_raddr[b]))) {
                    self.column_rereads += 1;
                }
            }
        }
        if tb.is_set(sg.out_valid) {
            self.windows += 1;
            let idx = tb.peek(sg.out_idx) as usize;
            let v = tb.peek(sg.out_data) as u8 as i8 as i64;
            match self.out.get_mut(idx) {
                Some(slot @ None) => *slot = Some(v),
                Some(Some(_)) | None => self.output_faults += 1,
            }
        }
        // Column reads: cycles in which the read stage fetches a column inside the map.
        // (Any bank self.enabled: a bubble cycle of a one-column band reads nothing.)
        if (0..k).any(|b| tb.is_set(sg.bank_ren[b])) {
            self.column_reads += 1;
        }
        // The kernel's copy (it reads the region before this cycle's shift): after s shifts in
        // the band exactly the last min(s, m + n) columns hold band data (the retained ones are
        // marked invalid at a band start), and each valid retained column j < m equals column
        // n + j of the previous copy.
        if ce && tb.is_set(sg.ld_pending) {
            let cols: Vec<(Vec<u8>, bool)> = (0..m + n)
                .map(|j| {
                    let vals = sg.region[j].iter().map(|&s| tb.peek(s) as u8).collect();
                    (vals, tb.is_set(sg.rvalid[j]))
                })
                .collect();
            let valid_from = (m + n).saturating_sub(self.band_shifts);
            for (j, c) in cols.iter().enumerate() {
                let stale = j < m && c.1 && self.prev_region.as_ref().is_none_or(|p: &Vec<Vec<u8>>| c.0 != p[n + j]);
                if c.1 != (j >= valid_from) || stale {
                    self.retained_mismatches += 1;
                }
            }
            self.prev_region = Some(cols.into_iter().map(|c| c.0).collect());
        }
        // Update period: exactly n column shifts per update.
        if ce && tb.is_set(sg.m_valid) {
            if tb.is_set(sg.m_bandfirst) {
                self.shifts_in_update = 0;
                self.band_shifts = 0;
            }
            self.shifts_in_update += 1;
            self.band_shifts += 1;
            if tb.is_set(sg.m_updend) {
                if self.shifts_in_update != n {
                    self.update_period_violations += 1;
                }
                self.shifts_in_update = 0;
            }
        }
    }
}

/// Most clock periods of a pooling run on rust-hdl (minutes) and on the Verilator engine.
pub const MAX_PERIODS_RUST: u64 = 20_000_000;
/// See [`MAX_PERIODS_RUST`].
pub const MAX_PERIODS_VERILATOR: u64 = 1_000_000_000;

/// Runs a pooling case on the unit at clock divider `opts.divider` (default 1).
pub fn run_pool(
    u: &PoolUnitParams,
    dividers: &[u32],
    input: &TensorI8,
    layer: &PoolLayer,
    opts: &RunOptions,
) -> Result<HwRun, RunError> {
    let plan = PoolPlan::new(u, &input.shape, layer).map_err(RunError::Unsupported)?;
    let div = opts.divider.unwrap_or(1);
    if !dividers.contains(&div) {
        return Err(RunError::Unsupported(format!(
            "--divider {div} is not one of the configured pool_clock.dividers {dividers:?}"
        )));
    }
    // Refuse, before building anything, a run longer than the engine's limit.
    let periods = (plan.c * plan.h * plan.w) as u64 + (plan.enabled_cycles(u) + 64) * u64::from(div);
    let limit = if opts.engine == crate::engines::Engine::Verilator { MAX_PERIODS_VERILATOR } else { MAX_PERIODS_RUST };
    if periods > limit {
        return Err(RunError::Unsupported(format!(
            "this case needs about {periods} clock periods at divider {div}, more than the {limit} allowed on the {} engine",
            opts.engine.name()
        )));
    }
    let sim = RunError::Sim;
    let mut tb = opts.testbench(|| PoolUnit::new(u), "pool_unit", &format!("{u:?}"))?;
    let sg = PoolSigs::new(&tb, u).map_err(sim)?;
    let load_cycles = load_layer(&mut tb, &sg, u, &plan, input, layer).map_err(sim)?;
    // ---- The divider changes only on the convolution-done event while idle.
    tb.poke(sg.p_div, u64::from(div));
    tb.poke(sg.conv_done, 1);
    tb.step().map_err(sim)?;
    tb.poke(sg.conv_done, 0);
    tb.step().map_err(sim)?;
    let div_now = tb.peek(sg.div_now) as u32;
    if div_now.max(1) != div {
        return Err(RunError::Sim(format!("divider {div} not applied (unit shows {div_now})")));
    }
    // ---- Run. The host then writes another divider into the register: it must not take effect
    // before the next convolution-done event (counted by `divider_changes_while_running`).
    tb.poke(sg.start, 1);
    tb.step().map_err(sim)?;
    tb.poke(sg.start, 0);
    if let Some(&other) = dividers.iter().find(|&&d| d != div) {
        tb.poke(sg.p_div, u64::from(other));
    }
    let t0 = tb.cycles();
    let n_out = plan.c * plan.ho * plan.wo;
    let bound = (plan.enabled_cycles(u) + 64) * div as u64 * 2;
    tb.expect_periods(|| t0 + plan.enabled_cycles(u) * div as u64, "pooling unit");
    let mut mon = PoolMonitor { out: vec![None; n_out], div_now, ..Default::default() };
    loop {
        if tb.is_set(sg.done) {
            break;
        }
        if tb.cycles() - t0 > bound {
            return Err(RunError::Sim(format!(
                "no done after {bound} cycles: the unit hung; stopped at clock period {}",
                tb.cycles()
            )));
        }
        mon.observe(&mut tb, &sg, u);
        tb.step().map_err(sim)?;
    }
    let PoolMonitor {
        out,
        update_period_violations,
        retained_mismatches,
        column_rereads,
        column_reads,
        enabled,
        windows,
        bank_reads,
        output_faults,
        div_changes,
        ..
    } = mon;
    let missing = out.iter().filter(|o| o.is_none()).count() as u64;
    let cycles = tb.cycles() - t0;
    let data = out.into_iter().map(|o| o.unwrap_or(0) as i8).collect();
    let output = Output::I8(Tensor::from_vec(&[plan.c, plan.ho, plan.wo], data).expect("shape"));
    let inputs = (plan.c * plan.h * plan.w) as f64;
    let mut stats = Map::new();
    let mut put = |key: &str, v: Value| {
        stats.insert(key.to_string(), v);
    };
    put("cycles", json!(cycles));
    put("feature_reads", json!(column_reads));
    put("bank_reads", json!(bank_reads));
    put("reads_per_input", json!((bank_reads as f64 / inputs * 10000.0).round() / 10000.0));
    put("windows_per_cycle", json!((windows as f64 / cycles as f64 * 10000.0).round() / 10000.0));
    put("update_period_violations", json!(update_period_violations));
    put("retained_mismatches", json!(retained_mismatches));
    put("column_rereads", json!(column_rereads));
    put("divider", json!(div));
    put("enabled_cycles", json!(enabled));
    put("model_enabled_cycles", json!(plan.enabled_cycles(u)));
    put("naive_reads_per_input", json!(
        ((plan.kernel[0] * plan.kernel[1]) as f64 / (plan.stride[0] * plan.stride[1]) as f64 * 10000.0)
            .round() / 10000.0
    ));
    put("load_cycles", json!(load_cycles));
    put("divider_changes_while_running", json!(div_changes));
    put("output_faults", json!(output_faults));
    put("outputs_missing", json!(missing));
    let violations =
        update_period_violations + retained_mismatches + column_rereads + div_changes + output_faults + missing;
    tb.report(&mut stats, opts.timing);
    let trace = tb.take_trace();
    tb.finish().map_err(RunError::Unsupported)?;
    opts.check_engine(|| PoolUnit::new(u), "pool_unit", trace, &mut stats)?;
    Ok(HwRun { output, stats, violations })
}
