//! Post-processing of rust-hdl's Verilog into the product that reaches `hdl_out/`.
//!
//! rust-hdl writes one module per instance path (`top$pes$3$w$1`), names the top `top`, and uses
//! `$` in every identifier. This pass:
//! 1. deduplicates identical modules, bottom-up until nothing changes (one PE module instanced
//!    R·C times, one flip-flop module per width);
//! 2. names modules readably: the top after the block, flip-flops `dff_w<width>`, others after
//!    their field (`pes` → `<top>_pe`), numbered when different contents share a name;
//! 3. replaces `$` in identifiers by `__`;
//! 4. writes rust-hdl's zero extension `((x) & 16'hffff)` of a narrower `x` as the concatenation
//!    `({8'd0, x})`: the same value (signals are unsigned), without an operation between operands
//!    of different widths (slang's `-Wbitwise-op-mismatch`);
//! 5. sizes rust-hdl's 32-bit literals: a masked literal `((32'h5) & 8'hff)` becomes `8'h5`, and
//!    a literal that is an operand of an assignment, a comparison or an arithmetic or bitwise
//!    operator whose other operand is a signal of width W becomes a W-bit literal (when its value
//!    fits). rust-hdl gives both operands of such an operator the same type, so this is the width
//!    the Rust code computes in; it also makes Verilog wrap where rust-hdl wraps (`x + 1 == y`
//!    compares W-bit values in both).
//!
//! 6. drops the enum `localparam`s rust-hdl declares in every module of a block that has a
//!    `LogicState` register where the module does not use them, and sizes the 64-bit reset value
//!    rust-hdl gives such a register (`q = 64'h0`) to the register's width; the state register's
//!    flip-flop then is the plain `dff_w<width>` again.
//! 7. writes the offset of a `LogicStruct` field's part select, a 64-bit literal in rust-hdl
//!    (`x[(64'h10)+:(16)]`), as the 32-bit literal every other part select has, so steps 4 and 5
//!    apply to it as well.
//!
//! 8. names the ports of a `LogicInterface` field with one underscore: rust-hdl writes field `m`'s
//!    signal `req_valid` as the port `m$req_valid`, which becomes `m_req_valid` (in the module's
//!    header, its body and every instantiation's `.m$req_valid(...)` connection), the name the
//!    port had when each signal was declared on its own. A name that would collide is a
//!    programming error (the pass panics naming it). Array ports (`v$0`) keep step 3's `v__0`.
//!
//! The output is deterministic for a given design, so snapshots and freshness checks are stable.

use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug)]
struct Module {
    name: String,
    /// Everything between the header line and the `endmodule` line.
    body: String,
    /// The argument list of the header, `(a,b,c)`.
    args: String,
}

fn parse(verilog: &str) -> Vec<Module> {
    let mut out = vec![];
    let mut rest = verilog;
    while let Some(start) = rest.find("\nmodule ") {
        let after = &rest[start + "\nmodule ".len()..];
        let paren = after.find('(').expect("module header has arguments");
        let name = after[..paren].to_string();
        let header_end = after.find(");").expect("module header ends") + 2;
        let args = after[paren..header_end - 1].to_string();
        let end_marker = format!("endmodule // {name}");
        let end = after.find(&end_marker).expect("rust-hdl closes every module with its name");
        let body = after[header_end..end].to_string();
        out.push(Module { name, body, args });
        rest = &after[end + end_marker.len()..];
    }
    out
}

