//! Whole networks on `accel_top`: compile, compress, load the program through the register port,
//! place input, weights and biases in a memory model, run to `done`, read the output from memory.
//!
//! The memory model (this testbench's external memory) answers the top's word-addressed port:
//! it accepts a request per cycle while ready, answers a read burst of `m_req_len` + 1 words
//! in order from `latency` cycles after it accepted it, one word per cycle (each held until the
//! top takes it), and, with `stall_every` = n > 0,
//! is not ready one cycle in every n (a slow or shared memory). It holds the packed byte image
//! (`accelgen_compiler::layout`) in words of `memory.word_bits` (32 or 64 here; a write changes
//! the bytes its enables name). It counts the words the port read and wrote: `mem_read_bytes`
//! and `mem_write_bytes` are those counts times the word's bytes; `mem_min_bytes` is the packed
//! minimum beside them (every tensor, weight and bias byte moved once). A request outside the
//! memory reads 0 or is dropped and counts in `mem_outside_accesses` (a compiled program never
//! makes one).

use accelgen_compiler::{compile_full, memory_image, read_elements, Compiled, LayerTiling};
use crate::tb::{Sig, Tb};
use crate::{RunError, RunOptions};
use accelgen_config::HwConfig;
use accelgen_formats::{Network, Output};
use accelgen_golden::Tensor;
use accelgen_hw::pe::ConvEngineParams;
use accelgen_hw::pool::PoolUnitParams;
use accelgen_hw::top::AccelTop;
use accelgen_isa::compress;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// The memory model's timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemTiming {
    /// Cycles from an accepted read request to its response (≥ 1).
    pub latency: u32,
    /// Not ready one cycle in every `stall_every` (0: always ready).
    pub stall_every: u32,
}

impl Default for MemTiming {
    fn default() -> Self {
        MemTiming { latency: 1, stall_every: 0 }
    }
}

/// Largest `--mem-latency`.
pub const MAX_MEM_LATENCY: u32 = 1000;

/// Faults for tests: blocks built with a fault, or a corrupted program.
#[derive(Clone, Debug, Default)]
pub struct AccelFaults {
    /// Replace the compressed program with these bytes.
    pub program: Option<Vec<u8>>,
    /// Build the conv engine with this fault.
    pub conv: accelgen_hw::pe::ConvFault,
}

/// A network's run on `accel_top`.
#[derive(Clone, Debug)]
pub struct AccelRun {
    /// The output tensor read from external memory.
    pub output: Output,
    /// Network totals and per-layer figures (`layers`).
    pub stats: Map<String, Value>,
    /// The top stopped with its error flag (and this code).
    pub error_code: Option<u64>,
    /// The compiled program.
    pub compiled: Compiled,
    /// The further inputs of [`run_accel_batch`], each run by writing it into memory and starting
    /// the loaded program again.
    pub more: Vec<BatchRun>,
    /// Per dispatched instruction (the program's kept instructions, in order), the clock period,
    /// counted from the start, in which the INSTRUCTIONS counter showed it dispatched.
    pub dispatched: Vec<u64>,
}

/// One further inference of a batch on the program loaded once.
#[derive(Clone, Debug)]
pub struct BatchRun {
    /// The output tensor read from external memory.
    pub output: Output,
    /// Clock periods from the start to done (the CYCLES register).
    pub cycles: u64,
    /// The top stopped with its error flag (and this code).
    pub error_code: Option<u64>,
}

/// Status of a finished run.
const ST_DONE: u64 = 2;
const ST_ERROR: u64 = 4;

fn ratio(x: u64, y: u64) -> f64 {
    (x as f64 / y.max(1) as f64 * 10000.0).round() / 10000.0
}

/// Useful MACs of a conv layer (Cout·Ho·Wo·Cin·kh·kw).
fn layer_macs(t: &LayerTiling) -> u64 {
    match t {
        LayerTiling::Conv(t) => t.plan.macs,
        LayerTiling::Pool(_) | LayerTiling::Add(_) => 0,
    }
}

