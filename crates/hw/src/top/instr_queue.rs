//! # InstrQueue: the two-entry instruction queue between the decompressor and the dispatcher
//!
//! The decompressor delivers one instruction per cycle; the dispatcher decodes the queue's head
//! and pops it when it accepts it. A second (skid) entry takes an arriving instruction while the
//! head waits, and the decompressor is held while the skid entry is full (`hold` is a register,
//! not the dispatcher's decision of this cycle: timing). An arrival never finds both entries full.
//!
//! Each entry carries its **wait class**, decoded as it arrives (timing: the dispatcher's decision
//! is an AND of idle flags, no opcode decode): bit 0 needs the mover idle, 1 the conv engine, 2 the
//! pooling unit, 3 the parameters settled, 4 the opcode is not dispatchable. Transfers
//! (`MEM_LOAD`, `MEM_STORE`, `MEM_COPY`) need the mover and settled parameters, a load-add
//! (`MEM_LOADADD`) the conv engine idle too (it writes the output buffer); parameter writes
//! their module (`MEM_SHAPE` and `MEM_ROWS` the mover, `PE_*`/`ACC_*`/`ACT_*` the conv engine, `POOL_*` the
//! pooling unit); `RUN` settled parameters and the modules in its mask; `SYNC` the modules in its
//! mask; `END` all three; anything else is not dispatchable (docs/accelerator.md).
//!
//! Payloads sit in a two-slot ring (an arriving payload is written into slot `wp`, the head is
//! slot `rp`, toggled by each pop: no acceptance-dependent select in front of 128 payload
//! registers).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `flush` | in | 1 | empty the queue (start or clear command) |
//! | `in_valid`, `in_op`, `in_payload` | in | 1, 5, 64 | the decompressor's instruction |
//! | `accept` | in | 1 | the dispatcher takes the head (only while `head_valid`) |
//! | `hold` | out | 1 | hold the decompressor (the skid entry is full) |
//! | `head_valid`, `head_op`, `head_pl`, `head_class` | out | 1, 5, 64, 5 | the head and its wait class |

use accelgen_isa::{M_ACC, M_ACT, M_MEM, M_PE, M_POOL};
use rust_hdl::prelude::*;

use crate::isa::InstrFields;
use crate::top::OpGroups;

// RUN and SYNC share one mask decode of the arriving payload (`get_value_run_modules`).
const _: () = {
    let (run, sync) = (accelgen_isa::field("RUN", "modules"), accelgen_isa::field("SYNC", "modules"));
    assert!(run.offset == sync.offset && run.bits == sync.bits);
};

/// Wait-class bits.
const K_MEM: u64 = 1;
const K_CONV: u64 = 2;
const K_POOL: u64 = 4;
const K_SETTLE: u64 = 8;
const K_ILLEGAL: u64 = 16;

/// The instruction queue.
#[derive(LogicBlock)]
pub struct InstrQueue {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Empty the queue.
    pub flush: Signal<In, Bit>,
    /// An instruction arrives (unless held).
    pub in_valid: Signal<In, Bit>,
    /// Its opcode.
    pub in_op: Signal<In, Bits<5>>,
    /// Its payload.
    pub in_payload: Signal<In, Bits<64>>,
    /// The dispatcher takes the head.
    pub accept: Signal<In, Bit>,
    /// Hold the decompressor.
    pub hold: Signal<Out, Bit>,
    /// The head is valid.
    pub head_valid: Signal<Out, Bit>,
    /// Its opcode.
    pub head_op: Signal<Out, Bits<5>>,
    /// Its payload.
    pub head_pl: Signal<Out, Bits<64>>,
    /// Its wait class.
    pub head_class: Signal<Out, Bits<5>>,
    /// The arriving opcode's dispatch group.
    groups: OpGroups,
    /// Module-mask bits of the mover, the conv engine (its three parts) and the pooling unit.
    m_mem: Constant<Bits<5>>,
    m_conv: Constant<Bits<5>>,
    m_pool: Constant<Bits<5>>,
    /// Class values.
    k_mem: Constant<Bits<5>>,
    k_conv: Constant<Bits<5>>,
    k_pool: Constant<Bits<5>>,
    k_settle: Constant<Bits<5>>,
    k_illegal: Constant<Bits<5>>,
    /// Head and skid entries: valid, opcode, class; the payload ring and its pointers.
    v0: DFF<Bit>,
    op0: DFF<Bits<5>>,
    k0: DFF<Bits<5>>,
    v1: DFF<Bit>,
    op1: DFF<Bits<5>>,
    k1: DFF<Bits<5>>,
    pl0: DFF<Bits<64>>,
    pl1: DFF<Bits<64>>,
    wp: DFF<Bit>,
    rp: DFF<Bit>,
    /// An instruction arrives this cycle; the modules of its mask as class bits; its class.
    arrive: Signal<Local, Bit>,
    mask: Signal<Local, Bits<5>>,
    mk: Signal<Local, Bits<5>>,
    arr_class: Signal<Local, Bits<5>>,
    /// The head moves this cycle (popped, or empty).
    advance: Signal<Local, Bit>,
}

