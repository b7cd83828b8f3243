#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for convolutions with few input
channels, the networks' first layer, which runtime/kernels/conv_stem.c runs (group 1, 2-D, constant weights,
1 to 4 input channels): 3 x 3 stride 2 pad 1 (MobileNet, EfficientNet), 7 x 7 stride 2 pad 3 (ResNet), 3 x 3
stride 1 (VGG), 3 x 3 stride 2 unpadded (SqueezeNet: 111 columns); output channels not a multiple of 8 or 16
(13, 20, 24); 1 and 2 input channels; odd planes, 1 x 1 planes, rows of 1 to 7 vectors and a partial last one;
asymmetric padding, strides 3 and 4, dilation 2; batch 2; with each activation the planner fuses into a Conv
(Relu, Clip 0..6, HardSwish as the op and as x * HardSigmoid(x), SiLU as x * Sigmoid(x), LeakyRelu, per-channel
PRelu) and a residual Add. Expected outputs are computed here in float64 by a direct numpy loop over the taps,
on values whose sums are exact in float32 (below).
Usage: gen_stem_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
OUT = sys.argv[1]
CASES = []


def conv(x, w, b, stride, pads, dil):
    """float64 convolution, group 1; pads [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - dil * (kh - 1) - 1) // stride + 1
    ow = (xp.shape[3] - dil * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, m, oh, ow))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dil, j * dil
            patch = xp[:, :, r0:r0 + stride * (oh - 1) + 1:stride, c0:c0 + stride * (ow - 1) + 1:stride]
            y += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def act_nodes(act, src, m):
    """The exporters' form of act on value src, ending in y; its initializers; the float64 function."""
    if act == "relu":
        return [helper.make_node("Relu", [src], ["y"])], [], lambda v: np.maximum(v, 0)
    if act == "clip6":
        return ([helper.make_node("Clip", [src, "lo", "hi"], ["y"])],
                [numpy_helper.from_array(np.array(0, np.float32), "lo"),
                 numpy_helper.from_array(np.array(6, np.float32), "hi")], lambda v: np.clip(v, 0, 6))
    third = np.float64(np.float32(1.0 / 6))
    if act == "hardswish_op":
        return ([helper.make_node("HardSwish", [src], ["y"])], [],
                lambda v: v * np.clip(v * third + 0.5, 0, 1))
    if act == "hardswish":
        return ([helper.make_node("HardSigmoid", [src], ["g"], alpha=1.0 / 6, beta=0.5),
                 helper.make_node("Mul", [src, "g"], ["y"])], [], lambda v: v * np.clip(v * third + 0.5, 0, 1))
    if act == "silu":
        return ([helper.make_node("Sigmoid", [src], ["g"]), helper.make_node("Mul", [src, "g"], ["y"])], [],
                lambda v: v / (1 + np.exp(-v)))
    if act == "leaky":
        a = np.float64(np.float32(0.1))
        return ([helper.make_node("LeakyRelu", [src], ["y"], alpha=0.1)], [], lambda v: np.where(v < 0, a * v, v))
    assert act == "prelu"
    slope = (RNG.standard_normal((m, 1, 1)) * 0.3).astype(np.float32)
    return ([helper.make_node("PRelu", [src, "slope"], ["y"])], [numpy_helper.from_array(slope, "slope")],
            lambda v: np.where(v < 0, slope.astype(np.float64)[None] * v, v))


