#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_K.pb) for pointwise (1 x 1) convolutions
on small planes, the path of runtime/kernels/conv.c's conv_pw_small_run (rows of the product = output
positions, in register tiles of up to 12, channels in panels of 32 through sgemm_packb.c, the product transposed
into the output): 7 x 7 and 14 x 14 planes, the largest plane it takes (196) and one past it (210, the GEMM
path), odd planes (13 x 13, 3 x 5, 1 x 2, a 1-D row), output channel counts not multiples of 8 but within
10 % of a multiple of 32 (the path's rule; 7 channels, the GEMM path, beside them), input channels of any count, depths past one
and two depth blocks (512), batch 2; with and without a bias, a residual Add, Relu / Clip (the clamp), LeakyRelu
and a per-channel PRelu (the activation on the written rows), the squeeze-excite gate Mul in front, and the
NCHW8c layout in and out (a 1 x 1 -> depthwise 3 x 3 -> 1 x 1 chain with whole blocks of 8 channels).
Expected outputs are computed here in float64 by numpy from the spec. Inputs and weights are uniform in [0, 1)
(no cancellation in the products: float32 sums over K terms are within K * 2^-24 relative, K <= 1100: < 7e-5,
inside the runner's rtol 1e-3, while a tile read from the wrong rows or written to the wrong place is off by
percents); where an activation must see negative values, those channels get a bias below minus the largest sum
(so their outputs are clearly negative) and few input channels (LeakyRelu / PRelu: small depth keeps the sums'
error far below rtol of the result).
Usage: gen_pw_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261204)
OUT = sys.argv[1]
CASES = []


def u(*shape):
    return RNG.random(shape).astype(np.float32)


def conv1x1(x, w, b):
    """x [N, C, ...] (float64), w [M, C], b [M] or None: the 1 x 1 convolution in float64."""
    n, c = x.shape[:2]
    y = np.einsum("mc,nc...->nm...", w.astype(np.float64), x.astype(np.float64))
    if b is not None:
        y = y + b.astype(np.float64).reshape((1, -1) + (1,) * (x.ndim - 2))
    return y


def dw3x3(x, w, b, pad=1, stride=(1, 1)):
    """Depthwise 3 x 3 of x [N, C, H, W] (float64), w [C, 1, 3, 3], b [C]: pads `pad` on every side, strides
    (rows, columns)."""
    n, c, h, wd = x.shape
    xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    sh, sw = stride
    ho, wo = (h + 2 * pad - 3) // sh + 1, (wd + 2 * pad - 3) // sw + 1
    y = np.zeros((n, c, ho, wo))
    for i in range(3):
        for j in range(3):
            y += xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] * \
                w[:, 0, i, j].astype(np.float64).reshape(1, c, 1, 1)
    return y + b.astype(np.float64).reshape(1, c, 1, 1)


