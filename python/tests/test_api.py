# The Python API against the CLI (same model files, same inputs: equal results) and against PyTorch's outputs
# (models/expected), dtypes and shapes through Session.run, errors as exceptions, sessions on two threads.
import json
import pickle
import threading
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import pytest

import onnxc


def nmse(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(((got - want) ** 2).sum() / (want ** 2).sum())


def detector_input(repo):
    return np.load(repo / "models/expected/detector_small/input_0.npy")


def test_run_reproduces_pytorch(repo):
    for name, outs in (("detector_small", ["cls_logits", "box_regression"]), ("resnet_like", None)):
        d = repo / "models/expected" / name
        m = onnxc.load(repo / "models" / (name + ".onnx"))
        outs = outs or [o["name"] for o in m.outputs]
        got = onnxc.Session(m, threads=2).run({m.inputs[0]["name"]: np.load(d / "input_0.npy")})
        assert list(got) == outs
        for i, o in enumerate(outs):
            want = np.load(d / ("output_%d.npy" % i))
            assert got[o].shape == want.shape and got[o].dtype == want.dtype
            assert nmse(got[o], want) <= 1e-10


def test_run_equals_cli(repo, cli, tmp_path):
    x = detector_input(repo)
    np.save(tmp_path / "x.npy", x)
    model = repo / "models/detector_small.onnx"
    cli("run", model, "--input", "input=%s" % (tmp_path / "x.npy"), "--output-dir", tmp_path / "out")
    got = onnxc.Session(onnxc.load(model)).run({"input": x})
    for name, arr in got.items():
        want = np.load(tmp_path / "out" / (name + ".npy"))
        assert arr.dtype == want.dtype and arr.shape == want.shape
        np.testing.assert_array_equal(arr, want)


def test_info_equals_cli(repo, cli):
    path = str(repo / "models/swapnorm_small.onnx")
    assert onnxc.load(path).info() == json.loads(cli("info", path, "--json").stdout)


def test_optimize_equals_cli(repo, cli, tmp_path):
    src = repo / "models/detector_small.onnx"
    p = cli("optimize", src, "-o", tmp_path / "cli.onnx", "--json")
    m = onnxc.load(src)
    before = m.to_bytes()
    opt, report = onnxc.optimize(m)
    assert m.to_bytes() == before, "optimize changed its input model"
    opt.save(tmp_path / "py.onnx")
    assert (tmp_path / "py.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes()
    cli_report = json.loads(p.stdout)
    # the CLI adds what only it knows: the file it wrote (and with --verify the verification)
    assert cli_report.pop("output") == str(tmp_path / "cli.onnx")
    assert report == cli_report
    assert report["before"]["ops"]["BatchNormalization"] == 7 and "BatchNormalization" not in report["after"]["ops"]


def test_swap_norm_equals_cli(repo, cli, tmp_path):
    src = repo / "models/swapnorm_small.onnx"
    cli("swap-norm", src, "-o", tmp_path / "cli.onnx", "--to", "group", "--groups", 16)
    want = (tmp_path / "cli.onnx").read_bytes()
    m = onnxc.load(src)
    a, rep = onnxc.swap_norm(m, to="group", groups=16)
    b, _ = onnxc.optimize(m, passes=["swap-norm"], swap_norm_to="group", swap_norm_groups=16)
    c, _ = onnxc.optimize(m, passes="swap-norm", options={"swap-norm.to": "group", "swap-norm.groups": "16"})
    for got in (a, b, c):
        got.save(tmp_path / "py.onnx")
        assert (tmp_path / "py.onnx").read_bytes() == want
    assert rep["changes"] > 0


def test_compare_equals_cli(repo, cli, tmp_path):
    x = detector_input(repo)
    np.save(tmp_path / "x.npy", x)
    a = repo / "models/detector_small.onnx"
    cli("optimize", a, "-o", tmp_path / "b.onnx")
    want = json.loads(cli("compare", a, tmp_path / "b.onnx", "--input", "input=%s" % (tmp_path / "x.npy"),
                          "--json").stdout)["comparison"]
    got = onnxc.compare(onnxc.load(a), onnxc.load(tmp_path / "b.onnx"), inputs={"input": x})
    assert got == want
    assert got["within_tolerance"] is True and got["outputs"][0]["elements"] == 15 * 32 * 32


def identity_model(elem, rank, op="Identity"):
    dims = ["d%d" % i for i in range(rank)]
    x = helper.make_tensor_value_info("x", elem, dims)
    y = helper.make_tensor_value_info("y", elem, dims)
    inputs = ["x", "x"] if op == "Add" else ["x"]
    g = helper.make_graph([helper.make_node(op, inputs, ["y"])], "g", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
          np.int64, np.uint64, np.bool_]
SHAPES = [(), (0,), (7,), (2, 3), (1, 2, 3, 4, 2)]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_dtypes_and_shapes_round_trip(dt):
    elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)]
    rng = np.random.default_rng(1)
    for shape in SHAPES:
        s = onnxc.Session(onnxc.load(identity_model(elem, len(shape))))
        x = (rng.standard_normal(shape) * 50).astype(dt)
        y = s.run({"x": x})["y"]
        assert y.dtype == np.dtype(dt) and y.shape == shape
        np.testing.assert_array_equal(y, x)
        # a computed output, against NumPy's own x + x
        if dt is not np.bool_:
            y2 = onnxc.Session(onnxc.load(identity_model(elem, len(shape), "Add"))).run({"x": x})["y"]
            assert y2.dtype == np.dtype(dt) and y2.shape == shape
            np.testing.assert_array_equal(y2, x + x)


