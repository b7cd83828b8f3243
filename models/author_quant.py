#!/usr/bin/python3
"""Authors the quantized test models in models/quant/ from a small PyTorch CNN's float weights, written with
onnx.helper in the three forms ONNX Runtime's quantization tools produce, and their expected outputs (expected/<model>/logits.npy) computed by
ONNX Runtime (bench/node_modules/onnxruntime-node through bench/ort_run.js; these ops are specified to the bit):

- quant_dynamic.onnx: dynamic quantization as onnxruntime.quantization.quantize_dynamic writes it for Conv and
  MatMul: DynamicQuantizeLinear -> ConvInteger / MatMulInteger (uint8 weights, per-tensor zero points) -> Cast
  -> Mul by x_scale * w_scale -> Add bias -> Relu. BN folded into the weights first, as the quantizer's
  pre-processing does. Every op is integer-exact or one IEEE float op per element: onnxc must equal ORT
  bit for bit.
- quant_qlinear.onnx: the QOperator form (quantize_static, QuantFormat.QOperator): QuantizeLinear ->
  QLinearConv x 3 (per-channel weight scales, int32 bias, ReLU as the output range starting at 0) -> Flatten ->
  QLinearMatMul -> DequantizeLinear -> Add bias. Integer-exact: bit for bit too.
- quant_qdq.onnx: the QDQ form (QuantFormat.QDQ): Q -> DQ pairs on activations, int8 per-channel weights and
  int32 biases through DequantizeLinear into float Conv / MatMul, and one BatchNormalization left between a
  DQ-fed Conv and its ReLU (the BN-folding case: optimize must skip it with the reason). ORT fuses the QDQ
  groups into integer kernels, onnxc runs the float ops between Q and DQ: a value that lands within float
  rounding of a .5 step may quantize one step apart, so this model is compared with a tolerance; ORT with
  graph optimizations disabled runs the same float ops as onnxc (expected/quant_qdq_unfused/).

The float model's own output (PyTorch) is saved too, so the quantization error is visible (expected/
torch_float.npy). Run by hand: /usr/bin/python3 models/author_quant.py (needs torch and node); deterministic."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "quant")
ROOT = os.path.dirname(HERE)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, 2, 1)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 32, 3, 2, 1, groups=4)
        self.fc = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        a1 = torch.relu(self.bn1(self.conv1(x)))
        a2 = torch.relu(self.bn2(self.conv2(a1)))
        a3 = torch.relu(self.conv3(a2))
        return self.fc(torch.flatten(a3, 1)), (x, a1, a2, a3)


def fold_bn(conv, bn):
    w = conv.weight.detach().double().numpy()
    b = conv.bias.detach().double().numpy()
    g = bn.weight.detach().double().numpy() / np.sqrt(bn.running_var.double().numpy() + bn.eps)
    wf = w * g[:, None, None, None]
    bf = (b - bn.running_mean.double().numpy()) * g + bn.bias.detach().double().numpy()
    return wf.astype(np.float32), bf.astype(np.float32)


def act_q(t):
    """uint8 asymmetric scale and zero point of an activation's range (including 0)."""
    lo, hi = min(0.0, float(t.min())), max(0.0, float(t.max()))
    s = np.float32((hi - lo) / 255.0)
    return s, np.uint8(round(-lo / s))


def w_q_u8(w, per_channel):
    """uint8 weights (ORT's kernels are exact for u8 x u8 on every CPU; u8 x s8 can saturate on AVX2):
    asymmetric, per tensor, or per channel scales sharing one zero point (128), as ORT's QLinearConv wants."""
    if per_channel:
        amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        s = (amax / 127.0).astype(np.float32)
        q = np.clip(np.rint(w / s.reshape((-1,) + (1,) * (w.ndim - 1))) + 128, 0, 255).astype(np.uint8)
        return q, s, np.full(w.shape[0], 128, np.uint8)
    lo, hi = min(0.0, float(w.min())), max(0.0, float(w.max()))
    s = np.float32((hi - lo) / 255.0)
    zp = np.uint8(round(-lo / s))
    return np.clip(np.rint(w / s) + zp, 0, 255).astype(np.uint8), s, zp


