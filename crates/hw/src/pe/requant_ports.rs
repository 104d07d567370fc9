//! The requantizer's parameter ports, declared once for [`Requant`](crate::pe::Requant) and the
//! [`ColumnOut`](crate::pe::ColumnOut) that holds it (a `LogicInterface`; held as field `set`,
//! its signals are the ports `set_en` … `set_s_exp` of the emitted Verilog).
//!
//! The values are registers in the engine, written before a run; they must be stable a cycle
//! before a value enters the requantizer.

use rust_hdl::prelude::*;

/// One layer's requantization settings.
#[derive(LogicInterface, Default)]
pub struct RequantPorts {
    /// Requantize (else pass the accumulator through).
    pub en: Signal<In, Bit>,
    /// Multiplier, 0..=32767.
    pub mult: Signal<In, Bits<16>>,
    /// Right shift, 0..=47.
    pub shift: Signal<In, Bits<8>>,
    /// Zero point (int8 two's complement).
    pub zp: Signal<In, Bits<8>>,
    /// Clamp below at the zero point.
    pub relu: Signal<In, Bit>,
    /// ONNX Runtime's requantization instead of the multiplier and shift.
    pub ort: Signal<In, Bit>,
    /// Its scale's significand (bit 23 set).
    pub s_sig: Signal<In, Bits<24>>,
    /// Its scale's exponent (two's complement).
    pub s_exp: Signal<In, Bits<8>>,
}
