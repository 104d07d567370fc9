//! # AddRegs: the add unit's registers in `accel_top`
//!
//! `ACT_ADDK which, bits` writes one of the add unit's float32 constants (0: r_a, 1: r_b,
//! 2: fixed; 3 writes nothing: the compiler never emits it and the interpreter refuses it);
//! `ACT_ADD qmin, swap` the lowest output and the operand order. They are activation-module
//! registers (docs/isa.md), held here and driven to the data mover, which takes them when a
//! load-add (`MEM_LOADADD`) starts. A program start (`clear`) zeroes them, as reset does.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `op`, `payload` | in | 1, 5, 64 | an accepted instruction, a cycle after its acceptance |
//! | `clear` | in | 1 | a program starts: every register zero |
//! | `ra`, `rb`, `fixed` | out | 32 each | float32 bits of r_a, r_b, fixed |
//! | `qmin`, `swap` | out | 8, 1 | the lowest output (int8), the operand order |

use rust_hdl::prelude::*;

use crate::isa::{opcode_const, InstrFields};

/// The add unit's registers.
#[derive(LogicBlock)]
pub struct AddRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write the instruction's fields.
    pub we: Signal<In, Bit>,
    /// Its opcode.
    pub op: Signal<In, Bits<5>>,
    /// Its payload.
    pub payload: Signal<In, Bits<64>>,
    /// A program starts: every register zero.
    pub clear: Signal<In, Bit>,
    /// float32 bits of r_a.
    pub ra: Signal<Out, Bits<32>>,
    /// float32 bits of r_b.
    pub rb: Signal<Out, Bits<32>>,
    /// float32 bits of fixed.
    pub fixed: Signal<Out, Bits<32>>,
    /// The lowest output (int8).
    pub qmin: Signal<Out, Bits<8>>,
    /// The conv output is the second operand.
    pub swap: Signal<Out, Bit>,
    op_addk: Constant<Bits<5>>,
    op_add: Constant<Bits<5>>,
    ra_r: DFF<Bits<32>>,
    rb_r: DFF<Bits<32>>,
    fixed_r: DFF<Bits<32>>,
    qmin_r: DFF<Bits<8>>,
    swap_r: DFF<Bit>,
    /// `ACT_ADDK` is written.
    k_we: Signal<Local, Bit>,
}

impl Default for AddRegs {
    fn default() -> Self {
        block_with_defaults!(AddRegs {
            op_addk: opcode_const("ACT_ADDK"),
            op_add: opcode_const("ACT_ADD"),
        } defaults {
            clock, we, op, payload, clear, ra, rb, fixed, qmin, swap, ra_r, rb_r, fixed_r, qmin_r, swap_r, k_we,
        })
    }
}

impl Logic for AddRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ra_r, rb_r, fixed_r, qmin_r, swap_r);
        self.k_we.next = self.we.val() & (self.op.val() == self.op_addk.val());
        if self.clear.val() {
            self.ra_r.d.next = 0.into();
            self.rb_r.d.next = 0.into();
            self.fixed_r.d.next = 0.into();
            self.qmin_r.d.next = 0.into();
            self.swap_r.d.next = false;
        } else {
            if self.k_we.val() & (self.payload.val().get_value_addk_which() == 0) {
                self.ra_r.d.next = self.payload.val().get_value_addk_bits();
            }
            if self.k_we.val() & (self.payload.val().get_value_addk_which() == 1) {
                self.rb_r.d.next = self.payload.val().get_value_addk_bits();
            }
            if self.k_we.val() & (self.payload.val().get_value_addk_which() == 2) {
                self.fixed_r.d.next = self.payload.val().get_value_addk_bits();
            }
            if self.we.val() & (self.op.val() == self.op_add.val()) {
                self.qmin_r.d.next = self.payload.val().get_value_add_qmin();
                self.swap_r.d.next = self.payload.val().get_value_add_swap().any();
            }
        }
        self.ra.next = self.ra_r.q.val();
        self.rb.next = self.rb_r.q.val();
        self.fixed.next = self.fixed_r.q.val();
        self.qmin.next = self.qmin_r.q.val();
        self.swap.next = self.swap_r.q.val();
    }
}

crate::clocked!(AddRegs);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use crate::top::testing::{payload, pulse_clear, write_all};

    fn outputs(u: &AddRegs) -> [u64; 5] {
        let v = |b: Bits<32>| b.index() as u64;
        [v(u.ra.val()), v(u.rb.val()), v(u.fixed.val()), u.qmin.val().index() as u64, u64::from(u.swap.val())]
    }

    /// Random writes (every `which`, other opcodes between) against a model of the registers;
    /// `which` 3 and other opcodes change nothing; a program start zeroes them all.
    #[test]
    fn add_registers_hold_what_the_program_wrote() {
        let mut rng = Rng::from_env("add-regs", 34);
        let mut h = crate::sim::Harness::new(AddRegs::default()).unwrap();
        let mut model = [0u64; 5];
        for _ in 0..300 {
            let words: Vec<(&str, u64)> = (0..rng.range(1, 4))
                .map(|_| match rng.below(4) {
                    0 | 1 => {
                        let (which, bits) = (rng.below(4), rng.below(1 << 32));
                        if which < 3 {
                            model[which as usize] = bits;
                        }
                        ("ACT_ADDK", payload("ACT_ADDK", &[("which", which), ("bits", bits)]))
                    }
                    2 => {
                        let (qmin, swap) = (rng.below(256), rng.below(2));
                        model[3] = qmin;
                        model[4] = swap;
                        ("ACT_ADD", payload("ACT_ADD", &[("qmin", qmin), ("swap", swap)]))
                    }
                    // Another register's instruction with the same payload bits set.
                    _ => ("ACT_SCALE", payload("ACT_SCALE", &[("sig", rng.below(1 << 24)), ("exp", rng.below(256))])),
                })
                .collect();
            write_all(&mut h, &words, 1, |u, we, op, pl| {
                u.we.next = we;
                u.op.next = op.into();
                u.payload.next = pl.into();
            });
            assert_eq!(outputs(&h.uut), model);
        }
        assert_ne!(model, [0; 5]);
        pulse_clear(&mut h, 1, |u, c| u.clear.next = c);
        assert_eq!(outputs(&h.uut), [0; 5]);
    }
}