/// accel_top's external memory port, resolved once.
struct MemPort {
    req_valid: Sig,
    req_ready: Sig,
    req_we: Sig,
    req_addr: Sig,
    req_len: Sig,
    req_wdata: Sig,
    req_be: Sig,
    rsp_valid: Sig,
    rsp_ready: Sig,
    rsp_data: Sig,
}

impl MemPort {
    fn new(tb: &Tb) -> Result<MemPort, String> {
        Ok(MemPort {
            req_valid: tb.sig("m_req_valid")?,
            req_ready: tb.sig("m_req_ready")?,
            req_we: tb.sig("m_req_we")?,
            req_addr: tb.sig("m_req_addr")?,
            req_len: tb.sig("m_req_len")?,
            req_wdata: tb.sig("m_req_wdata")?,
            req_be: tb.sig("m_req_be")?,
            rsp_valid: tb.sig("m_rsp_valid")?,
            rsp_ready: tb.sig("m_rsp_ready")?,
            rsp_data: tb.sig("m_rsp_data")?,
        })
    }
}

/// The external memory model: words of `bytes` bytes, read responses `latency` cycles after
/// their request and in order, the reads, writes and accesses outside the image counted.
struct Memory {
    /// The memory, bytes (padded to whole words).
    image: Vec<u8>,
    bytes: usize,
    latency: u64,
    /// Read responses due: (cycle, word).
    pending: VecDeque<(u64, u64)>,
    reads: u64,
    writes: u64,
    /// Requests outside the image: reads return 0, writes are dropped.
    outside: u64,
}

impl Memory {
    fn new(mut image: Vec<u8>, bytes: usize, latency: u32) -> Memory {
        image.resize(image.len().div_ceil(bytes) * bytes, 0);
        Memory { image, bytes, latency: u64::from(latency), pending: VecDeque::new(), reads: 0, writes: 0, outside: 0 }
    }

    /// Cycle `now`: a response whose time has come, then this cycle's request if the port is
    /// `ready`. Returns, for a request inside the image, whether it was a write and its words.
    fn cycle(&mut self, tb: &mut Tb, p: &MemPort, now: u64, ready: bool) -> Option<(bool, u64)> {
        // The top's `rsp_ready` comes from its registers: read before this cycle's inputs.
        match self.pending.front() {
            Some(&(at, data)) if at <= now => {
                tb.poke(p.rsp_valid, 1);
                tb.poke(p.rsp_data, data);
                if tb.is_set(p.rsp_ready) {
                    self.pending.pop_front();
                }
            }
            _ => tb.poke(p.rsp_valid, 0),
        }
        tb.poke(p.req_ready, u64::from(ready));
        if !ready || !tb.is_set(p.req_valid) {
            return None;
        }
        let base = tb.peek(p.req_addr) as usize * self.bytes;
        let write = tb.is_set(p.req_we);
        // A read burst: req_len + 1 words, answered in order.
        let beats = if write { 1 } else { tb.peek(p.req_len) as usize + 1 };
        if base + beats * self.bytes > self.image.len() {
            self.outside += 1;
            if !write {
                self.pending.extend((0..beats).map(|_| (now + self.latency, 0)));
            }
            return None;
        }
        if write {
            let (data, be) = (tb.peek(p.req_wdata), tb.peek(p.req_be));
            for b in 0..self.bytes {
                if be >> b & 1 == 1 {
                    self.image[base + b] = (data >> (8 * b)) as u8;
                }
            }
            self.writes += 1;
        } else {
            for beat in 0..beats {
                let at = base + beat * self.bytes;
                let word = (0..self.bytes).fold(0u64, |w, b| w | u64::from(self.image[at + b]) << (8 * b));
                self.pending.push_back((now + self.latency + beat as u64, word));
            }
            self.reads += beats as u64;
        }
        Some((write, beats as u64))
    }
}

