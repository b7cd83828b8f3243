#!/usr/bin/python3
"""Broken-model corpus for test_badinput: files onnxc must refuse with a one-line error and never crash on.
Run at test time into a build folder: make_bad_models.py OUTDIR. Writes OUTDIR/manifest.tsv, one case a line:
  relative/path/model.onnx <TAB> stage <TAB> text the message must contain
stage is "load" (onnxc_model_load must fail), "toposort" (the file loads; sorting the graph must fail), "tensor"
(onnxc_tensor_read and onnxc_npz_read must fail) or "optimize" (the file loads, optimizes and saves; what is wrong
with it must not crash the passes: the sanitizer builds catch it; the text column is unused, "-").
Models are built with onnx.helper (or raw bytes where the helper cannot express the damage)."""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
CASES = []


def opset(v=13):
    return [helper.make_opsetid("", v)]


def tensor_model(t, name="bad"):
    """A model whose single initializer t feeds an Identity."""
    g = helper.make_graph([helper.make_node("Identity", [t.name], ["y"], name="id")], name, [],
                          [helper.make_tensor_value_info("y", t.data_type if t.data_type else 1, None)], [t])
    return helper.make_model(g, opset_imports=opset())


def valid_model():
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "ok",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], [w])
    return helper.make_model(g, opset_imports=opset())


def case_dir(name):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    return d


def add(name, data, stage, expect):
    """Write bytes (or a ModelProto) as NAME/model.onnx and record the case."""
    d = case_dir(name)
    path = os.path.join(d, "model.onnx")
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.SerializeToString())
    CASES.append((os.path.join(name, "model.onnx"), stage, expect))
    return d


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def with_raw_enum(msg, field, value):
    """Copy of msg with an enum field set to a value python protobuf refuses (kept as an unknown field)."""
    out = type(msg)()
    out.ParseFromString(msg.SerializeToString() + varint(field << 3) + varint(value))
    return out


def ld(field, payload):
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


