#!/usr/bin/python3
"""Authors the small test models in models/ with PyTorch, and their expected outputs (computed by PyTorch, the
independent truth the C runtime is checked against). Run by hand: /usr/bin/python3 models/author_models.py
Deterministic: fixed seeds; rerunning rewrites the same files (up to the exporter's version)."""
import json
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected")
FP32_NMSE = 1e-10


def randomize_norms(model, gen):
    """Give every normalization layer random affine parameters and (for BN) random running statistics, so a
    wrong fold or a swapped mean/var shows up. running_mean ~ N(0, 0.5), running_var ~ U(0.5, 2)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
            m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def conv_bn(cin, cout, k=3, s=1, groups=1, bias=True, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=bias), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------- models

class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c, act=False)

    def forward(self, x):
        return F.relu(self.b(self.a(x)) + x)


class DetectorSmall(nn.Module):
    """A detector-like CNN: Conv(+bias) -> BN -> ReLU blocks, residual adds, a stride-2 downsample and a head with
    two outputs (class logits and box regressions per anchor), both 1x1 convs."""

    def __init__(self, anchors=3, classes=5):
        super().__init__()
        self.stem = conv_bn(3, 16)
        self.res1 = ResBlock(16)
        self.down = conv_bn(16, 32, s=2)
        self.res2 = ResBlock(32)
        self.neck = conv_bn(32, 32, k=1)
        self.cls = nn.Conv2d(32, anchors * classes, 1)
        self.box = nn.Conv2d(32, anchors * 4, 1)

    def forward(self, x):
        f = self.neck(self.res2(self.down(self.res1(self.stem(x)))))
        return self.cls(f), self.box(f)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, s=stride, bias=False)
        self.c2 = conv_bn(cout, cout, bias=False, act=False)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = conv_bn(cin, cout, k=1, s=stride, bias=False, act=False)

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        return F.relu(self.c2(self.c1(x)) + idt)


class ResNetLike(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = conv_bn(3, 16, bias=False)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.l1 = BasicBlock(16, 16, 1)
        self.l2 = BasicBlock(16, 32, 2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.l2(self.l1(self.pool(self.stem(x))))
        return self.fc(torch.flatten(self.gap(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class MobileNetV2Like(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.b1 = InvertedResidual(16, 16, 1, 4)
        self.b2 = InvertedResidual(16, 24, 2, 4)
        self.b3 = InvertedResidual(24, 24, 1, 4)
        self.last = nn.Sequential(nn.Conv2d(24, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.last(self.b3(self.b2(self.b1(self.stem(x)))))
        return self.fc(x.mean((2, 3)))


class InvertedResidualHid(nn.Module):
    """InvertedResidual with an explicit hidden width and depthwise stride."""
    def __init__(self, cin, hid, cout, stride):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class MobileNetBlocked(nn.Module):
    """Shapes for onnxc's blocked (NCHW8c) depthwise-separable path: a 30-wide plane, odd sizes, stride-2 and
    stride-1 depthwise convs down to 2 x 2, hidden widths that are not multiples of 16 (40, 264: a last single
    block of 8 channels, a projection depth not cut at a multiple of 8), positions not multiples of 6."""
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.blocks = nn.Sequential(
            InvertedResidualHid(16, 40, 16, 1), InvertedResidualHid(16, 48, 24, 2), InvertedResidualHid(24, 144, 24, 1),
            InvertedResidualHid(24, 264, 32, 2), InvertedResidualHid(32, 64, 40, 2), InvertedResidualHid(40, 80, 40, 2),
            InvertedResidualHid(40, 80, 40, 1))
        self.last = nn.Sequential(nn.Conv2d(40, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(self.last(self.blocks(self.stem(x))).mean((2, 3)))


class ConvTransposeDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1, output_padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.up2 = nn.ConvTranspose2d(16, 16, 4, stride=2, padding=1, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.out = nn.Conv2d(16, 3, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.bn1(self.up1(x)))
        x = F.relu(self.bn2(self.up2(x)))
        return self.out(x)


class SegHead(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.f1 = conv_bn(3, 16)
        self.f2 = conv_bn(16, 32, s=2)
        self.f3 = conv_bn(32, 32, s=2)
        self.mix = conv_bn(64, 16)
        self.cls = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        a = self.f1(x)      # 32x32
        b = self.f2(a)      # 16x16
        c = self.f3(b)      # 8x8
        up = F.interpolate(c, scale_factor=2.0, mode="bilinear", align_corners=False)
        m = self.mix(torch.cat([up, b], 1))
        m = F.interpolate(m, size=(32, 32), mode="nearest")
        return self.cls(torch.cat([m, a], 1))


class LayerNormBlock(nn.Module):
    """A transformer-style MLP block: Linear -> LayerNorm -> GELU (exported with Erf) -> Linear, residual,
    LayerNorm."""

    def __init__(self, d=32, hid=64):
        super().__init__()
        self.fc1 = nn.Linear(d, hid)
        self.ln1 = nn.LayerNorm(hid)
        self.fc2 = nn.Linear(hid, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        h = F.gelu(self.ln1(self.fc1(x)))
        return self.ln2(x + self.fc2(h))


class GroupNormBlock(nn.Module):
    """nn.GroupNorm with G in between, G = C and G = 1; torch 1.13 exports each as Reshape ->
    InstanceNormalization -> Reshape -> Mul -> Add."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.g1 = nn.GroupNorm(4, 16)
        self.c2 = nn.Conv2d(16, 16, 3, padding=1)
        self.g2 = nn.GroupNorm(16, 16)
        self.c3 = nn.Conv2d(16, 8, 1)
        self.g3 = nn.GroupNorm(1, 8)

    def forward(self, x):
        x = F.relu(self.g1(self.c1(x)))
        x = F.relu(self.g2(self.c2(x)))
        return self.g3(self.c3(x))


