//! A convolution layer's geometry on the conv engine ([`ConvPlan`]): output size, channel tiles,
//! passes and MACs, the checks that a whole layer fits the engine's buffers in one run (the
//! standalone engine's testbench), and the engine's buffer images (first cache and weight buffer)
//! in the order the engine reads them (`docs/conv-array.md`).

use accelgen_config::ConvArray;
use accelgen_golden::{conv_output_dims, TensorI8};

/// A layer laid out for one engine: parameter registers and buffer images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    /// Input channels, height, width.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Output height and width.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
    /// Kernel height and width.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride.
    pub stride: [usize; 2],
    /// Padding above and left.
    pub padding: [usize; 2],
    /// Padding below and right (the engine needs no register for it: rows and columns past the
    /// input are padding up to `ho`, `wo`).
    pub pad_end: [usize; 2],
    /// ceil(Cin / R).
    pub ic_tiles: usize,
    /// ceil(Cout / (C·K)).
    pub oc_tiles: usize,
    /// Passes: oc_tiles · ic_tiles · kh · kw.
    pub passes: usize,
    /// Useful multiply-accumulates: Cout · Ho · Wo · Cin · kh · kw.
    pub macs: u64,
    /// The layer requantizes with ONNX Runtime's pipeline (the engine's drain tail is longer);
    /// false from [`ConvPlan::geometry`], set by [`ConvPlan::with_requant`].
    pub ort: bool,
    /// Rows carry kernel rows ([`ConvPlan::for_layer`]): the layer's one input channel is read
    /// as `kh` channels, channel r being its rows r.. (`h` = Ho of them), one input row (`w`
    /// elements) apart in memory; the kernel is `1 × kw`, input channel r of it the layer's
    /// kernel row r.
    pub row_view: bool,
    /// Tap rows ([`ConvPlan::for_layer`]): the PE rows carry (input channel, kernel tap) pairs,
    /// pair q = (ci·kh + dy)·kw + dx on row q mod R of input tile q div R; `cin`, `kh`, `kw` stay
    /// the layer's, `ic_tiles` counts tap groups (ceil(cin·kh·kw / R), at most 8) and a run is a
    /// 1 × 1 convolution of `ic_tiles·oc_tiles` passes ([`ConvPlan::run_kernel`]). Every bank holds
    /// every input channel (a broadcast load); row r reads it at its `PE_ROWTAP` offset.
    /// With [`ConvPlan::pass_cols`] the pairs are (input channel, kernel row) instead.
    pub taps: bool,
    /// Tap rows of (input channel, kernel row) pairs: pair q = ci·kh + dy on row q mod R of
    /// tap group q div R (ceil(cin·kh / R) groups, at most 8), and the passes sweep the kernel
    /// columns: a run is a 1 × `kwb` convolution of `ic_tiles·kwb·oc_tiles` passes. For layers
    /// whose (channel, tap) pairs take more than 8 groups (LeNet-5's 6 → 16 5×5: 150 pairs; 30
    /// (channel, row) pairs in 4 groups, 20 passes instead of 25).
    pub pass_cols: bool,
    /// Kernels each PE uses, k (2..=K): a slow cycle of k fast cycles, output tiles of C·k
    /// channels (`PE_KERNEL.k`). [`ConvPlan::geometry`] plans with the array's `kernels`;
    /// [`ConvPlan::for_layer`] picks k. Every layout of the run (weights, biases, output
    /// buffer) is the one of an array with K = k: [`ConvPlan::array`].
    pub kernels: usize,
    /// Column groups (`PE_COLS`, [`ConvPlan::with_groups`]): the C columns in `groups` groups
    /// (1, 2 or 4) of C / `groups` columns; group g takes the taps `gshift`·g kernel columns
    /// right of the pass's, for the slots `gshift`·g columns right of its output pixels, and the
    /// drain adds the groups' sums. 1 (and `gshift` 0): no groups.
    pub groups: usize,
    /// The shift between groups, in kernel columns and slot columns.
    pub gshift: usize,
    /// Kernel columns the passes cover: `kw`, or `gshift` with groups (group g adds g·`gshift`).
    pub kwb: usize,
}

fn unsupported(what: &str, need: usize, field: &str, have: usize) -> String {
    format!("this layer needs {what} = {need}, but {field} = {have} in the configuration")
}

