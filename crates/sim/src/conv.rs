//! The conv engine's host driver and testbench: lays a `conv2d` case out for the hardware (the
//! compiler's job in the integrated accelerator), loads it through the engine's ports, runs it,
//! reads the outputs from the output port, and checks the PE-array invariants on every cycle.

use crate::{HwRun, RunError, RunOptions};
use accelgen_compiler::cycle_model::{conv_cycles, cycle_estimate};
use accelgen_compiler::dw_plan::DwPlan;
use accelgen_compiler::ConvPlan;
use accelgen_config::ConvArray;
use accelgen_formats::{ConvLayer, Output};
use accelgen_golden::{Tensor, TensorI8};
use accelgen_hw::pe::{ConvEngine, ConvEngineParams};
use crate::tb::{Sig, Tb};
use accelgen_hw::pe::{TAG_SWAP, TAG_VALID};
use serde_json::{json, Map, Value};

/// Invariant counters checked by the testbench on every cycle.
#[derive(Clone, Debug, Default)]
struct Invariants {
    cache_writes_outside_col0: u64,
    shift_chain_breaks: u64,
    kernel_use_violations: u64,
    first_cache_reads: u64,
    /// MACs the PEs performed on a datum read from the first cache (observed `mac` outputs).
    pe_macs: u64,
}

/// The engine's signals the driver uses, resolved once.
struct ConvSigs {
    ld_we: Sig,
    ld_target: Sig,
    ld_rowsel: Sig,
    ld_addr: Sig,
    ld_data: Sig,
    start: Sig,
    done: Sig,
    rd_en: Sig,
    rd_bank: Sig,
    rd_addr: Sig,
    rd_data: Sig,
    strobe: Sig,
    /// Per row: first-cache read enable, datum into PE (r, 0).
    bank_ren: Vec<Sig>,
    row_in: Vec<Sig>,
    /// Per PE (row-major): data input, input register and its tag, the weight multiplied this
    /// cycle, and whether this cycle's product is a MAC on a real datum.
    x_in: Vec<Sig>,
    x: Vec<Sig>,
    tag: Vec<Sig>,
    w_used: Vec<Sig>,
    mac: Vec<Sig>,
}

impl ConvSigs {
    fn new(tb: &Tb, e: &ConvEngineParams) -> Result<ConvSigs, String> {
        let s = |n: &str| tb.sig(n);
        let per_pe = |port: &str| -> Result<Vec<Sig>, String> {
            (0..e.rows * e.cols).map(|i| tb.sig(&format!("pes__{i}__{port}"))).collect()
        };
        Ok(ConvSigs {
            ld_we: s("ld_we")?,
            ld_target: s("ld_target")?,
            ld_rowsel: s("ld_rowsel")?,
            ld_addr: s("ld_addr")?,
            ld_data: s("ld_data")?,
            start: s("start")?,
            done: s("done")?,
            rd_en: s("rd_en")?,
            rd_bank: s("rd_bank")?,
            rd_addr: s("rd_addr")?,
            rd_data: s("rd_data")?,
            strobe: s("strobe")?,
            bank_ren: (0..e.rows).map(|r| s(&format!("banks__{r}__r_en"))).collect::<Result<_, _>>()?,
            row_in: (0..e.rows)
                .map(|r| if r == 0 { s("row0_x") } else { s(&format!("skew__{}__x_out", r - 1)) })
                .collect::<Result<_, _>>()?,
            x_in: per_pe("x_in")?,
            x: per_pe("x_out")?,
            tag: per_pe("tag_out")?,
            w_used: per_pe("w_used")?,
            mac: per_pe("mac")?,
        })
    }
}

/// The plan of a layer run on the engine alone: the whole layer in one run, with the kernels
/// each PE uses, k, picked as the compiler picks them ([`ConvPlan::choose_kernels`]).
pub fn plan_conv(e: &ConvArray, input: &[usize], layer: &ConvLayer) -> Result<ConvPlan, String> {
    let plan = ConvPlan::choose_kernels(e, |ek| ConvPlan::geometry(ek, input, &layer.weight.shape, &layer.params).and_then(|p| p.fits(ek)))?;
    Ok(plan.with_requant(layer.requant.as_ref()))
}