def test_non_contiguous_input_is_taken(repo):
    x = np.asfortranarray(detector_input(repo))
    m = onnxc.load(repo / "models/detector_small.onnx")
    a = onnxc.Session(m).run({"input": x})
    b = onnxc.Session(m).run({"input": np.ascontiguousarray(x)})
    np.testing.assert_array_equal(a["cls_logits"], b["cls_logits"])


def test_load_sources_agree(repo):
    path = repo / "models/detector_small.onnx"
    want = onnxc.load(path).to_bytes()
    assert onnxc.load(str(path)).to_bytes() == want
    assert onnxc.load(path.read_bytes()).to_bytes() == want
    assert onnxc.load(onnx.load(str(path))).to_bytes() == want
    assert pickle.loads(pickle.dumps(onnxc.load(path))).to_bytes() == want


def test_errors_are_exceptions_with_the_library_message(repo, tmp_path):
    with pytest.raises(onnxc.Error, match="not a valid ONNX model") as e:
        onnxc.load(b"\x08\x07\x12\xff not a model")
    assert e.value.status == "parse"
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes((repo / "models/detector_small.onnx").read_bytes()[:5000])
    with pytest.raises(onnxc.Error):
        onnxc.Session(onnxc.load(trunc))
    with pytest.raises(onnxc.Error, match="nonexistent.onnx") as e:
        onnxc.load(tmp_path / "nonexistent.onnx")
    assert e.value.status == "io"
    with pytest.raises(TypeError):
        onnxc.load(42)
    m = onnxc.load(repo / "models/detector_small.onnx")
    s = onnxc.Session(m)
    x = detector_input(repo)
    with pytest.raises(onnxc.Error, match="expected float, got double"):
        s.run({"input": x.astype(np.float64)})
    with pytest.raises(onnxc.Error, match="no input named 'nope'"):
        s.run({"input": x, "nope": x})
    with pytest.raises(onnxc.Error, match="did you mean 'swap-norm.groups'") as e:
        onnxc.optimize(m, swap_norm_groupz=4)
    assert e.value.status == "arg"
    with pytest.raises(onnxc.Error, match="swap-norm.groups"):
        onnxc.swap_norm(m, to="group", groups=0)
    # the session still runs after the failures
    assert s.run({"input": x})["cls_logits"].shape == (1, 15, 32, 32)


