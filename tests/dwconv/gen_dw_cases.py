#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for depthwise convolutions of
every size the zoo uses (runtime/kernels/conv.c: the 3 x 3 direct path and the padded-plane path of larger
kernels), with expected outputs computed here in float64 by a direct numpy loop over the taps: kernels 3, 5, 7,
strides 1 and 2, "same" and asymmetric padding and none, output widths that leave 1 to 4 vectors of 8 after the
last whole 32 (9, 17, 25, 28, 31, 56, 57), 1 x 1 and odd planes, channel counts not a multiple of 8, bias or
none, a channel multiplier of 2, batch 2, and a Relu after the Conv (fused into its epilogue by the planner);
5 x 5 on the plain layout through blocked rows of 8 channels (runtime/kernels/blocked.c, oc_blk_dw_nchw_run):
whole blocks and a last partial one, 7 x 7 to 28 x 28 planes at strides 1 and 2, rows wider than a vector, and the
activations the planner fuses into it (Relu, Clip 0..6, HardSwish and SiLU in their exported x * gate(x) forms); for the
AVX-512 7 x 7 stride-1 kernel (dwconv7.c) rows past 64 columns and a fused residual Add; for the 3 x 3 stride-1
kernel on planes wider than 16 read straight from the input (conv.c, dw3s1_plane; one and two rows a pass) pads 0
and 1 on each side, 2-row planes, tails of 1 to 7 columns, 112 x 112, a residual Add with Clip, multiplier 2; for the
AVX-512 3 x 3 kernels (dwconv3.c) rows of 7 and 13 to 17, 28 and 56 at strides 1 and 2 (and 5 x 5 at those widths),
heights leaving 1 to 4 rows for the last tile, strides (1, 2) and (2, 1), batch 2, a residual Add with Clip, and
rows of at most 8 outputs (its 8-lane kernel) with the same variations.
Usage: gen_dw_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261205)
OUT = sys.argv[1]
CASES = []


