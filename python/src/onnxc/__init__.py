"""onnxc for Python: load, rewrite (passes), compare and run ONNX models on the CPU.

A thin binding of the C library's public API (include/onnxc/onnxc.h) through cffi: every call goes to the C
library, which releases the GIL while it works (cffi drops the GIL around every C call), and every failure is an
onnxc.Error carrying the library's message.

    import onnxc
    m = onnxc.load("model.onnx")                   # a path, bytes, or an onnx.ModelProto
    opt, report = onnxc.optimize(m)                 # the default pipeline; the input model is not changed
    opt.save("model.opt.onnx")
    out = onnxc.Session(opt, threads=2).run({"input": x})   # {output name: ndarray}
    onnxc.compare(m, opt, inputs={"input": x})["outputs"][0]["nmse"]
"""
import json as _json
import os as _os

import numpy as _np

from ._onnxc import ffi as _ffi, lib as _lib

__all__ = ["Error", "Model", "Session", "load", "optimize", "swap_norm", "compare", "option_names", "version"]

version = _ffi.string(_lib.onnxc_py_version()).decode()  # the C library's ONNXC_VERSION
__version__ = version


class Error(Exception):
    """A failure of the C library: str(e) is its message, e.status the status name ("io", "parse", "invalid",
    "unsupported", "nomem", "arg", "runtime")."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.code = None


def _raise(st, what=None):
    name = _ffi.string(_lib.onnxc_status_name(st)).decode()
    msg = _ffi.string(_lib.onnxc_last_error()).decode("utf-8", "replace")
    if not msg:
        msg = "%s failed (%s)" % (what or "onnxc", name)
    e = Error(name, msg)
    e.code = int(st)
    raise e


def _check(st, what=None):
    if st != _lib.ONNXC_OK:
        _raise(st, what)


def _take_string(pp):
    """A malloc'd char* handed over by the library, as str; frees it."""
    try:
        return _ffi.string(pp[0]).decode("utf-8")
    finally:
        _lib.onnxc_free(pp[0])


# ---- dtypes ----

_NP_OF = {
    _lib.ONNXC_FLOAT: _np.dtype(_np.float32), _lib.ONNXC_DOUBLE: _np.dtype(_np.float64),
    _lib.ONNXC_FLOAT16: _np.dtype(_np.float16),
    _lib.ONNXC_INT8: _np.dtype(_np.int8), _lib.ONNXC_UINT8: _np.dtype(_np.uint8),
    _lib.ONNXC_INT16: _np.dtype(_np.int16), _lib.ONNXC_UINT16: _np.dtype(_np.uint16),
    _lib.ONNXC_INT32: _np.dtype(_np.int32), _lib.ONNXC_UINT32: _np.dtype(_np.uint32),
    _lib.ONNXC_INT64: _np.dtype(_np.int64), _lib.ONNXC_UINT64: _np.dtype(_np.uint64),
    _lib.ONNXC_BOOL: _np.dtype(_np.bool_),
    _lib.ONNXC_COMPLEX64: _np.dtype(_np.complex64), _lib.ONNXC_COMPLEX128: _np.dtype(_np.complex128),
}
_ONNX_OF = {v: k for k, v in _NP_OF.items()}


def _dtype_name(code):
    return _ffi.string(_lib.onnxc_dtype_name(code)).decode()


def _io_dict(info):
    shape = None
    if info.rank >= 0:
        shape = []
        for d in range(info.rank):
            if info.dims[d] >= 0:
                shape.append(int(info.dims[d]))
            else:
                p = info.dim_params[d]
                shape.append(_ffi.string(p).decode() if p != _ffi.NULL else None)
    dt = _NP_OF.get(info.dtype)
    return {"name": _ffi.string(info.name).decode(), "dtype": _dtype_name(info.dtype),
            "numpy_dtype": dt, "shape": shape}


# ---- models ----

