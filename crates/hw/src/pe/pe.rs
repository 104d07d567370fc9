//! # Pe: one processing element of the convolution array
//!
//! Implements patents.md §1: an input register written only from the left neighbour (or, in
//! column 0, from the row's input port), K ≥ 2 pre-stored kernels used once each per slow cycle,
//! and one multiplier shared by the K kernels.
//!
//! Timing: one clock (the fast clock). `strobe` is high in the last fast cycle of every slow
//! cycle; the input register loads only at that edge, so it is stable for the K fast cycles of a
//! slow cycle. In fast sub-cycle j (`ksel` one-hot bit j) the PE multiplies its input by kernel j.
//! The weight to multiply is selected a cycle ahead from `ksel_nx` (the next cycle's `ksel`) and
//! registered, so the multiplier's operands both come straight from registers (timing: the
//! K-way select is not in front of the multiplier); a swap at that edge is seen by selecting
//! from the shadow registers the swap copies.
//!
//! Partial sums flow down the column: `psum_out` is a K-stage shift register, so the PE below,
//! which sees the same datum one slow cycle (K fast cycles) later, adds to the sum of the same
//! kernel j. A run that uses k < K kernels (a slow cycle of k fast cycles, docs/conv-array.md)
//! enters the new sum at stage K − k (`sum_at`, one-hot), so it still leaves k cycles later. Products are exact: the signed int8 × int8 product (|a·b| ≤ 2^14, 16 bits) is
//! registered in the multiplier block ([`RegMul`], which on ECP5 is a DSP block with its output
//! register), and added
//! (sign-extended to 32 bits) one fast cycle after the multiply; every PE of a column has the
//! same latency, so the chain still meets the same datum and kernel, and the bottom row's sums
//! leave one fast cycle later than the multiply schedule alone would say.
//!
//! Weights are triple-buffered: K active weights and two banks of K shadow weights. `w_we` with
//! one-hot `w_sel` writes a shadow register of bank `w_bank`; a datum whose tag has bit 1
//! (`TAG_SWAP`, see `pe/mod.rs`) set copies every shadow register of the bank its tag's bit 7
//! names (`TAG_BANK`, the pass's parity) into the active one as it is loaded, so a new pass's
//! weights take effect with its first datum, PE by PE, as that datum shifts along, while the
//! loader already fills the other bank with the pass after it (docs/conv-array.md).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | fast clock |
//! | `strobe` | in | 1 | last fast cycle of a slow cycle: input register loads |
//! | `ksel` | in | 16 | one-hot sub-cycle: kernel j is used when bit j is set |
//! | `ksel_nx` | in | 16 | `ksel` of the next fast cycle |
//! | `x_in`, `tag_in` | in | 8, 8 | datum and its tag from the left neighbour or the row port |
//! | `x_out`, `tag_out` | out | 8, 8 | the input register and its tag (to the right neighbour) |
//! | `psum_in` | in | 32 | partial sum from the PE above (0 in row 0) |
//! | `psum_out` | out | 32 | partial sum k fast cycles old (to the PE below) |
//! | `sum_at` | in | 16 | one-hot delay-line stage the new partial sum enters: bit K − k (bit 0 for all K kernels) |
//! | `w_we`, `w_sel`, `w_bank`, `w_data` | in | 1, 16, 1, 8 | shadow-weight write port: one-hot kernel, bank |
//! | `w_used` | out | 8 | the weight multiplied this cycle (observation: what the PE really multiplies) |
//! | `mac` | out | 1 | this cycle's product is a MAC on a datum read from the first cache (valid, not padding) |
//! | `prod` | out | 32 | the product of the sub-cycle before, sign-extended (the depthwise mode's row sums) |

use crate::pe::mul::RegMul;
use crate::pe::{Tag, TAG_PAD, TAG_VALID};

use crate::pe::{TAG_BANK, TAG_SWAP};

const _: () = assert!(
    TAG_VALID == 0 && TAG_SWAP == 1 && TAG_PAD == 5 && TAG_BANK == 7,
    "update() uses the tag bits as literals"
);
use rust_hdl::prelude::*;

/// Parameters of a PE.
#[derive(Clone, Copy, Debug)]
pub struct PeParams {
    /// Kernels pre-stored, K ≥ 2.
    pub kernels: usize,
    /// A fault built in on purpose (tests of the invariant counters); `None` otherwise.
    pub fault: PeFault,
}

/// Faults a PE can be built with, for tests that show an invariant counter catches them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeFault {
    /// No fault.
    #[default]
    None,
    /// The input register ignores a strobe when the incoming datum's low bit is set (the tag
    /// still loads, so the run ends).
    HoldRegister,
    /// Sub-cycle j multiplies kernel (j + 1) mod K.
    KernelRotated,
}

