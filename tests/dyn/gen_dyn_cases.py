#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_N/{input,output}_*.pb) for the ops whose output shapes
depend on data and the detection ops of runtime/kernels/detect.c, with expected outputs computed here by numpy
from the ONNX spec: NonZero (dtypes, ranks, NaN, none set), Compress (with and without axis, short condition,
nothing kept), Unique (sorted and not, every axis, all four outputs), NonMaxSuppression (center_point_box 0 and 1,
per-class limits, IoU and score thresholds, optional inputs omitted or empty, ties), RoiAlign (both
coordinate_transformation_modes, avg and max, sampling_ratio 0 and > 0, ROIs past the border), and graphs as
detectors' exporters write them, where the data-dependent sizes flow through Gather, Unsqueeze, Shape,
ConstantOfShape, TopK (K computed at run time), RoiAlign and a Conv; several data sets per model, so one session
runs them with sizes that grow, shrink and reach zero. Also writes OUT_DIR/bad_nms_* models with malformed inputs
that must be refused. Usage: gen_dyn_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt)."""
import math
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import init, write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
CASES = []
OUT = None
F32 = np.float32


def save(name, nodes, in_names, out_names, sets, opset, inits=()):
    """sets: list of (inputs, outputs), each a list of arrays in the order of in_names / out_names. Inputs are
    declared with the first set's dtype and rank and symbolic dims (the sets may differ in size)."""
    ins0, outs0 = sets[0]
    CASES.append(write_case(OUT, "test_" + name, nodes, list(zip(in_names, ins0)), list(zip(out_names, outs0)),
                            opset, inits, "gen_dyn_cases", sets=sets, symbolic=True))


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


# ---------------------------------------------------------------- NonZero, Compress, Unique

def nonzero_cases():
    x = RNG.integers(-1, 2, (3, 4, 5)).astype(F32)
    x[0, 1, 2] = np.nan  # NaN is not zero
    sets = []
    for a in (x, np.zeros((3, 4, 5), F32), RNG.integers(0, 2, (3, 4, 5)).astype(F32)):
        sets.append(([a], [np.array(np.nonzero(a), np.int64)]))
    save("nonzero_f32_3d_sets", [helper.make_node("NonZero", ["x"], ["y"])], ["x"], ["y"], sets, 13)
    for dt in (np.int32, np.int64, np.bool_, np.float64, np.uint8):
        a = RNG.integers(0, 3, (2, 7)).astype(dt)
        save(f"nonzero_{np.dtype(dt).name}", [helper.make_node("NonZero", ["x"], ["y"])], ["x"], ["y"],
             [([a], [np.array(np.nonzero(a), np.int64)])], 9)
    a = RNG.integers(0, 2, (2, 1, 3, 2)).astype(np.int64)
    save("nonzero_rank4", [helper.make_node("NonZero", ["x"], ["y"])], ["x"], ["y"],
         [([a], [np.array(np.nonzero(a), np.int64)])], 13)


def compress_cases():
    x = RNG.standard_normal((4, 5, 3)).astype(F32)
    for axis in (None, 0, 1, 2, -1):
        n = x.size if axis is None else x.shape[axis]
        sets = []
        for cond in (RNG.integers(0, 2, n).astype(bool), np.zeros(n, bool), RNG.integers(0, 2, max(n - 2, 1)).astype(bool)):
            sets.append(([x, cond], [np.compress(cond, x, axis=axis)]))
        kw = {} if axis is None else {"axis": axis}
        save(f"compress_axis_{'none' if axis is None else axis}".replace("-", "m"),
             [helper.make_node("Compress", ["x", "c"], ["y"], **kw)], ["x", "c"], ["y"], sets, 11)
    xi = RNG.integers(-9, 9, (6, 2)).astype(np.int64)
    cond = np.array([1, 0, 1, 1, 0, 1], bool)
    save("compress_int64_axis0", [helper.make_node("Compress", ["x", "c"], ["y"], axis=0)], ["x", "c"], ["y"],
         [([xi, cond], [np.compress(cond, xi, axis=0)])], 9)


