"""Vectorized golden model of MX9/MX6/MX4 (shared 8-bit exponent per 16, 1-bit micro-exponent
per pair), docs/formats.md section 1.

All of the work is int32 arithmetic on the float32 bits, a chunk of blocks at a time. Dividing
|x| by the pair's lsb is an exponent-field subtraction on the bits (exact; a result whose field
would go below zero is below 2**-126 and rounds to 0 anyway), so `np.rint` on the result rounds
half to even exactly like the spec's `mant >> s` with guard and sticky bits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pimisa.mx.formats.bits import (
    INF_BITS,
    MIN_NORMAL_BITS,
    SIGN_MASK,
    pair_expand,
    pow2,
)
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
from pimisa.mx.formats.registry import SharedMicroFormat

NAN_BLOCK = 255


@dataclass(frozen=True, eq=False)
class SharedMicroCodes:
    """MX9/MX6/MX4 codes of an (R, C) tensor, padded along the block axis to (R, Cp) (row) or
    (Rp, C) (col).

    - `codes`: uint8 sign-magnitude element codes `sign << m | M` (sign = the input's sign bit),
      row (R, Cp), col (Rp, C);
    - `shared_exp`: uint8 shared exponent E per block of 16, 255 for a NaN/Inf block,
      row (R, Cp/16), col (Rp/16, C);
    - `micro_exp`: uint8 micro-exponent d in {0, 1} per pair, row (R, Cp/2), col (Rp/2, C).

    In a NaN/Inf block the codes and micro-exponents are 0; only shared_exp = 255 matters.

    To decode a kernel's outputs, build one by hand: `fmt` may be given by name and `shape` (the
    unpadded (R, C)) as any pair of ints."""

    fmt: SharedMicroFormat
    direction: str
    shape: tuple[int, int]
    codes: np.ndarray
    shared_exp: np.ndarray
    micro_exp: np.ndarray

    def __post_init__(self) -> None:
        set_header(self, SharedMicroFormat)

    @property
    def signed_m(self) -> np.ndarray:
        """The element codes as signed integers +-M (int16; -0 reads as 0)."""
        m = self.fmt.mag_bits
        mag = (self.codes & ((1 << m) - 1)).astype(np.int16)
        return np.where(self.codes >> m != 0, -mag, mag)


def _quantize_chunk(
    bits: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Quantize a (g, 16, w) chunk of float32 bits (int32 view).

    Returns the bits (zeroed in NaN/Inf blocks), the magnitudes M as float32 (g, 8, 2, w), the
    shared exponents E (g, 1, w), the micro-exponents d (g, 8, w) and the NaN/Inf block mask
    (g, 1, w) or None when the chunk has none."""
    bits, a, top, bad = clear_bad_blocks(bits, 4)
    pair = np.maximum(a[:, 0::2], a[:, 1::2])
    e_bits = top & INF_BITS
    d = (pair < e_bits).astype(np.int32)  # both exponents of the pair below E
    # |x| / lsb: add (m - 1 + d - (E - 127)) to the exponent field of |x| (no overflow: the
    # field stays in (-128, 127 + m]). The results of zeros and subnormals get the sign bit set
    # so that they clip to 0 (flush).
    shift = ((m + 126) - (e_bits >> 23) + d) << 23
    g, _, w = bits.shape
    y = a.reshape(g, 8, 2, w) + pair_expand(shift)
    y |= ((a - MIN_NORMAL_BITS) & SIGN_MASK).reshape(g, 8, 2, w)
    # saturating before rounding is the same as after: rint(min(y, 2**m - 1)) <= 2**m - 1
    np.clip(y, np.int32(0), np.float32((1 << m) - 1).view(np.int32), out=y)
    q = y.view(np.float32)
    np.rint(q, out=q)
    return bits, q, e_bits >> 23, d, bad


def quantize_dequantize(x: np.ndarray, fmt: SharedMicroFormat, direction: str) -> np.ndarray:
    """Quantize-dequantize a 2-D float32 array; NaN/Inf blocks come back all NaN."""
    k, m = fmt.block_size, fmt.mag_bits
    xp = pad(x, k, direction)
    src = blocked(xp.view(np.int32), k, direction)
    out = np.empty(xp.shape, np.float32)
    dst = blocked(out, k, direction)
    dst_bits = dst.view(np.int32)
    for gs, ws in chunks(src.shape[0], k, src.shape[2]):
        bits, q, e, d, bad = _quantize_chunk(src[gs, :, ws], m)
        vals = q * pair_expand(pow2(e - d + (1 - m)))
        g, _, w = bits.shape
        np.bitwise_or(
            vals.view(np.int32).reshape(g, k, w), bits & SIGN_MASK, out=dst_bits[gs, :, ws]
        )
        if bad is not None:
            np.copyto(dst[gs, :, ws], np.float32(np.nan), where=bad)
    return out[: x.shape[0], : x.shape[1]] if out.shape != x.shape else out


