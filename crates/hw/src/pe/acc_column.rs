//! # AccColumn: one column's slice of the accumulation buffer (the "second cache")
//!
//! Sums the partial sums leaving the bottom PE of a column over kernel taps and input-channel
//! tiles. Two RAM halves double-buffer output-channel tiles: the column accumulates one tile into
//! one half while the drain reads the previous tile from the other.
//!
//! Timing: `tag_in`/`psum_in` come from the bottom PE. A virtual "row R" tag register loads at the
//! strobe like a PE input register, so during slow cycle t it holds the tag of the datum the bottom
//! PE used in slow cycle t−1, and one cycle after sub-cycle j (the PEs register their products)
//! `psum_in` is that datum's complete column sum for kernel j. The entry is `pixel·K + j`; the
//! pixel counter restarts at each pass's first datum (K is the run's k, `k`: docs/conv-array.md). Read-modify-write over three cycles
//! (timing: the RAM's read data is registered before the adder): read in sub-cycle j (cycle
//! f), register both halves' read data and the arriving sum in f+1, write `(first ? 0 : old) + psum` in
//! f+2. An entry read in the cycle an older write to it lands takes that write's value instead
//! (a register of last cycle's write), so entries revisited two cycles apart (one-pixel passes
//! back to back with K = 2) still add up. The tile-done pulse
//! keeps its timing (registered from the read stage): it rises in the cycle of the tile's last
//! write, and the drain reads at least three cycles later.
//!
//! **Column groups** (`PE_COLS`, docs/conv-array.md): a pass streams rows of `g_wos` slots; the
//! column takes the sums of slot columns `g_lo` ≤ x < `g_hi` only (its group's output columns,
//! shifted by the group's `g_lo`), and its pixel counter steps only on those, so slot x of a row
//! lands in output column x − `g_lo`. With one group, `g_lo` = 0 and `g_hi` = `g_wos` = Wo: every
//! slot. The tile-done pulse follows the slot tagged last whether or not the column takes it.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `strobe`, `sub`, `k` | in | 1, 4, 16 | slow-cycle strobe, sub-cycle index j, kernels the run uses |
//! | `tag_in`, `psum_in` | in | 5, 32 | from the bottom PE (`psum_in` one cycle after its sub-cycle) |
//! | `d_en`, `d_half`, `d_addr` | in | 1, 1, 16 | drain read of one entry of one half |
//! | `d_data` | out | 32 | drain read data, one cycle after `d_en` |
//! | `tile_done`, `tile_half` | out | 1, 1 | pulse: the entry tagged last of its tile was written |
//! | `g_lo`, `g_hi`, `g_wos` | in | 16, 16, 16 | column groups: the slot columns the column takes, [`g_lo`, `g_hi`), of rows of `g_wos` slots |
//! | `stream`, `pixels`, `ob0`, `ob1`, `bb0`, `bb1` | in | 1, 16, 16 × 4 | streaming run: Ho·Wo, and each half's output and bias bases |
//! | `st_valid`, `st_sum`, `st_idx`, `st_baddr` | out | 1, 32, 16, 16 | a streamed sum (registered, a cycle after its write), its output entry and its bias entry |
//! | `w_entry` | out | 16 | the write stage's accumulation entry (pixel·k + j), streamed a cycle later |
//!
//! **Streaming** (`stream`, docs/conv-array.md): in the last pass of a tile (tag `TAG_LASTP`) the
//! sum the write stage forms is final; it also leaves on `st_*` a cycle later with its output
//! entry ob + j·Ho·Wo + p and bias entry bb + j (ob, bb of the tile's half), so the tile needs no
//! drain.

use crate::mem::SyncRam;
use crate::pe::Tag;
use rust_hdl::prelude::*;

/// Parameters of an accumulation column.
#[derive(Clone, Copy, Debug)]
pub struct AccColumnParams {
    /// Entries per half.
    pub depth: usize,
}

