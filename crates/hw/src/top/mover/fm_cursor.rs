//! # FmCursor: the data mover's feature-memory write cursor
//!
//! Names the feature-memory place of each word a load of target 3 or a copy writes: along a
//! row of the map (x = 0..W), then the next padded row, whose bank is the next of k (after the
//! last bank, bank 0 and the next entry row); a chunk (channel) ends and the next starts at row
//! ρ = ph of its padded map, `hb·W` entries further (docs/isa.md, `MEM_LOAD` target 3).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a transfer starts: latch `s_*`, the cursor at row ph of channel 0 |
//! | `s_fw`, `s_hbw` | in | 16 | map width W, channel size hb·W |
//! | `s_fph` | in | 2 | top padding ph (0..=3) |
//! | `s_fm` | in | 1 | the transfer writes the feature memory (latch the channel start) |
//! | `step` | in | 1 | the word at the cursor was written: step to the next |
//! | `chunk_end` | in | 1 | that word ended its chunk: step to the next channel's start |
//! | `s_wd` | in | 1 | word steps: each step is a bus word of L elements (a copy at the bus width, W ≥ L) |
//! | `addr` | out | 20 | entry of the word at the cursor (channel base + row + x) |
//! | `bank` | out | 64 | one-hot bank of the word at the cursor |
//! | `n_a` | out | 4 | elements of the word on the cursor's row: min(W − x, L) in word steps, else 1 |
//! | `bank_b`, `addr_b` | out | 16, 20 | the next padded row's bank and first entry (x = 0): where the word's other L − `n_a` elements go |
//!
//! In word steps the cursor moves L elements along the row; a word that crosses the row's end
//! puts its first W − x elements on this row and the rest at the start of the next (W ≥ L, so a
//! word touches at most two rows), and the cursor continues there at x = L − (W − x).
//!
//! Registers only; `addr` and `bank` are combinational from them. `start` and `step` are never
//! high together (the mover steps only while busy and starts only while idle).

use rust_hdl::prelude::*;

/// The feature-memory cursor of a mover with `banks` feature-memory banks.
#[derive(LogicBlock)]
pub struct FmCursor {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A transfer starts.
    pub start: Signal<In, Bit>,
    /// Map width W.
    pub s_fw: Signal<In, Bits<16>>,
    /// hb·W.
    pub s_hbw: Signal<In, Bits<16>>,
    /// Top padding ph.
    pub s_fph: Signal<In, Bits<2>>,
    /// The transfer writes the feature memory.
    pub s_fm: Signal<In, Bit>,
    /// Step past the word at the cursor.
    pub step: Signal<In, Bit>,
    /// The word stepped past ends its chunk.
    pub chunk_end: Signal<In, Bit>,
    /// Entry of the word at the cursor.
    pub addr: Signal<Out, Bits<20>>,
    /// One-hot bank of the word at the cursor.
    pub bank: Signal<Out, Bits<64>>,
    /// Word steps (latched at `start`).
    pub s_wd: Signal<In, Bit>,
    /// Elements of the word on the cursor's row.
    pub n_a: Signal<Out, Bits<4>>,
    /// The next padded row's bank and first entry.
    pub bank_b: Signal<Out, Bits<16>>,
    pub addr_b: Signal<Out, Bits<20>>,
    /// L (16 and 4 bits).
    lw: Constant<Bits<16>>,
    lw4: Constant<Bits<4>>,
    /// Word steps; W − x, and whether it is more than L, exactly L (registered with it).
    wd: DFF<Bit>,
    rem: DFF<Bits<16>>,
    rem_gt: DFF<Bit>,
    rem_eq: DFF<Bit>,
    rem_n: Signal<Local, Bits<16>>,
    /// The next padded row: bank and entry row.
    nb_bank: Signal<Local, Bits<64>>,
    nb_row: Signal<Local, Bits<16>>,
    /// One-hot last bank.
    last_k: Constant<Bits<64>>,
    /// For ph = 0..=3: the one-hot bank of row ph (16 bits each) and ph div k (2 bits each).
    ph_bank: Constant<Bits<64>>,
    ph_rows: Constant<Bits<8>>,
    /// W and hb·W of the transfer.
    fw: DFF<Bits<16>>,
    hbw: DFF<Bits<16>>,
    /// The cursor: x, whether x is the row's last (x + 1 = W, registered with x: no compare in
    /// front of the row step), one-hot bank, channel base, entry row.
    x: DFF<Bits<16>>,
    x_last: DFF<Bit>,
    bank_r: DFF<Bits<64>>,
    base: DFF<Bits<16>>,
    row: DFF<Bits<16>>,
    /// A channel's first word: bank and entry row of row ph.
    ch_bank: DFF<Bits<64>>,
    ch_row: DFF<Bits<16>>,
    /// At start: bank of row ph, ph div k, and (ph div k)·W.
    ph_bank_sel: Signal<Local, Bits<16>>,
    ph_rows_sel: Signal<Local, Bits<2>>,
    row0: Signal<Local, Bits<16>>,
}

