"""cffi builder of onnxc._onnxc: the C declarations come from the library's own header, so the binding cannot drift
from the C API. Which library it links (first that applies):

  ONNXC_PREFIX=P      an installed prefix (cmake --install build --prefix P): P's onnxc.pc, shared libonnxc, RUNPATH
  ONNXC_BUILD_DIR=B   a build tree: B/libonnxc.a linked in (default: the repository's build/ beside python/)
  pkg-config onnxc    a system-wide install (e.g. /usr/local)
"""
import os
import re
import shlex
import subprocess
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]  # python/src/onnxc -> repository root


def _pkg_config(args, env=None):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True, env=env).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit("onnxc build: pkg-config %s failed: %s" % (" ".join(args), getattr(e, "stderr", e)))
    return shlex.split(out)


def _split_flags(flags):
    inc, libdirs, libs, other = [], [], [], []
    for f in flags:
        if f.startswith("-I"):
            inc.append(f[2:])
        elif f.startswith("-L"):
            libdirs.append(f[2:])
        elif f.startswith("-l"):
            libs.append(f[2:])
        else:
            other.append(f)
    return inc, libdirs, libs, other


def _locate():
    """(header path, include dirs, library dirs, libraries, extra objects, extra link args)"""
    prefix = os.environ.get("ONNXC_PREFIX")
    if prefix:
        prefix = Path(prefix).resolve()
        pcs = list(prefix.glob("lib*/**/pkgconfig/onnxc.pc")) + list(prefix.glob("share/pkgconfig/onnxc.pc"))
        if not pcs:
            raise SystemExit("onnxc build: ONNXC_PREFIX=%s has no onnxc.pc (run cmake --install build --prefix %s)"
                             % (prefix, prefix))
        env = dict(os.environ, PKG_CONFIG_PATH=str(pcs[0].parent))
        inc, libdirs, libs, other = _split_flags(_pkg_config(["--cflags", "--libs", "onnxc"], env))
        header = Path(inc[0] if inc else prefix / "include") / "onnxc" / "onnxc.h"
        rpath = ["-Wl,-rpath," + d for d in libdirs]
        return header, inc, libdirs, libs, [], other + rpath
    build = os.environ.get("ONNXC_BUILD_DIR")
    build = Path(build).resolve() if build else REPO / "build"
    static = build / "libonnxc.a"
    if static.exists():
        deps = _pkg_config(["--cflags", "--libs", "libprotobuf-c", "openblas"])
        inc, libdirs, libs, other = _split_flags(deps)
        header = REPO / "include" / "onnxc" / "onnxc.h"
        return header, [str(REPO / "include")] + inc, libdirs, libs + ["m", "pthread"], [str(static)], other
    if os.environ.get("ONNXC_BUILD_DIR"):
        raise SystemExit("onnxc build: ONNXC_BUILD_DIR=%s has no libonnxc.a (build it first)" % build)
    inc, libdirs, libs, other = _split_flags(_pkg_config(["--cflags", "--libs", "onnxc"]))
    header = Path(inc[0] if inc else "/usr/local/include") / "onnxc" / "onnxc.h"
    return header, inc, libdirs, libs, [], other + ["-Wl,-rpath," + d for d in libdirs]


def cdef_from_header(text):
    """The header's declarations as cffi's cdef accepts them: no preprocessor lines, no C++ guard, no ONNXC_API,
    only the integer #defines (ONNXC_MAX_RANK, ONNXC_DET_MAX_EXTRA) kept."""
    out, skip = [], 0
    for line in text.splitlines():
        s = line.strip()
        if skip:
            if s.startswith("#if"):
                skip += 1
            elif s.startswith("#endif"):
                skip -= 1
            continue
        if s.startswith("#ifdef __cplusplus") or s.startswith("#if defined(__GNUC__)"):
            skip = 1
            continue
        if re.fullmatch(r"#define ONNXC_\w+ \d+", s):  # integer constants (array sizes): ONNXC_MAX_RANK, ...
            out.append(s)
            continue
        if s.startswith("#"):
            continue
        out.append(line)
    body = "\n".join(out)
    body = re.sub(r"\bONNXC_API\s+", "", body)
    return body + "\nconst char *onnxc_py_version(void);\n"


header, include_dirs, library_dirs, libraries, extra_objects, extra_link_args = _locate()
if not header.exists():
    raise SystemExit("onnxc build: header %s not found" % header)

ffibuilder = FFI()
ffibuilder.cdef(cdef_from_header(header.read_text()))
ffibuilder.set_source(
    "onnxc._onnxc",
    '#include "onnxc/onnxc.h"\nstatic const char *onnxc_py_version(void) { return ONNXC_VERSION; }\n',
    include_dirs=include_dirs,
    library_dirs=library_dirs,
    libraries=libraries,
    extra_objects=extra_objects,
    extra_link_args=extra_link_args,
    # relink when the library or its header changes (pip builds in python/build/ and keeps it)
    depends=[str(header)] + extra_objects,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
