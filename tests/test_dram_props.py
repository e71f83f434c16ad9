"""Property tests of the scheduler: random streams for every preset (and "tight" variants
where tRRD, tFAW, tRC and refresh bind often, one of them refreshing per bank) must pass the
independent checker, match the plain-Python reference scheduler, and issue every command as
early as the rules allow."""

from __future__ import annotations

import dataclasses
import io
from functools import cache

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.arch import Arch, Geometry, load_arch, parse_arch
from pimisa.dram import start_launch, time_launch
from pimisa.dram.check import RULES, Trace, check_schedule, parse_trace_csv
from pimisa.dram.core import CMD_NAMES, CoreRun
from pimisa.dram.reference import ReferenceScheduler
from pimisa.dram.traces import CsvWriter
from pimisa.encoding import encode
from pimisa.errors import InputError
from pimisa.isa import ALL_BANKS, RECORD_DTYPE
from pimisa.program import KernelMeta, Program, Region
from pimisa.testing import timing_streams

TILE_ROWS = 3
TIGHT = {"tRCD_RD": 3, "tRCD_WR": 2, "tRAS": 20, "tRP": 6, "tRC": 40, "tRTP_L": 8, "tWR": 9,
         "tRRD_S": 5, "tRRD_L": 9, "tFAW": 40, "tREFI": 700, "tRFC": 60, "tRTW": 7,
         "tWTR_L": 5, "tWTR_S": 2}
# Per-bank refresh, tight: a REFpb every 40 cycles, 30 long, 3 apart
TIGHT_PB = {"refresh": "per-bank", "tREFIpb": 40, "tRFCpb": 30, "tRREFD": 3}
ARCHS = ["hbm3", "hbm2-pim", "lpddr5x", "hbm3-tight", "hbm2-pim-tight", "hbm3:refresh=per-bank",
         "hbm3-pb-tight", "hbm2-pim-pb-tight"]
TIGHT_ARCHS = ("hbm3-tight", "hbm2-pim-tight", "hbm3-pb-tight", "hbm2-pim-pb-tight")


@cache
def arch_named(name: str) -> Arch:
    """A bundled preset, or `<preset>-tight`: the preset with the TIGHT timing, or
    `<preset>-pb-tight`: that refreshing per bank with the TIGHT_PB timing."""
    if not name.endswith("-tight"):
        return load_arch(name)
    base = load_arch(name.removesuffix("-tight").removesuffix("-pb"))
    timing = {k: v for k, v in dataclasses.asdict(base.timing).items() if v is not None}
    timing.update(TIGHT)
    if name.endswith("-pb-tight"):
        timing.update(TIGHT_PB)
    return parse_arch({"name": name, "geometry": dataclasses.asdict(base.geometry),
                       "timing": timing}, "test")


def launch(arch: Arch, records: np.ndarray) -> Program:
    return Program(records, KernelMeta(name="t", regions=[Region("t", "input", 0, TILE_ROWS)]),
                   lane_bits=arch.geometry.lane_bits)


def scheduled_trace(arch: Arch, records: np.ndarray, slots: int) -> tuple[Trace, int]:
    """Schedule with the C core, write the CSV trace, read it back with the checker's parser."""
    run = start_launch(launch(arch, records), arch, slots)
    buf = io.BytesIO()
    writer = CsvWriter(buf, [0], 1 << 40)
    for chunk in run.chunks(size=97):
        writer.write(chunk)
    return parse_trace_csv(buf.getvalue()), run.stats().cycles


def streams(name: str) -> st.SearchStrategy[tuple[np.ndarray, int]]:
    g = arch_named(name).geometry
    return st.tuples(timing_streams(g, max_size=50, tile_rows=TILE_ROWS), st.integers(1, 6))


@pytest.mark.parametrize("name", ARCHS)
@given(data=st.data())
def test_schedules_pass_the_checker(name: str, data: st.DataObject) -> None:
    arch = arch_named(name)
    records, slots = data.draw(streams(name))
    trace, _ = scheduled_trace(arch, records, slots)
    result = check_schedule(trace, arch)
    assert result.ok, [str(v) for v in result.violations[:5]]


@pytest.mark.parametrize("name", ARCHS)
@given(data=st.data())
def test_c_core_matches_the_reference(name: str, data: st.DataObject) -> None:
    arch = arch_named(name)
    records, slots = data.draw(streams(name))
    trace, cycles = scheduled_trace(arch, records, slots)
    ref = ReferenceScheduler(arch)
    ref.run(records, slots, TILE_ROWS)
    got = list(zip(trace.cycle.tolist(), trace.bank.tolist(),
                   [CMD_NAMES[k] for k in trace.cmd.tolist()], trace.row.tolist(),
                   trace.col.tolist(), strict=True))
    assert got == ref.commands
    assert cycles == ref.cycles
    summary = time_launch(launch(arch, records), arch, slots)
    assert summary.cycles == cycles
    assert summary.row_hits == ref.row_hits and summary.row_misses == ref.row_misses
    assert dict(summary.commands) == {n: sum(c[2] == n for c in ref.commands) for n in CMD_NAMES}


def moved_earlier(trace: Trace, i: int) -> Trace:
    cycle = trace.cycle.copy()
    cycle[i] -= 1
    return dataclasses.replace(trace, cycle=cycle)


