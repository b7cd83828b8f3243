#!/usr/bin/env python3
"""Authors the recurrent test models: PyTorch nn.LSTM / nn.GRU / nn.RNN exported to ONNX the way users export
them (bidirectional, two layers, batch_first, initial states as inputs) and a small CNN + LSTM head, with inputs
and the outputs PyTorch computed. Writes models/<name>.onnx, models/expected/<name>/{input,output}_K.npy and
models/MANIFEST_rnn.txt (read by tests/models/test_models.c through ctest models_rnn_e2e, which needs no torch).

Run with Debian's python (torch 1.13, onnx 1.12):  /usr/bin/python3 models/author_rnn.py
"""
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-10  # NMSE, as models_e2e


class LstmBiBatchFirst(nn.Module):
    """nn.LSTM(bidirectional, 2 layers, batch_first) with its final states as outputs."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 16, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h, c


class LstmInitState(nn.Module):
    """nn.LSTM(reverse-in-time use via bidirectional, 1 layer, seq first) fed initial h and c."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8, num_layers=1, bidirectional=True)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


class GruBi(nn.Module):
    """nn.GRU (exported with linear_before_reset=1), bidirectional, 2 layers, batch_first, initial h."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(7, 12, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x, h0):
        y, h = self.gru(x, h0)
        return y, h


class RnnRelu(nn.Module):
    """nn.RNN with ReLU, 2 layers, unidirectional, then tanh RNN bidirectional."""

    def __init__(self):
        super().__init__()
        self.a = nn.RNN(5, 9, num_layers=2, nonlinearity="relu")
        self.b = nn.RNN(9, 6, bidirectional=True)

    def forward(self, x):
        y, _ = self.a(x)
        y, h = self.b(y)
        return y, h


class CnnLstm(nn.Module):
    """Conv -> BN -> ReLU -> MaxPool twice over a [N, 1, 16, T] spectrogram-like input, features per time step
    into a bidirectional 2-layer LSTM, a Linear head on every step: logits [N, T/4, 5]."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 12, 3, padding=1), nn.BatchNorm2d(12), nn.ReLU(), nn.MaxPool2d(2))
        self.lstm = nn.LSTM(12 * 4, 20, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(40, 5)

    def forward(self, x):
        f = self.features(x)                  # [N, 12, 4, T/4]
        f = f.permute(0, 3, 1, 2).flatten(2)  # [N, T/4, 48]
        y, _ = self.lstm(f)
        return self.head(y)


def randomize(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.2)


def export(name, model, inputs, in_names, out_names, dyn, opset, cases, lines, seed):
    torch.manual_seed(seed)
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(model, tuple(torch.from_numpy(a) for a in inputs), path, input_names=in_names,
                      output_names=out_names, opset_version=opset, do_constant_folding=False, dynamic_axes=dyn)
    onnx.checker.check_model(onnx.load(path))
    out_dir = os.path.join(HERE, "expected", name)
    shutil.rmtree(out_dir, ignore_errors=True)
    for ci, xs in enumerate(cases):
        d = out_dir if ci == 0 else os.path.join(out_dir, "case%d" % ci)
        os.makedirs(d, exist_ok=True)
        with torch.no_grad():
            ys = model(*[torch.from_numpy(a) for a in xs])
        ys = ys if isinstance(ys, tuple) else (ys,)
        for i, a in enumerate(xs):
            np.save(os.path.join(d, "input_%d.npy" % i), a)
        for i, y in enumerate(ys):
            np.save(os.path.join(d, "output_%d.npy" % i), y.numpy())
        lines.append("%s.onnx %s %d %d %g" % (name, os.path.relpath(d, HERE), len(xs), len(ys), TOL))


def main():
    rng = np.random.default_rng(17)
    gen = torch.Generator().manual_seed(17)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    lines = ["# model case_dir n_inputs n_outputs max_nmse  (written by author_rnn.py; paths relative to models/)"]

    torch.manual_seed(1)
    export("lstm_bi2_batchfirst", LstmBiBatchFirst(), [f32(2, 5, 10)], ["x"], ["y", "h", "c"],
           {"x": {0: "N", 1: "T"}, "y": {0: "N", 1: "T"}, "h": {1: "N"}, "c": {1: "N"}}, 14,
           [[f32(2, 5, 10)], [f32(3, 9, 10)]], lines, 1)
    torch.manual_seed(2)
    export("lstm_init_state", LstmInitState(), [f32(4, 3, 6), f32(2, 3, 8), f32(2, 3, 8)], ["x", "h0", "c0"],
           ["y", "h", "c"], {"x": {0: "T", 1: "N"}, "h0": {1: "N"}, "c0": {1: "N"}}, 13,
           [[f32(4, 3, 6), f32(2, 3, 8), f32(2, 3, 8)], [f32(7, 1, 6), f32(2, 1, 8), f32(2, 1, 8)]], lines, 2)
    torch.manual_seed(3)
    export("gru_bi2", GruBi(), [f32(2, 6, 7), f32(4, 2, 12)], ["x", "h0"], ["y", "h"],
           {"x": {0: "N", 1: "T"}, "h0": {1: "N"}}, 14,
           [[f32(2, 6, 7), f32(4, 2, 12)], [f32(5, 3, 7), f32(4, 5, 12)]], lines, 3)
    torch.manual_seed(4)
    export("rnn_relu_tanh", RnnRelu(), [f32(6, 2, 5)], ["x"], ["y", "h"], {"x": {0: "T", 1: "N"}}, 13,
           [[f32(6, 2, 5)], [f32(3, 4, 5)]], lines, 4)
    torch.manual_seed(5)
    net = CnnLstm()
    randomize(net, gen)
    export("cnn_lstm_head", net, [f32(1, 1, 16, 32)], ["input"], ["logits"],
           {"input": {0: "N", 3: "T"}, "logits": {0: "N", 1: "T4"}}, 14,
           [[f32(1, 1, 16, 32)], [f32(2, 1, 16, 48)]], lines, 5)

    with open(os.path.join(HERE, "MANIFEST_rnn.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
