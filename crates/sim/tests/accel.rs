//! Whole networks on accel_top: the compiled program, loaded through the register port, runs
//! from the memory model to done and leaves the golden network's output in memory.


use accelgen_config::{HwConfig, Preset};
use accelgen_formats::Network;
use accelgen_golden::testutil::Rng;
use accelgen_sim::accel::{run_accel, AccelFaults, AccelRun, MemTiming};
use accelgen_sim::engines::Engine;
use accelgen_sim::RunOptions;
use accelgen_compiler::testnets::*;
use serde_json::json;
use std::path::{Path, PathBuf};

const SLOW: MemTiming = MemTiming { latency: 9, stall_every: 3 };

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accel");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

fn run(net: &Network, cfg: &HwConfig, engine: Engine, mem: MemTiming, what: &str) -> AccelRun {
    let r = run_accel(net, cfg, &opts(engine), mem, &AccelFaults::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(r.error_code, None, "{what}: {:?}", r.stats);
    assert_eq!(r.stats["mem_outside_accesses"], 0, "{what}");
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64(), "{what}");
    r
}


/// The program's cycle model (`accelgen_compiler::net_model`) predicts every layer's cycles, and
/// the run's, within 2% of what the hardware took (issue #25).
fn check_program_model(r: &AccelRun, cfg: &HwConfig, mem: MemTiming, what: &str) {
    let m = accelgen_compiler::net_model::program_cycles(&r.compiled, cfg, mem.latency).unwrap();
    let within = |model: u64, measured: u64| model.abs_diff(measured) * 50 <= measured.max(50);
    let cycles = u(r, "cycles");
    assert!(within(m.cycles, cycles), "{what}: model {} cycles, measured {cycles}", m.cycles);
    for (l, &mc) in m.layer_cycles.iter().enumerate() {
        let measured = r.stats["layers"][l]["cycles"].as_u64().unwrap();
        assert!(within(mc, measured), "{what}: layer {l}: model {mc} cycles, measured {measured}");
    }
    // Every instruction but `END`, whose count the run ends before it shows.
    assert_eq!(m.dispatched.len(), r.dispatched.len() + 1, "{what}: instructions dispatched");
}

fn u(r: &AccelRun, k: &str) -> u64 {
    r.stats[k].as_u64().unwrap_or_else(|| panic!("stats.{k}"))
}

/// The stats keys of the issue, and their consistency.
fn check_stats(r: &AccelRun, net: &Network, cfg: &HwConfig) {
    let pes = u64::from(cfg.pe_array.rows * cfg.pe_array.cols);
    for k in ["cycles", "macs", "mem_read_bytes", "mem_write_bytes", "register_writes", "compressed_bytes", "instructions"] {
        assert!(u(r, k) > 0, "{k}");
    }
    let util = r.stats["pe_utilization"].as_f64().unwrap();
    assert!((util - u(r, "macs") as f64 / (pes * u(r, "cycles")) as f64).abs() < 1e-4);
    let layers = r.stats["layers"].as_array().unwrap();
    assert_eq!(layers.len(), net.layers.len());
    let sum = |k: &str| layers.iter().map(|l| l[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("macs"), u(r, "macs"));
    assert_eq!(sum("mem_read_bytes"), u(r, "mem_read_bytes"));
    assert_eq!(sum("mem_write_bytes"), u(r, "mem_write_bytes"));
    // Every dispatched cycle belongs to one layer; the host's loading and reading are outside.
    assert!(sum("cycles").abs_diff(u(r, "cycles")) <= 2, "{} vs {}", sum("cycles"), u(r, "cycles"));
    // Every wait was for a busy module: the per-module waits cover the dispatcher's stalls.
    let waits = u(r, "mem_wait_cycles") + u(r, "conv_wait_cycles") + u(r, "pool_wait_cycles");
    let stalls = u(r, "dispatch_stall_cycles");
    assert!(u(r, "conv_wait_cycles") > 0 && waits <= 3 * stalls && waits >= stalls / 2, "{:?}", r.stats);
    // The program's words, plus the start, went through the register port.
    assert_eq!(u(r, "register_writes"), u(r, "compressed_bytes") / 8 + 2, "the words, the watchdog and the start");
    // The network's output was written once, and its input, weights and biases read at least once.
    // (Packed: one byte per int8 element, four per int32 sum.)
    let (_, n_out, size) = r.compiled.layout.output();
    assert!(u(r, "mem_write_bytes") >= n_out as u64 * size);
    assert!(u(r, "mem_read_bytes") >= net.shapes[0].iter().product::<usize>() as u64);
    for (l, layer) in layers.iter().zip(&net.layers) {
        assert_eq!(l["op"], layer.op());
        assert_eq!(l["pool_divider"].is_null(), layer.op() == "conv2d", "{l}");
    }
}

#[test]
fn lenet5_with_numpy_data_runs_bit_exact_on_the_tiny_preset_with_every_tiling() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/networks/lenet5_data.json");
    let net = Network::load(&path).unwrap();
    let cfg = Preset::Tiny.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "LeNet-5 on tiny");
    check_program_model(&r, &cfg, MemTiming::default(), "LeNet-5 on tiny");
    // The independently produced expected output (numpy) agrees too.
    assert_eq!(r.output.to_i64(), *net.expected.as_ref().unwrap());
    check_stats(&r, &net, &cfg);
    // Pooling ran at the planner's dividers, as the hardware reported them.
    let plan = accelgen_compiler::planner::plan_clock(&net, &cfg).unwrap();
    for row in plan {
        assert_eq!(r.stats["layers"][row.layer]["pool_divider"], u64::from(row.divider), "layer {}", row.layer);
    }
}