def case(name, c, m, h, wd, k, stride, pads=None, bias=True, dil=1, n=1, act=None, res=False):
    pads = pads if pads is not None else [k // 2] * 4
    # values on a grid (inputs multiples of 1/8 up to 2, weights of 1/64 up to 1/2, bias of 1/512): every sum of
    # up to 160 products is exact in float32 whatever the order, so the convolution itself must match exactly
    # and only the activations' approximations use the runner's tolerance (rtol 1e-3, atol 1e-7)
    x = (RNG.integers(-16, 17, (n, c, h, wd)) / 8).astype(np.float32)
    w = (RNG.integers(-32, 33, (m, c, k, k)) / 64).astype(np.float32)
    b = (RNG.integers(-256, 257, m) / 512).astype(np.float32) if bias else None
    y = conv(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64), stride, pads,
             dil)
    r = (RNG.integers(-16, 17, y.shape) / 8).astype(np.float32) if res else None
    if res:
        y = y + r.astype(np.float64)
    inits = [numpy_helper.from_array(w, "w")] + ([numpy_helper.from_array(b, "b")] if bias else [])
    after = "c" if act else "y"
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["d" if res else after],
                              kernel_shape=[k, k], strides=[stride, stride], pads=pads, dilations=[dil, dil])]
    if res:
        inits.append(numpy_helper.from_array(r, "r"))
        nodes.append(helper.make_node("Add", ["d", "r"], [after]))
    if act:
        more, more_inits, f = act_nodes(act, "c", m)
        nodes += more
        inits += more_inits
        y = f(y)
    CASES.append(write_case(OUT, "test_" + name, nodes, [("x", x)], [("y", y.astype(np.float32))], 14, inits,
                            "gen_stem_cases"))


def main():
    os.makedirs(OUT, exist_ok=True)
    # the zoo's stems, on smaller planes: rows of 112 (7 vectors of 16: 3 + 2 + 2 tiles), 111, odd sizes
    case("stem3x3_s2_p1_c32_clip6", 3, 32, 20, 224, 3, 2, act="clip6")
    case("stem3x3_s2_p1_c32_silu_odd", 3, 32, 37, 45, 3, 2, act="silu")
    case("stem3x3_s2_p1_c16_hardswish", 3, 16, 31, 97, 3, 2, act="hardswish")
    case("stem3x3_s2_p1_c16_hardswish_op", 3, 16, 9, 33, 3, 2, act="hardswish_op")
    case("stem3x3_s2_p1_c24_relu", 3, 24, 23, 71, 3, 2, act="relu")
    case("stem7x7_s2_p3_c64_relu", 3, 64, 29, 61, 7, 2, act="relu")
    case("stem7x7_s2_p3_c64_nobias", 3, 64, 16, 230, 7, 2, bias=False)
    case("stem3x3_s1_p1_c64_relu", 3, 64, 12, 70, 3, 1, act="relu")
    case("stem3x3_s2_p0_c64_w111", 3, 64, 9, 224, 3, 2, pads=[0, 0, 0, 0], act="relu")
    # output channels not a multiple of 8 / 16, 1 and 2 input channels, rows of 1 to 6 vectors
    for wd in (5, 16, 17, 33, 50, 81, 96):
        case("stem3x3_s1_c13_in2_w%d" % wd, 2, 13, 7, wd, 3, 1, act="leaky" if wd % 2 else None)
    case("stem5x5_s1_p2_c20_in1", 1, 20, 11, 19, 5, 1, act="prelu")
    case("stem3x3_s2_p0_c8_in1_odd", 1, 8, 15, 27, 3, 2, pads=[0, 0, 0, 0])
    case("stem3x3_s2_c40_in4", 4, 40, 14, 14, 3, 2, act="clip6")
    # 1 x 1 planes: a 3 x 3 input unpadded, a 1 x 1 input padded
    case("stem3x3_plane1_valid", 3, 16, 3, 3, 3, 1, pads=[0, 0, 0, 0])
    case("stem3x3_plane1_padded", 3, 12, 1, 1, 3, 1, act="silu")
    # asymmetric padding, strides 3 and 4, dilation 2, batch 2, a residual Add
    case("stem3x3_s2_asym_pad", 3, 32, 17, 29, 3, 2, pads=[0, 1, 2, 0], act="relu")
    case("stem4x4_s4_c24", 3, 24, 32, 52, 4, 4, pads=[0, 0, 0, 0])
    case("stem7x7_s3_p2_c16", 3, 16, 25, 40, 7, 3, pads=[2, 2, 2, 2], act="hardswish")
    case("stem3x3_dil2_c16", 3, 16, 13, 41, 3, 1, pads=[2, 2, 2, 2], dil=2, act="relu")
    case("stem3x3_s2_batch2_c32", 3, 32, 19, 35, 3, 2, n=2, act="clip6")
    case("stem3x3_s1_res_relu_c16", 3, 16, 10, 37, 3, 1, act="relu", res=True)
    case("stem7x7_s2_res_c24", 3, 24, 14, 26, 7, 2, res=True)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
