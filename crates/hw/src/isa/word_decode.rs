//! # WordDecode: the unpacker's combinational decode of one instruction
//!
//! The packed program is one bit stream (docs/isa.md, packing): an instruction starts where the
//! previous one ended and may continue into the next word; lengths are whole nibbles
//! (`accelgen_isa::ALIGN_BITS`), so an instruction starts at a multiple of 4 bits. The unpacker
//! keeps the current word as it came (`w0`, bits 4..=63: bits 0..3 never start an instruction)
//! and the position p of the next instruction in it as `pq` = p/4 − 1 (0..=15; 15 is position
//! 64: the word is used up, decode from the queue head), and decodes from the window `head ++
//! w0` from the position on. A `NOP` (opcode 0) is eight bits that issue nothing.
//!
//! **Timing: the loop starts from a register of six bits, through a 16-to-1 pick.** For every
//! position p (4, 8, …, 64) a table entry is formed beside the others from the five opcode bits
//! at p alone ([`PositionTable`]: a constant table per position, built from the opcode table
//! `accelgen_isa::TABLE`): the next position, whether the instruction takes the head (p + length >
//! 64) and whether it fits without the head (p ≤ 56 and no take: its opcode bits are in `w0`). The decompressor keeps the
//! entry of the current position in the current words as a register (`ent`), formed the cycle
//! before by [`EntryPick`] from the candidate tables of the next cycle's words: the step, the
//! head's take and `src_ok` come straight from flip-flops, and the table selects run beside
//! them. The shifter feeds only the decoded fields.
//!
//! From the unpacker's registers in the [`InstrDecompressor`](crate::isa::InstrDecompressor) and
//! the queue head: the instruction decoded this cycle (`src_ok`, `op`, `payload`: the window from
//! the instruction on, `len` from the opcode table) and the position registers' next values,
//! formed whatever the instruction is (timing: the decompressor stops on an error). `src_ok` is
//! low while the instruction (or its opcode, past bit 59) needs the head and there is none; `len`
//! is 0 for an opcode the table does not have. Purely combinational, with no control input: the
//! registers' updates (step, start, hold) are the parent's, so no output of this block depends on
//! them (docs/architecture.md, the rule on false loops).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `w0`, `pq`, `ent` | in | 60, 4, 8 | the unpacker's registers (`ent`: the table entry at `pq`) |
//! | `head`, `head_ok` | in | 64, 1 | the queue's head |
//! | `next_pq`, `take` | out | 4, 1 | the position after this instruction (`pq` form); it takes the head (the head becomes `w0`) |
//! | `src_ok` | out | 1 | the instruction's bits are all there |
//! | `op`, `payload`, `len` | out | 5, 64, 8 | the decoded instruction (its bits and the next ones' above `len`) |
//! | `src_dist`, `src_slot`, `src_count0` | out | 8, 3, 1 | look-ahead fields for the expander (the window's `REPEAT.dist`, `MEM_ADD.slot`, `REPEAT.count` = 0, read whatever the opcode) |

use crate::isa::InstrFields;
use accelgen_isa::TABLE;
use rust_hdl::prelude::*;

/// Positions in the table: 4, 8, …, 64, entry p/4 − 1.
const POSITIONS: usize = 16;
/// Bits of a table entry: next position/4 − 1 (4), take (1), fits without the head (1).
pub const ENTRY: usize = 6;
/// Entries are 8 bits apart in the tables (the pick's offset is a shift).
const SPACING: usize = 8;
/// Bits of every position's entry.
pub const TABLE_BITS: usize = POSITIONS * SPACING;

/// The table entry of every opcode at position `p`: 32 entries of [`ENTRY`] bits, 8 apart.
fn position_table(p: usize) -> Bits<256> {
    assert!(p % 4 == 0 && (4..=64).contains(&p));
    let mut t = Bits::<256>::default();
    for o in TABLE {
        let len = o.len() as usize;
        assert!(len % 4 == 0, "{}: instruction lengths are whole nibbles", o.name);
        let end = p + len;
        let take = end > 64;
        let next = if take { end - 64 } else { end };
        let fits = p + 5 <= 64 && !take;
        let e = (next / 4 - 1) as u64 | (take as u64) << 4 | (fits as u64) << 5;
        for b in 0..ENTRY {
            t = t.replace_bit(o.code as usize * SPACING + b, (e >> b) & 1 == 1);
        }
    }
    t
}

/// The table entry at position `pq` of a table (a 16-to-1 select; the decompressor forms the
/// next cycle's entry with it, so the position loop starts from a register).
#[derive(LogicBlock)]
pub struct EntryPick {
    /// Every position's entry ([`PositionTable`]).
    pub tab: Signal<In, Bits<TABLE_BITS>>,
    /// The position (p/4 − 1).
    pub pq: Signal<In, Bits<4>>,
    /// Its entry.
    pub ent: Signal<Out, Bits<ENTRY>>,
}

