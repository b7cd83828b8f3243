"""check finds what inference and the attribute rules see: models built here with onnx.helper, each with one
defect, and `onnxc check --json` must list the expected problem (exit 1); the clean model passes (exit 0).
Usage: test_check_infer.py ONNXC WORKDIR"""
import json, os, subprocess, sys

import numpy as np
from onnx import AttributeProto, TensorProto, helper, numpy_helper, save


def model(nodes, inputs, outputs, inits=(), value_info=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits), value_info=list(value_info))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def vi(name, t, shape):
    return helper.make_tensor_value_info(name, t, shape)


W = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
X = vi("x", TensorProto.FLOAT, [1, 1, 5, 5])

cases = {}
cases["clean"] = (model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [X],
                        [vi("y", TensorProto.FLOAT, [1, 1, 3, 3])], [W]), None)
cases["output_int64_from_conv"] = (
    model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [X], [vi("y", TensorProto.INT64, None)], [W]),
    "graph output 'y' is declared int64 but node 'conv' (Conv) produces float[1,1,3,3]")
cases["output_shape_wrong"] = (
    model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])], [X],
          [vi("y", TensorProto.FLOAT, [1, 1, 3, 3])], [W]),
    "graph output 'y' is declared float [1x1x3x3] but node 'conv' (Conv) produces float[1,1,5,5]")
cases["value_info_wrong"] = (
    model([helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Conv", ["r", "w"], ["y"], name="conv")],
          [X], [vi("y", TensorProto.FLOAT, None)], [W], [vi("r", TensorProto.FLOAT, [1, 1, 4, 4])]),
    "value_info 'r' is declared float [1x1x4x4] but node 'relu' (Relu) produces float[1,1,5,5]")
dup = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=1)
dup.attribute.append(helper.make_attribute("group", 0))
cases["duplicate_attribute"] = (model([dup], [X], [vi("y", TensorProto.FLOAT, None)], [W]),
                                "node 'conv' (Conv): attribute 'group' is given more than once")
cat = helper.make_node("Concat", ["x", "x"], ["y"], name="cat")
cat.attribute.append(helper.make_attribute("axis", 1.0))
cases["attribute_wrong_type"] = (model([cat], [X], [vi("y", TensorProto.FLOAT, None)]),
                                 "node 'cat' (Concat): attribute 'axis' is FLOAT, Concat axis expects INT")
cases["attribute_missing"] = (
    model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat")], [X], [vi("y", TensorProto.FLOAT, None)]),
    "node 'cat' (Concat): required attribute 'axis' is missing")
cases["broadcast_conflict"] = (
    model([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
          [vi("a", TensorProto.FLOAT, [2, 3]), vi("b", TensorProto.FLOAT, [4, 3])], [vi("y", TensorProto.FLOAT, None)]),
    "node 'add' (Add): dims 2 and 4 do not broadcast")
cases["two_undefined_inputs"] = (
    model([helper.make_node("Add", ["x", "ghost1"], ["a"], name="add"), helper.make_node("Mul", ["a", "ghost2"], ["y"], name="mul")],
          [X], [vi("y", TensorProto.FLOAT, None)]),
    ["node 'add' (Add): input 'ghost1' is not defined", "node 'mul' (Mul): input 'ghost2' is not defined"])
unknown_opset = model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [X], [vi("y", TensorProto.FLOAT, None)])
unknown_opset.opset_import[0].version = 99
cases["unknown_opset"] = (unknown_opset, "opset_import ai.onnx version 99 is not an ONNX opset (the newest is 23)")
cases["symbolic_batch_ok"] = (
    model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [vi("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
          [vi("y", TensorProto.FLOAT, ["N", 1, 3, 3])], [W]), None)


def main():
    onnxc, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    fails = 0
    for name, (m, want) in cases.items():
        path = os.path.join(work, name + ".onnx")
        save(m, path)
        r = subprocess.run([onnxc, "check", "--json", path], capture_output=True, text=True)
        try:
            out = json.loads(r.stdout)
        except ValueError:
            print(f"FAIL {name}: not JSON: {r.stdout!r} {r.stderr!r}")
            fails += 1
            continue
        if want is None:
            ok = r.returncode == 0 and out["ok"] and not out["problems"]
        else:
            wants = want if isinstance(want, list) else [want]
            ok = r.returncode == 1 and all(any(w in p for p in out["problems"]) for w in wants)
        print(("ok  " if ok else "FAIL") + f" {name}: exit {r.returncode}, problems {out['problems']}")
        fails += not ok
    fails += check_optimize_value_info(onnxc, work)
    return 1 if fails else 0


def check_optimize_value_info(onnxc, work):
    """optimize writes value_info from inference (same as onnx.shape_inference gives); keep-value-info does not."""
    import onnx
    from onnx import shape_inference
    m = model([helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Conv", ["r", "w"], ["c"], name="conv"),
               helper.make_node("Relu", ["c"], ["y"], name="relu2")],
              [vi("x", TensorProto.FLOAT, ["N", 1, 5, 5])], [vi("y", TensorProto.FLOAT, None)], [W])
    src = os.path.join(work, "vi_src.onnx")
    save(m, src)
    ref = {v.name: v.type for v in shape_inference.infer_shapes(m).graph.value_info}
    fails = 0
    for keep in (False, True):
        dst = os.path.join(work, f"vi_out_{int(keep)}.onnx")
        cmd = [onnxc, "optimize", src, "-o", dst, "-q"] + (["--set", "keep-value-info=true"] if keep else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        got = {v.name: v.type for v in onnx.load(dst).graph.value_info} if r.returncode == 0 else None
        if keep:
            ok = got == {}
        else:
            ok = got is not None and set(got) == {"r", "c"} and all(got[k] == ref[k] for k in got)
        print(("ok  " if ok else "FAIL") + f" optimize value_info (keep={keep}): exit {r.returncode}, {got}")
        fails += not ok
    return fails


if __name__ == "__main__":
    sys.exit(main())
