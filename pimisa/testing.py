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


# Lane values that exercise shifts by register amounts (>= 32, >= 33, huge) besides EDGE_WORDS.
EDGE_SHIFTS = (0, 1, 15, 16, 30, 31, 32, 33, 34, 40, 63, 64, 255, 256)


def _lane_fill(seed: int, edge_share: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    edges = np.array(EDGE_WORDS + EDGE_SHIFTS, dtype=np.uint32)
    out = rng.integers(0, 1 << 32, size=shape, dtype=np.uint32)
    pick = rng.integers(0, 8, size=shape) < edge_share
    out[pick] = rng.choice(edges, size=int(pick.sum()))
    return out


def lane_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """uint32 arrays of `shape` (e.g. emulator state), seeded, with 0..8/8 edge values.

    Edge values are EDGE_WORDS plus small and oversized shift amounts (EDGE_SHIFTS). The
    array is generated from a drawn seed, so large states stay cheap to draw.
    """
    return st.builds(_lane_fill, st.integers(0, (1 << 32) - 1), st.integers(0, 8),
                     st.just(tuple(shape)))


@st.composite
def raw_records(draw: st.DrawFn, max_size: int = 40) -> np.ndarray:
    """Record arrays of arbitrary bytes, biased toward valid opcodes and small fields.

    For fault tests: most fields are small (so commands often run), some are anything.
    """
    opcodes = [ins.opcode for ins in TABLE]
    n = draw(st.integers(1, max_size))
    out = np.zeros(n, dtype=RECORD_DTYPE)
    small = st.one_of(st.integers(0, 5), st.integers(0, 255))
    for i in range(n):
        out[i]["op"] = draw(st.one_of(st.sampled_from(opcodes), st.integers(0, 255)))
        out[i]["pred"] = draw(st.one_of(st.just(0), st.integers(0x80, 0x83), st.integers(0, 255)))
        for field in ("rd", "ra", "rb", "cc", "col"):
            out[i][field] = draw(small)
        out[i]["bank"] = draw(st.one_of(st.just(ALL_BANKS), small))
        out[i]["row"] = draw(st.one_of(st.integers(0, 9), st.integers(0, (1 << 32) - 1)))
        out[i]["imm"] = draw(immediates())
    return out


@st.composite
def small_geometries(draw: st.DrawFn) -> Geometry:
    """Tiny device geometries for emulator tests: few channels, banks, rows and columns.

    Lanes cover 8 (the presets' count) and other counts, with one or two banks per PIM unit
    and up to 96 units, so every indexing path of an emulator is reached in little state.
    """
    lanes = draw(st.sampled_from([8, 1, 3, 16]))
    cols = draw(st.sampled_from([1, 2, 4]))
    bpu = draw(st.sampled_from([1, 2]))
    banks = bpu * draw(st.sampled_from([1, 2, 8, 32]))
    return Geometry(
        stacks=1, channels=draw(st.integers(1, 3)), banks=banks, bank_groups=1,
        rows=draw(st.sampled_from([4, 8])), row_bytes=cols * lanes * 4, word_bits=lanes * 32,
        lanes=lanes, vector_registers=draw(st.integers(2, 6)),
        mask_registers=draw(st.integers(1, 4)), banks_per_pim_unit=bpu,
    )


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
