//! # SlotIssuer: what the conv engine's first cache is read for, slow cycle by slow cycle
//!
//! At each strobe the issuer sets the next slow cycle's slot: the running pass's next pixel, a
//! new pass's first pixel (when the sequencer starts one: `issue_new`, never while `in_pass`), or
//! a bubble. A slot
//! names the first-cache entry to read, whether the pixel is padding (streamed as zero) and the
//! [`Tag`] that travels with the datum. Pixels go row by row over the Ho×Wo output map; the input
//! pixel of output (y, x) at tap (kr, ks) is (y·sh + kr − ph, x·sw + ks − pw), at first-cache
//! entry `p_fbase` + ict·H·W + its row·W + its column (docs/conv-array.md).
//!
//! Timing: the candidates for both cases are formed and registered in the cycle before each
//! strobe (the issue state changes only at strobes, K ≥ 2 cycles apart, so candidates formed
//! from it are current); only the choice between them waits for the strobe's live flags. A next
//! pixel's entry steps from registers: along the row from the current slot's entry, to a new row
//! from the current row's first entry (one adder).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `strobe` | in | 1 | clock; last fast cycle of the slow cycle |
//! | `start` | in | 1 | a run starts (no pass in progress) |
//! | `issue_new` | in | 1 | a new pass starts at this strobe (only while not `in_pass`) |
//! | `p_*` | in | 16 | layer parameters (`p_keep`: the first pass of a tile adds to kept sums) |
//! | `ks`, `kr`, `krw`, `planebase`, `tile_first`, `tile_last`, `half` | in | | the pass ([`PassCounter`](crate::pe::PassCounter)) |
//! | `in_pass` | out | 1 | a pass is being issued |
//! | `pix_left` | out | 16 | pixels of the pass after the current slot's (0 with `in_pass`: the slot now ending is the pass's last) |
//!
//! `in_pass` and `pix_left` are registers: the sequencer decides `issue_new` and the pass end from them
//! (a decision formed from the issuer's own input would be a combinational loop between blocks).
//! | `slot_valid`, `slot_pad`, `slot_tag`, `slot_addr` | out | 1, 1, 8, 16 | the slot of this slow cycle (a pass's first slot's tag names its weights' shadow bank: the pass's parity in the run) |
//! | `slot_iyp`, `slot_ixp` | out | 16, 16 | its padded input row and column at tap (kr, ks): the conv engine's tap rows move the pixel per row |

use crate::pe::{Tag, TAG_BANK, TAG_FIRST, TAG_HALF, TAG_LAST, TAG_LASTP, TAG_PAD, TAG_SWAP, TAG_VALID};
use rust_hdl::prelude::*;

