//! A convolution layer's geometry on the conv engine ([`ConvPlan`]): output size, channel tiles,
//! passes and MACs, the checks that a whole layer fits the engine's buffers in one run (the
//! standalone engine's testbench), and the engine's buffer images (first cache and weight buffer)
//! in the order the engine reads them (`docs/conv-array.md`).

use accelgen_config::ConvArray;
use accelgen_golden::{conv_output_dims, TensorI8};

/// A layer laid out for one engine: parameter registers and buffer images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    /// Input channels, height, width.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Output height and width.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
    /// Kernel height and width.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride.
    pub stride: [usize; 2],
    /// Padding above and left.
    pub padding: [usize; 2],
    /// Padding below and right (the engine needs no register for it: rows and columns past the
    /// input are padding up to `ho`, `wo`).
    pub pad_end: [usize; 2],
    /// ceil(Cin / R).
    pub ic_tiles: usize,
    /// ceil(Cout / (C·K)).
    pub oc_tiles: usize,
    /// Passes: oc_tiles · ic_tiles · kh · kw.
    pub passes: usize,
    /// Useful multiply-accumulates: Cout · Ho · Wo · Cin · kh · kw.
    pub macs: u64,
    /// The layer requantizes with ONNX Runtime's pipeline (the engine's drain tail is longer);
    /// false from [`ConvPlan::geometry`], set by [`ConvPlan::with_requant`].
    pub ort: bool,
}

fn unsupported(what: &str, need: usize, field: &str, have: usize) -> String {
    format!("this layer needs {what} = {need}, but {field} = {have} in the configuration")
}

impl ConvPlan {
    /// The layer's tiling on the engine, without checking buffer capacities (for cycle estimates
    /// of layers larger than one run; the integrated controller tiles those). [`ConvPlan::fits`]
    /// checks them for a layer run on the engine alone.
    pub fn geometry(
        e: &ConvArray,
        input: &[usize],
        weight: &[usize],
        p: &accelgen_golden::ConvParams,
    ) -> Result<ConvPlan, String> {
        let [cout, ho, wo] = conv_output_dims(input, weight, p)?;
        let (stride, padding, pad_end) = (p.stride, p.padding, p.end());
        let (cin, h, w, kh, kw) = (input[0], input[1], input[2], weight[2], weight[3]);
        let ic_tiles = cin.div_ceil(e.rows);
        let oc_tiles = cout.div_ceil(e.cols * e.kernels);
        let passes = oc_tiles * ic_tiles * kh * kw;
        let macs = (cout * ho * wo * cin * kh * kw) as u64;
        Ok(ConvPlan {
            cin, h, w, cout, ho, wo, kh, kw, stride, padding, pad_end, ic_tiles, oc_tiles, passes, macs, ort: false,
        })
    }

    /// This plan for a layer with requantization `rq` (ONNX Runtime's mode sets `ort`).
    pub fn with_requant(self, rq: Option<&accelgen_golden::Requant>) -> ConvPlan {
        ConvPlan { ort: rq.is_some_and(|q| q.ort.is_some()), ..self }
    }

    /// This tiling, if it fits the engine's buffers and register widths.
    pub fn fits(self, e: &ConvArray) -> Result<ConvPlan, String> {
        let plan = self;
        let padding = plan.padding;
        let ConvPlan { cin: _, h, w, cout: _, ho, wo, ic_tiles, oc_tiles, passes, .. } = plan;
        let per_pass = e.rows * e.cols * e.kernels;
        if ic_tiles * h * w > e.first_cache_depth {
            return Err(unsupported(
                "ceil(Cin/rows)·H·W",
                ic_tiles * h * w,
                "pe_array.first_cache_depth",
                e.first_cache_depth,
            ));
        }
        if passes * per_pass > e.weight_buffer_depth {
            return Err(unsupported(
                "passes·rows·cols·kernels_per_pe weights",
                passes * per_pass,
                "pe_array.weight_buffer_depth",
                e.weight_buffer_depth,
            ));
        }
        if e.kernels * ho * wo > e.acc_buffer_depth {
            return Err(unsupported(
                "kernels_per_pe·Ho·Wo",
                e.kernels * ho * wo,
                "pe_array.acc_buffer_depth",
                e.acc_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels > e.bias_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe",
                oc_tiles * e.kernels,
                "pe_array.bias_buffer_depth",
                e.bias_buffer_depth,
            ));
        }
        if oc_tiles * e.kernels * ho * wo > e.output_buffer_depth {
            return Err(unsupported(
                "ceil(Cout/(cols·kernels_per_pe))·kernels_per_pe·Ho·Wo",
                oc_tiles * e.kernels * ho * wo,
                "pe_array.output_buffer_depth",
                e.output_buffer_depth,
            ));
        }
        for (name, v) in [("H + padding", h + padding[0] + plan.pad_end[0]), ("W + padding", w + padding[1] + plan.pad_end[1])] {
            if v >= 1 << 16 {
                return Err(format!("{name} = {v} must be below 65536"));
            }
        }
        if passes >= 1 << 16 {
            return Err(format!(
                "{passes} passes exceed the engine's 16-bit pass counter"
            ));
        }
        Ok(plan)
    }

    /// Output pixels per pass, Ho·Wo.
    pub fn pixels(&self) -> usize {
        self.ho * self.wo
    }

    /// The first-cache image of bank `r`: channel tile t, row y, column x at (t·H + y)·W + x.
    pub fn bank_image(&self, e: &ConvArray, input: &TensorI8, r: usize) -> Vec<i8> {
        let mut v = Vec::with_capacity(self.ic_tiles * self.h * self.w);
        for t in 0..self.ic_tiles {
            let c = t * e.rows + r;
            for i in 0..self.h * self.w {
                v.push(if c < self.cin { input.data[c * self.h * self.w + i] } else { 0 });
            }
        }
        v
    }

    /// The weight-buffer image: pass (oct, ict, kr, ks), then row r, kernel j, column c
    /// ([`ConvArray::weight_slot`]); PE (r, c) kernel j holds output channel oct·C·K + c·K + j,
    /// input channel ict·R + r (zero outside).
    pub fn weight_image(&self, e: &ConvArray, weight: &TensorI8) -> Vec<i8> {
        let mut v = Vec::with_capacity(self.passes * e.weights_per_pass());
        for oct in 0..self.oc_tiles {
            for ict in 0..self.ic_tiles {
                for kr in 0..self.kh {
                    for ks in 0..self.kw {
                        for r in 0..e.rows {
                            for j in 0..e.kernels {
                                for c in 0..e.cols {
                                    let oc = oct * e.cols * e.kernels + c * e.kernels + j;
                                    let ic = ict * e.rows + r;
                                    v.push(if oc < self.cout && ic < self.cin {
                                        weight.at(&[oc, ic, kr, ks])
                                    } else {
                                        0
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        v
    }
}
