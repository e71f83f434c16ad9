"""Checkpoints: read the tensors of a .safetensors or .npz file in bands, write quantized ones.

Reading (`open_checkpoint`): a .safetensors file is opened with the safetensors library, which
validates its header (dtypes, shapes, non-overlapping offsets); a band of a tensor is then
read through a memory map of just its rows, so nothing of the size of a tensor is held.
F32 is read as is, F16 and BF16 are converted to float32 exactly (every value of either is a
float32). An .npz member stored uncompressed (np.savez) is mapped the same way; a compressed
one (np.savez_compressed) is decompressed whole when its tensor is processed.

Writing: per quantized tensor NAME, the output holds

    NAME.blocks       uint32, the packed MX blocks as the kernel wrote them (pimisa.mx.pack:
                      E in bits 0..7, micro-exponents in 8..15, then the element codes), one
                      block of words_per_block words per 16 elements: row direction
                      (R, ceil(C/16), wpb), column direction (ceil(R/16), C, wpb)
    NAME.shared_exp   uint8, the shared exponent E of each block (255: NaN/Inf block), row
                      (R, ceil(C/16)), column (ceil(R/16), C)
    NAME.micro_exp    uint8, the micro-exponent of each pair, row (R, 8 ceil(C/16)), column
                      (8 ceil(R/16), C)
    NAME.dequantized  float32 (R, C), the values the blocks stand for (with --dequantized)

and for the OCP MX formats (blocks of 32, pimisa.mx.ocplayout) NAME.blocks, uint32, the
element codes of each block packed as the kernel wrote them (code e at bit e x bits of the
block's W = bits words), row (R, ceil(C/32), W), column (ceil(R/32), C, W); NAME.scale, uint8,
the E8M0 scale of each block (255: NaN/Inf block), row (R, ceil(C/32)), column
(ceil(R/32), C); NAME.dequantized as above (docs/layout.md has both tables).

A .safetensors output also carries metadata `pimisa.format` (e.g. "mx6"), `pimisa.direction`
and `pimisa.shapes` (JSON: NAME -> [R, C]). The safetensors library has no incremental writer
(save_file takes every array in memory at once), so the file is written in its documented
format by pimisa.tensorio.SafetensorsWriter, band by band into the preallocated file; the
tests read it back with the library.
"""

from __future__ import annotations

import fnmatch
import json
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimisa.errors import InputError
from pimisa.layout import SUB
from pimisa.mx.formats.blocks import padded_shape
from pimisa.mx.pack import BLOCK, PACKED_FORMATS
from pimisa.tensorio import read_rows

# Checkpoint dtypes that are quantized, and why the other floating ones are not.
READ_DTYPES = ("F32", "F16", "BF16")
REFUSED_DTYPES = {"F64": "float64 (rounding it to float32 would lose bits)"}
NUMPY_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
                "F64": np.dtype("<f8")}


@dataclass
class TensorSource:
    """One tensor of a checkpoint, read as float32 in row bands: `t[r0:r1]`."""

    name: str
    shape: tuple[int, ...]
    stored: str  # checkpoint dtype: F32, F16, BF16, F64, ...
    path: str
    offset: int | None  # byte offset of the data in the file (None: load the member whole)
    member: str | None = None  # .npz member holding it (compressed members)

    dtype = np.dtype(np.float32)
    remote_bands = True  # picklable: a Dask worker reads its bands itself

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_whole": None}

    def __getitem__(self, rows: slice) -> np.ndarray:
        r0, r1, _ = rows.indices(self.shape[0])
        raw_dtype = NUMPY_DTYPES[self.stored]
        if self.offset is None:  # compressed: decompressed once, kept while bands are read
            whole = self.__dict__.get("_whole")
            if whole is None:
                import zipfile

                with zipfile.ZipFile(self.path) as zf, zf.open(str(self.member)) as f:
                    whole = self.__dict__["_whole"] = np.load(f, allow_pickle=False)
            raw = whole[r0:r1]
        else:
            raw = read_rows(self.path, raw_dtype, self.offset, self.shape, r0, r1)  # type: ignore[arg-type]
        if self.stored == "BF16":
            return (raw.view(np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)
        return raw.astype(np.float32, copy=False)

    def release(self) -> None:
        """Drop a decompressed member (the next band decompresses it again)."""
        self.__dict__.pop("_whole", None)


@dataclass(frozen=True)
class Entry:
    """A checkpoint tensor: its name, shape and stored dtype, and where to read it."""

    name: str
    shape: tuple[int, ...]
    stored: str
    source: TensorSource | None  # None: not readable in bands (not a float of READ_DTYPES)


def _safetensors_entries(path: str) -> list[Entry]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as f:
            names = list(f.offset_keys())
            info = {n: (f.get_slice(n).get_dtype(), tuple(f.get_slice(n).get_shape()))
                    for n in names}
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a valid .safetensors file ({str(exc)[:120]})") from None
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    base = 8 + size
    out = []
    for name in names:
        stored, shape = info[name]
        offset = base + int(header[name]["data_offsets"][0])
        source = TensorSource(name, shape, stored, path, offset) if stored in NUMPY_DTYPES \
            else None
        out.append(Entry(name, shape, stored, source))
    return out


def _npz_entries(path: str) -> list[Entry]:
    import zipfile  # here: `pimisa quantize --in W.npy` imports this module but reads no .npz

    fmt = np.lib.format
    stored_of = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<f8"): "F64",
                 np.dtype("V2"): "BF16"}  # V2: a bfloat16 array as numpy saves it (ml_dtypes)
    out = []
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                name = info.filename[:-4]
                with zf.open(info) as f:
                    version = fmt.read_magic(f)
                    read = fmt.read_array_header_1_0 if version == (1, 0) else \
                        fmt.read_array_header_2_0
                    shape, fortran, dtype = read(f)
                    header_len = f.tell()
                stored = stored_of.get(dtype.newbyteorder("<") if dtype.byteorder == ">"
                                       else dtype, str(dtype))
                if dtype.byteorder == ">" or fortran or stored not in NUMPY_DTYPES:
                    out.append(Entry(name, tuple(shape), stored if not fortran else
                                     f"{stored} (Fortran order)", None))
                    continue
                offset = None
                if info.compress_type == zipfile.ZIP_STORED:
                    raw.seek(info.header_offset)
                    local = raw.read(30)
                    name_len, extra_len = struct.unpack("<HH", local[26:30])
                    offset = info.header_offset + 30 + name_len + extra_len + header_len
                source = TensorSource(name, tuple(shape), stored, path, offset, info.filename)
                out.append(Entry(name, tuple(shape), stored, source))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a valid .npz file ({str(exc)[:120]})") from None
    return out


