//! # SlotFile: the address and word count of each slot's last issued transfer (for `MEM_ADD`)
//!
//! `MEM_ADD slot, delta` stands for the transfer of its slot (loads 0–3 by target, stores 4–5 by
//! source) at the last issued address of that slot plus delta, with its word count (docs/isa.md).
//! Each issued transfer is `put` into its slot a cycle later (timing: the write follows the issue
//! by a register, `pend_*`), so a `MEM_ADD` issued right behind it must take it from the pending
//! register. For the instruction the unpacker decodes (`look_slot`), the slot's fields after this
//! cycle's pending write are registered (`found_*`, timing: the select by slot happens in the
//! decode cycle). Slots 6 and 7 exist (any 3-bit field indexes inside); no transfer writes them.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `start`, `hold` | in | 1 | clock; a run starts (all slots 0); freeze |
//! | `put`, `put_slot`, `put_addr`, `put_words` | in | 1, 8, 26, 20 | a transfer is issued this cycle |
//! | `look_slot` | in | 3 | the slot field of the instruction decoded this cycle |
//! | `pend_valid`, `pend_slot`, `pend_addr`, `pend_words` | out | 1, 8, 26, 20 | last cycle's transfer, not yet in its slot |
//! | `found_addr`, `found_words` | out | 26, 20 | the looked-up slot's fields, a cycle after the look |

use rust_hdl::prelude::*;

/// The slot registers.
#[derive(LogicBlock)]
pub struct SlotFile {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// Freeze.
    pub hold: Signal<In, Bit>,
    /// A transfer is issued.
    pub put: Signal<In, Bit>,
    /// Its slot.
    pub put_slot: Signal<In, Bits<8>>,
    /// Its address.
    pub put_addr: Signal<In, Bits<26>>,
    /// Its word count.
    pub put_words: Signal<In, Bits<20>>,
    /// The slot to look up.
    pub look_slot: Signal<In, Bits<3>>,
    /// A transfer waits to enter its slot.
    pub pend_valid: Signal<Out, Bit>,
    /// Its slot.
    pub pend_slot: Signal<Out, Bits<8>>,
    /// Its address.
    pub pend_addr: Signal<Out, Bits<26>>,
    /// Its word count.
    pub pend_words: Signal<Out, Bits<20>>,
    /// The looked-up slot's address.
    pub found_addr: Signal<Out, Bits<26>>,
    /// Its word count.
    pub found_words: Signal<Out, Bits<20>>,
    /// Ones in the low 32 bits: one slot's field (a constant: `!` on a widened value would invert
    /// the widening bits in Verilog).
    slot_mask: Constant<Bits<256>>,
    /// Per slot (32 bits each, 8 slots), the address and word count of the last transfer.
    s_addr: DFF<Bits<256>>,
    s_words: DFF<Bits<256>>,
    sp_valid: DFF<Bit>,
    sp_slot: DFF<Bits<8>>,
    sp_addr: DFF<Bits<26>>,
    sp_words: DFF<Bits<20>>,
    mb_addr: DFF<Bits<26>>,
    mb_words: DFF<Bits<20>>,
    /// The pending write's field mask and values in slot position; the looked-up field's offset.
    sp_mask256: Signal<Local, Bits<256>>,
    sp_addr256: Signal<Local, Bits<256>>,
    sp_words256: Signal<Local, Bits<256>>,
    look_off: Signal<Local, Bits<8>>,
}

impl Default for SlotFile {
    fn default() -> Self {
        block_with_defaults!(SlotFile {
            slot_mask: Constant::new(bit_cast::<256, 32>(!bits::<32>(0))),
        } defaults {
            clock, start, hold, put, put_slot, put_addr, put_words, look_slot, pend_valid, pend_slot,
            pend_addr, pend_words, found_addr, found_words, s_addr, s_words, sp_valid, sp_slot,
            sp_addr, sp_words, mb_addr, mb_words, sp_mask256, sp_addr256, sp_words256, look_off,
        })
    }
}

