//! ONNX models quantized by ONNX Runtime, imported as accelgen networks.
//!
//! [`model::load`] reads a file (size and kind checked first, protobuf decoded with `prost` from
//! the message subset in [`proto`], graph order and initializers checked); [`import::import`]
//! turns its QDQ or QOperator graph into a [`QNet`], a chain of int8 layers with ONNX Runtime's
//! arithmetic (`accelgen_golden::ort`); [`QNet::run_int8`] runs it on the golden model. What is
//! supported, and why each rule is exact, is in docs/onnx.md.

pub mod import;
pub mod io;
pub mod model;
pub mod network;
pub mod proto;
pub mod qnet;

pub use import::import;
pub use qnet::{Edge, EdgeQuant, Layer, LayerKind, QNet};

/// Reads and imports `file`.
pub fn load(file: &std::path::Path) -> Result<QNet, String> {
    import(&model::load(file)?)
}
