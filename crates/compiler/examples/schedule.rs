//! The program model's dispatch schedule of a network's compiled program: per kept instruction,
//! its layer, the period it is dispatched and its fields (a model: crate::net_model).
//!
//!     cargo run --release -p accelgen-compiler --example schedule [lenet5|stem|resnet8-chain|fc-stack|NETWORK.json] [FIRST_LAYER] [LAST_LAYER] [PRESET]

use accelgen_compiler::net_model::program_cycles;
use accelgen_compiler::testnets::{conv, net_of, with_data};
use accelgen_compiler::compile_full;
use accelgen_config::Preset;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("lenet5", String::as_str);
    let lo: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let hi: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
    let net = match which {
        "stem" => net_of([3, 32, 32], vec![conv(3, 16, 3, 1, 1, false)], 1),
        "resnet8-chain" => {
            let c3 = |i, o, s| conv(i, o, 3, s, 1, false);
            net_of([3, 32, 32], vec![c3(3, 16, 1), c3(16, 16, 1), c3(16, 16, 1), c3(16, 32, 2), c3(32, 32, 1), c3(32, 64, 2), c3(64, 64, 1), conv(64, 10, 8, 1, 0, false)], 1)
        }
        "fc-stack" => net_of([640, 1, 1], vec![conv(640, 128, 1, 1, 0, false), conv(128, 128, 1, 1, 0, false), conv(128, 128, 1, 1, 0, false), conv(128, 8, 1, 1, 0, false)], 1),
        "lenet5" => with_data("lenet5", 5),
        path => accelgen_formats::Network::load(std::path::Path::new(path)).unwrap(),
    };
    let cfg = Preset::from_name(args.get(4).map_or("default", String::as_str)).unwrap().config();
    let c = compile_full(&net, &cfg).unwrap();
    let m = program_cycles(&c, &cfg, 1).unwrap();
    let kept = accelgen_isa::compress::kept_indices(&c.prog);
    for (n, &idx) in kept.iter().enumerate() {
        let l = c.layer_of[idx];
        if l < lo || l > hi {
            continue;
        }
        let i = &c.prog[idx];
        let next = m.dispatched.get(n + 1).copied().unwrap_or(m.cycles);
        println!("{:>7} +{:<5} L{l} {:<12} {:?}", m.dispatched[n], next - m.dispatched[n], i.info().name, i.values);
    }
    println!("cycles {} per layer {:?}", m.cycles, m.layer_cycles);
}
