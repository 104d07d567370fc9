//! # ExtCursor: the data mover's external-memory side
//!
//! Two cursors over a transfer's external element addresses, `words` elements from `addr` in
//! chunks of `len` elements `stride` apart: the request cursor (the element of the next request)
//! and the response cursor (the element of the next read response; responses come in request
//! order). Memory words hold L 32-bit lanes: a request's word address is its element address
//! divided by L, a write enables only its element's lane, and a response's element is taken from
//! the lane its element address names.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `start` | in | 1 | a transfer starts: both cursors at `s_addr`, `s_words` requests left (0 with `s_copy`) |
//! | `s_addr`, `s_stride` | in | 26 | first element address, chunk stride |
//! | `s_words` | in | 20 | elements |
//! | `s_copy` | in | 1 | an on-chip copy: no request |
//! | `s_len` | in | 20 | chunk length |
//! | `w_elem` | in | 32 | the element a write request carries |
//! | `req_fire` | in | 1 | a request was accepted: step the request cursor |
//! | `rsp_take` | in | 1 | a response was taken: step the response cursor |
//! | `rsp_data` | in | W | the response's word |
//! | `pending` | out | 1 | requests are left |
//! | `req_addr` | out | 26 | word address of the next request |
//! | `req_be` | out | L | one-hot lane of the next request's element |
//! | `req_wdata` | out | W | `w_elem` in every lane (`req_be` picks the one written) |
//! | `rsp_elem` | out | 32 | the response's element |

use rust_hdl::prelude::*;

/// The external-side cursors for words of W bits holding L 32-bit lanes.
#[derive(LogicBlock)]
pub struct ExtCursor<const W: usize, const L: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A transfer starts.
    pub start: Signal<In, Bit>,
    /// First element address.
    pub s_addr: Signal<In, Bits<26>>,
    /// Elements.
    pub s_words: Signal<In, Bits<20>>,
    /// Chunk stride.
    pub s_stride: Signal<In, Bits<26>>,
    /// An on-chip copy.
    pub s_copy: Signal<In, Bit>,
    /// Chunk length.
    pub s_len: Signal<In, Bits<20>>,
    /// The element a write request carries.
    pub w_elem: Signal<In, Bits<32>>,
    /// A request was accepted.
    pub req_fire: Signal<In, Bit>,
    /// A response was taken.
    pub rsp_take: Signal<In, Bit>,
    /// The response's word.
    pub rsp_data: Signal<In, Bits<W>>,
    /// Requests are left.
    pub pending: Signal<Out, Bit>,
    /// Word address of the next request.
    pub req_addr: Signal<Out, Bits<26>>,
    /// Lane enable of the next request.
    pub req_be: Signal<Out, Bits<L>>,
    /// Write data of the next request.
    pub req_wdata: Signal<Out, Bits<W>>,
    /// The response's element.
    pub rsp_elem: Signal<Out, Bits<32>>,
    /// The element address's lane bits (0 with one lane), the word-address shift, the one-hot
    /// enables of lanes 0 and 1.
    lane_mask: Constant<Bits<26>>,
    lshift: Constant<Bits<26>>,
    be0: Constant<Bits<L>>,
    be1: Constant<Bits<L>>,
    /// Chunk length and stride.
    len: DFF<Bits<20>>,
    stride: DFF<Bits<26>>,
    /// Request cursor: chunk base, offset in the chunk, requests left.
    e_base: DFF<Bits<26>>,
    e_off: DFF<Bits<20>>,
    e_left: DFF<Bits<20>>,
    /// Response cursor: chunk base, offset.
    r_base: DFF<Bits<26>>,
    r_off: DFF<Bits<20>>,
    /// Element addresses of the next request and the next response.
    ea: Signal<Local, Bits<26>>,
    ra: Signal<Local, Bits<26>>,
}

impl<const W: usize, const L: usize> Default for ExtCursor<W, L> {
    fn default() -> Self {
        assert!((L == 1 || L == 2) && W == 32 * L, "32-bit lanes, one or two per word");
        block_with_defaults!(ExtCursor {
            lane_mask: Constant::new(((L - 1) as u64).into()),
            lshift: Constant::new(((L - 1) as u64).into()),
            be0: Constant::new(1u64.into()),
            be1: Constant::new(((1u64 << (L - 1)) & !1).into()),
        } defaults {
            clock, start, s_addr, s_words, s_stride, s_copy, s_len, w_elem, req_fire, rsp_take,
            rsp_data, pending, req_addr, req_be, req_wdata, rsp_elem, len, stride, e_base, e_off, e_left, r_base, r_off, ea, ra,
        })
    }
}

