"""The scheduling policy in plain Python: the C core's executable specification.

Same policy and constraints as cext/dram_core.c (docs/dram.md), written as directly as possible:
per-bank lists updated bank by bank, one Python object per command. It is the baseline of
benchmarks/bench_dram.py and the oracle of the C-versus-Python differential tests; use
`pimisa.dram.time_launch` for real work.
"""

from __future__ import annotations

import numpy as np

from pimisa.arch import Arch
from pimisa.dram.core import core_params
from pimisa.isa import ALL_BANKS, BY_MNEMONIC

NEVER = -(1 << 60)
LD = BY_MNEMONIC["ld"].opcode
ST = BY_MNEMONIC["st"].opcode
BARRIER = BY_MNEMONIC["barrier"].opcode

Command = tuple[int, int, str, int, int]  # cycle, bank (-1 all), command, row (-1), col (-1)


class ReferenceScheduler:
    """Schedule one channel's launch; `commands` holds every DRAM command, `cycles` the end."""

    def __init__(self, arch: Arch) -> None:
        self.p = core_params(arch)
        banks = self.p["banks"]
        self.per_group = banks // self.p["bank_groups"]
        self.open_row = [-1] * banks
        self.act = [NEVER] * banks  # every ACT (all-bank ones on every bank)
        self.pre = [NEVER] * banks
        self.rd = [NEVER] * banks
        self.wr = [NEVER] * banks
        self.single_act = [NEVER] * banks  # single-bank ACTs only (tRRD)
        self.faw_units: list[int] = []  # ACT weight units: 1 per single-bank, 4 per all-bank
        self.last = -1
        self.ref = NEVER
        self.col = NEVER
        self.next_ref = self.p["tREFI"] if self.p["tREFI"] else None
        self.commands: list[Command] = []
        self.row_hits = self.row_misses = 0
        self.cycles = 0

    def _issue(self, t: int, cmd: str, bank: int, row: int = -1, col: int = -1) -> int:
        t = max(t, self.last + 1, self.ref + self.p["tRFC"])
        self.last = t
        self.commands.append((t, bank, cmd, row, col))
        return t

    def _banks(self, bank: int) -> list[int]:
        return list(range(self.p["banks"])) if bank == -1 else [bank]

    def _precharge(self, bank: int) -> None:
        p = self.p
        t = NEVER
        for b in self._banks(bank):
            t = max(t, self.act[b] + p["tRAS"], self.rd[b] + p["tRTP"], self.wr[b] + p["tWRP"])
        t = self._issue(t, "PRE", bank)
        for b in self._banks(bank):
            self.pre[b] = t
            self.open_row[b] = -1

    def _activate(self, bank: int, row: int) -> None:
        p = self.p
        t = NEVER
        for b in self._banks(bank):
            t = max(t, self.pre[b] + p["tRP"], self.act[b] + p["tRC"])
        if bank == -1:
            if self.faw_units:
                t = max(t, self.faw_units[-1] + p["tFAW"])
        else:
            if len(self.faw_units) >= 4:
                t = max(t, self.faw_units[-4] + p["tFAW"])
            for c in range(p["banks"]):
                if c != bank:
                    same_group = c // self.per_group == bank // self.per_group
                    t = max(t, self.single_act[c] + p["tRRD_L" if same_group else "tRRD_S"])
        t = self._issue(t, "ACT", bank, row)
        for b in self._banks(bank):
            self.act[b] = t
            self.open_row[b] = row
        if bank == -1:
            self.faw_units = [t] * 4
        else:
            self.single_act[bank] = t
            self.faw_units = (self.faw_units + [t])[-4:]

    def _refresh(self) -> None:
        if any(r >= 0 for r in self.open_row):
            self._precharge(-1)
        self.ref = self._issue(max(self.pre) + self.p["tRP"], "REF", -1)
        assert self.next_ref is not None
        self.next_ref += self.p["tREFI"]

    def _memory(self, rec: np.void, base: int, write: bool) -> None:
        p = self.p
        unit_row = base + int(rec["row"])
        k, row = divmod(unit_row, p["rows"])
        if k >= p["bpu"]:
            raise ValueError(f"unit row {unit_row} out of range")
        bank = -1 if int(rec["bank"]) == ALL_BANKS else int(rec["bank"]) // p["bpu"] * p["bpu"] + k
        banks = self._banks(bank)
        if all(self.open_row[b] == row for b in banks):
            self.row_hits += 1
        else:
            self.row_misses += 1
            if any(self.open_row[b] >= 0 for b in banks):
                self._precharge(bank)
            self._activate(bank, row)
        t = max(self.act[b] for b in banks) + p["tRCD_WR" if write else "tRCD_RD"]
        t = max(t, self.col + p["tCCD_col"])
        if write:
            t = max(t, max(self.rd) + p["tRTW"])
        else:
            t = max(t, max(self.wr) + p["tWTR"])
        t = self._issue(t, "WR" if write else "RD", bank, row, int(rec["col"]))
        for b in banks:
            if write:
                self.wr[b] = t
            else:
                self.rd[b] = t
        self.col = t

    def run(self, records: np.ndarray, slots: int, tile_rows: int) -> None:
        """Schedule `slots` passes over `records`."""
        for slot in range(slots):
            for rec in records:
                if self.next_ref is not None and self.last + 1 >= self.next_ref:
                    self._refresh()
                op = int(rec["op"])
                if op in (LD, ST):
                    self._memory(rec, slot * tile_rows, op == ST)
                elif op == BARRIER:
                    if any(r >= 0 for r in self.open_row):
                        self._precharge(-1)
                else:
                    bank = -1 if int(rec["bank"]) == ALL_BANKS else int(rec["bank"])
                    self.col = self._issue(self.col + self.p["tCCD_col"], "OP", bank)
        self.cycles = self._end()

    def _end(self) -> int:
        p = self.p
        if self.last < 0:
            return 0
        return max(self.last + 1, max(self.rd) + p["rd_done"], max(self.wr) + p["wr_done"],
                   self.col + p["tCCD_col"], self.ref + p["tRFC"], max(self.pre) + p["tRP"])
