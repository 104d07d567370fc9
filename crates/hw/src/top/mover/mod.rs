//! # DataMover: transfers between the external memory port and the on-chip buffers
//!
//! One transfer at a time (`go` while idle), as `MEM_LOAD` / `MEM_STORE` describe it (docs/isa.md):
//! `words` elements at external byte address `addr`, accessed in chunks of `len` elements
//! `stride` bytes apart (`len` = 0: one chunk); with `MEM_ROWS` (`g_run` ≠ 0) the external side
//! of each chunk is `g_rows` runs of `g_run` elements, `g_step` bytes apart (a tile of a wider
//! tensor; the on-chip side still counts chunks of `len`). A chunk is one channel of the on-chip layout
//! ("word" below: one element, one on-chip entry):
//!
//! | transfer | on-chip place of word i (chunk n, offset o) |
//! |---|---|
//! | load 0, first cache (every bank with `g_bcast`: chunk n at entry B + n·len + o) | bank n mod R, entry B + (n div R)·len + o |
//! | load 1, weight buffer | bank i mod C, entry i div C |
//! | load 2, bias buffer (scale bank with `g_half`: `w_scale`) | bank i mod C, entry i div C |
//! | load 3, feature memory | row ρ = o div W + ph: bank ρ mod k, entry n·hb·W + (ρ div k)·W + o mod W |
//! | store 0, conv output buffer | channel n = t·C·k + c·k + j: bank c, entry B + (t·k + j)·len + o (k: `g_k`, the run's kernels) |
//! | store 1, pooling output | entry i |
//! | copy (`g_copy`) | read as store 0, written as load 3: the conv output into the feature memory, on chip |
//! | load-add (`g_ladd`) | read as load 0 reads its external elements, the place of store 0's element i: the sum written back there |
//!
//! B is 0, or half the buffer's depth with `g_half` (double buffering).
//!
//! **External port**: W-bit words of L = W/8 bytes (`memory.word_bits`: 32, 64 or 128) on
//! packed memory: an element is one byte (int8), or four little-endian bytes for a bias load
//! (load 2, int32) and for a store of the conv output without requantization (store 0 with
//! `g_raw`: int32 sums); `addr` and `stride` are byte addresses, the port's `req_addr` a word
//! address, `req_be` byte enables. Requests `m_req_*` (valid/ready; `we` with `wdata` and `be`
//! for a write), read responses `m_rsp_*` in request order (valid/ready). The external cursor
//! (`ExtCursor`) makes one bus access per run of elements in a word: a load reads a chunk's
//! words in bursts (`m_req_len` = beats − 1, up to 256 beats within a 4 KiB page) and takes
//! their elements one per cycle; a store merges the elements of a word and writes it once.
//! Loads step the request side one element per cycle while the port is ready, however many
//! reads are outstanding, and write each element into its buffer one cycle after it is taken.
//! Stores read the buffer up to three elements ahead: each read's word lands in a register
//! (three of them) before the external side merges it (timing: the RAM's clock-to-output does
//! not meet the merge in one cycle), and a read is issued from the registers' state alone (not
//! from the write handshake of the same cycle), still one element per cycle; a stalled write
//! request holds its element. Copies read one word ahead and write it into the feature memory a cycle later.
//!
//! **Word steps: transfers at the bus width.** The cursors step a whole word at a time
//! (`ExtCursor`'s word steps, counting words) in three cases; the places are those of the table,
//! only the rate differs: L elements per cycle instead of one.
//! - Weights, when the weight buffer has one bank per byte of a word (C = L, 4 or 8: the
//!   engine's bus-word write port is 64 bits): a weight load (load 1) of one chunk from a
//!   word-aligned address. The write puts byte c of the word into bank c of one entry (`w_wide`,
//!   `w_word`, `w_bank` the banks written: all C, or the first `words mod C` for a last partial
//!   word).
//! - The first cache, when its banks have L byte lanes (`fc_lanes` = L ≤ 8, the engine's
//!   `LaneRam`): a first-cache load (load 0) whose chunks and runs are whole words (address,
//!   stride, chunk length, element count and, with `MEM_ROWS`, run length and step multiples of
//!   L). The write puts the word into L consecutive entries of one bank (or every bank with
//!   `g_bcast`): `w_wide`, `w_bank` the bank, `w_addr` the word (entry / L).
//! - The first cache *spread*, when it has one bank per byte of a word (R = L ≤ 8): a first-cache
//!   load (load 0) of chunks of one element (`len` = 1), stride 1, from a word-aligned address,
//!   without runs or broadcast (a fully connected layer's input vector: element n goes to bank
//!   n mod R, entry B + n div R). The write puts byte r of the word into bank r of one entry
//!   (`w_wide` with `w_spread`, `w_bank` the banks written: all R, or the first `words mod R` for
//!   a last partial word).
//! - The conv output, when its banks have L output lanes (`out_lanes` = L ≤ 8, the engine's
//!   `ColumnOut` lanes): a store of source 0 of requantized bytes (`g_raw` low) whose chunks and
//!   runs are whole words (the same rule). The on-chip cursor counts words of the output buffer,
//!   each read (`r_addr` the word's first entry) returns the word on `r_word`, the landing ring
//!   holds words, and the external side writes each whole (`s_wst`).
//! Other transfers move an element per cycle.
//!
//! **Load-add** (`MEM_LOADADD`, `g_ladd`): the external side is a load's (an element per cycle,
//! int8), the on-chip cursor runs as for a store of source 0, so each element taken names the
//! output-buffer place a store of the same shape would read as its element i. That place is read
//! (`r_en`) as the element is taken; a cycle later the buffer's element (`r_data`) lands in a
//! register beside the loaded one, and the cycle after both enter the [`AddUnit`] (a the
//! buffer's and b the loaded one, or the other way round with `g_swap`), whose constants (`g_ra`,
//! `g_rb`, `g_fixed`, `g_qmin`) are taken when the transfer starts; [`ADD_UNIT_REGS`] cycles
//! later its sum is written back to the same place (`o_we`,
//! `o_bank`, `o_addr`, `o_data`: the engine's output-buffer write, which the drain would win; the
//! dispatcher starts a load-add only with the engine idle). Each element's place is carried
//! beside it through a delay line. The transfer is busy until the last sum is written. Load-adds
//! move an element per cycle (no word steps).
//!
//! An on-chip entry beyond the buffer's depth is not written and sets `err`; a store's read of
//! one reads some entry (its word is stored as the transfer goes on) and sets `err` a cycle later.

