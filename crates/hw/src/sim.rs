//! A direct, single-threaded driver for rust-hdl blocks with one clock.
//!
//! rust-hdl's `Simulation` runs testbenches on threads with channels; our testbenches are plain
//! loops (set inputs, step the clock, read outputs), so this driver settles the circuit with
//! `simulate` around each clock edge and optionally records a VCD. Nothing is written unless a VCD
//! writer is given.

use rust_hdl::prelude::*;
use std::io::Write;

/// Most settle iterations allowed per edge before the circuit is declared non-convergent.
const MAX_SETTLE: usize = 1000;

/// A block with a single fast clock input.
pub trait Clocked: Block {
    /// The clock input.
    fn clock_mut(&mut self) -> &mut Signal<In, Clock>;
}

/// Drives a block: each [`Harness::step`] is one full clock period.
pub struct Harness<B: Clocked> {
    /// The block under test; set inputs through `.next`, read outputs through `.val()`.
    pub uut: B,
    /// Clock periods simulated so far.
    pub cycles: u64,
    vcd: Option<VCDProbe<Box<dyn Write>>>,
}

impl<B: Clocked> Harness<B> {
    /// Connects and checks the block (undriven inputs, logic loops) and settles it.
    pub fn new(mut uut: B) -> Result<Self, String> {
        uut.connect_all();
        check_all(&uut).map_err(|e| format!("hardware check failed: {e:?}"))?;
        let mut h = Harness { uut, cycles: 0, vcd: None };
        h.settle()?;
        Ok(h)
    }

    /// Records every later change of every signal into `w` as VCD (1 ps per half period).
    pub fn record_vcd(&mut self, w: Box<dyn Write>) {
        let mut probe = write_vcd_header(w, &self.uut);
        let _ = probe.timestamp(0);
        self.vcd = Some(write_vcd_dump(probe, &self.uut));
    }

    /// Propagates input changes until nothing changes.
    pub fn settle(&mut self) -> Result<(), String> {
        if simulate(&mut self.uut, MAX_SETTLE) {
            Ok(())
        } else {
            Err(format!("the circuit did not settle at cycle {}", self.cycles))
        }
    }

    fn dump(&mut self, t: u64) {
        if let Some(mut probe) = self.vcd.take() {
            let _ = probe.timestamp(t);
            self.vcd = Some(write_vcd_change(probe, &self.uut));
        }
    }

    /// One clock period: settle the inputs set so far, rising edge, falling edge.
    pub fn step(&mut self) -> Result<(), String> {
        self.settle()?;
        self.uut.clock_mut().next = Clock { clk: true };
        self.settle()?;
        self.dump(2 * self.cycles + 1);
        self.uut.clock_mut().next = Clock { clk: false };
        self.settle()?;
        self.cycles += 1;
        self.dump(2 * self.cycles);
        Ok(())
    }
}

pub use rust_hdl::core::vcd_probe::VCDProbe;
