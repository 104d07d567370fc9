//! The data mover on its own, against a model written from its datasheet's address table
//! (`crates/hw/src/top/mover.rs`): random loads into each of the four targets, with random chunk
//! lengths, strides, geometry and halves, from a packed 64-bit memory that answers after a random
//! latency and refuses requests at random; random stores into it. Every on-chip write (target,
//! bank, entry, word) and every external word read is compared, in order, with the model's (one
//! read per run of elements in a word); the memory after a store with the model's. With as many
//! weight banks as bytes in a word (C = L = 8), an aligned one-chunk weight load writes whole
//! words, a weight-buffer entry per cycle: its writes are compared bank by bank.

use accelgen_golden::testutil::Rng;
use accelgen_hw::rust_hdl::prelude::*;
use accelgen_hw::sim::Harness;
use accelgen_hw::top::{DataMover, DataMoverParams};
use std::collections::VecDeque;

const P: DataMoverParams = DataMoverParams { rows: 3, cols: 2, fm_banks: 3, depths: [512, 1024, 64, 1024, 512, 256], fc_lanes: 1, out_lanes: 1, fm_lanes: 1 };
/// Eight weight banks: a 64-bit word fills a weight-buffer entry.
const P8: DataMoverParams = DataMoverParams { cols: 8, ..P };
/// First-cache banks of eight byte lanes (the engine's `lanes`): first-cache loads of whole words
/// move a word per cycle.
const P8F: DataMoverParams = DataMoverParams { fc_lanes: 8, ..P8 };
/// Eight first-cache banks, one per byte of a word: loads of one-element chunks, stride 1, from
/// an aligned address (a fully connected layer's input vector) spread a word per cycle.
const P8R: DataMoverParams = DataMoverParams { rows: 8, ..P8F };
/// Conv output banks of eight output lanes (the engine's `out_lanes`): stores of whole words move
/// a word per cycle.
const P8O: DataMoverParams = DataMoverParams { out_lanes: 8, ..P };

/// A load as `MEM_LOAD` and `MEM_SHAPE` describe it, with the pooling geometry for target 3.
#[derive(Debug)]
struct Load {
    target: usize,
    addr: usize,
    words: usize,
    len: usize,
    stride: usize,
    half: bool,
    /// Feature-memory map width W, top padding ph, hb·W.
    fw: usize,
    fph: usize,
    hbw: usize,
}

/// Bytes per memory word.
const WB: usize = 8;

/// Where element i of the load goes (target, bank, entry), and the byte address it reads
/// (docs/isa.md: a bias element is four bytes, every other one byte).
fn model(p: &DataMoverParams, l: &Load) -> Vec<((usize, usize, usize), usize)> {
    let size = if l.target == 2 { 4 } else { 1 };
    (0..l.words)
        .map(|i| {
            let (n, o) = if l.len == 0 { (0, i) } else { (i / l.len, i % l.len) };
            let ext = l.addr + n * l.stride + o * size;
            let place = match l.target {
                0 => {
                    let b = if l.half { p.depths[0] / 2 } else { 0 };
                    (0, n % p.rows, b + (n / p.rows) * l.len.max(1) + o)
                }
                1 => (1, i % p.cols, i / p.cols),
                2 => (2, i % p.cols, i / p.cols),
                _ => {
                    let rho = o / l.fw + l.fph;
                    (3, rho % p.fm_banks, n * l.hbw + (rho / p.fm_banks) * l.fw + o % l.fw)
                }
            };
            (place, ext)
        })
        .collect()
}

fn one_hot_index(v: Bits<64>) -> usize {
    let set: Vec<usize> = (0..64).filter(|&b| v.get_bit(b)).collect();
    assert_eq!(set.len(), 1, "bank select {v:?} is not one-hot");
    set[0]
}

#[test]
fn loads_place_every_word_where_the_address_table_says() {
    let mut rng = Rng::from_env("data-mover", 11);
    loads(&P, &mut rng);
    loads(&P8, &mut rng);
    loads(&P8F, &mut rng);
    loads(&P8R, &mut rng);
}

/// A first-cache load spreads a word per step, byte r into bank r, where there is a bank per
/// byte of a word (R = L) and its chunks are single consecutive elements from a word-aligned
/// address: chunk length 1, stride 1, no runs, no broadcast (docs/accelerator.md).
fn fc_spread(p: &DataMoverParams, l: &Load) -> bool {
    p.rows == WB && l.target == 0 && l.len == 1 && l.stride == 1 && l.addr % WB == 0
}