def w_q_s8(w):
    """int8 symmetric per-channel weights (the QDQ default of ORT's quantizer)."""
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    s = (amax / 127.0).astype(np.float32)
    q = np.clip(np.rint(w / s.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
    return q, s


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def save(model, name):
    onnx.checker.check_model(model)
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def make_model(nodes, inits, name, out_name="logits"):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])
    y = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, 10])
    g = helper.make_graph(nodes, name, [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="author_quant")
    m.ir_version = 7
    return m


def dynamic_model(layers, fc_w, fc_b):
    nodes, inits, cur = [], [], "input"
    for i, (w, b, stride, group) in enumerate(layers):
        wq, ws, wz = w_q_u8(w, False)
        p = f"c{i}"
        inits += [init(p + "_wq", wq), init(p + "_wz", wz), init(p + "_ws", ws), init(p + "_b", b.reshape(-1, 1, 1))]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [cur], [p + "_xq", p + "_xs", p + "_xz"], name=p + "_dynq"),
            helper.make_node("ConvInteger", [p + "_xq", p + "_wq", p + "_xz", p + "_wz"], [p + "_i32"],
                             name=p + "_convint", pads=[1, 1, 1, 1], strides=[stride, stride], group=group,
                             kernel_shape=[3, 3]),
            helper.make_node("Cast", [p + "_i32"], [p + "_f"], to=TensorProto.FLOAT, name=p + "_cast"),
            helper.make_node("Mul", [p + "_xs", p + "_ws"], [p + "_scale"], name=p + "_scale_mul"),
            helper.make_node("Mul", [p + "_f", p + "_scale"], [p + "_deq"], name=p + "_mul"),
            helper.make_node("Add", [p + "_deq", p + "_b"], [p + "_y"], name=p + "_add"),
            helper.make_node("Relu", [p + "_y"], [p + "_r"], name=p + "_relu"),
        ]
        cur = p + "_r"
    wq, ws, wz = w_q_u8(fc_w.T.copy(), False)
    inits += [init("fc_wq", wq), init("fc_wz", wz), init("fc_ws", ws), init("fc_b", fc_b)]
    nodes += [
        helper.make_node("Flatten", [cur], ["flat"], name="flatten"),
        helper.make_node("DynamicQuantizeLinear", ["flat"], ["fc_xq", "fc_xs", "fc_xz"], name="fc_dynq"),
        helper.make_node("MatMulInteger", ["fc_xq", "fc_wq", "fc_xz", "fc_wz"], ["fc_i32"], name="fc_matmulint"),
        helper.make_node("Cast", ["fc_i32"], ["fc_f"], to=TensorProto.FLOAT, name="fc_cast"),
        helper.make_node("Mul", ["fc_xs", "fc_ws"], ["fc_scale"], name="fc_scale_mul"),
        helper.make_node("Mul", ["fc_f", "fc_scale"], ["fc_deq"], name="fc_mul"),
        helper.make_node("Add", ["fc_deq", "fc_b"], ["logits"], name="fc_add"),
    ]
    return make_model(nodes, inits, "quant_dynamic")


