//! # WordQueue: the instruction buffer, its host write port, and the prefetched words
//!
//! The host appends compressed words (`we`, `wdata`) at the auto-incrementing pointer (`count`);
//! a write past capacity sets `overflow` and is dropped, so no accepted word is lost. While the
//! decompressor runs, words are fetched in order into a landing register (`rd`, timing: the buffer
//! may be many block RAMs across the part, each with a long clock-to-output, so their data goes
//! into one register placed next to them) and then into a queue of four, so the unpacker can take
//! one word per cycle (`consume` pops the head). A fetch is issued when the queue entries and the
//! fetches in flight (read, landing) are at most three, decided from registers only.
//!
//! `hold` freezes the fetch side (the read is not repeated, so its data holds); host writes go on.
//! `start` empties the queue and rewinds the read pointer; `clear` rewinds the write pointer and
//! clears `overflow`.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `wdata` | in | 1, 64 | append a word (the DATA register) |
//! | `clear`, `start`, `run`, `hold` | in | 1 | CTRL clear; CTRL start; the decompressor runs; freeze |
//! | `consume` | in | 1 | the unpacker takes the head this cycle |
//! | `count`, `overflow` | out | 16, 1 | words accepted; a write was dropped |
//! | `head`, `head_ok` | out | 64, 1 | the queue's head and whether there is one |
//! | `drained` | out | 1 | every accepted word has been fetched and none is in flight |

use crate::mem::SyncRam;
use rust_hdl::prelude::*;

/// The instruction buffer and its queue.
#[derive(LogicBlock)]
pub struct WordQueue {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Append a word.
    pub we: Signal<In, Bit>,
    /// The word.
    pub wdata: Signal<In, Bits<64>>,
    /// Rewind the write pointer, clear `overflow`.
    pub clear: Signal<In, Bit>,
    /// A run starts: empty the queue, fetch from word 0.
    pub start: Signal<In, Bit>,
    /// The decompressor runs (fetches are issued).
    pub run: Signal<In, Bit>,
    /// Freeze the fetch side.
    pub hold: Signal<In, Bit>,
    /// The head is taken.
    pub consume: Signal<In, Bit>,
    /// Words accepted.
    pub count: Signal<Out, Bits<16>>,
    /// A write past capacity was dropped.
    pub overflow: Signal<Out, Bit>,
    /// The queue's head.
    pub head: Signal<Out, Bits<64>>,
    /// There is a head.
    pub head_ok: Signal<Out, Bit>,
    /// The first five bits (an opcode's) of the next cycle's head if the head stays (no
    /// `consume`, no `hold`), and if it is taken now: meaningful only when there is a head then
    /// (the unpacker's tables for the next cycle are formed from them; from registers).
    pub head_stay: Signal<Out, Bits<5>>,
    pub head_take: Signal<Out, Bits<5>>,
    /// No word left to fetch and none in flight.
    pub drained: Signal<Out, Bit>,
    ibuf: SyncRam<Bits<64>>,
    /// Buffer capacity.
    depth: Constant<Bits<32>>,
    wptr: DFF<Bits<16>>,
    ovf: DFF<Bit>,
    /// Read pointer of the next word to fetch; a fetch was issued last cycle.
    rptr: DFF<Bits<16>>,
    fetching: DFF<Bit>,
    /// Landing register and its validity.
    rd: DFF<Bits<64>>,
    rd_v: DFF<Bit>,
    /// The queue, head first, and its entries' validity (entries fill from the head).
    q0: DFF<Bits<64>>,
    q1: DFF<Bits<64>>,
    q2: DFF<Bits<64>>,
    q3: DFF<Bits<64>>,
    v0: DFF<Bit>,
    v1: DFF<Bit>,
    v2: DFF<Bit>,
    v3: DFF<Bit>,
    /// A fetched word will fit when it lands.
    room: Signal<Local, Bit>,
}