/// One processing element.
#[derive(LogicBlock)]
pub struct Pe {
    /// Fast clock.
    pub clock: Signal<In, Clock>,
    /// High in the last fast cycle of a slow cycle.
    pub strobe: Signal<In, Bit>,
    /// One-hot kernel select for this fast cycle.
    pub ksel: Signal<In, Bits<16>>,
    /// The next fast cycle's `ksel`.
    pub ksel_nx: Signal<In, Bits<16>>,
    /// Datum from the left (or the row port in column 0).
    pub x_in: Signal<In, Bits<8>>,
    /// Tag travelling with `x_in`.
    pub tag_in: Signal<In, Tag>,
    /// The input register, to the right neighbour.
    pub x_out: Signal<Out, Bits<8>>,
    /// The input register's tag.
    pub tag_out: Signal<Out, Tag>,
    /// Partial sum from the PE above.
    pub psum_in: Signal<In, Bits<32>>,
    /// Partial sum to the PE below, k fast cycles after it was formed.
    pub psum_out: Signal<Out, Bits<32>>,
    /// One-hot stage of the delay line the new partial sum enters (K − k for k kernels).
    pub sum_at: Signal<In, Bits<16>>,
    /// Shadow weight write enable.
    pub w_we: Signal<In, Bit>,
    /// One-hot shadow weight to write.
    pub w_sel: Signal<In, Bits<16>>,
    /// Shadow bank to write.
    pub w_bank: Signal<In, Bit>,
    /// Weight to write.
    pub w_data: Signal<In, Bits<8>>,
    /// The weight multiplied this cycle.
    pub w_used: Signal<Out, Bits<8>>,
    /// This cycle's product is a MAC on a real datum (tag valid, not padding).
    pub mac: Signal<Out, Bit>,
    /// The registered product, sign-extended (the depthwise mode's row sums, `DwRows`).
    pub prod: Signal<Out, Bits<32>>,
    /// Input register (loads on strobe only).
    x: DFF<Bits<8>>,
    /// Tag register, loads with `x`.
    tag: DFF<Tag>,
    /// Active weights, one per kernel.
    w: Vec<DFF<Bits<8>>>,
    /// Shadow weights, bank 0 and bank 1 (passes of even and odd parity).
    ws: Vec<DFF<Bits<8>>>,
    ws1: Vec<DFF<Bits<8>>>,
    /// Per kernel, the shadow weight a swap at this edge copies (of the bank the tag names).
    wsw: Vec<Signal<Local, Bits<8>>>,
    /// Partial-sum delay line, K stages.
    psum: Vec<DFF<Bits<32>>>,
    /// Weight of the kernel `ksel_nx` selects, as the weights will be after this edge.
    wnx: Signal<Local, Bits<8>>,
    /// Weight of the selected kernel, registered from `wnx`.
    wsel: DFF<Bits<8>>,
    /// A pass's first datum is loaded at this edge: its weights take effect.
    swap: Signal<Local, Bit>,
    /// The signed product of the input and the selected weight, registered (timing: the
    /// multiplier and the accumulating adder are in different cycles); it joins the partial sum
    /// one fast cycle after the multiply.
    mul: RegMul<8, 8, 16>,
    /// Signed product sign-extended to 32 bits.
    prod32: Signal<Local, Bits<32>>,
    /// The new partial sum, `psum_in` + the product.
    sum: Signal<Local, Bits<32>>,
    /// Built-in faults (tests only): one element when the fault is present, none otherwise, so
    /// a product PE's Verilog has no trace of them.
    fault_hold: Vec<Constant<Bit>>,
    fault_rotate: Vec<Constant<Bit>>,
}

impl Pe {
    /// A PE with `p.kernels` kernels.
    pub fn new(p: &PeParams) -> Pe {
        assert!((2..=16).contains(&p.kernels), "validated by the configuration");
        Pe {
            clock: Default::default(),
            strobe: Default::default(),
            ksel: Default::default(),
            ksel_nx: Default::default(),
            x_in: Default::default(),
            tag_in: Default::default(),
            x_out: Default::default(),
            tag_out: Default::default(),
            psum_in: Default::default(),
            psum_out: Default::default(),
            sum_at: Default::default(),
            w_we: Default::default(),
            w_sel: Default::default(),
            w_bank: Default::default(),
            w_data: Default::default(),
            w_used: Default::default(),
            mac: Default::default(),
            prod: Default::default(),
            x: Default::default(),
            tag: Default::default(),
            w: (0..p.kernels).map(|_| Default::default()).collect(),
            ws: (0..p.kernels).map(|_| Default::default()).collect(),
            ws1: (0..p.kernels).map(|_| Default::default()).collect(),
            wsw: (0..p.kernels).map(|_| Default::default()).collect(),
            psum: (0..p.kernels).map(|_| Default::default()).collect(),
            wnx: Default::default(),
            wsel: Default::default(),
            swap: Default::default(),
            mul: RegMul::signed(),
            prod32: Default::default(),
            sum: Default::default(),
            fault_hold: (p.fault == PeFault::HoldRegister).then(|| Constant::new(true)).into_iter().collect(),
            fault_rotate: (p.fault == PeFault::KernelRotated).then(|| Constant::new(true)).into_iter().collect(),
        }
    }
}

