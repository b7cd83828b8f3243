#!/usr/bin/python3
"""Model-local functions: a model whose nodes call FunctionProtos (as exporters write one per module), nested
calls, an attribute given by the call (ref_attr_name) or left to the op's default, a function onnxc cannot inline
(a subgraph in its body) and one that calls itself. Expected values are computed here with numpy."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC = os.environ.get("ONNXC", "build/onnxc")
failures = []


def onnxc(*args, expect=None):
    p = subprocess.run([ONNXC] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    if expect is not None and p.returncode != expect:
        raise AssertionError("onnxc %s: exit %d, expected %d\n%s%s" % (" ".join(map(str, args)), p.returncode, expect,
                                                                    p.stdout, p.stderr))
    return p


def case(fn):
    try:
        fn()
        print("ok   " + fn.__name__)
    except Exception as e:  # noqa: BLE001 - report every case, then fail
        failures.append(fn.__name__)
        print("FAIL %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    return fn


def lrelu(v, a):
    return np.where(v >= 0, v, a * v)


RNG = np.random.default_rng(0)
W1, B1 = RNG.standard_normal((8, 16)).astype(np.float32), RNG.standard_normal(16).astype(np.float32)
W2, B2 = RNG.standard_normal((16, 4)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
X = RNG.standard_normal((3, 8)).astype(np.float32)
WANT = 2 * lrelu(lrelu(X.astype(np.float64) @ W1 + B1, 0.2) @ W2 + B2, 0.01)


def dense_function():
    la = helper.make_node("LeakyRelu", ["s"], ["y"], name="act")
    la.attribute.append(onnx.AttributeProto(name="alpha", ref_attr_name="slope", type=onnx.AttributeProto.FLOAT))
    return helper.make_function("custom.fn", "Dense", ["x", "w", "b"], ["y"],
                                [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
                                 helper.make_node("Add", ["m", "b"], ["s"], name="add"), la],
                                [helper.make_opsetid("", 17)], ["slope"])


def scale_function(name="Scale2", body_extra=()):
    nodes = [helper.make_node("Constant", [], ["two"], value_float=2.0, name="two"),
             helper.make_node("Mul", ["x", "two"], ["y"], name="mul")] + list(body_extra)
    return helper.make_function("custom.fn", name, ["x"], ["y"], nodes, [helper.make_opsetid("", 17)], [])


def model(functions, third="Scale2"):
    nodes = [helper.make_node("Dense", ["x", "w1", "b1"], ["h"], domain="custom.fn", name="dense1", slope=0.2),
             helper.make_node("Dense", ["h", "w2", "b2"], ["z"], domain="custom.fn", name="dense2"),
             helper.make_node(third, ["z"], ["out"], domain="custom.fn", name="scale")]
    g = helper.make_graph(nodes, "fn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 4])],
                          [numpy_helper.from_array(a, n) for a, n in ((W1, "w1"), (B1, "b1"), (W2, "w2"), (B2, "b2"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom.fn", 1)],
                          functions=functions)
    return m


D = tempfile.mkdtemp(prefix="onnxc-fn-")
np.save(os.path.join(D, "x.npy"), X)


@case
def calls_run_as_their_bodies():
    src = os.path.join(D, "fn.onnx")
    onnx.save(model([dense_function(), scale_function()]), src)
    p = onnxc("check", src, expect=0)
    assert "ok" in p.stdout, p.stdout
    out = os.path.join(D, "run")
    onnxc("run", src, "--input", "x=" + os.path.join(D, "x.npy"), "--output-dir", out, expect=0)
    got = np.load(os.path.join(out, "out.npy"))
    np.testing.assert_allclose(got, WANT, rtol=1e-5, atol=1e-5)


@case
def optimize_inlines_then_optimizes():
    src = os.path.join(D, "fn.onnx")
    dst = os.path.join(D, "fn.opt.onnx")
    p = onnxc("optimize", src, "-o", dst, "--verify", expect=0)
    assert "inline-functions" in p.stderr and "inlined 3 calls" in p.stderr, p.stderr
    m = onnx.load(dst)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    assert "Dense" not in ops and "Scale2" not in ops, ops
    assert ops.count("LeakyRelu") == 2, ops
    # the call's value (0.2) on the first copy, the op's default on the second
    alphas = [next((a.f for a in n.attribute if a.name == "alpha"), None) for n in m.graph.node
              if n.op_type == "LeakyRelu"]
    assert abs(alphas[0] - 0.2) < 1e-7 and alphas[1] is None, alphas
    # names inside the copies start with the call's name and are unique
    outs = [o for n in m.graph.node for o in n.output]
    assert len(outs) == len(set(outs)), outs
    assert any(n.name.startswith("dense1/") for n in m.graph.node), [n.name for n in m.graph.node]
    out = os.path.join(D, "run2")
    onnxc("run", dst, "--input", "x=" + os.path.join(D, "x.npy"), "--output-dir", out, expect=0)
    np.testing.assert_allclose(np.load(os.path.join(out, "out.npy")), WANT, rtol=1e-5, atol=1e-5)
    # and the original against the result, node by node where names are shared
    onnxc("compare", src, dst, "--input", "x=" + os.path.join(D, "x.npy"), "--per-node", expect=0)


@case
def a_function_with_a_subgraph_stays_a_call():
    branch = helper.make_graph([helper.make_node("Identity", ["x"], ["r"])], "b", [],
                               [helper.make_tensor_value_info("r", TensorProto.FLOAT, None)])
    cond = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array(True)), name="c")
    iff = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch, name="if")
    f = helper.make_function("custom.fn", "Branchy", ["x"], ["y"], [cond, iff], [helper.make_opsetid("", 17)], [])
    src = os.path.join(D, "branchy.onnx")
    onnx.save(model([dense_function(), f], third="Branchy"), src)
    p = onnxc("optimize", src, "-o", os.path.join(D, "branchy.opt.onnx"), expect=0)
    assert "not inlined" in p.stderr and "subgraph" in p.stderr, p.stderr
    m = onnx.load(os.path.join(D, "branchy.opt.onnx"))
    assert [n.op_type for n in m.graph.node].count("Branchy") == 1
    p = onnxc("run", src, expect=2)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Branchy" in lines[0], p.stderr


@case
def a_function_that_calls_itself_stops():
    rec = scale_function("Loopy", [helper.make_node("Loopy", ["y"], ["unused"], domain="custom.fn", name="again")])
    src = os.path.join(D, "loopy.onnx")
    onnx.save(model([dense_function(), rec], third="Loopy"), src)
    p = onnxc("optimize", src, "-o", os.path.join(D, "loopy.opt.onnx"), expect=0)
    assert "deeper than 16" in p.stderr, p.stderr
    p = onnxc("run", src, expect=2)
    assert "Loopy" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
