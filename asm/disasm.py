"""Programs -> pimasm text that re-assembles to the same records and kernel metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pimisa import __version__
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError
from pimisa.program import Program

from .expr import INT64_MAX, INT64_MIN

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}
_KINDS = {"input", "output", "scratch"}


def quote(text: str) -> str:
    """A bare identifier, or a double-quoted string with escapes (InputError if impossible)."""
    if _IDENT.fullmatch(text):
        return text
    if any(not c.isprintable() and c not in _ESC for c in text):
        raise InputError(f"the string {text!r} cannot be written in pimasm")
    return '"' + "".join(_ESC.get(c, c) for c in text) + '"'


def _value(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"the setting {value!r} is neither an integer nor a string")
    if isinstance(value, str):
        return quote(value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise InputError(f"the setting {value} does not fit 64 bits")
    return "(-9223372036854775807 - 1)" if value == INT64_MIN else str(value)


def _key(key: str) -> str:
    if not _IDENT.fullmatch(key) or key in ("rows", "layout"):
        raise InputError(f"the setting name {key!r} cannot be written in pimasm")
    return key


def disassemble_lines(program: Program, locations: bool = False,
                      origin: str = "") -> Iterator[str]:
    """The directives then one line per command; `locations` adds `; file:line:col`."""
    meta = program.meta
    n = len(program)
    yield (f"; disassembled by pimisa {__version__}{' from ' + origin if origin else ''}: "
           f"{n} command{'s' if n != 1 else ''}")
    yield f".kernel {quote(meta.name) if meta.name else chr(34) * 2}"
    if meta.arch:
        yield f".arch {quote(meta.arch)}"
    for r in meta.regions:
        if r.kind not in _KINDS:
            raise InputError(f"region {r.name!r} has an unknown kind {r.kind!r}")
        extra = "".join(f", {_key(k)}={_value(v)}" for k, v in r.params.items())
        yield (f".{r.kind} {quote(r.name)}, rows={r.row}:{r.row + r.rows}, "
               f"layout={quote(r.layout)}{extra}")
    for k, v in meta.params.items():
        yield f".param {_key(k)}, {_value(v)}"
    for i in range(n):
        text = "    " + disassemble_one(program.records[i])
        if locations:
            where = program.location(i)
            text = f"{text:40s} ; {where}" if not where.startswith("command") else text
        yield text


def disassemble_program(program: Program, locations: bool = False, origin: str = "") -> str:
    """The whole disassembly as one string (newline-terminated)."""
    return "\n".join(disassemble_lines(program, locations, origin)) + "\n"
