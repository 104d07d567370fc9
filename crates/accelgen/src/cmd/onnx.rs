//! ONNX models: `accelgen golden MODEL.onnx --input X.npy [--expected Y.npy] [--save-output
//! Y.npy]` runs an ONNX Runtime-quantized model's batch on the golden model (ONNX Runtime's
//! arithmetic, docs/onnx.md) and compares the output element for element.

use crate::cli::OnnxIo;
use crate::failure::Failure;
use crate::report::{check_writable, shape_str, write_result};
use accelgen_onnx::io::{agreement, read_npy, write_npy, Agreement};
use accelgen_onnx::{LayerKind, QNet};
use serde_json::json;
use std::path::Path;

/// The file is an ONNX model (by its extension).
pub(crate) fn is_onnx(file: &Path) -> bool {
    file.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

/// `--input`, `--expected` and `--save-output` belong to ONNX models.
pub(crate) fn refuse_io(file: &Path, io: &OnnxIo) -> Result<(), Failure> {
    if io.input.is_some() {
        return Err(Failure::Input(format!(
            "{}: --input, --expected and --save-output are for ONNX models (.onnx); a case or network holds its own data",
            file.display()
        )));
    }
    Ok(())
}

/// Reads and imports a model; errors name the file, the node and what is supported.
pub(crate) fn load(file: &Path) -> Result<QNet, Failure> {
    accelgen_onnx::load(file).map_err(Failure::Input)
}

/// The layers of an imported model, one line each, named by their ONNX nodes.
pub(crate) fn print_layers(net: &QNet) {
    println!("  {:<3} {:<22} {:<14} {:>12} {:>10}", "#", "node", "op", "output", "MACs");
    for (i, l) in net.layers.iter().enumerate() {
        let macs = match &l.kind {
            LayerKind::Conv { weight, .. } => (l.out.iter().product::<usize>() * weight.shape[1..].iter().product::<usize>()).to_string(),
            _ => "-".into(),
        };
        println!("  {:<3} {:<22} {:<14} {:>12} {:>10}", i, l.node, l.op_type, shape_str(&l.out), macs);
    }
}

/// Prints an agreement; true when every element is equal.
pub(crate) fn print_agreement(a: &Agreement, file: &Path) -> bool {
    if a.differ == 0 {
        println!("  expected ({}): all {} elements equal", file.display(), a.elements);
        return true;
    }
    println!("  expected ({}): {} of {} elements differ, largest difference {}", file.display(), a.differ, a.elements, a.largest);
    for (i, g, w) in &a.first {
        println!("    element {i}: got {g}, expected {w}");
    }
    false
}

pub(crate) fn golden(file: &Path, io: &OnnxIo, out: Option<&Path>, force: bool) -> Result<(), Failure> {
    for p in [out, io.save_output.as_deref()].into_iter().flatten() {
        check_writable(p, force)?;
    }
    let net = load(file)?;
    println!("{}: golden model (ONNX Runtime's arithmetic)", file.display());
    println!(
        "  input '{}' {} {}, output '{}' {}; {} layers, {} MACs per inference",
        net.input.name,
        if net.input.float { "float32" } else if net.input.quant.unsigned { "uint8" } else { "int8" },
        shape_str(&net.input.shape),
        net.output.name,
        shape_str(&net.output.shape),
        net.layers.len(),
        net.macs()
    );
    print_layers(&net);
    let Some(input) = &io.input else {
        println!("  (no --input: the model was imported and checked only)");
        return Ok(());
    };
    let x = read_npy(input).map_err(Failure::Input)?;
    let images = net.batch_inputs(&x, &input.display().to_string()).map_err(Failure::Input)?;
    let ys = images.iter().map(|t| net.run_int8(t)).collect::<Result<Vec<_>, _>>().map_err(Failure::Input)?;
    let got = net.batch_outputs(&ys);
    println!("  {} inference(s): output {}", ys.len(), shape_str(&got.shape));
    let mut equal = None;
    if let Some(e) = &io.expected {
        let want = read_npy(e).map_err(Failure::Input)?;
        let a = agreement(&got, &want, &e.display().to_string()).map_err(Failure::Input)?;
        equal = Some(print_agreement(&a, e));
    }
    if let Some(s) = &io.save_output {
        write_npy(s, &got).map_err(Failure::Input)?;
        println!("  output written to {}", s.display());
    }
    if let Some(o) = out {
        let doc = json!({
            "model": file.display().to_string(),
            "inferences": ys.len(),
            "output_shape": got.shape,
            "expected_match": equal,
            "macs_per_inference": net.macs(),
        });
        write_result(o, &doc)?;
        println!("  result written to {}", o.display());
    }
    if equal == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
