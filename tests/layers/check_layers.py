#!/usr/bin/python3
"""Layer rule of DESIGN.md, checked on the sources: core (src/) <- runtime (runtime/) <- passes (passes/) <- tools
(tools/) <- cli (cli/). A file may include headers of its own layer and of the layers below it, except that the
passes see one runtime header (runtime/eval/eval.h) and the CLI sees only the public header; only the core knows
protobuf-c. The build enforces the same with PRIVATE include paths; this check names the offending line.

usage: check_layers.py [ROOT]        exit 0 when every include keeps the rule, 1 with one line per violation
       check_layers.py --self-test   proves the check fails on a tree that breaks the rule"""
import os
import re
import sys
import tempfile

LAYERS = [("core", "src"), ("runtime", "runtime"), ("passes", "passes"), ("tools", "tools"), ("cli", "cli")]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
NARROW = {"passes": {"runtime/eval/eval.h"}}  # the one header of a lower layer that a layer sees alone
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PROTO_HEADERS = ("onnx.pb-c.h", "protobuf-c/protobuf-c.h")


def layer_of(rel):
    for name, folder in LAYERS:
        if rel == folder or rel.startswith(folder + "/"):
            return name
    if rel.startswith("include/"):
        return "public"
    return None


def allowed(src_layer, hdr_layer, hdr_rel):
    if hdr_layer in ("public", src_layer):
        return True
    if src_layer == "cli":
        return False
    if src_layer == "passes" and hdr_layer == "runtime":
        return hdr_rel in NARROW["passes"]
    return RANK[hdr_layer] < RANK[src_layer]


def check(root):
    headers = {}  # basename -> [rel paths]
    sources = []
    for _, folder in LAYERS + [("public", "include")]:
        for dp, _, files in os.walk(os.path.join(root, folder)):
            for f in files:
                rel = os.path.relpath(os.path.join(dp, f), root)
                if f.endswith(".h"):
                    headers.setdefault(f, []).append(rel)
                if f.endswith((".c", ".h")) and not rel.startswith("include/"):
                    sources.append(rel)
    problems = []
    for base, rels in sorted(headers.items()):
        if len(rels) > 1:
            problems.append("header name '%s' is used by %s: includes by name would be ambiguous"
                            % (base, ", ".join(sorted(rels))))
    for rel in sorted(sources):
        src_layer = layer_of(rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                if name.endswith(PROTO_HEADERS) or os.path.basename(name) in PROTO_HEADERS:
                    if src_layer != "core":
                        problems.append("%s:%d: includes %s, but only the core knows protobuf-c"
                                        % (rel, lineno, name))
                    continue
                if kind == "<":
                    continue  # system and third-party headers
                if name.startswith("onnxc/"):
                    continue  # the public header
                local = os.path.normpath(os.path.join(os.path.dirname(rel), name))
                if os.path.exists(os.path.join(root, local)):
                    hdr = local
                elif os.path.basename(name) in headers:
                    hdr = headers[os.path.basename(name)][0]
                else:
                    problems.append("%s:%d: includes \"%s\", which no layer holds" % (rel, lineno, name))
                    continue
                hdr_layer = layer_of(hdr)
                if not allowed(src_layer, hdr_layer, hdr):
                    problems.append("%s:%d: the %s layer includes %s of the %s layer" %
                                    (rel, lineno, src_layer, hdr, hdr_layer))
    return problems


def self_test():
    """A clean tree passes; each kind of violation is reported."""
    cases = {
        "clean": ({"src/ir.h": "", "runtime/kernel.h": '#include "ir.h"\n', "passes/pass.h": '#include "ir.h"\n'
                   '#include "eval.h"\n', "runtime/eval/eval.h": '#include "ir.h"\n',
                   "tools/compare.c": '#include "kernel.h"\n#include "pass.h"\n',
                   "cli/main.c": '#include "onnxc/onnxc.h"\n#include <stdio.h>\n'}, 0),
        "core includes runtime": ({"src/ir.c": '#include "kernel.h"\n', "runtime/kernel.h": ""}, 1),
        "runtime includes passes": ({"runtime/session.c": '#include "pass.h"\n', "passes/pass.h": ""}, 1),
        "passes include a kernel header": ({"passes/fold.c": '#include "kernel.h"\n#include "eval.h"\n',
                                            "runtime/kernel.h": "", "runtime/eval/eval.h": ""}, 1),
        "cli includes the core": ({"cli/main.c": '#include "ir.h"\n', "src/ir.h": ""}, 1),
        "runtime includes protobuf-c": ({"runtime/x.c": '#include "onnx.pb-c.h"\n'}, 1),
        "two headers of one name": ({"src/util.h": "", "runtime/util.h": ""}, 1),
    }
    failed = 0
    for label, (files, want) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for rel, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(text)
            got = check(root)
            if len(got) != want:
                failed += 1
                print("self-test '%s': expected %d problem(s), got %d: %s" % (label, want, len(got), got))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    problems = check(root)
    for p in problems:
        print(p)
    print("layers: %d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
