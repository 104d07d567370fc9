#!/usr/bin/env python3
"""Independent vectors for the golden model, made with numpy.

The reference here is deliberately built from numpy's own facilities rather than from the Rust
loops: `np.pad` for padding, `sliding_window_view` for the windows, `np.tensordot` for the
convolution sum, reductions over window axes for pooling, and numpy's `floor_divide` and `>>` on
int64 for the rounding rules. Each case is written as a case file with an "expected" tensor into
testbenches/vectors/; two cases store their tensors as .npy files.

Run from the repository root:  python3 testbenches/gen_vectors.py
The output is deterministic (seeded); a Rust test checks the golden model against every file.
"""
import json
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")
SEED = 2026
rng = np.random.default_rng(SEED)


def conv_ref(x, w, b, stride, pad):
    """x [C,H,W] int8, w [K,C,R,S] int8 -> int32 [K,Ho,Wo] (32-bit wrap)."""
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    win = sliding_window_view(xp, w.shape[2:], axis=(1, 2))  # [C, H', W', R, S]
    win = win[:, :: stride[0], :: stride[1]]
    acc = np.tensordot(w.astype(np.int64), win, axes=([1, 2, 3], [0, 3, 4]))  # [K, Ho, Wo]
    if b is not None:
        acc = acc + b.astype(np.int64)[:, None, None]
    return acc.astype(np.int32)  # wraps modulo 2^32 like the hardware accumulator


def requant_ref(acc, multiplier, shift, zero_point, relu):
    p = acc.astype(np.int64) * np.int64(multiplier)
    if shift > 0:
        p = (p + (np.int64(1) << np.int64(shift - 1))) >> np.int64(shift)
    y = np.clip(p + zero_point, -128, 127)
    if relu:
        y = np.maximum(y, zero_point)
    return y.astype(np.int8)


def pool_ref(x, mode, kernel, stride, pad):
    if mode == "maxpool2d":
        fill = np.iinfo(np.int64).min  # padded positions never win
    else:
        fill = 0  # padded positions count as zeros
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])),
                constant_values=fill)
    win = sliding_window_view(xp, kernel, axis=(1, 2))[:, :: stride[0], :: stride[1]]
    if mode == "maxpool2d":
        return win.max(axis=(3, 4)).astype(np.int8)
    count = kernel[0] * kernel[1]
    s = win.sum(axis=(3, 4))
    return np.floor_divide(2 * s + count, 2 * count).astype(np.int8)


def rand8(shape, lo=-128, hi=127):
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64).astype(np.int8)


def tensor(a):
    return {"shape": list(a.shape), "data": [int(v) for v in a.reshape(-1)]}


cases = {}


def conv_case(name, c, h, w, k, r, s, stride=(1, 1), pad=(0, 0), bias=False, requant=None,
              xlo=-128, xhi=127, npy=False, note=""):
    x = rand8((c, h, w), xlo, xhi)
    wt = rand8((k, c, r, s))
    b = rng.integers(-5000, 5000, size=(k,), endpoint=True).astype(np.int32) if bias else None
    out = conv_ref(x, wt, b, stride, pad)
    case = {"op": "conv2d"}
    if npy:
        np.save(os.path.join(OUT, f"{name}.input.npy"), x)
        np.save(os.path.join(OUT, f"{name}.weight.npy"), wt)
        case["input"] = f"{name}.input.npy"
        case["weight"] = f"{name}.weight.npy"
    else:
        case["input"] = tensor(x)
        case["weight"] = tensor(wt)
    if b is not None:
        case["bias"] = tensor(b)
    case["stride"] = list(stride)
    case["padding"] = list(pad)
    if requant is not None:
        mult, shift, zp, relu = requant
        case["requant"] = {"multiplier": mult, "shift": shift, "zero_point": zp, "relu": relu}
        out = requant_ref(out, mult, shift, zp, relu)
    case["expected"] = tensor(out)
    case["_note"] = note
    cases[name] = case


