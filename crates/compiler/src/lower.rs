//! The network compiler: a network file → the program `accel_top` executes (patents.md §3: "a
//! compiler turns the model into an instruction set for this chip"), with the external-memory
//! layout the program assumes. `docs/isa.md` describes the semantics; [`crate::interp`] executes
//! them in software and `accel_top` in hardware.
//!
//! **External memory** is byte-addressed and packed ([`crate::layout`]): one byte per int8
//! element, four little-endian bytes per int32 bias; transfer addresses and strides are byte
//! addresses, lengths count elements. Regions, each on a 64-byte boundary: from 0 the tensors,
//! the network input (C·H·W) and every layer's output in CHW order, placed by the memory plan
//! ([`crate::layout`]: tensors live at one step never share a byte, dead tensors' regions are
//! reused); above them, per convolution layer, its weight blocks (one per output-channel group and
//! input-channel group, each in the conv engine's pass order, zero where a tile runs past the
//! channels) and its bias blocks (one per output-channel group, in bias-bank order). In a graph each layer reads its
//! source's region; a conv layer joined to the add right after it has none (see below).
//!
//! **Adds** run on the output of the conv layer right before them, one of their operands and read
//! by nothing else ([`crate::layout`] refuses any other): the unit's constants (`ACT_ADDK`,
//! `ACT_ADD`) are written before the conv layer, and before each of its stores a `MEM_LOADADD` of
//! the other operand's same elements sums them into the output buffer, so the store writes the
//! add's output. Those instructions belong to the add layer.
//!
//! **Convolution layers** run as a sequence of *runs* of the conv engine. A run covers one
//! output-channel group (T output tiles of C·K channels), one input-channel group (G input tiles
//! of R channels) and one band of output rows. Output groups are as large as the weight buffer
//! allows when all input tiles fit it at once; otherwise a group is one output tile and its
//! input channels are split into groups whose sums accumulate in the accumulation buffer
//! (`ACC_TILES keep`/`drain`). Bands are the most output rows whose input rows (with the halo
//! a kernel taller than its stride needs) fit the first cache and whose sums fit the
//! accumulation and output buffers. Vertical padding is not stored: `PE_KERNEL.ph` gives a band
//! its padding rows above the first loaded row, and rows past the loaded ones are padding.
//!
//! **Pooling layers** run in channel groups and, when one channel's plane does not fit, in bands
//! of output rows (the feature memory holds `C·ceil((rows in + padding above and below)/k)·W` entries per bank, the
//! pooling output buffer `C·rows·Wo`); bands carry their padding like conv bands. A pooling
//! layer right after a conv layer with one output group is **fused**: its runs are issued inside
//! the conv layer's band loop, as soon as their input rows are in memory, or, when its windows do
//! not overlap vertically and have no vertical padding, each conv band's output is copied on chip
//! into the feature memory (`MEM_COPY`) and pooled without a round trip through external memory
//! (conv bands are then a multiple of the pooling stride). A fused layer's divider (`POOL_CLOCK`)
//! is written before the conv layer starts, with the engine idle; any other pooling layer's right
//! after the producing convolution layer's last `RUN`, so the unit switches rate when that layer
//! is done.
//!
//! A layer with several bands of one input group is **double-buffered**: bands fit half of the
//! first cache and of the output buffer and alternate halves, and the program is
//! `LOAD(0); for b: [SYNC mem, (b = 0: LOAD weights), RUN(b), STORE(b−1), LOAD(b+1)]; SYNC,
//! STORE(last)`, so the data mover loads the next band and stores the previous one while the
//! engine runs (a `RUN` waits for the engine to be idle, which is what makes refilling a half
//! safe). Other layers run `[LOAD input] SYNC mem, [LOAD weights], RUN, SYNC, [STORE]` per run. A
//! weight load right before its `RUN` streams into the run: the engine's loader reads an entry
//! only once it is written (docs/accelerator.md).

use crate::layout::{layout, Layout, ADDR_SPACE};
use crate::tiling::{ColTile, ConvTiling, LayerTiling};
use accelgen_config::HwConfig;
use accelgen_formats::{Layer, Network};
use accelgen_golden::PoolMode;
use accelgen_isa::Instr;
use accelgen_isa::{M_ACC, M_ACT, M_MEM, M_PE, M_POOL};