def test_output_views(repo):
    m = onnxc.load(repo / "models/detector_small.onnx")
    s = onnxc.Session(m)
    x = detector_input(repo)
    first = s.run({"input": x})["cls_logits"]
    kept = first.copy()
    # a zero-copy view of the tensor the library handed over: the caller's, writeable, not NumPy's allocation
    assert first.flags.writeable and not first.flags.owndata and first.base is not None
    # later runs (same shapes or not) never touch it
    again = s.run({"input": x * 2})["cls_logits"]
    assert not np.shares_memory(first, again)
    np.testing.assert_array_equal(first, kept)
    assert not np.array_equal(again, kept)
    big = s.run({"input": np.concatenate([x, x])})["cls_logits"]
    assert big.shape == (2, 15, 32, 32)
    np.testing.assert_array_equal(big[0], big[1])
    np.testing.assert_array_equal(big[0], kept[0])
    first[0, 0, 0, 0] = 1.0  # writing it changes nothing else
    np.testing.assert_array_equal(s.run({"input": x})["cls_logits"], kept)
    # copies are NumPy's
    c = s.run({"input": x}, copy=True)["cls_logits"]
    assert c.flags.writeable and c.flags.owndata
    np.testing.assert_array_equal(c, kept)
    # views outlive the session (and a slice keeps its tensor alive)
    v = s.run({"input": x})["cls_logits"][:, 3:]
    del s
    import gc
    gc.collect()
    np.testing.assert_array_equal(v, kept[:, 3:])


def test_two_sessions_on_two_threads(repo):
    m = onnxc.load(repo / "models/resnet_like.onnx")
    x = np.load(repo / "models/expected/resnet_like/input_0.npy")
    name = m.inputs[0]["name"]
    serial = onnxc.Session(m, threads=1).run({name: x}, copy=True)
    results, errors = [None, None], []
    runs = [0, 0]

    def work(k):
        try:
            s = onnxc.Session(m, threads=1)
            t_end = time.monotonic() + 1.0
            while time.monotonic() < t_end:
                results[k] = s.run({name: x}, copy=True)
                runs[k] += 1
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in ts:
        t.start()
    # while the C library runs (outside the GIL), this thread keeps counting
    count = 0
    while any(t.is_alive() for t in ts):
        count += 1
    for t in ts:
        t.join()
    assert not errors, errors
    assert min(runs) >= 1
    for r in results:
        for k, v in serial.items():
            np.testing.assert_array_equal(r[k], v)
    assert count > 10000, "the main thread barely ran: is the GIL held during runs?"


def test_one_session_shared_by_threads(repo):
    # one Session, four threads: runs go to onnxc_session_run_outputs outside the GIL, each with its own run
    # context; every result equals the serial one, with two input batch sizes in flight at once (re-plans)
    m = onnxc.load(repo / "models/detector_small.onnx")
    x = detector_input(repo)
    xs = [x, np.concatenate([x * 0.5, x])]
    s = onnxc.Session(m, threads=1)
    want = [onnxc.Session(m, threads=1).run({"input": v}) for v in xs]
    got, errors = [[] for _ in range(4)], []
    stop = time.monotonic() + 1.5

    def work(k):
        try:
            v = xs[k % 2]
            while time.monotonic() < stop or len(got[k]) < 3:
                got[k].append(s.run({"input": v}))
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    [t.start() for t in ts]
    count = 0
    while any(t.is_alive() for t in ts):
        count += 1
    [t.join() for t in ts]
    assert not errors, errors
    for k in range(4):
        assert len(got[k]) >= 3
        for r in got[k]:
            assert list(r) == list(want[k % 2])
            for name in r:
                np.testing.assert_array_equal(r[name], want[k % 2][name])
    # no two results share memory (each run's outputs are its caller's)
    firsts = [g[0]["cls_logits"] for g in got]
    assert not any(np.shares_memory(firsts[i], firsts[j]) for i in range(4) for j in range(i))
    assert count > 10000, "the main thread barely ran: is the GIL held during runs?"


