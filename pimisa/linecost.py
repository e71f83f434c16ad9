"""Which PIM command each DRAM command of a launch was issued for, and what it cost.

The one attribution of a schedule to the program (`pimisa time --by-line`, the traces' `slot`,
`index`, `pim` and `source` columns and Chrome-trace args, docs/api.md):

* `Attributor` gives every DRAM command the PIM command (record index and tile slot) it was
  issued for. By the scheduling policy of docs/dram.md every PIM command but `barrier` issues
  exactly one RD, WR or OP, last, after the ACT it needed; a PRE or REF issued after the
  previous column command belongs to the first PIM command after that one (a barrier closing
  the rows, or the command whose row conflict or whose wait for a due refresh needed it; when a
  refresh falls between two barriers it is the first barrier's).
* `AttributedRun` runs a launch and yields its DRAM commands chunk by chunk with their owners;
  `command_costs` sums them per PIM command, `line_costs` per source line and per macro
  invocation; `CommandNames` holds each PIM command's mnemonic and `file:line`.

A DRAM command's cost is the gap from the previous command's issue cycle to its own (the first
from cycle 0; the gap from the last issue to the end of the launch goes to the last command),
so the cycles attributed add up exactly to the launch's total. Per PIM command: DRAM commands,
cycles, row misses (ACTs) and stalls (cycles beyond one per DRAM command); per source line the
sum over its PIM commands (every slot); per macro invocation (a call site, at any nesting
depth) the sum over everything it expanded to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from pimisa.arch import Arch
from pimisa.dram import start_launch
from pimisa.dram.core import CMD_NAMES, CoreStats
from pimisa.isa import BY_MNEMONIC, BY_OPCODE, CONDITION_BY_CODE
from pimisa.program import Program

BARRIER = BY_MNEMONIC["barrier"].opcode
ACT = CMD_NAMES.index("ACT")
MAIN_CODES = np.array([CMD_NAMES.index(c) for c in ("RD", "WR", "OP")])


class Attributor:
    """The owner (record index, tile slot) of each DRAM command of a launch, chunk by chunk."""

    def __init__(self, records: np.ndarray) -> None:
        self.n = len(records)
        self.non_barrier = np.flatnonzero(records["op"] != BARRIER)
        self.mains = 0  # RD/WR/OP commands seen so far

    def _position(self, j: np.ndarray) -> np.ndarray:
        """Position in the launch (slot x n + index) of the PIM command of column command j."""
        per_slot = len(self.non_barrier)
        return j // per_slot * self.n + self.non_barrier[j % per_slot]

    def __call__(self, cmd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(record index, tile slot) of each of the next DRAM commands (their command codes)."""
        cmd = np.asarray(cmd)
        main = np.isin(cmd, MAIN_CODES)
        before = self.mains + np.cumsum(main) - main  # column commands before each
        self.mains += int(main.sum())
        if not len(self.non_barrier):
            zero = np.zeros(len(cmd), np.int64)
            return zero, zero
        own = self._position(before)
        after_previous = np.where(before > 0, self._position(np.maximum(before - 1, 0)) + 1, 0)
        position = np.where(main | (cmd == ACT), own, after_previous)
        return position % self.n, position // self.n


class AttributedRun:
    """A launch on the C scheduler whose DRAM commands come with their owners."""

    def __init__(self, program: Program, arch: Arch, slots: int = 1) -> None:
        self.program = program
        self.run = start_launch(program, arch, slots)
        self.owner = Attributor(program.records)

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(DRAM commands as pimisa.dram.core.CMD_DTYPE, record index, tile slot), chunk by
        chunk in issue order (the command array is reused: consume it before advancing)."""
        for cmds in self.run.chunks():
            yield (cmds, *self.owner(cmds["cmd"]))

    def finish(self) -> None:
        """Schedule the rest without recording commands."""
        self.run.finish()

    def stats(self) -> CoreStats:
        """Statistics of the finished run (per channel)."""
        return self.run.stats()


@dataclass
class CommandCosts:
    """Per PIM command (record index, summed over slots): what its DRAM commands cost."""

    cycles: int  # the launch's total
    dram_commands: np.ndarray
    command_cycles: np.ndarray
    row_misses: np.ndarray  # ACTs issued for it

    @property
    def stalls(self) -> np.ndarray:
        """Cycles beyond one per DRAM command."""
        return np.maximum(self.command_cycles - self.dram_commands, 0)


def command_costs(program: Program, arch: Arch, slots: int = 1) -> CommandCosts:
    """Attribute a launch's DRAM commands and cycles to its PIM commands (exact sums)."""
    n = len(program)
    dram = np.zeros(n, np.int64)
    cycles = np.zeros(n, np.int64)
    acts = np.zeros(n, np.int64)
    run = AttributedRun(program, arch, slots)
    last_cycle = last_index = 0
    for cmds, index, _ in run.chunks():
        cyc = cmds["cycle"].astype(np.int64)
        delta = np.diff(cyc, prepend=last_cycle)
        last_cycle, last_index = int(cyc[-1]), int(index[-1])
        dram += np.bincount(index, minlength=n)
        cycles += np.bincount(index, weights=delta, minlength=n).astype(np.int64)
        acts += np.bincount(index, weights=cmds["cmd"] == ACT, minlength=n).astype(np.int64)
    total = run.stats().cycles
    if n:
        cycles[last_index] += total - last_cycle
    return CommandCosts(int(total), dram, cycles, acts)


