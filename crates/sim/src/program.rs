//! The instruction decompressor's host driver and testbench: loads compressed words through the
//! register interface, starts the decoder, and collects the module-register writes it emits.

use crate::{RunError, RunOptions};
use accelgen_hw::isa::{InstrDecompressor, WORD_BITS};
use accelgen_hw::sim::Harness;
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
    if bytes.len() % (WORD_BITS / 8) != 0 {
        return Err(RunError::Unsupported(format!(
            "{} bytes are not a whole number of 64-bit words",
            bytes.len()
        )));
    }
    let sim = RunError::Sim;
    let mut h = Harness::new(InstrDecompressor::new(depth)).map_err(sim)?;
    if opts.engine != crate::engines::Engine::Rust {
        h.record_trace();
    }
    let mut load_cycles = 0u64;
    for word in bytes.chunks(8) {
        let v = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        h.uut.reg_we.next = true;
        h.uut.reg_addr.next = 0.into();
        h.uut.reg_wdata.next = v.into();
        h.step().map_err(sim)?;
        load_cycles += 1;
    }
    h.uut.reg_we.next = true;
    h.uut.reg_addr.next = 1.into();
    h.uut.reg_wdata.next = 1u64.into();
    h.step().map_err(sim)?;
    h.uut.reg_we.next = false;
    let t0 = h.cycles;
    let words = (bytes.len() / 8) as u64;
    // Every word holds at most two REPEATs of at most 4096 copies each (a REPEAT is 25 bits).
    let bound = words * (2 * accelgen_isa::compress::MAX_REPEAT as u64 + 16) + 64;
    let mut writes = vec![];
    loop {
        h.settle().map_err(sim)?;
        if h.uut.wr_valid.val() {
            let payload = h.uut.wr_payload.val().to_u64() as u128;
            let i = Instr::decode(payload).map_err(|e| RunError::Sim(format!("decoder wrote {e}")))?;
            writes.push(i);
        }
        if !h.uut.st_busy.val() && !h.uut.wr_valid.val() && h.cycles > t0 {
            break;
        }
        if h.cycles - t0 > bound {
            return Err(RunError::Sim(format!("the decoder did not stop within {bound} cycles")));
        }
        h.step().map_err(sim)?;
    }
    let cycles = h.cycles - t0;
    let mut stats = Map::new();
    stats.insert("cycles".into(), json!(cycles));
    stats.insert("instructions".into(), json!(writes.len()));
    stats.insert(
        "instructions_per_cycle".into(),
        json!((writes.len() as f64 / cycles.max(1) as f64 * 10000.0).round() / 10000.0),
    );
    stats.insert("load_cycles".into(), json!(load_cycles));
    stats.insert("words".into(), json!(words));
    let run = ProgramRun {
        writes,
        accepted_words: h.uut.count.val().index() as u64,
        error: h.uut.st_error.val(),
        overflow: h.uut.st_overflow.val(),
        stats,
    };
    let mut stats = run.stats.clone();
    opts.check_engine(InstrDecompressor::new(depth), "instr_decompressor", h.take_trace(), &mut stats)?;
    Ok(ProgramRun { stats, ..run })
}
