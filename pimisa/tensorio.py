"""Tensor files for streaming: memory-mapped .npy input, .npz / .safetensors output written
band by band.

`NpyFile` reads a .npy file band by band through memory maps of just the band's rows, after
checking it is a regular file whose size holds the array its header declares.

`ArrayFileWriter` writes a file of arrays of known shapes whose rows arrive in bands: the whole
file is laid out and preallocated when it is opened, and each band is written (pwrite) straight
to its place, so nothing is spooled or copied and memory stays bounded by a band. Its two
containers: `NpzWriter`, an uncompressed .npz (a ZIP of .npy members; ZIP64 records where a
member, an offset or the archive passes 4 GiB), and `SafetensorsWriter`, a .safetensors file
(8-byte little-endian header size, JSON header, data). The output is opened with
pimisa.fileio.atomic_open: written under a temporary name and renamed over the target only on
success, so an interrupted or failed run leaves no partial output. A FIFO or character device
target is assembled in an unnamed temporary file beside it and copied out at the end.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import time
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from pimisa.errors import InputError
from pimisa.fileio import open_regular, read_npy_header
from pimisa.streamcore import crc32

COPY_CHUNK = 1 << 22
PWRITE_CHUNK = 1 << 30  # bytes per pwrite call (Linux writes at most 2 GiB - 4 KiB at once)
SAFETENSORS_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.uint32): "U32",
                      np.dtype(np.uint8): "U8"}


def read_rows(path: str, dtype: np.dtype, offset: int, shape: tuple[int, int], r0: int,
              r1: int) -> np.ndarray:
    """Rows r0..r1 of a C-order (rows, cols) array of `dtype` stored at byte `offset` of file
    `path`: a read-only memory map of just those rows (neither memory nor address space grows
    with the file; the map is released with the array). Not copied: the band's readers read
    the file's pages in place."""
    cols = shape[1]
    if r1 <= r0:
        return np.zeros((0, cols), dtype)
    band = np.memmap(path, dtype=dtype, mode="r", offset=offset + r0 * cols * dtype.itemsize,
                     shape=(r1 - r0, cols))
    return band.view(np.ndarray)


class NpyFile:
    """A .npy file read in row bands: `f[r0:r1]` maps just those rows (C order, read-only),
    so neither memory nor address space grows with the file. Fortran-order files
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
        return read_rows(self.path, self.dtype, self.offset, self.shape, r0, r1)



Specs = dict[str, tuple[tuple[int, ...], np.dtype]]


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of `data` at `offset` of file `fd`."""
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:done + PWRITE_CHUNK], offset + done)


