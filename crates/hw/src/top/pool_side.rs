//! # PoolSide: `accel_top`'s pooling unit with its control registers and output buffer
//!
//! The pooling unit ([`PoolUnit`]), its control registers ([`PoolRegs`]), its output buffer (int8
//! values, read by the mover's stores as sign-extended 32-bit words) and the "convolution done"
//! event the unit switches its clock divider on: the rising edge of the conv engine's `done`, or
//! `clk_now` (a `POOL_CLOCK` accepted while the engine is idle).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `op`, `payload` | in | 1, 5, 64 | a parameter write ([`PoolRegs`]) |
//! | `clear` | in | 1 | a program starts: the registers as after reset |
//! | `p_div` | in | 8 | the clock divider of the next layer |
//! | `conv_done`, `clk_now` | in | 1 | the conv engine's done flag; apply the divider now |
//! | `start` | in | 1 | run the unit |
//! | `ld_we`, `ld_bank`, `ld_addr`, `ld_data` | in | 1, 16, 16, 8 | feature-memory write |
//! | `ld_wide`, `ld_n`, `ld_bank_b`, `ld_addr_b`, `ld_word` | in | 1, 4, 16, 16, 64 | the write is a bus word (the unit's ports of the same names) |
//! | `rd_en`, `rd_addr` | in | 1, 16 | output-buffer read |
//! | `rd_data` | out | 32 | the value read (bits 7..0, the rest zero: the data mover sign-extends it), a cycle after `rd_en` |
//! | `busy`, `done`, `enable`, `div_now` | out | 1, 1, 1, 8 | the unit's state and its divider in force |
//! | `bad` | out | 1 | the registers hold a zero size, stride or band geometry |
//! | `fw`, `fph`, `hbw` | out | 16, 2, 16 | the feature-memory layout (the mover's loads of target 3) |

use rust_hdl::prelude::*;

use crate::mem::SyncRam;
use crate::pool::{PoolUnit, PoolUnitParams};
use crate::top::PoolRegs;

/// The pooling side of `accel_top`.
#[derive(LogicBlock)]
pub struct PoolSide {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Parameter write.
    pub we: Signal<In, Bit>,
    /// Its opcode.
    pub op: Signal<In, Bits<5>>,
    /// Its payload.
    pub payload: Signal<In, Bits<64>>,
    /// A program starts: the registers back to their reset values.
    pub clear: Signal<In, Bit>,
    /// Clock divider of the next layer.
    pub p_div: Signal<In, Bits<8>>,
    /// The conv engine is done.
    pub conv_done: Signal<In, Bit>,
    /// Apply the divider now.
    pub clk_now: Signal<In, Bit>,
    /// Run the unit.
    pub start: Signal<In, Bit>,
    /// Feature-memory write.
    pub ld_we: Signal<In, Bit>,
    /// Its one-hot bank.
    pub ld_bank: Signal<In, Bits<16>>,
    /// Its entry.
    pub ld_addr: Signal<In, Bits<16>>,
    /// Its value.
    pub ld_data: Signal<In, Bits<8>>,
    /// The write is a bus word: its first `ld_n` bytes at `ld_addr` of `ld_bank`, the rest at
    /// `ld_addr_b` of `ld_bank_b`.
    pub ld_wide: Signal<In, Bit>,
    pub ld_n: Signal<In, Bits<4>>,
    pub ld_bank_b: Signal<In, Bits<16>>,
    pub ld_addr_b: Signal<In, Bits<16>>,
    pub ld_word: Signal<In, Bits<64>>,
    /// Output-buffer read.
    pub rd_en: Signal<In, Bit>,
    /// Its entry.
    pub rd_addr: Signal<In, Bits<16>>,
    /// The value read, sign-extended.
    pub rd_data: Signal<Out, Bits<32>>,
    /// The unit runs.
    pub busy: Signal<Out, Bit>,
    /// It is done.
    pub done: Signal<Out, Bit>,
    /// Its clock enable.
    pub enable: Signal<Out, Bit>,
    /// Its divider in force.
    pub div_now: Signal<Out, Bits<8>>,
    /// A zero size, stride or band geometry.
    pub bad: Signal<Out, Bit>,
    /// Map width W.
    pub fw: Signal<Out, Bits<16>>,
    /// Top padding.
    pub fph: Signal<Out, Bits<2>>,
    /// hb·W.
    pub hbw: Signal<Out, Bits<16>>,
    regs: PoolRegs,
    unit: PoolUnit,
    /// Pooling output buffer.
    pout: SyncRam<Bits<8>>,
    /// The conv engine's done flag last cycle.
    conv_done_q: DFF<Bit>,
}

