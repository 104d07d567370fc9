//! `accelgen wave`: a waveform in the terminal, or as an SVG or PNG picture.

use crate::failure::Failure;
use crate::report::check_writable;
use std::path::Path;

/// Shows periods `from..to` of `signals`.
pub(crate) fn wave(
    file: &Path,
    signals: &[String],
    from: usize,
    to: Option<usize>,
    svg: Option<&Path>,
    png: Option<&Path>,
    force: bool,
) -> Result<(), Failure> {
    for p in svg.iter().chain(png.iter()) {
        check_writable(p, force)?;
    }
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("fst")) {
        return Err(Failure::Input(format!(
            "{}: accelgen wave reads VCD files; open FST in GTKWave, or write the waveform as .vcd",
            file.display()
        )));
    }
    let waves = accelgen_wave::load(file).map_err(Failure::Input)?;
    let to = to.unwrap_or(from + 40);
    let in_file = |e: String| Failure::Input(format!("{}: {e}", file.display()));
    match (svg, png) {
        (None, None) => print!("{}", accelgen_wave::render_text(&waves, signals, from, to).map_err(in_file)?),
        (Some(out), _) | (None, Some(out)) => {
            let picture = accelgen_wave::render_svg(&waves, signals, from, to).map_err(in_file)?;
            let bytes = if png.is_some() {
                accelgen_wave::svg_to_png(&picture).map_err(Failure::Input)?
            } else {
                picture.into_bytes()
            };
            std::fs::write(out, bytes).map_err(|e| Failure::Input(format!("{}: cannot write: {e}", out.display())))?;
            println!("{}: periods {from}..{} of {} written to {}", file.display(), to.min(waves.periods), waves.periods, out.display());
        }
    }
    Ok(())
}
