#!/usr/bin/python3
"""Exports torchvision's complete detectors (pre-processing, backbone, heads, NMS, post-processing) with random
weights and saves PyTorch's detections on fixed synthetic images, as the truth for `onnxc run` (issue 13).

Each detector is exported twice: at opset 13 in eval mode with BatchNormalization kept
(training=TrainingMode.PRESERVE, do_constant_folding=False) and at opset 17 as a plain eval export (the
exporter's defaults: constant folding on, which folds BN into the Convs where it can).

  full size (torchvision's builders as a user calls them, weights=None, weights_backbone=None), written to
  /work/gen-det/ (or $ONNXC_GEN_DET), not committed:
    fasterrcnn_mobilenet_v3_large_320_fpn, retinanet_resnet50_fpn, fcos_resnet50_fpn, maskrcnn_resnet50_fpn,
    keypointrcnn_resnet50_fpn, ssdlite320_mobilenet_v3_large
  small (the same detector classes built from torchvision's own parts with fewer channels, classes and smaller
  images), written to models/det_*.onnx with models/expected/det_*/ (committed, run in CI by
  tests/detectors/test_detectors.py):
    R-CNNs / RetinaNet / FCOS: ResNet(Bottleneck, width_per_group=8) cut after layer1 (IntermediateLayerGetter in
    BackboneWithFPN), FPN with 32 channels, 2 (R-CNN: LastLevelMaxPool) or 3 (LastLevelP6P7) levels, 4 classes,
    small box / mask / keypoint heads; Faster R-CNN / SSDlite: mobilenet_v3_large(width_mult=0.1,
    reduced_tail=True); SSDlite at 128x128 with SSDLiteFeatureExtractorMobileNet(width_mult=0.1).

With weights=None torchvision builds its backbones with nn.BatchNorm2d (FrozenBatchNorm2d, which exports as
Mul/Add, is used only with pretrained weights), so every BN here is a real BatchNormalization node in the
opset-13 files. BN running statistics are set from two calibration images (the BN layers in train mode, the rest
in eval mode, cumulative averages) and gamma/beta are then randomized, so no BN is an identity. Classification
heads get a larger random init and score thresholds are lowered so each detector emits detections.

The opset-17 exports use an opset-16 RoiAlign symbolic registered here (register_roi_align_16): torchvision
0.14's own one leaves RoiAlign-16's coordinate_transformation_mode at its default (half_pixel = aligned=True),
so its opset-17 R-CNN exports disagree with PyTorch in every runtime.

usage: /usr/bin/python3 models/author_detectors.py [--small-only | --big-only] [NAME...]
Deterministic (fixed seeds)."""
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import resnet
from torchvision.models.detection import FCOS, FasterRCNN, KeypointRCNN, MaskRCNN, RetinaNet
from torchvision.models.detection.ssd import SSD
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.anchor_utils import AnchorGenerator, DefaultBoxGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.keypoint_rcnn import KeypointRCNNHeads, KeypointRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.ssdlite import SSDLiteFeatureExtractorMobileNet, SSDLiteHead
from torchvision.models.detection import _utils as det_utils
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.environ.get("ONNXC_GEN_DET", "/work/gen-det")
NAMES = ["fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn", "fcos_resnet50_fpn",
         "maskrcnn_resnet50_fpn", "keypointrcnn_resnet50_fpn", "ssdlite320_mobilenet_v3_large"]
SHORT = {"fasterrcnn_mobilenet_v3_large_320_fpn": "fasterrcnn", "retinanet_resnet50_fpn": "retinanet",
         "fcos_resnet50_fpn": "fcos", "maskrcnn_resnet50_fpn": "maskrcnn",
         "keypointrcnn_resnet50_fpn": "keypointrcnn", "ssdlite320_mobilenet_v3_large": "ssdlite"}
OUTPUTS = {"fasterrcnn": ["boxes", "labels", "scores"], "retinanet": ["boxes", "scores", "labels"],
           "fcos": ["boxes", "scores", "labels"], "maskrcnn": ["boxes", "labels", "scores", "masks"],
           "keypointrcnn": ["boxes", "labels", "scores", "keypoints", "keypoints_scores"],
           "ssdlite": ["boxes", "scores", "labels"]}


