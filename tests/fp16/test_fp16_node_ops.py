#!/usr/bin/python3
"""Every kernel of the CNN path on float16 and bfloat16: ONNX node tests (float32 models with their float32
expected outputs, python3-onnx's data) converted to the half type by bench/to_fp16.py's rules, inputs rounded to
the type, run by onnxc; each output must have its declared type (T, or float for LayerNormalization's Mean and
InvStdDev) and lie within
    |ours - expected| <= 8 u_T * max(1, max|expected|)      (u_T: float16 2^-11, bfloat16 2^-8)
of the float32 expected values: the inputs' rounding, float32 compute inside and one rounding on store stay
below that for these small cases (measured: a few u_T). Integer outputs (ArgMax) must be equal.
Usage: test_fp16_node_ops.py ONNXC NODE_TEST_DIR TMP_DIR"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "bench"))
import to_fp16  # noqa: E402

ONNXC, NODE, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
CASES = """add_bcast argmax_default_axis_example averagepool_2d_default batchnorm_example clip concat_2d_axis_0
constant_pad conv_with_autopad_same conv_with_strides_padding convtranspose convtranspose_pads div_bcast edge_pad
flatten_axis1 gather_0 gemm_default_matrix_bias globalaveragepool globalmaxpool hardswish instancenorm_example
layer_normalization_2d_axis0 leakyrelu logsoftmax_example_1 matmul_2d maxpool_2d_default maxpool_2d_pads
mul_bcast prelu_broadcast reduce_max_default_axes_keepdim_example reduce_mean_default_axes_keepdims_random
reduce_sum_default_axes_keepdims_random relu resize_upsample_scales_linear sigmoid slice softmax_example
split_equal_parts_1d sub_bcast tanh transpose_default""".split()
TYPES = {"f16": (TensorProto.FLOAT16, 2.0 ** -11), "bf16": (TensorProto.BFLOAT16, 2.0 ** -8)}
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def to_float(t):
    if t.data_type == TensorProto.BFLOAT16:
        return (np.frombuffer(t.raw_data, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(tuple(t.dims))
    return numpy_helper.to_array(t)


def main():
    os.makedirs(TMP, exist_ok=True)
    for case in CASES:
        src = os.path.join(NODE, "test_" + case)
        m = onnx.load(os.path.join(src, "model.onnx"))
        keep = {n.input[i] for n in m.graph.node for (op, i) in to_fp16.KEEP_FLOAT
                if n.op_type == op and len(n.input) > i}
        data = os.path.join(src, "test_data_set_0")
        ins = sorted(f for f in os.listdir(data) if f.startswith("input_"))
        outs = sorted(f for f in os.listdir(data) if f.startswith("output_"))
        for kind, (elem, u) in TYPES.items():
            work = os.path.join(TMP, f"{case}_{kind}")
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            mc = onnx.ModelProto()
            mc.CopyFrom(m)
            to_fp16.convert_graph(mc.graph, elem)
            model = os.path.join(work, "model.onnx")
            onnx.save(mc, model)
            args = []
            for i, f in enumerate(ins):
                t = read_pb(os.path.join(data, f))
                name = m.graph.input[i].name
                if t.data_type == TensorProto.FLOAT and name not in keep:
                    t = to_fp16.convert_tensor(t, elem)
                t.name = name
                p = os.path.join(work, f)
                with open(p, "wb") as fo:
                    fo.write(t.SerializeToString())
                args += ["--input", f"{name}={p}"]
            od = os.path.join(work, "out")
            r = subprocess.run([ONNXC, "run", model, *args, "--output-dir", od, "-q"], capture_output=True,
                               text=True)
            if r.returncode != 0:
                check(False, f"{case} {kind}: {r.stderr.strip()[:300]}")
                continue
            for k, f in enumerate(outs):
                want = read_pb(os.path.join(data, f))
                name = m.graph.output[k].name
                files = [x for x in os.listdir(od) if os.path.splitext(x)[0] == name]
                if not files:
                    check(False, f"{case} {kind}: output {name} not written")
                    continue
                path = os.path.join(od, files[0])
                if path.endswith(".npy"):
                    a = np.load(path)
                    gdt = {np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.float32): TensorProto.FLOAT}.get(
                        a.dtype, -1)
                    got = a
                else:
                    t = read_pb(path)
                    gdt, got = t.data_type, to_float(t)
                w = numpy_helper.to_array(want)
                if want.data_type == TensorProto.FLOAT:
                    err = float(np.abs(got.astype(np.float64) - w).max()) if w.size else 0.0
                    bound = 8 * u * max(1.0, float(np.abs(w).max()) if w.size else 0.0)
                    decl = mc.graph.output[k].type.tensor_type.elem_type
                    check(gdt == decl and got.shape == w.shape and err <= bound,
                          f"{case} {kind} {name}: {TensorProto.DataType.Name(gdt) if gdt > 0 else '?'}, "
                          f"max |ours - expected| {err:.3g} <= {bound:.3g}")
                else:
                    check(np.array_equal(got, w), f"{case} {kind} {name}: equal ({w.dtype})")
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
