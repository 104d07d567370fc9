//! `accelgen run --program DIR`: a compiled program loaded into the hardware decompressor through
//! its register interface; its register writes against program.bin's.

use crate::failure::Failure;
use accelgen_config::HwConfig;
use accelgen_sim::RunOptions;
use std::path::Path;

/// Loads `dir/program.cbin` and compares the decoded register writes.
pub(crate) fn run_program(dir: &Path, cfg: &HwConfig, opts: RunOptions) -> Result<(), Failure> {
    use accelgen_isa::compress::drop_duplicates;
    // Both files are bad input (exit 2) when malformed or too large, checked before any
    // simulation: program.cbin must fit the decompressor's buffer and decode in software.
    let word_bytes = (cfg.isa.word_bits / 8) as u64;
    let cap = cfg.isa.buffer_depth as u64 * word_bytes;
    let read = |name: &str, limit: u64, what: &str| {
        accelgen_config::input::read_limited(&dir.join(name), limit, what).map_err(|e| {
            Failure::Input(if name == "program.cbin" && e.contains("larger than") {
                format!("{e}: the decompressor buffer holds isa.buffer_depth = {} words of {} bits", cfg.isa.buffer_depth, cfg.isa.word_bits)
            } else {
                e
            })
        })
    };
    let bin = read("program.bin", accelgen_config::input::MAX_JSON_BYTES, "program")?;
    let cbin = read("program.cbin", cap, "compressed program")?;
    let in_file = |name: &str, e: String| Failure::Input(format!("{}: {e}", dir.join(name).display()));
    let prog = accelgen_isa::compress::unpack_one_per_word(&bin, 64).map_err(|e| in_file("program.bin", e))?;
    accelgen_isa::compress::decompress(&cbin, 64).map_err(|e| in_file("program.cbin", e))?;
    let want = drop_duplicates(&prog).0;
    let run = accelgen_sim::program::run_program(cfg.isa.buffer_depth as usize, &cbin, &opts)?;
    println!("{}: hardware decompressor, configuration {}", dir.display(), cfg.name);
    println!(
        "  {} words loaded by register writes ({} accepted), {} register writes decoded",
        cbin.len() / 8,
        run.accepted_words,
        run.writes.len()
    );
    for (k, v) in &run.stats {
        println!("    {k}: {v}");
    }
    let matches = run.writes == want;
    if matches {
        println!("  register writes: match ({} effective writes of {} instructions)", want.len(), prog.len());
    } else {
        let at = run.writes.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(run.writes.len().min(want.len()));
        println!("  register writes: MISMATCH at write {at}");
        if let Some(w) = want.get(at) {
            println!("    want {}", w.disassemble());
        }
        if let Some(g) = run.writes.get(at) {
            println!("    got  {}", g.disassemble());
        }
    }
    if run.error || run.overflow {
        println!("  status: error {}, overflow {}", run.error, run.overflow);
    }
    if !matches || run.error || run.overflow {
        return Err(Failure::Mismatch);
    }
    Ok(())
}