impl ConvPlan {
    /// The layer's tiling on the engine, without checking buffer capacities (for cycle estimates
    /// of layers larger than one run; the integrated controller tiles those). [`ConvPlan::fits`]
    /// checks them for a layer run on the engine alone.
    pub fn geometry(
        e: &ConvArray,
        input: &[usize],
        weight: &[usize],
        p: &accelgen_golden::ConvParams,
    ) -> Result<ConvPlan, String> {
        let [cout, ho, wo] = conv_output_dims(input, weight, p)?;
        let (stride, padding, pad_end) = (p.stride, p.padding, p.end());
        let (cin, h, w, kh, kw) = (input[0], input[1], input[2], weight[2], weight[3]);
        let ic_tiles = cin.div_ceil(e.rows);
        let oc_tiles = cout.div_ceil(e.cols * e.kernels);
        let passes = oc_tiles * ic_tiles * kh * kw;
        let macs = (cout * ho * wo * cin * kh * kw) as u64;
        Ok(ConvPlan {
            cin, h, w, cout, ho, wo, kh, kw, stride, padding, pad_end, ic_tiles, oc_tiles, passes, macs, ort: false, row_view: false, taps: false, pass_cols: false,
            kernels: e.kernels,
            groups: 1,
            gshift: 0,
            kwb: kw,
        })
    }

    /// The plan of conv layer `cl` on `input`, with the mapping the compiler picks: a layer of one
    /// input channel, vertical stride 1 and no vertical padding whose kernel has 2..=R rows
    /// lets the PE rows carry its kernel rows. Its input channel, read as `kh` channels each
    /// starting one row further down (overlapping slices of the same memory, `Ho` rows each),
    /// makes it a `kh`-channel convolution with a `1 × kw` kernel: `kw` passes instead of
    /// `kh·kw`, for the same pixels (docs/conv-array.md). Otherwise [`ConvPlan::geometry`].
    ///
    /// The kernels each PE uses, k, are the ones of [`ConvPlan::kernel_choices`] whose run the
    /// cycle model's closed form ([`ConvPlan::run_cost`]) finds shortest (the largest k among
    /// equals): a layer of few output channels runs its pixels in slow cycles of k < K fast
    /// cycles instead of leaving kernel slots idle (6 output channels on 8 columns: k = 2, each
    /// pixel 2 cycles instead of 4).
    pub fn for_layer(e: &ConvArray, input: &[usize], cl: &accelgen_formats::ConvLayer) -> Result<ConvPlan, String> {
        ConvPlan::choose_kernels(e, |ek| ConvPlan::mapped(ek, input, cl))
    }

    /// [`ConvPlan::for_layer`] without tap rows: the row groups or the plain plan (a layer whose
    /// tap rows fit no band of the first cache).
    pub fn for_layer_rows(e: &ConvArray, input: &[usize], cl: &accelgen_formats::ConvLayer) -> Result<ConvPlan, String> {
        ConvPlan::choose_kernels(e, |ek| ConvPlan::mapped_rows(ek, input, cl))
    }

    /// The plan `plan_for` makes on an array of k kernels, for the k of
    /// [`ConvPlan::kernel_choices`] with the shortest [`ConvPlan::run_cost`] (the largest k among
    /// equals); k that `plan_for` refuses are skipped, and K's error is returned when all are.
    pub fn choose_kernels(e: &ConvArray, plan_for: impl Fn(&ConvArray) -> Result<ConvPlan, String>) -> Result<ConvPlan, String> {
        let mut best: Option<(u64, ConvPlan)> = None;
        let mut err = None;
        for k in ConvPlan::kernel_choices(e) {
            match plan_for(&ConvArray { kernels: k, ..*e }) {
                Ok(plan) => {
                    let cost = plan.run_cost(e);
                    if best.as_ref().is_none_or(|(b, _)| cost <= *b) {
                        best = Some((cost, plan));
                    }
                }
                Err(m) => err = Some(m),
            }
        }
        match (best, err) {
            (Some((_, plan)), _) => Ok(plan),
            (None, Some(m)) => Err(m),
            (None, None) => Err("no kernel count to plan with".into()),
        }
    }

    /// The kernel counts a run may use on `e`: 2..=K as far as `PE_KERNEL.k` (3 bits) reaches,
    /// and K itself (`k` = 0).
    pub fn kernel_choices(e: &ConvArray) -> impl Iterator<Item = usize> {
        let top = e.kernels;
        (2..top.min(8)).chain(std::iter::once(top))
    }

    /// The cycle model's closed form of one run of this plan (a model, used to pick k): every
    /// pass streams its pixels and the pipeline fill at k cycles a pixel, loads R·k weight
    /// entries, and the last tile drains k·Ho·Wo entries.
    pub fn run_cost(&self, e: &ConvArray) -> u64 {
        let u = |v: usize| v as u64;
        let k = u(self.kernels);
        let per_pass = (u(self.slots()) + u(e.rows + e.cols)) * k + u(e.rows) * k;
        // The last tile's drain; a run of one or two column groups streams its sums instead.
        let drain = if self.groups > 2 { k * u(self.pixels()) } else { 0 };
        u(self.passes) * per_pass + drain
    }

