//! The emitted Verilog is a product: it passes `verilator --lint-only -Wall` (with the committed,
//! reasoned waivers only) and yosys `hierarchy -check; proc; check -assert`, for every preset;
//! `hdl_out/` is fresh; and the tiny preset's Verilog is snapshotted for review.

use accelgen_config::Preset;
use accelgen_hw::emit::{emit_all, verilog_of, TOPS};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name).arg("--version").output();
    if probe.is_err() {
        panic!("{name} is not installed: run `make setup` (Debian: apt-get install verilator yosys)");
    }
    Command::new(name)
}

/// Writes a preset's emitted files into a directory of the calling test's own (`tag`): tests run
/// in parallel, and one rewriting a file another test's tool is reading gave that tool an empty
/// file (a clean-clone CI run: "pool_unit.v:1: syntax error, unexpected end of file").
fn write_preset_for(p: Preset, tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verilog").join(tag).join(p.name());
    std::fs::create_dir_all(&dir).unwrap();
    for f in emit_all(&p.config()).unwrap() {
        std::fs::write(dir.join(&f.name), &f.text).unwrap();
    }
    dir
}

fn run_in(dir: &Path, cmd: &mut Command) -> (bool, String) {
    let out = cmd.current_dir(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned()
        + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// With the filelist alone: it names the shipped waiver file.
#[test]
fn emitted_verilog_passes_verilator_lint_wall_for_every_preset() {
    for p in Preset::ALL {
        let dir = write_preset_for(p, "lint");
        for top in TOPS {
            let (ok, text) = run_in(
                &dir,
                tool("verilator").args(["--lint-only", "-Wall"]).args(["-f", &format!("{top}.f"), "--top-module", top]),
            );
            assert!(ok && !text.contains("%Warning"), "{} {top}: verilator:\n{text}", p.name());
        }
    }
}

/// `memory.word_bits = 64`: the accel_top with the 64-bit memory port lints clean and passes yosys.
#[test]
fn a_64_bit_memory_port_lints_and_synthesizes() {
    let cfg = accelgen_config::HwConfig::from_json(r#"{"preset": "tiny", "memory": {"word_bits": 64}}"#).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verilog").join("tiny64");
    std::fs::create_dir_all(&dir).unwrap();
    for f in emit_all(&cfg).unwrap() {
        std::fs::write(dir.join(&f.name), &f.text).unwrap();
    }
    let v = std::fs::read_to_string(dir.join("accel_top.v")).unwrap();
    assert!(v.contains("output reg  [63:0] m_req_wdata;") || v.contains("output reg [63:0] m_req_wdata;"), "a 64-bit write port");
    let (ok, text) = run_in(&dir, tool("verilator").args(["--lint-only", "-Wall", "-f", "accel_top.f", "--top-module", "accel_top"]));
    assert!(ok && !text.contains("%Warning"), "verilator:\n{text}");
    let (ok, text) = run_in(&dir, tool("yosys").args(["-q", "-s", "accel_top.ys"]));
    assert!(ok && !text.contains("Warning"), "yosys:\n{text}");
}

/// The shipped waivers waive signals and messages, never a whole rule, and never WIDTH.
#[test]
fn the_shipped_waivers_name_what_they_waive() {
    for p in Preset::ALL {
        let text = emit_all(&p.config()).unwrap().into_iter().find(|f| f.name == accelgen_hw::emit::LINT_WAIVERS_FILE).unwrap().text;
        let rules: Vec<&str> = text.lines().filter(|l| l.starts_with("lint_off")).collect();
        assert!(rules.len() > 10);
        for l in rules {
            assert!(l.contains(" -match \""), "{}: a whole-rule waiver: {l}", p.name());
            assert!(!l.contains("WIDTH"), "{}: {l}", p.name());
        }
    }
}

/// Verilator's waiver wildcards: `*` any run of characters, `?` one character.
fn glob(pat: &[u8], text: &[u8]) -> bool {
    match (pat.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&pat[1..], text) || (!text.is_empty() && glob(pat, &text[1..])),
        (Some(&p), Some(&t)) => (p == b'?' || p == t) && glob(&pat[1..], &text[1..]),
        _ => false,
    }
}

/// A waiver that no warning needs hides nothing today but would hide a new warning tomorrow:
/// each shipped waiver matches at least one warning of the unwaived lint of some preset's tops.
#[test]
fn every_shipped_waiver_is_needed() {
    let warning = regex::Regex::new(r"^%Warning-([A-Z0-9_]+): ([^:]+):\d+:\d+: (.*)$").unwrap();
    let waiver = regex::Regex::new(r#"^lint_off -rule (\S+) -file "([^"]*)" -match "([^"]*)"$"#).unwrap();
    let mut unused: Option<std::collections::BTreeSet<String>> = None;
    for p in Preset::ALL {
        let dir = write_preset_for(p, "waivers");
        let mut warnings = Vec::new();
        for top in TOPS {
            // A full Verilator build (not --lint-only), so the scheduling warnings (UNOPTFLAT)
            // that engines building the Verilog meet are seen too.
            let mdir = dir.join(format!("obj_unwaived_{top}"));
            let (_, text) = run_in(&dir, tool("verilator").args(["--cc", "-Wall", "-Wno-fatal", "--Mdir"]).arg(&mdir).arg(format!("{top}.v")));
            for l in text.lines() {
                if let Some(c) = warning.captures(l) {
                    warnings.push((c[1].to_string(), c[2].to_string(), c[3].to_string()));
                }
            }
        }
        assert!(!warnings.is_empty(), "{}: the unwaived lint warns (else this test checks nothing)", p.name());
        let text = std::fs::read_to_string(dir.join(accelgen_hw::emit::LINT_WAIVERS_FILE)).unwrap();
        let here: std::collections::BTreeSet<String> = text
            .lines()
            .filter(|l| l.starts_with("lint_off"))
            .filter(|l| {
                let c = waiver.captures(l).unwrap_or_else(|| panic!("waiver of an unexpected form: {l}"));
                !warnings.iter().any(|(rule, file, msg)| {
                    rule == &c[1] && glob(c[2].as_bytes(), file.as_bytes()) && glob(c[3].as_bytes(), msg.as_bytes())
                })
            })
            .map(str::to_string)
            .collect();
        // A waiver shipped with every preset must be needed by one of them.
        unused = Some(match unused {
            None => here,
            Some(u) => u.intersection(&here).cloned().collect(),
        });
    }
    let unused = unused.unwrap();
    assert!(unused.is_empty(), "waivers no warning needs:\n{}", unused.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn emitted_verilog_passes_yosys_checks_for_every_preset() {
    for p in Preset::ALL {
        let dir = write_preset_for(p, "yosys");
        for top in TOPS {
            let (ok, text) = run_in(&dir, tool("yosys").args(["-q", "-s", &format!("{top}.ys")]));
            assert!(ok, "{} {top}: yosys:\n{text}", p.name());
            assert!(!text.contains("Warning"), "{} {top}: yosys warned:\n{text}", p.name());
            // The Fmax wrapper `make synth` places elaborates around its block (every port
            // connected by name: a missed clock name fails here, not an hour into synthesis).
            let (ok, text) = run_in(
                &dir,
                tool("yosys").arg("-q").arg("-p").arg(format!("read_verilog {top}.v {top}_fmax.v; hierarchy -check -top {top}_fmax")),
            );
            assert!(ok && !text.contains("Warning"), "{} {top}_fmax: yosys:\n{text}", p.name());
        }
    }
}

/// Every Verilog file of one preset goes into one FPGA project: no module is defined twice, in
/// yosys (which stops on a redefinition) and in one Verilator lint run over all of them.
#[test]
fn all_files_of_a_preset_load_into_one_project() {
    for p in Preset::ALL {
        let dir = write_preset_for(p, "project");
        let waivers = dir.join(accelgen_hw::emit::LINT_WAIVERS_FILE);
        let files: Vec<String> = TOPS.iter().map(|t| format!("{t}.v")).collect();
        let (ok, text) = run_in(&dir, tool("yosys").arg("-q").arg("-p").arg(format!(
            "read_verilog {}; hierarchy -check; proc; check -assert",
            files.join(" ")
        )));
        assert!(ok && !text.contains("Warning"), "{}: one yosys project:\n{text}", p.name());
        // Verilator needs one top: a wrapper instancing every block top.
        let mut wrap = String::from("module all_tops(input wire clock);\n");
        for t in TOPS {
            // (`accel_axi` has AXI's clock name.)
            let clk = if t == "accel_axi" { "aclk" } else { "clock" };
            wrap += &format!("  /* verilator lint_off PINCONNECTEMPTY */\n  {t} u_{t}(.{clk}(clock));\n");
        }
        wrap += "endmodule\n";
        std::fs::write(dir.join("all_tops.sv"), wrap).unwrap();
        let (ok, text) = run_in(
            &dir,
            tool("verilator").args(["--lint-only", "-Wno-fatal", "--top-module", "all_tops"]).arg(&waivers).args(&files).arg("all_tops.sv"),
        );
        assert!(ok && !text.contains("MODDUP") && !text.contains("%Error"), "{}: one Verilator project:\n{text}", p.name());
    }
}

#[test]
fn hdl_out_is_fresh_for_every_preset() {
    for p in Preset::ALL {
        let dir = repo().join("hdl_out").join(p.name());
        let files = emit_all(&p.config()).unwrap();
        for f in &files {
            let committed = std::fs::read_to_string(dir.join(&f.name)).unwrap_or_default();
            assert!(
                committed == f.text,
                "hdl_out/{}/{} is stale: run `make verilog` and commit the result",
                p.name(),
                f.name
            );
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                files.iter().any(|f| f.name == name) || name == "reports",
                "hdl_out/{}/{name} is not generated any more: delete it",
                p.name()
            );
        }
    }
}

#[test]
fn tiny_conv_engine_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "conv_engine").unwrap();
    insta::assert_snapshot!("tiny_conv_engine", v);
}

#[test]
fn tiny_instr_decompressor_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "instr_decompressor").unwrap();
    insta::assert_snapshot!("tiny_instr_decompressor", v);
}

