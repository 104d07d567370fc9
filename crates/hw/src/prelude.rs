//! Re-exports of every public hardware block and its parameter struct.

pub use crate::isa::{CopyCounter, History, InstrDecompressor, MemAddExpand, RepeatCopy, SlotFile, TokenStage, WordDecode, WordQueue};
pub use crate::mem::SyncRam;
pub use crate::pe::{
    AccColumn, AccColumnParams, ColumnOut, ConvEngine, ConvEngineParams, ConvSequencer, DrainControl, PassCounter, Pe, PeParams,
    OrtNormalize, OrtRequant, OrtRound, RegMul, Requant, RequantPorts, SkewLine, SlotIssuer, WeightLoader,
};
pub use crate::pool::{
    AvgDiv, BandMasks, BandReader, BankAddress, ClockEnable, FirstLevel, OutputStage, PoolUnit, PoolUnitParams, ReduceStep, RegionFile, WindowScan,
};
pub use crate::sign_ext::SignExt;
pub use crate::window::WindowPorts;
pub use crate::sim::{Clocked, Harness, Trace};
pub use crate::soc::{AccelAxi, Axi4Master, AxiLiteRegs, AxiLiteSlave, AxiMemMaster};
pub use crate::top::{
    AccelTop, ChunkCursor, ConvRegs, DataMover, DataMoverParams, Dispatcher, ExtCursor, FmCursor, InstrQueue, MemPort, OpGroups, PerfCounters, PoolRegs, PoolSide, RunControl, WriteStage,
};
pub use accelgen_config::{ConvArray, PoolArray};
