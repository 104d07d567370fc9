//! The element-wise add family (issue #30): ONNX Runtime's quantized Add in integers, for the
//! residual adds of ResNet-style networks.

mod fma;
mod unit;

pub use fma::{f32_unit_parts, IntFma, FMA_REGS};
pub use unit::{AddUnit, ADD_UNIT_REGS};
