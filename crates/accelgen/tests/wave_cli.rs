//! `accelgen run --vcd` and `accelgen wave`: the waveform and its layout are written, the terminal
//! and picture renderings work, and a missing, truncated or malformed VCD is a clear error, exit 2.

mod common;
use common::accelgen;

use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wave_cli").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn run_writes_a_waveform_and_layout_that_wave_renders() {
    let d = scratch("ok");
    let vcd = d.join("p.vcd");
    let (code, out, err) = accelgen(&["run", "testbenches/vectors/maxpool_2x2_s2.json", "--preset", "tiny", "--vcd", vcd.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(d.join("p.gtkw").exists());
    let (code, out, _) = accelgen(&["wave", vcd.to_str().unwrap(), "--signals", "pool_unit.clock", "out_valid", "--from", "100", "--to", "120"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("period") && lines[1].starts_with("clock") && lines[2].starts_with("out_valid"), "{out}");
    for (flag, file, magic) in [("--svg", "p.svg", &b"<svg"[..]), ("--png", "p.png", &b"\x89PNG"[..])] {
        let pic = d.join(file);
        let (code, _, err) = accelgen(&["wave", vcd.to_str().unwrap(), "--signals", "*out_*", flag, pic.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(std::fs::read(&pic).unwrap().starts_with(magic));
        // Not overwritten without --force.
        let (code, _, err) = accelgen(&["wave", vcd.to_str().unwrap(), flag, pic.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(err.contains("already exists"), "{err}");
    }
    // The layout is not overwritten either.
    let (code, _, err) = accelgen(&["run", "testbenches/vectors/maxpool_2x2_s2.json", "--preset", "tiny", "--vcd", d.join("q.vcd").to_str().unwrap(), "--vcd-window", "5:2"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value '5:2' for '--vcd-window <FROM:TO>': expected FROM:TO"), "{err}");
}

#[test]
fn missing_truncated_and_malformed_waveforms_are_errors() {
    let d = scratch("bad");
    let missing = d.join("none.vcd");
    let (code, _, err) = accelgen(&["wave", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("none.vcd") && err.contains("No such file"), "{err}");
    let garbage = d.join("garbage.vcd");
    std::fs::write(&garbage, "hello world, not a waveform").unwrap();
    let (code, _, err) = accelgen(&["wave", garbage.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("garbage.vcd: not a valid VCD file"), "{err}");
    let truncated = d.join("truncated.vcd");
    std::fs::write(&truncated, "$timescale 1 ps $end\n$scope module top $end\n$var wire 1 ! clock $end\n$var wire 8 \" x").unwrap();
    let (code, _, err) = accelgen(&["wave", truncated.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("truncated.vcd: not a valid VCD file"), "{err}");
    let (code, _, err) = accelgen(&["wave", "/dev/zero"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a regular file"), "{err}");
}
