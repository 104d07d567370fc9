//! `accelgen bench accel --plot DIR`: each network's layers on a roofline chart and a per-layer
//! bar chart of cycles next to the roofline (docs/accelerator.md), as PNG.
//!
//! Roofline chart: x is operational intensity (MACs per byte of the layer's minimum traffic), y is
//! performance (MACs per clock), both logarithmic; the roof is min(R·C, intensity × bus bytes per
//! cycle); each conv layer is a point at (its intensity, its MACs / cycles), labelled with its
//! index. Pooling layers compute no MACs and appear only in the bar chart.

use accelgen_compiler::roofline::LayerBound;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The charts' font: named, since resvg maps the generic `sans-serif` to a font Debian may not
/// have (the PNG step needs `fonts-dejavu-core`, as waveform pictures do).
const FONT: &str = "DejaVu Sans";

/// What the charts need of one layer.
pub(crate) struct LayerPoint {
    pub op: String,
    pub cycles: u64,
    pub bound: LayerBound,
}

fn slug(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    s.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_")
}

fn write_png(svg: &str, path: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!("{}: already exists (use --force to overwrite)", path.display()));
    }
    let png = accelgen_wave::svg_to_png(svg)?;
    std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
}

fn roofline_svg(name: &str, layers: &[LayerPoint], peak: f64, bus_bytes: f64) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (x0, x1) = (0.01f64, 1000.0f64);
        let (y0, y1) = (0.001f64, peak * 2.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{name}: roofline (R·C = {peak} MACs/clock, {bus_bytes} bytes/clock)"), (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 14))
            .x_desc("operational intensity (MACs per byte of minimum traffic)")
            .y_desc("MACs per clock")
            .draw()
            .map_err(|e| e.to_string())?;
        let roof: Vec<(f64, f64)> = (0..=100).map(|i| x0 * (x1 / x0).powf(i as f64 / 100.0)).map(|x| (x, (x * bus_bytes).min(peak))).collect();
        chart.draw_series(LineSeries::new(roof, &BLUE)).map_err(|e| e.to_string())?.label("roofline");
        for (i, l) in layers.iter().enumerate().filter(|(_, l)| l.bound.macs > 0 && l.cycles > 0) {
            let x = l.bound.macs as f64 / l.bound.bytes.max(1) as f64;
            let y = l.bound.macs as f64 / l.cycles as f64;
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 5, RED.filled())))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(format!("{i} {}", l.op), (x * 1.15, y), (FONT, 13))))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn layers_svg(name: &str, layers: &[LayerPoint]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = layers.iter().map(|l| l.cycles.max(l.bound.cycles())).max().unwrap_or(1) as f64 * 2.0;
        let n = layers.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{name}: cycles (red) and roofline (blue) per layer"), (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n - 0.5), (1f64..top).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 14))
            .x_desc("layer")
            .y_desc("clock periods")
            .x_labels(layers.len().max(1))
            .x_label_formatter(&|x| format!("{:.0}", x))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, l) in layers.iter().enumerate() {
            let x = i as f64;
            let bars = [(x - 0.35, x, l.cycles, RED), (x, x + 0.35, l.bound.cycles(), BLUE)];
            for (a, b, v, c) in bars {
                chart
                    .draw_series(std::iter::once(Rectangle::new([(a, 1.0), (b, (v.max(1)) as f64)], c.filled())))
                    .map_err(|e| e.to_string())?;
            }
            let ratio = if l.bound.cycles() > 0 { l.cycles as f64 / l.bound.cycles() as f64 } else { 0.0 };
            chart
                .draw_series(std::iter::once(Text::new(format!("{} {ratio:.2}x", l.op), (x - 0.4, (l.cycles.max(1) as f64) * 1.3), (FONT, 12))))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Writes `DIR/<network>_roofline.png` and `DIR/<network>_layers.png`; returns their paths.
pub(crate) fn plot_network(dir: &Path, name: &str, layers: &[LayerPoint], peak: f64, bus_bytes: f64, force: bool) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let base = slug(name);
    let roof = dir.join(format!("{base}_roofline.png"));
    let bars = dir.join(format!("{base}_layers.png"));
    write_png(&roofline_svg(name, layers, peak, bus_bytes)?, &roof, force)?;
    write_png(&layers_svg(name, layers)?, &bars, force)?;
    Ok(vec![roof, bars])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(op: &str, cycles: u64, macs: u64, bytes: u64) -> LayerPoint {
        LayerPoint { op: op.into(), cycles, bound: LayerBound { compute: macs / 64, memory: bytes / 4, macs, bytes } }
    }

    /// Two charts per network, PNG files, and no overwrite without being asked.
    #[test]
    fn charts_are_png_files_and_are_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("accelgen-plot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let layers = [point("conv2d", 10_000, 117_600, 23_536), point("maxpool2d", 6_000, 0, 23_520)];
        let files = plot_network(&dir, "LeNet-5 (test)", &layers, 64.0, 4.0, false).unwrap();
        assert_eq!(files.iter().map(|f| f.file_name().unwrap().to_str().unwrap()).collect::<Vec<_>>(), ["lenet_5_test_roofline.png", "lenet_5_test_layers.png"]);
        for f in &files {
            assert!(std::fs::read(f).unwrap().starts_with(b"\x89PNG"), "{}", f.display());
        }
        let err = plot_network(&dir, "LeNet-5 (test)", &layers, 64.0, 4.0, false).unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        plot_network(&dir, "LeNet-5 (test)", &layers, 64.0, 4.0, true).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
