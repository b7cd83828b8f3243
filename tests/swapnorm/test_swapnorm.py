#!/usr/bin/python3
"""`onnxc swap-norm` end to end. Each group is one CTest test:
  models   PyTorch-exported CNNs of models/ (ResNet-like, MobileNetV2-like, the detector, every BN model): no
           BatchNormalization left, the expected number of GroupNormalization-21 nodes (op form) or of
           Reshape/InstanceNormalization/Reshape/Mul/Add groups (decomposed form), each with the group count the
           issue's rule gives (computed here from the channel count) and the BN's gamma/beta/epsilon, Conv
           biases kept, the batch dim still symbolic, onnx.checker on the decomposed form, both forms running.
  truth    models/swapnorm_small.onnx swapped with --to group/instance/layer in both forms against the outputs of
           the same network built in PyTorch with nn.GroupNorm(G, C) (models/author_models.py).
  formula  hand-built models (fp16, unknown rank, groups that do not divide) against a numpy group norm.
  opset    --form op on old opsets: the rewrites that keep other ops' meaning (outputs equal to the decomposed
           form that keeps the old opset), and the refusals with their reason.
  cli      bad input and the report: channel count below the group count, --strict, a regex that matches
           nothing, a model without BN, bad values, --only/--exclude, skipped BNs, input untouched.
  compare  `onnxc compare original swapped` reports the drift and names the first swapped BN.
usage: test_swapnorm.py GROUP ONNXC MODELS_DIR WORK_DIR"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

GROUP, ONNXC, MODELS, WORK = sys.argv[1:5]
WORK = os.path.join(WORK, GROUP)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
failures = []
passed = 0

# fp32 tolerance: NMSE = sum((got - want)^2) / sum(want^2). Every normalization re-scales by 1/sqrt(var + eps),
# so relative rounding stays near fp32's 2^-24 per op; after a few convs and norms 1e-10 (1e-5 relative RMS)
# holds with a wide margin (observed ~1e-13). The exception is a group of ONE element (instance norm on a rank-2
# input): the exact result is beta, but an fp32 mean off by one ulp of x is amplified by 1/sqrt(eps) = 316;
# see truth_case.
FP32_NMSE = 1e-10


def run(*args, check=True):
    p = subprocess.run([ONNXC, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"onnxc {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def case(fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok    {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every failing case, then exit non-zero
        failures.append(fn.__name__)
        print(f"FAIL  {fn.__name__}: {type(e).__name__}: {e}")
    return fn


def nmse(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    den = (want ** 2).sum()
    return ((got - want) ** 2).sum() / den if den > 0 else float(((got - want) ** 2).sum())


def swap_groups(kind, c, want=32):
    """The issue's rule: group: the largest divisor of c not above want; instance: c; layer: 1."""
    if kind == "instance":
        return c
    if kind == "layer":
        return 1
    return max(d for d in range(1, min(c, want) + 1) if c % d == 0)


def inits(m):
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def producers(m):
    return {o: n for n in m.graph.node for o in n.output}


def attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def opset(m):
    return next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def swap(src, name, *args, expect=0):
    dst = os.path.join(WORK, name)
    p = run("swap-norm", src, "-o", dst, "--json", *args, check=False)
    assert p.returncode == expect, f"exit {p.returncode}, expected {expect}: {p.stderr.strip()}"
    return dst, (json.loads(p.stdout) if p.stdout.strip() else None), p


def outputs_of(model, tag, *inputs):
    d = os.path.join(WORK, tag)
    shutil.rmtree(d, ignore_errors=True)
    run("run", model, "--output-dir", d, *[f"--input={i}" for i in inputs])
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".npy")}


def bn_nodes(m):
    """BatchNormalization nodes of the original: name, X, Y, gamma, beta, epsilon, channels."""
    ini = inits(m)
    out = []
    for n in m.graph.node:
        if n.op_type == "BatchNormalization":
            out.append(dict(name=n.name, x=n.input[0], y=n.output[0], gamma=ini[n.input[1]], beta=ini[n.input[2]],
                            eps=attr(n, "epsilon", 1e-5), c=len(ini[n.input[1]])))
    return out


def check_decomposed(m0, m1, kind="group", want=32):
    """Every BN of m0 became y = Add(Mul(Reshape(InstanceNormalization(Reshape(x, [0,G,-1]), ones, zeros),
    Shape(x)), gamma[C,1..]), beta[C,1..]) in m1, with G from the channel count."""
    prod, ini = producers(m1), inits(m1)
    for bn in bn_nodes(m0):
        g = swap_groups(kind, bn["c"], want)
        add = prod[bn["y"]]
        assert add.op_type == "Add", (bn["name"], add.op_type)
        mul = prod[add.input[0]]
        assert mul.op_type == "Mul"
        beta, gamma = ini[add.input[1]], ini[mul.input[1]]
        assert gamma.shape[0] == bn["c"] and all(d == 1 for d in gamma.shape[1:]), gamma.shape
        assert np.array_equal(gamma.reshape(-1), bn["gamma"]) and np.array_equal(beta.reshape(-1), bn["beta"])
        back = prod[mul.input[0]]
        assert back.op_type == "Reshape" and prod[back.input[1]].op_type == "Shape"
        assert prod[back.input[1]].input[0] == bn["x"]
        inorm = prod[back.input[0]]
        assert inorm.op_type == "InstanceNormalization"
        assert abs(attr(inorm, "epsilon", 1e-5) - bn["eps"]) <= 1e-9 * max(1.0, bn["eps"]), "epsilon not kept"
        assert np.array_equal(ini[inorm.input[1]], np.ones(g, np.float32))
        assert np.array_equal(ini[inorm.input[2]], np.zeros(g, np.float32))
        grp = prod[inorm.input[0]]
        assert grp.op_type == "Reshape" and grp.input[0] == bn["x"]
        assert list(ini[grp.input[1]]) == [0, g, -1], (bn["name"], list(ini[grp.input[1]]), g)