# ---- not protobuf at all
good = valid_model().SerializeToString()
add("truncated", good[: len(good) // 2], "load", "truncated/model.onnx")
add("truncated_one_byte", good[:-1], "load", "truncated_one_byte/model.onnx")
rng = random.Random(1234)
add("random_bytes", bytes(rng.randrange(256) for _ in range(4096)), "load", "random_bytes/model.onnx")
add("text_file", b"This is not an ONNX model.\nJust some text.\n" * 20, "load", "text_file/model.onnx")
add("empty_file", b"", "load", "empty_file/model.onnx")
add("no_graph", varint(1 << 3) + varint(8), "load", "no graph")  # ModelProto{ir_version: 8} and nothing else
d = case_dir("is_a_folder")
os.makedirs(os.path.join(d, "model.onnx"), exist_ok=True)
CASES.append(("is_a_folder/model.onnx", "load", "is_a_folder/model.onnx"))
# a named pipe where a model should be: refused at once (opened without blocking), never waited on
d = case_dir("model_is_fifo")
os.mkfifo(os.path.join(d, "model.onnx"))
CASES.append(("model_is_fifo/model.onnx", "load", "is a named pipe (FIFO), not a regular file"))
add("missing_file_placeholder", good, "load", "missing_file_placeholder/model.onnx")
os.remove(os.path.join(OUT, "missing_file_placeholder", "model.onnx"))

# protobuf nesting 100000 levels deep (Model > Graph > ValueInfo > Type > Sequence > Type > ...): protobuf-c
# would recurse once per level without onnxc's depth check.
levels = 100000
inner = b""
prefixes = []
size = 0
for _ in range(levels):
    # TypeProto{sequence_type(4): Sequence{elem_type(1): TypeProto{...}}}
    seq_len = size
    seq_prefix = varint(1 << 3 | 2) + varint(seq_len)
    tp_len = len(seq_prefix) + seq_len
    tp_prefix = varint(4 << 3 | 2) + varint(tp_len)
    prefixes.append(seq_prefix)
    prefixes.append(tp_prefix)
    size = len(tp_prefix) + tp_len
type_bytes = b"".join(reversed(prefixes))
vi = ld(1, b"x") + ld(2, type_bytes)
graph = ld(11, vi)
add("protobuf_depth_bomb", varint(1 << 3) + varint(8) + ld(7, graph), "load", "nest deeper")

# ---- tensor sizes and storage
t = numpy_helper.from_array(np.zeros((2, 3), np.float32), "neg_w")
t.dims[:] = [-2, -3]
add("negative_dims", tensor_model(t), "load", "'neg_w'")
t = helper.make_tensor("overflow_w", TensorProto.FLOAT, [0], [])
t.dims[:] = [2 ** 62, 2 ** 62, 4]
add("dims_overflow", tensor_model(t), "load", "'overflow_w'")
t = helper.make_tensor("huge_w", TensorProto.FLOAT, [0], [])
t.dims[:] = [100000, 100000, 100000]
add("huge_dims_no_data", tensor_model(t), "load", "'huge_w'")
t = numpy_helper.from_array(np.zeros((3, 4), np.float32), "short_w")
t.raw_data = t.raw_data[:-4]
add("raw_data_short", tensor_model(t), "load", "'short_w'")
t = numpy_helper.from_array(np.zeros((3, 4), np.float32), "long_w")
t.raw_data = t.raw_data + b"\0\0\0\0"
add("raw_data_long", tensor_model(t), "load", "'long_w'")
t = helper.make_tensor("typed_count_w", TensorProto.FLOAT, [2, 3], [1.0] * 6)
del t.float_data[-1]
add("float_data_count", tensor_model(t), "load", "'typed_count_w'")
t = helper.make_tensor("wrong_field_w", TensorProto.FLOAT, [2], [0, 0])
t.ClearField("float_data")
t.int64_data.extend([1, 2])
add("typed_field_mismatch", tensor_model(t), "load", "'wrong_field_w'")
t = numpy_helper.from_array(np.zeros(2, np.float32), "two_places_w")
t.float_data.extend([1.0, 2.0])
add("raw_and_typed", tensor_model(t), "load", "'two_places_w'")
t = helper.make_tensor("str_w", TensorProto.STRING, [3], [b"a", b"b", b"c"])
del t.string_data[-1]
add("string_count", tensor_model(t), "load", "'str_w'")
t = helper.make_tensor("str_raw_w", TensorProto.STRING, [1], [b"a"])
t.ClearField("string_data")
t.raw_data = b"abcdefgh"
add("string_raw", tensor_model(t), "load", "'str_raw_w'")
t = numpy_helper.from_array(np.zeros(2, np.float32), "dtype99_w")
t.data_type = 99
add("unknown_dtype", tensor_model(t), "load", "'dtype99_w'")
t = numpy_helper.from_array(np.zeros(2, np.float32), "nodtype_w")
t.ClearField("data_type")
add("no_dtype", tensor_model(t), "load", "'nodtype_w'")
t = numpy_helper.from_array(np.zeros([1], np.float32), "rank100_w")
t.dims[:] = [1] * 100  # numpy stops at rank 32, ONNX has no limit
add("rank_100", tensor_model(t), "load", "'rank100_w'")
t = numpy_helper.from_array(np.zeros([1] * 13, np.float32), "rank13_w")
add("rank_13", tensor_model(t), "load", "'rank13_w'")
t = numpy_helper.from_array(np.zeros(4, np.float32), "seg_w")
t.segment.begin = 2
t.segment.end = 4
add("partial_segment", tensor_model(t), "load", "'seg_w'")
t = numpy_helper.from_array(np.zeros(2, np.float32), "loc7_w")
t = with_raw_enum(t, 14, 7)  # data_location = 7
add("bad_data_location", tensor_model(t), "load", "'loc7_w'")
t = numpy_helper.from_array(np.zeros(2, np.float32), "")
add("initializer_no_name", tensor_model(t), "load", "initializer #0")
m = valid_model()
m.graph.initializer.append(numpy_helper.from_array(np.zeros(2, np.float32), "w"))
add("duplicate_initializer", m, "load", "'w'")
# a Constant's value tensor is checked like an initializer
c = helper.make_node("Constant", [], ["c"], name="const_bad",
                     value=numpy_helper.from_array(np.zeros(3, np.float32), "cval"))
c.attribute[0].t.raw_data = b"\0" * 5
g = helper.make_graph([c], "g", [], [helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])])
add("constant_raw_short", helper.make_model(g, opset_imports=opset()), "load", "'const_bad'")