def case(name, n, cin, cout, plane, bias=True, res=False, act=None, gate=False, neg=False):
    """Conv 1 x 1 of x [n, cin, *plane] by w [cout, cin] (+ bias), then optionally + a residual input r, then act:
    None, 'relu', 'clip' (0, 6), 'leaky' (alpha 0.1), 'prelu' (a slope per channel); gate: x is first multiplied
    by an input g [n, cin, 1, 1]; neg: every third channel's bias is below minus the largest sum."""
    x, w = u(n, cin, *plane), u(cout, cin)
    if act == "clip":  # sums of about 6, either side of the clamp
        w = (w * np.float32(24.0 / cin)).astype(np.float32)
    b = u(cout) if bias or neg else None
    if neg:
        b[::3] = -np.float32(2 * cin + 2)
    inputs, inits, nodes = [("x", x)], {"w": w.reshape(cout, cin, *([1] * len(plane)))}, []
    xin, xe = "x", x.astype(np.float64)
    if gate:
        g = u(n, cin, *([1] * len(plane)))
        inputs.append(("g", g))
        nodes.append(helper.make_node("Mul", ["x", "g"], ["xg"]))
        xin = "xg"
        xe = (x * g).astype(np.float32).astype(np.float64)  # the Mul's float32 products
    conv_in = [xin, "w"]
    if b is not None:
        inits["b"] = b
        conv_in.append("b")
    y = conv1x1(xe, w, b)
    cur = "c"
    nodes.append(helper.make_node("Conv", conv_in, [cur], kernel_shape=[1] * len(plane)))
    if res:
        r = u(n, cout, *plane)
        inputs.append(("r", r))
        nodes.append(helper.make_node("Add", [cur, "r"], ["a"]))
        cur = "a"
        y = y + r.astype(np.float64)
    if act == "relu":
        nodes.append(helper.make_node("Relu", [cur], ["act"]))
        y = np.maximum(y, 0.0)
    elif act == "clip":
        nodes.append(helper.make_node("Clip", [cur, "lo", "hi"], ["act"]))
        inits["lo"], inits["hi"] = np.array(0.0, np.float32), np.array(6.0, np.float32)
        y = np.clip(y, 0.0, 6.0)
    elif act == "leaky":
        nodes.append(helper.make_node("LeakyRelu", [cur], ["act"], alpha=0.1))
        y = np.where(y < 0, 0.1 * y, y)
    elif act == "prelu":
        slope = (u(cout) * np.float32(0.5) + np.float32(0.1)).astype(np.float32)
        inits["slope"] = slope.reshape(cout, *([1] * len(plane)))
        nodes.append(helper.make_node("PRelu", [cur, "slope"], ["act"]))
        y = np.where(y < 0, slope.astype(np.float64).reshape((1, cout) + (1,) * len(plane)) * y, y)
    if act:
        cur = "act"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    CASES.append(write_case(OUT, "test_pw_" + name, nodes, inputs, [("y", y.astype(np.float32))], 13,
                            [numpy_helper.from_array(v, k) for k, v in inits.items()], "gen_pw_cases"))