@pytest.mark.parametrize("name", ARCHS)
@given(data=st.data())
def test_every_command_is_as_early_as_the_rules_allow(name: str, data: st.DataObject) -> None:
    """Moving any command one cycle earlier (keeping the order) breaks a rule at that command:
    the scheduler is greedy, and the checker sees every binding constraint."""
    arch = arch_named(name)
    records, slots = data.draw(streams(name))
    trace, _ = scheduled_trace(arch, records, slots)
    movable = np.flatnonzero(trace.cycle[1:] - trace.cycle[:-1] > 1) + 1  # first: cycle 0
    if not movable.size:
        return
    picks = data.draw(st.lists(st.sampled_from(movable.tolist()), min_size=1, max_size=4,
                               unique=True))
    for i in picks:
        result = check_schedule(moved_earlier(trace, i), arch)
        assert any(v.line == i + 2 for v in result.violations), (i, trace.cycle[i])


GAP_RULES = {r for r in RULES if r.startswith("t")}


def _stream(rng: np.random.Generator, geometry: Geometry, n: int,
            single_share: float) -> np.ndarray:
    """A seeded stream: ld/st over a few rows of every bank of a unit, adds, barriers."""
    out = []
    for _ in range(n):
        kind = rng.choice(["ld", "ld", "st", "add", "barrier"])
        bank = int(rng.integers(geometry.banks)) if rng.random() < single_share else ALL_BANKS
        row = int(rng.integers(TILE_ROWS)) + int(rng.integers(geometry.banks_per_pim_unit)) * \
            geometry.rows
        col = int(rng.integers(geometry.cols))
        if kind == "ld":
            out.append(encode("ld", {"rd": 0, "row": row, "col": col}, bank=bank))
        elif kind == "st":
            out.append(encode("st", {"ra": 0, "row": row, "col": col}, bank=bank))
        elif kind == "add":
            out.append(encode("add", {"rd": 0, "ra": 0, "rb": 1}, bank=bank))
        else:
            out.append(encode("barrier"))
    return np.array(out, dtype=RECORD_DTYPE)


def test_each_timing_rule_is_caught_somewhere() -> None:
    """Over fixed random streams on the tight presets, the one-cycle-earlier perturbation of
    every movable command exposes every timing rule of the table at least once."""
    caught: set[str] = set()
    rng = np.random.default_rng(7)
    for name in TIGHT_ARCHS:
        arch = arch_named(name)
        g = arch.geometry
        for single_share in (0.1, 0.9):
            records = _stream(rng, g, 100, single_share)
            trace, _ = scheduled_trace(arch, records, 2)
            movable = np.flatnonzero(trace.cycle[1:] - trace.cycle[:-1] > 1) + 1
            for i in movable:
                result = check_schedule(moved_earlier(trace, int(i)), arch)
                mine = {v.rule for v in result.violations if v.line == i + 2}
                assert mine, i
                caught |= mine
    assert caught >= GAP_RULES, GAP_RULES - caught


@pytest.mark.parametrize("name", ["hbm3", "hbm2-pim-tight", "hbm3-pb-tight"])
@given(data=st.data())
def test_chunking_does_not_change_the_schedule(name: str, data: st.DataObject) -> None:
    """Any chunk size gives the same commands, and the statistics-only path the same stats."""
    arch = arch_named(name)
    records, slots = data.draw(streams(name))
    size = data.draw(st.integers(4, 40))
    prog = launch(arch, records)
    small = start_launch(prog, arch, slots)
    got = np.concatenate([c.copy() for c in small.chunks(size)] or [np.zeros(0)])
    big = start_launch(prog, arch, slots)
    want = np.concatenate([c.copy() for c in big.chunks()] or [np.zeros(0)])
    fast = start_launch(prog, arch, slots)
    fast.finish()
    assert np.array_equal(got, want)
    assert small.stats() == big.stats() == fast.stats()


@st.composite
def raw_streams(draw: st.DrawFn) -> np.ndarray:
    """Records the launch checks would reject: any opcode, bank and row, biased to edges."""
    n = draw(st.integers(1, 30))
    recs = np.zeros(n, dtype=RECORD_DTYPE)
    recs["op"] = draw(st.lists(st.sampled_from([0x08, 0x09, 0x01, 0x13, 0xFF]), min_size=n,
                               max_size=n))
    recs["bank"] = draw(st.lists(st.one_of(st.just(ALL_BANKS), st.integers(0, 255)),
                                 min_size=n, max_size=n))
    recs["row"] = draw(st.lists(st.one_of(st.integers(0, 3), st.integers(0, 2**32 - 1)),
                                min_size=n, max_size=n))
    recs["col"] = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
    return recs


@given(recs=raw_streams(), slots=st.integers(0, 4), tile_rows=st.integers(0, 2**40),
       name=st.sampled_from(ARCHS))
def test_core_rejects_bad_records_cleanly(recs: np.ndarray, slots: int, tile_rows: int,
                                          name: str) -> None:
    """Without the launch checks, the C core stops at a bad bank or row with InputError."""
    arch = arch_named(name)
    run = CoreRun(recs, arch, slots, tile_rows)
    try:
        for chunk in run.chunks(4):
            assert (chunk["cmd"] < len(CMD_NAMES)).all()
            bpu = arch.geometry.banks_per_pim_unit
            lowest = -1 - bpu if bpu > 1 else -1  # -2 - k: bank k of every unit
            assert ((chunk["bank"] >= lowest) & (chunk["bank"] < arch.geometry.banks)).all()
            assert ((chunk["row"] >= -1) & (chunk["row"] < arch.geometry.rows)).all()
    except InputError as exc:
        assert "bank out of range" in str(exc) or "beyond the unit's" in str(exc)
    else:
        assert run.stats().pim_commands == slots * len(recs)
