#!/usr/bin/python3
"""End-to-end tests of `onnxc compare` (and `onnxc run --dump`, which they use for independent checks).

The models under test are built here with python's onnx (a weight scaled on purpose, a BatchNormalization
replaced by the InstanceNormalization decomposition, mismatched inputs/outputs). Figures that onnxc compare
reports are checked against numpy computed from the tensors onnxc run writes, and the node named as the first
divergence against the one this script changed. Run one group:  test_compare.py GROUP  with ONNXC (the
binary) and ONNXC_MODELS_DIR in the environment.
"""
import html.parser
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC = os.environ.get("ONNXC", "onnxc")
MODELS_DIR = os.environ.get("ONNXC_MODELS_DIR", "")

# The conv whose weight the "weight" group scales, and the BN the "swap" group replaces.
CHANGED_CONV = "/l1/c2/c2.0/Conv"
SWAPPED_BN = "/res1/b/b.1/BatchNormalization"


def onnxc(*args, expect=None):
    p = subprocess.run([ONNXC] + [str(a) for a in args], capture_output=True, text=True, errors="replace",
                       timeout=900)
    if expect is not None and p.returncode != expect:
        raise AssertionError("onnxc %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, expect, p.stdout, p.stderr))
    return p


def compare_json(*args, expect):
    p = onnxc("compare", *args, "--json", expect=expect)
    return json.loads(p.stdout), p


def assert_one_line_error(tc, p, *needles):
    lines = p.stderr.splitlines()
    tc.assertEqual(len(lines), 1, "expected one error line, got:\n" + p.stderr)
    tc.assertTrue(lines[0].startswith("onnxc: "), lines[0])
    for n in needles:
        tc.assertIn(n, lines[0])
    tc.assertEqual(p.stdout, "")


def model_path(name):
    p = os.path.join(MODELS_DIR, name)
    if not os.path.isfile(p):
        raise unittest.SkipTest("model %s is missing" % p)
    return p


def make_model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="compare-test")
    m.ir_version = 7
    return m


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def run_outputs(model, d, tag, *args):
    """Outputs of `onnxc run` as {file stem: array}, written to d/tag."""
    out = os.path.join(d, tag)
    onnxc("run", model, "--output-dir", out, *args, expect=0)
    return {f[:-4]: np.load(os.path.join(out, f)) for f in os.listdir(out)}


def np_failing(a, b, atol=1e-5, rtol=1e-4):
    """Elements outside the documented "equal within float rounding" test (include/onnxc/onnxc.h):
    |b - a| <= atol + rtol * max(|a|, rms(a)), rms over the reference's finite values; NaN never passes,
    equal infinities do."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    fin = np.isfinite(a)
    rms = np.sqrt(np.mean(a[fin] ** 2)) if fin.any() else 0.0
    both = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        ok = both & (np.abs(b - a) <= atol + rtol * np.maximum(np.abs(a), rms))
    ok |= np.isinf(a) & np.isinf(b) & (a == b)
    return int((~ok).sum())


def np_metrics(a, b, atol=1e-5, rtol=1e-4):
    """The figures onnxc compare documents, computed by numpy (a = reference)."""
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    d = np.abs(b - a)
    nz = a != 0
    return {
        "max_abs": d.max(),
        "max_rel": (d[nz] / np.abs(a[nz])).max() if nz.any() else 0.0,
        "mean_abs": d.mean(),
        "median_abs": np.median(d),
        "nmse": (d ** 2).sum() / (a ** 2).sum(),
        "cosine": (a * b).sum() / np.sqrt((a ** 2).sum() * (b ** 2).sum()),
        "failing": np_failing(a, b, atol, rtol),
    }


class Figures:
    def assert_figures(self, entry, want, rel=1e-6):
        for k in ("max_abs", "max_rel", "mean_abs", "median_abs", "nmse"):
            self.assertLessEqual(abs(entry[k] - want[k]), rel * abs(want[k]) + 1e-300,
                                 "%s: onnxc %r, numpy %r" % (k, entry[k], want[k]))
        self.assertAlmostEqual(entry["cosine"], want["cosine"], delta=1e-12)
        self.assertEqual(entry["failing"], want["failing"])


# ---------------------------------------------------------------- "equal within float rounding"

def large_logits_model(path):
    """Gemm [N,512]x[512,1000] with large weights, then BatchNorm1d: logits of magnitude ~1e3, a few near zero;
    folding the BN into the Gemm is exact up to float32 rounding, which is relative to the logits' scale."""
    rs = np.random.RandomState(5)
    w = (rs.uniform(-1, 1, (512, 1000)) * 300).astype(np.float32)
    b = rs.uniform(-1, 1, 1000).astype(np.float32)
    bn = [rs.uniform(0.5, 2, 1000), rs.uniform(-1, 1, 1000), rs.uniform(-5, 5, 1000), rs.uniform(0.5, 2, 1000)]
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")] + [
        numpy_helper.from_array(a.astype(np.float32), n) for a, n in zip(bn, ("s", "t", "m", "v"))]
    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["g"], name="fc"),
             helper.make_node("BatchNormalization", ["g", "s", "t", "m", "v"], ["logits"], name="bn")]
    m = make_model(nodes, [vi("x", ["N", 512])], [vi("logits", ["N", 1000])], inits)
    onnx.save(m, path)
    return path