/// A first-cache load moves a word per step where its banks have L byte lanes and every chunk
/// is whole words: address, stride, chunk length (`len`, or `words` for one chunk) and the
/// element count multiples of L (docs/accelerator.md).
fn fc_word_steps(p: &DataMoverParams, l: &Load) -> bool {
    let chunk = if l.len == 0 { l.words } else { l.len };
    p.fc_lanes == WB && l.target == 0 && [l.addr, l.stride, chunk, l.words].iter().all(|v| v % WB == 0)
}

/// 40 random loads on a mover with these buffers.
fn loads(p: &DataMoverParams, rng: &mut Rng) {
    let word_steps = p.cols == WB;
    let mut wide_loads = 0;
    let mut fc_wide_loads = 0;
    let mut spread_loads = 0;
    let mut h = Harness::new(DataMover::<64, 8>::new(p)).unwrap();
    let mem: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    // The element at byte address a of a load into `target`, as the buffer receives it.
    let elem = |target: usize, a: usize| -> u32 {
        if target == 2 {
            u32::from_le_bytes(mem[a..a + 4].try_into().unwrap())
        } else {
            mem[a] as i8 as i32 as u32
        }
    };
    for case in 0..40 {
        let target = case % 4;
        let len = [0, 1, 3, 5][rng.below(4) as usize];
        let words = if len == 0 { rng.range(1, 20) as usize } else { len * rng.range(1, 4) as usize };
        let fw = rng.range(1, 6) as usize;
        let size = if target == 2 { 4 } else { 1 };
        // Weight loads in one chunk from an aligned address, often (word steps with C = L).
        let aligned = target == 1 && rng.below(2) == 0;
        let len = if aligned { 0 } else { len };
        let words = if aligned { rng.range(1, 300) as usize } else { words };
        // First-cache loads of whole words, often, where the banks have byte lanes.
        let whole = target == 0 && p.fc_lanes == WB && rng.below(3) != 0;
        let len = if whole { WB * rng.range(0, 4) as usize } else { len };
        let words = if whole { WB * rng.range(1, 5) as usize * (len / WB).max(1) } else { words };
        // Spread loads, often, where there is a bank per byte of a word (any element count: a
        // last partial word writes the first banks).
        let spread = target == 0 && p.rows == WB && !whole && rng.below(2) == 0;
        let (len, words) = if spread { (1, rng.range(1, 40) as usize) } else { (len, words) };
        let l = Load {
            target,
            addr: if aligned || whole || spread { WB * rng.range(0, 100) as usize } else { size * rng.range(0, 100) as usize },
            words,
            len,
            stride: if whole {
                WB * rng.range((len / WB).max(1) as i64, 10) as usize
            } else if spread {
                1
            } else {
                size * rng.range(len.max(1) as i64, 40) as usize
            },
            half: target == 0 && rng.below(2) == 0,
            fw,
            fph: rng.range(0, 2) as usize,
            hbw: fw * rng.range(3, 6) as usize,
        };
        let want = model(p, &l);
        let fc_wide = fc_word_steps(p, &l);
        let fc_spread = fc_spread(p, &l);
        spread_loads += usize::from(fc_spread);
        // (By the rule, not by the draw: an unaligned draw may still land on a word.)
        let weight_wide = word_steps && l.target == 1 && l.len == 0 && l.addr % WB == 0;
        let wide = weight_wide || fc_wide || fc_spread;
        wide_loads += usize::from(wide);
        fc_wide_loads += usize::from(fc_wide);
        let u = &mut h.uut;
        u.g_store.next = false;
        u.g_copy.next = false;
        u.g_sel.next = (l.target as u64).into();
        u.g_addr.next = (l.addr as u64).into();
        u.g_words.next = (l.words as u64).into();
        u.g_len.next = (l.len as u64).into();
        u.g_stride.next = (l.stride as u64).into();
        u.g_half.next = l.half;
        // (No effect on a load.)
        u.g_raw.next = rng.below(2) == 0;
        u.g_fw.next = (l.fw as u64).into();
        u.g_fph.next = (l.fph as u64).into();
        u.g_hbw.next = (l.hbw as u64).into();
        u.go.next = true;
        h.step().unwrap();
        h.uut.go.next = false;
        let latency = rng.range(1, 6) as u64;
        let (mut reads, mut writes) = (vec![], vec![]);
        let mut wide_writes = 0;
        let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
        for t in 0..2000u64 {
            let u = &mut h.uut;
            // The head response when due, held until the mover takes it.
            let due = matches!(pending.front(), Some(&(at, _)) if at <= t);
            u.m.rsp_valid.next = due;
            u.m.rsp_data.next = pending.front().map_or(0, |p| p.1).into();
            let ready = rng.below(4) != 0;
            u.m.req_ready.next = ready;
            h.settle().unwrap();
            let u = &h.uut;
            if due && u.m.rsp_ready.val() {
                pending.pop_front();
            }
            if ready && u.m.req_valid.val() {
                assert!(!u.m.req_we.val(), "case {case}: a load wrote to memory");
                // A burst of req_len + 1 words.
                let a = u.m.req_addr.val().index();
                for w in a..=a + u.m.req_len.val().index() {
                    reads.push(w);
                    let word = u64::from_le_bytes(mem[w * WB..w * WB + WB].try_into().unwrap());
                    pending.push_back((t + latency, word));
                }
            }
            assert_eq!(u.w_en.val() && u.w_wide.val(), u.w_en.val() && wide, "case {case} {l:?}: whole-word writes exactly in word steps");
            assert_eq!(u.w_en.val() && u.w_spread.val(), u.w_en.val() && fc_spread, "case {case} {l:?}: spread writes exactly in spread loads");
            if u.w_en.val() && u.w_wide.val() && fc_spread {
                // Byte r into entry a of bank r, for the banks set (the first ones of a last
                // partial word).
                wide_writes += 1;
                let (sel, a, word) = (u.w_sel.val().index(), u.w_addr.val().index(), u.w_word.val());
                let banks: Vec<usize> = (0..64).filter(|&r| u.w_bank.val().get_bit(r)).collect();
                assert!(!banks.is_empty() && banks.iter().enumerate().all(|(i, &r)| i == r && r < p.rows), "case {case}: spread banks {banks:?}");
                for r in banks {
                    writes.push(((sel, r, a), word.get_bits::<8>(8 * r).index() as u8 as i8 as i32 as u32));
                }
            } else if u.w_en.val() && u.w_wide.val() && fc_wide {
                // Byte l into entry a·L + l of the one bank, as the first cache's lanes take it.
                wide_writes += 1;
                let (sel, bank, a, word) = (u.w_sel.val().index(), one_hot_index(u.w_bank.val()), u.w_addr.val().index(), u.w_word.val());
                for b in 0..WB {
                    writes.push(((sel, bank, a * WB + b), word.get_bits::<8>(8 * b).index() as u8 as i8 as i32 as u32));
                }
            } else if u.w_en.val() && u.w_wide.val() {
                // Byte c into bank c of the banks set, as the weight banks take it.
                wide_writes += 1;
                let (sel, a, word) = (u.w_sel.val().index(), u.w_addr.val().index(), u.w_word.val());
                for c in (0..64).filter(|&c| u.w_bank.val().get_bit(c)) {
                    assert!(c < p.cols, "case {case}: bank {c} of {}", p.cols);
                    writes.push(((sel, c, a), word.get_bits::<8>(8 * c).index() as u8 as i8 as i32 as u32));
                }
            } else if u.w_en.val() {
                let place = (u.w_sel.val().index(), one_hot_index(u.w_bank.val()), u.w_addr.val().index());
                writes.push((place, u.w_data.val().index() as u32));
            }
            let done = !u.busy.val() && pending.is_empty() && t > 0;
            assert!(!u.err.val(), "case {case} {l:?}: err");
            h.step().unwrap();
            if done {
                break;
            }
        }
        // Every word read once per run of consecutive elements in it (in bursts).
        let mut want_reads: Vec<usize> = want.iter().map(|w| w.1 / WB).collect();
        want_reads.dedup();
        assert_eq!(reads, want_reads, "case {case} {l:?}: external word reads");
        let want_writes: Vec<((usize, usize, usize), u32)> = want.iter().map(|&(p, e)| (p, elem(l.target, e))).collect();
        assert_eq!(writes, want_writes, "case {case} {l:?}: on-chip writes");
        if wide {
            assert_eq!(wide_writes, l.words.div_ceil(WB), "case {case} {l:?}: an entry per write");
        }
    }
    assert_eq!(wide_loads - fc_wide_loads - spread_loads > 0, word_steps, "{p:?}: weight loads in word steps exercised where built in");
    assert_eq!(fc_wide_loads > 2, p.fc_lanes == WB, "{p:?}: first-cache loads in word steps exercised where built in");
    assert_eq!(spread_loads > 2, p.rows == WB, "{p:?}: spread first-cache loads exercised where built in");
}

