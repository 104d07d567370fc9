//! # PassCounter: the conv engine's pass odometer
//!
//! A layer runs as passes in the order kernel column ks (fastest), kernel row kr, input-channel
//! tile ict, output-channel tile oct (slowest); `docs/conv-array.md`. The counter holds the pass
//! being issued, steps to the next at `advance`, and derives what the issuer and the drain need:
//! the first-cache offsets of the pass (kr·W and ict·H·W), whether the pass is the first or the
//! last of its output-channel tile, the tile's bias and output-buffer bases (oct·k and
//! `p_obase` + oct·k·Ho·Wo, k the kernels the run uses), and whether every pass has been issued.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a run starts: pass 0 (with `p_passes` = 0, nothing to issue) |
//! | `advance` | in | 1 | the pass ended: step to the next |
//! | `p_kw`, `p_kh`, `p_ic_tiles`, `p_oc_tiles` | in | 16 | the four counts |
//! | `p_w`, `p_plane`, `p_kp`, `p_obase`, `p_passes`, `p_k` | in | 16 | W, H·W, k·Ho·Wo, output base, passes, kernels the run uses |
//! | `ks`, `kr` | out | 16 | kernel tap of the pass |
//! | `krw`, `planebase` | out | 16 | kr·W, ict·H·W |
//! | `ict_o` | out | 3 | input-channel tile of the pass, ict, low bits (tap rows: the tap group) |
//! | `half` | out | 1 | accumulation half of the tile (oct mod 2) |
//! | `tile_first`, `tile_last` | out | 1 | first / last pass of its output-channel tile |
//! | `bbase`, `obase` | out | 16 | the tile's bias entry and output-buffer entry |
//! | `all_issued` | out | 1 | every pass has been issued (set by the last `advance`) |
//!
//! Every "last value" flag is a register stepped with its counter (timing: the advance compares
//! nothing), and so is `tile_first` (no 48-bit zero test in front of the issue decision).

use rust_hdl::prelude::*;

/// The pass odometer of the conv engine.
#[derive(LogicBlock)]
pub struct PassCounter {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// Step to the next pass.
    pub advance: Signal<In, Bit>,
    /// Kernel width.
    pub p_kw: Signal<In, Bits<16>>,
    /// Kernel height.
    pub p_kh: Signal<In, Bits<16>>,
    /// Input-channel tiles.
    pub p_ic_tiles: Signal<In, Bits<16>>,
    /// Output-channel tiles.
    pub p_oc_tiles: Signal<In, Bits<16>>,
    /// Input width W.
    pub p_w: Signal<In, Bits<16>>,
    /// H·W.
    pub p_plane: Signal<In, Bits<16>>,
    /// K·Ho·Wo.
    pub p_kp: Signal<In, Bits<16>>,
    /// Output-buffer entry of the run's first tile.
    pub p_obase: Signal<In, Bits<16>>,
    /// Passes of the layer.
    pub p_passes: Signal<In, Bits<16>>,
    /// Kernel column of the pass.
    pub ks: Signal<Out, Bits<16>>,
    /// Kernel row of the pass.
    pub kr: Signal<Out, Bits<16>>,
    /// kr·W.
    pub krw: Signal<Out, Bits<16>>,
    /// ict·H·W.
    pub planebase: Signal<Out, Bits<16>>,
    /// ict, low bits.
    pub ict_o: Signal<Out, Bits<3>>,
    /// Accumulation half of the tile.
    pub half: Signal<Out, Bit>,
    /// First pass of its tile.
    pub tile_first: Signal<Out, Bit>,
    /// Last pass of its tile.
    pub tile_last: Signal<Out, Bit>,
    /// The tile's bias entry.
    pub bbase: Signal<Out, Bits<16>>,
    /// The tile's output-buffer entry.
    pub obase: Signal<Out, Bits<16>>,
    /// Every pass has been issued.
    pub all_issued: Signal<Out, Bit>,
    /// Kernels the run uses, k (a tile's bias entries).
    pub p_k: Signal<In, Bits<16>>,
    ks_r: DFF<Bits<16>>,
    kr_r: DFF<Bits<16>>,
    krw_r: DFF<Bits<16>>,
    ict: DFF<Bits<16>>,
    plane_r: DFF<Bits<16>>,
    oct: DFF<Bits<16>>,
    /// Each counter is at its last value.
    ks_l: DFF<Bit>,
    kr_l: DFF<Bit>,
    ict_l: DFF<Bit>,
    oct_l: DFF<Bit>,
    /// ks, kr and ict are all zero.
    first: DFF<Bit>,
    bbase_r: DFF<Bits<16>>,
    obase_r: DFF<Bits<16>>,
    done: DFF<Bit>,
}

