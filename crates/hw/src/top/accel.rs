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
//!   is idle and start it; `MEM_LOADADD` waits for the conv engine too (its sums go into the output
//!   buffer); `ACT_ADDK` / `ACT_ADD` write the add unit's registers (`AddRegs`), which the mover
//!   takes as a load-add starts;
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
//!
//! A start puts every module register (the conv engine's, the pooling unit's, `MEM_SHAPE` and the
//! pooling divider) back to its reset value, so a loaded program runs again the same on the next
//! start: the compiler and the compressor count on reset values (a first write of zeros is
//! dropped), and a batch of inferences loads its program once.

use crate::isa::InstrDecompressor;
use crate::pe::{ConvEngine, ConvEngineParams};
use crate::pool::PoolUnitParams;
use crate::top::{AddRegs, ConvRegs, MemPort, DataMover, DataMoverParams, Dispatcher, InstrQueue, PerfCounters, PoolSide, RunControl};
use accelgen_config::HwConfig;
use rust_hdl::prelude::*;

/// The integrated accelerator, with memory words of W bits (L = W/8 byte enables: `memory.word_bits`).
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
    /// External memory: `m_req_*`, `m_rsp_*` (see [`MemPort`]).
    pub m: MemPort<W, L>,

    /// The blocks.
    pub dec: InstrDecompressor,
    /// Conv engine.
    pub conv: ConvEngine,
    /// Pooling unit, its control registers and output buffer.
    pub pool: PoolSide,
    /// Data mover.
    pub mover: DataMover<W, L>,
    /// The conv engine's control registers.
    cregs: ConvRegs,
    /// The add unit's registers (`ACT_ADDK`, `ACT_ADD`; the unit is the mover's).
    aregs: AddRegs,
    /// Instruction queue between the decompressor and the dispatcher.
    queue: InstrQueue,
    /// The dispatcher: decision, starts, transfer fields, parameter writes.
    disp: Dispatcher,
    /// Host registers, run state, errors and watchdog.
    rc: RunControl,
    /// The event counters and their host read port.
    pub perf: PerfCounters,
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
        let e = &ConvEngineParams { lanes: cfg.first_cache_lanes(), out_lanes: cfg.output_lanes(), ..*e };
        let u = &PoolUnitParams { fm_lanes: cfg.feature_memory_lanes(), ..*u };
        let mp = DataMoverParams {
            rows: e.rows,
            cols: e.cols,
            fm_banks: u.rows_per_read,
            depths: [
                e.first_cache_depth,
                e.weight_bank_depth(),
                e.bias_buffer_depth,
                u.feature_memory_depth,
                e.output_buffer_depth,
                u.feature_memory_depth,
            ],
            fc_lanes: e.lanes,
            out_lanes: e.out_lanes,
            fm_lanes: u.fm_lanes,
        };
        block_with_defaults!(AccelTop {
            dec: InstrDecompressor::new(cfg.isa.buffer_depth as usize),
            conv: ConvEngine::new(e),
            pool: PoolSide::new(u),
            mover: DataMover::new(&mp),
            cregs: ConvRegs::new(e.kernels, e.cols, e.first_cache_depth, e.output_buffer_depth),
            queue: InstrQueue::default(),
            aregs: AddRegs::default(),
            disp: Dispatcher::default(),
            rc: RunControl::default(),
        } defaults {
            clock, reg_we, reg_addr, reg_wdata, reg_raddr, reg_rdata, st_busy, st_done, st_error,
            m, perf,
        })
    }
}

