//! The only unsafe code of the workspace: loading the shim library and calling its C ABI.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::Path;

type FnU32 = unsafe extern "C" fn() -> u32;
type FnNew = unsafe extern "C" fn() -> *mut c_void;
type FnFree = unsafe extern "C" fn(*mut c_void);
type FnRun = unsafe extern "C" fn(*mut c_void, *const u64, *mut u64, u64);
type FnEval = unsafe extern "C" fn(*mut c_void, *const u64, *mut u64);
type FnTraceOpen = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;

/// One instance of a Verilator model in this process. Clock periods run through [`Model::run`];
/// the model keeps its state between calls.
pub struct Model {
    handle: *mut c_void,
    run: FnRun,
    eval: FnEval,
    trace_open: FnTraceOpen,
    trace_close: FnFree,
    free: FnFree,
    n_in: usize,
    n_out: usize,
    periods: u64,
    // Declared last: dropped after `handle` has been freed through `free`.
    _lib: libloading::Library,
}

// SAFETY: the model instance is owned by this value alone and its methods take `&mut self`, so it
// is never used from two threads at once; Verilator 5 models with their own VerilatedContext may
// live on any thread.
unsafe impl Send for Model {}

impl Model {
    /// Loads `lib` (a `libdut.so` from [`crate::build`]) and creates one model instance, checking
    /// the ABI version and the port counts.
    pub fn load(lib: &Path, n_in: usize, n_out: usize) -> Result<Model, String> {
        let what = |e: libloading::Error| format!("{}: {e}", lib.display());
        // SAFETY: the library is one we generated and built (crate::build); its initialisers are
        // Verilator's and the C++ runtime's, which have no preconditions. Every symbol is looked up
        // with the type the generated shim declares, and the ABI version is checked before use.
        unsafe {
            let l = libloading::Library::new(lib).map_err(what)?;
            let version: FnU32 = *l.get::<FnU32>(b"ag_abi_version\0").map_err(what)?;
            if version() != crate::ABI_VERSION {
                return Err(format!(
                    "{}: ABI version {} (this program speaks {}); delete the folder to rebuild",
                    lib.display(),
                    version(),
                    crate::ABI_VERSION
                ));
            }
            let ins: FnU32 = *l.get::<FnU32>(b"ag_n_inputs\0").map_err(what)?;
            let outs: FnU32 = *l.get::<FnU32>(b"ag_n_outputs\0").map_err(what)?;
            if ins() as usize != n_in || outs() as usize != n_out {
                return Err(format!(
                    "{}: the model has {} inputs and {} outputs, the design {n_in} and {n_out}",
                    lib.display(),
                    ins(),
                    outs()
                ));
            }
            let new: FnNew = *l.get::<FnNew>(b"ag_new\0").map_err(what)?;
            let free: FnFree = *l.get::<FnFree>(b"ag_free\0").map_err(what)?;
            let run: FnRun = *l.get::<FnRun>(b"ag_run\0").map_err(what)?;
            let eval: FnEval = *l.get::<FnEval>(b"ag_eval\0").map_err(what)?;
            let trace_open: FnTraceOpen = *l.get::<FnTraceOpen>(b"ag_trace_open\0").map_err(what)?;
            let trace_close: FnFree = *l.get::<FnFree>(b"ag_trace_close\0").map_err(what)?;
            let handle = new();
            if handle.is_null() {
                return Err(format!("{}: could not create a model instance", lib.display()));
            }
            Ok(Model { handle, run, eval, trace_open, trace_close, free, n_in, n_out, periods: 0, _lib: l })
        }
    }

    /// Number of input values per period.
    pub fn n_inputs(&self) -> usize {
        self.n_in
    }

    /// Number of output values per period.
    pub fn n_outputs(&self) -> usize {
        self.n_out
    }

    /// Clock periods run so far.
    pub fn periods(&self) -> u64 {
        self.periods
    }

    /// Runs one clock period per row of `inputs` (`n_inputs` values each, in port order; bits above
    /// a port's width are ignored) and writes one row of outputs per period into `outputs`.
    pub fn run(&mut self, inputs: &[u64], outputs: &mut [u64]) -> Result<(), String> {
        let n = if self.n_in == 0 { outputs.len() / self.n_out.max(1) } else { inputs.len() / self.n_in };
        if inputs.len() != n * self.n_in || outputs.len() != n * self.n_out {
            return Err(format!(
                "run: {} input values and {} output slots do not make whole periods of {} inputs and {} outputs",
                inputs.len(),
                outputs.len(),
                self.n_in,
                self.n_out
            ));
        }
        // SAFETY: `handle` is a live instance created by this library's `ag_new`; the shim reads
        // exactly n * n_in values and writes exactly n * n_out values, both checked above.
        unsafe { (self.run)(self.handle, inputs.as_ptr(), outputs.as_mut_ptr(), n as u64) };
        self.periods += n as u64;
        Ok(())
    }

    /// No clock edge: applies `inputs` (one value per input port), lets the combinational logic
    /// settle and writes the outputs (and observed signals) into `outputs`.
    pub fn eval(&mut self, inputs: &[u64], outputs: &mut [u64]) -> Result<(), String> {
        if inputs.len() != self.n_in || outputs.len() != self.n_out {
            return Err(format!(
                "eval: {} input values and {} output slots, the model has {} inputs and {} outputs",
                inputs.len(),
                outputs.len(),
                self.n_in,
                self.n_out
            ));
        }
        // SAFETY: `handle` is a live instance of this library; the shim reads exactly n_in values
        // and writes exactly n_out values, both checked above.
        unsafe { (self.eval)(self.handle, inputs.as_ptr(), outputs.as_mut_ptr()) };
        Ok(())
    }

    /// Starts writing a VCD waveform of every later period to `path` (a model from
    /// [`crate::build`] with `trace`): times 2t+1 after the rising and 2t+2 after the falling edge of
    /// period t, as rust-hdl's harness writes them.
    pub fn trace_open(&mut self, path: &std::path::Path) -> Result<(), String> {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("{}: a path with a NUL byte", path.display()))?;
        // SAFETY: `handle` is live; the shim copies the path before returning.
        match unsafe { (self.trace_open)(self.handle, c.as_ptr()) } {
            0 => Ok(()),
            -1 => Err("this Verilator model was built without tracing (build it with trace)".into()),
            _ => Err(format!("{}: cannot write the waveform", path.display())),
        }
    }

    /// Closes the waveform (flushing it); later periods are not traced.
    pub fn trace_close(&mut self) {
        // SAFETY: `handle` is live; closing without an open trace does nothing.
        unsafe { (self.trace_close)(self.handle) };
    }

    /// One clock period: applies `inputs`, returns the outputs.
    pub fn step(&mut self, inputs: &[u64]) -> Result<Vec<u64>, String> {
        let mut out = vec![0; self.n_out];
        self.run(inputs, &mut out)?;
        Ok(out)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `ag_new` of the still-loaded library and is freed once.
        unsafe { (self.free)(self.handle) };
    }
}
