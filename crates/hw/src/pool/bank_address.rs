//! # BankAddress: the feature-memory read addresses of the pooling unit's read cursor
//!
//! Channel c's padded row ρ, column x is entry (c·hb + ⌊ρ / k⌋)·W + x of bank ρ mod k, with
//! hb·W = `p_hbw` entries per channel (`docs/pooling.md`). A row band starts at bank row
//! `bandaddr` (an entry, a multiple of W); padded column x of it is entry `bandaddr + x − pw` in
//! the banks at or after the band's first bank (`addr_lo`) and W more in the banks before it,
//! whose rows lie one bank row further (`addr_hi`). Both step by one with each read.
//!
//! At a band's end the next band starts at the next channel's base (`ylast`: this was the
//! channel's last band), one bank row further (`r0wrap`: its first row wraps past bank k − 1), or
//! where this one does. The three candidates are registered every clock (timing: their inputs
//! change only at a band change, and the next is at least two clocks later), so the step is a
//! multiplexer.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `go` | in | 1 | a run starts: band 0 of channel 0 |
//! | `step`, `band_end` | in | 1 | a read was issued; it was the band's last |
//! | `ylast`, `r0wrap` | in | 1 | the band is its channel's last; the next band's first row wraps |
//! | `rd_x` | in | 16 | the padded column read (a port only with the `RereadColumn` fault built in) |
//! | `p_w`, `p_pw`, `p_hbw` | in | 16 | width, left padding, entries per channel |
//! | `addr_lo`, `addr_hi` | out | 16 | the entry to read in the banks at / before the band's first bank |

use crate::pool::fault_if;
use rust_hdl::prelude::*;

/// The read addresses.
#[derive(LogicBlock)]
pub struct BankAddress {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub go: Signal<In, Bit>,
    /// A read was issued.
    pub step: Signal<In, Bit>,
    /// The read ended its band.
    pub band_end: Signal<In, Bit>,
    /// The band is its channel's last.
    pub ylast: Signal<In, Bit>,
    /// The next band's first row is in the next bank row.
    pub r0wrap: Signal<In, Bit>,
    /// Padded column read: one port when the `RereadColumn` fault is built in (its addresses
    /// depend on it), none otherwise.
    pub rd_x: Vec<Signal<In, Bits<16>>>,
    /// Input width.
    pub p_w: Signal<In, Bits<16>>,
    /// Left padding.
    pub p_pw: Signal<In, Bits<16>>,
    /// Bank entries per channel.
    pub p_hbw: Signal<In, Bits<16>>,
    /// Entry in the banks at or after the band's first bank.
    pub addr_lo: Signal<Out, Bits<16>>,
    /// Entry in the banks before it.
    pub addr_hi: Signal<Out, Bits<16>>,
    /// The band's bank row and its channel's base.
    bandaddr: DFF<Bits<16>>,
    chanbase: DFF<Bits<16>>,
    ra_lo: DFF<Bits<16>>,
    ra_hi: DFF<Bits<16>>,
    /// The next band's bank row and addresses: next channel, next bank row, same bank row.
    nb_chan: DFF<Bits<16>>,
    nb_row: DFF<Bits<16>>,
    na_chan_lo: DFF<Bits<16>>,
    na_chan_hi: DFF<Bits<16>>,
    na_row_lo: DFF<Bits<16>>,
    na_row_hi: DFF<Bits<16>>,
    na_same_lo: DFF<Bits<16>>,
    /// Built-in fault (tests only): addresses ignore the column's low bit.
    fault_reread: Vec<Constant<Bit>>,
}

impl BankAddress {
    /// The addresses, with the `RereadColumn` fault built in when `fault_reread`.
    pub fn new(fault_reread: bool) -> Self {
        block_with_defaults!(BankAddress {
            rd_x: crate::vec_of(usize::from(fault_reread)),
            fault_reread: fault_if(fault_reread),
        } defaults {
            clock, go, step, band_end, ylast, r0wrap, p_w, p_pw, p_hbw, addr_lo, addr_hi,
            bandaddr, chanbase, ra_lo, ra_hi, nb_chan, nb_row, na_chan_lo, na_chan_hi, na_row_lo,
            na_row_hi, na_same_lo,
        })
    }
}

