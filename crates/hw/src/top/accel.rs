//! # AccelTop: the integrated accelerator
//!
//! The host loads a compressed program through the register port and starts it; the instruction
//! decompressor unpacks it one instruction per cycle, through a two-entry instruction queue
//! (the decompressor is held by a register, the queue's second entry being full, not by the
//! dispatcher's decision in the same cycle: timing), into the **dispatcher**, which writes each
//! instruction into its functional module's control register (one register per module, patents.md
//! §3), starts transfers and runs, and waits where an instruction needs a module that is busy.
//! The modules: the **data mover** (external memory port ↔ on-chip buffers), the **conv engine**
//! and the **pooling unit** with its output buffer. See `docs/accelerator.md` for the block diagram,
//! the register map and the dispatch rules.
//!
//! Dispatch rules (scoreboarding on module busy flags, plus the program's `SYNC` barriers):
//! - a write to a module's register waits until that module is idle (it never changes the
//!   parameters of a running module); `MEM_LOAD` / `MEM_STORE` / `MEM_COPY` wait until the mover
//!   is idle and start it;
//! - `RUN` waits until the modules it starts are idle; `SYNC` until the modules in its mask are;
//!   `END` until every module is, then sets `done`;
//! - `RUN` and transfers also wait three cycles after the last register write (the derived
//!   parameters, products of register fields, are registered in two stages);
//! - `POOL_CLOCK` is applied by the pooling unit at the next "convolution done" event: the conv
//!   engine finishing a run, or, when the engine is idle as the register is written, at once.
//!
//! Errors stop dispatching and set `error` with a code: 1 malformed instruction stream (the
//! decompressor's error), 2 a transfer reached past an on-chip buffer, 3 an instruction that
//! is not dispatchable (a compressed form or `NOP` reaching the dispatcher), 4 the program was
//! larger than the instruction buffer, 5 the watchdog: an instruction waited `WATCHDOG` cycles for
//! a module (a module that never finishes, e.g. on parameters a corrupted program wrote), 6 a
//! `RUN` of a module whose registers hold a zero size, stride or tile count.
//!
//! | register (read, `reg_raddr`) | meaning |
//! |---|---|
//! | 0 STATUS | bit 0 busy, 1 done, 2 error, 3 decoding, 4 conv done, 5 pool done, 8-11 error code, 12 program overflow |
//! | 1 CYCLES | cycles since start |
//! | 2 INSTRUCTIONS | instructions dispatched |
//! | 3 DISPATCH_STALLS | cycles an instruction waited for a module |
//! | 4 CONV_BUSY / 5 POOL_BUSY / 6 MEM_BUSY | cycles each module was busy |
//! | 7 MEM_STALLS | cycles a memory request waited for the port |
//! | 8 WORDS | program words accepted |
//! | 9 POOL_DIV | the pooling unit's clock divider in force |
//! | 10 POOL_ENABLED | cycles the pooling unit was busy with its clock enable high |
//! | 11 MEM_WAIT / 12 CONV_WAIT / 13 POOL_WAIT | cycles an instruction waited for that module |
//!
//! Writes (`reg_we`, `reg_addr`): 0 DATA appends a program word; 1 CTRL: bit 0 start, bit 1 clear;
//! 2 WATCHDOG: the most cycles one instruction may wait (0, the reset value: no limit).

use crate::isa::InstrDecompressor;
use crate::mem::SyncRam;
use crate::pe::{ConvEngine, ConvEngineParams};
use crate::pool::{PoolUnit, PoolUnitParams};
use crate::top::{ConvRegs, DataMover, DataMoverParams, Dispatcher, InstrQueue, PerfCounters, PoolRegs};
use accelgen_config::HwConfig;
use rust_hdl::prelude::*;