/// A compiled network.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The instructions, `END` last.
    pub prog: Vec<Instr>,
    /// The layer each instruction belongs to (`END` belongs to the last).
    pub layer_of: Vec<usize>,
    /// Where everything lives in external memory.
    pub layout: Layout,
}

struct Emitter {
    prog: Vec<Instr>,
    layer_of: Vec<usize>,
    layer: usize,
    at: String,
    /// The values `ACT_SCALE` and `PE_PAD` last wrote (reset: zero): written only when a layer
    /// needs other values, so a network without imported arithmetic has neither instruction.
    act_scale: [u64; 4],
    pe_pad: u64,
    /// The value `MEM_ROWS` last wrote (reset: zero).
    mem_rows: [u64; 4],
    /// The tap-row table entries `PE_ROWTAP` last wrote, by (group, row) (reset: zero).
    rowtap: std::collections::HashMap<(u64, u64), [u64; 3]>,
}

impl Emitter {
    fn push(&mut self, name: &str, v: &[u64]) -> Result<(), String> {
        let i = Instr::new(name, v).map_err(|e| format!("{}: {e}", self.at))?;
        self.prog.push(i);
        self.layer_of.push(self.layer);
        Ok(())
    }

    /// `ACT_SCALE` and `PE_PAD` for a layer, where they differ from what the registers hold.
    fn imported_arith(&mut self, scale: [u64; 4], pad: u64) -> Result<(), String> {
        if scale != self.act_scale {
            self.push("ACT_SCALE", &scale)?;
            self.act_scale = scale;
        }
        if pad != self.pe_pad {
            self.push("PE_PAD", &[pad])?;
            self.pe_pad = pad;
        }
        Ok(())
    }

    /// `PE_ROWTAP` for each entry of `table` that differs from what the engine's table holds.
    fn rowtaps(&mut self, table: &[[u64; 5]]) -> Result<(), String> {
        for &[g, r, off, dy, dx] in table {
            let now = self.rowtap.get(&(g, r)).copied().unwrap_or([0; 3]);
            if now != [off, dy, dx] {
                self.push("PE_ROWTAP", &[g, r, off, dy, dx])?;
                self.rowtap.insert((g, r), [off, dy, dx]);
            }
        }
        Ok(())
    }

    fn transfer(&mut self, name: &str, which: u64, addr: u64, words: u64, len: u64, stride: u64, half: u64) -> Result<(), String> {
        // Only a first-cache load needs `bcast` clear; other transfers keep whatever it is.
        let bcast = if name == "MEM_LOAD" && which == 0 { 0 } else { self.mem_rows[3] };
        self.transfer_runs(name, which, addr, words, [len, stride, half], [0, 0, 0, bcast])
    }

    /// A transfer whose chunks are `runs` = `[run, rows, step, bcast]` on the external side
    /// (`MEM_ROWS`; `[0, 0, 0, 0]`: contiguous chunks, one bank each), written only where it
    /// changes.
    fn transfer_runs(&mut self, name: &str, which: u64, addr: u64, words: u64, [len, stride, half]: [u64; 3], runs: [u64; 4]) -> Result<(), String> {
        if words == 0 {
            return Ok(());
        }
        if runs != self.mem_rows {
            self.push("MEM_ROWS", &runs)?;
            self.mem_rows = runs;
        }
        // Bytes per element: 4 for a bias load (int32), at most 4 for a store (int32 sums).
        let size = if (name == "MEM_LOAD" && which == 2) || (name == "MEM_STORE" && which == 0) { crate::layout::BIAS_BYTES } else { 1 };
        if addr + (words * size).max(stride * words.div_ceil(len.max(1))) > ADDR_SPACE + stride {
            return Err(format!("{}: a transfer at byte {addr} runs past the 26-bit address space", self.at));
        }
        self.push("MEM_SHAPE", &[len, stride, half])?;
        if name == "MEM_LOADADD" {
            return self.push(name, &[addr, words]);
        }
        self.push(name, &[which, addr, words])
    }
}


