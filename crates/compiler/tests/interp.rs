//! Program semantics without hardware: the compiled program, run by the software interpreter on
//! the memory image, leaves the golden network's output in memory (LeNet-5, a network larger
//! than the default buffers, random networks on the tiny preset), and a program that reaches
//! outside a buffer is an error naming the instruction.


use accelgen_config::{HwConfig, Preset};
use accelgen_formats::Network;
use accelgen_golden::testutil::Rng;
use accelgen_compiler::{compile_full, memory_image, LayerTiling};
use accelgen_compiler::interp::run_compiled;
use accelgen_compiler::testnets::*;
use std::path::Path;

fn check(net: &Network, cfg: &HwConfig, what: &str) -> accelgen_compiler::Compiled {
    let c = compile_full(net, cfg).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mem = memory_image(net, cfg, &c.layout).unwrap();
    let (out, trace) = run_compiled(&c, cfg, mem).unwrap_or_else(|e| panic!("{what}: {e}"));
    let golden = net.golden().unwrap().to_i64();
    let got: Vec<i64> = out.iter().map(|&v| i64::from(v as i32)).collect();
    assert_eq!(got, golden.data, "{what}");
    assert!(trace.mem_reads > 0 && trace.mem_writes as usize >= golden.data.len(), "{what}");
    c
}

#[test]
fn lenet5_program_computes_the_network_on_both_presets() {
    let net = with_data("lenet5", 5);
    for p in [Preset::Tiny, Preset::Default] {
        let c = check(&net, &p.config(), &format!("LeNet-5 on {p:?}"));
        if p == Preset::Tiny {
            // The tiny preset needs every kind of tiling on LeNet-5.
            let convs: Vec<_> = c.layout.layers.iter().filter_map(|l| if let LayerTiling::Conv(t) = l { Some(t) } else { None }).collect();
            assert!(convs.iter().any(|t| t.band < t.plan.ho), "row bands");
            assert!(convs.iter().any(|t| t.ic_groups() > 1), "input-channel groups");
            assert!(convs.iter().any(|t| t.oc_groups() > 1), "output-channel groups");
        }
    }
}

#[test]
fn a_network_larger_than_the_default_buffers_is_tiled_and_exact() {
    // VGG-style block: two 3×3 convs of 64 channels on 56×56, then maxpool.
    let net = net_of(
        [64, 56, 56],
        vec![conv(64, 64, 3, 1, 1, false), conv(64, 64, 3, 1, 1, false), serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]})],
        9,
    );
    let c = check(&net, &Preset::Default.config(), "VGG-style block");
    let LayerTiling::Conv(t) = &c.layout.layers[0] else { panic!() };
    assert!(t.band < t.plan.ho && t.double, "row bands, double-buffered: {t:?}");
    // 480 input channels: more weights per output tile than the 65,536-entry weight buffer (with
    // the k = 2 kernels per PE the compiler picks for 40 output channels: 16-channel tiles).
    let net = net_of([480, 16, 16], vec![conv(480, 40, 3, 1, 1, false), conv(40, 24, 3, 2, 0, true)], 10);
    let c = check(&net, &Preset::Default.config(), "480-channel layer");
    let LayerTiling::Conv(t) = &c.layout.layers[0] else { panic!() };
    assert!(t.band < t.plan.ho && t.ic_groups() > 1 && t.oc_groups() > 1, "all three tilings: {t:?}");
}

#[test]
fn random_networks_compute_the_golden_output_on_the_tiny_preset() {
    let mut rng = Rng::from_env("interp-networks", 31);
    let cfg = Preset::Tiny.config();
    let mut ran = 0;
    while ran < 60 {
        let mut doc = random_network(&mut rng, 7, 20);
        fill(&mut doc, &mut rng, "");
        let Ok(net) = Network::from_value(&doc, Path::new(".")) else { continue };
        check(&net, &cfg, &format!("network {ran}: {doc:.300}"));
        // Pooling in row bands.
        if let Err(e) = compile_full(&net, &tiny_small_pool()) {
            assert!(e.contains("cannot be tiled") && e.contains("feature_memory_depth"), "{e}");
        } else {
            check(&net, &tiny_small_pool(), &format!("network {ran} with row-band pooling: {doc:.300}"));
        }
        ran += 1;
    }
}

#[test]
fn pooling_row_bands_are_exact() {
    // 3×3 / 2 pooling with padding 1 on 13×11 maps: bands of one or two output rows.
    for (k, st, p) in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (3, 3, 0)] {
        let net = net_of([3, 13, 11], vec![serde_json::json!({"op": "avgpool2d", "kernel": [k, k], "stride": [st, st], "padding": [p, p]}),
            serde_json::json!({"op": "maxpool2d", "kernel": [k, k], "stride": [1, 1], "padding": [p, p]})], 4);
        let c = check(&net, &tiny_small_pool(), &format!("pool {k}/{st}/{p}"));
        let LayerTiling::Pool(t) = &c.layout.layers[0] else { panic!() };
        assert!(t.band < net.shapes[1][1], "{t:?}");
    }
}

