//! The external-memory layout of a compiled network ([`Layout`]): every layer's tiling, its
//! weight and bias blocks, and every tensor's region (byte addresses; the rules are in the
//! header of [`crate::lower`]), and the memory image a run starts from ([`memory_image`]).
//!
//! External memory is packed as numpy writes tensors (`x.tobytes()`): one byte per int8
//! element (inputs, weights, every layer's output, CHW), four little-endian bytes per int32
//! bias. Every region starts on a [`REGION_ALIGN`]-byte boundary. The tensors are placed from 0
//! by the memory plan ([`crate::memplan`]) over the steps the layers' instructions run in
//! ([`Layout::steps`]); the weight, bias and scale blocks lie above them.

use crate::conv_plan::ConvPlan;
use crate::planner::plan_clock;
use crate::pool_plan::columns_per_band;
use crate::tiling::{col_rule, conv_tiling, fit_err, on_chip_multiple, output_stored, AddTiling, ConvTiling, LayerTiling, PoolTiling};
use accelgen_config::HwConfig;
use accelgen_formats::{Layer, Network, Source};

/// Largest external-memory byte address + 1 (the 26-bit `addr` fields).
pub const ADDR_SPACE: u64 = 1 << 26;

/// Every region (tensor, weight block, bias block) starts on a multiple of this many bytes: a
/// whole word of the widest memory port (128 bits) and a quarter of an AXI 4 KiB page, so a
/// region never shares a bus word with another.
pub const REGION_ALIGN: u64 = 64;

/// Bytes of a bias element (int32).
pub const BIAS_BYTES: u64 = 4;

/// Bytes per element of layer `i`'s output: 4 for a conv layer without requantization (int32
/// sums; only a network's last layer), else 1 (int8).
pub fn output_bytes(net: &Network, i: usize) -> u64 {
    match net.layers.get(i) {
        Some(Layer::Conv(c)) if c.requant.is_none() => 4,
        _ => 1,
    }
}

/// `n` elements of `size` bytes (1: int8, 4: int32 little-endian) at byte `at` of `mem`.
pub fn read_elements(mem: &[u8], at: usize, n: usize, size: u64) -> Vec<i32> {
    let m = &mem[at..at + n * size as usize];
    if size == 4 {
        m.chunks_exact(4).map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes"))).collect()
    } else {
        m.iter().map(|&b| i32::from(b as i8)).collect()
    }
}

impl Layout {
    /// The packed minimum of a run's memory traffic (a model figure): every tensor, weight and
    /// bias byte moved once.
    pub fn min_bytes(&self) -> u64 {
        let stored = |t: usize| t == 0 || !self.fused[t - 1];
        (0..self.sizes.len()).filter(|&t| stored(t)).map(|t| self.sizes[t] * self.elem_bytes[t]).sum::<u64>()
            + self
                .layers
                .iter()
                .map(|t| match t {
                    LayerTiling::Conv(t) => {
                        let scales = if t.scale_blocks.is_empty() { 0 } else { BIAS_BYTES * t.plan.cout as u64 };
                        (t.plan.cout * t.plan.cin * t.plan.kh * t.plan.kw) as u64 + BIAS_BYTES * t.plan.cout as u64 + scales
                    }
                    LayerTiling::Pool(_) | LayerTiling::Add(_) => 0,
                })
                .sum::<u64>()
    }

    /// The byte address of tensor `t` (0: the input, j + 1: layer j's output).
    pub fn tensor(&self, t: usize) -> u64 {
        if t == 0 {
            self.input
        } else {
            self.outputs[t - 1]
        }
    }

    /// The network output's byte address, element count and bytes per element.
    pub fn output(&self) -> (usize, usize, u64) {
        let o = *self.outputs.last().expect("a layer") as usize;
        (o, *self.sizes.last().expect("a layer") as usize, *self.elem_bytes.last().expect("a layer"))
    }
}

fn align(a: u64) -> u64 {
    a.div_ceil(REGION_ALIGN) * REGION_ALIGN
}



