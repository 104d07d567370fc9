//! `accelgen plan-clock` on the committed networks: every row meets its budget and no slower
//! configured divider would.

use std::process::Command;

fn plan(net: &str) -> Vec<serde_json::Value> {
    let file = format!("{}/../../testbenches/networks/{net}.json", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_accelgen"))
        .args(["plan-clock", &file, "--preset", "default", "--json"])
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
            let full = r["pool_cycles_full"].as_u64().unwrap();
            let d = r["divider"].as_u64().unwrap();
            assert!(r["meets"].as_bool().unwrap());
            assert_eq!(r["pool_cycles"].as_u64().unwrap(), full * d);
            assert!(full * d <= t, "{net}: {r}");
            if let Some(&slower) = dividers.iter().find(|&&x| x > d) {
                assert!(full * slower > t, "{net}: a slower divider would fit: {r}");
            }
            assert_eq!(r["enabled_cycles_saved"].as_u64().unwrap(), t - t.div_ceil(d));
        }
    }
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
