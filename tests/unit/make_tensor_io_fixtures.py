#!/usr/bin/python3
"""Writes tests/unit/tensor_io_fixtures.h: .npy files made by NumPy and TensorProto .pb files made by onnx, as C
byte arrays, so test_tensor_io.c checks onnxc's reader and writer against independent writers.
Run by hand after changing it: /usr/bin/python3 tests/unit/make_tensor_io_fixtures.py"""
import io
import os

import numpy as np
from numpy.lib import format as npformat
from onnx import TensorProto, helper, numpy_helper


def npy(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr)
    else:
        npformat.write_array(buf, arr, version=version)
    return buf.getvalue()


FIXTURES = [
    # name, bytes, comment
    ("npy_f32_2x3", npy(np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5), "np.arange(6, float32).reshape(2,3)*0.5"),
    ("npy_i64_v2", npy(np.array([-1, 2, 2 ** 40], np.int64), (2, 0)), "[-1, 2, 2**40] int64, format 2.0"),
    ("npy_f64_v3", npy(np.array([[1.25], [-3.5]], np.float64), (3, 0)), "[[1.25], [-3.5]] float64, format 3.0"),
    ("npy_bool", npy(np.array([True, False, True])), "[True, False, True]"),
    ("npy_f16", npy(np.array([1.0, -2.0, 65504.0], np.float16)), "float16 [1, -2, 65504]"),
    ("npy_be_i32", npy(np.array([1, -2, 0x01020304], dtype=">i4")), "big-endian int32 [1, -2, 0x01020304]"),
    ("npy_fortran", npy(np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))), "Fortran order"),
    ("npy_u8_scalar", npy(np.array(200, np.uint8)), "uint8 scalar 200"),
    ("npy_empty", npy(np.zeros((0, 3), np.float32)), "float32 of shape (0, 3)"),
    ("npy_unicode", npy(np.array(["ab", "c"])), "unicode strings: not supported"),
    ("npy_c64", npy(np.array([1 + 2j], np.complex64)), "complex64 [1+2j]"),
    ("npy_u16_3", npy(np.array([0, 1, 65535], np.uint16)), "uint16 [0, 1, 65535]"),
    ("npy_i8_m", npy(np.array([-128, 127], np.int8)), "int8 [-128, 127]"),
    ("pb_f32_raw", numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5, "t").SerializeToString(),
     "from_array(arange(6)*0.5 as 2x3 float32, name 't')"),
    ("pb_i64_raw", numpy_helper.from_array(np.array([-1, 2, 2 ** 40], np.int64), "ints").SerializeToString(),
     "from_array([-1, 2, 2**40] int64, name 'ints')"),
    ("pb_f16_typed", helper.make_tensor("h", TensorProto.FLOAT16, [3], np.array([1.0, -2.0, 65504.0], np.float16),
                                        raw=False).SerializeToString(), "make_tensor fp16 [1, -2, 65504] in int32_data"),
    ("pb_strings", helper.make_tensor("s", TensorProto.STRING, [2], [b"hello", b""]).SerializeToString(),
     "make_tensor string ['hello', '']"),
    ("pb_bool_raw", numpy_helper.from_array(np.array([True, False, True]), "b").SerializeToString(),
     "from_array([True, False, True], name 'b')"),
]


def c_array(name, data, comment):
    lines = [f"/* {comment} */", f"static const unsigned char {name}[{len(data)}] = {{"]
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 16]) + ",")
    lines.append("};")
    return "\n".join(lines)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensor_io_fixtures.h")
    parts = ["/* Tensor files written by NumPy and onnx (tests/unit/make_tensor_io_fixtures.py): the independent",
             " * reference for test_tensor_io.c. Generated; do not edit. */",
             "#ifndef TENSOR_IO_FIXTURES_H", "#define TENSOR_IO_FIXTURES_H", ""]
    for name, data, comment in FIXTURES:
        parts.append(c_array(name, data, comment))
        parts.append("")
    parts.append("#endif")
    with open(out, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
