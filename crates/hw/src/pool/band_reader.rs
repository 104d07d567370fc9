//! # BandReader: the pooling unit's read cursor, one padded column of a row band per enabled cycle
//!
//! The unit reads each channel's map as row bands, one per output row (k padded rows starting at
//! row yo·sh), and each band column by column over `xcols` padded columns (a multiple of n,
//! `docs/pooling.md`). One read fetches column x of the band's real rows from the banks that hold
//! them ([`BandMasks`], [`BankAddress`]); padding columns read nothing. Reads are grouped in
//! updates of n; the read stage (`rd_*`) tells the region what the read issued on the last
//! enabled cycle is: its row mask, the rotation that puts its banks in band order, whether it
//! starts a band or ends an update, the update's first column and the band's output row.
//!
//! After `go` three enabled cycles prime the masks before the first read; a band of one column
//! (`xcols` = 1) is followed by one enabled cycle without a read, for the masks to catch up.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `ce` | in | 1 | clock and the unit's clock enable |
//! | `go`, `running` | in | 1 | a run starts; the unit runs |
//! | `geom` | in | 11 × 16 | layer geometry ([`BandGeometry`]: c, h, w, ho, wo, kh, sh, ph, pw, hbw, xcols) |
//! | `reads_done` | out | 1 | every band of every channel has been read |
//! | `rd_x`, `col_real`, `rowmask` | out | 16, 1, 16 | the cursor: padded column, inside the map, real rows |
//! | `bank_en` | out | 16 | the banks read this cycle |
//! | `addr_lo`, `addr_hi`, `thermo` | out | 16 | bank b reads `addr_hi` if bit b of `thermo`, else `addr_lo` |
//! | `rd_valid`, `rd_real`, `rd_rot`, `rd_mask` | out | 1, 1, 16, 16 | the read issued last: valid, inside the map, one-hot first bank, row mask |
//! | `rd_bandfirst`, `rd_updend`, `rd_ubase`, `rd_outrow` | out | 1, 1, 16, 32 | band start, update end, the update's first column, output row base |

use crate::pool::{fault_if, BandMasks, BankAddress};
use rust_hdl::prelude::*;

/// The layer geometry the read cursor needs, as one port: a rust-hdl `LogicStruct` is one bus in
/// the Verilog with each field a slice, so the parent's parameter ports are not declared again.
#[derive(Copy, Clone, Debug, PartialEq, Default, LogicStruct)]
pub struct BandGeometry {
    /// Channels.
    pub c: Bits<16>,
    /// Input height.
    pub h: Bits<16>,
    /// Input width.
    pub w: Bits<16>,
    /// Output height (bands per channel).
    pub ho: Bits<16>,
    /// Output width.
    pub wo: Bits<16>,
    /// Window height.
    pub kh: Bits<16>,
    /// Vertical stride.
    pub sh: Bits<16>,
    /// Vertical padding.
    pub ph: Bits<16>,
    /// Horizontal padding.
    pub pw: Bits<16>,
    /// Bank entries per channel.
    pub hbw: Bits<16>,
    /// Padded columns read per band.
    pub xcols: Bits<16>,
}

