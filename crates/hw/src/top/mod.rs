//! The integrated accelerator: the dispatcher top and its data mover.

mod accel;
mod add_regs;
mod conv_regs;
mod counters;
mod dispatcher;
mod instr_queue;
mod mem_port;
mod mover;
mod op_groups;
mod pool_regs;
mod pool_side;
mod run_control;

pub use accel::AccelTop;
pub use add_regs::AddRegs;
pub use conv_regs::ConvRegs;
pub use counters::PerfCounters;
pub use dispatcher::Dispatcher;
pub use instr_queue::InstrQueue;
pub use mem_port::MemPort;
pub use op_groups::OpGroups;
pub use pool_regs::PoolRegs;
pub use pool_side::PoolSide;
pub use run_control::RunControl;
pub use mover::{ChunkCursor, DataMover, DataMoverParams, ExtCursor, FmCursor, WriteStage};

/// Helpers of the register blocks' tests.
#[cfg(test)]
pub(crate) mod testing {
    use accelgen_isa::{field, opcode};

    /// An instruction's payload with the given field values, placed by the opcode table.
    pub fn payload(op: &str, vals: &[(&str, u64)]) -> u64 {
        vals.iter().fold(u64::from(opcode(op)), |p, &(n, v)| p | v << field(op, n).offset)
    }

    /// Writes each (opcode, payload) through a block's `we`/`op`/`payload` ports, one per cycle,
    /// then lets `settle` more cycles pass.
    pub fn write_all<B: crate::sim::Clocked>(
        h: &mut crate::sim::Harness<B>,
        words: &[(&str, u64)],
        settle: usize,
        mut set: impl FnMut(&mut B, bool, u64, u64),
    ) {
        for &(op, pl) in words {
            set(&mut h.uut, true, u64::from(opcode(op)), pl);
            h.step().unwrap();
        }
        set(&mut h.uut, false, 0, 0);
        for _ in 0..settle {
            h.step().unwrap();
        }
        h.settle().unwrap();
    }

    /// A program start's `clear` for one cycle (`set` drives it), then `settle` more cycles.
    pub fn pulse_clear<B: crate::sim::Clocked>(h: &mut crate::sim::Harness<B>, settle: usize, mut set: impl FnMut(&mut B, bool)) {
        set(&mut h.uut, true);
        h.step().unwrap();
        set(&mut h.uut, false);
        for _ in 0..settle {
            h.step().unwrap();
        }
        h.settle().unwrap();
    }
}
