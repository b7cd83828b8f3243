#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for the quantized kernels of
runtime/kernels/quant.c and qgemm.c, with expected outputs computed by numpy from the ONNX spec's formulas
(independent of onnxc): QuantizeLinear / DequantizeLinear per tensor and per axis (opset 10 and 13, int8 and
uint8, zero point omitted, int32 input, ties at .5, saturation), DynamicQuantizeLinear on ranges with and without
0, MatMulInteger with zero points per tensor / row / column / matrix and numpy batching, ConvInteger and
QLinearConv in 1-D, 2-D and 3-D with strides, dilations, asymmetric pads, auto_pad, groups, per-channel weight
zero points and scales and an int32 bias, QLinearMatMul per column and batched; sizes above one GEMM panel and
one column block so remainders and several work items run.
Also writes OUT_DIR/bad_*/model.onnx, models that must be refused with a message naming the node (see
tests/quant.cmake).
Usage: gen_quant_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt listing every case)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import init, write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
CASES = []
OUT = None
QR = {np.uint8: (0, 255), np.int8: (-128, 127)}


def save(name, nodes, inputs, outputs, opset, inits=(), folder=None):
    d = write_case(OUT, folder or "test_" + name, nodes, inputs, outputs, opset, inits, "gen_quant_cases")
    if not folder:
        CASES.append(d)




def requant(v, zp, dt):
    """saturate(round_half_even(v) + zp) for float32 v (v = x / scale or acc * multiplier)."""
    lo, hi = QR[dt]
    return np.clip(np.rint(v.astype(np.float32)) + zp, lo, hi).astype(dt)


def qparams(dt, n):
    s = RNG.uniform(0.01, 0.2, n).astype(np.float32)
    lo, hi = QR[dt]
    zp = RNG.integers(lo + 20, hi - 20, n).astype(dt)
    return s, zp


def bshape(a, axis, rank):
    sh = [1] * rank
    sh[axis] = -1
    return a.reshape(sh)


# ---------------------------------------------------------------- QuantizeLinear / DequantizeLinear