class Rounding(unittest.TestCase):
    def test_exact_fold_is_equal_within_float_rounding(self):
        with tempfile.TemporaryDirectory() as d:
            src = large_logits_model(os.path.join(d, "a.onnx"))
            opt = os.path.join(d, "b.onnx")
            onnxc("optimize", src, "-o", opt, "--verify", "--shape", "N=16", expect=0)
            self.assertNotIn("BatchNormalization", [n.op_type for n in onnx.load(opt).graph.node])
            ra = run_outputs(src, d, "ra", "--shape", "N=16")["logits"]
            rb = run_outputs(opt, d, "rb", "--shape", "N=16")["logits"]
            # the case of the issue: NMSE at rounding level, yet atol + rtol*|A| alone fails logits near zero
            old_rule = int((~np.isclose(rb, ra, rtol=1e-4, atol=1e-5)).sum())
            self.assertGreater(old_rule, 0, "the model no longer shows the problem; make the logits larger")
            nmse = float(((rb.astype(np.float64) - ra) ** 2).sum() / (ra.astype(np.float64) ** 2).sum())
            self.assertLess(nmse, 1e-12)
            self.assertEqual(np_failing(ra, rb), 0)
            j, _ = compare_json(src, opt, "--shape", "N=16", "--per-node", expect=0)
            c = j["comparison"]
            self.assertTrue(c["within_tolerance"])
            self.assertEqual(c["outputs"][0]["failing"], 0)
            self.assertIsNone(c["per_node"]["first_divergence"])  # the folded Gemm is not named
            # the same pair, the same verdict, in optimize --verify's JSON
            j2 = json.loads(onnxc("optimize", src, "-o", opt, "--verify", "--shape", "N=16", "--json",
                                  expect=0).stdout)
            self.assertTrue(j2["verify"]["passed"])
            self.assertEqual(j2["verify"]["comparison"]["outputs"][0]["failing"], 0)

    def test_a_real_change_still_differs_in_both(self):
        with tempfile.TemporaryDirectory() as d:
            src = large_logits_model(os.path.join(d, "a.onnx"))
            m = onnx.load(src)
            for t in m.graph.initializer:
                if t.name == "t":  # one BN bias moved by 1% of the logits' scale
                    a = numpy_helper.to_array(t).copy()
                    a[7] += 10.0
                    t.CopyFrom(numpy_helper.from_array(a, "t"))
            changed = os.path.join(d, "c.onnx")
            onnx.save(m, changed)
            ra = run_outputs(src, d, "ra", "--shape", "N=4")["logits"]
            rc = run_outputs(changed, d, "rc", "--shape", "N=4")["logits"]
            j, _ = compare_json(src, changed, "--shape", "N=4", expect=1)
            self.assertEqual(j["comparison"]["outputs"][0]["failing"], np_failing(ra, rc))
            self.assertGreater(np_failing(ra, rc), 0)

    def test_empty_comparison_is_not_a_pass(self):
        with tempfile.TemporaryDirectory() as d:
            src = large_logits_model(os.path.join(d, "a.onnx"))
            p = onnxc("compare", src, src, "--shape", "N=0", expect=2)
            self.assertIn("no element was compared", p.stderr)
            self.assertIn("nothing compared", p.stdout)
            j, _ = compare_json(src, src, "--shape", "N=0", expect=2)
            self.assertFalse(j["comparison"]["within_tolerance"])
            self.assertEqual(j["comparison"]["elements"], 0)
            p = onnxc("optimize", src, "-o", os.path.join(d, "o.onnx"), "--verify", "--shape", "N=0", expect=2)
            self.assertIn("compared no element", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "o.onnx")))


# ---------------------------------------------------------------- an optimize result: within fp32 rounding

