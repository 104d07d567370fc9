//! # Dispatcher: `accel_top`'s instruction dispatch
//!
//! Decides, each cycle, whether the head of the instruction queue is accepted, and carries out
//! what an accepted instruction does (docs/accelerator.md, dispatch rules):
//! - it waits while a module its wait class names is busy (a start issued last cycle counts as
//!   busy), while the parameters settle (three cycles after a parameter write: the write's cycle
//!   and two product stages), and forever if it is not dispatchable (`bad_op`: an error);
//! - a `RUN` whose module registers hold a zero size, stride or tile count is refused (`run_bad`);
//! - a parameter write is applied a cycle after its acceptance (`pw_*`, to the module-register
//!   blocks; `MEM_SHAPE` and `MEM_ROWS` here), a transfer starts the mover a cycle after its acceptance with its
//!   fields registered, `RUN` starts the conv engine and/or the pooling unit a cycle later,
//!   `POOL_CLOCK` takes the divider (applied at once when the engine is idle), `END` reports `ended`.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `running`, `enabled` | in | 1 | a program runs; it runs without error (dispatch allowed) |
//! | `iv`, `op`, `pl`, `wait_class` | in | 1, 5, 64, 5 | the queue's head and its wait class ([`InstrQueue`](crate::top::InstrQueue)) |
//! | `conv_busy`, `pool_busy`, `mover_busy` | in | 1 | module busy flags |
//! | `conv_bad`, `pool_bad` | in | 1 | the modules' zero-parameter flags |
//! | `clear` | in | 1 | a program starts: `MEM_SHAPE`, `MEM_ROWS` and the divider as after reset |
//! | `accept` | out | 1 | the head is accepted this cycle |
//! | `ok`, `bad_op`, `run_bad` | out | 1 | the head may go; is not dispatchable; is a refused `RUN` |
//! | `ended` | out | 1 | an `END` is accepted |
//! | `conv_start`, `pool_start`, `clk_now`, `pool_div` | out | 1, 1, 1, 8 | module starts; apply the pooling divider now; the divider |
//! | `go`, `g_*` | out | | the mover's start and transfer fields |
//! | `pw_v`, `pw_op`, `pw_pl` | out | 1, 5, 64 | the parameter write (an instruction accepted last cycle) |
//! | `w_any`, `w_mem`, `w_conv`, `w_pool` | out | 1 | last cycle, a valid instruction waited (for the mover, the engine, the unit) |

use accelgen_isa::{M_ACC, M_ACT, M_PE, M_POOL};
use rust_hdl::prelude::*;

use crate::isa::InstrFields;
use crate::top::OpGroups;

