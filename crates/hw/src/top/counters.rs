//! # PerfCounters: accel_top's event counters and their host read port
//!
//! Eleven 32-bit counters of what the integrated accelerator did, each counting the clock edges
//! at which its event input was high since the last `clear` (a `clear` edge wins over an event;
//! counts wrap at 2^32). `rdata` is the counter at host read address `raddr`, from the register
//! map in `accelgen_isa::READ_REGISTERS` (CYCLES, INSTRUCTIONS, DISPATCH_STALLS, CONV_BUSY,
//! POOL_BUSY, MEM_BUSY, MEM_STALLS, POOL_ENABLED, MEM_WAIT, CONV_WAIT, POOL_WAIT), and 0 at any
//! other address (STATUS, WORDS and POOL_DIV are `accel_top`'s own).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `clear` | in | 1 | every count is 0 after this edge |
//! | `cycles` … `pool_wait` | in | 1 | the event of each counter, counted at this edge |
//! | `raddr` | in | 4 | host read address |
//! | `rdata` | out | 32 | the counter at `raddr` (combinational; `accel_top` registers it) |
//!
//! | `instr_count` | out | 32 | the INSTRUCTIONS count (observed by the testbench for its per-layer figures) |
//!
//! Latency: an event shows in `rdata` the cycle after its edge.

use rust_hdl::prelude::*;

/// The counters, in register-map order.
const COUNTERS: [&str; 11] = [
    "CYCLES", "INSTRUCTIONS", "DISPATCH_STALLS", "CONV_BUSY", "POOL_BUSY", "MEM_BUSY", "MEM_STALLS", "POOL_ENABLED",
    "MEM_WAIT", "CONV_WAIT", "POOL_WAIT",
];

/// The host-readable event counters of `accel_top`.
#[derive(LogicBlock)]
pub struct PerfCounters {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Clear every count (the start command).
    pub clear: Signal<In, Bit>,
    /// Events: a running cycle; an instruction dispatched; an instruction waiting; the conv
    /// engine, the pooling unit, the mover busy; a memory request stalled; the pooling unit busy
    /// with its clock enable high; an instruction waiting for the mover, the engine, the unit.
    pub cycles: Signal<In, Bit>,
    /// See `cycles`.
    pub instructions: Signal<In, Bit>,
    /// See `cycles`.
    pub dispatch_stalls: Signal<In, Bit>,
    /// See `cycles`.
    pub conv_busy: Signal<In, Bit>,
    /// See `cycles`.
    pub pool_busy: Signal<In, Bit>,
    /// See `cycles`.
    pub mem_busy: Signal<In, Bit>,
    /// See `cycles`.
    pub mem_stalls: Signal<In, Bit>,
    /// See `cycles`.
    pub pool_enabled: Signal<In, Bit>,
    /// See `cycles`.
    pub mem_wait: Signal<In, Bit>,
    /// See `cycles`.
    pub conv_wait: Signal<In, Bit>,
    /// See `cycles`.
    pub pool_wait: Signal<In, Bit>,
    /// Host read address.
    pub raddr: Signal<In, Bits<4>>,
    /// The counter at `raddr` (0 at an address that is not a counter's).
    pub rdata: Signal<Out, Bits<32>>,
    /// The INSTRUCTIONS count (observed by the testbench for its per-layer figures).
    pub instr_count: Signal<Out, Bits<32>>,
    /// The counts, in register-map order (`COUNTERS`).
    count: Vec<DFF<Bits<32>>>,
    /// Their read addresses, from the register map.
    addr: Vec<Constant<Bits<4>>>,
    /// INSTRUCTIONS' address: the count whose address it is drives `instr_count` (a constant
    /// compare, where rust-hdl has no constant index into a `Vec` of registers).
    instr_addr: Constant<Bits<4>>,
    /// The event inputs as one word, bit i for count i.
    ev: Signal<Local, Bits<11>>,
}

impl Default for PerfCounters {
    fn default() -> Self {
        PerfCounters {
            clock: Default::default(),
            clear: Default::default(),
            cycles: Default::default(),
            instructions: Default::default(),
            dispatch_stalls: Default::default(),
            conv_busy: Default::default(),
            pool_busy: Default::default(),
            mem_busy: Default::default(),
            mem_stalls: Default::default(),
            pool_enabled: Default::default(),
            mem_wait: Default::default(),
            conv_wait: Default::default(),
            pool_wait: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            instr_count: Default::default(),
            instr_addr: Constant::new(u64::from(accelgen_isa::read_register("INSTRUCTIONS")).into()),
            count: (0..COUNTERS.len()).map(|_| Default::default()).collect(),
            addr: COUNTERS.iter().map(|n| Constant::new(u64::from(accelgen_isa::read_register(n)).into())).collect(),
            ev: Default::default(),
        }
    }
}

