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
//!   fewer than 5 bits left means "next word". The buffer's read data lands in one register
//!   (`rd`, timing: the buffer may be many block RAMs across the part, each with a long
//!   clock-to-output), and words queue behind it in four registers, fetched while the queue and
//!   the fetches in flight (read, landing) hold at most three; the decoder takes the head in the
//!   same cycle the current word runs out, so it emits one instruction per cycle (after two more
//!   cycles at start than a bypass would take). Whether the current word is
//!   used up is a register (`empty`), computed with the word from both candidate sources
//!   (current word, queue head) before the select; the opcode's length is looked up for both
//!   too. Lengths and modules come from the opcode table (`accelgen_isa::TABLE`) as constants. An
//!   illegal opcode, an instruction running past its word, or running out of words before `END`
//!   sets `error` and stops; `END` stops cleanly. Every path ends within count + 2 cycles per word.
//! - **Expansion** (a second stage after the token register `tk`, whose class flags are decoded
//!   with it): `MEM_ADD` becomes its full transfer from the slot registers (address and word
//!   count of each slot's last issued transfer, selected by slot in the decode cycle; an issued
//!   transfer enters them a cycle later, and a `MEM_ADD` right behind it takes it from the
//!   pending register); `REPEAT dist, count` issues count+1 copies of the instruction dist+1
//!   back, a transfer's address continued by its step from the one 2(dist+1) back. The last 512
//!   issued instructions are kept in two history RAMs (one read port each: the copy and the one
//!   a period earlier) whose read data is registered (`cc_r`, `pp_r`) before the address
//!   arithmetic: a copy's reads are issued two cycles before it is issued. An issued
//!   instruction is written into the history a cycle later, from `last` (timing: the RAMs' write
//!   data comes from a register), so distances 1, 2 and 3 are bypassed from the last three issued
//!   instructions (`last`, `last2`, `last3`; the read of a word written in the same cycle is
//!   never used, and the RAMs leave it undefined), and a `REPEAT` at distance 1 costs no cycle
//!   of its own; a `REPEAT` at distance 2 or more waits one priming cycle in
//!   `tk` (its first reads are issued when it is decoded). A `REPEAT` reaching before the first
//!   instruction, or a `MEM_ADD` with an unknown slot, sets `error` and stops. For timing, the
//!   unpacker's advance and the internal state ignore these checks (an error stops everything and
//!   a start resets what it touched); only the output register is qualified by them.
//! - **Output**: `wr_valid`, `wr_module` (one-hot: mem, pe, acc, act, pool, ctrl), `wr_op`,
//!   `wr_payload` (the instruction's bits, opcode included): the write into the matching module's
//!   register, exposed as ports (`accel_top`'s dispatcher takes them). `st_busy` covers the
//!   whole pipeline.
//!
//! The word width is 64 bits (`isa.word_bits = 64`).

use crate::mem::SyncRam;
use crate::isa::InstrFields;
use accelgen_isa::{Module, MEM_ADD, REPEAT, TABLE};
use rust_hdl::prelude::*;

