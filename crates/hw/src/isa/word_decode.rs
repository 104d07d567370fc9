//! # WordDecode: the unpacker's combinational decode of one instruction
//!
//! The packed program is one bit stream (docs/isa.md, packing): an instruction starts where the
//! previous one ended and may continue into the next word. The unpacker keeps the rest of the
//! current word, aligned to bit 0 (`cur`, `left` bits of it still unread; bits above are zero),
//! and decodes from the window `cur | head << left`: the current word's rest followed by the
//! queue head. An instruction that needs more than `left` bits takes the head (`take`): the head
//! shifted past the instruction's bits in it becomes the current word. A `NOP` (opcode 0) is five
//! bits that issue nothing. Lengths come from the opcode table (`accelgen_isa::TABLE`) as a
//! constant.
//!
//! From the unpacker's registers in the [`InstrDecompressor`](crate::isa::InstrDecompressor) and
//! the queue head: the instruction decoded this cycle (`src_ok`, `op`, `payload`: its bits,
//! masked to its length) and the registers' next values, formed whatever the instruction is
//! (timing: the shifter's result is not selected by the checks; the decompressor stops on an
//! error). `src_ok` is low while the instruction (or its opcode, with fewer than 5 bits left)
//! needs the head and there is none; `legal` is low for an opcode the table does not have.
//! Purely combinational, with no control input: the registers' updates (step, start, hold) are
//! the parent's, so no output of this block depends on them (docs/architecture.md, the rule on
//! false loops).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `cur`, `left` | in | 64, 8 | the unpacker's registers (`left` 0..=63) |
//! | `head`, `head_ok` | in | 64, 1 | the queue's head |
//! | `next_cur`, `next_left`, `take` | out | 64, 8, 1 | the registers after this instruction; it takes the head |
//! | `src_ok` | out | 1 | the instruction's bits are all there |
//! | `op`, `payload`, `legal` | out | 5, 64, 1 | the decoded instruction |
//! | `src_dist`, `src_slot`, `src_count0` | out | 8, 3, 1 | look-ahead fields for the expander (the window's `REPEAT.dist`, `MEM_ADD.slot`, `REPEAT.count` = 0, read whatever the opcode) |

use crate::isa::InstrFields;
use accelgen_isa::TABLE;
use rust_hdl::prelude::*;

/// The decode of 64-bit words.
#[derive(LogicBlock)]
pub struct WordDecode {
    /// The current word's unread bits, aligned to bit 0.
    pub cur: Signal<In, Bits<64>>,
    /// How many (0..=63).
    pub left: Signal<In, Bits<8>>,
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
    /// Length (8 bits) of each of the 32 opcodes, 0 = illegal.
    lens: Constant<Bits<256>>,
    /// The current word after the instruction and its bits left.
    pub next_cur: Signal<Out, Bits<64>>,
    /// See `next_cur`.
    pub next_left: Signal<Out, Bits<8>>,
    /// The instruction continues into the head: the head becomes the current word.
    pub take: Signal<Out, Bit>,
    /// The window: the current word's rest, then the head.
    win: Signal<Local, Bits<64>>,
    /// The instruction's length.
    len: Signal<Local, Bits<8>>,
    /// Bits left after the instruction, with a borrow bit (set: it continues into the head).
    nl9: Signal<Local, Bits<9>>,
    /// Bits of the instruction in the head (when it continues there).
    in_head: Signal<Local, Bits<7>>,
    /// At least an opcode's bits are left in the current word.
    ge5: Signal<Local, Bit>,
    /// Mask of the instruction's bits.
    mask: Signal<Local, Bits<64>>,
}

impl Default for WordDecode {
    fn default() -> Self {
        // The window is one word: an instruction fits the current word's rest plus the head.
        assert!(accelgen_isa::max_len() <= 64, "instructions longer than the 64-bit window");
        let mut lens = Bits::<256>::default();
        for o in TABLE {
            for b in 0..8 {
                lens = lens.replace_bit(o.code as usize * 8 + b, (o.len() >> b) & 1 == 1);
            }
        }
        block_with_defaults!(WordDecode {
            lens: Constant::new(lens),
        } defaults {
            cur, left, head, head_ok, src_ok, op, payload, legal, src_dist, src_slot, src_count0,
            next_cur, next_left, take, win, len, nl9, in_head, ge5, mask,
        })
    }
}

impl Logic for WordDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.win.next = self.cur.val() | (self.head.val() << self.left.val().get_bits::<6>(0));
        self.op.next = self.win.val().get_value_opcode();
        self.src_dist.next = self.win.val().get_value_repeat_dist();
        self.src_slot.next = self.win.val().get_value_add_slot();
        self.src_count0.next = !self.win.val().get_value_repeat_count().any();
        self.len.next = self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.win.val().get_value_opcode()) << 3).index());
        self.legal.next = self.len.val().any();
        self.nl9.next = bit_cast::<9, 8>(self.left.val()) - bit_cast::<9, 8>(self.len.val());
        self.in_head.next = bits::<7>(0) - self.nl9.val().get_bits::<7>(0);
        self.ge5.next = self.left.val() > bits::<8>(4);
        self.take.next = self.nl9.val().get_bit(8);
        self.src_ok.next = self.head_ok.val() | (self.ge5.val() & !self.nl9.val().get_bit(8));
        // (A shifted constant, not 2^len − 1: no 64-bit carry chain.)
        if self.len.val().get_bit(6) | self.len.val().get_bit(7) {
            self.mask.next = !bits::<64>(0);
        } else {
            self.mask.next = !(!bits::<64>(0) << self.len.val().get_bits::<6>(0));
        }
        self.payload.next = self.win.val() & self.mask.val();
        if self.nl9.val().get_bit(8) {
            self.next_cur.next = self.head.val() >> self.in_head.val();
            self.next_left.next = self.nl9.val().get_bits::<8>(0) + bits::<8>(64);
        } else {
            self.next_cur.next = self.cur.val() >> self.len.val();
            self.next_left.next = self.nl9.val().get_bits::<8>(0);
        }
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
    /// their bits.
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
            let (mut cur, mut left, mut next) = (bits::<64>(0), bits::<8>(0), 0usize);
            let mut got = vec![];
            while got.len() < prog.len() && next <= words.len() {
                d.cur.next = cur;
                d.left.next = left;
                d.head.next = words.get(next).copied().unwrap_or(0).into();
                d.head_ok.next = next < words.len();
                assert!(simulate(&mut d, 100), "settles");
                if !d.src_ok.val() {
                    break;
                }
                if d.take.val() {
                    next += 1;
                }
                assert!(d.legal.val(), "round {round}");
                if d.op.val().any() {
                    got.push(d.payload.val());
                }
                (cur, left) = (d.next_cur.val(), d.next_left.val());
                assert!(left.index() < 64, "round {round}: at most 63 bits left");
            }
            let want: Vec<Bits<64>> = prog.iter().map(|i| bits::<64>(i.encode() as u64)).collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}