def check_op_form(m0, m1, kind="group", want=32):
    prod, ini = producers(m1), inits(m1)
    assert opset(m1) == 21 and m1.ir_version >= 10, (opset(m1), m1.ir_version)
    for bn in bn_nodes(m0):
        gn = prod[bn["y"]]
        assert gn.op_type == "GroupNormalization" and gn.input[0] == bn["x"], (bn["name"], gn.op_type)
        assert attr(gn, "num_groups") == swap_groups(kind, bn["c"], want)
        assert abs(attr(gn, "epsilon", 1e-5) - bn["eps"]) <= 1e-9 * max(1.0, bn["eps"])
        assert np.array_equal(ini[gn.input[1]], bn["gamma"]) and np.array_equal(ini[gn.input[2]], bn["beta"])


def check_kept(m0, m1):
    """Conv/Gemm nodes and their weights and biases are unchanged (a Conv bias before a swapped BN is kept); the
    interface (names, types, the symbolic batch dim) too; the running statistics are gone."""
    i0, i1 = inits(m0), inits(m1)
    for n in m0.graph.node:
        if n.op_type in ("Conv", "ConvTranspose", "Gemm"):
            same = [k for k in m1.graph.node if k.op_type == n.op_type and list(k.input) == list(n.input)]
            assert len(same) == 1, f"{n.name} changed"
            for name in n.input[1:]:
                assert np.array_equal(i0[name], i1[name]), f"{name} changed"
    assert [i.type for i in m0.graph.input] == [i.type for i in m1.graph.input]
    assert [o.name for o in m0.graph.output] == [o.name for o in m1.graph.output]
    assert m1.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    for n in m0.graph.node:
        if n.op_type == "BatchNormalization":
            for stat in n.input[3:5]:
                assert stat not in i1, f"running statistic {stat} still in the model"


def manifest():
    with open(os.path.join(MODELS, "MANIFEST.json")) as f:
        return json.load(f)["models"]


# ------------------------------------------------------------------------------------------------ models

def model_cases():
    for e in manifest():
        if e["batchnorm_nodes"] == 0:
            continue
        src = os.path.join(MODELS, e["file"])

        def one(e=e, src=src):
            m0 = onnx.load(src)
            before = sha(src)
            n_bn = e["batchnorm_nodes"]
            dec, rep_d, _ = swap(src, e["name"] + ".dec.onnx", "--form", "decomposed")
            op, rep_o, _ = swap(src, e["name"] + ".op.onnx", "--form", "op")
            assert sha(src) == before, "the input model changed"
            md, mo = onnx.load(dec), onnx.load(op)
            cd, co = Counter(n.op_type for n in md.graph.node), Counter(n.op_type for n in mo.graph.node)
            assert cd["BatchNormalization"] == 0 and co["BatchNormalization"] == 0
            assert co["GroupNormalization"] == n_bn, co
            assert cd["InstanceNormalization"] == n_bn and cd["GroupNormalization"] == 0, cd
            assert rep_d["changes"] == n_bn and rep_o["changes"] == n_bn
            check_decomposed(m0, md)
            check_op_form(m0, mo)
            check_kept(m0, md)
            check_kept(m0, mo)
            onnx.checker.check_model(md)  # the op form is opset 21: onnx 1.12 stops at 17, see bench/ort_check.py
            assert opset(md) == opset(m0), "the decomposed form must keep the model's opset"
            # both forms run, on two batch sizes, and agree with each other within fp32 rounding
            for c in e["cases"]:
                x = os.path.join(MODELS, c["dir"], "input_0.npy")
                a = outputs_of(dec, e["name"] + ".dec.out", f"input={x}")
                b = outputs_of(op, e["name"] + ".op.out", f"input={x}")
                for k in a:
                    assert a[k].shape[0] == c["batch"]
                    assert nmse(b[k], a[k]) <= FP32_NMSE, (k, nmse(b[k], a[k]))
            print(f"      {e['name']}: {n_bn} BatchNormalization -> {n_bn} GroupNormalization-21 / {n_bn} "
                  f"InstanceNormalization groups; groups " +
                  ",".join(str(swap_groups('group', b['c'])) for b in bn_nodes(m0)))

        one.__name__ = "swap_" + e["name"]
        case(one)


# ------------------------------------------------------------------------------------------------ truth

