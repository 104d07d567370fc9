//! The network compiler: a network file → the accelerator's instruction stream for the configured
//! hardware, tiling included (patents.md §3: "a compiler turns the model into an instruction set
//! for this chip").
//!
//! External memory layout (byte addresses): the network input at 0, then every layer's weights
//! (in the conv engine's pass order) and biases, then two activation regions used alternately.
//!
//! Per convolution layer: output-channel groups so that a group's weights fit the weight buffer;
//! within a group, output-row bands so that the band's input (with its halo, and with vertical
//! padding written as zero rows by the loader, so bands carry no vertical padding of their own)
//! fits the first cache, and its sums fit the accumulation and output buffers. Per band:
//! `MEM_LOAD` input, `PE_SHAPE`, `PE_KERNEL`, `ACC_TILES`, `ACT_REQUANT`, `RUN`, `SYNC`, `MEM_STORE`;
//! per group first `MEM_LOAD` weights and bias. Per pooling layer: row bands that fit the feature
//! memory, each `POOL_SHAPE`, `POOL_WINDOW`, `POOL_CLOCK` (the planner's divider), `MEM_LOAD`,
//! `RUN`, `SYNC`, `MEM_STORE`. The program ends with `END`. Instructions that repeat a register's
//! value are emitted anyway; dropping them is the compressor's job.

use crate::conv::ConvPlan;
use crate::planner::plan_clock;
use accelgen_config::HwConfig;
use accelgen_formats::{Layer, Network};
use accelgen_golden::PoolMode;
use accelgen_hw::pe::ConvEngineParams;
use accelgen_isa::Instr;

const M_MEM: u64 = 1;
const M_PE: u64 = 2;
const M_ACC: u64 = 4;
const M_ACT: u64 = 8;
const M_POOL: u64 = 16;

fn ins(name: &str, v: &[u64], at: &str) -> Result<Instr, String> {
    Instr::new(name, v).map_err(|e| format!("{at}: {e}"))
}