def images(seed, n, h, w):
    """n synthetic images [3,h,w] in [0,1]: a smooth background with filled rectangles and discs of random
    colours (seeded)."""
    rng = np.random.RandomState(seed)
    out = []
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(n):
        img = np.empty((3, h, w), np.float32)
        for c in range(3):
            img[c] = 0.3 + 0.2 * np.sin(xx / (5 + 10 * rng.rand()) + rng.rand() * 6) * np.cos(yy / (7 + 9 * rng.rand()))
        for _ in range(6):
            col = rng.rand(3).astype(np.float32)
            cx, cy = rng.rand() * w, rng.rand() * h
            rw, rh = (0.1 + 0.3 * rng.rand()) * w, (0.1 + 0.3 * rng.rand()) * h
            if rng.rand() < 0.5:
                m = (abs(xx - cx) < rw / 2) & (abs(yy - cy) < rh / 2)
            else:
                m = ((xx - cx) / (rw / 2)) ** 2 + ((yy - cy) / (rh / 2)) ** 2 < 1
            img[:, m] = col[:, None]
        img += 0.02 * rng.randn(3, h, w).astype(np.float32)
        out.append(torch.from_numpy(np.clip(img, 0, 1)))
    return out


def small_resnet_fpn(levels, ch=16):
    """ResNet (Bottleneck, width_per_group=8) cut after layer1, FPN with 32 channels; `levels` extra: maxpool
    (R-CNN) or P6/P7 (RetinaNet, FCOS)."""
    body = resnet.ResNet(resnet.Bottleneck, [1, 1, 1, 1], width_per_group=8)
    extra = LastLevelMaxPool() if levels == "maxpool" else LastLevelP6P7(ch, ch)
    return BackboneWithFPN(body, {"layer1": "0"}, [256], ch, extra_blocks=extra)


def small_mobilenet_fpn():
    mb = torchvision.models.mobilenet_v3_large(width_mult=0.1, reduced_tail=True).features
    stage = [0] + [i for i, b in enumerate(mb) if getattr(b, "_is_cn", False)] + [len(mb) - 1]
    ret = [len(stage) - 2, len(stage) - 1]
    return BackboneWithFPN(mb, {f"{stage[k]}": str(v) for v, k in enumerate(ret)},
                           [mb[stage[i]].out_channels for i in ret], 16, extra_blocks=LastLevelMaxPool())


def rcnn_common(size):
    return dict(min_size=size[0], max_size=size[1], rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=60,
                box_score_thresh=0.0, box_detections_per_img=12)


