//! Instruction compression (patents.md §3) and its software decompressor.
//!
//! 1. **Drop duplicates**: an instruction that would rewrite its module-register fields with the
//!    values they already hold is dropped (always safe). Registers reset to zero, so a first write
//!    of all zeros is a duplicate too (`MEM_SHAPE` and `MEM_ROWS` included). Control instructions (`RUN`, `SYNC`, `END`) and memory
//!    transfers (`MEM_COPY` too) (`MEM_LOAD`, `MEM_STORE`: writing the memory-access register starts a transfer, so
//!    a repeated one is a second transfer, not a no-op) are never dropped.
//! 2. **Transfer deltas** ([`delta_encode`]): a `MEM_LOAD`/`MEM_STORE` whose address is its slot's
//!    last address plus the slot's stride (the difference of the slot's last two addresses) and
//!    whose word count is the slot's last becomes `MEM_NEXT slot` (28 bits instead of 52-56).
//! 3. **Repeats** ([`repeat_encode`]): a run of instructions equal to the ones `d` places earlier
//!    (d ≤ [`HISTORY`]) becomes `REPEAT d-1, n-1`, an LZ77-style copy in instruction space; since
//!    copies of `MEM_NEXT` advance their addresses again, a loop over tiles is one `REPEAT`.
//! 4. **Pack**: instructions are concatenated in order into one bit stream of W-bit words, LSB
//!    first; an instruction that does not fit the rest of a word continues into the next one (no
//!    word has an unused tail except the last, after `END`, which is zero).
//!
//! [`unpack`] reverses 4 exactly and [`expand`] reverses 3 and 2; both report malformed streams
//! (illegal opcode, an instruction running past the last word, a missing `END`, a `REPEAT` reaching
//! before the start) as errors; they never panic and their work is bounded by the input length
//! (at most 4096 instructions per `REPEAT`).

use crate::{Instr, Module, END, MEM_ADD, NOP, OPCODE_BITS, REPEAT};
use std::collections::HashMap;

/// Drops every instruction that would rewrite its register fields with the values they hold.
/// Returns the kept instructions and the number dropped.
pub fn drop_duplicates(prog: &[Instr]) -> (Vec<Instr>, usize) {
    let kept: Vec<Instr> = kept_indices(prog).into_iter().map(|i| prog[i].clone()).collect();
    let dropped = prog.len() - kept.len();
    (kept, dropped)
}

/// The indices of the instructions [`drop_duplicates`] keeps, in order.
pub fn kept_indices(prog: &[Instr]) -> Vec<usize> {
    let mut held: HashMap<u8, Vec<u64>> = HashMap::new();
    let mut out = Vec::with_capacity(prog.len());
    for (n, i) in prog.iter().enumerate() {
        // Transfers start work: a repeated one is a second transfer, never a duplicate.
        if i.info().module == Module::Ctrl || slot_of(i).is_some() || matches!(i.info().name, "MEM_COPY" | "MEM_LOADADD") {
            out.push(n);
            continue;
        }
        let zeros = vec![0; i.values.len()];
        let current = held.get(&i.code).unwrap_or(&zeros);
        if *current == i.values {
            continue;
        }
        held.insert(i.code, i.values.clone());
        out.push(n);
    }
    out
}

/// Farthest a `REPEAT` copies from; the decompressor keeps the last 2·MAX_DIST instructions.
pub const MAX_DIST: usize = 256;
/// Most instructions one `REPEAT` issues.
pub const MAX_REPEAT: usize = 4096;
/// Transfer slots of `MEM_ADD`: `MEM_LOAD` targets 0-3, then `MEM_STORE` sources 0-1.
pub const SLOTS: usize = 6;
/// Width of transfer addresses (the `addr` fields).
const ADDR_MASK: u64 = (1 << 26) - 1;
/// Width of `MEM_ADD.delta`.
const DELTA_BITS: u32 = 18;

const MEM_LOAD: u8 = 1;
const MEM_STORE: u8 = 2;

/// The decompressor's transfer state: per slot, the address and word count of the last issued
/// transfer (however it was written: in full, as `MEM_ADD`, or by a `REPEAT`). All zero at start.
#[derive(Clone, Debug, Default)]
struct Slots {
    addr: [u64; SLOTS],
    words: [u64; SLOTS],
}

