"""Per-source-line cost of a launch: which lines of a kernel the DRAM time goes to.

Every DRAM command the scheduler issues (RD, WR, OP and the ACT, PRE, REF it inserts) is
attributed to the PIM command it was issued for. Each DRAM command's cost is the gap from the
previous command's issue cycle to its own (the first from cycle 0; the gap from the last issue
to the end of the launch goes to the last command), so the cycles attributed add up exactly to
the launch's total. Per PIM command: DRAM commands, cycles, row misses (ACTs) and stalls (cycles
beyond one per DRAM command). Per source line: the sum over its PIM commands (every slot); per
macro invocation (a call site, at any nesting depth): the sum over everything it expanded to.

Attribution: when the scheduler's DRAM commands carry the PIM command `index`, that; otherwise
by the scheduling policy of docs/dram.md, in which every PIM command but `barrier` issues
exactly one RD, WR or OP, last: the commands up to and including the k-th RD/WR/OP belong to
the k-th non-barrier PIM command (a barrier's PRE goes to the command after it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pimisa.arch import Arch
from pimisa.isa import BY_MNEMONIC
from pimisa.program import Program

BARRIER = BY_MNEMONIC["barrier"].opcode
MAIN_COMMANDS = ("RD", "WR", "OP")


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


def _cmd_code(name: str) -> int:
    from pimisa.dram.core import CMD_NAMES

    return CMD_NAMES.index(name)


def per_command(program: Program, arch: Arch, slots: int) -> tuple[np.ndarray, ...]:
    """(DRAM commands, cycles, ACTs) per PIM command index, summed over slots; and the total."""
    from pimisa.dram import start_launch

    n = len(program)
    dram = np.zeros(n, np.int64)
    cycles = np.zeros(n, np.int64)
    acts = np.zeros(n, np.int64)
    if n == 0:
        return dram, cycles, acts, np.int64(0)
    non_barrier = np.flatnonzero(program.records["op"] != BARRIER)
    main_codes = np.array([_cmd_code(c) for c in MAIN_COMMANDS])
    act = _cmd_code("ACT")
    run = start_launch(program, arch, slots)
    mains_before = 0
    last_cycle = 0
    last_index = 0
    for cmds in run.chunks():
        if not len(cmds):
            continue
        if "index" in (cmds.dtype.names or ()):
            index = cmds["index"].astype(np.int64) % n
        else:
            main = np.isin(cmds["cmd"], main_codes)
            k = mains_before + np.cumsum(main) - main  # RD/WR/OPs before each command
            mains_before += int(main.sum())
            step = np.minimum(k, len(non_barrier) * slots - 1) if len(non_barrier) else k * 0
            index = non_barrier[step % len(non_barrier)] if len(non_barrier) else step
        cyc = cmds["cycle"].astype(np.int64)
        delta = np.diff(cyc, prepend=last_cycle)
        last_cycle = int(cyc[-1])
        last_index = int(index[-1])
        dram += np.bincount(index, minlength=n)
        cycles += np.bincount(index, weights=delta, minlength=n).astype(np.int64)
        acts += np.bincount(index, weights=cmds["cmd"] == act, minlength=n).astype(np.int64)
    total = run.stats().cycles
    cycles[last_index] += total - last_cycle
    return dram, cycles, acts, np.int64(total)


def line_costs(program: Program, arch: Arch, slots: int = 1,
               sources: dict[str, list[str]] | None = None,
               record_stacks: np.ndarray | None = None,
               stacks: list | None = None) -> LineCosts:
    """Per-line (and, given the assembler's call stacks, per-macro-invocation) costs.

    `sources` (file name -> lines, as pimisa.asm.Assembly.sources) supplies the source text;
    `record_stacks` / `stacks` are Assembly.record_stacks / Assembly.stacks.
    """
    dram, cycles, acts, total = per_command(program, arch, slots)
    n = len(program)
    issued = np.full(n, slots, np.int64)
    stalls = np.maximum(cycles - dram, 0)
    metrics = np.stack([issued, dram, cycles, acts, stalls], axis=1)
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
    return LineCosts(int(total), out_lines, macros)
