"""Run-time faults: codes shared with the C core (cext/emu_core.h) and their messages.

A faulting command stops the run; nothing of it is executed, everything before it is. The
error message points at the command's source through the program's source map:
`file:line:col: error: ...`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimisa.arch import Geometry
from pimisa.emulator.opinfo import OPINFO
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError
from pimisa.isa import BY_OPCODE, PRED_MASK_BITS, PRED_ON
from pimisa.program import Program

OK = 0
OPCODE = 1
PRED = 2
BANK = 3
VREG = 4
MREG = 5
COND = 6
IMM = 7
COL = 8
ROW = 9

NAMES = {OPCODE: "opcode", PRED: "pred", BANK: "bank", VREG: "vreg", MREG: "mreg",
         COND: "cond", IMM: "imm", COL: "col", ROW: "row"}


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


def _register_problem(rec: np.void, fields: tuple[str, ...], prefix: str, limit: int) -> str:
    name = BY_OPCODE[int(rec["op"])].mnemonic
    for f in fields:
        if int(rec[f]) >= limit:
            kind = "vector" if prefix == "v" else "mask"
            return (f"{name}: {kind} register {prefix}{int(rec[f])} out of range "
                    f"({prefix}0..{prefix}{limit - 1})")
    return f"{name}: register out of range"


def describe(fault: Fault, rec: np.void, geometry: Geometry, rows: int,
             tile_rows: int) -> str:
    """One-line description of a fault of record `rec`."""
    g = geometry
    info = OPINFO.get(int(rec["op"]))
    if fault.code == OPCODE or info is None:
        return f"unknown opcode {int(rec['op']):#04x}"
    name = info.ins.mnemonic
    pred = int(rec["pred"])
    if fault.code == PRED:
        if not pred & PRED_ON:
            return f"malformed predicate field {pred:#04x}"
        if not info.ins.predicable:
            return f"{name} cannot be predicated"
        return (f"predicate mask m{pred & PRED_MASK_BITS} out of range "
                f"(m0..m{g.mask_registers - 1})")
    if fault.code == BANK:
        return f"bank {int(rec['bank'])} out of range (0..{g.banks - 1})"
    if fault.code == VREG:
        return _register_problem(rec, info.vregs, "v", g.vector_registers)
    if fault.code == MREG:
        return _register_problem(rec, info.mregs, "m", g.mask_registers)
    if fault.code == COND:
        return f"{name}: unknown condition code {int(rec['cc'])}"
    if fault.code == IMM:
        top = 31 if info.imm == "shamt" else (1 << g.lanes) - 1
        return f"{name}: immediate {int(rec['imm'])} out of range (0..{top})"
    if fault.code == COL:
        return f"{name}: column {int(rec['col'])} out of range (0..{g.cols - 1})"
    if fault.code == ROW:
        base = fault.slot * tile_rows
        return (f"`{disassemble_one(rec)}` reaches unit row {base} + {int(rec['row'])} = "
                f"{base + int(rec['row'])}, outside the {rows} rows this launch allocates "
                f"({rows // max(tile_rows, 1)} slots x {tile_rows} tile rows)")
    return f"fault code {fault.code}"


def fault_error(fault: Fault, program: Program, geometry: Geometry, rows: int,
                tile_rows: int) -> EmulatorFault:
    """The located error for a fault of `program`."""
    rec = program.records[fault.index]
    text = describe(fault, rec, geometry, rows, tile_rows)
    return EmulatorFault(f"{program.location(fault.index)}: error: {text} (slot {fault.slot})",
                         fault)