class Model:
    """A loaded ONNX model (the library's IR). Functions of this module never change a Model: optimize and
    swap_norm return new ones, so one Model may be shared by several Sessions and threads. Pickles as its
    serialized bytes (for sending to Dask workers)."""

    def __init__(self, _ptr):
        self._ptr = _ffi.gc(_ptr, _lib.onnxc_model_free)

    def save(self, path, external_data=False, external_min_bytes=0, overwrite_input=False):
        """Write the model as ONNX to path (a temporary file, then renamed). external_data moves tensors of at
        least external_min_bytes (0: 1024) to '<path>.data'."""
        o = _ffi.new("onnxc_save_options *")
        o.external_data = 1 if external_data else 0
        o.external_min_bytes = int(external_min_bytes)
        o.allow_overwrite_input = 1 if overwrite_input else 0
        _check(_lib.onnxc_model_save(self._ptr, _os.fsencode(_os.fspath(path)), o), "save")

    def to_bytes(self):
        """The model serialized as ONNX protobuf bytes (tensors inline)."""
        data = _ffi.new("void **")
        n = _ffi.new("size_t *")
        _check(_lib.onnxc_model_serialize(self._ptr, data, n), "serialize")
        try:
            return bytes(_ffi.buffer(data[0], n[0]))
        finally:
            _lib.onnxc_free(data[0])

    def info(self):
        """The summary of `onnxc info --json` as a dict (versions, inputs/outputs, op histogram, parameters,
        BatchNormalization counts)."""
        pp = _ffi.new("char **")
        _check(_lib.onnxc_model_info_json(self._ptr, pp), "info")
        return _json.loads(_take_string(pp))

    @property
    def inputs(self):
        """Real graph inputs: [{"name", "dtype", "numpy_dtype", "shape"}], symbolic dims by name (None: unknown)."""
        info = _ffi.new("onnxc_io_info *")
        res = []
        for i in range(_lib.onnxc_model_num_inputs(self._ptr)):
            _check(_lib.onnxc_model_input_info(self._ptr, i, info))
            res.append(_io_dict(info))
        return res

    @property
    def outputs(self):
        """Graph outputs, as inputs."""
        info = _ffi.new("onnxc_io_info *")
        res = []
        for i in range(_lib.onnxc_model_num_outputs(self._ptr)):
            _check(_lib.onnxc_model_output_info(self._ptr, i, info))
            res.append(_io_dict(info))
        return res

    def copy(self):
        """An independent copy."""
        return load(self.to_bytes())

    def __reduce__(self):
        return (load, (self.to_bytes(),))


def load(source):
    """Load a model from a file path, from bytes (a serialized ModelProto), or from an onnx.ModelProto (anything
    with SerializeToString). A Model is returned as it is."""
    if isinstance(source, Model):
        return source
    out = _ffi.new("onnxc_model **")
    if isinstance(source, (str, bytes, bytearray, memoryview)) or hasattr(source, "__fspath__") \
            or hasattr(source, "SerializeToString"):
        pass
    else:
        raise TypeError("onnxc.load: expected a path, bytes or an onnx.ModelProto, not %s" % type(source).__name__)
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        _check(_lib.onnxc_model_load(_os.fsencode(_os.fspath(source)), out), "load")
        return Model(out[0])
    name = b"<bytes>"
    if hasattr(source, "SerializeToString"):
        source = source.SerializeToString()
        name = b"<onnx.ModelProto>"
    buf = _ffi.from_buffer(source)
    _check(_lib.onnxc_model_load_buffer(buf, len(buf), _ffi.NULL, name, out), "load")
    return Model(out[0])


# ---- passes ----

def option_names():
    """Every option onnxc.optimize accepts, by its library name ("passes", "swap-norm.groups", ...)."""
    names, i = [], 0
    while True:
        p = _lib.onnxc_optimize_option_name(i)
        if p == _ffi.NULL:
            return names
        names.append(_ffi.string(p).decode())
        i += 1


def _kwarg_table():
    return {n.replace("-", "_").replace(".", "_"): n for n in option_names()}