use rust_hdl::prelude::*;
use crate::add::{AddUnit, ADD_UNIT_REGS};
use crate::top::MemPort;

mod chunk_cursor;
mod ext_cursor;
mod fm_cursor;
mod write_stage;

pub use chunk_cursor::ChunkCursor;
pub use ext_cursor::ExtCursor;
pub use fm_cursor::FmCursor;
pub use write_stage::WriteStage;

/// Generator parameters.
#[derive(Clone, Copy, Debug)]
pub struct DataMoverParams {
    /// PE rows R (first-cache banks).
    pub rows: usize,
    /// PE columns C (bias and output banks).
    pub cols: usize,
    /// Feature-memory banks k.
    pub fm_banks: usize,
    /// Depths: first-cache bank, weight bank, bias bank, feature-memory bank, output bank,
    /// pooling output buffer.
    pub depths: [usize; 6],
    /// Byte lanes of a first-cache bank's bus-word write port (the engine's
    /// `ConvEngineParams::lanes`): L, where first-cache loads may move a word per cycle, or 1.
    pub fc_lanes: usize,
    /// Byte lanes of the conv output banks' word read (the engine's output lanes,
    /// `accelgen_config::HwConfig::output_lanes`): L, where stores of the conv output may move a
    /// word per cycle, or 1.
    pub out_lanes: usize,
    /// Byte lanes of each feature-memory bank (the pooling unit's `fm_lanes`): L, where copies of
    /// the conv output into the feature memory may move a word per cycle (with `out_lanes` = L),
    /// or 1.
    pub fm_lanes: usize,
}

