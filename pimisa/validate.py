"""The one validator of command records: limits per opcode, one fault order, one message each.

Every consumer of records checks them here or from what is generated from here: the loader
and the assembler (`check_records`), the numpy twin (`static_faults`, per window of records)
and the C core (the limit-kind table and the limit ranges generated into cext/pimisa_isa.h by
`python -m pimisa.codegen`).

Each of the ten record fields of an opcode has a *limit kind* at each lane width (FIELD_KINDS,
derived from the ISA table; an instruction that does not exist at the geometry's lane width is
an unknown opcode there): the values a valid record may hold, as an inclusive range on a
geometry, and the fault a value outside it raises. A record's fault is the lowest fault code
among its failing fields, and the fault codes are numbered in FAULT_ORDER:

    opcode, pred, bank, vreg, mreg, cond, imm, col, field (a field the instruction does not
    use is not 0), row

`row` is the only check that needs the launch (its rows and the slot's row base); it comes
last, at run time. Within one fault, the message names the first failing field in record
order (rd before ra before rb).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from pimisa.arch import Geometry
from pimisa.isa import (
    ALL_BANKS,
    BY_OPCODE,
    CONDITIONS,
    LANE_WIDTHS,
    OPERAND_KINDS,
    PRED_INVERT,
    PRED_MASK_BITS,
    PRED_ON,
    RECORD_DTYPE,
    Instr,
    isa_hash_of,
)

FAULT_ORDER = ("opcode", "pred", "bank", "vreg", "mreg", "cond", "imm", "col", "field", "row")
FAULT_CODES: dict[str, int] = {name: i + 1 for i, name in enumerate(FAULT_ORDER)}
OK = 0
OPCODE, PRED, BANK, VREG, MREG, COND, IMM, COL, FIELD, ROW = (FAULT_CODES[n] for n in FAULT_ORDER)
FAULT_DOCS = {
    "opcode": "unknown opcode",
    "pred": "malformed predicate, a predicate on an unpredicable instruction, or its mask "
            "register out of range",
    "bank": "single-bank target out of range",
    "vreg": "vector register out of range",
    "mreg": "mask register out of range",
    "cond": "unknown compare condition",
    "imm": "immediate out of range (shift amount, lane mask, 16-bit lanes' immediate)",
    "col": "column out of range",
    "field": "a field the instruction does not use is not 0",
    "row": "row outside the launch's rows (checked at run time)",
}

FIELDS: tuple[str, ...] = tuple(RECORD_DTYPE.names)

NO_ALSO = 1 << 40  # the `also` of a limit without an extra valid value (no field holds it)

# Geometry terms a limit range may depend on (the C core has the same, from its machine).
TERMS = ("vector_registers", "mask_registers", "cols", "banks", "all_lanes", "lane_bits")


@dataclass(frozen=True)
class Limit:
    """A limit kind: valid values v are `lo <= (v & ~ignore) <= hi + term` or `v == also`.

    `term` names one of TERMS added to `hi` (None: a constant range); `fault` is the fault
    name a value outside it raises (None: every value is valid, nothing to check).
    """

    fault: str | None
    lo: int
    hi: int
    term: str | None = None
    also: int | None = None
    ignore: int = 0
    doc: str = ""


LIMITS: dict[str, Limit] = {
    "any": Limit(None, -(1 << 31), (1 << 32) - 1, doc="any value"),
    "unknown": Limit("opcode", 1, 0, doc="an opcode of no instruction: never valid"),
    "known": Limit(None, 0, 255, doc="an opcode of the ISA table"),
    "pred": Limit("pred", PRED_ON, PRED_ON - 1, "mask_registers", also=0, ignore=PRED_INVERT,
                  doc="0, or on (bit 7), maybe inverted (bit 6), with a mask register"),
    "no_pred": Limit("pred", 0, 0, doc="0: the instruction cannot be predicated"),
    "bank": Limit("bank", 0, -1, "banks", also=ALL_BANKS, doc="a bank, or ALL_BANKS"),
    "vreg": Limit("vreg", 0, -1, "vector_registers", doc="a vector register"),
    "mreg": Limit("mreg", 0, -1, "mask_registers", doc="a mask register"),
    "cond": Limit("cond", 0, len(CONDITIONS) - 1, doc="a compare condition code"),
    "col": Limit("col", 0, -1, "cols", doc="a column word of a row"),
    "imm16": Limit("imm", -(1 << 15), (1 << 16) - 1, doc="a 16-bit lane's immediate"),
    "shamt": Limit("imm", 0, -1, "lane_bits", doc="a shift amount 0..lane bits - 1"),
    "lanemask": Limit("imm", 0, 0, "all_lanes", doc="a lane mask (bit k = lane k)"),
    "zero": Limit("field", 0, 0, doc="0: the instruction does not use the field"),
}
LIMIT_NAMES: tuple[str, ...] = tuple(LIMITS)

# Operand kind (pimisa.isa.OPERAND_KINDS) -> the limit kind of its field(s).
_OPERAND_LIMITS = {"vreg": "vreg", "mreg": "mreg", "cond": "cond", "imm32": "any",
                   "bitfield": "any", "shamt": "shamt", "lanemask": "lanemask"}


def field_kinds(ins: Instr | None, width: int = 32) -> dict[str, str]:
    """The limit kind of every record field of an instruction on lanes of `width` bits (None,
    or an instruction that does not exist at that width: an unknown opcode)."""
    if ins is None or width not in ins.widths:
        return {f: ("unknown" if f == "op" else "any") for f in FIELDS}
    kinds = {f: "zero" for f in FIELDS}
    kinds["op"] = "known"
    kinds["pred"] = "pred" if ins.predicable else "no_pred"
    kinds["bank"] = "bank"
    for op in ins.operands:
        fields, kind = OPERAND_KINDS[op]
        if kind == "mem":
            kinds["row"], kinds["col"] = "any", "col"
        elif kind == "imm32" and width == 16:
            kinds[fields] = "imm16"
        else:
            kinds[fields] = _OPERAND_LIMITS[kind]
    return kinds


FIELD_KINDS: dict[int, dict[int, dict[str, str]]] = {
    w: {op: field_kinds(BY_OPCODE.get(op), w) for op in range(256)} for w in LANE_WIDTHS}
"""FIELD_KINDS[lane bits][opcode][field]: the limit kind of the field."""


def _validator_hash() -> int:
    doc = {"faults": FAULT_CODES, "fields": FIELDS, "terms": TERMS,
           "limits": {k: dataclasses.astuple(v) for k, v in LIMITS.items()},
           "kinds": {w: [[FIELD_KINDS[w][op][f] for f in FIELDS] for op in range(256)]
                     for w in LANE_WIDTHS}}
    return isa_hash_of(doc)


VALIDATOR_HASH: int = _validator_hash()
"""64-bit hash of the validator tables; the C core is built with it (a stale core is refused)."""


def terms(geometry: Geometry) -> dict[str, int]:
    """Values of the geometry terms (TERMS) for a geometry."""
    g = geometry
    return {"vector_registers": g.vector_registers, "mask_registers": g.mask_registers,
            "cols": g.cols, "banks": g.banks, "all_lanes": (1 << g.lanes) - 1,
            "lane_bits": g.lane_bits}


def limit_range(limit: Limit, geometry: Geometry) -> tuple[int, int]:
    """The inclusive (lo, hi) of a limit kind on a geometry."""
    return limit.lo, limit.hi + (terms(geometry)[limit.term] if limit.term else 0)


@dataclass(frozen=True)
class Table:
    """The limits of one geometry, per opcode and field: arrays of shape (256, len(FIELDS))."""

    lo: np.ndarray
    hi: np.ndarray
    also: np.ndarray  # NO_ALSO: no extra value
    keep: np.ndarray  # the bits of the value compared (~ignore)
    fault: np.ndarray  # fault code, 0 = nothing to check


@functools.lru_cache(maxsize=64)
def limits_table(geometry: Geometry) -> Table:
    """The per-opcode limits table of a geometry (cached)."""
    shape = (256, len(FIELDS))
    lo, hi, also = (np.zeros(shape, np.int64) for _ in range(3))
    keep, fault = np.full(shape, -1, np.int64), np.zeros(shape, np.int64)
    for op in range(256):
        for j, f in enumerate(FIELDS):
            limit = LIMITS[FIELD_KINDS[geometry.lane_bits][op][f]]
            lo[op, j], hi[op, j] = limit_range(limit, geometry)
            also[op, j] = NO_ALSO if limit.also is None else limit.also
            keep[op, j] = ~limit.ignore
            fault[op, j] = FAULT_CODES[limit.fault] if limit.fault else 0
    for a in (lo, hi, also, keep, fault):
        a.flags.writeable = False
    return Table(lo, hi, also, keep, fault)


def static_faults(records: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The fault code of every record that a launch does not decide (0 = valid), vectorised."""
    t = limits_table(geometry)
    op = records["op"].astype(np.intp)
    code = np.full(len(records), 255, np.int64)
    for j, f in enumerate(FIELDS):
        v = records[f].astype(np.int64)
        masked = v & t.keep[op, j]
        bad = ((masked < t.lo[op, j]) | (masked > t.hi[op, j])) & (v != t.also[op, j])
        bad &= t.fault[op, j] != 0
        code = np.where(bad, np.minimum(code, t.fault[op, j]), code)
    return np.where(code == 255, OK, code).astype(np.uint8)