impl<const W: usize, const L: usize> Logic for ExtCursor<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, len, stride, e_base, e_off, e_left, r_base, r_off);
        self.pending.next = self.e_left.q.val().any();
        self.ea.next = self.e_base.q.val() + bit_cast::<26, 20>(self.e_off.q.val());
        self.req_addr.next = self.ea.val() >> self.lshift.val();
        self.req_be.next = self.be0.val();
        if (self.ea.val() & self.lane_mask.val()).any() {
            self.req_be.next = self.be1.val();
        }
        // The element in every lane (a loop of L − 1 iterations: rust-hdl has no `if` on a
        // generic constant).
        self.req_wdata.next = bit_cast::<W, 32>(self.w_elem.val());
        for _l in 1..self.lanes() {
            self.req_wdata.next = self.req_wdata.val() | (bit_cast::<W, 32>(self.w_elem.val()) << 32);
        }
        if self.req_fire.val() {
            self.e_left.d.next = self.e_left.q.val() - 1;
            if self.e_off.q.val() + 1 == self.len.q.val() {
                self.e_off.d.next = 0.into();
                self.e_base.d.next = self.e_base.q.val() + self.stride.q.val();
            } else {
                self.e_off.d.next = self.e_off.q.val() + 1;
            }
        }
        self.ra.next = self.r_base.q.val() + bit_cast::<26, 20>(self.r_off.q.val());
        self.rsp_elem.next = self.rsp_data.val().get_bits::<32>(0);
        // Lane 1, if the word has one (a loop of L − 1 iterations: rust-hdl has no `if` on a
        // generic constant).
        for l in 1..self.lanes() {
            if (self.ra.val() & self.lane_mask.val()).any() {
                self.rsp_elem.next = self.rsp_data.val().get_bits::<32>(32 * l);
            }
        }
        if self.rsp_take.val() {
            if self.r_off.q.val() + 1 == self.len.q.val() {
                self.r_off.d.next = 0.into();
                self.r_base.d.next = self.r_base.q.val() + self.stride.q.val();
            } else {
                self.r_off.d.next = self.r_off.q.val() + 1;
            }
        }
        if self.start.val() {
            self.len.d.next = self.s_len.val();
            self.stride.d.next = self.s_stride.val();
            self.e_base.d.next = self.s_addr.val();
            self.e_off.d.next = 0.into();
            self.r_base.d.next = self.s_addr.val();
            self.r_off.d.next = 0.into();
            self.e_left.d.next = self.s_words.val();
            if self.s_copy.val() {
                self.e_left.d.next = 0.into();
            }
        }
    }
}

impl<const W: usize, const L: usize> ExtCursor<W, L> {
    /// Lanes per word.
    pub fn lanes(&self) -> usize {
        L
    }
}

crate::clocked!(impl[const W: usize, const L: usize] ExtCursor<W, L>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Element address of element i of a transfer (docs/isa.md: chunks of `len` elements,
    /// `stride` apart).
    fn element(addr: u64, i: u64, len: u64, stride: u64) -> u64 {
        addr + (i / len) * stride + i % len
    }

    fn check<const W: usize, const L: usize>(seed: u64) {
        let mut rng = Rng::from_env("ext-cursor", seed);
        let mut h = crate::sim::Harness::new(ExtCursor::<W, L>::default()).unwrap();
        for _ in 0..20 {
            let addr = rng.below(1 << 20);
            let len = 1 + rng.below(9);
            let words = len * (1 + rng.below(4));
            let stride = len + rng.below(5);
            let u = &mut h.uut;
            u.start.next = true;
            u.s_addr.next = addr.into();
            u.s_words.next = words.into();
            u.s_stride.next = stride.into();
            u.s_copy.next = false;
            u.s_len.next = len.into();
            u.req_fire.next = false;
            u.rsp_take.next = false;
            h.step().unwrap();
            h.uut.start.next = false;
            let (mut req, mut rsp) = (0u64, 0u64);
            while rsp < words {
                let fire = req < words && rng.below(2) == 0;
                let take = rsp < req && rng.below(2) == 0;
                let data: u64 = rng.below(1 << 32) | (rng.below(1 << 32) << 32);
                let elem = rng.below(1 << 32);
                let u = &mut h.uut;
                u.w_elem.next = elem.into();
                u.req_fire.next = fire;
                u.rsp_take.next = take;
                u.rsp_data.next = (data & (u64::MAX >> (64 - W))).into();
                h.settle().unwrap();
                assert_eq!(h.uut.pending.val(), req < words, "request {req} of {words}");
                if req < words {
                    let e = element(addr, req, len, stride);
                    assert_eq!(h.uut.req_addr.val().index() as u64, e / L as u64, "request {req}");
                    assert_eq!(h.uut.req_be.val().index() as u64, 1 << (e % L as u64), "request {req}");
                    let lanes = if L == 2 { elem | elem << 32 } else { elem };
                    assert_eq!(h.uut.req_wdata.val(), Bits::<W>::from(lanes), "request {req}");
                }
                let lane = element(addr, rsp, len, stride) % L as u64;
                assert_eq!(h.uut.rsp_elem.val().index() as u64, (data >> (32 * lane)) & 0xffff_ffff, "response {rsp}");
                h.step().unwrap();
                req += u64::from(fire);
                rsp += u64::from(take);
            }
        }
    }

    /// Random transfers with random request and response timing, on one- and two-lane words:
    /// each request's word address and lane and each response's element follow the layout of
    /// docs/isa.md.
    #[test]
    fn requests_and_responses_follow_the_chunked_layout() {
        check::<32, 1>(1);
        check::<64, 2>(2);
    }
}