/// Runs a conv2d case on the engine.
pub fn run_conv(
    e: &ConvEngineParams,
    input: &TensorI8,
    layer: &ConvLayer,
    opts: &RunOptions,
) -> Result<HwRun, RunError> {
    let plan = plan_conv(e, &input.shape, layer).map_err(RunError::Unsupported)?;
    run_conv_plan(e, input, layer, opts, plan)
}

/// Runs a conv2d case on the engine with the given plan (plain, with one or more column groups:
/// [`ConvPlan::with_groups`]; the standalone driver has no row groups or tap rows).
pub fn run_conv_plan(
    e: &ConvEngineParams,
    input: &TensorI8,
    layer: &ConvLayer,
    opts: &RunOptions,
    plan: ConvPlan,
) -> Result<HwRun, RunError> {
    if plan.row_view || plan.taps {
        return Err(RunError::Unsupported("the conv engine's own testbench runs plain plans (no row groups, no tap rows)".into()));
    }
    let weight = layer.weight.require("weight").map_err(RunError::Unsupported)?;
    let bias = match &layer.bias {
        Some(b) => Some(b.require("bias").map_err(RunError::Unsupported)?),
        None => None,
    };
    // The array as the run uses it: K = k (layouts, parameters, the monitor); the engine is
    // built with the configuration's K.
    let ev = ConvEngineParams { array: plan.array(e), ..*e };
    check_work(&ev, &plan, opts.engine)?;
    let sim = RunError::Sim;
    let mut tb = opts.testbench(|| ConvEngine::new(e), "conv_engine", &format!("{e:?}"))?;
    let e = &ev;
    let sg = ConvSigs::new(&tb, e).map_err(sim)?;

    let load_cycles = load_buffers(&mut tb, &sg, e, &plan, input, &weight, bias.as_ref(), layer.channel_scales.as_deref()).map_err(sim)?;

    set_parameters(&mut tb, e, &plan, layer).map_err(sim)?;

    // ---- Run, collecting outputs and checking invariants every cycle.
    tb.poke(sg.start, 1);
    tb.step().map_err(sim)?;
    tb.poke(sg.start, 0);
    let t0 = tb.cycles();
    let bound = cycle_bound(e, &plan);
    tb.expect_periods(|| t0 + conv_cycles(e, &plan).cycles, "conv engine");
    let mut mon = Monitor::new(e, plan.weight_image(e, &weight));
    loop {
        if tb.is_set(sg.done) {
            break;
        }
        if tb.cycles() - t0 > bound {
            return Err(RunError::Sim(format!(
                "no done after {bound} cycles (the bound for this layer): the engine hung; stopped at clock period {}",
                tb.cycles()
            )));
        }
        let strobe = mon.before_edge(&mut tb, &sg);
        tb.step().map_err(sim)?;
        mon.after_edge(&mut tb, &sg, strobe);
    }
    let inv = mon.inv;
    let (rows, cols, k) = (e.rows, e.cols, e.kernels);
    let cycles = tb.cycles() - t0;
    // ---- Read the output buffer back through the read port (one word per cycle, pipelined).
    let p_n = plan.pixels();
    let mut data = vec![0i64; plan.cout * p_n];
    let mut unload_cycles = 0u64;
    // Output channel oc of tile t in column c < w (the first column group's; w = C without groups).
    let w = plan.group_cols(e);
    for oc in 0..plan.cout {
        let (t, c, j) = (oc / (w * k), oc / k % w, oc % k);
        for p in 0..p_n {
            tb.poke(sg.rd_en, 1);
            tb.poke(sg.rd_bank, 1u64 << c);
            tb.poke(sg.rd_addr, ((t * k + j) * p_n + p) as u64);
            tb.step().map_err(sim)?;
            data[oc * p_n + p] = tb.peek(sg.rd_data) as u32 as i32 as i64;
            unload_cycles += 1;
        }
    }
    tb.poke(sg.rd_en, 0);
    let shape = [plan.cout, plan.ho, plan.wo];
    let output = if layer.requant.is_some() {
        Output::I8(Tensor::from_vec(&shape, data.iter().map(|&v| v as i8).collect()).expect("shape"))
    } else {
        Output::I32(Tensor::from_vec(&shape, data.iter().map(|&v| v as i32).collect()).expect("shape"))
    };
    let slow = cycles as f64 / k as f64;
    let util = plan.macs as f64 / ((rows * cols * k) as f64 * slow);
    let ideal = plan.macs as f64 / (rows * cols) as f64; // fast cycles at one MAC per PE per cycle
    let violations =
        inv.cache_writes_outside_col0 + inv.shift_chain_breaks + inv.kernel_use_violations;
    let mut stats = Map::new();
    let mut put = |k: &str, v: Value| {
        stats.insert(k.to_string(), v);
    };
    put("cycles", json!(cycles));
    put("macs", json!(plan.macs));
    put("pe_utilization", json!((util * 10000.0).round() / 10000.0));
    put("pe_macs", json!(inv.pe_macs));
    put("pe_mac_utilization", json!(((inv.pe_macs as f64 / ((rows * cols) as f64 * cycles as f64)) * 10000.0).round() / 10000.0));
    put("first_cache_reads", json!(inv.first_cache_reads));
    put("cache_writes_outside_col0", json!(inv.cache_writes_outside_col0));
    put("shift_chain_breaks", json!(inv.shift_chain_breaks));
    put("kernel_use_violations", json!(inv.kernel_use_violations));
    put("ideal_cycles", json!(ideal.ceil() as u64));
    put("slow_cycles", json!(cycles / k as u64));
    put("passes", json!(plan.passes));
    put("load_cycles", json!(load_cycles));
    put("unload_cycles", json!(unload_cycles));
    put("array", json!(format!("{rows}x{cols}, K={k}")));
    tb.report(&mut stats, opts.timing);
    let trace = tb.take_trace();
    tb.finish().map_err(RunError::Unsupported)?;
    opts.check_engine(|| ConvEngine::new(e), "conv_engine", trace, &mut stats)?;
    Ok(HwRun { output, stats, violations })
}

