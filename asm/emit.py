"""Record sinks: where expansion puts emitted records, scalar or vectorised, in program order.

A Sink belongs to one loop depth with shape `dims` (the iteration counts of the enclosing
vectorised loops). Each `add` appends one record *column*: one record per loop instance (a
tuple whose entries are scalars or int64 arrays broadcastable to `dims`); `add_block` appends
the flattened result of a nested loop. `result()` is an array of shape dims + (S,) in which
instance k's records are row k: exactly the order a one-iteration-at-a-time expansion gives.
At depth 0 (no loop) records are plain tuples, converted to an array in one go.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pimisa.isa import RECORD_DTYPE
from pimisa.program import SRCMAP_DTYPE

from .diagnostics import AsmError

EMIT_DTYPE = np.dtype(
    [(name, RECORD_DTYPE[name]) for name in RECORD_DTYPE.names]
    + [("sfile", SRCMAP_DTYPE["file"]), ("scol", SRCMAP_DTYPE["col"]),
       ("sline", SRCMAP_DTYPE["line"]), ("stack", "<u4")]
)  # stack: index into Assembler.stacks, the macro call sites the record was expanded from
MAX_COMMANDS = 1 << 24  # an assembled program holds at most this many commands


class ProgramTooLarge(AsmError):
    """More than MAX_COMMANDS records: assembly stops."""


class Counter:
    """Counts emitted records across all sinks, enforcing MAX_COMMANDS."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def add(self, k: int) -> None:
        """Count k more records."""
        self.n += k
        if self.n > MAX_COMMANDS:
            raise ProgramTooLarge(None, f"the program exceeds {MAX_COMMANDS} commands")


class Sink:
    """Collects record columns and nested-loop blocks for one loop depth."""

    __slots__ = ("dims", "size", "rows", "parts", "counter")

    def __init__(self, dims: tuple[int, ...], counter: Counter) -> None:
        self.dims = dims
        self.size = math.prod(dims)
        self.rows: list[tuple[Any, ...]] = []  # depth 0: pending scalar records
        self.parts: list[Any] = []  # tuples/lists (columns) and arrays (blocks)
        self.counter = counter

    def add(self, rec: Any) -> None:
        """Append one record column (a tuple/list of EMIT_DTYPE field values)."""
        self.counter.add(self.size)
        if self.dims:
            self.parts.append(rec)
        else:
            self.rows.append(tuple(rec))

    def add_block(self, block: np.ndarray) -> None:
        """Append records already laid out as an array of shape dims + (c,)."""
        if self.rows:
            self.parts.append(np.array(self.rows, dtype=EMIT_DTYPE))
            self.rows = []
        self.parts.append(block)

    def result(self) -> np.ndarray:
        """All records, shape dims + (S,)."""
        if not self.dims:
            if self.rows:
                self.parts.append(np.array(self.rows, dtype=EMIT_DTYPE))
                self.rows = []
            if len(self.parts) == 1:
                return self.parts[0]
            return (np.concatenate(self.parts) if self.parts
                    else np.zeros(0, dtype=EMIT_DTYPE))
        width = sum(1 if not isinstance(p, np.ndarray) else p.shape[-1] for p in self.parts)
        out = np.empty(self.dims + (width,), dtype=EMIT_DTYPE)
        j = 0
        names = EMIT_DTYPE.names
        for part in self.parts:
            if isinstance(part, np.ndarray):
                out[..., j:j + part.shape[-1]] = part
                j += part.shape[-1]
                continue
            column = out[..., j]
            arrays = [(i, v) for i, v in enumerate(part) if isinstance(v, np.ndarray)]
            if arrays:
                scalars = list(part)
                for i, _ in arrays:
                    scalars[i] = 0
                column[...] = tuple(scalars)
                for i, v in arrays:
                    column[names[i]] = v
            else:
                column[...] = tuple(part)
            j += 1
        return out


def split(emitted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records (RECORD_DTYPE), source map (SRCMAP_DTYPE) and macro call stack ids (uint32) of
    a 1-D EMIT_DTYPE array."""
    records = np.empty(len(emitted), dtype=RECORD_DTYPE)
    for name in RECORD_DTYPE.names:
        records[name] = emitted[name]
    srcmap = np.empty(len(emitted), dtype=SRCMAP_DTYPE)
    srcmap["file"] = emitted["sfile"]
    srcmap["col"] = emitted["scol"]
    srcmap["line"] = emitted["sline"]
    return records, srcmap, np.ascontiguousarray(emitted["stack"])
