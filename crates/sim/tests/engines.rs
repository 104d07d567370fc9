//! Engine equivalence. The testbench drives rust-hdl and the in-process Verilator model directly
//! (and both in lock-step with `cross`): identical outputs, cycle counts and invariant counters
//! on seeded random conv and pooling cases and on every committed vector. Icarus and the
//! standalone Verilator harness replay rust-hdl's recorded stimulus and must give the same
//! outputs on every clock period.

use accelgen_config::Preset;
use accelgen_formats::{Case, ConvLayer, Layer, PoolLayer, TensorField};
use accelgen_golden::{ConvParams, PoolMode, PoolParams, Requant, Tensor, TensorI8};
use accelgen_golden::testutil::Rng;
use accelgen_sim::engines::Engine;
use accelgen_sim::{run_case, RunOptions};
use std::path::PathBuf;

fn tensor(rng: &mut Rng, shape: &[usize]) -> TensorI8 {
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.range(-128, 127) as i8).collect()).unwrap()
}

fn random_cases(rng: &mut Rng) -> Vec<Case> {
    let mut cases = vec![];
    for i in 0..4 {
        let (cin, cout, k) = (rng.range(1, 4) as usize, rng.range(1, 6) as usize, rng.range(1, 3) as usize);
        let (h, w) = (rng.range(k as i64, 6) as usize, rng.range(k as i64, 6) as usize);
        let wt = tensor(rng, &[cout, cin, k, k]);
        let layer = ConvLayer {
            weight: TensorField { shape: wt.shape.clone(), data: Some(wt.data) },
            bias: (i % 2 == 0).then(|| TensorField {
                shape: vec![cout],
                data: Some((0..cout).map(|_| rng.range(-5000, 5000) as i32).collect()),
            }),
            // Case 3: an imported model's arithmetic (ONNX Runtime's requantization, padding
            // with a zero point).
            params: ConvParams { stride: [1, rng.range(1, 2) as usize], padding: [(k / 2), 0], padding_end: None, pad_value: if i == 3 { -77 } else { 0 } },
            requant: (i % 2 == 1).then(|| Requant {
                multiplier: rng.range(100, 30000) as i32,
                shift: rng.range(10, 18) as u32,
                zero_point: rng.range(-20, 20) as i32,
                relu: i == 3,
                ort: (i == 3).then(|| accelgen_golden::OrtScale::of(0.002_913_4).unwrap()),
            }),
            channel_scales: None,
        };
        cases.push(Case { input: tensor(rng, &[cin, h, w]), layer: Layer::Conv(layer), expected: None });
    }
    for i in 0..4 {
        let k = rng.range(2, 3) as usize;
        let s = rng.range(1, k as i64) as usize;
        let layer = PoolLayer {
            mode: if i % 2 == 0 { PoolMode::Max } else { PoolMode::Avg },
            params: PoolParams::new([k, k], [s, s], [i % 2, i % 2]),
        };
        let (h, w) = (rng.range(k as i64, 7) as usize, rng.range(k as i64, 9) as usize);
        cases.push(Case { input: tensor(rng, &[2, h, w]), layer: Layer::Pool(layer), expected: None });
    }
    cases
}

/// Stats that must be identical on every engine: everything but the engine's name and the
/// replay engines' own keys.
fn engine_independent(stats: &serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
    stats.iter().filter(|(k, _)| !k.starts_with("engine")).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn work() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engines")
}

/// Runs `case` on rust, verilator and `more`; every run must match `want` and give rust's
/// cycle counts and invariant counters.
fn agree(case: &Case, cfg: &accelgen_config::HwConfig, divider: Option<u32>, want: &accelgen_golden::Tensor<i64>, what: &str, more: &[Engine]) {
    let opts = |engine| RunOptions { engine, work_dir: Some(work()), divider, ..Default::default() };
    let base = run_case(case, cfg, &opts(Engine::Rust)).unwrap_or_else(|e| panic!("{what} on rust: {e}"));
    assert_eq!(&base.output.to_i64(), want, "{what} on rust");
    assert!(base.stats["cycles"].as_u64().unwrap() > 0);
    for &engine in [Engine::Verilator].iter().chain(more) {
        let run = run_case(case, cfg, &opts(engine)).unwrap_or_else(|e| panic!("{what} on {}: {e}", engine.name()));
        assert_eq!(&run.output.to_i64(), want, "{what} on {}", engine.name());
        assert_eq!(run.stats["engine"], engine.name());
        assert_eq!(engine_independent(&run.stats), engine_independent(&base.stats), "{what}: stats on {}", engine.name());
        assert_eq!(run.violations, base.violations);
    }
}