def unique_ref(x, axis, sorted_):
    y, idx, inv, cnt = np.unique(x, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    inv = inv.reshape(-1)
    if not sorted_:
        order = np.argsort(idx, kind="stable")  # by first occurrence
        place = np.empty_like(order)
        place[order] = np.arange(len(order))
        y = np.take(y, order, axis=0 if axis is None else axis)
        idx, cnt, inv = idx[order], cnt[order], place[inv]
    return [y, idx.astype(np.int64), inv.astype(np.int64), cnt.astype(np.int64)]


def unique_cases():
    outs = ["y", "indices", "inverse", "counts"]
    for dt in (F32, np.int64, np.int32):
        x = RNG.integers(-2, 3, (4, 3, 2)).astype(dt)
        x[1] = x[0]  # duplicate slices along axis 0
        x[:, 2] = x[:, 0]  # and along axis 1
        for axis in (None, 0, 1, 2, -1):
            for sorted_ in (1, 0):
                kw = {"sorted": sorted_}
                if axis is not None:
                    kw["axis"] = axis
                sets = [([x], unique_ref(x, axis, sorted_))]
                if axis is None:
                    x2 = RNG.integers(0, 9, (5, 3, 2)).astype(dt)
                    sets.append(([x2], unique_ref(x2, axis, sorted_)))
                save(f"unique_{np.dtype(dt).name}_axis_{'none' if axis is None else axis}_sorted{sorted_}"
                     .replace("-", "m"), [helper.make_node("Unique", ["x"], outs, **kw)], ["x"], outs, sets, 11)
    # only the first output requested, as exporters often do
    x = RNG.integers(0, 5, 17).astype(np.int64)
    save("unique_only_y", [helper.make_node("Unique", ["x"], ["y"])], ["x"], ["y"], [([x], [np.unique(x)])], 11)


# ---------------------------------------------------------------- NonMaxSuppression

def corners(b, center):
    b = b.astype(F32)
    if center:
        hw, hh = b[2] / F32(2), b[3] / F32(2)
        return b[0] - hw, b[1] - hh, b[0] + hw, b[1] + hh
    return min(b[1], b[3]), min(b[0], b[2]), max(b[1], b[3]), max(b[0], b[2])


def iou(a, b, center):
    ax0, ay0, ax1, ay1 = corners(a, center)
    bx0, by0, bx1, by1 = corners(b, center)
    iw = min(ax1, bx1) - max(ax0, bx0)
    ih = min(ay1, by1) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return F32(0)
    inter = F32(iw * ih)
    ua = F32((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)
    if ua <= 0:
        return F32(0)
    return F32(inter / ua)


def nms_ref(boxes, scores, max_out, iou_t, score_t, center):
    """The spec's greedy selection per batch and class: candidates above score_threshold by score (highest
    first, ties by lower index), each kept unless its IoU with a kept box exceeds iou_threshold, at most
    max_output_boxes_per_class."""
    res = []
    nb, nc, n = scores.shape
    for b in range(nb):
        for c in range(nc):
            sc = scores[b, c]
            cand = [i for i in range(n) if score_t is None or sc[i] > score_t]
            cand.sort(key=lambda i: (-sc[i], i))
            sel = []
            for i in cand:
                if len(sel) >= max_out:
                    break
                if all(iou(boxes[b, j], boxes[b, i], center) <= iou_t for j in sel):
                    sel.append(i)
            res += [[b, c, i] for i in sel]
    return np.array(res, np.int64).reshape(-1, 3)


def rand_boxes(nb, n, center):
    # clustered boxes so that many overlap
    ctr = RNG.uniform(0, 10, (nb, 3, 2))
    pick = RNG.integers(0, 3, (nb, n))
    xy = np.take_along_axis(ctr, pick[..., None], axis=1) + RNG.normal(0, 0.6, (nb, n, 2))
    wh = RNG.uniform(0.5, 3, (nb, n, 2))
    if center:
        return np.concatenate([xy, wh], -1).astype(F32)
    y0x0 = xy[..., ::-1] - wh[..., ::-1] / 2
    b = np.concatenate([y0x0, y0x0 + wh[..., ::-1]], -1)
    flip = RNG.integers(0, 2, (nb, n)).astype(bool)  # either diagonal pair
    b[flip] = b[flip][:, [2, 3, 0, 1]]
    return b.astype(F32)


def nms_cases():
    ins = ["boxes", "scores", "max_out", "iou", "score_t"]
    for center in (0, 1):
        # 2**63 - 1: what torchvision writes for "no limit"
        for max_out, iou_t, score_t in ((3, 0.5, 0.2), (100, 0.3, None), (1, 0.0, 0.6), (2, 1.0, None),
                                        (2**63 - 1, 0.5, 0.1)):
            sets = []
            for nb, nc, n in ((2, 3, 12), (1, 2, 30), (2, 1, 5)):
                boxes = rand_boxes(nb, n, center)
                scores = RNG.uniform(0, 1, (nb, nc, n)).astype(F32)
                feed = [boxes, scores, np.array([max_out], np.int64), np.array([iou_t], F32)]
                if score_t is not None:
                    feed.append(np.array([score_t], F32))
                sets.append((feed, [nms_ref(boxes, scores, max_out, iou_t, score_t, center)]))
            n_in = 5 if score_t is not None else 4
            save(f"nms_center{center}_max{min(max_out, 999)}_iou{iou_t}_score{score_t}".replace(".", "p"),
                 [helper.make_node("NonMaxSuppression", ins[:n_in], ["sel"], center_point_box=center)],
                 ins[:n_in], ["sel"], sets, 11)
    boxes = rand_boxes(1, 10, 0)
    scores = RNG.uniform(0, 1, (1, 2, 10)).astype(F32)
    # max_output_boxes_per_class omitted: nothing is selected
    save("nms_only_boxes_scores", [helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["sel"])],
         ["boxes", "scores"], ["sel"], [([boxes, scores], [np.zeros((0, 3), np.int64)])], 10)
    # empty names for the optional inputs, the limit and score threshold from initializers
    save("nms_empty_names_inits", [helper.make_node("NonMaxSuppression", ["boxes", "scores", "m", "", "st"], ["sel"])],
         ["boxes", "scores"], ["sel"], [([boxes, scores], [nms_ref(boxes, scores, 4, 0.0, 0.4, 0)])], 11,
         inits=[const("m", np.array([4], np.int64)), const("st", np.array([0.4], F32))])
    # an empty iou_threshold tensor counts as omitted (0)
    save("nms_empty_iou_tensor", [helper.make_node("NonMaxSuppression", ["boxes", "scores", "m", "e"], ["sel"])],
         ["boxes", "scores"], ["sel"], [([boxes, scores], [nms_ref(boxes, scores, 3, 0.0, None, 0)])], 11,
         inits=[const("m", np.array(3, np.int64)), const("e", np.zeros((0,), F32))])
    # equal scores: the lower box index first; identical boxes suppress each other
    boxes = np.tile(np.array([[0, 0, 1, 1]], F32), (6, 1))[None]
    boxes[0, 3] = [5, 5, 6, 6]
    scores = np.array([[[0.5, 0.9, 0.9, 0.5, 0.1, 0.9]]], F32)
    save("nms_ties", [helper.make_node("NonMaxSuppression", ["boxes", "scores", "m", "i"], ["sel"])],
         ["boxes", "scores"], ["sel"], [([boxes, scores], [nms_ref(boxes, scores, 10, 0.5, None, 0)])], 11,
         inits=[const("m", np.array([10], np.int64)), const("i", np.array([0.5], F32))])


# ---------------------------------------------------------------- RoiAlign

def bilinear(img, y, x, max_mode):
    h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return F32(0)
    y = max(y, F32(0))
    x = max(x, F32(0))
    yl, xl = int(y), int(x)
    if yl >= h - 1:
        yh = yl = h - 1
        y = F32(yl)
    else:
        yh = yl + 1
    if xl >= w - 1:
        xh = xl = w - 1
        x = F32(xl)
    else:
        xh = xl + 1
    ly, lx = F32(y - yl), F32(x - xl)
    hy, hx = F32(1) - ly, F32(1) - lx
    v = [hy * hx * img[yl, xl], hy * lx * img[yl, xh], ly * hx * img[yh, xl], ly * lx * img[yh, xh]]
    return max(v) if max_mode else F32(v[0] + v[1] + v[2] + v[3])


def roialign_ref(x, rois, bi, oh, ow, sr, scale, mode, half_pixel):
    """RoiAlign as the spec's reference (and ONNX Runtime) compute it: each output bin averages (max: takes the
    largest of) a grid of bilinear samples; for max, each sample is the largest of its four weighted corners."""
    n_r, c = rois.shape[0], x.shape[1]
    y = np.zeros((n_r, c, oh, ow), F32)
    off = F32(0.5) if half_pixel else F32(0)
    for r in range(n_r):
        sw, sh, ew, eh = [F32(v * F32(scale)) - off for v in rois[r]]
        rw, rh = ew - sw, eh - sh
        if not half_pixel:
            rw, rh = max(rw, F32(1)), max(rh, F32(1))
        bh, bw = F32(rh / F32(oh)), F32(rw / F32(ow))
        gh = sr if sr > 0 else int(math.ceil(rh / F32(oh)))
        gw = sr if sr > 0 else int(math.ceil(rw / F32(ow)))
        count = F32(max(gh * gw, 1))
        for ch in range(c):
            img = x[bi[r], ch]
            for ph in range(oh):
                for pw in range(ow):
                    vals = []
                    for iy in range(gh):
                        yy = F32(sh + F32(ph) * bh + F32((F32(iy) + F32(0.5)) * bh) / F32(gh))
                        for ix in range(gw):
                            xx = F32(sw + F32(pw) * bw + F32((F32(ix) + F32(0.5)) * bw) / F32(gw))
                            vals.append(bilinear(img, yy, xx, mode == "max"))
                    if mode == "max":
                        y[r, ch, ph, pw] = max(vals) if vals else 0
                    else:
                        y[r, ch, ph, pw] = F32(np.sum(np.array(vals, np.float64))) / count if vals else 0
    return y


def roialign_cases():
    x = RNG.standard_normal((2, 3, 9, 11)).astype(F32)
    rois = np.array([[0, 0, 8, 8], [1.3, 2.2, 7.9, 5.1], [-2, -1, 4, 3], [6, 5, 14, 12], [3, 3, 3.4, 3.2]], F32)
    bi = np.array([0, 1, 1, 0, 1], np.int64)
    for opset, ctm in ((16, "half_pixel"), (16, "output_half_pixel"), (10, None)):
        for mode in ("avg", "max"):
            for sr, scale, oh, ow in ((0, 1.0, 3, 4), (2, 0.5, 2, 2)):
                kw = dict(mode=mode, output_height=oh, output_width=ow, sampling_ratio=sr, spatial_scale=scale)
                if ctm:
                    kw["coordinate_transformation_mode"] = ctm
                y = roialign_ref(x, rois, bi, oh, ow, sr, scale, mode, ctm == "half_pixel")
                save(f"roialign_op{opset}_{ctm or 'default'}_{mode}_sr{sr}",
                     [helper.make_node("RoiAlign", ["x", "rois", "bi"], ["y"], **kw)], ["x", "rois", "bi"], ["y"],
                     [([x, rois, bi], [y])], opset)


# ---------------------------------------------------------------- graphs as exporters write them

def postprocess_case():
    """Score threshold -> NonZero -> Gather of boxes and scores -> NonMaxSuppression -> Gather of the kept boxes,
    and a TopK of the candidates whose K = min(3, count) is computed at run time; a static output beside."""
    nodes = [
        helper.make_node("Greater", ["scores", "thr"], ["mask"]),
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Squeeze", ["nz", "ax0"], ["idx"]),
        helper.make_node("Gather", ["boxes", "idx"], ["cb"], axis=0),
        helper.make_node("Gather", ["scores", "idx"], ["cs"], axis=0),
        helper.make_node("Unsqueeze", ["cb", "ax0"], ["cb3"]),
        helper.make_node("Unsqueeze", ["cs", "ax01"], ["cs3"]),
        helper.make_node("NonMaxSuppression", ["cb3", "cs3", "maxo", "iou"], ["sel"]),
        helper.make_node("Gather", ["sel", "two"], ["keep"], axis=1),
        helper.make_node("Gather", ["cb", "keep"], ["out_boxes"], axis=0),
        helper.make_node("Gather", ["cs", "keep"], ["out_scores"], axis=0),
        helper.make_node("Shape", ["cs"], ["n"]),
        helper.make_node("Min", ["n", "three"], ["k"]),
        helper.make_node("TopK", ["cs", "k"], ["top", "top_i"]),
        helper.make_node("ReduceSum", ["scores"], ["total"], keepdims=0),
    ]
    inits = [const("thr", np.array(0.4, F32)), const("ax0", np.array([0], np.int64)),
             const("ax01", np.array([0, 1], np.int64)), const("maxo", np.array([4], np.int64)),
             const("iou", np.array([0.3], F32)), const("two", np.array(2, np.int64)),
             const("three", np.array([3], np.int64))]
    sets = []
    for hi in (1.0, 0.6, 0.3, 1.0):  # many candidates, a few, none, many again
        boxes = rand_boxes(1, 25, 0)[0]
        scores = RNG.uniform(0, hi, 25).astype(F32)
        idx = np.nonzero(scores > F32(0.4))[0]
        cb, cs = boxes[idx], scores[idx]
        keep = nms_ref(cb[None], cs[None, None], 4, 0.3, None, 0)[:, 2]
        k = min(3, len(cs))
        ti = np.argsort(-cs, kind="stable")[:k].astype(np.int64)
        total = np.array(np.sum(scores.astype(np.float64)), F32)
        sets.append(([boxes, scores], [cb[keep].reshape(-1, 4), cs[keep], cs[ti], ti, total]))
    save("detect_postprocess", nodes, ["boxes", "scores"], ["out_boxes", "out_scores", "top", "top_i", "total"], sets,
         13, inits)


def mask_head_case():
    """Kept boxes (NonZero on scores) -> RoiAlign on a feature map with batch indices from
    ConstantOfShape(Shape(...)) -> Conv 1x1 + Relu: a convolution whose input size is known only at run time."""
    w = RNG.standard_normal((4, 3, 1, 1)).astype(F32)
    bias = RNG.standard_normal(4).astype(F32)
    nodes = [
        helper.make_node("Greater", ["scores", "thr"], ["mask"]),
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Squeeze", ["nz", "ax0"], ["idx"]),
        helper.make_node("Gather", ["boxes", "idx"], ["rois"], axis=0),
        helper.make_node("Shape", ["rois"], ["rs"]),
        helper.make_node("Gather", ["rs", "zero"], ["nr"], axis=0),
        helper.make_node("Unsqueeze", ["nr", "ax0"], ["nr1"]),
        helper.make_node("ConstantOfShape", ["nr1"], ["bi"], value=helper.make_tensor("v", TensorProto.INT64, [1], [0])),
        helper.make_node("RoiAlign", ["feat", "rois", "bi"], ["pooled"], output_height=3, output_width=3,
                         sampling_ratio=2, spatial_scale=0.5),
        helper.make_node("Conv", ["pooled", "w", "b"], ["conv"]),
        helper.make_node("Relu", ["conv"], ["masks"]),
    ]
    inits = [const("thr", np.array(0.5, F32)), const("ax0", np.array([0], np.int64)),
             const("zero", np.array(0, np.int64)), const("w", w), const("b", bias)]
    sets = []
    feat = RNG.standard_normal((1, 3, 8, 8)).astype(F32)
    for n_keep in (3, 7, 0, 2):
        boxes = np.sort(RNG.uniform(0, 16, (10, 2, 2)), axis=1).reshape(10, 4)[:, [0, 2, 1, 3]].astype(F32)
        scores = np.concatenate([RNG.uniform(0.6, 1, n_keep), RNG.uniform(0, 0.4, 10 - n_keep)]).astype(F32)
        RNG.shuffle(scores)
        rois = boxes[scores > F32(0.5)]
        pooled = roialign_ref(feat, rois, np.zeros(len(rois), np.int64), 3, 3, 2, 0.5, "avg", True)
        conv = np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), pooled.astype(np.float64)) + \
            bias[None, :, None, None]
        sets.append(([feat, boxes, scores], [np.maximum(conv, 0).astype(F32)]))
    save("detect_mask_head", nodes, ["feat", "boxes", "scores"], ["masks"], sets, 16, inits)