def pool_case(name, mode, c, h, w, kernel, stride=None, pad=(0, 0), xlo=-128, xhi=127, note=""):
    x = rand8((c, h, w), xlo, xhi)
    st = kernel if stride is None else stride
    out = pool_ref(x, mode, kernel, st, pad)
    case = {"op": mode, "input": tensor(x), "kernel": list(kernel)}
    if stride is not None:
        case["stride"] = list(stride)
    case["padding"] = list(pad)
    case["expected"] = tensor(out)
    case["_note"] = note
    cases[name] = case


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json") or f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    conv_case("conv_1ch_3x3_5x5", 1, 5, 5, 1, 3, 3, note="single channel, valid convolution")
    conv_case("conv_3ch_4k_3x3_pad1_6x7", 3, 6, 7, 4, 3, 3, pad=(1, 1), note="non-square map, same padding")
    conv_case("conv_2ch_3k_3x3_stride2_pad1", 2, 9, 8, 3, 3, 3, stride=(2, 2), pad=(1, 1), note="stride 2 with padding")
    conv_case("conv_rect_1x3_stride_1x2", 2, 5, 9, 3, 1, 3, stride=(1, 2), note="rectangular kernel, rectangular stride")
    conv_case("conv_rect_3x1_pad_1x0", 3, 6, 4, 2, 3, 1, pad=(1, 0), note="rectangular kernel, rectangular padding")
    conv_case("conv_1x1_8ch_5k", 8, 4, 4, 5, 1, 1, note="pointwise convolution")
    conv_case("conv_bias_4ch_6k_3x3", 4, 6, 6, 6, 3, 3, bias=True, note="int32 bias")
    conv_case("conv_output_1x1", 3, 3, 3, 2, 3, 3, bias=True, note="kernel covers the whole map")
    conv_case("conv_stride3_kernel2", 2, 8, 8, 2, 2, 2, stride=(3, 3), note="stride larger than the kernel")
    conv_case("conv_pad2_5x5", 2, 5, 6, 2, 5, 5, pad=(2, 2), note="padding 2, 5x5 kernel")
    conv_case("conv_requant_plain", 4, 6, 6, 3, 3, 3, bias=True, requant=(1200, 16, 3, False), note="requantization, no relu")
    conv_case("conv_requant_relu_zp_neg", 4, 6, 6, 3, 3, 3, bias=True, requant=(900, 15, -5, True), note="relu clamps at zero_point -5")
    conv_case("conv_requant_relu_zp_pos", 3, 5, 5, 4, 3, 3, requant=(700, 14, 20, True), note="relu clamps at zero_point 20")
    conv_case("conv_requant_saturate_high", 4, 5, 5, 2, 3, 3, requant=(32767, 8, 0, False), xlo=60, xhi=127, note="saturates at 127")
    conv_case("conv_requant_saturate_both", 4, 5, 5, 3, 3, 3, requant=(30000, 10, 0, False), note="saturates both ways")
    conv_case("conv_requant_shift0", 1, 4, 4, 2, 2, 2, requant=(1, 0, -3, False), xlo=-3, xhi=3, note="shift 0 has no rounding term")
    conv_case("conv_requant_shift47", 8, 4, 4, 2, 3, 3, requant=(32767, 47, 7, False), note="largest shift")
    conv_case("conv_extreme_values", 16, 3, 3, 2, 3, 3, xlo=-128, xhi=-128, note="all inputs -128")
    conv_case("conv_npy_tensors", 3, 5, 6, 2, 3, 3, pad=(1, 1), npy=True, note="tensors stored as .npy files")
    pool_case("maxpool_2x2_s2", "maxpool2d", 3, 8, 8, (2, 2), note="classic 2x2/2")
    pool_case("maxpool_3x3_s2_overlap", "maxpool2d", 2, 9, 11, (3, 3), (2, 2), note="overlapping windows")
    pool_case("maxpool_3x3_s1_pad1", "maxpool2d", 2, 6, 7, (3, 3), (1, 1), (1, 1), xlo=-128, xhi=-100, note="padding never wins")
    pool_case("maxpool_rect_2x3_s_2x1", "maxpool2d", 1, 7, 9, (2, 3), (2, 1), note="rectangular window and stride")
    pool_case("maxpool_default_stride", "maxpool2d", 2, 6, 6, (3, 3), note="stride defaults to the kernel")
    pool_case("avgpool_2x2_s2", "avgpool2d", 3, 8, 8, (2, 2), note="classic 2x2/2")
    pool_case("avgpool_3x3_s2_pad1", "avgpool2d", 2, 7, 9, (3, 3), (2, 2), (1, 1), note="overlap and padding counted as zeros")
    pool_case("avgpool_3x3_s1", "avgpool2d", 2, 6, 5, (3, 3), (1, 1), note="maximal overlap")
    pool_case("avgpool_rect_3x2_s_1x2_pad", "avgpool2d", 1, 6, 8, (3, 2), (1, 2), (1, 1), note="rectangular, padded")
    pool_case("avgpool_ties_negative", "avgpool2d", 1, 4, 8, (1, 2), (1, 2), xlo=-3, xhi=3, note="half-up rounding of negative ties")
    pool_case("avgpool_extremes", "avgpool2d", 2, 4, 4, (2, 2), xlo=126, xhi=127, note="near int8 max")
    pool_case("avgpool_extremes_low", "avgpool2d", 2, 4, 4, (2, 2), xlo=-128, xhi=-127, note="near int8 min")
    pool_case("maxpool_window1", "maxpool2d", 2, 3, 4, (1, 1), note="window 1 is the identity")
    for name, case in cases.items():
        note = case.pop("_note")
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(case, f, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: {note}")
    print(f"{len(cases)} cases, numpy {np.__version__}, seed {SEED}", file=sys.stderr)


if __name__ == "__main__":
    main()
