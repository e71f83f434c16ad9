"""float32 bit-level helpers: exponent fields, exact powers of two, block maxima."""

from __future__ import annotations

import numpy as np

ABS_MASK = 0x7FFFFFFF
SIGN_MASK = np.int32(-0x80000000)
MIN_NORMAL_BITS = 0x00800000  # bits of 2**-126: below it (exponent field 0) zero or subnormal
INF_BITS = 0x7F800000  # |bits| >= this: Inf or NaN


def pow2(field: np.ndarray) -> np.ndarray:
    """2**(field - 127) as an exact float32, for int32 `field` in [-22, 254].

    `field` is the biased exponent; fields <= 0 give the subnormal powers of two."""
    bits = field << 23
    if bits.size and field.min() <= 0:
        sub = np.right_shift(np.int32(0x400000), np.minimum(-field, 31), dtype=np.int32)
        bits = np.where(field > 0, bits, sub)
    return bits.view(np.float32)


def tree_max(a: np.ndarray, levels: int) -> np.ndarray:
    """Max over runs of 2**levels along axis 1 by a pairwise tree (much faster in numpy than a
    reduction over a short axis)."""
    for _ in range(levels):
        a = np.maximum(a[:, 0::2], a[:, 1::2])
    return a


def pair_expand(p: np.ndarray) -> np.ndarray:
    """Per-pair values (g, n, w) laid out per element, (g, n, 2, w).

    For narrow w (row blocks have w = 1) this is a contiguous copy holding each value twice:
    numpy broadcasts over an innermost axis of length 2 about five times slower than it copies.
    For wide w it is a broadcast view."""
    g, n, w = p.shape
    if w >= 8:
        return p[:, :, None, :]
    out = np.empty((g, n, 2, w), p.dtype)
    out[:, :, 0] = p
    out[:, :, 1] = p
    return out
