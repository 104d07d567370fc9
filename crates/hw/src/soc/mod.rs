//! The accelerator for an FPGA SoC: `accel_axi` (AXI4-Lite registers, an AXI4 memory master,
//! an interrupt) around `accel_top` (docs/soc.md).

mod accel_axi;
mod axi_master;
mod axil_regs;
mod ports;

pub use accel_axi::AccelAxi;
pub use axi_master::AxiMemMaster;
pub use axil_regs::AxiLiteRegs;
pub use ports::{Axi4Master, AxiLiteSlave};