/// The on-chip word a store reads at (source, bank, entry): distinct for every place.
fn on_chip(src: usize, bank: usize, entry: usize) -> u32 {
    ((src as u32) << 28) ^ ((bank as u32) << 20) ^ (entry as u32).wrapping_mul(40_503)
}

#[test]
fn stores_read_every_word_from_where_the_address_table_says() {
    let mut rng = Rng::from_env("data-mover-stores", 12);
    stores(&P, &mut rng);
    stores(&P8O, &mut rng);
}

/// 30 random stores on a mover with these buffers. Where the output banks have L = 8 lanes, a
/// store of the requantized conv output whose every chunk is whole words (address, stride, chunk
/// length, element count multiples of L) moves a word per step (docs/accelerator.md): drawn often,
/// decided by the rule, and done in fewer cycles than elements.
fn stores(p: &DataMoverParams, rng: &mut Rng) {
    let mut h = Harness::new(DataMover::<64, 8>::new(p)).unwrap();
    let c = p.cols;
    let mut word_stores = 0;
    for case in 0..30 {
        // The conv run's kernels, k: its output channel t·C·k + c·k + j.
        let k = 2 + rng.below(3) as usize;
        let source = case % 2;
        let len = [0, 1, 4, 6][rng.below(4) as usize];
        let words = if len == 0 { rng.range(1, 24) as usize } else { len * rng.range(1, 5) as usize };
        // Conv output without requantization: int32 sums, four bytes each.
        let raw = source == 0 && rng.below(3) == 0;
        let size = if raw { 4 } else { 1 };
        let (addr, stride) = (size * rng.range(0, 100) as usize, size * rng.range(len.max(1) as i64, 30) as usize);
        // Whole words, often, where the output banks have lanes.
        let whole = p.out_lanes == WB && source == 0 && !raw && rng.below(3) != 0;
        let len = if whole { WB * rng.range(0, 3) as usize } else { len };
        let words = if whole { WB * rng.range(1, 5) as usize * (len / WB).max(1) } else { words };
        let (addr, stride) = if whole { (WB * rng.range(0, 100) as usize, WB * rng.range((len / WB).max(1) as i64, 8) as usize) } else { (addr, stride) };
        let chunk = if len == 0 { words } else { len };
        let word_steps = p.out_lanes == WB && source == 0 && !raw && [addr, stride, chunk, words].iter().all(|v| v % WB == 0);
        word_stores += usize::from(word_steps);
        let half = source == 0 && rng.below(2) == 0;
        // The model: element i of chunk n, offset o, goes to byte addr + n·stride + o·size (its
        // low byte, or its four bytes if raw).
        let elems: Vec<(usize, u32)> = (0..words)
            .map(|i| {
                let (n, o) = if len == 0 { (0, i) } else { (i / len, i % len) };
                let word = if source == 0 {
                    let (t, cc, j) = (n / (c * k), n / k % c, n % k);
                    let b = if half { p.depths[4] / 2 } else { 0 };
                    on_chip(0, cc, b + (t * k + j) * len.max(1) + o)
                } else {
                    on_chip(1, 0, i)
                };
                (addr + n * stride + o * size, word)
            })
            .collect();
        let u = &mut h.uut;
        u.g_store.next = true;
        u.g_copy.next = false;
        u.g_sel.next = (source as u64).into();
        u.g_addr.next = (addr as u64).into();
        u.g_words.next = (words as u64).into();
        u.g_len.next = (len as u64).into();
        u.g_stride.next = (stride as u64).into();
        u.g_half.next = half;
        u.g_raw.next = raw;
        u.g_k.next = (k as u64).into();
        u.m.rsp_valid.next = false;
        u.go.next = true;
        h.step().unwrap();
        h.uut.go.next = false;
        let mut want = vec![0xA5u8; 8192];
        for &(a, v) in &elems {
            want[a..a + size].copy_from_slice(&v.to_le_bytes()[..size]);
        }
        let mut mem = vec![0xA5u8; 8192];
        let mut read: Option<(u32, u64)> = None;
        let mut write_words = vec![];
        for t in 0..2000u64 {
            let ready = rng.below(3) != 0;
            let u = &mut h.uut;
            u.m.req_ready.next = ready;
            if let Some((d, w)) = read {
                u.r_data.next = u64::from(d).into();
                u.r_word.next = w.into();
            }
            h.settle().unwrap();
            let u = &h.uut;
            if ready && u.m.req_valid.val() {
                assert!(u.m.req_we.val(), "case {case}: a store read memory");
                let (a, be, d) = (u.m.req_addr.val().index(), u.m.req_be.val().index(), u.m.req_wdata.val().to_u64());
                write_words.push(a);
                for b in 0..WB {
                    if be >> b & 1 == 1 {
                        mem[a * WB + b] = (d >> (8 * b)) as u8;
                    }
                }
            }
            // The buffer answers a read on the next cycle and holds the word until the next read.
            // With output lanes, the word of the eight entries from the read's (their low bytes).
            let next_read = u.r_en.val().then(|| {
                let bank = if u.r_sel.val() { 0 } else { (0..64).find(|&b| u.r_bank.val().get_bit(b)).expect("a bank") };
                let (src, a) = (usize::from(u.r_sel.val()), u.r_addr.val().index());
                let word = (0..WB).fold(0u64, |w, b| w | u64::from(on_chip(src, bank, a + b) as u8) << (8 * b));
                (on_chip(src, bank, a), if p.out_lanes == WB && src == 0 { word } else { 0 })
            });
            let done = !u.busy.val() && t > 0;
            if done && word_steps {
                assert!(t < words as u64, "case {case}: {words} elements in whole words took {t} cycles");
            }
            assert!(!u.err.val(), "case {case}: err");
            h.step().unwrap();
            read = next_read.or(read);
            if done {
                break;
            }
        }
        let mut runs: Vec<usize> = elems.iter().map(|e| e.0 / WB).collect();
        // (A raw element never straddles words: four bytes at a multiple of four.)
        runs.dedup();
        assert_eq!(write_words, runs, "case {case}: one write per run of elements in a word");
        assert_eq!(mem, want, "case {case}: source {source}, len {len}, stride {stride}, half {half}, word steps {word_steps}: memory after the store");
    }
    assert_eq!(word_stores > 2, p.out_lanes == WB, "{p:?}: stores in word steps exercised where built in");
}

