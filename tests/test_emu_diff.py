"""Differential tests: the C core and the numpy twin agree bit for bit, command by command."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.emulator import Machine, faults
from pimisa.emulator.cbackend import CBackend
from pimisa.emulator.faults import describe
from pimisa.emulator.twin import NumpyBackend
from pimisa.isa import BY_MNEMONIC, BY_OPCODE, RECORD_DTYPE, TABLE
from pimisa.testing import lane_arrays, programs, raw_records, small_geometries
from pimisa.validate import check_records

C = CBackend(threads=1)
TWIN = NumpyBackend()


def random_machine(draw: st.DrawFn, geometry, tile_rows: int, slots: int) -> Machine:
    """A machine with random state biased to edge values (masks only hold lanes bits)."""
    m = Machine(geometry, tile_rows, slots)
    m.mem[...] = draw(lane_arrays(m.mem.shape, m.mem.dtype.type))
    m.vregs[...] = draw(lane_arrays(m.vregs.shape, m.vregs.dtype.type))
    m.masks[...] = draw(lane_arrays(m.masks.shape)) & np.uint32(m.all_lanes)
    return m


def assert_same(a: Machine, b: Machine, what: str) -> None:
    for name in ("vregs", "masks", "mem"):
        x, y = getattr(a, name), getattr(b, name)
        if not np.array_equal(x, y):
            where = np.argwhere(x != y)[0]
            raise AssertionError(f"{what}: {name}{tuple(where)} C={x[tuple(where)]:#010x} "
                                 f"numpy={y[tuple(where)]:#010x}")


@st.composite
def launches(draw: st.DrawFn, valid: bool = True, instructions: tuple = TABLE,
             widths: tuple = (32, 16)):
    g = draw(small_geometries(widths))
    tile_rows = draw(st.integers(1, 4))
    slots = draw(st.integers(1, g.rows * g.banks_per_pim_unit // tile_rows))
    slots = min(slots, 3)
    if valid:
        recs = draw(programs(g, max_size=30, rows=tile_rows, vregs=min(4, g.vector_registers),
                             instructions=instructions))
    else:
        recs = draw(raw_records(max_size=20))
    return g, recs, random_machine(draw, g, tile_rows, slots)


def message(fault, recs: np.ndarray, m: Machine) -> str:
    return describe(fault, recs[fault.index], m.geometry, m.rows, m.tile_rows)


def step_both(recs: np.ndarray, m_c: Machine, m_np: Machine) -> None:
    """Run every step in both backends, one step at a time, comparing state after each."""
    n = len(recs)
    for t in range(n * m_c.slots):
        f_c = C.execute(m_c, recs, t, t + 1)
        f_np = TWIN.execute(m_np, recs, t, t + 1)
        what = f"step {t} (slot {t // n}) record {recs[t % n]}"
        assert f_c == f_np, f"{what}: faults differ: C {f_c}, numpy {f_np}"
        assert_same(m_c, m_np, what)
        if f_c is not None:
            return


# Values that sit on the edges of every limit of small_geometries (registers, columns, banks,
# condition codes, shift amounts, lane masks, predicate bits, opcodes next to real ones).
EDGES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 31, 32, 33, 0x3F, 0x40, 0x7F, 0x80, 0x81,
         0x83, 0x84, 0xBF, 0xC0, 0xC3, 0xC4, 0xFE, 0xFF)
IMM_EDGES = EDGES + (-1, -(1 << 31), (1 << 31) - 1, 0xFFFF, 1 << 16)


@st.composite
def hostile_streams(draw: st.DrawFn, g, rows: int):
    """Valid records with one to three fields set to edge values, in short streams."""
    recs = draw(programs(g, max_size=8, rows=rows, vregs=min(4, g.vector_registers)))
    for i in range(len(recs)):
        for field in draw(st.lists(st.sampled_from(RECORD_DTYPE.names), max_size=3)):
            if field == "imm":
                value = draw(st.sampled_from(IMM_EDGES))
            elif field == "row":
                value = draw(st.sampled_from((0, rows - 1, rows, rows * 3, 0xFFFFFFFF)))
            elif field == "op":
                value = draw(st.sampled_from(OPCODE_EDGES))
            else:
                value = draw(st.sampled_from(EDGES))
            recs[i][field] = value
    return recs


OPCODE_EDGES = tuple(sorted({o + d for o in BY_OPCODE for d in (-1, 0, 1)} & set(range(256))))


@given(st.data())
def test_hostile_records_fault_alike_with_the_loaders_message(data) -> None:
    """Hostile records: C and numpy give the same fault (and so the same message), which is
    the loader's first problem (pimisa.validate) unless a row fault comes first."""
    g = data.draw(small_geometries())
    m = random_machine(data.draw, g, 2, 1)
    recs = data.draw(hostile_streams(g, 2))
    m_np = m.copy()
    f_c = C.execute(m, recs, 0, len(recs))
    f_np = TWIN.execute(m_np, recs, 0, len(recs))
    assert f_c == f_np
    assert_same(m, m_np, "hostile stream")
    found = check_records(recs, g)
    if f_c is None:
        assert found is None
    elif f_c.code == faults.ROW:
        assert found is None or found[0] > f_c.index
    else:
        assert found == (f_c.index, message(f_c, recs, m))


