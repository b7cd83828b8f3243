#!/usr/bin/python3
"""Regression models for the BN-folding family of passes, built with onnx.helper (run at test time):
make_models.py OUT_DIR. Each model targets one edge case users hit (see ../shared/research)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(1234)


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def bn_params(prefix, c, dtype=np.float32):
    return [
        init(prefix + ".scale", rng.uniform(0.5, 1.5, c).astype(dtype)),
        init(prefix + ".B", rng.uniform(-0.5, 0.5, c).astype(dtype)),
        init(prefix + ".mean", rng.normal(0, 0.5, c).astype(dtype)),
        init(prefix + ".var", rng.uniform(0.5, 2.0, c).astype(dtype)),
    ]


def bn_node(prefix, x, y, **attrs):
    return helper.make_node("BatchNormalization", [x, prefix + ".scale", prefix + ".B", prefix + ".mean",
                                                   prefix + ".var"], [y], name=prefix, **attrs)


def vi(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def save(out, name, nodes, inputs, outputs, inits, opset=13, ir=None, value_info=(), check=True):
    if ir is not None and ir <= 3:  # IR <= 3 lists every initializer among the graph inputs
        inputs = list(inputs) + [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    g = helper.make_graph(nodes, name, inputs, outputs, inits, value_info=list(value_info))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnxc-tests")
    if ir is not None:
        m.ir_version = ir
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + ".onnx"))


def main(out):
    os.makedirs(out, exist_ok=True)
    N = "N"

    # 1. Conv without bias -> BN: the fold must add a bias (mean and beta must not be lost)
    save(out, "conv_nobias_bn",
         [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]), bn_node("bn", "c", "y")],
         [vi("x", [N, 3, 8, 8])], [vi("y", [N, 4, 8, 8])], [init("w", f32(4, 3, 3, 3))] + bn_params("bn", 4))

    # 2. one weight shared by two convs, each with its own BN: the weight must be cloned, not edited in place
    save(out, "shared_weight_two_bn",
         [helper.make_node("Conv", ["x", "w", "b"], ["c1"], name="conv1"),
          helper.make_node("Conv", ["x", "w", "b"], ["c2"], name="conv2"),
          bn_node("bn1", "c1", "y1"), bn_node("bn2", "c2", "y2")],
         [vi("x", [N, 3, 6, 6])], [vi("y1", [N, 4, 4, 4]), vi("y2", [N, 4, 4, 4])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn1", 4) + bn_params("bn2", 4))

    # 3. the Conv output also feeds an Add: must not fold into the conv
    save(out, "conv_fanout_add",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
          bn_node("bn", "c", "n"), helper.make_node("Add", ["c", "n"], ["y"], name="Add_7")],
         [vi("x", [N, 4, 5, 5])], [vi("y", [N, 4, 5, 5])],
         [init("w", f32(4, 4, 3, 3)), init("b", f32(4))] + bn_params("bn", 4))

    # 4. BN in training mode (BatchNormalization-15): must not fold
    save(out, "bn_training_mode",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
          bn_node("bn", "c", "y", training_mode=1)],
         [vi("x", [2, 3, 5, 5])], [vi("y", [2, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4), opset=15)

    # 5. BN parameters from Constant nodes
    consts = [helper.make_node("Constant", [], [t.name], name="const_" + t.name, value=t) for t in bn_params("bn", 4)]
    save(out, "bn_constant_params",
         consts + [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn_node("bn", "c", "y")],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 3, 3])], [init("w", f32(4, 3, 3, 3)), init("b", f32(4))])

    # 6. BN parameters that are graph inputs (with initializer defaults): overridable, must not fold
    p = bn_params("bn", 4)
    save(out, "bn_params_graph_inputs",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn_node("bn", "c", "y")],
         [vi("x", [N, 3, 5, 5])] + [vi(t.name, [4]) for t in p], [vi("y", [N, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + p)

    # 7. Gemm with transB, alpha and beta != 1 -> BN (BatchNorm1d on [N, C])
    save(out, "gemm_transb_beta_bn",
         [helper.make_node("Gemm", ["x", "w", "b"], ["g"], name="fc", transB=1, alpha=1.5, beta=0.5),
          bn_node("bn", "g", "y")],
         [vi("x", [N, 6])], [vi("y", [N, 5])], [init("w", f32(5, 6)), init("b", f32(5))] + bn_params("bn", 5))

    # 8. grouped ConvTranspose -> BN: W is [C_in, C_out/group, k, k], scale axis 1 per group
    save(out, "grouped_convtranspose_bn",
         [helper.make_node("ConvTranspose", ["x", "w", "b"], ["c"], name="deconv", group=2, strides=[2, 2],
                           output_padding=[1, 1], pads=[1, 1, 1, 1]),
          bn_node("bn", "c", "y")],
         [vi("x", [N, 4, 4, 4])], [vi("y", [N, 6, 8, 8])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(6))] + bn_params("bn", 6))

    # 9. opset-7 BN with spatial=1 (folds) and spatial=0 (per-activation statistics: must not fold)
    save(out, "opset7_bn_spatial",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn_node("bn", "c", "y", spatial=1)],
         [vi("x", [1, 3, 5, 5])], [vi("y", [1, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4), opset=7, ir=3)
    pa = [init("bn.scale", rng.uniform(0.5, 1.5, (4, 3, 3)).astype(np.float32)),
          init("bn.B", f32(4, 3, 3)), init("bn.mean", f32(4, 3, 3)),
          init("bn.var", rng.uniform(0.5, 2, (4, 3, 3)).astype(np.float32))]
    save(out, "opset7_bn_spatial0",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn_node("bn", "c", "y", spatial=0)],
         [vi("x", [1, 3, 5, 5])], [vi("y", [1, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + pa, opset=7, ir=3)

    # 9b. opset-9 BN that declares its four statistics outputs, unused: by the spec that is training mode (batch
    # statistics), so it must not fold; the same BN with those outputs left empty ("") is inference and folds
    stats = ["bn.running_mean", "bn.running_var", "bn.saved_mean", "bn.saved_var"]
    for name, extra in (("opset9_bn_stats_outputs", stats), ("opset9_bn_empty_outputs", ["", "", "", ""])):
        bn9 = helper.make_node("BatchNormalization", ["c", "bn.scale", "bn.B", "bn.mean", "bn.var"], ["y"] + extra,
                               name="bn")
        save(out, name, [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn9],
             [vi("x", [2, 3, 5, 5])], [vi("y", [2, 4, 3, 3])],
             [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4), opset=9)

    # 10. fp16 model: one BN with a large running variance (folds, weights shrink), and one whose tiny variance
    # would push the folded weight past float16's 65504 (must be skipped with a warning, not turned into inf)
    w16 = rng.uniform(-1, 1, (2, 3, 1, 1)).astype(np.float16)
    big = [init("bn.scale", np.array([1.0, 2.0], np.float16)), init("bn.B", np.array([0.1, -0.2], np.float16)),
           init("bn.mean", np.array([3.0, -1.0], np.float16)), init("bn.var", np.array([60000.0, 40000.0], np.float16))]
    save(out, "fp16_large_var",
         [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), bn_node("bn", "c", "y", epsilon=1e-5)],
         [vi("x", [N, 3, 4, 4], TensorProto.FLOAT16)], [vi("y", [N, 2, 4, 4], TensorProto.FLOAT16)],
         [init("w", w16)] + big)
    tiny = [init("bn.scale", np.array([60000.0, 1.0], np.float16)), init("bn.B", np.array([0.0, 0.0], np.float16)),
            init("bn.mean", np.array([0.0, 0.0], np.float16)), init("bn.var", np.array([0.0, 1.0], np.float16))]
    save(out, "fp16_overflow",
         [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), bn_node("bn", "c", "y", epsilon=1e-4)],
         [vi("x", [N, 3, 4, 4], TensorProto.FLOAT16)], [vi("y", [N, 2, 4, 4], TensorProto.FLOAT16)],
         [init("w", np.full((2, 3, 1, 1), 1.0, np.float16))] + tiny)

    # 11. MatMul with a constant weight -> BN on [N, C]: becomes one Gemm
    save(out, "matmul_bn",
         [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"), bn_node("bn", "m", "y")],
         [vi("x", [N, 7])], [vi("y", [N, 3])], [init("w", f32(7, 3))] + bn_params("bn", 3))

    # 12. frozen BN: Conv -> Mul([1,C,1,1]) -> Add([C,1,1]) (torchvision FrozenBatchNorm2d), and Sub / Div
    save(out, "frozen_bn_mul_add",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
          helper.make_node("Mul", ["c", "k"], ["m"], name="scale"),
          helper.make_node("Add", ["m", "t"], ["a"], name="shift"),
          helper.make_node("Div", ["a", "d"], ["q"], name="div"),
          helper.make_node("Sub", ["s", "q"], ["y"], name="sub")],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4)), init("k", f32(1, 4, 1, 1)), init("t", f32(4, 1, 1)),
          init("d", rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32)), init("s", f32(1))])

    # 13. Conv bias before a BN that stays (training mode): bias moves into the running mean
    save(out, "bias_before_training_bn",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
          bn_node("bn", "c", "y", training_mode=1)],
         [vi("x", [2, 3, 5, 5])], [vi("y", [2, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4), opset=15)

    # 14. Identity and Dropout between Conv and BN (exporters leave them): cleanup, then fold
    save(out, "identity_between_conv_bn",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
          helper.make_node("Identity", ["c"], ["i"], name="ident"),
          helper.make_node("Dropout", ["i"], ["d"], name="drop"),
          bn_node("bn", "d", "y")],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4))

    # 14b. the same chain with every node's domain spelled "ai.onnx", the default domain's other name: every pass
    # must treat it as the default domain (Identity removed, the BN and the frozen-BN Mul after it folded). ONNX Runtime
    # reads it so; onnx 1.12's checker does not know the alias, so the model is not checked.
    save(out, "ai_onnx_domain_chain",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", domain="ai.onnx"),
          helper.make_node("Identity", ["c"], ["i"], name="ident", domain="ai.onnx"),
          helper.make_node("BatchNormalization", ["i", "bn.scale", "bn.B", "bn.mean", "bn.var"], ["m"], name="bn",
                           domain="ai.onnx"),
          helper.make_node("Mul", ["m", "s"], ["y"], name="mul", domain="ai.onnx")],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4)), init("s", f32(4, 1, 1, lo=0.5, hi=1.5))] +
         bn_params("bn", 4), check=False)

    # 15. Conv1d and Conv3d, depthwise, with BN
    save(out, "conv1d_conv3d_depthwise_bn",
         [helper.make_node("Conv", ["x1", "w1", "b1"], ["c1"], name="conv1d", pads=[1, 1]),
          bn_node("bn1", "c1", "y1"),
          helper.make_node("Conv", ["x3", "w3"], ["c3"], name="conv3d"), bn_node("bn3", "c3", "y3"),
          helper.make_node("Conv", ["x2", "wd"], ["cd"], name="dw", group=4, pads=[1, 1, 1, 1]),
          bn_node("bnd", "cd", "yd")],
         [vi("x1", [N, 3, 9]), vi("x3", [N, 2, 4, 4, 4]), vi("x2", [N, 4, 6, 6])],
         [vi("y1", [N, 5, 9]), vi("y3", [N, 3, 3, 3, 3]), vi("yd", [N, 4, 6, 6])],
         [init("w1", f32(5, 3, 3)), init("b1", f32(5)), init("w3", f32(3, 2, 2, 2, 2)), init("wd", f32(4, 1, 3, 3))]
         + bn_params("bn1", 5) + bn_params("bn3", 3) + bn_params("bnd", 4))

    # 16. a BN with nothing to fold into (after a Relu): becomes Mul + Add
    save(out, "bn_after_relu",
         [helper.make_node("Relu", ["x"], ["r"], name="relu"), bn_node("bn", "r", "y")],
         [vi("x", [N, 4, 3, 3])], [vi("y", [N, 4, 3, 3])], bn_params("bn", 4))

    # 17. BN output is a graph output itself and the conv output is too: must not fold
    save(out, "conv_output_is_graph_output",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"), bn_node("bn", "c", "y")],
         [vi("x", [N, 3, 5, 5])], [vi("c", [N, 4, 3, 3]), vi("y", [N, 4, 3, 3])],
         [init("w", f32(4, 3, 3, 3)), init("b", f32(4))] + bn_params("bn", 4))

    # 18. Shape -> Gather -> Unsqueeze -> Concat -> Reshape: folded to a constant shape when the input shape is
    # static; left alone (never freezing N) when the batch dim is symbolic
    for suffix, xdims in (("static", [2, 6, 2]), ("dynamic", [N, 6, 2])):
        save(out, "shape_chain_" + suffix,
             [helper.make_node("Shape", ["x"], ["s"], name="shape"),
              helper.make_node("Gather", ["s", "one"], ["c"], name="gather", axis=0),
              helper.make_node("Unsqueeze", ["c", "ax0"], ["cu"], name="unsq"),
              helper.make_node("Concat", ["minus1", "cu"], ["shp"], name="concat", axis=0),
              helper.make_node("Reshape", ["x", "shp"], ["y"], name="reshape")],
             [vi("x", xdims)], [vi("y", [None, 6])],
             [init("one", np.array(1, np.int64)), init("ax0", np.array([0], np.int64)),
              init("minus1", np.array([-1], np.int64))])
    # 20. ConvTranspose -> Add(per-channel bias from a Constant node) -> BN (a text detector's head): fold-affine
    # folds the Add, and only a second round of the pipeline lets fold-bn fold the BN
    save(out, "convtranspose_add_bn",
         [helper.make_node("Constant", [], ["cb"], name="bias_const", value=init("cb_t", f32(4, 1, 1))),
          helper.make_node("ConvTranspose", ["x", "w"], ["ct"], name="deconv", strides=[2, 2]),
          helper.make_node("Add", ["ct", "cb"], ["a"], name="add_bias"), bn_node("bn", "a", "y")],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 11, 11])], [init("w", f32(3, 4, 3, 3))] + bn_params("bn", 4))

    # 21. BN on a graph input -> grouped Conv without padding: folded forward into the Conv; the Conv's weight
    # is shared with a second Conv, so it is cloned
    save(out, "bn_input_grouped_conv",
         [bn_node("bn", "x", "xn"),
          helper.make_node("Conv", ["xn", "w", "b"], ["y"], name="conv", group=2),
          helper.make_node("Conv", ["x2", "w", "b"], ["y2"], name="conv_other", group=2)],
         [vi("x", [N, 4, 6, 6]), vi("x2", [N, 4, 6, 6])], [vi("y", [N, 6, 4, 4]), vi("y2", [N, 6, 4, 4])],
         [init("w", f32(6, 2, 3, 3)), init("b", f32(6))] + bn_params("bn", 4))

    # 22. BN -> Conv with padding: not exact (the border would see the shift), so the BN stays ...
    save(out, "bn_padded_conv",
         [helper.make_node("Relu", ["x"], ["r"], name="relu"), bn_node("bn", "r", "rn"),
          helper.make_node("Conv", ["rn", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 5, 5])], [init("w", f32(4, 3, 3, 3))] + bn_params("bn", 3))
    # ... unless its shift is zero in every channel (B = 0, mean = 0): then padding is fine
    zero_shift = bn_params("bn", 3)
    zero_shift[1] = init("bn.B", np.zeros(3, np.float32))
    zero_shift[2] = init("bn.mean", np.zeros(3, np.float32))
    save(out, "bn_zero_shift_padded_conv",
         [helper.make_node("Relu", ["x"], ["r"], name="relu"), bn_node("bn", "r", "rn"),
          helper.make_node("Conv", ["rn", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
         [vi("x", [N, 3, 5, 5])], [vi("y", [N, 4, 5, 5])], [init("w", f32(4, 3, 3, 3))] + zero_shift)

    # 23. BN behind a Concat (DenseNet): nothing to fold into; its rank comes from shape inference for Mul + Add
    save(out, "bn_after_concat",
         [helper.make_node("Concat", ["x1", "x2"], ["c"], name="concat", axis=1), bn_node("bn", "c", "y")],
         [vi("x1", [N, 2, 3, 3]), vi("x2", [N, 3, 3, 3])], [vi("y", [N, 5, 3, 3])], bn_params("bn", 5))

    # 24. models that check calls invalid, which optimize and swap-norm must refuse without writing anything:
    # no opset_import at all, a cycle, the same attribute twice (onnx.checker refuses the last two, so unchecked)
    relu = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    save(out, "no_opset_import", relu, [vi("x", [N, 3])], [vi("y", [N, 3])], [], check=False)
    m = onnx.load(os.path.join(out, "no_opset_import.onnx"))
    del m.opset_import[:]
    onnx.save(m, os.path.join(out, "no_opset_import.onnx"))
    save(out, "cycle",
         [helper.make_node("Relu", ["b"], ["a"], name="r1"), helper.make_node("Relu", ["a"], ["b"], name="r2"),
          helper.make_node("Add", ["a", "x"], ["y"], name="add")],
         [vi("x", [N, 3])], [vi("y", [N, 3])], [], check=False)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=1)
    conv.attribute.extend([helper.make_attribute("group", 0)])
    save(out, "duplicate_attribute", [conv], [vi("x", [N, 3, 4, 4])], [vi("y", [N, 3, 4, 4])],
         [init("w", f32(3, 3, 1, 1))], check=False)

    # 25. Shape -> Gather(0) -> Unsqueeze -> Concat -> Reshape on the symbolic batch dim: the Shape must stay
    save(out, "shape_chain_batch",
         [helper.make_node("Shape", ["x"], ["s"], name="shape"),
          helper.make_node("Gather", ["s", "zero"], ["c"], name="gather", axis=0),
          helper.make_node("Unsqueeze", ["c", "ax0"], ["cu"], name="unsq"),
          helper.make_node("Concat", ["cu", "minus1"], ["shp"], name="concat", axis=0),
          helper.make_node("Reshape", ["x", "shp"], ["y"], name="reshape")],
         [vi("x", [N, 6, 2])], [vi("y", [N, None])],
         [init("zero", np.array(0, np.int64)), init("ax0", np.array([0], np.int64)),
          init("minus1", np.array([-1], np.int64))])

    # 26. no-ops: Reshape to its own shape, Cast to its own type, identity Transpose, Slice of everything,
    # zero Pad, Expand to its own shape, Concat of one input, Split into one piece (opset 13), then a reversing
    # Slice (same shape, step -1) and a Transpose of equal dims that must stay
    save(out, "noops",
         [helper.make_node("Reshape", ["x", "same_shape"], ["a"], name="reshape"),
          helper.make_node("Cast", ["a"], ["b"], name="cast", to=TensorProto.FLOAT),
          helper.make_node("Transpose", ["b"], ["c"], name="transpose", perm=[0, 1, 2]),
          helper.make_node("Slice", ["c", "starts", "ends", "axes"], ["d"], name="slice"),
          helper.make_node("Pad", ["d", "zero_pads"], ["e"], name="pad"),
          helper.make_node("Expand", ["e", "expand_to"], ["f"], name="expand"),
          helper.make_node("Concat", ["f"], ["h"], name="concat", axis=1),
          helper.make_node("Split", ["h"], ["i"], name="split", axis=1),
          helper.make_node("Slice", ["i", "rstarts", "rends", "raxes", "rsteps"], ["j"], name="reverse"),
          helper.make_node("Transpose", ["j"], ["y"], name="swap", perm=[0, 2, 1])],
         [vi("x", [N, 4, 4])], [vi("y", [N, 4, 4])],
         [init("same_shape", np.array([-1, 4, 4], np.int64)), init("starts", np.array([0, 0], np.int64)),
          init("ends", np.array([4, 100], np.int64)), init("axes", np.array([1, 2], np.int64)),
          init("zero_pads", np.zeros(6, np.int64)), init("expand_to", np.array([1, 4], np.int64)),
          init("rstarts", np.array([-1], np.int64)), init("rends", np.array([-100], np.int64)),
          init("raxes", np.array([1], np.int64)), init("rsteps", np.array([-1], np.int64))])

    # 27. Transpose -> Transpose (composed into one; back to identity it goes entirely) and Reshape -> Reshape
    save(out, "transpose_reshape_chains",
         [helper.make_node("Transpose", ["x"], ["t1"], name="t1", perm=[0, 2, 3, 1]),
          helper.make_node("Transpose", ["t1"], ["t2"], name="t2", perm=[0, 2, 1, 3]),
          helper.make_node("Transpose", ["x"], ["u1"], name="u1", perm=[0, 2, 3, 1]),
          helper.make_node("Transpose", ["u1"], ["u2"], name="u2", perm=[0, 3, 1, 2]),
          helper.make_node("Reshape", ["u2", "flat"], ["r1"], name="r1"),
          helper.make_node("Reshape", ["r1", "back"], ["y2"], name="r2"),
          helper.make_node("Relu", ["t2"], ["y1"], name="relu")],
         [vi("x", [N, 2, 3, 4])], [vi("y1", [N, 4, 3, 2]), vi("y2", [N, 6, 4])],
         [init("flat", np.array([-1, 24], np.int64)), init("back", np.array([-1, 6, 4], np.int64))])

    # 28. zero Pad of the spatial dims -> Conv (pads added to the Conv's own) and -> AveragePool (count_include_pad
    # becomes 1); a reflect Pad and a Pad into a MaxPool stay
    save(out, "pad_into_conv_pool",
         [helper.make_node("Pad", ["x", "p1"], ["xp"], name="pad_conv"),
          helper.make_node("Conv", ["xp", "w"], ["c"], name="conv", pads=[0, 1, 0, 1]),
          helper.make_node("Pad", ["c", "p2"], ["cp"], name="pad_avg"),
          helper.make_node("AveragePool", ["cp"], ["a"], name="avg", kernel_shape=[3, 3]),
          helper.make_node("Pad", ["a", "p2"], ["ap"], name="pad_max"),
          helper.make_node("MaxPool", ["ap"], ["m"], name="max", kernel_shape=[2, 2]),
          helper.make_node("Pad", ["m", "p2"], ["mp"], name="pad_reflect", mode="reflect"),
          helper.make_node("Conv", ["mp", "w2"], ["y"], name="conv2")],
         [vi("x", [N, 3, 6, 6])], [vi("y", [N, 2, 9, 11])],
         [init("p1", np.array([0, 0, 1, 2, 0, 0, 1, 0], np.int64)), init("w", f32(4, 3, 3, 3)),
          init("p2", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), init("w2", f32(2, 4, 1, 1))])

    # 29. common subexpressions: the same Relu twice, the same Add of equal constants (two initializers with the
    # same bytes), and a Mul that differs only in an input
    save(out, "common_subexpressions",
         [helper.make_node("Relu", ["x"], ["r1"], name="relu1"), helper.make_node("Relu", ["x"], ["r2"], name="relu2"),
          helper.make_node("Add", ["r1", "k1"], ["a1"], name="add1"), helper.make_node("Add", ["r2", "k2"], ["a2"], name="add2"),
          helper.make_node("Mul", ["a1", "a2"], ["m1"], name="mul1"), helper.make_node("Mul", ["a1", "r1"], ["m2"], name="mul2"),
          helper.make_node("Sum", ["m1", "m2"], ["y"], name="sum")],
         [vi("x", [N, 5])], [vi("y", [N, 5])],
         [init("k1", np.arange(5, dtype=np.float32)), init("k2", np.arange(5, dtype=np.float32))])

    # 30. ConvTranspose -> (Add -> BN) x 10: each round of the pipeline folds one more stage, so the bound of 8
    # rounds is hit (the report says so) before the chain is one node
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["s0"], name="deconv")]
    inits = [init("w", f32(3, 4, 3, 3))]
    for k in range(10):
        inits += [init(f"b{k}", f32(4, 1, 1))] + bn_params(f"bn{k}", 4)
        nodes += [helper.make_node("Add", [f"s{k}", f"b{k}"], [f"a{k}"], name=f"add{k}"),
                  bn_node(f"bn{k}", f"a{k}", f"s{k + 1}" if k < 9 else "y")]
    save(out, "deep_add_bn_chain", nodes, [vi("x", [N, 3, 4, 4])], [vi("y", [N, 4, 6, 6])], inits)

    # 31. per-channel Mul -> Add (a BN as Mul + Add, a normalization of the input) in front of an unpadded Conv:
    # both folded forward into it; a Mul whose constant broadcasts a 1-channel input up to the Conv's 3 channels
    # must stay
    save(out, "mul_add_before_conv",
         [helper.make_node("Mul", ["x", "k"], ["m"], name="scale"), helper.make_node("Add", ["m", "t"], ["a"], name="shift"),
          helper.make_node("Conv", ["a", "w", "b"], ["y"], name="conv"),
          helper.make_node("Mul", ["x1", "k"], ["m1"], name="widen"),
          helper.make_node("Conv", ["m1", "w"], ["y1"], name="conv1")],
         [vi("x", [N, 3, 5, 5]), vi("x1", [N, 1, 5, 5])], [vi("y", [N, 4, 3, 3]), vi("y1", [N, 4, 3, 3])],
         [init("k", f32(3, 1, 1, lo=0.5, hi=2.0)), init("t", f32(3, 1, 1)), init("w", f32(4, 3, 3, 3)),
          init("b", f32(4))])

    # 19. a node name that is not valid UTF-8 (protobuf's Python API refuses to write one, so the bytes are patched
    # into the file): the JSON report must still parse. Lone 0xff and 0xfe, then 0xc3 not followed by a
    # continuation byte; same length as the placeholder so no length prefix changes.
    save(out, "bn_name_invalid_utf8",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
          bn_node("bn", "c", "n"), helper.make_node("Add", ["c", "n"], ["y"], name="Add_7")],
         [vi("x", [N, 4, 5, 5])], [vi("y", [N, 4, 5, 5])],
         [init("w", f32(4, 4, 3, 3)), init("b", f32(4))] + bn_params("bn", 4))
    path = os.path.join(out, "bn_name_invalid_utf8.onnx")
    m = onnx.load(path)
    next(n for n in m.graph.node if n.op_type == "BatchNormalization").name = "BNNAMEXX"
    data = m.SerializeToString()
    assert data.count(b"BNNAMEXX") == 1
    with open(path, "wb") as f:
        f.write(data.replace(b"BNNAMEXX", INVALID_UTF8_NAME))


INVALID_UTF8_NAME = b"bn\xff\xfe\xc3(xx"

if __name__ == "__main__":
    main(sys.argv[1])
