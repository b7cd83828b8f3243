#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_N/{input,output}_*.pb) for Loop and Scan
(runtime/kernels/loop.c), with expected outputs computed here by numpy from the ONNX spec: Loops as exporters
write them (torchvision's Mask R-CNN paste_masks and Keypoint R-CNN heatmaps loops: one iteration per detection,
trip count from a Shape, a scan output stacked, 0 detections giving an empty stack [0, ...]), a carried value that
grows by a Concat each iteration, a while loop ended by its condition, nested Loops reading values two graphs up,
Scan-16 with axes and directions both ways, Scan over an empty sequence; the sequence ops the node tests of
onnx 1.12 miss (SplitToSequence, ConcatFromSequence, SequenceErase, SequenceAt with negative positions, a
sequence output, a Loop appending to a sequence); several data sets per model, so one session runs them with
sizes that change. Also writes OUT_DIR/bad_* models that must be refused with one line
naming the node. Usage: gen_loop_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt).

bench/ort_check_cases.py confirms the expected values with ONNX Runtime but for what it does otherwise: after 0
iterations it stacks scan outputs whose shape the body's data decides as [0, 0, ...] or [0] where we (and
torchvision's own code, masks.new_empty((0, 1, H, W))) give [0, ...the shape one iteration gives]; it fails on
a Scan over 0 steps, and onnxruntime-node cannot return sequence outputs (the other outputs of that case agree)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from onnx.mapping import NP_TYPE_TO_TENSOR_TYPE as NP2ONNX

RNG = np.random.default_rng(20261203)
CASES = []
OUT = None
F32 = np.float32
I64 = np.int64


def vi(n, a, sym=True):
    dims = [f"{n}_d{k}" for k in range(a.ndim)] if sym else list(a.shape)
    return helper.make_tensor_value_info(n, NP2ONNX[np.dtype(a.dtype)], dims)


def write_model(d, graph, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_loop_cases")
    model.ir_version = 8
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())


def vi_any(n, a):
    """A tensor, or a list of arrays as a sequence of tensors."""
    if isinstance(a, list):
        return helper.make_tensor_sequence_value_info(n, NP2ONNX[np.dtype(a[0].dtype)], None)
    return vi(n, a)


def proto_of(a, n):
    if isinstance(a, list):
        return numpy_helper.from_list([np.asarray(x) for x in a], n)
    return numpy_helper.from_array(np.asarray(a), n)


def save(name, nodes, in_names, out_names, sets, opset, inits=()):
    """sets: list of (inputs, outputs), arrays (or lists of arrays: sequences) in the order of in_names /
    out_names; inputs and outputs are declared with symbolic dims (the sets may differ in size)."""
    ins0, outs0 = sets[0]
    graph = helper.make_graph(nodes, name, [vi_any(n, a) for n, a in zip(in_names, ins0)],
                              [vi_any(n, a) for n, a in zip(out_names, outs0)], initializer=list(inits))
    name = "test_" + name
    d = os.path.join(OUT, name)
    write_model(d, graph, opset)
    for s, (ins, outs) in enumerate(sets):
        sd = os.path.join(d, f"test_data_set_{s}")
        os.makedirs(sd, exist_ok=True)
        for kind, names, arrays in (("input", in_names, ins), ("output", out_names, outs)):
            for i, (n, a) in enumerate(zip(names, arrays)):
                with open(os.path.join(sd, f"{kind}_{i}.pb"), "wb") as f:
                    f.write(proto_of(a, n).SerializeToString())
    CASES.append(name)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def cnode(out, a):
    return helper.make_node("Constant", [], [out], value=const(out + "_v", a))


def tvi(n, elem, shape=None):
    return helper.make_tensor_value_info(n, elem, shape)


def trip_from_shape(src, out):
    """M = Shape(src)[0], as torch exports `for i in range(x.size(0))`."""
    return [helper.make_node("Shape", [src], [out + "_shape"]),
            cnode(out + "_zero", np.array(0, I64)),
            helper.make_node("Gather", [out + "_shape", out + "_zero"], [out], axis=0)]


# ---------------------------------------------------------------- Loops as detectors' exporters write them

