//! Ports and observed signals by number: what a testbench written once for every engine drives.
//!
//! A top implements [`TopIo`] (the [`top_io!`](crate::top_io) macro writes the port part from a
//! list of port names): inputs are set and outputs read by their index in that list, and the
//! signals a testbench observes inside the top (its invariant counters' sources) are listed by
//! their names in the emitted Verilog, so the Verilator engine can expose the very same signals
//! (`accelgen_vsim`'s observed signals) and both engines give the testbench the same numbers.

use crate::sim::Clocked;
use rust_hdl::prelude::*;

/// A value that travels through a port as a `u64`.
pub trait PortValue {
    /// Sets the value from the low bits of `v` (bits above the port's width are dropped, as the
    /// Verilator engine drops them).
    fn set_u64(&mut self, v: u64);
    /// The value, zero-extended.
    fn get_u64(&self) -> u64;
}

impl PortValue for bool {
    fn set_u64(&mut self, v: u64) {
        *self = v & 1 == 1;
    }
    fn get_u64(&self) -> u64 {
        u64::from(*self)
    }
}

impl<const N: usize> PortValue for Bits<N> {
    fn set_u64(&mut self, v: u64) {
        let masked = if N >= 64 { v } else { v & ((1u64 << N) - 1) };
        *self = Bits::<N>::from(masked);
    }
    fn get_u64(&self) -> u64 {
        // Wider ports are refused by the engines; their low 64 bits are what fits.
        if N > 64 {
            (self.to_u128() & u128::from(u64::MAX)) as u64
        } else {
            self.to_u64()
        }
    }
}

/// A signal a testbench observes: its name in the emitted Verilog's top module and its width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// Flat name in the top module (`pes__3__x_out`, `banks__0__r_en`, `strobe`).
    pub name: String,
    /// Width in bits (at most 64).
    pub bits: usize,
}

impl Observed {
    /// A signal named `name`, `bits` wide.
    pub fn new(name: impl Into<String>, bits: usize) -> Self {
        Observed { name: name.into(), bits }
    }
}

/// A top-level block driven by number.
pub trait TopIo: Clocked {
    /// Input port names (clock excluded), in [`TopIo::poke`] order.
    fn input_names(&self) -> &'static [&'static str];
    /// Output port names, in [`TopIo::peek`] order.
    fn output_names(&self) -> &'static [&'static str];
    /// Sets input `i` for the next settle / clock edge.
    fn poke(&mut self, i: usize, v: u64);
    /// Output `i` as last settled.
    fn peek(&self, i: usize) -> u64;
    /// The clock input's name (`clock`; `aclk` for a top with AXI's names).
    fn clock_name(&self) -> &'static str {
        "clock"
    }
    /// Visits every observed signal: its Verilog name (made only when asked), width and current
    /// value. One walk serves both the list of names and the values, so they cannot disagree.
    fn walk_observed(&self, _sink: &mut dyn ObsSink) {}
    /// Internal signals a testbench may observe (empty for a top that needs none).
    fn observed(&self) -> Vec<Observed> {
        struct Names(Vec<Observed>);
        impl ObsSink for Names {
            fn add(&mut self, name: &dyn Fn() -> String, bits: usize, _value: u64) {
                self.0.push(Observed::new(name(), bits));
            }
        }
        let mut n = Names(vec![]);
        self.walk_observed(&mut n);
        n.0
    }
    /// The observed signals' values as last settled, in [`TopIo::observed`] order.
    fn observe(&self, out: &mut [u64]) {
        struct Values<'a>(&'a mut [u64], usize);
        impl ObsSink for Values<'_> {
            fn add(&mut self, _name: &dyn Fn() -> String, _bits: usize, value: u64) {
                self.0[self.1] = value;
                self.1 += 1;
            }
        }
        self.walk_observed(&mut Values(out, 0));
    }
}

/// Receives observed signals from [`TopIo::walk_observed`].
pub trait ObsSink {
    /// One signal: its Verilog name (a closure, so value walks format nothing), width, value.
    fn add(&mut self, name: &dyn Fn() -> String, bits: usize, value: u64);
}

/// Implements the port part of [`TopIo`] for a block from its port names:
/// `top_io!(MyTop, inputs: [a, b, bus.x], outputs: [y], observe: self => { ... })`; a signal of a
/// `LogicInterface` field (`bus.x`) is the port `bus_x`, as the emitted Verilog names it.
#[macro_export]
macro_rules! top_io {
    ($ty:ty, inputs: [$($i:ident $(.$is:ident)*),* $(,)?], outputs: [$($o:ident $(.$os:ident)*),* $(,)?] $(, $($extra:tt)*)?) => {
        $crate::top_io!(impl [] $ty, inputs: [$($i $(.$is)*),*], outputs: [$($o $(.$os)*),*] $(, $($extra)*)?);
    };
    (impl [$($g:tt)*] $ty:ty, inputs: [$($i:ident $(.$is:ident)*),* $(,)?], outputs: [$($o:ident $(.$os:ident)*),* $(,)?] $(, $($extra:tt)*)?) => {
        impl<$($g)*> $crate::io::TopIo for $ty {
            fn input_names(&self) -> &'static [&'static str] {
                &[$(concat!(stringify!($i) $(, "_", stringify!($is))*)),*]
            }
            fn output_names(&self) -> &'static [&'static str] {
                &[$(concat!(stringify!($o) $(, "_", stringify!($os))*)),*]
            }
            fn poke(&mut self, i: usize, v: u64) {
                let mut k = 0usize;
                $(
                    if i == k {
                        $crate::io::PortValue::set_u64(&mut self.$i $(.$is)*.next, v);
                        return;
                    }
                    k += 1;
                )*
                panic!("input {i} of {k} inputs");
            }
            fn peek(&self, i: usize) -> u64 {
                let mut k = 0usize;
                $(
                    if i == k {
                        return $crate::io::PortValue::get_u64(&self.$o $(.$os)*.val());
                    }
                    k += 1;
                )*
                panic!("output {i} of {k} outputs");
            }
            $($($extra)*)?
        }
    };
}
