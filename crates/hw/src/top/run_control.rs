//! # RunControl: `accel_top`'s host registers, run state, errors and watchdog
//!
//! The host side of the register map (docs/accelerator.md; addresses from
//! `accelgen_isa::READ_REGISTERS` / `WRITE_REGISTERS`): DATA and CTRL writes go on to the
//! decompressor a cycle later (registered: the host port's decode does not reach the
//! decompressor's control in its cycle); CTRL bit 0 starts a loaded program (clearing the
//! counters and the instruction queue; error 4 if the program overflowed the buffer), bit 1
//! clears the run state; WATCHDOG sets the most cycles one instruction may wait (0: no limit).
//! Reads are registered: STATUS is assembled here, WORDS and POOL_DIV come from their blocks,
//! every other address from the counters.
//!
//! While running, the first error stops dispatching, in this priority: 1 a malformed instruction
//! stream, 2 a transfer past an on-chip buffer, 3 a head that is not dispatchable, 6 a refused
//! `RUN` (once its modules are idle), 5 the watchdog (the head waited `WATCHDOG` cycles; the
//! count lags a cycle: timing). `END` accepted ends the run with `done`.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `reg_we`, `reg_addr`, `reg_wdata`, `reg_raddr` | in | 1, 1, 4, 64, 4 | host register port |
//! | `dec_busy`, `conv_done`, `pool_done`, `overflow` | in | 1 | STATUS bits 3, 4, 5, 12 |
//! | `words`, `pool_div`, `perf_rdata` | in | 16, 8, 32 | WORDS, POOL_DIV, the counter at `reg_raddr` |
//! | `dec_error`, `mover_err`, `bus_err` | in | 1 | error sources 1, 2 and 7 |
//! | `iv`, `bad_op`, `run_bad`, `ok`, `accept`, `ended` | in | 1 | the dispatcher's head and decision |
//! | `dec_we`, `dec_addr`, `dec_wdata` | out | 1, 2, 64 | the decompressor's register write |
//! | `running`, `done`, `error` | out | 1 | run state (STATUS bits 0-2) |
//! | `rdata` | out | 32 | the register read (a cycle after `reg_raddr`) |
//! | `start`, `flush` | out | 1 | a start command (clear the counters); empty the instruction queue |
//! | `clear` | out | 1 | a cycle after a start: the module registers back to their reset values |

use accelgen_isa::{read_register, write_register, ERR_BAD_PARAMETERS, ERR_BOUNDS, ERR_NOT_DISPATCHABLE, ERR_BUS, ERR_PROGRAM_SIZE, ERR_STREAM, ERR_WATCHDOG};
use rust_hdl::prelude::*;

