//! ONNX models: `accelgen golden MODEL.onnx --input X.npy [--expected Y.npy] [--save-output
//! Y.npy]` runs an ONNX Runtime-quantized model's batch on the golden model (ONNX Runtime's
//! arithmetic, docs/onnx.md) and compares the output element for element; `accelgen run
//! MODEL.onnx --input X.npy ...` runs it on `accel_top`, image by image, against the golden
//! model and the expected output.

use crate::cli::OnnxIo;
use crate::failure::Failure;
use crate::report::{check_writable, shape_str, write_result};
use accelgen_config::HwConfig;
use accelgen_sim::accel::MemTiming;
use accelgen_sim::RunOptions;
use std::io::IsTerminal;
use accelgen_onnx::io::{agreement, read_labels, read_npy, top1, write_npy, Agreement, Array};
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
    // A graph that is not a chain (residual adds) shows which layers each one reads.
    let graph = !net.is_chain();
    println!("  {:<3} {:<22} {:<14} {:>12} {:>10}{}", "#", "node", "op", "output", "MACs", if graph { "  reads" } else { "" });
    let producer = |t: &str| net.layers.iter().position(|l| l.output == t).map_or("input".to_string(), |j| format!("#{j}"));
    for (i, l) in net.layers.iter().enumerate() {
        let macs = match &l.kind {
            LayerKind::Conv { weight, .. } => (l.out.iter().product::<usize>() * weight.shape[1..].iter().product::<usize>()).to_string(),
            _ => "-".into(),
        };
        let reads = if graph { format!("  {}", l.inputs.iter().map(|t| producer(t)).collect::<Vec<_>>().join(", ")) } else { String::new() };
        println!("  {:<3} {:<22} {:<14} {:>12} {:>10}{reads}", i, l.node, l.op_type, shape_str(&l.out), macs);
    }
    if graph {
        if let Ok(p) = memory_plan(net) {
            crate::report::print_memory_plan(&p);
        }
    }
}

