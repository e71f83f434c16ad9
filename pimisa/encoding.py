"""Encode, decode, check and disassemble command records, all derived from the ISA table."""

from __future__ import annotations

import numpy as np

from pimisa.arch import Geometry
from pimisa.isa import (
    ALL_BANKS,
    BY_MNEMONIC,
    BY_OPCODE,
    CONDITION_BY_CODE,
    CONDITIONS,
    OPERAND_KINDS,
    PRED_INVERT,
    PRED_MASK_BITS,
    PRED_ON,
    RECORD_DTYPE,
    Instr,
)

IMM_MIN = -(1 << 31)
IMM_MAX = (1 << 32) - 1


def operand_fields(ins: Instr) -> list[str]:
    """The record fields an instruction's operands occupy (in operand order)."""
    out: list[str] = []
    for op in ins.operands:
        out.extend(OPERAND_KINDS[op][0].split(","))
    return out


def encode(
    mnemonic: str,
    operands: dict[str, int] | None = None,
    pred: int = 0,
    bank: int = ALL_BANKS,
) -> np.ndarray:
    """One record from a mnemonic and its field values (e.g. {'rd': 1, 'row': 3, 'col': 4}).

    Immediates in 0x80000000..0xFFFFFFFF are stored as their two's-complement int32.
    """
    ins = BY_MNEMONIC[mnemonic]
    rec = np.zeros((), dtype=RECORD_DTYPE)
    rec["op"] = ins.opcode
    rec["pred"] = pred
    rec["bank"] = bank
    allowed = set(operand_fields(ins))
    for field, value in (operands or {}).items():
        if field not in allowed:
            raise ValueError(f"{mnemonic} has no field {field!r}")
        if field == "imm":
            value = _imm_to_i32(value)
        rec[field] = value
    return rec


def _imm_to_i32(value: int) -> int:
    if not IMM_MIN <= value <= IMM_MAX:
        raise ValueError(f"immediate {value} does not fit 32 bits")
    return value - (1 << 32) if value >= (1 << 31) else value


def pred_code(mask: int, invert: bool = False) -> int:
    """The pred field for `?mN` (or `?!mN` when inverted)."""
    return PRED_ON | (PRED_INVERT if invert else 0) | mask


def _fmt_imm(value: int, kind: str) -> str:
    if kind in ("shamt",):
        return str(value)
    if kind == "lanemask":
        return f"{value:#x}"
    return str(value) if -4096 <= value <= 4096 else f"{value & 0xFFFFFFFF:#x}"


def disassemble_one(rec: np.void | np.ndarray) -> str:
    """Assembly text for one record; it re-assembles to the same bytes."""
    ins = BY_OPCODE[int(rec["op"])]
    name = ins.mnemonic
    parts: list[str] = []
    for op in ins.operands:
        field, kind = OPERAND_KINDS[op]
        if kind == "cond":
            name += "." + CONDITION_BY_CODE[int(rec["cc"])]
        elif kind == "vreg":
            parts.append(f"v{int(rec[field])}")
        elif kind == "mreg":
            parts.append(f"m{int(rec[field])}")
        elif kind == "mem":
            parts.append(f"[{int(rec['row'])}, {int(rec['col'])}]")
        else:
            parts.append(_fmt_imm(int(rec["imm"]), kind))
    text = name + (" " + ", ".join(parts) if parts else "")
    pred = int(rec["pred"])
    if pred & PRED_ON:
        text += f" ?{'!' if pred & PRED_INVERT else ''}m{pred & PRED_MASK_BITS}"
    if int(rec["bank"]) != ALL_BANKS:
        text += f" @b{int(rec['bank'])}"
    return text


def disassemble(records: np.ndarray) -> list[str]:
    """Assembly text of every record."""
    return [disassemble_one(r) for r in records]


_OPERAND_FIELDS = ("rd", "ra", "rb", "cc", "col", "row", "imm")


def _field_kinds(ins: Instr) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for op in ins.operands:
        fields, kind = OPERAND_KINDS[op]
        for f in fields.split(","):
            kinds[f] = kind
    return kinds


