#!/usr/bin/python3
"""Check the expected outputs of node-test style case folders (model.onnx + test_data_set_N/{input,output}_K.pb,
e.g. build/dyn-cases from tests/dyn/gen_dyn_cases.py, whose expected values numpy computes) against ONNX Runtime
(npm onnxruntime-node through bench/ort_run.js): every data set of every case runs in ONNX Runtime and each
output must have the expected dtype and shape and agree within 1e-5 (absolute) + 1e-5 (relative). So the numpy
references written from the spec are confirmed by an independent implementation at authoring time.

Run by hand (npm is not available in CI):
    /usr/bin/python3 bench/ort_check_cases.py build/dyn-cases [--only SUBSTRING]
Prints one line per case; exit status 0 when all agree, 1 otherwise."""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    bad = 0
    n = 0
    for case in sorted(glob.glob(os.path.join(a.cases, "test_*"))):
        if a.only not in case:
            continue
        model = os.path.join(case, "model.onnx")
        msgs = []
        for sd in sorted(glob.glob(os.path.join(case, "test_data_set_*"))):
            with tempfile.TemporaryDirectory() as tmp:
                args = []
                for p in sorted(glob.glob(os.path.join(sd, "input_*.pb"))):
                    name, arr = read_pb(p)
                    f = os.path.join(tmp, os.path.basename(p) + ".npy")
                    np.save(f, arr)
                    args.append(f"{name}={f}")
                out = os.path.join(tmp, "out")
                p = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), model, out, *args],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    msgs.append(f"{os.path.basename(sd)}: ONNX Runtime failed: {p.stderr.strip()[:200]}")
                    continue
                outs = json.loads(p.stdout.strip().splitlines()[-1])["outputs"]
                for k, p_exp in enumerate(sorted(glob.glob(os.path.join(sd, "output_*.pb")))):
                    name, exp = read_pb(p_exp)
                    got = np.load(outs[k]["file"])
                    if got.dtype != exp.dtype or got.shape != exp.shape:
                        msgs.append(f"{os.path.basename(sd)} {name}: ORT {got.dtype}{list(got.shape)}, "
                                    f"expected {exp.dtype}{list(exp.shape)}")
                    elif not np.allclose(got.astype(np.float64), exp.astype(np.float64), atol=1e-5, rtol=1e-5):
                        d = np.max(np.abs(got.astype(np.float64) - exp.astype(np.float64)))
                        msgs.append(f"{os.path.basename(sd)} {name}: max abs difference {d:.3g}")
        n += 1
        bad += bool(msgs)
        print(("FAIL " if msgs else "ok   ") + os.path.basename(case) + ("" if not msgs else ": " + "; ".join(msgs)))
    print(f"{n - bad} of {n} cases agree with ONNX Runtime")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
