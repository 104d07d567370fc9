//! The instruction family (patents.md §3): the instruction buffer and decompressor.

mod decompressor;

pub use decompressor::{InstrDecompressor, WORD_BITS};
