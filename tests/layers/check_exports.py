#!/usr/bin/python3
"""The shared library exports the public API and nothing else: every dynamic symbol it defines is named onnxc_*,
and every ONNXC_API function of include/onnxc/onnxc.h is among them (nm -D --defined-only).

usage: check_exports.py LIBONNXC_SO HEADER"""
import re
import subprocess
import sys


def main():
    lib, header = sys.argv[1], sys.argv[2]
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
    with open(header) as f:
        text = f.read()
    declared = set(re.findall(r"ONNXC_API[^;{]*?\b(onnxc_[a-z0-9_]+)\s*\(", text))
    problems = []
    for s in sorted(exported):
        if not s.startswith("onnxc_"):
            problems.append("%s exports '%s', which is not part of the public API" % (lib, s))
    for s in sorted(declared - exported):
        problems.append("%s does not export '%s', declared in %s" % (lib, s, header))
    for p in problems:
        print(p)
    print("%d symbols exported, %d declared; %d problem(s)" % (len(exported), len(declared), len(problems)))
    return 1 if problems or not declared else 0


if __name__ == "__main__":
    sys.exit(main())
