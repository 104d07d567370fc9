//! Pictures of a window of signals: terminal text (one line per signal, a column per clock
//! period), SVG (the same layout), PNG (the SVG rasterised by resvg).
//!
//! 1-bit signals are drawn as levels; vectors as decimal values, written where they change (signed
//! for 8-, 16- and 32-bit data, unsigned otherwise); the clock as its cycle.

use crate::Waves;

/// The value shown for a `width`-bit signal: two's complement for the data widths (8, 16, 32:
/// int8 values, their 16-bit sign extensions, int32 sums), unsigned for the rest (one-hot
/// selects, opcodes, counters).
fn signed(v: u64, width: u32) -> i64 {
    if !matches!(width, 8 | 16 | 32) {
        return v as i64;
    }
    let sign = 1u64 << (width - 1);
    if v & sign != 0 {
        (v as i64) - (1i64 << width)
    } else {
        v as i64
    }
}

/// The signals to show: those matching any pattern (all when none), in file order, and the
/// periods `from..to` clipped to the waveform.
fn select<'a>(w: &'a Waves, patterns: &[String], from: usize, to: usize) -> Result<(Vec<&'a crate::Signal>, usize, usize), String> {
    // In the order of the patterns (a signal once, at its first match), file order within one.
    let hit = |p: &str, name: &str| crate::matches(p, name) || crate::matches(&format!("*{p}"), name);
    let sel: Vec<&crate::Signal> = if patterns.is_empty() {
        w.signals.iter().collect()
    } else {
        let mut v: Vec<&crate::Signal> = vec![];
        for p in patterns {
            for s in w.signals.iter().filter(|s| hit(p, &s.name)) {
                if !v.iter().any(|x| x.name == s.name) {
                    v.push(s);
                }
            }
        }
        v
    };
    if sel.is_empty() {
        return Err(format!("no signal matches {}", patterns.join(", ")));
    }
    let to = to.min(w.periods);
    if from >= to {
        return Err(format!("the window {from}..{to} holds no clock period (the waveform has {})", w.periods));
    }
    Ok((sel, from, to))
}

/// Short display name: the full name without the top module.
fn short(name: &str) -> &str {
    name.split_once('.').map_or(name, |(_, rest)| rest)
}

