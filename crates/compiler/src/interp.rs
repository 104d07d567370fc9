//! A software interpreter of the instruction stream: what a program *means*, executed on a model
//! of external memory and of the on-chip buffers with the hardware's layouts (docs/isa.md,
//! "Program semantics"). It runs a compiled program on the memory image and leaves the network's
//! output in memory, so a compiler or layout bug shows up without simulating hardware; `accel_top`
//! must leave the same memory contents.
//!
//! Instructions run one after another (`RUN` completes at once, `SYNC` has nothing to wait for).
//! An access outside a buffer or outside memory, a run with a zero tile count or an illegal
//! opcode is an error naming the instruction.

use accelgen_config::HwConfig;
use accelgen_golden::ort_add::AddUnitConstants;
use accelgen_golden::{requantize, OrtScale, Requant};
use accelgen_config::{ConvArray, PoolArray};
use accelgen_isa::Instr;
use std::collections::HashMap;

/// What a program did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Elements read from external memory.
    pub mem_reads: u64,
    /// Elements written.
    pub mem_writes: u64,
    /// Bus words read and written (`memory.word_bits`): one access per run of consecutive
    /// elements in one word, as the data mover makes them.
    pub mem_read_words: u64,
    pub mem_write_words: u64,
    /// Conv engine and pooling unit runs.
    pub conv_runs: u64,
    /// Pooling runs.
    pub pool_runs: u64,
    /// Words copied on chip (`MEM_COPY`).
    pub copies: u64,
    /// Elements summed by the add unit (`MEM_LOADADD`; their reads count in `mem_reads`).
    pub adds: u64,
    /// Multiply-accumulates of the conv runs on real (non-padding) positions of loaded channels.
    pub macs: u64,
    /// The pooling divider in force at each pooling run.
    pub pool_dividers: Vec<u32>,
}

/// The machine state.
pub struct Machine {
    e: ConvArray,
    u: PoolArray,
    regs: HashMap<u8, Vec<u64>>,
    /// The tap-row table (`PE_ROWTAP`): (input-channel tile, PE row) → offset, dy, dx.
    rowtap: HashMap<(usize, usize), [usize; 3]>,
    fc: Vec<Vec<i8>>,
    wbuf: Vec<i8>,
    bias: Vec<Vec<i32>>,
    /// Scale banks (per-channel scale words, beside the bias banks).
    scale: Vec<Vec<i32>>,
    acc: Vec<[Vec<i32>; 2]>,
    out: Vec<Vec<i32>>,
    fm: Vec<Vec<i8>>,
    pout: Vec<i8>,
    /// The add unit's float32 constants (`ACT_ADDK`: r_a, r_b, fixed).
    add_k: [u32; 3],
    div: u32,
    div_req: u32,
    /// Bytes per bus word (`memory.word_bits` / 8).
    word_bytes: usize,
    /// External memory, packed bytes (int8 elements one byte each, int32 bias four bytes
    /// little-endian; `crate::layout`).
    pub mem: Vec<u8>,
    /// Counters.
    pub trace: Trace,
}

/// The conv output buffer's place of element `within` of chunk `chunk` (channel t·C·k + c·k + j:
/// bank c, entry B + (t·k + j)·len + within): `(bank, entry)`.
fn out_place(chunk: u64, within: u64, len: u64, base: u64, c: u64, k: u64) -> (usize, usize) {
    let (t, cc, j) = (chunk / (c * k), (chunk / k) % c, chunk % k);
    (cc as usize, (base + (t * k + j) * len + within) as usize)
}

fn get(b: &[u8], i: usize) -> u64 {
    b.get(i).map_or(0, |&v| u64::from(v))
}

impl Machine {
    /// A machine for `cfg` with external memory `mem`; every buffer zero.
    pub fn new(cfg: &HwConfig, mem: Vec<u8>) -> Machine {
        let e = cfg.conv_array();
        let u = cfg.pool_array();
        Machine {
            regs: HashMap::new(),
            rowtap: HashMap::new(),
            fc: vec![vec![0; e.first_cache_depth]; e.rows],
            wbuf: vec![0; e.weight_bank_depth() * e.cols],
            bias: vec![vec![0; e.bias_buffer_depth]; e.cols],
            scale: vec![vec![0; e.bias_buffer_depth]; e.cols],
            acc: (0..e.cols).map(|_| [vec![0; e.acc_buffer_depth], vec![0; e.acc_buffer_depth]]).collect(),
            out: vec![vec![0; e.output_buffer_depth]; e.cols],
            fm: vec![vec![0; u.feature_memory_depth]; u.rows_per_read],
            pout: vec![0; u.feature_memory_depth],
            add_k: [0; 3],
            div: 1,
            div_req: 0,
            word_bytes: (cfg.memory.word_bits / 8) as usize,
            e,
            u,
            mem,
            trace: Trace::default(),
        }
    }