/// The network's output as a run left it in `image` (the packed layout `lay`): int8 elements,
/// or int32 sums for a last conv layer without requantization.
pub(crate) fn output_of(net: &Network, lay: &accelgen_compiler::Layout, image: &[u8]) -> Result<Output, RunError> {
    let (o, n, size) = lay.output();
    let shape = net.shapes.last().expect("a shape");
    let values = read_elements(image, o, n, size);
    Ok(if size == 4 {
        Output::I32(Tensor::from_vec(shape, values).map_err(RunError::Sim)?)
    } else {
        Output::I8(Tensor::from_vec(shape, values.iter().map(|&v| v as i8).collect()).map_err(RunError::Sim)?)
    })
}

/// What a run of accel_top counted: the status and counter registers (read through the host
/// port), the memory model's accesses, and what was loaded.
struct RunCounts<'a> {
    regs: [u64; 14],
    memory: &'a Memory,
    register_writes: u64,
    /// The WATCHDOG register's value the host wrote (half the program's period bound).
    watchdog: u64,
    compressed_bytes: usize,
    program_instructions: usize,
    error_code: Option<u64>,
}

/// Per layer (the layer of the last instruction dispatched): cycles, memory words read and
/// written (by the layer of the last transfer), and the pooling divider seen while pooling ran.
struct LayerCounts {
    cycles: Vec<u64>,
    reads: Vec<u64>,
    writes: Vec<u64>,
    dividers: Vec<Option<u64>>,
}

/// The run's statistics (`stats` of the result file) from what it counted.
#[allow(clippy::too_many_arguments)]
fn accel_stats(stats: &mut Map<String, Value>, net: &Network, cfg: &HwConfig, opts: &RunOptions, mem: MemTiming, lay: &accelgen_compiler::Layout, c: &RunCounts, l: &LayerCounts) {
    let pes = cfg.conv_array().pes() as u64;
    let cycles = c.regs[1];
    let macs: u64 = lay.layers.iter().map(layer_macs).sum();
    stats.insert("mode".into(), json!("accel_top"));
    stats.insert("engine".into(), json!(opts.engine.name()));
    stats.insert("cycles".into(), json!(cycles));
    stats.insert("macs".into(), json!(macs));
    stats.insert("pe_utilization".into(), json!(ratio(macs, pes * cycles)));
    let word_bytes = u64::from(cfg.memory.word_bits / 8);
    stats.insert("mem_read_bytes".into(), json!(c.memory.reads * word_bytes));
    stats.insert("mem_write_bytes".into(), json!(c.memory.writes * word_bytes));
    stats.insert("mem_word_bits".into(), json!(cfg.memory.word_bits));
    stats.insert("register_writes".into(), json!(c.register_writes));
    stats.insert("watchdog_cycles".into(), json!(c.watchdog));
    stats.insert("compressed_bytes".into(), json!(c.compressed_bytes));
    stats.insert("instructions".into(), json!(c.regs[2]));
    stats.insert("program_instructions".into(), json!(c.program_instructions));
    stats.insert("dispatch_stall_cycles".into(), json!(c.regs[3]));
    stats.insert("conv_busy_cycles".into(), json!(c.regs[4]));
    stats.insert("pool_busy_cycles".into(), json!(c.regs[5]));
    stats.insert("mem_busy_cycles".into(), json!(c.regs[6]));
    stats.insert("mem_stall_cycles".into(), json!(c.regs[7]));
    stats.insert("program_words".into(), json!(c.regs[8]));
    stats.insert("pool_enabled_cycles".into(), json!(c.regs[10]));
    stats.insert("mem_wait_cycles".into(), json!(c.regs[11]));
    stats.insert("conv_wait_cycles".into(), json!(c.regs[12]));
    stats.insert("pool_wait_cycles".into(), json!(c.regs[13]));
    stats.insert("mem_latency".into(), json!(mem.latency));
    stats.insert("mem_stall_every".into(), json!(mem.stall_every));
    // The packed minimum: every tensor, weight and bias byte once (a model figure).
    let min_bytes = lay.min_bytes();
    stats.insert("mem_min_bytes".into(), json!(min_bytes));
    stats.insert("mem_outside_accesses".into(), json!(c.memory.outside));
    if let Some(code) = c.error_code {
        stats.insert("error_code".into(), json!(code));
    }
    // The roofline (model bounds, accelgen_compiler::roofline) beside the counted cycles.
    let bounds = accelgen_compiler::roofline::layer_bounds(net, cfg);
    let rl = accelgen_compiler::roofline::ratio;
    stats.insert("compute_bound_cycles".into(), json!(bounds.iter().map(|b| b.compute).sum::<u64>()));
    stats.insert("memory_bound_cycles".into(), json!(bounds.iter().map(|b| b.memory).sum::<u64>()));
    stats.insert("roofline_ratio".into(), json!(rl(cycles, bounds.iter().map(|b| b.cycles()).sum())));
    let layers: Vec<Value> = (0..net.layers.len())
        .map(|i| {
            let m = layer_macs(&lay.layers[i]);
            json!({
                "op": net.layers[i].op(),
                "cycles": l.cycles[i],
                "macs": m,
                "pe_utilization": ratio(m, pes * l.cycles[i]),
                "pool_divider": l.dividers[i],
                "mem_read_bytes": l.reads[i] * word_bytes,
                "mem_write_bytes": l.writes[i] * word_bytes,
                "compute_bound_cycles": bounds[i].compute,
                "memory_bound_cycles": bounds[i].memory,
                "roofline_ratio": rl(l.cycles[i], bounds[i].cycles()),
            })
        })
        .collect();
    stats.insert("layers".into(), Value::Array(layers));
}

