#!/usr/bin/env python3
"""Networks with data and an independently computed expected output, made with numpy.

The layer references are gen_vectors.py's (np.pad, sliding_window_view, tensordot, int64
rounding), chained here layer by layer; the Rust golden network is checked against the result.

lenet5_data.json: LeNet-5 shaped: 1x32x32 input, conv 6@5x5, maxpool 2, conv 16@5x5, maxpool 2,
conv 120@5x5, then 1x1 convolutions as the fully connected layers (84, 10); the last layer is raw
int32 (no requant). Each requant shift is chosen from the data so that activations spread over
the int8 range instead of saturating. Tensors of more than 256 values are .npy files in
networks/lenet5_data/.

Run from the repository root:  python3 testbenches/gen_networks.py   (deterministic, seeded)
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_vectors import conv_ref, pool_ref, requant_ref  # noqa: E402

SEED = 2027
rng = np.random.default_rng(SEED)
OUT = os.path.join(HERE, "networks")


def rand(shape, lo, hi, dtype):
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64).astype(dtype)


def field(a, name, folder):
    """A tensor field: inline when small, else a .npy file beside the network."""
    if a.size <= 256:
        return {"shape": list(a.shape), "data": [int(v) for v in a.reshape(-1)]}
    os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    np.save(os.path.join(OUT, folder, f"{name}.npy"), a)
    return f"{folder}/{name}.npy"


def choose_shift(acc, multiplier):
    """Smallest shift that brings the 99th percentile of |acc * multiplier| to at most 100."""
    q = np.percentile(np.abs(acc.astype(np.float64)), 99) * multiplier
    shift = 0
    while q / (1 << shift) > 100:
        shift += 1
    return shift


def lenet5():
    folder = "lenet5_data"
    x = rand((1, 32, 32), -128, 127, np.int8)
    layers = []
    spec = [("conv", 6, 5), ("max", 2), ("conv", 16, 5), ("max", 2), ("conv", 120, 5), ("conv", 84, 1), ("conv", 10, 1)]
    net_input = field(x, "input", folder)
    for i, s in enumerate(spec):
        last = i + 1 == len(spec)
        if s[0] == "max":
            k = s[1]
            x = pool_ref(x, "maxpool2d", (k, k), (k, k), (0, 0))
            layers.append({"op": "maxpool2d", "kernel": [k, k], "stride": [k, k]})
            continue
        _, cout, k = s
        w = rand((cout, x.shape[0], k, k), -128, 127, np.int8)
        b = rand((cout,), -4000, 4000, np.int32)
        acc = conv_ref(x, w, b, (1, 1), (0, 0))
        layer = {"op": "conv2d", "weight": field(w, f"w{i}", folder), "bias": field(b, f"b{i}", folder),
                 "stride": [1, 1], "padding": [0, 0]}
        if last:
            x = acc
        else:
            m = 1024
            rq = {"multiplier": m, "shift": choose_shift(acc, m), "zero_point": 0, "relu": True}
            x = requant_ref(acc, rq["multiplier"], rq["shift"], rq["zero_point"], rq["relu"])
            layer["requant"] = rq
        layers.append(layer)
    doc = {"input": net_input, "layers": layers, "expected": field(x, "expected", folder)}
    with open(os.path.join(OUT, "lenet5_data.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"lenet5_data: output {list(x.shape)} int32, numpy {np.__version__}, seed {SEED}", file=sys.stderr)


if __name__ == "__main__":
    lenet5()
