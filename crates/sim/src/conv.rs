//! The conv engine's host driver and testbench: lays a `conv2d` case out for the hardware (the
//! compiler's job in the integrated accelerator), loads it through the engine's ports, runs it,
//! reads the outputs from the output port, and checks the PE-array invariants on every cycle.

use crate::{HwRun, RunError, RunOptions};
use accelgen_formats::{ConvLayer, Output};
use accelgen_golden::{conv_output_dims, Tensor, TensorI8};
use accelgen_hw::pe::{ConvEngine, ConvEngineParams};
use crate::tb::{Sig, Tb};
use accelgen_hw::pe::{TAG_SWAP, TAG_VALID};
use serde_json::{json, Map, Value};

/// A layer laid out for one engine: parameter registers and buffer images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    /// Input channels, height, width.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Output height and width.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
    /// Kernel height and width.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride.
    pub stride: [usize; 2],
    /// Padding.
    pub padding: [usize; 2],
    /// ceil(Cin / R).
    pub ic_tiles: usize,
    /// ceil(Cout / (C·K)).
    pub oc_tiles: usize,
    /// Passes: oc_tiles · ic_tiles · kh · kw.
    pub passes: usize,
    /// Useful multiply-accumulates: Cout · Ho · Wo · Cin · kh · kw.
    pub macs: u64,
}

fn unsupported(what: &str, need: usize, field: &str, have: usize) -> RunError {
    RunError::Unsupported(format!(
        "this layer needs {what} = {need}, but {field} = {have} in the configuration"
    ))
}