/// Loads the first cache, the weight buffer and the bias buffer through the load port, one word
/// per cycle; returns the cycles it took.
fn load_buffers(
    tb: &mut Tb,
    sg: &ConvSigs,
    e: &ConvEngineParams,
    plan: &ConvPlan,
    input: &TensorI8,
    weight: &TensorI8,
    bias: Option<&accelgen_golden::TensorI32>,
    scales: Option<&[accelgen_golden::OrtScale]>,
) -> Result<u64, String> {
    let mut load_cycles = 0u64;
    let mut load = |tb: &mut Tb, target: u64, rowsel: u64, addr: usize, data: i64| {
        tb.poke(sg.ld_we, 1);
        tb.poke(sg.ld_target, target);
        tb.poke(sg.ld_rowsel, rowsel);
        tb.poke(sg.ld_addr, addr as u64);
        tb.poke(sg.ld_data, data as u32 as u64);
        load_cycles += 1;
        tb.step()
    };
    for r in 0..e.rows {
        for (a, &v) in plan.bank_image(e, input, r).iter().enumerate() {
            load(tb, 0, 1 << r, a, v as i64)?;
        }
    }
    // Weight i in bank i mod C (its PE column), entry i div C.
    for (a, &v) in plan.weight_image(e, weight).iter().enumerate() {
        load(tb, 1, 1 << (a % e.cols), a / e.cols, v as i64)?;
    }
    // Bias bank c, entry t·K + j: output channel t·C·K + c·K + j; per-channel scale words
    // (target 3) beside them.
    for t in 0..plan.oc_tiles {
        for c in 0..e.cols {
            for j in 0..e.kernels {
                let oc = t * e.cols * e.kernels + c * e.kernels + j;
                let v = bias.filter(|_| oc < plan.cout).map_or(0, |b| b.data[oc] as i64);
                load(tb, 2, 1 << c, t * e.kernels + j, v)?;
                if let Some(s) = scales.and_then(|s| s.get(oc)) {
                    load(tb, 3, 1 << c, t * e.kernels + j, i64::from(s.sig | (s.exp as i8 as u8 as u32) << 24))?;
                }
            }
        }
    }
    tb.poke(sg.ld_we, 0);
    Ok(load_cycles)
}

