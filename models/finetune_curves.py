#!/usr/bin/python3
"""Issue 19's optional showing: small-batch fine-tuning of the GroupNorm-32 swap of models/shapes_cnn.onnx from the
naive start (`onnxc swap-norm --to group`: gamma/beta carried) and from the calibrated start (`--calibrate
models/shapes_data/calib`, default head refit), in PyTorch (nn.GroupNorm net of models/author_shapes_cnn.py with
every weight read from our file). Batch size 2, Adam (lr LR, default 1e-4), STEPS steps on freshly rendered shapes (seed 23:
not the training, calibration or test images), the same batches for both starts, three seeds of the batch order.
Prints the mean training loss per window of 25 steps and the accuracy on the 600 held-out test images every 50
steps (mean over the seeds), and draws both curves side by side into models/finetune_curves.svg.

usage: /usr/bin/python3 models/finetune_curves.py [--onnxc build/onnxc] [--steps 400] [--lr 1e-4] [--svg models/finetune_curves.svg]"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import author_shapes_cnn as A  # noqa: E402


def gn_net(path):
    """nn.GroupNorm net carrying every weight of the swapped file path (GroupNormalization-21 form)."""
    return A.gn_net_from_onnx(path)


def svg(path, steps, curves, window, every):
    """Two panels (training loss per window, test accuracy) with one line per start; no dependencies."""
    W, H, pad = 360, 240, 40
    colors = {"naive": "#c0392b", "calibrated": "#2471a3"}
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (2 * W + 20, H + 30)]
    panels = (("training loss (mean per %d steps)" % window, "loss", None), ("test accuracy (600 images)", "acc",
                                                                              (0.0, 1.0)))
    for p, (title, key, yr) in enumerate(panels):
        x0 = p * (W + 20)
        vals = [v for c in curves.values() for v in c[key][1]]
        lo, hi = yr if yr else (0.0, max(vals) * 1.05)
        out.append('<text x="%d" y="14">%s</text>' % (x0 + pad, title))
        out.append('<rect x="%d" y="20" width="%d" height="%d" fill="none" stroke="#888"/>' % (x0 + pad, W - pad - 10,
                                                                                           H - 40))
        for k in range(5):
            v = lo + (hi - lo) * k / 4
            yy = 20 + (H - 40) * (1 - k / 4)
            out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (x0 + pad - 4, yy + 4, v))
        for k in range(0, steps + 1, 100):
            xx = x0 + pad + (W - pad - 10) * k / steps
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (xx, H - 6, k))
        for i, (name, c) in enumerate(curves.items()):
            xs, ys = c[key]
            pts = " ".join("%.1f,%.1f" % (x0 + pad + (W - pad - 10) * s / steps,
                                          20 + (H - 40) * (1 - (v - lo) / (hi - lo))) for s, v in zip(xs, ys))
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colors[name], pts))
            out.append('<text x="%d" y="%d" fill="%s">%s start</text>' % (x0 + W - 110, 36 + 14 * i, colors[name],
                                                                            name))
        out.append('<text x="%d" y="%d" text-anchor="middle">step (batch size 2)</text>' % (x0 + pad + W / 2 - 20,
                                                                                             H + 20))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default=os.path.join(os.path.dirname(HERE), "build", "onnxc"))
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--svg", default=os.path.join(HERE, "finetune_curves.svg"))
    ap.add_argument("--lr", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    work = tempfile.mkdtemp()
    model = os.path.join(HERE, "shapes_cnn.onnx")
    data = os.path.join(HERE, "shapes_data")
    starts = {}
    for name, extra in (("naive", []), ("calibrated", ["--calibrate", os.path.join(data, "calib")])):
        out = os.path.join(work, name + ".onnx")
        subprocess.run([a.onnxc, "swap-norm", model, "-o", out, "--to", "group", "--groups", str(A.GROUPS), "--form",
                        "op", "--threads", "1", *extra], check=True, capture_output=True)
        starts[name] = out
    test_x = torch.from_numpy(A.to_input(np.load(os.path.join(data, "test_images.npy"))))
    test_y = np.load(os.path.join(data, "test_labels.npy"))
    tx, ty = A.render(np.random.default_rng(23), 2 * a.steps, True)
    TX, TY = torch.from_numpy(A.to_input(tx)), torch.from_numpy(ty)
    window, every, seeds = 25, 50, (0, 1, 2)
    curves = {}
    for name, path in starts.items():
        losses = np.zeros((len(seeds), a.steps))
        accs = np.zeros((len(seeds), a.steps // every + 1))
        for si, seed in enumerate(seeds):
            torch.manual_seed(seed)
            net = gn_net(path)
            opt = torch.optim.Adam(net.parameters(), a.lr)
            order = torch.randperm(len(TX))
            for step in range(a.steps + 1):
                if step % every == 0:
                    net.eval()
                    with torch.no_grad():
                        accs[si, step // every] = (net(test_x).argmax(1).numpy() == test_y).mean()
                    net.train()
                if step == a.steps:
                    break
                idx = order[2 * step:2 * step + 2]
                loss = torch.nn.functional.cross_entropy(net(TX[idx]), TY[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses[si, step] = loss.item()
        lw = losses.mean(0).reshape(-1, window).mean(1)
        curves[name] = {"loss": (list(range(window, a.steps + 1, window)), list(lw)),
                        "acc": (list(range(0, a.steps + 1, every)), list(accs.mean(0)))}
    print("| steps | loss, naive start | loss, calibrated start |")
    print("|---|---|---|")
    for s, ln, lc in zip(curves["naive"]["loss"][0], curves["naive"]["loss"][1], curves["calibrated"]["loss"][1]):
        print(f"| {s - window + 1}-{s} | {ln:.3f} | {lc:.3f} |")
    print("| step | test accuracy, naive start | calibrated start |")
    print("|---|---|---|")
    for s, an, ac in zip(curves["naive"]["acc"][0], curves["naive"]["acc"][1], curves["calibrated"]["acc"][1]):
        print(f"| {s} | {an:.3f} | {ac:.3f} |")
    svg(a.svg, a.steps, curves, window, every)
    print("wrote", a.svg)


if __name__ == "__main__":
    main()
