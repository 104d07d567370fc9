#!/usr/bin/env python3
"""ONNX fixtures for accelgen's importer: small CNNs quantized by ONNX Runtime's own tool
(onnxruntime.quantization.quantize_static) in each form it emits, with inputs and ONNX Runtime's
outputs as .npy files. Run by `make vectors` in .venv (needs onnx, onnxruntime, numpy,
scikit-learn); the test suite reads the committed files and needs no Python.

Writes testbenches/onnx/<name>.onnx, <name>.input.npy (the model's input, float32) and
<name>.expected.npy (what ONNX Runtime's CPU provider computes from it with exact int8 kernels:
see save_digits for why the QOperator form of the same quantization is the one run).

The models:
- small_{qdq,qdq_pc,qdq_u8,qop}: Conv 3x3 pad 1 + Relu, MaxPool 2x2, Conv 3x3 stride 2 + Relu,
  Flatten, Gemm; random weights, calibrated on random data. qdq: ONNX Runtime's defaults (QDQ,
  int8 activations, per-tensor weights); qdq_pc: per_channel=True; qdq_u8: uint8 activations
  (with reduce_range=True); qop: QuantFormat.QOperator (QLinearConv, QGemm).
- small_dw_{qop,qdq,qdq_pc}: depthwise (group = channels), pointwise and grouped (group 2)
  convolutions, random weights (save_depthwise).
- small_res_{qop,qdq,qdq_pc}: two residual blocks as ResNet-8's (an identity shortcut, and a
  stride-2 one through a 1x1 conv), Add then Relu, global average pooling, random weights
  (save_residual).
- digits_qdq: a CNN trained here in numpy on scikit-learn's digits (a real data set), quantized
  with ONNX Runtime's defaults; its held-out images, labels and ONNX Runtime's outputs.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")


def float_cnn(rng, cin=1, hw=8, c1=4, c2=8, classes=10, same=False, gap=False, avg=False):
    """Conv(cin->c1, 3x3, pad 1) Relu MaxPool(2) Conv(c1->c2, 3x3, stride 2, pad 1) Relu Flatten Gemm.
    With `same`, asymmetric padding as Keras/TensorFlow exports have it: conv1's pads are
    [top 1, left 0, bottom 1, right 2], pool1 is a 3x3/2 MaxPool with auto_pad SAME_UPPER (pads
    [0, 0, 1, 1] on the 8x8 map) and conv2 is auto_pad SAME_UPPER (pads [0, 0, 1, 1]).
    With `gap`, a GlobalAveragePool before Flatten; with `avg`, an AveragePool whose window is
    the whole 2x2 map (how Keras and MLPerf Tiny's models export their final average pooling),
    and a Reshape to [1, -1] in place of the Flatten."""
    gap = gap or avg
    w1 = (rng.standard_normal((c1, cin, 3, 3)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(c1) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((c2, c1, 3, 3)) * 0.3).astype(np.float32)
    b2 = (rng.standard_normal(c2) * 0.1).astype(np.float32)
    h2 = 1 if gap else (hw // 2 + 1) // 2
    wf = (rng.standard_normal((c2 * h2 * h2, classes)) * 0.3).astype(np.float32)
    bf = (rng.standard_normal(classes) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "conv1.w"), (b1, "conv1.b"), (w2, "conv2.w"), (b2, "conv2.b"), (wf, "fc.w"), (bf, "fc.b")]]
    if avg:
        inits += [numpy_helper.from_array(np.array(v, np.float32), n) for v, n in [(0.0, "clip.lo"), (0.5, "clip.hi")]]
        inits.append(numpy_helper.from_array(np.array([1, -1], np.int64), "flat.shape"))
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1",
                         pads=[1, 0, 1, 2] if same else [1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", strides=[2, 2],
                         **(dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER") if same else dict(kernel_shape=[2, 2]))),
        helper.make_node("Conv", ["p1", "conv2.w", "conv2.b"], ["c2"], name="conv2",
                         strides=[2, 2], kernel_shape=[3, 3],
                         **(dict(auto_pad="SAME_UPPER") if same else dict(pads=[1, 1, 1, 1]))),
        # With `avg`, a Clip(0, 0.5) (ReLU6's form, a bound the data passes) that quantize_static
        # removes, quantizing conv2's output over exactly [0, 0.5]: the saturation clips.
        helper.make_node("Clip", ["c2", "clip.lo", "clip.hi"], ["r2"], name="clip2") if avg
        else helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        *([helper.make_node("AveragePool", ["r2"], ["g2"], name="avg", kernel_shape=[2, 2], count_include_pad=1)] if avg
          else [helper.make_node("GlobalAveragePool", ["r2"], ["g2"], name="gap")] if gap else []),
        # With `avg`, PyTorch's x.view(1, -1) (a Reshape to [1, -1]) instead of a Flatten.
        helper.make_node("Reshape", ["g2", "flat.shape"], ["f"], name="flatten") if avg
        else helper.make_node("Flatten", ["g2" if gap else "r2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], name="fc"),
    ]
    return image_model(nodes, "small_cnn", inits, hw, classes, cin)


class Reader(CalibrationDataReader):
    def __init__(self, batches):
        self.it = iter([{"input": b} for b in batches])

    def get_next(self):
        return next(self.it, None)


def quantize(model, calib, **kw):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "f.onnx"), os.path.join(d, "q.onnx")
        onnx.save(model, src)
        quantize_static(src, dst, Reader(calib), **kw)
        return onnx.load(dst)


def run(model, x, exact=False):
    """ONNX Runtime's CPU output; `exact` disables its QDQ s8->u8 rewrite (see save_digits)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    off = ["QDQS8ToU8Transformer"] if exact else []
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"],
                             disabled_optimizers=off)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def save(name, model, x, y):
    """The model, its input and the reference output `y` (ONNX Runtime on the QOperator form of
    the same quantization: exact int8 kernels, see save_digits)."""
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + ".input.npy"), x)
    np.save(os.path.join(OUT, name + ".expected.npy"), y)
    ops = sorted({n.op_type for n in model.graph.node})
    default = np.concatenate([run(model, x[i:i + 1]) for i in range(len(x))])
    print(f"{name}: {x.shape} -> {y.shape} {y.dtype}; ops {', '.join(ops)}; "
          f"ONNX Runtime's default session on this file differs on {int(np.sum(default != y))} of {y.size} outputs")