def qdq_cases():
    x = RNG.standard_normal((3, 4, 5, 6)).astype(np.float32) * 8
    # ties: x / s exactly k + 0.5 for many elements, and values far outside the range (saturation)
    x.flat[:40] = (np.arange(40) - 20 + 0.5).astype(np.float32) * 0.5
    x.flat[40:44] = [1e6, -1e6, 300.0, -300.0]
    for dt in (np.uint8, np.int8):
        s, zp = qparams(dt, 1)
        s = np.float32(0.5)
        y = requant(x / s, int(zp[0]), dt)
        save(f"q10_{np.dtype(dt).name}", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"])], [("x", x)],
             [("y", y)], 10, [init("s", s), init("zp", zp[0])])
        # DequantizeLinear back, zero point as a 1-element 1-D tensor
        save(f"dq10_{np.dtype(dt).name}", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"])],
             [("q", y)], [("y", ((y.astype(np.int32) - int(zp[0])).astype(np.float32) * s).astype(np.float32))], 10,
             [init("s", np.array([s], np.float32)), init("zp", zp[:1])])
        for axis in (0, 1, -1):
            n = x.shape[axis]
            s, zp = qparams(dt, n)
            y = requant(x / bshape(s, axis, 4), bshape(zp.astype(np.int32), axis, 4), dt)
            nm = f"{np.dtype(dt).name}_axis{axis}".replace("-", "m")
            save(f"q13_{nm}", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], axis=axis)], [("x", x)],
                 [("y", y)], 13, [init("s", s), init("zp", zp)])
            deq = ((y.astype(np.int32) - bshape(zp.astype(np.int32), axis, 4)).astype(np.float32) *
                   bshape(s, axis, 4)).astype(np.float32)
            save(f"dq13_{nm}", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], axis=axis)],
                 [("q", y)], [("y", deq)], 13, [init("s", s), init("zp", zp)])
    # large enough for the run to be split over the pool's threads (test_quant_models.py runs it with 2)
    xb = RNG.standard_normal((4, 64, 33, 35)).astype(np.float32) * 4
    s, zp = qparams(np.int8, 64)
    yb = requant(xb / bshape(s, 1, 4), bshape(zp.astype(np.int32), 1, 4), np.int8)
    save("q13_big_axis1", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], axis=1)], [("x", xb)],
         [("y", yb)], 13, [init("s", s), init("zp", zp)])
    save("dq13_big_axis1", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], axis=1)], [("q", yb)],
         [("y", ((yb.astype(np.int32) - bshape(zp.astype(np.int32), 1, 4)).astype(np.float32) *
                 bshape(s, 1, 4)).astype(np.float32))], 13, [init("s", s), init("zp", zp)])
    # no zero point: uint8 output, zero point 0
    s = np.float32(0.25)
    save("q13_no_zp", [helper.make_node("QuantizeLinear", ["x", "s"], ["y"])], [("x", x)],
         [("y", requant(x / s, 0, np.uint8))], 13, [init("s", s)])
    # int32 input, converted to float first
    xi = RNG.integers(-5000, 5000, (7, 9)).astype(np.int32)
    xi.flat[:6] = [5, 15, -5, -15, 25, 35]  # ties with scale 10
    s = np.float32(10.0)
    save("q13_int32_input", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"])], [("x", xi)],
         [("y", requant(xi.astype(np.float32) / s, -3, np.int8))], 13, [init("s", s), init("zp", np.int8(-3))])
    # DequantizeLinear of int32 (a bias), zero point omitted and given as 0
    s = np.float32(0.003)
    ref = (xi.astype(np.float32) * s).astype(np.float32)
    save("dq13_int32", [helper.make_node("DequantizeLinear", ["x", "s"], ["y"])], [("x", xi)], [("y", ref)], 13,
         [init("s", s)])
    save("dq13_int32_zero_zp", [helper.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"])], [("x", xi)],
         [("y", ref)], 13, [init("s", s), init("zp", np.int32(0))])
    # scale and zero point as graph inputs (known only at run time)
    q = RNG.integers(0, 256, (4, 33)).astype(np.uint8)
    s, zp = qparams(np.uint8, 33)
    save("dq13_runtime_params", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], axis=1)],
         [("q", q), ("s", s), ("zp", zp)],
         [("y", ((q.astype(np.int32) - zp.astype(np.int32)).astype(np.float32) * s).astype(np.float32))], 13)


def dynq_ref(x):
    mn = np.minimum(np.float32(0), x.min()).astype(np.float32)
    mx = np.maximum(np.float32(0), x.max()).astype(np.float32)
    # ONNX Runtime: a range of 0 (all zeros) gets scale 1 instead of dividing by 0
    s = np.float32(1.0) if mx == mn else np.float32((mx - mn) / np.float32(255))
    zp = np.uint8(np.rint(np.clip(np.float32(0) - mn / s, 0, 255)))
    return requant(x / s, int(zp), np.uint8), np.float32(s), zp


def dynq_cases():
    for nm, x in (("mixed", RNG.standard_normal((2, 3, 17, 9)).astype(np.float32) * 3),
                  ("positive", RNG.uniform(0.5, 9, (130,)).astype(np.float32)),
                  ("negative", RNG.uniform(-9, -0.5, (5, 31)).astype(np.float32)),
                  ("zeros", np.zeros((3, 4), np.float32))):
        y, s, zp = dynq_ref(x)
        save(f"dynq_{nm}", [helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "zp"])], [("x", x)],
             [("y", y), ("s", s), ("zp", zp)], 11)


# ---------------------------------------------------------------- MatMulInteger / QLinearMatMul

def rand8(dt, shape):
    lo, hi = QR[dt]
    return RNG.integers(lo, hi + 1, shape).astype(dt)


