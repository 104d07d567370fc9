//! # ChunkCursor: the data mover's on-chip cursor
//!
//! Names the on-chip place of the transfer's current word, chunk by chunk (a chunk is one
//! channel; places as in the table of `DataMover`'s header, docs/isa.md): the offset o in the
//! chunk, the linear index i, a one-hot bank and an entry base; for conv-output stores also the
//! kernel j of the channel and the base of the next column's channels. Also whether the current
//! word ends its chunk (`chunk_end`, registered: set when the cursor steps onto a chunk's last
//! word) and the same for the word stepped past last (`chunk_end_d`).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a transfer starts: the cursor at word 0 of the place `s_*` name |
//! | `s_store`, `s_copy`, `s_sel`, `s_half` | in | 1, 1, 2, 1 | the transfer (`DataMover`'s `g_*`) |
//! | `s_len` | in | 20 | its chunk length (`len`, or `words` for one chunk) |
//! | `s_bcast` | in | 1 | a first-cache load writes each chunk into every bank (`MEM_ROWS.bcast`; `bank` all R banks, a plane per chunk) |
//! | `s_spread` | in | 1 | a spread first-cache load (word steps of one-element chunks, R = L): each step is entry B + i of every bank (`bank` all R banks; `a_cur` and `depth` count entries) |
//! | `s_k` | in | 16 | kernels of the conv run whose output a store reads, k (channel t·C·k + c·k + j); 1 after a depthwise run (channel t·C + c) |
//! | `s_word` | in | 1 | word steps: a weight load's step is a whole entry of the C banks (`bank` is not used); a first-cache load's is L entries of its bank, and `s_len`, `a_cur` and `depth` count words of L entries; a store of the conv output's is L entries of its output bank (`s_len` in words, `rd_addr` the word's first entry) |
//! | `adv` | in | 1 | step to the next word |
//! | `fm_addr`, `fm_bank` | in | 20, 64 | the feature-memory cursor's entry and bank (the place of load target 3) |
//! | `chunk_end`, `chunk_end_d` | out | 1 | the current word, the word stepped past last, ends its chunk |
//! | `bank` | out | 64 | one-hot bank of the current word |
//! | `a_cur`, `depth` | out | 20 | entry of the current word in the load target (or conv output), the place's depth |
//! | `rd_addr` | out | 16 | entry of the current word in the store source (formed apart from the load side, timing) |
//! | `rd_issue` | in | 1 | the store source is read at `rd_addr` this cycle |
//! | `rd_fault` | out | 1 | the read issued last cycle was past its place |
//!
//! The store read's bounds check runs a cycle after the read (timing: the address sum ends in a
//! register, the compare starts from one). An out-of-place read reads some entry, harmlessly;
//! the mover raises its error on `rd_fault` and the dispatcher stops the run.

use rust_hdl::prelude::*;

use super::DataMoverParams;

