//! # AccColumn: one column's slice of the accumulation buffer (the "second cache")
//!
//! Sums the partial sums leaving the bottom PE of a column over kernel taps and input-channel
//! tiles. Two RAM halves double-buffer output-channel tiles: the column accumulates one tile into
//! one half while the drain reads the previous tile from the other.
//!
//! Timing: `tag_in`/`psum_in` come from the bottom PE. A virtual "row R" tag register loads at the
//! strobe like a PE input register, so during slow cycle t it holds the tag of the datum the bottom
//! PE used in slow cycle t−1, and in sub-cycle j `psum_in` is that datum's complete column sum for
//! kernel j. The entry is `pixel·K + j`; the pixel counter restarts at each pass's first datum.
//! Read-modify-write: read in cycle f, write `(first ? 0 : old) + psum` in cycle f+1.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `strobe`, `sub` | in | 1, 4 | slow-cycle strobe, sub-cycle index j |
//! | `tag_in`, `psum_in` | in | 5, 32 | from the bottom PE |
//! | `d_en`, `d_half`, `d_addr` | in | 1, 1, 16 | drain read of one entry of one half |
//! | `d_data` | out | 32 | drain read data, one cycle after `d_en` |
//! | `tile_done`, `tile_half` | out | 1, 1 | pulse: the entry tagged last of its tile was written |

use crate::mem::SyncRam;
use crate::pe::Tag;
use rust_hdl::prelude::*;

/// Parameters of an accumulation column.
#[derive(Clone, Copy, Debug)]
pub struct AccColumnParams {
    /// Kernels per PE, K.
    pub kernels: usize,
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
    /// K as a constant.
    kconst: Constant<Bits<16>>,
    /// Tag of the datum whose sums arrive this slow cycle.
    vtag: DFF<Tag>,
    /// pixel·K of that datum.
    pbase: DFF<Bits<16>>,
    /// Read-modify-write stage: valid, entry, sum, first-pass, last, half.
    s1_valid: DFF<Bit>,
    s1_addr: DFF<Bits<16>>,
    s1_psum: DFF<Bits<32>>,
    s1_first: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_half: DFF<Bit>,
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
        AccColumn {
            clock: Default::default(),
            strobe: Default::default(),
            sub: Default::default(),
            tag_in: Default::default(),
            psum_in: Default::default(),
            d_en: Default::default(),
            d_half: Default::default(),
            d_addr: Default::default(),
            d_data: Default::default(),
            tile_done: Default::default(),
            tile_half: Default::default(),
            kconst: Constant::new((p.kernels as u64).into()),
            vtag: Default::default(),
            pbase: Default::default(),
            s1_valid: Default::default(),
            s1_addr: Default::default(),
            s1_psum: Default::default(),
            s1_first: Default::default(),
            s1_last: Default::default(),
            s1_half: Default::default(),
            done: Default::default(),
            done_half: Default::default(),
            d_half_r: Default::default(),
            addr_now: Default::default(),
            ram0: SyncRam::new(p.depth),
            ram1: SyncRam::new(p.depth),
        }
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
            self, clock, vtag, pbase, s1_valid, s1_addr, s1_psum, s1_first, s1_last, s1_half, done,
            done_half, d_half_r
        );
        self.ram0.clock.next = self.clock.val();
        self.ram1.clock.next = self.clock.val();
        // Virtual row-R register and the pixel counter.
        if self.strobe.val() {
            self.vtag.d.next = self.tag_in.val();
            if self.tag_in.val().get_bit(1) {
                self.pbase.d.next = 0.into();
            } else {
                self.pbase.d.next = self.pbase.q.val() + self.kconst.val();
            }
        }
        self.addr_now.next = self.pbase.q.val() + bit_cast::<16, 4>(self.sub.val());
        // Read stage.
        self.s1_valid.d.next = self.vtag.q.val().get_bit(0);
        self.s1_addr.d.next = self.addr_now.val();
        self.s1_psum.d.next = self.psum_in.val();
        self.s1_first.d.next = self.vtag.q.val().get_bit(2);
        self.s1_last.d.next = self.vtag.q.val().get_bit(3) & self.strobe.val();
        self.s1_half.d.next = self.vtag.q.val().get_bit(4);
        // Read ports: the accumulating side, else the drain.
        self.ram0.r_en.next = false;
        self.ram0.r_addr.next = self.d_addr.val();
        self.ram1.r_en.next = false;
        self.ram1.r_addr.next = self.d_addr.val();
        if self.vtag.q.val().get_bit(0) & !self.vtag.q.val().get_bit(4) {
            self.ram0.r_en.next = true;
            self.ram0.r_addr.next = self.addr_now.val();
        } else if self.d_en.val() & !self.d_half.val() {
            self.ram0.r_en.next = true;
        }
        if self.vtag.q.val().get_bit(0) & self.vtag.q.val().get_bit(4) {
            self.ram1.r_en.next = true;
            self.ram1.r_addr.next = self.addr_now.val();
        } else if self.d_en.val() & self.d_half.val() {
            self.ram1.r_en.next = true;
        }
        // Write stage.
        self.ram0.w_addr.next = self.s1_addr.q.val();
        self.ram1.w_addr.next = self.s1_addr.q.val();
        self.ram0.w_en.next = self.s1_valid.q.val() & !self.s1_half.q.val();
        self.ram1.w_en.next = self.s1_valid.q.val() & self.s1_half.q.val();
        if self.s1_first.q.val() {
            self.ram0.w_data.next = self.s1_psum.q.val();
            self.ram1.w_data.next = self.s1_psum.q.val();
        } else {
            self.ram0.w_data.next = self.ram0.r_data.val() + self.s1_psum.q.val();
            self.ram1.w_data.next = self.ram1.r_data.val() + self.s1_psum.q.val();
        }
        self.done.d.next = self.s1_valid.q.val() & self.s1_last.q.val();
        self.done_half.d.next = self.s1_half.q.val();
        self.tile_done.next = self.done.q.val();
        self.tile_half.next = self.done_half.q.val();
        // Drain data.
        self.d_half_r.d.next = self.d_half.val();
        if self.d_half_r.q.val() {
            self.d_data.next = self.ram1.r_data.val();
        } else {
            self.d_data.next = self.ram0.r_data.val();
        }
    }
}