def build(short, small):
    """(model, image size (h, w), min_size, max_size) with random weights."""
    if not small:
        kw = dict(weights=None, weights_backbone=None)
        rc = dict(min_size=240, max_size=320, box_score_thresh=0.0, box_detections_per_img=20,
                  rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100)
        if short == "fasterrcnn":
            m = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(**kw, **rc)
        elif short == "retinanet":
            m = torchvision.models.detection.retinanet_resnet50_fpn(**kw, min_size=240, max_size=320,
                                                                    score_thresh=0.02, detections_per_img=20,
                                                                    topk_candidates=300)
        elif short == "fcos":
            m = torchvision.models.detection.fcos_resnet50_fpn(**kw, min_size=240, max_size=320, score_thresh=0.02,
                                                               detections_per_img=20, topk_candidates=300)
        elif short == "maskrcnn":
            m = torchvision.models.detection.maskrcnn_resnet50_fpn(**kw, **rc)
        elif short == "keypointrcnn":
            m = torchvision.models.detection.keypointrcnn_resnet50_fpn(**kw, **rc)
        elif short == "ssdlite":
            m = torchvision.models.detection.ssdlite320_mobilenet_v3_large(**kw, score_thresh=0.02,
                                                                           detections_per_img=20,
                                                                           topk_candidates=200)
        return m, (240, 320)
    nc = 4
    rc = dict(min_size=96, max_size=128, rpn_pre_nms_top_n_test=100, rpn_post_nms_top_n_test=40,
              box_score_thresh=0.0, box_detections_per_img=8)
    if short == "fasterrcnn":
        bb = small_mobilenet_fpn()
        anchors = AnchorGenerator(((16, 32, 64),) * 3, ((0.5, 1.0, 2.0),) * 3)
        m = FasterRCNN(bb, None, rpn_anchor_generator=anchors, box_head=TwoMLPHead(16 * 49, 16),
                       box_predictor=FastRCNNPredictor(16, nc), **rc)
    elif short in ("maskrcnn", "keypointrcnn"):
        bb = small_resnet_fpn("maxpool")
        anchors = AnchorGenerator(((16, 32),) * 2, ((0.5, 1.0, 2.0),) * 2)
        common = dict(rpn_anchor_generator=anchors, box_head=TwoMLPHead(16 * 49, 16),
                      box_predictor=FastRCNNPredictor(16, nc), **rc)
        if short == "maskrcnn":
            m = MaskRCNN(bb, None, mask_head=MaskRCNNHeads(16, (16, 16), 1),
                         mask_predictor=MaskRCNNPredictor(16, 16, nc), **common)
        else:
            m = KeypointRCNN(bb, None, keypoint_head=KeypointRCNNHeads(16, (16, 16)),
                             keypoint_predictor=KeypointRCNNPredictor(16, 5), **common)
    elif short in ("retinanet", "fcos"):
        bb = small_resnet_fpn("p6p7", 16 if short == "retinanet" else 32)
        if short == "retinanet":
            sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in (12, 24, 48))
            anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 3)
            m = RetinaNet(bb, nc, anchor_generator=anchors, min_size=96, max_size=128, score_thresh=0.02,
                          detections_per_img=10, topk_candidates=100)
        else:
            anchors = AnchorGenerator(((8,), (16,), (32,)), ((1.0,),) * 3)
            m = FCOS(bb, nc, anchor_generator=anchors, head=FCOSHead(32, 1, nc, num_convs=1), min_size=96, max_size=128, score_thresh=0.02,
                     detections_per_img=10, topk_candidates=100)
    elif short == "ssdlite":
        norm = lambda c: nn.BatchNorm2d(c, eps=0.001, momentum=0.03)  # noqa: E731 (as ssdlite320's builder)
        mb = torchvision.models.mobilenet_v3_large(width_mult=0.1, reduced_tail=True, norm_layer=norm).features
        stage = [0] + [i for i, b in enumerate(mb) if getattr(b, "_is_cn", False)] + [len(mb) - 1]
        bb = SSDLiteFeatureExtractorMobileNet(mb, stage[-2], norm, width_mult=0.1)
        size = (128, 128)
        anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
        outc = det_utils.retrieve_out_channels(bb, size)
        m = SSD(bb, anchors, size, nc, head=SSDLiteHead(outc, anchors.num_anchors_per_location(), nc, norm),
                score_thresh=0.02, nms_thresh=0.55, detections_per_img=10, topk_candidates=100,
                image_mean=[0.5] * 3, image_std=[0.5] * 3)
        return m, (112, 144)
    return m, (96, 128)


def randomize(m, calib):
    """BN running statistics from the calibration images, then random gamma/beta; classification heads given a
    wider init so scores spread out (random weights otherwise give near-equal scores: ties)."""
    g = torch.Generator().manual_seed(1234)
    bns = [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
    m.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        m(calib)
    m.eval()
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) * 0.8 + 0.6)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=g) * 0.1)
            bn.running_var.mul_(torch.rand(bn.running_var.shape, generator=g) * 0.4 + 0.8)
        for name, mod in m.named_modules():
            last = name.split(".")[-1]
            if last in ("cls_logits", "cls_score", "bbox_pred", "bbox_reg", "conv5_mask", "kps_score_lowres",
                        "mask_fcn_logits") or (isinstance(mod, nn.Conv2d) and "classification_head" in name):
                if hasattr(mod, "weight") and mod.weight is not None:
                    fan_in = mod.weight[0].numel()
                    mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (0.6 / fan_in ** 0.5))
                if getattr(mod, "bias", None) is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.2)
            if last == "bbox_pred":
                mod.weight.mul_(0.2)


