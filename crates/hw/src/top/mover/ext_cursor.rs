//! # ExtCursor: the data mover's external-memory side
//!
//! Two cursors over a transfer's external elements, `words` elements from byte address `addr`
//! in chunks `stride` bytes apart, each chunk `rows` runs of `len` elements `step` bytes apart
//! (`MEM_ROWS`; one run per chunk without it): the request cursor (the element of the next
//! request) and the response cursor (the element of the next read response; responses come in
//! request order). Below, "chunk" is a run: the cursors' bursts, word reuse and chunk ends are
//! per run; a run's end selects the next run's first element, `step` bytes after the run's or
//! (the chunk's last run) the next chunk's, from registers (the next run's, the next chunk's and
//! the runs left in the chunk). Memory is packed (docs/isa.md): an element is one byte (int8), or four
//! little-endian bytes for `s_wide` (int32 bias); words of W bits hold L = W/8 bytes, so a word
//! address is the byte address divided by L, and an element's byte lane is the rest.
//!
//! **One bus word per run of elements in it, read in bursts.** Consecutive elements in one word
//! share one access. A load requests, at an element whose word differs from the previous
//! element's (or the first), a read burst of every word from this one to the chunk's last word
//! (`req_len` = beats − 1; at most 256 beats, never past a 4 KiB page of offsets: `MEM_BASE` is
//! page-aligned), and the elements of the chunk in words that burst covers need no request. The
//! response cursor takes an element whose word differs from the previous element's from a new
//! response beat, every other from the word it holds (`req_need`, `rsp_need`): every beat is
//! some element's new word, since a chunk's elements are contiguous. A store merges its
//! elements into a word buffer and writes the word (one beat), with the byte enables of every
//! element merged, at the last element of the word (the next element's word differs, or none is
//! left). A chunk that starts in the word the previous chunk ended in reuses it.
//!
//! **Timing: every decision from registers through one adder or compare.** The request
//! cursor keeps the element's byte address, the next chunk's first element's address, the
//! elements left in the chunk, len − 1 and the elements left − 2 as registers, so the next
//! chunk's last element is one of two sums formed beside the compare that picks one. The cycle
//! after a start forms the first chunk's last element the same way and moves no request
//! (`pending` is low): one cycle per transfer. A load's "needs a burst" is a register too, formed
//! when the previous element moves: the next element needs one where this one's lane is the
//! word's last and the reads so far end at this word (at a chunk's end: where the next chunk's
//! first word differs). The response cursor keeps its element's address
//! and whether it needs a new word as registers: the next element needs one where this one's lane
//! is the word's last (or, at a chunk's end, where the next chunk's first word differs). A store's
//! "next element in another word" is the same lane test, not a compare of the next address.
//!
//! **Word steps** (`s_word`, a load of one-byte elements whose first address, chunk stride, run
//! step and run length are multiples of L): the cursors count words, not elements (`s_words`
//! and `s_len` are words), and each "element" is a whole word, L bytes: both cursors step a word
//! at a time, each response word is taken whole (`rsp_word`), and chunks, runs and bursts follow
//! the element rules with an element of L bytes. The data mover uses it to write a weight-buffer
//! entry of L = C banks (the last word may hold fewer than L of the transfer's weights), or L
//! first-cache entries of one bank, per cycle.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a transfer starts: both cursors at `s_addr`, `s_words` requests left (0 with `s_copy`) |
//! | `s_addr`, `s_stride` | in | 26 | first element's byte address, chunk stride in bytes |
//! | `s_words` | in | 20 | elements (words with `s_word`) |
//! | `s_copy` | in | 1 | an on-chip copy: no request |
//! | `s_store` | in | 1 | a store: merge elements into words |
//! | `s_wide` | in | 1 | four-byte elements |
//! | `s_len` | in | 20 | run length (elements, words with `s_word`; the chunk length without runs) |
//! | `s_rows`, `s_step` | in | 12, 26 | runs per chunk (1 without runs; 0: 4,096), bytes from one run's start to the next's |
//! | `s_multi` | in | 1 | `s_rows` ≠ 1 |
//! | `s_word` | in | 1 | word steps (one-byte elements; `s_addr`, `s_stride`, `s_step` and the run multiples of L) |
//! | `w_elem` | in | 32 | the element a store's current request carries |
//! | `w_word` | in | W | a store in word steps: the word its current request carries (every byte enabled) |
//! | `req_fire` | in | 1 | the request cursor's element moved: step it (a bus request went with it if `req_need`) |
//! | `rsp_take` | in | 1 | the response cursor's element was taken: step it (with a response if `rsp_need`) |
//! | `rsp_data` | in | W | the response's word |
//! | `pending` | out | 1 | elements are left on the request side |
//! | `req_need` | out | 1 | the current element needs a bus request |
//! | `req_len` | out | 8 | its beats − 1 (a load's burst; 0 for a store) |
//! | `req_addr` | out | 26 | word address of the current element |
//! | `req_be` | out | L | byte enables: the merged elements' and the current one's |
//! | `req_wdata` | out | W | the merged elements and the current one, each in its bytes |
//! | `rsp_need` | out | 1 | the response cursor's element needs a new response word |
//! | `rsp_elem` | out | 32 | the element (from the response or the held word), int8 sign-extended |
//! | `rsp_word` | out | W | the word the response cursor's element is in (word steps: the L elements taken) |

use rust_hdl::prelude::*;