#[test]
fn a_network_larger_than_the_default_buffers_runs_bit_exact() {
    // 480 input channels: input-channel groups, row bands and output groups on the default
    // preset (40 output channels: k = 2 kernels per PE), then a stride-2 conv and an average pool.
    let net = net_of(
        [480, 16, 16],
        vec![conv(480, 40, 3, 1, 1, false), conv(40, 24, 3, 2, 0, false), json!({"op": "avgpool2d", "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]})],
        10,
    );
    let cfg = Preset::Default.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "480-channel network on default");
    check_stats(&r, &net, &cfg);
    check_program_model(&r, &cfg, MemTiming::default(), "480-channel network on default");
    let lay = &r.compiled.layout.layers[0];
    let accelgen_compiler::LayerTiling::Conv(t) = lay else { panic!() };
    assert!(t.ic_groups() > 1 && t.oc_groups() > 1 && t.band < t.plan.ho, "{t:?}");
}

#[test]
fn random_networks_run_bit_exact_on_the_tiny_preset() {
    let mut rng = Rng::from_env("accel-networks", 41);
    let cfg = Preset::Tiny.config();
    let mut ran = 0;
    while ran < 12 {
        let mut doc = random_network(&mut rng, 6, 14);
        fill(&mut doc, &mut rng, "");
        let Ok(net) = Network::from_value(&doc, Path::new(".")) else { continue };
        // Two on rust-hdl; the rest on Verilator, some with a slow memory.
        let engine = if ran < 2 { Engine::Rust } else { Engine::Verilator };
        let mem = if ran % 3 == 2 { SLOW } else { MemTiming::default() };
        let r = run(&net, &cfg, engine, mem, &format!("network {ran}: {doc:.300}"));
        check_stats(&r, &net, &cfg);
        // Every fourth also with pooling in row bands.
        if ran % 4 == 3 && net.layers.iter().any(|l| l.op() != "conv2d") {
            if let Ok(_) = accelgen_compiler::compile_full(&net, &tiny_small_pool()) {
                run(&net, &tiny_small_pool(), Engine::Verilator, mem, &format!("network {ran}, row-band pooling: {doc:.300}"));
            }
        }
        ran += 1;
    }
}

#[test]
fn pooling_in_row_bands_runs_bit_exact() {
    let cfg = tiny_small_pool();
    for (k, st, p) in [(3, 2, 1), (2, 2, 0), (3, 1, 1)] {
        let net = net_of([3, 13, 11], vec![conv(3, 3, 3, 1, 1, false), json!({"op": "avgpool2d", "kernel": [k, k], "stride": [st, st], "padding": [p, p]}),
            json!({"op": "maxpool2d", "kernel": [k, k], "stride": [1, 1], "padding": [p, p]})], 4);
        let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), &format!("pool bands {k}/{st}/{p}"));
        let accelgen_compiler::LayerTiling::Pool(t) = &r.compiled.layout.layers[1] else { panic!() };
        assert!(t.band < net.shapes[2][1], "{t:?}");
    }
}

/// Asymmetric pooling padding ([top, left, bottom, right], as ONNX's `auto_pad` SAME makes it
/// for a 3×3/2 window on an even map), max and average, after convs with asymmetric padding: on
/// both presets and with pooling in row bands, equal to the golden model.
/// A run streams its weights: the fully connected layers of an FC stack start while their
/// weights arrive (the conv engine and the mover busy at once), bit-exact; with the engine's
/// count of written entries ignored on purpose (`ConvFault::WeightsUncounted`) the runs read
/// entries not yet written and the output differs.
#[test]
fn runs_stream_their_weights_and_read_none_before_it_is_written() {
    let net = net_of([96, 1, 1], vec![conv(96, 48, 1, 1, 0, false), conv(48, 20, 1, 1, 0, false)], 23);
    let cfg = Preset::Tiny.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "FC stack");
    assert!(u(&r, "conv_busy_cycles") + u(&r, "mem_busy_cycles") > u(&r, "cycles"), "overlap: {:?}", r.stats);
    let faults = AccelFaults { conv: accelgen_hw::pe::ConvFault::WeightsUncounted, ..Default::default() };
    let bad = run_accel(&net, &cfg, &opts(Engine::Verilator), MemTiming::default(), &faults).unwrap();
    assert_ne!(bad.output.to_i64(), net.golden().unwrap().to_i64(), "the fault must show");
}

#[test]
fn asymmetric_pooling_padding_runs_bit_exact() {
    let layers = vec![
        conv(3, 8, 3, 1, 1, false),
        json!({"op": "maxpool2d", "kernel": [3, 3], "stride": [2, 2], "padding": [0, 0, 1, 1]}),
        json!({"op": "avgpool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [1, 1, 0, 0]}),
        json!({"op": "conv2d", "weight": {"shape": [4, 8, 3, 3]}, "bias": {"shape": [4]}, "stride": [1, 1], "padding": [0, 1, 2, 1],
               "requant": {"multiplier": 900, "shift": 14, "zero_point": 0, "relu": false}}),
        json!({"op": "maxpool2d", "kernel": [2, 3], "stride": [1, 1], "padding": [1, 0, 0, 1]}),
    ];
    let net = net_of([3, 12, 10], layers, 17);
    assert_eq!(net.shapes[2], [8, 6, 5], "SAME_UPPER: ceil(12/2) x ceil(10/2)");
    assert_eq!(net.shapes[5], [4, 3, 2]);
    for (cfg, what) in [(Preset::Tiny.config(), "tiny"), (Preset::Default.config(), "default"), (tiny_small_pool(), "tiny, pooling in row bands")] {
        let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), what);
        check_program_model(&r, &cfg, MemTiming::default(), what);
        if what.contains("bands") {
            let accelgen_compiler::LayerTiling::Pool(t) = &r.compiled.layout.layers[1] else { panic!() };
            assert!(t.band < net.shapes[2][1], "{t:?}");
        }
    }
}