    /// The array as this plan uses it: K = the plan's k (weight, bias and output layouts,
    /// buffer limits in entries).
    pub fn array(&self, e: &ConvArray) -> ConvArray {
        ConvArray { kernels: self.kernels, ..*e }
    }

    /// The mapping of [`ConvPlan::for_layer`] on an array of `e.kernels` kernels: tap rows where
    /// they take fewer passes than the plain plan and the row groups, else the cheaper of those.
    fn mapped(e: &ConvArray, input: &[usize], cl: &accelgen_formats::ConvLayer) -> Result<ConvPlan, String> {
        let other = ConvPlan::mapped_rows(e, input, cl)?;
        let plain = ConvPlan::geometry(e, input, &cl.weight.shape, &cl.params)?.with_requant(cl.requant.as_ref());
        let base = match ConvPlan::tap_rows(e, &plain) {
            Some(t) if t.passes < other.passes => t,
            _ => other.clone(),
        };
        Ok(ConvPlan::grouped(e, base, [&plain, &other]))
    }

    /// `base`, or a plan with column groups ([`ConvPlan::with_groups`]) of `base` or of one of
    /// `others` (or of their tap rows) whose run the closed form finds shorter.
    fn grouped(e: &ConvArray, base: ConvPlan, others: [&ConvPlan; 2]) -> ConvPlan {
        let mut best = (base.run_cost(e), base.clone());
        let mut cands = vec![base];
        cands.extend(others.iter().map(|&p| p.clone()));
        for p in cands {
            for g in [2, 4] {
                // Every shift from ceil(kw / g) down: fewer slots a row, perhaps more passes.
                for s in (1..=p.kw.div_ceil(g)).rev() {
                    if let Some(gp) = ConvPlan::with_groups_shift(e, &p, g, s) {
                        if gp.run_cost(e) < best.0 {
                            best = (gp.run_cost(e), gp);
                        }
                    }
                }
            }
        }
        best.1
    }

    /// `p` (a plan with one group: plain, row groups or tap rows) with its C columns in `groups`
    /// groups of w = C / `groups` columns (docs/conv-array.md, column groups): group g of a pass
    /// takes its taps g·s kernel columns right of the pass's (s = ceil(kw / groups), so the
    /// passes cover kernel columns 0..s and the groups every column once; columns past kw have
    /// zero weights), for the slot g·s columns right of each output pixel. Each pass streams
    /// rows of Wo + (groups − 1)·s slots. Only where the output channels fit one tile of w·k
    /// (the output layout is then the one-group layout), the horizontal stride is 1 (a slot
    /// step is then a kernel-column step), C divides into the groups and s fits `PE_COLS.shift`;
    /// with tap rows, where the pairs still fit 8 tap groups.
    pub fn with_groups(e: &ConvArray, p: &ConvPlan, groups: usize) -> Option<ConvPlan> {
        ConvPlan::with_groups_shift(e, p, groups, p.kw.div_ceil(groups))
    }

    /// [`ConvPlan::with_groups`] with the shift `s` ≤ ceil(kw / groups): the passes cover kernel
    /// columns 0..kwb with kwb = max(s, kw − (groups − 1)·s), group g < groups − 1 keeps the columns
    /// g·s + [0, s) (its weights past s are zero: the next group has them) and the last group
    /// g·s + [0, kwb). A smaller shift streams fewer slots per row (Wo + (groups − 1)·s) for more
    /// pairs or passes (LeNet-5's first layer: s = 2, kwb = 3, 30 slots a row instead of 31 with
    /// the same 15 (row, column) pairs).
    pub fn with_groups_shift(e: &ConvArray, p: &ConvPlan, groups: usize, s: usize) -> Option<ConvPlan> {
        let w = e.cols / groups;
        if p.groups != 1 || e.cols % groups != 0 || p.cout > w * e.kernels || p.stride[1] != 1 || p.kw < groups || s > 15 || s == 0 {
            return None;
        }
        // (With s = ceil(kw / groups) the last group's block reaches past kw: zero weights.)
        let kwb = p.kw.saturating_sub((groups - 1) * s).max(s);
        let slots = p.ho * (p.wo + (groups - 1) * s);
        if slots >= 1 << 16 {
            return None;
        }
        let mut g = ConvPlan { groups, gshift: s, kwb, oc_tiles: 1, ..p.clone() };
        if p.taps && p.pass_cols {
            g.passes = p.ic_tiles * kwb;
        } else if p.taps {
            g.ic_tiles = (p.cin * p.kh * kwb).div_ceil(e.rows);
            if g.ic_tiles > 8 {
                return None;
            }
            g.passes = g.ic_tiles;
        } else {
            g.passes = p.ic_tiles * p.kh * kwb;
        }
        Some(g)
    }