/// One column of the accumulation buffer.
#[derive(LogicBlock)]
pub struct AccColumn {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Last fast cycle of a slow cycle.
    pub strobe: Signal<In, Bit>,
    /// Sub-cycle index j.
    pub sub: Signal<In, Bits<4>>,
    /// Tag of the bottom PE's input register.
    pub tag_in: Signal<In, Tag>,
    /// Partial sum leaving the bottom PE.
    pub psum_in: Signal<In, Bits<32>>,
    /// Drain read enable.
    pub d_en: Signal<In, Bit>,
    /// Half the drain reads.
    pub d_half: Signal<In, Bit>,
    /// Entry the drain reads.
    pub d_addr: Signal<In, Bits<16>>,
    /// Drain read data.
    pub d_data: Signal<Out, Bits<32>>,
    /// Pulse: a tile's last entry was written.
    pub tile_done: Signal<Out, Bit>,
    /// Half of that tile.
    pub tile_half: Signal<Out, Bit>,
    /// Kernels the run uses, k (entries per pixel).
    pub k: Signal<In, Bits<16>>,
    /// Column groups: the first slot column the column takes.
    pub g_lo: Signal<In, Bits<16>>,
    /// The slot column after the last it takes.
    pub g_hi: Signal<In, Bits<16>>,
    /// Slots per row.
    pub g_wos: Signal<In, Bits<16>>,
    /// A streaming run: the last pass's sums go to the output side as they are written.
    pub stream: Signal<In, Bit>,
    /// Ho·Wo.
    pub pixels: Signal<In, Bits<16>>,
    /// Each half's output and bias bases.
    pub ob0: Signal<In, Bits<16>>,
    pub ob1: Signal<In, Bits<16>>,
    pub bb0: Signal<In, Bits<16>>,
    pub bb1: Signal<In, Bits<16>>,
    /// A streamed sum, its output entry and its bias entry (registered).
    pub st_valid: Signal<Out, Bit>,
    pub st_sum: Signal<Out, Bits<32>>,
    pub st_idx: Signal<Out, Bits<16>>,
    pub st_baddr: Signal<Out, Bits<16>>,
    /// The accumulation entry (pixel·k + j) whose sum the write stage forms this cycle (and
    /// streams in the next): the engine pairs column groups by entry.
    pub w_entry: Signal<Out, Bits<16>>,
    /// The pixel (slot taken) count of the datum in `vtag`; per stage its pixel, kernel and
    /// last-pass flag.
    pcount: DFF<Bits<16>>,
    s1_pix: DFF<Bits<16>>,
    s1_j: DFF<Bits<4>>,
    s1_lastp: DFF<Bit>,
    s2_pix: DFF<Bits<16>>,
    s2_j: DFF<Bits<4>>,
    s2_lastp: DFF<Bit>,
    /// j·Ho·Wo of the write stage's kernel (j < 8), and the stage's bases.
    jp: Signal<Local, Bits<16>>,
    obh: Signal<Local, Bits<16>>,
    bbh: Signal<Local, Bits<16>>,
    st_v_r: DFF<Bit>,
    st_sum_r: DFF<Bits<32>>,
    st_idx_r: DFF<Bits<16>>,
    st_b_r: DFF<Bits<16>>,
    /// Slot column of the datum in `vtag`, and whether the column takes it.
    xs: DFF<Bits<16>>,
    gv: DFF<Bit>,
    /// The next slot column (at a strobe).
    xs_nx: Signal<Local, Bits<16>>,
    /// The read stage's slot is a real datum (taken or not): the tile-done pulse follows it.
    s1_tv: DFF<Bit>,
    /// Tag of the datum whose sums arrive this slow cycle.
    vtag: DFF<Tag>,
    /// pixel·K of that datum.
    pbase: DFF<Bits<16>>,
    /// Read stage: valid, entry, first-pass, last, half.
    s1_valid: DFF<Bit>,
    s1_addr: DFF<Bits<16>>,
    s1_first: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_half: DFF<Bit>,
    /// Write stage: valid, entry, sum, first-pass, half, and the old value (read or forwarded).
    s2_valid: DFF<Bit>,
    s2_addr: DFF<Bits<16>>,
    s2_psum: DFF<Bits<32>>,
    s2_first: DFF<Bit>,
    s2_half: DFF<Bit>,
    /// Both halves' read data, registered.
    s2_old0: DFF<Bits<32>>,
    s2_old1: DFF<Bits<32>>,
    /// The entry was written in the cycle of its read: take `s2_lw` (that write) instead.
    s2_fwd: DFF<Bit>,
    s2_lw: DFF<Bits<32>>,
    /// The old value the write stage adds to.
    old: Signal<Local, Bits<32>>,
    /// Last cycle's write: valid, entry, half, value (forwarded to a read of the same entry).
    lw_valid: DFF<Bit>,
    lw_addr: DFF<Bits<16>>,
    lw_half: DFF<Bit>,
    lw_data: DFF<Bits<32>>,
    /// The value the write stage writes.
    wsum: Signal<Local, Bits<32>>,
    /// Tile-done pulse and its half.
    done: DFF<Bit>,
    done_half: DFF<Bit>,
    /// Half the drain read last cycle.
    d_half_r: DFF<Bit>,
    /// Entry addressed this cycle.
    addr_now: Signal<Local, Bits<16>>,
    /// The two halves.
    ram0: SyncRam<Bits<32>>,
    ram1: SyncRam<Bits<32>>,
}