impl FmCursor {
    /// A cursor over `banks` feature-memory banks (1..=16) for words of `lanes` elements (L).
    pub fn new(banks: usize, lanes: usize) -> Self {
        assert!((1..=16).contains(&banks), "feature-memory cursor for {banks} banks: allowed 1..=16");
        let mut bank0 = 0u64;
        let mut rows0 = 0u64;
        for ph in 0..4 {
            bank0 |= (1u64 << (ph % banks)) << (16 * ph);
            rows0 |= ((ph / banks) as u64) << (2 * ph);
        }
        block_with_defaults!(FmCursor {
            last_k: Constant::new((1u64 << (banks - 1)).into()),
            ph_bank: Constant::new(bank0.into()),
            ph_rows: Constant::new(rows0.into()),
            lw: Constant::new((lanes as u64).into()),
            lw4: Constant::new((lanes as u64).into()),
        } defaults {
            clock, start, s_fw, s_hbw, s_fph, s_fm, step, chunk_end, addr, bank, fw, hbw, x, x_last,
            s_wd, n_a, bank_b, addr_b, wd, rem, rem_gt, rem_eq, rem_n, nb_bank, nb_row,
            bank_r, base, row, ch_bank, ch_row, ph_bank_sel, ph_rows_sel, row0,
        })
    }
}

