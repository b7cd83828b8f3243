#!/usr/bin/python3
"""Write the models test_plan_fuse runs: Conv followed by each activation pattern the plan fuses into the Conv
epilogue (SiLU as Sigmoid + Mul, HardSwish-14, x * HardSigmoid(x), Sigmoid, HardSigmoid, LeakyRelu, PRelu with
its slope shapes, residual Add + activation, a squeeze-excite block on 1 x 1 planes, depthwise 5 x 5 stride 2,
depthwise 7 x 7 and 5 x 5 on wide planes, blocked-layout chains with 3 x 3 and 5 x 5) the MatMul / Gemm epilogues (bias Add, GELU in both exported forms, residual, Relu, x * HardSigmoid(x)), the 1 x 1-plane
convolutions of squeeze-excite and its gate Mul fused into the next pointwise Conv, and the forms that must not fuse (an
intermediate that is a graph output or has a second consumer, a PRelu slope per column). Expected outputs come from PyTorch in float64 on the same float32 inputs
and weights. Channel counts are mostly not multiples of 8 (the vector width).
Usage: gen_fuse_cases.py OUT_DIR (the committed copy is tests/fuse/cases: CI has no PyTorch)  (writes OUT_DIR/<case>.onnx, <case>.in.npy, <case>.out.npy and manifest.txt:
one line per case: name, how many nodes the plan must fuse, 1 when the fused result must equal the unfused plan
bit for bit (same float operations) or 0 when it is within the bound of the fused exp)."""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(1414)
OUT = sys.argv[1]
LINES = []


def arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def t64(a):
    return torch.from_numpy(np.asarray(a, np.float64))


