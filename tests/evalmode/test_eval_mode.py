#!/usr/bin/python3
"""The train/eval switch (issue 19) on models/train_mode_cnn.onnx, a PyTorch net exported with
TrainingMode.TRAINING (models/author_train_mode.py): every BatchNormalization has training_mode=1, Dropout has
training_mode true. Truth: PyTorch model.eval() outputs for a batch-2 input and for each image alone.
  - check and info warn about both (info --json counts them), check still says ok;
  - as exported (Dropout switched off in the file) onnxc computes PyTorch's train-mode BN outputs, which differ
    from the eval outputs, so the comparison below can tell the two apart;
  - optimize --eval-mode (and --set eval-mode=true): no BatchNormalization / Dropout left, batch-2 outputs equal
    PyTorch's eval outputs (NMSE <= 1e-10), each image alone gets the same answer as in the batch; check and
    info no longer warn;
  - refusals (exit 2, one line, nothing written): a statistics output that is a graph output (a training
    graph), a running mean that is a graph input (not a constant);
  - swap-norm on the training-mode model says what it does with the batch statistics.
usage: test_eval_mode.py ONNXC MODELS_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper

ONNXC, MODELS, WORK = sys.argv[1:4]
MODEL = os.path.join(MODELS, "train_mode_cnn.onnx")
EXP = os.path.join(MODELS, "expected", "train_mode_cnn")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([ONNXC] + list(args), capture_output=True, text=True)


def nmse(got, want):
    return float(((got.astype(np.float64) - want) ** 2).sum() / (want.astype(np.float64) ** 2).sum())


def outputs(model, x, tag):
    xp = os.path.join(WORK, tag + "_x.npy")
    np.save(xp, x)
    od = os.path.join(WORK, tag + "_out")
    r = run("run", model, "--input", "x=" + xp, "--output-dir", od, "--threads", "2")
    check(r.returncode == 0, "%s: run failed: %s" % (tag, r.stderr.strip()))
    return np.load(os.path.join(od, "logits.npy")) if r.returncode == 0 else None


x = np.load(os.path.join(EXP, "input.npy"))
want = np.load(os.path.join(EXP, "logits.npy"))
want_alone = [np.load(os.path.join(EXP, "logits_%d.npy" % i)) for i in range(2)]
want_train = np.load(os.path.join(EXP, "logits_train.npy"))
check(nmse(want_train, want) > 1e-3, "the truth itself: train-mode and eval-mode outputs should differ")

# check / info warn
r = run("check", MODEL)
check(r.returncode == 0, "check exit %d on a valid model" % r.returncode)
text = r.stdout + r.stderr
check("3 BatchNormalization nodes run in training mode" in text and "--eval-mode" in text,
      "check: no training-mode BN warning:\n" + text)
check("1 Dropout node is active" in text, "check: no Dropout warning:\n" + text)
r = run("info", MODEL)
check("run in training mode" in r.stdout and "Dropout node is active" in r.stdout, "info: no warning:\n" + r.stdout)
r = run("info", "--json", MODEL)
tm = json.loads(r.stdout).get("training_mode", {}) if r.returncode == 0 else {}
check(tm == {"batchnorm": 3, "dropout": 1, "training_graph": False}, "info --json training_mode: %s" % tm)

# as exported, with Dropout switched off in the file: batch statistics (PyTorch train-mode BN)
m = onnx.load(MODEL)
drop = [n for n in m.graph.node if n.op_type == "Dropout"][0]
for n in m.graph.node:
    if n.op_type == "Constant" and n.output[0] == drop.input[2]:
        n.attribute[0].t.CopyFrom(onnx.numpy_helper.from_array(np.array(False), n.attribute[0].t.name))
nodrop = os.path.join(WORK, "train_nodrop.onnx")
onnx.save(m, nodrop)
got = outputs(nodrop, x, "train")
if got is not None:
    check(nmse(got, want_train) <= 1e-10, "as exported: NMSE %.3g against PyTorch train-mode BN" % nmse(got, want_train))

# optimize --eval-mode / --set eval-mode=true
for tag, flags in (("flag", ["--eval-mode"]), ("set", ["--set", "eval-mode=true"])):
    out = os.path.join(WORK, "eval_%s.onnx" % tag)
    r = run("optimize", MODEL, "-o", out, *flags)
    check(r.returncode == 0 and os.path.exists(out), "optimize %s failed: %s" % (flags, r.stderr.strip()))
    if r.returncode != 0:
        continue
    ops = [n.op_type for n in onnx.load(out).graph.node]
    check("BatchNormalization" not in ops and "Dropout" not in ops, "%s: left %s" % (tag, ops))
    got = outputs(out, x, "eval_" + tag)
    if got is not None:
        e = nmse(got, want)
        print("%s: batch-2 NMSE against PyTorch model.eval(): %.3g" % (tag, e))
        check(e <= 1e-10, "%s: batch-2 NMSE %.3g > 1e-10" % (tag, e))
        for i in range(2):
            alone = outputs(out, x[i:i + 1], "eval_%s_%d" % (tag, i))
            if alone is not None:
                check(nmse(alone, want_alone[i]) <= 1e-10, "%s: image %d alone NMSE %.3g" % (tag, i, nmse(alone, want_alone[i])))
                check(nmse(got[i:i + 1], alone) <= 1e-10, "%s: image %d in the batch differs from alone" % (tag, i))
    r = run("check", out)
    check(r.returncode == 0 and "warning" not in r.stdout + r.stderr, "check after eval-mode: " + r.stdout + r.stderr)

# refusals: nothing written, one line, exit 2
def refuse(model, needle, what):
    out = os.path.join(WORK, "refused.onnx")
    if os.path.exists(out):
        os.remove(out)
    r = run("optimize", model, "-o", out, "--eval-mode")
    # the report of the passes that ran may come first (optimize prints it on failure too); one error line
    lines = [l for l in r.stderr.splitlines() if l.startswith("onnxc:")]
    check(r.returncode == 2, "%s: exit %d (want 2)" % (what, r.returncode))
    check(len(lines) == 1 and needle in lines[0], "%s: message %r" % (what, r.stderr))
    check(not os.path.exists(out), "%s: wrote %s" % (what, out))


m = onnx.load(MODEL)
bn = [n for n in m.graph.node if n.op_type == "BatchNormalization"][0]
m.graph.output.append(onnx.helper.make_tensor_value_info(bn.output[1], onnx.TensorProto.FLOAT, [8]))
p = os.path.join(WORK, "training_graph.onnx")
onnx.save(m, p)
refuse(p, "is a graph output (a training graph", "training graph")
r = run("check", p)
check("run in training mode" not in r.stdout, "check warns on a training graph: " + r.stdout)

m = onnx.load(MODEL)
rm = [t for t in m.graph.initializer if t.name == "b2.running_mean"][0]
m.graph.input.append(onnx.helper.make_tensor_value_info(rm.name, onnx.TensorProto.FLOAT, [16]))
p = os.path.join(WORK, "stats_input.onnx")
onnx.save(m, p)
refuse(p, "running mean 'b2.running_mean' is not a constant", "running mean a graph input")

# swap-norm says what it does with a training-mode BN
r = run("swap-norm", MODEL, "-o", os.path.join(WORK, "swapped.onnx"), "--to", "layer")
check(r.returncode == 0 and "ran in training mode (batch statistics), now per-sample statistics" in r.stderr,
      "swap-norm on a training-mode BN: " + r.stderr)

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("ok")
