//! # MemAddExpand: a `MEM_ADD` becomes its full transfer
//!
//! `MEM_ADD slot, delta` is the transfer of its slot (loads 0–3 by target, stores 4 + source) at
//! the slot's last address plus the sign-extended 18-bit delta (26 bits, wrapping), with the
//! slot's word count (docs/isa.md). The slot's fields come from [`SlotFile`](crate::isa::SlotFile):
//! the registered look-up (`found_*`), or the transfer issued last cycle when it is of the same
//! slot (`pend_*`); both sums are formed, then the slot compare picks one (timing). Slots 6 and 7
//! hold no transfer: `bad`.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `slot_in`, `delta` | in | 3, 18 | the `MEM_ADD`'s fields |
//! | `found_addr`, `found_words` | in | 26, 20 | its slot's fields as looked up |
//! | `pend_valid`, `pend_slot`, `pend_addr`, `pend_words` | in | 1, 8, 26, 20 | the transfer not yet in its slot |
//! | `x`, `slot`, `addr`, `words`, `bad` | out | 64, 8, 26, 20, 1 | the transfer, its slot fields, an unknown slot |

use rust_hdl::prelude::*;

/// The expansion (combinational).
#[derive(LogicBlock)]
pub struct MemAddExpand {
    /// The `MEM_ADD`'s slot field.
    pub slot_in: Signal<In, Bits<3>>,
    /// Its delta field.
    pub delta: Signal<In, Bits<18>>,
    /// Its slot's address as looked up.
    pub found_addr: Signal<In, Bits<26>>,
    /// Its slot's word count as looked up.
    pub found_words: Signal<In, Bits<20>>,
    /// A transfer waits to enter its slot.
    pub pend_valid: Signal<In, Bit>,
    /// Its slot.
    pub pend_slot: Signal<In, Bits<8>>,
    /// Its address.
    pub pend_addr: Signal<In, Bits<26>>,
    /// Its word count.
    pub pend_words: Signal<In, Bits<20>>,
    /// The transfer.
    pub x: Signal<Out, Bits<64>>,
    /// Its slot.
    pub slot: Signal<Out, Bits<8>>,
    /// Its address.
    pub addr: Signal<Out, Bits<26>>,
    /// Its word count.
    pub words: Signal<Out, Bits<20>>,
    /// The slot holds no transfer.
    pub bad: Signal<Out, Bit>,
    /// The transfer opcodes, 64 bits wide (the instruction is assembled in 64 bits).
    op_load: Constant<Bits<64>>,
    op_store: Constant<Bits<64>>,
    delta26: Signal<Local, Bits<26>>,
    sum_found: Signal<Local, Bits<26>>,
    sum_pend: Signal<Local, Bits<26>>,
    addr64: Signal<Local, Bits<64>>,
    words64: Signal<Local, Bits<64>>,
    tgt64: Signal<Local, Bits<64>>,
}

impl Default for MemAddExpand {
    fn default() -> Self {
        block_with_defaults!(MemAddExpand {
            op_load: Constant::new(u64::from(accelgen_isa::opcode("MEM_LOAD")).into()),
            op_store: Constant::new(u64::from(accelgen_isa::opcode("MEM_STORE")).into()),
        } defaults {
            slot_in, delta, found_addr, found_words, pend_valid, pend_slot, pend_addr, pend_words, x,
            slot, addr, words, bad, delta26, sum_found, sum_pend, addr64, words64, tgt64,
        })
    }
}

// The transfer is assembled by shifting its fields to the table's positions.
const _: () = {
    use accelgen_isa::field;
    assert!(field("MEM_LOAD", "addr").offset == 7 && field("MEM_LOAD", "words").offset == 33);
    assert!(field("MEM_STORE", "addr").offset == 6 && field("MEM_STORE", "words").offset == 32);
    assert!(field("MEM_LOAD", "target").offset == 5 && field("MEM_STORE", "source").offset == 5);
    assert!(field("MEM_ADD", "delta").bits == 18);
};

impl Logic for MemAddExpand {
    #[hdl_gen]
    fn update(&mut self) {
        self.slot.next = bit_cast::<8, 3>(self.slot_in.val());
        self.bad.next = self.slot_in.val().get_bit(2) & self.slot_in.val().get_bit(1);
        if self.delta.val().get_bit(17) {
            self.delta26.next = bit_cast::<26, 18>(self.delta.val()) - bits::<26>(262_144);
        } else {
            self.delta26.next = bit_cast::<26, 18>(self.delta.val());
        }
        self.sum_found.next = self.found_addr.val() + self.delta26.val();
        self.sum_pend.next = self.pend_addr.val() + self.delta26.val();
        if self.pend_valid.val() & (self.pend_slot.val() == bit_cast::<8, 3>(self.slot_in.val())) {
            self.addr.next = self.sum_pend.val();
            self.words.next = self.pend_words.val();
        } else {
            self.addr.next = self.sum_found.val();
            self.words.next = self.found_words.val();
        }
        self.addr64.next = bit_cast::<64, 26>(self.addr.val());
        self.words64.next = bit_cast::<64, 20>(self.words.val());
        self.tgt64.next = bit_cast::<64, 2>(self.slot_in.val().get_bits::<2>(0)) << 5;
        if !self.slot_in.val().get_bit(2) {
            self.x.next = self.op_load.val() | self.tgt64.val() | (self.addr64.val() << 7) | (self.words64.val() << 33);
        } else {
            self.x.next = self.op_store.val() | self.tgt64.val() | (self.addr64.val() << 6) | (self.words64.val() << 32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use accelgen_isa::Instr;

    /// Random slots, deltas and slot states (pending of the same slot or not): the transfer is
    /// the one docs/isa.md defines, written with `Instr::new` from the table.
    #[test]
    fn mem_add_becomes_the_slot_transfer() {
        let mut rng = Rng::from_env("mem-add", 71);
        let mut b = MemAddExpand::default();
        b.connect_all();
        check_all(&b).unwrap();
        for _ in 0..3000 {
            let (slot, delta) = (rng.below(8), rng.below(1 << 18));
            let (fa, fw, pa, pw) = (rng.below(1 << 26), rng.below(1 << 20), rng.below(1 << 26), rng.below(1 << 20));
            let (pv, ps) = (rng.below(2) == 0, if rng.below(2) == 0 { slot } else { rng.below(8) });
            b.slot_in.next = slot.into();
            b.delta.next = delta.into();
            b.found_addr.next = fa.into();
            b.found_words.next = fw.into();
            b.pend_valid.next = pv;
            b.pend_slot.next = ps.into();
            b.pend_addr.next = pa.into();
            b.pend_words.next = pw.into();
            assert!(simulate(&mut b, 100), "settles");
            assert_eq!(b.bad.val(), slot >= 6, "slot {slot}");
            if slot >= 6 {
                continue;
            }
            let (base, words) = if pv && ps == slot { (pa, pw) } else { (fa, fw) };
            let signed = ((delta << 46) as i64 >> 46) as u64;
            let addr = base.wrapping_add(signed) & ((1 << 26) - 1);
            let want = if slot < 4 { Instr::new("MEM_LOAD", &[slot, addr, words]) } else { Instr::new("MEM_STORE", &[slot - 4, addr, words]) }.unwrap();
            assert_eq!(b.x.val(), bits::<64>(want.encode() as u64), "slot {slot} delta {delta}");
            assert_eq!((b.slot.val(), b.addr.val(), b.words.val()), (bits::<8>(slot), bits::<26>(addr), bits::<20>(words)));
        }
    }
}
