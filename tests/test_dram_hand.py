"""Tiny command streams whose exact DRAM schedule is worked out by hand, for every preset.

Notation: ccd = tCCD_L (PIM column command spacing); every command issues
at the earliest cycle allowed by the constraints against the commands before it, one command
per cycle. Numbers come from the presets (hbm3 tRCD_RD 31, hbm2-pim 14, ...).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pimisa.arch import Arch, load_arch, parse_arch
from pimisa.dram import start_launch, time_launch
from pimisa.dram.check import check_schedule, parse_trace_csv
from pimisa.dram.core import CMD_NAMES
from pimisa.dram.rules import PART_LOOKAHEAD
from pimisa.encoding import encode
from pimisa.isa import ALL_BANKS, RECORD_DTYPE
from pimisa.program import KernelMeta, Program, Region

PRESETS = ["hbm3", "hbm2-pim", "lpddr5x"]
A = -1  # bank of all-bank commands in traces
EVEN, ODD = -2, -3  # with 2 banks per PIM unit: an all-bank command to the even / odd banks


def ab(arch: Arch) -> int:
    """Trace bank of an all-bank memory command at unit row < rows (and its ACT / PRE)."""
    return A if arch.geometry.banks_per_pim_unit == 1 else EVEN


def ld(row: int, col: int, bank: int = ALL_BANKS) -> np.ndarray:
    return encode("ld", {"rd": 0, "row": row, "col": col}, bank=bank)


def st(row: int, col: int, bank: int = ALL_BANKS) -> np.ndarray:
    return encode("st", {"ra": 0, "row": row, "col": col}, bank=bank)


def op() -> np.ndarray:
    return encode("add", {"rd": 1, "ra": 0, "rb": 0})


def program(recs: list[np.ndarray], tile_rows: int = 1, lane_bits: int = 32) -> Program:
    return Program(np.array(recs, dtype=RECORD_DTYPE),
                   KernelMeta(name="hand", regions=[Region("t", "input", 0, tile_rows)]),
                   lane_bits=lane_bits)


def schedule(arch: Arch, recs: list[np.ndarray], slots: int = 1,
             tile_rows: int = 1) -> tuple[list[tuple[int, int, str, int, int]], int]:
    """(cycle, bank, command, row, col) of every DRAM command (row/col -1 where n/a), and the
    launch's end cycle; also checks the schedule with the independent checker."""
    prog = program(recs, tile_rows, arch.geometry.lane_bits)
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
    "hbm2-pim": ([0, 14, 18], 18 + 22),  # ccd tCCD_L 4 (Samsung's HBM-PIM)
    "lpddr5x": ([0, 17, 21], 21 + 23),  # CL 20 + nBL 3 (Ramulator 2 LPDDR5_6400)
}


@pytest.mark.parametrize("name", PRESETS)
def test_act_to_read_spacing(name: str) -> None:
    (act, rd1, rd2), end = ACT_RD[name]
    arch = load_arch(name)
    a = ab(arch)
    got, cycles = schedule(arch, [ld(0, 0), ld(0, 1)])
    assert got == [(act, a, "ACT", 0, -1), (rd1, a, "RD", 0, 0), (rd2, a, "RD", 0, 1)]
    assert cycles == end


# ld; st; ld on one row. WR = max(ACT + tRCD_WR, RD + ccd, RD + tRTW);
# RD = max(WR + ccd, WR + CWL + nBL + tWTR_L).
TURNAROUND = {
    "hbm3": ([0, 31, 51, 73], 73 + 22),  # WR: 31 + tRTW 20; RD: 51 + 10 + 2 + 10
    "hbm2-pim": ([0, 14, 29, 48], 48 + 22),  # tRTW 15 (PIMSimulator); RD: 29 + 8 + 2 + 9
    "lpddr5x": ([0, 17, 34, 60], 60 + 23),  # WR: 17 + tRTW 17; RD: 34 + 11 + 3 + tWTR 12
}


@pytest.mark.parametrize("name", PRESETS)
def test_read_write_turnaround(name: str) -> None:
    (act, rd, wr, rd2), end = TURNAROUND[name]
    arch = load_arch(name)
    a = ab(arch)
    got, cycles = schedule(arch, [ld(0, 0), st(0, 1), ld(0, 2)])
    assert got == [(act, a, "ACT", 0, -1), (rd, a, "RD", 0, 0), (wr, a, "WR", 0, 1),
                   (rd2, a, "RD", 0, 2)]
    assert cycles == end


