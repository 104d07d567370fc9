#!/usr/bin/env python3
"""How ONNX Runtime (CPU, x86-64) adds two quantized int8 tensors, measured: which float32
pipeline accelgen's golden model must reproduce for an element-wise Add (issue #30,
docs/arithmetic.md). Run from .venv: `.venv/bin/python testbenches/ort_add.py [--write DIR]`.

Two ways ONNX Runtime runs a quantized Add:
1. fused, QLinearAdd (com.microsoft; what its QDQ transformer makes of DequantizeLinear ->
   Add -> QuantizeLinear): candidate float32 models of its kernel below, one of them must
   equal it on every element of random tensors, scales and zero points;
2. unfused (DequantizeLinear, a float32 Add, QuantizeLinear): each dequantized as
   f32(q - zp) * scale, added in float32, quantized as round_half_even(f32(sum / scale)) + zp,
   saturated.

With --write DIR it also writes the vectors the Rust golden model is tested on
(`add_vectors.npy`, int32 rows `a, b, bits(sa), za, bits(sb), zb, bits(sc), zc, fused, unfused`:
the operands, the parameters (scales as their float32 bit patterns) and ONNX Runtime's output of
each way), for every element where a float32 model below differs from ONNX Runtime, the first 8 of
each set where the two ways differ, and the first 32 of every 16th set.
"""
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

F = np.float32
D = np.float64
N = 4096


