//! A direct, single-threaded driver for rust-hdl blocks with one clock.
//!
//! rust-hdl's `Simulation` runs testbenches on threads with channels; our testbenches are plain
//! loops (set inputs, step the clock, read outputs), so this driver settles the circuit with
//! `simulate` around each clock edge and optionally records a VCD. Nothing is written unless a VCD
//! writer is given.

use rust_hdl::core::atom::{Atom, AtomKind};
use rust_hdl::prelude::*;
use std::io::Write;

/// Most settle iterations allowed per edge before the circuit is declared non-convergent.
const MAX_SETTLE: usize = 1000;

/// A block with a single fast clock input.
pub trait Clocked: Block {
    /// The clock input.
    fn clock_mut(&mut self) -> &mut Signal<In, Clock>;
}

/// Implements [`Clocked`] for a block whose clock input is its `clock` field:
/// `clocked!(Pe);` or, for a generic block, `clocked!(impl[const W: usize, const L: usize] DataMover<W, L>);`.
#[macro_export]
macro_rules! clocked {
    (impl[$($g:tt)*] $t:ty) => {
        impl<$($g)*> $crate::sim::Clocked for $t {
            fn clock_mut(&mut self) -> &mut rust_hdl::prelude::Signal<rust_hdl::prelude::In, rust_hdl::prelude::Clock> {
                &mut self.clock
            }
        }
    };
    ($t:ty) => {
        $crate::clocked!(impl[] $t);
    };
}

/// A top-level port: name, width, direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Port name as in the Verilog.
    pub name: String,
    /// Width in bits.
    pub bits: usize,
    /// Input (else output).
    pub input: bool,
}

/// Every clock period's top-level input values (as applied before the rising edge) and output
/// values (after the period), as hex strings of the port's width: the stimulus and the expected
/// response for replaying a run on the emitted Verilog.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Ports in declaration order, clock excluded.
    pub ports: Vec<Port>,
    /// One line per period: input values, in `ports` order (inputs only).
    pub inputs: Vec<Vec<String>>,
    /// One line per period: output values, in `ports` order (outputs only).
    pub outputs: Vec<Vec<String>>,
}

struct PortProbe {
    depth: usize,
    /// The `LogicInterface` fields around the atom visited (their ports are `<field>_<signal>`).
    namespace: Vec<String>,
    ports: Vec<Port>,
    values: Vec<String>,
}

impl Probe for PortProbe {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.namespace.push(name.to_string());
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.namespace.pop();
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        let input = match signal.kind() {
            AtomKind::InputParameter => true,
            AtomKind::OutputParameter => false,
            _ => return,
        };
        if self.depth != 1 || name == "clock" || name == "aclk" {
            return;
        }
        let name = self.namespace.iter().map(String::as_str).chain([name]).collect::<Vec<_>>().join("_");
        self.ports.push(Port { name, bits: signal.bits(), input });
        self.values.push(hex_of(&signal.verilog().to_string(), signal.bits()));
    }
}

/// `8'h2a` / `5'b101` → zero-padded lowercase hex of the port's width.
fn hex_of(lit: &str, bits: usize) -> String {
    let (_, rest) = lit.split_once('\'').unwrap_or(("", lit));
    let (radix, digits) = rest.split_at(1);
    let v = u128::from_str_radix(digits, if radix == "b" { 2 } else { 16 }).unwrap_or(0);
    format!("{:0width$x}", v, width = bits.div_ceil(4))
}

/// The block's top-level ports (clock excluded), in declaration order.
pub fn ports_of(uut: &dyn Block) -> Vec<Port> {
    port_values(uut).0
}

fn port_values(uut: &dyn Block) -> (Vec<Port>, Vec<String>) {
    let mut p = PortProbe { depth: 0, namespace: vec![], ports: vec![], values: vec![] };
    uut.accept("uut", &mut p);
    (p.ports, p.values)
}

