//! `accelgen golden`: a case or a network through the golden model only.

use crate::failure::Failure;
use crate::report::{check_writable, describe_case, print_expected, shape_str, write_result};
use accelgen_formats::{compare, read_json, result_json, Case, Comparison, Network};
use serde_json::Map;
use std::path::Path;

pub(crate) fn golden(file: &Path, out: Option<&Path>, force: bool) -> Result<(), Failure> {
    if let Some(o) = out {
        check_writable(o, force)?;
    }
    let doc = read_json(file).map_err(Failure::Input)?;
    let is_network = doc.get("layers").is_some();
    let base = file.parent().unwrap_or(Path::new("."));
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    let (output, expected, headline, plan) = if is_network {
        let net = Network::from_value(&doc, base).map_err(in_file)?;
        let o = net.golden().map_err(in_file)?.to_i64();
        let head = format!(
            "network of {} layers: input {} → output {}",
            net.layers.len(),
            shape_str(&net.shapes[0]),
            shape_str(&o.shape)
        );
        (o, net.expected.clone(), head, net.first_branch().and_then(|_| memory_plan(&net).ok()))
    } else {
        let case = Case::from_value(&doc, base).map_err(in_file)?;
        let o = case.golden().map_err(in_file)?.to_i64();
        let head = describe_case(&case, &o);
        (o, case.expected.clone(), head, None)
    };
    println!("{}: golden model", file.display());
    println!("  {headline}");
    if let Some(p) = plan {
        crate::report::print_memory_plan(&p);
    }
    let cmp = expected.as_ref().map(|e| compare(&output, e, 8));
    print_expected(cmp.as_ref());
    let expected_match = cmp.as_ref().map(Comparison::matches);
    if let Some(o) = out {
        // The golden model is the reference here, so golden_match holds by definition.
        write_result(o, &result_json(&output, true, expected_match, Map::new()))?;
        println!("  result written to {}", o.display());
    }
    if expected_match == Some(false) {
        return Err(Failure::Mismatch);
    }
    Ok(())
}

/// The memory plan of a graph network's tensors (`accelgen_compiler::memplan`): the input lives
/// from layer 0 to its last reader, each layer's output from its layer to its last reader (the
/// network output to the last layer); int8 elements (an int32 output counts four bytes each).
fn memory_plan(net: &Network) -> Result<accelgen_compiler::memplan::MemPlan, String> {
    use accelgen_compiler::memplan::{plan, Live};
    let n = net.layers.len();
    let last = net.last_reads();
    let lives: Vec<Live> = (0..=n)
        .map(|t| {
            let elem = if t == 0 { 1 } else { accelgen_compiler::layout::output_bytes(net, t - 1) };
            let name = if t == 0 { "input".to_string() } else { format!("layers[{}] output", t - 1) };
            Live { name, bytes: net.shapes[t].iter().product::<usize>() as u64 * elem, first: t.saturating_sub(1), last: last[t] }
        })
        .collect();
    plan(&lives, accelgen_compiler::layout::REGION_ALIGN)
}
