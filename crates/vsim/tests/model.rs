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
    let b = build("acc", "clock", DESIGN, &ports(), &cache()).unwrap();
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
    let b1 = build("acc", "clock", DESIGN, &ports(), &cache()).unwrap();
    let b2 = build("acc", "clock", DESIGN, &ports(), &cache()).unwrap();
    assert_eq!(b1.dir, b2.dir);
    let mut m = b1.load().unwrap();
    let err = m.run(&[0, 0], &mut [0; 3]).unwrap_err();
    assert!(err.contains("whole periods"), "{err}");
    let err = accelgen_vsim::Model::load(&b1.dir.join("libdut.so"), 2, 3).err().unwrap();
    assert!(err.contains("3 inputs and 3 outputs"), "{err}");
    let mut wide = ports();
    wide[2].bits = 65;
    let err = build("acc", "clock", DESIGN, &wide, &cache()).unwrap_err();
    assert!(err.contains("port wide is 65 bits"), "{err}");
}

#[test]
fn verilog_errors_are_reported() {
    let err = build("broken", "clock", "module broken(input wire clock, output wire y); assign y = nope; endmodule\n",
        &[port("y", 1, false)], &cache()).unwrap_err();
    assert!(err.contains("verilator failed"), "{err}");
}
