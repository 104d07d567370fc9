//! Hardware blocks of the accelgen accelerator, described with rust-hdl.
//!
//! One block per file, a folder per family; [`prelude`] re-exports the public blocks. Nothing is
//! written while constructing a block: [`emit`] returns the Verilog as text.

/// A block's struct literal with every field not given set to `Default::default()`:
/// `block_with_defaults!(Type { given: value, .. } defaults { a, b, .. })`.
///
/// rust-hdl blocks hold dozens of registers and signals that take no parameter, and a struct
/// literal must name every field; here those are listed by name only, so a constructor shows
/// what it computes (sub-blocks, constants) rather than one `Default::default()` line per register.
/// Forgetting a field is still a compile error.
macro_rules! block_with_defaults {
    ($ty:ident { $($f:ident : $v:expr),* $(,)? } defaults { $($d:ident),* $(,)? }) => {
        $ty { $($f: $v,)* $($d: Default::default(),)* }
    };
}

/// `n` default values: a block's vector of registers, signals or sub-blocks.
pub(crate) fn vec_of<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

pub mod add;
pub mod emit;
pub mod io;
pub mod isa;
pub mod mem;
pub mod pe;
pub mod pool;
pub mod prelude;
pub mod sign_ext;
pub mod sim;
pub mod soc;
pub use accelgen_golden::testutil;
pub mod top;
pub mod verilog;
pub mod window;

pub use rust_hdl;
