#!/bin/sh
# The full-size torchvision detectors (not committed): writes them with models/author_detectors.py --big-only
# into $ONNXC_GEN_DET (default /work/gen-det) unless they are there, then checks every file as ctest detectors_*
# checks the small ones: onnxc and ONNX Runtime (bench/ort_run.js) against PyTorch's detections, optimize --verify
# (node counts, BN folded, the result against PyTorch), swap-norm --to group (onnxc against ONNX Runtime on it).
# Absolute tolerances x20 (full-size R-CNN heads accumulate more float error; the max differences are printed).
# usage: tests/detectors/check_gen.sh [BUILD_DIR] [test_detectors.py options, e.g. --only fcos]
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
gen=${ONNXC_GEN_DET:-/work/gen-det}
[ -f "$gen/detectors.json" ] || ONNXC_GEN_DET=$gen /usr/bin/python3 models/author_detectors.py --big-only
exec /usr/bin/python3 tests/detectors/test_detectors.py "$build/onnxc" "$gen/detectors.json" --ort bench/ort_run.js \
    --tol-scale 20 --work "$gen/work" "$@"
