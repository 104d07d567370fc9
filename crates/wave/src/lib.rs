//! Waveforms a hardware engineer can read.
//!
//! - [`normalize`]: every engine writes its own VCD (rust-hdl: root scope `uut`, `$` in names;
//!   Verilator: root `dut` around the top module, `[7:0]` on vectors; Icarus: root `tb` around
//!   `uut`, nanosecond times). One pass rewrites any of them into the same form: the root scope is
//!   the top module's name, names carry `__` for `$`, vectors have no range suffix, and time is
//!   counted in half clock periods (`2p+1` after the rising edge of period p, `2p+2` after its
//!   falling edge, from the rising edges of the top's `clock`), so one viewer layout and one
//!   comparison work for all engines. It can keep only a window of clock periods and the signals
//!   whose names match patterns.
//! - [`load`]: a VCD as per-period values ([`Waves`]), for rendering and tests.
//! - [`render_text`], [`render_svg`], [`svg_to_png`]: pictures of a window of signals.
//! - [`gtkw`]: a GTKWave save file with signals grouped per block.

mod render;

pub use render::{render_svg, render_text, svg_to_png};

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use vcd::{Command, IdCode, ScopeItem, Value};

/// What [`normalize`] keeps.
#[derive(Clone, Debug, Default)]
pub struct Normalize {
    /// Scope path in the raw VCD of the top module (`["uut"]`, `["dut", "conv_engine"]`,
    /// `["tb", "uut"]`).
    pub root: Vec<String>,
    /// The top module's name: the root scope's name in the output.
    pub top: String,
    /// Keep clock periods `from..to` only.
    pub window: Option<(u64, u64)>,
    /// Keep signals whose full name (`top.pes__0.x_out`) matches one of these (`*` matches any
    /// run of characters); all when empty. The top's `clock` is always kept.
    pub scopes: Vec<String>,
    /// Scopes below the root (cleaned names: `["mover", "m"]`) whose variables belong to their
    /// parent, named `<scope>_<variable>`: rust-hdl writes an interface's signals into a scope of
    /// their own, the Verilog has them as ports `m_req_valid`.
    pub flatten: Vec<Vec<String>>,
}

/// What [`normalize`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Signals kept.
    pub signals: usize,
    /// Clock periods seen in the raw waveform.
    pub periods: u64,
}

