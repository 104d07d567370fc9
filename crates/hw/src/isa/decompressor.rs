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
//! - **Sub-blocks**, in pipeline order: [`WordQueue`] (the buffer, its fetches and a queue of
//!   four prefetched words), the unpacker (one instruction per cycle from the current word and
//!   the queue head, an instruction may continue into the next word: its registers here, the
//!   current word, the position and the registered table entry at the position, its decode
//!   [`WordDecode`], the two candidate tables [`PositionTable`] and the entries picked from them), the two decode registers, [`TokenStage`] (the run state and the token register `tk`: the instruction and
//!   its class flags, decoded with it, and what it issues each cycle), the expansion ([`RepeatCopy`] from the [`History`] of issued instructions, [`MemAddExpand`]
//!   from the [`SlotFile`]) and the output register.
//! - **Decoding**: lengths and modules come from the opcode table (`accelgen_isa::TABLE`) as
//!   constants. An illegal opcode or running out of words before `END` sets `error` and stops;
//!   `END` stops cleanly. Every path ends within 13 cycles per word plus a few (a word of zeros is
//!   8 `NOP`s).
//! - **Expansion**: `MEM_ADD` becomes its full transfer from the slot registers; `REPEAT dist,
//!   count` issues count+1 copies of the instruction dist+1 back, a transfer's address continued
//!   by its step from the one 2(dist+1) back. A `REPEAT` at distance 1 costs no cycle of its own;
//!   at distance 2 or more it waits one priming cycle in `tk` (its first reads are issued when it
//!   is decoded, and the history's reads are registered). A `REPEAT` reaching before the first
//!   instruction, or a `MEM_ADD` with an unknown slot, sets `error` and stops. For timing, the
//!   unpacker's advance and the internal state ignore these checks (an error stops everything and
//!   a start resets what it touched); only the output register is qualified by them.
//! - **Back-pressure**: `hold` freezes every register of the decoding pipeline (each sub-block
//!   takes it), and the same instruction is presented again.
//! - **Output**: `wr_valid`, `wr_module` (one-hot: mem, pe, acc, act, pool, ctrl), `wr_op`,
//!   `wr_payload` (the instruction's bits, opcode included): the write into the matching module's
//!   register, exposed as ports (`accel_top`'s dispatcher takes them). `st_busy` covers the
//!   whole pipeline.
//!
//! The word width is 64 bits (`isa.word_bits = 64`).

