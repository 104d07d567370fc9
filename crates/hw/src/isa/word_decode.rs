//! # WordDecode: the unpacker's combinational decode of one instruction
//!
//! The packed program is one bit stream (docs/isa.md, packing): an instruction starts where the
//! previous one ended and may continue into the next word. The unpacker keeps the current word
//! as it came (`w0`) and the bit position of the next instruction in it (`pos`, 1..=64; 64: the
//! word is used up, decode from the queue head), and decodes from the 128-bit window `head ++
//! w0` shifted right by `pos`. A `NOP` (opcode 0) is five bits that issue nothing.
//!
//! **Timing: the loop is one select.** The position loop (`pos` → the next `pos`) does not go
//! through the shifter. For every position p (0..=64) a table entry is formed beside the others
//! from the five opcode bits at p alone (a constant table per position, built from the opcode
//! table `accelgen_isa::TABLE`): the instruction's length, the next position (p + length, less
//! 64 when it runs past `w0`), whether it takes the head (p + length > 64) and whether it fits
//! without the head (p ≤ 59 and no take). The unpacker selects one entry by `pos`: a 65-to-1
//! select and no adder between the position register and its next value. The shifter feeds only
//! the decoded fields.
//!
//! From the unpacker's registers in the [`InstrDecompressor`](crate::isa::InstrDecompressor) and
//! the queue head: the instruction decoded this cycle (`src_ok`, `op`, `payload`: its bits,
//! masked to its length) and the registers' next values, formed whatever the instruction is
//! (timing: the decompressor stops on an error). `src_ok` is low while the instruction (or its
//! opcode, past bit 59) needs the head and there is none; `legal` is low for an opcode the table
//! does not have. Purely combinational, with no control input: the registers' updates (step,
//! start, hold) are the parent's, so no output of this block depends on them
//! (docs/architecture.md, the rule on false loops).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `w0`, `pos` | in | 64, 7 | the unpacker's registers (`pos` 1..=64; 0 is never used) |
//! | `head`, `head_ok` | in | 64, 1 | the queue's head |
//! | `next_pos`, `take` | out | 7, 1 | the position after this instruction; it takes the head (the head becomes `w0`) |
//! | `src_ok` | out | 1 | the instruction's bits are all there |
//! | `op`, `payload`, `legal` | out | 5, 64, 1 | the decoded instruction |
//! | `src_dist`, `src_slot`, `src_count0` | out | 8, 3, 1 | look-ahead fields for the expander (the window's `REPEAT.dist`, `MEM_ADD.slot`, `REPEAT.count` = 0, read whatever the opcode) |

use crate::isa::InstrFields;
use accelgen_isa::TABLE;
use rust_hdl::prelude::*;

/// Positions in the table: 0..=64.
const POSITIONS: usize = 65;
/// Bits of a table entry: next position (7), take (1), length (7), fits without the head (1).
const ENTRY: usize = 16;

/// The table entry of every opcode at position `p`: 32 entries of [`ENTRY`] bits.
fn position_table(p: usize) -> Bits<512> {
    let mut t = Bits::<512>::default();
    for o in TABLE {
        let len = o.len() as usize;
        let end = p + len;
        let take = end > 64;
        let next = if take { end - 64 } else { end };
        let fits = p <= 59 && !take;
        let e = next as u64 | (take as u64) << 7 | (len as u64) << 8 | (fits as u64) << 15;
        for b in 0..ENTRY {
            t = t.replace_bit(o.code as usize * ENTRY + b, (e >> b) & 1 == 1);
        }
    }
    t
}

/// One position's table entry, placed at its offset in the vector of entries (a block of its own:
/// rust-hdl sizes a `bit_cast` in Rust, outside the parent's loop over positions).
#[derive(LogicBlock)]
pub struct PositionEntry {
    /// The five opcode bits at the position.
    pub op: Signal<In, Bits<5>>,
    /// The entry, at bits `p · ENTRY` (zero elsewhere).
    pub placed: Signal<Out, Bits<1040>>,
    /// The position's table.
    tab: Constant<Bits<512>>,
    /// p · ENTRY.
    at: Constant<Bits<11>>,
    /// The entry (a signal: rust-hdl widens a signal by concatenation, an expression with a
    /// width warning).
    e: Signal<Local, Bits<16>>,
}