/// The combinational side of [`ExtCursor`]: every output and the values its registers take,
/// from the registers and the data inputs alone. (A block of its own: the cursor's update reads
/// `req_fire` and `rsp_take`, which the mover forms from `req_need` and `rsp_need`; computed in
/// the same always block, Verilator would see a combinational loop through the mover.)
#[derive(LogicBlock)]
pub struct ExtComb<const W: usize, const L: usize> {
    /// The registers (see [`ExtCursor`]).
    pub wide: Signal<In, Bit>,
    pub word: Signal<In, Bit>,
    pub store: Signal<In, Bit>,
    pub len: Signal<In, Bits<20>>,
    pub e_nb: Signal<In, Bits<26>>,
    pub e_rem: Signal<In, Bits<20>>,
    pub stride: Signal<In, Bits<26>>,
    pub step: Signal<In, Bits<26>>,
    pub rows_m1: Signal<In, Bits<12>>,
    pub e_cnb: Signal<In, Bits<26>>,
    /// `e_nb + step` and `e_cnb + stride`, kept as registers (timing: the run after the next
    /// one's word compare starts at a flip-flop).
    pub e_nbs: Signal<In, Bits<26>>,
    pub e_cnbs: Signal<In, Bits<26>>,
    pub e_rl: Signal<In, Bits<12>>,
    pub e_last: Signal<In, Bit>,
    pub s_need: Signal<In, Bit>,
    pub len_m1: Signal<In, Bits<20>>,
    pub left_m2: Signal<In, Bits<20>>,
    pub e_left: Signal<In, Bits<20>>,
    pub e_addr: Signal<In, Bits<26>>,
    pub e_clast: Signal<In, Bits<26>>,
    pub e_need: Signal<In, Bit>,
    pub e_cover: Signal<In, Bits<26>>,
    pub wbuf: Signal<In, Bits<W>>,
    pub wbe: Signal<In, Bits<L>>,
    pub r_addr: Signal<In, Bits<26>>,
    pub r_need: Signal<In, Bit>,
    pub r_nb: Signal<In, Bits<26>>,
    pub r_rem: Signal<In, Bits<20>>,
    pub r_cnb: Signal<In, Bits<26>>,
    pub r_rl: Signal<In, Bits<12>>,
    pub hold: Signal<In, Bits<W>>,
    /// The data inputs.
    pub w_elem: Signal<In, Bits<32>>,
    pub w_word: Signal<In, Bits<W>>,
    pub rsp_data: Signal<In, Bits<W>>,
    /// The outputs (see [`ExtCursor`]); `e_word`, `r_word`: the current elements' words;
    /// `r_src`: the word the response cursor's element is in.
    pub req_need: Signal<Out, Bit>,
    pub req_len: Signal<Out, Bits<8>>,
    pub e_word: Signal<Out, Bits<26>>,
    pub req_be: Signal<Out, Bits<L>>,
    pub req_wdata: Signal<Out, Bits<W>>,
    pub rsp_need: Signal<Out, Bit>,
    pub r_src: Signal<Out, Bits<W>>,
    pub rsp_elem: Signal<Out, Bits<32>>,
    /// The next element's byte address; the last element's of the chunk after this one (read
    /// when this element ends its chunk); the element ends its chunk.
    pub ea_next: Signal<Out, Bits<26>>,
    pub n_clast: Signal<Out, Bits<26>>,
    /// Response side: the element ends its chunk; the next element's
    /// address within the chunk; whether the next element needs a new word (the value `r_need`
    /// takes when this one is taken).
    pub r_end: Signal<Out, Bit>,
    pub r_step_addr: Signal<Out, Bits<26>>,
    pub rn_need: Signal<Out, Bit>,
    /// Runs (docs/isa.md, `MEM_ROWS`): the values the next run's first element's address, the
    /// next chunk's first element's address and the runs left after the current one in its
    /// chunk take when the current run ends, for the request side (`nb2`, `cnb2`, `rl2`) and the
    /// response side (`rnb2`, `rcnb2`, `rrl2`).
    pub cnb2: Signal<Out, Bits<26>>,
    pub rl2: Signal<Out, Bits<12>>,
    pub rnb2: Signal<Out, Bits<26>>,
    pub rcnb2: Signal<Out, Bits<26>>,
    pub rrl2: Signal<Out, Bits<12>>,
    /// The last word this element's read burst covers.
    pub cov_w: Signal<Out, Bits<26>>,
    pub e_end: Signal<Out, Bit>,
    /// A load: the next element needs a read burst (the value `e_need` takes when this element
    /// moves).
    pub n_need: Signal<Out, Bit>,
    /// A store: the next element needs a write (the value `s_need` takes when this element
    /// moves); this element needs one, from the registers (`s_need`'s value at the first
    /// element, formed in the cycle after a start).
    pub ns_need: Signal<Out, Bit>,
    pub cs_need: Signal<Out, Bit>,
    /// The byte-lane bits of an address, the word-address shift, the enables of one byte and of
    /// four, the sign extension of a byte.
    lane_mask: Constant<Bits<26>>,
    lshift: Constant<Bits<26>>,
    /// The last byte lane (L − 1) and the last four-byte lane (L − 4).
    lane_last: Constant<Bits<26>>,
    quad_last: Constant<Bits<26>>,
    be_byte: Constant<Bits<L>>,
    be_wide: Constant<Bits<L>>,
    /// Every byte of a word.
    be_all: Constant<Bits<L>>,
    /// The data bits of one byte lane and of four (a store's element mask at lane 0).
    bm_byte: Constant<Bits<W>>,
    bm_wide: Constant<Bits<W>>,
    /// 32·q for q = 1..L/4: the four-byte lanes' bit offsets past the first.
    quad_sh: Vec<Constant<Bits<8>>>,
    sext: Constant<Bits<32>>,
    /// L: a word step in bytes.
    step_l: Constant<Bits<26>>,
    /// Words per 4 KiB page − 1; the largest burst − 1 (255).
    page_mask: Constant<Bits<26>>,
    max_len: Constant<Bits<26>>,
    /// Request side: the element's byte address, the next element's, its lane's bit shift, its
    /// enables, its data at lane 0.
    ea: Signal<Local, Bits<26>>,
    /// The element's lane; it is its word's last (one byte) or last four (four bytes), or word
    /// steps; the next element is in another word (a store's "write the word now").
    e_lane: Signal<Local, Bits<26>>,
    in_last: Signal<Local, Bit>,
    st_next: Signal<Local, Bit>,
    /// The next chunk's first word differs from this element's; the next chunk's first element
    /// is its word's last (or last four); the chunk after the next one's first element.
    nb_diff: Signal<Local, Bit>,
    nb_last: Signal<Local, Bit>,
    pub nb2: Signal<Out, Bits<26>>,
    /// The run after the next one's first element within the chunk, and the chunk after the
    /// next one's first element (request and response side).
    nb_step: Signal<Local, Bits<26>>,
    nb_chk: Signal<Local, Bits<26>>,
    rnb_step: Signal<Local, Bits<26>>,
    rnb_chk: Signal<Local, Bits<26>>,
    /// The run after the next one starts in another word than the next one: each candidate's
    /// compare, and the one `nb2` selects (timing: the compares beside each other, the select
    /// after them).
    d_step: Signal<Local, Bit>,
    d_chk: Signal<Local, Bit>,
    d_cnb: Signal<Local, Bit>,
    d_nb2: Signal<Local, Bit>,
    /// The words of the next chunk's first element and of this chunk's last.
    nb_word: Signal<Local, Bits<26>>,
    cl_word: Signal<Local, Bits<26>>,
    /// Inside a chunk: the next element is its word's last (or last four).
    nx_last: Signal<Local, Bit>,
    /// The lanes before the last (L − 2) and before the last four-byte lane (L − 8; L ≥ 8).
    lane_last2: Constant<Bits<26>>,
    quad_last2: Constant<Bits<26>>,
    /// L = 4: every four-byte element fills its word.
    quad_one: Constant<Bit>,
    /// A load: the reads requested so far end at this element's word (this element's burst
    /// if it requests one, else the latest burst).
    cov_end: Signal<Local, Bit>,
    /// Bursts: the words after this one to the chunk's last (`e_clast`, a register), to the
    /// page's last, the burst's length − 1; the next chunk's elements (at most `len`) less one.
    span: Signal<Local, Bits<26>>,
    page_left: Signal<Local, Bits<26>>,
    blen: Signal<Local, Bits<8>>,
    /// The span and the page's rest are at most 255; this word + 255; bits 8 and up.
    sp_small: Signal<Local, Bit>,
    pl_small: Signal<Local, Bit>,
    w255: Signal<Local, Bits<26>>,
    hi_mask: Constant<Bits<26>>,
    n_part: Signal<Local, Bits<26>>,
    n_full: Signal<Local, Bits<26>>,
    e_sh: Signal<Local, Bits<26>>,
    /// A store's element: its byte four times (or its four bytes), that in every four-byte lane
    /// of the word; the data bits of its lanes.
    x8: Signal<Local, Bits<32>>,
    x32: Signal<Local, Bits<32>>,
    x32w: Signal<Local, Bits<W>>,
    e_bm: Signal<Local, Bits<W>>,
    e_be: Signal<Local, Bits<L>>,
    e_data: Signal<Local, Bits<W>>,
    /// Byte lane l's address bits (l), and those of the four-byte lane starting at byte 4l, for
    /// l ≥ 1 (entry l − 1; lane 0 is the default).
    lane_id: Vec<Constant<Bits<26>>>,
    quad_id: Vec<Constant<Bits<26>>>,
    /// Response side: the element's lane, its byte, the four bytes from its lane (a mux per
    /// lane: every bit of the word is used), its byte sign-extended.
    r_lane: Signal<Local, Bits<26>>,
    r_b8: Signal<Local, Bits<8>>,
    r_b32: Signal<Local, Bits<32>>,
    r_byte: Signal<Local, Bits<32>>,
}