/// The external-memory layout of a compiled network (byte addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The network input.
    pub input: u64,
    /// Each layer's output (the last one is the network's output).
    pub outputs: Vec<u64>,
    /// Element count of every tensor: the input, then each layer's output (bytes: the same, or
    /// four times for int32 sums, [`output_bytes`]).
    pub sizes: Vec<u64>,
    /// Bytes per element of every tensor, in the order of `sizes` (1, or 4 for int32 sums).
    pub elem_bytes: Vec<u64>,
    /// Per layer, its tiling (weight blocks: byte address and int8 elements; bias blocks: byte
    /// address and int32 elements).
    pub layers: Vec<LayerTiling>,
    /// Per layer, whether its output is never stored (a conv layer joined to the add right after
    /// it: its region is the add's, written with the sums).
    pub fused: Vec<bool>,
    /// Per layer, the step its instructions are emitted in: its own index, or the conv layer's
    /// before it for a pooling layer fused with it and an add joined to it.
    pub steps: Vec<usize>,
    /// Per tensor (0: the input, j + 1: layer j's output), the steps it is live over:
    /// `[written, last read]` (the network output: to the last step). Tensors live at one step
    /// never share a byte; a dead tensor's bytes are reused ([`crate::memplan`]).
    pub live: Vec<[usize; 2]>,
    /// Bytes the layout uses.
    pub bytes: u64,
}


/// The tiling of conv layer `i` (plan `plan`): [`conv_tiling`], at full width where column tiles
/// would meet a fused pooling layer that cannot take them on chip.
pub(crate) fn conv_layer_tiling(cfg: &HwConfig, net: &Network, i: usize, plan: crate::conv_plan::ConvPlan, at: &str) -> Result<ConvTiling, String> {
    let (e, u) = (cfg.conv_array(), cfg.pool_array());
    let (e, u) = (&e, &u);
    let (multiple, stored) = (on_chip_multiple(net, i), output_stored(net, i));
    let lanes = cfg.first_cache_lanes();
    let t = conv_tiling(e, plan.clone(), at, multiple, stored, col_rule(net, i, (cfg.memory.word_bits / 8) as usize), lanes)?;
    if t.cols < t.plan.wo && t.oc_groups() == 1 && !stored && !pool_on_chip(u, net, i + 1, &t) {
        return conv_tiling(e, plan, at, multiple, stored, None, lanes);
    }
    Ok(t)
}

/// Whether pooling layer `i`, right after conv layer `i` − 1 of tiling `ct`, takes each band (and
/// column tile) of it on chip: the conv layer has one output group and its bands hold whole
/// windows, and a band of every channel fits the feature memory and its output the pooling output
/// buffer.
fn pool_on_chip(u: &accelgen_config::PoolArray, net: &Network, i: usize, ct: &ConvTiling) -> bool {
    let Some(Layer::Pool(pl)) = net.layers.get(i) else { return false };
    let p = &pl.params;
    let (c, wo) = (net.input_shape(i)[0], net.shapes[i + 1][2]);
    let rows = ct.band.min(ct.plan.ho);
    // A column tile's width in and out (its windows whole: `col_multiple`).
    let (w_t, wo_t) = if ct.cols < ct.plan.wo { (ct.cols, ct.cols / p.stride[1]) } else { (ct.plan.wo, wo) };
    ct.oc_groups() == 1
        && on_chip_multiple(net, i - 1) > 1
        && (rows % p.stride[0] == 0 || rows == ct.plan.ho)
        && rows >= p.stride[0]
        && c * rows.div_ceil(u.rows_per_read) * w_t <= u.feature_memory_depth
        && c * (rows / p.stride[0]) * wo_t <= u.feature_memory_depth
        && c < 1 << 12
}

