#!/usr/bin/python3
"""onnxc against ONNX Runtime on float16 / bfloat16 models (made by bench/to_fp16.py) and their float original,
alternating round by round: each round runs `onnxc bench` and bench/ort_bench.js on every model in turn, and the
figure is the median over rounds of the per-round latency ratio onnxc / ORT (below 1: onnxc faster), since
single timings on a shared machine vary by tens of percent. Prints each round's medians, then the summary.
usage: /usr/bin/python3 bench/half_vs_ort.py [--rounds N] [--runs N] [--threads N] [--onnxc PATH] MODEL...
(a model ORT refuses, bfloat16 Conv for one, is timed for onnxc only)"""
import argparse
import json
import os
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def onnxc_bench(exe, model, threads, runs):
    r = subprocess.run([exe, "bench", model, "--threads", str(threads), "--runs", str(runs), "--json"],
                       capture_output=True, text=True, check=True)
    j = json.loads(r.stdout)
    return j["latency_ms"]["median"], j.get("cpu_ms_per_run")


def ort_bench(model, threads, runs):
    r = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), model, "--threads", str(threads), "--runs",
                        str(runs)], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])["latency_ms"]["median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--onnxc", default=os.path.join(HERE, "..", "build", "onnxc"))
    a = ap.parse_args()
    ratios = {m: [] for m in a.models}
    lat = {m: [] for m in a.models}
    for rd in range(a.rounds):
        for m in a.models:
            o, _ = onnxc_bench(a.onnxc, m, a.threads, a.runs)
            t = ort_bench(m, a.threads, a.runs)
            lat[m].append((o, t))
            if t:
                ratios[m].append(o / t)
            print(f"round {rd + 1} {os.path.basename(m)}: onnxc {o:.2f} ms, ORT "
                  f"{'%.2f ms' % t if t else 'refused the model'}", flush=True)
    for m in a.models:
        o = statistics.median(x for x, _ in lat[m])
        s = f"{os.path.basename(m)}: onnxc median of round medians {o:.2f} ms"
        if ratios[m]:
            t = statistics.median(y for _, y in lat[m] if y)
            s += (f", ORT {t:.2f} ms; per-round ratio onnxc / ORT median {statistics.median(ratios[m]):.2f} "
                  f"(range {min(ratios[m]):.2f}-{max(ratios[m]):.2f})")
        print(s)


if __name__ == "__main__":
    main()