impl PositionEntry {
    fn new(p: usize) -> Self {
        block_with_defaults!(PositionEntry {
            tab: Constant::new(position_table(p)),
            at: Constant::new(((p * ENTRY) as u64).into()),
        } defaults { op, placed, e })
    }
}

impl Logic for PositionEntry {
    #[hdl_gen]
    fn update(&mut self) {
        self.e.next = self.tab.val().get_bits::<16>((bit_cast::<9, 5>(self.op.val()) << 4).index());
        self.placed.next = bit_cast::<1040, 16>(self.e.val()) << self.at.val();
    }
}

/// The decode of 64-bit words.
#[derive(LogicBlock)]
pub struct WordDecode {
    /// The current word, as it came.
    pub w0: Signal<In, Bits<64>>,
    /// Bit position of the next instruction in it (1..=64; 64: decode from the head).
    pub pos: Signal<In, Bits<7>>,
    /// The queue's head.
    pub head: Signal<In, Bits<64>>,
    /// There is a head.
    pub head_ok: Signal<In, Bit>,
    /// The instruction's bits are all there.
    pub src_ok: Signal<Out, Bit>,
    /// Decoded opcode.
    pub op: Signal<Out, Bits<5>>,
    /// The instruction's bits.
    pub payload: Signal<Out, Bits<64>>,
    /// The opcode is in the table.
    pub legal: Signal<Out, Bit>,
    /// Look-ahead fields for the expander: the window's `REPEAT.dist`, `MEM_ADD.slot` and whether
    /// its `REPEAT.count` is 0 (read whatever the opcode; used only when it is that instruction).
    pub src_dist: Signal<Out, Bits<8>>,
    /// See `src_dist`.
    pub src_slot: Signal<Out, Bits<3>>,
    /// See `src_dist`.
    pub src_count0: Signal<Out, Bit>,
    /// The position after the instruction.
    pub next_pos: Signal<Out, Bits<7>>,
    /// The instruction runs past `w0` (or starts in the head): the head becomes the current word.
    pub take: Signal<Out, Bit>,
    /// Each position's entry (its table: entry `opcode` at `opcode · ENTRY`).
    ents: Vec<PositionEntry>,
    /// The window `head ++ w0`, twice: up to the last opcode bit for the entries (`wop`), and
    /// whole for the fields (`win`). One window for both would join the two in one piece of this block for Verilator,
    /// which then sees a loop through the entry blocks (their inputs written, their outputs read).
    wop: Signal<Local, Bits<69>>,
    win: Signal<Local, Bits<128>>,
    /// The window from the position: the instruction's bits from bit 0 (and the next one's above them).
    fw: Signal<Local, Bits<64>>,
    /// Every position's entry, position p at `p · ENTRY`; the one at `pos`; no entry.
    all: Signal<Local, Bits<1040>>,
    ent: Signal<Local, Bits<16>>,
    zero: Constant<Bits<1040>>,
    /// The instruction's length; the mask of its bits.
    len: Signal<Local, Bits<7>>,
    mask: Signal<Local, Bits<64>>,
}

impl Default for WordDecode {
    fn default() -> Self {
        // The window is two words: an instruction at position ≤ 64 fits `head ++ w0`.
        assert!(accelgen_isa::max_len() <= 64, "instructions longer than the 64-bit window");
        assert!(POSITIONS * ENTRY == 1040);
        block_with_defaults!(WordDecode {
            ents: (0..POSITIONS).map(PositionEntry::new).collect(),
            zero: Constant::new(Bits::<1040>::default()),
        } defaults {
            w0, pos, head, head_ok, src_ok, op, payload, legal, src_dist, src_slot, src_count0,
            next_pos, take, wop, win, fw, all, ent, len, mask,
        })
    }
}

