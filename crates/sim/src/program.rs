//! The instruction decompressor's host driver and testbench: loads compressed words through the
//! register interface, starts the decoder, and collects the module-register writes it emits.

use crate::{RunError, RunOptions};
use accelgen_hw::isa::{InstrDecompressor, WORD_BITS};
use accelgen_isa::Instr;
use serde_json::{json, Map, Value};

/// What one decompressor run produced.
#[derive(Clone, Debug)]
pub struct ProgramRun {
    /// The instructions written to module registers, in order.
    pub writes: Vec<Instr>,
    /// Words the buffer accepted.
    pub accepted_words: u64,
    /// Status bits at the end.
    pub error: bool,
    /// A write past capacity happened.
    pub overflow: bool,
    /// `cycles` (start to idle), `instructions`, `instructions_per_cycle`, `load_cycles`, ...
    pub stats: Map<String, Value>,
}

/// Loads `bytes` (64-bit little-endian words) into a `depth`-word decompressor, runs it, and
/// returns the writes; the run is bounded, so a malformed stream ends in an error, never a hang.
pub fn run_program(depth: usize, bytes: &[u8], opts: &RunOptions) -> Result<ProgramRun, RunError> {
    run_program_held(depth, bytes, opts, |_| false)
}

/// [`run_program`] with back-pressure: `hold(cycle)` says whether the consumer refuses the write
/// port in that cycle after start (the decompressor then presents the same instruction again);
/// a write counts only in a cycle without hold.
pub fn run_program_held(
    depth: usize,
    bytes: &[u8],
    opts: &RunOptions,
    mut hold: impl FnMut(u64) -> bool,
) -> Result<ProgramRun, RunError> {
    if bytes.len() % (WORD_BITS / 8) != 0 {
        return Err(RunError::Unsupported(format!(
            "{} bytes are not a whole number of 64-bit words",
            bytes.len()
        )));
    }
    let sim = RunError::Sim;
    let mut tb = opts.testbench(|| InstrDecompressor::new(depth), "instr_decompressor", &format!("depth {depth}"))?;
    let s = |n: &str| tb.sig(n).map_err(sim);
    let (reg_we, reg_addr, reg_wdata) = (s("reg_we")?, s("reg_addr")?, s("reg_wdata")?);
    let (wr_valid, wr_payload, st_busy) = (s("wr_valid")?, s("wr_payload")?, s("st_busy")?);
    let (count, st_error, st_overflow) = (s("count")?, s("st_error")?, s("st_overflow")?);
    let hold_port = s("hold")?;
    let mut load_cycles = 0u64;
    for word in bytes.chunks(8) {
        tb.poke(reg_we, 1);
        tb.poke(reg_addr, 0);
        tb.poke(reg_wdata, u64::from_le_bytes(word.try_into().expect("8 bytes")));
        tb.step().map_err(sim)?;
        load_cycles += 1;
    }
    tb.poke(reg_we, 1);
    tb.poke(reg_addr, 1);
    tb.poke(reg_wdata, 1);
    tb.step().map_err(sim)?;
    tb.poke(reg_we, 0);
    let t0 = tb.cycles();
    let words = (bytes.len() / 8) as u64;
    // Every word holds at most two REPEATs of at most 4096 copies each (a REPEAT is 25 bits).
    let bound = words * (2 * accelgen_isa::compress::MAX_REPEAT as u64 + 16) + 64;
    let mut writes = vec![];
    let mut held = 0u64;
    loop {
        let h = hold(tb.cycles() - t0);
        tb.poke(hold_port, h as u64);
        held += h as u64;
        let valid = tb.is_set(wr_valid);
        if valid && !h {
            let payload = tb.peek(wr_payload) as u128;
            let i = Instr::decode(payload).map_err(|e| RunError::Sim(format!("decoder wrote {e}")))?;
            writes.push(i);
        }
        if !tb.is_set(st_busy) && !valid && tb.cycles() > t0 {
            break;
        }
        if tb.cycles() - t0 > bound + held.min(bound) {
            return Err(RunError::Sim(format!(
                "the decoder did not stop within {bound} cycles; stopped at clock period {}",
                tb.cycles()
            )));
        }
        tb.step().map_err(sim)?;
    }
    let cycles = tb.cycles() - t0;
    let mut stats = Map::new();
    stats.insert("cycles".into(), json!(cycles));
    stats.insert("instructions".into(), json!(writes.len()));
    stats.insert(
        "instructions_per_cycle".into(),
        json!((writes.len() as f64 / cycles.max(1) as f64 * 10000.0).round() / 10000.0),
    );
    stats.insert("load_cycles".into(), json!(load_cycles));
    stats.insert("words".into(), json!(words));
    tb.report(&mut stats, opts.timing);
    let run = ProgramRun {
        writes,
        accepted_words: tb.peek(count),
        error: tb.is_set(st_error),
        overflow: tb.is_set(st_overflow),
        stats,
    };
    let mut stats = run.stats.clone();
    let trace = tb.take_trace();
    tb.finish().map_err(RunError::Unsupported)?;
    opts.check_engine(|| InstrDecompressor::new(depth), "instr_decompressor", trace, &mut stats)?;
    Ok(ProgramRun { stats, ..run })
}