/// The dispatcher.
#[derive(LogicBlock)]
pub struct Dispatcher {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A program runs.
    pub running: Signal<In, Bit>,
    /// It runs without error.
    pub enabled: Signal<In, Bit>,
    /// The head is valid.
    pub iv: Signal<In, Bit>,
    /// Its opcode.
    pub op: Signal<In, Bits<5>>,
    /// Its payload.
    pub pl: Signal<In, Bits<64>>,
    /// Its wait class.
    pub wait_class: Signal<In, Bits<5>>,
    /// The conv engine is busy.
    pub conv_busy: Signal<In, Bit>,
    /// The pooling unit is busy.
    pub pool_busy: Signal<In, Bit>,
    /// The mover is busy.
    pub mover_busy: Signal<In, Bit>,
    /// The conv registers hold a zero size, stride or tile count.
    pub conv_bad: Signal<In, Bit>,
    /// The pooling registers do.
    pub pool_bad: Signal<In, Bit>,
    /// A program starts: `MEM_SHAPE`, `MEM_ROWS` and the pooling divider back to their reset values (the
    /// divider applied at once).
    pub clear: Signal<In, Bit>,
    /// The head is accepted.
    pub accept: Signal<Out, Bit>,
    /// The head may go (its modules idle, parameters settled).
    pub ok: Signal<Out, Bit>,
    /// The head is not dispatchable.
    pub bad_op: Signal<Out, Bit>,
    /// The head is a refused `RUN`.
    pub run_bad: Signal<Out, Bit>,
    /// An `END` is accepted.
    pub ended: Signal<Out, Bit>,
    /// Start the conv engine.
    pub conv_start: Signal<Out, Bit>,
    /// Start the pooling unit.
    pub pool_start: Signal<Out, Bit>,
    /// Apply the pooling divider now.
    pub clk_now: Signal<Out, Bit>,
    /// The pooling divider.
    pub pool_div: Signal<Out, Bits<8>>,
    /// Start the mover.
    pub go: Signal<Out, Bit>,
    /// Store.
    pub g_store: Signal<Out, Bit>,
    /// On-chip copy.
    pub g_copy: Signal<Out, Bit>,
    /// Load-add (`MEM_LOADADD`: a load of the store-0 layout's elements summed into the conv
    /// output buffer; `g_sel` 0).
    pub g_ladd: Signal<Out, Bit>,
    /// Load target or store source.
    pub g_sel: Signal<Out, Bits<2>>,
    /// External address.
    pub g_addr: Signal<Out, Bits<26>>,
    /// Words.
    pub g_words: Signal<Out, Bits<20>>,
    /// Chunk length (`MEM_SHAPE`).
    pub g_len: Signal<Out, Bits<20>>,
    /// Chunk stride (`MEM_SHAPE`).
    pub g_stride: Signal<Out, Bits<26>>,
    /// Upper half (`MEM_SHAPE`).
    pub g_half: Signal<Out, Bit>,
    /// Row level (`MEM_ROWS`): elements per run (0: none), runs per chunk, bytes between runs.
    pub g_run: Signal<Out, Bits<12>>,
    pub g_rows: Signal<Out, Bits<12>>,
    pub g_step: Signal<Out, Bits<26>>,
    /// The same, as flags formed when `MEM_ROWS` is taken (timing: the mover's start decisions
    /// from a flip-flop): runs are on (`run` ≠ 0); a chunk is several runs (`rows` ≠ 1 too).
    pub g_runs: Signal<Out, Bit>,
    pub g_multi: Signal<Out, Bit>,
    /// `MEM_ROWS.bcast`: first-cache loads write each chunk into every bank.
    pub g_bcast: Signal<Out, Bit>,
    /// A parameter write.
    pub pw_v: Signal<Out, Bit>,
    /// Its opcode.
    pub pw_op: Signal<Out, Bits<5>>,
    /// Its payload.
    pub pw_pl: Signal<Out, Bits<64>>,
    /// A valid instruction waited last cycle.
    pub w_any: Signal<Out, Bit>,
    /// It waited for the mover.
    pub w_mem: Signal<Out, Bit>,
    /// It waited for the conv engine.
    pub w_conv: Signal<Out, Bit>,
    /// It waited for the pooling unit.
    pub w_pool: Signal<Out, Bit>,
    /// The head's dispatch group.
    groups: OpGroups,
    /// Module-mask bits of the conv engine (its three parts) and of the pooling unit.
    m_conv: Constant<Bits<5>>,
    m_pool: Constant<Bits<5>>,
    /// Cycles left until the parameters settle.
    settle: DFF<Bits<2>>,
    /// Starts, a cycle after their acceptance.
    c_start: DFF<Bit>,
    p_start: DFF<Bit>,
    clk_now_r: DFF<Bit>,
    div: DFF<Bits<8>>,
    /// A transfer accepted last cycle starts the mover now, with its registered fields.
    m_go: DFF<Bit>,
    g_store_r: DFF<Bit>,
    g_copy_r: DFF<Bit>,
    g_ladd_r: DFF<Bit>,
    g_sel_r: DFF<Bits<2>>,
    g_addr_r: DFF<Bits<26>>,
    g_words_r: DFF<Bits<20>>,
    /// `MEM_SHAPE`: chunk length, stride, upper half.
    m_len: DFF<Bits<20>>,
    m_stride: DFF<Bits<26>>,
    m_half: DFF<Bit>,
    /// `MEM_ROWS`: run, rows, step.
    m_run: DFF<Bits<12>>,
    m_rows: DFF<Bits<12>>,
    m_step: DFF<Bits<26>>,
    m_runs: DFF<Bit>,
    m_multi: DFF<Bit>,
    m_bcast: DFF<Bit>,
    /// The instruction accepted last cycle, for the parameter writes (timing: the acceptance
    /// does not fan out to every parameter register; a parameter write sets `settle` in its
    /// acceptance cycle, and everything that reads parameters waits for it).
    pw_v_r: DFF<Bit>,
    pw_op_r: DFF<Bits<5>>,
    /// The parameter write is a `MEM_SHAPE`.
    pw_shape_r: DFF<Bit>,
    /// The parameter write is a `MEM_ROWS`.
    pw_rows_r: DFF<Bit>,
    pw_pl_r: DFF<Bits<64>>,
    /// The wait conditions, registered (timing: the counters count a cycle later).
    w_any_r: DFF<Bit>,
    w_mem_r: DFF<Bit>,
    w_conv_r: DFF<Bit>,
    w_pool_r: DFF<Bit>,
    /// Each module is idle (a start issued last cycle counts as busy).
    conv_idle: Signal<Local, Bit>,
    pool_idle: Signal<Local, Bit>,
    mem_idle: Signal<Local, Bit>,
    /// The head waits this cycle.
    waits: Signal<Local, Bit>,
    /// The modules of the head's mask (`RUN`).
    mask: Signal<Local, Bits<5>>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        block_with_defaults!(Dispatcher {
            m_conv: Constant::new((M_PE | M_ACC | M_ACT).into()),
            m_pool: Constant::new(M_POOL.into()),
        } defaults {
            clock, running, enabled, iv, op, pl, wait_class, conv_busy, pool_busy, mover_busy, conv_bad,
            pool_bad, clear, accept, ok, bad_op, run_bad, ended, conv_start, pool_start, clk_now, pool_div,
            go, g_store, g_copy, g_ladd, g_sel, g_addr, g_words, g_len, g_stride, g_half, g_run, g_rows, g_step, g_runs, g_multi, g_bcast, pw_v, pw_op, pw_pl,
            w_any, w_mem, w_conv, w_pool, groups, settle, c_start, p_start, clk_now_r, div, m_go, g_store_r,
            g_copy_r, g_ladd_r, g_sel_r, g_addr_r, g_words_r, m_len, m_stride, m_half, m_run, m_rows, m_step, m_runs, m_multi, m_bcast, pw_v_r, pw_op_r, pw_shape_r, pw_rows_r,
            pw_pl_r, w_any_r, w_mem_r, w_conv_r, w_pool_r, conv_idle, pool_idle, mem_idle, waits,
            mask,
        })
    }
}

