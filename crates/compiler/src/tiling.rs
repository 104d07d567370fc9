//! How a layer is split into runs of a block: a conv layer into output-channel groups,
//! input-channel groups and bands of output rows ([`ConvTiling`]); a pooling layer into channel
//! groups and bands ([`PoolTiling`]). The choice rules are in `docs/accelerator.md`.

use crate::conv_plan::ConvPlan;
use accelgen_config::ConvArray;
use accelgen_formats::{Layer, Network};

/// How a convolution layer is split into runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTiling {
    /// The layer's geometry on the engine.
    pub plan: ConvPlan,
    /// Output tiles per output-channel group.
    pub tiles: usize,
    /// Input tiles per input-channel group.
    pub icg: usize,
    /// Output rows per band.
    pub band: usize,
    /// Output columns per column tile (`plan.wo`: one tile, the full width). Each band runs as
    /// column tiles whose input columns (with the halo) move as one transfer per tile, a run of
    /// the tile's columns per row (`MEM_ROWS`).
    pub cols: usize,
    /// Bands alternate between the halves of the first cache and of the output buffer, and
    /// transfers overlap the engine's runs.
    pub double: bool,
    /// External address of each weight block, `[oc group][ic group]`, and its word count.
    pub weight_blocks: Vec<Vec<(u64, u64)>>,
    /// External address of each output group's bias block, and its word count.
    pub bias_blocks: Vec<(u64, u64)>,
    /// With per-channel scales: each output group's block of scale words (placed as its biases),
    /// and its word count; else empty.
    pub scale_blocks: Vec<(u64, u64)>,
}

impl ConvTiling {
    /// Output-channel groups.
    pub fn oc_groups(&self) -> usize {
        self.plan.oc_tiles.div_ceil(self.tiles)
    }

    /// Input-channel groups.
    pub fn ic_groups(&self) -> usize {
        self.plan.ic_tiles.div_ceil(self.icg)
    }

    /// Column tiles per band.
    pub fn col_tiles(&self) -> usize {
        self.plan.wo.div_ceil(self.cols)
    }

    /// Column tile `ct`: its first output column and output columns, its first input column,
    /// input columns and padding columns left of its first input column (the full width when
    /// the layer has one tile).
    pub fn col_geo(&self, ct: usize) -> ColTile {
        col_tile(&self.plan, self.cols, ct)
    }
}

/// A column tile of a conv layer's output, and the input columns it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColTile {
    /// First output column, output columns.
    pub ox0: usize,
    pub wo: usize,
    /// First input column, input columns, padding columns left of the first.
    pub x0: usize,
    pub w: usize,
    pub pw: usize,
}

/// Column tile `ct` of tiles of `cols` output columns (see [`ConvTiling::col_geo`]).
pub fn col_tile(p: &ConvPlan, cols: usize, ct: usize) -> ColTile {
    if cols >= p.wo {
        return ColTile { ox0: 0, wo: p.wo, x0: 0, w: p.w, pw: p.padding[1] };
    }
    let ox0 = ct * cols;
    let wo = cols.min(p.wo - ox0);
    let left = (ox0 * p.stride[1]) as i64 - p.padding[1] as i64;
    let x0 = left.max(0) as usize;
    let x1 = ((ox0 + wo - 1) * p.stride[1] + p.kw).saturating_sub(p.padding[1]).min(p.w);
    ColTile { ox0, wo, x0, w: x1 - x0, pw: (x0 as i64 - left) as usize }
}

/// When a conv layer may run in column tiles ([`conv_tiling`]), and the bus it moves them on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColRule {
    /// Tiles are a multiple of this many output columns (the bus word's elements, times a
    /// pooling layer's horizontal stride when it takes the tiles on chip: each tile's rows then
    /// start and, but for the last tile, end on word boundaries).
    pub multiple: usize,
    /// Bytes per bus word.
    pub bus_bytes: usize,
    /// Bytes per output element (4: int32 sums), and the stride of a pooling layer that takes
    /// the output on chip (`[1, 1]`: the output itself is stored).
    pub out_bytes: usize,
    pub out_stride: [usize; 2],
}

