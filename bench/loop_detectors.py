#!/usr/bin/python3
"""torchvision's Mask R-CNN and Keypoint R-CNN (ResNet-50-FPN, random weights, 256x256, score threshold 0, opset
13) exported from PyTorch, whose mask pasting / keypoint decoding the exporter writes as a Loop over the
detections, run by `onnxc run` and compared with PyTorch's own outputs: detections matched by box (a float tie
may swap two equal scores), then the labels, scores and masks / keypoints of matched detections. Needs torch and
torchvision (not CI); the models (180 MB each) go to OUT_DIR (default /tmp/onnxc-loop-detectors).
Usage: loop_detectors.py [--out OUT_DIR] [--onnxc PATH] [--only maskrcnn|keypointrcnn]"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def export(name, out):
    import torch
    import torchvision
    torch.manual_seed(0)
    kw = dict(weights=None, weights_backbone=None, min_size=256, max_size=256, box_score_thresh=0.0)
    ctor = {"maskrcnn": torchvision.models.detection.maskrcnn_resnet50_fpn,
            "keypointrcnn": torchvision.models.detection.keypointrcnn_resnet50_fpn}[name]
    m = ctor(**kw).eval()
    x = torch.rand(3, 256, 256)
    with torch.no_grad():
        ref = m([x])[0]
    path = os.path.join(out, f"{name}.onnx")
    torch.onnx.export(m, ([x],), path, opset_version=13, input_names=["image"])
    np.save(os.path.join(out, f"{name}_image.npy"), x.numpy())
    return path, {k: v.numpy() for k, v in ref.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/onnxc-loop-detectors")
    ap.add_argument("--onnxc", default=os.path.join(HERE, "..", "build", "onnxc"))
    ap.add_argument("--only")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    bad = 0
    for name, extra in (("maskrcnn", "masks"), ("keypointrcnn", "keypoints")):
        if a.only and a.only != name:
            continue
        path, ref = export(name, a.out)
        od = os.path.join(a.out, f"{name}_out")
        subprocess.run([a.onnxc, "run", path, "--input", "image=" + os.path.join(a.out, f"{name}_image.npy"),
                        "--output-dir", od, "--threads", "2", "-q"], check=True)
        import onnx
        outs = [o.name for o in onnx.load(path, load_external_data=False).graph.output]
        keys = ["boxes", "labels", "scores", extra] + (["keypoints_scores"] if extra == "keypoints" else [])
        got = {}
        for k, o in zip(keys, outs):
            fn = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in o)
            got[k] = np.load(os.path.join(od, fn + ".npy"))
        n, matched, worst = len(ref["boxes"]), 0, {k: 0.0 for k in keys[1:]}
        for i in range(n):
            j = int(np.argmin(np.abs(ref["boxes"] - got["boxes"][i]).max(axis=1)))
            if np.abs(ref["boxes"][j] - got["boxes"][i]).max() > 0.05:
                continue
            matched += 1
            for k in keys[1:]:
                worst[k] = max(worst[k], float(np.abs(got[k][i].astype(np.float64) - ref[k][j]).max()))
        ok = matched == n and len(got["boxes"]) == n and worst["labels"] == 0
        bad += not ok
        print(f"{name}: {matched} of {n} detections matched by box (onnxc gave {len(got['boxes'])}); max |diff| "
              + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()) + ("" if ok else "  MISMATCH"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