class Optimize(unittest.TestCase, Figures):
    def check_model(self, name, batch=1):
        src = model_path(name)
        shape_args = ("--shape", "N=%d" % batch)
        with tempfile.TemporaryDirectory() as d:
            opt = os.path.join(d, "opt.onnx")
            onnxc("optimize", src, "-o", opt, expect=0)
            self.assertNotIn("BatchNormalization", [n.op_type for n in onnx.load(opt).graph.node])
            j, p = compare_json(src, opt, "--samples", "3", "--seed", "7", *shape_args, expect=0)
            c = j["comparison"]
            self.assertTrue(c["within_tolerance"])
            self.assertEqual(c["samples"], 3)
            self.assertEqual(c["matched_by"], "name")
            want_outputs = [o.name for o in onnx.load(src).graph.output]
            self.assertEqual([o["name"] for o in c["outputs"]], want_outputs)
            for o in c["outputs"]:
                # fp32 rounding level: the fold only reorders float arithmetic
                self.assertLess(o["nmse"], 1e-10, o)
                self.assertLess(o["max_abs"], 1e-5, o)
                self.assertGreater(o["cosine"], 1 - 1e-9, o)
                self.assertEqual(o["failing"], 0)
                self.assertEqual(o["nan_a"] + o["nan_b"] + o["inf_a"] + o["inf_b"], 0)
                print("%s %s: max abs %.3g, max rel %.3g, NMSE %.3g, cosine %.12f" %
                      (name, o["name"], o["max_abs"], o["max_rel"], o["nmse"], o["cosine"]))
            # the last sample's figures against numpy on the tensors onnxc run writes for that seed
            one, _ = compare_json(src, opt, "--seed", "9", *shape_args, expect=0)
            ra = run_outputs(src, d, "a", "--seed", "9", *shape_args)
            rb = run_outputs(opt, d, "b", "--seed", "9", *shape_args)
            for o in one["comparison"]["outputs"]:
                stem = o["name"].replace("/", "_")
                self.assert_figures(o, np_metrics(ra[stem], rb[stem]))
            # human form
            h = onnxc("compare", src, opt, *shape_args, expect=0)
            self.assertIn("result: B matches A within tolerance", h.stdout)
            self.assertEqual(h.stderr, "")

    def test_detector_small(self):
        self.check_model("detector_small.onnx")

    def test_resnet_like(self):
        self.check_model("resnet_like.onnx", batch=2)

    def test_mobilenetv2_like(self):
        self.check_model("mobilenetv2_like.onnx")

    def test_per_node_on_optimize_result(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            opt = os.path.join(d, "opt.onnx")
            onnxc("optimize", src, "-o", opt, expect=0)
            j, _ = compare_json(src, opt, "--per-node", expect=0)
            pn = j["comparison"]["per_node"]
            self.assertIsNone(pn["first_divergence"])
            # every name produced by a node in both graphs is compared, nothing else
            ga, gb = onnx.load(src).graph, onnx.load(opt).graph
            shared = {o for n in ga.node for o in n.output} & {o for n in gb.node for o in n.output}
            self.assertEqual({v["name"] for v in pn["values"]}, shared)
            self.assertEqual(pn["compared"], len(shared))
            # in B's execution order (the file order of this topologically sorted graph)
            order = [o for n in gb.node for o in n.output if o in shared]
            self.assertEqual([v["name"] for v in pn["values"]], order)
            # a folded BN's output is now produced by the Conv
            by_name = {v["name"]: v for v in pn["values"]}
            bn_out = "/l1/c1/c1.1/BatchNormalization_output_0"
            self.assertEqual(by_name[bn_out]["op"], "Conv")
            self.assertEqual(by_name[bn_out]["op_a"], "BatchNormalization")


# ---------------------------------------------------------------- one weight changed on purpose

class Weight(unittest.TestCase, Figures):
    def changed_model(self, d, factor=1.1):
        m = onnx.load(model_path("resnet_like.onnx"))
        conv = [n for n in m.graph.node if n.name == CHANGED_CONV][0]
        w = [t for t in m.graph.initializer if t.name == conv.input[1]][0]
        users = [n for n in m.graph.node if w.name in n.input]
        self.assertEqual(len(users), 1)  # only this conv sees the change
        arr = numpy_helper.to_array(w) * np.float32(factor)
        w.CopyFrom(numpy_helper.from_array(arr.astype(np.float32), w.name))
        path = os.path.join(d, "changed.onnx")
        onnx.save(m, path)
        return path, conv.output[0]

    def test_outputs_differ(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, _ = self.changed_model(d)
            j, p = compare_json(src, changed, "--shape", "N=4", "--samples", "2", expect=1)
            c = j["comparison"]
            self.assertFalse(c["within_tolerance"])
            o = c["outputs"][0]
            self.assertFalse(o["within_tolerance"])
            self.assertGreater(o["nmse"], 1e-7)
            self.assertEqual(o["elements"], 2 * 4 * 10)
            # top-1/top-5 agreement against numpy on the same two samples
            rows1 = rows5 = 0
            for s in range(2):
                a = run_outputs(src, d, "a%d" % s, "--shape", "N=4", "--seed", str(s))["logits"]
                b = run_outputs(changed, d, "b%d" % s, "--shape", "N=4", "--seed", str(s))["logits"]
                rows1 += int((a.argmax(1) == b.argmax(1)).sum())
                top = lambda x: [set(np.argsort(-r, kind="stable")[:5]) for r in x]
                rows5 += sum(x == y for x, y in zip(top(a), top(b)))
            self.assertEqual(o["top1"], {"rows": 8, "agree": rows1})
            self.assertEqual(o["top5"], {"rows": 8, "agree": rows5})
            self.assertEqual(p.stderr, "")

    def test_per_node_names_the_changed_conv(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, conv_out = self.changed_model(d)
            j, _ = compare_json(src, changed, "--per-node", "--seed", "3", expect=1)
            pn = j["comparison"]["per_node"]
            first = pn["first_divergence"]
            self.assertEqual(first["node"], CHANGED_CONV)
            self.assertEqual(first["op"], "Conv")
            self.assertEqual(first["name"], conv_out)
            # everything before it is bit-identical (same graph, same kernels, same inputs)
            names = [v["name"] for v in pn["values"]]
            for v in pn["values"][:names.index(conv_out)]:
                self.assertEqual(v["max_abs"], 0.0, v["name"])
                self.assertTrue(v["within_tolerance"])
            # its figures against numpy on the tensors onnxc run --dump writes
            for tag, model in (("a", src), ("b", changed)):
                onnxc("run", model, "--seed", "3", "--shape", "N=1", "--dump", os.path.join(d, tag), "--dump-only", conv_out, expect=0)
            stem = conv_out.replace("/", "_")
            ta = np.load(os.path.join(d, "a", stem + ".npy"))
            tb = np.load(os.path.join(d, "b", stem + ".npy"))
            np.testing.assert_allclose(tb, ta * 1.1, rtol=1e-5, atol=1e-5)  # the dump itself holds the conv output
            self.assert_figures(first, np_metrics(ta, tb))
            # human form names it too
            h = onnxc("compare", src, changed, "--per-node", "--seed", "3", expect=1)
            self.assertIn("first divergence: node '%s' (Conv), output '%s'" % (CHANGED_CONV, conv_out), h.stdout)
            self.assertIn("result: B differs from A beyond tolerance on 1 of 1 output", h.stdout)

    def test_per_node_against_optimized_changed_model(self):
        # A original, B = optimize(changed): the conv's own output name is gone (folded with its BN); the first
        # divergence is the BN's output, now produced by the Conv
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, conv_out = self.changed_model(d)
            opt = os.path.join(d, "changed_opt.onnx")
            onnxc("optimize", changed, "-o", opt, expect=0)
            bn = [n for n in onnx.load(src).graph.node if conv_out in n.input][0]
            self.assertEqual(bn.op_type, "BatchNormalization")
            j, _ = compare_json(src, opt, "--per-node", expect=1)
            first = j["comparison"]["per_node"]["first_divergence"]
            self.assertEqual(first["name"], bn.output[0])
            self.assertEqual(first["op"], "Conv")
            self.assertEqual(first["op_a"], "BatchNormalization")

    def test_loose_tolerance_passes(self):
        # the same drift within explicit tolerances: exit 0
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, _ = self.changed_model(d, factor=1.001)
            j, _ = compare_json(src, changed, expect=1)
            o = j["comparison"]["outputs"][0]
            j2, _ = compare_json(src, changed, "--atol", "1", "--rtol", "0", "--nmse", str(o["nmse"] * 2), expect=0)
            self.assertTrue(j2["comparison"]["within_tolerance"])
            compare_json(src, changed, "--atol", "1", "--rtol", "0", "--nmse", str(o["nmse"] / 2), expect=1)


# ---------------------------------------------------------------- swap-norm drift

def swap_bn_by_instance_norm(model, bn_name, groups):
    """Replace one BatchNormalization by the group-norm decomposition swap-norm uses: Reshape [0, G, -1] ->
    InstanceNormalization (scale 1, bias 0) -> Reshape back to the input's shape -> Mul gamma -> Add beta.
    The last node keeps the BN's name and output name."""
    g = model.graph
    idx = [i for i, n in enumerate(g.node) if n.name == bn_name][0]
    bn = g.node[idx]
    inits = {t.name: t for t in g.initializer}
    gamma = numpy_helper.to_array(inits[bn.input[1]])
    beta = numpy_helper.to_array(inits[bn.input[2]])
    eps = [a.f for a in bn.attribute if a.name == "epsilon"]
    eps = eps[0] if eps else 1e-5
    c = gamma.shape[0]
    x, y, p = bn.input[0], bn.output[0], "swap_"
    new_inits = [
        numpy_helper.from_array(np.array([0, groups, -1], dtype=np.int64), p + "grouped_shape"),
        numpy_helper.from_array(np.ones(groups, dtype=np.float32), p + "ones"),
        numpy_helper.from_array(np.zeros(groups, dtype=np.float32), p + "zeros"),
        numpy_helper.from_array(gamma.reshape(c, 1, 1).astype(np.float32), p + "gamma"),
        numpy_helper.from_array(beta.reshape(c, 1, 1).astype(np.float32), p + "beta"),
    ]
    nodes = [
        helper.make_node("Reshape", [x, p + "grouped_shape"], [p + "grouped"], name=p + "reshape_in"),
        helper.make_node("InstanceNormalization", [p + "grouped", p + "ones", p + "zeros"], [p + "normed"],
                         name=p + "instance_norm", epsilon=eps),
        helper.make_node("Shape", [x], [p + "shape"], name=p + "shape"),
        helper.make_node("Reshape", [p + "normed", p + "shape"], [p + "restored"], name=p + "reshape_out"),
        helper.make_node("Mul", [p + "restored", p + "gamma"], [p + "scaled"], name=p + "mul"),
        helper.make_node("Add", [p + "scaled", p + "beta"], [y], name=bn_name),
    ]
    del g.node[idx]
    for k, n in enumerate(nodes):
        g.node.insert(idx + k, n)
    g.initializer.extend(new_inits)
    onnx.checker.check_model(model)
    return model


class Swap(unittest.TestCase, Figures):
    DRIFT = "B differs from A beyond tolerance"

    def assert_drift_report(self, p):
        self.assertIn("result: " + self.DRIFT, p.stdout)
        self.assertIn("not a failure of the comparison", p.stdout)
        # no error line: the comparison ran; what it found is drift
        self.assertNotIn("onnxc:", p.stderr)
        for word in ("error", "Error", "failed"):
            self.assertNotIn(word, p.stdout)

    def test_helper_built_swap(self):
        src = model_path("detector_small.onnx")
        with tempfile.TemporaryDirectory() as d:
            m = swap_bn_by_instance_norm(onnx.load(src), SWAPPED_BN, groups=4)
            swapped = os.path.join(d, "swapped.onnx")
            onnx.save(m, swapped)
            bn_out = [n for n in onnx.load(src).graph.node if n.name == SWAPPED_BN][0].output[0]
            p = onnxc("compare", src, swapped, "--per-node", expect=1)
            self.assert_drift_report(p)
            self.assertIn("first divergence: node '%s' (Add; produced by BatchNormalization in A), output '%s'"
                          % (SWAPPED_BN, bn_out), p.stdout)
            j, _ = compare_json(src, swapped, "--per-node", expect=1)
            c = j["comparison"]
            self.assertEqual(c["per_node"]["first_divergence"]["name"], bn_out)
            for o in c["outputs"]:
                self.assertFalse(o["within_tolerance"])
            # output figures against numpy
            ra = run_outputs(src, d, "a", "--shape", "N=1")
            rb = run_outputs(swapped, d, "b", "--shape", "N=1")
            for o in c["outputs"]:
                self.assert_figures(o, np_metrics(ra[o["name"]], rb[o["name"]]))
                print("helper-built swap %s: NMSE %.3g, cosine %.6f, %d of %d elements fail" %
                      (o["name"], o["nmse"], o["cosine"], o["failing"], o["elements"]))

    def test_swap_norm_pass(self):
        src = model_path("detector_small.onnx")
        with tempfile.TemporaryDirectory() as d:
            swapped = os.path.join(d, "swapped.onnx")
            p = onnxc("optimize", src, "-o", swapped, "--passes", "swap-norm")
            if p.returncode != 0:
                self.skipTest("swap-norm pass not available: " + p.stderr.strip())
            p = onnxc("compare", src, swapped, "--samples", "2", expect=1)
            self.assert_drift_report(p)
            j, _ = compare_json(src, swapped, expect=1)
            for o in j["comparison"]["outputs"]:
                self.assertGreater(o["nmse"], 1e-7)
                print("swap-norm pass %s: NMSE %.3g, cosine %.6f" % (o["name"], o["nmse"], o["cosine"]))


# ---------------------------------------------------------------- bad input: exit 2, one line

class BadInput(unittest.TestCase):
    def tiny(self, d, name, in_name="x", in_shape=(1, 4), out_names=("y",), in_type=TensorProto.FLOAT):
        nodes = [helper.make_node("Relu", [in_name], [o]) for o in out_names]
        m = make_model(nodes, [vi(in_name, list(in_shape), in_type)], [vi(o, list(in_shape), in_type)
                                                                         for o in out_names])
        path = os.path.join(d, name)
        onnx.save(m, path)
        return path

    def test_different_input_names(self):
        with tempfile.TemporaryDirectory() as d:
            a = self.tiny(d, "a.onnx", in_name="x")
            b = self.tiny(d, "b.onnx", in_name="images")
            p = onnxc("compare", a, b, expect=2)
            assert_one_line_error(self, p, "'x'", "'images'", a, b)

    def test_different_input_shapes(self):
        with tempfile.TemporaryDirectory() as d:
            a = self.tiny(d, "a.onnx", in_shape=(1, 4))
            b = self.tiny(d, "b.onnx", in_shape=(1, 5))
            p = onnxc("compare", a, b, expect=2)
            assert_one_line_error(self, p, "input 'x'", "1x4", "1x5")

    def test_different_input_types(self):
        with tempfile.TemporaryDirectory() as d:
            a = self.tiny(d, "a.onnx")
            b = self.tiny(d, "b.onnx", in_type=TensorProto.DOUBLE)
            p = onnxc("compare", a, b, expect=2)
            assert_one_line_error(self, p, "input 'x'", "float", "double")

    def test_input_file_of_wrong_shape(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "wrong.npy")
            np.save(f, np.zeros((1, 3, 16, 16), dtype=np.float32))
            p = onnxc("compare", src, src, "--input", "input=" + f, expect=2)
            assert_one_line_error(self, p, "input 'input'", f, "1x3x16x16", "Nx3x32x32")
            np.save(f, np.zeros((1, 3, 32, 32), dtype=np.int64))
            p = onnxc("compare", src, src, "--input", "input=" + f, expect=2)
            assert_one_line_error(self, p, "input 'input'", "int64", "float")
            np.save(f, np.zeros((1, 3, 32, 32), dtype=np.float64))  # NumPy's default type: cast, with a note
            p = onnxc("compare", src, src, "--input", "input=" + f, expect=0)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            for needle in ("note", "float64", "cast to float"):
                self.assertIn(needle, p.stderr)
            p = onnxc("compare", src, src, "--input", "nope=" + f, expect=2)
            assert_one_line_error(self, p, "'nope'", "'input'")

    def test_no_outputs_in_common(self):
        with tempfile.TemporaryDirectory() as d:
            a = self.tiny(d, "a.onnx", out_names=("y",))
            b = self.tiny(d, "b.onnx", out_names=("z1", "z2"))
            p = onnxc("compare", a, b, expect=2)
            assert_one_line_error(self, p, "no outputs in common", "'y'", "'z1'", "'z2'")

    def test_usage(self):
        src = model_path("resnet_like.onnx")
        for args, needle in (([src], "two models"), ([src, src, src], "unexpected argument"),
                             ([src, src, "--atol", "-1"], "--atol"), ([src, src, "--samples", "0"], "--samples"),
                             ([src, src, "--range", "input=1,0"], "LO < HI"),
                             ([src, src, "--range", "nope=0,1"], "'nope'"), ([src, src, "--bogus"], "--bogus"),
                             ([src, src, "--shape", "Q=2"], "Q")):
            p = onnxc("compare", *args, expect=2)
            assert_one_line_error(self, p, needle)

    def test_missing_model(self):
        src = model_path("resnet_like.onnx")
        p = onnxc("compare", src, "/nonexistent/b.onnx", expect=2)
        assert_one_line_error(self, p, "/nonexistent/b.onnx")


# ---------------------------------------------------------------- options and findings

class Options(unittest.TestCase, Figures):
    def log_model(self, d, out_name="y"):
        m = make_model([helper.make_node("Log", ["x"], [out_name])], [vi("x", [2, 8])], [vi(out_name, [2, 8])])
        path = os.path.join(d, "log_%s.onnx" % out_name)
        onnx.save(m, path)
        return path

    def test_reference_nan_warns(self):
        with tempfile.TemporaryDirectory() as d:
            m = self.log_model(d)
            # inputs in [-1, 1): Log gives NaN for the negative half, in both models; a NaN never passes
            p = onnxc("compare", m, m, expect=1)
            self.assertIn("onnxc: warning: the reference A itself produces", p.stderr)
            self.assertIn("NaN", p.stdout)
            j, _ = compare_json(m, m, expect=1)
            o = j["comparison"]["outputs"][0]
            x = run_outputs(m, d, "a")["y"]  # the same seeded input
            self.assertEqual(o["nan_a"], int(np.isnan(x).sum()))
            self.assertEqual(o["nan_b"], o["nan_a"])
            self.assertEqual(o["failing"], o["nan_a"])
            self.assertEqual(o["nonfinite_mismatch"], 0)
            self.assertTrue(j["comparison"]["reference_nonfinite"])
            # positive inputs: identical, exit 0, no warning
            p = onnxc("compare", m, m, "--range", "x=0.5,2", expect=0)
            self.assertEqual(p.stderr, "")
            self.assertIn("random in [0.5, 2)", p.stdout)

    def test_range_maps_run_values(self):
        # --range x=LO,HI maps run's [-1, 1) values affinely: Log(x) in B vs A = Identity checks the inputs used
        with tempfile.TemporaryDirectory() as d:
            a = os.path.join(d, "id.onnx")
            onnx.save(make_model([helper.make_node("Identity", ["x"], ["y"])], [vi("x", [2, 8])], [vi("y", [2, 8])]), a)
            x = run_outputs(a, d, "x", "--seed", "5")["y"].astype(np.float64)
            want = (2.0 + (x + 1.0) * (6.0 - 2.0) / 2).astype(np.float32)
            j, _ = compare_json(a, a, "--seed", "5", "--range", "x=2,6", expect=0)
            self.assertEqual(j["inputs"][0]["range"], [2, 6])
            # B = x - 4 : its drift against A = x is exactly 4 everywhere, relative 4/|x|
            b = os.path.join(d, "shift.onnx")
            onnx.save(make_model([helper.make_node("Sub", ["x", "four"], ["y"])], [vi("x", [2, 8])], [vi("y", [2, 8])],
                                 inits=[numpy_helper.from_array(np.array(4, dtype=np.float32), "four")]), b)
            j, _ = compare_json(a, b, "--seed", "5", "--range", "x=2,6", expect=1)
            self.assert_figures(j["comparison"]["outputs"][0], np_metrics(want, want - np.float32(4)))

    def test_outputs_matched_by_position(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = self.log_model(d, "y"), self.log_model(d, "z")
            p = onnxc("compare", a, b, "--range", "x=0.5,2", expect=0)
            self.assertIn("matched by position", p.stdout)
            self.assertIn("onnxc: warning: the models share no output name: outputs are matched by position", p.stderr)
            j, _ = compare_json(a, b, "--range", "x=0.5,2", expect=0)
            self.assertEqual(j["comparison"]["matched_by"], "position")
            self.assertEqual((j["comparison"]["outputs"][0]["name"], j["comparison"]["outputs"][0]["name_a"]),
                             ("z", "y"))

    def test_inputs_from_file(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "x.npy")
            np.save(f, np.random.RandomState(0).uniform(-1, 1, (2, 3, 32, 32)).astype(np.float32))
            opt = os.path.join(d, "opt.onnx")
            onnxc("optimize", src, "-o", opt, expect=0)
            p = onnxc("compare", src, opt, "--input", "input=" + f, "--samples", "3", expect=0)
            self.assertIn("from " + f, p.stdout)
            self.assertIn("every input comes from a file", p.stderr)
            j, _ = compare_json(src, opt, "--input", f, expect=0)
            self.assertEqual(j["comparison"]["outputs"][0]["elements"], 20)
            self.assertEqual(j["comparison"]["outputs"][0]["top1"]["rows"], 2)

    def test_dump(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "dump")
            p = onnxc("run", src, "--shape", "N=1", "--dump", out, expect=0)
            g = onnx.load(src).graph
            produced = [o for n in g.node for o in n.output]
            self.assertIn("dumped %d values" % len(produced), p.stdout)
            self.assertEqual(sorted(os.listdir(out)), sorted(o.replace("/", "_") + ".npy" for o in produced))
            # the dumped graph output equals the one --output-dir writes
            outs = run_outputs(src, d, "o", "--shape", "N=1")
            np.testing.assert_array_equal(np.load(os.path.join(out, "logits.npy")), outs["logits"])
            # an intermediate against numpy: Flatten of the GlobalAveragePool output
            gap = np.load(os.path.join(out, "_gap_GlobalAveragePool_output_0.npy"))
            flat = np.load(os.path.join(out, "_Flatten_output_0.npy"))
            np.testing.assert_array_equal(gap.reshape(1, -1), flat)
            relu = np.load(os.path.join(out, "_l2_Relu_output_0.npy"))
            np.testing.assert_allclose(gap, relu.mean(axis=(2, 3), keepdims=True), rtol=1e-5, atol=1e-6)
            p = onnxc("run", src, "--dump", os.path.join(d, "x"), "--dump-only", "input", expect=2)
            assert_one_line_error(self, p, "'input'")
            p = onnxc("run", src, "--dump-only", "logits", expect=2)
            assert_one_line_error(self, p, "--dump")

    def test_progress_bar_on_a_terminal(self):
        import pty
        import threading
        import time
        src = model_path("detector_small.onnx")
        # The bar appears only when a comparison takes over a second, so the sample count grows until the run is
        # long enough on this machine (the executor's speed is not this test's business).
        samples = 400
        while True:
            master, slave = pty.openpty()
            chunks = []

            def drain():
                while True:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    chunks.append(data)

            reader = threading.Thread(target=drain, daemon=True)
            reader.start()
            start = time.monotonic()
            p = subprocess.run([ONNXC, "compare", src, src, "--samples", str(samples), "--threads", "1"],
                               stdout=subprocess.PIPE, stderr=slave, timeout=900)
            took = time.monotonic() - start
            os.close(slave)
            reader.join(5)
            os.close(master)
            self.assertEqual(p.returncode, 0)
            if took > 1.5 or samples >= 400 * 64:
                break
            samples *= 4
        err = b"".join(chunks).decode(errors="replace")
        self.assertGreater(took, 1.5, "the run was too quick to show a bar")
        self.assertIn("sample ", err)
        self.assertRegex(err, r"\[#*\.*\] +\d+%%  sample \d+/%d" % samples)
        self.assertTrue(err.rstrip(" ").endswith("\r"), repr(err[-80:]))  # the bar is wiped at the end
        self.assertNotIn("[", p.stdout.decode().split("result:")[1])

    def test_json_is_one_object(self):
        src = model_path("detector_small.onnx")
        p = onnxc("compare", src, src, "--json", "--per-node", expect=0)
        j = json.loads(p.stdout)  # raises on anything but one JSON document
        self.assertEqual(set(j), {"a", "b", "reference", "seed", "samples", "inputs", "comparison"})
        self.assertFalse(j["reference"])
        self.assertEqual(j["inputs"][0]["shape"], [1, 3, 64, 64])
        for v in j["comparison"]["per_node"]["values"]:
            self.assertEqual(v["max_abs"], 0.0)


# ---------------------------------------------------------------- --reference: saved outputs as A

class Reference(unittest.TestCase, Figures):
    """compare MODEL --reference DIR against the outputs PyTorch computed (models/expected), which are the
    independent truth; the figures are checked against numpy on onnxc run's outputs for the same input."""

    def setUp(self):
        self.src = model_path("detector_small.onnx")
        exp = os.path.join(MODELS_DIR, "expected", "detector_small")
        self.x = os.path.join(exp, "input_0.npy")
        # PyTorch's outputs, in the model's output order (models/MANIFEST.json)
        self.torch = {"cls_logits": np.load(os.path.join(exp, "output_0.npy")),
                      "box_regression": np.load(os.path.join(exp, "output_1.npy"))}
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def ref_dir(self, name="ref", outs=None, pb=("box_regression",)):
        """outs as NAME.npy, those in pb as TensorProto .pb files named after the tensor's position."""
        r = os.path.join(self.d, name)
        os.makedirs(r)
        for i, (k, v) in enumerate((outs or self.torch).items()):
            if k in pb:
                with open(os.path.join(r, "output_%d.pb" % i), "wb") as f:
                    f.write(numpy_helper.from_array(v, k).SerializeToString())
            else:
                np.save(os.path.join(r, k + ".npy"), v)
        return r

    def test_pytorch_outputs(self):
        r = self.ref_dir()
        j, p = compare_json(self.src, "--reference", r, "--input", "input=" + self.x, expect=0)
        self.assertTrue(j["reference"])
        self.assertEqual(j["a"], r)
        c = j["comparison"]
        self.assertEqual(c["reference"], r)
        self.assertTrue(c["within_tolerance"])
        got = run_outputs(self.src, self.d, "run", "--input", "input=" + self.x)
        self.assertEqual({o["name"] for o in c["outputs"]}, set(self.torch))
        for o in c["outputs"]:
            self.assertEqual(o["shape_a"], list(self.torch[o["name"]].shape))
            self.assert_figures(o, np_metrics(self.torch[o["name"]], got[o["name"]]))
            self.assertLessEqual(o["nmse"], 1e-10)  # the models' own bar against PyTorch
        p = onnxc("compare", self.src, "--reference", r, "--input", "input=" + self.x, expect=0)
        self.assertIn("saved reference outputs", p.stdout)
        self.assertIn("result: B matches A within tolerance on all 2 outputs", p.stdout)

    def test_perturbed_reference_differs(self):
        outs = dict(self.torch)
        cls = outs["cls_logits"].copy()
        cls.flat[::97] *= 1.01
        outs["cls_logits"] = cls
        r = self.ref_dir(outs=outs)
        j, _ = compare_json(self.src, "--reference", r, "--input", "input=" + self.x, expect=1)
        got = run_outputs(self.src, self.d, "run", "--input", "input=" + self.x)
        by = {o["name"]: o for o in j["comparison"]["outputs"]}
        want = np_metrics(cls, got["cls_logits"])
        self.assertGreater(want["failing"], 0)
        self.assert_figures(by["cls_logits"], want)
        self.assertFalse(by["cls_logits"]["within_tolerance"])
        self.assertTrue(by["box_regression"]["within_tolerance"])
        self.assertFalse(j["comparison"]["within_tolerance"])

    def test_file_for_an_unknown_name_is_a_note(self):
        r = self.ref_dir()
        np.save(os.path.join(r, "features.npy"), np.zeros(3, np.float32))
        j, p = compare_json(self.src, "--reference", r, "--input", "input=" + self.x, expect=0)
        self.assertEqual(j["comparison"]["unmatched_a"], ["features"])
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("note", p.stderr)
        self.assertIn("'features'", p.stderr)

    def test_shape_and_dtype_mismatch_not_comparable(self):
        outs = dict(self.torch)
        outs["cls_logits"] = outs["cls_logits"][:, :14]
        outs["box_regression"] = outs["box_regression"].astype(np.float64)
        r = self.ref_dir(outs=outs, pb=())
        j, p = compare_json(self.src, "--reference", r, "--input", "input=" + self.x, expect=1)
        by = {o["name"]: o for o in j["comparison"]["outputs"]}
        self.assertFalse(by["cls_logits"]["comparable"])
        self.assertEqual(by["cls_logits"]["shape_a"], [1, 14, 32, 32])
        self.assertEqual(by["cls_logits"]["shape_b"], [1, 15, 32, 32])
        self.assertFalse(by["box_regression"]["comparable"])
        self.assertEqual((by["box_regression"]["dtype_a"], by["box_regression"]["dtype_b"]), ("double", "float"))
        p = onnxc("compare", self.src, "--reference", r, "--input", "input=" + self.x, expect=1)
        self.assertIn("not comparable", p.stdout)

    def test_bad_input(self):
        x = "input=" + self.x
        p = onnxc("compare", self.src, "--reference", os.path.join(self.d, "nope"), "--input", x, expect=2)
        assert_one_line_error(self, p, os.path.join(self.d, "nope"), "reference folder")
        r = self.ref_dir(outs={"cls_logits": self.torch["cls_logits"]})
        open(os.path.join(r, "notes.txt"), "w").write("not a tensor")
        p = onnxc("compare", self.src, "--reference", r, "--input", x, expect=2)
        assert_one_line_error(self, p, r, "'box_regression'", "cls_logits.npy")
        self.assertNotIn("notes.txt", p.stderr)
        r2 = self.ref_dir("ref2")
        p = onnxc("compare", self.src, "--reference", r2, expect=2)
        assert_one_line_error(self, p, "--input", "'input'", r2)
        np.save(os.path.join(r2, "box_regression.npy"), self.torch["box_regression"])
        p = onnxc("compare", self.src, "--reference", r2, "--input", x, expect=2)
        assert_one_line_error(self, p, "box_regression.npy", "output_1.pb", "'box_regression'")
        with open(os.path.join(r2, "cls_logits.npy"), "wb") as f:
            f.write(b"\x93NUMPY truncated")
        os.remove(os.path.join(r2, "box_regression.npy"))
        p = onnxc("compare", self.src, "--reference", r2, "--input", x, expect=2)
        assert_one_line_error(self, p, "cls_logits.npy")
        for extra, needle in ((["--per-node"], "--per-node"), (["--samples", "2"], "--samples"),
                              (["--seed", "3"], "--seed"), ([self.src], "one model")):
            p = onnxc("compare", self.src, "--reference", r, "--input", x, *extra, expect=2)
            assert_one_line_error(self, p, needle)


# ---------------------------------------------------------------- --report FILE.html

CHROMIUM = os.environ.get("ONNXC_CHROMIUM", "/usr/bin/chromium")  # Debian package chromium
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG_SELF_CLOSED = {"line", "circle", "polyline", "path", "rect"}


class PageParser(html.parser.HTMLParser):
    """Well-formedness (every element closed, in order), the text of table cells by table id, the SVG's points and
    whether anything could fetch a resource."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems = [], []
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.points, self.divergence_lines, self.texts, self.svg_texts = [], 0, [], []
        self.fetching = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "xmlns") or (v and "://" in v):
                self.fetching.append((tag, k, v))
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.fetching.append((tag, "", ""))
        if tag == "table":
            self.table = a.get("id", "")
            self.tables[self.table] = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "circle" and "point" in a.get("class", "").split():
            self.points.append(a)
        elif tag == "line" and a.get("class") == "divergence":
            self.divergence_lines += 1
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes %s" % (tag, self.stack[-1] if self.stack else "nothing"))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag in ("td", "th"):
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.tables[self.table].append(self.row)
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if "svg" in self.stack:
            self.svg_texts.append(data)
        self.texts.append(data)

    def parse_page(self, text):
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append("left open: %s" % self.stack)
        return self


def html_escaping_models(d):
    """x * c -> 'v<&>"1' -> Relu -> a name made to break out of a table cell; B's c differs from A's."""
    mid, out = 'v<&>"1\'', "out</td><script>alert(1)</script>"
    for name, c in (("a.onnx", 2.0), ("b.onnx", 2.5)):
        m = make_model([helper.make_node("Mul", ["x", "c"], [mid], name="mul<b>"),
                        helper.make_node("Relu", [mid], [out], name="relu&")],
                       [vi("x", [2, 3])], [vi(out, [2, 3])],
                       [numpy_helper.from_array(np.full((1,), c, np.float32), "c")])
        onnx.save(m, os.path.join(d, name))
    return os.path.join(d, "a.onnx"), os.path.join(d, "b.onnx"), mid, out


class Report(unittest.TestCase):
    """The page onnxc compare --report writes, read with Python's html.parser (well-formed, escaped, nothing
    fetched) and checked against the JSON of the same comparison."""

    def check_page(self, path, j):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("<!DOCTYPE html>"))
        page = PageParser().parse_page(text)
        self.assertEqual(page.problems, [])
        self.assertEqual(page.fetching, [])
        self.assertNotIn("://", text)
        self.assertNotIn("url(", text)
        self.assertNotIn("@import", text)
        c = j["comparison"]
        rows = page.tables["outputs"]
        self.assertEqual(rows[0][:3], ["output", "shape", "dtype"])
        self.assertEqual(len(rows) - 1, len(c["outputs"]))
        for row, o in zip(rows[1:], c["outputs"]):
            self.assertEqual(row[0], o["name"])
            self.assertEqual(row[1], "x".join(map(str, o["shape_b"])) if o["shape_b"] else "scalar")
            self.assertEqual(row[2].split(" ")[0], o["dtype_b"])
            if o["comparable"]:
                self.assertEqual(row[3:6], ["%.3e" % o[k] for k in ("max_abs", "max_rel", "nmse")])
                self.assertEqual(row[6], "%.9f" % o["cosine"])
            self.assertEqual(row[-1], "ok" if o["within_tolerance"] else "DIFFERS")
        if "per_node" in c:
            values = c["per_node"]["values"]
            self.assertEqual(len(page.points), len(values))
            self.assertEqual(len(page.tables["per-node"]) - 1, len(values))
            for row, v in zip(page.tables["per-node"][1:], values):
                self.assertEqual(row[1], v["name"])
                self.assertEqual(row[2], v["op"])
            # points left to right in B's order; red exactly where a value is beyond tolerance
            xs = [float(p["cx"]) for p in page.points]
            self.assertEqual(xs, sorted(xs))
            for p, v in zip(page.points, values):
                self.assertEqual("differs" in p["class"].split(), not v["within_tolerance"])
            first = c["per_node"]["first_divergence"]
            self.assertEqual(page.divergence_lines, 1 if first else 0)
            if first:
                self.assertIn("first divergence: " + first["name"], "".join(page.svg_texts))
        return page, text

    def test_per_node_page(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, changed_value = Weight.changed_model(self, d)
            report = os.path.join(d, "r.html")
            j, p = compare_json(src, changed, "--per-node", "--report", report, expect=1)
            self.assertEqual(j["comparison"]["per_node"]["first_divergence"]["name"], changed_value)
            page, _ = self.check_page(report, j)
            self.assertGreater(len(page.points), 10)
            self.assertEqual([f for f in os.listdir(d) if f.startswith("r.html")], ["r.html"])  # no temp left

    def test_names_are_escaped(self):
        with tempfile.TemporaryDirectory() as d:
            a, b, mid, out = html_escaping_models(d)
            report = os.path.join(d, "r.html")
            j, _ = compare_json(a, b, "--per-node", "--report", report, expect=1)
            page, text = self.check_page(report, j)
            self.assertNotIn("<script", text)
            self.assertEqual([r[0] for r in page.tables["outputs"][1:]], [out])
            self.assertEqual([r[1] for r in page.tables["per-node"][1:]], [mid, out])
            self.assertEqual(len(page.points), 2)

    def test_reference_page(self):
        src = model_path("detector_small.onnx")
        exp = os.path.join(MODELS_DIR, "expected", "detector_small")
        with tempfile.TemporaryDirectory() as d:
            r = os.path.join(d, "ref")
            os.makedirs(r)
            np.save(os.path.join(r, "cls_logits.npy"), np.load(os.path.join(exp, "output_0.npy")))
            np.save(os.path.join(r, "box_regression.npy"), np.load(os.path.join(exp, "output_1.npy")))
            report = os.path.join(d, "r.html")
            j, _ = compare_json(src, "--reference", r, "--input", "input=" + os.path.join(exp, "input_0.npy"),
                                "--report", report, expect=0)
            page, text = self.check_page(report, j)
            self.assertEqual(len(page.tables["outputs"]) - 1, 2)
            self.assertEqual(page.points, [])
            self.assertIn("saved outputs", text)

    def test_bad_report_path(self):
        src = model_path("detector_small.onnx")
        with tempfile.TemporaryDirectory() as d:
            for bad, needle in ((os.path.join(d, "no", "r.html"), "does not exist"), (d, "is a folder")):
                p = onnxc("compare", src, src, "--report", bad, expect=2)
                assert_one_line_error(self, p, bad, needle)
            self.assertEqual(os.listdir(d), [])


class ReportChromium(unittest.TestCase):
    """The page as headless Chromium renders it: the DOM it builds has the table rows and one SVG point per
    shared value, and the screenshot is a real image."""

    def chromium(self, d, *args):
        profile = tempfile.mkdtemp(dir=d)
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync", "--no-first-run",
                            "--user-data-dir=" + profile] + list(args), capture_output=True, text=True,
                           errors="replace", timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_renders(self):
        src = model_path("resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            changed, changed_value = Weight.changed_model(self, d)
            report = os.path.join(d, "r.html")
            j, _ = compare_json(src, changed, "--per-node", "--report", report, expect=1)
            url = "file://" + urllib.request.pathname2url(report)
            dom = self.chromium(d, "--dump-dom", url)
            page = PageParser().parse_page(dom)
            c = j["comparison"]
            values = c["per_node"]["values"]
            self.assertEqual([r[0] for r in page.tables["outputs"][1:]], [o["name"] for o in c["outputs"]])
            self.assertEqual(len(page.tables["per-node"]) - 1, len(values))
            self.assertEqual(len(page.points), len(values))
            self.assertEqual(page.divergence_lines, 1)
            self.assertIn("first divergence: " + changed_value, "".join(page.svg_texts))
            self.assertEqual(page.fetching, [])
            shot = os.path.join(d, "r.png")
            self.chromium(d, "--screenshot=" + shot, "--window-size=1100,900", url)
            with open(shot, "rb") as f:
                png = f.read()
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            w, h = struct.unpack(">II", png[16:24])
            self.assertEqual((w, h), (1100, 900))


GROUPS = {"optimize": Optimize, "weight": Weight, "swap": Swap, "badinput": BadInput, "options": Options,
          "rounding": Rounding, "reference": Reference, "report": Report,
          "report_chromium": ReportChromium}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        sys.exit("usage: test_compare.py {%s}" % ",".join(GROUPS))
    if sys.argv[1] == "report_chromium" and not os.access(CHROMIUM, os.X_OK):
        print("%s is not installed (Debian package chromium): skipped" % CHROMIUM)
        sys.exit(77)  # ctest's SKIP_RETURN_CODE
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(GROUPS[sys.argv[1]])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