impl Logic for FmCursor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, fw, hbw, x, x_last, bank_r, base, row, ch_bank, ch_row, wd, rem, rem_gt, rem_eq);
        self.bank.next = self.bank_r.q.val();
        self.addr.next = bit_cast::<20, 16>(self.base.q.val())
            + bit_cast::<20, 16>(self.row.q.val())
            + bit_cast::<20, 16>(self.x.q.val());
        // The next padded row (the bank after this one; after the last bank, bank 0 one entry
        // row further).
        self.nb_bank.next = self.bank_r.q.val() << 1;
        self.nb_row.next = self.row.q.val();
        if (self.bank_r.q.val() & self.last_k.val()).any() {
            self.nb_bank.next = 1.into();
            self.nb_row.next = self.row.q.val() + self.fw.q.val();
        }
        self.bank_b.next = self.nb_bank.val().get_bits::<16>(0);
        self.addr_b.next = bit_cast::<20, 16>(self.base.q.val()) + bit_cast::<20, 16>(self.nb_row.val());
        self.n_a.next = 1.into();
        if self.wd.q.val() {
            self.n_a.next = self.lw4.val();
            if !self.rem_gt.q.val() & !self.rem_eq.q.val() {
                self.n_a.next = self.rem.q.val().get_bits::<4>(0);
            }
        }
        self.rem_n.next = self.rem.q.val();
        if self.step.val() & self.wd.q.val() {
            if self.chunk_end.val() {
                self.x.d.next = 0.into();
                self.rem_n.next = self.fw.q.val();
                self.bank_r.d.next = self.ch_bank.q.val();
                self.row.d.next = self.ch_row.q.val();
                self.base.d.next = self.base.q.val() + self.hbw.q.val();
            } else if self.rem_gt.q.val() {
                self.x.d.next = self.x.q.val() + self.lw.val();
                self.rem_n.next = self.rem.q.val() - self.lw.val();
            } else {
                // The word ends this row (rem = L) or crosses into the next (rem < L).
                self.bank_r.d.next = self.nb_bank.val();
                self.row.d.next = self.nb_row.val();
                self.x.d.next = self.lw.val() - self.rem.q.val();
                self.rem_n.next = self.fw.q.val() + self.rem.q.val() - self.lw.val();
            }
        } else if self.step.val() {
            if self.chunk_end.val() {
                self.x.d.next = 0.into();
                self.x_last.d.next = self.fw.q.val() == 1;
                self.bank_r.d.next = self.ch_bank.q.val();
                self.row.d.next = self.ch_row.q.val();
                self.base.d.next = self.base.q.val() + self.hbw.q.val();
            } else if self.x_last.q.val() {
                self.x.d.next = 0.into();
                self.x_last.d.next = self.fw.q.val() == 1;
                self.bank_r.d.next = self.nb_bank.val();
                self.row.d.next = self.nb_row.val();
            } else {
                self.x.d.next = self.x.q.val() + 1;
                self.x_last.d.next = self.x.q.val() + 2 == self.fw.q.val();
            }
        }
        // Row ph of the padded map: bank ph mod k, entry (ph div k)·W (table entry ph, selected
        // with constant compares: rust-hdl has no variable part-select).
        self.ph_bank_sel.next = self.ph_bank.val().get_bits::<16>(0);
        self.ph_rows_sel.next = self.ph_rows.val().get_bits::<2>(0);
        if self.s_fph.val() == 1 {
            self.ph_bank_sel.next = self.ph_bank.val().get_bits::<16>(16);
            self.ph_rows_sel.next = self.ph_rows.val().get_bits::<2>(2);
        } else if self.s_fph.val() == 2 {
            self.ph_bank_sel.next = self.ph_bank.val().get_bits::<16>(32);
            self.ph_rows_sel.next = self.ph_rows.val().get_bits::<2>(4);
        } else if self.s_fph.val() == 3 {
            self.ph_bank_sel.next = self.ph_bank.val().get_bits::<16>(48);
            self.ph_rows_sel.next = self.ph_rows.val().get_bits::<2>(6);
        }
        self.row0.next = 0.into();
        if self.ph_rows_sel.val() == 1 {
            self.row0.next = self.s_fw.val();
        } else if self.ph_rows_sel.val() == 2 {
            self.row0.next = self.s_fw.val() << 1;
        } else if self.ph_rows_sel.val() == 3 {
            self.row0.next = (self.s_fw.val() << 1) + self.s_fw.val();
        }
        if self.start.val() {
            self.wd.d.next = self.s_wd.val();
            self.rem_n.next = self.s_fw.val();
            self.fw.d.next = self.s_fw.val();
            self.hbw.d.next = self.s_hbw.val();
            self.x.d.next = 0.into();
            self.x_last.d.next = self.s_fw.val() == 1;
            self.base.d.next = 0.into();
            self.bank_r.d.next = bit_cast::<64, 16>(self.ph_bank_sel.val());
            self.row.d.next = self.row0.val();
            if self.s_fm.val() {
                self.ch_bank.d.next = bit_cast::<64, 16>(self.ph_bank_sel.val());
                self.ch_row.d.next = self.row0.val();
            }
        }
        self.rem.d.next = self.rem_n.val();
        self.rem_gt.d.next = self.rem_n.val() > self.lw.val();
        self.rem_eq.d.next = self.rem_n.val() == self.lw.val();
    }
}