/// The integrated accelerator, with memory words of W bits (L 32-bit lanes: `memory.word_bits`).
#[derive(LogicBlock)]
pub struct AccelTop<const W: usize, const L: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Host register write.
    pub reg_we: Signal<In, Bit>,
    /// Register written: 0 DATA, 1 CTRL.
    pub reg_addr: Signal<In, Bits<4>>,
    /// Write data.
    pub reg_wdata: Signal<In, Bits<64>>,
    /// Register read address.
    pub reg_raddr: Signal<In, Bits<4>>,
    /// The register read, one cycle later.
    pub reg_rdata: Signal<Out, Bits<32>>,
    /// Status: running, finished, stopped on an error.
    pub st_busy: Signal<Out, Bit>,
    /// Finished.
    pub st_done: Signal<Out, Bit>,
    /// Stopped on an error.
    pub st_error: Signal<Out, Bit>,
    /// External memory: request valid.
    pub m_req_valid: Signal<Out, Bit>,
    /// Request ready.
    pub m_req_ready: Signal<In, Bit>,
    /// Write request.
    pub m_req_we: Signal<Out, Bit>,
    /// Word address.
    pub m_req_addr: Signal<Out, Bits<26>>,
    /// Write data.
    pub m_req_wdata: Signal<Out, Bits<W>>,
    /// Lane enables of a write.
    pub m_req_be: Signal<Out, Bits<L>>,
    /// Read response valid.
    pub m_rsp_valid: Signal<In, Bit>,
    /// Response ready.
    pub m_rsp_ready: Signal<Out, Bit>,
    /// Response data.
    pub m_rsp_data: Signal<In, Bits<W>>,

    /// The blocks.
    pub dec: InstrDecompressor,
    /// Conv engine.
    pub conv: ConvEngine,
    /// Pooling unit.
    pub pool: PoolUnit,
    /// Data mover.
    pub mover: DataMover<W, L>,
    /// Pooling output buffer.
    pout: SyncRam<Bits<8>>,

    /// The conv engine's and the pooling unit's control registers.
    cregs: ConvRegs,
    pregs: PoolRegs,
    /// Instruction queue between the decompressor and the dispatcher.
    queue: InstrQueue,
    /// The dispatcher: decision, starts, transfer fields, parameter writes.
    disp: Dispatcher,
    /// Sign extension of a pooled int8 to a 32-bit word.
    sext: Constant<Bits<32>>,
    /// Read addresses of the registers `accel_top` answers itself, from the register map.
    r_status: Constant<Bits<4>>,
    r_words: Constant<Bits<4>>,
    r_pool_div: Constant<Bits<4>>,
    /// Write addresses of CTRL and WATCHDOG, from the register map.
    w_ctrl: Constant<Bits<4>>,
    w_watchdog: Constant<Bits<4>>,
    /// Error codes, from `accelgen_isa::ERRORS`.
    err_stream: Constant<Bits<4>>,
    err_bounds: Constant<Bits<4>>,
    err_not_dispatchable: Constant<Bits<4>>,
    err_program_size: Constant<Bits<4>>,
    err_watchdog: Constant<Bits<4>>,
    err_bad_parameters: Constant<Bits<4>>,
    /// Dispatcher state.
    running: DFF<Bit>,
    fin: DFF<Bit>,
    err: DFF<Bit>,
    code: DFF<Bits<4>>,
    /// The conv engine's done flag last cycle (its rising edge is the "convolution done" event).
    conv_done_q: DFF<Bit>,
    /// The event counters and their host read port.
    pub perf: PerfCounters,
    /// The start command (CTRL bit 0 while not running): clears the counters.
    start_cmd: Signal<Local, Bit>,
    rdata: DFF<Bits<32>>,
    /// Watchdog: the limit (0: off) and the cycles the current instruction has waited.
    wd_limit: DFF<Bits<32>>,
    /// The host's DATA and CTRL writes, registered on their way to the decompressor (timing:
    /// the host port's decode does not reach the decompressor's control in its cycle; the
    /// decompressor takes each write a cycle after `accel_top`, in order).
    h_we: DFF<Bit>,
    h_addr: DFF<Bits<2>>,
    h_wdata: DFF<Bits<64>>,
    wd_count: DFF<Bits<32>>,
    /// Last cycle's acceptance and head-valid flags, which the watchdog counts from (timing: the
    /// acceptance does not reach the 32-bit counter in its cycle; the count lags one cycle).
    wd_acc: DFF<Bit>,
    wd_iv: DFF<Bit>,

    /// The queue's head is valid.
    iv: Signal<Local, Bit>,
    /// Status register value.
    status: Signal<Local, Bits<32>>,
}

