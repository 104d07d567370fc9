//! # WriteStage: the data mover's registered on-chip write, with its bounds check
//!
//! A load's response word, or a copy's word read the cycle before, is registered with its place
//! and written the next cycle. The entry is checked against its place's depth in this stage
//! (timing: the address sums end in a register, the compare starts from one); a write past its
//! place is dropped and raises `fault` for that cycle.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `load` | in | 1 | register a load's word: `l_data` at `l_addr` (full entry) of target `l_sel`, bank `l_bank`, in a place `l_depth` deep |
//! | `l_wide`, `l_word` | in | 1, W | the load writes a whole bus word, byte c into bank c of the banks `l_bank` sets (a weight load in word steps) |
//! | `copy` | in | 1 | register a copy's word: this cycle's `r_data` (read the cycle before) at feature-memory entry `c_addr`, bank `c_bank` |
//! | `c_wide`, `c_n`, `c_bank_b`, `c_addr_b` | in | 1, 4, 16, 20 | the copy's word is a bus word (`r_word`): its first `c_n` elements at `c_addr` of `c_bank`, the other L − `c_n` at `c_addr_b` of `c_bank_b` (the next padded row) |
//! | `r_data`, `r_word` | in | 32, W | the on-chip read data (an element, a bus word) |
//! | `busy` | out | 1 | a write is registered |
//! | `fault` | out | 1 | the registered write is past its place (and is dropped) |
//! | `w_en`, `w_sel`, `w_bank`, `w_addr`, `w_data` | out | 1, 2, 64, 16, 32 | the on-chip write (`w_bank` one-hot, or a set of banks with `w_wide`) |
//! | `w_wide`, `w_word` | out | 1, W | the write is a whole bus word |
//! | `w_n`, `w_bank_b`, `w_addr_b` | out | 4, 16, 16 | a copy's bus word: elements on `w_bank`, the next row's bank and entry |
//!
//! A copy's bus word is checked at the last entry of each of its two runs.
//!
//! `load` and `copy` are never high together.

use rust_hdl::prelude::*;

/// The registered write of a data mover on W-bit words whose feature memory is `fm_depth`
/// entries deep.
#[derive(LogicBlock)]
pub struct WriteStage<const W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Register a load's word.
    pub load: Signal<In, Bit>,
    /// Its target.
    pub l_sel: Signal<In, Bits<2>>,
    /// Its one-hot bank.
    pub l_bank: Signal<In, Bits<64>>,
    /// Its entry.
    pub l_addr: Signal<In, Bits<20>>,
    /// Its place's depth.
    pub l_depth: Signal<In, Bits<20>>,
    /// Its word.
    pub l_data: Signal<In, Bits<32>>,
    /// It is a whole bus word.
    pub l_wide: Signal<In, Bit>,
    /// The bus word.
    pub l_word: Signal<In, Bits<W>>,
    /// Register a copy's word.
    pub copy: Signal<In, Bit>,
    /// Its feature-memory bank.
    pub c_bank: Signal<In, Bits<64>>,
    /// Its feature-memory entry.
    pub c_addr: Signal<In, Bits<20>>,
    /// The on-chip read data (a copy's word, with `copy`).
    pub r_data: Signal<In, Bits<32>>,
    /// The copy's word is a bus word: elements on `c_bank`, the next row's bank and entry.
    pub c_wide: Signal<In, Bit>,
    pub c_n: Signal<In, Bits<4>>,
    pub c_bank_b: Signal<In, Bits<16>>,
    pub c_addr_b: Signal<In, Bits<20>>,
    /// The on-chip read data as a bus word.
    pub r_word: Signal<In, Bits<W>>,
    /// A copy's bus word: elements on `w_bank`, the next row's bank and entry.
    pub w_n: Signal<Out, Bits<4>>,
    pub w_bank_b: Signal<Out, Bits<16>>,
    pub w_addr_b: Signal<Out, Bits<16>>,
    /// A write is registered.
    pub busy: Signal<Out, Bit>,
    /// The registered write is past its place.
    pub fault: Signal<Out, Bit>,
    /// On-chip write.
    pub w_en: Signal<Out, Bit>,
    /// Its target.
    pub w_sel: Signal<Out, Bits<2>>,
    /// Its one-hot bank.
    pub w_bank: Signal<Out, Bits<64>>,
    /// Its entry.
    pub w_addr: Signal<Out, Bits<16>>,
    /// Its word.
    pub w_data: Signal<Out, Bits<32>>,
    /// It is a whole bus word.
    pub w_wide: Signal<Out, Bit>,
    /// The bus word.
    pub w_word: Signal<Out, Bits<W>>,
    /// Feature-memory depth; L.
    d_fm: Constant<Bits<20>>,
    lw: Constant<Bits<20>>,
    /// 1 and L − 1 (4 bits).
    one4: Constant<Bits<4>>,
    lm1: Constant<Bits<4>>,
    /// n − 1 and L − 1 − n of the copy's word.
    na_m1: Signal<Local, Bits<4>>,
    nb_m1: Signal<Local, Bits<4>>,
    /// A copy's bus word: the elements on its first row, the second row's bank and entry, the
    /// last entry of each run (0 for a run that is not written), and the word (registered from
    /// the read data every cycle, as `data_cp`).
    n: DFF<Bits<4>>,
    bank_b: DFF<Bits<16>>,
    addr_b: DFF<Bits<20>>,
    last_a: DFF<Bits<20>>,
    last_b: DFF<Bits<20>>,
    word_cp: DFF<Bits<W>>,
    /// The registered write: valid, target, bank, full entry, depth of its place, load word.
    valid: DFF<Bit>,
    sel: DFF<Bits<2>>,
    bank: DFF<Bits<64>>,
    full: DFF<Bits<20>>,
    depth: DFF<Bits<20>>,
    data: DFF<Bits<32>>,
    wide: DFF<Bit>,
    word: DFF<Bits<W>>,
    /// A copy's word, registered from the read data every cycle, and whether the registered
    /// write is a copy (timing: the load/copy select is after the registers, so a block RAM's
    /// read data meets only its buffer select before a register).
    data_cp: DFF<Bits<32>>,
    is_cp: DFF<Bit>,
    /// The registered write is inside its place.
    in_place: Signal<Local, Bit>,
}