# ---- external data
def external_case(name, location, offset=None, length=None, payload=np.arange(4, dtype=np.float32), dims=None,
                  expect=None, dtype=TensorProto.FLOAT):
    t = onnx.TensorProto()
    t.name = "ext_w"
    t.data_type = dtype
    t.dims.extend(dims if dims is not None else list(payload.shape))
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    d = add(name, tensor_model(t), "load", expect or "'ext_w'")
    return d


outside = os.path.join(OUT, "outside.bin")
np.arange(4, dtype=np.float32).tofile(outside)
external_case("ext_dotdot", "../outside.bin", expect="'..'")
external_case("ext_nested_dotdot", "sub/../../outside.bin", expect="'..'")
external_case("ext_absolute", "/etc/passwd", expect="absolute")
external_case("ext_absolute_outside", outside, expect="absolute")
d = external_case("ext_symlink_out", "link.bin", expect="outside the model folder")
os.symlink(os.path.join("..", "outside.bin"), os.path.join(d, "link.bin"))
d = external_case("ext_symlink_dir_out", "subdir/outside.bin", expect="outside the model folder")
os.symlink("..", os.path.join(d, "subdir"))
d = external_case("ext_past_end", "w.bin", offset=8, length=16)
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
d = external_case("ext_offset_past_end", "w.bin", offset=1000)
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
d = external_case("ext_length_mismatch", "w.bin", offset=0, length=12)
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
d = external_case("ext_file_too_small", "w.bin", dims=[8])
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
external_case("ext_missing_file", "nowhere.bin")
d = external_case("ext_negative_offset", "w.bin", offset="-4")
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
d = external_case("ext_offset_not_number", "w.bin", offset="12abc")
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
external_case("ext_no_location", None)
d = external_case("ext_location_is_folder", "adir")
os.makedirs(os.path.join(d, "adir"), exist_ok=True)
d = external_case("ext_fifo", "w.bin", expect="external data file 'w.bin': is a named pipe (FIFO), not a regular file")
os.mkfifo(os.path.join(d, "w.bin"))
external_case("ext_dot", ".", expect="external data location '.' names the model folder itself, not a file")
d = external_case("ext_link_to_folder", "here", expect="'here' names the model folder itself")
os.symlink(".", os.path.join(d, "here"))
d = external_case("ext_string_tensor", "w.bin", dims=[1], dtype=TensorProto.STRING)
np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))

# ---- graph structure
n1 = helper.make_node("Relu", ["b"], ["a"], name="cyc_a")
n2 = helper.make_node("Relu", ["a"], ["b"], name="cyc_b")
n3 = helper.make_node("Add", ["a", "x"], ["y"], name="cyc_out")
g = helper.make_graph([n1, n2, n3], "cyclic", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("cycle", helper.make_model(g, opset_imports=opset()), "toposort", "cyc_")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["x"], name="self_loop")], "selfloop",
                      [], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])])
add("self_loop", helper.make_model(g, opset_imports=opset()), "toposort", "self_loop")
g = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")], "dangling",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("dangling_input", helper.make_model(g, opset_imports=opset()), "load", "'ghost'")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="first_producer"),
                       helper.make_node("Neg", ["x"], ["y"], name="second_producer")], "dup",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("duplicate_output", helper.make_model(g, opset_imports=opset()), "load", "second_producer")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["x2"], name="overwrites_input")], "dupin",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
                       helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1])])
add("output_is_graph_input", helper.make_model(g, opset_imports=opset()), "load", "overwrites_input")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "noprod",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("nobody_makes_me", TensorProto.FLOAT, [1])])
add("graph_output_unproduced", helper.make_model(g, opset_imports=opset()), "load", "nobody_makes_me")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "dupgin",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
                       helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("duplicate_graph_input", helper.make_model(g, opset_imports=opset()), "load", "'x'")
