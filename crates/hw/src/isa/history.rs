//! # History: the instructions the decompressor issued, for `REPEAT` copies
//!
//! `REPEAT dist, count` issues copies of the instruction dist back, a transfer's address continued
//! by its step from the one 2·dist back (docs/isa.md). The last 512 issued instructions are kept
//! in two RAMs with one read port each: `hist_c` for the copy, `hist_p` (33 low bits: opcode,
//! target and address of a transfer) for the one a period earlier. An issued instruction is
//! written a cycle later from `last` (timing: the RAMs' write data is a register), so distances
//! 1, 2 and 3 are taken from the last three issued instructions instead (`d1`, `d2`, `d3`); the
//! read of a word written in the same cycle is never used. The reads are registered (`cc_r`,
//! `pp_r`) before the address arithmetic: a copy's reads are issued two cycles before it issues.
//!
//! Read addresses, for distance d = f + 1 (the field `f`), hptr the next write position: the
//! `REPEAT` waiting in the token register reads for its copy after one more issue when it primes
//! (`prime`) and after two otherwise; a `REPEAT` the unpacker decodes now (`f_new`) reads for
//! after the token's issue (`tk_valid`) or none. `fill` counts issued instructions (saturating at 1023).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `start`, `hold` | in | 1 | clock; a run starts (empty); freeze (no read, no new write) |
//! | `issue`, `x` | in | 1, 64 | an instruction is issued this cycle |
//! | `d1`, `d2`, `d3` | in | 1 | the token's `REPEAT` has distance 1, 2, 3 (bypass) |
//! | `f_tk`, `f_new` | in | 16 | distance fields of the token and of the instruction the unpacker decodes |
//! | `rep_wait`, `prime`, `tk_valid` | in | 1 | which read this cycle is for (above) |
//! | `cc`, `pp` | out | 64, 33 | the copy source and the instruction a period earlier |
//! | `fill` | out | 10 | instructions issued since start (saturating) |

use crate::mem::SyncRam;
use rust_hdl::prelude::*;

/// Entries of the history RAMs: two `REPEAT` periods of the longest distance.
pub const HISTORY_DEPTH: usize = 2 * accelgen_isa::compress::MAX_DIST;
// Addresses wrap with a 9-bit mask below.
const _: () = assert!(HISTORY_DEPTH == 512);

/// The history.
#[derive(LogicBlock)]
pub struct History {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// Freeze.
    pub hold: Signal<In, Bit>,
    /// An instruction is issued.
    pub issue: Signal<In, Bit>,
    /// The instruction.
    pub x: Signal<In, Bits<64>>,
    /// The token's `REPEAT` has distance 1.
    pub d1: Signal<In, Bit>,
    /// Distance 2.
    pub d2: Signal<In, Bit>,
    /// Distance 3.
    pub d3: Signal<In, Bit>,
    /// The token's distance field.
    pub f_tk: Signal<In, Bits<16>>,
    /// The distance field of the instruction the unpacker decodes.
    pub f_new: Signal<In, Bits<16>>,
    /// A `REPEAT` waits in the token register for another copy.
    pub rep_wait: Signal<In, Bit>,
    /// It primes this cycle.
    pub prime: Signal<In, Bit>,
    /// The token register holds an instruction.
    pub tk_valid: Signal<In, Bit>,
    /// The copy source.
    pub cc: Signal<Out, Bits<64>>,
    /// The instruction a period earlier (33 low bits).
    pub pp: Signal<Out, Bits<33>>,
    /// Instructions issued since start.
    pub fill: Signal<Out, Bits<10>>,
    hist_c: SyncRam<Bits<64>>,
    hist_p: SyncRam<Bits<33>>,
    /// Write position, and it + 1, − 1, − 2 (timing: each read address is one subtraction).
    hptr: DFF<Bits<16>>,
    hp1: DFF<Bits<16>>,
    hm1: DFF<Bits<16>>,
    hm2: DFF<Bits<16>>,
    count: DFF<Bits<10>>,
    last: DFF<Bits<64>>,
    last2: DFF<Bits<64>>,
    last3: DFF<Bits<64>>,
    /// The history write, a cycle after the issue.
    hw_en: DFF<Bit>,
    hw_addr: DFF<Bits<16>>,
    cc_r: DFF<Bits<64>>,
    pp_r: DFF<Bits<33>>,
    /// Read address candidates: copy and period-earlier, for the token's next copy after one or
    /// two issues, and for a newly decoded `REPEAT` (from either word) after zero or one.
    ra_rep1: Signal<Local, Bits<16>>,
    ra_rep2: Signal<Local, Bits<16>>,
    rp_rep1: Signal<Local, Bits<16>>,
    rp_rep2: Signal<Local, Bits<16>>,
    ra_new0: Signal<Local, Bits<16>>,
    ra_new1: Signal<Local, Bits<16>>,
    rp_new0: Signal<Local, Bits<16>>,
    rp_new1: Signal<Local, Bits<16>>,
}