/// Loads the compressed program through the host register port (DATA), sets the watchdog to
/// half the program's cycle bound (no instruction waits longer than the whole program), and
/// starts (CTRL); returns the register writes made.
fn load_and_start(tb: &mut Tb, bytes: &[u8], bound: u64) -> Result<u64, String> {
    let (reg_we, reg_addr, reg_wdata) = (tb.sig("reg_we")?, tb.sig("reg_addr")?, tb.sig("reg_wdata")?);
    let mut register_writes = 0u64;
    for w in bytes.chunks(8) {
        let mut b = [0u8; 8];
        b[..w.len()].copy_from_slice(w);
        tb.poke(reg_we, 1);
        tb.poke(reg_addr, 0);
        tb.poke(reg_wdata, u64::from_le_bytes(b));
        tb.step()?;
        register_writes += 1;
    }
    for (addr, data) in [(2, bound / 2), (1, 1)] {
        tb.poke(reg_we, 1);
        tb.poke(reg_addr, addr);
        tb.poke(reg_wdata, data);
        tb.step()?;
        register_writes += 1;
    }
    tb.poke(reg_we, 0);
    tb.poke(reg_wdata, 0);
    Ok(register_writes)
}

/// A generous bound on the run's clock periods, from the program (conv passes, pooling columns,
/// transferred words): a run past it is a hang.
fn period_bound(prog: &[accelgen_isa::Instr], cfg: &HwConfig, mem: MemTiming) -> u64 {
    let e = cfg.conv_array();
    let k = e.kernels as u64;
    let mut regs: std::collections::HashMap<&str, Vec<u64>> = Default::default();
    let mut total = 10_000u64;
    let slow = u64::from(mem.latency) + 2 + u64::from(mem.stall_every > 0);
    for i in prog {
        let name = i.info().name;
        total += 4;
        match name {
            "MEM_LOAD" | "MEM_STORE" => total += i.values[2] * slow * if mem.stall_every > 0 { 2 } else { 1 } + slow,
            "RUN" => {
                if i.values[0] & 14 != 0 {
                    let s = regs.get("PE_SHAPE").cloned().unwrap_or_default();
                    let kn = regs.get("PE_KERNEL").cloned().unwrap_or_default();
                    let t = regs.get("ACC_TILES").cloned().unwrap_or_default();
                    let g = |v: &Vec<u64>, j: usize| v.get(j).copied().unwrap_or(0);
                    let passes = g(&t, 0) * g(&t, 1) * g(&kn, 0) * g(&kn, 1);
                    let pixels = g(&s, 2) * g(&s, 3);
                    let per_pass = (pixels + 2).max((e.rows * e.cols) as u64 + 2);
                    total += (passes * per_pass + g(&t, 1) * pixels + 64) * k + 64;
                }
                if i.values[0] & 16 != 0 {
                    let s = regs.get("POOL_SHAPE").cloned().unwrap_or_default();
                    let gm = regs.get("POOL_GEOM").cloned().unwrap_or_default();
                    let div = regs.get("POOL_CLOCK").map_or(1, |v| v[0].max(1));
                    let g = |v: &Vec<u64>, j: usize| v.get(j).copied().unwrap_or(0);
                    total += (g(&s, 0) * g(&s, 3) * g(&gm, 1) + 64) * 64.max(div) + 64;
                }
            }
            _ => {
                regs.insert(name, i.values.clone());
            }
        }
    }
    total * 2
}