impl PassCounter {
    /// The counter (the kernels a run uses are its `p_k`).
    pub fn new() -> Self {
        block_with_defaults!(PassCounter {
        } defaults {
            clock, p_k, start, advance, p_kw, p_kh, p_ic_tiles, p_oc_tiles, p_w, p_plane, p_kp, p_obase,
            p_passes, ks, kr, krw, planebase, ict_o, half, tile_first, tile_last, bbase, obase, all_issued,
            ks_r, kr_r, krw_r, ict, plane_r, oct, ks_l, kr_l, ict_l, oct_l, first, bbase_r, obase_r,
            done,
        })
    }
}

impl Logic for PassCounter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ks_r, kr_r, krw_r, ict, plane_r, oct, ks_l, kr_l, ict_l, oct_l, first,
            bbase_r, obase_r, done
        );
        self.ks.next = self.ks_r.q.val();
        self.kr.next = self.kr_r.q.val();
        self.krw.next = self.krw_r.q.val();
        self.planebase.next = self.plane_r.q.val();
        self.ict_o.next = self.ict.q.val().get_bits::<3>(0);
        self.half.next = self.oct.q.val().get_bit(0);
        self.tile_first.next = self.first.q.val();
        self.tile_last.next = self.ks_l.q.val() & self.kr_l.q.val() & self.ict_l.q.val();
        self.bbase.next = self.bbase_r.q.val();
        self.obase.next = self.obase_r.q.val();
        self.all_issued.next = self.done.q.val();
        if self.start.val() {
            self.done.d.next = self.p_passes.val() == 0;
            self.ks_r.d.next = 0.into();
            self.kr_r.d.next = 0.into();
            self.krw_r.d.next = 0.into();
            self.ict.d.next = 0.into();
            self.first.d.next = true;
            self.plane_r.d.next = 0.into();
            self.oct.d.next = 0.into();
            self.ks_l.d.next = self.p_kw.val() == 1;
            self.kr_l.d.next = self.p_kh.val() == 1;
            self.ict_l.d.next = self.p_ic_tiles.val() == 1;
            self.oct_l.d.next = self.p_oc_tiles.val() == 1;
            self.bbase_r.d.next = 0.into();
            self.obase_r.d.next = self.p_obase.val();
        }
        if self.advance.val() {
            self.first.d.next = false;
            if !self.ks_l.q.val() {
                self.ks_r.d.next = self.ks_r.q.val() + 1;
                self.ks_l.d.next = self.ks_r.q.val() + 2 == self.p_kw.val();
            } else {
                self.ks_r.d.next = 0.into();
                self.ks_l.d.next = self.p_kw.val() == 1;
                if !self.kr_l.q.val() {
                    self.kr_r.d.next = self.kr_r.q.val() + 1;
                    self.kr_l.d.next = self.kr_r.q.val() + 2 == self.p_kh.val();
                    self.krw_r.d.next = self.krw_r.q.val() + self.p_w.val();
                } else {
                    self.kr_r.d.next = 0.into();
                    self.kr_l.d.next = self.p_kh.val() == 1;
                    self.krw_r.d.next = 0.into();
                    if !self.ict_l.q.val() {
                        self.ict.d.next = self.ict.q.val() + 1;
                        self.ict_l.d.next = self.ict.q.val() + 2 == self.p_ic_tiles.val();
                        self.plane_r.d.next = self.plane_r.q.val() + self.p_plane.val();
                    } else {
                        self.ict.d.next = 0.into();
                        self.first.d.next = true;
                        self.ict_l.d.next = self.p_ic_tiles.val() == 1;
                        self.plane_r.d.next = 0.into();
                        if !self.oct_l.q.val() {
                            self.oct.d.next = self.oct.q.val() + 1;
                            self.oct_l.d.next = self.oct.q.val() + 2 == self.p_oc_tiles.val();
                            self.bbase_r.d.next = self.bbase_r.q.val() + self.p_k.val();
                            self.obase_r.d.next = self.obase_r.q.val() + self.p_kp.val();
                        } else {
                            self.done.d.next = true;
                        }
                    }
                }
            }
        }
    }
}

