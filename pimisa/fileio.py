"""Atomic output files: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from pimisa.errors import InputError


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to `path`; on success rename it over `path`, else delete it.

    No partial output is ever left under the final name.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def load_npy(path: str | Path) -> np.ndarray:
    """The array of a .npy file (no pickles); InputError with the cause for anything else."""
    try:
        array = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a valid .npy file ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path}: expected a .npy array file, got an .npz archive")
    return array
