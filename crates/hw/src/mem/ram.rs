//! # SyncRam: simple dual-port RAM, one clock, synchronous read with enable
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | the clock of both ports |
//! | `r_en`, `r_addr` | in | 1, 16 | read: `r_data` takes `mem[r_addr]` at the next edge when `r_en` |
//! | `r_data` | out | T | read data, held while `r_en` is low |
//! | `w_en`, `w_addr`, `w_data` | in | 1, 16, T | write at the edge when `w_en` |
//!
//! A read and a write of the same address in one cycle return the old value (read-first), as
//! FPGA block RAM in read-first mode does; where the controller never uses such a read, a RAM
//! built with [`SyncRam::collision_free`] leaves it undefined instead, so synthesis adds no
//! collision logic (on the ECP5 the simple dual-port DP16KD has no cross-port read-first mode,
//! and yosys emulates one with an address compare, a data register and a mux on the read data).
//! Such a RAM returns the old word inverted on a collision, in the Rust model and in the
//! Verilog outside synthesis (`SYNTHESIS` undefined: Verilator, slang), so a controller that
//! did use the word would fail its bit-exact checks. The depth is a run-time generator parameter (at most
//! 2^16); the simulation model is a `Vec`, and reads past the depth return 0 in simulation (the
//! controllers never issue them; the Verilog leaves them undefined). Every word starts at 0 in
//! the model and in simulated Verilog (an `initial` loop outside `SYNTHESIS`; synthesis keeps
//! block RAM's configured contents, 0 by default), so a four-state simulator (Icarus) sees what
//! rust-hdl and Verilator see.

use rust_hdl::prelude::*;

/// A `depth`-entry RAM of `T` words.
#[derive(LogicBlock)]
pub struct SyncRam<T: Synth> {
    /// Clock of both ports.
    pub clock: Signal<In, Clock>,
    /// Read enable.
    pub r_en: Signal<In, Bit>,
    /// Read address.
    pub r_addr: Signal<In, Bits<16>>,
    /// Read data (registered).
    pub r_data: Signal<Out, T>,
    /// Write enable.
    pub w_en: Signal<In, Bit>,
    /// Write address.
    pub w_addr: Signal<In, Bits<16>>,
    /// Write data.
    pub w_data: Signal<In, T>,
    /// Simulation contents (not a signal: skipped by rust-hdl's derive).
    _mem: Box<Vec<T>>,
    /// Collision-free RAM: what a colliding read returns in simulation; `None` for read-first.
    _poison: Option<fn(T) -> T>,
}

impl<T: Synth> SyncRam<T> {
    /// A RAM of `depth` words, all zero.
    pub fn new(depth: usize) -> Self {
        assert!((1..=1 << 16).contains(&depth), "validated by the configuration");
        SyncRam {
            clock: Default::default(),
            r_en: Default::default(),
            r_addr: Default::default(),
            r_data: Default::default(),
            w_en: Default::default(),
            w_addr: Default::default(),
            w_data: Default::default(),
            _mem: Box::new(vec![T::default(); depth]),
            _poison: None,
        }
    }

    /// Whether a read colliding with a write is left undefined (see the module header).
    pub fn is_collision_free(&self) -> bool {
        self._poison.is_some()
    }

    /// Number of words.
    pub fn depth(&self) -> usize {
        self._mem.len()
    }

    /// The simulated contents (for testbench inspection only).
    pub fn contents(&self) -> &[T] {
        &self._mem
    }
}

impl<const N: usize> SyncRam<Bits<N>> {
    /// A RAM of `depth` words whose controller never uses a read of the word written in the same
    /// cycle: the colliding read is undefined in hardware and returns the old word inverted in
    /// simulation (see the module header).
    pub fn collision_free(depth: usize) -> Self {
        let mut ram = Self::new(depth);
        ram._poison = Some(|v| !v);
        ram
    }
}