def test_compare_reference_equals_cli(repo, cli, tmp_path):
    # PyTorch's saved outputs (models/expected) as the reference: a folder, and the same arrays as a dict
    d = repo / "models/expected/detector_small"
    model = repo / "models/detector_small.onnx"
    m = onnxc.load(model)
    names = [o["name"] for o in m.outputs]
    ref = tmp_path / "ref"
    ref.mkdir()
    arrays = {}
    for i, name in enumerate(names):
        arrays[name] = np.load(d / ("output_%d.npy" % i))
        np.save(ref / (name + ".npy"), arrays[name])
    x = np.load(d / "input_0.npy")
    np.save(tmp_path / "x.npy", x)
    p = cli("compare", model, "--reference", ref, "--input", "input=%s" % (tmp_path / "x.npy"), "--json")
    want = json.loads(p.stdout)
    assert want["reference"] is True
    want = want["comparison"]
    got = onnxc.compare(m, reference=ref, inputs={"input": x})
    assert got == want
    assert got["within_tolerance"] is True and [o["name"] for o in got["outputs"]] == names
    # in memory: the same figures; only the reference's label differs
    mem = onnxc.compare(m, reference=arrays, inputs={"input": x})
    assert mem.pop("reference") == "<arrays>" and want.pop("reference") == str(ref)
    for o in mem["outputs"] + want["outputs"]:
        o.pop("name_a", None)
    assert mem == want
    # a wrong reference fails the comparison, as the CLI's does
    bad = dict(arrays)
    bad[names[0]] = arrays[names[0]] + 1.0
    np.save(ref / (names[0] + ".npy"), bad[names[0]])
    p = cli("compare", model, "--reference", ref, "--input", "input=%s" % (tmp_path / "x.npy"), "--json", ok=(1,))
    assert onnxc.compare(m, reference=ref, inputs={"input": x}) == json.loads(p.stdout)["comparison"]
    got = onnxc.compare(m, reference=bad, inputs={"input": x})
    assert got["within_tolerance"] is False and got["outputs"][0]["within_tolerance"] is False
    # errors: an output with no reference, inputs missing, both b and reference
    with pytest.raises(onnxc.Error, match="no reference for output '%s'" % names[1]):
        onnxc.compare(m, reference={names[0]: arrays[names[0]]}, inputs={"input": x})
    with pytest.raises(TypeError, match="inputs"):
        onnxc.compare(m, reference=arrays)
    with pytest.raises(TypeError):
        onnxc.compare(m, m, reference=arrays, inputs={"input": x})
    with pytest.raises(onnxc.Error, match="nonexistent"):
        onnxc.compare(m, reference=tmp_path / "nonexistent", inputs={"input": x})