/// The slot issuer.
#[derive(LogicBlock)]
pub struct SlotIssuer {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Last fast cycle of the slow cycle.
    pub strobe: Signal<In, Bit>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// A new pass starts at this strobe.
    pub issue_new: Signal<In, Bit>,
    /// Output width Wo.
    pub p_wo: Signal<In, Bits<16>>,
    /// Input height H.
    pub p_h: Signal<In, Bits<16>>,
    /// Input width W.
    pub p_w: Signal<In, Bits<16>>,
    /// Vertical padding.
    pub p_ph: Signal<In, Bits<16>>,
    /// Horizontal padding.
    pub p_pw: Signal<In, Bits<16>>,
    /// Vertical stride.
    pub p_sh: Signal<In, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<In, Bits<16>>,
    /// sh·W.
    pub p_shw: Signal<In, Bits<16>>,
    /// ph·W.
    pub p_phw: Signal<In, Bits<16>>,
    /// Ho·Wo.
    pub p_pixels: Signal<In, Bits<16>>,
    /// First-cache entry of the run's input.
    pub p_fbase: Signal<In, Bits<16>>,
    /// The first pass of a tile adds to kept sums.
    pub p_keep: Signal<In, Bit>,
    /// Kernel column of the pass.
    pub ks: Signal<In, Bits<16>>,
    /// Kernel row of the pass.
    pub kr: Signal<In, Bits<16>>,
    /// kr·W.
    pub krw: Signal<In, Bits<16>>,
    /// ict·H·W.
    pub planebase: Signal<In, Bits<16>>,
    /// First pass of its tile.
    pub tile_first: Signal<In, Bit>,
    /// Last pass of its tile.
    pub tile_last: Signal<In, Bit>,
    /// Accumulation half of the tile.
    pub half: Signal<In, Bit>,
    /// A pass is being issued.
    pub in_pass: Signal<Out, Bit>,
    /// Pixels of the pass after the current slot's.
    pub pix_left: Signal<Out, Bits<16>>,
    /// The slot reads a pixel (else a bubble).
    pub slot_valid: Signal<Out, Bit>,
    /// The pixel is padding.
    pub slot_pad: Signal<Out, Bit>,
    /// Its tag.
    pub slot_tag: Signal<Out, Tag>,
    /// Its first-cache entry.
    pub slot_addr: Signal<Out, Bits<16>>,
    /// Its padded input row and column (at the pass's tap).
    pub slot_iyp: Signal<Out, Bits<16>>,
    pub slot_ixp: Signal<Out, Bits<16>>,
    /// Tag bits, from the `TAG_*` positions.
    tag_valid: Constant<Tag>,
    tag_swap: Constant<Tag>,
    tag_first: Constant<Tag>,
    tag_last: Constant<Tag>,
    tag_half: Constant<Tag>,
    tag_pad: Constant<Tag>,
    tag_lastp: Constant<Tag>,
    tag_bank: Constant<Tag>,
    /// The parity of the next pass within the run: the shadow bank its weights are in.
    bank: DFF<Bit>,
    /// The slot.
    valid_r: DFF<Bit>,
    pad_r: DFF<Bit>,
    tag_r: DFF<Tag>,
    addr_r: DFF<Bits<16>>,
    /// A pass is being issued: pixels left after the current one, output column, input column
    /// and row (padded coordinates), the entry of the current row's first pixel.
    pass_r: DFF<Bit>,
    left_r: DFF<Bits<16>>,
    px: DFF<Bits<16>>,
    ixp: DFF<Bits<16>>,
    iyp: DFF<Bits<16>>,
    rowaddr: DFF<Bits<16>>,
    /// Parameter sums, registered (the parameters are stable from the start of a run, and the
    /// first candidates are formed a cycle after it): Wo − 1, H + ph, W + pw.
    wo_last: DFF<Bits<16>>,
    h_ph: DFF<Bits<16>>,
    w_pw: DFF<Bits<16>>,
    /// Candidate A, the pass's next pixel, registered: cursor, entry, padding, last of its tile,
    /// starts a new row.
    ca_px: DFF<Bits<16>>,
    ca_ixp: DFF<Bits<16>>,
    ca_iyp: DFF<Bits<16>>,
    ca_pixl: DFF<Bits<16>>,
    ca_addr: DFF<Bits<16>>,
    ca_pad: DFF<Bit>,
    ca_last: DFF<Bit>,
    ca_eol: DFF<Bit>,
    /// Candidate B, a new pass's first pixel, registered.
    cb_pixl: DFF<Bits<16>>,
    cb_addr: DFF<Bits<16>>,
    cb_pad: DFF<Bit>,
    cb_last: DFF<Bit>,
    /// Candidate A unregistered: at the end of its row or not, cursor, pixels left; the next
    /// row's input row and the next pixel's input column; padding at the end of a row and inside.
    a_eol: Signal<Local, Bit>,
    a_px: Signal<Local, Bits<16>>,
    a_ixp: Signal<Local, Bits<16>>,
    a_iyp: Signal<Local, Bits<16>>,
    a_pixl: Signal<Local, Bits<16>>,
    a_yn: Signal<Local, Bits<16>>,
    a_xn: Signal<Local, Bits<16>>,
    pad_eol: Signal<Local, Bit>,
    pad_mid: Signal<Local, Bit>,
    /// Candidate B unregistered: the entry of its row, pixels left.
    b_rowbase: Signal<Local, Bits<16>>,
    b_pixl: Signal<Local, Bits<16>>,
    /// The slot now ending is its pass's last.
    pass_end: Signal<Local, Bit>,
    /// The pass's next pixel is issued.
    issue_next: Signal<Local, Bit>,
    /// The tag of the slot to issue.
    tag: Signal<Local, Tag>,
}