/// The on-chip cursor of a data mover.
#[derive(LogicBlock)]
pub struct ChunkCursor {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A transfer starts.
    pub start: Signal<In, Bit>,
    /// The starting transfer is a store.
    pub s_store: Signal<In, Bit>,
    /// The starting transfer is a copy.
    pub s_copy: Signal<In, Bit>,
    /// Its load target or store source.
    pub s_sel: Signal<In, Bits<2>>,
    /// Its upper-half flag.
    pub s_half: Signal<In, Bit>,
    /// Its chunk length.
    pub s_len: Signal<In, Bits<20>>,
    /// A weight load in word steps.
    pub s_word: Signal<In, Bit>,
    /// Step to the next word.
    pub adv: Signal<In, Bit>,
    /// The feature-memory cursor's entry.
    pub fm_addr: Signal<In, Bits<20>>,
    /// The feature-memory cursor's bank.
    pub fm_bank: Signal<In, Bits<64>>,
    /// The current word ends its chunk.
    pub chunk_end: Signal<Out, Bit>,
    /// The word stepped past last ended its chunk.
    pub chunk_end_d: Signal<Out, Bit>,
    /// One-hot bank of the current word.
    pub bank: Signal<Out, Bits<64>>,
    /// Entry of the current word (load target, conv output).
    pub a_cur: Signal<Out, Bits<20>>,
    /// Depth of its place.
    pub depth: Signal<Out, Bits<20>>,
    /// Entry of the current word in the store source.
    pub rd_addr: Signal<Out, Bits<16>>,
    /// The store source is read at `rd_addr`.
    pub rd_issue: Signal<In, Bit>,
    /// The read issued last cycle was past its place.
    pub rd_fault: Signal<Out, Bit>,
    /// One-hot last bank of R and of C banks.
    last_r: Constant<Bits<64>>,
    last_c: Constant<Bits<64>>,
    /// The kernels of the conv run whose output a store reads, k (its channels are
    /// t·C·k + c·k + j); latched at `start`.
    pub s_k: Signal<In, Bits<16>>,
    /// k − 1 of the running transfer.
    last_j: DFF<Bits<16>>,
    /// A first-cache load writes each chunk into every bank (`MEM_ROWS.bcast`); latched at
    /// `start`.
    pub s_bcast: Signal<In, Bit>,
    bc: DFF<Bit>,
    /// A spread first-cache load; latched at `start`.
    pub s_spread: Signal<In, Bit>,
    spr: DFF<Bit>,
    /// Every first-cache bank (R ones).
    all_r: Constant<Bits<64>>,
    /// Depths (up to 65,536): first cache, weight bank, bias, feature memory, conv output,
    /// pooling output.
    d_fc: Constant<Bits<20>>,
    d_wb: Constant<Bits<20>>,
    d_bias: Constant<Bits<20>>,
    d_fm: Constant<Bits<20>>,
    d_out: Constant<Bits<20>>,
    d_pout: Constant<Bits<20>>,
    /// Upper halves of the first cache and the output buffer; the first cache's depth and upper
    /// half in words of its byte lanes (a first-cache load in word steps counts words).
    fc_half: Constant<Bits<16>>,
    fc_half_w: Constant<Bits<16>>,
    d_fc_w: Constant<Bits<20>>,
    out_half: Constant<Bits<16>>,
    /// The output buffer's upper half and depth in words of its lanes, log2 of its lanes (a store
    /// of the conv output in word steps counts words and reads at word · L).
    out_half_w: Constant<Bits<16>>,
    d_out_w: Constant<Bits<20>>,
    out_sh: Constant<Bits<16>>,
    /// The running transfer: a store (or copy), its place (0 for a copy), its chunk length.
    st: DFF<Bit>,
    sel: DFF<Bits<2>>,
    /// Word steps.
    wrd: DFF<Bit>,
    len: DFF<Bits<20>>,
    /// Offset in the chunk, linear index, one-hot bank, entry base, the next column's base,
    /// kernel j.
    off: DFF<Bits<20>>,
    idx: DFF<Bits<20>>,
    bank_r: DFF<Bits<64>>,
    base: DFF<Bits<16>>,
    col_base: DFF<Bits<16>>,
    kern: DFF<Bits<16>>,
    /// `kern` is the run's last kernel, k − 1 (registered with `kern`: timing).
    kern_l: DFF<Bit>,
    /// The current word ends its chunk; the word stepped past last did; chunks are one word.
    cend: DFF<Bit>,
    cend_d: DFF<Bit>,
    len1: DFF<Bit>,
    /// The store source's entry (full width) and depth.
    a_rd: Signal<Local, Bits<20>>,
    depth_rd: Signal<Local, Bits<20>>,
    /// The read issued last cycle: issued, its entry and its place's depth.
    rd_chk: DFF<Bit>,
    rd_a: DFF<Bits<20>>,
    rd_d: DFF<Bits<20>>,
    /// The bank is the last of R, of C.
    wrap_r: Signal<Local, Bit>,
    wrap_c: Signal<Local, Bit>,
    /// The base after this chunk (base + len).
    next_base: Signal<Local, Bits<16>>,
    /// The conv-output entry of the current word.
    a_out: Signal<Local, Bits<20>>,
}

