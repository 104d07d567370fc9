//! # WordDecode: the unpacker's combinational decode of one instruction
//!
//! Instructions are read LSB first from the current word; a zero opcode (`NOP`) or fewer than 5
//! bits left means the word is used up and decoding goes on with the queue head, taken in the
//! same cycle (`consume`). Whether the current word is used up is a register (`empty`), computed
//! with the word from both candidate sources (the word after its instruction, the queue head)
//! before the select; the opcode's length is looked up for both too (timing). Lengths come from
//! the opcode table (`accelgen_isa::TABLE`) as a constant.
//!
//! From the unpacker's registers in the [`InstrDecompressor`](crate::isa::InstrDecompressor)
//! (current word, bits left, used up) and the queue head: the instruction decoded this cycle (`src_ok`, `op`, `payload`: its bits,
//! masked to its length) and the registers' next values, the word moved past the instruction
//! whatever it is (timing: the shifter's result is not selected by the checks; the decompressor
//! stops on an error). `legal` is low for an opcode the table does not have, `overrun` high for
//! an instruction running past its word. Purely combinational, with no control input: the
//! registers' updates (step, start, hold) are the parent's, so no output of this block depends on
//! them (docs/architecture.md, the rule on false loops).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `cur`, `left`, `empty` | in | 64, 8, 1 | the unpacker's registers |
//! | `head`, `head_ok` | in | 64, 1 | the queue's head |
//! | `next_cur`, `next_left`, `next_empty` | out | 64, 8, 1 | the registers after this instruction |
//! | `src_ok` | out | 1 | there is a word to decode from |
//! | `op`, `payload`, `legal`, `overrun` | out | 5, 64, 1, 1 | the decoded instruction |
//! | `src_dist`, `src_slot`, `cur_dist`, `cur_count0` | out | 8, 3, 8, 1 | look-ahead fields for the expander (the decoded word's `REPEAT.dist`, `MEM_ADD.slot`; the current word's `REPEAT.dist`, `REPEAT.count` = 0) |

use crate::isa::InstrFields;
use accelgen_isa::TABLE;
use rust_hdl::prelude::*;

/// The decode of 64-bit words.
#[derive(LogicBlock)]
pub struct WordDecode {
    /// Current word.
    pub cur: Signal<In, Bits<64>>,
    /// Bits left in it.
    pub left: Signal<In, Bits<8>>,
    /// It is used up.
    pub empty: Signal<In, Bit>,
    /// The queue's head.
    pub head: Signal<In, Bits<64>>,
    /// There is a head.
    pub head_ok: Signal<In, Bit>,
    /// There is one.
    pub src_ok: Signal<Out, Bit>,
    /// Decoded opcode.
    pub op: Signal<Out, Bits<5>>,
    /// The instruction's bits.
    pub payload: Signal<Out, Bits<64>>,
    /// The opcode is in the table.
    pub legal: Signal<Out, Bit>,
    /// The instruction runs past its word.
    pub overrun: Signal<Out, Bit>,
    /// Look-ahead fields for the expander: the decoded word's `REPEAT.dist` and `MEM_ADD.slot`
    /// positions, and the current word's `REPEAT.dist` and whether its `REPEAT.count` is 0 (read
    /// whatever the opcode; used only when it is that instruction).
    pub src_dist: Signal<Out, Bits<8>>,
    /// See `src_dist`.
    pub src_slot: Signal<Out, Bits<3>>,
    /// See `src_dist`.
    pub cur_dist: Signal<Out, Bits<8>>,
    /// See `src_dist`.
    pub cur_count0: Signal<Out, Bit>,
    /// Length (8 bits) of each of the 32 opcodes, 0 = illegal.
    lens: Constant<Bits<256>>,
    /// The current word after the instruction, bits left, used up.
    pub next_cur: Signal<Out, Bits<64>>,
    /// See `next_cur`.
    pub next_left: Signal<Out, Bits<8>>,
    /// See `next_cur`.
    pub next_empty: Signal<Out, Bit>,
    /// Lengths from both sources and the selected one.
    len: Signal<Local, Bits<8>>,
    len_cur: Signal<Local, Bits<8>>,
    len_q0: Signal<Local, Bits<8>>,
    /// Bits left after the instruction with a borrow bit, from both sources and selected.
    nl9: Signal<Local, Bits<9>>,
    nl9_cur: Signal<Local, Bits<9>>,
    nl9_q0: Signal<Local, Bits<9>>,
    /// Fewer than 5 bits left after the first instruction, per source.
    short_cur: Signal<Local, Bit>,
    short_q0: Signal<Local, Bit>,
    /// Each source shifted past its first instruction (only the next opcode is used).
    sh_cur: Signal<Local, Bits<64>>,
    sh_q0: Signal<Local, Bits<64>>,
    /// The source is used up after its first instruction.
    e_cur: Signal<Local, Bit>,
    e_q0: Signal<Local, Bit>,
    /// Mask of the instruction's bits.
    mask: Signal<Local, Bits<64>>,
    /// The word decoded from.
    src: Signal<Local, Bits<64>>,
}