/// Sets the engine's layer parameter registers (`p_*`) from the plan and the requantization.
fn set_parameters(tb: &mut Tb, e: &ConvEngineParams, plan: &ConvPlan, layer: &ConvLayer) -> Result<(), String> {
    let rq = layer.requant.unwrap_or(accelgen_golden::Requant {
        multiplier: 0,
        shift: 0,
        zero_point: 0,
        relu: false,
        ort: None,
    });
    let ort = rq.ort.unwrap_or(accelgen_golden::OrtScale { sig: 0, exp: 0 });
    let params: [(&str, u64); 33] = [
        ("p_h", plan.h as u64),
        ("p_w", plan.w as u64),
        ("p_wo", plan.wo as u64),
        ("p_kh", plan.run_kernel().0 as u64),
        ("p_kw", plan.run_kernel().1 as u64),
        ("p_sh", plan.stride[0] as u64),
        ("p_sw", plan.stride[1] as u64),
        ("p_ph", plan.padding[0] as u64),
        ("p_pw", plan.padding[1] as u64),
        ("p_ic_tiles", plan.ic_tiles as u64),
        ("p_oc_tiles", plan.oc_tiles as u64),
        ("p_plane", (plan.h * plan.w) as u64),
        ("p_pixels", plan.pixels() as u64),
        // Column groups (one: Wo slots a row, every pixel).
        ("p_wos", plan.slot_width() as u64),
        ("p_slots", plan.slots() as u64),
        ("p_cg", plan.groups_field()),
        ("p_gs", plan.gshift as u64),
        ("p_shw", ((plan.stride[0] * plan.w) & 0xFFFF) as u64),
        ("p_phw", ((plan.padding[0] * plan.w) & 0xFFFF) as u64),
        ("p_passes", plan.passes as u64),
        ("p_kp", (e.kernels * plan.pixels()) as u64),
        ("p_k", plan.kernels as u64),
        // Row groups: the standalone driver runs layers as planned by ConvPlan::geometry (none).
        ("p_kg", 0),
        ("p_rq_en", u64::from(layer.requant.is_some())),
        ("p_mult", rq.multiplier as u64),
        ("p_shift", u64::from(rq.shift)),
        ("p_zp", rq.zero_point as u8 as u64),
        ("p_relu", u64::from(rq.relu)),
        ("p_rq_ort", u64::from(rq.ort.is_some())),
        ("p_sig", u64::from(ort.sig)),
        ("p_exp", ort.exp as u8 as u64),
        ("p_rq_pc", u64::from(layer.channel_scales.is_some())),
        ("p_pad", layer.params.pad_value as u8 as u64),
    ];
    for (name, v) in params {
        let s = tb.sig(name)?;
        tb.poke(s, v);
    }

    Ok(())
}

/// The invariant checks of a running engine, on every clock period: the testbench's own count of
/// the fast sub-cycle, each PE's pass (from the swap tags it saw), and last period's registers.
struct Monitor {
    inv: Invariants,
    rows: usize,
    cols: usize,
    k: usize,
    /// What each PE must multiply: the weight image, by pass, then row, kernel, column.
    wimg: Vec<i8>,
    /// Per PE: passes whose weights it has swapped in (a datum tagged TAG_SWAP loaded).
    pass: Vec<usize>,
    x_prev: Vec<u64>,
    row_in: Vec<u64>,
    /// The fast sub-cycle, counted from the strobes (the engine restarts its phase at start):
    /// kernel j must be multiplied in sub-cycle j.
    sub: usize,
}

impl Monitor {
    fn new(e: &ConvEngineParams, wimg: Vec<i8>) -> Monitor {
        let n_pe = e.rows * e.cols;
        Monitor {
            inv: Invariants::default(),
            rows: e.rows,
            cols: e.cols,
            k: e.kernels,
            wimg,
            pass: vec![0; n_pe],
            x_prev: vec![0; n_pe],
            row_in: vec![0; e.rows],
            sub: 0,
        }
    }