#[test]
fn double_buffered_bands_overlap_transfers_with_compute() {
    // 2×24×24 on tiny: the bands fit half the first cache, so band b+1 loads and band b−1 stores
    // while band b runs.
    let net = net_of([2, 24, 24], vec![conv(2, 4, 3, 1, 1, false), conv(4, 4, 3, 1, 1, true)], 8);
    let cfg = Preset::Tiny.config();
    let r = run(&net, &cfg, Engine::Verilator, SLOW, "double buffering");
    let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
    assert!(t.double && t.plan.ho.div_ceil(t.band) >= 3, "{t:?}");
    // Overlap, counted by the hardware: the run took fewer cycles than the engine and the mover
    // were busy together.
    assert!(u(&r, "cycles") < u(&r, "conv_busy_cycles") + u(&r, "mem_busy_cycles"), "{:?}", r.stats);
    let rust = run(&net, &cfg, Engine::Rust, SLOW, "double buffering on rust-hdl");
    assert_eq!(rust.stats["cycles"], r.stats["cycles"]);
}

/// A layer that fits one band but whose output goes to memory: the compiler splits it into
/// double-buffered bands when its model says the overlap pays (`tiling::split_bands`). The 3→16
/// 3×3 stem on 32×32 on `default`: split, bit-exact on accel_top (Verilator), and the hardware's
/// counters see the overlap (fewer cycles than the engine and the mover were busy).
#[test]
fn a_layer_that_fits_one_band_runs_in_bands_when_the_overlap_pays() {
    let net = net_of([3, 32, 32], vec![conv(3, 16, 3, 1, 1, false)], 12);
    let cfg = Preset::Default.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "the stem in bands");
    check_program_model(&r, &cfg, MemTiming::default(), "the stem in bands");
    let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
    assert!(t.double && t.band < t.plan.ho, "{t:?}");
    assert!(u(&r, "cycles") < u(&r, "conv_busy_cycles") + u(&r, "mem_busy_cycles"), "{:?}", r.stats);
}

#[test]
fn pooling_runs_during_its_convolution_layer_at_the_planners_rate() {
    // conv (bands on tiny) then average pooling: the pooling unit works on the bands already in
    // memory while the engine computes the next ones.
    let net = net_of([2, 24, 24], vec![conv(2, 4, 3, 1, 1, false), json!({"op": "avgpool2d", "kernel": [2, 2], "stride": [2, 2]}), conv(4, 3, 3, 1, 0, true)], 9);
    let cfg = Preset::Tiny.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "fused pooling");
    let accelgen_compiler::LayerTiling::Pool(t) = &r.compiled.layout.layers[1] else { panic!() };
    assert!(t.on_chip, "2×2/2 windows never straddle a band of even rows: on chip: {t:?}");
    // The conv output goes from the output buffer into the feature memory, never to memory.
    assert!(r.compiled.prog.iter().any(|i| i.info().name == "MEM_COPY"));
    assert_eq!(r.stats["layers"][0]["mem_write_bytes"], 0, "{}", r.stats["layers"][0]);
    assert_eq!(r.stats["layers"][1]["mem_read_bytes"], 0, "{}", r.stats["layers"][1]);
    // Overlap, from the hardware's busy counters.
    assert!(u(&r, "cycles") < u(&r, "conv_busy_cycles") + u(&r, "pool_busy_cycles"), "{:?}", r.stats);
    let plan = accelgen_compiler::planner::plan_clock(&net, &cfg).unwrap();
    assert_eq!(r.stats["layers"][1]["pool_divider"], u64::from(plan[0].divider));
    // The program orders it: the interpreter, running it one instruction at a time, agrees.
    let mem = accelgen_compiler::memory_image(&net, &cfg, &r.compiled.layout).unwrap();
    let (out, _) = accelgen_compiler::interp::run_compiled(&r.compiled, &cfg, mem).unwrap();
    assert_eq!(out.iter().map(|&v| i64::from(v as i32)).collect::<Vec<_>>(), net.golden().unwrap().to_i64().data);
}

#[test]
fn overlapping_pooling_windows_take_the_conv_output_from_memory() {
    // 3×3/2 windows straddle conv bands: the fused pooling reads the stored conv rows back.
    let net = net_of([2, 24, 24], vec![conv(2, 4, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [3, 3], "stride": [2, 2]})], 19);
    let r = run(&net, &Preset::Tiny.config(), Engine::Verilator, MemTiming::default(), "pooling from memory");
    let accelgen_compiler::LayerTiling::Pool(t) = &r.compiled.layout.layers[1] else { panic!() };
    assert!(!t.on_chip, "{t:?}");
    assert!(!r.compiled.prog.iter().any(|i| i.info().name == "MEM_COPY"));
    assert!(r.stats["layers"][1]["mem_read_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn a_slow_memory_gives_the_same_output_and_the_same_traffic() {
    let net = net_of([3, 12, 12], vec![conv(3, 5, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}), conv(5, 4, 3, 1, 0, true)], 12);
    let cfg = Preset::Tiny.config();
    let fast = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "latency 1");
    let slow = run(&net, &cfg, Engine::Verilator, SLOW, "latency 9, stalls");
    assert_eq!(fast.output, slow.output);
    for k in ["mem_read_bytes", "mem_write_bytes", "instructions", "macs"] {
        assert_eq!(u(&fast, k), u(&slow, k), "{k}");
    }
    assert!(u(&slow, "cycles") > u(&fast, "cycles"), "a slow memory costs cycles");
    assert_eq!(u(&fast, "mem_stall_cycles"), 0);
    assert!(u(&slow, "mem_stall_cycles") > 0, "the port saw the stalls");
    // The same on rust-hdl, cycle for cycle.
    let rust = run(&net, &cfg, Engine::Rust, SLOW, "rust-hdl, slow");
    assert_eq!(rust.stats["cycles"], slow.stats["cycles"]);
    assert_eq!(rust.stats["layers"], slow.stats["layers"]);
}

