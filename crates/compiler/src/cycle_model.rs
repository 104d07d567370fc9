//! Cycle model of the conv engine: the engine's control registers (issue cursor, weight loader,
//! accumulation halves, drain) stepped per fast cycle in plain Rust, with the datapath reduced to
//! the delays its tags see. It reproduces the simulation's cycle count exactly (tests check this
//! on every random layer) and runs in microseconds, so benchmarks and the pooling clock planner can
//! use it for layers far too large to simulate in rust-hdl.

use crate::conv_plan::ConvPlan;
use accelgen_config::ConvArray;

/// Cycles of one run, from the cycle after `start` to the first cycle `done` is high (the
/// testbench's `cycles` statistic), with a breakdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvCycles {
    /// Fast cycles of the run.
    pub cycles: u64,
    /// Slow cycles in which the first cache was read for a real pixel.
    pub issue_slots: u64,
    /// Slow cycles with no pixel issued (pass bubbles, weight-load and accumulation stalls).
    pub bubble_slots: u64,
}

#[derive(Clone, Copy, Default)]
struct Tag {
    valid: bool,
    swap: bool,
    last: bool,
    half: bool,
}

/// The layer and array constants the model reads.
struct Geo {
    k: u64,
    /// Weight-buffer entries per pass, R·K (a PE row's kernel j each).
    rk: u64,
    /// Strobes from issue to the last PE's input register, R + C − 1; to row 0's last PE's, C.
    to_last_pe: u64,
    to_swap_pe: u64,
    pixels: u64,
    /// Slots per pass and per row (the pixels and Wo with one column group).
    slots: u64,
    wos: u64,
    kw: u64,
    kh: u64,
    ict_n: u64,
    oct_n: u64,
}

/// The engine's control registers the model steps (names as in `ConvEngine`).
#[derive(Clone, Copy, Default)]
struct Regs {
    /// Fast sub-cycle of the slow cycle.
    sub: u64,
    /// Issue: inside a pass, every pass issued, pixels left in the pass, pixel column.
    in_pass: bool,
    all_issued: bool,
    pix_left: u64,
    px: u64,
    /// Issue cursor: kernel column and row, input tile, output tile.
    ks: u64,
    kr: u64,
    ict: u64,
    oct: u64,
    /// Weight loader: loading, the pass loaded, taken, swapped at row 0's last PE, the previous
    /// pass swapped; word, passes left.
    wl_loading: bool,
    wl_fin: bool,
    wl_taken: bool,
    wl_swapd: bool,
    wl_pswapd: bool,
    wl_n: u64,
    wl_left: u64,
    /// Accumulation halves: a tile accumulating in it, a tile done waiting for the drain.
    busy: [bool; 2],
    pend: [bool; 2],
    /// Drain: active, its half, kernel, pixels left.
    d_active: bool,
    d_half: usize,
    d_j: u64,
    d_pleft: u64,
    /// Cycles before `done` once everything has drained.
    tail: u64,
}

/// The slot tags of the last strobes (the datapath only delays them) and the strobe count: memory
/// stays constant however long the layer.
struct TagLine {
    tags: std::collections::VecDeque<Tag>,
    strobes: u64,
    keep: usize,
}

impl TagLine {
    /// The tag issued at strobe `i`, if still kept.
    fn at(&self, i: u64) -> Option<Tag> {
        let first = self.strobes - self.tags.len() as u64;
        i.checked_sub(first).and_then(|j| self.tags.get(j as usize).copied())
    }

    fn push(&mut self, tag: Tag) {
        self.tags.push_back(tag);
        if self.tags.len() > self.keep {
            self.tags.pop_front();
        }
        self.strobes += 1;
    }
}

/// What a run inside `accel_top` sees besides its plan: whether it keeps its sums (no drain:
/// `ACC_TILES.drain` 0), and when its weights arrive when they stream in while it runs (the
/// entry the data mover writes at run cycle `first + i·per`, i = 0, 1, …; `None`: all written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunEnv {
    /// The run keeps its sums: a finished tile frees its half without a drain.
    pub nodrain: bool,
    /// Streamed weights: (cycle the first entry is written, cycles per entry).
    pub weights: Option<(u64, u64)>,
}

/// The engine's cycle count for a layer.
pub fn conv_cycles(e: &ConvArray, p: &ConvPlan) -> ConvCycles {
    conv_cycles_in(e, p, &RunEnv::default())
}

