#!/usr/bin/python3
"""Issue 19's "a user can continue fine-tuning there", three ways at once: the calibrated GroupNorm swap of
models/shapes_cnn.onnx (`onnxc swap-norm --to group --groups 32 --form op --calibrate models/shapes_data/calib`,
each layer objective and head refit on/off) loaded into PyTorch's nn.GroupNorm net (models/author_shapes_cnn.py's
Net, scale/bias and fc read from our file), against ONNX Runtime (bench/ort_run.js) and onnxc's executor on the
same file, on the 600 held-out test images. Prints NMSE = sum((a - b)^2) / sum(b^2) for each pair and each
runtime's test accuracy. Needs torch and onnxruntime-node (bench/node_modules), so it is run by hand, not in CI
(ctest calibrate_torch checks onnxc against the committed PyTorch logits).

usage: /usr/bin/python3 bench/calib_torch_ort.py [--onnxc build/onnxc] [--work /tmp/onnxc-calib-torch-ort]"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models"))
import author_shapes_cnn as A  # noqa: E402  (Net, GROUPS)


def nmse(a, b):
    return float(((a - b) ** 2).sum() / (b ** 2).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build", "onnxc"))
    ap.add_argument("--work", default="/tmp/onnxc-calib-torch-ort")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(ROOT, "models", "shapes_data")
    x = np.load(os.path.join(data, "test_images.npy")).astype(np.float32) / 255
    y = np.load(os.path.join(data, "test_labels.npy"))
    xin = os.path.join(a.work, "test.npy")
    np.save(xin, x)
    print("| layer fit, head refit | PyTorch vs ORT | PyTorch vs onnxc | ORT vs onnxc | accuracy PyTorch / ORT / onnxc |")
    print("|---|---|---|---|---|")
    for fit in ("bn", "act"):
        for head in ("off", "on"):
            cal = os.path.join(a.work, f"gn_{fit}_{head}.onnx")
            subprocess.run([a.onnxc, "swap-norm", os.path.join(ROOT, "models", "shapes_cnn.onnx"), "-o", cal, "--to",
                            "group", "--groups", str(A.GROUPS), "--form", "op", "--calibrate",
                            os.path.join(data, "calib"), "--calibrate-head", head, "--calibrate-fit", fit,
                            "--threads", "1"], check=True, capture_output=True)
            net = A.gn_net_from_onnx(cal)
            net.eval()
            with torch.no_grad():
                pt = net(torch.from_numpy(x)).double().numpy()
            od = os.path.join(a.work, "ort")
            subprocess.run(["node", os.path.join(HERE, "ort_run.js"), cal, od, f"input={xin}"], check=True,
                           capture_output=True)
            ort = np.load(os.path.join(od, "logits.npy")).astype(np.float64)
            cd = os.path.join(a.work, "onnxc")
            subprocess.run([a.onnxc, "run", cal, "--input", f"input={xin}", "--output-dir", cd], check=True,
                           capture_output=True)
            oc = np.load(os.path.join(cd, "logits.npy")).astype(np.float64)
            acc = [(v.argmax(1) == y).mean() for v in (pt, ort, oc)]
            print(f"| {fit}, {head} | {nmse(ort, pt):.2g} | {nmse(oc, pt):.2g} | {nmse(oc, ort):.2g} | "
                  f"{acc[0]:.3f} / {acc[1]:.3f} / {acc[2]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
