//! # ConvEngine: runs a whole `conv2d` layer on an R×C array of K-kernel PEs
//!
//! Implements patents.md §1 with the weight-stationary dataflow of `docs/conv-array.md`:
//!
//! - **First cache**: one bank per PE row; bank r holds input channels r, r+R, r+2R, … (channel
//!   tile t at offset t·H·W). Every bank is read at the same address once per pixel; row r's datum
//!   waits r slow cycles in its [`SkewLine`] and is then written **only into PE (r, 0)**, from where
//!   it shifts one PE to the right per slow cycle.
//! - **A pass** fixes one output-channel tile (C·K channels), one input-channel tile (R channels)
//!   and one kernel tap (kr, ks); it streams every output pixel once. PE (r, c) holds, for kernel
//!   j, the weight of output channel tile·C·K + c·K + j and input channel tile·R + r at that tap.
//!   Padding is streamed as zeros. Passes follow each other with one bubble slow cycle.
//! - **Weights** are read from the weight buffer (filled by the host in pass order: pass, row,
//!   column, kernel) one per cycle into the PEs' shadow registers while the previous pass runs,
//!   and take effect with the pass's first datum.
//! - **Accumulation buffer** ([`AccColumn`]): sums passes of one output-channel tile; tiles
//!   alternate between its two halves, so a finished tile drains while the next accumulates. The
//!   drain runs all C columns in parallel (one bias bank and one [`Requant`] per column) into the
//!   C banks of the **output buffer**, K·Ho·Wo cycles per tile.
//!
//! One clock; the slow cycle is K fast cycles (`strobe` in the last). Host side: load ports write
//! the first cache, weight and bias buffers; parameter registers are inputs; `start` (one cycle)
//! runs the layer and `done` rises when the last output is in the output buffer, which the host
//! then reads through `rd_*`. Output channel oc = t·C·K + c·K + j, pixel p, lives in output bank c
//! at (t·K + j)·Ho·Wo + p; its bias in bias bank c at t·K + j.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `ld_we`, `ld_target` | in | 1, 2 | load strobe; 0 first cache, 1 weight buffer, 2 bias buffer |
//! | `ld_rowsel` | in | 64 | one-hot bank: first-cache row (target 0) or bias column (target 2) |
//! | `ld_addr`, `ld_data` | in | 16, 32 | address and word (int8 in the low byte for 0 and 1) |
//! | `p_*` | in | 16 (see fields) | layer parameter registers, computed by the host driver |
//! | `p_keep`, `p_nodrain` | in | 1, 1 | input-channel groups: add to kept sums; keep the sums (no drain) |
//! | `p_fbase`, `p_obase` | in | 16, 16 | first-cache and output-buffer entry of the run's start (double buffering) |
//! | `start` | in | 1 | begin the layer (ignored while busy) |
//! | `busy`, `done` | out | 1, 1 | running; finished (held until the next start) |
//! | `rd_en`, `rd_bank`, `rd_addr` | in | 1, 64, 16 | host read of the output buffer (one-hot bank) |
//! | `rd_data` | out | 32 | the word read, one cycle after `rd_en` (int8 sign-extended, or int32) |

use crate::mem::SyncRam;
use crate::pe::{AccColumn, AccColumnParams, ConvFault, Pe, PeFault, PeParams, Requant, SkewLine, Tag};
use accelgen_config::ConvArray;
use rust_hdl::prelude::*;

/// Generator parameters of the engine: the array geometry derived from `pe_array` in the
/// configuration ([`ConvArray`], which the compiler and the drivers read too) and a fault built in
/// on purpose for the invariant-counter tests. Derefs to the [`ConvArray`], so `e.rows` reads it.
#[derive(Clone, Copy, Debug)]
pub struct ConvEngineParams {
    /// Rows, columns, kernels per PE and buffer depths.
    pub array: ConvArray,
    /// A fault built in on purpose (tests of the invariant counters); `None` otherwise.
    pub fault: ConvFault,
}

impl ConvEngineParams {
    /// The engine parameters of a validated configuration.
    pub fn from_config(c: &accelgen_config::PeArrayConfig) -> Self {
        ConvEngineParams { array: ConvArray::from_config(c), fault: ConvFault::None }
    }
}

impl std::ops::Deref for ConvEngineParams {
    type Target = ConvArray;
    fn deref(&self) -> &ConvArray {
        &self.array
    }
}