impl<const W: usize, const L: usize> Default for ExtComb<W, L> {
    fn default() -> Self {
        assert!(matches!(L, 4 | 8 | 16) && W == 8 * L, "external words of 32, 64 or 128 bits, L = W/8 bytes");
        block_with_defaults!(ExtComb {
            lane_mask: Constant::new(((L - 1) as u64).into()),
            lshift: Constant::new(u64::from(L.trailing_zeros()).into()),
            lane_last: Constant::new(((L - 1) as u64).into()),
            quad_last: Constant::new(((L - 4) as u64).into()),
            lane_last2: Constant::new(((L - 2) as u64).into()),
            quad_last2: Constant::new((L.saturating_sub(8) as u64).into()),
            quad_one: Constant::new(L == 4),
            step_l: Constant::new((L as u64).into()),
            be_byte: Constant::new(1u64.into()),
            be_wide: Constant::new(0xFu64.into()),
            be_all: Constant::new(((1u64 << L) - 1).into()),
            bm_byte: Constant::new(0xFFu64.into()),
            bm_wide: Constant::new(0xFFFF_FFFFu64.into()),
            quad_sh: (1..L as u64 / 4).map(|q| Constant::new((32 * q).into())).collect(),
            sext: Constant::new(0xFFFF_FF00u64.into()),
            page_mask: Constant::new(((4096 / L - 1) as u64).into()),
            max_len: Constant::new(255u64.into()),
            hi_mask: Constant::new((((1u64 << 26) - 1) & !255).into()),
            lane_id: (1..L as u64).map(|l| Constant::new(l.into())).collect(),
            quad_id: (1..L as u64 / 4).map(|l| Constant::new((4 * l).into())).collect(),
        } defaults {
            wide, word, store, len, e_nb, e_rem, stride, step, rows_m1, e_cnb, e_nbs, e_cnbs, e_rl, r_cnb, r_rl, cnb2, rl2, rnb2, rcnb2, rrl2, nb_step, nb_chk, rnb_step, rnb_chk, e_last, s_need, len_m1, left_m2, e_left, e_addr, e_clast, e_need, e_cover, wbuf, wbe, r_addr, r_need, r_nb, r_rem, hold,
            w_elem, w_word, rsp_data, req_need, req_len, e_word, req_be, req_wdata, rsp_need, r_src, rsp_elem, ea_next, n_clast, e_end, n_need, ns_need, cs_need, r_end, r_step_addr, rn_need,
            ea, e_lane, in_last, st_next, nb_diff, nb_last, nb2, d_step, d_chk, d_cnb, d_nb2, nb_word, cl_word, nx_last, cov_end, span, page_left, blen, sp_small, pl_small, w255, cov_w, n_part, n_full, e_sh, x8, x32, x32w, e_bm, e_be, e_data, r_lane, r_b8, r_b32, r_byte,
        })
    }
}

