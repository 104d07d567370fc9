//! The element-wise add unit's emitted Verilog on Verilator (the in-process engine) against the
//! golden model: ONNX Runtime's own QLinearAdd outputs (`testbenches/onnx/add_vectors.npy`) and
//! every operand pair of random parameter sets, so the Verilog that ships computes what the
//! rust-hdl model is tested to compute (crates/hw/src/add/unit.rs).

use accelgen_golden::ort_add::QAdd;
use accelgen_golden::testutil::Rng;
use accelgen_hw::add::{AddUnit, ADD_UNIT_REGS};
use std::path::{Path, PathBuf};

/// Runs `elements` through the Verilator model, one per period, each parameter set held for its
/// elements with the pipeline drained between sets; returns each element's `y`.
fn run_verilator(elements: &[(QAdd, i8, i8)]) -> Vec<i8> {
    let mut uut = AddUnit::default();
    let design = accelgen_hw::emit::verilog_of_block(&mut uut, "add_unit", "// add unit\n");
    let ports: Vec<accelgen_vsim::PortSpec> = accelgen_hw::sim::ports_of(&uut)
        .into_iter()
        .map(|p| accelgen_vsim::PortSpec { name: p.name, bits: p.bits, input: p.input })
        .collect();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vsim-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let build = accelgen_vsim::build("add_unit", "clock", &design, &ports, &[], &cache, false).unwrap();
    let names: Vec<&str> = build.inputs.iter().map(|p| p.name.as_str()).collect();
    let at = |n: &str| names.iter().position(|&x| x == n).unwrap_or_else(|| panic!("input {n} in {names:?}"));
    let (ia, ib, iv, ira, irb, ifx, iq) = (at("a"), at("b"), at("valid"), at("ra"), at("rb"), at("fixed"), at("qmin"));
    let mut rows: Vec<Vec<u64>> = vec![];
    let mut prev: Option<QAdd> = None;
    for &(q, a, b) in elements {
        let c = q.unit_constants().unwrap();
        let mut row = vec![0u64; names.len()];
        row[ira] = c.ra_bits as u64;
        row[irb] = c.rb_bits as u64;
        row[ifx] = c.fixed_bits as u64;
        row[iq] = c.qmin as u8 as u64;
        if prev.is_some_and(|p| p != q) {
            // the constants change only once the previous set's elements have left
            let mut idle = rows.last().unwrap().clone();
            idle[iv] = 0;
            rows.extend(std::iter::repeat_n(idle, ADD_UNIT_REGS));
        }
        row[ia] = a as u8 as u64;
        row[ib] = b as u8 as u64;
        row[iv] = 1;
        rows.push(row);
        prev = Some(q);
    }
    let mut tail = rows.last().unwrap().clone();
    tail[iv] = 0;
    rows.extend(std::iter::repeat_n(tail, ADD_UNIT_REGS + 1));
    let outs: Vec<&str> = build.outputs.iter().map(|p| p.name.as_str()).collect();
    let (oy, ov) = (outs.iter().position(|&n| n == "y").unwrap(), outs.iter().position(|&n| n == "y_valid").unwrap());
    let mut m = build.load().unwrap();
    let flat: Vec<u64> = rows.concat();
    let mut out = vec![0u64; rows.len() * outs.len()];
    m.run(&flat, &mut out).unwrap();
    out.chunks(outs.len()).filter(|o| o[ov] & 1 == 1).map(|o| o[oy] as u8 as i8).collect()
}

fn check(elements: &[(QAdd, i8, i8)], want: impl Fn(usize) -> i8, what: &str) {
    let got = run_verilator(elements);
    assert_eq!(got.len(), elements.len(), "{what}: one result per element");
    let bad: Vec<String> = (0..elements.len())
        .filter(|&i| got[i] != want(i))
        .map(|i| format!("{:?} a {} b {}: Verilog {}, expected {}", elements[i].0, elements[i].1, elements[i].2, got[i], want(i)))
        .collect();
    assert!(bad.is_empty(), "{what}: {} of {} differ:\n{}", bad.len(), elements.len(), bad[..bad.len().min(8)].join("\n"));
}

#[test]
fn the_add_units_verilog_equals_onnx_runtimes_qlinearadd() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx");
    let t = accelgen_formats::parse_tensor::<i32>(&serde_json::Value::String("add_vectors.npy".into()), "add_vectors", &dir, Some(2))
        .unwrap()
        .require("add_vectors")
        .unwrap();
    let f = |v: i32| f32::from_bits(v as u32);
    let mut rows: Vec<&[i32]> = t.data.chunks(10).collect();
    rows.sort_by_key(|r| r[2..8].to_vec()); // one parameter set after the other
    assert!(rows.len() >= 5_000, "{} rows", rows.len());
    let elements: Vec<(QAdd, i8, i8)> = rows
        .iter()
        .map(|r| (QAdd { a_scale: f(r[2]), a_zp: r[3], b_scale: f(r[4]), b_zp: r[5], y_scale: f(r[6]), y_zp: r[7], qmin: -128 }, r[0] as i8, r[1] as i8))
        .collect();
    check(&elements, |i| rows[i][8] as i8, "ONNX Runtime's vectors");
}

#[test]
fn the_add_units_verilog_equals_the_golden_add_on_every_operand_pair() {
    let mut rng = Rng::from_env("add-unit-verilog", 9);
    let mut elements = vec![];
    for s in 0..6 {
        let sc = |rng: &mut Rng| {
            if s % 2 == 0 {
                2f32.powi(rng.range(-6, 2) as i32)
            } else {
                2f32.powi(rng.range(-10, 1) as i32) * (1.0 + rng.below(1 << 20) as f32 / (1 << 20) as f32)
            }
        };
        let y_zp = rng.range(-128, 127) as i32;
        let q = QAdd {
            a_scale: sc(&mut rng),
            a_zp: rng.range(-128, 127) as i32,
            b_scale: sc(&mut rng),
            b_zp: rng.range(-128, 127) as i32,
            y_scale: sc(&mut rng),
            y_zp,
            qmin: if s % 3 == 0 { y_zp } else { -128 },
        };
        for a in -128..=127 {
            for b in -128..=127 {
                elements.push((q, a as i8, b as i8));
            }
        }
    }
    check(&elements, |i| elements[i].0.fused(elements[i].1, elements[i].2), "random parameter sets");
}