crate::clocked!(PassCounter);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random layer shapes, advanced with random idle cycles: the passes come out in the nested
    /// loop order of docs/conv-array.md, with their offsets, tile flags and bases, and
    /// `all_issued` rises exactly after the last.
    #[test]
    fn passes_follow_the_nested_loop_order() {
        let mut rng = Rng::from_env("pass-counter", 13);
        let mut h = crate::sim::Harness::new(PassCounter::new()).unwrap();
        for _ in 0..12 {
            let k = 2 + rng.below(3);
            let (kw, kh, ict_n, oct_n) = (1 + rng.below(3), 1 + rng.below(3), 1 + rng.below(3), 1 + rng.below(3));
            let (w, plane, kp, obase) = (1 + rng.below(20), 1 + rng.below(400), 1 + rng.below(100), rng.below(50));
            let mut passes = vec![];
            for oct in 0..oct_n {
                for ict in 0..ict_n {
                    for kr in 0..kh {
                        for ks in 0..kw {
                            passes.push((ks, kr, ict, oct));
                        }
                    }
                }
            }
            let u = &mut h.uut;
            u.start.next = true;
            u.advance.next = false;
            for (s, v) in [
                (&mut u.p_kw, kw), (&mut u.p_kh, kh), (&mut u.p_ic_tiles, ict_n), (&mut u.p_oc_tiles, oct_n),
                (&mut u.p_w, w), (&mut u.p_plane, plane), (&mut u.p_kp, kp), (&mut u.p_obase, obase),
                (&mut u.p_passes, passes.len() as u64), (&mut u.p_k, k),
            ] {
                s.next = v.into();
            }
            h.step().unwrap();
            h.uut.start.next = false;
            let mut i = 0;
            while i < passes.len() {
                let adv = rng.below(2) == 0;
                h.uut.advance.next = adv;
                h.settle().unwrap();
                let (ks, kr, ict, oct) = passes[i];
                let u = &h.uut;
                let got = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
                let ctx = format!("pass {i} = {:?} of {kw}x{kh}x{ict_n}x{oct_n}", passes[i]);
                assert_eq!((got(&u.ks), got(&u.kr), got(&u.krw), got(&u.planebase)), (ks, kr, kr * w, ict * plane), "{ctx}");
                assert_eq!((got(&u.bbase), got(&u.obase)), (oct * k, obase + oct * kp), "{ctx}");
                assert_eq!(u.half.val(), oct % 2 == 1, "{ctx}");
                assert_eq!(u.tile_first.val(), ks == 0 && kr == 0 && ict == 0, "{ctx}");
                assert_eq!(u.tile_last.val(), ks == kw - 1 && kr == kh - 1 && ict == ict_n - 1, "{ctx}");
                assert!(!u.all_issued.val(), "{ctx}");
                h.step().unwrap();
                i += usize::from(adv);
            }
            h.uut.advance.next = false;
            h.settle().unwrap();
            assert!(h.uut.all_issued.val(), "after the last pass");
        }
    }
}
