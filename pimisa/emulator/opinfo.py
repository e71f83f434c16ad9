"""What each opcode reads and writes, derived from the ISA table (pimisa.isa.TABLE).

Both backends check exactly the fields an instruction uses, in the same order, so a corrupt
stream faults identically in C and in numpy. `c_flags` packs the same facts into the C core's
operand table (generated into cext/emu_isa.h); the C backend compares the two at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pimisa.isa import OPERAND_KINDS, SEM_CLASSES, TABLE, Instr


@dataclass(frozen=True)
class OpInfo:
    """The operands of one instruction, by role."""

    ins: Instr
    vregs: tuple[str, ...]  # record fields naming vector registers, e.g. ("rd", "ra")
    mregs: tuple[str, ...]  # record fields naming mask registers
    mem: bool  # row, col address memory
    cc: bool  # has a compare condition
    imm: str  # kind of the immediate: "" (unused), "imm32", "bitfield", "shamt", "lanemask"

    @property
    def sem_class(self) -> str:
        """The semantics class (pimisa.isa.SEM_CLASSES)."""
        return self.ins.sem_class

    def uses(self, operand: str) -> bool:
        """Whether the instruction has operand `operand` (e.g. "va")."""
        return operand in self.ins.operands


def _info(ins: Instr) -> OpInfo:
    vregs: list[str] = []
    mregs: list[str] = []
    imm = ""
    for op in ins.operands:
        field, kind = OPERAND_KINDS[op]
        if kind == "vreg":
            vregs.append(field)
        elif kind == "mreg":
            mregs.append(field)
        elif field == "imm":
            imm = kind
    return OpInfo(ins, tuple(vregs), tuple(mregs), "mem" in ins.operands, "cc" in ins.operands,
                  imm)


OPINFO: dict[int, OpInfo] = {ins.opcode: _info(ins) for ins in TABLE}

# The C core's operand flags, by name: bit 4 + i for FLAG_NAMES[i] (bits 0-3 hold the class).
FLAG_NAMES = ("KNOWN", "PRED", "RD_V", "RA_V", "RB_V", "RD_M", "RA_M", "RB_M", "MEM", "CC",
              "IMM", "SHAMT", "LANES")
FLAGS: dict[str, int] = {name: 0x10 << i for i, name in enumerate(FLAG_NAMES)}
FLAG_DOCS = {"KNOWN": "an instruction of the table", "PRED": "predicable",
             "RD_V": "rd is a vector register", "RA_V": "ra is a vector register",
             "RB_V": "rb is a vector register", "RD_M": "rd is a mask register",
             "RA_M": "ra is a mask register", "RB_M": "rb is a mask register",
             "MEM": "row, col address memory", "CC": "compare condition",
             "IMM": "32-bit immediate", "SHAMT": "immediate shift amount",
             "LANES": "immediate lane mask"}

_FIELD_FLAGS = {("vreg", "rd"): "RD_V", ("vreg", "ra"): "RA_V", ("vreg", "rb"): "RB_V",
                ("mreg", "rd"): "RD_M", ("mreg", "ra"): "RA_M", ("mreg", "rb"): "RB_M"}
_IMM_FLAGS = {"imm32": "IMM", "bitfield": "IMM", "shamt": "SHAMT", "lanemask": "LANES"}


def c_flags(op: int, flags: Mapping[str, int] = FLAGS) -> int:
    """The C core's emu_op_info(op) word, given its flag values by name (KNOWN, PRED, RD_V...)."""
    info = OPINFO.get(op)
    if info is None:
        return 0
    word = SEM_CLASSES.index(info.sem_class) | flags["KNOWN"]
    names = [_FIELD_FLAGS["vreg", f] for f in info.vregs]
    names += [_FIELD_FLAGS["mreg", f] for f in info.mregs]
    names += ["PRED"] if info.ins.predicable else []
    names += ["MEM"] if info.mem else []
    names += ["CC"] if info.cc else []
    names += [_IMM_FLAGS[info.imm]] if info.imm else []
    for name in names:
        word |= flags[name]
    return word
