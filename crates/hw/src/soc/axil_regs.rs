//! # AxiLiteRegs: the AXI4-Lite register slave of `accel_axi`
//!
//! The register map is `accelgen_isa::soc::AXI_REGISTERS` (docs/soc.md); this block decodes its
//! offsets from that table. It turns register writes into the core's host-port writes (`CTRL`,
//! `WATCHDOG`, and a program word from `PROG_LO`/`PROG_HI`), keeps `IRQ_ENABLE`, `IRQ_STATUS`
//! and `MEM_BASE`, and answers reads of the core's read registers one cycle after the address
//! (the core's `reg_rdata` latency), so every read takes two cycles from `arvalid` to `rvalid`.
//!
//! Write channel: the address and the data are taken independently (either may come first);
//! the write happens in the cycle after both are held, and its response is held until `bready`.
//! Neither is taken while a response waits. Byte strobes mask the stored registers and the
//! action registers alike. A write to a read-only or unknown offset and a read of an unknown one
//! answer `SLVERR` (2) and change nothing. Every output is a register or a function of
//! registers only (no path from an AXI input to an AXI output).
//!
//! Interrupts: `IRQ_STATUS` bits are set on the rising edge of their source (`done`, `error`,
//! `bus_err`), cleared by writing 1 and by `CTRL.START`; `irq` is the registered OR of the set
//! bits that `IRQ_ENABLE` enables. `rstn` low empties both channels and clears `IRQ_ENABLE`,
//! `IRQ_STATUS` and `MEM_BASE`.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `rstn` | in | 1 | clock; synchronous reset, active low |
//! | `s_axil_*` | | | the AXI4-Lite slave ([`AxiLiteSlave`]) |
//! | `reg_we`, `reg_addr`, `reg_wdata` | out | 1, 4, 64 | the core's host-port write (registered: a cycle after the AXI write) |
//! | `reg_raddr` | out | 4 | the core's read address (meaningful in an `ar` handshake cycle) |
//! | `reg_rdata` | in | 32 | the core's read data, a cycle later |
//! | `done`, `error`, `bus_err` | in | 1 | interrupt sources (levels) |
//! | `mem_base` | out | 32 | `MEM_BASE` |
//! | `start` | out | 1 | a `CTRL.START` write (this cycle) |
//! | `irq` | out | 1 | interrupt |

use crate::soc::AxiLiteSlave;
use accelgen_isa::soc::{axi_register, AXI_CORE_READS, AXI_ID_VALUE};
use accelgen_isa::{read_register, write_register};
use rust_hdl::prelude::*;