    /// Columns of a column group, C / `groups`.
    pub fn group_cols(&self, e: &ConvArray) -> usize {
        e.cols / self.groups
    }

    /// `PE_COLS.groups`: log2 of the column groups.
    pub fn groups_field(&self) -> u64 {
        self.groups.trailing_zeros() as u64
    }

    /// Slots per row of a pass: Wo + (groups − 1)·`gshift` (the engine's issuer streams them).
    pub fn slot_width(&self) -> usize {
        self.wo + (self.groups - 1) * self.gshift
    }

    /// Slots per pass, Ho · [`ConvPlan::slot_width`].
    pub fn slots(&self) -> usize {
        self.ho * self.slot_width()
    }

    /// The weight PE (r, `cc`) holds for kernel `j` in the pass of output tile `oct`, row channel
    /// `ic` (input channel, or pair with tap rows) and run tap (`kr`, `ks`): output channel
    /// oct·w·k + (cc mod w)·k + j of group cc div w (w = C / groups, k = the plan's kernels), its
    /// tap `gshift`·(cc div w) kernel columns right; zero outside the layer.
    pub fn pe_weight(&self, e: &ConvArray, weight: &TensorI8, oct: usize, ic: usize, kr: usize, ks: usize, cc: usize, j: usize) -> i8 {
        let w = self.group_cols(e);
        let (g, oc) = (cc / w, oct * w * self.kernels + cc % w * self.kernels + j);
        // A group before the last keeps its first `gshift` columns; the next group has the rest.
        let theirs = g + 1 < self.groups && self.tap_of(ic, kr, ks).2 >= self.gshift;
        if oc < self.cout && ic < self.row_channels() && !theirs {
            self.weight_at(weight, oc, ic, kr, ks, g * self.gshift)
        } else {
            0
        }
    }

    /// The tap-row plan of `plain` (a plan of [`ConvPlan::geometry`]) with the fewest passes,
    /// when it has fewer than `plain` (the table has 8 groups; `PE_ROWTAP.dy`, `dx` are 4 bits):
    /// the layer's cin·kh·kw (input channel, tap) pairs over the R PE rows in 2 to 8 tap groups
    /// (one pass each), or its cin·kh (input channel, kernel row) pairs in at most 8 groups with
    /// the passes sweeping the kw kernel columns ([`ConvPlan::pass_cols`]).
    pub fn tap_rows(e: &ConvArray, plain: &ConvPlan) -> Option<ConvPlan> {
        debug_assert_eq!(plain.groups, 1);
        if plain.kh * plain.kw < 2 || plain.kh > 15 || plain.kw > 15 {
            return None;
        }
        let taps = (plain.cin * plain.kh * plain.kw).div_ceil(e.rows);
        let rows = (plain.cin * plain.kh).div_ceil(e.rows);
        let cands = [
            (taps <= 8).then(|| ConvPlan { ic_tiles: taps, passes: plain.oc_tiles * taps, taps: true, ..plain.clone() }),
            (rows <= 8 && plain.kh > 1)
                .then(|| ConvPlan { ic_tiles: rows, passes: plain.oc_tiles * rows * plain.kw, taps: true, pass_cols: true, ..plain.clone() }),
        ];
        cands.into_iter().flatten().filter(|t| t.passes < plain.passes).min_by_key(|t| t.passes)
    }

    /// The kernel a run is programmed with (`PE_KERNEL.kh`, `kw`): 1 × 1 with tap rows (1 ×
    /// `kwb` with [`ConvPlan::pass_cols`]), else the layer's.
    pub fn run_kernel(&self) -> (usize, usize) {
        match (self.taps, self.pass_cols) {
            (true, true) => (1, self.kwb),
            (true, false) => (1, 1),
            _ => (self.kh, self.kwb),
        }
    }

    /// Kernel columns each tap-row pair carries: 1 with [`ConvPlan::pass_cols`], else `kwb`.
    fn pair_cols(&self) -> usize {
        if self.pass_cols {
            1
        } else {
            self.kwb
        }
    }

