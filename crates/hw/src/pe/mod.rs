//! The convolution PE array family (patents.md §1): the processing element, the requantizer and
//! the conv engine that runs a whole `conv2d` layer.
//!
//! Tag bits travel with each datum through the input shift chain ([`Tag`]):

use rust_hdl::prelude::Bits;

mod acc_column;
mod column_out;
mod drain_control;
mod dw_rows;
mod engine;
mod mul;
mod ort_normalize;
mod ort_requant;
mod ort_round;
mod pass_counter;
mod pe;
mod requant;
mod requant_ports;
mod sequencer;
mod skew;
mod slot_issuer;
mod weight_loader;

pub use acc_column::{AccColumn, AccColumnParams};
pub use column_out::ColumnOut;
pub use drain_control::DrainControl;
pub use dw_rows::{DwRows, DwRowsParams};
pub use engine::{ConvEngine, ConvEngineParams};
pub use pass_counter::PassCounter;
pub use sequencer::{ConvGeometry, ConvSequencer};
pub use slot_issuer::SlotIssuer;
pub use weight_loader::WeightLoader;
pub use mul::{mul_low, RegMul};
pub use pe::{Pe, PeFault, PeParams};
pub use skew::SkewLine;
pub use ort_normalize::{OrtNormalize, ORT_NORMALIZE_REGS};
pub(crate) use ort_normalize::Lz8;
pub use ort_requant::{OrtRequant, ORT_REQUANT_REGS};
pub use ort_round::{OrtRound, ORT_ROUND_REGS};
pub use requant::{Requant, ORT_REQUANT_STAGES, REQUANT_STAGES};
pub use requant_ports::RequantPorts;

/// Tag bit: the datum is a real pixel (not a bubble).
pub const TAG_VALID: usize = 0;
/// Tag bit: first datum of a pass; loading it copies shadow weights into the active ones.
pub const TAG_SWAP: usize = 1;
/// Tag bit: the pass is the first of its output-channel tile (the accumulator is overwritten).
pub const TAG_FIRST: usize = 2;
/// Tag bit: last datum of the last pass of a tile (the tile is complete once it is stored).
pub const TAG_LAST: usize = 3;
/// Tag bit: which half of the double-buffered accumulation buffer the tile uses.
pub const TAG_HALF: usize = 4;
/// Tag bit: the datum is spatial padding (streamed as zero, not read from the first cache).
pub const TAG_PAD: usize = 5;

/// Register stages between the accumulation columns' drain reads and the output side: the
/// column groups' fold (`PE_COLS`, docs/conv-array.md), present in every run.
pub const FOLD_STAGES: usize = 2;

/// Tag bit: the pass is the last of its output-channel tile (a streaming run sends the sums
/// to the output side as it writes them: docs/conv-array.md).
pub const TAG_LASTP: usize = 6;

/// Tag bit: which of the two shadow-weight banks the pass's weights were loaded into (the
/// pass's parity within its run); a swap copies that bank (docs/conv-array.md).
pub const TAG_BANK: usize = 7;

/// The tag travelling with each datum.
pub type Tag = Bits<8>;

/// A fault a test builds into the hardware on purpose, to show that the invariant counter
/// watching for it rises. `None` in every product; a faulty block emits different Verilog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConvFault {
    /// No fault.
    #[default]
    None,
    /// Row r's first-cache datum is also wired into PE (r, 1)'s input.
    CacheIntoCol1,
    /// PE (0, 1)'s input register does not load on some strobes (it holds its datum when the
    /// incoming one's low bit is set).
    HoldRegister,
    /// PE (0, 1) multiplies kernel (j + 1) mod K in sub-cycle j.
    KernelRotated,
    /// The weight loader ignores the count of written entries: a run reads weights a streaming
    /// transfer has not written yet (older ones, or zeros).
    WeightsUncounted,
    /// The depthwise mode's line FIFOs hold 2 entries instead of `dw_line_depth`: an output row
    /// longer than that overwrites sums before they are taken.
    DwLinesShallow,
}
