//! # RepeatCopy: the instruction a `REPEAT` copy issues
//!
//! A copy of `cc` (the instruction dist back) is `cc` itself, except that a transfer continues its
//! address progression when `pp` (2·dist back) exists (`cont_ok`) and is the same transfer opcode
//! on the same target: address 2·cc.addr − pp.addr (26 bits, wrapping), as the software
//! compressor's `continue_copy` defines it (docs/isa.md). Also out: whether the copy is a transfer
//! and its slot fields (slot, address, words) for the slot registers, formed here next to the
//! instruction (timing: not decoded again from the selected instruction).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `cc`, `pp`, `cont_ok` | in | 64, 33, 1 | the copy source, the instruction a period earlier, whether that one exists |
//! | `x` | out | 64 | the instruction issued |
//! | `is_tr`, `slot`, `addr`, `words` | out | 1, 8, 26, 20 | it is a transfer; its slot fields |

use crate::isa::{opcode_const, InstrFields};
use rust_hdl::prelude::*;

/// The copy rule (combinational).
#[derive(LogicBlock)]
pub struct RepeatCopy {
    /// The copy source.
    pub cc: Signal<In, Bits<64>>,
    /// The instruction a period earlier (33 low bits).
    pub pp: Signal<In, Bits<33>>,
    /// That instruction exists.
    pub cont_ok: Signal<In, Bit>,
    /// The instruction issued.
    pub x: Signal<Out, Bits<64>>,
    /// It is a transfer.
    pub is_tr: Signal<Out, Bit>,
    /// Its slot.
    pub slot: Signal<Out, Bits<8>>,
    /// Its address.
    pub addr: Signal<Out, Bits<26>>,
    /// Its word count.
    pub words: Signal<Out, Bits<20>>,
    op_load: Constant<Bits<5>>,
    op_store: Constant<Bits<5>>,
    /// The address is continued.
    cont: Signal<Local, Bit>,
    /// Addresses of the copy, of the one a period earlier, continued; load and store layouts.
    ca_ld: Signal<Local, Bits<26>>,
    pa_ld: Signal<Local, Bits<26>>,
    na_ld: Signal<Local, Bits<26>>,
    ca_st: Signal<Local, Bits<26>>,
    pa_st: Signal<Local, Bits<26>>,
    na_st: Signal<Local, Bits<26>>,
    na_ld64: Signal<Local, Bits<64>>,
    na_st64: Signal<Local, Bits<64>>,
}

impl Default for RepeatCopy {
    fn default() -> Self {
        block_with_defaults!(RepeatCopy {
            op_load: opcode_const("MEM_LOAD"),
            op_store: opcode_const("MEM_STORE"),
        } defaults {
            cc, pp, cont_ok, x, is_tr, slot, addr, words, cont, ca_ld, pa_ld, na_ld, ca_st, pa_st,
            na_st, na_ld64, na_st64,
        })
    }
}

// The continued address is written back by shifting it to the `addr` fields' positions.
const _: () = {
    use accelgen_isa::field;
    assert!(field("MEM_LOAD", "addr").offset == 7 && field("MEM_STORE", "addr").offset == 6);
    assert!(field("MEM_LOAD", "addr").bits == 26 && field("MEM_STORE", "addr").bits == 26);
};