# ld row 0; ld row 1. PRE = max(ACT + tRAS, RD + tRTP_L); ACT = max(PRE + tRP, ACT + tRC);
# RD = ACT + tRCD_RD.
ROW_SWITCH = {
    "hbm3": ([0, 31, 45, 72, 103], 103 + 22),  # tRAS binds the PRE, tRC (72 > 45 + 26) the ACT
    "hbm2-pim": ([0, 14, 33, 47, 61], 61 + 22),  # 33 + tRP 14 = tRC 47
    "lpddr5x": ([0, 17, 40, 60, 77], 77 + 23),  # tRAS; PRE + tRP 20 (tRC 58 is less)
}


@pytest.mark.parametrize("name", PRESETS)
def test_row_switch(name: str) -> None:
    (act, rd, pre, act2, rd2), end = ROW_SWITCH[name]
    arch = load_arch(name)
    a = ab(arch)
    got, cycles = schedule(arch, [ld(0, 0), ld(1, 0)])
    assert got == [(act, a, "ACT", 0, -1), (rd, a, "RD", 0, 0), (pre, a, "PRE", -1, -1),
                   (act2, a, "ACT", 1, -1), (rd2, a, "RD", 1, 0)]
    assert cycles == end
    summary = time_launch(program([ld(0, 0), ld(1, 0)], lane_bits=arch.geometry.lane_bits), arch)
    assert (summary.row_hits, summary.row_misses, summary.row_conflicts) == (0, 2, 1)


# st row 0; ld row 1: the write recovery holds the PRE: WR + CWL + nBL + tWR.
WRITE_SWITCH = {
    "hbm3": ([0, 15, 60, 86, 117], 117 + 22),  # PRE 15 + 10 + 2 + 33; ACT 60 + 26
    "hbm2-pim": ([0, 10, 36, 50, 64], 64 + 22),  # PRE 10 + 8 + 2 + 16; ACT 36 + 14
    "lpddr5x": ([0, 17, 64, 84, 101], 101 + 23),  # PRE 17 + 11 + 3 + 33; ACT 64 + 20
}


@pytest.mark.parametrize("name", PRESETS)
def test_write_then_row_switch(name: str) -> None:
    (act, wr, pre, act2, rd), end = WRITE_SWITCH[name]
    arch = load_arch(name)
    a = ab(arch)
    got, cycles = schedule(arch, [st(0, 0), ld(1, 0)])
    assert got == [(act, a, "ACT", 0, -1), (wr, a, "WR", 0, 0), (pre, a, "PRE", -1, -1),
                   (act2, a, "ACT", 1, -1), (rd, a, "RD", 1, 0)]
    assert cycles == end


# ld [0,0], then OPs one PIM slot apart. Before each PIM command the controller refreshes if
# the next free cycle (last + 1) has reached the due time tREFI: the m-th OP (at
# tRCD_RD + m x ccd) is the last before the refresh when tRCD_RD + m x ccd + 1 >= tREFI, i.e.
# hbm3: 31 + 4m + 1 >= 6240 -> m = 1552 (cycle 6239); hbm2-pim: 14 + 4m + 1 >= 3900 -> m = 972
# (cycle 3902). Then PRE (all) at last + 1, REF tRP later, the next OP tRFC after the REF; the
# closing ld finds its row closed by the refresh and opens it again right after the last OP.
REFRESH = {
    "hbm3": (1552, 6240, 6266, 6826),  # tRFC 560
    "hbm2-pim": (972, 3903, 3917, 4267),
    "lpddr5x": (911, 3662, 3682, 3945),  # 17 + 4m + 1 >= 3661; REF 3662 + tRP 20; tRFC 263
}


