//! `accelgen compile` on the committed networks: the files decode back to the program, the
//! compressed form to the same effective register writes, and the sizes the JSON reports are the
//! files' sizes.

use accelgen_isa::compress::{decompress, drop_duplicates, unpack_one_per_word, unpack_words};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn compile_round_trips_every_network_and_reports_its_sizes() {
    for net in ["lenet5", "alexnet", "vgg16"] {
        let file = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile").join(net);
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_accelgen"))
            .args(["compile", &file, "--preset", "default", "--json", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{net}: {}", String::from_utf8_lossy(&out.stderr));
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let bin = std::fs::read(dir.join("program.bin")).unwrap();
        let cbin = std::fs::read(dir.join("program.cbin")).unwrap();
        let text = std::fs::read_to_string(dir.join("program.txt")).unwrap();
        let prog = unpack_one_per_word(&bin, 64).unwrap();
        assert_eq!(prog.len() as u64, stats["instructions"].as_u64().unwrap(), "{net}");
        assert_eq!(text.lines().count(), prog.len());
        for (line, i) in text.lines().zip(&prog) {
            assert_eq!(line, i.disassemble());
        }
        let (kept, dropped) = drop_duplicates(&prog);
        assert_eq!(decompress(&cbin, 64).unwrap(), kept, "{net}: compressed form decodes to the effective writes");
        // program.ctxt lists the compressed stream, one line per word.
        let ctext = std::fs::read_to_string(dir.join("program.ctxt")).unwrap();
        let words = unpack_words(&cbin, 64).unwrap();
        assert_eq!(ctext.lines().count(), words.len());
        for (line, word) in ctext.lines().zip(&words) {
            let listed: Vec<String> = word.iter().map(|i| i.disassemble()).collect();
            assert!(line.ends_with(&listed.join(" | ")), "{net}: {line}");
        }
        if net != "lenet5" {
            assert!(stats["repeats"].as_u64().unwrap() > 0 && stats["delta_transfers"].as_u64().unwrap() > 0, "{net}");
        }
        assert_eq!(dropped as u64, stats["dropped_duplicates"].as_u64().unwrap());
        assert_eq!(bin.len() as u64, stats["raw_bytes"].as_u64().unwrap());
        assert_eq!(cbin.len() as u64, stats["compressed_bytes"].as_u64().unwrap());
        assert_eq!(cbin.len() as u64 / 8, stats["packed_words"].as_u64().unwrap());
        assert!(stats["ratio"].as_f64().unwrap() > 1.0);
        // Files the user has are not overwritten without --force.
        let again = Command::new(env!("CARGO_BIN_EXE_accelgen"))
            .args(["compile", &file, "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists: pass --force"));
        // The hardware decompressor reproduces the effective register writes.
        if net != "vgg16" {
            let run = Command::new(env!("CARGO_BIN_EXE_accelgen"))
                .args(["run", "--preset", "default", "--program"])
                .arg(&dir)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&run.stdout);
            assert!(run.status.success(), "{net}: {text}{}", String::from_utf8_lossy(&run.stderr));
            assert!(text.contains("register writes: match"), "{text}");
        }
    }
}

/// A network with data also gets its memory image and map: the input region holds the input
/// tensor packed (one byte per element, as numpy's `tobytes`), every layer's output region is
/// listed with its shape and dtype (LeNet-5's last layer: int32 sums, four bytes each), regions
/// on 64-byte boundaries, the output named; a network of shapes only gets neither file.
#[test]
fn a_network_with_data_gets_its_memory_image_and_map() {
    let root = format!("{}/../../testbenches/networks", env!("CARGO_MANIFEST_DIR"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile-memory");
    let _ = std::fs::remove_dir_all(&dir);
    let run = |net: &str, out: &std::path::Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_accelgen")).args(["compile", &format!("{root}/{net}.json"), "--preset", "default", "--out"]).arg(out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run("lenet5_data", &dir.join("data"));
    let image = std::fs::read(dir.join("data/memory_init.bin")).unwrap();
    let map: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("data/memory.json")).unwrap()).unwrap();
    assert_eq!(map["bytes"].as_u64().unwrap() as usize, image.len());
    assert_eq!(image.len() % 8, 0, "whole 64-bit words");
    let regions = map["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 8, "the input and seven layer outputs");
    assert_eq!(regions.last().unwrap()["name"], map["output"]);
    let net = accelgen_formats::Network::load(std::path::Path::new(&format!("{root}/lenet5_data.json"))).unwrap();
    let input = net.input.require("input").unwrap();
    let r = &regions[0];
    assert_eq!((r["name"].as_str(), r["shape"].as_array().unwrap().len()), (Some("input"), 3));
    let at = r["offset"].as_u64().unwrap() as usize;
    assert_eq!(r["bytes"].as_u64().unwrap() as usize, input.data.len());
    for (i, &v) in input.data.iter().enumerate() {
        assert_eq!(image[at + i] as i8, v, "input element {i}");
    }
    for r in regions {
        assert_eq!(r["offset"].as_u64().unwrap() % 64, 0, "{r}: aligned");
        let elems: u64 = r["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).product();
        let size = if r["dtype"] == "int32" { 4 } else { 1 };
        assert_eq!(r["bytes"].as_u64().unwrap(), size * elems, "{r}");
    }
    assert_eq!(regions.last().unwrap()["dtype"], "int32", "LeNet-5 ends in a conv layer without requantization");
    // Live ranges [first, last] in steps: the input is read in step 0; each max pool is fused with
    // the conv layer before it, so it reads that layer's output and writes its own in the conv
    // layer's step (0, 2), read by the next conv layer (2, 4); the network output lives to the last
    // step (6).
    let live: Vec<(u64, u64)> = regions.iter().map(|r| (r["live"][0].as_u64().unwrap(), r["live"][1].as_u64().unwrap())).collect();
    assert_eq!(live, [(0, 0), (0, 0), (0, 2), (2, 2), (2, 4), (4, 5), (5, 6), (6, 6)]);
    // Tensors live at one step share no byte; dead ones' regions are reused.
    let span = |r: &serde_json::Value| (r["offset"].as_u64().unwrap(), r["offset"].as_u64().unwrap() + r["bytes"].as_u64().unwrap());
    let mut shared = 0;
    for (i, a) in regions.iter().enumerate() {
        for (j, b) in regions.iter().enumerate().skip(i + 1) {
            let ((a0, a1), (b0, b1)) = (span(a), span(b));
            if a0 < b1 && b0 < a1 {
                shared += 1;
                assert!(live[i].1 < live[j].0 || live[j].1 < live[i].0, "{a} and {b} share bytes while both live");
            }
        }
    }
    assert!(shared > 0, "regions reused");
    run("lenet5", &dir.join("shapes"));
    assert!(!dir.join("shapes/memory_init.bin").exists() && !dir.join("shapes/memory.json").exists());
}
