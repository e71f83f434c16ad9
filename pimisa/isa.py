"""The PIM instruction set: every instruction defined once, in TABLE.

Everything else about instructions is derived from this table: the record encoder/decoder and
disassembler (`pimisa.encoding`), the assembler's operand checks, the numpy twin's semantics
(the `sem` functions below), the generated C header, docs/isa.md and the hypothesis strategies.

A command is one fixed-width record (RECORD_DTYPE). Lanes are 32-bit; values live in registers
as uint32 and are viewed as int32 or float32 by the operation. Float results that are NaN are
canonicalised to 0x7FC00000 so every backend agrees bit for bit.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# One command record, little-endian, 16 bytes. The C core reads the same layout.
RECORD_DTYPE = np.dtype(
    [
        ("op", "u1"),  # opcode
        ("pred", "u1"),  # predication: bit7 on, bit6 inverted, bits0-5 mask register
        ("rd", "u1"),  # destination vector or mask register
        ("ra", "u1"),  # first source register (also the stored register of `st`)
        ("rb", "u1"),  # second source register
        ("cc", "u1"),  # compare condition code
        ("bank", "u1"),  # target bank of a single-bank command; ALL_BANKS otherwise
        ("col", "u1"),  # column word of a memory command
        ("row", "<u4"),  # row of a memory command (relative to the tile base)
        ("imm", "<i4"),  # immediate (32 bits; float immediates are stored as their bits)
    ]
)
assert RECORD_DTYPE.itemsize == 16

ALL_BANKS = 0xFF
PRED_ON = 0x80
PRED_INVERT = 0x40
PRED_MASK_BITS = 0x3F
CANONICAL_NAN = 0x7FC00000

# Field widths in bits, for validation of the table and of operand values.
FIELD_BITS = {name: RECORD_DTYPE[name].itemsize * 8 for name in RECORD_DTYPE.names}

# Compare conditions: name -> (code, signed, numpy comparison).
CONDITIONS: dict[str, tuple[int, bool, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "eq": (0, False, np.equal),
    "ne": (1, False, np.not_equal),
    "lt": (2, True, np.less),
    "le": (3, True, np.less_equal),
    "gt": (4, True, np.greater),
    "ge": (5, True, np.greater_equal),
    "ltu": (6, False, np.less),
    "leu": (7, False, np.less_equal),
    "gtu": (8, False, np.greater),
    "geu": (9, False, np.greater_equal),
}
CONDITION_BY_CODE = {code: name for name, (code, _s, _f) in CONDITIONS.items()}

# Operand kinds: syntax name -> (record field, what it is).
OPERAND_KINDS: dict[str, tuple[str, str]] = {
    "vd": ("rd", "vreg"),
    "va": ("ra", "vreg"),
    "vb": ("rb", "vreg"),
    "md": ("rd", "mreg"),
    "ma": ("ra", "mreg"),
    "mb": ("rb", "mreg"),
    "mem": ("row,col", "mem"),
    "imm": ("imm", "imm32"),
    "sh": ("imm", "shamt"),
    "lanes": ("imm", "lanemask"),
    "cc": ("cc", "cond"),
}

# Semantics classes (the C core switches on the same classes; see the generated header).
SEM_CLASSES = (
    "none",  # no data effect (nop, barrier)
    "load",  # vd <- memory word
    "store",  # memory word <- va
    "lane",  # vd <- f(va, vb, imm) per lane
    "lane_acc",  # vd <- f(vd, va, vb) per lane (multiply-accumulate; reads vd)
    "compare",  # md <- cond(va, vb or imm) per lane
    "mask",  # md <- f(ma, mb, imm) on lane masks (uint32 words, bit k = lane k)
)

U32 = np.uint32

# Every `sem` has this one signature: sem(d, a, b, imm) -> the new value of the destination,
# from its old lanes d, the source lanes a and b (va/vb, or ma/mb for mask instructions; a
# source the instruction lacks is given as any lanes of the right shape) and the immediate
# (int). Arrays are uint32 lanes; the result has their shape.
Sem = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def _i32(x: np.ndarray) -> np.ndarray:
    return x.view(np.int32)


def _f32(x: np.ndarray) -> np.ndarray:
    return x.view(np.float32)


def _from_f32(x: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(x, dtype=np.float32).view(U32)
    return np.where(np.isnan(x), U32(CANONICAL_NAN), bits).astype(U32)


def _float_op(op: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray,
              b: np.ndarray) -> np.ndarray:
    """A float32 lane op on raw bits; IEEE results (no warnings), canonical NaN."""
    with np.errstate(all="ignore"):
        return _from_f32(op(_f32(a), _f32(b)))


def _shl(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = s.astype(np.uint64)
    return np.where(s >= 32, 0, (a.astype(np.uint64) << np.minimum(s, 31)) & 0xFFFFFFFF).astype(U32)


def _shr(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = s.astype(np.uint64)
    return np.where(s >= 32, 0, a.astype(np.uint64) >> np.minimum(s, 31)).astype(U32)


def _sra(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = np.minimum(s.astype(np.int64), 31)
    return (_i32(a).astype(np.int64) >> s).astype(np.int32).view(U32)


def _shr_rne(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Logical right shift rounding half to even with the bits shifted out (s >= 33 gives 0)."""
    a64 = a.astype(np.uint64)
    s64 = np.minimum(s.astype(np.uint64), 40)
    q = a64 >> s64
    half = np.where(s64 == 0, 0, np.uint64(1) << np.maximum(s64, 1) - 1)
    rem = a64 - (q << s64)
    up = (rem > half) | ((rem == half) & (half != 0) & ((q & 1) == 1))
    return (q + up).astype(U32)