    /// Checks before the clock edge (kernel use, MACs, first-cache reads, writes into PEs past
    /// column 0); returns whether this period ends a slow cycle (`strobe`).
    fn before_edge(&mut self, tb: &mut Tb, sg: &ConvSigs) -> bool {
        let (n_pe, k, cols) = (self.rows * self.cols, self.k, self.cols);
        let inv = &mut self.inv;
        let strobe = tb.is_set(sg.strobe);
        if self.sub >= k || (strobe && self.sub != k - 1) {
            inv.kernel_use_violations += 1;
        }
        for i in 0..n_pe {
            let tag = tb.peek(sg.tag[i]);
            if tag >> TAG_VALID & 1 == 1 {
                // The weight multiplied must be kernel `sub` of the pass this PE is in.
                let want = self.pass[i]
                    .checked_sub(1)
                    .and_then(|p| self.wimg.get(p * n_pe * k + (i / self.cols * k + self.sub.min(k - 1)) * self.cols + i % self.cols))
                    .map(|&w| w as u8 as u64);
                if want != Some(tb.peek(sg.w_used[i])) {
                    inv.kernel_use_violations += 1;
                }
            }
            if tb.is_set(sg.mac[i]) {
                inv.pe_macs += 1;
            }
            self.x_prev[i] = tb.peek(sg.x[i]);
        }
        for r in 0..self.rows {
            if tb.is_set(sg.bank_ren[r]) {
                inv.first_cache_reads += 1;
            }
            self.row_in[r] = tb.peek(sg.row_in[r]);
        }
        if strobe {
            // The first cache's datum of row r may enter PE (r, 0) only: PE (r, c > 0) offered
            // the cache's datum while its left neighbour holds another one is a cache write.
            for i in 0..n_pe {
                let x_in = tb.peek(sg.x_in[i]);
                let (r, c) = (i / cols, i % cols);
                if c > 0 && x_in == self.row_in[r] && x_in != self.x_prev[i - 1] {
                    inv.cache_writes_outside_col0 += 1;
                }
            }
        }
        strobe
    }

    /// Checks after the edge: at a strobe every input register took its left neighbour's datum
    /// (the row input in column 0); between strobes every input register held.
    fn after_edge(&mut self, tb: &mut Tb, sg: &ConvSigs, strobe: bool) {
        let cols = self.cols;
        if strobe {
            self.sub = 0;
            for r in 0..self.rows {
                for c in 0..cols {
                    let i = r * cols + c;
                    let now = tb.peek(sg.x[i]);
                    let want = if c == 0 { self.row_in[r] } else { self.x_prev[i - 1] };
                    if now != want {
                        self.inv.shift_chain_breaks += 1;
                    }
                    if tb.peek(sg.tag[i]) >> TAG_SWAP & 1 == 1 {
                        self.pass[i] += 1;
                    }
                }
            }
        } else {
            self.sub += 1;
            for i in 0..self.rows * cols {
                if tb.peek(sg.x[i]) != self.x_prev[i] {
                    self.inv.kernel_use_violations += 1;
                }
            }
        }
    }
}

/// Most PE-cycles (clock periods × PEs) a run may need on rust-hdl (about 7 minutes at the
/// 450,000 to 720,000 PE-cycles per second it simulates, 8×8 to 64×64 arrays) and on the
/// in-process Verilator model (50 times that). Checked before anything is built, so a huge array
/// or layer is refused at once.
pub const MAX_PE_CYCLES_RUST: u64 = 300_000_000;
/// See [`MAX_PE_CYCLES_RUST`].
pub const MAX_PE_CYCLES_VERILATOR: u64 = 15_000_000_000;
/// Largest array the Verilator engines build (the C++ model's compile time grows with it).
pub const MAX_VERILATOR_PES: usize = 1024;