def register_roi_align_16():
    """torchvision 0.14 registers its RoiAlign symbolic for opset 11 only and writes no
    coordinate_transformation_mode; in an opset >= 16 model that means RoiAlign-16's default, half_pixel, which
    is aligned=True, while MultiScaleRoIAlign runs aligned=False: the plain opset-17 export would not compute what
    PyTorch computes (ONNX Runtime and onnxc agree with each other on it, not with PyTorch). This is the symbolic
    torchvision 0.15 adds for opset 16: the same node with the mode written out."""
    from torch.onnx import register_custom_op_symbolic
    from torch.onnx.symbolic_helper import parse_args
    from torch.onnx.symbolic_opset11 import select, squeeze
    from torch.onnx.symbolic_opset9 import _cast_Long

    @parse_args("v", "v", "f", "i", "i", "i", "i")
    def roi_align16(g, input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
        batch_indices = _cast_Long(
            g, squeeze(g, select(g, rois, 1, g.op("Constant", value_t=torch.tensor([0], dtype=torch.long))), 1),
            False)
        rois = select(g, rois, 1, g.op("Constant", value_t=torch.tensor([1, 2, 3, 4], dtype=torch.long)))
        return g.op("RoiAlign", input, rois, batch_indices,
                    coordinate_transformation_mode_s="half_pixel" if aligned else "output_half_pixel",
                    spatial_scale_f=spatial_scale, output_height_i=pooled_height, output_width_i=pooled_width,
                    sampling_ratio_i=max(0, sampling_ratio))

    register_custom_op_symbolic("torchvision::roi_align", roi_align16, 16)


def count_ops(path):
    import onnx
    model = onnx.load(path)
    hist = {}

    def walk(g):
        for n in g.node:
            hist[n.op_type] = hist.get(n.op_type, 0) + 1
            for a in n.attribute:
                if a.g.node:
                    walk(a.g)
    walk(model.graph)
    return hist


def export_one(short, small, out_dir, exp_dir, prefix):
    torch.manual_seed(0)
    m, (h, w) = build(short, small)
    seed = NAMES.index([k for k, v in SHORT.items() if v == short][0])
    calib = images(100 + seed, 2, h, w)
    randomize(m, calib)
    imgs = images(200 + seed, 2 if small else 2, h, w)
    outs = OUTPUTS[short]
    meta = {"name": prefix, "detector": short, "small": small, "image": [3, h, w], "outputs": outs, "files": {},
            "images": []}
    with torch.no_grad():
        for i, img in enumerate(imgs):
            d = m([img])[0]
            case = os.path.join(exp_dir, prefix, f"img{i}")
            os.makedirs(case, exist_ok=True)
            np.save(os.path.join(case, "input_0.npy"), img.numpy())
            info = {}
            for o in outs:
                np.save(os.path.join(case, f"{o}.npy"), d[o].numpy())
                info[o] = list(d[o].shape)
            meta["images"].append(info)
            sc = d["scores"].numpy()
            print(f"  {prefix} img{i}: {len(sc)} detections, scores {sc.min() if len(sc) else 0:.4f}.."
                  f"{sc.max() if len(sc) else 0:.4f}", flush=True)
    from torch.onnx import TrainingMode
    for opset in (13, 17):
        path = os.path.join(out_dir, f"{prefix}_op{opset}.onnx")
        kw = dict(training=TrainingMode.PRESERVE, do_constant_folding=False) if opset == 13 else {}
        torch.onnx.export(m, ([imgs[0]],), path, opset_version=opset, input_names=["image"], output_names=outs,
                          **kw)
        hist = count_ops(path)
        meta["files"][f"op{opset}"] = {"file": os.path.basename(path), "bytes": os.path.getsize(path),
                                       "nodes": sum(hist.values()),
                                       "BatchNormalization": hist.get("BatchNormalization", 0),
                                       "Loop": hist.get("Loop", 0), "If": hist.get("If", 0), "ops": hist}
        print(f"  {path}: {os.path.getsize(path)} bytes, {sum(hist.values())} nodes, "
              f"BN {hist.get('BatchNormalization', 0)}, Loop {hist.get('Loop', 0)}", flush=True)
    return meta


def main():
    register_roi_align_16()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    which = [n for n in SHORT.values() if not args or n in args]
    todo = []
    if "--big-only" not in sys.argv:
        todo.append(True)
    if "--small-only" not in sys.argv:
        todo.append(False)
    for small in todo:
        out_dir = HERE if small else GEN
        exp_dir = os.path.join(HERE, "expected") if small else os.path.join(GEN, "expected")
        os.makedirs(out_dir, exist_ok=True)
        man_path = os.path.join(out_dir, "detectors.json" if not small else "MANIFEST_detectors.json")
        manifest = json.load(open(man_path)) if os.path.exists(man_path) else {}
        for short in which:
            prefix = f"det_{short}" if small else short
            print(f"{prefix}:", flush=True)
            manifest[prefix] = export_one(short, small, out_dir, exp_dir, prefix)
            with open(man_path, "w") as f:
                json.dump(manifest, f, indent=1, sort_keys=True)
                f.write("\n")


if __name__ == "__main__":
    main()