/// Bus words a layer moves in bands of `rows` output rows and column tiles of `cols` output
/// columns: every band's input rows (halo rows again in each band) of every tile's input columns
/// (halo columns again in each tile), and its output (or the output of the pooling layer that
/// takes it on chip), each row of a tile a run of whole words. Channels are taken to start on a
/// word boundary.
fn bus_words(p: &ConvPlan, rows: usize, cols: usize, r: &ColRule) -> u64 {
    let l = r.bus_bytes as u64;
    let span = |start: u64, bytes: u64| if bytes == 0 { 0 } else { (start + bytes - 1) / l - start / l + 1 };
    let tiles: Vec<ColTile> = (0..p.wo.div_ceil(cols)).map(|ct| col_tile(p, cols, ct)).collect();
    let [sh, sw] = r.out_stride;
    let (pwo, pho) = (p.wo / sw, p.ho / sh);
    let ob = r.out_bytes as u64;
    let (mut inp, mut out) = (0u64, 0u64);
    for b in 0..p.ho.div_ceil(rows) {
        let oy0 = b * rows;
        let n = rows.min(p.ho - oy0);
        let top = (oy0 * p.stride[0]) as i64 - p.padding[0] as i64;
        let r1 = ((oy0 + n - 1) * p.stride[0] + p.kh).saturating_sub(p.padding[0]).min(p.h);
        for t in &tiles {
            for y in top.max(0) as usize..r1 {
                inp += span((y * p.w + t.x0) as u64, t.w as u64);
            }
            // Output rows of the band (pooled: the pooling layer's rows and columns of it).
            let (y0, y1, x0, xn, wrow) = if sh * sw == 1 {
                (oy0, oy0 + n, t.ox0, t.wo, p.wo)
            } else {
                (oy0 / sh, ((oy0 + n) / sh).min(pho), t.ox0 / sw, (t.wo / sw).min(pwo.saturating_sub(t.ox0 / sw)), pwo)
            };
            for y in y0..y1 {
                out += span(ob * (y * wrow + x0) as u64, ob * xn as u64);
            }
        }
    }
    inp * p.cin as u64 + out * p.cout as u64
}

/// Largest conv-engine cycle count (one run of the whole layer, `cycle_estimate`) for which the
/// band split is weighed with the cycle model (it steps every cycle).
const SPLIT_MODEL_LIMIT: u64 = 300_000;

