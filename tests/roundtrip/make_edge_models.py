#!/usr/bin/python3
"""Hand-built ONNX models that exercise what the node tests do not: every TensorProto storage form, every attribute
kind, proto2 presence of empty strings, opaque types, sparse initializers, functions, training info, metadata,
IR 3 initializers listed as inputs, unsorted nodes and nested subgraphs with outer-scope references, and fields
newer than the onnx 1.12 schema onnxc compiles (written as raw protobuf bytes with the numbers of a newer
onnx.proto, so python's onnx 1.12 keeps them as unknown fields).
Written with onnx.helper (an independent writer) into the folder given on the command line."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def typed_tensor(name, dtype, dims, values):
    """TensorProto with data in the typed field (make_tensor with raw=False)."""
    return helper.make_tensor(name, dtype, dims, values, raw=False)


def storage_model():
    inits = [
        typed_tensor("f_typed", TensorProto.FLOAT, [2, 2], [1.5, -2.0, 3.25, 0.0]),
        numpy_helper.from_array(np.array([[1.5, -2.0], [3.25, 0.0]], np.float32), "f_raw"),
        typed_tensor("h_typed", TensorProto.FLOAT16, [3], np.array([1.0, -0.5, 65504.0], np.float16)),
        numpy_helper.from_array(np.array([1.0, -0.5, 65504.0], np.float16), "h_raw"),
        typed_tensor("bf_typed", TensorProto.BFLOAT16, [2], [1.0, -3.0]),
        typed_tensor("i8_typed", TensorProto.INT8, [3], [-128, 0, 127]),
        typed_tensor("u8_typed", TensorProto.UINT8, [3], [0, 1, 255]),
        typed_tensor("i16_typed", TensorProto.INT16, [2], [-32768, 32767]),
        typed_tensor("u16_typed", TensorProto.UINT16, [2], [0, 65535]),
        typed_tensor("b_typed", TensorProto.BOOL, [3], [True, False, True]),
        numpy_helper.from_array(np.array([True, False], bool), "b_raw"),
        typed_tensor("i32_typed", TensorProto.INT32, [2], [-(2 ** 31), 2 ** 31 - 1]),
        typed_tensor("i64_typed", TensorProto.INT64, [2], [-(2 ** 63), 2 ** 63 - 1]),
        typed_tensor("d_typed", TensorProto.DOUBLE, [2], [1e300, -2.5]),
        typed_tensor("u32_typed", TensorProto.UINT32, [2], [0, 2 ** 32 - 1]),
        typed_tensor("u64_typed", TensorProto.UINT64, [2], [0, 2 ** 64 - 1]),
        numpy_helper.from_array(np.array([7, 2 ** 64 - 1], np.uint64), "u64_raw"),
        typed_tensor("c64_typed", TensorProto.COMPLEX64, [2], [1 + 2j, -3 - 4j]),
        typed_tensor("c128_typed", TensorProto.COMPLEX128, [1], [1 + 2j]),
        helper.make_tensor("s_typed", TensorProto.STRING, [3], [b"abc", b"", b"a\x00b"]),
        helper.make_tensor("empty_nodata", TensorProto.FLOAT, [0, 3], []),
        numpy_helper.from_array(np.zeros((0,), np.float32), "empty_raw"),
        numpy_helper.from_array(np.array(3.5, np.float32), "scalar_raw"),
    ]
    loc = numpy_helper.from_array(np.array([1, 2], np.int64), "with_location")
    loc.data_location = TensorProto.DEFAULT
    loc.doc_string = "explicit DEFAULT location"
    seg = numpy_helper.from_array(np.array([4.0], np.float32), "with_segment")
    seg.segment.begin = 0
    seg.segment.end = 1
    inits += [loc, seg]
    outs = []
    nodes = []
    for t in inits:
        nodes.append(helper.make_node("Identity", [t.name], [t.name + "_out"]))
        outs.append(helper.make_tensor_value_info(t.name + "_out", t.data_type, list(t.dims)))
    g = helper.make_graph(nodes, "storage", [], outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def attribute_model():
    sub = helper.make_graph([helper.make_node("Identity", ["outer_x"], ["sub_y"])], "attr_sub", [],
                            [helper.make_tensor_value_info("sub_y", TensorProto.FLOAT, [2])])
    seq_type = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, [None, 4]))
    sparse = helper.make_sparse_tensor(
        helper.make_tensor("sp_values", TensorProto.FLOAT, [2], [5.0, 6.0]),
        helper.make_tensor("sp_indices", TensorProto.INT64, [2], [1, 3]), [4])
    node = helper.make_node(
        "Everything", ["outer_x"], ["y"], domain="test.custom", name="every_attr", doc_string="all kinds",
        f=0.25, i=-7, s=b"bytes\x01", t=numpy_helper.from_array(np.arange(3, dtype=np.int32), "attr_t"),
        g=sub, floats=[1.0, 2.5], ints=[1, -2, 3], strings=[b"a", b"bc"],
        tensors=[numpy_helper.from_array(np.ones(2, np.float32), "t0"),
                 typed_tensor("t1", TensorProto.FLOAT16, [1], np.array([2.0], np.float16))],
        graphs=[sub, sub], sparse_tensor=sparse, sparse_tensors=[sparse],
        tp=seq_type, type_protos=[seq_type, helper.make_tensor_type_proto(TensorProto.INT64, [3])])
    # an attribute written without its type field, as IR version 1 files did
    untyped = onnx.AttributeProto()
    untyped.name = "untyped_int"
    untyped.i = 42
    node.attribute.append(untyped)
    empty_ints = onnx.AttributeProto()
    empty_ints.name = "empty_ints"
    empty_ints.type = onnx.AttributeProto.INTS
    node.attribute.append(empty_ints)
    consts = [
        helper.make_node("Constant", [], ["c_value"], value=numpy_helper.from_array(np.eye(2, dtype=np.float32))),
        helper.make_node("Constant", [], ["c_float"], value_float=2.0),
        helper.make_node("Constant", [], ["c_floats"], value_floats=[1.0, 2.0]),
        helper.make_node("Constant", [], ["c_int"], value_int=3),
        helper.make_node("Constant", [], ["c_ints"], value_ints=[3, 4]),
        helper.make_node("Constant", [], ["c_string"], value_string="hi"),
        helper.make_node("Constant", [], ["c_strings"], value_strings=["x", "yz"]),
        helper.make_node("Constant", [], ["c_sparse"], sparse_value=sparse),
    ]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    outs += [helper.make_tensor_value_info(c.output[0], TensorProto.FLOAT, None) for c in consts]
    g = helper.make_graph([node] + consts, "attrs",
                          [helper.make_tensor_value_info("outer_x", TensorProto.FLOAT, [2])], outs)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("test.custom", 1)])


def metadata_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, None], doc_string="input doc")
    x.type.denotation = "TENSOR"
    x.type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    seq = onnx.ValueInfoProto()
    seq.name = "seq_in"
    seq.type.CopyFrom(helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None)))
    opt = onnx.ValueInfoProto()
    opt.name = "opt_in"
    opt.type.CopyFrom(helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.INT64, [])))
    untyped = onnx.ValueInfoProto()
    untyped.name = "untyped_in"
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, None])
    n1 = helper.make_node("Relu", ["x"], ["r"], name="relu", doc_string="node doc")
    n1.domain = ""  # present but empty: must stay present
    n2 = helper.make_node("Neg", ["r"], ["y"], name="")
    vi = helper.make_tensor_value_info("r", TensorProto.FLOAT, ["N", 3, "W"])
    qa = onnx.TensorAnnotation()
    qa.tensor_name = "r"
    kv = qa.quant_parameter_tensor_names.add()
    kv.key, kv.value = "SCALE_TENSOR", "r_scale"
    g = helper.make_graph([n1, n2], "meta_graph", [x, seq, opt, untyped], [y], value_info=[vi],
                          doc_string="graph doc")
    g.quantization_annotation.append(qa)
    g.sparse_initializer.append(helper.make_sparse_tensor(
        helper.make_tensor("sparse_w", TensorProto.FLOAT, [1], [9.0]),
        helper.make_tensor("sparse_w_idx", TensorProto.INT64, [1], [2]), [3]))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14), helper.make_opsetid("ai.onnx.ml", 2)],
                          producer_name="edge-maker", producer_version="1.0", domain="org.test", model_version=7,
                          doc_string="model doc")
    helper.set_model_props(m, {"author": "onnxc tests", "license": "MIT"})
    fn = helper.make_function("test.fn", "DoubleRelu", ["a"], ["b"],
                              [helper.make_node("Relu", ["a"], ["t"]), helper.make_node("Relu", ["t"], ["b"])],
                              [helper.make_opsetid("", 14)], attributes=["alpha"])
    m.functions.append(fn)
    ti = m.training_info.add()
    ti.initialization.CopyFrom(helper.make_graph([], "init", [], []))
    b = ti.update_binding.add()
    b.key, b.value = "w", "w_new"
    return m


def ir3_model():
    w = numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "w")
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "ir3",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                           helper.make_tensor_value_info("w", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 7)])
    m.ir_version = 3
    return m


def unsorted_nested_model():
    # nodes listed consumer-first; an If whose branches hold a Loop reading outer values two levels up
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "a"], ["acc_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2])])
    then_g = helper.make_graph(
        [helper.make_node("Loop", ["trip", "", "a"], ["then_y"], body=body)], "then",
        [], [helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [2])])
    else_g = helper.make_graph([], "else", [], [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])])
    nodes = [
        helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g, name="if"),
        helper.make_node("Relu", ["x"], ["a"], name="relu_after_use"),
    ]
    g = helper.make_graph(nodes, "unsorted",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                           helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
                          [numpy_helper.from_array(np.array(3, np.int64), "trip")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


# ---- raw protobuf wire format, for fields onnx 1.12 does not know

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


def tag(number, wire):
    return varint(number << 3 | wire)


def f_varint(number, value):
    return tag(number, 0) + varint(value)


def f_bytes(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(number, 2) + varint(len(payload)) + payload


def f_fixed32(number, value):
    return tag(number, 5) + value.to_bytes(4, "little")


def f_fixed64(number, value):
    return tag(number, 1) + value.to_bytes(8, "little")


def entry(key, value):
    """A StringStringEntryProto: key = 1, value = 2."""
    return f_bytes(1, key) + f_bytes(2, value)


def metadata(number, pairs):
    """A repeated StringStringEntryProto field (metadata_props)."""
    return b"".join(f_bytes(number, entry(k, v)) for k, v in pairs)


def add_unknown(msg, raw):
    """Append fields to msg; python's onnx 1.12 keeps those it does not know as unknown fields."""
    msg.MergeFromString(raw)
    assert msg.SerializeToString().endswith(raw), "the fields were expected to be unknown to onnx 1.12"


