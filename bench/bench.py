#!/usr/bin/python3
"""onnxc side by side with ONNX Runtime (onnxruntime-node, CPU provider, all graph optimizations): latency,
session-create time and peak memory per model, as ratios onnxc / ONNX Runtime, plus each model's GFLOP/s against
this machine's measured OpenBLAS sgemm peak.

Models: ResNet-18, MobileNetV2, ResNet-50, MobileNetV3-Small, EfficientNet-B0, MnasNet-0.5 and ConvNeXt-Tiny exported
from torchvision with random weights (bench/gen_models.py,
cached in bench/models-gen/), and models/detector_small.onnx. Each is first rewritten with `onnxc optimize` (as a
user would: it folds the BatchNormalization nodes the export kept), and both runtimes then run that same file,
on the same seeded inputs, with the same thread count, in rounds that alternate which runtime goes first.

Usage: /usr/bin/python3 bench/bench.py [--threads N] [--rounds N] [--runs N] [--warmup N] [--models a,b|all]
                                       [--onnxc PATH] [--json FILE] [--readme]
--readme rewrites the table between the markers in bench/README.md and in the project README. Figures only; nothing here fails on time."""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN = os.path.join(HERE, "models-gen")
MODELS = [
    # name, source file, extra arguments for both runtimes (symbolic dims)
    ("resnet18", os.path.join(GEN, "resnet18.onnx"), []),
    ("mobilenet_v2", os.path.join(GEN, "mobilenet_v2.onnx"), []),
    ("resnet50", os.path.join(GEN, "resnet50.onnx"), []),
    ("mobilenet_v3_small", os.path.join(GEN, "mobilenet_v3_small.onnx"), []),
    ("efficientnet_b0", os.path.join(GEN, "efficientnet_b0.onnx"), []),
    ("mnasnet0_5", os.path.join(GEN, "mnasnet0_5.onnx"), []),
    ("convnext_tiny", os.path.join(GEN, "convnext_tiny.onnx"), []),
    ("detector_small", os.path.join(ROOT, "models", "detector_small.onnx"), ["--shape", "N=1"]),
]
DEFAULT_MODELS = [m[0] for m in MODELS]
# the rest of issue 14's zoo (bench/gen_models.py exports them): measured when named in --models (or --models all)
ZOO = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "mnasnet0_5", "densenet121",
       "convnext_tiny", "regnet_y_400mf", "shufflenet_v2_x1_0", "googlenet", "vgg11_bn", "lraspp_mobilenet_v3_large",
       "ssdlite_mobilenet_v3_backbone"]
