#!/usr/bin/python3
"""Cross-check onnxc's executor against ONNX Runtime (npm onnxruntime-node, through bench/ort_run.js) on every
model of models/ (models/MANIFEST.json): the original, the `onnxc optimize` result and, for models with
BatchNormalization, the `onnxc swap-norm` results in both forms (GroupNormalization-21 and the decomposition).
Each variant runs on the committed inputs of each case in both runtimes; the table gives, per output, the max
abs difference and NMSE = sum((onnxc - ort)^2) / sum(ort^2). A row passes at NMSE <= 1e-10 (fp32; 1e-5 for
16-bit floats).

Run by hand (npm is not available in CI):
    cd bench && npm install --ignore-scripts onnxruntime-node@1.30.0 && cd ..
    /usr/bin/python3 bench/ort_check.py [--onnxc build/onnxc] [--work /tmp/onnxc-ort-check] [--models models]
Exit status: 0 when every row passes, 1 otherwise."""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def load_dir(d):
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".npy")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build", "onnxc"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--work", default="/tmp/onnxc-ort-check")
    ap.add_argument("--only", default="", help="substring of the model names to check")
    args = ap.parse_args()
    with open(os.path.join(args.models, "MANIFEST.json")) as f:
        entries = json.load(f)["models"]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    ort_version = json.load(open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")))["version"]
    print(f"ONNX Runtime (onnxruntime-node) {ort_version} vs onnxc {args.onnxc}")
    rows, bad = [], 0
    for e in entries:
        if args.only and args.only not in e["name"]:
            continue
        src = os.path.join(args.models, e["file"])
        variants = [("original", src, None)]
        opt = os.path.join(args.work, e["name"] + ".optimized.onnx")
        variants.append(("optimized", opt, [args.onnxc, "optimize", src, "-o", opt]))
        if e["batchnorm_nodes"]:
            for form in ("op", "decomposed"):
                out = os.path.join(args.work, f"{e['name']}.swap-{form}.onnx")
                variants.append((f"swap group {form}", out,
                                 [args.onnxc, "swap-norm", src, "-o", out, "--form", form]))
        for label, model, make in variants:
            if make:
                rc, _, err = sh(make)
                if rc != 0:
                    rows.append((e["name"], label, "-", "-", "onnxc could not make it: " + err.strip()[-120:], None))
                    bad += 1
                    continue
            for c in e["cases"]:
                d = os.path.join(args.models, c["dir"])
                feeds = [f"{i['name']}={os.path.join(d, f'input_{k}.npy')}" for k, i in enumerate(c["inputs"])]
                tag = f"{e['name']}.{label.replace(' ', '_')}.b{c['batch']}"
                o_dir, r_dir = os.path.join(args.work, tag + ".onnxc"), os.path.join(args.work, tag + ".ort")
                rc1, _, err1 = sh([args.onnxc, "run", model, "--output-dir", o_dir, "--threads", "1"] +
                                  [f"--input={x}" for x in feeds])
                rc2, _, err2 = sh(["node", os.path.join(HERE, "ort_run.js"), model, r_dir] + feeds)
                if rc1 != 0 or rc2 != 0:
                    why = ("onnxc: " + err1.strip()[-100:]) if rc1 else ("ORT: " + err2.strip()[-160:])
                    rows.append((e["name"], label, c["batch"], "-", why, None))
                    bad += 1
                    continue
                got, ref = load_dir(o_dir), load_dir(r_dir)
                for name in ref:
                    a, b = got.get(name), ref[name]
                    if a is None or a.shape != b.shape:
                        rows.append((e["name"], label, c["batch"], name, "output missing or shape differs", None))
                        bad += 1
                        continue
                    a64, b64 = a.astype(np.float64), b.astype(np.float64)
                    den = (b64 ** 2).sum()
                    err = ((a64 - b64) ** 2).sum() / den if den > 0 else float(((a64 - b64) ** 2).sum())
                    limit = 1e-5 if b.dtype == np.float16 else 1e-10
                    ok = err <= limit
                    bad += not ok
                    rows.append((e["name"], label, c["batch"], name, float(np.abs(a64 - b64).max()), (err, ok)))
    w = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'model':{w}}  {'variant':22} {'batch':>5}  {'output':16} {'max abs':>10}  {'NMSE':>10}  result")
    for m, v, batch, out, mx, res in rows:
        if res is None:
            print(f"{m:{w}}  {v:22} {str(batch):>5}  {out:16} {mx}")
            continue
        err, ok = res
        print(f"{m:{w}}  {v:22} {batch:>5}  {out[:16]:16} {mx:10.3e}  {err:10.3e}  {'ok' if ok else 'DIFFERS'}")
    print(f"{len(rows) - bad} of {len(rows)} rows within fp32 rounding (NMSE <= 1e-10)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
