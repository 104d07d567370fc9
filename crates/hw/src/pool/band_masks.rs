//! # BandMasks: which rows of a row band are real and which banks hold them
//!
//! A row band is the k padded rows starting at row yo·sh of a channel (yo the output row). Band
//! row i is a row the window needs and the map has when i < kh and ph ≤ yo·sh + i < h + ph; the
//! *row mask* has those bits. Padded row ρ lives in bank ρ mod k, so band row i is in bank
//! (r0 + i) mod k with r0 = yo·sh mod k: the *bank mask* is the row mask rotated left by r0 within
//! k bits, and the *thermometer* marks the banks b < r0, whose rows lie one bank row further on.
//!
//! The masks are registers (timing: the read stage reads flip-flops, not a subtract, compare,
//! shift and rotate chain). A pointer names the band after the current one by thermometers of its
//! top padding rows (`lo`: bit i for i < ph − yo·sh) and of its rows above the map's end (`hi`:
//! bit i for i < min(h + ph − yo·sh, kh)), the rows left below its top (`rem`), and its first
//! bank; each steps by a subtraction. One free-running stage turns the pointer into masks, which
//! `take` moves into the current band's and steps the pointer (to the next channel's first band
//! after the last, `ho` bands). `load0` points it at band 0 of the layer (the parameters are held
//! from a run's start); masks are ready two enabled cycles later.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `load0`, `take` | in | 1 | point at band 0; current band := pointer, pointer steps |
//! | `p_h`, `p_ph`, `p_kh`, `p_sh`, `p_ho` | in | 16 | height, top padding, window height, stride, bands per channel |
//! | `rowmask`, `bankmask`, `thermo` | out | 16 | the current band's masks |

use rust_hdl::prelude::*;

/// The masks of a unit with k banks.
#[derive(LogicBlock)]
pub struct BandMasks {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Point at band 0.
    pub load0: Signal<In, Bit>,
    /// The current band takes the pointer's masks; the pointer steps.
    pub take: Signal<In, Bit>,
    /// Input height.
    pub p_h: Signal<In, Bits<16>>,
    /// Top padding.
    pub p_ph: Signal<In, Bits<16>>,
    /// Window height.
    pub p_kh: Signal<In, Bits<16>>,
    /// Vertical stride.
    pub p_sh: Signal<In, Bits<16>>,
    /// Output rows (bands per channel).
    pub p_ho: Signal<In, Bits<16>>,
    /// Real rows of the current band, in band order.
    pub rowmask: Signal<Out, Bits<16>>,
    /// Banks to read for the current band.
    pub bankmask: Signal<Out, Bits<16>>,
    /// Banks below the band's first bank (their row is one bank row further).
    pub thermo: Signal<Out, Bits<16>>,
    /// k.
    kconst: Constant<Bits<16>>,
    /// The pointer: band index, thermometers, rows left, first bank and k minus it (the
    /// rotation's right shift), and whether it names a channel's last band.
    index: DFF<Bits<16>>,
    lo: DFF<Bits<16>>,
    hi: DFF<Bits<16>>,
    rem: DFF<Bits<16>>,
    bank0: DFF<Bits<16>>,
    bank0_c: DFF<Bits<16>>,
    last: DFF<Bit>,
    /// `ho` − 2 (every clock): the pointer's next band is the last when its index equals it.
    ho_m2: DFF<Bits<16>>,
    /// Band 0's pointer values and the window-height mask, from the parameters (every clock).
    first_lo: DFF<Bits<16>>,
    first_rem: DFF<Bits<16>>,
    first_hi: DFF<Bits<16>>,
    khmask: DFF<Bits<16>>,
    /// The pointer's masks (every clock) and the current band's.
    next_rows: DFF<Bits<16>>,
    next_banks: DFF<Bits<16>>,
    next_thermo: DFF<Bits<16>>,
    rows: DFF<Bits<16>>,
    banks: DFF<Bits<16>>,
    thermo_r: DFF<Bits<16>>,
    /// The pointer's step: rows left, its thermometer, first bank before and after the wrap.
    rem1: Signal<Local, Bits<16>>,
    th_rem1: Signal<Local, Bits<16>>,
    bank0s: Signal<Local, Bits<16>>,
    bank01: Signal<Local, Bits<16>>,
    /// `sh − k` and `k − sh` (every clock), the first bank past the wrap (`bank0s − k`, whose
    /// sign says whether it wraps), and k minus the first bank both ways: the sums beside each
    /// other, one select after them (timing: a sum, a compare and two differences in a row were
    /// a critical path of accel_axi).
    shmk: DFF<Bits<16>>,
    kmsh: DFF<Bits<16>>,
    bank0w: Signal<Local, Bits<16>>,
    c_nowrap: Signal<Local, Bits<16>>,
    c_wrap: Signal<Local, Bits<16>>,
    bank0c1: Signal<Local, Bits<16>>,
    /// Thermometer of h + ph.
    th_first: Signal<Local, Bits<16>>,
    /// The pointer's row mask, combinational.
    rows_s: Signal<Local, Bits<16>>,
}

