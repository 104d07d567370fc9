//! # InstrDecompressor: instruction buffer loaded by register writes, unpacked one per cycle
//!
//! Implements patents.md §3's hardware side (docs/isa.md): the host writes the compressed words
//! through a small register interface into the instruction buffer; on `start` the decompressor
//! unpacks them and puts one instruction per cycle on the module-register write port.
//!
//! - **Register interface**: `reg_we` with `reg_addr` 0 (DATA) appends `reg_wdata` at the
//!   auto-incrementing pointer (`count`); a write past capacity sets `overflow` and is dropped, so
//!   no accepted word is lost; `reg_addr` 1 (CTRL): bit 0 start, bit 1 clear (pointer, status).
//!   Status: `st_busy`, `st_error`, `st_overflow`.
//! - **Decoding**: instructions are read LSB first from the current word; a zero opcode (`NOP`) or
//!   fewer than 5 bits left means "next word". The next word is prefetched (or taken straight from
//!   the buffer's read port as it arrives), and the decoder reads from it in the same cycle the
//!   current one runs out, so it emits one instruction per cycle.
//!   Lengths and modules come from the opcode table (`accelgen_isa::TABLE`) as constants. An
//!   illegal opcode, an instruction running past its word, or running out of words before `END`
//!   sets `error` and stops; `END` stops cleanly. Every path ends within count + 2 cycles per word.
//! - **Output**: `wr_valid`, `wr_module` (one-hot: mem, pe, acc, act, pool, ctrl), `wr_op`,
//!   `wr_payload` (the instruction's bits, opcode included): the write into the matching module's
//!   register, exposed as ports until the integrated top exists.
//!
//! The word width is 64 bits (`isa.word_bits = 64`).

use crate::mem::SyncRam;
use accelgen_isa::{Module, TABLE};
use rust_hdl::prelude::*;

/// Word width of this decompressor.
pub const WORD_BITS: usize = 64;

/// The decompressor.
#[derive(LogicBlock)]
pub struct InstrDecompressor {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Register write strobe.
    pub reg_we: Signal<In, Bit>,
    /// Register: 0 DATA, 1 CTRL.
    pub reg_addr: Signal<In, Bits<2>>,
    /// Register write data.
    pub reg_wdata: Signal<In, Bits<64>>,
    /// Words accepted.
    pub count: Signal<Out, Bits<16>>,
    /// Status: decoding.
    pub st_busy: Signal<Out, Bit>,
    /// Status: stopped on a malformed stream.
    pub st_error: Signal<Out, Bit>,
    /// Status: a word was written past capacity (and dropped).
    pub st_overflow: Signal<Out, Bit>,
    /// An instruction is written this cycle.
    pub wr_valid: Signal<Out, Bit>,
    /// One-hot target module (mem, pe, acc, act, pool, ctrl).
    pub wr_module: Signal<Out, Bits<6>>,
    /// Opcode.
    pub wr_op: Signal<Out, Bits<5>>,
    /// Instruction bits, opcode in the low bits.
    pub wr_payload: Signal<Out, Bits<64>>,
    /// Instruction buffer.
    ibuf: SyncRam<Bits<64>>,
    /// Buffer capacity.
    depth: Constant<Bits<32>>,
    /// Length (8 bits) of each of the 32 opcodes, 0 = illegal.
    lens: Constant<Bits<256>>,
    /// One-hot module (8 bits) of each opcode.
    mods: Constant<Bits<256>>,
    /// Write pointer and status flags.
    wptr: DFF<Bits<16>>,
    overflow: DFF<Bit>,
    error: DFF<Bit>,
    busy: DFF<Bit>,
    /// Read pointer of the next word to fetch.
    rptr: DFF<Bits<16>>,
    /// A fetch was issued last cycle (its data is on the buffer's read port now).
    fetching: DFF<Bit>,
    /// Current word (already shifted past decoded instructions) and bits left in it.
    cur: DFF<Bits<64>>,
    left: DFF<Bits<8>>,
    cur_valid: DFF<Bit>,
    /// Prefetched next word.
    nxt: DFF<Bits<64>>,
    nxt_valid: DFF<Bit>,
    /// Output registers.
    o_valid: DFF<Bit>,
    o_module: DFF<Bits<6>>,
    o_op: DFF<Bits<5>>,
    o_payload: DFF<Bits<64>>,
    /// The current word has no instruction left (NOP or fewer than 5 bits).
    cur_empty: Signal<Local, Bit>,
    /// The word decoded from this cycle and its bits left.
    src: Signal<Local, Bits<64>>,
    src_left: Signal<Local, Bits<8>>,
    src_ok: Signal<Local, Bit>,
    /// Decoded opcode, its length and module.
    op: Signal<Local, Bits<5>>,
    len: Signal<Local, Bits<8>>,
    opmod: Signal<Local, Bits<6>>,
    /// Bit offset of the opcode's entry in the tables.
    toff: Signal<Local, Bits<8>>,
    /// Mask of the instruction's bits.
    mask: Signal<Local, Bits<64>>,
    /// The word after the current one (prefetched or arriving) and whether there is one.
    next_word: Signal<Local, Bits<64>>,
    next_ok: Signal<Local, Bit>,
    /// The next word is taken into decoding this cycle.
    consume: Signal<Local, Bit>,
    /// The prefetch slot's validity after this cycle.
    nxt_valid_next: Signal<Local, Bit>,
}

