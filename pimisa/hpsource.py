"""The high-precision (HP) type of `pimisa quantize --hp`: float32 (default) or BF16 weights.

With `--hp bf16` the tensor is quantized by the BF16-weight kernels (kernels/mx*_bf16, layout
hp16_bf16) and its values must be BF16 values. A band source (`HPSource`) wraps the input so
that the streamed flow sees float32 bands holding exactly those values:

- float32 / float16 data: every value must be a BF16 value, else an error names the first one
  that is not (tensor index and value); with `--round-hp` they are rounded to nearest, ties to
  even (as ml_dtypes converts; overflow gives Inf, NaN stays NaN) first;
- 16-bit patterns: a .npy of dtype '<V2' (what numpy writes for an ml_dtypes bfloat16 array;
  numpy itself reads it as 2-byte voids) or '<u2'/'<i2' (the bit patterns, for users without
  ml_dtypes) is BF16, converted to float32 exactly. Checkpoints store BF16 natively
  (safetensors "BF16"; an .npz member of dtype V2).

The golden model is applied to the same float32 values (a BF16 value is exact in float32), so
`--golden` checks the kernel against the golden model applied to the BF16 values.
"""

from __future__ import annotations

import numpy as np

from pimisa.errors import InputError, UsageError
from pimisa.layout16 import bf16_to_float32, hp_bits, is_16bit_pattern, pattern_view

HP_CHOICES = ("fp32", "bf16")
HP_BYTES = {"fp32": 4, "bf16": 2}


def check_hp(hp: str, round_hp: bool) -> None:
    """UsageError unless `hp` is a known HP type and --round-hp goes with bf16."""
    if hp not in HP_CHOICES:
        raise UsageError(f"--hp {hp!r}: expected one of {', '.join(HP_CHOICES)}")
    if round_hp and hp != "bf16":
        raise UsageError("--round-hp rounds the input to BF16: it needs --hp bf16")


def bf16_band(rows: np.ndarray, where: str, row0: int, round_hp: bool) -> np.ndarray:
    """float32 band holding BF16 values: patterns converted, floats checked (or rounded)."""
    if is_16bit_pattern(rows.dtype):
        return bf16_to_float32(pattern_view(rows))
    if rows.dtype.kind != "f" or rows.dtype.itemsize > 4:
        raise InputError(f"{where}: dtype {rows.dtype}: --hp bf16 takes float32 or float16 "
                         "values that are BF16 values, or BF16 patterns (a '<V2' or uint16 "
                         ".npy)")
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.ascontiguousarray(rows, np.float32)
    bits = hp_bits(values, "bf16", where, round_hp, row0,
                   " (pass --round-hp to round to nearest, ties to even)")
    return bf16_to_float32(bits) if round_hp else values


class HPSource:
    """A band source (shape, dtype, rows by slice) yielding float32 bands of BF16 values."""

    dtype = np.dtype(np.float32)

    def __init__(self, source: object, where: str, round_hp: bool = False) -> None:
        self.source, self.where, self.round_hp = source, where, round_hp
        self.shape = tuple(source.shape)  # type: ignore[attr-defined]
        self.ndim = len(self.shape)
        self.remote_bands = getattr(source, "remote_bands", False)
        self.stored = np.dtype(source.dtype)  # type: ignore[attr-defined]
        if not (is_16bit_pattern(self.stored) or
                (self.stored.kind == "f" and self.stored.itemsize <= 4)):
            raise InputError(f"{where}: dtype {self.stored}: --hp bf16 takes float32 or "
                             "float16 values that are BF16 values, or BF16 patterns (a '<V2' "
                             "or uint16 .npy)")

    def __getitem__(self, rows: slice) -> np.ndarray:
        r0 = rows.indices(self.shape[0])[0]
        band = np.asarray(self.source[rows])  # type: ignore[index]
        return bf16_band(band, self.where, r0, self.round_hp)