use crate::isa::{opcode_const, EntryPick, History, InstrFields, MemAddExpand, PositionTable, RepeatCopy, SlotFile, TokenStage, WordDecode, WordQueue, ENTRY};
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
    /// The consumer cannot take the instruction on the write port this cycle: every register of
    /// the decoding pipeline holds (and the RAM reads are not repeated, so their data holds), and
    /// the same instruction is presented again. Tie low when the consumer is always ready.
    pub hold: Signal<In, Bit>,
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
    words: WordQueue,
    /// The unpacker: its registers (the current word as it came, the next instruction's bit
    /// position in it) and its decode.
    unpack: WordDecode,
    w0: DFF<Bits<60>>,
    pq: DFF<Bits<4>>,
    /// The table entry of the current position in this cycle's words (a register, timing: the
    /// step, the head's take and `src_ok` start from flip-flops); the two candidate tables of the
    /// next cycle's words (the head stays, or it is taken now) and the entries picked from them:
    /// at the next position (the unpacker advances; from the table the entry's take picks) and,
    /// from the words if the head stays, at this position (it does not).
    ent: DFF<Bits<ENTRY>>,
    t_stay: PositionTable,
    t_take: PositionTable,
    p_stay: EntryPick,
    p_take: EntryPick,
    p_hold: EntryPick,
    /// The decode queue between the unpacker and the token register (timing: the token's
    /// look-ahead reads start from registers, not from the unpacker's shifter): two entries
    /// `q_a`, `q_b`, each an instruction (a `NOP` too), its opcode, bits, legality and
    /// look-ahead fields; `d_dec` the head (entry `q_rp`), `d_valid` one entry at least. An entry
    /// is written at `q_wp` and only on the unpacker's advance, never on the token register's
    /// take (timing: the take, which waits on the token's copy count, moves the read pointer
    /// alone, not a 90-bit load).
    /// The fields are packed in one vector (`DEC_BITS`): the bits (0..64), opcode (64..69),
    /// length (69..77), `REPEAT.dist` (77..85), `MEM_ADD.slot` (85..88), legal (88), `REPEAT.count`
    /// = 0 (89); `dec_new`: the unpacker's instruction so packed.
    d_valid: DFF<Bit>,
    q_a: DFF<Bits<DEC_BITS>>,
    q_b: DFF<Bits<DEC_BITS>>,
    q_wp: DFF<Bit>,
    q_rp: DFF<Bit>,
    d_dec: Signal<Local, Bits<DEC_BITS>>,
    dec_new: Signal<Local, Bits<DEC_BITS>>,
    /// The packed vector's legal and `REPEAT.count` = 0 bits.
    dec_legal: Constant<Bits<DEC_BITS>>,
    dec_count0: Constant<Bits<DEC_BITS>>,
    /// The queue head's length, and its bits masked to it.
    d_len: Signal<Local, Bits<8>>,
    d_mask: Signal<Local, Bits<64>>,
    /// Both entries hold an instruction (the unpacker's advance waits only for this, a
    /// flip-flop, not for the token register's step, timing).
    k_valid: DFF<Bit>,
    /// The token register takes the head; the unpacker's instruction enters the queue.
    d_pop: Signal<Local, Bit>,
    d_push: Signal<Local, Bit>,
    /// The unpacker decodes this cycle: running, the decode queue not full, the
    /// instruction's bits there, no hold.
    u_adv: Signal<Local, Bit>,
    token: TokenStage,
    hist: History,
    slots: SlotFile,
    copy: RepeatCopy,
    madd: MemAddExpand,
    /// One-hot module (8 bits) of each opcode.
    mods: Constant<Bits<256>>,
    op_mem_load: Constant<Bits<5>>,
    /// Output registers.
    o_valid: DFF<Bit>,
    o_module: DFF<Bits<6>>,
    o_op: DFF<Bits<5>>,
    o_payload: DFF<Bits<64>>,
    /// The slot fields of a passed-through transfer.
    p_slot: Signal<Local, Bits<8>>,
    p_addr: Signal<Local, Bits<26>>,
    p_words: Signal<Local, Bits<20>>,
    /// The instruction issued this cycle, whether it is a transfer, and its slot fields.
    x: Signal<Local, Bits<64>>,
    x_op: Signal<Local, Bits<5>>,
    x_tr: Signal<Local, Bit>,
    xs_slot: Signal<Local, Bits<8>>,
    xs_addr: Signal<Local, Bits<26>>,
    xs_words: Signal<Local, Bits<20>>,
}