/// The layout and tiling of `net` on `cfg` (no instructions).
pub fn layout(net: &Network, cfg: &HwConfig) -> Result<Layout, String> {
    let e = cfg.conv_array();
    let u = cfg.pool_array();
    let dividers = plan_clock(net, cfg)?;
    // Weight, bias and scale blocks from 0 here; moved above the tensors' regions at the end.
    let mut next = 0;
    let mut layers = vec![];
    for (i, layer) in net.layers.iter().enumerate() {
        let at = format!("layers[{i}] ({})", layer.op());
        let input = net.input_shape(i);
        match layer {
            Layer::Conv(cl) => {
                let plan = ConvPlan::for_layer(&e, input, cl).map_err(|err| format!("{at}: {err}"))?;
                if plan.kh > 31 || plan.kw > 31 || plan.stride[0] > 7 || plan.stride[1] > 7 || plan.padding[0] > 7 || plan.padding[1] > 7 {
                    return Err(format!("{at}: kernel sides must be at most 31 and stride and padding at most 7 (the PE_KERNEL fields)"));
                }
                if plan.w > 1023 || plan.wo > 1023 || plan.ic_tiles > 255 || plan.oc_tiles > 255 {
                    return Err(format!("{at}: W and Wo must be at most 1023 and the channel tiles at most 255 (the PE_SHAPE and ACC_TILES fields)"));
                }
                // Tap rows hold every input channel in every first-cache bank: where no band of
                // them fits, the layer runs with the row groups or the plain plan.
                let mut t = match conv_layer_tiling(cfg, net, i, plan.clone(), &at) {
                    Err(_) if plan.taps => {
                        conv_layer_tiling(cfg, net, i, ConvPlan::for_layer_rows(&e, input, cl).map_err(|err| format!("{at}: {err}"))?, &at)?
                    }
                    t => t?,
                };
                // Weight and bias blocks in the layout of the run's kernels k.
                let e = t.plan.array(&e);
                let per_pass = (e.rows * e.cols * e.kernels) as u64;
                for g in 0..t.oc_groups() {
                    let tiles = t.tiles.min(t.plan.oc_tiles - g * t.tiles) as u64;
                    let mut row = vec![];
                    for ig in 0..t.ic_groups() {
                        let gt = t.icg.min(t.plan.ic_tiles - ig * t.icg) as u64;
                        let (rkh, rkw) = t.plan.run_kernel();
                        let words = tiles * gt * (rkh * rkw) as u64 * per_pass;
                        row.push((next, words));
                        next = align(next + words);
                    }
                    t.weight_blocks.push(row);
                }
                for g in 0..t.oc_groups() {
                    let tiles = t.tiles.min(t.plan.oc_tiles - g * t.tiles) as u64;
                    let words = tiles * (e.kernels * e.cols) as u64;
                    t.bias_blocks.push((next, words));
                    next = align(next + words * BIAS_BYTES);
                }
                if cl.channel_scales.is_some() {
                    for &(_, words) in &t.bias_blocks.clone() {
                        t.scale_blocks.push((next, words));
                        next = align(next + words * BIAS_BYTES);
                    }
                }
                layers.push(LayerTiling::Conv(t));
            }
            Layer::Add(al) => {
                let t = add_tiling(net, i, &al.q).map_err(|e| format!("{at}: {e}"))?;
                // The first version: the load-add writes the output buffer through the engine's
                // port, so the conv layer's stores run with the engine idle (no double buffering).
                if let Some(LayerTiling::Conv(ct)) = layers.get_mut(t.conv) {
                    ct.double = false;
                }
                layers.push(LayerTiling::Add(t));
            }
            Layer::Pool(pl) => {
                let [c, h, w] = [input[0], input[1], input[2]];
                let out = &net.shapes[i + 1];
                let (ho, wo) = (out[1], out[2]);
                let p = &pl.params;
                for (axis, kk) in ["height", "width"].iter().zip(p.kernel) {
                    if kk > u.max_window {
                        return Err(format!("{at}: window {axis} {kk} exceeds pooling.max_window = {}", u.max_window));
                    }
                }
                if p.stride[0] > u.rows_per_read {
                    return Err(format!("{at}: vertical stride {} exceeds pooling.rows_per_read = {}", p.stride[0], u.rows_per_read));
                }
                if p.stride[0] > 15 || p.stride[1] > 15 || p.padding[0] > 3 || p.padding[1] > 3 || h > 1023 || w > 1023 || c > 4095 {
                    return Err(format!("{at}: stride at most 15, padding at most 3, H and W at most 1023, C at most 4095 (the POOL_* fields)"));
                }
                let xcols = columns_per_band(&u, wo, p.kernel[1], p.stride[1]);
                // Rows in and bank rows of a band of `rows` output rows (worst case: padding both sides).
                let rows_in = |rows: usize| ((rows - 1) * p.stride[0] + p.kernel[0]).min(h);
                let hb_of = |rows: usize| (rows_in(rows) + p.padding[0] + p.end()[0]).div_ceil(u.rows_per_read);
                let fits = |rows: usize| hb_of(rows) * w <= u.feature_memory_depth && rows * wo <= u.feature_memory_depth;
                let band = (1..=ho).rev().find(|&r| fits(r)).ok_or_else(|| {
                    if hb_of(1) * w > u.feature_memory_depth {
                        fit_err(&at, "one output row of one channel (ceil((kernel rows + padding above and below)/k)·W entries per bank)", hb_of(1) * w, "pooling.feature_memory_depth", u.feature_memory_depth)
                    } else {
                        fit_err(&at, "one output row of one channel (Wo; the pooling output buffer has feature_memory_depth entries)", wo, "pooling.feature_memory_depth", u.feature_memory_depth)
                    }
                })?;
                // Fused after a conv layer with one output group: pooling bands no taller than a
                // conv band's output allows, so pooling starts while the conv layer still runs.
                let fed = i > 0 && net.feeds_only_next(i - 1);
                let band = match layers.last() {
                    Some(LayerTiling::Conv(ct)) if fed && ct.oc_groups() == 1 && ct.band < ct.plan.ho => {
                        band.min((ct.band / p.stride[0]).max(1))
                    }
                    _ => band,
                };
                let hb = hb_of(band);
                let channels = (u.feature_memory_depth / (hb * w)).min(u.feature_memory_depth / (band * wo)).min(c).max(1);
                if xcols > 4095 || channels * hb * w >= 1 << 16 {
                    return Err(format!("{at}: the layer exceeds the pooling unit's counters"));
                }
                let divider = dividers.iter().find(|d| d.layer == i).map_or(1, |d| d.divider);
                // On chip: after a one-group conv layer whose bands hold whole windows, when a
                // band of every channel fits the feature memory and its output the output buffer.
                let on_chip = match layers.last() {
                    Some(LayerTiling::Conv(ct)) if fed => pool_on_chip(&u, net, i, ct),
                    _ => false,
                };
                layers.push(LayerTiling::Pool(PoolTiling { channels, band, hb, xcols, divider, on_chip }));
            }
        }
    }
    let n = net.layers.len();
    // The step each layer's instructions are emitted in: a pooling layer fused with the conv
    // layer before it and an add joined to it run in that conv layer's step.
    let steps: Vec<usize> = (0..n)
        .map(|i| match (&layers[i], i.checked_sub(1).map(|j| &layers[j])) {
            (LayerTiling::Add(a), _) => a.conv,
            (LayerTiling::Pool(_), Some(LayerTiling::Conv(t))) if t.oc_groups() == 1 && net.feeds_only_next(i - 1) => i - 1,
            _ => i,
        })
        .collect();
    // A conv layer joined to an add never stores its own output: it has no region.
    let fused: Vec<bool> = (0..n).map(|j| matches!(layers.get(j + 1), Some(LayerTiling::Add(a)) if a.conv == j)).collect();
    let mut sizes = vec![net.shapes[0].iter().product::<usize>() as u64];
    let mut elem_bytes = vec![1];
    for (i, s) in net.shapes[1..].iter().enumerate() {
        sizes.push(s.iter().product::<usize>() as u64);
        elem_bytes.push(output_bytes(net, i));
    }
    // Tensor t (0: the input, j + 1: layer j's output) is live from the step that writes it to
    // the last step that reads it (the network output: to the last step).
    let mut live: Vec<[usize; 2]> = (0..=n).map(|t| if t == 0 { [0, 0] } else { [steps[t - 1]; 2] }).collect();
    for (i, src) in net.sources.iter().enumerate() {
        for k in 0..src.len() {
            let t = net.source_tensor(i, k);
            live[t][1] = live[t][1].max(steps[i]);
        }
    }
    live[n][1] = steps.iter().copied().max().unwrap_or(0);
    let tensors: Vec<crate::memplan::Live> = (0..=n)
        .map(|t| crate::memplan::Live {
            name: format!("tensor {t}"),
            bytes: if t > 0 && fused[t - 1] { 0 } else { sizes[t] * elem_bytes[t] },
            first: live[t][0],
            last: live[t][1],
        })
        .collect();
    let plan = crate::memplan::plan(&tensors, REGION_ALIGN)?;
    let mut at: Vec<u64> = plan.regions.iter().map(|r| r.offset).collect();
    for j in (0..n).rev() {
        if fused[j] {
            // Its stores write the add's region (the sums).
            at[j + 1] = at[j + 2];
        }
    }
    let base = align(plan.peak);
    for t in &mut layers {
        if let LayerTiling::Conv(t) = t {
            t.weight_blocks.iter_mut().flatten().for_each(|b| b.0 += base);
            t.bias_blocks.iter_mut().for_each(|b| b.0 += base);
            t.scale_blocks.iter_mut().for_each(|b| b.0 += base);
        }
    }
    let (input, outputs) = (at[0], at[1..].to_vec());
    let next = base + next;
    if next > ADDR_SPACE {
        return Err(format!("the network needs {next} bytes of external memory, more than the 26-bit address space ({ADDR_SPACE})"));
    }
    Ok(Layout { input, outputs, sizes, elem_bytes, layers, fused, steps, live, bytes: next })
}