    fn reg(&self, name: &str) -> Vec<u64> {
        let info = accelgen_isa::op_named(name).expect("known opcode");
        self.regs.get(&info.code).cloned().unwrap_or_else(|| vec![0; info.fields.len()])
    }

    /// The kernels each PE uses in a conv run, k: `PE_KERNEL.k`, or K where it is 0; 1 and
    /// values above K are refused, as the hardware's `bad` flag refuses them.
    fn run_kernels(&self) -> Result<usize, String> {
        match self.reg("PE_KERNEL")[6] as usize {
            0 => Ok(self.e.kernels),
            k if (2..=self.e.kernels).contains(&k) => Ok(k),
            k => Err(format!("PE_KERNEL.k = {k}: allowed 0 (all {} kernels) or 2..={}", self.e.kernels, self.e.kernels)),
        }
    }

    /// Runs `prog` (decompressed: no `MEM_ADD` or `REPEAT`) to its `END`.
    pub fn run(&mut self, prog: &[Instr]) -> Result<(), String> {
        let _ = get;
        for (n, i) in prog.iter().enumerate() {
            let at = |e: String| format!("instruction {n} ({}): {e}", i.disassemble());
            match i.info().name {
                "END" => return Ok(()),
                "NOP" | "SYNC" => {}
                "MEM_LOAD" => self.load(i.values[0], i.values[1], i.values[2]).map_err(at)?,
                "MEM_STORE" => self.store(i.values[0], i.values[1], i.values[2]).map_err(at)?,
                "MEM_COPY" => self.copy(i.values[0]).map_err(at)?,
                "MEM_LOADADD" => self.load_add(i.values[0], i.values[1]).map_err(at)?,
                "ACT_ADDK" => match self.add_k.get_mut(i.values[0] as usize) {
                    Some(k) => *k = i.values[1] as u32,
                    None => return Err(at(format!("ACT_ADDK.which = {}: allowed 0 (r_a), 1 (r_b), 2 (fixed)", i.values[0]))),
                },
                "RUN" => {
                    let m = i.values[0];
                    if m & (accelgen_isa::M_PE | accelgen_isa::M_ACC | accelgen_isa::M_ACT) != 0 {
                        self.conv().map_err(at)?;
                    }
                    if m & accelgen_isa::M_POOL != 0 {
                        self.pool().map_err(at)?;
                    }
                }
                "MEM_ADD" | "REPEAT" => return Err(at("a compressed form in a decompressed program".into())),
                "PE_ROWTAP" => {
                    let v = &i.values;
                    if v[1] as usize >= self.e.rows {
                        return Err(at(format!("PE_ROWTAP.row = {}: allowed 0..{} (the PE rows)", v[1], self.e.rows)));
                    }
                    self.rowtap.insert((v[0] as usize, v[1] as usize), [v[2] as usize, v[3] as usize, v[4] as usize]);
                }
                _ => {
                    self.regs.insert(i.code, i.values.clone());
                    if i.info().name == "POOL_CLOCK" {
                        // Applied when the running convolution is done; runs complete at once here.
                        self.div_req = i.values[0] as u32;
                        if self.div_req != 0 {
                            self.div = self.div_req;
                        }
                    }
                }
            }
        }
        Err("the program has no END".into())
    }

    fn chunks(&self, words: u64) -> (u64, u64) {
        let s = self.reg("MEM_SHAPE");
        let len = if s[0] == 0 { words.max(1) } else { s[0] };
        (len, s[1])
    }

    /// The external side's geometry: `[run, rows, step, stride]` (without `MEM_ROWS`, one run of
    /// the chunk length per chunk).
    fn ext_geometry(&self, words: u64) -> [u64; 4] {
        let (len, stride) = self.chunks(words);
        let r = self.reg("MEM_ROWS");
        if r[0] == 0 {
            [len, 1, 0, stride]
        } else {
            [r[0], if r[1] == 0 { 4096 } else { r[1] }, r[2], stride]
        }
    }