#[test]
fn corrupted_programs_set_the_error_flag_and_stop() {
    let net = net_of([2, 8, 8], vec![conv(2, 3, 3, 1, 1, false), conv(3, 2, 1, 1, 0, true)], 3);
    let cfg = Preset::Tiny.config();
    let c = accelgen_compiler::compile_full(&net, &cfg).unwrap();
    let (good, _) = accelgen_isa::compress::compress(&c.prog, 64);
    let mut rng = Rng::from_env("corrupt", 7);
    let mut codes = std::collections::BTreeMap::new();
    for trial in 0..30 {
        let mut bytes = good.clone();
        let faults = match trial {
            // No END: the stream runs out.
            0 => bytes[..bytes.len() - 8].to_vec(),
            // A word of illegal opcodes.
            1 => {
                let n = bytes.len();
                bytes[n / 2..n / 2 + 8].copy_from_slice(&0xf7bd_ef7b_def7_bdefu64.to_le_bytes());
                bytes
            }
            _ => {
                for _ in 0..3 {
                    let bit = rng.below(bytes.len() as u64 * 8) as usize;
                    bytes[bit / 8] ^= 1 << (bit % 8);
                }
                bytes
            }
        };
        let faults = AccelFaults { program: Some(faults), ..Default::default() };
        // Either an error stop, a wrong output, or (a flip in a field that does not matter) the
        // right one; never a hang or a simulator failure.
        match run_accel(&net, &cfg, &opts(Engine::Verilator), MemTiming::default(), &faults) {
            Ok(r) => {
                if let Some(code) = r.error_code {
                    *codes.entry(code).or_insert(0) += 1;
                    // Stopped by the error, at the latest by the watchdog the host set (half the
                    // period bound of the program loaded: more for a corrupted REPEAT count that
                    // multiplies the work; 14,720 for the compiled one).
                    let wd = u(&r, "watchdog_cycles");
                    assert!(u(&r, "cycles") < 40_000.max(2 * wd + 1_000), "stopped within a bound: {} (watchdog {wd})", u(&r, "cycles"));
                }
                if trial < 2 {
                    assert_eq!(r.error_code, Some(1), "trial {trial}: the decompressor's error");
                }
            }
            Err(e) => panic!("trial {trial}: {e}"),
        }
    }
    eprintln!("error codes of corrupted programs: {codes:?}");
    assert!(codes.contains_key(&1), "{codes:?}");
}

#[test]
fn a_transfer_past_a_buffer_stops_with_error_code_2() {
    let net = net_of([2, 8, 8], vec![conv(2, 3, 3, 1, 1, true)], 3);
    let cfg = Preset::Tiny.config();
    let mut c = accelgen_compiler::compile_full(&net, &cfg).unwrap();
    let i = c.prog.iter().position(|i| i.info().name == "MEM_LOAD" && i.values[0] == 1).unwrap();
    c.prog[i].values[2] = 2000; // more weights than the 1024-entry buffer
    let (bytes, _) = accelgen_isa::compress::compress(&c.prog, 64);
    for engine in [Engine::Rust, Engine::Verilator] {
        let r = run_accel(&net, &cfg, &opts(engine), MemTiming::default(), &AccelFaults { program: Some(bytes.clone()), ..Default::default() }).unwrap();
        assert_eq!(r.error_code, Some(2), "{:?}", r.stats);
    }
    // The interpreter refuses the same program, naming the instruction.
    let mem = accelgen_compiler::memory_image(&net, &cfg, &c.layout).unwrap();
    let err = accelgen_compiler::interp::run_compiled(&c, &cfg, mem).unwrap_err();
    assert!(err.starts_with(&format!("instruction {i} (MEM_LOAD")), "{err}");
}

#[test]
fn a_store_reading_past_a_buffer_stops_with_error_code_2() {
    // The store side's bounds check runs a cycle after the read (crates/hw/src/top/mover.rs).
    let net = net_of([2, 8, 8], vec![conv(2, 3, 3, 1, 1, true)], 3);
    let cfg = Preset::Tiny.config();
    let mut c = accelgen_compiler::compile_full(&net, &cfg).unwrap();
    let i = c.prog.iter().position(|i| i.info().name == "MEM_STORE" && i.values[0] == 0).unwrap();
    c.prog[i].values[2] = 4000; // more words than the conv output buffer holds
    let (bytes, _) = accelgen_isa::compress::compress(&c.prog, 64);
    for engine in [Engine::Rust, Engine::Verilator] {
        let r = run_accel(&net, &cfg, &opts(engine), MemTiming::default(), &AccelFaults { program: Some(bytes.clone()), ..Default::default() }).unwrap();
        assert_eq!(r.error_code, Some(2), "{:?}", r.stats);
    }
}