def open_checkpoint(path: str | Path) -> list[Entry]:
    """The tensors of a .safetensors or .npz checkpoint, in file order.

    Their sources name the file by its absolute path, so that Dask workers (whatever their
    working directory; on other machines, the file must be at the same path) read it too."""
    where = os.path.abspath(str(path))
    shown = str(path)
    if not os.path.isfile(where):
        raise InputError(f"{shown}: cannot read: no such regular file")
    try:
        if where.endswith(".safetensors"):
            return _safetensors_entries(where)
        if where.endswith(".npz"):
            return _npz_entries(where)
    except InputError as exc:
        raise InputError(str(exc).replace(where, shown, 1)) from None
    raise InputError(f"{shown}: expected a .safetensors or .npz checkpoint")


def is_checkpoint(path: str) -> bool:
    """Does `path` name a checkpoint (by its suffix)?"""
    return path.endswith((".safetensors", ".npz"))


def select(entries: Iterable[Entry], patterns: list[str]) -> tuple[list[Entry], dict[str, str]]:
    """(tensors to quantize, {skipped name: why}): every 2-D floating tensor of READ_DTYPES,
    or those matching one of `patterns` (fnmatch globs on the name)."""
    chosen, skipped = [], {}
    for e in entries:
        if patterns and not any(fnmatch.fnmatchcase(e.name, p) for p in patterns):
            continue
        if len(e.shape) != 2:
            skipped[e.name] = f"{len(e.shape)}-D"
        elif 0 in e.shape:
            skipped[e.name] = "empty"
        elif e.stored in REFUSED_DTYPES:
            skipped[e.name] = REFUSED_DTYPES[e.stored]
        elif e.stored not in READ_DTYPES or e.source is None:
            skipped[e.name] = f"dtype {e.stored} is not a float16/bfloat16/float32"
        else:
            chosen.append(e)
    return chosen, skipped


def output_arrays(name: str, shape: tuple[int, int], fmt: str, direction: str,
                  dequantized: bool) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The arrays written for tensor `name` (see the module docstring)."""
    from pimisa.mx.formats import FORMATS, OcpFormat

    f = FORMATS[fmt]
    k = f.block_size
    rows, cols = padded_shape(shape, k, direction)
    blocks = (rows, cols // k) if direction == "row" else (rows // k, cols)
    if isinstance(f, OcpFormat):
        out = {f"{name}.blocks": ((*blocks, f.element_bits), np.dtype(np.uint32)),
               f"{name}.scale": (blocks, np.dtype(np.uint8))}
    else:
        pairs = (rows, cols // 2) if direction == "row" else (rows // 2, cols)
        out = {f"{name}.blocks": ((*blocks, PACKED_FORMATS[fmt].words_per_block),
                                  np.dtype(np.uint32)),
               f"{name}.shared_exp": (blocks, np.dtype(np.uint8)),
               f"{name}.micro_exp": (pairs, np.dtype(np.uint8))}
    if dequantized:
        out[f"{name}.dequantized"] = (tuple(shape), np.dtype(np.float32))
    return out


def tensor_blocks(gathered: np.ndarray, direction: str, shape: tuple[int, int]) -> np.ndarray:
    """Packed blocks of a band in tensor order, from gather_blocks' (TR, TC, 16, lanes, wpb):
    row (R, ceil(C/16), wpb), column (ceil(R/16), C, wpb)."""
    tr, tc, _, lanes, wpb = gathered.shape
    rows, cols = shape
    if direction == "row":
        out = gathered.transpose(0, 2, 1, 3, 4).reshape(tr * SUB, tc * lanes, wpb)
        return out[:rows, :-(-cols // BLOCK)]
    out = gathered.transpose(0, 1, 3, 2, 4).reshape(tr, tc * lanes * SUB, wpb)
    return out[:-(-rows // BLOCK), :cols]