impl Default for EntryPick {
    fn default() -> Self {
        block_with_defaults!(EntryPick {} defaults { tab, pq, ent })
    }
}

impl Logic for EntryPick {
    #[hdl_gen]
    fn update(&mut self) {
        self.ent.next = self.tab.val().get_bits::<ENTRY>((bit_cast::<7, 4>(self.pq.val()) << 3).index());
    }
}

/// One position's table entry, placed at its offset in the vector of entries (a block of its own:
/// rust-hdl sizes a `bit_cast` in Rust, outside the parent's loop over positions).
#[derive(LogicBlock)]
pub struct PositionEntry {
    /// The five opcode bits at the position.
    pub op: Signal<In, Bits<5>>,
    /// The entry, at bits `(p/4 − 1) · 8` (zero elsewhere).
    pub placed: Signal<Out, Bits<TABLE_BITS>>,
    /// The position's table.
    tab: Constant<Bits<256>>,
    /// (p/4 − 1) · 8.
    at: Constant<Bits<8>>,
    /// The entry (a signal: rust-hdl widens a signal by concatenation, an expression with a
    /// width warning).
    e: Signal<Local, Bits<ENTRY>>,
}

impl PositionEntry {
    fn new(p: usize) -> Self {
        block_with_defaults!(PositionEntry {
            tab: Constant::new(position_table(p)),
            at: Constant::new((((p / 4 - 1) * SPACING) as u64).into()),
        } defaults { op, placed, e })
    }
}

impl Logic for PositionEntry {
    #[hdl_gen]
    fn update(&mut self) {
        self.e.next = self.tab.val().get_bits::<ENTRY>((bit_cast::<8, 5>(self.op.val()) << 3).index());
        self.placed.next = bit_cast::<TABLE_BITS, ENTRY>(self.e.val()) << self.at.val();
    }
}

/// The unpacker's table for one pair of words: every position's entry (next position, takes the
/// head, fits without the head) for the current word `w0` and the head `head`, position p at
/// bits `(p/4 − 1) · 8`. Purely combinational; the decompressor registers one of two such tables
/// each cycle (the next cycle's words if the head stays, and if it is taken now), so the
/// position loop starts from a register.
#[derive(LogicBlock)]
pub struct PositionTable {
    /// The current word's bits 4..=63 (bits 0..3 never start an instruction) and the head's
    /// first five (the last opcode bits a position reads).
    pub w0: Signal<In, Bits<60>>,
    pub head: Signal<In, Bits<5>>,
    /// Every position's entry.
    pub tab: Signal<Out, Bits<TABLE_BITS>>,
    ents: Vec<PositionEntry>,
    /// The window up to the last opcode bit; the entries gathered; none.
    wop: Signal<Local, Bits<65>>,
    all: Signal<Local, Bits<TABLE_BITS>>,
    zero: Constant<Bits<TABLE_BITS>>,
}

impl Default for PositionTable {
    fn default() -> Self {
        block_with_defaults!(PositionTable {
            ents: (1..=POSITIONS).map(|q| PositionEntry::new(4 * q)).collect(),
            zero: Constant::new(Bits::<TABLE_BITS>::default()),
        } defaults { w0, head, tab, wop, all })
    }
}

impl Logic for PositionTable {
    #[hdl_gen]
    fn update(&mut self) {
        self.wop.next = bit_cast::<65, 60>(self.w0.val()) | (bit_cast::<65, 5>(self.head.val()) << 60);
        self.all.next = self.zero.val();
        for i in 0..16 {
            self.ents[i].op.next = self.wop.val().get_bits::<5>(4 * i);
            self.all.next = self.all.val() | self.ents[i].placed.val();
        }
        self.tab.next = self.all.val();
    }
}

