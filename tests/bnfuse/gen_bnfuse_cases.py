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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from plan_graph import PlanGraph  # noqa: E402

RNG = np.random.default_rng(20261204)
OUT = sys.argv[1]
LINES = []


def arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class G(PlanGraph):
    def bn(self, x, eps=1e-5):
        c = self.val[x].shape[1]
        s, b, m = arr(c), arr(c, scale=0.5), arr(c, scale=0.5)
        v = (RNG.random(c) + 0.25).astype(np.float32)
        sh = (1, c) + (1,) * (self.val[x].ndim - 2)
        f = [a.astype(np.float64).reshape(sh) for a in (s, b, m, v)]
        y = (self.val[x] - f[2]) / np.sqrt(f[3] + eps) * f[0] + f[1]
        return self.node("BatchNormalization", [x] + [self.const(a) for a in (s, b, m, v)], y, epsilon=eps)

    def conv1x1(self, x, cout):
        cin = self.val[x].shape[1]
        w = arr(cout, cin, 1, 1, scale=1.0 / np.sqrt(cin))
        y = np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), self.val[x])
        return self.node("Conv", [x, self.const(w)], y, kernel_shape=[1, 1])

    def save(self, name, outs, fused):
        super().save(OUT, name, outs, fused, "gen_bnfuse_cases", LINES)


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
    g.save("dense_bn_relu_conv", [g.conv1x1(g.relu(g.bn(y)), 8)], 4)
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
