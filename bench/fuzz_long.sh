#!/usr/bin/env bash
# The fuzz targets for longer than the suite's bounded run: bench/fuzz_long.sh [SECONDS_PER_TARGET (default 300)].
# Each run draws a new libFuzzer seed (FUZZ_SEED, printed; CI's run keeps seed 1). Keeps what it found in build-fuzz/fuzz-work (the growing corpus) and build-fuzz/fuzz-artifacts (crashes).
seed=${FUZZ_SEED:-$RANDOM}
echo "fuzz seed $seed"
FUZZ_SEED=$seed exec "$(dirname "$0")/../tests/fuzz/run.sh" "${1:-300}" build-fuzz