/// The engine's cycle count for a run in the environment `env` (a model: [`conv_cycles`] is
/// exact for a run whose weights are all written; the streamed case models the loader's wait
/// for each entry from the mover's rate).
pub fn conv_cycles_in(e: &ConvArray, p: &ConvPlan, env: &RunEnv) -> ConvCycles {
    let e = &p.array(e);
    let (r, c, k) = (e.rows as u64, e.cols as u64, e.kernels as u64);
    let g = Geo {
        k,
        rk: r * k,
        to_last_pe: r + c - 1,
        to_swap_pe: c,
        pixels: p.pixels() as u64,
        slots: p.slots() as u64,
        wos: p.slot_width() as u64,
        kw: p.run_kernel().1 as u64,
        kh: p.run_kernel().0 as u64,
        ict_n: p.ic_tiles as u64,
        oct_n: p.oc_tiles as u64,
    };
    let passes = p.passes as u64;
    // A streaming run (one or two column groups, sums drained) sends each tile's sums out in
    // its last pass: a finished tile frees its half at once, as a run that keeps its sums does.
    let no_drain = env.nodrain || p.groups <= 2;
    let mut line = TagLine { tags: Default::default(), strobes: 0, keep: (r + c + 2) as usize };
    // The registers after the start edge.
    // The sequencer's tail: 11 cycles, 15 with ONNX Runtime's longer requantizer.
    let tail = if p.ort { 15 } else { 11 };
    let mut regs = Regs { all_issued: passes == 0, wl_loading: passes > 0, wl_pswapd: true, wl_left: passes, tail, ..Regs::default() };
    // Tile-done pulses on their way to the pending flags: (cycle, half).
    let mut pend_at: Vec<(u64, usize)> = vec![];
    let mut slots = (0u64, 0u64);
    let mut t = 0u64;
    loop {
        // `done` is the registered `fin`; the model stops at the cycle it is first seen high.
        let cur = regs;
        let strobe = cur.sub == k - 1;
        // Registers hold unless a stage below changes them.
        let mut n = cur;
        n.sub = if strobe { 0 } else { cur.sub + 1 };
        pend_at.retain(|&(at, h)| {
            if at == t {
                if no_drain {
                    // The sums stay for the next run, or left in the last pass: the half is free at once.
                    n.busy[h] = false;
                } else {
                    n.pend[h] = true;
                }
            }
            at > t
        });
        // Entries written by this cycle (all, unless streamed).
        let avail = match env.weights {
            None => u64::MAX,
            Some((first, per)) => if t >= first { (t - first) / per.max(1) + 1 } else { 0 },
        };
        let loaded = passes - cur.wl_left; // passes whose entries precede the loading one
        let pass_written = avail >= (loaded + 1).saturating_mul(g.rk);
        let entry_written = avail > loaded * g.rk + cur.wl_n;
        let last_swap = strobe && issue(&g, &cur, &mut n, &mut line, &mut slots, pass_written, |at, half| pend_at.push((t + at, half)));
        weight_loader(&g, &cur, &mut n, last_swap, entry_written);
        drain(&g, &cur, &mut n);
        let drained = cur.all_issued && !cur.busy[0] && !cur.busy[1] && !cur.d_active;
        let fin = drained && cur.tail == 0;
        if drained && cur.tail > 0 {
            n.tail = cur.tail - 1;
        }
        regs = n;
        t += 1;
        if fin {
            return ConvCycles { cycles: t, issue_slots: slots.0, bubble_slots: slots.1 };
        }
    }
}

/// A strobe: the slot issues the next pixel of the pass, starts the next pass (its weights
/// ready, its accumulation half free at a tile's first pass), or is a bubble; the cursor steps at
/// a pass's end. Counts the slot in `slots` (issued, bubble), reports a tile's last entry to
/// `pend` (cycles from now, half), and returns whether the last PE loads a swap tag.
fn issue(g: &Geo, cur: &Regs, n: &mut Regs, line: &mut TagLine, slots: &mut (u64, u64), pass_written: bool, mut pend: impl FnMut(u64, usize)) -> bool {
    let tile_first = cur.ks == 0 && cur.kr == 0 && cur.ict == 0;
    let tile_last = cur.ks + 1 == g.kw && cur.kr + 1 == g.kh && cur.ict + 1 == g.ict_n;
    let half = (cur.oct & 1) as usize;
    // The loader's `ready`: the pass loaded, or its row 0 and every entry of the pass written.
    let wl_ready = !cur.wl_taken && (cur.wl_fin || (cur.wl_loading && cur.wl_n >= g.k && pass_written));
    let can_start = wl_ready && !(tile_first && cur.busy[half]);
    let issue_next = cur.in_pass && cur.pix_left > 0;
    let issue_new = !cur.in_pass && !cur.all_issued && can_start;
    let m = line.strobes; // index of this strobe
    let n_pix_left = if issue_next { cur.pix_left - 1 } else { g.slots - 1 };
    let tag = Tag {
        valid: issue_next || issue_new,
        swap: issue_new,
        last: (issue_next || issue_new) && tile_last && n_pix_left == 0,
        half: half == 1,
    };
    if tag.valid {
        slots.0 += 1;
        n.pix_left = n_pix_left;
        n.px = if issue_next && cur.px + 1 != g.wos { cur.px + 1 } else { 0 };
    } else {
        slots.1 += 1;
    }
    if issue_new {
        n.in_pass = true;
        n.wl_taken = true;
        if tile_first {
            n.busy[half] = true;
        }
    }
    if cur.in_pass && cur.pix_left == 0 {
        n.in_pass = false;
        step_cursor(g, cur, n);
    }
    // Row 0's last PE loads the tag issued C strobes ago.
    let last_swap = (m + 1).checked_sub(g.to_swap_pe + 1).and_then(|i| line.at(i)).is_some_and(|t| t.valid && t.swap);
    // The last accumulation column stores the last entry of a tile issued R+C+1 strobes ago; the
    // drain sees the pending flag 3 cycles after this strobe.
    if let Some(tg) = m.checked_sub(g.to_last_pe + 2).and_then(|i| line.at(i)) {
        if tg.valid && tg.last {
            pend(2, tg.half as usize);
        }
    }
    line.push(tag);
    last_swap
}

