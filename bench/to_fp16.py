#!/usr/bin/python3
"""Convert a float32 ONNX model to float16 (or bfloat16 with --bf16): every float initializer and Constant,
the graph's float inputs / outputs / value_info, and Cast-to-float targets, for the float16 benchmark
(`onnxc bench` against bench/ort_bench.js). Inputs the spec keeps float whatever T is (Resize's roi and scales,
Upsample's scales, LayerNormalization's Mean / InvStdDev outputs) stay float. Weights round to nearest even (numpy's astype; bfloat16 by the same rule).
usage: /usr/bin/python3 bench/to_fp16.py IN.onnx OUT.onnx [--bf16]"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

KEEP_FLOAT = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}


def bf16_bits(a):
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def convert_tensor(t, elem):
    a = numpy_helper.to_array(t)
    if elem == TensorProto.FLOAT16:
        return numpy_helper.from_array(a.astype(np.float16), t.name)
    return helper.make_tensor(t.name, TensorProto.BFLOAT16, a.shape, bf16_bits(a).tobytes(), raw=True)


def convert_graph(g, elem):
    keep = {n.input[i] for n in g.node for (op, i) in KEEP_FLOAT if n.op_type == op and len(n.input) > i}
    # LayerNormalization's Mean and InvStdDev are of type U (stash_type, float by default), not T
    keep |= {n.output[i] for n in g.node if n.op_type == "LayerNormalization" for i in (1, 2) if len(n.output) > i}
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT and t.name not in keep:
            g.initializer[i].CopyFrom(convert_tensor(t, elem))
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT and vi.name not in keep:
            vi.type.tensor_type.elem_type = elem
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Constant" and a.name == "value" and a.t.data_type == TensorProto.FLOAT and \
                    n.output[0] not in keep:
                a.t.CopyFrom(convert_tensor(a.t, elem))
            elif n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = elem
            elif a.type == onnx.AttributeProto.GRAPH:
                convert_graph(a.g, elem)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    elem = TensorProto.BFLOAT16 if "--bf16" in sys.argv[3:] else TensorProto.FLOAT16
    m = onnx.load(sys.argv[1])
    convert_graph(m.graph, elem)
    try:
        onnx.checker.check_model(m)
    except onnx.checker.ValidationError as e:  # an opset newer than the installed onnx knows
        print(f"note: onnx.checker: {str(e).splitlines()[0]}", file=sys.stderr)
    onnx.save(m, sys.argv[2])
    print(f"wrote {sys.argv[2]} ({TensorProto.DataType.Name(elem)})")


if __name__ == "__main__":
    main()
