//! # CopyCounter: the copies a `REPEAT` in the token register still issues
//!
//! `REPEAT dist, count` issues count + 1 copies. The counter holds the copies left, this cycle's
//! included (`rem`, 0 before the first copy), and whether the next copy is the last (`last`, a
//! register: the unpacker's advance waits for it and must not wait for compares of the counter).
//! `last` is loaded as the `REPEAT` enters the token register (`load`, with `count` = 0), and
//! updated with each copy (`copy`): the next is the last when two were left, or, before the first,
//! when the count is 1. The copy that is the last clears the counter. `abort` (a malformed token)
//! clears it before `hold` freezes it; `restart` (CTRL start or clear) after.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `hold`, `abort`, `restart` | in | 1 | clock; freeze; clear (under / over the freeze) |
//! | `load`, `load_last` | in | 1 | a `REPEAT` enters the token register; its count is 0 |
//! | `copy`, `count` | in | 1, 12 | a copy issues; the `REPEAT`'s count field |
//! | `last` | out | 1 | the next copy is the last |

use rust_hdl::prelude::*;

/// The copy counter.
#[derive(LogicBlock, Default)]
pub struct CopyCounter {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Freeze.
    pub hold: Signal<In, Bit>,
    /// Clear, under the freeze.
    pub abort: Signal<In, Bit>,
    /// Clear, over the freeze.
    pub restart: Signal<In, Bit>,
    /// A `REPEAT` enters the token register.
    pub load: Signal<In, Bit>,
    /// Its count is 0.
    pub load_last: Signal<In, Bit>,
    /// A copy issues.
    pub copy: Signal<In, Bit>,
    /// The `REPEAT`'s count field.
    pub count: Signal<In, Bits<12>>,
    /// The next copy is the last.
    pub last: Signal<Out, Bit>,
    rem: DFF<Bits<13>>,
    last_r: DFF<Bit>,
    count13: Signal<Local, Bits<13>>,
    rem_now: Signal<Local, Bits<13>>,
}

impl Logic for CopyCounter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rem, last_r);
        self.last.next = self.last_r.q.val();
        self.count13.next = bit_cast::<13, 12>(self.count.val());
        if self.rem.q.val() == 0 {
            self.rem_now.next = self.count13.val() + 1;
        } else {
            self.rem_now.next = self.rem.q.val();
        }
        if self.copy.val() {
            if self.last_r.q.val() {
                self.rem.d.next = 0.into();
            } else {
                self.rem.d.next = self.rem_now.val() - 1;
                if self.rem.q.val() == 0 {
                    self.last_r.d.next = self.count.val() == 1;
                } else {
                    self.last_r.d.next = self.rem.q.val() == 2;
                }
            }
        }
        if self.load.val() {
            self.last_r.d.next = self.load_last.val();
        }
        if self.abort.val() {
            self.rem.d.next = 0.into();
        }
        if self.hold.val() {
            self.rem.d.next = self.rem.q.val();
            self.last_r.d.next = self.last_r.q.val();
        }
        if self.restart.val() {
            self.rem.d.next = 0.into();
        }
    }
}

crate::clocked!(CopyCounter);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random counts, copies issued with random gaps and holds: `last` rises exactly before the
    /// count + 1-th copy, and the counter starts over for the next `REPEAT`.
    #[test]
    fn last_marks_the_count_plus_first_copy() {
        let mut rng = Rng::from_env("copy-counter", 73);
        let mut h = Harness::new(CopyCounter::default()).unwrap();
        for _ in 0..200 {
            let count = if rng.below(3) == 0 { rng.below(3) } else { rng.below(4096) % 40 };
            h.uut.count.next = count.into();
            h.uut.load.next = true;
            h.uut.load_last.next = count == 0;
            h.step().unwrap();
            h.uut.load.next = false;
            let mut issued = 0;
            while issued <= count {
                let hold = rng.below(5) == 0;
                let copy = rng.below(3) > 0;
                h.uut.hold.next = hold;
                h.uut.copy.next = copy;
                h.settle().unwrap();
                assert_eq!(h.uut.last.val(), issued == count, "count {count}, {issued} issued");
                h.step().unwrap();
                if copy && !hold {
                    issued += 1;
                }
            }
            h.uut.copy.next = false;
            h.uut.hold.next = false;
        }
    }
}