impl<const W: usize, const L: usize> AccelTop<W, L> {
    /// The accelerator of a validated configuration (whose `memory.word_bits` is W).
    pub fn new(cfg: &HwConfig) -> Self {
        let e = ConvEngineParams::from_config(&cfg.pe_array);
        let u = PoolUnitParams::from_config(&cfg.pooling);
        Self::with_blocks(cfg, &e, &u)
    }

    /// The accelerator with the given block parameters (faults included, for tests).
    pub fn with_blocks(cfg: &HwConfig, e: &ConvEngineParams, u: &PoolUnitParams) -> Self {
        assert_eq!(cfg.memory.word_bits as usize, W, "the configuration's memory word");
        let mp = DataMoverParams {
            rows: e.rows,
            cols: e.cols,
            kernels: e.kernels,
            fm_banks: u.rows_per_read,
            depths: [
                e.first_cache_depth,
                e.weight_buffer_depth,
                e.bias_buffer_depth,
                u.feature_memory_depth,
                e.output_buffer_depth,
                u.feature_memory_depth,
            ],
        };
        block_with_defaults!(AccelTop {
            dec: InstrDecompressor::new(cfg.isa.buffer_depth as usize),
            conv: ConvEngine::new(e),
            pool: PoolUnit::new(u),
            mover: DataMover::new(&mp),
            pout: SyncRam::collision_free(u.feature_memory_depth),
            cregs: ConvRegs::new(e.kernels, e.first_cache_depth, e.output_buffer_depth),
            pregs: PoolRegs::default(),
            queue: InstrQueue::default(),
            disp: Dispatcher::default(),
            sext: Constant::new(0xffff_ff00u64.into()),
            r_status: Constant::new(u64::from(accelgen_isa::read_register("STATUS")).into()),
            r_words: Constant::new(u64::from(accelgen_isa::read_register("WORDS")).into()),
            r_pool_div: Constant::new(u64::from(accelgen_isa::read_register("POOL_DIV")).into()),
            w_ctrl: Constant::new(u64::from(accelgen_isa::write_register("CTRL")).into()),
            w_watchdog: Constant::new(u64::from(accelgen_isa::write_register("WATCHDOG")).into()),
            err_stream: Constant::new(u64::from(accelgen_isa::ERR_STREAM).into()),
            err_bounds: Constant::new(u64::from(accelgen_isa::ERR_BOUNDS).into()),
            err_not_dispatchable: Constant::new(u64::from(accelgen_isa::ERR_NOT_DISPATCHABLE).into()),
            err_program_size: Constant::new(u64::from(accelgen_isa::ERR_PROGRAM_SIZE).into()),
            err_watchdog: Constant::new(u64::from(accelgen_isa::ERR_WATCHDOG).into()),
            err_bad_parameters: Constant::new(u64::from(accelgen_isa::ERR_BAD_PARAMETERS).into()),
        } defaults {
            clock, reg_we, reg_addr, reg_wdata, reg_raddr, reg_rdata, st_busy, st_done, st_error,
            m_req_valid, m_req_ready, m_req_we, m_req_addr, m_req_wdata, m_req_be, m_rsp_valid,
            m_rsp_ready, m_rsp_data, running, fin, err, code, conv_done_q, perf, start_cmd, rdata,
            wd_limit, h_we, h_addr, h_wdata, wd_count, wd_acc, wd_iv, iv, status,
        })
    }
}