/// The data mover for memory words of W bits, L = W/8 bytes (W = 32, 64 or 128), on packed
/// memory (the header above).
#[derive(LogicBlock)]
pub struct DataMover<const W: usize, const L: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Start a transfer (ignored while busy).
    pub go: Signal<In, Bit>,
    /// Store (else load).
    pub g_store: Signal<In, Bit>,
    /// Load target 0-3, or store source 0-1.
    pub g_sel: Signal<In, Bits<2>>,
    /// External byte address.
    pub g_addr: Signal<In, Bits<26>>,
    /// Elements.
    pub g_words: Signal<In, Bits<20>>,
    /// Chunk length (0: one chunk).
    pub g_len: Signal<In, Bits<20>>,
    /// Chunk stride (bytes).
    pub g_stride: Signal<In, Bits<26>>,
    /// Row level of the external side (`MEM_ROWS`): elements per run (0: none), runs per chunk,
    /// bytes from one run's start to the next's.
    pub g_run: Signal<In, Bits<12>>,
    pub g_rows: Signal<In, Bits<12>>,
    pub g_step: Signal<In, Bits<26>>,
    /// Runs are on (`g_run` ≠ 0); each chunk is several runs (and `g_rows` ≠ 1): flags the
    /// dispatcher forms with the fields.
    pub g_runs: Signal<In, Bit>,
    pub g_multi: Signal<In, Bit>,
    /// Feature-memory geometry: map width W, top padding ph, hb·W.
    pub g_fw: Signal<In, Bits<16>>,
    /// Top padding of the pooling layer.
    pub g_fph: Signal<In, Bits<2>>,
    /// hb·W.
    pub g_hbw: Signal<In, Bits<16>>,
    /// First-cache loads and output-buffer stores start at the buffer's upper half.
    pub g_half: Signal<In, Bit>,
    /// Copy on chip: the conv output buffer (store layout of source 0) into the feature memory
    /// (load layout of target 3); no external access.
    pub g_copy: Signal<In, Bit>,
    /// A store of the conv output buffer (source 0) writes int32 elements, four bytes each
    /// (`ACT_REQUANT.en` = 0: the sums are not requantized).
    pub g_raw: Signal<In, Bit>,
    /// The kernels of the conv run whose output a store or copy of source 0 reads, k (channel
    /// t·C·k + c·k + j).
    pub g_k: Signal<In, Bits<16>>,
    /// `MEM_ROWS.bcast`: a first-cache load writes each chunk into every bank.
    pub g_bcast: Signal<In, Bit>,
    /// A load-add (`MEM_LOADADD`, with `g_sel` 0): loaded elements summed into the conv output
    /// buffer at store 0's places.
    pub g_ladd: Signal<In, Bit>,
    /// The add unit's constants (float32 bits), lowest output and operand order (`ACT_ADDK`,
    /// `ACT_ADD`), taken when a load-add starts.
    pub g_ra: Signal<In, Bits<32>>,
    pub g_rb: Signal<In, Bits<32>>,
    pub g_fixed: Signal<In, Bits<32>>,
    pub g_qmin: Signal<In, Bits<8>>,
    pub g_swap: Signal<In, Bit>,
    /// A load-add's sum into the conv output buffer: one-hot bank, entry, int8.
    pub o_we: Signal<Out, Bit>,
    pub o_bank: Signal<Out, Bits<64>>,
    pub o_addr: Signal<Out, Bits<16>>,
    pub o_data: Signal<Out, Bits<8>>,
    /// A transfer is in progress.
    pub busy: Signal<Out, Bit>,
    /// Sticky until the next `go`: an on-chip entry was out of range.
    pub err: Signal<Out, Bit>,
    /// External memory (`m_req_*`, `m_rsp_*`); `m.req_valid` is also the observation of words
    /// requested (a bus word moves when it is accepted with `req_ready`).
    pub m: MemPort<W, L>,
    /// On-chip write (loads).
    pub w_en: Signal<Out, Bit>,
    /// Load target of the write.
    pub w_sel: Signal<Out, Bits<2>>,
    /// The write goes to the scale bank (a bias-buffer load with `g_half`).
    pub w_scale: Signal<Out, Bit>,
    /// One-hot bank.
    pub w_bank: Signal<Out, Bits<64>>,
    /// Entry.
    pub w_addr: Signal<Out, Bits<16>>,
    /// Word.
    pub w_data: Signal<Out, Bits<32>>,
    /// The write is a whole bus word (a weight load in word steps): byte c into bank c of the
    /// banks `w_bank` sets.
    pub w_wide: Signal<Out, Bit>,
    /// With `w_wide` (target 0): a spread write, byte r of the word into entry `w_addr` of
    /// first-cache bank r, for the banks `w_bank` sets.
    pub w_spread: Signal<Out, Bit>,
    /// The bus word.
    pub w_word: Signal<Out, Bits<W>>,
    /// On-chip read (stores).
    pub r_en: Signal<Out, Bit>,
    /// Store source of the read.
    pub r_sel: Signal<Out, Bit>,
    /// One-hot bank.
    pub r_bank: Signal<Out, Bits<64>>,
    /// Entry.
    pub r_addr: Signal<Out, Bits<16>>,
    /// The word read (one cycle after `r_en`, held until the next read). From source 1 (the
    /// pooling output) only bits 7..0 count: the mover sign-extends them as they leave the
    /// landing registers (timing: the RAM's sign bit then drives a bit of each landing register,
    /// not 25).
    pub r_data: Signal<In, Bits<32>>,
    /// The word read (source 0 with output lanes: the low bytes of L entries from `r_addr`), with
    /// `r_data`.
    pub r_word: Signal<In, Bits<W>>,
    /// A feature-memory write of a copy's bus word (`w_wide` with `w_sel` = 3): its first `w_n`
    /// elements at `w_addr` of `w_bank`, the rest at `w_addr_b` of `w_bank_b`.
    pub w_n: Signal<Out, Bits<4>>,
    pub w_bank_b: Signal<Out, Bits<16>>,
    pub w_addr_b: Signal<Out, Bits<16>>,

    /// External-side cursors: request and response addresses, lanes.
    ext: ExtCursor<W, L>,
    /// On-chip cursor: the current word's place.
    cur: ChunkCursor,
    /// Feature-memory cursor (load target 3, copies).
    fm: FmCursor,
    /// A transfer is running; it is a store (or copy); its place; it is a copy.
    act: DFF<Bit>,
    st: DFF<Bit>,
    sel: DFF<Bits<2>>,
    cp: DFF<Bit>,
    /// The running transfer is a scale-bank load.
    scl: DFF<Bit>,
    /// Sticky error.
    errf: DFF<Bit>,
    /// Loads: responses left. Stores: writes left. Copies: words left, and the first buffer read
    /// was issued.
    o_left: DFF<Bits<20>>,
    primed: DFF<Bit>,
    /// `o_left` is 1, a flag registered beside the count (timing: a copy's next read is decided
    /// by it, and a 20-bit compare in front of the output lanes' read enable was the critical
    /// path of tiny accel_axi).
    o_one: DFF<Bit>,
    /// Stores: the buffer's words land in registers before the external side takes them
    /// (timing: the RAM's clock-to-output does not meet the write merge): reads left to issue, a
    /// read issued last cycle (its word is on `r_data` now), and the landed words: a ring of
    /// four registers, each read's word written at `l_wp` (the RAM's read data go straight into
    /// a register: timing), the request side's element at `l_rp` (`l_elem`), `l_n` held (at
    /// most three), `l_hv` one at least.
    r_left: DFF<Bits<20>>,
    /// Reads are left (`r_left` ≠ 0), a flag kept beside the count (timing: the read decision
    /// drives the on-chip cursor's step; a 20-bit OR in front of it was the critical path).
    r_more: DFF<Bit>,
    rd_v: DFF<Bit>,
    ld0: DFF<Bits<W>>,
    ld1: DFF<Bits<W>>,
    ld2: DFF<Bits<W>>,
    ld3: DFF<Bits<W>>,
    l_wp: DFF<Bits<2>>,
    l_rp: DFF<Bits<2>>,
    l_n: DFF<Bits<3>>,
    l_hv: DFF<Bit>,
    l_raw: Signal<Local, Bits<W>>,
    /// The word a read returns: `r_data` (an element), or `r_word` (word steps).
    l_in: Signal<Local, Bits<W>>,
    l_elem: Signal<Local, Bits<32>>,
    l_n_next: Signal<Local, Bits<3>>,
    /// A store's element moves (the first landed word is taken); a read may be issued (the
    /// landed words and the one arriving are at most two, from registers alone).
    s_pop: Signal<Local, Bit>,
    s_room: Signal<Local, Bit>,
    /// A transfer starts (`go` while idle).
    start: Signal<Local, Bit>,
    /// Load-add: the running transfer is one; its constants as taken at the start; the element
    /// taken last cycle (its buffer element arrives now): valid, the loaded byte, its place.
    la: DFF<Bit>,
    la_ra: DFF<Bits<32>>,
    la_rb: DFF<Bits<32>>,
    la_fixed: DFF<Bits<32>>,
    la_qmin: DFF<Bits<8>>,
    la_swap: DFF<Bit>,
    la_v: DFF<Bit>,
    la_b: DFF<Bits<8>>,
    la_bank: DFF<Bits<64>>,
    la_addr: DFF<Bits<16>>,
    /// A load-add element is taken this cycle.
    la_take: Signal<Local, Bit>,
    /// The operands registered before the unit (timing: the output RAM's read data go straight
    /// into a register, not through the operand swap into the unit's multiplier): the buffer's
    /// element, the loaded one, valid.
    op_a: DFF<Bits<8>>,
    op_b: DFF<Bits<8>>,
    op_v: DFF<Bit>,
    /// The add unit, and each element's place delayed to meet its sum.
    unit: AddUnit,
    pb_dly: Vec<DFF<Bits<64>>>,
    pa_dly: Vec<DFF<Bits<16>>>,
    /// Load-add elements taken whose sums are not written yet.
    fl: DFF<Bits<6>>,
    /// The starting transfer's chunk length (`g_len`, or `g_words` for one chunk).
    s_len: Signal<Local, Bits<20>>,
    /// Bank of the word last read (the cursor is already past it).
    rb: DFF<Bits<64>>,
    /// The registered on-chip write.
    ws: WriteStage<W>,
    /// The running transfer moves a word per step; one starting would (`s_word`: a weight load,
    /// `s_wfc`: a first-cache load). Word steps are built in for weights (C = L ≤ 8) and for the
    /// first cache (its banks have L byte lanes); a word address's byte-lane bits; the banks of a
    /// whole entry (C ones); L.
    wm: DFF<Bit>,
    s_word: Signal<Local, Bit>,
    s_wfc: Signal<Local, Bit>,
    /// A spread first-cache load starts (`s_wsp`); the running transfer is one (`spr`).
    s_wsp: Signal<Local, Bit>,
    spr: DFF<Bit>,
    sp_ok: Constant<Bit>,
    /// Every first-cache bank (R ones), and the banks of a spread write (all R, or the
    /// transfer's last elements).
    all_rows: Constant<Bits<64>>,
    smask: Signal<Local, Bits<64>>,
    one20: Constant<Bits<20>>,
    one26: Constant<Bits<26>>,
    /// A store of the conv output in word steps (its chunks and runs whole words, requantized).
    s_wst: Signal<Local, Bit>,
    /// Every chunk and run of the starting transfer is whole words: address, stride, chunk length,
    /// element count and, with runs, run length and step multiples of L (the rule of first-cache
    /// loads and stores in word steps).
    whole: Signal<Local, Bit>,
    /// A copy in word steps (its chunks whole words, the map at least a word wide).
    s_wcp: Signal<Local, Bit>,
    cp_ok: Constant<Bit>,
    lane16: Constant<Bits<16>>,
    word_ok: Constant<Bit>,
    fc_ok: Constant<Bit>,
    out_ok: Constant<Bit>,
    /// The starting transfer's counts in words (word steps: ⌈elements / L⌉), the shift log2 L,
    /// L − 1.
    s_words_w: Signal<Local, Bits<20>>,
    s_len_w: Signal<Local, Bits<20>>,
    s_run_w: Signal<Local, Bits<20>>,
    /// What the cursors take as their element count and run length (external side), and chunk
    /// length (on-chip side).
    x_words: Signal<Local, Bits<20>>,
    x_len: Signal<Local, Bits<20>>,
    c_len: Signal<Local, Bits<20>>,
    lsh20: Constant<Bits<20>>,
    lane20: Constant<Bits<20>>,
    /// Bits 31..8 (the sign extension of a pooling output byte).
    sext: Constant<Bits<32>>,
    lane_mask: Constant<Bits<26>>,
    all_banks: Constant<Bits<64>>,
    step_l: Constant<Bits<20>>,
    /// The banks of a word-step write: all C, or the transfer's last elements.
    wmask: Signal<Local, Bits<64>>,
    /// A store's or copy's word moves this cycle.
    sfire: Signal<Local, Bit>,
    /// The request side may move an element this cycle (a load, or a store whose word is read).
    req_go: Signal<Local, Bit>,
    /// The request side's element moves (with a bus request if it needs one), the response
    /// side's element is taken (with a response word if it needs one); the on-chip cursor steps.
    req_fire: Signal<Local, Bit>,
    rsp_take: Signal<Local, Bit>,
    adv: Signal<Local, Bit>,
}