def _field_ok(rec: np.void | np.ndarray, f: str, limit: Limit, geometry: Geometry) -> bool:
    v = int(rec[f])
    lo, hi = limit_range(limit, geometry)
    return limit.fault is None or lo <= (v & ~limit.ignore) <= hi or v == limit.also


def describe_static(code: int, rec: np.void | np.ndarray, geometry: Geometry) -> str:
    """The one-line message of static fault `code` of record `rec` (FAULT_ORDER, not row)."""
    op = int(rec["op"])
    kinds = FIELD_KINDS[geometry.lane_bits][op]
    failing = [(f, LIMITS[kinds[f]]) for f in FIELDS
               if LIMITS[kinds[f]].fault and FAULT_CODES[LIMITS[kinds[f]].fault] == code
               and not _field_ok(rec, f, LIMITS[kinds[f]], geometry)]
    if code == OPCODE:
        ins = BY_OPCODE.get(op)
        if ins is not None:
            return (f"{ins.mnemonic} does not exist on {geometry.lane_bits}-bit lanes (only on "
                    f"{'/'.join(map(str, ins.widths))}-bit lanes)")
        return f"unknown opcode {op:#04x}"
    name = BY_OPCODE[op].mnemonic
    if not failing:  # a code this record does not raise: say what the code means
        return f"{name}: {FAULT_DOCS.get(FAULT_ORDER[code - 1], 'fault')} (code {code})"
    f, limit = failing[0]
    v = int(rec[f])
    lo, hi = limit_range(limit, geometry)
    g = geometry
    if code == PRED:
        if not v & PRED_ON:
            return f"{name}: malformed predicate field {v:#04x}"
        if kinds["pred"] == "no_pred":
            return f"{name} cannot be predicated"
        return (f"{name}: predicate mask m{v & PRED_MASK_BITS} out of range "
                f"(m0..m{g.mask_registers - 1})")
    if code == BANK:
        return f"{name}: bank {v} out of range (0..{g.banks - 1})"
    if code == VREG:
        return f"{name}: vector register v{v} out of range (v0..v{hi})"
    if code == MREG:
        return f"{name}: mask register m{v} out of range (m0..m{hi})"
    if code == COND:
        return f"{name}: unknown condition code {v}"
    if code == IMM:
        return f"{name}: immediate {v} out of range ({lo}..{hi})"
    if code == COL:
        return f"{name}: column {v} out of range (0..{hi})"
    return f"{name}: field {f} must be 0 ({name} does not use it), got {v}"


def record_problem(rec: np.void | np.ndarray, geometry: Geometry) -> str | None:
    """Why one record is invalid for this geometry (rows aside), or None if it is valid."""
    code = int(static_faults(np.asarray(rec, RECORD_DTYPE).reshape(1), geometry)[0])
    return describe_static(code, rec, geometry) if code else None


def check_records(records: np.ndarray, geometry: Geometry) -> tuple[int, str] | None:
    """First record invalid for this geometry, as (index, reason); None if all are valid.

    Vectorised (a million records take milliseconds). Rows are not bounded here: they are
    relative to the tile base, which only a launch knows.
    """
    codes = static_faults(records, geometry)
    bad = np.flatnonzero(codes)
    if not bad.size:
        return None
    first = int(bad[0])
    return first, describe_static(int(codes[first]), records[first], geometry)