/// The decode of 64-bit words.
#[derive(LogicBlock)]
pub struct WordDecode {
    /// The current word as it came, bits 4..=63 (bits 0..3 never start an instruction).
    pub w0: Signal<In, Bits<60>>,
    /// Bit position p of the next instruction in it as p/4 − 1 (0..=15; 15: decode from the head).
    pub pq: Signal<In, Bits<4>>,
    /// The queue's head.
    pub head: Signal<In, Bits<64>>,
    /// There is a head.
    pub head_ok: Signal<In, Bit>,
    /// The table entry of position `pq` for `w0` and `head` (a register of the parent).
    pub ent: Signal<In, Bits<ENTRY>>,
    /// The instruction's bits are all there.
    pub src_ok: Signal<Out, Bit>,
    /// Decoded opcode.
    pub op: Signal<Out, Bits<5>>,
    /// The window from the instruction on: its bits, and the next ones' above its length (the
    /// parent masks them after its decode register).
    pub payload: Signal<Out, Bits<64>>,
    /// The instruction's length (0: an opcode the table does not have).
    pub len: Signal<Out, Bits<8>>,
    /// Look-ahead fields for the expander: the window's `REPEAT.dist`, `MEM_ADD.slot` and whether
    /// its `REPEAT.count` is 0 (read whatever the opcode; used only when it is that instruction).
    pub src_dist: Signal<Out, Bits<8>>,
    /// See `src_dist`.
    pub src_slot: Signal<Out, Bits<3>>,
    /// See `src_dist`.
    pub src_count0: Signal<Out, Bit>,
    /// The position after the instruction (`pq` form).
    pub next_pq: Signal<Out, Bits<4>>,
    /// The instruction runs past `w0` (or starts in the head): the head becomes the current word.
    pub take: Signal<Out, Bit>,
    /// Length (8 bits) of each of the 32 opcodes, 0 = illegal.
    lens: Constant<Bits<256>>,
    /// The window `head ++ w0` from bit 4 (position p at bit p − 4); from the position on.
    win: Signal<Local, Bits<124>>,
    pi: Signal<Local, Bits<7>>,
    fw: Signal<Local, Bits<64>>,
}

impl Default for WordDecode {
    fn default() -> Self {
        // The window is two words: an instruction at position ≤ 64 fits `head ++ w0`.
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
            w0, pq, head, head_ok, ent, src_ok, op, payload, len, src_dist, src_slot, src_count0,
            next_pq, take, win, pi, fw,
        })
    }
}

impl Logic for WordDecode {
    #[hdl_gen]
    fn update(&mut self) {
        // The position loop: the entry register's fields.
        self.next_pq.next = self.ent.val().get_bits::<4>(0);
        self.take.next = self.ent.val().get_bit(4);
        self.src_ok.next = self.head_ok.val() | self.ent.val().get_bit(5);
        // The fields: the window from the position on (a 16-to-1 select of nibble offsets).
        self.win.next = bit_cast::<124, 60>(self.w0.val()) | (bit_cast::<124, 64>(self.head.val()) << 60);
        self.pi.next = bit_cast::<7, 4>(self.pq.val()) << 2;
        self.fw.next = self.win.val().get_bits::<64>(self.pi.val().index());
        self.op.next = self.fw.val().get_value_opcode();
        self.len.next = self.lens.val().get_bits::<8>((bit_cast::<8, 5>(self.fw.val().get_value_opcode()) << 3).index());
        self.src_dist.next = self.fw.val().get_value_repeat_dist();
        self.src_slot.next = self.fw.val().get_value_add_slot();
        self.src_count0.next = !self.fw.val().get_value_repeat_count().any();
        self.payload.next = self.fw.val();
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
    /// and the entry of the current words' table ([`PositionTable`], [`EntryPick`]) as its entry
    /// (the head always offering the next word): the instructions come out in program order with their bits.
    /// Checks every position's table entry too: a wrong next position, take or fit bit at any
    /// position breaks the order or the bits.
    #[test]
    fn packed_programs_decode_in_order() {
        let mut rng = Rng::from_env("word-decode", 61);
        let mut d = WordDecode::default();
        d.connect_all();
        check_all(&d).unwrap();
        let mut t = PositionTable::default();
        t.connect_all();
        check_all(&t).unwrap();
        let mut pick = EntryPick::default();
        pick.connect_all();
        check_all(&pick).unwrap();
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
            // The start state: no current word, decode from the head (position 64, `pq` 15).
            let (mut w0, mut pq, mut next) = (bits::<60>(0), bits::<4>(15), 0usize);
            let mut got = vec![];
            while got.len() < prog.len() && next <= words.len() {
                let head: Bits<64> = words.get(next).copied().unwrap_or(0).into();
                t.w0.next = w0;
                t.head.next = head.get_bits::<5>(0);
                assert!(simulate(&mut t, 100), "settles");
                pick.tab.next = t.tab.val();
                pick.pq.next = pq;
                assert!(simulate(&mut pick, 100), "settles");
                d.ent.next = pick.ent.val();
                d.w0.next = w0;
                d.pq.next = pq;
                d.head.next = head;
                d.head_ok.next = next < words.len();
                assert!(simulate(&mut d, 100), "settles");
                if !d.src_ok.val() {
                    break;
                }
                if d.take.val() {
                    w0 = head.get_bits::<60>(4);
                    next += 1;
                }
                let len = d.len.val().index();
                assert!((1..=64).contains(&len), "round {round}: length {len}");
                if d.op.val().any() {
                    let mask = if len == 64 { u64::MAX } else { (1u64 << len) - 1 };
                    got.push(d.payload.val() & bits::<64>(mask));
                }
                pq = d.next_pq.val();
            }
            let want: Vec<Bits<64>> = prog.iter().map(|i| bits::<64>(i.encode() as u64)).collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}
