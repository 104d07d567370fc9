//! # RegionFile: the window register file (patents.md §2)
//!
//! k rows × (m + n) columns of sign-extended values. A read's data land from the banks on the
//! enabled cycle after the read (`bank_data`, into landing registers next to the block RAMs:
//! timing), are rotated from bank order into band order (band row i is in bank (r0 + i) mod k,
//! `rd_rot` one-hot r0), and shift in as the rightmost column while every column moves one to the
//! left. Each column carries its element mask (rows of the map; a padding column has none) and
//! whether it holds data of the current band: the retained columns turn invalid when a band
//! starts, so a window never mixes two bands. A shift that ends an update (n shifts) leaves the
//! region holding the n new columns after the last m of the previous update and raises `pending`
//! with the update's first column and output row for one enabled cycle, in which the kernel
//! takes its copy (unless the next update ends in that same cycle: n = 1).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce`, `go` | in | 1 | clock, the unit's clock enable, a run starts |
//! | `bank_data` | in | 8 (per bank) | the banks' read data |
//! | `rd_valid`, `rd_real`, `rd_rot`, `rd_mask`, `rd_bandfirst`, `rd_updend`, `rd_ubase`, `rd_outrow` | in | … | the read issued last ([`BandReader`](crate::pool::BandReader)) |
//! | `arrive`, `update_end`, `band_first` | out | 1 | a read's data have landed and shift in on the next enabled edge; it ends an update; it starts a band |
//! | `value`, `mask`, `valid` | out | 16 per element; 16, 1 per column | the region, column-major: row r of column j is `value[j·k + r]` |
//! | `pending`, `upd_ubase`, `upd_bandfirst`, `upd_outrow` | out | 1, 16, 1, 32 | an update awaits the kernel: its first column, whether it is its band's first, its output row |

use crate::pool::fault_if;
use crate::sign_ext::SignExt;
use crate::vec_of;
use rust_hdl::prelude::*;

/// The window register file of k rows and m + n columns.
#[derive(LogicBlock)]
pub struct RegionFile {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clock enable.
    pub ce: Signal<In, Bit>,
    /// A run starts.
    pub go: Signal<In, Bit>,
    /// The banks' read data.
    pub bank_data: Vec<Signal<In, Bits<8>>>,
    /// A read was issued on the last enabled cycle.
    pub rd_valid: Signal<In, Bit>,
    /// It read a column inside the map.
    pub rd_real: Signal<In, Bit>,
    /// Its band's first bank, one-hot.
    pub rd_rot: Signal<In, Bits<16>>,
    /// Its row mask.
    pub rd_mask: Signal<In, Bits<16>>,
    /// It started a band.
    pub rd_bandfirst: Signal<In, Bit>,
    /// It ended an update.
    pub rd_updend: Signal<In, Bit>,
    /// Its update's first column.
    pub rd_ubase: Signal<In, Bits<16>>,
    /// Its band's output row base.
    pub rd_outrow: Signal<In, Bits<32>>,
    /// A read's data have landed: they shift in on the next enabled edge.
    pub arrive: Signal<Out, Bit>,
    /// It ends an update.
    pub update_end: Signal<Out, Bit>,
    /// It starts a band.
    pub band_first: Signal<Out, Bit>,
    /// Region values (sign-extended), column-major.
    pub value: Vec<Signal<Out, Bits<16>>>,
    /// Element masks, one per column.
    pub mask: Vec<Signal<Out, Bits<16>>>,
    /// Column holds data of the current band.
    pub valid: Vec<Signal<Out, Bit>>,
    /// An update awaits the kernel.
    pub pending: Signal<Out, Bit>,
    /// Its first padded column.
    pub upd_ubase: Signal<Out, Bits<16>>,
    /// It is its band's first (or starts at column 0).
    pub upd_bandfirst: Signal<Out, Bit>,
    /// Its output row base.
    pub upd_outrow: Signal<Out, Bits<32>>,
    /// Landing registers of the banks' read data.
    landed: Vec<DFF<Bits<8>>>,
    sx: Vec<SignExt>,
    /// The landed column in band order.
    newcol: Vec<Signal<Local, Bits<16>>>,
    /// The read whose data landed (the read stage, one enabled cycle on).
    m_valid: DFF<Bit>,
    m_real: DFF<Bit>,
    m_rot: DFF<Bits<16>>,
    m_mask: DFF<Bits<16>>,
    m_bandfirst: DFF<Bit>,
    m_updend: DFF<Bit>,
    m_ubase: DFF<Bits<16>>,
    m_outrow: DFF<Bits<32>>,
    region: Vec<DFF<Bits<16>>>,
    rmask: Vec<DFF<Bits<16>>>,
    rvalid: Vec<DFF<Bit>>,
    ld_pending: DFF<Bit>,
    k_ubase: DFF<Bits<16>>,
    k_bandfirst: DFF<Bit>,
    k_outrow: DFF<Bits<32>>,
    /// Built-in fault (tests only): column 0 does not shift, the retained columns are stale.
    fault_stale: Vec<Constant<Bit>>,
}