/// The convolution engine.
#[derive(LogicBlock)]
pub struct ConvEngine {
    /// The (fast) clock.
    pub clock: Signal<In, Clock>,
    /// Load strobe.
    pub ld_we: Signal<In, Bit>,
    /// Load target: 0 first cache, 1 weight buffer, 2 bias buffer.
    pub ld_target: Signal<In, Bits<2>>,
    /// One-hot first-cache bank.
    pub ld_rowsel: Signal<In, Bits<64>>,
    /// Load address.
    pub ld_addr: Signal<In, Bits<16>>,
    /// Load word.
    pub ld_data: Signal<In, Bits<32>>,
    /// Input height H.
    pub p_h: Signal<In, Bits<16>>,
    /// Input width W.
    pub p_w: Signal<In, Bits<16>>,
    /// Output width Wo.
    pub p_wo: Signal<In, Bits<16>>,
    /// Kernel height.
    pub p_kh: Signal<In, Bits<16>>,
    /// Kernel width.
    pub p_kw: Signal<In, Bits<16>>,
    /// Vertical stride.
    pub p_sh: Signal<In, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<In, Bits<16>>,
    /// Vertical padding.
    pub p_ph: Signal<In, Bits<16>>,
    /// Horizontal padding.
    pub p_pw: Signal<In, Bits<16>>,
    /// Input-channel tiles, ceil(Cin / R).
    pub p_ic_tiles: Signal<In, Bits<16>>,
    /// Output-channel tiles, ceil(Cout / (C·K)).
    pub p_oc_tiles: Signal<In, Bits<16>>,
    /// H·W (first-cache words per channel tile).
    pub p_plane: Signal<In, Bits<16>>,
    /// Ho·Wo (pixels per pass).
    pub p_pixels: Signal<In, Bits<16>>,
    /// sh·W.
    pub p_shw: Signal<In, Bits<16>>,
    /// ph·W.
    pub p_phw: Signal<In, Bits<16>>,
    /// Passes of the layer, oc_tiles·ic_tiles·kh·kw.
    pub p_passes: Signal<In, Bits<16>>,
    /// K·Ho·Wo (output entries per bank per tile).
    pub p_kp: Signal<In, Bits<16>>,
    /// Requantize outputs.
    pub p_rq_en: Signal<In, Bit>,
    /// Requantization multiplier.
    pub p_mult: Signal<In, Bits<16>>,
    /// Requantization shift.
    pub p_shift: Signal<In, Bits<8>>,
    /// Zero point.
    pub p_zp: Signal<In, Bits<8>>,
    /// ReLU.
    pub p_relu: Signal<In, Bit>,
    /// Add this run's sums to the ones a previous run kept (a later input-channel group): the
    /// first pass of a tile does not clear its entries.
    pub p_keep: Signal<In, Bit>,
    /// Keep this run's sums instead of draining them (not the last input-channel group); at most
    /// two output tiles, one per half.
    pub p_nodrain: Signal<In, Bit>,
    /// First-cache entry where the run's input starts (double buffering: the other half loads
    /// while this one is read).
    pub p_fbase: Signal<In, Bits<16>>,
    /// Output-buffer entry where the run's outputs start (the other half is stored meanwhile).
    pub p_obase: Signal<In, Bits<16>>,
    /// Start the layer.
    pub start: Signal<In, Bit>,
    /// Running.
    pub busy: Signal<Out, Bit>,
    /// Finished.
    pub done: Signal<Out, Bit>,
    /// Host read of the output buffer.
    pub rd_en: Signal<In, Bit>,
    /// One-hot output bank (column) to read.
    pub rd_bank: Signal<In, Bits<64>>,
    /// Entry to read.
    pub rd_addr: Signal<In, Bits<16>>,
    /// Word read (int8 sign-extended when requantized, else int32).
    pub rd_data: Signal<Out, Bits<32>>,

    /// The PEs, row-major: PE (r, c) is `pes[r·C + c]`.
    pes: Vec<Pe>,
    /// First-cache banks, one per row.
    banks: Vec<SyncRam<Bits<8>>>,
    /// Row skew lines for rows 1..R (`skew[r−1]` has r stages).
    skew: Vec<SkewLine>,
    /// Accumulation buffer columns.
    accs: Vec<AccColumn>,
    /// Weight buffer.
    wmem: SyncRam<Bits<8>>,
    /// Bias banks, one per column.
    bbanks: Vec<SyncRam<Bits<32>>>,
    /// Activation units, one per column.
    rqs: Vec<Requant>,
    /// Output buffer banks, one per column.
    obanks: Vec<SyncRam<Bits<32>>>,
    /// K as a constant.
    kconst: Constant<Bits<16>>,

    /// Engine state: running, finished, end-of-run countdown.
    run: DFF<Bit>,
    fin: DFF<Bit>,
    tail: DFF<Bits<4>>,
    /// Fast-cycle phase: one-hot kernel select and its index.
    ksel: DFF<Bits<16>>,
    sub: DFF<Bits<4>>,
    /// Issue slot (what the first cache is read for in this slow cycle).
    slot_valid: DFF<Bit>,
    slot_pad: DFF<Bit>,
    slot_tag: DFF<Tag>,
    slot_addr: DFF<Bits<16>>,
    /// The slot candidates of both cases, registered the cycle before each strobe: cursor,
    /// first-cache address, padding, last of its tile.
    ca_px: DFF<Bits<16>>,
    ca_ixp: DFF<Bits<16>>,
    ca_iyp: DFF<Bits<16>>,
    ca_pixl: DFF<Bits<16>>,
    ca_addr: DFF<Bits<16>>,
    ca_pad: DFF<Bit>,
    ca_last: DFF<Bit>,
    /// The A slot starts a new row; the first-cache address of the current row's first pixel.
    ca_eol: DFF<Bit>,
    rowaddr: DFF<Bits<16>>,
    cb_pixl: DFF<Bits<16>>,
    cb_addr: DFF<Bits<16>>,
    cb_pad: DFF<Bit>,
    cb_last: DFF<Bit>,
    /// Parameter sums, registered (the parameters are stable from the start of a run, and the
    /// first candidates are formed a cycle after it): `p_wo` − 1, `p_h` + `p_ph`, `p_w` + `p_pw`.
    p_wo1: DFF<Bits<16>>,
    p_hph: DFF<Bits<16>>,
    p_wpw: DFF<Bits<16>>,
    /// Pass being issued and the pixel cursor within it.
    in_pass: DFF<Bit>,
    all_issued: DFF<Bit>,
    pix_left: DFF<Bits<16>>,
    px: DFF<Bits<16>>,
    ixp: DFF<Bits<16>>,
    iyp: DFF<Bits<16>>,
    ks: DFF<Bits<16>>,
    kr: DFF<Bits<16>>,
    krw: DFF<Bits<16>>,
    ict: DFF<Bits<16>>,
    planebase: DFF<Bits<16>>,
    oct: DFF<Bits<16>>,
    /// `ks`, `kr`, `ict`, `oct` are at their last value (timing: registered with the counters,
    /// so the pass advance compares nothing).
    ks_l: DFF<Bit>,
    kr_l: DFF<Bit>,
    ict_l: DFF<Bit>,
    oct_l: DFF<Bit>,
    bbase: DFF<Bits<16>>,
    obase: DFF<Bits<16>>,
    /// Weight loader: state, address, one-hot row / column / kernel, passes left to load.
    wl_loading: DFF<Bit>,
    wl_ready: DFF<Bit>,
    wl_wait: DFF<Bit>,
    wl_ptr: DFF<Bits<16>>,
    wl_row: DFF<Bits<64>>,
    wl_col: DFF<Bits<64>>,
    wl_k: DFF<Bits<16>>,
    wl_left: DFF<Bits<16>>,
    /// Weight write, one cycle after the buffer read.
    wl_we_d: DFF<Bit>,
    wl_row_d: DFF<Bits<64>>,
    wl_col_d: DFF<Bits<64>>,
    wl_k_d: DFF<Bits<16>>,
    /// Accumulation halves: in use, waiting to drain, and their tile's bias / output bases.
    busy0: DFF<Bit>,
    busy1: DFF<Bit>,
    pend0: DFF<Bit>,
    pend1: DFF<Bit>,
    bb0: DFF<Bits<16>>,
    bb1: DFF<Bits<16>>,
    ob0: DFF<Bits<16>>,
    ob1: DFF<Bits<16>>,
    /// Drain cursor.
    d_active: DFF<Bit>,
    d_half: DFF<Bit>,
    d_j: DFF<Bits<16>>,
    d_addr: DFF<Bits<16>>,
    d_pleft: DFF<Bits<16>>,
    d_baddr: DFF<Bits<16>>,
    d_oaddr: DFF<Bits<16>>,
    /// Drain stage 1: the read's validity and output entry.
    d1_valid: DFF<Bit>,
    d1_oaddr: DFF<Bits<16>>,
    /// Drain stage 2: the accumulated sum and the bias as read, registered per column (the
    /// RAM reads end at registers), with the validity and output entry.
    d2_valid: DFF<Bit>,
    d2_oaddr: DFF<Bits<16>>,
    dacc: Vec<DFF<Bits<32>>>,
    dbias: Vec<DFF<Bits<32>>>,
    /// Drain stage 3: their sum, registered before the requantizer's multipliers.
    d3_valid: DFF<Bit>,
    d3_oaddr: DFF<Bits<16>>,
    dsum: Vec<DFF<Bits<32>>>,
    /// Output bank the host read last cycle.
    rd_sel: DFF<Bits<64>>,