class LinearBN1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 8, bias=False)
        self.bn2 = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn2(self.fc2(F.relu(self.bn1(self.fc1(x)))))


class Conv1dBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 3, padding=1)
        self.b1 = nn.BatchNorm1d(8)
        self.c2 = nn.Conv1d(8, 8, 5, stride=2, padding=2, bias=False)
        self.b2 = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.b2(self.c2(F.relu(self.b1(self.c1(x)))))


class Conv3dBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv3d(2, 4, 3, padding=1)
        self.b1 = nn.BatchNorm3d(4)
        self.c2 = nn.Conv3d(4, 4, 3, stride=2, padding=1, bias=False)
        self.b2 = nn.BatchNorm3d(4)

    def forward(self, x):
        return self.b2(self.c2(F.relu(self.b1(self.c1(x)))))


class GroupedConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(16, 32, 3, padding=1, groups=4)
        self.b1 = nn.BatchNorm2d(32)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)  # depthwise
        self.b2 = nn.BatchNorm2d(32)

    def forward(self, x):
        return self.b2(self.c2(F.relu(self.b1(self.c1(x)))))


class SwapNormSmall(nn.Module):
    """The swap-norm truth model: BatchNorm layers whose channel counts exercise every group rule of
    `onnxc swap-norm --to group` (G = 32): 64 channels (32 groups), 48 (not divisible: 24 groups, and a
    non-default epsilon that must carry over), 16 (fewer than 32: 16 groups) and a BatchNorm1d on a rank-2
    [N, 64] input. Conv biases are kept (they matter once statistics are per sample). `norm(C, eps)` builds the
    normalization layers: BatchNorm for the exported model, nn.GroupNorm for the truth."""

    def __init__(self, norm2d=None, norm1d=None):
        super().__init__()
        norm2d = norm2d or (lambda c, eps: nn.BatchNorm2d(c, eps=eps))
        norm1d = norm1d or (lambda c, eps: nn.BatchNorm1d(c, eps=eps))
        self.c1 = nn.Conv2d(3, 64, 3, padding=1)
        self.n1 = norm2d(64, 1e-5)
        self.c2 = nn.Conv2d(64, 48, 1, stride=2)
        self.n2 = norm2d(48, 1e-3)
        self.c3 = nn.Conv2d(48, 16, 1, bias=False)
        self.n3 = norm2d(16, 1e-5)
        self.fc = nn.Linear(16, 64)
        self.n4 = norm1d(64, 1e-5)

    def forward(self, x):
        x = F.relu(self.n1(self.c1(x)))
        x = F.relu(self.n2(self.c2(x)))
        f = self.n3(self.c3(x))
        return f, self.n4(self.fc(f.mean((2, 3))))