/// One pooling run: a channel group and a band of output rows.
#[derive(Clone, Debug)]
struct PoolRun {
    c0: u64,
    cg: u64,
    oy0: u64,
    rows: u64,
    r0: u64,
    hin: u64,
    ph_band: u64,
    hb: u64,
    /// Input rows the run needs: up to (exclusive).
    r1: usize,
    /// First output column and output columns (a conv layer's column tile pooled on chip; else
    /// 0 and Wo).
    ox0: u64,
    pwo: u64,
}

/// A pooling layer's runs, issued in order as their input rows become available; each run's
/// output is stored before the next run starts (one pooling output buffer).
struct PoolQueue {
    runs: std::collections::VecDeque<PoolRun>,
    pending: Option<PoolRun>,
    layer: usize,
    at: String,
    src: u64,
    dst: u64,
    /// h·w, w, ho·wo, wo, avg, window fields, xcols.
    h: u64,
    w: u64,
    ho: u64,
    wo: u64,
    window: [u64; 6],
    avg: u64,
    xcols: u64,
    /// Channels, and the feature memory's banks k.
    channels: u64,
    k: usize,
    /// The unit's columns per update n (a column tile's columns per row band).
    n_upd: usize,
}

impl PoolQueue {
    fn new(net: &Network, lay: &Layout, cfg: &HwConfig, i: usize) -> PoolQueue {
        let (Layer::Pool(pl), LayerTiling::Pool(t)) = (&net.layers[i], &lay.layers[i]) else { unreachable!("a pooling layer") };
        let input = net.input_shape(i);
        let out = &net.shapes[i + 1];
        let (cn, h, w) = (input[0], input[1], input[2]);
        let (ho, wo) = (out[1], out[2]);
        let pp = &pl.params;
        let k = cfg.pooling.rows_per_read as usize;
        let (ph, sh, kh) = (pp.padding[0], pp.stride[0], pp.kernel[0]);
        let mut runs = std::collections::VecDeque::new();
        let mut oy0 = 0;
        while oy0 < ho {
            let rows = t.band.min(ho - oy0);
            // Input rows r0..r1 of the band; `ph_band` padding rows above r0.
            let top = (oy0 * sh) as i64 - ph as i64;
            let r0 = top.max(0) as usize;
            let r1 = ((oy0 + rows - 1) * sh + kh).saturating_sub(ph).min(h);
            let ph_band = (r0 as i64 - top) as usize;
            let hb = ((r1 - r0) + 2 * ph_band).div_ceil(k) as u64;
            let mut c0 = 0;
            while c0 < cn {
                let cg = t.channels.min(cn - c0);
                runs.push_back(PoolRun {
                    c0: c0 as u64, cg: cg as u64, oy0: oy0 as u64, rows: rows as u64, r0: r0 as u64,
                    hin: (r1 - r0) as u64, ph_band: ph_band as u64, hb, r1, ox0: 0, pwo: wo as u64,
                });
                c0 += cg;
            }
            oy0 += rows;
        }
        PoolQueue {
            runs,
            pending: None,
            layer: i,
            at: format!("layers[{i}] ({})", net.layers[i].op()),
            src: lay.tensor(net.source_tensor(i, 0)),
            dst: lay.outputs[i],
            h: h as u64,
            w: w as u64,
            ho: ho as u64,
            wo: wo as u64,
            window: [pp.kernel[0] as u64, pp.kernel[1] as u64, sh as u64, pp.stride[1] as u64, 0, pp.padding[1] as u64],
            avg: u64::from(pl.mode == PoolMode::Avg),
            xcols: t.xcols as u64,
            channels: cn as u64,
            k,
            n_upd: cfg.pooling.cols_per_update as usize,
        }
    }

