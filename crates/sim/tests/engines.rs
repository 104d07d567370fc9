//! Three-way equivalence: seeded random conv and pooling cases run in rust-hdl, and the same
//! stimulus replayed on the emitted Verilog in Icarus and in Verilator must give the same outputs
//! on every clock period (hence the same results and cycle counts).

use accelgen_config::Preset;
use accelgen_formats::{Case, ConvLayer, Layer, PoolLayer, TensorField};
use accelgen_golden::{ConvParams, PoolMode, PoolParams, Requant, Tensor, TensorI8};
use accelgen_hw::testutil::Rng;
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
            params: ConvParams { stride: [1, rng.range(1, 2) as usize], padding: [(k / 2), 0] },
            requant: (i % 2 == 1).then(|| Requant {
                multiplier: rng.range(100, 30000) as i32,
                shift: rng.range(10, 18) as u32,
                zero_point: rng.range(-20, 20) as i32,
                relu: i == 3,
            }),
        };
        cases.push(Case { input: tensor(rng, &[cin, h, w]), layer: Layer::Conv(layer), expected: None });
    }
    for i in 0..4 {
        let k = rng.range(2, 3) as usize;
        let s = rng.range(1, k as i64) as usize;
        let layer = PoolLayer {
            mode: if i % 2 == 0 { PoolMode::Max } else { PoolMode::Avg },
            params: PoolParams { kernel: [k, k], stride: [s, s], padding: [i % 2, i % 2] },
        };
        let (h, w) = (rng.range(k as i64, 7) as usize, rng.range(k as i64, 9) as usize);
        cases.push(Case { input: tensor(rng, &[2, h, w]), layer: Layer::Pool(layer), expected: None });
    }
    cases
}

#[test]
fn rust_hdl_icarus_and_verilator_agree_on_every_clock_period() {
    let cfg = Preset::Tiny.config();
    let mut rng = Rng::from_env("engines", 31);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engines");
    for (n, case) in random_cases(&mut rng).iter().enumerate() {
        let golden = case.golden().unwrap().to_i64();
        let base = run_case(case, &cfg, &RunOptions::default()).unwrap();
        assert_eq!(base.output.to_i64(), golden, "case {n}");
        for engine in [Engine::Icarus, Engine::Verilator] {
            let opts = RunOptions {
                engine,
                work_dir: Some(work.clone()),
                divider: matches!(case.layer, Layer::Pool(_)).then_some(2),
                ..Default::default()
            };
            let run = run_case(case, &cfg, &opts)
                .unwrap_or_else(|e| panic!("case {n} ({}) on {}: {e}", case.layer.op(), engine.name()));
            assert_eq!(run.output.to_i64(), golden, "case {n} on {}", engine.name());
            assert_eq!(run.stats["engine"], engine.name());
            assert!(run.stats["engine_periods"].as_u64().unwrap() > 0);
        }
    }
}

#[test]
fn an_unknown_engine_name_is_refused_with_the_known_ones() {
    assert_eq!(
        Engine::from_name("modelsim").unwrap_err(),
        "unknown engine \"modelsim\": known engines are rust, icarus, verilator, verilator-standalone"
    );
}

#[test]
fn every_committed_vector_gives_identical_outputs_on_icarus_and_verilator() {
    let cfg = Preset::Tiny.config();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engines");
    let files = accelgen_formats::vector_files();
    assert!(files.len() >= 20);
    for f in files {
        let case = Case::load(&f).unwrap();
        for engine in [Engine::Icarus, Engine::Verilator] {
            let opts = RunOptions { engine, work_dir: Some(work.clone()), ..Default::default() };
            let run = run_case(&case, &cfg, &opts)
                .unwrap_or_else(|e| panic!("{} on {}: {e}", f.display(), engine.name()));
            assert_eq!(&run.output.to_i64(), case.expected.as_ref().unwrap(), "{}", f.display());
        }
    }
}

#[test]
fn the_decompressor_replays_identically_on_icarus_and_verilator() {
    use accelgen_isa::compress::{compress, drop_duplicates};
    use accelgen_isa::Instr;
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engines");
    let mut prog: Vec<Instr> = [
        Instr::new("PE_SHAPE", &[3, 8, 8]).unwrap(),
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
    for engine in [Engine::Icarus, Engine::Verilator, Engine::VerilatorStandalone] {
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
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engines");
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