#[test]
fn a_program_that_reaches_past_a_buffer_is_an_error_naming_the_instruction() {
    let net = with_data("lenet5", 5);
    let cfg = Preset::Tiny.config();
    let mut c = compile_full(&net, &cfg).unwrap();
    let mem = memory_image(&net, &cfg, &c.layout).unwrap();
    let i = c.prog.iter().position(|i| i.info().name == "MEM_LOAD" && i.values[0] == 1).unwrap();
    c.prog[i].values[2] = 5000; // more weights than the 1024-entry buffer
    let err = run_compiled(&c, &cfg, mem).unwrap_err();
    assert!(err.starts_with(&format!("instruction {i} (MEM_LOAD")), "{err}");
    assert!(err.contains("word 1024 goes to entry 512 of weight bank 0, past its 512 entries (the 2 banks hold 1024 weights; target 1)"), "{err}");
}

/// The conv layers of a compiled network that run in column tiles.
fn column_tiled(c: &accelgen_compiler::Compiled) -> Vec<usize> {
    c.layout.layers.iter().enumerate().filter_map(|(i, l)| match l {
        LayerTiling::Conv(t) if t.cols < t.plan.wo => Some(i),
        _ => None,
    }).collect()
}

/// Column tiles (docs/accelerator.md): on the tiny preset, wide layers whose full-width bands
/// are short run in column tiles, their transfers' rows as runs (`MEM_ROWS`): stored outputs
/// (int8 and int32 sums), strides and padding on both sides, and a pooling layer taking each
/// tile on chip; every output equal to the golden network's.
#[test]
fn column_tiles_compute_the_golden_output() {
    let cfg = Preset::Tiny.config();
    let pool = serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]});
    let cases = [
        ("stored", net_of([2, 10, 80], vec![conv(2, 4, 3, 1, 1, false)], 1)),
        ("int32 sums", net_of([2, 10, 80], vec![conv(2, 4, 3, 1, 1, true)], 2)),
        ("5x5, padding 2", net_of([2, 30, 50], vec![conv(2, 4, 5, 1, 2, false)], 7)),
        ("pooled on chip", net_of([2, 12, 80], vec![conv(2, 4, 3, 1, 1, false), pool.clone()], 4)),
        ("two layers", net_of([2, 14, 80], vec![conv(2, 2, 3, 1, 1, false), conv(2, 4, 3, 1, 1, false), pool], 5)),
    ];
    for (what, net) in &cases {
        let c = check(net, &cfg, what);
        assert!(!column_tiled(&c).is_empty(), "{what}: column tiles");
    }
    // Stride 2 (a tile's input columns start at 2·ox0 − pw) on `default`: the first layer (96
    // channels in, 32 out at 86 columns) runs in column tiles.
    let net = net_of([96, 13, 171], vec![conv(96, 32, 3, 2, 1, false), conv(32, 16, 3, 2, 0, true)], 8);
    let c = check(&net, &Preset::Default.config(), "stride 2");
    assert_eq!(column_tiled(&c), [0], "stride 2: column tiles");
}

/// VGG-16's first block (3→64 and 64→64 3×3 on 224×224, max pool 2) on `default`: the 64→64
/// layer runs in column tiles and the block moves at most 1.25× the packed minimum in bus bytes
/// (issue #24; full-width bands of two rows moved 1.44×), every output equal to the golden one.
#[test]
fn vgg16_first_block_moves_within_1_25x_of_the_packed_minimum() {
    let cfg = Preset::Default.config();
    let pool = serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]});
    let net = net_of([3, 224, 224], vec![conv(3, 64, 3, 1, 1, false), conv(64, 64, 3, 1, 1, false), pool], 1);
    let c = compile_full(&net, &cfg).unwrap();
    assert_eq!(column_tiled(&c), [1]);
    let mem = memory_image(&net, &cfg, &c.layout).unwrap();
    let (out, trace) = run_compiled(&c, &cfg, mem).unwrap();
    let got: Vec<i64> = out.iter().map(|&v| i64::from(v as i32)).collect();
    assert_eq!(got, net.golden().unwrap().to_i64().data);
    let wb = u64::from(cfg.memory.word_bits / 8);
    let moved = (trace.mem_read_words + trace.mem_write_words) * wb;
    let min = c.layout.min_bytes();
    assert!(moved * 4 <= min * 5, "moved {moved} bytes, packed minimum {min}");
}

