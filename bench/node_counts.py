#!/usr/bin/python3
"""Node counts after `onnxc optimize` next to ONNX Runtime's basic-level optimized graph (the session option
optimizedModelFilePath at graph optimization level basic, through bench/ort_optimize.js), for models/*.onnx and
the torchvision exports of bench/gen_models.py found in bench/models-gen (run gen_models.py first for those).
Prints one row per model: nodes before, ours, ORT basic, BatchNormalization left in each, and whether our
graph is no larger. A figure-printing program, not a test.

usage: /usr/bin/python3 bench/node_counts.py [--onnxc build/onnxc] [--only NAME,...]"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
from collections import Counter

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def counts(path):
    m = onnx.load(path, load_external_data=False)
    return len(m.graph.node), Counter(n.op_type for n in m.graph.node)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build", "onnxc"))
    ap.add_argument("--only", default="")
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
            rows.append((name, n0, n1, n2, c1["BatchNormalization"], c2["BatchNormalization"]))
    print(f"{'model':34} {'before':>7} {'onnxc':>7} {'ORT basic':>9} {'BN onnxc':>9} {'BN ORT':>7}  no larger")
    larger = 0
    for row in rows:
        if len(row) == 2:
            print(f"{row[0]:34} {row[1]}")
            continue
        name, n0, n1, n2, b1, b2 = row
        ok = n1 <= n2
        larger += not ok
        print(f"{name:34} {n0:7} {n1:7} {n2:9} {b1:9} {b2:7}  {'yes' if ok else 'NO'}")
    print(f"{len(rows)} models; ours larger than ONNX Runtime's basic graph on {larger}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
