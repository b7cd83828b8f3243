#!/usr/bin/python3
"""The BN-folding family of passes on regression models (make_models.py): for each model, `onnxc optimize`
must give the graph the case expects (asserted on the ONNX file with Debian's onnx, independent of onnxc), pass
onnx.checker, keep dynamic dims, and give the same outputs as the original when both run on the same inputs.
usage: test_passes.py ONNXC MODELS_DIR WORK_DIR"""
import json
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import numpy_helper

import make_models  # beside this script: the bytes it patched into bn_name_invalid_utf8.onnx

ONNXC, MODELS, WORK = sys.argv[1:4]
REPO_MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
os.environ["ONNXC_CHECK_PASSES"] = "1"  # verify the IR's consistency after every pass, in release builds too
os.makedirs(WORK, exist_ok=True)
failures = []
passed = 0


def run(*args, check=True):
    p = subprocess.run([ONNXC, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"onnxc {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def ops(m):
    return Counter(n.op_type for n in m.graph.node)


def inits(m):
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def node(m, name):
    return next(n for n in m.graph.node if n.name == name)


def outputs_of(model, tag, shape_args):
    d = os.path.join(WORK, tag)
    os.makedirs(d, exist_ok=True)
    run("run", model, "--seed", "7", "--output-dir", d, *shape_args)
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".npy")}


def optimize(name, *extra, shape=("--shape", "N=2")):
    src = os.path.join(MODELS, name + ".onnx")
    dst = os.path.join(WORK, name + ".opt.onnx")
    p = run("optimize", src, "-o", dst, "--json", *extra)
    report = json.loads(p.stdout)
    m0, m1 = onnx.load(src), onnx.load(dst)
    onnx.checker.check_model(m1)
    # the interface is unchanged: names, types and dims (symbolic ones by name)
    assert [i.name for i in m1.graph.input] == [i.name for i in m0.graph.input] or m0.ir_version <= 3
    assert [o.name for o in m1.graph.output] == [o.name for o in m0.graph.output]
    for a, b in zip(m0.graph.input, m1.graph.input):
        if a.name == b.name:
            assert a.type == b.type, f"input {a.name} type changed"
    return m0, m1, report, src, dst


def same_outputs(src, dst, shape_args=("--shape", "N=2"), limit=1e-10):
    a = outputs_of(src, os.path.basename(src) + ".ref", list(shape_args))
    b = outputs_of(dst, os.path.basename(dst) + ".got", list(shape_args))
    assert a.keys() == b.keys(), (a.keys(), b.keys())
    for k in a:
        x, y = a[k].astype(np.float64), b[k].astype(np.float64)
        assert x.shape == y.shape, (k, x.shape, y.shape)
        nmse = ((x - y) ** 2).sum() / max((x ** 2).sum(), 1e-300)
        assert nmse <= limit, f"output {k}: nmse {nmse:.3g} > {limit}"


def events(report, kind=None):
    return [e for e in report["events"] if kind is None or e["kind"] == kind]


