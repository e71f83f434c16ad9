"""Hypothesis strategies derived from the ISA table, for pimisa's tests and for users' own.

`records(geometry)` draws one valid command record; `programs(geometry)` a record array. The
draws are biased toward what breaks implementations: register reuse (few registers), edge
immediates (0, -1, INT_MIN, INT_MAX, 31, 32) and predicated forms.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pimisa.arch import Geometry
from pimisa.encoding import pred_code
from pimisa.isa import ALL_BANKS, CONDITIONS, OPERAND_KINDS, RECORD_DTYPE, TABLE, Instr

EDGE_WORDS = (0, 1, 2, 31, 32, 33, 0x7F, 0x80, 0xFF, 0x7FFFFF, 0x800000, 0x7F800000,
              0x7FC00000, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE)


def words() -> st.SearchStrategy[int]:
    """32-bit lane values, biased toward edge cases."""
    return st.one_of(st.sampled_from(EDGE_WORDS), st.integers(0, 0xFFFFFFFF))


def immediates() -> st.SearchStrategy[int]:
    """Signed 32-bit immediates as stored in the record, biased toward edges."""
    return words().map(lambda w: w - (1 << 32) if w >= (1 << 31) else w)


def _operand_values(
    ins: Instr, geometry: Geometry, rows: int, vregs: int
) -> st.SearchStrategy[dict[str, int]]:
    parts: dict[str, st.SearchStrategy[int]] = {}
    for op in ins.operands:
        fields, kind = OPERAND_KINDS[op]
        if kind == "vreg":
            parts[fields] = st.integers(0, min(vregs, geometry.vector_registers) - 1)
        elif kind == "mreg":
            parts[fields] = st.integers(0, geometry.mask_registers - 1)
        elif kind == "mem":
            parts["row"] = st.integers(0, rows - 1)
            parts["col"] = st.integers(0, geometry.cols - 1)
        elif kind == "cond":
            parts[fields] = st.sampled_from([c for c, *_ in CONDITIONS.values()])
        elif kind == "shamt":
            parts[fields] = st.integers(0, 31)
        elif kind == "lanemask":
            parts[fields] = st.integers(0, (1 << geometry.lanes) - 1)
        else:
            parts[fields] = immediates()
    return st.fixed_dictionaries(parts)


@st.composite
def records(
    draw: st.DrawFn,
    geometry: Geometry,
    rows: int = 4,
    vregs: int = 4,
    single_bank: bool = True,
    instructions: tuple[Instr, ...] = TABLE,
) -> np.ndarray:
    """One valid record: any instruction, rows in 0..rows-1, registers in v0..v(vregs-1)."""
    ins = draw(st.sampled_from(instructions))
    rec = np.zeros((), dtype=RECORD_DTYPE)
    rec["op"] = ins.opcode
    for field, value in draw(_operand_values(ins, geometry, rows, vregs)).items():
        rec[field] = value
    if ins.predicable and draw(st.booleans()):
        mask = draw(st.integers(0, geometry.mask_registers - 1))
        rec["pred"] = pred_code(mask, draw(st.booleans()))
    rec["bank"] = ALL_BANKS
    if single_bank and draw(st.integers(0, 7)) == 0:
        rec["bank"] = draw(st.integers(0, geometry.banks - 1))
    return rec


@st.composite
def programs(
    draw: st.DrawFn,
    geometry: Geometry,
    max_size: int = 40,
    rows: int = 4,
    vregs: int = 4,
    single_bank: bool = True,
    instructions: tuple[Instr, ...] = TABLE,
) -> np.ndarray:
    """A record array of valid commands (see `records`)."""
    items = draw(st.lists(records(geometry, rows, vregs, single_bank, instructions),
                          min_size=1, max_size=max_size))
    return np.array(items, dtype=RECORD_DTYPE)


@st.composite
def timing_streams(
    draw: st.DrawFn,
    geometry: Geometry,
    max_size: int = 60,
    tile_rows: int = 3,
    single_bank_percent: int = 25,
) -> np.ndarray:
    """Command streams for the DRAM scheduler: mostly ld/st (3 in 4), the rest register-only
    commands and barriers; rows 0..tile_rows-1 of any bank of a PIM unit (k x geometry.rows
    added for the unit's k-th bank); about single_bank_percent single-bank commands.

    Valid for any number of tile slots of tile_rows rows that fits a unit.
    """
    memory = tuple(i for i in TABLE if i.touches_memory)
    other = tuple(i for i in TABLE if not i.touches_memory)
    out = []
    for _ in range(draw(st.integers(1, max_size))):
        if draw(st.integers(0, 3)):
            rec = draw(records(geometry, tile_rows, 2, False, memory))
            k = draw(st.integers(0, geometry.banks_per_pim_unit - 1))
            rec["row"] += k * geometry.rows
        else:
            rec = draw(records(geometry, 1, 2, False, other))
        if draw(st.integers(0, 99)) < single_bank_percent:
            rec["bank"] = draw(st.integers(0, geometry.banks - 1))
        out.append(rec)
    return np.array(out, dtype=RECORD_DTYPE)
