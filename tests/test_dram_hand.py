"""Tiny command streams whose exact DRAM schedule is worked out by hand, for every preset.

Notation: ccd = tCCD_L x banks_per_pim_unit (PIM column command spacing); every command issues
at the earliest cycle allowed by the constraints against the commands before it, one command
per cycle. Numbers come from shared/spec/dram-timing.md (hbm3 tRCD_RD 31, hbm2-pim 14, ...).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pimisa.arch import Arch, load_arch, parse_arch
from pimisa.dram import start_launch, time_launch
from pimisa.dram.check import check_schedule, parse_trace_csv
from pimisa.dram.core import CMD_NAMES
from pimisa.encoding import encode
from pimisa.isa import ALL_BANKS, RECORD_DTYPE
from pimisa.program import KernelMeta, Program, Region

PRESETS = ["hbm3", "hbm2-pim", "lpddr5x"]
A = -1  # bank of all-bank commands in traces


def ld(row: int, col: int, bank: int = ALL_BANKS) -> np.ndarray:
    return encode("ld", {"rd": 0, "row": row, "col": col}, bank=bank)


def st(row: int, col: int, bank: int = ALL_BANKS) -> np.ndarray:
    return encode("st", {"ra": 0, "row": row, "col": col}, bank=bank)


def op() -> np.ndarray:
    return encode("add", {"rd": 1, "ra": 0, "rb": 0})


def program(recs: list[np.ndarray], tile_rows: int = 1) -> Program:
    return Program(np.array(recs, dtype=RECORD_DTYPE),
                   KernelMeta(name="hand", regions=[Region("t", "input", 0, tile_rows)]))


def schedule(arch: Arch, recs: list[np.ndarray], slots: int = 1,
             tile_rows: int = 1) -> tuple[list[tuple[int, int, str, int, int]], int]:
    """(cycle, bank, command, row, col) of every DRAM command (row/col -1 where n/a), and the
    launch's end cycle; also checks the schedule with the independent checker."""
    prog = program(recs, tile_rows)
    run = start_launch(prog, arch, slots)
    out = []
    for chunk in run.chunks():
        for c in chunk.tolist():
            cycle, row, bank, cmd, col = c
            name = CMD_NAMES[cmd]
            out.append((cycle, bank, name, row if name in ("ACT", "RD", "WR") else -1,
                        col if name in ("RD", "WR") else -1))
    text = "".join(f"{c},0,{b},{n},{r},{col}\n" for c, b, n, r, col in out)
    trace = parse_trace_csv(b"cycle,channel,bank,command,row,col\n" + text.encode())
    result = check_schedule(trace, arch)
    assert result.ok, [str(v) for v in result.violations]
    assert time_launch(prog, arch, slots).cycles == run.stats().cycles
    return out, run.stats().cycles


def variant(name: str, **changes: int) -> Arch:
    """A preset with some geometry / timing fields changed (validated like a user preset)."""
    base = load_arch(name)
    geometry = dataclasses.asdict(base.geometry)
    timing = {k: v for k, v in dataclasses.asdict(base.timing).items() if v is not None}
    for key, value in changes.items():
        (geometry if key in geometry else timing)[key] = value
    return parse_arch({"name": f"{name}-variant", "geometry": geometry, "timing": timing},
                      "test variant")


# ACT at 0; RD at tRCD_RD; next RD one PIM slot (ccd) later; the launch ends when the last
# RD's data is back (CL + nBL) or its PIM slot is over (ccd), whichever is later.
ACT_RD = {
    "hbm3": ([0, 31, 35], 35 + 22),  # ccd 4, CL 20 + nBL 2
    "hbm2-pim": ([0, 14, 22], 22 + 22),  # ccd 4 x 2 banks per unit = 8
    "lpddr5x": ([0, 17, 21], 21 + 4),  # CL, nBL absent: the PIM slot ends the launch
}


@pytest.mark.parametrize("name", PRESETS)
def test_act_to_read_spacing(name: str) -> None:
    (act, rd1, rd2), end = ACT_RD[name]
    got, cycles = schedule(load_arch(name), [ld(0, 0), ld(0, 1)])
    assert got == [(act, A, "ACT", 0, -1), (rd1, A, "RD", 0, 0), (rd2, A, "RD", 0, 1)]
    assert cycles == end