def case(fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok   {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every case, then fail
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")


@case
def conv_without_bias_gets_one():
    m0, m1, r, s, d = optimize("conv_nobias_bn")
    assert ops(m1) == {"Conv": 1}, ops(m1)
    conv = m1.graph.node[0]
    assert len(conv.input) == 3 and conv.output[0] == "y"
    # the folded bias is beta - mean * scale / sqrt(var + eps), computed here in numpy (float64)
    i0, i1 = inits(m0), inits(m1)
    s_ = i0["bn.scale"].astype(np.float64) / np.sqrt(i0["bn.var"].astype(np.float64) + 1e-5)
    np.testing.assert_allclose(i1[conv.input[2]], i0["bn.B"] - i0["bn.mean"] * s_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(i1[conv.input[1]], i0["w"] * s_[:, None, None, None], rtol=1e-6, atol=1e-7)
    same_outputs(s, d)


@case
def shared_weight_is_cloned():
    m0, m1, r, s, d = optimize("shared_weight_two_bn")
    assert ops(m1) == {"Conv": 2}, ops(m1)
    w1, w2 = node(m1, "conv1").input[1], node(m1, "conv2").input[1]
    assert w1 != w2, "both convs still share one weight after folding different BNs"
    same_outputs(s, d)


@case
def conv_output_also_feeding_add_is_not_folded():
    m0, m1, r, s, d = optimize("conv_fanout_add")
    conv = node(m1, "conv")
    np.testing.assert_array_equal(inits(m1)[conv.input[1]], inits(m0)["w"])  # weight untouched
    assert ops(m1) == {"Conv": 1, "BatchNormalization": 1, "Add": 1}, ops(m1)  # the BN stays one node
    assert any("Add_7" in e["message"] for e in events(r)), "the report does not name the other consumer"
    same_outputs(s, d)


@case
def bn_mul_add_on_request():
    m0, m1, r, s, d = optimize("conv_fanout_add", "--bn-mul-add")
    assert ops(m1) == {"Conv": 1, "Mul": 1, "Add": 2}, ops(m1)
    same_outputs(s, d)
    # --keep-bn (the old flag) is the default now
    m0, m1, r, s, d = optimize("conv_fanout_add", "--keep-bn")
    assert ops(m1)["BatchNormalization"] == 1


@case
def set_by_name_is_the_flag():
    # --set fold-bn.mul-add=true is --bn-mul-add: the same file, byte for byte
    _, m1, _, _, d = optimize("conv_fanout_add", "--set", "fold-bn.mul-add=true")
    assert ops(m1)["Mul"] == 1 and "BatchNormalization" not in ops(m1)
    by_name = open(d, "rb").read()
    _, _, _, _, d = optimize("conv_fanout_add", "--bn-mul-add")
    assert open(d, "rb").read() == by_name
    # the pipeline's options by name too: passes and stop-after
    m0, m1, r, s, d = optimize("conv1d_conv3d_depthwise_bn", "--set", "stop-after=1", "--set", "passes=fold-bn")
    assert ops(m1)["BatchNormalization"] == 2 and r["changes"] == 1 and r["stopped_by_budget"]


@case
def list_passes_shows_options_and_defaults():
    p = run("optimize", "--list-passes")
    lines = p.stdout.splitlines()
    for name in ("cleanup", "const-fold", "fold-bn", "fold-affine", "drop-bias-before-bn", "swap-norm"):
        assert any(line.split()[:1] == [name] for line in lines), (name, p.stdout)
    want = {"swap-norm.groups": "default 32", "swap-norm.to": "default group", "fold-bn.mul-add": "default false",
            "stop-after": "default 0"}
    for name, dflt in want.items():
        line = next((x for x in lines if x.split()[:1] == [name]), None)
        assert line and dflt in line, (name, line)
    assert "group|instance|layer" in next(x for x in lines if x.split()[:1] == ["swap-norm.to"])


@case
def bad_set_is_one_line_exit_2():
    src = os.path.join(MODELS, "conv_nobias_bn.onnx")
    out = os.path.join(WORK, "never.onnx")
    for args, needles in (
            (("--set", "swap-norm.groups=0"), ("swap-norm.groups takes a whole number from 1 to", "'0'")),
            (("--set", "fold-bn.mul-add=perhaps"), ("fold-bn.mul-add takes true or false", "'perhaps'")),
            (("--set", "swap-norm.to=batch"), ("group, instance or layer", "'batch'")),
            (("--set", "swap-norm.only=(x"), ("swap-norm.only: '(x' is not a valid regular expression",)),
            (("--set", "swap-norm.group=8"), ("unknown option 'swap-norm.group'", "did you mean 'swap-norm.groups'")),
            (("--set", "fold-bn.mul-add"), ("--set takes NAME=VALUE",)),
            (("--stop-after", "-1"), ("--stop-after takes a whole number from 0",)),
            (("--passes", "fold-bn,nope"), ("--passes: unknown pass 'nope'",))):
        p = run("optimize", src, "-o", out, *args, check=False)
        lines = p.stderr.splitlines()
        assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("onnxc: optimize: "), (args, p.stderr)
        assert all(n in lines[0] for n in needles), (args, needles, lines[0])
        assert not os.path.exists(out)


@case
def json_report_with_invalid_utf8_name_parses():
    src = os.path.join(MODELS, "bn_name_invalid_utf8.onnx")
    p = subprocess.run([ONNXC, "optimize", src, "--dry-run", "--json"], capture_output=True)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)  # bytes: decoded as strict UTF-8 first
    # each byte that starts no valid sequence becomes U+FFFD, as Python's own "replace" decoding does
    want = make_models.INVALID_UTF8_NAME.decode("utf-8", "replace")
    assert want == "bn\ufffd\ufffd\ufffd(xx"
    assert any(e["node"] and want in e["node"] for e in events(report)), events(report)


@case
def training_mode_bn_is_not_folded():
    m0, m1, r, s, d = optimize("bn_training_mode", shape=())
    assert ops(m1)["BatchNormalization"] == 1
    assert any("training_mode" in e["message"] for e in events(r, "skipped"))
    same_outputs(s, d, shape_args=())


@case
def constant_node_params_fold():
    m0, m1, r, s, d = optimize("bn_constant_params")
    assert ops(m1) == {"Conv": 1}, ops(m1)
    same_outputs(s, d)


@case
def graph_input_params_do_not_fold():
    m0, m1, r, s, d = optimize("bn_params_graph_inputs")
    assert ops(m1) == {"Conv": 1, "BatchNormalization": 1}, ops(m1)
    assert len(node(m1, "conv").input) == 3  # the bias stays too: the mean is overridable
    same_outputs(s, d)


@case
def gemm_transb_alpha_beta():
    m0, m1, r, s, d = optimize("gemm_transb_beta_bn")
    assert ops(m1) == {"Gemm": 1}, ops(m1)
    g = m1.graph.node[0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in g.attribute}
    assert attrs.get("transB") == 1 and abs(attrs.get("alpha") - 1.5) < 1e-7
    same_outputs(s, d)


@case
def grouped_convtranspose():
    m0, m1, r, s, d = optimize("grouped_convtranspose_bn")
    assert ops(m1) == {"ConvTranspose": 1}, ops(m1)
    # W [C_in=4, C_out/g=3, k, k], group 2: input channel ci scales by s[(ci // 2) * 3 + j] along axis 1
    i0, i1 = inits(m0), inits(m1)
    sc = i0["bn.scale"].astype(np.float64) / np.sqrt(i0["bn.var"].astype(np.float64) + 1e-5)
    want = i0["w"].astype(np.float64).copy()
    for ci in range(4):
        for j in range(3):
            want[ci, j] *= sc[(ci // 2) * 3 + j]
    np.testing.assert_allclose(i1[m1.graph.node[0].input[1]], want, rtol=1e-6, atol=1e-7)
    same_outputs(s, d)


@case
def opset7_spatial1_folds_spatial0_does_not():
    m0, m1, r, s, d = optimize("opset7_bn_spatial", shape=())
    assert ops(m1) == {"Conv": 1}, ops(m1)
    assert m1.ir_version == 3 and m1.opset_import[0].version == 7
    same_outputs(s, d, shape_args=())
    m0, m1, r, s, d = optimize("opset7_bn_spatial0", shape=())
    assert ops(m1)["BatchNormalization"] == 1
    assert any("spatial" in e["message"] for e in events(r, "skipped"))
    same_outputs(s, d, shape_args=())


@case
def opset9_declared_statistics_outputs_mean_training():
    m0, m1, r, s, d = optimize("opset9_bn_stats_outputs", shape=())
    assert ops(m1) == {"Conv": 1, "BatchNormalization": 1}, ops(m1)
    assert any("training" in e["message"] and "bn.running_mean" in e["message"] for e in events(r, "skipped")), \
        events(r, "skipped")
    same_outputs(s, d, shape_args=())
    m0, m1, r, s, d = optimize("opset9_bn_empty_outputs", shape=())
    assert ops(m1) == {"Conv": 1}, ops(m1)
    same_outputs(s, d, shape_args=())


@case
def fp16_large_variance_folds_in_range():
    m0, m1, r, s, d = optimize("fp16_large_var")
    assert ops(m1) == {"Conv": 1}, ops(m1)
    i0, i1 = inits(m0), inits(m1)
    conv = m1.graph.node[0]
    w, b = i1[conv.input[1]], i1[conv.input[2]]
    assert w.dtype == np.float16 and b.dtype == np.float16
    sc = i0["bn.scale"].astype(np.float64) / np.sqrt(i0["bn.var"].astype(np.float64) + 1e-5)
    np.testing.assert_allclose(w.astype(np.float64), i0["w"].astype(np.float64) * sc[:, None, None, None],
                               rtol=1e-3)
    np.testing.assert_allclose(b.astype(np.float64),
                               i0["bn.B"].astype(np.float64) - i0["bn.mean"].astype(np.float64) * sc, rtol=1e-3,
                               atol=1e-4)
    assert np.isfinite(w).all() and np.isfinite(b).all()


@case
def fp16_overflow_is_skipped_not_inf():
    m0, m1, r, s, d = optimize("fp16_overflow")
    assert ops(m1)["BatchNormalization"] == 1
    assert any("float16" in e["message"] for e in events(r, "skipped"))
    assert all(np.isfinite(v.astype(np.float64)).all() for v in inits(m1).values())


@case
def matmul_becomes_gemm():
    m0, m1, r, s, d = optimize("matmul_bn")
    assert ops(m1) == {"Gemm": 1}, ops(m1)
    same_outputs(s, d)


@case
def frozen_bn_mul_add_sub_div():
    m0, m1, r, s, d = optimize("frozen_bn_mul_add")
    assert ops(m1) == {"Conv": 1}, ops(m1)
    same_outputs(s, d)


@case
def bias_before_training_bn_is_dropped():
    m0, m1, r, s, d = optimize("bias_before_training_bn", shape=())
    assert ops(m1) == {"Conv": 1, "BatchNormalization": 1}, ops(m1)
    assert len(node(m1, "conv").input) == 2, "the conv bias was not removed"
    i0, i1 = inits(m0), inits(m1)
    np.testing.assert_allclose(i1[node(m1, "bn").input[3]], i0["bn.mean"] - i0["b"], rtol=1e-6, atol=1e-7)
    same_outputs(s, d, shape_args=())


@case
def identity_and_dropout_removed_then_folded():
    m0, m1, r, s, d = optimize("identity_between_conv_bn")
    assert ops(m1) == {"Conv": 1}, ops(m1)
    same_outputs(s, d)


@case
def ai_onnx_domain_is_the_default_domain():
    src = os.path.join(MODELS, "ai_onnx_domain_chain.onnx")
    dst = os.path.join(WORK, "ai_onnx_domain_chain.opt.onnx")
    run("optimize", src, "-o", dst)
    assert ops(onnx.load(dst)) == {"Conv": 1}, ops(onnx.load(dst))
    same_outputs(src, dst)


@case
def conv1d_conv3d_depthwise():
    m0, m1, r, s, d = optimize("conv1d_conv3d_depthwise_bn")
    assert ops(m1) == {"Conv": 3}, ops(m1)
    same_outputs(s, d)


@case
def lone_bn_stays_one_node():
    m0, m1, r, s, d = optimize("bn_after_relu")
    assert ops(m1) == {"Relu": 1, "BatchNormalization": 1}, ops(m1)
    assert any("kept as one BatchNormalization" in e["message"] for e in events(r, "skipped")), events(r)
    m0, m1, r, s, d = optimize("bn_after_relu", "--bn-mul-add")
    assert ops(m1) == {"Relu": 1, "Mul": 1, "Add": 1}, ops(m1)
    assert m1.graph.node[-1].output[0] == "y"
    same_outputs(s, d)


@case
def convtranspose_add_bn_needs_a_second_round():
    m0, m1, r, s, d = optimize("convtranspose_add_bn")
    assert ops(m1) == {"ConvTranspose": 1}, ops(m1)
    assert r["rounds"] >= 2, r["rounds"]
    assert any(e["pass"] == "fold-bn" and e["kind"] == "changed" for e in events(r)), events(r)
    # the skip of round 1 ("'Add' is not a Conv") is not left in the report beside the fold that followed
    assert not any(e["pass"] == "fold-bn" and e["kind"] == "skipped" for e in events(r)), events(r)
    same_outputs(s, d, limit=1e-9)
    # one round (a pass list given once, as before the fixed point) leaves it: what the rounds are for
    m0, m1, r, s, d = optimize("convtranspose_add_bn", "--passes", "fold-bn,fold-affine,drop-bias-before-bn",
                               "--stop-after", "2")
    assert ops(m1)["BatchNormalization"] == 1, ops(m1)


@case
def round_bound_is_reported():
    m0, m1, r, s, d = optimize("deep_add_bn_chain")
    assert r["rounds"] == 8, r["rounds"]
    warn = [e for e in events(r, "warning") if e["pass"] == "pipeline"]
    assert len(warn) == 1 and "8 rounds" in warn[0]["message"], events(r, "warning")
    assert 0 < ops(m1)["BatchNormalization"] < 10, ops(m1)
    same_outputs(s, d, limit=1e-9)
    # a second optimize finishes the chain: one ConvTranspose
    d2 = os.path.join(WORK, "deep_add_bn_chain.opt2.onnx")
    run("optimize", d, "-o", d2)
    assert ops(onnx.load(d2)) == {"ConvTranspose": 1}, ops(onnx.load(d2))
    same_outputs(s, d2, limit=1e-9)


@case
def bn_before_unpadded_grouped_conv_folds_forward():
    m0, m1, r, s, d = optimize("bn_input_grouped_conv")
    assert ops(m1) == {"Conv": 2}, ops(m1)
    conv, other = node(m1, "conv"), node(m1, "conv_other")
    assert conv.input[0] == "x" and conv.input[1] != other.input[1], "the shared weight was edited in place"
    i0, i1 = inits(m0), inits(m1)
    np.testing.assert_array_equal(i1[other.input[1]], i0["w"])
    # expected weights and bias from numpy: W'[m, j] = W[m, j] * s[c], b' = b + sum W * t, c = group(m)*2 + j
    s_ = i0["bn.scale"].astype(np.float64) / np.sqrt(i0["bn.var"].astype(np.float64) + 1e-5)
    t_ = i0["bn.B"] - i0["bn.mean"] * s_
    w = i0["w"].astype(np.float64)
    cidx = np.array([[(m // 3) * 2 + j for j in range(2)] for m in range(6)])
    np.testing.assert_allclose(i1[conv.input[1]], w * s_[cidx][:, :, None, None], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(i1[conv.input[2]], i0["b"] + (w * t_[cidx][:, :, None, None]).sum(axis=(1, 2, 3)),
                               rtol=1e-5, atol=1e-6)
    same_outputs(s, d)


@case
def mul_add_before_conv_fold_forward():
    m0, m1, r, s, d = optimize("mul_add_before_conv")
    assert ops(m1) == {"Conv": 2, "Mul": 1}, ops(m1)
    assert node(m1, "conv").input[0] == "x" and node(m1, "widen").input[0] == "x1"
    i0, i1 = inits(m0), inits(m1)
    k, t, w = (i0[n].astype(np.float64) for n in ("k", "t", "w"))
    conv = node(m1, "conv")
    np.testing.assert_allclose(i1[conv.input[1]], w * k.reshape(1, 3, 1, 1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(i1[conv.input[2]], i0["b"] + (w * t.reshape(1, 3, 1, 1)).sum(axis=(1, 2, 3)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(i1[node(m1, "conv1").input[1]], i0["w"])  # the shared weight was cloned
    same_outputs(s, d)


@case
def bn_before_padded_conv_stays_unless_shift_is_zero():
    m0, m1, r, s, d = optimize("bn_padded_conv")
    assert ops(m1) == {"Relu": 1, "BatchNormalization": 1, "Conv": 1}, ops(m1)
    assert any("pads its input" in e["message"] for e in events(r, "skipped")), events(r)
    same_outputs(s, d)
    m0, m1, r, s, d = optimize("bn_zero_shift_padded_conv")
    assert ops(m1) == {"Relu": 1, "Conv": 1}, ops(m1)
    same_outputs(s, d)


@case
def bn_after_concat_mul_add_knows_the_rank():
    m0, m1, r, s, d = optimize("bn_after_concat", "--bn-mul-add")
    assert ops(m1) == {"Concat": 1, "Mul": 1, "Add": 1}, ops(m1)
    assert inits(m1)[node(m1, "bn_mul").input[1]].shape == (5, 1, 1)
    same_outputs(s, d)


@case
def invalid_models_are_refused_before_rewriting():
    for name, needle, check_says in (
            ("no_opset_import", "no opset_import", "opset import missing"),
            ("cycle", "has a cycle through node", "cycle among 2 nodes"),
            ("duplicate_attribute", "node 'conv' (Conv): attribute 'group' is given more than once",
             "node 'conv' (Conv): attribute 'group' is given more than once")):
        src = os.path.join(MODELS, name + ".onnx")
        out = os.path.join(WORK, name + ".never.onnx")
        for cmd in (("optimize",), ("swap-norm",)):
            p = run(*cmd, src, "-o", out, check=False)
            lines = p.stderr.strip().splitlines()
            assert p.returncode == 2 and len(lines) == 1 and needle in lines[0], (name, cmd, p.returncode, p.stderr)
            assert not os.path.exists(out), (name, cmd)
        # check names the same problem
        p = run("check", src, check=False)
        assert p.returncode != 0 and check_says in p.stdout + p.stderr, (name, p.stdout, p.stderr)


@case
def graph_output_of_conv_blocks_fold():
    m0, m1, r, s, d = optimize("conv_output_is_graph_output")
    conv = node(m1, "conv")
    np.testing.assert_array_equal(inits(m1)[conv.input[1]], inits(m0)["w"])
    same_outputs(s, d)


@case
def static_shape_chain_is_folded():
    m0, m1, r, s, d = optimize("shape_chain_static", shape=())
    assert ops(m1) == {"Reshape": 1}, ops(m1)
    shp = inits(m1)[m1.graph.node[0].input[1]]
    assert shp.tolist() == [-1, 6], shp
    same_outputs(s, d, shape_args=())


@case
def static_dims_fold_while_the_batch_stays_symbolic():
    # x is [N, 6, 2] and the chain reads dim 1 (static): the target becomes the constant [-1, 6]
    m0, m1, r, s, d = optimize("shape_chain_dynamic")
    assert ops(m1) == {"Reshape": 1}, ops(m1)
    assert inits(m1)[m1.graph.node[0].input[1]].tolist() == [-1, 6]
    assert m1.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert any(e["pass"] == "fold-shapes" and e["kind"] == "changed" for e in events(r)), events(r)
    same_outputs(s, d)
    same_outputs(s, d, shape_args=("--shape", "N=5"))


@case
def symbolic_dim_is_never_frozen():
    # the chain reads the batch dim N: nothing about it may become a constant
    m0, m1, r, s, d = optimize("shape_chain_batch")
    assert ops(m1)["Shape"] == 1 and ops(m1)["Reshape"] == 1, ops(m1)
    assert m1.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    same_outputs(s, d)
    same_outputs(s, d, shape_args=("--shape", "N=3"))


@case
def noops_are_removed():
    m0, m1, r, s, d = optimize("noops")
    assert ops(m1) == {"Slice": 1, "Transpose": 1}, ops(m1)  # the reversing Slice and the real Transpose stay
    assert node(m1, "reverse").input[0] == "x" and m1.graph.node[-1].output[0] == "y"
    removed = {e["node_name"] for e in events(r, "changed") if e["pass"] == "remove-noops"}
    assert removed == {"reshape", "cast", "transpose", "slice", "pad", "expand", "concat", "split"}, removed
    same_outputs(s, d)


@case
def transpose_and_reshape_chains_merge():
    m0, m1, r, s, d = optimize("transpose_reshape_chains")
    # t1 o t2 is one Transpose with perm [0,3,2,1]; u1 o u2 is the identity, so it goes; r1 o r2 is one Reshape
    assert ops(m1) == {"Transpose": 1, "Reshape": 1, "Relu": 1}, ops(m1)
    t = next(n for n in m1.graph.node if n.op_type == "Transpose")
    perm = list([a for a in t.attribute if a.name == "perm"][0].ints)
    a = np.arange(24).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(np.transpose(a, perm), np.transpose(np.transpose(a, [0, 2, 3, 1]), [0, 2, 1, 3]))
    rs = next(n for n in m1.graph.node if n.op_type == "Reshape")
    assert rs.input[0] == "x" and inits(m1)[rs.input[1]].tolist() == [-1, 6, 4], rs
    same_outputs(s, d)


@case
def zero_pad_folds_into_conv_and_avgpool():
    m0, m1, r, s, d = optimize("pad_into_conv_pool")
    assert ops(m1) == {"Conv": 2, "AveragePool": 1, "Pad": 2, "MaxPool": 1}, ops(m1)
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    conv, avg = node(m1, "conv"), node(m1, "avg")
    assert conv.input[0] == "x" and attrs(conv)["pads"] == [1, 3, 1, 1], attrs(conv)
    assert attrs(avg)["pads"] == [1, 1, 1, 1] and attrs(avg)["count_include_pad"] == 1, attrs(avg)
    assert {n.name for n in m1.graph.node if n.op_type == "Pad"} == {"pad_max", "pad_reflect"}
    same_outputs(s, d)


@case
def common_subexpressions_are_merged():
    m0, m1, r, s, d = optimize("common_subexpressions")
    assert ops(m1) == {"Relu": 1, "Add": 1, "Mul": 2, "Sum": 1}, ops(m1)
    assert len(m1.graph.initializer) == 1, [t.name for t in m1.graph.initializer]
    mul1 = node(m1, "mul1")
    assert mul1.input[0] == mul1.input[1], mul1  # a1 * a2 became a1 * a1
    same_outputs(s, d)


@case
def stop_after_bisects():
    m0, m1, r, s, d = optimize("conv1d_conv3d_depthwise_bn", "--stop-after", "1", "--passes", "fold-bn")
    assert ops(m1)["BatchNormalization"] == 2 and r["changes"] == 1 and r["stopped_by_budget"]


@case
def bad_usage_is_refused_cleanly():
    src = os.path.join(MODELS, "conv_nobias_bn.onnx")
    before = open(src, "rb").read()
    out = os.path.join(WORK, "never.onnx")
    p = run("optimize", src, "-o", out, "--passes", "fold-bn,no-such-pass", check=False)
    assert p.returncode == 2 and "no-such-pass" in p.stderr and not os.path.exists(out), p.stderr
    p = run("optimize", src, "-o", src, check=False)
    assert p.returncode == 2 and "input" in p.stderr, p.stderr
    p = run("optimize", src, "-o", "/nonexistent-dir/out.onnx", check=False)
    assert p.returncode == 2 and "/nonexistent-dir" in p.stderr, p.stderr
    assert open(src, "rb").read() == before, "the input model changed"
    leftovers = [f for f in os.listdir(MODELS) if ".tmp" in f]
    assert not leftovers, leftovers


@case
def external_data_output():
    src = os.path.join(REPO_MODELS_DIR, "detector_small.onnx")
    dst = os.path.join(WORK, "detector.ext.onnx")
    run("optimize", src, "-o", dst, "--external-data", "100", "--verify")
    assert os.path.exists(dst + ".data"), os.listdir(WORK)
    raw = onnx.load(dst, load_external_data=False)
    big = [t for t in raw.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert big and all(e.key != "location" or e.value == "detector.ext.onnx.data" for t in big for e in t.external_data)
    onnx.checker.check_model(dst)  # by path, so the external data is checked too
    same_outputs(src, dst)


# The PyTorch-exported models (BN kept): after `onnxc optimize` no BatchNormalization is left, onnx.checker
# accepts the result, and it still gives PyTorch's outputs (models/expected, computed by PyTorch at authoring time).
REPO_MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
manifest = json.load(open(os.path.join(REPO_MODELS, "MANIFEST.json")))
for entry in manifest["models"]:
    if not entry.get("batchnorm_nodes"):
        continue

    def check_model(entry=entry):
        src = os.path.join(REPO_MODELS, entry["file"])
        dst = os.path.join(WORK, entry["name"] + ".opt.onnx")
        run("optimize", src, "-o", dst)
        m1 = onnx.load(dst)
        assert "BatchNormalization" not in ops(m1), ops(m1)
        if entry.get("checker", True):
            onnx.checker.check_model(m1)
        limit = entry["tolerance"]["nmse"]
        for c in entry["cases"]:
            d = os.path.join(REPO_MODELS, c["dir"])
            args = []
            for k, i in enumerate(c["inputs"]):
                args += ["--input", f"{i['name']}={os.path.join(d, f'input_{k}.npy')}"]
            out = os.path.join(WORK, entry["name"] + "." + os.path.basename(c["dir"]))
            os.makedirs(out, exist_ok=True)
            run("run", dst, "--output-dir", out, *args)
            for k, o in enumerate(c["outputs"]):
                want = np.load(os.path.join(d, f"output_{k}.npy")).astype(np.float64)
                got = np.load(os.path.join(out, o["name"] + ".npy")).astype(np.float64)
                assert got.shape == want.shape, (o["name"], got.shape, want.shape)
                nmse = ((got - want) ** 2).sum() / (want ** 2).sum()
                assert nmse <= limit, f"{c['dir']} {o['name']}: nmse {nmse:.3g} > {limit}"

    check_model.__name__ = "pytorch_model_" + entry["name"]
    case(check_model)


print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