def mmi_cases():
    combos = [
        # name, A shape, B shape, A type, B type, a_zp shape, b_zp shape
        ("2d_u8u8_scalar", (37, 51), (51, 45), np.uint8, np.uint8, (), ()),
        ("2d_u8i8_rowcol", (9, 70), (70, 33), np.uint8, np.int8, (9,), (33,)),
        ("2d_i8i8_nozp", (5, 3), (3, 7), np.int8, np.int8, None, None),
        ("3d_batchA", (2, 6, 19), (19, 20), np.uint8, np.int8, (), (20,)),
        ("4d_broadcast", (2, 1, 5, 8), (3, 8, 17), np.int8, np.uint8, (2, 1, 5, 1), (3, 1, 17)),
        ("1d_a", (40,), (40, 18), np.uint8, np.uint8, (), ()),
        ("big", (70, 300), (300, 600), np.uint8, np.uint8, (), (600,)),
    ]
    for nm, sa, sb, ta, tb, za, zb in combos:
        a, b = rand8(ta, sa), rand8(tb, sb)
        ins, names, inits = [("A", a), ("B", b)], ["A", "B"], []
        ai, bi = a.astype(np.int64), b.astype(np.int64)
        if za is not None:
            z = rand8(ta, za)
            inits.append(init("azp", z))
            zz = z.astype(np.int64)
            ai = ai - (zz[:, None] if len(za) == 1 and len(sa) >= 2 else zz)
        names.append("azp" if za is not None else "")
        if zb is not None:
            z = rand8(tb, zb)
            inits.append(init("bzp", z))
            bi = bi - z.astype(np.int64)
        names.append("bzp" if zb is not None else "")
        while names and names[-1] == "":
            names.pop()
        y = np.matmul(ai, bi).astype(np.int32)
        save(f"mmi_{nm}", [helper.make_node("MatMulInteger", names, ["Y"])], ins, [("Y", y)], 10, inits)


def qlmm_cases():
    for nm, sa, sb, ta, tb, ty, percol in (("2d_u8", (13, 40), (40, 35), np.uint8, np.uint8, np.uint8, False),
                                          ("2d_percol_i8", (6, 70), (70, 21), np.uint8, np.int8, np.int8, True),
                                          ("3d", (3, 7, 24), (24, 17), np.int8, np.int8, np.uint8, False)):
        a, b = rand8(ta, sa), rand8(tb, sb)
        as_, az = qparams(ta, 1)
        bs, bz = qparams(tb, sb[-1] if percol else 1)
        ys, yz = qparams(ty, 1)
        ys = ys * 30
        acc = np.matmul(a.astype(np.int64) - az.astype(np.int64)[0], b.astype(np.int64) - bz.astype(np.int64))
        mult = (as_[0] * bs / ys[0]).astype(np.float32)  # float32 arithmetic, as ONNX Runtime
        y = requant(acc.astype(np.float32) * mult, int(yz[0]), ty)
        bsv, bzv = (bs, bz) if percol else (bs[0], bz[0])
        inits = [init("as", as_[0]), init("az", az[0]), init("bs", bsv), init("bz", bzv), init("ys", ys[0]),
                 init("yz", yz[0])]
        save(f"qlmm_{nm}", [helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])],
             [("a", a), ("b", b)], [("y", y)], 10, inits)


# ---------------------------------------------------------------- ConvInteger / QLinearConv

def conv_ref(x, w, strides, pads, dil, group):
    """int64 convolution of already zero-point-subtracted x [N, C, *sp] and w [M, C/g, *k]; pads [b..., e...]."""
    nsp = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + nsp]) for i in range(nsp)])
    k = w.shape[2:]
    out = [(xp.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(nsp)]
    n, c = x.shape[:2]
    m = w.shape[0]
    cg, mg = c // group, m // group
    y = np.zeros((n, m) + tuple(out), np.int64)
    for g in range(group):
        xg = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * mg:(g + 1) * mg]
        for kk in np.ndindex(*k):
            sl = tuple(slice(kk[i] * dil[i], kk[i] * dil[i] + strides[i] * (out[i] - 1) + 1, strides[i])
                       for i in range(nsp))
            patch = xg[(slice(None), slice(None)) + sl]  # [N, cg, *out]
            wk = wg[(slice(None), slice(None)) + tuple(kk)]  # [mg, cg]
            y[:, g * mg:(g + 1) * mg] += np.einsum("nc...,mc->nm...", patch, wk)
    return y


