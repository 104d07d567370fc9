//! Instruction compression (patents.md §3) and its software decompressor.
//!
//! 1. **Drop duplicates**: an instruction that would rewrite its module-register fields with the
//!    values they already hold is dropped (always safe). Registers reset to zero, so a first write
//!    of all zeros is a duplicate too. Control instructions (`RUN`, `SYNC`, `END`) and memory
//!    transfers (`MEM_LOAD`, `MEM_STORE`: writing the memory-access register starts a transfer, so
//!    a repeated one is a second transfer, not a no-op) are never dropped.
//! 2. **Pack**: instructions are placed whole, in order, into W-bit words, LSB first; an
//!    instruction that does not fit the rest of a word starts the next one. The unused tail of a
//!    word is zero, which decodes as `NOP` ("the rest of this word is empty").
//!
//! [`unpack`] reverses 2 exactly and reports malformed streams (illegal opcode, an instruction
//! running past its word, a missing `END`) as errors; it never panics and its work is bounded by
//! the input length.

use crate::{Instr, Module, END, NOP, OPCODE_BITS};
use std::collections::HashMap;

/// Drops every instruction that would rewrite its register fields with the values they hold.
/// Returns the kept instructions and the number dropped.
pub fn drop_duplicates(prog: &[Instr]) -> (Vec<Instr>, usize) {
    let mut held: HashMap<u8, Vec<u64>> = HashMap::new();
    let mut out = Vec::with_capacity(prog.len());
    for i in prog {
        if matches!(i.info().module, Module::Ctrl | Module::Mem) {
            out.push(i.clone());
            continue;
        }
        let zeros = vec![0; i.values.len()];
        let current = held.get(&i.code).unwrap_or(&zeros);
        if *current == i.values {
            continue;
        }
        held.insert(i.code, i.values.clone());
        out.push(i.clone());
    }
    let dropped = prog.len() - out.len();
    (out, dropped)
}

/// A little-endian bit writer into W-bit words.
struct Words {
    word_bytes: usize,
    bytes: Vec<u8>,
    used: u32,
}

impl Words {
    fn new(word_bits: u32) -> Words {
        Words { word_bytes: (word_bits / 8) as usize, bytes: vec![], used: word_bits }
    }

    fn word_bits(&self) -> u32 {
        self.word_bytes as u32 * 8
    }

    fn start_word(&mut self) {
        self.bytes.extend(std::iter::repeat_n(0, self.word_bytes));
        self.used = 0;
    }

    fn put(&mut self, bits: u128, len: u32) {
        if self.used + len > self.word_bits() {
            self.start_word();
        }
        let base = (self.bytes.len() - self.word_bytes) * 8 + self.used as usize;
        for b in 0..len as usize {
            if bits >> b & 1 == 1 {
                let at = base + b;
                self.bytes[at / 8] |= 1 << (at % 8);
            }
        }
        self.used += len;
    }
}

/// Each instruction in its own W-bit word: the uncompressed form (`program.bin`).
pub fn one_per_word(prog: &[Instr], word_bits: u32) -> Vec<u8> {
    let mut w = Words::new(word_bits);
    for i in prog {
        w.start_word();
        w.put(i.encode(), i.len());
    }
    w.bytes
}

/// Packs instructions whole into W-bit words (`program.cbin`).
pub fn pack(prog: &[Instr], word_bits: u32) -> Vec<u8> {
    let mut w = Words::new(word_bits);
    for i in prog {
        w.put(i.encode(), i.len());
    }
    w.bytes
}

fn bits_at(bytes: &[u8], at: usize, len: u32) -> u128 {
    let mut v = 0u128;
    for b in 0..len as usize {
        let p = at + b;
        if bytes[p / 8] >> (p % 8) & 1 == 1 {
            v |= 1 << b;
        }
    }
    v
}