def topk_runtime_k_case():
    """TopK whose K is computed from input data (ReduceMax of an int64 input), not known at plan time."""
    nodes = [helper.make_node("ReduceMax", ["kin"], ["k"], keepdims=1),
             helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, largest=0)]
    sets = []
    for k in (2, 5, 0, 1):
        x = RNG.integers(-4, 4, (3, 6)).astype(F32)
        kin = np.array([k, -1], np.int64)
        idx = np.argsort(x, axis=1, kind="stable")[:, :k]
        sets.append(([x, kin], [np.take_along_axis(x, idx, 1), idx.astype(np.int64)]))
    save("topk_k_from_data", nodes, ["x", "kin"], ["v", "i"], sets, 13)


def if_cases():
    """If: branches that read the enclosing graph's values (including a dynamic one), outputs whose shape differs
    per branch, and a nested If whose inner branches read values of the main graph."""
    T = TensorProto.FLOAT

    def out(n):
        return helper.make_tensor_value_info(n, T, None)
    then_g = helper.make_graph([helper.make_node("Add", ["x", "nzf"], ["t"])], "then", [], [out("t")])
    else_g = helper.make_graph([helper.make_node("Concat", ["x", "x"], ["e"], axis=0)], "else", [], [out("e")])
    nodes = [helper.make_node("Greater", ["x", "zero"], ["pos"]),
             helper.make_node("NonZero", ["pos"], ["nz"]),
             helper.make_node("Shape", ["nz"], ["nzs"]),
             helper.make_node("Cast", ["nzs"], ["nzf"], to=T),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Mul", ["y", "two"], ["z"])]
    sets = []
    for c in (True, False, True):
        x = RNG.standard_normal(2).astype(F32)
        nzf = np.array(np.nonzero(x > 0)).shape
        y = x + np.array(nzf, F32) if c else np.concatenate([x, x])
        sets.append(([x, np.array(c)], [y * 2]))
    save("if_outer_values_shapes_differ", nodes, ["x", "c"], ["z"], sets, 13,
         [const("zero", np.array(0, F32)), const("two", np.array(2, F32))])
    # nested: the inner branches read 'x' and 'a', which the middle branch reads too
    inner_t = helper.make_graph([helper.make_node("Mul", ["x", "a"], ["it"])], "inner_then", [], [out("it")])
    inner_e = helper.make_graph([helper.make_node("Sub", ["x", "a"], ["ie"])], "inner_else", [], [out("ie")])
    mid_t = helper.make_graph([helper.make_node("Neg", ["a"], ["na"]), helper.make_node("Identity", ["x"], ["xi"]),
                               helper.make_node("If", ["c2"], ["m"], then_branch=inner_t, else_branch=inner_e),
                               helper.make_node("Add", ["m", "na"], ["mt"])], "mid_then", [], [out("mt")])
    # (an Identity: ONNX Runtime refuses a branch whose output is an outer value itself)
    mid_e = helper.make_graph([helper.make_node("Identity", ["x"], ["xo"])], "mid_else", [], [out("xo")])
    nodes = [helper.make_node("If", ["c1"], ["y"], then_branch=mid_t, else_branch=mid_e)]
    sets = []
    for c1, c2 in ((True, True), (True, False), (False, True)):
        x = RNG.standard_normal(3).astype(F32)
        a_ = RNG.standard_normal(3).astype(F32)
        y = ((x * a_) if c2 else (x - a_)) - a_ if c1 else x
        sets.append(([x, a_, np.array(c1), np.array(c2)], [y]))
    save("if_nested", nodes, ["x", "a", "c1", "c2"], ["y"], sets, 13)


def bad_cases():
    def bad(name, bshape, sshape, extra=()):
        ins = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, bshape),
               helper.make_tensor_value_info("scores", TensorProto.FLOAT, sshape)]
        g = helper.make_graph([helper.make_node("NonMaxSuppression", ["boxes", "scores"] + [e[0] for e in extra],
                                                ["sel"], name="nms")], "bad", ins,
                              [helper.make_tensor_value_info("sel", TensorProto.INT64, None)],
                              initializer=[const(n, a) for n, a in extra])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
        m.ir_version = 8
        d = os.path.join(OUT, "bad_nms_" + name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(m.SerializeToString())
    bad("boxes_last_dim", [1, 6, 5], [1, 2, 6])
    bad("boxes_rank", [6, 4], [1, 2, 6])
    bad("scores_mismatch", [1, 6, 4], [1, 2, 7])
    bad("max_out_not_scalar", [1, 6, 4], [1, 2, 6], [("m", np.array([1, 2], np.int64))])
    bad("iou_out_of_range", [1, 6, 4], [1, 2, 6], [("m", np.array([1], np.int64)), ("i", np.array([1.5], F32))])
    # an If whose branches disagree on an output's type
    tg = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    eg = helper.make_graph([helper.make_node("Cast", ["x"], ["e"], to=TensorProto.INT64)], "else", [],
                           [helper.make_tensor_value_info("e", TensorProto.INT64, None)])
    g = helper.make_graph([helper.make_node("If", ["c"], ["y"], name="if", then_branch=tg, else_branch=eg)], "bad",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                           helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.join(OUT, "bad_if_types"), exist_ok=True)
    with open(os.path.join(OUT, "bad_if_types", "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    nonzero_cases()
    compress_cases()
    unique_cases()
    nms_cases()
    roialign_cases()
    postprocess_case()
    mask_head_case()
    topk_runtime_k_case()
    if_cases()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
