#!/usr/bin/python3
"""Export the benchmark CNNs from torchvision with random weights into bench/models-gen/ (git-ignored): ResNet-18,
MobileNetV2 and ResNet-50, batch 1 x 3 x 224 x 224, opset 13. BatchNormalization is kept
(training=TrainingMode.PRESERVE, no constant folding), as a user's export looks before `onnxc optimize`.
Usage: /usr/bin/python3 bench/gen_models.py [OUT_DIR]   (existing files are kept)"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {
    "resnet18": torchvision.models.resnet18,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
    "resnet50": torchvision.models.resnet50,
}


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
    torch.onnx.export(model, x, tmp, opset_version=13, input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    os.replace(tmp, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "models-gen")
    os.makedirs(out, exist_ok=True)
    for name in MODELS:
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        print("exporting %s -> %s" % (name, path), file=sys.stderr)
        export(name, path)


if __name__ == "__main__":
    main()
