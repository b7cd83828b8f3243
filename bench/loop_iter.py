#!/usr/bin/python3
"""Per-iteration cost of Loop: a Loop with a tiny body (x = x + 1 on 4 floats, the condition passed through; and
x = x + table[i:i+1], whose plan depends on the iteration number) run for 1 and for 1000 iterations, by `onnxc bench` and by ONNX Runtime (bench/ort_bench.js); prints the median
latency of each and the time per iteration, (t[1000] - t[1]) / 999. The models go to OUT_DIR (default
/tmp/onnxc-loop-iter). The machine is shared: compare the two columns of one run, never single timings.
Usage: loop_iter.py [--threads N] [--runs N] [--out OUT_DIR]"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def loop_model(path, iterations, kind):
    """kind "add": x = x + 1; "slice": x = x + table[i:i+1] (Slice's starts are the iteration number, a value the
    body's plan depends on, so the body re-plans every iteration)."""
    vi = helper.make_tensor_value_info
    if kind == "add":
        nodes = [helper.make_node("Add", ["x_in", "one"], ["x_out"])]
        inits = [numpy_helper.from_array(np.ones(4, np.float32), "one")]
    else:
        nodes = [helper.make_node("Unsqueeze", ["i", "ax"], ["start"]),
                 helper.make_node("Add", ["start", "one_i"], ["end"]),
                 helper.make_node("Slice", ["table", "start", "end"], ["row"]),
                 helper.make_node("Add", ["x_in", "row"], ["x_out"])]
        inits = [numpy_helper.from_array(np.arange(iterations, dtype=np.float32), "table"),
                 numpy_helper.from_array(np.array([0], np.int64), "ax"),
                 numpy_helper.from_array(np.array([1], np.int64), "one_i")]
    body = helper.make_graph(
        nodes + [helper.make_node("Identity", ["c"], ["c_out"])], "body",
        [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("x_in", TensorProto.FLOAT, [4])],
        [vi("c_out", TensorProto.BOOL, []), vi("x_out", TensorProto.FLOAT, [4])], initializer=inits)
    g = helper.make_graph([helper.make_node("Loop", ["M", "cond", "x"], ["y"], body=body, name="loop")], "loop_iter",
                          [vi("x", TensorProto.FLOAT, [4])], [vi("y", TensorProto.FLOAT, [4])],
                          initializer=[numpy_helper.from_array(np.array(iterations, np.int64), "M"),
                                       numpy_helper.from_array(np.array(True), "cond")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="loop_iter")
    m.ir_version = 8
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def median_ms(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["latency_ms"]["median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--out", default="/tmp/onnxc-loop-iter")
    ap.add_argument("--onnxc", default=os.path.join(HERE, "..", "build", "onnxc"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for kind, what in (("add", "x = x + 1"), ("slice", "x = x + table[i:i+1], re-planned per iteration")):
        rows = {}
        for n in (1, 1000):
            p = os.path.join(a.out, f"loop_{kind}_{n}.onnx")
            loop_model(p, n, kind)
            common = ["--threads", str(a.threads), "--runs", str(a.runs), "--warmup", "20"]
            rows[n] = (median_ms([a.onnxc, "bench", p, "--json"] + common),
                       median_ms(["node", os.path.join(HERE, "ort_bench.js"), p] + common))
        print(f"Loop body {what} (4 floats), {a.threads} threads, median of {a.runs} runs")
        print(f"{'iterations':>10} {'onnxc ms':>10} {'ORT ms':>10}")
        for n, (o, r) in rows.items():
            print(f"{n:>10} {o:>10.3f} {r:>10.3f}")
        per = [(rows[1000][k] - rows[1][k]) / 999 * 1000 for k in (0, 1)]
        print(f"{'per iter':>10} {per[0]:>9.3f}us {per[1]:>9.3f}us   (onnxc / ORT = {per[0] / per[1]:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