    /// On chip: pools conv output rows `oy0..oy0 + rows` (every channel) of the conv layer's
    /// column tile `tile` from the conv output buffer's half `half`, copied into the feature memory
    /// (`MEM_COPY`).
    fn on_chip_band(&mut self, m: &mut Emitter, oy0: usize, rows: usize, half: u64, tile: &ColTile) -> Result<(), String> {
        let (sh, sw) = (self.window[2] as usize, self.window[3] as usize);
        let (p_oy0, p_end) = (oy0 / sh, ((oy0 + rows) / sh).min(self.ho as usize));
        if p_end <= p_oy0 {
            return Ok(());
        }
        // The tile's columns in and out, and its columns per row band (the full width: the
        // layer's).
        let (w_in, p_ox0, pwo, xcols) = if tile.wo as u64 == self.w {
            (self.w, 0, self.wo, self.xcols)
        } else {
            let p_ox0 = (tile.ox0 / sw) as u64;
            let pwo = ((tile.wo / sw) as u64).min(self.wo - p_ox0);
            let xcols = crate::pool_plan::columns_per_band_n(self.n_upd, pwo as usize, self.window[1] as usize, sw) as u64;
            (tile.wo as u64, p_ox0, pwo, xcols)
        };
        let (layer, at) = (m.layer, std::mem::replace(&mut m.at, self.at.clone()));
        m.layer = self.layer;
        self.store_pending(m)?;
        let [kh, kw, _, _, _, pw] = self.window;
        let p_rows = (p_end - p_oy0) as u64;
        let hb = rows.div_ceil(self.k) as u64;
        m.push("POOL_SHAPE", &[self.channels, rows as u64, w_in, p_rows, pwo])?;
        m.push("POOL_WINDOW", &[self.avg, kh, kw, sh as u64, sw as u64, 0, pw])?;
        m.push("POOL_GEOM", &[hb, xcols])?;
        m.push("MEM_SHAPE", &[rows as u64 * w_in, 0, half])?;
        m.push("MEM_COPY", &[self.channels * rows as u64 * w_in])?;
        m.push("SYNC", &[M_MEM])?;
        m.push("RUN", &[M_POOL])?;
        self.pending = Some(PoolRun {
            c0: 0, cg: self.channels, oy0: p_oy0 as u64, rows: p_rows, r0: oy0 as u64, hin: rows as u64, ph_band: 0, hb,
            r1: oy0 + rows, ox0: p_ox0, pwo,
        });
        m.layer = layer;
        m.at = at;
        Ok(())
    }

    /// Stores the previous run's output (after it finishes).
    fn store_pending(&mut self, m: &mut Emitter) -> Result<(), String> {
        if let Some(r) = self.pending.take() {
            m.push("SYNC", &[M_POOL])?;
            let a = self.dst + r.c0 * self.ho * self.wo + r.oy0 * self.wo + r.ox0;
            // A column tile's rows are runs of its columns, a row of the output apart.
            // (`bcast` is for first-cache loads only: a store keeps whatever it is.)
            let runs = if r.pwo < self.wo { [r.pwo, r.rows, self.wo, m.mem_rows[3]] } else { [0, 0, 0, m.mem_rows[3]] };
            m.transfer_runs("MEM_STORE", 1, a, r.cg * r.rows * r.pwo, [r.rows * r.pwo, self.ho * self.wo, 0], runs)?;
        }
        Ok(())
    }

    /// Issues up to `most` runs whose input rows are below `stored` (input rows in memory).
    fn issue_ready(&mut self, m: &mut Emitter, stored: usize, most: usize) -> Result<(), String> {
        let (layer, at) = (m.layer, std::mem::replace(&mut m.at, self.at.clone()));
        m.layer = self.layer;
        let mut issued = 0;
        while issued < most && self.runs.front().is_some_and(|r| r.r1 <= stored) {
            issued += 1;
            let r = self.runs.pop_front().expect("checked");
            self.store_pending(m)?;
            let [kh, kw, sh, sw, _, pw] = self.window;
            m.push("POOL_SHAPE", &[r.cg, r.hin, self.w, r.rows, self.wo])?;
            m.push("POOL_WINDOW", &[self.avg, kh, kw, sh, sw, r.ph_band, pw])?;
            m.push("POOL_GEOM", &[r.hb, self.xcols])?;
            let a = self.src + r.c0 * self.h * self.w + r.r0 * self.w;
            m.transfer("MEM_LOAD", 3, a, r.cg * r.hin * self.w, r.hin * self.w, self.h * self.w, 0)?;
            m.push("SYNC", &[M_MEM])?;
            m.push("RUN", &[M_POOL])?;
            self.pending = Some(r);
        }
        m.layer = layer;
        m.at = at;
        Ok(())
    }