/// Word width of this decompressor.
pub const WORD_BITS: usize = 64;
/// Entries of the history RAMs: two `REPEAT` periods of the longest distance.
pub const HISTORY_DEPTH: usize = 2 * accelgen_isa::compress::MAX_DIST;

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
    /// Instruction buffer.
    ibuf: SyncRam<Bits<64>>,
    /// Buffer capacity.
    depth: Constant<Bits<32>>,
    /// Ones in the low 32 bits: one slot's field in the slot registers (a constant: `!` on a
    /// widened value would invert the widening bits in Verilog).
    slot_mask: Constant<Bits<256>>,
    /// Length (8 bits) of each of the 32 opcodes, 0 = illegal.
    lens: Constant<Bits<256>>,
    /// One-hot module (8 bits) of each opcode.
    mods: Constant<Bits<256>>,
    /// Opcodes the expander compares with, from the opcode table.
    op_mem_load: Constant<Bits<5>>,
    op_mem_store: Constant<Bits<5>>,
    op_mem_add: Constant<Bits<5>>,
    op_repeat: Constant<Bits<5>>,
    op_end: Constant<Bits<5>>,
    /// Write pointer and status flags.
    wptr: DFF<Bits<16>>,
    overflow: DFF<Bit>,
    error: DFF<Bit>,
    busy: DFF<Bit>,
    /// Read pointer of the next word to fetch.
    rptr: DFF<Bits<16>>,
    /// A fetch was issued last cycle (its data is on the buffer's read port now).
    fetching: DFF<Bit>,
    /// Landing register of the buffer's read data and its validity (timing: the buffer is up to
    /// 64 block RAMs spread over the part, each with a long clock-to-output; their data goes
    /// into one register placed next to them, and only that register fans out to the queue).
    rd: DFF<Bits<64>>,
    rd_v: DFF<Bit>,
    /// Current word (already shifted past decoded instructions) and bits left in it.
    cur: DFF<Bits<64>>,
    left: DFF<Bits<8>>,
    cur_valid: DFF<Bit>,
    /// The current word has no instruction left (NOP, fewer than 5 bits, or none): registered
    /// with `cur` (timing: the word select does not wait for a compare).
    empty: DFF<Bit>,
    /// Prefetched words, a queue of four filled from the landing register (four entries cover
    /// the two cycles a fetch is in flight and keep one word per cycle flowing).
    q0: DFF<Bits<64>>,
    q1: DFF<Bits<64>>,
    q2: DFF<Bits<64>>,
    q3: DFF<Bits<64>>,
    v0: DFF<Bit>,
    v1: DFF<Bit>,
    v2: DFF<Bit>,
    v3: DFF<Bit>,
    /// Token register between unpacking and expansion.
    tk_valid: DFF<Bit>,
    tk_op: DFF<Bits<5>>,
    /// The token's class, decoded with it (timing): REPEAT, MEM_ADD, a full transfer
    /// (MEM_LOAD/MEM_STORE), a REPEAT at distance 1, 2, 3.
    tk_rep: DFF<Bit>,
    tk_ma: DFF<Bit>,
    tk_tr: DFF<Bit>,
    tk_d1: DFF<Bit>,
    tk_d2: DFF<Bit>,
    tk_d3: DFF<Bit>,
    /// For a REPEAT in `tk`: the instruction a period before its copy exists (fill > 2(f+1) − 1),
    /// registered (timing: the address continuation's select does not wait for a compare of
    /// the fill counter). Formed for both candidate tokens and for the fill after this cycle's
    /// issue (`cf_*`).
    tk_cf: DFF<Bit>,
    cf_tk_gt: Signal<Local, Bit>,
    cf_tk_ge: Signal<Local, Bit>,
    cf_cur: Signal<Local, Bit>,
    cf_q0: Signal<Local, Bit>,
    /// The issued instruction is a transfer (for the slot registers), per expansion case.
    x_tr: Signal<Local, Bit>,
    /// The slot fields of a copied transfer (address continued or copied).
    r_slot: Signal<Local, Bits<8>>,
    r_addr: Signal<Local, Bits<26>>,
    r_words: Signal<Local, Bits<20>>,
    /// The slot fields of a passed-through transfer.
    p_slot: Signal<Local, Bits<8>>,
    p_addr: Signal<Local, Bits<26>>,
    p_words: Signal<Local, Bits<20>>,
    tk_payload: DFF<Bits<64>>,
    /// Output registers.
    o_valid: DFF<Bit>,
    o_module: DFF<Bits<6>>,
    o_op: DFF<Bits<5>>,
    o_payload: DFF<Bits<64>>,
    /// History of issued instructions (two copies: one read port each; the second keeps the 33 low
    /// bits, enough for a transfer's opcode, target and address) and its write pointer.
    hist_c: SyncRam<Bits<64>>,
    hist_p: SyncRam<Bits<33>>,
    hptr: DFF<Bits<16>>,
    /// `hptr` + 1, − 1 and − 2 (low 9 bits; timing: each read address is one subtraction).
    hp1: DFF<Bits<16>>,
    hm1: DFF<Bits<16>>,
    hm2: DFF<Bits<16>>,
    /// The distance field (distance − 1) of the REPEAT in `tk`.
    f_tk: Signal<Local, Bits<16>>,
    /// Instructions issued since start, saturating at 1023.
    fill: DFF<Bits<10>>,
    /// The last three issued instructions (distance-1, -2 and -3 bypasses).
    last: DFF<Bits<64>>,
    last2: DFF<Bits<64>>,
    last3: DFF<Bits<64>>,
    /// The history write, a cycle after the issue (timing: the RAMs' write data is `last`, a
    /// register, not the expansion's result): enable and address.
    hw_en: DFF<Bit>,
    hw_addr: DFF<Bits<16>>,
    /// The history reads, registered (timing: no RAM read feeds the address arithmetic).
    cc_r: DFF<Bits<64>>,
    pp_r: DFF<Bits<33>>,
    /// The `REPEAT` in `tk` (distance 2 or more) has had its priming cycle.
    primed: DFF<Bit>,
    /// The `REPEAT` in `tk` waits this cycle for its first copy's registered history reads.
    prime: Signal<Local, Bit>,
    /// The `REPEAT` in `tk` has distance 1, 2 or 3 (bypassed from `last`, `last2`, `last3`).
    rd1: Signal<Local, Bit>,
    rd2e: Signal<Local, Bit>,
    rd3: Signal<Local, Bit>,
    /// History read address candidates (timing: computed from registers in parallel, then
    /// selected): the REPEAT in `tk` after one or two more issued instructions, or a REPEAT the
    /// unpacker decodes after zero or one.
    ra_rep1: Signal<Local, Bits<16>>,
    ra_rep2: Signal<Local, Bits<16>>,
    ra_new0: Signal<Local, Bits<16>>,
    ra_new1: Signal<Local, Bits<16>>,
    /// The distance field (distance − 1) of a REPEAT at the head of the current word and of the
    /// queue head, and the candidates from each (the word is chosen after the adders).
    f_cur: Signal<Local, Bits<16>>,
    f_q0: Signal<Local, Bits<16>>,
    ra_c0: Signal<Local, Bits<16>>,
    ra_c1: Signal<Local, Bits<16>>,
    ra_q0: Signal<Local, Bits<16>>,
    ra_q1: Signal<Local, Bits<16>>,
    rp_c0: Signal<Local, Bits<16>>,
    rp_c1: Signal<Local, Bits<16>>,
    rp_q0: Signal<Local, Bits<16>>,
    rp_q1: Signal<Local, Bits<16>>,
    rp_rep1: Signal<Local, Bits<16>>,
    rp_rep2: Signal<Local, Bits<16>>,
    rp_new0: Signal<Local, Bits<16>>,
    rp_new1: Signal<Local, Bits<16>>,
    /// Copies still to issue of the `REPEAT` in `tk`, this cycle's included (0: not started).
    rep_rem: DFF<Bits<13>>,
    /// Per slot (32 bits each, 8 slots so that any 3-bit slot field indexes inside), the address and word count of the last issued transfer.
    s_addr: DFF<Bits<256>>,
    s_words: DFF<Bits<256>>,
    /// A transfer issued last cycle, not yet in the slot registers (timing: the update follows
    /// the issue by a cycle; a `MEM_ADD` of the same slot takes it from here).
    sp_valid: DFF<Bit>,
    sp_slot: DFF<Bits<8>>,
    sp_addr: DFF<Bits<26>>,
    sp_words: DFF<Bits<20>>,
    /// The slot fields a `MEM_ADD` decoded last cycle finds in the slot registers now (timing:
    /// the field select by slot happens in the decode cycle; the pending transfer is still
    /// checked in the expansion cycle).
    mb_addr: DFF<Bits<26>>,
    mb_words: DFF<Bits<20>>,
    /// The slot field of the instruction the unpacker decodes and its offset.
    src_slot: Signal<Local, Bits<3>>,
    src_off: Signal<Local, Bits<8>>,
    /// The pending update's field mask and values in slot position.
    sp_mask256: Signal<Local, Bits<256>>,
    sp_addr256: Signal<Local, Bits<256>>,
    sp_words256: Signal<Local, Bits<256>>,
    /// A `MEM_ADD`'s slot is the pending one.
    ma_pend: Signal<Local, Bit>,
    /// Unpacking may load `tk` this cycle.
    adv: Signal<Local, Bit>,
    /// Expansion: `tk` is a REPEAT; its count; copies left this cycle.
    is_rep: Signal<Local, Bit>,
    rcount: Signal<Local, Bits<13>>,
    rem_now: Signal<Local, Bits<13>>,
    /// The REPEAT in `tk` issues its last copy (if it issues).
    last_copy: Signal<Local, Bit>,
    /// The REPEAT in `tk` issues its last copy next (registered: the unpacker's advance, which
    /// waits for it, does not wait for compares of the copy counter): set from the count field
    /// as the token enters `tk` (formed for both candidate words), and updated with each copy.
    tk_lc: DFF<Bit>,
    /// Copy source, the one a period earlier, and whether that one exists and matches.
    cc: Signal<Local, Bits<64>>,
    pp: Signal<Local, Bits<33>>,
    cont: Signal<Local, Bit>,
    /// Continued addresses in the load and the store layout.
    ca_ld: Signal<Local, Bits<26>>,
    pa_ld: Signal<Local, Bits<26>>,
    na_ld: Signal<Local, Bits<26>>,
    ca_st: Signal<Local, Bits<26>>,
    pa_st: Signal<Local, Bits<26>>,
    na_st: Signal<Local, Bits<26>>,
    na_ld64: Signal<Local, Bits<64>>,
    na_st64: Signal<Local, Bits<64>>,
    /// MEM_ADD: slot, delta, the sums with the slot registers and with the pending transfer, the address, words.
    ma_slot: Signal<Local, Bits<3>>,
    ma_delta: Signal<Local, Bits<18>>,
    ma_delta26: Signal<Local, Bits<26>>,
    ma_base: Signal<Local, Bits<26>>,
    ma_sum_p: Signal<Local, Bits<26>>,
    ma_addr: Signal<Local, Bits<26>>,
    ma_words: Signal<Local, Bits<20>>,
    ma_lo2: Signal<Local, Bits<2>>,
    ma_addr64: Signal<Local, Bits<64>>,
    ma_words64: Signal<Local, Bits<64>>,
    ma_tgt64: Signal<Local, Bits<64>>,
    /// The instruction issued this cycle, whether there is one, and whether tk is consumed.
    x: Signal<Local, Bits<64>>,
    /// The instruction a REPEAT copy issues, and a MEM_ADD's transfer (timing: each formed on its
    /// own, then one select by the token's registered class flags).
    x_rep: Signal<Local, Bits<64>>,
    x_ma: Signal<Local, Bits<64>>,
    x_op: Signal<Local, Bits<5>>,
    issue: Signal<Local, Bit>,
    consumed: Signal<Local, Bit>,
    x_err: Signal<Local, Bit>,
    /// The issued transfer's slot fields (for the slot registers).
    xs_slot: Signal<Local, Bits<8>>,
    xs_addr: Signal<Local, Bits<26>>,
    xs_words: Signal<Local, Bits<20>>,

    /// The current word has no instruction left (NOP or fewer than 5 bits).
    cur_empty: Signal<Local, Bit>,
    /// The word decoded from this cycle and whether there is one.
    src: Signal<Local, Bits<64>>,
    src_ok: Signal<Local, Bit>,
    /// Decoded opcode and its length (looked up for the current word and the queue head in
    /// parallel, then selected).
    op: Signal<Local, Bits<5>>,
    len: Signal<Local, Bits<8>>,
    len_cur: Signal<Local, Bits<8>>,
    len_q0: Signal<Local, Bits<8>>,
    /// The word and bits left after the decoded instruction.
    nxt_cur: Signal<Local, Bits<64>>,
    nxt_left: Signal<Local, Bits<8>>,
    /// Bits left after the instruction with a borrow bit (set: it runs past its word), from
    /// the current word and from the queue head (timing: formed before the word select).
    nl9: Signal<Local, Bits<9>>,
    nl9_cur: Signal<Local, Bits<9>>,
    nl9_q0: Signal<Local, Bits<9>>,
    /// The instruction runs past its word; fewer than 5 bits are left after it.
    overrun: Signal<Local, Bit>,
    short_cur: Signal<Local, Bit>,
    short_q0: Signal<Local, Bit>,
    /// The current word / the queue head is used up after its first instruction.
    e_cur: Signal<Local, Bit>,
    e_q0: Signal<Local, Bit>,
    /// Each source word shifted past its first instruction (only the next opcode is used).
    sh_cur: Signal<Local, Bits<64>>,
    sh_q0: Signal<Local, Bits<64>>,
    /// Mask of the instruction's bits.
    mask: Signal<Local, Bits<64>>,
    /// The word after the current one (prefetched or arriving) and whether there is one.
    next_word: Signal<Local, Bits<64>>,
    next_ok: Signal<Local, Bit>,
    /// The next word is taken into decoding this cycle.
    consume: Signal<Local, Bit>,
    /// The prefetch slot's validity after this cycle.
    /// Queue entries and fetches in flight (read, landing): at most three, so a new fetch fits
    /// when it lands.
    room: Signal<Local, Bit>,
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
        assert!((1..=1 << 16).contains(&depth), "instruction buffer depth {depth}: allowed 1..=65536");
        let (lens, mods) = table_constants();
        block_with_defaults!(InstrDecompressor {
            ibuf: SyncRam::collision_free(depth),
            depth: Constant::new((depth as u64).into()),
            slot_mask: Constant::new(bit_cast::<256, 32>(!bits::<32>(0))),
            lens: Constant::new(lens),
            mods: Constant::new(mods),
            op_mem_load: Constant::new(u64::from(accelgen_isa::opcode("MEM_LOAD")).into()),
            op_mem_store: Constant::new(u64::from(accelgen_isa::opcode("MEM_STORE")).into()),
            op_mem_add: Constant::new(u64::from(MEM_ADD).into()),
            op_repeat: Constant::new(u64::from(REPEAT).into()),
            op_end: Constant::new(u64::from(accelgen_isa::END).into()),
            hist_c: SyncRam::collision_free(HISTORY_DEPTH),
            hist_p: SyncRam::collision_free(HISTORY_DEPTH),
        } defaults {
            clock, reg_we, reg_addr, reg_wdata, hold, count, st_busy, st_error, st_overflow,
            wr_valid, wr_module, wr_op, wr_payload, wptr, overflow, error, busy, rptr, fetching, rd,
            rd_v, cur, left, cur_valid, empty, q0, q1, q2, q3, v0, v1, v2, v3, tk_valid, tk_op,
            tk_rep, tk_ma, tk_tr, tk_d1, tk_d2, tk_d3, tk_cf, cf_tk_gt, cf_tk_ge, cf_cur, cf_q0,
            x_tr, r_slot, r_addr, r_words, p_slot, p_addr, p_words, tk_payload, o_valid, o_module,
            o_op, o_payload, hptr, hp1, hm1, hm2, f_tk, fill, last, last2, last3, hw_en, hw_addr,
            cc_r, pp_r, primed, prime, rd1, rd2e, rd3, ra_rep1, ra_rep2, ra_new0, ra_new1, f_cur,
            f_q0, ra_c0, ra_c1, ra_q0, ra_q1, rp_c0, rp_c1, rp_q0, rp_q1, rp_rep1, rp_rep2, rp_new0,
            rp_new1, rep_rem, s_addr, s_words, sp_valid, sp_slot, sp_addr, sp_words, mb_addr,
            mb_words, src_slot, src_off, sp_mask256, sp_addr256, sp_words256, ma_pend, adv, is_rep,
            rcount, rem_now, last_copy, tk_lc, cc, pp, cont, ca_ld, pa_ld, na_ld, ca_st, pa_st,
            na_st, na_ld64, na_st64, ma_slot, ma_delta, ma_delta26, ma_base, ma_sum_p, ma_addr,
            ma_words, ma_lo2, ma_addr64, ma_words64, ma_tgt64, x, x_rep, x_ma, x_op, issue,
            consumed, x_err, xs_slot, xs_addr, xs_words, cur_empty, src, src_ok, op, len, len_cur,
            len_q0, nxt_cur, nxt_left, nl9, nl9_cur, nl9_q0, overrun, short_cur, short_q0, e_cur,
            e_q0, sh_cur, sh_q0, mask, next_word, next_ok, consume, room,
        })
    }
}