# ---------------------------------------------------------------------------------------------- export

# name, module factory, input shape (batch first), output names, opset, batch sizes with expected data, doc
SPECS = [
    ("detector_small", DetectorSmall, (3, 64, 64), ["cls_logits", "box_regression"], 13, [1, 2],
     "the README's default model: Conv(+bias)->BN->ReLU, residual adds, stride-2 downsample, two-output head"),
    ("resnet_like", ResNetLike, (3, 32, 32), ["logits"], 11, [1, 2],
     "ResNet basic blocks (bias-free convs), projection shortcut, MaxPool, GlobalAveragePool, Gemm"),
    ("mobilenetv2_like", MobileNetV2Like, (3, 32, 32), ["logits"], 13, [1],
     "inverted residuals with depthwise convs; ReLU6 exported as Clip; ReduceMean as pooling"),
    ("convtranspose_decoder", ConvTransposeDecoder, (16, 8, 8), ["output"], 13, [1, 2],
     "ConvTranspose stride 2 with output_padding and a grouped ConvTranspose, each followed by BN"),
    ("seg_head", SegHead, (3, 32, 32), ["output"], 13, [1],
     "segmentation head: bilinear (align_corners=False) and nearest Resize, Concat of feature maps"),
    ("layernorm_block", LayerNormBlock, (8, 32), ["output"], 17, [1, 2],
     "Linear -> LayerNormalization (opset 17 node) -> GELU (Erf) -> Linear, residual, LayerNormalization"),
    ("layernorm_block_op13", LayerNormBlock, (8, 32), ["output"], 13, [1],
     "the same block at opset 13, where LayerNorm is exported as ReduceMean/Sub/Pow/Sqrt/Div"),
    ("groupnorm_block", GroupNormBlock, (3, 16, 16), ["output"], 13, [1, 2],
     "nn.GroupNorm with G=4, G=C and G=1, exported as Reshape->InstanceNormalization->Reshape->Mul->Add"),
    ("linear_bn1d", LinearBN1d, (32,), ["output"], 13, [1, 4],
     "Gemm -> BatchNormalization on rank-2 [N, C] input"),
    ("conv1d_bn", Conv1dBN, (4, 50), ["output"], 11, [1],
     "Conv1d -> BatchNormalization on rank-3 input"),
    ("conv3d_bn", Conv3dBN, (2, 6, 8, 8), ["output"], 13, [1],
     "Conv3d -> BatchNormalization on rank-5 input"),
    ("grouped_conv_bn", GroupedConvBN, (16, 12, 12), ["output"], 13, [1],
     "grouped Conv (groups=4) and depthwise Conv, each followed by BN"),
    ("swapnorm_small", SwapNormSmall, (3, 16, 16), ["features", "embedding"], 13, [1, 2],
     "swap-norm truth: BN over 64, 48 (eps 1e-3), 16 channels and BatchNorm1d on [N, 64]; Conv biases kept"),
    ("mobilenet_blocked", MobileNetBlocked, (3, 30, 30), ["logits"], 13, [1, 2],
     "inverted residuals shaped for the blocked NCHW8c path: 30x30 to 2x2 planes, hidden widths 40 and 264"),
]


def case_dir(name, batch, first):
    """Batch-1 (first) data sits in expected/<name>/, other batch sizes in expected/<name>/batch<B>/."""
    d = os.path.join(EXPECTED, name)
    return d if first else os.path.join(d, "batch%d" % batch)


def save_case(d, inputs, outputs):
    os.makedirs(d, exist_ok=True)
    for i, a in enumerate(inputs):
        np.save(os.path.join(d, "input_%d.npy" % i), np.ascontiguousarray(a))
    for i, a in enumerate(outputs):
        np.save(os.path.join(d, "output_%d.npy" % i), np.ascontiguousarray(a))


def io_entry(names, arrays, dims_names):
    return [{"name": n, "shape": list(a.shape), "dims": d, "dtype": str(a.dtype)}
            for n, a, d in zip(names, arrays, dims_names)]


