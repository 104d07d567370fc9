//! The conv engine against the golden model: every small array shape on seeded random layers,
//! degenerate layers, and the committed numpy vectors. Zero invariant violations everywhere.

use accelgen_formats::{Case, ConvLayer, Layer, TensorField};
use accelgen_golden::{ConvParams, OrtScale, Requant, Tensor, TensorI8};
use accelgen_hw::pe::ConvEngineParams;
use accelgen_golden::testutil::Rng;
use accelgen_sim::conv::run_conv;
use accelgen_compiler::cycle_model::conv_cycles;
use accelgen_sim::RunOptions;

fn engine(rows: usize, cols: usize, kernels: usize) -> ConvEngineParams {
    ConvEngineParams {
        array: accelgen_config::ConvArray {
            rows,
            cols,
            kernels,
            first_cache_depth: 1024,
            weight_buffer_depth: 8192,
            acc_buffer_depth: 512,
            bias_buffer_depth: 64,
            output_buffer_depth: 2048,
        },
        fault: accelgen_hw::pe::ConvFault::None,
        // First-cache banks of four byte lanes: the engine's reads take each entry's byte from
        // its lane (the loads here write elements).
        lanes: 4,
        out_lanes: 1,
    }
}

struct Layer2 {
    input: TensorI8,
    layer: ConvLayer,
}

