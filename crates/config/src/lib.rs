//! Hardware configuration of the accelgen generator.
//!
//! One JSON document holds every generator parameter. The flow is one way:
//! JSON → [`HwConfig::from_json`] (a named preset plus overrides) → [`HwConfig::validate`] with
//! messages naming the field, the value and the allowed range → the derived values of
//! [`derived`] ([`HwConfig::conv_array`], [`HwConfig::pool_array`]), which the hardware blocks,
//! the compiler and the drivers all read. There is no silent `Default` for the whole accelerator: use a named
//! [`Preset`].

pub mod derived;
pub mod input;

pub use derived::{ConvArray, PoolArray};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Generator parameters of the convolution PE array and its caches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeArrayConfig {
    /// PE rows R (one input port per row).
    pub rows: u32,
    /// PE columns C (PEs per row that share the row's input by shifting).
    pub cols: u32,
    /// Kernels pre-stored per PE, K ≥ 2: one slow cycle is K fast cycles.
    pub kernels_per_pe: u32,
    /// Operand width in bits (activations and weights).
    pub operand_bits: u32,
    /// Accumulator width in bits.
    pub acc_bits: u32,
    /// Entries of the first cache (input buffer) per row.
    pub first_cache_depth: u32,
    /// Words of the weight buffer (weights of every pass of a layer, in pass order).
    pub weight_buffer_depth: u32,
    /// Entries per column per half of the accumulation buffer (K·Ho·Wo must fit one half).
    pub acc_buffer_depth: u32,
    /// Entries per column bank of the bias buffer (K per output-channel tile).
    pub bias_buffer_depth: u32,
    /// Entries per column bank of the output buffer (K·Ho·Wo per output-channel tile).
    pub output_buffer_depth: u32,
}

/// Generator parameters of the pooling unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolingConfig {
    /// k: feature values per read (the height of one column).
    pub rows_per_read: u32,
    /// n: column reads per update.
    pub cols_per_update: u32,
    /// m: columns kept from the previous update for overlapping windows.
    pub retained_cols: u32,
    /// Largest window side supported (both directions).
    pub max_window: u32,
    /// Entries per feature-memory bank (k banks).
    pub feature_memory_depth: u32,
}

/// Generator parameters of the instruction buffer and decompressor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsaConfig {
    /// Width W in bits of one instruction-buffer word.
    pub word_bits: u32,
    /// Words the instruction buffer holds.
    pub buffer_depth: u32,
}

/// The external memory port of the integrated accelerator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Width of one memory word (the bus) in bits: 32, 64 or 128. Memory is packed bytes.
    pub word_bits: u32,
    /// Read bursts the AXI memory master keeps outstanding at most (`accel_axi`).
    #[serde(default = "default_read_bursts")]
    pub read_bursts: u32,
}

fn default_read_bursts() -> u32 {
    4
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig { word_bits: 32, read_bursts: default_read_bursts() }
    }
}

/// The pooling clock-enable dividers the planner may choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolClockConfig {
    /// Available dividers, strictly increasing, starting at 1 (full rate).
    pub dividers: Vec<u32>,
}

/// Every generator parameter of the accelerator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HwConfig {
    /// Name of the preset this configuration came from (or `custom`).
    pub name: String,
    /// Convolution PE array.
    pub pe_array: PeArrayConfig,
    /// Pooling unit.
    pub pooling: PoolingConfig,
    /// Instruction buffer and decompressor.
    pub isa: IsaConfig,
    /// Pooling clock dividers.
    pub pool_clock: PoolClockConfig,
    /// External memory port (a document without it gets 32-bit words).
    #[serde(default)]
    pub memory: MemoryConfig,
}

/// Named configurations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Smallest legal array: fast tests and readable Verilog snapshots.
    Tiny,
    /// The configuration the README's main job runs.
    Default,
}

impl Preset {
    /// Every preset, in the order `config show` lists them.
    pub const ALL: [Preset; 2] = [Preset::Tiny, Preset::Default];

