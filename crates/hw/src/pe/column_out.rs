//! # ColumnOut: one PE column's output side in the conv engine
//!
//! The drain of column c: its bias bank (loaded by the host), the sum of the accumulator and
//! the bias, the [`Requant`] activation unit and the column's output-buffer bank (read by the
//! host). Beside the bias bank, a scale bank of the same depth holds each output channel's
//! ONNX Runtime scale word (`sig` in bits 23:0, `exp` in 31:24); with `pc` the requantizer takes
//! the scale read with the bias instead of `set_s_sig`/`set_s_exp` (per-channel
//! requantization). Timing, with the drain's accumulator read at cycle t: `b_en`/`b_addr` at t (the bias
//! read), `acc` at t + 1 (the accumulator's read data), `valid`/`idx` at t + 3; the accumulator
//! and the bias are registered at t + 1 (RAM reads end at registers), their sum at t + 2 (before
//! the requantizer's multipliers), and the requantized word is written REQUANT_STAGES cycles
//! after t + 3.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `ld_we`, `ld_swe`, `ld_addr`, `ld_data` | in | 1, 1, 16, 32 | host write of the bias bank, of the scale bank |
//! | `b_en`, `b_addr` | in | 1, 16 | the drain's bias read |
//! | `acc` | in | 32 | the accumulator read (a cycle after `b_en`) |
//! | `valid`, `idx` | in | 1, 16 | the sum enters the requantizer, for output entry `idx` |
//! | `set_en`, `set_mult`, `set_shift`, `set_zp`, `set_relu`, `set_ort`, `set_s_sig`, `set_s_exp` | in | 1, 16, 8, 8, 1, 1, 24, 8 | requantizer parameters ([`RequantPorts`]) |
//! | `pc` | in | 1 | per-channel scales: the scale bank's word replaces `set_s_sig`/`set_s_exp` |
//! | `rd_en`, `rd_addr` | in | 1, 16 | host read of the output bank |
//! | `rd_data` | out | 32 | the word read, a cycle after `rd_en` |
//! | `rd_word` | out | 64 | with L > 1 output lanes: the low bytes of entries `rd_addr` … `rd_addr` + L − 1 (`rd_addr` a multiple of L), byte l from entry `rd_addr` + l, a cycle after `rd_en` (0 with L = 1) |
//! | `ad_we`, `ad_addr`, `ad_data` | in | 1, 16, 8 | write an int8 (sign-extended) into the output bank: a load-add's sum (the data mover, while the engine is idle; a drain write of the same cycle wins) |
//!
//! **Output lanes** (L > 1, `accel_top` where the memory word holds L ≤ 8 bytes): beside the
//! 32-bit output bank, the low byte of every output entry is also written into L byte RAMs
//! (entry e in lane e mod L at e div L), so that the data mover can read a bus word of one
//! channel's requantized outputs in one cycle (a store in word steps, docs/accelerator.md). The
//! int32 sums of a run without requantization are stored an element at a time from the 32-bit
//! bank.

use crate::mem::SyncRam;
use crate::pe::{Requant, RequantPorts};
use rust_hdl::prelude::*;

/// The output side of one column.
#[derive(LogicBlock)]
pub struct ColumnOut {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Host write of the bias bank.
    pub ld_we: Signal<In, Bit>,
    /// Host write of the scale bank (same entry and word ports).
    pub ld_swe: Signal<In, Bit>,
    /// Its entry.
    pub ld_addr: Signal<In, Bits<16>>,
    /// Its word.
    pub ld_data: Signal<In, Bits<32>>,
    /// The drain's bias read.
    pub b_en: Signal<In, Bit>,
    /// Its entry.
    pub b_addr: Signal<In, Bits<16>>,
    /// The accumulator read data.
    pub acc: Signal<In, Bits<32>>,
    /// The sum enters the requantizer.
    pub valid: Signal<In, Bit>,
    /// Its output entry.
    pub idx: Signal<In, Bits<16>>,
    /// The requantizer's parameters (see [`RequantPorts`]).
    pub set: RequantPorts,
    /// Per-channel scales from the scale bank.
    pub pc: Signal<In, Bit>,
    /// Host read of the output bank.
    pub rd_en: Signal<In, Bit>,
    /// Its entry.
    pub rd_addr: Signal<In, Bits<16>>,
    /// The word read.
    pub rd_data: Signal<Out, Bits<32>>,
    /// The low bytes of L entries from `rd_addr`.
    pub rd_word: Signal<Out, Bits<64>>,
    /// Write a load-add's sum (int8) into the output bank at `ad_addr`.
    pub ad_we: Signal<In, Bit>,
    pub ad_addr: Signal<In, Bits<16>>,
    pub ad_data: Signal<In, Bits<8>>,
    /// `ad_data` sign-extended; bits 31..8.
    ad_w: Signal<Local, Bits<32>>,
    sx: Constant<Bits<32>>,
    /// Output lanes: the low byte of each output entry (empty with L = 1).
    olane: Vec<ByteLane>,

