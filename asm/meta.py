"""Kernel metadata directives (.kernel, .input/.output/.scratch, .param) and region checks.

    .kernel NAME
    .input  W, rows=0:8, layout=hp16            ; rows start:stop, stop exclusive
    .output Q, rows=8:11, layout=mx6_row, fmt=mx6
    .scratch T, rows=11:12
    .param  BLOCK, 16

A setting value (`key=value`, `.param` value) is an integer expression, a "string", or a bare
name: the value of that symbol if one is defined, else the name itself as a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pimisa.arch import Geometry
from pimisa.isa import BY_OPCODE, TABLE
from pimisa.program import KernelMeta, Program, Region

from .diagnostics import AsmError, Diagnostics, Loc
from .expr import Binary, Name, Range, Reg, Str, describe
from .nodes import Directive

REGION_KINDS = {".input": "input", ".output": "output", ".scratch": "scratch"}
_MAX_LOCATION_ERRORS = 20  # region-check diagnostics per kind (one per source location)


_HYPHENATED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+")


def word(node: Any, st: Directive | None = None) -> str | None:
    """The text of a bare name (registers included) or a string operand, else None.

    With the statement `st`, a hyphenated name such as `hbm2-pim` (which parses as a
    subtraction) is taken as written.
    """
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Reg) and node.text is not None:
        return node.text
    if isinstance(node, Str):
        return node.value
    if st is not None and isinstance(node, Binary) and st.src is not None:
        text = st.src.lines[st.line - 1][node.col - 1:node.end - 1]
        if _HYPHENATED.fullmatch(text):
            return text
    return None


def setting_value(node: Any, ctx: Any) -> int | str:
    """An int or str setting: an expression, a "string", or a bare name (see module doc)."""
    if isinstance(node, Name):
        value = ctx.lookup(node.id)
        if value is None:
            return node.id
    elif isinstance(node, Reg) and node.text is not None:
        return node.text
    else:
        value = node.ev(ctx)
    if isinstance(value, (int, str)):
        return value
    raise AsmError((node.col, node.end), f"a setting must be an integer or a string, got "
                   f"{describe(value)}")


def _int(node: Any, ctx: Any, what: str) -> int:
    value = node.ev(ctx)
    if not isinstance(value, int):
        raise AsmError((node.col, node.end), f"{what} must be an integer, got {describe(value)}")
    return value


@dataclass
class MetaState:
    """Kernel metadata collected from directives, with where each item was declared."""

    kernel: tuple[str, Loc] | None = None
    arch: Loc | None = None
    regions: list[tuple[Region, Loc]] = field(default_factory=list)
    params: dict[str, tuple[int | str, Loc]] = field(default_factory=dict)
    incomplete: bool = False  # a region declaration failed: skip the memory checks

    def kernel_directive(self, st: Directive, ctx: Any) -> None:
        """`.kernel NAME` (or a "string")."""
        name = word(st.operands[0], st) if len(st.operands) == 1 else None
        if name is None:
            raise AsmError(None, "expected '.kernel NAME'")
        if self.kernel is not None:
            raise AsmError(None, f"duplicate '.kernel' (the kernel is already named "
                           f"'{self.kernel[0]}')", notes=[(self.kernel[1], "named here")])
        self.kernel = (name, st.loc())

    def param_directive(self, st: Directive, ctx: Any) -> None:
        """`.param KEY, value`."""
        ops = st.operands
        if len(ops) != 2 or not isinstance(ops[0], (Name, Reg)) or word(ops[0]) is None:
            raise AsmError(None, "expected '.param KEY, value'")
        key = word(ops[0])
        assert key is not None
        if key in self.params:
            raise AsmError((ops[0].col, ops[0].end), f"duplicate parameter '{key}'",
                           notes=[(self.params[key][1], "first set here")])
        self.params[key] = (setting_value(ops[1], ctx), st.loc((ops[0].col, ops[0].end)))

    def region_directive(self, st: Directive, ctx: Any) -> None:
        """`.input/.output/.scratch NAME, rows=start:stop[, layout=L][, key=value ...]`."""
        kind = REGION_KINDS[st.name]
        usage = f"expected '{st.name} NAME, rows=start:stop[, layout=NAME][, key=value ...]'"
        ops = st.operands
        name = word(ops[0]) if ops else None
        if name is None:
            raise AsmError(None, usage)
        rows: tuple[int, int] | None = None
        layout = "raw"
        params: dict[str, int | str] = {}
        seen: set[str] = set()
        for op in ops[1:]:
            key = getattr(op, "key", None)
            if key is None:
                raise AsmError((op.col, op.end), f"expected key=value; {usage}")
            if key in seen:
                raise AsmError((op.col, op.end), f"'{key}' given twice")
            seen.add(key)
            if key == "rows":
                if not isinstance(op.value, Range):
                    raise AsmError((op.value.col, op.value.end),
                                   "rows must be a range start:stop (stop exclusive)")
                start = _int(op.value.start, ctx, "the first row")
                stop = _int(op.value.stop, ctx, "the end row")
                if not 0 <= start < stop:
                    raise AsmError((op.value.col, op.value.end),
                                   f"rows={start}:{stop} is empty or negative "
                                   "(need 0 <= start < stop)")
                rows = (start, stop)
            elif key == "layout":
                value = word(op.value, st) or setting_value(op.value, ctx)
                if not isinstance(value, str):
                    raise AsmError((op.value.col, op.value.end), "layout must be a name")
                layout = value
            else:
                params[key] = setting_value(op.value, ctx)
        if rows is None:
            raise AsmError(None, f"missing rows=start:stop; {usage}")
        region = Region(name, kind, rows[0], rows[1] - rows[0], layout, params)
        for other, loc in self.regions:
            if other.name == name:
                raise AsmError((ops[0].col, ops[0].end), f"region '{name}' declared twice",
                               notes=[(loc, "first declared here")])
            if region.row < other.row + other.rows and other.row < region.row + region.rows:
                raise AsmError(None, f"region '{name}' (rows {_rows(region)}) overlaps region "
                               f"'{other.name}' (rows {_rows(other)})",
                               notes=[(loc, f"'{other.name}' declared here")])
        self.regions.append((region, st.loc((ops[0].col, ops[0].end))))

    def kernel_meta(self, default_name: str, arch_name: str) -> KernelMeta:
        """The KernelMeta of the program."""
        return KernelMeta(
            name=self.kernel[0] if self.kernel else default_name,
            arch=arch_name,
            regions=[r for r, _ in self.regions],
            params={k: v for k, (v, _) in self.params.items()},
        )

    def check(self, program: Program, geometry: Geometry, diag: Diagnostics) -> None:
        """Regions fit the bank; memory commands stay inside the declared regions."""
        for region, loc in self.regions:
            unit_rows = geometry.rows * geometry.banks_per_pim_unit
            if region.row + region.rows > unit_rows:
                diag.error(loc, f"region '{region.name}' (rows {_rows(region)}) does not fit "
                           f"the {unit_rows} rows of a PIM unit")
        if not self.regions or not len(program) or self.incomplete:
            return
        rec = program.records
        mem_ops = [ins.opcode for ins in TABLE if ins.touches_memory]
        idx = np.flatnonzero(np.isin(rec["op"], mem_ops))
        rows = rec["row"][idx].astype(np.int64)
        inside = np.zeros(len(idx), dtype=bool)
        for region, _ in self.regions:
            inside |= (rows >= region.row) & (rows < region.row + region.rows)
        listing = ", ".join(f"'{r.name}' rows {_rows(r)}" for r, _ in self.regions)
        for i in _first_per_location(program, idx[~inside]):
            diag.error(_record_loc(program, i),
                       f"'{BY_OPCODE[int(rec['op'][i])].mnemonic}' accesses row "
                       f"{int(rec['row'][i])}, outside every declared region ({listing})")
        st_op = next(ins.opcode for ins in TABLE if ins.mnemonic == "st")
        for region, _ in self.regions:
            if region.kind != "input":
                continue
            hit = idx[(rec["op"][idx] == st_op) & (rows >= region.row)
                      & (rows < region.row + region.rows)]
            for i in _first_per_location(program, hit):
                diag.warning(_record_loc(program, i), f"'st' writes row {int(rec['row'][i])} "
                             f"of input region '{region.name}' (rows {_rows(region)})")


def _rows(region: Region) -> str:
    return f"{region.row}:{region.row + region.rows}"


def _first_per_location(program: Program, indices: np.ndarray) -> list[int]:
    """The first command index of each distinct source location among `indices`."""
    if not len(indices) or program.srcmap is None:
        return [int(i) for i in indices[:_MAX_LOCATION_ERRORS]]
    sm = program.srcmap[indices]
    key = (sm["file"].astype(np.int64) << 48) | (sm["line"].astype(np.int64) << 16) | sm["col"]
    _, first = np.unique(key, return_index=True)
    return [int(indices[j]) for j in sorted(first)[:_MAX_LOCATION_ERRORS]]


def _record_loc(program: Program, index: int) -> Loc | None:
    if program.srcmap is None:
        return None
    entry = program.srcmap[index]
    file, line, col = int(entry["file"]), int(entry["line"]), int(entry["col"])
    if not line or file >= len(program.files):
        return None
    mnemonic = BY_OPCODE[int(program.records["op"][index])].mnemonic
    return Loc(program.files[file], line, col, col + len(mnemonic))
