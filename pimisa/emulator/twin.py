"""The numpy twin: the reference backend, one command at a time, semantics from pimisa.isa.

Lane, accumulate and mask instructions apply their `sem` function from the ISA table; loads,
stores and compares are the few lines below. Predication: a predicated command writes only the
lanes whose bit is set in its mask register (clear, when inverted); a predicated compare changes
only those bits of md. The C core (cext/emu_core.c) implements the same semantics and the
differential tests hold both to it bit for bit, command by command.
"""

from __future__ import annotations

import numpy as np

from pimisa.emulator import faults
from pimisa.emulator.faults import Fault
from pimisa.emulator.opinfo import OPINFO, OpInfo
from pimisa.emulator.state import Machine
from pimisa.isa import (
    ALL_BANKS,
    CONDITION_BY_CODE,
    CONDITIONS,
    PRED_INVERT,
    PRED_MASK_BITS,
    PRED_ON,
)

_WINDOW = 4096  # records decoded to Python tuples at a time


def check(rec: tuple[int, ...], info: OpInfo | None, machine: Machine, base: int) -> int:
    """Fault code of record `rec` at row base `base` (faults.OK if it can run).

    The checks and their order are the C core's: opcode, predicate, bank, vector registers,
    mask registers, condition, immediate, column, row.
    """
    op, pred, rd, ra, rb, cc, bank, col, row, imm = rec
    g = machine.geometry
    if info is None:
        return faults.OPCODE
    if pred & PRED_ON:
        if not info.ins.predicable or (pred & PRED_MASK_BITS) >= g.mask_registers:
            return faults.PRED
    elif pred:
        return faults.PRED
    if bank != ALL_BANKS and bank >= g.banks:
        return faults.BANK
    regs = {"rd": rd, "ra": ra, "rb": rb}
    if any(regs[f] >= g.vector_registers for f in info.vregs):
        return faults.VREG
    if any(regs[f] >= g.mask_registers for f in info.mregs):
        return faults.MREG
    if info.cc and cc not in CONDITION_BY_CODE:
        return faults.COND
    if info.imm == "shamt" and not 0 <= imm <= 31:
        return faults.IMM
    if info.imm == "lanemask" and (imm & 0xFFFFFFFF) & ~machine.all_lanes:
        return faults.IMM
    if info.mem:
        if col >= g.cols:
            return faults.COL
        if base + row >= machine.rows:
            return faults.ROW
    return faults.OK


class NumpyBackend:
    """Executes steps of a launch with numpy (see the module docstring)."""

    name = "numpy"

    def execute(self, machine: Machine, records: np.ndarray, begin: int, end: int) -> Fault | None:
        """Run steps [begin, end): step t is command t % n of slot t // n."""
        n = len(records)
        window_start, window = -1, []
        for t in range(begin, end):
            slot, idx = divmod(t, n)
            if not window_start <= idx < window_start + len(window):
                window_start, window = idx, records[idx:idx + _WINDOW].tolist()
            rec = window[idx - window_start]
            info = OPINFO.get(rec[0])
            base = slot * machine.tile_rows
            code = check(rec, info, machine, base)
            if code != faults.OK:
                return Fault(code, idx, slot, t - begin, base + rec[8] if code == faults.ROW else 0)
            _execute(machine, rec, info, base)  # type: ignore[arg-type]
        return None


def _lane_select(machine: Machine, pred: int, units: slice) -> np.ndarray | None:
    """Per (unit, lane) booleans of the lanes a predicated command writes; None if all."""
    if not pred & PRED_ON:
        return None
    words = machine.masks[pred & PRED_MASK_BITS, units]
    if pred & PRED_INVERT:
        words = ~words
    shifts = np.arange(machine.lanes, dtype=np.uint32)
    return ((words[:, None] >> shifts) & 1).astype(bool)


def _put(dst: np.ndarray, new: np.ndarray, select: np.ndarray | None) -> None:
    """dst[...] = new in the selected lanes."""
    dst[...] = new if select is None else np.where(select, new, dst)


def _execute(machine: Machine, rec: tuple[int, ...], info: OpInfo, base: int) -> None:
    op, pred, rd, ra, rb, cc, bank, col, row, imm = rec
    cls = info.sem_class
    if cls == "none":
        return
    g = machine.geometry
    units = slice(None) if bank == ALL_BANKS else slice(
        bank // g.banks_per_pim_unit, None, g.units_per_channel)
    vregs, masks = machine.vregs, machine.masks
    if cls in ("mask", "compare"):
        if cls == "mask":
            a = masks[ra if info.uses("ma") else 0, units]
            b = masks[rb if info.uses("mb") else 0, units]
            new = info.ins.sem(a, b, imm & 0xFFFFFFFF) & np.uint32(machine.all_lanes)
        else:
            new = _compare(machine, rec, units)
        sel = np.uint32(machine.all_lanes)
        if pred & PRED_ON:
            sel = masks[pred & PRED_MASK_BITS, units]
            sel = (~sel if pred & PRED_INVERT else sel) & np.uint32(machine.all_lanes)
        md = masks[rd, units]
        md[...] = (md & ~sel) | (new & sel)
        return
    select = _lane_select(machine, pred, units)
    if cls == "load":
        _put(vregs[rd, units], machine.mem[base + row, col, units], select)
    elif cls == "store":
        _put(machine.mem[base + row, col, units], vregs[ra, units], select)
    elif cls == "lane":
        a = vregs[ra if info.uses("va") else rd, units]
        b = vregs[rb, units] if info.uses("vb") else a
        _put(vregs[rd, units], info.ins.sem(a, b, imm), select)
    else:  # lane_acc
        d = vregs[rd, units]
        _put(d, info.ins.sem(d, vregs[ra, units], vregs[rb, units]), select)


def _compare(machine: Machine, rec: tuple[int, ...], units: slice) -> np.ndarray:
    """Mask words (per unit) of a cmp/cmpi: bit k = lane k satisfies the condition."""
    op, pred, rd, ra, rb, cc, bank, col, row, imm = rec
    _code, signed, compare = CONDITIONS[CONDITION_BY_CODE[cc]]
    a = machine.vregs[ra, units]
    if OPINFO[op].uses("vb"):
        b = machine.vregs[rb, units]
        result = compare(a.view(np.int32), b.view(np.int32)) if signed else compare(a, b)
    elif signed:
        result = compare(a.view(np.int32), np.int32(imm))
    else:
        result = compare(a, np.uint32(imm & 0xFFFFFFFF))
    shifts = np.arange(machine.lanes, dtype=np.uint32)
    return np.bitwise_or.reduce(result.astype(np.uint32) << shifts, axis=1).astype(np.uint32)
