#!/usr/bin/python3
"""End-to-end tests of the onnxc command-line tool (info, check, convert, run, bench and usage errors).

Expected values come from python's onnx and numpy (counts, shapes, arrays) and from the ONNX node test data,
never from onnxc itself. Run one group:  test_cli.py GROUP  with ONNXC (the binary), ONNXC_NODE_TEST_DIR,
ONNXC_MODELS_DIR and ONNXC_VERSION in the environment. Exit 77 (skip) when the node test data is missing.
"""
import collections
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC = os.environ.get("ONNXC", "onnxc")
NODE_DIR = os.environ.get("ONNXC_NODE_TEST_DIR", "")
MODELS_DIR = os.environ.get("ONNXC_MODELS_DIR", "")
VERSION = os.environ.get("ONNXC_VERSION", "")
SKIP = 77


def onnxc(*args, expect=None):
    """Run onnxc with args; check the exit code when expect is given."""
    p = subprocess.run([ONNXC] + [str(a) for a in args], capture_output=True, text=True, errors="replace",
                       timeout=600)
    if expect is not None and p.returncode != expect:
        raise AssertionError("onnxc %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, expect, p.stdout, p.stderr))
    return p


def assert_one_line_error(tc, p, *needles):
    """stderr holds exactly one line 'onnxc: ...' containing every needle."""
    lines = p.stderr.splitlines()
    tc.assertEqual(len(lines), 1, "expected one error line, got:\n" + p.stderr)
    tc.assertTrue(lines[0].startswith("onnxc: "), lines[0])
    for n in needles:
        tc.assertIn(n, lines[0])


def node_test(name):
    d = os.path.join(NODE_DIR, name)
    if not os.path.isfile(os.path.join(d, "model.onnx")):
        raise unittest.SkipTest("node test %s is missing" % name)
    return d


def save(model, path):
    onnx.save(model, path)
    return path


def make_model(nodes, inputs, outputs, inits=(), opset=15, value_info=(), ir_version=8, name="g",
               extra_opsets=()):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits), value_info=list(value_info))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] + list(extra_opsets),
                          producer_name="cli-test", producer_version="1.2")
    m.ir_version = ir_version
    return m


def f32(shape, seed):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32)


# ---------------------------------------------------------------- an independent BN foldability predicate

FLOATS = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}


def foldable_bns(model):
    """Number of BatchNormalization nodes that look foldable, following the rule documented in
    src/bn_match.h and passes/affine.h (producer conditions), computed from the proto (main graph only)."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    input_names = {i.name for i in g.input}
    consts = {}
    for n in g.node:
        if n.op_type == "Constant" and n.domain in ("", "ai.onnx"):
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = a.t
    for k, t in inits.items():
        if k not in input_names:
            consts[k] = t
    # optimize folds constants before fold-bn: a PyTorch Linear's weight is Transpose(W), a constant then
    for n in g.node:
        if n.op_type == "Transpose" and n.domain in ("", "ai.onnx") and n.input[0] in consts:
            perm = [helper.get_attribute_value(a) for a in n.attribute if a.name == "perm"]
            arr = numpy_helper.to_array(consts[n.input[0]])
            consts[n.output[0]] = numpy_helper.from_array(np.transpose(arr, perm[0] if perm else None), n.output[0])
    producer = {o: n for n in g.node for o in n.output if o}
    uses = collections.Counter(i for n in g.node for i in n.input if i)
    outputs = {o.name for o in g.output}
    declared_rank = {}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.HasField("shape"):
            declared_rank.setdefault(vi.name, len(vi.type.tensor_type.shape.dim))

    def attr(n, name, default):
        for a in n.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    count = 0
    for bn in g.node:
        if bn.op_type != "BatchNormalization" or bn.domain not in ("", "ai.onnx"):
            continue
        if len(bn.input) < 5 or attr(bn, "training_mode", 0) != 0 or attr(bn, "spatial", 1) == 0:
            continue
        if any(o and (uses[o] or o in outputs) for o in bn.output[1:]):
            continue
        params = [consts.get(x) for x in bn.input[1:5]]
        if any(p is None or p.data_type not in FLOATS or len(p.dims) != 1 for p in params):
            continue
        if len({p.dims[0] for p in params}) != 1:
            continue
        channels = params[0].dims[0]
        x = bn.input[0]
        p = producer.get(x)
        if p is None or p.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul") or p.domain not in ("", "ai.onnx"):
            continue
        if p.output[0] != x or x in outputs or uses[x] != 1:
            continue
        if p.op_type != "MatMul" and len(p.input) > 2 and p.input[2] and p.input[2] not in consts:
            continue
        w = consts.get(p.input[1]) if len(p.input) > 1 else None
        if w is None or w.data_type not in FLOATS:
            continue
        if p.op_type == "Conv":
            pc = w.dims[0] if len(w.dims) >= 3 else None
        elif p.op_type == "ConvTranspose":
            pc = w.dims[1] * attr(p, "group", 1) if len(w.dims) >= 3 else None
        elif p.op_type == "Gemm":
            pc = (w.dims[0] if attr(p, "transB", 0) else w.dims[1]) if len(w.dims) == 2 else None
        else:
            a = p.input[0]
            rank = declared_rank.get(a)
            # the rank of an undeclared value follows from where it comes from (passes/affine.h): back through
            # ops that keep the rank to a declaration, a constant, or a Gemm/Flatten (rank 2)
            keeps = {"Relu", "Clip", "BatchNormalization", "Sigmoid", "LeakyRelu", "Identity", "MaxPool",
                     "AveragePool", "HardSwish", "Tanh", "Dropout"}
            while rank is None and a not in consts and a in producer:
                q = producer[a]
                if q.op_type in ("Gemm", "Flatten"):
                    rank = 2
                elif q.op_type in keeps and q.output[0] == a:
                    a = q.input[0]
                    rank = declared_rank.get(a)
                else:
                    break
            if rank is None and a in consts:
                rank = len(consts[a].dims)
            pc = w.dims[1] if len(w.dims) == 2 and rank == 2 else None
        if pc is not None and pc == channels:
            count += 1
    return count


def expected_info(model):
    """What `onnxc info --json` must say, computed with python's onnx."""
    g = model.graph
    init_names = {t.name for t in g.initializer}

    def io(vi):
        tt = vi.type.tensor_type
        shape = None
        if tt.HasField("shape"):
            shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
                     for d in tt.shape.dim]
        # our dtype names are ONNX's own, lower case ("float", "int64", "bfloat16")
        return {"name": vi.name, "dtype": TensorProto.DataType.Name(tt.elem_type).lower(), "shape": shape}

    hist = collections.Counter()

    def walk(graph):
        for n in graph.node:
            hist[n.op_type if n.domain in ("", "ai.onnx") else n.domain + "." + n.op_type] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)
    walk(g)
    arrays = [numpy_helper.to_array(t) for t in g.initializer]
    return {
        "ir_version": model.ir_version,
        "opset_import": sorted((o.domain, o.version) for o in model.opset_import),
        "graph_name": g.name,
        "inputs": [io(i) for i in g.input if i.name not in init_names],
        "outputs": [io(o) for o in g.output],
        "node_count": len(g.node),
        "node_count_total": sum(hist.values()),
        "op_histogram": dict(hist),
        "param_float": int(sum(a.size for a in arrays if a.dtype.kind == "f")),
        "param_total": int(sum(a.size for a in arrays)),
        "param_bytes": int(sum(a.nbytes for a in arrays)),
        "initializers": len(arrays),
        "bn_count": sum(1 for n in g.node if n.op_type == "BatchNormalization"),
    }


# ---------------------------------------------------------------- the BN-rich model of the info tests