class ArrayFileWriter:
    """A file of arrays of known shape, each receiving its rows in order, in bands, written
    to their place in the preallocated file (see module docstring). Subclasses lay the file
    out (`_layout`) and finish it (`_finish`, e.g. with checksums of what was written).

    Every array must receive its rows in order, exactly filling its shape; `close` checks that
    and completes the file; `abort` drops what was written (the caller discards the file).
    """

    def __init__(self, handle: IO[bytes], arrays: dict[str, tuple[tuple[int, ...], np.dtype]],
                 spool_dir: str | Path | None = None) -> None:
        self._handle = handle
        self._specs: Specs = {k: (tuple(int(n) for n in s), np.dtype(d))
                              for k, (s, d) in arrays.items()}
        self._rows = dict.fromkeys(arrays, 0)
        self._offsets, size = self._layout()
        handle.flush()
        self._spool: IO[bytes] | None = None
        if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            self._fd = handle.fileno()
        else:
            import tempfile  # here: only a FIFO or device target needs it

            self._spool = tempfile.TemporaryFile(dir=spool_dir, prefix=".pimisa-spool-")
            self._fd = self._spool.fileno()
        try:
            os.posix_fallocate(self._fd, 0, size)
        except OSError as exc:
            if exc.errno == getattr(os, "ENOSPC", 28) or not hasattr(os, "ftruncate"):
                raise InputError(f"cannot write {size} bytes of output: {exc.strerror}") \
                    from None
            os.ftruncate(self._fd, size)  # a file system without fallocate
        except AttributeError:  # no posix_fallocate on this platform
            os.ftruncate(self._fd, size)
        self._size = size

    def _layout(self) -> tuple[dict[str, int], int]:
        """(file offset of each array's first element, file size); writes nothing yet."""
        raise NotImplementedError

    def _written(self, name: str, data: memoryview) -> None:
        """Called with each band's bytes, in order per array (e.g. to checksum them)."""

    def _finish(self) -> None:
        """Write what follows the data (headers that need the checksums)."""

    def _pwrite(self, data: bytes | memoryview, offset: int) -> None:
        pwrite_all(self._fd, memoryview(data).cast("B"), offset)

    def write(self, name: str, rows: np.ndarray) -> None:
        """Write `rows`, the next rows of array `name`, to their place."""
        shape, dtype = self._specs[name]
        rows = np.ascontiguousarray(rows, dtype=dtype)
        if rows.shape[1:] != shape[1:] or self._rows[name] + rows.shape[0] > shape[0]:
            raise ValueError(f"{name}: rows of shape {rows.shape} do not continue {shape} "
                             f"after row {self._rows[name]}")
        row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        data = memoryview(rows).cast("B") if rows.size else memoryview(b"")
        self._pwrite(data, self._offsets[name] + self._rows[name] * row_bytes)
        self._written(name, data)
        self._rows[name] += rows.shape[0]

    def close(self) -> None:
        """Check every array is complete and finish the file."""
        for name, (shape, _) in self._specs.items():
            if self._rows[name] != shape[0]:
                raise ValueError(f"{name}: {self._rows[name]} of {shape[0]} rows written")
        self._finish()
        if self._spool is not None:
            self._spool.seek(0)
            import shutil

            shutil.copyfileobj(self._spool, self._handle, COPY_CHUNK)
            self._spool.close()
            self._spool = None

    def abort(self) -> None:
        """Drop the spool, if any (the caller discards the partial file)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


class SafetensorsWriter(ArrayFileWriter):
    """A .safetensors file (header with `metadata`, then the arrays in the given order)."""

    def __init__(self, handle: IO[bytes], arrays: dict[str, tuple[tuple[int, ...], np.dtype]],
                 metadata: dict[str, str], spool_dir: str | Path | None = None) -> None:
        self._metadata = metadata
        super().__init__(handle, arrays, spool_dir)

    def _layout(self) -> tuple[dict[str, int], int]:
        header: dict[str, object] = {"__metadata__": self._metadata}
        offset = 0
        places = {}
        for name, (shape, dtype) in self._specs.items():
            size = _nbytes(shape, dtype)
            header[name] = {"dtype": SAFETENSORS_DTYPES[dtype], "shape": list(shape),
                            "data_offsets": [offset, offset + size]}
            places[name] = offset
            offset += size
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        self._header = struct.pack("<Q", len(text)) + text
        start = len(self._header)
        return {k: start + v for k, v in places.items()}, start + offset

    def _finish(self) -> None:
        self._pwrite(self._header, 0)


ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on are recorded in ZIP64 fields
_FULL = 0xFFFFFFFF  # a 32-bit field whose value is in the ZIP64 fields
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<4sIQI")


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_2_0(
        out, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": shape})
    return out.getvalue()


def _dos_time(t: float) -> tuple[int, int]:
    y, mo, d, h, mi, s = time.localtime(t)[:6]
    return (h << 11) | (mi << 5) | (s // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d


class NpzWriter(ArrayFileWriter):
    """An uncompressed .npz archive: member NAME.npy per array, in the given order, written
    as np.savez would store it (what np.load and zipfile read), with ZIP64 records wherever a
    size or offset passes 4 GiB. The CRC-32 of each member is computed as its bands arrive."""

    def _layout(self) -> tuple[dict[str, int], int]:
        self._members: dict[str, list] = {}  # name: [file name, .npy header, size, offset, CRC]
        offset, places = 0, {}
        for name, (shape, dtype) in self._specs.items():
            filename = f"{name}.npy".encode()
            header = _npy_header(shape, dtype)
            size = len(header) + _nbytes(shape, dtype)
            extra = 20 if size >= ZIP64_LIMIT else 0  # ZIP64 sizes in the local header
            data = offset + _LOCAL.size + len(filename) + extra
            self._members[name] = [filename, header, size, offset, zlib.crc32(header)]
            places[name] = data + len(header)
            offset = data + size
        self._data_end = offset
        central = sum(_CENTRAL.size + len(m[0]) + 28 for m in self._members.values())  # ZIP64
        return places, offset + central + _END64.size + _LOCATOR64.size + _END.size

    def _written(self, name: str, data: memoryview) -> None:
        member = self._members[name]
        member[4] = crc32(data, member[4])

    def _finish(self) -> None:
        tm, dt = _dos_time(time.time())
        central = []
        for filename, header, size, offset, crc in self._members.values():
            flags = 0x800 if not filename.isascii() else 0
            big, far = size >= ZIP64_LIMIT, offset >= ZIP64_LIMIT
            version = 45 if big or far else 20
            local_size = _FULL if big else size
            local = _LOCAL.pack(b"PK\3\4", version, flags, 0, tm, dt, crc, local_size,
                                local_size, len(filename), 20 if big else 0) + filename
            if big:
                local += struct.pack("<HHQQ", 1, 16, size, size)
            self._pwrite(local + header, offset)
            extra = b""
            if big:
                extra += struct.pack("<QQ", size, size)
            if far:
                extra += struct.pack("<Q", offset)
            if extra:
                extra = struct.pack("<HH", 1, len(extra)) + extra
            central.append(_CENTRAL.pack(
                b"PK\1\2", (3 << 8) | version, version, flags, 0, tm, dt, crc, local_size,
                local_size, len(filename), len(extra), 0, 0, 0, 0o644 << 16,
                _FULL if far else offset) + filename + extra)
        directory = b"".join(central)
        start, count = self._data_end, len(central)
        end = b""
        zip64 = start + len(directory) >= ZIP64_LIMIT or count >= 0xFFFF
        if zip64:
            end64 = start + len(directory)
            end += _END64.pack(b"PK\6\6", _END64.size - 12, 45, 45, 0, 0, count, count,
                               len(directory), start)
            end += _LOCATOR64.pack(b"PK\6\7", 0, end64, 1)
        small = min(count, 0xFFFF)
        end += _END.pack(b"PK\5\6", 0, 0, small, small, _FULL if zip64 else len(directory),
                         _FULL if zip64 else start, 0)
        tail = directory + end
        self._pwrite(tail, start)
        os.ftruncate(self._fd, start + len(tail))