impl ConvPlan {
    /// The layer's tiling on the engine, without checking buffer capacities (for cycle estimates
    /// of layers larger than one run; the integrated controller tiles those).
    pub fn geometry(
        e: &ConvEngineParams,
        input: &[usize],
        weight: &[usize],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Result<ConvPlan, RunError> {
        let p = accelgen_golden::ConvParams { stride, padding };
        let [cout, ho, wo] =
            conv_output_dims(input, weight, &p).map_err(RunError::Unsupported)?;
        let (cin, h, w, kh, kw) = (input[0], input[1], input[2], weight[2], weight[3]);
        let ic_tiles = cin.div_ceil(e.rows);
        let oc_tiles = cout.div_ceil(e.cols * e.kernels);
        let passes = oc_tiles * ic_tiles * kh * kw;
        let macs = (cout * ho * wo * cin * kh * kw) as u64;
        Ok(ConvPlan {
            cin, h, w, cout, ho, wo, kh, kw, stride, padding, ic_tiles, oc_tiles, passes, macs,
        })
    }

    /// Checks that the layer fits the engine's buffers and register widths.
    pub fn new(
        e: &ConvEngineParams,
        input: &[usize],
        weight: &[usize],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Result<ConvPlan, RunError> {
        let plan = ConvPlan::geometry(e, input, weight, stride, padding)?;
        let ConvPlan { cin: _, h, w, cout: _, ho, wo, ic_tiles, oc_tiles, passes, .. } = plan;
        let per_pass = e.rows * e.cols * e.kernels;
        if ic_tiles * h * w > e.first_cache_depth {
            return Err(unsupported(
                "ceil(Cin/rows)·H·W",
                ic_tiles * h * w,
                "pe_array.first_cache_depth",
                e.first_cache_depth,
            ));
        }
        if passes * per_pass > e.weight_buffer_depth {
            return Err(unsupported(
                "passes·rows·cols·kernels_per_pe weights",
                passes * per_pass,
                "pe_array.weight_buffer_depth",
                e.weight_buffer_depth,
            ));
        }
        if e.kernels * ho * wo > e.acc_buffer_depth {
            return Err(unsupported(
                "kernels_per_pe·Ho·Wo",
                e.kernels * ho * wo,
                "pe_array.acc_buffer_depth",
                e.acc_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels > e.bias_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe",
                oc_tiles * e.kernels,
                "pe_array.bias_buffer_depth",
                e.bias_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels * ho * wo > e.output_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe·Ho·Wo",
                oc_tiles * e.kernels * ho * wo,
                "pe_array.output_buffer_depth",
                e.output_buffer_depth,
            ));
        }
        for (name, v) in [("H + 2·ph", h + 2 * padding[0]), ("W + 2·pw", w + 2 * padding[1])] {
            if v >= 1 << 16 {
                return Err(RunError::Unsupported(format!("{name} = {v} must be below 65536")));
            }
        }
        if passes >= 1 << 16 {
            return Err(RunError::Unsupported(format!(
                "{passes} passes exceed the engine's 16-bit pass counter"
            )));
        }
        Ok(plan)
    }

    /// Output pixels per pass, Ho·Wo.
    pub fn pixels(&self) -> usize {
        self.ho * self.wo
    }

    /// The first-cache image of bank `r`: channel tile t, row y, column x at (t·H + y)·W + x.
    pub fn bank_image(&self, e: &ConvEngineParams, input: &TensorI8, r: usize) -> Vec<i8> {
        let mut v = Vec::with_capacity(self.ic_tiles * self.h * self.w);
        for t in 0..self.ic_tiles {
            let c = t * e.rows + r;
            for i in 0..self.h * self.w {
                v.push(if c < self.cin { input.data[c * self.h * self.w + i] } else { 0 });
            }
        }
        v
    }

    /// The weight-buffer image: pass (oct, ict, kr, ks), then row r, column c, kernel j; PE (r, c)
    /// kernel j holds output channel oct·C·K + c·K + j, input channel ict·R + r (zero outside).
    pub fn weight_image(&self, e: &ConvEngineParams, weight: &TensorI8) -> Vec<i8> {
        let mut v = Vec::with_capacity(self.passes * e.rows * e.cols * e.kernels);
        for oct in 0..self.oc_tiles {
            for ict in 0..self.ic_tiles {
                for kr in 0..self.kh {
                    for ks in 0..self.kw {
                        for r in 0..e.rows {
                            for c in 0..e.cols {
                                for j in 0..e.kernels {
                                    let oc = oct * e.cols * e.kernels + c * e.kernels + j;
                                    let ic = ict * e.rows + r;
                                    v.push(if oc < self.cout && ic < self.cin {
                                        weight.at(&[oc, ic, kr, ks])
                                    } else {
                                        0
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        v
    }
}

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

/// Runs a conv2d case on the engine.
pub fn run_conv(
    e: &ConvEngineParams,
    input: &TensorI8,
    layer: &ConvLayer,
    opts: &RunOptions,
) -> Result<HwRun, RunError> {
    let weight = layer.weight.require("weight").map_err(RunError::Unsupported)?;
    let bias = match &layer.bias {
        Some(b) => Some(b.require("bias").map_err(RunError::Unsupported)?),
        None => None,
    };
    let plan =
        ConvPlan::new(e, &input.shape, &weight.shape, layer.params.stride, layer.params.padding)?;
    check_work(e, &plan, opts.engine)?;
    let sim = RunError::Sim;
    let mut tb = opts.testbench(|| ConvEngine::new(e), "conv_engine", &format!("{e:?}"))?;
    let sg = ConvSigs::new(&tb, e).map_err(sim)?;

    // ---- Load the buffers through the load port, one word per cycle.
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
            load(&mut tb, 0, 1 << r, a, v as i64).map_err(sim)?;
        }
    }
    for (a, &v) in plan.weight_image(e, &weight).iter().enumerate() {
        load(&mut tb, 1, 0, a, v as i64).map_err(sim)?;
    }
    // Bias bank c, entry t·K + j: output channel t·C·K + c·K + j.
    for t in 0..plan.oc_tiles {
        for c in 0..e.cols {
            for j in 0..e.kernels {
                let oc = t * e.cols * e.kernels + c * e.kernels + j;
                let v = bias.as_ref().filter(|_| oc < plan.cout).map_or(0, |b| b.data[oc] as i64);
                load(&mut tb, 2, 1 << c, t * e.kernels + j, v).map_err(sim)?;
            }
        }
    }
    tb.poke(sg.ld_we, 0);

    // ---- Parameter registers.
    let rq = layer.requant.unwrap_or(accelgen_golden::Requant {
        multiplier: 0,
        shift: 0,
        zero_point: 0,
        relu: false,
    });
    let params: [(&str, u64); 22] = [
        ("p_h", plan.h as u64),
        ("p_w", plan.w as u64),
        ("p_wo", plan.wo as u64),
        ("p_kh", plan.kh as u64),
        ("p_kw", plan.kw as u64),
        ("p_sh", plan.stride[0] as u64),
        ("p_sw", plan.stride[1] as u64),
        ("p_ph", plan.padding[0] as u64),
        ("p_pw", plan.padding[1] as u64),
        ("p_ic_tiles", plan.ic_tiles as u64),
        ("p_oc_tiles", plan.oc_tiles as u64),
        ("p_plane", (plan.h * plan.w) as u64),
        ("p_pixels", plan.pixels() as u64),
        ("p_shw", ((plan.stride[0] * plan.w) & 0xFFFF) as u64),
        ("p_phw", ((plan.padding[0] * plan.w) & 0xFFFF) as u64),
        ("p_passes", plan.passes as u64),
        ("p_kp", (e.kernels * plan.pixels()) as u64),
        ("p_rq_en", u64::from(layer.requant.is_some())),
        ("p_mult", rq.multiplier as u64),
        ("p_shift", u64::from(rq.shift)),
        ("p_zp", rq.zero_point as u8 as u64),
        ("p_relu", u64::from(rq.relu)),
    ];
    for (name, v) in params {
        let s = tb.sig(name).map_err(sim)?;
        tb.poke(s, v);
    }

    // ---- Run, collecting outputs and checking invariants every cycle.
    tb.poke(sg.start, 1);
    tb.step().map_err(sim)?;
    tb.poke(sg.start, 0);
    let t0 = tb.cycles();
    let bound = cycle_bound(e, &plan);
    tb.expect_periods(|| t0 + crate::conv_model::conv_cycles(e, &plan).cycles, "conv engine");
    let mut inv = Invariants::default();
    let (rows, cols, k) = (e.rows, e.cols, e.kernels);
    let n_pe = rows * cols;
    // What each PE must multiply: the weight image it was loaded from, by pass, PE and kernel.
    let wimg = plan.weight_image(e, &weight);
    // Per PE: passes whose weights it has swapped in (a datum tagged TAG_SWAP loaded).
    let mut pass = vec![0usize; n_pe];
    let mut x_prev: Vec<u64> = vec![0; n_pe];
    let mut x_in = vec![0u64; n_pe];
    let mut row_in = vec![0u64; rows];
    // The fast sub-cycle, counted by the testbench from the strobes (the engine restarts its phase
    // at start): kernel j must be multiplied in sub-cycle j.
    let mut sub = 0usize;
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
        let strobe = tb.is_set(sg.strobe);
        if sub >= k || (strobe && sub != k - 1) {
            inv.kernel_use_violations += 1;
        }
        for i in 0..n_pe {
            let tag = tb.peek(sg.tag[i]);
            if tag >> TAG_VALID & 1 == 1 {
                // The weight multiplied must be kernel `sub` of the pass this PE is in.
                let want = pass[i]
                    .checked_sub(1)
                    .and_then(|p| wimg.get((p * n_pe + i) * k + sub.min(k - 1)))
                    .map(|&w| w as u8 as u64);
                if want != Some(tb.peek(sg.w_used[i])) {
                    inv.kernel_use_violations += 1;
                }
            }
            if tb.is_set(sg.mac[i]) {
                inv.pe_macs += 1;
            }
            x_prev[i] = tb.peek(sg.x[i]);
        }
        for r in 0..rows {
            if tb.is_set(sg.bank_ren[r]) {
                inv.first_cache_reads += 1;
            }
            row_in[r] = tb.peek(sg.row_in[r]);
        }
        if strobe {
            // The first cache's datum of row r may enter PE (r, 0) only: PE (r, c > 0) offered
            // the cache's datum while its left neighbour holds another one is a cache write.
            for i in 0..n_pe {
                x_in[i] = tb.peek(sg.x_in[i]);
                let (r, c) = (i / cols, i % cols);
                if c > 0 && x_in[i] == row_in[r] && x_in[i] != x_prev[i - 1] {
                    inv.cache_writes_outside_col0 += 1;
                }
            }
        }
        tb.step().map_err(sim)?;
        if strobe {
            sub = 0;
            for r in 0..rows {
                for c in 0..cols {
                    let i = r * cols + c;
                    // PE (r, c)'s register now holds what PE (r, c − 1) held (row input for c = 0).
                    let now = tb.peek(sg.x[i]);
                    let want = if c == 0 { row_in[r] } else { x_prev[i - 1] };
                    if now != want {
                        inv.shift_chain_breaks += 1;
                    }
                    if tb.peek(sg.tag[i]) >> TAG_SWAP & 1 == 1 {
                        pass[i] += 1;
                    }
                }
            }
        } else {
            sub += 1;
            // Between strobes every input register must hold (kernels share one stable datum).
            for i in 0..n_pe {
                if tb.peek(sg.x[i]) != x_prev[i] {
                    inv.kernel_use_violations += 1;
                }
            }
        }
    }
    let cycles = tb.cycles() - t0;
    // ---- Read the output buffer back through the read port (one word per cycle, pipelined).
    let p_n = plan.pixels();
    let mut data = vec![0i64; plan.cout * p_n];
    let mut unload_cycles = 0u64;
    for oc in 0..plan.cout {
        let (t, c, j) = (oc / (e.cols * k), oc / k % e.cols, oc % k);
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

/// A closed-form upper estimate of a layer's run cycles (no stepping, no allocation; saturating):
/// every pass streams its pixels plus the pipeline fill and a weight load, then every tile drains.
pub fn cycle_estimate(e: &ConvEngineParams, p: &ConvPlan) -> u64 {
    let u = |v: usize| v as u64;
    let per_pass = (u(p.pixels()) + u(e.rows + e.cols + 4)).saturating_mul(u(e.kernels)) + u(e.rows * e.cols * e.kernels);
    let drain = u(p.oc_tiles).saturating_mul(u(e.cols * e.kernels).saturating_mul(u(p.pixels())) + 16);
    u(p.passes).saturating_mul(per_pass).saturating_add(drain).saturating_add(1000)
}

/// Upper bound on run cycles before the testbench declares a hang: twice the estimate.
fn cycle_bound(e: &ConvEngineParams, p: &ConvPlan) -> u64 {
    cycle_estimate(e, p).saturating_mul(2)
}