fn table_constants() -> (Bits<256>, Bits<256>) {
    let mut lens = Bits::<256>::default();
    let mut mods = Bits::<256>::default();
    for o in TABLE {
        let at = o.code as usize * 8;
        for b in 0..8 {
            lens = lens.replace_bit(at + b, (o.len() >> b) & 1 == 1);
        }
        let m = match o.module {
            Module::Mem => 0,
            Module::Pe => 1,
            Module::Acc => 2,
            Module::Act => 3,
            Module::Pool => 4,
            Module::Ctrl => 5,
        };
        mods = mods.replace_bit(at + m, true);
    }
    (lens, mods)
}

impl InstrDecompressor {
    /// A decompressor with a `depth`-word instruction buffer.
    pub fn new(depth: usize) -> Self {
        assert!((1..=1 << 16).contains(&depth));
        let (lens, mods) = table_constants();
        InstrDecompressor {
            clock: Default::default(),
            reg_we: Default::default(),
            reg_addr: Default::default(),
            reg_wdata: Default::default(),
            count: Default::default(),
            st_busy: Default::default(),
            st_error: Default::default(),
            st_overflow: Default::default(),
            wr_valid: Default::default(),
            wr_module: Default::default(),
            wr_op: Default::default(),
            wr_payload: Default::default(),
            ibuf: SyncRam::new(depth),
            depth: Constant::new((depth as u64).into()),
            lens: Constant::new(lens),
            mods: Constant::new(mods),
            wptr: Default::default(),
            overflow: Default::default(),
            error: Default::default(),
            busy: Default::default(),
            rptr: Default::default(),
            fetching: Default::default(),
            cur: Default::default(),
            left: Default::default(),
            cur_valid: Default::default(),
            nxt: Default::default(),
            nxt_valid: Default::default(),
            o_valid: Default::default(),
            o_module: Default::default(),
            o_op: Default::default(),
            o_payload: Default::default(),
            cur_empty: Default::default(),
            src: Default::default(),
            src_left: Default::default(),
            src_ok: Default::default(),
            op: Default::default(),
            len: Default::default(),
            opmod: Default::default(),
            toff: Default::default(),
            mask: Default::default(),
            next_word: Default::default(),
            next_ok: Default::default(),
            consume: Default::default(),
            nxt_valid_next: Default::default(),
        }
    }
}

