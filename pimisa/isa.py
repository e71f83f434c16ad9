"""The PIM instruction set: every instruction defined once, in TABLE.

Everything else about instructions is derived from this table: the record encoder/decoder and
disassembler (`pimisa.encoding`), the assembler's operand checks, the numpy twin's semantics
(the `sem` functions below), the generated C header, docs/isa.md and the hypothesis strategies.

A command is one fixed-width record (RECORD_DTYPE). Lanes are 32 or 16 bits (the geometry's
`lane_bits`, LANE_WIDTHS); values live in registers as uint32 or uint16 and are viewed as
int32/int16, float32 or (16-bit lanes) binary16 / bfloat16 by the operation. Each instruction
lists the widths it exists at (`Instr.widths`): the float32 ops only at 32 bits, their `.f16`
and `.bf16` forms only at 16 bits, everything else at both. Float results that are NaN are
canonicalised (float32 0x7FC00000, binary16 0x7E00, bfloat16 0x7FC0: the positive quiet NaN
with only the top fraction bit set, numpy's and ml_dtypes' default NaN) so every backend agrees
bit for bit.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
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
CANONICAL_NAN_F16 = 0x7E00
CANONICAL_NAN_BF16 = 0x7FC0
LANE_WIDTHS = (32, 16)  # lane bits a geometry may have; every instruction exists at some
LANE_DTYPES = {32: np.dtype(np.uint32), 16: np.dtype(np.uint16)}

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
    "field": ("imm", "bitfield"),
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
# (int). The lane width is the arrays' dtype: uint32 lanes on 32-bit geometries, uint16 on
# 16-bit ones (LANE_DTYPES; mask words are always uint32); the result has their shape and
# dtype, and an immediate acts with its low lane-width bits.
Sem = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def _bits(x: np.ndarray) -> int:
    return x.dtype.itemsize * 8


def _imm(x: np.ndarray, i: int) -> np.generic:
    """The immediate as a lane value of x's width (its low lane-width bits)."""
    return x.dtype.type(i & ((1 << _bits(x)) - 1))


def _i32(x: np.ndarray) -> np.ndarray:
    """The signed view of lanes of either width."""
    return x.view(np.int16 if x.dtype.itemsize == 2 else np.int32)


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
    w, s = _bits(a), s.astype(np.uint64)
    keep = (1 << w) - 1
    return np.where(s >= w, 0, (a.astype(np.uint64) << np.minimum(s, w - 1)) & keep).astype(a.dtype)


