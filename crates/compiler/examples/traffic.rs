//! Bus traffic of a network's program on a preset, from the interpreter (whose count of bus
//! words equals the hardware's: crates/sim/tests/accel.rs), against the packed minimum.
//!
//!     cargo run --release -p accelgen-compiler --example traffic [lenet5|vgg16-block1|resnet8-chain] [PRESET]

use accelgen_compiler::interp::run_compiled;
use accelgen_compiler::testnets::{conv, net_of, with_data};
use accelgen_compiler::{compile_full, memory_image};
use accelgen_config::Preset;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("vgg16-block1", String::as_str);
    let preset = match args.get(2).map(String::as_str) {
        Some("tiny") => Preset::Tiny,
        _ => Preset::Default,
    };
    let net = match which {
        "lenet5" => with_data("lenet5", 5),
        // The bench's ResNet-8 chain (crates/accelgen/src/cmd/bench_accel.rs).
        "resnet8-chain" => {
            let c3 = |i, o, s| conv(i, o, 3, s, 1, false);
            net_of([3, 32, 32], vec![c3(3, 16, 1), c3(16, 16, 1), c3(16, 16, 1), c3(16, 32, 2), c3(32, 32, 1), c3(32, 64, 2), c3(64, 64, 1), conv(64, 10, 8, 1, 0, false)], 1)
        }
        _ => {
            let pool = serde_json::json!({"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]});
            net_of([3, 224, 224], vec![conv(3, 64, 3, 1, 1, false), conv(64, 64, 3, 1, 1, false), pool], 1)
        }
    };
    let cfg = preset.config();
    let c = compile_full(&net, &cfg).unwrap();
    let mem = memory_image(&net, &cfg, &c.layout).unwrap();
    let (out, trace) = run_compiled(&c, &cfg, mem).unwrap();
    let golden = net.golden().unwrap().to_i64().data;
    assert_eq!(out.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(), golden, "the program computes the network");
    for (i, t) in c.layout.layers.iter().enumerate() {
        if let accelgen_compiler::LayerTiling::Conv(t) = t {
            println!(
                "layer {i}: {} output groups of {} tiles, {} input groups of {} tiles, bands of {} rows (of {}), column tiles of {} columns (of {})",
                t.oc_groups(), t.tiles, t.ic_groups(), t.icg, t.band, t.plan.ho, t.cols, t.plan.wo
            );
        }
    }
    let wb = u64::from(cfg.memory.word_bits / 8);
    let (rd, wr) = (trace.mem_read_words * wb, trace.mem_write_words * wb);
    let min = c.layout.min_bytes();
    println!(
        "{which} on {preset:?} ({}-bit bus): {rd} bytes read, {wr} written, {} in all; packed minimum {min}; ratio {:.3}",
        cfg.memory.word_bits,
        rd + wr,
        (rd + wr) as f64 / min as f64
    );
}
