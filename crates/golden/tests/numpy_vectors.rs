//! The golden model against every independently produced vector in `testbenches/vectors/`
//! (made by `testbenches/gen_vectors.py` with numpy).

use accelgen_formats::{compare, vector_files, Case};

#[test]
fn golden_model_reproduces_every_numpy_vector_exactly() {
    let files = vector_files();
    assert!(files.len() >= 20, "expected at least 20 vector cases, found {}", files.len());
    let mut failures = vec![];
    let (mut convs, mut pools) = (0, 0);
    for f in &files {
        let case = Case::load(f).unwrap();
        match case.layer.op() {
            "conv2d" => convs += 1,
            _ => pools += 1,
        }
        let expected = case.expected.as_ref().expect("every vector has an expected tensor");
        let got = case.golden().unwrap().to_i64();
        let c = compare(&got, expected, 4);
        if !c.matches() {
            failures.push(format!("{}:\n{}", f.display(), c.describe("golden vs numpy")));
        }
    }
    assert!(convs >= 10 && pools >= 10, "vector set lost coverage: {convs} conv, {pools} pool");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
