//! The testbench interface shared by every engine: poke inputs, step the clock, peek outputs and
//! observed internal signals. Every host driver (conv engine, pooling unit, decompressor) and
//! every invariant check is written once against [`Tb`]; the engine behind it is chosen at run
//! time:
//!
//! - `rust`: rust-hdl's simulation of the block ([`accelgen_hw::sim::Harness`]);
//! - `verilator`: the Verilator model of the block's emitted Verilog, loaded into this process
//!   ([`accelgen_vsim::Model`]); observed signals are exposed by name, so the testbench reads the
//!   same signals as on rust-hdl. No rust-hdl simulation runs;
//! - `cross`: both in lock-step; every output and observed signal must be identical after every
//!   clock period, else the run fails naming the period and the signal;
//! - `icarus`, `verilator-standalone`: rust-hdl, recording the stimulus, which the driver then
//!   replays on the emitted Verilog ([`crate::engines`]).
//!
//! Semantics, the same on every engine: [`Tb::poke`] sets an input for the coming clock edge;
//! [`Tb::peek`] returns a value with the inputs poked so far settled (combinational paths
//! included) and no clock edge; [`Tb::step`] is one clock period (inputs applied, rising edge,
//! falling edge). Long runs show a progress bar on stderr when it is a terminal.

use crate::engines::Engine;
use accelgen_hw::io::TopIo;
use accelgen_hw::sim::{Harness, Port, Trace};
use std::io::IsTerminal;
use std::path::Path;

/// A waveform file that never fails a write: rust-hdl's VCD writer panics on an I/O error (a
/// full disk, `/dev/full`), so the first error is kept here, later writes are dropped, and
/// [`Tb::finish`] reports it.
pub struct VcdSink {
    inner: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl VcdSink {
    /// Creates `path` for writing.
    pub fn create(path: &Path) -> Result<VcdSink, String> {
        let f = std::fs::File::create(path).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        Ok(VcdSink { inner: std::io::BufWriter::new(f), path: path.to_path_buf(), error: Default::default() })
    }

    fn record(&self, r: std::io::Result<()>) {
        if let Err(e) = r {
            let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| format!("{}: cannot write the waveform: {e}", self.path.display()));
        }
    }

    fn failed(&self) -> bool {
        self.error.lock().map_or(true, |s| s.is_some())
    }
}

impl std::io::Write for VcdSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.failed() {
            let r = self.inner.write_all(buf);
            self.record(r);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.failed() {
            let r = self.inner.flush();
            self.record(r);
        }
        Ok(())
    }
}

impl Drop for VcdSink {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// A waveform to record: where, which clock periods and signals, and the GTKWave groups.
#[derive(Clone, Debug, Default)]
pub struct WaveRequest {
    /// The normalised VCD to write.
    pub path: std::path::PathBuf,
    /// Clock periods `from..to` only.
    pub window: Option<(u64, u64)>,
    /// Signal name patterns (`*` wildcards) to keep; all when empty.
    pub scopes: Vec<String>,
    /// GTKWave groups: a title and signal name patterns (full names, `top.` first).
    pub groups: Vec<(String, Vec<String>)>,
}

/// A waveform being recorded into a raw file, normalised at the end.
struct Recording {
    req: WaveRequest,
    raw: std::path::PathBuf,
    root: Vec<String>,
    top: String,
    /// The block's interface scopes (rust-hdl writes them as scopes; see `interface_scopes`).
    flatten: Vec<Vec<String>>,
}

impl Recording {
    fn new(req: WaveRequest, top: &str, engine: Engine, work: &Path, flatten: Vec<Vec<String>>) -> Result<Recording, String> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = work.join("waves");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let raw = dir.join(format!("raw-{}-{n}.vcd", std::process::id()));
        let root = match engine {
            Engine::Verilator => vec!["dut".to_string(), top.to_string()],
            _ => vec!["uut".to_string()],
        };
        Ok(Recording { req, raw, root, top: top.to_string(), flatten })
    }

    fn finish(self) -> Result<(), String> {
        let r = normalize_and_layout(&self.raw, &self.root, &self.top, &self.req, &self.flatten);
        let _ = std::fs::remove_file(&self.raw);
        r
    }
}

