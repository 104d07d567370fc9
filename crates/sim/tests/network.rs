//! Whole networks on the block engines (host-sequenced): LeNet-5 with seeded data on the default
//! preset (Verilator), seeded random small networks on the tiny preset (rust-hdl and Verilator):
//! every layer and the network's output equal the golden model, no invariant violated, and the
//! pooling layers run at the planner's dividers.


use accelgen_config::Preset;
use accelgen_compiler::testnets::{fill, random_network};
use accelgen_formats::Network;
use accelgen_golden::testutil::Rng;
use accelgen_sim::engines::Engine;
use accelgen_sim::network::run_network;
use accelgen_compiler::planner::plan_clock;
use accelgen_sim::RunOptions;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn opts(engine: Engine) -> RunOptions {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("network");
    RunOptions { engine, work_dir: Some(work), ..Default::default() }
}

fn check(net: &Network, preset: Preset, engine: Engine, what: &str) {
    let cfg = preset.config();
    let golden = net.golden().unwrap().to_i64();
    let run = run_network(net, &cfg, &opts(engine)).unwrap_or_else(|e| panic!("{what} on {}: {e}", engine.name()));
    assert_eq!(run.output.to_i64(), golden, "{what} on {}", engine.name());
    assert_eq!(run.violations, 0, "{what}");
    assert!(run.layers.iter().all(|l| l.matches_golden), "{what}");
    // Pooling layers ran at the planner's divider.
    let plan = plan_clock(net, &cfg).unwrap();
    for row in plan {
        assert_eq!(run.layers[row.layer].stats["pool_divider"], row.divider, "{what}: layer {}", row.layer);
        assert_eq!(run.layers[row.layer].stats["divider"], row.divider, "{what}: the unit's divider");
    }
    assert_eq!(run.stats["layers"].as_array().unwrap().len(), net.layers.len());
    assert!(run.stats["cycles"].as_u64().unwrap() > run.stats["compute_cycles"].as_u64().unwrap());
}

#[test]
fn lenet5_with_data_runs_bit_exact_on_the_default_preset() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbenches/networks/lenet5.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut rng = Rng::from_env("lenet5-data", 5);
    fill(&mut doc, &mut rng, "");
    let net = Network::from_value(&doc, Path::new(".")).unwrap();
    check(&net, Preset::Default, Engine::Verilator, "LeNet-5");
}

#[test]
fn random_small_networks_run_bit_exact_on_rust_hdl_and_verilator() {
    let mut rng = Rng::from_env("networks", 23);
    let mut ran = 0;
    while ran < 6 {
        // Chains of conv and pool layers of up to 5 channels on maps of up to 9 (tiny preset).
        let mut doc = random_network(&mut rng, 5, 9);
        fill(&mut doc, &mut rng, "");
        let Ok(net) = Network::from_value(&doc, Path::new(".")) else { continue };
        let engine = if ran % 2 == 0 { Engine::Rust } else { Engine::Verilator };
        check(&net, Preset::Tiny, engine, &format!("network {ran}: {doc:.200}"));
        ran += 1;
    }
}

#[test]
fn a_layer_that_does_not_fit_its_block_is_refused_naming_the_layer() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testbenches/networks/lenet5.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fill(&mut doc, &mut Rng::new(1), "");
    let net = Network::from_value(&doc, Path::new(".")).unwrap();
    let err = run_network(&net, &Preset::Tiny.config(), &opts(Engine::Rust)).unwrap_err().to_string();
    assert!(err.starts_with("layers[0] (conv2d): this layer needs"), "{err}");
    assert!(err.contains("in the configuration"), "{err}");
}
