"""Encode, decode and disassemble command records, all derived from the ISA table.

Validation of records is pimisa.validate (one validator for every consumer).
"""

from __future__ import annotations

import numpy as np

from pimisa.isa import (
    ALL_BANKS,
    BY_MNEMONIC,
    BY_OPCODE,
    CONDITION_BY_CODE,
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
    # negative values of 16-bit lanes' range stay decimal (their hex would not fit 16 bits)
    return str(value) if -(1 << 15) <= value <= 4096 else f"{value & 0xFFFFFFFF:#x}"


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