    /// Last fast cycle of the slow cycle.
    strobe: Signal<Local, Bit>,
    /// Next fast cycle's kernel select (the PEs register their weight from it a cycle ahead).
    ksel_nx: Signal<Local, Bits<16>>,
    /// Datum of row 0 this slow cycle (zero for padding and bubbles).
    row0_x: Signal<Local, Bits<8>>,
    /// The pass may start now (weights ready, accumulation half free).
    can_start: Signal<Local, Bit>,
    /// The pass being issued is the first / last of its output-channel tile.
    tile_first: Signal<Local, Bit>,
    /// `ks`, `kr` and `ict` are all zero (the next pass starts a tile), a register stepped with
    /// them (timing: no 48-bit zero test in front of the issue decision).
    tf: DFF<Bit>,
    tile_last: Signal<Local, Bit>,
    /// Issue decisions at this strobe.
    issue_next: Signal<Local, Bit>,
    issue_new: Signal<Local, Bit>,
    /// Cursor values for the slot to issue: the pass's next pixel (A: at the end of its row or
    /// not) and a new pass's first pixel (B).
    a_eol: Signal<Local, Bit>,
    a_px: Signal<Local, Bits<16>>,
    a_ixp: Signal<Local, Bits<16>>,
    a_iyp: Signal<Local, Bits<16>>,
    a_pixl: Signal<Local, Bits<16>>,
    b_rowbase: Signal<Local, Bits<16>>,
    b_pixl: Signal<Local, Bits<16>>,
    /// The next row's input row and the next pixel's input column; the padding of the A slot at
    /// the end of a row and inside it.
    a_yn: Signal<Local, Bits<16>>,
    a_xn: Signal<Local, Bits<16>>,
    pad_eol: Signal<Local, Bit>,
    pad_mid: Signal<Local, Bit>,
    /// The last PE loads a pass's first datum (its shadow weights are free again).
    last_swap: Signal<Local, Bit>,
    /// The last accumulation column finished a tile, and which half.
    tile_done: Signal<Local, Bit>,
    tile_done_half: Signal<Local, Bit>,
    /// The drain is at the tile's last kernel index.
    d_end: Signal<Local, Bit>,
    /// Tag bits of the slot being issued: swap, first, last, half.
    t_swap: Signal<Local, Tag>,
    t_first: Signal<Local, Tag>,
    t_last: Signal<Local, Tag>,
    t_half: Signal<Local, Tag>,
    t_pad: Signal<Local, Tag>,
    /// Built-in fault (tests only): row inputs also wired into column 1. Empty in a product.
    fault_cache: Vec<Constant<Bit>>,
}