/// The host registers and run state.
#[derive(LogicBlock)]
pub struct RunControl {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Host write.
    pub reg_we: Signal<In, Bit>,
    /// Its address.
    pub reg_addr: Signal<In, Bits<4>>,
    /// Its data.
    pub reg_wdata: Signal<In, Bits<64>>,
    /// Host read address.
    pub reg_raddr: Signal<In, Bits<4>>,
    /// The decompressor is decoding.
    pub dec_busy: Signal<In, Bit>,
    /// The conv engine is done.
    pub conv_done: Signal<In, Bit>,
    /// The pooling unit is done.
    pub pool_done: Signal<In, Bit>,
    /// The program overflowed the instruction buffer.
    pub overflow: Signal<In, Bit>,
    /// Program words accepted.
    pub words: Signal<In, Bits<16>>,
    /// The pooling divider in force.
    pub pool_div: Signal<In, Bits<8>>,
    /// The counter at `reg_raddr`.
    pub perf_rdata: Signal<In, Bits<32>>,
    /// The instruction stream is malformed.
    pub dec_error: Signal<In, Bit>,
    /// A transfer reached past a buffer.
    pub mover_err: Signal<In, Bit>,
    /// The memory answered with an error.
    pub bus_err: Signal<In, Bit>,
    /// The dispatcher's head is valid.
    pub iv: Signal<In, Bit>,
    /// It is not dispatchable.
    pub bad_op: Signal<In, Bit>,
    /// It is a refused `RUN`.
    pub run_bad: Signal<In, Bit>,
    /// Its modules are idle.
    pub ok: Signal<In, Bit>,
    /// It is accepted.
    pub accept: Signal<In, Bit>,
    /// An `END` is accepted.
    pub ended: Signal<In, Bit>,
    /// Decompressor register write.
    pub dec_we: Signal<Out, Bit>,
    /// Its address.
    pub dec_addr: Signal<Out, Bits<2>>,
    /// Its data.
    pub dec_wdata: Signal<Out, Bits<64>>,
    /// A program runs.
    pub running: Signal<Out, Bit>,
    /// It ended.
    pub done: Signal<Out, Bit>,
    /// It stopped on an error.
    pub error: Signal<Out, Bit>,
    /// The register read.
    pub rdata: Signal<Out, Bits<32>>,
    /// A start command.
    pub start: Signal<Out, Bit>,
    /// A cycle after a start: put the module registers back to their reset values (registered:
    /// the modules' register writes and this block's inputs would otherwise close a loop).
    pub clear: Signal<Out, Bit>,
    /// Empty the instruction queue.
    pub flush: Signal<Out, Bit>,
    /// Register addresses and error codes, from the register map and `accelgen_isa::ERRORS`.
    r_status: Constant<Bits<4>>,
    r_words: Constant<Bits<4>>,
    r_pool_div: Constant<Bits<4>>,
    w_ctrl: Constant<Bits<4>>,
    w_watchdog: Constant<Bits<4>>,
    err_stream: Constant<Bits<4>>,
    err_bounds: Constant<Bits<4>>,
    err_not_dispatchable: Constant<Bits<4>>,
    err_program_size: Constant<Bits<4>>,
    err_watchdog: Constant<Bits<4>>,
    err_bad_parameters: Constant<Bits<4>>,
    err_bus: Constant<Bits<4>>,
    /// The host's DATA and CTRL writes, registered on their way to the decompressor.
    h_we: DFF<Bit>,
    h_addr: DFF<Bits<2>>,
    h_wdata: DFF<Bits<64>>,
    /// Run state and error code.
    run: DFF<Bit>,
    fin: DFF<Bit>,
    err: DFF<Bit>,
    code: DFF<Bits<4>>,
    rdata_r: DFF<Bits<32>>,
    /// Watchdog: the limit (0: off), the cycles the head has waited, and last cycle's
    /// acceptance and head-valid flags, which it counts from (timing: the count lags a cycle).
    wd_limit: DFF<Bits<32>>,
    wd_count: DFF<Bits<32>>,
    wd_acc: DFF<Bit>,
    wd_iv: DFF<Bit>,
    /// The start, a cycle later (`clear`).
    clr: DFF<Bit>,
    /// STATUS.
    status: Signal<Local, Bits<32>>,
    /// A CTRL write.
    ctrl: Signal<Local, Bit>,
}

impl Default for RunControl {
    fn default() -> Self {
        let c = |v: u8| Constant::new(u64::from(v).into());
        block_with_defaults!(RunControl {
            r_status: c(read_register("STATUS")),
            r_words: c(read_register("WORDS")),
            r_pool_div: c(read_register("POOL_DIV")),
            w_ctrl: c(write_register("CTRL")),
            w_watchdog: c(write_register("WATCHDOG")),
            err_stream: c(ERR_STREAM),
            err_bounds: c(ERR_BOUNDS),
            err_not_dispatchable: c(ERR_NOT_DISPATCHABLE),
            err_program_size: c(ERR_PROGRAM_SIZE),
            err_watchdog: c(ERR_WATCHDOG),
            err_bad_parameters: c(ERR_BAD_PARAMETERS),
            err_bus: c(ERR_BUS),
        } defaults {
            clock, reg_we, reg_addr, reg_wdata, reg_raddr, dec_busy, conv_done, pool_done, overflow,
            words, pool_div, perf_rdata, dec_error, mover_err, bus_err, iv, bad_op, run_bad, ok, accept,
            ended, dec_we, dec_addr, dec_wdata, running, done, error, rdata, start, clear, clr, flush, h_we,
            h_addr, h_wdata, run, fin, err, code, rdata_r, wd_limit, wd_count, wd_acc, wd_iv, status,
            ctrl,
        })
    }
}