/// A terminal rendering of periods `from..to` (end exclusive): a grid line of period numbers,
/// then one line per signal.
pub fn render_text(w: &Waves, patterns: &[String], from: usize, to: usize) -> Result<String, String> {
    let (sel, from, to) = select(w, patterns, from, to)?;
    let texts = |s: &crate::Signal| -> Vec<String> { s.values[from..to].iter().map(|&v| signed(v, s.width).to_string()).collect() };
    let cell = sel
        .iter()
        .filter(|s| s.width > 1)
        .flat_map(|s| texts(s).into_iter().map(|t| t.chars().count() + 1))
        .max()
        .unwrap_or(2)
        .clamp(2, 8);
    let name_w = sel.iter().map(|s| short(&s.name).chars().count()).max().unwrap_or(4).max(6);
    let mut out = format!("{:<name_w$} ", "period");
    for p in from..to {
        let label = if (p - from) % 5 == 0 { p.to_string() } else { String::new() };
        out += &format!("{label:<cell$}");
    }
    out = out.trim_end().to_string() + "\n";
    for s in sel {
        let mut line = format!("{:<name_w$} ", short(&s.name));
        let vals = &s.values[from..to];
        let is_clock = short(&s.name) == "clock";
        for (i, &v) in vals.iter().enumerate() {
            let changed = i == 0 || vals[i - 1] != v;
            if is_clock {
                // Sampled at the end of each period a clock is always low: draw its cycle.
                let half = (cell - 1) / 2;
                line.push('╱');
                line.extend(std::iter::repeat_n('▔', half));
                line.push('╲');
                line.extend(std::iter::repeat_n('▁', cell - 2 - half));
            } else if s.width == 1 {
                let (level, edge) = if v != 0 { ('▔', if changed && i > 0 { '╱' } else { '▔' }) } else { ('▁', if changed && i > 0 { '╲' } else { '▁' }) };
                line.push(edge);
                line.extend(std::iter::repeat_n(level, cell - 1));
            } else if changed {
                let t = signed(v, s.width).to_string();
                let t: String = t.chars().take(cell - 1).collect();
                line += &format!("│{t:<w$}", w = cell - 1);
            } else {
                line.extend(std::iter::repeat_n(' ', cell));
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    Ok(out)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An SVG of the same window: a row per signal, a column per period, grid lines every period.
pub fn render_svg(w: &Waves, patterns: &[String], from: usize, to: usize) -> Result<String, String> {
    let (sel, from, to) = select(w, patterns, from, to)?;
    let (row, col, name_w, top) = (24.0f64, 36.0f64, 12.0 * sel.iter().map(|s| short(&s.name).len()).max().unwrap_or(6) as f64 * 0.62 + 16.0, 26.0);
    let n = to - from;
    let width = name_w + col * n as f64 + 8.0;
    let height = top + row * sel.len() as f64 + 8.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"12\">\n"
    );
    s += &format!("<rect width=\"{width:.0}\" height=\"{height:.0}\" fill=\"white\"/>\n");
    for i in 0..=n {
        let x = name_w + col * i as f64;
        s += &format!("<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#e0e0e0\"/>\n", top - 6.0, height - 4.0);
        if i < n && i % 5 == 0 {
            s += &format!("<text x=\"{:.1}\" y=\"16\" fill=\"#606060\">{}</text>\n", x + 2.0, from + i);
        }
    }
    for (r, sig) in sel.iter().enumerate() {
        let y0 = top + row * r as f64;
        let (hi, lo) = (y0 + 4.0, y0 + row - 6.0);
        s += &format!("<text x=\"4\" y=\"{:.1}\" fill=\"black\">{}</text>\n", lo - 2.0, xml_escape(short(&sig.name)));
        let vals = &sig.values[from..to];
        if short(&sig.name) == "clock" {
            let mut pts = vec![];
            for i in 0..vals.len() {
                let x = name_w + col * i as f64;
                pts.push(format!("{x:.1},{lo:.1} {x:.1},{hi:.1} {:.1},{hi:.1} {:.1},{lo:.1} {:.1},{lo:.1}", x + col / 2.0, x + col / 2.0, x + col));
            }
            s += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#808080\" stroke-width=\"1\"/>\n", pts.join(" "));
        } else if sig.width == 1 {
            let mut pts = vec![];
            for (i, &v) in vals.iter().enumerate() {
                let y = if v != 0 { hi } else { lo };
                let x = name_w + col * i as f64;
                pts.push(format!("{x:.1},{y:.1}"));
                pts.push(format!("{:.1},{y:.1}", x + col));
            }
            s += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#1060c0\" stroke-width=\"1.5\"/>\n", pts.join(" "));
        } else {
            let mut i = 0;
            while i < vals.len() {
                let mut j = i + 1;
                while j < vals.len() && vals[j] == vals[i] {
                    j += 1;
                }
                let (x0, x1) = (name_w + col * i as f64, name_w + col * j as f64);
                let m = (hi + lo) / 2.0;
                s += &format!(
                    "<polygon points=\"{:.1},{m:.1} {:.1},{hi:.1} {:.1},{hi:.1} {:.1},{m:.1} {:.1},{lo:.1} {:.1},{lo:.1}\" fill=\"#eef4ff\" stroke=\"#1060c0\"/>\n",
                    x0, x0 + 3.0, x1 - 3.0, x1, x1 - 3.0, x0 + 3.0
                );
                let t = signed(vals[i], sig.width).to_string();
                if (t.len() as f64) * 7.5 < x1 - x0 - 4.0 {
                    s += &format!("<text x=\"{:.1}\" y=\"{:.1}\" fill=\"black\">{t}</text>\n", x0 + 5.0, m + 4.0);
                }
                i = j;
            }
        }
    }
    s += "</svg>\n";
    Ok(s)
}

/// Rasterises an SVG (from [`render_svg`]) to PNG, with the system's fonts (Debian package
/// `fonts-dejavu-core`).
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, String> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    if opt.fontdb.is_empty() {
        return Err("no fonts found for the PNG's text: install fonts-dejavu-core (make setup)".into());
    }
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| format!("SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("a picture of {}x{} pixels cannot be made", size.width(), size.height()))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG: {e}"))
}
