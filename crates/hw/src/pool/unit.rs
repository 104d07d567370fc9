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
use crate::pool::AvgDiv;
use rust_hdl::prelude::*;

/// Generator parameters of the pooling unit.
#[derive(Clone, Copy, Debug)]
pub struct PoolUnitParams {
    /// k: values per read (rows of the region).
    pub rows_per_read: usize,
    /// n: reads per update.
    pub cols_per_update: usize,
    /// m: columns retained from the previous update.
    pub retained_cols: usize,
    /// Largest window side.
    pub max_window: usize,
    /// Entries per feature-memory bank.
    pub feature_memory_depth: usize,
    /// A fault built in on purpose (tests of the invariant counters); `None` otherwise.
    pub fault: PoolFault,
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
        PoolUnitParams {
            rows_per_read: c.rows_per_read as usize,
            cols_per_update: c.cols_per_update as usize,
            retained_cols: c.retained_cols as usize,
            max_window: c.max_window as usize,
            feature_memory_depth: c.feature_memory_depth as usize,
            fault: PoolFault::None,
        }
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
    /// Region values (sign-extended), column-major: row r of column j is `region[j·k + r]`.
    region: Vec<DFF<Bits<16>>>,
    /// Region element-valid masks, one per column (padding rows and columns are 0).
    rmask: Vec<DFF<Bits<16>>>,
    /// Region column holds data of the current row band.
    rvalid: Vec<DFF<Bit>>,
    /// First-level results of the kernel's copy: biased max (x ^ 0x8000), sum, any valid element.
    cmax: Vec<DFF<Bits<16>>>,
    csum: Vec<DFF<Bits<16>>>,
    cany: Vec<DFF<Bit>>,
    /// Rate control: divider in force and the enable counter.
    div: DFF<Bits<8>>,
    cecnt: DFF<Bits<8>>,
    /// Run state.
    run: DFF<Bit>,
    fin: DFF<Bit>,
    tail: DFF<Bits<4>>,
    /// Read cursor: padded column, position in the update, update start, band, channel.
    rd_x: DFF<Bits<16>>,
    rd_upd: DFF<Bits<8>>,
    rd_ubase: DFF<Bits<16>>,
    reads_done: DFF<Bit>,
    c: DFF<Bits<16>>,
    yo: DFF<Bits<16>>,
    rho0: DFF<Bits<16>>,
    r0: DFF<Bits<16>>,
    bandaddr: DFF<Bits<16>>,
    chanbase: DFF<Bits<16>>,
    outrow: DFF<Bits<32>>,
    /// Read → shift-in stage.
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
    /// Divider stage: the upper half of the average divider done, with the window's max and
    /// output index carried along.
    h_valid: DFF<Bit>,
    h_idx: DFF<Bits<32>>,
    h_max: DFF<Bits<8>>,
    h_rem: DFF<Bits<18>>,
    h_quot: DFF<Bits<8>>,
    /// Output registers.
    o_valid: DFF<Bit>,
    o_idx: DFF<Bits<32>>,
    o_data: DFF<Bits<8>>,