def _option_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def optimize(model, passes=None, options=None, **pass_options):
    """Run passes over a copy of model; returns (new model, report dict) -- the report is what
    `onnxc optimize --json` prints. passes: a list or comma-separated names (None: the default pipeline).
    Options by the library's name in options={"swap-norm.groups": 16}, or as keywords with '-' and '.' written
    '_' (swap_norm_groups=16, fold_bn_mul_add=True, stop_after="fold-bn"). A bad name or value raises
    onnxc.Error with the library's message (status "arg")."""
    m = load(model)
    settings = []
    if passes is not None:
        settings.append(("passes", _option_text(passes)))
    table = None
    for k, v in pass_options.items():
        if table is None:
            table = _kwarg_table()
        settings.append((table.get(k, k.replace("_", "-")), _option_text(v)))
    for k, v in (options or {}).items():
        settings.append((k, _option_text(v)))
    return _run_optimize(m, settings)


def _run_optimize(m, settings):
    po = _ffi.new("onnxc_optimize_options **")
    _check(_lib.onnxc_optimize_options_create(po))
    opts = _ffi.gc(po[0], _lib.onnxc_optimize_options_free)
    for name, value in settings:
        _check(_lib.onnxc_optimize_set(opts, name.encode(), value.encode()), "optimize option " + name)
    copy = m.copy()
    pr = _ffi.new("onnxc_report **")
    st = _lib.onnxc_optimize(copy._ptr, opts, pr)
    rep = _ffi.gc(pr[0], _lib.onnxc_report_free) if pr[0] != _ffi.NULL else None
    _check(st, "optimize")
    report = {}
    if rep is not None:
        pp = _ffi.new("char **")
        _check(_lib.onnxc_report_json(rep, pp), "report")
        report = _json.loads(_take_string(pp))
    return copy, report


def swap_norm(model, to="group", groups=None, only=None, exclude=None, form=None, strict=None, options=None,
              calibrate=None, threads=0, report_html=None, calibrate_head=True, calibrate_fit="bn",
              **pass_options):
    """The swap-norm pass alone (like `onnxc swap-norm`): BatchNormalization replaced by group / instance /
    layer normalization. Returns (new model, report dict). None leaves an option at its default; more
    swap-norm options as keywords (swap_norm_NAME=...) or options={...} as in optimize.

    calibrate= (like --calibrate): calibration samples as NumPy arrays -- a list of {input name: ndarray}, one
    dict per sample, or for a single-input model a list of arrays or one array whose first axis runs over the
    samples (each arr[i] has the input's declared shape). Each swapped layer's scale and bias are then fitted
    to reproduce the original BatchNormalization's output (onnxc_swap_norm_calibrate, on `threads` threads,
    outside the GIL) and report["calibration"] is what `--json` prints under "calibration" (per-layer
    residuals before/after, drift of every output); report_html=PATH also writes the --report page. Nothing
    is calibrated when no BN was swapped (report["calibration"] is then None). calibrate_head=False is
    --calibrate-head off; calibrate_fit="act" is --calibrate-fit act (each layer fitted through the Relu,
    LeakyRelu or Clip that alone reads it)."""
    fits = {"bn": _lib.ONNXC_CALIB_FIT_BN, "act": _lib.ONNXC_CALIB_FIT_ACT}
    if calibrate_fit not in fits:
        raise ValueError("swap_norm: calibrate_fit is 'bn' or 'act', not %r" % (calibrate_fit,))
    settings = [("passes", "swap-norm"), ("swap-norm.to", str(to))]
    for name, v in (("groups", groups), ("only", only), ("exclude", exclude), ("form", form), ("strict", strict)):
        if v is not None:
            settings.append(("swap-norm." + name, _option_text(v)))
    table = _kwarg_table() if pass_options else {}
    for k, v in pass_options.items():
        settings.append((table.get(k, k.replace("_", "-")), _option_text(v)))
    for k, v in (options or {}).items():
        settings.append((k, _option_text(v)))
    if calibrate is None and report_html is not None:
        raise TypeError("swap_norm: report_html shows a calibration: give calibrate=")
    m = load(model)
    swapped, report = _run_optimize(m, settings)
    if calibrate is None:
        return swapped, report
    report["calibration"] = None
    if not report.get("changes"):
        return swapped, report
    samples = _calibration_samples(m, calibrate)
    names = [io["name"] for io in m.inputs]
    feeds = [_Feed(smp, "swap_norm calibration sample %d" % k) for k, smp in enumerate(samples)]
    ptrs = _ffi.new("const onnxc_tensor *[]", max(len(feeds) * len(names), 1))
    for k, f in enumerate(feeds):
        for i in range(len(names)):
            ptrs[k * len(names) + i] = f.ptrs[i]
    c_names = [_ffi.new("char[]", n.encode()) for n in names]
    names_p = _ffi.new("const char *[]", c_names or [_ffi.NULL])
    o = _ffi.new("onnxc_calibrate_options *")
    o.threads = int(threads)
    o.keep_head = 0 if calibrate_head else 1
    o.objective = fits[calibrate_fit]
    pc = _ffi.new("onnxc_calibration **")
    _check(_lib.onnxc_swap_norm_calibrate(m._ptr, swapped._ptr, len(feeds), len(names), names_p, ptrs, o, pc),
           "swap_norm calibration")
    cal = _ffi.gc(pc[0], _lib.onnxc_calibration_free)
    pp = _ffi.new("char **")
    _check(_lib.onnxc_calibration_json(cal, pp), "calibration")
    report["calibration"] = _json.loads(_take_string(pp))
    if report_html is not None:
        _check(_lib.onnxc_calibration_write_html(cal, _label(model, b"original"), b"swapped",
                                                 _os.fsencode(_os.fspath(report_html))), "report_html")
    return swapped, report