def bn_model():
    X = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3, 8, 8])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 5])
    out2 = helper.make_tensor_value_info("out2", TensorProto.FLOAT, None)
    mm_out = helper.make_tensor_value_info("mm_bn", TensorProto.FLOAT, ["N", 6])
    inits = [numpy_helper.from_array(f32((4, 3, 3, 3), 1), "W1"), numpy_helper.from_array(f32((4,), 2), "B1"),
             numpy_helper.from_array(f32((4, 4, 1, 1), 3), "W2"), numpy_helper.from_array(f32((4, 5), 4), "Wg"),
             numpy_helper.from_array(f32((5,), 5), "Bg"), numpy_helper.from_array(f32((4, 6), 6), "Wm"),
             numpy_helper.from_array(np.array([-1, 10], dtype=np.int64), "shape"),
             numpy_helper.from_array(f32((2, 4, 1, 1), 7), "W3")]
    nodes = []

    def bn(name, x, y, c, training=None, mean_const=False):
        ps = []
        for k, p in enumerate(("s", "b", "m", "v")):
            pname = "%s_%s" % (name, p)
            seed = sum(map(ord, pname))  # deterministic (str hashes are salted per process)
            arr = np.abs(f32((c,), seed)) + 0.5 if p == "v" else f32((c,), seed)
            if p == "m" and mean_const:
                nodes.append(helper.make_node("Constant", [], [pname], value=numpy_helper.from_array(arr, pname + "_t")))
            else:
                inits.append(numpy_helper.from_array(arr, pname))
            ps.append(pname)
        kw = {} if training is None else {"training_mode": training}
        nodes.append(helper.make_node("BatchNormalization", [x] + ps, [y], name=name, **kw))

    nodes.append(helper.make_node("Conv", ["X", "W1", "B1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]))
    bn("bn1", "c1", "b1", 4)                                   # foldable
    nodes.append(helper.make_node("Relu", ["b1"], ["r1"], name="relu1"))
    nodes.append(helper.make_node("Conv", ["r1", "W2"], ["c2"], name="conv2"))
    bn("bn2", "c2", "b2", 4)                                   # conv2 output also feeds add2
    nodes.append(helper.make_node("Add", ["c2", "b2"], ["a2"], name="add2"))
    bn("bn3", "a2", "b3", 4)                                   # producer is an Add
    nodes.append(helper.make_node("Conv", ["r1", "W3"], ["c3"], name="conv3"))
    bn("bn6", "c3", "b6", 2, training=1)                       # training mode
    nodes.append(helper.make_node("GlobalAveragePool", ["b3"], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["f"], name="flatten"))
    nodes.append(helper.make_node("Gemm", ["f", "Wg", "Bg"], ["gm"], name="gemm"))
    bn("bn4", "gm", "out", 5, mean_const=True)                 # foldable, mean from a Constant node
    nodes.append(helper.make_node("MatMul", ["f", "Wm"], ["mm"], name="matmul"))
    bn("bn5", "mm", "mm_bn", 6)                                # foldable: f is declared rank 2
    nodes.append(helper.make_node("Reshape", ["out", "shape"], ["out2"], name="reshape"))
    f_info = helper.make_tensor_value_info("f", TensorProto.FLOAT, ["N", 4])
    b6_out = helper.make_tensor_value_info("b6", TensorProto.FLOAT, ["N", 2, 8, 8])
    return make_model(nodes, [X], [out, out2, mm_out, b6_out], inits, opset=15, value_info=[f_info], name="bn_graph")


# ---------------------------------------------------------------- groups

class Usage(unittest.TestCase):
    def test_no_arguments(self):
        p = onnxc(expect=2)
        self.assertIn("usage", p.stderr)

    def test_help_lists_commands(self):
        p = onnxc("--help", expect=0)
        for cmd in ("info", "check", "convert", "run"):
            self.assertRegex(p.stdout, r"\n  %s " % cmd)

    def test_version(self):
        p = onnxc("--version", expect=0)
        self.assertEqual(p.stdout.strip(), "onnxc " + VERSION)

    def test_command_help(self):
        for cmd in ("info", "check", "convert", "run"):
            p = onnxc(cmd, "--help", expect=0)
            self.assertTrue(p.stdout.startswith("usage: onnxc " + cmd), p.stdout)
            self.assertEqual(p.stderr, "")
            self.assertEqual(onnxc("help", cmd, expect=0).stdout, p.stdout)

    def test_bad_usage_is_exit_2_with_one_line(self):
        with tempfile.TemporaryDirectory() as d:
            m = save(make_model([helper.make_node("Relu", ["x"], ["y"])],
                                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])]), os.path.join(d, "m.onnx"))
            cases = [
                (("bogus",), "unknown command 'bogus'"),
                (("--bogus",), "unknown option '--bogus'"),
                (("info",), "no model"),
                (("info", m, m), "unexpected argument"),
                (("info", "--frobnicate", m), "unknown option '--frobnicate'"),
                (("check",), "no model"),
                (("check", m, "--yaml"), "unknown option"),
                (("convert", m), "-o"),
                (("convert", m, "-o"), "needs a value"),
                (("convert", m, "-o", os.path.join(d, "o.onnx"), "--external-data=lots"), "byte count"),
                (("run",), "no model"),
                (("run", m, "--seed", "abc"), "--seed"),
                (("run", m, "--threads", "0"), "--threads"),
                (("run", m, "--input"), "needs a value"),
                (("run", m, "--shape", "x"), "--shape"),
                (("run", m, "--shape", "x=2xq"), "--shape"),
                (("run", m, "--shape", "nosuch=2"), "nosuch"),
                (("run", m, "--input", "nosuch.npy"), "nosuch.npy"),
                (("optimize", m, "-o", os.path.join(d, "o.onnx"), "--set", "swap-norm.groups=0"),
                 "swap-norm.groups takes a whole number from 1 to"),
                (("optimize", m, "-o", os.path.join(d, "o.onnx"), "--set", "nosuch=1"), "unknown option 'nosuch'"),
                (("swap-norm", m, "-o", os.path.join(d, "o.onnx"), "--form", "native"),
                 "--form takes auto, op or decomposed, not 'native'"),
            ]
            for args, needle in cases:
                p = onnxc(*args, expect=2)
                assert_one_line_error(self, p, needle)

    def test_list_passes(self):
        # both commands print the same table: every pass, and swap-norm.groups with the documented default 32
        p = onnxc("optimize", "--list-passes", expect=0)
        self.assertEqual(onnxc("swap-norm", "--list-passes", expect=0).stdout, p.stdout)
        rows = {line.split()[0]: line for line in p.stdout.splitlines() if line.strip()}
        self.assertIn("swap-norm", rows)
        self.assertIn("default 32", rows["swap-norm.groups"])
        self.assertIn("default false", rows["fold-bn.mul-add"])

    def test_bad_files_are_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            junk = os.path.join(d, "junk.onnx")
            with open(junk, "wb") as f:
                f.write(b"\xff\xff\xff\xff this is not a protobuf \x00\x01")
            missing = os.path.join(d, "missing.onnx")
            for cmd in (("info",), ("check",), ("run",), ("convert", "-o", os.path.join(d, "o.onnx"))):
                p = onnxc(cmd[0], missing, *cmd[1:], expect=2)
                assert_one_line_error(self, p, "missing.onnx")
                p = onnxc(cmd[0], junk, *cmd[1:], expect=2)
                assert_one_line_error(self, p)


