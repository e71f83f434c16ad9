"""Compiler-style diagnostics: locations, errors/warnings with notes, rendering with carets.

A diagnostic renders as

    file.pimasm:3:5: error: unknown mnemonic 'ad'; did you mean 'add'?
        3 |     ad v1, v2, v3
          |     ^~

followed by `note:` diagnostics (macro call, include and loop sites), innermost first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_ERRORS = 200  # more than this many distinct errors: stop (like clang's -ferror-limit)
MAX_NOTES = 8  # expansion notes shown per diagnostic (the rest are summarised)


@dataclass(frozen=True, slots=True)
class Loc:
    """A source range on one line: 1-based line and columns, `end` exclusive."""

    file: str
    line: int
    col: int
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(slots=True)
class Diagnostic:
    """One error or warning with the notes that explain where it came from."""

    severity: str  # "error" | "warning"
    loc: Loc | None
    message: str
    notes: list[tuple[Loc, str]] = field(default_factory=list)


class AsmError(Exception):
    """Raised by a pass for an error in the statement being processed.

    `span` is (col, end) on the statement's line, or None for the whole statement;
    `instance` is the flat index of the first failing loop instance in a vectorised body.
    """

    def __init__(self, span: tuple[int, int] | None, message: str, instance: int | None = None,
                 notes: Iterable[tuple[Loc, str]] = ()) -> None:
        super().__init__(message)
        self.span = span
        self.message = message
        self.instance = instance
        self.notes = list(notes)


class TooManyErrors(Exception):
    """Raised once MAX_ERRORS distinct errors were reported: assembly stops."""


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest candidate, or an empty string."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"; did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    if not close:
        return ""

    def score(c: str) -> float:
        return difflib.SequenceMatcher(None, word, c).ratio()

    best = sorted(c for c in close if score(c) == score(close[0]))
    return "; did you mean " + " or ".join(f"'{c}'" for c in best) + "?"


class Diagnostics:
    """Collects diagnostics, de-duplicates them by location and message, renders them."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self._seen: set[tuple[str, Loc | None, str]] = set()
        self.errors = 0

    def add(self, diag: Diagnostic) -> None:
        """Record `diag` unless the same message was already reported at the same place."""
        key = (diag.severity, diag.loc, diag.message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(diag)
        if diag.severity == "error":
            self.errors += 1
            if self.errors >= MAX_ERRORS:
                raise TooManyErrors

    def error(self, loc: Loc | None, message: str,
              notes: Iterable[tuple[Loc, str]] = ()) -> None:
        """Record an error."""
        self.add(Diagnostic("error", loc, message, list(notes)))

    def warning(self, loc: Loc | None, message: str,
                notes: Iterable[tuple[Loc, str]] = ()) -> None:
        """Record a warning."""
        self.add(Diagnostic("warning", loc, message, list(notes)))

    def mark(self) -> tuple[int, int]:
        """A point to roll back to (see `rollback`)."""
        return len(self.items), self.errors

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget every diagnostic recorded after `mark`."""
        n, errors = mark
        for diag in self.items[n:]:
            self._seen.discard((diag.severity, diag.loc, diag.message))
        del self.items[n:]
        self.errors = errors

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in report order: by file order of appearance, line, column."""
        order: dict[str, int] = {}
        for d in self.items:
            if d.loc is not None:
                order.setdefault(d.loc.file, len(order))

        def key(d: Diagnostic) -> tuple[int, int, int]:
            if d.loc is None:
                return (-1, 0, 0)
            return (order[d.loc.file], d.loc.line, d.loc.col)

        return sorted(self.items, key=key)


def _display(text: str) -> str:
    """A source line made safe to print: tabs kept, other control characters shown as '?'."""
    return "".join(c if c == "\t" or c.isprintable() else "?" for c in text)


def _caret_line(text: str, col: int, end: int) -> str:
    """Spaces (tabs kept, so the caret lines up) then `^~~~` under columns col..end-1."""
    prefix = "".join("\t" if c == "\t" else " " for c in text[: col - 1])
    width = max(1, min(end, len(text) + 1) - col) if end > col else 1
    return prefix + "^" + "~" * (width - 1)


def render_one(severity: str, loc: Loc | None, message: str,
               lines_of: dict[str, list[str]]) -> list[str]:
    """The lines of one diagnostic or note: header, then source line and caret if known."""
    if loc is None:
        return [f"{severity}: {message}"]
    out = [f"{loc}: {severity}: {message}"]
    lines = lines_of.get(loc.file)
    if lines is not None and 1 <= loc.line <= len(lines):
        text = _display(lines[loc.line - 1])
        gutter = f"{loc.line:5d} | "
        out.append(gutter + text)
        out.append(" " * (len(gutter) - 2) + "| " + _caret_line(text, loc.col, loc.end))
    return out


def _collapse(notes: list[tuple[Loc, str]]) -> list[tuple[Loc, str]]:
    """Runs of identical notes (a recursive macro) as one note with a count."""
    out: list[tuple[Loc, str]] = []
    i = 0
    while i < len(notes):
        j = i
        while j + 1 < len(notes) and notes[j + 1] == notes[i]:
            j += 1
        loc, msg = notes[i]
        out.append((loc, msg if j == i else f"{msg} ({j - i + 1} times)"))
        i = j + 1
    return out


def render(diags: list[Diagnostic], lines_of: dict[str, list[str]]) -> str:
    """All diagnostics as text, with a closing count line (e.g. `2 errors, 1 warning`)."""
    out: list[str] = []
    for d in diags:
        out.extend(render_one(d.severity, d.loc, d.message, lines_of))
        notes = _collapse(d.notes)
        if len(notes) > MAX_NOTES:
            hidden = len(notes) - MAX_NOTES
            notes = notes[: MAX_NOTES - 1] + [(notes[-1][0], f"({hidden} more expansion "
                                                             f"levels) ... {notes[-1][1]}")]
        for loc, msg in notes:
            out.extend(render_one("note", loc, msg, lines_of))
    errors = sum(d.severity == "error" for d in diags)
    warnings = len(diags) - errors
    counts = []
    if errors:
        counts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if errors >= MAX_ERRORS:
        counts.append("stopped after too many errors")
    if counts:
        out.append(", ".join(counts) + " generated.")
    return "\n".join(out)
