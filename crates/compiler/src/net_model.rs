//! Cycle model of a whole program on `accel_top` (a model, not a simulation): the dispatch rules
//! of docs/accelerator.md applied to the compiled program, with each module's busy time from its
//! own model — the conv engine's cycle model for a run ([`conv_cycles_in`], with the weights a run
//! streams arriving at the data mover's rate), the pooling unit's enabled-cycle model times its
//! divider, and the data mover's transfer time (one element per cycle, a weight entry or a
//! first-cache word per cycle for loads in word steps, a bus word per cycle for stores and copies
//! of the conv output in word steps, plus a fixed start and finish). It predicts when each instruction
//! is dispatched, hence the cycles the run statistics attribute to each layer (cycles while the
//! layer's instructions were the last dispatched) and the whole run.

use crate::conv_plan::ConvPlan;
use crate::cycle_model::{conv_cycles_in, RunEnv};
use crate::lower::Compiled;
use accelgen_config::HwConfig;
use accelgen_isa::{Instr, M_ACC, M_ACT, M_MEM, M_PE, M_POOL};
use std::collections::HashMap;

/// The model's prediction for a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramCycles {
    /// Clock periods from the start to `done` (the CYCLES register).
    pub cycles: u64,
    /// Per layer, the periods while its instructions were the last dispatched.
    pub layer_cycles: Vec<u64>,
    /// Per dispatched (kept) instruction, the period it is seen dispatched, counted from the start
    /// as the run's per-layer figures count.
    pub dispatched: Vec<u64>,
}

/// Fixed parts of the model, in clock periods, fitted to the simulation's dispatch times on LeNet-5
/// (docs/accelerator.md).
mod cost {
    /// From the start to the first instruction's dispatch (decompressor fetch, queue).
    pub const FIRST: u64 = 10;
    /// A load's cycles beyond one per element (start, first word's latency, last write).
    pub const LOAD: u64 = 4;
    /// A store's or copy's cycles beyond one per element.
    pub const STORE: u64 = 3;
    /// A bus-word weight load's cycles beyond one per entry.
    pub const WIDE: u64 = 4;
    /// Run cycles after the mover's start before its first weight entry is written.
    pub const FIRST_ENTRY: u64 = 3;
    /// A pooling run's cycles beyond its enabled cycles times the divider.
    pub const POOL: u64 = 2;
    /// From `END`'s dispatch to `done`.
    pub const END: u64 = 1;
    /// A load-add's cycles beyond a load's (an element per cycle): the output buffer read, the
    /// operands' register and the add unit's 18 stages drained before the transfer is done (the
    /// data mover's load-add, docs/accelerator.md, "Residual adds").
    pub const LOADADD: u64 = 21;
    /// RUN and transfers wait this many periods after a module-register write (the write lands a
    /// cycle after its acceptance, then two product stages); `MEM_SHAPE` and `MEM_ROWS` are the
    /// dispatcher's own registers and need none.
    pub const SETTLE: u64 = 4;
}

/// Whether a first-cache load (`MEM_LOAD` target 0 of `words` elements at `addr`, `MEM_SHAPE`
/// `len` and `stride`, `MEM_ROWS` `run` and `step`) moves a bus word per cycle: the data mover's
/// rule (crates/hw/src/top/mover/mod.rs, docs/accelerator.md). The first cache's banks have L
/// byte lanes (`HwConfig::first_cache_lanes` > 1) and every chunk and run is whole words: the
/// address, the stride, the chunk length (`len`, or `words` for one chunk), the element count and,
/// with runs, the run length and step are multiples of L.
pub fn fc_word_steps(cfg: &HwConfig, addr: u64, words: u64, len: u64, stride: u64, run: u64, step: u64) -> bool {
    whole_words(cfg.first_cache_lanes() as u64, addr, words, len, stride, run, step)
}

