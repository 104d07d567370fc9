//! # DrainControl: the conv engine's accumulation halves and drain cursor
//!
//! The accumulation buffer has two halves; output-channel tiles alternate between them. A half
//! is claimed when its tile's first pass is issued (`claim`, with the tile's bias and output
//! bases), finished when the accumulation column reports the tile done, then drained: for each
//! kernel j and pixel p (j-major), entry p·K + j of the half is read with bias entry bbase + j,
//! and the sum goes to output entry obase + j·Ho·Wo + p; a half is free again after its drain
//! (or at once with `p_nodrain`, which keeps the sums for the next run). Half 0 drains first when
//! both wait. The drain's read side runs three register stages ahead of the output side
//! (`out_valid`, `out_idx`): the accumulator and bias reads, their registered values, their sum.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a run starts: both halves free, no drain |
//! | `claim`, `claim_half`, `claim_bb`, `claim_ob` | in | 1, 1, 16, 16 | a tile takes a half, with its bias and output bases |
//! | `tile_done`, `tile_half` | in | 1, 1 | the accumulation column finished the tile of a half |
//! | `p_nodrain`, `p_pixels`, `p_k` | in | 1, 16, 16 | keep the sums; Ho·Wo; the kernels the run uses, k (K below) |
//! | `busy0`, `busy1` | out | 1 | a half is in use (claimed and not yet drained or released) |
//! | `active`, `half`, `addr` | out | 1, 1, 16 | the accumulator read: enable, half, entry |
//! | `baddr` | out | 16 | the bias read entry |
//! | `out_valid`, `out_idx` | out | 1, 16 | the drained word three cycles later and its output entry |
//! | `p_stream` | in | 1 | a streaming run: the accumulation columns send each tile's sums out in its last pass, and a finished tile frees its half without a drain |
//! | `ob0_o`, `ob1_o`, `bb0_o`, `bb1_o` | out | 16 | each half's output and bias bases (for the streamed sums) |

use rust_hdl::prelude::*;

/// The drain control of the conv engine.
#[derive(LogicBlock)]
pub struct DrainControl {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// A tile claims a half.
    pub claim: Signal<In, Bit>,
    /// The half it claims.
    pub claim_half: Signal<In, Bit>,
    /// Its bias base.
    pub claim_bb: Signal<In, Bits<16>>,
    /// Its output base.
    pub claim_ob: Signal<In, Bits<16>>,
    /// The tile of a half is accumulated.
    pub tile_done: Signal<In, Bit>,
    /// Which half.
    pub tile_half: Signal<In, Bit>,
    /// Keep the sums (no drain).
    pub p_nodrain: Signal<In, Bit>,
    /// Ho·Wo.
    pub p_pixels: Signal<In, Bits<16>>,
    /// Half 0 in use.
    pub busy0: Signal<Out, Bit>,
    /// Half 1 in use.
    pub busy1: Signal<Out, Bit>,
    /// Accumulator read enable (a drain runs).
    pub active: Signal<Out, Bit>,
    /// Half being drained.
    pub half: Signal<Out, Bit>,
    /// Accumulator entry.
    pub addr: Signal<Out, Bits<16>>,
    /// Bias entry.
    pub baddr: Signal<Out, Bits<16>>,
    /// A drained word reaches the output side.
    pub out_valid: Signal<Out, Bit>,
    /// Its output entry.
    pub out_idx: Signal<Out, Bits<16>>,
    /// Kernels the run uses, k.
    pub p_k: Signal<In, Bits<16>>,
    /// A streaming run: a finished tile frees its half without a drain.
    pub p_stream: Signal<In, Bit>,
    /// Each half's output and bias bases.
    pub ob0_o: Signal<Out, Bits<16>>,
    pub ob1_o: Signal<Out, Bits<16>>,
    pub bb0_o: Signal<Out, Bits<16>>,
    pub bb1_o: Signal<Out, Bits<16>>,
    /// Per half: in use, waiting to drain, bias and output bases of its tile.
    busy0_r: DFF<Bit>,
    busy1_r: DFF<Bit>,
    pend0: DFF<Bit>,
    pend1: DFF<Bit>,
    bb0: DFF<Bits<16>>,
    bb1: DFF<Bits<16>>,
    ob0: DFF<Bits<16>>,
    ob1: DFF<Bits<16>>,
    /// Drain cursor: running, half, kernel j, accumulator entry, pixels left in j, bias and
    /// output entries.
    act: DFF<Bit>,
    half_r: DFF<Bit>,
    j: DFF<Bits<16>>,
    /// `j` is the run's last kernel, k − 1 (registered with `j`: timing).
    jl: DFF<Bit>,
    addr_r: DFF<Bits<16>>,
    pleft: DFF<Bits<16>>,
    baddr_r: DFF<Bits<16>>,
    oaddr: DFF<Bits<16>>,
    /// The output entry through the three stages.
    v1: DFF<Bit>,
    o1: DFF<Bits<16>>,
    v2: DFF<Bit>,
    o2: DFF<Bits<16>>,
    v3: DFF<Bit>,
    o3: DFF<Bits<16>>,
}