def qlinear_model(layers, fc_w, fc_b, acts):
    s0, z0 = acts[0]
    nodes = [helper.make_node("QuantizeLinear", ["input", "x_s", "x_z"], ["q0"], name="quant_in")]
    inits = [init("x_s", s0), init("x_z", z0)]
    cur, cs, cz = "q0", "x_s", "x_z"
    for i, (w, b, stride, group) in enumerate(layers):
        p = f"c{i}"
        wq, ws, wz = w_q_u8(w, True)
        xs = acts[i][0]
        ys, yz = acts[i + 1]  # after ReLU: zero point 0, so saturation at 0 is the ReLU
        bq = np.rint(b.astype(np.float64) / (np.float64(xs) * ws.astype(np.float64))).astype(np.int32)
        inits += [init(p + "_w", wq), init(p + "_ws", ws), init(p + "_wz", wz), init(p + "_ys", ys),
                  init(p + "_yz", yz), init(p + "_b", bq)]
        nodes.append(helper.make_node("QLinearConv", [cur, cs, cz, p + "_w", p + "_ws", p + "_wz", p + "_ys",
                                                      p + "_yz", p + "_b"], [p + "_q"], name=p + "_qlconv",
                                      pads=[1, 1, 1, 1], strides=[stride, stride], group=group, kernel_shape=[3, 3]))
        cur, cs, cz = p + "_q", p + "_ys", p + "_yz"
    wq, ws, wz = w_q_u8(fc_w.T.copy(), False)
    ys, yz = acts[4]  # the product's range before the float bias
    inits += [init("fc_w", wq), init("fc_ws", ws), init("fc_wz", wz), init("fc_ys", ys), init("fc_yz", yz),
              init("fc_b", fc_b)]
    nodes += [helper.make_node("Flatten", [cur], ["flat"], name="flatten"),
              helper.make_node("QLinearMatMul", ["flat", cs, cz, "fc_w", "fc_ws", "fc_wz", "fc_ys", "fc_yz"],
                               ["fc_q"], name="fc_qlmatmul"),
              helper.make_node("DequantizeLinear", ["fc_q", "fc_ys", "fc_yz"], ["fc_deq"], name="fc_dq"),
              helper.make_node("Add", ["fc_deq", "fc_b"], ["logits"], name="fc_add")]
    return make_model(nodes, inits, "quant_qlinear")


def qdq_model(net, layers, fc_w, fc_b, acts):
    """layers[0] keeps its BatchNormalization (conv1's own weights, BN after the Conv)."""
    nodes, inits = [], []

    def qdq(src, s, z, tag):
        nodes.append(helper.make_node("QuantizeLinear", [src, s, z], [tag + "_q"], name=tag + "_quant"))
        nodes.append(helper.make_node("DequantizeLinear", [tag + "_q", s, z], [tag + "_dq"], name=tag + "_dequant"))
        return tag + "_dq"

    inits += [init("in_s", acts[0][0]), init("in_z", acts[0][1])]
    cur = qdq("input", "in_s", "in_z", "in")
    for i, (w, b, stride, group) in enumerate(layers):
        p = f"c{i}"
        xs = acts[i][0]
        wq, ws = w_q_s8(w)
        bq = np.rint(b.astype(np.float64) / (np.float64(xs) * ws.astype(np.float64))).astype(np.int32)
        inits += [init(p + "_wq", wq), init(p + "_ws", ws), init(p + "_wz", np.zeros(len(ws), np.int8)),
                  init(p + "_bq", bq), init(p + "_bs", (np.float32(xs) * ws).astype(np.float32)),
                  init(p + "_bz", np.zeros(len(ws), np.int32))]
        nodes += [helper.make_node("DequantizeLinear", [p + "_wq", p + "_ws", p + "_wz"], [p + "_w"], axis=0,
                                   name=p + "_w_dequant"),
                  helper.make_node("DequantizeLinear", [p + "_bq", p + "_bs", p + "_bz"], [p + "_b"], axis=0,
                                   name=p + "_b_dequant"),
                  helper.make_node("Conv", [cur, p + "_w", p + "_b"], [p + "_conv"], name=p + "_conv",
                                   pads=[1, 1, 1, 1], strides=[stride, stride], group=group, kernel_shape=[3, 3])]
        pre = p + "_conv"
        if i == 0:
            bn = net.bn1
            inits += [init("bn1_scale", bn.weight.detach().numpy()), init("bn1_bias", bn.bias.detach().numpy()),
                      init("bn1_mean", bn.running_mean.numpy()), init("bn1_var", bn.running_var.numpy())]
            nodes.append(helper.make_node("BatchNormalization", [pre, "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"],
                                          ["bn1_y"], epsilon=bn.eps, name="bn1"))
            pre = "bn1_y"
        nodes.append(helper.make_node("Relu", [pre], [p + "_r"], name=p + "_relu"))
        ys, yz = acts[i + 1]
        inits += [init(p + "_ys", ys), init(p + "_yz", yz)]
        cur = qdq(p + "_r", p + "_ys", p + "_yz", p + "_out")
    wq, ws = w_q_s8(fc_w)  # [10, 2048]: per output column after the transpose
    inits += [init("fc_wq", wq.T.copy()), init("fc_ws", ws), init("fc_wz", np.zeros(10, np.int8)),
              init("fc_b", fc_b)]
    nodes += [helper.make_node("Flatten", [cur], ["flat"], name="flatten"),
              helper.make_node("DequantizeLinear", ["fc_wq", "fc_ws", "fc_wz"], ["fc_w"], axis=1, name="fc_w_dequant"),
              helper.make_node("MatMul", ["flat", "fc_w"], ["fc_mm"], name="fc_matmul"),
              helper.make_node("Add", ["fc_mm", "fc_b"], ["logits"], name="fc_add")]
    return make_model(nodes, inits, "quant_qdq")