# ld; st; ld on one row. WR = max(ACT + tRCD_WR, RD + ccd, RD + tRTW);
# RD = max(WR + ccd, WR + CWL + nBL + tWTR_L).
TURNAROUND = {
    "hbm3": ([0, 31, 51, 73], 73 + 22),  # WR: 31 + tRTW 20; RD: 51 + 10 + 2 + 10
    "hbm2-pim": ([0, 14, 30, 49], 49 + 22),  # tRTW = 20 + 2 + 2 - 8 = 16; RD: 30 + 8 + 2 + 9
    "lpddr5x": ([0, 17, 34, 46], 46 + 4),  # WR: 17 + tRTW 17; RD: 34 + tWTR 12
}


@pytest.mark.parametrize("name", PRESETS)
def test_read_write_turnaround(name: str) -> None:
    (act, rd, wr, rd2), end = TURNAROUND[name]
    got, cycles = schedule(load_arch(name), [ld(0, 0), st(0, 1), ld(0, 2)])
    assert got == [(act, A, "ACT", 0, -1), (rd, A, "RD", 0, 0), (wr, A, "WR", 0, 1),
                   (rd2, A, "RD", 0, 2)]
    assert cycles == end


# ld row 0; ld row 1. PRE = max(ACT + tRAS, RD + tRTP_L); ACT = max(PRE + tRP, ACT + tRC);
# RD = ACT + tRCD_RD.
ROW_SWITCH = {
    "hbm3": ([0, 31, 45, 72, 103], 103 + 22),  # tRAS binds the PRE, tRC (72 > 45 + 26) the ACT
    "hbm2-pim": ([0, 14, 33, 47, 61], 61 + 22),  # 33 + tRP 14 = tRC 47
    "lpddr5x": ([0, 17, 40, 60, 77], 77 + 4),  # tRC absent: PRE + tRP 20
}


@pytest.mark.parametrize("name", PRESETS)
def test_row_switch(name: str) -> None:
    (act, rd, pre, act2, rd2), end = ROW_SWITCH[name]
    arch = load_arch(name)
    got, cycles = schedule(arch, [ld(0, 0), ld(1, 0)])
    assert got == [(act, A, "ACT", 0, -1), (rd, A, "RD", 0, 0), (pre, A, "PRE", -1, -1),
                   (act2, A, "ACT", 1, -1), (rd2, A, "RD", 1, 0)]
    assert cycles == end
    summary = time_launch(program([ld(0, 0), ld(1, 0)]), arch)
    assert (summary.row_hits, summary.row_misses, summary.row_conflicts) == (0, 2, 1)


# st row 0; ld row 1: the write recovery holds the PRE: WR + CWL + nBL + tWR.
WRITE_SWITCH = {
    "hbm3": ([0, 15, 60, 86, 117], 117 + 22),  # PRE 15 + 10 + 2 + 33; ACT 60 + 26
    "hbm2-pim": ([0, 10, 36, 50, 64], 64 + 22),  # PRE 10 + 8 + 2 + 16; ACT 36 + 14
    "lpddr5x": ([0, 17, 40, 60, 77], 77 + 4),  # tWR absent: tRAS holds the PRE
}


@pytest.mark.parametrize("name", PRESETS)
def test_write_then_row_switch(name: str) -> None:
    (act, wr, pre, act2, rd), end = WRITE_SWITCH[name]
    got, cycles = schedule(load_arch(name), [st(0, 0), ld(1, 0)])
    assert got == [(act, A, "ACT", 0, -1), (wr, A, "WR", 0, 0), (pre, A, "PRE", -1, -1),
                   (act2, A, "ACT", 1, -1), (rd, A, "RD", 1, 0)]
    assert cycles == end