impl ChunkCursor {
    /// The cursor of a mover with these buffers.
    pub fn new(p: &DataMoverParams) -> Self {
        let onehot_last = |n: usize| Constant::new(Bits::<64>::from(1u64 << (n - 1)));
        let d = |i: usize| Constant::new(Bits::<20>::from(p.depths[i] as u64));
        block_with_defaults!(ChunkCursor {
            last_r: onehot_last(p.rows),
            all_r: Constant::new(Bits::<64>::from(u64::MAX >> (64 - p.rows))),
            last_c: onehot_last(p.cols),
            d_fc: d(0),
            d_wb: d(1),
            d_bias: d(2),
            d_fm: d(3),
            d_out: d(4),
            d_pout: d(5),
            fc_half: Constant::new(((p.depths[0] / 2) as u64).into()),
            fc_half_w: Constant::new(((p.depths[0] / 2 / p.fc_lanes.max(1)) as u64).into()),
            d_fc_w: Constant::new(((p.depths[0] / p.fc_lanes.max(1)) as u64).into()),
            out_half: Constant::new(((p.depths[4] / 2) as u64).into()),
            out_half_w: Constant::new(((p.depths[4] / 2 / p.out_lanes.max(1)) as u64).into()),
            d_out_w: Constant::new(((p.depths[4] / p.out_lanes.max(1)) as u64).into()),
            out_sh: Constant::new(u64::from(p.out_lanes.max(1).trailing_zeros()).into()),
        } defaults {
            clock, start, s_store, s_copy, s_sel, s_half, s_len, s_word, s_k, last_j, s_bcast, bc, s_spread, spr, kern_l, st, sel, wrd, len, adv, fm_addr, fm_bank,
            chunk_end, chunk_end_d, bank, a_cur, depth, rd_addr, a_rd, depth_rd, rd_issue, rd_fault, rd_chk, rd_a, rd_d, off, idx, bank_r, base,
            col_base, kern, cend, cend_d, len1, wrap_r, wrap_c, next_base, a_out,
        })
    }
}