def session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def qlinear_add_session():
    """One QLinearAdd whose scales and zero points are graph inputs, so one session serves
    every parameter set."""
    names = [("a", TensorProto.INT8, [N]), ("sa", TensorProto.FLOAT, []), ("za", TensorProto.INT8, []),
             ("b", TensorProto.INT8, [N]), ("sb", TensorProto.FLOAT, []), ("zb", TensorProto.INT8, []),
             ("sc", TensorProto.FLOAT, []), ("zc", TensorProto.INT8, [])]
    ins = [helper.make_tensor_value_info(n, t, s) for n, t, s in names]
    node = helper.make_node("QLinearAdd", [n for n, _, _ in names], ["c"], domain="com.microsoft")
    g = helper.make_graph([node], "qladd", ins, [helper.make_tensor_value_info("c", TensorProto.INT8, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return session(m)


def unfused_session():
    """DequantizeLinear twice, Add, QuantizeLinear, with graph-input scales (ONNX Runtime's QDQ
    fusion needs constant scales, so it leaves these nodes as they are)."""
    names = [("a", TensorProto.INT8, [N]), ("sa", TensorProto.FLOAT, []), ("za", TensorProto.INT8, []),
             ("b", TensorProto.INT8, [N]), ("sb", TensorProto.FLOAT, []), ("zb", TensorProto.INT8, []),
             ("sc", TensorProto.FLOAT, []), ("zc", TensorProto.INT8, [])]
    ins = [helper.make_tensor_value_info(n, t, s) for n, t, s in names]
    nodes = [helper.make_node("DequantizeLinear", ["a", "sa", "za"], ["fa"]),
             helper.make_node("DequantizeLinear", ["b", "sb", "zb"], ["fb"]),
             helper.make_node("Add", ["fa", "fb"], ["fc"]),
             helper.make_node("QuantizeLinear", ["fc", "sc", "zc"], ["c"])]
    g = helper.make_graph(nodes, "dqaddq", ins, [helper.make_tensor_value_info("c", TensorProto.INT8, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def f32(x):
    return np.asarray(x, D).astype(F)


def fma32(x, y, z):
    """float32 fused multiply-add, rounded once: x*y is exact in float64 (24 + 24 bits); the sum
    is split into float64 s and its exact error e (Knuth's TwoSum), and the rounding of s to
    float32 is corrected where s lies exactly halfway between two float32 values."""
    p = np.asarray(x, F).astype(D) * np.asarray(y, F).astype(D)
    c = np.broadcast_to(np.asarray(z, F).astype(D), p.shape)
    s = p + c
    bb = s - p
    e = (p - (s - bb)) + (c - bb)
    r = s.astype(F)
    back = r.astype(D)
    up = np.where(back > s, r, np.nextafter(r, F(np.inf)))
    down = np.where(back < s, r, np.nextafter(r, F(-np.inf)))
    tie = (up.astype(D) + down.astype(D)) / 2 == s
    return np.where(tie & (e > 0), up, np.where(tie & (e < 0), down, r))


def sat(v):
    """_mm256_cvtps_epi32 (round half to even; outside int32 it gives int32's minimum), then the
    saturating packs to int16 and int8."""
    r = np.rint(v.astype(D))
    r = np.where((r >= 2.0 ** 31) | (r < -(2.0 ** 31)), -(2.0 ** 31), r)
    return np.clip(r, -128, 127).astype(np.int64)


def candidates(a, b, sa, za, sb, zb, sc, zc):
    """Float32 models of QLinearAdd's x86 kernels (MLAS qladd): the ratios f32(sa / sc) and
    f32(sb / sc), a fixed part f32(zc) - (rac·za + rbc·zb) in one of the ways a compiler may
    contract it, then per element either two fused multiply-adds (AVX2: b first, then a) or
    multiplies and adds each rounded (SSE2)."""
    rac, rbc = F(F(sa) / F(sc)), F(F(sb) / F(sc))
    fzc = F(zc)
    pa, pb = F(rac * F(za)), F(rbc * F(zb))
    fixed = {
        "plain": F(fzc - F(pa + pb)),
        "fma_a": F(fzc - fma32(rac, F(za), pb)),
        "fma_b": F(fzc - fma32(rbc, F(zb), pa)),
    }
    af, bf = a.astype(F), b.astype(F)
    out = {}
    for name, fx in fixed.items():
        out["avx2/" + name] = sat(fma32(af, rac, fma32(bf, rbc, fx)))
        out["sse2/" + name] = sat(F(F(fx + F(af * rac)) + F(bf * rbc)))
    va, vb = F(F(sa) * (a.astype(np.int64) - za).astype(F)), F(F(sb) * (b.astype(np.int64) - zb).astype(F))
    out["raw"] = sat(F(F(va + vb) / F(sc)) + F(zc))
    return out


def unfused_model(a, b, sa, za, sb, zb, sc, zc):
    da = F((a.astype(np.int64) - za).astype(F) * F(sa))
    db = F((b.astype(np.int64) - zb).astype(F) * F(sb))
    q = F(F(da + db) / F(sc))
    return np.clip(np.rint(q.astype(D)) + zc, -128, 127).astype(np.int64)


def params(rng, k):
    """Scales log-uniform over 2^-12..2^1, ratios within what quantize_static produces and
    beyond; zero points anywhere in int8; every 8th set with equal input scales, every 4th
    with dyadic ratios of few bits (many exact halves: the tie rule shows)."""
    if k % 16 == 3:
        sa = F(2.0 ** rng.uniform(-4, 0))
        sb = F(2.0 ** rng.uniform(-4, 0))
        sc = F(max(sa, sb) * 2.0 ** -rng.uniform(20, 26))
        za, zb, zc = (int(v) for v in rng.integers(-128, 128, 3))
        return sa, za, sb, zb, sc, zc
    if k % 4 == 1:
        sc = F(2.0 ** int(rng.integers(-10, 0)))
        sa, sb = (F(sc * F(int(rng.integers(1, 64)) / 16.0)) for _ in range(2))
        za, zb, zc = (int(v) for v in rng.integers(-128, 128, 3))
        return sa, za, sb, zb, sc, zc
    sa = F(2.0 ** rng.uniform(-12, 1))
    sb = F(sa if k % 8 == 0 else 2.0 ** rng.uniform(-12, 1))
    sc = F(max(sa, sb) * 2.0 ** rng.uniform(-1, 3))
    za, zb, zc = (int(v) for v in rng.integers(-128, 128, 3))
    return sa, za, sb, zb, sc, zc


def main():
    write = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--write" else None
    rng = np.random.default_rng(30)
    fused, unfused = qlinear_add_session(), unfused_session()
    sets = int(sys.argv[-1]) if sys.argv[-1].isdigit() else 2000
    tally = {}
    unfused_diff = 0
    ways_differ = 0
    rows = []
    for k in range(sets):
        sa, za, sb, zb, sc, zc = params(rng, k)
        a = rng.integers(-128, 128, N).astype(np.int8)
        b = rng.integers(-128, 128, N).astype(np.int8)
        feed = dict(a=a, b=b, sa=np.array(sa, F), za=np.array(za, np.int8), sb=np.array(sb, F),
                    zb=np.array(zb, np.int8), sc=np.array(sc, F), zc=np.array(zc, np.int8))
        got = fused.run(None, feed)[0].astype(np.int64)
        hard = np.zeros(N, bool)
        for name, y in candidates(a, b, sa, za, sb, zb, sc, zc).items():
            tally[name] = tally.get(name, 0) + int((y != got).sum())
            hard |= y != got
        got_u = unfused.run(None, feed)[0].astype(np.int64)
        unfused_diff += int((unfused_model(a, b, sa, za, sb, zb, sc, zc) != got_u).sum())
        ways_differ += int((got != got_u).sum())
        # the fixture: every element where a candidate model differs from ONNX Runtime, the
        # first 16 elements of every set where the two ways differ, the first 64 of every 16th set
        hard[np.flatnonzero(got != got_u)[:8]] = True
        if k % 16 == 0:
            hard[:32] = True
        bits = [int(v) for v in np.array([sa, sb, sc], F).view(np.int32)]
        for i in np.flatnonzero(hard):
            rows.append([int(a[i]), int(b[i]), bits[0], za, bits[1], zb, bits[2], zc, int(got[i]), int(got_u[i])])
    total = sets * N
    print(f"onnxruntime {ort.__version__}, {total} elements of {sets} random parameter sets")
    print("QLinearAdd against each float32 model (elements that differ):")
    for name, d in sorted(tally.items(), key=lambda t: t[1]):
        print(f"  {name:14s} {d}")
    print(f"DequantizeLinear -> Add -> QuantizeLinear against its float32 model: {unfused_diff} differ")
    print(f"QLinearAdd against DequantizeLinear -> Add -> QuantizeLinear: {ways_differ} differ")
    if write:
        np.save(f"{write}/add_vectors.npy", np.array(rows, np.int32))
        print(f"wrote {write}/add_vectors.npy: {len(rows)} elements")


if __name__ == "__main__":
    main()