    /// The preset's name as used on the command line and in `hdl_out/<name>/`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Default => "default",
        }
    }

    /// Looks a preset up by name; the error lists the known names.
    pub fn from_name(name: &str) -> Result<Preset, String> {
        Preset::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
            format!("unknown preset \"{name}\": known presets are {}", names.join(", "))
        })
    }

    /// The preset's configuration (always valid; a test checks it).
    pub fn config(self) -> HwConfig {
        match self {
            Preset::Tiny => HwConfig {
                name: "tiny".into(),
                pe_array: PeArrayConfig {
                    rows: 2,
                    cols: 2,
                    kernels_per_pe: 2,
                    operand_bits: 8,
                    acc_bits: 32,
                    first_cache_depth: 256,
                    weight_buffer_depth: 1024,
                    acc_buffer_depth: 256,
                    bias_buffer_depth: 64,
                    output_buffer_depth: 512,
                },
                pooling: PoolingConfig {
                    rows_per_read: 3,
                    cols_per_update: 2,
                    retained_cols: 2,
                    max_window: 3,
                    feature_memory_depth: 1024,
                },
                isa: IsaConfig { word_bits: 64, buffer_depth: 256 },
                pool_clock: PoolClockConfig { dividers: vec![1, 2, 4] },
                memory: MemoryConfig { word_bits: 32, read_bursts: 4 },
            },
            Preset::Default => HwConfig {
                name: "default".into(),
                pe_array: PeArrayConfig {
                    rows: 8,
                    cols: 8,
                    kernels_per_pe: 4,
                    operand_bits: 8,
                    acc_bits: 32,
                    first_cache_depth: 8192,
                    weight_buffer_depth: 65536,
                    acc_buffer_depth: 4096,
                    bias_buffer_depth: 256,
                    output_buffer_depth: 16384,
                },
                pooling: PoolingConfig {
                    rows_per_read: 3,
                    cols_per_update: 4,
                    retained_cols: 2,
                    max_window: 3,
                    feature_memory_depth: 16384,
                },
                isa: IsaConfig { word_bits: 64, buffer_depth: 16384 },
                pool_clock: PoolClockConfig { dividers: vec![1, 2, 4, 8, 16, 32, 64] },
                memory: MemoryConfig { word_bits: 64, read_bursts: 4 },
            },
        }
    }
}

/// Allowed ranges, one constant per field, so that messages, docs and tests agree.
pub mod limits {
    /// `pe_array.rows`.
    pub const ROWS: (u32, u32) = (1, 64);
    /// `pe_array.cols`.
    pub const COLS: (u32, u32) = (2, 64);
    /// `pe_array.kernels_per_pe`.
    pub const KERNELS_PER_PE: (u32, u32) = (2, 16);
    /// `pe_array.operand_bits`: the golden model is int8.
    pub const OPERAND_BITS: (u32, u32) = (8, 8);
    /// `pe_array.acc_bits`: the golden model accumulates in 32-bit two's complement.
    pub const ACC_BITS: (u32, u32) = (32, 32);
    /// `pe_array.first_cache_depth`.
    pub const FIRST_CACHE_DEPTH: (u32, u32) = (2, 65536);
    /// `pe_array.weight_buffer_depth`.
    pub const WEIGHT_BUFFER_DEPTH: (u32, u32) = (16, 65536);
    /// `pe_array.acc_buffer_depth`.
    pub const ACC_BUFFER_DEPTH: (u32, u32) = (2, 65536);
    /// `pe_array.bias_buffer_depth`.
    pub const BIAS_BUFFER_DEPTH: (u32, u32) = (1, 65536);
    /// `pe_array.output_buffer_depth`.
    pub const OUTPUT_BUFFER_DEPTH: (u32, u32) = (1, 65536);
    /// `pooling.rows_per_read`.
    pub const ROWS_PER_READ: (u32, u32) = (1, 16);
    /// `pooling.cols_per_update`.
    pub const COLS_PER_UPDATE: (u32, u32) = (1, 16);
    /// `pooling.retained_cols`.
    pub const RETAINED_COLS: (u32, u32) = (0, 16);
    /// `pooling.max_window`.
    pub const MAX_WINDOW: (u32, u32) = (1, 16);
    /// `pooling.feature_memory_depth`.
    pub const FEATURE_MEMORY_DEPTH: (u32, u32) = (1, 65536);
    /// `isa.word_bits`: the hardware decompressor reads 64-bit words.
    pub const WORD_BITS: (u32, u32) = (64, 64);
    /// `isa.buffer_depth`: the decompressor counts words and addresses its buffer in 16 bits.
    pub const BUFFER_DEPTH: (u32, u32) = (1, 65535);
    /// Each of `pool_clock.dividers` (the pooling unit's divider register is 8 bits).
    pub const DIVIDER: (u32, u32) = (1, 255);
    /// `memory.word_bits`: 32, 64 or 128 (the AXI data widths the memory master issues).
    pub const MEMORY_WORD_BITS: (u32, u32) = (32, 128);
    /// `memory.read_bursts`: at least 2 (AXI read bursts overlap), at most 64.
    pub const READ_BURSTS: (u32, u32) = (2, 64);