impl Logic for RepeatCopy {
    #[hdl_gen]
    fn update(&mut self) {
        self.ca_ld.next = self.cc.val().get_value_load_addr();
        self.pa_ld.next = self.pp.val().get_value_load_addr();
        self.na_ld.next = (self.ca_ld.val() << 1) - self.pa_ld.val();
        self.ca_st.next = self.cc.val().get_value_store_addr();
        self.pa_st.next = self.pp.val().get_value_store_addr();
        self.na_st.next = (self.ca_st.val() << 1) - self.pa_st.val();
        self.na_ld64.next = bit_cast::<64, 26>(self.na_ld.val()) << 7;
        self.na_st64.next = bit_cast::<64, 26>(self.na_st.val()) << 6;
        self.cont.next = self.cont_ok.val()
            & (self.cc.val().get_value_opcode() == self.pp.val().get_value_opcode())
            & (((self.cc.val().get_value_opcode() == self.op_load.val()) & (self.cc.val().get_value_load_target() == self.pp.val().get_value_load_target()))
                | ((self.cc.val().get_value_opcode() == self.op_store.val()) & (self.cc.val().get_value_store_source() == self.pp.val().get_value_store_source())));
        self.is_tr.next = (self.cc.val().get_value_opcode() == self.op_load.val()) | (self.cc.val().get_value_opcode() == self.op_store.val());
        // Slots: loads 0..3 by target, stores 4 + source.
        if self.cc.val().get_value_opcode() == self.op_load.val() {
            self.slot.next = bit_cast::<8, 2>(self.cc.val().get_value_load_target());
            self.words.next = self.cc.val().get_value_load_words();
            if self.cont.val() {
                self.addr.next = self.na_ld.val();
            } else {
                self.addr.next = self.ca_ld.val();
            }
        } else {
            self.slot.next = bit_cast::<8, 1>(self.cc.val().get_value_store_source()) | bits::<8>(4);
            self.words.next = self.cc.val().get_value_store_words();
            if self.cont.val() {
                self.addr.next = self.na_st.val();
            } else {
                self.addr.next = self.ca_st.val();
            }
        }
        if self.cont.val() & (self.cc.val().get_value_opcode() == self.op_load.val()) {
            self.x.next = (self.cc.val() & !(bits::<64>(0x3ff_ffff) << 7)) | self.na_ld64.val();
        } else if self.cont.val() {
            self.x.next = (self.cc.val() & !(bits::<64>(0x3ff_ffff) << 6)) | self.na_st64.val();
        } else {
            self.x.next = self.cc.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use accelgen_isa::compress::continue_copy;
    use accelgen_isa::Instr;

    fn random_instr(rng: &mut Rng) -> Instr {
        let names = ["MEM_LOAD", "MEM_STORE", "PE_SHAPE", "POOL_CLOCK"];
        let name = names[rng.below(names.len() as u64) as usize];
        let info = accelgen_isa::op_named(name).unwrap();
        let values: Vec<u64> = info.fields.iter().map(|f| rng.below(1 << f.bits.min(26))).collect();
        Instr::new(name, &values).unwrap()
    }

    /// Random pairs (transfers on the same or another target, other instructions, with and
    /// without a period-earlier instruction): the issued instruction is the software rule's
    /// `continue_copy`, and the slot fields are those of the issued transfer.
    #[test]
    fn copies_follow_the_software_rule() {
        let mut rng = Rng::from_env("repeat-copy", 67);
        let mut b = RepeatCopy::default();
        b.connect_all();
        check_all(&b).unwrap();
        for _ in 0..3000 {
            let c = random_instr(&mut rng);
            let mut p = random_instr(&mut rng);
            if rng.below(2) == 0 {
                p = Instr { code: c.code, values: c.values.clone() };
                let at = 1.min(p.values.len().saturating_sub(1));
                if !p.values.is_empty() && rng.below(2) == 0 {
                    p.values[at] = rng.below(1 << 20);
                }
            }
            let exists = rng.below(4) > 0;
            b.cc.next = (c.encode() as u64).into();
            b.pp.next = ((p.encode() as u64) & ((1 << 33) - 1)).into();
            b.cont_ok.next = exists;
            assert!(simulate(&mut b, 100), "settles");
            let want = continue_copy(&c, exists.then_some(&p));
            assert_eq!(b.x.val(), bits::<64>(want.encode() as u64), "{c:?} after {p:?} (exists {exists})");
            let is_tr = matches!(c.info().name, "MEM_LOAD" | "MEM_STORE");
            assert_eq!(b.is_tr.val(), is_tr);
            if is_tr {
                let slot = if c.info().name == "MEM_LOAD" { want.values[0] } else { 4 + want.values[0] };
                assert_eq!((b.slot.val(), b.addr.val(), b.words.val()), (bits::<8>(slot), bits::<26>(want.values[1]), bits::<20>(want.values[2])));
            }
        }
    }
}