impl Default for SlotIssuer {
    fn default() -> Self {
        let bit = |b: usize| Constant::new(Tag::from(1u64 << b));
        block_with_defaults!(SlotIssuer {
            tag_valid: bit(TAG_VALID),
            tag_swap: bit(TAG_SWAP),
            tag_first: bit(TAG_FIRST),
            tag_last: bit(TAG_LAST),
            tag_half: bit(TAG_HALF),
            tag_pad: bit(TAG_PAD),
            tag_lastp: bit(TAG_LASTP),
            tag_bank: bit(TAG_BANK),
        } defaults {
            clock, strobe, start, issue_new, p_wo, p_h, p_w, p_ph, p_pw, p_sh, p_sw, p_shw, p_phw,
            p_pixels, p_fbase, p_keep, ks, kr, krw, planebase, slot_iyp, slot_ixp, tile_first, tile_last, half,
            in_pass, pix_left, slot_valid, slot_pad, slot_tag, slot_addr, valid_r, pad_r, tag_r,
            addr_r, pass_r, left_r, px, ixp, iyp, rowaddr, wo_last, h_ph, w_pw, ca_px, ca_ixp,
            ca_iyp, ca_pixl, ca_addr, ca_pad, ca_last, ca_eol, cb_pixl, cb_addr, cb_pad, cb_last,
            a_eol, a_px, a_ixp, a_iyp, a_pixl, a_yn, a_xn, pad_eol, pad_mid, b_rowbase, b_pixl,
            pass_end, issue_next, tag, bank,
        })
    }
}

