//! # ConvSequencer: the conv engine's control
//!
//! Runs a layer from `start` to `done`: the fast-cycle phase (kernel j in sub-cycle j of each
//! slow cycle, `strobe` in the last), the [`PassCounter`], the [`SlotIssuer`] (what the first
//! cache is read for), the [`WeightLoader`] and the [`DrainControl`]. A new pass may start when
//! its weights are loaded and, for a tile's first pass, the tile's accumulation half is free.
//! The run ends when every pass is issued, both halves are drained and 11 more cycles have passed
//! (the output pipeline, with the column groups' fold stages, is empty).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `start` | in | 1 | clock; begin a run (ignored while busy) |
//! | `geom` | in | [`ConvGeometry`] | the engine's layer parameters (16 bits each; `keep`, `nodrain`: 1) |
//! | `tile_done`, `tile_half` | in | 1 | the last accumulation column finished a tile, its half |
//! | `last_swap` | in | 1 | the last PE of row 0 loaded a pass's first datum (row r's shadow weights free r slow cycles later) |
//! | `hold` | in | 1 | the run may not finish yet: the depthwise mode's outputs are still being taken (the tail counts from its fall) |
//! | `wb_avail` | in | 16 | weight-buffer entries written so far (the loader reads no entry at or past it) |
//! | `wb_set`, `wb_at`, `wb_clr` | in | 1, 16, 1 | at the next clock edge `wb_avail` becomes `wb_at` + 1, or 0 (`wb_clr`, over `wb_set`) |
//! | `busy`, `done` | out | 1 | running; finished (held until the next start) |
//! | `strobe`, `ksel`, `ksel_nx`, `sub` | out | 1, 16, 16, 4 | phase: strobe, one-hot kernel select (this and next cycle), its index |
//! | `sum_at` | out | 16 | one-hot stage of the PEs' partial-sum delay line a new sum enters: K − k |
//! | `slot_*` | out | | the slot of this slow cycle ([`SlotIssuer`]) |
//! | `wl_*` | out | | the weight-buffer read and the shadow write ([`WeightLoader`]) |
//! | `d_en`, `d_half`, `d_addr`, `d_baddr`, `o_valid`, `o_idx` | out | | the drain ([`DrainControl`]) |
//! | `p_stream` | in | 1 | a streaming run: no drain, the tiles' last passes send their sums out ([`DrainControl`]) |
//! | `ob0`, `ob1`, `bb0`, `bb1` | out | 16 | each half's output and bias bases |

use crate::pe::{DrainControl, PassCounter, SlotIssuer, Tag, WeightLoader};
use rust_hdl::prelude::*;

// The drain's tail with ONNX Runtime's requantizer (15 below) is longer by its extra stages;
// both include the column groups' two fold stages (FOLD_STAGES).
const _: () = assert!(crate::pe::ORT_REQUANT_STAGES - crate::pe::REQUANT_STAGES == 4);
const _: () = assert!(crate::pe::REQUANT_STAGES + 3 + crate::pe::FOLD_STAGES == 11);

