"""A straightforward vectorized float64 version of every quantizer: the spec formulas applied to
whole (n, block) arrays at once, no chunking, no integer tricks. It is the speed baseline of
benchmarks/bench_formats.py and a fast independent cross-check of the golden model on big
tensors (the scalar reference is too slow for those)."""

from __future__ import annotations

import numpy as np

from pimisa.mx.formats.blocks import as_float32_2d, pad
from pimisa.mx.formats.registry import Format, OcpFormat, SharedMicroFormat, get_format


def _mx(blocks: np.ndarray, fmt: SharedMicroFormat) -> np.ndarray:
    m = fmt.mag_bits
    bexp = ((blocks.view(np.uint32) >> 23) & 0xFF).astype(np.int64)
    e = bexp.max(axis=1, keepdims=True)
    d = np.minimum(e - bexp.reshape(len(blocks), 8, 2).max(axis=2), 1)
    lsb = np.repeat(np.ldexp(1.0, e - 127 - d + 1 - m), 2, axis=1)
    mag = np.where(bexp == 0, 0.0, np.rint(np.abs(blocks.astype(np.float64)) / lsb))
    vals = np.copysign(np.minimum(mag, 2**m - 1) * lsb, blocks)
    return np.where(e == 255, np.nan, vals)


def _ocp(blocks: np.ndarray, fmt: OcpFormat) -> np.ndarray:
    bexp = ((blocks.view(np.uint32) >> 23) & 0xFF).astype(np.int64)
    top = bexp.max(axis=1, keepdims=True)
    scale = np.ldexp(1.0, np.maximum(top - 127 - fmt.emax_elem, -127))
    p = np.abs(blocks.astype(np.float64)) / scale
    pe = np.maximum(np.frexp(p)[1] - 1, fmt.emin)
    ulp = np.ldexp(1.0, pe - fmt.man_bits)
    q = np.minimum(np.rint(p / ulp) * ulp, fmt.max_normal)
    vals = np.copysign(q * scale, blocks)
    if fmt.twos_complement:  # no -0 in two's complement: a zero is +0 (the code 0x00)
        vals = np.where(q == 0, 0.0, vals)
    return np.where(top == 255, np.nan, vals)


def quantize_dequantize(x: np.ndarray, fmt: str | Format, direction: str = "row") -> np.ndarray:
    """Same contract as `pimisa.mx.formats.quantize_dequantize` (valid arguments only)."""
    f = get_format(fmt)
    x = as_float32_2d(x)
    k = f.block_size
    xp = pad(x, k, direction)
    work = xp if direction == "row" else np.ascontiguousarray(xp.T)
    blocks = work.reshape(-1, k)
    with np.errstate(invalid="ignore"):
        vals = _mx(blocks, f) if isinstance(f, SharedMicroFormat) else _ocp(blocks, f)
    out = vals.astype(np.float32).reshape(work.shape)
    out = out if direction == "row" else out.T
    return out[: x.shape[0], : x.shape[1]]
