#!/usr/bin/env python3
"""How ONNX Runtime (CPU, x86-64) averages int8 windows, measured: why accelgen imports an average
pooling only when its window is the whole map (docs/onnx.md). Run from .venv:
`.venv/bin/python testbenches/ort_avgpool.py`.

1. QLinearAveragePool on random windows, strides, pads, count_include_pad and scales equals a
   float32 model of its kernel: each x dequantized as f32(x_scale * (x - x_zp)), summed in window
   order in float32, divided by the count in float32, then nearbyintf(y / y_scale + y_zp).
2. With the output quantized at the input's scale (what quantize_static's QDQ form does for an
   AveragePool), that float pipeline differs from the exact average rounded half to even on a
   share of 2x2 windows: the ties S/4 = k + 1/2 fall either way with float32's rounding.
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F = np.float32


def model(xs, xz, ys, yz, kernel, strides, pads, cip, shape):
    inits = [numpy_helper.from_array(np.array(v, t), n) for v, t, n in
             [(xs, F, "xs"), (xz, np.int8, "xz"), (ys, F, "ys"), (yz, np.int8, "yz")]]
    node = helper.make_node("QLinearAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft",
                            kernel_shape=kernel, strides=strides, pads=pads, count_include_pad=cip)
    g = helper.make_graph([node], "avg", [helper.make_tensor_value_info("x", TensorProto.INT8, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def windows(h, w, kernel, strides, pads):
    ho = (h + pads[0] + pads[2] - kernel[0]) // strides[0] + 1
    wo = (w + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * strides[0] - pads[0], j * strides[1] - pads[1]
            yield i, j, range(max(r0, 0), min(r0 + kernel[0], h)), range(max(c0, 0), min(c0 + kernel[1], w))


def float_model(x, xs, xz, ys, yz, kernel, strides, pads, cip, out_shape):
    deq = (F(xs) * (x.astype(np.int64) - xz).astype(F)).astype(F)
    y = np.zeros(out_shape, np.int64)
    for i, j, rows, cols in windows(x.shape[2], x.shape[3], kernel, strides, pads):
        acc = np.zeros(x.shape[:2], F)
        for a in rows:
            for b in cols:
                acc = (acc + deq[:, :, a, b]).astype(F)
        n = kernel[0] * kernel[1] if cip else len(rows) * len(cols)
        v = ((acc / F(n)).astype(F) / F(ys)).astype(F)
        y[:, :, i, j] = np.clip(np.rint((v + F(yz)).astype(F)), -128, 127)
    return y


def exact_model(x, xs, xz, ys, yz, kernel, strides, pads, cip, out_shape):
    d = x.astype(np.int64) - xz
    y = np.zeros(out_shape, np.int64)
    for i, j, rows, cols in windows(x.shape[2], x.shape[3], kernel, strides, pads):
        s = d[:, :, rows.start:rows.stop, cols.start:cols.stop].sum(axis=(2, 3))
        n = kernel[0] * kernel[1] if cip else len(rows) * len(cols)
        y[:, :, i, j] = np.clip(np.rint(s * (xs / (ys * n))) + yz, -128, 127)
    return y


def main():
    rng = np.random.default_rng(1)
    total = differ = 0
    for t in range(600):
        kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        strides = [int(rng.integers(1, 3))] * 2
        pads = [0] * 4 if t % 2 else [int(rng.integers(0, kernel[a % 2])) for a in range(4)]
        cip = int(t % 3 == 0)
        xs = float(F(rng.uniform(0.001, 0.1)))
        ys = float(F(xs * rng.choice([1, 1 / 3, 0.25, 0.37, 0.2])))
        xz, yz = int(rng.integers(-20, 20)), int(rng.integers(-20, 20))
        x = rng.integers(-128, 128, (1, 4, 7, 7)).astype(np.int8)
        got = model(xs, xz, ys, yz, kernel, strides, pads, cip, list(x.shape)).run(None, {"x": x})[0].astype(np.int64)
        differ += int((float_model(x, xs, xz, ys, yz, kernel, strides, pads, cip, got.shape) != got).sum())
        total += got.size
    print(f"QLinearAveragePool vs the float32 model of its kernel: {differ} of {total} elements differ")
    total = differ = 0
    for _ in range(200):
        xs = float(F(rng.uniform(0.001, 0.1)))
        xz = int(rng.integers(-128, 0))
        x = rng.integers(-128, 128, (1, 8, 8, 8)).astype(np.int8)
        got = model(xs, xz, xs, xz, [2, 2], [2, 2], [0] * 4, 0, list(x.shape)).run(None, {"x": x})[0].astype(np.int64)
        differ += int((exact_model(x, xs, xz, xs, xz, [2, 2], [2, 2], [0] * 4, 0, got.shape) != got).sum())
        total += got.size
    print(f"2x2/2 windows at the input's scale: the exact average differs from ONNX Runtime on {differ} of {total} "
          f"elements ({100 * differ / total:.1f}%)")


if __name__ == "__main__":
    main()
