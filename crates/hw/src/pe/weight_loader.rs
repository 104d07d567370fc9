//! # WeightLoader: the conv engine's weight loader
//!
//! Reads the weight buffer one entry per cycle, in pass order (pass, row, kernel; the host fills
//! it so), and writes each entry into the shadow registers of a whole PE row a cycle later (the
//! buffer's read latency): the buffer has one bank per column, so an entry is kernel j of every
//! PE of row r, C weights at once (docs/conv-array.md). After loading a pass's R·K entries it
//! reports `ready`; when the issuer takes the pass (`take`) it waits until the last PE has
//! swapped the shadow weights in (`swapped`), then loads the next pass, until `p_passes` passes
//! are loaded. It reads no entry at or past `avail`, the entries written so far: a run may start
//! while the data mover still streams its weights in (docs/conv-array.md).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a run starts: load pass 0 (nothing with `p_passes` = 0) |
//! | `p_passes` | in | 16 | passes of the run |
//! | `take` | in | 1 | the issuer starts the loaded pass |
//! | `swapped` | in | 1 | the last PE swapped a pass's shadow weights in |
//! | `avail` | in | 16 | weight-buffer entries written so far |
//! | `ready` | out | 1 | a pass's weights are in the shadow registers |
//! | `rd_en`, `rd_addr` | out | 1, 16 | weight-buffer read (every bank at the same entry) |
//! | `we`, `row`, `k` | out | 1, 64, 16 | shadow write: one-hot row and kernel of the entry read last cycle, every column |

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
    /// The issuer starts the loaded pass.
    pub take: Signal<In, Bit>,
    /// The last PE swapped a pass's weights in.
    pub swapped: Signal<In, Bit>,
    /// Entries written so far.
    pub avail: Signal<In, Bits<16>>,
    /// A pass is loaded.
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
    /// One-hot last row, kernel.
    last_r: Constant<Bits<64>>,
    last_k: Constant<Bits<16>>,
    /// Loading, loaded, waiting for the swap; read address; one-hot row, kernel; passes left to
    /// load.
    loading: DFF<Bit>,
    ready_r: DFF<Bit>,
    waiting: DFF<Bit>,
    ptr: DFF<Bits<16>>,
    row_r: DFF<Bits<64>>,
    k_r: DFF<Bits<16>>,
    left: DFF<Bits<16>>,
    /// The shadow write, a cycle after the read.
    we_d: DFF<Bit>,
    row_d: DFF<Bits<64>>,
    k_d: DFF<Bits<16>>,
    /// Reading this cycle: loading, and the entry is written.
    rd: Signal<Local, Bit>,
}

impl WeightLoader {
    /// The loader of an array of `rows` PE rows of `kernels`-kernel PEs (any number of columns:
    /// an entry holds one weight per column).
    pub fn new(rows: usize, kernels: usize) -> Self {
        assert!((1..=64).contains(&rows) && (1..=16).contains(&kernels), "weight loader for {rows} rows, {kernels} kernels: allowed 1..=64, 1..=16");
        block_with_defaults!(WeightLoader {
            last_r: Constant::new((1u64 << (rows - 1)).into()),
            last_k: Constant::new((1u64 << (kernels - 1)).into()),
        } defaults {
            clock, start, p_passes, take, swapped, avail, ready, rd_en, rd_addr, we, row, k, loading,
            ready_r, waiting, ptr, row_r, k_r, left, we_d, row_d, k_d, rd,
        })
    }
}

