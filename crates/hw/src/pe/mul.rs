//! # RegMul: registered multiplier (the PE's int8 × int8, the requantizer's 16 × 16)
//!
//! `p` takes the low P bits of the product `a·b` at each clock edge, the operands read as signed
//! (two's complement) or unsigned as built. The PE's int8 × int8 product (|a·b| ≤ 2^14) is exact
//! in 16 bits; the requantizer's unsigned 16 × 16 product in 32.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `a`, `b` | in | A, B | operands (A, B ≤ 18) |
//! | `p` | out | P | low P bits of the product of the operands before the last edge (P ≤ 36) |
//!
//! The Verilog is written by hand with two bodies (docs/fpga.md, "Vendor DSP registers"):
//! - by default a behavioural multiply into a register, which every tool maps (yosys puts it
//!   in a DSP48E1 with its product register on Xilinx 7-series);
//! - with the macro `ACCELGEN_ECP5_DSP` defined, a Lattice ECP5 `MULT18X18D` whose output
//!   register (`REG_OUTPUT_CLK = "CLK0"`) is the product register. yosys's `synth_ecp5` does not
//!   move fabric registers into the DSP block, and the routing from the multiplier to a fabric
//!   register was the critical path of the tiny `accel_top` (PE and requantizer multipliers).
//!
//! The ECP5 body extends the operands to the block's 18 bits as they are read (sign or zero)
//! and sets the block's signedness inputs to match; the low P ≤ 36 bits of the 36-bit product
//! are then the product modulo 2^P. Both bodies have the same cycle behaviour;
//! `tests/ecp5_dsp.rs` simulates them side by side.

use rust_hdl::prelude::*;

/// Registered A × B → P multiplier.
#[derive(LogicBlock)]
pub struct RegMul<const A: usize, const B: usize, const P: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Operand.
    pub a: Signal<In, Bits<A>>,
    /// Operand.
    pub b: Signal<In, Bits<B>>,
    /// Low P bits of the product, registered.
    pub p: Signal<Out, Bits<P>>,
    /// Operands are two's complement (else unsigned).
    _signed: bool,
}

/// The low `p` bits of the product of an `a_bits`-bit and a `b_bits`-bit pattern, read as signed
/// or unsigned.
pub fn mul_low(a: u64, b: u64, a_bits: usize, b_bits: usize, p: usize, signed: bool) -> u64 {
    let ext = |v: u64, n: usize| -> i128 {
        let v = (v & ((1u64 << n) - 1)) as i128;
        if signed && v >> (n - 1) & 1 == 1 {
            v - (1i128 << n)
        } else {
            v
        }
    };
    ((ext(a, a_bits) * ext(b, b_bits)) as u128 & ((1u128 << p) - 1)) as u64
}

impl<const A: usize, const B: usize, const P: usize> RegMul<A, B, P> {
    /// A multiplier of two's-complement operands.
    pub fn signed() -> Self {
        Self::new(true)
    }

    /// A multiplier of unsigned operands.
    pub fn unsigned() -> Self {
        Self::new(false)
    }

    fn new(signed: bool) -> Self {
        assert!(A <= 18 && B <= 18 && P <= 36 && P <= A + B, "one MULT18X18D");
        RegMul { clock: Default::default(), a: Default::default(), b: Default::default(), p: Default::default(), _signed: signed }
    }

    /// Whether the operands are read as two's complement.
    pub fn is_signed(&self) -> bool {
        self._signed
    }

    /// The ECP5 body's `MULT18X18D` port list: operand bit i of an 18-bit port is the operand's
    /// bit i, or above its width its sign bit (signed) or 0 (unsigned); product bits 0..P.
    fn ecp5_ports(&self) -> String {
        let mut ports = Vec::new();
        for (port, sig, n) in [("A", "a", A), ("B", "b", B)] {
            let bit = |i: usize| match (i < n, self._signed) {
                (true, _) => format!("{sig}[{i}]"),
                (false, true) => format!("{sig}[{}]", n - 1),
                (false, false) => "1'b0".to_string(),
            };
            ports.push((0..18).map(|i| format!(".{port}{i}({})", bit(i))).collect::<Vec<_>>().join(", "));
        }
        ports.push((0..P).map(|i| format!(".P{i}(mp[{i}])")).collect::<Vec<_>>().join(", "));
        ports.join(",\n      ")
    }
}