/// `*`-wildcard match of a whole string.
pub fn matches(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

fn clean(name: &str) -> String {
    name.replace('$', "__")
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// A variable kept: its name below the root, width and code in the input.
struct Kept {
    path: Vec<String>,
    size: u32,
    code: IdCode,
}

/// The variables below `items` with their paths; a scope listed in `flat` adds its name and `_`
/// before its variables' names (`joined`) instead of a level.
fn collect(items: &[ScopeItem], prefix: &mut Vec<String>, out: &mut Vec<Kept>, flat: &[Vec<String>], joined: &str) {
    for item in items {
        match item {
            ScopeItem::Var(v) => {
                let mut path = prefix.clone();
                path.push(format!("{joined}{}", clean(&v.reference)));
                out.push(Kept { path, size: v.size, code: v.code });
            }
            ScopeItem::Scope(s) => {
                let name = format!("{joined}{}", clean(&s.identifier));
                prefix.push(name);
                if flat.contains(prefix) {
                    let name = prefix.pop().expect("pushed");
                    collect(&s.children, prefix, out, flat, &format!("{name}_"));
                } else {
                    collect(&s.children, prefix, out, flat, "");
                    prefix.pop();
                }
            }
        }
    }
}

fn parse_error(path: &Path, e: std::io::Error) -> String {
    format!("{}: not a valid VCD file: {e}", path.display())
}

/// The variables under `n.root` that `n.scopes` keep (the clock always), and the clock's code.
fn kept(header: &vcd::Header, n: &Normalize) -> Result<(Vec<Kept>, Option<IdCode>), String> {
    let root = header.find_scope(&n.root).ok_or_else(|| format!("no scope {} in the waveform", n.root.join(".")))?;
    let mut vars = vec![];
    collect(&root.children, &mut vec![], &mut vars, &n.flatten, "");
    let clock = vars.iter().find(|v| v.path == ["clock"]).map(|v| v.code);
    let keep = |v: &Kept| {
        let full = format!("{}.{}", n.top, v.path.join("."));
        v.path == ["clock"] || n.scopes.is_empty() || n.scopes.iter().any(|pat| matches(pat, &full))
    };
    Ok((vars.into_iter().filter(keep).collect(), clock))
}

/// Declares `vars` under scope `top` in the order they come, opening and closing scopes as the
/// paths change; returns the new codes of each raw code (a raw signal kept under several names
/// has several).
fn declare<W: Write>(w: &mut vcd::Writer<W>, top: &str, vars: &[Kept]) -> std::io::Result<HashMap<IdCode, Vec<IdCode>>> {
    let mut new_codes: HashMap<IdCode, Vec<IdCode>> = HashMap::new();
    let mut open: Vec<String> = vec![];
    w.add_module(top)?;
    for v in vars {
        let scope = &v.path[..v.path.len() - 1];
        let common = open.iter().zip(scope).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            w.upscope()?;
            open.pop();
        }
        for s in &scope[common..] {
            w.add_module(s)?;
            open.push(s.clone());
        }
        let id = w.add_wire(v.size, v.path.last().expect("a name"))?;
        new_codes.entry(v.code).or_default().push(id);
    }
    for _ in 0..=open.len() {
        w.upscope()?;
    }
    Ok(new_codes)
}

/// Rewrites the raw VCD `raw` into `out` (see the crate documentation).
pub fn normalize(raw: &Path, out: &Path, n: &Normalize) -> Result<Written, String> {
    let f = std::fs::File::open(raw).map_err(io_err(raw))?;
    let mut p = vcd::Parser::new(BufReader::new(f));
    let header = p.parse_header().map_err(|e| parse_error(raw, e))?;
    let (vars, clock) = kept(&header, n).map_err(|e| format!("{}: {e}", raw.display()))?;

    let file = std::fs::File::create(out).map_err(io_err(out))?;
    let mut buf = BufWriter::new(file);
    let mut w = vcd::Writer::new(&mut buf);
    let werr = io_err(out);
    w.timescale(1, vcd::TimescaleUnit::PS).map_err(&werr)?;
    w.comment(" one time unit = half a clock period: 2p+1 after the rising edge of period p, 2p+2 after its falling edge ").map_err(&werr)?;
    let new_codes = declare(&mut w, &n.top, &vars).map_err(&werr)?;
    w.enddefinitions().map_err(&werr)?;

    let (from, to) = n.window.unwrap_or((0, u64::MAX));
    let mut cur: HashMap<IdCode, Value> = HashMap::new();
    let mut cur_vec: HashMap<IdCode, Vec<Value>> = HashMap::new();
    let mut rises = 0u64;
    let mut clock_high = false;
    let mut pending: Vec<Command> = vec![];
    let mut started = false;
    let mut last_t = None;
    let mut emit = |w: &mut vcd::Writer<&mut BufWriter<std::fs::File>>,
                    cmds: &mut Vec<Command>,
                    rises: u64,
                    high: bool,
                    fell: bool,
                    first: bool,
                    cur: &HashMap<IdCode, Value>,
                    cur_vec: &HashMap<IdCode, Vec<Value>>|
     -> Result<bool, String> {
        // The group's time in half periods: 2r-1 at (and after) rising edge r, 2r at the falling
        // edge after it; changes while the clock stays low (inputs applied before an edge, as
        // Icarus's testbench does) belong to the coming rising edge, 2r+1.
        let t = if first {
            0
        } else if high {
            2 * rises - 1
        } else if fell {
            2 * rises
        } else {
            2 * rises + 1
        };
        if t > to.saturating_mul(2) {
            cmds.clear();
            return Ok(false);
        }
        if t < from * 2 {
            cmds.clear();
            return Ok(true);
        }
        if !started {
            // First group in the window: every kept signal's value as of the window's start.
            started = true;
            w.timestamp(from * 2).map_err(&werr)?;
            w.begin(vcd::SimulationCommand::Dumpvars).map_err(&werr)?;
            for (code, ids) in &new_codes {
                for &id in ids {
                    if let Some(v) = cur_vec.get(code) {
                        w.change_vector(id, v).map_err(&werr)?;
                    } else if let Some(&v) = cur.get(code) {
                        w.change_scalar(id, v).map_err(&werr)?;
                    }
                }
            }
            w.end().map_err(&werr)?;
            last_t = Some(from * 2);
            if t == from * 2 {
                cmds.clear();
                return Ok(true);
            }
        }
        if last_t != Some(t) {
            w.timestamp(t).map_err(&werr)?;
            last_t = Some(t);
        }
        for c in cmds.drain(..) {
            match c {
                Command::ChangeScalar(code, v) => {
                    for &id in new_codes.get(&code).into_iter().flatten() {
                        w.change_scalar(id, v).map_err(&werr)?;
                    }
                }
                Command::ChangeVector(code, v) => {
                    for &id in new_codes.get(&code).into_iter().flatten() {
                        w.change_vector(id, &v).map_err(&werr)?;
                    }
                }
                _ => {}
            }
        }
        Ok(true)
    };
    let mut periods = 0u64;
    let (mut in_group, mut groups, mut fell) = (false, 0u64, false);
    for cmd in p {
        let cmd = cmd.map_err(|e| parse_error(raw, e))?;
        match cmd {
            Command::Timestamp(_) => {
                if in_group && !emit(&mut w, &mut pending, rises, clock_high, fell, groups == 0, &cur, &cur_vec)? {
                    break;
                }
                if in_group {
                    groups += 1;
                }
                in_group = true;
                fell = false;
            }
            Command::ChangeScalar(code, v) => {
                if Some(code) == clock {
                    let high = v == Value::V1;
                    if high && !clock_high {
                        rises += 1;
                        periods = rises;
                    }
                    if !high && clock_high {
                        fell = true;
                    }
                    clock_high = high;
                }
                if new_codes.contains_key(&code) {
                    cur.insert(code, v);
                    pending.push(Command::ChangeScalar(code, v));
                }
            }
            Command::ChangeVector(code, v) => {
                if new_codes.contains_key(&code) {
                    cur_vec.insert(code, v.clone());
                    pending.push(Command::ChangeVector(code, v));
                }
            }
            _ => {}
        }
    }
    if in_group {
        emit(&mut w, &mut pending, rises, clock_high, fell, groups == 0, &cur, &cur_vec)?;
    }
    drop(emit);
    drop(w);
    buf.flush().map_err(io_err(out))?;
    Ok(Written { signals: vars.len(), periods })
}

/// One signal of a loaded waveform: its full name, width and value at the end of every clock
/// period (x and z read as 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// `top.scope.name`.
    pub name: String,
    /// Bits.
    pub width: u32,
    /// Value at the end of period p is `values[p]`.
    pub values: Vec<u64>,
}