def truth_cases():
    e = next(x for x in manifest() if x["name"] == "swapnorm_small")
    src = os.path.join(MODELS, e["file"])
    names = [o["name"] for o in e["cases"][-1]["outputs"]]
    m0 = onnx.load(src)
    for t in e["swap_truth"]:
        for form in ("decomposed", "op"):
            def one(t=t, form=form):
                dst, rep, _ = swap(src, f"small.{t['to']}.{form}.onnx", "--to", t["to"], "--form", form)
                m1 = onnx.load(dst)
                # the group counts PyTorch was given are the ones onnxc chose
                (check_op_form if form == "op" else check_decomposed)(m0, m1, t["to"])
                for c, g in t["groups_by_channels"].items():
                    assert swap_groups(t["to"], int(c)) == g
                d = os.path.join(MODELS, t["dir"])
                got = outputs_of(dst, f"small.{t['to']}.{form}.out", f"input={os.path.join(d, 'input_0.npy')}")
                for i, name in enumerate(names):
                    want = np.load(os.path.join(d, f"output_{i}.npy"))
                    err = nmse(got[name], want)
                    limit = FP32_NMSE
                    if t["to"] == "instance" and got[name].ndim == 2:
                        # one element per group: the exact answer is beta (x - mean(x) = 0); PyTorch's fp32
                        # mean is off by up to an ulp of x, times 1/sqrt(eps) = 316 -> relative error up to
                        # ~316 * 2^-23 = 4e-5, NMSE up to ~1.4e-9. onnxc must give beta itself.
                        beta = next(b["beta"] for b in bn_nodes(m0) if b["y"] == name)
                        assert np.array_equal(got[name], np.broadcast_to(beta, got[name].shape)), "not beta"
                        limit = 2e-9
                    assert err <= limit, f"{name}: nmse {err:.3g} > {limit}"
                    print(f"      {t['to']:8} {form:10} {name:9} NMSE vs PyTorch nn.GroupNorm {err:.2e}")

            one.__name__ = f"truth_{t['to']}_{form}"
            case(one)


# ------------------------------------------------------------------------------------------------ formula

def group_norm_ref(x, g, gamma, beta, eps):
    """Group normalization from its definition, in float64."""
    x = x.astype(np.float64)
    n, c = x.shape[:2]
    xr = x.reshape(n, g, -1)
    y = ((xr - xr.mean(-1, keepdims=True)) / np.sqrt(xr.var(-1, keepdims=True) + eps)).reshape(x.shape)
    shp = (1, c) + (1,) * (x.ndim - 2)
    return y * gamma.astype(np.float64).reshape(shp) + beta.astype(np.float64).reshape(shp)


def bn_model(path, c, dtype=TensorProto.FLOAT, shape=None, opset_v=13, eps=1e-5, seed=0, extra_nodes=(),
             extra_inits=(), outputs=None, x_name="x"):
    rng = np.random.default_rng(seed)
    npdt = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16}[dtype]
    gamma = (rng.random(c) + 0.5).astype(npdt)
    beta = (rng.standard_normal(c) * 0.3).astype(npdt)
    mean = (rng.standard_normal(c) * 0.5).astype(npdt)
    var = (rng.random(c) + 0.5).astype(npdt)
    ini = [numpy_helper.from_array(a, n) for a, n in ((gamma, "gamma"), (beta, "beta"), (mean, "mean"),
                                                       (var, "var"))]
    nodes = [helper.make_node("BatchNormalization", [x_name, "gamma", "beta", "mean", "var"], ["y"], name="bn",
                              epsilon=eps)]
    inp = helper.make_tensor_value_info("x", dtype, shape)
    outs = outputs or [helper.make_tensor_value_info("y", dtype, shape)]
    g = helper.make_graph(list(extra_nodes) + nodes, "g", [inp], outs, ini + list(extra_inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset_v)])
    m.ir_version = 7
    onnx.save(m, path)
    return gamma, beta


def formula_cases():
    @case
    def fp16_both_forms():
        # float16: the decomposition normalizes in float32 (Cast in, Cast out), GroupNormalization-21 by its
        # stash_type; both against float64 group norm of the same input, within fp16 rounding
        src = os.path.join(WORK, "fp16.onnx")
        gamma, beta = bn_model(src, 64, TensorProto.FLOAT16, ["N", 64, 5, 5], eps=1e-3, seed=1)
        x = (np.random.default_rng(2).standard_normal((2, 64, 5, 5)) * 3 + 1).astype(np.float16)
        np.save(os.path.join(WORK, "fp16_x.npy"), x)
        want = group_norm_ref(x, 32, gamma, beta, 1e-3)
        for form in ("decomposed", "op"):
            dst, _, _ = swap(src, f"fp16.{form}.onnx", "--form", form)
            m1 = onnx.load(dst)
            ops = Counter(n.op_type for n in m1.graph.node)
            if form == "decomposed":
                assert ops["Cast"] == 2, ops
                onnx.checker.check_model(m1)
            got = outputs_of(dst, f"fp16.{form}.out", f"x={os.path.join(WORK, 'fp16_x.npy')}")["y"]
            assert got.dtype == np.float16
            assert nmse(got, want) <= 1e-6, nmse(got, want)  # fp16 keeps 11 bits: relative 2^-11
            print(f"      fp16 {form}: NMSE vs float64 group norm {nmse(got, want):.2e}")

    @case
    def unknown_rank_and_groups_4():
        # X has no declared shape: the decomposition does the affine step on [N, C, -1] and reshapes back, so it
        # works for any rank; --groups 4
        src = os.path.join(WORK, "norank.onnx")
        gamma, beta = bn_model(src, 8, shape=None, seed=3)
        dst, _, _ = swap(src, "norank.dec.onnx", "--form", "decomposed", "--groups", "4")
        # (no onnx.checker: onnx 1.12 wants a shape on graph inputs and outputs, which this model lacks on purpose)
        assert Counter(n.op_type for n in onnx.load(dst).graph.node)["Reshape"] == 3
        dst_op, _, _ = swap(src, "norank.op.onnx", "--form", "op", "--groups", "4")
        for shape in ((2, 8, 3, 3), (2, 8, 5), (3, 8)):
            x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
            f = os.path.join(WORK, "norank_x.npy")
            np.save(f, x)
            want = group_norm_ref(x, 4, gamma, beta, 1e-5)
            for d in (dst, dst_op):
                got = outputs_of(d, "norank.out", f"x={f}")["y"]
                assert nmse(got, want) <= FP32_NMSE, (shape, d, nmse(got, want))

    @case
    def groups_not_dividing():
        # 36 channels, --groups 8: 36 % 8 != 0 -> the largest divisor of 36 not above 8 is 6
        src = os.path.join(WORK, "c36.onnx")
        gamma, beta = bn_model(src, 36, shape=["N", 36, 4, 4], seed=5)
        dst, rep, p = swap(src, "c36.onnx.out.onnx", "--groups", "8")
        warn = [e for e in rep["events"] if e["kind"] == "warning" and e["node"] and "bn" in e["node"]]
        assert any("36 channels do not divide into 8 groups: using 6 groups" in e["message"] for e in warn), warn
        x = np.random.default_rng(6).standard_normal((2, 36, 4, 4)).astype(np.float32)
        f = os.path.join(WORK, "c36_x.npy")
        np.save(f, x)
        got = outputs_of(dst, "c36.out", f"x={f}")["y"]
        assert nmse(got, group_norm_ref(x, 6, gamma, beta, 1e-5)) <= FP32_NMSE