impl ConvEngine {
    /// An engine with the given generator parameters.
    pub fn new(p: &ConvEngineParams) -> Self {
        assert!(p.rows >= 1 && p.rows <= 64 && p.cols >= 2 && p.cols <= 64, "a {}x{} array: rows 1..=64, cols 2..=64 (validated configurations never get here)", p.rows, p.cols);
        let pe = PeParams { kernels: p.kernels, fault: PeFault::None };
        // PE (0, 1) carries the PE-level faults.
        let pe_fault = match p.fault {
            ConvFault::HoldRegister => PeFault::HoldRegister,
            ConvFault::KernelRotated => PeFault::KernelRotated,
            _ => PeFault::None,
        };
        let acc = AccColumnParams { kernels: p.kernels, depth: p.acc_buffer_depth };
        block_with_defaults!(ConvEngine {
            pes: (0..p.rows * p.cols)
                .map(|i| Pe::new(&PeParams { fault: if i == 1 { pe_fault } else { PeFault::None }, ..pe }))
                .collect(),
            banks: (0..p.rows).map(|_| SyncRam::collision_free(p.first_cache_depth)).collect(),
            skew: (1..p.rows).map(SkewLine::new).collect(),
            accs: (0..p.cols).map(|_| AccColumn::new(&acc)).collect(),
            wmem: SyncRam::collision_free(p.weight_buffer_depth),
            bbanks: (0..p.cols).map(|_| SyncRam::collision_free(p.bias_buffer_depth)).collect(),
            rqs: (0..p.cols).map(|_| Requant::default()).collect(),
            obanks: (0..p.cols).map(|_| SyncRam::collision_free(p.output_buffer_depth)).collect(),
            kconst: Constant::new((p.kernels as u64).into()),
            dacc: (0..p.cols).map(|_| Default::default()).collect(),
            dbias: (0..p.cols).map(|_| Default::default()).collect(),
            dsum: (0..p.cols).map(|_| Default::default()).collect(),
            fault_cache: (p.fault == ConvFault::CacheIntoCol1).then(|| Constant::new(true)).into_iter().collect(),
        } defaults {
            clock, ld_we, ld_target, ld_rowsel, ld_addr, ld_data, p_h, p_w, p_wo, p_kh, p_kw, p_sh,
            p_sw, p_ph, p_pw, p_ic_tiles, p_oc_tiles, p_plane, p_pixels, p_shw, p_phw, p_passes,
            p_kp, p_rq_en, p_mult, p_shift, p_zp, p_relu, p_keep, p_nodrain, p_fbase, p_obase,
            start, busy, done, rd_en, rd_bank, rd_addr, rd_data, run, fin, tail, ksel, sub,
            slot_valid, slot_pad, slot_tag, slot_addr, in_pass, all_issued, pix_left, px, ixp, iyp,
            ks, ks_l, kr_l, ict_l, oct_l, kr, krw, ict, planebase, oct, bbase, obase, wl_loading,
            wl_ready, wl_wait, wl_ptr, wl_row, wl_col, wl_k, wl_left, wl_we_d, wl_row_d, wl_col_d,
            wl_k_d, busy0, busy1, pend0, pend1, bb0, bb1, ob0, ob1, d_active, d_half, d_j, d_addr,
            d_pleft, d_baddr, d_oaddr, d1_valid, d1_oaddr, d2_valid, d2_oaddr, d3_valid, d3_oaddr,
            rd_sel, strobe, ksel_nx, row0_x, can_start, tile_first, tf, tile_last, issue_next,
            issue_new, a_eol, a_px, a_ixp, a_iyp, a_pixl, b_rowbase, b_pixl, ca_px, ca_ixp, ca_iyp,
            ca_pixl, ca_addr, ca_pad, ca_last, ca_eol, rowaddr, cb_pixl, cb_addr, cb_pad, cb_last,
            p_wo1, p_hph, p_wpw, a_yn, a_xn, pad_eol, pad_mid, last_swap, tile_done, tile_done_half,
            d_end, t_swap, t_first, t_last, t_half, t_pad,
        })
    }

    /// PE rows R.
    pub fn rows(&self) -> usize {
        self.banks.len()
    }

    /// PE columns C.
    pub fn cols(&self) -> usize {
        self.accs.len()
    }

    /// PE (r, c), for testbench observation.
    pub fn pe(&self, r: usize, c: usize) -> &Pe {
        &self.pes[r * self.cols() + c]
    }

    /// First-cache bank of row r, for testbench observation.
    pub fn bank(&self, r: usize) -> &SyncRam<Bits<8>> {
        &self.banks[r]
    }

    /// The slow-cycle strobe (high in the last fast cycle of a slow cycle).
    pub fn strobe(&self) -> bool {
        self.strobe.val()
    }

    /// The datum written from the first cache into PE (r, 0) at this strobe, with its tag.
    pub fn row_input(&self, r: usize) -> (Bits<8>, Tag) {
        if r == 0 {
            (self.row0_x.val(), self.slot_tag.q.val())
        } else {
            (self.skew[r - 1].x_out.val(), self.skew[r - 1].tag_out.val())
        }
    }
}