impl DrainControl {
    /// The drain control (the kernels a run uses are its `p_k`).
    pub fn new() -> Self {
        block_with_defaults!(DrainControl {
        } defaults {
            clock, p_k, p_stream, ob0_o, ob1_o, bb0_o, bb1_o, start, claim, claim_half, claim_bb, claim_ob, tile_done, tile_half, p_nodrain,
            p_pixels, busy0, busy1, active, half, addr, baddr, out_valid, out_idx, busy0_r, busy1_r,
            pend0, pend1, bb0, bb1, ob0, ob1, act, half_r, j, jl, addr_r, pleft, baddr_r, oaddr, v1, o1,
            v2, o2, v3, o3,
        })
    }
}

impl Logic for DrainControl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, busy0_r, busy1_r, pend0, pend1, bb0, bb1, ob0, ob1, act, half_r, j, jl, addr_r,
            pleft, baddr_r, oaddr, v1, o1, v2, o2, v3, o3
        );
        self.busy0.next = self.busy0_r.q.val();
        self.busy1.next = self.busy1_r.q.val();
        self.active.next = self.act.q.val();
        self.half.next = self.half_r.q.val();
        self.addr.next = self.addr_r.q.val();
        self.baddr.next = self.baddr_r.q.val();
        self.out_valid.next = self.v3.q.val();
        self.out_idx.next = self.o3.q.val();
        self.ob0_o.next = self.ob0.q.val();
        self.ob1_o.next = self.ob1.q.val();
        self.bb0_o.next = self.bb0.q.val();
        self.bb1_o.next = self.bb1.q.val();
        if self.start.val() {
            self.busy0_r.d.next = false;
            self.busy1_r.d.next = false;
            self.pend0.d.next = false;
            self.pend1.d.next = false;
            self.act.d.next = false;
        }
        if self.claim.val() {
            if self.claim_half.val() {
                self.busy1_r.d.next = true;
                self.bb1.d.next = self.claim_bb.val();
                self.ob1.d.next = self.claim_ob.val();
            } else {
                self.busy0_r.d.next = true;
                self.bb0.d.next = self.claim_bb.val();
                self.ob0.d.next = self.claim_ob.val();
            }
        }
        if self.tile_done.val() {
            if self.p_nodrain.val() | self.p_stream.val() {
                // The sums stay for the next run, or left in the tile's last pass (streaming):
                // the half is free.
                if self.tile_half.val() {
                    self.busy1_r.d.next = false;
                } else {
                    self.busy0_r.d.next = false;
                }
            } else if self.tile_half.val() {
                self.pend1.d.next = true;
            } else {
                self.pend0.d.next = true;
            }
        }
        self.v1.d.next = self.act.q.val();
        self.o1.d.next = self.oaddr.q.val();
        self.v2.d.next = self.v1.q.val();
        self.o2.d.next = self.o1.q.val();
        self.v3.d.next = self.v2.q.val();
        self.o3.d.next = self.o2.q.val();
        if !self.act.q.val() {
            if self.pend0.q.val() {
                self.pend0.d.next = false;
                self.act.d.next = true;
                self.half_r.d.next = false;
                self.baddr_r.d.next = self.bb0.q.val();
                self.oaddr.d.next = self.ob0.q.val();
            } else if self.pend1.q.val() {
                self.pend1.d.next = false;
                self.act.d.next = true;
                self.half_r.d.next = true;
                self.baddr_r.d.next = self.bb1.q.val();
                self.oaddr.d.next = self.ob1.q.val();
            }
            self.j.d.next = 0.into();
            self.jl.d.next = self.p_k.val() == 1;
            self.addr_r.d.next = 0.into();
            self.pleft.d.next = self.p_pixels.val() - 1;
        } else {
            // Entry (t·K + j)·Ho·Wo + p: consecutive in j-major, p-minor order.
            self.oaddr.d.next = self.oaddr.q.val() + 1;
            if self.pleft.q.val().any() {
                self.pleft.d.next = self.pleft.q.val() - 1;
                self.addr_r.d.next = self.addr_r.q.val() + self.p_k.val();
            } else {
                self.pleft.d.next = self.p_pixels.val() - 1;
                self.baddr_r.d.next = self.baddr_r.q.val() + 1;
                self.j.d.next = self.j.q.val() + 1;
                self.jl.d.next = self.j.q.val() + 2 == self.p_k.val();
                self.addr_r.d.next = self.j.q.val() + 1;
                if self.jl.q.val() {
                    self.act.d.next = false;
                    if self.half_r.q.val() {
                        self.busy1_r.d.next = false;
                    } else {
                        self.busy0_r.d.next = false;
                    }
                }
            }
        }
    }
}

