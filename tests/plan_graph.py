"""A graph under construction with the float64 value of every tensor, for the generators of the plan tests'
committed cases (tests/concat, tests/bnfuse): nodes, initializers, numpy's value of each output, and the writer
of a case (NAME.onnx, NAME.in.npy, NAME.outK.npy; the caller's manifest line "NAME N_OUTPUTS COUNT"). The
expected values are numpy's, computed here op by op from the ONNX definitions."""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper


class PlanGraph:
    """One model with input "x" (float32, its value x)."""

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

    def concat(self, parts, axis=1):
        return self.node("Concat", parts, np.concatenate([self.val[p] for p in parts], axis=axis), axis=axis)

    def save(self, out_dir, name, outs, count, producer, lines):
        """Writes the case NAME with graph outputs outs into out_dir and appends its manifest line to lines."""
        def vi(n):
            return helper.make_tensor_value_info(n, TensorProto.FLOAT, list(self.val[n].shape))
        graph = helper.make_graph(self.nodes, name, [vi("x")], [vi(o) for o in outs], initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name=producer)
        model.ir_version = 8
        with open(os.path.join(out_dir, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
        np.save(os.path.join(out_dir, name + ".in.npy"), self.x)
        for i, o in enumerate(outs):
            np.save(os.path.join(out_dir, "%s.out%d.npy" % (name, i)), self.val[o].astype(np.float32))
        lines.append("%s %d %d" % (name, len(outs), count))