impl Default for History {
    fn default() -> Self {
        block_with_defaults!(History {
            hist_c: SyncRam::collision_free(HISTORY_DEPTH),
            hist_p: SyncRam::collision_free(HISTORY_DEPTH),
        } defaults {
            clock, start, hold, issue, x, d1, d2, d3, f_tk, f_new, rep_wait, prime, tk_valid, cc, pp, fill, hptr, hp1, hm1, hm2, count, last,
            last2, last3, hw_en, hw_addr, cc_r, pp_r, ra_rep1, ra_rep2, rp_rep1, rp_rep2, ra_new0,
            ra_new1, rp_new0, rp_new1,
        })
    }
}

impl Logic for History {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, hptr, hp1, hm1, hm2, count, last, last2, last3, hw_en, hw_addr, cc_r, pp_r);
        clock!(self, clock, hist_c, hist_p);
        self.fill.next = self.count.q.val();
        self.cc_r.d.next = self.hist_c.r_data.val();
        self.pp_r.d.next = self.hist_p.r_data.val();
        if self.d1.val() {
            self.cc.next = self.last.q.val();
            self.pp.next = self.last2.q.val().get_bits::<33>(0);
        } else if self.d2.val() {
            self.cc.next = self.last2.q.val();
            self.pp.next = self.pp_r.q.val();
        } else if self.d3.val() {
            self.cc.next = self.last3.q.val();
            self.pp.next = self.pp_r.q.val();
        } else {
            self.cc.next = self.cc_r.q.val();
            self.pp.next = self.pp_r.q.val();
        }
        // The write of last cycle's issue (from `last`).
        self.hist_c.w_en.next = self.hw_en.q.val();
        self.hist_c.w_addr.next = self.hw_addr.q.val();
        self.hist_c.w_data.next = self.last.q.val();
        self.hist_p.w_en.next = self.hw_en.q.val();
        self.hist_p.w_addr.next = self.hw_addr.q.val();
        self.hist_p.w_data.next = self.last.q.val().get_bits::<33>(0);
        self.hw_en.d.next = self.issue.val();
        self.hw_addr.d.next = self.hptr.q.val();
        if self.issue.val() {
            self.last.d.next = self.x.val();
            self.last2.d.next = self.last.q.val();
            self.last3.d.next = self.last2.q.val();
            self.hptr.d.next = (self.hptr.q.val() + 1) & bits::<16>(511);
            self.hp1.d.next = self.hp1.q.val() + 1;
            self.hm1.d.next = self.hm1.q.val() + 1;
            self.hm2.d.next = self.hm2.q.val() + 1;
            if self.count.q.val() != 1023 {
                self.count.d.next = self.count.q.val() + 1;
            }
        }
        // Reads (d = f + 1: hptr + k − d = (hptr + k − 1) − f).
        self.ra_new0.next = self.hm1.q.val() - self.f_new.val();
        self.ra_new1.next = self.hptr.q.val() - self.f_new.val();
        self.rp_new0.next = self.hm2.q.val() - (self.f_new.val() << 1);
        self.rp_new1.next = self.hm1.q.val() - (self.f_new.val() << 1);
        self.ra_rep1.next = self.hptr.q.val() - self.f_tk.val();
        self.ra_rep2.next = self.hp1.q.val() - self.f_tk.val();
        self.rp_rep1.next = self.hm1.q.val() - (self.f_tk.val() << 1);
        self.rp_rep2.next = self.hptr.q.val() - (self.f_tk.val() << 1);
        self.hist_c.r_en.next = true;
        self.hist_p.r_en.next = true;
        if self.rep_wait.val() {
            if self.prime.val() {
                self.hist_c.r_addr.next = self.ra_rep1.val() & bits::<16>(511);
                self.hist_p.r_addr.next = self.rp_rep1.val() & bits::<16>(511);
            } else {
                self.hist_c.r_addr.next = self.ra_rep2.val() & bits::<16>(511);
                self.hist_p.r_addr.next = self.rp_rep2.val() & bits::<16>(511);
            }
        } else if self.tk_valid.val() {
            self.hist_c.r_addr.next = self.ra_new1.val() & bits::<16>(511);
            self.hist_p.r_addr.next = self.rp_new1.val() & bits::<16>(511);
        } else {
            self.hist_c.r_addr.next = self.ra_new0.val() & bits::<16>(511);
            self.hist_p.r_addr.next = self.rp_new0.val() & bits::<16>(511);
        }
        if self.hold.val() {
            self.hptr.d.next = self.hptr.q.val();
            self.hp1.d.next = self.hp1.q.val();
            self.hm1.d.next = self.hm1.q.val();
            self.hm2.d.next = self.hm2.q.val();
            self.count.d.next = self.count.q.val();
            self.last.d.next = self.last.q.val();
            self.last2.d.next = self.last2.q.val();
            self.last3.d.next = self.last3.q.val();
            // Last cycle's issue is written now (its data, `last`, holds); this cycle's issue is
            // not taken, so nothing is written next cycle.
            self.hw_en.d.next = false;
            self.cc_r.d.next = self.cc_r.q.val();
            self.pp_r.d.next = self.pp_r.q.val();
            self.hist_c.r_en.next = false;
            self.hist_p.r_en.next = false;
        }
        if self.start.val() {
            self.hptr.d.next = 0.into();
            self.hp1.d.next = 1.into();
            self.hm1.d.next = bits::<16>(65535);
            self.hm2.d.next = bits::<16>(65534);
            self.count.d.next = 0.into();
            self.last.d.next = 0.into();
            self.last2.d.next = 0.into();
            self.last3.d.next = 0.into();
            self.hw_en.d.next = false;
        }
    }
}