/// Unpacks W-bit words into instructions up to and including `END`.
pub fn unpack(bytes: &[u8], word_bits: u32) -> Result<Vec<Instr>, String> {
    if word_bits == 0 || word_bits % 8 != 0 {
        return Err(format!("word width {word_bits} is not a positive multiple of 8"));
    }
    let wb = (word_bits / 8) as usize;
    if bytes.len() % wb != 0 {
        return Err(format!(
            "{} bytes are not a whole number of {word_bits}-bit words (truncated stream)",
            bytes.len()
        ));
    }
    let mut out = vec![];
    for (w, word) in bytes.chunks(wb).enumerate() {
        let mut at = 0u32;
        while at + OPCODE_BITS <= word_bits {
            let code = bits_at(word, at as usize, OPCODE_BITS) as u8;
            if code == NOP {
                break;
            }
            let info = crate::op(code)
                .ok_or_else(|| format!("word {w}, bit {at}: illegal opcode {code}"))?;
            if at + info.len() > word_bits {
                return Err(format!(
                    "word {w}, bit {at}: {} needs {} bits but the word has {} left",
                    info.name,
                    info.len(),
                    word_bits - at
                ));
            }
            let i = Instr::decode(bits_at(word, at as usize, info.len()))?;
            at += info.len();
            out.push(i);
            if code == END {
                if bytes.len() > (w + 1) * wb || at + OPCODE_BITS <= word_bits && bits_at(word, at as usize, word_bits - at) != 0 {
                    return Err(format!("word {w}: data after END"));
                }
                return Ok(out);
            }
        }
    }
    Err("the stream ends without END (truncated stream)".into())
}

/// Sizes of one program before and after compression (`accelgen compile --json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Instructions in the uncompressed program.
    pub instructions: usize,
    /// Bytes of the uncompressed form (one instruction per word).
    pub raw_bytes: usize,
    /// Bytes of the packed form.
    pub compressed_bytes: usize,
    /// Instructions dropped as duplicates.
    pub dropped_duplicates: usize,
    /// Words of the packed form.
    pub packed_words: usize,
}