/// Compiles `net` for `cfg`.
pub fn compile(net: &Network, cfg: &HwConfig) -> Result<Vec<Instr>, String> {
    let e = ConvEngineParams::from_config(&cfg.pe_array);
    let pool_dividers = plan_clock(net, cfg)?;
    let (r, c, k) = (e.rows, e.cols, e.kernels);
    let mut prog = vec![];
    // External memory allocation.
    let input_bytes: usize = net.shapes[0].iter().product();
    let mut next = input_bytes as u64;
    let mut params = vec![];
    for layer in &net.layers {
        if let Layer::Conv(cl) = layer {
            let w: usize = cl.weight.shape.iter().product();
            let b = cl.weight.shape[0] * 4;
            params.push((next, next + w as u64));
            next += (w + b) as u64;
        } else {
            params.push((0, 0));
        }
    }
    let largest = net.shapes.iter().map(|s| s.iter().product::<usize>()).max().unwrap_or(0) as u64;
    let regions = [next, next + largest * 4];
    let mut src = 0u64;
    for (i, layer) in net.layers.iter().enumerate() {
        let at = format!("layers[{i}]");
        let input = &net.shapes[i];
        let (cin, h, w) = (input[0], input[1], input[2]);
        let dst = regions[i % 2];
        match layer {
            Layer::Conv(cl) => {
                let ws = &cl.weight.shape;
                let (cout, kh, kw) = (ws[0], ws[2], ws[3]);
                let [sh, sw] = cl.params.stride;
                let [ph, pw] = cl.params.padding;
                let plan = ConvPlan::geometry(&e, input, ws, cl.params.stride, cl.params.padding)
                    .map_err(|err| format!("{at}: {err}"))?;
                let (ho, wo) = (plan.ho, plan.wo);
                let tap_words = kh * kw * r * c * k; // weights of one input tile of one output tile
                let per_tile_passes = plan.ic_tiles * kh * kw;
                // Output tiles per group when a tile's weights fit whole; else one output tile and
                // input-channel groups that accumulate into the same sums (ACC_TILES keep/drain).
                let (tiles_per_group, icg) = if plan.ic_tiles * tap_words <= e.weight_buffer_depth {
                    ((e.weight_buffer_depth / (plan.ic_tiles * tap_words)).max(1), plan.ic_tiles)
                } else {
                    (1, e.weight_buffer_depth / tap_words)
                };
                if icg == 0 {
                    return Err(format!(
                        "{at}: one input tile of one output tile needs {tap_words} weights, more than pe_array.weight_buffer_depth"
                    ));
                }
                let groups = plan.ic_tiles.div_ceil(icg);
                let wp = w + 2 * pw;
                // Largest band of output rows that fits the buffers.
                let fits = |rows: usize, tiles: usize| {
                    let hin = (rows - 1) * sh + kh;
                    icg * hin * wp <= e.first_cache_depth
                        && k * rows * wo <= e.acc_buffer_depth
                        && tiles * k * rows * wo <= e.output_buffer_depth
                };
                let (wbase, bbase) = params[i];
                let mut tile0 = 0;
                while tile0 < plan.oc_tiles {
                    let tiles = tiles_per_group.min(plan.oc_tiles - tile0);
                    let band = (1..=ho).rev().find(|&b| fits(b, tiles)).ok_or_else(|| {
                        format!("{at}: not even one output row fits the conv engine's buffers")
                    })?;
                    let cout_g = (cout - tile0 * c * k).min(tiles * c * k);
                    let tile_wbase = wbase + (tile0 * plan.ic_tiles * tap_words) as u64;
                    prog.push(ins("MEM_LOAD", &[2, bbase + (tile0 * c * k * 4) as u64, (tiles * c * k) as u64], &at)?);
                    if groups == 1 {
                        prog.push(ins("MEM_LOAD", &[1, tile_wbase, (tiles * per_tile_passes * r * c * k) as u64], &at)?);
                    }
                    let mut y0 = 0;
                    while y0 < ho {
                        let rows = band.min(ho - y0);
                        let hin = (rows - 1) * sh + kh;
                        // Input rows y0·sh − ph … (padded rows are written as zeros by the loader).
                        let first_row = (y0 * sh) as i64 - ph as i64;
                        for g in 0..groups {
                            let gt = icg.min(plan.ic_tiles - g * icg);
                            let cin_g = (cin - g * icg * r).min(gt * r);
                            if groups > 1 {
                                let gw = tile_wbase + (g * icg * tap_words) as u64;
                                prog.push(ins("MEM_LOAD", &[1, gw, (gt * tap_words) as u64], &at)?);
                            }
                            let addr = src as i64 + ((g * icg * r) as i64 * h as i64 + first_row.max(0)) * w as i64;
                            prog.push(ins("MEM_LOAD", &[0, addr as u64, (gt * r * hin * wp) as u64], &at)?);
                            prog.push(ins("PE_SHAPE", &[cin_g as u64, hin as u64, w as u64], &at)?);
                            prog.push(ins("PE_KERNEL", &[cout_g as u64, kh as u64, kw as u64, sh as u64, sw as u64, 0, pw as u64], &at)?);
                            let keep = (g > 0) as u64;
                            let drain = (g + 1 == groups) as u64;
                            prog.push(ins("ACC_TILES", &[gt as u64, tiles as u64, (tiles * gt * kh * kw) as u64, keep, drain], &at)?);
                            let rq = cl.requant.map_or([0, 0, 0, 0, 0], |q| {
                                [1, q.multiplier as u64, q.shift as u64, q.zero_point as u8 as u64, q.relu as u64]
                            });
                            prog.push(ins("ACT_REQUANT", &rq, &at)?);
                            prog.push(ins("RUN", &[M_PE | M_ACC | M_ACT], &at)?);
                            prog.push(ins("SYNC", &[M_PE | M_ACC | M_ACT], &at)?);
                        }
                        let out_bytes = if cl.requant.is_some() { 1 } else { 4 };
                        let oaddr = dst + ((tile0 * c * k * ho + y0) * wo * out_bytes) as u64;
                        prog.push(ins("MEM_STORE", &[0, oaddr, (cout_g * rows * wo) as u64], &at)?);
                        y0 += rows;
                    }
                    tile0 += tiles;
                }
                prog.push(ins("SYNC", &[M_MEM], &at)?);
            }
            Layer::Pool(pl) => {
                let u = accelgen_hw::pool::PoolUnitParams::from_config(&cfg.pooling);
                let [kh, kw] = pl.params.kernel;
                let [sh, sw] = pl.params.stride;
                let [ph, pw] = pl.params.padding;
                let out = &net.shapes[i + 1];
                let (ho, wo) = (out[1], out[2]);
                let divider = pool_dividers.iter().find(|p| p.layer == i).map_or(1, |p| p.divider);
                let fits = |rows: usize| {
                    let hin = (rows - 1) * sh + kh;
                    cin * hin.div_ceil(u.rows_per_read) * (w + 2 * pw) <= u.feature_memory_depth
                };
                let band = (1..=ho).rev().find(|&b| fits(b)).ok_or_else(|| {
                    format!("{at}: not even one output row fits pooling.feature_memory_depth")
                })?;
                let mut y0 = 0;
                while y0 < ho {
                    let rows = band.min(ho - y0);
                    let hin = (rows - 1) * sh + kh;
                    let first_row = (y0 * sh) as i64 - ph as i64;
                    let addr = src as i64 + first_row.max(0) * w as i64;
                    prog.push(ins("POOL_SHAPE", &[cin as u64, hin as u64, w as u64], &at)?);
                    let avg = (pl.mode == PoolMode::Avg) as u64;
                    prog.push(ins("POOL_WINDOW", &[avg, kh as u64, kw as u64, sh as u64, sw as u64, 0, pw as u64], &at)?);
                    prog.push(ins("POOL_CLOCK", &[divider as u64], &at)?);
                    prog.push(ins("MEM_LOAD", &[3, addr as u64, (cin * hin * (w + 2 * pw)) as u64], &at)?);
                    prog.push(ins("RUN", &[M_POOL], &at)?);
                    prog.push(ins("SYNC", &[M_POOL], &at)?);
                    prog.push(ins("MEM_STORE", &[1, dst + (y0 * wo) as u64, (cin * rows * wo) as u64], &at)?);
                    y0 += rows;
                }
            }
        }
        src = dst;
    }
    prog.push(ins("END", &[], "end")?);
    Ok(prog)
}
