//! Re-exports of the public hardware blocks and their parameter structs.

pub use crate::isa::InstrDecompressor;
pub use crate::mem::SyncRam;
pub use crate::pe::{AccColumn, ConvEngine, ConvEngineParams, Pe, PeParams, Requant, SkewLine};
pub use crate::pool::{AvgDiv, PoolUnit, PoolUnitParams};
pub use crate::sim::{Clocked, Harness, Trace};