impl<const W: usize> WriteStage<W> {
    /// The stage of a mover whose feature memory is `fm_depth` entries deep.
    pub fn new(fm_depth: usize) -> Self {
        block_with_defaults!(WriteStage {
            d_fm: Constant::new((fm_depth as u64).into()),
            lw: Constant::new(((W / 8) as u64).into()),
            one4: Constant::new(1u64.into()),
            lm1: Constant::new(((W / 8 - 1) as u64).into()),
        } defaults {
            clock, load, l_sel, l_bank, l_addr, l_depth, l_data, l_wide, l_word, copy, c_bank, c_addr, r_data,
            c_wide, c_n, c_bank_b, c_addr_b, r_word, na_m1, nb_m1, w_n, w_bank_b, w_addr_b, n, bank_b, addr_b, last_a, last_b, word_cp,
            busy, fault, w_en, w_sel, w_bank, w_addr, w_data, w_wide, w_word, valid, sel, bank, full, depth, data, wide, word,
            data_cp, is_cp, in_place,
        })
    }
}

impl<const W: usize> Logic for WriteStage<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, valid, sel, bank, full, depth, data, wide, word, data_cp, is_cp, n, bank_b, addr_b, last_a, last_b, word_cp);
        self.valid.d.next = self.load.val() | self.copy.val();
        self.is_cp.d.next = self.copy.val();
        self.wide.d.next = (self.load.val() & self.l_wide.val()) | (self.copy.val() & self.c_wide.val());
        self.data_cp.d.next = self.r_data.val();
        self.na_m1.next = self.c_n.val() - self.one4.val();
        self.nb_m1.next = self.lm1.val() - self.c_n.val();
        self.word_cp.d.next = self.r_word.val();
        self.last_a.d.next = self.l_addr.val();
        self.last_b.d.next = 0.into();
        if self.load.val() {
            self.sel.d.next = self.l_sel.val();
            self.bank.d.next = self.l_bank.val();
            self.full.d.next = self.l_addr.val();
            self.depth.d.next = self.l_depth.val();
            self.data.d.next = self.l_data.val();
            self.word.d.next = self.l_word.val();
        }
        if self.copy.val() {
            self.sel.d.next = 3.into();
            self.bank.d.next = self.c_bank.val();
            self.full.d.next = self.c_addr.val();
            self.depth.d.next = self.d_fm.val();
            self.last_a.d.next = self.c_addr.val();
            self.n.d.next = 1.into();
            if self.c_wide.val() {
                self.n.d.next = self.c_n.val();
                self.bank_b.d.next = self.c_bank_b.val();
                self.addr_b.d.next = self.c_addr_b.val();
                self.last_a.d.next = self.c_addr.val() + bit_cast::<20, 4>(self.na_m1.val());
                if bit_cast::<20, 4>(self.c_n.val()) != self.lw.val() {
                    self.last_b.d.next = self.c_addr_b.val() + bit_cast::<20, 4>(self.nb_m1.val());
                }
            }
        }
        self.busy.next = self.valid.q.val();
        self.in_place.next = (self.last_a.q.val() < self.depth.q.val()) & (self.last_b.q.val() < self.depth.q.val());
        self.w_en.next = self.valid.q.val() & self.in_place.val();
        self.fault.next = self.valid.q.val() & !self.in_place.val();
        self.w_sel.next = self.sel.q.val();
        self.w_bank.next = self.bank.q.val();
        self.w_addr.next = self.full.q.val().get_bits::<16>(0);
        self.w_wide.next = self.wide.q.val();
        self.w_word.next = self.word.q.val();
        self.w_n.next = self.n.q.val();
        self.w_bank_b.next = self.bank_b.q.val();
        self.w_addr_b.next = self.addr_b.q.val().get_bits::<16>(0);
        if self.is_cp.q.val() {
            self.w_word.next = self.word_cp.q.val();
            self.w_data.next = self.data_cp.q.val();
        } else {
            self.w_data.next = self.data.q.val();
        }
    }
}

