#!/usr/bin/python3
"""Authors models/detect_post_op16.onnx and models/detect_post_op13.onnx with PyTorch: a small detector's tail as
torchvision writes it, whose sizes depend on the data: a Conv -> BN -> ReLU feature map, a score threshold
(NonZero), torchvision.ops.batched_nms (NonMaxSuppression over class-offset boxes), the first kept boxes, a TopK
whose K = min(4, kept) is computed at run time (torchvision's _topk_min), and torchvision.ops.roi_align of the kept
boxes (RoiAlign; aligned=True at opset 16, aligned=False at opset 13) into a 1x1 Conv and Sigmoid (a mask head).
Expected outputs are PyTorch's (models/expected/detect_post_op*/case*: several box counts, on one session), and
the lines for models/MANIFEST.txt are appended when missing. Run by hand: /usr/bin/python3
models/author_detect_post.py. Deterministic (fixed seeds)."""
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.detection import _utils as det_utils

HERE = os.path.dirname(os.path.abspath(__file__))


class DetectPost(nn.Module):
    def __init__(self, aligned, sampling_ratio):
        super().__init__()
        self.feat = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.mask = nn.Conv2d(8, 2, 1)
        self.aligned = aligned
        self.sampling_ratio = sampling_ratio

    def forward(self, image, boxes, scores, labels):
        f = self.feat(image)
        idx = torch.where(scores > 0.3)[0]
        b, s, l = boxes[idx], scores[idx], labels[idx]
        keep = torchvision.ops.batched_nms(b, s, l, 0.5)[:12]
        kb, ks, kl = b[keep], s[keep], l[keep]
        k = det_utils._topk_min(ks, 4, 0)
        top, _ = ks.topk(k)
        rois = torch.cat([torch.zeros_like(kb[:, :1]), kb], 1)
        pooled = torchvision.ops.roi_align(f, rois, (3, 3), spatial_scale=0.5, sampling_ratio=self.sampling_ratio,
                                           aligned=self.aligned)
        return kb, ks, kl, top, torch.sigmoid(self.mask(pooled))


def inputs(gen, n, hi):
    image = torch.randn(1, 3, 32, 32, generator=gen)
    xy = torch.rand(n, 2, generator=gen) * 24
    wh = torch.rand(n, 2, generator=gen) * 10 + 2
    boxes = torch.cat([xy, xy + wh], 1)
    scores = torch.rand(n, generator=gen) * hi
    labels = torch.randint(0, 3, (n,), generator=gen)
    return image, boxes, scores, labels


def main():
    torch.manual_seed(0)
    lines = []
    for opset, aligned, sr in ((16, True, 2), (13, False, -1)):
        gen = torch.Generator().manual_seed(opset)
        m = DetectPost(aligned, sr).eval()
        bn = m.feat[1]
        with torch.no_grad():
            bn.running_mean.copy_(torch.randn(8, generator=gen) * 0.5)
            bn.running_var.copy_(torch.rand(8, generator=gen) + 0.5)
        name = f"detect_post_op{opset}"
        path = os.path.join(HERE, name + ".onnx")
        ins = ["image", "boxes", "scores", "labels"]
        outs = ["boxes_kept", "scores_kept", "labels_kept", "top_scores", "masks"]
        with torch.no_grad():
            torch.onnx.export(m, inputs(gen, 30, 1.0), path, opset_version=opset, input_names=ins,
                              output_names=outs, do_constant_folding=False,
                              training=torch.onnx.TrainingMode.PRESERVE,
                              dynamic_axes={"boxes": {0: "n"}, "scores": {0: "n"}, "labels": {0: "n"}})
        for case, (n, hi) in enumerate(((30, 1.0), (8, 0.5), (60, 1.0), (6, 0.4))):
            feed = inputs(gen, n, hi)
            with torch.no_grad():
                res = m(*feed)
            d = os.path.join(HERE, "expected", name, f"case{case}")
            os.makedirs(d, exist_ok=True)
            for i, t in enumerate(feed):
                np.save(os.path.join(d, f"input_{i}.npy"), t.numpy())
            for i, t in enumerate(res):
                np.save(os.path.join(d, f"output_{i}.npy"), t.numpy())
            print(name, case, [tuple(t.shape) for t in res])
            lines.append(f"{name}.onnx expected/{name}/case{case} 4 5 1e-10")
    mf = os.path.join(HERE, "MANIFEST.txt")
    have = open(mf).read().splitlines()
    with open(mf, "a") as f:
        for ln in lines:
            if ln not in have:
                f.write(ln + "\n")


if __name__ == "__main__":
    main()