@given(launches())
def test_valid_programs_agree_step_by_step(launch) -> None:
    g, recs, m = launch
    step_both(recs, m, m.copy())


HELPERS = tuple(BY_MNEMONIC[m] for m in ("ld", "cmpi", "mset"))


@pytest.mark.parametrize("ins", TABLE, ids=lambda ins: ins.mnemonic)
@settings(max_examples=max(15, settings.default.max_examples // 4))
@given(data=st.data())
def test_each_instruction_agrees(ins, data) -> None:
    """Every instruction, mostly on its own (plus loads and masks to vary its inputs)."""
    g, recs, m = data.draw(launches(instructions=(ins,) * 3 + HELPERS, widths=ins.widths))
    step_both(recs, m, m.copy())


@given(launches(valid=False))
def test_arbitrary_records_agree_step_by_step(launch) -> None:
    """Garbage streams: same faults at the same step, same state up to it."""
    g, recs, m = launch
    step_both(recs, m, m.copy())


@given(launches(), st.integers(2, 5))
def test_one_threaded_call_equals_steps(launch, threads: int) -> None:
    """A whole run in one call, over several threads, ends in the step-by-step state."""
    g, recs, m = launch
    whole, steps = m.copy(), m.copy()
    total = len(recs) * m.slots
    assert CBackend(threads=threads).execute(whole, recs, 0, total) is None
    for t in range(total):
        assert C.execute(steps, recs, t, t + 1) is None
    assert_same(whole, steps, "threaded run vs steps")


@given(launches(valid=False), st.integers(1, 3))
def test_faulting_runs_stop_at_the_same_step(launch, threads: int) -> None:
    g, recs, m = launch
    whole_c, whole_np = m.copy(), m.copy()
    total = len(recs) * m.slots
    f_c = CBackend(threads=threads).execute(whole_c, recs, 0, total)
    f_np = TWIN.execute(whole_np, recs, 0, total)
    assert f_c == f_np
    assert_same(whole_c, whole_np, "whole faulting run")
    found = check_records(recs, g)
    if f_c is None:
        assert found is None
    elif f_c.code != faults.ROW:
        assert found == (f_c.index, message(f_c, recs, m))


@pytest.mark.parametrize("arch", ["hbm3", "hbm3:lane_bits=16"])
@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(data=st.data())
def test_full_stack_agrees(arch, data) -> None:
    """A preset geometry (512 units, several blocks and threads per command), both widths."""
    g = load_arch(arch).geometry
    recs = data.draw(programs(g, max_size=12, rows=2))
    m = Machine(g, 2, 1)
    m.vregs[...] = data.draw(lane_arrays(m.vregs.shape, g.lane_dtype.type))
    m.mem[...] = data.draw(lane_arrays(m.mem.shape, g.lane_dtype.type))
    m.masks[...] = data.draw(lane_arrays(m.masks.shape)) & np.uint32(m.all_lanes)
    m_np = m.copy()
    assert CBackend(threads=2).execute(m, recs, 0, len(recs)) is None
    assert TWIN.execute(m_np, recs, 0, len(recs)) is None
    assert_same(m, m_np, f"{arch} run")