impl Logic for WordDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.wop.next = bit_cast::<69, 64>(self.w0.val()) | (bit_cast::<69, 5>(self.head.val().get_bits::<5>(0)) << 64);
        // Every position's entry, from its five opcode bits alone.
        self.all.next = self.zero.val();
        for p in 0..65 {
            self.ents[p].op.next = self.wop.val().get_bits::<5>(p);
            self.all.next = self.all.val() | self.ents[p].placed.val();
        }
        self.ent.next = self.all.val().get_bits::<16>((bit_cast::<11, 7>(self.pos.val()) << 4).index());
        self.next_pos.next = self.ent.val().get_bits::<7>(0);
        self.take.next = self.ent.val().get_bit(7);
        self.len.next = self.ent.val().get_bits::<7>(8);
        self.src_ok.next = self.head_ok.val() | self.ent.val().get_bit(15);
        self.legal.next = self.len.val().any();
        // The fields: the window from the position on.
        self.win.next = bit_cast::<128, 64>(self.w0.val()) | (bit_cast::<128, 64>(self.head.val()) << 64);
        self.fw.next = self.win.val().get_bits::<64>(self.pos.val().index());
        self.op.next = self.fw.val().get_value_opcode();
        self.src_dist.next = self.fw.val().get_value_repeat_dist();
        self.src_slot.next = self.fw.val().get_value_add_slot();
        self.src_count0.next = !self.fw.val().get_value_repeat_count().any();
        // (A shifted constant, not 2^len − 1: no 64-bit carry chain.)
        if self.len.val().get_bit(6) {
            self.mask.next = !bits::<64>(0);
        } else {
            self.mask.next = !(!bits::<64>(0) << self.len.val().get_bits::<6>(0));
        }
        self.payload.next = self.fw.val() & self.mask.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_isa::compress::pack;
    use accelgen_isa::{Instr, END, TABLE};
    use crate::testutil::Rng;

    /// Random programs packed by the software packer (`accelgen_isa::compress::pack`: instructions
    /// continue across words), decoded by feeding the decode's next values back as its registers
    /// (the head always offering the next word): the instructions come out in program order with
    /// their bits. Checks every position's table entry too: a wrong length, next position or take
    /// bit at any position breaks the order or the bits.
    #[test]
    fn packed_programs_decode_in_order() {
        let mut rng = Rng::from_env("word-decode", 61);
        let mut d = WordDecode::default();
        d.connect_all();
        check_all(&d).unwrap();
        for round in 0..30 {
            let mut prog: Vec<Instr> = (0..1 + rng.below(40))
                .map(|_| {
                    let o = &TABLE[rng.below(TABLE.len() as u64) as usize];
                    let values = o.fields.iter().map(|f| rng.below(1 << f.bits.min(40))).collect::<Vec<_>>();
                    Instr { code: o.code, values }
                })
                .filter(|i| i.code != END && i.code != 0)
                .collect();
            prog.push(Instr { code: END, values: vec![] });
            let bytes = pack(&prog, 64);
            let words: Vec<u64> = bytes.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
            // The start state: no current word, decode from the head.
            let (mut w0, mut pos, mut next) = (bits::<64>(0), bits::<7>(64), 0usize);
            let mut got = vec![];
            while got.len() < prog.len() && next <= words.len() {
                d.w0.next = w0;
                d.pos.next = pos;
                d.head.next = words.get(next).copied().unwrap_or(0).into();
                d.head_ok.next = next < words.len();
                assert!(simulate(&mut d, 100), "settles");
                if !d.src_ok.val() {
                    break;
                }
                if d.take.val() {
                    w0 = words[next].into();
                    next += 1;
                }
                assert!(d.legal.val(), "round {round}");
                if d.op.val().any() {
                    got.push(d.payload.val());
                }
                pos = d.next_pos.val();
                assert!((1..=64).contains(&pos.index()), "round {round}: position {} outside 1..=64", pos.index());
            }
            let want: Vec<Bits<64>> = prog.iter().map(|i| bits::<64>(i.encode() as u64)).collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}