impl<const W: usize, const L: usize> Logic for ExtComb<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        // ---- Request side: the element's address is a register (timing: no adder before the
        // burst length), stepped by the next element's.
        self.ea.next = self.e_addr.val();
        self.e_end.next = self.e_last.val();
        if self.e_end.val() {
            self.ea_next.next = self.e_nb.val();
        } else if self.word.val() {
            self.ea_next.next = self.ea.val() + self.step_l.val();
        } else if self.wide.val() {
            self.ea_next.next = self.ea.val() + 4;
        } else {
            self.ea_next.next = self.ea.val() + 1;
        }
        self.e_word.next = self.ea.val() >> self.lshift.val();
        self.e_lane.next = self.ea.val() & self.lane_mask.val();
        // A store's element goes into every lane of its size and the lane mask (from registers)
        // keeps its own (timing: the element, which comes from a buffer read, meets one AND-OR
        // per bit, no shifter; the merged word's other lanes are zero or earlier elements').
        self.e_sh.next = (self.ea.val() & self.lane_mask.val()) << 3;
        self.x8.next = bit_cast::<32, 8>(self.w_elem.val().get_bits::<8>(0));
        if self.wide.val() {
            self.e_be.next = self.be_wide.val() << (self.ea.val() & self.lane_mask.val());
            self.e_bm.next = self.bm_wide.val() << self.e_sh.val();
            self.x32.next = self.w_elem.val();
        } else {
            self.e_be.next = self.be_byte.val() << (self.ea.val() & self.lane_mask.val());
            self.e_bm.next = self.bm_byte.val() << self.e_sh.val();
            self.x32.next = self.x8.val() | (self.x8.val() << 8) | (self.x8.val() << 16) | (self.x8.val() << 24);
        }
        self.x32w.next = bit_cast::<W, 32>(self.x32.val());
        self.e_data.next = self.x32w.val();
        for q in 0..self.quad_sh.len() {
            self.e_data.next = self.e_data.val() | (self.x32w.val() << self.quad_sh[q].val());
        }
        self.req_be.next = self.wbe.val() | self.e_be.val();
        self.req_wdata.next = self.wbuf.val() | (self.e_data.val() & self.e_bm.val());
        if self.word.val() {
            // A store in word steps: each element is a whole word.
            self.req_be.next = self.be_all.val();
            self.req_wdata.next = self.w_word.val();
        }
        // A read burst from this element's word to the chunk's last word (the last element the
        // transfer requests in this chunk: a register set at the chunk's start), within the
        // 4 KiB page and at most 256 beats.
        self.nb_word.next = self.e_nb.val() >> self.lshift.val();
        self.cl_word.next = self.e_clast.val() >> self.lshift.val();
        self.span.next = self.cl_word.val() - self.e_word.val();
        // The next chunk's last element: min(len, elements left after this one) elements on,
        // both candidates from registers (the next chunk's first element, len − 1, the elements
        // left − 2) beside the compare that picks one.
        if self.word.val() {
            self.n_part.next = self.e_nb.val() + (bit_cast::<26, 20>(self.left_m2.val()) << self.lshift.val());
            self.n_full.next = self.e_nb.val() + (bit_cast::<26, 20>(self.len_m1.val()) << self.lshift.val());
        } else if self.wide.val() {
            self.n_part.next = self.e_nb.val() + (bit_cast::<26, 20>(self.left_m2.val()) << 2);
            self.n_full.next = self.e_nb.val() + (bit_cast::<26, 20>(self.len_m1.val()) << 2);
        } else {
            self.n_part.next = self.e_nb.val() + bit_cast::<26, 20>(self.left_m2.val());
            self.n_full.next = self.e_nb.val() + bit_cast::<26, 20>(self.len_m1.val());
        }
        if self.e_left.val() <= self.len.val() {
            self.n_clast.next = self.n_part.val();
        } else {
            self.n_clast.next = self.n_full.val();
        }
        // The words after this one to the page's last: the complement of the word's page bits
        // (no subtraction). The burst ends at the nearest of the chunk's last word, the page's
        // last and 255 words on: one compare (span against page), the two "within 255" tests
        // from the high bits; the covered word selected from values formed beside them
        // (timing: not the burst length added back to the word).
        self.page_left.next = !self.e_word.val() & self.page_mask.val();
        self.sp_small.next = !(self.span.val() & self.hi_mask.val()).any();
        self.pl_small.next = !(self.page_left.val() & self.hi_mask.val()).any();
        self.w255.next = self.e_word.val() + self.max_len.val();
        if self.span.val() < self.page_left.val() {
            self.blen.next = self.span.val().get_bits::<8>(0);
            self.cov_w.next = self.cl_word.val();
            if !self.sp_small.val() {
                self.blen.next = self.max_len.val().get_bits::<8>(0);
                self.cov_w.next = self.w255.val();
            }
        } else {
            self.blen.next = self.page_left.val().get_bits::<8>(0);
            self.cov_w.next = self.e_word.val() | self.page_mask.val();
            if !self.pl_small.val() {
                self.blen.next = self.max_len.val().get_bits::<8>(0);
                self.cov_w.next = self.w255.val();
            }
        }
        // The last element, or the next one is in another word: the next chunk's first
        // element's word differs (a compare of registers), or this lane is the word's last
        // (one byte) or last four (four bytes, aligned). Not through the next address's
        // select (timing).
        self.in_last.next = self.e_lane.val() == self.lane_last.val();
        if self.word.val() {
            self.in_last.next = true;
        } else if self.wide.val() {
            self.in_last.next = self.e_lane.val() == self.quad_last.val();
        }
        self.nb_diff.next = self.nb_word.val() != self.e_word.val();
        self.st_next.next = self.in_last.val();
        if self.e_end.val() {
            self.st_next.next = self.nb_diff.val();
        }
        // A store writes its word at the transfer's last element and where the next element is
        // in another word. From the registers (`cs_need`: the first element's, formed in the
        // cycle after a start), and for the next element when this one moves (`ns_need`): it is
        // the last; it starts the next chunk (this one ends its chunk) and ends it too (chunks
        // of one: the chunk after it starts in another word) or is its word's last; it ends
        // this chunk (its address is the chunk's last, `e_clast`) and the next chunk starts in
        // another word; or it is inside the chunk and its word's last (this lane is the one
        // before). A register (timing: the write handshake starts at a flip-flop).
        self.cs_need.next = (self.e_left.val() == 1) | self.st_next.val();
        // The run after the next one: within the next run's chunk `step` bytes on, or the chunk
        // after it (the next run is its chunk's last; with one run per chunk, every run).
        self.nb_step.next = self.e_nbs.val();
        self.nb_chk.next = self.e_cnbs.val();
        self.cnb2.next = self.e_cnb.val();
        self.rl2.next = self.e_rl.val() - 1;
        self.d_step.next = (self.nb_step.val() >> self.lshift.val()) != self.nb_word.val();
        self.d_chk.next = (self.nb_chk.val() >> self.lshift.val()) != self.nb_word.val();
        self.d_cnb.next = (self.e_cnb.val() >> self.lshift.val()) != self.nb_word.val();
        if !self.e_rl.val().any() {
            // The next run starts the next chunk (its first element is `e_cnb`).
            self.cnb2.next = self.nb_chk.val();
            self.rl2.next = self.rows_m1.val();
            if self.rows_m1.val().any() {
                self.nb2.next = self.nb_step.val();
                self.d_nb2.next = self.d_step.val();
            } else {
                self.nb2.next = self.nb_chk.val();
                self.d_nb2.next = self.d_chk.val();
            }
        } else if self.e_rl.val() == 1 {
            self.nb2.next = self.e_cnb.val();
            self.d_nb2.next = self.d_cnb.val();
        } else {
            self.nb2.next = self.nb_step.val();
            self.d_nb2.next = self.d_step.val();
        }
        self.nb_last.next = (self.e_nb.val() & self.lane_mask.val()) == self.lane_last.val();
        self.nx_last.next = self.e_lane.val() == self.lane_last2.val();
        if self.wide.val() {
            self.nb_last.next = (self.e_nb.val() & self.lane_mask.val()) == self.quad_last.val();
            self.nx_last.next = self.quad_one.val() | (self.e_lane.val() == self.quad_last2.val());
        }
        if self.e_last.val() {
            if self.len.val() == 1 {
                self.ns_need.next = self.d_nb2.val();
            } else {
                self.ns_need.next = self.nb_last.val();
            }
        } else if self.e_rem.val() == 2 {
            self.ns_need.next = self.nb_word.val() != self.cl_word.val();
        } else {
            self.ns_need.next = self.nx_last.val();
        }
        if (self.e_left.val() == 2) | self.word.val() {
            // The last element; or word steps, where every element is a word of its own.
            self.ns_need.next = true;
        }
        if self.store.val() {
            self.req_len.next = 0.into();
            self.req_need.next = self.s_need.val();
        } else {
            self.req_len.next = self.blen.val();
            // A register (timing: the request handshake starts at a flip-flop), formed when the
            // previous element moved.
            self.req_need.next = self.e_need.val();
        }
        // The next element of a load needs a burst where it is in another word than this one
        // and no burst reaches that word: inside a chunk, this lane is the word's last and the
        // reads so far end at this word (this element's burst is one beat: the chunk's last
        // word or the page's last is this one; else the latest burst's cover is this word); at
        // a chunk's end, the next chunk's first word differs. (Every element's word is covered
        // once it moved, so "ends at this word" is "does not reach the next".)
        if self.e_need.val() {
            // (The chunk's last word compared with this one, not the span tested for zero: no
            // subtraction before the register, timing.)
            self.cov_end.next = (self.cl_word.val() == self.e_word.val()) | !self.page_left.val().any();
        } else {
            self.cov_end.next = self.e_cover.val() == self.e_word.val();
        }
        self.n_need.next = self.in_last.val() & self.cov_end.val();
        if self.e_end.val() {
            self.n_need.next = self.nb_diff.val();
        }

        // ---- Response side: the element's address and whether it needs a new word are
        // registers (timing: no adder or compare before the response handshake).
        self.rsp_need.next = self.r_need.val();
        if self.rsp_need.val() {
            self.r_src.next = self.rsp_data.val();
        } else {
            self.r_src.next = self.hold.val();
        }
        self.r_lane.next = self.r_addr.val() & self.lane_mask.val();
        // The next element: at a chunk's end the next chunk's first (it may share this word);
        // else one element on, in a new word where this lane is the word's last (one byte) or
        // last four (four bytes, four-byte aligned), and every step with word steps.
        self.r_end.next = self.r_rem.val() == 1;
        if self.word.val() {
            self.r_step_addr.next = self.r_addr.val() + self.step_l.val();
            self.rn_need.next = true;
        } else if self.wide.val() {
            self.r_step_addr.next = self.r_addr.val() + 4;
            self.rn_need.next = self.r_lane.val() == self.quad_last.val();
        } else {
            self.r_step_addr.next = self.r_addr.val() + 1;
            self.rn_need.next = self.r_lane.val() == self.lane_last.val();
        }
        if self.r_end.val() {
            self.rn_need.next = (self.r_nb.val() >> self.lshift.val()) != (self.r_addr.val() >> self.lshift.val());
        }
        // The response cursor's runs, as the request cursor's.
        self.rnb_step.next = self.r_nb.val() + self.step.val();
        self.rnb_chk.next = self.r_cnb.val() + self.stride.val();
        self.rcnb2.next = self.r_cnb.val();
        self.rrl2.next = self.r_rl.val() - 1;
        if !self.r_rl.val().any() {
            self.rcnb2.next = self.rnb_chk.val();
            self.rrl2.next = self.rows_m1.val();
            if self.rows_m1.val().any() {
                self.rnb2.next = self.rnb_step.val();
            } else {
                self.rnb2.next = self.rnb_chk.val();
            }
        } else if self.r_rl.val() == 1 {
            self.rnb2.next = self.r_cnb.val();
        } else {
            self.rnb2.next = self.rnb_step.val();
        }
        self.r_b8.next = self.r_src.val().get_bits::<8>(0);
        for l in 0..self.lane_id.len() {
            if self.r_lane.val() == self.lane_id[l].val() {
                self.r_b8.next = self.r_src.val().get_bits::<8>(8 * l + 8);
            }
        }
        self.r_b32.next = self.r_src.val().get_bits::<32>(0);
        for q in 0..self.quad_id.len() {
            if self.r_lane.val() == self.quad_id[q].val() {
                self.r_b32.next = self.r_src.val().get_bits::<32>(32 * q + 32);
            }
        }
        self.r_byte.next = bit_cast::<32, 8>(self.r_b8.val());
        if self.wide.val() {
            self.rsp_elem.next = self.r_b32.val();
        } else if self.r_b8.val().get_bit(7) {
            self.rsp_elem.next = self.r_byte.val() | self.sext.val();
        } else {
            self.rsp_elem.next = self.r_byte.val();
        }
    }
}

