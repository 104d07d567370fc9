//! The convolution PE array family (patents.md §1): the processing element, the requantizer and
//! the conv engine that runs a whole `conv2d` layer.
//!
//! Tag bits travel with each datum through the input shift chain (`Bits<5>`):

mod acc_column;
mod engine;
mod pe;
mod requant;
mod skew;

pub use acc_column::{AccColumn, AccColumnParams};
pub use engine::{ConvEngine, ConvEngineParams};
pub use pe::{Pe, PeParams};
pub use skew::SkewLine;
pub use requant::Requant;

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