impl AccColumn {
    /// A column with two halves of `p.depth` entries.
    pub fn new(p: &AccColumnParams) -> Self {
        block_with_defaults!(AccColumn {
            ram0: SyncRam::collision_free(p.depth),
            ram1: SyncRam::collision_free(p.depth),
        } defaults {
            clock, strobe, sub, tag_in, psum_in, d_en, d_half, d_addr, d_data, tile_done, tile_half, k,
            g_lo, g_hi, g_wos, stream, pixels, ob0, ob1, bb0, bb1, st_valid, st_sum, st_idx, st_baddr,
            w_entry, pcount, s1_pix, s1_j, s1_lastp, s2_pix, s2_j, s2_lastp, jp, obh, bbh, st_v_r,
            st_sum_r, st_idx_r, st_b_r, xs, gv, xs_nx, s1_tv, vtag, pbase, s1_valid, s1_addr, s1_first,
            s1_last, s1_half, s2_valid, s2_addr, s2_psum, s2_first, s2_half, s2_old0, s2_old1, s2_fwd,
            s2_lw, old, lw_valid, lw_addr, lw_half, lw_data, wsum, done, done_half, d_half_r, addr_now
        })
    }

    /// Half `h` of the buffer (testbench inspection).
    pub fn half(&self, h: usize) -> &SyncRam<Bits<32>> {
        if h == 0 {
            &self.ram0
        } else {
            &self.ram1
        }
    }
}

