"""Vectorized golden model of the OCP MX v1.0 formats (block 32, E8M0 scale), docs/formats.md §2.

The scale code is max(bexp(amax) - emax_elem, 0): the spec's e of a zero or subnormal amax is
<= -127, where se clamps to -127 whatever its exact value. p = v / X is an exact float32
multiply by 2**-se (a result below 2**-126 may round, but such a p quantizes to 0 anyway). The
element step is then a multiply by 2**(mbits - pe) with pe read from the bits of p, and
`np.rint`, so rounding is exactly half to even. MXINT8 is the float rule with emin = 0 and 6
fraction bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimisa.mx.formats.bits import SIGN_MASK, pow2
from pimisa.mx.formats.blocks import (
    blocked,
    check_arrays,
    chunks,
    clear_bad_blocks,
    pad,
    padded_shape,
    per_block,
    set_header,
)
from pimisa.mx.formats.registry import OcpFormat

NAN_SCALE = 0xFF


@dataclass(frozen=True, eq=False)
class OcpCodes:
    """OCP MX codes of an (R, C) tensor, padded along the block axis to (R, Cp) (row) or
    (Rp, C) (col).

    - `codes`: uint8 element bit codes, row (R, Cp), col (Rp, C). FP formats: sign bit (the
      input's) above exponent and mantissa fields, in the low 1+e+m bits (as ml_dtypes stores
      them); MXINT8: the two's complement byte of k in k/64 (-128 never occurs);
    - `scale`: uint8 E8M0 scale code (X = 2**(code - 127)) per block of 32, 0xFF for a NaN/Inf
      block, row (R, Cp/32), col (Rp/32, C).

    In a NaN/Inf block the element codes are 0; only scale = 0xFF matters.

    To decode a kernel's outputs, build one by hand: `fmt` may be given by name and `shape` (the
    unpadded (R, C)) as any pair of ints."""

    fmt: OcpFormat
    direction: str
    shape: tuple[int, int]
    codes: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        set_header(self, OcpFormat)


def _quantize_chunk(
    bits: np.ndarray, fmt: OcpFormat
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Quantize a (g, 32, w) chunk of float32 bits (int32 view).

    Returns the bits (zeroed in NaN/Inf blocks), the unsaturated magnitudes q / ulp as float32,
    the exponent field of each element's ulp (pe + 127), the scale codes (g, 1, w) and the
    NaN/Inf block mask (g, 1, w) or None when the chunk has none."""
    bits, a, top, bad = clear_bad_blocks(bits, 5)
    scale = np.maximum((top >> 23) - fmt.emax_elem, 0)
    p = a.view(np.float32) * pow2(254 - scale)  # |v| / X
    pe = np.maximum(p.view(np.int32) >> 23, fmt.emin + 127)
    y = p * pow2((254 + fmt.man_bits) - pe)  # |p| / ulp
    np.rint(y, out=y)
    return bits, y, pe, scale, bad


def quantize_dequantize(x: np.ndarray, fmt: OcpFormat, direction: str) -> np.ndarray:
    """Quantize-dequantize a 2-D float32 array; NaN/Inf blocks come back all NaN."""
    k = fmt.block_size
    xp = pad(x, k, direction)
    src = blocked(xp.view(np.int32), k, direction)
    out = np.empty(xp.shape, np.float32)
    dst = blocked(out, k, direction)
    dst_bits = dst.view(np.int32)
    for gs, ws in chunks(src.shape[0], k, src.shape[2]):
        bits, y, pe, scale, bad = _quantize_chunk(src[gs, :, ws], fmt)
        y *= pow2(pe - fmt.man_bits)
        np.minimum(y, np.float32(fmt.max_normal), out=y)
        y *= pow2(scale)
        sign = bits & SIGN_MASK
        if fmt.twos_complement:  # no -0 in two's complement: a zero is +0 (the code 0x00)
            sign = np.where(y == 0, 0, sign)
        np.bitwise_or(y.view(np.int32), sign, out=dst_bits[gs, :, ws])
        if bad is not None:
            np.copyto(dst[gs, :, ws], np.float32(np.nan), where=bad)
    return out[: x.shape[0], : x.shape[1]] if out.shape != x.shape else out


