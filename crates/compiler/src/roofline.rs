//! The roofline of a layer: the fewest clock periods any schedule could take on the configured
//! hardware, from the arithmetic and from the memory traffic (docs/accelerator.md). These are
//! model figures (bounds), not counts: the run's statistics put them beside the cycles the
//! hardware took.
//!
//! - `compute_bound_cycles` = ⌈MACs / (R·C)⌉: the PE array performs at most R·C multiply-accumulates
//!   per clock (one per PE per fast cycle).
//! - `memory_bound_cycles` = ⌈minimum bytes / bytes per bus cycle⌉: the layer reads its input,
//!   weights and biases and writes its output at least once. Memory is packed (one byte per int8
//!   element, four per int32 bias or int32 output sum), so the minimum bytes are input + output
//!   (×4 for sums) + weights + 4 × biases, and the bus moves `memory.word_bits` / 8 bytes per
//!   cycle.
//! - `roofline_ratio` = cycles / max(compute, memory); a network's is its cycles over the sum of
//!   its layers' bounds.

use accelgen_config::HwConfig;
use accelgen_formats::{Layer, Network};

/// The two bounds of one layer, in clock periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerBound {
    /// ⌈MACs / (R·C)⌉.
    pub compute: u64,
    /// ⌈minimum bytes / bytes per bus cycle⌉.
    pub memory: u64,
    /// The layer's multiply-accumulates.
    pub macs: u64,
    /// The layer's minimum bytes in packed memory.
    pub bytes: u64,
}

impl LayerBound {
    /// The roofline: the larger bound.
    pub fn cycles(&self) -> u64 {
        self.compute.max(self.memory)
    }
}

/// Every layer's bounds on `cfg`.
pub fn layer_bounds(net: &Network, cfg: &HwConfig) -> Vec<LayerBound> {
    let pes = cfg.conv_array().pes() as u64;
    let bus_bytes = u64::from(cfg.memory.word_bits / 8).max(1);
    let elems = |s: &[usize]| s.iter().map(|&d| d as u64).product::<u64>();
    net.layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            // Every operand read once (an add reads two), the output written once.
            let (input, output) = (net.sources[i].len() as u64 * elems(net.input_shape(i)), elems(&net.shapes[i + 1]));
            let (macs, params) = match layer {
                Layer::Conv(c) => {
                    let w = &c.weight.shape;
                    (output * elems(&w[1..]), elems(w) + crate::layout::BIAS_BYTES * w[0] as u64)
                }
                Layer::Pool(_) | Layer::Add(_) => (0, 0),
            };
            let bytes = input + output * crate::layout::output_bytes(net, i) + params;
            LayerBound { compute: macs.div_ceil(pes), memory: bytes.div_ceil(bus_bytes), macs, bytes }
        })
        .collect()
}

/// cycles / bound, rounded to three decimals (0 when the bound is 0).
pub fn ratio(cycles: u64, bound: u64) -> f64 {
    if bound == 0 {
        0.0
    } else {
        (cycles as f64 / bound as f64 * 1000.0).round() / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_config::Preset;
    use serde_json::json;

    /// LeNet-5's first two layers on `default` (8×8 PEs, 64-bit packed memory), by hand: conv
    /// 1→6 5×5 on 32×32 makes 6·28·28 = 4,704 outputs of 25 taps (117,600 MACs, ⌈/64⌉ = 1,838
    /// periods) and moves 1,024 + 4,704 + 150 bytes and 6 four-byte biases (5,902 bytes, ⌈/8⌉ =
    /// 738 periods); the 2×2 max pool moves 4,704 + 1,176 bytes (735 periods) and computes
    /// nothing.
    #[test]
    fn lenet_bounds_by_hand() {
        let doc = json!({"input": {"shape": [1, 32, 32]}, "layers": [
            {"op": "conv2d", "weight": {"shape": [6, 1, 5, 5]}, "bias": {"shape": [6]}, "requant": {"multiplier": 1, "shift": 0, "zero_point": 0}},
            {"op": "maxpool2d", "kernel": [2, 2]}]});
        let net = Network::from_value(&doc, std::path::Path::new(".")).unwrap();
        let b = layer_bounds(&net, &Preset::Default.config());
        assert_eq!(b[0], LayerBound { compute: 1838, memory: 738, macs: 117_600, bytes: 5_902 });
        assert_eq!(b[1], LayerBound { compute: 0, memory: 735, macs: 0, bytes: 5_880 });
        assert_eq!(b[0].cycles(), 1838);
        assert_eq!(ratio(11768, 5884), 2.0);
        assert_eq!(ratio(5, 0), 0.0);
    }
}