def _label(model, default):
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        return _os.fsencode(_os.fspath(model))
    return default


def _calibration_samples(m, calibrate):
    """A list of {name: ndarray}, one per sample, in the model's input order."""
    names = [io["name"] for io in m.inputs]
    if isinstance(calibrate, _np.ndarray) or not isinstance(calibrate, (list, tuple)):
        calibrate = list(_np.asarray(calibrate)) if isinstance(calibrate, _np.ndarray) else list(calibrate)
    if not calibrate:
        raise ValueError("swap_norm: calibrate= holds no sample")
    res = []
    for k, smp in enumerate(calibrate):
        if not isinstance(smp, dict):
            if len(names) != 1:
                raise TypeError("swap_norm: the model has %d inputs (%s): give each calibration sample as a dict "
                                "{name: ndarray}" % (len(names), ", ".join(names)))
            smp = {names[0]: smp}
        missing = [n for n in names if n not in smp]
        extra = [n for n in smp if n not in names]
        if missing or extra:
            raise ValueError("swap_norm: calibration sample %d: %s (the model's inputs: %s)" % (
                k, "; ".join(filter(None, ["no input '%s'" % "', '".join(missing) if missing else "",
                                           "no model input '%s'" % "', '".join(extra) if extra else ""])),
                ", ".join(names)))
        res.append({n: smp[n] for n in names})
    return res


# ---- running ----