# ld [0,0], then OPs one PIM slot apart. Before each PIM command the controller refreshes if
# the next free cycle (last + 1) has reached the due time tREFI: the m-th OP (at
# tRCD_RD + m x ccd) is the last before the refresh when tRCD_RD + m x ccd + 1 >= tREFI, i.e.
# hbm3: 31 + 4m + 1 >= 6240 -> m = 1552 (cycle 6239); hbm2-pim: 14 + 8m + 1 >= 3900 -> m = 486
# (cycle 3902). Then PRE (all) at last + 1, REF tRP later, the next OP tRFC after the REF; the
# closing ld finds its row closed by the refresh and opens it again right after the last OP.
REFRESH = {
    "hbm3": (1552, 6240, 6266, 6682),
    "hbm2-pim": (486, 3903, 3917, 4267),
}


@pytest.mark.parametrize("name", ["hbm3", "hbm2-pim"])
def test_refresh_in_the_middle(name: str) -> None:
    arch = load_arch(name)
    t = arch.timing
    ccd = t.tCCD_L * arch.geometry.banks_per_pim_unit
    m, pre, ref, op_after = REFRESH[name]
    n_ops = m + 8
    got, cycles = schedule(arch, [ld(0, 0)] + [op()] * n_ops + [ld(0, 1)])
    ops = [c for c, _, name_, *_ in got if name_ == "OP"]
    assert ops[m - 1] == t.tRCD_RD + m * ccd == pre - 1
    assert [c for c in got if c[2] in ("PRE", "REF")] == [(pre, A, "PRE", -1, -1),
                                                          (ref, A, "REF", -1, -1)]
    assert ops[m] == op_after == ref + t.tRFC
    assert ops[-1] == op_after + 7 * ccd
    assert got[-2:] == [(ops[-1] + 1, A, "ACT", 0, -1),
                        (ops[-1] + 1 + t.tRCD_RD, A, "RD", 0, 1)]
    assert cycles == ops[-1] + 1 + t.tRCD_RD + t.CL + t.nBL


def test_lpddr5x_has_no_refresh() -> None:
    """The GeniePIM source gives no tREFI: nothing refreshes and the row stays open."""
    arch = load_arch("lpddr5x")
    got, cycles = schedule(arch, [ld(0, 0)] + [op()] * 3000 + [ld(0, 1)])
    assert [c[2] for c in got] == ["ACT", "RD"] + ["OP"] * 3000 + ["RD"]
    assert got[-1][0] == 17 + 3001 * 4
    assert cycles == got[-1][0] + 4


# Two banks per PIM unit: `@b3` runs in unit 3 // 2 = 1 (banks 2 and 3); its unit row r is
# bank 2 + r // rows, DRAM row r % rows. ld @b3 [0, 0] -> bank 2 row 0; ld @b2 [rows + 5, 1]
# -> bank 3 row 5: a second per-bank ACT, one cycle after the RD (tRRD_L is shorter).
TWO_BANKS = {
    "hbm2-pim": (0, 14, 15, 29),  # RD 15 + tRCD_RD 14
    "hbm3": (0, 31, 32, 63),
    "lpddr5x": (0, 17, 18, 35),
}


@pytest.mark.parametrize("name", PRESETS)
def test_two_banks_per_pim_unit(name: str) -> None:
    arch = load_arch(name) if name == "hbm2-pim" else variant(name, banks_per_pim_unit=2)
    rows = arch.geometry.rows
    act, rd, act2, rd2 = TWO_BANKS[name]
    got, _ = schedule(arch, [ld(0, 0, bank=3), ld(rows + 5, 1, bank=2)])
    assert got == [(act, 2, "ACT", 0, -1), (rd, 2, "RD", 0, 0), (act2, 3, "ACT", 5, -1),
                   (rd2, 3, "RD", 5, 1)]
    # All-bank: unit rows 0 and rows are DRAM row 0 of the unit's two banks, opened in every
    # bank by one all-bank ACT: a row hit, one PIM slot (2 x tCCD_L) later.
    got, _ = schedule(arch, [ld(0, 0), ld(rows, 1)])
    ccd = 2 * arch.timing.tCCD_L
    assert got == [(0, A, "ACT", 0, -1), (rd, A, "RD", 0, 0), (rd + ccd, A, "RD", 0, 1)]


