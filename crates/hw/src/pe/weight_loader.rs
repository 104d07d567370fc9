//! # WeightLoader: the conv engine's weight loader
//!
//! Reads the weight buffer one entry per cycle, in pass order (pass, row, kernel; the host fills
//! it so), and writes each entry into the shadow registers of a whole PE row a cycle later (the
//! buffer's read latency): the buffer has one bank per column, so an entry is kernel j of every
//! PE of row r, C weights at once (docs/conv-array.md). It reads no entry at or past `avail`, the
//! entries written so far: a run may start while the data mover still streams its weights in.
//!
//! **Overlap with the passes.** A pass's weights take effect in a PE when the pass's first datum
//! reaches it (the swap), row r's r slow cycles after row 0's (the row skew), since the datapath
//! moves every slow cycle. The PEs have two shadow banks, and pass p's weights go into bank
//! p mod 2 (`bank`; the pass's first datum names the same bank in its tag). So:
//! - the next pass p + 1 may be loaded once pass p is loaded and taken and pass p − 1, the last
//!   one to use its bank, has reached the **last PE of row 0** (`swapped`; the swaps come in pass
//!   order): the loader writes row r no sooner than r·K cycles after its first write, by when
//!   that datum has reached the last PE of row r too. Pass p + 1 thus loads while pass p streams
//!   and swaps in;
//! - a pass may be taken (`ready`) once it is loaded, or **early**, once its row 0 is loaded and
//!   every entry of the pass is written (`avail`): from then on the loader writes a row per slow
//!   cycle, never slower than the datum moves down the rows, so row r is loaded before the
//!   datum reaches PE (r, 0).
//!
//! It loads `p_passes` passes.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a run starts: load pass 0 (nothing with `p_passes` = 0) |
//! | `p_passes` | in | 16 | passes of the run |
//! | `p_klast`, `p_per_pass` | in | 16, 16 | one-hot last kernel of the run (k − 1, k the kernels it uses: K below is k), entries per pass R·k |
//! | `take` | in | 1 | the issuer starts the pass being loaded or loaded |
//! | `swapped` | in | 1 | the last PE of row 0 swapped a pass's shadow weights in |
//! | `avail` | in | 16 | weight-buffer entries written so far |
//! | `av_set`, `av_at`, `av_clr` | in | 1, 16, 1 | at the next clock edge `avail` becomes `av_at` + 1 (an entry's last bank is written), or 0 (`av_clr`, over `av_set`); else it holds (timing: "the entry at the read pointer is written" is a register, formed from these without an adder) |
//! | `ready` | out | 1 | a pass may be taken: loaded, or its row 0 loaded and its entries all written |
//! | `rd_en`, `rd_addr` | out | 1, 16 | weight-buffer read (every bank at the same entry) |
//! | `we`, `row`, `k`, `bank` | out | 1, 64, 16, 1 | shadow write: one-hot row and kernel of the entry read last cycle, every column, and the shadow bank (its pass's parity) |

use rust_hdl::prelude::*;

