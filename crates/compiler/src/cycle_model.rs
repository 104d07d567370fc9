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

/// The engine's cycle count for a layer.
pub fn conv_cycles(e: &ConvArray, p: &ConvPlan) -> ConvCycles {
    let (r, c, k) = (e.rows as u64, e.cols as u64, e.kernels as u64);
    let rck = r * c * k;
    let (pixels, wo) = (p.pixels() as u64, p.wo as u64);
    let (kw, kh, ict_n, oct_n) = (p.kw as u64, p.kh as u64, p.ic_tiles as u64, p.oc_tiles as u64);
    let passes = p.passes as u64;
    // Slot tags of the last R+C+2 strobes (the datapath only delays them), and the strobe count:
    // memory stays constant however long the layer.
    let keep = (r + c + 2) as usize;
    let mut tags: std::collections::VecDeque<Tag> = std::collections::VecDeque::with_capacity(keep + 1);
    let mut strobes = 0u64;
    // The tag issued at strobe `i`, if still kept.
    let tag_at = |tags: &std::collections::VecDeque<Tag>, strobes: u64, i: u64| -> Option<Tag> {
        let first = strobes - tags.len() as u64;
        i.checked_sub(first).and_then(|j| tags.get(j as usize).copied())
    };
    // State (the engine's registers after the start edge).
    let mut sub = 0u64;
    let mut in_pass = false;
    let mut all_issued = passes == 0;
    let (mut pix_left, mut px) = (0u64, 0u64);
    let (mut ks, mut kr, mut ict, mut oct) = (0u64, 0u64, 0u64, 0u64);
    let mut wl_loading = passes > 0;
    let (mut wl_ready, mut wl_wait) = (false, false);
    let (mut wl_n, mut wl_left) = (0u64, passes);
    let mut busy = [false; 2];
    let mut pend = [false; 2];
    let (mut d_active, mut d_half) = (false, 0usize);
    let (mut d_j, mut d_pleft) = (0u64, 0u64);
    let mut tail = 8u64;
    let mut pend_at: Vec<(u64, usize)> = vec![];
    let (mut issue_slots, mut bubble_slots) = (0u64, 0u64);
    let mut t = 0u64;
    loop {
        // `done` is the registered `fin`; the model stops at the cycle it is first seen high.
        let strobe = sub == k - 1;
        let mut n = Snapshot { sub: if strobe { 0 } else { sub + 1 }, ..Snapshot::default() };
        n.copy_from(in_pass, all_issued, pix_left, px, wl_loading, wl_ready, wl_wait);
        let mut n_busy = busy;
        let mut n_pend = pend;
        // Tile-done pulses become pending drains.
        pend_at.retain(|&(at, h)| {
            if at == t {
                n_pend[h] = true;
            }
            at > t
        });
        // Issue.
        let tile_first = ks == 0 && kr == 0 && ict == 0;
        let tile_last = ks + 1 == kw && kr + 1 == kh && ict + 1 == ict_n;
        let half = (oct & 1) as usize;
        let can_start = wl_ready && !(tile_first && busy[half]);
        let issue_next = in_pass && pix_left > 0;
        let issue_new = !in_pass && !all_issued && can_start;
        let mut last_swap = false;
        let (mut n_ks, mut n_kr, mut n_ict, mut n_oct) = (ks, kr, ict, oct);
        if strobe {
            let m = strobes; // index of this strobe
            let n_pix_left = if issue_next { pix_left - 1 } else { pixels - 1 };
            let tag = Tag {
                valid: issue_next || issue_new,
                swap: issue_new,
                last: (issue_next || issue_new) && tile_last && n_pix_left == 0,
                half: half == 1,
            };
            if tag.valid {
                issue_slots += 1;
                n.pix_left = n_pix_left;
                n.px = if issue_next && px + 1 != wo { px + 1 } else { 0 };
            } else {
                bubble_slots += 1;
            }
            if issue_new {
                n.in_pass = true;
                n.wl_ready = false;
                n.wl_wait = true;
                if tile_first {
                    n_busy[half] = true;
                }
            }
            if in_pass && pix_left == 0 {
                n.in_pass = false;
                if ks + 1 != kw {
                    n_ks = ks + 1;
                } else {
                    n_ks = 0;
                    if kr + 1 != kh {
                        n_kr = kr + 1;
                    } else {
                        n_kr = 0;
                        if ict + 1 != ict_n {
                            n_ict = ict + 1;
                        } else {
                            n_ict = 0;
                            if oct + 1 != oct_n {
                                n_oct = oct + 1;
                            } else {
                                n.all_issued = true;
                            }
                        }
                    }
                }
            }
            // The last PE loads the tag issued R+C−1 strobes ago.
            if let Some(i) = (m + 1).checked_sub(r + c) {
                last_swap = tag_at(&tags, strobes, i).is_some_and(|t| t.valid && t.swap);
            }
            // The last accumulation column stores the last entry of a tile issued R+C+1 strobes
            // ago; the drain sees the pending flag 3 cycles after this strobe.
            if let Some(i) = m.checked_sub(1 + r + c) {
                if let Some(tg) = tag_at(&tags, strobes, i) {
                    if tg.valid && tg.last {
                        pend_at.push((t + 2, tg.half as usize));
                    }
                }
            }
            tags.push_back(tag);
            if tags.len() > keep {
                tags.pop_front();
            }
            strobes += 1;
        }
        // Weight loader.
        if wl_loading {
            if wl_n + 1 == rck {
                wl_n = 0;
                n.wl_loading = false;
                n.wl_ready = true;
                wl_left -= 1;
            } else {
                wl_n += 1;
            }
        }
        if wl_wait && last_swap {
            n.wl_wait = false;
            n.wl_loading = wl_left > 0;
        }
        // Drain.
        let mut n_d_active = d_active;
        if !d_active {
            for h in 0..2 {
                if pend[h] {
                    n_pend[h] = false;
                    n_d_active = true;
                    d_half = h;
                    break;
                }
            }
            d_j = 0;
            d_pleft = pixels - 1;
        } else if d_pleft > 0 {
            d_pleft -= 1;
        } else {
            let d_end = d_j + 1 == k;
            d_pleft = pixels - 1;
            d_j += 1;
            if d_end {
                n_d_active = false;
                n_busy[d_half] = false;
            }
        }
        // Finish.
        let mut fin = false;
        if all_issued && !busy[0] && !busy[1] && !d_active {
            if tail > 0 {
                tail -= 1;
            } else {
                fin = true;
            }
        }
        // Edge.
        sub = n.sub;
        in_pass = n.in_pass;
        all_issued = n.all_issued;
        pix_left = n.pix_left;
        px = n.px;
        wl_loading = n.wl_loading;
        wl_ready = n.wl_ready;
        wl_wait = n.wl_wait;
        busy = n_busy;
        pend = n_pend;
        d_active = n_d_active;
        ks = n_ks;
        kr = n_kr;
        ict = n_ict;
        oct = n_oct;
        t += 1;
        if fin {
            return ConvCycles { cycles: t, issue_slots, bubble_slots };
        }
    }
}

