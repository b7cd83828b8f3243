#!/usr/bin/python3
"""The quantized models of models/quant (models/author_quant.py) against ONNX Runtime's outputs saved there:
quant_dynamic (DynamicQuantizeLinear + ConvInteger / MatMulInteger) and quant_qlinear (QLinearConv /
QLinearMatMul) must equal ORT bit for bit, with 1 and 2 threads; quant_qdq within float rounding of ORT run
without graph optimizations (the same float ops between Q and DQ) and within a few quantization steps of ORT's
fused integer kernels. `compare --reference` agrees; `optimize --verify` passes on each, and on quant_qdq the
BatchNormalization after the DequantizeLinear-fed Conv is skipped with the reason, every DequantizeLinear kept
(not constant-folded into float weights), and the optimized model's outputs equal the original's.
Also runs kernel cases of tests/quant/gen_quant_cases.py big enough to be split over threads with 2 threads
(the node-test runner uses 1) and checks their outputs exactly.
Usage: test_quant_models.py ONNXC MODELS_DIR TMP_DIR QUANT_CASES_DIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx

ONNXC, MODELS, TMP, CASES = sys.argv[1], os.path.join(sys.argv[2], "quant"), sys.argv[3], sys.argv[4]
THREADED_CASES = ("test_q13_big_axis1", "test_dq13_big_axis1", "test_convint_2d_big", "test_qlconv_2d_big",
                  "test_mmi_big", "test_convint_2d_stride_pad")
EXP = os.path.join(MODELS, "expected")
INPUT = os.path.join(EXP, "input.npy")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(model, threads, tag):
    out = os.path.join(TMP, tag)
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([ONNXC, "run", model, "--input", "input=" + INPUT, "--output-dir", out, "--threads",
                        str(threads), "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        check(False, f"run {model}: {r.stderr.strip()}")
        return None
    return np.load(os.path.join(out, "logits.npy"))


def main():
    os.makedirs(TMP, exist_ok=True)
    for name in ("quant_dynamic", "quant_qlinear"):
        model = os.path.join(MODELS, name + ".onnx")
        want = np.load(os.path.join(EXP, name, "logits.npy"))
        for threads in (1, 2):
            got = run(model, threads, f"{name}_t{threads}")
            check(got is not None and got.dtype == want.dtype and np.array_equal(got, want),
                  f"{name} ({threads} threads) equals ONNX Runtime bit for bit")
        r = subprocess.run([ONNXC, "compare", model, "--reference", os.path.join(EXP, name), "--input",
                            "input=" + INPUT, "--atol", "0", "--rtol", "0", "--nmse", "0"], capture_output=True,
                           text=True)
        check(r.returncode == 0, f"{name}: compare --reference with zero tolerance passes ({r.returncode})")
    model = os.path.join(MODELS, "quant_qdq.onnx")
    got = run(model, 2, "qdq")
    unfused = np.load(os.path.join(EXP, "quant_qdq_unfused", "logits.npy"))
    fused = np.load(os.path.join(EXP, "quant_qdq", "logits.npy"))
    check(got is not None and np.abs(got - unfused).max() <= 1e-6,
          "quant_qdq within float rounding of ONNX Runtime without graph optimizations")
    # ORT's fused kernels: a value within float rounding of a .5 step may land one step apart (author_quant.py
    # measured 4.8e-4 on logits of magnitude 0.14)
    check(got is not None and np.abs(got - fused).max() <= 1e-3, "quant_qdq within a few steps of ORT's fused run")
    for name in ("quant_dynamic", "quant_qlinear", "quant_qdq"):
        model = os.path.join(MODELS, name + ".onnx")
        opt = os.path.join(TMP, name + ".opt.onnx")
        r = subprocess.run([ONNXC, "optimize", model, "-o", opt, "--verify", "--json"], capture_output=True,
                           text=True)
        check(r.returncode == 0, f"{name}: optimize --verify passes ({r.returncode}: {r.stderr.strip()[-200:]})")
        if r.returncode != 0:
            continue
        rep = json.loads(r.stdout)
        check(rep["verify"]["passed"], f"{name}: verify passed")
        base = run(model, 1, name + "_orig")
        after = run(opt, 1, name + "_opt")
        check(base is not None and after is not None and np.array_equal(base, after),
              f"{name}: the optimized model's outputs equal the original's")
        if name != "quant_qdq":
            continue
        bn_events = [e for e in rep["events"] if e.get("node_name") == "bn1" and e.get("pass") == "fold-bn"]
        check(any("weight 'c0_w' comes from 'c0_w_dequant' (DequantizeLinear)" in e["message"] for e in bn_events),
              "quant_qdq: fold-bn skips bn1 naming the DequantizeLinear weight: " +
              "; ".join(e["message"] for e in bn_events))
        m = onnx.load(opt)
        ops = [n.op_type for n in m.graph.node]
        orig = [n.op_type for n in onnx.load(model).graph.node]
        check(ops.count("BatchNormalization") == 1, "quant_qdq: the BatchNormalization is still there")
        check(ops.count("DequantizeLinear") == orig.count("DequantizeLinear"),
              f"quant_qdq: every DequantizeLinear kept ({ops.count('DequantizeLinear')} of "
              f"{orig.count('DequantizeLinear')})")
    from onnx import numpy_helper
    for case in THREADED_CASES:
        d = os.path.join(CASES, case, "test_data_set_0")
        out = os.path.join(TMP, case)
        shutil.rmtree(out, ignore_errors=True)
        ins = []
        for f in sorted(os.listdir(d)):
            if f.startswith("input_"):
                ins += ["--input", os.path.join(d, f)]
        r = subprocess.run([ONNXC, "run", os.path.join(CASES, case, "model.onnx"), *ins, "--output-dir", out,
                            "--threads", "2", "-q"], capture_output=True, text=True)
        ok = r.returncode == 0
        if ok:
            t = onnx.TensorProto()
            with open(os.path.join(d, "output_0.pb"), "rb") as f:
                t.ParseFromString(f.read())
            want = numpy_helper.to_array(t)
            got = np.load(os.path.join(out, t.name + ".npy"))
            ok = got.dtype == want.dtype and np.array_equal(got, want)
        check(ok, f"{case} with 2 threads equals the numpy reference exactly {r.stderr.strip()[-200:]}")
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