def same_pads(insp, k, s, d, upper):
    pads_b, pads_e = [], []
    for i in range(len(insp)):
        o = -(-insp[i] // s[i])
        tot = max(0, (o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - insp[i])
        small, big = tot // 2, tot - tot // 2
        pads_b.append(small if upper else big)
        pads_e.append(big if upper else small)
    return pads_b + pads_e


CONV_GEOMS = [
    # name, x shape, w shape, attrs (strides, pads, dilations, group, auto_pad)
    ("2d_basic", (1, 3, 9, 11), (5, 3, 3, 3), dict()),
    ("2d_stride_pad", (2, 4, 17, 19), (37, 4, 3, 3), dict(strides=[2, 1], pads=[1, 0, 2, 1])),
    ("2d_dil_group", (1, 6, 12, 10), (8, 3, 3, 2), dict(dilations=[2, 3], group=2, pads=[2, 1, 2, 1])),
    ("2d_depthwise", (1, 8, 10, 10), (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1])),
    ("2d_same_upper", (1, 5, 7, 8), (6, 5, 4, 3), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ("2d_big", (1, 20, 23, 21), (40, 20, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("1d", (2, 5, 30), (7, 5, 4), dict(strides=[3], pads=[2, 1])),
    ("3d", (1, 3, 5, 6, 7), (4, 3, 2, 3, 2), dict(strides=[1, 2, 1], pads=[0, 1, 1, 1, 0, 0])),
]


def conv_attrs_pads(xs, ws, a):
    nsp = len(xs) - 2
    st = a.get("strides", [1] * nsp)
    dl = a.get("dilations", [1] * nsp)
    if a.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        pads = same_pads(xs[2:], ws[2:], st, dl, a["auto_pad"] == "SAME_UPPER")
    else:
        pads = a.get("pads", [0] * 2 * nsp)
    return st, pads, dl, a.get("group", 1)


def convint_cases():
    for i, (nm, xs, ws, a) in enumerate(CONV_GEOMS):
        tx, tw = (np.uint8, np.uint8) if i % 3 != 2 else (np.int8, np.uint8) if i % 2 else (np.uint8, np.int8)
        x, w = rand8(tx, xs), rand8(tw, ws)
        xz = rand8(tx, ())
        perch = i % 2 == 1
        wz = rand8(tw, (ws[0],) if perch else ())
        st, pads, dl, g = conv_attrs_pads(xs, ws, a)
        wzb = wz.astype(np.int64).reshape((-1,) + (1,) * (len(ws) - 1)) if perch else wz.astype(np.int64)
        y = conv_ref(x.astype(np.int64) - int(xz), w.astype(np.int64) - wzb, st, pads, dl, g).astype(np.int32)
        node = helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], **a)
        save(f"convint_{nm}", [node], [("x", x)], [("y", y)], 10, [init("w", w), init("xz", xz), init("wz", wz)])
    # weights and zero points as graph inputs: packed at run time
    nm, xs, ws, a = CONV_GEOMS[1]
    x, w = rand8(np.uint8, xs), rand8(np.uint8, ws)
    xz, wz = rand8(np.uint8, ()), rand8(np.uint8, ())
    st, pads, dl, g = conv_attrs_pads(xs, ws, a)
    y = conv_ref(x.astype(np.int64) - int(xz), w.astype(np.int64) - int(wz), st, pads, dl, g).astype(np.int32)
    save("convint_runtime_weights", [helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], **a)],
         [("x", x), ("w", w), ("xz", xz), ("wz", wz)], [("y", y)], 10)