impl Logic for WeightLoader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, loading, ready_r, waiting, ptr, row_r, k_r, left, we_d, row_d, k_d);
        self.ready.next = self.ready_r.q.val();
        self.rd.next = self.loading.q.val() & (self.ptr.q.val() < self.avail.val());
        self.rd_en.next = self.rd.val();
        self.rd_addr.next = self.ptr.q.val();
        self.we.next = self.we_d.q.val();
        self.row.next = self.row_d.q.val();
        self.k.next = self.k_d.q.val();
        if self.start.val() {
            self.loading.d.next = self.p_passes.val().any();
            self.ready_r.d.next = false;
            self.waiting.d.next = false;
            self.ptr.d.next = 0.into();
            self.row_r.d.next = 1.into();
            self.k_r.d.next = 1.into();
            self.left.d.next = self.p_passes.val();
        }
        if self.take.val() {
            self.ready_r.d.next = false;
            self.waiting.d.next = true;
        }
        self.we_d.d.next = self.rd.val();
        self.row_d.d.next = self.row_r.q.val();
        self.k_d.d.next = self.k_r.q.val();
        if self.rd.val() {
            self.ptr.d.next = self.ptr.q.val() + 1;
            self.k_r.d.next = self.k_r.q.val() << 1;
            if (self.k_r.q.val() & self.last_k.val()).any() {
                self.k_r.d.next = 1.into();
                self.row_r.d.next = self.row_r.q.val() << 1;
                if (self.row_r.q.val() & self.last_r.val()).any() {
                    self.row_r.d.next = 1.into();
                    self.loading.d.next = false;
                    self.ready_r.d.next = true;
                    self.left.d.next = self.left.q.val() - 1;
                }
            }
        }
        if self.waiting.q.val() & self.swapped.val() {
            self.waiting.d.next = false;
            self.loading.d.next = self.left.q.val().any();
        }
    }
}

crate::clocked!(WeightLoader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random arrays and pass counts, with the issuer taking each loaded pass after a random
    /// delay and the swap coming a random time later: every buffer entry is read once, in order,
    /// and written a cycle later into kernel j of PE row r with entry = (pass·R + r)·K + j;
    /// `ready` rises after each pass's last entry and nothing is read between `take` and `swapped`.
    #[test]
    fn weights_load_in_pass_row_kernel_order() {
        let mut rng = Rng::from_env("weight-loader", 17);
        for (rows, kernels) in [(1, 2), (2, 2), (3, 4), (4, 3)] {
            let mut h = crate::sim::Harness::new(WeightLoader::new(rows, kernels)).unwrap();
            let passes = 1 + rng.below(4) as usize;
            let per_pass = rows * kernels;
            h.uut.start.next = true;
            h.uut.p_passes.next = (passes as u64).into();
            // The entries arrive over time (a weight transfer streaming in), or were all there.
            let stream = rng.below(2) == 0;
            let mut avail = if stream { 0 } else { passes * per_pass };
            h.uut.avail.next = (avail as u64).into();
            h.step().unwrap();
            h.uut.start.next = false;
            let (mut reads, mut writes, mut taken, mut waiting) = (0usize, 0usize, 0usize, false);
            let mut last_read: Option<usize> = None;
            for _ in 0..6000 {
                let take = !waiting && h.uut.ready.val() && rng.below(3) == 0;
                let swap = waiting && rng.below(4) == 0;
                h.uut.take.next = take;
                h.uut.swapped.next = swap;
                if stream && avail < passes * per_pass && rng.below(3) == 0 {
                    avail += 1;
                }
                h.uut.avail.next = (avail as u64).into();
                h.settle().unwrap();
                let u = &h.uut;
                if u.we.val() {
                    let a = last_read.expect("a write follows a read");
                    let (r, j) = (a / kernels % rows, a % kernels);
                    assert_eq!(u.row.val(), Bits::<64>::from(1u64 << r), "entry {a}");
                    assert_eq!(u.k.val().index(), 1 << j, "entry {a}");
                    writes += 1;
                }
                last_read = None;
                if u.rd_en.val() {
                    assert!(!waiting, "no read while the taken pass waits for its swap");
                    assert_eq!(u.rd_addr.val().index(), reads, "reads in buffer order");
                    assert!(reads < passes * per_pass, "no read past the last pass");
                    assert!(reads < avail, "no read of an entry not yet written");
                    last_read = Some(reads);
                    reads += 1;
                }
                assert_eq!(u.ready.val(), reads == (taken + 1) * per_pass && taken < passes && !waiting && !u.rd_en.val(), "reads {reads}, taken {taken}");
                if take {
                    taken += 1;
                    waiting = true;
                }
                if swap {
                    waiting = false;
                }
                h.step().unwrap();
            }
            assert_eq!((reads, writes, taken), (passes * per_pass, passes * per_pass, passes), "{rows} rows, {kernels} kernels");
        }
    }
}