/// Rewrites the raw waveform `raw` (top module at scope path `root`) into `req.path` and writes
/// the GTKWave layout beside it ([`gtkw_path`]); the scopes `flatten` (rust-hdl's interfaces)
/// are joined into their variables' names.
pub fn normalize_and_layout(raw: &Path, root: &[String], top: &str, req: &WaveRequest, flatten: &[Vec<String>]) -> Result<(), String> {
    let n = accelgen_wave::Normalize {
        root: root.to_vec(),
        top: top.to_string(),
        window: req.window,
        scopes: req.scopes.clone(),
        flatten: flatten.to_vec(),
    };
    // A `.fst` file: normalise into a VCD beside the raw one, then convert.
    let fst = req.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("fst"));
    let vcd = if fst { raw.with_extension("normalised.vcd") } else { req.path.clone() };
    let written = accelgen_wave::normalize(raw, &vcd, &n).and_then(|_| {
        let names = accelgen_wave::signal_names(&vcd)?;
        if fst {
            accelgen_wave::vcd_to_fst(&vcd, &req.path)?;
        }
        Ok(names)
    });
    if fst {
        let _ = std::fs::remove_file(&vcd);
    }
    let names = written?;
    let groups: Vec<(String, Vec<(String, u32)>)> = req
        .groups
        .iter()
        .map(|(title, pats)| {
            let sigs = pats
                .iter()
                .flat_map(|p| names.iter().filter(move |(n, _)| accelgen_wave::matches(p, n)))
                .cloned()
                .collect();
            (title.clone(), sigs)
        })
        .filter(|(_, s): &(String, Vec<(String, u32)>)| !s.is_empty())
        .collect();
    let gtkw = gtkw_path(&req.path);
    std::fs::write(&gtkw, accelgen_wave::gtkw(&req.path, &groups)).map_err(|e| format!("{}: cannot write: {e}", gtkw.display()))
}

/// The GTKWave save file beside a waveform: `x.vcd` → `x.gtkw`.
pub fn gtkw_path(vcd: &Path) -> std::path::PathBuf {
    vcd.with_extension("gtkw")
}

/// A signal of the top: an input, or an output / observed signal (outputs first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sig {
    /// Input port `i`.
    In(usize),
    /// Output `i` (observed signals follow the output ports).
    Out(usize),
}

/// What an engine implements.
trait Backend {
    fn poke(&mut self, i: usize, v: u64);
    fn peek(&mut self, j: usize) -> u64;
    fn step(&mut self) -> Result<(), String>;
    fn take_trace(&mut self) -> Option<Trace> {
        None
    }
}

/// The signals of a top as every backend numbers them.
#[derive(Clone, Debug)]
struct Signals {
    inputs: Vec<Port>,
    /// Output ports then observed signals.
    outputs: Vec<Port>,
}

impl Signals {
    fn of<B: TopIo>(block: &B) -> Result<Signals, String> {
        let ports = accelgen_hw::sim::ports_of(block);
        let find = |name: &str, input: bool| {
            ports.iter().find(|p| p.name == name && p.input == input).cloned().ok_or_else(|| {
                format!("the testbench port list names {name}, which the block does not have")
            })
        };
        let inputs = block.input_names().iter().map(|n| find(n, true)).collect::<Result<Vec<_>, _>>()?;
        let mut outputs = block.output_names().iter().map(|n| find(n, false)).collect::<Result<Vec<_>, _>>()?;
        if let Some(p) = ports.iter().find(|p| !inputs.contains(p) && !outputs.contains(p) && p.name != block.clock_name()) {
            return Err(format!("port {} of the block is missing from its testbench port list", p.name));
        }
        outputs.extend(block.observed().into_iter().map(|o| Port { name: o.name, bits: o.bits, input: false }));
        Ok(Signals { inputs, outputs })
    }
}

/// rust-hdl behind the interface.
struct RustBackend<B: TopIo> {
    h: Harness<B>,
    n_ports: usize,
    /// Inputs poked since the last settle.
    dirty: bool,
    /// Observed values, valid until the next poke or step.
    obs: Vec<u64>,
    obs_valid: bool,
    /// A settle that failed inside `peek`; reported by the next `step`.
    error: Option<String>,
}

impl<B: TopIo> RustBackend<B> {
    fn settle(&mut self) {
        if self.dirty {
            if let Err(e) = self.h.settle() {
                self.error.get_or_insert(e);
            }
            self.dirty = false;
            self.obs_valid = false;
        }
    }
}

impl<B: TopIo> Backend for RustBackend<B> {
    fn poke(&mut self, i: usize, v: u64) {
        self.h.uut.poke(i, v);
        self.dirty = true;
    }
    fn peek(&mut self, j: usize) -> u64 {
        self.settle();
        if j < self.n_ports {
            return self.h.uut.peek(j);
        }
        if !self.obs_valid {
            self.h.uut.observe(&mut self.obs);
            self.obs_valid = true;
        }
        self.obs[j - self.n_ports]
    }
    fn step(&mut self) -> Result<(), String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.h.step()?;
        self.dirty = false;
        self.obs_valid = false;
        Ok(())
    }
    fn take_trace(&mut self) -> Option<Trace> {
        self.h.take_trace()
    }
}

