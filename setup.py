"""Build hook: the cffi C cores (out-of-line API mode) are compiled during `pip install`."""

from setuptools import setup

setup(cffi_modules=["cext/build_dram.py:ffibuilder", "cext/build_emu.py:ffibuilder",
               "cext/build_stream.py:ffibuilder"])