# Field numbers of a newer onnx.proto (onnx 1.16+/IR 10, IR 11), all unknown to onnx 1.12:
MODEL_CONFIGURATION = 26          # ModelProto.configuration: repeated DeviceConfigurationProto
GRAPH_METADATA = 16               # GraphProto.metadata_props
NODE_OVERLOAD = 8                 # NodeProto.overload
NODE_METADATA = 9                 # NodeProto.metadata_props
NODE_DEVICE_CONFIGURATIONS = 10   # NodeProto.device_configurations: repeated NodeDeviceConfigurationProto
VALUE_INFO_METADATA = 4           # ValueInfoProto.metadata_props
TENSOR_METADATA = 16              # TensorProto.metadata_props
FUNCTION_VALUE_INFO = 12          # FunctionProto.value_info
FUNCTION_OVERLOAD = 13            # FunctionProto.overload
FUNCTION_METADATA = 14            # FunctionProto.metadata_props
# No ONNX version defines these: a vendor's extension fields, one per wire type.
VENDOR = 1000


def vendor_fields():
    return (f_varint(VENDOR, 2 ** 64 - 1) + f_fixed64(VENDOR + 1, 0x0123456789ABCDEF) +
            f_fixed32(VENDOR + 2, 0xDEADBEEF) + f_bytes(VENDOR + 3, b""))


