//! `accelgen plan-clock` on the committed networks: every row with a budget meets it and no slower
//! configured divider would; rows without one (pooling that cannot run beside its conv layer on
//! accel_top) run at full rate.

use std::process::Command;

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
    let mut overlapping = 0;
    for (net, preset) in [("lenet5", "default"), ("alexnet", "default"), ("lenet5", "tiny"), ("vgg16", "default")] {
        let dividers: Vec<u64> = accelgen_config::Preset::from_name(preset).unwrap().config().pool_clock.dividers.iter().map(|&d| u64::from(d)).collect();
        let rows = plan_on(net, preset);
        assert!(rows.len() >= 2, "{net}");
        for r in rows {
            let t = r["conv_cycles"].as_u64().expect("every pool follows a conv");
            let b = r["budget"].as_u64().unwrap();
            assert!(b < t, "{net}: {r}");
            let full = r["pool_cycles_full"].as_u64().unwrap();
            let d = r["divider"].as_u64().unwrap();
            assert_eq!(r["pool_cycles"].as_u64().unwrap(), full * d);
            assert_eq!(r["overlaps"].as_bool().unwrap(), b > 0, "{net}: {r}");
            if b == 0 {
                // Nothing to run beside: full rate, reported as not meeting a budget.
                assert_eq!(d, 1, "{net}: {r}");
                assert!(!r["meets"].as_bool().unwrap());
            } else {
                overlapping += 1;
                assert!(r["meets"].as_bool().unwrap(), "{net}: {r}");
                assert!(full * d <= b, "{net}: {r}");
                if let Some(&slower) = dividers.iter().find(|&&x| x > d) {
                    assert!(full * slower > b, "{net}: a slower divider would fit: {r}");
                }
            }
            assert_eq!(r["enabled_cycles_saved"].as_u64().unwrap(), t - t.div_ceil(d));
        }
    }
    assert!(overlapping >= 2, "some pooling layers run beside their conv layers");
}

#[test]
fn a_pooling_layer_fused_with_a_banded_conv_layer_loses_the_first_band_of_its_budget() {
    // LeNet-5 on tiny: conv1's 28 output rows run in 7 bands (one output group), so pooling 1
    // runs fused and can start only after the first band: T·6/7; its last band pools after the
    // convolution, which may take at most T/16 at a slower rate than full (E/7): budget
    // min(T·6/7, max(E, T·7/16)) (planner::fused_budget). Conv 3's output
    // fits one band: pooling 3 can start only when conv 3 is done, so it has no budget and runs
    // at full rate (the slow rate the patent's rule would pick for budget T only adds to the time).
    let rows = plan_on("lenet5", "tiny");
    let (t1, b1) = (rows[0]["conv_cycles"].as_u64().unwrap(), rows[0]["budget"].as_u64().unwrap());
    let e1 = rows[0]["pool_cycles_full"].as_u64().unwrap();
    assert_eq!(b1, (t1 * 6 / 7).min(e1.max(t1 * 7 / 16)), "{}", rows[0]);
    assert_eq!(rows[1]["budget"], 0, "{}", rows[1]);
    assert_eq!(rows[1]["divider"], 1, "{}", rows[1]);
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