/// Column tiles (docs/accelerator.md; their transfers' rows as runs, `MEM_ROWS`): a layer of
/// column tiles stored, one pooled on chip tile by tile, and one storing int32 sums, on a slow
/// memory; bit-exact on Verilator and rust-hdl (cycle for cycle), and the port's bus words
/// those the interpreter counts (docs/isa.md: one access per run of elements in a word).
#[test]
fn column_tiles_run_bit_exact_with_the_interpreters_traffic() {
    let cfg = Preset::Tiny.config();
    let pool = json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]});
    let nets = [
        net_of([2, 14, 80], vec![conv(2, 2, 3, 1, 1, false), conv(2, 4, 3, 1, 1, false), pool], 31),
        net_of([2, 10, 80], vec![conv(2, 4, 3, 1, 1, true)], 32),
    ];
    for (n, net) in nets.iter().enumerate() {
        let what = format!("network {n}");
        let r = run(net, &cfg, Engine::Verilator, SLOW, &what);
        let tiled = r.compiled.layout.layers.iter().filter(|l| matches!(l, accelgen_compiler::LayerTiling::Conv(t) if t.cols < t.plan.wo)).count();
        assert_eq!(tiled, if n == 0 { 2 } else { 1 }, "{what}: column tiles");
        assert!(r.compiled.prog.iter().any(|i| i.info().name == "MEM_ROWS"), "{what}");
        let mem = accelgen_compiler::memory_image(net, &cfg, &r.compiled.layout).unwrap();
        let mut m = accelgen_compiler::interp::Machine::new(&cfg, mem);
        m.run(&r.compiled.prog).unwrap();
        assert_eq!(u(&r, "mem_read_bytes"), 4 * m.trace.mem_read_words, "{what}");
        assert_eq!(u(&r, "mem_write_bytes"), 4 * m.trace.mem_write_words, "{what}");
        if n == 0 {
            let rust = run(net, &cfg, Engine::Rust, SLOW, "rust-hdl");
            assert_eq!(rust.stats["cycles"], r.stats["cycles"]);
            assert_eq!(rust.stats["layers"], r.stats["layers"]);
        }
    }
}

#[test]
fn the_hardware_leaves_the_interpreters_memory() {
    // Not only the output: every tensor the program wrote is where the interpreter put it.
    let net = net_of([3, 10, 10], vec![conv(3, 6, 3, 1, 1, false), json!({"op": "avgpool2d", "kernel": [2, 2], "stride": [2, 2]}), conv(6, 5, 3, 1, 1, false)], 21);
    let cfg = Preset::Tiny.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "interpreter vs hardware");
    let mem = accelgen_compiler::memory_image(&net, &cfg, &r.compiled.layout).unwrap();
    let mut m = accelgen_compiler::interp::Machine::new(&cfg, mem);
    m.run(&r.compiled.prog).unwrap();
    // The bus words the hardware's port carried: one per run of elements in a word.
    assert_eq!(u(&r, "mem_read_bytes"), 4 * m.trace.mem_read_words);
    assert_eq!(u(&r, "mem_write_bytes"), 4 * m.trace.mem_write_words);
    assert!(m.trace.mem_read_words < m.trace.mem_reads, "several elements per word");
}

#[test]
fn a_network_run_writes_one_waveform_with_a_grouped_layout() {
    let net = net_of([2, 6, 6], vec![conv(2, 2, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]})], 5);
    let cfg = Preset::Tiny.config();
    for engine in [Engine::Rust, Engine::Verilator] {
        let vcd = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("accel-wave-{}.vcd", engine.name()));
        let o = RunOptions { vcd: Some(vcd.clone()), ..opts(engine) };
        let r = run_accel(&net, &cfg, &o, MemTiming::default(), &AccelFaults::default()).unwrap();
        assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64());
        let names: std::collections::HashSet<String> =
            accelgen_wave::signal_names(&vcd).unwrap().into_iter().map(|(n, _)| n).collect();
        let gtkw = std::fs::read_to_string(accelgen_sim::tb::gtkw_path(&vcd)).unwrap();
        for title in ["host register port", "dispatch", "external memory port", "conv engine and pooling unit"] {
            assert!(gtkw.contains(&format!("-{title}")), "{title} in the layout");
        }
        let listed: Vec<&str> = gtkw.lines().filter(|l| l.starts_with("accel_top.")).collect();
        assert!(listed.len() > 40, "{}", listed.len());
        for l in listed {
            let base = l.split('[').next().unwrap();
            assert!(names.contains(base), "{base} of the layout is in the waveform ({})", engine.name());
        }
        // The run's start is in the waveform: busy rises after the program words.
        let waves = accelgen_wave::load(&vcd).unwrap();
        assert!(waves.periods as u64 >= r.stats["sim_periods"].as_u64().unwrap() - 20);
    }
}

#[test]
fn rust_hdl_and_verilator_agree_on_every_cycle_of_a_network() {
    // Lock-step: every output port and observed signal equal on every clock period.
    let net = net_of([2, 10, 10], vec![conv(2, 3, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}), conv(3, 2, 1, 1, 0, true)], 13);
    let r = run(&net, &Preset::Tiny.config(), Engine::Cross, SLOW, "cross");
    assert_eq!(r.stats["engine"], "cross");
}

