#!/usr/bin/python3
"""Hand-built ONNX models that exercise what the node tests do not: every TensorProto storage form, every attribute
kind, proto2 presence of empty strings, opaque types, sparse initializers, functions, training info, metadata,
IR 3 initializers listed as inputs, unsorted nodes and nested subgraphs with outer-scope references.
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


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in [("storage", storage_model), ("attributes", attribute_model), ("metadata", metadata_model),
                     ("ir3", ir3_model), ("unsorted_nested", unsorted_nested_model)]:
        onnx.save(fn(), os.path.join(out, f"edge_{name}.onnx"))


if __name__ == "__main__":
    main()