impl Logic for AccColumn {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, vtag, pbase, s1_valid, s1_addr, s1_first, s1_last, s1_half, s2_valid,
            s2_addr, s2_psum, s2_first, s2_half, s2_old0, s2_old1, s2_fwd, s2_lw, lw_valid, lw_addr, lw_half, lw_data, done,
            done_half, d_half_r, xs, gv, s1_tv, pcount, s1_pix, s1_j, s1_lastp, s2_pix, s2_j, s2_lastp,
            st_v_r, st_sum_r, st_idx_r, st_b_r
        );
        self.ram0.clock.next = self.clock.val();
        self.ram1.clock.next = self.clock.val();
        // Virtual row-R register and the pixel counter.
        // The slot column steps along rows of `g_wos` slots; the pixel counter steps past the
        // slots the column takes.
        self.xs_nx.next = self.xs.q.val() + 1;
        if self.xs_nx.val() == self.g_wos.val() {
            self.xs_nx.next = 0.into();
        }
        if self.tag_in.val().get_bit(1) {
            self.xs_nx.next = 0.into();
        }
        if self.strobe.val() {
            self.vtag.d.next = self.tag_in.val();
            self.xs.d.next = self.xs_nx.val();
            self.gv.d.next = (self.xs_nx.val() >= self.g_lo.val()) & (self.xs_nx.val() < self.g_hi.val());
            if self.tag_in.val().get_bit(1) {
                self.pbase.d.next = 0.into();
                self.pcount.d.next = 0.into();
            } else if self.gv.q.val() {
                self.pbase.d.next = self.pbase.q.val() + self.k.val();
                self.pcount.d.next = self.pcount.q.val() + 1;
            }
        }
        self.addr_now.next = self.pbase.q.val() + bit_cast::<16, 4>(self.sub.val());
        // Read stage.
        self.s1_valid.d.next = self.vtag.q.val().get_bit(0) & self.gv.q.val();
        self.s1_tv.d.next = self.vtag.q.val().get_bit(0);
        self.s1_pix.d.next = self.pcount.q.val();
        self.s1_j.d.next = self.sub.val();
        self.s1_lastp.d.next = self.vtag.q.val().get_bit(6);
        self.s1_addr.d.next = self.addr_now.val();
        self.s1_first.d.next = self.vtag.q.val().get_bit(2);
        self.s1_last.d.next = self.vtag.q.val().get_bit(3) & self.strobe.val();
        self.s1_half.d.next = self.vtag.q.val().get_bit(4);
        // Read ports: the accumulating side, else the drain.
        self.ram0.r_en.next = false;
        self.ram0.r_addr.next = self.d_addr.val();
        self.ram1.r_en.next = false;
        self.ram1.r_addr.next = self.d_addr.val();
        if self.vtag.q.val().get_bit(0) & self.gv.q.val() & !self.vtag.q.val().get_bit(4) {
            self.ram0.r_en.next = true;
            self.ram0.r_addr.next = self.addr_now.val();
        } else if self.d_en.val() & !self.d_half.val() {
            self.ram0.r_en.next = true;
        }
        if self.vtag.q.val().get_bit(0) & self.gv.q.val() & self.vtag.q.val().get_bit(4) {
            self.ram1.r_en.next = true;
            self.ram1.r_addr.next = self.addr_now.val();
        } else if self.d_en.val() & self.d_half.val() {
            self.ram1.r_en.next = true;
        }
        // Write stage.
        if self.s2_fwd.q.val() {
            self.old.next = self.s2_lw.q.val();
        } else if self.s2_half.q.val() {
            self.old.next = self.s2_old1.q.val();
        } else {
            self.old.next = self.s2_old0.q.val();
        }
        if self.s2_first.q.val() {
            self.wsum.next = self.s2_psum.q.val();
        } else {
            self.wsum.next = self.old.val() + self.s2_psum.q.val();
        }
        self.ram0.w_addr.next = self.s2_addr.q.val();
        self.ram1.w_addr.next = self.s2_addr.q.val();
        self.ram0.w_en.next = self.s2_valid.q.val() & !self.s2_half.q.val();
        self.ram1.w_en.next = self.s2_valid.q.val() & self.s2_half.q.val();
        self.ram0.w_data.next = self.wsum.val();
        self.ram1.w_data.next = self.wsum.val();
        self.lw_valid.d.next = self.s2_valid.q.val();
        self.lw_addr.d.next = self.s2_addr.q.val();
        self.lw_half.d.next = self.s2_half.q.val();
        self.lw_data.d.next = self.wsum.val();
        // Old-value stage: the read data, or the value written to the same entry in the cycle of
        // the read (the RAM returned the value before it). An entry is revisited at least K ≥ 2
        // cycles after its read (the K entries of a datum are distinct), so the write stage
        // itself never holds the same entry.
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_addr.d.next = self.s1_addr.q.val();
        // The PE's registered product puts each sum on `psum_in` one cycle after its read.
        self.s2_psum.d.next = self.psum_in.val();
        self.s2_first.d.next = self.s1_first.q.val();
        self.s2_half.d.next = self.s1_half.q.val();
        self.s2_pix.d.next = self.s1_pix.q.val();
        self.s2_j.d.next = self.s1_j.q.val();
        self.s2_lastp.d.next = self.s1_lastp.q.val();
        // (Timing: the RAMs' read data goes straight into registers; the selection waits for
        // the write stage.)
        self.s2_old0.d.next = self.ram0.r_data.val();
        self.s2_old1.d.next = self.ram1.r_data.val();
        self.s2_fwd.d.next = self.lw_valid.q.val()
            & (self.lw_addr.q.val() == self.s1_addr.q.val())
            & (self.lw_half.q.val() == self.s1_half.q.val());
        self.s2_lw.d.next = self.lw_data.q.val();
        self.done.d.next = self.s1_tv.q.val() & self.s1_last.q.val();
        self.done_half.d.next = self.s1_half.q.val();
        self.tile_done.next = self.done.q.val();
        self.tile_half.next = self.done_half.q.val();
        // Streaming: the last pass's sums, with their output and bias entries.
        self.jp.next = 0.into();
        if self.s2_j.q.val().get_bit(0) {
            self.jp.next = self.pixels.val();
        }
        if self.s2_j.q.val().get_bit(1) {
            self.jp.next = self.jp.val() + (self.pixels.val() << 1);
        }
        if self.s2_j.q.val().get_bit(2) {
            self.jp.next = self.jp.val() + (self.pixels.val() << 2);
        }
        self.obh.next = self.ob0.val();
        self.bbh.next = self.bb0.val();
        if self.s2_half.q.val() {
            self.obh.next = self.ob1.val();
            self.bbh.next = self.bb1.val();
        }
        self.st_v_r.d.next = self.s2_valid.q.val() & self.s2_lastp.q.val() & self.stream.val();
        self.st_sum_r.d.next = self.wsum.val();
        self.st_idx_r.d.next = self.obh.val() + self.jp.val() + self.s2_pix.q.val();
        self.st_b_r.d.next = self.bbh.val() + bit_cast::<16, 4>(self.s2_j.q.val());
        self.st_valid.next = self.st_v_r.q.val();
        self.st_sum.next = self.st_sum_r.q.val();
        self.st_idx.next = self.st_idx_r.q.val();
        self.st_baddr.next = self.st_b_r.q.val();
        self.w_entry.next = self.s2_addr.q.val();
        // Drain data.
        self.d_half_r.d.next = self.d_half.val();
        if self.d_half_r.q.val() {
            self.d_data.next = self.ram1.r_data.val();
        } else {
            self.d_data.next = self.ram0.r_data.val();
        }
    }
}