def im2col(x, k, pad):
    """x [N, C, H, W] -> [N, H*W, C*k*k] for a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.stack([xp[:, :, i:i + h, j:j + w] for i in range(k) for j in range(k)], axis=2)  # N C kk H W
    return cols.transpose(0, 3, 4, 1, 2).reshape(n, h * w, c * k * k)


def train_digits(rng, epochs=40):
    """A small CNN trained on scikit-learn's 8x8 digits with plain numpy (Adam, cross-entropy):
    Conv 1->8 3x3 same + ReLU, MaxPool 2, Conv 8->16 3x3 same + ReLU, MaxPool 2, Gemm 64->10.
    Returns the float ONNX model and the held-out images and labels."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # [N, 1, 8, 8] in [0, 1]
    y = d.target
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    xtr, ytr, xte, yte = x[:1400], y[:1400], x[1400:], y[1400:]
    shapes = {"w1": (8, 1, 3, 3), "b1": (8,), "w2": (16, 8, 3, 3), "b2": (16,), "wf": (64, 10), "bf": (10,)}
    p = {k: (rng.standard_normal(s) * (np.sqrt(2.0 / np.prod(s[1:])) if len(s) > 1 else 0)).astype(np.float32)
         for k, s in shapes.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}

    def forward(xb):
        n = len(xb)
        c1 = im2col(xb, 3, 1) @ p["w1"].reshape(8, -1).T + p["b1"]  # N 64 8
        r1 = np.maximum(c1, 0).reshape(n, 8, 8, 8).transpose(0, 3, 1, 2)  # N 8 8 8
        p1 = r1.reshape(n, 8, 4, 2, 4, 2).max(axis=(3, 5))
        c2 = im2col(p1, 3, 1) @ p["w2"].reshape(16, -1).T + p["b2"]  # N 16 16
        r2 = np.maximum(c2, 0).reshape(n, 4, 4, 16).transpose(0, 3, 1, 2)
        p2 = r2.reshape(n, 16, 2, 2, 2, 2).max(axis=(3, 5))
        f = p2.reshape(n, 64)
        return f @ p["wf"] + p["bf"], (xb, c1, r1, p1, c2, r2, p2, f)

    def backward(logits, cache, yb):
        xb, c1, r1, p1, c2, r2, p2, f = cache
        n = len(yb)
        e = np.exp(logits - logits.max(1, keepdims=True))
        g = e / e.sum(1, keepdims=True)
        g[np.arange(n), yb] -= 1
        g /= n
        grads = {"wf": f.T @ g, "bf": g.sum(0)}
        gp2 = (g @ p["wf"].T).reshape(n, 16, 2, 2)
        mask2 = r2.reshape(n, 16, 2, 2, 2, 2) == p2[:, :, :, None, :, None]
        gr2 = (mask2 * gp2[:, :, :, None, :, None]).reshape(n, 16, 4, 4) * (r2 > 0)
        gc2 = gr2.transpose(0, 2, 3, 1).reshape(n, 16, 16)
        cols2 = im2col(p1, 3, 1)
        grads["w2"] = np.einsum("npo,npk->ok", gc2, cols2).reshape(shapes["w2"])
        grads["b2"] = gc2.sum((0, 1))
        gcols2 = gc2 @ p["w2"].reshape(16, -1)  # n 16 72
        gp1 = np.zeros((n, 8, 6, 6), np.float32)
        gc = gcols2.reshape(n, 4, 4, 8, 3, 3)
        for i in range(3):
            for j in range(3):
                gp1[:, :, i:i + 4, j:j + 4] += gc[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        gp1 = gp1[:, :, 1:5, 1:5]
        mask1 = r1.reshape(n, 8, 4, 2, 4, 2) == p1[:, :, :, None, :, None]
        gr1 = (mask1 * gp1[:, :, :, None, :, None]).reshape(n, 8, 8, 8) * (r1 > 0)
        gc1 = gr1.transpose(0, 2, 3, 1).reshape(n, 64, 8)
        grads["w1"] = np.einsum("npo,npk->ok", gc1, im2col(xb, 3, 1)).reshape(shapes["w1"])
        grads["b1"] = gc1.sum((0, 1))
        return grads

    step = 0
    for _ in range(epochs):
        for i in range(0, len(xtr), 50):
            logits, cache = forward(xtr[i:i + 50])
            grads = backward(logits, cache, ytr[i:i + 50])
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v2[k] = 0.999 * v2[k] + 0.001 * grads[k] ** 2
                p[k] -= (0.01 * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v2[k] / (1 - 0.999 ** step)) + 1e-8)).astype(np.float32)
    acc = float(np.mean(forward(xte)[0].argmax(1) == yte))
    inits = [numpy_helper.from_array(p[k].astype(np.float32), k) for k in p]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc"),
    ]
    graph = helper.make_graph(nodes, "digits_cnn",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, xtr, xte, yte, acc


def save_digits(rng):
    """digits_{qdq,qop}: the trained CNN quantized with ONNX Runtime's defaults (QDQ, int8) and in
    QOperator form, calibrated on the same 200 training images (so both hold the same scales,
    zero points and integers); digits.input.npy holds the held-out images [N, 1, 8, 8],
    digits.labels.npy their labels, digits_<form>.expected.npy ONNX Runtime's outputs for each.

    The reference for both is ONNX Runtime running the QOperator model, whose int8 kernels
    (QLinearConv, QGemm) accumulate exactly. On this machine's CPU (AVX2 without VNNI) ONNX
    Runtime runs the QDQ model either with uint8 activations through vpmaddubsw, whose int16
    pair sums saturate (its default), or, with that rewrite disabled, as float Conv between
    DequantizeLinear and QuantizeLinear: neither is the operators' exact integer arithmetic, and
    the generator prints how many outputs each differs on."""
    model, xtr, xte, yte, acc = train_digits(rng)
    calib = [xtr[i:i + 1] for i in range(200)]
    qdq, qop = quantize(model, calib), quantize(model, calib, quant_format=QuantFormat.QOperator)
    ys = np.concatenate([run(qop, xte[i:i + 1]) for i in range(len(xte))])
    for name, q in [("digits_qdq", qdq), ("digits_qop", qop)]:
        onnx.save(q, os.path.join(OUT, name + ".onnx"))
        np.save(os.path.join(OUT, name + ".expected.npy"), ys)
    np.save(os.path.join(OUT, "digits.input.npy"), xte)
    np.save(os.path.join(OUT, "digits.labels.npy"), yte.astype(np.int64))
    acc_q = float(np.mean(ys.argmax(1) == yte))
    print(f"digits: {len(xte)} held-out images; top-1 float {acc:.4f}, ONNX Runtime int8 {acc_q:.4f}")
    for exact, what in [(False, "default session"), (True, "session without the s8->u8 rewrite")]:
        yq = np.concatenate([run(qdq, xte[i:i + 1], exact) for i in range(len(xte))])
        print(f"digits_qdq, ONNX Runtime's {what}: {int(np.sum(yq != ys))} of {ys.size} outputs differ "
              f"from the exact int8 kernels, top-1 {float(np.mean(yq.argmax(1) == yte)):.4f}")


def image_model(nodes, name, inits, hw, classes, cin=1):
    """A checked opset-13 model of `nodes` from a [1, cin, hw, hw] float input to `classes` logits."""
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, cin, hw, hw])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save_forms(rng, model, prefix):
    """<prefix>_{qop,qdq,qdq_pc}: `model` on 32 random 8x8 images in each form, calibrated on 16
    others; the reference is ONNX Runtime's QOperator run of the same quantization."""
    calib = [rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32) for _ in range(16)]
    x = rng.uniform(-1, 1, (32, 1, 8, 8)).astype(np.float32)
    for form, kw in {"qop": dict(), "qdq": dict(), "qdq_pc": dict(per_channel=True)}.items():
        qop = quantize(model, calib, **dict(kw, quant_format=QuantFormat.QOperator))
        reference = np.concatenate([run(qop, x[i:i + 1]) for i in range(len(x))])
        save(f"{prefix}_{form}", qop if form == "qop" else quantize(model, calib, **kw), x, reference)


