# Builds the cffi extension onnxc._onnxc (declarations read from the C header, see src/onnxc/_build.py).
from setuptools import setup

setup(cffi_modules=["src/onnxc/_build.py:ffibuilder"])
