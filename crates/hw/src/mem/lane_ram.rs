//! # LaneRam: a byte RAM of L lanes, with a port that writes a whole bus word
//!
//! Entry e lives in lane e mod L at lane entry e div L (L = 1, 2, 4 or 8; each lane a
//! [`SyncRam`] of depth / L bytes). Reads and element writes name an entry; a word write
//! (`w_wide`) names a word w and writes byte l of `w_word` into lane l at lane entry w: entries
//! w·L … w·L + L − 1 in one cycle. The read reads every lane at r_addr div L and the lane of the
//! entry (registered with the read) selects the byte, so `r_data` follows the reads as a
//! [`SyncRam`]'s does: one cycle after `r_en`, held while it is low.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | the clock |
//! | `r_en`, `r_addr`, `r_data` | in, in, out | 1, 16, 8 | read an entry |
//! | `w_en`, `w_addr`, `w_data` | in | 1, 16, 8 | write an entry, or (with `w_wide`) the word `w_addr` |
//! | `w_wide`, `w_word` | in | 1, 64 | the write is a whole word: byte l into lane l |
//!
//! The conv engine's first cache is made of them (one per PE row), so that the data mover can
//! load a bus word of one channel per cycle (docs/accelerator.md). Like the RAM it is made of,
//! it leaves a read of an entry written in the same cycle undefined (the engine never reads a
//! half the mover is writing).

use crate::mem::SyncRam;
use rust_hdl::prelude::*;

/// A byte RAM of `lanes` lanes.
#[derive(LogicBlock)]
pub struct LaneRam {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Read enable.
    pub r_en: Signal<In, Bit>,
    /// Entry read.
    pub r_addr: Signal<In, Bits<16>>,
    /// The byte read (one cycle after `r_en`, held while it is low).
    pub r_data: Signal<Out, Bits<8>>,
    /// Write enable.
    pub w_en: Signal<In, Bit>,
    /// Entry written, or the word with `w_wide`.
    pub w_addr: Signal<In, Bits<16>>,
    /// The byte written.
    pub w_data: Signal<In, Bits<8>>,
    /// The write is a whole word.
    pub w_wide: Signal<In, Bit>,
    /// The word: byte l for lane l.
    pub w_word: Signal<In, Bits<64>>,
    /// The lanes.
    lanes: Vec<SyncRam<Bits<8>>>,
    /// Each lane's number; L − 1; log2 L.
    lane_id: Vec<Constant<Bits<16>>>,
    lmask: Constant<Bits<16>>,
    lshift: Constant<Bits<16>>,
    /// The lane of the entry read last.
    rl: DFF<Bits<16>>,
    /// The lane of the entry written.
    w_lane: Signal<Local, Bits<16>>,
}

impl LaneRam {
    /// A RAM of `depth` bytes in `lanes` lanes (`depth` a multiple of `lanes`).
    pub fn new(depth: usize, lanes: usize) -> Self {
        assert!(matches!(lanes, 1 | 2 | 4 | 8) && depth % lanes == 0, "lane RAM of {depth} bytes in {lanes} lanes");
        block_with_defaults!(LaneRam {
            lanes: (0..lanes).map(|_| SyncRam::collision_free(depth / lanes)).collect(),
            lane_id: (0..lanes as u64).map(|l| Constant::new(l.into())).collect(),
            lmask: Constant::new(((lanes - 1) as u64).into()),
            lshift: Constant::new(u64::from(lanes.trailing_zeros()).into()),
        } defaults {
            clock, r_en, r_addr, r_data, w_en, w_addr, w_data, w_wide, w_word, rl, w_lane,
        })
    }

    /// Byte lanes L.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Entry `e` of the simulated contents (testbench inspection only).
    pub fn entry(&self, e: usize) -> u8 {
        let n = self.lanes.len();
        self.lanes[e % n].contents()[e / n].index() as u8
    }
}

impl Logic for LaneRam {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rl);
        self.w_lane.next = self.w_addr.val() & self.lmask.val();
        for l in 0..self.lanes.len() {
            self.lanes[l].clock.next = self.clock.val();
            self.lanes[l].r_en.next = self.r_en.val();
            self.lanes[l].r_addr.next = self.r_addr.val() >> self.lshift.val();
            self.lanes[l].w_en.next = self.w_en.val() & (self.w_wide.val() | (self.w_lane.val() == self.lane_id[l].val()));
            self.lanes[l].w_addr.next = self.w_addr.val() >> self.lshift.val();
            self.lanes[l].w_data.next = self.w_data.val();
            if self.w_wide.val() {
                self.lanes[l].w_addr.next = self.w_addr.val();
                self.lanes[l].w_data.next = self.w_word.val().get_bits::<8>(8 * l);
            }
        }
        if self.r_en.val() {
            self.rl.d.next = self.r_addr.val() & self.lmask.val();
        }
        self.r_data.next = self.lanes[0].r_data.val();
        for l in 1..self.lanes.len() {
            if self.rl.q.val() == self.lane_id[l].val() {
                self.r_data.next = self.lanes[l].r_data.val();
            }
        }
    }
}

crate::clocked!(LaneRam);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random element writes, word writes and reads against a plain byte array, for 1, 2, 4 and
    /// 8 lanes: every read returns the last byte written to its entry, a cycle later, and holds
    /// while no read is enabled.
    #[test]
    fn reads_see_element_and_word_writes() {
        let mut rng = Rng::from_env("lane-ram", 5);
        for lanes in [1usize, 2, 4, 8] {
            let depth = lanes * 16;
            let mut h = Harness::new(LaneRam::new(depth, lanes)).unwrap();
            let mut model = vec![0u8; depth];
            let mut want: Option<u8> = None;
            let mut words = 0;
            for step in 0..600 {
                let wide = rng.below(3) == 0;
                let (w_en, r_en) = (rng.below(2) == 0, rng.below(2) == 0);
                let waddr = if wide { rng.below((depth / lanes) as u64) } else { rng.below(depth as u64) } as usize;
                let raddr = rng.below(depth as u64) as usize;
                let (byte, word) = (rng.below(256) as u8, rng.next());
                // The engine never reads an entry written in the same cycle.
                let collide = w_en && if wide { raddr / lanes == waddr } else { raddr == waddr };
                let r_en = r_en && !collide;
                let u = &mut h.uut;
                u.w_en.next = w_en;
                u.w_wide.next = wide;
                u.w_addr.next = (waddr as u64).into();
                u.w_data.next = u64::from(byte).into();
                u.w_word.next = word.into();
                u.r_en.next = r_en;
                u.r_addr.next = (raddr as u64).into();
                h.step().unwrap();
                if r_en {
                    want = Some(model[raddr]);
                }
                if let Some(v) = want {
                    assert_eq!(h.uut.r_data.val().index() as u8, v, "{lanes} lanes, step {step}");
                }
                if w_en {
                    if wide {
                        words += 1;
                        for l in 0..lanes {
                            model[waddr * lanes + l] = (word >> (8 * l)) as u8;
                        }
                    } else {
                        model[waddr] = byte;
                    }
                }
            }
            assert!(words > 50, "word writes exercised");
            assert!((0..depth).all(|e| h.uut.entry(e) == model[e]), "{lanes} lanes: contents");
        }
    }
}
