#!/usr/bin/env bash
# -DONNXC_NATIVE=OFF must give a library that runs on any x86-64: no AVX/AVX2/FMA/AVX-512 instruction in it
# (every intrinsic kernel is compiled only under __AVX2__ && __FMA__, and there is no run-time dispatch).
# usage: check_isa.sh LIBRARY
set -euo pipefail
lib=$1
n=$(objdump -d --no-show-raw-insn "$lib" | grep -cE '%[yz]mm[0-9]|\bvfmadd|\bvfnmadd' || true)
total=$(objdump -d --no-show-raw-insn "$lib" | grep -c . || true)
[ "$total" -gt 1000 ] || { echo "FAIL: objdump read nothing from $lib"; exit 1; }
if [ "$n" -ne 0 ]; then
    echo "FAIL: $lib has $n AVX/FMA instructions; a -DONNXC_NATIVE=OFF build must run on any x86-64:"
    objdump -d --no-show-raw-insn "$lib" | grep -E '%[yz]mm[0-9]|\bvfmadd' | head -5
    exit 1
fi
echo "ok: no AVX/AVX2/FMA/AVX-512 instruction in $lib ($total lines disassembled)"