/// The slot of a full transfer.
fn slot_of(i: &Instr) -> Option<usize> {
    match i.code {
        MEM_LOAD => Some(i.values[0] as usize),
        MEM_STORE => Some(4 + i.values[0] as usize),
        _ => None,
    }
}

impl Slots {
    /// Records an issued instruction (transfers only).
    fn issue(&mut self, i: &Instr) {
        if let Some(slot) = slot_of(i) {
            self.addr[slot] = i.values[1];
            self.words[slot] = i.values[2];
        }
    }

    /// The shortest form of `i` given the state: `MEM_ADD` when the slot's word count is the same
    /// and the address step fits the delta field, else `i` itself.
    fn shortest(&self, i: &Instr) -> Instr {
        if let Some(slot) = slot_of(i) {
            let step = i.values[1].wrapping_sub(self.addr[slot]) & ADDR_MASK;
            // The step as a signed 26-bit value must fit DELTA_BITS signed bits.
            let signed = ((step << 38) as i64) >> 38;
            let half = 1i64 << (DELTA_BITS - 1);
            if i.values[2] == self.words[slot] && (-half..half).contains(&signed) {
                return Instr { code: MEM_ADD, values: vec![slot as u64, (signed as u64) & ((1 << DELTA_BITS) - 1)] };
            }
        }
        i.clone()
    }

    /// Expands one literal of the stream (a `MEM_ADD` into its full transfer) and records it.
    fn expand(&mut self, i: &Instr) -> Result<Instr, String> {
        let full = if i.code == MEM_ADD {
            let slot = i.values[0] as usize;
            if slot >= SLOTS {
                return Err(format!("MEM_ADD.slot = {slot} is out of range: allowed 0..={}", SLOTS - 1));
            }
            let delta = ((i.values[1] << (64 - DELTA_BITS)) as i64 >> (64 - DELTA_BITS)) as u64;
            let addr = self.addr[slot].wrapping_add(delta) & ADDR_MASK;
            let (code, target) = if slot < 4 { (MEM_LOAD, slot as u64) } else { (MEM_STORE, slot as u64 - 4) };
            Instr { code, values: vec![target, addr, self.words[slot]] }
        } else {
            i.clone()
        };
        self.issue(&full);
        Ok(full)
    }
}

/// The instruction a `REPEAT` issues when it copies `c` (dist back) with `p` (2·dist back, if
/// issued): a transfer continues its address progression (`addr + (addr - p.addr)`) when `p` is
/// the same transfer opcode on the same target; anything else is copied as it is.
pub fn continue_copy(c: &Instr, p: Option<&Instr>) -> Instr {
    match p {
        Some(p) if slot_of(c).is_some() && p.code == c.code && p.values[0] == c.values[0] => {
            let addr = (2 * c.values[1]).wrapping_sub(p.values[1]) & ADDR_MASK;
            Instr { code: c.code, values: vec![c.values[0], addr, c.values[2]] }
        }
        _ => c.clone(),
    }
}

/// The longest copy at every position and distance: `runs[d-1][i]` instructions from `i` on are
/// what a `REPEAT` at distance `d` would issue (capped at [`MAX_REPEAT`], never over `END`).
fn copy_runs(prog: &[Instr], d: usize, run: &mut [u16]) {
    for i in (0..prog.len()).rev() {
        let ok = i >= d && prog[i].code != END && {
            let p = if i >= 2 * d { Some(&prog[i - 2 * d]) } else { None };
            continue_copy(&prog[i - d], p) == prog[i]
        };
        run[i] = if ok { (run.get(i + 1).copied().unwrap_or(0) as usize + 1).min(MAX_REPEAT) as u16 } else { 0 };
    }
}

