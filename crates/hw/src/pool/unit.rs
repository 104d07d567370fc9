//! # PoolUnit: pooling with a window register file that never re-reads overlapping columns
//!
//! Implements patents.md §2 (window register file) and §4 (clock-enable rate control). See
//! `docs/pooling.md` for the decisions.
//!
//! - **Feature memory**: k banks; bank b holds the padded rows ρ ≡ b (mod k) (ρ = y + ph). One read
//!   cycle reads the same column x of the k consecutive rows of a row band from the k banks: one
//!   column of k values.
//! - **Data region**: k rows × (m + n) columns. Each read cycle shifts one new column in on the
//!   right; an **update** is exactly n read cycles, after which the region holds the n new columns
//!   preceded by the last m columns of the previous update. Columns are read once per row band;
//!   retained columns are marked invalid when a row band starts.
//! - **Pooling kernel**: at each update the kernel receives the whole region; first-level pooling
//!   down every column (max, or sum), then, over the next n cycles, one candidate window end per
//!   cycle among the n new columns; a window whose end it is (the scan's *column division line*
//!   stops windows past the map's right edge) is pooled across its kw column results (max, or sum
//!   then [`AvgDiv`]). Padded positions are never read: max ignores them, average counts zeros.
//! - **Rate control**: every register except the divider's advances only on a clock enable that
//!   fires once every `div` cycles. `div` takes `p_div` only on a `conv_done` pulse while the unit
//!   is idle, and only when the value differs.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `ld_we`, `ld_bank`, `ld_addr`, `ld_data` | in | 1, 16, 16, 8 | feature-memory load (one-hot bank) |
//! | `p_*` | in | 16 | window, stride, padding, mode and derived sizes (host driver) |
//! | `p_div`, `conv_done` | in | 8, 1 | requested clock divider, and the event that may apply it |
//! | `start` / `busy`, `done` | in / out | 1 | handshake |
//! | `enable`, `div_now` | out | 1, 8 | the clock enable and the divider in force (observation) |
//! | `out_valid`, `out_idx`, `out_data` | out | 1, 32, 8 | one pooled value, flat index (c·Ho + y)·Wo + x |

use crate::mem::SyncRam;
use crate::pool::{AvgDiv, AVG_DIV_STAGES};

// The side registers h1..h4 are written for a four-stage divider.
const _: () = assert!(AVG_DIV_STAGES == 4);
use accelgen_config::PoolArray;
use rust_hdl::prelude::*;

/// Generator parameters of the pooling unit: the geometry derived from `pooling` in the
/// configuration ([`PoolArray`], which the compiler and the drivers read too) and a fault built in
/// on purpose for the invariant-counter tests. Derefs to the [`PoolArray`].
#[derive(Clone, Copy, Debug)]
pub struct PoolUnitParams {
    /// k, n, m, window and feature-memory depth.
    pub array: PoolArray,
    /// A fault built in on purpose (tests of the invariant counters); `None` otherwise.
    pub fault: PoolFault,
}

impl std::ops::Deref for PoolUnitParams {
    type Target = PoolArray;
    fn deref(&self) -> &PoolArray {
        &self.array
    }
}

/// Faults the unit can be built with, for tests that show an invariant counter catches them.
/// A product unit has none; a faulty unit emits different Verilog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PoolFault {
    /// No fault.
    #[default]
    None,
    /// Bank addresses ignore the column's low bit: every other column re-reads its neighbour.
    RereadColumn,
    /// Every read ends an update (updates of one column instead of n).
    ShortUpdate,
    /// Region column 0 does not shift: the retained columns are stale.
    StaleRetained,
    /// A new divider register value takes effect at once, even while running.
    DividerWhileRunning,
}

impl PoolUnitParams {
    /// The unit's parameters of a validated configuration.
    pub fn from_config(c: &accelgen_config::PoolingConfig) -> Self {
        PoolUnitParams { array: PoolArray::from_config(c), fault: PoolFault::None }
    }
}

