//! The hardware decompressor: compiled networks and seeded random programs round-trip exactly
//! (compressor → register writes → hardware → the uncompressed program's effective writes); one
//! instruction per cycle; malformed streams end in an error flag, never a hang.

use accelgen_config::Preset;
use accelgen_formats::Network;
use accelgen_golden::testutil::Rng;
use accelgen_isa::compress::{compress, drop_duplicates, pack};
use accelgen_isa::{Instr, END, NOP, TABLE};
use accelgen_sim::program::run_program;
use accelgen_sim::RunOptions;

/// Cycles the decompressor may take beyond one per issued instruction: the first fetch, its
/// landing register, the queue register, the decode register, the token and the output register, plus one priming cycle per `REPEAT` at distance 2
/// or more (its history reads are registered before the first copy).
fn allowed_extra(bytes: &[u8]) -> u64 {
    let stream = accelgen_isa::compress::unpack(bytes, 64).unwrap();
    6 + stream.iter().filter(|i| i.code == accelgen_isa::REPEAT && i.values[0] >= 1).count() as u64
}

fn random_program(rng: &mut Rng, n: usize) -> Vec<Instr> {
    let ops: Vec<_> =
        TABLE.iter().filter(|o| o.code != NOP && o.code != END && !accelgen_isa::is_compressed_form(o.code)).collect();
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
        let prog = accelgen_compiler::compile(&n, &cfg).unwrap();
        let (packed, _) = compress(&prog, 64);
        let run = run_program(cfg.isa.buffer_depth as usize, &packed, &RunOptions::default()).unwrap();
        assert!(!run.error && !run.overflow, "{net}");
        assert_eq!(run.writes, drop_duplicates(&prog).0, "{net}: effective register writes");
        // One instruction per cycle, plus the start-up of `allowed_extra`.
        let cycles = run.stats["cycles"].as_u64().unwrap();
        let extra = allowed_extra(&packed);
        assert!(cycles <= run.writes.len() as u64 + extra, "{net}: {cycles} cycles for {} instructions", run.writes.len());
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
    // Illegal opcode 25 after one good instruction.
    let word = (clock.encode() as u64) | (25u64 << clock.len());
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
    // Over capacity: the extra words are refused, the accepted ones are kept intact. 30 POOL_CLOCKs
    // of 16 bits and END pack into 8 words; the 4 accepted hold 16 whole ones (all 256 bits),
    // and the 17th runs out of words.
    let prog: Vec<Instr> = (0..30).map(|d| Instr::new("POOL_CLOCK", &[d + 1]).unwrap()).chain([end]).collect();
    let packed = pack(&prog, 64);
    assert_eq!(packed.len(), 8 * 8);
    let run = run_program(4, &packed, &RunOptions::default()).unwrap();
    assert!(run.overflow && run.error, "overflow, then no END among the 4 accepted words");
    assert_eq!(run.accepted_words, 4);
    assert_eq!(run.writes, prog[..16].to_vec());
    // An instruction continuing into a word that never comes: POOL_SHAPE (60 bits) after a 16-bit
    // POOL_CLOCK ends in the second word; with only the first loaded, nothing but the clock issues.
    let shape = Instr::new("POOL_SHAPE", &[4, 5, 6, 7, 8]).unwrap();
    let two = pack(&[clock.clone(), shape.clone(), Instr::new("END", &[]).unwrap()], 64);
    assert_eq!(two.len(), 16);
    let run = run_program(16, &two[..8], &RunOptions::default()).unwrap();
    assert!(run.error);
    assert_eq!(run.writes, vec![clock.clone()]);
    let run = run_program(16, &two, &RunOptions::default()).unwrap();
    assert!(!run.error);
    assert_eq!(run.writes, vec![clock.clone(), shape, Instr::new("END", &[]).unwrap()], "the shape across the word boundary");
}

