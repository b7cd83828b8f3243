"""The one writer of node-test folders for the case generators under tests/ (ops, ops2, rnn, quant, dyn, ...):
model.onnx + test_data_set_N/{input,output}_K.pb, in the layout the ONNX node tests use and onnxc_node_tests
reads. Expected outputs are computed by each generator (numpy from the spec), never here."""
import os

import numpy as np
from onnx import helper, numpy_helper
from onnx.mapping import NP_TYPE_TO_TENSOR_TYPE as NP2ONNX


def value_info(name, a, symbolic=False):
    """A tensor value_info with the array's dtype and shape (symbolic: dims named NAME_dK)."""
    dims = [f"{name}_d{k}" for k in range(np.ndim(a))] if symbolic else list(np.shape(a))
    return helper.make_tensor_value_info(name, NP2ONNX[np.dtype(np.asarray(a).dtype)], dims)


def init(name, a):
    """An initializer (TensorProto) named NAME holding the array."""
    return numpy_helper.from_array(np.asarray(a), name)


def write_case(out, folder, nodes, inputs, outputs, opset, inits=(), producer="onnxc-tests", ir_version=8,
               sets=None, symbolic=False):
    """Writes OUT/FOLDER. inputs/outputs: (name, array) pairs, the graph's inputs and outputs and the first data
    set; an output named '' is left out. sets: the data sets if more than one, each (input arrays, output arrays)
    in the order of inputs/outputs (the declared types come from the first). symbolic: inputs and outputs are
    declared with named dims, so the sets may differ in size. Returns FOLDER."""
    outputs = [o for o in outputs if o[0]]
    graph = helper.make_graph(list(nodes), folder, [value_info(n, a, symbolic) for n, a in inputs],
                              [value_info(n, a, symbolic) for n, a in outputs], initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer)
    model.ir_version = ir_version
    d = os.path.join(out, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    if sets is None:
        sets = [([a for _, a in inputs], [a for _, a in outputs])]
    in_names, out_names = [n for n, _ in inputs], [n for n, _ in outputs]
    for s, (ins, outs) in enumerate(sets):
        sd = os.path.join(d, f"test_data_set_{s}")
        os.makedirs(sd, exist_ok=True)
        for kind, names, arrays in (("input", in_names, ins), ("output", out_names, outs)):
            for i, (n, a) in enumerate(zip(names, arrays)):
                with open(os.path.join(sd, f"{kind}_{i}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(np.asarray(a), n).SerializeToString())
    return folder
