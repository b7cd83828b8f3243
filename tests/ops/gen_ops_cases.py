#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for the kernels of
runtime/kernels/misc.c, with expected outputs computed by numpy from the ONNX spec's definitions: TopK on every
axis, largest and smallest, ties (broken by the lower index, TopK-11), integer inputs, K from an initializer;
CumSum exclusive/reverse on every axis; DepthToSpace DCR/CRD and SpaceToDepth on non-square blocks of data;
Trilu on a batch with k both signs, EyeLike with dtype and k, IsInf/IsNaN on float64, Shrink with a bias; and
Transpose (shape.c) of 4-byte elements in the shapes of its register-block path and its edges, against np.transpose.
Also writes OUT_DIR/bad_topk_k/model.onnx, a TopK whose K exceeds its axis, which must be refused.
Usage: gen_ops_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt listing every case)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import init, write_case  # noqa: E402

RNG = np.random.default_rng(20261202)
CASES = []
OUT = None


def save(name, nodes, inputs, outputs, opset, inits=()):
    CASES.append(write_case(OUT, "test_" + name, nodes, inputs, outputs, opset, inits, "gen_ops_cases"))


def topk_ref(x, k, axis, largest):
    # stable sort keeps equal values in index order: the lower index first, as TopK-11 requires
    idx = np.argsort(-x if largest else x, axis=axis, kind="stable")
    idx = np.take(idx, np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)


def topk_cases():
    for dtype in (np.float32, np.int64, np.int32):
        # few distinct values: many ties
        x = RNG.integers(-3, 4, (3, 5, 6)).astype(dtype)
        for axis in (0, 1, 2, -1):
            for largest in (1, 0):
                k = min(3, x.shape[axis])
                v, i = topk_ref(x, k, axis, largest)
                kt = numpy_helper.from_array(np.array([k], np.int64), "K")
                node = helper.make_node("TopK", ["x", "K"], ["v", "i"], axis=axis, largest=largest, sorted=1)
                save(f"topk_{np.dtype(dtype).name}_axis{axis}_largest{largest}".replace("-", "m"), [node],
                     [("x", x)], [("v", v), ("i", i)], 11, [kt])
    x = RNG.standard_normal((4, 7)).astype(np.float32)
    v, i = topk_ref(x, 7, 1, 1)  # K equal to the axis: a full sort
    save("topk_k_full", [helper.make_node("TopK", ["x", "K"], ["v", "i"])], [("x", x)], [("v", v), ("i", i)], 11,
         [numpy_helper.from_array(np.array([7], np.int64), "K")])
    v, i = topk_ref(x, 2, 1, 1)
    save("topk_opset1_attr_k", [helper.make_node("TopK", ["x"], ["v", "i"], k=2)], [("x", x)],
         [("v", v), ("i", i)], 1)


def cumsum_cases():
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    for dtype in (np.float32, np.int32, np.int64, np.float64):
        xx = (x * 10).astype(dtype)
        for axis in (0, 1, 2, -2):
            for excl in (0, 1):
                for rev in (0, 1):
                    a = np.flip(xx, axis) if rev else xx
                    y = np.cumsum(a, axis=axis, dtype=np.float64 if dtype in (np.float32, np.float64) else None)
                    if excl:
                        y = y - a
                    y = (np.flip(y, axis) if rev else y).astype(dtype)
                    node = helper.make_node("CumSum", ["x", "axis"], ["y"], exclusive=excl, reverse=rev)
                    save(f"cumsum_{np.dtype(dtype).name}_axis{axis}_excl{excl}_rev{rev}".replace("-", "m"), [node],
                         [("x", xx)], [("y", y)], 14,
                         [numpy_helper.from_array(np.array(axis, np.int32), "axis")])


def d2s_cases():
    n, c, h, w, b = 2, 12, 3, 4, 2
    x = RNG.standard_normal((n, c, h, w)).astype(np.float32)
    # the spec's definitions (DepthToSpace-13, SpaceToDepth-13)
    dcr = x.reshape(n, b, b, c // 4, h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // 4, h * b, w * b)
    crd = x.reshape(n, c // 4, b, b, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // 4, h * b, w * b)
    save("depthtospace_dcr_b2", [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=b)], [("x", x)],
         [("y", dcr)], 13)
    save("depthtospace_crd_b2", [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=b, mode="CRD")],
         [("x", x)], [("y", crd)], 13)
    x = RNG.integers(-100, 100, (2, 3, 6, 9)).astype(np.int64)
    b = 3
    s2d = x.reshape(2, 3, 2, b, 3, b).transpose(0, 3, 5, 1, 2, 4).reshape(2, 3 * b * b, 2, 3)
    save("spacetodepth_b3_int64", [helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=b)], [("x", x)],
         [("y", s2d)], 13)