/// The engine's layer parameters as one port: a rust-hdl `LogicStruct` is one bus in the Verilog
/// with each field a slice, so the engine's parameter ports are not declared again here.
#[derive(Copy, Clone, Debug, PartialEq, Default, LogicStruct)]
pub struct ConvGeometry {
    /// Input height H.
    pub h: Bits<16>,
    /// Input width W.
    pub w: Bits<16>,
    /// Slots per row the issuer streams: the output width Wo, or with column groups
    /// Wo + (groups − 1)·shift (`PE_COLS`).
    pub wo: Bits<16>,
    /// Kernel height.
    pub kh: Bits<16>,
    /// Kernel width.
    pub kw: Bits<16>,
    /// Vertical stride.
    pub sh: Bits<16>,
    /// Horizontal stride.
    pub sw: Bits<16>,
    /// Vertical padding.
    pub ph: Bits<16>,
    /// Horizontal padding.
    pub pw: Bits<16>,
    /// Input-channel tiles.
    pub ic_tiles: Bits<16>,
    /// Output-channel tiles.
    pub oc_tiles: Bits<16>,
    /// H·W.
    pub plane: Bits<16>,
    /// Ho·Wo.
    pub pixels: Bits<16>,
    /// Slots per pass, Ho·`wo` (the pixels with one column group).
    pub slots: Bits<16>,
    /// sh·W.
    pub shw: Bits<16>,
    /// ph·W.
    pub phw: Bits<16>,
    /// Passes.
    pub passes: Bits<16>,
    /// K·Ho·Wo.
    pub kp: Bits<16>,
    /// Add to kept sums.
    pub keep: Bit,
    /// Keep the sums.
    pub nodrain: Bit,
    /// First-cache entry of the input.
    pub fbase: Bits<16>,
    /// Output-buffer entry of the outputs.
    pub obase: Bits<16>,
    /// The requantizer runs ONNX Runtime's pipeline (its results come later: a longer tail).
    pub ort: Bit,
    /// Kernels each PE uses, k (2..=K): a slow cycle of k fast cycles, output tiles of C·k
    /// channels (docs/conv-array.md).
    pub k: Bits<16>,
}

/// The control of an R×C engine of K-kernel PEs.
#[derive(LogicBlock)]
pub struct ConvSequencer {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Begin a run.
    pub start: Signal<In, Bit>,
    /// The layer's parameters.
    pub geom: Signal<In, ConvGeometry>,
    /// The last accumulation column finished a tile.
    pub tile_done: Signal<In, Bit>,
    /// Its half.
    pub tile_half: Signal<In, Bit>,
    /// The last PE of row 0 swapped a pass's weights in.
    pub last_swap: Signal<In, Bit>,
    /// The run may not finish yet (the depthwise mode's outputs are still being taken).
    pub hold: Signal<In, Bit>,
    /// Weight-buffer entries written so far.
    pub wb_avail: Signal<In, Bits<16>>,
    /// `wb_avail` becomes `wb_at` + 1 at the next clock edge.
    pub wb_set: Signal<In, Bit>,
    /// The entry written.
    pub wb_at: Signal<In, Bits<16>>,
    /// `wb_avail` becomes 0 at the next clock edge.
    pub wb_clr: Signal<In, Bit>,
    /// Running.
    pub busy: Signal<Out, Bit>,
    /// Finished.
    pub done: Signal<Out, Bit>,
    /// Last fast cycle of the slow cycle.
    pub strobe: Signal<Out, Bit>,
    /// One-hot kernel select.
    pub ksel: Signal<Out, Bits<16>>,
    /// Next cycle's kernel select (the PEs register their weight from it a cycle ahead).
    pub ksel_nx: Signal<Out, Bits<16>>,
    /// Kernel index of the sub-cycle.
    pub sub: Signal<Out, Bits<4>>,
    /// One-hot delay-line stage of the PEs a new partial sum enters (K − k).
    pub sum_at: Signal<Out, Bits<16>>,
    /// The slot reads a pixel.
    pub slot_valid: Signal<Out, Bit>,
    /// The pixel is padding.
    pub slot_pad: Signal<Out, Bit>,
    /// Its tag.
    pub slot_tag: Signal<Out, Tag>,
    /// Its first-cache entry.
    pub slot_addr: Signal<Out, Bits<16>>,
    /// The slot's padded input row and column ([`SlotIssuer`]).
    pub slot_iyp: Signal<Out, Bits<16>>,
    pub slot_ixp: Signal<Out, Bits<16>>,
    /// A new pass's first slot is issued at this strobe; the input-channel tile (low bits) of the
    /// pass it starts (the tap rows' table entry is taken then, a register ahead of the reads).
    pub new_pass: Signal<Out, Bit>,
    pub pass_grp: Signal<Out, Bits<3>>,
    /// Weight-buffer read enable.
    pub wl_rd_en: Signal<Out, Bit>,
    /// Weight-buffer read address.
    pub wl_rd_addr: Signal<Out, Bits<16>>,
    /// Shadow write enable.
    pub wl_we: Signal<Out, Bit>,
    /// Its one-hot row.
    pub wl_row: Signal<Out, Bits<64>>,
    /// Its one-hot kernel.
    pub wl_k: Signal<Out, Bits<16>>,
    /// Its shadow bank.
    pub wl_bank: Signal<Out, Bit>,
    /// Accumulator and bias read enable (drain).
    pub d_en: Signal<Out, Bit>,
    /// Half drained.
    pub d_half: Signal<Out, Bit>,
    /// Accumulator entry.
    pub d_addr: Signal<Out, Bits<16>>,
    /// Bias entry.
    pub d_baddr: Signal<Out, Bits<16>>,
    /// A drained sum enters the requantizers.
    pub o_valid: Signal<Out, Bit>,
    /// Its output entry.
    pub o_idx: Signal<Out, Bits<16>>,
    /// A streaming run (the accumulation columns send each tile's sums out in its last pass; no
    /// drain).
    pub p_stream: Signal<In, Bit>,
    /// Each half's output and bias bases (for the streamed sums).
    pub ob0: Signal<Out, Bits<16>>,
    pub ob1: Signal<Out, Bits<16>>,
    pub bb0: Signal<Out, Bits<16>>,
    pub bb1: Signal<Out, Bits<16>>,
    passes: PassCounter,
    issuer: SlotIssuer,
    loader: WeightLoader,
    drain: DrainControl,
    /// K, the kernels a PE stores, and R.
    kmax: Constant<Bits<16>>,
    rows_c: Constant<Bits<16>>,
    /// One-hot kernel k − 1 (the strobe's sub-cycle) and the PEs' delay-line stage, registered
    /// from `geom.k` every cycle (a run starts at least a cycle after its parameters).
    klast: DFF<Bits<16>>,
    sum_at_r: DFF<Bits<16>>,
    /// The strobe: the phase register is at kernel k − 1.
    strobe_r: DFF<Bit>,
    /// k − 1 and K − k.
    km1: Signal<Local, Bits<16>>,
    kgap: Signal<Local, Bits<16>>,
    /// R·k, the weight entries of a pass.
    mx_rk: Signal<Local, Bits<32>>,
    /// Running, finished, end-of-run countdown.
    run: DFF<Bit>,
    fin: DFF<Bit>,
    tail: DFF<Bits<4>>,
    /// Phase: one-hot kernel select and its index.
    ksel_r: DFF<Bits<16>>,
    sub_r: DFF<Bits<4>>,
    /// A run starts (`start` while idle).
    go: Signal<Local, Bit>,
    /// The pass may start now (weights ready, accumulation half free).
    can_start: Signal<Local, Bit>,
    /// A new pass starts at this strobe.
    issue_new: Signal<Local, Bit>,
}

