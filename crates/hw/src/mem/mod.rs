//! Memories.

mod lane_ram;
mod ram;

pub use lane_ram::LaneRam;
pub use ram::SyncRam;
