#!/usr/bin/python3
"""Passes inside subgraphs (If branches, Loop and Scan bodies, nested ones, weights of the main graph read by a
body), `info` per subgraph and `check` on nested
problems, on models built here with onnx.helper. Each optimize case asserts the graph that results (with Debian's
onnx, independent of onnxc) and, for If models, the same outputs before and after in onnxc's executor on both
branches. With --ort, the Loop models (which onnxc's executor does not run yet) and the If models are run before
and after with ONNX Runtime (bench/ort_run.js) instead; without node or bench/node_modules that mode exits 77
(skipped).
With --models-only it writes the models and stops (shape inference is checked on them by infer_vs_onnx).
usage: test_subgraph_passes.py ONNXC WORK_DIR [--ort REPO_DIR | --models-only]"""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC, WORK = sys.argv[1:3]
ORT_REPO = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--ort" else None
MODELS_ONLY = "--models-only" in sys.argv[3:]
os.environ["ONNXC_CHECK_PASSES"] = "1"  # verify the IR after every pass (every scope), in release builds too
os.makedirs(WORK, exist_ok=True)
RNG = np.random.default_rng(11)
failures, passed = [], 0
F = TensorProto.FLOAT


def t(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def bn_inits(prefix, c):
    return [t(prefix + "_s", RNG.uniform(0.5, 1.5, c).astype(np.float32)),
            t(prefix + "_b", RNG.normal(size=c).astype(np.float32)),
            t(prefix + "_m", RNG.normal(size=c).astype(np.float32)),
            t(prefix + "_v", RNG.uniform(0.5, 2.0, c).astype(np.float32))]


def bn_node(prefix, x, y):
    return helper.make_node("BatchNormalization", [x, prefix + "_s", prefix + "_b", prefix + "_m", prefix + "_v"],
                            [y], name=prefix, epsilon=1e-5)


def weight(name, cout, cin, k):
    return t(name, RNG.normal(scale=0.3, size=(cout, cin, k, k)).astype(np.float32))


def save(name, graph, opset=13):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="subgraph-tests")
    m.ir_version = 7
    path = os.path.join(WORK, name + ".onnx")
    onnx.save(m, path)
    return path


def vi(name, elem=F, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


# ---------------------------------------------------------------- models

def if_conv_bn():
    """If with Conv -> BN in each branch (weights are branch initializers); the branches read the outer input."""
    then_g = helper.make_graph(
        [helper.make_node("Conv", ["X", "tw", "tb"], ["t_conv"], name="t_conv", pads=[1, 1, 1, 1]),
         bn_node("t_bn", "t_conv", "t_y")],
        "then", [], [vi("t_y")], initializer=[weight("tw", 4, 3, 3), t("tb", np.zeros(4, np.float32))] +
        bn_inits("t_bn", 4))
    else_g = helper.make_graph(
        [helper.make_node("Conv", ["X", "ew"], ["e_conv"], name="e_conv", pads=[1, 1, 1, 1]),
         bn_node("e_bn", "e_conv", "e_y")],
        "else", [], [vi("e_y")], initializer=[weight("ew", 4, 3, 3)] + bn_inits("e_bn", 4))
    g = helper.make_graph([helper.make_node("If", ["c"], ["Y"], name="if", then_branch=then_g, else_branch=else_g)],
                          "if_conv_bn", [vi("X", F, [1, 3, 6, 6]), vi("c", TensorProto.BOOL, [])],
                          [vi("Y", F, [1, 4, 6, 6])])
    return save("if_conv_bn", g)


def loop_body(name, extra_nodes=(), extra_inits=()):
    """Loop body: (i, cond, x) -> (cond, x'), x' = Relu(BN(Conv(x)))."""
    nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="cond_copy"),
             helper.make_node("Conv", ["x_in", "bw", "bb"], ["b_conv"], name="b_conv", pads=[1, 1, 1, 1]),
             bn_node("b_bn", "b_conv", "b_bnout"),
             helper.make_node("Relu", ["b_bnout"], ["x_out"], name="b_relu")]
    return helper.make_graph(
        nodes + list(extra_nodes), name,
        [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("x_in")],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out")],
        initializer=[weight("bw", 3, 3, 3), t("bb", RNG.normal(size=3).astype(np.float32))] + bn_inits("b_bn", 3) +
        list(extra_inits))


