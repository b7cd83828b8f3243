#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and run each for a bounded time on a copy of the
# committed seed corpus (tests/fuzz/corpus/{model,tensor}); new inputs go to the copy, never into the tree.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET (default 30)] [BUILD_DIR (default build-fuzz)]
# Exit 1 when a target crashes, leaks, trips a sanitizer or times out (its input is kept under BUILD_DIR/fuzz-artifacts:
# add it to tests/fuzz/corpus and as a case of tests/badinput once fixed). bench/fuzz_long.sh runs it longer.
# Allocations: a model may ask for any amount of memory (a OneHot of depth 2^40 plans a 4 TB arena), and the library
# must refuse it with a message when malloc fails. So ASan fails every single allocation above 1 GB
# (max_allocation_size_mb, returning NULL), which exercises those refusals, and libFuzzer's own per-malloc limit is
# set above that (-malloc_limit_mb) so it does not report them as crashes; -rss_limit_mb still catches memory that
# is really touched. FUZZ_SEED (default 1) makes a CI failure reproducible; bench/fuzz_long.sh varies it.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
bdir=${2:-build-fuzz}
if ! command -v clang >/dev/null; then
    echo "tests/fuzz/run.sh: clang not found; the fuzz targets need clang's libFuzzer" >&2
    exit 1
fi
CC=clang cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNXC_FUZZ=ON -DONNXC_TESTS=OFF -DONNXC_WERROR=ON >/dev/null
cmake --build "$bdir" -j2 --target fuzz_model fuzz_tensor >/dev/null
status=0
for t in model tensor; do
    work="$bdir/fuzz-work/$t"
    art="$bdir/fuzz-artifacts/$t/"
    mkdir -p "$work" "$art"
    cp -n tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null || true
    echo "== fuzz_$t: ${secs} s on $(ls "$work" | wc -l) inputs"
    log="$bdir/fuzz-$t.log"
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bdir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=4096 -max_len=65536 -seed="${FUZZ_SEED:-1}" \
        -print_final_stats=1 -artifact_prefix="$art" "$work" >"$log" 2>&1; then
        grep -E "^#[0-9]+.*(DONE|cov:)" "$log" | tail -1
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
    else
        status=1
        echo "fuzz_$t FAILED (log $log, input in $art):"
        grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -10
    fi
done
exit $status
