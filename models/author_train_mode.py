#!/usr/bin/python3
"""Author the train/eval switch truth (issue 19): a small CNN with BatchNorm2d, BatchNorm1d and Dropout, given a few
training steps in PyTorch on random data (so its running statistics are real, not 0/1), then exported with
torch.onnx.export(..., training=torch.onnx.TrainingMode.TRAINING): every BN in the file normalizes by its batch
(training_mode=1) and Dropout has training_mode true, the classic "model.train() left on" export.

Writes:
  models/train_mode_cnn.onnx                       the training-mode export, opset 15, input x [N,3,16,16]
  models/expected/train_mode_cnn/input.npy         a batch-2 input
  models/expected/train_mode_cnn/logits.npy        PyTorch model.eval() outputs for that batch [2,5]
  models/expected/train_mode_cnn/logits_0.npy, logits_1.npy   model.eval() outputs of each image alone [1,5]
  models/expected/train_mode_cnn/logits_train.npy  what the exported graph computes as exported (batch statistics):
                                                   differs from the eval outputs, so the test can tell them apart

usage: /usr/bin/python3 models/author_train_mode.py
"""
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.b2 = nn.BatchNorm2d(16)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(16, 12)
        self.b3 = nn.BatchNorm1d(12)
        self.out = nn.Linear(12, 5)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.b2(self.c2(x)))
        x = x.mean(dim=(2, 3))
        x = self.drop(x)
        x = torch.relu(self.b3(self.fc(x)))
        return self.out(x)


def main():
    torch.manual_seed(19)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    net.train()
    for _ in range(30):  # real running statistics: inputs with a mean and scale far from 0/1
        x = torch.randn(8, 3, 16, 16) * 2.0 + 0.7
        loss = net(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = (torch.randn(2, 3, 16, 16) * 2.0 + 0.7).float()
    out = os.path.join(HERE, "expected", "train_mode_cnn")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(HERE, "train_mode_cnn.onnx")
    net.train()
    torch.onnx.export(net, x, path, opset_version=15, training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    # the exporter's trace runs the net in training mode, which may move the running statistics: the truth is
    # computed with exactly the statistics the file carries
    m = onnx.load(path)
    inits = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    with torch.no_grad():
        for name, buf in net.named_buffers():
            if name in inits:
                buf.copy_(inits[name])
    net.eval()
    with torch.no_grad():
        np.save(os.path.join(out, "input.npy"), x.numpy())
        np.save(os.path.join(out, "logits.npy"), net(x).numpy())
        for i in range(2):
            np.save(os.path.join(out, "logits_%d.npy" % i), net(x[i:i + 1]).numpy())
    # what the graph computes as exported, without dropout noise: dropout off, BN on batch statistics
    net.train()
    net.drop.eval()
    with torch.no_grad():
        np.save(os.path.join(out, "logits_train.npy"), net(x).numpy())
    onnx.checker.check_model(m)
    for n in m.graph.node:
        if n.op_type in ("BatchNormalization", "Dropout"):
            print(n.op_type, n.name, list(n.input), list(n.output),
                  [(a.name, onnx.helper.get_attribute_value(a)) for a in n.attribute])
    print("outputs", [o.name for o in m.graph.output])


if __name__ == "__main__":
    main()
