//! `make bench`, instruction set: per network, instructions, raw bytes, our compressed bytes, and
//! `xz -9e`, `zstd -19`, `gzip -9` of the uncompressed program, measured side by side.

use accelgen_config::Preset;
use accelgen_formats::Network;
use accelgen_isa::compress::{compress, one_per_word};
use std::io::Write;
use std::process::{Command, Stdio};

fn tool_size(cmd: &str, args: &[&str], data: &[u8]) -> String {
    let child = Command::new(cmd).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let Ok(mut child) = child else { return format!("({cmd} missing)") };
    child.stdin.take().expect("piped").write_all(data).expect("write");
    let out = child.wait_with_output().expect("wait");
    out.stdout.len().to_string()
}

fn main() {
    let cfg = Preset::Default.config();
    let w = cfg.isa.word_bits;
    println!("instruction compression, preset default (W = {w})");
    println!("{:<8} {:>12} {:>10} {:>8} {:>8} {:>9} {:>8} {:>10}", "network", "instructions", "raw", "ours", "xz -9e", "zstd -19", "gzip -9", "ours/xz");
    for net in ["lenet5", "alexnet", "vgg16"] {
        let path = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
        let n = Network::load(std::path::Path::new(&path)).unwrap();
        let prog = accelgen_compiler::compile(&n, &cfg).unwrap();
        let raw = one_per_word(&prog, w);
        let (_, stats) = compress(&prog, w);
        let xz = tool_size("xz", &["-9e", "-c"], &raw);
        let ratio = xz.parse::<f64>().map_or("-".into(), |x| format!("{:.2}", stats.compressed_bytes as f64 / x));
        println!(
            "{net:<8} {:>12} {:>10} {:>8} {:>8} {:>9} {:>8} {:>10}",
            stats.instructions,
            stats.raw_bytes,
            stats.compressed_bytes,
            xz,
            tool_size("zstd", &["-19", "-q", "-c"], &raw),
            tool_size("gzip", &["-9", "-c"], &raw),
            ratio
        );
    }
    // The decompressor's size: yosys coarse-grained cells (the instruction buffer kept as a memory).
    let v = accelgen_hw::emit::verilog_of(&cfg, "instr_decompressor").unwrap();
    let dir = std::env::temp_dir().join(format!("accelgen-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("d.v"), v).unwrap();
    let out = Command::new("yosys")
        .current_dir(&dir)
        .args(["-q", "-p", "read_verilog d.v; synth -top instr_decompressor -flatten -run :fine; tee -q -o stat.txt stat"])
        .output();
    let cells = match out {
        Ok(o) if o.status.success() => std::fs::read_to_string(dir.join("stat.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Number of cells"))
            .last()
            .map(|l| l.split_whitespace().last().unwrap_or("?").to_string())
            .unwrap_or_else(|| "?".into()),
        _ => "(yosys missing)".into(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    println!("hardware decompressor (default preset, {}-word buffer): {cells} yosys cells (coarse, flattened)", cfg.isa.buffer_depth);
}