def qlconv_cases():
    for i, (nm, xs, ws, a) in enumerate(CONV_GEOMS):
        tx = np.uint8 if i % 2 == 0 else np.int8
        tw = np.int8 if i % 3 else np.uint8
        ty = np.uint8 if i % 2 else np.int8
        x, w = rand8(tx, xs), rand8(tw, ws)
        xs_, xz = qparams(tx, 1)
        perch = i % 2 == 0
        wsc, wz = qparams(tw, ws[0] if perch else 1)
        ys, yz = qparams(ty, 1)
        ys = ys * 40
        st, pads, dl, g = conv_attrs_pads(xs, ws, a)
        wzb = wz.astype(np.int64).reshape((-1,) + (1,) * (len(ws) - 1))
        acc = conv_ref(x.astype(np.int64) - int(xz[0]), w.astype(np.int64) - wzb, st, pads, dl, g)
        bias = RNG.integers(-3000, 3000, ws[0]).astype(np.int32) if i != 3 else None
        if bias is not None:
            acc = acc + bias.astype(np.int64).reshape((-1,) + (1,) * (len(xs) - 2))
        mult = (xs_[0] * wsc / ys[0]).astype(np.float32).reshape((-1,) + (1,) * (len(xs) - 2))
        y = requant(acc.astype(np.float32) * mult, int(yz[0]), ty)
        inits = [init("xs", xs_[0]), init("xz", xz[0]), init("w", w), init("ws", wsc if perch else wsc[0]),
                 init("wz", wz if perch else wz[0]), init("ys", ys[0]), init("yz", yz[0])]
        names = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"]
        if bias is not None:
            inits.append(init("B", bias))
            names.append("B")
        save(f"qlconv_{nm}", [helper.make_node("QLinearConv", names, ["y"], **a)], [("x", x)], [("y", y)], 10, inits)
    # per-channel weight scales with one weight zero point
    nm, xs, ws, a = CONV_GEOMS[1]
    x, w = rand8(np.uint8, xs), rand8(np.uint8, ws)
    xs_, xz = qparams(np.uint8, 1)
    wsc, _ = qparams(np.uint8, ws[0])
    wz = np.uint8(131)
    ys, yz = qparams(np.uint8, 1)
    ys = ys * 40
    st, pads, dl, g = conv_attrs_pads(xs, ws, a)
    acc = conv_ref(x.astype(np.int64) - int(xz[0]), w.astype(np.int64) - int(wz), st, pads, dl, g)
    mult = (xs_[0] * wsc / ys[0]).astype(np.float32).reshape(-1, 1, 1)
    y = requant(acc.astype(np.float32) * mult, int(yz[0]), np.uint8)
    inits = [init("xs", xs_[0]), init("xz", xz[0]), init("w", w), init("ws", wsc), init("wz", wz),
             init("ys", ys[0]), init("yz", yz[0])]
    save("qlconv_perchannel_scale_scalar_zp",
         [helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], **a)], [("x", x)],
         [("y", y)], 10, inits)


# ---------------------------------------------------------------- models that must be refused

def bad(folder, nodes, inputs, outputs, inits, opset=13):
    save(folder, nodes, inputs, outputs, opset, inits, folder=folder)


def bad_cases():
    x = np.zeros((2, 3), np.float32)
    bad("bad_zero_scale", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], name="q_zero")], [("x", x)],
        [("y", np.zeros((2, 3), np.uint8))], [init("s", np.float32(0)), init("zp", np.uint8(3))])
    q = np.zeros((2, 3), np.uint8)
    bad("bad_zp_type", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], name="dq_type")], [("q", q)],
        [("y", x)], [init("s", np.float32(0.5)), init("zp", np.int8(3))])
    # a uint8 zero point of 300, stored in int32_data as the spec stores uint8 values
    zp = helper.make_tensor("zp", TensorProto.UINT8, [], [300])
    bad("bad_zp_range", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], name="q_range")], [("x", x)],
        [("y", q)], [init("s", np.float32(0.5)), zp])
    xc = np.zeros((1, 2, 4, 4), np.float32)
    bad("bad_conv_type", [helper.make_node("ConvInteger", ["x", "w"], ["y"], name="ci_float")], [("x", xc)],
        [("y", np.zeros((1, 3, 2, 2), np.int32))], [init("w", np.zeros((3, 2, 3, 3), np.uint8))], 10)
    bad("bad_dq_int32_zp", [helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], name="dq_i32")],
        [("q", np.zeros((4,), np.int32))], [("y", np.zeros((4,), np.float32))],
        [init("s", np.float32(0.5)), init("zp", np.int32(2))])
    bad("bad_axis_len", [helper.make_node("QuantizeLinear", ["x", "s"], ["y"], name="q_axis", axis=1)], [("x", x)],
        [("y", q)], [init("s", np.ones(4, np.float32))])


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    qdq_cases()
    dynq_cases()
    mmi_cases()
    qlmm_cases()
    convint_cases()
    qlconv_cases()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
