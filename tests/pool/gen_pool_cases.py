#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for the float fast paths of MaxPool
and AveragePool (runtime/kernels/pool.c: window rows reduced, then 8 outputs at a time for strides 1 and 2, a
scalar loop for larger strides), with expected outputs computed here in float64 by a direct numpy loop over the
windows: the zoo's windows (3 x 3 stride 2 with ceil_mode, 3 x 3 stride 1 pad 1, 2 x 2 stride 2, the 3 x 3
stride 2 pad 1 stem pool), output widths that leave every tail of a vector (1 to 7 past a multiple of 8), 1 x 1
and odd planes, channel counts not a multiple of 8, asymmetric pads, stride 3, count_include_pad 0 and 1,
windows hanging past the end under ceil_mode, -inf in the data, batch 2.
Usage: gen_pool_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import math
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
OUT = sys.argv[1]
CASES = []


def out_len(n, k, s, p0, p1, ceil):
    """Output length as ONNX's pools define it; under ceil_mode a window may not start in the end padding."""
    span = n + p0 + p1 - k
    o = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p0:
        o -= 1
    return o


def pool_ref(x, k, s, pads, ceil, kind, include_pad=False):
    """float64 pooling over the last two dims: pads = [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    oh = out_len(h, k[0], s[0], pads[0], pads[2], ceil)
    ow = out_len(wd, k[1], s[1], pads[1], pads[3], ceil)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        r0 = i * s[0] - pads[0]
        ra, rb = max(r0, 0), min(r0 + k[0], h)
        pa, pb = max(r0, -pads[0]), min(r0 + k[0], h + pads[2])
        for j in range(ow):
            c0 = j * s[1] - pads[1]
            ca, cb = max(c0, 0), min(c0 + k[1], wd)
            qa, qb = max(c0, -pads[1]), min(c0 + k[1], wd + pads[3])
            win = x[:, :, ra:rb, ca:cb].astype(np.float64)
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3)) if win.size else -np.inf
            else:
                cnt = (pb - pa) * (qb - qa) if include_pad else (rb - ra) * (cb - ca)
                y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt if cnt > 0 else 0.0
    return y


def case(name, kind, c, h, wd, k, s, pads=(0, 0, 0, 0), ceil=False, include_pad=False, n=1, neg_inf=False):
    x = RNG.standard_normal((n, c, h, wd)).astype(np.float32)
    if neg_inf:
        x.flat[::7] = -np.inf
    y = pool_ref(x, k, s, list(pads), ceil, kind, include_pad)
    attrs = dict(kernel_shape=list(k), strides=list(s), pads=list(pads))
    if ceil:
        attrs["ceil_mode"] = 1
    if kind == "avg":
        attrs["count_include_pad"] = int(include_pad)
    node = helper.make_node("MaxPool" if kind == "max" else "AveragePool", ["x"], ["y"], **attrs)
    CASES.append(write_case(OUT, "test_" + name, [node], [("x", x)], [("y", y.astype(np.float32))], 13, (),
                            "gen_pool_cases"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for kind in ("max", "avg"):
        # the zoo's windows
        case(kind + "_3x3_s2_ceil_55", kind, 13, 55, 55, (3, 3), (2, 2), ceil=True)
        case(kind + "_3x3_s2_ceil_112", kind, 5, 112, 112, (3, 3), (2, 2), ceil=True)
        case(kind + "_3x3_s2_ceil_14", kind, 9, 14, 14, (3, 3), (2, 2), ceil=True)
        case(kind + "_3x3_s1_p1_ceil_14", kind, 19, 14, 14, (3, 3), (1, 1), (1, 1, 1, 1), ceil=True)
        case(kind + "_3x3_s1_p1_7", kind, 11, 7, 7, (3, 3), (1, 1), (1, 1, 1, 1))
        case(kind + "_3x3_s1_p1_28", kind, 3, 28, 28, (3, 3), (1, 1), (1, 1, 1, 1))
        case(kind + "_2x2_s2_56", kind, 10, 56, 56, (2, 2), (2, 2))
        case(kind + "_2x2_s2_ceil_7", kind, 6, 7, 7, (2, 2), (2, 2), ceil=True)
        case(kind + "_3x3_s2_p1_stem", kind, 3, 112, 112, (3, 3), (2, 2), (1, 1, 1, 1))
        # every tail of a vector of outputs, at strides 1 and 2
        for ow in range(8, 17):
            case("%s_3x3_s1_ow%d" % (kind, ow), kind, 3, 5, ow + 2, (3, 3), (1, 1))
            case("%s_3x3_s2_ow%d" % (kind, ow), kind, 3, 5, 2 * ow + 1, (3, 3), (2, 2))
        # edge shapes
        case(kind + "_plane1", kind, 7, 1, 1, (1, 1), (1, 1))
        case(kind + "_plane1_pad", kind, 7, 1, 1, (3, 3), (1, 1), (1, 1, 1, 1))
        case(kind + "_2x2_s2_plane2x3_ceil", kind, 5, 2, 3, (2, 2), (2, 2), ceil=True)
        case(kind + "_asym_pad", kind, 4, 9, 11, (3, 3), (2, 2), (0, 1, 2, 1))
        case(kind + "_3x2_s2x1", kind, 4, 10, 13, (3, 2), (2, 1), (1, 0, 1, 1))
        case(kind + "_5x5_s1_p2", kind, 3, 12, 21, (5, 5), (1, 1), (2, 2, 2, 2))
        case(kind + "_3x3_s3", kind, 5, 17, 23, (3, 3), (3, 3), (1, 1, 1, 1), ceil=True)
        case(kind + "_4x4_s3_ceil_odd", kind, 3, 19, 20, (4, 4), (3, 3), ceil=True)
        case(kind + "_batch2", kind, 3, 15, 17, (3, 3), (2, 2), (1, 1, 1, 1), n=2)
    for inc in (False, True):
        tag = "_incpad" if inc else ""
        case("avg_3x3_s1_p1" + tag, "avg", 5, 14, 14, (3, 3), (1, 1), (1, 1, 1, 1), include_pad=inc)
        case("avg_3x3_s2_p1_ceil" + tag, "avg", 5, 14, 15, (3, 3), (2, 2), (1, 1, 1, 1), ceil=True, include_pad=inc)
        case("avg_2x2_s2_ceil_odd" + tag, "avg", 6, 7, 9, (2, 2), (2, 2), ceil=True, include_pad=inc)
        case("avg_3x3_s3_p1" + tag, "avg", 4, 10, 26, (3, 3), (3, 3), (1, 1, 1, 1), include_pad=inc)
    case("max_neg_inf", "max", 5, 14, 14, (3, 3), (1, 1), (1, 1, 1, 1), neg_inf=True)
    case("max_neg_inf_s2", "max", 5, 15, 31, (3, 3), (2, 2), neg_inf=True)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