/// `NOP`s (eight zero bits, which the packer never writes) between instructions and across a
/// word's end issue nothing: they pass the decode registers and the token register drops them.
#[test]
fn nops_issue_nothing() {
    let nop = Instr::new("NOP", &[]).unwrap();
    let clock = Instr::new("POOL_CLOCK", &[3]).unwrap();
    let shape = Instr::new("POOL_SHAPE", &[4, 5, 6, 7, 8]).unwrap();
    let end = Instr::new("END", &[]).unwrap();
    // 16 + 4·8 bits, then the 60-bit shape across the first word's end.
    let mut prog = vec![clock.clone()];
    prog.extend(std::iter::repeat_n(nop.clone(), 4));
    prog.extend([shape.clone(), nop.clone(), nop, clock.clone(), end.clone()]);
    let run = run_program(16, &pack(&prog, 64), &RunOptions::default()).unwrap();
    assert!(!run.error);
    assert_eq!(run.writes, vec![clock.clone(), shape, clock, end]);
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

/// Loop nests like the compiler's (transfers stepping by per-target strides, sometimes broken;
/// register writes that sometimes change; RUN/SYNC): they compress into `MEM_ADD` and `REPEAT`.
fn loop_program(rng: &mut Rng) -> Vec<Instr> {
    let mut p = vec![];
    for _ in 0..1 + rng.below(3) {
        let body = 1 + rng.below(5) as usize;
        let iters = 1 + rng.below(40);
        let ops: Vec<(u64, u64, u64, u64)> =
            (0..body).map(|_| (rng.below(6), rng.below(5000), rng.below(4096), 1 + rng.below(1000))).collect();
        for it in 0..iters {
            for &(slot, base, stride, words) in &ops {
                let addr = (base + it * stride) & ((1 << 26) - 1);
                let words = if rng.below(30) == 0 { words + 1 } else { words };
                p.push(if slot < 4 {
                    Instr::new("MEM_LOAD", &[slot, addr, words]).unwrap()
                } else {
                    Instr::new("MEM_STORE", &[slot - 4, addr, words]).unwrap()
                });
            }
            if rng.below(4) == 0 {
                p.push(Instr::new("PE_SHAPE", &[1 + rng.below(3), 8, 8, 8, 0]).unwrap());
            }
            p.push(Instr::new("RUN", &[14]).unwrap());
            p.push(Instr::new("SYNC", &[14]).unwrap());
        }
    }
    p.push(Instr::new("END", &[]).unwrap());
    p
}

#[test]
fn loop_programs_with_mem_add_and_repeat_round_trip_at_one_instruction_per_cycle() {
    let mut rng = Rng::from_env("decompressor_loops", 47);
    let (mut adds, mut repeats) = (0, 0);
    for _ in 0..25 {
        let prog = loop_program(&mut rng);
        let (packed, stats) = compress(&prog, 64);
        adds += stats.delta_transfers;
        repeats += stats.repeats;
        let run = run_program(4096, &packed, &RunOptions::default()).unwrap();
        assert!(!run.error);
        assert_eq!(run.writes, drop_duplicates(&prog).0);
        let cycles = run.stats["cycles"].as_u64().unwrap();
        assert!(cycles <= run.writes.len() as u64 + allowed_extra(&packed), "{cycles} cycles for {} instructions", run.writes.len());
    }
    assert!(adds > 20 && repeats > 20, "the programs exercised MEM_ADD ({adds}) and REPEAT ({repeats})");
}

#[test]
fn malformed_compressed_forms_set_the_error_flag_and_long_repeats_run() {
    let run_i = Instr::new("RUN", &[2]).unwrap();
    let end = Instr::new("END", &[]).unwrap();
    let rep = |d, n| Instr::new("REPEAT", &[d, n]).unwrap();
    // A REPEAT before anything was issued reaches before the start.
    let r = run_program(16, &pack(&[rep(0, 3), end.clone()], 64), &RunOptions::default()).unwrap();
    assert!(r.error);
    assert!(r.writes.is_empty());
    // Distance 3 after two instructions.
    let r = run_program(16, &pack(&[run_i.clone(), run_i.clone(), rep(2, 0), end.clone()], 64), &RunOptions::default())
        .unwrap();
    assert!(r.error);
    assert_eq!(r.writes.len(), 2);
    // MEM_ADD with slot 6 or 7.
    for slot in [6, 7] {
        let bad = Instr::new("MEM_ADD", &[slot, 5]).unwrap();
        let r = run_program(16, &pack(&[run_i.clone(), bad, end.clone()], 64), &RunOptions::default()).unwrap();
        assert!(r.error, "slot {slot}");
        assert_eq!(r.writes, vec![run_i.clone()]);
    }
    // The longest REPEAT (4096 copies) at distance 1 (the bypass path); then two loads 30 apart
    // and ten copies at distance 1 continuing the step; then a period-2 loop of a load and a store
    // continued at distance 2; all equal to the software decompressor.
    let ld = Instr::new("MEM_LOAD", &[3, 100, 7]).unwrap();
    let ld2 = Instr::new("MEM_LOAD", &[3, 130, 7]).unwrap();
    let st = |a| Instr::new("MEM_STORE", &[1, a, 9]).unwrap();
    let ld3 = |a| Instr::new("MEM_LOAD", &[2, a, 5]).unwrap();
    let stream =
        vec![run_i.clone(), rep(0, 4095), ld, ld2, rep(0, 9), ld3(1000), st(20), ld3(900), st(25), rep(1, 5), end];
    let bytes = pack(&stream, 64);
    let want = accelgen_isa::compress::decompress(&bytes, 64).unwrap();
    assert_eq!(want.len(), 1 + 4096 + 2 + 10 + 4 + 6 + 1);
    assert_eq!(want[4099].values[1], 160, "the copy of 130 continues the step 30");
    assert_eq!(want[4108].values[1], 430);
    assert_eq!(want[4113..4119].iter().map(|i| i.values[1]).collect::<Vec<_>>(), [800, 30, 700, 35, 600, 40]);
    let r = run_program(16, &bytes, &RunOptions::default()).unwrap();
    assert!(!r.error);
    assert_eq!(r.writes, want);
    assert!(r.stats["cycles"].as_u64().unwrap() <= want.len() as u64 + allowed_extra(&bytes));
}

/// Transfers on one slot back to back with irregular steps: every one after the first becomes a
/// `MEM_ADD` on the transfer issued the cycle before, whose slot update is still pending (the
/// slot registers take an issued transfer a cycle later; the expansion takes it from there).
#[test]
fn mem_add_right_after_a_transfer_on_its_slot_uses_that_transfer() {
    let mut p = vec![];
    let mut addr = 1000u64;
    for (i, step) in [3u64, 7, 2, 11, 5, 13, 1, 17, 4].iter().enumerate() {
        addr += step;
        p.push(Instr::new("MEM_LOAD", &[1, addr, 7]).unwrap());
        if i % 3 == 2 {
            p.push(Instr::new("MEM_STORE", &[1, addr * 2, 9]).unwrap());
            p.push(Instr::new("MEM_STORE", &[1, addr * 2 + 5, 9]).unwrap());
        }
    }
    p.push(Instr::new("END", &[]).unwrap());
    let (packed, stats) = compress(&p, 64);
    assert!(stats.delta_transfers >= 8, "the compressor made MEM_ADDs: {}", stats.delta_transfers);
    let run = run_program(4096, &packed, &RunOptions::default()).unwrap();
    assert!(!run.error);
    assert_eq!(run.writes, drop_duplicates(&p).0);
}

/// Back-pressure: the consumer refuses the write port in random cycles (runs of up to three);
/// the decoding pipeline, the registered history reads of a priming `REPEAT` and the pending
/// slot update all hold, and the writes are the same as without it.
#[test]
fn random_back_pressure_changes_no_write() {
    let mut rng = Rng::from_env("decompressor_hold", 53);
    let mut programs: Vec<Vec<Instr>> = (0..12).map(|_| loop_program(&mut rng)).collect();
    let path = format!("{}/../../testbenches/networks/lenet5.json", env!("CARGO_MANIFEST_DIR"));
    let n = Network::load(std::path::Path::new(&path)).unwrap();
    programs.push(accelgen_compiler::compile(&n, &Preset::Default.config()).unwrap());
    let mut held_total = 0;
    for prog in &programs {
        let (packed, _) = compress(prog, 64);
        let free = run_program(4096, &packed, &RunOptions::default()).unwrap();
        let mut run_left = 0u64;
        let mut held = 0;
        let run = accelgen_sim::program::run_program_held(4096, &packed, &RunOptions::default(), |_| {
            if run_left == 0 && rng.below(3) == 0 {
                run_left = 1 + rng.below(3);
            }
            let h = run_left > 0;
            run_left = run_left.saturating_sub(1);
            held += h as u64;
            h
        })
        .unwrap();
        assert!(!run.error);
        assert_eq!(run.writes, free.writes);
        assert_eq!(run.writes, drop_duplicates(prog).0);
        held_total += held;
    }
    assert!(held_total > 1000, "the consumer held the port ({held_total} cycles)");
}