impl Logic for SlotIssuer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, bank, valid_r, pad_r, tag_r, addr_r, pass_r, left_r, px, ixp, iyp, rowaddr,
            wo_last, h_ph, w_pw, ca_px, ca_ixp, ca_iyp, ca_pixl, ca_addr, ca_pad, ca_last, ca_eol,
            cb_pixl, cb_addr, cb_pad, cb_last
        );
        self.slot_valid.next = self.valid_r.q.val();
        self.slot_pad.next = self.pad_r.q.val();
        self.slot_tag.next = self.tag_r.q.val();
        self.slot_addr.next = self.addr_r.q.val();
        self.slot_iyp.next = self.iyp.q.val();
        self.slot_ixp.next = self.ixp.q.val();
        self.issue_next.next = self.pass_r.q.val() & self.left_r.q.val().any();
        self.in_pass.next = self.pass_r.q.val();
        self.pix_left.next = self.left_r.q.val();
        self.pass_end.next = self.pass_r.q.val() & !self.left_r.q.val().any();
        self.wo_last.d.next = self.p_wo.val() - 1;
        self.h_ph.d.next = self.p_h.val() + self.p_ph.val();
        self.w_pw.d.next = self.p_w.val() + self.p_pw.val();

        // ---- Candidate A, the pass's next pixel: along the row, or the next row's first.
        self.a_eol.next = self.px.q.val() == self.wo_last.q.val();
        self.a_yn.next = self.iyp.q.val() + self.p_sh.val();
        self.a_xn.next = self.ixp.q.val() + self.p_sw.val();
        // Padding of both A candidates, formed in parallel with the end-of-row compare.
        self.pad_eol.next = (self.a_yn.val() < self.p_ph.val())
            | (self.a_yn.val() >= self.h_ph.q.val())
            | (self.ks.val() < self.p_pw.val())
            | (self.ks.val() >= self.w_pw.q.val());
        self.pad_mid.next = (self.iyp.q.val() < self.p_ph.val())
            | (self.iyp.q.val() >= self.h_ph.q.val())
            | (self.a_xn.val() < self.p_pw.val())
            | (self.a_xn.val() >= self.w_pw.q.val());
        self.a_pixl.next = self.left_r.q.val() - 1;
        if self.a_eol.val() {
            self.a_px.next = 0.into();
            self.a_ixp.next = self.ks.val();
            self.a_iyp.next = self.a_yn.val();
            self.ca_addr.d.next = self.rowaddr.q.val() + self.p_shw.val();
            self.ca_pad.d.next = self.pad_eol.val();
        } else {
            self.a_px.next = self.px.q.val() + 1;
            self.a_ixp.next = self.a_xn.val();
            self.a_iyp.next = self.iyp.q.val();
            self.ca_addr.d.next = self.addr_r.q.val() + self.p_sw.val();
            self.ca_pad.d.next = self.pad_mid.val();
        }
        self.ca_px.d.next = self.a_px.val();
        self.ca_ixp.d.next = self.a_ixp.val();
        self.ca_iyp.d.next = self.a_iyp.val();
        self.ca_pixl.d.next = self.a_pixl.val();
        self.ca_eol.d.next = self.a_eol.val();
        self.ca_last.d.next = self.tile_last.val() & !self.a_pixl.val().any();

        // ---- Candidate B, a new pass's first pixel.
        self.b_rowbase.next = self.planebase.val() + self.krw.val() - self.p_phw.val();
        self.b_pixl.next = self.p_pixels.val() - 1;
        self.cb_pixl.d.next = self.b_pixl.val();
        self.cb_addr.d.next = self.b_rowbase.val() + self.ks.val() - self.p_pw.val() + self.p_fbase.val();
        self.cb_pad.d.next = (self.kr.val() < self.p_ph.val())
            | (self.kr.val() >= self.h_ph.q.val())
            | (self.ks.val() < self.p_pw.val())
            | (self.ks.val() >= self.w_pw.q.val());
        self.cb_last.d.next = self.tile_last.val() & !self.b_pixl.val().any();

        // ---- The tag: valid, swap, first, last, half, pad.
        self.tag.next = self.tag_valid.val();
        if self.issue_new.val() {
            self.tag.next = self.tag.val() | self.tag_swap.val();
            if self.bank.q.val() {
                self.tag.next = self.tag.val() | self.tag_bank.val();
            }
        }
        if self.tile_first.val() & !self.p_keep.val() {
            self.tag.next = self.tag.val() | self.tag_first.val();
        }
        if self.tile_last.val() {
            self.tag.next = self.tag.val() | self.tag_lastp.val();
        }
        if (self.issue_next.val() & self.ca_last.q.val()) | (!self.issue_next.val() & self.cb_last.q.val()) {
            self.tag.next = self.tag.val() | self.tag_last.val();
        }
        if (self.issue_next.val() & self.ca_pad.q.val()) | (!self.issue_next.val() & self.cb_pad.q.val()) {
            self.tag.next = self.tag.val() | self.tag_pad.val();
        }
        if self.half.val() {
            self.tag.next = self.tag.val() | self.tag_half.val();
        }

        // ---- At the strobe: issue.
        if self.strobe.val() {
            self.valid_r.d.next = self.issue_next.val() | self.issue_new.val();
            self.tag_r.d.next = 0.into();
            if self.issue_next.val() | self.issue_new.val() {
                self.tag_r.d.next = self.tag.val();
            }
            if self.issue_next.val() {
                self.addr_r.d.next = self.ca_addr.q.val();
                self.pad_r.d.next = self.ca_pad.q.val();
                self.px.d.next = self.ca_px.q.val();
                self.ixp.d.next = self.ca_ixp.q.val();
                self.iyp.d.next = self.ca_iyp.q.val();
                self.left_r.d.next = self.ca_pixl.q.val();
                if self.ca_eol.q.val() {
                    self.rowaddr.d.next = self.ca_addr.q.val();
                }
            } else {
                self.addr_r.d.next = self.cb_addr.q.val();
                self.pad_r.d.next = self.cb_pad.q.val();
            }
            if self.issue_new.val() {
                self.pass_r.d.next = true;
                self.bank.d.next = !self.bank.q.val();
                if !self.issue_next.val() {
                    self.rowaddr.d.next = self.cb_addr.q.val();
                    self.px.d.next = 0.into();
                    self.ixp.d.next = self.ks.val();
                    self.iyp.d.next = self.kr.val();
                    self.left_r.d.next = self.cb_pixl.q.val();
                }
            }
            if self.pass_end.val() {
                self.pass_r.d.next = false;
            }
        }
        if self.start.val() {
            self.pass_r.d.next = false;
            self.bank.d.next = false;
        }
    }
}