#[test]
fn a_64_bit_memory_port_runs_the_same_networks() {
    // memory.word_bits = 64: eight bytes per word, writes enable their bytes.
    let cfg = HwConfig::from_json(r#"{"preset": "tiny", "memory": {"word_bits": 64}}"#).unwrap();
    let net = net_of([3, 11, 9], vec![conv(3, 5, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [3, 3], "stride": [2, 2]}), conv(5, 3, 1, 1, 0, true)], 17);
    let narrow = run(&net, &Preset::Tiny.config(), Engine::Verilator, MemTiming::default(), "32-bit words");
    for engine in [Engine::Rust, Engine::Verilator] {
        let wide = run(&net, &cfg, engine, SLOW, "64-bit words");
        assert_eq!(wide.stats["mem_word_bits"], 64);
        // One access per run of elements in a word: a 64-bit word covers two 32-bit ones, at
        // least one of them accessed, so the wide port moves at least the narrow port's bytes
        // and at most twice them, in fewer accesses.
        for key in ["mem_read_bytes", "mem_write_bytes"] {
            let (n, w) = (u(&narrow, key), u(&wide, key));
            assert!(n <= w && w <= 2 * n, "{key}: 32-bit {n}, 64-bit {w}");
        }
        assert!(u(&wide, "mem_read_bytes") / 8 < u(&narrow, "mem_read_bytes") / 4, "fewer reads on the wider port");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbenches/networks/lenet5_data.json");
    let lenet = Network::load(&path).unwrap();
    let r = run(&lenet, &cfg, Engine::Verilator, MemTiming { latency: 3, stall_every: 5 }, "LeNet-5, 64-bit words");
    // Packed traffic: tiny's small buffers re-read input rows (band halos, input-channel groups),
    // so LeNet-5 moves 1.32× the packed minimum here (default: 1.18×, checked on accel_axi).
    let moved = u(&r, "mem_read_bytes") + u(&r, "mem_write_bytes");
    assert!(moved * 2 <= u(&r, "mem_min_bytes") * 3, "LeNet-5 moved {moved} bytes, minimum {}", u(&r, "mem_min_bytes"));
}

/// A batch on one loaded program: after the first run, each further input is written into
/// memory and the program started again. A start puts the module registers back to their reset
/// values, which the compiler and the compressor count on (a first write of zeros, `MEM_SHAPE`
/// of a one-chunk transfer for one, is dropped): every output equals the golden network's on
/// its input, in the same number of cycles as the first run.
#[test]
fn a_loaded_program_runs_again_on_each_input_of_a_batch() {
    let cfg = tiny_small_pool();
    let net = net_of([3, 13, 11], vec![conv(3, 4, 3, 1, 1, false), json!({"op": "maxpool2d", "kernel": [2, 2]}), conv(4, 5, 3, 1, 0, true)], 11);
    let mut rng = Rng::new(5);
    let inputs: Vec<accelgen_golden::TensorI8> = (0..3)
        .map(|_| accelgen_golden::Tensor::from_vec(&[3, 13, 11], (0..3 * 13 * 11).map(|_| rng.range(-128, 127) as i8).collect()).unwrap())
        .collect();
    let mut done = vec![];
    let r = accelgen_sim::accel::run_accel_batch(&net, &inputs, &cfg, &opts(Engine::Verilator), MemTiming::default(), &AccelFaults::default(), &mut |n| done.push(n)).unwrap();
    assert_eq!(r.error_code, None);
    assert_eq!(r.output.to_i64(), net.golden().unwrap().to_i64(), "the first run");
    assert_eq!(done, [1, 2, 3, 4]);
    assert_eq!(r.more.len(), 3);
    for (i, (x, m)) in inputs.iter().zip(&r.more).enumerate() {
        let mut n = net.clone();
        n.input = accelgen_formats::TensorField { shape: x.shape.clone(), data: Some(x.data.clone()) };
        assert_eq!(m.error_code, None, "input {i}");
        assert_eq!(m.output.to_i64(), n.golden().unwrap().to_i64(), "input {i} on the loaded program");
        assert_eq!(m.cycles, u(&r, "cycles"), "input {i}: the same program, the same cycles");
    }
    assert_ne!(r.more[0].output, r.output, "different inputs, different outputs");
}

/// Row groups (docs/conv-array.md): a one-channel 7×7 layer on `default` whose PE rows carry its
/// kernel rows (7 passes, as many as its tap rows would take, so the compiler keeps the row
/// groups), in double-buffered bands: each band's input rows are loaded once into every
/// first-cache bank (`MEM_ROWS.bcast`) and PE row r reads r rows further (`PE_SHAPE.kg`); the
/// output equals the golden network's, the layer reads its input about once (not seven times),
/// and the program model predicts its cycles.
#[test]
fn row_groups_load_the_input_once_into_every_bank() {
    // (20 output channels: more than one column group's 16 at K = 4, so no column groups.)
    let net = net_of([1, 40, 300], vec![conv(1, 20, 7, 1, 0, false)], 3);
    let cfg = Preset::Default.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "row groups");
    let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
    assert!(t.plan.row_view && t.plan.row_groups() == 7 && t.double && t.band < t.plan.ho, "{t:?}");
    let bcast = r.compiled.prog.iter().any(|i| i.info().name == "MEM_ROWS" && i.values[3] == 1);
    assert!(bcast, "a broadcast first-cache load");
    // 12,000 input bytes; the bands' 6-row halos are read again (bands of a few rows), the
    // 7-row slices are not (84,000 bytes).
    let read = r.stats["layers"][0]["mem_read_bytes"].as_u64().unwrap();
    assert!(read < 3 * 12_000, "{read} bytes read");
    check_program_model(&r, &cfg, MemTiming::default(), "row groups");
    // The same hardware on rust-hdl and Verilator (tiny: 2 PE rows carry a 2×2 kernel's rows).
    let small = net_of([1, 7, 9], vec![conv(1, 3, 2, 1, 0, false)], 4);
    let cfg = Preset::Tiny.config();
    let v = run(&small, &cfg, Engine::Verilator, MemTiming::default(), "row groups on tiny, Verilator");
    let accelgen_compiler::LayerTiling::Conv(t) = &v.compiled.layout.layers[0] else { panic!() };
    assert_eq!(t.plan.row_groups(), 2, "{t:?}");
    let rust = run(&small, &cfg, Engine::Rust, MemTiming::default(), "row groups on tiny, rust-hdl");
    assert_eq!(rust.stats["cycles"], v.stats["cycles"]);
}

