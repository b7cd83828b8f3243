#!/usr/bin/python3
"""Write extra node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for the element-wise, reduction
and softmax kernels, with expected outputs computed by numpy: broadcast shape combinations the ONNX 1.12 node
tests lack, opset-18 Reduce* with axes inputs, GlobalAveragePool's plane tails, middle-axis softmax, ties for
ArgMin/ArgMax, large threaded cases.
Usage: gen_elem_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt listing every case)."""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.mapping import NP_TYPE_TO_TENSOR_TYPE as NP2ONNX

RNG = np.random.default_rng(20240521)
CASES = []


def save(name, nodes, inputs, outputs, opset, extra_inits=()):
    """inputs/outputs: lists of (name, array)."""
    def vi(n, a):
        return helper.make_tensor_value_info(n, NP2ONNX[np.dtype(a.dtype)], list(a.shape))
    graph = helper.make_graph(nodes, name, [vi(n, a) for n, a in inputs], [vi(n, a) for n, a in outputs],
                              initializer=list(extra_inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_elem_cases")
    model.ir_version = 8
    name = "test_" + name
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for kind, items in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(items):
            t = numpy_helper.from_array(np.asarray(a), n)
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())
    CASES.append(name)


def rand(shape, dtype):
    if np.issubdtype(dtype, np.floating):
        return RNG.standard_normal(shape).astype(dtype)
    if np.issubdtype(dtype, np.unsignedinteger):
        return RNG.integers(0, 50, shape).astype(dtype)
    return RNG.integers(-50, 50, shape).astype(dtype)


def shape_name(s):
    return "x".join(map(str, s)) if s else "scalar"


BCAST = [((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 1, 4), (1, 3, 1)), ((5, 1, 1, 7), (1, 6, 3, 1)),
         ((1,), (3, 2)), ((), (2, 3)), ((2, 3, 4, 5), (2, 1, 4, 1)), ((3, 1), (3, 0)), ((1, 1, 1), (1,)),
         ((7, 1, 5), (7, 3, 5)), ((300, 257), (257,)), ((300, 257), (300, 1)), ((2, 70000), (2, 70000))]


def binary_cases():
    ops = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
    for i, (sa, sb) in enumerate(BCAST):
        for op, f in ops.items():
            a, b = rand(sa, np.float32), rand(sb, np.float32)
            if op == "Div":
                b = np.where(np.abs(b) < 0.1, 1.0, b).astype(np.float32)
            for first, second, tag in ((a, b, "ab"), (b, a, "ba")):
                save(f"elem_{op.lower()}_f32_{i}_{tag}", [helper.make_node(op, ["a", "b"], ["y"])],
                     [("a", first), ("b", second)], [("y", f(first, second).astype(np.float32))], 14)
    for dt in (np.int32, np.int64, np.uint8, np.int8, np.float64, np.uint64):
        for i, (sa, sb) in enumerate(BCAST[:7]):
            a, b = rand(sa, dt), rand(sb, dt)
            for op, f in (("Add", np.add), ("Mul", np.multiply), ("Sub", np.subtract)):
                save(f"elem_{op.lower()}_{np.dtype(dt).name}_{i}", [helper.make_node(op, ["a", "b"], ["y"])],
                     [("a", a), ("b", b)], [("y", f(a, b).astype(dt))], 14)
    for i, (sa, sb) in enumerate(BCAST[:8]):
        a, b = rand(sa, np.float32), rand(sb, np.float32)
        b[...] = np.round(b)
        for op, f in (("Less", np.less), ("GreaterOrEqual", np.greater_equal), ("Equal", np.equal)):
            a2 = np.round(a)
            save(f"elem_{op.lower()}_{i}", [helper.make_node(op, ["a", "b"], ["y"])],
                 [("a", a2), ("b", b)], [("y", f(a2, b))], 16)
    # Where with three different shapes
    for i, (sc, sx, sy) in enumerate([((2, 1, 4), (3, 1), ()), ((4,), (2, 3, 1), (1, 4)), ((5, 6), (5, 6), (6,))]):
        c = RNG.integers(0, 2, sc).astype(bool)
        x, y = rand(sx, np.float32), rand(sy, np.float32)
        save(f"elem_where_{i}", [helper.make_node("Where", ["c", "x", "y"], ["out"])],
             [("c", c), ("x", x), ("y", y)], [("out", np.where(c, x, y))], 16)
    # variadic with broadcasting
    for op, f in (("Sum", lambda *v: sum(v)), ("Max", lambda *v: np.maximum.reduce(np.broadcast_arrays(*v))),
                  ("Min", lambda *v: np.minimum.reduce(np.broadcast_arrays(*v))),
                  ("Mean", lambda *v: sum(v) / len(v))):
        vs = [rand(s, np.float32) for s in ((2, 1, 3), (4, 1), (3,), ())]
        save(f"elem_{op.lower()}_variadic", [helper.make_node(op, ["a", "b", "c", "d"], ["y"])],
             list(zip("abcd", vs)), [("y", np.asarray(f(*vs), dtype=np.float32))], 13)
    # Pow with mixed types and broadcasting
    base = np.abs(rand((3, 4), np.float32)) + 0.5
    ex = RNG.integers(-3, 4, (4,)).astype(np.int64)
    save("elem_pow_f32_i64_bcast", [helper.make_node("Pow", ["a", "b"], ["y"])], [("a", base), ("b", ex)],
         [("y", np.power(base.astype(np.float64), ex).astype(np.float32))], 15)


def reduce_cases():
    fns = {
        "ReduceSum": lambda x, ax, kd: np.sum(x, axis=ax, keepdims=kd),
        "ReduceMean": lambda x, ax, kd: np.mean(x, axis=ax, keepdims=kd),
        "ReduceMax": lambda x, ax, kd: np.max(x, axis=ax, keepdims=kd),
        "ReduceMin": lambda x, ax, kd: np.min(x, axis=ax, keepdims=kd),
        "ReduceProd": lambda x, ax, kd: np.prod(x, axis=ax, keepdims=kd),
        "ReduceL1": lambda x, ax, kd: np.sum(np.abs(x), axis=ax, keepdims=kd),
        "ReduceL2": lambda x, ax, kd: np.sqrt(np.sum(x * x, axis=ax, keepdims=kd)),
        "ReduceLogSumExp": lambda x, ax, kd: np.log(np.sum(np.exp(x), axis=ax, keepdims=kd)),
        "ReduceSumSquare": lambda x, ax, kd: np.sum(x * x, axis=ax, keepdims=kd),
        "ReduceLogSum": lambda x, ax, kd: np.log(np.sum(x, axis=ax, keepdims=kd)),
    }
    shape = (3, 4, 5, 6)
    for op, f in fns.items():
        x = rand(shape, np.float32)
        if op in ("ReduceLogSum", "ReduceProd"):
            x = (np.abs(x) + 0.5).astype(np.float32)
        for ai, axes in enumerate(((1,), (0, 2), (-1, 1), (1, 2), (0, 1, 2, 3))):
            for kd in (0, 1):
                want = f(x.astype(np.float64), axes, bool(kd)).astype(np.float32)
                ax = np.array(axes, dtype=np.int64)
                # opset 18: axes as an input (ReduceSum since 13)
                save(f"elem_{op.lower()}_in_{ai}_kd{kd}",
                     [helper.make_node(op, ["x", "axes"], ["y"], keepdims=kd)],
                     [("x", x), ("axes", ax)], [("y", want)], 18)
                if op != "ReduceSum":
                    save(f"elem_{op.lower()}_attr_{ai}_kd{kd}",
                         [helper.make_node(op, ["x"], ["y"], axes=list(axes), keepdims=kd)],
                         [("x", x)], [("y", want)], 13)
    x = rand(shape, np.float32)
    save("elem_reducemax_in_noop", [helper.make_node("ReduceMax", ["x", "axes"], ["y"], noop_with_empty_axes=1)],
         [("x", x), ("axes", np.zeros((0,), np.int64))], [("y", x)], 18)
    save("elem_reducemean_in_empty_all", [helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)],
         [("x", x), ("axes", np.zeros((0,), np.int64))], [("y", np.mean(x.astype(np.float64)).astype(np.float32))],
         18)
    # a long reduction over 300000 elements on the last axis, and a middle-axis one with large kept dims
    x = rand((2, 300000), np.float32)
    save("elem_reducesum_long", [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)],
         [("x", x), ("axes", np.array([1], np.int64))], [("y", x.astype(np.float64).sum(1).astype(np.float32))], 13)
    x = rand((4, 16, 4096), np.float32)
    save("elem_reducemean_mid", [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1])],
         [("x", x)], [("y", x.astype(np.float64).mean(1, keepdims=True).astype(np.float32))], 13)
    # integer sums
    xi = RNG.integers(-1000, 1000, (4, 5, 6)).astype(np.int64)
    save("elem_reducesum_int64", [helper.make_node("ReduceSum", ["x", "axes"], ["y"])],
         [("x", xi), ("axes", np.array([0, 2], np.int64))], [("y", xi.sum((0, 2), keepdims=True))], 13)
    # GlobalAveragePool over planes of every tail: under one vector, whole vectors, a 32-lane pass plus whole
    # vectors plus a masked tail, the squeeze-excite planes (7 x 7, 14 x 14), wide ones, values off zero
    for hw in ((1, 1), (1, 5), (1, 8), (1, 31), (1, 32), (1, 33), (3, 13), (7, 7), (14, 14), (56, 56), (112, 112)):
        x = (rand((2, 13) + hw, np.float32) + 3.0).astype(np.float32)
        save(f"elem_globalaveragepool_{hw[0]}x{hw[1]}", [helper.make_node("GlobalAveragePool", ["x"], ["y"])],
             [("x", x)], [("y", x.astype(np.float64).mean((2, 3), keepdims=True).astype(np.float32))], 13)


