//! The in-process engine on a small hand-written design whose behaviour is computed here
//! independently: an accumulator with a clear, a 3-bit input (to test masking) and a 64-bit port.

use accelgen_vsim::{build, PortSpec};
use std::path::PathBuf;

const DESIGN: &str = r#"
module acc(input wire clock, input wire clear, input wire [2:0] x, input wire [63:0] wide,
           output reg [15:0] sum, output reg [63:0] echo, output wire odd);
  always @(posedge clock) begin
    if (clear) sum <= 16'd0; else sum <= sum + {13'd0, x};
    echo <= ~wide;
  end
  assign odd = sum[0];
endmodule
"#;

fn port(name: &str, bits: usize, input: bool) -> PortSpec {
    PortSpec { name: name.into(), bits, input }
}

fn ports() -> Vec<PortSpec> {
    vec![
        port("clear", 1, true),
        port("x", 3, true),
        port("wide", 64, true),
        port("sum", 16, false),
        port("echo", 64, false),
        port("odd", 1, false),
    ]
}

fn cache() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vsim-cache");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reference: what the accumulator does, period by period.
fn reference(inputs: &[[u64; 3]]) -> Vec<[u64; 3]> {
    let mut sum = 0u64;
    let mut out = vec![];
    for [clear, x, wide] in inputs {
        sum = if clear & 1 == 1 { 0 } else { (sum + (x & 7)) & 0xffff };
        out.push([sum, !wide, sum & 1]);
    }
    out
}

fn stimulus(n: usize) -> Vec<[u64; 3]> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Bits above each port's width are set on purpose: the model must ignore them.
            [u64::from(s % 17 == 0) | 0xfe, s >> 3, s.rotate_left(11)]
        })
        .collect()
}

#[test]
fn in_process_and_standalone_match_the_reference() {
    let b = build("acc", "clock", DESIGN, &ports(), &[], &cache(), false).unwrap();
    let stim = stimulus(5000);
    let want = reference(&stim);
    let flat: Vec<u64> = stim.iter().flatten().copied().collect();

    // In-process, in uneven batches: state carries across calls.
    let mut m = b.load().unwrap();
    assert_eq!((m.n_inputs(), m.n_outputs()), (3, 3));
    let mut got = vec![];
    let mut at = 0;
    for batch in [1usize, 7, 1000, 3992] {
        let mut out = vec![0; batch * 3];
        m.run(&flat[at * 3..(at + batch) * 3], &mut out).unwrap();
        got.extend(out);
        at += batch;
    }
    assert_eq!(m.periods(), 5000);
    let want_flat: Vec<u64> = want.iter().flatten().copied().collect();
    assert_eq!(got, want_flat);

    // Two instances are independent.
    let mut a = b.load().unwrap();
    let mut c = b.load().unwrap();
    assert_eq!(a.step(&[0, 5, 0]).unwrap()[0], 5);
    assert_eq!(a.step(&[0, 5, 0]).unwrap()[0], 10);
    assert_eq!(c.step(&[0, 1, 0]).unwrap()[0], 1);

    // The standalone harness runs the same loop.
    let (out, secs) = b.run_standalone(&flat, &cache()).unwrap();
    assert_eq!(out, want_flat);
    assert!(secs.as_secs_f64() >= 0.0);
}

#[test]
fn second_build_is_cached_and_wrong_shapes_are_errors() {
    let b1 = build("acc", "clock", DESIGN, &ports(), &[], &cache(), false).unwrap();
    let b2 = build("acc", "clock", DESIGN, &ports(), &[], &cache(), false).unwrap();
    assert_eq!(b1.dir, b2.dir);
    let mut m = b1.load().unwrap();
    let err = m.run(&[0, 0], &mut [0; 3]).unwrap_err();
    assert!(err.contains("whole periods"), "{err}");
    let err = accelgen_vsim::Model::load(&b1.dir.join("libdut.so"), 2, 3).err().unwrap();
    assert!(err.contains("3 inputs and 3 outputs"), "{err}");
    let mut wide = ports();
    wide[2].bits = 65;
    let err = build("acc", "clock", DESIGN, &wide, &[], &cache(), false).unwrap_err();
    assert!(err.contains("signal wide is 65 bits"), "{err}");
}

