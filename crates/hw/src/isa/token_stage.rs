//! # TokenStage: the decompressor's run state and token register, and what the token issues
//!
//! The run state: `busy` from a taken start (CTRL bit 0 while nothing runs) to `END` or an error;
//! `error` on an illegal opcode, running out of words
//! before `END`, or a malformed token (a `REPEAT` reaching before the first instruction, a
//! `MEM_ADD` of an unknown slot). CTRL bit 1 clears both.
//!
//! The token register `tk` takes the instruction the unpacker ([`WordDecode`](crate::isa::WordDecode)) decodes
//! when it is free or is consumed this cycle (`step`), with its class decoded with it (timing):
//! `REPEAT`, `MEM_ADD`, a full transfer, a `REPEAT` at distance 1, 2 or 3 (the history's
//! bypasses), whether its copy's period-earlier instruction exists (`cont`: fill > 2·dist − 1
//! after this cycle's issue). Each cycle the
//! token issues: itself, or a `REPEAT`'s next copy (after one priming cycle at distance 2 or more,
//! while the history's first reads land; [`CopyCounter`] counts the copies left). `issue` and
//! `consumed` ignore the token's checks (timing); `x_err` stops everything and the decompressor's
//! output register takes only error-free instructions.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `hold` | in | 1 | clock; freeze |
//! | `ctrl_we`, `ctrl` | in | 1, 2 | a CTRL write and its bits 1..0 (clear, start) |
//! | `src_ok`, `op`, `payload`, `legal`, `src_dist`, `src_count0` | in | … | the decoded instruction ([`WordDecode`](crate::isa::WordDecode)), its `REPEAT.dist` and `REPEAT.count` = 0 |
//! | `drained` | in | 1 | no word left to fetch |
//! | `fill`, `ma_bad` | in | 10, 1 | instructions issued ([`History`](crate::isa::History)); the token's `MEM_ADD` slot is unknown |
//! | `go`, `busy`, `error`, `step` | out | 1 | a start is taken; running; stopped on an error; the unpacker decodes |
//! | `tk_valid`, `tk_op`, `tk_payload`, `tk_rep`, `tk_ma`, `tk_tr`, `tk_d1`, `tk_d2`, `tk_d3`, `tk_cont` | out | … | the token and its class |
//! | `issue`, `x_err`, `prime`, `rep_wait` | out | 1 | the token issues; it is malformed; a `REPEAT` primes; it waits for another copy |

use crate::isa::{opcode_const, CopyCounter, InstrFields};
use rust_hdl::prelude::*;

/// The token stage.
#[derive(LogicBlock)]
pub struct TokenStage {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Freeze.
    pub hold: Signal<In, Bit>,
    /// A CTRL write.
    pub ctrl_we: Signal<In, Bit>,
    /// Its bits 1 (clear) and 0 (start).
    pub ctrl: Signal<In, Bits<2>>,
    /// There is a word to decode from.
    pub src_ok: Signal<In, Bit>,
    /// Decoded opcode.
    pub op: Signal<In, Bits<5>>,
    /// The decoded instruction's bits.
    pub payload: Signal<In, Bits<64>>,
    /// The opcode is in the table.
    pub legal: Signal<In, Bit>,
    /// The decoded instruction's `REPEAT.dist` position.
    pub src_dist: Signal<In, Bits<8>>,
    /// Its `REPEAT.count` position is 0.
    pub src_count0: Signal<In, Bit>,
    /// No word left to fetch and none in flight.
    pub drained: Signal<In, Bit>,
    /// Instructions issued since start.
    pub fill: Signal<In, Bits<10>>,
    /// The token's `MEM_ADD` names a slot that holds no transfer.
    pub ma_bad: Signal<In, Bit>,
    /// A start is taken.
    pub go: Signal<Out, Bit>,
    /// Running.
    pub busy: Signal<Out, Bit>,
    /// Stopped on an error.
    pub error: Signal<Out, Bit>,
    /// The unpacker decodes this cycle.
    pub step: Signal<Out, Bit>,
    /// The token register holds an instruction.
    pub tk_valid: Signal<Out, Bit>,
    /// Its opcode.
    pub tk_op: Signal<Out, Bits<5>>,
    /// Its bits.
    pub tk_payload: Signal<Out, Bits<64>>,
    /// It is a `REPEAT`.
    pub tk_rep: Signal<Out, Bit>,
    /// It is a `MEM_ADD`.
    pub tk_ma: Signal<Out, Bit>,
    /// It is a full transfer.
    pub tk_tr: Signal<Out, Bit>,
    /// A `REPEAT` at distance 1.
    pub tk_d1: Signal<Out, Bit>,
    /// At distance 2.
    pub tk_d2: Signal<Out, Bit>,
    /// At distance 3.
    pub tk_d3: Signal<Out, Bit>,
    /// Its copy's period-earlier instruction exists.
    pub tk_cont: Signal<Out, Bit>,
    /// The token issues this cycle.
    pub issue: Signal<Out, Bit>,
    /// It is malformed.
    pub x_err: Signal<Out, Bit>,
    /// A `REPEAT` waits this cycle for its first copy's reads.
    pub prime: Signal<Out, Bit>,
    /// A `REPEAT` stays for another copy.
    pub rep_wait: Signal<Out, Bit>,
    op_repeat: Constant<Bits<5>>,
    op_mem_add: Constant<Bits<5>>,
    op_mem_load: Constant<Bits<5>>,
    op_mem_store: Constant<Bits<5>>,
    op_end: Constant<Bits<5>>,
    busy_r: DFF<Bit>,
    error_r: DFF<Bit>,
    valid: DFF<Bit>,
    opc: DFF<Bits<5>>,
    bits_r: DFF<Bits<64>>,
    rep: DFF<Bit>,
    ma: DFF<Bit>,
    tr: DFF<Bit>,
    d1: DFF<Bit>,
    d2: DFF<Bit>,
    d3: DFF<Bit>,
    cont: DFF<Bit>,
    copies: CopyCounter,
    /// The `REPEAT` (distance 2 or more) has had its priming cycle.
    primed: DFF<Bit>,
    go_l: Signal<Local, Bit>,
    clear: Signal<Local, Bit>,
    is_rep: Signal<Local, Bit>,
    prime_l: Signal<Local, Bit>,
    issue_l: Signal<Local, Bit>,
    consumed: Signal<Local, Bit>,
    x_err_l: Signal<Local, Bit>,
    adv: Signal<Local, Bit>,
    fill16: Signal<Local, Bits<16>>,
    f_tk: Signal<Local, Bits<16>>,
    f_new: Signal<Local, Bits<16>>,
    cont_new: Signal<Local, Bit>,
}

