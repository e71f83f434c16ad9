"""Golden models of the microscaling formats of docs/formats.md.

Formats (`FORMATS`): "mx9", "mx6", "mx4" (shared micro-exponent, block 16, pairs) and
"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1", "mxint8" (OCP MX v1.0,
block 32, E8M0 scale). Directions: "row" puts blocks along the last axis, "col" along axis 0.
Inputs are 2-D and float32 (other real dtypes are cast to float32 first); the block axis is
zero-padded to a multiple of the block size and results are cropped back.

    y = quantize_dequantize(x, "mx6", "row")   # float32, x.shape
    enc = encode(x, "mx6", "row")              # SharedMicroCodes or OcpCodes (shapes there)
    decode(enc)                                # == y bit for bit (NaN == NaN)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pimisa.errors import InputError
from pimisa.mx.formats import ocp, shared_micro
from pimisa.mx.formats.blocks import as_float32_2d
from pimisa.mx.formats.ocp import OcpCodes
from pimisa.mx.formats.registry import (
    DIRECTIONS,
    FORMATS,
    Format,
    OcpFormat,
    SharedMicroFormat,
    check_direction,
    get_format,
)
from pimisa.mx.formats.shared_micro import SharedMicroCodes

__all__ = [
    "DIRECTIONS",
    "FORMATS",
    "Format",
    "OcpCodes",
    "OcpFormat",
    "SharedMicroCodes",
    "SharedMicroFormat",
    "decode",
    "encode",
    "get_format",
    "quantize_dequantize",
]


def _module(fmt: Format):
    return shared_micro if isinstance(fmt, SharedMicroFormat) else ocp


def quantize_dequantize(x: ArrayLike, fmt: str | Format, direction: str = "row") -> np.ndarray:
    """Quantize a 2-D tensor to `fmt` in blocks along `direction` and return the values the
    codes stand for, as float32 of the same shape (NaN/Inf blocks: all NaN)."""
    f = get_format(fmt)
    check_direction(direction)
    return _module(f).quantize_dequantize(as_float32_2d(x), f, direction)


def encode(x: ArrayLike, fmt: str | Format, direction: str = "row") -> SharedMicroCodes | OcpCodes:
    """Quantize a 2-D tensor to `fmt` in blocks along `direction` and return its codes."""
    f = get_format(fmt)
    check_direction(direction)
    return _module(f).encode(as_float32_2d(x), f, direction)


def decode(enc: SharedMicroCodes | OcpCodes) -> np.ndarray:
    """The float32 values of a set of codes (e.g. built from a kernel's outputs), cropped to
    `enc.shape`; InputError when the arrays do not match the documented shapes and ranges."""
    if isinstance(enc, SharedMicroCodes):
        return shared_micro.decode(enc)
    if isinstance(enc, OcpCodes):
        return ocp.decode(enc)
    raise InputError(f"cannot decode a {type(enc).__name__}; expected SharedMicroCodes or OcpCodes")
