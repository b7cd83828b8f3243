#!/usr/bin/python3
"""Write the ONNX backend node tests (model.onnx + test_data_set_*/{input,output}_*.pb) of Debian's python3-onnx
into a folder: generate_node_tests.py OUT_DIR. Runs under /usr/bin/python3 (Debian's onnx 1.12, opset 17)."""
import os
import sys
import warnings

import numpy as np

# onnx 1.12's case files still use aliases numpy 1.24 removed.
# (hasattr on a removed alias makes numpy print a FutureWarning; the check is deliberate, so it is silenced.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    for alias, real in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, alias):
            setattr(np, alias, real)

import onnx.backend.test.cmd_tools as cmd_tools  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate_node_tests.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    class Args:
        output = out
        op_type = None
        diff = False

    cmd_tools.generate_data(Args())
    node = os.path.join(out, "node")
    print(f"{len(os.listdir(node))} node tests in {node}")


if __name__ == "__main__":
    main()
