#!/usr/bin/env python3
"""Write single-node recurrent models for timing onnxc against ONNX Runtime (onnx.helper, seeded random weights
as initializers): lstm_bi (LSTM, bidirectional, seq 100, batch 8, input 128, hidden 256), lstm_b1 (forward,
batch 1) and gru_bi (GRU with linear_before_reset, as PyTorch exports it, bidirectional, batch 8).
Usage: /usr/bin/python3 bench/gen_rnn_models.py OUT_DIR; then for each model, alternating:
    build/onnxc bench OUT_DIR/lstm_bi.onnx --threads 2 --runs 20
    node bench/ort_bench.js OUT_DIR/lstm_bi.onnx --threads 2 --runs 20"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make(path, kind, S, N, I, H, D, rng):
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    w = lambda n, *s: numpy_helper.from_array((rng.standard_normal(s) * 0.05).astype(np.float32), n)
    attrs = {"hidden_size": H, "direction": "bidirectional" if D == 2 else "forward"}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1
    node = helper.make_node(kind, ["X", "W", "R", "B"], ["Y", "Y_h"], **attrs)
    g = helper.make_graph([node], kind.lower(), [helper.make_tensor_value_info("X", TensorProto.FLOAT, [S, N, I])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None)],
                          initializer=[w("W", D, G * H, I), w("R", D, G * H, H), w("B", D, 2 * G * H)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 7
    onnx.save(m, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    make(os.path.join(out, "lstm_bi.onnx"), "LSTM", 100, 8, 128, 256, 2, rng)
    make(os.path.join(out, "lstm_b1.onnx"), "LSTM", 100, 1, 128, 256, 1, rng)
    make(os.path.join(out, "gru_bi.onnx"), "GRU", 100, 8, 128, 256, 2, rng)


if __name__ == "__main__":
    main()