impl<const W: usize, const L: usize> DataMover<W, L> {
    /// A mover for the given buffers.
    pub fn new(p: &DataMoverParams) -> Self {
        assert!(
            (1..=64).contains(&p.rows) && (2..=64).contains(&p.cols) && (1..=16).contains(&p.fm_banks),
            "data mover for {} rows, {} cols, {} banks: allowed 1..=64, 2..=64, 1..=16",
            p.rows,
            p.cols,
            p.fm_banks
        );
        assert!(p.depths.iter().all(|&d| (1..=1 << 16).contains(&d)), "data mover: buffer depths 1..=65536");
        block_with_defaults!(DataMover {
            ext: ExtCursor::default(),
            cur: ChunkCursor::new(p),
            fm: FmCursor::new(p.fm_banks, L),
            ws: WriteStage::new(p.depths[3]),
            pb_dly: crate::vec_of(ADD_UNIT_REGS + 1),
            pa_dly: crate::vec_of(ADD_UNIT_REGS + 1),
            word_ok: Constant::new(p.cols == L && L <= 8),
            fc_ok: Constant::new(p.fc_lanes == L && L <= 8),
            sp_ok: Constant::new(p.rows == L && (2..=8).contains(&L)),
            all_rows: Constant::new((u64::MAX >> (64 - p.rows)).into()),
            one20: Constant::new(1u64.into()),
            one26: Constant::new(1u64.into()),
            out_ok: Constant::new(p.out_lanes == L && L <= 8),
            cp_ok: Constant::new(p.out_lanes == L && p.fm_lanes == L && L <= 8),
            lane16: Constant::new((L as u64).into()),
            lsh20: Constant::new(u64::from(L.trailing_zeros()).into()),
            lane20: Constant::new(((L - 1) as u64).into()),
            sext: Constant::new(0xffff_ff00u64.into()),
            lane_mask: Constant::new(((L - 1) as u64).into()),
            all_banks: Constant::new((u64::MAX >> (64 - p.cols)).into()),
            step_l: Constant::new((L as u64).into()),
        } defaults {
            clock, go, g_store, g_sel, g_addr, g_words, g_len, g_stride, g_run, g_rows, g_step, g_runs, g_multi, g_fw, g_fph, g_hbw, g_half,
            g_copy, g_raw, g_k, g_bcast, busy, err, m, w_en, w_sel, w_scale, w_bank, w_addr, w_data, w_wide, w_spread, w_word, wm, s_word, wmask,
            s_wfc, s_wsp, spr, smask, s_wst, whole, s_wcp, w_n, w_bank_b, w_addr_b, l_in, r_word, s_words_w, s_len_w, s_run_w, x_words, x_len, c_len,
            r_en, r_sel, r_bank, r_addr, r_data, act, st, sel, cp, scl, errf, o_left, o_one, primed, r_left, r_more, rd_v, ld0, ld1, ld2, ld3, l_wp, l_rp, l_n, l_hv, l_raw, l_elem, l_n_next, s_pop, s_room, start, s_len,
            rb, sfire, req_go, req_fire, rsp_take, adv, g_ladd, g_ra, g_rb, g_fixed, g_qmin, g_swap, o_we, o_bank, o_addr, o_data,
            la, la_ra, la_rb, la_fixed, la_qmin, la_swap, la_v, la_b, la_bank, la_addr, la_take, op_a, op_b, op_v, unit, fl,
        })
    }
}