impl<T: Synth> Logic for SyncRam<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.r_en.val() {
                let a = self.r_addr.val().index();
                let old = self._mem.get(a).copied().unwrap_or_default();
                self.r_data.next = match self._poison {
                    // The Verilog compares the address bits the depth needs; the controllers keep
                    // addresses below the depth, so the full compare is the same.
                    Some(poison) if self.w_en.val() && self.w_addr.val().index() == a => poison(old),
                    _ => old,
                };
            }
            if self.w_en.val() {
                let a = self.w_addr.val().index();
                if let Some(slot) = self._mem.get_mut(a) {
                    *slot = self.w_data.val();
                }
            }
        }
    }

    fn connect(&mut self) {
        self.r_data.connect();
    }

    fn hdl(&self) -> Verilog {
        // The array is indexed with the address bits its depth needs (the controllers keep
        // addresses below the depth; the bits above are unused, waived in the lint file).
        let depth = self._mem.len();
        let bits = (usize::BITS - (depth - 1).leading_zeros()).max(1);
        let (msb, last, ab) = (T::BITS - 1, depth - 1, bits - 1);
        // The pseudo-random fill (a 64-bit LCG, no system task: the Verilog post-processing
        // renames `$`) takes its high 32 bits as many times as cover the word.
        let reps = (T::BITS as usize).div_ceil(32);
        let rbits = 32 * reps - 1;
        if self._poison.is_none() {
            return Verilog::Custom(format!(
                "\
reg [{msb}:0] mem [0:{last}];
// Every word starts at 0, as in the Rust model; synthesis leaves block RAM at its configured
// contents, 0 by default (and does not unroll the loop). ACCELGEN_RAM_RANDOM starts every word
// pseudo-random instead (a check that no output depends on a word the run never wrote).
`ifndef SYNTHESIS
integer init_i;
`ifdef ACCELGEN_RAM_RANDOM
reg [63:0] init_r;
reg [{rbits}:0] init_w;
initial begin
   init_r = 64'h9E3779B97F4A7C15;
   for (init_i = 0; init_i <= {last}; init_i = init_i + 1) begin
      init_r = init_r * 64'h5851F42D4C957F2D + 64'h14057B7EF767814F;
      init_w = {{{reps}{{init_r[63:32]}}}};
      mem[init_i] = init_w[{msb}:0];
   end
end
`else
initial for (init_i = 0; init_i <= {last}; init_i = init_i + 1) mem[init_i] = 0;
`endif
`endif
always @(posedge clock) begin
   if (r_en) r_data <= mem[r_addr[{ab}:0]];
   if (w_en) mem[w_addr[{ab}:0]] <= w_data;
end
"
            ));
        }
        Verilog::Custom(format!(
            "\
// A read of the word written in the same cycle is never used: undefined in hardware (no
// collision logic), the old word inverted in simulation so that a use would show.
(* no_rw_check *)
reg [{msb}:0] mem [0:{last}];
// Every word starts at 0, as in the Rust model; synthesis leaves block RAM at its configured
// contents, 0 by default (and does not unroll the loop). ACCELGEN_RAM_RANDOM starts every word
// pseudo-random instead (a check that no output depends on a word the run never wrote).
`ifndef SYNTHESIS
integer init_i;
`ifdef ACCELGEN_RAM_RANDOM
reg [63:0] init_r;
reg [{rbits}:0] init_w;
initial begin
   init_r = 64'h9E3779B97F4A7C15;
   for (init_i = 0; init_i <= {last}; init_i = init_i + 1) begin
      init_r = init_r * 64'h5851F42D4C957F2D + 64'h14057B7EF767814F;
      init_w = {{{reps}{{init_r[63:32]}}}};
      mem[init_i] = init_w[{msb}:0];
   end
end
`else
initial for (init_i = 0; init_i <= {last}; init_i = init_i + 1) mem[init_i] = 0;
`endif
`endif
always @(posedge clock) begin
`ifdef SYNTHESIS
   if (r_en) r_data <= mem[r_addr[{ab}:0]];
`else
   if (r_en) r_data <= (w_en && w_addr[{ab}:0] == r_addr[{ab}:0]) ? ~mem[r_addr[{ab}:0]] : mem[r_addr[{ab}:0]];
`endif
   if (w_en) mem[w_addr[{ab}:0]] <= w_data;
end
"
        ))
    }
}

crate::clocked!(impl[T: Synth] SyncRam<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;

    #[test]
    fn sync_ram_reads_first_and_holds_data_without_enable() {
        let mut h = Harness::new(SyncRam::<Bits<8>>::new(5)).unwrap();
        let u = &mut h.uut;
        u.w_en.next = true;
        u.w_addr.next = 3.into();
        u.w_data.next = 42.into();
        u.r_en.next = true;
        u.r_addr.next = 3.into();
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), 0, "read-first: the old value");
        h.uut.w_en.next = false;
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), 42);
        h.uut.r_en.next = false;
        h.uut.r_addr.next = 0.into();
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), 42, "held without r_en");
        assert_eq!(h.uut.contents()[3], 42);
    }

    #[test]
    fn collision_free_ram_poisons_a_colliding_read_only() {
        let mut h = Harness::new(SyncRam::<Bits<8>>::collision_free(5)).unwrap();
        assert!(h.uut.is_collision_free());
        let u = &mut h.uut;
        u.w_en.next = true;
        u.w_addr.next = 3.into();
        u.w_data.next = 42.into();
        u.r_en.next = true;
        u.r_addr.next = 2.into();
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), 0, "another address reads normally");
        h.uut.w_data.next = 7.into();
        h.uut.r_addr.next = 3.into();
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), !42u8 as u64, "collision: the old word inverted");
        h.uut.w_en.next = false;
        h.step().unwrap();
        assert_eq!(h.uut.r_data.val(), 7, "the write happened");
        let v = h.uut.hdl();
        let Verilog::Custom(text) = v else { panic!("custom Verilog expected") };
        assert!(text.contains("(* no_rw_check *)") && text.contains("`ifdef SYNTHESIS"), "{text}");
    }
}
