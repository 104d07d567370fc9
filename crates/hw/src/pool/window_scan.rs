//! # WindowScan: the pooling kernel's copy of the region, window ends, and the second level
//!
//! On the enabled cycle after the first level registered an update's columns ([`ColumnPool`]),
//! the kernel takes their results as its copy (m + n columns) and then scans the n new columns,
//! one candidate window end per enabled cycle: the copy slides one column left each cycle, so the
//! candidate always ends at copy column m. A window ends at the candidate when the candidate's
//! padded column is the next window end (kw − 1 at a band's start, then sw further per window)
//! and the row still has outputs (x_o < Wo: the column division line stops windows past the map's
//! right edge). The window's kw column results are pooled by two chains of [`ReduceStep`]s, over its last
//! ⌈w/2⌉ columns and the rest (timing), registered as the two halves with the window's flat output
//! index (the band's output row + x_o).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce`, `go` | in | 1 | clock, the unit's clock enable, a run starts |
//! | `pending`, `upd_ubase`, `upd_bandfirst`, `upd_outrow` | in | 1, 16, 1, 32 | an update's columns are being registered ([`RegionFile`](crate::pool::RegionFile)) |
//! | `col_max`, `col_sum`, `col_any` | in | 9, 16, 1 per column | the first level's registered results |
//! | `p_kw`, `p_sw`, `p_wo` | in | 16 | window width, horizontal stride, output width |
//! | `busy` | out | 1 | a copy is being taken or scanned |
//! | `w_valid`, `w_idx` | out | 1, 32 | a window ended on the last enabled cycle, and its output index |
//! | `wa_max`, `wa_sum`, `wb_max`, `wb_sum` | out | 9, 16 | its two halves (biased max, sum) |

use crate::pool::ReduceStep;
use crate::vec_of;
use rust_hdl::prelude::*;

/// The kernel's scan over a region of m + n columns for windows up to w wide.
#[derive(LogicBlock)]
pub struct WindowScan {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clock enable.
    pub ce: Signal<In, Bit>,
    /// A run starts.
    pub go: Signal<In, Bit>,
    /// The first level registers an update's columns this enabled cycle.
    pub pending: Signal<In, Bit>,
    /// The update's first padded column.
    pub upd_ubase: Signal<In, Bits<16>>,
    /// It is its band's first.
    pub upd_bandfirst: Signal<In, Bit>,
    /// Its band's output row base.
    pub upd_outrow: Signal<In, Bits<32>>,
    /// First-level biased max per column.
    pub col_max: Vec<Signal<In, Bits<9>>>,
    /// First-level sum per column.
    pub col_sum: Vec<Signal<In, Bits<16>>>,
    /// The column has a counted element.
    pub col_any: Vec<Signal<In, Bit>>,
    /// Window width.
    pub p_kw: Signal<In, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<In, Bits<16>>,
    /// Output width.
    pub p_wo: Signal<In, Bits<16>>,
    /// A copy is being taken or scanned.
    pub busy: Signal<Out, Bit>,
    /// A window ended on the last enabled cycle.
    pub w_valid: Signal<Out, Bit>,
    /// Its flat output index.
    pub w_idx: Signal<Out, Bits<32>>,
    /// Biased max of its last ⌈w/2⌉ columns.
    pub wa_max: Signal<Out, Bits<9>>,
    /// Sum of them.
    pub wa_sum: Signal<Out, Bits<16>>,
    /// Biased max of its other columns.
    pub wb_max: Signal<Out, Bits<9>>,
    /// Sum of them.
    pub wb_sum: Signal<Out, Bits<16>>,
    /// The window's last ⌈w/2⌉ columns and the rest.
    first: Vec<ReduceStep>,
    second: Vec<ReduceStep>,
    /// n − 1.
    nlast: Constant<Bits<8>>,
    /// The update whose columns the first level registered (the copy is taken next).
    ld2: DFF<Bit>,
    l_ubase: DFF<Bits<16>>,
    l_bandfirst: DFF<Bit>,
    l_outrow: DFF<Bits<32>>,
    /// The kernel's copy: biased max, sum, any counted element per column.
    cmax: Vec<DFF<Bits<9>>>,
    csum: Vec<DFF<Bits<16>>>,
    cany: Vec<DFF<Bit>>,
    /// The scan: active, candidate number, candidate's padded column, next window end, output
    /// column, output row base.
    e_active: DFF<Bit>,
    e_j: DFF<Bits<8>>,
    e_ep: DFF<Bits<16>>,
    e_next: DFF<Bits<16>>,
    e_xo: DFF<Bits<16>>,
    e_outrow: DFF<Bits<32>>,
    /// `e_xo < p_wo`, formed with `e_xo` (timing: the window test starts at a flip-flop).
    e_xin: DFF<Bit>,
    /// The window half stage.
    wv: DFF<Bit>,
    wi: DFF<Bits<32>>,
    wam: DFF<Bits<9>>,
    was: DFF<Bits<16>>,
    wbm: DFF<Bits<9>>,
    wbs: DFF<Bits<16>>,
    /// Window-width mask, a window ends at the candidate.
    kwmask: Signal<Local, Bits<16>>,
    emit: Signal<Local, Bit>,
}