crate::clocked!(History);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random instructions issued with gaps, then a `REPEAT` of random distance decoded from the
    /// current word: two cycles later the copy source is the instruction d back and the
    /// period-earlier one 2d back (through the RAMs, or the bypass for d ≤ 3), and `fill` counts
    /// the issues.
    #[test]
    fn copies_read_d_and_2d_back() {
        let mut rng = Rng::from_env("history", 59);
        let mut h = Harness::new(History::default()).unwrap();
        for _ in 0..25 {
            h.uut.start.next = true;
            h.step().unwrap();
            h.uut.start.next = false;
            let n = 2 + rng.below(600) as usize;
            let issued: Vec<u64> = (0..n).map(|_| rng.below(u64::MAX)).collect();
            for &x in &issued {
                h.uut.issue.next = true;
                h.uut.x.next = x.into();
                h.step().unwrap();
                h.uut.issue.next = false;
                if rng.below(4) == 0 {
                    h.step().unwrap();
                }
            }
            h.step().unwrap();
            let d = 1 + rng.below((n / 2).min(256) as u64) as usize;
            let f = (d - 1) as u64;
            h.uut.f_new.next = f.into();
            for (flag, dd) in [(0, 1), (1, 2), (2, 3)] {
                let on = dd == d;
                match flag {
                    0 => h.uut.d1.next = on,
                    1 => h.uut.d2.next = on,
                    _ => h.uut.d3.next = on,
                }
            }
            h.step().unwrap();
            h.step().unwrap();
            let ctx = format!("{n} issued, distance {d}");
            assert_eq!(h.uut.cc.val(), bits::<64>(issued[n - d]), "{ctx}: copy source");
            assert_eq!(h.uut.pp.val(), bits::<33>(issued[n - 2 * d] & ((1 << 33) - 1)), "{ctx}: a period earlier");
            assert_eq!(h.uut.fill.val(), bits::<10>(n.min(1023) as u64), "{ctx}");
        }
    }
}
