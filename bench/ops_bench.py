#!/usr/bin/python3
"""Single-op models of issue 13's static-shape ops (Einsum as attention scores, a plain matmul and a
three-operand bilinear form; GridSample bilinear; DFT of 4096 points) timed with `onnxc bench` and ONNX
Runtime (bench/ort_bench.js) alternately, ROUNDS rounds of RUNS timed runs each; prints the median latency of
each and the median of the per-round ratios onnxc / ORT. Prints figures, never fails on time.
Usage: /usr/bin/python3 bench/ops_bench.py [--threads 2] [--rounds 5] [--runs 30] [--onnxc build/onnxc]"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = [
    # name, op, input shapes, opset, attributes
    ("einsum_attention", "Einsum", [[1, 8, 256, 64], [1, 8, 256, 64]], 12, {"equation": "bhqd,bhkd->bhqk"}),
    ("einsum_matmul", "Einsum", [[512, 512], [512, 512]], 12, {"equation": "ij,jk->ik"}),
    ("einsum_bilinear", "Einsum", [[64, 128], [256, 128, 128], [64, 128]], 12, {"equation": "bn,anm,bm->ba"}),
    ("gridsample_bilinear", "GridSample", [[1, 32, 64, 64], [1, 64, 64, 2]], 16, {}),
    ("dft_4096", "DFT", [[8, 4096, 1]], 17, {"axis": 1}),
]


def write(d, name, op, shapes, opset, attrs):
    ins = [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, s) for i, s in enumerate(shapes)]
    node = helper.make_node(op, [f"x{i}" for i in range(len(shapes))], ["y"], **attrs)
    g = helper.make_graph([node], name, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    path = os.path.join(d, name + ".onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path


def median_ms(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["latency_ms"]["median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--onnxc", default=os.path.join(HERE, "..", "build", "onnxc"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        print(f"{'model':22} {'onnxc ms':>9} {'ORT ms':>9} {'ratio':>6}")
        for spec in MODELS:
            path = write(d, *spec)
            ours, ort, ratios = [], [], []
            for _ in range(a.rounds):
                o = median_ms([a.onnxc, "bench", path, "--threads", str(a.threads), "--runs", str(a.runs), "--json"])
                t = median_ms(["node", os.path.join(HERE, "ort_bench.js"), path, "--threads", str(a.threads),
                               "--runs", str(a.runs)])
                ours.append(o)
                ort.append(t)
                ratios.append(o / t)
            print(f"{spec[0]:22} {statistics.median(ours):9.3f} {statistics.median(ort):9.3f} "
                  f"{statistics.median(ratios):6.2f}")


if __name__ == "__main__":
    main()