/// The read cursor.
#[derive(LogicBlock)]
pub struct BandReader {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clock enable.
    pub ce: Signal<In, Bit>,
    /// A run starts.
    pub go: Signal<In, Bit>,
    /// The unit runs.
    pub running: Signal<In, Bit>,
    /// The layer's geometry.
    pub geom: Signal<In, BandGeometry>,
    /// Every band has been read.
    pub reads_done: Signal<Out, Bit>,
    /// Padded column of the cursor.
    pub rd_x: Signal<Out, Bits<16>>,
    /// The cursor's column is inside the map.
    pub col_real: Signal<Out, Bit>,
    /// Real rows of the current band.
    pub rowmask: Signal<Out, Bits<16>>,
    /// Banks read this cycle.
    pub bank_en: Signal<Out, Bits<16>>,
    /// Entry for the banks at or after the band's first bank.
    pub addr_lo: Signal<Out, Bits<16>>,
    /// Entry for the banks before it.
    pub addr_hi: Signal<Out, Bits<16>>,
    /// Banks before the band's first bank.
    pub thermo: Signal<Out, Bits<16>>,
    /// The read issued on the last enabled cycle.
    pub rd_valid: Signal<Out, Bit>,
    /// It read a column inside the map.
    pub rd_real: Signal<Out, Bit>,
    /// Its band's first bank, one-hot.
    pub rd_rot: Signal<Out, Bits<16>>,
    /// Its band's row mask.
    pub rd_mask: Signal<Out, Bits<16>>,
    /// It started a band.
    pub rd_bandfirst: Signal<Out, Bit>,
    /// It ended an update.
    pub rd_updend: Signal<Out, Bit>,
    /// Its update's first padded column.
    pub rd_ubase: Signal<Out, Bits<16>>,
    /// Its band's output row: (c·Ho + yo)·Wo.
    pub rd_outrow: Signal<Out, Bits<32>>,
    masks: BandMasks,
    addr: BankAddress,
    /// k and n − 1.
    kconst: Constant<Bits<16>>,
    nlast: Constant<Bits<8>>,
    /// Cursor: padded column, inside the map (registered with it: on where it steps onto `pw`,
    /// off where onto `w + pw`, compared against `c_on`, `c_off`; `c_real0` at column 0).
    x: DFF<Bits<16>>,
    c_real: DFF<Bit>,
    c_on: DFF<Bits<16>>,
    c_off: DFF<Bits<16>>,
    c_real0: DFF<Bit>,
    /// Position in the update and the update's first column.
    upd: DFF<Bits<8>>,
    ubase: DFF<Bits<16>>,
    done: DFF<Bit>,
    /// Channel, output row, the band's first bank, the output row's base.
    chan: DFF<Bits<16>>,
    yo: DFF<Bits<16>>,
    r0: DFF<Bits<16>>,
    outrow: DFF<Bits<32>>,
    /// Registered every clock: last band of the channel, last channel, the next band's first
    /// row wraps, `ho` − 1, `xcols` − 1, `xcols` = 1 (timing: no compare in front of a step).
    ylast: DFF<Bit>,
    clast: DFF<Bit>,
    r0wrap: DFF<Bit>,
    ho_m1: DFF<Bits<16>>,
    xlast: DFF<Bits<16>>,
    xc1: DFF<Bit>,
    /// The next read ends its band (stepped with the cursor).
    be: DFF<Bit>,
    /// Enabled cycles of priming left, and the cycle after a one-column band.
    prime: DFF<Bits<2>>,
    bub: DFF<Bit>,
    /// The read stage.
    a_valid: DFF<Bit>,
    a_real: DFF<Bit>,
    a_rot: DFF<Bits<16>>,
    a_mask: DFF<Bits<16>>,
    a_bandfirst: DFF<Bit>,
    a_updend: DFF<Bit>,
    a_ubase: DFF<Bits<16>>,
    a_outrow: DFF<Bits<32>>,
    /// r0 + sh.
    r0n: Signal<Local, Bits<16>>,
    /// A read is issued this cycle.
    issue: Signal<Local, Bit>,
    /// Built-in fault (tests only): every read ends an update.
    fault_short: Vec<Constant<Bit>>,
}

