//! The pooling family (patents.md §2 and §4): the average divider and the pooling unit with its
//! window register file and clock-enable rate control.

mod avg_div;
mod unit;

pub use avg_div::{AvgDiv, AVG_DIV_STAGES};
pub use unit::{PoolFault, PoolUnit, PoolUnitParams};