    /// The allowed range of a numeric field by its dotted path (for type errors).
    pub fn of_field(path: &str) -> Option<(u32, u32)> {
        Some(match path {
            "pe_array.rows" => ROWS,
            "pe_array.cols" => COLS,
            "pe_array.kernels_per_pe" => KERNELS_PER_PE,
            "pe_array.operand_bits" => OPERAND_BITS,
            "pe_array.acc_bits" => ACC_BITS,
            "pe_array.first_cache_depth" => FIRST_CACHE_DEPTH,
            "pe_array.weight_buffer_depth" => WEIGHT_BUFFER_DEPTH,
            "pe_array.acc_buffer_depth" => ACC_BUFFER_DEPTH,
            "pe_array.bias_buffer_depth" => BIAS_BUFFER_DEPTH,
            "pe_array.output_buffer_depth" => OUTPUT_BUFFER_DEPTH,
            "pooling.rows_per_read" => ROWS_PER_READ,
            "pooling.cols_per_update" => COLS_PER_UPDATE,
            "pooling.retained_cols" => RETAINED_COLS,
            "pooling.max_window" => MAX_WINDOW,
            "pooling.feature_memory_depth" => FEATURE_MEMORY_DEPTH,
            "isa.word_bits" => WORD_BITS,
            "isa.buffer_depth" => BUFFER_DEPTH,
            "memory.word_bits" => MEMORY_WORD_BITS,
            "memory.read_bursts" => READ_BURSTS,
            p if p.starts_with("pool_clock.dividers[") => DIVIDER,
            _ => return None,
        })
    }
}

fn in_range(field: &str, value: u32, (lo, hi): (u32, u32)) -> Result<(), String> {
    if value < lo || value > hi {
        Err(format!("{field} = {value} is out of range: allowed {lo}..={hi}"))
    } else {
        Ok(())
    }
}

impl HwConfig {
    /// Builds a configuration from JSON: either a complete document, or `{"preset": NAME, ...}`
    /// whose other fields override the preset's (objects merge field by field). The result is
    /// validated.
    pub fn from_json(text: &str) -> Result<HwConfig, String> {
        let value: Value = input::parse_json(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut obj) = value else {
            return Err("the configuration must be a JSON object".into());
        };
        let merged = match obj.remove("preset") {
            None => Value::Object(obj),
            Some(Value::String(name)) => {
                let mut base = serde_json::to_value(Preset::from_name(&name)?.config())
                    .expect("a preset serialises");
                if !obj.contains_key("name") {
                    obj.insert("name".into(), Value::String(format!("{name}-custom")));
                }
                merge(&mut base, Value::Object(obj));
                base
            }
            Some(other) => return Err(format!("preset must be a string, got {other}")),
        };
        let cfg: HwConfig = serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            let range = limits::of_field(&path).map_or(String::new(), |(lo, hi)| format!(" (allowed {lo}..={hi})"));
            format!("field \"{path}\": {}{range}", e.inner())
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Pretty JSON of the whole configuration.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a configuration serialises")
    }