/// Tap rows (docs/conv-array.md): the 3-channel stem on `default` carries its 27 (input channel,
/// tap) pairs on the 8 PE rows in 4 tap groups (`PE_ROWTAP`, `PE_SHAPE.kg` = 1), each row reading
/// every channel of the band (one broadcast load) at its own offset and streaming padding where
/// its own pixel is padding; bit-exact, its input read about once, 4 passes a band instead of 9,
/// and the program model within 2%. On `tiny` (2 rows: a padded, strided 3×3 layer of one channel
/// in 5 groups, and a padded 2×2 one in 2), rust-hdl and Verilator agree on every count.
#[test]
fn tap_rows_carry_channel_tap_pairs_with_their_own_padding() {
    let net = net_of([3, 32, 32], vec![conv(3, 16, 3, 1, 1, false)], 12);
    let cfg = Preset::Default.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "tap rows");
    let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
    assert!(t.plan.taps && t.plan.ic_tiles == 4 && t.plan.passes == 4, "{t:?}");
    let rowtaps = r.compiled.prog.iter().filter(|i| i.info().name == "PE_ROWTAP").count();
    assert!(rowtaps >= 27, "{rowtaps} PE_ROWTAP");
    let read = r.stats["layers"][0]["mem_read_bytes"].as_u64().unwrap();
    assert!(read < 3 * 32 * 32 * 3 / 2 + 432 + 64, "{read} bytes read");
    check_program_model(&r, &cfg, MemTiming::default(), "tap rows");
    let cfg = Preset::Tiny.config();
    for (small, what) in [
        (net_of([1, 9, 11], vec![conv(1, 3, 3, 2, 1, false)], 6), "one channel, stride 2, padding 1"),
        (net_of([1, 8, 7], vec![conv(1, 3, 2, 1, 1, false)], 7), "one channel, 2×2, padding 1"),
    ] {
        let v = run(&small, &cfg, Engine::Verilator, MemTiming::default(), &format!("tap rows on tiny, {what}, Verilator"));
        let accelgen_compiler::LayerTiling::Conv(t) = &v.compiled.layout.layers[0] else { panic!() };
        assert!(t.plan.taps, "{what}: {t:?}");
        let rust = run(&small, &cfg, Engine::Rust, MemTiming::default(), &format!("tap rows on tiny, {what}, rust-hdl"));
        for k in ["cycles", "macs", "mem_read_bytes", "instructions"] {
            assert_eq!(rust.stats[k], v.stats[k], "{what}: {k}");
        }
        check_program_model(&v, &cfg, MemTiming::default(), what);
    }
}

/// Tap rows of (input channel, kernel row) pairs (docs/conv-array.md): LeNet-5's second layer
/// (6 → 16, 5×5 on 14×14; its 150 (channel, tap) pairs would take 19 tap groups, past the table's
/// 8) carries its 30 (channel, kernel row) pairs in 4 tap groups and sweeps the 5 kernel columns
/// in passes: 20 passes a band instead of 25, bit-exact, the program model within 2%. On `tiny` (2
/// rows: 3 channels of a padded 3×3 layer, 9 pairs in 5 groups, 15 passes instead of 18),
/// rust-hdl and Verilator agree on every count.
#[test]
fn tap_rows_of_channel_row_pairs_sweep_the_kernel_columns_in_passes() {
    let net = net_of([6, 14, 14], vec![conv(6, 16, 5, 1, 0, false)], 31);
    let cfg = Preset::Default.config();
    let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), "channel-row pairs");
    let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
    assert!(t.plan.taps && t.plan.pass_cols && t.plan.ic_tiles == 4 && t.plan.passes == 20, "{t:?}");
    check_program_model(&r, &cfg, MemTiming::default(), "channel-row pairs");
    let cfg = Preset::Tiny.config();
    let small = net_of([3, 7, 8], vec![conv(3, 2, 3, 1, 1, false)], 32);
    let v = run(&small, &cfg, Engine::Verilator, MemTiming::default(), "channel-row pairs on tiny, Verilator");
    let accelgen_compiler::LayerTiling::Conv(t) = &v.compiled.layout.layers[0] else { panic!() };
    assert!(t.plan.taps && t.plan.pass_cols, "tiny: {t:?}");
    let rust = run(&small, &cfg, Engine::Rust, MemTiming::default(), "channel-row pairs on tiny, rust-hdl");
    for k in ["cycles", "macs", "mem_read_bytes", "instructions"] {
        assert_eq!(rust.stats[k], v.stats[k], "tiny: {k}");
    }
    check_program_model(&v, &cfg, MemTiming::default(), "channel-row pairs on tiny");
}