impl ConvSequencer {
    /// The control of an engine of `rows` PE rows of `kernels`-kernel PEs.
    pub fn new(rows: usize, kernels: usize) -> Self {
        block_with_defaults!(ConvSequencer {
            passes: PassCounter::new(),
            loader: WeightLoader::new(rows),
            drain: DrainControl::new(),
            kmax: Constant::new((kernels as u64).into()),
            rows_c: Constant::new((rows as u64).into()),
        } defaults {
            klast, sum_at_r, strobe_r, km1, kgap, mx_rk, sum_at,
            clock, start, geom,
            tile_done, tile_half, last_swap, hold, wb_avail, wb_set, wb_at, wb_clr, busy, done, strobe, ksel, ksel_nx, sub, slot_valid,
            slot_pad, slot_tag, slot_addr, slot_iyp, slot_ixp, new_pass, pass_grp, wl_rd_en, wl_rd_addr, wl_we, wl_row, wl_k, wl_bank, d_en,
            d_half, d_addr, d_baddr, o_valid, o_idx, p_stream, ob0, ob1, bb0, bb1, issuer, run, fin, tail, ksel_r, sub_r, go,
            can_start, issue_new,
        })
    }
}

impl Logic for ConvSequencer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, run, fin, tail, ksel_r, sub_r, klast, sum_at_r, strobe_r);
        clock!(self, clock, passes, issuer, loader, drain);
        self.busy.next = self.run.q.val();
        self.done.next = self.fin.q.val();
        self.go.next = self.start.val() & !self.run.q.val();

        // ---- Fast-cycle phase: kernel j in sub-cycle j; the strobe marks sub-cycle k−1.
        self.km1.next = self.geom.val().k - 1;
        self.kgap.next = self.kmax.val() - self.geom.val().k;
        self.klast.d.next = bits::<16>(1) << self.km1.val().get_bits::<4>(0);
        self.sum_at_r.d.next = bits::<16>(1) << self.kgap.val().get_bits::<4>(0);
        self.sum_at.next = self.sum_at_r.q.val();
        self.mx_rk.next = self.geom.val().k * self.rows_c.val();
        // The strobe, registered from the next phase (timing: no AND-reduce of the phase with
        // the run's kernel count in front of everything the strobe drives); `klast` only
        // changes with the parameters, which are stable while a run goes.
        self.strobe.next = self.strobe_r.q.val();
        if self.strobe.val() | !self.ksel_r.q.val().any() {
            self.ksel_nx.next = 1.into();
            self.sub_r.d.next = 0.into();
        } else {
            self.ksel_nx.next = self.ksel_r.q.val() << 1;
            self.sub_r.d.next = self.sub_r.q.val() + 1;
        }
        // A start restarts the phase, so that a run's cycle count depends only on the layer.
        if self.go.val() {
            self.ksel_nx.next = 1.into();
            self.sub_r.d.next = 0.into();
            self.run.d.next = true;
            self.fin.d.next = false;
            // The output pipeline after the last drained entry: bias read and sum, the
            // requantizer, the output-buffer write (ONNX Runtime's requantizer is longer).
            self.tail.d.next = 11.into();
            if self.geom.val().ort {
                self.tail.d.next = 15.into();
            }
        }
        self.ksel_r.d.next = self.ksel_nx.val();
        self.strobe_r.d.next = (self.ksel_nx.val() & self.klast.q.val()).any();
        self.ksel.next = self.ksel_r.q.val();
        self.sub.next = self.sub_r.q.val();

        // ---- Passes, slots, weights, drain.
        self.passes.start.next = self.go.val();
        self.passes.p_kw.next = self.geom.val().kw;
        self.passes.p_kh.next = self.geom.val().kh;
        self.passes.p_ic_tiles.next = self.geom.val().ic_tiles;
        self.passes.p_oc_tiles.next = self.geom.val().oc_tiles;
        self.passes.p_w.next = self.geom.val().w;
        self.passes.p_plane.next = self.geom.val().plane;
        self.passes.p_kp.next = self.geom.val().kp;
        self.passes.p_obase.next = self.geom.val().obase;
        self.passes.p_passes.next = self.geom.val().passes;
        self.passes.advance.next = self.strobe.val() & self.issuer.in_pass.val() & !self.issuer.pix_left.val().any();
        if self.passes.half.val() {
            self.can_start.next = self.loader.ready.val() & !(self.passes.tile_first.val() & self.drain.busy1.val());
        } else {
            self.can_start.next = self.loader.ready.val() & !(self.passes.tile_first.val() & self.drain.busy0.val());
        }
        self.issuer.strobe.next = self.strobe.val();
        self.issuer.start.next = self.go.val();
        self.issue_new.next =
            self.run.q.val() & !self.issuer.in_pass.val() & !self.passes.all_issued.val() & self.can_start.val();
        self.issuer.issue_new.next = self.issue_new.val();
        self.issuer.p_wo.next = self.geom.val().wo;
        self.issuer.p_h.next = self.geom.val().h;
        self.issuer.p_w.next = self.geom.val().w;
        self.issuer.p_ph.next = self.geom.val().ph;
        self.issuer.p_pw.next = self.geom.val().pw;
        self.issuer.p_sh.next = self.geom.val().sh;
        self.issuer.p_sw.next = self.geom.val().sw;
        self.issuer.p_shw.next = self.geom.val().shw;
        self.issuer.p_phw.next = self.geom.val().phw;
        self.issuer.p_pixels.next = self.geom.val().slots;
        self.issuer.p_fbase.next = self.geom.val().fbase;
        self.issuer.p_keep.next = self.geom.val().keep;
        self.issuer.ks.next = self.passes.ks.val();
        self.issuer.kr.next = self.passes.kr.val();
        self.issuer.krw.next = self.passes.krw.val();
        self.issuer.planebase.next = self.passes.planebase.val();
        self.issuer.tile_first.next = self.passes.tile_first.val();
        self.issuer.tile_last.next = self.passes.tile_last.val();
        self.issuer.half.next = self.passes.half.val();
        self.loader.start.next = self.go.val();
        self.loader.p_passes.next = self.geom.val().passes;
        self.loader.p_klast.next = self.klast.q.val();
        self.loader.p_per_pass.next = self.mx_rk.val().get_bits::<16>(0);
        self.passes.p_k.next = self.geom.val().k;
        self.drain.p_k.next = self.geom.val().k;
        self.loader.take.next = self.strobe.val() & self.issue_new.val();
        self.loader.swapped.next = self.last_swap.val();
        self.loader.avail.next = self.wb_avail.val();
        self.loader.av_set.next = self.wb_set.val();
        self.loader.av_at.next = self.wb_at.val();
        self.loader.av_clr.next = self.wb_clr.val();
        self.drain.start.next = self.go.val();
        self.drain.claim.next = self.strobe.val() & self.issue_new.val() & self.passes.tile_first.val();
        self.drain.claim_half.next = self.passes.half.val();
        self.drain.claim_bb.next = self.passes.bbase.val();
        self.drain.claim_ob.next = self.passes.obase.val();
        self.drain.tile_done.next = self.tile_done.val();
        self.drain.tile_half.next = self.tile_half.val();
        self.drain.p_nodrain.next = self.geom.val().nodrain;
        self.drain.p_stream.next = self.p_stream.val();
        self.ob0.next = self.drain.ob0_o.val();
        self.ob1.next = self.drain.ob1_o.val();
        self.bb0.next = self.drain.bb0_o.val();
        self.bb1.next = self.drain.bb1_o.val();
        self.drain.p_pixels.next = self.geom.val().pixels;

        // ---- Outputs of the parts.
        self.slot_valid.next = self.issuer.slot_valid.val();
        self.slot_pad.next = self.issuer.slot_pad.val();
        self.slot_tag.next = self.issuer.slot_tag.val();
        self.slot_addr.next = self.issuer.slot_addr.val();
        self.slot_iyp.next = self.issuer.slot_iyp.val();
        self.slot_ixp.next = self.issuer.slot_ixp.val();
        self.new_pass.next = self.strobe.val() & self.issue_new.val();
        self.pass_grp.next = self.passes.ict_o.val();
        self.wl_rd_en.next = self.loader.rd_en.val();
        self.wl_rd_addr.next = self.loader.rd_addr.val();
        self.wl_we.next = self.loader.we.val();
        self.wl_row.next = self.loader.row.val();
        self.wl_k.next = self.loader.k.val();
        self.wl_bank.next = self.loader.bank.val();
        self.d_en.next = self.drain.active.val();
        self.d_half.next = self.drain.half.val();
        self.d_addr.next = self.drain.addr.val();
        self.d_baddr.next = self.drain.baddr.val();
        self.o_valid.next = self.drain.out_valid.val();
        self.o_idx.next = self.drain.out_idx.val();

        // ---- Finish: everything issued, both halves drained, the output pipeline empty.
        if self.run.q.val()
            & self.passes.all_issued.val()
            & !self.drain.busy0.val()
            & !self.drain.busy1.val()
            & !self.drain.active.val()
            & !self.hold.val()
        {
            if self.tail.q.val().any() {
                self.tail.d.next = self.tail.q.val() - 1;
            } else {
                self.run.d.next = false;
                self.fin.d.next = true;
            }
        }
    }
}

crate::clocked!(ConvSequencer);