def test_tile_slots_shift_rows() -> None:
    """Slot s adds s x tile_rows: a 2-row tile run in 2 slots touches rows 0, 1, 2, 3."""
    got, _ = schedule(load_arch("hbm3"), [ld(0, 0), ld(1, 0)], slots=2, tile_rows=2)
    assert [c[3] for c in got if c[2] == "ACT"] == [0, 1, 2, 3]


def test_bank_activation_rates() -> None:
    """Single-bank ACTs: tRRD_L in a bank group, tRRD_S across groups, 4 per tFAW window.

    hbm3 with tRCD_RD 2, tRRD_S 20, tRRD_L 30, tFAW 100 (4 banks per group): ACT b0 at 0,
    RD 2; ACT b1 (same group) 0 + 30; ACT b4 max(b1 30 + 20, b0 0 + 20) = 50; ACT b8 50 + 20;
    ACT b12: tRRD gives 90 but it is the 5th ACT: 0 + tFAW = 100.
    """
    arch = variant("hbm3", tRCD_RD=2, tRRD_S=20, tRRD_L=30, tFAW=100)
    got, _ = schedule(arch, [ld(0, 0, bank=b) for b in (0, 1, 4, 8, 12)])
    acts = [(c, b) for c, b, name, *_ in got if name == "ACT"]
    assert acts == [(0, 0), (30, 1), (50, 4), (70, 8), (100, 12)]
    assert [c for c, _, name, *_ in got if name == "RD"] == [2, 32, 52, 72, 102]


def test_all_bank_acts_are_tfaw_apart() -> None:
    """all-bank ACT -> all-bank ACT: max(tRC, tFAW); with tFAW 200 the second waits for it."""
    arch = variant("hbm3", tFAW=200)
    got, _ = schedule(arch, [ld(0, 0), ld(1, 0)])
    assert [c for c, _, name, *_ in got if name == "ACT"] == [0, 200]


def test_barrier_closes_rows() -> None:
    barrier = encode("barrier")
    got, cycles = schedule(load_arch("hbm3"), [ld(0, 0), barrier, barrier, ld(0, 1)])
    assert got == [(0, A, "ACT", 0, -1), (31, A, "RD", 0, 0), (45, A, "PRE", -1, -1),
                   (72, A, "ACT", 0, -1), (103, A, "RD", 0, 1)]
    assert cycles == 125


# GeniePIM's rule of thumb (spec): a PIM command costs ccd, a new row tRP + tRCD. For k rows of
# n reads on lpddr5x the schedule differs only in the PRE, which issues inside the last read's
# PIM slot (one cycle after it) instead of after it: 3 cycles less per row switch.
@pytest.mark.parametrize(("k", "n"), [(1, 8), (4, 32), (16, 10)])
def test_geniepim_rule_of_thumb_reads(k: int, n: int) -> None:
    arch = load_arch("lpddr5x")
    t = arch.timing
    cycles = time_launch(program([ld(r, c) for r in range(k) for c in range(n)], k), arch).cycles
    rule = k * (t.tRP + t.tRCD_RD) - t.tRP + k * n * t.tCCD_L  # the first row needs no PRE
    assert cycles == rule - 3 * (k - 1)


def test_geniepim_rule_of_thumb_write_back() -> None:
    """Reading a row, writing n words back to another, reading the first again. The rule of
    thumb charges the write-back tRTW + tRP + max(tRAS, tRCD + n x tCCD_L) + tWTR and the
    return to the first row tRP + tRCD; the scheduler overlaps the turnarounds with the row
    switches, so it costs at least the write-back alone and at most both summed."""
    arch = load_arch("lpddr5x")
    t = arch.timing
    for n in (4, 16, 32):
        base = [ld(0, c) for c in range(16)]
        extra = time_launch(program(base + [st(1, c) for c in range(n)] + [ld(0, 16)], 2),
                            arch).cycles - time_launch(program(base), arch).cycles
        write_back = t.rtw + t.tRP + max(t.tRAS, t.tRCD_WR + n * t.tCCD_L) + t.tWTR_L
        assert write_back <= extra <= write_back + t.tRP + t.tRCD_RD, (n, extra, write_back)
