"""A step debugger for kernels on the numpy twin (`pimisa debug`), scriptable for tests.

    dbg = Debugger(program, machine, sources, out=sys.stdout)   # machine: launch.prepare
    dbg.execute("break 12")        # or "break file.pimasm:12"
    dbg.execute("continue")        # to the next breakpoint, watched change, fault or the end

Commands (one per line; `;` starts a comment, and so does `#` at the start of a line):

    step [N]                 execute N commands (default 1)
    continue                 run to a breakpoint, a watched change, a fault or the end
    until LINE | #INDEX      run until the next command is at source line LINE / index INDEX
    break [FILE:]LINE        stop before every command of that source line
    watch vN|mN [unit U]     stop after a command changes the register (of unit U, default 0)
    print vN [unit U] [hex|int|uint|float]   a vector register, per lane (default hex)
    print mN [unit U]        a mask register (bit k = lane k)
    print [ROW, COL] [unit U] [slot S] [hex|int|uint|float]  a memory word of the tile
    where                    the next command and its source line
    quit

Every stop shows the next command: `#index s<slot> file:line  disassembly  | source text`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TextIO

import numpy as np

from pimisa.emulator.state import Machine
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError
from pimisa.program import Program
from pimisa.stepper import Stepper

VIEWS = {"hex": None, "int": np.int32, "uint": np.uint32, "float": np.float32}
_REG = re.compile(r"([vm])(\d+)$")
_MEM = re.compile(r"\[\s*(\d+)\s*,\s*(\d+)\s*\]")


class DebugError(InputError):
    """A debugger command that cannot be carried out (bad syntax, register, address)."""


class Debugger:
    """Interactive or scripted stepping of one launch (see the module docstring)."""

    def __init__(self, program: Program, machine: Machine,
                 sources: dict[str, list[str]] | None = None, out: TextIO | None = None) -> None:
        self.program = program
        self.stepper = Stepper(program, machine)
        self.sources = sources or {}
        self.out = out or sys.stdout
        self.breaks: set[tuple[str | None, int]] = set()
        self.watches: list[tuple[str, int, int]] = []  # (kind, register, unit)
        self.finished = False

    # --- what a command is -------------------------------------------------------------

    def _site(self, index: int) -> tuple[str, int]:
        sm = self.program.srcmap
        if sm is None or not 0 <= index < len(sm) or not int(sm[index]["line"]):
            return "", 0
        f = int(sm[index]["file"])
        name = self.program.files[f] if f < len(self.program.files) else ""
        return name, int(sm[index]["line"])

    def describe(self, index: int, slot: int) -> str:
        """`#index s<slot> file:line  disassembly  | source text`."""
        file, line = self._site(index)
        lines = self.sources.get(file, [])
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        where = f"{file}:{line}" if line else "(no source)"
        asm = disassemble_one(self.program.records[index])
        return f"#{index} s{slot} {where}  {asm}" + (f"  | {text}" if text else "")

    def _show_next(self) -> None:
        s = self.stepper
        if s.fault is not None:
            self._say(f"fault: {s.fault}")
        elif s.done:
            self._say(f"finished: {s.steps} commands executed ({len(self.program)} x "
                      f"{s.machine.slots} slots)")
        else:
            self._say(self.describe(s.index, s.slot))

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")

    # --- running ------------------------------------------------------------------------

    def _at_break(self) -> bool:
        file, line = self._site(self.stepper.index)
        return (None, line) in self.breaks or (file, line) in self.breaks or any(
            f is not None and line == ln and file.endswith(f) for f, ln in self.breaks)

    def _snapshot(self) -> list[np.ndarray]:
        m = self.stepper.machine
        return [(m.vregs[r, u] if k == "v" else m.masks[r, u]).copy()
                for k, r, u in self.watches]

    def _run(self, stop_before) -> None:  # type: ignore[no-untyped-def]
        s = self.stepper
        first = True
        while not s.done:
            if not first and stop_before():
                break
            before = self._snapshot()
            s.step()
            first = False
            changed = [w for w, b, a in zip(self.watches, before, self._snapshot(), strict=True)
                       if not np.array_equal(b, a)]
            if changed:
                for kind, reg, unit in changed:
                    self._say(f"watch {kind}{reg} unit {unit} changed: "
                              f"{self._format(kind, reg, unit, 'hex')}")
                break
        self._show_next()

    # --- printing -----------------------------------------------------------------------

    def _format(self, kind: str, reg: int, unit: int, view: str) -> str:
        m = self.stepper.machine
        if kind == "m":
            word = int(m.masks[reg, unit])
            bits = format(word, f"0{m.lanes}b")[::-1]
            return f"{word:#x} (lanes 0..{m.lanes - 1}: {bits})"
        return self._lanes(m.vregs[reg, unit], view)

    @staticmethod
    def _lanes(words: np.ndarray, view: str) -> str:
        dtype = VIEWS[view]
        if dtype is None:
            return "[" + " ".join(f"{int(w):08x}" for w in words) + "]"
        values = words.view(dtype)
        return "[" + " ".join(repr(float(v)) if view == "float" else str(int(v))
                              for v in values) + "]"

    def _options(self, words: list[str]) -> tuple[int, int | None, str]:
        """unit U, slot S and a view among the words after the operand."""
        unit, slot, view = 0, None, "hex"
        i = 0
        while i < len(words):
            w = words[i]
            if w in VIEWS:
                view = w
            elif w in ("unit", "slot") and i + 1 < len(words) and words[i + 1].isdigit():
                value = int(words[i + 1])
                if w == "unit":
                    unit = value
                else:
                    slot = value
                i += 1
            else:
                raise DebugError(f"unexpected {w!r}")
            i += 1
        if not 0 <= unit < self.stepper.machine.units:
            raise DebugError(f"unit {unit} out of range (0..{self.stepper.machine.units - 1})")
        return unit, slot, view

    def _register(self, text: str) -> tuple[str, int]:
        match = _REG.match(text)
        if match is None:
            raise DebugError(f"expected a register vN or mN, got {text!r}")
        kind, reg = match.group(1), int(match.group(2))
        m = self.stepper.machine
        count = m.vregs.shape[0] if kind == "v" else m.masks.shape[0]
        if reg >= count:
            raise DebugError(f"{kind}{reg} out of range ({kind}0..{kind}{count - 1})")
        return kind, reg

    def _print(self, rest: str) -> None:
        mem = _MEM.match(rest)
        if mem:
            row, col = int(mem.group(1)), int(mem.group(2))
            unit, slot, view = self._options(rest[mem.end():].split())
            m = self.stepper.machine
            slot = self.stepper.slot if slot is None else slot
            if not 0 <= slot < m.slots or not 0 <= row < m.tile_rows or \
                    not 0 <= col < m.geometry.cols:
                raise DebugError(f"[{row}, {col}] slot {slot} is outside the launch (rows "
                                 f"0..{m.tile_rows - 1}, columns 0..{m.geometry.cols - 1}, "
                                 f"slots 0..{m.slots - 1})")
            words = m.mem[slot * m.tile_rows + row, col, unit]
            self._say(f"[{row}, {col}] slot {slot} unit {unit} = {self._lanes(words, view)}")
            return
        parts = rest.split()
        if not parts:
            raise DebugError("print what? (vN, mN or [ROW, COL])")
        kind, reg = self._register(parts[0])
        unit, _, view = self._options(parts[1:])
        self._say(f"{kind}{reg} unit {unit} = {self._format(kind, reg, unit, view)}")

    # --- commands -----------------------------------------------------------------------

    def execute(self, line: str) -> bool:
        """Carry out one command; False after `quit`. DebugError for a bad command."""
        text = line.split(";", 1)[0].strip()
        if not text or text.startswith("#"):
            return True
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word in ("quit", "q"):
            return False
        if word in ("step", "s"):
            count = int(rest) if rest.isdigit() else 1 if not rest else None
            if count is None or count < 1:
                raise DebugError(f"step N needs a positive count, got {rest!r}")
            left = [count]

            def counted() -> bool:
                left[0] -= 1
                return left[0] <= 0

            self._run(counted)
        elif word in ("continue", "c", "run"):
            self._run(self._at_break)
        elif word == "until":
            if rest.startswith("#") and rest[1:].isdigit():
                target = int(rest[1:])
                if target >= len(self.program):
                    raise DebugError(f"command #{target} does not exist (the kernel has "
                                     f"{len(self.program)})")
                self._run(lambda: self.stepper.index == target)
            elif rest.isdigit():
                target_line = int(rest)
                self._run(lambda: self._site(self.stepper.index)[1] == target_line)
            else:
                raise DebugError("until LINE or until #INDEX")
        elif word in ("break", "b"):
            file, sep, number = rest.rpartition(":")
            if not number.isdigit():
                raise DebugError("break [FILE:]LINE")
            self.breaks.add((file if sep else None, int(number)))
            self._say(f"breakpoint at {rest}")
        elif word == "watch":
            parts = rest.split()
            if not parts:
                raise DebugError("watch vN|mN [unit U]")
            kind, reg = self._register(parts[0])
            unit, _, _ = self._options(parts[1:])
            self.watches.append((kind, reg, unit))
            self._say(f"watching {kind}{reg} unit {unit}")
        elif word in ("print", "p"):
            self._print(rest)
        elif word == "where":
            self._show_next()
        else:
            raise DebugError(f"unknown command {word!r} (step, continue, until, break, watch, "
                             "print, where, quit)")
        return True

    def run_script(self, lines: Iterable[str], name: str = "<script>") -> None:
        """Run commands; a bad one raises InputError located at `name:line`."""
        self._show_next()
        for number, line in enumerate(lines, 1):
            try:
                if not self.execute(line):
                    return
            except DebugError as exc:
                raise InputError(f"{name}:{number}: {exc}") from None
