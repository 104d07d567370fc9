//! Networks on `accel_axi` (docs/soc.md): the host programs it through AXI4-Lite register
//! writes (`MEM_BASE`, the program words by `PROG_LO`/`PROG_HI`, `WATCHDOG`, `IRQ_ENABLE`,
//! `CTRL.START`), memory is an AXI4 slave model with random ready and response delays on every
//! channel, a protocol checker watches the master every cycle, and the run ends on `irq`.
//!
//! The checker fails the run on any of: a `valid` dropped or a payload changed before its
//! `ready` (AR, AW, W); `wlast` not on the last beat of the burst its AW gave; a burst crossing a
//! 4 KiB boundary; a burst type other than INCR or a beat wider than the bus; an address outside
//! the memory image; a response ready (`rready`/`bready`) low (the master must always take them);
//! a transfer left unanswered at the DONE interrupt.

use crate::tb::{Sig, Tb};
use crate::{RunError, RunOptions};
use accelgen_compiler::{compile_full, memory_image_bytes};
use accelgen_config::HwConfig;
use accelgen_formats::{Network, Output};
use accelgen_golden::testutil::Rng;
use accelgen_hw::soc::AccelAxi;
use accelgen_isa::compress;
use accelgen_isa::soc::{axi_register, AXI_CORE_READS};
use std::collections::VecDeque;

/// A run of a network on `accel_axi`.
#[derive(Debug)]
pub struct AxiRun {
    /// The network's output as the hardware wrote it to memory.
    pub output: Output,
    /// Clock periods from `CTRL.START` to `irq`.
    pub cycles: u64,
    /// `STATUS` at the end.
    pub status: u64,
    /// `IRQ_STATUS` at the end (1, DONE, on success).
    pub irq_status: u64,
    /// The core's CYCLES counter (read through CORE_READ), from START to done.
    pub core_cycles: u64,
    /// AXI transfers: read beats, write beats.
    pub reads: u64,
    /// Write beats.
    pub writes: u64,
    /// Read bursts (AR transactions) and the most outstanding at once.
    pub read_bursts: u64,
    pub peak_read_bursts: u64,
    /// Write bursts (AW transactions).
    pub write_bursts: u64,
    /// Bytes moved on the bus (read and write beats times the word's bytes), and the packed
    /// minimum (a model figure: every tensor, weight and bias byte once).
    pub bus_bytes: u64,
    pub min_bytes: u64,
}