/// An add document of operands `a`, `b` (layer indices, or -1 for the input) with random scales.
fn add_of(rng: &mut Rng, a: i64, b: i64) -> serde_json::Value {
    let src = |s: i64| if s < 0 { serde_json::json!("input") } else { serde_json::json!(s) };
    // Scales are float32 values, written exactly.
    let scale = |rng: &mut Rng, lo: f32| f64::from(lo + rng.below(400) as f32 / 10_000.0);
    let q = |rng: &mut Rng| serde_json::json!({"scale": scale(rng, 0.01), "zero_point": rng.range(-20, 20)});
    let (qa, qb) = (q(rng), q(rng));
    serde_json::json!({"op": "add", "inputs": [src(a), src(b)], "a": qa, "b": qb,
        "scale": scale(rng, 0.02), "zero_point": rng.range(-128, 0), "relu": rng.below(2) == 0})
}

/// Random residual graphs (a stem, blocks of two convs whose second is summed with the block's
/// input, in either operand order, stride-2 blocks whose shortcut is a 1×1 stride-2 conv, a
/// pooling layer after an add) compile to load-adds and leave the golden output on both presets,
/// tiled into bands, column tiles and channel groups on `tiny`.
#[test]
fn random_residual_graphs_compute_the_golden_network() {
    let mut rng = Rng::from_env("residual-graphs", 34);
    let mut swapped = 0;
    for n in 0..24 {
        let c0 = rng.range(1, 4) as usize;
        let (h, w) = (rng.range(6, 20) as usize, rng.range(6, 20) as usize);
        let mut c = rng.range(2, 20) as usize;
        let mut layers = vec![conv(c0, c, 3, 1, 1, false)];
        let mut x = 0i64; // the block input: a layer index
        for _ in 0..rng.range(1, 3) {
            let down = rng.below(2) == 0;
            let cout = if down { c + rng.range(1, 8) as usize } else { c };
            let mut c1 = conv(c, cout, 3, if down { 2 } else { 1 }, 1, false);
            c1["inputs"] = serde_json::json!([x]);
            layers.push(c1);
            let mut shortcut = x;
            if down {
                let mut sc = conv(c, cout, 1, 2, 0, false);
                sc["inputs"] = serde_json::json!([x]);
                layers.push(sc);
                shortcut = layers.len() as i64 - 1;
            }
            let mut c2 = conv(cout, cout, 3, 1, 1, false);
            c2["inputs"] = serde_json::json!([shortcut + if down { -1 } else { 1 }]);
            layers.push(c2);
            let conv2 = layers.len() as i64 - 1;
            let swap = rng.below(2) == 0;
            swapped += usize::from(swap);
            let (a, b) = if swap { (shortcut, conv2) } else { (conv2, shortcut) };
            layers.push(add_of(&mut rng, a, b));
            x = layers.len() as i64 - 1;
            c = cout;
        }
        if rng.below(2) == 0 {
            layers.push(serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}));
        }
        let net = net_of([c0, h, w], layers, 100 + n);
        assert!(net.first_branch().is_some());
        for p in [Preset::Tiny, Preset::Default] {
            let c = check(&net, &p.config(), &format!("residual graph {n} on {p:?}"));
            let adds = c.prog.iter().filter(|i| i.info().name == "MEM_LOADADD").count();
            assert!(adds > 0, "graph {n}: load-adds");
        }
    }
    assert!(swapped > 4 && swapped < 20, "both operand orders: {swapped}");
}

/// An add that cannot run as a load-add is refused naming the layer and the rule: one whose
/// operands are both the conv layer before it, one after a conv layer another layer reads too,
/// one after a pooling layer.
#[test]
fn adds_that_are_not_a_load_add_are_refused_by_name() {
    let mut rng = Rng::new(5);
    let cfg = Preset::Default.config();
    let cases = [
        (vec![conv(2, 4, 3, 1, 1, false), conv(4, 4, 3, 1, 1, false), add_of(&mut rng, 1, 1)], "both operands are layers[1]"),
        (vec![conv(2, 4, 3, 1, 1, false), conv(4, 4, 3, 1, 1, false), add_of(&mut rng, 1, 0), {
            let mut l = conv(4, 4, 1, 1, 0, false);
            l["inputs"] = serde_json::json!([1]);
            l
        }], "read by no other layer"),
        (vec![conv(2, 4, 3, 1, 1, false), serde_json::json!({"op": "maxpool2d", "kernel": [1, 1]}), add_of(&mut rng, 1, 0)], "the conv layer right before it"),
    ];
    for (layers, want) in cases {
        let net = net_of([2, 8, 8], layers, 3);
        let e = compile_full(&net, &cfg).unwrap_err();
        assert!(e.contains("layers[2] (add)") && e.contains(want), "{e}");
    }
}