/// Column groups (docs/conv-array.md): where a layer's output channels fill a fraction of the
/// C·k kernel slots, the compiler splits the columns into groups that take taps further right
/// (`PE_COLS`): LeNet-5's first layer (6 channels, with tap rows) and a 10-way classifier over a
/// 4×4 map (a plain plan) on `default`, and a two-channel layer on `tiny`. Each run is bit-exact,
/// rust-hdl and Verilator take the same cycles, and the program model predicts them.
#[test]
fn column_groups_take_the_idle_columns_for_taps_further_right() {
    let cfg = Preset::Default.config();
    for (net, what, taps) in [
        (net_of([1, 32, 32], vec![conv(1, 6, 5, 1, 0, false)], 21), "6 channels, 5×5, tap rows", true),
        (net_of([16, 4, 4], vec![conv(16, 10, 4, 1, 0, true)], 22), "a 10-way classifier over 4×4", false),
    ] {
        let r = run(&net, &cfg, Engine::Verilator, MemTiming::default(), what);
        let accelgen_compiler::LayerTiling::Conv(t) = &r.compiled.layout.layers[0] else { panic!() };
        assert!(t.plan.groups > 1 && t.plan.taps == taps, "{what}: {t:?}");
        let cols = r.compiled.prog.iter().filter(|i| i.info().name == "PE_COLS" && i.values[0] > 0).count();
        assert!(cols >= 1, "{what}: a PE_COLS with groups");
        check_program_model(&r, &cfg, MemTiming::default(), what);
    }
    let cfg = Preset::Tiny.config();
    let small = net_of([2, 7, 9], vec![conv(2, 2, 3, 1, 1, false)], 23);
    let v = run(&small, &cfg, Engine::Verilator, MemTiming::default(), "column groups on tiny, Verilator");
    let accelgen_compiler::LayerTiling::Conv(t) = &v.compiled.layout.layers[0] else { panic!() };
    assert!(t.plan.groups == 2, "tiny: {t:?}");
    let rust = run(&small, &cfg, Engine::Rust, MemTiming::default(), "column groups on tiny, rust-hdl");
    for k in ["cycles", "macs", "mem_read_bytes", "instructions"] {
        assert_eq!(rust.stats[k], v.stats[k], "tiny: {k}");
    }
    check_program_model(&v, &cfg, MemTiming::default(), "column groups on tiny");
}

/// A residual graph: a stem, a block whose second conv is summed with the stem's output (the
/// conv output as the add's first operand), a stride-2 block whose 1×1 stride-2 shortcut conv is
/// the first operand (the conv output the second: `ACT_ADD.swap`), a max pool after the add.
fn residual_graph(seed: u64) -> Network {
    let mut rng = Rng::new(seed);
    // Scales are float32 values, written exactly.
    let q = |rng: &mut Rng| json!({"scale": f64::from(0.01 + rng.below(400) as f32 / 10_000.0), "zero_point": rng.range(-20, 20)});
    let mut add = |a: usize, b: usize| {
        let (qa, qb) = (q(&mut rng), q(&mut rng));
        json!({"op": "add", "inputs": [a, b], "a": qa, "b": qb, "scale": f64::from(0.03f32), "zero_point": -60, "relu": true})
    };
    let with_inputs = |mut l: serde_json::Value, i: usize| {
        l["inputs"] = json!([i]);
        l
    };
    let layers = vec![
        conv(3, 8, 3, 1, 1, false),
        conv(8, 8, 3, 1, 1, false),
        conv(8, 8, 3, 1, 1, false),
        add(2, 0),
        conv(8, 12, 3, 2, 1, false),
        with_inputs(conv(8, 12, 1, 2, 0, false), 3),
        with_inputs(conv(12, 12, 3, 1, 1, false), 4),
        add(5, 6),
        json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}),
    ];
    net_of([3, 10, 12], layers, seed)
}

/// Residual adds on accel_top (rust-hdl): each add runs as load-adds into the output buffer of
/// the conv layer before it (the add unit in the data mover, both operand orders), on `tiny`
/// (bands, channel groups) with a slow memory and on `default`; the output equals the golden
/// network, each add reads its other operand once and stores nothing of its own, and on
/// `default` every layer's cycles are the program model's within 2%.
#[test]
fn residual_graphs_run_on_accel_top_with_load_adds() {
    for (n, (preset, mem)) in [(Preset::Tiny, SLOW), (Preset::Default, MemTiming::default())].into_iter().enumerate() {
        let net = residual_graph(40 + n as u64);
        let cfg = preset.config();
        let what = format!("residual graph on {preset:?}");
        let r = run(&net, &cfg, Engine::Rust, mem, &what);
        let adds = r.compiled.prog.iter().filter(|i| i.info().name == "MEM_LOADADD").count();
        assert!(adds >= 2, "{what}: {adds} load-adds");
        if mem == MemTiming::default() {
            // (The program model is fitted to a memory that is always ready.)
            check_program_model(&r, &cfg, mem, &what);
        }
        let layers = r.stats["layers"].as_array().unwrap();
        for (i, elems) in [(3, 8 * 10 * 12), (7, 12 * 5 * 6)] {
            assert_eq!(layers[i]["op"], "add", "{what}");
            // Bytes of the bus words the load-adds read (the shortcut, once), nothing written.
            let read = layers[i]["mem_read_bytes"].as_u64().unwrap();
            assert!(read >= elems && read < elems * 3 / 2 + 64, "{what}: layer {i} read {read} bytes for {elems} elements");
            assert_eq!(layers[i]["mem_write_bytes"], 0, "{what}: layer {i}");
        }
    }
}