impl Default for InstrQueue {
    fn default() -> Self {
        let c = |v: u64| Constant::new(v.into());
        block_with_defaults!(InstrQueue {
            m_mem: c(M_MEM),
            m_conv: c(M_PE | M_ACC | M_ACT),
            m_pool: c(M_POOL),
            k_mem: c(K_MEM),
            k_conv: c(K_CONV),
            k_pool: c(K_POOL),
            k_settle: c(K_SETTLE),
            k_illegal: c(K_ILLEGAL),
        } defaults {
            clock, flush, in_valid, in_op, in_payload, accept, hold, head_valid, head_op, head_pl,
            head_class, groups, v0, op0, k0, v1, op1, k1, pl0, pl1, wp, rp, arrive, mask, mk, arr_class, advance,
        })
    }
}

impl Logic for InstrQueue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, v0, op0, k0, v1, op1, k1, pl0, pl1, wp, rp);
        self.hold.next = self.v1.q.val();
        self.head_valid.next = self.v0.q.val();
        self.head_op.next = self.op0.q.val();
        self.head_class.next = self.k0.q.val();
        if self.rp.q.val() {
            self.head_pl.next = self.pl1.q.val();
        } else {
            self.head_pl.next = self.pl0.q.val();
        }
        self.arrive.next = self.in_valid.val() & !self.v1.q.val();

        // ---- The arriving instruction's class.
        self.mask.next = self.in_payload.val().get_value_run_modules();
        self.mk.next = 0.into();
        if (self.mask.val() & self.m_mem.val()).any() {
            self.mk.next = self.k_mem.val();
        }
        if (self.mask.val() & self.m_conv.val()).any() {
            self.mk.next = self.mk.val() | self.k_conv.val();
        }
        if (self.mask.val() & self.m_pool.val()).any() {
            self.mk.next = self.mk.val() | self.k_pool.val();
        }
        self.groups.op.next = self.in_op.val();
        self.arr_class.next = self.k_illegal.val();
        if self.groups.ladd.val() {
            // A load-add writes the conv output buffer: it waits for the engine too.
            self.arr_class.next = self.k_mem.val() | self.k_conv.val() | self.k_settle.val();
        } else if self.groups.xfer.val() {
            self.arr_class.next = self.k_mem.val() | self.k_settle.val();
        } else if self.groups.mem_shape.val() | self.groups.mem_rows.val() {
            self.arr_class.next = self.k_mem.val();
        } else if self.groups.conv_reg.val() {
            self.arr_class.next = self.k_conv.val();
        } else if self.groups.pool_reg.val() {
            self.arr_class.next = self.k_pool.val();
        } else if self.groups.run.val() {
            // RUN waits for the modules it starts; the mover is not one.
            self.arr_class.next = self.k_settle.val() | (self.mk.val() & (self.k_conv.val() | self.k_pool.val()));
        } else if self.groups.sync.val() {
            self.arr_class.next = self.mk.val();
        } else if self.groups.is_end.val() {
            self.arr_class.next = self.k_mem.val() | self.k_conv.val() | self.k_pool.val();
        }

        // ---- Pop the head when accepted; append an arrival behind what stays.
        self.advance.next = self.accept.val() | !self.v0.q.val();
        if self.advance.val() {
            if self.v1.q.val() {
                self.v0.d.next = true;
                self.op0.d.next = self.op1.q.val();
                self.k0.d.next = self.k1.q.val();
                self.v1.d.next = self.arrive.val();
            } else {
                self.v0.d.next = self.arrive.val();
                self.v1.d.next = false;
            }
        } else {
            self.v1.d.next = self.v1.q.val() | self.arrive.val();
        }
        if self.arrive.val() {
            if self.advance.val() & !self.v1.q.val() {
                self.op0.d.next = self.in_op.val();
                self.k0.d.next = self.arr_class.val();
            } else {
                self.op1.d.next = self.in_op.val();
                self.k1.d.next = self.arr_class.val();
            }
            if self.wp.q.val() {
                self.pl1.d.next = self.in_payload.val();
            } else {
                self.pl0.d.next = self.in_payload.val();
            }
            self.wp.d.next = !self.wp.q.val();
        }
        if self.accept.val() {
            self.rp.d.next = !self.rp.q.val();
        }
        if self.flush.val() {
            self.v0.d.next = false;
            self.v1.d.next = false;
            self.wp.d.next = false;
            self.rp.d.next = false;
        }
    }
}

