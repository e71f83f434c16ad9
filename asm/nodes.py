"""Statement nodes (one per source line) and the block tree built from them.

Expression and operand nodes live in asm/expr.py. Every node carries 1-based columns on its
statement's line; a statement carries its line and source file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Loc


@dataclass(slots=True)
class SourceFile:
    """One source file: its display name, index in Program.files, lines and directory."""

    name: str
    index: int
    lines: list[str]
    directory: Path
    key: str  # identity for include-cycle detection (resolved path or the name)


@dataclass(slots=True)
class Pred:
    """Predication suffix `?mN` / `?!mN`."""

    invert: bool
    target: Any
    col: int
    end: int


@dataclass(slots=True)
class Bank:
    """Single-bank suffix `@bN`."""

    target: Any
    col: int
    end: int


@dataclass(slots=True)
class Instr:
    """An instruction or a macro call: `mnemonic operands [?mN] [@bN]`."""

    mnemonic: str
    operands: tuple[Any, ...]
    suffixes: tuple[Pred | Bank, ...]
    col: int
    end: int
    line: int = 0
    src: SourceFile | None = field(default=None, compare=False, repr=False)
    cache: Any = field(default=None, compare=False, repr=False)

    def loc(self, span: tuple[int, int] | None = None) -> Loc:
        """Location of the whole statement (its mnemonic) or of a span on its line."""
        col, end = span if span else (self.col, self.end)
        return Loc(self.src.name if self.src else "<unknown>", self.line, col, end)


@dataclass(slots=True)
class Directive:
    """`.name operands`."""

    name: str
    operands: tuple[Any, ...]
    col: int
    end: int
    line: int = 0
    src: SourceFile | None = field(default=None, compare=False, repr=False)
    broken: bool = field(default=False, compare=False)  # stands in for a line with a syntax
    # error (a block opener), so its block is skipped without cascading errors

    def loc(self, span: tuple[int, int] | None = None) -> Loc:
        """Location of the directive name or of a span on its line."""
        col, end = span if span else (self.col, self.end)
        return Loc(self.src.name if self.src else "<unknown>", self.line, col, end)


@dataclass(slots=True)
class Param:
    """A macro parameter with an optional default operand."""

    name: str
    default: Any
    col: int
    end: int


@dataclass(slots=True)
class MacroDef:
    """`.macro NAME p1, p2=default` ... `.endm`; `body` is filled by the block builder."""

    name: str
    params: tuple[Param, ...]
    col: int
    end: int
    name_col: int
    line: int = 0
    src: SourceFile | None = field(default=None, compare=False, repr=False)
    body: list[Any] = field(default_factory=list, compare=False, repr=False)
    broken: bool = field(default=False, compare=False)  # from a line with a syntax error

    def loc(self, span: tuple[int, int] | None = None) -> Loc:
        """Location of `.macro` or of a span on its line."""
        col, end = span if span else (self.col, self.end)
        return Loc(self.src.name if self.src else "<unknown>", self.line, col, end)


@dataclass(slots=True)
class Loop:
    """A `.for` or `.rept` block: its header directive and body."""

    header: Directive
    body: list[Any]

    @property
    def kind(self) -> str:
        """'for' or 'rept'."""
        return self.header.name[1:]