impl WordQueue {
    /// A buffer of `depth` words.
    pub fn new(depth: usize) -> Self {
        block_with_defaults!(WordQueue {
            ibuf: SyncRam::collision_free(depth),
            depth: Constant::new((depth as u64).into()),
        } defaults {
            clock, we, wdata, clear, start, run, hold, consume, count, overflow, head, head_ok, head_stay, head_take,
            drained, wptr, ovf, rptr, fetching, rd, rd_v, q0, q1, q2, q3, v0, v1, v2, v3, room,
        })
    }
}

impl Logic for WordQueue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, wptr, ovf, rptr, fetching, rd, rd_v, q0, q1, q2, q3, v0, v1, v2, v3);
        self.ibuf.clock.next = self.clock.val();
        self.count.next = self.wptr.q.val();
        self.overflow.next = self.ovf.q.val();
        self.head.next = self.q0.q.val();
        self.head_ok.next = self.v0.q.val();
        self.head_stay.next = self.rd.q.val().get_bits::<5>(0);
        if self.v0.q.val() {
            self.head_stay.next = self.q0.q.val().get_bits::<5>(0);
        }
        self.head_take.next = self.rd.q.val().get_bits::<5>(0);
        if self.v1.q.val() {
            self.head_take.next = self.q1.q.val().get_bits::<5>(0);
        }
        self.drained.next = !self.fetching.q.val() & !self.rd_v.q.val() & (self.rptr.q.val() >= self.wptr.q.val());
        // Host writes.
        self.ibuf.w_en.next = false;
        self.ibuf.w_addr.next = self.wptr.q.val();
        self.ibuf.w_data.next = self.wdata.val();
        if self.we.val() {
            if bit_cast::<32, 16>(self.wptr.q.val()) < self.depth.val() {
                self.ibuf.w_en.next = true;
                self.wptr.d.next = self.wptr.q.val() + 1;
            } else {
                self.ovf.d.next = true;
            }
        }
        // The buffer's read data lands in `rd` (a fetch issued last cycle).
        if self.fetching.q.val() {
            self.rd.d.next = self.ibuf.r_data.val();
        }
        self.rd_v.d.next = self.fetching.q.val();
        // The queue after this cycle: pop the head when the unpacker takes it, append the landed
        // word behind the entries that stay.
        if self.consume.val() {
            if self.v1.q.val() {
                self.q0.d.next = self.q1.q.val();
            } else {
                self.q0.d.next = self.rd.q.val();
            }
            if self.v2.q.val() {
                self.q1.d.next = self.q2.q.val();
            } else {
                self.q1.d.next = self.rd.q.val();
            }
            if self.v3.q.val() {
                self.q2.d.next = self.q3.q.val();
            } else {
                self.q2.d.next = self.rd.q.val();
            }
            self.q3.d.next = self.rd.q.val();
            self.v0.d.next = self.v1.q.val() | self.rd_v.q.val();
            self.v1.d.next = self.v2.q.val() | (self.v1.q.val() & self.rd_v.q.val());
            self.v2.d.next = self.v3.q.val() | (self.v2.q.val() & self.rd_v.q.val());
            self.v3.d.next = self.v3.q.val() & self.rd_v.q.val();
        } else {
            if !self.v0.q.val() {
                self.q0.d.next = self.rd.q.val();
            }
            if !self.v1.q.val() {
                self.q1.d.next = self.rd.q.val();
            }
            if !self.v2.q.val() {
                self.q2.d.next = self.rd.q.val();
            }
            if !self.v3.q.val() {
                self.q3.d.next = self.rd.q.val();
            }
            self.v0.d.next = self.v0.q.val() | self.rd_v.q.val();
            self.v1.d.next = self.v1.q.val() | (self.v0.q.val() & self.rd_v.q.val());
            self.v2.d.next = self.v2.q.val() | (self.v1.q.val() & self.rd_v.q.val());
            self.v3.d.next = self.v3.q.val() | (self.v2.q.val() & self.rd_v.q.val());
        }
        // Four or more entries and fetches in flight is v3, or v2 with one in flight, or v1 with
        // two (from registers only: the read enable does not wait for this cycle's decoding).
        self.room.next = !(self.v3.q.val()
            | (self.v2.q.val() & (self.fetching.q.val() | self.rd_v.q.val()))
            | (self.v1.q.val() & self.fetching.q.val() & self.rd_v.q.val()));
        self.ibuf.r_en.next = false;
        self.ibuf.r_addr.next = self.rptr.q.val();
        self.fetching.d.next = false;
        if self.run.val() & self.room.val() & (self.rptr.q.val() < self.wptr.q.val()) {
            self.ibuf.r_en.next = true;
            self.rptr.d.next = self.rptr.q.val() + 1;
            self.fetching.d.next = true;
        }
        if self.hold.val() {
            self.rptr.d.next = self.rptr.q.val();
            self.fetching.d.next = self.fetching.q.val();
            self.rd.d.next = self.rd.q.val();
            self.rd_v.d.next = self.rd_v.q.val();
            self.q0.d.next = self.q0.q.val();
            self.q1.d.next = self.q1.q.val();
            self.q2.d.next = self.q2.q.val();
            self.q3.d.next = self.q3.q.val();
            self.v0.d.next = self.v0.q.val();
            self.v1.d.next = self.v1.q.val();
            self.v2.d.next = self.v2.q.val();
            self.v3.d.next = self.v3.q.val();
            self.ibuf.r_en.next = false;
        }
        if self.clear.val() {
            self.wptr.d.next = 0.into();
            self.ovf.d.next = false;
        }
        if self.start.val() {
            self.rptr.d.next = 0.into();
            self.fetching.d.next = false;
            self.rd_v.d.next = false;
            self.v0.d.next = false;
            self.v1.d.next = false;
            self.v2.d.next = false;
            self.v3.d.next = false;
        }
    }
}