impl BandReader {
    /// The cursor of a unit with `k` banks and updates of `n` columns, with the `RereadColumn`
    /// and `ShortUpdate` faults built in when asked.
    pub fn new(k: usize, n: usize, fault_reread: bool, fault_short: bool) -> Self {
        block_with_defaults!(BandReader {
            masks: BandMasks::new(k),
            addr: BankAddress::new(fault_reread),
            kconst: Constant::new((k as u64).into()),
            nlast: Constant::new(((n - 1) as u64).into()),
            fault_short: fault_if(fault_short),
        } defaults {
            clock, ce, go, running, geom, reads_done, rd_x, col_real, rowmask, bank_en, addr_lo, addr_hi, thermo,
            rd_valid, rd_real, rd_rot, rd_mask, rd_bandfirst, rd_updend, rd_ubase, rd_outrow, x,
            c_real, c_on, c_off, c_real0, upd, ubase, done, chan, yo, r0, outrow, ylast, clast,
            r0wrap, ho_m1, xlast, xc1, be, prime, bub, a_valid, a_real, a_rot, a_mask, a_bandfirst,
            a_updend, a_ubase, a_outrow, r0n, issue,
        })
    }
}

impl Logic for BandReader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, x, c_real, c_on, c_off, c_real0, upd, ubase, done, chan, yo, r0, outrow,
            ylast, clast, r0wrap, ho_m1, xlast, xc1, be, prime, bub, a_valid, a_real, a_rot, a_mask,
            a_bandfirst, a_updend, a_ubase, a_outrow
        );
        clock!(self, clock, masks, addr);
        self.reads_done.next = self.done.q.val();
        self.rd_x.next = self.x.q.val();
        self.col_real.next = self.c_real.q.val();
        self.rowmask.next = self.masks.rowmask.val();
        self.thermo.next = self.masks.thermo.val();
        self.addr_lo.next = self.addr.addr_lo.val();
        self.addr_hi.next = self.addr.addr_hi.val();
        self.rd_valid.next = self.a_valid.q.val();
        self.rd_real.next = self.a_real.q.val();
        self.rd_rot.next = self.a_rot.q.val();
        self.rd_mask.next = self.a_mask.q.val();
        self.rd_bandfirst.next = self.a_bandfirst.q.val();
        self.rd_updend.next = self.a_updend.q.val();
        self.rd_ubase.next = self.a_ubase.q.val();
        self.rd_outrow.next = self.a_outrow.q.val();
        // Per-run constants and the flags registered every clock.
        self.c_on.d.next = self.geom.val().pw - 1;
        self.c_off.d.next = self.geom.val().w + self.geom.val().pw - 1;
        self.c_real0.d.next = !self.geom.val().pw.any() & self.geom.val().w.any();
        self.ho_m1.d.next = self.geom.val().ho - 1;
        self.xlast.d.next = self.geom.val().xcols - 1;
        self.xc1.d.next = self.geom.val().xcols == 1;
        self.r0n.next = self.r0.q.val() + self.geom.val().sh;
        self.ylast.d.next = self.yo.q.val() == self.ho_m1.q.val();
        self.clast.d.next = self.chan.q.val() + 1 == self.geom.val().c;
        self.r0wrap.d.next = self.r0n.val() >= self.kconst.val();
        // The masks: band 0 on the first priming cycle; the current band takes the pointer's on
        // the last priming cycle, a read that ends a band of two or more columns, or the cycle
        // after a one-column band.
        self.masks.p_h.next = self.geom.val().h;
        self.masks.p_ph.next = self.geom.val().ph;
        self.masks.p_kh.next = self.geom.val().kh;
        self.masks.p_sh.next = self.geom.val().sh;
        self.masks.p_ho.next = self.geom.val().ho;
        self.masks.load0.next = self.ce.val() & self.running.val() & (self.prime.q.val() == 3);
        self.masks.take.next = self.ce.val()
            & self.running.val()
            & ((self.prime.q.val() == 1)
                | self.bub.q.val()
                | (!self.done.q.val() & !self.prime.q.val().any() & self.be.q.val() & !self.xc1.q.val()));
        self.issue.next =
            self.ce.val() & self.running.val() & !self.done.q.val() & !self.bub.q.val() & !self.prime.q.val().any();
        self.addr.go.next = self.go.val();
        self.addr.step.next = self.issue.val();
        self.addr.band_end.next = self.be.q.val();
        self.addr.ylast.next = self.ylast.q.val();
        self.addr.r0wrap.next = self.r0wrap.q.val();
        for f in 0..self.addr.rd_x.len() {
            self.addr.rd_x[f].next = self.x.q.val();
        }
        self.addr.p_w.next = self.geom.val().w;
        self.addr.p_pw.next = self.geom.val().pw;
        self.addr.p_hbw.next = self.geom.val().hbw;
        self.bank_en.next = 0.into();
        if self.ce.val() {
            self.a_valid.d.next = false;
            self.bub.d.next = false;
            if self.running.val() & self.prime.q.val().any() {
                self.prime.d.next = self.prime.q.val() - 1;
            }
        }
        if self.ce.val() & self.running.val() & !self.done.q.val() & !self.prime.q.val().any() & !self.bub.q.val() {
            self.bub.d.next = self.be.q.val() & self.xc1.q.val();
        }
        if self.issue.val() {
            if self.c_real.q.val() {
                self.bank_en.next = self.masks.bankmask.val();
            }
            self.a_valid.d.next = true;
            self.a_real.d.next = self.c_real.q.val();
            self.a_rot.d.next = bits::<16>(1) << self.r0.q.val();
            self.a_mask.d.next = self.masks.rowmask.val();
            self.a_bandfirst.d.next = !self.x.q.val().any();
            self.a_updend.d.next = self.upd.q.val() == self.nlast.val();
            for f in 0..self.fault_short.len() {
                if self.fault_short[f].val() {
                    self.a_updend.d.next = true;
                }
            }
            self.a_outrow.d.next = self.outrow.q.val();
            if self.upd.q.val().any() {
                self.a_ubase.d.next = self.ubase.q.val();
            } else {
                self.a_ubase.d.next = self.x.q.val();
                self.ubase.d.next = self.x.q.val();
            }
            if self.upd.q.val() == self.nlast.val() {
                self.upd.d.next = 0.into();
            } else {
                self.upd.d.next = self.upd.q.val() + 1;
            }
            self.x.d.next = self.x.q.val() + 1;
            if self.x.q.val() == self.c_off.q.val() {
                self.c_real.d.next = false;
            } else if self.x.q.val() == self.c_on.q.val() {
                self.c_real.d.next = true;
            }
            self.be.d.next = self.x.q.val() + 1 == self.xlast.q.val();
            if self.be.q.val() {
                // Next row band.
                self.x.d.next = 0.into();
                self.c_real.d.next = self.c_real0.q.val();
                self.be.d.next = self.xc1.q.val();
                self.outrow.d.next = self.outrow.q.val() + bit_cast::<32, 16>(self.geom.val().wo);
                if self.ylast.q.val() {
                    self.yo.d.next = 0.into();
                    self.r0.d.next = 0.into();
                    if self.clast.q.val() {
                        self.done.d.next = true;
                    } else {
                        self.chan.d.next = self.chan.q.val() + 1;
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
        if self.go.val() {
            self.x.d.next = 0.into();
            self.c_real.d.next = !self.geom.val().pw.any() & self.geom.val().w.any();
            self.upd.d.next = 0.into();
            self.done.d.next = false;
            self.chan.d.next = 0.into();
            self.yo.d.next = 0.into();
            self.r0.d.next = 0.into();
            self.prime.d.next = 3.into();
            self.bub.d.next = false;
            self.be.d.next = self.geom.val().xcols == 1;
            self.outrow.d.next = 0.into();
            self.a_valid.d.next = false;
        }
    }
}

crate::clocked!(BandReader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::band_masks_model;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// What one read should be, from the band order and the bank layout of docs/pooling.md:
    /// (padded column, bank enables, address lo / hi, thermometer, one-hot first bank, row mask,
    /// band first, update end, update base, output row base).
    type Read = (u64, u64, u64, u64, u64, u64, u64, bool, bool, u64, u64);

    /// Random geometries run under a random clock enable: the reads come out channel by channel,
    /// band by band, column by column, each with the masks, addresses and update bookkeeping of
    /// the model, and `reads_done` rises after the last.
    #[test]
    fn reads_follow_the_band_order_and_layout() {
        let mut rng = Rng::from_env("band-reader", 17);
        for _ in 0..12 {
            let (k, n) = (1 + rng.below(4), 1 + rng.below(3));
            let mut h = Harness::new(BandReader::new(k as usize, n as usize, false, false)).unwrap();
            let (kh, sh) = (1 + rng.below(k), 1 + rng.below(k));
            let (ph, pw) = (rng.below(kh), rng.below(2));
            let (w, hh, ch) = (1 + rng.below(6), kh + rng.below(6), 1 + rng.below(2));
            let ho = (hh + 2 * ph - kh) / sh + 1;
            let wo = 1 + rng.below(4);
            let xcols = (w + 2 * pw).div_ceil(n) * n;
            let hb = (hh + 2 * ph).div_ceil(k);
            let mut want: Vec<Read> = vec![];
            for c in 0..ch {
                for yo in 0..ho {
                    let (rows, banks, thermo) = band_masks_model(k, hh, ph, kh, sh, yo);
                    let lo_row = c * hb + yo * sh / k;
                    for x in 0..xcols {
                        let real = x >= pw && x < w + pw;
                        let lo = (lo_row * w + x).wrapping_sub(pw) & 0xFFFF;
                        let en = if real { banks } else { 0 };
                        let (upd_end, ubase) = (x % n == n - 1, x - x % n);
                        want.push((x, en, lo, (lo + w) & 0xFFFF, thermo, 1 << (yo * sh % k), rows, x == 0, upd_end, ubase, (c * ho + yo) * wo));
                    }
                }
            }
            let b = |v: u64| Bits::<16>::from(v);
            h.uut.geom.next = BandGeometry {
                c: b(ch), h: b(hh), w: b(w), ho: b(ho), wo: b(wo), kh: b(kh), sh: b(sh), ph: b(ph), pw: b(pw), hbw: b(hb * w), xcols: b(xcols),
            };
            h.step().unwrap();
            h.uut.go.next = true;
            h.uut.ce.next = true;
            h.step().unwrap();
            h.uut.go.next = false;
            h.uut.running.next = true;
            let ctx = format!("k {k} n {n} kh {kh} sh {sh} ph {ph} pw {pw} w {w} h {hh} c {ch}");
            let (mut got, mut pending): (Vec<Read>, Option<(u64, u64, u64, u64, u64)>) = (vec![], None);
            for _ in 0..20 * (want.len() + 10) {
                let ce = rng.below(3) > 0;
                h.uut.ce.next = ce;
                h.settle().unwrap();
                let u = &h.uut;
                let v = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
                if ce {
                    if let (true, Some((x, en, lo, hi, th))) = (u.rd_valid.val(), pending) {
                        let outrow = u.rd_outrow.val().index() as u64;
                        got.push((x, en, lo, hi, th, v(&u.rd_rot), v(&u.rd_mask), u.rd_bandfirst.val(), u.rd_updend.val(), v(&u.rd_ubase), outrow));
                    }
                    pending = Some((v(&u.rd_x), v(&u.bank_en), v(&u.addr_lo), v(&u.addr_hi), v(&u.thermo)));
                }
                if u.reads_done.val() && !u.rd_valid.val() {
                    break;
                }
                h.step().unwrap();
            }
            assert!(h.uut.reads_done.val(), "{ctx}: reads done");
            assert_eq!(got.len(), want.len(), "{ctx}: number of reads");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "{ctx}: read {i}");
            }
            h.uut.running.next = false;
        }
    }
}
