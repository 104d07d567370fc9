//! # FmBank: a feature-memory bank of L byte lanes that takes a run of up to L entries per write
//!
//! Entry e lives in lane e mod L at lane entry e div L (L = 1, 2, 4 or 8; each lane a
//! [`SyncRam`] of depth / L bytes), as in [`LaneRam`](crate::mem::LaneRam). A write names an entry
//! `w_addr`, a first byte `w_j0` of the bus word `w_word` and a count `w_n` (1 ≤ n ≤ L − j0): bytes
//! j0 … j0 + n − 1 go to entries `w_addr` … `w_addr` + n − 1, wherever the run starts (the entries
//! of one run lie in n different lanes, each at lane entry `w_addr` div L or one past it). The data
//! mover's copy of the conv output writes a bus word per cycle so: the part of the word on one
//! padded row of the map goes to that row's bank, the rest to the next row's
//! (docs/accelerator.md); an element write is the run of one byte (`w_j0` = 0, `w_n` = 1).
//!
//! The read names an entry: every lane reads at `r_addr` div L and the lane of the entry,
//! registered with the read, selects the byte, so `r_data` follows the reads as a [`SyncRam`]'s
//! does (one cycle after `r_en`, held while it is low). A read of an entry written in the same
//! cycle is undefined (the pooling unit never reads a map the mover is writing).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | the clock |
//! | `r_en`, `r_addr`, `r_data` | in, in, out | 1, 16, 8 | read an entry |
//! | `w_en`, `w_addr` | in | 1, 16 | write a run of entries from `w_addr` |
//! | `w_j0`, `w_n` | in | 4 | the run is bytes j0 … j0 + n − 1 of the word |
//! | `w_word` | in | 64 | the bus word (byte i in bits 8i + 7 … 8i) |

use crate::mem::SyncRam;
use rust_hdl::prelude::*;

/// A feature-memory bank of `lanes` byte lanes.
#[derive(LogicBlock)]
pub struct FmBank {
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
    /// First entry written.
    pub w_addr: Signal<In, Bits<16>>,
    /// First byte of the word written.
    pub w_j0: Signal<In, Bits<4>>,
    /// Bytes written.
    pub w_n: Signal<In, Bits<4>>,
    /// The word.
    pub w_word: Signal<In, Bits<64>>,
    /// The lanes.
    lanes: Vec<SyncRam<Bits<8>>>,
    /// Each lane's number; L − 1; log2 L; 8·L.
    lane_id4: Vec<Constant<Bits<4>>>,
    lmask4: Constant<Bits<4>>,
    lshift: Constant<Bits<16>>,
    lbits: Constant<Bits<64>>,
    /// The word's L bytes (a narrower bus leaves the rest of `w_word` unused).
    wbytes: Constant<Bits<64>>,
    word: Signal<Local, Bits<64>>,
    /// The lane of the entry read last.
    rl: DFF<Bits<4>>,
    /// The lane of the first entry written, a0 = `w_addr` mod L; the rotation that puts byte j0 in
    /// lane a0, (a0 − j0) mod L, and in bits; the lane entry of `w_addr`.
    a0: Signal<Local, Bits<4>>,
    rot: Signal<Local, Bits<4>>,
    rot_bits: Signal<Local, Bits<64>>,
    base: Signal<Local, Bits<16>>,
    /// The word rotated: lane l takes byte l.
    rotated: Signal<Local, Bits<64>>,
    /// Each lane's place in the run, (l − a0) mod L.
    d: Vec<Signal<Local, Bits<4>>>,
}

