//! Values derived once from a validated configuration and shared by the hardware blocks, the
//! compiler and the testbench drivers (the third step of the one-way flow in the crate header).
//!
//! Each block family has one struct here: [`ConvArray`] (the PE array and its buffers) and
//! [`PoolArray`] (the pooling unit's window register file and feature memory). The hardware crate
//! wraps them with what only the hardware has (a fault built in for a test); the compiler and the
//! cycle models read them directly, so they never depend on the hardware crate.

use crate::{HwConfig, PeArrayConfig, PoolingConfig};

/// The convolution engine's geometry and buffer sizes, in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvArray {
    /// PE rows R ≥ 1 (input channels of a tile).
    pub rows: usize,
    /// PE columns C ≥ 2.
    pub cols: usize,
    /// Kernels per PE K ≥ 2 (C·K output channels of a tile).
    pub kernels: usize,
    /// First-cache entries per row.
    pub first_cache_depth: usize,
    /// Weight buffer words.
    pub weight_buffer_depth: usize,
    /// Accumulation entries per column per half.
    pub acc_buffer_depth: usize,
    /// Bias entries per column bank.
    pub bias_buffer_depth: usize,
    /// Output entries per column bank.
    pub output_buffer_depth: usize,
}

impl ConvArray {
    /// The array of a validated configuration.
    pub fn from_config(c: &PeArrayConfig) -> Self {
        ConvArray {
            rows: c.rows as usize,
            cols: c.cols as usize,
            kernels: c.kernels_per_pe as usize,
            first_cache_depth: c.first_cache_depth as usize,
            weight_buffer_depth: c.weight_buffer_depth as usize,
            acc_buffer_depth: c.acc_buffer_depth as usize,
            bias_buffer_depth: c.bias_buffer_depth as usize,
            output_buffer_depth: c.output_buffer_depth as usize,
        }
    }

    /// PEs in the array, R·C.
    pub fn pes(&self) -> usize {
        self.rows * self.cols
    }

    /// Weights one pass holds, R·C·K (one per PE kernel register).
    pub fn weights_per_pass(&self) -> usize {
        self.rows * self.cols * self.kernels
    }

    /// Entries of each of the weight buffer's C banks (one per PE column; pass-order weight i
    /// is at bank i mod C, entry i div C): ceil(weight_buffer_depth / C), so the banks hold at
    /// least `weight_buffer_depth` weights.
    pub fn weight_bank_depth(&self) -> usize {
        self.weight_buffer_depth.div_ceil(self.cols)
    }

    /// Where PE (r, c)'s kernel j weight sits among a pass's R·C·K weights: pass order is row,
    /// kernel, column, so that an entry of the C weight banks is kernel j of a whole PE row.
    pub fn weight_slot(&self, r: usize, c: usize, j: usize) -> usize {
        (r * self.kernels + j) * self.cols + c
    }

    /// Output channels of one output tile, C·K.
    pub fn channels_per_tile(&self) -> usize {
        self.cols * self.kernels
    }

    /// The depthwise mode's column groups (docs/conv-array.md): PEs per group, KW, the widest
    /// kernel the mode runs. 3 (the depthwise kernels of MLPerf Tiny's networks) where the array
    /// has 3 columns, else 1 (kernels one column wide, and global pooling).
    pub fn dw_group_width(&self) -> usize {
        if self.cols >= 3 { 3 } else { 1 }
    }

    /// The depthwise mode's tallest kernel: 3 (two line FIFOs per row).
    pub fn dw_kernel_rows(&self) -> usize {
        3
    }

    /// Entries of each depthwise line FIFO: the widest output row the mode runs, plus the
    /// pipeline's few (docs/conv-array.md).
    pub fn dw_line_depth(&self) -> usize {
        64
    }

    /// Rows that take part in the depthwise mode: row r's outputs go to column r's output side,
    /// so min(R, C).
    pub fn dw_rows(&self) -> usize {
        self.rows.min(self.cols)
    }
}

