#!/usr/bin/python3
"""Round-trip check: onnxc loads and saves every ONNX node-test model (and models/*.onnx); python's onnx, an
independent reader, checks that each output passes onnx.checker and equals the original ModelProto.

Per model, roundtrip_tool writes
  inline.onnx           plain save                -> must equal the original proto exactly (==)
  ext/model.onnx(.data) every tensor external     -> equal after loading the external data and normalising
                                                     tensor storage (external bytes come back as raw_data)
  reloaded.onnx         the external copy loaded by onnxc and saved inline -> equal after the same normalisation
Everything runs in one process per tool, not one per model, so the suite is quick.

Edge models named edge_newer_* carry fields newer than the onnx 1.12 schema (unknown fields to onnxc and to
python's onnx 1.12 alike): their plain save, and `onnxc convert` with --onnxc, must give the file back byte for
byte, and onnx 1.12 must parse it to the same message, unknown fields included. With --onnxc the model with a
sparse initializer must also pass `onnxc check`, and `onnxc run` must refuse it with a one-line message.
"""
import argparse
import copy
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def graph_tensors(graph):
    """Every TensorProto of a graph: initializers and tensor attributes, subgraphs included."""
    for t in graph.initializer:
        yield t
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            for t in a.tensors:
                yield t
            if a.HasField("g"):
                yield from graph_tensors(a.g)
            for g in a.graphs:
                yield from graph_tensors(g)


def normalise(model):
    """Copy of model with every tensor's data moved to raw_data (strings stay in string_data)."""
    m = copy.deepcopy(model)
    for t in graph_tensors(m.graph):
        if t.data_type == onnx.TensorProto.STRING:
            t.ClearField("data_location")
            continue
        if t.data_type in (onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128) and not t.HasField("raw_data"):
            # onnx 1.12's to_array fails on typed complex data; the (re, im) pairs are the raw layout already
            if t.data_type == onnx.TensorProto.COMPLEX64:
                data = np.array(t.float_data, np.float32).tobytes()
            else:
                data = np.array(t.double_data, np.float64).tobytes()
        else:
            plain = copy.deepcopy(t)
            plain.ClearField("segment")  # to_array refuses segments; ours always cover the whole tensor
            data = numpy_helper.to_array(plain).tobytes()
        for f in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data",
                  "external_data", "data_location"):
            t.ClearField(f)
        t.raw_data = data
    return m


def passes_checker(model):
    try:
        onnx.checker.check_model(model)
        return True
    except Exception:  # noqa: BLE001 - any checker failure counts
        return False


def first_difference(a, b, path="model"):
    """A short description of where two protos differ, for the failure message."""
    for field, va in a.ListFields():
        vb = getattr(b, field.name)
        if field.label == field.LABEL_REPEATED:
            if len(va) != len(vb):
                return f"{path}.{field.name}: {len(va)} vs {len(vb)} entries"
            for i, (x, y) in enumerate(zip(va, vb)):
                if x != y:
                    if field.type == field.TYPE_MESSAGE:
                        return first_difference(x, y, f"{path}.{field.name}[{i}]")
                    return f"{path}.{field.name}[{i}]: {x!r} vs {y!r}"
        elif va != vb or not b.HasField(field.name):
            if field.type == field.TYPE_MESSAGE and b.HasField(field.name):
                return first_difference(va, vb, f"{path}.{field.name}")
            return f"{path}.{field.name}: {str(va)[:80]!r} vs {str(vb)[:80]!r} (present in output: {b.HasField(field.name) if field.label != field.LABEL_REPEATED else True})"
    for field, _ in b.ListFields():
        if field.label != field.LABEL_REPEATED and not a.HasField(field.name):
            return f"{path}.{field.name}: absent in original, present in output"
        if field.label == field.LABEL_REPEATED and len(getattr(a, field.name)) == 0:
            return f"{path}.{field.name}: absent in original, present in output"
    return f"{path}: differs (unknown fields?)"


def check_one(original_path, outdir):
    """Return None when all three outputs check out, else a one-line reason."""
    orig = onnx.load(original_path)
    orig_ok = passes_checker(orig)
    inline = onnx.load(os.path.join(outdir, "inline.onnx"))
    if inline != orig:
        return "inline save differs: " + first_difference(orig, inline)
    if orig_ok and not passes_checker(inline):
        return "inline save fails onnx.checker"
    ext = onnx.load(os.path.join(outdir, "ext", "model.onnx"), load_external_data=True)
    norm_orig = normalise(orig)
    norm_ext = normalise(ext)
    if norm_ext != norm_orig:
        return "external-data save differs: " + first_difference(norm_orig, norm_ext)
    if orig_ok and not passes_checker(ext):
        return "external-data save fails onnx.checker"
    back = onnx.load(os.path.join(outdir, "reloaded.onnx"))
    norm_back = normalise(back)
    if norm_back != norm_orig:
        return "external data reloaded by onnxc differs: " + first_difference(norm_orig, norm_back)
    return None


