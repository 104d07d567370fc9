//! Network documents for tests, benchmarks and fuzzing: seeded data for shape-only tensors,
//! seeded random layer chains, and the small configurations the network tests share.

use accelgen_formats::Network;
use accelgen_golden::testutil::Rng;
use serde_json::{json, Value};
use std::path::Path;

/// Fills every tensor of a network document that has a shape but no data: int8 for inputs and
/// weights, int32 in ±4000 for biases.
pub fn fill(v: &mut Value, rng: &mut Rng, key: &str) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::Array(shape)), false) = (m.get("shape"), m.contains_key("data")) {
                let n: u64 = shape.iter().map(|d| d.as_u64().unwrap()).product();
                let data: Vec<i64> =
                    (0..n).map(|_| if key == "bias" { rng.range(-4000, 4000) } else { rng.range(-128, 127) }).collect();
                m.insert("data".into(), json!(data));
                return;
            }
            for (k, x) in m.iter_mut() {
                fill(x, rng, k);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| fill(x, rng, key)),
        _ => {}
    }
}

/// A shipped network file with seeded data.
pub fn with_data(name: &str, seed: u64) -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../testbenches/networks/{name}.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fill(&mut doc, &mut Rng::from_env(name, seed), "");
    Network::from_value(&doc, Path::new(".")).unwrap()
}

/// A network document built from a layer list, with seeded data.
pub fn net_of(input: [usize; 3], layers: Vec<Value>, seed: u64) -> Network {
    let mut doc = json!({"input": {"shape": input}, "layers": layers});
    fill(&mut doc, &mut Rng::new(seed), "");
    Network::from_value(&doc, Path::new(".")).unwrap()
}

/// A conv layer document with requantization (or int32 output when `raw`).
pub fn conv(cin: usize, cout: usize, k: usize, s: usize, p: usize, raw: bool) -> Value {
    let mut l = json!({"op": "conv2d", "weight": {"shape": [cout, cin, k, k]}, "bias": {"shape": [cout]},
                       "stride": [s, s], "padding": [p, p]});
    if !raw {
        l["requant"] = json!({"multiplier": 700, "shift": 15, "zero_point": -3, "relu": true});
    }
    l
}

/// A random chain of conv and pool layers of at most `max_c` channels on maps of up to `max_hw`.
pub fn random_network(rng: &mut Rng, max_c: i64, max_hw: i64) -> Value {
    let (mut c, mut h, mut w) = (rng.range(1, max_c) as usize, rng.range(6, max_hw) as usize, rng.range(6, max_hw) as usize);
    let input = json!({"shape": [c, h, w]});
    let mut layers = vec![];
    let n = rng.range(2, 4);
    for i in 0..n {
        let last = i + 1 == n;
        if rng.below(3) == 0 && h >= 4 && w >= 4 {
            let (k, s, p) = match rng.below(3) {
                0 => (2, 2, 0),
                1 => (3, 2, 0),
                _ => (3, 1, 1),
            };
            let mode = if rng.below(2) == 0 { "maxpool2d" } else { "avgpool2d" };
            layers.push(json!({"op": mode, "kernel": [k, k], "stride": [s, s], "padding": [p, p]}));
            h = (h + 2 * p - k) / s + 1;
            w = (w + 2 * p - k) / s + 1;
        } else {
            let k = [1, 3, 3, 5][rng.below(4) as usize];
            let p = if k > 1 { rng.below(3) as usize } else { 0 };
            let s = if k > 1 && rng.below(3) == 0 { 2 } else { 1 };
            if h + 2 * p < k || w + 2 * p < k {
                continue;
            }
            let cout = rng.range(1, max_c) as usize;
            let mut l = json!({"op": "conv2d", "weight": {"shape": [cout, c, k, k]}, "bias": {"shape": [cout]},
                               "stride": [s, s], "padding": [p, p]});
            if !last || rng.below(2) == 0 {
                l["requant"] = json!({"multiplier": rng.range(200, 3000), "shift": rng.range(12, 16), "zero_point": rng.range(-5, 5), "relu": rng.below(2) == 0});
            }
            layers.push(l);
            h = (h + 2 * p - k) / s + 1;
            w = (w + 2 * p - k) / s + 1;
            c = cout;
        }
        if h < 2 || w < 2 {
            break;
        }
    }
    json!({"input": input, "layers": layers})
}

/// The tiny preset with a 40-entry feature memory and pooling output buffer: pooling layers of
/// more than a few rows need row bands.
pub fn tiny_small_pool() -> accelgen_config::HwConfig {
    accelgen_config::HwConfig::from_json(r#"{"preset": "tiny", "pooling": {"feature_memory_depth": 40}}"#).unwrap()
}