impl Logic for InstrDecompressor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, wptr, overflow, error, busy, rptr, fetching, cur, left, cur_valid, nxt,
            nxt_valid, o_valid, o_module, o_op, o_payload
        );
        self.ibuf.clock.next = self.clock.val();
        self.count.next = self.wptr.q.val();
        self.st_busy.next = self.busy.q.val();
        self.st_error.next = self.error.q.val();
        self.st_overflow.next = self.overflow.q.val();
        self.wr_valid.next = self.o_valid.q.val();
        self.wr_module.next = self.o_module.q.val();
        self.wr_op.next = self.o_op.q.val();
        self.wr_payload.next = self.o_payload.q.val();
        self.o_valid.d.next = false;

        // ---- Host writes.
        self.ibuf.w_en.next = false;
        self.ibuf.w_addr.next = self.wptr.q.val();
        self.ibuf.w_data.next = self.reg_wdata.val();
        if self.reg_we.val() & (self.reg_addr.val() == 0) {
            if bit_cast::<32, 16>(self.wptr.q.val()) < self.depth.val() {
                self.ibuf.w_en.next = true;
                self.wptr.d.next = self.wptr.q.val() + 1;
            } else {
                self.overflow.d.next = true;
            }
        }

        // ---- Decode from the current word, or from the next one when it is used up. The next
        // word is the prefetched one, or the one arriving from the buffer this cycle (bypass).
        self.cur_empty.next = (self.left.q.val() < 5)
            | !self.cur.q.val().get_bits::<5>(0).any()
            | !self.cur_valid.q.val();
        if self.nxt_valid.q.val() {
            self.next_word.next = self.nxt.q.val();
        } else {
            self.next_word.next = self.ibuf.r_data.val();
        }
        self.next_ok.next = self.nxt_valid.q.val() | self.fetching.q.val();
        if self.cur_empty.val() {
            self.src.next = self.next_word.val();
            self.src_left.next = bits::<8>(64);
            self.src_ok.next = self.next_ok.val();
        } else {
            self.src.next = self.cur.q.val();
            self.src_left.next = self.left.q.val();
            self.src_ok.next = true;
        }
        self.consume.next = self.busy.q.val() & self.cur_empty.val() & self.next_ok.val();
        self.op.next = self.src.val().get_bits::<5>(0);
        self.toff.next = bit_cast::<8, 5>(self.op.val()) << 3;
        self.len.next = self.lens.val().get_bits::<8>(self.toff.val().index());
        self.opmod.next = self.mods.val().get_bits::<6>(self.toff.val().index());
        if self.len.val() >= 64 {
            self.mask.next = !bits::<64>(0);
        } else {
            self.mask.next = (bits::<64>(1) << self.len.val()) - 1;
        }
        // The prefetch slot after this cycle: a word arriving while the slot is free and not
        // consumed is kept; a kept word that is consumed frees it.
        self.nxt_valid_next.next = self.nxt_valid.q.val();
        if self.nxt_valid.q.val() & self.consume.val() {
            self.nxt_valid_next.next = self.fetching.q.val();
        }
        if !self.nxt_valid.q.val() & self.fetching.q.val() & !self.consume.val() {
            self.nxt_valid_next.next = true;
        }
        if self.fetching.q.val() & (self.nxt_valid.q.val() | !self.consume.val()) {
            self.nxt.d.next = self.ibuf.r_data.val();
        }
        self.nxt_valid.d.next = self.nxt_valid_next.val() & self.busy.q.val();
        // Fetch whenever the slot will be free when the data arrives.
        self.ibuf.r_en.next = false;
        self.ibuf.r_addr.next = self.rptr.q.val();
        self.fetching.d.next = false;
        if self.busy.q.val() & !self.nxt_valid_next.val() & (self.rptr.q.val() < self.wptr.q.val()) {
            self.ibuf.r_en.next = true;
            self.rptr.d.next = self.rptr.q.val() + 1;
            self.fetching.d.next = true;
        }
        if self.busy.q.val() {
            if self.src_ok.val() {
                if self.cur_empty.val() {
                    // The next word becomes current.
                    self.cur.d.next = self.next_word.val();
                    self.left.d.next = bits::<8>(64);
                    self.cur_valid.d.next = true;
                }
                if !self.op.val().any() {
                    // A word that starts with NOP is empty: skip it.
                    self.cur_valid.d.next = false;
                } else if !self.len.val().any() | (self.len.val() > self.src_left.val()) {
                    self.error.d.next = true;
                    self.busy.d.next = false;
                } else {
                    self.o_valid.d.next = true;
                    self.o_op.d.next = self.op.val();
                    self.o_module.d.next = self.opmod.val();
                    self.o_payload.d.next = self.src.val() & self.mask.val();
                    self.cur.d.next = self.src.val() >> self.len.val();
                    self.left.d.next = self.src_left.val() - self.len.val();
                    self.cur_valid.d.next = true;
                    if self.op.val() == 31 {
                        self.busy.d.next = false;
                    }
                }
            } else if !self.fetching.q.val() & (self.rptr.q.val() >= self.wptr.q.val()) {
                // Out of words before END.
                self.error.d.next = true;
                self.busy.d.next = false;
            }
        }

        // ---- Control register.
        if self.reg_we.val() & (self.reg_addr.val() == 1) {
            if self.reg_wdata.val().get_bit(1) {
                self.wptr.d.next = 0.into();
                self.overflow.d.next = false;
                self.error.d.next = false;
                self.busy.d.next = false;
            }
            if self.reg_wdata.val().get_bit(0) & !self.busy.q.val() {
                self.busy.d.next = true;
                self.error.d.next = false;
                self.rptr.d.next = 0.into();
                self.fetching.d.next = false;
                self.cur_valid.d.next = false;
                self.nxt_valid.d.next = false;
            }
        }
    }
}

impl crate::sim::Clocked for InstrDecompressor {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