/// Replaces the module name of instantiation lines (`<module> <instance>(`) through `map`.
fn rename_instances(body: &str, map: &HashMap<String, String>) -> String {
    body.lines()
        .map(|line| {
            let t = line.trim_start();
            let indent = &line[..line.len() - t.len()];
            if let Some((m, rest)) = t.split_once(' ') {
                if rest.ends_with('(') && !rest.contains(' ') {
                    if let Some(new) = map.get(m) {
                        return format!("{indent}{new} {rest}");
                    }
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Step 6: unused enum constants out, the kept ones sized to the state register (rust-hdl
/// declares them as unsized integers, so a comparison with the state mixes signed 32-bit and
/// unsigned operands), the state register's reset value sized.
fn enum_cleanup(body: &str) -> String {
    use regex::Regex;
    use std::sync::OnceLock;
    static RES: OnceLock<[Regex; 2]> = OnceLock::new();
    let [param, reset] = RES.get_or_init(|| {
        [
            Regex::new(r"^(\s*)localparam ([A-Za-z_][A-Za-z0-9_$]*) = (\d+);$").expect("valid"),
            Regex::new(r"(?m)^(\s*)q = 64'h0;$").expect("valid"),
        ]
    });
    let used = |name: &str| body.lines().filter(|l| !param.is_match(l)).any(|l| l.contains(name));
    // A state's width: rust-hdl names an enum's variants `<Enum>$<Variant>` (CamelCase enum names),
    // numbers them 0..n and stores them in ceil(log2 n) bits (at least one); n is known from the
    // largest value declared (a module may declare only some of them).
    let enum_of = |name: &str| name.split(['$', '_']).next().unwrap_or(name).to_string();
    let mut variants: HashMap<String, u64> = HashMap::new();
    for c in body.lines().filter_map(|l| param.captures(l)) {
        let n = variants.entry(enum_of(&c[2])).or_default();
        *n = (*n).max(c[3].parse::<u64>().unwrap_or(0) + 1);
    }
    let sized: Vec<String> = body
        .lines()
        .map(|l| match param.captures(l) {
            Some(c) => {
                let n = variants[&enum_of(&c[2])];
                let width = (u64::BITS - (n - 1).leading_zeros()).max(1);
                format!("{}localparam [{}:0] {} = {width}'d{};", &c[1], width - 1, &c[2], &c[3])
            }
            None => l.to_string(),
        })
        .collect();
    let mut kept: Vec<&str> =
        body.lines().zip(&sized).filter(|(l, _)| param.captures(l).is_none_or(|c| used(&c[2]))).map(|(_, s)| s.as_str()).collect();
    if !kept.iter().any(|l| l.trim_start().starts_with("localparam ")) {
        // No enum left: its comment and the blank line after it go too.
        if let Some(i) = kept.iter().position(|l| l.trim() == "// Enums") {
            kept.remove(i);
            if kept.get(i).is_some_and(|l| l.trim().is_empty()) {
                kept.remove(i);
            }
        }
    }
    let mut out = kept.join("\n");
    if body.ends_with('\n') {
        out.push('\n');
    }
    match declared_widths(&out).get("q") {
        Some(&w) => reset.replace_all(&out, |c: &regex::Captures| format!("{}q = {w}'h0;", &c[1])).into_owned(),
        None => out,
    }
}

fn dedup(mut mods: Vec<Module>) -> Vec<Module> {
    loop {
        let mut first: HashMap<(String, String), String> = HashMap::new();
        let mut map = HashMap::new();
        for m in &mods {
            let key = (m.args.clone(), m.body.clone());
            match first.get(&key) {
                Some(keep) => {
                    map.insert(m.name.clone(), keep.clone());
                }
                None => {
                    first.insert(key, m.name.clone());
                }
            }
        }
        if map.is_empty() {
            return mods;
        }
        mods.retain(|m| !map.contains_key(&m.name));
        for m in &mut mods {
            m.body = rename_instances(&m.body, &map);
        }
    }
}

fn dff_width(m: &Module) -> Option<String> {
    if m.args != "(d,q,clock)" || !m.body.contains("q <= d;") {
        return None;
    }
    let decl = m.body.lines().find(|l| l.contains("input wire") && l.trim_end().ends_with(" d;"))?;
    Some(match (decl.find('['), decl.find(':')) {
        (Some(a), Some(b)) => {
            let msb: usize = decl[a + 1..b].trim().parse().ok()?;
            (msb + 1).to_string()
        }
        _ => "1".to_string(),
    })
}

/// Readable names for a field segment of an instance path.
fn display_name(segment: &str) -> &str {
    match segment {
        "pes" => "pe",
        "accs" => "acc_column",
        "skew" => "skew_line",
        "banks" => "first_cache_bank",
        "wmem" => "weight_buffer",
        "bmem" => "bias_buffer",
        "rq" => "requant",
        "ram0" | "ram1" => "acc_ram",
        "sx" => "sign_ext",
        "avgdiv" => "avg_div",
        "ibuf" => "instr_buffer",
        other => other,
    }
}

/// Module names: the top keeps `top`; every other module is `{prefix}{top}_<what>` (flip-flops
/// `{prefix}{top}_dff_w<width>`), so the files of all tops of one preset share no module name
/// and, with the preset as prefix, two presets' differing submodules never share one either.
fn readable_names(mods: &[Module], top: &str, prefix: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for m in mods {
        let base = if m.name == "top" {
            top.to_string()
        } else if let Some(w) = dff_width(m) {
            format!("{prefix}{top}_dff_w{w}")
        } else {
            let seg = m
                .name
                .split('$')
                .rev()
                .find(|s| !s.chars().all(|c| c.is_ascii_digit()))
                .unwrap_or("block");
            format!("{prefix}{top}_{}", display_name(seg))
        };
        let n = used.entry(base.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}_{n}") };
        names.insert(m.name.clone(), name);
    }
    names
}

/// Widths of the signals a module body declares (`reg [15:0] x;`, `input wire  y;`).
fn declared_widths(body: &str) -> HashMap<String, u32> {
    let mut widths = HashMap::new();
    for line in body.lines() {
        let mut t = line.trim();
        for kw in ["input ", "output "] {
            t = t.strip_prefix(kw).unwrap_or(t);
        }
        let Some(rest) = t.strip_prefix("wire ").or_else(|| t.strip_prefix("reg ")) else { continue };
        let rest = rest.trim();
        let (width, name) = match rest.strip_prefix('[') {
            Some(r) => {
                let Some((range, name)) = r.split_once(']') else { continue };
                let Some((msb, lsb)) = range.split_once(':') else { continue };
                match (msb.trim().parse::<u32>(), lsb.trim().parse::<u32>()) {
                    (Ok(m), Ok(0)) => (m + 1, name),
                    _ => continue,
                }
            }
            None => (1, rest),
        };
        let name = name.trim().trim_end_matches(';').trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            widths.insert(name.to_string(), width);
        }
    }
    widths
}

/// `W'h…` that is all ones in W bits: W.
fn all_ones_literal(lit: &str) -> Option<u32> {
    let (w, hex) = lit.split_once("'h")?;
    let w: u32 = w.parse().ok()?;
    if w == 0 || w > 4096 || hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    // All ones: every digit f except a leading one that holds the remaining w % 4 bits.
    let full = (w / 4) as usize;
    let top = w % 4;
    let want = if top == 0 { "f".repeat(full) } else { format!("{:x}{}", (1u32 << top) - 1, "f".repeat(full)) };
    (hex.to_ascii_lowercase() == want).then_some(w)
}

/// Step 4 of the module documentation, on one module body.
fn explicit_zero_extension(body: &str) -> String {
    let widths = declared_widths(body);
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("((") {
        out.push_str(&rest[..i]);
        let cand = &rest[i..];
        // `((EXPR) & W'hMASK)`, EXPR an identifier or a part select `name[(32'hX)+:(N)]`.
        let rewritten = (|| {
            let inner = &cand[2..];
            let close = inner.find(") & ")?;
            let expr = &inner[..close];
            let width = if let Some((name, sel)) = expr.split_once("[(32'h") {
                widths.get(name)?;
                let (offset, n) = sel.split_once(")+:(")?;
                if !offset.chars().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                n.strip_suffix(")]")?.parse::<u32>().ok()?
            } else if expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                *widths.get(expr)?
            } else {
                return None;
            };
            let after = &inner[close + 4..];
            let end = after.find(')')?;
            let w = all_ones_literal(&after[..end])?;
            (width < w).then(|| (format!("({{{}'d0, {expr}}})", w - width), 2 + close + 4 + end + 1))
        })();
        match rewritten {
            Some((text, used)) => {
                out.push_str(&text);
                rest = &cand[used..];
            }
            None => {
                out.push_str("(");
                rest = &cand[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Step 5 of the module documentation, on one module body.
/// Step 7: `[(64'hN)+:(W)]` → `[(32'hN)+:(W)]`.
fn struct_slices(body: &str) -> String {
    use regex::Regex;
    use std::sync::OnceLock;
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\[\(64'h([0-9a-fA-F]{1,8})\)\+:\((\d+)\)\]").expect("valid"));
    re.replace_all(body, "[(32'h$1)+:($2)]").into_owned()
}

fn size_literals(body: &str) -> String {
    use regex::{Captures, Regex};
    use std::sync::OnceLock;
    static RES: OnceLock<[Regex; 3]> = OnceLock::new();
    let [masked, after, before] = RES.get_or_init(|| {
        [
            Regex::new(r"\(\(32'h([0-9a-fA-F]+)\) & (\d+'h[0-9a-fA-F]+)\)").expect("valid"),
            Regex::new(r"\b([A-Za-z_][A-Za-z0-9_]*) (==|!=|<=|>=|<|>|\+|-|\^|&|\||=) 32'h([0-9a-fA-F]+)\b").expect("valid"),
            Regex::new(r"\b32'h([0-9a-fA-F]+) (==|!=|<=|>=|<|>|\+|-|\^|&|\|) ([A-Za-z_][A-Za-z0-9_]*)(\[?)").expect("valid"),
        ]
    });
    let widths = declared_widths(body);
    let sized = |hex: &str, w: u32| -> Option<String> {
        let v = u128::from_str_radix(hex, 16).ok()?;
        (w != 32 && (w >= 128 || v < 1u128 << w)).then(|| format!("{w}'h{v:x}"))
    };
    let body = masked.replace_all(body, |c: &Captures| {
        let w = all_ones_literal(&c[2]).filter(|&w| w <= 64);
        let v = u128::from_str_radix(&c[1], 16).ok();
        match (w, v) {
            (Some(w), Some(v)) => format!("{w}'h{:x}", v & ((1u128 << w) - 1)),
            _ => c[0].to_string(),
        }
    });
    let body = after.replace_all(&body, |c: &Captures| {
        match widths.get(&c[1]).and_then(|&w| sized(&c[3], w)) {
            Some(lit) => format!("{} {} {lit}", &c[1], &c[2]),
            None => c[0].to_string(),
        }
    });
    let body = before.replace_all(&body, |c: &Captures| {
        match (c[4].is_empty(), widths.get(&c[3]).and_then(|&w| sized(&c[1], w))) {
            (true, Some(lit)) => format!("{lit} {} {}", &c[2], &c[3]),
            _ => c[0].to_string(),
        }
    });
    // A literal after a part select or a parenthesised operand of inferable width.
    static OPLIT: OnceLock<Regex> = OnceLock::new();
    let oplit = OPLIT.get_or_init(|| {
        Regex::new(r"[\])] (==|!=|<=|>=|<|>|\+|-|\^|&|\|) 32'h([0-9a-fA-F]+)\b").expect("valid")
    });
    let mut out = String::with_capacity(body.len());
    let mut last = 0;
    for c in oplit.captures_iter(&body) {
        let m = c.get(0).expect("match");
        let operand_end = m.start() + 1;
        if let Some(lit) = operand_width(&body[..operand_end], &widths).and_then(|w| sized(&c[2], w)) {
            out.push_str(&body[last..operand_end]);
            out.push_str(&format!(" {} {lit}", &c[1]));
            last = m.end();
        }
    }
    out.push_str(&body[last..]);
    out
}

/// The width of the operand that ends `text` (a part select `x[(32'hN)+:(W)]`, or a
/// parenthesised expression whose width shows in its first operand or its mask), if inferable.
fn operand_width(text: &str, widths: &HashMap<String, u32>) -> Option<u32> {
    use regex::Regex;
    use std::sync::OnceLock;
    static RES: OnceLock<[Regex; 5]> = OnceLock::new();
    let [select, lit_shift, ident_op, masked, sel_op] = RES.get_or_init(|| {
        [
            Regex::new(r"^\(32'h[0-9a-fA-F]+\)\+:\((\d+)\)$").expect("valid"),
            Regex::new(r"^(\d+)'h[0-9a-fA-F]+ (<<|>>) ").expect("valid"),
            Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*) (<<|>>|\+|-|&|\||\^) ").expect("valid"),
            Regex::new(r" & (\d+'h[0-9a-fA-F]+)$").expect("valid"),
            Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*\[\(32'h[0-9a-fA-F]+\)\+:\((\d+)\)\] (<<|>>|\+|-|&|\||\^) ").expect("valid"),
        ]
    });
    let (close, open) = match text.chars().last()? {
        ']' => (']', '['),
        ')' => (')', '('),
        _ => return None,
    };
    // The matching opening bracket.
    let mut depth = 0;
    let mut start = None;
    for (i, ch) in text.char_indices().rev() {
        if ch == close {
            depth += 1;
        } else if ch == open {
            depth -= 1;
            if depth == 0 {
                start = Some(i);
                break;
            }
        }
    }
    let inner = &text[start? + 1..text.len() - 1];
    if close == ']' {
        return select.captures(inner).and_then(|c| c[1].parse().ok());
    }
    if let Some(c) = lit_shift.captures(inner) {
        return c[1].parse().ok();
    }
    if let Some(c) = sel_op.captures(inner) {
        return c[1].parse().ok();
    }
    if let Some(c) = ident_op.captures(inner) {
        return widths.get(&c[1]).copied();
    }
    if let Some(c) = masked.captures(inner) {
        return all_ones_literal(&c[1]);
    }
    if inner.starts_with('(') {
        // The first operand is itself parenthesised: its width.
        let mut depth = 0;
        for (i, ch) in inner.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return operand_width(&inner[..=i], widths);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// Step 8: the module's interface ports (`a$b`) renamed `a_b` in its header and body, and every
/// instantiation's connection to such a port (`.a$b(`) renamed in the bodies of all modules.
fn interface_ports(mods: Vec<Module>) -> Vec<Module> {
    let ident = regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_$]*").expect("valid");
    let conn = regex::Regex::new(r"\.([A-Za-z_][A-Za-z0-9_$]*)\(").expect("valid");
    mods.into_iter()
        .map(|m| {
            let ports: HashMap<String, String> = m
                .args
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(str::trim)
                .filter(|a| a.contains('$') && !a.split('$').any(|seg| seg.bytes().all(|b| b.is_ascii_digit())))
                .map(|a| (a.to_string(), a.replace('$', "_")))
                .collect();
            let rename = |text: &str| {
                ident.replace_all(text, |c: &regex::Captures| ports.get(&c[0]).cloned().unwrap_or_else(|| c[0].to_string())).into_owned()
            };
            // A child's port named in a connection (`.p_sw(`) is not a signal of this module.
            let signals = conn.replace_all(&m.body, "(");
            if let Some(clash) = ports.values().find(|n| ident.find_iter(&signals).any(|t| t.as_str() == n.as_str())) {
                panic!("module {}: interface port {clash} collides with a signal of that name", m.name);
            }
            let body = conn
                .replace_all(&rename(&m.body), |c: &regex::Captures| match c[1].split('$').any(|seg| seg.bytes().all(|b| b.is_ascii_digit())) {
                    true => c[0].to_string(),
                    false => format!(".{}(", c[1].replace('$', "_")),
                })
                .into_owned();
            Module { args: rename(&m.args), body, name: m.name }
        })
        .collect()
}

/// The post-processed Verilog of a design whose top module should be called `top_name`, with
/// `header` (comment lines) first; submodule names start with `prefix` (the preset, e.g.
/// `tiny_`, or empty).
pub fn postprocess(raw: &str, top_name: &str, prefix: &str, header: &str) -> String {
    let mods = interface_ports(dedup(parse(raw).into_iter().map(|m| Module { body: enum_cleanup(&m.body), ..m }).collect()));
    let names = readable_names(&mods, top_name, prefix);
    let mut out = String::from(header);
    for m in &mods {
        let name = &names[&m.name];
        let mut body = size_literals(&explicit_zero_extension(&struct_slices(&rename_instances(&m.body, &names).replace('$', "__"))));
        if !body.ends_with('\n') {
            body.push('\n');
        }
        let args = m.args.replace('$', "__");
        out.push_str(&format!("\nmodule {name}{args};{body}endmodule // {name}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "\n\nmodule top(clock,a);\n    top$x x(\n    );\n    top$y y(\n    );\nendmodule // top\n\n\nmodule top$x(d,q,clock);\n    input wire  [7:0] d;\n    always @(posedge clock) q <= d;\nendmodule // top$x\n\n\nmodule top$y(d,q,clock);\n    input wire  [7:0] d;\n    always @(posedge clock) q <= d;\nendmodule // top$y\n";

    #[test]
    fn interface_ports_get_one_underscore_and_arrays_keep_two() {
        let raw = "\n\nmodule top(clock,m$req,v$0);\n    output reg  m$req;\n    top$c c(\n        .m$req(c$m$req),\n        .v$0(c$v$0)\n    );\n    m$req = c$m$req;\nendmodule // top\n\n\nmodule top$c(m$req,v$0);\n    output reg  m$req;\n    m$req = 1'b1;\nendmodule // top$c\n";
        let v = postprocess(raw, "t", "", "");
        assert!(v.contains("module t(clock,m_req,v__0);") && v.contains("output reg  m_req;") && v.contains("m_req = c__m__req;"), "{v}");
        assert!(v.contains(".m_req(c__m__req)") && v.contains(".v__0(c__v__0)") && v.contains("(m_req,v__0);"), "{v}");
        let clash = "\n\nmodule top(m$req);\n    reg  m_req;\nendmodule // top\n";
        assert!(std::panic::catch_unwind(|| postprocess(clash, "t", "", "")).is_err(), "a colliding name is refused");
    }

    #[test]
    fn struct_field_offsets_become_32_bit_literals() {
        assert_eq!(struct_slices("y = g[(64'h10)+:(16)] - 32'h1;"), "y = g[(32'h10)+:(16)] - 32'h1;");
        assert_eq!(size_literals("    reg  [15:0] y;\n    reg  [175:0] g;\n    y = g[(32'h10)+:(16)] - 32'h1;\n").lines().last().unwrap(), "    y = g[(32'h10)+:(16)] - 16'h1;");
    }

    #[test]
    fn unused_enum_constants_go_and_the_state_reset_is_sized() {
        let body = "\n    input wire  [1:0] d;\n    output reg  [1:0] q;\n    // Enums\n    localparam S__A = 0;\n    localparam S__B = 1;\n    \n    initial begin\n       q = 64'h0;\n    end\n";
        let out = enum_cleanup(body);
        assert!(!out.contains("localparam") && !out.contains("Enums"), "{out}");
        assert!(out.contains("q = 2'h0;"), "{out}");
        let used = "\n    // Enums\n    localparam S__A = 0;\n    localparam S__B = 1;\n    x = y == S__B;\n";
        let out = enum_cleanup(used);
        assert!(out.contains("localparam [0:0] S__B = 1'd1;") && !out.contains("S__A") && out.contains("// Enums"), "{out}");
        let three = "\n    // Enums\n    localparam S__A = 0;\n    localparam S__B = 1;\n    localparam S__C = 2;\n    x = y == S__C;\n";
        assert!(enum_cleanup(three).contains("localparam [1:0] S__C = 2'd2;"), "{}", enum_cleanup(three));
        let raw = "\n    localparam S$A = 0;\n    localparam S$B = 1;\n    localparam S$C = 2;\n    x = y == S$B;\n";
        assert!(enum_cleanup(raw).contains("localparam [1:0] S$B = 2'd1;"), "{}", enum_cleanup(raw));
        let two_enums = format!("{three}    localparam T__A = 0;\n    localparam T__B = 1;\n    z = T__B;\n");
        assert!(enum_cleanup(&two_enums).contains("localparam [0:0] T__B = 1'd1;"), "{}", enum_cleanup(&two_enums));
    }

    #[test]
    fn zero_extensions_become_concatenations_of_the_declared_width() {
        let body = "\n    reg  [4:0] op;\n    input wire  [15:0] prod;\n    reg  [7:0] w8;\n    always @(*) begin\n        toff = ((op) & 8'hff) << 32'h3;\n        p = ((prod[(32'h0)+:(16)]) & 32'hffffffff) - ((32'h10000) & 32'hffffffff);\n        q = ((w8) & 8'hff) + ((op) & 18'h3ffff);\n        r = ((prod[(32'h5)+:(10)]) & 16'hffff);\n    end\n";
        let got = explicit_zero_extension(body);
        assert!(got.contains("toff = ({3'd0, op}) << 32'h3;"), "{got}");
        assert!(got.contains("p = ({16'd0, prod[(32'h0)+:(16)]}) - ((32'h10000) & 32'hffffffff);"), "{got}");
        // Same width: left alone; 18 bits of all ones recognised.
        assert!(got.contains("q = ((w8) & 8'hff) + ({13'd0, op});"), "{got}");
        assert!(got.contains("r = ({6'd0, prod[(32'h5)+:(10)]});"), "{got}");
        assert_eq!(all_ones_literal("26'h3ffffff"), Some(26));
        assert_eq!(all_ones_literal("16'hff00"), None);
    }

    #[test]
    fn literals_take_the_width_of_the_other_operand() {
        let body = "\n    reg  [15:0] a;\n    reg  [4:0] op;\n    reg  [63:0] wide;\n    reg  [7:0] r;\n    always @(*) begin\n        a = 32'h0;\n        r = ((32'h1ff) & 8'hff);\n        x = a + 32'h1 == b;\n        y = 32'h3 < op;\n        z = op == 32'h40;\n        m = (64'h1 << len) - 32'h1;\n        s = (t[(32'h5)+:(13)] & 13'hfff) + 32'h1;\n        q = wide != 32'h0;\n        c = (cc[(32'h0)+:(5)] == 32'h2);\n    end\n";
        let got = size_literals(body);
        assert!(got.contains("a = 16'h0;"), "{got}");
        assert!(got.contains("r = 8'hff;"), "masked literal, value masked: {got}");
        assert!(got.contains("x = a + 16'h1 == b;"), "{got}");
        assert!(got.contains("y = 5'h3 < op;"), "{got}");
        assert!(got.contains("z = op == 32'h40;"), "64 does not fit 5 bits: left alone: {got}");
        assert!(got.contains("m = (64'h1 << len) - 64'h1;"), "{got}");
        assert!(got.contains("s = (t[(32'h5)+:(13)] & 13'hfff) + 13'h1;"), "{got}");
        assert!(got.contains("q = wide != 64'h0;"), "widened: {got}");
        assert!(got.contains("(cc[(32'h0)+:(5)] == 5'h2)"), "{got}");
    }

    #[test]
    fn identical_modules_collapse_and_get_readable_names() {
        let v = postprocess(RAW, "blk", "p_", "// header\n");
        assert!(v.starts_with("// header\n"));
        assert_eq!(v.matches("\nmodule ").count(), 2, "{v}");
        assert!(v.contains("module blk(clock,a);"), "{v}");
        assert!(v.contains("module p_blk_dff_w8(d,q,clock);"), "{v}");
        assert!(v.contains("    p_blk_dff_w8 x(") && v.contains("    p_blk_dff_w8 y("), "{v}");
        assert!(!v.contains('$'), "{v}");
    }
}
