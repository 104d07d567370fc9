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
//!   then [`AvgDiv`](crate::pool::AvgDiv)). Padded positions are never read: max ignores them, average counts zeros.
//! - **Rate control**: every register except the divider's advances only on a clock enable that
//!   fires once every `div` cycles. `div` takes `p_div` only on a `conv_done` pulse while the unit
//!   is idle, and only when the value differs.
//!
//! The unit is its sub-blocks in pipeline order, each in its own file with its own test:
//! [`ClockEnable`] → [`BandReader`] (the banks' reads) → [`RegionFile`] (the banks' data) →
//! [`FirstLevel`] → [`WindowScan`] → [`OutputStage`]. Here: the banks, the
//! run state (idle, running, done) and the wiring. The run ends when every read has been issued
//! and every stage before the output stage is empty, plus eight enabled cycles for the output
//! stage to drain.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `ld_we`, `ld_bank`, `ld_addr`, `ld_data` | in | 1, 16, 16, 8 | feature-memory load (one-hot bank) |
//! | `ld_wide`, `ld_n`, `ld_bank_b`, `ld_addr_b`, `ld_word` | in | 1, 4, 16, 16, 64 | the load is a bus word (banks of L lanes, [`FmBank`](crate::pool::FmBank)): its first `ld_n` bytes at `ld_addr` of `ld_bank`, the rest at `ld_addr_b` of `ld_bank_b` |
//! | `p_*` | in | 16 | window, stride, padding, mode and derived sizes (host driver) |
//! | `p_div`, `conv_done` | in | 8, 1 | requested clock divider, and the event that may apply it |
//! | `clear` | in | 1 | a program starts: the divider in force back to its reset value (0), the enable phase restarted |
//! | `start` / `busy`, `done` | in / out | 1 | handshake |
//! | `enable`, `div_now` | out | 1, 8 | the clock enable and the divider in force (observation) |
//! | `out_valid`, `out_idx`, `out_data` | out | 1, 32, 8 | one pooled value, flat index (c·Ho + y)·Wo + x |

use crate::window::WindowPorts;
use crate::pool::{BandReader, ClockEnable, FirstLevel, FmBank, OutputStage, RegionFile, WindowScan};
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
    /// Byte lanes of each feature-memory bank (1, or L of the data mover's bus words: its copies
    /// of the conv output write a word per cycle, `accelgen_config::HwConfig::feature_memory_lanes`).
    pub fm_lanes: usize,
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
        PoolUnitParams { array: PoolArray::from_config(c), fault: PoolFault::None, fm_lanes: 1 }
    }
}

/// The run state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, LogicState)]
pub enum RunState {
    /// Never started since reset.
    Idle,
    /// Running a layer.
    Running,
    /// Finished (until the next start).
    Done,
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
    /// The load is a bus word: bytes 0 … `ld_n` − 1 at `ld_addr` of `ld_bank`, the rest at
    /// `ld_addr_b` of `ld_bank_b` (the next padded row's bank).
    pub ld_wide: Signal<In, Bit>,
    pub ld_n: Signal<In, Bits<4>>,
    pub ld_bank_b: Signal<In, Bits<16>>,
    pub ld_addr_b: Signal<In, Bits<16>>,
    pub ld_word: Signal<In, Bits<64>>,
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
    /// Window height and width, strides (vertical at most k), padding: `p_kh` … `p_pw` (see
    /// [`WindowPorts`]).
    pub p: WindowPorts,
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
    /// A program starts: the divider as after reset.
    pub clear: Signal<In, Bit>,
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

    /// Feature-memory banks; L (4 bits).
    banks: Vec<FmBank>,
    lanes4: Constant<Bits<4>>,
    rate: ClockEnable,
    reader: BandReader,
    region: RegionFile,
    first: FirstLevel,
    scan: WindowScan,
    result: OutputStage,
    /// Run state, and the enabled cycles left for the output stage to drain.
    state: DFF<RunState>,
    tail: DFF<Bits<4>>,
    /// Clock enable.
    ce: Signal<Local, Bit>,
    /// The unit runs.
    running: Signal<Local, Bit>,
    /// A run starts.
    go: Signal<Local, Bit>,
}

impl PoolUnit {
    /// A unit with the given generator parameters.
    pub fn new(p: &PoolUnitParams) -> Self {
        let (k, n, w) = (p.rows_per_read, p.cols_per_update, p.max_window);
        let mn = p.retained_cols + n;
        assert!(
            (1..=16).contains(&k) && (1..=32).contains(&mn) && w <= k && w <= p.retained_cols + 1,
            "pooling unit k = {k}, m + n = {mn}, window {w}: allowed k 1..=16, m + n 1..=32, window at most k and m + 1 (validated configurations never get here)"
        );
        let f = p.fault;
        block_with_defaults!(PoolUnit {
            banks: (0..k).map(|_| FmBank::new(p.feature_memory_depth, p.fm_lanes)).collect(),
            lanes4: Constant::new((p.fm_lanes as u64).into()),
            rate: ClockEnable::new(f == PoolFault::DividerWhileRunning),
            reader: BandReader::new(k, n, f == PoolFault::RereadColumn, f == PoolFault::ShortUpdate),
            region: RegionFile::new(k, mn, f == PoolFault::StaleRetained),
            first: FirstLevel::new(k, mn),
            scan: WindowScan::new(mn, n, w),
        } defaults {
            clock, ld_we, ld_bank, ld_addr, ld_data, ld_wide, ld_n, ld_bank_b, ld_addr_b, ld_word, p_c, p_h, p_w, p_ho, p_wo, p,
            p_hbw, p_xcols, p_count, p_avg, p_div, conv_done, clear, start, busy, done,
            enable, div_now, out_valid, out_idx, out_data, result, state, tail, ce, running, go,
        })
    }
}