@pytest.mark.parametrize("name", PRESETS)
def test_refresh_in_the_middle(name: str) -> None:
    arch = load_arch(name)
    t = arch.timing
    ccd = t.tCCD_L
    m, pre, ref, op_after = REFRESH[name]
    n_ops = m + 8
    got, cycles = schedule(arch, [ld(0, 0)] + [op()] * n_ops + [ld(0, 1)])
    ops = [c for c, _, name_, *_ in got if name_ == "OP"]
    assert ops[m - 1] == t.tRCD_RD + m * ccd == pre - 1
    assert [c for c in got if c[2] in ("PRE", "REF")] == [(pre, A, "PRE", -1, -1),
                                                          (ref, A, "REF", -1, -1)]
    assert ops[m] == op_after == ref + t.tRFC
    assert ops[-1] == op_after + 7 * ccd
    assert got[-2:] == [(ops[-1] + 1, ab(arch), "ACT", 0, -1),
                        (ops[-1] + 1 + t.tRCD_RD, ab(arch), "RD", 0, 1)]
    assert cycles == ops[-1] + 1 + t.tRCD_RD + t.CL + t.nBL


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
    # All-bank: unit row 0 is DRAM row 0 of the even bank of every unit (bank -2 in traces),
    # unit row `rows` the same row of the odd banks (-3): each half has its own ACT. The odd
    # ACT waits for the bus, tRRD_L after the even ACT and tFAW (a multi-bank ACT fills the
    # window); its RD tRCD_RD after it. No later command uses the even row, so it is closed
    # before the odd RD where its PRE (tRAS after the ACT, tRTP_L after the RD) fits: hbm3 45
    # (< 63), not hbm2-pim (33 > 30) nor lpddr5x (40 > 36).
    act_odd, rd_odd = HALVES[name]
    t = arch.timing
    pre = max(t.tRAS, rd + t.tRTP_L)
    got, _ = schedule(arch, [ld(0, 0), ld(rows, 1)])
    early = [(pre, EVEN, "PRE", -1, -1)] if pre < rd_odd else []
    assert got == [(0, EVEN, "ACT", 0, -1), (rd, EVEN, "RD", 0, 0),
                   (act_odd, ODD, "ACT", 0, -1), *early, (rd_odd, ODD, "RD", 0, 1)]
    assert (pre < rd_odd) == (name == "hbm3")


HALVES = {
    "hbm2-pim": (16, 30),  # tFAW 16 after the even ACT; 16 + tRCD_RD 14
    "hbm3": (32, 63),  # the bus (RD at 31); 32 + 31
    "lpddr5x": (19, 36),  # tFAW 19; 19 + 17
}


def test_halves_open_and_close_on_their_own() -> None:
    """hbm2-pim (Samsung's HBM-PIM: one PIM unit per 2 banks). ld even row 0; st even row 1;
    ld odd row 0. Even: ACT 0, RD 14, PRE max(ACT + tRAS 33, RD + tRTP_L 3) = 33, ACT
    max(PRE + tRP 14, ACT + tRC 47) = 47, WR max(ACT + tRCD_WR 10, RD + tRTW 15) = 57. The odd
    half's ACT needs no PRE and does not wait for the even write's recovery: tFAW after the
    even ACT (47 + 16 = 63); its RD max(ACT + 14, WR + WL 8 + 2 + tWTR_L 9) = 77."""
    arch = load_arch("hbm2-pim")
    rows = arch.geometry.rows
    got, cycles = schedule(arch, [ld(0, 0), st(1, 0), ld(rows, 0)])
    assert got == [(0, EVEN, "ACT", 0, -1), (14, EVEN, "RD", 0, 0), (33, EVEN, "PRE", -1, -1),
                   (47, EVEN, "ACT", 1, -1), (57, EVEN, "WR", 1, 0), (63, ODD, "ACT", 0, -1),
                   (77, ODD, "RD", 0, 0)]
    assert cycles == 77 + 22
    summary = time_launch(program([ld(0, 0), st(1, 0), ld(rows, 0)]), arch)
    assert (summary.row_misses, summary.row_conflicts, summary.all_bank_acts) == (3, 1, 3)


ODD_ROW = load_arch("hbm2-pim").geometry.rows  # unit row of DRAM row 0 in the odd banks
ODD_READS = [ld(ODD_ROW, c) for c in range(8)]