/// Compresses a program: drop duplicates, then pack. Returns the packed bytes and the sizes.
pub fn compress(prog: &[Instr], word_bits: u32) -> (Vec<u8>, Stats) {
    let (kept, dropped) = drop_duplicates(prog);
    let packed = pack(&kept, word_bits);
    let stats = Stats {
        instructions: prog.len(),
        raw_bytes: prog.len() * (word_bits / 8) as usize,
        compressed_bytes: packed.len(),
        dropped_duplicates: dropped,
        packed_words: packed.len() / (word_bits / 8) as usize,
    };
    (packed, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TABLE, max_len};

    /// Seeded xorshift (the isa crate has no dependencies).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn seed(default: u64) -> u64 {
        let s = std::env::var("ACCELGEN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
        eprintln!("isa compress: seed {s} (set ACCELGEN_SEED to override)");
        s
    }

    /// A random program over the table (small value ranges so that duplicates occur), ending in END.
    fn random_program(rng: &mut Rng, n: usize) -> Vec<Instr> {
        let ops: Vec<_> = TABLE.iter().filter(|o| o.code != NOP && o.code != END).collect();
        let mut p: Vec<Instr> = (0..n)
            .map(|_| {
                let o = ops[(rng.next() % ops.len() as u64) as usize];
                let values = o
                    .fields
                    .iter()
                    .map(|f| if rng.next() % 2 == 0 { rng.next() % 3 } else { rng.next() } & ((1 << f.bits) - 1))
                    .collect::<Vec<_>>();
                Instr::new(o.name, &values).unwrap()
            })
            .collect();
        p.push(Instr::new("END", &[]).unwrap());
        p
    }

    #[test]
    fn compress_then_unpack_reproduces_the_effective_program_for_many_seeds() {
        let mut rng = Rng(seed(77) | 1);
        for word_bits in [max_len().div_ceil(8) * 8, 64, 128, 256] {
            for _ in 0..200 {
                let n = (rng.next() % 60) as usize;
                let prog = random_program(&mut rng, n);
                let (packed, stats) = compress(&prog, word_bits);
                let (kept, _) = drop_duplicates(&prog);
                assert_eq!(unpack(&packed, word_bits).unwrap(), kept);
                // The uncompressed form decodes to the whole program.
                assert_eq!(unpack(&one_per_word(&prog, word_bits), word_bits).unwrap(), prog);
                assert!(stats.compressed_bytes <= stats.raw_bytes);
                // Dropping duplicates again drops nothing: every kept write changes its register.
                assert_eq!(drop_duplicates(&kept).1, 0);
            }
        }
    }

    #[test]
    fn a_duplicate_is_a_rewrite_of_the_held_value_and_control_is_never_dropped() {
        let a = Instr::new("POOL_CLOCK", &[4]).unwrap();
        let b = Instr::new("POOL_CLOCK", &[8]).unwrap();
        let zero = Instr::new("POOL_CLOCK", &[0]).unwrap();
        let sync = Instr::new("SYNC", &[1]).unwrap();
        let (kept, dropped) =
            drop_duplicates(&[zero.clone(), a.clone(), a.clone(), sync.clone(), sync.clone(), b.clone(), a.clone()]);
        assert_eq!(kept, vec![a.clone(), sync.clone(), sync, b, a]);
        assert_eq!(dropped, 2, "the reset-value write and the repeated 4");
    }

    #[test]
    fn packing_keeps_instructions_whole() {
        // 37-bit PE_SHAPE + 26-bit POOL_WINDOW fill 63 of 64 bits; a 13-bit POOL_CLOCK after them
        // does not fit the last bit and starts the next word.
        let shape = Instr::new("PE_SHAPE", &[3, 5, 7]).unwrap();
        let window = Instr::new("POOL_WINDOW", &[1, 2, 2, 2, 2, 0, 0]).unwrap();
        let clock = Instr::new("POOL_CLOCK", &[2]).unwrap();
        let end = Instr::new("END", &[]).unwrap();
        assert_eq!((shape.len(), window.len(), clock.len()), (37, 26, 13));
        let p = vec![shape.clone(), window.clone(), clock.clone(), shape, window, clock, end];
        let packed = pack(&p, 64);
        assert_eq!(packed.len(), 3 * 8, "[shape+window] [clock+shape] [window+clock+end]");
        assert_eq!(unpack(&packed, 64).unwrap(), p);
    }

    #[test]
    fn corrupted_streams_are_errors_never_panics() {
        let mut rng = Rng(seed(5) | 1);
        let mut errors = 0;
        for _ in 0..2000 {
            let n = 1 + (rng.next() % 30) as usize;
            let prog = random_program(&mut rng, n);
            let mut bytes = pack(&drop_duplicates(&prog).0, 64);
            match rng.next() % 3 {
                0 => {
                    let cut = (rng.next() as usize) % bytes.len();
                    bytes.truncate(cut);
                }
                1 => {
                    for _ in 0..1 + rng.next() % 4 {
                        let at = (rng.next() as usize) % (bytes.len() * 8);
                        bytes[at / 8] ^= 1 << (at % 8);
                    }
                }
                _ => bytes.extend_from_slice(&[0xff; 8]),
            }
            if unpack(&bytes, 64).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 1000, "most corruptions must be detected, got {errors}");
        assert_eq!(unpack(&[0x14, 0, 0, 0, 0, 0, 0, 0], 64).unwrap_err(), "word 0, bit 0: illegal opcode 20");
        assert_eq!(unpack(&[1, 0, 0], 64).unwrap_err(), "3 bytes are not a whole number of 64-bit words (truncated stream)");
        assert_eq!(unpack(&[], 64).unwrap_err(), "the stream ends without END (truncated stream)");
    }
}