/// The external-side cursors for words of W bits, L = W/8 bytes.
#[derive(LogicBlock)]
pub struct ExtCursor<const W: usize, const L: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A transfer starts.
    pub start: Signal<In, Bit>,
    /// First element's byte address.
    pub s_addr: Signal<In, Bits<26>>,
    /// Elements.
    pub s_words: Signal<In, Bits<20>>,
    /// Chunk stride (bytes).
    pub s_stride: Signal<In, Bits<26>>,
    /// An on-chip copy.
    pub s_copy: Signal<In, Bit>,
    /// A store.
    pub s_store: Signal<In, Bit>,
    /// Four-byte elements.
    pub s_wide: Signal<In, Bit>,
    /// Run length (the chunk length without runs).
    pub s_len: Signal<In, Bits<20>>,
    /// Runs per chunk (1 without runs; 0 counts as 4,096) and bytes from one run's start to the next's.
    pub s_rows: Signal<In, Bits<12>>,
    pub s_step: Signal<In, Bits<26>>,
    /// Several runs per chunk (`s_rows` ≠ 1; a flag formed ahead: timing).
    pub s_multi: Signal<In, Bit>,
    /// Word steps.
    pub s_word: Signal<In, Bit>,
    /// The element a write request carries.
    pub w_word: Signal<In, Bits<W>>,
    pub w_elem: Signal<In, Bits<32>>,
    /// The request cursor's element moved.
    pub req_fire: Signal<In, Bit>,
    /// The response cursor's element was taken.
    pub rsp_take: Signal<In, Bit>,
    /// The response's word.
    pub rsp_data: Signal<In, Bits<W>>,
    /// Elements are left on the request side.
    pub pending: Signal<Out, Bit>,
    /// The current element needs a bus request.
    pub req_need: Signal<Out, Bit>,
    /// Beats − 1 of the request (a read burst; 0 for a write).
    pub req_len: Signal<Out, Bits<8>>,
    /// Word address of the current element.
    pub req_addr: Signal<Out, Bits<26>>,
    /// Byte enables of the request.
    pub req_be: Signal<Out, Bits<L>>,
    /// Write data of the request.
    pub req_wdata: Signal<Out, Bits<W>>,
    /// The response cursor's element needs a new response word.
    pub rsp_need: Signal<Out, Bit>,
    /// The response's element.
    pub rsp_elem: Signal<Out, Bits<32>>,
    /// The word the response's element is in.
    pub rsp_word: Signal<Out, Bits<W>>,
    /// The combinational side.
    comb: ExtComb<W, L>,
    /// The transfer: chunk length, stride, four-byte elements, a store.
    len: DFF<Bits<20>>,
    stride: DFF<Bits<26>>,
    /// Runs: bytes between runs, runs per chunk − 1.
    step: DFF<Bits<26>>,
    rows_m1: DFF<Bits<12>>,
    wide: DFF<Bit>,
    store: DFF<Bit>,
    /// Word steps.
    word: DFF<Bit>,
    /// Request cursor: the next chunk's first element's address, the elements left in this
    /// chunk (this one included), elements left; the merged store word and its enables.
    e_nb: DFF<Bits<26>>,
    e_rem: DFF<Bits<20>>,
    /// The next chunk's first element's address; the runs after this element's in its chunk.
    e_cnb: DFF<Bits<26>>,
    e_rl: DFF<Bits<12>>,
    /// `e_nb + step`, `e_cnb + stride` (formed in the cycle after a start and with each run's
    /// end).
    e_nbs: DFF<Bits<26>>,
    e_cnbs: DFF<Bits<26>>,
    /// The element ends its chunk; a store: it needs a write (formed
    /// when the previous element moved, and in the cycle after a start).
    e_last: DFF<Bit>,
    s_need: DFF<Bit>,
    /// Elements are left on the request side, the cycle after a start excepted (`pending`, a
    /// register: timing).
    e_pend: DFF<Bit>,
    e_left: DFF<Bits<20>>,
    /// len − 1; elements left − 2; the transfer's elements − 1 (for the first chunk's last).
    len_m1: DFF<Bits<20>>,
    left_m2: DFF<Bits<20>>,
    words_m1: DFF<Bits<20>>,
    /// The cycle after a start: the first chunk's last element is formed, no request moves
    /// (timing: from registers, one adder).
    e_init: DFF<Bit>,
    /// The element's byte address; the chunk's last element's (the last the transfer requests).
    e_addr: DFF<Bits<26>>,
    e_clast: DFF<Bits<26>>,
    /// A load: the element needs a read burst (formed when the previous element moved).
    e_need: DFF<Bit>,
    /// The last word the latest read burst covers.
    e_cover: DFF<Bits<26>>,
    wbuf: DFF<Bits<W>>,
    wbe: DFF<Bits<L>>,
    /// Response cursor: the element's byte address; it needs a new response word (the first
    /// element, or its word differs from the previous element's); the next chunk's first
    /// element's address; the elements left in the chunk, this one included; the word held.
    r_addr: DFF<Bits<26>>,
    r_need: DFF<Bit>,
    r_nb: DFF<Bits<26>>,
    r_rem: DFF<Bits<20>>,
    r_cnb: DFF<Bits<26>>,
    r_rl: DFF<Bits<12>>,
    hold: DFF<Bits<W>>,
    /// The first chunk's last element for a first chunk of `len` elements, and of all of them.
    i_len: Signal<Local, Bits<26>>,
    i_all: Signal<Local, Bits<26>>,
    /// The word-address shift, log2 L.
    lshift: Constant<Bits<26>>,
}

impl<const W: usize, const L: usize> Default for ExtCursor<W, L> {
    fn default() -> Self {
        block_with_defaults!(ExtCursor {
            comb: ExtComb::default(),
            lshift: Constant::new(u64::from(L.trailing_zeros()).into()),
        } defaults {
            clock, start, s_addr, s_words, s_stride, s_copy, s_store, s_wide, s_len, s_rows, s_step, s_multi, s_word, w_elem, w_word, req_fire, rsp_take,
            rsp_data, pending, req_need, req_len, req_addr, req_be, req_wdata, rsp_need, rsp_elem, rsp_word, len, stride, step, rows_m1, wide, store, word,
            e_nb, e_rem, e_cnb, e_rl, e_nbs, e_cnbs, r_cnb, r_rl, e_last, s_need, e_pend, e_left, len_m1, left_m2, words_m1, e_init, e_addr, e_clast, e_need, e_cover, wbuf, wbe, r_addr, r_need, r_nb, r_rem, hold,
            i_len, i_all,
        })
    }
}