impl Logic for Dispatcher {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, settle, c_start, p_start, clk_now_r, div, m_go, g_store_r, g_copy_r, g_ladd_r,
            g_sel_r, g_addr_r, g_words_r, m_len, m_stride, m_half, m_run, m_rows, m_step, m_runs, m_multi, m_bcast, pw_v_r, pw_op_r, pw_shape_r, pw_rows_r, pw_pl_r,
            w_any_r, w_mem_r, w_conv_r, w_pool_r
        );
        // ---- The decision: the head's wait class (decoded on arrival) against the idle flags
        // (timing: no opcode compare or payload select in front of `accept`).
        self.conv_idle.next = !self.conv_busy.val() & !self.c_start.q.val();
        self.pool_idle.next = !self.pool_busy.val() & !self.p_start.q.val();
        self.mem_idle.next = !self.mover_busy.val() & !self.m_go.q.val();
        self.bad_op.next = self.wait_class.val().get_bit(4);
        self.ok.next = (self.mem_idle.val() | !self.wait_class.val().get_bit(0))
            & (self.conv_idle.val() | !self.wait_class.val().get_bit(1))
            & (self.pool_idle.val() | !self.wait_class.val().get_bit(2))
            & (!self.settle.q.val().any() | !self.wait_class.val().get_bit(3))
            & !self.wait_class.val().get_bit(4);
        // A RUN is the one class that waits for the settle count without the mover (transfers
        // wait for both), and its conv and pool class bits are its mask's modules.
        self.run_bad.next = self.wait_class.val().get_bit(3)
            & !self.wait_class.val().get_bit(0)
            & ((self.conv_bad.val() & self.wait_class.val().get_bit(1)) | (self.pool_bad.val() & self.wait_class.val().get_bit(2)));
        self.accept.next = self.iv.val() & self.enabled.val() & self.ok.val() & !self.run_bad.val();
        self.groups.op.next = self.op.val();
        self.ended.next = self.accept.val() & self.groups.is_end.val();

        // ---- What an accepted instruction does.
        self.mask.next = self.pl.val().get_value_run_modules();
        self.c_start.d.next = false;
        self.p_start.d.next = false;
        self.clk_now_r.d.next = false;
        self.m_go.d.next = false;
        if self.settle.q.val().any() {
            self.settle.d.next = self.settle.q.val() - 1;
        }
        // A transfer's fields are registered every cycle; its start follows its acceptance by a
        // cycle (timing: the decision does not reach the mover's registers in its cycle).
        self.g_store_r.d.next = self.groups.store.val();
        self.g_copy_r.d.next = self.groups.copy.val();
        self.g_ladd_r.d.next = self.groups.ladd.val();
        if self.groups.ladd.val() {
            self.g_sel_r.d.next = 0.into();
            self.g_addr_r.d.next = self.pl.val().get_value_ladd_addr();
            self.g_words_r.d.next = self.pl.val().get_value_ladd_words();
        } else if self.groups.copy.val() {
            self.g_sel_r.d.next = 0.into();
            self.g_addr_r.d.next = 0.into();
            self.g_words_r.d.next = self.pl.val().get_value_copy_words();
        } else if self.groups.store.val() {
            self.g_sel_r.d.next = bit_cast::<2, 1>(self.pl.val().get_value_store_source());
            self.g_addr_r.d.next = self.pl.val().get_value_store_addr();
            self.g_words_r.d.next = self.pl.val().get_value_store_words();
        } else {
            self.g_sel_r.d.next = self.pl.val().get_value_load_target();
            self.g_addr_r.d.next = self.pl.val().get_value_load_addr();
            self.g_words_r.d.next = self.pl.val().get_value_load_words();
        }
        if self.accept.val() {
            // Parameter writes of the conv engine and the pooling unit.
            if self.groups.conv_reg.val() | self.groups.pool_reg.val() {
                self.settle.d.next = 3.into();
            }
            if self.groups.xfer.val() {
                self.m_go.d.next = true;
            }
            if self.groups.pool_clock.val() {
                self.div.d.next = self.pl.val().get_value_pool_divider();
                self.clk_now_r.d.next = self.conv_idle.val();
            }
            if self.groups.run.val() {
                self.c_start.d.next = (self.mask.val() & self.m_conv.val()).any();
                self.p_start.d.next = (self.mask.val() & self.m_pool.val()).any();
            }
        }
        // Parameter writes land a cycle after their acceptance.
        self.pw_v_r.d.next = self.accept.val();
        self.pw_op_r.d.next = self.op.val();
        self.pw_shape_r.d.next = self.groups.mem_shape.val();
        self.pw_rows_r.d.next = self.groups.mem_rows.val();
        self.pw_pl_r.d.next = self.pl.val();
        if self.pw_v_r.q.val() & self.pw_shape_r.q.val() {
            self.m_len.d.next = self.pw_pl_r.q.val().get_value_shape_len();
            self.m_stride.d.next = self.pw_pl_r.q.val().get_value_shape_stride();
            self.m_half.d.next = self.pw_pl_r.q.val().get_value_shape_half().any();
        }
        if self.pw_v_r.q.val() & self.pw_rows_r.q.val() {
            self.m_run.d.next = self.pw_pl_r.q.val().get_value_rows_run();
            self.m_rows.d.next = self.pw_pl_r.q.val().get_value_rows_rows();
            self.m_step.d.next = self.pw_pl_r.q.val().get_value_rows_step();
            self.m_runs.d.next = self.pw_pl_r.q.val().get_value_rows_run().any();
            self.m_multi.d.next =
                self.pw_pl_r.q.val().get_value_rows_run().any() & (self.pw_pl_r.q.val().get_value_rows_rows() != bits::<12>(1));
            self.m_bcast.d.next = self.pw_pl_r.q.val().get_value_rows_bcast().any();
        }
        if self.clear.val() {
            self.m_len.d.next = 0.into();
            self.m_stride.d.next = 0.into();
            self.m_half.d.next = false;
            self.m_run.d.next = 0.into();
            self.m_rows.d.next = 0.into();
            self.m_step.d.next = 0.into();
            self.m_runs.d.next = false;
            self.m_multi.d.next = false;
            self.m_bcast.d.next = false;
            self.div.d.next = 0.into();
            self.clk_now_r.d.next = true;
        }
        // Each busy module a waiting instruction needs idle, counted a cycle later.
        self.waits.next = self.running.val() & self.iv.val() & !self.accept.val();
        self.w_any_r.d.next = self.waits.val();
        self.w_mem_r.d.next = self.waits.val() & self.wait_class.val().get_bit(0) & !self.mem_idle.val();
        self.w_conv_r.d.next = self.waits.val() & self.wait_class.val().get_bit(1) & !self.conv_idle.val();
        self.w_pool_r.d.next = self.waits.val() & self.wait_class.val().get_bit(2) & !self.pool_idle.val();

        // ---- Outputs.
        self.conv_start.next = self.c_start.q.val();
        self.pool_start.next = self.p_start.q.val();
        self.clk_now.next = self.clk_now_r.q.val();
        self.pool_div.next = self.div.q.val();
        self.go.next = self.m_go.q.val();
        self.g_store.next = self.g_store_r.q.val();
        self.g_copy.next = self.g_copy_r.q.val();
        self.g_ladd.next = self.g_ladd_r.q.val();
        self.g_sel.next = self.g_sel_r.q.val();
        self.g_addr.next = self.g_addr_r.q.val();
        self.g_words.next = self.g_words_r.q.val();
        self.g_len.next = self.m_len.q.val();
        self.g_stride.next = self.m_stride.q.val();
        self.g_half.next = self.m_half.q.val();
        self.g_run.next = self.m_run.q.val();
        self.g_rows.next = self.m_rows.q.val();
        self.g_step.next = self.m_step.q.val();
        self.g_runs.next = self.m_runs.q.val();
        self.g_multi.next = self.m_multi.q.val();
        self.g_bcast.next = self.m_bcast.q.val();
        self.pw_v.next = self.pw_v_r.q.val();
        self.pw_op.next = self.pw_op_r.q.val();
        self.pw_pl.next = self.pw_pl_r.q.val();
        self.w_any.next = self.w_any_r.q.val();
        self.w_mem.next = self.w_mem_r.q.val();
        self.w_conv.next = self.w_conv_r.q.val();
        self.w_pool.next = self.w_pool_r.q.val();
    }
}