crate::clocked!(AccColumn);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::{TAG_FIRST, TAG_LAST, TAG_SWAP, TAG_VALID};
    use crate::sim::Harness;

    /// One-pixel passes back to back with K = 2: each entry is read again two cycles after its
    /// previous read, in the cycle that read's write lands. The sums must still be exact.
    #[test]
    fn back_to_back_one_pixel_passes_accumulate_exactly() {
        let k = 2usize;
        let mut h = Harness::new(AccColumn::new(&AccColumnParams { depth: 16 })).unwrap();
        let passes = 6usize;
        let psum = |p: usize, j: usize| (p as u64 * 1000 + j as u64 * 7 + 3) * if j == 0 { 1 } else { 5 };
        let mut want = [0u64; 2];
        // Slow cycle p presents pass p's datum tag at its strobe; its sums arrive in slow cycle
        // p + 1 (the virtual row register), kernel j's sum one cycle after sub-cycle j (the
        // PE's registered product).
        let mut late = 0u64;
        for p in 0..=passes {
            for j in 0..k {
                let u = &mut h.uut;
                u.sub.next = (j as u64).into();
                u.k.next = (k as u64).into();
                u.g_hi.next = 16u64.into();
                u.g_wos.next = 16u64.into();
                u.strobe.next = j == k - 1;
                let mut tag = 0u64;
                if p < passes {
                    tag |= 1 << TAG_VALID | 1 << TAG_SWAP;
                    if p == 0 {
                        tag |= 1 << TAG_FIRST;
                    }
                    if p == passes - 1 {
                        tag |= 1 << TAG_LAST;
                    }
                }
                u.tag_in.next = tag.into();
                // The sums of the datum loaded at the previous strobe (pass p − 1), a cycle late.
                u.psum_in.next = late.into();
                late = if p >= 1 { psum(p - 1, j) } else { 0 };
                if p >= 1 {
                    want[j] += psum(p - 1, j);
                }
                h.step().unwrap();
            }
        }
        for _ in 0..4 {
            h.uut.strobe.next = false;
            h.uut.tag_in.next = 0u64.into();
            h.uut.psum_in.next = std::mem::take(&mut late).into();
            h.step().unwrap();
        }
        for (j, w) in want.iter().enumerate() {
            h.uut.d_en.next = true;
            h.uut.d_half.next = false;
            h.uut.d_addr.next = (j as u64).into();
            h.step().unwrap();
            h.uut.d_en.next = false;
            h.step().unwrap();
            h.settle().unwrap();
            assert_eq!(h.uut.d_data.val().index() as u64, *w, "entry {j}");
        }
    }
}