impl Logic for ConvEngine {
    #[hdl_gen]
    fn update(&mut self) {
        // ---- Defaults: every register holds, every sub-block is clocked.
        dff_setup!(
            self, clock, run, fin, tail, ksel, sub, slot_valid, slot_pad, slot_tag, slot_addr,
            ca_px, ca_ixp, ca_iyp, ca_pixl, ca_addr, ca_pad, ca_last, cb_pixl,
            cb_addr, cb_pad, cb_last, p_wo1, p_hph, p_wpw, ca_eol, rowaddr,
            in_pass, all_issued, pix_left, px, ixp, iyp, ks, kr, krw, ict, tf, planebase, ks_l, kr_l, ict_l, oct_l,
            oct, bbase, obase, wl_loading, wl_ready, wl_wait, wl_ptr, wl_row, wl_col, wl_k,
            wl_left, wl_we_d, wl_row_d, wl_col_d, wl_k_d, busy0, busy1, pend0, pend1, bb0, bb1,
            ob0, ob1, d_active, d_half, d_j, d_addr, d_pleft, d_baddr, d_oaddr, d1_valid,
            d1_oaddr, d2_valid, d2_oaddr, d3_valid, d3_oaddr, rd_sel
        );
        self.wmem.clock.next = self.clock.val();
        for c in 0..self.accs.len() {
            self.bbanks[c].clock.next = self.clock.val();
            self.rqs[c].clock.next = self.clock.val();
            self.obanks[c].clock.next = self.clock.val();
        }
        for i in 0..self.pes.len() {
            self.pes[i].clock.next = self.clock.val();
        }
        for i in 0..self.banks.len() {
            self.banks[i].clock.next = self.clock.val();
        }
        for i in 0..self.skew.len() {
            self.skew[i].clock.next = self.clock.val();
        }
        for i in 0..self.accs.len() {
            self.accs[i].clock.next = self.clock.val();
        }

        // ---- Fast-cycle phase: kernel j in sub-cycle j; the strobe marks sub-cycle K−1.
        self.strobe.next = false;
        for kl in (self.pes[0].kernels() - 1)..self.pes[0].kernels() {
            self.strobe.next = self.ksel.q.val().get_bit(kl);
        }
        if self.strobe.val() | !self.ksel.q.val().any() {
            self.ksel_nx.next = 1.into();
            self.sub.d.next = 0.into();
        } else {
            self.ksel_nx.next = self.ksel.q.val() << 1;
            self.sub.d.next = self.sub.q.val() + 1;
        }
        // A start restarts the phase so that a run's cycle count depends only on the layer
        // (formed here, before the PEs read the next select).
        if self.start.val() & !self.run.q.val() {
            self.ksel_nx.next = 1.into();
        }
        self.ksel.d.next = self.ksel_nx.val();

        // ---- Host loads.
        self.wmem.w_en.next = self.ld_we.val() & (self.ld_target.val() == 1);
        self.wmem.w_addr.next = self.ld_addr.val();
        self.wmem.w_data.next = self.ld_data.val().get_bits::<8>(0);
        for c in 0..self.accs.len() {
            self.bbanks[c].w_en.next =
                self.ld_we.val() & (self.ld_target.val() == 2) & self.ld_rowsel.val().get_bit(c);
            self.bbanks[c].w_addr.next = self.ld_addr.val();
            self.bbanks[c].w_data.next = self.ld_data.val();
        }
        for r in 0..self.banks.len() {
            self.banks[r].w_en.next =
                self.ld_we.val() & (self.ld_target.val() == 0) & self.ld_rowsel.val().get_bit(r);
            self.banks[r].w_addr.next = self.ld_addr.val();
            self.banks[r].w_data.next = self.ld_data.val().get_bits::<8>(0);
            // One read per pixel, at sub-cycle 0 of the slow cycle, the same address in every bank.
            self.banks[r].r_en.next =
                self.slot_valid.q.val() & !self.slot_pad.q.val() & self.ksel.q.val().get_bit(0);
            self.banks[r].r_addr.next = self.slot_addr.q.val();
        }

        // ---- Rows: first cache → (skew) → PE (r, 0) only; then PE to PE along the row.
        if self.slot_valid.q.val() & !self.slot_pad.q.val() {
            self.row0_x.next = self.banks[0].r_data.val();
        } else {
            self.row0_x.next = 0.into();
        }
        self.pes[0].x_in.next = self.row0_x.val();
        self.pes[0].tag_in.next = self.slot_tag.q.val();
        for cols in self.accs.len()..(self.accs.len() + 1) {
            for r in 1..self.banks.len() {
                self.skew[r - 1].strobe.next = self.strobe.val();
                if self.slot_valid.q.val() & !self.slot_pad.q.val() {
                    self.skew[r - 1].x_in.next = self.banks[r].r_data.val();
                } else {
                    self.skew[r - 1].x_in.next = 0.into();
                }
                self.skew[r - 1].tag_in.next = self.slot_tag.q.val();
                self.pes[r * cols].x_in.next = self.skew[r - 1].x_out.val();
                self.pes[r * cols].tag_in.next = self.skew[r - 1].tag_out.val();
            }
            for r in 0..self.banks.len() {
                for c in 1..self.accs.len() {
                    self.pes[r * cols + c].x_in.next = self.pes[r * cols + c - 1].x_out.val();
                    self.pes[r * cols + c].tag_in.next = self.pes[r * cols + c - 1].tag_out.val();
                }
                for f in 0..self.fault_cache.len() {
                    if self.fault_cache[f].val() {
                        self.pes[r * cols + 1].x_in.next = self.pes[r * cols].x_in.val();
                    }
                }
                for c in 0..self.accs.len() {
                    self.pes[r * cols + c].strobe.next = self.strobe.val();
                    self.pes[r * cols + c].ksel.next = self.ksel.q.val();
                    self.pes[r * cols + c].ksel_nx.next = self.ksel_nx.val();
                    self.pes[r * cols + c].w_we.next = self.wl_we_d.q.val()
                        & self.wl_row_d.q.val().get_bit(r)
                        & self.wl_col_d.q.val().get_bit(c);
                    self.pes[r * cols + c].w_sel.next = self.wl_k_d.q.val();
                    self.pes[r * cols + c].w_data.next = self.wmem.r_data.val();
                }
            }
            // Partial sums down the columns.
            for c in 0..self.accs.len() {
                self.pes[c].psum_in.next = 0.into();
            }
            for r in 1..self.banks.len() {
                for c in 0..self.accs.len() {
                    self.pes[r * cols + c].psum_in.next = self.pes[r * cols + c - cols].psum_out.val();
                }
            }
            // Bottom row → accumulation columns.
            for rows in self.banks.len()..(self.banks.len() + 1) {
                for c in 0..self.accs.len() {
                    self.accs[c].strobe.next = self.strobe.val();
                    self.accs[c].sub.next = self.sub.q.val();
                    self.accs[c].tag_in.next = self.pes[rows * cols - cols + c].tag_out.val();
                    self.accs[c].psum_in.next = self.pes[rows * cols - cols + c].psum_out.val();
                    self.accs[c].d_en.next = self.d_active.q.val();
                    self.accs[c].d_half.next = self.d_half.q.val();
                    self.accs[c].d_addr.next = self.d_addr.q.val();
                }
                // The last PE loading a pass's first datum frees the shadow weights.
                self.last_swap.next =
                    self.strobe.val() & self.pes[rows * cols - 1].tag_in.val().get_bit(1);
            }
            self.tile_done.next = false;
            self.tile_done_half.next = false;
            for cl in (self.accs.len() - 1)..self.accs.len() {
                self.tile_done.next = self.accs[cl].tile_done.val();
                self.tile_done_half.next = self.accs[cl].tile_half.val();
            }
        }

        // ---- Start / done handshake.
        self.busy.next = self.run.q.val();
        self.done.next = self.fin.q.val();
        if self.start.val() & !self.run.q.val() {
            self.run.d.next = true;
            self.fin.d.next = false;
            self.tail.d.next = 8.into();
            // Restart the fast-cycle phase (the select itself restarts above).
            self.sub.d.next = 0.into();
            self.in_pass.d.next = false;
            self.all_issued.d.next = self.p_passes.val() == 0;
            self.ks.d.next = 0.into();
            self.kr.d.next = 0.into();
            self.krw.d.next = 0.into();
            self.ict.d.next = 0.into();
            self.tf.d.next = true;
            self.planebase.d.next = 0.into();
            self.oct.d.next = 0.into();
            self.ks_l.d.next = self.p_kw.val() == 1;
            self.kr_l.d.next = self.p_kh.val() == 1;
            self.ict_l.d.next = self.p_ic_tiles.val() == 1;
            self.oct_l.d.next = self.p_oc_tiles.val() == 1;
            self.bbase.d.next = 0.into();
            self.obase.d.next = self.p_obase.val();
            self.wl_loading.d.next = self.p_passes.val().any();
            self.wl_ready.d.next = false;
            self.wl_wait.d.next = false;
            self.wl_ptr.d.next = 0.into();
            self.wl_row.d.next = 1.into();
            self.wl_col.d.next = 1.into();
            self.wl_k.d.next = 1.into();
            self.wl_left.d.next = self.p_passes.val();
            self.busy0.d.next = false;
            self.busy1.d.next = false;
            self.pend0.d.next = false;
            self.pend1.d.next = false;
            self.d_active.d.next = false;
        }

        // ---- Issue: at each strobe, choose what the first cache is read for next slow cycle.
        self.tile_first.next = self.tf.q.val();
        self.tile_last.next = self.ks_l.q.val() & self.kr_l.q.val() & self.ict_l.q.val();
        if self.oct.q.val().get_bit(0) {
            self.can_start.next = self.wl_ready.q.val() & !(self.tile_first.val() & self.busy1.q.val());
        } else {
            self.can_start.next = self.wl_ready.q.val() & !(self.tile_first.val() & self.busy0.q.val());
        }
        self.issue_next.next = self.in_pass.q.val() & self.pix_left.q.val().any();
        self.issue_new.next = self.run.q.val()
            & !self.in_pass.q.val()
            & !self.all_issued.q.val()
            & self.can_start.val();
        // Cursor of the slot to issue, for both cases, registered in the cycle before each
        // strobe (timing: the issue state changes only at strobes, which are K ≥ 2 cycles
        // apart, so the candidates formed from it the cycle before a strobe are current; only
        // the choice between them waits for the strobe's live flags).
        // Case A, the pass's next pixel: along the row, or the first pixel of the next row.
        self.a_eol.next = self.px.q.val() == self.p_wo1.q.val();
        self.p_wo1.d.next = self.p_wo.val() - 1;
        self.p_hph.d.next = self.p_h.val() + self.p_ph.val();
        self.p_wpw.d.next = self.p_w.val() + self.p_pw.val();
        // Padding of both A candidates, formed in parallel with the end-of-row compare.
        self.a_yn.next = self.iyp.q.val() + self.p_sh.val();
        self.a_xn.next = self.ixp.q.val() + self.p_sw.val();
        self.pad_eol.next = (self.a_yn.val() < self.p_ph.val())
            | (self.a_yn.val() >= self.p_hph.q.val())
            | (self.ks.q.val() < self.p_pw.val())
            | (self.ks.q.val() >= self.p_wpw.q.val());
        self.pad_mid.next = (self.iyp.q.val() < self.p_ph.val())
            | (self.iyp.q.val() >= self.p_hph.q.val())
            | (self.a_xn.val() < self.p_pw.val())
            | (self.a_xn.val() >= self.p_wpw.q.val());
        if self.a_eol.val() {
            self.a_px.next = 0.into();
            self.a_ixp.next = self.ks.q.val();
            self.a_iyp.next = self.a_yn.val();
        } else {
            self.a_px.next = self.px.q.val() + 1;
            self.a_ixp.next = self.a_xn.val();
            self.a_iyp.next = self.iyp.q.val();
        }
        self.a_pixl.next = self.pix_left.q.val() - 1;
        // Case B, a new pass's first pixel.
        self.b_rowbase.next = self.planebase.q.val() + self.krw.q.val() - self.p_phw.val();
        self.b_pixl.next = self.p_pixels.val() - 1;
        self.ca_px.d.next = self.a_px.val();
        self.ca_ixp.d.next = self.a_ixp.val();
        self.ca_iyp.d.next = self.a_iyp.val();
        self.ca_pixl.d.next = self.a_pixl.val();
        // The next pixel's address steps from registers: along the row from the current slot's
        // address, to a new row from the current row's first address (timing: one adder).
        if self.a_eol.val() {
            self.ca_addr.d.next = self.rowaddr.q.val() + self.p_shw.val();
        } else {
            self.ca_addr.d.next = self.slot_addr.q.val() + self.p_sw.val();
        }
        self.ca_eol.d.next = self.a_eol.val();
        if self.a_eol.val() {
            self.ca_pad.d.next = self.pad_eol.val();
        } else {
            self.ca_pad.d.next = self.pad_mid.val();
        }
        self.ca_last.d.next = self.tile_last.val() & !self.a_pixl.val().any();
        self.cb_pixl.d.next = self.b_pixl.val();
        self.cb_addr.d.next = self.b_rowbase.val() + self.ks.q.val() - self.p_pw.val() + self.p_fbase.val();
        self.cb_pad.d.next = (self.kr.q.val() < self.p_ph.val())
            | (self.kr.q.val() >= self.p_hph.q.val())
            | (self.ks.q.val() < self.p_pw.val())
            | (self.ks.q.val() >= self.p_wpw.q.val());
        self.cb_last.d.next = self.tile_last.val() & !self.b_pixl.val().any();
        self.t_swap.next = 0.into();
        if self.issue_new.val() {
            self.t_swap.next = 2.into();
        }
        self.t_first.next = 0.into();
        if self.tile_first.val() & !self.p_keep.val() {
            self.t_first.next = 4.into();
        }
        self.t_last.next = 0.into();
        self.t_pad.next = 0.into();
        if self.issue_next.val() {
            if self.ca_last.q.val() {
                self.t_last.next = 8.into();
            }
            if self.ca_pad.q.val() {
                self.t_pad.next = 32.into();
            }
        } else {
            if self.cb_last.q.val() {
                self.t_last.next = 8.into();
            }
            if self.cb_pad.q.val() {
                self.t_pad.next = 32.into();
            }
        }
        self.t_half.next = 0.into();
        if self.oct.q.val().get_bit(0) {
            self.t_half.next = 16.into();
        }
        if self.strobe.val() {
            self.slot_valid.d.next = self.issue_next.val() | self.issue_new.val();
            if self.issue_next.val() {
                self.slot_addr.d.next = self.ca_addr.q.val();
                self.slot_pad.d.next = self.ca_pad.q.val();
            } else {
                self.slot_addr.d.next = self.cb_addr.q.val();
                self.slot_pad.d.next = self.cb_pad.q.val();
            }
            // Tag: valid, swap, first, last, half, pad.
            self.slot_tag.d.next = 0.into();
            if self.issue_next.val() | self.issue_new.val() {
                self.slot_tag.d.next = self.t_swap.val()
                    | self.t_first.val()
                    | self.t_last.val()
                    | self.t_half.val()
                    | self.t_pad.val()
                    | 1;
            }
            if self.issue_next.val() & self.ca_eol.q.val() {
                self.rowaddr.d.next = self.ca_addr.q.val();
            } else if self.issue_new.val() & !self.issue_next.val() {
                self.rowaddr.d.next = self.cb_addr.q.val();
            }
            if self.issue_next.val() {
                self.px.d.next = self.ca_px.q.val();
                self.ixp.d.next = self.ca_ixp.q.val();
                self.iyp.d.next = self.ca_iyp.q.val();
                self.pix_left.d.next = self.ca_pixl.q.val();
            } else if self.issue_new.val() {
                self.px.d.next = 0.into();
                self.ixp.d.next = self.ks.q.val();
                self.iyp.d.next = self.kr.q.val();
                self.pix_left.d.next = self.cb_pixl.q.val();
            }
            if self.issue_new.val() {
                self.in_pass.d.next = true;
                self.wl_ready.d.next = false;
                self.wl_wait.d.next = true;
                if self.tile_first.val() {
                    if self.oct.q.val().get_bit(0) {
                        self.busy1.d.next = true;
                        self.bb1.d.next = self.bbase.q.val();
                        self.ob1.d.next = self.obase.q.val();
                    } else {
                        self.busy0.d.next = true;
                        self.bb0.d.next = self.bbase.q.val();
                        self.ob0.d.next = self.obase.q.val();
                    }
                }
            }
            // The slot now ending was the pass's last pixel: advance to the next pass.
            if self.in_pass.q.val() & !self.pix_left.q.val().any() {
                self.in_pass.d.next = false;
                self.tf.d.next = false;
                if !self.ks_l.q.val() {
                    self.ks.d.next = self.ks.q.val() + 1;
                    self.ks_l.d.next = self.ks.q.val() + 2 == self.p_kw.val();
                } else {
                    self.ks.d.next = 0.into();
                    self.ks_l.d.next = self.p_kw.val() == 1;
                    if !self.kr_l.q.val() {
                        self.kr.d.next = self.kr.q.val() + 1;
                        self.kr_l.d.next = self.kr.q.val() + 2 == self.p_kh.val();
                        self.krw.d.next = self.krw.q.val() + self.p_w.val();
                    } else {
                        self.kr.d.next = 0.into();
                        self.kr_l.d.next = self.p_kh.val() == 1;
                        self.krw.d.next = 0.into();
                        if !self.ict_l.q.val() {
                            self.ict.d.next = self.ict.q.val() + 1;
                            self.ict_l.d.next = self.ict.q.val() + 2 == self.p_ic_tiles.val();
                            self.planebase.d.next = self.planebase.q.val() + self.p_plane.val();
                        } else {
                            self.ict.d.next = 0.into();
                            self.tf.d.next = true;
                            self.ict_l.d.next = self.p_ic_tiles.val() == 1;
                            self.planebase.d.next = 0.into();
                            if !self.oct_l.q.val() {
                                self.oct.d.next = self.oct.q.val() + 1;
                                self.oct_l.d.next = self.oct.q.val() + 2 == self.p_oc_tiles.val();
                                self.bbase.d.next = self.bbase.q.val() + self.kconst.val();
                                self.obase.d.next = self.obase.q.val() + self.p_kp.val();
                            } else {
                                self.all_issued.d.next = true;
                            }
                        }
                    }
                }
            }
        }

        // ---- Weight loader: one weight per cycle into the shadow registers, in pass order.
        self.wmem.r_en.next = self.wl_loading.q.val();
        self.wmem.r_addr.next = self.wl_ptr.q.val();
        self.wl_we_d.d.next = self.wl_loading.q.val();
        self.wl_row_d.d.next = self.wl_row.q.val();
        self.wl_col_d.d.next = self.wl_col.q.val();
        self.wl_k_d.d.next = self.wl_k.q.val();
        if self.wl_loading.q.val() {
            self.wl_ptr.d.next = self.wl_ptr.q.val() + 1;
            self.wl_k.d.next = self.wl_k.q.val() << 1;
            for kl in (self.pes[0].kernels() - 1)..self.pes[0].kernels() {
                if self.wl_k.q.val().get_bit(kl) {
                    self.wl_k.d.next = 1.into();
                    self.wl_col.d.next = self.wl_col.q.val() << 1;
                    for cl in (self.accs.len() - 1)..self.accs.len() {
                        if self.wl_col.q.val().get_bit(cl) {
                            self.wl_col.d.next = 1.into();
                            self.wl_row.d.next = self.wl_row.q.val() << 1;
                            for rl in (self.banks.len() - 1)..self.banks.len() {
                                if self.wl_row.q.val().get_bit(rl) {
                                    self.wl_row.d.next = 1.into();
                                    self.wl_loading.d.next = false;
                                    self.wl_ready.d.next = true;
                                    self.wl_left.d.next = self.wl_left.q.val() - 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        if self.wl_wait.q.val() & self.last_swap.val() {
            self.wl_wait.d.next = false;
            self.wl_loading.d.next = self.wl_left.q.val().any();
        }

        // ---- Drain: a finished tile, all columns at once → bias → requant → output buffer.
        if self.tile_done.val() {
            if self.p_nodrain.val() {
                // The sums stay for the next run; the half is free for it.
                if self.tile_done_half.val() {
                    self.busy1.d.next = false;
                } else {
                    self.busy0.d.next = false;
                }
            } else if self.tile_done_half.val() {
                self.pend1.d.next = true;
            } else {
                self.pend0.d.next = true;
            }
        }
        self.d_end.next = self.d_j.q.val() + 1 == self.kconst.val();
        self.d1_valid.d.next = self.d_active.q.val();
        self.d1_oaddr.d.next = self.d_oaddr.q.val();
        self.d2_valid.d.next = self.d1_valid.q.val();
        self.d2_oaddr.d.next = self.d1_oaddr.q.val();
        self.d3_valid.d.next = self.d2_valid.q.val();
        self.d3_oaddr.d.next = self.d2_oaddr.q.val();
        if !self.d_active.q.val() {
            if self.pend0.q.val() {
                self.pend0.d.next = false;
                self.d_active.d.next = true;
                self.d_half.d.next = false;
                self.d_baddr.d.next = self.bb0.q.val();
                self.d_oaddr.d.next = self.ob0.q.val();
            } else if self.pend1.q.val() {
                self.pend1.d.next = false;
                self.d_active.d.next = true;
                self.d_half.d.next = true;
                self.d_baddr.d.next = self.bb1.q.val();
                self.d_oaddr.d.next = self.ob1.q.val();
            }
            self.d_j.d.next = 0.into();
            self.d_addr.d.next = 0.into();
            self.d_pleft.d.next = self.p_pixels.val() - 1;
        } else {
            // Entry (t·K + j)·Ho·Wo + p: consecutive in j-major, p-minor order.
            self.d_oaddr.d.next = self.d_oaddr.q.val() + 1;
            if self.d_pleft.q.val().any() {
                self.d_pleft.d.next = self.d_pleft.q.val() - 1;
                self.d_addr.d.next = self.d_addr.q.val() + self.kconst.val();
            } else {
                self.d_pleft.d.next = self.p_pixels.val() - 1;
                self.d_baddr.d.next = self.d_baddr.q.val() + 1;
                self.d_j.d.next = self.d_j.q.val() + 1;
                self.d_addr.d.next = self.d_j.q.val() + 1;
                if self.d_end.val() {
                    self.d_active.d.next = false;
                    if self.d_half.q.val() {
                        self.busy1.d.next = false;
                    } else {
                        self.busy0.d.next = false;
                    }
                }
            }
        }
        self.rd_sel.d.next = self.rd_bank.val();
        self.rd_data.next = 0.into();
        for c in 0..self.accs.len() {
            self.bbanks[c].r_en.next = self.d_active.q.val();
            self.bbanks[c].r_addr.next = self.d_baddr.q.val();
            self.dacc[c].clock.next = self.clock.val();
            self.dacc[c].d.next = self.accs[c].d_data.val();
            self.dbias[c].clock.next = self.clock.val();
            self.dbias[c].d.next = self.bbanks[c].r_data.val();
            self.dsum[c].clock.next = self.clock.val();
            self.dsum[c].d.next = self.dacc[c].q.val() + self.dbias[c].q.val();
            self.rqs[c].in_valid.next = self.d3_valid.q.val();
            self.rqs[c].in_idx.next = self.d3_oaddr.q.val();
            self.rqs[c].in_acc.next = self.dsum[c].q.val();
            self.rqs[c].en.next = self.p_rq_en.val();
            self.rqs[c].mult.next = self.p_mult.val();
            self.rqs[c].shift.next = self.p_shift.val();
            self.rqs[c].zp.next = self.p_zp.val();
            self.rqs[c].relu.next = self.p_relu.val();
            self.obanks[c].w_en.next = self.rqs[c].out_valid.val();
            self.obanks[c].w_addr.next = self.rqs[c].out_idx.val();
            self.obanks[c].w_data.next = self.rqs[c].out_data.val();
            self.obanks[c].r_en.next = self.rd_en.val() & self.rd_bank.val().get_bit(c);
            self.obanks[c].r_addr.next = self.rd_addr.val();
            if self.rd_sel.q.val().get_bit(c) {
                self.rd_data.next = self.obanks[c].r_data.val();
            }
        }

        // ---- Finish: everything issued, both halves drained, the output pipeline empty.
        if self.run.q.val()
            & self.all_issued.q.val()
            & !self.busy0.q.val()
            & !self.busy1.q.val()
            & !self.d_active.q.val()
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

impl crate::sim::Clocked for ConvEngine {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}


crate::top_io!(
    ConvEngine,
    inputs: [
        ld_we, ld_target, ld_rowsel, ld_addr, ld_data, p_h, p_w, p_wo, p_kh, p_kw, p_sh, p_sw, p_ph,
        p_pw, p_ic_tiles, p_oc_tiles, p_plane, p_pixels, p_shw, p_phw, p_passes, p_kp, p_rq_en,
        p_mult, p_shift, p_zp, p_relu, p_keep, p_nodrain, p_fbase, p_obase, start, rd_en,
        rd_bank, rd_addr,
    ],
    outputs: [busy, done, rd_data],
    /// Observed: the slow-cycle strobe; per row, the first-cache bank's read enable and the datum
    /// written into PE (r, 0); per PE, its data input, its input register and tag, the weight it
    /// multiplies this cycle and whether that product is a MAC on a real datum.
    fn walk_observed(&self, s: &mut dyn crate::io::ObsSink) {
        use crate::io::PortValue;
        s.add(&|| "strobe".into(), 1, self.strobe.val().get_u64());
        for r in 0..self.rows() {
            s.add(&|| format!("banks__{r}__r_en"), 1, self.banks[r].r_en.val().get_u64());
            if r == 0 {
                s.add(&|| "row0_x".into(), 8, self.row0_x.val().get_u64());
            } else {
                s.add(&|| format!("skew__{}__x_out", r - 1), 8, self.skew[r - 1].x_out.val().get_u64());
            }
        }
        for i in 0..self.pes.len() {
            s.add(&|| format!("pes__{i}__x_in"), 8, self.pes[i].x_in.val().get_u64());
            s.add(&|| format!("pes__{i}__x_out"), 8, self.pes[i].x_out.val().get_u64());
            s.add(&|| format!("pes__{i}__tag_out"), 6, self.pes[i].tag_out.val().get_u64());
            s.add(&|| format!("pes__{i}__w_used"), 8, self.pes[i].w_used.val().get_u64());
            s.add(&|| format!("pes__{i}__mac"), 1, self.pes[i].mac.val().get_u64());
        }
    }
);
