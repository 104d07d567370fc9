//! The instruction family (patents.md §3): the instruction decompressor and its sub-blocks, in
//! pipeline order: [`WordQueue`] (instruction buffer and prefetch queue), [`WordDecode`] (the
//! unpacker's decode), [`TokenStage`] (the token register and the run state, with [`CopyCounter`]), and the expansion's
//! [`History`], [`RepeatCopy`], [`SlotFile`] and [`MemAddExpand`].

mod copy_counter;
mod decompressor;
mod fields;
mod history;
mod mem_add;
mod repeat_copy;
mod slot_file;
mod token_stage;
mod word_decode;
mod word_queue;

pub use copy_counter::CopyCounter;
pub use decompressor::{InstrDecompressor, WORD_BITS};
pub use fields::{opcode_const, opcode_set, InstrFields, DECODED_FIELDS};
pub use history::{History, HISTORY_DEPTH};
pub use mem_add::MemAddExpand;
pub use repeat_copy::RepeatCopy;
pub use slot_file::SlotFile;
pub use token_stage::TokenStage;
pub use word_decode::{EntryPick, PositionTable, WordDecode, ENTRY};
pub use word_queue::WordQueue;