/// The in-process Verilator model behind the interface.
struct VerilatorBackend {
    model: accelgen_vsim::Model,
    inputs: Vec<u64>,
    outputs: Vec<u64>,
    dirty: bool,
    error: Option<String>,
}

impl Backend for VerilatorBackend {
    fn poke(&mut self, i: usize, v: u64) {
        self.inputs[i] = v;
        self.dirty = true;
    }
    fn peek(&mut self, j: usize) -> u64 {
        if self.dirty {
            if let Err(e) = self.model.eval(&self.inputs, &mut self.outputs) {
                self.error.get_or_insert(e);
            }
            self.dirty = false;
        }
        self.outputs[j]
    }
    fn step(&mut self) -> Result<(), String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.model.run(&self.inputs, &mut self.outputs)?;
        self.dirty = false;
        Ok(())
    }
}

/// Two models in lock-step (rust-hdl and Verilator for `--engine cross`), compared after every
/// period: every output and observed signal must be identical.
struct CrossBackend {
    a: Box<dyn Backend>,
    b: Box<dyn Backend>,
    /// What to call the two sides in a message.
    a_name: &'static str,
    b_name: &'static str,
    names: Vec<String>,
    error: Option<String>,
}

impl CrossBackend {
    /// The message for signal `j`; [`Tb::step`] prefixes the period (counted from 0).
    fn differ(&self, j: usize, a: u64, b: u64, when: &str) -> String {
        format!("{} differs from {}{when}: {} = {b:#x}, {} {a:#x}", self.b_name, self.a_name, self.names[j], self.a_name)
    }
}

impl Backend for CrossBackend {
    fn poke(&mut self, i: usize, v: u64) {
        self.a.poke(i, v);
        self.b.poke(i, v);
    }
    fn peek(&mut self, j: usize) -> u64 {
        let (a, b) = (self.a.peek(j), self.b.peek(j));
        if a != b && self.error.is_none() {
            self.error = Some(self.differ(j, a, b, " before the clock edge"));
        }
        a
    }
    fn step(&mut self) -> Result<(), String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.a.step()?;
        self.b.step()?;
        for j in 0..self.names.len() {
            let (a, b) = (self.a.peek(j), self.b.peek(j));
            if a != b {
                return Err(self.differ(j, a, b, ""));
            }
        }
        Ok(())
    }
}

/// A testbench: one block on one engine.
pub struct Tb {
    backend: Box<dyn Backend>,
    signals: Signals,
    engine: Engine,
    cycles: u64,
    progress: Option<indicatif::ProgressBar>,
    /// What the progress bar names.
    what: String,
    /// When construction ended: the timed region of `accelgen bench sim` starts here.
    started: std::time::Instant,
    /// The waveform's first write error, if a waveform is written.
    vcd_error: Option<std::sync::Arc<std::sync::Mutex<Option<String>>>>,
    /// The waveform being recorded.
    recording: Option<Recording>,
}

/// The emitted Verilog of `block`, cached under `work/designs/`: generating it takes a third of a
/// second for the default conv engine, longer than simulating a small layer. The key is the
/// running executable (path, size, modification time: a rebuilt generator never reuses another's
/// Verilog), the top and the block's generator parameters (`key`). Without a usable executable
/// identity the Verilog is generated every time.
fn design_text<B: TopIo>(block: &mut B, top: &str, key: &str, work: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let generate = |block: &mut B| accelgen_hw::emit::verilog_of_block(block, top, "// simulated design\n");
    let exe = std::env::current_exe().ok().and_then(|p| {
        let m = std::fs::metadata(&p).ok()?;
        Some((p, m.len(), m.modified().ok()?))
    });
    let Some(exe) = exe else { return generate(block) };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (exe, top, key).hash(&mut h);
    let dir = work.join("designs");
    let path = dir.join(format!("{top}-{:016x}.v", h.finish()));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return text;
    }
    let text = generate(block);
    // Written aside and renamed: a parallel reader sees the whole file or none.
    let tmp = dir.join(format!(".{top}-{}-{:?}.v", std::process::id(), std::thread::current().id()));
    if std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&tmp, &text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    text
}