/// How add layer `i` (parameters `q`) runs: a load-add into the output of conv layer i − 1,
/// which must be one of its operands, requantized to int8 and read by no other layer.
fn add_tiling(net: &Network, i: usize, q: &accelgen_golden::ort_add::QAdd) -> Result<AddTiling, String> {
    let conv = i
        .checked_sub(1)
        .filter(|&j| matches!(&net.layers[j], Layer::Conv(c) if c.requant.is_some()) && net.readers(j) == [i])
        .ok_or_else(|| {
            "an add runs as a load-add into the output of the conv layer right before it, which must be one of its operands, \
             requantized to int8 and read by no other layer (docs/accelerator.md, residual adds)"
                .to_string()
        })?;
    let on_chip = Source::Layer(conv);
    let swap = match (net.sources[i][0] == on_chip, net.sources[i][1] == on_chip) {
        (true, false) => false,
        (false, true) => true,
        _ => return Err(format!("both operands are layers[{conv}]'s output; a load-add reads one operand from memory")),
    };
    let shortcut = net.source_tensor(i, usize::from(!swap));
    let unit = q.unit_constants()?;
    Ok(AddTiling { conv, shortcut, swap, unit })
}


/// [`memory_image`] padded to whole words of `memory.word_bits` (`memory_init.bin`: the bytes a
/// bus sees from the image's base).
pub fn memory_image_bytes(net: &Network, cfg: &HwConfig, lay: &Layout) -> Result<Vec<u8>, String> {
    let word_bytes = (cfg.memory.word_bits / 8) as usize;
    let mut image = memory_image(net, cfg, lay)?;
    image.resize(image.len().div_ceil(word_bytes) * word_bytes, 0);
    Ok(image)
}