class _Feed:
    """Input tensors for one C call: onnxc_tensor structs whose data borrow contiguous NumPy arrays."""

    def __init__(self, inputs, what):
        if not isinstance(inputs, dict):
            raise TypeError("%s: inputs must be a dict {name: ndarray}, not %s" % (what, type(inputs).__name__))
        n = len(inputs)
        self.arrays = []
        self.names_c = [_ffi.new("char[]", str(k).encode()) for k in inputs]
        self.names = _ffi.new("const char *[]", max(n, 1))
        self.tensors = _ffi.new("onnxc_tensor[]", max(n, 1))
        self.ptrs = _ffi.new("const onnxc_tensor *[]", max(n, 1))
        self.bufs = []
        for i, (k, v) in enumerate(inputs.items()):
            a = _np.asarray(v)
            if not a.flags.c_contiguous:  # (np.ascontiguousarray alone would make a 0-d array 1-d)
                a = _np.ascontiguousarray(a)
            code = _ONNX_OF.get(a.dtype.newbyteorder("=") if a.dtype.byteorder == ">" else a.dtype)
            if code is None:
                raise TypeError("%s: input '%s' has NumPy dtype %s, which onnxc cannot take" % (what, k, a.dtype))
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("="))
            if a.ndim > _lib.ONNXC_MAX_RANK:
                raise ValueError("%s: input '%s' has rank %d, more than onnxc handles" % (what, k, a.ndim))
            t = self.tensors[i]
            t.dtype = code
            t.rank = a.ndim
            for d, s in enumerate(a.shape):
                t.dims[d] = s
            buf = _ffi.from_buffer(a) if a.nbytes else _ffi.NULL
            self.bufs.append(buf)
            t.data = buf
            t.nbytes = a.nbytes
            t.owns_data = 0
            self.arrays.append(a)
            self.names[i] = self.names_c[i]
            self.ptrs[i] = _ffi.addressof(self.tensors, i)
        self.n = n


class _Owned:
    """Holds one caller-owned C tensor (from onnxc_session_run_outputs) and frees it with onnxc_tensor_free
    when the last NumPy view of its memory goes away; exposes that memory to NumPy (writeable: nobody else
    uses it)."""

    def __init__(self, t, shape, dtype):
        self.t = t  # cdata with a gc destructor
        self.__array_interface__ = {"data": (int(_ffi.cast("uintptr_t", t.data)), False), "shape": shape,
                                    "typestr": dtype.str, "version": 3}


def _output_array(t, copy):
    """The NumPy array of caller-owned output t (a gc'd onnxc_tensor *): a view of t's own memory (which the
    array then keeps alive) unless copy, or a converted copy for bfloat16 and strings."""
    if t.dtype in (_lib.ONNXC_SEQUENCE, _lib.ONNXC_OPTIONAL):
        # a sequence becomes a list, an optional its value or None; items are views into t, so copied
        n = int(_lib.onnxc_value_items(t))
        if n < 0:
            raise Error("runtime", "output holds a malformed sequence / optional value")
        items = []
        for i in range(n):
            item = _ffi.new("onnxc_tensor *")
            _check(_lib.onnxc_value_item(t, i, item))
            items.append(_output_array(item, True))
        if t.dtype == _lib.ONNXC_OPTIONAL:
            return items[0] if items else None
        return items
    shape = tuple(int(t.dims[d]) for d in range(t.rank))
    dt = _NP_OF.get(t.dtype)
    if t.dtype == _lib.ONNXC_BFLOAT16:
        raw = _np.frombuffer(_ffi.buffer(t.data, t.nbytes), dtype=_np.uint16).reshape(shape)
        return (raw.astype(_np.uint32) << 16).view(_np.float32)  # bfloat16 -> float32, exact
    if t.dtype == _lib.ONNXC_STRING:
        s = _ffi.cast("onnxc_string *", t.data)
        n = int(_np.prod(shape)) if shape else 1
        return _np.array([_ffi.unpack(s[i].data, s[i].len) for i in range(n)], dtype=object).reshape(shape)
    if dt is None:
        raise Error("unsupported", "output of element type %s has no NumPy dtype" % _dtype_name(t.dtype))
    nbytes = int(_np.prod(shape, dtype=_np.int64)) * dt.itemsize if shape else dt.itemsize
    if nbytes == 0 or t.data == _ffi.NULL:
        return _np.zeros(shape, dtype=dt)
    if nbytes > t.nbytes:
        raise Error("runtime", "output of shape %s holds %d bytes, not %d" % (shape, t.nbytes, nbytes))
    if copy:
        return _np.frombuffer(_ffi.buffer(t.data, nbytes), dtype=dt).reshape(shape).copy()
    return _np.asarray(_Owned(t, shape, dt))