def loop_conv_bn():
    g = helper.make_graph(
        [helper.make_node("Loop", ["trip", "cond", "X"], ["Y"], name="loop", body=loop_body("body"))],
        "loop_conv_bn", [vi("X", F, [1, 3, 6, 6])], [vi("Y", F, [1, 3, 6, 6])],
        initializer=[t("trip", np.array(3, np.int64)), t("cond", np.array(True))])
    return save("loop_conv_bn", g)


def loop_outer_weights():
    """A Loop body whose Conv weights and BN parameters are initializers of the main graph (as exporters write
    loops): 'ow' and the BN's are read by the body only, 'sw' by the body and by a Conv of the main graph."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="cond_copy"),
         helper.make_node("Conv", ["x_in", "ow"], ["l_c1"], name="l_conv1", pads=[1, 1, 1, 1]),
         bn_node("l_bn", "l_c1", "l_b1"),
         helper.make_node("Conv", ["l_b1", "sw"], ["x_out"], name="l_conv2")],
        "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("x_in")],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out")])
    g = helper.make_graph(
        [helper.make_node("Loop", ["trip", "cond", "X"], ["L"], name="loop", body=body),
         helper.make_node("Conv", ["L", "sw"], ["Y"], name="main_conv")],
        "loop_outer_weights", [vi("X", F, [1, 3, 6, 6])], [vi("Y", F, [1, 3, 6, 6])],
        initializer=[t("trip", np.array(2, np.int64)), t("cond", np.array(True)), weight("ow", 3, 3, 3),
                     weight("sw", 3, 3, 1)] + bn_inits("l_bn", 3))
    return save("loop_outer_weights", g)


def scan_const_chain():
    """Scan over X [T, 4] with a state [4]: s' = s + x_t * (k1 * k2), y_t = Relu(s'); k1 and k2 are Constant nodes
    of the body (const-fold makes one initializer of k1 * k2), and a dead node sits in the body."""
    body = helper.make_graph(
        [helper.make_node("Constant", [], ["k1"], name="k1", value=t("k1v", np.full(4, 0.5, np.float32))),
         helper.make_node("Constant", [], ["k2"], name="k2", value=t("k2v", np.full(4, 3.0, np.float32))),
         helper.make_node("Mul", ["k1", "k2"], ["k"], name="k"),
         helper.make_node("Mul", ["x_t", "k"], ["xk"], name="xk"),
         helper.make_node("Add", ["s_in", "xk"], ["s_out"], name="acc"),
         helper.make_node("Relu", ["s_out"], ["y_t"], name="relu"),
         helper.make_node("Neg", ["x_t"], ["unused"], name="dead")],
        "scan_body", [vi("s_in", F, [4]), vi("x_t", F, [4])], [vi("s_out", F, [4]), vi("y_t", F, [4])])
    g = helper.make_graph(
        [helper.make_node("Scan", ["S0", "X"], ["S", "Y"], name="scan", body=body, num_scan_inputs=1)],
        "scan_const_chain", [vi("S0", F, [4]), vi("X", F, [5, 4])], [vi("S", F, [4]), vi("Y", F, [5, 4])])
    return save("scan_const_chain", g)


def body_reads_outer():
    """Branches read an outer initializer used nowhere else (wo), an outer node's output used nowhere else
    (r_out), an outer Conv's output whose BN must then stay (c1_out: folding would change or rename it), an outer
    Identity's output (id_out) and the outer BN's output (bn_out, read by the else branch only)."""
    then_g = helper.make_graph(
        [helper.make_node("Conv", ["r_out", "wo"], ["tc"], name="t_conv"),
         helper.make_node("Add", ["tc", "c1_out"], ["t_y"], name="t_add")], "then", [], [vi("t_y")])
    else_g = helper.make_graph(
        [helper.make_node("Add", ["id_out", "r_out"], ["e1"], name="e_add1"),
         helper.make_node("Add", ["e1", "bn_out"], ["e_y"], name="e_add2")], "else", [], [vi("e_y")])
    nodes = [helper.make_node("Relu", ["X"], ["r_out"], name="relu"),
             helper.make_node("Identity", ["X"], ["id_out"], name="id"),
             helper.make_node("Conv", ["X", "w1"], ["c1_out"], name="c1"),
             bn_node("bn", "c1_out", "bn_out"),
             helper.make_node("If", ["c"], ["Y"], name="if", then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "body_reads_outer", [vi("X", F, [1, 3, 5, 5]), vi("c", TensorProto.BOOL, [])],
                          [vi("Y", F, [1, 3, 5, 5])],
                          initializer=[weight("wo", 3, 3, 1), weight("w1", 3, 3, 1)] + bn_inits("bn", 3))
    return save("body_reads_outer", g)


def nested_if_in_loop():
    """A Loop body holding an If whose branches have Conv -> BN; the branches read the loop's carried value (an
    outer value one level up) and the main graph's input X (two levels up)."""
    then_g = helper.make_graph(
        [helper.make_node("Conv", ["x_in", "nw1"], ["n_c1"], name="n_conv1", pads=[1, 1, 1, 1]),
         bn_node("n_bn1", "n_c1", "n_y1")], "inner_then", [], [vi("n_y1")],
        initializer=[weight("nw1", 3, 3, 3)] + bn_inits("n_bn1", 3))
    else_g = helper.make_graph(
        [helper.make_node("Conv", ["x_in", "nw2"], ["n_c2"], name="n_conv2", pads=[1, 1, 1, 1]),
         bn_node("n_bn2", "n_c2", "n_b2"),
         helper.make_node("Add", ["n_b2", "X"], ["n_y2"], name="n_add")], "inner_else", [], [vi("n_y2")],
        initializer=[weight("nw2", 3, 3, 3)] + bn_inits("n_bn2", 3))
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="cond_copy"),
         helper.make_node("Less", ["i", "one"], ["first"], name="first"),
         helper.make_node("If", ["first"], ["x_out"], name="inner_if", then_branch=then_g, else_branch=else_g)],
        "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("x_in")],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out")], initializer=[t("one", np.array(1, np.int64))])
    g = helper.make_graph([helper.make_node("Loop", ["trip", "cond", "X"], ["Y"], name="loop", body=body)],
                          "nested_if_in_loop", [vi("X", F, [1, 3, 6, 6])], [vi("Y", F, [1, 3, 6, 6])],
                          initializer=[t("trip", np.array(3, np.int64)), t("cond", np.array(True))])
    return save("nested_if_in_loop", g)