def run_suite(tool, models, work, label):
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    listing = os.path.join(work, "models.txt")
    with open(listing, "w") as f:
        f.write("".join(m + "\n" for m in models))
    proc = subprocess.run([tool, listing, work], capture_output=True, text=True)
    tool_fail = {}
    for line in proc.stdout.splitlines():
        if line.startswith("FAIL "):
            idx = int(line.split()[1])
            tool_fail[idx] = line
    if proc.returncode not in (0, 1) or proc.stderr.strip():
        print(f"roundtrip_tool exited {proc.returncode}: {proc.stderr.strip()[:2000]}")
    failures = []
    for idx, model in enumerate(models):
        if idx in tool_fail:
            failures.append(tool_fail[idx])
            continue
        try:
            why = check_one(model, os.path.join(work, f"{idx:04d}"))
        except Exception as e:  # noqa: BLE001 - report, keep going
            why = f"python could not read the output: {e}"
        if why:
            failures.append(f"FAIL {model}: {why}")
    for f in failures:
        print(f)
    ok = len(models) - len(failures)
    print(f"{ok}/{len(models)} {label} round-trip equal")
    # for information: protobuf-c writes fields in number order, as protobuf's C++ writer does
    same = 0
    for idx, model in enumerate(models):
        out = os.path.join(work, f"{idx:04d}", "inline.onnx")
        if os.path.exists(out):
            with open(model, "rb") as a, open(out, "rb") as b:
                same += a.read() == b.read()
    print(f"  ({same}/{len(models)} byte-identical to the original file)")
    return not failures and proc.returncode in (0, 1)


def unknown_fields_kept(original_path, written_path):
    """None when written_path is the same file as original_path and onnx 1.12 reads both to the same message,
    unknown fields included; else a one-line reason."""
    with open(original_path, "rb") as f:
        orig_bytes = f.read()
    with open(written_path, "rb") as f:
        out_bytes = f.read()
    orig = onnx.load_model_from_string(orig_bytes)
    stripped = copy.deepcopy(orig)
    stripped.DiscardUnknownFields()
    if stripped.SerializeToString() == orig.SerializeToString():
        return "the generator wrote no field unknown to onnx 1.12: the check would prove nothing"
    out = onnx.load_model_from_string(out_bytes)
    if out.SerializeToString() != orig.SerializeToString():
        out.DiscardUnknownFields()
        if out.SerializeToString() == stripped.SerializeToString():
            return "unknown fields were lost or changed"
        return "differs: " + first_difference(orig, out)
    if out_bytes != orig_bytes:
        at = next(i for i in range(min(len(out_bytes), len(orig_bytes)) + 1)
                  if i == min(len(out_bytes), len(orig_bytes)) or out_bytes[i] != orig_bytes[i])
        return f"same message, but not the same bytes ({len(orig_bytes)} vs {len(out_bytes)}, first change at {at})"
    return None


def run_onnxc(onnxc, *args):
    return subprocess.run([onnxc, *args], capture_output=True, text=True, timeout=120)


def check_newer_fields(tool_work, edge_models, onnxc):
    """Byte-exact round trips of the models with fields newer than onnx 1.12; returns the failures."""
    failures = []
    newer = [(i, m) for i, m in enumerate(edge_models) if os.path.basename(m).startswith("edge_newer_")]
    if not newer:
        return ["no edge_newer_* models were generated"]
    for idx, model in newer:
        why = unknown_fields_kept(model, os.path.join(tool_work, f"{idx:04d}", "inline.onnx"))
        if why:
            failures.append(f"FAIL {model}: plain save: {why}")
        if onnxc:
            out = os.path.join(tool_work, f"{idx:04d}", "convert.onnx")
            proc = run_onnxc(onnxc, "convert", model, "-o", out)
            why = (f"onnxc convert exited {proc.returncode}: {proc.stderr.strip()}" if proc.returncode != 0
                   else unknown_fields_kept(model, out))
            if why:
                failures.append(f"FAIL {model}: onnxc convert: {why}")
    print(f"{len(newer) - len({f.split(':')[0] for f in failures})}/{len(newer)} models with fields newer than "
          f"onnx 1.12 written back byte for byte" + ("" if onnxc else " (onnxc convert not tried: no --onnxc)"))
    return failures