impl Pe {
    /// K, the kernels this PE stores.
    pub fn kernels(&self) -> usize {
        self.w.len()
    }
}

impl Logic for Pe {
    #[hdl_gen]
    fn update(&mut self) {
        // Defaults: every register holds, every local is driven.
        dff_setup!(self, clock, x, tag, wsel);
        for j in 0..self.w.len() {
            self.w[j].clock.next = self.clock.val();
            self.w[j].d.next = self.w[j].q.val();
            self.ws[j].clock.next = self.clock.val();
            self.ws[j].d.next = self.ws[j].q.val();
            self.ws1[j].clock.next = self.clock.val();
            self.ws1[j].d.next = self.ws1[j].q.val();
            self.psum[j].clock.next = self.clock.val();
            if self.tag_in.val().get_bit(7) {
                self.wsw[j].next = self.ws1[j].q.val();
            } else {
                self.wsw[j].next = self.ws[j].q.val();
            }
        }
        self.wnx.next = 0.into();
        self.swap.next = self.strobe.val() & self.tag_in.val().get_bit(1);
        // Input register: loads only at the end of a slow cycle.
        if self.strobe.val() {
            self.x.d.next = self.x_in.val();
            self.tag.d.next = self.tag_in.val();
        }
        for f in 0..self.fault_hold.len() {
            // The datum only: the tag (control) still flows, so the run ends.
            if self.fault_hold[f].val() & self.x_in.val().get_bit(0) {
                self.x.d.next = self.x.q.val();
            }
        }
        self.x_out.next = self.x.q.val();
        self.tag_out.next = self.tag.q.val();
        // Kernel j in sub-cycle j, selected a cycle ahead: the weight register after this edge
        // is the shadow register when a swap happens at it.
        for j in 0..self.w.len() {
            if self.ksel_nx.val().get_bit(j) {
                if self.swap.val() {
                    self.wnx.next = self.wsw[j].val();
                } else {
                    self.wnx.next = self.w[j].q.val();
                }
            }
        }
        for f in 0..self.fault_rotate.len() {
            if self.fault_rotate[f].val() {
                for j in 1..self.w.len() {
                    if self.ksel_nx.val().get_bit(j - 1) {
                        if self.swap.val() {
                            self.wnx.next = self.wsw[j].val();
                        } else {
                            self.wnx.next = self.w[j].q.val();
                        }
                    }
                }
                for last in (self.w.len() - 1)..self.w.len() {
                    if self.ksel_nx.val().get_bit(last) {
                        if self.swap.val() {
                            self.wnx.next = self.wsw[0].val();
                        } else {
                            self.wnx.next = self.w[0].q.val();
                        }
                    }
                }
            }
        }
        self.wsel.d.next = self.wnx.val();
        self.w_used.next = self.wsel.q.val();
        // Bits 0 (TAG_VALID) and 5 (TAG_PAD): literals, since rust-hdl emits a named constant as
        // an undeclared Verilog name; the assert below ties them to the constants.
        self.mac.next = self.ksel.val().any() & self.tag.q.val().get_bit(0) & !self.tag.q.val().get_bit(5);
        // Exact signed product (int8 × int8 fits in 16 bits), registered in the multiplier.
        self.mul.clock.next = self.clock.val();
        self.mul.a.next = self.x.q.val();
        self.mul.b.next = self.wsel.q.val();
        if self.mul.p.val().get_bit(15) {
            // Sign extension by OR (wiring and one LUT level, no carry chain in front of the
            // accumulating adder).
            self.prod32.next = bit_cast::<32, 16>(self.mul.p.val()) | (bits::<32>(0xFFFF) << 16);
        } else {
            self.prod32.next = bit_cast::<32, 16>(self.mul.p.val());
        }
        // Partial sums: a K-stage delay line down the column, entered at stage K − k (stage
        // K − 1 would be k = 1, which no run uses: no select for it).
        self.prod.next = self.prod32.val();
        self.sum.next = self.psum_in.val() + self.prod32.val();
        self.psum[0].d.next = self.sum.val();
        for j in 1..self.w.len() {
            self.psum[j].d.next = self.psum[j - 1].q.val();
        }
        for j in 1..(self.w.len() - 1) {
            if self.sum_at.val().get_bit(j) {
                self.psum[j].d.next = self.sum.val();
            }
        }
        // `last` is a one-value loop so the index is a loop variable, which rust-hdl's Verilog
        // generator can evaluate (it cannot evaluate `self.w.len() - 1` inside brackets).
        for last in (self.w.len() - 1)..self.w.len() {
            self.psum_out.next = self.psum[last].q.val();
        }
        // Weights: shadow writes, and the swap that travels with a pass's first datum.
        for j in 0..self.w.len() {
            if self.w_we.val() & self.w_sel.val().get_bit(j) {
                if self.w_bank.val() {
                    self.ws1[j].d.next = self.w_data.val();
                } else {
                    self.ws[j].d.next = self.w_data.val();
                }
            }
            if self.swap.val() {
                self.w[j].d.next = self.wsw[j].val();
            }
        }
    }
}