/// The `LogicInterface` fields of a block and its sub-blocks, as scope paths below the block
/// (`["mover", "m"]`; `$` written `__`, nested interfaces joined with `_`). rust-hdl's VCD writer
/// makes each a scope of its own, where the Verilog has its signals as the ports `m_req_valid`;
/// the waveform normalization joins them so that every engine's waveform has the same names.
pub fn interface_scopes(uut: &dyn Block) -> Vec<Vec<String>> {
    #[derive(Default)]
    struct Scopes {
        /// The path so far and, per entry, whether it is an interface.
        path: Vec<(String, bool)>,
        out: Vec<Vec<String>>,
    }
    impl Probe for Scopes {
        fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
            self.path.push((name.replace('$', "__"), false));
        }
        fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
            self.path.pop();
        }
        fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
            let name = match self.path.last() {
                Some((outer, true)) => format!("{outer}_{}", name.replace('$', "__")),
                _ => name.replace('$', "__"),
            };
            let mut path: Vec<String> = self.path.iter().skip(1).filter(|(_, ns)| !ns).map(|(n, _)| n.clone()).collect();
            path.push(name.clone());
            self.out.push(path);
            self.path.push((name, true));
        }
        fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
            self.path.pop();
        }
    }
    let mut p = Scopes::default();
    uut.accept("uut", &mut p);
    p.out
}

/// Drives a block: each [`Harness::step`] is one full clock period.
pub struct Harness<B: Clocked> {
    /// The block under test; set inputs through `.next`, read outputs through `.val()`.
    pub uut: B,
    /// Clock periods simulated so far.
    pub cycles: u64,
    vcd: Option<VCDProbe<Box<dyn Write>>>,
    trace: Option<Trace>,
}

impl<B: Clocked> Harness<B> {
    /// Connects and checks the block (undriven inputs, logic loops) and settles it.
    pub fn new(mut uut: B) -> Result<Self, String> {
        uut.connect_all();
        check_all(&uut).map_err(|e| format!("hardware check failed: {e:?}"))?;
        let mut h = Harness { uut, cycles: 0, vcd: None, trace: None };
        h.settle()?;
        Ok(h)
    }

    /// Records every later change of every signal into `w` as VCD (1 ps per half period).
    pub fn record_vcd(&mut self, w: Box<dyn Write>) {
        let mut probe = write_vcd_header(w, &self.uut);
        let _ = probe.timestamp(0);
        self.vcd = Some(write_vcd_dump(probe, &self.uut));
    }

    /// Records every later period's top-level inputs and outputs (see [`Trace`]).
    pub fn record_trace(&mut self) {
        let (ports, _) = port_values(&self.uut);
        self.trace = Some(Trace { ports, ..Trace::default() });
    }

    /// The trace recorded so far, if recording.
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.trace.take()
    }

    /// Propagates input changes until nothing changes.
    pub fn settle(&mut self) -> Result<(), String> {
        if simulate(&mut self.uut, MAX_SETTLE) {
            Ok(())
        } else {
            Err(format!("the circuit did not settle at cycle {}", self.cycles))
        }
    }

    fn dump(&mut self, t: u64) {
        if let Some(mut probe) = self.vcd.take() {
            let _ = probe.timestamp(t);
            self.vcd = Some(write_vcd_change(probe, &self.uut));
        }
    }

    /// One clock period: settle the inputs set so far, rising edge, falling edge.
    pub fn step(&mut self) -> Result<(), String> {
        self.settle()?;
        if self.trace.is_some() {
            let (ports, vals) = port_values(&self.uut);
            let ins = ports.iter().zip(vals).filter(|(p, _)| p.input).map(|(_, v)| v).collect();
            self.trace.as_mut().expect("checked").inputs.push(ins);
        }
        self.uut.clock_mut().next = Clock { clk: true };
        self.settle()?;
        self.dump(2 * self.cycles + 1);
        self.uut.clock_mut().next = Clock { clk: false };
        self.settle()?;
        self.cycles += 1;
        self.dump(2 * self.cycles);
        if self.trace.is_some() {
            let (ports, vals) = port_values(&self.uut);
            let outs = ports.iter().zip(vals).filter(|(p, _)| !p.input).map(|(_, v)| v).collect();
            self.trace.as_mut().expect("checked").outputs.push(outs);
        }
        Ok(())
    }
}

pub use rust_hdl::core::vcd_probe::VCDProbe;