@dataclass(frozen=True)
class CommandNames:
    """Each PIM command's mnemonic (with its condition, `cmp.gtu`) and source `file:line`
    ('' when the program has no source map), from the records and Program.srcmap."""

    pim: list[str]
    source: list[str]

    @classmethod
    def of(cls, program: Program) -> CommandNames:
        """The names of every record of `program`."""
        recs = program.records
        n = len(program)
        keys, inverse = np.unique(recs["op"].astype(np.int64) << 8 | recs["cc"],
                                  return_inverse=True)
        names = []
        for key in keys.tolist():
            ins = BY_OPCODE[key >> 8]
            cond = "." + CONDITION_BY_CODE.get(key & 0xFF, "?") if "cc" in ins.operands else ""
            names.append(ins.mnemonic + cond)
        pim = [names[i] for i in inverse.reshape(-1).tolist()]
        source = [""] * n
        if program.srcmap is not None and n:
            src = program.srcmap
            keys, inverse = np.unique(src["file"].astype(np.int64) << 32 | src["line"],
                                      return_inverse=True)
            texts = []
            for key in keys.tolist():
                f, line = key >> 32, key & 0xFFFFFFFF
                texts.append(f"{program.files[f]}:{line}" if line and f < len(program.files)
                             else "")
            source = [texts[i] for i in inverse.reshape(-1).tolist()]
        return cls(pim, source)


@dataclass
class Cost:
    """What a group of PIM commands cost (a source line or a macro invocation)."""

    file: str
    line: int
    source: str  # the source text of the line
    commands: int  # PIM commands issued (every slot)
    dram_commands: int
    cycles: int
    row_misses: int
    stalls: int
    macro: str = ""  # for a macro invocation: the macro's name

    def to_json(self) -> dict[str, object]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class LineCosts:
    """The per-line and per-macro-invocation costs of one launch, costliest first."""

    cycles: int  # the launch's total
    lines: list[Cost]
    macros: list[Cost]

    def render(self, top: int | None = None) -> str:
        """A perf-annotate-like table."""
        head = (f"{'cycles':>12} {'%':>6} {'PIM cmds':>9} {'DRAM cmds':>9} {'row miss':>8} "
                f"{'stalls':>10}  location")
        out = [f"cycles by source line (launch total {self.cycles}; sums are exact)", head]
        out += [self._row(c) for c in self.lines[:top]]
        if self.macros:
            out += ["", "by macro invocation (inclusive: everything the call expanded to)", head]
            out += [self._row(c) for c in self.macros[:top]]
        return "\n".join(out)

    def _row(self, c: Cost) -> str:
        share = 100.0 * c.cycles / self.cycles if self.cycles else 0.0
        what = f"{c.file}:{c.line}"
        text = f"{c.macro} (call) | {c.source.strip()}" if c.macro else c.source.strip()
        return (f"{c.cycles:>12} {share:>5.1f}% {c.commands:>9} {c.dram_commands:>9} "
                f"{c.row_misses:>8} {c.stalls:>10}  {what}  {text[:70]}")


def line_costs(program: Program, arch: Arch, slots: int = 1,
               sources: dict[str, list[str]] | None = None,
               record_stacks: np.ndarray | None = None,
               stacks: list | None = None) -> LineCosts:
    """Per-line (and, given the assembler's call stacks, per-macro-invocation) costs.

    `sources` (file name -> lines, as pimisa.asm.Assembly.sources) supplies the source text;
    `record_stacks` / `stacks` are Assembly.record_stacks / Assembly.stacks.
    """
    per = command_costs(program, arch, slots)
    n = len(program)
    issued = np.full(n, slots, np.int64)
    metrics = np.stack([issued, per.dram_commands, per.command_cycles, per.row_misses,
                        per.stalls], axis=1)
    sources = sources or {}

    def text(file: str, line: int) -> str:
        lines = sources.get(file, [])
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def cost(file: str, line: int, m: np.ndarray, macro: str = "") -> Cost:
        return Cost(file, line, text(file, line), int(m[0]), int(m[1]), int(m[2]), int(m[3]),
                    int(m[4]), macro)

    out_lines: list[Cost] = []
    if n:
        if program.srcmap is not None:
            key = program.srcmap["file"].astype(np.int64) << 32 | program.srcmap["line"]
        else:
            key = np.zeros(n, np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.zeros((len(uniq), 5), np.int64)
        np.add.at(sums, inverse, metrics)
        for k, m in zip(uniq.tolist(), sums, strict=True):
            f, line = k >> 32, k & 0xFFFFFFFF
            file = program.files[f] if f < len(program.files) and line else "<unknown>"
            out_lines.append(cost(file, line, m))
    macros: list[Cost] = []
    if record_stacks is not None and stacks is not None and n:
        ids, inverse = np.unique(record_stacks, return_inverse=True)
        per_stack = np.zeros((len(ids), 5), np.int64)
        np.add.at(per_stack, inverse, metrics)
        calls: dict[tuple[str, object], np.ndarray] = {}
        for sid, m in zip(ids.tolist(), per_stack, strict=True):
            for name, loc in set(stacks[sid]):
                calls[(name, loc)] = calls.get((name, loc), 0) + m
        for (name, loc), m in calls.items():
            macros.append(cost(loc.file, loc.line, m, name))  # type: ignore[attr-defined]
    out_lines.sort(key=lambda c: (-c.cycles, c.file, c.line))
    macros.sort(key=lambda c: (-c.cycles, c.file, c.line))
    return LineCosts(per.cycles, out_lines, macros)