impl PoolSide {
    /// The pooling side for the given unit.
    pub fn new(u: &PoolUnitParams) -> Self {
        block_with_defaults!(PoolSide {
            regs: PoolRegs::default(),
            unit: PoolUnit::new(u),
            pout: SyncRam::collision_free(u.feature_memory_depth),
        } defaults {
            clock, we, op, payload, clear, p_div, conv_done, clk_now, start, ld_we, ld_bank, ld_addr,
            ld_data, ld_wide, ld_n, ld_bank_b, ld_addr_b, ld_word, rd_en, rd_addr, rd_data, busy, done, enable, div_now, bad, fw, fph, hbw,
            conv_done_q,
        })
    }
}

impl Logic for PoolSide {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, conv_done_q);
        clock!(self, clock, regs, unit, pout);
        self.regs.we.next = self.we.val();
        self.regs.op.next = self.op.val();
        self.regs.payload.next = self.payload.val();
        self.regs.clear.next = self.clear.val();
        self.unit.p_c.next = self.regs.p_c.val();
        self.unit.p_h.next = self.regs.p_h.val();
        self.unit.p_w.next = self.regs.p_w.val();
        self.unit.p_ho.next = self.regs.p_ho.val();
        self.unit.p_wo.next = self.regs.p_wo.val();
        self.unit.p.kh.next = self.regs.p_kh.val();
        self.unit.p.kw.next = self.regs.p_kw.val();
        self.unit.p.sh.next = self.regs.p_sh.val();
        self.unit.p.sw.next = self.regs.p_sw.val();
        self.unit.p.ph.next = bit_cast::<16, 2>(self.regs.p_ph.val());
        self.unit.p.pw.next = self.regs.p_pw.val();
        self.unit.p_hbw.next = self.regs.p_hbw.val();
        self.unit.p_xcols.next = self.regs.p_xcols.val();
        self.unit.p_count.next = self.regs.p_count.val();
        self.unit.p_avg.next = self.regs.p_avg.val();
        self.unit.p_div.next = self.p_div.val();
        self.unit.clear.next = self.clear.val();
        self.conv_done_q.d.next = self.conv_done.val();
        self.unit.conv_done.next = (self.conv_done.val() & !self.conv_done_q.q.val()) | self.clk_now.val();
        self.unit.start.next = self.start.val();
        self.unit.ld_we.next = self.ld_we.val();
        self.unit.ld_bank.next = self.ld_bank.val();
        self.unit.ld_addr.next = self.ld_addr.val();
        self.unit.ld_data.next = self.ld_data.val();
        self.unit.ld_wide.next = self.ld_wide.val();
        self.unit.ld_n.next = self.ld_n.val();
        self.unit.ld_bank_b.next = self.ld_bank_b.val();
        self.unit.ld_addr_b.next = self.ld_addr_b.val();
        self.unit.ld_word.next = self.ld_word.val();
        self.pout.w_en.next = self.unit.out_valid.val();
        self.pout.w_addr.next = self.unit.out_idx.val().get_bits::<16>(0);
        self.pout.w_data.next = self.unit.out_data.val();
        self.pout.r_en.next = self.rd_en.val();
        self.pout.r_addr.next = self.rd_addr.val();
        self.rd_data.next = bit_cast::<32, 8>(self.pout.r_data.val());
        self.busy.next = self.unit.busy.val();
        self.done.next = self.unit.done.val();
        self.enable.next = self.unit.enable.val();
        self.div_now.next = self.unit.div_now.val();
        self.bad.next = self.regs.bad.val();
        self.fw.next = self.regs.p_w.val();
        self.fph.next = self.regs.p_ph.val();
        self.hbw.next = self.regs.p_hbw.val();
    }
}

crate::clocked!(PoolSide);