class Info(unittest.TestCase):
    def check_json(self, model, path):
        p = onnxc("info", path, "--json", expect=0)
        got = json.loads(p.stdout)
        exp = expected_info(model)
        self.assertEqual(got["ir_version"], exp["ir_version"])
        self.assertEqual(sorted((o["domain"], o["version"]) for o in got["opset_import"]), exp["opset_import"])
        self.assertEqual(got["graph_name"], exp["graph_name"])
        for kind in ("inputs", "outputs"):
            self.assertEqual([i["name"] for i in got[kind]], [i["name"] for i in exp[kind]], path)
            for gi, ei in zip(got[kind], exp[kind]):
                self.assertEqual(gi["dtype"], ei["dtype"], (path, gi))
                self.assertEqual(gi["shape"], ei["shape"], (path, gi))
        self.assertEqual(got["node_count"], exp["node_count"], path)
        self.assertEqual(got["node_count_total"], exp["node_count_total"], path)
        self.assertEqual(got["op_histogram"], exp["op_histogram"], path)
        counts = list(got["op_histogram"].values())
        self.assertEqual(counts, sorted(counts, reverse=True), "histogram not sorted by count")
        self.assertEqual(got["parameters"]["float"], exp["param_float"], path)
        self.assertEqual(got["parameters"]["total"], exp["param_total"], path)
        self.assertEqual(got["parameters"]["bytes"], exp["param_bytes"], path)
        self.assertEqual(got["parameters"]["initializers"], exp["initializers"], path)
        self.assertEqual(got["batchnorm"]["count"], exp["bn_count"], path)
        self.assertEqual(got["batchnorm"]["foldable"], foldable_bns(model), path)
        return got

    def test_bn_model(self):
        with tempfile.TemporaryDirectory() as d:
            m = bn_model()
            path = save(m, os.path.join(d, "bn.onnx"))
            got = self.check_json(m, path)
            # hand-counted: bn1, bn4 and bn5 fold; bn2 (shared conv output), bn3 (Add), bn6 (training) do not
            self.assertEqual(got["batchnorm"], {"count": 6, "foldable": 3})
            self.assertEqual(got["op_histogram"]["BatchNormalization"], 6)
            self.assertEqual(list(got["op_histogram"])[0], "BatchNormalization")
            self.assertEqual(got["inputs"], [{"name": "X", "dtype": "float", "shape": ["N", 3, 8, 8]}])
            self.assertEqual(got["producer_name"], "cli-test")
            self.assertEqual(got["producer_version"], "1.2")
            text = onnxc("info", path, expect=0).stdout
            self.assertIn("N x 3 x 8 x 8", text)
            self.assertIn("ai.onnx 15", text)
            self.assertRegex(text, r"BatchNormalization\s+6\n")
            self.assertIn("6 BatchNormalization nodes, 3 foldable", text)

    def test_foldable_count_is_what_optimize_folds(self):
        # Linear + BatchNorm1d (PyTorch export: Gemm, and MatMul on Transpose(W)): info's count must be the
        # number of BNs that optimize removes, counted on the optimized file with onnx
        src = os.path.join(MODELS_DIR, "linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.onnx")
            onnxc("optimize", src, "-o", out, "--quiet", expect=0)
            before = sum(n.op_type == "BatchNormalization" for n in onnx.load(src).graph.node)
            after = sum(n.op_type == "BatchNormalization" for n in onnx.load(out).graph.node)
            got = json.loads(onnxc("info", src, "--json", expect=0).stdout)
            self.assertEqual(before, 2)
            self.assertEqual(got["batchnorm"], {"count": 2, "foldable": before - after})
            self.assertEqual(got["batchnorm"]["foldable"], 2)
            self.assertEqual(foldable_bns(onnx.load(src)), 2)
            # a Gemm / MatMul mix where one BN folds and two cannot (MatMul by a graph input; a BN on a Relu)
            bn_inits = lambda p: [numpy_helper.from_array(f32((4,), k) + (2 if k == 3 else 0), "%s_%d" % (p, k))
                                  for k in range(4)]
            bn_node = lambda x, y, p: helper.make_node("BatchNormalization", [x] + ["%s_%d" % (p, k) for k in range(4)],
                                                       [y])
            mix = make_model(
                [helper.make_node("Gemm", ["x", "w0"], ["g"], transB=1), bn_node("g", "b0", "n0"),
                 helper.make_node("MatMul", ["b0", "wx"], ["m"]), bn_node("m", "b1", "n1"),
                 helper.make_node("Relu", ["b1"], ["r"]), bn_node("r", "y", "n2")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
                 helper.make_tensor_value_info("wx", TensorProto.FLOAT, [4, 4])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                [numpy_helper.from_array(f32((4, 4), 9), "w0")] + bn_inits("n0") + bn_inits("n1") + bn_inits("n2"))
            mix_path = save(mix, os.path.join(d, "mix.onnx"))
            onnxc("optimize", mix_path, "-o", out, "--quiet", "--force", expect=0)
            got = json.loads(onnxc("info", mix_path, "--json", expect=0).stdout)["batchnorm"]
            left = sum(n.op_type == "BatchNormalization" for n in onnx.load(out).graph.node)
            self.assertEqual(got, {"count": 3, "foldable": 3 - left})
            self.assertEqual(got["foldable"], 1)
            # and on every shipped model (some BNs foldable, some not: after a Relu, in training mode, ...)
            for name in sorted(os.listdir(MODELS_DIR)):
                if not name.endswith(".onnx"):
                    continue
                path = os.path.join(MODELS_DIR, name)
                onnxc("optimize", path, "-o", out, "--quiet", "--force", expect=0)
                bn = lambda m: sum(n.op_type == "BatchNormalization" for n in m.graph.node)
                got = json.loads(onnxc("info", path, "--json", expect=0).stdout)["batchnorm"]
                self.assertEqual(got, {"count": bn(onnx.load(path)), "foldable": bn(onnx.load(path)) - bn(onnx.load(out))},
                                 name)

    def test_ir3_initializers_listed_as_inputs(self):
        w = numpy_helper.from_array(f32((2, 2), 9), "w")
        m = make_model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2]),
                        helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [w], opset=8, ir_version=3)
        with tempfile.TemporaryDirectory() as d:
            got = self.check_json(m, save(m, os.path.join(d, "ir3.onnx")))
            self.assertEqual([i["name"] for i in got["inputs"]], ["x"])

    def test_json_escaping(self):
        names = ['we"ird\\name', "tab\there", "new\nline", "caf\u00e9 \u2603", "ctl\x01x"]
        nodes, prev = [], "x"
        for i, nm in enumerate(names):
            nodes.append(helper.make_node("Relu", [prev], [nm], name="n%d" % i))
            prev = nm
        m = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                       [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1])], name='graph "q"')
        m.producer_name = "back\\slash"
        with tempfile.TemporaryDirectory() as d:
            got = self.check_json(m, save(m, os.path.join(d, "esc.onnx")))
            self.assertEqual(got["outputs"][0]["name"], names[-1])
            self.assertEqual(got["graph_name"], 'graph "q"')
            self.assertEqual(got["producer_name"], "back\\slash")

    def test_node_test_models(self):
        if not os.path.isdir(NODE_DIR):
            raise unittest.SkipTest("no node tests")
        tested = 0
        for name in sorted(os.listdir(NODE_DIR)):
            path = os.path.join(NODE_DIR, name, "model.onnx")
            if not os.path.isfile(path):
                continue
            m = onnx.load(path)
            if any(i.type.WhichOneof("value") != "tensor_type" for i in list(m.graph.input) + list(m.graph.output)):
                continue  # sequences and optionals have no element type to compare
            self.check_json(m, path)
            tested += 1
        self.assertGreater(tested, 500)

    def test_project_models(self):
        paths = []
        if os.path.isdir(MODELS_DIR):
            paths = [os.path.join(MODELS_DIR, f) for f in sorted(os.listdir(MODELS_DIR)) if f.endswith(".onnx")]
        if not paths:
            raise unittest.SkipTest("no models in %s yet" % MODELS_DIR)
        for path in paths:
            self.check_json(onnx.load(path), path)