    /// Issues the rest and stores the last output.
    fn finish(&mut self, m: &mut Emitter) -> Result<(), String> {
        self.issue_ready(m, usize::MAX, usize::MAX)?;
        let (layer, at) = (m.layer, std::mem::replace(&mut m.at, self.at.clone()));
        m.layer = self.layer;
        self.store_pending(m)?;
        m.layer = layer;
        m.at = at;
        Ok(())
    }
}

/// Compiles `net` for `cfg`: the instructions only (see [`compile_full`]).
pub fn compile(net: &Network, cfg: &HwConfig) -> Result<Vec<Instr>, String> {
    Ok(compile_full(net, cfg)?.prog)
}

/// Compiles `net` for `cfg`.
pub fn compile_full(net: &Network, cfg: &HwConfig) -> Result<Compiled, String> {
    let e = cfg.conv_array();
    let lay = layout(net, cfg)?;
    let mut m = Emitter { prog: vec![], layer_of: vec![], layer: 0, at: String::new(), act_scale: [0; 4], pe_pad: 0, mem_rows: [0; 4], rowtap: Default::default() };
    // Pooling layers that run during their convolution layer (fused).
    let mut fused = vec![];
    for (i, layer) in net.layers.iter().enumerate() {
        m.layer = i;
        m.at = format!("layers[{i}] ({})", layer.op());
        let src = lay.tensor(net.source_tensor(i, 0));
        let dst = lay.outputs[i];
        // A pooling layer right after this conv layer, reading its output only: fused when the
        // conv layer has one output-channel group (every band holds every channel), else run
        // after it.
        let fuse = matches!(lay.layers.get(i + 1), Some(LayerTiling::Pool(_))) && lay.steps[i + 1] == i;
        let next_div = match net.layers.get(i + 1).zip(lay.layers.get(i + 1)) {
            Some((Layer::Pool(_), LayerTiling::Pool(p))) if !fuse && net.feeds_only_next(i) => Some(p.divider),
            _ => None,
        };
        // An add right after this conv layer, summed into its output before each store.
        let add = match lay.layers.get(i + 1) {
            Some(LayerTiling::Add(a)) if a.conv == i => Some((i + 1, a, lay.tensor(a.shortcut))),
            _ => None,
        };
        let mut pool_q = None;
        if fuse {
            fused.push(i + 1);
            let LayerTiling::Pool(pt) = &lay.layers[i + 1] else { unreachable!() };
            // The fused pooling layer's rate, written while the conv engine and the pooling
            // unit are idle: the previous layer is done, so it applies at once.
            m.layer = i + 1;
            m.push("POOL_CLOCK", &[u64::from(pt.divider)])?;
            m.layer = i;
            let mut q = PoolQueue::new(net, &lay, cfg, i + 1);
            if pt.on_chip {
                q.runs.clear();
            }
            pool_q = Some(q);
        }
        let on_chip = matches!(lay.layers.get(i + 1), Some(LayerTiling::Pool(pt)) if fuse && pt.on_chip);
        match (layer, &lay.layers[i]) {
            (Layer::Conv(cl), LayerTiling::Conv(t)) => {
                lower_conv(&mut m, &e, cl, t, (src, dst), next_div, pool_q.as_mut(), on_chip, add)?;
            }
            (Layer::Pool(_), LayerTiling::Pool(t)) => {
                if fused.contains(&i) {
                    continue;
                }
                let follows_conv = i > 0 && matches!(net.layers[i - 1], Layer::Conv(_)) && net.feeds_only_next(i - 1);
                if !follows_conv {
                    m.push("POOL_CLOCK", &[u64::from(t.divider)])?;
                }
                let mut q = PoolQueue::new(net, &lay, cfg, i);
                q.finish(&mut m)?;
            }
            // Run inside its conv layer's stores.
            (Layer::Add(_), LayerTiling::Add(_)) => {}
            _ => unreachable!("layout() follows the layers"),
        }
        if let Some(mut q) = pool_q {
            q.finish(&mut m)?;
        }
    }
    m.push("SYNC", &[M_MEM | M_PE | M_ACC | M_ACT | M_POOL])?;
    m.push("END", &[])?;
    Ok(Compiled { prog: m.prog, layer_of: m.layer_of, layout: lay })
}

