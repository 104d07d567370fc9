//! `accelgen compile`: a network into the accelerator's instructions, uncompressed and
//! compressed, written as four files together or none; a network with data also gets the
//! initial memory image the program expects at its base and the map of its regions
//! (`memory_init.bin`, `memory.json`: what a host driver of `accel_axi` copies and reads).

use crate::failure::Failure;
use crate::report::check_writable;
use accelgen_config::HwConfig;
use accelgen_formats::Network;
use std::path::Path;

/// Compiles `file` into `out`.
pub(crate) fn compile(file: &Path, cfg: &HwConfig, out: &Path, as_json: bool, force: bool) -> Result<(), Failure> {
    use accelgen_isa::compress;
    let net = Network::load(file).map_err(Failure::Input)?;
    let prog = accelgen_compiler::compile(&net, cfg)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let w = cfg.isa.word_bits;
    let raw = compress::one_per_word(&prog, w);
    let (packed, stats) = compress::compress(&prog, w);
    if stats.packed_words > cfg.isa.buffer_depth as usize {
        return Err(Failure::Input(format!(
            "{}: the compressed program needs {} words, but isa.buffer_depth = {}",
            file.display(),
            stats.packed_words,
            cfg.isa.buffer_depth
        )));
    }
    let mut names = vec!["program.bin", "program.cbin", "program.txt", "program.ctxt"];
    let memory = memory_files(&net, cfg);
    if memory.is_some() {
        names.extend(["memory_init.bin", "memory.json"]);
    }
    for &n in &names {
        check_writable(&out.join(n), force)?;
    }
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", out.display())))?;
    let text: String = prog.iter().map(|i| i.disassemble() + "\n").collect();
    // The compressed stream as the decompressor reads it, one line per word.
    let ctext: String = compress::unpack_words(&packed, w)
        .map_err(|e| Failure::Input(format!("internal: the compressed program does not unpack: {e}")))?
        .iter()
        .enumerate()
        .map(|(n, word)| format!("{n:6}: {}\n", word.iter().map(|i| i.disassemble()).collect::<Vec<_>>().join(" | ")))
        .collect();
    // All four files or none: each is written into a private folder beside them, then renamed
    // into place once every one is written and no target is something other than a file.
    for &n in &names {
        let p = out.join(n);
        if p.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            return Err(Failure::Input(format!("{}: exists and is not a file; nothing was written", p.display())));
        }
    }
    let tmp = out.join(format!(".accelgen-compile-{}", std::process::id()));
    let io = |p: &Path, e: std::io::Error| Failure::Input(format!("{}: cannot write: {e}", p.display()));
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let mut contents = vec![raw, packed, text.into_bytes(), ctext.into_bytes()];
    if let Some((image, map)) = memory {
        contents.extend([image, map.into_bytes()]);
    }
    let written = names.iter().zip(contents).try_for_each(|(n, bytes)| {
        let p = tmp.join(n);
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))
    });
    let moved = written.and_then(|()| {
        names.iter().try_for_each(|n| std::fs::rename(tmp.join(n), out.join(n)).map_err(|e| io(&out.join(n), e)))
    });
    let _ = std::fs::remove_dir_all(&tmp);
    moved?;
    let ratio = stats.raw_bytes as f64 / stats.compressed_bytes.max(1) as f64;
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "instructions": stats.instructions, "raw_bytes": stats.raw_bytes,
                "compressed_bytes": stats.compressed_bytes, "dropped_duplicates": stats.dropped_duplicates,
                "packed_words": stats.packed_words, "ratio": (ratio * 1000.0).round() / 1000.0,
                "delta_transfers": stats.delta_transfers, "repeats": stats.repeats,
                "stream_instructions": stats.stream_instructions,
            })
        );
    } else {
        println!(
            "{}: {} instructions, {} raw bytes, {} compressed bytes ({} duplicates dropped, {} words of {w} bits), ratio {ratio:.2}; wrote {}",
            file.display(), stats.instructions, stats.raw_bytes, stats.compressed_bytes,
            stats.dropped_duplicates, stats.packed_words, out.display()
        );
    }
    Ok(())
}

/// The initial memory image of a network whose tensors all have data, and its map (None for a
/// network of shapes only). Packed as numpy writes tensors (`x.tobytes()`): one byte per int8
/// element, four little-endian bytes per int32; words of `memory.word_bits`.
fn memory_files(net: &Network, cfg: &HwConfig) -> Option<(Vec<u8>, String)> {
    let compiled = accelgen_compiler::compile_full(net, cfg).ok()?;
    let image = accelgen_compiler::memory_image_bytes(net, cfg, &compiled.layout).ok()?;
    let lay = &compiled.layout;
    let word_bytes = (cfg.memory.word_bits / 8) as usize;
    let last = net.layers.len();
    // Tensor i (0: the input, j + 1: layer j's output) is live from the layer during whose run it
    // is written (the input: layer 0; a fused pooling layer's output and an add's: the conv
    // layer's) to the last layer during whose run it is read (the network output: the last).
    let region = |name: String, i: usize, at: u64, shape: &[usize]| {
        let dtype = if lay.elem_bytes[i] == 4 { "int32" } else { "int8" };
        serde_json::json!({"name": name, "offset": at, "bytes": lay.sizes[i] * lay.elem_bytes[i], "dtype": dtype, "shape": shape, "live": lay.live[i]})
    };
    let mut regions = vec![region("input".into(), 0, lay.input, &net.shapes[0])];
    for (i, layer) in net.layers.iter().enumerate() {
        // A conv layer joined to the add after it stores no output of its own.
        if !lay.fused[i] {
            regions.push(region(format!("layers[{i}] ({}) output", layer.op()), i + 1, lay.outputs[i], &net.shapes[i + 1]));
        }
    }
    let map = serde_json::json!({
        "word_bytes": word_bytes,
        "bytes": image.len(),
        "element_layout": "packed: one byte per int8 element, four little-endian bytes per int32 (numpy tobytes, CHW)",
        "regions": regions,
        "input": "input",
        "output": format!("layers[{}] ({}) output", last - 1, net.layers[last - 1].op()),
        "weights": "every other byte of the image: weights and biases in the order the program loads them",
        "live": "each region's tensor is live from the layer during whose run it is written (the input: layer 0) to the last during whose run it is read, [first, last]; regions of tensors live at one layer never share a byte, a dead tensor's bytes are reused",
    });
    Some((image, serde_json::to_string_pretty(&map).ok()? + "\n"))
}