// RUN and SYNC share the dispatcher's mask decode (`get_value_run_modules`).
const _: () = {
    let (run, sync) = (accelgen_isa::field("RUN", "modules"), accelgen_isa::field("SYNC", "modules"));
    assert!(run.offset == sync.offset && run.bits == sync.bits);
};

impl<const W: usize, const L: usize> Logic for AccelTop<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, h_we, h_addr, h_wdata, running, fin, err, code, conv_done_q, rdata, wd_limit, wd_count, wd_acc, wd_iv);
        clock!(self, clock, dec, conv, pool, mover, perf, pout, cregs, pregs, queue, disp);

        // ---- Host register port.
        self.h_we.d.next = self.reg_we.val() & (self.reg_addr.val() < 2);
        self.h_addr.d.next = self.reg_addr.val().get_bits::<2>(0);
        self.h_wdata.d.next = self.reg_wdata.val();
        self.dec.reg_we.next = self.h_we.q.val();
        self.dec.reg_addr.next = self.h_addr.q.val();
        self.dec.reg_wdata.next = self.h_wdata.q.val();
        self.st_busy.next = self.running.q.val();
        self.st_done.next = self.fin.q.val();
        self.st_error.next = self.err.q.val();
        self.reg_rdata.next = self.rdata.q.val();
        self.status.next = bit_cast::<32, 4>(self.code.q.val()) << 8;
        if self.running.q.val() {
            self.status.next = self.status.val() | bits::<32>(1);
        }
        if self.fin.q.val() {
            self.status.next = self.status.val() | bits::<32>(2);
        }
        if self.err.q.val() {
            self.status.next = self.status.val() | bits::<32>(4);
        }
        if self.dec.st_busy.val() {
            self.status.next = self.status.val() | bits::<32>(8);
        }
        if self.conv.done.val() {
            self.status.next = self.status.val() | bits::<32>(16);
        }
        if self.pool.done.val() {
            self.status.next = self.status.val() | bits::<32>(32);
        }
        if self.dec.st_overflow.val() {
            self.status.next = self.status.val() | bits::<32>(0x1000);
        }
        // Host reads: the counters' register, else STATUS, WORDS, POOL_DIV.
        self.perf.raddr.next = self.reg_raddr.val();
        self.rdata.d.next = self.perf.rdata.val();
        if self.reg_raddr.val() == self.r_status.val() {
            self.rdata.d.next = self.status.val();
        } else if self.reg_raddr.val() == self.r_words.val() {
            self.rdata.d.next = bit_cast::<32, 16>(self.dec.count.val());
        } else if self.reg_raddr.val() == self.r_pool_div.val() {
            self.rdata.d.next = bit_cast::<32, 8>(self.pool.div_now.val());
        }

        // ---- Dispatcher, fed by the instruction queue (the decompressor is held while the
        // queue's skid entry is full).
        self.iv.next = self.queue.head_valid.val();
        self.disp.running.next = self.running.q.val();
        self.disp.enabled.next = self.running.q.val() & !self.err.q.val();
        // (From the queue directly, not through `iv`: Verilator orders an always block by the
        // variables its statements share, and `iv` also feeds the error checks, which read the
        // dispatcher's outputs; through `iv` the two blocks would form a false loop.)
        self.disp.iv.next = self.queue.head_valid.val();
        self.disp.op.next = self.queue.head_op.val();
        self.disp.pl.next = self.queue.head_pl.val();
        self.disp.wait_class.next = self.queue.head_class.val();
        self.disp.conv_busy.next = self.conv.busy.val();
        self.disp.pool_busy.next = self.pool.busy.val();
        self.disp.mover_busy.next = self.mover.busy.val();
        self.disp.conv_bad.next = self.cregs.bad.val();
        self.disp.pool_bad.next = self.pregs.bad.val();
        self.queue.in_valid.next = self.dec.wr_valid.val();
        self.queue.in_op.next = self.dec.wr_op.val();
        self.queue.in_payload.next = self.dec.wr_payload.val();
        self.queue.accept.next = self.disp.accept.val();
        self.dec.hold.next = self.queue.hold.val();
        if self.disp.ended.val() {
            self.running.d.next = false;
            self.fin.d.next = true;
        }
        self.mover.go.next = self.disp.go.val();
        self.mover.g_store.next = self.disp.g_store.val();
        self.mover.g_copy.next = self.disp.g_copy.val();
        self.mover.g_sel.next = self.disp.g_sel.val();
        self.mover.g_addr.next = self.disp.g_addr.val();
        self.mover.g_words.next = self.disp.g_words.val();
        self.mover.g_len.next = self.disp.g_len.val();
        self.mover.g_stride.next = self.disp.g_stride.val();
        self.mover.g_half.next = self.disp.g_half.val();
        self.mover.g_fw.next = self.pregs.p_w.val();
        self.mover.g_fph.next = self.pregs.p_ph.val();
        self.mover.g_hbw.next = self.pregs.p_hbw.val();
        self.cregs.we.next = self.disp.pw_v.val();
        self.cregs.op.next = self.disp.pw_op.val();
        self.cregs.payload.next = self.disp.pw_pl.val();
        self.pregs.we.next = self.disp.pw_v.val();
        self.pregs.op.next = self.disp.pw_op.val();
        self.pregs.payload.next = self.disp.pw_pl.val();

        // ---- Conv engine.
        self.conv.p_h.next = self.cregs.p_h.val();
        self.conv.p_w.next = self.cregs.p_w.val();
        self.conv.p_wo.next = self.cregs.p_wo.val();
        self.conv.p_kh.next = self.cregs.p_kh.val();
        self.conv.p_kw.next = self.cregs.p_kw.val();
        self.conv.p_sh.next = self.cregs.p_sh.val();
        self.conv.p_sw.next = self.cregs.p_sw.val();
        self.conv.p_ph.next = self.cregs.p_ph.val();
        self.conv.p_pw.next = self.cregs.p_pw.val();
        self.conv.p_ic_tiles.next = self.cregs.p_ic_tiles.val();
        self.conv.p_oc_tiles.next = self.cregs.p_oc_tiles.val();
        self.conv.p_plane.next = self.cregs.p_plane.val();
        self.conv.p_pixels.next = self.cregs.p_pixels.val();
        self.conv.p_shw.next = self.cregs.p_shw.val();
        self.conv.p_phw.next = self.cregs.p_phw.val();
        self.conv.p_passes.next = self.cregs.p_passes.val();
        self.conv.p_kp.next = self.cregs.p_kp.val();
        self.conv.p_rq_en.next = self.cregs.p_rq_en.val();
        self.conv.p_mult.next = self.cregs.p_mult.val();
        self.conv.p_shift.next = self.cregs.p_shift.val();
        self.conv.p_zp.next = self.cregs.p_zp.val();
        self.conv.p_relu.next = self.cregs.p_relu.val();
        self.conv.p_keep.next = self.cregs.p_keep.val();
        self.conv.p_nodrain.next = self.cregs.p_nodrain.val();
        self.conv.p_fbase.next = self.cregs.p_fbase.val();
        self.conv.p_obase.next = self.cregs.p_obase.val();
        self.conv.start.next = self.disp.conv_start.val();
        self.conv.ld_we.next = self.mover.w_en.val() & (self.mover.w_sel.val() != 3);
        self.conv.ld_target.next = self.mover.w_sel.val();
        self.conv.ld_rowsel.next = self.mover.w_bank.val();
        self.conv.ld_addr.next = self.mover.w_addr.val();
        self.conv.ld_data.next = self.mover.w_data.val();
        self.conv.rd_en.next = self.mover.r_en.val() & !self.mover.r_sel.val();
        self.conv.rd_bank.next = self.mover.r_bank.val();
        self.conv.rd_addr.next = self.mover.r_addr.val();

        // ---- Pooling unit and its output buffer.
        self.pool.p_c.next = self.pregs.p_c.val();
        self.pool.p_h.next = self.pregs.p_h.val();
        self.pool.p_w.next = self.pregs.p_w.val();
        self.pool.p_ho.next = self.pregs.p_ho.val();
        self.pool.p_wo.next = self.pregs.p_wo.val();
        self.pool.p_kh.next = self.pregs.p_kh.val();
        self.pool.p_kw.next = self.pregs.p_kw.val();
        self.pool.p_sh.next = self.pregs.p_sh.val();
        self.pool.p_sw.next = self.pregs.p_sw.val();
        self.pool.p_pw.next = self.pregs.p_pw.val();
        self.pool.p_hbw.next = self.pregs.p_hbw.val();
        self.pool.p_xcols.next = self.pregs.p_xcols.val();
        self.pool.p_count.next = self.pregs.p_count.val();
        self.pool.p_avg.next = self.pregs.p_avg.val();
        self.pool.p_ph.next = bit_cast::<16, 2>(self.pregs.p_ph.val());
        self.pool.p_div.next = self.disp.pool_div.val();
        self.conv_done_q.d.next = self.conv.done.val();
        self.pool.conv_done.next = (self.conv.done.val() & !self.conv_done_q.q.val()) | self.disp.clk_now.val();
        self.pool.start.next = self.disp.pool_start.val();
        self.pool.ld_we.next = self.mover.w_en.val() & (self.mover.w_sel.val() == 3);
        self.pool.ld_bank.next = self.mover.w_bank.val().get_bits::<16>(0);
        self.pool.ld_addr.next = self.mover.w_addr.val();
        self.pool.ld_data.next = self.mover.w_data.val().get_bits::<8>(0);
        self.pout.w_en.next = self.pool.out_valid.val();
        self.pout.w_addr.next = self.pool.out_idx.val().get_bits::<16>(0);
        self.pout.w_data.next = self.pool.out_data.val();
        self.pout.r_en.next = self.mover.r_en.val() & self.mover.r_sel.val();
        self.pout.r_addr.next = self.mover.r_addr.val();
        if self.mover.r_sel.val() {
            if self.pout.r_data.val().get_bit(7) {
                self.mover.r_data.next = bit_cast::<32, 8>(self.pout.r_data.val()) | self.sext.val();
            } else {
                self.mover.r_data.next = bit_cast::<32, 8>(self.pout.r_data.val());
            }
        } else {
            self.mover.r_data.next = self.conv.rd_data.val();
        }

        // ---- External memory port.
        self.m_req_valid.next = self.mover.m_req_valid.val();
        self.m_req_we.next = self.mover.m_req_we.val();
        self.m_req_addr.next = self.mover.m_req_addr.val();
        self.m_req_wdata.next = self.mover.m_req_wdata.val();
        self.m_req_be.next = self.mover.m_req_be.val();
        self.mover.m_req_ready.next = self.m_req_ready.val();
        self.mover.m_rsp_valid.next = self.m_rsp_valid.val();
        self.mover.m_rsp_data.next = self.m_rsp_data.val();
        self.m_rsp_ready.next = self.mover.m_rsp_ready.val();

        // ---- Counters and errors.
        // Counted events: each module's busy cycles and the memory stalls while running; a wait
        // a cycle after it happened (the dispatcher's `w_*`, registered).
        self.perf.cycles.next = self.running.q.val();
        self.perf.instructions.next = self.disp.accept.val();
        self.perf.dispatch_stalls.next = self.disp.w_any.val();
        self.perf.mem_wait.next = self.disp.w_mem.val();
        self.perf.conv_wait.next = self.disp.w_conv.val();
        self.perf.pool_wait.next = self.disp.w_pool.val();
        self.perf.conv_busy.next = self.running.q.val() & self.conv.busy.val();
        self.perf.pool_busy.next = self.running.q.val() & self.pool.busy.val();
        self.perf.pool_enabled.next = self.running.q.val() & self.pool.busy.val() & self.pool.enable.val();
        self.perf.mem_busy.next = self.running.q.val() & self.mover.busy.val();
        self.perf.mem_stalls.next = self.running.q.val() & self.mover.m_req_valid.val() & !self.m_req_ready.val();
        self.wd_acc.d.next = self.disp.accept.val();
        self.wd_iv.d.next = self.iv.val();
        if self.wd_acc.q.val() | !self.running.q.val() {
            self.wd_count.d.next = 0.into();
        } else if self.wd_iv.q.val() {
            self.wd_count.d.next = self.wd_count.q.val() + 1;
        }
        if self.running.q.val() {
            if !self.err.q.val() {
                if self.dec.st_error.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_stream.val();
                } else if self.mover.err.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_bounds.val();
                } else if self.iv.val() & self.disp.bad_op.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_not_dispatchable.val();
                } else if self.iv.val() & self.disp.run_bad.val() & self.disp.ok.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_bad_parameters.val();
                } else if self.wd_limit.q.val().any() & (self.wd_count.q.val() == self.wd_limit.q.val()) {
                    self.err.d.next = true;
                    self.code.d.next = self.err_watchdog.val();
                }
            }
            if self.err.q.val() {
                self.running.d.next = false;
            }
        }

        // ---- Watchdog limit (WATCHDOG), start and clear (CTRL).
        self.start_cmd.next = self.reg_we.val()
            & (self.reg_addr.val() == self.w_ctrl.val())
            & self.reg_wdata.val().get_bit(0)
            & !self.running.q.val();
        self.perf.clear.next = self.start_cmd.val();
        if self.reg_we.val() & (self.reg_addr.val() == self.w_watchdog.val()) {
            self.wd_limit.d.next = self.reg_wdata.val().get_bits::<32>(0);
        }
        self.queue.flush.next = false;
        if self.reg_we.val() & (self.reg_addr.val() == self.w_ctrl.val()) {
            if self.reg_wdata.val().get_bit(1) {
                self.running.d.next = false;
                self.fin.d.next = false;
                self.err.d.next = false;
                self.code.d.next = 0.into();
                self.queue.flush.next = true;
            }
            if self.start_cmd.val() {
                self.queue.flush.next = true;
                self.fin.d.next = false;
                if self.dec.st_overflow.val() {
                    self.err.d.next = true;
                    self.code.d.next = self.err_program_size.val();
                } else {
                    self.running.d.next = true;
                    self.err.d.next = false;
                    self.code.d.next = 0.into();
                }
            }
        }
    }
}

impl<const W: usize, const L: usize> crate::sim::Clocked for AccelTop<W, L> {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

crate::top_io!(
    impl [const W: usize, const L: usize] AccelTop<W, L>,
    inputs: [reg_we, reg_addr, reg_wdata, reg_raddr, m_req_ready, m_rsp_valid, m_rsp_data],
    outputs: [
        reg_rdata, st_busy, st_done, st_error, m_req_valid, m_req_we, m_req_addr, m_req_wdata,
        m_req_be, m_rsp_ready,
    ],
    /// Observed: the dispatcher's instruction count (per-layer attribution) and the pooling
    /// unit's divider in force.
    fn walk_observed(&self, s: &mut dyn crate::io::ObsSink) {
        use crate::io::PortValue;
        s.add(&|| "perf__instr_count".into(), 32, self.perf.instr_count.val().get_u64());
        s.add(&|| "pool__div_now".into(), 8, self.pool.div_now.val().get_u64());
        s.add(&|| "conv__busy".into(), 1, self.conv.busy.val().get_u64());
        s.add(&|| "pool__busy".into(), 1, self.pool.busy.val().get_u64());
    }
);