    /// Bias bank.
    bias: SyncRam<Bits<32>>,
    /// Scale bank: each output channel's scale word, read with its bias.
    scale: SyncRam<Bits<32>>,
    /// Activation unit.
    rq: Requant,
    /// Output bank.
    obank: SyncRam<Bits<32>>,
    /// The accumulator and the bias as read; their sum.
    acc_r: DFF<Bits<32>>,
    bias_r: DFF<Bits<32>>,
    sum: DFF<Bits<32>>,
    /// The scale word as read, and a cycle later (beside `sum`).
    scale_r: DFF<Bits<32>>,
    scale_s: DFF<Bits<32>>,
}

impl ColumnOut {
    /// A column with bias and output banks of the given depths, and `lanes` output lanes (1: none).
    pub fn new(bias_depth: usize, out_depth: usize, lanes: usize) -> Self {
        assert!(matches!(lanes, 1 | 2 | 4 | 8) && out_depth % lanes == 0, "output lanes: {lanes} of a {out_depth}-entry bank");
        let n = if lanes > 1 { lanes } else { 0 };
        block_with_defaults!(ColumnOut {
            bias: SyncRam::collision_free(bias_depth),
            scale: SyncRam::collision_free(bias_depth),
            obank: SyncRam::collision_free(out_depth),
            olane: (0..n).map(|l| ByteLane::new(out_depth, lanes, l)).collect(),
            sx: Constant::new(0xFFFF_FF00u64.into()),
        } defaults {
            clock, ld_we, ld_swe, ld_addr, ld_data, b_en, b_addr, acc, valid, idx, set, pc,
            rd_en, rd_addr, rd_data, rd_word, ad_we, ad_addr, ad_data, ad_w, rq, acc_r, bias_r, sum, scale_r, scale_s,
        })
    }
}

impl Logic for ColumnOut {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc_r, bias_r, sum, scale_r, scale_s);
        clock!(self, clock, bias, scale, rq, obank);
        self.bias.w_en.next = self.ld_we.val();
        self.bias.w_addr.next = self.ld_addr.val();
        self.bias.w_data.next = self.ld_data.val();
        self.bias.r_en.next = self.b_en.val();
        self.bias.r_addr.next = self.b_addr.val();
        self.scale.w_en.next = self.ld_swe.val();
        self.scale.w_addr.next = self.ld_addr.val();
        self.scale.w_data.next = self.ld_data.val();
        self.scale.r_en.next = self.b_en.val();
        self.scale.r_addr.next = self.b_addr.val();
        self.scale_r.d.next = self.scale.r_data.val();
        self.scale_s.d.next = self.scale_r.q.val();
        self.acc_r.d.next = self.acc.val();
        self.bias_r.d.next = self.bias.r_data.val();
        self.sum.d.next = self.acc_r.q.val() + self.bias_r.q.val();
        self.rq.in_valid.next = self.valid.val();
        self.rq.in_idx.next = self.idx.val();
        self.rq.in_acc.next = self.sum.q.val();
        // The parameters pass through, but the scale: with `pc` the channel's scale word enters the
        // requantizer with its sum (an interface link could not be overridden).
        self.rq.set.en.next = self.set.en.val();
        self.rq.set.mult.next = self.set.mult.val();
        self.rq.set.shift.next = self.set.shift.val();
        self.rq.set.zp.next = self.set.zp.val();
        self.rq.set.relu.next = self.set.relu.val();
        self.rq.set.ort.next = self.set.ort.val();
        self.rq.set.s_sig.next = self.set.s_sig.val();
        self.rq.set.s_exp.next = self.set.s_exp.val();
        if self.pc.val() {
            self.rq.set.s_sig.next = self.scale_s.q.val().get_bits::<24>(0);
            self.rq.set.s_exp.next = self.scale_s.q.val().get_bits::<8>(24);
        }
        // The drain's word, or else a load-add's sum (each input assigned once: if / else).
        self.ad_w.next = bit_cast::<32, 8>(self.ad_data.val());
        if self.ad_data.val().get_bit(7) {
            self.ad_w.next = bit_cast::<32, 8>(self.ad_data.val()) | self.sx.val();
        }
        if self.rq.out_valid.val() {
            self.obank.w_en.next = true;
            self.obank.w_addr.next = self.rq.out_idx.val();
            self.obank.w_data.next = self.rq.out_data.val();
        } else {
            self.obank.w_en.next = self.ad_we.val();
            self.obank.w_addr.next = self.ad_addr.val();
            self.obank.w_data.next = self.ad_w.val();
        }
        self.obank.r_en.next = self.rd_en.val();
        self.obank.r_addr.next = self.rd_addr.val();
        self.rd_data.next = self.obank.r_data.val();
        self.rd_word.next = 0.into();
        for l in 0..self.olane.len() {
            self.olane[l].clock.next = self.clock.val();
            if self.rq.out_valid.val() {
                self.olane[l].w_en.next = true;
                self.olane[l].w_idx.next = self.rq.out_idx.val();
                self.olane[l].w_data.next = self.rq.out_data.val().get_bits::<8>(0);
            } else {
                self.olane[l].w_en.next = self.ad_we.val();
                self.olane[l].w_idx.next = self.ad_addr.val();
                self.olane[l].w_data.next = self.ad_data.val();
            }
            self.olane[l].r_en.next = self.rd_en.val();
            self.olane[l].r_idx.next = self.rd_addr.val();
            self.rd_word.next = self.rd_word.val() | self.olane[l].r_word.val();
        }
    }
}

