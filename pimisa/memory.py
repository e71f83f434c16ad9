"""The memory budget: every large allocation sized from input is checked against it first.

The budget defaults to DEFAULT_FRACTION of physical memory; `--max-memory` (every command) or
`set_budget` changes it. `reserve` fails with how much was needed, so absurd sizes from a file
header, a preset or a region never reach the allocator; `zeros` also turns an allocation that
fails anyway (a process limit, an overcommitted machine) into a clean error.
"""

from __future__ import annotations

import os
import re

import numpy as np

from pimisa.errors import InputError, UsageError

DEFAULT_FRACTION = 0.5

_budget: int | None = None

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def physical_memory() -> int:
    """Bytes of physical memory of this machine."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 << 30


def budget() -> int:
    """The current budget in bytes."""
    return _budget if _budget is not None else int(physical_memory() * DEFAULT_FRACTION)


def set_budget(nbytes: int | None) -> None:
    """Set the budget in bytes (None: back to the default)."""
    global _budget
    if nbytes is not None and nbytes <= 0:
        raise UsageError("the memory budget must be positive")
    _budget = nbytes


def parse_size(text: str) -> int:
    """Bytes of a size such as `4G`, `512MiB`, `1000000` or `25%` (of physical memory)."""
    text = text.strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1])
        except ValueError:
            share = -1.0
        if not 0 < share <= 100:
            raise UsageError(f"--max-memory {text!r}: a percentage must be in (0, 100]")
        return int(physical_memory() * share / 100)
    m = _SIZE.fullmatch(text)
    if m is None:
        raise UsageError(f"--max-memory {text[:40]!r}: expected a size such as 4G, 512M, "
                         "1000000 or 25%")
    unit = (m.group(2) or "").upper()[:1]
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise UsageError(f"--max-memory {text!r}: must be positive")
    return value


def human(nbytes: int) -> str:
    """A byte count for messages: `1.5 GiB`."""
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{nbytes} B"


def reserve(nbytes: int, what: str) -> None:
    """Fail (InputError) when `what` needs more than the budget."""
    if nbytes > budget():
        raise InputError(f"{what} needs {human(nbytes)}, over the memory budget of "
                         f"{human(budget())} (raise it with --max-memory)")


def zeros(shape: tuple[int, ...], dtype: np.dtype | type, what: str) -> np.ndarray:
    """np.zeros after `reserve`; a failed allocation is an InputError saying how much."""
    nbytes = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    reserve(nbytes, what)
    try:
        return np.zeros(shape, dtype)
    except MemoryError:
        raise InputError(f"{what}: out of memory allocating {human(nbytes)}") from None