/// Builds (cached) and loads the Verilator model of `block`'s Verilog with its observed signals.
fn verilator_backend<B: TopIo>(
    mut block: B,
    top: &str,
    key: &str,
    signals: &Signals,
    work: &Path,
    trace: Option<&Path>,
) -> Result<VerilatorBackend, String> {
    let design = design_text(&mut block, top, key, work);
    let spec = |p: &Port| accelgen_vsim::PortSpec { name: p.name.clone(), bits: p.bits, input: p.input };
    let n_ports = block.output_names().len();
    let ports: Vec<_> = signals.inputs.iter().chain(&signals.outputs[..n_ports]).map(spec).collect();
    let observed: Vec<_> = signals.outputs[n_ports..].iter().map(spec).collect();
    let build = {
        // One build at a time in this process: parallel callers of the same design share it.
        static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
        accelgen_vsim::build(top, block.clock_name(), &design, &ports, &observed, work, trace.is_some())?
    };
    let mut model = build.load()?;
    if let Some(raw) = trace {
        model.trace_open(raw)?;
    }
    let mut outputs = vec![0; signals.outputs.len()];
    let inputs = vec![0; signals.inputs.len()];
    model.eval(&inputs, &mut outputs)?;
    Ok(VerilatorBackend { model, inputs, outputs, dirty: false, error: None })
}

fn rust_backend<B: TopIo + 'static>(block: B, n_ports: usize, n_obs: usize, trace: bool) -> Result<RustBackend<B>, String> {
    let mut h = Harness::new(block)?;
    if trace {
        h.record_trace();
    }
    Ok(RustBackend { h, n_ports, dirty: false, obs: vec![0; n_obs], obs_valid: false, error: None })
}