/// Unsigned, as rust-hdl's `*` on `Bits` is.
impl<const A: usize, const B: usize, const P: usize> Default for RegMul<A, B, P> {
    fn default() -> Self {
        Self::unsigned()
    }
}

impl<const A: usize, const B: usize, const P: usize> Logic for RegMul<A, B, P> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let v = mul_low(self.a.val().index() as u64, self.b.val().index() as u64, A, B, P, self._signed);
            self.p.next = v.into();
        }
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        let (pm, s) = (P - 1, if self._signed { "1'b1" } else { "1'b0" });
        // The generic body's operands, extended to P bits as they are read.
        let ext = |sig: &str, n: usize| match (P > n, self._signed) {
            (false, _) => format!("{sig}[{pm}:0]"),
            (true, true) => format!("{{{{{}{{{sig}[{}]}}}}, {sig}}}", P - n, n - 1),
            (true, false) => format!("{{{}'d0, {sig}}}", P - n),
        };
        Verilog::Custom(format!(
            "\
`ifdef ACCELGEN_ECP5_DSP
// Lattice ECP5: the product register is the MULT18X18D's output register.
wire [{pm}:0] mp;
MULT18X18D #(.REG_INPUTA_CLK(\"NONE\"), .REG_INPUTB_CLK(\"NONE\"), .REG_PIPELINE_CLK(\"NONE\"),
             .REG_OUTPUT_CLK(\"CLK0\"), .REG_OUTPUT_CE(\"CE0\"), .REG_OUTPUT_RST(\"RST0\")) dsp (
      {ports},
      .SIGNEDA({s}), .SIGNEDB({s}), .SOURCEA(1'b0), .SOURCEB(1'b0),
      .CLK0(clock), .CE0(1'b1), .RST0(1'b0));
always @(*) p = mp;
`else
wire [{pm}:0] ax = {ea};
wire [{pm}:0] bx = {eb};
initial p = {p_bits}'h0;
always @(posedge clock) p <= ax * bx;
`endif
",
            p_bits = P,
            ports = self.ecp5_ports(),
            ea = ext("a", A),
            eb = ext("b", B),
        ))
    }
}

crate::clocked!(impl[const A: usize, const B: usize, const P: usize] RegMul<A, B, P>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;

    #[test]
    fn mul_low_is_the_product_modulo_2_to_the_p() {
        // Independent of the function: products written out by hand.
        for (a, b, p) in [(0x80u64, 0x80u64, 0x4000u64), (0x7F, 0x80, 0xC080), (0xFF, 0x01, 0xFFFF), (3, 5, 15), (0xFE, 0xFD, 6)] {
            assert_eq!(mul_low(a, b, 8, 8, 16, true), p, "signed {a:#x} * {b:#x}");
        }
        assert_eq!(mul_low(0xFF, 0xFF, 8, 8, 16, false), 0xFE01);
        assert_eq!(mul_low(0xFFFF, 0xFFFF, 16, 16, 32, false), 0xFFFE_0001);
    }

    #[test]
    fn product_is_registered() {
        let mut h = Harness::new(RegMul::<8, 8, 16>::signed()).unwrap();
        h.uut.a.next = 0x80.into();
        h.uut.b.next = 0x7F.into();
        h.step().unwrap();
        assert_eq!(h.uut.p.val().index(), 0xC080);
        h.uut.a.next = 2.into();
        assert_eq!(h.uut.p.val().index(), 0xC080, "no change between edges");
        h.step().unwrap();
        assert_eq!(h.uut.p.val().index(), 0x00FE, "2 · 127");
    }
}
