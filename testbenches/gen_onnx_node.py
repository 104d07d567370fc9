#!/usr/bin/env python3
"""Exports ONNX's own backend node tests for the operators accelgen reads (conv, pooling,
quantized conv and matmul) into testbenches/onnx/node/<test>/: the model with every graph input
but the first folded into initializers (weights, scales, zero points are constants on the
accelerator), the first input as input.npy and the output as expected.npy, both with their ONNX
dtype. The cases come from the installed `onnx` package (onnx.backend.test.case.node), so the
expected outputs are the ONNX project's, not ours.

Run by `make vectors` in .venv; `cargo test -p accelgen-onnx --test node_tests` reads the files.
"""

import os
import re
import shutil
import sys

import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.backend.test.case import node

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx", "node")
# The operators of docs/onnx.md's table; 1-D and 3-D pools, dilations and float16 scales are
# exported too, so that the tests see them refused by name.
PICK = re.compile(r"^test_(basic_conv|conv_with|convinteger|averagepool_2d|globalaveragepool|globalmaxpool|"
                  r"maxpool_2d|qlinearconv|qlinearmatmul|matmulinteger)")


def fold(case):
    """The case's model with inputs 1.. as initializers, and its (input, output) arrays."""
    model = case.model
    inputs, outputs = case.data_sets[0]
    g = model.graph
    keep = g.input[0]
    for vi, arr in zip(list(g.input)[1:], inputs[1:]):
        g.initializer.append(numpy_helper.from_array(np.asarray(arr), vi.name))
    del g.input[:]
    g.input.append(keep)
    return model, np.asarray(inputs[0]), np.asarray(outputs[0])


def main():
    warnings.simplefilter("ignore")  # the case generators of unrelated operators warn on casts
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    names = []
    for case in node.collect_testcases(None):
        if not PICK.match(case.name) or len(case.data_sets) == 0:
            continue
        if len(case.data_sets[0][1]) != 1:
            continue  # two outputs (MaxPool with indices): not an accelerator result
        model, x, y = fold(case)
        d = os.path.join(OUT, case.name)
        os.makedirs(d)
        onnx.save(model, os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "expected.npy"), y)
        names.append(case.name)
    with open(os.path.join(OUT, "CASES.txt"), "w") as f:
        f.write(f"# ONNX {onnx.__version__} backend node tests, exported by testbenches/gen_onnx_node.py\n")
        f.write("\n".join(sorted(names)) + "\n")
    print(f"{len(names)} node tests in {OUT}")


if __name__ == "__main__":
    sys.exit(main())
