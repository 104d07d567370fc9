//! The pooling family (patents.md §2 and §4): the pooling unit with its window register file and
//! clock-enable rate control, and the sub-blocks it is made of, in pipeline order:
//! [`ClockEnable`] (rate control), [`BandReader`] (read cursor, with [`BandMasks`] and
//! [`BankAddress`]), [`RegionFile`] (the window register file), [`FirstLevel`] (down every region
//! column), [`WindowScan`] (the kernel's copy, window ends, second level) and [`OutputStage`]
//! (halves combined, [`AvgDiv`], output register); [`ReduceStep`] is the reduction both levels
//! are chains of.

mod avg_div;
mod band_masks;
mod band_reader;
mod bank_address;
mod clock_enable;
mod first_level;
mod fm_bank;
mod output_stage;
mod reduce_step;
mod region_file;
mod unit;
mod window_scan;

pub use avg_div::{AvgDiv, AVG_DIV_STAGES};
pub use band_masks::BandMasks;
pub use band_reader::{BandGeometry, BandReader};
pub use bank_address::BankAddress;
pub use clock_enable::ClockEnable;
pub use first_level::FirstLevel;
pub use fm_bank::FmBank;
pub use output_stage::OutputStage;
pub use reduce_step::ReduceStep;
pub use region_file::RegionFile;
pub use unit::{PoolFault, PoolUnit, PoolUnitParams, RunState};
pub use window_scan::WindowScan;

/// One constant when a built-in fault is present, none otherwise: the fault's logic is inside a
/// loop over this vector, so a product block emits none of it.
fn fault_if(on: bool) -> Vec<rust_hdl::prelude::Constant<rust_hdl::prelude::Bit>> {
    on.then(|| rust_hdl::prelude::Constant::new(true)).into_iter().collect()
}

/// Independent models shared by the sub-blocks' tests.
#[cfg(test)]
pub(crate) mod testing {
    /// The masks of row band yo straight from their definition (docs/pooling.md): band row i is
    /// real when i < kh and ph ≤ yo·sh + i < h + ph; it lies in bank (yo·sh + i) mod k; the
    /// thermometer marks the banks below the band's first. Returns (rows, banks, thermometer).
    pub fn band_masks_model(k: u64, h: u64, ph: u64, kh: u64, sh: u64, yo: u64) -> (u64, u64, u64) {
        let top = yo * sh;
        let rows = (0..k).filter(|&i| i < kh && top + i >= ph && top + i < h + ph).fold(0, |m, i| m | 1 << i);
        let r0 = top % k;
        let banks = (0..k).filter(|&i| rows >> i & 1 == 1).fold(0, |m, i| m | 1 << ((r0 + i) % k));
        (rows, banks, (1 << r0) - 1)
    }
}