crate::clocked!(SlotIssuer);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random layer geometries and one to three passes each (a random tap, channel tile and tile
    /// flags), strobed every other cycle (K = 2): each pass issues Ho·Wo slots in row-major
    /// order, each with the padding and first-cache entry of its input pixel (y·sh + kr − ph,
    /// x·sw + ks − pw) and the tag bits of docs/conv-array.md (the first slot's bank bit the
    /// pass's parity), then only bubbles.
    #[test]
    fn a_pass_issues_its_pixels_in_row_major_order() {
        let mut rng = Rng::from_env("slot-issuer", 29);
        for _ in 0..30 {
            let (h_, w_) = (1 + rng.below(6), 1 + rng.below(6));
            let (kh, kw) = (1 + rng.below(3), 1 + rng.below(3));
            let (sh, sw) = (1 + rng.below(2), 1 + rng.below(2));
            let (ph, pw) = (rng.below(kh), rng.below(kw));
            if h_ + 2 * ph < kh || w_ + 2 * pw < kw {
                continue;
            }
            let (ho, wo) = ((h_ + 2 * ph - kh) / sh + 1, (w_ + 2 * pw - kw) / sw + 1);
            let (kr, ks) = (rng.below(kh), rng.below(kw));
            let (planebase, fbase) = (rng.below(3) * h_ * w_, rng.below(100));
            let (first, last, half, keep) = (rng.below(2) == 1, rng.below(2) == 1, rng.below(2) == 1, rng.below(2) == 1);
            let mut h = crate::sim::Harness::new(SlotIssuer::default()).unwrap();
            let u = &mut h.uut;
            for (s, v) in [
                (&mut u.p_wo, wo), (&mut u.p_h, h_), (&mut u.p_w, w_), (&mut u.p_ph, ph), (&mut u.p_pw, pw),
                (&mut u.p_sh, sh), (&mut u.p_sw, sw), (&mut u.p_shw, sh * w_), (&mut u.p_phw, ph * w_),
                (&mut u.p_pixels, ho * wo), (&mut u.p_fbase, fbase), (&mut u.ks, ks), (&mut u.kr, kr),
                (&mut u.krw, kr * w_), (&mut u.planebase, planebase),
            ] {
                s.next = v.into();
            }
            u.p_keep.next = keep;
            u.tile_first.next = first;
            u.tile_last.next = last;
            u.half.next = half;
            u.start.next = true;
            h.step().unwrap();
            h.uut.start.next = false;
            // Up to three passes of the same tap, back to back: their first slots name the
            // shadow banks 0, 1, 0.
            let passes = 1 + rng.below(3);
            let mut slots = vec![];
            let mut issued = 0;
            for cycle in 0..2 * (passes * (ho * wo + 1) + 6) {
                let strobe = cycle % 2 == 1;
                h.uut.strobe.next = strobe;
                h.settle().unwrap();
                let new = issued < passes && cycle > 4 && !h.uut.in_pass.val();
                h.uut.issue_new.next = new;
                h.settle().unwrap();
                if strobe {
                    issued += u64::from(new);
                    let u = &h.uut;
                    if u.slot_valid.val() {
                        slots.push((u.slot_pad.val(), u.slot_addr.val().index() as u64, u.slot_tag.val().index()));
                    } else {
                        assert_eq!(u.slot_tag.val().index(), 0, "a bubble has no tag bits");
                    }
                }
                h.step().unwrap();
            }
            let ctx = format!("{h_}x{w_} k {kh}x{kw} s {sh},{sw} p {ph},{pw} tap ({kr},{ks})");
            assert_eq!(slots.len() as u64, passes * ho * wo, "{ctx}");
            for (i, &(pad, addr, tag)) in slots.iter().enumerate() {
                let (pass, p) = (i as u64 / (ho * wo), i % (ho * wo) as usize);
                let (y, x) = (p as u64 / wo, p as u64 % wo);
                let (iy, ix) = (y * sh + kr, x * sw + ks);
                let want_pad = iy < ph || iy >= h_ + ph || ix < pw || ix >= w_ + pw;
                assert_eq!(pad, want_pad, "{ctx}, pixel {p}");
                if !pad {
                    assert_eq!(addr, fbase + planebase + (iy - ph) * w_ + (ix - pw), "{ctx}, pixel {p}");
                }
                let bit = |b: usize, on: bool| usize::from(on) << b;
                let want_tag = bit(TAG_VALID, true)
                    | bit(TAG_SWAP, p == 0)
                    | bit(TAG_BANK, p == 0 && pass % 2 == 1)
                    | bit(TAG_FIRST, first && !keep)
                    | bit(TAG_LAST, last && p as u64 == ho * wo - 1)
                    | bit(TAG_HALF, half)
                    | bit(TAG_PAD, want_pad)
                    | bit(TAG_LASTP, last);
                assert_eq!(tag, want_tag, "{ctx}, pass {pass}, pixel {p}");
            }
        }
    }
}
