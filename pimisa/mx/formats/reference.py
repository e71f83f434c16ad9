"""Scalar pure-Python reference of every format: the spec's pseudo-code, one element at a time.

It works on Python floats (float64), which is exact here: every step is a float32 value scaled
by a power of two within the float64 range, `round` (half to even on floats) or a comparison.
Slow; it exists to check the vectorized golden model on small tensors, so it shares none of its
tricks (no exponent-field arithmetic, no code-formula shortcuts)."""

from __future__ import annotations

import math
import struct

import numpy as np

from pimisa.mx.formats.blocks import as_float32_2d, pad
from pimisa.mx.formats.ocp import OcpCodes
from pimisa.mx.formats.registry import Format, OcpFormat, SharedMicroFormat, get_format
from pimisa.mx.formats.shared_micro import SharedMicroCodes


def bits32(x: float) -> int:
    """The IEEE bits of float32 `x`."""
    return struct.unpack("<I", struct.pack("<f", x))[0]


def bexp(x: float) -> int:
    """The 8-bit biased exponent field of float32 `x`."""
    return (bits32(x) >> 23) & 0xFF


def sign_bit(x: float) -> int:
    """The sign bit of float32 `x` (1 for -0.0)."""
    return bits32(x) >> 31


def floor_log2(x: float) -> int:
    """floor(log2(x)) for a positive float, exactly (from frexp, not log2)."""
    return math.frexp(x)[1] - 1


def mx_block(v: list[float], m: int) -> tuple[int, list[int], list[tuple[int, int]], list[float]]:
    """One MX9/6/4 block of 16: (E, micro-exponents, (sign, M) codes, values)."""
    if not all(math.isfinite(x) for x in v):
        return 255, [0] * 8, [(0, 0)] * 16, [math.nan] * 16
    e_shared = max(bexp(x) for x in v)
    micro, codes, values = [], [], []
    for k in range(8):
        pair = v[2 * k : 2 * k + 2]
        d = min(e_shared - max(bexp(x) for x in pair), 1)
        micro.append(d)
        lsb = 2.0 ** (e_shared - 127 - d + 1 - m)
        for x in pair:
            mag = 0 if bexp(x) == 0 else round(abs(x) / lsb)
            mag = min(mag, 2**m - 1)
            codes.append((sign_bit(x), mag))
            values.append(float(-mag * lsb if x < 0 else mag * lsb))
    return e_shared, micro, codes, values


def ocp_block(v: list[float], fmt: OcpFormat) -> tuple[int, list[int], list[float]]:
    """One OCP MX block of 32: (E8M0 scale code, element codes, values)."""
    if not all(math.isfinite(x) for x in v):
        return 0xFF, [0] * 32, [math.nan] * 32
    amax = max(abs(x) for x in v)
    e = -127 if amax == 0 else floor_log2(amax)
    se = max(e - fmt.emax_elem, -127)
    scale = 2.0**se
    codes, values = [], []
    for x in v:
        p = x / scale
        if fmt.twos_complement:
            k = min(round(abs(p) * 64), 127)
            q = k / 64
            codes.append((-k if x < 0 else k) & 0xFF)
        else:
            pe = fmt.emin if p == 0 else max(floor_log2(abs(p)), fmt.emin)
            ulp = 2.0 ** (pe - fmt.man_bits)
            q = min(round(abs(p) / ulp) * ulp, fmt.max_normal)
            codes.append(_fp_code(sign_bit(x), q, fmt))
        negative = x < 0 or (sign_bit(x) == 1 and not fmt.twos_complement)  # MXINT8: no -0
        values.append(float(-q * scale if negative and (q or not fmt.twos_complement)
                            else q * scale))
    return se + 127, codes, values


def _fp_code(sign: int, q: float, fmt: OcpFormat) -> int:
    """The bit code of the representable magnitude q with sign bit `sign`."""
    bias = 1 - fmt.emin
    if q < 2.0**fmt.emin:
        field, man = 0, q / 2.0 ** (fmt.emin - fmt.man_bits)
    else:
        e = floor_log2(q)
        field, man = e + bias, q / 2.0 ** (e - fmt.man_bits) - 2**fmt.man_bits
    assert man == int(man)
    return sign << (fmt.exp_bits + fmt.man_bits) | field << fmt.man_bits | int(man)


def quantize(
    x: np.ndarray, fmt: str | Format, direction: str = "row"
) -> tuple[np.ndarray, SharedMicroCodes | OcpCodes]:
    """(dequantized values, codes in the golden model's layout), computed block by block."""
    f = get_format(fmt)
    x = as_float32_2d(x)
    k = f.block_size
    xp = pad(x, k, direction)
    work = xp if direction == "row" else xp.T
    rows, cols = work.shape
    values = np.zeros((rows, cols), np.float32)
    codes = np.zeros((rows, cols), np.uint8)
    scales = np.zeros((rows, cols // k), np.uint8)
    micro = np.zeros((rows, cols // 2), np.uint8)
    for r in range(rows):
        for b in range(cols // k):
            block = [float(v) for v in work[r, b * k : (b + 1) * k]]
            if isinstance(f, SharedMicroFormat):
                e, ds, cs, vals = mx_block(block, f.mag_bits)
                micro[r, b * 8 : b * 8 + 8] = ds
                cs = [s << f.mag_bits | mag for s, mag in cs]
            else:
                e, cs, vals = ocp_block(block, f)
            scales[r, b] = e
            codes[r, b * k : (b + 1) * k] = cs
            values[r, b * k : (b + 1) * k] = vals
    if direction == "col":
        values, codes, scales, micro = values.T, codes.T.copy(), scales.T.copy(), micro.T.copy()
    values = values[: x.shape[0], : x.shape[1]]
    if isinstance(f, SharedMicroFormat):
        return values, SharedMicroCodes(f, direction, x.shape, codes, scales, micro)
    return values, OcpCodes(f, direction, x.shape, codes, scales)