impl Logic for RunControl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, h_we, h_addr, h_wdata, run, fin, err, code, rdata_r, wd_limit, wd_count, wd_acc, wd_iv, clr);
        self.h_we.d.next = self.reg_we.val() & (self.reg_addr.val() < 2);
        self.h_addr.d.next = self.reg_addr.val().get_bits::<2>(0);
        self.h_wdata.d.next = self.reg_wdata.val();
        self.dec_we.next = self.h_we.q.val();
        self.dec_addr.next = self.h_addr.q.val();
        self.dec_wdata.next = self.h_wdata.q.val();
        self.running.next = self.run.q.val();
        self.done.next = self.fin.q.val();
        self.error.next = self.err.q.val();
        self.rdata.next = self.rdata_r.q.val();

        // ---- Reads: STATUS, WORDS, POOL_DIV, else the counters.
        self.status.next = bit_cast::<32, 4>(self.code.q.val()) << 8;
        if self.run.q.val() {
            self.status.next = self.status.val() | bits::<32>(1);
        }
        if self.fin.q.val() {
            self.status.next = self.status.val() | bits::<32>(2);
        }
        if self.err.q.val() {
            self.status.next = self.status.val() | bits::<32>(4);
        }
        if self.dec_busy.val() {
            self.status.next = self.status.val() | bits::<32>(8);
        }
        if self.conv_done.val() {
            self.status.next = self.status.val() | bits::<32>(16);
        }
        if self.pool_done.val() {
            self.status.next = self.status.val() | bits::<32>(32);
        }
        if self.overflow.val() {
            self.status.next = self.status.val() | bits::<32>(0x1000);
        }
        self.rdata_r.d.next = self.perf_rdata.val();
        if self.reg_raddr.val() == self.r_status.val() {
            self.rdata_r.d.next = self.status.val();
        } else if self.reg_raddr.val() == self.r_words.val() {
            self.rdata_r.d.next = bit_cast::<32, 16>(self.words.val());
        } else if self.reg_raddr.val() == self.r_pool_div.val() {
            self.rdata_r.d.next = bit_cast::<32, 8>(self.pool_div.val());
        }

        // ---- Errors, the watchdog, the end.
        if self.ended.val() {
            self.run.d.next = false;
            self.fin.d.next = true;
        }
        self.wd_acc.d.next = self.accept.val();
        self.wd_iv.d.next = self.iv.val();
        if self.wd_acc.q.val() | !self.run.q.val() {
            self.wd_count.d.next = 0.into();
        } else if self.wd_iv.q.val() {
            self.wd_count.d.next = self.wd_count.q.val() + 1;
        }
        if self.run.q.val() {
            if !self.err.q.val() {
                if self.dec_error.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_stream.val();
                } else if self.mover_err.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_bounds.val();
                } else if self.bus_err.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_bus.val();
                } else if self.iv.val() & self.bad_op.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_not_dispatchable.val();
                } else if self.iv.val() & self.run_bad.val() & self.ok.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_bad_parameters.val();
                } else if self.wd_limit.q.val().any() & (self.wd_count.q.val() == self.wd_limit.q.val()) {
                    self.err.d.next = true;
                    self.code.d.next = self.err_watchdog.val();
                }
            }
            if self.err.q.val() {
                self.run.d.next = false;
            }
        }

        // ---- WATCHDOG; CTRL: start and clear.
        if self.reg_we.val() & (self.reg_addr.val() == self.w_watchdog.val()) {
            self.wd_limit.d.next = self.reg_wdata.val().get_bits::<32>(0);
        }
        self.ctrl.next = self.reg_we.val() & (self.reg_addr.val() == self.w_ctrl.val());
        self.start.next = self.ctrl.val() & self.reg_wdata.val().get_bit(0) & !self.run.q.val();
        self.clr.d.next = self.start.val();
        self.clear.next = self.clr.q.val();
        self.flush.next = false;
        if self.ctrl.val() & self.reg_wdata.val().get_bit(1) {
            self.run.d.next = false;
            self.fin.d.next = false;
            self.err.d.next = false;
            self.code.d.next = 0.into();
            self.flush.next = true;
        }
        if self.start.val() {
            self.flush.next = true;
            self.fin.d.next = false;
            if self.overflow.val() {
                self.err.d.next = true;
                self.code.d.next = self.err_program_size.val();
            } else {
                self.run.d.next = true;
                self.err.d.next = false;
                self.code.d.next = 0.into();
            }
        }
    }
}

