#!/usr/bin/python3
"""Write node-test folders for the one-pass statistics of InstanceNormalization, LayerNormalization and
GroupNormalization (runtime/kernels/norm.c, nm_stats1_f32) with numpy float64 expected outputs: data far from
zero (mean 1000, spread 3e-4, a few float ulps, with epsilon 1e-12: E[x^2] - E[x]^2 unshifted loses about 14
of double's 16 digits there), constant planes (variance 0),
lengths that are not a multiple of the 8 lanes (1, 7, 9, 35), and ordinary data. Usage: gen_norm_cases.py OUT_DIR
(numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261206)
OUT = sys.argv[1]
CASES = []


def save(name, node, x, y, inits, opset):
    CASES.append(write_case(OUT, "test_" + name, [node], [("x", x)], [("y", y.astype(np.float32))], opset,
                            [numpy_helper.from_array(a, n) for n, a in inits], "gen_norm_cases"))


def data(shape, kind):
    if kind == "offset":
        return (1000 + 3e-4 * RNG.standard_normal(shape)).astype(np.float32)
    if kind == "const":
        return np.full(shape, 3.25, np.float32)
    return RNG.standard_normal(shape).astype(np.float32)


def norm(x, axes, eps):
    x = x.astype(np.float64)
    m = x.mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(axis=axes, keepdims=True) + eps)


def main():
    os.makedirs(OUT, exist_ok=True)
    for kind in ("plain", "offset", "const"):
        eps = 1e-12 if kind == "offset" else 1e-5
        for hw in ((1, 1), (1, 7), (3, 3), (5, 7), (16, 16)):
            c = 6
            x = data((2, c, *hw), kind)
            s, b = RNG.standard_normal(c).astype(np.float32), RNG.standard_normal(c).astype(np.float32)
            y = norm(x, (2, 3), eps) * s[None, :, None, None] + b[None, :, None, None]
            save("in_%s_%dx%d" % (kind, *hw), helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=eps),
                 x, y, [("s", s), ("b", b)], 13)
            g = 3  # GroupNormalization-18: scale and bias per group
            gs, gb = RNG.standard_normal(g).astype(np.float32), RNG.standard_normal(g).astype(np.float32)
            xg = x.reshape(2, g, -1)
            yg = (norm(xg, (2,), eps) * gs[None, :, None] + gb[None, :, None]).reshape(x.shape)
            save("gn_%s_%dx%d" % (kind, *hw), helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=g,
                                                            epsilon=eps), x, yg, [("s", gs), ("b", gb)], 18)
        for n in (1, 7, 9, 35, 768):
            x = data((3, 4, n), kind)
            s, b = RNG.standard_normal(n).astype(np.float32), RNG.standard_normal(n).astype(np.float32)
            y = norm(x, (2,), eps) * s + b
            save("ln_%s_%d" % (kind, n), helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1, epsilon=eps),
                 x, y, [("s", s), ("b", b)], 17)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
