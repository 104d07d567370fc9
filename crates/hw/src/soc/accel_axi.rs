//! # AccelAxi (`accel_axi`): the accelerator for an FPGA SoC
//!
//! `accel_top` behind standard buses (docs/soc.md): an AXI4-Lite slave for the registers
//! ([`AxiLiteRegs`], map `accelgen_isa::soc::AXI_REGISTERS`, also emitted as
//! `accelgen_regs.h` / `accelgen_regs.json`), an AXI4 master for memory ([`AxiMemMaster`],
//! addresses `MEM_BASE` + offset) and an interrupt. Port names are AXI's (`aclk`, `aresetn`,
//! `s_axil_*`, `m_axi_*`, `irq`), so Vivado's IP integrator infers the interfaces.
//!
//! `IRQ_STATUS.DONE` rises when the core is done and every write it issued has been answered,
//! so the host may read the output region as soon as the interrupt comes. A bus error (a
//! non-OKAY response) stops the program with error code 7 (`ERR_BUS`) and sets
//! `IRQ_STATUS.BUS_ERROR` (sticky until the next start).
//!
//! Reset: `aresetn` low empties the AXI channels, clears the AXI-side registers and holds the
//! core's `CTRL.CLEAR` (status and program buffer); the core's datapath registers have no reset
//! (rust-hdl registers start from their initial values, which the FPGA's configuration loads), and
//! a program is started only by `CTRL.START`.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `aclk` | in | 1 | clock |
//! | `aresetn` | in | 1 | reset, active low |
//! | `irq` | out | 1 | interrupt (level) |
//! | `s_axil_*` | | | AXI4-Lite slave, 12-bit addresses, 32-bit data |
//! | `m_axi_*` | | | AXI4 master, 32-bit addresses, `memory.word_bits` data |

use crate::soc::{Axi4Master, AxiLiteRegs, AxiLiteSlave, AxiMemMaster};
use crate::top::AccelTop;
use accelgen_config::HwConfig;
use accelgen_isa::write_register;
use rust_hdl::prelude::*;

/// `accel_top` with AXI ports: W-bit memory words, B = W/8 bytes.
#[derive(LogicBlock)]
pub struct AccelAxi<const W: usize, const B: usize> {
    /// Clock.
    pub aclk: Signal<In, Clock>,
    /// Reset, active low.
    pub aresetn: Signal<In, Bit>,
    /// Interrupt.
    pub irq: Signal<Out, Bit>,
    /// Registers.
    pub s_axil: AxiLiteSlave,
    /// Memory.
    pub m_axi: Axi4Master<W, B>,
    /// The accelerator.
    pub core: AccelTop<W, B>,
    /// The register slave.
    regs: AxiLiteRegs,
    /// The memory master.
    mem: AxiMemMaster<W, B>,
    /// A bus error since the last start.
    bus_err: DFF<Bit>,
    /// The core's CTRL register and its CLEAR value.
    c_ctrl: Constant<Bits<4>>,
}

impl<const W: usize, const B: usize> AccelAxi<W, B> {
    /// The SoC top of a validated configuration (whose `memory.word_bits` is W).
    pub fn new(cfg: &HwConfig) -> Self {
        Self::with_fault(cfg, false)
    }

    /// The SoC top with the memory master's built-in AR fault when `drop_valid` (tests only).
    pub fn with_fault(cfg: &HwConfig, drop_valid: bool) -> Self {
        block_with_defaults!(AccelAxi {
            core: AccelTop::new(cfg),
            mem: AxiMemMaster::with_fault(cfg.memory.read_bursts as usize, drop_valid),
            c_ctrl: Constant::new(u64::from(write_register("CTRL")).into()),
        } defaults {
            aclk, aresetn, irq, s_axil, m_axi, regs, bus_err,
        })
    }
}