class Session:
    """A model planned for running. run() returns {output name: ndarray}.

    One Session may be shared by any number of Python threads: each run() goes to
    onnxc_session_run_outputs outside the GIL, so runs from several threads compute at the same time (each on
    a run context of its own that the C session keeps for later runs; the `threads` workers are shared, so a
    run that finds them busy computes on its calling thread alone), with results bit-identical to a serial run.
    The outputs of a run belong to the caller: zero-copy, writeable NumPy arrays over the tensors the library
    handed over (freed when the last array using them goes), never touched by later runs. The Session keeps
    its model alive; a Model may be shared by several Sessions."""

    def __init__(self, model, threads=0):
        self._model = load(model)
        o = _ffi.new("onnxc_session_options *")
        o.threads = int(threads)
        out = _ffi.new("onnxc_session **")
        _check(_lib.onnxc_session_create(self._model._ptr, o, out), "session")
        self._ptr = _ffi.gc(out[0], _lib.onnxc_session_free)
        self._n_out = int(_lib.onnxc_session_num_outputs(self._ptr))
        self._names = [_ffi.string(_lib.onnxc_session_output_name(self._ptr, i)).decode()
                       for i in range(self._n_out)]

    @property
    def inputs(self):
        return self._model.inputs

    @property
    def outputs(self):
        return self._model.outputs

    @property
    def threads(self):
        return int(_lib.onnxc_session_threads(self._ptr))

    def run(self, inputs, copy=False):
        """Run on inputs {name: array-like}; every graph input must be given, with the model's element type
        (no implicit casts). Returns {output name: ndarray} in the model's output order: arrays over the
        library's output tensors (copy=True: arrays NumPy allocated, the library's freed at once)."""
        feed = _Feed(inputs, "Session.run")
        outs = _ffi.new("onnxc_tensor *[]", max(self._n_out, 1))
        # the GIL is released for the call (cffi); feed keeps the input arrays alive through it
        _check(_lib.onnxc_session_run_outputs(self._ptr, feed.n, feed.names, feed.ptrs, self._n_out, outs), "run")
        owned = [_ffi.gc(outs[i], _lib.onnxc_tensor_free) for i in range(self._n_out)]
        res = {}
        for name, t in zip(self._names, owned):
            res[name] = _output_array(t, copy)
        if copy:
            for t in owned:
                _ffi.release(t)
        return res


# ---- comparison ----

def _random_inputs(model, seed):
    rng = _np.random.default_rng(seed)
    res = {}
    for io in model.inputs:
        if io["numpy_dtype"] is None or io["shape"] is None:
            raise Error("arg", "compare: input '%s' (%s, shape %s): give it in inputs=" %
                        (io["name"], io["dtype"], io["shape"]))
        shape = [d if isinstance(d, int) else 1 for d in io["shape"]]
        dt = io["numpy_dtype"]
        if dt.kind == "f":
            res[io["name"]] = rng.standard_normal(shape).astype(dt)
        elif dt.kind == "b":
            res[io["name"]] = rng.integers(0, 2, shape).astype(dt)
        else:
            res[io["name"]] = rng.integers(0, 10, shape).astype(dt)
    return res