impl<const W: usize, const L: usize> Logic for ExtCursor<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, len, stride, step, rows_m1, wide, store, word, e_nb, e_rem, e_cnb, e_rl, e_nbs, e_cnbs, r_cnb, r_rl, e_last, s_need, e_pend, e_left, len_m1, left_m2, words_m1, e_init, e_addr, e_clast, e_need, e_cover, wbuf, wbe, r_addr, r_need, r_nb, r_rem, hold);
        self.comb.wide.next = self.wide.q.val();
        self.comb.word.next = self.word.q.val();
        self.comb.store.next = self.store.q.val();
        self.comb.len.next = self.len.q.val();
        self.comb.e_nb.next = self.e_nb.q.val();
        self.comb.e_rem.next = self.e_rem.q.val();
        self.comb.stride.next = self.stride.q.val();
        self.comb.step.next = self.step.q.val();
        self.comb.rows_m1.next = self.rows_m1.q.val();
        self.comb.e_cnb.next = self.e_cnb.q.val();
        self.comb.e_nbs.next = self.e_nbs.q.val();
        self.comb.e_cnbs.next = self.e_cnbs.q.val();
        self.comb.e_rl.next = self.e_rl.q.val();
        self.comb.r_cnb.next = self.r_cnb.q.val();
        self.comb.r_rl.next = self.r_rl.q.val();
        self.comb.e_last.next = self.e_last.q.val();
        self.comb.s_need.next = self.s_need.q.val();
        self.comb.len_m1.next = self.len_m1.q.val();
        self.comb.left_m2.next = self.left_m2.q.val();
        self.comb.e_left.next = self.e_left.q.val();
        self.comb.e_addr.next = self.e_addr.q.val();
        self.comb.e_clast.next = self.e_clast.q.val();
        self.comb.e_need.next = self.e_need.q.val();
        self.comb.e_cover.next = self.e_cover.q.val();
        self.comb.wbuf.next = self.wbuf.q.val();
        self.comb.wbe.next = self.wbe.q.val();
        self.comb.r_addr.next = self.r_addr.q.val();
        self.comb.r_need.next = self.r_need.q.val();
        self.comb.r_nb.next = self.r_nb.q.val();
        self.comb.r_rem.next = self.r_rem.q.val();
        self.comb.hold.next = self.hold.q.val();
        self.comb.w_elem.next = self.w_elem.val();
        self.comb.w_word.next = self.w_word.val();
        self.comb.rsp_data.next = self.rsp_data.val();
        self.pending.next = self.e_pend.q.val();
        self.req_need.next = self.comb.req_need.val();
        self.req_len.next = self.comb.req_len.val();
        self.req_addr.next = self.comb.e_word.val();
        self.req_be.next = self.comb.req_be.val();
        self.req_wdata.next = self.comb.req_wdata.val();
        self.rsp_need.next = self.comb.rsp_need.val();
        self.rsp_elem.next = self.comb.rsp_elem.val();
        self.rsp_word.next = self.comb.r_src.val();
        if self.req_fire.val() {
            self.e_left.d.next = self.e_left.q.val() - 1;
            self.e_pend.d.next = self.e_left.q.val() > 1;
            self.left_m2.d.next = self.left_m2.q.val() - 1;
            self.e_need.d.next = self.comb.n_need.val();
            self.s_need.d.next = self.comb.ns_need.val();
            if self.comb.req_need.val() {
                self.wbuf.d.next = 0.into();
                self.wbe.d.next = 0.into();
                self.e_cover.d.next = self.comb.cov_w.val();
            } else {
                self.wbuf.d.next = self.comb.req_wdata.val();
                self.wbe.d.next = self.comb.req_be.val();
            }
            self.e_addr.d.next = self.comb.ea_next.val();
            if self.comb.e_end.val() {
                self.e_rem.d.next = self.len.q.val();
                self.e_last.d.next = self.len.q.val() == 1;
                self.e_nb.d.next = self.comb.nb2.val();
                self.e_cnb.d.next = self.comb.cnb2.val();
                self.e_nbs.d.next = self.comb.nb2.val() + self.step.q.val();
                self.e_cnbs.d.next = self.comb.cnb2.val() + self.stride.q.val();
                self.e_rl.d.next = self.comb.rl2.val();
                self.e_clast.d.next = self.comb.n_clast.val();
            } else {
                self.e_rem.d.next = self.e_rem.q.val() - 1;
                self.e_last.d.next = self.e_rem.q.val() == 2;
            }
        }
        if self.rsp_take.val() {
            self.hold.d.next = self.comb.r_src.val();
            self.r_need.d.next = self.comb.rn_need.val();
            if self.comb.r_end.val() {
                self.r_addr.d.next = self.r_nb.q.val();
                self.r_nb.d.next = self.comb.rnb2.val();
                self.r_cnb.d.next = self.comb.rcnb2.val();
                self.r_rl.d.next = self.comb.rrl2.val();
                self.r_rem.d.next = self.len.q.val();
            } else {
                self.r_addr.d.next = self.comb.r_step_addr.val();
                self.r_rem.d.next = self.r_rem.q.val() - 1;
            }
        }
        // The cycle after a start: the first chunk's last element, min(len, words) elements on.
        if self.word.q.val() {
            self.i_len.next = self.e_addr.q.val() + (bit_cast::<26, 20>(self.len_m1.q.val()) << self.lshift.val());
            self.i_all.next = self.e_addr.q.val() + (bit_cast::<26, 20>(self.words_m1.q.val()) << self.lshift.val());
        } else if self.wide.q.val() {
            self.i_len.next = self.e_addr.q.val() + (bit_cast::<26, 20>(self.len_m1.q.val()) << 2);
            self.i_all.next = self.e_addr.q.val() + (bit_cast::<26, 20>(self.words_m1.q.val()) << 2);
        } else {
            self.i_len.next = self.e_addr.q.val() + bit_cast::<26, 20>(self.len_m1.q.val());
            self.i_all.next = self.e_addr.q.val() + bit_cast::<26, 20>(self.words_m1.q.val());
        }
        if self.e_init.q.val() {
            self.e_init.d.next = false;
            self.e_nbs.d.next = self.e_nb.q.val() + self.step.q.val();
            self.e_cnbs.d.next = self.e_cnb.q.val() + self.stride.q.val();
            self.s_need.d.next = self.comb.cs_need.val();
            self.e_pend.d.next = self.e_left.q.val().any();
            if self.len_m1.q.val() < self.words_m1.q.val() {
                self.e_clast.d.next = self.i_len.val();
            } else {
                self.e_clast.d.next = self.i_all.val();
            }
        }
        if self.start.val() {
            self.len.d.next = self.s_len.val();
            self.stride.d.next = self.s_stride.val();
            self.wide.d.next = self.s_wide.val();
            self.store.d.next = self.s_store.val();
            self.word.d.next = self.s_word.val();
            self.e_addr.d.next = self.s_addr.val();
            self.step.d.next = self.s_step.val();
            self.rows_m1.d.next = self.s_rows.val() - 1;
            // The second run: `step` bytes on, or (one run per chunk) the next chunk.
            self.e_cnb.d.next = self.s_addr.val() + self.s_stride.val();
            self.e_rl.d.next = self.s_rows.val() - 1;
            self.r_cnb.d.next = self.s_addr.val() + self.s_stride.val();
            self.r_rl.d.next = self.s_rows.val() - 1;
            if self.s_multi.val() {
                self.e_nb.d.next = self.s_addr.val() + self.s_step.val();
                self.r_nb.d.next = self.s_addr.val() + self.s_step.val();
            } else {
                self.e_nb.d.next = self.s_addr.val() + self.s_stride.val();
                self.r_nb.d.next = self.s_addr.val() + self.s_stride.val();
            }
            self.e_rem.d.next = self.s_len.val();
            self.e_last.d.next = self.s_len.val() == 1;
            self.len_m1.d.next = self.s_len.val() - 1;
            self.left_m2.d.next = self.s_words.val() - 2;
            self.words_m1.d.next = self.s_words.val() - 1;
            self.e_init.d.next = true;
            self.e_pend.d.next = false;
            self.e_need.d.next = true;
            self.wbuf.d.next = 0.into();
            self.wbe.d.next = 0.into();
            self.r_addr.d.next = self.s_addr.val();
            self.r_rem.d.next = self.s_len.val();
            self.r_need.d.next = true;
            self.e_left.d.next = self.s_words.val();
            if self.s_copy.val() {
                self.e_left.d.next = 0.into();
            }
        }
    }
}