/// Next-state values of the single-bit and cursor registers.
#[derive(Default)]
struct Snapshot {
    sub: u64,
    in_pass: bool,
    all_issued: bool,
    pix_left: u64,
    px: u64,
    wl_loading: bool,
    wl_ready: bool,
    wl_wait: bool,
}

impl Snapshot {
    #[allow(clippy::too_many_arguments)]
    fn copy_from(
        &mut self,
        in_pass: bool,
        all_issued: bool,
        pix_left: u64,
        px: u64,
        wl_loading: bool,
        wl_ready: bool,
        wl_wait: bool,
    ) {
        self.in_pass = in_pass;
        self.all_issued = all_issued;
        self.pix_left = pix_left;
        self.px = px;
        self.wl_loading = wl_loading;
        self.wl_ready = wl_ready;
        self.wl_wait = wl_wait;
    }
}

/// A closed-form upper estimate of a layer's run cycles (no stepping, no allocation; saturating):
/// every pass streams its pixels plus the pipeline fill and a weight load, then every tile drains.
pub fn cycle_estimate(e: &ConvArray, p: &ConvPlan) -> u64 {
    let u = |v: usize| v as u64;
    let per_pass = (u(p.pixels()) + u(e.rows + e.cols + 4)).saturating_mul(u(e.kernels)) + u(e.rows * e.cols * e.kernels);
    let drain = u(p.oc_tiles).saturating_mul(u(e.cols * e.kernels).saturating_mul(u(p.pixels())) + 16);
    u(p.passes).saturating_mul(per_pass).saturating_add(drain).saturating_add(1000)
}