def test_swap_norm_calibrated_equals_cli(repo, cli, tmp_path):
    # --calibrate DIR (64 .npy samples) against calibrate= with the same arrays: the same file, the same figures
    model = repo / "models/shapes_cnn.onnx"
    calib = repo / "models/shapes_data/calib"
    files = sorted(calib.glob("*.npy"))
    p = cli("swap-norm", model, "-o", tmp_path / "cli.onnx", "--calibrate", calib, "--threads", "1", "--json",
            "--report", tmp_path / "cli.html")
    want = json.loads(p.stdout)
    arrays = [np.load(f) for f in files]
    for calibrate in (arrays, [{"input": a} for a in arrays], np.stack(arrays)):
        if isinstance(calibrate, np.ndarray):  # first axis over the samples: each arr[i] has the input's shape
            assert calibrate.shape[1:] == arrays[0].shape
        got, rep = onnxc.swap_norm(model, calibrate=calibrate, threads=1, report_html=tmp_path / "py.html")
        got.save(tmp_path / "py.onnx")
        assert (tmp_path / "py.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes()
        cal = rep.pop("calibration")
        assert rep == want["swap"]
        for c in (cal, want["calibration"]):
            c.pop("seconds", None)
        assert cal == want["calibration"] and len(cal["layers"]) == 3
        assert all(L["residual_after"] < L["residual_before"] for L in cal["layers"])
    html = (tmp_path / "py.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count('class="point after') == 3
    # uncalibrated: no "calibration" key, as without --calibrate
    assert "calibration" not in onnxc.swap_norm(model)[1]
    with pytest.raises(ValueError, match="no input 'input'"):
        onnxc.swap_norm(model, calibrate=[{"image": arrays[0]}])
    with pytest.raises(onnxc.Error, match="sample 0"):
        onnxc.swap_norm(model, calibrate=[arrays[0].astype(np.float64)])
    with pytest.raises(TypeError, match="calibrate"):
        onnxc.swap_norm(model, report_html=tmp_path / "x.html")
    # --calibrate-fit act --calibrate-head off through the keywords: the same file as the CLI's
    cli("swap-norm", model, "-o", tmp_path / "act.onnx", "--calibrate", calib, "--threads", "1",
        "--calibrate-fit", "act", "--calibrate-head", "off")
    got, rep = onnxc.swap_norm(model, calibrate=arrays, threads=1, calibrate_fit="act", calibrate_head=False)
    got.save(tmp_path / "pyact.onnx")
    assert (tmp_path / "pyact.onnx").read_bytes() == (tmp_path / "act.onnx").read_bytes()
    assert [L["objective"] for L in rep["calibration"]["layers"]] == ["Relu"] * 3
    assert rep["calibration"]["heads"] == []
    with pytest.raises(ValueError, match="calibrate_fit"):
        onnxc.swap_norm(model, calibrate=arrays, calibrate_fit="relu")


def test_quantized_int8_uint8_io(repo):
    # a QOperator model equals ONNX Runtime's saved output bit for bit (models/author_quant.py); int8 / uint8
    # tensors go in and come out as NumPy int8 / uint8, values checked against the spec's formulas
    m = onnxc.load(repo / "models/quant/quant_qlinear.onnx")
    got = onnxc.Session(m, threads=2).run({"input": np.load(repo / "models/quant/expected/input.npy")})
    assert np.array_equal(got["logits"], np.load(repo / "models/quant/expected/quant_qlinear/logits.npy"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    q = helper.make_tensor_value_info("q", TensorProto.INT8, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                           helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])], "qdq", [x], [q, y],
                          initializer=[helper.make_tensor("s", TensorProto.FLOAT, [], [0.5]),
                                       helper.make_tensor("z", TensorProto.INT8, [], [-3])])
    mq = onnxc.load(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))
    xv = np.array([[0.25, 0.75, -1.25], [100.0, -100.0, 1.0]], np.float32)
    out = onnxc.Session(mq).run({"x": xv})
    want = np.clip(np.rint(xv / np.float32(0.5)) - 3, -128, 127).astype(np.int8)
    assert out["q"].dtype == np.int8 and np.array_equal(out["q"], want)
    assert np.array_equal(out["y"], (want.astype(np.float32) + 3) * np.float32(0.5))
    mdq = onnxc.load(repo / "models/quant/quant_dynamic.onnx")
    assert [i["numpy_dtype"] for i in mdq.inputs] == [np.dtype(np.float32)]


def _nonzero_model():
    # y = NonZero(x > 0): its size depends on the data; s = ReduceSum(x) is planned as usual
    g = helper.make_graph(
        [helper.make_node("Greater", ["x", "zero"], ["m"]), helper.make_node("NonZero", ["m"], ["y"]),
         helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0)], "nz",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [2, "n"]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
        initializer=[numpy_helper.from_array(np.array(0, np.float32), "zero")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_data_dependent_outputs_are_copies():
    """An output whose size depends on the data may move at the next run: it comes back as a copy that later
    runs (smaller, empty, larger) never change; numpy's nonzero is the reference."""
    sess = onnxc.Session(_nonzero_model(), threads=1)
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((2, 5)).astype(np.float32) for _ in range(2)]
    xs.insert(1, -np.ones((2, 5), np.float32))  # nothing > 0
    xs.append(np.ones((2, 5), np.float32))      # everything
    kept = []
    for x in xs:
        out = sess.run({"x": x})
        assert out["y"].shape == (2, int((x > 0).sum()))
        np.testing.assert_array_equal(out["y"], np.array(np.nonzero(x > 0)))
        kept.append((x, out["y"]))
    for x, y in kept:  # earlier results unchanged by the later runs
        np.testing.assert_array_equal(y, np.array(np.nonzero(x > 0)))