/// The AXI4-Lite register slave.
#[derive(LogicBlock)]
pub struct AxiLiteRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Reset, active low.
    pub rstn: Signal<In, Bit>,
    /// The slave port.
    pub s_axil: AxiLiteSlave,
    /// Core host-port write.
    pub reg_we: Signal<Out, Bit>,
    /// Its register.
    pub reg_addr: Signal<Out, Bits<4>>,
    /// Its data.
    pub reg_wdata: Signal<Out, Bits<64>>,
    /// Core read address.
    pub reg_raddr: Signal<Out, Bits<4>>,
    /// Core read data.
    pub reg_rdata: Signal<In, Bits<32>>,
    /// Done (the core finished and its writes reached memory).
    pub done: Signal<In, Bit>,
    /// The core stopped on an error.
    pub error: Signal<In, Bit>,
    /// A bus error occurred.
    pub bus_err: Signal<In, Bit>,
    /// `MEM_BASE`.
    pub mem_base: Signal<Out, Bits<32>>,
    /// A `CTRL.START` write.
    pub start: Signal<Out, Bit>,
    /// Interrupt.
    pub irq: Signal<Out, Bit>,
    /// The write channel: address and data held, the response.
    aw_full: DFF<Bit>,
    aw_addr: DFF<Bits<12>>,
    w_full: DFF<Bit>,
    w_data: DFF<Bits<32>>,
    w_strb: DFF<Bits<4>>,
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<2>>,
    /// The read channel: waiting for the core's data, the response.
    r_wait: DFF<Bit>,
    r_addr: DFF<Bits<12>>,
    rvalid: DFF<Bit>,
    rdata: DFF<Bits<32>>,
    rresp: DFF<Bits<2>>,
    /// Registers.
    prog_lo: DFF<Bits<32>>,
    irq_en: DFF<Bits<3>>,
    irq_st: DFF<Bits<3>>,
    base: DFF<Bits<32>>,
    irq_r: DFF<Bit>,
    /// The sources as last seen (edges).
    src_prev: DFF<Bits<3>>,
    /// The core's host-port write, registered (timing: the offset decode and the strobe mask do
    /// not reach the core's run control in their cycle).
    we_r: DFF<Bit>,
    addr_r: DFF<Bits<4>>,
    wdata_r: DFF<Bits<64>>,
    /// Byte offsets of the registers, from the table (a misaligned address matches none).
    o_id: Constant<Bits<12>>,
    o_ctrl: Constant<Bits<12>>,
    o_status: Constant<Bits<12>>,
    o_wd: Constant<Bits<12>>,
    o_irq_en: Constant<Bits<12>>,
    o_irq_st: Constant<Bits<12>>,
    o_base: Constant<Bits<12>>,
    /// `MEM_BASE`'s writable bits (a 4 KiB page address).
    page: Constant<Bits<32>>,
    o_plo: Constant<Bits<12>>,
    o_phi: Constant<Bits<12>>,
    /// The core's registers: writes DATA, CTRL, WATCHDOG; read STATUS.
    c_data: Constant<Bits<4>>,
    c_ctrl: Constant<Bits<4>>,
    c_wd: Constant<Bits<4>>,
    c_status: Constant<Bits<4>>,
    id_value: Constant<Bits<32>>,
    /// Bits 11..6 of a core read register's offset.
    o_reads: Constant<Bits<6>>,
    /// The write happens; the strobes as a bit mask; the data masked; the write's target.
    do_write: Signal<Local, Bit>,
    mask: Signal<Local, Bits<32>>,
    sb: Vec<Signal<Local, Bits<8>>>,
    /// `IRQ_STATUS` after clears, before this cycle's sources.
    st_kept: Signal<Local, Bits<3>>,
    wm: Signal<Local, Bits<32>>,
    src: Signal<Local, Bits<3>>,
    ar_fire: Signal<Local, Bit>,
    ar_word: Signal<Local, Bits<12>>,
    /// The core's host-port write this cycle (registered into `we_r`, `addr_r`, `wdata_r`).
    h_we: Signal<Local, Bit>,
    h_addr: Signal<Local, Bits<4>>,
    h_wdata: Signal<Local, Bits<64>>,
}

impl Default for AxiLiteRegs {
    fn default() -> Self {
        let o = |name: &str| Constant::new(u64::from(axi_register(name)).into());
        let c = |a: u8| Constant::new(u64::from(a).into());
        block_with_defaults!(AxiLiteRegs {
            o_id: o("ID"),
            o_ctrl: o("CTRL"),
            o_status: o("STATUS"),
            o_wd: o("WATCHDOG"),
            o_irq_en: o("IRQ_ENABLE"),
            o_irq_st: o("IRQ_STATUS"),
            o_base: o("MEM_BASE"),
            page: Constant::new(0xFFFF_F000u64.into()),
            o_plo: o("PROG_LO"),
            o_phi: o("PROG_HI"),
            c_data: c(write_register("DATA")),
            c_ctrl: c(write_register("CTRL")),
            c_wd: c(write_register("WATCHDOG")),
            c_status: c(read_register("STATUS")),
            id_value: Constant::new(u64::from(AXI_ID_VALUE).into()),
            o_reads: Constant::new(u64::from(AXI_CORE_READS >> 6).into()),
            sb: crate::vec_of(4),
        } defaults {
            clock, rstn, s_axil, reg_we, reg_addr, reg_wdata, reg_raddr, reg_rdata, done, error, bus_err, mem_base, start, irq,
            aw_full, aw_addr, w_full, w_data, w_strb, bvalid, bresp, r_wait, r_addr, rvalid, rdata, rresp, prog_lo, irq_en,
            irq_st, base, irq_r, src_prev, we_r, addr_r, wdata_r, do_write, mask, wm, src, ar_fire, ar_word, st_kept, h_we, h_addr, h_wdata,
        })
    }
}

