//! Re-exports of the public hardware blocks.