def _imm_range(kind: str, geometry: Geometry) -> tuple[int, int]:
    """Inclusive range of the imm field for an operand kind ('' = unused)."""
    return {
        "": (0, 0),
        "shamt": (0, 31),
        "lanemask": (0, (1 << geometry.lanes) - 1),
    }.get(kind, (IMM_MIN, (1 << 31) - 1))


def record_problem(rec: np.void | np.ndarray, geometry: Geometry) -> str | None:
    """Why one record is invalid for this geometry, or None if it is valid."""
    op = int(rec["op"])
    ins = BY_OPCODE.get(op)
    if ins is None:
        return f"unknown opcode {op:#04x}"
    g = geometry
    kinds = _field_kinds(ins)
    for f in _OPERAND_FIELDS:
        value, kind = int(rec[f]), kinds.get(f, "")
        if kind == "vreg" and value >= g.vector_registers:
            top = g.vector_registers - 1
            return f"{ins.mnemonic}: vector register v{value} out of range (v0..v{top})"
        if kind == "mreg" and value >= g.mask_registers:
            top = g.mask_registers - 1
            return f"{ins.mnemonic}: mask register m{value} out of range (m0..m{top})"
        if kind == "cond" and value not in CONDITION_BY_CODE:
            return f"{ins.mnemonic}: unknown condition code {value}"
        if kind == "mem" and f == "col" and value >= g.cols:
            return f"{ins.mnemonic}: column {value} out of range (0..{g.cols - 1})"
        if f == "imm":
            lo, hi = _imm_range(kind, g)
            if not lo <= value <= hi:
                return f"{ins.mnemonic}: immediate {value} out of range ({lo}..{hi})"
        elif kind == "" and value:
            return f"{ins.mnemonic}: field {f} must be 0, got {value}"
    pred = int(rec["pred"])
    if pred & PRED_ON:
        if not ins.predicable:
            return f"{ins.mnemonic} cannot be predicated"
        mask = pred & PRED_MASK_BITS
        if mask >= g.mask_registers:
            return f"predicate mask m{mask} out of range (m0..m{g.mask_registers - 1})"
    elif pred:
        return f"malformed predicate field {pred:#04x}"
    bank = int(rec["bank"])
    if bank != ALL_BANKS and bank >= g.banks:
        return f"bank {bank} out of range (0..{g.banks - 1})"
    return None


def _limits(geometry: Geometry) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per field, per opcode: the inclusive (low, high) range a valid record may hold."""
    g = geometry
    out = {f: (np.zeros(256, np.int64), np.full(256, -1, np.int64)) for f in _OPERAND_FIELDS}
    for ins in BY_OPCODE.values():
        kinds = _field_kinds(ins)
        for f in _OPERAND_FIELDS:
            kind = kinds.get(f, "")
            lo, hi = {
                "vreg": (0, g.vector_registers - 1),
                "mreg": (0, g.mask_registers - 1),
                "cond": (0, len(CONDITIONS) - 1),
                "mem": (0, g.cols - 1 if f == "col" else (1 << 32) - 1),
            }.get(kind, _imm_range(kind, g) if f == "imm" else (0, 0))
            out[f][0][ins.opcode], out[f][1][ins.opcode] = lo, hi
    return out


def check_records(records: np.ndarray, geometry: Geometry) -> tuple[int, str] | None:
    """First record that is invalid for this geometry, as (index, reason); None if all valid.

    Vectorised (a million records take milliseconds); the reason comes from record_problem.
    Rows are not bounded here: they are relative to the tile base, which only a launch knows.
    """
    op = records["op"]
    bad = np.zeros(len(records), dtype=bool)
    for f, (lo, hi) in _limits(geometry).items():
        vals = records[f]
        bad |= (vals < lo[op]) | (vals > hi[op])
    pred = records["pred"]
    predicable = np.zeros(256, bool)
    predicable[[i.opcode for i in BY_OPCODE.values() if i.predicable]] = True
    pon = (pred & PRED_ON) != 0
    bad |= pon & (~predicable[op] | ((pred & PRED_MASK_BITS) >= geometry.mask_registers))
    bad |= ~pon & (pred != 0)
    bank = records["bank"]
    bad |= (bank != ALL_BANKS) & (bank >= geometry.banks)
    idx = np.flatnonzero(bad)
    if not idx.size:
        return None
    first = int(idx[0])
    return first, record_problem(records[first], geometry) or "invalid record"
