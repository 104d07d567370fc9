//! What every run prints and writes: shapes, comparisons with the golden model and `expected`,
//! the statistics, the waveform and result files, and the verdict. One function,
//! [`conclude`], ends every run report, so case, network and block runs read the same way.

use crate::failure::Failure;
use accelgen_formats::{compare, result_json, Case, Comparison, Output};
use accelgen_golden::Tensor;
use serde_json::{Map, Value};
use std::path::Path;

/// Refuses to replace an existing file unless `force` is given.
pub(crate) fn check_writable(path: &Path, force: bool) -> Result<(), Failure> {
    if path.exists() && !force {
        return Err(Failure::Input(format!(
            "{} already exists: pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

/// Writes a result document.
pub(crate) fn write_result(path: &Path, doc: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(doc).expect("a result serialises") + "\n";
    std::fs::write(path, text).map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
}

/// `3×32×32`.
pub(crate) fn shape_str(s: &[usize]) -> String {
    s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
}

/// `conv2d: input 1×6×7 → output 4×6×7 (int8)`.
pub(crate) fn describe_case(case: &Case, out: &Tensor<i64>) -> String {
    format!(
        "{}: input {} → output {} ({})",
        case.layer.op(),
        shape_str(&case.input.shape),
        shape_str(&out.shape),
        if matches!(case.golden(), Ok(Output::I8(_))) { "int8" } else { "int32" }
    )
}

/// The comparison with `expected`, or that none was given.
pub(crate) fn print_expected(cmp: Option<&Comparison>) {
    match cmp {
        None => println!("  expected: none given"),
        Some(c) if c.matches() => println!("  expected: match"),
        Some(c) => print!("  expected: MISMATCH\n{}", indent(&c.describe("    vs expected"))),
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// The end of a run's report.
pub(crate) struct Ending<'a> {
    /// What the output is compared with: `golden`, `golden network`.
    pub reference: &'a str,
    /// The output the hardware produced.
    pub got: &'a Tensor<i64>,
    /// The golden model's output.
    pub golden: &'a Tensor<i64>,
    /// The file's `expected` tensor.
    pub expected: Option<&'a Tensor<i64>>,
    /// The run's statistics (a `layers` list is printed by the caller as a table).
    pub stats: &'a Map<String, Value>,
    /// Invariant violations the testbench saw.
    pub violations: u64,
    /// The line saying where the waveform went, if one was written.
    pub waveform: Option<String>,
    /// The result file to write.
    pub out: Option<&'a Path>,
}

/// Prints the comparisons, the statistics, the violations and the waveform line, writes the
/// result file, and returns `Mismatch` when the output differs from the golden model or
/// `expected`, or an invariant was violated.
pub(crate) fn conclude(e: Ending) -> Result<(), Failure> {
    let gcmp = compare(e.got, e.golden, 8);
    if gcmp.matches() {
        println!("  {}: match", e.reference);
    } else {
        print!("  {}: MISMATCH\n{}", e.reference, indent(&gcmp.describe("    vs golden")));
    }
    let ecmp = e.expected.map(|x| compare(e.got, x, 8));
    print_expected(ecmp.as_ref());
    println!("  stats:");
    for (k, v) in e.stats.iter().filter(|(k, _)| *k != "layers") {
        println!("    {k}: {v}");
    }
    if e.violations > 0 {
        println!("  invariant violations: {} (a violation fails the run)", e.violations);
    }
    if let Some(w) = e.waveform {
        println!("  {w}");
    }
    let expected_match = ecmp.as_ref().map(Comparison::matches);
    if let Some(o) = e.out {
        write_result(o, &result_json(e.got, gcmp.matches(), expected_match, e.stats.clone()))?;
        println!("  result written to {}", o.display());
    }
    if !gcmp.matches() || expected_match == Some(false) || e.violations > 0 {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// The memory plan of a graph's int8 tensors, one line (`accelgen golden` of a graph).
pub(crate) fn print_memory_plan(p: &accelgen_compiler::memplan::MemPlan) {
    let a = accelgen_compiler::layout::REGION_ALIGN;
    println!(
        "  memory plan (int8 tensors, {a}-byte aligned regions reused once dead): {} tensors in {} bytes; most live at one layer {}; each its own region {}",
        p.regions.len(),
        p.peak,
        p.live_bound(a),
        p.unshared(a)
    );
}