def float_dw(rng, hw=8, c=8, classes=10):
    """Depthwise-separable layers (DS-CNN's and MobileNet's blocks, issue #30): Conv(1->c, 3x3,
    pad 1) Relu, a depthwise Conv (group c, 3x3, pad 1) Relu, a pointwise Conv (1x1) Relu, a
    grouped Conv (group 2, 3x3, pad 1) Relu, MaxPool 2, a stride-2 depthwise Conv Relu, Flatten,
    Gemm."""
    h2 = (hw // 2 + 1) // 2
    shapes = [("stem", (c, 1, 3, 3)), ("dw1", (c, 1, 3, 3)), ("pw1", (c, c, 1, 1)), ("grp", (c, c // 2, 3, 3)),
              ("dw2", (c, 1, 3, 3))]
    inits = []
    for name, shape in shapes:
        fan = shape[1] * shape[2] * shape[3]
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(fan)).astype(np.float32), name + ".w"))
        inits.append(numpy_helper.from_array((rng.standard_normal(shape[0]) * 0.1).astype(np.float32), name + ".b"))
    inits.append(numpy_helper.from_array((rng.standard_normal((c * h2 * h2, classes)) * 0.3).astype(np.float32), "fc.w"))
    inits.append(numpy_helper.from_array((rng.standard_normal(classes) * 0.1).astype(np.float32), "fc.b"))
    conv = dict(stem=dict(pads=[1, 1, 1, 1]), dw1=dict(pads=[1, 1, 1, 1], group=c), pw1=dict(),
                grp=dict(pads=[1, 1, 1, 1], group=2), dw2=dict(pads=[1, 1, 1, 1], strides=[2, 2], group=c))
    nodes, x = [], "input"
    for name, _ in shapes:
        if name == "dw2":
            nodes.append(helper.make_node("MaxPool", [x], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
            x = "pool"
        nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"], [name + ".c"], name=name, **conv[name]))
        nodes.append(helper.make_node("Relu", [name + ".c"], [name + ".r"], name=name + ".relu"))
        x = name + ".r"
    nodes.append(helper.make_node("Flatten", [x], ["f"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], name="fc"))
    return image_model(nodes, "small_dw", inits, hw, classes)


def save_depthwise(rng):
    """small_dw_{qop,qdq,qdq_pc}: float_dw on 32 random images in each form; the reference is
    ONNX Runtime's QOperator run of the same quantization (QLinearConv with `group`)."""
    save_forms(rng, float_dw(rng), "small_dw")


def float_res(rng, hw=8, c=8, classes=10):
    """Two residual blocks as ResNet-8 has them (issue #30), small: a stem Conv(1->c, 3x3) Relu;
    block 1: Conv Relu Conv, Add with the stem's output, Relu; block 2: a stride-2 Conv(c->2c)
    Relu, Conv, and a stride-2 1x1 Conv on the shortcut, Add, Relu; GlobalAveragePool, Flatten,
    Gemm."""
    convs = [("stem", 1, c, 3, 1), ("b1c1", c, c, 3, 1), ("b1c2", c, c, 3, 1), ("b2c1", c, 2 * c, 3, 2),
             ("b2c2", 2 * c, 2 * c, 3, 1), ("b2sc", c, 2 * c, 1, 2)]
    inits = []
    for name, ci, co, k, _ in convs:
        w = rng.standard_normal((co, ci, k, k)) / np.sqrt(ci * k * k)
        inits.append(numpy_helper.from_array(w.astype(np.float32), name + ".w"))
        inits.append(numpy_helper.from_array((rng.standard_normal(co) * 0.1).astype(np.float32), name + ".b"))
    inits.append(numpy_helper.from_array((rng.standard_normal((2 * c, classes)) * 0.3).astype(np.float32), "fc.w"))
    inits.append(numpy_helper.from_array((rng.standard_normal(classes) * 0.1).astype(np.float32), "fc.b"))

    def conv(name, x, relu):
        _, _, _, k, st = next(v for v in convs if v[0] == name)
        out = [helper.make_node("Conv", [x, name + ".w", name + ".b"], [name + ".c"], name=name,
                                strides=[st, st], pads=[k // 2] * 4)]
        if relu:
            out.append(helper.make_node("Relu", [name + ".c"], [name + ".r"], name=name + ".relu"))
        return out, name + (".r" if relu else ".c")

    nodes = []
    for name, x, relu in [("stem", "input", True), ("b1c1", "stem.r", True), ("b1c2", "b1c1.r", False)]:
        ns, _ = conv(name, x, relu)
        nodes += ns
    nodes += [helper.make_node("Add", ["b1c2.c", "stem.r"], ["b1.sum"], name="b1add"),
              helper.make_node("Relu", ["b1.sum"], ["b1.r"], name="b1relu")]
    for name, x, relu in [("b2c1", "b1.r", True), ("b2c2", "b2c1.r", False), ("b2sc", "b1.r", False)]:
        ns, _ = conv(name, x, relu)
        nodes += ns
    nodes += [helper.make_node("Add", ["b2c2.c", "b2sc.c"], ["b2.sum"], name="b2add"),
              helper.make_node("Relu", ["b2.sum"], ["b2.r"], name="b2relu"),
              helper.make_node("GlobalAveragePool", ["b2.r"], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["f"], name="flatten", axis=1),
              helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], name="fc")]
    return image_model(nodes, "small_res", inits, hw, classes)


def save_residual(rng):
    """small_res_{qop,qdq,qdq_pc}: float_res on 32 random images in each form; the reference is
    ONNX Runtime's QOperator run of the same quantization (QLinearAdd)."""
    save_forms(rng, float_res(rng), "small_res")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2026)
    model = float_cnn(rng)
    calib = [rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32) for _ in range(16)]
    x = rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32)
    forms = {
        "small_qdq": dict(),
        "small_qdq_pc": dict(per_channel=True),
        # uint8 activations with 7-bit weights, ONNX Runtime's remedy for the u8s8 saturation.
        "small_qdq_u8": dict(activation_type=QuantType.QUInt8, reduce_range=True),
        "small_qop": dict(quant_format=QuantFormat.QOperator),
    }
    for name, kw in forms.items():
        reference = run(quantize(model, calib, **dict(kw, quant_format=QuantFormat.QOperator)), x)
        save(name, quantize(model, calib, **kw), x, reference)
    save_digits(np.random.default_rng(8))
    # Asymmetric padding (explicit pads and auto_pad SAME_UPPER), per-channel scales.
    rng = np.random.default_rng(31)
    model = float_cnn(rng, same=True)
    calib = [rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32) for _ in range(16)]
    x = rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32)
    reference = run(quantize(model, calib, per_channel=True, quant_format=QuantFormat.QOperator), x)
    save("small_same_pc", quantize(model, calib, per_channel=True), x, reference)
    # Global average pooling (QLinearGlobalAveragePool in the QOperator form).
    rng = np.random.default_rng(47)
    model = float_cnn(rng, gap=True)
    calib = [rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32) for _ in range(16)]
    x = rng.uniform(-1, 1, (64, 1, 8, 8)).astype(np.float32)
    qop = quantize(model, calib, quant_format=QuantFormat.QOperator)
    reference = np.concatenate([run(qop, x[i:i + 1]) for i in range(len(x))])
    save("small_gap_qop", qop, x, reference)
    save("small_gap_qdq", quantize(model, calib), x, reference)
    # AveragePool with the whole map as its window (QLinearAveragePool in the QOperator form),
    # which ONNX Runtime averages exactly (its global-pooling kernel); other windows it averages
    # in float32 and the importer refuses them (docs/onnx.md).
    rng = np.random.default_rng(53)
    model = float_cnn(rng, avg=True)
    calib = [rng.uniform(-1, 1, (1, 1, 8, 8)).astype(np.float32) for _ in range(16)]
    x = rng.uniform(-1, 1, (64, 1, 8, 8)).astype(np.float32)
    qop = quantize(model, calib, quant_format=QuantFormat.QOperator)
    save("small_avg_qop", qop, x, np.concatenate([run(qop, x[i:i + 1]) for i in range(len(x))]))
    # The QDQ form quantizes the average with its input's scale and zero point (and so the fully
    # connected layer's bias at another scale); its reference is the QOperator model (exact int8
    # kernels) given the QDQ form's quantization.
    qdq = quantize(model, calib)
    same_out = with_quantization_of(qop, qdq)
    save("small_avg_qdq", qdq, x, np.concatenate([run(same_out, x[i:i + 1]) for i in range(len(x))]))
    save_integer_matmul(np.random.default_rng(59))
    save_depthwise(np.random.default_rng(61))
    save_residual(np.random.default_rng(67))