def _imm_i32(i: int) -> np.int32:
    """The immediate as a signed 32-bit lane value."""
    return np.array(i & 0xFFFFFFFF, dtype=U32).view(np.int32)[()]


def _field(a: np.ndarray, i: int) -> tuple[np.ndarray, U32]:
    """The bit field an immediate names, placed at its destination, and its mask there.

    imm = s + (w << 8) + (p << 16): the w bits of a from bit s (s, p in 0..31, w in 0..63;
    w >= 32 takes every bit from s up) go to bits p and up; bits past bit 31 are dropped.
    """
    s, w, p = i & 31, (i >> 8) & 63, (i >> 16) & 31
    low = 0xFFFFFFFF if w >= 32 else (1 << w) - 1
    mask = U32((low << p) & 0xFFFFFFFF)
    return ((a >> U32(s)) << U32(p)) & mask, mask


@dataclass(frozen=True)
class Instr:
    """One instruction: mnemonic, explicit opcode, operand syntax, semantics, one-line doc."""

    mnemonic: str
    opcode: int
    operands: tuple[str, ...]
    sem_class: str
    doc: str
    sem: Sem | None = None  # numpy semantics: sem(d, a, b, imm), see the sem_class
    predicable: bool = True
    touches_memory: bool = False

    @property
    def syntax(self) -> str:
        """Assembly syntax, e.g. `cmp.<cc> md, va, vb`."""
        name = self.mnemonic
        ops = ["[row, col]" if o == "mem" else o for o in self.operands if o != "cc"]
        if "cc" in self.operands:
            name += ".<cc>"
        return f"{name} {', '.join(ops)}".strip()