#[test]
fn rust_hdl_verilator_cross_and_icarus_agree_on_random_cases() {
    let cfg = Preset::Tiny.config();
    let mut rng = Rng::from_env("engines", 31);
    for (n, case) in random_cases(&mut rng).iter().enumerate() {
        let golden = case.golden().unwrap().to_i64();
        let divider = matches!(case.layer, Layer::Pool(_)).then_some(2);
        agree(case, &cfg, divider, &golden, &format!("case {n} ({})", case.layer.op()), &[Engine::Cross, Engine::Icarus]);
    }
}

#[test]
fn an_unknown_engine_name_is_refused_with_the_known_ones() {
    assert_eq!(
        Engine::from_name("modelsim").unwrap_err(),
        "unknown engine \"modelsim\": known engines are rust, verilator, cross, icarus, verilator-standalone"
    );
}

#[test]
fn every_committed_vector_gives_identical_results_cycles_and_counters_on_rust_and_verilator() {
    let cfg = Preset::Tiny.config();
    let files = accelgen_formats::vector_files();
    assert!(files.len() >= 20);
    for (i, f) in files.iter().enumerate() {
        let case = Case::load(f).unwrap();
        // Icarus replays every fourth vector (it is 2,000x slower than Verilator).
        let more: &[Engine] = if i % 4 == 0 { &[Engine::Icarus] } else { &[] };
        agree(&case, &cfg, None, case.expected.as_ref().unwrap(), &f.display().to_string(), more);
    }
}

/// The lock-step comparison can fail: two decompressors that differ only in buffer depth agree
/// until the smaller one overflows, and the first differing period and signal are named.
#[test]
fn lockstep_reports_the_first_period_where_two_models_differ() {
    use accelgen_hw::isa::InstrDecompressor;
    let mut tb = accelgen_sim::tb::Tb::lockstep_rust(|| InstrDecompressor::new(4), || InstrDecompressor::new(8)).unwrap();
    let (we, wdata) = (tb.sig("reg_we").unwrap(), tb.sig("reg_wdata").unwrap());
    tb.poke(we, 1);
    let mut err = None;
    for v in 0..6u64 {
        tb.poke(wdata, v);
        if let Err(e) = tb.step() {
            err = Some(e);
            break;
        }
    }
    assert_eq!(err.unwrap(), "clock period 4: model b differs from model a: count = 0x5, model a 0x4");
}