class G:
    """A graph under construction: nodes, initializers and the torch float64 value of every tensor."""

    def __init__(self, x):
        self.nodes, self.inits, self.val, self.n = [], [], {"x": t64(x)}, 0
        self.x = x

    def name(self, p):
        self.n += 1
        return "%s%d" % (p, self.n)

    def const(self, a):
        nm = self.name("w")
        self.inits.append(numpy_helper.from_array(a, nm))
        self.val[nm] = t64(a)
        return nm

    def node(self, op, ins, value, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], **attrs))
        self.val[out] = value
        return out

    def conv(self, x, cout, k=3, stride=1, group=1, bias=True):
        cin = self.val[x].shape[1]
        w = arr(cout, cin // group, k, k, scale=1.0 / np.sqrt(cin // group * k * k))
        ins = [x, self.const(w)]
        b = None
        if bias:
            b = arr(cout, scale=0.3)
            ins.append(self.const(b))
        v = F.conv2d(self.val[x], t64(w), t64(b) if bias else None, stride=stride, padding=k // 2, groups=group)
        return self.node("Conv", ins, v, kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4,
                         group=group)


def sig(v):
    return torch.sigmoid(v)


def hsig(v, a, b):
    return torch.clamp(a * v + b, 0.0, 1.0)


def save(name, g, outs, fused, exact, opset=13):
    def vi(n):
        return helper.make_tensor_value_info(n, TensorProto.FLOAT, list(g.val[n].shape))
    graph = helper.make_graph(g.nodes, name, [vi("x")], [vi(o) for o in outs], initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_fuse_cases")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + ".in.npy"), g.x)
    for i, o in enumerate(outs):
        np.save(os.path.join(OUT, "%s.out%d.npy" % (name, i)), g.val[o].numpy().astype(np.float32))
    LINES.append("%s %d %d %d" % (name, len(outs), fused, exact))


def silu_case(name, shape, cout, swap=False, k=3, stride=1, group=1):
    g = G(arr(*shape))
    c = g.conv("x", cout, k=k, stride=stride, group=group)
    s = g.node("Sigmoid", [c], sig(g.val[c]))
    m = g.node("Mul", [s, c] if swap else [c, s], g.val[c] * g.val[s])
    save(name, g, [m], 2, 1)


def matmul(g, x, n, bias_first=False, batch_b=None):
    """MatMul by a constant [K, n] (or [batch_b, K, n]) then Add of a bias [n]: the Linear layer's export."""
    k = g.val[x].shape[-1]
    w = arr(*((batch_b,) if batch_b else ()), k, n, scale=1.0 / np.sqrt(k))
    mm = g.node("MatMul", [x, g.const(w)], torch.matmul(g.val[x], t64(w)))
    b = arr(n, scale=0.3)
    bn = g.const(b)
    return g.node("Add", [bn, mm] if bias_first else [mm, bn], g.val[mm] + t64(b))


def gelu(g, v, mul_form=False):
    """torch.nn.GELU() as the exporter writes it: Div by sqrt(2) (or Mul by 1/sqrt(2)), Erf, Add 1, Mul, Mul 0.5."""
    if mul_form:
        d = g.node("Mul", [g.const(np.array(0.70710677, np.float32)), v], g.val[v] * 0.70710677)
    else:
        d = g.node("Div", [v, g.const(np.array(1.4142135, np.float32))], g.val[v] / 1.4142135)
    e = g.node("Erf", [d], torch.erf(g.val[d]))
    a = g.node("Add", [e, g.const(np.array(1.0, np.float32))], g.val[e] + 1.0)
    m = g.node("Mul", [v, a], g.val[v] * g.val[a])
    return g.node("Mul", [m, g.const(np.array(0.5, np.float32))], g.val[m] * 0.5)


def gemm(g, x, n):
    k = g.val[x].shape[-1]
    w, b = arr(n, k, scale=1.0 / np.sqrt(k)), arr(n, scale=0.3)
    return g.node("Gemm", [x, g.const(w), g.const(b)], g.val[x] @ t64(w).T + t64(b), transB=1)


def product_cases():
    """The MatMul / Gemm epilogues: bias Add, GELU (both exported forms), residual Add, Relu, x * HardSigmoid(x),
    on a ConvNeXt-like NHWC block, a single row (matrix-vector), a batched B, and the forms that must not fuse."""
    # ConvNeXt's MLP on NHWC: MatMul + bias + GELU, MatMul + bias + residual
    g = G(arr(1, 5, 7, 24))
    h = gelu(g, matmul(g, "x", 37, bias_first=True))
    y = matmul(g, h, 24)
    r = g.node("Add", [y, "x"], g.val[y] + g.val["x"])
    save("mm_bias_gelu_residual", g, [r], 8, 1)

    # one row (the matrix-vector path), 13 columns, bias [1, 13], Relu
    g = G(arr(1, 33))
    w = arr(33, 13, scale=0.2)
    b = arr(1, 13, scale=0.3)
    mm = g.node("MatMul", ["x", g.const(w)], g.val["x"] @ t64(w))
    a = g.node("Add", [mm, g.const(b)], g.val[mm] + t64(b))
    r = g.node("Relu", [a], torch.relu(g.val[a]))
    save("mm_row_bias_relu", g, [r], 2, 1)

    # batched B ([2, 9, 11]): one product per batch; GELU in its Mul form
    g = G(arr(2, 3, 9))
    save("mm_batched_gelu_mulform", g, [gelu(g, matmul(g, "x", 11, batch_b=2), mul_form=True)], 6, 1)

    # the classifier heads: Gemm + Relu; Gemm + x * HardSigmoid(x) (MobileNetV3, opset 13) then Gemm
    g = G(arr(3, 50))
    c = gemm(g, "x", 19)
    save("gemm_relu", g, [g.node("Relu", [c], torch.relu(g.val[c]))], 1, 1)
    g = G(arr(1, 40, scale=3.0))
    c = gemm(g, "x", 21)
    hs = g.node("HardSigmoid", [c], hsig(g.val[c], 1.0 / 6, 0.5), alpha=1.0 / 6, beta=0.5)
    hm = g.node("Mul", [c, hs], g.val[c] * g.val[hs])
    save("gemm_hardswish_gemm", g, [gemm(g, hm, 10)], 2, 1)

    # not fused: a bias per row ([4, 1]) is no column bias; a PRelu slope per column; the biased value is also an
    # output (the bias Add fuses, the GELU does not)
    g = G(arr(4, 6))
    w, b = arr(6, 5), arr(4, 1)
    mm = g.node("MatMul", ["x", g.const(w)], g.val["x"] @ t64(w))
    save("mm_row_bias_not_fused", g, [g.node("Add", [mm, g.const(b)], g.val[mm] + t64(b))], 0, 1)
    g = G(arr(3, 6))
    w, sl = arr(6, 7), arr(7, scale=0.5)
    mm = g.node("MatMul", ["x", g.const(w)], g.val["x"] @ t64(w))
    p = g.node("PRelu", [mm, g.const(sl)], torch.where(g.val[mm] < 0, g.val[mm] * t64(sl), g.val[mm]))
    save("mm_prelu_per_column_not_fused", g, [p], 0, 1)
    g = G(arr(2, 10))
    v = matmul(g, "x", 12)
    save("mm_gelu_input_is_output", g, [gelu(g, v), v], 1, 1)


def se_cases():
    """Convolutions on 1 x 1 planes (the squeeze-excite block, kernels/conv_vec.c): a product large enough for
    the pool with a per-channel PRelu and batch 2, a residual + Clip on 13 channels, and a whole SE block of 36
    channels (GlobalAveragePool, SiLU, Sigmoid gate, Mul by the [N, C, 1, 1] gate)."""
    g = G(arr(2, 600, 1, 1))
    c = g.conv("x", 240, k=1)
    slope = arr(240, 1, 1, scale=0.5)
    p = g.node("PRelu", [c, g.const(slope)], torch.where(g.val[c] < 0, g.val[c] * t64(slope), g.val[c]))
    save("vec1x1_pool_prelu_batch2", g, [p], 1, 1)

    g = G(arr(1, 13, 1, 1, scale=3.0))
    c = g.conv("x", 13, k=1)
    a = g.node("Add", ["x", c], g.val["x"] + g.val[c])
    lo, hi = g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))
    save("vec1x1_residual_clip", g, [g.node("Clip", [a, lo, hi], torch.clamp(g.val[a], 0.0, 6.0))], 2, 1)

    g = G(arr(1, 36, 5, 5))
    p = g.node("GlobalAveragePool", ["x"], g.val["x"].mean(dim=(2, 3), keepdim=True))
    c1 = g.conv(p, 9, k=1)
    s1 = g.node("Sigmoid", [c1], sig(g.val[c1]))
    m1 = g.node("Mul", [c1, s1], g.val[c1] * g.val[s1])
    c2 = g.conv(m1, 36, k=1)
    s2 = g.node("Sigmoid", [c2], sig(g.val[c2]))
    save("se_block_c36_sigmoid", g, [g.node("Mul", ["x", s2], g.val["x"] * g.val[s2])], 3, 1)

    # the gate Mul read by the next pointwise Conv (fused into its input read), batch 2 (a gate per image),
    # the gate first; HardSigmoid gate on 44 channels, x first, then a projection to 12 channels with a residual
    for name, shape, cout, hard, gate_first in (("se_gate_into_conv_batch2", (2, 36, 6, 7), 20, False, True),
                                                ("se_gate_hardsigmoid_into_conv", (1, 44, 9, 5), 12, True, False)):
        g = G(arr(*shape))
        d = g.conv("x", shape[1], k=3, group=shape[1])
        p = g.node("GlobalAveragePool", [d], g.val[d].mean(dim=(2, 3), keepdim=True))
        c1 = g.conv(p, 8, k=1)
        r1 = g.node("Relu", [c1], torch.relu(g.val[c1]))
        c2 = g.conv(r1, shape[1], k=1)
        if hard:
            gt = g.node("HardSigmoid", [c2], hsig(g.val[c2], 1.0 / 6, 0.5), alpha=1.0 / 6, beta=0.5)
        else:
            gt = g.node("Sigmoid", [c2], sig(g.val[c2]))
        m = g.node("Mul", [gt, d] if gate_first else [d, gt], g.val[d] * g.val[gt])
        y = g.conv(m, cout, k=1)
        save(name, g, [y], 3, 1)

    # not fused into the Conv: the gated product is also a graph output
    g = G(arr(1, 16, 5, 5))
    p = g.node("GlobalAveragePool", ["x"], g.val["x"].mean(dim=(2, 3), keepdim=True))
    gt = g.node("Sigmoid", [g.conv(p, 16, k=1)], None)
    g.val[gt] = sig(g.val[g.nodes[-2].output[0]])
    m = g.node("Mul", ["x", gt], g.val["x"] * g.val[gt])
    save("se_gate_product_is_output", g, [g.conv(m, 8, k=1), m], 1, 1)


def bn_cases():
    """DenseNet's BatchNormalization (+ Relu or Clip) in front of a pointwise Conv, fused into the Conv's B fill
    (the BN's double affine, so bit for bit the unfused plan): on a Concat, batch 2, 33 channels on a 7 x 5 plane;
    304 channels on 14 x 14 (several K blocks and column chunks) with a residual; BN alone, and Clip, then Conv;
    the transition (BN, Relu, Conv, AveragePool); and forms that must not fuse the BN into the Conv: a 1 x 1
    plane, a stride-2 1 x 1 Conv, a 3 x 3 Conv, a second reader of the Relu."""
    def bn(g, x, eps=1e-5):
        c = g.val[x].shape[1]
        s, b, m = arr(c), arr(c, scale=0.5), arr(c, scale=0.5)
        v = (RNG.random(c) + 0.25).astype(np.float32)
        y = F.batch_norm(g.val[x], t64(m), t64(v), t64(s), t64(b), False, 0.0, eps)
        return g.node("BatchNormalization", [x] + [g.const(a) for a in (s, b, m, v)], y, epsilon=eps)

    def relu(g, x):
        return g.node("Relu", [x], torch.relu(g.val[x]))

    g = G(arr(2, 20, 7, 5))
    c = g.conv("x", 13, k=3)
    cat = g.node("Concat", ["x", c], torch.cat([g.val["x"], g.val[c]], 1), axis=1)
    save("bn_relu_into_conv_concat_batch2", g, [g.conv(relu(g, bn(g, cat)), 11, k=1)], 2, 1)

    g = G(arr(1, 304, 14, 14))
    y = g.conv(relu(g, bn(g, "x", eps=1e-3)), 21, k=1, bias=False)
    r = g.conv("x", 21, k=1)
    a = g.node("Add", [y, r], g.val[y] + g.val[r])
    save("bn_relu_into_conv_c304_residual", g, [relu(g, a)], 4, 1)

    g = G(arr(1, 12, 9, 9))
    save("bn_alone_into_conv", g, [g.conv(bn(g, "x"), 10, k=1)], 1, 1)
    g = G(arr(1, 12, 9, 9, scale=2.0))
    lo, hi = g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))
    b = bn(g, "x")
    k = g.node("Clip", [b, lo, hi], torch.clamp(g.val[b], 0.0, 6.0))
    save("bn_clip_into_conv", g, [g.conv(k, 10, k=1)], 2, 1)

    g = G(arr(1, 36, 10, 10))  # the transition: BN, Relu, 1 x 1 Conv, AveragePool
    c = g.conv(relu(g, bn(g, "x")), 18, k=1)
    save("bn_transition_avgpool", g, [g.node("AveragePool", [c], F.avg_pool2d(g.val[c], 2, 2), kernel_shape=[2, 2],
                                             strides=[2, 2])], 2, 1)

    g = G(arr(1, 20, 1, 1))  # a 1 x 1 plane: the Conv is a matrix-vector product, the BN runs (with its Relu)
    save("bn_relu_conv_plane1_not_fused", g, [g.conv(relu(g, bn(g, "x")), 9, k=1)], 1, 1)
    g = G(arr(1, 20, 9, 9))  # a stride-2 1 x 1 Conv reads through another path
    save("bn_relu_conv_s2_not_fused", g, [g.conv(relu(g, bn(g, "x")), 9, k=1, stride=2)], 1, 1)
    g = G(arr(1, 20, 9, 9))  # a 3 x 3 Conv
    save("bn_relu_conv3x3_not_fused", g, [g.conv(relu(g, bn(g, "x")), 9, k=3)], 1, 1)
    g = G(arr(1, 20, 9, 9))  # the Relu's value read twice
    rl = relu(g, bn(g, "x"))
    c = g.conv(rl, 20, k=1)
    save("bn_relu_two_readers_not_fused", g, [g.node("Add", [c, rl], g.val[c] + g.val[rl])], 2, 1)

    # the small-plane pointwise path (positions as the product's rows; 32 or 64 output channels on at most 196
    # positions) applies the BN in its input copy: batch 2 on 7 x 7, and 14 x 14 with Clip and a residual
    g = G(arr(2, 40, 7, 7))
    save("bn_relu_into_conv_small_plane_batch2", g, [g.conv(relu(g, bn(g, "x")), 32, k=1)], 2, 1)
    g = G(arr(1, 24, 14, 14, scale=2.0))
    lo, hi = g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))
    b = bn(g, "x")
    k = g.node("Clip", [b, lo, hi], torch.clamp(g.val[b], 0.0, 6.0))
    y = g.conv(k, 64, k=1)
    r = g.conv("x", 64, k=1)
    save("bn_clip_into_conv_small_plane_residual", g, [g.node("Add", [y, r], g.val[y] + g.val[r])], 3, 1)


