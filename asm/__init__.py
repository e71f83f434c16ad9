"""The pimisa assembler (installed as pimisa.asm): pimasm source -> Program.

    from pimisa.asm import assemble_file, assemble_source
    program = assemble_file("kernels/example_gemv.pimasm")
    program = assemble_source("li v1, 1.5\\n", arch="hbm2-pim")

Both raise pimisa.errors.SourceError whose message holds every rendered diagnostic of the
run. The target architecture is the `arch` argument if given, else the source's `.arch`
directive, else hbm3. The language is described in docs/language.md.

`assemble` / `assemble_path` never raise for bad source: they return an Assembly with the
Program (or None) and every diagnostic, warnings included (what `pimisa asm` prints).

Passes: parse (asm/parse.py, grammar asm/pimasm.lark) -> blocks (asm/blocks.py) -> expansion
and encoding (asm/expand.py, asm/expr.py, asm/instr.py, asm/emit.py) -> metadata checks
(asm/meta.py). The other way: asm/disasm.py (Program -> source), asm/listing.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pimisa.arch import Arch, load_arch
from pimisa.errors import SourceError
from pimisa.fileio import read_regular
from pimisa.program import Program

from .diagnostics import Diagnostic, Loc, render
from .expand import Assembler, decode_source

__all__ = ["Assembly", "assemble", "assemble_file", "assemble_path", "assemble_source"]


@dataclass
class Assembly:
    """The outcome of one run: a Program (None on errors) and every diagnostic."""

    program: Program | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rendered: str = ""  # all diagnostics as text (empty when there are none)
    sources: dict[str, list[str]] = field(default_factory=dict)  # lines of every file read
    # Macro call sites: record i was expanded from the calls stacks[record_stacks[i]],
    # outermost first, each (macro name, location of the call). Not stored in a .pimb.
    record_stacks: np.ndarray | None = None
    stacks: list[tuple[tuple[str, Loc], ...]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when assembly succeeded (there may still be warnings)."""
        return self.program is not None


def _arch(arch: Arch | str | None) -> Arch | None:
    if arch is None or isinstance(arch, Arch):
        return arch
    return load_arch(arch)


def _run(text: str, filename: str, arch: Arch | str | None, defines: dict[str, int] | None,
         pre: list[Diagnostic], bad_lines: set[int]) -> Assembly:
    asm = Assembler(_arch(arch), defines)
    directory = Path(".") if filename.startswith("<") else Path(filename).parent
    key = filename if filename.startswith("<") else os.path.realpath(filename)
    program = asm.run(text, filename, directory, key, pre, bad_lines)
    diags = asm.diag.sorted()
    sources = asm.lines_of()
    return Assembly(program, diags, render(diags, sources) if diags else "", sources,
                    asm.record_stacks if program is not None else None, asm.stacks)


def assemble(text: str, filename: str = "<string>", arch: Arch | str | None = None,
             defines: dict[str, int] | None = None) -> Assembly:
    """Assemble source text; never raises for bad source (see Assembly.diagnostics).

    `defines` sets kernel parameters (`.default NAME, value` in the source) and pre-defines
    any other name as a global integer symbol; defining a `.equ` constant is an error.
    Raises InputError only for a bad `arch` argument.
    """
    return _run(text, filename, arch, defines, [], set())


def assemble_path(path: str | Path, arch: Arch | str | None = None,
                  defines: dict[str, int] | None = None) -> Assembly:
    """Assemble a .pimasm file (includes resolve relative to it); InputError if unreadable."""
    data = read_regular(path, "source")
    text, diags, bad = decode_source(data, str(path))
    return _run(text, str(path), arch, defines, diags, bad)


def assemble_source(text: str, filename: str = "<string>", arch: Arch | str | None = None,
                    defines: dict[str, int] | None = None) -> Program:
    """Assemble source text to a Program; SourceError lists every diagnostic."""
    result = assemble(text, filename, arch, defines)
    if result.program is None:
        raise SourceError(result.rendered)
    return result.program


def assemble_file(path: str | Path, arch: Arch | str | None = None,
                  defines: dict[str, int] | None = None) -> Program:
    """Assemble a .pimasm file to a Program; SourceError lists every diagnostic."""
    result = assemble_path(path, arch, defines)
    if result.program is None:
        raise SourceError(result.rendered)
    return result.program