crate::clocked!(RunControl);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// The run state of docs/accelerator.md, stepped once per cycle.
    #[derive(Default)]
    struct Model {
        run: bool,
        fin: bool,
        err: bool,
        code: u8,
        wd_limit: u64,
        wd_count: u64,
        wd_acc: bool,
        wd_iv: bool,
    }

    /// Random host writes (CTRL start/clear, WATCHDOG, DATA), random error sources and
    /// dispatcher decisions against a model of the run state: STATUS, `running`/`done`/`error`,
    /// the first error's code in priority order (stream, bounds, not dispatchable, refused RUN,
    /// watchdog), `END`, the watchdog count, and the registered reads of every address.
    #[test]
    fn run_state_errors_and_reads_follow_the_register_map() {
        let mut rng = Rng::from_env("run-control", 47);
        let mut h = crate::sim::Harness::new(RunControl::default()).unwrap();
        let mut m = Model::default();
        let mut want_rdata = 0u64;
        let mut codes = std::collections::BTreeSet::new();
        let (ctrl, wd) = (u64::from(write_register("CTRL")), u64::from(write_register("WATCHDOG")));
        for step in 0..20000 {
            let we = rng.below(20) == 0;
            let addr = [0, ctrl, wd, 3][rng.below(4) as usize];
            let wdata = if addr == wd { rng.below(12) } else { rng.below(4) };
            let raddr = rng.below(16);
            let f = |rng: &mut Rng, n: u64| rng.below(n) == 0;
            let (dec_busy, conv_done, pool_done, overflow) = (f(&mut rng, 2), f(&mut rng, 2), f(&mut rng, 2), f(&mut rng, 40));
            let (dec_error, mover_err, bad_op, run_bad) = (f(&mut rng, 300), f(&mut rng, 300), f(&mut rng, 200), f(&mut rng, 50));
            let bus_err = f(&mut rng, 300);
            let (iv, ok) = (f(&mut rng, 2) || f(&mut rng, 2), f(&mut rng, 2));
            let accept = iv && ok && m.run && !m.err && f(&mut rng, 2);
            let ended = accept && f(&mut rng, 100);
            let (words, div, perf) = (rng.below(1 << 16), rng.below(256), rng.below(1 << 32));
            let u = &mut h.uut;
            u.reg_we.next = we;
            u.reg_addr.next = addr.into();
            u.reg_wdata.next = wdata.into();
            u.reg_raddr.next = raddr.into();
            for (s, v) in [
                (&mut u.dec_busy, dec_busy), (&mut u.conv_done, conv_done), (&mut u.pool_done, pool_done),
                (&mut u.overflow, overflow), (&mut u.dec_error, dec_error), (&mut u.mover_err, mover_err), (&mut u.bus_err, bus_err),
                (&mut u.iv, iv), (&mut u.bad_op, bad_op), (&mut u.run_bad, run_bad), (&mut u.ok, ok),
                (&mut u.accept, accept), (&mut u.ended, ended),
            ] {
                s.next = v;
            }
            u.words.next = words.into();
            u.pool_div.next = div.into();
            u.perf_rdata.next = perf.into();
            h.settle().unwrap();
            let u = &h.uut;
            assert_eq!((u.running.val(), u.done.val(), u.error.val()), (m.run, m.fin, m.err), "step {step}");
            assert_eq!(u.rdata.val().index() as u64, want_rdata, "step {step}");
            let start = we && addr == ctrl && wdata & 1 == 1 && !m.run;
            assert_eq!(u.start.val(), start, "step {step}");
            assert_eq!(u.flush.val(), start || (we && addr == ctrl && wdata & 2 == 2), "step {step}");
            // Next cycle's read and state.
            let status = u64::from(m.run) | u64::from(m.fin) << 1 | u64::from(m.err) << 2 | u64::from(dec_busy) << 3
                | u64::from(conv_done) << 4 | u64::from(pool_done) << 5 | u64::from(m.code) << 8 | u64::from(overflow) << 12;
            want_rdata = match raddr as u8 {
                r if r == read_register("STATUS") => status,
                r if r == read_register("WORDS") => words,
                r if r == read_register("POOL_DIV") => div,
                _ => perf,
            };
            let mut n = Model { wd_acc: accept, wd_iv: iv, ..Default::default() };
            n.wd_count = if m.wd_acc || !m.run { 0 } else { m.wd_count + u64::from(m.wd_iv) };
            n.wd_limit = if we && addr == wd { wdata } else { m.wd_limit };
            (n.run, n.fin, n.err, n.code) = (m.run && !ended, m.fin || ended, m.err, m.code);
            if m.run {
                if !m.err {
                    let e = [
                        (dec_error, ERR_STREAM),
                        (mover_err, ERR_BOUNDS),
                        (bus_err, ERR_BUS),
                        (iv && bad_op, ERR_NOT_DISPATCHABLE),
                        (iv && run_bad && ok, ERR_BAD_PARAMETERS),
                        (m.wd_limit != 0 && m.wd_count == m.wd_limit, ERR_WATCHDOG),
                    ];
                    if let Some(&(_, c)) = e.iter().find(|(on, _)| *on) {
                        (n.err, n.code) = (true, c);
                        codes.insert(c);
                    }
                } else {
                    n.run = false;
                }
            }
            if we && addr == ctrl && wdata & 2 == 2 {
                (n.run, n.fin, n.err, n.code) = (false, false, false, 0);
            }
            if start {
                n.fin = false;
                (n.run, n.err, n.code) = if overflow { (n.run, true, ERR_PROGRAM_SIZE) } else { (true, false, 0) };
            }
            m = n;
            h.step().unwrap();
        }
        assert_eq!(codes.len(), 6, "every run-time error exercised: {codes:?}");
    }
}
