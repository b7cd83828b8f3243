#!/usr/bin/env bash
# The fuzz targets for longer than the suite's bounded run: bench/fuzz_long.sh [SECONDS_PER_TARGET (default 300)].
# Keeps what it found in build-fuzz/fuzz-work (the growing corpus) and build-fuzz/fuzz-artifacts (crashes).
exec "$(dirname "$0")/../tests/fuzz/run.sh" "${1:-300}" build-fuzz
