"""One-pass C versions of three band steps of the streamed quantize flow (cext/stream_core.c):
placing float32 rows in the hp16 layout, reading MX9/MX6/MX4 blocks out of an mx_packed region
into golden-model codes, and decoding such codes to floats; and the CRC-32 of the .npz writer.

Each function returns False / None when its case is not one the core handles (another layout,
format or array type, or pimisa._streamcore not built); the caller then runs the numpy
version (pimisa.layout.place_subtiles, pimisa.mx.layout.read_codes, pimisa.mx.formats.decode),
which is the reference: the results are the same bit for bit (tests/test_streamcore.py).
"""

from __future__ import annotations

import functools
import zlib
from types import ModuleType

import numpy as np

from pimisa.layout import SUB
from pimisa.mx.formats import SharedMicroCodes, get_format
from pimisa.mx.pack import PACKED_FORMATS


@functools.cache
def core() -> ModuleType | None:
    """The compiled module (set up: sc_init), or None when it is not built."""
    try:
        from pimisa import _streamcore
    except ImportError:
        return None
    _CLMUL.append(bool(_streamcore.lib.sc_init()))
    return _streamcore


_CLMUL: list[bool] = []  # does sc_crc32 fold with carry-less multiplication (set by core)


def crc32(data: bytes | memoryview, crc: int = 0) -> int:
    """zlib.crc32(data, crc), about four times faster where the core folds it with carry-less
    multiplication (x86-64 with PCLMULQDQ)."""
    mod = core()
    if mod is None or not _CLMUL[0] or len(data) < 4096:
        return zlib.crc32(data, crc)
    return int(mod.lib.sc_crc32(mod.ffi.from_buffer("uint8_t[]", data), len(data), crc))


def _region(words: np.ndarray) -> tuple[int, int] | None:
    """(address, words per slot) of a region view (slots, words, units, lanes) of uint32 whose
    units and lanes are contiguous, else None."""
    if words.dtype != np.uint32 or words.ndim != 4:
        return None
    _, _, units, lanes = words.shape
    s = words.strides
    if s[3] != 4 or s[2] != 4 * lanes or s[1] != 4 * lanes * units or s[0] % 4:
        return None
    return words.__array_interface__["data"][0], s[0] // 4


def place_hp16(words: np.ndarray, x: np.ndarray) -> bool:
    """Place float32 `x` (2-D, rows contiguous) into hp16 region view `words` as
    HP16.place does; False (nothing written) when the core cannot."""
    mod, region = core(), _region(words)
    if mod is None or region is None or words.flags.writeable is False:
        return False
    if x.ndim != 2 or x.dtype != np.float32 or x.strides[1] != 4 or x.strides[0] % 4 \
            or not x.flags.aligned or x.shape[0] < 1:
        return False
    slots, nwords, units, lanes = words.shape
    rows, cols = x.shape
    tiles = -(-rows // SUB) * -(-cols // (SUB * lanes))
    if nwords < SUB * SUB or tiles > slots * units:
        return False  # the numpy version reports the capacity error
    ffi = mod.ffi
    src = ffi.cast("const uint32_t *", x.__array_interface__["data"][0])
    mod.lib.sc_place_hp16(src, rows, cols, x.strides[0] // 4,
                          ffi.cast("uint32_t *", region[0]), slots, region[1], units, lanes,
                          nwords)
    return True


def read_mx(words: np.ndarray, fmt: str, direction: str,
            shape: tuple[int, int]) -> SharedMicroCodes | None:
    """The codes of an (R, C) tensor in mx_packed region view `words` (as
    pimisa.mx.layout.read_codes gives them), or None when the core cannot read them."""
    mod, region = core(), _region(words)
    packed = PACKED_FORMATS.get(fmt)
    if mod is None or region is None or packed is None:
        return None
    slots, nwords, units, lanes = words.shape
    rows, cols = shape
    tiles = -(-rows // SUB) * -(-cols // (SUB * lanes))
    if nwords < SUB * packed.words_per_block or tiles > slots * units:
        return None  # the numpy version reports it
    col = direction == "col"
    if col:
        nb = -(-rows // SUB)
        arrays = ((nb * SUB, cols), (nb, cols), (nb * SUB // 2, cols))
    else:
        nb = -(-cols // SUB)
        arrays = ((rows, nb * SUB), (rows, nb), (rows, nb * SUB // 2))
    codes, shared, micro = (np.empty(s, np.uint8) for s in arrays)
    ffi = mod.ffi
    mod.lib.sc_read_mx(ffi.cast("const uint32_t *", region[0]), region[1], units, lanes,
                       packed.m, packed.words_per_block, int(col), rows, cols,
                       *(ffi.from_buffer("uint8_t[]", a, require_writable=True)
                         for a in (codes, shared, micro)))
    return SharedMicroCodes(get_format(fmt), direction, (rows, cols), codes, shared, micro)


def decode_mx(enc: object, rows: tuple[int, int] | None = None,
              out: np.ndarray | None = None) -> np.ndarray | None:
    """The float32 values of MX9/MX6/MX4 codes (as pimisa.mx.formats.decode gives them,
    contiguous), of tensor rows `rows` = (r0, r1) (default all; r0 a multiple of 16 for column
    blocks), into `out` if given (float32, C-contiguous, at least r1 - r0 rows: the first
    r1 - r0 are returned). None when the core cannot decode them (other formats, arrays of
    other types or shapes)."""
    mod = core()
    if mod is None or not isinstance(enc, SharedMicroCodes):
        return None
    arrays = (enc.codes, enc.shared_exp, enc.micro_exp)
    if any(not isinstance(a, np.ndarray) or a.dtype != np.uint8 or not a.flags.c_contiguous
           for a in arrays):
        return None
    n, cols = enc.shape
    col = enc.direction == "col"
    nb = -(-(n if col else cols) // SUB)
    want = ((nb * SUB, cols), (nb, cols), (nb * SUB // 2, cols)) if col else \
        ((n, nb * SUB), (n, nb), (n, nb * SUB // 2))
    if any(a.shape != s for a, s in zip(arrays, want, strict=True)) or \
            enc.fmt.block_size != SUB:
        return None
    r0, r1 = rows or (0, n)
    if not 0 <= r0 <= r1 <= n or (col and r0 % SUB):
        raise ValueError(f"rows {r0}..{r1} of {n} (column blocks: from a multiple of 16)")
    if out is None:
        out = np.empty((r1 - r0, cols), np.float32)
    elif out.dtype != np.float32 or not out.flags.c_contiguous or out.ndim != 2 \
            or out.shape[1] != cols or out.shape[0] < r1 - r0:
        raise ValueError(f"out must be C-contiguous float32 with {cols} columns and at least "
                         f"{r1 - r0} rows")
    out = out[:r1 - r0]
    ffi = mod.ffi
    mod.lib.sc_decode_mx(*(ffi.from_buffer("uint8_t[]", a) for a in arrays), enc.fmt.mag_bits,
                         int(col), cols, r0, r1,
                         ffi.from_buffer("float[]", out, require_writable=True))
    return out