impl RegionFile {
    /// A region of `k` rows and `cols` = m + n columns, with the `StaleRetained` fault built in
    /// when `fault_stale`.
    pub fn new(k: usize, cols: usize, fault_stale: bool) -> Self {
        block_with_defaults!(RegionFile {
            bank_data: vec_of(k),
            value: vec_of(k * cols),
            mask: vec_of(cols),
            valid: vec_of(cols),
            landed: vec_of(k),
            sx: vec_of(k),
            newcol: vec_of(k),
            region: vec_of(k * cols),
            rmask: vec_of(cols),
            rvalid: vec_of(cols),
            fault_stale: fault_if(fault_stale),
        } defaults {
            clock, ce, go, rd_valid, rd_real, rd_rot, rd_mask, rd_bandfirst, rd_updend, rd_ubase,
            rd_outrow, arrive, update_end, band_first, pending, upd_ubase, upd_bandfirst,
            upd_outrow, m_valid, m_real, m_rot, m_mask, m_bandfirst, m_updend, m_ubase, m_outrow,
            ld_pending, k_ubase, k_bandfirst, k_outrow,
        })
    }
}

impl Logic for RegionFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, m_valid, m_real, m_rot, m_mask, m_bandfirst, m_updend, m_ubase, m_outrow,
            ld_pending, k_ubase, k_bandfirst, k_outrow
        );
        self.arrive.next = self.m_valid.q.val();
        self.update_end.next = self.m_updend.q.val();
        self.band_first.next = self.m_bandfirst.q.val();
        self.pending.next = self.ld_pending.q.val();
        self.upd_ubase.next = self.k_ubase.q.val();
        self.upd_bandfirst.next = self.k_bandfirst.q.val();
        self.upd_outrow.next = self.k_outrow.q.val();
        for i in 0..self.region.len() {
            self.region[i].clock.next = self.clock.val();
            self.region[i].d.next = self.region[i].q.val();
            self.value[i].next = self.region[i].q.val();
        }
        for j in 0..self.rvalid.len() {
            self.rmask[j].clock.next = self.clock.val();
            self.rmask[j].d.next = self.rmask[j].q.val();
            self.rvalid[j].clock.next = self.clock.val();
            self.rvalid[j].d.next = self.rvalid[j].q.val();
            self.mask[j].next = self.rmask[j].q.val();
            self.valid[j].next = self.rvalid[j].q.val();
        }
        // Landing, sign extension, and the rotation from bank order into band order.
        for b in 0..self.landed.len() {
            self.landed[b].clock.next = self.clock.val();
            self.landed[b].d.next = self.landed[b].q.val();
            if self.ce.val() {
                self.landed[b].d.next = self.bank_data[b].val();
            }
            self.sx[b].a.next = self.landed[b].q.val();
        }
        // A loop of one iteration binds k to a name an index may use (rust-hdl evaluates index
        // expressions over loop variables only); `last` likewise names column m + n − 1.
        for kk in self.landed.len()..(self.landed.len() + 1) {
            for i in 0..self.landed.len() {
                self.newcol[i].next = 0.into();
                for r in 0..self.landed.len() {
                    if self.m_rot.q.val().get_bit(r) {
                        self.newcol[i].next = self.sx[(i + r) % kk].y.val();
                    }
                }
            }
            if self.ce.val() {
                self.m_valid.d.next = self.rd_valid.val();
                self.m_real.d.next = self.rd_real.val();
                self.m_rot.d.next = self.rd_rot.val();
                self.m_mask.d.next = self.rd_mask.val();
                self.m_bandfirst.d.next = self.rd_bandfirst.val();
                self.m_updend.d.next = self.rd_updend.val();
                self.m_ubase.d.next = self.rd_ubase.val();
                self.m_outrow.d.next = self.rd_outrow.val();
            }
            // The kernel takes its copy on the enabled cycle after an update's end.
            if self.ce.val() & self.ld_pending.q.val() {
                self.ld_pending.d.next = false;
            }
            // The shift: every column one to the left, the landed column in on the right.
            if self.ce.val() & self.m_valid.q.val() {
                for j in 0..(self.rvalid.len() - 1) {
                    for r in 0..self.landed.len() {
                        self.region[j * kk + r].d.next = self.region[j * kk + kk + r].q.val();
                    }
                    self.rmask[j].d.next = self.rmask[j + 1].q.val();
                    // Retained columns are invalid at the start of a row band.
                    self.rvalid[j].d.next = self.rvalid[j + 1].q.val() & !self.m_bandfirst.q.val();
                }
                for f in 0..self.fault_stale.len() {
                    if self.fault_stale[f].val() {
                        for r in 0..self.landed.len() {
                            self.region[r].d.next = self.region[r].q.val();
                        }
                    }
                }
                for last in (self.rvalid.len() - 1)..self.rvalid.len() {
                    for r in 0..self.landed.len() {
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
        }
        if self.go.val() {
            self.m_valid.d.next = false;
            self.ld_pending.d.next = false;
        }
    }
}

crate::clocked!(RegionFile);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random reads (bank data, first bank, masks, band starts, update ends) with random gaps:
    /// after each arrival the region equals a model that shifts columns as the header says, and
    /// an update's end raises `pending` with its fields for exactly one enabled cycle.
    #[test]
    fn region_shifts_like_the_model() {
        let mut rng = Rng::from_env("region-file", 23);
        for (k, cols) in [(1, 2), (3, 4), (4, 6)] {
            let mut h = Harness::new(RegionFile::new(k, cols, false)).unwrap();
            let mut model: Vec<(Vec<u64>, u64, bool)> = vec![(vec![0; k], 0, false); cols];
            for step in 0..400 {
                let read = rng.below(3) > 0;
                let vals: Vec<u64> = (0..k).map(|_| rng.below(256)).collect();
                let (real, r0, mask) = (rng.below(4) > 0, rng.below(k as u64), rng.below(1 << k));
                let (bandfirst, updend, ubase, outrow) = (rng.below(4) == 0, rng.below(2) == 0, rng.below(40), rng.below(1000));
                let u = &mut h.uut;
                u.ce.next = true;
                u.rd_valid.next = read;
                u.rd_real.next = real;
                u.rd_rot.next = (1u64 << r0).into();
                u.rd_mask.next = mask.into();
                u.rd_bandfirst.next = bandfirst;
                u.rd_updend.next = updend;
                u.rd_ubase.next = ubase.into();
                u.rd_outrow.next = outrow.into();
                for (b, &v) in vals.iter().enumerate() {
                    u.bank_data[b].next = v.into();
                }
                h.step().unwrap();
                h.uut.rd_valid.next = false;
                h.step().unwrap();
                // The arrival shifts at the second edge; `pending` shows on the cycle after it.
                if read {
                    let sext = |v: u64| (v as u8 as i8 as i16 as u16) as u64;
                    let newcol = (0..k).map(|i| sext(vals[(i + r0 as usize) % k])).collect();
                    for j in 0..cols - 1 {
                        model[j] = (model[j + 1].0.clone(), model[j + 1].1, model[j + 1].2 && !bandfirst);
                    }
                    model[cols - 1] = (newcol, if real { mask } else { 0 }, true);
                }
                let want_pending = (read && updend).then_some((ubase, bandfirst || ubase == 0, outrow));
                let u = &h.uut;
                for (j, (vals, mask, valid)) in model.iter().enumerate() {
                    let ctx = format!("k {k} cols {cols} step {step} column {j}");
                    for r in 0..k {
                        assert_eq!(u.value[j * k + r].val(), bits::<16>(vals[r]), "{ctx} row {r}");
                    }
                    assert_eq!(u.mask[j].val(), bits::<16>(*mask), "{ctx}");
                    assert_eq!(u.valid[j].val(), *valid, "{ctx}");
                }
                assert_eq!(u.pending.val(), want_pending.is_some(), "k {k} step {step}: pending");
                if let Some((ubase, bf, outrow)) = want_pending {
                    assert_eq!(u.upd_ubase.val(), bits::<16>(ubase), "step {step}");
                    assert_eq!(u.upd_bandfirst.val(), bf, "step {step}");
                    assert_eq!(u.upd_outrow.val(), bits::<32>(outrow), "step {step}");
                }
            }
        }
    }
}
