#!/usr/bin/python3
"""Planning time against graph size: writes chains of N Relu nodes (onnx's helper) and prints what `onnxc bench`
reports for each: load, session create and plan times, and the arena (planned arena plus scratch, bytes).
A benchmark: it prints figures and never fails on time (a run past --timeout is reported as such).
Usage: /usr/bin/python3 bench/plan_time.py [--onnxc build/onnxc] [--sizes 10000,40000,1000000] [--dir DIR]
                                           [--timeout SECONDS]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from onnx import TensorProto, helper, save


def write_chain(path, n):
    """x -> Relu -> ... -> Relu -> y: n nodes, each value live for two positions, so a memory plan stays tiny
    and any time beyond linear growth is the planner's own."""
    names = ["x"] + ["v%d" % i for i in range(n - 1)] + ["y"]
    nodes = [helper.make_node("Relu", [names[i]], [names[i + 1]]) for i in range(n)]
    graph = helper.make_graph(nodes, "relu_chain_%d" % n,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])])
    tmp = path + ".tmp"
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp)
    os.replace(tmp, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnxc", default=os.path.join(here, "..", "build", "onnxc"))
    ap.add_argument("--sizes", default="10000,40000,1000000")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "onnxc-plan-time"),
                    help="where the chains are written (kept, so a second run or another build reuses them)")
    ap.add_argument("--timeout", type=float, default=300.0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    print("onnxc: %s" % os.path.abspath(a.onnxc))
    print("%10s %10s %10s %10s %12s %10s" % ("nodes", "load ms", "create ms", "plan ms", "total ms", "arena B"))
    for n in (int(s) for s in a.sizes.split(",")):
        path = os.path.join(a.dir, "relu_chain_%d.onnx" % n)
        if not os.path.exists(path):
            write_chain(path, n)
        cmd = [a.onnxc, "bench", path, "--threads", "1", "--runs", "1", "--warmup", "1", "--json"]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            print("%10d  did not finish in %.0f s" % (n, a.timeout))
            continue
        if p.returncode != 0:
            print("%10d  failed (exit %d): %s" % (n, p.returncode, p.stderr.strip()))
            continue
        r = json.loads(p.stdout)
        arena = r.get("arena_bytes", round(r["arena_mb"] * 1048576))
        print("%10d %10.1f %10.1f %10.1f %12.1f %10d   (process %.1f s)" %
              (n, r["load_ms"], r["create_ms"], r["plan_ms"], r["session_create_ms"], arena,
               time.monotonic() - t0))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