/// The weight loader of an R×C array of K-kernel PEs.
#[derive(LogicBlock)]
pub struct WeightLoader {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// Passes of the run.
    pub p_passes: Signal<In, Bits<16>>,
    /// The issuer starts the pass.
    pub take: Signal<In, Bit>,
    /// The last PE of row 0 swapped a pass's weights in.
    pub swapped: Signal<In, Bit>,
    /// Entries written so far.
    pub avail: Signal<In, Bits<16>>,
    /// `avail` becomes `av_at` + 1 at the next clock edge.
    pub av_set: Signal<In, Bit>,
    /// The entry written.
    pub av_at: Signal<In, Bits<16>>,
    /// `avail` becomes 0 at the next clock edge.
    pub av_clr: Signal<In, Bit>,
    /// A pass may be taken.
    pub ready: Signal<Out, Bit>,
    /// Weight-buffer read enable.
    pub rd_en: Signal<Out, Bit>,
    /// Weight-buffer read address.
    pub rd_addr: Signal<Out, Bits<16>>,
    /// Shadow write enable.
    pub we: Signal<Out, Bit>,
    /// One-hot row of the shadow write.
    pub row: Signal<Out, Bits<64>>,
    /// One-hot kernel.
    pub k: Signal<Out, Bits<16>>,
    /// Shadow bank.
    pub bank: Signal<Out, Bit>,
    /// One-hot last kernel of the run (kernel k − 1, k the kernels it uses).
    pub p_klast: Signal<In, Bits<16>>,
    /// Entries per pass, R·k.
    pub p_per_pass: Signal<In, Bits<16>>,
    /// One-hot last row.
    last_r: Constant<Bits<64>>,
    /// The current pass: being loaded, loaded, taken, its first datum past row 0's last PE.
    loading: DFF<Bit>,
    fin: DFF<Bit>,
    taken: DFF<Bit>,
    swapd: DFF<Bit>,
    /// The previous pass's first datum is past row 0's last PE (set at a run's start: none).
    pswapd: DFF<Bit>,
    /// The current pass's shadow bank: its parity in the run.
    bank_r: DFF<Bit>,
    /// Read address, the current pass's end; one-hot row, kernel; passes left to load.
    ptr: DFF<Bits<16>>,
    pend: DFF<Bits<16>>,
    /// The current pass's end less one.
    pend_m1: DFF<Bits<16>>,
    /// The current pass's entries are all written (`avail >= pend`), registered from `avail`'s
    /// next value (timing: `ready` waits on no compare). It compares against the `pend` of the
    /// cycle it is formed in, so it is stale the cycle after `start` or `next` moves `pend`;
    /// `early` is low then (the new pass's row 0 is not loaded yet, and its K ≥ 1 reads take
    /// at least a cycle).
    e_ok: DFF<Bit>,
    row_r: DFF<Bits<64>>,
    k_r: DFF<Bits<16>>,
    left: DFF<Bits<16>>,
    /// The entry at `ptr` is written (`ptr < avail`), registered from the next values of both.
    room: DFF<Bit>,
    /// The shadow write, a cycle after the read.
    we_d: DFF<Bit>,
    row_d: DFF<Bits<64>>,
    k_d: DFF<Bits<16>>,
    bank_d: DFF<Bit>,
    /// Reading this cycle: loading, and the entry is written.
    rd: Signal<Local, Bit>,
    /// The pass may be taken before its last row is loaded.
    early: Signal<Local, Bit>,
    /// The next pass starts loading: the current one is loaded and taken, the previous one
    /// swapped.
    next: Signal<Local, Bit>,
}

impl WeightLoader {
    /// The loader of an array of `rows` PE rows of `kernels`-kernel PEs (any number of columns:
    /// an entry holds one weight per column).
    pub fn new(rows: usize) -> Self {
        assert!((1..=64).contains(&rows), "weight loader for {rows} rows: allowed 1..=64");
        block_with_defaults!(WeightLoader {
            last_r: Constant::new((1u64 << (rows - 1)).into()),
        } defaults {
            clock, p_klast, p_per_pass, start, p_passes, take, swapped, avail, av_set, av_at, av_clr, ready, rd_en, rd_addr, we, row, k, bank, loading,
            fin, taken, swapd, pswapd, bank_r, bank_d, ptr, pend, pend_m1, e_ok, row_r, k_r, left, room, we_d, row_d, k_d, rd, early, next,
        })
    }
}