impl Logic for AxiLiteRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, aw_full, aw_addr, w_full, w_data, w_strb, bvalid, bresp, r_wait, r_addr, rvalid, rdata, rresp, prog_lo,
            irq_en, irq_st, base, irq_r, src_prev, we_r, addr_r, wdata_r
        );
        // ---- Write channel.
        self.s_axil.awready.next = !self.aw_full.q.val() & !self.bvalid.q.val();
        self.s_axil.wready.next = !self.w_full.q.val() & !self.bvalid.q.val();
        if self.s_axil.awvalid.val() & !self.aw_full.q.val() & !self.bvalid.q.val() {
            self.aw_full.d.next = true;
            self.aw_addr.d.next = self.s_axil.awaddr.val();
        }
        if self.s_axil.wvalid.val() & !self.w_full.q.val() & !self.bvalid.q.val() {
            self.w_full.d.next = true;
            self.w_data.d.next = self.s_axil.wdata.val();
            self.w_strb.d.next = self.s_axil.wstrb.val();
        }
        // Each strobe bit as a byte of ones.
        for i in 0..self.sb.len() {
            self.sb[i].next = 0.into();
            if self.w_strb.q.val().get_bit(i) {
                self.sb[i].next = 0xFF.into();
            }
        }
        self.mask.next = bit_cast::<32, 8>(self.sb[0].val())
            | (bit_cast::<32, 8>(self.sb[1].val()) << 8)
            | (bit_cast::<32, 8>(self.sb[2].val()) << 16)
            | (bit_cast::<32, 8>(self.sb[3].val()) << 24);
        self.wm.next = self.w_data.q.val() & self.mask.val();
        self.do_write.next = self.aw_full.q.val() & self.w_full.q.val() & !self.bvalid.q.val();
        self.h_we.next = false;
        self.h_addr.next = self.c_data.val();
        self.h_wdata.next = bit_cast::<64, 32>(self.wm.val());
        self.start.next = false;
        if self.do_write.val() {
            self.aw_full.d.next = false;
            self.w_full.d.next = false;
            self.bvalid.d.next = true;
            self.bresp.d.next = 0.into();
            if self.aw_addr.q.val() == self.o_ctrl.val() {
                self.h_we.next = true;
                self.h_addr.next = self.c_ctrl.val();
                self.start.next = self.wm.val().get_bit(0);
            } else if self.aw_addr.q.val() == self.o_wd.val() {
                self.h_we.next = true;
                self.h_addr.next = self.c_wd.val();
            } else if self.aw_addr.q.val() == self.o_plo.val() {
                self.prog_lo.d.next = (self.prog_lo.q.val() & !self.mask.val()) | self.wm.val();
            } else if self.aw_addr.q.val() == self.o_phi.val() {
                self.h_we.next = true;
                self.h_addr.next = self.c_data.val();
                self.h_wdata.next = (bit_cast::<64, 32>(self.wm.val()) << 32) | bit_cast::<64, 32>(self.prog_lo.q.val());
            } else if self.aw_addr.q.val() == self.o_irq_en.val() {
                self.irq_en.d.next = (self.irq_en.q.val() & !self.mask.val().get_bits::<3>(0)) | self.wm.val().get_bits::<3>(0);
            } else if self.aw_addr.q.val() == self.o_base.val() {
                // Page-aligned: bits 11:0 read as zero (read bursts never cross a 4 KiB page).
                self.base.d.next = ((self.base.q.val() & !self.mask.val()) | self.wm.val()) & self.page.val();
            } else if self.aw_addr.q.val() != self.o_irq_st.val() {
                self.bresp.d.next = 2.into();
            }
        }
        self.we_r.d.next = self.h_we.val();
        self.addr_r.d.next = self.h_addr.val();
        self.wdata_r.d.next = self.h_wdata.val();
        self.reg_we.next = self.we_r.q.val();
        self.reg_addr.next = self.addr_r.q.val();
        self.reg_wdata.next = self.wdata_r.q.val();
        if self.bvalid.q.val() & self.s_axil.bready.val() {
            self.bvalid.d.next = false;
        }
        self.s_axil.bvalid.next = self.bvalid.q.val();
        self.s_axil.bresp.next = self.bresp.q.val();

        // ---- Interrupts: set on a rising source, cleared by W1C and by START (set wins).
        self.src.next = bit_cast::<3, 1>(self.done.val().into())
            | (bit_cast::<3, 1>(self.error.val().into()) << 1)
            | (bit_cast::<3, 1>(self.bus_err.val().into()) << 2);
        self.src_prev.d.next = self.src.val();
        self.st_kept.next = self.irq_st.q.val();
        if self.do_write.val() & (self.aw_addr.q.val() == self.o_irq_st.val()) {
            self.st_kept.next = self.irq_st.q.val() & !self.wm.val().get_bits::<3>(0);
        }
        if self.start.val() {
            self.st_kept.next = 0.into();
        }
        self.irq_st.d.next = self.st_kept.val() | (self.src.val() & !self.src_prev.q.val());
        self.irq_r.d.next = (self.irq_st.q.val() & self.irq_en.q.val()).any();
        self.irq.next = self.irq_r.q.val();
        self.mem_base.next = self.base.q.val();

        // ---- Read channel: the address cycle presents the core's read address; the next cycle
        // takes its data.
        self.s_axil.arready.next = !self.r_wait.q.val() & !self.rvalid.q.val();
        self.ar_fire.next = self.s_axil.arvalid.val() & !self.r_wait.q.val() & !self.rvalid.q.val();
        self.ar_word.next = self.s_axil.araddr.val();
        self.reg_raddr.next = self.ar_word.val().get_bits::<4>(2);
        if self.ar_word.val() == self.o_status.val() {
            self.reg_raddr.next = self.c_status.val();
        }
        if self.ar_fire.val() {
            self.r_wait.d.next = true;
            self.r_addr.d.next = self.ar_word.val();
        }
        if self.r_wait.q.val() {
            self.r_wait.d.next = false;
            self.rvalid.d.next = true;
            self.rresp.d.next = 0.into();
            self.rdata.d.next = 0.into();
            if self.r_addr.q.val() == self.o_id.val() {
                self.rdata.d.next = self.id_value.val();
            } else if (self.r_addr.q.val() == self.o_status.val()) | ((self.r_addr.q.val().get_bits::<6>(6) == self.o_reads.val()) & !self.r_addr.q.val().get_bits::<2>(0).any()) {
                self.rdata.d.next = self.reg_rdata.val();
            } else if self.r_addr.q.val() == self.o_irq_en.val() {
                self.rdata.d.next = bit_cast::<32, 3>(self.irq_en.q.val());
            } else if self.r_addr.q.val() == self.o_irq_st.val() {
                self.rdata.d.next = bit_cast::<32, 3>(self.irq_st.q.val());
            } else if self.r_addr.q.val() == self.o_base.val() {
                self.rdata.d.next = self.base.q.val();
            } else if (self.r_addr.q.val() != self.o_ctrl.val())
                & (self.r_addr.q.val() != self.o_wd.val())
                & (self.r_addr.q.val() != self.o_plo.val())
                & (self.r_addr.q.val() != self.o_phi.val())
            {
                self.rresp.d.next = 2.into();
            }
        }
        if self.rvalid.q.val() & self.s_axil.rready.val() {
            self.rvalid.d.next = false;
        }
        self.s_axil.rvalid.next = self.rvalid.q.val();
        self.s_axil.rdata.next = self.rdata.q.val();
        self.s_axil.rresp.next = self.rresp.q.val();

        // ---- Reset.
        if !self.rstn.val() {
            self.aw_full.d.next = false;
            self.w_full.d.next = false;
            self.bvalid.d.next = false;
            self.r_wait.d.next = false;
            self.rvalid.d.next = false;
            self.irq_en.d.next = 0.into();
            self.irq_st.d.next = 0.into();
            self.base.d.next = 0.into();
            self.irq_r.d.next = false;
            self.we_r.d.next = false;
        }
    }
}