/// Whether a first-cache load (`MEM_LOAD` target 0 at `addr`, `MEM_SHAPE` `len` and `stride`,
/// `MEM_ROWS` `run` and `bcast`) spreads a bus word per cycle, byte r into bank r: the data
/// mover's rule (crates/hw/src/top/mover/mod.rs, docs/accelerator.md). The first cache has a bank
/// per byte of a word (R = L, 2 ≤ L ≤ 8) and the chunks are single consecutive elements (`len`
/// 1, `stride` 1) from a word-aligned address, without runs or broadcast: a fully connected
/// layer's input vector.
pub fn fc_spread_steps(cfg: &HwConfig, addr: u64, len: u64, stride: u64, run: u64, bcast: u64) -> bool {
    let l = (cfg.memory.word_bits / 8) as u64;
    cfg.pe_array.rows as u64 == l && (2..=8).contains(&l) && len == 1 && stride == 1 && run == 0 && bcast == 0 && addr % l == 0
}

/// The data mover's "whole words" rule for a transfer on L > 1 lanes: the address, the stride,
/// the chunk length (`len`, or `words` for one chunk), the element count and, with runs, the run
/// length and step are multiples of L.
fn whole_words(l: u64, addr: u64, words: u64, len: u64, stride: u64, run: u64, step: u64) -> bool {
    let chunk = if len == 0 { words } else { len };
    l > 1 && [addr, stride, chunk, words].iter().all(|v| v % l == 0) && (run == 0 || (run % l == 0 && step % l == 0))
}

/// Whether a store of the conv output (`MEM_STORE` source 0 of `words` int8 elements at `addr`,
/// `MEM_SHAPE` `len` and `stride`, `MEM_ROWS` `run` and `step`) moves a bus word per cycle: the
/// output banks have L byte lanes (`HwConfig::output_lanes` > 1), the run requantizes (`raw`
/// false: one byte per element) and every chunk and run is whole words (the data mover's rule,
/// as for first-cache loads: [`fc_word_steps`]).
#[allow(clippy::too_many_arguments)]
pub fn store_word_steps(cfg: &HwConfig, raw: bool, addr: u64, words: u64, len: u64, stride: u64, run: u64, step: u64) -> bool {
    !raw && whole_words(cfg.output_lanes() as u64, addr, words, len, stride, run, step)
}

/// Whether a copy of the conv output into the feature memory (`MEM_COPY` of `words` elements,
/// `MEM_SHAPE` `len`, onto a map `fw` wide: `POOL_SHAPE`'s width) moves a bus word per cycle: the
/// output banks and the feature-memory banks have L byte lanes
/// (`HwConfig::feature_memory_lanes` > 1), every chunk is whole words (the chunk length and the
/// element count multiples of L) and the map is at least L wide, so that a word touches at most
/// two padded rows (the data mover's rule).
pub fn copy_word_steps(cfg: &HwConfig, words: u64, len: u64, fw: u64) -> bool {
    let l = cfg.feature_memory_lanes() as u64;
    let chunk = if len == 0 { words } else { len };
    l > 1 && chunk % l == 0 && words % l == 0 && fw >= l
}

/// Idle-from periods of the mover, the conv engine and the pooling unit.
#[derive(Default)]
struct Busy {
    mem: u64,
    conv: u64,
    pool: u64,
}

impl Busy {
    /// The period from which every module of `mask` is idle (pe, acc, act: the conv engine).
    fn idle(&self, mask: u64) -> u64 {
        let mut t = 0;
        if mask & M_MEM != 0 {
            t = t.max(self.mem);
        }
        if mask & (M_PE | M_ACC | M_ACT) != 0 {
            t = t.max(self.conv);
        }
        if mask & M_POOL != 0 {
            t = t.max(self.pool);
        }
        t
    }
}

