#!/usr/bin/python3
"""Node counts after `onnxc optimize` next to ONNX Runtime's basic-level optimized graph (the session option
optimizedModelFilePath at graph optimization level basic, through bench/ort_optimize.js), for models/*.onnx and
the torchvision exports of bench/gen_models.py found in bench/models-gen (run gen_models.py first for those).
Prints one row per model: nodes before, ours, ORT basic, BatchNormalization left in each, and whether our
graph is no larger (a Dropout in training mode, training_mode a constant true, is removed by ONNX Runtime's basic
level although it drops at random, and kept by onnxc: such a row says so and is compared without it). With --verify, also that the outputs are equal before and after: `onnxc optimize --verify`
(our executor, seeded inputs, the test of `compare`; symbolic dims 1 for the batch, 16 for the others, by name) and ONNX Runtime (all optimizations) running the original
and our file on the same seeded inputs (batch 1), NMSE of each output. A figure-printing program, not a test.

usage: /usr/bin/python3 bench/node_counts.py [--onnxc build/onnxc] [--only NAME,...] [--verify]"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
from collections import Counter

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def counts(path):
    m = onnx.load(path, load_external_data=False)
    return len(m.graph.node), Counter(n.op_type for n in m.graph.node)


# A symbolic dim that is some input's first (the batch) is 1; any other is given this value, by name, for onnxc's
# --verify and ONNX Runtime's inputs alike: a sequence or image length of 1 is too small for some models
# (cnn_lstm_head's MaxPool).
SYMBOLIC_INNER = 16


def symbolic_dims(path):
    """{dim name: value} for the symbolic dims of the model's inputs."""
    m = onnx.load(path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    batch, other = set(), []
    for i in m.graph.input:
        if i.name in inits:
            continue
        for k, d in enumerate(i.type.tensor_type.shape.dim):
            if d.dim_param:
                (batch.add(d.dim_param) if k == 0 else other.append(d.dim_param))
    return {d: 1 if d in batch else SYMBOLIC_INNER for d in list(batch) + other}


def training_dropouts(path):
    """Dropout nodes whose training_mode input is a constant true (Constant node or initializer): they drop at
    random. ONNX Runtime's basic level removes every Dropout whose mask is unused (EliminateDropout), these too,
    which changes the outputs; onnxc keeps them (optimize --eval-mode removes them on request)."""
    m = onnx.load(path, load_external_data=False)
    consts = {t.name: t for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = n.attribute[0].t
    k = 0
    for n in m.graph.node:
        if n.op_type == "Dropout" and len(n.input) > 2 and n.input[2] in consts:
            k += bool(numpy_helper.to_array(consts[n.input[2]]).reshape(-1)[:1].any())
    return k


def ort_outputs(model, tmp, tag, inputs):
    d = os.path.join(tmp, tag)
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), model, d, *inputs], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return {f: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}


def ort_nmse(src, ours, tmp, name):
    """Worst output NMSE between ONNX Runtime on the original and on our file (same seeded inputs)."""
    m = onnx.load(src, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    sym = symbolic_dims(src)
    rng = np.random.default_rng(0)
    args = []
    for i in m.graph.input:
        if i.name in inits:
            continue
        t = i.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else sym.get(d.dim_param, 1) for d in t.shape.dim]
        arr = rng.standard_normal(dims).astype(helper.tensor_dtype_to_np_dtype(t.elem_type)
                                               if hasattr(helper, "tensor_dtype_to_np_dtype")
                                               else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type])
        f = os.path.join(tmp, f"{name}.in.{len(args)}.npy")
        np.save(f, arr)
        args.append(f"{i.name}={f}")
    a = ort_outputs(src, tmp, name + ".ort.a", args)
    b = ort_outputs(ours, tmp, name + ".ort.b", args)
    worst = 0.0
    for k in a:
        x, y = a[k].astype(np.float64), b[k].astype(np.float64)
        worst = max(worst, float(((x - y) ** 2).sum() / max((x ** 2).sum(), 1e-300)))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build", "onnxc"))
    ap.add_argument("--only", default="")
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx")))
    paths += sorted(p for p in glob.glob(os.path.join(HERE, "models-gen", "*.onnx")) if not p.endswith(".opt.onnx"))
    only = {x for x in args.only.split(",") if x}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in paths:
            name = os.path.splitext(os.path.basename(p))[0]
            if only and name not in only:
                continue
            ours, ort = os.path.join(tmp, name + ".onnxc.onnx"), os.path.join(tmp, name + ".ort.onnx")
            verified = ""
            if args.verify:
                shapes = [a for d, v in symbolic_dims(p).items() for a in ("--shape", f"{d}={v}")]
                r = subprocess.run([args.onnxc, "optimize", p, "-o", ours, "-q", "--verify", *shapes],
                                   capture_output=True, text=True)
                verified = "yes" if r.returncode == 0 else f"NO (exit {r.returncode})"
            r = subprocess.run([args.onnxc, "optimize", p, "-o", ours, "-q"], capture_output=True, text=True)
            if r.returncode != 0:
                rows.append((name, "onnxc: " + r.stderr.strip().splitlines()[-1]))
                continue
            r = subprocess.run(["node", os.path.join(HERE, "ort_optimize.js"), p, ort, "basic"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                rows.append((name, r.stderr.strip()))
                continue
            n0, _ = counts(p)
            n1, c1 = counts(ours)
            n2, c2 = counts(ort)
            nmse = ""
            if args.verify:
                try:
                    nmse = f"{ort_nmse(p, ours, tmp, name):.1e}"
                except RuntimeError as e:
                    nmse = "ORT: " + str(e).splitlines()[-1][:40]
            # training-mode Dropouts ONNX Runtime removed (not an exact rewrite: see training_dropouts)
            inexact = min(training_dropouts(p), max(0, c1["Dropout"] - c2["Dropout"]))
            rows.append((name, n0, n1, n2, c1["BatchNormalization"], c2["BatchNormalization"], verified, nmse, inexact))
    print(f"{'model':34} {'before':>7} {'onnxc':>7} {'ORT basic':>9} {'BN onnxc':>9} {'BN ORT':>7}  no larger"
          + ("  verified  ORT NMSE" if args.verify else ""))
    larger = 0
    for row in rows:
        if len(row) == 2:
            print(f"{row[0]:34} {row[1]}")
            continue
        name, n0, n1, n2, b1, b2, verified, nmse, inexact = row
        ok = n1 - inexact <= n2
        larger += not ok
        note = f"  (ORT dropped {inexact} training-mode Dropout, which changes outputs)" if inexact else ""
        print(f"{name:34} {n0:7} {n1:7} {n2:9} {b1:9} {b2:7}  {'yes' if ok else 'NO':9}"
              + (f"  {verified:9} {nmse}" if args.verify else "") + note)
    print(f"{len(rows)} models; ours larger than ONNX Runtime's basic graph on {larger} (not counting Dropouts in "
          "training mode, which ONNX Runtime removes and onnxc keeps: removing them changes the outputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
