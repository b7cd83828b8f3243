#!/usr/bin/python3
"""Planning time against graph size: writes chains of N Relu nodes and wide graphs of N independent Relu branches
joined by one Concat (onnx's helper) and prints what `onnxc bench` reports for each: load, session create and plan
times, the arena (planned arena plus scratch, bytes) and the process's peak resident memory (bench's peak_rss_mb).
A benchmark: it prints figures and never fails on time (a run past --timeout is reported as such).
Usage: /usr/bin/python3 bench/plan_time.py [--onnxc build/onnxc] [--sizes 10000,100000,1000000] [--wide 100000]
                                           [--dir DIR] [--timeout SECONDS]"""
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


def write_wide(path, n):
    """x -> n independent Relu nodes -> one Concat of all n -> y: every branch output is live until the Concat,
    so the memory plan places n values that overlap in time (the placement's worst case, unlike the chain)."""
    branches = ["b%d" % i for i in range(n)]
    nodes = [helper.make_node("Relu", ["x"], [b]) for b in branches]
    nodes.append(helper.make_node("Concat", branches, ["y"], axis=1))
    graph = helper.make_graph(nodes, "relu_wide_%d" % n,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4 * n])])
    tmp = path + ".tmp"
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp)
    os.replace(tmp, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnxc", default=os.path.join(here, "..", "build", "onnxc"))
    ap.add_argument("--sizes", default="10000,100000,1000000", help="chain lengths")
    ap.add_argument("--wide", default="100000", help="branch counts of the wide graphs ('' for none)")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "onnxc-plan-time"),
                    help="where the chains are written (kept, so a second run or another build reuses them)")
    ap.add_argument("--timeout", type=float, default=300.0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    print("onnxc: %s" % os.path.abspath(a.onnxc))
    print("%-6s %9s %10s %10s %10s %12s %12s %9s" % ("graph", "nodes", "load ms", "create ms", "plan ms", "total ms",
                                                     "arena B", "peak MB"))
    cases = [("chain", int(x)) for x in a.sizes.split(",") if x]
    cases += [("wide", int(x)) for x in a.wide.split(",") if x]
    for kind, n in cases:
        path = os.path.join(a.dir, "relu_%s_%d.onnx" % (kind, n))
        if not os.path.exists(path):
            (write_chain if kind == "chain" else write_wide)(path, n)
        nodes = n if kind == "chain" else n + 1
        cmd = [a.onnxc, "bench", path, "--threads", "1", "--runs", "1", "--warmup", "1", "--json"]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            print("%-6s %9d  did not finish in %.0f s" % (kind, nodes, a.timeout))
            continue
        if p.returncode != 0:
            print("%-6s %9d  failed (exit %d): %s" % (kind, nodes, p.returncode, p.stderr.strip()))
            continue
        r = json.loads(p.stdout)
        arena = r.get("arena_bytes", round(r["arena_mb"] * 1048576))
        print("%-6s %9d %10.1f %10.1f %10.1f %12.1f %12d %9.1f   (process %.1f s)" %
              (kind, nodes, r["load_ms"], r["create_ms"], r["plan_ms"], r["session_create_ms"], arena, r["peak_rss_mb"],
               time.monotonic() - t0))
        sys.stdout.flush()

if __name__ == "__main__":
    main()