impl Logic for ChunkCursor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, st, sel, wrd, len, off, idx, bank_r, base, col_base, kern, cend, cend_d, len1, rd_chk, rd_a, rd_d, last_j, bc, spr, kern_l);
        self.chunk_end.next = self.cend.q.val();
        self.chunk_end_d.next = self.cend_d.q.val();
        self.bank.next = self.bank_r.q.val();
        self.wrap_r.next = (self.bank_r.q.val() & self.last_r.val()).any();
        self.wrap_c.next = (self.bank_r.q.val() & self.last_c.val()).any();
        self.next_base.next = self.base.q.val() + self.len.q.val().get_bits::<16>(0);

        // ---- Addresses of the current word.
        self.a_out.next = bit_cast::<20, 16>(self.base.q.val()) + self.off.q.val();
        self.a_cur.next = self.idx.q.val();
        self.depth.next = self.d_pout.val();
        if !self.st.q.val() {
            if self.sel.q.val() == 0 {
                self.a_cur.next = self.a_out.val();
                self.depth.next = self.d_fc.val();
                if self.wrd.q.val() & !self.spr.q.val() {
                    self.depth.next = self.d_fc_w.val();
                }
            } else if self.sel.q.val() == 1 {
                self.a_cur.next = bit_cast::<20, 16>(self.base.q.val());
                self.depth.next = self.d_wb.val();
            } else if self.sel.q.val() == 2 {
                self.a_cur.next = bit_cast::<20, 16>(self.base.q.val());
                self.depth.next = self.d_bias.val();
            } else {
                self.a_cur.next = self.fm_addr.val();
                self.depth.next = self.d_fm.val();
                self.bank.next = self.fm_bank.val();
            }
        } else if !self.sel.q.val().get_bit(0) {
            self.a_cur.next = self.a_out.val();
            self.depth.next = self.d_out.val();
        }
        if self.sel.q.val().get_bit(0) {
            self.a_rd.next = self.idx.q.val();
            self.depth_rd.next = self.d_pout.val();
        } else {
            self.a_rd.next = self.a_out.val();
            self.depth_rd.next = self.d_out.val();
            if self.wrd.q.val() {
                self.depth_rd.next = self.d_out_w.val();
            }
        }
        self.rd_addr.next = self.a_rd.val().get_bits::<16>(0);
        if self.wrd.q.val() {
            // Word steps read the word's first entry (the output lanes give the rest).
            self.rd_addr.next = self.a_rd.val().get_bits::<16>(0) << self.out_sh.val();
        }
        self.rd_chk.d.next = self.rd_issue.val();
        self.rd_a.d.next = self.a_rd.val();
        self.rd_d.d.next = self.depth_rd.val();
        self.rd_fault.next = self.rd_chk.q.val() & (self.rd_a.q.val() >= self.rd_d.q.val());

        // ---- Step to the next word.
        if self.adv.val() {
            self.cend_d.d.next = self.cend.q.val();
            // The word after this one ends its chunk: a new chunk of one word, or the
            // second-to-last word of this one.
            if self.cend.q.val() {
                self.cend.d.next = self.len1.q.val();
                self.off.d.next = 0.into();
            } else {
                self.cend.d.next = self.off.q.val() + 2 == self.len.q.val();
                self.off.d.next = self.off.q.val() + 1;
            }
            self.idx.d.next = self.idx.q.val() + 1;
            if !self.st.q.val() & (self.sel.q.val() == 0) {
                // First cache: a chunk per bank, R chunks per plane; broadcast: each chunk in
                // every bank, a plane per chunk.
                if self.cend.q.val() {
                    if self.bc.q.val() {
                        self.base.d.next = self.next_base.val();
                    } else if self.wrap_r.val() {
                        self.bank_r.d.next = 1.into();
                        self.base.d.next = self.next_base.val();
                    } else {
                        self.bank_r.d.next = self.bank_r.q.val() << 1;
                    }
                }
            } else if !self.st.q.val() & ((self.sel.q.val() == 1) | (self.sel.q.val() == 2)) {
                // Weights and bias: banks (columns) in turn, then the next entry; with word
                // steps, an entry per step.
                if self.wrd.q.val() {
                    self.base.d.next = self.base.q.val() + 1;
                } else if self.wrap_c.val() {
                    self.bank_r.d.next = 1.into();
                    self.base.d.next = self.base.q.val() + 1;
                } else {
                    self.bank_r.d.next = self.bank_r.q.val() << 1;
                }
            } else if self.st.q.val() & !self.sel.q.val().get_bit(0) {
                // Conv output: channel t·C·K + c·K + j at bank c, entry (t·K + j)·len.
                if self.cend.q.val() {
                    self.base.d.next = self.next_base.val();
                    if self.kern_l.q.val() {
                        self.kern.d.next = 0.into();
                        self.kern_l.d.next = self.last_j.q.val() == 0;
                        if self.wrap_c.val() {
                            self.bank_r.d.next = 1.into();
                            self.col_base.d.next = self.next_base.val();
                        } else {
                            self.bank_r.d.next = self.bank_r.q.val() << 1;
                            self.base.d.next = self.col_base.q.val();
                        }
                    } else {
                        self.kern.d.next = self.kern.q.val() + 1;
                        self.kern_l.d.next = self.kern.q.val() + 1 == self.last_j.q.val();
                    }
                }
            }
        }

        // ---- Start.
        if self.start.val() {
            self.st.d.next = self.s_store.val() | self.s_copy.val();
            self.sel.d.next = self.s_sel.val();
            self.wrd.d.next = self.s_word.val();
            if self.s_copy.val() {
                self.sel.d.next = 0.into();
            }
            self.len.d.next = self.s_len.val();
            self.len1.d.next = self.s_len.val() == 1;
            self.last_j.d.next = self.s_k.val() - 1;
            self.cend.d.next = self.s_len.val() == 1;
            self.off.d.next = 0.into();
            self.idx.d.next = 0.into();
            self.base.d.next = 0.into();
            self.kern.d.next = 0.into();
            // Kernel 0 is the last with k = 1 (a depthwise run's layout, `PE_DW`).
            self.kern_l.d.next = self.s_k.val() == 1;
            self.bank_r.d.next = 1.into();
            // A spread load steps as a broadcast of one-element chunks: an entry of every bank.
            self.spr.d.next = self.s_spread.val();
            self.bc.d.next = (self.s_bcast.val() | self.s_spread.val()) & !self.s_store.val() & !self.s_copy.val() & (self.s_sel.val() == 0);
            if self.bc.d.val() {
                self.bank_r.d.next = self.all_r.val();
            }
            self.col_base.d.next = 0.into();
            if self.s_half.val() & ((self.s_sel.val() == 0) | self.s_copy.val()) {
                if (self.s_store.val() | self.s_copy.val()) & self.s_word.val() {
                    self.base.d.next = self.out_half_w.val();
                    self.col_base.d.next = self.out_half_w.val();
                } else if self.s_store.val() | self.s_copy.val() {
                    self.base.d.next = self.out_half.val();
                    self.col_base.d.next = self.out_half.val();
                } else if self.s_word.val() & !self.s_spread.val() {
                    self.base.d.next = self.fc_half_w.val();
                } else {
                    self.base.d.next = self.fc_half.val();
                }
            }
        }
    }
}