def check_invalid_unknown(work, edge_models, onnxc):
    """Unknown fields protobuf does not allow, which protobuf-c would let through: field number 0 written as an
    over-long tag varint (0x82 0x00: wire type 2, number 0) and a number past 2^29 - 1. Python's onnx refuses
    both; onnxc must too (exit 2, one line), rather than load a model it cannot write back."""
    model = next((m for m in edge_models if os.path.basename(m) == "edge_newer_fields.onnx"), None)
    if not model:
        return ["FAIL edge_newer_fields.onnx was not generated"]
    with open(model, "rb") as f:
        good = f.read()
    cases = {"field_zero": bytes([0x82, 0x00, 0x01, 0x41]),
             "field_2_29": bytes([0x82, 0x80, 0x80, 0x80, 0x10, 0x01, 0x41])}  # (2^29 << 3) | 2
    failures = []
    for name, extra in cases.items():
        path = os.path.join(work, f"invalid_{name}.onnx")
        with open(path, "wb") as f:
            f.write(good + extra)
        try:
            onnx.load_model_from_string(good + extra)
            failures.append(f"FAIL {path}: python's onnx reads it, so the case tests nothing")
            continue
        except Exception:  # noqa: BLE001 - any refusal is the expected outcome
            pass
        proc = run_onnxc(onnxc, "check", path)
        err = proc.stderr.strip().splitlines()
        if proc.returncode != 2 or len(err) != 1 or path not in err[0]:
            failures.append(f"FAIL {path}: onnxc check should refuse it with exit 2 and one line naming the file; "
                            f"got exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
    if not failures:
        print(f"{len(cases)}/{len(cases)} models with unknown fields protobuf does not allow refused")
    return failures


def check_sparse_run(edge_models, onnxc):
    """The model whose node reads a sparse initializer: onnxc check accepts it, onnxc run refuses it cleanly."""
    model = next((m for m in edge_models if os.path.basename(m) == "edge_sparse_initializer.onnx"), None)
    if not model:
        return ["FAIL edge_sparse_initializer.onnx was not generated"]
    failures = []
    proc = run_onnxc(onnxc, "check", model)
    if proc.returncode != 0:
        failures.append(f"FAIL {model}: onnxc check exited {proc.returncode}: {proc.stderr.strip()}")
    proc = run_onnxc(onnxc, "run", model)
    err = proc.stderr.strip().splitlines()
    # exit 2 is "bad input or unsupported"; a signal (negative) or 1 (kernel failure) is a bug
    if proc.returncode != 2 or len(err) != 1 or not err[0].startswith("onnxc: ") or "'sw'" not in err[0] \
            or "sparse" not in err[0]:
        failures.append(f"FAIL {model}: onnxc run should refuse it with exit 2 and one line naming 'sw' as sparse; "
                        f"got exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
    else:
        print(f"onnxc run on a sparse initializer: {err[0]}")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--node-dir", required=True)
    ap.add_argument("--models-dir")
    ap.add_argument("--edge-generator", help="script writing hand-built edge-case models into a folder")
    ap.add_argument("--onnxc", help="the onnxc binary: also check `onnxc convert` and `onnxc run` on edge models")
    args = ap.parse_args()

    node_models = sorted(glob.glob(os.path.join(args.node_dir, "*", "model.onnx")))
    if not node_models:
        print(f"no node-test models under {args.node_dir} (set ONNXC_NODE_TEST_DIR)")
        return 1
    ok = run_suite(args.tool, node_models, os.path.join(args.work, "node"), "node models")
    if args.edge_generator:
        src = os.path.join(args.work, "edge-src")
        shutil.rmtree(src, ignore_errors=True)
        subprocess.run([sys.executable, args.edge_generator, src], check=True)
        edge = sorted(glob.glob(os.path.join(src, "*.onnx")))
        ok = run_suite(args.tool, edge, os.path.join(args.work, "edge"), "edge-case models") and ok
        extra = check_newer_fields(os.path.join(args.work, "edge"), edge, args.onnxc)
        if args.onnxc:
            extra += check_invalid_unknown(os.path.join(args.work, "edge"), edge, args.onnxc)
            extra += check_sparse_run(edge, args.onnxc)
        for f in extra:
            print(f)
        ok = ok and not extra
    if args.models_dir:
        own = sorted(glob.glob(os.path.join(args.models_dir, "*.onnx")))
        if own:
            ok = run_suite(args.tool, own, os.path.join(args.work, "models"), "models/*.onnx") and ok
        else:
            print(f"no models in {args.models_dir} yet")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
