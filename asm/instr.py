"""Instruction statements -> record field values, with operand checks from the ISA table.

A record is produced as a tuple in EMIT_DTYPE field order (the 10 record fields, then the
source-map fields). Inside vectorised loop bodies some entries are int64 arrays (one value per
loop instance); every range check is element-wise and names the first failing instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pimisa.arch import Geometry
from pimisa.encoding import IMM_MAX, IMM_MIN, pred_code
from pimisa.isa import (
    ALL_BANKS,
    BY_MNEMONIC,
    CONDITIONS,
    OPERAND_KINDS,
)
from pimisa.isa import (
    Instr as IsaInstr,
)

from .diagnostics import AsmError, suggest
from .expr import REG_KINDS, Mem, MemV, RegV, describe
from .nodes import Bank, Instr, Pred

# Index of each field in a record tuple (EMIT_DTYPE order, see asm/emit.py).
FIELD_INDEX = {"op": 0, "pred": 1, "rd": 2, "ra": 3, "rb": 4, "cc": 5, "bank": 6, "col": 7,
               "row": 8, "imm": 9}
_KIND_TEXT = {
    "vreg": "a vector register",
    "mreg": "a mask register",
    "mem": "a memory operand [row, col]",
    "imm32": "an immediate (integer or float)",
    "shamt": "a shift amount 0..31",
    "bitfield": "a bit field s + (w << 8) + (p << 16)",
    "lanemask": "a lane mask",
}


@dataclass(frozen=True, slots=True)
class Spec:
    """A resolved mnemonic: the ISA instruction, its condition code, its operand kinds."""

    ins: IsaInstr
    cc: int
    operands: tuple[tuple[str, str, str], ...]  # (syntax name, kind, record field)

    @property
    def name(self) -> str:
        """The mnemonic without condition."""
        return self.ins.mnemonic


_SPECS: dict[str, Spec] = {}


def mnemonics() -> list[str]:
    """Every instruction spelling, for suggestions (`cmp.gt` etc. included)."""
    out = []
    for ins in BY_MNEMONIC.values():
        if "cc" in ins.operands:
            out += [f"{ins.mnemonic}.{cc}" for cc in CONDITIONS]
        out.append(ins.mnemonic)
    return out


def resolve(stmt: Instr) -> Spec | None:
    """The Spec of an instruction statement; None if it is not an instruction (maybe a macro).

    Raises AsmError for a known instruction with a missing, unknown or unexpected condition.
    """
    mnemonic = stmt.mnemonic
    spec = _SPECS.get(mnemonic)
    if spec is not None:
        return spec
    if mnemonic in BY_MNEMONIC:  # a lane-type suffix is part of the mnemonic (fadd.bf16)
        base, dot, cond = mnemonic, "", ""
    else:
        base, dot, cond = mnemonic.partition(".")
    ins = BY_MNEMONIC.get(base)
    if ins is None:
        return None
    has_cc = "cc" in ins.operands
    cond_span = (stmt.col + len(base), stmt.end)
    if has_cc and not dot:
        names = ", ".join(CONDITIONS)
        raise AsmError((stmt.col, stmt.end), f"'{base}' needs a condition suffix: "
                       f"{ins.syntax} with <cc> one of {names}")
    if not has_cc and dot:
        raise AsmError(cond_span, f"'{base}' takes no condition suffix ('.{cond}')")
    cc = 0
    if has_cc:
        if cond not in CONDITIONS:
            hint = suggest(cond, CONDITIONS)
            raise AsmError(cond_span, f"unknown condition '{cond}' for {base}{hint} "
                           f"(conditions: {', '.join(CONDITIONS)})")
        cc = CONDITIONS[cond][0]
    ops = tuple((op, OPERAND_KINDS[op][1], OPERAND_KINDS[op][0]) for op in ins.operands
                if op != "cc")
    spec = Spec(ins, cc, ops)
    _SPECS[mnemonic] = spec
    return spec


class Encoder:
    """Turns instruction statements into record tuples for one target geometry."""

    def __init__(self, geometry: Geometry) -> None:
        self.g = geometry
        self.limits = {"v": geometry.vector_registers, "m": geometry.mask_registers,
                       "b": geometry.banks}

    def _range(self, ctx: Any, value: Any, lo: int, hi: int, span: tuple[int, int],
               what: Any) -> None:
        """Check lo <= value <= hi (element-wise); `what(v)` words the error for value v."""
        if isinstance(value, np.ndarray):
            bad = (value < lo) | (value > hi)
            if bad.any():
                k = ctx.first_bad(bad)
                v = int(np.broadcast_to(value, ctx.dims).flat[k])
                raise AsmError(span, what(v), k)
        elif not lo <= value <= hi:
            raise AsmError(span, what(value))

    def _reg(self, ctx: Any, value: Any, kind: str, span: tuple[int, int],
             operand: Any) -> Any:
        """The index of register `value` of `kind` (range-checked); `operand()` names it."""
        if type(value) is not RegV or value.kind != kind:
            raise AsmError(span, f"{operand()} must be a {REG_KINDS[kind]}, got "
                           f"{describe(value)}")
        index = value.index
        limit = self.limits[kind]
        if type(index) is int and 0 <= index < limit:
            return index
        self._range(ctx, index, 0, limit - 1, span,
                    lambda v: f"{REG_KINDS[kind]} {kind}{v} out of range "
                              f"({kind}0..{kind}{limit - 1})")
        return index

    def _row_error(self, v: int) -> str:
        return f"row {v} out of range (0..{self.g.rows * self.g.banks_per_pim_unit - 1})"

    def _col_error(self, v: int) -> str:
        return f"column {v} out of range (0..{self.g.cols - 1})"

    def _check_width(self, stmt: Instr, ins: IsaInstr) -> None:
        """An error unless the instruction exists at the target's lane width."""
        w = self.g.lane_bits
        if w in ins.widths:
            return
        root = ins.mnemonic.partition(".")[0]
        others = [i.mnemonic for i in BY_MNEMONIC.values()
                  if w in i.widths and i.mnemonic.partition(".")[0] == root]
        hint = f"; use {' or '.join(others)}" if others else ""
        raise AsmError((stmt.col, stmt.end),
                       f"'{ins.mnemonic}' does not exist on {w}-bit lanes (the target has "
                       f"{self.g.lanes} x {w}-bit lanes; '{ins.mnemonic}' needs "
                       f"{'/'.join(map(str, ins.widths))}-bit lanes){hint}")

    def encode(self, stmt: Instr, spec: Spec, ctx: Any) -> list[Any]:
        """Field values of the record (a list in EMIT_DTYPE order, source fields included)."""
        ins = spec.ins
        self._check_width(stmt, ins)
        nodes = stmt.operands
        if len(nodes) != len(spec.operands):
            end = nodes[-1].end if nodes else stmt.end
            raise AsmError((stmt.col, end),
                           f"'{spec.name}' takes {len(spec.operands)} operand"
                           f"{'s' if len(spec.operands) != 1 else ''} ({ins.syntax}), "
                           f"got {len(nodes)}")
        rec: list[Any] = [ins.opcode, 0, 0, 0, 0, spec.cc, ALL_BANKS, 0, 0, 0,
                          stmt.src.index if stmt.src else 0, min(stmt.col, 0xFFFF), stmt.line]
        for i, ((name, kind, field), node) in enumerate(zip(spec.operands, nodes, strict=True), 1):
            value = node.ev(ctx)
            span = (node.col, node.end)

            def operand(i: int = i, name: str = name) -> str:
                return f"operand {i} of '{spec.name}' ({name})"

            if kind == "vreg":
                rec[FIELD_INDEX[field]] = self._reg(ctx, value, "v", span, operand)
            elif kind == "mreg":
                rec[FIELD_INDEX[field]] = self._reg(ctx, value, "m", span, operand)
            elif kind == "mem":
                if type(value) is not MemV:
                    raise AsmError(span, f"{operand()} must be a memory operand [row, col], "
                                   f"got {describe(value)}")
                direct = type(node) is Mem
                self._range(ctx, value.row, 0, self.g.rows * self.g.banks_per_pim_unit - 1,
                            (node.row.col, node.row.end) if direct else span, self._row_error)
                self._range(ctx, value.col, 0, self.g.cols - 1,
                            (node.column.col, node.column.end) if direct else span,
                            self._col_error)
                rec[8] = value.row
                rec[7] = value.col
            else:
                rec[9] = self._immediate(ctx, value, kind, span, operand)
        kinds_seen: set[type] = set()
        for suffix in stmt.suffixes:
            if type(suffix) in kinds_seen:
                what = "predicate" if isinstance(suffix, Pred) else "bank"
                raise AsmError((suffix.col, suffix.end), f"more than one {what} suffix")
            kinds_seen.add(type(suffix))
            self._suffix(ctx, suffix, spec, rec)
        return rec

    def _immediate(self, ctx: Any, value: Any, kind: str, span: tuple[int, int],
                   operand: Any) -> Any:
        if isinstance(value, float):
            if kind != "imm32":
                text = _KIND_TEXT[kind].replace("31", str(self.g.lane_bits - 1))
                raise AsmError(span, f"{operand()} must be {text}, got {describe(value)}")
            if self.g.lane_bits == 16:
                raise AsmError(span, f"{operand()}: a float literal is float32 bits, which do "
                               "not fit 16-bit lanes; write the lane's bits as an integer: "
                               f"{_half_bits(value, span)}")
            return _float_bits(value, span)
        if not isinstance(value, (int, np.ndarray)):
            raise AsmError(span, f"{operand()} must be {_KIND_TEXT[kind]}, got {describe(value)}")
        if kind == "shamt":
            top = self.g.lane_bits - 1
            self._range(ctx, value, 0, top, span, lambda v: f"shift amount {v} out of range "
                                                            f"(0..{top})")
            return value
        if kind == "lanemask":
            top = (1 << self.g.lanes) - 1
            self._range(ctx, value, 0, top, span,
                        lambda v: f"lane mask {v:#x} out of range (0..{top:#x}: one bit for "
                                  f"each of the {self.g.lanes} lanes)")
            return value
        if self.g.lane_bits == 16 and kind == "imm32":
            self._range(ctx, value, -(1 << 15), 0xFFFF, span,
                        lambda v: f"immediate {v} does not fit 16-bit lanes (-32768..0xffff)")
        self._range(ctx, value, IMM_MIN, IMM_MAX, span,
                    lambda v: f"immediate {v} does not fit 32 bits "
                              f"({IMM_MIN}..{IMM_MAX:#x})")
        if isinstance(value, np.ndarray):
            return np.where(value > 0x7FFFFFFF, value - (1 << 32), value)
        return value - (1 << 32) if value > 0x7FFFFFFF else value

    def _suffix(self, ctx: Any, suffix: Pred | Bank, spec: Spec, rec: list[Any]) -> None:
        value = suffix.target.ev(ctx)
        span = (suffix.col, suffix.end)
        if isinstance(suffix, Pred):
            if not spec.ins.predicable:
                raise AsmError(span, f"'{spec.name}' cannot be predicated")
            idx = self._reg(ctx, value, "m", (suffix.target.col, suffix.target.end),
                            lambda: "a predicate")
            rec[1] = pred_code(idx, suffix.invert)  # (works element-wise on arrays too)
        else:
            rec[6] = self._reg(ctx, value, "b", (suffix.target.col, suffix.target.end),
                               lambda: "a bank suffix")


def _half_bits(value: float, span: tuple[int, int]) -> str:
    """The binary16 and bfloat16 bits of `value`, as the hint of a float literal on 16-bit
    lanes (bfloat16 rounded to nearest even from the float32)."""
    f32 = np.uint32(_float_bits(value, span) & 0xFFFFFFFF)
    with np.errstate(over="ignore"):
        h = int(np.float16(value).view(np.uint16))
    b = int((int(f32) + 0x7FFF + ((int(f32) >> 16) & 1)) >> 16)
    return f"{h:#06x} for FP16 or {b:#06x} for BF16 ({value!r})"


def _float_bits(value: float, span: tuple[int, int]) -> int:
    """The float32 bits of `value` as a signed int32 (error if it overflows float32)."""
    with np.errstate(over="ignore"):
        f32 = np.float32(value)
    if not np.isfinite(f32):
        raise AsmError(span, f"float {value!r} out of float32 range")
    return int(f32.view(np.int32))