    /// `MEM_SHAPE.half`: the first cache's or output buffer's upper half.
    fn half(&self) -> bool {
        self.reg("MEM_SHAPE")[2] != 0
    }

    /// Byte address of element `i` of a transfer of `size`-byte elements (docs/isa.md: chunks
    /// of `rows` runs of `run` elements, `step` bytes apart), checked to lie inside the memory.
    fn ext(&self, addr: u64, i: u64, [run, rows, step, stride]: [u64; 4], size: u64) -> Result<usize, String> {
        let (q, j) = (i / (run * rows), i % (run * rows));
        let a = addr + q * stride + (j / run) * step + (j % run) * size;
        if a + size > self.mem.len() as u64 {
            return Err(format!("external byte address {a} is outside the memory ({} bytes)", self.mem.len()));
        }
        Ok(a as usize)
    }

    /// 1 if the element at byte `at` starts a new bus access (its word differs from the previous
    /// element's, `last`), else 0.
    fn bus_access(&self, last: &mut Option<usize>, at: usize) -> u64 {
        let word = at / self.word_bytes;
        u64::from(last.replace(word) != Some(word))
    }

    fn load(&mut self, target: u64, addr: u64, words: u64) -> Result<(), String> {
        let (len, _) = self.chunks(words);
        let g = self.ext_geometry(words);
        let (r, c, k) = (self.e.rows as u64, self.e.cols as u64, self.u.rows_per_read as u64);
        let pool_w = self.reg("POOL_SHAPE")[2];
        let ph = self.reg("POOL_WINDOW")[5];
        let hbw = self.reg("POOL_GEOM")[0] * pool_w;
        let fc_base = if self.half() { (self.e.first_cache_depth / 2) as u64 } else { 0 };
        let size = if target == 2 { crate::layout::BIAS_BYTES } else { 1 };
        let bcast = target == 0 && self.reg("MEM_ROWS")[3] != 0;
        let mut last_word = None;
        for i in 0..words {
            let at = self.ext(addr, i, g, size)?;
            self.trace.mem_read_words += self.bus_access(&mut last_word, at);
            let v = if target == 2 {
                i32::from_le_bytes(self.mem[at..at + 4].try_into().expect("4 bytes"))
            } else {
                i32::from(self.mem[at] as i8)
            };
            let (chunk, within) = (i / len, i % len);
            let (bank, a, depth) = match target {
                // Broadcast (`MEM_ROWS.bcast`): chunk n in every bank, a plane per chunk.
                0 if bcast => (0, fc_base + chunk * len + within, self.e.first_cache_depth),
                0 => (chunk % r, fc_base + (chunk / r) * len + within, self.e.first_cache_depth),
                1 => (i % c, i / c, self.e.weight_bank_depth()),
                2 => (i % c, i / c, self.e.bias_buffer_depth),
                _ => {
                    if pool_w == 0 {
                        return Err("a feature-memory load needs POOL_SHAPE.w".into());
                    }
                    let rho = within / pool_w + ph;
                    (rho % k, chunk * hbw + (rho / k) * pool_w + within % pool_w, self.u.feature_memory_depth)
                }
            };
            if a as usize >= depth {
                if target == 1 {
                    return Err(format!("word {i} goes to entry {a} of weight bank {bank}, past its {depth} entries (the {c} banks hold {} weights; target 1)", depth * c as usize));
                }
                return Err(format!("word {i} goes to entry {a} of a {depth}-entry buffer (target {target})"));
            }
            let (b, a) = (bank as usize, a as usize);
            match target {
                0 if bcast => self.fc.iter_mut().for_each(|bank| bank[a] = v as i8),
                0 => self.fc[b][a] = v as i8,
                1 => self.wbuf[a * self.e.cols + b] = v as i8,
                2 if self.half() => self.scale[b][a] = v,
                2 => self.bias[b][a] = v,
                _ => self.fm[b][a] = v as i8,
            }
        }
        self.trace.mem_reads += words;
        Ok(())
    }