def export_torch(seed, name, factory, shape, out_names, opset, batches, doc):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1000)
    model = factory()
    with torch.no_grad():
        randomize_norms(model, gen)
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    dummy = torch.randn((1,) + shape, generator=gen)
    dyn = {"input": {0: "N"}}
    for o in out_names:
        dyn[o] = {0: "N"}
    torch.onnx.export(model, dummy, path, input_names=["input"], output_names=out_names, opset_version=opset,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, dynamic_axes=dyn)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    cases = []
    rng = np.random.default_rng(seed)
    for bi, b in enumerate(batches):
        x = rng.standard_normal((b,) + shape).astype(np.float32)
        with torch.no_grad():
            y = model(torch.from_numpy(x))
        ys = [t.numpy() for t in (y if isinstance(y, tuple) else (y,))]
        d = case_dir(name, b, bi == 0)
        save_case(d, [x], ys)
        cases.append({"dir": os.path.relpath(d, HERE), "batch": b,
                      "inputs": io_entry(["input"], [x], [["N"] + list(shape)]),
                      "outputs": io_entry(out_names, ys, [None] * len(ys))})
    ops = sorted({n.op_type for n in m.graph.node})
    bn = sum(1 for n in m.graph.node if n.op_type == "BatchNormalization")
    return {"name": name, "file": name + ".onnx", "opset": opset, "doc": doc, "ops": ops, "batchnorm_nodes": bn,
            "checker": True, "tolerance": {"nmse": FP32_NMSE}, "cases": cases}


def export_native_groupnorm(seed, opset):
    """GroupNormalization as a single node (opset 18: scale/bias per group; opset 21: per channel). onnx 1.12
    predates the op, so the graph is built by hand and not run through the checker; the expected output is
    PyTorch's F.group_norm with the per-group parameters repeated over each group's channels."""
    name = "groupnorm%d_native" % opset
    n_groups, ch = 4, 12
    gen = torch.Generator().manual_seed(seed)
    conv_w = torch.randn(ch, 3, 3, 3, generator=gen) * 0.3
    conv_b = torch.randn(ch, generator=gen) * 0.1
    per = n_groups if opset < 21 else ch
    scale = torch.rand(per, generator=gen) + 0.5
    bias = torch.randn(per, generator=gen) * 0.2
    eps = 1e-3

    def reference(x):
        f = F.conv2d(x, conv_w, conv_b, padding=1)
        s, b = scale, bias
        if opset < 21:
            s = scale.repeat_interleave(ch // n_groups)
            b = bias.repeat_interleave(ch // n_groups)
        return F.group_norm(f, n_groups, s, b, eps)

    inits = [numpy_helper.from_array(t.numpy(), n) for t, n in
             ((conv_w, "conv.weight"), (conv_b, "conv.bias"), (scale, "gn.scale"), (bias, "gn.bias"))]
    nodes = [helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["feat"], name="conv",
                              pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("GroupNormalization", ["feat", "gn.scale", "gn.bias"], ["output"], name="gn",
                              num_groups=n_groups, epsilon=eps)]
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 10, 10])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", ch, 10, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnxc author_models")
    m.ir_version = 8 if opset < 21 else 10
    path = os.path.join(HERE, name + ".onnx")
    onnx.save(m, path)
    cases = []
    rng = np.random.default_rng(seed)
    for bi, b in enumerate([1, 2]):
        x = rng.standard_normal((b, 3, 10, 10)).astype(np.float32)
        with torch.no_grad():
            y = reference(torch.from_numpy(x)).numpy()
        d = case_dir(name, b, bi == 0)
        save_case(d, [x], [y])
        cases.append({"dir": os.path.relpath(d, HERE), "batch": b,
                      "inputs": io_entry(["input"], [x], [["N", 3, 10, 10]]),
                      "outputs": io_entry(["output"], [y], [None])})
    doc = ("Conv -> GroupNormalization-%d node (%s scale/bias), hand-built; expected from torch F.group_norm"
           % (opset, "per-group" if opset < 21 else "per-channel"))
    return {"name": name, "file": name + ".onnx", "opset": opset, "doc": doc, "ops": ["Conv", "GroupNormalization"],
            "batchnorm_nodes": 0, "checker": False, "tolerance": {"nmse": FP32_NMSE}, "cases": cases}


