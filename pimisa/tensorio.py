"""Tensor files for streaming: memory-mapped .npy input, .npz output written band by band.

`NpyFile` reads a .npy file band by band through memory maps of just the band's rows, after
checking it is a regular file whose size holds the array its header declares.
`NpzWriter` writes an .npz archive whose arrays arrive in row bands: the first array goes
straight into the (uncompressed, ZIP64) archive, the others are spooled to unnamed temporary
files beside the output and copied in at the end, so memory stays bounded by a band.
Everything is written under a temporary name and renamed over the target only on success
(pimisa.fileio.atomic_open): an interrupted or failed run leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from pimisa.errors import InputError
from pimisa.fileio import open_regular, read_npy_header

COPY_CHUNK = 1 << 22


class NpyFile:
    """A .npy file read in row bands: `f[r0:r1]` maps just those rows (C order) and copies
    them out, so neither memory nor address space grows with the file. Fortran-order files
    are mapped whole (their rows are not contiguous)."""

    remote_bands = True  # picklable: a Dask worker reads its bands itself

    def __init__(self, path: str | Path) -> None:
        where = str(path)
        self.path = os.path.abspath(where)  # Dask workers may run elsewhere
        with open_regular(where) as handle:
            shape, fortran, dtype, offset = read_npy_header(handle, where)
            size = os.fstat(handle.fileno()).st_size
        need = offset + int(np.prod(shape, dtype=object)) * dtype.itemsize
        if need > size:
            raise InputError(f"{where}: the header declares {shape} {dtype} ({need} bytes) "
                             f"but the file has {size} bytes")
        self.shape, self.dtype, self.fortran, self.offset = tuple(shape), dtype, fortran, offset
        self.ndim = len(self.shape)
        self._whole: np.ndarray | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_whole": None}

    def __getitem__(self, rows: slice) -> np.ndarray:
        r0, r1, _ = rows.indices(self.shape[0])
        if self.fortran or self.ndim != 2:
            if self._whole is None:
                self._whole = np.memmap(self.path, dtype=self.dtype, mode="r",
                                        offset=self.offset, shape=self.shape,
                                        order="F" if self.fortran else "C")
            return np.array(self._whole[r0:r1])
        if r1 <= r0:
            return np.zeros((0, self.shape[1]), self.dtype)
        band = np.memmap(self.path, dtype=self.dtype, mode="r",
                         offset=self.offset + r0 * self.shape[1] * self.dtype.itemsize,
                         shape=(r1 - r0, self.shape[1]))
        out = np.array(band)
        del band
        return out


class NpzWriter:
    """An .npz archive of arrays of known shape, written in row bands (see module docstring).

    Every array must receive its rows in order, exactly filling its shape; `close` checks
    that and completes the archive.
    """

    def __init__(self, handle: IO[bytes], arrays: dict[str, tuple[tuple[int, ...], np.dtype]],
                 spool_dir: str | Path | None = None) -> None:
        self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True)
        self._specs = {k: (tuple(s), np.dtype(d)) for k, (s, d) in arrays.items()}
        self._rows = dict.fromkeys(arrays, 0)
        names = list(arrays)
        self._direct = names[0]
        self._stream = self._zip.open(f"{self._direct}.npy", "w", force_zip64=True)
        self._header(self._stream, self._direct)
        self._spools: dict[str, IO[bytes]] = {}
        for name in names[1:]:
            spool = tempfile.TemporaryFile(dir=spool_dir, prefix=".pimisa-spool-")
            self._header(spool, name)
            self._spools[name] = spool

    def _header(self, out: IO[bytes], name: str) -> None:
        shape, dtype = self._specs[name]
        np.lib.format.write_array_header_2_0(
            out, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                  "shape": shape})

    def write(self, name: str, rows: np.ndarray) -> None:
        """Append `rows` (the next rows of array `name`)."""
        shape, dtype = self._specs[name]
        rows = np.ascontiguousarray(rows, dtype=dtype)
        if rows.shape[1:] != shape[1:] or self._rows[name] + rows.shape[0] > shape[0]:
            raise ValueError(f"{name}: rows of shape {rows.shape} do not continue {shape} "
                             f"after row {self._rows[name]}")
        out = self._stream if name == self._direct else self._spools[name]
        out.write(memoryview(rows).cast("B"))
        self._rows[name] += rows.shape[0]

    def close(self) -> None:
        """Check every array is complete and finish the archive."""
        for name, (shape, _) in self._specs.items():
            if self._rows[name] != shape[0]:
                raise ValueError(f"{name}: {self._rows[name]} of {shape[0]} rows written")
        self._stream.close()
        for name, spool in self._spools.items():
            spool.seek(0)
            with self._zip.open(f"{name}.npy", "w", force_zip64=True) as member:
                shutil.copyfileobj(spool, member, COPY_CHUNK)
            spool.close()
        self._spools = {}
        self._zip.close()

    def abort(self) -> None:
        """Drop the spools and close the archive (the caller discards the partial file)."""
        for spool in self._spools.values():
            spool.close()
        self._spools = {}
        with contextlib.suppress(Exception):
            self._stream.close()
        with contextlib.suppress(Exception):
            self._zip.close()
