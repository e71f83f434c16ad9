"""What a launch is and whether it fits: a program run over `slots` tile slots on every unit.

Every PIM unit runs the program once per tile slot; slot s adds s x tile_rows to every row, so
a unit's tiles sit one after another in its memory (banks_per_pim_unit x rows rows: unit row r
is bank unit x bpu + r // rows, DRAM row r % rows). All channels run the same stream.
"""

from __future__ import annotations

import numpy as np

from pimisa.arch import Arch, Geometry
from pimisa.errors import InputError, UsageError
from pimisa.isa import BY_MNEMONIC
from pimisa.program import Program
from pimisa.validate import check_records

MEMORY_OPS = np.array([BY_MNEMONIC["ld"].opcode, BY_MNEMONIC["st"].opcode], dtype=np.uint8)


def slots_for_tiles(tiles: int, geometry: Geometry) -> int:
    """Tile slots per unit needed to run `tiles` tiles on every unit of the device."""
    if tiles < 1:
        raise UsageError(f"--tiles must be at least 1, got {tiles}")
    return -(-tiles // geometry.total_units)


def check_launch(program: Program, arch: Arch, slots: int) -> None:
    """InputError (with the command's source location) unless the launch can be scheduled."""
    if slots < 1:
        raise UsageError(f"a launch needs at least one tile slot, got {slots}")
    records = program.records
    width = program.width_problem(arch.geometry.lane_bits, f"'{arch.name}'")
    if width is not None:
        raise InputError(f"{program.location(0)}: {width}")
    bad = check_records(records, arch.geometry)
    if bad is not None:
        index, reason = bad
        raise InputError(f"{program.location(index)}: {reason}")
    memory = np.isin(records["op"], MEMORY_OPS)
    if not memory.any():
        return
    unit_rows = arch.geometry.rows * arch.geometry.banks_per_pim_unit
    rows = records["row"].astype(np.int64)
    index = int(np.flatnonzero(memory)[np.argmax(rows[memory])])
    top = int(rows[index]) + (slots - 1) * program.meta.tile_rows
    if top >= unit_rows:
        raise InputError(
            f"{program.location(index)}: row {int(rows[index])} in tile slot {slots - 1} "
            f"(base {(slots - 1) * program.meta.tile_rows}) is unit row {top}, beyond the "
            f"{unit_rows} rows of a PIM unit of {arch.name}; launch fewer tiles"
        )