crate::clocked!(ColumnOut);

/// Output lane l of L: entry e of the output bank, where e mod L = l, at byte e div L of a RAM;
/// a read of entry e returns the byte of entry e + l, in byte l of a 64-bit word (zero elsewhere),
/// so that the column ORs its lanes into a word.
#[derive(LogicBlock)]
pub struct ByteLane {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write output entry `w_idx` (this lane keeps it if it is one of its entries).
    pub w_en: Signal<In, Bit>,
    pub w_idx: Signal<In, Bits<16>>,
    pub w_data: Signal<In, Bits<8>>,
    /// Read the word whose first entry is `r_idx`.
    pub r_en: Signal<In, Bit>,
    pub r_idx: Signal<In, Bits<16>>,
    /// The byte read, in its lane of the word (a cycle after `r_en`).
    pub r_word: Signal<Out, Bits<64>>,
    ram: SyncRam<Bits<8>>,
    /// 8 · l; l; L − 1; log2 L.
    sh: Constant<Bits<64>>,
    lane: Constant<Bits<16>>,
    lmask: Constant<Bits<16>>,
    lshift: Constant<Bits<16>>,
}

impl ByteLane {
    /// Lane `lane` of `lanes` of an output bank of `depth` entries.
    pub fn new(depth: usize, lanes: usize, lane: usize) -> Self {
        block_with_defaults!(ByteLane {
            ram: SyncRam::collision_free(depth / lanes),
            sh: Constant::new(((8 * lane) as u64).into()),
            lane: Constant::new((lane as u64).into()),
            lmask: Constant::new(((lanes - 1) as u64).into()),
            lshift: Constant::new(u64::from(lanes.trailing_zeros()).into()),
        } defaults {
            clock, w_en, w_idx, w_data, r_en, r_idx, r_word,
        })
    }
}