def save_integer_matmul(rng):
    """int_matmul: an integer model as ONNX Runtime's quantize_dynamic leaves its MatMuls, int8
    [1, 2, 3, 2] -> Flatten -> MatMulInteger (B int8 [12, 5], a_zero_point 3, b_zero_point 0)
    -> int32 [1, 5], on 16 random inputs; ONNX Runtime's outputs (exact integer sums)."""
    b = rng.integers(-128, 128, (12, 5)).astype(np.int8)
    inits = [numpy_helper.from_array(b, "B"), numpy_helper.from_array(np.array(3, np.int8), "a_zp"),
             numpy_helper.from_array(np.array(0, np.int8), "b_zp")]
    nodes = [helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=1),
             helper.make_node("MatMulInteger", ["f", "B", "a_zp", "b_zp"], ["y"], name="fc")]
    graph = helper.make_graph(nodes, "int_matmul", [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 2, 3, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    x = rng.integers(-128, 128, (16, 2, 3, 2)).astype(np.int8)
    y = np.concatenate([run(model, x[i:i + 1]) for i in range(len(x))])
    save("int_matmul", model, x, y)


def with_quantization_of(qop, qdq):
    """A copy of a QOperator model that takes every initializer the QDQ model has under the same
    name (weights, biases, scales) and whose QLinearAveragePool writes with its input's scale and
    zero point, as the QDQ form of the same quantization does."""
    m = onnx.ModelProto()
    m.CopyFrom(qop)
    inits = {t.name: t for t in m.graph.initializer}
    for t in qdq.graph.initializer:
        if t.name in inits:
            inits[t.name].CopyFrom(t)
    for n in m.graph.node:
        if n.op_type == "QLinearAveragePool":
            for src, dst in [(1, 3), (2, 4)]:
                inits[n.input[dst]].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(inits[n.input[src]]), n.input[dst]))
    return m


if __name__ == "__main__":
    sys.exit(main())