    /// Clock enable.
    ce: Signal<Local, Bit>,
    /// This column is inside the map (not horizontal padding).
    col_real: Signal<Local, Bit>,
    /// Row-valid mask of the current band, and its bounds.
    rowmask: Signal<Local, Bits<16>>,
    /// The row mask in bank order (bank (r0 + i) mod k holds band row i): the banks read.
    bankmask: Signal<Local, Bits<16>>,
    lo: Signal<Local, Bits<16>>,
    hi: Signal<Local, Bits<16>>,
    /// Thermometer of banks whose row lies in the next bank row (b < r0).
    thermo: Signal<Local, Bits<16>>,
    /// r0 + sh.
    r0n: Signal<Local, Bits<16>>,
    /// The new column, rotated into band order.
    newcol: Vec<Signal<Local, Bits<16>>>,
    /// First-level chains per element.
    fmax: Vec<Signal<Local, Bits<16>>>,
    fsum: Vec<Signal<Local, Bits<16>>>,
    /// Second-level chains per window slot, and the window-width mask.
    kwmask: Signal<Local, Bits<16>>,
    smax: Vec<Signal<Local, Bits<16>>>,
    ssum: Vec<Signal<Local, Bits<16>>>,
    /// The window's max, un-biased.
    omax: Signal<Local, Bits<16>>,
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
        assert!((1..=16).contains(&k) && (1..=32).contains(&mn) && w <= k && w <= p.retained_cols + 1);
        PoolUnit {
            clock: Default::default(),
            ld_we: Default::default(),
            ld_bank: Default::default(),
            ld_addr: Default::default(),
            ld_data: Default::default(),
            p_c: Default::default(),
            p_h: Default::default(),
            p_w: Default::default(),
            p_ho: Default::default(),
            p_wo: Default::default(),
            p_kh: Default::default(),
            p_kw: Default::default(),
            p_sh: Default::default(),
            p_sw: Default::default(),
            p_ph: Default::default(),
            p_pw: Default::default(),
            p_hbw: Default::default(),
            p_xcols: Default::default(),
            p_count: Default::default(),
            p_avg: Default::default(),
            p_div: Default::default(),
            conv_done: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            enable: Default::default(),
            div_now: Default::default(),
            out_valid: Default::default(),
            out_idx: Default::default(),
            out_data: Default::default(),
            banks: (0..k).map(|_| SyncRam::new(p.feature_memory_depth)).collect(),
            sx: vec_of(k),
            avgdiv: Default::default(),
            kconst: Constant::new((k as u64).into()),
            nlast: Constant::new(((p.cols_per_update - 1) as u64).into()),
            region: vec_of(k * mn),
            rmask: vec_of(mn),
            rvalid: vec_of(mn),
            cmax: vec_of(mn),
            csum: vec_of(mn),
            cany: vec_of(mn),
            div: Default::default(),
            cecnt: Default::default(),
            run: Default::default(),
            fin: Default::default(),
            tail: Default::default(),
            rd_x: Default::default(),
            rd_upd: Default::default(),
            rd_ubase: Default::default(),
            reads_done: Default::default(),
            c: Default::default(),
            yo: Default::default(),
            rho0: Default::default(),
            r0: Default::default(),
            bandaddr: Default::default(),
            chanbase: Default::default(),
            outrow: Default::default(),
            m_valid: Default::default(),
            m_real: Default::default(),
            m_r0oh: Default::default(),
            m_mask: Default::default(),
            m_bandfirst: Default::default(),
            m_updend: Default::default(),
            m_ubase: Default::default(),
            m_outrow: Default::default(),
            ld_pending: Default::default(),
            k_ubase: Default::default(),
            k_bandfirst: Default::default(),
            k_outrow: Default::default(),
            e_active: Default::default(),
            e_j: Default::default(),
            e_ep: Default::default(),
            e_next: Default::default(),
            e_xo: Default::default(),
            e_outrow: Default::default(),
            q_valid: Default::default(),
            q_idx: Default::default(),
            q_sum: Default::default(),
            q_max: Default::default(),
            h_valid: Default::default(),
            h_idx: Default::default(),
            h_max: Default::default(),
            h_rem: Default::default(),
            h_quot: Default::default(),
            o_valid: Default::default(),
            o_idx: Default::default(),
            o_data: Default::default(),
            ce: Default::default(),
            col_real: Default::default(),
            rowmask: Default::default(),
            bankmask: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            thermo: Default::default(),
            r0n: Default::default(),
            newcol: vec_of(k),
            fmax: vec_of(k * mn),
            fsum: vec_of(k * mn),
            kwmask: Default::default(),
            smax: vec_of(w),
            ssum: vec_of(w),
            omax: Default::default(),
            wsum: Default::default(),
            emit: Default::default(),
            en_next: Default::default(),
            en_xo: Default::default(),
            fault_reread: fault_if(p.fault == PoolFault::RereadColumn),
            fault_short: fault_if(p.fault == PoolFault::ShortUpdate),
            fault_stale: fault_if(p.fault == PoolFault::StaleRetained),
            fault_divider: fault_if(p.fault == PoolFault::DividerWhileRunning),
        }
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
            self, clock, div, cecnt, run, fin, tail, rd_x, rd_upd, rd_ubase, reads_done, c, yo,
            rho0, r0, bandaddr, chanbase, outrow, m_valid, m_real, m_r0oh, m_mask, m_bandfirst,
            m_updend, m_ubase, m_outrow, ld_pending, k_ubase, k_bandfirst, k_outrow, e_active, e_j,
            e_ep, e_next, e_xo, e_outrow, q_valid, q_idx, q_sum, q_max, h_valid, h_idx, h_max, h_rem,
            h_quot, o_valid, o_idx, o_data
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
        }
        for b in 0..self.banks.len() {
            self.banks[b].clock.next = self.clock.val();
            self.banks[b].w_en.next = self.ld_we.val() & self.ld_bank.val().get_bit(b);
            self.banks[b].w_addr.next = self.ld_addr.val();
            self.banks[b].w_data.next = self.ld_data.val();
            self.sx[b].a.next = self.banks[b].r_data.val();
        }

        // ---- Rate control: the enable fires once every `div` cycles.
        self.ce.next = !self.cecnt.q.val().any();
        if self.cecnt.q.val() + 1 >= self.div.q.val() {
            self.cecnt.d.next = 0.into();
        } else {
            self.cecnt.d.next = self.cecnt.q.val() + 1;
        }
        if self.conv_done.val()
            & !self.run.q.val()
            & (self.p_div.val() != self.div.q.val())
            & self.p_div.val().any()
        {
            self.div.d.next = self.p_div.val();
            self.cecnt.d.next = 0.into();
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
        self.col_real.next = (self.rd_x.q.val() >= self.p_pw.val())
            & (self.rd_x.q.val() < self.p_w.val() + self.p_pw.val());
        if self.p_ph.val() > self.rho0.q.val() {
            self.lo.next = self.p_ph.val() - self.rho0.q.val();
        } else {
            self.lo.next = 0.into();
        }
        if self.p_h.val() + self.p_ph.val() - self.rho0.q.val() < self.p_kh.val() {
            self.hi.next = self.p_h.val() + self.p_ph.val() - self.rho0.q.val();
        } else {
            self.hi.next = self.p_kh.val();
        }
        self.rowmask.next =
            ((bits::<16>(1) << self.hi.val()) - 1) & !((bits::<16>(1) << self.lo.val()) - 1);
        // Rotate left by r0 within k bits: only banks holding a needed row are read.
        self.bankmask.next = ((self.rowmask.val() << self.r0.q.val())
            | (self.rowmask.val() >> (self.kconst.val() - self.r0.q.val())))
            & ((bits::<16>(1) << self.kconst.val()) - 1);
        self.thermo.next = (bits::<16>(1) << self.r0.q.val()) - 1;
        self.r0n.next = self.r0.q.val() + self.p_sh.val();
        for b in 0..self.banks.len() {
            self.banks[b].r_en.next = false;
            if self.thermo.val().get_bit(b) {
                self.banks[b].r_addr.next =
                    self.bandaddr.q.val() + self.p_w.val() + self.rd_x.q.val() - self.p_pw.val();
            } else {
                self.banks[b].r_addr.next =
                    self.bandaddr.q.val() + self.rd_x.q.val() - self.p_pw.val();
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
        if self.ce.val() {
            self.m_valid.d.next = false;
            if self.run.q.val() & !self.reads_done.q.val() {
                for b in 0..self.banks.len() {
                    self.banks[b].r_en.next = self.col_real.val() & self.bankmask.val().get_bit(b);
                }
                self.m_valid.d.next = true;
                self.m_real.d.next = self.col_real.val();
                self.m_r0oh.d.next = bits::<16>(1) << self.r0.q.val();
                self.m_mask.d.next = self.rowmask.val();
                self.m_bandfirst.d.next = !self.rd_x.q.val().any();
                self.m_updend.d.next = self.rd_upd.q.val() == self.nlast.val();
                for f in 0..self.fault_short.len() {
                    if self.fault_short[f].val() {
                        self.m_updend.d.next = true;
                    }
                }
                self.m_outrow.d.next = self.outrow.q.val();
                if self.rd_upd.q.val().any() {
                    self.m_ubase.d.next = self.rd_ubase.q.val();
                } else {
                    self.m_ubase.d.next = self.rd_x.q.val();
                    self.rd_ubase.d.next = self.rd_x.q.val();
                }
                if self.rd_upd.q.val() == self.nlast.val() {
                    self.rd_upd.d.next = 0.into();
                } else {
                    self.rd_upd.d.next = self.rd_upd.q.val() + 1;
                }
                self.rd_x.d.next = self.rd_x.q.val() + 1;
                if self.rd_x.q.val() + 1 == self.p_xcols.val() {
                    // Next row band.
                    self.rd_x.d.next = 0.into();
                    self.outrow.d.next = self.outrow.q.val() + bit_cast::<32, 16>(self.p_wo.val());
                    if self.yo.q.val() + 1 == self.p_ho.val() {
                        self.yo.d.next = 0.into();
                        self.rho0.d.next = 0.into();
                        self.r0.d.next = 0.into();
                        self.chanbase.d.next = self.chanbase.q.val() + self.p_hbw.val();
                        self.bandaddr.d.next = self.chanbase.q.val() + self.p_hbw.val();
                        if self.c.q.val() + 1 == self.p_c.val() {
                            self.reads_done.d.next = true;
                        } else {
                            self.c.d.next = self.c.q.val() + 1;
                        }
                    } else {
                        self.yo.d.next = self.yo.q.val() + 1;
                        self.rho0.d.next = self.rho0.q.val() + self.p_sh.val();
                        if self.r0n.val() >= self.kconst.val() {
                            self.r0.d.next = self.r0n.val() - self.kconst.val();
                            self.bandaddr.d.next = self.bandaddr.q.val() + self.p_w.val();
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
            for j in 0..self.rvalid.len() {
                // Row 0 starts each chain; max compares biased values (x ^ 0x8000: unsigned order
                // equals signed order, and 0 is below every int8).
                if self.rmask[j].q.val().get_bit(0) {
                    self.fmax[j * kk].next = self.region[j * kk].q.val() ^ 0x8000;
                    self.fsum[j * kk].next = self.region[j * kk].q.val();
                } else {
                    self.fmax[j * kk].next = 0.into();
                    self.fsum[j * kk].next = 0.into();
                }
                for r in 1..self.banks.len() {
                    if self.rmask[j].q.val().get_bit(r)
                        & ((self.region[j * kk + r].q.val() ^ 0x8000) > self.fmax[j * kk + r - 1].val())
                    {
                        self.fmax[j * kk + r].next = self.region[j * kk + r].q.val() ^ 0x8000;
                    } else {
                        self.fmax[j * kk + r].next = self.fmax[j * kk + r - 1].val();
                    }
                    if self.rmask[j].q.val().get_bit(r) {
                        self.fsum[j * kk + r].next =
                            self.fsum[j * kk + r - 1].val() + self.region[j * kk + r].q.val();
                    } else {
                        self.fsum[j * kk + r].next = self.fsum[j * kk + r - 1].val();
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
        }
        for wl in (self.smax.len() - 1)..self.smax.len() {
            self.omax.next = self.smax[wl].val() ^ 0x8000;
            self.wsum.next = self.ssum[wl].val();
        }
        // The divider's upper half works on the registered window sum (window stage → divider
        // stage), its lower half on the registered partial result (divider stage → output stage).
        self.avgdiv.sum.next = self.q_sum.q.val();
        self.avgdiv.count.next = self.p_count.val();
        self.avgdiv.lo_rem.next = self.h_rem.q.val();
        self.avgdiv.lo_quot.next = self.h_quot.q.val();

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
            self.o_valid.d.next = self.h_valid.q.val();
            self.o_idx.d.next = self.h_idx.q.val();
            if self.p_avg.val() {
                self.o_data.d.next = self.avgdiv.avg.val();
            } else {
                self.o_data.d.next = self.h_max.q.val();
            }
            // Divider stage: the upper half of the division of the window stage's sum.
            self.h_valid.d.next = self.q_valid.q.val();
            self.h_idx.d.next = self.q_idx.q.val();
            self.h_max.d.next = self.q_max.q.val();
            self.h_rem.d.next = self.avgdiv.hi_rem.val();
            self.h_quot.d.next = self.avgdiv.hi_quot.val();
            self.q_valid.d.next = false;
            if self.e_active.q.val() {
                self.q_valid.d.next = self.emit.val();
                self.q_idx.d.next = self.e_outrow.q.val() + bit_cast::<32, 16>(self.e_xo.q.val());
                self.q_sum.d.next = self.wsum.val();
                self.q_max.d.next = self.omax.val().get_bits::<8>(0);
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
            // Kernel load: the region's m + n columns, first-level pooled.
            if self.ld_pending.q.val() {
                self.ld_pending.d.next = false;
                for kk in self.banks.len()..(self.banks.len() + 1) {
                    for j in 0..self.rvalid.len() {
                        for rl in (self.banks.len() - 1)..self.banks.len() {
                            self.cmax[j].d.next = self.fmax[j * kk + rl].val();
                            self.csum[j].d.next = self.fsum[j * kk + rl].val();
                        }
                        self.cany[j].d.next = self.rmask[j].q.val().any();
                    }
                }
                self.e_active.d.next = true;
                self.e_j.d.next = 0.into();
                self.e_ep.d.next = self.k_ubase.q.val();
                if self.k_bandfirst.q.val() {
                    self.e_next.d.next = self.p_kw.val() - 1;
                    self.e_xo.d.next = 0.into();
                    self.e_outrow.d.next = self.k_outrow.q.val();
                }
            }
        }

        // ---- Start and finish.
        if self.start.val() & !self.run.q.val() {
            self.run.d.next = true;
            self.fin.d.next = false;
            self.tail.d.next = 4.into();
            self.rd_x.d.next = 0.into();
            self.rd_upd.d.next = 0.into();
            self.reads_done.d.next = false;
            self.c.d.next = 0.into();
            self.yo.d.next = 0.into();
            self.rho0.d.next = 0.into();
            self.r0.d.next = 0.into();
            self.bandaddr.d.next = 0.into();
            self.chanbase.d.next = 0.into();
            self.outrow.d.next = 0.into();
            self.m_valid.d.next = false;
            self.ld_pending.d.next = false;
            self.e_active.d.next = false;
        }
        if self.ce.val()
            & self.run.q.val()
            & self.reads_done.q.val()
            & !self.m_valid.q.val()
            & !self.ld_pending.q.val()
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
            fault: PoolFault::None,
            rows_per_read: 3,
            cols_per_update: 2,
            retained_cols: 2,
            max_window: 3,
            feature_memory_depth: 64,
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