    /// Checks every field; the first problem is reported with the field, its value and the
    /// allowed range.
    pub fn validate(&self) -> Result<(), String> {
        use limits::*;
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "name = \"{}\" is not allowed: use 1 or more of A-Z a-z 0-9 - _ (it names the \
                 output folder)",
                self.name
            ));
        }
        let pe = &self.pe_array;
        in_range("pe_array.rows", pe.rows, ROWS)?;
        in_range("pe_array.cols", pe.cols, COLS)?;
        in_range("pe_array.kernels_per_pe", pe.kernels_per_pe, KERNELS_PER_PE)?;
        in_range("pe_array.operand_bits", pe.operand_bits, OPERAND_BITS)?;
        in_range("pe_array.acc_bits", pe.acc_bits, ACC_BITS)?;
        in_range("pe_array.first_cache_depth", pe.first_cache_depth, FIRST_CACHE_DEPTH)?;
        in_range("pe_array.weight_buffer_depth", pe.weight_buffer_depth, WEIGHT_BUFFER_DEPTH)?;
        in_range("pe_array.acc_buffer_depth", pe.acc_buffer_depth, ACC_BUFFER_DEPTH)?;
        in_range("pe_array.bias_buffer_depth", pe.bias_buffer_depth, BIAS_BUFFER_DEPTH)?;
        in_range("pe_array.output_buffer_depth", pe.output_buffer_depth, OUTPUT_BUFFER_DEPTH)?;
        let per_pass = pe.rows * pe.cols * pe.kernels_per_pe;
        if per_pass > pe.weight_buffer_depth {
            return Err(format!(
                "pe_array.weight_buffer_depth = {} is out of range: allowed {}..={} (one pass \
                 needs rows·cols·kernels_per_pe = {} weights)",
                pe.weight_buffer_depth, per_pass, WEIGHT_BUFFER_DEPTH.1, per_pass
            ));
        }
        let pool = &self.pooling;
        in_range("pooling.rows_per_read", pool.rows_per_read, ROWS_PER_READ)?;
        in_range("pooling.cols_per_update", pool.cols_per_update, COLS_PER_UPDATE)?;
        in_range("pooling.retained_cols", pool.retained_cols, RETAINED_COLS)?;
        in_range("pooling.max_window", pool.max_window, MAX_WINDOW)?;
        in_range(
            "pooling.rows_per_read",
            pool.rows_per_read,
            (pool.max_window, ROWS_PER_READ.1),
        )
        .map_err(|e| format!("{e} (a column must hold the largest window, pooling.max_window = {})", pool.max_window))?;
        in_range(
            "pooling.retained_cols",
            pool.retained_cols,
            (pool.max_window - 1, RETAINED_COLS.1),
        )
        .map_err(|e| {
            format!(
                "{e} (windows of width {w} at stride 1 overlap by {} columns)",
                pool.max_window - 1,
                w = pool.max_window
            )
        })?;
        in_range(
            "pooling.cols_per_update",
            pool.cols_per_update,
            (COLS_PER_UPDATE.0, 32 - pool.retained_cols),
        )
        .map_err(|e| format!("{e} (the region holds at most 32 columns: retained_cols + cols_per_update)"))?;
        in_range("pooling.feature_memory_depth", pool.feature_memory_depth, FEATURE_MEMORY_DEPTH)?;
        if self.isa.word_bits != WORD_BITS.0 {
            return Err(format!(
                "isa.word_bits = {} is not supported: allowed {} (the hardware decompressor reads {}-bit words)",
                self.isa.word_bits, WORD_BITS.0, WORD_BITS.0
            ));
        }
        in_range("isa.buffer_depth", self.isa.buffer_depth, BUFFER_DEPTH)?;
        in_range("memory.word_bits", self.memory.word_bits, MEMORY_WORD_BITS)?;
        in_range("memory.read_bursts", self.memory.read_bursts, READ_BURSTS)?;
        if !self.memory.word_bits.is_power_of_two() {
            return Err(format!(
                "memory.word_bits = {} must be 32, 64 or 128 (the bus data width)",
                self.memory.word_bits
            ));
        }
        let d = &self.pool_clock.dividers;
        if d.first() != Some(&1) {
            return Err(format!(
                "pool_clock.dividers = {d:?} must start with 1 (full rate is always available)"
            ));
        }
        for (i, &v) in d.iter().enumerate() {
            in_range(&format!("pool_clock.dividers[{i}]"), v, DIVIDER)?;
            if i > 0 && v <= d[i - 1] {
                return Err(format!("pool_clock.dividers = {d:?} must be strictly increasing"));
            }
        }
        Ok(())
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(edit: impl FnOnce(&mut HwConfig)) -> Result<(), String> {
        let mut c = Preset::Tiny.config();
        edit(&mut c);
        c.validate()
    }

    #[test]
    fn every_preset_is_valid_and_round_trips_through_json() {
        for p in Preset::ALL {
            let c = p.config();
            c.validate().unwrap();
            assert_eq!(HwConfig::from_json(&c.to_json()).unwrap(), c);
            assert_eq!(Preset::from_name(p.name()).unwrap(), p);
        }
    }

    #[test]
    fn type_errors_and_duplicate_keys_name_the_field() {
        assert_eq!(
            HwConfig::from_json(r#"{"preset": "tiny", "pe_array": {"rows": -1}}"#).unwrap_err(),
            "field \"pe_array.rows\": invalid value: integer `-1`, expected u32 (allowed 1..=64)"
        );
        assert_eq!(
            HwConfig::from_json(r#"{"preset": "tiny", "isa": {"buffer_depth": "big"}}"#).unwrap_err(),
            "field \"isa.buffer_depth\": invalid type: string \"big\", expected u32 (allowed 1..=65535)"
        );
        assert_eq!(
            HwConfig::from_json(r#"{"preset": "tiny", "pe_array": {"rows": 2, "rows": 3}}"#).unwrap_err(),
            "not valid JSON: duplicate field \"pe_array.rows\" at line 1 column 49"
        );
        assert_eq!(
            with(|c| c.isa.buffer_depth = 65536).unwrap_err(),
            "isa.buffer_depth = 65536 is out of range: allowed 1..=65535"
        );
    }

    #[test]
    fn config_errors_name_the_field_value_and_range_word_for_word() {
        assert_eq!(
            with(|c| c.pe_array.rows = 0).unwrap_err(),
            "pe_array.rows = 0 is out of range: allowed 1..=64"
        );
        assert_eq!(
            with(|c| c.pe_array.cols = 1).unwrap_err(),
            "pe_array.cols = 1 is out of range: allowed 2..=64"
        );
        assert_eq!(
            with(|c| c.pe_array.kernels_per_pe = 1).unwrap_err(),
            "pe_array.kernels_per_pe = 1 is out of range: allowed 2..=16"
        );
        assert_eq!(
            with(|c| c.pe_array.operand_bits = 16).unwrap_err(),
            "pe_array.operand_bits = 16 is out of range: allowed 8..=8"
        );
        assert_eq!(
            with(|c| c.pooling.retained_cols = 1).unwrap_err(),
            "pooling.retained_cols = 1 is out of range: allowed 2..=16 (windows of width 3 at \
             stride 1 overlap by 2 columns)"
        );
        assert_eq!(
            with(|c| c.pooling.rows_per_read = 2).unwrap_err(),
            "pooling.rows_per_read = 2 is out of range: allowed 3..=16 (a column must hold the \
             largest window, pooling.max_window = 3)"
        );
        assert_eq!(
            with(|c| c.isa.word_bits = 128).unwrap_err(),
            "isa.word_bits = 128 is not supported: allowed 64 (the hardware decompressor reads 64-bit words)"
        );
        assert_eq!(
            with(|c| c.pool_clock.dividers = vec![2, 4]).unwrap_err(),
            "pool_clock.dividers = [2, 4] must start with 1 (full rate is always available)"
        );
        assert_eq!(
            with(|c| c.pool_clock.dividers = vec![1, 4, 4]).unwrap_err(),
            "pool_clock.dividers = [1, 4, 4] must be strictly increasing"
        );
        assert_eq!(
            with(|c| c.pool_clock.dividers = vec![1, 2000]).unwrap_err(),
            "pool_clock.dividers[1] = 2000 is out of range: allowed 1..=255"
        );
        assert_eq!(
            with(|c| c.name = "a b".into()).unwrap_err(),
            "name = \"a b\" is not allowed: use 1 or more of A-Z a-z 0-9 - _ (it names the \
             output folder)"
        );
    }

    #[test]
    fn degenerate_but_legal_sizes_are_accepted() {
        with(|c| {
            c.pe_array.rows = 1;
            c.pooling.max_window = 1;
            c.pooling.rows_per_read = 1;
            c.pooling.retained_cols = 0;
            c.pooling.cols_per_update = 1;
            c.isa.buffer_depth = 1;
            c.pool_clock.dividers = vec![1];
        })
        .unwrap();
    }

    #[test]
    fn memory_words_are_32_64_or_128_bits() {
        let with = |bits: u32| HwConfig::from_json(&format!(r#"{{"preset": "tiny", "memory": {{"word_bits": {bits}}}}}"#));
        assert_eq!(with(64).unwrap().memory.word_bits, 64);
        assert_eq!(with(128).unwrap().memory.word_bits, 128);
        assert_eq!(with(48).unwrap_err(), "memory.word_bits = 48 must be 32, 64 or 128 (the bus data width)");
        assert_eq!(with(96).unwrap_err(), "memory.word_bits = 96 must be 32, 64 or 128 (the bus data width)");
        assert_eq!(with(256).unwrap_err(), "memory.word_bits = 256 is out of range: allowed 32..=128");
        let bursts = |n: u32| HwConfig::from_json(&format!(r#"{{"preset": "tiny", "memory": {{"word_bits": 32, "read_bursts": {n}}}}}"#));
        assert_eq!(bursts(2).unwrap().memory.read_bursts, 2);
        assert_eq!(bursts(1).unwrap_err(), "memory.read_bursts = 1 is out of range: allowed 2..=64");
        assert_eq!(bursts(65).unwrap_err(), "memory.read_bursts = 65 is out of range: allowed 2..=64");
        assert_eq!(with(64).unwrap().memory.read_bursts, 4, "the default");
        // A complete document written before the field existed gets 32-bit words.
        let mut v: serde_json::Value = serde_json::from_str(&Preset::Tiny.config().to_json()).unwrap();
        v.as_object_mut().unwrap().remove("memory");
        assert_eq!(HwConfig::from_json(&v.to_string()).unwrap().memory.word_bits, 32);
    }

    #[test]
    fn a_preset_with_overrides_merges_field_by_field() {
        let c = HwConfig::from_json(r#"{"preset": "tiny", "pe_array": {"rows": 3}}"#).unwrap();
        assert_eq!(c.name, "tiny-custom");
        assert_eq!(c.pe_array.rows, 3);
        assert_eq!(c.pe_array.cols, Preset::Tiny.config().pe_array.cols);
        assert_eq!(c.pooling, Preset::Tiny.config().pooling);
    }

    #[test]
    fn unknown_fields_and_presets_are_rejected_with_their_names() {
        let e = HwConfig::from_json(r#"{"preset": "tiny", "pe_array": {"rowz": 3}}"#).unwrap_err();
        assert!(e.starts_with("field \"pe_array.rowz\": unknown field `rowz`"), "{e}");
        assert_eq!(
            HwConfig::from_json(r#"{"preset": "huge"}"#).unwrap_err(),
            "unknown preset \"huge\": known presets are tiny, default"
        );
        assert_eq!(
            HwConfig::from_json(r#"{"preset": "tiny", "pe_array": {"rows": 99}}"#).unwrap_err(),
            "pe_array.rows = 99 is out of range: allowed 1..=64"
        );
    }
}