impl FmBank {
    /// A bank of `depth` bytes in `lanes` lanes (`depth` a multiple of `lanes`).
    pub fn new(depth: usize, lanes: usize) -> Self {
        assert!(matches!(lanes, 1 | 2 | 4 | 8) && depth % lanes == 0, "feature-memory bank of {depth} bytes in {lanes} lanes");
        block_with_defaults!(FmBank {
            lanes: (0..lanes).map(|_| SyncRam::collision_free(depth / lanes)).collect(),
            lane_id4: (0..lanes as u64).map(|l| Constant::new(l.into())).collect(),
            lmask4: Constant::new(((lanes - 1) as u64).into()),
            lshift: Constant::new(u64::from(lanes.trailing_zeros()).into()),
            lbits: Constant::new((8 * lanes as u64).into()),
            wbytes: Constant::new((u64::MAX >> (64 - 8 * lanes)).into()),
            d: (0..lanes).map(|_| Signal::default()).collect(),
        } defaults {
            clock, r_en, r_addr, r_data, w_en, w_addr, w_j0, w_n, w_word, rl, a0, rot, rot_bits, base, rotated, word,
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

impl Logic for FmBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rl);
        self.a0.next = self.w_addr.val().get_bits::<4>(0) & self.lmask4.val();
        self.rot.next = (self.a0.val() - self.w_j0.val()) & self.lmask4.val();
        self.rot_bits.next = bit_cast::<64, 4>(self.rot.val()) << 3;
        self.base.next = self.w_addr.val() >> self.lshift.val();
        // Rotate left by rot bytes within the word's L bytes (the bytes past L are zero).
        self.word.next = self.w_word.val() & self.wbytes.val();
        self.rotated.next = self.word.val();
        if self.rot.val().any() {
            self.rotated.next = (self.word.val() << self.rot_bits.val()) | (self.word.val() >> (self.lbits.val() - self.rot_bits.val()));
        }
        for l in 0..self.lanes.len() {
            self.d[l].next = (self.lane_id4[l].val() - self.a0.val()) & self.lmask4.val();
            self.lanes[l].clock.next = self.clock.val();
            self.lanes[l].r_en.next = self.r_en.val();
            self.lanes[l].r_addr.next = self.r_addr.val() >> self.lshift.val();
            self.lanes[l].w_en.next = self.w_en.val() & (self.d[l].val() < self.w_n.val());
            // Lanes below a0 hold the run's entries past the next multiple of L.
            self.lanes[l].w_addr.next = self.base.val();
            if self.lane_id4[l].val() < self.a0.val() {
                self.lanes[l].w_addr.next = self.base.val() + 1;
            }
            self.lanes[l].w_data.next = self.rotated.val().get_bits::<8>(8 * l);
        }
        if self.r_en.val() {
            self.rl.d.next = self.r_addr.val().get_bits::<4>(0) & self.lmask4.val();
        }
        self.r_data.next = self.lanes[0].r_data.val();
        for l in 1..self.lanes.len() {
            if self.rl.q.val() == self.lane_id4[l].val() {
                self.r_data.next = self.lanes[l].r_data.val();
            }
        }
    }
}

crate::clocked!(FmBank);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random runs (any first entry, first byte and count, element writes among them) and reads
    /// against a plain byte array, for 1, 2, 4 and 8 lanes: every read returns the last byte
    /// written to its entry, a cycle later, and holds while no read is enabled; writes never
    /// touch an entry outside their run.
    #[test]
    fn runs_land_on_consecutive_entries_from_any_start() {
        let mut rng = Rng::from_env("fm-bank", 11);
        for lanes in [1usize, 2, 4, 8] {
            let depth = lanes * 16;
            let mut h = Harness::new(FmBank::new(depth, lanes)).unwrap();
            let mut model = vec![0u8; depth];
            let mut want: Option<u8> = None;
            let (mut runs, mut unaligned) = (0, 0);
            for step in 0..800 {
                let w_en = rng.below(2) == 0;
                let j0 = rng.below(lanes as u64) as usize;
                let n = 1 + rng.below((lanes - j0) as u64) as usize;
                let waddr = rng.below((depth - n + 1) as u64) as usize;
                // (Bytes past L are set too: the bank must ignore them.)
                let word = rng.next();
                let raddr = rng.below(depth as u64) as usize;
                // The unit never reads an entry written in the same cycle.
                let r_en = rng.below(2) == 0 && !(w_en && (waddr..waddr + n).contains(&raddr));
                let u = &mut h.uut;
                u.w_en.next = w_en;
                u.w_addr.next = (waddr as u64).into();
                u.w_j0.next = (j0 as u64).into();
                u.w_n.next = (n as u64).into();
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
                    runs += usize::from(n > 1);
                    unaligned += usize::from(n > 1 && waddr % lanes + n > lanes);
                    for i in 0..n {
                        model[waddr + i] = (word >> (8 * (j0 + i))) as u8;
                    }
                }
            }
            if lanes > 1 {
                assert!(runs > 100 && unaligned > 20, "{lanes} lanes: {runs} runs, {unaligned} across a lane row");
            }
            assert!((0..depth).all(|e| h.uut.entry(e) == model[e]), "{lanes} lanes: contents");
        }
    }
}