impl Logic for PoolUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, tail);
        clock!(self, clock, rate, reader, region, first, scan, result);
        self.running.next = self.state.q.val() == RunState::Running;
        self.go.next = self.start.val() & !self.running.val();
        self.busy.next = self.running.val();
        self.done.next = self.state.q.val() == RunState::Done;
        // Rate control.
        self.rate.p_div.next = self.p_div.val();
        self.rate.conv_done.next = self.conv_done.val();
        self.rate.running.next = self.running.val();
        self.rate.clear.next = self.clear.val();
        self.ce.next = self.rate.ce.val();
        self.enable.next = self.rate.ce.val();
        self.div_now.next = self.rate.div_now.val();
        // Reads: the cursor drives the banks' read ports; the host loads through the write ports.
        self.reader.ce.next = self.ce.val();
        self.reader.go.next = self.go.val();
        self.reader.running.next = self.running.val();
        self.reader.geom.next.c = self.p_c.val();
        self.reader.geom.next.h = self.p_h.val();
        self.reader.geom.next.w = self.p_w.val();
        self.reader.geom.next.ho = self.p_ho.val();
        self.reader.geom.next.wo = self.p_wo.val();
        self.reader.geom.next.kh = self.p.kh.val();
        self.reader.geom.next.sh = self.p.sh.val();
        self.reader.geom.next.ph = self.p.ph.val();
        self.reader.geom.next.pw = self.p.pw.val();
        self.reader.geom.next.hbw = self.p_hbw.val();
        self.reader.geom.next.xcols = self.p_xcols.val();
        for b in 0..self.banks.len() {
            self.banks[b].clock.next = self.clock.val();
            // An element write is the run of one byte; a word's run in this bank is its first
            // `ld_n` bytes (the row the word starts on) or the rest (the next row).
            self.banks[b].w_en.next = self.ld_we.val() & self.ld_bank.val().get_bit(b);
            self.banks[b].w_addr.next = self.ld_addr.val();
            self.banks[b].w_j0.next = 0.into();
            self.banks[b].w_n.next = 1.into();
            self.banks[b].w_word.next = bit_cast::<64, 8>(self.ld_data.val());
            if self.ld_wide.val() {
                self.banks[b].w_word.next = self.ld_word.val();
                self.banks[b].w_n.next = self.ld_n.val();
                if !self.ld_bank.val().get_bit(b) {
                    self.banks[b].w_en.next = self.ld_we.val() & self.ld_bank_b.val().get_bit(b);
                    self.banks[b].w_addr.next = self.ld_addr_b.val();
                    self.banks[b].w_j0.next = self.ld_n.val();
                    self.banks[b].w_n.next = self.lanes4.val() - self.ld_n.val();
                }
            }
            self.banks[b].r_en.next = self.reader.bank_en.val().get_bit(b);
            if self.reader.thermo.val().get_bit(b) {
                self.banks[b].r_addr.next = self.reader.addr_hi.val();
            } else {
                self.banks[b].r_addr.next = self.reader.addr_lo.val();
            }
            self.region.bank_data[b].next = self.banks[b].r_data.val();
        }
        // The window register file takes the read stage.
        self.region.ce.next = self.ce.val();
        self.region.go.next = self.go.val();
        self.region.rd_valid.next = self.reader.rd_valid.val();
        self.region.rd_real.next = self.reader.rd_real.val();
        self.region.rd_rot.next = self.reader.rd_rot.val();
        self.region.rd_mask.next = self.reader.rd_mask.val();
        self.region.rd_bandfirst.next = self.reader.rd_bandfirst.val();
        self.region.rd_updend.next = self.reader.rd_updend.val();
        self.region.rd_ubase.next = self.reader.rd_ubase.val();
        self.region.rd_outrow.next = self.reader.rd_outrow.val();
        // First level, then the scan.
        self.first.ce.next = self.ce.val();
        self.first.load.next = self.region.pending.val();
        for i in 0..self.first.values.len() {
            self.first.values[i].next = self.region.value[i].val();
        }
        for j in 0..self.first.mask.len() {
            self.first.mask[j].next = self.region.mask[j].val();
            self.scan.col_max[j].next = self.first.max[j].val();
            self.scan.col_sum[j].next = self.first.sum[j].val();
            self.scan.col_any[j].next = self.first.any[j].val();
        }
        self.scan.ce.next = self.ce.val();
        self.scan.go.next = self.go.val();
        self.scan.pending.next = self.region.pending.val();
        self.scan.upd_ubase.next = self.region.upd_ubase.val();
        self.scan.upd_bandfirst.next = self.region.upd_bandfirst.val();
        self.scan.upd_outrow.next = self.region.upd_outrow.val();
        self.scan.p_kw.next = self.p.kw.val();
        self.scan.p_sw.next = self.p.sw.val();
        self.scan.p_wo.next = self.p_wo.val();
        // Output.
        self.result.ce.next = self.ce.val();
        self.result.w_valid.next = self.scan.w_valid.val();
        self.result.w_idx.next = self.scan.w_idx.val();
        self.result.wa_max.next = self.scan.wa_max.val();
        self.result.wa_sum.next = self.scan.wa_sum.val();
        self.result.wb_max.next = self.scan.wb_max.val();
        self.result.wb_sum.next = self.scan.wb_sum.val();
        self.result.p_avg.next = self.p_avg.val();
        self.result.p_count.next = self.p_count.val();
        self.out_valid.next = self.result.valid.val();
        self.out_idx.next = self.result.idx.val();
        self.out_data.next = self.result.data.val();
        // Start and finish.
        if self.go.val() {
            self.state.d.next = RunState::Running;
            self.tail.d.next = 8.into();
        }
        if self.ce.val()
            & self.running.val()
            & self.reader.reads_done.val()
            & !self.reader.rd_valid.val()
            & !self.region.arrive.val()
            & !self.region.pending.val()
            & !self.scan.busy.val()
        {
            if self.tail.q.val().any() {
                self.tail.d.next = self.tail.q.val() - 1;
            } else {
                self.state.d.next = RunState::Done;
            }
        }
    }
}

