//! Hardware blocks of the accelgen accelerator, described with rust-hdl.
//!
//! One block per file, a folder per family; [`prelude`] re-exports the public blocks. Nothing is
//! written while constructing a block: [`emit`] returns the Verilog as text.

pub mod emit;
pub mod io;
pub mod isa;
pub mod mem;
pub mod pe;
pub mod pool;
pub mod prelude;
pub mod sim;
pub use accelgen_golden::testutil;
pub mod top;
pub mod verilog;

pub use rust_hdl;