/// Replaces runs by `REPEAT` (an instruction `d` ≤ [`MAX_DIST`] back, continued by
/// [`continue_copy`]). The choice is an optimal parse: fewest bits over the whole program, each
/// instruction either written out or covered by a `REPEAT` of any length up to the longest copy
/// (dynamic programming from the end, with a range-minimum tree over the suffix costs). `END` is
/// never copied. Returns the stream and the number of `REPEAT`s.
pub fn encode(prog: &[Instr]) -> (Vec<Instr>, usize, usize) {
    let n = prog.len();
    // Each instruction's literal form: the slot state follows the issued sequence, which is `prog`
    // whatever the parse, so the form does not depend on the choice of repeats.
    let mut st = Slots::default();
    let lit: Vec<Instr> = prog
        .iter()
        .map(|i| {
            let l = st.shortest(i);
            st.issue(i);
            l
        })
        .collect();
    let repeat_bits = crate::op(REPEAT).expect("REPEAT is in the table").len() as u64;
    // runs for every distance (u16: MAX_REPEAT fits).
    let dists = MAX_DIST.min(n.saturating_sub(1));
    let mut runs = vec![vec![0u16; n]; dists];
    for (k, r) in runs.iter_mut().enumerate() {
        copy_runs(prog, k + 1, r);
    }
    // cost[i]: fewest bits for prog[i..]; choice[i]: 0 literal, else (d, len).
    let size = (n + 1).next_power_of_two();
    let mut tree = vec![(u64::MAX, 0usize); 2 * size]; // (cost, position) range minimum
    let set = |tree: &mut Vec<(u64, usize)>, i: usize, v: u64| {
        let mut x = i + size;
        tree[x] = (v, i);
        while x > 1 {
            x /= 2;
            tree[x] = tree[2 * x].min(tree[2 * x + 1]);
        }
    };
    let query = |tree: &Vec<(u64, usize)>, lo: usize, hi: usize| {
        // minimum over [lo, hi]
        let (mut l, mut r) = (lo + size, hi + size + 1);
        let mut best = (u64::MAX, 0);
        while l < r {
            if l & 1 == 1 {
                best = best.min(tree[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                best = best.min(tree[r]);
            }
            l /= 2;
            r /= 2;
        }
        best
    };
    let mut cost = vec![0u64; n + 1];
    let mut choice = vec![(0usize, 0usize); n];
    set(&mut tree, n, 0);
    for i in (0..n).rev() {
        let mut best = (cost[i + 1] + lit[i].len() as u64, (0, 1));
        for (k, r) in runs.iter().enumerate() {
            let len = r[i] as usize;
            if len > 0 {
                let (c, at) = query(&tree, i + 1, i + len);
                if c + repeat_bits < best.0 {
                    best = (c + repeat_bits, (k + 1, at - i));
                }
            }
        }
        cost[i] = best.0;
        choice[i] = best.1;
        set(&mut tree, i, cost[i]);
    }
    let mut out = vec![];
    let (mut adds, mut repeats) = (0, 0);
    let mut i = 0;
    while i < n {
        let (d, len) = choice[i];
        if d == 0 {
            adds += usize::from(lit[i].code == MEM_ADD);
            out.push(lit[i].clone());
            i += 1;
        } else {
            out.push(Instr { code: REPEAT, values: vec![(d - 1) as u64, (len - 1) as u64] });
            repeats += 1;
            i += len;
        }
    }
    (out, adds, repeats)
}

/// Expands an unpacked stream (the decompressor's job in software): `REPEAT` continues
/// instructions from the history of issued ones, `MEM_ADD` becomes its full transfer. Returns the
/// module-register writes, up to and including `END`.
pub fn expand(stream: &[Instr]) -> Result<Vec<Instr>, String> {
    let mut st = Slots::default();
    let mut out: Vec<Instr> = Vec::with_capacity(stream.len());
    for (k, t) in stream.iter().enumerate() {
        if t.code == REPEAT {
            let (d, n) = (t.values[0] as usize + 1, t.values[1] as usize + 1);
            if d > MAX_DIST {
                return Err(format!("instruction {k}: REPEAT.dist = {} is out of range: allowed 0..={}", d - 1, MAX_DIST - 1));
            }
            if d > out.len() {
                return Err(format!(
                    "instruction {k}: REPEAT reaches {d} back but only {} instructions were issued",
                    out.len()
                ));
            }
            for _ in 0..n {
                let j = out.len();
                let p = if j >= 2 * d { Some(&out[j - 2 * d]) } else { None };
                let c = continue_copy(&out[j - d], p);
                st.issue(&c);
                out.push(c);
            }
        } else {
            out.push(st.expand(t).map_err(|e| format!("instruction {k}: {e}"))?);
            if t.code == END {
                if k + 1 != stream.len() {
                    return Err(format!("instruction {k}: data after END"));
                }
                return Ok(out);
            }
        }
    }
    Err("the stream ends without END (truncated stream)".into())
}

/// Unpacks and expands a compressed program (`program.cbin`) into its module-register writes.
pub fn decompress(bytes: &[u8], word_bits: u32) -> Result<Vec<Instr>, String> {
    expand(&unpack(bytes, word_bits)?)
}

/// A little-endian bit writer into W-bit words.
struct Words {
    word_bytes: usize,
    bytes: Vec<u8>,
    /// Bits written so far.
    at: usize,
}

impl Words {
    fn new(word_bits: u32) -> Words {
        Words { word_bytes: (word_bits / 8) as usize, bytes: vec![], at: 0 }
    }

    /// Moves to the start of the next word (the rest of the current one stays zero).
    fn start_word(&mut self) {
        self.at = self.bytes.len() * 8;
    }

    /// Appends `len` bits at the current position, growing the stream by whole words.
    fn put(&mut self, bits: u128, len: u32) {
        let end = self.at + len as usize;
        while self.bytes.len() * 8 < end {
            self.bytes.extend(std::iter::repeat_n(0, self.word_bytes));
        }
        for b in 0..len as usize {
            if bits >> b & 1 == 1 {
                let at = self.at + b;
                self.bytes[at / 8] |= 1 << (at % 8);
            }
        }
        self.at = end;
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

/// Packs instructions into W-bit words as one bit stream (`program.cbin`): each starts where the
/// previous one ends, LSB first, and may continue into the next word; the last word's tail after
/// `END` is zero.
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

/// The stream's length in bytes if it is a whole number of `word_bits`-bit words.
fn check_words(bytes: &[u8], word_bits: u32) -> Result<usize, String> {
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
    Ok(wb)
}

/// Unpacks a packed stream ([`pack`]) into instructions up to and including `END`.
pub fn unpack(bytes: &[u8], word_bits: u32) -> Result<Vec<Instr>, String> {
    Ok(unpack_words(bytes, word_bits)?.into_iter().flatten().collect())
}

/// [`unpack`], the instructions grouped by the word they start in. A `NOP` (opcode 0) is eight
/// bits that issue nothing (the packer never writes one; the zero tail after `END` is not read).
pub fn unpack_words(bytes: &[u8], word_bits: u32) -> Result<Vec<Vec<Instr>>, String> {
    let wb = check_words(bytes, word_bits)?;
    let total = bytes.len() * 8;
    let wbits = wb * 8;
    let mut out: Vec<Vec<Instr>> = vec![vec![]; bytes.len() / wb];
    let mut at = 0usize;
    loop {
        let (w, bit) = (at / wbits, at % wbits);
        if at + OPCODE_BITS as usize > total {
            return Err("the stream ends without END (truncated stream)".into());
        }
        let code = bits_at(bytes, at, OPCODE_BITS) as u8;
        let info = crate::op(code).ok_or_else(|| format!("word {w}, bit {bit}: illegal opcode {code}"))?;
        if at + info.len() as usize > total {
            return Err(format!(
                "word {w}, bit {bit}: {} needs {} bits but the stream has {} left (truncated stream)",
                info.name,
                info.len(),
                total - at
            ));
        }
        let i = Instr::decode(bits_at(bytes, at, info.len()))?;
        at += info.len() as usize;
        if code == NOP {
            continue;
        }
        out[w].push(i);
        if code == END {
            // Only the zero tail of END's last word may follow.
            let word_end = at.div_ceil(wbits) * wbits;
            if word_end < total || (at..word_end).any(|p| bytes[p / 8] >> (p % 8) & 1 == 1) {
                return Err(format!("word {}: data after END", (at - 1) / wbits));
            }
            return Ok(out);
        }
    }
}

/// Reads the uncompressed form ([`one_per_word`]): one instruction at the start of each word, the
/// rest of the word zero; up to and including `END`.
pub fn unpack_one_per_word(bytes: &[u8], word_bits: u32) -> Result<Vec<Instr>, String> {
    let wb = check_words(bytes, word_bits)?;
    let mut out = vec![];
    for (w, word) in bytes.chunks(wb).enumerate() {
        let code = bits_at(word, 0, OPCODE_BITS.min(word_bits)) as u8;
        let info = crate::op(code).ok_or_else(|| format!("word {w}: illegal opcode {code}"))?;
        if info.len() > word_bits {
            return Err(format!("word {w}: {} needs {} bits, the word has {word_bits}", info.name, info.len()));
        }
        let i = Instr::decode(bits_at(word, 0, info.len()))?;
        let rest = (info.len() as usize..wb * 8).any(|p| word[p / 8] >> (p % 8) & 1 == 1);
        if rest {
            return Err(format!("word {w}: bits after its {} (one instruction per word)", info.name));
        }
        let end = code == END;
        out.push(i);
        if end {
            if (w + 1) * wb < bytes.len() {
                return Err(format!("word {w}: data after END"));
            }
            return Ok(out);
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
    /// Transfers written as `MEM_ADD`.
    pub delta_transfers: usize,
    /// `REPEAT` instructions in the stream.
    pub repeats: usize,
    /// Instructions in the packed stream (compressed forms included).
    pub stream_instructions: usize,
}

/// How far to compress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Drop duplicates and pack (the claim's two steps).
    Pack,
    /// Also transfer deltas and repeats (the default).
    Full,
}

/// Compresses a program at [`Level::Full`]. Returns the packed bytes and the sizes.
pub fn compress(prog: &[Instr], word_bits: u32) -> (Vec<u8>, Stats) {
    compress_at(prog, word_bits, Level::Full)
}

/// Compresses a program at `level`.
pub fn compress_at(prog: &[Instr], word_bits: u32, level: Level) -> (Vec<u8>, Stats) {
    let (kept, dropped) = drop_duplicates(prog);
    let (stream, delta_transfers, repeats) = match level {
        Level::Pack => (kept, 0, 0),
        Level::Full => encode(&kept),
    };
    let packed = pack(&stream, word_bits);
    let stats = Stats {
        instructions: prog.len(),
        raw_bytes: prog.len() * (word_bits / 8) as usize,
        compressed_bytes: packed.len(),
        dropped_duplicates: dropped,
        packed_words: packed.len() / (word_bits / 8) as usize,
        delta_transfers,
        repeats,
        stream_instructions: stream.len(),
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
        let ops: Vec<_> =
            TABLE.iter().filter(|o| o.code != NOP && o.code != END && !crate::is_compressed_form(o.code)).collect();
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
                assert_eq!(decompress(&packed, word_bits).unwrap(), kept);
                let (plain, _) = compress_at(&prog, word_bits, Level::Pack);
                assert_eq!(unpack(&plain, word_bits).unwrap(), kept);
                // The uncompressed form decodes to the whole program.
                assert_eq!(unpack_one_per_word(&one_per_word(&prog, word_bits), word_bits).unwrap(), prog);
                assert!(stats.compressed_bytes <= stats.raw_bytes);
                // No gaps: the packed stream is its instructions' bits rounded up to whole words.
                let bits: u32 = unpack(&packed, word_bits).unwrap().iter().map(|i| i.len()).sum();
                assert_eq!(packed.len() * 8, bits.div_ceil(word_bits) as usize * word_bits as usize);
                // Dropping duplicates again drops nothing: every kept write changes its register.
                assert_eq!(drop_duplicates(&kept).1, 0);
            }
        }
    }

    /// A random loop nest like the compiler's: per iteration, transfers whose addresses step by
    /// per-slot strides (sometimes broken), register writes that sometimes change, RUN/SYNC.
    fn random_loops(rng: &mut Rng) -> Vec<Instr> {
        let mut p = vec![];
        for _ in 0..1 + rng.next() % 4 {
            let body = 1 + (rng.next() % 6) as usize;
            let iters = 1 + rng.next() % 120;
            let ops: Vec<(u64, u64, u64, u64)> = (0..body)
                .map(|_| (rng.next() % 6, rng.next() % 5000, rng.next() % 4096, 1 + rng.next() % 1000))
                .collect();
            for it in 0..iters {
                for &(slot, base, stride, words) in &ops {
                    let addr = (base + it * stride) & ((1 << 26) - 1);
                    let words = if rng.next() % 40 == 0 { words + 1 } else { words };
                    p.push(if slot < 4 {
                        Instr::new("MEM_LOAD", &[slot, addr, words]).unwrap()
                    } else {
                        Instr::new("MEM_STORE", &[slot - 4, addr, words]).unwrap()
                    });
                }
                if rng.next() % 3 == 0 {
                    p.push(Instr::new("PE_SHAPE", &[1 + rng.next() % 3, 8, 8, 8, 0]).unwrap());
                }
                p.push(Instr::new("RUN", &[14]).unwrap());
                p.push(Instr::new("SYNC", &[14]).unwrap());
            }
        }
        p.push(Instr::new("END", &[]).unwrap());
        p
    }

    #[test]
    fn loop_programs_round_trip_and_use_the_compressed_forms() {
        let mut rng = Rng(seed(91) | 1);
        let (mut deltas, mut repeats) = (0, 0);
        for _ in 0..300 {
            let prog = random_loops(&mut rng);
            let (packed, stats) = compress(&prog, 64);
            assert_eq!(decompress(&packed, 64).unwrap(), drop_duplicates(&prog).0);
            let (plain, _) = compress_at(&prog, 64, Level::Pack);
            assert!(packed.len() <= plain.len(), "the full level never loses to packing alone");
            deltas += stats.delta_transfers;
            repeats += stats.repeats;
        }
        assert!(deltas > 1000 && repeats > 300, "deltas {deltas}, repeats {repeats}");
    }

    #[test]
    fn mem_add_and_repeat_continue_address_progressions() {
        let ld = |t, a, w| Instr::new("MEM_LOAD", &[t, a, w]).unwrap();
        let st = |a, w| Instr::new("MEM_STORE", &[0, a, w]).unwrap();
        let run = Instr::new("RUN", &[2]).unwrap();
        let end = Instr::new("END", &[]).unwrap();
        // Ten iterations of [load 0 +100, store +7, RUN]: the first load and store in full, the
        // second iteration's as MEM_ADD, then one REPEAT of period 3 (starting at the second RUN)
        // continues both progressions.
        let mut lp = vec![];
        for i in 0..10 {
            lp.push(ld(0, 1000 + 100 * i, 8));
            lp.push(st(50 + 7 * i, 9));
            lp.push(run.clone());
        }
        lp.push(end.clone());
        let (stream, adds, repeats) = encode(&lp);
        assert_eq!((adds, repeats), (2, 1));
        assert_eq!(
            stream.iter().map(Instr::disassemble).collect::<Vec<_>>(),
            [
                "MEM_LOAD target=0 addr=1000 words=8",
                "MEM_STORE source=0 addr=50 words=9",
                "RUN modules=2",
                "MEM_ADD slot=0 delta=100",
                "MEM_ADD slot=4 delta=7",
                "REPEAT dist=2 count=24",
                "END"
            ]
        );
        assert_eq!(expand(&stream).unwrap(), lp);
        // A negative step, a changed word count (full form), a step too large for the delta field.
        let p = vec![ld(1, 5000, 4), ld(1, 4000, 4), ld(1, 4100, 5), ld(1, 4100 + (1 << 17), 5), end.clone()];
        let (stream, adds, _) = encode(&p);
        assert_eq!(adds, 1);
        assert_eq!(stream[1].disassemble(), format!("MEM_ADD slot=1 delta={}", (1u64 << 18) - 1000));
        assert_eq!(stream[2], p[2]);
        assert_eq!(stream[3], p[3]);
        assert_eq!(expand(&stream).unwrap(), p);
        // A copy continues a transfer only against the same opcode and target 2·dist back.
        assert_eq!(continue_copy(&ld(0, 300, 1), Some(&ld(0, 100, 1))), ld(0, 500, 1));
        assert_eq!(continue_copy(&ld(0, 300, 1), Some(&ld(1, 100, 1))), ld(0, 300, 1));
        assert_eq!(continue_copy(&ld(0, 300, 1), Some(&st(100, 1))), ld(0, 300, 1));
        assert_eq!(continue_copy(&ld(0, 300, 1), None), ld(0, 300, 1));
        assert_eq!(continue_copy(&ld(0, 0, 1), Some(&ld(0, 1, 1))), ld(0, (1 << 26) - 1, 1), "26-bit wrap");
    }

    #[test]
    fn malformed_compressed_forms_are_errors() {
        let rep = |d, n| Instr::new("REPEAT", &[d, n]).unwrap();
        let run = Instr::new("RUN", &[2]).unwrap();
        let end = Instr::new("END", &[]).unwrap();
        assert_eq!(
            expand(&[run.clone(), rep(1, 3), end.clone()]).unwrap_err(),
            "instruction 1: REPEAT reaches 2 back but only 1 instructions were issued"
        );
        assert_eq!(
            expand(&[Instr::new("MEM_ADD", &[7, 0]).unwrap(), end.clone()]).unwrap_err(),
            "instruction 0: MEM_ADD.slot = 7 is out of range: allowed 0..=5"
        );
        assert_eq!(expand(&[run.clone(), rep(0, 2)]).unwrap_err(), "the stream ends without END (truncated stream)");
        assert_eq!(expand(&[run.clone(), rep(0, 2), end.clone()]).unwrap().len(), 5);
        assert_eq!(expand(&[end.clone(), run]).unwrap_err(), "instruction 0: data after END");
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
    fn packing_continues_instructions_into_the_next_word() {
        // A 48-bit PE_SHAPE fills 48 of 64 bits; the 28-bit POOL_WINDOW after it takes the last 16
        // and the first 12 of the next word: 48+28+16+48+8 = 148 bits, three words, and nothing
        // but END's tail is left unused.
        let shape = Instr::new("PE_SHAPE", &[3, 5, 7, 2, 0]).unwrap();
        let window = Instr::new("POOL_WINDOW", &[1, 2, 2, 2, 2, 0, 0]).unwrap();
        let clock = Instr::new("POOL_CLOCK", &[2]).unwrap();
        let end = Instr::new("END", &[]).unwrap();
        assert_eq!((shape.len(), window.len(), clock.len()), (48, 28, 16), "whole nibbles");
        let p = vec![shape.clone(), window.clone(), clock.clone(), shape.clone(), end.clone()];
        let packed = pack(&p, 64);
        assert_eq!(packed.len(), 3 * 8);
        assert_eq!(bits_at(&packed, 48, 28), window.encode(), "the window starts at bit 48 of word 0");
        assert_eq!(unpack(&packed, 64).unwrap(), p);
        let words = unpack_words(&packed, 64).unwrap();
        assert_eq!(words, vec![vec![shape.clone(), window], vec![clock, shape], vec![end]], "grouped by the word each starts in");
        // Nine 60-bit POOL_SHAPEs and END in 9 words, not 10 (one per word).
        let ps = Instr::new("POOL_SHAPE", &[4, 5, 6, 7, 8]).unwrap();
        assert_eq!(ps.len(), 60);
        let mut q = vec![ps; 9];
        q.push(Instr::new("END", &[]).unwrap());
        assert_eq!(pack(&q, 64).len(), (9 * 60 + 8usize).div_ceil(64) * 8, "9 of 60 bits and END in 9 words, not 10");
        // The uncompressed form keeps one instruction per word and has its own reader.
        assert_eq!(unpack_one_per_word(&one_per_word(&q, 64), 64).unwrap(), q);
        assert!(unpack(&one_per_word(&q, 64), 64).is_err(), "a one-per-word stream is not a packed one");
    }

    #[test]
    fn nops_issue_nothing_and_data_after_end_is_refused() {
        let end = Instr::new("END", &[]).unwrap();
        let clock = Instr::new("POOL_CLOCK", &[2]).unwrap();
        // NOP, POOL_CLOCK, NOP, END: the NOPs take 8 bits each and issue nothing.
        let mut w = Words::new(64);
        for i in [Instr::new("NOP", &[]).unwrap(), clock.clone(), Instr::new("NOP", &[]).unwrap(), end.clone()] {
            w.put(i.encode(), i.len());
        }
        assert_eq!(unpack(&w.bytes, 64).unwrap(), vec![clock.clone(), end.clone()]);
        let mut after = pack(&[clock.clone(), end.clone()], 64);
        after[3] |= 0x80;
        assert_eq!(unpack(&after, 64).unwrap_err(), "word 0: data after END");
        let mut extra = pack(&[clock, end], 64);
        extra.extend_from_slice(&[0; 8]);
        assert_eq!(unpack(&extra, 64).unwrap_err(), "word 0: data after END");
    }

    #[test]
    fn corrupted_streams_are_errors_never_panics() {
        let mut rng = Rng(seed(5) | 1);
        let mut errors = 0;
        for _ in 0..2000 {
            let n = 1 + (rng.next() % 30) as usize;
            let prog = random_program(&mut rng, n);
            let mut bytes = if rng.next() % 2 == 0 { pack(&drop_duplicates(&prog).0, 64) } else { compress(&random_loops(&mut rng), 64).0 };
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
            if decompress(&bytes, 64).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 1000, "most corruptions must be detected, got {errors}");
        assert_eq!(unpack(&[0x19, 0, 0, 0, 0, 0, 0, 0], 64).unwrap_err(), "word 0, bit 0: illegal opcode 25");
        assert_eq!(unpack(&[1, 0, 0], 64).unwrap_err(), "3 bytes are not a whole number of 64-bit words (truncated stream)");
        assert_eq!(unpack(&[], 64).unwrap_err(), "the stream ends without END (truncated stream)");
    }
}