/// For a layer of one output-channel group and one input-channel group that fits one band: the
/// rows per band (at most `most`, which fits half the buffers; a multiple of `multiple`, the
/// stride of a pooling layer that takes each band on chip) of double-buffered bands when they
/// beat the single band by at least 3% in the model below, else `None`.
///
/// Model (documented in docs/accelerator.md): the data mover moves one element per cycle for
/// a first-cache load (channels × input rows × W; `lanes` elements, a bus word, per cycle where
/// the first cache has `lanes` > 1 byte lanes and W is a multiple of it, so that every band is
/// whole words: `net_model::fc_word_steps`) and for an output store or on-chip copy (Cout ×
/// rows × Wo; a store of whole words a bus word per cycle where the conv output banks have
/// `lanes` byte lanes; the pooling of a copied band runs beside the next band's run); a
/// run takes the conv engine's exact cycle model (`cycle_model::conv_cycles`) on the band. One
/// band: load + run + store. Bands (docs/accelerator.md's double-buffered schedule): the first
/// band's load, then per band b the longer of its run and the mover's store of band b − 1 plus
/// load of band b + 1, then the last band's store. Candidates: 2, 3, 4, 6 and 8 bands.
pub fn split_bands(e: &ConvArray, plan: &ConvPlan, most: usize, multiple: usize, lanes: usize) -> Option<usize> {
    if plan.ho < 2 || crate::cycle_model::cycle_estimate(e, plan) > SPLIT_MODEL_LIMIT {
        return None;
    }
    let rows_in = |rows: usize| ((rows - 1) * plan.stride[0] + plan.kh).min(plan.h) as u64;
    let rate = if lanes > 1 && plan.w % lanes == 0 { lanes as u64 } else { 1 };
    // Row groups load the band's rows once into every bank (ConvPlan::row_groups).
    let load = |rows: usize| {
        let elems = if plan.row_view { (rows_in(rows) + plan.bank_extra_rows() as u64) * plan.w as u64 } else { (plan.cin as u64) * rows_in(rows) * plan.w as u64 };
        elems.div_ceil(rate)
    };
    // A store of whole words reads a bus word of the output banks per cycle (the output lanes,
    // `net_model::store_word_steps`: every band's chunk and plane whole words). An on-chip copy for
    // a pooling layer (`multiple` > 1) is weighed at an element per cycle although whole-word
    // copies move a word (`net_model::copy_word_steps`): the weight stands in for the pooling of
    // the last band, which runs after the conv layer and which this model does not count, so that
    // such a layer keeps bands short enough for the pooling clock planner's budget.
    let store_rate = |rows: usize| if lanes > 1 && multiple == 1 && (rows * plan.wo) % lanes == 0 && (plan.ho * plan.wo) % lanes == 0 { lanes as u64 } else { 1 };
    let store = |rows: usize| ((plan.cout * rows * plan.wo) as u64).div_ceil(store_rate(rows));
    let run = |rows: usize| {
        let mut p = plan.clone();
        p.ho = rows;
        p.h = rows_in(rows) as usize;
        crate::cycle_model::conv_cycles(e, &p).cycles
    };
    let single = load(plan.ho) + run(plan.ho) + store(plan.ho);
    // Runs by band height: a split has at most two (its bands and a shorter last one), and
    // candidates share heights; each is modelled once.
    let mut runs: std::collections::HashMap<usize, u64> = Default::default();
    let mut best: Option<(u64, usize)> = None;
    for nb in [2usize, 3, 4, 6, 8] {
        let rows = plan.ho.div_ceil(nb);
        let rows = if rows > multiple { rows - rows % multiple } else { multiple };
        if rows > most || rows == plan.ho || best.is_some_and(|(_, r)| r == rows) {
            continue;
        }
        let sizes: Vec<usize> = (0..plan.ho.div_ceil(rows)).map(|b| rows.min(plan.ho - b * rows)).collect();
        let mut t = load(sizes[0]);
        for b in 0..sizes.len() {
            let before = if b > 0 { store(sizes[b - 1]) } else { 0 };
            let after = sizes.get(b + 1).map_or(0, |&r| load(r));
            t += (*runs.entry(sizes[b]).or_insert_with(|| run(sizes[b]))).max(before + after);
        }
        t += store(sizes[sizes.len() - 1]);
        if best.is_none_or(|(c, _)| t < c) {
            best = Some((t, rows));
        }
    }
    best.filter(|&(t, _)| t * 100 < single * 97).map(|(_, rows)| rows)
}

/// How a pooling layer is split into runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolTiling {
    /// Channels per run.
    pub channels: usize,
    /// Output rows per band (Ho when a whole channel fits).
    pub band: usize,
    /// Feature-memory rows per channel and bank of a full band, ceil((rows in + padding above and below)/k).
    pub hb: usize,
    /// Columns read per row band.
    pub xcols: usize,
    /// The planner's clock divider.
    pub divider: u32,
    /// Takes each conv band's output on chip (`MEM_COPY`), never reading it from external memory.
    pub on_chip: bool,
}

/// Per layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerTiling {
    /// A convolution.
    Conv(ConvTiling),
    /// A pooling layer.
    Pool(PoolTiling),
    /// An element-wise add, joined to the output stage of the conv layer right before it.
    Add(AddTiling),
}

/// An element-wise add run as a load-add on its conv layer's output (docs/accelerator.md,
/// "Residual adds"): before each store of conv layer `conv` (the layer right before the add, one
/// of its operands, read by no other layer), `MEM_LOADADD` reads the other operand's elements of
/// the stored part and sums them into the output buffer; the store writes the sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddTiling {
    /// The conv layer whose output is summed on chip.
    pub conv: usize,
    /// The operand read from memory (tensor index: 0 the input, j + 1 layer j's output).
    pub shortcut: usize,
    /// The conv output is the add's second operand (`ACT_ADD.swap`).
    pub swap: bool,
    /// The add unit's constants.
    pub unit: accelgen_golden::ort_add::AddUnitConstants,
}