def newer_fields_model():
    """Every message kind onnxc flattens into its IR carries fields it does not know; the file must come back
    byte for byte."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    add_unknown(x, metadata(VALUE_INFO_METADATA, [("role", "image")]))
    add_unknown(x.type, f_varint(VENDOR, 1))
    add_unknown(x.type.tensor_type, f_bytes(VENDOR, "tensor-type ext"))
    add_unknown(x.type.tensor_type.shape, f_fixed32(VENDOR, 7))
    add_unknown(x.type.tensor_type.shape.dim[0], f_varint(VENDOR, 300))
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    add_unknown(y, metadata(VALUE_INFO_METADATA, [("role", "logits")]))
    w = numpy_helper.from_array(np.array([1.0, -2.0, 0.5], np.float32), "w")
    add_unknown(w, metadata(TENSOR_METADATA, [("quantized", "no"), ("source", "layer1.weight")]))
    w_typed = helper.make_tensor("w_typed", TensorProto.INT64, [2], [3, -4])
    add_unknown(w_typed, metadata(TENSOR_METADATA, [("k", "v")]) + vendor_fields())
    w_typed.segment.begin = 0
    w_typed.segment.end = 2
    add_unknown(w_typed.segment, f_varint(VENDOR, 9))
    # an external_data entry on a tensor whose data is inline: inert, but kept
    entry_kv = w_typed.external_data.add()
    entry_kv.key, entry_kv.value = "checksum", "none"
    add_unknown(entry_kv, f_bytes(VENDOR, "entry ext"))

    add = helper.make_node("Add", ["x", "w"], ["a"], name="add")
    add_unknown(add, f_bytes(NODE_OVERLOAD, "v2") + metadata(NODE_METADATA, [("pkg.torch.stack", "layer1/add")]) +
                f_bytes(NODE_DEVICE_CONFIGURATIONS, f_bytes(1, "cfg0") + f_varint(3, 1)))
    const = helper.make_node("Constant", [], ["k"], name="const",
                             value=numpy_helper.from_array(np.array([2.0], np.float32), "k_value"))
    add_unknown(const.attribute[0], vendor_fields())
    add_unknown(const.attribute[0].t, metadata(TENSOR_METADATA, [("folded", "yes")]))
    add_unknown(const, metadata(NODE_METADATA, [("origin", "constant")]))
    then_node = helper.make_node("Mul", ["a", "k"], ["then_y"], name="then_mul")
    add_unknown(then_node, metadata(NODE_METADATA, [("branch", "then")]))
    then_g = helper.make_graph([then_node], "then", [], [helper.make_tensor_value_info("then_y", TensorProto.FLOAT,
                                                                                       ["N", 3])])
    add_unknown(then_g, metadata(GRAPH_METADATA, [("graph", "then")]))
    else_g = helper.make_graph([helper.make_node("Identity", ["a"], ["else_y"])], "else", [],
                               [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, ["N", 3])])
    add_unknown(else_g.output[0], metadata(VALUE_INFO_METADATA, [("branch", "else")]))
    if_node = helper.make_node("If", ["c"], ["y"], name="if", then_branch=then_g, else_branch=else_g)
    add_unknown(if_node.attribute[0], f_varint(VENDOR, 5))
    call = helper.make_node("Twice", ["a"], ["t"], domain="test.fn", name="call")
    add_unknown(call, f_bytes(NODE_OVERLOAD, "fast"))
    a_info = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3])
    add_unknown(a_info, metadata(VALUE_INFO_METADATA, [("stage", "1")]))
    g = helper.make_graph([add, const, if_node, call], "newer_fields", [x, c],
                          [y, helper.make_tensor_value_info("t", TensorProto.FLOAT, ["N", 3])], [w, w_typed],
                          value_info=[a_info])
    add_unknown(g, metadata(GRAPH_METADATA, [("graph", "main")]))

    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("test.fn", 1)],
                          producer_name="edge-maker")
    add_unknown(m.opset_import[0], f_varint(VENDOR, 42))
    helper.set_model_props(m, {"author": "onnxc tests"})
    add_unknown(m.metadata_props[0], f_fixed32(VENDOR, 1))
    fn = helper.make_function("test.fn", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                              [helper.make_opsetid("", 13)])
    add_unknown(fn, f_bytes(FUNCTION_VALUE_INFO, helper.make_tensor_value_info("b", TensorProto.FLOAT, None)
                            .SerializeToString()) +
                f_bytes(FUNCTION_OVERLOAD, "fast") + metadata(FUNCTION_METADATA, [("fn", "meta")]))
    m.functions.append(fn)
    # DeviceConfigurationProto: name = 1, num_devices = 2, device = 3
    add_unknown(m, f_bytes(MODEL_CONFIGURATION, f_bytes(1, "cfg0") + f_varint(2, 2) + f_bytes(3, "cpu:0") +
                           f_bytes(3, "cpu:1")) + vendor_fields())
    return m


def newer_ir_model():
    """What a newer exporter writes: IR version 10 (onnx 1.16), node metadata and overloads. onnx 1.12's checker
    refuses the IR version, so only the round trip is checked."""
    m = newer_fields_model()
    m.ir_version = 10
    m.opset_import[0].version = 21
    return m


def sparse_initializer_model():
    """A node reads a sparse initializer: loads, round-trips and passes the checker; onnxc does not run it."""
    sw = helper.make_sparse_tensor(helper.make_tensor("sw", TensorProto.FLOAT, [2], [5.0, -1.0]),
                                   helper.make_tensor("sw_idx", TensorProto.INT64, [2], [0, 3]), [4])
    g = helper.make_graph([helper.make_node("Add", ["x", "sw"], ["y"], name="add_sparse")], "sparse",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    g.sparse_initializer.append(sw)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in [("storage", storage_model), ("attributes", attribute_model), ("metadata", metadata_model),
                     ("ir3", ir3_model), ("unsorted_nested", unsorted_nested_model),
                     ("newer_fields", newer_fields_model), ("newer_ir", newer_ir_model),
                     ("sparse_initializer", sparse_initializer_model)]:
        onnx.save(fn(), os.path.join(out, f"edge_{name}.onnx"))


if __name__ == "__main__":
    main()
