//! Compiles a network file for a preset and runs the program on the instruction interpreter,
//! comparing the output with the golden model: `interp_net NET.json [PRESET]`.

use accelgen_compiler::interp::run_compiled;
use accelgen_compiler::{compile_full, memory_image};
use accelgen_config::Preset;
use accelgen_formats::Network;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let net = Network::load(std::path::Path::new(&args[1])).unwrap_or_else(|e| panic!("{e}"));
    let preset = args.get(2).map_or("default", String::as_str);
    let cfg = Preset::from_name(preset).unwrap_or_else(|e| panic!("{e}")).config();
    let c = compile_full(&net, &cfg).unwrap_or_else(|e| panic!("{e}"));
    let mem = memory_image(&net, &cfg, &c.layout).unwrap();
    let (out, trace) = run_compiled(&c, &cfg, mem).unwrap_or_else(|e| panic!("{e}"));
    let golden = net.golden().unwrap().to_i64();
    let got: Vec<i64> = out.iter().map(|&v| i64::from(v)).collect();
    let equal = got.iter().zip(&golden.data).filter(|(a, b)| a == b).count();
    println!("{} instructions; {equal} of {} outputs equal the golden model; {trace:?}", c.prog.len(), golden.data.len());
}