def paste_masks_case():
    """Per detection: its 4x4 mask scaled by its box's score, padded into an 8x8 canvas at an offset given by the
    box (Pad with pads from data: re-planned per iteration), stacked to [N, 1, 8, 8]."""
    body = helper.make_graph(
        [helper.make_node("Gather", ["masks", "i"], ["m"], axis=0),          # [1, 4, 4]
         helper.make_node("Gather", ["boxes", "i"], ["b"], axis=0),          # [4] int64: y0, x0, score*10, unused
         cnode("k0", np.array([0], I64)), cnode("k1", np.array([1], I64)), cnode("k2", np.array([2], I64)),
         cnode("k3", np.array([3], I64)),
         helper.make_node("Slice", ["b", "k0", "k1"], ["y0"]),
         helper.make_node("Slice", ["b", "k1", "k2"], ["x0"]),
         helper.make_node("Slice", ["b", "k2", "k3"], ["sc"]),
         helper.make_node("Cast", ["sc"], ["scf"], to=TensorProto.FLOAT),
         cnode("ten", np.array([10.0], F32)),
         helper.make_node("Div", ["scf", "ten"], ["s"]),
         helper.make_node("Mul", ["m", "s"], ["ms"]),
         cnode("four", np.array([4], I64)),
         helper.make_node("Sub", ["four", "y0"], ["y1"]),
         helper.make_node("Sub", ["four", "x0"], ["x1"]),
         cnode("z", np.array([0], I64)),
         helper.make_node("Concat", ["z", "y0", "x0", "z", "y1", "x1"], ["pads"], axis=0),
         helper.make_node("Pad", ["ms", "pads"], ["canvas"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "paste_body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, [])],
        [tvi("c_out", TensorProto.BOOL, []), tvi("canvas", TensorProto.FLOAT, [1, 8, 8])])
    nodes = trip_from_shape("masks", "n") + [
        cnode("true", np.array(True)),
        helper.make_node("Loop", ["n", "true"], ["pasted"], body=body, name="paste")]
    sets = []
    for n in (3, 1, 0, 2):
        masks = RNG.standard_normal((n, 1, 4, 4)).astype(F32)
        boxes = np.stack([RNG.integers(0, 5, n), RNG.integers(0, 5, n), RNG.integers(1, 10, n),
                          np.zeros(n, I64)], axis=1).astype(I64).reshape(n, 4)
        out = np.zeros((n, 1, 8, 8), F32)
        for k in range(n):
            y0, x0, sc = boxes[k, 0], boxes[k, 1], boxes[k, 2]
            out[k, 0, y0:y0 + 4, x0:x0 + 4] = masks[k, 0] * F32(sc / F32(10.0))
        sets.append(([masks, boxes], [out]))
    save("loop_paste_masks", nodes, ["masks", "boxes"], ["pasted"], sets, 13)


def keypoint_heatmaps_case():
    """Per detection: the argmax of each keypoint's 5x5 heatmap as (x, y) plus the roi's corner, stacked to
    [N, K, 2]; the body reads heatmaps and rois from the enclosing graph."""
    body = helper.make_graph(
        [helper.make_node("Gather", ["heatmaps", "i"], ["h"], axis=0),       # [K, 5, 5]
         cnode("flat", np.array([0, -1], I64)),
         helper.make_node("Reshape", ["h", "flat"], ["hf"]),                 # [K, 25]
         helper.make_node("ArgMax", ["hf"], ["am"], axis=1, keepdims=1),     # [K, 1]
         cnode("five", np.array(5, I64)),
         helper.make_node("Mod", ["am", "five"], ["px"]),
         helper.make_node("Div", ["am", "five"], ["py"]),
         helper.make_node("Gather", ["rois", "i"], ["r"], axis=0),           # [2] int64
         helper.make_node("Concat", ["px", "py"], ["pxy"], axis=1),          # [K, 2]
         helper.make_node("Add", ["pxy", "r"], ["kp"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "kp_body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, [])],
        [tvi("c_out", TensorProto.BOOL, []), tvi("kp", TensorProto.INT64, None)])
    nodes = trip_from_shape("rois", "n") + [
        cnode("true", np.array(True)),
        helper.make_node("Loop", ["n", "true"], ["kps"], body=body, name="heatmaps_loop")]
    sets = []
    K = 3
    for n in (2, 0, 4):
        hm = RNG.standard_normal((n, K, 5, 5)).astype(F32)
        rois = RNG.integers(0, 50, (n, 2)).astype(I64)
        am = hm.reshape(n, K, 25).argmax(axis=2)
        kp = np.stack([am % 5, am // 5], axis=2).astype(I64) + rois[:, None, :]
        sets.append(([hm, rois], [kp.reshape(n, K, 2)]))
    save("loop_keypoint_heatmaps", nodes, ["heatmaps", "rois"], ["kps"], sets, 11)


def growing_case():
    """y starts [1, 2]; each iteration appends y[-1] + i (Concat): y's shape changes every iteration, whatever the
    body declares; the scan output is the sum of y per iteration."""
    body = helper.make_graph(
        [cnode("m1", np.array([-1], I64)), cnode("big", np.array([2 ** 62], I64)),
         helper.make_node("Slice", ["y_in", "m1", "big"], ["last"]),
         helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
         helper.make_node("Add", ["last", "fi"], ["nxt"]),
         helper.make_node("Concat", ["y_in", "nxt"], ["y_out"], axis=0),
         helper.make_node("ReduceSum", ["y_out"], ["tot"], keepdims=0),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "grow_body",
        # declared as torch's exporter does, with the shapes of the one iteration it traced (y_in [2], y_out [3]):
        # the carried value grows all the same
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []), tvi("y_in", TensorProto.FLOAT, [2])],
        [tvi("c_out", TensorProto.BOOL, []), tvi("y_out", TensorProto.FLOAT, [3]),
         tvi("tot", TensorProto.FLOAT, [])])
    nodes = [helper.make_node("Loop", ["M", "", "y0"], ["y", "sums"], body=body, name="grow")]
    sets = []
    for m in (4, 0, 7):
        y = np.array([1, 2], F32)
        sums = []
        for i in range(m):
            y = np.concatenate([y, y[-1:] + F32(i)])
            sums.append(y.sum(dtype=F32))
        sets.append(([np.array(m, I64), np.array([1, 2], F32)], [y, np.array(sums, F32).reshape(m)]))
    save("loop_growing_concat", nodes, ["M", "y0"], ["y", "sums"], sets, 13)


def while_case():
    """No trip count: runs while x < limit (limit read from the enclosing graph), doubling x; the number of
    iterations depends on the data."""
    body = helper.make_graph(
        [cnode("two", np.array(2.0, F32)),
         helper.make_node("Mul", ["x_in", "two"], ["x_out"]),
         helper.make_node("Less", ["x_out", "limit"], ["c_out"]),
         helper.make_node("Identity", ["i"], ["it"])],
        "while_body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []), tvi("x_in", TensorProto.FLOAT, [])],
        [tvi("c_out", TensorProto.BOOL, []), tvi("x_out", TensorProto.FLOAT, []), tvi("it", TensorProto.INT64, [])])
    nodes = [helper.make_node("Less", ["x0", "limit"], ["go"]),
             helper.make_node("Loop", ["", "go", "x0"], ["x", "its"], body=body, name="while")]
    sets = []
    for x0, limit in ((1.0, 100.0), (500.0, 100.0), (3.0, 7.0)):
        x, its = F32(x0), []
        go = x < limit
        i = 0
        while go:
            x = F32(x * 2)
            its.append(i)
            go = x < limit
            i += 1
        sets.append(([np.array(x0, F32), np.array(limit, F32)], [np.array(x, F32), np.array(its, I64)]))
    save("loop_while_cond", nodes, ["x0", "limit"], ["x", "its"], sets, 16)


def nested_case():
    """A Loop whose body runs a Loop: the inner body reads w from the top graph and j from the outer body;
    acc = sum over i < M, j < i+1 of w * j."""
    inner = helper.make_graph(
        [helper.make_node("Cast", ["k"], ["kf"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["w", "kf"], ["wk"]),
         helper.make_node("Add", ["a_in", "wk"], ["a_out"]),
         helper.make_node("Identity", ["c2"], ["c2_out"])],
        "inner",
        [tvi("k", TensorProto.INT64, []), tvi("c2", TensorProto.BOOL, []), tvi("a_in", TensorProto.FLOAT, None)],
        [tvi("c2_out", TensorProto.BOOL, []), tvi("a_out", TensorProto.FLOAT, None)])
    outer = helper.make_graph(
        [cnode("one", np.array(1, I64)),
         helper.make_node("Add", ["i", "one"], ["n_in"]),
         helper.make_node("Loop", ["n_in", "", "acc_in"], ["acc_out"], body=inner, name="inner_loop"),
         helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Identity", ["acc_out"], ["snap"])],
        "outer",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []), tvi("acc_in", TensorProto.FLOAT, None)],
        [tvi("c_out", TensorProto.BOOL, []), tvi("acc_out", TensorProto.FLOAT, None),
         tvi("snap", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Loop", ["M", "", "acc0"], ["acc", "snaps"], body=outer, name="outer_loop")]
    sets = []
    for m, shape in ((3, (2,)), (5, (6,)), (0, (4,))):
        w = RNG.standard_normal(shape).astype(F32)
        acc = np.zeros(shape, F32)
        snaps = []
        for i in range(m):
            for j in range(i + 1):
                acc = acc + w * F32(j)
            snaps.append(acc.copy())
        snaps = np.array(snaps, F32).reshape((m,) + shape)
        sets.append(([np.array(m, I64), np.zeros(shape, F32), w], [acc, snaps]))
    save("loop_nested_outer_values", nodes, ["M", "acc0", "w"], ["acc", "snaps"], sets, 13)


# ---------------------------------------------------------------- Scan

def scan16_case():
    """Two scan inputs: a [B, L, D] along axis 1 forward and b [D, L] along axis -1 in reverse; the state is a
    running sum; scan outputs: the state per step along axis 1 in reverse, and a*b along axis 0 forward."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "a_t"], ["s1"]),
         helper.make_node("Add", ["s1", "b_t"], ["s_out"]),
         helper.make_node("Identity", ["s_out"], ["y1"]),
         helper.make_node("Mul", ["a_t", "b_t"], ["y2"])],
        "scan_body",
        [tvi("s_in", TensorProto.FLOAT, None), tvi("a_t", TensorProto.FLOAT, None),
         tvi("b_t", TensorProto.FLOAT, None)],
        [tvi("s_out", TensorProto.FLOAT, None), tvi("y1", TensorProto.FLOAT, None),
         tvi("y2", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Scan", ["s0", "a", "b"], ["s", "y1", "y2"], body=body, num_scan_inputs=2,
                              scan_input_axes=[1, -1], scan_input_directions=[0, 1], scan_output_axes=[1, 0],
                              scan_output_directions=[1, 0], name="scan")]
    sets = []
    for B, L, D in ((2, 3, 4), (1, 5, 2), (2, 0, 3)):
        a = RNG.standard_normal((B, L, D)).astype(F32)
        b = RNG.standard_normal((D, L)).astype(F32)
        s = np.zeros((B, D), F32)
        y1, y2 = [], []
        for t in range(L):
            at, bt = a[:, t, :], b[:, L - 1 - t]
            s = (s + at) + bt
            y1.append(s.copy())
            y2.append(at * bt)
        y1 = np.array(y1, F32).reshape(L, B, D)[::-1].transpose(1, 0, 2)      # axis 1, reverse
        y2 = np.array(y2, F32).reshape(L, B, D)
        sets.append(([np.zeros((B, D), F32), a, b], [s, np.ascontiguousarray(y1), y2]))
    save("scan16_axes_directions", nodes, ["s0", "a", "b"], ["s", "y1", "y2"], sets, 16)


def scan8_case():
    """Scan-8: a batch axis on every input; directions reverse the scan input."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "x_t"], ["s_out"]),
         helper.make_node("Identity", ["s_out"], ["y"])],
        "scan8_body",
        [tvi("s_in", TensorProto.FLOAT, [2]), tvi("x_t", TensorProto.FLOAT, [2])],
        [tvi("s_out", TensorProto.FLOAT, [2]), tvi("y", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("Scan", ["", "s0", "x"], ["s", "y"], body=body, num_scan_inputs=1, directions=[1],
                              name="scan8")]
    x = RNG.standard_normal((3, 4, 2)).astype(F32)
    s0 = RNG.standard_normal((3, 2)).astype(F32)
    ys = np.zeros((3, 4, 2), F32)
    s = s0.copy()
    for b in range(3):
        acc = s0[b].copy()
        for t in range(4):
            acc = acc + x[b, 3 - t]
            ys[b, t] = acc
        s[b] = acc
    save("scan8_batch_reverse", nodes, ["s0", "x"], ["s", "y"], [([s0, x], [s, ys])], 8)


# ---------------------------------------------------------------- sequences

def sequence_ops_case():
    """x [R, 4] split into rows of the sizes given (SplitToSequence), the first item erased, the rest
    concatenated back; x split into columns without keepdims and stacked back on a new axis; the length, the last
    item (SequenceAt -1) and the erased sequence as a sequence output."""
    nodes = [helper.make_node("SplitToSequence", ["x", "split"], ["rows"], axis=0),
             helper.make_node("SequenceLength", ["rows"], ["n"]),
             cnode("m1", np.array(-1, I64)),
             helper.make_node("SequenceAt", ["rows", "m1"], ["last"]),
             cnode("zero", np.array(0, np.int32)),
             helper.make_node("SequenceErase", ["rows", "zero"], ["rest"]),
             helper.make_node("ConcatFromSequence", ["rest"], ["joined"], axis=0),
             helper.make_node("SplitToSequence", ["x"], ["cols"], axis=1, keepdims=0),
             helper.make_node("ConcatFromSequence", ["cols"], ["stacked"], axis=-1, new_axis=1),
             helper.make_node("Identity", ["rest"], ["rest_out"])]
    sets = []
    for sizes in ([1, 2, 3], [4, 1], [2, 0, 1]):
        x = RNG.standard_normal((sum(sizes), 4)).astype(F32)
        rows = np.split(x, np.cumsum(sizes)[:-1], axis=0)
        rest = rows[1:]
        sets.append(([x, np.array(sizes, I64)],
                     [np.array(len(rows), I64), rows[-1], np.concatenate(rest, axis=0), x, rest]))
    # opset 16: Identity takes sequences from Identity-14 on
    save("sequence_split_erase_concat", nodes, ["x", "split"], ["n", "last", "joined", "stacked", "rest_out"], sets,
         16)


def loop_sequence_case():
    """A Loop appending one slice per iteration to a carried sequence (a Python list built in a loop, as torch
    exports it), concatenated after the loop; the sequence starts empty."""
    body = helper.make_graph(
        [cnode("zero", np.array([0], I64)), cnode("one", np.array(1, I64)),
         helper.make_node("Add", ["i", "one"], ["i1"]),
         cnode("ax", np.array([0], I64)),
         helper.make_node("Unsqueeze", ["i1", "ax"], ["end"]),
         helper.make_node("Slice", ["x", "zero", "end"], ["part"]),
         helper.make_node("SequenceInsert", ["seq_in", "part"], ["seq_out"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "append_body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []),
         helper.make_tensor_sequence_value_info("seq_in", TensorProto.FLOAT, None)],
        [tvi("c_out", TensorProto.BOOL, []), helper.make_tensor_sequence_value_info("seq_out", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("SequenceEmpty", [], ["empty"], dtype=TensorProto.FLOAT),
             helper.make_node("Loop", ["M", "", "empty"], ["parts"], body=body, name="append"),
             helper.make_node("ConcatFromSequence", ["parts"], ["joined"], axis=0)]
    sets = []
    for m in (3, 1, 4):
        x = RNG.standard_normal(5).astype(F32)
        sets.append(([np.array(m, I64), x], [np.concatenate([x[:i + 1] for i in range(m)])]))
    save("loop_sequence_append", nodes, ["M", "x"], ["joined"], sets, 13)


# ---------------------------------------------------------------- refused

def bad_cases():
    def bad(name, graph, opset=13):
        write_model(os.path.join(OUT, "bad_" + name), graph, opset)

    def ident_body(n_carried=1, cast_to=None):
        ins = [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, [])]
        outs = [tvi("c_out", TensorProto.BOOL, [])]
        nodes = [helper.make_node("Identity", ["c"], ["c_out"])]
        for j in range(n_carried):
            ins.append(tvi(f"v{j}", TensorProto.FLOAT, None))
            if cast_to is None:
                nodes.append(helper.make_node("Identity", [f"v{j}"], [f"o{j}"]))
            else:
                nodes.append(helper.make_node("Cast", [f"v{j}"], [f"o{j}"], to=cast_to))
            outs.append(tvi(f"o{j}", TensorProto.UNDEFINED, None) if cast_to else tvi(f"o{j}", TensorProto.FLOAT, None))
        return helper.make_graph(nodes, "body", ins, outs)

    def loop_graph(name, m, cond, body, x_dims=(2,)):
        inits = []
        ins = ["", ""]
        if m is not None:
            inits.append(const("M", np.array(m, I64)))
            ins[0] = "M"
        if cond is not None:
            inits.append(const("cond", np.array(cond)))
            ins[1] = "cond"
        return helper.make_graph([helper.make_node("Loop", ins + ["x"], ["y"], body=body, name="loop")], name,
                                 [tvi("x", TensorProto.FLOAT, list(x_dims))], [tvi("y", TensorProto.FLOAT, None)],
                                 initializer=inits)

    bad("loop_no_trip_no_cond", loop_graph("g", None, None, ident_body()))
    bad("loop_negative_trip", loop_graph("g", -3, True, ident_body()))
    bad("loop_trip_not_scalar", loop_graph("g", [2, 3], True, ident_body()))
    bad("loop_body_outputs", loop_graph("g", 2, True, helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"])], "body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []), tvi("v0", TensorProto.FLOAT, None)],
        [tvi("c_out", TensorProto.BOOL, [])])))
    bad("loop_body_inputs", loop_graph("g", 2, True, helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]), helper.make_node("Identity", ["c"], ["o"])], "body",
        [tvi("c", TensorProto.BOOL, [])],
        [tvi("c_out", TensorProto.BOOL, []), tvi("o", TensorProto.BOOL, [])])))
    bad("loop_type_change", loop_graph("g", 2, True, ident_body(cast_to=TensorProto.INT64)))
    # a scan output whose shape changes between iterations: the carried value grows and is also stacked
    grow = helper.make_graph(
        [helper.make_node("Concat", ["v0", "v0"], ["o0"], axis=0), helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Identity", ["o0"], ["st"])], "body",
        [tvi("i", TensorProto.INT64, []), tvi("c", TensorProto.BOOL, []), tvi("v0", TensorProto.FLOAT, None)],
        [tvi("c_out", TensorProto.BOOL, []), tvi("o0", TensorProto.FLOAT, None), tvi("st", TensorProto.FLOAT, None)])
    g = helper.make_graph([helper.make_node("Loop", ["M", "", "x"], ["y", "stack"], body=grow, name="loop")], "g",
                          [tvi("x", TensorProto.FLOAT, [2])],
                          [tvi("y", TensorProto.FLOAT, None), tvi("stack", TensorProto.FLOAT, None)],
                          initializer=[const("M", np.array(3, I64))])
    bad("loop_scan_shape_change", g)
    sbody = helper.make_graph(
        [helper.make_node("Add", ["a_t", "b_t"], ["y"])], "body",
        [tvi("a_t", TensorProto.FLOAT, None), tvi("b_t", TensorProto.FLOAT, None)], [tvi("y", TensorProto.FLOAT, None)])
    g = helper.make_graph([helper.make_node("Scan", ["a", "b"], ["ys"], body=sbody, num_scan_inputs=2, name="scan")],
                          "g", [tvi("a", TensorProto.FLOAT, [3, 2]), tvi("b", TensorProto.FLOAT, [4, 2])],
                          [tvi("ys", TensorProto.FLOAT, None)])
    bad("scan_lengths", g, 11)
    g = helper.make_graph([helper.make_node("SequenceConstruct", ["a", "a", "a"], ["s"]),
                           helper.make_node("SequenceAt", ["s", "pos"], ["y"], name="at")], "g",
                          [tvi("a", TensorProto.FLOAT, [2])], [tvi("y", TensorProto.FLOAT, None)],
                          initializer=[const("pos", np.array(5, I64))])
    bad("sequence_at_range", g, 13)


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    paste_masks_case()
    keypoint_heatmaps_case()
    growing_case()
    while_case()
    nested_case()
    scan16_case()
    scan8_case()
    sequence_ops_case()
    loop_sequence_case()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