pub(crate) fn fit_err(at: &str, what: &str, need: usize, field: &str, have: usize) -> String {
    format!("{at}: cannot be tiled onto this configuration: {what} needs {need}, but {field} = {have}")
}

/// Chooses a convolution layer's tiling (without block addresses). `stored`: the layer's output
/// goes to external memory as it is. When it does, or when a pooling layer takes each band on
/// chip (`multiple` > 1), a layer that fits one band may still be split into double-buffered
/// bands when the cycle model says the overlap of its transfers with the runs pays for the extra
/// passes ([`split_bands`]). `col_multiple`: column tiles are allowed, of a multiple of this many
/// output columns (`None`: the layer runs at full width). `lanes`: the first cache's byte lanes
/// (`HwConfig::first_cache_lanes`), for the data mover's load rate in [`split_bands`].
pub fn conv_tiling(e: &ConvArray, plan: ConvPlan, at: &str, multiple: usize, stored: bool, col_rule: Option<ColRule>, lanes: usize) -> Result<ConvTiling, String> {
    // Layouts and limits in entries are those of the plan's kernels k.
    let e = &plan.array(e);
    let (r, c, k) = (e.rows, e.cols, e.kernels);
    let tap_words = plan.run_kernel().0 * plan.run_kernel().1 * r * c * k;
    if tap_words > e.weight_buffer_depth {
        return Err(fit_err(at, "one input tile of one output tile (kh·kw·rows·cols·K weights)", tap_words, "pe_array.weight_buffer_depth", e.weight_buffer_depth));
    }
    // Input tiles one run can take: the weight buffer, and the first cache for a one-row band.
    let row_in = plan.kh.min(plan.h) * plan.w;
    // (With tap rows every bank holds every channel whatever the tiles: the band's fit below.)
    let fc_tiles = if plan.taps { plan.ic_tiles } else { e.first_cache_depth / (row_in * plan.bank_planes(1)).max(1) };
    let icg = (e.weight_buffer_depth / tap_words).min(fc_tiles).min(plan.ic_tiles);
    // Tap rows: every tap group in one run (the table names 8; each bank holds every channel).
    let icg = if plan.taps { if icg < plan.ic_tiles { return Err(fit_err(at, "every tap group's weights and every input channel (tap rows)", plan.ic_tiles, "input tiles that fit", icg)); } plan.ic_tiles } else { icg };
    if icg == 0 {
        return Err(fit_err(at, "one output row's input (kernel rows·W of one input tile)", row_in, "pe_array.first_cache_depth", e.first_cache_depth));
    }
    let most = (e.weight_buffer_depth / (icg * tap_words)).min(plan.oc_tiles).min(e.bias_buffer_depth / k).max(1);
    // Input-channel groups accumulate into kept sums: at most 2 output tiles (the two halves).
    let tiles = if icg < plan.ic_tiles { most.min(2) } else { most };
    if k > e.bias_buffer_depth {
        return Err(fit_err(at, "one output tile's biases", k, "pe_array.bias_buffer_depth", e.bias_buffer_depth));
    }
    // `div` = 2: the band must fit half the first cache and half the output buffer.
    let fits = |rows: usize, div: usize| {
        let hin = ((rows - 1) * plan.stride[0] + plan.kh).min(plan.h) + plan.bank_extra_rows();
        plan.bank_planes(icg) * hin * plan.w <= e.first_cache_depth / div
            && k * rows * plan.wo <= e.acc_buffer_depth
            && tiles * k * rows * plan.wo <= e.output_buffer_depth / div
            && rows * plan.wo < 1 << 16
            && hin < 1 << 10
    };
    let band = (1..=plan.ho).rev().find(|&b| fits(b, 1)).ok_or_else(|| {
        let hin = plan.kh.min(plan.h);
        if plan.bank_planes(icg) * hin * plan.w > e.first_cache_depth {
            fit_err(at, "one output row's input (input tiles·kernel rows·W)", plan.bank_planes(icg) * hin * plan.w, "pe_array.first_cache_depth", e.first_cache_depth)
        } else if k * plan.wo > e.acc_buffer_depth {
            fit_err(at, "one output row's sums (K·Wo)", k * plan.wo, "pe_array.acc_buffer_depth", e.acc_buffer_depth)
        } else {
            fit_err(at, "one output row (tiles·K·Wo)", tiles * k * plan.wo, "pe_array.output_buffer_depth", e.output_buffer_depth)
        }
    })?;
    // Double buffering: when the layer needs several bands of one input group, bands that fit
    // half the buffers, so each band's input loads and the previous band's output stores while
    // the engine computes.
    let (band, double) = match (1..=plan.ho).rev().find(|&b| fits(b, 2)) {
        Some(b) if band < plan.ho && icg == plan.ic_tiles => (b, true),
        Some(b) if (stored || multiple > 1) && tiles == plan.oc_tiles && icg == plan.ic_tiles => match split_bands(e, &plan, b, multiple, lanes) {
            Some(rows) => (rows, true),
            None => (band, false),
        },
        _ => (band, false),
    };
    // Bands of a multiple of `multiple` rows (a pooling layer taking them on chip pools whole
    // windows of each band).
    let band = if band < plan.ho && band >= multiple { band - band % multiple } else { band };
    let full = ConvTiling { plan, tiles, icg, band, cols: 0, double, weight_blocks: vec![], bias_blocks: vec![], scale_blocks: vec![] };
    let full = ConvTiling { cols: full.plan.wo, ..full };
    match col_rule {
        Some(r) if band < full.plan.ho && icg == full.plan.ic_tiles => Ok(column_tiles(e, full, multiple, &r)),
        _ => Ok(full),
    }
}

