//! The integrated accelerator: the dispatcher top and its data mover.

mod accel;
mod mover;

pub use accel::AccelTop;
pub use mover::{DataMover, DataMoverParams};
