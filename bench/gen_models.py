#!/usr/bin/python3
"""Export the benchmark CNNs from torchvision with random weights into bench/models-gen/ (git-ignored): ResNet-18,
MobileNetV2 and ResNet-50, MobileNetV3-Small, EfficientNet-B0, MnasNet-0.5 and ConvNeXt-Tiny, batch 1 x 3 x 224 x 224,
opset 13 (ConvNeXt-Tiny 17). BatchNormalization is kept
(training=TrainingMode.PRESERVE, no constant folding), as a user's export looks before `onnxc optimize`.
Also convnext_s56, a normalization-heavy ConvNeXt-style stack (opset 17, so LayerNorm exports as
LayerNormalization): a 4 x 4 stride-4 stem to 56 x 56, then blocks of depthwise 7 x 7 conv, LayerNorm over
channels (channels-last, between Transposes), pointwise MLP with GELU, layer scale and a residual Add.
Also the rest of issue 14's zoo (MobileNetV3, EfficientNet-B0, SqueezeNet, MnasNet, DenseNet, ConvNeXt-T, RegNetY,
ShuffleNetV2, GoogLeNet, VGG-11-BN, LR-ASPP and the SSDlite backbone + heads).
Usage: /usr/bin/python3 bench/gen_models.py [OUT_DIR [NAME...]]   (existing files are kept; names: all of MODELS)"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


class ChannelsLastNorm(torch.nn.Module):
    """LayerNorm over the channels of an N x C x H x W tensor, the way ConvNeXt writes it (permute, norm,
    permute back)."""

    def __init__(self, dim):
        super().__init__()
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(torch.nn.Module):
    """ConvNeXt's block: depthwise 7 x 7, then channels-last LayerNorm, Linear 4x, GELU, Linear back, layer
    scale, residual."""

    def __init__(self, dim):
        super().__init__()
        self.dw = torch.nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = torch.nn.Linear(dim, 4 * dim)
        self.act = torch.nn.GELU()
        self.pw2 = torch.nn.Linear(4 * dim, dim)
        self.gamma = torch.nn.Parameter(torch.rand(dim) * 0.5 + 0.25)

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(self.act(self.pw1(self.norm(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class LogitsOnly(torch.nn.Module):
    """A segmentation model's "out" map alone (torchvision returns a dict)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class SSDliteBackbone(torch.nn.Module):
    """SSDlite320-MobileNetV3-Large's feature extractor and heads (the detector without anchor decoding and NMS),
    on a 224 x 224 input like the rest: concatenated box regressions and class logits."""

    def __init__(self):
        super().__init__()
        det = torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
        self.backbone = det.backbone
        self.head = det.head

    def forward(self, x):
        out = self.head(list(self.backbone(x).values()))
        return torch.cat([out["bbox_regression"], out["cls_logits"]], dim=2)


def convnext_s56(weights=None):
    """ConvNeXt-T's first stage at 56 x 56 (96 channels, 3 blocks) and a small head."""
    del weights
    dim = 96
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, dim, 4, stride=4), ChannelsLastNorm(dim),
        *[ConvNeXtBlock(dim) for _ in range(3)],
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.LayerNorm(dim, eps=1e-6),
        torch.nn.Linear(dim, 1000))


MODELS = {
    "resnet18": torchvision.models.resnet18,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
    "resnet50": torchvision.models.resnet50,
    "convnext_s56": convnext_s56,
    # the families issue 14 measures: HardSwish/HardSigmoid and squeeze-excite (MobileNetV3), SiLU and 5 x 5
    # depthwise (EfficientNet, MnasNet), 7 x 7 depthwise, LayerNorm and GELU on channels-last MatMul (ConvNeXt),
    # and the rest of the zoo beyond the three the executor was first tuned on
    "mobilenet_v3_small": torchvision.models.mobilenet_v3_small,
    "mobilenet_v3_large": torchvision.models.mobilenet_v3_large,
    "efficientnet_b0": torchvision.models.efficientnet_b0,
    "squeezenet1_1": torchvision.models.squeezenet1_1,
    "mnasnet0_5": torchvision.models.mnasnet0_5,
    "densenet121": torchvision.models.densenet121,
    "convnext_tiny": torchvision.models.convnext_tiny,
    "regnet_y_400mf": torchvision.models.regnet_y_400mf,
    "shufflenet_v2_x1_0": torchvision.models.shufflenet_v2_x1_0,
    "googlenet": lambda weights=None: torchvision.models.googlenet(weights=weights, aux_logits=False,
                                                                   init_weights=True),
    "vgg11_bn": torchvision.models.vgg11_bn,
    "lraspp_mobilenet_v3_large": lambda weights=None: LogitsOnly(
        torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=weights, weights_backbone=None)),
    "ssdlite_mobilenet_v3_backbone": lambda weights=None: SSDliteBackbone(),
}
# LayerNormalization entered ONNX in opset 17; the torchvision CNNs stay at 13 as before
OPSET = {"convnext_s56": 17, "convnext_tiny": 17}


def randomize_bn(model, gen):
    """Random running statistics and affine parameters, so BN folding changes every weight (fresh BN layers
    are the identity: mean 0, var 1, gamma 1, beta 0)."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.1)


def export(name, path):
    torch.manual_seed(0)
    model = MODELS[name](weights=None)
    with torch.no_grad():
        randomize_bn(model, torch.Generator().manual_seed(1))
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    tmp = path + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=OPSET.get(name, 13), input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    os.replace(tmp, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "models-gen")
    os.makedirs(out, exist_ok=True)
    names = sys.argv[2:] or list(MODELS)
    for name in names:
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        print("exporting %s -> %s" % (name, path), file=sys.stderr)
        export(name, path)


if __name__ == "__main__":
    main()