def ort_run(model, inp, outdir, opt="all"):
    os.makedirs(outdir, exist_ok=True)
    r = subprocess.run(["node", os.path.join(ROOT, "bench", "ort_run.js"), model, outdir, "input=" + inp,
                        "--threads", "1", "--opt", opt], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit("ort_run failed: " + r.stderr)
    return np.load(os.path.join(outdir, "logits.npy"))


def main():
    os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
    torch.manual_seed(20261203)
    net = Net().eval()
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):
            c = bn.num_features
            bn.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
            bn.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            bn.weight.copy_(torch.rand(c, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(c, generator=gen) * 0.2)
        # calibration on a batch of 8, the test input is another sample
        calib = torch.randn(8, 3, 32, 32, generator=gen)
        x = torch.randn(1, 3, 32, 32, generator=gen)
        logits_f, _ = net(x)
        logits_c, acts_t = net(calib)
    acts = [act_q(a.numpy()) for a in acts_t] + [act_q(logits_c.numpy() - net.fc.bias.detach().numpy())]
    w1, b1 = fold_bn(net.conv1, net.bn1)
    w2, b2 = fold_bn(net.conv2, net.bn2)
    w3, b3 = net.conv3.weight.detach().numpy(), net.conv3.bias.detach().numpy()
    layers = [(w1, b1, 1, 1), (w2, b2, 2, 1), (w3, b3, 2, 4)]
    fc_w, fc_b = net.fc.weight.detach().numpy(), net.fc.bias.detach().numpy()
    # the QDQ model keeps BN1 unfolded: conv1's own weights
    qdq_layers = [(net.conv1.weight.detach().numpy(), net.conv1.bias.detach().numpy(), 1, 1)] + layers[1:]
    # QDQ's first activation range is the conv1 -> BN1 -> ReLU output (acts[1]): the same
    save(dynamic_model(layers, fc_w, fc_b), "quant_dynamic")
    save(qlinear_model(layers, fc_w, fc_b, acts), "quant_qlinear")
    save(qdq_model(net, qdq_layers, fc_w, fc_b, acts), "quant_qdq")
    inp = os.path.join(OUT, "expected", "input.npy")
    np.save(inp, x.numpy())
    np.save(os.path.join(OUT, "expected", "torch_float.npy"), logits_f.numpy())
    info = {}
    for name in ("quant_dynamic", "quant_qlinear", "quant_qdq"):
        with tempfile.TemporaryDirectory() as td:
            y = ort_run(os.path.join(OUT, name + ".onnx"), inp, td)
        os.makedirs(os.path.join(OUT, "expected", name), exist_ok=True)
        np.save(os.path.join(OUT, "expected", name, "logits.npy"), y)
        err = float(np.abs(y - logits_f.numpy()).max())
        info[name] = {"max_abs_vs_torch_float": err}
        if name == "quant_qdq":
            # ORT without graph optimizations runs the same float ops between Q and DQ as onnxc
            with tempfile.TemporaryDirectory() as td:
                y2 = ort_run(os.path.join(OUT, name + ".onnx"), inp, td, "disabled")
            os.makedirs(os.path.join(OUT, "expected", name + "_unfused"), exist_ok=True)
            np.save(os.path.join(OUT, "expected", name + "_unfused", "logits.npy"), y2)
            info[name]["max_abs_fused_vs_unfused"] = float(np.abs(y - y2).max())
        print(f"{name}: ORT logits {np.round(y[0, :4], 4)} ..., max |ORT - torch float| = {err:.4g}")
    with open(os.path.join(OUT, "expected", "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