crate::clocked!(impl[const W: usize, const L: usize] ExtCursor<W, L>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use std::collections::VecDeque;

    /// Byte address of element i of a transfer of `size`-byte elements (docs/isa.md: chunks of
    /// `rows` runs of `run` elements, runs `step` bytes apart, chunks `stride` bytes apart).
    fn element(addr: u64, i: u64, [run, rows, step, stride]: [u64; 4], size: u64) -> u64 {
        let (q, j) = (i / (run * rows), i % (run * rows));
        addr + q * stride + (j / run) * step + (j % run) * size
    }

    /// The word of `mem` at word address `w` (L bytes, little-endian).
    fn word<const L: usize>(mem: &[u8], w: u64) -> u128 {
        (0..L).fold(0u128, |acc, b| acc | u128::from(mem[w as usize * L + b]) << (8 * b))
    }

    /// Starts a transfer: `[addr, words, stride, run length, runs per chunk, step]`, `[store,
    /// wide, word steps]`; the cycle after it, no start and no handshake.
    fn start<const W: usize, const L: usize>(h: &mut crate::sim::Harness<ExtCursor<W, L>>, [addr, words, stride, len, rows, step]: [u64; 6], [store, wide, word]: [bool; 3]) {
        let u = &mut h.uut;
        u.start.next = true;
        u.s_addr.next = addr.into();
        u.s_words.next = words.into();
        u.s_stride.next = stride.into();
        u.s_copy.next = false;
        u.s_store.next = store;
        u.s_wide.next = wide;
        u.s_len.next = len.into();
        u.s_rows.next = rows.into();
        u.s_multi.next = rows != 1;
        u.s_step.next = step.into();
        u.s_word.next = word;
        u.req_fire.next = false;
        u.rsp_take.next = false;
        h.step().unwrap();
        h.uut.start.next = false;
        h.uut.s_word.next = false;
    }

    /// One random transfer against a memory of random bytes, with random request and response
    /// timing: every request's need, word address and (stores) merged bytes and enables, every
    /// response element's value; the memory after a store equals the elements written in order.
    /// Returns which burst limits it met: 256 beats, the page end.
    fn transfer<const W: usize, const L: usize>(h: &mut crate::sim::Harness<ExtCursor<W, L>>, rng: &mut Rng, store: bool, wide: bool) -> [bool; 2] {
        let mut limits = [false; 2];
        let size = if wide { 4 } else { 1 };
        // Short chunks, or (one-byte elements) long ones: bursts of up to 256 beats.
        let long = !wide && rng.below(3) == 0;
        let len = if long { 1 + rng.below(2000) } else { 1 + rng.below(9) };
        // Runs (`MEM_ROWS`) in two transfers of three: `rows` runs of `len` elements per chunk,
        // `step` bytes apart (a run may start in the word the previous one ended in); else one
        // run per chunk and `step` unused.
        let rows = if rng.below(3) == 0 { 1 } else { 1 + rng.below(if long { 2 } else { 4 }) };
        let step = if wide { 4 * (len + rng.below(3)) } else { len + rng.below(2 * L as u64) };
        let run_span = if rows == 1 { len * size } else { (rows - 1) * step + len * size };
        // Whole chunks, or a last chunk cut anywhere.
        let full = len * rows * (1 + rng.below(if long { 2 } else { 4 }));
        let words = if rng.below(2) == 0 { full } else { full - rng.below(len * rows) };
        // Chunks may overlap a word the previous one ended in, or start anywhere.
        let stride = if wide { run_span + 4 * rng.below(3) } else { run_span + rng.below(2 * L as u64) };
        // Anywhere in the first 8 KiB: bursts meet the 4 KiB page boundary.
        let addr = if wide {
            4 * rng.below(1900)
        } else if long && rng.below(2) == 0 {
            // A long chunk across the page end.
            4095 - rng.below(len)
        } else {
            rng.below(8000)
        };
        let mut mem: Vec<u8> = (0..16384).map(|_| rng.below(256) as u8).collect();
        let mut want = mem.clone();
        let elems: Vec<u32> = (0..words).map(|_| rng.below(1 << 32) as u32).collect();
        let at = |i: u64| element(addr, i, [len, rows, step, stride], size);
        if store {
            for (i, &e) in elems.iter().enumerate() {
                let a = at(i as u64) as usize;
                want[a..a + size as usize].copy_from_slice(&e.to_le_bytes()[..size as usize]);
            }
        }
        start(h, [addr, words, stride, len, rows, if rows == 1 { rng.below(1 << 20) } else { step }], [store, wide, false]);
        let mut first = true;
        let (mut req, mut rsp) = (0u64, 0u64);
        let mut queue: VecDeque<u128> = VecDeque::new();
        let word_of = |i: u64| at(i) / L as u64;
        // The last word the latest read burst covered.
        let mut cover = 0u64;
        while req < words || (!store && rsp < words) {
            // The cycle after the start forms the first chunk's last element: nothing pending.
            let init = std::mem::take(&mut first);
            let fire = !init && req < words && rng.below(2) == 0;
            let u = &mut h.uut;
            u.w_elem.next = elems.get(req as usize).copied().map_or(0u64, u64::from).into();
            u.req_fire.next = fire;
            u.rsp_data.next = Bits::<W>::from(0u64);
            let front = queue.front().copied();
            if let Some(d) = front {
                let mut v = Bits::<W>::default();
                for b in 0..L {
                    v.set_bits::<8>(8 * b, ((d >> (8 * b)) as u64 & 0xFF).into());
                }
                u.rsp_data.next = v;
            }
            h.settle().unwrap();
            let u = &h.uut;
            assert_eq!(u.pending.val(), !init && req < words, "request {req} of {words}");
            let mut need_rsp = false;
            if !init && req < words {
                let need = if store {
                    req + 1 == words || word_of(req + 1) != word_of(req)
                } else {
                    req == 0 || (word_of(req) != word_of(req - 1) && (req % len == 0 || word_of(req) > cover))
                };
                assert_eq!(u.req_need.val(), need, "request {req}: need (store {store}, wide {wide})");
                assert_eq!(u.req_addr.val().index() as u64, word_of(req), "request {req}: word");
                // A load's burst: to the chunk's last word, within the 4 KiB page, 256 beats.
                let blen = if store {
                    0
                } else {
                    let rem = (len - req % len).min(words - req);
                    let page = 4096 / L as u64;
                    let (span, page_left) = (word_of(req + rem - 1) - word_of(req), page - 1 - word_of(req) % page);
                    if need {
                        limits[0] |= span.min(page_left) > 255;
                        limits[1] |= page_left < span.min(255);
                    }
                    span.min(page_left).min(255)
                };
                if need {
                    assert_eq!(u.req_len.val().index() as u64, blen, "request {req}: burst length");
                }
                if fire && need {
                    if store {
                        let (be, data) = (u.req_be.val().index() as u64, u.req_wdata.val());
                        for b in 0..L {
                            if be >> b & 1 == 1 {
                                mem[word_of(req) as usize * L + b] = data.get_bits::<8>(8 * b).index() as u8;
                            }
                        }
                    } else {
                        for w in word_of(req)..=word_of(req) + blen {
                            queue.push_back(word::<L>(&mem, w));
                        }
                        cover = word_of(req) + blen;
                    }
                }
            }
            let take = !store && rsp < req && rng.below(2) == 0 && (!u.rsp_need.val() || !queue.is_empty());
            if !store && rsp < words {
                assert_eq!(u.rsp_need.val(), rsp == 0 || word_of(rsp) != word_of(rsp - 1), "response {rsp}: need");
                if take {
                    need_rsp = u.rsp_need.val();
                    let a = at(rsp) as usize;
                    let v = if wide { u32::from_le_bytes(mem[a..a + 4].try_into().unwrap()) } else { mem[a] as i8 as i32 as u32 };
                    assert_eq!(u.rsp_elem.val().index() as u32, v, "response {rsp} (wide {wide})");
                }
            }
            h.uut.rsp_take.next = take;
            h.step().unwrap();
            if need_rsp {
                queue.pop_front();
            }
            req += u64::from(fire);
            rsp += u64::from(take);
        }
        assert!(queue.is_empty(), "every response word taken");
        if store {
            assert_eq!(mem, want, "memory after the store (wide {wide})");
        }
        limits
    }

    /// One random load in word steps with random request and response timing: chunks of runs
    /// (`MEM_ROWS`) or one run per chunk, every address, stride, step and run a multiple of L and
    /// the counts in words. A burst request at the first word and at each run's first word (to
    /// the run's last word, the page end, 256 beats) and past each burst's cover; every response
    /// word taken whole.
    fn word_transfer<const W: usize, const L: usize>(h: &mut crate::sim::Harness<ExtCursor<W, L>>, rng: &mut Rng) {
        let lb = L as u64;
        let long = rng.below(2) == 0;
        let run = if long { 1 + rng.below(5000 / lb) } else { 1 + rng.below(9) };
        let rows = if long || rng.below(3) == 0 { 1 } else { 1 + rng.below(4) };
        let step = lb * (run + rng.below(3));
        let span = if rows == 1 { run * lb } else { (rows - 1) * step + run * lb };
        let stride = span + lb * rng.below(3);
        let full = run * rows * (1 + rng.below(if long { 1 } else { 4 }));
        let words = if rng.below(2) == 0 { full } else { full - rng.below(run * rows) };
        let addr = lb * rng.below(8192 / lb);
        let mem: Vec<u8> = (0..24576).map(|_| rng.below(256) as u8).collect();
        start(h, [addr, words, stride, run, rows, if rows == 1 { lb * rng.below(1 << 16) } else { step }], [false, false, true]);
        let word_of = |i: u64| element(addr, i, [run, rows, step, stride], lb) / lb;
        let mut init_cycle = true;
        let (mut req, mut rsp) = (0u64, 0u64);
        let mut queue: VecDeque<u128> = VecDeque::new();
        let mut cover = 0u64;
        while req < words || rsp < words {
            let init = std::mem::take(&mut init_cycle);
            let fire = !init && req < words && rng.below(2) == 0;
            let u = &mut h.uut;
            u.req_fire.next = fire;
            let mut v = Bits::<W>::default();
            if let Some(&d) = queue.front() {
                for b in 0..L {
                    v.set_bits::<8>(8 * b, ((d >> (8 * b)) as u64 & 0xFF).into());
                }
            }
            u.rsp_data.next = v;
            h.settle().unwrap();
            let u = &h.uut;
            let ctx = format!("word step {req} of {words} (run {run}, rows {rows}, step {step}, stride {stride}, addr {addr})");
            assert_eq!(u.pending.val(), !init && req < words, "{ctx}");
            if !init && req < words {
                let w = word_of(req);
                let need = req == 0 || (w != word_of(req - 1) && (req % run == 0 || w > cover));
                assert_eq!(u.req_need.val(), need, "{ctx}: need");
                assert_eq!(u.req_addr.val().index() as u64, w, "{ctx}: word");
                let page = 4096 / lb;
                let rem = (run - req % run).min(words - req);
                let blen = (word_of(req + rem - 1) - w).min(page - 1 - w % page).min(255);
                if need {
                    assert_eq!(u.req_len.val().index() as u64, blen, "{ctx}: burst length");
                    if fire {
                        queue.extend((w..=w + blen).map(|x| word::<L>(&mem, x)));
                        cover = w + blen;
                    }
                }
            }
            let take = rsp < req && !queue.is_empty() && rng.below(2) == 0;
            if rsp < words {
                assert!(u.rsp_need.val(), "word step {rsp}: every step takes a response word");
            }
            if take {
                assert_eq!(queue.front().copied(), Some(word::<L>(&mem, word_of(rsp))), "word step {rsp}: the word of its place");
                assert_eq!(u.rsp_word.val(), v, "word step {rsp}: the whole response word");
                queue.pop_front();
            }
            h.uut.rsp_take.next = take;
            h.step().unwrap();
            req += u64::from(fire);
            rsp += u64::from(take);
        }
        assert!(queue.is_empty(), "every response word taken");
    }

    fn check<const W: usize, const L: usize>(seed: u64) {
        let mut rng = Rng::from_env("ext-cursor", seed);
        let mut h = crate::sim::Harness::new(ExtCursor::<W, L>::default()).unwrap();
        let mut limits = [false; 2];
        for n in 0..80 {
            let l = transfer(&mut h, &mut rng, n % 2 == 1, n % 4 == 2 || n % 8 == 7);
            limits = [limits[0] | l[0], limits[1] | l[1]];
            if n % 4 == 3 {
                // Word steps between element transfers: each starts from any state.
                word_transfer(&mut h, &mut rng);
            }
        }
        // (256 beats of 64 or 128 bits are 2 or 4 KiB: chunks of at most 2,000 bytes meet only
        // the page end there.)
        assert_eq!(limits, [L == 4, true], "{W}-bit words: bursts cut at 256 beats and at a page end were tested");
    }

    /// Random loads and stores of one- and four-byte elements with random request and response
    /// timing on 32-, 64- and 128-bit words: loads in bursts to each chunk's end (page and length
    /// limits), stores one access per run of elements in a word, each element read from and
    /// written to its bytes (docs/isa.md); loads in word steps between them.
    #[test]
    fn requests_and_responses_follow_the_packed_chunked_layout() {
        check::<32, 4>(1);
        check::<64, 8>(2);
        check::<128, 16>(3);
    }
}