/// The memory plan of a model's int8 tensors (`accelgen_compiler::memplan`): layer i is step i;
/// the input is live from step 0 to its last reader, each layer's output from its layer to its
/// last reader (the network output to the last step).
pub(crate) fn memory_plan(net: &QNet) -> Result<accelgen_compiler::memplan::MemPlan, String> {
    use accelgen_compiler::memplan::{plan, Live};
    // Each tensor's last reader, in one pass over the layers.
    let mut readers: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (j, l) in net.layers.iter().enumerate() {
        for t in &l.inputs {
            readers.insert(t.as_str(), j);
        }
    }
    let last_reader = |t: &str, from: usize| readers.get(t).copied().unwrap_or(from).max(from);
    let mut lives = vec![Live { name: net.first.clone(), bytes: net.input_chw().iter().product::<usize>() as u64, first: 0, last: last_reader(&net.first, 0) }];
    for (i, l) in net.layers.iter().enumerate() {
        let last = if i + 1 == net.layers.len() { i } else { last_reader(&l.output, i) };
        lives.push(Live { name: l.output.clone(), bytes: l.out.iter().product::<usize>() as u64, first: i, last });
    }
    plan(&lives, accelgen_compiler::layout::REGION_ALIGN)
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

/// `--expected` against the output: whether every element is equal, and the expected array.
fn compare_expected(io: &OnnxIo, got: &Array) -> Result<(Option<bool>, Option<Array>), Failure> {
    let Some(e) = &io.expected else { return Ok((None, None)) };
    let want = read_npy(e).map_err(Failure::Input)?;
    let a = agreement(got, &want, &e.display().to_string()).map_err(Failure::Input)?;
    Ok((Some(print_agreement(&a, e)), Some(want)))
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
    let ys = images.iter().map(|t| net.run(t)).collect::<Result<Vec<_>, _>>().map_err(Failure::Input)?;
    let got = net.batch_outputs(&ys);
    println!("  {} inference(s): output {}", ys.len(), shape_str(&got.shape));
    let doc = json!({ "model": file.display().to_string(), "macs_per_inference": net.macs() });
    let equal = conclude(io, &got, "golden model", out, doc)?;
    if equal == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// The end of a batch: `--expected` compared, `--labels` accuracy, `--save-output` written, and
/// the result document (`doc` with the inference count, output shape and `expected_match`
/// added) written to `out`; whether every element equals `--expected`.
fn conclude(io: &OnnxIo, got: &Array, what: &str, out: Option<&Path>, mut doc: serde_json::Value) -> Result<Option<bool>, Failure> {
    let (equal, want) = compare_expected(io, got)?;
    print_accuracy(io, got, want.as_ref(), what)?;
    if let Some(s) = &io.save_output {
        write_npy(s, got).map_err(Failure::Input)?;
        println!("  output written to {}", s.display());
    }
    if let Some(o) = out {
        doc["inferences"] = json!(got.shape[0]);
        doc["output_shape"] = json!(got.shape);
        doc["expected_match"] = json!(equal);
        write_result(o, &doc)?;
        println!("  result written to {}", o.display());
    }
    Ok(equal)
}

/// With `--labels`: the top-1 accuracy of the output and of `--expected`.
fn print_accuracy(io: &OnnxIo, got: &Array, want: Option<&Array>, what: &str) -> Result<(), Failure> {
    let Some(lf) = &io.labels else { return Ok(()) };
    let labels = read_labels(lf).map_err(Failure::Input)?;
    let shown = lf.display().to_string();
    let (c, n) = top1(got, &labels, &shown).map_err(Failure::Input)?;
    print!("  top-1 ({shown}): {what} {c}/{n} ({:.2}%)", 100.0 * c as f64 / n as f64);
    if let Some(w) = want {
        let (cw, _) = top1(w, &labels, &shown).map_err(Failure::Input)?;
        print!(", expected {cw}/{n} ({:.2}%)", 100.0 * cw as f64 / n as f64);
    }
    println!();
    Ok(())
}

/// Each hardware layer's roofline from the model's own layer (a model, docs/accelerator.md): a
/// grouped convolution runs as a dense one with zeros between its groups, so its bounds count
/// the useful MACs (the dense ones over `groups`) and its real weights, not the zeros the PEs
/// multiply; an average pooling, C·H·W additions and no weights.
pub(crate) fn model_bounds(q: &QNet, hw: &accelgen_onnx::network::HwNet, cfg: &HwConfig) -> Vec<accelgen_compiler::roofline::LayerBound> {
    let pes = cfg.conv_array().pes() as u64;
    let bus = u64::from(cfg.memory.word_bits / 8).max(1);
    let mut bounds = accelgen_compiler::roofline::layer_bounds(&hw.net, cfg);
    for (b, node) in bounds.iter_mut().zip(&hw.nodes) {
        let groups = q.layers.iter().find(|l| &l.node == node).map_or(1, |l| match &l.kind {
            // An average pooling runs as a convolution with a one-hot [C, C, H, W] kernel: its
            // own work is C·H·W additions of its input, no weights.
            LayerKind::Conv { weight, .. } if l.op_type.contains("AveragePool") => {
                b.bytes -= weight.len() as u64;
                weight.shape[0] as u64
            }
            LayerKind::Conv { groups, weight, .. } => {
                let dense = (weight.len() * groups) as u64;
                b.bytes = b.bytes - dense + dense / *groups as u64;
                *groups as u64
            }
            _ => 1,
        });
        b.macs /= groups;
        b.compute = b.macs.div_ceil(pes);
        b.memory = b.bytes.div_ceil(bus);
    }
    bounds
}

/// `accelgen run MODEL.onnx --input X.npy`: each image of the batch on `accel_top` (the model as
/// an accelgen network: [`accelgen_onnx::network`]), against the golden model; the per-layer
/// table of the first image, named by ONNX node; the batch against `--expected`.
pub(crate) fn run(file: &Path, io: &OnnxIo, cfg: &HwConfig, out: Option<&Path>, force: bool, opts: RunOptions, mem: MemTiming) -> Result<(), Failure> {
    if let Some(s) = &io.save_output {
        check_writable(s, force)?;
    }
    let q = load(file)?;
    let hw = accelgen_onnx::network::to_network(&q).map_err(Failure::Input)?;
    let input = io.input.as_deref().expect("Mode::of requires --input");
    let x = read_npy(input).map_err(Failure::Input)?;
    let images = q.batch_inputs(&x, &input.display().to_string()).map_err(Failure::Input)?;
    println!(
        "{}: {} inference(s) on accel_top; configuration {}, engine {}, memory latency {}",
        file.display(),
        images.len(),
        cfg.name,
        opts.engine.name(),
        mem.latency
    );
    let progress = images.len() > 1 && std::io::stderr().is_terminal();
    // The first image compiles and loads the program; the others run on it (written into
    // memory, then a start).
    let n = images.len();
    let run = accelgen_sim::accel::run_accel_batch(&hw.with_input(&images[0]), &images[1..], cfg, &opts, mem, &Default::default(), &mut |done| {
        if progress {
            eprint!("\r  image {done}/{n}");
        }
    })
    .map_err(|e| {
        let e = match e {
            accelgen_sim::RunError::Unsupported(m) => accelgen_sim::RunError::Unsupported(hw.name_layers(&m)),
            e => e,
        };
        Failure::of_run(e, file, cfg)
    })?;
    if progress {
        eprintln!();
    }
    let outputs = std::iter::once((run.output.clone(), run.error_code, None)).chain(run.more.iter().map(|r| (r.output.clone(), r.error_code, Some(r.cycles))));
    let (mut ys, mut differ_golden, mut later_cycles) = (vec![], 0usize, vec![]);
    for (i, (y, code, cycles)) in outputs.enumerate() {
        if let Some(code) = code {
            return Err(Failure::Hardware(format!("{}: image {i}: accel_top stopped with error code {code} ({})", file.display(), accelgen_isa::error_meaning(code))));
        }
        let golden = q.run(&images[i]).map_err(Failure::Input)?;
        differ_golden += usize::from(y.to_i64().data != golden.to_i64().data);
        ys.push(y);
        later_cycles.extend(cycles);
    }
    if ys.len() != n {
        return Err(Failure::Hardware(format!("{}: {} of {n} images ran", file.display(), ys.len())));
    }
    let stats = run.stats;
    let bounds = model_bounds(&q, &hw, cfg);
    println!(
        "  {:<3} {:<22} {:<10} {:>12} {:>10} {:>10} {:>7} {:>12} {:>12} {:>9} {:>8}",
        "#", "node", "op", "output", "cycles", "macs", "util", "mem read B", "mem write B", "roofline", "x bound"
    );
    let mut bound_sum = 0;
    for (i, node) in hw.nodes.iter().enumerate() {
        let per = &stats["layers"][i];
        let b = bounds[i].cycles();
        bound_sum += b;
        println!(
            "  {:<3} {:<22} {:<10} {:>12} {:>10} {:>10} {:>7} {:>12} {:>12} {:>9} {:>8}",
            i,
            node,
            hw.net.layers[i].op(),
            shape_str(&hw.net.shapes[i + 1]),
            per["cycles"].to_string(),
            per["macs"].to_string(),
            per["pe_utilization"].to_string(),
            per["mem_read_bytes"].to_string(),
            per["mem_write_bytes"].to_string(),
            b,
            accelgen_compiler::roofline::ratio(per["cycles"].as_u64().unwrap_or(0), b)
        );
    }
    println!(
        "  roofline: {bound_sum} cycles (the layers' larger bounds summed, the model's own MACs and bytes), x bound {}",
        accelgen_compiler::roofline::ratio(stats["cycles"].as_u64().unwrap_or(0), bound_sum)
    );
    println!(
        "  cycles per inference: {} (start to done: tensors and layers; the program was loaded once before, {} register writes)",
        stats["cycles"], stats["register_writes"]
    );
    if let (Some(lo), Some(hi)) = (later_cycles.iter().min(), later_cycles.iter().max()) {
        println!("  the other {} images on the loaded program (input written, start): {lo}..{hi} cycles each", later_cycles.len());
    }
    println!(
        "  golden model (ONNX Runtime's arithmetic): {} of {} images equal{}",
        ys.len() - differ_golden,
        ys.len(),
        if differ_golden == 0 { "" } else { "  <-- MISMATCH" }
    );
    let got = q.batch_outputs(&ys);
    let doc = json!({
        "model": file.display().to_string(),
        "configuration": cfg.name,
        "golden_match_images": ys.len() - differ_golden,
        "cycles_per_further_inference": later_cycles,
        "stats": stats,
    });
    let equal = conclude(io, &got, "accel_top", out, doc)?;
    if differ_golden > 0 || equal == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// `accelgen import MODEL.onnx --out NET.json [--input X.npy]`: the model as an accelgen network
/// file (docs/onnx.md, "On the hardware").
pub(crate) fn import(model: &Path, out: &Path, input: Option<&Path>, force: bool) -> Result<(), Failure> {
    let q = load(model)?;
    let hw = accelgen_onnx::network::to_network(&q).map_err(Failure::Input)?;
    let image = match input {
        Some(x) => {
            let a = read_npy(x).map_err(Failure::Input)?;
            Some(q.batch_inputs(&a, &x.display().to_string()).map_err(Failure::Input)?.remove(0))
        }
        None => None,
    };
    let written = accelgen_onnx::network::write_network(&hw, image.as_ref(), out, force).map_err(Failure::Input)?;
    println!("{}: {} layers imported as {} ({} files)", model.display(), hw.net.layers.len(), out.display(), written.len());
    print_layers(&q);
    Ok(())
}