    /// The channels the PE rows carry over the input tiles: the (input channel, tap) or (input
    /// channel, kernel row) pairs with tap rows, else the input channels.
    pub fn row_channels(&self) -> usize {
        if self.taps {
            self.cin * self.kh * self.pair_cols()
        } else {
            self.cin
        }
    }

    /// Input planes each first-cache bank holds for a run of `icg` input tiles: every input
    /// channel with tap rows (broadcast), else `icg`.
    pub fn bank_planes(&self, icg: usize) -> usize {
        if self.taps {
            self.cin
        } else {
            icg
        }
    }

    /// The `PE_ROWTAP` table of a tap-row run whose input is `h` rows of `w` elements per channel
    /// (channel c at c·h·w in every bank): (group, row, offset, dy, dx) for every row of every tap
    /// group. The issuer adds the pass's tile times h·w to the slot's entry; the offsets take it
    /// back (16-bit wrap, as the engine adds). A row past the last pair (zero weights) reads the
    /// slot's own entry (offset −g·h·w, no move): never past the band, whatever an earlier run
    /// left in the table.
    pub fn rowtap_table(&self, e: &ConvArray, h: usize, w: usize) -> Vec<[u64; 5]> {
        let plane = (h * w) as i64;
        let pairs = self.row_channels();
        (0..self.ic_tiles * e.rows)
            .map(|q| {
                if q >= pairs {
                    let off = (-((q / e.rows) as i64) * plane).rem_euclid(1 << 16);
                    return [(q / e.rows) as u64, (q % e.rows) as u64, off as u64, 0, 0];
                }
                let pc = self.pair_cols();
                let (ci, dy, dx) = (q / (self.kh * pc), q / pc % self.kh, q % pc);
                let g = q / e.rows;
                let off = (ci as i64 * plane + (dy * w + dx) as i64 - g as i64 * plane).rem_euclid(1 << 16);
                [g as u64, (q % e.rows) as u64, off as u64, dy as u64, dx as u64]
            })
            .collect()
    }

    /// The row-group mapping (or the plain plan) of [`ConvPlan::for_layer`].
    fn mapped_rows(e: &ConvArray, input: &[usize], cl: &accelgen_formats::ConvLayer) -> Result<ConvPlan, String> {
        let plain = ConvPlan::geometry(e, input, &cl.weight.shape, &cl.params)?.with_requant(cl.requant.as_ref());
        let p = &cl.params;
        let kh = plain.kh;
        // PE_SHAPE.kg (3 bits) names the row groups: at most 7 kernel rows.
        if plain.cin != 1 || p.stride[0] != 1 || p.padding[0] != 0 || p.end()[0] != 0 || kh < 2 || kh > e.rows.min(7) {
            return Ok(plain);
        }
        let view = accelgen_golden::ConvParams { stride: p.stride, padding: [0, p.padding[1]], padding_end: Some([0, p.end()[1]]), pad_value: p.pad_value };
        let weight = [plain.cout, kh, 1, plain.kw];
        let mut plan = ConvPlan::geometry(e, &[kh, plain.ho, plain.w], &weight, &view)?.with_requant(cl.requant.as_ref());
        plan.row_view = true;
        debug_assert_eq!((plan.ho, plan.wo, plan.macs), (plain.ho, plain.wo, plain.macs));
        Ok(plan)
    }

    /// The (input channel, kernel row, kernel column) of row channel `ic` (input channel, or pair
    /// with tap rows) at run tap (`kr`, `ks`), before a column group's shift.
    fn tap_of(&self, ic: usize, kr: usize, ks: usize) -> (usize, usize, usize) {
        if self.row_view {
            (0, ic + kr, ks)
        } else if self.taps {
            // The pair's tap; with `pass_cols` the pass's kernel column `ks` (0 otherwise).
            let pc = self.pair_cols();
            (ic / (self.kh * pc), ic / pc % self.kh, ic % pc + ks)
        } else {
            (ic, kr, ks)
        }
    }

    /// Input channel `ic`, kernel tap (`kr`, `ks`) of this plan's weights, `shift` kernel
    /// columns further right (a column group's), from the layer's weight tensor (`[oc, 0, ic,
    /// ks]` with [`ConvPlan::row_view`]); zero past the kernel's last column.
    pub fn weight_at(&self, weight: &TensorI8, oc: usize, ic: usize, kr: usize, ks: usize, shift: usize) -> i8 {
        let (ci, ky, kx) = self.tap_of(ic, kr, ks);
        if kx + shift < self.kw {
            weight.at(&[oc, ci, ky, kx + shift])
        } else {
            0
        }
    }