crate::clocked!(DrainControl);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Tiles claimed into alternating halves and finished at random times: each drain reads
    /// accumulator entries p·K + j and bias entries bbase + j in j-major order, its outputs come
    /// out three cycles later at obase + j·Ho·Wo + p, half 0 first when both wait, and a half is
    /// busy from its claim to its drain's last read (or to its finish with `p_nodrain`).
    #[test]
    fn drains_read_j_major_and_free_their_half() {
        let mut rng = Rng::from_env("drain-control", 19);
        for (nodrain, k) in [(false, 3usize), (true, 3), (false, 2)] {
            let mut h = crate::sim::Harness::new(DrainControl::new()).unwrap();
            h.uut.p_k.next = (k as u64).into();
            let pixels = 1 + rng.below(5) as usize;
            h.uut.start.next = true;
            h.uut.p_pixels.next = (pixels as u64).into();
            h.uut.p_nodrain.next = nodrain;
            h.step().unwrap();
            h.uut.start.next = false;
            // Per half: (claimed, finished, bias base, output base); reads expected in flight.
            let mut halves = [(false, false, 0usize, 0usize); 2];
            let mut drain: Option<(usize, usize)> = None; // (half, index within the drain)
            let mut outs: Vec<Option<usize>> = vec![None; 3];
            let (mut drained, mut tiles) = (0, 0);
            for _ in 0..3000 {
                let hf = tiles % 2;
                let claim = !halves[hf].0 && rng.below(4) == 0;
                let finish_half = rng.below(2) as usize;
                let finish = halves[finish_half].0 && !halves[finish_half].1 && rng.below(6) == 0;
                let (bb, ob) = (rng.below(100) as usize, rng.below(1000) as usize);
                let u = &mut h.uut;
                u.claim.next = claim;
                u.claim_half.next = hf == 1;
                u.claim_bb.next = (bb as u64).into();
                u.claim_ob.next = (ob as u64).into();
                u.tile_done.next = finish;
                u.tile_half.next = finish_half == 1;
                h.settle().unwrap();
                let u = &h.uut;
                assert_eq!((u.busy0.val(), u.busy1.val()), (halves[0].0, halves[1].0));
                assert_eq!(u.out_valid.val(), outs[2].is_some());
                if let Some(o) = outs[2] {
                    assert_eq!(u.out_idx.val().index(), o);
                }
                outs.rotate_right(1);
                outs[0] = None;
                assert_eq!(u.active.val(), drain.is_some());
                if let Some((d, i)) = drain {
                    let (j, p) = (i / pixels, i % pixels);
                    assert_eq!((u.half.val(), u.addr.val().index(), u.baddr.val().index()), (d == 1, p * k + j, halves[d].2 + j));
                    outs[0] = Some(halves[d].3 + j * pixels + p);
                    drain = if i + 1 == k * pixels {
                        halves[d] = (false, false, 0, 0);
                        drained += 1;
                        None
                    } else {
                        Some((d, i + 1))
                    };
                } else if let Some(d) = (0..2).find(|&d| halves[d].0 && halves[d].1) {
                    drain = Some((d, 0));
                }
                if claim {
                    halves[hf] = (true, false, bb, ob);
                    tiles += 1;
                }
                if finish {
                    if nodrain {
                        halves[finish_half] = (false, false, 0, 0);
                        drained += 1;
                    } else {
                        halves[finish_half].1 = true;
                    }
                }
                h.step().unwrap();
            }
            assert!(drained > 20, "drains exercised: {drained}");
        }
    }
}