impl BandMasks {
    /// The masks of a unit with `k` banks.
    pub fn new(k: usize) -> Self {
        block_with_defaults!(BandMasks {
            kconst: Constant::new((k as u64).into()),
        } defaults {
            clock, load0, take, p_h, p_ph, p_kh, p_sh, p_ho, rowmask, bankmask, thermo, index, lo,
            hi, rem, bank0, bank0_c, last, ho_m2, first_lo, first_rem, first_hi, khmask, next_rows,
            next_banks, next_thermo, rows, banks, thermo_r, rem1, th_rem1, bank0s, bank01, shmk, kmsh, bank0w, c_nowrap, c_wrap, bank0c1, th_first,
            rows_s,
        })
    }
}

impl Logic for BandMasks {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, index, lo, hi, rem, bank0, bank0_c, shmk, kmsh, last, ho_m2, first_lo, first_rem,
            first_hi, khmask, next_rows, next_banks, next_thermo, rows, banks, thermo_r
        );
        self.rowmask.next = self.rows.q.val();
        self.bankmask.next = self.banks.q.val();
        self.thermo.next = self.thermo_r.q.val();
        // Band 0 from the parameters. A thermometer !(0xFFFF << x), bit i set for i < x, is taken
        // only of values up to 16 (window sizes, or clamped first): a decoder, no carry chain.
        self.khmask.d.next = !(bits::<16>(0xFFFF) << self.p_kh.val());
        if self.p_ph.val() < 16 {
            self.first_lo.d.next = !(bits::<16>(0xFFFF) << self.p_ph.val());
        } else {
            self.first_lo.d.next = 0xFFFF.into();
        }
        self.first_rem.d.next = self.p_h.val() + self.p_ph.val();
        if self.p_h.val() + self.p_ph.val() < 16 {
            self.th_first.next = !(bits::<16>(0xFFFF) << (self.p_h.val() + self.p_ph.val()));
        } else {
            self.th_first.next = 0xFFFF.into();
        }
        self.first_hi.d.next = self.th_first.val() & !(bits::<16>(0xFFFF) << self.p_kh.val());
        self.ho_m2.d.next = self.p_ho.val() - 2;
        // The pointer's masks: rotate left by its first bank within k bits.
        self.rows_s.next = self.hi.q.val() & !self.lo.q.val();
        self.next_rows.d.next = self.rows_s.val();
        self.next_banks.d.next = ((self.rows_s.val() << self.bank0.q.val()) | (self.rows_s.val() >> self.bank0_c.q.val()))
            & ((bits::<16>(1) << self.kconst.val()) - 1);
        self.next_thermo.d.next = !(bits::<16>(0xFFFF) << self.bank0.q.val());
        // The pointer's step: sh rows down.
        self.rem1.next = self.rem.q.val() - self.p_sh.val();
        if !self.rem1.val().get_bits::<12>(4).any() {
            self.th_rem1.next = !(bits::<16>(0xFFFF) << self.rem1.val());
        } else {
            self.th_rem1.next = 0xFFFF.into();
        }
        self.shmk.d.next = self.p_sh.val() - self.kconst.val();
        self.kmsh.d.next = self.kconst.val() - self.p_sh.val();
        self.bank0s.next = self.bank0.q.val() + self.p_sh.val();
        self.bank0w.next = self.bank0.q.val() + self.shmk.q.val();
        self.c_nowrap.next = self.bank0_c.q.val() - self.p_sh.val();
        self.c_wrap.next = self.bank0_c.q.val() + self.kmsh.q.val();
        // (bank0 < k and sh ≤ 16: the sums are small, their sign bit is their sign.)
        if self.bank0w.val().get_bit(15) {
            self.bank01.next = self.bank0s.val();
            self.bank0c1.next = self.c_nowrap.val();
        } else {
            self.bank01.next = self.bank0w.val();
            self.bank0c1.next = self.c_wrap.val();
        }
        if self.take.val() {
            self.rows.d.next = self.next_rows.q.val();
            self.banks.d.next = self.next_banks.q.val();
            self.thermo_r.d.next = self.next_thermo.q.val();
        }
        if self.take.val() & !self.last.q.val() {
            self.index.d.next = self.index.q.val() + 1;
            // The next index is index + 1: the last band when index = ho − 2.
            self.last.d.next = self.index.q.val() == self.ho_m2.q.val();
            self.lo.d.next = self.lo.q.val() >> self.p_sh.val();
            self.rem.d.next = self.rem1.val();
            self.hi.d.next = self.th_rem1.val() & self.khmask.q.val();
            self.bank0.d.next = self.bank01.val();
            self.bank0_c.d.next = self.bank0c1.val();
        }
        if self.load0.val() | (self.take.val() & self.last.q.val()) {
            self.index.d.next = 0.into();
            self.last.d.next = self.p_ho.val() == 1;
            self.lo.d.next = self.first_lo.q.val();
            self.rem.d.next = self.first_rem.q.val();
            self.hi.d.next = self.first_hi.q.val();
            self.bank0.d.next = 0.into();
            self.bank0_c.d.next = self.kconst.val();
        }
    }
}