    /// `PE_SHAPE.kg`: with [`ConvPlan::row_view`] the layer's kernel rows (PE row r reads its
    /// bank r input rows further: every bank holds the same input rows, loaded once by a
    /// broadcast load), else 0.
    pub fn row_groups(&self) -> usize {
        if self.row_view {
            self.cin
        } else if self.taps {
            1
        } else {
            0
        }
    }

    /// First-cache rows per bank beyond a band's `hin` rows: the kernel rows less one with
    /// [`ConvPlan::row_view`] (the rows the last PE row reads past the band's), else 0.
    pub fn bank_extra_rows(&self) -> usize {
        self.row_groups().saturating_sub(1)
    }

    /// Elements between input channels in memory: one row with [`ConvPlan::row_view`], else H·W.
    pub fn channel_stride(&self) -> usize {
        if self.row_view {
            self.w
        } else {
            self.h * self.w
        }
    }

    /// This plan for a layer with requantization `rq` (ONNX Runtime's mode sets `ort`).
    pub fn with_requant(self, rq: Option<&accelgen_golden::Requant>) -> ConvPlan {
        ConvPlan { ort: rq.is_some_and(|q| q.ort.is_some()), ..self }
    }

    /// This tiling, if it fits the engine's buffers and register widths.
    pub fn fits(self, e: &ConvArray) -> Result<ConvPlan, String> {
        let plan = self;
        let e = &plan.array(e);
        let padding = plan.padding;
        let ConvPlan { cin: _, h, w, cout: _, ho, wo, ic_tiles, oc_tiles, passes, .. } = plan;
        let per_pass = e.rows * e.cols * e.kernels;
        if plan.bank_planes(ic_tiles) * h * w > e.first_cache_depth {
            return Err(unsupported(
                "ceil(Cin/rows)·H·W",
                plan.bank_planes(ic_tiles) * h * w,
                "pe_array.first_cache_depth",
                e.first_cache_depth,
            ));
        }
        if passes * per_pass > e.weight_buffer_depth {
            return Err(unsupported(
                "passes·rows·cols·kernels_per_pe weights",
                passes * per_pass,
                "pe_array.weight_buffer_depth",
                e.weight_buffer_depth,
            ));
        }
        if e.kernels * ho * wo > e.acc_buffer_depth {
            return Err(unsupported(
                "kernels_per_pe·Ho·Wo",
                e.kernels * ho * wo,
                "pe_array.acc_buffer_depth",
                e.acc_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels > e.bias_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe",
                oc_tiles * e.kernels,
                "pe_array.bias_buffer_depth",
                e.bias_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels * ho * wo > e.output_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe·Ho·Wo",
                oc_tiles * e.kernels * ho * wo,
                "pe_array.output_buffer_depth",
                e.output_buffer_depth,
            ));
        }
        for (name, v) in [("H + padding", h + padding[0] + plan.pad_end[0]), ("W + padding", w + padding[1] + plan.pad_end[1])] {
            if v >= 1 << 16 {
                return Err(format!("{name} = {v} must be below 65536"));
            }
        }
        if passes >= 1 << 16 {
            return Err(format!(
                "{passes} passes exceed the engine's 16-bit pass counter"
            ));
        }
        Ok(plan)
    }

    /// Output pixels per pass, Ho·Wo.
    pub fn pixels(&self) -> usize {
        self.ho * self.wo
    }

    /// The first-cache image of bank `r`: channel tile t, row y, column x at (t·H + y)·W + x.
    pub fn bank_image(&self, e: &ConvArray, input: &TensorI8, r: usize) -> Vec<i8> {
        let mut v = Vec::with_capacity(self.ic_tiles * self.h * self.w);
        for t in 0..self.ic_tiles {
            let c = t * e.rows + r;
            for i in 0..self.h * self.w {
                v.push(if c < self.cin { input.data[c * self.h * self.w + i] } else { 0 });
            }
        }
        v
    }