/// The transfers and runs of conv layer `cl` (its tiling `t`, input at `src`, output at `dst`):
/// per output-channel group, its biases, then its bands, double-buffered or one input group at a
/// time; `next_div` is the rate of a pooling layer that follows unfused, `pool_q` a fused one's
/// runs (taking each band `on_chip` when set); `add` an add layer (index, tiling, the other
/// operand's address) summed into each part of the output before it is stored.
#[allow(clippy::too_many_arguments)]
fn lower_conv(
    m: &mut Emitter,
    e: &accelgen_config::ConvArray,
    cl: &accelgen_formats::ConvLayer,
    t: &ConvTiling,
    (src, dst): (u64, u64),
    next_div: Option<u32>,
    mut pool_q: Option<&mut PoolQueue>,
    on_chip: bool,
    add: Option<(usize, &crate::tiling::AddTiling, u64)>,
) -> Result<(), String> {
    if let Some((li, a, _)) = add {
        // The add unit's constants, with the add layer's name on its instructions.
        let layer = std::mem::replace(&mut m.layer, li);
        let u = &a.unit;
        for (which, bits) in [u.ra_bits, u.rb_bits, u.fixed_bits].into_iter().enumerate() {
            m.push("ACT_ADDK", &[which as u64, u64::from(bits)])?;
        }
        m.push("ACT_ADD", &[u.qmin as u8 as u64, u64::from(a.swap)])?;
        m.layer = layer;
    }
    // PE_KERNEL.k: the run's kernels, 0 for all K (the encoding of every run before k existed).
    let kfield = if t.plan.kernels == e.kernels { 0 } else { t.plan.kernels as u64 };
    // Layouts in the run's kernels k.
    let e = &t.plan.array(e);
    let (c, k) = (e.cols, e.kernels);
    let p = &t.plan;
    let (w, ho, wo) = (p.w as u64, p.ho as u64, p.wo as u64);
    let rq = cl.requant.map_or([0, 0, 0, 0, 0], |q| {
        [1, q.multiplier as u64, u64::from(q.shift), q.zero_point as u8 as u64, u64::from(q.relu)]
    });
    // ACT_SCALE: per-tensor scale, or per-channel scales from the scale bank.
    let scale = match (cl.requant.and_then(|q| q.ort), &cl.channel_scales) {
        (Some(_), Some(_)) => [1, 0, 0, 1],
        (Some(o), None) => [1, u64::from(o.sig), o.exp as i8 as u8 as u64, 0],
        (None, _) => [0, 0, 0, 0],
    };
    let pad = cl.params.pad_value as u8 as u64;
    let bands = p.ho.div_ceil(t.band);
    // Units of work: each band's column tiles, in order (one tile: the bands).
    let units: Vec<(usize, usize)> = (0..bands).flat_map(|b| (0..t.col_tiles()).map(move |ct| (b, ct))).collect();
    let last_ct = t.col_tiles() - 1;
    let last_run = (t.oc_groups(), units.len(), t.ic_groups());
    // Band geometry: output rows from oy0, input rows r0.., padding rows above r0.
    let band_geo = |b: usize| {
        let oy0 = b * t.band;
        let rows = t.band.min(p.ho - oy0);
        let top = (oy0 * p.stride[0]) as i64 - p.padding[0] as i64;
        let r0 = top.max(0) as usize;
        let r1 = ((oy0 + rows - 1) * p.stride[0] + p.kh).saturating_sub(p.padding[0]).min(p.h);
        (oy0, rows, r0, r1 - r0, (r0 as i64 - top) as u64)
    };
    for g in 0..t.oc_groups() {
        let tiles = t.tiles.min(p.oc_tiles - g * t.tiles);
        let cout_g = (p.cout - g * t.tiles * c * k).min(tiles * c * k) as u64;
        let (ba, bw) = t.bias_blocks[g];
        m.transfer("MEM_LOAD", 2, ba, bw, 0, 0, 0)?;
        if let Some(&(sa, sw)) = t.scale_blocks.get(g) {
            // The scale bank: a bias-buffer load with `half`.
            m.transfer("MEM_LOAD", 2, sa, sw, 0, 0, 1)?;
        }
        // The transfers of unit u (a band's column tile) of input group ig.
        let load_input = |m: &mut Emitter, u: usize, ig: usize, half: u64| {
            let (b, ct) = units[u];
            let (_, _, r0, hin, _) = band_geo(b);
            let tile = t.col_geo(ct);
            let gt = t.icg.min(p.ic_tiles - ig * t.icg);
            let cin_g = (p.cin - ig * t.icg * e.rows).min(gt * e.rows) as u64;
            let (hin, tw) = (hin as u64, tile.w as u64);
            if p.taps {
                // Tap rows: every input channel of the band once, into every bank
                // (`MEM_ROWS.bcast`); PE row r reads at its `PE_ROWTAP` offset.
                let cs = p.channel_stride();
                let a = src + (r0 * p.w + tile.x0) as u64;
                let runs = if tile.w < p.w { [tw, hin, w, 1] } else { [0, 0, 0, 1] };
                return m.transfer_runs("MEM_LOAD", 0, a, p.cin as u64 * hin * tw, [hin * tw, cs as u64, half], runs);
            }
            if p.row_view {
                // Row groups (the PE rows carry kernel rows): the band's input rows once, into
                // every bank (`MEM_ROWS.bcast`); PE row r reads r rows further (`PE_SHAPE.kg`).
                let a = src + (r0 * p.w + tile.x0) as u64;
                let rows = hin + p.bank_extra_rows() as u64;
                let runs = if tile.w < p.w { [tw, rows, w, 1] } else { [0, 0, 0, 1] };
                return m.transfer_runs("MEM_LOAD", 0, a, rows * tw, [rows * tw, 0, half], runs);
            }
            // Channels H·W apart.
            let cs = p.channel_stride();
            let a = src + ((ig * t.icg * e.rows) * cs + r0 * p.w + tile.x0) as u64;
            // A column tile's rows are runs of its columns, a row of the input apart.
            let runs = if tile.w < p.w { [tw, hin, w, 0] } else { [0, 0, 0, 0] };
            m.transfer_runs("MEM_LOAD", 0, a, cin_g * hin * tw, [hin * tw, cs as u64, half], runs)
        };
        // Bytes per output element: 4 for int32 sums (no requantization), else 1.
        let ob = if cl.requant.is_none() { crate::layout::BIAS_BYTES } else { 1 };
        let store_output = |m: &mut Emitter, u: usize, half: u64| {
            let (b, ct) = units[u];
            let (oy0, rows, ..) = band_geo(b);
            let tile = t.col_geo(ct);
            let a = dst + ob * ((g * t.tiles * c * k) as u64 * ho * wo + oy0 as u64 * wo + tile.ox0 as u64);
            let (rows, two) = (rows as u64, tile.wo as u64);
            let runs = if two < wo { [two, rows, ob * wo, m.mem_rows[3]] } else { [0, 0, 0, m.mem_rows[3]] };
            if let Some((li, _, shortcut)) = add {
                // The other operand's same elements (same shape, CHW), summed in place first.
                let layer = std::mem::replace(&mut m.layer, li);
                m.transfer_runs("MEM_LOADADD", 0, shortcut + (a - dst), cout_g * rows * two, [rows * two, ob * ho * wo, half], runs)?;
                m.layer = layer;
            }
            m.transfer_runs("MEM_STORE", 0, a, cout_g * rows * two, [rows * two, ob * ho * wo, half], runs)
        };
        // Unit u's output: stored, or pooled on chip by a fused pooling layer; a fused pooling
        // layer's runs whose input rows are then in memory (a band's last tile).
        let output = |m: &mut Emitter, q: &mut Option<&mut PoolQueue>, u: usize, half: u64| {
            let (b, ct) = units[u];
            let (oy0, rows, ..) = band_geo(b);
            if let (Some(q), true) = (q.as_deref_mut(), on_chip) {
                q.on_chip_band(m, oy0, rows, half, &t.col_geo(ct))?;
            } else {
                store_output(m, u, half)?;
            }
            Ok::<(), String>(())
        };
        // A run's weights, when it needs new ones, load after the `SYNC mem` that waits for its
        // input and right before its `RUN`: the engine starts while they stream in (its loader
        // reads an entry once the mover has written it, docs/conv-array.md).
        let run = |m: &mut Emitter, u: usize, ig: usize, half: u64, weights: Option<(u64, u64)>| {
            let (b, ct) = units[u];
            let (_, rows, _, hin, ph_band) = band_geo(b);
            let tile = t.col_geo(ct);
            let gt = t.icg.min(p.ic_tiles - ig * t.icg);
            m.push("PE_SHAPE", &[hin as u64, tile.w as u64, rows as u64, tile.wo as u64, p.row_groups() as u64])?;
            if p.taps {
                m.rowtaps(&p.rowtap_table(e, hin, tile.w))?;
            }
            let (rkh, rkw) = p.run_kernel();
            m.push("PE_COLS", &[p.groups_field(), p.gshift as u64])?;
            m.push("PE_KERNEL", &[rkh as u64, rkw as u64, p.stride[0] as u64, p.stride[1] as u64, ph_band, tile.pw as u64, kfield])?;
            let keep = u64::from(ig > 0);
            let drain = u64::from(ig + 1 == t.ic_groups());
            m.push("ACC_TILES", &[gt as u64, tiles as u64, keep, drain, half, half])?;
            m.push("ACT_REQUANT", &rq)?;
            m.imported_arith(scale, pad)?;
            m.push("SYNC", &[M_MEM])?;
            if let Some((wa, ww)) = weights {
                m.transfer("MEM_LOAD", 1, wa, ww, 0, 0, 0)?;
            }
            m.push("RUN", &[M_PE | M_ACC | M_ACT])?;
            if (g + 1, u + 1, ig + 1) == last_run {
                if let Some(d) = next_div {
                    // Applied by the pooling unit when this run (the layer) is done.
                    m.push("POOL_CLOCK", &[u64::from(d)])?;
                }
            }
            Ok::<(), String>(())
        };
        // After unit u's output: a fused pooling layer's runs whose input rows are in memory
        // (once a band's last tile is stored).
        let pool_ready = |m: &mut Emitter, q: &mut Option<&mut PoolQueue>, u: usize| {
            let (b, ct) = units[u];
            if let (Some(q), true) = (q.as_deref_mut(), ct == last_ct) {
                let (oy0, rows, ..) = band_geo(b);
                q.issue_ready(m, oy0 + rows, usize::MAX)?;
            }
            Ok::<(), String>(())
        };
        if t.double {
            // Unit u computes from half u mod 2 while unit u+1's input loads into the
            // other half and unit u−1's output stores from the other output half. A
            // RUN waits until the engine is idle, so a half is refilled only after the
            // run that read it, and SYNC mem before each run orders the rest.
            let (wa, ww) = t.weight_blocks[g][0];
            load_input(m, 0, 0, 0)?;
            for u in 0..units.len() {
                let half = (u % 2) as u64;
                run(m, u, 0, half, (u == 0).then_some((wa, ww)))?;
                if u > 0 {
                    output(m, &mut pool_q, u - 1, 1 - half)?;
                }
                if u + 1 < units.len() {
                    load_input(m, u + 1, 0, 1 - half)?;
                }
                if u > 0 && !on_chip {
                    // The mover runs transfers in order: unit u−1's rows are in
                    // memory before any later load reads them.
                    // Every ready run (measured on the VGG-style block: one run per
                    // band or taller pooling bands leave a longer tail).
                    pool_ready(m, &mut pool_q, u - 1)?;
                }
            }
            m.push("SYNC", &[M_PE | M_ACC | M_ACT])?;
            output(m, &mut pool_q, units.len() - 1, ((units.len() - 1) % 2) as u64)?;
        } else {
            for u in 0..units.len() {
                for ig in 0..t.ic_groups() {
                    let weights = (u == 0 || t.ic_groups() > 1).then_some(t.weight_blocks[g][ig]);
                    load_input(m, u, ig, 0)?;
                    run(m, u, ig, 0, weights)?;
                    m.push("SYNC", &[M_PE | M_ACC | M_ACT])?;
                }
                output(m, &mut pool_q, u, 0)?;
                if !on_chip {
                    pool_ready(m, &mut pool_q, u)?;
                }
            }
        }
    }
    Ok(())
}
