//! The integrated accelerator: the dispatcher top and its data mover.

mod accel;
mod counters;
mod mover;

pub use accel::AccelTop;
pub use counters::PerfCounters;
pub use mover::{ChunkCursor, DataMover, DataMoverParams, ExtCursor, FmCursor, WriteStage};