#[test]
fn tiny_pool_unit_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "pool_unit").unwrap();
    insta::assert_snapshot!("tiny_pool_unit", v);
}

#[test]
fn tiny_add_unit_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "add_unit").unwrap();
    insta::assert_snapshot!("tiny_add_unit", v);
}

#[test]
fn tiny_accel_top_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "accel_top").unwrap();
    insta::assert_snapshot!("tiny_accel_top", v);
}

/// `accel_axi`'s own modules (the top, the register slave, the memory master); the core it holds
/// is `accel_top`'s, snapshotted above.
#[test]
fn tiny_accel_axi_verilog_snapshot() {
    let v = verilog_of(&Preset::Tiny.config(), "accel_axi").unwrap();
    // The modules with AXI ports: the top, the register slave and the memory master.
    let own: Vec<&str> = v
        .split("\nmodule ")
        .skip(1)
        .filter(|m| m.lines().next().is_some_and(|h| h.contains("s_axil_") || h.contains("m_axi_")))
        .collect();
    assert_eq!(own.len(), 3, "the top, its AXI register slave and memory master");
    insta::assert_snapshot!("tiny_accel_axi", own.join("\nmodule "));
}

#[test]
fn identical_pes_share_one_module() {
    let v = verilog_of(&Preset::Default.config(), "conv_engine").unwrap();
    assert_eq!(v.matches("\nmodule default_conv_engine_pe(").count(), 1);
    assert_eq!(v.matches("    default_conv_engine_pe pes__").count(), 64, "8x8 PE instances");
    assert!(!v.contains('$'));
}