# ------------------------------------------------------------------------------------------------ opset

def make_old_model(path, opset_v, body, inputs, outputs, inits_=(), ir=4):
    if ir <= 3:  # IR 3 lists every initializer among the graph inputs
        inputs = list(inputs) + [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits_]
    g = helper.make_graph(body, "g", inputs, outputs, list(inits_))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset_v)])
    m.ir_version = ir
    onnx.save(m, path)


def bn_inits(c, seed=0, prefix=""):
    rng = np.random.default_rng(seed)
    vals = [(rng.random(c) + 0.5), rng.standard_normal(c) * 0.3, rng.standard_normal(c) * 0.5, rng.random(c) + 0.5]
    names = [prefix + n for n in ("gamma", "beta", "mean", "var")]
    return [numpy_helper.from_array(v.astype(np.float32), n) for v, n in zip(vals, names)], names


def opset_cases():
    @case
    def raise_from_8_keeps_meaning():
        # opset 8: Clip min/max, Pad pads/value, ReduceMean/Squeeze/Unsqueeze axes, Split split and Dropout
        # ratio are attributes; BN-7 carries spatial; Softmax is the 2-D coercion. --form op must rewrite
        # them as opset 21 wants; the decomposed form keeps opset 8, so equal outputs prove the rewrites
        ini, nm = bn_inits(8, 1)
        ini2, nm2 = bn_inits(8, 2, "k_")
        w = numpy_helper.from_array((np.random.default_rng(3).standard_normal((8, 8, 1, 1)) * 0.3).astype(
            np.float32), "w")
        nodes = [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
            helper.make_node("BatchNormalization", ["c"] + nm, ["b"], name="bn", spatial=1, epsilon=1e-4),
            helper.make_node("Clip", ["b"], ["r"], name="clip", min=0.0, max=1.5),
            helper.make_node("Pad", ["r"], ["p"], name="pad", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.25),
            helper.make_node("BatchNormalization", ["p"] + nm2, ["k"], name="kept_bn", spatial=1),
            helper.make_node("Dropout", ["k"], ["d"], name="drop", ratio=0.3),
            helper.make_node("ReduceMean", ["d"], ["m"], name="mean", axes=[2, 3], keepdims=1),
            helper.make_node("Squeeze", ["m"], ["s"], name="squeeze", axes=[2, 3]),
            helper.make_node("Unsqueeze", ["s"], ["u"], name="unsqueeze", axes=[2]),
            helper.make_node("Split", ["u"], ["a", "bb"], name="split", axis=1, split=[3, 5]),
            helper.make_node("Squeeze", ["a"], ["a2"], name="squeeze2", axes=[2]),
            helper.make_node("Softmax", ["a2"], ["prob"], name="softmax", axis=1),
        ]
        src = os.path.join(WORK, "op8.onnx")
        make_old_model(src, 8, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 6, 6])],
                       [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 3]),
                        helper.make_tensor_value_info("bb", TensorProto.FLOAT, ["N", 5, 1])], [w] + ini + ini2, ir=3)
        m = onnx.load(src)
        m.graph.value_info.append(helper.make_tensor_value_info("a2", TensorProto.FLOAT, ["N", 3]))
        onnx.save(m, src)
        onnx.checker.check_model(m)
        dec, _, _ = swap(src, "op8.dec.onnx", "--form", "decomposed", "--exclude", "kept")
        op, rep, _ = swap(src, "op8.op.onnx", "--form", "op", "--exclude", "kept")
        m = onnx.load(op)
        assert opset(m) == 21 and m.ir_version == 10
        by = {n.name: n for n in m.graph.node}
        assert not any(a.name in ("min", "max") for a in by["clip"].attribute) and len(by["clip"].input) == 3
        assert len(by["pad"].input) == 3 and [a.name for a in by["pad"].attribute] in ([], ["mode"])
        assert len(by["drop"].input) == 2 and not by["drop"].attribute
        for k in ("mean", "squeeze", "unsqueeze", "squeeze2"):
            assert len(by[k].input) == 2 and not any(a.name == "axes" for a in by[k].attribute), k
        assert list(inits(m)[by["split"].input[1]]) == [3, 5]
        assert not any(a.name == "spatial" for a in by["kept_bn"].attribute)
        assert by["kept_bn"].op_type == "BatchNormalization"
        # IR 3 listed initializers as inputs; at IR 10 those entries would make them overridable inputs
        assert [i.name for i in m.graph.input] == ["x"]
        raised = [e for e in rep["events"] if "opset raised" in e["message"]]
        assert raised and "Clip x1" in raised[0]["message"], raised
        x = os.path.join(WORK, "op8_x.npy")
        np.save(x, np.random.default_rng(5).standard_normal((2, 8, 6, 6)).astype(np.float32) * 2)
        a, b = outputs_of(dec, "op8.dec.out", f"x={x}"), outputs_of(op, "op8.op.out", f"x={x}")
        for k in a:
            assert nmse(b[k], a[k]) <= FP32_NMSE, (k, nmse(b[k], a[k]))

    @case
    def topk_and_scatter_rewrites():
        # TopK-1's k attribute becomes a 1-element int64 input; Scatter (deprecated in 11) becomes
        # ScatterElements with the same inputs and axis
        ini, nm = bn_inits(4)
        nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["b"], name="bn"),
                 helper.make_node("Flatten", ["b"], ["f"], name="flat"),
                 helper.make_node("TopK", ["f"], ["v", "i"], name="topk", k=3, axis=1),
                 helper.make_node("Scatter", ["f", "i", "v"], ["s"], name="scatter", axis=1)]
        src = os.path.join(WORK, "topk9.onnx")
        make_old_model(src, 9, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 2, 2])],
                       [helper.make_tensor_value_info("s", TensorProto.FLOAT, None)], ini)
        op, _, _ = swap(src, "topk9.op.onnx", "--form", "op")
        m = onnx.load(op)
        by = {n.name: n for n in m.graph.node}
        assert len(by["topk"].input) == 2 and list(inits(m)[by["topk"].input[1]]) == [3]
        assert [a.name for a in by["topk"].attribute] == ["axis"]
        assert by["scatter"].op_type == "ScatterElements" and attr(by["scatter"], "axis") == 1

    def refusal(name, opset_v, body_after_bn, why, outs=None):
        def one():
            ini, nm = bn_inits(4)
            nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["b"], name="bn")] + body_after_bn
            src = os.path.join(WORK, name + ".onnx")
            make_old_model(src, opset_v, nodes,
                           [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])],
                           outs or [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], ini,
                           ir=8 if opset_v >= 15 else 4)
            before = sha(src)
            dst = os.path.join(WORK, name + ".out.onnx")
            p = run("swap-norm", src, "-o", dst, "--form", "op", check=False)
            assert p.returncode == 2, (p.returncode, p.stderr)
            assert why in p.stderr and "use --form decomposed" in p.stderr, p.stderr
            assert not os.path.exists(dst) and sha(src) == before
            assert not [f for f in os.listdir(WORK) if f.startswith(name + ".out")], "temporary file left"
            # the decomposed form needs no raise
            run("swap-norm", src, "-o", dst, "--form", "decomposed")
            print(f"      {name}: {p.stderr.strip().splitlines()[-1][:150]}")
        one.__name__ = "refuse_" + name
        case(one)

    refusal("softmax_axis1_rank4", 11, [helper.make_node("Softmax", ["b"], ["z"], name="sm", axis=1)],
            "its axis 1 is not the last of rank 4")
    ini_sc = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "sc")

    @case
    def refuse_upsample():
        ini, nm = bn_inits(4)
        nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["b"], name="bn"),
                 helper.make_node("Upsample", ["b", "sc"], ["z"], name="up")]
        src = os.path.join(WORK, "upsample.onnx")
        make_old_model(src, 9, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], ini + [ini_sc])
        p = run("swap-norm", src, "-o", os.path.join(WORK, "upsample.out.onnx"), "--form", "op", check=False)
        assert p.returncode == 2 and "'up' (Upsample): was deprecated in opset 10" in p.stderr, p.stderr

    gn18_inits = [numpy_helper.from_array(np.ones(2, np.float32), "s2"),
                  numpy_helper.from_array(np.zeros(2, np.float32), "b2")]

    @case
    def refuse_groupnorm18():
        ini, nm = bn_inits(4)
        nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["b"], name="bn"),
                 helper.make_node("GroupNormalization", ["b", "s2", "b2"], ["z"], name="gn18", num_groups=2)]
        src = os.path.join(WORK, "gn18.onnx")
        make_old_model(src, 18, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], ini + gn18_inits, ir=8)
        p = run("swap-norm", src, "-o", os.path.join(WORK, "gn18.out.onnx"), "--form", "op", check=False)
        assert p.returncode == 2 and "per-group to per-channel" in p.stderr, p.stderr
        # the default (auto) form on opset 18 is the decomposition and never touches GroupNormalization-18
        dst, _, _ = swap(src, "gn18.auto.onnx")
        m = onnx.load(dst)
        assert opset(m) == 18 and [n.op_type for n in m.graph.node].count("GroupNormalization") == 1

    @case
    def refuse_opset6():
        ini, nm = bn_inits(4)
        nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["z"], name="bn")]
        src = os.path.join(WORK, "op6.onnx")
        make_old_model(src, 6, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], ini, ir=3)
        p = run("swap-norm", src, "-o", os.path.join(WORK, "op6.out.onnx"), "--form", "op", check=False)
        assert p.returncode == 2 and "predates numpy-style broadcasting" in p.stderr, p.stderr

    @case
    def auto_on_opset21_is_op_form():
        ini, nm = bn_inits(64)
        nodes = [helper.make_node("BatchNormalization", ["x"] + nm, ["z"], name="bn")]
        src = os.path.join(WORK, "op21.onnx")
        make_old_model(src, 21, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64, 3, 3])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], ini, ir=10)
        dst, _, _ = swap(src, "op21.out.onnx")
        m = onnx.load(dst)
        assert [n.op_type for n in m.graph.node] == ["GroupNormalization"]
        assert attr(m.graph.node[0], "num_groups") == 32


