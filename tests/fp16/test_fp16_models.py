#!/usr/bin/python3
"""The float16 / bfloat16 CNN of models/fp16 (models/author_fp16.py) against PyTorch's outputs.

Bound: with r the PyTorch float32 model's logits and ulp_T the spacing of type T at max|r| (float16: 2^(e-10),
bfloat16: 2^(e-7), e = floor(log2 max|r|)), every logit of our float16 / bfloat16 run is within 2 ulp_T of r,
and within 1 ulp_T of PyTorch's float32 arithmetic on the rounded parameters (f16_weights / bf16_weights): the
float32 compute inside each kernel plus one rounding per stored activation stay below that.
Also: 1 and 2 threads give the same bits; `optimize --verify` passes (BatchNormalization folded into the Convs,
stored in the model's own type) and the optimized model stays within the bound; `compare` of the original and
the optimized model passes with the per-type defaults; swap-norm rewrites it and the result runs in
float16; a fold-bn whose folded weights overflow float16 or lose
nonzero values to underflow is refused with the reason; ONNX Runtime (bench/ort_run.js, when node and
onnxruntime-node are present: not in CI) runs the models we write and agrees within the bound.
Usage: test_fp16_models.py ONNXC MODELS_DIR TMP_DIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXC, MODELS, TMP = sys.argv[1], os.path.join(sys.argv[2], "fp16"), sys.argv[3]
EXP = os.path.join(MODELS, "expected")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAILS = []
INPUTS = {"f32": "input=" + os.path.join(EXP, "input.npy"), "f16": "input=" + os.path.join(EXP, "input_f16.npy"),
          "bf16": os.path.join(EXP, "input_bf16.pb")}
MANT = {"f16": 10, "bf16": 7}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def load_any(path):
    if path.endswith(".npy"):
        return np.load(path).astype(np.float32)
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    if t.data_type == TensorProto.BFLOAT16:
        bits = np.frombuffer(t.raw_data, np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(tuple(t.dims))
    return numpy_helper.to_array(t).astype(np.float32)


def run(model, kind, threads, tag):
    out = os.path.join(TMP, tag)
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([ONNXC, "run", model, "--input", INPUTS[kind], "--output-dir", out, "--threads",
                        str(threads), "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        check(False, f"run {model}: {r.stderr.strip()}")
        return None
    f = [x for x in os.listdir(out) if x.startswith("logits.")]
    return load_any(os.path.join(out, f[0])) if f else None


def ulp(kind, x):
    return 2.0 ** (np.floor(np.log2(np.abs(x).max())) - MANT[kind])


def ort_available():
    return shutil.which("node") and os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node"))


def fold_refusal_model(path, w0, scale, dtype=TensorProto.FLOAT16):
    """Conv (1x1, output channel 0's weights w0) -> BatchNormalization in float16 whose BN multiplies channel 0
    by scale (gamma / sqrt(var + eps), var 1, eps 0)."""
    np_t = np.float16
    w = np.array([[[[w0[0]]], [[w0[1]]]], [[[0.25]], [[2.0]]]], np_t)
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
         helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y"], name="bn",
                          epsilon=0.0)],
        "fold_refusal", [helper.make_tensor_value_info("x", dtype, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", dtype, [1, 2, 4, 4])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([scale, 1.0], np_t), "gamma"),
         numpy_helper.from_array(np.zeros(2, np_t), "beta"), numpy_helper.from_array(np.zeros(2, np_t), "mean"),
         numpy_helper.from_array(np.ones(2, np_t), "var")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    os.makedirs(TMP, exist_ok=True)
    r32 = np.load(os.path.join(EXP, "f32", "logits.npy"))
    got = run(os.path.join(MODELS, "cnn_f32.onnx"), "f32", 2, "f32")
    check(got is not None and np.abs(got - r32).max() <= 1e-5, "cnn_f32 equals PyTorch float32 within 1e-5")
    outs = {}
    for kind in ("f16", "bf16"):
        model = os.path.join(MODELS, f"cnn_{kind}.onnx")
        rw = np.load(os.path.join(EXP, f"{kind}_weights", "logits.npy"))
        u = ulp(kind, r32)
        t1 = run(model, kind, 1, f"{kind}_t1")
        t2 = run(model, kind, 2, f"{kind}_t2")
        if t1 is None or t2 is None:
            continue
        outs[kind] = t1
        e32, ew = np.abs(t1 - r32).max(), np.abs(t1 - rw).max()
        check(e32 <= 2 * u, f"cnn_{kind}: |ours - PyTorch float32| max {e32:.3g} <= 2 ulp = {2 * u:.3g}")
        check(ew <= u, f"cnn_{kind}: |ours - PyTorch float32 on {kind} weights| max {ew:.3g} <= 1 ulp = {u:.3g}")
        check(np.array_equal(t1, t2), f"cnn_{kind}: 1 and 2 threads give the same bits")
        opt = os.path.join(TMP, f"cnn_{kind}.opt.onnx")
        r = subprocess.run([ONNXC, "optimize", model, "-o", opt, "--verify", "--json"], capture_output=True,
                           text=True)
        check(r.returncode == 0, f"cnn_{kind}: optimize --verify passes ({r.returncode}: {r.stderr.strip()[-300:]})")
        if r.returncode != 0:
            continue
        rep = json.loads(r.stdout)
        check(rep["verify"]["passed"], f"cnn_{kind}: verify passed")
        m = onnx.load(opt)
        ops = [n.op_type for n in m.graph.node]
        want_t = TensorProto.FLOAT16 if kind == "f16" else TensorProto.BFLOAT16
        check(ops.count("BatchNormalization") == 0 and all(t.data_type == want_t for t in m.graph.initializer
                                                           if t.dims and t.data_type != TensorProto.INT64),
              f"cnn_{kind}: every BatchNormalization folded, weights stored as {onnx.TensorProto.DataType.Name(want_t)}")
        o = run(opt, kind, 2, f"{kind}_opt")
        check(o is not None and np.abs(o - r32).max() <= 2 * u,
              f"cnn_{kind}: optimized model within 2 ulp of PyTorch float32 ({np.abs(o - r32).max():.3g})")
        r = subprocess.run([ONNXC, "compare", model, opt, "--input", INPUTS[kind]], capture_output=True, text=True)
        check(r.returncode == 0 and "(the defaults of the type)" in r.stdout,
              f"cnn_{kind}: compare original vs optimized passes with the type's tolerances ({r.returncode}: "
              f"{(r.stdout + r.stderr).strip()[-200:]})")
        if kind == "f16" and ort_available():
            for tag, path in (("original", model), ("optimized", opt)):
                od = os.path.join(TMP, f"ort_{tag}")
                rr = subprocess.run(["node", os.path.join(ROOT, "bench", "ort_run.js"), path, od, INPUTS[kind]],
                                    capture_output=True, text=True)
                ok = rr.returncode == 0
                e = np.abs(np.load(os.path.join(od, "logits.npy")).astype(np.float32) - r32).max() if ok else -1
                check(ok and e <= 2 * u, f"ONNX Runtime runs the {tag} cnn_f16 and is within 2 ulp of PyTorch "
                      f"float32 ({e:.3g}) {rr.stderr.strip()[-200:]}")
        elif kind == "f16":
            print("skip ONNX Runtime checks: node or bench/node_modules/onnxruntime-node not present")
    # GroupNormalization-18 (no node test in onnx 1.12): models/groupnorm18_native.onnx in float16 against its
    # PyTorch float32 output, within 8 u (2^-11) of max |expected| like fp16_node_ops
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import to_fp16
    gm = onnx.load(os.path.join(sys.argv[2], "groupnorm18_native.onnx"))
    to_fp16.convert_graph(gm.graph, TensorProto.FLOAT16)
    gp, gi = os.path.join(TMP, "groupnorm18_f16.onnx"), os.path.join(TMP, "groupnorm18_in.npy")
    onnx.save(gm, gp)
    gexp = os.path.join(sys.argv[2], "expected", "groupnorm18_native")
    np.save(gi, np.load(os.path.join(gexp, "input_0.npy")).astype(np.float16))
    go = os.path.join(TMP, "groupnorm18_out")
    shutil.rmtree(go, ignore_errors=True)
    r = subprocess.run([ONNXC, "run", gp, "--input", gi, "--output-dir", go, "-q"], capture_output=True, text=True)
    if r.returncode == 0:
        got = np.load(os.path.join(go, os.listdir(go)[0]))
        want = np.load(os.path.join(gexp, "output_0.npy"))
        e, b = np.abs(got.astype(np.float32) - want).max(), 8 * 2.0 ** -11 * max(1.0, np.abs(want).max())
        check(got.dtype == np.float16 and e <= b, f"GroupNormalization-18 in float16: max error {e:.3g} <= {b:.3g}")
    else:
        check(False, f"GroupNormalization-18 in float16: {r.stderr.strip()[-200:]}")
    # swap-norm on the float16 model: every BatchNormalization swapped, the result runs in float16 (its outputs
    # change by design: only their type and finiteness are checked)
    sw = os.path.join(TMP, "cnn_f16.swap.onnx")
    r = subprocess.run([ONNXC, "swap-norm", os.path.join(MODELS, "cnn_f16.onnx"), "-o", sw, "-q"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"swap-norm on cnn_f16 ({r.returncode}: {r.stderr.strip()[-200:]})")
    if r.returncode == 0:
        ops = [n.op_type for n in onnx.load(sw).graph.node]
        out = os.path.join(TMP, "swap_out")
        shutil.rmtree(out, ignore_errors=True)
        rr = subprocess.run([ONNXC, "run", sw, "--input", INPUTS["f16"], "--output-dir", out, "-q"],
                            capture_output=True, text=True)
        y = np.load(os.path.join(out, "logits.npy")) if rr.returncode == 0 else None
        check("BatchNormalization" not in ops and y is not None and y.dtype == np.float16 and
              np.isfinite(y).all(), f"swap-norm'd cnn_f16 has no BatchNormalization and runs in float16 "
              f"{rr.stderr.strip()[-200:]}")
    # fold-bn refusals, with the reason; the model still runs, BN kept
    # 2 * 59968 > 65504; 0.25 * 2^-24 is a quarter of float16's smallest subnormal: it would be stored as 0
    for tag, w0, scale, why in (("overflow", (2.0, -0.5), 60000.0, "overflows float16"),
                                ("underflow", (0.25, -0.5), 2.0 ** -24, "underflows float16")):
        path = os.path.join(TMP, f"fold_{tag}.onnx")
        fold_refusal_model(path, w0, scale)
        opt = os.path.join(TMP, f"fold_{tag}.opt.onnx")
        r = subprocess.run([ONNXC, "optimize", path, "-o", opt, "--json"], capture_output=True, text=True)
        ok = r.returncode == 0
        msgs = [e["message"] for e in json.loads(r.stdout)["events"] if e.get("pass") == "fold-bn"] if ok else []
        check(ok and any(why in x for x in msgs), f"fold-bn refuses the {tag}: {msgs} {r.stderr.strip()[-200:]}")
        kept = ok and [n.op_type for n in onnx.load(opt).graph.node].count("BatchNormalization") == 1
        check(kept, f"fold_{tag}: the BatchNormalization is kept")
    # bad input: a float16 initializer whose raw data is short, an Add of float16 and float
    w = numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float16), "w")
    w.raw_data = w.raw_data[:-2]
    bad = {
        "raw": ([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 2, 2, 2])], [w],
                "initializer 'w': raw_data has 6 bytes, dims 2x2x1x1 of float16 need 8"),
        "mix": ([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                [helper.make_tensor_value_info("a", TensorProto.FLOAT16, [2, 2]),
                 helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 2])], [],
                "node 'add' (Add): input 'b' is float but input 'a' is float16; the inputs of Add must have one type"),
    }
    for tag, (nodes, ins, inits, want) in bad.items():
        g = helper.make_graph(nodes, "bad_" + tag, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)],
                              inits)
        path = os.path.join(TMP, f"bad_{tag}.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
        r = subprocess.run([ONNXC, "run", path], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and lines and want in lines[0] and (tag != "raw" or path in lines[0]),
              f"bad_{tag}: exit 2, the first line names the file / node and tensor: {r.returncode} {lines}")
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
