#!/usr/bin/python3
"""The accuracy table of README's calibrated swap section: on both truth models (models/shapes_cnn.onnx,
models/shapes_plain_cnn.onnx; 600 held-out test images each), test accuracy of the naive swap and of the
calibrated swaps (`swap-norm MODEL --to T [--groups G] --calibrate DATA/calib --calibrate-head off|on
--calibrate-fit bn|act`) for group 32, group 8, instance and layer, with each layer's residuals before -> after
(of the BN output for bn, after the activation for act) and the logits' drift on the calibration images.
numpy and onnxc only (no torch).

usage: /usr/bin/python3 bench/calib_accuracy.py ONNXC MODELS_DIR WORK_DIR [shapes_cnn] [shapes_plain_cnn]"""
import json
import os
import subprocess
import sys

import numpy as np

ONNXC, MODELS, W = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(W, exist_ok=True)
def run(*a):
    p = subprocess.run([ONNXC, *a], capture_output=True, text=True)
    assert p.returncode == 0, (a, p.stderr)
    return p
def logits(model, inp):
    out = os.path.join(W, "out"); os.makedirs(out, exist_ok=True)
    run("run", model, "--input", f"input={inp}", "--output-dir", out)
    return np.load(os.path.join(out, "logits.npy"))
swaps = [("group32", ["--to", "group", "--groups", "32"]), ("group8", ["--to", "group", "--groups", "8"]),
         ("instance", ["--to", "instance"]), ("layer", ["--to", "layer"])]
which = sys.argv[4:] or ["shapes_cnn", "shapes_plain_cnn"]
for name in which:
    data = os.path.join(MODELS, "shapes_data" if name == "shapes_cnn" else "shapes_plain_data")
    model = os.path.join(MODELS, name + ".onnx")
    x = np.load(os.path.join(data, "test_images.npy")).astype(np.float32) / 255
    y = np.load(os.path.join(data, "test_labels.npy"))
    test = os.path.join(W, name + "_test.npy"); np.save(test, x)
    print(f"## {name}: original {(logits(model, test).argmax(1) == y).mean():.3f}")
    print("| swap | naive | bn, head off | act, head off | bn + head | act + head |")
    for sw, args in swaps:
        row = []
        out = os.path.join(W, "o.onnx")
        run("swap-norm", model, "-o", out, *args); row.append((logits(out, test).argmax(1) == y).mean())
        res = {}
        for head in ("off", "on"):
            for fit in ("bn", "act"):
                p = run("swap-norm", model, "-o", out, *args, "--calibrate", os.path.join(data, "calib"),
                        "--calibrate-head", head, "--calibrate-fit", fit, "--json", "--threads", "2")
                cal = json.loads(p.stdout)["calibration"]
                res[(head, fit)] = (logits(out, test).argmax(1) == y).mean()
                if head == "off":
                    L = cal["layers"]
                    print(f"   {sw} {fit}: residuals " + ", ".join(f"{l['residual_before']:.3f}->{l['residual_after']:.3f}" for l in L) +
                          f"  objective {[l['objective'] for l in L]}  drift nmse {cal['outputs'][0]['nmse']:.4f}  {cal['seconds']:.2f}s")
        print(f"| {sw} | {row[0]:.3f} | {res[('off','bn')]:.3f} | {res[('off','act')]:.3f} | {res[('on','bn')]:.3f} | {res[('on','act')]:.3f} |", flush=True)
