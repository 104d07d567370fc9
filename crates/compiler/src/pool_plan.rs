//! A pooling layer's schedule on the pooling unit ([`PoolPlan`]): output size, feature-memory
//! rows per channel, columns read per row band, the capacity checks of a one-run layer, and the
//! unit's enabled-cycle model (`docs/pooling.md`).

use accelgen_config::PoolArray;
use accelgen_formats::PoolLayer;

/// A pooling layer laid out for one unit.
#[derive(Clone, Debug)]
pub struct PoolPlan {
    /// Channels, input height and width.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output height and width.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
    /// Window, stride, padding.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Padding.
    pub padding: [usize; 2],
    /// Bank rows per channel, ceil((H + padding above + below) / k).
    pub hb: usize,
    /// Padded columns read per row band (a multiple of n).
    pub xcols: usize,
}

impl PoolPlan {
    /// Checks that the layer fits the unit; errors name the limit.
    pub fn new(u: &PoolArray, input: &[usize], layer: &PoolLayer) -> Result<PoolPlan, String> {
        let plan = PoolPlan::geometry(u, input, layer)?;
        let need = plan.c * plan.hb * plan.w;
        if need > u.feature_memory_depth {
            return Err(format!(
                "this layer needs C·ceil((H + ph + pb)/k)·W = {need} feature-memory entries per bank, \
                 but pooling.feature_memory_depth = {}",
                u.feature_memory_depth
            ));
        }
        if plan.xcols >= 1 << 16 || need >= 1 << 16 || plan.c >= 1 << 16 {
            return Err("the layer exceeds the unit's 16-bit counters".into());
        }
        Ok(plan)
    }

    /// The layer's schedule on the unit, without the feature-memory capacity check (for cycle
    /// estimates of layers larger than one run).
    pub fn geometry(
        u: &PoolArray,
        input: &[usize],
        layer: &PoolLayer,
    ) -> Result<PoolPlan, String> {
        let p = &layer.params;
        let [c, ho, wo] = p.check(input)?;
        let (h, w) = (input[1], input[2]);
        let bad = |s: String| Err(s);
        for (axis, k) in ["height", "width"].iter().zip(p.kernel) {
            if k > u.max_window {
                return bad(format!(
                    "window {axis} {k} exceeds pooling.max_window = {}",
                    u.max_window
                ));
            }
        }
        if p.stride[0] > u.rows_per_read {
            return bad(format!(
                "vertical stride {} exceeds pooling.rows_per_read = {}",
                p.stride[0], u.rows_per_read
            ));
        }
        let k = u.rows_per_read;
        let hb = (h + p.padding[0] + p.end()[0]).div_ceil(k);
        let xcols = columns_per_band(u, wo, p.kernel[1], p.stride[1]);
        Ok(PoolPlan {
            c, h, w, ho, wo, kernel: p.kernel, stride: p.stride, padding: p.padding, hb, xcols,
        })
    }

    /// Enabled cycles the unit needs at full rate (its cycle model): one column per cycle, every
    /// row band `xcols` columns, plus the pipeline (read, landing register, shift, load, n
    /// candidate ends, output) and the finishing countdown. Equal to the simulation's count at divider 1 (tested).
    ///
    /// Three enabled cycles before the first read fill the row-mask pipeline; a one-column band
    /// (`xcols` = 1) costs two enabled cycles, its read and a cycle in which the next band's row
    /// masks register (the last band's is not waited for).
    pub fn enabled_cycles(&self, u: &PoolArray) -> u64 {
        enabled_cycles(u, self.c as u64, self.ho as u64, self.xcols as u64)
    }
}

/// [`PoolPlan::enabled_cycles`] of a run of `c` channels, `ho` output rows and `xcols` columns
/// per row band (also what the program's cycle model reads from the pooling registers).
pub fn enabled_cycles(u: &PoolArray, c: u64, ho: u64, xcols: u64) -> u64 {
    let bands = c * ho;
    let reads = if xcols == 1 { (2 * bands).saturating_sub(1) } else { bands * xcols };
    reads + u.cols_per_update as u64 + 16
}

/// Padded columns the unit reads per row band for `wo` output columns of window width `kw` and
/// horizontal stride `sw`: the columns the windows cover, rounded up to whole updates of n.
pub fn columns_per_band(u: &PoolArray, wo: usize, kw: usize, sw: usize) -> usize {
    columns_per_band_n(u.cols_per_update, wo, kw, sw)
}

/// [`columns_per_band`] for `n` columns per update.
pub fn columns_per_band_n(n: usize, wo: usize, kw: usize, sw: usize) -> usize {
    ((wo - 1) * sw + kw).div_ceil(n) * n
}