/// A waveform as values per clock period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Waves {
    /// Clock periods.
    pub periods: usize,
    /// Signals in file order.
    pub signals: Vec<Signal>,
}

fn to_u64(v: &[Value]) -> u64 {
    v.iter().fold(0u64, |acc, b| (acc << 1) | u64::from(*b == Value::V1))
}

/// Largest waveform [`load`] reads: 256 MiB.
pub const MAX_VCD_BYTES: u64 = 256 << 20;
/// Most (signals × periods) values [`load`] keeps: 50 million.
pub const MAX_VALUES: u64 = 50_000_000;

/// Reads a VCD written by [`normalize`] (times in half periods) or any VCD whose top scope has a
/// `clock`: periods are counted from its rising edges, and a signal's value at the end of period
/// p is its last value before rising edge p+1. Only a regular file of at most
/// [`MAX_VCD_BYTES`]; errors name the file.
pub fn load(path: &Path) -> Result<Waves, String> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file; a waveform must be a regular file", path.display()));
    }
    if meta.len() > MAX_VCD_BYTES {
        return Err(format!("{}: {} bytes is larger than the {MAX_VCD_BYTES} bytes allowed for a waveform", path.display(), meta.len()));
    }
    let f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut p = vcd::Parser::new(BufReader::new(f));
    let header = p.parse_header().map_err(|e| parse_error(path, e))?;
    let mut vars = vec![];
    collect(&header.items, &mut vec![], &mut vars, &[], "");
    if vars.is_empty() {
        return Err(format!("{}: not a valid VCD file: no signals", path.display()));
    }
    let clock = vars.iter().find(|v| v.path.len() == 2 && v.path[1] == "clock").map(|v| v.code);
    let mut index: HashMap<IdCode, Vec<usize>> = HashMap::new();
    for (i, v) in vars.iter().enumerate() {
        index.entry(v.code).or_default().push(i);
    }
    let mut cur = vec![0u64; vars.len()];
    let mut values: Vec<Vec<u64>> = vec![vec![]; vars.len()];
    let mut clock_high = false;
    let mut rises = 0u64;
    let mut group_changed_clock = false;
    let mut stamps = 0u64;
    for cmd in p {
        let cmd = cmd.map_err(|e| parse_error(path, e))?;
        let (code, v) = match cmd {
            Command::Timestamp(_) => {
                stamps += 1;
                if clock.is_none() && stamps > 1 {
                    // No clock: every timestamp ends a period.
                    for (i, c) in cur.iter().enumerate() {
                        values[i].push(*c);
                    }
                }
                group_changed_clock = false;
                continue;
            }
            Command::ChangeScalar(code, v) => (code, u64::from(v == Value::V1)),
            Command::ChangeVector(code, v) => (code, to_u64(&v)),
            _ => continue,
        };
        if Some(code) == clock {
            let high = v == 1;
            if high && !clock_high && !group_changed_clock {
                // A rising edge ends the previous period: record every value before applying
                // this group's other changes (which belong to the new period).
                if rises > 0 {
                    for (i, c) in cur.iter().enumerate() {
                        values[i].push(*c);
                    }
                }
                rises += 1;
                group_changed_clock = true;
            }
            clock_high = high;
        }
        for &i in index.get(&code).into_iter().flatten() {
            cur[i] = v;
        }
        if (rises.max(stamps)) * vars.len() as u64 > MAX_VALUES {
            return Err(format!("{}: more than {MAX_VALUES} signal values; use --vcd-window or --vcd-scope", path.display()));
        }
    }
    // The last period ends with the file.
    if clock.is_some() && rises > 0 || clock.is_none() {
        for (i, c) in cur.iter().enumerate() {
            values[i].push(*c);
        }
    }
    let periods = values.first().map_or(0, Vec::len);
    let signals = vars
        .into_iter()
        .zip(values)
        .map(|(v, values)| Signal { name: v.path.join("."), width: v.size, values })
        .collect();
    Ok(Waves { periods, signals })
}