def chain(name, n, cin, mid, cout, h, w, act=None, pad=1, stride=(1, 1)):
    """1 x 1 (cin -> mid) + Relu, depthwise 3 x 3 (mid) + Relu, 1 x 1 (mid -> cout) + bias: mid a multiple of 8,
    so the planner may keep the two middle values in NCHW8c (the first 1 x 1 writing blocked, the last reading
    blocked)."""
    x = u(n, cin, h, w)
    w1, b1 = (u(mid, cin) * np.float32(2.0 / cin)).astype(np.float32), u(mid)
    wd, bd = (u(mid, 1, 3, 3) * np.float32(0.2)).astype(np.float32), u(mid)
    w2, b2 = u(cout, mid), u(cout)
    if act == "clip":
        b1[::2] = -np.float32(2 * cin + 2)  # every other channel clamped to 0
    y1 = conv1x1(x.astype(np.float64), w1, b1)
    y1 = np.clip(y1, 0.0, 6.0) if act == "clip" else np.maximum(y1, 0.0)
    y2 = np.maximum(dw3x3(y1, wd, bd, pad, stride), 0.0)
    y = conv1x1(y2, w2, b2)
    inits = {"w1": w1.reshape(mid, cin, 1, 1), "b1": b1, "wd": wd, "bd": bd, "w2": w2.reshape(cout, mid, 1, 1),
             "b2": b2}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[1, 1])]
    if act == "clip":
        inits["lo"], inits["hi"] = np.array(0.0, np.float32), np.array(6.0, np.float32)
        nodes.append(helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"]))
    else:
        nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
    nodes += [helper.make_node("Conv", ["r1", "wd", "bd"], ["c2"], kernel_shape=[3, 3], pads=[pad] * 4,
                               strides=list(stride), group=mid),
              helper.make_node("Relu", ["c2"], ["r2"]),
              helper.make_node("Conv", ["r2", "w2", "b2"], ["y"], kernel_shape=[1, 1])]
    CASES.append(write_case(OUT, "test_pw_" + name, nodes, [("x", x)], [("y", y.astype(np.float32))], 13,
                            [numpy_helper.from_array(v, k) for k, v in inits.items()], "gen_pw_cases"))


# MobileNetV2's and ResNet-50's shapes, smaller in depth to keep the data small
case("7x7_160_320", 1, 160, 320, (7, 7))
case("7x7_320_96_relu", 1, 320, 96, (7, 7), act="relu", neg=True)
case("14x14_96_64_res", 1, 96, 64, (14, 14), res=True)
case("14x14_64_220_clip", 1, 64, 220, (14, 14), act="clip", neg=True)
# depth past one and two blocks of 512
case("7x7_600_62", 1, 600, 62, (7, 7))
case("3x5_1100_30_res_relu", 1, 1100, 30, (3, 5), res=True, act="relu")
# channels not multiples of 8 / 32, odd planes, no bias
case("13x13_37_61", 1, 37, 61, (13, 13))
case("7x7_19_29_nobias", 1, 19, 29, (7, 7), bias=False)
case("1x2_24_31", 1, 24, 31, (1, 2))
case("7x7_24_7", 1, 24, 7, (7, 7))  # 7 of 32 lanes: the GEMM path, beside it
case("1d_17_40_93", 1, 40, 93, (17,))
case("14x15_16_16", 1, 16, 16, (14, 15))  # 210 positions: the GEMM path, beside it
case("14x14_8_1", 1, 8, 1, (14, 14))
# activations on the written rows
case("7x7_21_61_leaky", 1, 21, 61, (7, 7), act="leaky", neg=True)
case("7x7_21_93_prelu", 1, 21, 93, (7, 7), act="prelu", neg=True)
case("5x5_30_125_res_prelu", 1, 30, 125, (5, 5), res=True, act="prelu", neg=True)
# the squeeze-excite gate, batch 2
case("7x7_72_190_gate", 1, 72, 190, (7, 7), gate=True)
case("b2_7x7_48_61_gate_res", 2, 48, 61, (7, 7), gate=True, res=True)
case("b2_14x14_40_31_res_relu", 2, 40, 31, (14, 14), res=True, act="relu", neg=True)
# NCHW8c in and out
chain("chain_7x7_40_96_29", 1, 40, 96, 29, 7, 7)
chain("chain_14x14_24_64_60_clip", 1, 24, 64, 60, 14, 14, act="clip")
chain("chain_b2_7x7_16_64_94", 2, 16, 64, 94, 7, 7)
chain("chain_3x3_8_32_31", 1, 8, 32, 31, 3, 3)
# the blocked 3 x 3 stride-1 rows two positions a vector: odd and even widths, rows of 1 and 2 outputs, no
# padding, a plane narrower than the kernel's reach, row stride 2, and column stride 2 (the other path)
chain("chain_5x13_16_24_16", 1, 16, 24, 16, 5, 13)
chain("chain_6x1_8_16_8", 1, 8, 16, 8, 6, 1)
chain("chain_4x2_8_16_8_clip", 1, 8, 16, 8, 4, 2, act="clip")
chain("chain_9x10_8_40_12_pad0", 1, 8, 40, 12, 9, 10, pad=0)
chain("chain_3x4_8_16_8_pad0", 1, 8, 16, 8, 3, 4, pad=0)
chain("chain_11x9_8_32_8_s21", 1, 8, 32, 8, 11, 9, stride=(2, 1))
chain("chain_11x9_8_32_8_s12", 1, 8, 32, 8, 11, 9, stride=(1, 2))
chain("chain_b2_28x28_16_48_16", 2, 16, 48, 16, 28, 28)

with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    f.write("\n".join(sorted(CASES)) + "\n")