#[test]
fn the_decompressor_runs_identically_on_every_engine() {
    use accelgen_isa::compress::{compress, drop_duplicates};
    use accelgen_isa::Instr;
    let work = work();
    let mut prog: Vec<Instr> = [
        Instr::new("PE_SHAPE", &[3, 8, 8, 8, 0]).unwrap(),
        Instr::new("MEM_LOAD", &[1, 4096, 300]).unwrap(),
        Instr::new("POOL_CLOCK", &[4]).unwrap(),
        Instr::new("POOL_CLOCK", &[4]).unwrap(),
        Instr::new("RUN", &[2]).unwrap(),
        Instr::new("SYNC", &[2]).unwrap(),
    ]
    .to_vec();
    // A tiled loop: MEM_ADD and REPEAT (distance > 1, address continuation) in the Verilog too.
    for i in 0..40u64 {
        prog.push(Instr::new("MEM_LOAD", &[0, 1000 + 96 * i, 480]).unwrap());
        prog.push(Instr::new("MEM_STORE", &[0, 70000 + 32 * i, 128]).unwrap());
        prog.push(Instr::new("RUN", &[14]).unwrap());
    }
    prog.push(Instr::new("END", &[]).unwrap());
    let (packed, stats) = compress(&prog, 64);
    assert!(stats.repeats > 0 && stats.delta_transfers > 0);
    for engine in [Engine::Verilator, Engine::Cross, Engine::Icarus, Engine::VerilatorStandalone] {
        let opts = RunOptions { engine, work_dir: Some(work.clone()), ..Default::default() };
        let run = accelgen_sim::program::run_program(64, &packed, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
        assert_eq!(run.writes, drop_duplicates(&prog).0);
    }
}

/// The comparison can fail: a trace whose recorded output is altered in one period is rejected by
/// every engine, naming the period and the port.
#[test]
fn a_changed_output_in_one_period_is_reported_by_every_engine() {
    use accelgen_hw::isa::InstrDecompressor;
    use accelgen_hw::sim::Harness;
    let work = work();
    let mut h = Harness::new(InstrDecompressor::new(16)).unwrap();
    h.record_trace();
    for v in [0x1234u64, 0x5678, 0x9abc] {
        h.uut.reg_we.next = true;
        h.uut.reg_addr.next = 0.into();
        h.uut.reg_wdata.next = v.into();
        h.step().unwrap();
    }
    h.uut.reg_we.next = false;
    h.step().unwrap();
    let mut trace = h.take_trace().unwrap();
    let design = accelgen_hw::emit::verilog_of_block(&mut InstrDecompressor::new(16), "instr_decompressor", "");
    let count = trace.ports.iter().filter(|p| !p.input).position(|p| p.name == "count").unwrap();
    assert_eq!(trace.outputs[2][count], "0003");
    for engine in [Engine::Icarus, Engine::Verilator, Engine::VerilatorStandalone] {
        accelgen_sim::engines::replay(engine, "instr_decompressor", &design, &trace, &work)
            .unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
    }
    trace.outputs[2][count] = "0004".into();
    for engine in [Engine::Icarus, Engine::Verilator, Engine::VerilatorStandalone] {
        let err = accelgen_sim::engines::replay(engine, "instr_decompressor", &design, &trace, &work).unwrap_err();
        assert_eq!(
            err,
            format!("{} differs from rust-hdl at clock period 2: count = 0003, rust-hdl 0004", engine.name())
        );
    }
}

/// A layer far too long for rust-hdl in the test suite (about 900,000 clock periods, two minutes
/// there) runs on Verilator alone in seconds and matches the golden model, with every invariant
/// counter at zero.
#[test]
fn a_layer_of_nearly_a_million_clock_periods_runs_on_verilator_alone_and_matches_golden() {
    let cfg = Preset::Default.config();
    let mut rng = Rng::from_env("million", 7);
    let (cin, cout, h, w) = (64, 96, 28, 28);
    let wt = tensor(&mut rng, &[cout, cin, 3, 3]);
    let layer = ConvLayer {
        weight: TensorField { shape: wt.shape.clone(), data: Some(wt.data) },
        bias: Some(TensorField { shape: vec![cout], data: Some((0..cout).map(|_| rng.range(-9000, 9000) as i32).collect()) }),
        params: ConvParams { stride: [1, 1], padding: [1, 1], padding_end: None, pad_value: 0 },
        requant: None,
        channel_scales: None,
    };
    let case = Case { input: tensor(&mut rng, &[cin, h, w]), layer: Layer::Conv(layer), expected: None };
    let opts = RunOptions { engine: Engine::Verilator, work_dir: Some(work()), ..Default::default() };
    let run = run_case(&case, &cfg, &opts).unwrap();
    assert_eq!(run.output.to_i64(), case.golden().unwrap().to_i64());
    assert!(run.stats["sim_periods"].as_u64().unwrap() > 800_000, "{:?}", run.stats["sim_periods"]);
    assert_eq!(run.violations, 0);
    assert!(run.stats["first_cache_reads"].as_u64().unwrap() > 0);
}
