"""Safe file input and output for every command.

Inputs are read only from regular files, with a size cap per kind of file checked before
reading (`READ_LIMITS`), so a device, a FIFO or a huge file never hangs a command or fills
memory. Outputs are written atomically (a temporary file beside the target, renamed over it)
when the target is a new name or a regular file; a character device or FIFO (`/dev/null`,
`/dev/stdout`) is written directly; a directory, any other kind of existing file, or one of the
command's own inputs is refused before any work is done (`check_outputs`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from pimisa.errors import InputError, UsageError

MiB = 1 << 20

# The largest file of each kind a command reads (bytes). Documented in docs/files.md.
READ_LIMITS: dict[str, int] = {
    "source": 16 * MiB,       # a .pimasm source or an included file
    "preset": 1 * MiB,        # an architecture, model or GPU preset (.toml)
    "program": 2048 * MiB,    # a .pimb command stream (MAX_COMMANDS records)
    "trace": 4096 * MiB,      # a DRAM command trace (.csv)
    "python": 16 * MiB,       # a reference module
}


class InputPath(str):
    """A command-line argument naming a file the command reads (see `check_outputs`)."""


class OutputPath(str):
    """A command-line argument naming a file the command writes (see `check_outputs`)."""


def output_arg(text: str) -> OutputPath:
    """argparse type of an output path: refuses the empty path."""
    if not text:
        raise argparse.ArgumentTypeError("an empty output path")
    return OutputPath(text)


def input_arg(text: str) -> InputPath:
    """argparse type of an input path (or bundled name)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty input path")
    return InputPath(text)


def input_spec_arg(text: str) -> InputPath:
    """argparse type of a `NAME=FILE` input (the part after the first `=` is the path)."""
    return InputPath(text)


def _spec_path(value: InputPath) -> str:
    return value.partition("=")[2] if "=" in value else str(value)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def _walk(values: Iterable[object]) -> Iterator[object]:
    for value in values:
        if isinstance(value, list | tuple):
            yield from _walk(value)
        else:
            yield value


def check_output(path: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an output path that would destroy something or cannot be written.

    Refused (UsageError): the empty path, a path ending in a slash, a directory, an existing
    file that is neither regular nor a character device nor a FIFO, and any of `inputs`.
    """
    text = str(path)
    if not text:
        raise UsageError("an empty output path")
    if "\0" in text:
        raise UsageError(f"output {text!r}: a NUL byte in the path")
    if text.endswith(os.sep):
        raise UsageError(f"output {text}: names a directory (ends in '/')")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"output {text}: {exc.strerror}") from None
    if st is not None:
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"output {text}: is a directory")
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise UsageError(f"output {text}: exists and is not a regular file, character "
                             "device or FIFO; refusing to replace it")
        if stat.S_ISREG(mode):
            for source in inputs:
                if _identity(str(source)) == (st.st_dev, st.st_ino):
                    raise UsageError(f"output {text} is also an input of this command "
                                     f"({source}); refusing to overwrite it")
    else:
        parent = os.path.dirname(text) or "."
        if not os.path.isdir(parent):
            raise UsageError(f"output {text}: no directory {parent}")


def check_outputs(values: Iterable[object]) -> None:
    """Check every OutputPath among parsed argument `values` against every InputPath.

    Two outputs naming the same regular file are refused too.
    """
    flat = list(_walk(values))
    inputs = [_spec_path(v) for v in flat if isinstance(v, InputPath)]
    outputs = [str(v) for v in flat if isinstance(v, OutputPath)]
    seen: dict[tuple[int, int] | str, str] = {}
    for out in outputs:
        check_output(out, inputs)
        key = _identity(out) if os.path.isfile(out) else os.path.abspath(out)
        if key in seen and not _is_stream(out):
            raise UsageError(f"output {out} is given twice ({seen[key]})")
        if key is not None:
            seen[key] = out


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open `path` for writing so that no partial output is ever left under its name.

    A new name or a regular file: write a temporary file beside it, rename it over the target
    on success, delete it on failure. A character device or FIFO: write it directly (a FIFO
    with no reader is an error, not a hang). Anything else is refused (see `check_output`).
    """
    check_output(path)
    target = str(path)
    text_kw = {} if "b" in mode else {"encoding": "utf-8"}
    if _is_stream(target):
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK)
            os.set_blocking(fd, True)
        except OSError as exc:
            raise InputError(f"{target}: cannot write: {exc.strerror}") from None
        with os.fdopen(fd, mode, **text_kw) as handle:
            yield handle
        return
    directory = os.path.dirname(target) or "."
    try:
        fd, tmp = _create_temporary(directory, f".{os.path.basename(target)}.", ".tmp")
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **text_kw) as handle:
            yield handle
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create_temporary(directory: str, prefix: str, suffix: str) -> tuple[int, str]:
    """(descriptor, path) of a new file PREFIX<random>SUFFIX in `directory`, created
    exclusively with mode 0600 (tempfile.mkstemp's contract; that module and what it imports
    cost every command a few milliseconds)."""
    for _ in range(100):
        path = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


