"""The scheduling policy in plain Python over the rules table: an independent oracle of the C core.

Timing is a generic engine over `pimisa.dram.rules.RULES`: the earliest cycle of a command is
the maximum, over every rule whose following command it is, of the last matching preceding
command (looked up per physical bank, per bank group or on the channel, as the rule's scope
says) plus the rule's gap, and of the window rules over the ACT history. It shares nothing with
the C core but the table and the policy (docs/dram.md): which ACT / PRE / REF a PIM command
needs. It is the baseline of benchmarks/bench_dram.py and the oracle of the C-versus-Python
differential tests; use `pimisa.dram.time_launch` for real work.
"""

from __future__ import annotations

import numpy as np

from pimisa.arch import Arch
from pimisa.dram.rules import CMDS, PART_LOOKAHEAD, RULES, gaps
from pimisa.isa import ALL_BANKS, BY_MNEMONIC

NEVER = -(1 << 60)
LD = BY_MNEMONIC["ld"].opcode
ST = BY_MNEMONIC["st"].opcode
BARRIER = BY_MNEMONIC["barrier"].opcode

Command = tuple[int, int, str, int, int]  # cycle, bank (-1 all, -2 - k part k), command, row, col


class ReferenceScheduler:
    """Schedule one channel's launch; `commands` holds every DRAM command, `cycles` the end."""

    def __init__(self, arch: Arch) -> None:
        g, t = arch.geometry, arch.timing
        self.banks = g.banks
        self.rows = g.rows
        self.bpu = g.banks_per_pim_unit
        self.per_group = g.banks // g.bank_groups
        self.gap = gaps(arch)
        self.slot = t.tCCD_L
        self.rd_done, self.wr_done = t.CL + t.nBL, t.CWL + t.nBL
        self.per_bank = t.per_bank
        self.refi = t.tREFIpb if t.per_bank else t.tREFI
        self.ref_bank = 0  # the bank the next REFpb is for
        # (preceding command, scope, gap) of every rule a command follows (gap 0: absent)
        self.terms = {c: [(p, r.scope, self.gap[r.name]) for r in RULES
                          if c in r.nxt and not r.window and self.gap[r.name] for p in r.prev]
                      for c in CMDS}
        self.windows = [r for r in RULES if r.window]
        # last issue cycle of each command per bank, per bank group and on the channel (a
        # command counts on every bank and group it touches)
        self.last_at = {c: [NEVER] * self.banks for c in CMDS}
        self.last_grp = {c: [NEVER] * g.bank_groups for c in CMDS}
        self.last_ch = dict.fromkeys(CMDS, NEVER)
        self._touch: dict[int, tuple[list[int], list[int]]] = {}
        self.acts: list[tuple[int, int]] = []  # (cycle, weight) of every ACT
        self.open_row = [-1] * self.banks
        self.last = -1
        self.next_ref = self.refi if self.refi else None
        self.commands: list[Command] = []
        self.row_hits = self.row_misses = 0
        self.cycles = 0
        self._stream: list[tuple[int, int]] = []  # (op, unit row) of every PIM command
        self._pos = 0

    def _targets(self, bank: int) -> list[int]:
        """Banks a command touches: one bank, every bank (-1), or bank k of every unit
        (-2 - k)."""
        return self._touches(bank)[0]

    def _touches(self, bank: int) -> tuple[list[int], list[int]]:
        """(banks, bank groups) a command to `bank` touches."""
        if bank not in self._touch:
            if bank == -1:
                banks = list(range(self.banks))
            elif bank < -1:
                banks = [b for b in range(self.banks) if b % self.bpu == -2 - bank]
            else:
                banks = [bank]
            self._touch[bank] = (banks, sorted({b // self.per_group for b in banks}))
        return self._touch[bank]

    def _lookup(self, cmd: str, scope: str, bank: int) -> int:
        """Last `cmd` that shares `scope` with a command to `bank`."""
        banks, groups = self._touches(bank)
        if scope == "bank":
            return max(self.last_at[cmd][b] for b in banks)
        if scope == "group":
            return max(self.last_grp[cmd][g] for g in groups)
        return self.last_ch[cmd]

    def earliest(self, cmd: str, bank: int) -> int:
        """Earliest cycle of `cmd` to `bank` (-1: every bank) under every rule."""
        t = self.last + 1
        for prev, scope, gap in self.terms[cmd]:
            t = max(t, self._lookup(prev, scope, bank) + gap)
        if cmd == "ACT":
            weight = 4 if bank < 0 else 1
            for rule in self.windows:
                units = [c for c, w in self.acts for _ in range(w)]
                if self.gap[rule.name] and len(units) + weight > rule.window:
                    t = max(t, units[-(rule.window - weight + 1)] + self.gap[rule.name])
        return t

    def _issue(self, cmd: str, bank: int, row: int = -1, col: int = -1) -> int:
        t = self.earliest(cmd, bank)
        self.last = t
        banks, groups = self._touches(bank)
        for b in banks:
            self.last_at[cmd][b] = t
        for g in groups:
            self.last_grp[cmd][g] = t
        self.last_ch[cmd] = t
        if cmd == "ACT":
            self.acts = (self.acts + [(t, 4 if bank < 0 else 1)])[-4:]
        self.commands.append((t, bank, cmd, row, col))
        return t

    def _precharge(self, bank: int) -> None:
        self._issue("PRE", bank)
        for b in self._targets(bank):
            self.open_row[b] = -1

    def _activate(self, bank: int, row: int) -> None:
        self._issue("ACT", bank, row)
        for b in self._targets(bank):
            self.open_row[b] = row

    def _miss_act(self, bank: int) -> int:
        """The cycle the ACT of a row miss to `bank` would issue at, after the PRE it needs:
        both issued on a copy of the state, which is then restored."""
        saved = (self.last, {c: list(v) for c, v in self.last_at.items()},
                 {c: list(v) for c, v in self.last_grp.items()}, dict(self.last_ch),
                 list(self.acts), len(self.commands))
        if any(self.open_row[b] >= 0 for b in self._targets(bank)):
            self._issue("PRE", bank)
        t = self._issue("ACT", bank)
        self.last, self.last_at, self.last_grp, self.last_ch, self.acts, n = saved
        del self.commands[n:]
        return t

    def _refresh(self) -> None:
        """The refresh that is due: REF of every bank, or REFpb of the next bank in turn
        (per-bank refresh), the banks closed first."""
        if self.per_bank:
            bank = self.ref_bank
            if self.open_row[bank] >= 0:
                self._precharge(bank)
            self._issue("REFpb", bank)
            self.ref_bank = (bank + 1) % self.banks
        else:
            if any(r >= 0 for r in self.open_row):
                self._precharge(-1)
            self._issue("REF", -1)
        assert self.next_ref is not None
        self.next_ref += self.refi

    def _memory(self, rec: np.void, base: int, write: bool) -> None:
        unit_row = base + int(rec["row"])
        k, row = divmod(unit_row, self.rows)
        if k >= self.bpu:
            raise ValueError(f"unit row {unit_row} out of range")
        if int(rec["bank"]) != ALL_BANKS:
            bank = int(rec["bank"]) // self.bpu * self.bpu + k
        else:
            bank = -1 if self.bpu == 1 else -2 - k  # bank k of every unit
        targets = self._targets(bank)
        if all(self.open_row[b] == row for b in targets):
            self.row_hits += 1
        else:
            self.row_misses += 1
            just_refreshed = bool(self.commands) and self.commands[-1][2] in ("REF", "REFpb")
            if self.next_ref is not None and not just_refreshed and \
                    self._miss_act(bank) >= self.next_ref:
                self._refresh()  # the miss would straddle the refresh due time: refresh first
            if any(self.open_row[b] >= 0 for b in targets):
                self._precharge(bank)
            self._activate(bank, row)
        cmd = "WR" if write else "RD"
        if int(rec["bank"]) == ALL_BANKS and self.bpu > 1:
            self._close_idle_parts(k, self.earliest(cmd, bank))
        self._issue(cmd, bank, row, int(rec["col"]))

    def _next_use(self, part: int) -> int | None:
        """Row of the next memory command to `part` among the next PART_LOOKAHEAD PIM
        commands, up to a barrier; None if there is none."""
        for op, unit_row in self._stream[self._pos + 1:self._pos + 1 + PART_LOOKAHEAD]:
            if op == BARRIER:
                return None
            if op in (LD, ST) and unit_row // self.rows == part:
                return unit_row % self.rows
        return None

    def _close_idle_parts(self, part: int, due: int) -> None:
        """Precharge every other part whose row (open in all its banks) the next command to it
        does not use, if the PRE issues before the column command due at `due`."""
        for other in range(self.bpu):
            banks = self._targets(-2 - other)
            row = self.open_row[banks[0]]
            if other == part or row < 0 or any(self.open_row[b] != row for b in banks):
                continue
            if self.earliest("PRE", -2 - other) < due and self._next_use(other) != row:
                self._precharge(-2 - other)

    def run(self, records: np.ndarray, slots: int, tile_rows: int) -> None:
        """Schedule `slots` passes over `records`."""
        self._stream = [(int(rec["op"]), slot * tile_rows + int(rec["row"]))
                        for slot in range(slots) for rec in records]
        for slot in range(slots):
            for i, rec in enumerate(records):
                self._pos = slot * len(records) + i
                if self.next_ref is not None and self.last + 1 >= self.next_ref:
                    self._refresh()
                op = int(rec["op"])
                if op in (LD, ST):
                    self._memory(rec, slot * tile_rows, op == ST)
                elif op == BARRIER:
                    if any(r >= 0 for r in self.open_row):
                        self._precharge(-1)
                else:
                    self._issue("OP", -1 if int(rec["bank"]) == ALL_BANKS else int(rec["bank"]))
        self.cycles = self._end()

    def _end(self) -> int:
        if self.last < 0:
            return 0
        last = self.last_ch
        column = max(last["RD"], last["WR"], last["OP"])
        return max(self.last + 1, last["RD"] + self.rd_done, last["WR"] + self.wr_done,
                   column + self.slot, last["REF"] + self.gap["tRFC"],
                   last["REFpb"] + self.gap["tRFCpb"],
                   last["PRE"] + self.gap["tRP"])