/// The one-hot module (8 bits per opcode) of every opcode of the table.
fn module_table() -> Bits<256> {
    let mut mods = Bits::<256>::default();
    for o in TABLE {
        let at = o.code as usize * 8;
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
    mods
}

impl InstrDecompressor {
    /// A decompressor with a `depth`-word instruction buffer.
    pub fn new(depth: usize) -> Self {
        assert!((1..=1 << 16).contains(&depth), "instruction buffer depth {depth}: allowed 1..=65536");
        block_with_defaults!(InstrDecompressor {
            words: WordQueue::new(depth),
            mods: Constant::new(module_table()),
            op_mem_load: opcode_const("MEM_LOAD"),
            dec_legal: Constant::new(Bits::<DEC_BITS>::default().replace_bit(88, true)),
            dec_count0: Constant::new(Bits::<DEC_BITS>::default().replace_bit(89, true)),
        } defaults {
            clock, reg_we, reg_addr, reg_wdata, hold, count, st_busy, st_error, st_overflow,
            wr_valid, wr_module, wr_op, wr_payload, unpack, w0, pq, ent, t_stay, t_take, p_stay, p_take, p_hold, d_valid, q_a, q_b, q_wp, q_rp, d_dec, dec_new, d_len, d_mask, k_valid, d_pop, d_push, u_adv, token, hist, slots, copy, madd, o_valid,
            o_module, o_op, o_payload, p_slot, p_addr, p_words, x, x_op, x_tr, xs_slot, xs_addr,
            xs_words,
        })
    }
}

/// Bits of a decode-queue entry (see `q_a`).
const DEC_BITS: usize = 90;

// The configuration accepts only the word this decompressor reads.
const _: () = assert!(accelgen_config::limits::WORD_BITS.0 == WORD_BITS as u32 && accelgen_config::limits::WORD_BITS.1 == WORD_BITS as u32);

impl Logic for InstrDecompressor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, o_valid, o_module, o_op, o_payload, w0, pq, ent, d_valid, q_a, q_b, q_wp, q_rp, k_valid);
        clock!(self, clock, words, token, hist, slots);
        self.count.next = self.words.count.val();
        self.st_busy.next = self.token.busy.val() | self.token.tk_valid.val();
        self.st_error.next = self.token.error.val();
        self.st_overflow.next = self.words.overflow.val();
        self.wr_valid.next = self.o_valid.q.val();
        self.wr_module.next = self.o_module.q.val();
        self.wr_op.next = self.o_op.q.val();
        self.wr_payload.next = self.o_payload.q.val();
        // ---- Buffer, unpacker, token register and run state.
        self.words.we.next = self.reg_we.val() & (self.reg_addr.val() == 0);
        self.words.wdata.next = self.reg_wdata.val();
        self.words.clear.next = self.reg_we.val() & (self.reg_addr.val() == 1) & self.reg_wdata.val().get_bit(1);
        self.words.start.next = self.token.go.val();
        self.words.run.next = self.token.busy.val();
        self.words.hold.next = self.hold.val();
        self.u_adv.next = self.token.busy.val() & !self.k_valid.q.val() & self.unpack.src_ok.val() & !self.hold.val();
        self.words.consume.next = self.u_adv.val() & self.unpack.take.val();
        self.unpack.w0.next = self.w0.q.val();
        self.unpack.pq.next = self.pq.q.val();
        self.unpack.head.next = self.words.head.val();
        self.unpack.head_ok.next = self.words.head_ok.val();
        self.unpack.ent.next = self.ent.q.val();
        self.t_stay.w0.next = self.w0.q.val();
        self.t_stay.head.next = self.words.head_stay.val();
        self.t_take.w0.next = self.words.head.val().get_bits::<60>(4);
        self.t_take.head.next = self.words.head_take.val();
        self.p_stay.tab.next = self.t_stay.tab.val();
        self.p_stay.pq.next = self.unpack.next_pq.val();
        self.p_take.tab.next = self.t_take.tab.val();
        self.p_take.pq.next = self.unpack.next_pq.val();
        self.p_hold.tab.next = self.t_stay.tab.val();
        self.p_hold.pq.next = self.pq.q.val();
        self.ent.d.next = self.p_hold.ent.val();
        if self.u_adv.val() {
            self.pq.d.next = self.unpack.next_pq.val();
            self.ent.d.next = self.p_stay.ent.val();
            if self.unpack.take.val() {
                self.w0.d.next = self.words.head.val().get_bits::<60>(4);
                self.ent.d.next = self.p_take.ent.val();
            }
        }
        // The decode queue: the token register takes the head, the unpacker's instruction is
        // written behind it (a `NOP` is written too, timing: the write does not wait for the
        // shifter's opcode; the token register takes it and issues nothing). With both entries
        // full the unpacker waits; one instruction per cycle goes through while the token
        // register takes one per cycle.
        self.d_pop.next = self.token.step.val() & !self.hold.val();
        self.d_push.next = self.u_adv.val();
        self.dec_new.next = bit_cast::<DEC_BITS, 64>(self.unpack.payload.val())
            | (bit_cast::<DEC_BITS, 5>(self.unpack.op.val()) << 64)
            | (bit_cast::<DEC_BITS, 8>(self.unpack.len.val()) << 69)
            | (bit_cast::<DEC_BITS, 8>(self.unpack.src_dist.val()) << 77)
            | (bit_cast::<DEC_BITS, 3>(self.unpack.src_slot.val()) << 85);
        if self.unpack.len.val().any() {
            self.dec_new.next = self.dec_new.val() | self.dec_legal.val();
        }
        if self.unpack.src_count0.val() {
            self.dec_new.next = self.dec_new.val() | self.dec_count0.val();
        }
        self.d_dec.next = self.q_a.q.val();
        if self.q_rp.q.val() {
            self.d_dec.next = self.q_b.q.val();
        }
        if self.d_pop.val() & self.d_valid.q.val() {
            self.q_rp.d.next = !self.q_rp.q.val();
            self.d_valid.d.next = self.k_valid.q.val();
            self.k_valid.d.next = false;
        }
        if self.d_push.val() {
            self.q_wp.d.next = !self.q_wp.q.val();
            if self.q_wp.q.val() {
                self.q_b.d.next = self.dec_new.val();
            } else {
                self.q_a.d.next = self.dec_new.val();
            }
            if self.d_valid.q.val() & !self.d_pop.val() {
                self.k_valid.d.next = true;
            } else {
                self.d_valid.d.next = true;
            }
        }
        if self.token.go.val() {
            self.w0.d.next = bits::<60>(0);
            self.pq.d.next = bits::<4>(15);
            // Position 64's entry never fits without the head: `src_ok` waits for the head,
            // and the entry is formed again each cycle until then.
            self.ent.d.next = bits::<ENTRY>(0x10);
            self.d_valid.d.next = false;
            self.k_valid.d.next = false;
            self.q_wp.d.next = false;
            self.q_rp.d.next = false;
        }
        self.token.hold.next = self.hold.val();
        self.token.ctrl_we.next = self.reg_we.val() & (self.reg_addr.val() == 1);
        self.token.ctrl.next = self.reg_wdata.val().get_bits::<2>(0);
        self.token.src_ok.next = self.d_valid.q.val();
        self.token.op.next = self.d_dec.val().get_bits::<5>(64);
        // (A shifted constant, not 2^len − 1: no 64-bit carry chain.)
        self.d_len.next = self.d_dec.val().get_bits::<8>(69);
        if self.d_len.val().get_bit(6) | self.d_len.val().get_bit(7) {
            self.d_mask.next = !bits::<64>(0);
        } else {
            self.d_mask.next = !(!bits::<64>(0) << self.d_len.val().get_bits::<6>(0));
        }
        self.token.payload.next = self.d_dec.val().get_bits::<64>(0) & self.d_mask.val();
        self.token.legal.next = self.d_dec.val().get_bit(88);
        self.token.src_dist.next = self.d_dec.val().get_bits::<8>(77);
        self.token.src_count0.next = self.d_dec.val().get_bit(89);
        // Out of words: nothing to decode, nothing decoded, no word coming.
        self.token.drained.next = self.words.drained.val() & !self.unpack.src_ok.val();
        self.token.fill.next = self.hist.fill.val();
        self.token.ma_bad.next = self.madd.bad.val();
        // ---- Expansion: a REPEAT's copy from the history, a MEM_ADD from the slot registers.
        self.hist.start.next = self.token.go.val();
        self.hist.hold.next = self.hold.val();
        self.hist.issue.next = self.token.issue.val();
        self.hist.d1.next = self.token.tk_d1.val();
        self.hist.d2.next = self.token.tk_d2.val();
        self.hist.d3.next = self.token.tk_d3.val();
        self.hist.f_tk.next = bit_cast::<16, 8>(self.token.tk_payload.val().get_value_repeat_dist());
        self.hist.f_new.next = bit_cast::<16, 8>(self.d_dec.val().get_bits::<8>(77));
        self.hist.rep_wait.next = self.token.rep_wait.val();
        self.hist.prime.next = self.token.prime.val();
        self.hist.tk_valid.next = self.token.tk_valid.val();
        self.copy.cc.next = self.hist.cc.val();
        self.copy.pp.next = self.hist.pp.val();
        self.copy.cont_ok.next = self.token.tk_cont.val();
        self.madd.slot_in.next = self.token.tk_payload.val().get_value_add_slot();
        self.madd.delta.next = self.token.tk_payload.val().get_value_add_delta();
        self.madd.found_addr.next = self.slots.found_addr.val();
        self.madd.found_words.next = self.slots.found_words.val();
        self.madd.pend_valid.next = self.slots.pend_valid.val();
        self.madd.pend_slot.next = self.slots.pend_slot.val();
        self.madd.pend_addr.next = self.slots.pend_addr.val();
        self.madd.pend_words.next = self.slots.pend_words.val();
        self.slots.start.next = self.token.go.val();
        self.slots.hold.next = self.hold.val();
        self.slots.look_slot.next = self.d_dec.val().get_bits::<3>(85);
        // A passed-through transfer's slot fields (loads 0..3 by target, stores 4 + source).
        if self.token.tk_op.val() == self.op_mem_load.val() {
            self.p_slot.next = bit_cast::<8, 2>(self.token.tk_payload.val().get_value_load_target());
            self.p_addr.next = self.token.tk_payload.val().get_value_load_addr();
            self.p_words.next = self.token.tk_payload.val().get_value_load_words();
        } else {
            self.p_slot.next = bit_cast::<8, 1>(self.token.tk_payload.val().get_value_store_source()) | bits::<8>(4);
            self.p_addr.next = self.token.tk_payload.val().get_value_store_addr();
            self.p_words.next = self.token.tk_payload.val().get_value_store_words();
        }
        // The issued instruction and its slot fields: formed per class, then selected by the
        // token's registered class flags (what is not issued does not matter).
        if self.token.tk_ma.val() {
            self.x.next = self.madd.x.val();
            self.x_tr.next = true;
            self.xs_slot.next = self.madd.slot.val();
            self.xs_addr.next = self.madd.addr.val();
            self.xs_words.next = self.madd.words.val();
        } else if self.token.tk_rep.val() {
            self.x.next = self.copy.x.val();
            self.x_tr.next = self.copy.is_tr.val();
            self.xs_slot.next = self.copy.slot.val();
            self.xs_addr.next = self.copy.addr.val();
            self.xs_words.next = self.copy.words.val();
        } else {
            self.x.next = self.token.tk_payload.val();
            self.x_tr.next = self.token.tk_tr.val();
            self.xs_slot.next = self.p_slot.val();
            self.xs_addr.next = self.p_addr.val();
            self.xs_words.next = self.p_words.val();
        }
        self.x_op.next = self.x.val().get_value_opcode();
        self.hist.x.next = self.x.val();
        self.slots.put.next = self.token.issue.val() & self.x_tr.val();
        self.slots.put_slot.next = self.xs_slot.val();
        self.slots.put_addr.next = self.xs_addr.val();
        self.slots.put_words.next = self.xs_words.val();
        // ---- Output register: error-free issues only; held under back-pressure.
        self.o_valid.d.next = false;
        if self.token.issue.val() {
            self.o_valid.d.next = !self.token.x_err.val();
            self.o_op.d.next = self.x_op.val();
            self.o_payload.d.next = self.x.val();
            self.o_module.d.next = self.mods.val().get_bits::<6>((bit_cast::<8, 5>(self.x_op.val()) << 3).index());
        }
        if self.hold.val() {
            self.o_valid.d.next = self.o_valid.q.val();
            self.o_module.d.next = self.o_module.q.val();
            self.o_op.d.next = self.o_op.q.val();
            self.o_payload.d.next = self.o_payload.q.val();
        }
    }
}

crate::clocked!(InstrDecompressor);

crate::top_io!(
    InstrDecompressor,
    inputs: [reg_we, reg_addr, reg_wdata, hold],
    outputs: [count, st_busy, st_error, st_overflow, wr_valid, wr_module, wr_op, wr_payload],
);
