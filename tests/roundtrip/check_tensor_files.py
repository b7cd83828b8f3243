#!/usr/bin/python3
"""Tensor-file check: every input_*.pb / output_*.pb of the ONNX node tests that holds a TensorProto is read by
onnxc (onnxc_tensor_read) and written back as .npy and .pb; numpy and onnx, independent readers, check that the
values, dtype, shape and name survive. Files holding SequenceProto / OptionalProto / MapProto (not tensors) must
be refused, not misread."""
import argparse
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def expected(path):
    """The TensorProto in path, or None when the file holds another kind of proto (as onnx's own runner decides)."""
    with open(path, "rb") as f:
        data = f.read()
    t = onnx.TensorProto()
    try:
        t.ParseFromString(data)
    except Exception:  # noqa: BLE001
        return None
    if t.data_type == 0 or t.SerializeToString() != data:
        return None  # not a TensorProto: unknown fields or no type
    return t


def same_array(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and (
        np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype.kind != "O" else list(a.flat) == list(b.flat))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--node-dir", required=True)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.node_dir, "*", "test_data_set_*", "*put_*.pb")))
    if not files:
        print(f"no node-test data under {args.node_dir}")
        return 1
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    listing = os.path.join(args.work, "files.txt")
    with open(listing, "w") as f:
        f.write("".join(p + "\n" for p in files))
    out = subprocess.run([args.tool, listing, args.work], capture_output=True, text=True, check=True).stdout
    status = {}
    for line in out.splitlines():
        kind, idx, *rest = line.split(" ", 2)
        status[int(idx)] = (kind, rest[0] if rest else "")
    failures, tensors, others = [], 0, 0
    for i, path in enumerate(files):
        kind, msg = status.get(i, ("MISSING", ""))
        ref = expected(path)
        if ref is None:
            others += 1
            if kind == "OK":
                failures.append(f"{path}: not a TensorProto, but onnxc read it as one")
            continue
        tensors += 1
        if kind != "OK":
            failures.append(f"{path}: {kind} {msg}")
            continue
        want = numpy_helper.to_array(ref)
        back = onnx.load_tensor(os.path.join(args.work, f"{i}.pb"))
        if back.name != ref.name or not same_array(numpy_helper.to_array(back), want):
            failures.append(f"{path}: the .pb written back differs")
            continue
        npy = os.path.join(args.work, f"{i}.npy")
        if os.path.exists(npy):
            if not same_array(np.load(npy), want):
                failures.append(f"{path}: the .npy written back differs")
        elif ref.data_type not in (onnx.TensorProto.STRING, onnx.TensorProto.BFLOAT16):
            failures.append(f"{path}: no .npy written")
    for f in failures:
        print("FAIL", f)
    print(f"{tensors - len([f for f in failures])}/{tensors} node-test tensor files read and written back equal "
          f"({others} non-tensor files refused)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