crate::clocked!(BandMasks);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::band_masks_model as model;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random geometries, bands taken with random gaps over two channels: each band's masks
    /// equal the model's.
    #[test]
    fn masks_follow_the_band_definition() {
        let mut rng = Rng::from_env("band-masks", 9);
        for _ in 0..40 {
            let k = 1 + rng.below(6);
            let mut h = Harness::new(BandMasks::new(k as usize)).unwrap();
            let (kh, sh) = (1 + rng.below(k), 1 + rng.below(k));
            let ph = rng.below(kh);
            let hh = kh.saturating_sub(2 * ph).max(1) + rng.below(12);
            let ho = (hh + 2 * ph - kh) / sh + 1;
            for (s, v) in [(&mut h.uut.p_h, hh), (&mut h.uut.p_ph, ph), (&mut h.uut.p_kh, kh), (&mut h.uut.p_sh, sh), (&mut h.uut.p_ho, ho)] {
                s.next = v.into();
            }
            h.step().unwrap();
            h.uut.load0.next = true;
            h.step().unwrap();
            h.uut.load0.next = false;
            h.step().unwrap();
            let ctx = format!("k {k} h {hh} ph {ph} kh {kh} sh {sh}");
            for band in 0..2 * ho {
                h.uut.take.next = true;
                h.step().unwrap();
                h.uut.take.next = false;
                let (rows, banks, thermo) = model(k, hh, ph, kh, sh, band % ho);
                let got = |s: &Signal<Out, Bits<16>>| s.val();
                assert_eq!(got(&h.uut.rowmask), bits::<16>(rows), "{ctx}: band {band} rows");
                assert_eq!(got(&h.uut.bankmask), bits::<16>(banks), "{ctx}: band {band} banks");
                assert_eq!(got(&h.uut.thermo), bits::<16>(thermo), "{ctx}: band {band} thermometer");
                for _ in 0..1 + rng.below(3) {
                    h.step().unwrap();
                }
            }
        }
    }
}