/// The pooling unit.
#[derive(LogicBlock)]
pub struct PoolUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Feature-memory load strobe.
    pub ld_we: Signal<In, Bit>,
    /// One-hot bank.
    pub ld_bank: Signal<In, Bits<16>>,
    /// Bank entry.
    pub ld_addr: Signal<In, Bits<16>>,
    /// Value.
    pub ld_data: Signal<In, Bits<8>>,
    /// Channels.
    pub p_c: Signal<In, Bits<16>>,
    /// Input height.
    pub p_h: Signal<In, Bits<16>>,
    /// Input width.
    pub p_w: Signal<In, Bits<16>>,
    /// Output height.
    pub p_ho: Signal<In, Bits<16>>,
    /// Output width.
    pub p_wo: Signal<In, Bits<16>>,
    /// Window height.
    pub p_kh: Signal<In, Bits<16>>,
    /// Window width.
    pub p_kw: Signal<In, Bits<16>>,
    /// Vertical stride (at most k).
    pub p_sh: Signal<In, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<In, Bits<16>>,
    /// Vertical padding.
    pub p_ph: Signal<In, Bits<16>>,
    /// Horizontal padding.
    pub p_pw: Signal<In, Bits<16>>,
    /// Bank entries per channel: ceil((H + 2·ph) / k)·W.
    pub p_hbw: Signal<In, Bits<16>>,
    /// Padded columns read per row band (a multiple of n).
    pub p_xcols: Signal<In, Bits<16>>,
    /// kh·kw.
    pub p_count: Signal<In, Bits<16>>,
    /// Average (else max).
    pub p_avg: Signal<In, Bit>,
    /// Requested clock divider (≥ 1).
    pub p_div: Signal<In, Bits<8>>,
    /// The associated convolution layer finished (a pulse).
    pub conv_done: Signal<In, Bit>,
    /// Start the layer.
    pub start: Signal<In, Bit>,
    /// Running.
    pub busy: Signal<Out, Bit>,
    /// Finished (held until the next start).
    pub done: Signal<Out, Bit>,
    /// Clock enable this cycle.
    pub enable: Signal<Out, Bit>,
    /// Divider in force.
    pub div_now: Signal<Out, Bits<8>>,
    /// Output valid (one cycle per pooled value).
    pub out_valid: Signal<Out, Bit>,
    /// Output flat index.
    pub out_idx: Signal<Out, Bits<32>>,
    /// Output value.
    pub out_data: Signal<Out, Bits<8>>,

    /// Feature-memory banks.
    banks: Vec<SyncRam<Bits<8>>>,
    /// Average divider.
    avgdiv: AvgDiv,
    /// k as a constant.
    kconst: Constant<Bits<16>>,
    /// n − 1 as a constant.
    nlast: Constant<Bits<8>>,
    /// Bank outputs sign-extended to 16 bits.
    sx: Vec<SignExt>,
    /// Landing registers of the banks' read data, taken on the enabled cycle after the read
    /// (timing: the block RAMs' long clock-to-output ends in a register next to them, not in
    /// the rotation into the region).
    bd: Vec<DFF<Bits<8>>>,
    /// Region values (sign-extended), column-major: row r of column j is `region[j·k + r]`.
    region: Vec<DFF<Bits<16>>>,
    /// Region element-valid masks, one per column (padding rows and columns are 0).
    rmask: Vec<DFF<Bits<16>>>,
    /// Region column holds data of the current row band.
    rvalid: Vec<DFF<Bit>>,
    /// First-level results of the kernel's copy: biased 9-bit max (x + 256, i.e. the low nine
    /// bits of x with bit 8 flipped), sum, any valid element.
    cmax: Vec<DFF<Bits<9>>>,
    csum: Vec<DFF<Bits<16>>>,
    cany: Vec<DFF<Bit>>,
    /// Rate control: divider in force and the enable counter.
    div: DFF<Bits<8>>,
    cecnt: DFF<Bits<8>>,
    /// `cecnt` is not zero, registered with it (timing: the enable, which gates most of the
    /// unit, comes straight from a flip-flop).
    nce: DFF<Bit>,
    /// Run state.
    run: DFF<Bit>,
    fin: DFF<Bit>,
    tail: DFF<Bits<4>>,
    /// Read cursor: padded column, position in the update, update start, band, channel.
    rd_x: DFF<Bits<16>>,
    /// Whether `rd_x` is a column inside the map (not padding), registered with the cursor
    /// (timing: the banks' read enables do not wait for two compares against the padding and
    /// width): it turns on where `rd_x` steps onto `pw` and off where it steps onto `w + pw`,
    /// compared as `rd_x == pw − 1` and `rd_x == w + pw − 1` against the constants `c_on`,
    /// `c_off` (the parameters are held while the unit runs); `c_real0` is its value at column 0.
    c_real: DFF<Bit>,
    c_on: DFF<Bits<16>>,
    c_off: DFF<Bits<16>>,
    c_real0: DFF<Bit>,
    rd_upd: DFF<Bits<8>>,
    rd_ubase: DFF<Bits<16>>,
    reads_done: DFF<Bit>,
    c: DFF<Bits<16>>,
    yo: DFF<Bits<16>>,
    r0: DFF<Bits<16>>,
    bandaddr: DFF<Bits<16>>,
    /// Read addresses (timing): `bandaddr + rd_x − pw` for banks in the band's bank row, and
    /// `w` more for banks in the next, stepped with the cursor instead of added per read.
    ra0: DFF<Bits<16>>,
    ra1: DFF<Bits<16>>,
    /// The next band's `bandaddr` and read addresses for its three cases (next channel, next
    /// bank row, same bank row), and the case, registered every clock (their inputs change only
    /// at a band change, and the next one is at least two clocks later).
    nb_chan: DFF<Bits<16>>,
    nb_row: DFF<Bits<16>>,
    na_chan0: DFF<Bits<16>>,
    na_chan1: DFF<Bits<16>>,
    na_row0: DFF<Bits<16>>,
    na_row1: DFF<Bits<16>>,
    na_same0: DFF<Bits<16>>,
    ylast: DFF<Bit>,
    clast: DFF<Bit>,
    r0wrap: DFF<Bit>,
    chanbase: DFF<Bits<16>>,
    outrow: DFF<Bits<32>>,
    /// Read stage: what the read issued on the last enabled cycle is (its data lands in `bd`
    /// on the next one).
    a_valid: DFF<Bit>,
    a_real: DFF<Bit>,
    a_r0oh: DFF<Bits<16>>,
    a_mask: DFF<Bits<16>>,
    a_bandfirst: DFF<Bit>,
    a_updend: DFF<Bit>,
    a_ubase: DFF<Bits<16>>,
    a_outrow: DFF<Bits<32>>,
    /// Landed → shift-in stage.
    m_valid: DFF<Bit>,
    m_real: DFF<Bit>,
    m_r0oh: DFF<Bits<16>>,
    m_mask: DFF<Bits<16>>,
    m_bandfirst: DFF<Bit>,
    m_updend: DFF<Bit>,
    m_ubase: DFF<Bits<16>>,
    m_outrow: DFF<Bits<32>>,
    /// Update complete → kernel load.
    ld_pending: DFF<Bit>,
    k_ubase: DFF<Bits<16>>,
    k_bandfirst: DFF<Bit>,
    k_outrow: DFF<Bits<32>>,
    /// First-level stage (timing): the region's column results registered before the kernel
    /// load, with the update's position carried along.
    ld2: DFF<Bit>,
    l_ubase: DFF<Bits<16>>,
    l_bandfirst: DFF<Bit>,
    l_outrow: DFF<Bits<32>>,
    lmax: Vec<DFF<Bits<9>>>,
    lsum: Vec<DFF<Bits<16>>>,
    lbmax: Vec<DFF<Bits<9>>>,
    lbsum: Vec<DFF<Bits<16>>>,
    lany: Vec<DFF<Bit>>,
    /// Window emission over the n candidate ends of an update.
    e_active: DFF<Bit>,
    e_j: DFF<Bits<8>>,
    e_ep: DFF<Bits<16>>,
    e_next: DFF<Bits<16>>,
    e_xo: DFF<Bits<16>>,
    e_outrow: DFF<Bits<32>>,
    /// Window stage: the second level's result (sum and max) of the window ending this cycle,
    /// registered before the average divider (they were one timing path).
    q_valid: DFF<Bit>,
    q_idx: DFF<Bits<32>>,
    q_sum: DFF<Bits<16>>,
    q_max: DFF<Bits<8>>,
    /// Window half stage (timing): the second level over the window's last ceil(w/2) columns
    /// (`wa_*`) and over the rest (`wb_*`), registered before they are combined into `q_*`.
    w_valid: DFF<Bit>,
    w_idx: DFF<Bits<32>>,
    wa_max: DFF<Bits<9>>,
    wa_sum: DFF<Bits<16>>,
    wb_max: DFF<Bits<9>>,
    wb_sum: DFF<Bits<16>>,
    /// Divider stages 1 to 4 (the average divider's own registers hold the partial division):
    /// the window's valid flag, max and output index carried along.
    h1_valid: DFF<Bit>,
    h1_idx: DFF<Bits<32>>,
    h1_max: DFF<Bits<8>>,
    h2_valid: DFF<Bit>,
    h2_idx: DFF<Bits<32>>,
    h2_max: DFF<Bits<8>>,
    h3_valid: DFF<Bit>,
    h3_idx: DFF<Bits<32>>,
    h3_max: DFF<Bits<8>>,
    h4_valid: DFF<Bit>,
    h4_idx: DFF<Bits<32>>,
    h4_max: DFF<Bits<8>>,
    /// Output registers.
    o_valid: DFF<Bit>,
    o_idx: DFF<Bits<32>>,
    o_data: DFF<Bits<8>>,

    /// Clock enable.
    ce: Signal<Local, Bit>,
    /// This column is inside the map (not horizontal padding).
    col_real: Signal<Local, Bit>,
    /// Row-valid mask of the current band.
    rowmask: Signal<Local, Bits<16>>,
    /// The row mask in bank order (bank (r0 + i) mod k holds band row i): the banks read.
    bankmask: Signal<Local, Bits<16>>,
    /// Thermometer of banks whose row lies in the next bank row (b < r0).
    thermo: Signal<Local, Bits<16>>,
    /// r0 + sh.
    r0n: Signal<Local, Bits<16>>,
    /// Row-band masks (timing). A pointer names the band after the current one by thermometer
    /// masks of its first and one-past-last needed window row (`lo_p`, `hi_p`), the rows left below its top
    /// (`rem_p`), its first bank (`nr0`) and index (`nyo`), each stepped by subtraction when a
    /// band starts; one free-running stage turns it into the row and bank masks, which a band
    /// change takes into `rowmask_c`/`bankmask_c`. The read stage reads registers instead of a
    /// subtract-compare-shift-rotate chain.
    nyo: DFF<Bits<16>>,
    lo_p: DFF<Bits<16>>,
    hi_p: DFF<Bits<16>>,
    rem_p: DFF<Bits<16>>,
    nr0: DFF<Bits<16>>,
    /// k − nr0 (the rotation's right shift).
    nr0c: DFF<Bits<16>>,
    /// The last padded column of a band, `xcols` − 1, and the last band, `Ho` − 1 (every clock).
    holast: DFF<Bits<16>>,
    xlast: DFF<Bits<16>>,
    /// `Ho` − 2 (every clock), and whether the pointer names a channel's last band, registered
    /// when the pointer steps (timing: no index compare in front of the pointer's step).
    holm2: DFF<Bits<16>>,
    nwrap_r: DFF<Bit>,
    /// Band 0's pointer values and the window-height mask, from the parameters (every clock).
    b0_lo: DFF<Bits<16>>,
    b0_rem: DFF<Bits<16>>,
    b0_hi: DFF<Bits<16>>,
    khmask: DFF<Bits<16>>,
    /// The pointer's masks.
    rowmask_nr: DFF<Bits<16>>,
    bankmask_nr: DFF<Bits<16>>,
    /// The current band's masks (and the thermometer of its first bank, `thermo`).
    rowmask_c: DFF<Bits<16>>,
    bankmask_c: DFF<Bits<16>>,
    thermo_nr: DFF<Bits<16>>,
    thermo_c: DFF<Bits<16>>,
    /// Enabled cycles left before the first read: the pointer takes band 0 (from parameters
    /// registered a clock earlier), its masks register, the current band takes them.
    prime: DFF<Bits<2>>,
    /// A read just ended a one-column band (`xcols` = 1): the next enabled cycle reads nothing
    /// and takes the masks, which were not ready at the read.
    bub: DFF<Bit>,
    /// `xcols` = 1, registered every clock (timing: no 16-bit compare in front of the band
    /// step; the parameters are stable from a run's start and the first use is after priming).
    xc1: DFF<Bit>,
    /// The pointer names a channel's last band.
    nwrap: Signal<Local, Bit>,
    /// The pointer's next band index, its rows left, and its bank (before and after the wrap).
    nyo1: Signal<Local, Bits<16>>,
    rem1: Signal<Local, Bits<16>>,
    nr0s: Signal<Local, Bits<16>>,
    nr01: Signal<Local, Bits<16>>,
    /// Thermometers (bit i set for i < x, all set for x ≥ 16) of h + ph and of the pointer's
    /// next rows left.
    th_b0: Signal<Local, Bits<16>>,
    th_rem1: Signal<Local, Bits<16>>,
    /// The pointer's row mask, combinational.
    rowmask_s: Signal<Local, Bits<16>>,
    /// The read that ends the current band (`be`: registered, stepped with the cursor).
    bandend: Signal<Local, Bit>,
    be: DFF<Bit>,
    /// Take the pointer's masks into the current band's and step the pointer.
    take: Signal<Local, Bit>,
    /// The new column, rotated into band order.
    newcol: Vec<Signal<Local, Bits<16>>>,
    /// First-level chains per element.
    fmax: Vec<Signal<Local, Bits<9>>>,
    fsum: Vec<Signal<Local, Bits<16>>>,
    /// The second chain per column (rows ceil(k/2)..k), element 0 the identity.
    fmaxb: Vec<Signal<Local, Bits<9>>>,
    fsumb: Vec<Signal<Local, Bits<16>>>,
    /// The kernel's column max, the larger of the two chains' registered results.
    cmaxin: Vec<Signal<Local, Bits<9>>>,
    /// Second-level chains per window slot, and the window-width mask.
    kwmask: Signal<Local, Bits<16>>,
    smax: Vec<Signal<Local, Bits<9>>>,
    ssum: Vec<Signal<Local, Bits<16>>>,
    /// The second half's chain: element 0 is the identity, element i covers window column
    /// ceil(w/2) + i − 1.
    smaxb: Vec<Signal<Local, Bits<9>>>,
    ssumb: Vec<Signal<Local, Bits<16>>>,
    /// The window's max (its low eight bits: the int8 value).
    omax: Signal<Local, Bits<8>>,
    /// The window's sum (the second level's last slot).
    wsum: Signal<Local, Bits<16>>,
    /// A window ends at this candidate.
    emit: Signal<Local, Bit>,
    /// Window cursor after this cycle's emission.
    en_next: Signal<Local, Bits<16>>,
    en_xo: Signal<Local, Bits<16>>,
    /// Built-in faults (tests only): one element when present, none in a product.
    fault_reread: Vec<Constant<Bit>>,
    fault_short: Vec<Constant<Bit>>,
    fault_stale: Vec<Constant<Bit>>,
    fault_divider: Vec<Constant<Bit>>,
}