TABLE: tuple[Instr, ...] = (
    Instr("nop", 0x00, (), "none", "Do nothing for one PIM command slot.", predicable=False),
    Instr(
        "barrier", 0x01, (), "none",
        "Close every open row before the next command (timing only; no data effect).",
        predicable=False,
    ),
    Instr("ld", 0x08, ("vd", "mem"), "load", "Load the column word [row, col] into vd.",
          touches_memory=True),
    Instr("st", 0x09, ("va", "mem"), "store", "Store va into the column word [row, col].",
          touches_memory=True),
    Instr("mov", 0x10, ("vd", "va"), "lane", "vd = va.", lambda d, a, b, i: a),
    Instr("li", 0x11, ("vd", "imm"), "lane", "vd = imm in every lane (float literals as bits).",
          lambda d, a, b, i: np.broadcast_to(U32(i & 0xFFFFFFFF), a.shape).copy()),
    Instr("not", 0x12, ("vd", "va"), "lane", "vd = ~va (bitwise).", lambda d, a, b, i: ~a),
    Instr("add", 0x13, ("vd", "va", "vb"), "lane", "vd = va + vb (wrapping).",
          lambda d, a, b, i: a + b),
    Instr("sub", 0x14, ("vd", "va", "vb"), "lane", "vd = va - vb (wrapping).",
          lambda d, a, b, i: a - b),
    Instr("and", 0x15, ("vd", "va", "vb"), "lane", "vd = va & vb.", lambda d, a, b, i: a & b),
    Instr("or", 0x16, ("vd", "va", "vb"), "lane", "vd = va | vb.", lambda d, a, b, i: a | b),
    Instr("xor", 0x17, ("vd", "va", "vb"), "lane", "vd = va ^ vb.", lambda d, a, b, i: a ^ b),
    Instr("min", 0x18, ("vd", "va", "vb"), "lane", "vd = min(va, vb), signed.",
          lambda d, a, b, i: np.minimum(_i32(a), _i32(b)).view(U32)),
    Instr("max", 0x19, ("vd", "va", "vb"), "lane", "vd = max(va, vb), signed.",
          lambda d, a, b, i: np.maximum(_i32(a), _i32(b)).view(U32)),
    Instr("minu", 0x1A, ("vd", "va", "vb"), "lane", "vd = min(va, vb), unsigned.",
          lambda d, a, b, i: np.minimum(a, b)),
    Instr("maxu", 0x1B, ("vd", "va", "vb"), "lane", "vd = max(va, vb), unsigned.",
          lambda d, a, b, i: np.maximum(a, b)),
    Instr("mul", 0x1C, ("vd", "va", "vb"), "lane", "vd = low 32 bits of va * vb.",
          lambda d, a, b, i: a * b),
    Instr("addi", 0x20, ("vd", "va", "imm"), "lane", "vd = va + imm (wrapping).",
          lambda d, a, b, i: a + U32(i & 0xFFFFFFFF)),
    Instr("andi", 0x21, ("vd", "va", "imm"), "lane", "vd = va & imm.",
          lambda d, a, b, i: a & U32(i & 0xFFFFFFFF)),
    Instr("ori", 0x22, ("vd", "va", "imm"), "lane", "vd = va | imm.",
          lambda d, a, b, i: a | U32(i & 0xFFFFFFFF)),
    Instr("xori", 0x23, ("vd", "va", "imm"), "lane", "vd = va ^ imm.",
          lambda d, a, b, i: a ^ U32(i & 0xFFFFFFFF)),
    Instr("slli", 0x24, ("vd", "va", "sh"), "lane", "vd = va << sh (sh in 0..31).",
          lambda d, a, b, i: a << U32(i)),
    Instr("srli", 0x25, ("vd", "va", "sh"), "lane", "vd = va >> sh, logical (sh in 0..31).",
          lambda d, a, b, i: a >> U32(i)),
    Instr("srai", 0x26, ("vd", "va", "sh"), "lane", "vd = va >> sh, arithmetic (sh in 0..31).",
          lambda d, a, b, i: (_i32(a) >> np.int32(i)).view(U32)),
    Instr("mini", 0x27, ("vd", "va", "imm"), "lane", "vd = min(va, imm), signed.",
          lambda d, a, b, i: np.minimum(_i32(a), _imm_i32(i)).view(U32)),
    Instr("maxi", 0x28, ("vd", "va", "imm"), "lane", "vd = max(va, imm), signed.",
          lambda d, a, b, i: np.maximum(_i32(a), _imm_i32(i)).view(U32)),
    Instr("minui", 0x29, ("vd", "va", "imm"), "lane", "vd = min(va, imm), unsigned.",
          lambda d, a, b, i: np.minimum(a, U32(i & 0xFFFFFFFF))),
    Instr("maxui", 0x2A, ("vd", "va", "imm"), "lane", "vd = max(va, imm), unsigned.",
          lambda d, a, b, i: np.maximum(a, U32(i & 0xFFFFFFFF))),
    Instr("fadd", 0x30, ("vd", "va", "vb"), "lane", "vd = va + vb in float32.",
          lambda d, a, b, i: _float_op(np.add, a, b)),
    Instr("fsub", 0x31, ("vd", "va", "vb"), "lane", "vd = va - vb in float32.",
          lambda d, a, b, i: _float_op(np.subtract, a, b)),
    Instr("fmul", 0x32, ("vd", "va", "vb"), "lane", "vd = va * vb in float32.",
          lambda d, a, b, i: _float_op(np.multiply, a, b)),
    Instr("fmac", 0x33, ("vd", "va", "vb"), "lane_acc",
          "vd = vd + va * vb in float32 (two roundings, not fused).",
          lambda d, a, b, i: _float_op(np.add, d, _float_op(np.multiply, a, b))),
    Instr("cmp", 0x40, ("cc", "md", "va", "vb"), "compare",
          "Masked compare: md = (va <cc> vb) per lane; under a predicate only selected lanes "
          "of md change."),
    Instr("cmpi", 0x41, ("cc", "md", "va", "imm"), "compare",
          "Masked compare with an immediate: md = (va <cc> imm) per lane."),
    Instr("mand", 0x48, ("md", "ma", "mb"), "mask", "md = ma & mb (lane masks).",
          lambda d, a, b, i: a & b, predicable=False),
    Instr("mor", 0x49, ("md", "ma", "mb"), "mask", "md = ma | mb (lane masks).",
          lambda d, a, b, i: a | b, predicable=False),
    Instr("mxor", 0x4A, ("md", "ma", "mb"), "mask", "md = ma ^ mb (lane masks).",
          lambda d, a, b, i: a ^ b, predicable=False),
    Instr("mnot", 0x4B, ("md", "ma"), "mask", "md = ~ma (lane masks).",
          lambda d, a, b, i: ~a, predicable=False),
    Instr("mset", 0x4C, ("md", "lanes"), "mask", "md = lanes (bit k selects lane k).",
          lambda d, a, b, i: np.broadcast_to(U32(i), a.shape).copy(), predicable=False),
    Instr("shlv", 0x50, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va << vb per lane (amounts >= 32 give 0).",
          lambda d, a, b, i: _shl(a, b)),
    Instr("shrv", 0x51, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, logical (amounts >= 32 give 0).",
          lambda d, a, b, i: _shr(a, b)),
    Instr("srav", 0x52, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, arithmetic (amounts >= 31 give the sign).",
          lambda d, a, b, i: _sra(a, b)),
    Instr("shrvr", 0x53, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, logical, rounding half to even with the "
          "bits shifted out.",
          lambda d, a, b, i: _shr_rne(a, b)),
    Instr("bfx", 0x54, ("vd", "va", "imm"), "lane",
          "Bit-field extract: vd = the w bits of va from bit s, placed at bit p, other bits 0 "
          "(imm = s + (w << 8) + (p << 16); s, p in 0..31, w in 0..63, w >= 32 takes every bit "
          "from s up; bits past bit 31 are dropped).",
          lambda d, a, b, i: _field(a, i)[0]),
    Instr("bfi", 0x55, ("vd", "va", "imm"), "lane_acc",
          "Bit-field insert: the w bits of va from bit s replace bits p .. p + w - 1 of vd, "
          "the other bits of vd stay (imm as for bfx).",
          lambda d, a, b, i: (d & ~_field(a, i)[1]) | _field(a, i)[0]),
)

