#!/usr/bin/python3
"""Detection-aware `onnxc compare` and `optimize --verify` (tools/compare_det.c), end to end through the CLI.

The models are built here with onnx.helper: each holds its detections as constants and keeps the rows whose
score is above a threshold given as input `thr` (Greater + Compress), so their count K depends on the data as a
detector's does. A and B differ on purpose: two tied boxes swapped, one box more above the threshold, a shifted
box, a relabelled box, a changed mask, nothing kept on one or both sides. The expected figures come from the
numpy matcher below, written from the rule in onnxc.h (onnxc_compare_detections), and from how each case was
built (a swap of two tied boxes is all matched); never from onnxc's own output. Run one group:
test_detcmp.py GROUP with ONNXC (the binary) and ONNXC_MODELS_DIR in the environment.
"""
import atexit
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC = os.environ.get("ONNXC", "onnxc")
MODELS_DIR = os.environ.get("ONNXC_MODELS_DIR", "")
TMP = tempfile.mkdtemp(prefix="onnxc-detcmp-")
atexit.register(shutil.rmtree, TMP, True)


def onnxc(*args, expect=None):
    p = subprocess.run([ONNXC] + [str(a) for a in args], capture_output=True, text=True, errors="replace",
                       timeout=600)
    if expect is not None and p.returncode != expect:
        raise AssertionError("onnxc %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, expect, p.stdout, p.stderr))
    return p


# ---------------------------------------------------------------- models

BASE = {
    # four boxes of two labels; boxes 1 and 2 tie in score (0.8), box 3 is below the 0.3 threshold
    "boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 32], [40, 5, 52, 15], [60, 60, 70, 70]], np.float32),
    "scores": np.array([0.9, 0.8, 0.8, 0.2999999], np.float32),
    "labels": np.array([1, 2, 2, 1], np.int64),
}
BASE["masks"] = np.linspace(0, 1, 4 * 1 * 2 * 2, dtype=np.float32).reshape(4, 1, 2, 2)


def det_model(path, det, names=("boxes", "scores", "labels", "masks"), dynamic=True, opset=13):
    """Outputs names[i]: the rows of det's boxes, scores, labels, masks whose score > thr (input [1])."""
    keys = ("boxes", "scores", "labels", "masks")
    inits = [numpy_helper.from_array(np.ascontiguousarray(det[k]), "c_" + k) for k in keys]
    nodes, outs = [], []
    if dynamic:
        nodes.append(helper.make_node("Greater", ["c_scores", "thr"], ["keep"]))
    for k, n in zip(keys, names):
        if n is None:
            continue
        if dynamic:
            nodes.append(helper.make_node("Compress", ["c_" + k, "keep"], [n], axis=0))
        else:
            nodes.append(helper.make_node("Identity", ["c_" + k], [n]))
        et = TensorProto.INT64 if k == "labels" else TensorProto.FLOAT
        shape = ["K"] + list(det[k].shape[1:]) if dynamic else list(det[k].shape)
        outs.append(helper.make_tensor_value_info(n, et, shape))
    g = helper.make_graph(nodes, "det", [helper.make_tensor_value_info("thr", TensorProto.FLOAT, [1])], outs,
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return path


def variant(**changes):
    d = {k: v.copy() for k, v in BASE.items()}
    for k, fn in changes.items():
        fn(d[k]) if callable(fn) else d.__setitem__(k, fn)
    return d


def permute(d, order):
    return {k: v[order].copy() for k, v in d.items()}


def thr_file(value=0.3):
    p = os.path.join(TMP, "thr_%g.npy" % value)
    np.save(p, np.array([value], np.float32))
    return p


def kept(d, thr=0.3):
    keep = d["scores"] > np.float32(thr)
    return {k: v[keep] for k, v in d.items()}


# ---------------------------------------------------------------- the reference matcher (numpy, from onnxc.h)

def axis_iou(a0, a1, b0, b1):
    """Overlap of two intervals over their union; two points overlap fully when equal within 1e-6 relative."""
    la, lb = max(a1 - a0, 0), max(b1 - b0, 0)
    if la == 0 and lb == 0:
        return 1.0 if abs(a0 - b0) <= 1e-6 * max(1.0, abs(a0)) else 0.0
    inter = max(min(a1, b1) - max(a0, b0), 0)
    union = la + lb - inter
    return inter / union if union > 0 else 0.0


def iou(a, b):
    """The rule of onnxc.h: area IoU; for two boxes without area (a segment clipped to a border) the product of
    the two axes' overlaps."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if np.array_equal(a, b):
        return 1.0
    aw, ah = max(a[2] - a[0], 0), max(a[3] - a[1], 0)
    bw, bh = max(b[2] - b[0], 0), max(b[3] - b[1], 0)
    if aw * ah == 0 and bw * bh == 0:
        return axis_iou(a[0], a[2], b[0], b[2]) * axis_iou(a[1], a[3], b[1], b[3])
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def close(a, b, atol, rtol, rms):
    return abs(float(b) - float(a)) <= atol + rtol * max(abs(float(a)), rms)


def rms(x):
    x = np.asarray(x, np.float64).ravel()
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def reference_match(A, B, thr_iou=0.5, atol=1e-5, rtol=1e-4, extras=("masks",)):
    """A's detections by decreasing score (ties: lower index) each take B's unmatched detection of the same label
    with the largest IoU >= thr_iou (ties: closer score, then lower index)."""
    na, nb = len(A["scores"]), len(B["scores"])
    order = sorted(range(na), key=lambda i: (-float(A["scores"][i]), i))
    mb = [-1] * nb
    res = dict(detections_a=na, detections_b=nb, matched=0, reordered=0, box_failing=0, score_failing=0,
               max_box_diff=0.0, max_score_diff=0.0, min_iou=1.0, label_changed=0,
               extra={e: [0.0, 0] for e in extras})
    ma = [-1] * na
    rb, rs = rms(A["boxes"]), rms(A["scores"])
    for i in order:
        best, best_iou = -1, -1.0
        for j in range(nb):
            if mb[j] >= 0 or A["labels"][i] != B["labels"][j]:
                continue
            v = iou(A["boxes"][i], B["boxes"][j])
            if v < thr_iou or v < best_iou:
                continue
            if v == best_iou and best >= 0 and not (abs(B["scores"][j] - A["scores"][i]) <
                                                    abs(B["scores"][best] - A["scores"][i])):
                continue
            best, best_iou = j, v
        if best < 0:
            continue
        ma[i], mb[best] = best, i
        res["matched"] += 1
        res["reordered"] += best != i
        res["min_iou"] = min(res["min_iou"], best_iou)
        d = np.abs(B["boxes"][best].astype(np.float64) - A["boxes"][i])
        res["max_box_diff"] = max(res["max_box_diff"], float(d.max()))
        res["box_failing"] += not all(close(a, b, atol, rtol, rb) for a, b in zip(A["boxes"][i], B["boxes"][best]))
        res["max_score_diff"] = max(res["max_score_diff"], abs(float(B["scores"][best]) - float(A["scores"][i])))
        res["score_failing"] += not close(A["scores"][i], B["scores"][best], atol, rtol, rs)
        for e in extras:
            x, y = A[e][i].ravel(), B[e][best].ravel()
            re = rms(A[e])
            res["extra"][e][0] = max(res["extra"][e][0], float(np.abs(y.astype(np.float64) - x).max()))
            res["extra"][e][1] += not all(close(a, b, atol, rtol, re) for a, b in zip(x, y))
    taken = set()
    for i in order:
        if ma[i] >= 0:
            continue
        for j in range(nb):
            if mb[j] < 0 and j not in taken and A["labels"][i] != B["labels"][j] and \
                    iou(A["boxes"][i], B["boxes"][j]) >= thr_iou:
                taken.add(j)
                res["label_changed"] += 1
                break
    res["unmatched_a"] = na - res["matched"]
    res["unmatched_b"] = nb - res["matched"]
    res["within"] = (res["unmatched_a"] == 0 and res["unmatched_b"] == 0 and res["box_failing"] == 0 and
                     res["score_failing"] == 0 and all(v[1] == 0 for v in res["extra"].values()))
    return res


class Base(unittest.TestCase):
    def pair(self, name, a, b, **kw):
        pa = det_model(os.path.join(TMP, name + "_a.onnx"), a, **kw)
        pb = det_model(os.path.join(TMP, name + "_b.onnx"), b, **kw)
        return pa, pb

    def compare(self, pa, pb, *args, expect, thr=0.3):
        p = onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(thr), "--json", *args, expect=expect)
        return json.loads(p.stdout)["comparison"]

    def check_against_reference(self, det, A, B, **kw):
        r = reference_match(kept(A), kept(B), **kw)
        det = dict(det, extra=[e for e in det["extra"] if e["name"] in r["extra"]])
        for key in ("detections_a", "detections_b", "matched", "unmatched_a", "unmatched_b", "reordered",
                    "box_failing", "score_failing", "label_changed"):
            self.assertEqual(det[key], r[key], key)
        if r["matched"]:
            self.assertAlmostEqual(det["max_box_diff"], r["max_box_diff"], places=5)
            self.assertAlmostEqual(det["max_score_diff"], r["max_score_diff"], places=6)
            self.assertAlmostEqual(det["min_iou"], r["min_iou"], places=6)
            for e in det["extra"]:
                self.assertAlmostEqual(e["max_abs"], r["extra"][e["name"]][0], places=6)
                self.assertEqual(e["failing"], r["extra"][e["name"]][1])
        self.assertEqual(det["within_tolerance"], r["within"])
        return r


# ---------------------------------------------------------------- groups

class Matching(Base):
    def test_same(self):
        pa, pb = self.pair("same", BASE, BASE)
        c = self.compare(pa, pb, expect=0)
        self.assertEqual(len(c["detections"]), 1)
        d = c["detections"][0]
        self.assertEqual((d["grouped_by"], d["form"], d["boxes"], d["scores"], d["labels"]),
                         ("name", "boxes", "boxes", "scores", "labels"))
        self.assertEqual([e["name"] for e in d["extra"]], ["masks"])
        self.assertEqual((d["detections_a"], d["matched"], d["unmatched_a"], d["unmatched_b"]), (3, 3, 0, 0))
        for o in c["outputs"]:
            self.assertEqual(o["compared_as"], "detections")
            self.assertEqual(o["detection_set"], 0)
        self.assertTrue(c["within_tolerance"])

    def test_tie_permutation_agrees(self):
        # boxes 1 and 2 share the score 0.8: B lists them the other way round
        b = permute(BASE, [0, 2, 1, 3])
        pa, pb = self.pair("perm", BASE, b)
        c = self.compare(pa, pb, expect=0)
        d = c["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"], d["reordered"]), (3, 0, 0, 2))
        self.assertEqual(d["max_box_diff"], 0.0)
        self.check_against_reference(d, BASE, b)
        # element by element the same pair of models fails: the swap is what the matching forgives
        c2 = self.compare(pa, pb, "--detections", "none", expect=1)
        self.assertEqual(c2["detections"], [])
        self.assertFalse(c2["within_tolerance"])

    def test_one_box_more(self):
        # box 3's score crosses the threshold in B only (0.2999999 -> 0.3000002)
        b = variant(scores=lambda s: s.__setitem__(3, np.float32(0.3000002)))
        pa, pb = self.pair("extra", BASE, b)
        c = self.compare(pa, pb, expect=1)
        d = c["detections"][0]
        self.assertEqual((d["detections_a"], d["detections_b"], d["matched"], d["unmatched_a"], d["unmatched_b"]),
                         (3, 4, 3, 0, 1))
        self.check_against_reference(d, BASE, b)
        out = {o["name"]: o for o in c["outputs"]}
        self.assertEqual(out["boxes"]["shape_a"], [3, 4])
        self.assertEqual(out["boxes"]["shape_b"], [4, 4])
        # told the model's threshold, the extra box is a tie at it, not a divergence
        c = self.compare(pa, pb, "--score-threshold", "0.3", expect=0)
        d = c["detections"][0]
        self.assertEqual((d["unmatched_b"], d["at_threshold_b"], d["at_threshold_a"]), (1, 1, 0))
        self.assertAlmostEqual(d["score_threshold"], 0.3)
        self.assertTrue(d["within_tolerance"])

    def test_shifted_box(self):
        # half a pixel on a 10x10 box: matched (IoU 90.25/109.75 = 0.822), the coordinates beyond tolerance
        b = variant(boxes=lambda x: x.__setitem__(0, x[0] + np.float32(0.5)))
        pa, pb = self.pair("shift", BASE, b)
        d = self.compare(pa, pb, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"], d["box_failing"]), (3, 0, 0, 1))
        self.assertAlmostEqual(d["max_box_diff"], 0.5, places=6)
        self.assertAlmostEqual(d["min_iou"], 90.25 / 109.75, places=6)
        self.check_against_reference(d, BASE, b)
        # at --iou 0.95 the same shift is a lost box and a new one
        d = self.compare(pa, pb, "--iou", "0.95", expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (2, 1, 1))
        self.check_against_reference(d, BASE, b, thr_iou=0.95)
        # six pixels: IoU 16/184, unmatched at the default 0.5
        b = variant(boxes=lambda x: x.__setitem__(0, x[0] + np.float32(6)))
        pa, pb = self.pair("shift6", BASE, b)
        d = self.compare(pa, pb, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (2, 1, 1))
        self.check_against_reference(d, BASE, b)

    def test_boxes_without_area(self):
        # detectors with random weights emit boxes clipped to a border (x1 = x2): box 0 becomes the segment
        # x = 10, y 0..10, and B's copy moves by rounding (y2 + 4e-6): it still matches, as one segment
        a = variant(boxes=lambda x: x.__setitem__(0, np.array([10, 0, 10, 10], np.float32)))
        b = variant(boxes=lambda x: x.__setitem__(0, np.array([10, 0, 10, 10.000004], np.float32)))
        pa, pb = self.pair("noarea", a, b)
        d = self.compare(pa, pb, expect=0)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (3, 0, 0))
        self.assertGreater(d["min_iou"], 0.999)
        self.check_against_reference(d, a, b)
        # a segment at another place is another box
        c = variant(boxes=lambda x: x.__setitem__(0, np.array([11, 0, 11, 10], np.float32)))
        pa, pc = self.pair("noarea2", a, c)
        d = self.compare(pa, pc, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (2, 1, 1))
        self.check_against_reference(d, a, c)

    def test_relabelled(self):
        b = variant(labels=lambda x: x.__setitem__(1, 3))
        pa, pb = self.pair("label", BASE, b)
        d = self.compare(pa, pb, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"], d["label_changed"]), (2, 1, 1, 1))
        self.check_against_reference(d, BASE, b)

    def test_mask_and_score_diff(self):
        b = variant(masks=lambda x: x.__setitem__(2, x[2] + np.float32(0.1)),
                    scores=lambda s: s.__setitem__(0, np.float32(0.91)))
        pa, pb = self.pair("mask", BASE, b)
        d = self.compare(pa, pb, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["score_failing"]), (3, 1))
        self.assertEqual(d["extra"][0]["failing"], 1)
        self.assertAlmostEqual(d["extra"][0]["max_abs"], 0.1, places=6)
        self.check_against_reference(d, BASE, b)
        # loose enough tolerances pass it
        d = self.compare(pa, pb, "--atol", "0.2", expect=0)["detections"][0]
        self.assertTrue(d["within_tolerance"])

    def test_empty(self):
        pa, pb = self.pair("empty", BASE, BASE)
        # nothing above 0.95 on either side: no detection, nothing compared: not a pass
        p = onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(0.95), expect=2)
        self.assertIn("no detection on either side", p.stderr)
        self.assertIn("not a pass", p.stderr)
        # nothing in A, three in B
        b = variant(scores=lambda s: s.__iadd__(np.float32(0.5)))
        a = variant(scores=lambda s: s.__imul__(np.float32(0.1)))
        pa, pb = self.pair("empty_a", a, b)
        d = self.compare(pa, pb, expect=1, thr=0.35)["detections"][0]
        self.assertEqual((d["detections_a"], d["detections_b"], d["matched"], d["unmatched_b"]), (0, 4, 0, 4))
        self.assertIsNone(d["max_box_diff"])
        # and the other way round
        d = self.compare(pb, pa, expect=1, thr=0.35)["detections"][0]
        self.assertEqual((d["detections_a"], d["detections_b"], d["unmatched_a"]), (4, 0, 4))

    def test_text_says_how(self):
        b = permute(BASE, [0, 2, 1, 3])
        pa, pb = self.pair("perm", BASE, b)
        p = onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(), expect=0)
        self.assertIn("compared by matching detections, not element by element", p.stdout)
        self.assertIn("set 'boxes' (grouped by output names): boxes=boxes, scores=scores, labels=labels, "
                      "extra=masks", p.stdout)
        self.assertIn("2 matched pairs at another position in B", p.stdout)
        self.assertIn("(matched as detections, see below) ok", p.stdout)


    def test_report(self):
        b = variant(scores=lambda s: s.__setitem__(3, np.float32(0.3000002)))
        pa, pb = self.pair("extra", BASE, b)
        page = os.path.join(TMP, "det.html")
        onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(), "--report", page, expect=1)

        class Cells(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.table, self.rows, self.cell = None, [], None

            def handle_starttag(self, tag, attrs):
                if tag == "table":
                    self.table = dict(attrs).get("id")
                elif tag == "tr" and self.table == "detections":
                    self.rows.append([])
                elif tag in ("td", "th") and self.table == "detections":
                    self.cell = ""

            def handle_endtag(self, tag):
                if tag in ("td", "th") and self.cell is not None:
                    self.rows[-1].append(self.cell)
                    self.cell = None
                elif tag == "table":
                    self.table = None

            def handle_data(self, data):
                if self.cell is not None:
                    self.cell += data
        p = Cells()
        with open(page) as f:
            p.feed(f.read())
        self.assertEqual(len(p.rows), 2, p.rows)
        row = dict(zip(p.rows[0], p.rows[1]))
        self.assertEqual((row["set"], row["grouped by"], row["A"], row["B"], row["matched"], row["unmatched B"],
                          row["verdict"]), ("boxes", "name", "3", "4", "3", "1", "DIFFERS"))


class Grouping(Base):
    NEUTRAL = ("out_a", "out_b", "out_c", "out_d")

    def test_by_shape(self):
        b = permute(BASE, [0, 2, 1, 3])
        pa, pb = self.pair("shape", BASE, b, names=self.NEUTRAL)
        c = self.compare(pa, pb, expect=0)
        d = c["detections"][0]
        self.assertEqual((d["grouped_by"], d["boxes"], d["scores"], d["labels"]), ("shape", "out_a", "out_b", "out_c"))
        self.assertEqual([e["name"] for e in d["extra"]], ["out_d"])
        self.assertEqual(d["matched"], 3)
        p = onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(), expect=0)
        self.assertIn("grouped by shape: data-dependent outputs sharing K", p.stdout)

    def test_keypoints_by_name(self):
        # torchvision's Keypoint R-CNN names: boxes, scores, labels, keypoints [K,17,3]
        kp = np.arange(4 * 17 * 3, dtype=np.float32).reshape(4, 17, 3)
        a = dict(BASE, masks=kp)
        b = permute(a, [0, 2, 1, 3])
        b["masks"][0, 5, 1] += np.float32(2)
        pa, pb = self.pair("kp", a, b, names=("boxes", "scores", "labels", "keypoints"))
        c = self.compare(pa, pb, expect=1)
        d = c["detections"][0]
        self.assertEqual([e["name"] for e in d["extra"]], ["keypoints"])
        self.assertEqual((d["matched"], d["extra"][0]["failing"]), (3, 1))
        self.assertAlmostEqual(d["extra"][0]["max_abs"], 2.0)
        r = reference_match(kept(a), kept(b))
        self.assertEqual(r["extra"]["masks"][1], 1)

    def test_dets_form(self):
        # mmdetection-style dets [K,5] (x1, y1, x2, y2, score) with labels [K], and [K,6] with the label as column 5
        def model(path, d, cols):
            dets = np.concatenate([d["boxes"], d["scores"][:, None]] +
                                  ([d["labels"][:, None].astype(np.float32)] if cols == 6 else []), 1)
            init = [numpy_helper.from_array(dets, "c_d"), numpy_helper.from_array(d["scores"], "c_s"),
                    numpy_helper.from_array(d["labels"], "c_l")]
            nodes = [helper.make_node("Greater", ["c_s", "thr"], ["keep"]),
                     helper.make_node("Compress", ["c_d", "keep"], ["dets"], axis=0)]
            outs = [helper.make_tensor_value_info("dets", TensorProto.FLOAT, ["K", cols])]
            if cols == 5:
                nodes.append(helper.make_node("Compress", ["c_l", "keep"], ["labels"], axis=0))
                outs.append(helper.make_tensor_value_info("labels", TensorProto.INT64, ["K"]))
            g = helper.make_graph(nodes, "dets", [helper.make_tensor_value_info("thr", TensorProto.FLOAT, [1])],
                                  outs, initializer=init)
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
            return path
        b = permute(variant(labels=lambda x: x.__setitem__(0, 2)), [0, 2, 1, 3])
        for cols in (5, 6):
            pa = model(os.path.join(TMP, "dets%d_a.onnx" % cols), BASE, cols)
            pb = model(os.path.join(TMP, "dets%d_b.onnx" % cols), permute(BASE, [0, 2, 1, 3]), cols)
            d = self.compare(pa, pb, expect=0)["detections"][0]
            self.assertEqual((d["form"], d["boxes"], d["labels"], d["matched"], d["reordered"]),
                             ("dets", "dets", "labels" if cols == 5 else None, 3, 2))
            # box 0 relabelled (2 instead of 1): one unmatched on each side, found as a relabelling
            pc = model(os.path.join(TMP, "dets%d_c.onnx" % cols), b, cols)
            d = self.compare(pa, pc, expect=1)["detections"][0]
            self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"], d["label_changed"]), (2, 1, 1, 1))
            self.check_against_reference(d, BASE, b, extras=())

    def test_static_outputs_need_the_option(self):
        # fixed-size outputs with neutral names are not detections unless said so
        b = permute(BASE, [0, 2, 1, 3])
        pa, pb = self.pair("static", BASE, b, names=self.NEUTRAL, dynamic=False)
        c = self.compare(pa, pb, expect=1)
        self.assertEqual(c["detections"], [])
        c = self.compare(pa, pb, "--detections", "boxes=out_a,scores=out_b,labels=out_c,masks=out_d", expect=0)
        d = c["detections"][0]
        self.assertEqual((d["grouped_by"], d["detections_a"], d["matched"], d["reordered"]), ("option", 4, 4, 2))

    def test_bad_option(self):
        pa, pb = self.pair("same", BASE, BASE)
        for spec, needle in (("boxes=nope", "'nope' is not an output"), ("scores=scores", "names no boxes"),
                             ("boxes=boxes,size=scores", "unknown role 'size'"),
                             ("boxes=boxes,scores=boxes", "given twice")):
            p = onnxc("compare", pa, pb, "--input", "thr=%s" % thr_file(), "--detections", spec, expect=2)
            self.assertIn(needle, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        p = onnxc("compare", pa, pb, "--iou", "0", expect=2)
        self.assertIn("--iou takes a number in (0, 1]", p.stderr)

    def test_indices_form(self):
        # NonMaxSuppression's selected_indices [K,3] (batch, class, box): rows match when equal
        idx = np.array([[0, 0, 3], [0, 0, 1], [0, 1, 2], [0, 1, 0]], np.int64)

        def model(path, rows):
            init = [numpy_helper.from_array(rows, "c_idx"), numpy_helper.from_array(BASE["scores"], "c_s")]
            nodes = [helper.make_node("Greater", ["c_s", "thr"], ["keep"]),
                     helper.make_node("Compress", ["c_idx", "keep"], ["selected_indices"], axis=0)]
            g = helper.make_graph(nodes, "nms", [helper.make_tensor_value_info("thr", TensorProto.FLOAT, [1])],
                                  [helper.make_tensor_value_info("selected_indices", TensorProto.INT64, ["K", 3])],
                                  initializer=init)
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
            return path
        pa = model(os.path.join(TMP, "idx_a.onnx"), idx)
        pb = model(os.path.join(TMP, "idx_b.onnx"), idx[[0, 2, 1, 3]])  # a tie: rows 1 and 2 swapped
        d = self.compare(pa, pb, expect=0)["detections"][0]
        self.assertEqual((d["form"], d["grouped_by"], d["matched"], d["reordered"]), ("indices", "name", 3, 2))
        self.assertIsNone(d["max_box_diff"])
        pc = model(os.path.join(TMP, "idx_c.onnx"), np.array([[0, 0, 3], [0, 0, 2], [0, 1, 2], [0, 1, 0]], np.int64))
        d = self.compare(pa, pc, expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (2, 1, 1))


class Verify(Base):
    def test_detect_post(self):
        # a detector's tail (NonZero, batched NMS, TopK, RoiAlign): the exact passes keep every detection
        for name in ("detect_post_op13.onnx", "detect_post_op16.onnx"):
            src = os.path.join(MODELS_DIR, name)
            if not os.path.isfile(src):
                self.skipTest("model %s is missing" % src)
            out = os.path.join(TMP, "opt_" + name)
            p = onnxc("optimize", src, "-o", out, "--verify", "--json", expect=0)
            v = json.loads(p.stdout)["verify"]
            self.assertTrue(v["passed"])
            d = v["comparison"]["detections"]
            self.assertEqual(len(d), 1)
            self.assertEqual((d[0]["boxes"], d[0]["scores"], d[0]["labels"]), ("boxes_kept", "scores_kept",
                                                                                  "labels_kept"))
            self.assertEqual([e["name"] for e in d[0]["extra"]], ["masks"])
            self.assertEqual(d[0]["iou_threshold"], 0.9)
            self.assertEqual(d[0]["unmatched_a"] + d[0]["unmatched_b"], 0)
            # and compare against PyTorch's outputs for the saved cases (the set's names come from the model)
            ref = os.path.join(MODELS_DIR, "expected", name[:-5], "case2")
            outs = ["boxes_kept", "scores_kept", "labels_kept", "top_scores", "masks"]
            refdir = os.path.join(TMP, name[:-5] + "_ref")
            os.makedirs(refdir, exist_ok=True)
            for i, o in enumerate(outs):
                np.save(os.path.join(refdir, o + ".npy"), np.load(os.path.join(ref, "output_%d.npy" % i)))
            ins = ["image", "boxes", "scores", "labels"]
            args = []
            for i, n in enumerate(ins):
                args += ["--input", "%s=%s" % (n, os.path.join(ref, "input_%d.npy" % i))]
            p = onnxc("compare", out, "--reference", refdir, *args, "--json", expect=0)
            d = json.loads(p.stdout)["comparison"]["detections"][0]
            k = np.load(os.path.join(ref, "output_0.npy")).shape[0]
            self.assertEqual((d["detections_a"], d["matched"]), (k, k))

    def test_same_model_iou(self):
        # verify's IoU, 0.9 (ONNXC_COMPARE_IOU_SAME_MODEL): exact passes cannot move a box, so this takes two
        # models on purpose: 0.6 px on a 10x10 box (IoU 88.36/111.64 = 0.79) is a lost box and a new one
        b = variant(boxes=lambda x: x.__setitem__(0, x[0] + np.float32(0.6)))
        pa, pb = self.pair("vshift", BASE, b)
        d = self.compare(pa, pb, "--iou", "0.9", expect=1)["detections"][0]
        self.assertEqual((d["matched"], d["unmatched_a"], d["unmatched_b"]), (2, 1, 1))
        self.check_against_reference(d, BASE, b, thr_iou=0.9)

    def test_verify_flags(self):
        src = os.path.join(TMP, "same_a.onnx")
        det_model(src, BASE)
        p = onnxc("optimize", src, "-o", os.path.join(TMP, "o.onnx"), "--iou", "0.7", expect=2)
        self.assertIn("need --verify", p.stderr)


GROUPS = {"matching": Matching, "grouping": Grouping, "verify": Verify}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        sys.exit("usage: test_detcmp.py {%s}" % ",".join(GROUPS))
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(GROUPS[sys.argv[1]])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