def dwconv(x, w, b, stride, pads, mult):
    """float64 depthwise convolution: output channel m reads input channel m // mult; stride: one for both axes or
    (rows, columns)."""
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    y = np.zeros((n, m, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            y += np.repeat(patch, mult, axis=1) * w[None, :, 0, i, j, None, None]
    if b is not None:
        y += b[None, :, None, None]
    return y


def act_nodes(act, src):
    """The exporters' form of act on value src, ending in y; and the float64 function."""
    if act == "relu":
        return [helper.make_node("Relu", [src], ["y"])], lambda v: np.maximum(v, 0)
    if act == "clip6":
        return ([helper.make_node("Clip", [src, "lo", "hi"], ["y"])], lambda v: np.clip(v, 0, 6))
    if act == "hardswish":
        return ([helper.make_node("HardSigmoid", [src], ["g"], alpha=1.0 / 6, beta=0.5),
                 helper.make_node("Mul", [src, "g"], ["y"])],
                lambda v: v * np.clip(v * np.float64(np.float32(1.0 / 6)) + 0.5, 0, 1))
    assert act == "silu"
    return ([helper.make_node("Sigmoid", [src], ["g"]), helper.make_node("Mul", [src, "g"], ["y"])],
            lambda v: v / (1 + np.exp(-v)))


def case(name, c, h, wd, k, stride, pads=None, bias=True, mult=1, n=1, relu=False, act=None, res=False):
    act = "relu" if relu else act
    pads = pads if pads is not None else [k // 2] * 4
    x = RNG.standard_normal((n, c, h, wd)).astype(np.float32)
    w = (RNG.standard_normal((c * mult, 1, k, k)) / k).astype(np.float32)
    b = (RNG.standard_normal(c * mult) * 0.1).astype(np.float32) if bias else None
    y = dwconv(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64), stride, pads,
               mult)
    r = RNG.standard_normal(y.shape).astype(np.float32) if res else None
    if res:
        y = y + r.astype(np.float64)
    inits = [numpy_helper.from_array(w, "w")] + ([numpy_helper.from_array(b, "b")] if bias else [])
    after = "c" if act else "y"
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["d" if res else after], group=c,
                              kernel_shape=[k, k], strides=list(stride) if isinstance(stride, tuple) else [stride, stride],
                              pads=pads)]
    if res:
        inits.append(numpy_helper.from_array(r, "r"))
        nodes.append(helper.make_node("Add", ["d", "r"], [after]))
    if act:
        more, f = act_nodes(act, "c")
        nodes += more
        y = f(y)
        if act == "clip6":
            inits += [numpy_helper.from_array(np.array(0, np.float32), "lo"),
                      numpy_helper.from_array(np.array(6, np.float32), "hi")]
    CASES.append(write_case(OUT, "test_" + name, nodes, [("x", x)], [("y", y.astype(np.float32))], 13, inits,
                            "gen_dw_cases"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for k in (3, 5, 7):
        for s in (1, 2):
            for wd in (9, 17, 25, 28, 31, 56, 57):  # 1..4 vectors after the last whole 32 (stride 1)
                case("dw%dx%d_s%d_w%d" % (k, k, s, wd), 5, 6 if wd < 30 else 11, wd, k, s, relu=(wd % 2 == 1))
            case("dw%dx%d_s%d_plane1" % (k, k, s), 3, 1, 1, k, s)
            case("dw%dx%d_s%d_odd_c13" % (k, k, s), 13, 15, 13, k, s, bias=False)
            case("dw%dx%d_s%d_asym_pad" % (k, k, s), 4, 9, 11, k, s, pads=[0, k // 2, k - 1, 1])
            case("dw%dx%d_s%d_no_pad" % (k, k, s), 6, 12, 20, k, s, pads=[0, 0, 0, 0])
            case("dw%dx%d_s%d_mult2_batch2" % (k, k, s), 3, 8, 14, k, s, mult=2, n=2, relu=True)
    # 5 x 5 through blocked rows: c 8 (one block), 24, 20 (a partial last block), 40 + 4; planes 7, 14, 28, 57
    for c, hw, s, act in ((8, 7, 1, None), (24, 7, 1, "hardswish"), (20, 14, 2, "silu"), (44, 14, 1, "clip6"),
                          (16, 28, 2, "relu"), (12, 28, 1, "hardswish"), (24, 57, 1, "silu"), (8, 57, 2, None)):
        case("dw5x5_rows_c%d_p%d_s%d_%s" % (c, hw, s, act or "none"), c, hw, hw, 5, s, act=act)
    case("dw5x5_rows_batch2_c20", 20, 9, 11, 5, 1, n=2, act="silu")
    case("dw5x5_rows_pad1_c16", 16, 10, 10, 5, 2, pads=[1, 1, 2, 2], act="hardswish")
    # 7 x 7 at stride 1 with AVX-512 (runtime/kernels/dwconv7.c): tiles of 4, 2 and 1 rows x up to 64 columns,
    # so rows past 64 (70: 64 + 6; 129: 64 + 64 + 1), heights 7 and 3, and a residual Add (fused) with a Relu
    case("dw7x7_s1_w70_h7_res_relu", 3, 7, 70, 7, 1, relu=True, res=True)
    case("dw7x7_s1_w129_h3", 2, 3, 129, 7, 1)
    case("dw7x7_s1_w56_h56_res", 2, 56, 56, 7, 1, res=True)
    # 3 x 3 stride 1 on planes wider than 16 straight from the input (conv.c, dw3s1_plane): rows at the plane's
    # top and bottom, the padding columns at both row ends (pads 0 and 1 on each side), tails of 1 to 7 columns,
    # two-row planes, the zoo's 112 x 112, a fused residual Add and Clip, a channel multiplier of 2
    for c, h, wd, pads, extra in ((3, 2, 17, [1, 1, 1, 1], {}), (5, 3, 18, [0, 0, 0, 0], {}),
                                  (13, 7, 23, [1, 0, 1, 1], {"relu": True}), (4, 9, 26, [0, 1, 1, 0], {}),
                                  (7, 5, 33, [1, 1, 0, 0], {"bias": False}), (3, 6, 39, [0, 0, 1, 1], {"act": "clip6"}),
                                  (2, 112, 112, [1, 1, 1, 1], {"act": "clip6"}), (3, 13, 47, [1, 1, 1, 1], {"res": True, "act": "clip6"}),
                                  (3, 11, 20, [1, 1, 1, 1], {"mult": 2, "n": 2})):
        case("dw3x3_s1_direct_c%d_h%d_w%d_p%s" % (c, h, wd, "".join(map(str, pads))), c, h, wd, 3, 1, pads=pads,
             **extra)
    # 3 x 3 with AVX-512 (runtime/kernels/dwconv3.c): strips of 16 outputs, tiles of 1 to 4 output rows (heights
    # 13 to 16 leave each remainder), rows of 7 (the AVX2 kernel's: one 8-lane vector), 13 to 17 (one masked vector,
    # or one and a column), 28 and 56 (stride 1: the padded-order kernel of wide planes); stride 2 on both axes and
    # on one only; channel counts not a multiple of 16, a fused residual Add and Clip, batch 2, asymmetric padding
    for wd in (7, 13, 14, 15, 16, 17, 28, 56):
        h = wd if wd <= 28 else 9
        case("dw3x3_s1_v16_w%d" % wd, 19, h, wd, 3, 1, act="clip6" if wd % 2 else None, res=wd in (14, 17, 56))
        case("dw3x3_s2_v16_w%d" % wd, 21, h + 3, wd, 3, 2, relu=wd % 2 == 0, res=wd in (13, 28))
        case("dw5x5_s1_v16_w%d" % wd, 17, h, wd, 5, 1, act="silu" if wd % 2 else "clip6")
        case("dw5x5_s2_v16_w%d" % wd, 18, h + 2, wd, 5, 2, act="hardswish" if wd % 2 else None)
    case("dw3x3_s1_v16_batch2_w14", 5, 14, 14, 3, 1, n=2, res=True, act="clip6")
    case("dw3x3_s2_v16_batch2_w29", 5, 15, 29, 3, 2, n=2, relu=True)
    case("dw3x3_s1_v16_asym_w15", 6, 11, 15, 3, 1, pads=[0, 1, 1, 0])
    case("dw3x3_s1_v16_nopad_w16", 6, 9, 16, 3, 1, pads=[0, 0, 0, 0], res=True)
    case("dw3x3_s2_v16_asym_w29", 6, 13, 29, 3, 2, pads=[1, 0, 0, 1], act="clip6")
    case("dw3x3_s12_v16_w14", 7, 15, 14, 3, (1, 2), relu=True)
    case("dw3x3_s21_v16_w14", 7, 15, 14, 3, (2, 1), res=True)
    case("dw3x3_s12_v16_w40", 3, 6, 40, 3, (1, 2))
    case("dw3x3_s21_v16_w40", 3, 9, 40, 3, (2, 1), act="clip6")
    case("dw3x3_s1_v16_w56_h56_batch2", 3, 56, 56, 3, 1, n=2, res=True, act="clip6")
    # rows of at most 8 outputs (dwconv3.c's 8-lane kernel with AVX-512VL): tiles of 1 to 4 rows, residual, strides
    for h in (5, 6, 7, 8):
        case("dw3x3_s1_v8_w8_h%d" % h, 9, h, 8, 3, 1, res=True, act="clip6" if h % 2 else None)
        case("dw3x3_s2_v8_w15_h%d" % (2 * h), 10, 2 * h, 15, 3, 2, res=h % 2 == 0, relu=h % 2 == 1)
    case("dw3x3_s12_v8_w7", 5, 9, 7, 3, (1, 2), res=True)
    case("dw3x3_s21_v8_w7", 5, 9, 7, 3, (2, 1), act="clip6")
    case("dw3x3_s1_v8_w3_nopad_batch2", 4, 5, 5, 3, 1, pads=[0, 0, 0, 0], n=2, res=True)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