BY_MNEMONIC: dict[str, Instr] = {ins.mnemonic: ins for ins in TABLE}
BY_OPCODE: dict[int, Instr] = {ins.opcode: ins for ins in TABLE}


def validate_table(table: tuple[Instr, ...] = TABLE) -> None:
    """Check the table is consistent; raises ValueError naming the first problem."""
    seen_m: set[str] = set()
    seen_o: set[int] = set()
    for ins in table:
        if ins.mnemonic in seen_m:
            raise ValueError(f"duplicate mnemonic {ins.mnemonic!r}")
        if ins.opcode in seen_o:
            raise ValueError(f"duplicate opcode {ins.opcode:#x} ({ins.mnemonic})")
        seen_m.add(ins.mnemonic)
        seen_o.add(ins.opcode)
        if not 0 <= ins.opcode < (1 << FIELD_BITS["op"]):
            raise ValueError(f"opcode of {ins.mnemonic} does not fit the op field")
        if ins.sem_class not in SEM_CLASSES:
            raise ValueError(f"{ins.mnemonic}: unknown semantics class {ins.sem_class!r}")
        used: set[str] = set()
        for op in ins.operands:
            if op not in OPERAND_KINDS:
                raise ValueError(f"{ins.mnemonic}: unknown operand kind {op!r}")
            for field in OPERAND_KINDS[op][0].split(","):
                if field in used:
                    raise ValueError(f"{ins.mnemonic}: two operands share field {field!r}")
                used.add(field)
        if ins.sem_class in ("lane", "lane_acc", "mask") and ins.sem is None:
            raise ValueError(f"{ins.mnemonic}: semantics class {ins.sem_class} needs a sem")
        if ins.sem is not None and len(inspect.signature(ins.sem).parameters) != 4:
            raise ValueError(f"{ins.mnemonic}: sem must take (d, a, b, imm)")
        if ins.touches_memory != (ins.sem_class in ("load", "store")):
            raise ValueError(f"{ins.mnemonic}: touches_memory disagrees with its class")


def table_fingerprint() -> dict[str, object]:
    """The canonical, JSON-able description of the encoding (what the ISA hash covers)."""
    return {
        "record": [(n, RECORD_DTYPE[n].str) for n in RECORD_DTYPE.names],
        "conditions": {k: v[0] for k, v in CONDITIONS.items()},
        "instructions": [
            [i.mnemonic, i.opcode, list(i.operands), i.sem_class, i.predicable] for i in TABLE
        ],
    }


def isa_hash_of(fingerprint: dict[str, object]) -> int:
    """64-bit hash of an encoding fingerprint; a .pimb records the hash of its assembler."""
    blob = json.dumps(fingerprint, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little")


validate_table()
ISA_HASH: int = isa_hash_of(table_fingerprint())
