#!/usr/bin/python3
"""Write the models of test_plan_concat (Concat planned in place, runtime/plan_concat.c) with numpy float64
expected outputs: OUT_DIR/NAME.onnx, NAME.in.npy, NAME.outK.npy and manifest.txt, one line per case:
"NAME N_OUTPUTS CONCATS_IN_PLACE". The patterns: SqueezeNet's Fire (two 1x1 convs + Relu into one Concat),
DenseNet's chain (each layer's output concatenated into every later Concat), GoogLeNet's four branches, a nested
Concat, a part read again after the Concat, axis 0 and axis 2 of batch-1 tensors, and the cases that must stay
copies: batch 2 on axis 1, a graph input or a graph output or the same value twice among the parts, a part whose
bytes are not a whole number of 64 (its successor would start unaligned), a part the caller also reads.
Usage: gen_concat_cases.py OUT_DIR (numpy and onnx only)."""
import os
import sys

import numpy as np
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from plan_graph import PlanGraph  # noqa: E402

RNG = np.random.default_rng(20261203)
OUT = sys.argv[1]
LINES = []


def arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class G(PlanGraph):
    """The cases' graph: PlanGraph with a biased 1x1 convolution."""

    def conv1x1(self, x, cout):
        """A 1x1 convolution with bias (W cout x cin x 1 x 1), as a float64 einsum."""
        cin = self.val[x].shape[1]
        w, b = arr(cout, cin, 1, 1, scale=1.0 / np.sqrt(cin)), arr(cout, scale=0.1)
        wn, bn = self.name("w"), self.name("b")
        self.inits += [numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)]
        y = np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), self.val[x]) + \
            b.astype(np.float64)[None, :, None, None]
        return self.node("Conv", [x, wn, bn], y, kernel_shape=[1, 1])

    def save(self, name, outs, in_place):
        super().save(OUT, name, outs, in_place, "gen_concat_cases", LINES)


def fire():  # SqueezeNet: squeeze 1x1, expand 1x1 and expand 1x1 (for 3x3), each + Relu, into one Concat
    g = G(arr(1, 12, 7, 9))  # 63-element planes: parts of 16 channels are 4032 bytes
    s = g.relu(g.conv1x1("x", 6))
    y = g.concat([g.relu(g.conv1x1(s, 16)), g.relu(g.conv1x1(s, 16))])
    g.save("fire", [g.relu(y)], 1)


def dense(n_layers=4, growth=8):  # DenseNet: layer k reads Concat(x0..xk-1); the block ends in Concat(x0..xn)
    g = G(arr(1, 8, 6, 6))  # 8 x 36 floats: 1152 bytes per part
    xs = [g.relu("x")]
    for _ in range(n_layers):
        cat = g.concat(xs) if len(xs) > 1 else xs[0]
        xs.append(g.conv1x1(g.relu(cat), growth))
    g.save("dense_chain", [g.sigmoid(g.concat(xs))], n_layers)


def inception():  # GoogLeNet: four branches of different widths (odd channel counts, 16 floats per plane)
    g = G(arr(1, 5, 4, 4))
    b = [g.relu(g.conv1x1("x", c)) for c in (3, 5, 7, 4)]
    g.save("inception", [g.concat(b)], 1)


def nested():  # Concat(Concat(a, b), c): both in place, the inner one a view inside the outer
    g = G(arr(1, 4, 8, 8))
    a, b, c = g.relu(g.conv1x1("x", 3)), g.sigmoid(g.conv1x1("x", 5)), g.conv1x1("x", 2)
    g.save("nested", [g.relu(g.concat([g.concat([a, b]), c]))], 2)


def reread():  # a part read again after the Concat (by an Add of the Concat's successor): still in place
    g = G(arr(1, 4, 4, 4))
    a, b = g.relu(g.conv1x1("x", 4)), g.conv1x1("x", 4)
    y = g.conv1x1(g.concat([a, b]), 4)
    g.save("reread", [g.add(y, a)], 1)


def axis0():  # batch-1 parts along axis 0: nothing before the axis
    g = G(arr(1, 4, 4, 4))
    g.save("axis0", [g.concat([g.relu("x"), g.sigmoid("x"), g.conv1x1("x", 4)], axis=0)], 1)


def axis2():  # [1, 1, H, W] parts along H (rows of 16 floats)
    g = G(arr(1, 1, 4, 16))
    g.save("axis2", [g.concat([g.relu("x"), g.sigmoid("x")], axis=2)], 1)


def batch2():  # batch 2 on axis 1: parts are not contiguous in the output, Concat copies
    g = G(arr(2, 4, 4, 4))
    g.save("batch2_copies", [g.concat([g.relu("x"), g.sigmoid("x")])], 0)


def graph_input():  # the input is the caller's memory: copied
    g = G(arr(1, 4, 4, 4))
    g.save("graph_input_copies", [g.concat(["x", g.relu("x")])], 0)


def graph_output():  # a part that is also a graph output keeps its own memory
    g = G(arr(1, 4, 4, 4))
    a = g.relu("x")
    g.save("graph_output_copies", [g.concat([a, g.sigmoid("x")]), a], 0)


def twice():  # the same value twice
    g = G(arr(1, 4, 4, 4))
    a = g.relu("x")
    g.save("twice_copies", [g.concat([a, a, g.sigmoid("x")])], 0)


def unaligned():  # 3 x 5 x 5 floats = 300 bytes: the next part would start off a 64-byte boundary
    g = G(arr(1, 3, 5, 5))
    g.save("unaligned_copies", [g.concat([g.relu("x"), g.sigmoid("x")])], 0)


def unaligned_last():  # only the last part (1 x 5 x 5 floats) is off 64 bytes: in place
    g = G(arr(1, 16, 5, 5))
    g.save("unaligned_last", [g.concat([g.relu("x"), g.conv1x1("x", 16), g.sigmoid(g.conv1x1("x", 1))])], 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in (fire, dense, inception, nested, reread, axis0, axis2, batch2, graph_input, graph_output, twice,
              unaligned, unaligned_last):
        f()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