impl Default for TokenStage {
    fn default() -> Self {
        block_with_defaults!(TokenStage {
            op_repeat: opcode_const("REPEAT"),
            op_mem_add: opcode_const("MEM_ADD"),
            op_mem_load: opcode_const("MEM_LOAD"),
            op_mem_store: opcode_const("MEM_STORE"),
            op_end: opcode_const("END"),
        } defaults {
            clock, hold, ctrl_we, ctrl, src_ok, op, payload, legal, src_dist, src_count0, drained, fill, ma_bad, go, busy, error,
            step, tk_valid, tk_op, tk_payload, tk_rep, tk_ma, tk_tr, tk_d1, tk_d2, tk_d3, tk_cont,
            issue, x_err, prime, rep_wait, busy_r, error_r, valid, opc, bits_r, rep, ma, tr, d1, d2,
            d3, cont, copies, primed, go_l, clear, is_rep, prime_l, issue_l, consumed, x_err_l, adv, fill16, f_tk, f_new, cont_new,
        })
    }
}

impl Logic for TokenStage {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, busy_r, error_r, valid, opc, bits_r, rep, ma, tr, d1, d2, d3, cont, primed
        );
        clock!(self, clock, copies);
        self.busy.next = self.busy_r.q.val();
        self.error.next = self.error_r.q.val();
        self.tk_valid.next = self.valid.q.val();
        self.tk_op.next = self.opc.q.val();
        self.tk_payload.next = self.bits_r.q.val();
        self.tk_rep.next = self.rep.q.val();
        self.tk_ma.next = self.ma.q.val();
        self.tk_tr.next = self.tr.q.val();
        self.tk_d1.next = self.d1.q.val();
        self.tk_d2.next = self.d2.q.val();
        self.tk_d3.next = self.d3.q.val();
        self.tk_cont.next = self.cont.q.val();
        self.clear.next = self.ctrl_we.val() & self.ctrl.val().get_bit(1);
        self.go_l.next = self.ctrl_we.val() & self.ctrl.val().get_bit(0) & !self.busy_r.q.val() & !self.valid.q.val();
        self.go.next = self.go_l.val();
        // What the token issues.
        self.is_rep.next = self.valid.q.val() & self.rep.q.val();
        self.prime_l.next = self.is_rep.val() & !self.d1.q.val() & !self.primed.q.val();
        self.fill16.next = bit_cast::<16, 10>(self.fill.val());
        self.f_tk.next = bit_cast::<16, 8>(self.bits_r.q.val().get_value_repeat_dist());
        self.issue_l.next = false;
        self.consumed.next = false;
        self.x_err_l.next = false;
        if self.valid.q.val() {
            if self.is_rep.val() {
                // A copy reaching before the first instruction (fill only grows, so the first
                // copy's check is the one that matters).
                self.x_err_l.next = !(self.fill16.val() > self.f_tk.val());
                if self.prime_l.val() {
                    self.primed.d.next = true;
                } else {
                    self.issue_l.next = true;
                    self.consumed.next = self.copies.last.val();
                }
            } else {
                self.x_err_l.next = self.ma.q.val() & self.ma_bad.val();
                self.issue_l.next = true;
                self.consumed.next = true;
            }
        }
        self.issue.next = self.issue_l.val();
        self.x_err.next = self.x_err_l.val();
        self.prime.next = self.prime_l.val();
        self.rep_wait.next = self.is_rep.val() & !self.consumed.val();
        self.copies.hold.next = self.hold.val();
        self.copies.abort.next = self.x_err_l.val();
        self.copies.restart.next = self.clear.val() | self.go_l.val();
        self.copies.copy.next = self.is_rep.val() & self.issue_l.val();
        self.copies.count.next = self.bits_r.q.val().get_value_repeat_count();
        self.copies.load.next = false;
        self.copies.load_last.next = self.src_count0.val();
        self.valid.d.next = self.valid.q.val() & !self.consumed.val();
        if self.consumed.val() | self.x_err_l.val() {
            self.primed.d.next = false;
        }
        // The copy's period-earlier instruction exists after this cycle's issue: fill + issue >
        // 2·dist − 1 (the fill saturates at 1023, above every 2·dist − 1 ≤ 511, so `fill ≥ x`
        // stands for `fill + 1 > x`), for the token staying and for the instruction decoded now.
        self.f_new.next = bit_cast::<16, 8>(self.src_dist.val());
        if self.issue_l.val() {
            self.cont.d.next = self.fill16.val() >= ((self.f_tk.val() << 1) | bits::<16>(1));
            self.cont_new.next = self.fill16.val() >= ((self.f_new.val() << 1) | bits::<16>(1));
        } else {
            self.cont.d.next = self.fill16.val() > ((self.f_tk.val() << 1) | bits::<16>(1));
            self.cont_new.next = self.fill16.val() > ((self.f_new.val() << 1) | bits::<16>(1));
        }
        // The unpacker's instruction enters `tk` when it is free or consumed now (`adv` is low
        // while an erroneous token sits in `tk`).
        self.adv.next = !self.valid.q.val() | self.consumed.val();
        self.step.next = self.busy_r.q.val() & self.adv.val();
        if self.busy_r.q.val() & self.adv.val() {
            if self.src_ok.val() {
                if self.op.val().any() {
                    if !self.legal.val() {
                        self.error_r.d.next = true;
                        self.busy_r.d.next = false;
                    } else {
                        self.valid.d.next = true;
                        self.opc.d.next = self.op.val();
                        self.bits_r.d.next = self.payload.val();
                        self.rep.d.next = self.op.val() == self.op_repeat.val();
                        self.ma.d.next = self.op.val() == self.op_mem_add.val();
                        self.tr.d.next = (self.op.val() == self.op_mem_load.val()) | (self.op.val() == self.op_mem_store.val());
                        self.d1.d.next = !self.src_dist.val().any();
                        self.d2.d.next = self.src_dist.val() == 1;
                        self.d3.d.next = self.src_dist.val() == 2;
                        self.copies.load.next = true;
                        self.cont.d.next = self.cont_new.val();
                        if self.op.val() == self.op_end.val() {
                            self.busy_r.d.next = false;
                        }
                    }
                }
            } else if self.drained.val() {
                // Out of words before END.
                self.error_r.d.next = true;
                self.busy_r.d.next = false;
            }
        }
        if self.x_err_l.val() {
            self.error_r.d.next = true;
            self.busy_r.d.next = false;
            self.valid.d.next = false;
        }
        if self.hold.val() {
            self.busy_r.d.next = self.busy_r.q.val();
            self.error_r.d.next = self.error_r.q.val();
            self.valid.d.next = self.valid.q.val();
            self.opc.d.next = self.opc.q.val();
            self.bits_r.d.next = self.bits_r.q.val();
            self.rep.d.next = self.rep.q.val();
            self.ma.d.next = self.ma.q.val();
            self.tr.d.next = self.tr.q.val();
            self.d1.d.next = self.d1.q.val();
            self.d2.d.next = self.d2.q.val();
            self.d3.d.next = self.d3.q.val();
            self.cont.d.next = self.cont.q.val();
            self.primed.d.next = self.primed.q.val();
        }
        if self.clear.val() {
            self.error_r.d.next = false;
            self.busy_r.d.next = false;
        }
        if self.clear.val() | self.go_l.val() {
            self.valid.d.next = false;
            self.primed.d.next = false;
        }
        if self.go_l.val() {
            self.busy_r.d.next = true;
            self.error_r.d.next = false;
        }
    }
}

crate::clocked!(TokenStage);