def _shr(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    w, s = _bits(a), s.astype(np.uint64)
    return np.where(s >= w, 0, a.astype(np.uint64) >> np.minimum(s, w - 1)).astype(a.dtype)


def _sra(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = np.minimum(s.astype(np.int64), _bits(a) - 1)
    signed = _i32(a)
    return (signed.astype(np.int64) >> s).astype(signed.dtype).view(a.dtype)


def _shr_rne(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Logical right shift rounding half to even with the bits shifted out (s >= W+1 gives 0)."""
    a64 = a.astype(np.uint64)
    s64 = np.minimum(s.astype(np.uint64), 40)
    q = a64 >> s64
    half = np.where(s64 == 0, 0, np.uint64(1) << np.maximum(s64, 1) - 1)
    rem = a64 - (q << s64)
    up = (rem > half) | ((rem == half) & (half != 0) & ((q & 1) == 1))
    return (q + up).astype(a.dtype)


def _round_f16(r: np.ndarray) -> np.ndarray:
    """float32 values -> binary16 bits, rounded to nearest even (numpy's cast), NaN canonical."""
    bits = r.astype(np.float16).view(np.uint16)
    return np.where(np.isnan(r), np.uint16(CANONICAL_NAN_F16), bits).astype(np.uint16)


def _round_bf16(r: np.ndarray) -> np.ndarray:
    """float32 values -> bfloat16 bits, rounded to nearest even on the bits, NaN canonical."""
    f = np.ascontiguousarray(r, dtype=np.float32).view(U32).astype(np.uint64)
    bits = ((f + 0x7FFF + ((f >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(r), np.uint16(CANONICAL_NAN_BF16), bits).astype(np.uint16)


# 16-bit float lane types: bits -> exact float32 values, float32 -> rounded bits.
_HALF_TYPES: dict[str, tuple[Callable[[np.ndarray], np.ndarray],
                             Callable[[np.ndarray], np.ndarray]]] = {
    "f16": (lambda x: x.view(np.float16).astype(np.float32), _round_f16),
    "bf16": (lambda x: (x.astype(U32) << 16).view(np.float32), _round_bf16),
}


def _half_op(kind: str, op: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray,
             b: np.ndarray) -> np.ndarray:
    """A binary16 / bfloat16 lane op: the exact float32 operands, the float32 op, rounded to
    nearest even to the lane type (float32 holds the exact sum, difference and product of two
    binary16 values closely enough that this is the correctly rounded result)."""
    widen, narrow = _HALF_TYPES[kind]
    with np.errstate(all="ignore"):
        return narrow(op(widen(a), widen(b)))


def _half_sem(kind: str, op: Callable[[np.ndarray, np.ndarray], np.ndarray] | None) -> Sem:
    """The sem of a 16-bit float instruction (op None: fmac, vd + va * vb rounded twice)."""
    if op is None:
        return lambda d, a, b, i: _half_op(kind, np.add, d, _half_op(kind, np.multiply, a, b))
    return lambda d, a, b, i: _half_op(kind, op, a, b)


def _field(a: np.ndarray, i: int) -> tuple[np.ndarray, np.generic]:
    """The bit field an immediate names, placed at its destination, and its mask there.

    imm = s + (w << 8) + (p << 16): the w bits of a from bit s go to bits p and up (s and p
    taken mod W, w in 0..63; w >= W takes every bit from s up); bits past bit W-1 are dropped.
    """
    bits = _bits(a)
    s, w, p = i & (bits - 1), (i >> 8) & 63, (i >> 16) & (bits - 1)
    every = (1 << bits) - 1
    low = every if w >= bits else (1 << w) - 1
    mask = a.dtype.type((low << p) & every)
    return ((a >> a.dtype.type(s)) << a.dtype.type(p)) & mask, mask


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
    widths: tuple[int, ...] = LANE_WIDTHS  # lane bits the instruction exists at

    def doc_at(self, width: int) -> str:
        """The doc with the lane width W spelled out (e.g. "0..W-1" -> "0..15"), or "" when
        the instruction does not exist at that width."""
        if width not in self.widths:
            return ""
        return re.sub(r"\b(int)?W([+-]1)?\b",
                      lambda m: (m.group(1) or "") + str(width + int(m.group(2) or 0)), self.doc)

    @property
    def c_name(self) -> str:
        """The name of its OP_ constant in C, e.g. FADD_BF16 for fadd.bf16."""
        return self.mnemonic.upper().replace(".", "_")

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
    Instr("li", 0x11, ("vd", "imm"), "lane",
          "vd = imm in every lane (its low W bits; a float literal: its float32 bits, 32-bit "
          "lanes only).",
          lambda d, a, b, i: np.broadcast_to(_imm(a, i), a.shape).copy()),
    Instr("not", 0x12, ("vd", "va"), "lane", "vd = ~va (bitwise).", lambda d, a, b, i: ~a),
    Instr("add", 0x13, ("vd", "va", "vb"), "lane", "vd = va + vb (wrapping).",
          lambda d, a, b, i: a + b),
    Instr("sub", 0x14, ("vd", "va", "vb"), "lane", "vd = va - vb (wrapping).",
          lambda d, a, b, i: a - b),
    Instr("and", 0x15, ("vd", "va", "vb"), "lane", "vd = va & vb.", lambda d, a, b, i: a & b),
    Instr("or", 0x16, ("vd", "va", "vb"), "lane", "vd = va | vb.", lambda d, a, b, i: a | b),
    Instr("xor", 0x17, ("vd", "va", "vb"), "lane", "vd = va ^ vb.", lambda d, a, b, i: a ^ b),
    Instr("min", 0x18, ("vd", "va", "vb"), "lane", "vd = min(va, vb), signed (intW).",
          lambda d, a, b, i: np.minimum(_i32(a), _i32(b)).view(a.dtype)),
    Instr("max", 0x19, ("vd", "va", "vb"), "lane", "vd = max(va, vb), signed (intW).",
          lambda d, a, b, i: np.maximum(_i32(a), _i32(b)).view(a.dtype)),
    Instr("minu", 0x1A, ("vd", "va", "vb"), "lane", "vd = min(va, vb), unsigned.",
          lambda d, a, b, i: np.minimum(a, b)),
    Instr("maxu", 0x1B, ("vd", "va", "vb"), "lane", "vd = max(va, vb), unsigned.",
          lambda d, a, b, i: np.maximum(a, b)),
    Instr("mul", 0x1C, ("vd", "va", "vb"), "lane", "vd = low W bits of va * vb.",
          lambda d, a, b, i: a * b),
    Instr("addi", 0x20, ("vd", "va", "imm"), "lane", "vd = va + imm (wrapping).",
          lambda d, a, b, i: a + _imm(a, i)),
    Instr("andi", 0x21, ("vd", "va", "imm"), "lane", "vd = va & imm.",
          lambda d, a, b, i: a & _imm(a, i)),
    Instr("ori", 0x22, ("vd", "va", "imm"), "lane", "vd = va | imm.",
          lambda d, a, b, i: a | _imm(a, i)),
    Instr("xori", 0x23, ("vd", "va", "imm"), "lane", "vd = va ^ imm.",
          lambda d, a, b, i: a ^ _imm(a, i)),
    Instr("slli", 0x24, ("vd", "va", "sh"), "lane", "vd = va << sh (sh in 0..W-1).",
          lambda d, a, b, i: a << _imm(a, i)),
    Instr("srli", 0x25, ("vd", "va", "sh"), "lane", "vd = va >> sh, logical (sh in 0..W-1).",
          lambda d, a, b, i: a >> _imm(a, i)),
    Instr("srai", 0x26, ("vd", "va", "sh"), "lane", "vd = va >> sh, arithmetic (sh in 0..W-1).",
          lambda d, a, b, i: (_i32(a) >> _i32(_imm(a, i))).view(a.dtype)),
    Instr("mini", 0x27, ("vd", "va", "imm"), "lane", "vd = min(va, imm), signed (intW).",
          lambda d, a, b, i: np.minimum(_i32(a), _i32(_imm(a, i))).view(a.dtype)),
    Instr("maxi", 0x28, ("vd", "va", "imm"), "lane", "vd = max(va, imm), signed (intW).",
          lambda d, a, b, i: np.maximum(_i32(a), _i32(_imm(a, i))).view(a.dtype)),
    Instr("minui", 0x29, ("vd", "va", "imm"), "lane", "vd = min(va, imm), unsigned.",
          lambda d, a, b, i: np.minimum(a, _imm(a, i))),
    Instr("maxui", 0x2A, ("vd", "va", "imm"), "lane", "vd = max(va, imm), unsigned.",
          lambda d, a, b, i: np.maximum(a, _imm(a, i))),
    Instr("fadd", 0x30, ("vd", "va", "vb"), "lane", "vd = va + vb in float32.",
          lambda d, a, b, i: _float_op(np.add, a, b), widths=(32,)),
    Instr("fsub", 0x31, ("vd", "va", "vb"), "lane", "vd = va - vb in float32.",
          lambda d, a, b, i: _float_op(np.subtract, a, b), widths=(32,)),
    Instr("fmul", 0x32, ("vd", "va", "vb"), "lane", "vd = va * vb in float32.",
          lambda d, a, b, i: _float_op(np.multiply, a, b), widths=(32,)),
    Instr("fmac", 0x33, ("vd", "va", "vb"), "lane_acc",
          "vd = vd + va * vb in float32 (two roundings, not fused).",
          lambda d, a, b, i: _float_op(np.add, d, _float_op(np.multiply, a, b)), widths=(32,)),
    *(Instr(f"{name}.{kind}", base + k, ("vd", "va", "vb"),
            "lane_acc" if name == "fmac" else "lane", f"{doc} in {title}{note}.", sem,
            widths=(16,))
      for kind, base, title in (("f16", 0x34, "IEEE binary16 (FP16)"),
                                ("bf16", 0x38, "bfloat16 (BF16)"))
      for k, (name, doc, note, sem) in enumerate((
          ("fadd", "vd = va + vb", "", _half_sem(kind, np.add)),
          ("fsub", "vd = va - vb", "", _half_sem(kind, np.subtract)),
          ("fmul", "vd = va * vb", "", _half_sem(kind, np.multiply)),
          ("fmac", "vd = vd + va * vb", " (two roundings, not fused)", _half_sem(kind, None))))),
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
          "Intra-lane shift: vd = va << vb per lane (amounts >= W give 0).",
          lambda d, a, b, i: _shl(a, b)),
    Instr("shrv", 0x51, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, logical (amounts >= W give 0).",
          lambda d, a, b, i: _shr(a, b)),
    Instr("srav", 0x52, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, arithmetic (amounts >= W-1 give the sign).",
          lambda d, a, b, i: _sra(a, b)),
    Instr("shrvr", 0x53, ("vd", "va", "vb"), "lane",
          "Intra-lane shift: vd = va >> vb per lane, logical, rounding half to even with the "
          "bits shifted out.",
          lambda d, a, b, i: _shr_rne(a, b)),
    Instr("bfx", 0x54, ("vd", "va", "field"), "lane",
          "Bit-field extract: vd = the w bits of va from bit s, placed at bit p, other bits 0 "
          "(field = s + (w << 8) + (p << 16); s, p in 0..W-1 (taken mod W), w in 0..63, "
          "w >= W takes every bit from s up; bits past bit W-1 are dropped).",
          lambda d, a, b, i: _field(a, i)[0]),
    Instr("bfi", 0x55, ("vd", "va", "field"), "lane_acc",
          "Bit-field insert: the w bits of va from bit s replace bits p .. p + w - 1 of vd, "
          "the other bits of vd stay (field as for bfx).",
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
        if not ins.widths or not set(ins.widths) <= set(LANE_WIDTHS):
            raise ValueError(f"{ins.mnemonic}: widths must be some of {LANE_WIDTHS}")


def table_fingerprint() -> dict[str, object]:
    """The canonical, JSON-able description of the encoding (what the ISA hash covers)."""
    return {
        "record": [(n, RECORD_DTYPE[n].str) for n in RECORD_DTYPE.names],
        "conditions": {k: v[0] for k, v in CONDITIONS.items()},
        "instructions": [
            [i.mnemonic, i.opcode, list(i.operands), i.sem_class, i.predicable, list(i.widths)]
            for i in TABLE
        ],
        "canonical_nan": [CANONICAL_NAN, CANONICAL_NAN_F16, CANONICAL_NAN_BF16],
    }


def isa_hash_of(fingerprint: dict[str, object]) -> int:
    """64-bit hash of an encoding fingerprint; a .pimb records the hash of its assembler."""
    blob = json.dumps(fingerprint, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little")


validate_table()
ISA_HASH: int = isa_hash_of(table_fingerprint())