class Check(unittest.TestCase):
    def test_node_test_models_are_structurally_sound(self):
        if not os.path.isdir(NODE_DIR):
            raise unittest.SkipTest("no node tests")
        checked = 0
        for name in sorted(os.listdir(NODE_DIR)):
            path = os.path.join(NODE_DIR, name, "model.onnx")
            if not os.path.isfile(path):
                continue
            p = onnxc("check", path)
            self.assertIn(p.returncode, (0, 1), p.stderr)
            problems = p.stdout.splitlines()[:-1]
            if p.returncode == 0:
                self.assertEqual(problems, [])
                self.assertTrue(p.stdout.endswith(": ok\n"))
            else:
                # the official models are valid ONNX: the only thing check may find is ops we cannot run
                self.assertEqual(len(problems), 1, p.stdout)
                self.assertTrue(problems[0].startswith("unsupported: "), p.stdout)
            checked += 1
        self.assertGreater(checked, 900)

    def test_good_models_pass(self):
        paths = [os.path.join(NODE_DIR, t, "model.onnx") for t in ("test_relu", "test_add", "test_conv_with_strides_padding")]
        if os.path.isdir(MODELS_DIR):
            paths += [os.path.join(MODELS_DIR, f) for f in sorted(os.listdir(MODELS_DIR)) if f.endswith(".onnx")]
        with tempfile.TemporaryDirectory() as d:
            paths.append(save(bn_model(), os.path.join(d, "bn.onnx")))
            for path in paths:
                if os.path.isfile(path):
                    p = onnxc("check", path, expect=0)
                    # models/train_mode_cnn.onnx (tests/evalmode) and bn_model() (a training-mode BN on purpose)
                    # are valid but hold training-mode BatchNormalization: check warns about it; the rest is clean
                    out = p.stdout
                    if os.path.basename(path) in ("train_mode_cnn.onnx", "bn.onnx"):
                        out = "".join(l for l in out.splitlines(True) if not l.startswith("warning: "))
                        self.assertIn("in training mode (first:", p.stdout)
                    self.assertEqual(out, "%s: ok\n" % path)

    def test_unknown_ops_all_listed(self):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        nodes = [helper.make_node("FooOp", ["x"], ["a"], name="f1"),
                 helper.make_node("Relu", ["a"], ["b"], name="r"),
                 helper.make_node("BarOp", ["b"], ["c"], name="b1"),
                 helper.make_node("FooOp", ["c"], ["d"], name="f2"),
                 helper.make_node("Baz", ["d"], ["y"], name="z1", domain="com.example")]
        m = make_model(nodes, [x], [y])
        with tempfile.TemporaryDirectory() as d:
            p = onnxc("check", save(m, os.path.join(d, "unk.onnx")), expect=1)
            lines = p.stdout.splitlines()
            self.assertIn("opset import missing for domain 'com.example', used by 1 node (first: 'z1' (Baz))", lines)
            self.assertIn("unsupported: 3 ops: FooOp-15 (2 nodes: 'f1','f2'), BarOp-15 (1 node: 'b1'), "
                          "com.example.Baz (no opset imported for its domain; 1 node: 'z1')", lines)
            self.assertEqual(lines[-1], "%s: 2 problems" % os.path.join(d, "unk.onnx"))

    def test_unsupported_opset_of_a_known_op(self):
        # LayerNormalization first appeared in opset 17: a model importing opset 16 cannot have it.
        m = make_model([helper.make_node("LayerNormalization", ["x", "s"], ["y"], name="ln")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                        helper.make_tensor_value_info("s", TensorProto.FLOAT, [3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], opset=16)
        with tempfile.TemporaryDirectory() as d:
            p = onnxc("check", save(m, os.path.join(d, "ln16.onnx")), expect=1)
            self.assertIn("unsupported: 1 op: LayerNormalization-16 (1 node: 'ln')", p.stdout.splitlines())

    def test_same_unsupported_list_everywhere_subgraphs_included(self):
        # an op in an If branch and two in the main graph: check, run, bench, compare and optimize --verify
        # give the same list, each op with its opset (the ops are from no opset onnxc serves)
        then_g = helper.make_graph([helper.make_node("DeepOp", ["x"], ["t"], name="deep")], "then_g", [],
                                   [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
        else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="neg")], "else_g", [],
                                   [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
        m = make_model([helper.make_node("FooOp", ["x"], ["a"], name="f1"),
                        helper.make_node("If", ["c"], ["b"], name="iff", then_branch=then_g, else_branch=else_g),
                        helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                       [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                        helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        # (If itself runs; the branch's op is listed after the main graph's)
        want = "unsupported: 2 ops: FooOp-15 (1 node: 'f1'), DeepOp-15 (1 node: 'deep')"
        with tempfile.TemporaryDirectory() as d:
            path = save(m, os.path.join(d, "sub.onnx"))
            p = onnxc("check", path, expect=1)
            self.assertIn(want, p.stdout.splitlines())
            for args in (("run", path), ("bench", path), ("compare", path, path),
                         ("optimize", path, "-o", os.path.join(d, "o.onnx"), "--verify", "--quiet")):
                p = onnxc(*args, expect=2)
                self.assertTrue(p.stderr.splitlines()[0].startswith("onnxc: "), p.stderr)
                self.assertIn(want, p.stderr.splitlines()[0], args)

    def test_truncated_model_says_so(self):
        src = os.path.join(MODELS_DIR, "resnet_like.onnx")
        with tempfile.TemporaryDirectory() as d:
            cut = os.path.join(d, "cut.onnx")
            with open(src, "rb") as f, open(cut, "wb") as g:
                g.write(f.read()[:3000])
            for cmd in ("check", "info", "run"):
                p = onnxc(cmd, cut, expect=2)
                assert_one_line_error(self, p, "cut.onnx", "may be truncated")

    def structural(self, model, *needles):
        with tempfile.TemporaryDirectory() as d:
            path = save(model, os.path.join(d, "bad.onnx"))
            p = onnxc("check", path, expect=1)
            self.assertEqual(p.stderr, "")
            for n in needles:
                self.assertIn(n, p.stdout)
            self.assertTrue(re.search(r": \d+ problems?", p.stdout.splitlines()[-1]), p.stdout)

    def test_out_of_order(self):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        m = make_model([helper.make_node("Relu", ["a"], ["y"], name="second"),
                        helper.make_node("Relu", ["x"], ["a"], name="first")], [x], [y])
        self.structural(m, "node 'second' (Relu) uses 'a' before node 'first' (Relu) produces it")

    def test_cycle(self):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        m = make_model([helper.make_node("Add", ["x", "b"], ["a"], name="A"),
                        helper.make_node("Relu", ["a"], ["b"], name="B"),
                        helper.make_node("Relu", ["a"], ["y"], name="C")], [x], [y])
        self.structural(m, "cycle among 2 nodes: 'A' (Add), 'B' (Relu)")

    def test_undefined_input(self):
        m = make_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="A")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        self.structural(m, "'ghost'")

    def test_duplicate_output_name(self):
        m = make_model([helper.make_node("Relu", ["x"], ["y"], name="A"),
                        helper.make_node("Neg", ["x"], ["y"], name="B")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        self.structural(m, "'y'")

    def test_output_nobody_produces(self):
        m = make_model([helper.make_node("Relu", ["x"], ["y"], name="A")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
                        helper.make_tensor_value_info("nowhere", TensorProto.FLOAT, [2])])
        self.structural(m, "'nowhere'")

    def test_declared_types_disagree(self):
        w = numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "w")
        m = make_model([helper.make_node("Add", ["x", "w"], ["y"], name="A")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [w],
                       value_info=[helper.make_tensor_value_info("w", TensorProto.FLOAT, [2])])
        self.structural(m, "value 'w': value_info says float [2], initializer is int64 [2]")

    def test_subgraph_problem(self):
        then_g = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["t"], name="inner")], "then_g", [],
                                   [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
        else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="inner2")], "else_g", [],
                                   [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
        m = make_model([helper.make_node("If", ["c"], ["y"], name="iff", then_branch=then_g, else_branch=else_g)],
                       [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                        helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        self.structural(m, "'ghost'")


class Convert(unittest.TestCase):
    def model(self):
        big = numpy_helper.from_array(f32((64, 32), 11), "big")      # 8 KiB
        mid = numpy_helper.from_array(f32((100,), 12), "mid")        # 400 bytes
        small = numpy_helper.from_array(f32((3,), 13), "small")      # 12 bytes
        nodes = [helper.make_node("MatMul", ["x", "big"], ["h"], name="mm"),
                 helper.make_node("ReduceSum", ["mid"], ["mid_sum"], keepdims=0, name="rs"),
                 helper.make_node("Add", ["h", "mid_sum"], ["y"], name="add"),
                 helper.make_node("Mul", ["small", "small"], ["z"], name="mul")]
        m = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 32]),
                        helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])], [big, mid, small], opset=13)
        m.doc_string = "kept"
        helper.set_model_props(m, {"author": "cli-test"})
        return m

    def assert_same(self, a, b):
        self.assertEqual(a.ir_version, b.ir_version)
        self.assertEqual(a.doc_string, b.doc_string)
        self.assertEqual([(p.key, p.value) for p in a.metadata_props], [(p.key, p.value) for p in b.metadata_props])
        self.assertEqual(list(a.graph.node), list(b.graph.node))
        self.assertEqual(list(a.graph.input), list(b.graph.input))
        self.assertEqual(list(a.graph.output), list(b.graph.output))
        ta = {t.name: numpy_helper.to_array(t) for t in a.graph.initializer}
        tb = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
        self.assertEqual(sorted(ta), sorted(tb))
        for k in ta:
            np.testing.assert_array_equal(ta[k], tb[k])

    def test_round_trip_inline(self):
        with tempfile.TemporaryDirectory() as d:
            src = self.model()
            inp = save(src, os.path.join(d, "in.onnx"))
            out = os.path.join(d, "out.onnx")
            p = onnxc("convert", inp, "-o", out, expect=0)
            self.assertIn("wrote", p.stdout)
            got = onnx.load(out)
            self.assertTrue(all(t.data_location != TensorProto.EXTERNAL for t in got.graph.initializer))
            self.assert_same(src, got)
            onnx.checker.check_model(got)

    def test_external_data_and_back(self):
        with tempfile.TemporaryDirectory() as d:
            src = self.model()
            inp = save(src, os.path.join(d, "in.onnx"))
            ext = os.path.join(d, "ext.onnx")
            onnxc("convert", inp, "-o", ext, "--external-data", "100", expect=0)
            self.assertTrue(os.path.isfile(ext + ".data"))
            raw = onnx.load(ext, load_external_data=False)
            where = {t.name: t.data_location for t in raw.graph.initializer}
            self.assertEqual(where["big"], TensorProto.EXTERNAL)
            self.assertEqual(where["mid"], TensorProto.EXTERNAL)
            self.assertNotEqual(where["small"], TensorProto.EXTERNAL)
            self.assert_same(src, onnx.load(ext))
            # and back inline: no external references are left and the data is the same
            os.mkdir(os.path.join(d, "sub"))
            back = os.path.join(d, "sub", "back.onnx")
            onnxc("convert", ext, "-o", back, expect=0)
            self.assertEqual(os.listdir(os.path.join(d, "sub")), ["back.onnx"])
            got = onnx.load(back, load_external_data=False)
            self.assertTrue(all(t.data_location != TensorProto.EXTERNAL for t in got.graph.initializer))
            self.assert_same(src, got)

    def test_external_data_threshold_default_and_name(self):
        with tempfile.TemporaryDirectory() as d:
            inp = save(self.model(), os.path.join(d, "in.onnx"))
            out = os.path.join(d, "o.onnx")
            onnxc("convert", inp, "-o", out, "--external-data", "--external-file", "weights.bin", expect=0)
            raw = onnx.load(out, load_external_data=False)
            where = {t.name: t.data_location for t in raw.graph.initializer}
            # default threshold 1024 bytes: only the 8 KiB tensor moves
            self.assertEqual(where["big"], TensorProto.EXTERNAL)
            self.assertNotEqual(where["mid"], TensorProto.EXTERNAL)
            self.assertTrue(os.path.isfile(os.path.join(d, "weights.bin")))
            self.assert_same(self.model(), onnx.load(out))

    def test_refuses_to_overwrite_input(self):
        with tempfile.TemporaryDirectory() as d:
            inp = save(self.model(), os.path.join(d, "in.onnx"))
            before = open(inp, "rb").read()
            p = onnxc("convert", inp, "-o", inp, expect=2)
            assert_one_line_error(self, p, "--force")
            p = onnxc("convert", inp, "-o", os.path.join(d, ".", "in.onnx"), expect=2)
            self.assertEqual(open(inp, "rb").read(), before)
            onnxc("convert", inp, "-o", inp, "--force", expect=0)
            self.assert_same(self.model(), onnx.load(inp))


class Run(unittest.TestCase):
    def run_node_test(self, name, use_npy=False, form=None):
        d = node_test(name)
        m = onnx.load(os.path.join(d, "model.onnx"))
        init_names = {t.name for t in m.graph.initializer}
        inputs = [i.name for i in m.graph.input if i.name not in init_names]
        data = os.path.join(d, "test_data_set_0")
        with tempfile.TemporaryDirectory() as tmp:
            args = ["run", os.path.join(d, "model.onnx"), "--output-dir", os.path.join(tmp, "out")]
            arrays = {}
            for k, nm in enumerate(inputs):
                t = TensorProto()
                with open(os.path.join(data, "input_%d.pb" % k), "rb") as f:
                    t.ParseFromString(f.read())
                arrays[nm] = numpy_helper.to_array(t)
            if form == "npz":  # one archive, one array per input name
                np.savez(os.path.join(tmp, "in.npz"), **arrays)
                args += ["--input", os.path.join(tmp, "in.npz")]
            for k, nm in enumerate(inputs):
                if form == "npz":
                    break
                if form in ("float64", "fortran"):
                    a = arrays[nm].astype(np.float64) if form == "float64" else np.asfortranarray(arrays[nm])
                    pb = os.path.join(tmp, "in%d.npy" % k)
                    np.save(pb, a)
                    args += ["--input", "%s=%s" % (nm, pb)]
                    continue
                pb = os.path.join(data, "input_%d.pb" % k)
                if use_npy:
                    t = TensorProto()
                    with open(pb, "rb") as f:
                        t.ParseFromString(f.read())
                    pb = os.path.join(tmp, "in%d.npy" % k)
                    np.save(pb, numpy_helper.to_array(t))
                args += ["--input", "%s=%s" % (nm, pb)]
            p = onnxc(*args, expect=0)
            for k, out in enumerate(m.graph.output):
                t = TensorProto()
                with open(os.path.join(data, "output_%d.pb" % k), "rb") as f:
                    t.ParseFromString(f.read())
                want = numpy_helper.to_array(t)
                got = np.load(os.path.join(tmp, "out", out.name + ".npy"))
                self.assertEqual(got.dtype, want.dtype)
                self.assertEqual(got.shape, want.shape)
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
                self.assertIn("output %s: " % out.name, p.stdout)
            return p

    def test_relu_matches_node_test(self):
        p = self.run_node_test("test_relu")
        self.assertIn("input  x: float [3x4x5] from ", p.stdout)

    def test_relu_from_npy(self):
        self.run_node_test("test_relu", use_npy=True)

    def test_float64_npy_is_cast_with_a_note(self):
        p = self.run_node_test("test_conv_with_strides_padding", form="float64")
        self.assertIn("float64", p.stderr)
        self.assertIn("cast to float", p.stderr)

    def test_fortran_order_npy(self):
        p = self.run_node_test("test_conv_with_strides_padding", form="fortran")
        self.assertNotIn("Fortran", p.stderr)
        with tempfile.TemporaryDirectory() as tmp:  # a Fortran-order array reads back as numpy sees it
            a = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
            np.save(os.path.join(tmp, "f.npy"), a)
            m = save(self.identity_model(TensorProto.FLOAT, [2, 3, 4]), os.path.join(tmp, "m.onnx"))
            onnxc("run", m, "--input", "x=" + os.path.join(tmp, "f.npy"), "--output-dir", tmp, expect=0)
            np.testing.assert_array_equal(np.load(os.path.join(tmp, "y.npy")), np.ascontiguousarray(a))

    def test_npz_one_array_per_input(self):
        self.run_node_test("test_add", form="npz")
        with tempfile.TemporaryDirectory() as tmp:
            x = np.arange(6, dtype=np.float32).reshape(2, 3)  # compressed archives too (tests/npz has more)
            np.savez_compressed(os.path.join(tmp, "c.npz"), x=x)
            m = save(self.identity_model(TensorProto.FLOAT, [2, 3]), os.path.join(tmp, "m.onnx"))
            onnxc("run", m, "--input", os.path.join(tmp, "c.npz"), "--output-dir", tmp, expect=0)
            np.testing.assert_array_equal(np.load(os.path.join(tmp, "y.npy")), x)
            np.savez(os.path.join(tmp, "w.npz"), nosuch=np.zeros((2, 3), np.float32))
            p = onnxc("run", m, "--input", os.path.join(tmp, "w.npz"), expect=2)
            assert_one_line_error(self, p, "nosuch", "'x'")
            with open(os.path.join(tmp, "w.npz"), "rb") as f:
                head = f.read()
            with open(os.path.join(tmp, "cut.npz"), "wb") as f:
                f.write(head[:len(head) // 2])
            p = onnxc("run", m, "--input", os.path.join(tmp, "cut.npz"), expect=2)
            assert_one_line_error(self, p, "cut.npz", "truncated")

    def test_npy_header_claiming_gigabytes_is_refused_before_allocating(self):
        # found by fuzz_tensor: a 174-byte .npy whose header says shape (1080298503,) of float16 (2 GB); the
        # reader allocated it before comparing with the data it has (tests/fuzz/corpus/tensor/oom_shape.npy)
        with tempfile.TemporaryDirectory() as d:
            m = save(self.identity_model(TensorProto.FLOAT16, [2]), os.path.join(d, "m.onnx"))
            for shape, needle in (("(1080298503,)", "needs 2160597006"), ("(4611686018427387904, 8)", "too large")):
                hdr = ("{'descr': '>f2', 'fortran_order': False, 'shape': %s, }" % shape).ljust(117) + "\n"
                path = os.path.join(d, "big.npy")
                with open(path, "wb") as f:
                    f.write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode() + b"\x00<\x00@")
                p = onnxc("run", m, "--input", "x=" + path, expect=2)
                assert_one_line_error(self, p, "big.npy", needle)

    def test_node_without_its_first_output_is_refused(self):
        # found by fuzz_model: a GridSample whose output list is empty reached the kernel's shape code with no
        # output tensor (a null dereference); an empty first output name is the same hole
        with tempfile.TemporaryDirectory() as d:
            ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 3, 3]),
                   helper.make_tensor_value_info("grid", TensorProto.FLOAT, [1, 2, 2, 2])]
            outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
            for outputs, needle in (([], "the node has no outputs"), ([""], "output 0 is left out (empty name)")):
                nodes = [helper.make_node("GridSample", ["x", "grid"], outputs, name="gs"),
                         helper.make_node("Identity", ["x"], ["y"], name="id")]
                m = save(make_model(nodes, ins, outs, opset=16), os.path.join(d, "m.onnx"))
                p = onnxc("run", m, expect=2)
                assert_one_line_error(self, p, "'gs' (GridSample)", needle)
                p = onnxc("check", m, expect=1)
                self.assertIn("node 'gs' (GridSample): " + needle, p.stdout + p.stderr)

    def test_plan_too_large_to_allocate_is_refused(self):
        # found by fuzz_model: a OneHot of depth 2^30 on 1024 indices plans a 4 TB output; malloc fails and the plan
        # says so
        # (ASan's allocator is told to return NULL as the system's does, instead of reporting the size)
        with tempfile.TemporaryDirectory() as d:
            depth = numpy_helper.from_array(np.array([1 << 30], dtype=np.int64), "depth")
            vals = numpy_helper.from_array(np.array([0, 1], dtype=np.float32), "vals")
            nodes = [helper.make_node("OneHot", ["ind", "depth", "vals"], ["y"], name="oh")]
            m = save(make_model(nodes, [helper.make_tensor_value_info("ind", TensorProto.INT64, [1024])],
                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [depth, vals]),
                     os.path.join(d, "m.onnx"))
            env = dict(os.environ)
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":allocator_may_return_null=1").lstrip(":")
            p = subprocess.run([ONNXC, "run", m], capture_output=True, text=True, env=env, timeout=120)
            self.assertNotEqual(p.returncode, 0, p.stderr)
            # an ASan build says so itself ("==PID==WARNING: AddressSanitizer failed to allocate ..."): not ours
            p.stderr = "".join(l for l in p.stderr.splitlines(True)
                               if not re.match(r"==\d+==WARNING: AddressSanitizer failed to allocate", l))
            assert_one_line_error(self, p, "out of memory for the 4398046511104-byte arena", "'y', takes 4398046511104")

    def test_unknown_input_name_is_refused_first_with_the_valid_names(self):
        with tempfile.TemporaryDirectory() as d:
            m = save(self.identity_model(TensorProto.FLOAT, [2, 3]), os.path.join(d, "m.onnx"))
            np.save(os.path.join(d, "x.npy"), np.zeros((2, 3), dtype=np.float32))
            p = onnxc("run", m, "--input", "foo=" + os.path.join(d, "x.npy"), expect=2)
            assert_one_line_error(self, p, "'foo'", "its inputs: 'x'")
            self.assertNotIn("session_run", p.stderr)
            self.assertEqual(p.stdout, "")  # nothing generated or run before the refusal

    def test_more_node_tests(self):
        for name in ("test_add", "test_matmul_2d", "test_conv_with_strides_padding", "test_batchnorm_example",
                     "test_maxpool_2d_default", "test_softmax_example", "test_gemm_default_single_elem_vector_bias"):
            self.run_node_test(name)

    def test_bare_pb_input_uses_its_name(self):
        d = node_test("test_relu")
        with tempfile.TemporaryDirectory() as tmp:
            onnxc("run", os.path.join(d, "model.onnx"), "--input", os.path.join(d, "test_data_set_0", "input_0.pb"),
                  "--output-dir", tmp, expect=0)
            self.assertTrue(os.path.isfile(os.path.join(tmp, "y.npy")))

    def test_statistics_printed(self):
        x = np.array([[-2.0, 0.5, 3.0], [1.0, -0.25, 4.0]], dtype=np.float32)
        m = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), x)
            p = onnxc("run", save(m, os.path.join(d, "m.onnx")), "--input", "x=" + os.path.join(d, "x.npy"), expect=0)
            y = np.maximum(x, 0)
            line = [l for l in p.stdout.splitlines() if l.startswith("output y:")][0]
            self.assertEqual(line, "output y: float [2x3] min %g max %g mean %g" % (y.min(), y.max(), y.mean()))
            self.assertEqual(sorted(os.listdir(d)), ["m.onnx", "x.npy"])  # nothing written without --output-dir

    def identity_model(self, dtype, shape, out_name="y"):
        return make_model([helper.make_node("Identity", ["x"], [out_name])],
                          [helper.make_tensor_value_info("x", dtype, shape)],
                          [helper.make_tensor_value_info(out_name, dtype, shape)])

    @staticmethod
    def splitmix64(seed):
        """The generator documented in `onnxc run --help`."""
        state = seed & 0xFFFFFFFFFFFFFFFF
        while True:
            state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
            yield z ^ (z >> 31)

    def test_random_inputs_follow_the_documented_generator(self):
        with tempfile.TemporaryDirectory() as d:
            mf = save(self.identity_model(TensorProto.FLOAT, [2, 3]), os.path.join(d, "f.onnx"))
            onnxc("run", mf, "--seed", "5", "--output-dir", os.path.join(d, "a"), expect=0)
            gen = self.splitmix64(5)
            want = np.array([(next(gen) >> 40) * 2.0 ** -23 - 1 for _ in range(6)], dtype=np.float32).reshape(2, 3)
            got = np.load(os.path.join(d, "a", "y.npy"))
            np.testing.assert_array_equal(got, want)
            self.assertTrue(((got >= -1) & (got < 1)).all())
            onnxc("run", mf, "--seed", "5", "--output-dir", os.path.join(d, "b"), expect=0)
            np.testing.assert_array_equal(np.load(os.path.join(d, "b", "y.npy")), got)
            onnxc("run", mf, "--seed", "6", "--output-dir", os.path.join(d, "c"), expect=0)
            self.assertFalse(np.array_equal(np.load(os.path.join(d, "c", "y.npy")), got))

            mi = save(self.identity_model(TensorProto.INT64, [7]), os.path.join(d, "i.onnx"))
            onnxc("run", mi, "--output-dir", os.path.join(d, "i"), expect=0)  # default seed 0
            gen = self.splitmix64(0)
            want = np.array([next(gen) % 10 for _ in range(7)], dtype=np.int64)
            np.testing.assert_array_equal(np.load(os.path.join(d, "i", "y.npy")), want)

    def test_symbolic_dims(self):
        with tempfile.TemporaryDirectory() as d:
            m = save(self.identity_model(TensorProto.FLOAT, ["N", 3]), os.path.join(d, "m.onnx"))
            # a symbolic dim not given becomes 1, as in compare and bench, and a note says so
            p = onnxc("run", m, "--output-dir", os.path.join(d, "one"), expect=0)
            self.assertEqual(np.load(os.path.join(d, "one", "y.npy")).shape, (1, 3))
            self.assertIn("'N'", p.stderr)
            self.assertIn("--shape N=", p.stderr)
            onnxc("run", m, "--shape", "N=2", "--output-dir", os.path.join(d, "a"), expect=0)
            self.assertEqual(np.load(os.path.join(d, "a", "y.npy")).shape, (2, 3))
            onnxc("run", m, "--shape", "x=4x3", "--output-dir", os.path.join(d, "b"), expect=0)
            self.assertEqual(np.load(os.path.join(d, "b", "y.npy")).shape, (4, 3))
            p = onnxc("run", m, "--shape", "x=4x5", expect=2)
            assert_one_line_error(self, p, "x=4x5")

    def test_bad_inputs_are_named(self):
        with tempfile.TemporaryDirectory() as d:
            m = save(self.identity_model(TensorProto.FLOAT, [2, 3]), os.path.join(d, "m.onnx"))
            np.save(os.path.join(d, "int.npy"), np.zeros((2, 3), dtype=np.int64))
            np.save(os.path.join(d, "shape.npy"), np.zeros((3, 2), dtype=np.float32))
            p = onnxc("run", m, "--input", "x=" + os.path.join(d, "int.npy"), expect=2)
            assert_one_line_error(self, p, "'x'", "int64", "float")
            p = onnxc("run", m, "--input", "x=" + os.path.join(d, "shape.npy"), expect=2)
            assert_one_line_error(self, p, "'x'", "3x2", "2x3")
            p = onnxc("run", m, "--input", "x=" + os.path.join(d, "missing.npy"), expect=2)
            assert_one_line_error(self, p, "missing.npy")
            p = onnxc("run", m, "--input", "nosuch=" + os.path.join(d, "shape.npy"), expect=2)
            assert_one_line_error(self, p, "nosuch")

    def test_unsupported_op_is_a_clear_error(self):
        m = make_model([helper.make_node("FooOp", ["x"], ["y"], name="foo")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        with tempfile.TemporaryDirectory() as d:
            p = onnxc("run", save(m, os.path.join(d, "m.onnx")), expect=2)
            assert_one_line_error(self, p, "FooOp")

    def test_unsafe_output_names(self):
        with tempfile.TemporaryDirectory() as d:
            m = save(self.identity_model(TensorProto.FLOAT, [2], out_name="../out/put:0"), os.path.join(d, "m.onnx"))
            onnxc("run", m, "--output-dir", os.path.join(d, "o"), expect=0)
            self.assertEqual(os.listdir(os.path.join(d, "o")), ["_.._out_put_0.npy"])

    def test_nan_warning(self):
        m = make_model([helper.make_node("Sqrt", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), np.array([-1, 4, -2, 9], dtype=np.float32))
            p = onnxc("run", save(m, os.path.join(d, "m.onnx")), "--input", "x=" + os.path.join(d, "x.npy"), expect=0)
            self.assertIn("onnxc: warning: output 'y' has 2 NaN values", p.stderr)
            self.assertIn("output y: float [4] min 2 max 3 mean 2.5 (2 NaN, 0 Inf)", p.stdout)


class Bench(unittest.TestCase):
    def test_profile_json(self):
        """bench --profile through the public profiling API: every node the plan runs, in order, with the
        convolution's FLOP count from the model's shapes (2 x output elements x C_in x kh x kw). Tanh: an activation the plan does not fuse into the Conv."""
        rng = np.random.default_rng(0)
        w = numpy_helper.from_array(rng.standard_normal((32, 16, 3, 3)).astype(np.float32), "w")
        m = make_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                        helper.make_node("Tanh", ["c"], ["y"], name="act")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 64, 64])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 64, 64])], inits=[w])
        with tempfile.TemporaryDirectory() as d:
            p = onnxc("bench", save(m, os.path.join(d, "m.onnx")), "--runs", "3", "--warmup", "1", "--profile",
                      "--json", "--threads", "2", expect=0)
        r = json.loads(p.stdout)
        self.assertEqual(r["threads"], 2)
        self.assertEqual([(n["name"], n["op"], n["output"]) for n in r["nodes"]],
                         [("conv", "Conv", "c"), ("act", "Tanh", "y")])
        self.assertAlmostEqual(r["gflop_per_run"], 2 * 32 * 64 * 64 * 16 * 3 * 3 * 1e-9, delta=1e-4)
        self.assertEqual(sorted(o["op"] for o in r["profile"]), ["Conv", "Tanh"])
        self.assertAlmostEqual(sum(o["share"] for o in r["profile"]), 1.0, delta=1e-3)
        self.assertGreater(r["arena_mb"], 0)
        p2 = onnxc("bench", os.devnull, "--profile", expect=2)
        assert_one_line_error(self, p2, os.devnull)

    def test_callers(self):
        """bench --callers: one session from 3 threads and 3 sessions, every output checked bit for bit (a
        difference would exit 1); --profile is one thread's and is refused beside it."""
        path = os.path.join(MODELS_DIR, "detector_small.onnx")
        p = onnxc("bench", path, "--callers", "3", "--runs", "8", "--warmup", "2", "--threads", "2",
                  "--shape", "N=2", "--json", expect=0)
        r = json.loads(p.stdout)
        self.assertEqual((r["callers"], r["threads"], r["runs_per_caller"]), (3, 2, 8))
        self.assertEqual(r["mismatched_outputs"], 0)
        self.assertGreater(r["one_session_runs_per_s"], 0)
        self.assertGreater(r["separate_sessions_runs_per_s"], 0)
        p = onnxc("bench", path, "--callers", "2", "--runs", "3", "--warmup", "0", expect=0)
        self.assertIn("every output bit-identical to a single-threaded run", p.stdout)
        p = onnxc("bench", path, "--callers", "2", "--profile", expect=2)
        assert_one_line_error(self, p, "--callers and --profile")
        p = onnxc("bench", path, "--callers", "0", expect=2)
        assert_one_line_error(self, p, "--callers takes a count")