def shadowing():
    """The then branch defines its own 'u' and 'k', names the main graph also uses: the main graph's Identity
    (X -> u) may go, since no branch reads the main graph's 'u'; the else branch reads the main graph's 'k' and the
    main graph's 'wk' initializer, so they stay."""
    then_g = helper.make_graph(
        [helper.make_node("Neg", ["X"], ["u"], name="t_neg"),
         helper.make_node("Relu", ["u"], ["k"], name="t_relu"),
         helper.make_node("Add", ["k", "u"], ["t_y"], name="t_add")], "then", [], [vi("t_y")])
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["k", "wk"], ["e_y"], name="e_mul")], "else", [], [vi("e_y")])
    nodes = [helper.make_node("Identity", ["X"], ["u"], name="id_u"),
             helper.make_node("Sigmoid", ["u"], ["k"], name="sig"),
             helper.make_node("If", ["c"], ["Y"], name="if", then_branch=then_g, else_branch=else_g),
             helper.make_node("Add", ["Y", "u"], ["Z"], name="final")]
    g = helper.make_graph(nodes, "shadowing", [vi("X", F, [1, 3, 4, 4]), vi("c", TensorProto.BOOL, [])],
                          [vi("Z", F, [1, 3, 4, 4])],
                          initializer=[t("wk", RNG.normal(size=(1, 3, 1, 1)).astype(np.float32))])
    return save("shadowing", g)