crate::clocked!(Dispatcher);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use crate::top::testing::payload;
    use accelgen_isa::{field, opcode};

    fn mods_of(pl: u64) -> u64 {
        pl >> field("RUN", "modules").offset & 31
    }

    /// Random heads (a transfer, a parameter write, `RUN`, `POOL_CLOCK`, `END`, with random wait
    /// classes, busy and zero-parameter flags) against the dispatch rules of docs/accelerator.md:
    /// a head is accepted exactly when it is valid, dispatch is enabled, every module its class
    /// names is idle (a start issued last cycle counts as busy), the parameters have settled
    /// (three cycles after a parameter write) if its class waits for that, and it is not a
    /// refused `RUN`; a cycle after an acceptance come its starts, its transfer fields and its
    /// parameter write.
    #[test]
    fn heads_are_accepted_by_the_dispatch_rules_and_start_what_they_name() {
        let mut rng = Rng::from_env("dispatcher", 43);
        let mut h = crate::sim::Harness::new(Dispatcher::default()).unwrap();
        let (mut settle, mut c_pend, mut p_pend, mut m_pend) = (0u32, false, false, false);
        let mut last: Option<(&str, u64)> = None;
        let mut accepted = std::collections::BTreeMap::new();
        for step in 0..6000 {
            let (addr, words, mods, div) = (rng.below(1 << 26), rng.below(1 << 20), rng.below(32), rng.below(256));
            let heads = [
                ("MEM_LOAD", payload("MEM_LOAD", &[("target", rng.below(4)), ("addr", addr), ("words", words)])),
                ("MEM_STORE", payload("MEM_STORE", &[("source", rng.below(2)), ("addr", addr), ("words", words)])),
                ("MEM_COPY", payload("MEM_COPY", &[("words", words)])),
                ("MEM_LOADADD", payload("MEM_LOADADD", &[("addr", addr), ("words", words)])),
                ("PE_SHAPE", payload("PE_SHAPE", &[("h", 5)])),
                ("RUN", payload("RUN", &[("modules", mods)])),
                ("POOL_CLOCK", payload("POOL_CLOCK", &[("divider", div)])),
                ("END", payload("END", &[])),
            ];
            let (name, pl) = heads[rng.below(heads.len() as u64) as usize];
            let class = rng.below(32);
            let (iv, enabled) = (rng.below(4) != 0, rng.below(8) != 0);
            let (cb, pb, mb, cbad, pbad) = (rng.below(3) == 0, rng.below(3) == 0, rng.below(3) == 0, rng.below(6) == 0, rng.below(6) == 0);
            let u = &mut h.uut;
            u.running.next = true;
            u.enabled.next = enabled;
            u.iv.next = iv;
            u.op.next = u64::from(opcode(name)).into();
            u.pl.next = pl.into();
            u.wait_class.next = class.into();
            u.conv_busy.next = cb;
            u.pool_busy.next = pb;
            u.mover_busy.next = mb;
            u.conv_bad.next = cbad;
            u.pool_bad.next = pbad;
            h.settle().unwrap();
            let bit = |b: u32| class >> b & 1 == 1;
            let ok = (!bit(0) || (!mb && !m_pend))
                && (!bit(1) || (!cb && !c_pend))
                && (!bit(2) || (!pb && !p_pend))
                && (!bit(3) || settle == 0)
                && !bit(4);
            let run_bad = bit(3) && !bit(0) && ((cbad && bit(1)) || (pbad && bit(2)));
            let accept = iv && enabled && ok && !run_bad;
            let u = &h.uut;
            assert_eq!((u.ok.val(), u.run_bad.val(), u.bad_op.val()), (ok, run_bad, bit(4)), "step {step}");
            assert_eq!(u.accept.val(), accept, "step {step}");
            assert_eq!(u.ended.val(), accept && name == "END", "step {step}");
            // What the instruction accepted last cycle started.
            assert_eq!(u.pw_v.val(), last.is_some(), "step {step}");
            let (c_now, p_now, m_now) = match last {
                Some(("RUN", pl)) => (mods_of(pl) & (M_PE | M_ACC | M_ACT) != 0, mods_of(pl) & M_POOL != 0, false),
                Some((n, _)) if n.starts_with("MEM_") => (false, false, true),
                _ => (false, false, false),
            };
            assert_eq!((u.conv_start.val(), u.pool_start.val(), u.go.val()), (c_now, p_now, m_now), "step {step}, after {last:?}");
            if let Some((n, pl)) = last {
                assert_eq!(u.pw_op.val().index() as u8, opcode(n), "step {step}");
                assert_eq!(u.pw_pl.val(), Bits::<64>::from(pl), "step {step}");
                if n.starts_with("MEM_") {
                    let f = |name: &str| (pl >> field(n, name).offset) & ((1 << field(n, name).bits) - 1);
                    assert_eq!((u.g_store.val(), u.g_copy.val(), u.g_ladd.val()), (n == "MEM_STORE", n == "MEM_COPY", n == "MEM_LOADADD"), "step {step}");
                    assert_eq!(u.g_words.val().index() as u64, f("words"), "step {step}");
                    if n != "MEM_COPY" {
                        assert_eq!(u.g_addr.val().index() as u64, f("addr"), "step {step}");
                        let sel = match n {
                            "MEM_LOAD" => f("target"),
                            "MEM_STORE" => f("source"),
                            _ => 0,
                        };
                        assert_eq!(u.g_sel.val().index() as u64, sel, "step {step}");
                    }
                }
                if n == "POOL_CLOCK" {
                    assert_eq!(u.pool_div.val().index() as u64, pl >> field("POOL_CLOCK", "divider").offset & 255, "step {step}");
                }
            }
            *accepted.entry(name).or_insert(0) += u32::from(accept);
            c_pend = accept && name == "RUN" && mods_of(pl) & (M_PE | M_ACC | M_ACT) != 0;
            p_pend = accept && name == "RUN" && mods_of(pl) & M_POOL != 0;
            m_pend = accept && name.starts_with("MEM_");
            settle = if accept && (name == "PE_SHAPE" || name == "POOL_CLOCK") { 3 } else { settle.saturating_sub(1) };
            last = accept.then_some((name, pl));
            h.step().unwrap();
        }
        assert!(accepted.values().all(|&n| n > 20), "every kind accepted: {accepted:?}");
    }
}