def softmax_cases():
    def softmax(x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    x = rand((2, 3, 4, 5), np.float32) * 4
    for axis in (0, 1, 2, -1):
        for op, f in (("Softmax", softmax), ("LogSoftmax", lambda v, a: np.log(softmax(v, a)))):
            save(f"elem_{op.lower()}13_axis{axis % 4}", [helper.make_node(op, ["x"], ["y"], axis=axis)],
                 [("x", x)], [("y", f(x.astype(np.float64), axis).astype(np.float32))], 13)
            flat = x.reshape(int(np.prod(x.shape[:axis % 4])), -1).astype(np.float64)
            save(f"elem_{op.lower()}11_axis{axis % 4}", [helper.make_node(op, ["x"], ["y"], axis=axis)],
                 [("x", x)], [("y", f(flat, 1).reshape(x.shape).astype(np.float32))], 11)
    big = rand((8, 21, 64, 64), np.float32) * 3
    save("elem_softmax13_channels_big", [helper.make_node("Softmax", ["x"], ["y"], axis=1)],
         [("x", big)], [("y", softmax(big.astype(np.float64), 1).astype(np.float32))], 13)


def arg_cases():
    x = RNG.integers(0, 3, (4, 5, 6)).astype(np.int32)  # many ties
    for op, f in (("ArgMax", np.argmax), ("ArgMin", np.argmin)):
        for axis in (0, 1, 2):
            for last in (0, 1):
                if last:
                    flipped = np.flip(x, axis)
                    want = x.shape[axis] - 1 - f(flipped, axis=axis)
                else:
                    want = f(x, axis=axis)
                want = np.expand_dims(want, axis).astype(np.int64)
                save(f"elem_{op.lower()}_axis{axis}_last{last}",
                     [helper.make_node(op, ["x"], ["y"], axis=axis, select_last_index=last)],
                     [("x", x)], [("y", want)], 13)


def cast_cases():
    vals = {
        np.float32: np.array([0.0, -1.5, 2.75, 100.25, -0.0, 65504.0, 1e-3], np.float32),
        np.float64: np.array([0.0, -1.5, 2.75, 100.25, 1e-8, 3.0e5, -7.0], np.float64),
        np.int64: np.array([0, -1, 127, -128, 255, 100000, -100000], np.int64),
        np.int32: np.array([0, -1, 127, -128, 255, 70000, -3], np.int32),
        np.uint8: np.array([0, 1, 127, 128, 255, 3, 9], np.uint8),
        np.int8: np.array([0, -1, 127, -128, 5, -7, 9], np.int8),
        np.bool_: np.array([True, False, True, True, False, False, True]),
        np.float16: np.array([0.0, -1.5, 2.75, 100.25, 1e-3, 65504.0, -7.0], np.float16),
    }
    small = {np.int8, np.uint8, np.bool_}
    for src, x in vals.items():
        for dst in vals:
            if src is dst:
                continue
            xs = x
            if dst in small and src not in small:
                xs = np.clip(x, 0, 100).astype(src)  # numpy's out-of-range float->int is undefined
            if dst is np.float16 and src in (np.int64, np.int32):
                xs = np.clip(x, -1000, 1000).astype(src)
            if src is np.float16 and dst in small:
                xs = np.clip(x, 0, 100).astype(src)
            if src in (np.float32, np.float64, np.float16) and dst not in (np.float32, np.float64, np.float16):
                xs = np.trunc(xs).astype(src)  # keep float->int exactly representable both ways
            with np.errstate(over="ignore"):  # float64 3e5 -> float16 is inf on purpose
                want = xs.astype(dst)
            to = NP2ONNX[np.dtype(dst)]
            save(f"elem_cast_{np.dtype(src).name}_to_{np.dtype(dst).name}",
                 [helper.make_node("Cast", ["x"], ["y"], to=to)], [("x", xs)], [("y", want)], 13)


def string_cases():
    for dt in (np.float32, np.float64):
        x = (RNG.standard_normal(300) * 10.0 ** RNG.integers(-9, 20, 300)).astype(dt)
        x[:4] = [0.0, 1.0, -2.5, 1e16]
        want = np.array([str(v) for v in x], dtype=object)
        save(f"elem_cast_{np.dtype(dt).name}_to_string", [helper.make_node("Cast", ["x"], ["y"], to=8)],
             [("x", x)], [("y", want)], 13)
        back = np.array([str(v) for v in x], dtype=object)
        save(f"elem_cast_string_to_{np.dtype(dt).name}",
             [helper.make_node("Cast", ["x"], ["y"], to=int(NP2ONNX[np.dtype(dt)]))], [("x", back)], [("y", x)], 13)


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit("usage: gen_elem_cases.py OUT_DIR")
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    binary_cases()
    reduce_cases()
    softmax_cases()
    arg_cases()
    cast_cases()
    string_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
