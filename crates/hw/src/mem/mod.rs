//! Memories.

mod ram;

pub use ram::SyncRam;
