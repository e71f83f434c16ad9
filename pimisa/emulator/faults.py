"""Run-time faults: the codes of pimisa.validate (generated into cext/pimisa_isa.h), messages.

A faulting command stops the run; nothing of it is executed, everything before it is. The
error message points at the command's source through the program's source map:
`file:line:col: error: ...`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimisa.arch import Geometry
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError, UsageError
from pimisa.program import Program
from pimisa.validate import (
    BANK,
    COL,
    COND,
    FAULT_CODES,
    FIELD,
    IMM,
    MREG,
    OK,
    OPCODE,
    PRED,
    ROW,
    VREG,
    describe_static,
)

__all__ = ["BANK", "COL", "COND", "FIELD", "IMM", "MREG", "NAMES", "OK", "OPCODE", "PRED", "ROW",
           "VREG", "EmulatorCallError", "EmulatorFault", "Fault", "LocatedError", "describe",
           "fault_error"]

NAMES = {code: name for name, code in FAULT_CODES.items()}


@dataclass(frozen=True)
class Fault:
    """Where a run stopped: the fault code, the command index and slot, the steps completed.

    `row` is the absolute unit row of a ROW fault (slot x tile_rows + the command's row).
    """

    code: int
    index: int
    slot: int
    steps: int
    row: int = 0

    @property
    def name(self) -> str:
        """Short name of the fault code."""
        return NAMES.get(self.code, str(self.code))


class LocatedError(InputError):
    """An error in a command stream whose message starts with `file:line:col: error:`."""

    located = True


class EmulatorFault(LocatedError):
    """A command faulted at run time; the message starts with its source location."""

    def __init__(self, message: str, fault: Fault) -> None:
        super().__init__(message)
        self.fault = fault


class EmulatorCallError(UsageError, ValueError):
    """A bad call of the emulator API (arguments, not the command stream); same on both
    backends."""


def describe(fault: Fault, rec: np.void, geometry: Geometry, rows: int,
             tile_rows: int) -> str:
    """One-line description of a fault of record `rec` (pimisa.validate says every static one)."""
    if fault.code != ROW:
        return describe_static(fault.code, rec, geometry)
    base = fault.slot * tile_rows
    return (f"`{disassemble_one(rec)}` reaches unit row {base} + {int(rec['row'])} = "
            f"{base + int(rec['row'])}, outside the {rows} rows this launch allocates "
            f"({rows // max(tile_rows, 1)} slots x {tile_rows} tile rows)")


def fault_error(fault: Fault, program: Program, geometry: Geometry, rows: int,
                tile_rows: int) -> EmulatorFault:
    """The located error for a fault of `program`."""
    rec = program.records[fault.index]
    text = describe(fault, rec, geometry, rows, tile_rows)
    return EmulatorFault(f"{program.location(fault.index)}: error: {text} (slot {fault.slot})",
                         fault)