/// The issue cursor after a pass: kernel column, row, input tile, output tile; past the last,
/// every pass is issued.
fn step_cursor(g: &Geo, cur: &Regs, n: &mut Regs) {
    // An odometer: the first digit below its limit steps and the ones before it restart; past
    // the last output tile every pass is issued (the tile stays).
    let limit = [g.kw, g.kh, g.ict_n, g.oct_n];
    let mut digit = [cur.ks, cur.kr, cur.ict, cur.oct];
    match (0..4).find(|&i| digit[i] + 1 != limit[i]) {
        Some(i) => {
            digit[i] += 1;
            digit[..i].fill(0);
        }
        None => {
            digit[..3].fill(0);
            n.all_issued = true;
        }
    }
    [n.ks, n.kr, n.ict, n.oct] = digit;
}

/// The weight loader: R·K entries per pass (kernel j of a PE row each), one per cycle; the next
/// pass loads (into the other shadow bank) once this one is loaded and taken and the previous
/// one swapped in at row 0's last PE (the swaps come in pass order).
fn weight_loader(g: &Geo, cur: &Regs, n: &mut Regs, last_swap: bool, entry_written: bool) {
    if cur.wl_loading && entry_written {
        if cur.wl_n + 1 == g.rk {
            n.wl_n = 0;
            n.wl_loading = false;
            n.wl_fin = true;
            n.wl_left = cur.wl_left - 1;
        } else {
            n.wl_n = cur.wl_n + 1;
        }
    }
    if last_swap {
        if !cur.wl_pswapd {
            n.wl_pswapd = true;
        } else if cur.wl_taken {
            n.wl_swapd = true;
        }
    }
    if cur.wl_fin && cur.wl_taken && (cur.wl_pswapd || last_swap) {
        n.wl_fin = false;
        n.wl_taken = false;
        n.wl_swapd = false;
        n.wl_pswapd = cur.wl_swapd || (last_swap && cur.wl_pswapd);
        n.wl_loading = cur.wl_left > 0;
    }
}

/// The drain: takes a pending half, then K·pixels entries, one per cycle, and frees the half.
fn drain(g: &Geo, cur: &Regs, n: &mut Regs) {
    if !cur.d_active {
        if let Some(h) = (0..2).find(|&h| cur.pend[h]) {
            n.pend[h] = false;
            n.d_active = true;
            n.d_half = h;
        }
        n.d_j = 0;
        n.d_pleft = g.pixels - 1;
    } else if cur.d_pleft > 0 {
        n.d_pleft = cur.d_pleft - 1;
    } else {
        n.d_pleft = g.pixels - 1;
        n.d_j = cur.d_j + 1;
        if cur.d_j + 1 == g.k {
            n.d_active = false;
            n.busy[cur.d_half] = false;
        }
    }
}

/// A closed-form upper estimate of a layer's run cycles (no stepping, no allocation; saturating):
/// every pass streams its pixels plus the pipeline fill and a weight load, then every tile drains.
pub fn cycle_estimate(e: &ConvArray, p: &ConvPlan) -> u64 {
    let e = &p.array(e);
    let u = |v: usize| v as u64;
    let per_pass = (u(p.slots()) + u(e.rows + e.cols + 4)).saturating_mul(u(e.kernels)) + u(e.rows * e.kernels);
    let drain = u(p.oc_tiles).saturating_mul(u(e.cols * e.kernels).saturating_mul(u(p.pixels())) + 16);
    u(p.passes).saturating_mul(per_pass).saturating_add(drain).saturating_add(1000)
}
