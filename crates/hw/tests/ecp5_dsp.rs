//! The registered multipliers' two Verilog bodies (`crates/hw/src/pe/mul.rs`): the behavioural one
//! and the Lattice ECP5 one (`ACCELGEN_ECP5_DSP`, a `MULT18X18D` with its output register),
//! simulated with Icarus Verilog cycle by cycle against products computed here: the PE's signed
//! int8 × int8 over every operand pair, the requantizer's unsigned 16 × 16 over corner and
//! pseudo-random pairs.
//!
//! yosys ships no simulation model of `MULT18X18D`, so the ECP5 body runs on the model below,
//! written from Lattice's description of the block (TN1267, "ECP5 sysDSP Usage Guide"): an 18×18
//! multiplier, signed per operand, whose 36-bit product is registered on CLK0/CE0/RST0 when
//! `REG_OUTPUT_CLK` is "CLK0". The model refuses any other register configuration, so a change
//! of the instantiation that this test does not cover fails here; `make synth` elaborates the
//! same body against yosys's `MULT18X18D` black box (port names) and places it with nextpnr.

use accelgen_config::Preset;
use accelgen_hw::emit::emit_all;
use accelgen_hw::pe::mul_low;
use std::path::PathBuf;
use std::process::Command;

fn mult18x18d_model() -> String {
    let bus = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let (a, b, p) = (bus("A", 18), bus("B", 18), bus("P", 36));
    let rev = |v: &[String]| v.iter().rev().cloned().collect::<Vec<_>>().join(", ");
    let assigns: String = (0..36).map(|i| format!("  assign P{i} = P[{i}];\n")).collect();
    format!(
        "\
module MULT18X18D({a}, {b}, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CE0, RST0, {p});
  input {a}, {b}, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CE0, RST0;
  output {p};
  parameter REG_INPUTA_CLK = \"NONE\";
  parameter REG_INPUTB_CLK = \"NONE\";
  parameter REG_PIPELINE_CLK = \"NONE\";
  parameter REG_OUTPUT_CLK = \"NONE\";
  parameter REG_OUTPUT_CE = \"CE0\";
  parameter REG_OUTPUT_RST = \"RST0\";
  wire [17:0] A = {{{ra}}};
  wire [17:0] B = {{{rb}}};
  wire [35:0] AX = SIGNEDA ? {{{{18{{A[17]}}}}, A}} : {{18'd0, A}};
  wire [35:0] BX = SIGNEDB ? {{{{18{{B[17]}}}}, B}} : {{18'd0, B}};
  wire [35:0] prod = AX * BX;
  reg [35:0] preg = 36'd0;
  always @(posedge CLK0) if (RST0) preg <= 36'd0; else if (CE0) preg <= prod;
  wire [35:0] P = (REG_OUTPUT_CLK == \"CLK0\") ? preg : prod;
{assigns}  initial if (REG_INPUTA_CLK != \"NONE\" || REG_INPUTB_CLK != \"NONE\" || REG_PIPELINE_CLK != \"NONE\"
      || (REG_OUTPUT_CLK != \"NONE\" && REG_OUTPUT_CLK != \"CLK0\") || REG_OUTPUT_CE != \"CE0\"
      || REG_OUTPUT_RST != \"RST0\" || SOURCEA !== 1'b0 || SOURCEB !== 1'b0) begin
    #1 $display(\"MODEL: configuration not modelled\");
    $finish;
  end
endmodule
",
        a = a.join(", "),
        b = b.join(", "),
        p = p.join(", "),
        ra = rev(&a),
        rb = rev(&b),
    )
}

/// The emitted module of the tiny preset's conv engine with ports `(clock,a,b,p)` whose `a` is
/// `a_bits` wide (the PE's 8-bit multiplier, or the requantizers' 16-bit one: identical modules
/// are emitted once, under the name of the first instance), and its name.
fn emitted(a_bits: usize) -> (String, String) {
    let files = emit_all(&Preset::Tiny.config()).unwrap();
    let conv = files.iter().find(|f| f.name == "conv_engine.v").expect("conv_engine.v is emitted");
    let (start, name) = conv
        .text
        .match_indices("\nmodule ")
        .map(|(i, _)| i + 1)
        .find_map(|i| {
            let header = conv.text[i..].lines().next()?;
            let name = header.strip_prefix("module ")?.strip_suffix("(clock,a,b,p);")?;
            let body = &conv.text[i..i + conv.text[i..].find("endmodule")?];
            body.contains(&format!("[{}:0] a;", a_bits - 1)).then(|| (i, name.to_string()))
        })
        .unwrap_or_else(|| panic!("a `(clock,a,b,p)` module with a {a_bits}-bit a"));
    let end_marker = format!("endmodule // {name}");
    let end = conv.text[start..].find(&end_marker).expect("module ends") + start + end_marker.len();
    (conv.text[start..end].to_string(), name)
}

/// One multiplier module and the operands to try.
struct Case {
    suffix: &'static str,
    a_bits: usize,
    b_bits: usize,
    p_bits: usize,
    signed: bool,
    pairs: Vec<(u64, u64)>,
}

impl Case {
    /// The product modulo 2^P, from the operands' values (independent of `mul_low`).
    fn want(&self, a: u64, b: u64) -> u64 {
        let val = |v: u64, n: usize| if self.signed && v >> (n - 1) == 1 { v as i128 - (1i128 << n) } else { v as i128 };
        ((val(a, self.a_bits) * val(b, self.b_bits)).rem_euclid(1i128 << self.p_bits)) as u64
    }
}

fn pe_case() -> Case {
    Case { suffix: "_mul", a_bits: 8, b_bits: 8, p_bits: 16, signed: true, pairs: (0..1u64 << 16).map(|i| (i >> 8, i & 255)).collect() }
}

fn requant_case() -> Case {
    let mut pairs: Vec<(u64, u64)> = [0u64, 1, 0x7FFF, 0x8000, 0xFFFF]
        .iter()
        .flat_map(|&a| [0u64, 1, 0x7FFF, 0x8000, 0xFFFF].map(|b| (a, b)))
        .collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pairs.push((x & 0xFFFF, (x >> 16) & 0xFFFF));
    }
    Case { suffix: "_requant16", a_bits: 16, b_bits: 16, p_bits: 32, signed: false, pairs }
}

/// Runs the testbench on one body; returns `p` after every clock edge.
fn simulate(case: &Case, ecp5: bool) -> Vec<u64> {
    let (module, name) = emitted(case.a_bits);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mul{}_{}", case.suffix, if ecp5 { "ecp5" } else { "generic" }));
    std::fs::create_dir_all(&dir).unwrap();
    let n = case.pairs.len();
    let stim: String = case.pairs.iter().map(|(a, b)| format!("{:x}\n", a << case.b_bits | b)).collect();
    // Pair i goes in before edge i + 1; `p` is printed after every edge and once more just
    // before the next one, which must agree (the register changes at edges only).
    let (am, bm, w) = (case.a_bits - 1, case.b_bits - 1, case.a_bits + case.b_bits);
    let tb = format!(
        "\
module tb;
  reg clock = 1'b0;
  reg [{am}:0] a = 0;
  reg [{bm}:0] b = 0;
  wire [{pm}:0] p;
  reg [{wm}:0] stim [0:{last}];
  {name} uut(.clock(clock), .a(a), .b(b), .p(p));
  integer i;
  initial begin
    $readmemh(\"stim.hex\", stim);
    for (i = 0; i <= {n}; i = i + 1) begin
      #1 clock = 1'b1;
      #1 $display(\"%h\", p);
      if (i < {n}) {{a, b}} = stim[i];
      #1 clock = 1'b0;
      #1 $display(\"%h\", p);
    end
    $finish;
  end
endmodule
",
        pm = case.p_bits - 1,
        wm = w - 1,
        last = n - 1,
    );
    let mut files = vec![("mul.v", module), ("tb.v", tb), ("stim.hex", stim)];
    if ecp5 {
        files.push(("MULT18X18D.v", mult18x18d_model()));
    }
    for (f, text) in &files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let mut cmd = Command::new("iverilog");
    cmd.current_dir(&dir).args(["-g2005", "-o", "sim", "-s", "tb"]);
    if ecp5 {
        cmd.arg("-DACCELGEN_ECP5_DSP");
    }
    let sources = files.iter().map(|(f, _)| *f).filter(|f| f.ends_with(".v"));
    let out = cmd.args(sources).output().expect("iverilog is installed (make setup)");
    assert!(out.status.success(), "iverilog: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("vvp").current_dir(&dir).args(["-n", "sim"]).output().expect("vvp");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("MODEL:") && !text.contains("WARNING"), "{text}");
    let vals: Vec<u64> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| u64::from_str_radix(l.trim(), 16).unwrap_or_else(|_| panic!("not hex: {l}")))
        .collect();
    assert_eq!(vals.len(), 2 * (n + 1), "one value after every edge and one before the next");
    for (k, pair) in vals.chunks(2).enumerate() {
        assert_eq!(pair[0], pair[1], "p changed between edges after edge {k}");
    }
    vals.chunks(2).map(|c| c[0]).collect()
}

fn check(case: &Case, ecp5: bool) {
    let p = simulate(case, ecp5);
    assert_eq!(p[0], 0, "operands 0, 0 before the first edge");
    for (k, &got) in p.iter().enumerate().skip(1) {
        let (a, b) = case.pairs[k - 1];
        let body = if ecp5 { "ECP5" } else { "generic" };
        assert_eq!(got, case.want(a, b), "{} {body} body: {a:#x} * {b:#x}", case.suffix);
        assert_eq!(got, mul_low(a, b, case.a_bits, case.b_bits, case.p_bits, case.signed), "the Rust model agrees");
    }
}

#[test]
fn generic_multiplier_bodies_are_the_exact_products() {
    check(&pe_case(), false);
    check(&requant_case(), false);
}

#[test]
fn ecp5_dsp_multiplier_bodies_are_the_exact_products() {
    check(&pe_case(), true);
    check(&requant_case(), true);
}