def small_cases():
    x = RNG.integers(-9, 9, (2, 3, 4, 5)).astype(np.int64)
    for upper, k in ((1, 2), (0, -1), (1, -3), (0, 6)):
        y = np.triu(x, k) if upper else np.tril(x, k)
        save(f"trilu_batch_upper{upper}_k{k}".replace("-", "m"),
             [helper.make_node("Trilu", ["x", "k"], ["y"], upper=upper)], [("x", x)], [("y", y)], 14,
             [numpy_helper.from_array(np.array(k, np.int64), "k")])
    x = RNG.standard_normal((3, 5)).astype(np.float32)
    for k in (-2, 3):
        save(f"eyelike_k{k}_int32".replace("-", "m"),
             [helper.make_node("EyeLike", ["x"], ["y"], k=k, dtype=TensorProto.INT32)], [("x", x)],
             [("y", np.eye(3, 5, k, dtype=np.int32))], 9)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 3.0], np.float64)
    save("isinf_negative_only_f64", [helper.make_node("IsInf", ["x"], ["y"], detect_positive=0)], [("x", x)],
         [("y", np.isneginf(x))], 10)
    save("isnan_f64", [helper.make_node("IsNaN", ["x"], ["y"])], [("x", x)], [("y", np.isnan(x))], 13)
    x = RNG.standard_normal((4, 6)).astype(np.float32) * 2
    y = np.where(x < -0.7, x + 0.3, np.where(x > 0.7, x - 0.3, 0)).astype(np.float32)
    save("shrink_lambd_bias", [helper.make_node("Shrink", ["x"], ["y"], lambd=0.7, bias=0.3)], [("x", x)],
         [("y", y)], 9)


def transpose_cases():
    # Transpose (runtime/kernels/shape.c) of 4-byte elements goes through 8 x 8 register blocks inside 32 x 32
    # tiles, element by element at the edges: ConvNeXt's NCHW <-> NHWC, sizes that leave edges of every width,
    # a batch, a 2-D matrix, an int32 tensor, a permutation of every axis; np.transpose is exact
    cases = [((1, 96, 56, 56), (0, 2, 3, 1), np.float32), ((1, 56, 56, 96), (0, 3, 1, 2), np.float32),
             ((1, 13, 17, 19), (0, 2, 3, 1), np.float32), ((1, 17, 19, 13), (0, 3, 1, 2), np.float32),
             ((2, 9, 33), (0, 2, 1), np.float32), ((40, 24), (1, 0), np.float32), ((7, 65), (1, 0), np.float32),
             ((1, 20, 30, 11), (0, 2, 3, 1), np.int32), ((3, 10, 9, 12), (2, 0, 3, 1), np.float32)]
    for shape, perm, dtype in cases:
        x = RNG.standard_normal(shape).astype(dtype) if dtype == np.float32 else \
            RNG.integers(-2**31, 2**31 - 1, shape).astype(dtype)
        name = "transpose_" + "x".join(map(str, shape)) + "_p" + "".join(map(str, perm)) + "_" + np.dtype(dtype).name
        save(name, [helper.make_node("Transpose", ["x"], ["y"], perm=list(perm))], [("x", x)],
             [("y", np.ascontiguousarray(np.transpose(x, perm)))], 13)


def bad_cases():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])
    outs = [helper.make_tensor_value_info("v", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("i", TensorProto.INT64, None)]
    g = helper.make_graph([helper.make_node("TopK", ["x", "K"], ["v", "i"], name="topk_big")], "bad", [x], outs,
                          initializer=[numpy_helper.from_array(np.array([7], np.int64), "K")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 8
    d = os.path.join(OUT, "bad_topk_k")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    topk_cases()
    cumsum_cases()
    d2s_cases()
    small_cases()
    transpose_cases()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
