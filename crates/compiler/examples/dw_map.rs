//! The row-sum depthwise mapping's array time (a model figure: `accelgen_compiler::dw_map`) for
//! MLPerf Tiny's depthwise layers on `default` (8 × 8 PEs, 4 kernels, 8 bytes a bus cycle),
//! against each layer's roofline (its bytes moved once at 8 a cycle, or its MACs at 64 a cycle).
//! Random data: the model's counts do not depend on it; its sums are checked against the golden
//! convolution. `cargo run --release -p accelgen-compiler --example dw_map`

use accelgen_compiler::dw_map::{DwLayer, RowSumMap};
use accelgen_golden::Tensor;

fn main() {
    // (network, channels, input side(s), stride, pads [top, left, bottom, right]): Keras "same".
    let same = |n: usize, s: usize| {
        let o = n.div_ceil(s);
        let t = ((o - 1) * s + 3).saturating_sub(n);
        (t / 2, t - t / 2)
    };
    let mut layers: Vec<(&str, usize, usize, usize, usize)> = vec![("DS-CNN", 64, 25, 5, 1); 4];
    for (c, side, s) in [(8, 48, 1), (16, 48, 2), (32, 24, 1), (32, 24, 2), (64, 12, 1), (64, 12, 2)]
        .into_iter()
        .chain(std::iter::repeat_n((128, 6, 1), 5))
        .chain([(128, 6, 2), (256, 3, 1)])
    {
        layers.push(("MobileNetV1 0.25", c, side, side, s));
    }
    let m = RowSumMap::new(8, 8, 4, 3, 3).expect("3×3 fits 8 × 8, 4 kernels");
    println!("row-sum mapping on 8×8 PEs: {} column groups, {} sub-cycles a slot", m.assign.len(), m.assign[0].len());
    println!("{:<18} {:>5} {:>7} {:>3} {:>8} {:>8} {:>9} {:>6}", "network", "C", "H×W", "s", "slots", "cycles", "roofline", "ratio");
    for (net, c, h, w, s) in layers {
        let (pt, pb) = same(h, s);
        let (pl, pr) = same(w, s);
        let l = DwLayer { c, h, w, kh: 3, kw: 3, stride: [s, s], pads: [pt, pl, pb, pr], pad_value: 3 };
        let x = Tensor::from_vec(&[c, h, w], (0..c * h * w).map(|i| (i * 37 % 251) as i8).collect()).unwrap();
        let wt = Tensor::from_vec(&[c, 1, 3, 3], (0..c * 9).map(|i| (i * 11 % 13) as i8 - 6).collect()).unwrap();
        let (_, n) = m.run(&l, &x, &wt, &vec![0; c]).expect("the layer runs");
        let (ho, wo) = l.out_hw();
        let bytes = c * h * w + c * ho * wo + c * 9 + 4 * c;
        let roof = (bytes as f64 / 8.0).max(n.useful as f64 / 64.0);
        println!("{net:<18} {c:>5} {:>7} {s:>3} {:>8} {:>8} {roof:>9.0} {:>6.2}", format!("{h}×{w}"), n.slots, n.cycles, n.cycles as f64 / roof);
    }
}
