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
# 16-bit lanes: int16 limits, shift amounts around 16, binary16 (max subnormal, min normal,
# max, inf, NaNs) and bfloat16 (min normal, max, inf, NaN) edges.
EDGE_HALVES = (0, 1, 2, 15, 16, 17, 0x7F, 0x80, 0xFF, 0x3FF, 0x400, 0x7BFF, 0x7C00, 0x7C01,
               0x7E00, 0x7F7F, 0x7F80, 0x7FC0, 0x8000, 0x8001, 0x7FFF, 0xFFFF, 0xFFFE, 0x3C00,
               0x3F80)


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
            parts[fields] = st.integers(0, geometry.lane_bits - 1)
        elif kind == "lanemask":
            parts[fields] = st.integers(0, (1 << geometry.lanes) - 1)
        elif kind == "bitfield":  # s, w, p of any width (s and p act mod the lane bits)
            parts[fields] = st.builds(lambda s, w, p: s + (w << 8) + (p << 16),
                                      st.integers(0, 31), st.integers(0, 63), st.integers(0, 31))
        elif geometry.lane_bits == 16:
            parts[fields] = st.one_of(st.sampled_from(EDGE_HALVES + (-1, -(1 << 15))),
                                      st.integers(-(1 << 15), (1 << 16) - 1))
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
    """One valid record: any instruction of the geometry's lane width, rows in 0..rows-1,
    registers in v0..v(vregs-1)."""
    ins = draw(st.sampled_from([i for i in instructions if geometry.lane_bits in i.widths]))
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