def encode(x: np.ndarray, fmt: OcpFormat, direction: str) -> OcpCodes:
    """The element codes and E8M0 scale codes of a 2-D float32 array."""
    k = fmt.block_size
    xp = pad(x, k, direction)
    src = blocked(xp.view(np.int32), k, direction)
    g_total, _, width = src.shape
    codes = np.empty(xp.shape, np.uint8)
    codes3 = blocked(codes, k, direction)
    scales = np.empty((g_total, 1, width), np.uint8)
    for gs, ws in chunks(g_total, k, width):
        bits, y, pe, scale, bad = _quantize_chunk(src[gs, :, ws], fmt)
        mag = ((pe - (fmt.emin + 127)) << fmt.man_bits) + y.astype(np.int32)
        np.minimum(mag, fmt.max_code, out=mag)
        neg = bits >> 31
        if fmt.twos_complement:
            codes3[gs, :, ws] = ((mag ^ neg) - neg) & 0xFF
        else:
            codes3[gs, :, ws] = mag | (neg & (1 << (fmt.exp_bits + fmt.man_bits)))
        scales[gs, :, ws] = scale if bad is None else np.where(bad, NAN_SCALE, scale)
    return OcpCodes(fmt, direction, x.shape, codes, per_block(scales, direction, xp.shape, k))


def _check(enc: OcpCodes) -> tuple[int, int]:
    """The padded shape of `enc`; InputError when its arrays do not fit it or the format."""
    k = enc.fmt.block_size
    rows, cols = padded = padded_shape(enc.shape, k, enc.direction)
    scale_shape = (rows, cols // k) if enc.direction == "row" else (rows // k, cols)
    check_arrays((
        ("codes", enc.codes, padded, (1 << enc.fmt.element_bits) - 1),
        ("scale", enc.scale, scale_shape, 255),
    ))
    return padded


def decode(enc: OcpCodes) -> np.ndarray:
    """The float32 values that the codes stand for, cropped to `enc.shape`.

    FP element codes above the largest finite one (E4M3 NaN, E5M2 Inf/NaN; never produced by
    `encode`) decode to NaN; the MXINT8 code 0x80 (never produced either) decodes to -2."""
    padded = _check(enc)
    fmt, k = enc.fmt, enc.fmt.block_size
    codes = blocked(np.asarray(enc.codes, np.int32).reshape(padded), k, enc.direction)
    g, _, w = codes.shape
    scale = np.asarray(enc.scale, np.int32).reshape(g, 1, w)
    if fmt.twos_complement:
        signed = codes - ((codes & 0x80) << 1)
        neg, mag = signed < 0, np.abs(signed)
    else:
        neg = codes >> (fmt.exp_bits + fmt.man_bits) != 0
        mag = codes & ((1 << (fmt.exp_bits + fmt.man_bits)) - 1)
    e_field, frac = mag >> fmt.man_bits, mag & ((1 << fmt.man_bits) - 1)
    normal = e_field > 0
    # value = (frac + normal * 2**mbits) * 2**(max(e_field, 1) - 1 + emin - mbits)
    m_int = (frac + (normal.astype(np.int32) << fmt.man_bits)).astype(np.float32)
    vals = m_int * pow2(np.maximum(e_field, 1) + (fmt.emin + 126 - fmt.man_bits))
    vals = vals * pow2(np.minimum(scale, 254))
    vals = np.where(neg, -vals, vals)
    nan = scale == NAN_SCALE
    if not fmt.twos_complement:
        nan = nan | (mag > fmt.max_code)
    vals = np.where(nan, np.float32(np.nan), vals).reshape(padded)
    return vals[: enc.shape[0], : enc.shape[1]]
