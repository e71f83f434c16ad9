"""Input checks, zero padding and the blocked views shared by every quantizer.

Both directions are handled through one canonical 3-D view of the padded tensor,
(G, k, W), with every block running along axis 1:

- row (blocks along the last axis): the padded (R, Cp) array viewed as (R*Cp/k, k, 1);
- col (blocks along axis 0): the padded (Rp, C) array viewed as (Rp/k, k, C).

Per-block arrays are then (G, 1, W) and per-pair arrays (G, k/2, W), which reshape to the
documented code-array shapes without copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import ArrayLike

from pimisa.errors import InputError
from pimisa.mx.formats.bits import ABS_MASK, INF_BITS, tree_max
from pimisa.mx.formats.registry import Format, check_direction, get_format

CHUNK_ELEMENTS = 1 << 15  # elements per chunk: the temporaries stay in L2


def as_float32_2d(x: ArrayLike) -> np.ndarray:
    """`x` as a C-contiguous 2-D float32 array; InputError for anything else.

    Real numeric input of another dtype is cast to float32 first (values beyond the float32
    range become +-Inf, which makes their block NaN)."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputError(f"input is not a numeric array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise InputError(f"input must be real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise InputError(f"input must be a 2-D array, got shape {arr.shape}")
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(arr, dtype=np.float32)


def padded_shape(shape: tuple[int, int], k: int, direction: str) -> tuple[int, int]:
    """The shape after zero padding the block axis to a multiple of `k`."""
    rows, cols = shape
    if direction == "row":
        return rows, -(-cols // k) * k
    return -(-rows // k) * k, cols


def pad(x: np.ndarray, k: int, direction: str) -> np.ndarray:
    """`x` zero padded along its block axis (no copy when already a block multiple)."""
    shape = padded_shape(x.shape, k, direction)
    if shape == x.shape:
        return x
    out = np.zeros(shape, np.float32)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def blocked(a: np.ndarray, k: int, direction: str) -> np.ndarray:
    """The (G, k, W) view of a padded 2-D array (or of any array of its padded shape)."""
    rows, cols = a.shape
    if direction == "row":
        return a.reshape(rows * cols // k, k, 1)
    return a.reshape(rows // k, k, cols)


def per_block(a: np.ndarray, direction: str, padded: tuple[int, int], k: int) -> np.ndarray:
    """Reshape a (G, j, W) array of per-block (j=1) or per-sub-block values to 2-D."""
    rows, cols = padded
    j = a.shape[1]
    if direction == "row":
        return a.reshape(rows, cols // k * j)
    return a.reshape(rows // k * j, cols)


def chunks(g_total: int, k: int, width: int) -> Iterator[tuple[slice, slice]]:
    """(block slice, column slice) pairs tiling a (G, k, W) view in cache-sized pieces."""
    if g_total == 0 or width == 0:
        return
    if width * k > CHUNK_ELEMENTS:
        step_w = max(1, CHUNK_ELEMENTS // k)
        for g in range(g_total):
            for w0 in range(0, width, step_w):
                yield slice(g, g + 1), slice(w0, w0 + step_w)
        return
    step_g = max(1, CHUNK_ELEMENTS // (k * width))
    for g0 in range(0, g_total, step_g):
        yield slice(g0, g0 + step_g), slice(None)


def set_header(codes: object, kind: type[Format]) -> None:
    """Resolve the fmt, direction and shape fields of a frozen codes dataclass in place, for
    codes built by hand (e.g. from a kernel's outputs): a format name becomes its descriptor,
    the shape a pair of ints. InputError when they do not fit `kind` codes."""
    header = _check_header(codes.fmt, codes.direction, codes.shape, kind)  # type: ignore[attr-defined]
    for name, value in zip(("fmt", "direction", "shape"), header, strict=True):
        object.__setattr__(codes, name, value)


def _check_header(
    fmt: str | Format, direction: str, shape: object, kind: type[Format]
) -> tuple[Format, str, tuple[int, int]]:
    """The resolved (format, direction, shape) of a set of codes."""
    f = get_format(fmt)
    if not isinstance(f, kind):
        raise InputError(f"format {f.name} does not fit {kind.__name__} codes")
    check_direction(direction)
    try:
        rows, cols = (int(n) for n in shape)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(f"shape must be two sizes (rows, cols), got {shape!r}") from None
    if rows < 0 or cols < 0:
        raise InputError(f"shape must not be negative, got {shape!r}")
    return f, direction, (rows, cols)


def check_arrays(fields: Iterable[tuple[str, ArrayLike, tuple[int, int], int]]) -> None:
    """InputError unless each (name, array, shape, top) is an integer array of that shape with
    values in [0, top]."""
    for name, arr, shape, top in fields:
        arr = np.asarray(arr)
        if arr.shape != shape or arr.dtype.kind not in "iu":
            raise InputError(
                f"{name} must be an integer array of shape {shape}, got {arr.dtype} {arr.shape}"
            )
        if arr.size and (arr.min() < 0 or arr.max() > top):
            raise InputError(f"{name} values must lie in [0, {top}]")


def clear_bad_blocks(
    bits: np.ndarray, levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(bits, |bits|, block maxima of |bits|, NaN/Inf block mask) of a (g, 2**levels, w) chunk
    of float32 bits: a block holding a NaN or Inf is zeroed, the mask is None when none does."""
    a = bits & ABS_MASK
    top = tree_max(a, levels)
    bad = top >= INF_BITS
    if not bad.any():
        return bits, a, top, None
    bits = np.where(bad, 0, bits)
    a = bits & ABS_MASK
    return bits, a, tree_max(a, levels), bad