def compare(a, b=None, inputs=None, reference=None, atol=None, rtol=None, nmse=None, per_node=False, threads=0,
            seed=0, detections=None, iou=None, score_threshold=None):
    """Run model a (the reference) and b on the same inputs and return the metrics as a dict: what
    `onnxc compare --json` prints under "comparison" (per output: max_abs, max_rel, nmse, cosine, failing
    elements, NaN/Inf counts, top-1/top-5; "within_tolerance"; with per_node the shared values and the first
    divergence). inputs: a dict {name: ndarray} for one sample, or a list of them; None: one sample of
    NumPy-generated inputs (standard normal, symbolic dims 1, numpy.random.default_rng(seed)) -- not the CLI's
    generator. Tolerances default to the library's (ONNXC_COMPARE_ATOL/RTOL/NMSE).

    With reference= instead of b, model a is compared against saved outputs, as `onnxc compare MODEL
    --reference DIR`: a folder (one <output>.npy or .pb per output, e.g. PyTorch's) or a dict {output name:
    ndarray}, the outputs of the one sample inputs= (required) gives every input of. The result's "reference"
    is the folder, or "<arrays>" for a dict.

    Detection outputs (boxes [K,4] + scores [K] + labels [K], dets [K,5|6], NonMaxSuppression's selected_indices
    [K,3], and masks / keypoints [K,...] of the same K) are matched by label and box IoU instead of element by
    element: the result's "detections" lists each set (how it was grouped, detections in a and b, matched,
    unmatched_a / unmatched_b, label_changed, min_iou, max_box_diff, max_score_diff, extra[i]["max_abs"],
    within_tolerance), and those outputs carry "compared_as": "detections". detections: None finds the sets
    by name, else by shape; "none" compares every output element by element; a string "boxes=NAME,scores=NAME,
    labels=NAME[,masks=NAME]" (sets separated by ";"), or a dict {role: name} or a list of them, gives them.
    iou: the IoU a pair needs (default 0.5); score_threshold: the model's score threshold, so that a detection
    on one side only whose score is at it within the tolerance does not fail the set."""
    o = _ffi.new("onnxc_compare_options *")
    _lib.onnxc_compare_options_init(o)
    if atol is not None:
        o.atol = float(atol)
    if rtol is not None:
        o.rtol = float(rtol)
    if nmse is not None:
        o.nmse = float(nmse)
    o.per_node = 1 if per_node else 0
    o.threads = int(threads)
    if iou is not None:
        o.iou = float(iou)
    if score_threshold is not None:
        o.score_threshold = float(score_threshold)
    if detections is not None:
        if isinstance(detections, dict):
            detections = [detections]
        if not isinstance(detections, str):
            detections = ";".join(",".join("%s=%s" % kv for kv in d.items()) for d in detections)
        spec = _ffi.new("char[]", detections.encode())  # copied by onnxc_compare_create
        o.detections = spec
    pc = _ffi.new("onnxc_comparison **")
    if reference is not None:
        if b is not None:
            raise TypeError("compare: give a second model or reference=, not both")
        if not isinstance(inputs, dict):
            raise TypeError("compare: with reference=, inputs= must be the dict {name: ndarray} of the one sample "
                            "the reference outputs were computed from")
        mb = load(a)
        if isinstance(reference, dict):
            ref = _Feed(reference, "compare reference")
            _check(_lib.onnxc_compare_create_reference_tensors(mb._ptr, ref.n, ref.names, ref.ptrs, _ffi.NULL, o,
                                                               pc), "compare")
        else:
            _check(_lib.onnxc_compare_create_reference(mb._ptr, _os.fsencode(_os.fspath(reference)), o, pc),
                   "compare")
        ma = mb
    else:
        if b is None:
            raise TypeError("compare: give the model to compare with a (b), or reference=")
        ma, mb = load(a), load(b)
        _check(_lib.onnxc_compare_create(ma._ptr, mb._ptr, o, pc), "compare")
    c = _ffi.gc(pc[0], _lib.onnxc_compare_free)
    try:
        return _compare_samples(c, ma, inputs, seed)
    finally:
        _ffi.release(c)  # before the models it runs, which may go with this frame


def _compare_samples(c, ma, inputs, seed):
    if inputs is None:
        samples = [_random_inputs(ma, seed)]
    elif isinstance(inputs, dict):
        samples = [inputs]
    else:
        samples = list(inputs)
        if not samples:
            raise ValueError("compare: inputs is an empty list: no sample to compare")
    for s in samples:
        feed = _Feed(s, "compare")
        _check(_lib.onnxc_compare_run(c, feed.n, feed.names, feed.ptrs), "compare")
    pp = _ffi.new("char **")
    _check(_lib.onnxc_compare_json(c, pp), "compare")
    return _json.loads(_take_string(pp))