def _lane_fill(seed: int, edge_share: int, shape: tuple[int, ...],
               dtype: type = np.uint32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    half = np.dtype(dtype).itemsize == 2
    edges = np.array((EDGE_HALVES if half else EDGE_WORDS) + EDGE_SHIFTS, dtype=dtype)
    out = rng.integers(0, 1 << (16 if half else 32), size=shape, dtype=dtype)
    pick = rng.integers(0, 8, size=shape) < edge_share
    out[pick] = rng.choice(edges, size=int(pick.sum()))
    return out


def lane_arrays(shape: tuple[int, ...],
                dtype: type = np.uint32) -> st.SearchStrategy[np.ndarray]:
    """uint32 (or uint16) arrays of `shape` (e.g. emulator state), seeded, with 0..8/8 edge
    values.

    Edge values are EDGE_WORDS (EDGE_HALVES for uint16) plus small and oversized shift amounts
    (EDGE_SHIFTS). The array is generated from a drawn seed, so large states stay cheap to draw.
    """
    return st.builds(_lane_fill, st.integers(0, (1 << 32) - 1), st.integers(0, 8),
                     st.just(tuple(shape)), st.just(dtype))


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
def small_geometries(draw: st.DrawFn, widths: tuple[int, ...] = (32, 16)) -> Geometry:
    """Tiny device geometries for emulator tests: few channels, banks, rows and columns.

    Lane widths from `widths`; lanes cover one vector (8 x 32 or 16 x 16 bits, the presets'
    counts) and other counts, with one or two banks per PIM unit and up to 96 units, so every
    indexing path of an emulator is reached in little state.
    """
    lane_bits = draw(st.sampled_from(widths))
    vector = 256 // lane_bits
    lanes = draw(st.sampled_from([vector, 1, 3, 16 if vector == 8 else 8]))
    cols = draw(st.sampled_from([1, 2, 4]))
    bpu = draw(st.sampled_from([1, 2]))
    banks = bpu * draw(st.sampled_from([1, 2, 8, 32]))
    return Geometry(
        stacks=1, channels=draw(st.integers(1, 3)), banks=banks, bank_groups=1,
        rows=draw(st.sampled_from([4, 8])), row_bytes=cols * lanes * lane_bits // 8,
        word_bits=lanes * lane_bits, lanes=lanes, vector_registers=draw(st.integers(2, 6)),
        mask_registers=draw(st.integers(1, 4)), banks_per_pim_unit=bpu, lane_bits=lane_bits,
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


# ---- adversarial float32 tensors for quantization kernels (pimisa fuzz) ----

F32_MAX_BITS = 0x7F7FFFFF
F32_SIGN = 0x80000000
# Sizes that straddle a block (16) and an hp16 tile (16 rows x 16 x lanes columns).
EDGE_ROWS = (1, 15, 16, 17, 31, 32, 33, 48)
EDGE_COLS = (1, 15, 16, 17, 127, 128, 129, 255, 256, 257)
TENSOR_BASES = ("zeros", "mixed", "normal", "wide", "ties", "near_pow2", "subnormal", "huge",
                "sparse")


def _signed(magnitude: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """float32 bit patterns of `magnitude` bit patterns with either sign."""
    return st.builds(lambda m, s: (m & 0x7FFFFFFF) | (F32_SIGN if s else 0), magnitude,
                     st.booleans())


def _fields(exponents: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """Magnitude bits with the given exponent fields and any fraction."""
    return st.builds(lambda e, f: (e << 23) | f, exponents, st.integers(0, (1 << 23) - 1))


def _tie(odd: int, k: int) -> int:
    return int(np.ldexp(np.float32(2 * odd + 1), k).astype(np.float32).view(np.uint32))


def float32_bits(nan: bool = True) -> st.SearchStrategy[int]:
    """Bit patterns of adversarial float32 elements (uint32 ints; shrink toward +0).

    Zeros, moderate normals, any exponent, exact ties (odd multiples of powers of two), powers
    of two and a few ulps around them, subnormals, huge values up to float32 max and, when
    `nan`, NaN (several payloads) and +-Inf.
    """
    kinds = [
        st.sampled_from([0, F32_SIGN]),
        _signed(_fields(st.integers(110, 140))),
        _signed(_fields(st.integers(1, 254))),
        _signed(st.builds(_tie, st.integers(0, 127), st.integers(-140, 100))),
        _signed(st.builds(lambda e, u: (e << 23) + u, st.integers(1, 254), st.integers(-4, 4))),
        _signed(st.integers(1, (1 << 23) + 8)),
        _signed(st.one_of(_fields(st.integers(250, 254)), st.just(F32_MAX_BITS))),
    ]
    if nan:
        kinds.append(st.sampled_from([0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                                      0x7F800001, 0x7FFFFFFF]))
    return st.one_of(*kinds)


def _base_tensor(kind: str, seed: int, shape: tuple[int, int], transpose: bool) -> np.ndarray:
    """A seeded float32 tensor: zeros, or runs of one kind (or all mixed) from formats.samples."""
    from pimisa.mx.formats.samples import KINDS, adversarial

    if kind == "zeros":
        return np.zeros(shape, np.float32)
    rng = np.random.default_rng(seed)
    drawn = shape[::-1] if transpose else shape
    x = adversarial(rng, drawn, KINDS if kind == "mixed" else (kind,))
    return np.ascontiguousarray(x.T if transpose else x)


@st.composite
def tensor_shapes(draw: st.DrawFn, max_rows: int = 80,
                  max_cols: int = 300) -> tuple[int, int]:
    """2-D shapes biased toward sizes around blocks of 16 and tiles of 128 columns."""
    rows = draw(st.one_of(st.sampled_from([r for r in EDGE_ROWS if r <= max_rows]),
                          st.integers(1, max_rows)))
    cols = draw(st.one_of(st.sampled_from([c for c in EDGE_COLS if c <= max_cols]),
                          st.integers(1, max_cols)))
    return rows, cols


@st.composite
def tensors_of_shape(draw: st.DrawFn, shape: tuple[int, int], nan: bool = True,
                     max_overlay: int = 24) -> np.ndarray:
    """An adversarial float32 tensor of exactly `shape` (see adversarial_tensors)."""
    kind = draw(st.sampled_from(TENSOR_BASES))
    seed = draw(st.integers(0, (1 << 32) - 1)) if kind != "zeros" else 0
    x = _base_tensor(kind, seed, shape, draw(st.booleans()))
    bits = x.view(np.uint32)
    cells = st.tuples(st.integers(0, shape[0] - 1), st.integers(0, shape[1] - 1),
                      float32_bits(nan))
    for r, c, value in draw(st.lists(cells, max_size=max_overlay)):
        bits[r, c] = value
    return x


@st.composite
def adversarial_tensors(draw: st.DrawFn, max_rows: int = 80, max_cols: int = 300,
                        nan: bool = True, max_overlay: int = 24) -> np.ndarray:
    """2-D float32 tensors that stress MX quantizers, built to shrink well.

    A base tensor (zeros, or seeded runs of 16 of one kind of pimisa.mx.formats.samples or all of
    them mixed, along rows or along columns) gets up to `max_overlay` single elements drawn by
    hypothesis from `float32_bits` (NaN/Inf sprinkles when `nan`). Failures shrink toward a
    small all-zero tensor holding the few elements that matter.
    """
    return draw(tensors_of_shape(draw(tensor_shapes(max_rows, max_cols)), nan, max_overlay))


# ---- inputs of any kernel, by layout (pimisa fuzz --ref / --golden) ----

RAW_DTYPES = ("float32", "int32", "uint32")


def _raw_fill(seed: int, shape: tuple[int, int], dtype: str) -> np.ndarray:
    """A seeded raw tensor: adversarial floats (float32) or edge-biased words (int types)."""
    from pimisa.mx.formats.samples import adversarial

    if dtype == "float32":
        return adversarial(np.random.default_rng(seed), shape)
    return _lane_fill(seed, 4, shape).view(np.dtype(dtype))


@st.composite
def raw_arrays(draw: st.DrawFn, rows: int, width: int, dtype: str = "float32",
               max_overlay: int = 16) -> np.ndarray:
    """(rows, width) arrays of a raw region: a seeded base (adversarial float32 values, or
    int32/uint32 words biased to edges) plus up to `max_overlay` drawn elements; shrinks toward
    zeros holding the few elements that matter."""
    if dtype not in RAW_DTYPES:
        raise ValueError(f"dtype {dtype!r}: expected one of {', '.join(RAW_DTYPES)}")
    zero = draw(st.booleans())
    x = (np.zeros((rows, width), np.dtype(dtype)) if zero
         else _raw_fill(draw(st.integers(0, (1 << 32) - 1)), (rows, width), dtype))
    bits = x.view(np.uint32)
    value = float32_bits() if dtype == "float32" else words()
    cells = st.tuples(st.integers(0, rows - 1), st.integers(0, width - 1), value)
    for r, c, v in draw(st.lists(cells, max_size=max_overlay)):
        bits[r, c] = v
    return x


def region_width(region, geometry: Geometry) -> int:
    """Elements per tile of a raw input: its `width=` parameter, else the whole region."""
    whole = region.rows * geometry.cols * geometry.lanes
    width = region.params.get("width", whole)
    if not isinstance(width, int) or not 1 <= width <= whole:
        from pimisa.errors import InputError

        raise InputError(f"input {region.name!r}: width={width!r} must be an integer in "
                         f"1..{whole} (the region's words x lanes)")
    return width


def _raw_strategy(region, geometry: Geometry, shared: dict) -> st.SearchStrategy[np.ndarray]:
    dtype = str(region.params.get("dtype", "float32"))
    if dtype not in RAW_DTYPES:
        from pimisa.errors import InputError

        raise InputError(f"input {region.name!r}: dtype={dtype!r} (want "
                         f"{', '.join(RAW_DTYPES)})")
    return raw_arrays(shared["tiles"], region_width(region, geometry), dtype)


def _tensor_strategy(region, geometry: Geometry, shared: dict) -> st.SearchStrategy[np.ndarray]:
    return tensors_of_shape(shared["shape"])


# Input strategies by layout name: f(region, geometry, shared) where `shared` holds what the
# inputs of one example have in common ("shape": the 2-D tensor shape of tensor layouts,
# "tiles": the row count of raw inputs). A layout object may instead define a method
# `strategy(region, geometry, shared)`; a layout derived from one of these (a user's subclass
# of Raw, say) draws as its nearest base does.
LAYOUT_STRATEGIES = {"raw": _raw_strategy, "hp16": _tensor_strategy, "hp32": _tensor_strategy}


def input_strategy(region, geometry: Geometry, shared: dict) -> st.SearchStrategy[np.ndarray]:
    """The strategy for one input region, chosen by its layout."""
    from pimisa.errors import InputError
    from pimisa.layout import get_layout

    layout = get_layout(region.layout)
    own = getattr(layout, "strategy", None)
    if own is not None:
        return own(region, geometry, shared)
    make = LAYOUT_STRATEGIES.get(region.layout)
    if make is None:
        from pimisa.layout import LAYOUTS

        bases = {type(LAYOUTS[name]): f for name, f in LAYOUT_STRATEGIES.items()
                 if name in LAYOUTS}
        make = next((bases[c] for c in type(layout).__mro__ if c in bases), None)
    if make is None:
        raise InputError(f"input {region.name!r}: no input strategy for layout "
                         f"{region.layout!r}; give one in the reference module's STRATEGIES")
    return make(region, geometry, shared)


@st.composite
def kernel_inputs(draw: st.DrawFn, program, geometry: Geometry, overrides: dict | None = None,
                  max_rows: int = 80, max_cols: int = 300,
                  max_tiles: int | None = None) -> dict[str, np.ndarray]:
    """Input arrays for every input region of `program`, by region name.

    Tensor layouts share one drawn 2-D shape, raw inputs one drawn row (tile) count (up to two
    slots of the geometry's units); `overrides` maps region names to strategies of their own.
    """
    overrides = overrides or {}
    tiles_cap = max_tiles or 2 * geometry.total_units + 1
    shared = {"shape": draw(tensor_shapes(max_rows, max_cols)),
              "tiles": draw(st.one_of(st.sampled_from([1, geometry.total_units,
                                                       min(tiles_cap, geometry.total_units + 1)]),
                                      st.integers(1, tiles_cap)))}
    out = {}
    for region in program.meta.regions:
        if region.kind != "input":
            continue
        strategy = overrides.get(region.name)
        if strategy is None:
            strategy = input_strategy(region, geometry, shared)
        out[region.name] = draw(strategy)
    return out