# ------------------------------------------------------------------------------------------------ cli

def cli_cases():
    resnet = os.path.join(MODELS, "resnet_like.onnx")

    @case
    def channels_below_groups_fallback_and_strict():
        # resnet_like's first BNs have 16 channels, fewer than 32 groups: per-layer message, 16 groups
        dst, rep, p = swap(resnet, "r.fallback.onnx")
        msgs = [e for e in rep["events"] if e["kind"] == "warning" and e["node"]]
        assert len(msgs) == 3 and all("16 channels are fewer than 32 groups: using 16 groups" in e["message"]
                                      for e in msgs), msgs
        # --strict: an error naming the layer, nothing written
        out = os.path.join(WORK, "r.strict.onnx")
        p = run("swap-norm", resnet, "-o", out, "--strict", check=False)
        assert p.returncode == 2 and "'/stem/stem.1/BatchNormalization'" in p.stderr and "16 channels" in p.stderr \
            and "--strict" in p.stderr, p.stderr
        assert not os.path.exists(out)
        # 16 groups divide every layer: --strict is happy
        swap(resnet, "r.g16.onnx", "--groups", "16", "--strict")

    @case
    def regex_matches_nothing():
        before = sha(resnet)
        for args in (("--only", "no_such_layer"), ("--exclude", "."), ("--only", "stem", "--exclude", "stem")):
            out = os.path.join(WORK, "r.nomatch.onnx")
            p = run("swap-norm", resnet, "-o", out, *args, check=False)
            assert p.returncode == 1, (args, p.returncode, p.stderr)
            assert "no BatchNormalization matched" in p.stderr and "warning" in p.stderr, p.stderr
            assert not os.path.exists(out), "written although nothing matched"
        assert sha(resnet) == before

    @case
    def only_and_exclude_select():
        dst, rep, _ = swap(resnet, "r.only.onnx", "--only", "^/l2/")
        m = onnx.load(dst)
        ops = Counter(n.op_type for n in m.graph.node)
        assert ops["BatchNormalization"] == 3 and ops["InstanceNormalization"] == 3, ops
        # the report lists every BN: 3 swapped, 3 not selected
        names = [b["name"] for b in bn_nodes(onnx.load(resnet))]
        for n in names:
            ev = [e for e in rep["events"] if e["node"] and f"'{n}'" in e["node"]]
            kinds = {e["kind"] for e in ev}
            assert ("changed" in kinds) == n.startswith("/l2/"), (n, ev)
            if not n.startswith("/l2/"):
                assert any("not selected" in e["message"] for e in ev), ev
        dst, rep, _ = swap(resnet, "r.excl.onnx", "--exclude", "stem|down")
        ops = Counter(n.op_type for n in onnx.load(dst).graph.node)
        assert ops["BatchNormalization"] == 2 and ops["InstanceNormalization"] == 4, ops
        # selection by output name as well as node name
        dst, rep, _ = swap(resnet, "r.byout.onnx", "--only", "c2.1/BatchNormalization_output_0$")
        assert Counter(n.op_type for n in onnx.load(dst).graph.node)["BatchNormalization"] == 4

    @case
    def no_batchnorm():
        src = os.path.join(MODELS, "layernorm_block.onnx")
        dst = os.path.join(WORK, "ln.out.onnx")
        p = run("swap-norm", src, "-o", dst, check=False)
        assert p.returncode == 0, p.stderr
        assert "no BatchNormalization" in p.stderr and "nothing to swap" in p.stderr, p.stderr
        m0, m1 = onnx.load(src), onnx.load(dst)
        assert [n.op_type for n in m0.graph.node] == [n.op_type for n in m1.graph.node]
        # a model that imports no default-domain opset at all (only a training domain) has no BN either
        from onnx import helper, TensorProto
        node = helper.make_node("Momentum", ["r", "t", "x", "g", "v"], ["x2", "v2"], domain="ai.onnx.preview.training",
                                alpha=0.9, beta=0.1, mode="standard", norm_coefficient=0.0)
        ins = [helper.make_tensor_value_info("r", TensorProto.FLOAT, []),
               helper.make_tensor_value_info("t", TensorProto.INT64, [])] + \
              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("x", "g", "v")]
        outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("x2", "v2")]
        g = helper.make_graph([node], "momentum", ins, outs)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("ai.onnx.preview.training", 1)])
        src = os.path.join(WORK, "training_only.onnx")
        onnx.save(m, src)
        p = run("swap-norm", src, "-o", os.path.join(WORK, "training_only.out.onnx"), check=False)
        assert p.returncode == 0 and "no BatchNormalization" in p.stderr, (p.returncode, p.stderr)

    @case
    def bad_values():
        out = os.path.join(WORK, "bad.onnx")
        for args, text in ((("--to", "batch"), "--to takes group, instance or layer"),
                           (("--form", "native"), "--form takes auto, op or decomposed"),
                           (("--groups", "0"), "--groups takes a whole number"),
                           (("--groups", "x"), "--groups takes a whole number"),
                           (("--to", "instance", "--groups", "8"), "--groups applies to --to group only"),
                           (("--only", "(unclosed"), "is not a valid regular expression"),
                           (("--frobnicate",), "unknown option")):
            p = run("swap-norm", resnet, "-o", out, *args, check=False)
            assert p.returncode == 2 and text in p.stderr, (args, p.returncode, p.stderr)
            assert not os.path.exists(out)
        p = run("swap-norm", resnet, check=False)
        assert p.returncode == 2 and "no output given" in p.stderr
        p = run("swap-norm", resnet, "-o", resnet, check=False)
        assert p.returncode == 2 and "refusing to overwrite the model's own input file" in p.stderr and "--force" in p.stderr
        p = run("swap-norm", resnet, "-o", os.path.join(WORK, "no", "such", "dir", "x.onnx"), check=False)
        assert p.returncode == 2 and "onnxc:" in p.stderr, p.stderr
        p = run("swap-norm", os.path.join(WORK, "missing.onnx"), "-o", out, check=False)
        assert p.returncode == 2
        p = run("swap-norm", "--help")
        assert "--to KIND" in p.stdout

    @case
    def set_by_name_is_the_flag():
        # --set swap-norm.NAME=VALUE is the flag: the same file byte for byte, with the groups the rule gives for 16
        by_flag, _, _ = swap(resnet, "r.flag16.onnx", "--groups", "16", "--form", "decomposed", "--only", "l2")
        by_name, _, _ = swap(resnet, "r.set16.onnx", "--set", "swap-norm.groups=16", "--set",
                             "swap-norm.form=decomposed", "--set", "swap-norm.only=l2")
        assert sha(by_flag) == sha(by_name)
        m0, m1 = onnx.load(resnet), onnx.load(by_name)
        assert sum(n.op_type == "BatchNormalization" for n in m1.graph.node) == 3  # the stem and l1's left
        l2 = onnx.load(resnet)
        del l2.graph.node[:]
        l2.graph.node.extend(n for n in m0.graph.node if n.op_type != "BatchNormalization" or "/l2/" in n.name)
        check_decomposed(l2, m1, "group", 16)

    @case
    def list_passes_and_bad_set():
        p = run("swap-norm", "--list-passes")
        line = next(x for x in p.stdout.splitlines() if x.split()[:1] == ["swap-norm.groups"])
        assert "default 32" in line and "int 1.." in line, line
        out = os.path.join(WORK, "bad.onnx")
        for args, text in ((("--set", "swap-norm.to=batch"), "swap-norm.to takes group, instance or layer, not 'batch'"),
                           (("--set", "swap-norm.groups=x"), "swap-norm.groups takes a whole number"),
                           (("--set", "passes=fold-bn"), "--set passes is not accepted here"),
                           (("--set", "swap-norm.groups=8", "--to", "layer"),
                            "swap-norm.groups applies to --to group only (--to layer fixes the group count)"),
                           (("--to", "instance", "--set", "swap-norm.groups=8"),
                            "swap-norm.groups applies to --to group only")):
            p = run("swap-norm", resnet, "-o", out, *args, check=False)
            lines = p.stderr.splitlines()
            assert p.returncode == 2 and len(lines) == 1 and text in lines[0], (args, p.returncode, p.stderr)
            assert not os.path.exists(out)

    @case
    def skipped_bns_say_why():
        # training_mode=1 with unused statistics outputs: swapped (the note says so); running_mean output used:
        # skipped; scale from a graph input: skipped. Every BN appears in the report.
        ini, nm = bn_inits(4)
        ini2, nm2 = bn_inits(4, 1, "s_")
        ini3, nm3 = bn_inits(4, 2, "g_")
        nodes = [
            helper.make_node("BatchNormalization", ["x"] + nm, ["a"], name="train_bn", training_mode=1),
            helper.make_node("BatchNormalization", ["a"] + nm2, ["b", "rm", "rv"], name="stats_bn",
                             training_mode=1),
            helper.make_node("BatchNormalization", ["b", "scale_in"] + nm3[1:], ["z"], name="input_bn"),
        ]
        src = os.path.join(WORK, "skips.onnx")
        make_old_model(src, 15, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3]),
                                        helper.make_tensor_value_info("scale_in", TensorProto.FLOAT, [4])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, None),
                        helper.make_tensor_value_info("rm", TensorProto.FLOAT, None)], ini + ini2 + ini3, ir=8)
        dst, rep, _ = swap(src, "skips.out.onnx")
        ev = {e["node"]: e for e in rep["events"] if e["node"]}
        assert ev["'train_bn' (BatchNormalization)"]["kind"] == "changed"
        assert "training mode" in ev["'train_bn' (BatchNormalization)"]["message"]
        assert ev["'stats_bn' (BatchNormalization)"]["kind"] == "skipped"
        assert "running-statistics output 'rm' is used" in ev["'stats_bn' (BatchNormalization)"]["message"]
        assert ev["'input_bn' (BatchNormalization)"]["kind"] == "skipped"
        assert "is not a constant" in ev["'input_bn' (BatchNormalization)"]["message"]
        # every selected BN skipped: exit 1, nothing written
        out = os.path.join(WORK, "skips.none.onnx")
        p = run("swap-norm", src, "-o", out, "--only", "stats|input", check=False)
        assert p.returncode == 1 and "none of the 3 BatchNormalization nodes was swapped" in p.stderr, p.stderr
        assert not os.path.exists(out)

    @case
    def single_value_groups_warned():
        # linear_bn1d: BatchNorm1d on [N, 16] and [N, 8]; 32 groups fall back to one channel per group, and a
        # group of one value normalizes to 0: the layer's output would be the constant beta. Say so.
        src = os.path.join(MODELS, "linear_bn1d.onnx")
        _, rep, _ = swap(src, "lin.out.onnx")
        const = [e for e in rep["events"] if "output is the constant B" in e["message"]]
        assert len(const) == 2, rep["events"]
        _, rep, _ = swap(src, "lin.layer.onnx", "--to", "layer")
        assert not [e for e in rep["events"] if "constant B" in e["message"]]

    @case
    def subgraph_bn_reported():
        # a BN inside an If branch is reported as skipped (only the main graph is rewritten), and the
        # parameters it shares with the swapped outer BN stay in the model
        c = 4
        ini = [numpy_helper.from_array(np.full(c, v, np.float32), n) for v, n in ((1.5, "g"), (0.1, "b"),
                                                                                 (0.2, "m"), (0.9, "v"))]
        inner = helper.make_graph([helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y1"],
                                                    name="inner_bn")], "then", [],
                                  [helper.make_tensor_value_info("y1", TensorProto.FLOAT, None)])
        other = helper.make_graph([helper.make_node("Identity", ["x"], ["y2"])], "else", [],
                                  [helper.make_tensor_value_info("y2", TensorProto.FLOAT, None)])
        nodes = [helper.make_node("BatchNormalization", ["x0", "g", "b", "m", "v"], ["x"], name="outer_bn"),
                 helper.make_node("If", ["cond"], ["z"], then_branch=inner, else_branch=other, name="if")]
        src = os.path.join(WORK, "ifbn.onnx")
        make_old_model(src, 13, nodes, [helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["N", 4, 2, 2]),
                                        helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
                       [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 4, 2, 2])], ini, ir=7)
        dst, rep, _ = swap(src, "ifbn.out.onnx")
        ev = {e["node"]: e for e in rep["events"] if e["node"]}
        assert ev["'inner_bn' (BatchNormalization)"]["kind"] == "skipped"
        assert "subgraph of 'if' (If)" in ev["'inner_bn' (BatchNormalization)"]["message"]
        assert ev["'outer_bn' (BatchNormalization)"]["kind"] == "changed"
        m = onnx.load(dst)
        onnx.checker.check_model(m)
        assert {"g", "b", "m", "v"} <= set(inits(m)), "parameters the subgraph reads were removed"

    @case
    def human_report():
        p = run("swap-norm", resnet, "-o", os.path.join(WORK, "r.human.onnx"))
        err = p.stderr
        assert "swapped to Reshape/InstanceNormalization/Reshape/Mul/Add (group norm, 32 groups of 1 channel)" in err
        assert "running mean and variance of 6 swapped layers dropped" in err
        assert "swapped 6 of 6 BatchNormalization nodes" in err and "wrote " in err
        p = run("swap-norm", resnet, "--dry-run", "--to", "layer")
        assert "1 group: statistics over C and the spatial dims" in p.stderr