impl Logic for ByteLane {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, ram);
        self.ram.w_en.next = self.w_en.val() & ((self.w_idx.val() & self.lmask.val()) == self.lane.val());
        self.ram.w_addr.next = self.w_idx.val() >> self.lshift.val();
        self.ram.w_data.next = self.w_data.val();
        self.ram.r_en.next = self.r_en.val();
        self.ram.r_addr.next = self.r_idx.val() >> self.lshift.val();
        self.r_word.next = bit_cast::<64, 8>(self.ram.r_data.val()) << self.sh.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::ORT_REQUANT_STAGES;
    use crate::testutil::Rng;
    use accelgen_golden::{requantize, OrtScale, Requant as Q};

    /// Random biases and scale words loaded by the host; then a drain of random accumulators with
    /// the engine's timing: fixed-point requantization, none, and ONNX Runtime's with per-channel
    /// scales (a bogus `set_s_sig`/`set_s_exp` beside, which `pc` must override); every output
    /// entry read back equals `requantize(acc + bias)` with the entry's own scale (or the sum),
    /// and a word read of four output lanes at every fourth entry gives the low bytes of four.
    #[test]
    fn outputs_are_the_requantized_sum_of_accumulator_and_bias() {
        let mut rng = Rng::from_env("column-out", 23);
        let depth = 64;
        let mut h = crate::sim::Harness::new(ColumnOut::new(depth, depth, 4)).unwrap();
        let bias: Vec<i32> = (0..depth).map(|_| rng.range(-1 << 20, 1 << 20) as i32).collect();
        // Scales from 2^-20 to 2^-4 (an accumulator of 2^24 maps to at most ±2^20).
        let scales: Vec<OrtScale> =
            (0..depth).map(|_| OrtScale::of(f32::from_bits(0x3580_0000 + rng.below(0x0800_0000) as u32)).unwrap()).collect();
        for (a, (&b, sc)) in bias.iter().zip(&scales).enumerate() {
            for (bank, word) in [(0, b as u32), (1, sc.sig | ((sc.exp as u8 as u32) << 24))] {
                h.uut.ld_we.next = bank == 0;
                h.uut.ld_swe.next = bank == 1;
                h.uut.ld_addr.next = (a as u64).into();
                h.uut.ld_data.next = (word as u64).into();
                h.step().unwrap();
            }
        }
        h.uut.ld_we.next = false;
        h.uut.ld_swe.next = false;
        for mode in ["fixed", "raw", "per-channel"] {
            let (en, pc) = (mode != "raw", mode == "per-channel");
            let q = Q { multiplier: rng.range(1, 32767) as i32, shift: rng.range(10, 30) as u32, zero_point: rng.range(-128, 127) as i32, relu: rng.below(2) == 1, ort: None };
            let u = &mut h.uut;
            u.set.en.next = en;
            u.set.mult.next = (q.multiplier as u64).into();
            u.set.shift.next = (q.shift as u64).into();
            u.set.zp.next = (q.zero_point as u8 as u64).into();
            u.set.relu.next = q.relu;
            u.set.ort.next = pc;
            u.set.s_sig.next = 0xC0_0000.into();
            u.set.s_exp.next = (-3i8 as u8 as u64).into();
            u.pc.next = pc;
            let accs: Vec<i32> = (0..depth).map(|_| rng.range(-1 << 24, 1 << 24) as i32).collect();
            // Cycle t: bias read of entry (t·7) mod depth; t + 1: its accumulator; t + 3: valid,
            // output entry t.
            for t in 0..depth + 3 {
                let u = &mut h.uut;
                u.b_en.next = t < depth;
                u.b_addr.next = (((t * 7) % depth) as u64).into();
                u.acc.next = if (1..=depth).contains(&t) { (accs[t - 1] as u32 as u64).into() } else { 0.into() };
                u.valid.next = t >= 3;
                u.idx.next = ((t.wrapping_sub(3) % depth) as u64).into();
                h.step().unwrap();
            }
            h.uut.valid.next = false;
            h.uut.b_en.next = false;
            for _ in 0..ORT_REQUANT_STAGES + 1 {
                h.step().unwrap();
            }
            let wants: Vec<i32> = accs
                .iter()
                .enumerate()
                .map(|(p, &acc)| {
                    let e = (p * 7) % depth;
                    let sum = acc.wrapping_add(bias[e]);
                    let q = Q { ort: pc.then_some(scales[e]), ..q };
                    if en { requantize(sum, &q) as i32 } else { sum }
                })
                .collect();
            for (p, &want) in wants.iter().enumerate() {
                h.uut.rd_en.next = true;
                h.uut.rd_addr.next = (p as u64).into();
                h.step().unwrap();
                h.uut.rd_en.next = false;
                h.settle().unwrap();
                assert_eq!(h.uut.rd_data.val().index() as u32 as i32, want, "entry {p}, {mode}");
                if p % 4 == 0 {
                    let word = (0..4).fold(0u64, |w, b| w | u64::from(wants[p + b] as u8) << (8 * b));
                    assert_eq!(h.uut.rd_word.val().to_u64(), word, "word at entry {p}, {mode}");
                }
            }
        }
    }
}