n = helper.make_node("Relu", ["x"], ["y"], name="no_op_type")
n.ClearField("op_type")
g = helper.make_graph([n], "noop", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("node_without_op_type", helper.make_model(g, opset_imports=opset()), "load", "no_op_type")

# ---- attributes
n = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky", alpha=0.1)
n.attribute[0].type = onnx.AttributeProto.INT
g = helper.make_graph([n], "attr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("attribute_wrong_type", helper.make_model(g, opset_imports=opset()), "load", "'alpha'")
n = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky2", alpha=0.1)
n.attribute[0].i = 3
g = helper.make_graph([n], "attr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("attribute_two_values", helper.make_model(g, opset_imports=opset()), "load", "'alpha'")
n = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky3", alpha=0.1)
n.attribute[0].ClearField("type")
n.attribute[0].CopyFrom(with_raw_enum(n.attribute[0], 20, 99))  # type = 99
g = helper.make_graph([n], "attr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("attribute_unknown_type", helper.make_model(g, opset_imports=opset()), "load", "'alpha'")
n = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky4", alpha=0.1)
n.attribute[0].ClearField("name")
g = helper.make_graph([n], "attr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
add("attribute_no_name", helper.make_model(g, opset_imports=opset()), "load", "leaky4")


# ---- subgraphs
def nested_if(depth, leaf_input="x"):
    """If nodes nested depth levels deep; the innermost branch reads leaf_input from the outer scope."""
    out = "y%d" % depth
    g = helper.make_graph([helper.make_node("Identity", [leaf_input], [out], name="leaf")], "leaf_g", [],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1])])
    for level in range(depth - 1, -1, -1):
        out = "y%d" % level
        other = helper.make_graph([helper.make_node("Identity", ["x"], [out + "_e"])], "else_%d" % level, [],
                                  [helper.make_tensor_value_info(out + "_e", TensorProto.FLOAT, [1])])
        node = helper.make_node("If", ["c"], [out], name="if_%d" % level, then_branch=g, else_branch=other)
        g = helper.make_graph([node], "level_%d" % level, [], [helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                                                             [1])])
    return g


def nested_model(depth, leaf_input="x"):
    g = nested_if(depth, leaf_input)
    g.input.extend([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
                    helper.make_tensor_value_info("c", TensorProto.BOOL, [])])
    g.name = "main"
    return helper.make_model(g, opset_imports=opset())


def serialize_deep(model):
    try:
        return model.SerializeToString()
    except Exception:  # noqa: BLE001 - python protobuf may refuse deep nesting; skip such a case then
        return None


data = serialize_deep(nested_model(40))
if data:
    add("subgraph_depth_40", data, "load", "deeper than 32")
data = serialize_deep(nested_model(100))
if data:
    add("subgraph_depth_100", data, "load", "subgraph_depth_100/model.onnx")
# 33 levels: one past the limit. The message is too long for every level: it keeps the outermost and the innermost
# ones and says how many it leaves out, instead of starting mid-way as if level 24 were the top
data = serialize_deep(nested_model(33))
if data:
    add("subgraph_depth_33", data, "load",
        "graph 'main': node 'if_0' (If) attribute 'then_branch': ... 25 nested subgraph levels not shown ...: "
        "graph 'level_26'")
add("subgraph_dangling", nested_model(3, leaf_input="not_anywhere"), "load", "'not_anywhere'")

# ---- tensor files (what run/compare read as inputs)
d = case_dir("tensor_fifo")
os.mkfifo(os.path.join(d, "x.npy"))
CASES.append(("tensor_fifo/x.npy", "tensor", "x.npy: is a named pipe (FIFO), not a regular file"))
d = case_dir("tensor_folder")
os.makedirs(os.path.join(d, "x.npy"), exist_ok=True)
CASES.append(("tensor_folder/x.npy", "tensor", "x.npy: is a folder, not a regular file"))

# ---- models that load but once upset a pass
add("optimize_empty_graph", helper.make_model(helper.make_graph([], "empty", [], []), opset_imports=opset()),
    "optimize", "-")

with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
    for path, stage, expect in CASES:
        f.write(f"{path}\t{stage}\t{expect}\n")
print(f"{len(CASES)} bad-input cases in {OUT}")