crate::clocked!(WordQueue);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random words written, then taken at random moments under random holds: the heads come out
    /// in write order, each once; writes past capacity raise `overflow` and are dropped; the queue
    /// is drained after the last. A clear and a second run start over.
    #[test]
    fn words_come_out_in_order_once_each() {
        let mut rng = Rng::from_env("word-queue", 47);
        let depth = 12;
        let mut h = Harness::new(WordQueue::new(depth)).unwrap();
        for round in 0..6 {
            let n = 1 + rng.below(depth as u64 + 3) as usize;
            let words: Vec<u64> = (0..n).map(|_| rng.below(u64::MAX)).collect();
            h.uut.clear.next = true;
            h.step().unwrap();
            h.uut.clear.next = false;
            for &w in &words {
                h.uut.we.next = true;
                h.uut.wdata.next = w.into();
                h.step().unwrap();
            }
            h.uut.we.next = false;
            let kept = n.min(depth);
            assert_eq!(h.uut.count.val(), bits::<16>(kept as u64), "round {round}");
            assert_eq!(h.uut.overflow.val(), n > depth, "round {round}");
            h.uut.start.next = true;
            h.step().unwrap();
            h.uut.start.next = false;
            h.uut.run.next = true;
            let mut got = vec![];
            for _ in 0..20 * depth {
                let (hold, take) = (rng.below(4) == 0, rng.below(2) == 0);
                h.uut.hold.next = hold;
                h.settle().unwrap();
                let consume = !hold && take && h.uut.head_ok.val();
                if consume {
                    got.push(h.uut.head.val());
                }
                h.uut.consume.next = consume;
                h.step().unwrap();
            }
            h.uut.consume.next = false;
            h.uut.run.next = false;
            h.settle().unwrap();
            let want: Vec<Bits<64>> = words[..kept].iter().map(|&w| bits::<64>(w)).collect();
            assert_eq!(got, want, "round {round}");
            assert!(!h.uut.head_ok.val() && h.uut.drained.val(), "round {round}: drained");
        }
    }
}