crate::clocked!(AxiLiteRegs);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use accelgen_isa::soc::AXI_REGISTERS;

    /// The core's read register i as the test's core answers it (a cycle after the address).
    fn core_value(i: u64) -> u64 {
        0x5EED_0000 + i * 3
    }

    /// One AXI4-Lite transaction, driven with random delays on every channel (address before
    /// data, data before address, both at once; late `bready`/`rready`), returning the response
    /// and every core write the block made meanwhile.
    fn transact(h: &mut Harness<AxiLiteRegs>, rng: &mut Rng, write: Option<(u64, u64, u64)>, raddr: u64) -> (u64, u64, Vec<(u64, u64)>) {
        let mut writes = vec![];
        let (mut a_done, mut w_done) = (false, false);
        let (a_delay, w_delay, r_delay) = (rng.below(3), rng.below(3), rng.below(3));
        let mut pending_raddr: Option<u64> = None;
        for t in 0..40 {
            let u = &mut h.uut;
            u.rstn.next = true;
            // The core's read data follows the address of the previous cycle.
            u.reg_rdata.next = pending_raddr.map_or(0, core_value).into();
            match write {
                Some((addr, data, strb)) => {
                    u.s_axil.awvalid.next = !a_done && t >= a_delay;
                    u.s_axil.awaddr.next = addr.into();
                    u.s_axil.wvalid.next = !w_done && t >= w_delay;
                    u.s_axil.wdata.next = data.into();
                    u.s_axil.wstrb.next = strb.into();
                    u.s_axil.bready.next = t >= a_delay.max(w_delay) + r_delay;
                    u.s_axil.arvalid.next = false;
                }
                None => {
                    u.s_axil.arvalid.next = !a_done && t >= a_delay;
                    u.s_axil.araddr.next = raddr.into();
                    u.s_axil.rready.next = t >= a_delay + r_delay;
                    u.s_axil.awvalid.next = false;
                    u.s_axil.wvalid.next = false;
                }
            }
            h.settle().unwrap();
            let u = &h.uut;
            pending_raddr = None;
            if u.reg_we.val() {
                writes.push((u.reg_addr.val().index() as u64, crate::io::PortValue::get_u64(&u.reg_wdata.val())));
            }
            if write.is_some() {
                a_done |= u.s_axil.awvalid.val() && u.s_axil.awready.val();
                w_done |= u.s_axil.wvalid.val() && u.s_axil.wready.val();
                if u.s_axil.bvalid.val() && u.s_axil.bready.val() {
                    let r = u.s_axil.bresp.val().index() as u64;
                    h.step().unwrap();
                    return (r, 0, writes);
                }
            } else {
                if u.s_axil.arvalid.val() && u.s_axil.arready.val() {
                    a_done = true;
                    pending_raddr = Some(u.reg_raddr.val().index() as u64);
                }
                if u.s_axil.rvalid.val() && u.s_axil.rready.val() {
                    let r = (u.s_axil.rresp.val().index() as u64, u.s_axil.rdata.val().index() as u64);
                    h.step().unwrap();
                    return (r.0, r.1, writes);
                }
            }
            h.step().unwrap();
        }
        panic!("no response in 40 cycles");
    }

    /// Random writes and reads of every register, misaligned and unknown offsets, random byte
    /// strobes, against a model of the register map: the responses, the data read, the core
    /// writes and `MEM_BASE`.
    #[test]
    fn registers_follow_the_table_under_random_channel_timing() {
        let mut rng = Rng::from_env("axil-regs", 9);
        let mut h = Harness::new(AxiLiteRegs::default()).unwrap();
        let (mut base, mut irq_en, mut prog_lo) = (0u64, 0u64, 0u64);
        let offs: Vec<u64> = AXI_REGISTERS.iter().map(|r| u64::from(r.offset)).chain([0x44, 0x7C, 0x24, 0x80, 0xFFC, 0x19, 0x42]).collect();
        let status = u64::from(read_register("STATUS"));
        for step in 0..600 {
            let addr = offs[rng.below(offs.len() as u64) as usize];
            let known = AXI_REGISTERS.iter().find(|r| u64::from(r.offset) == addr);
            let in_reads = addr & 3 == 0 && (0x40..0x80).contains(&addr);
            if rng.below(2) == 0 {
                let (data, strb) = (rng.next() as u64 & 0xFFFF_FFFF, if rng.below(3) == 0 { rng.below(16) } else { 15 });
                let mask: u64 = (0..4).filter(|i| strb >> i & 1 == 1).map(|i| 0xFFu64 << (8 * i)).sum();
                let (resp, _, writes) = transact(&mut h, &mut rng, Some((addr, data, strb)), 0);
                let wm = data & mask;
                let (want_resp, want_writes) = match known.map(|r| r.name) {
                    Some("CTRL") => (0, vec![(u64::from(write_register("CTRL")), wm)]),
                    Some("WATCHDOG") => (0, vec![(u64::from(write_register("WATCHDOG")), wm)]),
                    Some("PROG_LO") => {
                        prog_lo = prog_lo & !mask | wm;
                        (0, vec![])
                    }
                    Some("PROG_HI") => (0, vec![(u64::from(write_register("DATA")), wm << 32 | prog_lo)]),
                    Some("IRQ_ENABLE") => {
                        irq_en = irq_en & !(mask & 7) | wm & 7;
                        (0, vec![])
                    }
                    Some("MEM_BASE") => {
                        base = (base & !mask | wm) & !0xFFF;
                        (0, vec![])
                    }
                    Some("IRQ_STATUS") => (0, vec![]),
                    _ => (2, vec![]),
                };
                assert_eq!((resp, &writes), (want_resp, &want_writes), "step {step}: write {data:#x} (strobes {strb:#b}) to {addr:#x}");
            } else {
                let (resp, data, _) = transact(&mut h, &mut rng, None, addr);
                let want = match known.map(|r| r.name) {
                    _ if in_reads => (0, core_value((addr - 0x40) / 4)),
                    Some("ID") => (0, u64::from(AXI_ID_VALUE)),
                    Some("STATUS") => (0, core_value(status)),
                    Some("IRQ_ENABLE") => (0, irq_en),
                    Some("IRQ_STATUS") => (0, 0),
                    Some("MEM_BASE") => (0, base),
                    Some(_) => (0, 0),
                    None => (2, 0),
                };
                assert_eq!((resp, data), want, "step {step}: read of {addr:#x}");
            }
            assert_eq!(h.uut.mem_base.val().index() as u64, base, "step {step}: MEM_BASE");
        }
    }

    /// IRQ_STATUS bits rise with their sources' rising edges, `irq` follows the enabled ones a
    /// cycle later, writing 1 clears a bit and START clears them all.
    #[test]
    fn interrupts_latch_edges_and_clear() {
        let mut rng = Rng::from_env("axil-irq", 4);
        let mut h = Harness::new(AxiLiteRegs::default()).unwrap();
        let irq_en = u64::from(axi_register("IRQ_ENABLE"));
        let irq_st = u64::from(axi_register("IRQ_STATUS"));
        transact(&mut h, &mut rng, Some((irq_en, 0b101, 15)), 0);
        let read_st = |h: &mut Harness<AxiLiteRegs>, rng: &mut Rng| transact(h, rng, None, irq_st).1;
        assert_eq!(read_st(&mut h, &mut rng), 0);
        for (src, bit) in [(0usize, 1u64), (1, 2), (2, 4)] {
            let u = &mut h.uut;
            match src {
                0 => u.done.next = true,
                1 => u.error.next = true,
                _ => u.bus_err.next = true,
            }
            h.step().unwrap();
            h.step().unwrap();
            h.step().unwrap();
            let st = read_st(&mut h, &mut rng);
            assert!(st & bit != 0, "source {src}: IRQ_STATUS {st:#b}");
            assert_eq!(h.uut.irq.val(), st & 0b101 != 0, "source {src}: irq with enable 0b101");
        }
        // A level that stays high sets its bit once: cleared, it stays clear.
        transact(&mut h, &mut rng, Some((irq_st, 0b001, 15)), 0);
        h.step().unwrap();
        assert_eq!(read_st(&mut h, &mut rng), 0b110);
        transact(&mut h, &mut rng, Some((u64::from(axi_register("CTRL")), 1, 15)), 0);
        h.step().unwrap();
        assert_eq!(read_st(&mut h, &mut rng), 0);
        h.step().unwrap();
        assert!(!h.uut.irq.val(), "nothing set, no irq");
    }
}