impl Logic for WeightLoader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, loading, fin, taken, swapd, pswapd, bank_r, bank_d, ptr, pend, pend_m1, e_ok, row_r, k_r, left, room, we_d, row_d, k_d);
        self.rd.next = self.loading.q.val() & self.room.q.val();
        self.early.next = self.loading.q.val() & !self.row_r.q.val().get_bit(0) & self.e_ok.q.val();
        self.ready.next = !self.taken.q.val() & (self.fin.q.val() | self.early.val());
        self.next.next = self.fin.q.val() & self.taken.q.val() & (self.pswapd.q.val() | self.swapped.val());
        self.rd_en.next = self.rd.val();
        self.rd_addr.next = self.ptr.q.val();
        self.we.next = self.we_d.q.val();
        self.row.next = self.row_d.q.val();
        self.k.next = self.k_d.q.val();
        self.bank.next = self.bank_d.q.val();
        self.bank_d.d.next = self.bank_r.q.val();
        self.we_d.d.next = self.rd.val();
        self.row_d.d.next = self.row_r.q.val();
        self.k_d.d.next = self.k_r.q.val();
        if self.rd.val() {
            self.ptr.d.next = self.ptr.q.val() + 1;
            self.k_r.d.next = self.k_r.q.val() << 1;
            if (self.k_r.q.val() & self.p_klast.val()).any() {
                self.k_r.d.next = 1.into();
                self.row_r.d.next = self.row_r.q.val() << 1;
                if (self.row_r.q.val() & self.last_r.val()).any() {
                    self.row_r.d.next = 1.into();
                    self.loading.d.next = false;
                    self.fin.d.next = true;
                    self.left.d.next = self.left.q.val() - 1;
                }
            }
        }
        if self.take.val() {
            self.taken.d.next = true;
        }
        // The swaps come in pass order: the previous pass's first, then the current one's.
        if self.swapped.val() {
            if self.pswapd.q.val() {
                if self.taken.q.val() {
                    self.swapd.d.next = true;
                }
            } else {
                self.pswapd.d.next = true;
            }
        }
        if self.next.val() {
            self.fin.d.next = false;
            self.taken.d.next = false;
            self.swapd.d.next = false;
            self.pswapd.d.next = self.swapd.q.val() | (self.swapped.val() & self.pswapd.q.val());
            self.bank_r.d.next = !self.bank_r.q.val();
            self.loading.d.next = self.left.q.val().any();
            self.pend.d.next = self.pend.q.val() + self.p_per_pass.val();
            self.pend_m1.d.next = self.pend_m1.q.val() + self.p_per_pass.val();
        }
        if self.start.val() {
            self.loading.d.next = self.p_passes.val().any();
            self.fin.d.next = false;
            self.taken.d.next = false;
            self.swapd.d.next = false;
            self.pswapd.d.next = true;
            self.bank_r.d.next = false;
            self.ptr.d.next = 0.into();
            self.pend.d.next = self.p_per_pass.val();
            self.pend_m1.d.next = self.p_per_pass.val() - 1;
            self.row_r.d.next = 1.into();
            self.k_r.d.next = 1.into();
            self.left.d.next = self.p_passes.val();
        }
        // ptr' < avail': with avail' = av_at + 1 that is ptr' <= av_at (no adder in front of
        // the compare; both compares start from flip-flops and the pointer's increment).
        self.room.d.next = self.ptr.d.val() < self.avail.val();
        if self.av_set.val() {
            self.room.d.next = self.ptr.d.val() <= self.av_at.val();
        }
        if self.av_clr.val() {
            self.room.d.next = false;
        }
        // avail' >= pend (avail' = av_at + 1: av_at >= pend − 1).
        self.e_ok.d.next = self.avail.val() >= self.pend.q.val();
        if self.av_set.val() {
            self.e_ok.d.next = self.av_at.val() >= self.pend_m1.q.val();
        }
        if self.av_clr.val() {
            self.e_ok.d.next = false;
        }
    }
}

