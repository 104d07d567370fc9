//! Waveforms: the VCD of every engine (rust-hdl, Verilator, Icarus) read by a parser written
//! here (independent of the `vcd` crate the tool uses) holds the same top-level port values in
//! every clock period; every signal of a `.gtkw` layout exists in its VCD; windows and scope
//! filters keep what they say; the SVG is well-formed XML; and the terminal renderings of the three
//! protocols the patents describe are snapshots, so a timing change shows up in review.

use accelgen_config::Preset;
use accelgen_formats::Case;
use accelgen_sim::engines::Engine;
use accelgen_sim::{run_case, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("waves").join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vector(name: &str) -> Case {
    Case::load(Path::new(&format!("{}/../../testbenches/vectors/{name}.json", env!("CARGO_MANIFEST_DIR")))).unwrap()
}

/// A minimal VCD reader: full names → (width, value at the end of every period), where period p
/// ends at time 2p+2 (the normalised timing).
fn read_vcd(path: &Path) -> (HashMap<String, Vec<u64>>, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut scope: Vec<String> = vec![];
    let mut code_names: HashMap<String, Vec<String>> = HashMap::new();
    let mut tokens = text.split_whitespace().peekable();
    let mut cur: HashMap<String, u64> = HashMap::new();
    let mut samples: HashMap<String, Vec<u64>> = HashMap::new();
    let mut time = 0u64;
    let mut last_time = 0u64;
    let flush_until = |t: u64, cur: &HashMap<String, u64>, samples: &mut HashMap<String, Vec<u64>>, names: &HashMap<String, Vec<String>>| {
        // Every period that ended before time t gets the current values.
        for (code, ns) in names {
            for n in ns {
                let s = samples.entry(n.clone()).or_default();
                while (s.len() as u64) * 2 + 2 < t {
                    s.push(*cur.get(code).unwrap_or(&0));
                }
            }
        }
    };
    while let Some(tok) = tokens.next() {
        match tok {
            "$scope" => {
                tokens.next();
                scope.push(tokens.next().unwrap().to_string());
            }
            "$upscope" => {
                scope.pop();
            }
            "$var" => {
                tokens.next();
                tokens.next();
                let code = tokens.next().unwrap().to_string();
                let name = tokens.next().unwrap();
                code_names.entry(code).or_default().push(format!("{}.{name}", scope.join(".")));
            }
            t if t.starts_with('#') => {
                time = t[1..].parse().unwrap();
                flush_until(time, &cur, &mut samples, &code_names);
                last_time = time;
            }
            t if t.starts_with('b') => {
                let v = u64::from_str_radix(&t[1..].replace(['x', 'z'], "0"), 2).unwrap_or(0);
                let code = tokens.next().unwrap();
                cur.insert(code.to_string(), v);
            }
            t if (t.starts_with('0') || t.starts_with('1') || t.starts_with('x') || t.starts_with('z')) && t.len() > 1 => {
                cur.insert(t[1..].to_string(), u64::from(t.starts_with('1')));
            }
            _ => {}
        }
    }
    let _ = time;
    flush_until(last_time + 1, &cur, &mut samples, &code_names);
    (samples, last_time / 2)
}

fn run_with_vcd(case: &Case, engine: Engine, vcd: &Path, divider: Option<u32>) {
    let opts = RunOptions { engine, vcd: Some(vcd.to_path_buf()), divider, work_dir: Some(dir("engines")), ..Default::default() };
    let run = run_case(case, &Preset::Tiny.config(), &opts).unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
    assert_eq!(run.violations, 0);
}

fn ports(top: &str) -> Vec<String> {
    let cfg = Preset::Tiny.config();
    let p = match top {
        "conv_engine" => accelgen_hw::sim::ports_of(&accelgen_hw::pe::ConvEngine::new(&accelgen_hw::pe::ConvEngineParams::from_config(&cfg.pe_array))),
        _ => accelgen_hw::sim::ports_of(&accelgen_hw::pool::PoolUnit::new(&accelgen_hw::pool::PoolUnitParams::from_config(&cfg.pooling))),
    };
    p.into_iter().map(|p| format!("{top}.{}", p.name)).collect()
}

/// The names a `.gtkw` file lists (vectors carry a `[msb:0]` suffix there).
fn gtkw_names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(['@', '-', '[']))
        .map(|l| l.split('[').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_engine_writes_the_same_port_values_per_period_under_the_same_names() {
    for (case, top, divider) in [("maxpool_3x3_s2_overlap", "pool_unit", Some(2)), ("conv_2ch_3k_3x3_stride2_pad1", "conv_engine", None)] {
        let case = vector(case);
        let d = dir(top);
        let mut runs = vec![];
        for engine in [Engine::Rust, Engine::Verilator, Engine::Icarus] {
            let vcd = d.join(format!("{}.vcd", engine.name()));
            run_with_vcd(&case, engine, &vcd, divider);
            let (values, periods) = read_vcd(&vcd);
            let gtkw = accelgen_sim::tb::gtkw_path(&vcd);
            let listed = gtkw_names(&gtkw);
            assert!(listed.len() > 10, "{}", gtkw.display());
            for n in &listed {
                assert!(values.contains_key(n), "{} names {n}, which {} lacks", gtkw.display(), vcd.display());
            }
            runs.push((engine, values, periods));
        }
        let (_, base, periods) = &runs[0];
        assert!(*periods > 50);
        for p in ports(top) {
            let want = &base[&p];
            for (engine, values, n) in &runs[1..] {
                assert_eq!(n, periods, "{top} on {}: periods", engine.name());
                assert_eq!(&values[&p], want, "{top} on {}: {p} per period", engine.name());
            }
        }
    }
}

#[test]
fn a_window_and_scope_patterns_keep_only_what_they_name() {
    let case = vector("maxpool_2x2_s2");
    let vcd = dir("window").join("w.vcd");
    let opts = RunOptions {
        vcd: Some(vcd.clone()),
        vcd_window: Some((20, 30)),
        vcd_scopes: vec!["pool_unit.out_*".into(), "pool_unit.region.region__0.*".into()],
        ..Default::default()
    };
    run_case(&case, &Preset::Tiny.config(), &opts).unwrap();
    let text = std::fs::read_to_string(&vcd).unwrap();
    let times: Vec<u64> = text.lines().filter_map(|l| l.strip_prefix('#')).map(|t| t.parse().unwrap()).collect();
    assert_eq!(times.first(), Some(&40));
    assert!(times.iter().all(|&t| (40..=60).contains(&t)), "{times:?}");
    let (values, _) = read_vcd(&vcd);
    let mut names: Vec<&String> = values.keys().collect();
    names.sort();
    assert_eq!(
        names,
        ["pool_unit.clock", "pool_unit.out_data", "pool_unit.out_idx", "pool_unit.out_valid", "pool_unit.region.region__0.clock", "pool_unit.region.region__0.d", "pool_unit.region.region__0.q"]
    );
}

#[test]
fn the_svg_rendering_is_well_formed_xml() {
    let case = vector("avgpool_2x2_s2");
    let vcd = dir("svg").join("a.vcd");
    run_with_vcd(&case, Engine::Rust, &vcd, None);
    let w = accelgen_wave::load(&vcd).unwrap();
    let svg = accelgen_wave::render_svg(&w, &["pool_unit.clock".into(), "*out_*".into(), "*region__*.q".into()], 100, 140).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(doc.descendants().filter(|n| n.has_tag_name("text")).count() > 10);
    let png = accelgen_wave::svg_to_png(&svg).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

/// First period in which `signal` is non-zero.
fn first(w: &accelgen_wave::Waves, signal: &str) -> usize {
    let s = w.signals.iter().find(|s| s.name == signal).unwrap_or_else(|| panic!("no {signal}"));
    s.values.iter().position(|&v| v != 0).unwrap()
}

fn pats(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

/// patents.md §1: a datum enters PE (r, 0) only and shifts one PE along the row per slow cycle
/// (K = 2 fast cycles) while the K kernels take turns.
#[test]
fn waveform_snapshot_of_the_row_shift_chain_and_kernel_turns() {
    let vcd = dir("snap").join("conv.vcd");
    run_with_vcd(&vector("conv_3ch_4k_3x3_pad1_6x7"), Engine::Rust, &vcd, None);
    let w = accelgen_wave::load(&vcd).unwrap();
    // From just before the first non-padding datum reaches PE (0, 0).
    let at = first(&w, "conv_engine.row0_x");
    let view = accelgen_wave::render_text(
        &w,
        &pats(&["conv_engine.clock", "conv_engine.strobe", "conv_engine.seq.ksel", "conv_engine.row0_x", "conv_engine.pes__0.x_out", "conv_engine.pes__1.x_out", "conv_engine.skew__0.x_out", "conv_engine.pes__2.x_out", "conv_engine.pes__3.x_out", "conv_engine.pes__0.w_used", "conv_engine.pes__1.w_used"]),
        at - 2,
        at + 16,
    )
    .unwrap();
    insta::assert_snapshot!("conv_row_shift_chain", view);
}

/// patents.md §2: every n = 2 reads make an update; the region keeps the last m = 2 columns.
#[test]
fn waveform_snapshot_of_a_pooling_update() {
    let vcd = dir("snap").join("pool.vcd");
    run_with_vcd(&vector("maxpool_3x3_s2_overlap"), Engine::Rust, &vcd, None);
    let w = accelgen_wave::load(&vcd).unwrap();
    let at = first(&w, "pool_unit.region.pending");
    let view = accelgen_wave::render_text(
        &w,
        &pats(&["pool_unit.clock", "pool_unit.reader.rd_x", "pool_unit.banks__0.r_en", "pool_unit.banks__1.r_en", "pool_unit.banks__2.r_en", "pool_unit.region.arrive", "pool_unit.region.update_end", "pool_unit.region.pending", "pool_unit.region.value__0", "pool_unit.region.value__3", "pool_unit.region.value__6", "pool_unit.region.value__9", "pool_unit.out_valid", "pool_unit.out_data"]),
        at - 6,
        at + 10,
    )
    .unwrap();
    insta::assert_snapshot!("pool_update", view);
}

/// patents.md §3: compressed words arrive by register writes; the decompressor writes one
/// instruction per cycle into the module registers.
#[test]
fn waveform_snapshot_of_the_decompressor() {
    use accelgen_isa::Instr;
    let prog = vec![
        Instr::new("PE_SHAPE", &[3, 8, 8, 8, 0]).unwrap(),
        Instr::new("MEM_LOAD", &[1, 4096, 300]).unwrap(),
        Instr::new("POOL_CLOCK", &[4]).unwrap(),
        Instr::new("RUN", &[2]).unwrap(),
        Instr::new("SYNC", &[2]).unwrap(),
        Instr::new("END", &[]).unwrap(),
    ];
    let (packed, _) = accelgen_isa::compress::compress(&prog, 64);
    let vcd = dir("snap").join("dec.vcd");
    let opts = RunOptions { vcd: Some(vcd.clone()), ..Default::default() };
    accelgen_sim::program::run_program(16, &packed, &opts).unwrap();
    let w = accelgen_wave::load(&vcd).unwrap();
    let view = accelgen_wave::render_text(
        &w,
        &pats(&["instr_decompressor.clock", "instr_decompressor.reg_we", "instr_decompressor.reg_addr", "instr_decompressor.count", "instr_decompressor.st_busy", "instr_decompressor.wr_valid", "instr_decompressor.wr_module", "instr_decompressor.wr_op"]),
        0,
        w.periods,
    )
    .unwrap();
    insta::assert_snapshot!("decompressor_writes", view);
}

/// `--vcd FILE.fst` writes FST: read back with `wellen` (another reader), every top-level port
/// has the same value in every clock period as in the VCD of the same run.
#[test]
fn an_fst_waveform_holds_the_same_values_as_the_vcd() {
    let case = vector("maxpool_2x2_s2");
    let d = dir("fst");
    let (vcd, fst) = (d.join("p.vcd"), d.join("p.fst"));
    run_with_vcd(&case, Engine::Rust, &vcd, None);
    run_with_vcd(&case, Engine::Rust, &fst, None);
    assert!(std::fs::metadata(&fst).unwrap().len() * 4 < std::fs::metadata(&vcd).unwrap().len());
    assert!(std::fs::read_to_string(accelgen_sim::tb::gtkw_path(&fst)).unwrap().contains("p.fst"));
    let (want, periods) = read_vcd(&vcd);
    let mut w = wellen::simple::read(&fst).unwrap();
    let times: Vec<u64> = w.time_table().to_vec();
    for port in ports("pool_unit") {
        let name = port.strip_prefix("pool_unit.").unwrap();
        let var = w.hierarchy().lookup_var(&["pool_unit"], &name).unwrap_or_else(|| panic!("{port} in the FST"));
        let sig = w.hierarchy()[var].signal_ref();
        w.load_signals(&[sig]);
        let changes: Vec<(u64, u64)> = w
            .get_signal(sig)
            .unwrap()
            .iter_changes()
            .map(|(i, v)| (times[i as usize], u64::from_str_radix(&v.to_bit_string().unwrap().replace(['x', 'z'], "0"), 2).unwrap()))
            .collect();
        let got: Vec<u64> = (0..periods)
            .map(|p| changes.iter().take_while(|(t, _)| *t <= 2 * p + 2).last().map_or(0, |c| c.1))
            .collect();
        assert_eq!(&got, &want[&port], "{port}");
    }
}