// The expansion stage compares opcodes with literals (hdl_gen translates no paths to constants).
const _: () = assert!(MEM_ADD == 12 && REPEAT == 13 && HISTORY_DEPTH == 512);
// The configuration accepts only the word this decompressor reads.
const _: () = assert!(accelgen_config::limits::WORD_BITS.0 == WORD_BITS as u32 && accelgen_config::limits::WORD_BITS.1 == WORD_BITS as u32);

// Where the expander reads a field wider than the table's (a slot, a distance or a count widened
// for arithmetic) or writes one by shifting (a MEM_ADD's transfer, a REPEAT's continued address),
// it uses these positions; the build stops if the table moves them.
const _: () = {
    use accelgen_isa::{field, FieldPos};
    const fn at(f: FieldPos, offset: u32, bits: u32) -> bool {
        f.offset == offset && f.bits == bits
    }
    assert!(at(field("MEM_LOAD", "target"), 5, 2) && at(field("MEM_LOAD", "addr"), 7, 26) && at(field("MEM_LOAD", "words"), 33, 20));
    assert!(at(field("MEM_STORE", "source"), 5, 1) && at(field("MEM_STORE", "addr"), 6, 26) && at(field("MEM_STORE", "words"), 32, 20));
    assert!(at(field("REPEAT", "dist"), 5, 8) && at(field("REPEAT", "count"), 13, 12));
    assert!(at(field("MEM_ADD", "slot"), 5, 3) && at(field("MEM_ADD", "delta"), 8, 18));
};

