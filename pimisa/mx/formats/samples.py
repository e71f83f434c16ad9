"""Adversarial float32 test tensors for quantizers (numpy only, seeded).

Each run of 16 elements along the last axis gets one main kind and mixes in a quarter of
elements of other kinds, so a block of 16 or 32 meets several of them:

- normal: Gaussian at a per-run scale;
- wide: random exponents over the whole float32 range within one run;
- ties: odd multiples of a power of two near the run's top (midpoints of many grids);
- near_pow2: powers of two and values 1..4 ulps below or above them;
- subnormal: float32 subnormals and the smallest normals;
- huge: exponent fields 250..254 (up to float32 max);
- zeros: +0 and -0;
- sparse: zeros with one or two elements of another kind.

Transpose the result to put the same mixture along axis 0 (column blocks).
"""

from __future__ import annotations

import numpy as np

KINDS = ("normal", "wide", "ties", "near_pow2", "subnormal", "huge", "zeros", "sparse")
RUN = 16


def _from_fields(rng: np.random.Generator, fields: np.ndarray) -> np.ndarray:
    """float32 values with the given exponent fields, random fractions and signs."""
    bits = (fields.astype(np.uint32) << 23) | rng.integers(0, 1 << 23, fields.shape, np.uint32)
    bits |= rng.integers(0, 2, fields.shape, np.uint32) << 31
    return bits.view(np.float32)


def _kind(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """(n, RUN) float32 values of one kind, one row per run."""
    shape = (n, RUN)
    sign = np.where(rng.integers(0, 2, shape) == 1, -1.0, 1.0)
    base = rng.integers(-60, 60, (n, 1))
    if kind == "normal":
        return (rng.standard_normal(shape) * np.exp2(base)).astype(np.float32)
    if kind == "wide":
        return _from_fields(rng, rng.integers(0, 255, shape))
    if kind == "ties":
        odd = 2 * rng.integers(0, 64, shape) + 1
        return (sign * odd * np.exp2(base - rng.integers(4, 10, shape))).astype(np.float32)
    if kind == "near_pow2":
        ulps = rng.integers(-4, 3, shape, np.int32)  # negative: that many ulps under the power
        mag = np.exp2(base + rng.integers(-3, 1, shape)).astype(np.float32)
        return (sign * (mag.view(np.int32) + ulps).view(np.float32)).astype(np.float32)
    if kind == "subnormal":
        return _from_fields(rng, rng.integers(0, 4, shape) * (rng.random(shape) < 0.3))
    if kind == "huge":
        out = _from_fields(rng, rng.integers(250, 255, shape))
        out[rng.random(shape) < 0.1] = np.finfo(np.float32).max
        return out
    if kind == "zeros":
        return np.where(sign > 0, 0.0, -0.0).astype(np.float32)
    if kind == "sparse":
        out = np.zeros(shape, np.float32)
        other = _kind(rng, KINDS[rng.integers(0, len(KINDS) - 2)], n)
        picks = rng.integers(0, RUN, (n, 2))
        rows = np.arange(n)[:, None]
        out[rows, picks] = other[rows, picks]
        return out
    raise ValueError(f"unknown kind {kind!r}")


def adversarial(
    rng: np.random.Generator, shape: tuple[int, int], kinds: tuple[str, ...] = KINDS
) -> np.ndarray:
    """A (rows, cols) float32 tensor mixing `kinds` in runs of 16 along the last axis."""
    rows, cols = shape
    n = rows * (-(-cols // RUN))
    pools = {kind: _kind(rng, kind, n) for kind in kinds}
    main = rng.integers(0, len(kinds), (n, 1))
    which = np.where(rng.random((n, RUN)) < 0.75, main, rng.integers(0, len(kinds), (n, RUN)))
    out = np.zeros((n, RUN), np.float32)
    for i, kind in enumerate(kinds):
        out = np.where(which == i, pools[kind], out)
    return out.reshape(rows, -1)[:, :cols].copy()