fn random_tensor(rng: &mut Rng, shape: &[usize]) -> TensorI8 {
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.range(-128, 127) as i8).collect()).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn layer(
    rng: &mut Rng,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    kh: usize,
    kw: usize,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Layer2 {
    let input = random_tensor(rng, &[cin, h, w]);
    let weight = random_tensor(rng, &[cout, cin, kh, kw]);
    let bias = (rng.below(2) == 0).then(|| TensorField {
        shape: vec![cout],
        data: Some((0..cout).map(|_| rng.range(-100_000, 100_000) as i32).collect()),
    });
    let mut requant = (rng.below(2) == 0).then(|| Requant {
        multiplier: rng.range(1, 32767) as i32,
        shift: rng.range(8, 20) as u32,
        zero_point: rng.range(-20, 20) as i32,
        relu: rng.below(2) == 0,
        ort: None,
    });
    // One layer in three: an imported model's arithmetic, ONNX Runtime's requantization (a
    // float32 scale from 2^-14 to 2^-8) and padding with a zero point.
    let mut pad_value = 0;
    let mut channel_scales = None;
    if rng.below(3) == 0 {
        let scale = f32::from_bits(0x3880_0000 + rng.below(0x0300_0000) as u32);
        requant = Some(Requant { multiplier: 0, shift: 0, zero_point: rng.range(-128, 127) as i32, relu: rng.below(2) == 0, ort: OrtScale::of(scale) });
        pad_value = rng.range(-128, 127) as i8;
        // Half of them with one scale per output channel (from the scale bank).
        if rng.below(2) == 0 {
            let k = weight.shape[0];
            channel_scales = Some((0..k).map(|_| OrtScale::of(f32::from_bits(0x3880_0000 + rng.below(0x0300_0000) as u32)).unwrap()).collect());
        }
    }
    Layer2 {
        input,
        layer: ConvLayer {
            weight: TensorField { shape: weight.shape.clone(), data: Some(weight.data) },
            bias,
            params: ConvParams { stride, padding, padding_end: None, pad_value },
            requant,
            channel_scales,
        },
    }
}

/// Runs the layer on the engine and checks it against the golden model; returns the stats.
fn check(e: &ConvEngineParams, l: &Layer2, what: &str) -> serde_json::Map<String, serde_json::Value> {
    let case = Case { input: l.input.clone(), layer: Layer::Conv(l.layer.clone()), expected: None };
    let golden = case.golden().unwrap().to_i64();
    let run = run_conv(e, &l.input, &l.layer, &RunOptions::default())
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    let got = run.output.to_i64();
    let c = accelgen_formats::compare(&got, &golden, 5);
    assert!(c.matches(), "{what}: {}", c.describe("engine vs golden"));
    assert_eq!(run.violations, 0, "{what}: invariant violations, stats {:?}", run.stats);
    for key in ["cache_writes_outside_col0", "shift_chain_breaks", "kernel_use_violations"] {
        assert_eq!(run.stats[key], 0, "{what}: {key}");
    }
    // The plan the driver ran: the kernels each PE uses, k, picked by the cycle model.
    let plan = accelgen_sim::conv::plan_conv(e, &l.input.shape, &l.layer).unwrap();
    let model = conv_cycles(e, &plan);
    assert_eq!(run.stats["cycles"], model.cycles, "{what}: cycle model vs simulation");
    run.stats
}

#[test]
fn pe_array_matches_golden_on_every_small_array_shape() {
    let mut rng = Rng::from_env("conv_shapes", 2026);
    let (mut per_channel, mut asymmetric, mut fewer_kernels) = (0, 0, 0);
    for rows in 1..=4 {
        for cols in 2..=4 {
            for k in 2..=3 {
                let e = engine(rows, cols, k);
                let kh = rng.range(1, 3) as usize;
                let kw = rng.range(1, 3) as usize;
                let cin = rng.range(1, 6) as usize;
                let h = rng.range(kh as i64, 6) as usize;
                let w = rng.range(kw as i64, 7) as usize;
                let cout = rng.range(1, 9) as usize;
                let stride = [rng.range(1, 2) as usize, rng.range(1, 3) as usize];
                let padding =
                    [rng.range(0, (kh / 2) as i64) as usize, rng.range(0, (kw / 2) as i64) as usize];
                let mut l = layer(&mut rng, cin, h, w, cout, kh, kw, stride, padding);
                per_channel += usize::from(l.layer.channel_scales.is_some());
                // One layer in three: asymmetric padding (ONNX's SAME), bottom and right from 0
                // to the kernel side less one.
                if rng.below(3) == 0 {
                    let end = [rng.range(0, kh as i64 - 1) as usize, rng.range(0, kw as i64 - 1) as usize];
                    l.layer.params.padding_end = (end != padding).then_some(end);
                    asymmetric += usize::from(end != padding);
                }
                check(&e, &l, &format!("array {rows}x{cols} K={k}"));
                let plan = accelgen_sim::conv::plan_conv(&e, &l.input.shape, &l.layer).unwrap();
                fewer_kernels += usize::from(plan.kernels < k);
            }
        }
    }
    // Layers of few output channels run with k < K kernels per PE (PE_KERNEL.k).
    assert!(fewer_kernels >= 2, "{fewer_kernels} layers with fewer kernels than K");
    // The seed's layers include per-channel scales (the scale bank) on several shapes.
    assert!(per_channel >= 2, "{per_channel} layers with per-channel scales");
    assert!(asymmetric >= 2, "{asymmetric} layers with asymmetric padding");
}

#[test]
fn pe_array_matches_golden_on_degenerate_layers() {
    let mut rng = Rng::from_env("conv_degenerate", 7);
    let e = engine(2, 2, 2);
    let cases: [(&str, [usize; 6], [usize; 2], [usize; 2]); 7] = [
        ("one input channel", [1, 4, 4, 3, 3, 3], [1, 1], [1, 1]),
        ("1x1 kernel", [3, 4, 5, 2, 1, 1], [1, 1], [0, 0]),
        ("1x1 output", [2, 3, 3, 3, 3, 3], [1, 1], [0, 0]),
        ("more output channels than C*K", [2, 3, 3, 11, 2, 2], [1, 1], [0, 0]),
        ("more input channels than R", [7, 3, 4, 2, 2, 2], [1, 1], [1, 0]),
        ("stride larger than the kernel", [2, 7, 8, 3, 2, 2], [3, 3], [0, 0]),
        ("single pixel input", [1, 1, 1, 1, 1, 1], [1, 1], [0, 0]),
    ];
    for (what, [cin, h, w, cout, kh, kw], stride, padding) in cases {
        let l = layer(&mut rng, cin, h, w, cout, kh, kw, stride, padding);
        check(&e, &l, what);
    }
}

#[test]
fn pe_array_matches_every_committed_conv_vector_on_two_array_shapes() {
    let files = accelgen_formats::vector_files();
    let mut n = 0;
    for f in files {
        let case = Case::load(&f).unwrap();
        let Layer::Conv(conv) = &case.layer else { continue };
        let expected = case.expected.clone().unwrap();
        for e in [engine(2, 2, 2), engine(3, 4, 3)] {
            let run = run_conv(&e, &case.input, conv, &RunOptions::default()).unwrap();
            let c = accelgen_formats::compare(&run.output.to_i64(), &expected, 5);
            assert!(c.matches(), "{}: {}", f.display(), c.describe("engine vs numpy"));
            assert_eq!(run.violations, 0, "{}", f.display());
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} conv vectors found");
}

#[test]
fn first_cache_is_read_once_per_datum_per_row_per_pass() {
    // No padding, so every pixel of every pass reads each row's bank once.
    let mut rng = Rng::new(3);
    let e = engine(3, 2, 2);
    let l = layer(&mut rng, 5, 5, 6, 4, 3, 2, [1, 2], [0, 0]);
    let stats = check(&e, &l, "reads");
    let (ho, wo) = (3, 3);
    let passes = 2 * 3 * 2; // ic_tiles · kh · kw (one output tile)
    assert_eq!(stats["passes"], passes);
    assert_eq!(stats["first_cache_reads"], (passes * ho * wo * 3) as u64);
}

/// `pe_macs` (counted from the PEs' `mac` outputs) equals a count made here from the geometry
/// alone: every (output pixel, kernel tap) whose input lies inside the map is multiplied by every
/// PE's K kernels once per channel tile, padding channels of the last tiles included.
#[test]
fn pe_macs_counts_every_multiply_on_a_datum_inside_the_map() {
    let mut rng = Rng::new(17);
    let e = engine(2, 3, 2);
    for (cin, h, w, cout, k, stride, pad) in [(3, 6, 7, 5, 3, [1, 1], [1, 1]), (4, 7, 5, 6, 3, [2, 1], [2, 0]), (2, 4, 4, 6, 1, [1, 1], [0, 0])] {
        let l = layer(&mut rng, cin, h, w, cout, k, k, stride, pad);
        let stats = check(&e, &l, "pe_macs");
        let ho = (h + 2 * pad[0] - k) / stride[0] + 1;
        let wo = (w + 2 * pad[1] - k) / stride[1] + 1;
        let mut inside = 0u64;
        for oy in 0..ho {
            for ox in 0..wo {
                for kr in 0..k {
                    for ks in 0..k {
                        let (y, x) = ((oy * stride[0] + kr) as i64 - pad[0] as i64, (ox * stride[1] + ks) as i64 - pad[1] as i64);
                        if (0..h as i64).contains(&y) && (0..w as i64).contains(&x) {
                            inside += 1;
                        }
                    }
                }
            }
        }
        let tiles = (cin.div_ceil(e.rows) * cout.div_ceil(e.cols * e.kernels)) as u64;
        let want = inside * tiles * (e.rows * e.cols * e.kernels) as u64;
        assert_eq!(stats["pe_macs"], want, "{cin}x{h}x{w} -> {cout}, k{k} s{stride:?} p{pad:?}");
    }
}

/// Column groups (`PE_COLS`, docs/conv-array.md): on arrays of 4 and 8 columns, random layers
/// of few output channels run with their columns in 2 and 4 groups, each group taking its taps
/// `gshift`·g kernel columns right for the slots as far right, the drain folding the groups'
/// sums; and with every smaller shift the layer allows (`with_groups_shift`: the groups' column
/// blocks overlap, the earlier group's copy of a shared column zero). Bit-exact against the
/// golden model, no invariant violations, and the cycle model equals the simulation (the passes
/// stream the wider slot rows).
#[test]
fn column_groups_fold_shifted_taps_into_the_first_group() {
    let mut rng = Rng::from_env("conv_groups", 77);
    let (mut ran, mut narrow) = ([0usize; 3], 0);
    for (rows, cols, k) in [(2, 4, 2), (3, 4, 3), (2, 8, 2), (1, 8, 3), (3, 8, 4)] {
        let e = engine(rows, cols, k);
        for groups in [2, 4] {
            let w = cols / groups;
            let kw = rng.range(groups as i64, 6) as usize;
            let kh = rng.range(1, 3) as usize;
            let cin = rng.range(1, 5) as usize;
            let h = rng.range(kh as i64, 6) as usize;
            let wd = rng.range(kw as i64, 9) as usize;
            let cout = rng.range(1, (w * k) as i64) as usize;
            let padding = [rng.range(0, (kh / 2) as i64) as usize, rng.range(0, (kw / 2) as i64) as usize];
            let sh = rng.range(1, 2) as usize;
            let l = layer(&mut rng, cin, h, wd, cout, kh, kw, [sh, 1], padding);
            let what = format!("array {rows}x{cols} K={k}, {groups} groups, {cin}x{h}x{wd} -> {cout}, kernel {kh}x{kw}");
            // The plan with k = K (the output channels fit one tile of w·K).
            let plain = accelgen_compiler::ConvPlan::geometry(&e, &l.input.shape, &l.layer.weight.shape, &l.layer.params)
                .unwrap()
                .with_requant(l.layer.requant.as_ref());
            let plan = accelgen_compiler::ConvPlan::with_groups(&e, &plain, groups).unwrap_or_else(|| panic!("{what}: no groups"));
            assert_eq!((plan.groups, plan.gshift, plan.oc_tiles), (groups, kw.div_ceil(groups), 1), "{what}");
            let case = Case { input: l.input.clone(), layer: Layer::Conv(l.layer.clone()), expected: None };
            let golden = case.golden().unwrap().to_i64();
            let shifts = (1..kw.div_ceil(groups)).filter_map(|s| accelgen_compiler::ConvPlan::with_groups_shift(&e, &plain, groups, s));
            for plan in std::iter::once(plan).chain(shifts) {
                let what = format!("{what}, shift {}, {} columns a pass", plan.gshift, plan.kwb);
                assert!(plan.kwb >= plan.gshift && plan.kwb + (groups - 1) * plan.gshift >= kw, "{what}: the groups cover the kernel's columns");
                let plan = plan.fits(&e).unwrap();
                let run = accelgen_sim::conv::run_conv_plan(&e, &l.input, &l.layer, &RunOptions::default(), plan.clone()).unwrap_or_else(|err| panic!("{what}: {err}"));
                let c = accelgen_formats::compare(&run.output.to_i64(), &golden, 5);
                assert!(c.matches(), "{what}: {}", c.describe("engine vs golden"));
                assert_eq!(run.violations, 0, "{what}: {:?}", run.stats);
                assert_eq!(run.stats["cycles"], conv_cycles(&e, &plan).cycles, "{what}: cycle model vs simulation");
                narrow += usize::from(plan.gshift < kw.div_ceil(groups));
            }
            ran[groups.trailing_zeros() as usize] += 1;
        }
    }
    assert_eq!(ran, [0, 5, 5]);
    assert!(narrow > 0, "no layer ran with a shift below ceil(kw / groups)");
}

/// The depthwise mode (docs/conv-array.md, `DwRows`): random depthwise layers (kernels up to
/// the array's column-group width and 3 rows, strides 1 and 2, asymmetric padding with a
/// padding value, requantization of every kind, channel counts that leave the last group
/// partial) and global average pooling (a kernel the size of the map), on arrays whose column
/// groups are 1 PE (2×2, the tiny preset's) or 3 PEs wide (3×3, 2×6, 4×8), each equal to the
/// golden convolution of the same layer in dense form (each output channel's weights zero
/// outside its own input channel); no invariant violations. One of them runs on Verilator.
#[test]
fn depthwise_mode_equals_the_golden_convolution() {
    let mut rng = Rng::from_env("dw-engine", 35);
    let arrays = [(2, 2, 2), (3, 3, 3), (2, 6, 2), (4, 8, 4)];
    let mut seen_global = false;
    for case in 0..24 {
        let (rows, cols, kernels) = arrays[case % arrays.len()];
        let e = engine(rows, cols, kernels);
        let kwmax = e.dw_group_width();
        let global = case % 6 == 5;
        let c = rng.range(1, 3 * rows as i64) as usize;
        let (kh, kw, stride, pads, h, w);
        if global {
            (h, w) = (rng.range(1, 6) as usize, rng.range(2, 6) as usize);
            (kh, kw, stride, pads) = (h, w, [1, 1], [0; 4]);
        } else {
            kw = rng.range(1, kwmax as i64) as usize;
            kh = rng.range(1, 3) as usize;
            stride = [rng.range(1, 2) as usize, rng.range(1, 2) as usize];
            pads = [rng.below(kh as u64) as usize, rng.below(kw as u64) as usize, rng.below(kh as u64) as usize, rng.below(kw as u64) as usize];
            h = rng.range(kh as i64, 7) as usize;
            w = rng.range(kw as i64, 9) as usize;
        }
        seen_global |= global;
        let mut l = layer(&mut rng, c, h, w, c, 1, 1, stride, [pads[0], pads[1]]);
        l.input = random_tensor(&mut rng, &[c, h, w]);
        l.layer.params.padding_end = Some([pads[2], pads[3]]);
        let dwt: Vec<i8> = if global {
            (0..c).flat_map(|_| std::iter::repeat_n(rng.range(-128, 127) as i8, kh * kw)).collect()
        } else {
            (0..c * kh * kw).map(|_| rng.range(-128, 127) as i8).collect()
        };
        // The dense form: output channel o's weights are its own channel's, zero elsewhere.
        let mut dense = vec![0i8; c * c * kh * kw];
        for o in 0..c {
            for t in 0..kh * kw {
                dense[(o * c + o) * kh * kw + t] = dwt[o * kh * kw + t];
            }
        }
        let mut dl = l.layer.clone();
        dl.weight = TensorField { shape: vec![c, c, kh, kw], data: Some(dense) };
        let golden = Case { input: l.input.clone(), layer: Layer::Conv(dl), expected: None }.golden().unwrap().to_i64();
        l.layer.weight = TensorField { shape: vec![c, 1, kh, kw], data: Some(dwt) };
        let what = format!("case {case}: {rows}x{cols} K={kernels}, {c} channels {h}x{w}, kernel {kh}x{kw}, stride {stride:?}, pads {pads:?}");
        // One run on the emitted Verilog (Verilator), the others on rust-hdl.
        let engine = if case == 3 { accelgen_sim::engines::Engine::Verilator } else { accelgen_sim::engines::Engine::Rust };
        let opts = RunOptions { engine, ..RunOptions::default() };
        let run = accelgen_sim::conv::run_dw(&e, &l.input, &l.layer, &opts).unwrap_or_else(|err| panic!("{what}: {err}"));
        let cmp = accelgen_formats::compare(&run.output.to_i64(), &golden, 5);
        assert!(cmp.matches(), "{what}: {}", cmp.describe("depthwise mode vs golden"));
        assert_eq!(run.violations, 0, "{what}: {:?}", run.stats);
    }
    assert!(seen_global);
}

/// The invariant counter `dw_fifo_faults` (the depthwise mode's FIFO read empty or written
/// full) rises when the engine is built with line FIFOs of 2 entries (`DwLinesShallow`) and a
/// layer's output rows are longer; the same layer on the sound engine counts none.
#[test]
fn dw_fifo_faults_rise_when_the_line_fifos_are_too_shallow() {
    let mut rng = Rng::from_env("dw-fault", 36);
    let mut e = engine(2, 6, 2);
    let mut l = layer(&mut rng, 2, 4, 7, 2, 1, 1, [1, 1], [1, 1]);
    l.layer.weight = TensorField { shape: vec![2, 1, 3, 3], data: Some((0..18).map(|_| rng.range(-128, 127) as i8).collect()) };
    let sound = accelgen_sim::conv::run_dw(&e, &l.input, &l.layer, &RunOptions::default()).unwrap();
    assert_eq!(sound.stats["dw_fifo_faults"], 0);
    e.fault = accelgen_hw::pe::ConvFault::DwLinesShallow;
    let broken = accelgen_sim::conv::run_dw(&e, &l.input, &l.layer, &RunOptions::default()).unwrap();
    assert!(broken.stats["dw_fifo_faults"].as_u64().unwrap() > 0, "{:?}", broken.stats);
    assert!(broken.violations > 0);
    assert_ne!(broken.output.to_i64(), sound.output.to_i64());
}