/// Refuses a run whose estimated work exceeds the engine's limit, naming the figures.
fn check_work(e: &ConvEngineParams, plan: &ConvPlan, engine: crate::engines::Engine) -> Result<(), RunError> {
    use crate::engines::Engine;
    let pes = (e.rows * e.cols) as u64;
    let load = (plan.ic_tiles * plan.h * plan.w * e.rows + plan.passes * e.rows * e.cols * e.kernels + plan.oc_tiles * e.cols * e.kernels) as u64;
    let periods = load + cycle_estimate(e, plan) + (plan.cout * plan.pixels()) as u64;
    let work = periods.saturating_mul(pes);
    let verilator = matches!(engine, Engine::Verilator);
    let limit = if verilator { MAX_PE_CYCLES_VERILATOR } else { MAX_PE_CYCLES_RUST };
    if engine != Engine::Rust && e.rows * e.cols > MAX_VERILATOR_PES {
        return Err(RunError::Unsupported(format!(
            "a {}x{} array has {} PEs; the Verilog engines build models of at most {MAX_VERILATOR_PES} PEs",
            e.rows, e.cols, pes
        )));
    }
    if work > limit {
        return Err(RunError::Unsupported(format!(
            "this case needs about {periods} clock periods on a {}x{} array ({work} PE-cycles), more than the \
             {limit} allowed on the {} engine{}",
            e.rows,
            e.cols,
            engine.name(),
            if verilator { "" } else { " (--engine verilator allows 50 times more)" }
        )));
    }
    Ok(())
}

/// Upper bound on run cycles before the testbench declares a hang: twice the estimate.
fn cycle_bound(e: &ConvEngineParams, p: &ConvPlan) -> u64 {
    cycle_estimate(e, p).saturating_mul(2)
}