def blocked5_cases():
    """5 x 5 depthwise convolutions in the blocked layout (MnasNet's and EfficientNet's stages): pointwise + Relu ->
    5 x 5 stride 1 + Clip -> pointwise -> pointwise + Relu -> 5 x 5 stride 2 on an odd plane + Relu -> pointwise, 16 and 24
    channels, batch 2; then 5 x 5 on a 7 x 7 plane (all of its columns within 2 of an edge)."""
    g = G(arr(2, 16, 13, 11))
    c1 = g.conv("x", 16, k=1)
    r1 = g.node("Relu", [c1], torch.relu(g.val[c1]))
    d1 = g.conv(r1, 16, k=5, group=16)
    lo, hi = g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))
    k1 = g.node("Clip", [d1, lo, hi], torch.clamp(g.val[d1], 0.0, 6.0))
    c2 = g.conv(k1, 16, k=1)  # the projection reads blocked; the expansion after it writes blocked
    c2b = g.conv(c2, 24, k=1)
    r2 = g.node("Relu", [c2b], torch.relu(g.val[c2b]))
    d2 = g.conv(r2, 24, k=5, stride=2, group=24)
    r3 = g.node("Relu", [d2], torch.relu(g.val[d2]))
    c3 = g.conv(r3, 8, k=1)
    save("blocked5_chain_batch2", g, [c3], 4, 0)

    g = G(arr(1, 8, 7, 7))
    c1 = g.conv("x", 40, k=1)
    r1 = g.node("Relu", [c1], torch.relu(g.val[c1]))
    d1 = g.conv(r1, 40, k=5, group=40)
    r2 = g.node("Relu", [d1], torch.relu(g.val[d1]))
    c2 = g.conv(r2, 8, k=1)
    save("blocked5_plane7", g, [c2], 2, 0)