impl Logic for BankAddress {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, bandaddr, chanbase, ra_lo, ra_hi, nb_chan, nb_row, na_chan_lo, na_chan_hi,
            na_row_lo, na_row_hi, na_same_lo
        );
        self.addr_lo.next = self.ra_lo.q.val();
        self.addr_hi.next = self.ra_hi.q.val();
        for f in 0..self.fault_reread.len() {
            if self.fault_reread[f].val() {
                self.addr_lo.next = self.bandaddr.q.val() + (self.rd_x[f].val() & 0xFFFE) - self.p_pw.val();
                self.addr_hi.next = self.bandaddr.q.val() + (self.rd_x[f].val() & 0xFFFE) - self.p_pw.val();
            }
        }
        self.nb_chan.d.next = self.chanbase.q.val() + self.p_hbw.val();
        self.nb_row.d.next = self.bandaddr.q.val() + self.p_w.val();
        self.na_chan_lo.d.next = self.chanbase.q.val() + self.p_hbw.val() - self.p_pw.val();
        self.na_chan_hi.d.next = self.chanbase.q.val() + self.p_hbw.val() + self.p_w.val() - self.p_pw.val();
        self.na_row_lo.d.next = self.bandaddr.q.val() + self.p_w.val() - self.p_pw.val();
        self.na_row_hi.d.next = self.bandaddr.q.val() + self.p_w.val() + self.p_w.val() - self.p_pw.val();
        self.na_same_lo.d.next = self.bandaddr.q.val() - self.p_pw.val();
        if self.step.val() {
            self.ra_lo.d.next = self.ra_lo.q.val() + 1;
            self.ra_hi.d.next = self.ra_hi.q.val() + 1;
        }
        if self.step.val() & self.band_end.val() {
            if self.ylast.val() {
                self.bandaddr.d.next = self.nb_chan.q.val();
                self.chanbase.d.next = self.nb_chan.q.val();
                self.ra_lo.d.next = self.na_chan_lo.q.val();
                self.ra_hi.d.next = self.na_chan_hi.q.val();
            } else if self.r0wrap.val() {
                self.bandaddr.d.next = self.nb_row.q.val();
                self.ra_lo.d.next = self.na_row_lo.q.val();
                self.ra_hi.d.next = self.na_row_hi.q.val();
            } else {
                self.ra_lo.d.next = self.na_same_lo.q.val();
                // The same bank row: the next row's base is this band's `na_row_lo`.
                self.ra_hi.d.next = self.na_row_lo.q.val();
            }
        }
        if self.go.val() {
            self.bandaddr.d.next = 0.into();
            self.chanbase.d.next = 0.into();
            self.ra_lo.d.next = bits::<16>(0) - self.p_pw.val();
            self.ra_hi.d.next = self.p_w.val() - self.p_pw.val();
        }
    }
}

crate::clocked!(BankAddress);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random maps walked band by band (random idle cycles between reads, at least one after a
    /// band's end): every read's two
    /// addresses equal the layout formula (c·hb + ⌊ρ / k⌋)·W + x for the band's first row ρ0 and
    /// for ρ0 + k − (ρ0 mod k), the first row in the banks before the band's first bank.
    #[test]
    fn addresses_follow_the_bank_layout() {
        let mut rng = Rng::from_env("bank-address", 21);
        let mut h = Harness::new(BankAddress::new(false)).unwrap();
        for _ in 0..20 {
            let (k, sh) = (1 + rng.below(5), 1 + rng.below(3));
            let sh = sh.min(k);
            let (w, pw, ho, ch) = (1 + rng.below(9), rng.below(3), 1 + rng.below(5), 1 + rng.below(3));
            let hb = ((ho - 1) * sh + k).div_ceil(k) + 1;
            for (s, v) in [(&mut h.uut.p_w, w), (&mut h.uut.p_pw, pw), (&mut h.uut.p_hbw, hb * w)] {
                s.next = v.into();
            }
            h.uut.go.next = true;
            h.step().unwrap();
            h.uut.go.next = false;
            let xcols = w + 2 * pw;
            for c in 0..ch {
                for yo in 0..ho {
                    let rho0 = yo * sh;
                    let lo_row = c * hb + rho0 / k;
                    for x in 0..xcols {
                        h.uut.step.next = false;
                        for _ in 0..rng.below(3) {
                            h.step().unwrap();
                        }
                        h.settle().unwrap();
                        let want_lo = (lo_row * w + x).wrapping_sub(pw) & 0xFFFF;
                        let want_hi = ((lo_row + 1) * w + x).wrapping_sub(pw) & 0xFFFF;
                        let ctx = format!("k {k} sh {sh} w {w} pw {pw}: c {c} yo {yo} x {x}");
                        assert_eq!(h.uut.addr_lo.val(), bits::<16>(want_lo), "{ctx}");
                        assert_eq!(h.uut.addr_hi.val(), bits::<16>(want_hi), "{ctx}");
                        h.uut.step.next = true;
                        h.uut.band_end.next = x + 1 == xcols;
                        h.uut.ylast.next = yo + 1 == ho;
                        h.uut.r0wrap.next = (rho0 % k) + sh >= k;
                        h.step().unwrap();
                        if x + 1 == xcols {
                            // The next band's addresses register a clock after a band change
                            // (the reader never ends two bands on consecutive clocks).
                            h.uut.step.next = false;
                            h.step().unwrap();
                        }
                    }
                }
            }
            h.uut.step.next = false;
        }
    }
}