/// Column tiles for a layer of several full-width bands of one input group: when bands of
/// narrower tiles (a multiple of `r.multiple` output columns; 2 to 64 tiles) are tall enough that
/// the layer moves at least 10% fewer bus words (band halo rows are read again by every band,
/// tile halo columns by every tile, and a tile's rows are runs of whole words), the tiling that
/// moves the fewest, double-buffered; else the full-width tiling as it is. Rule and figures in
/// docs/accelerator.md.
fn column_tiles(e: &ConvArray, full: ConvTiling, multiple: usize, r: &ColRule) -> ConvTiling {
    let e = &full.plan.array(e);
    let m = r.multiple;
    let p = &full.plan;
    let k = e.kernels;
    let fits = |rows: usize, cols: usize| {
        let hin = ((rows - 1) * p.stride[0] + p.kh).min(p.h) + p.bank_extra_rows();
        let win = ((cols - 1) * p.stride[1] + p.kw).min(p.w);
        p.bank_planes(full.icg) * hin * win <= e.first_cache_depth / 2
            && k * rows * cols <= e.acc_buffer_depth
            && full.tiles * k * rows * cols <= e.output_buffer_depth / 2
            && rows * cols < 1 << 16
            && hin < 1 << 10
    };
    let base = bus_words(p, full.band, p.wo, r);
    let mut best: Option<(u64, usize, usize)> = None;
    let mut tried = std::collections::HashSet::new();
    for n in 2..=64usize {
        let cols = p.wo.div_ceil(n).div_ceil(m) * m;
        if cols >= p.wo || !tried.insert(cols) {
            continue;
        }
        let Some(rows) = (1..=p.ho).rev().find(|&r| fits(r, cols)) else { continue };
        let rows = if rows < p.ho && rows >= multiple { rows - rows % multiple } else { rows };
        let reads = bus_words(p, rows, cols, r);
        if best.is_none_or(|(b, ..)| reads < b) {
            best = Some((reads, rows, cols));
        }
    }
    match best {
        Some((reads, band, cols)) if reads * 10 < base * 9 => ConvTiling { band, cols, double: true, ..full },
        _ => full,
    }
}

