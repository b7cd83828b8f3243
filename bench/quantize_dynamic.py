#!/usr/bin/python3
"""Dynamic quantization of a float ONNX model the way onnxruntime.quantization.quantize_dynamic writes it, for
the quantized side of the benchmarks (e.g. ResNet-18 from gen_models.py after `onnxc optimize`): every Conv and
Gemm / MatMul with a constant weight becomes DynamicQuantizeLinear -> ConvInteger / MatMulInteger -> Cast ->
Mul by x_scale * w_scale -> Add bias. Weights uint8, asymmetric, per tensor (ONNX Runtime's u8 x u8 kernels are
exact on every CPU; u8 x s8 can saturate with AVX2). Other nodes are left as they are.
Usage: quantize_dynamic.py IN.onnx OUT.onnx"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def wq_u8(w):
    lo, hi = min(0.0, float(w.min())), max(0.0, float(w.max()))
    s = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zp = np.uint8(round(-lo / s))
    return np.clip(np.rint(w / s) + zp, 0, 255).astype(np.uint8), s, zp


def main():
    m = onnx.load(sys.argv[1])
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, new_inits, n_q = [], [], 0
    for node in g.node:
        w_name = node.input[1] if len(node.input) > 1 else ""
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        gemm_ok = node.op_type == "Gemm" and attrs.get("transA", 0) == 0 and attrs.get("alpha", 1.0) == 1.0 and \
            attrs.get("beta", 1.0) == 1.0
        if node.op_type not in ("Conv", "MatMul") and not gemm_ok or w_name not in inits:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[w_name]).astype(np.float32)
        if node.op_type == "MatMul" and w.ndim != 2:
            new_nodes.append(node)
            continue
        if node.op_type == "Gemm" and attrs.get("transB", 0):
            w = w.T.copy()
        p = f"q{n_q}_" + (node.name or node.output[0])
        n_q += 1
        q, s, zp = wq_u8(w)
        new_inits += [numpy_helper.from_array(q, p + "_wq"), numpy_helper.from_array(s, p + "_ws"),
                      numpy_helper.from_array(zp, p + "_wz")]
        x = node.input[0]
        new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [p + "_xq", p + "_xs", p + "_xz"],
                                          name=p + "_dynq"))
        if node.op_type == "Conv":
            new_nodes.append(helper.make_node("ConvInteger", [p + "_xq", p + "_wq", p + "_xz", p + "_wz"],
                                              [p + "_i32"], name=p + "_convint", **attrs))
        else:
            new_nodes.append(helper.make_node("MatMulInteger", [p + "_xq", p + "_wq", p + "_xz", p + "_wz"],
                                              [p + "_i32"], name=p + "_matmulint"))
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        out = node.output[0]
        new_nodes += [helper.make_node("Cast", [p + "_i32"], [p + "_f"], to=TensorProto.FLOAT, name=p + "_cast"),
                      helper.make_node("Mul", [p + "_xs", p + "_ws"], [p + "_scale"], name=p + "_scale_mul"),
                      helper.make_node("Mul", [p + "_f", p + "_scale"], [p + "_deq" if bias else out],
                                       name=p + "_mul")]
        if bias:
            b = numpy_helper.to_array(inits[bias]).astype(np.float32)
            if node.op_type == "Conv":
                b = b.reshape((-1,) + (1,) * (len(w.shape) - 2))
            new_inits.append(numpy_helper.from_array(b, p + "_b"))
            new_nodes.append(helper.make_node("Add", [p + "_deq", p + "_b"], [out], name=p + "_add"))
    used = {i for n in new_nodes for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    for op in m.opset_import:
        if op.domain in ("", "ai.onnx") and op.version < 11:
            op.version = 11
    onnx.save(m, sys.argv[2])
    print(f"{sys.argv[2]}: {n_q} Conv / Gemm / MatMul quantized")


if __name__ == "__main__":
    main()