impl WindowScan {
    /// The scan of a region of `cols` = m + n columns, updates of `n`, windows up to `w` wide.
    pub fn new(cols: usize, n: usize, w: usize) -> Self {
        block_with_defaults!(WindowScan {
            col_max: vec_of(cols),
            col_sum: vec_of(cols),
            col_any: vec_of(cols),
            first: vec_of(w.div_ceil(2)),
            second: vec_of(w - w.div_ceil(2)),
            nlast: Constant::new(((n - 1) as u64).into()),
            cmax: vec_of(cols),
            csum: vec_of(cols),
            cany: vec_of(cols),
        } defaults {
            clock, ce, go, pending, upd_ubase, upd_bandfirst, upd_outrow, p_kw, p_sw, p_wo, busy,
            w_valid, w_idx, wa_max, wa_sum, wb_max, wb_sum, ld2, l_ubase, l_bandfirst, l_outrow,
            e_active, e_j, e_ep, e_next, e_xo, e_outrow, e_xin, wv, wi, wam, was, wbm, wbs, kwmask, emit,
        })
    }
}

impl Logic for WindowScan {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ld2, l_ubase, l_bandfirst, l_outrow, e_active, e_j, e_ep, e_next, e_xo,
            e_outrow, e_xin, wv, wi, wam, was, wbm, wbs
        );
        for j in 0..self.cmax.len() {
            self.cmax[j].clock.next = self.clock.val();
            self.cmax[j].d.next = self.cmax[j].q.val();
            self.csum[j].clock.next = self.clock.val();
            self.csum[j].d.next = self.csum[j].q.val();
            self.cany[j].clock.next = self.clock.val();
            self.cany[j].d.next = self.cany[j].q.val();
        }
        self.busy.next = self.ld2.q.val() | self.e_active.q.val();
        self.w_valid.next = self.wv.q.val();
        self.w_idx.next = self.wi.q.val();
        self.wa_max.next = self.wam.q.val();
        self.wa_sum.next = self.was.q.val();
        self.wb_max.next = self.wbm.q.val();
        self.wb_sum.next = self.wbs.q.val();
        // The second level over the window ending at copy column m (a loop of one iteration
        // binds m to a name an index may use; rust-hdl evaluates index expressions over loop
        // variables only). Column m − t is the window's column t from its end.
        self.kwmask.next = (bits::<16>(1) << self.p_kw.val()) - 1;
        for mm in (self.cmax.len() - self.nlast.val().index() - 1)..(self.cmax.len() - self.nlast.val().index()) {
            for t in 0..self.first.len() {
                self.first[t].max_in.next = self.cmax[mm - t].q.val();
                self.first[t].sum_in.next = self.csum[mm - t].q.val();
                self.first[t].max_en.next = self.kwmask.val().get_bit(t) & self.cany[mm - t].q.val();
                self.first[t].sum_en.next = self.kwmask.val().get_bit(t);
            }
            for ha in self.first.len()..(self.first.len() + 1) {
                for i in 0..self.second.len() {
                    self.second[i].max_in.next = self.cmax[mm - ha - i].q.val();
                    self.second[i].sum_in.next = self.csum[mm - ha - i].q.val();
                    self.second[i].max_en.next = self.kwmask.val().get_bit(ha + i) & self.cany[mm - ha - i].q.val();
                    self.second[i].sum_en.next = self.kwmask.val().get_bit(ha + i);
                }
            }
        }
        self.first[0].acc_max.next = 0.into();
        self.first[0].acc_sum.next = 0.into();
        for t in 1..self.first.len() {
            self.first[t].acc_max.next = self.first[t - 1].max.val();
            self.first[t].acc_sum.next = self.first[t - 1].sum.val();
        }
        for _first in 0..self.second.len().min(1) {
            self.second[0].acc_max.next = 0.into();
            self.second[0].acc_sum.next = 0.into();
        }
        for i in 1..self.second.len() {
            self.second[i].acc_max.next = self.second[i - 1].max.val();
            self.second[i].acc_sum.next = self.second[i - 1].sum.val();
        }
        self.emit.next =
            self.e_active.q.val() & (self.e_ep.q.val() == self.e_next.q.val()) & self.e_xin.q.val();
        if self.ce.val() {
            self.wv.d.next = false;
            self.ld2.d.next = self.pending.val();
            if self.pending.val() {
                self.l_ubase.d.next = self.upd_ubase.val();
                self.l_bandfirst.d.next = self.upd_bandfirst.val();
                self.l_outrow.d.next = self.upd_outrow.val();
            }
        }
        if self.ce.val() & self.e_active.q.val() {
            // One candidate: register the window's halves if it ends here, slide the copy.
            self.wv.d.next = self.emit.val();
            self.wi.d.next = self.e_outrow.q.val() + bit_cast::<32, 16>(self.e_xo.q.val());
            // The chains' last steps (loops of one iteration name them; an empty second chain,
            // w = 1, contributes the identities).
            for t in (self.first.len() - 1)..self.first.len() {
                self.wam.d.next = self.first[t].max.val();
                self.was.d.next = self.first[t].sum.val();
            }
            self.wbm.d.next = 0.into();
            self.wbs.d.next = 0.into();
            for i in self.second.len().saturating_sub(1)..self.second.len() {
                self.wbm.d.next = self.second[i].max.val();
                self.wbs.d.next = self.second[i].sum.val();
            }
            if self.emit.val() {
                self.e_next.d.next = self.e_next.q.val() + self.p_sw.val();
                self.e_xo.d.next = self.e_xo.q.val() + 1;
                self.e_xin.d.next = (self.e_xo.q.val() + 1) < self.p_wo.val();
            }
            self.e_j.d.next = self.e_j.q.val() + 1;
            self.e_ep.d.next = self.e_ep.q.val() + 1;
            if self.e_j.q.val() == self.nlast.val() {
                self.e_active.d.next = false;
            }
            for j in 0..(self.cmax.len() - 1) {
                self.cmax[j].d.next = self.cmax[j + 1].q.val();
                self.csum[j].d.next = self.csum[j + 1].q.val();
                self.cany[j].d.next = self.cany[j + 1].q.val();
            }
        }
        if self.ce.val() & self.ld2.q.val() {
            // The copy: the first level's registered column results.
            for j in 0..self.cmax.len() {
                self.cmax[j].d.next = self.col_max[j].val();
                self.csum[j].d.next = self.col_sum[j].val();
                self.cany[j].d.next = self.col_any[j].val();
            }
            self.e_active.d.next = true;
            self.e_j.d.next = 0.into();
            self.e_ep.d.next = self.l_ubase.q.val();
            if self.l_bandfirst.q.val() {
                self.e_next.d.next = self.p_kw.val() - 1;
                self.e_xo.d.next = 0.into();
                self.e_xin.d.next = self.p_wo.val().any();
                self.e_outrow.d.next = self.l_outrow.q.val();
            }
        }
        if self.go.val() {
            self.e_active.d.next = false;
        }
    }
}