def body_const_and_cse():
    """Inside a branch: a Constant chain (const-fold), two identical Relus (cse), a no-op Reshape (remove-noops),
    a dead node and an unused branch initializer (cleanup), Conv -> Mul(per-channel) (fold-affine)."""
    then_g = helper.make_graph(
        [helper.make_node("Constant", [], ["k1"], name="k1", value=t("k1v", np.float32(2.0))),
         helper.make_node("Mul", ["k1", "k1"], ["k2"], name="k2"),
         helper.make_node("Relu", ["X"], ["r1"], name="r1"),
         helper.make_node("Relu", ["X"], ["r2"], name="r2"),
         helper.make_node("Add", ["r1", "r2"], ["s"], name="s"),
         helper.make_node("Reshape", ["s", "same_shape"], ["s2"], name="noop_reshape"),
         helper.make_node("Conv", ["s2", "cw"], ["cv"], name="cw_conv"),
         helper.make_node("Mul", ["cv", "chan"], ["cm"], name="chan_mul"),
         helper.make_node("Mul", ["cm", "k2"], ["t_y"], name="t_scale"),
         helper.make_node("Sigmoid", ["X"], ["dead"], name="dead")],
        "then", [], [vi("t_y")],
        initializer=[t("same_shape", np.array([1, 3, 4, 4], np.int64)), weight("cw", 3, 3, 1),
                     t("chan", RNG.uniform(0.5, 1.5, (1, 3, 1, 1)).astype(np.float32)),
                     t("unused_init", np.ones(5, np.float32))],
        value_info=[vi("s", F, [1, 3, 4, 4])])
    else_g = helper.make_graph([helper.make_node("Neg", ["X"], ["e_y"], name="e_neg")], "else", [], [vi("e_y")])
    g = helper.make_graph([helper.make_node("If", ["c"], ["Y"], name="if", then_branch=then_g, else_branch=else_g)],
                          "body_const_and_cse", [vi("X", F, [1, 3, 4, 4]), vi("c", TensorProto.BOOL, [])],
                          [vi("Y", F, [1, 3, 4, 4])])
    return save("body_const_and_cse", g)


# ---------------------------------------------------------------- helpers