crate::clocked!(ChunkCursor);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// The place (bank, entry) of word i of a transfer, from the table of docs/isa.md; B is the
    /// half base.
    fn place(store: bool, sel: usize, i: usize, len: usize, p: &DataMoverParams, k: usize, half: bool) -> (usize, usize) {
        let (n, o) = (i / len, i % len);
        let b = |d: usize| if half { d / 2 } else { 0 };
        match (store, sel) {
            (false, 0) => (n % p.rows, b(p.depths[0]) + (n / p.rows) * len + o),
            (false, 1) | (false, 2) => (i % p.cols, i / p.cols),
            (true, 0) => {
                let (t, c, j) = (n / (p.cols * k), n / k % p.cols, n % k);
                (c, b(p.depths[4]) + (t * k + j) * len + o)
            }
            _ => (0, i),
        }
    }

    /// Random buffers and transfers of every load target and store source (the feature memory's
    /// entry passed through), stepped with random idle cycles: bank, entries, depths and chunk
    /// ends of every word equal the layout table.
    #[test]
    fn every_word_is_at_its_place_in_the_layout_table() {
        let mut rng = Rng::from_env("chunk-cursor", 3);
        let mut faults = 0;
        for iter in 0..12 {
            let lanes = [1, 2, 4][rng.below(3) as usize];
            let mut p = DataMoverParams {
                rows: 1 + rng.below(4) as usize,
                cols: 2 + rng.below(3) as usize,
                fm_banks: 1,
                depths: [0; 6].map(|_: usize| 8 + rng.below(56) as usize),
                fc_lanes: lanes,
                out_lanes: lanes,
                fm_lanes: 1,
            };
            p.depths[0] = 2 * lanes * (2 + rng.below(16) as usize);
            p.depths[4] = 2 * lanes * (2 + rng.below(16) as usize);
            // k = 1: a depthwise run's output (`PE_DW`: channel g·C + r in bank r).
            let k = if iter == 0 { 1 } else { 1 + rng.below(3) as usize };
            let mut h = crate::sim::Harness::new(ChunkCursor::new(&p)).unwrap();
            for (store, sel, word) in [(false, 0, false), (false, 0, true), (false, 1, false), (false, 1, true), (false, 2, false), (false, 3, false), (true, 0, false), (true, 0, true), (true, 1, false)] {
                // A first-cache load in word steps counts words of L entries: the table's places
                // in a first cache of depth / L words.
                let p = if (store, sel, word) == (false, 0, true) { DataMoverParams { depths: [p.depths[0] / lanes, p.depths[1], p.depths[2], p.depths[3], p.depths[4], p.depths[5]], ..p } } else { p };
                // So does a store of the conv output, in an output buffer of depth / L words; it
                // reads at a word's first entry.
                let p = if (store, sel, word) == (true, 0, true) { DataMoverParams { depths: [p.depths[0], p.depths[1], p.depths[2], p.depths[3], p.depths[4] / lanes, p.depths[5]], ..p } } else { p };
                let rd_scale = if store && word { lanes } else { 1 };
                let half = rng.below(2) == 0;
                let len = 1 + rng.below(5) as usize;
                let words = len * (1 + rng.below(2 * p.cols as u64 * k as u64) as usize);
                let u = &mut h.uut;
                u.start.next = true;
                u.s_store.next = store;
                u.s_copy.next = false;
                u.s_sel.next = (sel as u64).into();
                u.s_half.next = half;
                u.s_len.next = (len as u64).into();
                u.s_word.next = word;
                u.s_k.next = (k as u64).into();
                u.adv.next = false;
                u.rd_issue.next = false;
                h.step().unwrap();
                h.uut.start.next = false;
                let depth_of = |s: bool, sel: usize| p.depths[if s { [4, 5][sel] } else { sel }];
                let mut i = 0;
                let mut last_end = false;
                let mut last_read_out = false;
                while i < words {
                    let adv = rng.below(3) != 0;
                    let fm = rng.below(1 << 16);
                    let fm_bank = rng.below(64) as usize;
                    let issue = store && rng.below(2) == 0;
                    h.uut.adv.next = adv;
                    h.uut.rd_issue.next = issue;
                    h.uut.fm_addr.next = fm.into();
                    h.uut.fm_bank.next = Bits::<64>::from(1u64 << fm_bank);
                    h.settle().unwrap();
                    let (mut bank, mut entry) = place(store, sel, i, len, &p, k, half);
                    if (store, sel) == (false, 3) {
                        bank = fm_bank;
                    }
                    if word && sel == 1 {
                        // A whole entry per step.
                        entry = i;
                    }
                    let ctx = format!("{p:?}, store {store}, sel {sel}, word steps {word}, len {len}, word {i}");
                    let u = &h.uut;
                    if !word || sel == 0 {
                        assert_eq!(u.bank.val(), Bits::<64>::from(1u64 << bank), "{ctx}");
                    }
                    assert_eq!(u.chunk_end.val(), i % len == len - 1, "{ctx}");
                    assert_eq!(u.rd_fault.val(), last_read_out, "{ctx}");
                    faults += usize::from(last_read_out);
                    if i > 0 {
                        // (Not reset by a start: a copy reads it only after its first step.)
                        assert_eq!(u.chunk_end_d.val(), last_end, "{ctx}");
                    }
                    if store {
                        assert_eq!(u.rd_addr.val().index(), (entry * rd_scale) % (1 << 16), "{ctx}");
                    } else {
                        let want = if sel == 3 { fm as usize } else { entry };
                        assert_eq!(u.a_cur.val().index(), want, "{ctx}");
                        assert_eq!(u.depth.val().index(), depth_of(false, sel), "{ctx}");
                    }
                    last_read_out = issue && entry >= depth_of(true, sel);
                    h.step().unwrap();
                    if adv {
                        last_end = i % len == len - 1;
                        i += 1;
                    }
                }
            }
        }
        assert!(faults > 0, "no read past its place was exercised");
    }
}