crate::clocked!(WeightLoader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random arrays and pass counts, entries streaming in or all written, the issuer taking a
    /// pass when `ready` after a random delay and the swap at row 0's last PE coming a random time
    /// later: every entry is read once, in order, and written a cycle later into kernel j of PE
    /// row r with entry = (pass·R + r)·K + j; `ready` is exactly "loaded, or row 0 loaded and
    /// the pass's entries all written"; each pass goes to shadow bank pass mod 2; and the two
    /// timing promises hold: a pass's row r is written by r·K cycles after its take (before its
    /// first datum reaches the row), and no sooner than r·K + 1 cycles after the swap at row 0's
    /// last PE of the pass before the previous one (the last to use the bank; after it left the
    /// row). Some passes load before the previous one swapped (the banks overlap them).
    #[test]
    fn weights_load_in_pass_row_kernel_order_in_time_for_the_datum() {
        let mut rng = Rng::from_env("weight-loader", 17);
        let (mut early_takes, mut overlapped) = (0, 0);
        // `kernels` is the run's k (the loader has no K of its own).
        for (rows, kernels) in [(1, 2), (2, 2), (3, 4), (4, 3), (8, 4), (8, 2)] {
            let mut h = crate::sim::Harness::new(WeightLoader::new(rows)).unwrap();
            let passes = 1 + rng.below(6) as usize;
            let per_pass = rows * kernels;
            h.uut.p_klast.next = (1u64 << (kernels - 1)).into();
            h.uut.p_per_pass.next = (per_pass as u64).into();
            h.uut.start.next = true;
            h.uut.p_passes.next = (passes as u64).into();
            // The entries arrive over time (a weight transfer streaming in), or were all there.
            let stream = rng.below(2) == 0;
            let mut avail = if stream { 0 } else { passes * per_pass };
            // The count before the run is stale (a previous layer's): cleared for a streamed
            // run, set for one whose entries are all written.
            h.uut.avail.next = 0xFFF0u64.into();
            h.uut.av_clr.next = stream;
            h.uut.av_set.next = !stream;
            h.uut.av_at.next = (avail.max(1) as u64 - 1).into();
            h.step().unwrap();
            h.uut.av_clr.next = false;
            h.uut.start.next = false;
            let (mut reads, mut writes) = (0usize, 0usize);
            // Per pass: the cycle it was taken, the cycle of its swap.
            let (mut take_at, mut swap_at): (Vec<u64>, Vec<u64>) = (vec![], vec![]);
            let mut last_read: Option<usize> = None;
            for t in 0..8000u64 {
                let taken = take_at.len();
                // The swap comes after the datum travelled a row: at least a cycle after the take.
                let swap = swap_at.len() < taken && take_at[swap_at.len()] < t && rng.below(4) == 0;
                h.uut.swapped.next = swap;
                h.uut.take.next = false;
                // `avail` now, and the value it takes at the clock edge: one or a few entries
                // more are written, or none.
                let grow = if stream && rng.below(3) == 0 { 1 + rng.below(3) as usize } else { 0 };
                let avail_nx = (avail + grow).min(passes * per_pass);
                h.uut.avail.next = (avail as u64).into();
                h.uut.av_set.next = avail_nx > avail;
                h.uut.av_at.next = (avail_nx.max(1) as u64 - 1).into();
                h.settle().unwrap();
                let ready_now = h.uut.ready.val();
                // `ready`: the untaken pass is loaded, or its row 0 is and its entries are written.
                let loaded = taken < passes && reads >= (taken + 1) * per_pass;
                let partial = taken < passes && reads / per_pass == taken && reads % per_pass >= kernels && avail >= (taken + 1) * per_pass;
                let prev_swapped = taken < 2 || swap_at.len() + 1 >= taken;
                assert_eq!(ready_now, prev_swapped && taken < passes && (loaded || partial), "reads {reads}, taken {taken}, avail {avail}");
                let take = ready_now && rng.below(3) == 0;
                h.uut.take.next = take;
                h.settle().unwrap();
                let u = &h.uut;
                if u.we.val() {
                    let a = last_read.expect("a write follows a read");
                    let (pass, r, j) = (a / per_pass, a / kernels % rows, a % kernels);
                    assert_eq!(u.row.val(), Bits::<64>::from(1u64 << r), "entry {a}");
                    assert_eq!(u.k.val().index(), 1 << j, "entry {a}");
                    assert_eq!(u.bank.val(), pass % 2 == 1, "entry {a}");
                    if let Some(&tk) = take_at.get(pass) {
                        assert!(t <= tk + (r * kernels) as u64, "pass {pass} row {r} written at {t}, taken at {tk}");
                    }
                    if pass > 1 {
                        assert!(t > swap_at[pass - 2] + (r * kernels) as u64, "pass {pass} row {r} written at {t}, pass {} swapped at {}", pass - 2, swap_at[pass - 2]);
                    }
                    writes += 1;
                }
                last_read = None;
                // The pass being loaded, and how far.
                let (pass, done) = (reads / per_pass, reads % per_pass);
                // Within a pass, an entry is read the cycle it is written or its predecessor read.
                if done != 0 && reads < avail {
                    assert!(u.rd_en.val(), "entry {reads} written (avail {avail}) mid-pass but not read");
                }
                if u.rd_en.val() {
                    assert_eq!(u.rd_addr.val().index(), reads, "reads in buffer order");
                    assert!(reads < passes * per_pass, "no read past the last pass");
                    assert!(reads < avail, "no read of an entry not yet written");
                    if done == 0 && pass > 1 {
                        assert!(swap_at.len() + 1 >= pass, "pass {pass} loads after pass {} swapped", pass - 2);
                    }
                    if done == 0 && pass > 0 {
                        assert!(take_at.len() >= pass, "pass {pass} loads after the previous one was taken");
                        overlapped += usize::from(swap_at.len() < pass);
                    }
                    last_read = Some(reads);
                    reads += 1;
                }
                if take {
                    early_takes += usize::from(!loaded);
                    take_at.push(t);
                }
                if swap {
                    swap_at.push(t);
                }
                avail = avail_nx;
                h.step().unwrap();
            }
            assert_eq!((reads, writes, take_at.len()), (passes * per_pass, passes * per_pass, passes), "{rows} rows, {kernels} kernels");
        }
        assert!(early_takes > 0, "no pass was taken before its last row was loaded");
        assert!(overlapped > 0, "no pass loaded before the previous one swapped");
    }
}
