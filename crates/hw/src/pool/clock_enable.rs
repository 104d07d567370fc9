//! # ClockEnable: the pooling unit's rate control (patents.md §4)
//!
//! The pooling unit runs at a fraction of the clock: every register of the unit except these
//! advances only on `ce`, which fires once every `div` cycles. `div` takes `p_div` only on a
//! `conv_done` pulse while the unit is idle (`running` low), and only when the value differs and
//! is not 0; the counter restarts then, so the first enable after a switch is the next cycle.
//! `clear` (a program starts) puts the divider back to its reset value (0) and restarts the
//! counter, so a program's first divider is always a switch: a program started again runs with
//! the same enable phase, cycle for cycle.
//! `docs/pooling.md` explains why the switch waits for the convolution layer's end.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `p_div` | in | 8 | requested divider (≥ 1) |
//! | `conv_done` | in | 1 | the associated convolution layer finished (a pulse) |
//! | `running` | in | 1 | the unit is running (no switch) |
//! | `clear` | in | 1 | a program starts: the divider and the counter as after reset |
//! | `ce` | out | 1 | the clock enable this cycle (straight from a flip-flop) |
//! | `div_now` | out | 8 | the divider in force (0 after reset: an enable every cycle) |

use crate::pool::fault_if;
use rust_hdl::prelude::*;

/// The rate control.
#[derive(LogicBlock)]
pub struct ClockEnable {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Requested divider.
    pub p_div: Signal<In, Bits<8>>,
    /// The convolution layer finished.
    pub conv_done: Signal<In, Bit>,
    /// The unit runs.
    pub running: Signal<In, Bit>,
    /// A program starts.
    pub clear: Signal<In, Bit>,
    /// Clock enable.
    pub ce: Signal<Out, Bit>,
    /// Divider in force.
    pub div_now: Signal<Out, Bits<8>>,
    /// Divider in force and the cycle counter.
    div: DFF<Bits<8>>,
    count: DFF<Bits<8>>,
    /// `count` is not zero, registered with it (timing: the enable, which gates most of the
    /// unit, comes straight from a flip-flop).
    hold: DFF<Bit>,
    /// Built-in fault (tests only): a new divider takes effect at once, even while running.
    fault_divider: Vec<Constant<Bit>>,
}

impl ClockEnable {
    /// The rate control, with the `DividerWhileRunning` fault built in when `fault_divider`.
    pub fn new(fault_divider: bool) -> Self {
        ClockEnable {
            clock: Default::default(),
            p_div: Default::default(),
            conv_done: Default::default(),
            running: Default::default(),
            clear: Default::default(),
            ce: Default::default(),
            div_now: Default::default(),
            div: Default::default(),
            count: Default::default(),
            hold: Default::default(),
            fault_divider: fault_if(fault_divider),
        }
    }
}

impl Logic for ClockEnable {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, div, count, hold);
        self.ce.next = !self.hold.q.val();
        self.div_now.next = self.div.q.val();
        if self.count.q.val() + 1 >= self.div.q.val() {
            self.count.d.next = 0.into();
            self.hold.d.next = false;
        } else {
            self.count.d.next = self.count.q.val() + 1;
            self.hold.d.next = true;
        }
        if self.conv_done.val() & !self.running.val() & (self.p_div.val() != self.div.q.val()) & self.p_div.val().any() {
            self.div.d.next = self.p_div.val();
            self.count.d.next = 0.into();
            self.hold.d.next = false;
        }
        if self.clear.val() {
            self.div.d.next = 0.into();
            self.count.d.next = 0.into();
            self.hold.d.next = false;
        }
        for f in 0..self.fault_divider.len() {
            if self.fault_divider[f].val() & (self.p_div.val() != self.div.q.val()) & self.p_div.val().any() {
                self.div.d.next = self.p_div.val();
            }
        }
    }
}

crate::clocked!(ClockEnable);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// Random requests, pulses and run flags against a model of the rule: the enable fires on
    /// cycles 0, d, 2d, … after each switch, and the divider switches only on a pulse while idle
    /// to a different non-zero value.
    #[test]
    fn enable_every_div_cycles_and_switch_only_when_allowed() {
        let mut rng = Rng::from_env("clock-enable", 3);
        let mut h = Harness::new(ClockEnable::new(false)).unwrap();
        let (mut div, mut count) = (0u64, 0u64);
        for cycle in 0..3000 {
            let (req, pulse, running, clear) = (rng.below(5), rng.below(20) == 0, rng.below(3) == 0, rng.below(200) == 0);
            h.uut.p_div.next = req.into();
            h.uut.conv_done.next = pulse;
            h.uut.running.next = running;
            h.uut.clear.next = clear;
            h.settle().unwrap();
            assert_eq!(h.uut.ce.val(), count == 0, "cycle {cycle}: enable (div {div}, count {count})");
            assert_eq!(h.uut.div_now.val(), bits::<8>(div), "cycle {cycle}");
            h.step().unwrap();
            if clear {
                (div, count) = (0, 0);
            } else if pulse && !running && req != div && req != 0 {
                (div, count) = (req, 0);
            } else {
                count = if count + 1 >= div { 0 } else { count + 1 };
            }
        }
    }

    /// The built-in fault switches while running: the model's rule no longer holds.
    #[test]
    fn divider_fault_switches_while_running() {
        let mut h = Harness::new(ClockEnable::new(true)).unwrap();
        h.uut.running.next = true;
        h.uut.p_div.next = 3.into();
        h.step().unwrap();
        assert_eq!(h.uut.div_now.val(), bits::<8>(3), "no pulse, running, yet switched");
    }
}