impl Logic for InstrDecompressor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, wptr, overflow, error, busy, rptr, fetching, rd, rd_v, cur, left, cur_valid, empty, q0,
            q1, q2, q3, v0, v1, v2, v3, tk_valid, tk_op, tk_rep, tk_ma, tk_tr, tk_d1, tk_d2, tk_d3, tk_cf, tk_lc, tk_payload, o_valid, o_module, o_op, o_payload, hptr, hp1, hm1, hm2, fill,
            last, last2, last3, hw_en, hw_addr, cc_r, pp_r, primed, rep_rem, s_addr, s_words, sp_valid, sp_slot, sp_addr, sp_words, mb_addr, mb_words
        );
        self.ibuf.clock.next = self.clock.val();
        self.hist_c.clock.next = self.clock.val();
        self.hist_p.clock.next = self.clock.val();
        self.count.next = self.wptr.q.val();
        self.st_busy.next = self.busy.q.val() | self.tk_valid.q.val();
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

        // ---- Expansion stage: the token in `tk` becomes this cycle's register write.
        self.is_rep.next = self.tk_valid.q.val() & self.tk_rep.q.val();
        self.f_tk.next = self.tk_payload.q.val().get_bits::<16>(5) & bits::<16>(255);
        self.rcount.next = (self.tk_payload.q.val().get_bits::<13>(13) & bits::<13>(4095)) + 1;
        if self.rep_rem.q.val() == 0 {
            self.rem_now.next = self.rcount.val();
        } else {
            self.rem_now.next = self.rep_rem.q.val();
        }
        self.cc_r.d.next = self.hist_c.r_data.val();
        self.pp_r.d.next = self.hist_p.r_data.val();
        self.rd1.next = self.tk_d1.q.val();
        self.rd2e.next = self.tk_d2.q.val();
        self.rd3.next = self.tk_d3.q.val();
        if self.rd1.val() {
            self.cc.next = self.last.q.val();
            self.pp.next = self.last2.q.val().get_bits::<33>(0);
        } else if self.rd2e.val() {
            self.cc.next = self.last2.q.val();
            self.pp.next = self.pp_r.q.val();
        } else if self.rd3.val() {
            self.cc.next = self.last3.q.val();
            self.pp.next = self.pp_r.q.val();
        } else {
            self.cc.next = self.cc_r.q.val();
            self.pp.next = self.pp_r.q.val();
        }
        // A REPEAT at distance 2 or more waits one cycle in `tk`: its first copy's reads were
        // issued when it was decoded and land in `cc_r`/`pp_r` a cycle after it arrives.
        self.prime.next = self.is_rep.val() & !self.rd1.val() & !self.primed.q.val();
        self.ca_ld.next = self.cc.val().get_value_load_addr();
        self.pa_ld.next = self.pp.val().get_value_load_addr();
        self.na_ld.next = (self.ca_ld.val() << 1) - self.pa_ld.val();
        self.ca_st.next = self.cc.val().get_value_store_addr();
        self.pa_st.next = self.pp.val().get_value_store_addr();
        self.na_st.next = (self.ca_st.val() << 1) - self.pa_st.val();
        self.na_ld64.next = bit_cast::<64, 26>(self.na_ld.val()) << 7;
        self.na_st64.next = bit_cast::<64, 26>(self.na_st.val()) << 6;
        self.cont.next = self.tk_cf.q.val()
            & (self.cc.val().get_value_opcode() == self.pp.val().get_value_opcode())
            & (((self.cc.val().get_value_opcode() == self.op_mem_load.val()) & (self.cc.val().get_value_load_target() == self.pp.val().get_value_load_target()))
                | ((self.cc.val().get_value_opcode() == self.op_mem_store.val()) & (self.cc.val().get_value_store_source() == self.pp.val().get_value_store_source())));
        self.ma_slot.next = self.tk_payload.q.val().get_value_add_slot();
        self.ma_delta.next = self.tk_payload.q.val().get_value_add_delta();
        if self.ma_delta.val().get_bit(17) {
            self.ma_delta26.next = bit_cast::<26, 18>(self.ma_delta.val()) - bits::<26>(262_144);
        } else {
            self.ma_delta26.next = bit_cast::<26, 18>(self.ma_delta.val());
        }
        self.ma_pend.next = self.sp_valid.q.val() & (self.sp_slot.q.val() == bit_cast::<8, 3>(self.ma_slot.val()));
        // Both sums are formed, then the slot compare picks one (timing).
        self.ma_base.next = self.mb_addr.q.val() + self.ma_delta26.val();
        self.ma_sum_p.next = self.sp_addr.q.val() + self.ma_delta26.val();
        if self.ma_pend.val() {
            self.ma_addr.next = self.ma_sum_p.val();
            self.ma_words.next = self.sp_words.q.val();
        } else {
            self.ma_addr.next = self.ma_base.val();
            self.ma_words.next = self.mb_words.q.val();
        }
        self.ma_lo2.next = self.ma_slot.val().get_bits::<2>(0);
        self.ma_addr64.next = bit_cast::<64, 26>(self.ma_addr.val());
        self.ma_words64.next = bit_cast::<64, 20>(self.ma_words.val());
        self.ma_tgt64.next = bit_cast::<64, 2>(self.ma_lo2.val()) << 5;
        // The slot fields of the issued transfer, formed per case next to the instruction
        // itself (timing: not decoded again from the selected instruction).
        if self.tk_op.q.val() == self.op_mem_load.val() {
            self.p_slot.next = self.tk_payload.q.val().get_bits::<8>(5) & bits::<8>(3);
            self.p_addr.next = self.tk_payload.q.val().get_value_load_addr();
            self.p_words.next = self.tk_payload.q.val().get_value_load_words();
        } else {
            self.p_slot.next = (self.tk_payload.q.val().get_bits::<8>(5) & bits::<8>(1)) | bits::<8>(4);
            self.p_addr.next = self.tk_payload.q.val().get_value_store_addr();
            self.p_words.next = self.tk_payload.q.val().get_value_store_words();
        }
        if self.cc.val().get_value_opcode() == self.op_mem_load.val() {
            self.r_slot.next = self.cc.val().get_bits::<8>(5) & bits::<8>(3);
            self.r_words.next = self.cc.val().get_value_load_words();
            if self.cont.val() {
                self.r_addr.next = self.na_ld.val();
            } else {
                self.r_addr.next = self.ca_ld.val();
            }
        } else {
            self.r_slot.next = (self.cc.val().get_bits::<8>(5) & bits::<8>(1)) | bits::<8>(4);
            self.r_words.next = self.cc.val().get_value_store_words();
            if self.cont.val() {
                self.r_addr.next = self.na_st.val();
            } else {
                self.r_addr.next = self.ca_st.val();
            }
        }
        // The issued instruction and its slot fields: formed per class, then selected by the
        // token's registered class flags (what is not issued does not matter).
        if self.cont.val() & (self.cc.val().get_value_opcode() == self.op_mem_load.val()) {
            self.x_rep.next = (self.cc.val() & !(bits::<64>(0x3ff_ffff) << 7)) | self.na_ld64.val();
        } else if self.cont.val() {
            self.x_rep.next = (self.cc.val() & !(bits::<64>(0x3ff_ffff) << 6)) | self.na_st64.val();
        } else {
            self.x_rep.next = self.cc.val();
        }
        if !self.ma_slot.val().get_bit(2) {
            self.x_ma.next = bits::<64>(1) | self.ma_tgt64.val() | (self.ma_addr64.val() << 7) | (self.ma_words64.val() << 33);
        } else {
            self.x_ma.next = bits::<64>(2) | self.ma_tgt64.val() | (self.ma_addr64.val() << 6) | (self.ma_words64.val() << 32);
        }
        if self.tk_ma.q.val() {
            self.x.next = self.x_ma.val();
            self.x_tr.next = true;
            self.xs_slot.next = bit_cast::<8, 3>(self.ma_slot.val());
            self.xs_addr.next = self.ma_addr.val();
            self.xs_words.next = self.ma_words.val();
        } else if self.tk_rep.q.val() {
            self.x.next = self.x_rep.val();
            self.x_tr.next = (self.cc.val().get_value_opcode() == self.op_mem_load.val()) | (self.cc.val().get_value_opcode() == self.op_mem_store.val());
            self.xs_slot.next = self.r_slot.val();
            self.xs_addr.next = self.r_addr.val();
            self.xs_words.next = self.r_words.val();
        } else {
            self.x.next = self.tk_payload.q.val();
            self.x_tr.next = self.tk_tr.q.val();
            self.xs_slot.next = self.p_slot.val();
            self.xs_addr.next = self.p_addr.val();
            self.xs_words.next = self.p_words.val();
        }
        self.issue.next = false;
        self.consumed.next = false;
        self.x_err.next = false;
        // `consumed` ignores errors (timing: the unpacker's advance does not wait for the
        // checks); an error stops the decoder below, after the unpacker, and overrides it.
        self.last_copy.next = self.tk_lc.q.val();
        if self.tk_valid.q.val() {
            if self.is_rep.val() {
                // A copy reaching before the first instruction (fill only grows, so the first
                // copy's check is the one that matters).
                self.x_err.next = !(bit_cast::<16, 10>(self.fill.q.val()) > self.f_tk.val());
                if self.prime.val() {
                    self.primed.d.next = true;
                } else {
                    self.issue.next = true;
                    self.consumed.next = self.last_copy.val();
                }
            } else if self.tk_ma.q.val() {
                self.x_err.next = self.ma_slot.val().get_bit(2) & self.ma_slot.val().get_bit(1);
                self.issue.next = true;
                self.consumed.next = true;
            } else {
                self.issue.next = true;
                self.consumed.next = true;
            }
        }
        // `issue` ignores errors too (timing): an error stops the decoder, and a start resets
        // every register it touches, but the output register takes only error-free instructions.
        if self.x_err.val() {
            self.primed.d.next = false;
        }
        self.x_op.next = self.x.val().get_value_opcode();
        self.sp_mask256.next = self.slot_mask.val() << (self.sp_slot.q.val() << 5);
        self.sp_addr256.next = bit_cast::<256, 26>(self.sp_addr.q.val()) << (self.sp_slot.q.val() << 5);
        self.sp_words256.next = bit_cast::<256, 20>(self.sp_words.q.val()) << (self.sp_slot.q.val() << 5);
        // The pending transfer goes into its slot.
        self.sp_valid.d.next = false;
        if self.sp_valid.q.val() {
            self.s_addr.d.next = (self.s_addr.q.val() & !self.sp_mask256.val()) | self.sp_addr256.val();
            self.s_words.d.next = (self.s_words.q.val() & !self.sp_mask256.val()) | self.sp_words256.val();
        }
        // The history write of last cycle's issue (from `last`); this cycle's follows next cycle.
        self.hist_c.w_en.next = self.hw_en.q.val();
        self.hist_c.w_addr.next = self.hw_addr.q.val();
        self.hist_c.w_data.next = self.last.q.val();
        self.hist_p.w_en.next = self.hw_en.q.val();
        self.hist_p.w_addr.next = self.hw_addr.q.val();
        self.hist_p.w_data.next = self.last.q.val().get_bits::<33>(0);
        self.hw_en.d.next = self.issue.val();
        self.hw_addr.d.next = self.hptr.q.val();
        if self.issue.val() {
            self.o_valid.d.next = !self.x_err.val();
            self.o_op.d.next = self.x_op.val();
            self.o_payload.d.next = self.x.val();
            self.o_module.d.next = self.mods.val().get_bits::<6>((bit_cast::<8, 5>(self.x_op.val()) << 3).index());
            self.last.d.next = self.x.val();
            self.last2.d.next = self.last.q.val();
            self.last3.d.next = self.last2.q.val();
            self.hptr.d.next = (self.hptr.q.val() + 1) & bits::<16>(511);
            self.hp1.d.next = self.hp1.q.val() + 1;
            self.hm1.d.next = self.hm1.q.val() + 1;
            self.hm2.d.next = self.hm2.q.val() + 1;
            if self.fill.q.val() != 1023 {
                self.fill.d.next = self.fill.q.val() + 1;
            }
            if self.x_tr.val() {
                self.sp_valid.d.next = true;
                self.sp_slot.d.next = self.xs_slot.val();
                self.sp_addr.d.next = self.xs_addr.val();
                self.sp_words.d.next = self.xs_words.val();
            }
        }
        if self.is_rep.val() & self.issue.val() {
            if self.consumed.val() {
                self.rep_rem.d.next = 0.into();
            } else {
                self.rep_rem.d.next = self.rem_now.val() - 1;
                // The next copy is the last when two were left (or, before the first, count 1).
                if self.rep_rem.q.val() == 0 {
                    self.tk_lc.d.next = self.tk_payload.q.val().get_value_repeat_count() == 1;
                } else {
                    self.tk_lc.d.next = self.rep_rem.q.val() == 2;
                }
            }
        }
        self.tk_valid.d.next = self.tk_valid.q.val() & !self.consumed.val();
        if self.consumed.val() {
            self.primed.d.next = false;
        }
        self.adv.next = !self.tk_valid.q.val() | self.consumed.val();

        // The fill after this cycle's issue against 2(f + 1) − 1, for the token staying in `tk`
        // and for the two candidates of the next one (the fill saturates at 1023, above every
        // 2(f + 1) − 1 ≤ 511, so `fill ≥ x` stands for `fill + 1 > x`).
        self.f_cur.next = self.cur.q.val().get_bits::<16>(5) & bits::<16>(255);
        self.f_q0.next = self.q0.q.val().get_bits::<16>(5) & bits::<16>(255);
        self.cf_tk_gt.next = bit_cast::<16, 10>(self.fill.q.val()) > ((self.f_tk.val() << 1) | bits::<16>(1));
        self.cf_tk_ge.next = bit_cast::<16, 10>(self.fill.q.val()) >= ((self.f_tk.val() << 1) | bits::<16>(1));
        if self.issue.val() {
            self.tk_cf.d.next = self.cf_tk_ge.val();
            self.cf_cur.next = bit_cast::<16, 10>(self.fill.q.val()) >= ((self.f_cur.val() << 1) | bits::<16>(1));
            self.cf_q0.next = bit_cast::<16, 10>(self.fill.q.val()) >= ((self.f_q0.val() << 1) | bits::<16>(1));
        } else {
            self.tk_cf.d.next = self.cf_tk_gt.val();
            self.cf_cur.next = bit_cast::<16, 10>(self.fill.q.val()) > ((self.f_cur.val() << 1) | bits::<16>(1));
            self.cf_q0.next = bit_cast::<16, 10>(self.fill.q.val()) > ((self.f_q0.val() << 1) | bits::<16>(1));
        }

        // ---- Unpacking: decode from the current word, or from the next one when it is used up.
        // The next word is the prefetched one, or the one arriving from the buffer this cycle
        // (bypass).
        self.cur_empty.next = self.empty.q.val();
        self.next_word.next = self.q0.q.val();
        self.next_ok.next = self.v0.q.val();
        if self.cur_empty.val() {
            self.src.next = self.next_word.val();
            self.src_ok.next = self.next_ok.val();
        } else {
            self.src.next = self.cur.q.val();
            self.src_ok.next = true;
        }
        self.consume.next = self.busy.q.val() & self.adv.val() & self.cur_empty.val() & self.next_ok.val();
        self.op.next = self.src.val().get_value_opcode();
        self.len_cur.next =
            self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.cur.q.val().get_value_opcode()) << 3).index());
        self.len_q0.next =
            self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.q0.q.val().get_value_opcode()) << 3).index());
        if self.cur_empty.val() {
            self.len.next = self.len_q0.val();
        } else {
            self.len.next = self.len_cur.val();
        }
        self.nxt_cur.next = self.src.val() >> self.len.val();
        self.nl9_cur.next = bit_cast::<9, 8>(self.left.q.val()) - bit_cast::<9, 8>(self.len_cur.val());
        self.nl9_q0.next = bits::<9>(64) - bit_cast::<9, 8>(self.len_q0.val());
        if self.cur_empty.val() {
            self.nl9.next = self.nl9_q0.val();
        } else {
            self.nl9.next = self.nl9_cur.val();
        }
        self.nxt_left.next = self.nl9.val().get_bits::<8>(0);
        self.overrun.next = self.nl9.val().get_bit(8);
        // Whether the word is used up after this instruction (NOP at the head, or fewer than 5
        // bits left: `< 5` as gates, no carry chain), for each source word before the select.
        self.short_cur.next = !self.nl9_cur.val().get_bits::<5>(3).any()
            & !(self.nl9_cur.val().get_bit(2) & (self.nl9_cur.val().get_bit(1) | self.nl9_cur.val().get_bit(0)));
        self.short_q0.next = !self.nl9_q0.val().get_bits::<5>(3).any()
            & !(self.nl9_q0.val().get_bit(2) & (self.nl9_q0.val().get_bit(1) | self.nl9_q0.val().get_bit(0)));
        self.sh_cur.next = self.cur.q.val() >> self.len_cur.val();
        self.sh_q0.next = self.q0.q.val() >> self.len_q0.val();
        self.e_cur.next = !self.cur.q.val().get_value_opcode().any()
            | self.short_cur.val()
            | !self.sh_cur.val().get_value_opcode().any();
        self.e_q0.next = !self.q0.q.val().get_value_opcode().any()
            | self.short_q0.val()
            | !self.sh_q0.val().get_value_opcode().any();
        // (A shifted constant, not 2^len − 1: no 64-bit carry chain.)
        if self.len.val().get_bit(6) | self.len.val().get_bit(7) {
            self.mask.next = !bits::<64>(0);
        } else {
            self.mask.next = !(!bits::<64>(0) << self.len.val().get_bits::<6>(0));
        }
        // The buffer's read data lands in `rd` (a fetch issued last cycle).
        if self.fetching.q.val() {
            self.rd.d.next = self.ibuf.r_data.val();
        }
        self.rd_v.d.next = self.fetching.q.val();
        // The queue after this cycle: pop the head when the unpacker takes it, append the landed
        // word (`rd`) behind the entries that stay.
        if self.consume.val() {
            if self.v1.q.val() {
                self.q0.d.next = self.q1.q.val();
            } else {
                self.q0.d.next = self.rd.q.val();
            }
            if self.v2.q.val() {
                self.q1.d.next = self.q2.q.val();
            } else {
                self.q1.d.next = self.rd.q.val();
            }
            if self.v3.q.val() {
                self.q2.d.next = self.q3.q.val();
            } else {
                self.q2.d.next = self.rd.q.val();
            }
            self.q3.d.next = self.rd.q.val();
            self.v0.d.next = self.v1.q.val() | self.rd_v.q.val();
            self.v1.d.next = self.v2.q.val() | (self.v1.q.val() & self.rd_v.q.val());
            self.v2.d.next = self.v3.q.val() | (self.v2.q.val() & self.rd_v.q.val());
            self.v3.d.next = self.v3.q.val() & self.rd_v.q.val();
        } else {
            if !self.v0.q.val() {
                self.q0.d.next = self.rd.q.val();
            }
            if !self.v1.q.val() {
                self.q1.d.next = self.rd.q.val();
            }
            if !self.v2.q.val() {
                self.q2.d.next = self.rd.q.val();
            }
            if !self.v3.q.val() {
                self.q3.d.next = self.rd.q.val();
            }
            self.v0.d.next = self.v0.q.val() | self.rd_v.q.val();
            self.v1.d.next = self.v1.q.val() | (self.v0.q.val() & self.rd_v.q.val());
            self.v2.d.next = self.v2.q.val() | (self.v1.q.val() & self.rd_v.q.val());
            self.v3.d.next = self.v3.q.val() | (self.v2.q.val() & self.rd_v.q.val());
        }
        // Fetch when the entries and the fetches in flight are at most three (entries fill from
        // the head, so "four or more" is v3, or v2 with one in flight, or v1 with two; from
        // registers only: the read enable does not wait for this cycle's decoding).
        self.room.next = !(self.v3.q.val()
            | (self.v2.q.val() & (self.fetching.q.val() | self.rd_v.q.val()))
            | (self.v1.q.val() & self.fetching.q.val() & self.rd_v.q.val()));
        self.ibuf.r_en.next = false;
        self.ibuf.r_addr.next = self.rptr.q.val();
        self.fetching.d.next = false;
        if self.busy.q.val() & self.room.val() & (self.rptr.q.val() < self.wptr.q.val()) {
            self.ibuf.r_en.next = true;
            self.rptr.d.next = self.rptr.q.val() + 1;
            self.fetching.d.next = true;
        }
        // (`adv` is low while an erroneous token sits in `tk`, so no error gates this.)
        if self.busy.q.val() & self.adv.val() {
            if self.src_ok.val() {
                // The word moves past the instruction whatever it is (timing: the shifter's
                // result is not selected by the checks): after an error nothing decodes again,
                // and a word that starts with NOP is empty (skipped).
                self.cur.d.next = self.nxt_cur.val();
                self.left.d.next = self.nxt_left.val();
                self.cur_valid.d.next = self.op.val().any();
                if self.cur_empty.val() {
                    self.empty.d.next = self.e_q0.val();
                } else {
                    self.empty.d.next = self.e_cur.val();
                }
                if self.op.val().any() {
                    if !self.len.val().any() | self.overrun.val() {
                        self.error.d.next = true;
                        self.busy.d.next = false;
                    } else {
                        self.tk_valid.d.next = true;
                        self.tk_op.d.next = self.op.val();
                        self.tk_rep.d.next = self.op.val() == self.op_repeat.val();
                        self.tk_ma.d.next = self.op.val() == self.op_mem_add.val();
                        self.tk_tr.d.next = (self.op.val() == self.op_mem_load.val()) | (self.op.val() == self.op_mem_store.val());
                        self.tk_d1.d.next = !self.src.val().get_value_repeat_dist().any();
                        self.tk_d2.d.next = self.src.val().get_value_repeat_dist() == 1;
                        self.tk_d3.d.next = self.src.val().get_value_repeat_dist() == 2;
                        if self.cur_empty.val() {
                            self.tk_cf.d.next = self.cf_q0.val();
                            self.tk_lc.d.next = !self.q0.q.val().get_value_repeat_count().any();
                        } else {
                            self.tk_cf.d.next = self.cf_cur.val();
                            self.tk_lc.d.next = !self.cur.q.val().get_value_repeat_count().any();
                        }
                        self.tk_payload.d.next = self.src.val() & self.mask.val();
                        if self.op.val() == self.op_end.val() {
                            self.busy.d.next = false;
                        }
                    }
                }
            } else if !self.fetching.q.val() & !self.rd_v.q.val() & (self.rptr.q.val() >= self.wptr.q.val()) {
                // Out of words before END.
                self.error.d.next = true;
                self.busy.d.next = false;
            }
        }

        // The slot fields for a MEM_ADD decoded now: the slot registers after this cycle's
        // pending update.
        self.src_slot.next = self.src.val().get_value_add_slot();
        self.src_off.next = bit_cast::<8, 3>(self.src_slot.val()) << 5;
        if self.sp_valid.q.val() & (self.sp_slot.q.val() == bit_cast::<8, 3>(self.src_slot.val())) {
            self.mb_addr.d.next = self.sp_addr.q.val();
            self.mb_words.d.next = self.sp_words.q.val();
        } else {
            self.mb_addr.d.next = self.s_addr.q.val().get_bits::<26>(self.src_off.val().index());
            self.mb_words.d.next = self.s_words.q.val().get_bits::<20>(self.src_off.val().index());
        }

        // ---- A malformed token stops the decoder (last word on `tk`, `busy` and `error`).
        if self.x_err.val() {
            self.error.d.next = true;
            self.busy.d.next = false;
            self.tk_valid.d.next = false;
            self.rep_rem.d.next = 0.into();
        }

        // ---- History reads. The reads land in `cc_r`/`pp_r` for the copy two cycles ahead: the REPEAT in `tk`
        // primes or issues this cycle and issues the next, else a REPEAT decoded now primes next
        // cycle (after `tk`'s instruction, if any, issues now). An erroneous token stops the
        // decoder, so its reads do not matter and the selection ignores errors.
        // The decoded word is the current one or the queue head (`src`): both candidates are
        // formed from registers and `cur_empty` picks one.
        // (distance d = f + 1: hptr + k − d = (hptr + k − 1) − f.)
        self.ra_c0.next = self.hm1.q.val() - self.f_cur.val();
        self.ra_c1.next = self.hptr.q.val() - self.f_cur.val();
        self.ra_q0.next = self.hm1.q.val() - self.f_q0.val();
        self.ra_q1.next = self.hptr.q.val() - self.f_q0.val();
        self.rp_c0.next = self.hm2.q.val() - (self.f_cur.val() << 1);
        self.rp_c1.next = self.hm1.q.val() - (self.f_cur.val() << 1);
        self.rp_q0.next = self.hm2.q.val() - (self.f_q0.val() << 1);
        self.rp_q1.next = self.hm1.q.val() - (self.f_q0.val() << 1);
        if self.cur_empty.val() {
            self.ra_new0.next = self.ra_q0.val();
            self.ra_new1.next = self.ra_q1.val();
            self.rp_new0.next = self.rp_q0.val();
            self.rp_new1.next = self.rp_q1.val();
        } else {
            self.ra_new0.next = self.ra_c0.val();
            self.ra_new1.next = self.ra_c1.val();
            self.rp_new0.next = self.rp_c0.val();
            self.rp_new1.next = self.rp_c1.val();
        }
        self.ra_rep1.next = self.hptr.q.val() - self.f_tk.val();
        self.ra_rep2.next = self.hp1.q.val() - self.f_tk.val();
        self.rp_rep1.next = self.hm1.q.val() - (self.f_tk.val() << 1);
        self.rp_rep2.next = self.hptr.q.val() - (self.f_tk.val() << 1);
        self.hist_c.r_en.next = true;
        self.hist_p.r_en.next = true;
        if self.is_rep.val() & !self.consumed.val() {
            if self.prime.val() {
                self.hist_c.r_addr.next = self.ra_rep1.val() & bits::<16>(511);
                self.hist_p.r_addr.next = self.rp_rep1.val() & bits::<16>(511);
            } else {
                self.hist_c.r_addr.next = self.ra_rep2.val() & bits::<16>(511);
                self.hist_p.r_addr.next = self.rp_rep2.val() & bits::<16>(511);
            }
        } else if self.tk_valid.q.val() {
            self.hist_c.r_addr.next = self.ra_new1.val() & bits::<16>(511);
            self.hist_p.r_addr.next = self.rp_new1.val() & bits::<16>(511);
        } else {
            self.hist_c.r_addr.next = self.ra_new0.val() & bits::<16>(511);
            self.hist_p.r_addr.next = self.rp_new0.val() & bits::<16>(511);
        }

        // ---- Back-pressure: freeze the decoding pipeline.
        if self.hold.val() {
            self.rptr.d.next = self.rptr.q.val();
            self.fetching.d.next = self.fetching.q.val();
            self.rd.d.next = self.rd.q.val();
            self.rd_v.d.next = self.rd_v.q.val();
            self.cur.d.next = self.cur.q.val();
            self.left.d.next = self.left.q.val();
            self.cur_valid.d.next = self.cur_valid.q.val();
            self.empty.d.next = self.empty.q.val();
            self.q0.d.next = self.q0.q.val();
            self.q1.d.next = self.q1.q.val();
            self.q2.d.next = self.q2.q.val();
            self.q3.d.next = self.q3.q.val();
            self.v0.d.next = self.v0.q.val();
            self.v1.d.next = self.v1.q.val();
            self.v2.d.next = self.v2.q.val();
            self.v3.d.next = self.v3.q.val();
            self.tk_valid.d.next = self.tk_valid.q.val();
            self.tk_op.d.next = self.tk_op.q.val();
            self.tk_rep.d.next = self.tk_rep.q.val();
            self.tk_ma.d.next = self.tk_ma.q.val();
            self.tk_tr.d.next = self.tk_tr.q.val();
            self.tk_d1.d.next = self.tk_d1.q.val();
            self.tk_d2.d.next = self.tk_d2.q.val();
            self.tk_d3.d.next = self.tk_d3.q.val();
            self.tk_cf.d.next = self.tk_cf.q.val();
            self.tk_lc.d.next = self.tk_lc.q.val();
            self.tk_payload.d.next = self.tk_payload.q.val();
            self.o_valid.d.next = self.o_valid.q.val();
            self.o_module.d.next = self.o_module.q.val();
            self.o_op.d.next = self.o_op.q.val();
            self.o_payload.d.next = self.o_payload.q.val();
            self.hptr.d.next = self.hptr.q.val();
            self.hp1.d.next = self.hp1.q.val();
            self.hm1.d.next = self.hm1.q.val();
            self.hm2.d.next = self.hm2.q.val();
            self.fill.d.next = self.fill.q.val();
            self.last.d.next = self.last.q.val();
            self.last2.d.next = self.last2.q.val();
            self.last3.d.next = self.last3.q.val();
            // Last cycle's issue is written now (its data, `last`, holds); this cycle's issue is
            // not taken, so nothing is written next cycle.
            self.hw_en.d.next = false;
            self.cc_r.d.next = self.cc_r.q.val();
            self.pp_r.d.next = self.pp_r.q.val();
            self.primed.d.next = self.primed.q.val();
            self.rep_rem.d.next = self.rep_rem.q.val();
            self.s_addr.d.next = self.s_addr.q.val();
            self.s_words.d.next = self.s_words.q.val();
            self.sp_valid.d.next = self.sp_valid.q.val();
            self.sp_slot.d.next = self.sp_slot.q.val();
            self.sp_addr.d.next = self.sp_addr.q.val();
            self.sp_words.d.next = self.sp_words.q.val();
            self.mb_addr.d.next = self.mb_addr.q.val();
            self.mb_words.d.next = self.mb_words.q.val();
            self.error.d.next = self.error.q.val();
            self.busy.d.next = self.busy.q.val();
            self.ibuf.r_en.next = false;
            self.hist_c.r_en.next = false;
            self.hist_p.r_en.next = false;
        }

        // ---- Control register.
        if self.reg_we.val() & (self.reg_addr.val() == 1) {
            if self.reg_wdata.val().get_bit(1) {
                self.wptr.d.next = 0.into();
                self.overflow.d.next = false;
                self.error.d.next = false;
                self.busy.d.next = false;
                self.tk_valid.d.next = false;
                self.rep_rem.d.next = 0.into();
                self.primed.d.next = false;
            }
            if self.reg_wdata.val().get_bit(0) & !self.busy.q.val() & !self.tk_valid.q.val() {
                self.busy.d.next = true;
                self.error.d.next = false;
                self.rptr.d.next = 0.into();
                self.fetching.d.next = false;
                self.rd_v.d.next = false;
                self.cur_valid.d.next = false;
                self.empty.d.next = true;
                self.v0.d.next = false;
                self.v1.d.next = false;
                self.v2.d.next = false;
                self.v3.d.next = false;
                self.tk_valid.d.next = false;
                self.rep_rem.d.next = 0.into();
                self.hptr.d.next = 0.into();
                self.hp1.d.next = 1.into();
                self.hm1.d.next = bits::<16>(65535);
                self.hm2.d.next = bits::<16>(65534);
                self.fill.d.next = 0.into();
                self.last.d.next = 0.into();
                self.last2.d.next = 0.into();
                self.last3.d.next = 0.into();
                self.hw_en.d.next = false;
                self.primed.d.next = false;
                self.s_addr.d.next = 0.into();
                self.s_words.d.next = 0.into();
                self.sp_valid.d.next = false;
            }
        }
    }
}

impl crate::sim::Clocked for InstrDecompressor {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

crate::top_io!(
    InstrDecompressor,
    inputs: [reg_we, reg_addr, reg_wdata, hold],
    outputs: [count, st_busy, st_error, st_overflow, wr_valid, wr_module, wr_op, wr_payload],
);