/// Conv output banks and feature-memory banks of eight lanes: copies of whole words move a word
/// per cycle.
const P8C: DataMoverParams = DataMoverParams { out_lanes: 8, fm_lanes: 8, ..P };

#[test]
fn copies_put_every_element_where_both_address_tables_say() {
    let mut rng = Rng::from_env("data-mover-copies", 13);
    copies(&P, &mut rng);
    copies(&P8C, &mut rng);
}

/// 30 random copies of the conv output into the feature memory (`g_copy`): element i (chunk n,
/// offset o) is read where a store of source 0 reads it and written where a load of target 3
/// writes it (the two rows of the address table). Where both sides have L = 8 lanes, a copy whose
/// chunks are whole words on a map at least a word wide moves a word per step, a word crossing a
/// padded row's end written into two banks at once (docs/accelerator.md): drawn often, decided by
/// the rule, and done in fewer cycles than elements. No other feature-memory entry is written.
fn copies(p: &DataMoverParams, rng: &mut Rng) {
    let mut h = Harness::new(DataMover::<64, 8>::new(p)).unwrap();
    let (c, kfm) = (p.cols, p.fm_banks);
    let (mut word_copies, mut split_words) = (0, 0);
    for case in 0..30 {
        let k = 2 + rng.below(3) as usize;
        let whole = p.fm_lanes == WB && rng.below(4) != 0;
        let (fw, rows) = if whole {
            let fw = [8usize, 10, 12, 16, 20, 24][rng.below(6) as usize];
            (fw, (1..=WB).find(|r| (r * fw) % WB == 0).unwrap())
        } else {
            (1 + rng.below(12) as usize, 1 + rng.below(4) as usize)
        };
        let len = rows * fw;
        let nch = 1 + rng.below(3) as usize;
        let words = len * nch;
        let fph = rng.below(3) as usize;
        let hbw = ((rows + fph).div_ceil(kfm) + rng.below(2) as usize) * fw;
        let half = rng.below(2) == 0;
        let word_steps = p.fm_lanes == WB && p.out_lanes == WB && len % WB == 0 && words % WB == 0 && fw >= WB;
        word_copies += usize::from(word_steps);
        // The model: (bank, entry) of the feature memory -> the low byte read for it.
        let mut want = std::collections::BTreeMap::new();
        for i in 0..words {
            let (n, o) = (i / len, i % len);
            let (t, cc, j) = (n / (c * k), n / k % c, n % k);
            let b = if half { p.depths[4] / 2 } else { 0 };
            let v = on_chip(0, cc, b + (t * k + j) * len + o) as u8;
            let rho = o / fw + fph;
            want.insert((rho % kfm, n * hbw + (rho / kfm) * fw + o % fw), v);
        }
        let u = &mut h.uut;
        u.g_store.next = false;
        u.g_copy.next = true;
        u.g_sel.next = 0.into();
        u.g_words.next = (words as u64).into();
        u.g_len.next = (len as u64).into();
        u.g_half.next = half;
        u.g_raw.next = false;
        u.g_k.next = (k as u64).into();
        u.g_fw.next = (fw as u64).into();
        u.g_fph.next = (fph as u64).into();
        u.g_hbw.next = (hbw as u64).into();
        u.go.next = true;
        h.step().unwrap();
        h.uut.go.next = false;
        let mut got = std::collections::BTreeMap::new();
        let mut read: Option<(u32, u64)> = None;
        let mut t = 0u64;
        loop {
            let u = &mut h.uut;
            if let Some((d, w)) = read {
                u.r_data.next = u64::from(d).into();
                u.r_word.next = w.into();
            }
            h.settle().unwrap();
            let u = &h.uut;
            assert!(!u.m.req_valid.val(), "case {case}: a copy made a bus request");
            assert!(!u.err.val(), "case {case}: err");
            if u.w_en.val() {
                assert_eq!(u.w_sel.val().index(), 3, "case {case}: a copy wrote outside the feature memory");
                let mut put = |bank: usize, entry: usize, v: u8| assert!(got.insert((bank, entry), v).is_none(), "case {case}: ({bank}, {entry}) written twice");
                if u.w_wide.val() {
                    let (n_a, word) = (u.w_n.val().index(), u.w_word.val().to_u64());
                    assert!((1..=WB).contains(&n_a), "case {case}: a word of {n_a} elements on its row");
                    split_words += usize::from(n_a < WB);
                    for j in 0..WB {
                        let (bank, entry) = if j < n_a { (one_hot_index(u.w_bank.val()), u.w_addr.val().index() + j) } else { (one_hot_index(bit_cast::<64, 16>(u.w_bank_b.val())), u.w_addr_b.val().index() + j - n_a) };
                        put(bank, entry, (word >> (8 * j)) as u8);
                    }
                } else {
                    put(one_hot_index(u.w_bank.val()), u.w_addr.val().index(), u.w_data.val().index() as u8);
                }
            }
            // The output banks answer a read on the next cycle and hold the word until the next
            // read; with output lanes, the word of the eight entries from the read's.
            let next_read = u.r_en.val().then(|| {
                assert!(!u.r_sel.val(), "case {case}: a copy read the pooling output");
                let (bank, a) = (one_hot_index(u.r_bank.val()), u.r_addr.val().index());
                let word = (0..WB).fold(0u64, |w, b| w | u64::from(on_chip(0, bank, a + b) as u8) << (8 * b));
                (on_chip(0, bank, a), if p.out_lanes == WB { word } else { 0 })
            });
            let done = !u.busy.val() && t > 0;
            h.step().unwrap();
            read = next_read.or(read);
            t += 1;
            if done {
                break;
            }
            assert!(t < 4 * words as u64 + 20, "case {case}: the copy does not finish");
        }
        if word_steps {
            assert!(t <= (words / WB) as u64 + 4, "case {case}: {} words took {t} cycles", words / WB);
        }
        assert_eq!(got, want, "case {case}: W {fw}, rows {rows}, chunks {nch}, ph {fph}, half {half}, word steps {word_steps}: feature memory after the copy");
    }
    assert_eq!(word_copies > 5, p.fm_lanes == WB, "{p:?}: copies in word steps exercised where built in");
    assert_eq!(split_words > 5, p.fm_lanes == WB, "{p:?}: words across a row's end exercised where built in");
}