crate::clocked!(InstrQueue);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use std::collections::VecDeque;

    /// The wait class of an instruction, from the dispatch rules of docs/accelerator.md.
    fn class(op: u8, payload: u64) -> u64 {
        let name = accelgen_isa::TABLE.iter().find(|d| d.code == op).map_or("", |d| d.name);
        let mask = (payload >> accelgen_isa::field("RUN", "modules").offset) & 31;
        let mods = |m: u64| {
            u64::from(m & M_MEM != 0) * K_MEM
                | u64::from(m & (M_PE | M_ACC | M_ACT) != 0) * K_CONV
                | u64::from(m & M_POOL != 0) * K_POOL
        };
        match name {
            // A load-add writes the conv output buffer: the engine must be idle.
            "MEM_LOADADD" => K_MEM | K_CONV | K_SETTLE,
            "MEM_LOAD" | "MEM_STORE" | "MEM_COPY" => K_MEM | K_SETTLE,
            "MEM_SHAPE" | "MEM_ROWS" => K_MEM,
            n if n.starts_with("PE_") || n.starts_with("ACC_") || n.starts_with("ACT_") => K_CONV,
            n if n.starts_with("POOL_") => K_POOL,
            "RUN" => K_SETTLE | (mods(mask) & !K_MEM),
            "SYNC" => mods(mask),
            "END" => K_MEM | K_CONV | K_POOL,
            _ => K_ILLEGAL,
        }
    }

    /// Random opcodes and payloads arriving at random, the head accepted at random, flushes now
    /// and then: the queue behaves as a FIFO of at most two that holds the decompressor exactly
    /// while two entries wait, and every head carries its payload and its class.
    #[test]
    fn a_two_entry_fifo_with_each_instructions_wait_class() {
        let mut rng = Rng::from_env("instr-queue", 31);
        let mut h = crate::sim::Harness::new(InstrQueue::default()).unwrap();
        let mut model: VecDeque<(u64, u64)> = VecDeque::new();
        let mut classes = std::collections::BTreeSet::new();
        for step in 0..5000 {
            let (valid, op, payload) = (rng.below(2) == 0, rng.below(32), rng.below(u64::MAX));
            let accept = !model.is_empty() && rng.below(3) == 0;
            let flush = rng.below(300) == 0;
            let u = &mut h.uut;
            u.in_valid.next = valid;
            u.in_op.next = op.into();
            u.in_payload.next = payload.into();
            u.accept.next = accept;
            u.flush.next = flush;
            h.settle().unwrap();
            let u = &h.uut;
            assert_eq!(u.hold.val(), model.len() == 2, "step {step}");
            assert_eq!(u.head_valid.val(), !model.is_empty(), "step {step}");
            if let Some(&(op, pl)) = model.front() {
                assert_eq!(u.head_op.val().index() as u64, op, "step {step}");
                assert_eq!(u.head_pl.val(), Bits::<64>::from(pl), "step {step}");
                let k = class(op as u8, pl);
                assert_eq!(u.head_class.val().index() as u64, k, "step {step}, opcode {op}");
                classes.insert(k);
            }
            let arrives = valid && model.len() < 2;
            h.step().unwrap();
            if accept {
                model.pop_front();
            }
            if arrives {
                model.push_back((op, payload));
            }
            if flush {
                model.clear();
            }
        }
        assert!(classes.len() >= 8, "classes seen: {classes:?}");
    }
}
