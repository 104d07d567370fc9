//! # ConvEngine: runs a whole `conv2d` layer on an R×C array of K-kernel PEs
//!
//! Implements patents.md §1 with the weight-stationary dataflow of `docs/conv-array.md`:
//!
//! - **First cache**: one bank per PE row; bank r holds input channels r, r+R, r+2R, … (channel
//!   tile t at offset t·H·W). Every bank is read at the same address once per pixel; row r's datum
//!   waits r slow cycles in its [`SkewLine`] and is then written **only into PE (r, 0)**, from where
//!   it shifts one PE to the right per slow cycle.
//!   Each bank is a [`LaneRam`] of `lanes` byte lanes, so that a load can write a bus word of
//!   one channel (`lanes` consecutive entries) per cycle; a read names one entry as before.
//! - **A pass** fixes one output-channel tile (C·K channels), one input-channel tile (R channels)
//!   and one kernel tap (kr, ks); it streams every output pixel once. PE (r, c) holds, for kernel
//!   j, the weight of output channel tile·C·K + c·K + j and input channel tile·R + r at that tap.
//!   Padding is streamed as zeros. Passes follow each other with one bubble slow cycle.
//! - **Tap rows** (`p_kg` = 1): each PE row reads at its own offset from the slot's entry and
//!   decides its own padding, from the tap-row table entry of the pass's input tile (`rt_*`
//!   writes it; `PE_ROWTAP`), so the rows carry (input channel, kernel tap) pairs of a layer
//!   with few input channels (docs/conv-array.md).
//! - **Weights** are read from the weight buffer (one bank per column, filled by the host in pass
//!   order: pass, row, kernel, column) one entry per cycle, kernel j of a whole PE row at once,
//!   into the PEs' shadow registers while the previous pass runs,
//!   and take effect with the pass's first datum.
//! - **Accumulation buffer** ([`AccColumn`]): sums passes of one output-channel tile; tiles
//!   alternate between its two halves, so a finished tile drains while the next accumulates. The
//!   drain runs all C columns in parallel (one bias bank and one [`Requant`] per column) into the
//!   C banks of the **output buffer**, K·Ho·Wo cycles per tile.
//!
//! - **Depthwise mode** (`p_dw` bit 0; docs/conv-array.md): the slots are those of a 1 × 1
//!   convolution of the padded input, one pass per group of R channels (row r streams channel
//!   g·R + r, padding included), and [`DwRows`] sums each column group's products along the
//!   row instead of down the column; the accumulation columns take no slot (`g_hi` = 0: their
//!   tiles still finish, so the run ends as any other) and the run keeps no sums
//!   (`p_nodrain`). The rows' outputs are taken in lockstep in the drain's place: row r's into
//!   column r's output side (R ≤ C), bias entry g, output entry `p_obase` + g·`p_dpix` + p. The
//!   run finishes once every channel group's outputs are taken (the sequencer's `hold`).
//!
//! One clock; the slow cycle is K fast cycles (`strobe` in the last). Host side: load ports write
//! the first cache, weight and bias buffers; parameter registers are inputs; `start` (one cycle)
//! runs the layer and `done` rises when the last output is in the output buffer, which the host
//! then reads through `rd_*`. Output channel oc = t·C·K + c·K + j, pixel p, lives in output bank c
//! at (t·K + j)·Ho·Wo + p; its bias in bias bank c at t·K + j.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `ld_we`, `ld_target` | in | 1, 2 | load strobe; 0 first cache, 1 weight buffer, 2 bias buffer, 3 scale bank (per-channel scale words, placed as the biases) |
//! | `ld_rowsel` | in | 64 | one-hot bank: first-cache row (target 0) or weight/bias/scale column (targets 1, 2, 3) |
//! | `ld_addr`, `ld_data` | in | 16, 32 | address and word (int8 in the low byte for 0 and 1) |
//! | `ld_wide`, `ld_word` | in | 1, 64 | a write of a whole bus word: weight buffer (target 1), byte c into bank c of the banks `ld_rowsel` sets (c < 8); first cache (target 0), byte l into entry `ld_addr`·L + l of the banks `ld_rowsel` sets (L byte lanes: `lanes`) |
//! | `ld_spread` | in | 1 | with `ld_wide`, first cache: byte r into entry `ld_addr` of bank r, for the banks `ld_rowsel` sets (r < 8; a fully connected layer's input vector at the bus rate) |
//! | `wb_clear` | in | 1 | a weight transfer starts: no weight-buffer entry is written yet (a run may stream its weights: the loader reads an entry only once the last bank's word of it is written) |
//! | `p_*` | in | 16 (see fields) | layer parameter registers, computed by the host driver |
//! | `p_kg` | in | 16 | row groups: PE row r reads its bank (r mod `p_kg`)·W entries further (`p_kg` ≥ 2; 0: every row at the slot's address); 1: tap rows, each row's offset and padding from the tap-row table entry of the pass's input-channel tile |
//! | `rt_we`, `rt_clr`, `rt_grp`, `rt_row`, `rt_data` | in | 1, 1, 3, 6, 48 | tap rows (`PE_ROWTAP`): write the table entry of input-channel tile `rt_grp`, PE row `rt_row` (offset in bits 15..0, dy in 31..16, dx in 47..32); `rt_clr` clears the table |
//! | `p_k` | in | 16 | kernels each PE uses in the run, k (2..=K): below, K stands for k (docs/conv-array.md) |
//! | `p_wos`, `p_slots`, `p_cg`, `p_gs` | in | 16, 16, 2, 16 | column groups (`PE_COLS`): slots per row Wo + (G − 1)·shift and per pass Ho·that, log2 G, the shift; column c of group g = c div (C / G) takes slot columns g·shift + [0, `p_wo`) of each row, and the drain folds the groups' sums into the first group's columns (two register stages in every run: docs/conv-array.md); a streaming run of two groups adds them as column c + C/2 streams, column c's sums kept by entry in a pair buffer |
//! | `p_keep`, `p_nodrain` | in | 1, 1 | input-channel groups: add to kept sums; keep the sums (no drain) |
//! | `p_dw`, `p_dxl`, `p_dyl`, `p_dpix` | in | 8, 16, 16, 16 | depthwise mode (below): bit 0 on, bit 1 global, bits 2 and 3 horizontal and vertical stride 2, bits 7..4 the kernel height; the last window's left column and top row in padded coordinates; the outputs of a channel group, Ho·Wo |
//! | `p_fbase`, `p_obase` | in | 16, 16 | first-cache and output-buffer entry of the run's start (double buffering) |
//! | `start` | in | 1 | begin the layer (ignored while busy) |
//! | `busy`, `done` | out | 1, 1 | running; finished (held until the next start) |
//! | `rd_en`, `rd_bank`, `rd_addr` | in | 1, 64, 16 | host read of the output buffer (one-hot bank) |
//! | `rd_data` | out | 32 | the word read, one cycle after `rd_en` (int8 sign-extended, or int32) |
//! | `ad_we`, `ad_bank`, `ad_addr`, `ad_data` | in | 1, 64, 16, 8 | write a load-add's sum (int8, sign-extended) into the output buffer (one-hot bank): the data mover's `MEM_LOADADD`, while the engine is idle (a drain write of the same cycle wins) |
//! | `rd_word` | out | 64 | with output lanes (`out_lanes` = L > 1): the low bytes of entries `rd_addr` … `rd_addr` + L − 1, with `rd_data` (a store of the conv output in word steps) |

