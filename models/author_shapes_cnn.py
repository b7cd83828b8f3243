#!/usr/bin/python3
"""Author the calibrated swap-norm truth (issue 19): a small CNN with BatchNormalization trained briefly in PyTorch
on a synthetic task with a real answer (which of 4 shapes is drawn: disc, square, triangle, cross; random size,
position, contrast and noise), so its running statistics are real ones; exported with BN kept.

Writes (all small):
  models/shapes_cnn.onnx                      the trained net, eval mode, opset 13, BatchNormalization kept
  models/shapes_data/calib/NNN.npy            64 calibration images [1,1,32,32] float32 (never trained on, never
                                              tested on)
  models/shapes_data/test_images.npy          600 held-out test images, uint8 [600,1,32,32] (x / 255 is the input)
  models/shapes_data/test_labels.npy          their classes, int64 [600]
  models/expected/shapes_cnn/                 PyTorch: input.npy (16 test images), logits.npy (model.eval()),
                                              logits_gn.npy (nn.GroupNorm net carrying the scale/bias of
                                              `onnxc swap-norm --to group --form op --calibrate calib
                                              --calibrate-head off`, which the test makes again: the calibration
                                              is deterministic), logits_gn_head.npy (the same with the default
                                              head refit: the fc weight and bias also from that file)

With --variant plain (a second truth model, so the figures are not one data set's luck): the same shapes with
fixed levels (no per-image contrast), another seed, trained the same way; writes models/shapes_plain_cnn.onnx and
models/shapes_plain_data/ (same layout), no expected/ files.

usage: /usr/bin/python3 models/author_shapes_cnn.py [--onnxc build/onnxc] [--expected-only] [--variant plain]
  --expected-only: keep the committed model and data, only write models/expected/shapes_cnn/logits_gn*.npy again
  (the net's weights are read back from models/shapes_cnn.onnx)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GROUPS = 32


def render(rng, n, contrast=True):
    """n images [n,1,32,32] uint8 and labels: a shape of random size and place on a noisy background; with a
    random contrast per image (background and foreground levels), or fixed levels (contrast=False)."""
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    imgs = np.zeros((n, 1, 32, 32), np.float32)
    labels = rng.integers(0, 4, n)
    for i in range(n):
        r = rng.uniform(5, 11)
        cy, cx = rng.uniform(r + 1, 31 - r, 2)
        dy, dx = yy - cy, xx - cx
        k = labels[i]
        if k == 0:
            m = dy * dy + dx * dx <= r * r
        elif k == 1:
            m = (np.abs(dy) <= r * 0.8) & (np.abs(dx) <= r * 0.8)
        elif k == 2:
            m = (dy <= r * 0.7) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
        else:
            w = r * 0.3
            m = ((np.abs(dy) <= w) & (np.abs(dx) <= r)) | ((np.abs(dx) <= w) & (np.abs(dy) <= r))
        bg, fg = (rng.uniform(0.0, 0.4), rng.uniform(0.6, 1.0)) if contrast else (0.2, 0.8)
        img = np.where(m, fg, bg) + rng.normal(0, 0.08, (32, 32))
        imgs[i, 0] = np.clip(img, 0, 1)
    return np.round(imgs * 255).astype(np.uint8), labels.astype(np.int64)


class Net(nn.Module):
    def __init__(self, norm):
        super().__init__()
        # widths like a real backbone's: 32 groups hold 2-4 channels each (GroupNorm(32) on 32 channels would be
        # instance norm, which discards the per-channel levels this net reads)
        chans = [(1, 64, 2), (64, 128, 2), (128, 128, 2)]
        layers = []
        for cin, cout, s in chans:
            layers += [nn.Conv2d(cin, cout, 3, s, 1, bias=False), norm(cout), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(128, 4)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def to_input(u8):
    return (u8.astype(np.float32) / 255.0)


def export(model, path, training):
    torch.onnx.export(model, torch.zeros(1, 1, 32, 32), path, input_names=["input"], output_names=["logits"],
                      opset_version=13, training=training, do_constant_folding=False,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def write_gn_expected(onnxc, net, onnx_path, data, exp, x16, test_x, test_y, head):
    """Our calibrated GroupNorm swap (head refit on/off), loaded into an nn.GroupNorm net: its logits on x16."""
    cal_path = os.path.join(tempfile.mkdtemp(), "shapes_cnn_gn_calibrated.onnx")
    subprocess.run([onnxc, "swap-norm", onnx_path, "-o", cal_path, "--to", "group", "--groups", str(GROUPS),
                    "--form", "op", "--calibrate", os.path.join(data, "calib"), "--calibrate-head", head,
                    "--threads", "1"], check=True)
    m = onnx.load(cal_path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    gns = [n for n in m.graph.node if n.op_type == "GroupNormalization"]
    assert len(gns) == 3
    gemm = [n for n in m.graph.node if n.op_type == "Gemm"]
    assert len(gemm) == 1 and [a.i for a in gemm[0].attribute if a.name == "transB"] == [1]
    gn_net = Net(lambda c: nn.GroupNorm(GROUPS, c))
    sd = {k: v for k, v in net.state_dict().items() if ".1." not in k and ".4." not in k and ".7." not in k}
    for idx, n in zip((1, 4, 7), gns):
        sd[f"features.{idx}.weight"] = torch.from_numpy(inits[n.input[1]].copy())
        sd[f"features.{idx}.bias"] = torch.from_numpy(inits[n.input[2]].copy())
    sd["fc.weight"] = torch.from_numpy(inits[gemm[0].input[1]].copy())
    sd["fc.bias"] = torch.from_numpy(inits[gemm[0].input[2]].copy())
    gn_net.load_state_dict(sd)
    gn_net.eval()
    with torch.no_grad():
        np.save(os.path.join(exp, "logits_gn.npy" if head == "off" else "logits_gn_head.npy"),
                gn_net(torch.from_numpy(x16)).numpy())
        return (gn_net(torch.from_numpy(to_input(test_x))).argmax(1).numpy() == test_y).mean()


def gn_net_from_onnx(path):
    """An nn.GroupNorm net carrying every weight of a swapped file (swap-norm --to group --form op: GroupNormalization-21
    nodes), for running the calibrated file in PyTorch and fine-tuning from it."""
    m = onnx.load(path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    gns = [n for n in m.graph.node if n.op_type == "GroupNormalization"]
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    gemm = [n for n in m.graph.node if n.op_type == "Gemm"][0]
    net = Net(lambda c: nn.GroupNorm(GROUPS, c))
    sd = net.state_dict()
    for idx, cv, gn in zip((0, 3, 6), convs, gns):
        sd[f"features.{idx}.weight"] = torch.from_numpy(inits[cv.input[1]].copy())
        sd[f"features.{idx + 1}.weight"] = torch.from_numpy(inits[gn.input[1]].copy())
        sd[f"features.{idx + 1}.bias"] = torch.from_numpy(inits[gn.input[2]].copy())
    sd["fc.weight"] = torch.from_numpy(inits[gemm.input[1]].copy())
    sd["fc.bias"] = torch.from_numpy(inits[gemm.input[2]].copy())
    net.load_state_dict(sd)
    return net


def net_from_onnx(path):
    """The trained net with its weights read back from the committed ONNX file."""
    inits = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
    net = Net(nn.BatchNorm2d)
    sd = net.state_dict()
    for k in sd:
        if k in inits:
            sd[k] = inits[k]
    net.load_state_dict(sd)
    return net.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build", "onnxc"))
    ap.add_argument("--expected-only", action="store_true")
    ap.add_argument("--variant", choices=("contrast", "plain"), default="contrast")
    a = ap.parse_args()
    plain = a.variant == "plain"
    if a.expected_only:
        onnx_path = os.path.join(HERE, "shapes_cnn.onnx")
        data = os.path.join(HERE, "shapes_data")
        exp = os.path.join(HERE, "expected", "shapes_cnn")
        net = net_from_onnx(onnx_path)
        x16 = np.load(os.path.join(exp, "input.npy"))
        test_x = np.load(os.path.join(data, "test_images.npy"))
        test_y = np.load(os.path.join(data, "test_labels.npy"))
        with torch.no_grad():
            d = (net(torch.from_numpy(x16)).numpy() - np.load(os.path.join(exp, "logits.npy"))).max()
        assert abs(d) < 1e-4, d  # the weights read back are the trained ones
        for head in ("off", "on"):
            gacc = write_gn_expected(a.onnxc, net, onnx_path, data, exp, x16, test_x, test_y, head)
            print(f"PyTorch nn.GroupNorm net with our calibrated parameters (head refit {head}): test accuracy "
                  f"{gacc:.4f}")
        return 0
    torch.manual_seed(0)
    torch.set_num_threads(2)
    rng = np.random.default_rng(20 if plain else 19)
    train_x, train_y = render(rng, 6000, not plain)
    calib_x, _ = render(rng, 64, not plain)
    test_x, test_y = render(rng, 600, not plain)

    net = Net(nn.BatchNorm2d)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    t0 = time.time()
    X, Y = torch.from_numpy(to_input(train_x)), torch.from_numpy(train_y)
    for epoch in range(3):
        perm = torch.randperm(len(X))
        for b in range(0, len(X), 64):
            idx = perm[b:b + 64]
            loss = nn.functional.cross_entropy(net(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch}: loss {loss.item():.4f} ({time.time() - t0:.0f} s)")
    net.eval()
    with torch.no_grad():
        acc = (net(torch.from_numpy(to_input(test_x))).argmax(1).numpy() == test_y).mean()
    print(f"PyTorch test accuracy (eval): {acc:.4f}")

    data = os.path.join(HERE, "shapes_plain_data" if plain else "shapes_data")
    os.makedirs(os.path.join(data, "calib"), exist_ok=True)
    for i in range(len(calib_x)):
        np.save(os.path.join(data, "calib", f"{i:03d}.npy"), to_input(calib_x[i:i + 1]))
    np.save(os.path.join(data, "test_images.npy"), test_x)
    np.save(os.path.join(data, "test_labels.npy"), test_y)

    onnx_path = os.path.join(HERE, "shapes_plain_cnn.onnx" if plain else "shapes_cnn.onnx")
    export(net, onnx_path, torch.onnx.TrainingMode.PRESERVE)
    assert sum(n.op_type == "BatchNormalization" for n in onnx.load(onnx_path).graph.node) == 3
    if plain:
        return 0

    exp = os.path.join(HERE, "expected", "shapes_cnn")
    os.makedirs(exp, exist_ok=True)
    x16 = to_input(test_x[:16])
    np.save(os.path.join(exp, "input.npy"), x16)
    with torch.no_grad():
        np.save(os.path.join(exp, "logits.npy"), net(torch.from_numpy(x16)).numpy())

    for head in ("off", "on"):
        gacc = write_gn_expected(a.onnxc, net, onnx_path, data, exp, x16, test_x, test_y, head)
        print(f"PyTorch nn.GroupNorm net with our calibrated parameters (head refit {head}), test accuracy: "
              f"{gacc:.4f}")
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(data) for f in fs)
    print(f"committed data: {size / 1e6:.2f} MB; models {os.path.getsize(onnx_path) / 1e3:.0f} KB each")


if __name__ == "__main__":
    sys.exit(main())
