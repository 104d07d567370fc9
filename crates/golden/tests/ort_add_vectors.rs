//! The golden model's quantized Add against ONNX Runtime's own outputs
//! (`testbenches/onnx/add_vectors.npy`, written by `testbenches/ort_add.py` from QLinearAdd and
//! from DequantizeLinear → Add → QuantizeLinear sessions on random tensors, scales and zero
//! points; docs/arithmetic.md).

use accelgen_formats::parse_tensor;
use accelgen_golden::ort_add::{cvtps_epi32, QAdd};
use serde_json::Value;
use std::path::Path;

/// One row: a, b, bits(sa), za, bits(sb), zb, bits(sc), zc, fused, unfused.
fn rows() -> Vec<[i32; 10]> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/onnx");
    let t = parse_tensor::<i32>(&Value::String("add_vectors.npy".into()), "add_vectors", &dir, Some(2))
        .unwrap()
        .require("add_vectors")
        .unwrap();
    assert_eq!(t.shape[1], 10, "rows of 10 fields");
    t.data.chunks(10).map(|c| c.try_into().unwrap()).collect()
}

fn params(r: &[i32; 10]) -> QAdd {
    let f = |i: usize| f32::from_bits(r[i] as u32);
    QAdd { a_scale: f(2), a_zp: r[3], b_scale: f(4), b_zp: r[5], y_scale: f(6), y_zp: r[7], qmin: -128 }
}

#[test]
fn golden_add_equals_onnx_runtime_both_ways_and_in_integers() {
    let rows = rows();
    assert!(rows.len() >= 5_000, "the vector set shrank to {} rows", rows.len());
    let mut bad = vec![];
    let (mut ways_differ, mut past_int32) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        let p = params(r);
        let (a, b) = (r[0] as i8, r[1] as i8);
        let (fused, unfused, int) = (p.fused(a, b), p.unfused(a, b), p.fused_int(a, b));
        if fused as i32 != r[8] || unfused as i32 != r[9] || int as i32 != r[8] {
            bad.push(format!("row {i} {r:?}: golden fused {fused} (in integers {int}), unfused {unfused}"));
        }
        ways_differ += usize::from(r[8] != r[9]);
        past_int32 += usize::from(r[8] == -128 && r[9] == 127);
    }
    assert!(bad.is_empty(), "{} of {} differ from ONNX Runtime:\n{}", bad.len(), rows.len(), bad[..bad.len().min(10)].join("\n"));
    // the set covers what separates the two ways, including the kernel's int32 overflow
    assert!(ways_differ >= 500 && past_int32 >= 10, "{ways_differ} rows where the ways differ, {past_int32} past int32");
}

#[test]
fn the_vectors_separate_the_kernel_from_its_neighbours() {
    // Models ONNX Runtime's kernel is not (multiplies and adds rounded one by one, as its SSE2
    // kernel does; the zero points folded without the fused multiply-add): each must disagree
    // with some row, or the vectors could not tell them from the golden model.
    let rows = rows();
    let sse2 = |p: &QAdd, a: i8, b: i8| {
        let (ra, rb, fixed) = p.fused_constants();
        cvtps_epi32((fixed + a as f32 * ra) + b as f32 * rb).clamp(-128, 127)
    };
    let plain_fixed = |p: &QAdd, a: i8, b: i8| {
        let (ra, rb, _) = p.fused_constants();
        let fixed = p.y_zp as f32 - (ra * p.a_zp as f32 + rb * p.b_zp as f32);
        cvtps_epi32((a as f32).mul_add(ra, (b as f32).mul_add(rb, fixed))).clamp(-128, 127)
    };
    for (name, model) in [("sse2", &sse2 as &dyn Fn(&QAdd, i8, i8) -> i32), ("plain fixed part", &plain_fixed)] {
        let differ = rows.iter().filter(|r| model(&params(r), r[0] as i8, r[1] as i8) != r[8]).count();
        assert!(differ >= 1, "no row tells the {name} model from ONNX Runtime's kernel");
    }
}