impl<const W: usize, const L: usize> Logic for DataMover<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, act, st, sel, cp, scl, errf, o_left, o_one, primed, r_left, r_more, rd_v, ld0, ld1, ld2, ld3, l_wp, l_rp, l_n, l_hv, rb, wm, spr,
            la, la_ra, la_rb, la_fixed, la_qmin, la_swap, la_v, la_b, la_bank, la_addr, op_a, op_b, op_v, fl
        );
        clock!(self, clock, ext, cur, fm, ws, unit);
        for i in 0..self.pb_dly.len() {
            self.pb_dly[i].clock.next = self.clock.val();
            self.pa_dly[i].clock.next = self.clock.val();
        }
        self.busy.next = self.act.q.val() | self.ws.busy.val() | self.fl.q.val().any();
        self.err.next = self.errf.q.val();
        self.start.next = self.go.val() & !self.act.q.val();
        if self.g_len.val().any() {
            self.s_len.next = self.g_len.val();
        } else {
            self.s_len.next = self.g_words.val();
        }

        // A weight load of one chunk from a word-aligned address moves a word per step; so does
        // a first-cache load whose every chunk and run is whole words (address, stride, step,
        // chunk and run lengths and the element count multiples of L).
        self.whole.next = !((self.g_addr.val() | self.g_stride.val()) & self.lane_mask.val()).any()
            & !((self.s_len.val() | self.g_words.val()) & self.lane20.val()).any()
            & (!self.g_runs.val()
                | !((self.g_step.val() & self.lane_mask.val()).any() | (bit_cast::<20, 12>(self.g_run.val()) & self.lane20.val()).any()));
        self.s_wfc.next = self.fc_ok.val() & !self.g_store.val() & !self.g_copy.val() & !self.g_ladd.val() & (self.g_sel.val() == 0) & self.whole.val();
        // A first-cache load of one-element chunks, stride 1, from a word-aligned address, with
        // a bank per byte of a word: a word per step, byte r into bank r.
        self.s_wsp.next = self.sp_ok.val()
            & !self.g_store.val()
            & !self.g_copy.val()
            & !self.g_ladd.val()
            & (self.g_sel.val() == 0)
            & !self.g_bcast.val()
            & !self.g_runs.val()
            & (self.g_len.val() == self.one20.val())
            & (self.g_stride.val() == self.one26.val())
            & !(self.g_addr.val() & self.lane_mask.val()).any();
        // A store of the conv output (requantized bytes) whose every chunk and run is whole words
        // reads a word of L entries of one output bank per step.
        self.s_wst.next = self.out_ok.val() & self.g_store.val() & !self.g_copy.val() & (self.g_sel.val() == 0) & !self.g_raw.val() & self.whole.val();
        // A copy whose every chunk is whole words, on a map at least a word wide (so a word
        // touches at most two padded rows), reads a word of the output lanes per step and writes
        // it into the feature memory's lanes.
        self.s_wcp.next = self.cp_ok.val()
            & self.g_copy.val()
            & !((self.s_len.val() | self.g_words.val()) & self.lane20.val()).any()
            & (self.g_fw.val() >= self.lane16.val());
        self.s_word.next = (self.word_ok.val()
            & !self.g_store.val()
            & !self.g_copy.val()
            & (self.g_sel.val() == 1)
            & !self.g_len.val().any()
            & !self.g_runs.val()
            & !(self.g_addr.val() & self.lane_mask.val()).any())
            | self.s_wfc.val()
            | self.s_wsp.val()
            | self.s_wst.val()
            | self.s_wcp.val();
        // Word steps count words: ⌈elements / L⌉ (a weight load's last word may be partial).
        self.s_words_w.next = self.g_words.val() >> self.lsh20.val();
        if (self.g_words.val() & self.lane20.val()).any() {
            self.s_words_w.next = (self.g_words.val() >> self.lsh20.val()) + 1;
        }
        self.s_len_w.next = self.s_len.val() >> self.lsh20.val();
        if (self.s_len.val() & self.lane20.val()).any() {
            self.s_len_w.next = (self.s_len.val() >> self.lsh20.val()) + 1;
        }
        self.s_run_w.next = bit_cast::<20, 12>(self.g_run.val()) >> self.lsh20.val();

        // ---- The cursors: external, on-chip, feature memory.
        self.ext.start.next = self.start.val();
        self.ext.s_addr.next = self.g_addr.val();
        // (The cursors' inputs are assigned once, from locals: a default overridden in this block
        // would glitch them in an event-driven simulator, and the cursors' outputs, which this
        // block reads, would glitch back: Icarus loops.)
        self.x_words.next = self.g_words.val();
        if self.s_word.val() {
            self.x_words.next = self.s_words_w.val();
        }
        self.ext.s_words.next = self.x_words.val();
        self.ext.s_stride.next = self.g_stride.val();
        self.ext.s_copy.next = self.g_copy.val();
        self.ext.s_store.next = self.g_store.val();
        self.ext.s_wide.next = !self.g_copy.val()
            & ((!self.g_store.val() & (self.g_sel.val() == 2)) | (self.g_store.val() & (self.g_sel.val() == 0) & self.g_raw.val()));
        // The external side's runs: `g_run` elements, `g_rows` per chunk (without runs, one run
        // of the chunk length).
        if self.g_runs.val() {
            self.x_len.next = bit_cast::<20, 12>(self.g_run.val());
            if self.s_word.val() {
                self.x_len.next = self.s_run_w.val();
            }
            self.ext.s_rows.next = self.g_rows.val();
        } else {
            self.x_len.next = self.s_len.val();
            if self.s_word.val() {
                self.x_len.next = self.s_len_w.val();
            }
            if self.s_wsp.val() {
                // Spread: the chunks are consecutive bytes, one external chunk of words.
                self.x_len.next = self.s_words_w.val();
            }
            self.ext.s_rows.next = 1.into();
        }
        self.ext.s_len.next = self.x_len.val();
        self.ext.s_step.next = self.g_step.val();
        self.ext.s_multi.next = self.g_multi.val();
        self.ext.s_word.next = self.s_word.val();
        self.l_raw.next = self.ld0.q.val();
        if self.l_rp.q.val() == 1 {
            self.l_raw.next = self.ld1.q.val();
        } else if self.l_rp.q.val() == 2 {
            self.l_raw.next = self.ld2.q.val();
        } else if self.l_rp.q.val() == 3 {
            self.l_raw.next = self.ld3.q.val();
        }
        self.l_elem.next = self.l_raw.val().get_bits::<32>(0);
        if self.sel.q.val().get_bit(0) {
            // A pooling output byte (`r_data`).
            self.l_elem.next = self.l_raw.val().get_bits::<32>(0) & bits::<32>(0xFF);
            if self.l_raw.val().get_bit(7) {
                self.l_elem.next = (self.l_raw.val().get_bits::<32>(0) & bits::<32>(0xFF)) | self.sext.val();
            }
        }
        self.ext.w_elem.next = self.l_elem.val();
        self.ext.w_word.next = self.l_raw.val();
        self.ext.rsp_data.next = self.m.rsp_data.val();
        self.cur.start.next = self.start.val();
        // A load-add names store 0's places.
        self.cur.s_store.next = self.g_store.val() | self.g_ladd.val();
        self.cur.s_copy.next = self.g_copy.val();
        self.cur.s_sel.next = self.g_sel.val();
        self.cur.s_half.next = self.g_half.val();
        self.cur.s_k.next = self.g_k.val();
        self.cur.s_bcast.next = self.g_bcast.val();
        self.cur.s_spread.next = self.s_wsp.val();
        self.c_len.next = self.s_len.val();
        if self.s_word.val() {
            self.c_len.next = self.s_len_w.val();
        }
        self.cur.s_len.next = self.c_len.val();
        self.cur.s_word.next = self.s_word.val();
        self.cur.fm_addr.next = self.fm.addr.val();
        self.cur.fm_bank.next = self.fm.bank.val();
        self.fm.start.next = self.start.val();
        self.fm.s_fw.next = self.g_fw.val();
        self.fm.s_hbw.next = self.g_hbw.val();
        self.fm.s_fph.next = self.g_fph.val();
        self.fm.s_fm.next = self.g_copy.val() | (!self.g_store.val() & (self.g_sel.val() == 3));
        self.fm.s_wd.next = self.s_wcp.val();
        self.fm.step.next = false;
        // A copy writes a word a cycle after its read, the on-chip cursor already at the next.
        if self.cp.q.val() {
            self.fm.chunk_end.next = self.cur.chunk_end_d.val();
        } else {
            self.fm.chunk_end.next = self.cur.chunk_end.val();
        }

        // ---- The store read's bounds check, a cycle after the read.
        if self.cur.rd_fault.val() {
            self.errf.d.next = true;
        }

        // ---- External requests: an element per cycle while ready; a bus request if it needs one.
        self.m.req_addr.next = self.ext.req_addr.val();
        self.m.req_len.next = self.ext.req_len.val();
        self.m.req_we.next = self.st.q.val();
        self.m.req_wdata.next = self.ext.req_wdata.val();
        self.m.req_be.next = self.ext.req_be.val();
        self.req_go.next = self.act.q.val() & self.ext.pending.val() & (!self.st.q.val() | self.l_hv.q.val());
        self.m.req_valid.next = self.req_go.val() & self.ext.req_need.val();
        // A store's writes come until its request side has no element left.
        self.m.req_more.next = self.act.q.val() & self.st.q.val() & self.ext.pending.val();
        self.req_fire.next = self.req_go.val() & (!self.ext.req_need.val() | self.m.req_ready.val());
        // A load takes an element from the held word, or from a response when it needs one.
        self.m.rsp_ready.next = self.act.q.val() & !self.st.q.val() & self.ext.rsp_need.val();
        self.rsp_take.next = self.act.q.val() & !self.st.q.val() & (!self.ext.rsp_need.val() | self.m.rsp_valid.val());

        // ---- On-chip side: loads write each response; stores read one word ahead.
        self.ws.load.next = false;
        self.ws.copy.next = false;
        self.ws.l_sel.next = self.sel.q.val();
        self.ws.l_addr.next = self.cur.a_cur.val();
        self.ws.l_depth.next = self.cur.depth.val();
        self.ws.l_data.next = self.ext.rsp_elem.val();
        self.ws.l_wide.next = self.wm.q.val();
        self.ws.l_word.next = self.ext.rsp_word.val();
        // The banks of a word-step write: every weight bank (C) or first-cache bank (R, a spread
        // load), or the first ones for the transfer's last elements. (Each assigned once:
        // docs/engines.md.)
        if self.o_left.q.val() < self.step_l.val() {
            self.wmask.next = (Bits::<64>::from(1u64) << bit_cast::<64, 20>(self.o_left.q.val())) - 1;
            self.smask.next = (Bits::<64>::from(1u64) << bit_cast::<64, 20>(self.o_left.q.val())) - 1;
        } else {
            self.wmask.next = self.all_banks.val();
            self.smask.next = self.all_rows.val();
        }
        if self.spr.q.val() {
            self.ws.l_bank.next = self.smask.val();
        } else if self.wm.q.val() & (self.sel.q.val() == 1) {
            self.ws.l_bank.next = self.wmask.val();
        } else {
            self.ws.l_bank.next = self.cur.bank.val();
        }
        self.ws.c_bank.next = self.fm.bank.val();
        self.ws.c_addr.next = self.fm.addr.val();
        self.ws.c_wide.next = self.wm.q.val();
        self.ws.c_n.next = self.fm.n_a.val();
        self.ws.c_bank_b.next = self.fm.bank_b.val();
        self.ws.c_addr_b.next = self.fm.addr_b.val();
        self.ws.r_data.next = self.r_data.val();
        self.ws.r_word.next = self.r_word.val();
        self.r_en.next = false;
        self.r_sel.next = self.sel.q.val().get_bit(0);
        // The read data's bank (the output buffer muxes by last cycle's `r_bank`) unless one is read below.
        self.r_bank.next = self.rb.q.val();
        self.r_addr.next = self.cur.rd_addr.val();
        self.adv.next = false;
        self.la_take.next = self.act.q.val() & !self.st.q.val() & self.la.q.val() & self.rsp_take.val();
        if self.act.q.val() & !self.st.q.val() {
            self.adv.next = self.rsp_take.val();
            if self.rsp_take.val() {
                self.ws.load.next = !self.la.q.val();
                self.fm.step.next = self.sel.q.val() == 3;
                self.o_left.d.next = self.o_left.q.val() - 1;
                if self.o_left.q.val() == 1 {
                    self.act.d.next = false;
                }
                if self.wm.q.val() {
                    self.o_left.d.next = self.o_left.q.val() - self.step_l.val();
                    if self.o_left.q.val() <= self.step_l.val() {
                        self.act.d.next = false;
                    }
                }
            }
        }
        self.sfire.next = self.cp.q.val() & self.primed.q.val();
        self.rd_v.d.next = false;
        if self.act.q.val() & self.cp.q.val() {
            if self.primed.q.val() {
                // The word read last cycle goes into the feature memory.
                self.ws.copy.next = true;
                self.fm.step.next = true;
            }
            if !self.primed.q.val() {
                // Read the first word and step the cursor: from here on it names the next
                // word to read, so a read's address comes from registers through one adder, not through the cursor's step logic (timing).
                self.primed.d.next = true;
                self.adv.next = true;
                self.r_bank.next = self.cur.bank.val();
                self.rb.d.next = self.cur.bank.val();
                // (Not gated by the bounds check, timing: a read past its place is harmless; `err` stops the run.)
                self.r_en.next = true;
            } else if self.sfire.val() {
                self.adv.next = true;
                self.o_left.d.next = self.o_left.q.val() - 1;
                if self.o_one.q.val() {
                    self.act.d.next = false;
                } else {
                    // The cursor already names the next word to read.
                    self.r_bank.next = self.cur.bank.val();
                    self.rb.d.next = self.cur.bank.val();
                    self.r_en.next = true;
                }
            }
        }
        // Stores: a read is issued while reads are left and the words landed and arriving are
        // at most two (so at most three are ever held; with the one the request side takes each
        // cycle, a word per cycle): a decision from registers, not from this cycle's take
        // (timing: the take is the request handshake). Each read's word lands a cycle later,
        // behind the held ones. The cursor steps with each read.
        self.s_pop.next = self.st.q.val() & !self.cp.q.val() & self.req_fire.val();
        self.l_in.next = bit_cast::<W, 32>(self.r_data.val());
        if self.wm.q.val() {
            self.l_in.next = self.r_word.val();
        }
        self.s_room.next = (self.l_n.q.val() < 2) | ((self.l_n.q.val() == 2) & !self.rd_v.q.val());
        self.l_n_next.next = self.l_n.q.val();
        if self.act.q.val() & self.st.q.val() & !self.cp.q.val() {
            if self.s_room.val() & self.r_more.q.val() {
                // (Not gated by the bounds check, timing: a read past its place is harmless; `err` stops the run.)
                self.r_en.next = true;
                self.adv.next = true;
                self.r_bank.next = self.cur.bank.val();
                self.rb.d.next = self.cur.bank.val();
                self.r_left.d.next = self.r_left.q.val() - 1;
                self.r_more.d.next = self.r_left.q.val() != 1;
                self.rd_v.d.next = true;
            }
            if self.s_pop.val() {
                self.o_left.d.next = self.o_left.q.val() - 1;
                if self.o_left.q.val() == 1 {
                    self.act.d.next = false;
                }
                self.l_rp.d.next = self.l_rp.q.val() + 1;
            }
            if self.rd_v.q.val() {
                self.l_wp.d.next = self.l_wp.q.val() + 1;
                if self.l_wp.q.val() == 0 {
                    self.ld0.d.next = self.l_in.val();
                }
                if self.l_wp.q.val() == 1 {
                    self.ld1.d.next = self.l_in.val();
                }
                if self.l_wp.q.val() == 2 {
                    self.ld2.d.next = self.l_in.val();
                }
                if self.l_wp.q.val() == 3 {
                    self.ld3.d.next = self.l_in.val();
                }
            }
            if self.rd_v.q.val() & !self.s_pop.val() {
                self.l_n_next.next = self.l_n.q.val() + 1;
            } else if !self.rd_v.q.val() & self.s_pop.val() {
                self.l_n_next.next = self.l_n.q.val() - 1;
            }
            self.l_n.d.next = self.l_n_next.val();
            self.l_hv.d.next = self.l_n_next.val().any();
        }
        if self.ws.fault.val() {
            self.errf.d.next = true;
        }
        self.w_en.next = self.ws.w_en.val();
        self.w_sel.next = self.ws.w_sel.val();
        self.w_scale.next = self.scl.q.val();
        self.w_bank.next = self.ws.w_bank.val();
        self.w_addr.next = self.ws.w_addr.val();
        self.w_data.next = self.ws.w_data.val();
        self.w_wide.next = self.ws.w_wide.val();
        // (A transfer starts only once the write stage is empty: `spr` is the written word's.)
        self.w_spread.next = self.ws.w_wide.val() & self.spr.q.val();
        self.w_word.next = self.ws.w_word.val();
        self.w_n.next = self.ws.w_n.val();
        self.w_bank_b.next = self.ws.w_bank_b.val();
        self.w_addr_b.next = self.ws.w_addr_b.val();

        // ---- Start.
        if self.start.val() {
            self.act.d.next = self.g_words.val().any();
            self.errf.d.next = false;
            self.st.d.next = self.g_store.val() | self.g_copy.val();
            self.cp.d.next = self.g_copy.val();
            self.scl.d.next = self.g_half.val() & !self.g_store.val() & !self.g_copy.val() & (self.g_sel.val() == 2);
            self.sel.d.next = self.g_sel.val();
            if self.g_copy.val() {
                self.sel.d.next = 0.into();
            }
            self.o_left.d.next = self.g_words.val();
            self.primed.d.next = false;
            self.r_left.d.next = self.x_words.val();
            self.r_more.d.next = self.g_words.val().any();
            if self.s_wst.val() | self.s_wcp.val() {
                // Word steps count words.
                self.o_left.d.next = self.s_words_w.val();
            }
            self.rd_v.d.next = false;
            self.l_wp.d.next = 0.into();
            self.l_rp.d.next = 0.into();
            self.l_n.d.next = 0.into();
            self.l_hv.d.next = false;
            self.wm.d.next = self.s_word.val();
            self.spr.d.next = self.s_wsp.val();
            self.la.d.next = self.g_ladd.val();
            self.la_ra.d.next = self.g_ra.val();
            self.la_rb.d.next = self.g_rb.val();
            self.la_fixed.d.next = self.g_fixed.val();
            self.la_qmin.d.next = self.g_qmin.val();
            self.la_swap.d.next = self.g_swap.val();
        }
        // ---- Load-add: read the taken element's place; a cycle later both operands enter the
        // add unit; its sum goes back to the place, carried beside it.
        self.la_v.d.next = self.la_take.val();
        if self.la_take.val() {
            // (Not gated by the bounds check: a read past its place is harmless; `err` stops the run.)
            self.r_en.next = true;
            self.r_bank.next = self.cur.bank.val();
            self.rb.d.next = self.cur.bank.val();
            self.la_b.d.next = self.ext.rsp_elem.val().get_bits::<8>(0);
            self.la_bank.d.next = self.cur.bank.val();
            self.la_addr.d.next = self.cur.rd_addr.val();
        }
        self.op_a.d.next = self.r_data.val().get_bits::<8>(0);
        self.op_b.d.next = self.la_b.q.val();
        self.op_v.d.next = self.la_v.q.val();
        self.unit.valid.next = self.op_v.q.val();
        if self.la_swap.q.val() {
            self.unit.a.next = self.op_b.q.val();
            self.unit.b.next = self.op_a.q.val();
        } else {
            self.unit.a.next = self.op_a.q.val();
            self.unit.b.next = self.op_b.q.val();
        }
        self.unit.ra.next = self.la_ra.q.val();
        self.unit.rb.next = self.la_rb.q.val();
        self.unit.fixed.next = self.la_fixed.q.val();
        self.unit.qmin.next = self.la_qmin.q.val();
        // The delay lines; each loop's last pass drives the write (rust-hdl's Verilog takes an
        // index computed from the vector's length, not a named constant).
        self.pb_dly[0].d.next = self.la_bank.q.val();
        self.pa_dly[0].d.next = self.la_addr.q.val();
        for i in 1..self.pb_dly.len() {
            self.pb_dly[i].d.next = self.pb_dly[i - 1].q.val();
            self.pa_dly[i].d.next = self.pa_dly[i - 1].q.val();
        }
        for i in 0..self.pb_dly.len() {
            self.o_bank.next = self.pb_dly[i].q.val();
            self.o_addr.next = self.pa_dly[i].q.val();
        }
        self.o_we.next = self.unit.y_valid.val();
        self.o_data.next = self.unit.y.val();
        if self.la_take.val() & !self.unit.y_valid.val() {
            self.fl.d.next = self.fl.q.val() + 1;
        } else if !self.la_take.val() & self.unit.y_valid.val() {
            self.fl.d.next = self.fl.q.val() - 1;
        }
        self.o_one.d.next = self.o_left.d.val() == 1;
        // The cursors step with this cycle's handshakes (rust-hdl reads a local only after it is assigned).
        self.ext.req_fire.next = self.req_fire.val();
        self.ext.rsp_take.next = self.rsp_take.val();
        self.cur.adv.next = self.adv.val();
        self.cur.rd_issue.next = self.r_en.val();
    }
}

crate::clocked!(impl[const W: usize, const L: usize] DataMover<W, L>);