impl<const W: usize, const B: usize> Logic for AccelAxi<W, B> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, aclk, bus_err);
        self.core.clock.next = self.aclk.val();
        self.regs.clock.next = self.aclk.val();
        self.mem.clock.next = self.aclk.val();
        self.regs.rstn.next = self.aresetn.val();
        self.mem.rstn.next = self.aresetn.val();
        AxiLiteSlave::link(&mut self.s_axil, &mut self.regs.s_axil);
        Axi4Master::<W, B>::link(&mut self.m_axi, &mut self.mem.m_axi);
        // Host port; in reset, the core's CTRL.CLEAR.
        self.core.reg_we.next = self.regs.reg_we.val();
        self.core.reg_addr.next = self.regs.reg_addr.val();
        self.core.reg_wdata.next = self.regs.reg_wdata.val();
        if !self.aresetn.val() {
            self.core.reg_we.next = true;
            self.core.reg_addr.next = self.c_ctrl.val();
            self.core.reg_wdata.next = 2.into();
        }
        self.core.reg_raddr.next = self.regs.reg_raddr.val();
        self.regs.reg_rdata.next = self.core.reg_rdata.val();
        // Memory.
        self.mem.base.next = self.regs.mem_base.val();
        self.mem.req_valid.next = self.core.m.req_valid.val();
        self.mem.req_we.next = self.core.m.req_we.val();
        self.mem.req_addr.next = self.core.m.req_addr.val();
        self.mem.req_len.next = self.core.m.req_len.val();
        self.mem.req_wdata.next = self.core.m.req_wdata.val();
        self.mem.req_be.next = self.core.m.req_be.val();
        self.mem.req_more.next = self.core.m.req_more.val();
        self.core.m.req_ready.next = self.mem.req_ready.val();
        self.core.m.rsp_valid.next = self.mem.rsp_valid.val();
        self.core.m.rsp_data.next = self.mem.rsp_data.val();
        self.mem.rsp_ready.next = self.core.m.rsp_ready.val();
        self.core.m.rsp_err.next = self.mem.err.val();
        // Interrupt sources.
        self.regs.done.next = self.core.st_done.val() & self.mem.wr_idle.val() & !self.core.st_busy.val();
        self.regs.error.next = self.core.st_error.val();
        if self.mem.err.val() {
            self.bus_err.d.next = true;
        }
        if self.regs.start.val() | !self.aresetn.val() {
            self.bus_err.d.next = false;
        }
        self.regs.bus_err.next = self.bus_err.q.val();
        self.irq.next = self.regs.irq.val();
    }
}

impl<const W: usize, const B: usize> crate::sim::Clocked for AccelAxi<W, B> {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.aclk
    }
}

crate::top_io!(
    impl [const W: usize, const B: usize] AccelAxi<W, B>,
    inputs: [
        aresetn, s_axil.awaddr, s_axil.awvalid, s_axil.wdata, s_axil.wstrb, s_axil.wvalid, s_axil.bready, s_axil.araddr,
        s_axil.arvalid, s_axil.rready, m_axi.awready, m_axi.wready, m_axi.bid, m_axi.bresp, m_axi.bvalid, m_axi.arready,
        m_axi.rid, m_axi.rdata, m_axi.rresp, m_axi.rlast, m_axi.rvalid,
    ],
    outputs: [
        irq, s_axil.awready, s_axil.wready, s_axil.bresp, s_axil.bvalid, s_axil.arready, s_axil.rdata, s_axil.rresp,
        s_axil.rvalid, m_axi.awid, m_axi.awaddr, m_axi.awlen, m_axi.awsize, m_axi.awburst, m_axi.awcache, m_axi.awprot,
        m_axi.awvalid, m_axi.wdata, m_axi.wstrb, m_axi.wlast, m_axi.wvalid, m_axi.bready, m_axi.arid, m_axi.araddr,
        m_axi.arlen, m_axi.arsize, m_axi.arburst, m_axi.arcache, m_axi.arprot, m_axi.arvalid, m_axi.rready,
    ],
    fn clock_name(&self) -> &'static str {
        "aclk"
    }
);