crate::clocked!(PoolUnit);

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
            fm_lanes: 1,
        };
        let mut h = Harness::new(PoolUnit::new(&p)).unwrap();
        // A 1×4×8 max pool 2×2/2: enough cycles to poke at while running.
        let u = &mut h.uut;
        for (sig, v) in [(&mut u.p_c, 1), (&mut u.p_h, 4), (&mut u.p_w, 8), (&mut u.p_ho, 2)] {
            set(sig, v);
        }
        for (sig, v) in [(&mut u.p_wo, 4), (&mut u.p.kh, 2), (&mut u.p.kw, 2), (&mut u.p.sh, 2)] {
            set(sig, v);
        }
        for (sig, v) in [(&mut u.p.sw, 2), (&mut u.p_hbw, 16), (&mut u.p_xcols, 8), (&mut u.p_count, 4)] {
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
        ld_we, ld_bank, ld_addr, ld_data, ld_wide, ld_n, ld_bank_b, ld_addr_b, ld_word, p_c, p_h, p_w, p_ho, p_wo, p.kh, p.kw, p.sh, p.sw, p.ph,
        p.pw, p_hbw, p_xcols, p_count, p_avg, p_div, conv_done, clear, start,
    ],
    outputs: [busy, done, enable, div_now, out_valid, out_idx, out_data],
    /// Observed: the clock enable and the read cursor (running, reads done, column inside the
    /// map, row mask, padded column), the region's arrivals (a column lands, it ends an update,
    /// it starts a band), the update awaiting the kernel, every region column (valid, element
    /// mask, values) and every feature-memory bank's read enable and address (the reads the
    /// memory sees).
    fn walk_observed(&self, s: &mut dyn crate::io::ObsSink) {
        use crate::io::PortValue;
        s.add(&|| "ce".into(), 1, self.ce.val().get_u64());
        s.add(&|| "running".into(), 1, self.running.val().get_u64());
        s.add(&|| "reader__reads_done".into(), 1, self.reader.reads_done.val().get_u64());
        s.add(&|| "reader__col_real".into(), 1, self.reader.col_real.val().get_u64());
        s.add(&|| "reader__rowmask".into(), 16, self.reader.rowmask.val().get_u64());
        s.add(&|| "reader__rd_x".into(), 16, self.reader.rd_x.val().get_u64());
        s.add(&|| "region__arrive".into(), 1, self.region.arrive.val().get_u64());
        s.add(&|| "region__update_end".into(), 1, self.region.update_end.val().get_u64());
        s.add(&|| "region__band_first".into(), 1, self.region.band_first.val().get_u64());
        s.add(&|| "region__pending".into(), 1, self.region.pending.val().get_u64());
        let k = self.banks.len();
        for j in 0..self.region.valid.len() {
            s.add(&|| format!("region__valid__{j}"), 1, self.region.valid[j].val().get_u64());
            s.add(&|| format!("region__mask__{j}"), 16, self.region.mask[j].val().get_u64());
            for r in 0..k {
                let i = j * k + r;
                s.add(&|| format!("region__value__{i}"), 16, self.region.value[i].val().get_u64());
            }
        }
        for b in 0..k {
            s.add(&|| format!("banks__{b}__r_en"), 1, self.banks[b].r_en.val().get_u64());
            s.add(&|| format!("banks__{b}__r_addr"), 16, self.banks[b].r_addr.val().get_u64());
        }
    }
);