def test_other_half_closed_in_an_idle_cycle_when_its_next_command_needs_another_row() -> None:
    """hbm2-pim: ld even row 0; 8 x ld odd row 0; ld even row 1. Even ACT 0, RD 14; odd ACT 16
    (tFAW), RDs 30, 34, ..., 58. The even half's next command needs row 1, so its PRE goes in
    the first idle cycle it fits, max(ACT + tRAS 33, RD + tRTP_L 3) = 33, before the odd RD at
    34 (PIMSimulator's controller precharges a bank no queued command needs); the even ACT
    then needs no PRE: max(PRE + tRP 47, ACT + tRC 47, the bus 59) = 59, RD 73 (open-row
    alone: PRE 59, ACT 73, RD 87); the odd half, used by nothing later, closes at 61 (its last
    RD 58 + 3) in the wait for that RD."""
    got, cycles = schedule(load_arch("hbm2-pim"), [ld(0, 0)] + ODD_READS + [ld(1, 0)])
    assert got[:4] == [(0, EVEN, "ACT", 0, -1), (14, EVEN, "RD", 0, 0),
                       (16, ODD, "ACT", 0, -1), (30, ODD, "RD", 0, 0)]
    assert got[4] == (33, EVEN, "PRE", -1, -1)
    assert [c for c, _, name, *_ in got[5:12]] == list(range(34, 59, 4))
    assert got[12:] == [(59, EVEN, "ACT", 1, -1), (61, ODD, "PRE", -1, -1),
                        (73, EVEN, "RD", 1, 0)]
    assert cycles == 73 + 22


def test_other_half_kept_open_when_its_next_command_uses_the_row() -> None:
    """As above, but the last command reads even row 0 again: the even row stays open, a row
    hit at 62 (the odd half closes at 61)."""
    got, _ = schedule(load_arch("hbm2-pim"), [ld(0, 0)] + ODD_READS + [ld(0, 1)])
    assert [c for c in got if c[2] == "PRE"] == [(61, ODD, "PRE", -1, -1)]
    assert got[-1] == (62, EVEN, "RD", 0, 1)


@pytest.mark.parametrize("gap", [PART_LOOKAHEAD - 1, PART_LOOKAHEAD])
def test_other_half_look_ahead_is_part_lookahead_commands(gap: int) -> None:
    """The even half's PRE fits first at the 2nd odd command (position 2): it looks at the next
    PART_LOOKAHEAD commands (positions 3 .. 2 + PART_LOOKAHEAD). The even row is needed again
    at position 1 + odd reads: kept with PART_LOOKAHEAD + 1 odd reads, closed with one more
    (the odd half closes before the last command either way)."""
    odd = [ld(ODD_ROW, c % 32) for c in range(gap + 2)]
    arch = load_arch("hbm2-pim")
    summary = time_launch(program([ld(0, 0)] + odd + [ld(0, 1)], lane_bits=16), arch)
    closed = len(odd) + 1 > 2 + PART_LOOKAHEAD
    assert closed == (gap == PART_LOOKAHEAD)
    assert (summary.commands["PRE"], summary.row_misses) == ((2, 3) if closed else (1, 2))


def test_other_half_look_ahead_stops_at_a_barrier() -> None:
    """A barrier closes every row, so the look-ahead ends there: the even row is closed early
    (at 33) although the command after the barrier reads it."""
    got, _ = schedule(load_arch("hbm2-pim"), [ld(0, 0)] + ODD_READS + [encode("barrier"),
                                                                      ld(0, 1)])
    assert got[4] == (33, EVEN, "PRE", -1, -1)


def test_pim_commands_are_tccd_l_apart_with_two_banks_per_unit() -> None:
    """Samsung's design issues all-bank PIM commands tCCD_L apart (not tCCD_L x 2): ACT 0, RDs
    at tRCD_RD 14, 18, 22; OPs 26, 30."""
    got, _ = schedule(load_arch("hbm2-pim"), [ld(0, c) for c in range(3)] + [op(), op()])
    assert [c for c, *_ in got] == [0, 14, 18, 22, 26, 30]