/// A GTKWave save file for the waveform `vcd`: one comment line per group, then its signals
/// (full names as in the file), 1-bit signals as they are and vectors as signed decimal.
pub fn gtkw(vcd: &Path, groups: &[(String, Vec<(String, u32)>)]) -> String {
    let mut s = String::from("[*] accelgen waveform layout: open with `gtkwave FILE.gtkw`\n");
    s += &format!("[dumpfile] \"{}\"\n[timestart] 0\n[sst_expanded] 1\n", vcd.display());
    for (group, signals) in groups {
        s += &format!("@200\n-{group}\n");
        for (name, width) in signals {
            if *width > 1 {
                // 0x424: right-justified signed decimal.
                s += &format!("@424\n{name}[{}:0]\n", width - 1);
            } else {
                s += &format!("@28\n{name}\n");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names() {
        assert!(matches("top.pes__0.*", "top.pes__0.x_out"));
        assert!(matches("*x_out", "top.pes__3.x_out"));
        assert!(matches("top.*.q", "top.run.q"));
        assert!(!matches("top.pes__0.*", "top.pes__10.x_out"));
        assert!(matches("top.clock", "top.clock"));
        assert!(!matches("top.clock", "top.clock2"));
    }

    /// rust-hdl's interface scopes (`uut.m`, `uut.mover.m`) become `m_…` names in their parent;
    /// other scopes stay levels.
    #[test]
    fn interface_scopes_join_their_variables_names() {
        let d = std::env::temp_dir().join(format!("accelgen-wave-flat-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let (raw, out) = (d.join("raw.vcd"), d.join("out.vcd"));
        let vcd = "$timescale 1ps $end\n$scope module uut $end\n$var wire 1 ! clock $end\n$scope module m $end\n$var wire 1 \" req_valid $end\n$upscope $end\n$scope module mover $end\n$var wire 1 # busy $end\n$scope module m $end\n$var wire 8 $ rsp_data $end\n$upscope $end\n$upscope $end\n$upscope $end\n$enddefinitions $end\n#0\n0!\n0\"\n0#\nb0 $\n#1\n1!\n#2\n0!\n";
        std::fs::write(&raw, vcd).unwrap();
        let flatten = vec![vec!["m".to_string()], vec!["mover".to_string(), "m".to_string()]];
        let n = Normalize { root: vec!["uut".into()], top: "t".into(), window: None, scopes: vec![], flatten };
        normalize(&raw, &out, &n).unwrap();
        let names: Vec<String> = signal_names(&out).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["t.clock", "t.m_req_valid", "t.mover.busy", "t.mover.m_rsp_data"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// The signals of a VCD (full names and widths), from its header only.
pub fn signal_names(path: &Path) -> Result<Vec<(String, u32)>, String> {
    let f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut p = vcd::Parser::new(BufReader::new(f));
    let header = p.parse_header().map_err(|e| parse_error(path, e))?;
    let mut vars = vec![];
    collect(&header.items, &mut vec![], &mut vars, &[], "");
    Ok(vars.into_iter().map(|v| (v.path.join("."), v.size)).collect())
}

/// Converts a VCD (as [`normalize`] writes it) into FST: the same scopes, names, widths and
/// value changes, in GTKWave's compact format.
pub fn vcd_to_fst(vcd_path: &Path, fst_path: &Path) -> Result<(), String> {
    use fst_writer::{FstInfo, FstScopeType, FstSignalId, FstSignalType, FstVarDirection, FstVarType};
    let ferr = |e: fst_writer::FstWriteError| format!("{}: cannot write FST: {e:?}", fst_path.display());
    let f = std::fs::File::open(vcd_path).map_err(io_err(vcd_path))?;
    let mut p = vcd::Parser::new(BufReader::new(f));
    let header = p.parse_header().map_err(|e| parse_error(vcd_path, e))?;
    let info = FstInfo {
        start_time: 0,
        timescale_exponent: -12,
        version: "accelgen".into(),
        date: String::new(),
        file_type: fst_writer::FstFileType::Verilog,
    };
    let mut w = fst_writer::open_fst(fst_path, &info).map_err(ferr)?;
    let mut ids: HashMap<IdCode, (FstSignalId, u32)> = HashMap::new();
    fn walk<W: std::io::Write + std::io::Seek>(
        items: &[ScopeItem],
        w: &mut fst_writer::FstHeaderWriter<W>,
        ids: &mut HashMap<IdCode, (FstSignalId, u32)>,
    ) -> fst_writer::Result<()> {
        for item in items {
            match item {
                ScopeItem::Scope(s) => {
                    w.scope(&s.identifier, "", FstScopeType::Module)?;
                    walk(&s.children, w, ids)?;
                    w.up_scope()?;
                }
                ScopeItem::Var(v) => {
                    let alias = ids.get(&v.code).map(|x| x.0);
                    let id = w.var(&v.reference, FstSignalType::bit_vec(v.size), FstVarType::Wire, FstVarDirection::Implicit, alias)?;
                    ids.insert(v.code, (id, v.size));
                }
            }
        }
        Ok(())
    }
    walk(&header.items, &mut w, &mut ids).map_err(ferr)?;
    let mut body = w.finish().map_err(ferr)?;
    let bits = |v: &[Value], size: u32| -> Vec<u8> {
        let c = |b: &Value| match b {
            Value::V0 => b'0',
            Value::V1 => b'1',
            Value::X => b'x',
            Value::Z => b'z',
        };
        let mut s: Vec<u8> = v.iter().map(c).collect();
        // VCD leaves out leading bits: zeros, or x/z when the first written bit is one.
        let fill = match s.first() {
            Some(b'x') => b'x',
            Some(b'z') => b'z',
            _ => b'0',
        };
        while (s.len() as u32) < size {
            s.insert(0, fill);
        }
        s.truncate(size as usize);
        s
    };
    for cmd in p {
        let cmd = cmd.map_err(|e| parse_error(vcd_path, e))?;
        match cmd {
            Command::Timestamp(t) => body.time_change(t).map_err(ferr)?,
            Command::ChangeScalar(code, v) => {
                if let Some(&(id, size)) = ids.get(&code) {
                    body.signal_change(id, &bits(&[v], size)).map_err(ferr)?;
                }
            }
            Command::ChangeVector(code, v) => {
                if let Some(&(id, size)) = ids.get(&code) {
                    body.signal_change(id, &bits(&v, size)).map_err(ferr)?;
                }
            }
            _ => {}
        }
    }
    body.finish().map_err(ferr)?;
    Ok(())
}