/// One constant when the fault is built in, none otherwise.
fn fault_if(on: bool) -> Vec<Constant<Bit>> {
    on.then(|| Constant::new(true)).into_iter().collect()
}

fn vec_of<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl PoolUnit {
    /// A unit with the given generator parameters.
    pub fn new(p: &PoolUnitParams) -> Self {
        let (k, mn, w) = (p.rows_per_read, p.retained_cols + p.cols_per_update, p.max_window);
        assert!(
            (1..=16).contains(&k) && (1..=32).contains(&mn) && w <= k && w <= p.retained_cols + 1,
            "pooling unit k = {k}, m + n = {mn}, window {w}: allowed k 1..=16, m + n 1..=32, window at most k and m + 1 (validated configurations never get here)"
        );
        block_with_defaults!(PoolUnit {
            banks: (0..k).map(|_| SyncRam::collision_free(p.feature_memory_depth)).collect(),
            sx: vec_of(k),
            bd: vec_of(k),
            kconst: Constant::new((k as u64).into()),
            nlast: Constant::new(((p.cols_per_update - 1) as u64).into()),
            region: vec_of(k * mn),
            rmask: vec_of(mn),
            rvalid: vec_of(mn),
            cmax: vec_of(mn),
            csum: vec_of(mn),
            cany: vec_of(mn),
            lmax: vec_of(mn),
            lsum: vec_of(mn),
            lbmax: vec_of(mn),
            lbsum: vec_of(mn),
            lany: vec_of(mn),
            newcol: vec_of(k),
            fmax: vec_of(k.div_ceil(2) * mn),
            fsum: vec_of(k.div_ceil(2) * mn),
            fmaxb: vec_of((k - k.div_ceil(2) + 1) * mn),
            fsumb: vec_of((k - k.div_ceil(2) + 1) * mn),
            cmaxin: vec_of(mn),
            smax: vec_of(w.div_ceil(2)),
            ssum: vec_of(w.div_ceil(2)),
            smaxb: vec_of(w - w.div_ceil(2) + 1),
            ssumb: vec_of(w - w.div_ceil(2) + 1),
            fault_reread: fault_if(p.fault == PoolFault::RereadColumn),
            fault_short: fault_if(p.fault == PoolFault::ShortUpdate),
            fault_stale: fault_if(p.fault == PoolFault::StaleRetained),
            fault_divider: fault_if(p.fault == PoolFault::DividerWhileRunning),
        } defaults {
            clock, ld_we, ld_bank, ld_addr, ld_data, p_c, p_h, p_w, p_ho, p_wo, p_kh, p_kw, p_sh,
            p_sw, p_ph, p_pw, p_hbw, p_xcols, p_count, p_avg, p_div, conv_done, start, busy, done,
            enable, div_now, out_valid, out_idx, out_data, avgdiv, div, cecnt, nce, run, fin, tail,
            rd_x, c_real, c_on, c_off, c_real0, rd_upd, rd_ubase, reads_done, c, yo, r0, bandaddr,
            ra0, ra1, nb_chan, nb_row, na_chan0, na_chan1, na_row0, na_row1, na_same0, ylast, clast,
            r0wrap, chanbase, outrow, a_valid, a_real, a_r0oh, a_mask, a_bandfirst, a_updend,
            a_ubase, a_outrow, m_valid, m_real, m_r0oh, m_mask, m_bandfirst, m_updend, m_ubase,
            m_outrow, ld_pending, k_ubase, k_bandfirst, k_outrow, ld2, l_ubase, l_bandfirst,
            l_outrow, e_active, e_j, e_ep, e_next, e_xo, e_outrow, q_valid, q_idx, q_sum, q_max,
            w_valid, w_idx, wa_max, wa_sum, wb_max, wb_sum, h1_valid, h1_idx, h1_max, h2_valid,
            h2_idx, h2_max, h3_valid, h3_idx, h3_max, h4_valid, h4_idx, h4_max, o_valid, o_idx,
            o_data, ce, col_real, rowmask, bankmask, thermo, r0n, nyo, lo_p, hi_p, rem_p, nr0, nr0c,
            xlast, holast, holm2, nwrap_r, nwrap, b0_lo, b0_rem, khmask, b0_hi, rowmask_nr,
            bankmask_nr, rowmask_c, thermo_nr, thermo_c, bankmask_c, prime, bub, xc1, nyo1, rem1,
            nr0s, nr01, th_b0, th_rem1, rowmask_s, bandend, be, take, kwmask, omax, wsum, emit,
            en_next, en_xo,
        })
    }

    /// k.
    pub fn rows_per_read(&self) -> usize {
        self.banks.len()
    }

    /// m + n.
    pub fn region_cols(&self) -> usize {
        self.rvalid.len()
    }

    /// Region column j as (values of its k rows, element-valid mask, holds current-band data).
    pub fn region_col(&self, j: usize) -> (Vec<u8>, u16, bool) {
        let k = self.rows_per_read();
        let vals = (0..k).map(|r| self.region[j * k + r].q.val().index() as u8).collect();
        (vals, self.rmask[j].q.val().index() as u16, self.rvalid[j].q.val())
    }

    /// Bank b of the feature memory (observation).
    pub fn bank(&self, b: usize) -> &SyncRam<Bits<8>> {
        &self.banks[b]
    }

    /// This cycle shifts a column into the region (a read's data arrives), and it completes an
    /// update: (shift, update end, band first).
    pub fn shift_event(&self) -> (bool, bool, bool) {
        let on = self.ce.val() & self.m_valid.q.val();
        (on, on & self.m_updend.q.val(), on & self.m_bandfirst.q.val())
    }

    /// The padded column read this cycle, with the number of real values it fetches (None when no
    /// read happens).
    pub fn read_issue(&self) -> Option<(u64, u32)> {
        if self.ce.val() & self.run.q.val() & !self.reads_done.q.val() {
            let n = if self.col_real.val() { self.rowmask.val().index().count_ones() } else { 0 };
            Some((self.rd_x.q.val().index() as u64, n))
        } else {
            None
        }
    }

    /// The kernel takes its copy of the region this cycle.
    pub fn kernel_load(&self) -> bool {
        self.ce.val() & self.ld_pending.q.val()
    }
}

