"""Per-command text trace of a run: what each executed command wrote.

One line per step, identical for both backends (no timing, no addresses), so two traces diff
cleanly:

    <index> s<slot> <file:line:col> <disassembly> | <what it wrote>

where what it wrote is `v3 u0=[...lanes of unit 0 in hex...] crc=<crc32 of the register in
every unit>` for a vector register, `m1 u0=0x0f crc=...` for a mask register, `[row,col] u0=[...]
crc=...` for a stored word (absolute unit row), `-` for a command with no data effect. u0 is the
first unit the command runs in.
"""

from __future__ import annotations

import zlib
from typing import TextIO

import numpy as np

from pimisa.emulator.opinfo import OPINFO
from pimisa.emulator.state import Machine
from pimisa.encoding import disassemble_one
from pimisa.isa import ALL_BANKS
from pimisa.program import Program


def _lanes(words: np.ndarray) -> str:
    return "[" + " ".join(f"{int(w):08x}" for w in words) + "]"


def effect(machine: Machine, rec: np.void, slot: int) -> str:
    """What command `rec` (already executed in `slot`) wrote, as trace text."""
    info = OPINFO[int(rec["op"])]
    bank = int(rec["bank"])
    unit = 0 if bank == ALL_BANKS else bank // machine.geometry.banks_per_pim_unit
    rd = int(rec["rd"])
    if info.sem_class in ("load", "lane", "lane_acc"):
        slab = machine.vregs[rd]
        return f"v{rd} u{unit}={_lanes(slab[unit])} crc={zlib.crc32(slab):08x}"
    if info.sem_class in ("compare", "mask"):
        slab = machine.masks[rd]
        return f"m{rd} u{unit}={int(slab[unit]):#x} crc={zlib.crc32(slab):08x}"
    if info.sem_class == "store":
        row = slot * machine.tile_rows + int(rec["row"])
        slab = machine.mem[row, int(rec["col"])]
        return f"[{row},{int(rec['col'])}] u{unit}={_lanes(slab[unit])} crc={zlib.crc32(slab):08x}"
    return "-"


class TraceWriter:
    """Writes one trace line per executed step of `program` to `out`."""

    def __init__(self, program: Program, out: TextIO) -> None:
        self.program = program
        self.out = out

    def step(self, machine: Machine, index: int, slot: int) -> None:
        """Log command `index` of `slot`, just executed."""
        rec = self.program.records[index]
        self.out.write(f"{index} s{slot} {self.program.location(index)} "
                       f"{disassemble_one(rec)} | {effect(machine, rec, slot)}\n")

    def fault(self, message: str) -> None:
        """Log the fault that stopped the run."""
        self.out.write(f"fault: {message}\n")
