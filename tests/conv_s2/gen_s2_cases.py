#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_K.pb) for the strided convolutions of
runtime/kernels/conv.c whose B blocks are filled from the input: the block-wise im2col of column stride 2
(fill_im2col_s2: whole output rows copied with masks worked out once per block, partial rows at a block's ends,
padding from the masks; rows wider than 64 positions and kernels wider than 11 on the general run copy), the
subsampled 1 x 1 stride-2 copy (conv_phase_item), the compact B of rows narrower than a tile (conv_gather_item),
blocks of output rows a multiple of the row (112 for rows of 28), and several blocks of output channels served by
one filled B block (oc_gemm_packed_mc, conv_group_rows).
Shapes: ResNet's 3 x 3 stride-2 layer at 56 x 56 (fewer channels), odd planes (57 -> 29, 27 -> 14), output rows
of 5, 7, 14, 16, 17, 20, 24 and 75 positions, 5 x 5 and 1 x 13 kernels, dilation 2, asymmetric and no padding, strides
(2, 2), (1, 2), (2, 1) and 3, groups 2, batch 2, channel counts that need one, two or three row blocks (and a
last partial one), depths of one, two and nine blocks, with and without a bias, a residual Add and Relu.
Expected outputs are computed here in float64 by numpy from the spec (a sum over the taps of strided slices of
the zero-padded input). Inputs and weights are uniform in [0, 1), so there is no cancellation: float32 sums of
K <= 2304 terms are within K * 2^-24 relative (< 1.4e-4), inside the runner's rtol 1e-3, while a value read
from the wrong tap, row or phase, a lost zero of the padding or a row block computed twice or not at all is off
by percents.
Usage: gen_s2_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261205)
OUT = sys.argv[1]
CASES = []


def u(*shape):
    return RNG.random(shape).astype(np.float32)