def main():
    os.makedirs(OUT, exist_ok=True)
    silu_case("silu", (1, 5, 9, 7), 13)
    silu_case("silu_swapped_1x1_plane", (2, 6, 1, 1), 11, swap=True, k=1)
    silu_case("silu_dw5x5_s2", (1, 12, 11, 13), 12, k=5, stride=2, group=12)

    g = G(arr(1, 4, 8, 9, scale=3.0))
    c = g.conv("x", 9)
    s = g.node("HardSigmoid", [c], hsig(g.val[c], 1.0 / 6, 0.5), alpha=1.0 / 6, beta=0.5)
    m = g.node("Mul", [c, s], g.val[c] * g.val[s])
    save("x_hardsigmoid_x", g, [m], 2, 1)

    g = G(arr(1, 4, 8, 9, scale=3.0))
    c = g.conv("x", 10)
    h = g.node("HardSwish", [c], F.hardswish(g.val[c]))
    save("hardswish14", g, [h], 1, 1, opset=14)

    g = G(arr(1, 3, 7, 7, scale=3.0))
    c = g.conv("x", 5)
    h = g.node("HardSigmoid", [c], hsig(g.val[c], 0.2, 0.5))
    save("hardsigmoid_default", g, [h], 1, 1)

    g = G(arr(1, 3, 6, 5))
    c = g.conv("x", 7)
    h = g.node("Sigmoid", [c], sig(g.val[c]))
    save("sigmoid", g, [h], 1, 1)

    g = G(arr(1, 3, 6, 5))
    c = g.conv("x", 7)
    h = g.node("LeakyRelu", [c], F.leaky_relu(g.val[c], 0.1), alpha=0.1)
    save("leakyrelu", g, [h], 1, 1)

    for sname, sshape, fused in (("c11", (7, 1, 1), 1), ("1c11", (1, 7, 1, 1), 1), ("scalar", (1,), 1),
                                 ("per_column", (5,), 0)):
        g = G(arr(1, 3, 6, 5))
        c = g.conv("x", 7)
        slope = arr(*sshape, scale=0.5)
        p = g.node("PRelu", [c, g.const(slope)], torch.where(g.val[c] < 0, g.val[c] * t64(slope), g.val[c]))
        save("prelu_" + sname, g, [p], fused, 1)

    # residual Add, then SiLU on the sum
    g = G(arr(1, 6, 7, 7))
    r = g.conv("x", 6)
    c = g.conv(r, 6)
    a = g.node("Add", [c, r], g.val[c] + g.val[r])
    s = g.node("Sigmoid", [a], sig(g.val[a]))
    m = g.node("Mul", [a, s], g.val[a] * g.val[s])
    save("residual_silu", g, [m], 3, 1)

    # squeeze-excite: GlobalAveragePool -> 1x1 Conv -> Relu -> 1x1 Conv -> HardSigmoid -> Mul by [N, C, 1, 1]
    g = G(arr(1, 20, 6, 6))
    x1 = g.conv("x", 20, k=1)
    xs = g.node("Sigmoid", [x1], sig(g.val[x1]))
    xa = g.node("Mul", [x1, xs], g.val[x1] * g.val[xs])
    p = g.node("GlobalAveragePool", [xa], g.val[xa].mean(dim=(2, 3), keepdim=True))
    c1 = g.conv(p, 5, k=1)
    r1 = g.node("Relu", [c1], torch.relu(g.val[c1]))
    c2 = g.conv(r1, 20, k=1)
    h = g.node("HardSigmoid", [c2], hsig(g.val[c2], 1.0 / 6, 0.5), alpha=1.0 / 6, beta=0.5)
    m = g.node("Mul", [xa, h], g.val[xa] * g.val[h])
    save("squeeze_excite", g, [m], 4, 1)

    # a chain the blocked layout (16 channels) may take: pointwise -> PRelu per channel -> depthwise -> HardSwish
    # pair -> pointwise
    g = G(arr(1, 16, 10, 10))
    c1 = g.conv("x", 16, k=1)
    slope = arr(16, 1, 1, scale=0.5)
    p1 = g.node("PRelu", [c1, g.const(slope)], torch.where(g.val[c1] < 0, g.val[c1] * t64(slope), g.val[c1]))
    d = g.conv(p1, 16, k=3, group=16)
    hs = g.node("HardSigmoid", [d], hsig(g.val[d], 1.0 / 6, 0.5), alpha=1.0 / 6, beta=0.5)
    hm = g.node("Mul", [hs, d], g.val[d] * g.val[hs])
    c2 = g.conv(hm, 16, k=1)
    g2 = g.conv(c2, 16, k=3, group=16)
    s2 = g.node("Sigmoid", [g2], sig(g.val[g2]))
    m2 = g.node("Mul", [g2, s2], g.val[g2] * g.val[s2])
    c3 = g.conv(m2, 16, k=1)
    save("blocked_chain", g, [c3], 5, 0)

    # depthwise 7 x 7 and 5 x 5 on planes wide enough for the 4-vector rows (and a tail), with residual and
    # activations
    g = G(arr(1, 9, 23, 45))
    d = g.conv("x", 9, k=7, group=9)
    a = g.node("Add", [d, "x"], g.val[d] + g.val["x"])
    r = g.node("Relu", [a], torch.relu(g.val[a]))
    save("dw7x7_residual_relu", g, [r], 2, 1)

    g = G(arr(1, 10, 31, 75, scale=3.0))
    d = g.conv("x", 10, k=5, stride=2, group=10)
    h = g.node("HardSwish", [d], F.hardswish(g.val[d]))
    save("dw5x5_s2_hardswish", g, [h], 1, 1, opset=14)

    g = G(arr(1, 8, 20, 70))
    d = g.conv("x", 8, k=7, stride=2, group=8)
    s = g.node("Sigmoid", [d], sig(g.val[d]))
    m = g.node("Mul", [s, d], g.val[d] * g.val[s])
    save("dw7x7_s2_silu", g, [m], 2, 1)

    # narrow planes (rows four at a time, then the rest): 7 x 7 on 7 x 7 with a residual, 5 x 5 on 14 x 14
    g = G(arr(1, 13, 7, 7))
    d = g.conv("x", 13, k=7, group=13)
    a = g.node("Add", ["x", d], g.val["x"] + g.val[d])
    lr = g.node("LeakyRelu", [a], F.leaky_relu(g.val[a], 0.2), alpha=0.2)
    save("dw7x7_plane7_residual_leakyrelu", g, [lr], 2, 1)

    g = G(arr(2, 11, 14, 14))
    d = g.conv("x", 11, k=5, group=11)
    slope = arr(11, 1, 1, scale=0.5)
    p = g.node("PRelu", [d, g.const(slope)], torch.where(g.val[d] < 0, g.val[d] * t64(slope), g.val[d]))
    save("dw5x5_plane14_prelu_batch2", g, [p], 1, 1)

    # not fused: the Sigmoid's output is also a graph output
    g = G(arr(1, 3, 6, 5))
    c = g.conv("x", 7)
    s = g.node("Sigmoid", [c], sig(g.val[c]))
    m = g.node("Mul", [c, s], g.val[c] * g.val[s])
    save("silu_gate_is_output", g, [m, s], 0, 1)

    # not fused: the Conv's output has a third consumer
    g = G(arr(1, 3, 6, 5))
    c = g.conv("x", 7)
    s = g.node("Sigmoid", [c], sig(g.val[c]))
    m = g.node("Mul", [c, s], g.val[c] * g.val[s])
    a = g.node("Add", [m, c], g.val[m] + g.val[c])
    save("silu_x_second_consumer", g, [a], 0, 1)

    # not fused: the Conv's output is a graph output (the HardSwish after it runs on its own)
    g = G(arr(1, 3, 6, 5, scale=3.0))
    c = g.conv("x", 7)
    h = g.node("HardSwish", [c], F.hardswish(g.val[c]))
    save("conv_is_output", g, [h, c], 0, 1, opset=14)

    product_cases()
    se_cases()
    blocked5_cases()
    bn_cases()

    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