/// Runs a depthwise layer (`weight` `[C, 1, kh, kw]`, a bias and scale per channel) on the
/// engine's depthwise mode: channel g·R + r's outputs come out of output bank r at entries
/// g·Ho·Wo + p. Global mode's weight must be the same for every tap of a channel (global
/// average pooling's).
pub fn run_dw(e: &ConvEngineParams, input: &TensorI8, layer: &ConvLayer, opts: &RunOptions) -> Result<HwRun, RunError> {
    let weight = layer.weight.require("weight").map_err(RunError::Unsupported)?;
    let bias = match &layer.bias {
        Some(b) => Some(b.require("bias").map_err(RunError::Unsupported)?),
        None => None,
    };
    let dw = DwPlan::plan(e, &input.shape, &weight.shape, &layer.params).map_err(RunError::Unsupported)?;
    if dw.global && weight.data.chunks(dw.kh * dw.kw).any(|c| c.iter().any(|&v| v != c[0])) {
        return Err(RunError::Unsupported("global mode takes one weight per channel (every tap the same)".into()));
    }
    let plan = dw.carrier.clone().with_requant(layer.requant.as_ref());
    let ev = ConvEngineParams { array: plan.array(e), ..*e };
    check_work(&ev, &plan, opts.engine)?;
    let sim = RunError::Sim;
    let mut tb = opts.testbench(|| ConvEngine::new(e), "conv_engine", &format!("{e:?}"))?;
    let e = &ev;
    let sg = ConvSigs::new(&tb, e).map_err(sim)?;
    let mut load_cycles = 0u64;
    {
        let mut load = |tb: &mut Tb, target: u64, rowsel: u64, addr: usize, data: i64| {
            tb.poke(sg.ld_we, 1);
            tb.poke(sg.ld_target, target);
            tb.poke(sg.ld_rowsel, rowsel);
            tb.poke(sg.ld_addr, addr as u64);
            tb.poke(sg.ld_data, data as u32 as u64);
            load_cycles += 1;
            tb.step()
        };
        for r in 0..e.rows {
            for (a, &v) in plan.bank_image(e, input, r).iter().enumerate() {
                load(&mut tb, 0, 1 << r, a, v as i64).map_err(sim)?;
            }
        }
        for (a, &v) in dw.weight_image(e, &weight).iter().enumerate() {
            load(&mut tb, 1, 1 << (a % e.cols), a / e.cols, v as i64).map_err(sim)?;
        }
        // Channel g·R + r's bias (and scale word) in bias bank r, entry g.
        for g in 0..plan.ic_tiles {
            for r in 0..e.rows {
                let ch = g * e.rows + r;
                if ch >= dw.c {
                    continue;
                }
                load(&mut tb, 2, 1 << r, g, bias.as_ref().map_or(0, |b| b.data[ch] as i64)).map_err(sim)?;
                if let Some(s) = layer.channel_scales.as_deref().and_then(|s| s.get(ch)) {
                    load(&mut tb, 3, 1 << r, g, i64::from(s.sig | (s.exp as i8 as u8 as u32) << 24)).map_err(sim)?;
                }
            }
        }
        tb.poke(sg.ld_we, 0);
    }
    set_parameters(&mut tb, e, &plan, layer).map_err(sim)?;
    let (xl, yl) = dw.last_window();
    for (name, v) in [
        ("p_nodrain", 1),
        ("p_dw", dw.mode_word()),
        ("p_dxl", xl as u64),
        ("p_dyl", yl as u64),
        ("p_dpix", dw.pixels() as u64),
    ] {
        let s = tb.sig(name).map_err(sim)?;
        tb.poke(s, v);
    }
    tb.poke(sg.start, 1);
    tb.step().map_err(sim)?;
    tb.poke(sg.start, 0);
    let t0 = tb.cycles();
    let bound = 2 * (plan.ic_tiles * (plan.pixels() + e.rows + e.cols + 8) * dw.k) as u64 + 200;
    let mut mon = Monitor::new(e, dw.weight_image(e, &weight));
    let fault = tb.sig("dw__fault").map_err(sim)?;
    let mut dw_fifo_faults = 0u64;
    loop {
        if tb.is_set(sg.done) {
            break;
        }
        if tb.cycles() - t0 > bound {
            return Err(RunError::Sim(format!("no done after {bound} cycles (the bound for this depthwise layer): the engine hung")));
        }
        let strobe = mon.before_edge(&mut tb, &sg);
        dw_fifo_faults += u64::from(tb.is_set(fault));
        tb.step().map_err(sim)?;
        mon.after_edge(&mut tb, &sg, strobe);
    }
    let cycles = tb.cycles() - t0;
    let p_n = dw.pixels();
    let mut data = vec![0i64; dw.c * p_n];
    for ch in 0..dw.c {
        let (g, r) = (ch / e.rows, ch % e.rows);
        for p in 0..p_n {
            tb.poke(sg.rd_en, 1);
            tb.poke(sg.rd_bank, 1u64 << r);
            tb.poke(sg.rd_addr, (g * p_n + p) as u64);
            tb.step().map_err(sim)?;
            data[ch * p_n + p] = tb.peek(sg.rd_data) as u32 as i32 as i64;
        }
    }
    tb.poke(sg.rd_en, 0);
    let shape = [dw.c, dw.ho, dw.wo];
    let output = if layer.requant.is_some() {
        Output::I8(Tensor::from_vec(&shape, data.iter().map(|&v| v as i8).collect()).expect("shape"))
    } else {
        Output::I32(Tensor::from_vec(&shape, data.iter().map(|&v| v as i32).collect()).expect("shape"))
    };
    let inv = mon.inv;
    let violations = inv.cache_writes_outside_col0 + inv.shift_chain_breaks + inv.kernel_use_violations + dw_fifo_faults;
    let mut stats = Map::new();
    stats.insert("cycles".into(), json!(cycles));
    stats.insert("dw_fifo_faults".into(), json!(dw_fifo_faults));
    stats.insert("macs".into(), json!((dw.c * p_n * dw.kh * dw.kw) as u64));
    stats.insert("pe_macs".into(), json!(inv.pe_macs));
    stats.insert("first_cache_reads".into(), json!(inv.first_cache_reads));
    stats.insert("cache_writes_outside_col0".into(), json!(inv.cache_writes_outside_col0));
    stats.insert("shift_chain_breaks".into(), json!(inv.shift_chain_breaks));
    stats.insert("kernel_use_violations".into(), json!(inv.kernel_use_violations));
    stats.insert("load_cycles".into(), json!(load_cycles));
    stats.insert("passes".into(), json!(plan.ic_tiles));
    stats.insert("kernels_per_slot".into(), json!(dw.k));
    let trace = tb.take_trace();
    tb.finish().map_err(RunError::Unsupported)?;
    opts.check_engine(|| ConvEngine::new(e), "conv_engine", trace, &mut stats)?;
    Ok(HwRun { output, stats, violations })
}
