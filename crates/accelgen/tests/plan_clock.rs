//! `accelgen plan-clock` on the committed networks: every row meets its budget and no slower
//! configured divider would.

use std::process::Command;

fn plan(net: &str) -> Vec<serde_json::Value> {
    plan_on(net, "default")
}

fn plan_on(net: &str, preset: &str) -> Vec<serde_json::Value> {
    let file = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_accelgen"))
        .args(["plan-clock", &file, "--preset", preset, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn plan_clock_picks_the_slowest_divider_meeting_each_conv_budget() {
    let dividers = [1u64, 2, 4, 8, 16, 32, 64];
    for net in ["lenet5", "alexnet"] {
        let rows = plan(net);
        assert!(rows.len() >= 2, "{net}");
        for r in rows {
            let t = r["conv_cycles"].as_u64().expect("every pool follows a conv");
            let b = r["budget"].as_u64().unwrap();
            assert!(b <= t, "{net}: {r}");
            let full = r["pool_cycles_full"].as_u64().unwrap();
            let d = r["divider"].as_u64().unwrap();
            assert!(r["meets"].as_bool().unwrap());
            assert_eq!(r["pool_cycles"].as_u64().unwrap(), full * d);
            assert!(full * d <= b, "{net}: {r}");
            if let Some(&slower) = dividers.iter().find(|&&x| x > d) {
                assert!(full * slower > b, "{net}: a slower divider would fit: {r}");
            }
            assert_eq!(r["enabled_cycles_saved"].as_u64().unwrap(), t - t.div_ceil(d));
        }
    }
}

#[test]
fn a_pooling_layer_fused_with_a_banded_conv_layer_loses_the_first_band_of_its_budget() {
    // LeNet-5 on tiny: conv1's 28 output rows run in 7 bands (one output group), so pooling 1
    // runs fused and can start only after the first band: budget T·6/7. Conv 3's output fits one
    // band: budget T.
    let rows = plan_on("lenet5", "tiny");
    let (t1, b1) = (rows[0]["conv_cycles"].as_u64().unwrap(), rows[0]["budget"].as_u64().unwrap());
    assert_eq!(b1, t1 * 6 / 7, "{}", rows[0]);
    assert_eq!(rows[1]["budget"], rows[1]["conv_cycles"], "{}", rows[1]);
}

#[test]
fn plan_clock_rejects_a_case_file_with_a_named_field() {
    let file = format!(
        "{}/../../testbenches/vectors/maxpool_2x2_s2.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_accelgen")).args(["plan-clock", &file]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a known field here (known: input, layers, expected)"), "{err}");
}