def run(*args, check=True):
    p = subprocess.run([ONNXC, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"onnxc {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def declared(g, prefix=""):
    """{path/name: (elem type, dims)} of every value_info, subgraphs included."""
    out = {}
    for vi_ in g.value_info:
        tt = vi_.type.tensor_type
        out[prefix + vi_.name] = (tt.elem_type, [d.dim_value if d.HasField("dim_value") else None
                                                 for d in tt.shape.dim] if tt.HasField("shape") else None)
    for i, n in enumerate(g.node):
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                out.update(declared(a.g, f"{prefix}{i}.{a.name}/"))
    return out


def optimize(src, *extra):
    dst = src[:-5] + ".opt.onnx"
    p = run("optimize", src, "-o", dst, "--json", *extra)
    m1 = onnx.load(dst)
    # the value_info written for the main graph and the bodies agrees with onnx's own inference of the result
    ours = declared(m1.graph)
    stripped = onnx.load(dst)
    ref = declared(onnx.shape_inference.infer_shapes(strip_value_info(stripped)).graph)
    for k, (et, dims) in ours.items():
        if k in ref:
            ret, rdims = ref[k]
            assert not et or not ret or et == ret, (k, et, ret)
            assert dims is None or rdims is None or (len(dims) == len(rdims) and all(
                a is None or b is None or a == b for a, b in zip(dims, rdims))), (k, dims, rdims)
    return onnx.load(src), m1, json.loads(p.stdout), dst


def strip_value_info(m):
    def walk(g):
        del g.value_info[:]
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
    walk(m.graph)
    return m


def sub(graph, node_name, attr):
    n = next(n for n in graph.node if n.name == node_name)
    return next(a.g for a in n.attribute if a.name == attr)


def ops(g):
    return Counter(n.op_type for n in g.node)


def init_names(g):
    return {i.name for i in g.initializer}


def inputs_for(path, cond):
    m = onnx.load(path)
    d = os.path.join(WORK, "in_" + os.path.basename(path) + ("_c" + str(int(cond)) if cond is not None else ""))
    os.makedirs(d, exist_ok=True)
    files = {}
    for i in m.graph.input:
        if i.name in init_names(m.graph):
            continue
        if i.type.tensor_type.elem_type == TensorProto.BOOL:
            arr = np.array(cond)
        else:
            shape = [x.dim_value for x in i.type.tensor_type.shape.dim]
            arr = np.random.default_rng(3).uniform(-1, 1, shape).astype(np.float32)
        files[i.name] = os.path.join(d, i.name + ".npy")
        np.save(files[i.name], arr)
    return files


def onnxc_outputs(path, files, tag):
    d = os.path.join(WORK, "out_" + tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    run("run", path, *[f"--input={k}={v}" for k, v in files.items()], "--output-dir", d, "-q")
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}


def ort_outputs(path, files, tag):
    d = os.path.join(WORK, "ort_" + tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    p = subprocess.run(["node", os.path.join(ORT_REPO, "bench", "ort_run.js"), path, d,
                        *[f"{k}={v}" for k, v in files.items()], "--opt", "disabled"], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"ort_run {path}: {p.stderr.strip()}")
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}


def same_outputs(src, dst, conds, runner):
    for cond in conds:
        files = inputs_for(src, cond)
        a = runner(src, files, os.path.basename(src) + f"_{cond}_ref")
        b = runner(dst, files, os.path.basename(dst) + f"_{cond}_got")
        assert a.keys() == b.keys() and a, (a.keys(), b.keys())
        for k in a:
            x, y = a[k].astype(np.float64), b[k].astype(np.float64)
            assert x.shape == y.shape, (k, x.shape, y.shape)
            err = np.abs(x - y).max() / max(np.abs(x).max(), 1e-30)
            assert err < 1e-5, f"output {k} (cond {cond}): relative error {err:.3g}"


def case(fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok   {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every case, then fail
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")
    return fn


def changed_in(report, scope_part):
    return [e for e in report["events"] if e["kind"] == "changed" and scope_part in (e["scope"] or "")]


MODELS = {}


def model(name):
    if name not in MODELS:
        MODELS[name] = globals()[name]()
    return MODELS[name]


# ---------------------------------------------------------------- models only (for infer_vs_onnx)

if MODELS_ONLY:
    for name in ("if_conv_bn", "loop_conv_bn", "loop_outer_weights", "scan_const_chain", "body_reads_outer", "nested_if_in_loop", "shadowing",
                 "body_const_and_cse"):
        model(name)
    sys.exit(0)

# ---------------------------------------------------------------- ORT mode

if ORT_REPO:
    if not shutil.which("node") or not os.path.isdir(os.path.join(ORT_REPO, "bench", "node_modules")):
        print("skipped: node or bench/node_modules (ONNX Runtime for Node.js) is missing")
        sys.exit(77)
    for name, conds in (("loop_conv_bn", [None]), ("nested_if_in_loop", [None]), ("loop_outer_weights", [None]),
                        ("scan_const_chain", [None]), ("if_conv_bn", [True, False]),
                        ("body_reads_outer", [True, False]), ("body_const_and_cse", [True, False])):
        # (not "shadowing": ONNX Runtime, like onnx.checker, refuses a subgraph value that shadows an outer name)
        def ort_case(name=name, conds=conds):
            src = model(name)
            _, _, _, dst = optimize(src)
            same_outputs(src, dst, conds, ort_outputs)
        ort_case.__name__ = "ort_" + name
        case(ort_case)
    print(f"{passed} passed, {len(failures)} failed" + (": " + ", ".join(failures) if failures else ""))
    sys.exit(1 if failures else 0)


# ---------------------------------------------------------------- cases

@case
def bn_folds_in_each_if_branch():
    src = model("if_conv_bn")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    for br in ("then_branch", "else_branch"):
        assert ops(sub(m1.graph, "if", br)) == Counter({"Conv": 1}), (br, ops(sub(m1.graph, "if", br)))
    assert ops(m1.graph) == Counter({"If": 1})
    assert len(changed_in(rep, "'if' (If).then_branch")) >= 1 and len(changed_in(rep, "'if' (If).else_branch")) >= 1
    # the branch outputs keep their names
    assert [o.name for o in sub(m1.graph, "if", "then_branch").output] == ["t_y"]
    same_outputs(src, dst, [True, False], onnxc_outputs)


@case
def report_counts_per_scope():
    src = model("if_conv_bn")
    dst = src[:-5] + ".opt2.onnx"
    p = run("optimize", src, "-o", dst)
    out = p.stdout + p.stderr
    line = next(l for l in out.splitlines() if l.startswith("rewrites per scope:"))
    # per branch: the fold and the removal of the BN's four parameters
    assert "main graph 0" in line and "'if' (If).then_branch 2" in line and "'if' (If).else_branch 2" in line, line
    assert "fold-bn              changed  in 'if' (If).then_branch, 't_bn' (BatchNormalization): folded into " \
        "'t_conv' (Conv)" in out, out
    assert "nodes 1 -> 1 (+4 -> +2 in subgraphs)" in out, out


@case
def bn_folds_in_loop_body():
    src = model("loop_conv_bn")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    body = sub(m1.graph, "loop", "body")
    assert ops(body) == Counter({"Conv": 1, "Relu": 1, "Identity": 1}), ops(body)  # cond_in -> cond_out stays
    conv = next(n for n in body.node if n.op_type == "Conv")
    assert conv.output[0] == "b_bnout" and len(conv.input) == 3
    assert not any(i.name.startswith("b_bn_") for i in body.initializer), init_names(body)
    assert [i.name for i in body.input] == ["i", "cond_in", "x_in"]
    assert init_names(m1.graph) == {"trip", "cond"}


@case
def bn_folds_in_a_body_with_outer_weights():
    src = model("loop_outer_weights")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    body = sub(m1.graph, "loop", "body")
    assert ops(body) == Counter({"Identity": 1, "Conv": 2}), ops(body)
    conv1 = next(n for n in body.node if n.name == "l_conv1")
    # the folded weight and bias are the body's own; the main graph keeps 'sw' (its Conv reads it too) and drops
    # what only the body read before the fold
    assert conv1.input[1] in init_names(body) and conv1.input[2] in init_names(body), (conv1.input, init_names(body))
    assert next(n for n in body.node if n.name == "l_conv2").input[1] == "sw"
    assert init_names(m1.graph) == {"trip", "cond", "sw"}, init_names(m1.graph)


@case
def scan_body_is_simplified():
    src = model("scan_const_chain")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    body = sub(m1.graph, "scan", "body")
    assert ops(body) == Counter({"Mul": 1, "Add": 1, "Relu": 1}), ops(body)
    k = next(n for n in body.node if n.op_type == "Mul").input[1]
    assert np.allclose(numpy_helper.to_array(next(i for i in body.initializer if i.name == k)), 1.5)
    assert [o.name for o in body.output] == ["s_out", "y_t"] and [i.name for i in body.input] == ["s_in", "x_t"]


@case
def outer_values_read_by_a_body_are_kept():
    src = model("body_reads_outer")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    g = m1.graph
    assert "wo" in init_names(g), init_names(g)  # used only by the then branch
    assert ops(g) == Counter({"Relu": 1, "Identity": 1, "Conv": 1, "BatchNormalization": 1, "If": 1}), ops(g)
    produced = {o for n in g.node for o in n.output}
    assert {"r_out", "id_out", "c1_out", "bn_out"} <= produced, produced
    skipped = [e for e in rep["events"] if e["kind"] == "skipped" and e["node_name"] == "bn"]
    assert any("read by a subgraph" in e["message"] for e in skipped), skipped
    same_outputs(src, dst, [True, False], onnxc_outputs)


@case
def nested_if_in_loop_bodies_fold():
    src = model("nested_if_in_loop")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    body = sub(m1.graph, "loop", "body")
    for br in ("then_branch", "else_branch"):
        assert "BatchNormalization" not in ops(sub(body, "inner_if", br)), (br, ops(sub(body, "inner_if", br)))
    assert ops(sub(body, "inner_if", "else_branch")) == Counter({"Conv": 1, "Add": 1})
    assert "one" in init_names(body)
    scopes = {e["scope"] for e in changed_in(rep, "inner_if")}
    assert "'loop' (Loop).body / 'inner_if' (If).then_branch" in scopes, scopes


@case
def shadowed_names_are_told_apart():
    src = model("shadowing")
    m0, m1, rep, dst = optimize(src)
    g = m1.graph
    # the main graph's Identity went (no branch reads the main 'u'; the then branch has its own), Sigmoid stays
    assert ops(g) == Counter({"Sigmoid": 1, "If": 1, "Add": 1}), ops(g)
    assert "wk" in init_names(g)
    then_g = sub(g, "if", "then_branch")
    assert ops(then_g) == Counter({"Neg": 1, "Relu": 1, "Add": 1}), ops(then_g)
    sig = next(n for n in g.node if n.op_type == "Sigmoid")
    assert sig.output == ["k"], sig.output
    same_outputs(src, dst, [True, False], onnxc_outputs)
    # check says what onnx.checker says: the names must be unique across scopes
    try:
        onnx.checker.check_model(onnx.load(src))
        raise AssertionError("onnx.checker accepted a shadowed name")
    except onnx.checker.ValidationError:
        pass
    p = run("check", src, check=False)
    assert p.returncode != 0 and "output 'u' shadows a value of an enclosing graph" in p.stdout + p.stderr, \
        p.stdout + p.stderr


@case
def simplifications_run_inside_a_branch():
    src = model("body_const_and_cse")
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    then_g = sub(m1.graph, "if", "then_branch")
    # const-fold (k1 * k1), cse (the second Relu), remove-noops (the Reshape), cleanup (dead Sigmoid, unused
    # initializer), fold-affine (the per-channel Mul, then the scalar one, into the Conv)
    assert ops(then_g) == Counter({"Relu": 1, "Add": 1, "Conv": 1}), ops(then_g)  # both Muls went into the Conv
    assert "unused_init" not in init_names(then_g) and "same_shape" not in init_names(then_g), init_names(then_g)
    # value_info is written for the branch too, from the outer input's shape
    relu = next(n for n in then_g.node if n.op_type == "Relu").output[0]
    assert declared(m1.graph).get("0.then_branch/" + relu) == (F, [1, 3, 4, 4]), declared(m1.graph)
    passes = {e["pass"] for e in changed_in(rep, "then_branch")}
    assert {"const-fold", "cse", "remove-noops", "cleanup", "fold-affine"} <= passes, passes
    same_outputs(src, dst, [True, False], onnxc_outputs)


@case
def new_names_do_not_collide_with_subgraph_names():
    # the main graph's BN folds into a bias-less Conv; the bias gets a fresh name that no branch already uses
    then_g = helper.make_graph([helper.make_node("Neg", ["X"], ["cv_bias"], name="t_neg"),
                                helper.make_node("Add", ["cv_bias", "cv_bias"], ["t_y"])], "then", [], [vi("t_y")])
    else_g = helper.make_graph([helper.make_node("Neg", ["X"], ["e_y"])], "else", [], [vi("e_y")])
    g = helper.make_graph([helper.make_node("Conv", ["X", "w"], ["cvo"], name="cv"),
                           bn_node("bn", "cvo", "bno"),
                           helper.make_node("If", ["c"], ["Y"], name="if", then_branch=then_g, else_branch=else_g),
                           helper.make_node("Add", ["Y", "bno"], ["Z"])],
                          "collide", [vi("X", F, [1, 3, 4, 4]), vi("c", TensorProto.BOOL, [])],
                          [vi("Z", F, [1, 3, 4, 4])], initializer=[weight("w", 3, 3, 1)] + bn_inits("bn", 3))
    src = save("collide", g)
    m0, m1, rep, dst = optimize(src)
    onnx.checker.check_model(m1)
    conv = next(n for n in m1.graph.node if n.op_type == "Conv")
    assert len(conv.input) == 3
    then_names = {o for n in sub(m1.graph, "if", "then_branch").node for o in n.output}
    assert conv.input[2] not in then_names, (conv.input[2], then_names)
    same_outputs(src, dst, [True, False], onnxc_outputs)


@case
def info_counts_nodes_per_subgraph():
    src = model("nested_if_in_loop")
    p = run("info", src, "--json")
    j = json.loads(p.stdout)
    assert j["node_count"] == 1 and j["node_count_total"] == 1 + 3 + 2 + 3 and j["subgraph_count"] == 3, j
    subs = {s["path"]: s["nodes"] for s in j["subgraphs"]}
    assert subs == {"'loop' (Loop).body": 3, "'loop' (Loop).body / 'inner_if' (If).then_branch": 2,
                    "'loop' (Loop).body / 'inner_if' (If).else_branch": 3}, subs
    text = run("info", src).stdout
    assert "nodes:       1 (+8 in 3 subgraphs)" in text, text
    assert "  3 nodes in 'loop' (Loop).body / 'inner_if' (If).else_branch (graph 'inner_else')" in text, text


@case
def check_lists_nested_problems():
    # an undefined name in a nested branch, an outer value produced only after the If that reads it, and an op
    # onnxc has no kernel for, two levels down
    inner_t = helper.make_graph([helper.make_node("Add", ["X", "nowhere"], ["a"], name="uses_undefined"),
                                 helper.make_node("Add", ["a", "late"], ["it_y"], name="uses_late")],
                                "inner_then", [], [vi("it_y")])
    inner_e = helper.make_graph([helper.make_node("NoSuchOp", ["X"], ["ie_y"], name="unknown_op")],
                                "inner_else", [], [vi("ie_y")])
    then_g = helper.make_graph([helper.make_node("If", ["c"], ["t_y"], name="inner", then_branch=inner_t,
                                                 else_branch=inner_e)], "then", [], [vi("t_y")])
    else_g = helper.make_graph([helper.make_node("Neg", ["X"], ["e_y"])], "else", [], [vi("e_y")])
    g = helper.make_graph([helper.make_node("If", ["c"], ["Y"], name="outer", then_branch=then_g, else_branch=else_g),
                           helper.make_node("Neg", ["X"], ["late"], name="late")],
                          "nested_bad", [vi("X", F, [2]), vi("c", TensorProto.BOOL, [])], [vi("Y", F, [2])])
    src = save("nested_bad", g)
    p = run("check", src, "--json", check=False)
    assert p.returncode != 0
    text = p.stdout + p.stderr
    assert "'nowhere' is not defined" in text, text
    assert "late" in text and "topological order" in text, text
    assert "NoSuchOp" in text, text


print(f"{passed} passed, {len(failures)} failed" + (": " + ", ".join(failures) if failures else ""))
sys.exit(1 if failures else 0)
