#!/usr/bin/python3
"""Authors models/fp16/: a small PyTorch CNN (Conv / BatchNormalization / Relu / MaxPool / a residual Add /
GlobalAveragePool / Linear) as float32, float16 and bfloat16 ONNX graphs, with PyTorch's outputs.

- cnn_f32.onnx: torch.onnx.export of the float model (BatchNormalization kept: PRESERVE, no constant folding).
- cnn_f16.onnx: the same graph with PyTorch's `model.half()` parameters (the initializers are exactly the
  tensors of model.half().state_dict()) and float16 input / output. PyTorch 1.13 cannot run a half model on
  the CPU ("slow_conv2d_cpu" not implemented for 'Half'), so it cannot trace one either: the graph is the
  float export with its types changed by onnx.helper (as ONNX Runtime's float16 converter does).
- cnn_bf16.onnx: the same with model.bfloat16() parameters and bfloat16 input / output.
Expected outputs (expected/): input.npy (float32, its values exact in float16 and bfloat16: the input is
rounded to bfloat16, whose values all fit float16 in this range; the same values as input_f16.npy and
input_bf16.pb), f32/logits.npy (PyTorch float32 model),
f16_weights/logits.npy and bf16_weights/logits.npy (PyTorch, float32 arithmetic on the half / bfloat16
parameters: what a float16 run approaches when only its storage rounds).
Run by hand: /usr/bin/python3 models/author_fp16.py (deterministic; needs torch, the test does not)."""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fp16")
EXP = os.path.join(HERE, "expected")


class SmallCNN(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 16, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.c3 = nn.Conv2d(16, 16, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.c4 = nn.Conv2d(16, 32, 3, 2, 1)
        self.bn4 = nn.BatchNorm2d(32)
        self.dw = nn.Conv2d(32, 32, 3, 1, 1, groups=32)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.c1(x)))
        x = F.max_pool2d(x, 2)
        y = F.relu(self.bn2(self.c2(x)))
        x = F.relu(self.bn3(self.c3(y)) + x)
        x = F.relu(self.bn4(self.c4(x)))
        x = F.relu(self.dw(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def bf16_bits(a):
    """float32 array -> bfloat16 bit patterns (uint16), round to nearest even (as torch and onnxc do)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def convert(m32, params, elem, path):
    """Copy of the float32 graph with every float initializer replaced by params[name] (an array already
    rounded to the target type: float16, or bfloat16 bits as uint16) and float input / output / value_info
    types set to elem."""
    m = onnx.ModelProto()
    m.CopyFrom(m32)
    g = m.graph
    for i, t in enumerate(g.initializer):
        if t.data_type != TensorProto.FLOAT:
            continue
        a = params[t.name]
        if elem == TensorProto.FLOAT16:
            nt = numpy_helper.from_array(a.astype(np.float16), t.name)
        else:
            nt = helper.make_tensor(t.name, TensorProto.BFLOAT16, a.shape, a.tobytes(), raw=True)
        g.initializer[i].CopyFrom(nt)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = elem
    for n in g.node:  # a Constant of float (none expected) would break the one-type rule
        assert n.op_type != "Constant", n
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    torch.manual_seed(17)
    gen = torch.Generator().manual_seed(17)
    model = SmallCNN().eval()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
                mod.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                mod.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(c, generator=gen) * 0.2)
    os.makedirs(EXP, exist_ok=True)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    # an input exact in both half types: bfloat16 rounding (|x| < 8, so every value is a float16 too)
    xb = torch.from_numpy((bf16_bits(x.numpy()).astype(np.uint32) << 16).view(np.float32))
    assert np.array_equal(xb.numpy().astype(np.float16).astype(np.float32), xb.numpy())
    np.save(os.path.join(EXP, "input.npy"), xb.numpy())
    np.save(os.path.join(EXP, "input_f16.npy"), xb.numpy().astype(np.float16))
    tb = helper.make_tensor("input", TensorProto.BFLOAT16, xb.shape, bf16_bits(xb.numpy()).tobytes(), raw=True)
    with open(os.path.join(EXP, "input_bf16.pb"), "wb") as f:
        f.write(tb.SerializeToString())
    p32 = os.path.join(HERE, "cnn_f32.onnx")
    torch.onnx.export(model, xb, p32, input_names=["input"], output_names=["logits"], opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m32 = onnx.load(p32)
    onnx.checker.check_model(m32)
    with torch.no_grad():
        outs = {"f32": model(xb)}
        mh = SmallCNN().eval()
        mh.load_state_dict(model.state_dict())
        mh = mh.half()
        half_params = {k: v.numpy() for k, v in mh.state_dict().items()}
        outs["f16_weights"] = mh.float()(xb)
        mb = SmallCNN().eval()
        mb.load_state_dict(model.state_dict())
        mb = mb.bfloat16()
        bf_params = {k: bf16_bits(v.float().numpy()) for k, v in mb.state_dict().items()
                     if v.dtype == torch.bfloat16}
        outs["bf16_weights"] = mb.float()(xb)
    # initializer names of the export are the state_dict names (no constant folding)
    names = {t.name for t in m32.graph.initializer if t.data_type == TensorProto.FLOAT}
    assert names <= set(half_params) and names <= set(bf_params), names - set(half_params)
    convert(m32, half_params, TensorProto.FLOAT16, os.path.join(HERE, "cnn_f16.onnx"))
    convert(m32, bf_params, TensorProto.BFLOAT16, os.path.join(HERE, "cnn_bf16.onnx"))
    for k, v in outs.items():
        os.makedirs(os.path.join(EXP, k), exist_ok=True)
        np.save(os.path.join(EXP, k, "logits.npy"), v.numpy().astype(np.float32))
    d = (outs["f16_weights"] - outs["f32"]).abs().max().item()
    print(f"wrote {HERE}: |f16 weights - f32| max {d:.3g}, |logits| max {outs['f32'].abs().max().item():.3g}")


if __name__ == "__main__":
    main()