impl<const W: usize, const L: usize> Logic for AccelTop<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, dec, conv, pool, mover, perf, cregs, aregs, queue, disp, rc);

        // ---- Host registers, run state, errors.
        self.rc.reg_we.next = self.reg_we.val();
        self.rc.reg_addr.next = self.reg_addr.val();
        self.rc.reg_wdata.next = self.reg_wdata.val();
        self.rc.reg_raddr.next = self.reg_raddr.val();
        self.rc.dec_busy.next = self.dec.st_busy.val();
        self.rc.conv_done.next = self.conv.done.val();
        self.rc.pool_done.next = self.pool.done.val();
        self.rc.overflow.next = self.dec.st_overflow.val();
        self.rc.words.next = self.dec.count.val();
        self.rc.pool_div.next = self.pool.div_now.val();
        self.rc.perf_rdata.next = self.perf.rdata.val();
        self.rc.dec_error.next = self.dec.st_error.val();
        self.rc.mover_err.next = self.mover.err.val();
        self.rc.bus_err.next = self.m.rsp_err.val();
        self.rc.iv.next = self.queue.head_valid.val();
        self.rc.bad_op.next = self.disp.bad_op.val();
        self.rc.run_bad.next = self.disp.run_bad.val();
        self.rc.ok.next = self.disp.ok.val();
        self.rc.accept.next = self.disp.accept.val();
        self.rc.ended.next = self.disp.ended.val();
        self.dec.reg_we.next = self.rc.dec_we.val();
        self.dec.reg_addr.next = self.rc.dec_addr.val();
        self.dec.reg_wdata.next = self.rc.dec_wdata.val();
        self.st_busy.next = self.rc.running.val();
        self.st_done.next = self.rc.done.val();
        self.st_error.next = self.rc.error.val();
        self.reg_rdata.next = self.rc.rdata.val();
        self.perf.raddr.next = self.reg_raddr.val();
        self.perf.clear.next = self.rc.start.val();
        self.queue.flush.next = self.rc.flush.val();

        // ---- Dispatcher, fed by the instruction queue (the decompressor is held while the queue's skid entry is full).
        self.disp.running.next = self.rc.running.val();
        self.disp.enabled.next = self.rc.running.val() & !self.rc.error.val();
        self.disp.iv.next = self.queue.head_valid.val();
        self.disp.op.next = self.queue.head_op.val();
        self.disp.pl.next = self.queue.head_pl.val();
        self.disp.wait_class.next = self.queue.head_class.val();
        self.disp.conv_busy.next = self.conv.busy.val();
        self.disp.pool_busy.next = self.pool.busy.val();
        self.disp.mover_busy.next = self.mover.busy.val();
        self.disp.conv_bad.next = self.cregs.bad.val();
        self.disp.pool_bad.next = self.pool.bad.val();
        self.queue.in_valid.next = self.dec.wr_valid.val();
        self.queue.in_op.next = self.dec.wr_op.val();
        self.queue.in_payload.next = self.dec.wr_payload.val();
        self.queue.accept.next = self.disp.accept.val();
        self.dec.hold.next = self.queue.hold.val();
        self.mover.go.next = self.disp.go.val();
        self.mover.g_store.next = self.disp.g_store.val();
        self.mover.g_copy.next = self.disp.g_copy.val();
        self.mover.g_sel.next = self.disp.g_sel.val();
        self.mover.g_addr.next = self.disp.g_addr.val();
        self.mover.g_words.next = self.disp.g_words.val();
        self.mover.g_len.next = self.disp.g_len.val();
        self.mover.g_stride.next = self.disp.g_stride.val();
        self.mover.g_run.next = self.disp.g_run.val();
        self.mover.g_rows.next = self.disp.g_rows.val();
        self.mover.g_step.next = self.disp.g_step.val();
        self.mover.g_runs.next = self.disp.g_runs.val();
        self.mover.g_multi.next = self.disp.g_multi.val();
        self.mover.g_half.next = self.disp.g_half.val();
        // The store layout of the conv output: the run's kernels (a store or copy is dispatched
        // before the next layer's PE_KERNEL, in program order).
        self.mover.g_k.next = self.cregs.geom.val().k;
        self.mover.g_bcast.next = self.disp.g_bcast.val();
        self.mover.g_ladd.next = self.disp.g_ladd.val();
        self.mover.g_ra.next = self.aregs.ra.val();
        self.mover.g_rb.next = self.aregs.rb.val();
        self.mover.g_fixed.next = self.aregs.fixed.val();
        self.mover.g_qmin.next = self.aregs.qmin.val();
        self.mover.g_swap.next = self.aregs.swap.val();
        self.aregs.we.next = self.disp.pw_v.val();
        self.aregs.op.next = self.disp.pw_op.val();
        self.aregs.payload.next = self.disp.pw_pl.val();
        self.aregs.clear.next = self.rc.clear.val();
        self.mover.g_raw.next = !self.cregs.p_rq_en.val(); // no requantization: int32 sums, four bytes each
        self.mover.g_fw.next = self.pool.fw.val();
        self.mover.g_fph.next = self.pool.fph.val();
        self.mover.g_hbw.next = self.pool.hbw.val();
        self.cregs.we.next = self.disp.pw_v.val();
        self.cregs.op.next = self.disp.pw_op.val();
        self.cregs.payload.next = self.disp.pw_pl.val();
        self.cregs.clear.next = self.rc.clear.val();
        self.pool.clear.next = self.rc.clear.val();
        self.disp.clear.next = self.rc.clear.val();
        self.pool.we.next = self.disp.pw_v.val();
        self.pool.op.next = self.disp.pw_op.val();
        self.pool.payload.next = self.disp.pw_pl.val();

        // ---- Conv engine.
        self.conv.p_h.next = self.cregs.geom.val().h;
        self.conv.p_w.next = self.cregs.geom.val().w;
        self.conv.p_wo.next = self.cregs.geom.val().wo;
        self.conv.p.kh.next = self.cregs.geom.val().kh;
        self.conv.p.kw.next = self.cregs.geom.val().kw;
        self.conv.p.sh.next = self.cregs.geom.val().sh;
        self.conv.p.sw.next = self.cregs.geom.val().sw;
        self.conv.p.ph.next = self.cregs.geom.val().ph;
        self.conv.p.pw.next = self.cregs.geom.val().pw;
        self.conv.p_ic_tiles.next = self.cregs.geom.val().ic_tiles;
        self.conv.p_oc_tiles.next = self.cregs.geom.val().oc_tiles;
        self.conv.p_plane.next = self.cregs.geom.val().plane;
        self.conv.p_pixels.next = self.cregs.geom.val().pixels;
        self.conv.p_wos.next = self.cregs.p_wos.val();
        self.conv.p_slots.next = self.cregs.geom.val().slots;
        self.conv.p_cg.next = self.cregs.p_cg.val();
        self.conv.p_gs.next = self.cregs.p_gs.val();
        self.conv.p_shw.next = self.cregs.geom.val().shw;
        self.conv.p_phw.next = self.cregs.geom.val().phw;
        self.conv.p_passes.next = self.cregs.geom.val().passes;
        self.conv.p_kp.next = self.cregs.geom.val().kp;
        self.conv.p_k.next = self.cregs.geom.val().k;
        self.conv.p_kg.next = self.cregs.p_kg.val();
        self.conv.rt_we.next = self.cregs.rt_we.val();
        self.conv.rt_clr.next = self.cregs.rt_clr.val();
        self.conv.rt_grp.next = self.cregs.rt_grp.val();
        self.conv.rt_row.next = self.cregs.rt_row.val();
        self.conv.rt_data.next = self.cregs.rt_data.val();
        self.conv.p_rq_en.next = self.cregs.p_rq_en.val();
        self.conv.p_mult.next = self.cregs.p_mult.val();
        self.conv.p_shift.next = self.cregs.p_shift.val();
        self.conv.p_zp.next = self.cregs.p_zp.val();
        self.conv.p_relu.next = self.cregs.p_relu.val();
        self.conv.p_rq_ort.next = self.cregs.geom.val().ort;
        self.conv.p_sig.next = self.cregs.p_sig.val();
        self.conv.p_exp.next = self.cregs.p_exp.val();
        self.conv.p_rq_pc.next = self.cregs.p_pc.val();
        self.conv.p_pad.next = self.cregs.p_pad.val();
        self.conv.p_keep.next = self.cregs.geom.val().keep;
        self.conv.p_nodrain.next = self.cregs.geom.val().nodrain;
        // The depthwise mode is not programmable in accel_top yet (PE_DW: issue #30).
        self.conv.p_dw.next = 0.into();
        self.conv.p_dxl.next = 0.into();
        self.conv.p_dyl.next = 0.into();
        self.conv.p_dpix.next = 0.into();
        self.conv.p_fbase.next = self.cregs.geom.val().fbase;
        self.conv.p_obase.next = self.cregs.geom.val().obase;
        self.conv.start.next = self.disp.conv_start.val();
        // A weight load starting: the engine's loader waits for its entries (a run streams them).
        self.conv.wb_clear.next = self.disp.go.val() & !self.disp.g_store.val() & !self.disp.g_copy.val() & (self.disp.g_sel.val() == 1);
        self.conv.ld_we.next = self.mover.w_en.val() & (self.mover.w_sel.val() != 3);
        self.conv.ld_target.next = self.mover.w_sel.val();
        if self.mover.w_scale.val() {
            self.conv.ld_target.next = 3.into();
        }
        self.conv.ld_rowsel.next = self.mover.w_bank.val();
        self.conv.ld_addr.next = self.mover.w_addr.val();
        self.conv.ld_data.next = self.mover.w_data.val();
        self.conv.ld_wide.next = self.mover.w_wide.val();
        self.conv.ld_word.next = bit_cast::<64, W>(self.mover.w_word.val());
        self.conv.ld_spread.next = self.mover.w_spread.val();
        self.conv.rd_en.next = self.mover.r_en.val() & !self.mover.r_sel.val();
        self.conv.rd_bank.next = self.mover.r_bank.val();
        self.conv.rd_addr.next = self.mover.r_addr.val();
        // A load-add's sums into the conv output buffer.
        self.conv.ad_we.next = self.mover.o_we.val();
        self.conv.ad_bank.next = self.mover.o_bank.val();
        self.conv.ad_addr.next = self.mover.o_addr.val();
        self.conv.ad_data.next = self.mover.o_data.val();

        // ---- Pooling side; the mover's store reads from the conv output or the pooling output.
        self.pool.p_div.next = self.disp.pool_div.val();
        self.pool.conv_done.next = self.conv.done.val();
        self.pool.clk_now.next = self.disp.clk_now.val();
        self.pool.start.next = self.disp.pool_start.val();
        self.pool.ld_we.next = self.mover.w_en.val() & (self.mover.w_sel.val() == 3);
        self.pool.ld_bank.next = self.mover.w_bank.val().get_bits::<16>(0);
        self.pool.ld_addr.next = self.mover.w_addr.val();
        self.pool.ld_data.next = self.mover.w_data.val().get_bits::<8>(0);
        self.pool.ld_wide.next = self.mover.w_wide.val();
        self.pool.ld_n.next = self.mover.w_n.val();
        self.pool.ld_bank_b.next = self.mover.w_bank_b.val();
        self.pool.ld_addr_b.next = self.mover.w_addr_b.val();
        self.pool.ld_word.next = bit_cast::<64, W>(self.mover.w_word.val());
        self.pool.rd_en.next = self.mover.r_en.val() & self.mover.r_sel.val();
        self.pool.rd_addr.next = self.mover.r_addr.val();
        self.mover.r_word.next = self.conv.rd_word.val().get_bits::<W>(0);
        self.mover.r_data.next = self.conv.rd_data.val();
        if self.mover.r_sel.val() {
            self.mover.r_data.next = self.pool.rd_data.val();
        }
        // ---- External memory port.
        MemPort::<W, L>::link(&mut self.m, &mut self.mover.m);
        // ---- Counters: each module's busy cycles and the memory stalls while running; a wait a cycle after it happened (the dispatcher's `w_*`, registered).
        self.perf.cycles.next = self.rc.running.val();
        self.perf.instructions.next = self.disp.accept.val();
        self.perf.dispatch_stalls.next = self.disp.w_any.val();
        self.perf.mem_wait.next = self.disp.w_mem.val();
        self.perf.conv_wait.next = self.disp.w_conv.val();
        self.perf.pool_wait.next = self.disp.w_pool.val();
        self.perf.conv_busy.next = self.rc.running.val() & self.conv.busy.val();
        self.perf.pool_busy.next = self.rc.running.val() & self.pool.busy.val();
        self.perf.pool_enabled.next = self.rc.running.val() & self.pool.busy.val() & self.pool.enable.val();
        self.perf.mem_busy.next = self.rc.running.val() & self.mover.busy.val();
        self.perf.mem_stalls.next = self.rc.running.val() & self.m.req_valid.val() & !self.m.req_ready.val();
    }
}

crate::clocked!(impl[const W: usize, const L: usize] AccelTop<W, L>);

crate::top_io!(
    impl [const W: usize, const L: usize] AccelTop<W, L>,
    inputs: [reg_we, reg_addr, reg_wdata, reg_raddr, m.req_ready, m.rsp_valid, m.rsp_data, m.rsp_err],
    outputs: [
        reg_rdata, st_busy, st_done, st_error, m.req_valid, m.req_we, m.req_addr, m.req_len, m.req_wdata,
        m.req_be, m.req_more, m.rsp_ready,
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