def detection_model(boxes, scores, labels):
    """boxes/scores/labels constants; the rows whose score > thr (input [1]) are the outputs (K from the data)."""
    inits = [numpy_helper.from_array(np.asarray(boxes, np.float32), "cb"),
             numpy_helper.from_array(np.asarray(scores, np.float32), "cs"),
             numpy_helper.from_array(np.asarray(labels, np.int64), "cl")]
    nodes = [helper.make_node("Greater", ["cs", "thr"], ["keep"])]
    outs = []
    for c, n, et, shape in (("cb", "boxes", TensorProto.FLOAT, ["K", 4]), ("cs", "scores", TensorProto.FLOAT, ["K"]),
                            ("cl", "labels", TensorProto.INT64, ["K"])):
        nodes.append(helper.make_node("Compress", [c, "keep"], [n], axis=0))
        outs.append(helper.make_tensor_value_info(n, et, shape))
    g = helper.make_graph(nodes, "det", [helper.make_tensor_value_info("thr", TensorProto.FLOAT, [1])], outs,
                          initializer=inits)
    return onnxc.load(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]))


def test_compare_detections(cli, tmp_path):
    boxes = [[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]]
    a = detection_model(boxes, [0.9, 0.8, 0.8], [1, 2, 2])
    # the two tied boxes swapped, and one more box above the threshold
    b = detection_model([boxes[0], boxes[2], boxes[1], [60, 60, 70, 70]], [0.9, 0.8, 0.8, 0.5], [1, 2, 2, 1])
    thr = {"thr": np.array([0.3], np.float32)}
    got = onnxc.compare(a, b, inputs=thr)
    d = got["detections"][0]
    assert (d["grouped_by"], d["matched"], d["unmatched_a"], d["unmatched_b"], d["reordered"]) == ("name", 3, 0, 1, 2)
    assert got["within_tolerance"] is False
    assert {o["name"]: o["compared_as"] for o in got["outputs"]} == dict.fromkeys(["boxes", "scores", "labels"],
                                                                                  "detections")
    # the same as the CLI's JSON
    a.save(tmp_path / "a.onnx")
    b.save(tmp_path / "b.onnx")
    np.save(tmp_path / "thr.npy", thr["thr"])
    want = json.loads(cli("compare", tmp_path / "a.onnx", tmp_path / "b.onnx", "--input",
                          "thr=%s" % (tmp_path / "thr.npy"), "--json", ok=(1,)).stdout)["comparison"]
    assert got == want
    # a dict names the set; the threshold forgives nothing here (0.5 is far from 0.3)
    got = onnxc.compare(a, b, inputs=thr, detections={"boxes": "boxes", "scores": "scores"}, iou=0.7,
                        score_threshold=0.3)
    d = got["detections"][0]
    assert (d["grouped_by"], d["labels"], d["iou_threshold"], d["at_threshold_b"]) == ("option", None, 0.7, 0)
    assert onnxc.compare(a, b, inputs=thr, detections="none")["detections"] == []
    with pytest.raises(onnxc.Error, match="not an output"):
        onnxc.compare(a, b, inputs=thr, detections="boxes=nope")


def test_sequence_and_optional_outputs():
    """A sequence output comes back as a list of arrays (SplitToSequence of x, numpy's split the reference), an
    optional as its value or None (OptionalHasElement decides in an If, as exporters write it)."""
    x_vi = helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 3])
    seq = helper.make_tensor_sequence_value_info("parts", TensorProto.FLOAT, None)
    opt = helper.make_value_info("maybe", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [5, 3])))
    empty = helper.make_value_info("none", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, None)))
    split = numpy_helper.from_array(np.array([2, 3], np.int64), "split")
    g = helper.make_graph([helper.make_node("SplitToSequence", ["x", "split"], ["parts"], axis=0),
                           helper.make_node("Optional", ["x"], ["maybe"]),
                           helper.make_node("Optional", [], ["none"], type=helper.make_tensor_type_proto(
                               TensorProto.FLOAT, None))],
                          "seq", [x_vi], [seq, opt, empty], initializer=[split])
    m = onnxc.load(helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)]))
    x = np.arange(15, dtype=np.float32).reshape(5, 3)
    out = onnxc.Session(m, threads=1).run({"x": x})
    assert isinstance(out["parts"], list) and len(out["parts"]) == 2
    for got, want in zip(out["parts"], np.split(x, [2], axis=0)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(out["maybe"], x)
    assert out["none"] is None