@contextlib.contextmanager
def open_regular(path: str | Path, kind: str | None = None) -> Iterator[IO[bytes]]:
    """Open a regular file for reading; refuse anything else before reading a byte.

    A FIFO is opened without blocking, then refused. With `kind`, a file larger than
    READ_LIMITS[kind] is refused too.
    """
    text = str(path)
    try:
        fd = os.open(text, os.O_RDONLY | os.O_NONBLOCK)
    except (OSError, ValueError) as exc:
        raise InputError(f"{text}: cannot read: {getattr(exc, 'strerror', None) or exc}") \
            from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise InputError(f"{text}: cannot read: {what}")
        if kind is not None and st.st_size > READ_LIMITS[kind]:
            raise InputError(f"{text}: {st.st_size} bytes, over the {READ_LIMITS[kind]}-byte "
                             f"limit for a {kind} file")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: str | Path, kind: str) -> bytes:
    """The bytes of a regular file of `kind`, at most READ_LIMITS[kind] of them."""
    limit = READ_LIMITS[kind]
    with open_regular(path, kind) as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            data = handle.read(min(size, limit) + 1)  # a file may grow while it is read
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise InputError(f"{path}: over the {limit}-byte limit for a {kind} file")
    return data


def read_text(path: str | Path, kind: str) -> str:
    """A regular UTF-8 text file of `kind` (see read_regular)."""
    data = read_regular(path, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x})") \
            from None


def parse_toml(text: str, where: str) -> dict:
    """The table of TOML `text`; InputError naming `where` for invalid or too deeply nested
    TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: invalid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{where}: invalid TOML: nested too deeply") from None


def read_stream(stream: IO[str], what: str, kind: str) -> str:
    """At most READ_LIMITS[kind] characters of a text stream such as stdin."""
    limit = READ_LIMITS[kind]
    try:
        text = stream.read(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what}: cannot read: {exc}") from None
    if len(text) > limit:
        raise InputError(f"{what}: over the {limit}-byte limit for a {kind} file")
    return text


def read_npy_header(handle: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and data offset of an open .npy file, checked.

    The header is parsed as a literal (never evaluated); objects (pickles) are refused.
    """
    fmt = np.lib.format
    magic = handle.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
        raise InputError(f"{where}: not a .npy file" + (" (empty)" if not magic else ""))
    major = magic[6]
    if major not in (1, 2, 3):
        raise InputError(f"{where}: unsupported .npy version {major}.{magic[7]}")
    size_bytes = 2 if major == 1 else 4
    raw = handle.read(size_bytes)
    if len(raw) < size_bytes:
        raise InputError(f"{where}: truncated .npy header")
    hlen = int.from_bytes(raw, "little")
    if hlen > 65535:
        raise InputError(f"{where}: .npy header of {hlen} bytes is too long")
    header = handle.read(hlen)
    if len(header) < hlen:
        raise InputError(f"{where}: truncated .npy header")
    try:
        doc = ast.literal_eval(header.decode("latin1" if major < 3 else "utf-8"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError):
        raise InputError(f"{where}: malformed .npy header (not a Python literal)") from None
    if not isinstance(doc, dict) or set(doc) != {"descr", "fortran_order", "shape"}:
        raise InputError(f"{where}: malformed .npy header (expected keys descr, "
                         "fortran_order, shape)")
    shape, fortran = doc["shape"], doc["fortran_order"]
    if not isinstance(shape, tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InputError(f"{where}: malformed .npy header (shape {str(shape)[:40]})")
    if len(shape) > 32:
        raise InputError(f"{where}: .npy array of {len(shape)} dimensions (at most 32)")
    if not isinstance(fortran, bool):
        raise InputError(f"{where}: malformed .npy header (fortran_order)")
    try:
        dtype = fmt.descr_to_dtype(doc["descr"])
    except (ValueError, TypeError, KeyError):
        raise InputError(f"{where}: .npy holds an unsupported dtype "
                         f"{str(doc['descr'])[:40]}") from None
    if dtype.hasobject:
        raise InputError(f"{where}: .npy holds Python objects (pickled data); refusing to "
                         "load it")
    return tuple(shape), fortran, dtype, handle.tell()


def load_npy(path: str | Path, allow_cast: bool = False) -> np.ndarray:
    """A numeric array from a regular .npy file, as a native-order C-contiguous array.

    The header is checked against the file size before any allocation (and the allocation
    against the memory budget). Big-endian and Fortran-order arrays are converted exactly.
    float64 is refused unless `allow_cast` (then rounded to float32); pickles are refused.
    """
    from pimisa import memory

    where = str(path)
    with open_regular(where) as handle:
        shape, fortran, dtype, offset = read_npy_header(handle, where)
        count = int(np.prod(shape, dtype=object))
        need = count * dtype.itemsize
        size = os.fstat(handle.fileno()).st_size
        if size - offset != need:
            raise InputError(f"{where}: the header says {shape} {dtype} ({need} bytes of data) "
                             f"but the file holds {size - offset}")
        memory.reserve(need * (2 if dtype.byteorder == ">" or fortran else 1),
                       f"loading {where}")
        try:
            flat = np.fromfile(handle, dtype=dtype, count=count)
        except (OSError, ValueError) as exc:
            raise InputError(f"{where}: cannot read: {exc}") from None
        except MemoryError:
            raise InputError(f"{where}: out of memory loading {need} bytes") from None
    order = "F" if fortran else "C"
    array = flat.reshape(shape, order=order)
    if array.dtype.byteorder not in ("=", "|"):
        array = array.astype(array.dtype.newbyteorder("="))
    array = np.ascontiguousarray(array)
    if array.dtype == np.float64:
        if not allow_cast:
            raise InputError(f"{where}: float64 data; the kernels take float32, and rounding "
                             "to float32 loses precision: pass --cast to round it")
        array = array.astype(np.float32)
    return array