class Details(unittest.TestCase):
    """CLI details of issue 18: output paths checked first, --force, --quiet, JSON of optimize/swap-norm/run/check."""

    def model(self, name):
        path = os.path.join(MODELS_DIR, name)
        if not os.path.isfile(path):
            self.skipTest("model %s is missing" % path)
        return path

    def test_output_path_refused_before_the_passes(self):
        src = self.model("linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            for cmd in (["optimize"], ["swap-norm", "--to", "instance"], ["convert"]):
                for out, needle in ((os.path.join(d, "missing", "o.onnx"), "does not exist"), (d, "is a folder")):
                    extra = {"optimize": ["--verify"], "swap-norm": ["--json"]}.get(cmd[0], [])
                    p = onnxc(*cmd, src, "-o", out, *extra, expect=2)
                    # one line, and no report: nothing ran
                    assert_one_line_error(self, p, out, needle)
                    self.assertEqual(p.stdout, "")
            self.assertEqual(os.listdir(d), [])

    def test_named_pipes_are_refused_not_waited_on(self):
        # a FIFO as the model, as an input file, and as a model's external data: every command refuses it at once
        # (a blocking open would wait for a writer forever; the timeout turns that into a failure)
        src = self.model("linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            fifo_model, fifo_npy = os.path.join(d, "m.onnx"), os.path.join(d, "x.npy")
            os.mkfifo(fifo_model)
            os.mkfifo(fifo_npy)
            t = onnx.TensorProto()
            t.name, t.data_type, t.data_location = "w", TensorProto.FLOAT, TensorProto.EXTERNAL
            t.dims.append(4)
            e = t.external_data.add()
            e.key, e.value = "location", "pipe.bin"
            os.mkfifo(os.path.join(d, "pipe.bin"))
            g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [t])
            ext_model = os.path.join(d, "ext.onnx")
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), ext_model)
            fifo = "is a named pipe (FIFO), not a regular file"
            for cmd in ("info", "check", "run", "bench"):
                for model, needle in ((fifo_model, fifo_model), (ext_model, "external data file 'pipe.bin'")):
                    p = subprocess.run([ONNXC, cmd, model], capture_output=True, text=True, timeout=20)
                    self.assertEqual(p.returncode, 2, (cmd, model, p.stderr))
                    assert_one_line_error(self, p, needle, fifo)
            p = subprocess.run([ONNXC, "run", src, "--input", fifo_npy], capture_output=True, text=True, timeout=20)
            self.assertEqual(p.returncode, 2, p.stderr)
            assert_one_line_error(self, p, fifo_npy, fifo)

    def test_force_overwrites_the_input_for_every_writer(self):
        src = self.model("linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            for cmd in (["optimize"], ["swap-norm", "--to", "instance"], ["convert"]):
                inp = os.path.join(d, "in.onnx")
                with open(src, "rb") as f, open(inp, "wb") as g:
                    g.write(f.read())
                before = open(inp, "rb").read()
                p = onnxc(*cmd, inp, "-o", inp, expect=2)
                assert_one_line_error(self, p, "in.onnx", "--force")
                self.assertEqual(open(inp, "rb").read(), before)
                onnxc(*cmd, inp, "-o", inp, "--force", expect=0)
                ops = [n.op_type for n in onnx.load(inp).graph.node]
                if cmd[0] != "convert":
                    self.assertNotIn("BatchNormalization", ops, cmd)
                self.assertEqual(sorted(os.listdir(d)), ["in.onnx"])  # no temporary left behind

    def test_quiet_is_one_summary_line_for_every_command(self):
        src = self.model("linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.onnx")
            runs = [("info", src), ("check", src), ("convert", src, "-o", out), ("run", src),
                    ("optimize", src, "-o", out, "--verify"), ("swap-norm", src, "-o", out, "--to", "instance"),
                    ("compare", src, src), ("bench", src, "--runs", "2", "--warmup", "0")]
            for args in runs:
                for q in ("--quiet", "-q"):
                    p = onnxc(*args, q, expect=0)
                    self.assertEqual(p.stdout, "", args)
                    lines = p.stderr.splitlines()
                    self.assertEqual(len(lines), 1, (args, p.stderr))
                    self.assertRegex(lines[0], r"^onnxc %s: .+ \(exit 0, \d+\.\d{3} s\)$" % args[0])
            # errors still show, and the summary says the exit status
            p = onnxc("optimize", src, "-o", os.path.join(d, "no", "o.onnx"), "-q", expect=2)
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 2, p.stderr)
            self.assertIn("does not exist", lines[0])
            self.assertRegex(lines[1], r"\(exit 2, ")
            # --json still prints its object
            j = json.loads(onnxc("info", src, "--json", "-q", expect=0).stdout)
            self.assertEqual(j["batchnorm"]["count"], 2)

    def test_optimize_json_with_verify(self):
        src = self.model("linear_bn1d.onnx")
        nodes = {n.name: n.op_type for n in onnx.load(src).graph.node}
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.onnx")
            j = json.loads(onnxc("optimize", src, "-o", out, "--verify", "--json", "--shape", "N=3", expect=0).stdout)
            self.assertEqual(j["output"], out)
            self.assertTrue(j["verify"]["passed"])
            c = j["verify"]["comparison"]
            self.assertTrue(c["within_tolerance"])
            self.assertEqual([o["name"] for o in c["outputs"]], ["output"])
            self.assertEqual(c["outputs"][0]["elements"], 3 * 8)
            folded = [e for e in j["events"] if e["pass"] == "fold-bn"]
            self.assertEqual(len(folded), 2)
            for e in j["events"]:
                if e["node_name"] is not None and e["node_name"] in nodes:
                    self.assertEqual(e["op"], nodes[e["node_name"]], e)
            self.assertEqual({e["node_name"] for e in folded}, {"/bn1/BatchNormalization", "/bn2/BatchNormalization"})
            self.assertEqual({e["op"] for e in folded}, {"BatchNormalization"})
            j = json.loads(onnxc("optimize", src, "--dry-run", "--json", expect=0).stdout)
            self.assertIsNone(j["output"])
            self.assertNotIn("verify", j)

    def test_optimize_verify_on_given_inputs(self):
        # --input replaces the seeded data (its batch of 5 shows in the element count, where seeded data would
        # have N=1), --atol/--rtol/--nmse reach the comparison; each misuse is one line and exit 2
        src = self.model("linear_bn1d.onnx")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.onnx")
            x = os.path.join(d, "x.npy")
            np.save(x, np.random.default_rng(3).standard_normal((5, 32)).astype(np.float32) * 4)
            j = json.loads(onnxc("optimize", src, "-o", out, "--verify", "--json", "--input", "input=" + x,
                                 "--atol", "2e-5", "--rtol=3e-4", "--nmse", "1e-6", expect=0).stdout)
            c = j["verify"]["comparison"]
            self.assertTrue(j["verify"]["passed"])
            self.assertEqual(c["outputs"][0]["elements"], 5 * 8)
            self.assertEqual((c["atol"], c["rtol"], c["nmse_limit"]), (2e-5, 3e-4, 1e-6))
            # the file alone names the model's only input
            j = json.loads(onnxc("optimize", src, "-o", out, "--verify", "--json", "--input", x, expect=0).stdout)
            self.assertEqual(j["verify"]["comparison"]["outputs"][0]["elements"], 5 * 8)
            bad = os.path.join(d, "bad.npy")
            np.save(bad, np.zeros((5, 31), np.float32))
            for args, needles in (
                    (["--input", "input=" + x], ["need --verify"]),
                    (["--verify", "--input", "nope=" + x], ["no input 'nope'", "'input'"]),
                    (["--verify", "--input", "input=" + bad], ["input 'input'", bad]),
                    (["--verify", "--input", "input=" + os.path.join(d, "missing.npy")], ["missing.npy"]),
                    (["--verify", "--atol", "-1"], ["--atol", "'-1'"]),
                    (["--verify", "--nmse", "x"], ["--nmse", "'x'"])):
                p = onnxc("optimize", src, "-o", os.path.join(d, "never.onnx"), *args, expect=2)
                assert_one_line_error(self, p, *needles)
                self.assertFalse(os.path.exists(os.path.join(d, "never.onnx")))

    def test_run_json(self):
        x = np.array([[-2.0, 0.5, 3.0], [1.0, -0.25, np.inf]], dtype=np.float32)
        m = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
        with tempfile.TemporaryDirectory() as d:
            path = save(m, os.path.join(d, "m.onnx"))
            np.save(os.path.join(d, "x.npy"), x)
            p = onnxc("run", path, "--input", "x=" + os.path.join(d, "x.npy"), "--json", "--output-dir", d, expect=0)
            j = json.loads(p.stdout)
            want = np.maximum(x, 0)
            fin = want[np.isfinite(want)]
            self.assertEqual(j["inputs"], [{"name": "x", "dtype": "float", "shape": [2, 3], "source": "file",
                                            "file": os.path.join(d, "x.npy")}])
            o = j["outputs"][0]
            self.assertEqual((o["name"], o["dtype"], o["shape"], o["elements"], o["nan"], o["inf"]),
                             ("y", "float", [2, 3], 6, 0, 1))
            self.assertAlmostEqual(o["min"], float(fin.min()))
            self.assertAlmostEqual(o["max"], float(fin.max()))
            self.assertAlmostEqual(o["mean"], float(fin.mean()), places=6)
            self.assertEqual(o["file"], os.path.join(d, "y.npy"))

    def test_check_json(self):
        src = self.model("linear_bn1d.onnx")
        j = json.loads(onnxc("check", src, "--json", expect=0).stdout)
        self.assertEqual(j, {"model": src, "ok": True, "problems": [], "notes": []})
        m = make_model([helper.make_node("Relu", ["a"], ["y"], name="second"),
                        helper.make_node("FooOp", ["x"], ["a"], name="first")],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        with tempfile.TemporaryDirectory() as d:
            p = onnxc("check", save(m, os.path.join(d, "bad.onnx")), "--json", expect=1)
            j = json.loads(p.stdout)
            self.assertFalse(j["ok"])
            self.assertIn("unsupported: 1 op: FooOp-15 (1 node: 'first')", j["problems"])
            self.assertEqual(len(j["problems"]), 2, j)  # the order problem and the unsupported op

    def test_swap_norm_json_groups_and_channels(self):
        src = self.model("swapnorm_small.onnx")
        m = onnx.load(src)
        inits = {t.name: t for t in m.graph.initializer}
        channels = {n.name: inits[n.input[1]].dims[0] for n in m.graph.node if n.op_type == "BatchNormalization"}
        j = json.loads(onnxc("swap-norm", src, "--dry-run", "--to", "group", "--groups", "4", "--json",
                             expect=0).stdout)
        swapped = [e for e in j["events"] if e["kind"] == "changed"]
        self.assertEqual(len(swapped), len(channels))
        for e in swapped:
            c = channels[e["node_name"]]
            self.assertEqual(e["channels"], c)
            # the largest divisor of C not above 4 (documented fallback)
            self.assertEqual(e["groups"], max(g for g in range(1, 5) if c % g == 0))


GROUPS = {"usage": Usage, "info": Info, "check": Check, "convert": Convert, "run": Run, "bench": Bench,
          "details": Details}
NEEDS_NODE_DATA = {"run"}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        sys.exit("usage: test_cli.py {%s}" % ",".join(GROUPS))
    group = sys.argv[1]
    if group in NEEDS_NODE_DATA and not os.path.isdir(NODE_DIR):
        print("skipped: no ONNX node test data in %r" % NODE_DIR)
        sys.exit(SKIP)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(GROUPS[group])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
