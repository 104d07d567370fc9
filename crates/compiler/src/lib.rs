//! The accelgen network compiler, with no dependency on the hardware crate: a change to a
//! hardware block never rebuilds it.
//!
//! - [`conv_plan`], [`pool_plan`]: a layer's geometry on the conv engine and the pooling unit;
//! - [`tiling`]: how a layer is split into runs (channel groups, row bands, double buffering);
//! - [`layout`]: the external-memory layout and the memory image a run starts from;
//! - [`lower`]: lowering to the instructions `accel_top` executes ([`compile`]);
//! - [`planner`]: the pooling clock planner;
//! - [`cycle_model`]: the conv engine's cycle model (equal to the simulation, tested);
//! - [`interp`]: the instruction interpreter (the program's meaning in software);
//! - [`roofline`]: a layer's compute and memory bounds on the configured hardware;
//! - [`testnets`]: seeded network documents for tests, benchmarks and fuzzing.
//!
//! Every block parameter comes from the derived configuration ([`accelgen_config::ConvArray`],
//! [`accelgen_config::PoolArray`]), the same values the hardware blocks are built from.

pub mod conv_plan;
pub mod cycle_model;
pub mod dw_map;
pub mod dw_plan;
pub mod interp;
pub mod layout;
pub mod lower;
pub mod memplan;
pub mod net_model;
pub mod planner;
pub mod pool_plan;
pub mod roofline;
pub mod testnets;
pub mod tiling;

pub use conv_plan::ConvPlan;
pub use layout::{memory_image, memory_image_bytes, read_elements, Layout, ADDR_SPACE};
pub use lower::{compile, compile_full, Compiled};
pub use pool_plan::PoolPlan;
pub use tiling::{AddTiling, ConvTiling, LayerTiling, PoolTiling};