impl Logic for SlotFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s_addr, s_words, sp_valid, sp_slot, sp_addr, sp_words, mb_addr, mb_words);
        self.pend_valid.next = self.sp_valid.q.val();
        self.pend_slot.next = self.sp_slot.q.val();
        self.pend_addr.next = self.sp_addr.q.val();
        self.pend_words.next = self.sp_words.q.val();
        self.found_addr.next = self.mb_addr.q.val();
        self.found_words.next = self.mb_words.q.val();
        self.sp_mask256.next = self.slot_mask.val() << (self.sp_slot.q.val() << 5);
        self.sp_addr256.next = bit_cast::<256, 26>(self.sp_addr.q.val()) << (self.sp_slot.q.val() << 5);
        self.sp_words256.next = bit_cast::<256, 20>(self.sp_words.q.val()) << (self.sp_slot.q.val() << 5);
        self.sp_valid.d.next = false;
        if self.sp_valid.q.val() {
            self.s_addr.d.next = (self.s_addr.q.val() & !self.sp_mask256.val()) | self.sp_addr256.val();
            self.s_words.d.next = (self.s_words.q.val() & !self.sp_mask256.val()) | self.sp_words256.val();
        }
        if self.put.val() {
            self.sp_valid.d.next = true;
            self.sp_slot.d.next = self.put_slot.val();
            self.sp_addr.d.next = self.put_addr.val();
            self.sp_words.d.next = self.put_words.val();
        }
        self.look_off.next = bit_cast::<8, 3>(self.look_slot.val()) << 5;
        if self.sp_valid.q.val() & (self.sp_slot.q.val() == bit_cast::<8, 3>(self.look_slot.val())) {
            self.mb_addr.d.next = self.sp_addr.q.val();
            self.mb_words.d.next = self.sp_words.q.val();
        } else {
            self.mb_addr.d.next = self.s_addr.q.val().get_bits::<26>(self.look_off.val().index());
            self.mb_words.d.next = self.s_words.q.val().get_bits::<20>(self.look_off.val().index());
        }
        if self.hold.val() {
            self.s_addr.d.next = self.s_addr.q.val();
            self.s_words.d.next = self.s_words.q.val();
            self.sp_valid.d.next = self.sp_valid.q.val();
            self.sp_slot.d.next = self.sp_slot.q.val();
            self.sp_addr.d.next = self.sp_addr.q.val();
            self.sp_words.d.next = self.sp_words.q.val();
            self.mb_addr.d.next = self.mb_addr.q.val();
            self.mb_words.d.next = self.mb_words.q.val();
        }
        if self.start.val() {
            self.s_addr.d.next = 0.into();
            self.s_words.d.next = 0.into();
            self.sp_valid.d.next = false;
        }
    }
}

crate::clocked!(SlotFile);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random puts and look-ups under random holds against a table of each slot's last put:
    /// a look-up shows, a cycle later, every put issued before the look-up's cycle.
    #[test]
    fn look_ups_see_every_earlier_put() {
        let mut rng = Rng::from_env("slot-file", 53);
        let mut h = Harness::new(SlotFile::default()).unwrap();
        h.uut.start.next = true;
        h.step().unwrap();
        h.uut.start.next = false;
        let mut table = [(0u64, 0u64); 8];
        for step in 0..2000 {
            let hold = rng.below(5) == 0;
            let put = rng.below(2) == 0;
            let (slot, addr, words, look) = (rng.below(6), rng.below(1 << 26), rng.below(1 << 20), rng.below(8));
            let u = &mut h.uut;
            u.hold.next = hold;
            u.put.next = put && !hold;
            u.put_slot.next = slot.into();
            u.put_addr.next = addr.into();
            u.put_words.next = words.into();
            u.look_slot.next = look.into();
            let want = table[look as usize];
            h.step().unwrap();
            if !hold {
                let u = &h.uut;
                assert_eq!((u.found_addr.val(), u.found_words.val()), (bits::<26>(want.0), bits::<20>(want.1)), "step {step} slot {look}");
                if put {
                    table[slot as usize] = (addr, words);
                }
            }
        }
    }
}