def swap_groups(kind, c, want=32):
    """The group count `onnxc swap-norm --to kind` must pick for c channels (the issue's rule, written here
    independently of the C code): group: the largest divisor of c not above want; instance: c; layer: 1."""
    if kind == "instance":
        return c
    if kind == "layer":
        return 1
    return max(d for d in range(1, min(c, want) + 1) if c % d == 0)


def export_swapnorm_truth(entry):
    """For swapnorm_small: the same network with every BatchNorm replaced by nn.GroupNorm(G, C) (weight and bias
    copied from the BN's gamma and beta, same epsilon, the running statistics unused), run by PyTorch on the
    model's batch-2 input, for --to group / instance / layer. Only the outputs are kept: torch 1.13's exporter
    cannot export GroupNorm on a rank-2 input (IndexError in _unsqueeze_helper), which onnxc's swap handles."""
    name = entry["name"]
    # rebuild the exported BN model exactly as export_torch did (same seeds, same construction order) and make
    # sure it still gives the saved outputs
    seed = 100 + [sp[0] for sp in SPECS].index(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1000)
    bn_model = SwapNormSmall()
    with torch.no_grad():
        randomize_norms(bn_model, gen)
    bn_model.eval()
    case = os.path.join(HERE, entry["cases"][-1]["dir"])
    x = np.load(os.path.join(case, "input_0.npy"))
    with torch.no_grad():
        for i, y in enumerate(bn_model(torch.from_numpy(x))):
            assert np.array_equal(y.numpy(), np.load(os.path.join(case, "output_%d.npy" % i))), "BN model differs"
    truths = []
    for kind in ("group", "instance", "layer"):
        gn = lambda c, eps: nn.GroupNorm(swap_groups(kind, c), c, eps=eps)
        model = SwapNormSmall(gn, gn)
        state = {k: v for k, v in bn_model.state_dict().items()
                 if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
        model.load_state_dict(state)  # GroupNorm's weight/bias take the BN's gamma/beta
        model.eval()
        with torch.no_grad():
            ys = [t.numpy() for t in model(torch.from_numpy(x))]
        d = os.path.join(case, "swap_" + kind)
        save_case(d, [x], ys)
        groups = {c: swap_groups(kind, c) for c in (64, 48, 16)}
        truths.append({"to": kind, "dir": os.path.relpath(d, HERE), "groups_by_channels": groups,
                       "outputs": io_entry(["features", "embedding"], ys, [None, None])})
    entry["swap_truth"] = truths


def main():
    if os.path.isdir(EXPECTED):
        shutil.rmtree(EXPECTED)
    torch.set_num_threads(1)
    entries = []
    for i, spec in enumerate(SPECS):
        entries.append(export_torch(100 + i, *spec))
    entries.append(export_native_groupnorm(500, 18))
    entries.append(export_native_groupnorm(501, 21))
    export_swapnorm_truth(next(e for e in entries if e["name"] == "swapnorm_small"))
    with open(os.path.join(HERE, "MANIFEST.json"), "w") as f:
        json.dump({"generated_by": "models/author_models.py", "torch": torch.__version__, "onnx": onnx.__version__,
                   "nmse": "sum((got - want)^2) / sum(want^2)", "models": entries}, f, indent=1)
        f.write("\n")
    # The plain-text twin the C test reads: one line per case.
    with open(os.path.join(HERE, "MANIFEST.txt"), "w") as f:
        f.write("# model case_dir n_inputs n_outputs max_nmse  (written by author_models.py; paths relative to "
                "models/)\n")
        for e in entries:
            for c in e["cases"]:
                f.write("%s %s %d %d %g\n" % (e["file"], c["dir"], len(c["inputs"]), len(c["outputs"]),
                                              e["tolerance"]["nmse"]))
    for e in entries:
        size = os.path.getsize(os.path.join(HERE, e["file"]))
        print("%-26s %7d bytes  opset %2d  BN nodes %2d  ops %s" % (e["file"], size, e["opset"],
                                                                   e["batchnorm_nodes"], " ".join(e["ops"])))


if __name__ == "__main__":
    main()