/// Steps `tb` until `accel_top` is done or stopped with an error, serving its memory port from
/// `memory` (`mem`'s timing); `each` sees every cycle (its number from `t0`, the memory access
/// the cycle made) before the step. A run past `bound` cycles is a hang.
#[allow(clippy::too_many_arguments)]
fn serve_until_done(
    tb: &mut Tb,
    memory: &mut Memory,
    port: &MemPort,
    mem: MemTiming,
    bound: u64,
    (st_done, st_error): (crate::tb::Sig, crate::tb::Sig),
    mut each: impl FnMut(&mut Tb, u64, Option<(bool, u64)>),
) -> Result<(), RunError> {
    let t0 = tb.cycles();
    loop {
        let now = tb.cycles() - t0;
        if tb.is_set(st_done) || tb.is_set(st_error) {
            return Ok(());
        }
        if now > bound {
            return Err(RunError::Sim(format!(
                "accel_top did not finish within {bound} clock periods (the program's bound); stopped at clock period {}",
                tb.cycles()
            )));
        }
        let ready = !(mem.stall_every > 0 && now % u64::from(mem.stall_every) == 0);
        let access = memory.cycle(tb, port, now, ready);
        each(tb, now, access);
        tb.step().map_err(RunError::Sim)?;
    }
}

/// Reads the host read registers 0..n (STATUS first).
fn read_regs<const N: usize>(tb: &mut Tb, (raddr, rdata): (crate::tb::Sig, crate::tb::Sig)) -> Result<[u64; N], RunError> {
    let mut regs = [0u64; N];
    for (i, r) in regs.iter_mut().enumerate() {
        tb.poke(raddr, i as u64);
        tb.step().map_err(RunError::Sim)?;
        *r = tb.peek(rdata);
    }
    Ok(regs)
}

/// The error code a finished run's STATUS reports, or an error if it shows neither done nor error.
fn finished(status: u64, error: bool) -> Result<Option<u64>, RunError> {
    let code = (error || status & ST_ERROR != 0).then_some((status >> 8) & 15);
    if code.is_none() && status & ST_DONE == 0 {
        return Err(RunError::Sim(format!("accel_top stopped without done or error (status {status:#x})")));
    }
    Ok(code)
}

/// Runs `net` (every tensor with data) on `accel_top` for `cfg`.
pub fn run_accel(net: &Network, cfg: &HwConfig, opts: &RunOptions, mem: MemTiming, faults: &AccelFaults) -> Result<AccelRun, RunError> {
    run_accel_batch(net, &[], cfg, opts, mem, faults, &mut |_| {})
}