impl Default for WordDecode {
    fn default() -> Self {
        let mut lens = Bits::<256>::default();
        for o in TABLE {
            for b in 0..8 {
                lens = lens.replace_bit(o.code as usize * 8 + b, (o.len() >> b) & 1 == 1);
            }
        }
        block_with_defaults!(WordDecode {
            lens: Constant::new(lens),
        } defaults {
            cur, left, empty, head, head_ok, src_ok, op, payload, legal, overrun, src_dist, src_slot,
            cur_dist, cur_count0, next_cur, next_left, next_empty, len, len_cur, len_q0, nl9, nl9_cur,
            nl9_q0, short_cur, short_q0, sh_cur, sh_q0, e_cur, e_q0, mask, src,
        })
    }
}

impl Logic for WordDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.cur_dist.next = self.cur.val().get_value_repeat_dist();
        self.cur_count0.next = !self.cur.val().get_value_repeat_count().any();
        // Lengths and bits left for both sources, then the select.
        self.len_cur.next = self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.cur.val().get_value_opcode()) << 3).index());
        self.len_q0.next = self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.head.val().get_value_opcode()) << 3).index());
        self.nl9_cur.next = bit_cast::<9, 8>(self.left.val()) - bit_cast::<9, 8>(self.len_cur.val());
        self.nl9_q0.next = bits::<9>(64) - bit_cast::<9, 8>(self.len_q0.val());
        if self.empty.val() {
            self.src.next = self.head.val();
            self.src_ok.next = self.head_ok.val();
            self.len.next = self.len_q0.val();
            self.nl9.next = self.nl9_q0.val();
        } else {
            self.src.next = self.cur.val();
            self.src_ok.next = true;
            self.len.next = self.len_cur.val();
            self.nl9.next = self.nl9_cur.val();
        }
        self.op.next = self.src.val().get_value_opcode();
        self.src_dist.next = self.src.val().get_value_repeat_dist();
        self.src_slot.next = self.src.val().get_value_add_slot();
        self.legal.next = self.len.val().any();
        self.overrun.next = self.nl9.val().get_bit(8);
        // Used up after the instruction: NOP at the head, or fewer than 5 bits left (`< 5` as
        // gates, no carry chain), for each source before the select.
        self.short_cur.next = !self.nl9_cur.val().get_bits::<5>(3).any()
            & !(self.nl9_cur.val().get_bit(2) & (self.nl9_cur.val().get_bit(1) | self.nl9_cur.val().get_bit(0)));
        self.short_q0.next = !self.nl9_q0.val().get_bits::<5>(3).any()
            & !(self.nl9_q0.val().get_bit(2) & (self.nl9_q0.val().get_bit(1) | self.nl9_q0.val().get_bit(0)));
        self.sh_cur.next = self.cur.val() >> self.len_cur.val();
        self.sh_q0.next = self.head.val() >> self.len_q0.val();
        self.e_cur.next =
            !self.cur.val().get_value_opcode().any() | self.short_cur.val() | !self.sh_cur.val().get_value_opcode().any();
        self.e_q0.next =
            !self.head.val().get_value_opcode().any() | self.short_q0.val() | !self.sh_q0.val().get_value_opcode().any();
        // (A shifted constant, not 2^len − 1: no 64-bit carry chain.)
        if self.len.val().get_bit(6) | self.len.val().get_bit(7) {
            self.mask.next = !bits::<64>(0);
        } else {
            self.mask.next = !(!bits::<64>(0) << self.len.val().get_bits::<6>(0));
        }
        self.payload.next = self.src.val() & self.mask.val();
        self.next_cur.next = self.src.val() >> self.len.val();
        self.next_left.next = self.nl9.val().get_bits::<8>(0);
        if self.empty.val() {
            self.next_empty.next = self.e_q0.val();
        } else {
            self.next_empty.next = self.e_cur.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_isa::compress::pack;
    use accelgen_isa::{Instr, END, TABLE};
    use crate::testutil::Rng;

    /// Random programs packed by the software packer (`accelgen_isa::compress::pack`), decoded by
    /// feeding the decode's next values back as its registers (the head always offering the next
    /// word): the instructions come out in program order with their bits.
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
            let (mut cur, mut left, mut empty, mut next) = (bits::<64>(0), bits::<8>(0), true, 0usize);
            let mut got = vec![];
            while got.len() < prog.len() && next <= words.len() {
                d.cur.next = cur;
                d.left.next = left;
                d.empty.next = empty;
                d.head.next = words.get(next).copied().unwrap_or(0).into();
                d.head_ok.next = next < words.len();
                assert!(simulate(&mut d, 100), "settles");
                if !d.src_ok.val() {
                    break;
                }
                if empty {
                    next += 1;
                }
                if d.op.val().any() {
                    assert!(d.legal.val() && !d.overrun.val(), "round {round}");
                    got.push(d.payload.val());
                }
                (cur, left, empty) = (d.next_cur.val(), d.next_left.val(), d.next_empty.val());
            }
            let want: Vec<Bits<64>> = prog.iter().map(|i| bits::<64>(i.encode() as u64)).collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}