/// The program's cycles on `cfg` with a memory of read latency `latency` (no stalls), per layer
/// and per instruction. Fitted at latency 1; a longer latency adds to each load once.
pub fn program_cycles(c: &Compiled, cfg: &HwConfig, latency: u32) -> Result<ProgramCycles, String> {
    let extra = u64::from(latency.max(1)) - 1;
    let e = cfg.conv_array();
    let u = cfg.pool_array();
    let word_bytes = (cfg.memory.word_bits / 8) as u64;
    let wide = e.cols as u64 == word_bytes && word_bytes <= 8;
    let kept = accelgen_isa::compress::kept_indices(&c.prog);
    let mut regs: HashMap<&'static str, Vec<u64>> = HashMap::new();
    let reg = |regs: &HashMap<&'static str, Vec<u64>>, name: &str, n: usize| -> Vec<u64> {
        regs.get(name).cloned().unwrap_or_else(|| vec![0; n])
    };
    let mut busy = Busy::default();
    let (mut settle, mut prev) = (0u64, None::<u64>);
    // The last weight load: (its start period, its periods, periods per weight-buffer entry:
    // 1 in word steps, C at an element per cycle), for the run that streams it.
    let mut wload: Option<(u64, u64, u64)> = None;
    let mut div = 1u64;
    let mut dispatched = Vec::with_capacity(kept.len());
    let mut end = 0u64;
    for &idx in &kept {
        let i: &Instr = &c.prog[idx];
        let info = i.info();
        let name = info.name;
        let v = &i.values;
        let mut at = prev.map_or(cost::FIRST, |p| p + 1);
        match name {
            "END" => {
                at = at.max(busy.idle(M_MEM | M_PE | M_POOL));
                end = at + cost::END;
            }
            "NOP" => {}
            "SYNC" => at = at.max(busy.idle(v[0])),
            "RUN" => {
                at = at.max(busy.idle(v[0])).max(settle);
                let start = at + 1;
                if v[0] & (M_PE | M_ACC | M_ACT) != 0 {
                    let s = reg(&regs, "PE_SHAPE", 4);
                    let kn = reg(&regs, "PE_KERNEL", 7);
                    let t = reg(&regs, "ACC_TILES", 6);
                    let sc = reg(&regs, "ACT_SCALE", 4);
                    let rq = reg(&regs, "ACT_REQUANT", 5);
                    let cols = reg(&regs, "PE_COLS", 2);
                    let k = if kn[6] == 0 { e.kernels } else { kn[6] as usize };
                    let z = |x: u64| x as usize;
                    let (ic_tiles, oc_tiles) = (z(t[0]), z(t[1]));
                    let plan = ConvPlan {
                        cin: ic_tiles * e.rows,
                        h: z(s[0]),
                        w: z(s[1]),
                        cout: oc_tiles * e.cols * k,
                        ho: z(s[2]),
                        wo: z(s[3]),
                        kh: z(kn[0]),
                        kw: z(kn[1]),
                        stride: [z(kn[2]), z(kn[3])],
                        padding: [z(kn[4]), z(kn[5])],
                        pad_end: [0, 0],
                        ic_tiles,
                        oc_tiles,
                        passes: ic_tiles * oc_tiles * z(kn[0]) * z(kn[1]),
                        macs: 0,
                        ort: sc[0] != 0 && rq[0] != 0,
                        row_view: false,
                        taps: false,
                        pass_cols: false,
                        kernels: k,
                        groups: 1 << cols[0],
                        gshift: z(cols[1]),
                        kwb: z(kn[1]),
                    };
                    if plan.passes == 0 || plan.ho * plan.wo == 0 {
                        return Err(format!("instruction {idx}: a conv run with a zero size or tile count"));
                    }
                    // Weights still streaming in from the last weight load.
                    // (An entry counts once its last bank's weight is written: per − 1 periods after
                    // its first.)
                    let weights = wload.filter(|&(ws, n, _)| ws + n + cost::FIRST_ENTRY > start).map(|(ws, _, per)| {
                        let first = (ws + cost::FIRST_ENTRY + per - 1).saturating_sub(start);
                        (first, per)
                    });
                    let env = RunEnv { nodrain: t[3] == 0, weights };
                    busy.conv = start + conv_cycles_in(&e, &plan, &env).cycles;
                }
                if v[0] & M_POOL != 0 {
                    let s = reg(&regs, "POOL_SHAPE", 5);
                    let g = reg(&regs, "POOL_GEOM", 2);
                    // The unit's enabled-cycle model (PoolPlan::enabled_cycles) from its registers.
                    let enabled = crate::pool_plan::enabled_cycles(&u, s[0], s[3], g[1]);
                    busy.pool = start + enabled * div + cost::POOL;
                }
            }
            "MEM_LOAD" | "MEM_STORE" | "MEM_COPY" => {
                at = at.max(busy.mem).max(settle);
                let start = at + 1;
                let words = if name == "MEM_COPY" { v[0] } else { v[2] };
                let sh = reg(&regs, "MEM_SHAPE", 3);
                let rows = reg(&regs, "MEM_ROWS", 4);
                let dur = if name == "MEM_LOAD" && v[0] == 0 && fc_word_steps(cfg, v[1], words, sh[0], sh[1], rows[0], rows[2]) {
                    words / cfg.first_cache_lanes() as u64 + cost::WIDE + extra
                } else if name == "MEM_LOAD" && v[0] == 0 && fc_spread_steps(cfg, v[1], sh[0], sh[1], rows[0], rows[3]) {
                    words.div_ceil(cfg.pe_array.rows as u64) + cost::WIDE + extra
                } else if name == "MEM_STORE" && v[0] == 0 && store_word_steps(cfg, reg(&regs, "ACT_REQUANT", 5)[0] == 0, v[1], words, sh[0], sh[1], rows[0], rows[2]) {
                    words / cfg.output_lanes() as u64 + cost::STORE
                } else if name == "MEM_COPY" && copy_word_steps(cfg, words, sh[0], reg(&regs, "POOL_SHAPE", 5)[2]) {
                    words / cfg.feature_memory_lanes() as u64 + cost::STORE
                } else if name == "MEM_LOAD" && v[0] == 1 && wide {
                    let entries = words.div_ceil(e.cols as u64);
                    wload = Some((start, entries, 1));
                    entries + cost::WIDE + extra
                } else {
                    if name == "MEM_LOAD" && v[0] == 1 {
                        wload = Some((start, words.div_ceil(e.cols as u64) * e.cols as u64, e.cols as u64));
                    }
                    words + if name == "MEM_LOAD" { cost::LOAD + extra } else { cost::STORE }
                };
                busy.mem = start + dur;
            }
            "MEM_LOADADD" => {
                at = at.max(busy.mem).max(settle);
                busy.mem = at + 1 + v[1] + cost::LOAD + extra + cost::LOADADD;
            }
            _ => {
                // A register write: waits for its module to be idle.
                at = at.max(busy.idle(info.module.mask()));
                if name == "POOL_CLOCK" {
                    // The hardware applies it when the running convolution is done (at once when
                    // the engine is idle); the compiler writes it before the pooling runs it is
                    // for can start, so the model applies it at once.
                    div = v[0].max(1);
                }
                regs.insert(name, v.clone());
                if info.module != accelgen_isa::Module::Mem {
                    settle = at + cost::SETTLE;
                }
            }
        }
        dispatched.push(at);
        prev = Some(at);
    }
    if end == 0 {
        return Err("the program has no END".into());
    }
    let nl = c.layout.layers.len();
    let mut layer_cycles = vec![0u64; nl];
    for (n, &idx) in kept.iter().enumerate() {
        let next = dispatched.get(n + 1).copied().unwrap_or(end);
        let l = c.layer_of[idx].min(nl.saturating_sub(1));
        layer_cycles[l] += next - dispatched[n];
    }
    // Periods before the first dispatch count for the first layer.
    if let (Some(first), Some(l0)) = (dispatched.first(), layer_cycles.first_mut()) {
        *l0 += first;
    }
    Ok(ProgramCycles { cycles: end, layer_cycles, dispatched })
}
