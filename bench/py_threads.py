#!/usr/bin/python3
"""Python threads on one onnxc.Session (onnxc_session_run_outputs outside the GIL) against one thread on it, and
np.load against `onnxc run` on a compressed .npz: prints figures, never fails on time.

  PYTHONPATH=build/python-site /usr/bin/python3 bench/py_threads.py [MODEL] [--threads-per-run 1] [--rounds 5]

Each round times a fixed number of runs from 1 thread and from N = 2 threads (alternating which goes first),
each run with threads-per-run workers; the ratio is the median of the per-round throughput ratios.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import onnxc


def throughput(s, feed, n_threads, runs):
    per = runs // n_threads

    def work():
        for _ in range(per):
            s.run(feed)

    ts = [threading.Thread(target=work) for _ in range(n_threads)]
    t0 = time.perf_counter()
    [t.start() for t in ts]
    [t.join() for t in ts]
    return per * n_threads / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "models",
                                                              "resnet_like.onnx"))
    ap.add_argument("--threads-per-run", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--onnxc", default=os.path.join(os.path.dirname(__file__), "..", "build", "onnxc"))
    a = ap.parse_args()
    m = onnxc.load(a.model)
    inp = m.inputs[0]
    shape = [d if isinstance(d, int) else 1 for d in inp["shape"]]
    feed = {inp["name"]: np.random.default_rng(0).standard_normal(shape).astype(inp["numpy_dtype"])}
    s = onnxc.Session(m, threads=a.threads_per_run)
    s.run(feed)
    throughput(s, feed, 2, 8)  # warm: the second run context exists
    ratios, one, two = [], [], []
    for r in range(a.rounds):
        order = (1, 2) if r % 2 == 0 else (2, 1)
        got = {n: throughput(s, feed, n, a.runs) for n in order}
        one.append(got[1])
        two.append(got[2])
        ratios.append(got[2] / got[1])
    print("%s, %d worker thread(s) per run, %d rounds of %d runs:" % (os.path.basename(a.model), a.threads_per_run,
                                                                      a.rounds, a.runs))
    print("  one Session, 1 Python thread : %.1f runs/s (median)" % statistics.median(one))
    print("  one Session, 2 Python threads: %.1f runs/s (median)" % statistics.median(two))
    print("  ratio 2 threads / 1 thread   : %.2f (median of per-round ratios)" % statistics.median(ratios))

    # compressed .npz: onnxc's inflate (through `onnxc run` on an Identity model, whole process) against np.load
    import onnx
    from onnx import TensorProto, helper
    with tempfile.TemporaryDirectory() as d:
        x = (np.random.default_rng(1).standard_normal((16, 1024, 1024)) * 8).round().astype(np.float32)  # 64 MB
        p = os.path.join(d, "x.npz")
        np.savez_compressed(p, x=x)
        g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x.shape))])
        mp = os.path.join(d, "id.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), mp)
        t_np, t_oc = [], []
        for r in range(a.rounds):
            for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                t0 = time.perf_counter()
                if which == 0:
                    np.load(p)["x"].sum()
                    t_np.append(time.perf_counter() - t0)
                else:
                    subprocess.run([a.onnxc, "run", mp, "--input", p, "-q"], check=True, capture_output=True)
                    t_oc.append(time.perf_counter() - t0)
        print("64 MB float32 in a %.1f MB np.savez_compressed archive, %d rounds (median):" % (
            os.path.getsize(p) / 1e6, a.rounds))
        print("  np.load (zlib) + sum         : %.3f s" % statistics.median(t_np))
        print("  onnxc run (own inflate + CRC, load, run Identity, whole process): %.3f s" % statistics.median(t_oc))


if __name__ == "__main__":
    sys.exit(main())