impl Logic for PerfCounters {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self.count.len() {
            self.count[i].clock.next = self.clock.val();
            self.count[i].d.next = self.count[i].q.val();
        }
        // The events, in register-map order (the one place that names them by index).
        self.ev.next = bits::<11>(0);
        if self.cycles.val() {
            self.ev.next = self.ev.val() | bits::<11>(1);
        }
        if self.instructions.val() {
            self.ev.next = self.ev.val() | bits::<11>(2);
        }
        if self.dispatch_stalls.val() {
            self.ev.next = self.ev.val() | bits::<11>(4);
        }
        if self.conv_busy.val() {
            self.ev.next = self.ev.val() | bits::<11>(8);
        }
        if self.pool_busy.val() {
            self.ev.next = self.ev.val() | bits::<11>(16);
        }
        if self.mem_busy.val() {
            self.ev.next = self.ev.val() | bits::<11>(32);
        }
        if self.mem_stalls.val() {
            self.ev.next = self.ev.val() | bits::<11>(64);
        }
        if self.pool_enabled.val() {
            self.ev.next = self.ev.val() | bits::<11>(128);
        }
        if self.mem_wait.val() {
            self.ev.next = self.ev.val() | bits::<11>(256);
        }
        if self.conv_wait.val() {
            self.ev.next = self.ev.val() | bits::<11>(512);
        }
        if self.pool_wait.val() {
            self.ev.next = self.ev.val() | bits::<11>(1024);
        }
        self.rdata.next = 0.into();
        self.instr_count.next = 0.into();
        for i in 0..self.count.len() {
            if self.clear.val() {
                self.count[i].d.next = 0.into();
            } else if self.ev.val().get_bit(i) {
                self.count[i].d.next = self.count[i].q.val() + 1;
            }
            if self.raddr.val() == self.addr[i].val() {
                self.rdata.next = self.count[i].q.val();
            }
            if self.addr[i].val() == self.instr_addr.val() {
                self.instr_count.next = self.count[i].q.val();
            }
        }
    }
}

crate::clocked!(PerfCounters);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Random events and clears against eleven software counters, every register read back
    /// through `raddr` every cycle (addresses that are not counters read 0).
    #[test]
    fn every_counter_counts_its_event_and_reads_at_its_register_address() {
        let mut rng = Rng::from_env("perf-counters", 5);
        let mut h = crate::sim::Harness::new(PerfCounters::default()).unwrap();
        let mut model = [0u64; 11];
        for step in 0..3000 {
            let ev: Vec<bool> = (0..11).map(|_| rng.below(3) == 0).collect();
            let clear = rng.below(200) == 0;
            let raddr = rng.below(16);
            let u = &mut h.uut;
            for (sig, &e) in [
                &mut u.cycles, &mut u.instructions, &mut u.dispatch_stalls, &mut u.conv_busy, &mut u.pool_busy,
                &mut u.mem_busy, &mut u.mem_stalls, &mut u.pool_enabled, &mut u.mem_wait, &mut u.conv_wait,
                &mut u.pool_wait,
            ]
            .into_iter()
            .zip(&ev)
            {
                sig.next = e;
            }
            u.clear.next = clear;
            u.raddr.next = (raddr as u64).into();
            h.settle().unwrap();
            let want = COUNTERS
                .iter()
                .position(|n| u64::from(accelgen_isa::read_register(n)) == raddr)
                .map_or(0, |i| model[i]);
            assert_eq!(h.uut.rdata.val().index() as u64, want, "step {step}, address {raddr}");
            assert_eq!(h.uut.instr_count.val().index() as u64, model[1], "step {step}");
            h.step().unwrap();
            for (m, &e) in model.iter_mut().zip(&ev) {
                *m = if clear { 0 } else { (*m + u64::from(e)) & 0xffff_ffff };
            }
        }
        assert!(model.iter().all(|&m| m > 0), "every counter counted: {model:?}");
    }
}