MODELS += [(name, os.path.join(GEN, name + ".onnx"), []) for name in ZOO if name not in DEFAULT_MODELS]
BEGIN = "<!-- bench.py table begin -->"
END = "<!-- bench.py table end -->"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def find_onnxc(arg):
    """The binary to measure: --onnxc, else build/onnxc (the README's build). A build older than any source file
    would measure code that is no longer there, so that is refused (the cause of a wrong table once)."""
    if arg:
        return arg
    exe = os.path.join(ROOT, "build", "onnxc")
    if not os.path.exists(exe):
        sys.exit("bench.py: no build/onnxc; build it (cmake --build build) or pass --onnxc")
    built = os.path.getmtime(exe)
    for top in ("src", "runtime", "passes", "include", "proto"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                src = os.path.join(dirpath, f)
                if os.path.getmtime(src) > built:
                    sys.exit("bench.py: build/onnxc is older than %s; rebuild (cmake --build build) or pass --onnxc"
                             % os.path.relpath(src, ROOT))
    return exe


def revision():
    """git revision of the working tree, with +dirty when it has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=True,
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"


def sgemm_peak(threads):
    """Compile bench/sgemm_peak.c once and measure OpenBLAS's sgemm rate on 1 and on `threads` threads."""
    exe = os.path.join(GEN, "sgemm_peak")
    src = os.path.join(HERE, "sgemm_peak.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "openblas"], check=True, capture_output=True,
                               text=True).stdout.split()
        subprocess.run(["cc", "-O2", src, "-o", exe] + flags, check=True)
    return run_json([exe, str(threads), "--json"])


def optimized(onnxc, name, src):
    dst = os.path.join(GEN, name + ".opt.onnx")
    # redone when the export or the optimizer is newer than the file
    if not os.path.exists(dst) or os.path.getmtime(dst) < max(os.path.getmtime(src), os.path.getmtime(onnxc)):
        log("optimize %s" % name)
        subprocess.run([onnxc, "optimize", src, "-o", dst], check=True, capture_output=True)
    return dst


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count() or 0, platform.release())


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per model (default 5)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per round (default 30)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated names, or 'all' (default: the ResNets, MobileNetV2, detector_small; "
                         "also: " + ",".join(ZOO) + ")")
    ap.add_argument("--onnxc")
    ap.add_argument("--json", help="write all measurements to this file")
    ap.add_argument("--readme", action="store_true", help="put the table into bench/README.md and README.md")
    a = ap.parse_args()

    onnxc = find_onnxc(a.onnxc)
    rev = revision()
    log("measuring %s (%s)" % (onnxc, rev))
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        sys.exit("bench.py: needs node and bench/node_modules/onnxruntime-node "
                 "(cd bench && npm install --ignore-scripts onnxruntime-node@1.30.0)")
    wanted = [m[0] for m in MODELS] if a.models == "all" else a.models.split(",")
    # export only the generated models asked for (the whole zoo is several hundred MB)
    gen = [name for name, src, _ in MODELS if name in wanted and os.path.dirname(src) == GEN]
    if gen:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_models.py"), GEN] + gen, check=True)
    ort_version = json.load(open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")))["version"]
    peak = sgemm_peak(a.threads)
    log("OpenBLAS sgemm peak: %.1f GFLOP/s (1 thread), %.1f (%d threads)" % (peak["gflops_1"], peak["gflops_n"],
                                                                             a.threads))
    results = []
    for name, src, extra in MODELS:
        if name not in wanted:
            continue
        path = optimized(onnxc, name, src)
        common = ["--threads", str(a.threads), "--runs", str(a.runs), "--warmup", str(a.warmup)] + extra
        flops = run_json([onnxc, "bench", path, "--runs", "1", "--warmup", "0", "--profile", "--json",
                          "--threads", str(a.threads)] + extra).get("gflop_per_run", 0.0)
        rounds = []
        for r in range(a.rounds):
            order = ["onnxc", "ort"] if r % 2 == 0 else ["ort", "onnxc"]
            got = {}
            for who in order:
                if who == "onnxc":
                    got[who] = run_json([onnxc, "bench", path, "--json"] + common)
                else:
                    got[who] = run_json([node, os.path.join(HERE, "ort_bench.js"), path] + common)
            rounds.append(got)
            log("%s round %d: onnxc %.2f ms, ORT %.2f ms" % (name, r + 1, got["onnxc"]["latency_ms"]["median"],
                                                             got["ort"]["latency_ms"]["median"]))

        def series(who, f):
            return [f(rd[who]) for rd in rounds]

        lat = lambda d: d["latency_ms"]["median"]
        mem = lambda d: d["peak_rss_mb"] - d["base_rss_mb"]
        row = {
            "model": name,
            "gflop": flops,
            "onnxc_ms": med(series("onnxc", lat)),
            "ort_ms": med(series("ort", lat)),
            "onnxc_min_ms": min(series("onnxc", lambda d: d["latency_ms"]["min"])),
            "ort_min_ms": min(series("ort", lambda d: d["latency_ms"]["min"])),
            "latency_ratio": med([lat(rd["onnxc"]) / lat(rd["ort"]) for rd in rounds]),
            "onnxc_create_ms": med(series("onnxc", lambda d: d["session_create_ms"])),
            "ort_create_ms": med(series("ort", lambda d: d["session_create_ms"])),
            "create_ratio": med([rd["onnxc"]["session_create_ms"] / rd["ort"]["session_create_ms"] for rd in rounds]),
            "onnxc_mem_mb": med(series("onnxc", mem)),
            "ort_mem_mb": med(series("ort", mem)),
            "mem_ratio": med([mem(rd["onnxc"]) / mem(rd["ort"]) for rd in rounds]),
            "rounds": rounds,
        }
        row["onnxc_gflops"] = flops / row["onnxc_ms"] * 1e3 if row["onnxc_ms"] > 0 else 0.0
        row["ort_gflops"] = flops / row["ort_ms"] * 1e3 if row["ort_ms"] > 0 else 0.0
        results.append(row)

    date = datetime.date.today().isoformat()
    head = ("%s, onnxc %s, %s; %d threads, batch 1, %d alternating rounds of %d timed runs (after %d warm-up) per model; "
            "ONNX Runtime %s (onnxruntime-node, CPU, all graph optimizations); OpenBLAS sgemm peak %.1f GFLOP/s "
            "on %d threads (%.1f on 1)." % (date, rev, machine(), a.threads, a.rounds, a.runs, a.warmup, ort_version,
                                            peak["gflops_n"], a.threads, peak["gflops_1"]))
    lines = [
        "| model | GFLOP | latency onnxc / ORT (ms, median) | ratio | best run onnxc / ORT (ms) | ratio | "
        "session create onnxc / ORT (ms) | ratio | "
        "peak memory onnxc / ORT (MB) | ratio | GFLOP/s onnxc (% of sgemm peak) | GFLOP/s ORT |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append("| %s | %.2f | %.2f / %.2f | **%.2f** | %.2f / %.2f | %.2f | %.0f / %.0f | **%.2f** | %.0f / %.0f | "
                     "**%.2f** | %.1f (%.0f%%) | %.1f |" % (
                         r["model"], r["gflop"], r["onnxc_ms"], r["ort_ms"], r["latency_ratio"], r["onnxc_min_ms"],
                         r["ort_min_ms"], r["onnxc_min_ms"] / r["ort_min_ms"] if r["ort_min_ms"] > 0 else 0.0,
                         r["onnxc_create_ms"],
                         r["ort_create_ms"], r["create_ratio"], r["onnxc_mem_mb"], r["ort_mem_mb"], r["mem_ratio"],
                         r["onnxc_gflops"], 100.0 * r["onnxc_gflops"] / peak["gflops_n"], r["ort_gflops"]))
    table = head + "\n\n" + "\n".join(lines) + "\n"
    print(table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": date, "revision": rev, "onnxc": onnxc, "machine": machine(), "threads": a.threads,
                       "sgemm_peak": peak,
                       "ort_version": ort_version, "results": results}, f, indent=1)
    if a.readme:
        # bench/README.md, and the project README's copy of the table
        for readme in (os.path.join(HERE, "README.md"), os.path.join(HERE, os.pardir, "README.md")):
            text = open(readme).read()
            if BEGIN not in text or END not in text:
                sys.exit("bench.py: %s lacks the table markers" % readme)
            pre, rest = text.split(BEGIN, 1)
            post = rest.split(END, 1)[1]
            with open(readme + ".tmp", "w") as f:
                f.write(pre + BEGIN + "\n" + table + END + post)
            os.replace(readme + ".tmp", readme)

if __name__ == "__main__":
    main()