/// The pooling unit's window register file and feature memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolArray {
    /// k: values per read (rows of the region).
    pub rows_per_read: usize,
    /// n: reads per update.
    pub cols_per_update: usize,
    /// m: columns retained from the previous update.
    pub retained_cols: usize,
    /// Largest window side.
    pub max_window: usize,
    /// Entries per feature-memory bank.
    pub feature_memory_depth: usize,
}

impl PoolArray {
    /// The unit of a validated configuration.
    pub fn from_config(c: &PoolingConfig) -> Self {
        PoolArray {
            rows_per_read: c.rows_per_read as usize,
            cols_per_update: c.cols_per_update as usize,
            retained_cols: c.retained_cols as usize,
            max_window: c.max_window as usize,
            feature_memory_depth: c.feature_memory_depth as usize,
        }
    }

    /// Columns of the window region, m + n.
    pub fn region_cols(&self) -> usize {
        self.retained_cols + self.cols_per_update
    }
}

impl HwConfig {
    /// The conv engine's derived geometry.
    pub fn conv_array(&self) -> ConvArray {
        ConvArray::from_config(&self.pe_array)
    }

    /// The pooling unit's derived geometry.
    pub fn pool_array(&self) -> PoolArray {
        PoolArray::from_config(&self.pooling)
    }

    /// Byte lanes of each first-cache bank in `accel_top`: L = `memory.word_bits` / 8 where L ≤ 8
    /// and the bank's depth is a multiple of 2·L (each half whole words), else 1. With L lanes the
    /// data mover loads a bus word of one channel into the first cache per cycle (a load whose
    /// chunks and runs are whole words: docs/accelerator.md).
    pub fn first_cache_lanes(&self) -> usize {
        let l = (self.memory.word_bits / 8) as usize;
        if l <= 8 && (self.pe_array.first_cache_depth as usize) % (2 * l) == 0 {
            l
        } else {
            1
        }
    }

    /// Byte lanes of each conv output bank's word read port: L = `memory.word_bits` / 8 where L ≤ 8
    /// and the output buffer's depth is a multiple of 2·L (so that both halves start on a word),
    /// else 1 (no word reads). A store of the conv output whose chunks and runs are whole words
    /// then reads a bus word of one channel per cycle (docs/accelerator.md).
    pub fn output_lanes(&self) -> usize {
        let l = (self.memory.word_bits / 8) as usize;
        if l <= 8 && (self.pe_array.output_buffer_depth as usize) % (2 * l) == 0 {
            l
        } else {
            1
        }
    }

    /// Byte lanes of each feature-memory bank: L (the conv output's lanes, `output_lanes`) where
    /// the bank's depth is a multiple of L, else 1. A copy of the conv output into the feature
    /// memory (`MEM_COPY`) whose chunks are whole words, on a map at least L wide, then moves a bus
    /// word per cycle (docs/accelerator.md).
    pub fn feature_memory_lanes(&self) -> usize {
        let l = self.output_lanes();
        if l > 1 && (self.pooling.feature_memory_depth as usize) % l == 0 {
            l
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Preset;

    #[test]
    fn derived_values_follow_the_configuration_fields() {
        let mut cfg = Preset::Tiny.config();
        cfg.pe_array.rows = 3;
        cfg.pe_array.cols = 5;
        cfg.pe_array.kernels_per_pe = 7;
        cfg.pooling.retained_cols = 1;
        cfg.pooling.cols_per_update = 4;
        let (a, p) = (cfg.conv_array(), cfg.pool_array());
        assert_eq!((a.rows, a.cols, a.kernels), (3, 5, 7));
        assert_eq!((a.pes(), a.weights_per_pass(), a.channels_per_tile()), (15, 105, 35));
        assert_eq!(a.weight_buffer_depth, cfg.pe_array.weight_buffer_depth as usize);
        assert_eq!(p.region_cols(), 5);
        assert_eq!(p.feature_memory_depth, cfg.pooling.feature_memory_depth as usize);
    }
}
