"""Single-stepping a launch on the numpy twin: one command at a time, with the lanes it wrote.

    stepper = Stepper(program, machine)    # machine holds the placed inputs (launch.prepare)
    while stepper.step():                  # False at the end of the last slot
        ...stepper.index, stepper.slot, stepper.machine...

Step t runs command t % n in slot t // n, as pimisa.emulator.run does, so the state after any
step is the state a whole run passes through. The fuzz reports (which `st` really wrote a
lane, predicates included) and `pimisa debug` are built on it.
"""

from __future__ import annotations

import numpy as np

from pimisa.emulator.faults import LocatedError, fault_error
from pimisa.emulator.run import check_program
from pimisa.emulator.state import Machine
from pimisa.emulator.twin import NumpyBackend
from pimisa.isa import ALL_BANKS, BY_MNEMONIC, PRED_INVERT, PRED_MASK_BITS, PRED_ON
from pimisa.program import Program

ST = BY_MNEMONIC["st"].opcode


def selected_lanes(machine: Machine, rec: np.void) -> np.ndarray:
    """(units, lanes) booleans: the lanes command `rec` writes (its bank and predicate)."""
    g = machine.geometry
    out = np.zeros((machine.units, g.lanes), bool)
    bank = int(rec["bank"])
    units = slice(None) if bank == ALL_BANKS else slice(
        bank // g.banks_per_pim_unit, None, g.units_per_channel)
    pred = int(rec["pred"])
    if not pred & PRED_ON:
        out[units] = True
        return out
    words = machine.masks[pred & PRED_MASK_BITS, units]
    if pred & PRED_INVERT:
        words = ~words
    out[units] = (words[:, None] >> np.arange(g.lanes, dtype=np.uint32)) & 1 == 1
    return out


class Stepper:
    """Runs `program` over `machine` one step at a time (see the module docstring)."""

    def __init__(self, program: Program, machine: Machine) -> None:
        check_program(program, machine)
        self.program = program
        self.machine = machine
        self.steps = 0  # steps executed so far
        self.total = len(program) * machine.slots
        self.fault: LocatedError | None = None
        self._backend = NumpyBackend()

    @property
    def index(self) -> int:
        """Command index of the next step."""
        return self.steps % max(1, len(self.program))

    @property
    def slot(self) -> int:
        """Slot of the next step."""
        return self.steps // max(1, len(self.program))

    @property
    def done(self) -> bool:
        """True after the last step or a fault."""
        return self.steps >= self.total or self.fault is not None

    def step(self) -> bool:
        """Execute the next step; False (nothing done) when done. A fault sets `fault`."""
        return self.advance(self.steps + 1)

    def advance(self, to: int) -> bool:
        """Execute steps up to (not including) step `to` in one backend call; False (nothing
        done) when done. A fault sets `fault` and stops at the faulting step."""
        if self.done or to <= self.steps:
            return False
        to = min(to, self.total)
        fault = self._backend.execute(self.machine, self.program.records, self.steps, to)
        if fault is not None:
            m = self.machine
            self.steps += fault.steps
            self.fault = fault_error(fault, self.program, m.geometry, m.rows, m.tile_rows)
            return False
        self.steps = to
        return True


def last_store(program: Program, machine: Machine, slot: int, unit: int, lane: int, row: int,
               col: int) -> int | None:
    """Index of the last `st` that really wrote lane `lane` of unit `unit` at tile row `row`,
    column `col` of slot `slot` (predicates and banks honoured), replaying from `machine`
    (the placed inputs; it is modified); None if no command wrote it.

    The replay runs in one backend call from one candidate `st` (to that word) to the next,
    so its cost is that of a run, not of single steps."""
    stepper = Stepper(program, machine)
    n = len(program)
    rec = program.records
    candidates = np.flatnonzero((rec["op"] == ST) & (rec["row"] == row) & (rec["col"] == col))
    found = None
    for i in candidates.tolist():
        if not (stepper.steps == slot * n + i or stepper.advance(slot * n + i)):
            break
        if selected_lanes(machine, rec[i])[unit, lane]:
            found = i
    return found