def conv2d(x, w, b, strides, pads, dil, group):
    """ONNX Conv of x [N, C, H, W] by w [M, C / group, KH, KW] (+ b [M]) in float64; pads (top, left, bottom,
    right)."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dil
    pt, pl, pb, pr = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    mg = m // group
    y = np.zeros((n, m, ho, wo))
    for g in range(group):
        xg = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * mg:(g + 1) * mg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
                y[:, g * mg:(g + 1) * mg] += np.einsum("mc,nchw->nmhw", wg[:, :, i, j], patch)
    if b is not None:
        y += b.astype(np.float64).reshape(1, m, 1, 1)
    return y


def case(name, n, cin, cout, hw, k, strides=(2, 2), pads=(1, 1, 1, 1), dil=(1, 1), group=1, bias=True, res=False,
         relu=False):
    """Conv k [kh, kw] of x [n, cin, *hw] (+ bias), then optionally + a residual input r and Relu (with Relu, the
    bias of every third output channel is below minus the largest sum, so those outputs are clamped to 0)."""
    x, w = u(n, cin, *hw), u(cout, cin // group, *k)
    b = u(cout) if bias or relu else None
    if relu:
        b[::3] = -np.float32(cin // group * k[0] * k[1] + 2)
    y = conv2d(x.astype(np.float64), w, b, strides, pads, dil, group)
    inputs, inits = [("x", x)], {"w": w}
    conv_in = ["x", "w"]
    if b is not None:
        inits["b"] = b
        conv_in.append("b")
    nodes = [helper.make_node("Conv", conv_in, ["c"], kernel_shape=list(k), strides=list(strides),
                              pads=[pads[0], pads[1], pads[2], pads[3]], dilations=list(dil), group=group)]
    cur = "c"
    if res:
        r = u(*y.shape)
        inputs.append(("r", r))
        nodes.append(helper.make_node("Add", [cur, "r"], ["a"]))
        cur = "a"
        y = y + r.astype(np.float64)
    if relu:
        nodes.append(helper.make_node("Relu", [cur], ["act"]))
        cur = "act"
        y = np.maximum(y, 0.0)
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    CASES.append(write_case(OUT, "test_s2_" + name, nodes, inputs, [("y", y.astype(np.float32))], 13,
                            [numpy_helper.from_array(v, k) for k, v in inits.items()], "gen_s2_cases"))


# 3 x 3 stride 2 through im2col (a padded input above 256 KiB, rows of at least 16): ResNet's layer at 56 x 56
case("3x3_56_32_40", 1, 32, 40, (56, 56), (3, 3))
case("3x3_56_32_232_res_relu", 1, 32, 232, (56, 56), (3, 3), res=True, relu=True)  # two row blocks
case("3x3_56_256_24", 1, 256, 24, (56, 56), (3, 3))  # depth 2304: nine depth blocks
case("3x3_56_32_30_relu", 1, 32, 30, (56, 56), (3, 3), relu=True)
# odd planes and row widths: 57 -> 29, 34 -> 17, 40 -> 20, 48 -> 24; rows wider than 64 (150 -> 75)
case("3x3_57_24_20", 1, 24, 20, (57, 57), (3, 3))
case("3x3_34x57_40_16", 1, 40, 16, (34, 57), (3, 3), pads=(0, 1, 1, 0))
case("3x3_40_32_16_nopad", 1, 32, 16, (40, 41), (3, 3), pads=(0, 0, 0, 0))
case("3x3_48_32_24_b2", 2, 32, 24, (48, 48), (3, 3), res=True)
case("3x3_150_16_8", 1, 16, 8, (150, 150), (3, 3))
case("3x3_32_64_24", 1, 64, 24, (32, 32), (3, 3))  # rows of 16: one vector
# wider kernels, dilation, one-sided and large padding, strides (1, 2), (2, 1) and 3, groups
case("5x5_56_24_16", 1, 24, 16, (56, 56), (5, 5), pads=(2, 2, 2, 2))
case("1x13_40_24_16", 1, 24, 16, (40, 44), (1, 13), pads=(0, 6, 0, 6))
case("3x3_d2_56_24_16", 1, 24, 16, (56, 56), (3, 3), pads=(2, 2, 2, 2), dil=(2, 2))
case("3x3_s12_40_32_16", 1, 32, 16, (40, 46), (3, 3), strides=(1, 2), pads=(1, 0, 1, 3))
case("3x3_s21_40_32_16", 1, 32, 16, (46, 40), (3, 3), strides=(2, 1))
case("3x3_s3_56_32_16", 1, 32, 16, (56, 56), (3, 3), strides=(3, 3))
case("3x3_g2_56_32_48", 1, 32, 48, (56, 56), (3, 3), group=2)
case("3x3_g2_b2_40_64_32_res_relu", 2, 64, 32, (40, 40), (3, 3), group=2, res=True, relu=True)
# rows narrower than a tile (the compact B gathered from the phase copy): 28 -> 14, 13 -> 7, 9 -> 5, 6 -> 3, 3 -> 2,
# groups, batch 2
case("3x3_28_64_24", 1, 64, 24, (28, 28), (3, 3))
case("3x3_13_32_16_res_relu", 1, 32, 16, (13, 13), (3, 3), res=True, relu=True)
case("3x3_g2_b2_9x14_32_16", 2, 32, 16, (9, 14), (3, 3), group=2)
case("3x3_6_64_24", 1, 64, 24, (6, 6), (3, 3))  # 3 x 3 outputs: a row's vector copy would end past the B row
case("3x3_g4_b2_3x4_64_32_res", 2, 64, 32, (3, 4), (3, 3), group=4, res=True)
# 1 x 1 stride 2 (the subsampled copy), several row blocks of 128 served by one B block
case("1x1_28_256_264", 1, 256, 264, (28, 28), (1, 1), pads=(0, 0, 0, 0))
case("1x1_27_64_40_nobias", 1, 64, 40, (27, 27), (1, 1), pads=(0, 0, 0, 0), bias=False)
case("1x1_b2_28_96_136_res", 2, 96, 136, (28, 28), (1, 1), pads=(0, 0, 0, 0), res=True)
case("1x1_s3_29_40_24", 1, 40, 24, (29, 29), (1, 1), strides=(3, 3), pads=(0, 0, 0, 0))
case("1x1_g2_28_512_520", 1, 512, 520, (14, 14), (1, 1), pads=(0, 0, 0, 0), group=2)
# stride-1 pointwise, depth of two blocks, row blocks of 216 (the last partial)
case("pw_20_300_440_res_relu", 1, 300, 440, (20, 20), (1, 1), strides=(1, 1), pads=(0, 0, 0, 0), res=True,
     relu=True)

with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    f.write("\n".join(sorted(CASES)) + "\n")