crate::clocked!(WindowScan);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// One window as the scan reports it: output index, then (biased max, sum) of its last ⌈w/2⌉
    /// columns and of the rest.
    type Window = (u64, (u64, u64), (u64, u64));

    /// Random bands of updates with random column results, fed as fast as the region can (one
    /// update per n enabled cycles) under a random clock enable. A model that finds each window
    /// by position (window x_o ends at padded column kw − 1 + x_o·sw, which is copy column
    /// m + (end − ubase) of the update holding it) gives the same windows in the same order.
    #[test]
    fn windows_end_where_the_geometry_says() {
        let mut rng = Rng::from_env("window-scan", 31);
        for _ in 0..30 {
            let n = 1 + rng.below(3) as usize;
            let w = 1 + rng.below(3) as usize;
            let m = w - 1 + rng.below(2) as usize;
            let cols = m + n;
            let mut h = Harness::new(WindowScan::new(cols, n, w)).unwrap();
            let (kw, sw) = (1 + rng.below(w as u64), 1 + rng.below(3));
            let wo = 1 + rng.below(4);
            let updates_per_band = ((kw - 1 + (wo - 1) * sw) as usize / n) + 1 + rng.below(2) as usize;
            for (s, v) in [(&mut h.uut.p_kw, kw), (&mut h.uut.p_sw, sw), (&mut h.uut.p_wo, wo)] {
                s.next = v.into();
            }
            let (mut want, mut got): (Vec<Window>, Vec<Window>) = (vec![], vec![]);
            let mut feeds = vec![];
            for band in 0..2u64 {
                for u in 0..updates_per_band {
                    let colv: Vec<(u64, u64, bool)> = (0..cols).map(|_| (rng.below(512), rng.below(1 << 16), rng.below(4) > 0)).collect();
                    let ubase = (u * n) as u64;
                    for j in 0..n as u64 {
                        let end = ubase + j;
                        if end + 1 < kw || (end + 1 - kw) % sw != 0 || (end + 1 - kw) / sw >= wo {
                            continue;
                        }
                        let xo = (end + 1 - kw) / sw;
                        let half = |ts: std::ops::Range<u64>| {
                            ts.filter(|&t| t < kw).fold((0u64, 0u64), |(mx, s), t| {
                                let (cm, cs, ca) = colv[m + j as usize - t as usize];
                                (if ca { mx.max(cm) } else { mx }, (s + cs) & 0xFFFF)
                            })
                        };
                        let ha = w.div_ceil(2) as u64;
                        want.push((band * 1000 + xo, half(0..ha), half(ha..w as u64)));
                    }
                    feeds.push((ubase, u == 0, band * 1000, colv));
                }
            }
            let mut ce_count = 0usize;
            let mut next = 0;
            for _ in 0..(feeds.len() * n + 20) * 3 {
                let ce = rng.below(3) > 0;
                h.uut.ce.next = ce;
                let feed = ce && ce_count % n == 0 && next < feeds.len();
                h.uut.pending.next = feed;
                if feed {
                    let (ubase, bf, outrow, _) = &feeds[next];
                    h.uut.upd_ubase.next = (*ubase).into();
                    h.uut.upd_bandfirst.next = *bf;
                    h.uut.upd_outrow.next = (*outrow).into();
                    next += 1;
                }
                h.settle().unwrap();
                let u = &h.uut;
                if ce && u.w_valid.val() {
                    let v = |s: &Signal<Out, Bits<9>>| s.val().index() as u64;
                    let s16 = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
                    got.push((u.w_idx.val().index() as u64, (v(&u.wa_max), s16(&u.wa_sum)), (v(&u.wb_max), s16(&u.wb_sum))));
                }
                ce_count += usize::from(ce);
                h.step().unwrap();
                if feed {
                    // The first level registers the update's column results at this edge.
                    for (j, &(cm, cs, ca)) in feeds[next - 1].3.iter().enumerate() {
                        h.uut.col_max[j].next = cm.into();
                        h.uut.col_sum[j].next = cs.into();
                        h.uut.col_any[j].next = ca;
                    }
                }
            }
            assert_eq!(got, want, "n {n} w {w} m {m} kw {kw} sw {sw} wo {wo}");
        }
    }
}
