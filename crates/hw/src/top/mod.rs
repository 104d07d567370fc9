//! The integrated accelerator: the dispatcher top and its data mover.

mod accel;
mod conv_regs;
mod counters;
mod dispatcher;
mod instr_queue;
mod mover;
mod pool_regs;

pub use accel::AccelTop;
pub use conv_regs::ConvRegs;
pub use counters::PerfCounters;
pub use dispatcher::Dispatcher;
pub use instr_queue::InstrQueue;
pub use pool_regs::PoolRegs;
pub use mover::{ChunkCursor, DataMover, DataMoverParams, ExtCursor, FmCursor, WriteStage};