def encode(x: np.ndarray, fmt: SharedMicroFormat, direction: str) -> SharedMicroCodes:
    """The element codes, shared exponents and micro-exponents of a 2-D float32 array."""
    k, m = fmt.block_size, fmt.mag_bits
    xp = pad(x, k, direction)
    src = blocked(xp.view(np.int32), k, direction)
    g_total, _, width = src.shape
    codes = np.empty(xp.shape, np.uint8)
    codes3 = blocked(codes, k, direction)
    shared = np.empty((g_total, 1, width), np.uint8)
    micro = np.empty((g_total, k // 2, width), np.uint8)
    for gs, ws in chunks(g_total, k, width):
        bits, q, e, d, bad = _quantize_chunk(src[gs, :, ws], m)
        g, _, w = bits.shape
        sign = (bits >> 31) & (1 << m)
        codes3[gs, :, ws] = q.astype(np.int32).reshape(g, k, w) | sign
        shared[gs, :, ws] = e if bad is None else np.where(bad, NAN_BLOCK, e)
        micro[gs, :, ws] = d
    padded = xp.shape
    return SharedMicroCodes(
        fmt,
        direction,
        x.shape,
        codes,
        per_block(shared, direction, padded, k),
        per_block(micro, direction, padded, k),
    )


def _check(enc: SharedMicroCodes) -> tuple[int, int]:
    """The padded shape of `enc`; InputError when its arrays do not fit it or the format."""
    k, m = enc.fmt.block_size, enc.fmt.mag_bits
    rows, cols = padded = padded_shape(enc.shape, k, enc.direction)
    div = (1, k) if enc.direction == "row" else (k, 1)
    pairs = (1, 2) if enc.direction == "row" else (2, 1)
    check_arrays((
        ("codes", enc.codes, padded, (2 << m) - 1),
        ("shared_exp", enc.shared_exp, (rows // div[0], cols // div[1]), 255),
        ("micro_exp", enc.micro_exp, (rows // pairs[0], cols // pairs[1]), 1),
    ))
    return padded


DECODE_CHUNK = 1 << 16  # elements decoded per step: the temporaries stay in cache


@functools.cache
def _tables(fmt: SharedMicroFormat) -> tuple[np.ndarray, np.ndarray]:
    """(value of each element code +-M, scale 2**(E - d + 1 - m) of each (E << 1 | d)).

    The scale of E = 255 (a NaN/Inf block) is NaN."""
    m = fmt.mag_bits
    code = np.arange(2 << m)
    mag = (code & ((1 << m) - 1)).astype(np.float32)
    values = np.where(code >> m != 0, -mag, mag).astype(np.float32)
    e, d = np.divmod(np.arange(512, dtype=np.int32), 2)
    scales = pow2(e - d + (1 - m))
    scales[e == NAN_BLOCK] = np.nan
    return values, scales


def _repeat8(a: np.ndarray) -> np.ndarray:
    """Each uint8 of a 1-D array 8 times (one multiply instead of np.repeat)."""
    return (a.astype(np.uint64) * np.uint64(0x0101010101010101)).view(np.uint8)


def _repeat2(a: np.ndarray) -> np.ndarray:
    """Each float32 of a 1-D array twice."""
    return (a.view(np.uint32).astype(np.uint64) * np.uint64(0x100000001)).view(np.float32)


def decode(enc: SharedMicroCodes) -> np.ndarray:
    """The float32 values that the codes stand for, cropped to `enc.shape`.

    Table-driven and chunked: an element is values[code] x scales[E << 1 | d]."""
    padded = _check(enc)
    k = enc.fmt.block_size
    values, scales = _tables(enc.fmt)
    codes = np.asarray(enc.codes).reshape(padded)
    shared = np.asarray(enc.shared_exp)
    micro = np.asarray(enc.micro_exp)
    out = np.empty(padded, np.float32)
    if enc.direction == "row":
        flat_c, flat_e, flat_d, flat_o = (a.reshape(-1) for a in (codes, shared, micro, out))
        step = DECODE_CHUNK // k * k
        for i0 in range(0, flat_c.size, step):
            i1 = i0 + step
            e8 = _repeat8(flat_e[i0 // k:i1 // k]).astype(np.uint16)
            pair_scale = scales[(e8 << 1) | flat_d[i0 // 2:i1 // 2]]
            np.multiply(values[flat_c[i0:i1]], _repeat2(pair_scale), out=flat_o[i0:i1])
    else:
        width = padded[1]
        step = max(k, DECODE_CHUNK // max(width, 1) // k * k)
        for r0 in range(0, padded[0], step):
            r1 = min(padded[0], r0 + step)
            g = (r1 - r0) // k
            e = shared[r0 // k:r1 // k].astype(np.uint16).reshape(g, 1, width)
            d = micro[r0 // 2:r1 // 2].reshape(g, k // 2, width)
            pair_scale = scales[(e << 1) | d]
            vals = values[codes[r0:r1]].reshape(g, k // 2, 2, width)
            np.multiply(vals, pair_scale[:, :, None, :], out=out[r0:r1].reshape(vals.shape))
    return out[: enc.shape[0], : enc.shape[1]]