impl Tb {
    /// A testbench for the block that `make` constructs (top module `top` in the Verilog, `key`
    /// its generator parameters, e.g. their `Debug` text) on `engine`; Verilator models are built
    /// once per design under `work`. With `wave`, the rust-hdl and Verilator engines record a
    /// waveform, normalised into the requested file by [`Tb::finish`].
    pub fn new<B: TopIo + 'static>(
        make: impl Fn() -> B,
        top: &str,
        key: &str,
        engine: Engine,
        work: &Path,
        wave: Option<WaveRequest>,
    ) -> Result<Tb, crate::RunError> {
        use crate::RunError::{Sim, Unsupported};
        let block = make();
        let signals = Signals::of(&block).map_err(Sim)?;
        let n_ports = block.output_names().len();
        let n_obs = signals.outputs.len() - n_ports;
        let mut recording = None;
        if let Some(req) = wave {
            if !matches!(engine, Engine::Rust | Engine::Verilator) {
                return Err(Sim(format!("the {} engine records no waveform here", engine.name())));
            }
            recording = Some(Recording::new(req, top, engine, work, accelgen_hw::sim::interface_scopes(&block)).map_err(Sim)?);
        }
        let raw = recording.as_ref().map(|r| r.raw.clone());
        let mut vcd_error = None;
        let backend: Box<dyn Backend> = match engine {
            Engine::Verilator => Box::new(verilator_backend(block, top, key, &signals, work, raw.as_deref()).map_err(Sim)?),
            Engine::Cross => {
                let b = Box::new(verilator_backend(block, top, key, &signals, work, None).map_err(Sim)?);
                let a = Box::new(rust_backend(make(), n_ports, n_obs, false).map_err(Sim)?);
                let names = signals.outputs.iter().map(|p| p.name.clone()).collect();
                Box::new(CrossBackend { a, b, a_name: "rust-hdl", b_name: "verilator", names, error: None })
            }
            Engine::Rust | Engine::Icarus | Engine::VerilatorStandalone => {
                let mut b = rust_backend(block, n_ports, n_obs, engine != Engine::Rust).map_err(Sim)?;
                if let Some(raw) = &raw {
                    // The user's waveform file cannot be created: bad input, not a simulation failure.
                    let sink = VcdSink::create(raw).map_err(Unsupported)?;
                    vcd_error = Some(sink.error.clone());
                    b.h.record_vcd(Box::new(sink));
                }
                Box::new(b)
            }
        };
        Ok(Tb {
            backend,
            signals,
            engine,
            cycles: 0,
            progress: None,
            what: String::new(),
            started: std::time::Instant::now(),
            vcd_error,
            recording,
        })
    }

    /// Ends the run: closes the waveform (if any), reports a write error it met, and writes the
    /// normalised waveform and its GTKWave layout.
    pub fn finish(mut self) -> Result<(), String> {
        let err = self.vcd_error.clone();
        let recording = self.recording.take();
        drop(self);
        if let Some(e) = err.and_then(|e| e.lock().ok().and_then(|mut s| s.take())) {
            return Err(e);
        }
        match recording {
            Some(r) => r.finish(),
            None => Ok(()),
        }
    }

    /// Two rust-hdl models of the same top in lock-step, compared like `--engine cross` compares
    /// rust-hdl with Verilator: for testing that comparison with models that really differ.
    pub fn lockstep_rust<B: TopIo + 'static>(make_a: impl Fn() -> B, make_b: impl Fn() -> B) -> Result<Tb, String> {
        let block = make_a();
        let signals = Signals::of(&block)?;
        let n_ports = block.output_names().len();
        let n_obs = signals.outputs.len() - n_ports;
        let a = Box::new(rust_backend(block, n_ports, n_obs, false)?);
        let b = Box::new(rust_backend(make_b(), n_ports, n_obs, false)?);
        let names = signals.outputs.iter().map(|p| p.name.clone()).collect();
        let backend = Box::new(CrossBackend { a, b, a_name: "model a", b_name: "model b", names, error: None });
        Ok(Tb {
            backend,
            signals,
            engine: Engine::Cross,
            cycles: 0,
            progress: None,
            what: String::new(),
            started: std::time::Instant::now(),
            vcd_error: None,
            recording: None,
        })
    }

    /// The engine running this testbench.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The signal called `name`: an input or output port, or an observed signal.
    pub fn sig(&self, name: &str) -> Result<Sig, String> {
        if let Some(i) = self.signals.inputs.iter().position(|p| p.name == name) {
            return Ok(Sig::In(i));
        }
        if let Some(j) = self.signals.outputs.iter().position(|p| p.name == name) {
            return Ok(Sig::Out(j));
        }
        Err(format!("the testbench has no signal {name}"))
    }

    /// Sets an input for the coming clock edge (an output is a programming error).
    pub fn poke(&mut self, s: Sig, v: u64) {
        match s {
            Sig::In(i) => self.backend.poke(i, v),
            Sig::Out(_) => panic!("poke of an output"),
        }
    }

    /// A value with the inputs poked so far settled, before the next edge.
    pub fn peek(&mut self, s: Sig) -> u64 {
        match s {
            Sig::Out(j) => self.backend.peek(j),
            Sig::In(_) => panic!("peek of an input"),
        }
    }

    /// `peek(s) != 0`.
    pub fn is_set(&mut self, s: Sig) -> bool {
        self.peek(s) != 0
    }

    /// One clock period.
    pub fn step(&mut self) -> Result<(), String> {
        self.backend.step().map_err(|e| format!("clock period {}: {e}", self.cycles))?;
        self.cycles += 1;
        if self.cycles & 0xffff == 0 {
            if let Some(p) = &self.progress {
                p.set_position(self.cycles);
                let rate = self.cycles as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                let left = p.length().unwrap_or(0).saturating_sub(self.cycles) as f64 / rate.max(1.0);
                p.set_message(format!("{} on {}, {rate:.0} periods/s, about {left:.0} s left", self.what, self.engine.name()));
            }
        }
        Ok(())
    }

    /// Clock periods run so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Shows a progress bar on stderr (only when it is a terminal) for a run expected to end near
    /// `total()` clock periods (from the cycle model; computed only when a bar is shown).
    pub fn expect_periods(&mut self, total: impl FnOnce() -> u64, what: &str) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let total = total();
        if total < 100_000 {
            return;
        }
        let p = indicatif::ProgressBar::new(total);
        p.set_position(self.cycles);
        p.set_style(
            indicatif::ProgressStyle::with_template(
                "[{bar:30}] {pos}/{len} clock periods, {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        self.what = what.to_string();
        p.set_message(format!("{what} on {}", self.engine.name()));
        self.progress = Some(p);
    }

    /// Adds `sim_periods` (clock periods run, loading and unloading included) to `stats`, and
    /// with `timing` also `sim_seconds`: wall time from the end of construction to now (the
    /// driver's own work included; model builds, Verilog generation and loading excluded).
    pub fn report(&self, stats: &mut serde_json::Map<String, serde_json::Value>, timing: bool) {
        stats.insert("sim_periods".into(), self.cycles.into());
        if timing {
            stats.insert("sim_seconds".into(), self.started.elapsed().as_secs_f64().into());
        }
    }

    /// The recorded stimulus and response (engines that replay it).
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.backend.take_trace()
    }
}

impl Drop for Tb {
    fn drop(&mut self) {
        if let Some(p) = self.progress.take() {
            p.finish_and_clear();
        }
    }
}
