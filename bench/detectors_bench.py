#!/usr/bin/python3
"""Complete detectors (models/author_detectors.py exports) side by side with ONNX Runtime: `onnxc bench` and
bench/ort_bench.js on the same file, same seeded inputs, same threads, in rounds that alternate which runtime goes
first; prints per model the median of the rounds' median latencies and the best run, onnxc / ONNX Runtime. With
--profile, then one `onnxc bench --profile` per model: the per-op table, where the post-processing ops
(NonMaxSuppression, TopK, RoiAlign, NonZero, Gather...) appear beside the Convs. Figures only; on a loaded machine
say so.

usage: /usr/bin/python3 bench/detectors_bench.py MODEL.onnx... [--onnxc build/onnxc] [--threads 2] [--rounds 5]
                                                 [--runs 20] [--warmup 3] [--profile]"""
import argparse
import json
import os
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def onnxc_run(a, model):
    r = subprocess.run([a.onnxc, "bench", model, "--threads", str(a.threads), "--runs", str(a.runs), "--warmup",
                        str(a.warmup), "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["latency_ms"]


def ort_run(a, model):
    r = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), model, "--threads", str(a.threads), "--runs",
                        str(a.runs), "--warmup", str(a.warmup)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["latency_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--onnxc", default=os.path.join(os.path.dirname(HERE), "build", "onnxc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    rows = []
    for model in a.models:
        med = {"onnxc": [], "ort": []}
        best = {"onnxc": [], "ort": []}
        for r in range(a.rounds):
            order = [("onnxc", onnxc_run), ("ort", ort_run)]
            for who, fn in (order if r % 2 == 0 else order[::-1]):
                lat = fn(a, model)
                med[who].append(lat["median"])
                best[who].append(lat["min"])
        m = {k: statistics.median(v) for k, v in med.items()}
        b = {k: min(v) for k, v in best.items()}
        rows.append((os.path.basename(model), m, b))
        print(f"{os.path.basename(model)}: median of {a.rounds} round medians onnxc {m['onnxc']:.1f} ms, "
              f"ONNX Runtime {m['ort']:.1f} ms (ratio {m['onnxc'] / m['ort']:.2f}); best run {b['onnxc']:.1f} / "
              f"{b['ort']:.1f} ms (ratio {b['onnxc'] / b['ort']:.2f})", flush=True)
    print()
    print("| model | latency onnxc / ORT (ms, median of round medians) | ratio | best run onnxc / ORT (ms) | ratio |")
    print("|---|---|---|---|---|")
    for name, m, b in rows:
        print(f"| {name} | {m['onnxc']:.1f} / {m['ort']:.1f} | {m['onnxc'] / m['ort']:.2f} | {b['onnxc']:.1f} / "
              f"{b['ort']:.1f} | {b['onnxc'] / b['ort']:.2f} |")
    if a.profile:
        for model in a.models:
            print(f"\n== onnxc bench --profile {model}")
            r = subprocess.run([a.onnxc, "bench", model, "--threads", str(a.threads), "--runs", str(a.runs),
                                "--warmup", str(a.warmup), "--profile", "--top", "10"], capture_output=True,
                               text=True)
            print(r.stdout.strip())


if __name__ == "__main__":
    main()
