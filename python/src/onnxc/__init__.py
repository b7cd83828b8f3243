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
import threading as _threading
import weakref as _weakref

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
              **pass_options):
    """The swap-norm pass alone (like `onnxc swap-norm`): BatchNormalization replaced by group / instance /
    layer normalization. Returns (new model, report dict). None leaves an option at its default; more
    swap-norm options as keywords (swap_norm_NAME=...) or options={...} as in optimize."""
    settings = [("passes", "swap-norm"), ("swap-norm.to", str(to))]
    for name, v in (("groups", groups), ("only", only), ("exclude", exclude), ("form", form), ("strict", strict)):
        if v is not None:
            settings.append(("swap-norm." + name, _option_text(v)))
    table = _kwarg_table() if pass_options else {}
    for k, v in pass_options.items():
        settings.append((table.get(k, k.replace("_", "-")), _option_text(v)))
    for k, v in (options or {}).items():
        settings.append((k, _option_text(v)))
    return _run_optimize(load(model), settings)


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


class _CSession:
    """Owns one C session; freed when the last Python object holding it (the Session or an output view's
    lease) goes away."""

    def __init__(self, model, threads):
        o = _ffi.new("onnxc_session_options *")
        o.threads = int(threads)
        out = _ffi.new("onnxc_session **")
        _check(_lib.onnxc_session_create(model._ptr, o, out), "session")
        self.model = model  # the C session needs its model
        self.ptr = _ffi.gc(out[0], _lib.onnxc_session_free)


class _Lease:
    """Keeps alive what one run's output views point into: the C session, and the input arrays (an output
    that is a graph input points at the caller's tensor)."""

    def __init__(self, csession, feed):
        self.csession = csession
        self.feed = feed


class _View:
    """Exposes one output tensor's memory to NumPy (read-only), holding its lease."""

    def __init__(self, lease, ptr, shape, dtype):
        self.lease = lease
        self.__array_interface__ = {"data": (int(_ffi.cast("uintptr_t", ptr)), True), "shape": shape,
                                    "typestr": dtype.str, "version": 3}


def _output_array(lease, t, copy):
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
    if copy:
        return _np.frombuffer(_ffi.buffer(t.data, nbytes), dtype=dt).reshape(shape).copy()
    return _np.asarray(_View(lease, t.data, shape, dt))


class Session:
    """A model planned for running. run() returns {output name: ndarray}.

    Outputs are zero-copy, read-only views of the session's memory: they stay readable as long as you hold
    them (they keep what they point into alive), but the next run() of the same session with the same input
    shapes overwrites them in place. Copy what you keep across runs (np.array(v), or run(..., copy=True)).
    A run with other shapes while views of an earlier run are alive moves to a freshly planned C session, so
    old views never point at freed memory. A Session may be used from several threads (runs take turns);
    for parallel runs use one Session per thread: two sessions run at the same time, outside the GIL."""

    def __init__(self, model, threads=0):
        self._model = load(model)
        self._threads = int(threads)
        self._c = _CSession(self._model, self._threads)
        self._lock = _threading.Lock()
        self._last = None  # weak reference to the lease of the last zero-copy run

    @property
    def inputs(self):
        return self._model.inputs

    @property
    def outputs(self):
        return self._model.outputs

    @property
    def threads(self):
        return int(_lib.onnxc_session_threads(self._c.ptr))

    def run(self, inputs, copy=False):
        """Run on inputs {name: array-like}; every graph input must be given, with the model's element type
        (no implicit casts). Returns {output name: ndarray} in the model's output order."""
        feed = _Feed(inputs, "Session.run")
        with self._lock:
            old = self._last() if self._last is not None else None
            if old is not None and not _lib.onnxc_session_plan_fits(self._c.ptr, feed.n, feed.names, feed.ptrs):
                # re-planning would free memory that views of an earlier run still show
                self._c = _CSession(self._model, self._threads)
            del old
            c = self._c
            _check(_lib.onnxc_session_run(c.ptr, feed.n, feed.names, feed.ptrs), "run")
            lease = _Lease(c, feed)
            res = {}
            for i in range(_lib.onnxc_session_num_outputs(c.ptr)):
                name = _ffi.string(_lib.onnxc_session_output_name(c.ptr, i)).decode()
                res[name] = _output_array(lease, _lib.onnxc_session_output(c.ptr, i), copy)
            self._last = None if copy else _weakref.ref(lease)
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


def compare(a, b, inputs=None, atol=None, rtol=None, nmse=None, per_node=False, threads=0, seed=0):
    """Run model a (the reference) and b on the same inputs and return the metrics as a dict: what
    `onnxc compare --json` prints under "comparison" (per output: max_abs, max_rel, nmse, cosine, failing
    elements, NaN/Inf counts, top-1/top-5; "within_tolerance"; with per_node the shared values and the first
    divergence). inputs: a dict {name: ndarray} for one sample, or a list of them; None: one sample of
    NumPy-generated inputs (standard normal, symbolic dims 1, numpy.random.default_rng(seed)) -- not the CLI's
    generator. Tolerances default to the library's (ONNXC_COMPARE_ATOL/RTOL/NMSE)."""
    ma, mb = load(a), load(b)
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
    pc = _ffi.new("onnxc_comparison **")
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
