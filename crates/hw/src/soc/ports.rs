//! The AXI port bundles of `accel_axi`, each declared once (`LogicInterface`s; see
//! docs/architecture.md for how their names reach the Verilog): held as field `s_axil` and
//! `m_axi`, their signals are the ports `s_axil_awaddr` … and `m_axi_awid` …, AXI's own names,
//! from which Vivado's IP integrator infers the interfaces.

use rust_hdl::prelude::*;

/// An AXI4-Lite slave (directions as the slave sees them): 12-bit byte addresses (a 4 KiB
/// window), 32-bit data.
#[derive(LogicInterface, Default)]
pub struct AxiLiteSlave {
    /// Write address.
    pub awaddr: Signal<In, Bits<12>>,
    /// Write address valid.
    pub awvalid: Signal<In, Bit>,
    /// Write address ready.
    pub awready: Signal<Out, Bit>,
    /// Write data.
    pub wdata: Signal<In, Bits<32>>,
    /// Write byte strobes.
    pub wstrb: Signal<In, Bits<4>>,
    /// Write data valid.
    pub wvalid: Signal<In, Bit>,
    /// Write data ready.
    pub wready: Signal<Out, Bit>,
    /// Write response (0 OKAY, 2 SLVERR).
    pub bresp: Signal<Out, Bits<2>>,
    /// Write response valid.
    pub bvalid: Signal<Out, Bit>,
    /// Write response ready.
    pub bready: Signal<In, Bit>,
    /// Read address.
    pub araddr: Signal<In, Bits<12>>,
    /// Read address valid.
    pub arvalid: Signal<In, Bit>,
    /// Read address ready.
    pub arready: Signal<Out, Bit>,
    /// Read data.
    pub rdata: Signal<Out, Bits<32>>,
    /// Read response.
    pub rresp: Signal<Out, Bits<2>>,
    /// Read data valid.
    pub rvalid: Signal<Out, Bit>,
    /// Read data ready.
    pub rready: Signal<In, Bit>,
}

/// An AXI4 master (directions as the master sees them): 4-bit IDs, 32-bit byte addresses, W-bit
/// data with B = W/8 byte strobes.
#[derive(LogicInterface, Default)]
pub struct Axi4Master<const W: usize, const B: usize> {
    /// Write ID.
    pub awid: Signal<Out, Bits<4>>,
    /// Write address.
    pub awaddr: Signal<Out, Bits<32>>,
    /// Beats − 1.
    pub awlen: Signal<Out, Bits<8>>,
    /// log2 bytes per beat.
    pub awsize: Signal<Out, Bits<3>>,
    /// Burst type (1 INCR).
    pub awburst: Signal<Out, Bits<2>>,
    /// Memory type.
    pub awcache: Signal<Out, Bits<4>>,
    /// Protection.
    pub awprot: Signal<Out, Bits<3>>,
    /// Write address valid.
    pub awvalid: Signal<Out, Bit>,
    /// Write address ready.
    pub awready: Signal<In, Bit>,
    /// Write data.
    pub wdata: Signal<Out, Bits<W>>,
    /// Write byte strobes.
    pub wstrb: Signal<Out, Bits<B>>,
    /// Last beat of a burst.
    pub wlast: Signal<Out, Bit>,
    /// Write data valid.
    pub wvalid: Signal<Out, Bit>,
    /// Write data ready.
    pub wready: Signal<In, Bit>,
    /// Write response ID.
    pub bid: Signal<In, Bits<4>>,
    /// Write response.
    pub bresp: Signal<In, Bits<2>>,
    /// Write response valid.
    pub bvalid: Signal<In, Bit>,
    /// Write response ready.
    pub bready: Signal<Out, Bit>,
    /// Read ID.
    pub arid: Signal<Out, Bits<4>>,
    /// Read address.
    pub araddr: Signal<Out, Bits<32>>,
    /// Beats − 1.
    pub arlen: Signal<Out, Bits<8>>,
    /// log2 bytes per beat.
    pub arsize: Signal<Out, Bits<3>>,
    /// Burst type.
    pub arburst: Signal<Out, Bits<2>>,
    /// Memory type.
    pub arcache: Signal<Out, Bits<4>>,
    /// Protection.
    pub arprot: Signal<Out, Bits<3>>,
    /// Read address valid.
    pub arvalid: Signal<Out, Bit>,
    /// Read address ready.
    pub arready: Signal<In, Bit>,
    /// Read ID.
    pub rid: Signal<In, Bits<4>>,
    /// Read data.
    pub rdata: Signal<In, Bits<W>>,
    /// Read response.
    pub rresp: Signal<In, Bits<2>>,
    /// Last beat.
    pub rlast: Signal<In, Bit>,
    /// Read data valid.
    pub rvalid: Signal<In, Bit>,
    /// Read data ready.
    pub rready: Signal<Out, Bit>,
}
