#!/bin/bash
# bench/ab.sh REF MODEL [THREADS] [ROUNDS] [REPEATS]
# Compare the working tree's build (build/libonnxc.a, Release) with git revision REF on MODEL: REF is built in a
# temporary worktree, both static libraries are linked into shared objects without a SONAME, and
# bench/ab_libs.c times them in one process, alternating (see its header). It runs REPEATS times (default 4),
# half with each build loaded first, and prints every paired ratio as new / REF (below 1: the working tree is
# faster). Figures only.
set -euo pipefail
ref=${1:?usage: bench/ab.sh REF MODEL [THREADS] [ROUNDS] [REPEATS]}
model=${2:?usage: bench/ab.sh REF MODEL [THREADS] [ROUNDS] [REPEATS]}
threads=${3:-2}; rounds=${4:-30}; repeats=${5:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/build/libonnxc.a" ] || { echo "ab.sh: build the working tree first (cmake --build build)" >&2; exit 2; }
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach "$work/src" "$ref" >/dev/null 2>&1
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" --target onnxc_static -j2 >/dev/null
link() { gcc -shared -o "$2" -Wl,--whole-archive "$1" -Wl,--no-whole-archive -lprotobuf-c -lopenblas -lgomp -lm -lpthread; }
link "$work/build/libonnxc.a" "$work/ref.so"
link "$root/build/libonnxc.a" "$work/new.so"
gcc -std=c11 -O2 -Wall -Wextra -I"$root/include" "$root/bench/ab_libs.c" -ldl -o "$work/ab_libs"
for i in $(seq "$repeats"); do
    if [ $((i % 2)) = 1 ]; then
        "$work/ab_libs" "$work/ref.so" "$work/new.so" "$model" "$threads" "$rounds" | tail -1 | sed 's|^B / A|new / ref|'
    else
        # B / A is ref / new here: print its inverse
        "$work/ab_libs" "$work/new.so" "$work/ref.so" "$model" "$threads" "$rounds" | tail -1 |
            awk '{printf "new / ref paired ratio: median %.3f (ref / new %s; new loaded first)\n", 1 / $7, $7}'
    fi
done
