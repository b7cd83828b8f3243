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
    assert not first.flags.writeable and not first.flags.owndata
    with pytest.raises(ValueError):
        first[0, 0, 0, 0] = 1.0
    # same shapes: the next run writes the same memory (documented: copy what you keep)
    again = s.run({"input": x * 2})["cls_logits"]
    assert np.shares_memory(first, again)
    # another shape while `first` is alive: a fresh plan; `first` still shows the second run's values
    shown = first.copy()
    big = s.run({"input": np.concatenate([x, x])})["cls_logits"]
    assert big.shape == (2, 15, 32, 32)
    np.testing.assert_array_equal(first, shown)
    np.testing.assert_array_equal(big[0], big[1])
    # copies are the caller's
    c = s.run({"input": x}, copy=True)["cls_logits"]
    assert c.flags.writeable and c.flags.owndata
    np.testing.assert_array_equal(c, kept)
    # views outlive the session
    v = s.run({"input": x})["cls_logits"]
    del s
    import gc
    gc.collect()
    np.testing.assert_array_equal(v, kept)


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
    m = onnxc.load(repo / "models/detector_small.onnx")
    x = detector_input(repo)
    s = onnxc.Session(m, threads=1)
    want = s.run({"input": x}, copy=True)
    got, errors = [], []

    def work():
        try:
            for _ in range(5):
                got.append(s.run({"input": x}, copy=True))
        except Exception as e:
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors and len(got) == 10
    for r in got:
        np.testing.assert_array_equal(r["cls_logits"], want["cls_logits"])


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
