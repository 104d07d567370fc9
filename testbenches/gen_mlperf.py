#!/usr/bin/env python3
"""MLPerf Tiny's four reference networks in their published shapes (issue #30), with seeded
random weights (BatchNorm folded away: it changes no shape), quantized by ONNX Runtime's
quantize_static in three forms: QDQ (defaults), QDQ with per_channel=True, and QOperator.
Run by `make vectors` in .venv; the tests read the committed files and need no Python.

Writes testbenches/onnx/mlperf/<net>_<form>.onnx, <net>.input.npy (a few random inputs,
float32) and <net>_<form>.expected.npy: ONNX Runtime's outputs of the QOperator model of the same
quantization (for a QDQ form, given its initializers and its average pooling's quantization),
whose int8 kernels accumulate exactly (gen_onnx.py, save_digits: why the QDQ file's
own session is not the reference). It prints how many outputs ONNX Runtime's default session on
each QDQ file differs on.

The networks (MLPerf Tiny v1.x training scripts, Keras):
- resnet8 (image classification, CIFAR-10 32x32x3): a 3x3 16-channel stem; three stacks of
  16, 32, 64 channels, each Conv 3x3, Relu, Conv 3x3, Add with the shortcut (identity in the
  first, a stride-2 1x1 Conv in the 2nd and 3rd, whose first Conv has stride 2), Relu;
  AveragePool 8x8 (the whole map), Flatten, Gemm 10.
- dscnn (keyword spotting, 49x10x1 features): Conv 10x4 stride 2 'same' to 64, Relu; four
  blocks of a depthwise Conv 3x3 'same' (group 64), Relu, a pointwise Conv 1x1, Relu;
  AveragePool 25x5 (the whole map), Flatten, Gemm 12.
- mobilenet (visual wake words, 96x96x3, MobileNetV1 width 0.25): Conv 3x3 stride 2 to 8, Relu;
  13 depthwise-separable blocks (depthwise 3x3, Relu, pointwise 1x1, Relu) to 16, 32, 32, 64,
  64, 128, 128 x5, 256, 256 channels, strides 1, 2, 1, 2, 1, 2, 1 x5, 2, 1; AveragePool 3x3
  (the whole map), Flatten, Gemm 2.
- autoencoder (anomaly detection, 640 log-mel values): Gemm 128, Relu x4; Gemm 8, Relu;
  Gemm 128, Relu x4; Gemm 640.
'Same' padding as Keras computes it (stride 2 on an even size pads only the bottom and right).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantFormat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_onnx import quantize, run, with_quantization_of  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx", "mlperf")


class Net:
    """A float ONNX graph under construction: nodes, initializers, the current tensor."""

    def __init__(self, rng, name, shape):
        self.rng, self.name, self.shape, self.in_shape = rng, name, list(shape), list(shape)
        self.nodes, self.inits, self.n = [], [], 0
        self.x = "input"

    def fresh(self, stem):
        self.n += 1
        return f"{stem}{self.n}"

    def const(self, name, a):
        self.inits.append(numpy_helper.from_array(a.astype(np.float32), name))
        return name

    def conv(self, cout, k, stride=1, group=1, relu=True, x=None, shape=None):
        """A 'same' convolution (Keras: total padding max((out - 1)·s + k - in, 0), the smaller
        half before), He-initialized weights, small biases."""
        x = x or self.x
        c, h, w = shape or self.shape
        kh, kw = k
        name = self.fresh("dw" if group > 1 else "conv")
        fan = (c // group) * kh * kw
        wt = self.rng.standard_normal((cout, c // group, kh, kw)) * np.sqrt(2.0 / fan)
        b = self.rng.standard_normal(cout) * 0.05
        pads, out = [], []
        for n, kk in [(h, kh), (w, kw)]:
            o = -(-n // stride)
            t = max((o - 1) * stride + kk - n, 0)
            pads.append((t // 2, t - t // 2))
            out.append(o)
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const(name + ".w", wt), self.const(name + ".b", b)], [name + ".c"], name=name,
            kernel_shape=[kh, kw], strides=[stride, stride], group=group,
            pads=[pads[0][0], pads[1][0], pads[0][1], pads[1][1]]))
        y = name + ".c"
        if relu:
            self.nodes.append(helper.make_node("Relu", [y], [name + ".r"], name=name + ".relu"))
            y = name + ".r"
        return y, [cout] + out

    def step(self, y_shape):
        self.x, self.shape = y_shape

    def add_relu(self, a, b):
        name = self.fresh("add")
        self.nodes.append(helper.make_node("Add", [a, b], [name + ".s"], name=name))
        self.nodes.append(helper.make_node("Relu", [name + ".s"], [name + ".r"], name=name + ".relu"))
        self.x = name + ".r"

    def avgpool_flatten(self):
        c, h, w = self.shape
        self.nodes.append(helper.make_node("AveragePool", [self.x], ["pool"], name="pool", kernel_shape=[h, w]))
        self.nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1))
        self.x, self.shape = "flat", [c]

    def gemm(self, n, relu=True, out=None):
        k = self.shape[0]
        name = self.fresh("fc")
        wt = self.rng.standard_normal((k, n)) * np.sqrt(2.0 / k)
        b = self.rng.standard_normal(n) * 0.05
        y = out or name + ".y"
        self.nodes.append(helper.make_node("Gemm", [self.x, self.const(name + ".w", wt), self.const(name + ".b", b)], [y], name=name))
        if relu:
            self.nodes.append(helper.make_node("Relu", [y], [name + ".r"], name=name + ".relu"))
            y = name + ".r"
        self.x, self.shape = y, [n]

    def head(self, classes):
        """The classifier: average pooling over the whole map, Flatten, Gemm to `classes`."""
        self.avgpool_flatten()
        self.gemm(classes, relu=False, out="logits")
        return self.model(self.in_shape, "logits", classes)

    def model(self, in_shape, out_name, out_len):
        graph = helper.make_graph(self.nodes, self.name,
                                  [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1] + in_shape)],
                                  [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, out_len])], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def resnet8(rng):
    net = Net(rng, "resnet8", [3, 32, 32])
    net.step(net.conv(16, (3, 3)))
    for c, stride in [(16, 1), (32, 2), (64, 2)]:
        x, xs = net.x, net.shape
        y = net.conv(c, (3, 3), stride)
        net.step(y)
        y, ys = net.conv(c, (3, 3), relu=False)
        sc = x if stride == 1 else net.conv(c, (1, 1), stride, relu=False, x=x, shape=xs)[0]
        net.shape = ys
        net.add_relu(y, sc)
    return net.head(10)


def dscnn(rng):
    net = Net(rng, "dscnn", [1, 49, 10])
    net.step(net.conv(64, (10, 4), 2))
    for _ in range(4):
        net.step(net.conv(64, (3, 3), group=64))
        net.step(net.conv(64, (1, 1)))
    return net.head(12)


def mobilenet(rng):
    net = Net(rng, "mobilenet", [3, 96, 96])
    net.step(net.conv(8, (3, 3), 2))
    for c, stride in [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + [(256, 2), (256, 1)]:
        net.step(net.conv(net.shape[0], (3, 3), stride, group=net.shape[0]))
        net.step(net.conv(c, (1, 1)))
    return net.head(2)


def autoencoder(rng):
    net = Net(rng, "autoencoder", [640])
    for n in [128] * 4 + [8] + [128] * 4:
        net.gemm(n)
    net.gemm(640, relu=False, out="recon")
    return net.model([640], "recon", 640)


NETS = {"resnet8": (resnet8, [3, 32, 32], 4), "dscnn": (dscnn, [1, 49, 10], 4),
        "mobilenet": (mobilenet, [3, 96, 96], 2), "autoencoder": (autoencoder, [640], 4)}
FORMS = {"qdq": dict(), "qdq_pc": dict(per_channel=True), "qop": dict(quant_format=QuantFormat.QOperator)}


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, (name, (build, shape, images)) in enumerate(NETS.items()):
        rng = np.random.default_rng(300 + i)
        model = build(rng)
        calib = [rng.uniform(-1, 1, [1] + shape).astype(np.float32) for _ in range(8)]
        x = rng.uniform(-1, 1, [images] + shape).astype(np.float32)
        np.save(os.path.join(OUT, f"{name}.input.npy"), x)
        for form, kw in FORMS.items():
            q = quantize(model, calib, **kw)
            # The QDQ form quantizes an AveragePool's output at its input's scale (and so the
            # next layer's bias at another scale): its reference is the QOperator model given the
            # QDQ form's initializers (gen_onnx.py, with_quantization_of).
            qop = q if form == "qop" else with_quantization_of(quantize(model, calib, **dict(kw, quant_format=QuantFormat.QOperator)), q)
            ref = np.concatenate([run(qop, x[j:j + 1]) for j in range(images)])
            onnx.save(q, os.path.join(OUT, f"{name}_{form}.onnx"))
            np.save(os.path.join(OUT, f"{name}_{form}.expected.npy"), ref)
            default = np.concatenate([run(q, x[j:j + 1]) for j in range(images)])
            ops = sorted({n.op_type for n in q.graph.node})
            print(f"{name}_{form}: {x.shape} -> {ref.shape}; ops {', '.join(ops)}; ONNX Runtime's default "
                  f"session on this file differs from the reference on {int(np.sum(default != ref))} of {ref.size}")


if __name__ == "__main__":
    main()
