//! The external memory port, declared once and shared by `accel_top` and its data mover.
//!
//! A `LogicInterface`: a block holding it as field `m` has the ports `m_req_valid` … `m_rsp_data`
//! in the emitted Verilog (the post-processing names an interface's ports with one underscore,
//! see `verilog.rs`), so the port names are the same as when each signal was declared by hand.
//!
//! Requests: `req_valid`/`req_ready`, `req_we` with `req_wdata` and the lane enables `req_be`
//! for a write, `req_addr` a word address, `req_more` while a store has writes to come. Read responses in request order:
//! `rsp_valid`/`rsp_ready`, `rsp_data`. `rsp_err`: the memory answered some request with an
//! error (any time; the program stops with error code 7, `ERR_BUS`). W bits per word, L = W/8
//! byte enables (memory is byte-addressed and packed, docs/isa.md).

use rust_hdl::prelude::*;

/// The memory side of the port (directions as seen by the accelerator).
#[derive(LogicInterface, Default)]
pub struct MemPort<const W: usize, const L: usize> {
    /// Request valid.
    pub req_valid: Signal<Out, Bit>,
    /// The memory accepts a request.
    pub req_ready: Signal<In, Bit>,
    /// Write request.
    pub req_we: Signal<Out, Bit>,
    /// Word address.
    pub req_addr: Signal<Out, Bits<26>>,
    /// Beats − 1 of a read burst (words `req_addr` .. `req_addr + req_len`, answered by as many
    /// responses in order; never past a 4 KiB page of offsets); 0 for a write.
    pub req_len: Signal<Out, Bits<8>>,
    /// Write data.
    pub req_wdata: Signal<Out, Bits<W>>,
    /// Byte enables of a write.
    pub req_be: Signal<Out, Bits<L>>,
    /// A store is under way and more of its writes follow (a memory that gathers consecutive
    /// writes into bursts may keep its burst open; `accel_axi`'s master closes it when this is
    /// low and no request waits).
    pub req_more: Signal<Out, Bit>,
    /// A read response.
    pub rsp_valid: Signal<In, Bit>,
    /// The accelerator takes responses.
    pub rsp_ready: Signal<Out, Bit>,
    /// Response data.
    pub rsp_data: Signal<In, Bits<W>>,
    /// The memory answered a request with an error (stops the program with `ERR_BUS`).
    pub rsp_err: Signal<In, Bit>,
}
