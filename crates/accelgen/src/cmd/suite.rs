//! `accelgen suite`: every case under the given folders through the golden model and the hardware
//! simulation, as a pass/fail table.

use crate::failure::Failure;
use accelgen_config::HwConfig;
use accelgen_formats::{compare, read_json, Case};
use accelgen_sim::{run_case, RunError, RunOptions};
use std::path::{Path, PathBuf};

/// Every `.json` file under `path`. Symbolic links are followed, but a folder already visited
/// (a link back up the tree) is not entered twice, and a dangling or looping link is an error
/// with the system's reason.
fn collect(path: &Path, out: &mut Vec<PathBuf>, seen: &mut std::collections::HashSet<PathBuf>) -> Result<(), Failure> {
    let meta = std::fs::metadata(path).map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
    if meta.is_dir() {
        let real = std::fs::canonicalize(path).map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
        if !seen.insert(real) {
            return Ok(());
        }
        let rd = std::fs::read_dir(path)
            .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            collect(&e, out, seen)?;
        }
    } else if path.extension().is_some_and(|x| x == "json") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// What a JSON file of a testbench folder is.
enum Kind {
    /// A case (`op` and `input`): run.
    Case(serde_json::Value),
    /// A network (`layers`): not a case, skipped.
    Network,
}

fn kind(f: &Path) -> Result<Kind, String> {
    let doc = read_json(f)?;
    if doc.get("op").is_some() && doc.get("input").is_some() {
        Ok(Kind::Case(doc))
    } else if doc.get("layers").is_some() {
        Ok(Kind::Network)
    } else {
        Err(format!("{}: neither a case (op, input) nor a network (layers)", f.display()))
    }
}

pub(crate) fn suite(paths: &[PathBuf], cfg: &HwConfig) -> Result<(), Failure> {
    let roots = if paths.is_empty() { vec![PathBuf::from("testbenches")] } else { paths.to_vec() };
    let mut files = vec![];
    let mut seen = std::collections::HashSet::new();
    for r in &roots {
        collect(r, &mut files, &mut seen)?;
    }
    println!("suite on configuration {}: {} file(s)", cfg.name, files.len());
    println!("{:<44} {:<10} {:<10} {:<22} {:>10}", "case", "op", "golden", "hardware", "cycles");
    let (mut pass, mut fail, mut no_hw, mut skipped) = (0, 0, 0, 0);
    for f in &files {
        let name = f.strip_prefix("testbenches").unwrap_or(f).display().to_string();
        let doc = match kind(f) {
            Ok(Kind::Case(d)) => d,
            Ok(Kind::Network) => {
                skipped += 1;
                continue;
            }
            Err(e) => {
                println!("{name:<44} {:<10} {:<10} {e}", "?", "ERROR");
                fail += 1;
                continue;
            }
        };
        let base = f.parent().unwrap_or(Path::new("."));
        let case = match Case::from_value(&doc, base) {
            Ok(c) => c,
            Err(e) => {
                println!("{name:<44} {:<10} {:<10} {e}", "?", "ERROR");
                fail += 1;
                continue;
            }
        };
        let golden = case.golden().map(|o| o.to_i64());
        let (gstat, golden) = match golden {
            Ok(g) => match &case.expected {
                Some(e) if compare(&g, e, 1).matches() => ("pass", Some(g)),
                Some(_) => ("FAIL", Some(g)),
                None => ("no-expect", Some(g)),
            },
            Err(_) => ("ERROR", None),
        };
        let (hstat, cycles, ok_hw) = match (run_case(&case, cfg, &RunOptions::default()), &golden) {
            (Ok(run), Some(g)) => {
                let ok = compare(&run.output.to_i64(), g, 1).matches() && run.violations == 0;
                let cyc = run.stats.get("cycles").map(|c| c.to_string()).unwrap_or_default();
                (if ok { "pass".to_string() } else { "FAIL".to_string() }, cyc, Some(ok))
            }
            (Err(RunError::NoBlock(_)), _) => ("n/a (no block yet)".into(), String::new(), None),
            (Err(e), _) => (format!("ERROR: {e}"), String::new(), Some(false)),
            (Ok(_), None) => ("FAIL".into(), String::new(), Some(false)),
        };
        println!("{name:<44} {:<10} {gstat:<10} {hstat:<22} {cycles:>10}", case.layer.op());
        let golden_ok = gstat == "pass" || gstat == "no-expect";
        match (golden_ok, ok_hw) {
            (true, Some(true)) => pass += 1,
            (true, None) => no_hw += 1,
            _ => fail += 1,
        }
    }
    println!(
        "{pass} passed, {fail} failed ({no_hw} golden-only: no hardware block yet; {skipped} network file(s) skipped)"
    );
    if fail > 0 {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