crate::clocked!(FmCursor);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// The place of word i of a feature-memory transfer, from the layout formula of docs/isa.md
    /// (row ρ = o div W + ph of chunk n: bank ρ mod k, entry n·hb·W + (ρ div k)·W + o mod W).
    fn place(i: usize, len: usize, w: usize, hb: usize, ph: usize, k: usize) -> (usize, usize) {
        let (n, o) = (i / len, i % len);
        let rho = o / w + ph;
        (rho % k, n * hb * w + (rho / k) * w + o % w)
    }

    /// Starts a feature-memory transfer on a map `w` wide, `hb` entry rows a channel, top padding
    /// `ph`, in word steps or not.
    fn begin(h: &mut crate::sim::Harness<FmCursor>, w: usize, hb: usize, ph: usize, words: bool) {
        let u = &mut h.uut;
        u.start.next = true;
        u.s_wd.next = words;
        u.s_fw.next = (w as u64).into();
        u.s_hbw.next = ((hb * w) as u64).into();
        u.s_fph.next = (ph as u64).into();
        u.s_fm.next = true;
        u.step.next = false;
        h.step().unwrap();
        h.uut.start.next = false;
    }

    /// Random geometries, stepped with random idle cycles: every word's bank and entry equal the
    /// layout formula.
    #[test]
    fn every_word_lands_where_the_layout_formula_puts_it() {
        let mut rng = Rng::from_env("fm-cursor", 11);
        for k in [1usize, 2, 3, 4, 5] {
            let mut h = crate::sim::Harness::new(FmCursor::new(k, 4)).unwrap();
            for _ in 0..6 {
                let w = 1 + rng.below(7) as usize;
                let ph = rng.below(4) as usize;
                let rows = 1 + rng.below(4) as usize;
                let hb = (rows + ph).div_ceil(k) + rng.below(2) as usize;
                let len = rows * w;
                let words = len * (1 + rng.below(3) as usize);
                begin(&mut h, w, hb, ph, false);
                let mut i = 0;
                while i < words {
                    let step = rng.below(3) != 0;
                    h.uut.step.next = step;
                    h.uut.chunk_end.next = (i + 1) % len == 0;
                    h.settle().unwrap();
                    let (bank, entry) = place(i, len, w, hb, ph, k);
                    let ctx = format!("k {k}, W {w}, ph {ph}, hb {hb}, word {i}");
                    assert_eq!(h.uut.bank.val(), Bits::<64>::from(1u64 << bank), "{ctx}");
                    assert_eq!(h.uut.addr.val().index(), entry, "{ctx}");
                    h.step().unwrap();
                    i += usize::from(step);
                }
            }
        }
    }

    /// Word steps: random geometries (W ≥ L, chunks of whole words), stepped with random idle
    /// cycles. Each element of word i lands where the layout formula puts element L·i + j: the
    /// first `n_a` at `addr` + j of `bank`, the rest at `addr_b` + j − `n_a` of `bank_b`.
    #[test]
    fn word_steps_split_each_word_at_its_row_end() {
        let mut rng = Rng::from_env("fm-cursor-words", 12);
        let mut crossing = 0;
        for (k, l) in [(1usize, 4usize), (2, 8), (3, 8), (3, 4), (4, 2), (5, 8)] {
            let mut h = crate::sim::Harness::new(FmCursor::new(k, l)).unwrap();
            for _ in 0..8 {
                let w = l + rng.below(2 * l as u64) as usize;
                let ph = rng.below(4) as usize;
                // Chunks of whole rows and whole words.
                let r0 = (1..=l).find(|r| (r * w) % l == 0).unwrap();
                let rows = r0 * (1 + rng.below(2) as usize);
                let hb = (rows + ph).div_ceil(k) + rng.below(2) as usize;
                let len = rows * w;
                assert_eq!(len % l, 0);
                let chunks = 1 + rng.below(3) as usize;
                begin(&mut h, w, hb, ph, true);
                let mut i = 0;
                while i < len * chunks / l {
                    let step = rng.below(3) != 0;
                    h.uut.step.next = step;
                    h.uut.chunk_end.next = ((i + 1) * l) % len == 0;
                    h.settle().unwrap();
                    let u = &h.uut;
                    let n_a = u.n_a.val().index();
                    let ctx = format!("k {k}, L {l}, W {w}, ph {ph}, hb {hb}, word {i}, n_a {n_a}");
                    assert!((1..=l).contains(&n_a), "{ctx}");
                    crossing += usize::from(n_a < l);
                    for j in 0..l {
                        let (bank, entry) = place(i * l + j, len, w, hb, ph, k);
                        let (b, a) = if j < n_a { (u.bank.val(), u.addr.val().index() + j) } else { (bit_cast::<64, 16>(u.bank_b.val()), u.addr_b.val().index() + j - n_a) };
                        assert_eq!((b, a), (Bits::<64>::from(1u64 << bank), entry), "{ctx}, element {j}");
                    }
                    h.step().unwrap();
                    i += usize::from(step);
                }
            }
        }
        assert!(crossing > 50, "words across a row end: {crossing}");
    }
}
