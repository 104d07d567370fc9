//! A window's geometry as input ports, declared once for the conv engine (kernel) and the pooling
//! unit (pooling window).
//!
//! A `LogicInterface`: held as field `p`, its signals are the ports `p_kh`, `p_kw`, `p_sh`,
//! `p_sw`, `p_ph`, `p_pw` of the emitted Verilog (see `verilog.rs`, step 8), the names both
//! blocks' ports had when each was declared on its own.

use rust_hdl::prelude::*;

/// Window height and width, vertical and horizontal stride and padding (unsigned, 16 bits).
#[derive(LogicInterface, Default)]
pub struct WindowPorts {
    /// Window (kernel) height.
    pub kh: Signal<In, Bits<16>>,
    /// Window (kernel) width.
    pub kw: Signal<In, Bits<16>>,
    /// Vertical stride.
    pub sh: Signal<In, Bits<16>>,
    /// Horizontal stride.
    pub sw: Signal<In, Bits<16>>,
    /// Vertical padding.
    pub ph: Signal<In, Bits<16>>,
    /// Horizontal padding.
    pub pw: Signal<In, Bits<16>>,
}