    fn store(&mut self, source: u64, addr: u64, words: u64) -> Result<(), String> {
        let (len, _) = self.chunks(words);
        let g = self.ext_geometry(words);
        let (c, k) = (self.e.cols as u64, self.run_kernels()? as u64);
        let out_base = if self.half() { (self.e.output_buffer_depth / 2) as u64 } else { 0 };
        let raw = source == 0 && self.reg("ACT_REQUANT")[0] == 0;
        let mut last_word = None;
        for i in 0..words {
            let (chunk, within) = (i / len, i % len);
            let v = if source == 0 {
                let (cc, a) = out_place(chunk, within, len, out_base, c, k);
                *self.out[cc].get(a).ok_or_else(|| format!("word {i} reads entry {a} of the output buffer"))? as u32
            } else {
                *self.pout.get(i as usize).ok_or_else(|| format!("word {i} reads past the pooling output buffer"))? as i32 as u32
            };
            // int8 elements: the low byte. Conv sums without requantization: four bytes.
            let size = if raw { crate::layout::BIAS_BYTES } else { 1 };
            let a = self.ext(addr, i, g, size)?;
            self.trace.mem_write_words += self.bus_access(&mut last_word, a);
            self.mem[a..a + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
        }
        self.trace.mem_writes += words;
        Ok(())
    }

    /// `MEM_COPY`: the conv output buffer (store layout of source 0) into the feature memory
    /// (load layout of target 3), on chip.
    fn copy(&mut self, words: u64) -> Result<(), String> {
        let (len, _) = self.chunks(words);
        let (c, k) = (self.e.cols as u64, self.run_kernels()? as u64);
        let out_base = if self.half() { (self.e.output_buffer_depth / 2) as u64 } else { 0 };
        let pool_w = self.reg("POOL_SHAPE")[2];
        let ph = self.reg("POOL_WINDOW")[5];
        let hbw = self.reg("POOL_GEOM")[0] * pool_w;
        let kb = self.u.rows_per_read as u64;
        if pool_w == 0 {
            return Err("a copy into the feature memory needs POOL_SHAPE.w".into());
        }
        for i in 0..words {
            let (chunk, within) = (i / len, i % len);
            let (cc, a) = out_place(chunk, within, len, out_base, c, k);
            let v = *self.out[cc].get(a).ok_or_else(|| format!("word {i} reads entry {a} of the output buffer"))?;
            let rho = within / pool_w + ph;
            let d = (chunk * hbw + (rho / kb) * pool_w + within % pool_w) as usize;
            if d >= self.u.feature_memory_depth {
                return Err(format!("word {i} goes to entry {d} of a {}-entry buffer (feature memory)", self.u.feature_memory_depth));
            }
            self.fm[(rho % kb) as usize][d] = v as i8;
        }
        self.trace.copies += words;
        Ok(())
    }

    /// `MEM_LOADADD`: each int8 element read as a load reads it meets the output buffer element
    /// a store of source 0 reads as the same element; the add unit's sum replaces the latter.
    fn load_add(&mut self, addr: u64, words: u64) -> Result<(), String> {
        if self.reg("ACT_REQUANT")[0] == 0 {
            return Err("a load-add needs requantized conv output (ACT_REQUANT.en = 1)".into());
        }
        let (len, _) = self.chunks(words);
        let g = self.ext_geometry(words);
        let (c, k) = (self.e.cols as u64, self.run_kernels()? as u64);
        let out_base = if self.half() { (self.e.output_buffer_depth / 2) as u64 } else { 0 };
        let mode = self.reg("ACT_ADD");
        let unit = AddUnitConstants { ra_bits: self.add_k[0], rb_bits: self.add_k[1], fixed_bits: self.add_k[2], qmin: mode[0] as u8 as i8 };
        let swap = mode[1] != 0;
        let mut last_word = None;
        for i in 0..words {
            let at = self.ext(addr, i, g, 1)?;
            self.trace.mem_read_words += self.bus_access(&mut last_word, at);
            let ext = self.mem[at] as i8;
            let (cc, a) = out_place(i / len, i % len, len, out_base, c, k);
            // The buffer's int8 element: the low byte of the entry, as a store takes it.
            let here = *self.out[cc].get(a).ok_or_else(|| format!("word {i} reads entry {a} of the output buffer"))? as i8;
            let y = if swap { unit.apply(ext, here) } else { unit.apply(here, ext) };
            self.out[cc][a] = i32::from(y);
        }
        self.trace.mem_reads += words;
        self.trace.adds += words;
        Ok(())
    }

    fn conv(&mut self) -> Result<(), String> {
        let s = self.reg("PE_SHAPE");
        let kn = self.reg("PE_KERNEL");
        let t = self.reg("ACC_TILES");
        let q = self.reg("ACT_REQUANT");
        let [h, w, ho, wo] = [s[0], s[1], s[2], s[3]].map(|v| v as usize);
        // Row groups (`PE_SHAPE.kg` ≥ 2): PE row rr reads (rr mod kg) rows further.
        let kg = s[4] as usize;
        let row_off = |rr: usize| if kg >= 2 { (rr % kg) * w } else { 0 };
        let [kh, kw, sh, sw, ph, pw] = [kn[0], kn[1], kn[2], kn[3], kn[4], kn[5]].map(|v| v as usize);
        let (ic_tiles, oc_tiles, keep, drain) = (t[0] as usize, t[1] as usize, t[2] != 0, t[3] != 0);
        let fbase = if t[4] != 0 { self.e.first_cache_depth / 2 } else { 0 };
        let obase = if t[5] != 0 { self.e.output_buffer_depth / 2 } else { 0 };
        if [h, w, ho, wo, kh, kw, sh, sw, ic_tiles, oc_tiles].contains(&0) {
            return Err("a conv run with a zero size, stride or tile count".into());
        }
        let (r, c, k) = (self.e.rows, self.e.cols, self.run_kernels()?);
        // Column groups (`PE_COLS`): column cc is in group cc div (C / groups) and takes the slot
        // gs·group columns right of each output pixel; the drain folds the groups' sums.
        let cols = self.reg("PE_COLS");
        let (cg, gs) = (cols[0] as usize, cols[1] as usize);
        if cg > 2 || c % (1 << cg) != 0 {
            return Err(format!("PE_COLS.groups = {cg}: allowed 0..=2 with C = {c} divisible by 2^groups"));
        }
        let gw = c >> cg;
        let ek = accelgen_config::ConvArray { kernels: k, ..self.e };
        let (plane, p_n) = (h * w, ho * wo);
        // (Tap rows read every tile's rows at their table offsets, each read checked below.)
        if (kg != 1 && fbase + ic_tiles * plane > self.e.first_cache_depth)
            || oc_tiles * ic_tiles * kh * kw * r * c * k > self.e.weight_buffer_depth
            || p_n * k > self.e.acc_buffer_depth
            || obase + oc_tiles * k * p_n > self.e.output_buffer_depth
            || oc_tiles * k > self.e.bias_buffer_depth
            || (!drain && oc_tiles > 2)
        {
            return Err("the run does not fit the conv engine's buffers".into());
        }
        let sc = self.reg("ACT_SCALE");
        let ort = (sc[0] != 0).then(|| OrtScale { sig: sc[1] as u32, exp: sc[2] as u8 as i8 as i32 });
        let rq = Requant { multiplier: q[1] as i32, shift: q[2] as u32, zero_point: q[3] as u8 as i8 as i32, relu: q[4] != 0, ort };
        // Padding pixels stream PE_PAD's value into every row.
        let pad = i32::from(self.reg("PE_PAD")[0] as u8 as i8);
        for tt in 0..oc_tiles {
            let half = tt % 2;
            for cc in 0..c {
                for j in 0..k {
                    for p in 0..p_n {
                        let (oy, ox) = (p / wo, p % wo + cc / gw * gs);
                        let mut sum = 0i32;
                        for ict in 0..ic_tiles {
                            for kr in 0..kh {
                                let iyp = oy * sh + kr;
                                for ks in 0..kw {
                                    let ixp = ox * sw + ks;
                                    let pass = ((tt * ic_tiles + ict) * kh + kr) * kw + ks;
                                    // The slot's entry (16-bit, as the issuer forms it), and per row
                                    // its padded pixel and offset: the slot's, or with tap rows
                                    // (kg = 1) moved by the row's table entry for this tile.
                                    let a = ((fbase + ict * plane + iyp * w + ixp) as i64 - (ph * w + pw) as i64).rem_euclid(1 << 16) as usize;
                                    let mut real = false;
                                    for rr in 0..r {
                                        let [off, dy, dx] = if kg == 1 { self.rowtap.get(&(ict % 8, rr)).copied().unwrap_or([0; 3]) } else { [row_off(rr), 0, 0] };
                                        let (y, x) = (iyp + dy, ixp + dx);
                                        let wv = self.wbuf[pass * r * c * k + ek.weight_slot(rr, cc, j)];
                                        if y < ph || y >= h + ph || x < pw || x >= w + pw {
                                            sum = sum.wrapping_add(pad * i32::from(wv));
                                            continue;
                                        }
                                        real = true;
                                        let at = (a + off) & 0xFFFF;
                                        let v = *self.fc[rr].get(at).ok_or_else(|| format!("row {rr} reads past the first cache (entry {at})"))?;
                                        sum = sum.wrapping_add(i32::from(v) * i32::from(wv));
                                    }
                                    if real {
                                        self.trace.macs += 1;
                                    }
                                }
                            }
                        }
                        let e = p * k + j;
                        let acc = if keep { self.acc[cc][half][e].wrapping_add(sum) } else { sum };
                        self.acc[cc][half][e] = acc;
                    }
                }
            }
            if !drain {
                continue;
            }
            // The drain's fold (ConvEngine): columns c and c + C/2 (2 or 4 groups), then c and
            // c + C/4 (4 groups); the other columns pass their own sums on.
            let acc = &self.acc;
            let fold1 = |cc: usize, e: usize| {
                let v = acc[cc][half][e];
                if cg >= 1 && cc < c / 2 { v.wrapping_add(acc[cc + c / 2][half][e]) } else { v }
            };
            let fold = |cc: usize, e: usize| {
                let v = fold1(cc, e);
                if cg == 2 && c % 4 == 0 && cc < c / 4 { v.wrapping_add(fold1(cc + c / 4, e)) } else { v }
            };
            for cc in 0..c {
                for j in 0..k {
                    for p in 0..p_n {
                        let v = fold(cc, p * k + j).wrapping_add(self.bias[cc][tt * k + j]);
                        // Per-channel scales: the scale bank's word beside the bias.
                        let w = self.scale[cc][tt * k + j] as u32;
                        let rq = if sc[0] != 0 && sc[3] != 0 { Requant { ort: Some(OrtScale { sig: w & 0xFF_FFFF, exp: (w >> 24) as u8 as i8 as i32 }), ..rq } } else { rq };
                        self.out[cc][obase + (tt * k + j) * p_n + p] = if q[0] != 0 { i32::from(requantize(v, &rq)) } else { v };
                    }
                }
            }
        }
        self.trace.conv_runs += 1;
        Ok(())
    }

    fn pool(&mut self) -> Result<(), String> {
        let s = self.reg("POOL_SHAPE");
        let win = self.reg("POOL_WINDOW");
        let g = self.reg("POOL_GEOM");
        let [cn, h, w, ho, wo] = [s[0], s[1], s[2], s[3], s[4]].map(|v| v as usize);
        let [avg, kh, kw, sh, sw, ph, pw] = [win[0], win[1], win[2], win[3], win[4], win[5], win[6]].map(|v| v as usize);
        let hbw = g[0] as usize * w;
        let k = self.u.rows_per_read;
        if [cn, h, w, ho, wo, kh, kw, sh, sw].contains(&0) || sh > k || kh > self.u.max_window || kw > self.u.max_window {
            return Err("a pooling run with a zero size or a window, stride beyond the unit".into());
        }
        if cn * hbw > self.u.feature_memory_depth || cn * ho * wo > self.pout.len() {
            return Err("the run does not fit the pooling unit's memories".into());
        }
        let count = (kh * kw) as i64;
        for c in 0..cn {
            for oy in 0..ho {
                for ox in 0..wo {
                    let (mut max, mut sum) = (i64::MIN, 0i64);
                    for rr in 0..kh {
                        let rho = oy * sh + rr;
                        if rho < ph || rho >= h + ph {
                            continue;
                        }
                        for ss in 0..kw {
                            let xp = ox * sw + ss;
                            if xp < pw || xp >= w + pw {
                                continue;
                            }
                            let v = i64::from(self.fm[rho % k][c * hbw + (rho / k) * w + xp - pw]);
                            max = max.max(v);
                            sum += v;
                        }
                    }
                    let v = if avg != 0 { (2 * sum + count).div_euclid(2 * count) } else { max };
                    self.pout[(c * ho + oy) * wo + ox] = v as i8;
                }
            }
        }
        self.trace.pool_runs += 1;
        self.trace.pool_dividers.push(self.div);
        Ok(())
    }
}

/// Runs a compiled network in the interpreter: the output tensor's elements (int8 values, or
/// int32 sums for a last conv layer without requantization).
pub fn run_compiled(c: &crate::lower::Compiled, cfg: &HwConfig, mem: Vec<u8>) -> Result<(Vec<i32>, Trace), String> {
    let mut m = Machine::new(cfg, mem);
    m.run(&c.prog)?;
    let lay = &c.layout;
    let (o, n, size) = lay.output();
    Ok((crate::layout::read_elements(&m.mem, o, n, size), m.trace))
}