impl Logic for PoolUnit {
    #[hdl_gen]
    fn update(&mut self) {
        // ---- Defaults: registers hold; sub-blocks clocked.
        dff_setup!(
            self, clock, div, cecnt, nce, run, fin, tail, rd_x, c_real, c_on, c_off, c_real0, rd_upd, rd_ubase, reads_done, c, yo,
            r0, bandaddr, ra0, ra1, nb_chan, nb_row, na_chan0, na_chan1, na_row0,
            na_row1, na_same0, ylast, clast, r0wrap, chanbase, outrow, a_valid, a_real, a_r0oh, a_mask, a_bandfirst, a_updend,
            a_ubase, a_outrow, m_valid, m_real, m_r0oh, m_mask, m_bandfirst,
            m_updend, m_ubase, m_outrow, ld_pending, k_ubase, k_bandfirst, k_outrow, ld2, l_ubase, l_bandfirst,
            l_outrow, w_valid, w_idx, wa_max, wa_sum, wb_max, wb_sum, e_active, e_j,
            e_ep, e_next, e_xo, e_outrow, q_valid, q_idx, q_sum, q_max, nyo, lo_p, hi_p, rem_p, nr0, nr0c, be, xlast, holast, holm2, nwrap_r, b0_lo,
            b0_rem, b0_hi, khmask, rowmask_nr, bankmask_nr, rowmask_c, bankmask_c, thermo_nr, thermo_c, prime, bub, xc1, h1_valid, h1_idx, h1_max,
            h2_valid, h2_idx, h2_max, h3_valid, h3_idx, h3_max, h4_valid, h4_idx, h4_max, o_valid,
            o_idx, o_data
        );
        for i in 0..self.region.len() {
            self.region[i].clock.next = self.clock.val();
            self.region[i].d.next = self.region[i].q.val();
        }
        for j in 0..self.rvalid.len() {
            self.rmask[j].clock.next = self.clock.val();
            self.rmask[j].d.next = self.rmask[j].q.val();
            self.rvalid[j].clock.next = self.clock.val();
            self.rvalid[j].d.next = self.rvalid[j].q.val();
            self.cmax[j].clock.next = self.clock.val();
            self.cmax[j].d.next = self.cmax[j].q.val();
            self.csum[j].clock.next = self.clock.val();
            self.csum[j].d.next = self.csum[j].q.val();
            self.cany[j].clock.next = self.clock.val();
            self.cany[j].d.next = self.cany[j].q.val();
            self.lmax[j].clock.next = self.clock.val();
            self.lmax[j].d.next = self.lmax[j].q.val();
            self.lsum[j].clock.next = self.clock.val();
            self.lsum[j].d.next = self.lsum[j].q.val();
            self.lbmax[j].clock.next = self.clock.val();
            self.lbmax[j].d.next = self.lbmax[j].q.val();
            self.lbsum[j].clock.next = self.clock.val();
            self.lbsum[j].d.next = self.lbsum[j].q.val();
            if self.lmax[j].q.val() > self.lbmax[j].q.val() {
                self.cmaxin[j].next = self.lmax[j].q.val();
            } else {
                self.cmaxin[j].next = self.lbmax[j].q.val();
            }
            self.lany[j].clock.next = self.clock.val();
            self.lany[j].d.next = self.lany[j].q.val();
        }
        for b in 0..self.banks.len() {
            self.banks[b].clock.next = self.clock.val();
            self.banks[b].w_en.next = self.ld_we.val() & self.ld_bank.val().get_bit(b);
            self.banks[b].w_addr.next = self.ld_addr.val();
            self.banks[b].w_data.next = self.ld_data.val();
            self.bd[b].clock.next = self.clock.val();
            self.sx[b].a.next = self.bd[b].q.val();
        }

        // ---- Rate control: the enable fires once every `div` cycles.
        self.ce.next = !self.nce.q.val();
        // The banks' read data land on the enabled cycle after the read.
        for b in 0..self.banks.len() {
            if self.ce.val() {
                self.bd[b].d.next = self.banks[b].r_data.val();
            } else {
                self.bd[b].d.next = self.bd[b].q.val();
            }
        }
        if self.cecnt.q.val() + 1 >= self.div.q.val() {
            self.cecnt.d.next = 0.into();
            self.nce.d.next = false;
        } else {
            self.cecnt.d.next = self.cecnt.q.val() + 1;
            self.nce.d.next = true;
        }
        if self.conv_done.val()
            & !self.run.q.val()
            & (self.p_div.val() != self.div.q.val())
            & self.p_div.val().any()
        {
            self.div.d.next = self.p_div.val();
            self.cecnt.d.next = 0.into();
            self.nce.d.next = false;
        }
        for f in 0..self.fault_divider.len() {
            if self.fault_divider[f].val() & (self.p_div.val() != self.div.q.val()) & self.p_div.val().any() {
                self.div.d.next = self.p_div.val();
            }
        }
        self.enable.next = self.ce.val();
        self.div_now.next = self.div.q.val();
        self.busy.next = self.run.q.val();
        self.done.next = self.fin.q.val();
        self.o_valid.d.next = false;
        self.out_valid.next = self.o_valid.q.val();
        self.out_idx.next = self.o_idx.q.val();
        self.out_data.next = self.o_data.q.val();

        // ---- Read stage: one padded column of the current row band per enabled cycle.
        self.col_real.next = self.c_real.q.val();
        self.c_on.d.next = self.p_pw.val() - 1;
        self.c_off.d.next = self.p_w.val() + self.p_pw.val() - 1;
        self.c_real0.d.next = !self.p_pw.val().any() & self.p_w.val().any();
        // Band 0's pointer values (the parameters are held while the unit runs, from the start
        // cycle on). A thermometer !(0xFFFF << x), bit i set for i < x, is taken only of values
        // up to 16 (window sizes, or clamped first): a decoder, no carry chain.
        self.khmask.d.next = !(bits::<16>(0xFFFF) << self.p_kh.val());
        if self.p_ph.val() < 16 {
            self.b0_lo.d.next = !(bits::<16>(0xFFFF) << self.p_ph.val());
        } else {
            self.b0_lo.d.next = 0xFFFF.into();
        }
        self.b0_rem.d.next = self.p_h.val() + self.p_ph.val();
        if self.p_h.val() + self.p_ph.val() < 16 {
            self.th_b0.next = !(bits::<16>(0xFFFF) << (self.p_h.val() + self.p_ph.val()));
        } else {
            self.th_b0.next = 0xFFFF.into();
        }
        self.b0_hi.d.next = self.th_b0.val() & !(bits::<16>(0xFFFF) << self.p_kh.val());
        // The pointer's masks, registered every clock.
        self.rowmask_s.next = self.hi_p.q.val() & !self.lo_p.q.val();
        self.rowmask_nr.d.next = self.rowmask_s.val();
        // Rotate left by r0 within k bits: only banks holding a needed row are read.
        self.bankmask_nr.d.next = ((self.rowmask_s.val() << self.nr0.q.val())
            | (self.rowmask_s.val() >> self.nr0c.q.val()))
            & ((bits::<16>(1) << self.kconst.val()) - 1);
        self.rowmask.next = self.rowmask_c.q.val();
        self.bankmask.next = self.bankmask_c.q.val();
        // The pointer's step: the next channel's first band after the last, else sh rows down.
        self.holast.d.next = self.p_ho.val() - 1;
        self.holm2.d.next = self.p_ho.val() - 2;
        self.nwrap.next = self.nwrap_r.q.val();
        if self.nwrap.val() {
            self.nyo1.next = 0.into();
        } else {
            self.nyo1.next = self.nyo.q.val() + 1;
        }
        self.rem1.next = self.rem_p.q.val() - self.p_sh.val();
        if !self.rem1.val().get_bits::<12>(4).any() {
            self.th_rem1.next = !(bits::<16>(0xFFFF) << self.rem1.val());
        } else {
            self.th_rem1.next = 0xFFFF.into();
        }
        self.nr0s.next = self.nr0.q.val() + self.p_sh.val();
        if self.nr0s.val() >= self.kconst.val() {
            self.nr01.next = self.nr0s.val() - self.kconst.val();
        } else {
            self.nr01.next = self.nr0s.val();
        }
        self.thermo.next = self.thermo_c.q.val();
        self.thermo_nr.d.next = !(bits::<16>(0xFFFF) << self.nr0.q.val());
        self.r0n.next = self.r0.q.val() + self.p_sh.val();
        for b in 0..self.banks.len() {
            self.banks[b].r_en.next = false;
            if self.thermo.val().get_bit(b) {
                self.banks[b].r_addr.next = self.ra1.q.val();
            } else {
                self.banks[b].r_addr.next = self.ra0.q.val();
            }
        }
        for f in 0..self.fault_reread.len() {
            if self.fault_reread[f].val() {
                for b in 0..self.banks.len() {
                    self.banks[b].r_addr.next =
                        self.bandaddr.q.val() + (self.rd_x.q.val() & 0xFFFE) - self.p_pw.val();
                }
            }
        }
        self.xlast.d.next = self.p_xcols.val() - 1;
        self.xc1.d.next = self.p_xcols.val() == 1;
        self.bandend.next = self.be.q.val();
        // The band after this one starts at the next channel's base, one bank row further
        // (when its first row wraps past bank k − 1), or where this one does.
        self.nb_chan.d.next = self.chanbase.q.val() + self.p_hbw.val();
        self.nb_row.d.next = self.bandaddr.q.val() + self.p_w.val();
        self.na_chan0.d.next = self.chanbase.q.val() + self.p_hbw.val() - self.p_pw.val();
        self.na_chan1.d.next = self.chanbase.q.val() + self.p_hbw.val() + self.p_w.val() - self.p_pw.val();
        self.na_row0.d.next = self.bandaddr.q.val() + self.p_w.val() - self.p_pw.val();
        self.na_row1.d.next = self.bandaddr.q.val() + self.p_w.val() + self.p_w.val() - self.p_pw.val();
        self.na_same0.d.next = self.bandaddr.q.val() - self.p_pw.val();
        self.ylast.d.next = self.yo.q.val() == self.holast.q.val();
        self.clast.d.next = self.c.q.val() + 1 == self.p_c.val();
        self.r0wrap.d.next = self.r0n.val() >= self.kconst.val();
        // The last priming cycle, a read that ends a band of two or more columns, or the
        // cycle after a one-column band: the current band takes the pointer's masks, and the
        // pointer steps.
        self.take.next = self.run.q.val()
            & ((self.prime.q.val() == 1)
                | self.bub.q.val()
                | (!self.reads_done.q.val()
                    & !self.prime.q.val().any()
                    & self.bandend.val()
                    & !self.xc1.q.val()));
        if self.ce.val() {
            self.a_valid.d.next = false;
            self.m_valid.d.next = self.a_valid.q.val();
            self.m_real.d.next = self.a_real.q.val();
            self.m_r0oh.d.next = self.a_r0oh.q.val();
            self.m_mask.d.next = self.a_mask.q.val();
            self.m_bandfirst.d.next = self.a_bandfirst.q.val();
            self.m_updend.d.next = self.a_updend.q.val();
            self.m_ubase.d.next = self.a_ubase.q.val();
            self.m_outrow.d.next = self.a_outrow.q.val();
            self.bub.d.next = false;
            if self.run.q.val() & self.prime.q.val().any() {
                self.prime.d.next = self.prime.q.val() - 1;
            }
            // The first priming cycle: the pointer takes band 0.
            if self.run.q.val() & (self.prime.q.val() == 3) {
                self.nyo.d.next = 0.into();
                self.nwrap_r.d.next = self.p_ho.val() == 1;
                self.lo_p.d.next = self.b0_lo.q.val();
                self.rem_p.d.next = self.b0_rem.q.val();
                self.hi_p.d.next = self.b0_hi.q.val();
                self.nr0.d.next = 0.into();
                self.nr0c.d.next = self.kconst.val();
            }
            if self.take.val() {
                self.rowmask_c.d.next = self.rowmask_nr.q.val();
                self.bankmask_c.d.next = self.bankmask_nr.q.val();
                self.thermo_c.d.next = self.thermo_nr.q.val();
                self.nyo.d.next = self.nyo1.val();
                if !self.nwrap.val() {
                    // The next index is nyo + 1: the last band when nyo = Ho − 2.
                    self.nwrap_r.d.next = self.nyo.q.val() == self.holm2.q.val();
                    self.lo_p.d.next = self.lo_p.q.val() >> self.p_sh.val();
                    self.rem_p.d.next = self.rem1.val();
                    self.hi_p.d.next = self.th_rem1.val() & self.khmask.q.val();
                    self.nr0.d.next = self.nr01.val();
                    self.nr0c.d.next = self.kconst.val() - self.nr01.val();
                } else {
                    self.nwrap_r.d.next = self.p_ho.val() == 1;
                    self.lo_p.d.next = self.b0_lo.q.val();
                    self.rem_p.d.next = self.b0_rem.q.val();
                    self.hi_p.d.next = self.b0_hi.q.val();
                    self.nr0.d.next = 0.into();
                    self.nr0c.d.next = self.kconst.val();
                }
            }
            if self.run.q.val() & !self.reads_done.q.val() & !self.prime.q.val().any() & !self.bub.q.val() {
                self.bub.d.next = self.bandend.val() & self.xc1.q.val();
            }
            if self.run.q.val() & !self.reads_done.q.val() & !self.bub.q.val() & !self.prime.q.val().any() {
                for b in 0..self.banks.len() {
                    self.banks[b].r_en.next = self.col_real.val() & self.bankmask.val().get_bit(b);
                }
                self.a_valid.d.next = true;
                self.a_real.d.next = self.col_real.val();
                self.a_r0oh.d.next = bits::<16>(1) << self.r0.q.val();
                self.a_mask.d.next = self.rowmask.val();
                self.a_bandfirst.d.next = !self.rd_x.q.val().any();
                self.a_updend.d.next = self.rd_upd.q.val() == self.nlast.val();
                for f in 0..self.fault_short.len() {
                    if self.fault_short[f].val() {
                        self.a_updend.d.next = true;
                    }
                }
                self.a_outrow.d.next = self.outrow.q.val();
                if self.rd_upd.q.val().any() {
                    self.a_ubase.d.next = self.rd_ubase.q.val();
                } else {
                    self.a_ubase.d.next = self.rd_x.q.val();
                    self.rd_ubase.d.next = self.rd_x.q.val();
                }
                if self.rd_upd.q.val() == self.nlast.val() {
                    self.rd_upd.d.next = 0.into();
                } else {
                    self.rd_upd.d.next = self.rd_upd.q.val() + 1;
                }
                self.rd_x.d.next = self.rd_x.q.val() + 1;
                if self.rd_x.q.val() == self.c_off.q.val() {
                    self.c_real.d.next = false;
                } else if self.rd_x.q.val() == self.c_on.q.val() {
                    self.c_real.d.next = true;
                }
                self.be.d.next = self.rd_x.q.val() + 1 == self.xlast.q.val();
                self.ra0.d.next = self.ra0.q.val() + 1;
                self.ra1.d.next = self.ra1.q.val() + 1;
                if self.bandend.val() {
                    // Next row band.
                    self.rd_x.d.next = 0.into();
                    self.c_real.d.next = self.c_real0.q.val();
                    self.be.d.next = self.xc1.q.val();
                    if self.ylast.q.val() {
                        self.bandaddr.d.next = self.nb_chan.q.val();
                        self.ra0.d.next = self.na_chan0.q.val();
                        self.ra1.d.next = self.na_chan1.q.val();
                    } else if self.r0wrap.q.val() {
                        self.bandaddr.d.next = self.nb_row.q.val();
                        self.ra0.d.next = self.na_row0.q.val();
                        self.ra1.d.next = self.na_row1.q.val();
                    } else {
                        self.ra0.d.next = self.na_same0.q.val();
                        // The same bank row: the next row's base is this band's `na_row0`.
                        self.ra1.d.next = self.na_row0.q.val();
                    }
                    self.outrow.d.next = self.outrow.q.val() + bit_cast::<32, 16>(self.p_wo.val());
                    if self.ylast.q.val() {
                        self.yo.d.next = 0.into();
                        self.r0.d.next = 0.into();
                        self.chanbase.d.next = self.nb_chan.q.val();
                        if self.clast.q.val() {
                            self.reads_done.d.next = true;
                        } else {
                            self.c.d.next = self.c.q.val() + 1;
                        }
                    } else {
                        self.yo.d.next = self.yo.q.val() + 1;
                        if self.r0n.val() >= self.kconst.val() {
                            self.r0.d.next = self.r0n.val() - self.kconst.val();
                        } else {
                            self.r0.d.next = self.r0n.val();
                        }
                    }
                }
            }
        }

        // ---- Shift-in stage: the read data arrive; rotate the banks into band row order.
        for kk in self.banks.len()..(self.banks.len() + 1) {
            for i in 0..self.banks.len() {
                self.newcol[i].next = 0.into();
                for r in 0..self.banks.len() {
                    if self.m_r0oh.q.val().get_bit(r) {
                        self.newcol[i].next = self.sx[(i + r) % kk].y.val();
                    }
                }
            }
            if self.ce.val() & self.m_valid.q.val() {
                for j in 0..(self.rvalid.len() - 1) {
                    for r in 0..self.banks.len() {
                        self.region[j * kk + r].d.next = self.region[j * kk + kk + r].q.val();
                    }
                    self.rmask[j].d.next = self.rmask[j + 1].q.val();
                    // Retained columns are invalid at the start of a row band.
                    self.rvalid[j].d.next = self.rvalid[j + 1].q.val() & !self.m_bandfirst.q.val();
                }
                for f in 0..self.fault_stale.len() {
                    if self.fault_stale[f].val() {
                        for r in 0..self.banks.len() {
                            self.region[r].d.next = self.region[r].q.val();
                        }
                    }
                }
                for last in (self.rvalid.len() - 1)..self.rvalid.len() {
                    for r in 0..self.banks.len() {
                        self.region[last * kk + r].d.next = self.newcol[r].val();
                    }
                    if self.m_real.q.val() {
                        self.rmask[last].d.next = self.m_mask.q.val();
                    } else {
                        self.rmask[last].d.next = 0.into();
                    }
                    self.rvalid[last].d.next = true;
                }
                if self.m_updend.q.val() {
                    self.ld_pending.d.next = true;
                    self.k_ubase.d.next = self.m_ubase.q.val();
                    self.k_bandfirst.d.next = self.m_bandfirst.q.val() | (self.m_ubase.q.val() == 0);
                    self.k_outrow.d.next = self.m_outrow.q.val();
                }
            }

            // ---- First level: down every region column (the kernel's copy is loaded below).
            // Two chains per column (timing): rows 0..ceil(k/2) and the rest, combined when the
            // kernel loads its copy.
            for ka in (self.fmax.len() / self.rvalid.len())..(self.fmax.len() / self.rvalid.len() + 1) {
                for kb in (self.fmaxb.len() / self.rvalid.len())..(self.fmaxb.len() / self.rvalid.len() + 1) {
                    for j in 0..self.rvalid.len() {
                        // Row 0 starts the first chain; max compares 9-bit biased values (x + 256:
                        // unsigned order equals signed order, 0 is below every int8, and the carry
                        // chains are nine bits long instead of sixteen).
                        if self.rmask[j].q.val().get_bit(0) {
                            self.fmax[j * ka].next = self.region[j * kk].q.val().get_bits::<9>(0) ^ 0x100;
                            self.fsum[j * ka].next = self.region[j * kk].q.val();
                        } else {
                            self.fmax[j * ka].next = 0.into();
                            self.fsum[j * ka].next = 0.into();
                        }
                        for r in 1..(self.fmax.len() / self.rvalid.len()) {
                            if self.rmask[j].q.val().get_bit(r)
                                & ((self.region[j * kk + r].q.val().get_bits::<9>(0) ^ 0x100) > self.fmax[j * ka + r - 1].val())
                            {
                                self.fmax[j * ka + r].next = self.region[j * kk + r].q.val().get_bits::<9>(0) ^ 0x100;
                            } else {
                                self.fmax[j * ka + r].next = self.fmax[j * ka + r - 1].val();
                            }
                            if self.rmask[j].q.val().get_bit(r) {
                                self.fsum[j * ka + r].next =
                                    self.fsum[j * ka + r - 1].val() + self.region[j * kk + r].q.val();
                            } else {
                                self.fsum[j * ka + r].next = self.fsum[j * ka + r - 1].val();
                            }
                        }
                        // The second chain starts from the identities (0 and 0).
                        self.fmaxb[j * kb].next = 0.into();
                        self.fsumb[j * kb].next = 0.into();
                        for i in 1..(self.fmaxb.len() / self.rvalid.len()) {
                            if self.rmask[j].q.val().get_bit(ka + i - 1)
                                & ((self.region[j * kk + ka + i - 1].q.val().get_bits::<9>(0) ^ 0x100) > self.fmaxb[j * kb + i - 1].val())
                            {
                                self.fmaxb[j * kb + i].next = self.region[j * kk + ka + i - 1].q.val().get_bits::<9>(0) ^ 0x100;
                            } else {
                                self.fmaxb[j * kb + i].next = self.fmaxb[j * kb + i - 1].val();
                            }
                            if self.rmask[j].q.val().get_bit(ka + i - 1) {
                                self.fsumb[j * kb + i].next =
                                    self.fsumb[j * kb + i - 1].val() + self.region[j * kk + ka + i - 1].q.val();
                            } else {
                                self.fsumb[j * kb + i].next = self.fsumb[j * kb + i - 1].val();
                            }
                        }
                    }
                }
            }
        }

        // ---- Second level: the window ending at region position m, kw columns wide.
        self.kwmask.next = (bits::<16>(1) << self.p_kw.val()) - 1;
        for mm in (self.rvalid.len() - self.nlast.val().index() - 1)..(self.rvalid.len() - self.nlast.val().index()) {
            for t in 0..1 {
                if self.cany[mm - t].q.val() {
                    self.smax[t].next = self.cmax[mm - t].q.val();
                } else {
                    self.smax[t].next = 0.into();
                }
                self.ssum[t].next = self.csum[mm - t].q.val();
            }
            // First half: the window's last ceil(w/2) columns.
            for t in 1..self.smax.len() {
                if self.kwmask.val().get_bit(t)
                    & self.cany[mm - t].q.val()
                    & (self.cmax[mm - t].q.val() > self.smax[t - 1].val())
                {
                    self.smax[t].next = self.cmax[mm - t].q.val();
                } else {
                    self.smax[t].next = self.smax[t - 1].val();
                }
                if self.kwmask.val().get_bit(t) {
                    self.ssum[t].next = self.ssum[t - 1].val() + self.csum[mm - t].q.val();
                } else {
                    self.ssum[t].next = self.ssum[t - 1].val();
                }
            }
            // Second half: the columns before them (0 and 0 are the identities).
            self.smaxb[0].next = 0.into();
            self.ssumb[0].next = 0.into();
            for ha in self.smax.len()..(self.smax.len() + 1) {
                for i in 1..self.smaxb.len() {
                    if self.kwmask.val().get_bit(ha + i - 1)
                        & self.cany[mm - ha - i + 1].q.val()
                        & (self.cmax[mm - ha - i + 1].q.val() > self.smaxb[i - 1].val())
                    {
                        self.smaxb[i].next = self.cmax[mm - ha - i + 1].q.val();
                    } else {
                        self.smaxb[i].next = self.smaxb[i - 1].val();
                    }
                    if self.kwmask.val().get_bit(ha + i - 1) {
                        self.ssumb[i].next = self.ssumb[i - 1].val() + self.csum[mm - ha - i + 1].q.val();
                    } else {
                        self.ssumb[i].next = self.ssumb[i - 1].val();
                    }
                }
            }
        }
        // The halves combined (window half stage → window stage).
        if self.wa_max.q.val() > self.wb_max.q.val() {
            self.omax.next = self.wa_max.q.val().get_bits::<8>(0);
        } else {
            self.omax.next = self.wb_max.q.val().get_bits::<8>(0);
        }
        self.wsum.next = self.wa_sum.q.val() + self.wb_sum.q.val();
        // The divider takes the registered window sum and advances with the window stage's
        // side registers: its result is on `avg` when the window reaches h4.
        self.avgdiv.clock.next = self.clock.val();
        self.avgdiv.ce.next = self.ce.val();
        self.avgdiv.sum.next = self.q_sum.q.val();
        self.avgdiv.count.next = self.p_count.val();

        // ---- Emission: one candidate window end per enabled cycle.
        self.emit.next = self.e_active.q.val()
            & (self.e_ep.q.val() == self.e_next.q.val())
            & (self.e_xo.q.val() < self.p_wo.val());
        self.en_next.next = self.e_next.q.val();
        self.en_xo.next = self.e_xo.q.val();
        if self.emit.val() {
            self.en_next.next = self.e_next.q.val() + self.p_sw.val();
            self.en_xo.next = self.e_xo.q.val() + 1;
        }
        if self.ce.val() {
            // Output stage: the divider stage's result, averaged or as its max.
            self.o_valid.d.next = self.h4_valid.q.val();
            self.o_idx.d.next = self.h4_idx.q.val();
            if self.p_avg.val() {
                self.o_data.d.next = self.avgdiv.avg.val();
            } else {
                self.o_data.d.next = self.h4_max.q.val();
            }
            // Divider stages: the window's flag, index and max ride along the division.
            self.h4_valid.d.next = self.h3_valid.q.val();
            self.h4_idx.d.next = self.h3_idx.q.val();
            self.h4_max.d.next = self.h3_max.q.val();
            self.h3_valid.d.next = self.h2_valid.q.val();
            self.h3_idx.d.next = self.h2_idx.q.val();
            self.h3_max.d.next = self.h2_max.q.val();
            self.h2_valid.d.next = self.h1_valid.q.val();
            self.h2_idx.d.next = self.h1_idx.q.val();
            self.h2_max.d.next = self.h1_max.q.val();
            self.h1_valid.d.next = self.q_valid.q.val();
            self.h1_idx.d.next = self.q_idx.q.val();
            self.h1_max.d.next = self.q_max.q.val();
            // Window stage: the two halves combined.
            self.q_valid.d.next = self.w_valid.q.val();
            self.q_idx.d.next = self.w_idx.q.val();
            self.q_sum.d.next = self.wsum.val();
            self.q_max.d.next = self.omax.val();
            // Window half stage: the candidate window's two halves.
            self.w_valid.d.next = false;
            if self.e_active.q.val() {
                self.w_valid.d.next = self.emit.val();
                self.w_idx.d.next = self.e_outrow.q.val() + bit_cast::<32, 16>(self.e_xo.q.val());
                for wl in (self.smax.len() - 1)..self.smax.len() {
                    self.wa_max.d.next = self.smax[wl].val();
                    self.wa_sum.d.next = self.ssum[wl].val();
                }
                for wl in (self.smaxb.len() - 1)..self.smaxb.len() {
                    self.wb_max.d.next = self.smaxb[wl].val();
                    self.wb_sum.d.next = self.ssumb[wl].val();
                }
                self.e_next.d.next = self.en_next.val();
                self.e_xo.d.next = self.en_xo.val();
                self.e_j.d.next = self.e_j.q.val() + 1;
                self.e_ep.d.next = self.e_ep.q.val() + 1;
                if self.e_j.q.val() == self.nlast.val() {
                    self.e_active.d.next = false;
                }
                // Slide the kernel's column results by one column.
                for j in 0..(self.rvalid.len() - 1) {
                    self.cmax[j].d.next = self.cmax[j + 1].q.val();
                    self.csum[j].d.next = self.csum[j + 1].q.val();
                    self.cany[j].d.next = self.cany[j + 1].q.val();
                }
            }
            // First-level stage: the region's m + n columns, first-level pooled, registered.
            self.ld2.d.next = self.ld_pending.q.val();
            if self.ld_pending.q.val() {
                // Consumed, unless the shift stage completes the next update in this same cycle
                // (n = 1: an update every enabled cycle).
                self.ld_pending.d.next = self.m_valid.q.val() & self.m_updend.q.val();
                for ka in (self.fmax.len() / self.rvalid.len())..(self.fmax.len() / self.rvalid.len() + 1) {
                    for kb in (self.fmaxb.len() / self.rvalid.len())..(self.fmaxb.len() / self.rvalid.len() + 1) {
                        for j in 0..self.rvalid.len() {
                            self.lmax[j].d.next = self.fmax[j * ka + ka - 1].val();
                            self.lsum[j].d.next = self.fsum[j * ka + ka - 1].val();
                            self.lbmax[j].d.next = self.fmaxb[j * kb + kb - 1].val();
                            self.lbsum[j].d.next = self.fsumb[j * kb + kb - 1].val();
                            self.lany[j].d.next = self.rmask[j].q.val().any();
                        }
                    }
                }
                self.l_ubase.d.next = self.k_ubase.q.val();
                self.l_bandfirst.d.next = self.k_bandfirst.q.val();
                self.l_outrow.d.next = self.k_outrow.q.val();
            }
            // Kernel load: the registered column results.
            if self.ld2.q.val() {
                for j in 0..self.rvalid.len() {
                    self.cmax[j].d.next = self.cmaxin[j].val();
                    self.csum[j].d.next = self.lsum[j].q.val() + self.lbsum[j].q.val();
                    self.cany[j].d.next = self.lany[j].q.val();
                }
                self.e_active.d.next = true;
                self.e_j.d.next = 0.into();
                self.e_ep.d.next = self.l_ubase.q.val();
                if self.l_bandfirst.q.val() {
                    self.e_next.d.next = self.p_kw.val() - 1;
                    self.e_xo.d.next = 0.into();
                    self.e_outrow.d.next = self.l_outrow.q.val();
                }
            }
        }

        // ---- Start and finish.
        if self.start.val() & !self.run.q.val() {
            self.run.d.next = true;
            self.fin.d.next = false;
            self.tail.d.next = 8.into();
            self.rd_x.d.next = 0.into();
            self.c_real.d.next = !self.p_pw.val().any() & self.p_w.val().any();
            self.rd_upd.d.next = 0.into();
            self.reads_done.d.next = false;
            self.c.d.next = 0.into();
            self.yo.d.next = 0.into();
            self.r0.d.next = 0.into();
            self.prime.d.next = 3.into();
            self.bub.d.next = false;
            self.bandaddr.d.next = 0.into();
            self.be.d.next = self.p_xcols.val() == 1;
            self.ra0.d.next = bits::<16>(0) - self.p_pw.val();
            self.ra1.d.next = self.p_w.val() - self.p_pw.val();
            self.chanbase.d.next = 0.into();
            self.outrow.d.next = 0.into();
            self.a_valid.d.next = false;
            self.m_valid.d.next = false;
            self.ld_pending.d.next = false;
            self.e_active.d.next = false;
        }
        if self.ce.val()
            & self.run.q.val()
            & self.reads_done.q.val()
            & !self.a_valid.q.val()
            & !self.m_valid.q.val()
            & !self.ld_pending.q.val()
            & !self.ld2.q.val()
            & !self.e_active.q.val()
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

/// Sign extension of an int8 to 16 bits (a block so that indexed uses stay plain connections).
#[derive(LogicBlock, Default)]
pub struct SignExt {
    /// int8 in.
    pub a: Signal<In, Bits<8>>,
    /// The same value in 16 bits.
    pub y: Signal<Out, Bits<16>>,
}

impl Logic for SignExt {
    #[hdl_gen]
    fn update(&mut self) {
        if self.a.val().get_bit(7) {
            self.y.next = bit_cast::<16, 8>(self.a.val()) | bits::<16>(0xFF00);
        } else {
            self.y.next = bit_cast::<16, 8>(self.a.val());
        }
    }
}

impl crate::sim::Clocked for PoolUnit {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;

    fn set(sig: &mut Signal<In, Bits<16>>, v: u64) {
        sig.next = v.into();
    }

    fn pulse_conv_done(h: &mut Harness<PoolUnit>, div: u64) {
        h.uut.p_div.next = div.into();
        h.uut.conv_done.next = true;
        h.step().unwrap();
        h.uut.conv_done.next = false;
        h.step().unwrap();
    }

    #[test]
    fn divider_changes_only_on_conv_done_while_idle_and_only_when_different() {
        let p = PoolUnitParams {
            array: accelgen_config::PoolArray {
                rows_per_read: 3,
                cols_per_update: 2,
                retained_cols: 2,
                max_window: 3,
                feature_memory_depth: 64,
            },
            fault: PoolFault::None,
        };
        let mut h = Harness::new(PoolUnit::new(&p)).unwrap();
        // A 1×4×8 max pool 2×2/2: enough cycles to poke at while running.
        let u = &mut h.uut;
        for (sig, v) in [(&mut u.p_c, 1), (&mut u.p_h, 4), (&mut u.p_w, 8), (&mut u.p_ho, 2)] {
            set(sig, v);
        }
        for (sig, v) in [(&mut u.p_wo, 4), (&mut u.p_kh, 2), (&mut u.p_kw, 2), (&mut u.p_sh, 2)] {
            set(sig, v);
        }
        for (sig, v) in [(&mut u.p_sw, 2), (&mut u.p_hbw, 16), (&mut u.p_xcols, 8), (&mut u.p_count, 4)] {
            set(sig, v);
        }
        // A change of p_div alone does nothing.
        h.uut.p_div.next = 2.into();
        h.step().unwrap();
        assert_eq!(h.uut.div_now.val(), 0u64, "no conv_done, no change");
        pulse_conv_done(&mut h, 2);
        assert_eq!(h.uut.div_now.val(), 2u64, "idle + conv_done + different: applied");
        h.uut.start.next = true;
        h.step().unwrap();
        h.uut.start.next = false;
        pulse_conv_done(&mut h, 4);
        assert!(h.uut.busy.val(), "still running");
        assert_eq!(h.uut.div_now.val(), 2u64, "never while running");
        let mut n = 0;
        while !h.uut.done.val() {
            h.step().unwrap();
            n += 1;
            assert!(n < 10_000, "hung");
        }
        // Same value: nothing to switch.
        pulse_conv_done(&mut h, 2);
        assert_eq!(h.uut.div_now.val(), 2u64);
        pulse_conv_done(&mut h, 4);
        assert_eq!(h.uut.div_now.val(), 4u64);
    }
}

crate::top_io!(
    PoolUnit,
    inputs: [
        ld_we, ld_bank, ld_addr, ld_data, p_c, p_h, p_w, p_ho, p_wo, p_kh, p_kw, p_sh, p_sw, p_ph,
        p_pw, p_hbw, p_xcols, p_count, p_avg, p_div, conv_done, start,
    ],
    outputs: [busy, done, enable, div_now, out_valid, out_idx, out_data],
    /// Observed: the clock enable and the read cursor (run, reads done, column inside the map,
    /// row mask, padded column), the shift stage (valid, update end, band first), the kernel load,
    /// every region column (valid, element mask, values) and every feature-memory bank's read
    /// enable and address (the reads the memory sees).
    fn walk_observed(&self, s: &mut dyn crate::io::ObsSink) {
        use crate::io::PortValue;
        s.add(&|| "ce".into(), 1, self.ce.val().get_u64());
        s.add(&|| "run__q".into(), 1, self.run.q.val().get_u64());
        s.add(&|| "reads_done__q".into(), 1, self.reads_done.q.val().get_u64());
        s.add(&|| "col_real".into(), 1, self.col_real.val().get_u64());
        s.add(&|| "rowmask".into(), 16, self.rowmask.val().get_u64());
        s.add(&|| "rd_x__q".into(), 16, self.rd_x.q.val().get_u64());
        s.add(&|| "m_valid__q".into(), 1, self.m_valid.q.val().get_u64());
        s.add(&|| "m_updend__q".into(), 1, self.m_updend.q.val().get_u64());
        s.add(&|| "m_bandfirst__q".into(), 1, self.m_bandfirst.q.val().get_u64());
        s.add(&|| "ld_pending__q".into(), 1, self.ld_pending.q.val().get_u64());
        let k = self.rows_per_read();
        for j in 0..self.region_cols() {
            s.add(&|| format!("rvalid__{j}__q"), 1, self.rvalid[j].q.val().get_u64());
            s.add(&|| format!("rmask__{j}__q"), 16, self.rmask[j].q.val().get_u64());
            for r in 0..k {
                let i = j * k + r;
                s.add(&|| format!("region__{i}__q"), 16, self.region[i].q.val().get_u64());
            }
        }
        for b in 0..k {
            s.add(&|| format!("banks__{b}__r_en"), 1, self.banks[b].r_en.val().get_u64());
            s.add(&|| format!("banks__{b}__r_addr"), 16, self.banks[b].r_addr.val().get_u64());
        }
    }
);
