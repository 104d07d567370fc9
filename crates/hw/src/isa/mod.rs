//! The instruction family (patents.md §3): the instruction buffer and decompressor.

mod decompressor;
mod fields;

pub use decompressor::{InstrDecompressor, WORD_BITS};
pub use fields::{opcode_const, InstrFields, DECODED_FIELDS};