/// Runs `net` on `accel_top`, then each input of `more` (of the network's input shape) on the
/// same loaded program: the input written into memory and the program started again (a start
/// puts the module registers back to their reset values), the output read after done;
/// `progress` is told how many inferences are done.
pub fn run_accel_batch(
    net: &Network,
    more: &[accelgen_golden::TensorI8],
    cfg: &HwConfig,
    opts: &RunOptions,
    mem: MemTiming,
    faults: &AccelFaults,
    progress: &mut dyn FnMut(usize),
) -> Result<AccelRun, RunError> {
    if let Some(x) = more.iter().find(|x| x.shape != net.shapes[0]) {
        return Err(RunError::Unsupported(format!("a batch input has shape {:?}, the network takes {:?}", x.shape, net.shapes[0])));
    }
    if mem.latency == 0 || mem.latency > MAX_MEM_LATENCY {
        return Err(RunError::Unsupported(format!("--mem-latency {} is out of range: allowed 1..={MAX_MEM_LATENCY}", mem.latency)));
    }
    match opts.engine {
        crate::engines::Engine::Rust | crate::engines::Engine::Verilator | crate::engines::Engine::Cross => {}
        other => {
            return Err(RunError::Unsupported(format!(
                "networks run on accel_top with --engine rust, verilator or cross, not {}",
                other.name()
            )))
        }
    }
    if cfg.memory.word_bits > 64 {
        return Err(RunError::Unsupported(format!(
            "memory.word_bits = {} is emitted but not simulated: the testbench engines carry ports of up to 64 bits (allowed here: 32, 64)",
            cfg.memory.word_bits
        )));
    }
    let compiled = compile_full(net, cfg).map_err(RunError::Unsupported)?;
    let image = memory_image(net, cfg, &compiled.layout).map_err(RunError::Unsupported)?;
    let word_bits = cfg.isa.word_bits;
    let (bytes, cstats) = compress::compress(&compiled.prog, word_bits);
    let bytes = faults.program.clone().unwrap_or(bytes);
    let words = bytes.len() / 8;
    if words > cfg.isa.buffer_depth as usize && faults.program.is_none() {
        return Err(RunError::Unsupported(format!(
            "the compressed program is {words} words, more than isa.buffer_depth = {}",
            cfg.isa.buffer_depth
        )));
    }
    let kept = compress::kept_indices(&compiled.prog);
    let layer_of: Vec<usize> = kept.iter().map(|&i| compiled.layer_of[i]).collect();
    let is_transfer: Vec<bool> = kept.iter().map(|&i| matches!(compiled.prog[i].info().name, "MEM_LOAD" | "MEM_STORE" | "MEM_LOADADD")).collect();
    let is_pool_run: Vec<bool> = kept
        .iter()
        .map(|&i| compiled.prog[i].info().name == "RUN" && compiled.prog[i].values[0] & accelgen_isa::M_POOL != 0)
        .collect();
    // A faulty program (a test's) may do more work than the compiled one, e.g. a corrupted
    // REPEAT count: its bound is the larger of the two where it decompresses.
    let loaded = faults.program.as_ref().and_then(|b| compress::decompress(b, word_bits).ok());
    let bound = period_bound(&compiled.prog, cfg, mem).max(loaded.map_or(0, |p| period_bound(&p, cfg, mem))) + words as u64;
    let e = ConvEngineParams { fault: faults.conv, ..ConvEngineParams::from_config(&cfg.pe_array) };
    let pes = (e.rows * e.cols) as u64;
    let limit = if opts.engine == crate::engines::Engine::Verilator {
        crate::conv::MAX_PE_CYCLES_VERILATOR
    } else {
        crate::conv::MAX_PE_CYCLES_RUST
    };
    if bound.saturating_mul(pes) / 4 > limit {
        return Err(RunError::Unsupported(format!(
            "this network needs up to {} clock periods of {pes} PEs, more than the {limit} PE-cycles allowed on the {} engine",
            bound / 2,
            opts.engine.name()
        )));
    }
    let u = PoolUnitParams::from_config(&cfg.pooling);
    let key = format!("{e:?} {u:?} {:?} {:?}", cfg.isa, cfg.memory);
    let cfg2 = cfg.clone();
    let word_bytes = (cfg.memory.word_bits / 8) as usize;
    let mut tb = match word_bytes {
        8 => opts.testbench(move || AccelTop::<64, 8>::with_blocks(&cfg2, &e, &u), "accel_top", &key)?,
        _ => opts.testbench(move || AccelTop::<32, 4>::with_blocks(&cfg2, &e, &u), "accel_top", &key)?,
    };
    let sim = RunError::Sim;
    let s = |n: &str| tb.sig(n).map_err(sim);
    let (reg_raddr, reg_rdata) = (s("reg_raddr")?, s("reg_rdata")?);
    let (st_done, st_error) = (s("st_done")?, s("st_error")?);
    let port = MemPort::new(&tb).map_err(sim)?;
    let (n_instr, div_now, pool_busy) = (s("perf__instr_count")?, s("pool__div_now")?, s("pool__busy")?);
    let mut memory = Memory::new(image, word_bytes, mem.latency);
    let nl = net.layers.len();
    let (mut l_cycles, mut l_reads, mut l_writes) = (vec![0u64; nl], vec![0u64; nl], vec![0u64; nl]);
    let mut l_div: Vec<Option<u64>> = vec![None; nl];

    let register_writes = load_and_start(&mut tb, &bytes, bound).map_err(sim)?;
    tb.expect_periods(|| bound / 4, "network on accel_top");

    let (mut cur_layer, mut mem_layer, mut pool_layer, mut last_n) = (0usize, 0usize, 0usize, 0u64);
    let (mut dispatched, mut period) = (vec![], 0u64);
    serve_until_done(&mut tb, &mut memory, &port, mem, bound, (st_done, st_error), |tb, _, access| {
        let n = tb.peek(n_instr);
        period += 1;
        if n != last_n {
            last_n = n;
            dispatched.resize(n as usize, period);
            let idx = (n as usize).saturating_sub(1);
            if let Some(&l) = layer_of.get(idx) {
                cur_layer = l;
                if is_transfer[idx] {
                    mem_layer = l;
                }
                if is_pool_run[idx] {
                    pool_layer = l;
                }
            }
        }
        l_cycles[cur_layer] += 1;
        if tb.is_set(pool_busy) {
            l_div[pool_layer] = Some(tb.peek(div_now).max(1));
        }
        match access {
            Some((true, words)) => l_writes[mem_layer] += words,
            Some((false, words)) => l_reads[mem_layer] += words,
            None => {}
        }
    })?;
    let error = tb.is_set(st_error);
    // Read the status and counter registers.
    let regs: [u64; 14] = read_regs(&mut tb, (reg_raddr, reg_rdata))?;
    let error_code = finished(regs[0], error)?;
    let lay = &compiled.layout;
    let output = output_of(net, lay, &memory.image)?;
    let mut stats = Map::new();
    let counts = RunCounts { regs, memory: &memory, register_writes, watchdog: bound / 2, compressed_bytes: bytes.len(), program_instructions: cstats.instructions, error_code };
    let layer_counts = LayerCounts { cycles: l_cycles, reads: l_reads, writes: l_writes, dividers: l_div };
    accel_stats(&mut stats, net, cfg, opts, mem, lay, &counts, &layer_counts);
    progress(1);
    // Every further input on the loaded program (after a clean first run): written over the
    // input region, then a start (CTRL bit 0) and the run to done; no program load.
    let mut runs = vec![];
    let (reg_we, reg_addr, reg_wdata) = (tb.sig("reg_we").map_err(sim)?, tb.sig("reg_addr").map_err(sim)?, tb.sig("reg_wdata").map_err(sim)?);
    for x in more.iter().filter(|_| error_code.is_none()) {
        let at = lay.input as usize;
        for (i, &v) in x.data.iter().enumerate() {
            memory.image[at + i] = v as u8;
        }
        tb.poke(reg_we, 1);
        tb.poke(reg_addr, 1);
        tb.poke(reg_wdata, 1);
        tb.step().map_err(sim)?;
        tb.poke(reg_we, 0);
        tb.step().map_err(sim)?;
        serve_until_done(&mut tb, &mut memory, &port, mem, bound, (st_done, st_error), |_, _, _| {})?;
        let error = tb.is_set(st_error);
        let r: [u64; 2] = read_regs(&mut tb, (reg_raddr, reg_rdata))?;
        let code = finished(r[0], error)?;
        runs.push(BatchRun { output: output_of(net, lay, &memory.image)?, cycles: r[1], error_code: code });
        progress(runs.len() + 1);
    }
    tb.report(&mut stats, opts.timing);
    tb.finish().map_err(RunError::Unsupported)?;
    Ok(AccelRun { output, stats, error_code, compiled, more: runs, dispatched })
}