crate::clocked!(impl[const W: usize] WriteStage<W>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random loads, copies and idle cycles against a one-cycle-late model: each write comes
    /// out the next cycle with its place, a copy's word is the read data of its own cycle, and
    /// an entry at or past its place's depth is dropped with `fault`.
    #[test]
    fn each_word_is_written_a_cycle_later_unless_past_its_place() {
        let mut rng = Rng::from_env("write-stage", 7);
        let fm_depth = 100;
        let mut h = crate::sim::Harness::new(WriteStage::<64>::new(fm_depth)).unwrap();
        // (sel, bank, entry, depth, word, is a copy, bus word if wide)
        let mut pending: Option<(u64, u64, u64, u64, u64, bool, Option<u64>)> = None;
        let mut seen = [0usize; 3];
        for step in 0..4000 {
            let kind = rng.below(3);
            let (sel, bank, addr, depth, data) =
                (rng.below(4), rng.below(64), rng.below(140), 1 + rng.below(140), rng.below(1 << 32));
            let r_data = rng.below(1 << 32);
            let (wide, bus) = (rng.below(2) == 0, rng.next());
            let u = &mut h.uut;
            u.load.next = kind == 1;
            u.copy.next = kind == 2;
            u.l_sel.next = sel.into();
            u.l_bank.next = Bits::<64>::from(1u64 << bank);
            u.l_addr.next = addr.into();
            u.l_depth.next = depth.into();
            u.l_data.next = data.into();
            u.l_wide.next = wide;
            u.l_word.next = bus.into();
            u.c_bank.next = Bits::<64>::from(1u64 << bank);
            u.c_addr.next = addr.into();
            u.r_data.next = r_data.into();
            h.settle().unwrap();
            let u = &h.uut;
            match pending {
                None => assert!(!u.busy.val() && !u.w_en.val() && !u.fault.val(), "step {step}"),
                Some((sel, bank, addr, depth, data, copy, word)) => {
                    let in_place = addr < depth;
                    assert!(u.busy.val(), "step {step}");
                    assert_eq!((u.w_en.val(), u.fault.val()), (in_place, !in_place), "step {step}");
                    assert_eq!(u.w_sel.val().index() as u64, sel, "step {step}");
                    assert_eq!(u.w_bank.val(), Bits::<64>::from(1u64 << bank), "step {step}");
                    assert_eq!(u.w_addr.val().index() as u64, addr, "step {step}");
                    assert_eq!(u.w_data.val().index() as u64, data, "step {step}");
                    assert_eq!(u.w_wide.val(), word.is_some(), "step {step}");
                    if let Some(b) = word {
                        assert_eq!(u.w_word.val(), Bits::<64>::from(b), "step {step}");
                    }
                    seen[usize::from(copy)] += 1;
                    seen[2] += usize::from(!in_place);
                }
            }
            pending = match kind {
                1 => Some((sel, bank, addr, depth, data, false, wide.then_some(bus))),
                2 => Some((3, bank, addr, fm_depth as u64, r_data, true, None)),
                _ => None,
            };
            h.step().unwrap();
        }
        assert!(seen.iter().all(|&n| n > 100), "copies, loads and faults all exercised: {seen:?}");
    }
}
