"""Vectorized golden model of MX9/MX6/MX4 (shared 8-bit exponent per 16, 1-bit micro-exponent
per pair), spec section 1.

All of the work is int32 arithmetic on the float32 bits, a chunk of blocks at a time. Dividing
|x| by the pair's lsb is an exponent-field subtraction on the bits (exact; a result whose field
would go below zero is below 2**-126 and rounds to 0 anyway), so `np.rint` on the result rounds
half to even exactly like the spec's `mant >> s` with guard and sticky bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimisa.errors import InputError
from pimisa.formats.bits import (
    ABS_MASK,
    INF_BITS,
    MIN_NORMAL_BITS,
    SIGN_MASK,
    pair_expand,
    pow2,
    tree_max,
)
from pimisa.formats.blocks import (
    blocked,
    check_header,
    chunks,
    pad,
    padded_shape,
    per_block,
)
from pimisa.formats.registry import SharedMicroFormat

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
        header = check_header(self.fmt, self.direction, self.shape, SharedMicroFormat)
        for name, value in zip(("fmt", "direction", "shape"), header, strict=True):
            object.__setattr__(self, name, value)

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
    a = bits & ABS_MASK
    top = tree_max(a, 4)
    bad = top >= INF_BITS
    if bad.any():
        bits = np.where(bad, 0, bits)
        a = bits & ABS_MASK
        top = tree_max(a, 4)
    else:
        bad = None
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
    for name, arr, shape, top in (
        ("codes", enc.codes, padded, (2 << m) - 1),
        ("shared_exp", enc.shared_exp, (rows // div[0], cols // div[1]), 255),
        ("micro_exp", enc.micro_exp, (rows // pairs[0], cols // pairs[1]), 1),
    ):
        arr = np.asarray(arr)
        if arr.shape != shape or arr.dtype.kind not in "iu":
            raise InputError(
                f"{name} must be an integer array of shape {shape}, got {arr.dtype} {arr.shape}"
            )
        if arr.size and (arr.min() < 0 or arr.max() > top):
            raise InputError(f"{name} values must lie in [0, {top}]")
    return padded


def decode(enc: SharedMicroCodes) -> np.ndarray:
    """The float32 values that the codes stand for, cropped to `enc.shape`."""
    padded = _check(enc)
    k, m = enc.fmt.block_size, enc.fmt.mag_bits
    codes = blocked(np.asarray(enc.codes, np.int32).reshape(padded), k, enc.direction)
    g, _, w = codes.shape
    e = np.asarray(enc.shared_exp, np.int32).reshape(g, 1, w)
    d = np.asarray(enc.micro_exp, np.int32).reshape(g, k // 2, w)
    lsb = pow2(e - d + (1 - m))[:, :, None]
    vals = (codes & ((1 << m) - 1)).astype(np.float32).reshape(g, k // 2, 2, w) * lsb
    vals = vals.reshape(g, k, w)
    vals = np.where(codes >> m != 0, -vals, vals)
    vals = np.where(e == NAN_BLOCK, np.float32(np.nan), vals).reshape(padded)
    return vals[: enc.shape[0], : enc.shape[1]]
