//! File formats of accelgen (specified in `docs/formats.md`): tensors (inline JSON or `.npy`),
//! case files, network files and result files.
//!
//! Every parser reports bad input as an error string that names the field (`layers[1].stride[0]`),
//! the value and what is allowed; nothing here panics on user input.

mod case;
mod compare;
mod json;
mod tensor;

pub use case::{
    golden_layer, read_json, AddLayer, Case, ConvLayer, Layer, Network, Output, PoolLayer, Source, MAX_GEOMETRY, MAX_LAYER_ELEMENTS, MAX_LAYER_MACS, MAX_LIVE_ELEMENTS, OPS,
};
pub use compare::{compare, Mismatch, Comparison};
pub use tensor::{parse_tensor, tensor_json, Elem, TensorField, MAX_ELEMENTS};

use serde_json::{json, Map, Value};

/// The result document: `{"output", "golden_match", "expected_match", "stats"}`.
pub fn result_json(
    output: &accelgen_golden::Tensor<i64>,
    golden_match: bool,
    expected_match: Option<bool>,
    stats: Map<String, Value>,
) -> Value {
    json!({
        "output": tensor_json(output),
        "golden_match": golden_match,
        "expected_match": expected_match,
        "stats": Value::Object(stats),
    })
}

/// The `.json` files directly in `dir`, sorted by name.
pub fn json_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let mut files: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The committed numpy vector cases, `testbenches/vectors/*.json` (for tests).
pub fn vector_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/vectors");
    json_files(&dir).expect("testbenches/vectors is part of the repository")
}
