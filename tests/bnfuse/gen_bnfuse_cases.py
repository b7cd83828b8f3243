#!/usr/bin/python3
"""Write the models of test_plan_bnfuse (BatchNormalization with what follows it in one pass: the planner fuses
a residual Add, Relu / Clip or an activation into its epilogue, runtime/kernels/norm.c) with numpy float64
expected outputs: OUT_DIR/NAME.onnx, NAME.in.npy, NAME.outK.npy and manifest.txt, one line per case:
"NAME N_OUTPUTS NODES_FUSED". Edge shapes: channel counts not a multiple of 8, odd and 1x1 planes, batch 2;
the chains DenseNet writes (BN -> Relu -> Conv) and a residual; and BNs that must not fuse (the intermediate is
a graph output or has a second reader). Usage: gen_bnfuse_cases.py OUT_DIR (numpy and onnx only)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(20261204)
OUT = sys.argv[1]
LINES = []


def arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class G:
    def __init__(self, x):
        self.nodes, self.inits, self.val, self.n, self.x = [], [], {"x": np.asarray(x, np.float64)}, 0, x

    def name(self, p):
        self.n += 1
        return "%s%d" % (p, self.n)

    def const(self, a):
        nm = self.name("c")
        self.inits.append(numpy_helper.from_array(a, nm))
        return nm

    def node(self, op, ins, value, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], **attrs))
        self.val[out] = value
        return out

    def bn(self, x, eps=1e-5):
        c = self.val[x].shape[1]
        s, b, m = arr(c), arr(c, scale=0.5), arr(c, scale=0.5)
        v = (RNG.random(c) + 0.25).astype(np.float32)
        sh = (1, c) + (1,) * (self.val[x].ndim - 2)
        f = [a.astype(np.float64).reshape(sh) for a in (s, b, m, v)]
        y = (self.val[x] - f[2]) / np.sqrt(f[3] + eps) * f[0] + f[1]
        return self.node("BatchNormalization", [x] + [self.const(a) for a in (s, b, m, v)], y, epsilon=eps)

    def relu(self, x):
        return self.node("Relu", [x], np.maximum(self.val[x], 0))

    def clip(self, x, lo, hi):
        return self.node("Clip", [x, self.const(np.float32(lo)), self.const(np.float32(hi))],
                         np.clip(self.val[x], lo, hi))

    def sigmoid(self, x):
        return self.node("Sigmoid", [x], 1 / (1 + np.exp(-self.val[x])))

    def mul(self, a, b):
        return self.node("Mul", [a, b], self.val[a] * self.val[b])

    def add(self, a, b):
        return self.node("Add", [a, b], self.val[a] + self.val[b])

    def conv1x1(self, x, cout):
        cin = self.val[x].shape[1]
        w = arr(cout, cin, 1, 1, scale=1.0 / np.sqrt(cin))
        y = np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), self.val[x])
        return self.node("Conv", [x, self.const(w)], y, kernel_shape=[1, 1])

    def save(self, name, outs, fused):
        def vi(n):
            return helper.make_tensor_value_info(n, TensorProto.FLOAT, list(self.val[n].shape))
        graph = helper.make_graph(self.nodes, name, [vi("x")], [vi(o) for o in outs], initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_bnfuse_cases")
        model.ir_version = 8
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
        np.save(os.path.join(OUT, name + ".in.npy"), self.x)
        for i, o in enumerate(outs):
            np.save(os.path.join(OUT, "%s.out%d.npy" % (name, i)), self.val[o].astype(np.float32))
        LINES.append("%s %d %d" % (name, len(outs), fused))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = G(arr(1, 13, 7, 5))  # 13 channels, 35-element planes
    g.save("bn_relu", [g.relu(g.bn("x"))], 1)
    g = G(arr(2, 6, 3, 3))  # batch 2
    g.save("bn_relu_batch2", [g.relu(g.bn("x"))], 1)
    g = G(arr(1, 9, 1, 1))  # 1x1 planes
    g.save("bn_clip_1x1_plane", [g.clip(g.bn("x"), -0.5, 0.75)], 1)
    g = G(arr(1, 10, 4, 6))
    r = g.relu("x")  # the residual, ready before the BN runs
    g.save("bn_add_relu", [g.relu(g.add(g.bn("x"), r))], 2)
    g = G(arr(1, 11, 5, 5))
    b = g.bn("x")
    g.save("bn_silu", [g.mul(b, g.sigmoid(b))], 2)
    g = G(arr(1, 7, 3, 9))
    g.save("bn_sigmoid", [g.sigmoid(g.bn("x"))], 1)
    g = G(arr(1, 16, 6, 6))  # DenseNet: BN -> Relu -> Conv, twice
    y = g.conv1x1(g.relu(g.bn("x")), 12)
    g.save("dense_bn_relu_conv", [g.conv1x1(g.relu(g.bn(y)), 8)], 2)
    g = G(arr(1, 5, 4, 4))  # the BN's output is also a graph output: Relu runs alone
    b = g.bn("x")
    g.save("bn_is_output", [g.relu(b), b], 0)
    g = G(arr(1, 5, 4, 4))  # a second reader of the BN's output
    b = g.bn("x")
    g.save("bn_two_readers", [g.add(g.relu(b), g.sigmoid(b))], 0)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
