//! The C host driver (`examples/c_driver`, docs/soc.md) against the generated register header:
//! it compiles warning-free as C99 with `hdl_out/default/accelgen_regs.h`, and run against a
//! recording stand-in for accel_axi (`mock_device.c`) on LeNet-5's compiled files it makes the
//! register writes of docs/soc.md's host sequence, the one the Rust testbench makes: MEM_BASE,
//! every program word as PROG_LO then PROG_HI, IRQ_ENABLE, START, then the acknowledge of DONE,
//! with the memory image copied to the window byte for byte; then the batch's next inference
//! (`accelgen_run_next`): the input over its region, START and the acknowledge, no program load.

use accelgen_isa::soc::axi_register;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_c_driver_makes_the_host_sequence() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-driver");
    let _ = std::fs::remove_dir_all(&dir);
    let net = root().join("testbenches/networks/lenet5_data.json");
    let o = Command::new(env!("CARGO_BIN_EXE_accelgen")).arg("compile").arg(&net).args(["--preset", "default", "--out"]).arg(dir.join("prog")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A C compiler: `cc`, or the C front end of g++ (make setup installs g++ for Verilator).
    let drv = root().join("examples/c_driver");
    let exe = dir.join("mock_device");
    let cc = if Command::new("cc").arg("--version").output().is_ok() { vec!["cc"] } else { vec!["g++", "-x", "c"] };
    let o = Command::new(cc[0])
        .args(&cc[1..])
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-I"])
        .arg(root().join("hdl_out/default"))
        .arg("-I")
        .arg(&drv)
        .arg(drv.join("accelgen_driver.c"))
        .arg(drv.join("mock_device.c"))
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("a C compiler (make setup installs g++)");
    assert!(o.status.success(), "the C driver does not compile:\n{}", String::from_utf8_lossy(&o.stderr));
    let image = std::fs::read(dir.join("prog/memory_init.bin")).unwrap();
    let program = std::fs::read(dir.join("prog/program.cbin")).unwrap();
    // The input region (memory.json), for the batch's next inference.
    let map: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("prog/memory.json")).unwrap()).unwrap();
    let input = map["regions"].as_array().unwrap().iter().find(|r| r["name"] == map["input"]).unwrap();
    let (off, len) = (input["offset"].as_u64().unwrap() as usize, input["bytes"].as_u64().unwrap() as usize);
    let o = Command::new(&exe).arg(dir.join("prog/memory_init.bin")).arg(dir.join("prog/program.cbin")).args([off.to_string(), len.to_string()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8(o.stdout).unwrap();
    let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
    let writes: Vec<(u64, u64)> = log.lines().filter_map(|l| l.strip_prefix("W ")).map(|l| {
        let (a, v) = l.split_once(' ').unwrap();
        (hex(a), hex(v))
    }).collect();
    let r = |name: &str| u64::from(axi_register(name));
    let mut want = vec![(r("MEM_BASE"), 0x4000_0000)];
    for w in program.chunks(8) {
        let word = u64::from_le_bytes(w.try_into().unwrap());
        want.push((r("PROG_LO"), word & 0xFFFF_FFFF));
        want.push((r("PROG_HI"), word >> 32));
    }
    want.extend([(r("IRQ_ENABLE"), 7), (r("CTRL"), 1), (r("IRQ_STATUS"), 1)]);
    // The next inference: no program load, the same start and acknowledge.
    want.extend([(r("IRQ_ENABLE"), 7), (r("CTRL"), 1), (r("IRQ_STATUS"), 1)]);
    assert_eq!(writes, want, "register writes");
    let checksum = |m: &[u8]| m.iter().fold(0u32, |s, &b| s.wrapping_mul(31).wrapping_add(u32::from(b)));
    let sum = checksum(&image);
    assert!(log.contains(&format!("M {} {sum:x}\nR 0\n", image.len())), "the image in the window: {log}");
    let mut next = image.clone();
    for i in 0..len {
        next[off + i] = (7 * i + 1) as u8;
    }
    assert!(log.ends_with(&format!("M {} {:x}\nR 0\n", image.len(), checksum(&next))), "the next input over the input region: {log}");
}