# ------------------------------------------------------------------------------------------------ compare

def compare_cases():
    @case
    def compare_reports_drift():
        for name in ("resnet_like", "mobilenetv2_like", "detector_small"):
            src = os.path.join(MODELS, name + ".onnx")
            dst, _, _ = swap(src, name + ".swapped.onnx")
            p = run("compare", src, dst, "--json", "--per-node", "--shape", "N=2", check=False)
            assert p.returncode == 1, (p.returncode, p.stderr)  # drift beyond tolerance is expected
            c = json.loads(p.stdout)["comparison"]
            assert not c["within_tolerance"]
            first_bn = bn_nodes(onnx.load(src))[0]
            fd = c["per_node"]["first_divergence"]
            assert fd["name"] == first_bn["y"] and fd["op_a"] == "BatchNormalization", fd
            for o in c["outputs"]:
                print(f"      {name}: output {o['name']}: NMSE {o['nmse']:.3g}, cosine {o['cosine']:.3f}, "
                      f"max abs {o['max_abs']:.3g} (drift before fine-tuning)")


GROUPS = {"models": model_cases, "truth": truth_cases, "formula": formula_cases, "opset": opset_cases,
          "cli": cli_cases, "compare": compare_cases}
GROUPS[GROUP]()
print(f"{GROUP}: {passed} passed, {len(failures)} failed" + (f": {', '.join(failures)}" if failures else ""))
sys.exit(1 if failures else 0)
