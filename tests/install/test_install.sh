#!/usr/bin/env bash
# Install a build into a fresh prefix and build a small C program against it both ways: pkg-config (shared and
# static) and find_package(onnxc) (onnxc::onnxc, onnxc::onnxc_static); each must run a model and match PyTorch.
# usage: test_install.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
# (command output is matched from a here-string, not a pipe into grep -q: with pipefail, grep -q exiting at the
# first match can kill the writer with SIGPIPE and fail the pipeline at random)
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name onnxc.pc -path '*/pkgconfig/*' | head -1)")/..
libdir=$(cd "$libdir" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
for f in "$libdir/libonnxc.a" "$libdir/libonnxc.so" "$prefix/include/onnxc/onnxc.h" "$libdir/pkgconfig/onnxc.pc" \
         "$libdir/cmake/onnxc/onnxcConfig.cmake" "$prefix/bin/onnxc"; do
    [ -e "$f" ] || fail "not installed: $f"
done
version=$(sed -n 's/^project(onnxc VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
soname=$(readelf -d "$libdir/libonnxc.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libonnxc.so.${version%%.*}" ] || fail "soname '$soname', expected libonnxc.so.${version%%.*}"
[ -e "$libdir/libonnxc.so.$version" ] || fail "no libonnxc.so.$version"
# the shared library exports onnxc_* only
bad=$(nm -D --defined-only "$libdir/libonnxc.so" | awk '{print $3}' | grep -v '^onnxc_' | grep -v '^_' || true)
[ -z "$bad" ] || fail "exported beyond onnxc_*: $bad"

args=("$src/models/detector_small.onnx" "$src/models/expected/detector_small/input_0.npy"
      "$src/models/expected/detector_small/output_0.npy")
cc=${CC:-cc}
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists onnxc || fail "pkg-config does not find onnxc"
[ "$(pkg-config --modversion onnxc)" = "$version" ] || fail "pkg-config version $(pkg-config --modversion onnxc)"

echo "== pkg-config, shared"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror "$src/tests/install/consumer/consumer.c" -o "$work/consumer_pc" \
    $(pkg-config --cflags --libs onnxc) -Wl,-rpath,"$libdir"
grep -qF "$libdir/libonnxc.so.${version%%.*}" <<<"$(ldd "$work/consumer_pc")" || fail "consumer_pc does not use the installed libonnxc.so"
"$work/consumer_pc" "${args[@]}"

echo "== pkg-config --static"
static_libs=$(pkg-config --static --libs onnxc | sed "s#-lonnxc#$libdir/libonnxc.a#")
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Werror "$src/tests/install/consumer/consumer.c" -o "$work/consumer_pc_static" \
    $(pkg-config --cflags onnxc) $static_libs
grep -q libonnxc <<<"$(ldd "$work/consumer_pc_static")" && fail "consumer_pc_static links libonnxc.so"
"$work/consumer_pc_static" "${args[@]}"

echo "== find_package(onnxc)"
unset PKG_CONFIG_PATH
cmake -S "$src/tests/install/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake-build" >/dev/null
grep -qF "$libdir/libonnxc.so" <<<"$(ldd "$work/cmake-build/consumer_shared")" || fail "consumer_shared does not use the installed library"
"$work/cmake-build/consumer_shared" "${args[@]}"
"$work/cmake-build/consumer_static" "${args[@]}"

echo "== installed CLI"
grep -q "batchnorm:" <<<"$("$prefix/bin/onnxc" info "$src/models/detector_small.onnx")" || fail "installed onnxc info"
echo "installed library ok: $prefix"
