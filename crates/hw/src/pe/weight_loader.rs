//! # WeightLoader: the conv engine's weight loader
//!
//! Reads the weight buffer one word per cycle, in pass order (pass, row, column, kernel; the
//! host fills it so), and writes each weight into its PE's shadow register a cycle later (the
//! buffer's read latency). After loading a pass's R·C·K weights it reports `ready`; when the
//! issuer takes the pass (`take`) it waits until the last PE has swapped the shadow weights in
//! (`swapped`), then loads the next pass, until `p_passes` passes are loaded.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a run starts: load pass 0 (nothing with `p_passes` = 0) |
//! | `p_passes` | in | 16 | passes of the run |
//! | `take` | in | 1 | the issuer starts the loaded pass |
//! | `swapped` | in | 1 | the last PE swapped a pass's shadow weights in |
//! | `ready` | out | 1 | a pass's weights are in the shadow registers |
//! | `rd_en`, `rd_addr` | out | 1, 16 | weight-buffer read |
//! | `we`, `row`, `col`, `k` | out | 1, 64, 64, 16 | shadow write: one-hot row, column, kernel of the word read last cycle |

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
    /// One-hot column.
    pub col: Signal<Out, Bits<64>>,
    /// One-hot kernel.
    pub k: Signal<Out, Bits<16>>,
    /// One-hot last row, column, kernel.
    last_r: Constant<Bits<64>>,
    last_c: Constant<Bits<64>>,
    last_k: Constant<Bits<16>>,
    /// Loading, loaded, waiting for the swap; read address; one-hot row, column, kernel; passes
    /// left to load.
    loading: DFF<Bit>,
    ready_r: DFF<Bit>,
    waiting: DFF<Bit>,
    ptr: DFF<Bits<16>>,
    row_r: DFF<Bits<64>>,
    col_r: DFF<Bits<64>>,
    k_r: DFF<Bits<16>>,
    left: DFF<Bits<16>>,
    /// The shadow write, a cycle after the read.
    we_d: DFF<Bit>,
    row_d: DFF<Bits<64>>,
    col_d: DFF<Bits<64>>,
    k_d: DFF<Bits<16>>,
}

impl WeightLoader {
    /// The loader of a `rows`×`cols` array of `kernels`-kernel PEs.
    pub fn new(rows: usize, cols: usize, kernels: usize) -> Self {
        assert!((1..=64).contains(&rows) && (1..=64).contains(&cols) && (1..=16).contains(&kernels), "weight loader for {rows}x{cols}x{kernels}: allowed 1..=64, 1..=64, 1..=16");
        block_with_defaults!(WeightLoader {
            last_r: Constant::new((1u64 << (rows - 1)).into()),
            last_c: Constant::new((1u64 << (cols - 1)).into()),
            last_k: Constant::new((1u64 << (kernels - 1)).into()),
        } defaults {
            clock, start, p_passes, take, swapped, ready, rd_en, rd_addr, we, row, col, k, loading,
            ready_r, waiting, ptr, row_r, col_r, k_r, left, we_d, row_d, col_d, k_d,
        })
    }
}

impl Logic for WeightLoader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, loading, ready_r, waiting, ptr, row_r, col_r, k_r, left, we_d, row_d, col_d, k_d);
        self.ready.next = self.ready_r.q.val();
        self.rd_en.next = self.loading.q.val();
        self.rd_addr.next = self.ptr.q.val();
        self.we.next = self.we_d.q.val();
        self.row.next = self.row_d.q.val();
        self.col.next = self.col_d.q.val();
        self.k.next = self.k_d.q.val();
        if self.start.val() {
            self.loading.d.next = self.p_passes.val().any();
            self.ready_r.d.next = false;
            self.waiting.d.next = false;
            self.ptr.d.next = 0.into();
            self.row_r.d.next = 1.into();
            self.col_r.d.next = 1.into();
            self.k_r.d.next = 1.into();
            self.left.d.next = self.p_passes.val();
        }
        if self.take.val() {
            self.ready_r.d.next = false;
            self.waiting.d.next = true;
        }
        self.we_d.d.next = self.loading.q.val();
        self.row_d.d.next = self.row_r.q.val();
        self.col_d.d.next = self.col_r.q.val();
        self.k_d.d.next = self.k_r.q.val();
        if self.loading.q.val() {
            self.ptr.d.next = self.ptr.q.val() + 1;
            self.k_r.d.next = self.k_r.q.val() << 1;
            if (self.k_r.q.val() & self.last_k.val()).any() {
                self.k_r.d.next = 1.into();
                self.col_r.d.next = self.col_r.q.val() << 1;
                if (self.col_r.q.val() & self.last_c.val()).any() {
                    self.col_r.d.next = 1.into();
                    self.row_r.d.next = self.row_r.q.val() << 1;
                    if (self.row_r.q.val() & self.last_r.val()).any() {
                        self.row_r.d.next = 1.into();
                        self.loading.d.next = false;
                        self.ready_r.d.next = true;
                        self.left.d.next = self.left.q.val() - 1;
                    }
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
    /// delay and the swap coming a random time later: every buffer word is read once, in order,
    /// and written a cycle later into PE (r, c) kernel j with address = ((pass·R + r)·C + c)·K + j;
    /// `ready` rises after each pass's last word and nothing is read between `take` and `swapped`.
    #[test]
    fn weights_load_in_pass_row_column_kernel_order() {
        let mut rng = Rng::from_env("weight-loader", 17);
        for (rows, cols, kernels) in [(1, 2, 2), (2, 3, 2), (3, 2, 4), (4, 4, 3)] {
            let mut h = crate::sim::Harness::new(WeightLoader::new(rows, cols, kernels)).unwrap();
            let passes = 1 + rng.below(4) as usize;
            let per_pass = rows * cols * kernels;
            h.uut.start.next = true;
            h.uut.p_passes.next = (passes as u64).into();
            h.step().unwrap();
            h.uut.start.next = false;
            let (mut reads, mut writes, mut taken, mut waiting) = (0usize, 0usize, 0usize, false);
            let mut last_read: Option<usize> = None;
            for _ in 0..2000 {
                let take = !waiting && h.uut.ready.val() && rng.below(3) == 0;
                let swap = waiting && rng.below(4) == 0;
                h.uut.take.next = take;
                h.uut.swapped.next = swap;
                h.settle().unwrap();
                let u = &h.uut;
                if u.we.val() {
                    let a = last_read.expect("a write follows a read");
                    let (r, c, j) = (a / (cols * kernels) % rows, a / kernels % cols, a % kernels);
                    assert_eq!(u.row.val(), Bits::<64>::from(1u64 << r), "word {a}");
                    assert_eq!(u.col.val(), Bits::<64>::from(1u64 << c), "word {a}");
                    assert_eq!(u.k.val().index(), 1 << j, "word {a}");
                    writes += 1;
                }
                last_read = None;
                if u.rd_en.val() {
                    assert!(!waiting, "no read while the taken pass waits for its swap");
                    assert_eq!(u.rd_addr.val().index(), reads, "reads in buffer order");
                    assert!(reads < passes * per_pass, "no read past the last pass");
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
            assert_eq!((reads, writes, taken), (passes * per_pass, passes * per_pass, passes), "{rows}x{cols}x{kernels}");
        }
    }
}