/// Whether layer `i`'s output goes to external memory as it is (the next layer is no pooling
/// layer, which may take it on chip).
pub fn output_stored(net: &Network, i: usize) -> bool {
    next_pool(net, i).is_none()
}

/// The pooling layer right after layer `i` that reads its output and is its only reader (in a
/// chain: the next layer, when it pools).
pub fn next_pool(net: &Network, i: usize) -> Option<&accelgen_formats::PoolLayer> {
    match net.layers.get(i + 1) {
        Some(Layer::Pool(p)) if net.feeds_only_next(i) => Some(p),
        _ => None,
    }
}

/// Column tiles of conv layer `i` on a bus of `bus_bytes`-byte words ([`ColRule`]): allowed when
/// its output goes to memory as it is, or a pooling layer right after it can take each tile on
/// chip (its windows do not overlap horizontally and have no horizontal padding); else `None`.
pub fn col_rule(net: &Network, i: usize, bus_bytes: usize) -> Option<ColRule> {
    let out_bytes = match net.layers.get(i) {
        Some(Layer::Conv(c)) if c.requant.is_none() => crate::layout::BIAS_BYTES as usize,
        _ => 1,
    };
    match next_pool(net, i) {
        Some(p) => (on_chip_multiple(net, i) > 1
            && p.params.kernel[1] == p.params.stride[1]
            && p.params.padding[1] == 0
            && p.params.end()[1] == 0)
            .then_some(ColRule { multiple: p.params.stride[1], bus_bytes, out_bytes, out_stride: p.params.stride }),
        _ => Some(ColRule { multiple: 1, bus_bytes, out_bytes, out_stride: [1, 1] }),
    }
}

/// The vertical stride of a pooling layer right after conv layer `i` that can take the conv
/// output on chip (its windows do not overlap vertically and it has no vertical padding, so each
/// conv band holds whole windows when its rows are a multiple of the stride), else 1.
pub fn on_chip_multiple(net: &Network, i: usize) -> usize {
    match next_pool(net, i) {
        Some(p) if p.params.kernel[0] == p.params.stride[0] && p.params.padding[0] == 0 && p.params.end()[0] == 0 => p.params.stride[0],
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_config::Preset;

    fn plan(e: &ConvArray, input: [usize; 3], cout: usize, k: usize) -> ConvPlan {
        let layer = accelgen_formats::ConvLayer {
            weight: accelgen_formats::TensorField { shape: vec![cout, input[0], k, k], data: None },
            bias: None,
            params: accelgen_golden::ConvParams { stride: [1, 1], padding: [k / 2, k / 2], padding_end: None, pad_value: 0 },
            requant: None,
            channel_scales: None,
        };
        ConvPlan::for_layer(e, &input, &layer).unwrap()
    }

    /// The split's rules: never for a one-row output, never more rows than fit half the buffers,
    /// never the whole layer; taken for the 3-channel stem on `default` (its store of 16 K
    /// elements is a third of its single-band time).
    #[test]
    fn bands_split_only_where_the_model_says_the_overlap_pays() {
        let e = Preset::Default.config().conv_array();
        let stem = plan(&e, [3, 32, 32], 16, 3);
        let rows = split_bands(&e, &stem, stem.ho, 1, 1).expect("the stem splits");
        assert!(rows < stem.ho);
        assert!(split_bands(&e, &stem, 3, 1, 1).is_none_or(|r| r <= 3));
        assert!(split_bands(&e, &stem, stem.ho, 4, 1).is_none_or(|r| r % 4 == 0), "bands of whole pooling windows");
        let one_row = plan(&e, [16, 1, 40], 16, 1);
        assert_eq!(split_bands(&e, &one_row, 1, 1, 1), None);
        for (input, cout, k) in [([16, 16, 16], 32, 3), ([64, 8, 8], 64, 3), ([8, 40, 40], 8, 1)] {
            let p = plan(&e, input, cout, k);
            if let Some(rows) = split_bands(&e, &p, p.ho / 2, 1, 1) {
                assert!(rows <= p.ho / 2 && rows >= 1, "{input:?}: {rows}");
            }
        }
    }
}