/// One AXI port's signals, by their name without the port's prefix (`bus["awvalid"]`).
struct Bus(std::collections::HashMap<&'static str, Sig>);

impl Bus {
    fn new(tb: &Tb, prefix: &str, names: &[&'static str]) -> Result<Bus, String> {
        names.iter().map(|&n| Ok((n, tb.sig(&format!("{prefix}_{n}"))?))).collect::<Result<_, String>>().map(Bus)
    }
}

impl std::ops::Index<&str> for Bus {
    type Output = Sig;
    fn index(&self, name: &str) -> &Sig {
        &self.0[name]
    }
}

/// The AXI4-Lite slave's signals the host drives and reads.
const LITE: &[&str] = &[
    "awaddr", "awvalid", "awready", "wdata", "wstrb", "wvalid", "wready", "bvalid", "bready", "bresp", "araddr", "arvalid", "arready",
    "rvalid", "rready", "rdata", "rresp",
];
/// The AXI4 master's signals the memory model drives and reads.
const MEM: &[&str] = &[
    "awaddr", "awlen", "awsize", "awburst", "awvalid", "awready", "wdata", "wstrb", "wlast", "wvalid", "wready", "bvalid", "bready",
    "araddr", "arlen", "arsize", "arburst", "arvalid", "arready", "rvalid", "rready", "rdata", "rresp", "rlast",
];

/// How the AXI memory behaves and how the master is built.
#[derive(Clone, Copy, Debug)]
pub struct AxiSetup {
    /// `MEM_BASE`: where the image lies.
    pub base: u32,
    /// Seeds the memory's random delays.
    pub seed: u64,
    /// The master's built-in fault: an AR valid dropped before its ready.
    pub fault_drop_valid: bool,
    /// Answer the n-th read burst (from 0) with SLVERR.
    pub slverr_read: Option<u64>,
}

/// The AXI4 slave memory model and the protocol checker.
struct Slave {
    slverr_read: Option<u64>,
    ar_count: u64,
    aw_count: u64,
    image: Vec<u8>,
    base: u64,
    bytes: u64,
    rng: Rng,
    /// Read beats due: (cycle, data, last, response).
    r_q: VecDeque<(u64, u64, bool, u64)>,
    /// Write bursts accepted: (address, beats left); W beats waiting for their AW.
    aw_q: VecDeque<(u64, u64)>,
    w_q: VecDeque<(u64, u64, bool)>,
    /// Write responses due.
    b_q: VecDeque<u64>,
    /// What was offered and not taken last cycle: AR, AW, W payloads.
    held: [Option<Vec<u64>>; 3],
    readies: [bool; 3],
    rvalid: bool,
    bvalid: bool,
    reads: u64,
    writes: u64,
    /// Read bursts the master may keep outstanding (`memory.read_bursts`); the most seen; bursts
    /// issued and their beats.
    max_bursts: u64,
    peak_bursts: u64,
    ar_beats: u64,
}

impl Slave {
    /// The checks of a new burst: INCR, full-width beats, no 4 KiB crossing, inside the image.
    fn burst(&self, what: &str, addr: u64, len: u64, size: u64, burst: u64) -> Result<(), String> {
        let beat = 1u64 << size;
        if burst != 1 || beat != self.bytes {
            return Err(format!("AXI: {what} burst type {burst}, {beat}-byte beats (INCR of {} bytes expected)", self.bytes));
        }
        let end = addr + (len + 1) * beat;
        if addr / 4096 != (end - 1) / 4096 {
            return Err(format!("AXI: {what} burst at {addr:#x} of {} beats crosses a 4 KiB boundary", len + 1));
        }
        if addr < self.base || end > self.base + self.image.len() as u64 || addr % beat != 0 {
            return Err(format!("AXI: {what} at {addr:#x} is outside the memory image or misaligned"));
        }
        Ok(())
    }

    /// One clock period: drive the slave's inputs, check what the master offers, then take and
    /// answer. `now` counts periods.
    fn cycle(&mut self, tb: &mut Tb, m: &Bus, now: u64) -> Result<(), String> {
        // Readies for AR, AW, W this cycle (random, two in three).
        for r in &mut self.readies {
            *r = self.rng.below(3) != 0;
        }
        tb.poke(m["arready"], u64::from(self.readies[0]));
        tb.poke(m["awready"], u64::from(self.readies[1]));
        tb.poke(m["wready"], u64::from(self.readies[2]));
        // Responses shown after a random delay, held until taken.
        self.rvalid = self.rvalid || self.r_q.front().is_some_and(|r| r.0 <= now && self.rng.below(2) == 0);
        self.bvalid = self.bvalid || self.b_q.front().is_some_and(|&t| t <= now && self.rng.below(2) == 0);
        let (rdata, rlast, rresp) = self.r_q.front().map_or((0, false, 0), |r| (r.1, r.2, r.3));
        tb.poke(m["rvalid"], u64::from(self.rvalid));
        tb.poke(m["rdata"], rdata);
        tb.poke(m["rresp"], rresp);
        tb.poke(m["rlast"], u64::from(rlast));
        tb.poke(m["bvalid"], u64::from(self.bvalid));
        // What the master offers: valid held with its payload until ready.
        let offers = [
            tb.is_set(m["arvalid"]).then(|| vec![tb.peek(m["araddr"]), tb.peek(m["arlen"]), tb.peek(m["arsize"]), tb.peek(m["arburst"])]),
            tb.is_set(m["awvalid"]).then(|| vec![tb.peek(m["awaddr"]), tb.peek(m["awlen"]), tb.peek(m["awsize"]), tb.peek(m["awburst"])]),
            tb.is_set(m["wvalid"]).then(|| vec![tb.peek(m["wdata"]), tb.peek(m["wstrb"]), tb.peek(m["wlast"])]),
        ];
        for (ch, (was, is)) in ["AR", "AW", "W"].iter().zip(self.held.iter().zip(&offers)) {
            if let Some(w) = was {
                if is.as_ref() != Some(w) {
                    return Err(format!("AXI: {ch} valid dropped or payload changed before ready at cycle {now}"));
                }
            }
        }
        // The master may hold a read beat back (`rready` low: the core is still taking the
        // elements of the previous word); write responses it always takes.
        let r_taken = self.rvalid && tb.is_set(m["rready"]);
        if self.bvalid && !tb.is_set(m["bready"]) {
            return Err(format!("AXI: a write response not taken at cycle {now}"));
        }
        for (i, o) in offers.iter().enumerate() {
            self.held[i] = o.clone().filter(|_| !self.readies[i]);
        }
        let latency = 1 + self.rng.below(8);
        if let Some(a) = offers[0].as_ref().filter(|_| self.readies[0]) {
            self.burst("read", a[0], a[1], a[2], a[3])?;
            let resp = if self.slverr_read == Some(self.ar_count) { 2 } else { 0 };
            self.ar_count += 1;
            for beat in 0..=a[1] {
                let at = (a[0] + beat * self.bytes - self.base) as usize;
                let data = (0..self.bytes as usize).fold(0u64, |d, i| d | u64::from(self.image[at + i]) << (8 * i));
                self.r_q.push_back((now + latency, data, beat == a[1], resp));
            }
            self.ar_beats += a[1] + 1;
            let out = self.r_q.iter().filter(|r| r.2).count() as u64;
            self.peak_bursts = self.peak_bursts.max(out);
            if out > self.max_bursts {
                return Err(format!("AXI: {out} read bursts outstanding at cycle {now}, more than memory.read_bursts = {}", self.max_bursts));
            }
        }
        if let Some(a) = offers[1].as_ref().filter(|_| self.readies[1]) {
            self.burst("write", a[0], a[1], a[2], a[3])?;
            self.aw_q.push_back((a[0], a[1] + 1));
            self.aw_count += 1;
        }
        if let Some(w) = offers[2].as_ref().filter(|_| self.readies[2]) {
            self.w_q.push_back((w[0], w[1], w[2] == 1));
        }
        // W beats meet their bursts.
        while let (Some(&(addr, left)), Some(&(data, strb, last))) = (self.aw_q.front(), self.w_q.front()) {
            if last != (left == 1) {
                return Err(format!("AXI: WLAST {last} with {left} beats of the burst left at cycle {now}"));
            }
            let at = (addr - self.base) as usize;
            for i in 0..self.bytes as usize {
                if strb >> i & 1 == 1 {
                    self.image[at + i] = (data >> (8 * i)) as u8;
                }
            }
            self.w_q.pop_front();
            self.writes += 1;
            if left == 1 {
                self.aw_q.pop_front();
                self.b_q.push_back(now + latency);
            } else {
                self.aw_q[0] = (addr + self.bytes, left - 1);
            }
        }
        if r_taken {
            self.r_q.pop_front();
            self.reads += 1;
            self.rvalid = false;
        }
        if self.bvalid {
            self.b_q.pop_front();
            self.bvalid = false;
        }
        Ok(())
    }

    fn idle(&self) -> bool {
        self.r_q.is_empty() && self.aw_q.is_empty() && self.w_q.is_empty() && self.b_q.is_empty() && self.held.iter().all(Option::is_none)
    }
}

/// One AXI4-Lite write or read, the memory served meanwhile; returns (resp, data).
fn lite(tb: &mut Tb, l: &Bus, slave: &mut Slave, m: &Bus, now: &mut u64, write: Option<(u32, u64)>, raddr: u32) -> Result<(u64, u64), String> {
    let (mut a_done, mut w_done) = (false, false);
    for _ in 0..64 {
        match write {
            Some((addr, data)) => {
                tb.poke(l["awaddr"], u64::from(addr));
                tb.poke(l["awvalid"], u64::from(!a_done));
                tb.poke(l["wdata"], data);
                tb.poke(l["wstrb"], 15);
                tb.poke(l["wvalid"], u64::from(!w_done));
                tb.poke(l["bready"], 1);
            }
            None => {
                tb.poke(l["araddr"], u64::from(raddr));
                tb.poke(l["arvalid"], u64::from(!a_done));
                tb.poke(l["rready"], 1);
            }
        }
        slave.cycle(tb, m, *now)?;
        let result = if write.is_some() {
            a_done |= tb.is_set(l["awready"]);
            w_done |= tb.is_set(l["wready"]);
            tb.is_set(l["bvalid"]).then(|| (tb.peek(l["bresp"]), 0))
        } else {
            a_done |= tb.is_set(l["arready"]);
            tb.is_set(l["rvalid"]).then(|| (tb.peek(l["rresp"]), tb.peek(l["rdata"])))
        };
        tb.step()?;
        *now += 1;
        if let Some(r) = result {
            for s in [l["awvalid"], l["wvalid"], l["arvalid"], l["bready"], l["rready"]] {
                tb.poke(s, 0);
            }
            return Ok(r);
        }
    }
    Err(format!("AXI4-Lite: no response to {} in 64 cycles", if write.is_some() { "a write" } else { "a read" }))
}

/// Runs `net` (every tensor with data) on `accel_axi` for `cfg` as `setup` says. The output is
/// read from the memory after `irq`; the caller checks `irq_status` and `status`.
pub fn run_accel_axi(net: &Network, cfg: &HwConfig, opts: &RunOptions, setup: AxiSetup) -> Result<AxiRun, RunError> {
    let AxiSetup { base, seed, fault_drop_valid, slverr_read } = setup;
    let compiled = compile_full(net, cfg).map_err(RunError::Unsupported)?;
    let image = memory_image_bytes(net, cfg, &compiled.layout).map_err(RunError::Unsupported)?;
    let (bytes, _) = compress::compress(&compiled.prog, cfg.isa.word_bits);
    if bytes.len() / 8 > cfg.isa.buffer_depth as usize {
        return Err(RunError::Unsupported(format!("the compressed program is {} words, more than isa.buffer_depth", bytes.len() / 8)));
    }
    let word_bytes = (cfg.memory.word_bits / 8) as usize;
    if word_bytes > 8 {
        return Err(RunError::Unsupported(format!("memory.word_bits = {} is emitted but not simulated (allowed here: 32, 64)", cfg.memory.word_bits)));
    }
    let cfg2 = cfg.clone();
    let key = format!("accel_axi {:?} {:?} {:?} {:?} {fault_drop_valid}", cfg.pe_array, cfg.pooling, cfg.isa, cfg.memory);
    let mut tb = match word_bytes {
        8 => opts.testbench(move || AccelAxi::<64, 8>::with_fault(&cfg2, fault_drop_valid), "accel_axi", &key)?,
        _ => opts.testbench(move || AccelAxi::<32, 4>::with_fault(&cfg2, fault_drop_valid), "accel_axi", &key)?,
    };
    let sim = RunError::Sim;
    let s = |n: &str| tb.sig(n).map_err(sim);
    let (l, m) = (Bus::new(&tb, "s_axil", LITE).map_err(sim)?, Bus::new(&tb, "m_axi", MEM).map_err(sim)?);
    let (aresetn, irq) = (s("aresetn")?, s("irq")?);
    // The memory image as `accelgen compile` writes it (memory_init.bin).
    let mut slave = Slave {
        slverr_read,
        ar_count: 0,
        aw_count: 0,
        image,
        base: u64::from(base),
        bytes: word_bytes as u64,
        rng: Rng::new(seed),
        r_q: VecDeque::new(),
        aw_q: VecDeque::new(),
        w_q: VecDeque::new(),
        b_q: VecDeque::new(),
        held: [None, None, None],
        readies: [false; 3],
        rvalid: false,
        bvalid: false,
        reads: 0,
        writes: 0,
        max_bursts: u64::from(cfg.memory.read_bursts),
        peak_bursts: 0,
        ar_beats: 0,
    };
    let mut now = 0u64;
    // Reset for two cycles, then the registers.
    tb.poke(aresetn, 0);
    for _ in 0..2 {
        slave.cycle(&mut tb, &m, now).map_err(sim)?;
        tb.step().map_err(sim)?;
        now += 1;
    }
    tb.poke(aresetn, 1);
    let w = |tb: &mut Tb, slave: &mut Slave, now: &mut u64, reg: &str, v: u64| -> Result<(), RunError> {
        match lite(tb, &l, slave, &m, now, Some((axi_register(reg), v)), 0).map_err(sim)? {
            (0, _) => Ok(()),
            (r, _) => Err(RunError::Sim(format!("AXI4-Lite write of {reg} answered {r}"))),
        }
    };
    w(&mut tb, &mut slave, &mut now, "MEM_BASE", u64::from(base))?;
    for chunk in bytes.chunks(8) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        let word = u64::from_le_bytes(b);
        w(&mut tb, &mut slave, &mut now, "PROG_LO", word & 0xFFFF_FFFF)?;
        w(&mut tb, &mut slave, &mut now, "PROG_HI", word >> 32)?;
    }
    w(&mut tb, &mut slave, &mut now, "IRQ_ENABLE", 7)?;
    w(&mut tb, &mut slave, &mut now, "CTRL", 1)?;
    let (t0, bound) = (now, 50_000_000u64);
    while !tb.is_set(irq) {
        if now - t0 > bound {
            return Err(RunError::Sim(format!("accel_axi raised no interrupt within {bound} clock periods")));
        }
        slave.cycle(&mut tb, &m, now).map_err(sim)?;
        tb.step().map_err(sim)?;
        now += 1;
    }
    let cycles = now - t0;
    let (_, status) = lite(&mut tb, &l, &mut slave, &m, &mut now, None, axi_register("STATUS")).map_err(sim)?;
    let (_, irq_status) = lite(&mut tb, &l, &mut slave, &m, &mut now, None, axi_register("IRQ_STATUS")).map_err(sim)?;
    let (_, core_cycles) = lite(&mut tb, &l, &mut slave, &m, &mut now, None, AXI_CORE_READS + 4 * u32::from(accelgen_isa::read_register("CYCLES"))).map_err(sim)?;
    let mut stats = serde_json::Map::new();
    tb.report(&mut stats, false);
    tb.finish().map_err(RunError::Unsupported)?;
    // After DONE every transfer has been answered (after an error, transfers may be in flight).
    if irq_status == 1 && !slave.idle() {
        return Err(RunError::Sim("AXI: transfers left unanswered after the DONE interrupt".into()));
    }
    let output = crate::accel::output_of(net, &compiled.layout, &slave.image)?;
    let bus_bytes = (slave.reads + slave.writes) * slave.bytes;
    Ok(AxiRun {
        output,
        cycles,
        status,
        irq_status,
        core_cycles,
        reads: slave.reads,
        writes: slave.writes,
        read_bursts: slave.ar_count,
        peak_read_bursts: slave.peak_bursts,
        write_bursts: slave.aw_count,
        bus_bytes,
        min_bytes: compiled.layout.min_bytes(),
    })
}
