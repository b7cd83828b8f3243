"""Compares onnxc's shape inference (src/infer.c, through infer_dump) with onnx.shape_inference.infer_shapes
on every ONNX node-test model, on models/*.onnx and on the models of each --extra folder, subgraphs included
(If / Loop / Scan bodies, keyed by their path): for each node output both infer, the element type and the
rank must match, and so must every dim that both give as a number. Prints the agreement counts; fails on any
disagreement. Usage: compare_onnx_infer.py INFER_DUMP NODE_TEST_DIR MODELS_DIR [--extra DIR]... [--min-compared N]"""
import glob, os, re, subprocess, sys, tempfile

import onnx
from onnx import shape_inference


SUBGRAPH_KEY = re.compile(r"^\d+\.[A-Za-z_]\w*(\.\d+)?/")  # "3.body/name": a value of a subgraph


def subgraphs(g, prefix=""):
    """(path prefix, graph) for g and every graph within it, named as infer_dump names them."""
    yield prefix, g
    for i, n in enumerate(g.node):
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from subgraphs(a.g, f"{prefix}{i}.{a.name}/")
            elif a.type == onnx.AttributeProto.GRAPHS:
                for k, sg in enumerate(a.graphs):
                    yield from subgraphs(sg, f"{prefix}{i}.{a.name}.{k}/")


def onnx_types(path):
    m = onnx.load(path)
    # strip what the file declares for node outputs (subgraphs' too), so onnx has to infer them
    for _, g in subgraphs(m.graph):
        for vi in list(g.output):
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
                vi.type.tensor_type.elem_type = 0
        del g.value_info[:]
    try:
        inf = shape_inference.infer_shapes(m, strict_mode=False)
    except Exception:
        return None
    out = {}
    for prefix, g in subgraphs(inf.graph):
        for vi in list(g.value_info) + list(g.output):
            tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
            if tt is None:
                continue
            dims = None
            if tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            out[prefix + vi.name] = (tt.elem_type, dims)
    return out


def ours(dump, paths):
    res, cur = {}, None
    text = subprocess.run([dump] + paths, capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] == "#model":
            cur = res.setdefault(f[1], {})
        elif f[0] == "#error":
            cur = None
        elif cur is not None:
            dims = None
            if f[2] == "scalar":
                dims = []
            elif f[2] != "?":
                dims = [None if d.startswith("?") else int(d) for d in f[2].split(",")]
            cur[f[0]] = (int(f[1]), dims)
    return res


def main():
    dump, node_dir, models_dir = sys.argv[1:4]
    min_compared = int(sys.argv[sys.argv.index("--min-compared") + 1]) if "--min-compared" in sys.argv else 0
    paths = sorted(glob.glob(os.path.join(node_dir, "*", "model.onnx"))) + sorted(
        glob.glob(os.path.join(models_dir, "*.onnx")))
    # --extra DIR (repeatable): the models of more folders (*.onnx, and */model.onnx for node-test style folders)
    for i, a in enumerate(sys.argv):
        if a == "--extra" and i + 1 < len(sys.argv):
            d = sys.argv[i + 1]
            paths += sorted(glob.glob(os.path.join(d, "*.onnx")) + glob.glob(os.path.join(d, "*", "model.onnx")))
    subgraph_values = 0
    mine = {}
    for i in range(0, len(paths), 200):
        mine.update(ours(dump, paths[i:i + 200]))
    c = dict(values=0, type_cmp=0, type_ok=0, shape_cmp=0, shape_ok=0, only_onnx=0, only_ours=0)
    bad = []
    for p in paths:
        ref = onnx_types(p)
        got = mine.get(p)
        if ref is None or got is None:
            continue
        for name, (et, dims) in got.items():
            if name not in ref:
                continue
            c["values"] += 1
            subgraph_values += bool(SUBGRAPH_KEY.match(name))
            ret, rdims = ref[name]
            if et and ret:
                c["type_cmp"] += 1
                if et == ret:
                    c["type_ok"] += 1
                else:
                    bad.append(f"{p}: {name}: type {et} vs onnx {ret}")
            if dims is not None and rdims is not None:
                c["shape_cmp"] += 1
                if len(dims) == len(rdims) and all(a is None or b is None or a == b for a, b in zip(dims, rdims)):
                    c["shape_ok"] += 1
                else:
                    bad.append(f"{p}: {name}: shape {dims} vs onnx {rdims}")
            elif rdims is not None:
                c["only_onnx"] += 1
            elif dims is not None:
                c["only_ours"] += 1
    print(f"models {len(paths)}; values compared {c['values']} ({subgraph_values} of them in subgraphs)")
    print(f"elem type: {c['type_ok']}/{c['type_cmp']} agree")
    print(f"shape: {c['shape_ok']}/{c['shape_cmp']} agree; shape only from onnx {c['only_onnx']}, only from onnxc {c['only_ours']}")
    for b in bad[:60]:
        print("DISAGREE", b)
    if bad:
        print(f"{len(bad)} disagreements")
        return 1
    if c["shape_cmp"] < min_compared:
        print(f"only {c['shape_cmp']} shapes compared, expected at least {min_compared}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
