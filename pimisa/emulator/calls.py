"""The arguments of a backend call, checked once for both backends.

`Backend.execute(machine, records, begin, end)` runs steps [begin, end) of a launch of
`records` over `machine`. Anything else than a consistent machine, a 1-D array of
RECORD_DTYPE records and integer steps inside the launch (0 <= begin <= end <= commands x
slots) is an EmulatorCallError naming the bad argument, raised before anything runs, the same
on the C core and the numpy twin (never a numpy, cffi or C-level error).
"""

from __future__ import annotations

import numbers

import numpy as np

from pimisa.emulator.faults import EmulatorCallError
from pimisa.emulator.state import Machine
from pimisa.isa import RECORD_DTYPE


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        kind = "record" if value.dtype == RECORD_DTYPE else str(value.dtype)
        return f"a {kind} array of shape {value.shape}"
    return f"a {type(value).__name__}"


def check_step(name: str, value: object) -> int:
    """A step number as an int; EmulatorCallError unless it is an integer (not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise EmulatorCallError(f"{name} must be an integer step, got {_describe(value)}")
    return int(value)


def check_machine(machine: object) -> Machine:
    """The machine, if its state arrays are writable C-contiguous arrays of its geometry (lanes
    of its lane_dtype, uint32 mask words)."""
    if not isinstance(machine, Machine):
        raise EmulatorCallError(f"machine must be a pimisa Machine, got {_describe(machine)}")
    g = machine.geometry
    units = g.total_units
    want = {
        "mem": (machine.slots * machine.tile_rows, g.cols, units, g.lanes),
        "vregs": (g.vector_registers, units, g.lanes),
        "masks": (g.mask_registers, units),
    }
    for name, shape in want.items():
        a = getattr(machine, name)
        dtype = np.dtype(np.uint32) if name == "masks" else g.lane_dtype
        if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape:
            raise EmulatorCallError(f"machine.{name} must be a {dtype} array of shape {shape}, "
                                    f"got {_describe(a)}")
        if not a.flags.c_contiguous or not a.flags.writeable:
            raise EmulatorCallError(f"machine.{name} must be writable and C-contiguous")
    return machine


def check_records_array(records: object) -> np.ndarray:
    """The records, if they are a 1-D array of RECORD_DTYPE."""
    if not isinstance(records, np.ndarray) or records.dtype != RECORD_DTYPE or records.ndim != 1:
        raise EmulatorCallError("records must be a 1-D array of pimisa.isa.RECORD_DTYPE, got "
                                f"{_describe(records)}")
    return records


def check_call(machine: object, records: object, begin: object,
               end: object) -> tuple[Machine, np.ndarray, int, int]:
    """The checked arguments of an execute call (see the module docstring)."""
    m = check_machine(machine)
    recs = check_records_array(records)
    b, e = check_step("begin", begin), check_step("end", end)
    total = len(recs) * m.slots
    if not 0 <= b <= e <= total:
        raise EmulatorCallError(f"steps [{b}, {e}) are outside the launch's steps [0, {total}) "
                                f"({len(recs)} commands x {m.slots} slots)")
    return m, recs, b, e