def test_single_bank_reads_across_bank_groups_are_tccd_s_apart() -> None:
    """hbm3, banks 0, 4, 8, 12 (one per bank group; 4 banks per group) opened one by one
    (ACT, then RD tRCD_RD 31 later), then read round robin: row hits tCCD_S (2) apart, as in
    DRAMsim3 and Ramulator 2; within one bank group (banks 0..3) tCCD_L (4) apart."""
    arch = load_arch("hbm3")
    for banks, gap in (((0, 4, 8, 12), 2), ((0, 1, 2, 3), 4)):
        got, cycles = schedule(arch, [ld(0, c, bank=b) for c in (0, 1) for b in banks])
        assert [(c, b) for c, b, name, *_ in got if name == "ACT"] == list(
            zip((0, 32, 64, 96), banks, strict=True))
        rds = [c for c, _, name, *_ in got if name == "RD"]
        # the first RD of the second round: tCCD_L after bank b's own RD (31 + 4) or tCCD_x
        # after the last RD (127 + gap), whichever is later
        assert rds == [31, 63, 95, 127] + [127 + gap * i for i in (1, 2, 3, 4)]
        assert cycles == rds[-1] + 22


def test_write_to_read_across_bank_groups_is_twtr_s() -> None:
    """hbm3: WR bank 0 then RD bank 4 (another group): CWL + nBL + tWTR_S = 10 + 2 + 7;
    to bank 1 (same group) CWL + nBL + tWTR_L = 10 + 2 + 10. Rows opened first: ACT b0 0,
    RD 31, ACT b 32, RD 63; the WR waits tRTW (20) after that RD: 83."""
    arch = load_arch("hbm3")
    for other, wtr in ((4, 19), (1, 22)):
        got, _ = schedule(arch, [ld(0, 0, bank=0), ld(0, 0, bank=other), st(0, 1, bank=0),
                                 ld(0, 1, bank=other)])
        assert [(c, name) for c, _, name, *_ in got[-2:]] == [(83, "WR"), (83 + wtr, "RD")]


def test_refresh_waits_trc_after_an_act() -> None:
    """hbm3 with tRAS 44, tREFI 116: ACT row 0 at 0, RD 31, PRE 44, ACT row 1 at 72 (tRC; it
    issues before the refresh is due at 116), RD 103, OPs 107, 111, 115; the refresh is
    due: PRE at ACT + tRAS = 116, REF at max(PRE + tRP = 142, ACT + tRC = 144), as DRAMsim3
    and Ramulator 2 require (ACT -> REF >= tRC); the last OP tRFC (50) later."""
    arch = variant("hbm3", tREFI=116, tRFC=50, tRAS=44)
    got, _ = schedule(arch, [ld(0, 0), ld(1, 0)] + [op()] * 4)
    assert [(c, name) for c, _, name, *_ in got] == [
        (0, "ACT"), (31, "RD"), (44, "PRE"), (72, "ACT"), (103, "RD"), (107, "OP"), (111, "OP"),
        (115, "OP"), (116, "PRE"), (144, "REF"), (194, "OP")]


def test_a_row_miss_that_would_straddle_the_refresh_refreshes_first() -> None:
    """hbm3 with tREFI 200, tRFC 50: ld row 0 (ACT 0, RD 31), 36 OPs (35 .. 175), ld row 1:
    its PRE could issue at 176, its ACT at 202, after the refresh is due at 200, so the
    controller refreshes first (as DRAMsim3 does): PRE 176, REF max(PRE + tRP, ACT + tRC) =
    202, ACT row 1 at REF + tRFC = 252, RD 283, the next RD tCCD_L later. (Opening the row
    first would have cost a second ACT after the refresh: RD 233, then PRE 247, REF 273, ACT
    323, RD 354.)"""
    arch = variant("hbm3", tREFI=200, tRFC=50)
    recs = [ld(0, 0)] + [op()] * 36 + [ld(1, 0), ld(1, 1)]
    got, _ = schedule(arch, recs)
    assert [(c, name) for c, _, name, *_ in got if name != "OP"] == [
        (0, "ACT"), (31, "RD"), (176, "PRE"), (202, "REF"), (252, "ACT"), (283, "RD"),
        (287, "RD")]
    summary = time_launch(program(recs), arch)
    assert (summary.row_misses, summary.row_conflicts, summary.refreshes) == (2, 0, 1)