/// The external-memory image before a run (packed bytes, see the module header): the input,
/// every weight and bias block; zero elsewhere. Needs every tensor's data.
pub fn memory_image(net: &Network, cfg: &HwConfig, lay: &Layout) -> Result<Vec<u8>, String> {
    let e0 = cfg.conv_array();
    let mut mem = vec![0u8; lay.bytes as usize];
    let input = net.input.require("input")?;
    for (i, &v) in input.data.iter().enumerate() {
        mem[lay.input as usize + i] = v as u8;
    }
    for (li, (layer, t)) in net.layers.iter().zip(&lay.layers).enumerate() {
        let (Layer::Conv(cl), LayerTiling::Conv(t)) = (layer, t) else { continue };
        let weight = cl.weight.require(&format!("layers[{li}].weight"))?;
        let bias = match &cl.bias {
            Some(b) => Some(b.require(&format!("layers[{li}].bias"))?),
            None => None,
        };
        let p = &t.plan;
        let e = p.array(&e0);
        let (r, c, k) = (e.rows, e.cols, e.kernels);
        for g in 0..t.oc_groups() {
            let tiles = t.tiles.min(p.oc_tiles - g * t.tiles);
            for ig in 0..t.ic_groups() {
                let gt = t.icg.min(p.ic_tiles - ig * t.icg);
                let mut a = t.weight_blocks[g][ig].0 as usize;
                for oct in 0..tiles {
                    for ict in 0..gt {
                        for kr in 0..p.run_kernel().0 {
                            for ks in 0..p.run_kernel().1 {
                                // Row, kernel, column (ConvArray::weight_slot): an entry of the
                                // C weight banks is kernel j of a whole PE row.
                                for rr in 0..r {
                                    for j in 0..k {
                                        for cc in 0..c {
                                            let v = p.pe_weight(&e, &weight, g * t.tiles + oct, (ig * t.icg + ict) * r + rr, kr, ks, cc, j);
                                            mem[a] = v as u8;
                                            a += 1;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let mut a = t.bias_blocks[g].0 as usize;
            for tt in 0..tiles {
                for j in 0..k {
                    for cc in 0..c {
                        let oc = (g * t.tiles + tt) * c * k + cc * k + j;
                        let v = bias.as_ref().filter(|_| oc < p.cout).map_or(0, |b| b.data[oc]);
                        mem[a..a + BIAS_BYTES as usize].copy_from_slice(&v.to_le_bytes());
                        a += BIAS_BYTES as usize;
                    }
                }
            }
            // Scale words (`sig` in bits 23:0, `exp` in 31:24), in the biases' order.
            if let (Some(scales), Some(&(base, _))) = (&cl.channel_scales, t.scale_blocks.get(g)) {
                let mut a = base as usize;
                for tt in 0..tiles {
                    for j in 0..k {
                        for cc in 0..c {
                            let oc = (g * t.tiles + tt) * c * k + cc * k + j;
                            let v = scales.get(oc).filter(|_| oc < p.cout).map_or(0, |s| s.sig | (s.exp as i8 as u8 as u32) << 24);
                            mem[a..a + BIAS_BYTES as usize].copy_from_slice(&v.to_le_bytes());
                            a += BIAS_BYTES as usize;
                        }
                    }
                }
            }
        }
    }
    Ok(mem)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PE_KERNEL`'s kernel sides are 5 bits: a whole-map kernel of 25 rows (DS-CNN's 25×5
    /// average pooling as a convolution) lays out, one of 32 rows is refused naming the field.
    #[test]
    fn kernel_sides_up_to_31_lay_out_and_longer_ones_are_refused() {
        let cfg = accelgen_config::Preset::Default.config();
        let net = |kh: usize| {
            let doc = serde_json::json!({"input": {"shape": [8, kh, 5]}, "layers": [
                {"op": "conv2d", "weight": {"shape": [8, 8, kh, 5]}, "bias": {"shape": [8]}, "requant": {"multiplier": 1, "shift": 0, "zero_point": 0}}]});
            Network::from_value(&doc, std::path::Path::new(".")).unwrap()
        };
        assert!(layout(&net(25), &cfg).is_ok());
        assert!(layout(&net(31), &cfg).is_ok());
        let e = layout(&net(32), &cfg).unwrap_err();
        assert!(e.contains("kernel sides must be at most 31") && e.contains("PE_KERNEL"), "{e}");
    }

    /// Tensors live at one step never share a byte, weights and biases share none with anything,
    /// every region is aligned and inside the layout; dead tensors' bytes are reused (LeNet-5,
    /// AlexNet, VGG-16 on both presets where they fit).
    #[test]
    fn layout_regions_do_not_overlap_and_tiling_fits_the_buffers() {
        let mut reused = 0;
        for preset in [accelgen_config::Preset::Tiny, accelgen_config::Preset::Default] {
            let cfg = preset.config();
            let e = cfg.conv_array();
            for name in ["lenet5", "alexnet", "vgg16"] {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../testbenches/networks/{name}.json"));
                let net = Network::load(&path).unwrap();
                let Ok(lay) = layout(&net, &cfg) else { continue };
                // (address, bytes, live steps); weights and biases live throughout.
                let always = [0, usize::MAX];
                let mut spans = vec![(lay.input, lay.sizes[0], lay.live[0])];
                for (j, o) in lay.outputs.iter().enumerate() {
                    spans.push((*o, lay.sizes[j + 1] * lay.elem_bytes[j + 1], lay.live[j + 1]));
                }
                for t in &lay.layers {
                    if let LayerTiling::Conv(t) = t {
                        spans.extend(t.weight_blocks.iter().flatten().map(|&(a, n)| (a, n, always)));
                        spans.extend(t.bias_blocks.iter().map(|&(a, n)| (a, n * BIAS_BYTES, always)));
                        let tap = t.plan.run_kernel().0 * t.plan.run_kernel().1 * e.rows * e.cols * t.plan.kernels;
                        assert!(t.tiles * t.icg * tap <= e.weight_buffer_depth, "{name}");
                        assert!(t.ic_groups() == 1 || t.tiles <= 2, "{name}: kept sums need at most 2 tiles");
                    }
                }
                for (i, a) in spans.iter().enumerate() {
                    for b in &spans[i + 1..] {
                        let bytes = a.0 < b.0 + b.1 && b.0 < a.0 + a.1;
                        let live = a.2[0] <= b.2[1] && b.2[0] <= a.2[1];
                        assert!(!(bytes && live), "{name} on {preset:?}: {a:?} and {b:?} overlap while both are live");
                        reused += usize::from(bytes);
                    }
                }
                assert!(spans.iter().all(|s| s.0 % REGION_ALIGN == 0), "{name}: regions aligned");
                assert!(spans.iter().all(|s| s.0 + s.1 <= lay.bytes), "{name}: inside the layout");
            }
        }
        assert!(reused > 10, "dead tensors' regions are reused: {reused} shared pairs");
    }
}