crate::clocked!(Pe);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// A cycle-level reference of the PE, written from the datasheet above.
    struct Model {
        x: u8,
        tag: u8,
        w: Vec<u8>,
        ws: [Vec<u8>; 2],
        psum: Vec<u32>,
        prod: i32,
    }

    fn sext8(v: u8) -> i32 {
        v as i8 as i32
    }

    #[test]
    fn pe_matches_its_cycle_model_on_random_stimulus() {
        for (k, ka) in [(2usize, 2usize), (3, 3), (3, 2), (5, 5), (5, 3), (5, 2)] {
            // `ka` kernels in use: the new sum enters the delay line at stage k − ka.
            let at = k - ka;
            let mut rng = Rng::from_env("pe", 11 + (k * 7 + ka) as u64);
            let mut h = Harness::new(Pe::new(&PeParams { kernels: k, fault: PeFault::None })).unwrap();
            let mut m = Model { x: 0, tag: 0, w: vec![0; k], ws: [vec![0; k], vec![0; k]], psum: vec![0; k], prod: 0 };
            // The select of each cycle is known one cycle ahead (`ksel_nx`), as in the engine.
            let mut ksel: u64 = 0;
            for cycle in 0..400 {
                let strobe = rng.below(3) == 0;
                let ksel_nx: u64 = if rng.below(8) == 0 { 0 } else { 1 << rng.below(k as u64) };
                let x_in = rng.below(256) as u8;
                let tag_in = rng.below(256) as u8;
                let psum_in = rng.next() as u32;
                let w_we = rng.below(2) == 1;
                let w_sel: u64 = 1 << rng.below(k as u64);
                let w_bank = rng.below(2) as usize;
                let w_data = rng.below(256) as u8;
                let u = &mut h.uut;
                u.strobe.next = strobe;
                u.ksel.next = ksel.into();
                u.ksel_nx.next = ksel_nx.into();
                u.x_in.next = (x_in as u64).into();
                u.tag_in.next = (tag_in as u64).into();
                u.psum_in.next = (psum_in as u64).into();
                u.sum_at.next = (1u64 << at).into();
                u.w_we.next = w_we;
                u.w_sel.next = w_sel.into();
                u.w_bank.next = w_bank == 1;
                u.w_data.next = (w_data as u64).into();
                h.settle().unwrap();
                // Outputs before the edge.
                let u = &h.uut;
                assert_eq!(u.x_out.val().index() as u8, m.x, "x_out at cycle {cycle}, k={k}");
                assert_eq!(u.tag_out.val().index() as u8, m.tag, "tag_out at cycle {cycle}");
                assert_eq!(u.psum_out.val().index() as u32, m.psum[k - 1], "psum_out at {cycle}");
                let wsel = (0..k).find(|&j| ksel >> j & 1 == 1).map_or(0, |j| m.w[j]);
                assert_eq!(u.w_used.val().index() as u8, wsel, "w_used at cycle {cycle}");
                let mac = ksel != 0 && m.tag & 1 == 1 && m.tag >> 5 & 1 == 0;
                assert_eq!(u.mac.val(), mac, "mac at cycle {cycle}");
                let prod = sext8(m.x) * sext8(wsel);
                h.step().unwrap();
                // Reference edge: the sum takes last cycle's product.
                for j in (1..k).rev() {
                    m.psum[j] = m.psum[j - 1];
                }
                m.psum[0] = psum_in.wrapping_add(m.prod as u32);
                m.psum[at] = m.psum[0];
                m.prod = prod;
                // A swap copies the bank the tag names, as it was before any write at this edge.
                let old_ws = m.ws[(tag_in >> 7) as usize].clone();
                for j in 0..k {
                    if w_we && w_sel >> j & 1 == 1 {
                        m.ws[w_bank][j] = w_data;
                    }
                    if strobe && tag_in >> 1 & 1 == 1 {
                        m.w[j] = old_ws[j];
                    }
                }
                if strobe {
                    m.x = x_in;
                    m.tag = tag_in;
                }
                ksel = ksel_nx;
            }
        }
    }
}