def test_per_bank_refresh_closes_and_refreshes_one_bank_while_others_work() -> None:
    """hbm3 refreshing per bank, tREFIpb 100 (tRFCpb 320, tRREFD 8): ld bank 0 (ACT 0, RD 31),
    OPs to bank 4 (another bank group) from RD + tCCD_S = 33, tCCD_L apart, up to 101; the
    REFpb of bank 0 is due: PRE bank 0 at 102, REFpb at PRE + tRP = 128. Bank 4 goes on at 129
    and 133 (no rule holds it). The next ld to bank 0 must open its row again at REFpb +
    tRFCpb = 448, after the next refresh is due (200), so the REFpb of bank 1 goes first, at
    REFpb + tRREFD = 136; then ACT 448, RD 479."""
    arch = variant("hbm3", refresh="per-bank", tREFIpb=100)
    bank4 = encode("add", {"rd": 0, "ra": 0, "rb": 1}, bank=4)
    got, cycles = schedule(arch, [ld(0, 0, 0)] + [bank4] * 20 + [ld(0, 1, 0)])
    assert [(c, b, name) for c, b, name, *_ in got if name != "OP"] == [
        (0, 0, "ACT"), (31, 0, "RD"), (102, 0, "PRE"), (128, 0, "REFpb"), (136, 1, "REFpb"),
        (448, 0, "ACT"), (479, 0, "RD")]
    assert [c for c, _, name, *_ in got if name == "OP"] == [*range(33, 102, 4), 129, 133]
    assert cycles == 479 + 22


def test_per_bank_refresh_takes_the_banks_in_turn() -> None:
    """Every tREFIpb the next bank is refreshed, bank 0 first, wrapping after the last, each
    REFpb in a free bus cycle between register-only OPs 4 cycles apart (0 .. 1996), which it
    does not delay: 19 refreshes due (100 .. 1900); the summary counts them."""
    arch = variant("hbm3", refresh="per-bank", tREFIpb=100)
    got, _ = schedule(arch, [op()] * 500)
    banks = [b for _, b, name, *_ in got if name == "REFpb"]
    assert banks == [i % 16 for i in range(19)]
    assert [c for c, _, name, *_ in got if name == "OP"] == list(range(0, 2000, 4))
    assert time_launch(program([op()] * 500), arch).refreshes == 19


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


# GeniePIM's rule of thumb: a PIM command costs ccd, a new row tRP + tRCD. For k rows of n reads
# on lpddr5x the schedule differs in the PRE, which waits tRTP_L after the last read instead of
# one PIM slot (tRTP_L - tCCD_L more per row switch), and in the end of the launch, the last
# read's data (CL + nBL after it, not one slot).
@pytest.mark.parametrize(("k", "n"), [(1, 8), (4, 32), (16, 10)])
def test_geniepim_rule_of_thumb_reads(k: int, n: int) -> None:
    arch = load_arch("lpddr5x")
    t = arch.timing
    cycles = time_launch(program([ld(r, c) for r in range(k) for c in range(n)], k), arch).cycles
    rule = k * (t.tRP + t.tRCD_RD) - t.tRP + k * n * t.tCCD_L  # the first row needs no PRE
    assert cycles == rule + (t.tRTP_L - t.tCCD_L) * (k - 1) + t.CL + t.nBL - t.tCCD_L


def test_geniepim_rule_of_thumb_write_back() -> None:
    """Reading a row, writing n words back to another, reading the first again. The rule of
    thumb charges the write-back tRTW + tRP + max(tRAS, tRCD + n x tCCD_L) + tWTR and the
    return to the first row tRP + tRCD; it has no write recovery (CWL + nBL + tWR before the
    PRE) nor read-to-precharge (tRTP), which GeniePIM does not give and the preset takes from
    Ramulator 2. The scheduler overlaps the turnarounds with the row switches, so it costs at
    least the write-back alone and at most everything summed."""
    arch = load_arch("lpddr5x")
    t = arch.timing
    for n in (4, 16, 32):
        base = [ld(0, c) for c in range(16)]
        extra = time_launch(program(base + [st(1, c) for c in range(n)] + [ld(0, 16)], 2),
                            arch).cycles - time_launch(program(base), arch).cycles
        write_back = t.rtw + t.tRP + max(t.tRAS, t.tRCD_WR + n * t.tCCD_L) + t.tWTR_L
        missing = t.CWL + t.nBL + t.tWR + t.tRTP_L
        assert write_back <= extra <= write_back + t.tRP + t.tRCD_RD + missing, (n, extra)
