"""The numpy twin: the reference backend, one command at a time, semantics from pimisa.isa.

Lane, accumulate and mask instructions apply their `sem` function from the ISA table; loads,
stores and compares are the few lines below. Predication: a predicated command writes only the
lanes whose bit is set in its mask register (clear, when inverted); a predicated compare changes
only those bits of md. The C core (cext/emu_core.c) implements the same semantics and the
differential tests hold both to it bit for bit, command by command. Records are checked by
pimisa.validate (a window at a time), the row of a memory command against the launch here.
"""

from __future__ import annotations

import numpy as np

from pimisa.emulator import faults
from pimisa.emulator.calls import check_call
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
from pimisa.validate import static_faults

_WINDOW = 4096  # records decoded to Python tuples at a time


class NumpyBackend:
    """Executes steps of a launch with numpy (see the module docstring)."""

    name = "numpy"

    def execute(self, machine: Machine, records: np.ndarray, begin: int, end: int) -> Fault | None:
        """Run steps [begin, end): step t is command t % n of slot t // n."""
        machine, records, begin, end = check_call(machine, records, begin, end)
        n = len(records)
        window_start, window, codes = -1, [], []
        for t in range(begin, end):
            slot, idx = divmod(t, n)
            if not window_start <= idx < window_start + len(window):
                chunk = records[idx:idx + _WINDOW]
                window_start, window = idx, chunk.tolist()
                codes = static_faults(chunk, machine.geometry).tolist()
            rec = window[idx - window_start]
            base = slot * machine.tile_rows
            code = codes[idx - window_start]
            if code == faults.OK and OPINFO[rec[0]].mem and base + rec[8] >= machine.rows:
                code = faults.ROW
            if code != faults.OK:
                return Fault(code, idx, slot, t - begin, base + rec[8] if code == faults.ROW else 0)
            _execute(machine, rec, OPINFO[rec[0]], base)
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
            new = info.ins.sem(masks[rd, units], a, b, imm & 0xFFFFFFFF)
            new &= np.uint32(machine.all_lanes)
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
        _put(vregs[rd, units], info.ins.sem(vregs[rd, units], a, b, imm), select)
    else:  # lane_acc
        d = vregs[rd, units]
        _put(d, info.ins.sem(d, vregs[ra, units], vregs[rb, units], imm), select)


def _compare(machine: Machine, rec: tuple[int, ...], units: slice) -> np.ndarray:
    """Mask words (per unit) of a cmp/cmpi: bit k = lane k satisfies the condition."""
    op, pred, rd, ra, rb, cc, bank, col, row, imm = rec
    _code, signed, compare = CONDITIONS[CONDITION_BY_CODE[cc]]
    a = machine.vregs[ra, units]
    w = a.dtype.itemsize * 8
    sview = np.int16 if w == 16 else np.int32
    if OPINFO[op].uses("vb"):
        b = machine.vregs[rb, units]
    else:  # the immediate's low lane-width bits, in every lane
        b = np.full_like(a, imm & ((1 << w) - 1))
    result = compare(a.view(sview), b.view(sview)) if signed else compare(a, b)
    shifts = np.arange(machine.lanes, dtype=np.uint32)
    return np.bitwise_or.reduce(result.astype(np.uint32) << shifts, axis=1).astype(np.uint32)