use crate::mem::{LaneRam, SyncRam};
use crate::window::WindowPorts;
use crate::pe::{AccColumn, AccColumnParams, ColumnOut, ConvFault, ConvSequencer, DwRows, DwRowsParams, Pe, PeFault, PeParams, SkewLine, Tag};
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
    /// Byte lanes of each first-cache bank ([`LaneRam`]): a bus-word write (`ld_wide` with
    /// `ld_target` 0) fills that many entries at once. 1 in the standalone engine;
    /// `accelgen_config::HwConfig::first_cache_lanes` in `accel_top`.
    pub lanes: usize,
    /// Output lanes of each output bank ([`ColumnOut`]): a word read (`rd_word`) gives the low
    /// bytes of that many entries. 1 (none) in the standalone engine;
    /// `accelgen_config::HwConfig::output_lanes` in `accel_top`.
    pub out_lanes: usize,
}

impl ConvEngineParams {
    /// The engine parameters of a validated configuration.
    pub fn from_config(c: &accelgen_config::PeArrayConfig) -> Self {
        ConvEngineParams { array: ConvArray::from_config(c), fault: ConvFault::None, lanes: 1, out_lanes: 1 }
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
    /// A weight transfer starts: no entry of the weight banks is written yet.
    pub wb_clear: Signal<In, Bit>,
    /// Load target: 0 first cache, 1 weight buffer, 2 bias buffer.
    pub ld_target: Signal<In, Bits<2>>,
    /// One-hot first-cache bank.
    pub ld_rowsel: Signal<In, Bits<64>>,
    /// Load address.
    pub ld_addr: Signal<In, Bits<16>>,
    /// Load word.
    pub ld_data: Signal<In, Bits<32>>,
    /// A weight-buffer write of a whole bus word.
    pub ld_wide: Signal<In, Bit>,
    /// The bus word: byte c for weight bank c.
    pub ld_word: Signal<In, Bits<64>>,
    /// With `ld_wide` (first cache): byte r into entry `ld_addr` of bank r.
    pub ld_spread: Signal<In, Bit>,
    /// Input height H.
    pub p_h: Signal<In, Bits<16>>,
    /// Input width W.
    pub p_w: Signal<In, Bits<16>>,
    /// Output width Wo.
    pub p_wo: Signal<In, Bits<16>>,
    /// Kernel height and width, strides, padding: `p_kh` … `p_pw` (see [`WindowPorts`]).
    pub p: WindowPorts,
    /// Input-channel tiles, ceil(Cin / R).
    pub p_ic_tiles: Signal<In, Bits<16>>,
    /// Output-channel tiles, ceil(Cout / (C·K)).
    pub p_oc_tiles: Signal<In, Bits<16>>,
    /// H·W (first-cache words per channel tile).
    pub p_plane: Signal<In, Bits<16>>,
    /// Ho·Wo (output pixels of a tile).
    pub p_pixels: Signal<In, Bits<16>>,
    /// Column groups (`PE_COLS`): slots per row, Wo + (groups − 1)·shift (Wo with one group).
    pub p_wos: Signal<In, Bits<16>>,
    /// Slots per pass, Ho·`p_wos`.
    pub p_slots: Signal<In, Bits<16>>,
    /// log2 of the column groups (0: one group).
    pub p_cg: Signal<In, Bits<2>>,
    /// The shift between groups, in slot columns.
    pub p_gs: Signal<In, Bits<16>>,
    /// sh·W.
    pub p_shw: Signal<In, Bits<16>>,
    /// ph·W.
    pub p_phw: Signal<In, Bits<16>>,
    /// Passes of the layer, oc_tiles·ic_tiles·kh·kw.
    pub p_passes: Signal<In, Bits<16>>,
    /// k·Ho·Wo (output entries per bank per tile).
    pub p_kp: Signal<In, Bits<16>>,
    /// Kernels each PE uses in this run, k (2..=K): a slow cycle is k fast cycles and an output
    /// tile C·k channels (docs/conv-array.md).
    pub p_k: Signal<In, Bits<16>>,
    /// Row groups (`PE_SHAPE.kg`): with `kg` ≥ 2, PE row r reads its bank (r mod `kg`)·W entries
    /// further (consecutive rows carry consecutive kernel rows of one input); 0: no offset.
    pub p_kg: Signal<In, Bits<16>>,
    /// Tap-row table write (`PE_ROWTAP`): entry (`rt_grp`, `rt_row`) ← `rt_data`; `rt_clr`
    /// clears every entry.
    pub rt_we: Signal<In, Bit>,
    pub rt_clr: Signal<In, Bit>,
    pub rt_grp: Signal<In, Bits<3>>,
    pub rt_row: Signal<In, Bits<6>>,
    pub rt_data: Signal<In, Bits<48>>,
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
    /// ONNX Runtime's requantization (docs/onnx.md) instead of the multiplier and shift.
    pub p_rq_ort: Signal<In, Bit>,
    /// Its scale's significand (bit 23 set).
    pub p_sig: Signal<In, Bits<24>>,
    /// Its scale's exponent (two's complement).
    pub p_exp: Signal<In, Bits<8>>,
    /// Per-channel scales: each output channel's from the scale bank instead of `p_sig`/`p_exp`.
    pub p_rq_pc: Signal<In, Bit>,
    /// The value padding pixels stream as (int8; an imported model's input zero point).
    pub p_pad: Signal<In, Bits<8>>,
    /// Add this run's sums to the ones a previous run kept (a later input-channel group): the
    /// first pass of a tile does not clear its entries.
    pub p_keep: Signal<In, Bit>,
    /// Keep this run's sums instead of draining them (not the last input-channel group); at most
    /// two output tiles, one per half.
    pub p_nodrain: Signal<In, Bit>,
    /// Depthwise mode (`PE_DW`, docs/conv-array.md): bit 0 on, bit 1 global, bit 2 horizontal
    /// stride 2, bit 3 vertical stride 2, bits 7..4 the kernel height.
    pub p_dw: Signal<In, Bits<8>>,
    /// Depthwise: the last window's left column and top row in padded coordinates,
    /// (Wo − 1)·sw and (Ho − 1)·sh; the outputs of a channel group, Ho·Wo (1 in global mode).
    pub p_dxl: Signal<In, Bits<16>>,
    pub p_dyl: Signal<In, Bits<16>>,
    pub p_dpix: Signal<In, Bits<16>>,
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
    /// With output lanes: the low bytes of the L entries from `rd_addr` (a multiple of L), with
    /// `rd_data`.
    pub rd_word: Signal<Out, Bits<64>>,
    /// Write of a load-add's sum into the output buffer (the data mover, engine idle): one-hot
    /// bank, entry, int8.
    pub ad_we: Signal<In, Bit>,
    pub ad_bank: Signal<In, Bits<64>>,
    pub ad_addr: Signal<In, Bits<16>>,
    pub ad_data: Signal<In, Bits<8>>,

    /// The PEs, row-major: PE (r, c) is `pes[r·C + c]`.
    pes: Vec<Pe>,
    /// First-cache banks, one per row.
    banks: Vec<LaneRam>,
    /// Row skew lines for rows 1..R (`skew[r−1]` has r stages).
    skew: Vec<SkewLine>,
    /// Accumulation buffer columns.
    accs: Vec<AccColumn>,
    /// Weight buffer: one bank per column (entry e of bank c is pass-order weight e·C + c).
    wbanks: Vec<SyncRam<Bits<8>>>,
    /// Output side of each column: bias bank, requantizer, output bank.
    cols: Vec<ColumnOut>,
    /// Control: phase, passes, slots, weight loader, drain.
    seq: ConvSequencer,
    /// Output bank the host read last cycle.
    rd_sel: DFF<Bits<64>>,
    /// Weight-buffer entries written (every bank's word of them), since the last `wb_clear`.
    wb_avail: DFF<Bits<16>>,
    /// Last weight bank.
    wb_last: Constant<Bits<64>>,
    /// The word written into weight bank c (c < 8): byte c of a bus word, or the load word.
    wlane: Vec<Signal<Local, Bits<8>>>,
    /// The byte each first-cache bank writes: the element, or byte r of a spread word.
    flane: Vec<Signal<Local, Bits<8>>>,
    /// Byte r of the bus word, for first-cache bank r < 8 (a spread write).
    fsp: Vec<Signal<Local, Bits<8>>>,
    /// Last fast cycle of the slow cycle.
    strobe: Signal<Local, Bit>,
    /// Datum of row 0 this slow cycle (`p_pad` for padding, zero for bubbles).
    row0_x: Signal<Local, Bits<8>>,
    /// Each row's datum for PE (r, 0): its first-cache bank's read, the padding value, or zero.
    row_x: Vec<Signal<Local, Bits<8>>>,
    /// The last PE of row 0 loads a pass's first datum (row r's shadow weights are free again r
    /// slow cycles later).
    last_swap: Signal<Local, Bit>,
    /// Per row: its kernel row for each `kg` (4 bits per kg = 0..7: r mod kg, 0 for kg < 2).
    kg_tab: Vec<Constant<Bits<32>>>,
    /// 4·kg; per row the table shifted by it, the row's kernel row, and its read offset
    /// (kernel row · W, registered).
    kg4: Signal<Local, Bits<16>>,
    ksh: Vec<Signal<Local, Bits<32>>>,
    krow: Vec<Signal<Local, Bits<3>>>,
    rw1: Vec<Signal<Local, Bits<16>>>,
    rw2: Vec<Signal<Local, Bits<16>>>,
    rw4: Vec<Signal<Local, Bits<16>>>,
    roff: Vec<DFF<Bits<16>>>,
    /// Tap rows (`p_kg` = 1): the table, entry g·R + r for input-channel tile g (0..8) and PE
    /// row r (offset, dy, dx); the mode, H + ph and W + pw, registered.
    rtab: Vec<DFF<Bits<48>>>,
    tapm: DFF<Bit>,
    hph: DFF<Bits<16>>,
    wpw: DFF<Bits<16>>,
    /// Per row: the starting pass's table entry, the row's offset, the row's padded input pixel, whether it is
    /// padding, the row's read offset, and the tag its datum carries (the slot's, with the row's
    /// padding in tap-row mode).
    tsel: Vec<Signal<Local, Bits<48>>>,
    /// Per row: the entry of the pass being issued, registered when its first slot is issued
    /// (timing: the table's select is not in front of the read address).
    tcur: Vec<DFF<Bits<48>>>,
    ty: Vec<Signal<Local, Bits<16>>>,
    tx: Vec<Signal<Local, Bits<16>>>,
    rpad: Vec<Signal<Local, Bit>>,
    rread: Vec<Signal<Local, Bit>>,
    roffs: Vec<Signal<Local, Bits<16>>>,
    rtag: Vec<Signal<Local, Tag>>,
    /// One-hot: the written entry's tile, the starting pass's tile.
    rt_ghot: Signal<Local, Bits<8>>,
    /// Each PE row's number, for the table write.
    row_id: Vec<Constant<Bits<6>>>,
    sg_hot: Signal<Local, Bits<8>>,
    /// The tag's padding bit.
    tag_pad: Constant<Tag>,
    /// Column groups: per column, its group's index with 2 groups (bits 3..2) and with 4 (bits 1..0).
    cgrp: Vec<Constant<Bits<4>>>,
    /// Per column: its group's index in this run, the slot columns it takes, [lo, hi) (registered:
    /// the parameters settle before a run starts).
    gsel: Vec<Signal<Local, Bits<2>>>,
    g_lo: Vec<DFF<Bits<16>>>,
    g_hi: Vec<DFF<Bits<16>>>,
    g_lo_nx: Vec<Signal<Local, Bits<16>>>,
    /// 2·shift, 3·shift.
    gs2: Signal<Local, Bits<16>>,
    gs3: Signal<Local, Bits<16>>,
    /// The fold of the groups' sums at the drain, two register stages: columns c and c + C/2
    /// (2 or 4 groups), then c and c + C/4 (4 groups). `fold_a` has C/2 entries, `fold_b` C/4
    /// (none when 4 does not divide C): their lengths name the distances.
    f1: Vec<DFF<Bits<32>>>,
    f2: Vec<DFF<Bits<32>>>,
    fold_a: Vec<Signal<Local, Bits<32>>>,
    fold_b: Vec<Signal<Local, Bits<32>>>,
    /// A streaming run (one or two column groups, sums drained: the tiles' last passes send
    /// their sums out, no drain), registered; `sgrp`: with two groups.
    strm: DFF<Bit>,
    sgrp: DFF<Bit>,
    /// Two groups streaming: column c (c < C/2) keeps its streamed sums by accumulation entry,
    /// and column c + C/2 adds the entry's sum to its own (docs/conv-array.md, streaming column
    /// groups). Depth: a power of two above (15 + C/2 + 2)·K entries, the most column c runs
    /// ahead (the shift, the columns between, the pipeline); `pair_mask` = depth − 1.
    pair: Vec<SyncRam<Bits<32>>>,
    pair_mask: Constant<Bits<16>>,
    /// Column c's write-stage entry, registered: the entry of its streamed sum.
    went: Vec<DFF<Bits<16>>>,
    /// Per column, the streamed sum's bias read (a cycle after the column's `st_valid`) and its
    /// output write (four cycles after): stage s of column c at s·C + c.
    sbe: Vec<DFF<Bit>>,
    sba: Vec<DFF<Bits<16>>>,
    sv: Vec<DFF<Bit>>,
    si: Vec<DFF<Bits<16>>>,
    /// The drain's bias read and output entry, delayed by the fold's two stages.
    be1: DFF<Bit>,
    be2: DFF<Bit>,
    ba1: DFF<Bits<16>>,
    ba2: DFF<Bits<16>>,
    ov1: DFF<Bit>,
    ov2: DFF<Bit>,
    oi1: DFF<Bits<16>>,
    oi2: DFF<Bits<16>>,
    /// Built-in fault (tests only): row inputs also wired into column 1. Empty in a product.
    fault_cache: Vec<Constant<Bit>>,
    /// Built-in fault (tests only): every weight entry counts as written. Empty in a product.
    fault_uncounted: Vec<Constant<Bit>>,
    /// The depthwise mode's row sums (rows min(R, C)).
    dw: DwRows,
    /// Depthwise mode on, registered (the parameters settle before a run starts).
    dwm: DFF<Bit>,
    /// Take one output from every row: this cycle (the accumulators' drain read's place), and
    /// its valid bit and output entry three cycles later (the drain's output side's).
    dw_pop: Signal<Local, Bit>,
    dv: Vec<DFF<Bit>>,
    di: Vec<DFF<Bits<16>>>,
    /// The output entry and channel group (bias entry) of the next output taken, and its pixel.
    dw_o: DFF<Bits<16>>,
    dw_g: DFF<Bits<16>>,
    dw_p: DFF<Bits<16>>,
    /// Generator constants bound as one-value loops (skipped by the derive): rows in the
    /// depthwise mode, PEs per column group, column groups.
    _dwrows: usize,
    _dwkw: usize,
    _dwg: usize,
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
        let acc = AccColumnParams { depth: p.acc_buffer_depth };
        block_with_defaults!(ConvEngine {
            pes: (0..p.rows * p.cols)
                .map(|i| Pe::new(&PeParams { fault: if i == 1 { pe_fault } else { PeFault::None }, ..pe }))
                .collect(),
            banks: (0..p.rows).map(|_| LaneRam::new(p.first_cache_depth, p.lanes)).collect(),
            skew: (1..p.rows).map(SkewLine::new).collect(),
            accs: (0..p.cols).map(|_| AccColumn::new(&acc)).collect(),
            wbanks: (0..p.cols).map(|_| SyncRam::collision_free(p.weight_bank_depth())).collect(),
            cols: (0..p.cols).map(|_| ColumnOut::new(p.bias_buffer_depth, p.output_buffer_depth, p.out_lanes)).collect(),
            seq: ConvSequencer::new(p.rows, p.kernels),
            fault_cache: (p.fault == ConvFault::CacheIntoCol1).then(|| Constant::new(true)).into_iter().collect(),
            fault_uncounted: (p.fault == ConvFault::WeightsUncounted).then(|| Constant::new(true)).into_iter().collect(),
            row_x: crate::vec_of(p.rows),
            kg_tab: (0..p.rows)
                .map(|r| Constant::new(Bits::<32>::from((2..8u64).map(|n| (r as u64 % n) << (4 * n)).sum::<u64>())))
                .collect(),
            ksh: crate::vec_of(p.rows),
            krow: crate::vec_of(p.rows),
            rw1: crate::vec_of(p.rows),
            rw2: crate::vec_of(p.rows),
            rw4: crate::vec_of(p.rows),
            roff: crate::vec_of(p.rows),
            rtab: crate::vec_of(8 * p.rows),
            row_id: (0..p.rows).map(|r| Constant::new((r as u64).into())).collect(),
            tsel: crate::vec_of(p.rows),
            tcur: crate::vec_of(p.rows),
            ty: crate::vec_of(p.rows),
            tx: crate::vec_of(p.rows),
            rpad: crate::vec_of(p.rows),
            rread: crate::vec_of(p.rows),
            roffs: crate::vec_of(p.rows),
            rtag: crate::vec_of(p.rows),
            tag_pad: Constant::new(Tag::from(1u64 << crate::pe::TAG_PAD)),
            wb_last: Constant::new((1u64 << (p.cols - 1)).into()),
            wlane: crate::vec_of(p.cols.min(8)),
            flane: crate::vec_of(p.rows),
            fsp: crate::vec_of(p.rows.min(8)),
            cgrp: (0..p.cols).map(|c| Constant::new(((((2 * c / p.cols) << 2) | (4 * c / p.cols)) as u64).into())).collect(),
            gsel: crate::vec_of(p.cols),
            g_lo: crate::vec_of(p.cols),
            g_hi: crate::vec_of(p.cols),
            g_lo_nx: crate::vec_of(p.cols),
            f1: crate::vec_of(p.cols),
            f2: crate::vec_of(p.cols),
            fold_a: crate::vec_of(p.cols / 2),
            fold_b: crate::vec_of(if p.cols % 4 == 0 { p.cols / 4 } else { 0 }),
            pair: (0..p.cols / 2).map(|_| SyncRam::new(pair_depth(p.cols, p.kernels))).collect(),
            pair_mask: Constant::new(((pair_depth(p.cols, p.kernels) - 1) as u64).into()),
            went: crate::vec_of(p.cols / 2),
            sbe: crate::vec_of(p.cols),
            sba: crate::vec_of(p.cols),
            sv: crate::vec_of(4 * p.cols),
            si: crate::vec_of(4 * p.cols),
            dw: DwRows::new(&DwRowsParams {
                rows: p.dw_rows(),
                cols: p.cols,
                kw: p.dw_group_width(),
                kh_max: p.dw_kernel_rows(),
                line_depth: if p.fault == ConvFault::DwLinesShallow { 2 } else { p.dw_line_depth() },
                out_depth: DwRowsParams::out_depth_for(p.dw_rows()),
            }),
            dv: crate::vec_of(3),
            di: crate::vec_of(3),
            _dwrows: p.dw_rows(),
            _dwkw: p.dw_group_width(),
            _dwg: p.cols / p.dw_group_width(),
        } defaults {
            clock, wb_clear, wb_avail, ld_we, ld_target, ld_rowsel, ld_addr, ld_data, ld_wide, ld_word, ld_spread, p_h, p_w, p_wo, p,
            p_ic_tiles, p_oc_tiles, p_plane, p_pixels, p_wos, p_slots, p_cg, p_gs, gs2, gs3, strm, sgrp, be1, be2, ba1, ba2, ov1, ov2, oi1, oi2, p_shw, p_phw, p_passes,
            p_kp, p_k, p_kg, kg4, rt_we, rt_clr, rt_grp, rt_row, rt_data, tapm, hph, wpw, rt_ghot, sg_hot, p_rq_en, p_mult, p_shift, p_zp, p_relu, p_rq_ort, p_sig, p_exp, p_rq_pc, p_pad, p_keep, p_nodrain, p_dw, p_dxl, p_dyl, p_dpix, dwm, dw_pop, dw_o, dw_g, dw_p, p_fbase, p_obase,
            start, busy, done, rd_en, rd_bank, rd_addr, rd_data, rd_word, ad_we, ad_bank, ad_addr, ad_data, rd_sel, strobe, row0_x,
            last_swap,
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
    pub fn bank(&self, r: usize) -> &LaneRam {
        &self.banks[r]
    }

    /// The slow-cycle strobe (high in the last fast cycle of a slow cycle).
    pub fn strobe(&self) -> bool {
        self.strobe.val()
    }

    /// The datum written from the first cache into PE (r, 0) at this strobe, with its tag.
    pub fn row_input(&self, r: usize) -> (Bits<8>, Tag) {
        if r == 0 {
            (self.row0_x.val(), self.seq.slot_tag.val())
        } else {
            (self.skew[r - 1].x_out.val(), self.skew[r - 1].tag_out.val())
        }
    }
}

impl Logic for ConvEngine {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rd_sel, wb_avail, tapm, hph, wpw, strm, sgrp, be1, be2, ba1, ba2, ov1, ov2, oi1, oi2, dwm, dw_o, dw_g, dw_p);
        clock!(self, clock, seq);

        // ---- Control.
        self.seq.start.next = self.start.val();
        self.seq.geom.next.h = self.p_h.val();
        self.seq.geom.next.w = self.p_w.val();
        self.seq.geom.next.wo = self.p_wos.val();
        self.seq.geom.next.kh = self.p.kh.val();
        self.seq.geom.next.kw = self.p.kw.val();
        self.seq.geom.next.sh = self.p.sh.val();
        self.seq.geom.next.sw = self.p.sw.val();
        self.seq.geom.next.ph = self.p.ph.val();
        self.seq.geom.next.pw = self.p.pw.val();
        self.seq.geom.next.ic_tiles = self.p_ic_tiles.val();
        self.seq.geom.next.oc_tiles = self.p_oc_tiles.val();
        self.seq.geom.next.plane = self.p_plane.val();
        self.seq.geom.next.pixels = self.p_pixels.val();
        self.seq.geom.next.slots = self.p_slots.val();
        self.seq.geom.next.shw = self.p_shw.val();
        self.seq.geom.next.phw = self.p_phw.val();
        self.seq.geom.next.passes = self.p_passes.val();
        self.seq.geom.next.kp = self.p_kp.val();
        self.seq.geom.next.k = self.p_k.val();
        self.seq.geom.next.keep = self.p_keep.val();
        self.seq.geom.next.nodrain = self.p_nodrain.val();
        self.seq.geom.next.fbase = self.p_fbase.val();
        self.seq.geom.next.obase = self.p_obase.val();
        self.seq.geom.next.ort = self.p_rq_ort.val() & self.p_rq_en.val();
        self.busy.next = self.seq.busy.val();
        self.done.next = self.seq.done.val();
        self.strobe.next = self.seq.strobe.val();

        // ---- Host loads; the weight loader reads every weight bank at the same entry, once
        // the transfer has written the entry's word in the last bank (writes go bank by bank,
        // or a whole entry at once with `ld_wide`).
        self.seq.wb_set.next = self.ld_we.val() & (self.ld_target.val() == 1) & (self.ld_rowsel.val() & self.wb_last.val()).any();
        self.seq.wb_at.next = self.ld_addr.val();
        self.seq.wb_clr.next = self.wb_clear.val();
        if self.seq.wb_set.val() {
            self.wb_avail.d.next = self.ld_addr.val() + 1;
        }
        if self.wb_clear.val() {
            self.wb_avail.d.next = 0.into();
        }
        self.seq.wb_avail.next = self.wb_avail.q.val();
        for f in 0..self.fault_uncounted.len() {
            if self.fault_uncounted[f].val() {
                self.seq.wb_avail.next = 0xFFFF.into();
                self.seq.wb_set.next = false;
                self.seq.wb_clr.next = false;
            }
        }
        for c in 0..self.wbanks.len() {
            self.wbanks[c].clock.next = self.clock.val();
            self.wbanks[c].w_en.next = self.ld_we.val() & (self.ld_target.val() == 1) & self.ld_rowsel.val().get_bit(c);
            self.wbanks[c].w_addr.next = self.ld_addr.val();
            self.wbanks[c].w_data.next = self.ld_data.val().get_bits::<8>(0);
            self.wbanks[c].r_en.next = self.seq.wl_rd_en.val();
            self.wbanks[c].r_addr.next = self.seq.wl_rd_addr.val();
        }
        // (Each assigned once: docs/engines.md. Banks past the eighth take no spread byte: the
        // mover spreads only with R = L ≤ 8.)
        for r in 0..self.fsp.len() {
            self.fsp[r].next = self.ld_word.val().get_bits::<8>(8 * r);
            if self.ld_spread.val() {
                self.flane[r].next = self.fsp[r].val();
            } else {
                self.flane[r].next = self.ld_data.val().get_bits::<8>(0);
            }
        }
        for r in self.fsp.len()..self.flane.len() {
            self.flane[r].next = self.ld_data.val().get_bits::<8>(0);
        }
        for c in 0..self.wlane.len() {
            self.wlane[c].next = self.ld_data.val().get_bits::<8>(0);
            if self.ld_wide.val() {
                self.wlane[c].next = self.ld_word.val().get_bits::<8>(8 * c);
            }
            self.wbanks[c].w_data.next = self.wlane[c].val();
        }
        // Row groups: row r's kernel row (r mod kg) and its read offset, registered (the
        // parameters settle before a run starts).
        self.kg4.next = self.p_kg.val() << 2;
        for r in 0..self.banks.len() {
            self.ksh[r].next = self.kg_tab[r].val() >> self.kg4.val();
            self.krow[r].next = self.ksh[r].val().get_bits::<3>(0);
            self.roff[r].clock.next = self.clock.val();
            // (kernel row)·W as W, 2W and 4W selected by its bits (kernel rows are below 8).
            self.rw1[r].next = 0.into();
            self.rw2[r].next = 0.into();
            self.rw4[r].next = 0.into();
            if self.krow[r].val().get_bit(0) {
                self.rw1[r].next = self.p_w.val();
            }
            if self.krow[r].val().get_bit(1) {
                self.rw2[r].next = self.p_w.val() << 1;
            }
            if self.krow[r].val().get_bit(2) {
                self.rw4[r].next = self.p_w.val() << 2;
            }
            self.roff[r].d.next = self.rw1[r].val() + self.rw2[r].val() + self.rw4[r].val();
        }
        // Tap rows: the table (written while the engine is idle), the mode and the padding
        // bounds, registered (the parameters settle before a run starts).
        for i in 0..self.rtab.len() {
            self.rtab[i].clock.next = self.clock.val();
            self.rtab[i].d.next = self.rtab[i].q.val();
            if self.rt_clr.val() {
                self.rtab[i].d.next = 0.into();
            }
        }
        self.rt_ghot.next = bits::<8>(1) << self.rt_grp.val();
        self.sg_hot.next = bits::<8>(1) << self.seq.pass_grp.val();
        for rows in self.banks.len()..(self.banks.len() + 1) {
            for g in 0..8 {
                for r in 0..self.banks.len() {
                    if self.rt_we.val() & self.rt_ghot.val().get_bit(g) & (self.rt_row.val() == self.row_id[r].val()) {
                        self.rtab[g * rows + r].d.next = self.rt_data.val();
                    }
                }
            }
            for r in 0..self.banks.len() {
                self.tsel[r].next = 0.into();
                for g in 0..8 {
                    if self.sg_hot.val().get_bit(g) {
                        self.tsel[r].next = self.rtab[g * rows + r].q.val();
                    }
                }
                self.tcur[r].clock.next = self.clock.val();
                self.tcur[r].d.next = self.tcur[r].q.val();
                if self.seq.new_pass.val() {
                    self.tcur[r].d.next = self.tsel[r].val();
                }
            }
        }
        self.tapm.d.next = self.p_kg.val() == 1;
        self.hph.d.next = self.p_h.val() + self.p.ph.val();
        self.wpw.d.next = self.p_w.val() + self.p.pw.val();
        // One first-cache read per pixel, at sub-cycle 0 of the slow cycle, the same address in
        // every bank (plus the row's offset with row groups, or its table entry's with tap rows,
        // where each row also decides its own padding).
        for r in 0..self.banks.len() {
            self.ty[r].next = self.seq.slot_iyp.val() + self.tcur[r].q.val().get_bits::<16>(16);
            self.tx[r].next = self.seq.slot_ixp.val() + self.tcur[r].q.val().get_bits::<16>(32);
            self.rpad[r].next = self.seq.slot_pad.val();
            self.roffs[r].next = self.roff[r].q.val();
            self.rtag[r].next = self.seq.slot_tag.val();
            if self.tapm.q.val() {
                self.rpad[r].next = (self.ty[r].val() < self.p.ph.val())
                    | (self.ty[r].val() >= self.hph.q.val())
                    | (self.tx[r].val() < self.p.pw.val())
                    | (self.tx[r].val() >= self.wpw.q.val());
                self.roffs[r].next = self.tcur[r].q.val().get_bits::<16>(0);
                self.rtag[r].next = self.seq.slot_tag.val() & !self.tag_pad.val();
                if self.rpad[r].val() & self.seq.slot_valid.val() {
                    self.rtag[r].next = self.seq.slot_tag.val() | self.tag_pad.val();
                }
            }
            self.rread[r].next = self.seq.slot_valid.val() & !self.rpad[r].val();
        }
        for r in 0..self.banks.len() {
            self.banks[r].clock.next = self.clock.val();
            self.banks[r].w_en.next = self.ld_we.val() & (self.ld_target.val() == 0) & self.ld_rowsel.val().get_bit(r);
            self.banks[r].w_addr.next = self.ld_addr.val();
            self.banks[r].w_data.next = self.flane[r].val();
            self.banks[r].w_wide.next = self.ld_wide.val() & !self.ld_spread.val();
            self.banks[r].w_word.next = self.ld_word.val();
            self.banks[r].r_en.next = self.rread[r].val() & self.seq.ksel.val().get_bit(0);
            self.banks[r].r_addr.next = self.seq.slot_addr.val() + self.roffs[r].val();
            // The row's datum: the bank's read, the padding value, or zero.
            self.row_x[r].next = 0.into();
            if self.rread[r].val() {
                self.row_x[r].next = self.banks[r].r_data.val();
            } else if self.seq.slot_valid.val() {
                self.row_x[r].next = self.p_pad.val();
            }
        }

        // ---- Rows: first cache → (skew) → PE (r, 0) only; then PE to PE along the row.
        // (`cols` and `rows` are bound by one-iteration loops: rust-hdl has no `let`, and PE (r, c) is `pes[r·C + c]`.)
        self.row0_x.next = self.row_x[0].val();
        self.pes[0].x_in.next = self.row0_x.val();
        self.pes[0].tag_in.next = self.rtag[0].val();
        for cols in self.accs.len()..(self.accs.len() + 1) {
            for r in 1..self.banks.len() {
                self.skew[r - 1].clock.next = self.clock.val();
                self.skew[r - 1].strobe.next = self.strobe.val();
                self.skew[r - 1].x_in.next = self.row_x[r].val();
                self.skew[r - 1].tag_in.next = self.rtag[r].val();
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
                // Weights into the shadow registers.
                for c in 0..self.accs.len() {
                    self.pes[r * cols + c].clock.next = self.clock.val();
                    self.pes[r * cols + c].psum_in.next = 0.into();
                    self.pes[r * cols + c].strobe.next = self.strobe.val();
                    self.pes[r * cols + c].ksel.next = self.seq.ksel.val();
                    self.pes[r * cols + c].ksel_nx.next = self.seq.ksel_nx.val();
                    self.pes[r * cols + c].sum_at.next = self.seq.sum_at.val();
                    self.pes[r * cols + c].w_we.next = self.seq.wl_we.val() & self.seq.wl_row.val().get_bit(r);
                    self.pes[r * cols + c].w_sel.next = self.seq.wl_k.val();
                    self.pes[r * cols + c].w_bank.next = self.seq.wl_bank.val();
                    self.pes[r * cols + c].w_data.next = self.wbanks[c].r_data.val();
                }
            }
            // Partial sums down the columns (row 0's is zero, above).
            for r in 1..self.banks.len() {
                for c in 0..self.accs.len() {
                    self.pes[r * cols + c].psum_in.next = self.pes[r * cols + c - cols].psum_out.val();
                }
            }
            // Bottom row → accumulation columns.
            for rows in self.banks.len()..(self.banks.len() + 1) {
                for c in 0..self.accs.len() {
                    self.accs[c].clock.next = self.clock.val();
                    self.accs[c].strobe.next = self.strobe.val();
                    self.accs[c].sub.next = self.seq.sub.val();
                    self.accs[c].k.next = self.p_k.val();
                    self.accs[c].tag_in.next = self.pes[rows * cols - cols + c].tag_out.val();
                    self.accs[c].psum_in.next = self.pes[rows * cols - cols + c].psum_out.val();
                    self.accs[c].d_en.next = self.seq.d_en.val();
                    self.accs[c].d_half.next = self.seq.d_half.val();
                    self.accs[c].d_addr.next = self.seq.d_addr.val();
                    self.accs[c].g_lo.next = self.g_lo[c].q.val();
                    self.accs[c].g_hi.next = self.g_hi[c].q.val();
                    self.accs[c].g_wos.next = self.p_wos.val();
                    self.accs[c].stream.next = self.strm.q.val();
                    self.accs[c].pixels.next = self.p_pixels.val();
                    self.accs[c].ob0.next = self.seq.ob0.val();
                    self.accs[c].ob1.next = self.seq.ob1.val();
                    self.accs[c].bb0.next = self.seq.bb0.val();
                    self.accs[c].bb1.next = self.seq.bb1.val();
                }
                // The last PE of row 0 loading a pass's first datum: the datum leaves every row
                // r r slow cycles later, before the loader writes row r (WeightLoader).
                self.last_swap.next = self.strobe.val() & self.pes[cols - 1].tag_in.val().get_bit(1);
            }
            self.seq.tile_done.next = self.accs[cols - 1].tile_done.val();
            self.seq.tile_half.next = self.accs[cols - 1].tile_half.val();
        }
        self.seq.last_swap.next = self.last_swap.val();

        // ---- Depthwise mode: each row's column groups sum their products along the row
        // (DwRows); the rows' outputs are taken in lockstep, in the drain's place.
        self.dwm.d.next = self.p_dw.val().get_bit(0);
        clock!(self, clock, dw);
        self.dw.start.next = self.start.val();
        self.dw.strobe.next = self.strobe.val();
        self.dw.sub.next = self.seq.sub.val();
        self.dw.p_k.next = self.p_k.val();
        self.dw.p_kh.next = bit_cast::<16, 4>(self.p_dw.val().get_bits::<4>(4));
        self.dw.p_wp.next = self.p_wo.val();
        self.dw.p_xlast.next = self.p_dxl.val();
        self.dw.p_ylast.next = self.p_dyl.val();
        self.dw.p_global.next = self.p_dw.val().get_bit(1);
        self.dw.p_sw2.next = self.p_dw.val().get_bit(2);
        self.dw.p_sh2.next = self.p_dw.val().get_bit(3);
        for cols in self.accs.len()..(self.accs.len() + 1) {
            for kw in self._dwkw..(self._dwkw + 1) {
                for ng in self._dwg..(self._dwg + 1) {
                    for r in 0..self._dwrows {
                        for c in 0..(self._dwg * self._dwkw) {
                            self.dw.prod[r * ng * kw + c].next = self.pes[r * cols + c].prod.val();
                        }
                        // The datum entering each group's last PE (its `tag_in`, this engine's).
                        for g in 0..self._dwg {
                            self.dw.tv[r * ng + g].next = self.pes[r * cols + g * kw + kw - 1].tag_in.val().get_bit(0);
                            self.dw.tf[r * ng + g].next = self.pes[r * cols + g * kw + kw - 1].tag_in.val().get_bit(1);
                        }
                    }
                }
            }
        }
        self.dw_pop.next = self.dwm.q.val() & self.dw.ready.val();
        self.dw.pop.next = self.dw_pop.val();
        if self.dw_pop.val() {
            self.dw_o.d.next = self.dw_o.q.val() + 1;
            if self.dw_p.q.val() + 1 == self.p_dpix.val() {
                self.dw_p.d.next = 0.into();
                self.dw_g.d.next = self.dw_g.q.val() + 1;
            } else {
                self.dw_p.d.next = self.dw_p.q.val() + 1;
            }
        }
        if self.start.val() {
            self.dw_o.d.next = self.p_obase.val();
            self.dw_g.d.next = 0.into();
            self.dw_p.d.next = 0.into();
        }
        for i in 0..3 {
            self.dv[i].clock.next = self.clock.val();
            self.di[i].clock.next = self.clock.val();
        }
        self.dv[0].d.next = self.dw_pop.val();
        self.di[0].d.next = self.dw_o.q.val();
        for i in 1..3 {
            self.dv[i].d.next = self.dv[i - 1].q.val();
            self.di[i].d.next = self.di[i - 1].q.val();
        }
        // Every channel group's outputs taken: the run may finish.
        self.seq.hold.next = self.dwm.q.val() & (self.dw_g.q.val() != self.p_ic_tiles.val());

        // ---- Column groups: each column's slot columns [lo, hi) = group·shift + [0, Wo).
        self.gs2.next = self.p_gs.val() << 1;
        self.gs3.next = self.p_gs.val() + self.gs2.val();
        for c in 0..self.accs.len() {
            self.gsel[c].next = 0.into();
            if self.p_cg.val() == 1 {
                self.gsel[c].next = self.cgrp[c].val().get_bits::<2>(2);
            } else if self.p_cg.val() == 2 {
                self.gsel[c].next = self.cgrp[c].val().get_bits::<2>(0);
            }
            self.g_lo_nx[c].next = 0.into();
            if self.gsel[c].val() == 1 {
                self.g_lo_nx[c].next = self.p_gs.val();
            } else if self.gsel[c].val() == 2 {
                self.g_lo_nx[c].next = self.gs2.val();
            } else if self.gsel[c].val() == 3 {
                self.g_lo_nx[c].next = self.gs3.val();
            }
            self.g_lo[c].clock.next = self.clock.val();
            self.g_hi[c].clock.next = self.clock.val();
            self.g_lo[c].d.next = self.g_lo_nx[c].val();
            self.g_hi[c].d.next = self.g_lo_nx[c].val() + self.p_wo.val();
            // Depthwise: the accumulation columns take no slot (their tiles still finish).
            if self.p_dw.val().get_bit(0) {
                self.g_hi[c].d.next = 0.into();
            }
        }
        // The fold: two register stages between the accumulators' drain reads and the output
        // side (in every run; with one group they pass the sums on).
        for c in 0..self.accs.len() {
            self.f1[c].clock.next = self.clock.val();
            self.f2[c].clock.next = self.clock.val();
            self.f1[c].d.next = self.accs[c].d_data.val();
            self.f2[c].d.next = self.f1[c].q.val();
        }
        for h in self.fold_a.len()..(self.fold_a.len() + 1) {
            for c in 0..self.fold_a.len() {
                self.fold_a[c].next = self.accs[c].d_data.val() + self.accs[c + h].d_data.val();
                if self.p_cg.val().any() {
                    self.f1[c].d.next = self.fold_a[c].val();
                }
            }
        }
        for h in self.fold_b.len()..(self.fold_b.len() + 1) {
            for c in 0..self.fold_b.len() {
                self.fold_b[c].next = self.f1[c].q.val() + self.f1[c + h].q.val();
                if self.p_cg.val() == 2 {
                    self.f2[c].d.next = self.fold_b[c].val();
                }
            }
        }
        // Streaming: each column's sums of a tile's last pass, as they are written. With two
        // column groups, column c < C/2 sends on the sums of column c + C/2 (its group-1 twin,
        // which forms each entry's sum later) plus its own of the same entry, kept in `pair`.
        self.strm.d.next = !self.p_nodrain.val() & !self.p_cg.val().get_bit(1);
        self.sgrp.d.next = !self.p_nodrain.val() & (self.p_cg.val() == 1);
        self.seq.p_stream.next = self.strm.q.val();
        for cols in self.accs.len()..(self.accs.len() + 1) {
            for c in 0..self.accs.len() {
                if self.strm.q.val() {
                    self.f1[c].d.next = self.accs[c].st_sum.val();
                }
                self.sbe[c].clock.next = self.clock.val();
                self.sba[c].clock.next = self.clock.val();
                self.sv[c].clock.next = self.clock.val();
                self.si[c].clock.next = self.clock.val();
                for st in 1..4 {
                    self.sv[st * cols + c].clock.next = self.clock.val();
                    self.si[st * cols + c].clock.next = self.clock.val();
                    self.sv[st * cols + c].d.next = self.sv[st * cols - cols + c].q.val();
                    self.si[st * cols + c].d.next = self.si[st * cols - cols + c].q.val();
                }
            }
            // Columns c + C/2 and up, and every column without two groups: their own stream.
            for c in self.pair.len()..self.accs.len() {
                self.sbe[c].d.next = self.accs[c].st_valid.val();
                self.sba[c].d.next = self.accs[c].st_baddr.val();
                self.sv[c].d.next = self.accs[c].st_valid.val();
                self.si[c].d.next = self.accs[c].st_idx.val();
            }
        }
        for h in self.pair.len()..(self.pair.len() + 1) {
            for c in 0..self.pair.len() {
                self.pair[c].clock.next = self.clock.val();
                self.pair[c].w_en.next = self.sgrp.q.val() & self.accs[c].st_valid.val();
                self.went[c].clock.next = self.clock.val();
                self.went[c].d.next = self.accs[c].w_entry.val();
                self.pair[c].w_addr.next = self.went[c].q.val() & self.pair_mask.val();
                self.pair[c].w_data.next = self.accs[c].st_sum.val();
                self.pair[c].r_en.next = self.sgrp.q.val();
                self.pair[c].r_addr.next = self.accs[c + h].w_entry.val() & self.pair_mask.val();
                if self.sgrp.q.val() {
                    self.f1[c].d.next = self.pair[c].r_data.val() + self.accs[c + h].st_sum.val();
                    self.sbe[c].d.next = self.accs[c + h].st_valid.val();
                    self.sba[c].d.next = self.accs[c + h].st_baddr.val();
                    self.sv[c].d.next = self.accs[c + h].st_valid.val();
                    self.si[c].d.next = self.accs[c + h].st_idx.val();
                } else {
                    self.sbe[c].d.next = self.accs[c].st_valid.val();
                    self.sba[c].d.next = self.accs[c].st_baddr.val();
                    self.sv[c].d.next = self.accs[c].st_valid.val();
                    self.si[c].d.next = self.accs[c].st_idx.val();
                }
            }
        }
        self.be1.d.next = self.seq.d_en.val();
        self.be2.d.next = self.be1.q.val();
        self.ba1.d.next = self.seq.d_baddr.val();
        self.ba2.d.next = self.ba1.q.val();
        self.ov1.d.next = self.seq.o_valid.val();
        self.ov2.d.next = self.ov1.q.val();
        self.oi1.d.next = self.seq.o_idx.val();
        self.oi2.d.next = self.oi1.q.val();
        // Depthwise: an output taken is read like an accumulator entry (its bias: the channel
        // group's entry), column r taking row r's.
        if self.dwm.q.val() {
            self.be1.d.next = self.dw_pop.val();
            self.ba1.d.next = self.dw_g.q.val();
            self.ov1.d.next = self.dv[2].q.val();
            self.oi1.d.next = self.di[2].q.val();
            for c in 0..self.accs.len() {
                self.f1[c].d.next = 0.into();
            }
            for r in 0..self._dwrows {
                self.f1[r].d.next = self.dw.o_sum[r].val();
            }
        }

        // ---- Drain into the output side; host reads of the output banks.
        self.rd_sel.d.next = self.rd_bank.val();
        self.rd_data.next = 0.into();
        self.rd_word.next = 0.into();
        for c in 0..self.accs.len() {
            self.cols[c].clock.next = self.clock.val();
            self.cols[c].ld_we.next = self.ld_we.val() & (self.ld_target.val() == 2) & self.ld_rowsel.val().get_bit(c);
            self.cols[c].ld_swe.next = self.ld_we.val() & (self.ld_target.val() == 3) & self.ld_rowsel.val().get_bit(c);
            self.cols[c].pc.next = self.p_rq_pc.val();
            self.cols[c].ld_addr.next = self.ld_addr.val();
            self.cols[c].ld_data.next = self.ld_data.val();
            self.cols[c].acc.next = self.f2[c].q.val();
            self.cols[c].set.en.next = self.p_rq_en.val();
            self.cols[c].set.mult.next = self.p_mult.val();
            self.cols[c].set.shift.next = self.p_shift.val();
            self.cols[c].set.zp.next = self.p_zp.val();
            self.cols[c].set.relu.next = self.p_relu.val();
            self.cols[c].set.ort.next = self.p_rq_ort.val();
            self.cols[c].set.s_sig.next = self.p_sig.val();
            self.cols[c].set.s_exp.next = self.p_exp.val();
            self.cols[c].rd_en.next = self.rd_en.val() & self.rd_bank.val().get_bit(c);
            self.cols[c].rd_addr.next = self.rd_addr.val();
            self.cols[c].ad_we.next = self.ad_we.val() & self.ad_bank.val().get_bit(c);
            self.cols[c].ad_addr.next = self.ad_addr.val();
            self.cols[c].ad_data.next = self.ad_data.val();
            if self.rd_sel.q.val().get_bit(c) {
                self.rd_data.next = self.cols[c].rd_data.val();
                self.rd_word.next = self.cols[c].rd_word.val();
            }
        }
        // Each output column's controls are assigned once per evaluation (if / else, no default
        // overwritten): the column's block feeds `rd_word` back into this one, and a simulator
        // that wakes on every intermediate write (Icarus) would otherwise bounce between the two
        // blocks forever.
        for cols in self.accs.len()..(self.accs.len() + 1) {
            for c in 0..self.accs.len() {
                if self.strm.q.val() {
                    self.cols[c].b_en.next = self.sbe[c].q.val();
                    self.cols[c].b_addr.next = self.sba[c].q.val();
                    self.cols[c].valid.next = self.sv[3 * cols + c].q.val();
                    self.cols[c].idx.next = self.si[3 * cols + c].q.val();
                } else {
                    self.cols[c].b_en.next = self.be2.q.val();
                    self.cols[c].b_addr.next = self.ba2.q.val();
                    self.cols[c].valid.next = self.ov2.q.val();
                    self.cols[c].idx.next = self.oi2.q.val();
                }
            }
        }
    }
}

crate::clocked!(ConvEngine);

/// Entries of each pair buffer (two column groups streaming): a power of two above
/// (15 + C/2 + 2)·K, the most entries column c's stream runs ahead of column c + C/2's (a shift
/// of at most 15 slot columns, C/2 columns between them, two of pipeline; K entries a slot).
pub fn pair_depth(cols: usize, kernels: usize) -> usize {
    ((15 + cols / 2 + 2) * kernels + 1).next_power_of_two()
}


crate::top_io!(
    ConvEngine,
    inputs: [
        wb_clear, ld_we, ld_target, ld_rowsel, ld_addr, ld_data, ld_wide, ld_word, ld_spread, rt_we, rt_clr, rt_grp, rt_row, rt_data, p_h, p_w, p_wo, p.kh, p.kw, p.sh, p.sw, p.ph,
        p.pw, p_ic_tiles, p_oc_tiles, p_plane, p_pixels, p_wos, p_slots, p_cg, p_gs, p_shw, p_phw, p_passes, p_kp, p_k, p_kg, p_rq_en,
        p_mult, p_shift, p_zp, p_relu, p_rq_ort, p_sig, p_exp, p_rq_pc, p_pad, p_keep, p_nodrain, p_dw, p_dxl, p_dyl, p_dpix, p_fbase, p_obase, start,
        rd_en, rd_bank, rd_addr, ad_we, ad_bank, ad_addr, ad_data,
    ],
    outputs: [busy, done, rd_data, rd_word],
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
            s.add(&|| format!("pes__{i}__tag_out"), 8, self.pes[i].tag_out.val().get_u64());
            s.add(&|| format!("pes__{i}__w_used"), 8, self.pes[i].w_used.val().get_u64());
            s.add(&|| format!("pes__{i}__mac"), 1, self.pes[i].mac.val().get_u64());
        }
        s.add(&|| "dw__fault".into(), 1, self.dw.fault.val().get_u64());
    }
);
