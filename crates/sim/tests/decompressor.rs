//! The hardware decompressor: compiled networks and seeded random programs round-trip exactly
//! (compressor → register writes → hardware → the uncompressed program's effective writes); one
//! instruction per cycle; malformed streams end in an error flag, never a hang.

use accelgen_config::Preset;
use accelgen_formats::Network;
use accelgen_hw::testutil::Rng;
use accelgen_isa::compress::{compress, drop_duplicates, pack};
use accelgen_isa::{Instr, END, NOP, TABLE};
use accelgen_sim::program::run_program;
use accelgen_sim::RunOptions;

fn random_program(rng: &mut Rng, n: usize) -> Vec<Instr> {
    let ops: Vec<_> = TABLE.iter().filter(|o| o.code != NOP && o.code != END).collect();
    let mut p: Vec<Instr> = (0..n)
        .map(|_| {
            let o = ops[rng.below(ops.len() as u64) as usize];
            let v: Vec<u64> = o
                .fields
                .iter()
                .map(|f| if rng.below(2) == 0 { rng.below(3) } else { rng.next() } & ((1 << f.bits) - 1))
                .collect();
            Instr::new(o.name, &v).unwrap()
        })
        .collect();
    p.push(Instr::new("END", &[]).unwrap());
    p
}

#[test]
fn compiled_networks_round_trip_through_the_hardware_decompressor() {
    let cfg = Preset::Default.config();
    for net in ["lenet5", "alexnet", "vgg16"] {
        let path = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
        let n = Network::load(std::path::Path::new(&path)).unwrap();
        let prog = accelgen_sim::compiler::compile(&n, &cfg).unwrap();
        let (packed, _) = compress(&prog, 64);
        let run = run_program(cfg.isa.buffer_depth as usize, &packed, &RunOptions::default()).unwrap();
        assert!(!run.error && !run.overflow, "{net}");
        assert_eq!(run.writes, drop_duplicates(&prog).0, "{net}: effective register writes");
        // One instruction per cycle, plus the first fetch and the output register.
        let cycles = run.stats["cycles"].as_u64().unwrap();
        assert!(cycles <= run.writes.len() as u64 + 3, "{net}: {cycles} cycles for {} instructions", run.writes.len());
    }
}

#[test]
fn random_programs_round_trip_for_many_seeds() {
    let mut rng = Rng::from_env("decompressor", 41);
    for _ in 0..60 {
        let n = rng.below(40) as usize;
        let prog = random_program(&mut rng, n);
        let (packed, _) = compress(&prog, 64);
        let run = run_program(4096, &packed, &RunOptions::default()).unwrap();
        assert!(!run.error);
        assert_eq!(run.writes, drop_duplicates(&prog).0);
    }
}

#[test]
fn malformed_streams_set_the_error_flag_and_stop() {
    let end = Instr::new("END", &[]).unwrap();
    let clock = Instr::new("POOL_CLOCK", &[3]).unwrap();
    // Illegal opcode 20 after one good instruction.
    let word = (clock.encode() as u64) | (20u64 << clock.len());
    let bytes_illegal = word.to_le_bytes().to_vec();
    let run = run_program(16, &bytes_illegal, &RunOptions::default()).unwrap();
    assert!(run.error);
    assert_eq!(run.writes, vec![clock.clone()], "the good instruction before the illegal one");
    // No END: the decoder runs out of words.
    let run = run_program(16, &pack(&[clock.clone()], 64), &RunOptions::default()).unwrap();
    assert!(run.error);
    assert_eq!(run.writes, vec![clock.clone()]);
    // Empty buffer.
    assert!(run_program(16, &[], &RunOptions::default()).unwrap().error);
    // Over capacity: the extra word is refused, the accepted ones are kept intact.
    let prog: Vec<Instr> = (0..6).map(|d| Instr::new("POOL_CLOCK", &[d + 1]).unwrap()).chain([end]).collect();
    let one_each = accelgen_isa::compress::one_per_word(&prog, 64);
    let run = run_program(4, &one_each, &RunOptions::default()).unwrap();
    assert!(run.overflow && run.error, "overflow, then no END among the 4 accepted words");
    assert_eq!(run.accepted_words, 4);
    assert_eq!(run.writes, prog[..4].to_vec());
}

#[test]
fn random_bit_flips_never_hang_the_decoder() {
    let mut rng = Rng::from_env("decompressor_flips", 43);
    for _ in 0..60 {
        let n = 1 + rng.below(20) as usize;
        let prog = random_program(&mut rng, n);
        let mut bytes = compress(&prog, 64).0;
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len() as u64 * 8) as usize;
            bytes[at / 8] ^= 1 << (at % 8);
        }
        // Either a clean stop or the error flag, always within the cycle bound (run_program fails
        // the test with a simulation error if the decoder did not stop).
        let run = run_program(4096, &bytes, &RunOptions::default()).unwrap();
        if !run.error {
            assert_eq!(run.writes.last().map(|i| i.code), Some(END));
        }
    }
}