    /// The weight-buffer image: pass (oct, ict, kr, ks), then row r, kernel j, column c
    /// ([`ConvArray::weight_slot`]); PE (r, c) kernel j holds output channel oct·C·K + c·K + j,
    /// input channel ict·R + r (zero outside).
    pub fn weight_image(&self, e: &ConvArray, weight: &TensorI8) -> Vec<i8> {
        let e = &self.array(e);
        let mut v = Vec::with_capacity(self.passes * e.weights_per_pass());
        for oct in 0..self.oc_tiles {
            for ict in 0..self.ic_tiles {
                for kr in 0..self.run_kernel().0 {
                    for ks in 0..self.run_kernel().1 {
                        for r in 0..e.rows {
                            for j in 0..e.kernels {
                                for c in 0..e.cols {
                                    v.push(self.pe_weight(e, weight, oct, ict * e.rows + r, kr, ks, c, j));
                                }
                            }
                        }
                    }
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_formats::{ConvLayer, TensorField};
    use accelgen_golden::ConvParams;

    fn layer(weight: [usize; 4], stride: [usize; 2], pads: [usize; 4]) -> ConvLayer {
        let n = weight.iter().product::<usize>();
        ConvLayer {
            weight: TensorField { shape: weight.to_vec(), data: Some((0..n).map(|i| (i % 251) as i8).collect()) },
            bias: None,
            params: ConvParams { stride, padding: [pads[0], pads[1]], padding_end: Some([pads[2], pads[3]]), pad_value: 0 },
            requant: None,
            channel_scales: None,
        }
    }

    /// The row-group mapping holds exactly where it may (one input channel, vertical stride 1,
    /// no vertical padding, 2..=R kernel rows): LeNet-5's first layer as 5 passes instead of 25
    /// with the same pixels and MACs, its weights read back from the layer's kernel rows.
    #[test]
    fn one_channel_layers_put_kernel_rows_on_the_pe_rows_where_the_mapping_holds() {
        let e = accelgen_config::Preset::Default.config().conv_array();
        let l = layer([6, 1, 5, 5], [1, 1], [0, 0, 0, 0]);
        let p = ConvPlan::mapped_rows(&e, &[1, 32, 32], &l).unwrap();
        assert!(p.row_view && !p.taps);
        assert_eq!((p.cin, p.h, p.w, p.kh, p.kw, p.passes, p.ho, p.wo, p.macs), (5, 28, 32, 1, 5, 5, 28, 28, 117_600));
        assert_eq!(p.channel_stride(), 32);
        let w = l.weight.require("w").unwrap();
        assert_eq!(p.weight_at(&w, 4, 3, 0, 2, 0), w.at(&[4, 0, 3, 2]));
        // Horizontal stride and padding stay.
        assert!(ConvPlan::mapped_rows(&e, &[1, 32, 32], &layer([6, 1, 3, 3], [1, 2], [0, 1, 0, 1])).unwrap().row_view);
        // A 7×7 kernel: 7 passes either way, and the compiler keeps the row groups.
        assert!(ConvPlan::for_layer(&e, &[1, 32, 32], &layer([6, 1, 7, 7], [1, 1], [0, 0, 0, 0])).unwrap().row_view);
        // Not: vertical padding or stride, several channels, one kernel row, more rows than R.
        for (input, l) in [
            ([1, 32, 32], layer([6, 1, 3, 3], [1, 1], [1, 1, 1, 1])),
            ([1, 32, 32], layer([6, 1, 3, 3], [1, 1], [0, 0, 1, 0])),
            ([1, 32, 32], layer([6, 1, 3, 3], [2, 1], [0, 0, 0, 0])),
            ([3, 32, 32], layer([6, 3, 3, 3], [1, 1], [0, 0, 0, 0])),
            ([1, 32, 32], layer([6, 1, 1, 3], [1, 1], [0, 0, 0, 0])),
            ([1, 32, 32], layer([6, 1, 9, 3], [1, 1], [0, 0, 0, 0])),
        ] {
            let p = ConvPlan::mapped_rows(&e, &input, &l).unwrap();
            assert!(!p.row_view, "{:?} {:?}", l.weight.shape, l.params);
            assert_eq!(p.channel_stride(), p.h * p.w);
        }
    }

    /// Tap rows where they take fewer passes: the 3-channel stem (27 pairs, 4 tap groups instead
    /// of 9 passes) and LeNet-5's first layer (25 pairs, 4 groups instead of 5 kernel columns),
    /// with padding and stride; each pair's weight and table entry name the layer's channel and
    /// tap. Not where the rows are full already (16 channels), for a 1×1 kernel, or past 8 groups.
    #[test]
    fn few_channel_layers_put_channel_tap_pairs_on_the_pe_rows() {
        let e = accelgen_config::Preset::Default.config().conv_array();
        for (input, l, groups) in [
            ([3, 32, 32], layer([16, 3, 3, 3], [1, 1], [1, 1, 1, 1]), 4),
            ([1, 32, 32], layer([6, 1, 5, 5], [1, 1], [0, 0, 0, 0]), 4),
            ([3, 33, 33], layer([16, 3, 3, 3], [2, 2], [1, 1, 0, 0]), 4),
            ([2, 16, 16], layer([8, 2, 5, 5], [1, 1], [2, 2, 2, 2]), 7),
        ] {
            let plain = ConvPlan::geometry(&e, &input, &l.weight.shape, &l.params).unwrap();
            let p = ConvPlan::for_layer(&e, &input, &l).unwrap();
            assert!(p.taps && !p.row_view, "{:?}", l.weight.shape);
            // (The compiler may add column groups to them: tested below; here the pairs alone.)
            let p = ConvPlan::tap_rows(&e, &plain).unwrap();
            assert_eq!((p.cin, p.h, p.w, p.kh, p.kw, p.ho, p.wo, p.macs), (plain.cin, plain.h, plain.w, plain.kh, plain.kw, plain.ho, plain.wo, plain.macs));
            assert_eq!((p.ic_tiles, p.passes, p.run_kernel(), p.row_groups(), p.bank_planes(1)), (groups, groups * p.oc_tiles, (1, 1), 1, input[0]));
            let w = l.weight.require("w").unwrap();
            let (hb, wb) = (7, input[2]);
            let table = p.rowtap_table(&e, hb, wb);
            assert_eq!(table.len(), groups * e.rows);
            for (q, &[g, r, off, dy, dx]) in table.iter().enumerate() {
                if q >= p.row_channels() {
                    // Rows past the last pair read the slot's own entry.
                    assert_eq!((g as usize, r as usize, dy, dx), (q / e.rows, q % e.rows, 0, 0));
                    assert_eq!((g as usize * hb * wb + off as usize) % (1 << 16), 0);
                    continue;
                }
                let ci_want = q / (p.kh * p.kw);
                let (ky, kx) = ((q % (p.kh * p.kw)) / p.kw, q % p.kw);
                assert_eq!((g as usize, r as usize, dy as usize, dx as usize), (q / e.rows, q % e.rows, ky, kx));
                // The issuer adds the tile's plane; the entry then lands on the pair's pixel.
                assert_eq!((g as usize * hb * wb + off as usize) % (1 << 16), ci_want * hb * wb + ky * wb + kx);
                for oc in [0, p.cout - 1] {
                    assert_eq!(p.weight_at(&w, oc, q, 0, 0, 0), w.at(&[oc, ci_want, ky, kx]));
                }
            }
        }
        // (Input channel, kernel row) pairs where the (channel, tap) pairs take more than 8
        // groups: LeNet-5's second layer (30 pairs in 4 groups, 5 kernel-column passes each: 20
        // passes instead of 25), and a padded 5×5 layer of 4 channels (3 groups, 15 passes).
        for (input, l, groups) in [
            ([6, 14, 14], layer([16, 6, 5, 5], [1, 1], [0, 0, 0, 0]), 4),
            ([4, 12, 12], layer([8, 4, 5, 5], [1, 1], [2, 2, 2, 2]), 3),
        ] {
            let plain = ConvPlan::geometry(&e, &input, &l.weight.shape, &l.params).unwrap();
            let p = ConvPlan::tap_rows(&e, &plain).unwrap();
            assert!(p.taps && p.pass_cols, "{:?}", l.weight.shape);
            assert_eq!((p.ic_tiles, p.passes, p.run_kernel(), p.row_channels()), (groups, groups * p.kw, (1, p.kw), p.cin * p.kh));
            assert!(p.passes < plain.passes);
            let w = l.weight.require("w").unwrap();
            let (hb, wb) = (9, input[2]);
            for (q, &[g, r, off, dy, dx]) in p.rowtap_table(&e, hb, wb).iter().enumerate().take(p.row_channels()) {
                let (ci, ky) = (q / p.kh, q % p.kh);
                assert_eq!((g as usize, r as usize, dy as usize, dx), (q / e.rows, q % e.rows, ky, 0));
                assert_eq!((g as usize * hb * wb + off as usize) % (1 << 16), ci * hb * wb + ky * wb);
                for (oc, ks) in [(0, 0), (p.cout - 1, p.kw - 1), (3, 1)] {
                    assert_eq!(p.weight_at(&w, oc, q, 0, ks, 0), w.at(&[oc, ci, ky, ks]));
                }
            }
        }
        for (input, l) in [
            ([16, 32, 32], layer([16, 16, 3, 3], [1, 1], [1, 1, 1, 1])),
            ([3, 32, 32], layer([16, 3, 1, 1], [1, 1], [0, 0, 0, 0])),
            ([8, 32, 32], layer([16, 8, 3, 3], [1, 1], [1, 1, 1, 1])),
        ] {
            assert!(!ConvPlan::for_layer(&e, &input, &l).unwrap().taps, "{:?}", l.weight.shape);
        }
    }
}