#[test]
fn verilog_errors_are_reported() {
    let err = build("broken", "clock", "module broken(input wire clock, output wire y); assign y = nope; endmodule\n",
        &[port("y", 1, false)], &[], &cache(), false).unwrap_err();
    assert!(err.contains("verilator failed"), "{err}");
}

/// A design with internal signals named as rust-hdl names them: a register, and a wire driven by
/// an instance's output (the kind Verilator would otherwise inline away).
const OBSERVED: &str = r#"
module inc(input wire [7:0] a, output wire [7:0] y);
  assign y = a + 8'd1;
endmodule
module obs(input wire clock, input wire [7:0] a, output reg [7:0] q);
  reg [7:0] pes__0__x;
  wire [7:0] pes__1__y;
  inc pes__1(.a(pes__0__x), .y(pes__1__y));
  always @(posedge clock) begin pes__0__x <= a; q <= pes__1__y; end
endmodule
"#;

#[test]
fn observed_internal_signals_follow_the_outputs_and_eval_settles_without_a_clock() {
    let ports = [port("a", 8, true), port("q", 8, false)];
    let observed = [port("pes__0__x", 8, false), port("pes__1__y", 8, false)];
    let b = build("obs", "clock", OBSERVED, &ports, &observed, &cache(), false).unwrap();
    assert_eq!(b.observed.len(), 2);
    let mut m = b.load().unwrap();
    assert_eq!(m.n_outputs(), 3);
    // Reference, period by period: x <= a; q <= x + 1 (old x); y = x + 1 (new x).
    let (mut x, mut q) = (0u64, 0u64);
    for a in [5u64, 9, 200, 255, 0, 17] {
        let out = m.step(&[a]).unwrap();
        q = (x + 1) & 0xff;
        x = a;
        assert_eq!(out, vec![q, x, (x + 1) & 0xff], "after a = {a}");
    }
    // eval applies inputs without a clock edge: registers keep their values.
    let mut out = vec![0; 3];
    m.eval(&[99], &mut out).unwrap();
    assert_eq!(out, vec![q, x, (x + 1) & 0xff]);
    assert_eq!(m.periods(), 6);
}

#[test]
fn an_observed_signal_that_does_not_exist_is_named() {
    let err = build("obs", "clock", OBSERVED, &[port("a", 8, true), port("q", 8, false)],
        &[port("pes__9__z", 8, false)], &cache(), false).unwrap_err();
    assert!(err.contains("pes__9__z"), "{err}");
}

#[test]
fn a_traced_build_writes_a_vcd_with_the_harness_times() {
    let ports = [port("a", 8, true), port("q", 8, false)];
    let b = build("obs", "clock", OBSERVED, &ports, &[], &cache(), true).unwrap();
    assert!(b.trace);
    let vcd = cache().join("obs-trace.vcd");
    let mut m = b.load().unwrap();
    m.trace_open(&vcd).unwrap();
    for a in [1u64, 2, 3] {
        m.step(&[a]).unwrap();
    }
    m.trace_close();
    let text = std::fs::read_to_string(&vcd).unwrap();
    for t in ["#0", "#1", "#2", "#5", "#6"] {
        assert!(text.lines().any(|l| l == t), "{t} in {text}");
    }
    assert!(!text.lines().any(|l| l == "#7"));
    assert!(text.contains(" pes__0__x ") && text.contains(" q "), "{text}");
    // An untraced build says so.
    let plain = build("obs", "clock", OBSERVED, &ports, &[], &cache(), false).unwrap();
    assert!(plain.load().unwrap().trace_open(&vcd).unwrap_err().contains("without tracing"));
}
