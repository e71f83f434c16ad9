"""The independent checker on hand-made and deliberately broken traces."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pimisa.arch import load_arch, parse_arch
from pimisa.dram.check import (
    HEADER,
    check_schedule,
    check_trace_csv,
    parse_trace_csv,
    read_trace_csv,
)
from pimisa.errors import InputError

HBM3 = load_arch("hbm3")


def csv(*lines: str) -> bytes:
    return b"\n".join([HEADER, *(line.encode() for line in lines)]) + b"\n"


def check(*lines: str, arch_name: str = "hbm3", limit: int = 100):
    return check_schedule(parse_trace_csv(csv(*lines)), load_arch(arch_name), limit)


# A valid hbm3 schedule (see test_dram_hand: row switch, then a write).
GOOD = ["0,0,-1,ACT,0,-1", "31,0,-1,RD,0,0", "45,0,-1,PRE,-1,-1", "72,0,-1,ACT,1,-1",
        "103,0,-1,RD,1,0", "123,0,-1,WR,1,1", "127,0,3,OP,-1,-1"]


def test_a_valid_schedule_passes() -> None:
    result = check(*GOOD)
    assert result.ok and result.total == 0
    assert (result.commands, result.channels) == (7, 1)


@pytest.mark.parametrize(
    ("index", "line", "rule", "other"),
    [
        (1, "30,0,-1,RD,0,0", "tRCD_RD", 2),  # 30 < tRCD_RD 31 after the ACT on line 2
        (2, "44,0,-1,PRE,-1,-1", "tRAS", 2),
        (3, "70,0,-1,ACT,1,-1", "tRP", 4),  # 70 - 45 < 26
        (3, "71,0,-1,ACT,1,-1", "tRC", 2),  # 71 - 0 < 72, while tRP holds
        (5, "122,0,-1,WR,1,1", "tRTW", 6),  # 122 - 103 < 20
        (6, "126,0,3,OP,-1,-1", "tCCD_L", 7),  # after an all-bank WR: in every bank group
    ],
)
def test_one_broken_gap_names_both_commands(index: int, line: str, rule: str,
                                            other: int) -> None:
    lines = list(GOOD)
    lines[index] = line
    result = check(*lines)
    broken = [v for v in result.violations if v.rule == rule]
    assert len(broken) == 1
    assert (broken[0].line, broken[0].other) == (index + 2, other)
    assert f"line {other}" in broken[0].message


def test_rtp_and_write_recovery() -> None:
    assert check("0,0,-1,ACT,0,-1", "40,0,-1,RD,0,0", "48,0,-1,PRE,-1,-1").rules_broken() == {
        "tRTP"}
    # WR -> PRE needs CWL 10 + nBL 2 + tWR 33 = 45.
    assert check("0,0,-1,ACT,0,-1", "15,0,-1,WR,0,0", "59,0,-1,PRE,-1,-1").rules_broken() == {
        "tWR"}
    # WR -> RD needs CWL + nBL + tWTR_L = 22 in a bank group (an all-bank WR is in every
    # one), CWL + nBL + tWTR_S = 19 across groups; tRCD_WR 15.
    assert check("0,0,-1,ACT,0,-1", "31,0,-1,WR,0,0", "52,0,-1,RD,0,1").rules_broken() == {
        "tWTR_L"}
    assert check("0,0,0,ACT,0,-1", "4,0,4,ACT,0,-1", "31,0,0,WR,0,0",
                 "52,0,4,RD,0,1").ok
    assert check("0,0,0,ACT,0,-1", "4,0,4,ACT,0,-1", "31,0,0,WR,0,0",
                 "49,0,4,RD,0,1").rules_broken() == {"tWTR_S"}
    assert check("0,0,-1,ACT,0,-1", "14,0,-1,WR,0,0").rules_broken() == {"tRCD_WR"}


def test_state_rules() -> None:
    # RD of a row that is not open, of a closed bank, ACT of an open bank, REF with a row open.
    result = check("0,0,-1,ACT,0,-1", "31,0,-1,RD,1,0")
    assert [(v.rule, v.line, v.other) for v in result.violations] == [("row-open", 3, 2)]
    assert "opened row 0" in result.violations[0].message
    assert check("0,0,5,RD,0,0").violations[0].message.endswith("never opened")
    result = check("0,0,-1,ACT,0,-1", "45,0,-1,PRE,-1,-1", "100,0,2,WR,0,0")
    assert [(v.rule, v.other) for v in result.violations] == [("row-open", 3)]
    result = check("0,0,4,ACT,0,-1", "100,0,4,ACT,1,-1")
    assert [(v.rule, v.line, v.other) for v in result.violations] == [("bank-closed", 3, 2)]
    result = check("0,0,4,ACT,0,-1", "100,0,-1,REF,-1,-1")
    assert result.rules_broken() == {"bank-closed"}


def test_all_bank_commands_count_on_every_bank_once() -> None:
    """A single-bank ACT opens one bank: an all-bank RD then fails on the 15 others, reported
    once; an all-bank ACT after it hits the open bank."""
    result = check("0,0,4,ACT,0,-1", "31,0,-1,RD,0,0")
    assert [(v.rule, v.line) for v in result.violations] == [("row-open", 3)]
    result = check("0,0,4,ACT,0,-1", "100,0,-1,ACT,0,-1")
    assert ("bank-closed", 3, 2) in [(v.rule, v.line, v.other) for v in result.violations]


def test_bus_order() -> None:
    result = check("0,0,-1,ACT,0,-1", "40,0,-1,RD,0,0", "40,0,-1,RD,0,1")
    assert ("bus", 4, 3) in [(v.rule, v.line, v.other) for v in result.violations]


def test_activation_rates() -> None:
    # tRRD_L (5) within bank group 0 (banks 0-3), tRRD_S (4) across groups.
    assert check("0,0,0,ACT,0,-1", "4,0,1,ACT,0,-1").rules_broken() == {"tRRD_L"}
    assert check("0,0,0,ACT,0,-1", "3,0,4,ACT,0,-1").rules_broken() == {"tRRD_S"}
    assert check("0,0,0,ACT,0,-1", "4,0,4,ACT,0,-1").ok
    # Five ACTs within tFAW = 24: the fifth is 20 cycles after the first.
    five = [f"{5 * i},0,{4 * i % 16 + i // 4},ACT,0,-1" for i in range(5)]
    result = check(*five)
    assert [(v.rule, v.line, v.other) for v in result.violations] == [("tFAW", 6, 2)]


def test_an_all_bank_act_fills_the_tfaw_window() -> None:
    """With tFAW 200 (longer than tRC), an ACT within tFAW of an all-bank ACT breaks it, either
    way round; the per-bank rules (tRAS, tRP, tRC) all hold."""
    timing = {k: v for k, v in dataclasses.asdict(HBM3.timing).items() if v is not None}
    timing["tFAW"] = 200
    arch = parse_arch({"name": "wide-faw", "geometry": dataclasses.asdict(HBM3.geometry),
                       "timing": timing}, "test")
    after = ["0,0,-1,ACT,0,-1", "45,0,5,PRE,-1,-1", "100,0,5,ACT,1,-1"]
    before = ["0,0,5,ACT,0,-1", "45,0,5,PRE,-1,-1", "100,0,-1,ACT,1,-1"]
    for lines in (after, before):
        result = check_schedule(parse_trace_csv(csv(*lines)), arch)
        assert [(v.rule, v.line, v.other) for v in result.violations] == [("tFAW", 4, 2)]
        assert check_schedule(parse_trace_csv(csv(*lines)), HBM3).ok


def refresh_trace(refs: list[int], end: int) -> list[str]:
    return [f"{c},0,-1,REF,-1,-1" for c in refs] + [f"{end},0,-1,OP,-1,-1"]


def test_refresh_rules() -> None:
    refi = HBM3.timing.tREFI
    # A REF every tREFI passes; none over 10 x tREFI breaks both rules.
    assert check(*refresh_trace([k * refi for k in range(1, 11)], 10 * refi + 600)).ok
    result = check(*refresh_trace([], 10 * refi))
    assert result.rules_broken() == {"refresh-gap", "refresh-rate"}
    # A REF every 2 x tREFI: never a gap over 9 x tREFI, but it falls behind the rate.
    result = check(*refresh_trace([k * 2 * refi for k in range(1, 16)], 31 * refi))
    assert result.rules_broken() == {"refresh-rate"}
    # tRFC after a REF; tRP before it.
    assert check("0,0,-1,REF,-1,-1", "415,0,-1,OP,-1,-1").rules_broken() == {"tRFC"}
    assert check("0,0,-1,ACT,0,-1", "45,0,-1,PRE,-1,-1",
                 "70,0,-1,REF,-1,-1").rules_broken() == {"tRP", "tRC_REF"}
    # ACT -> REF needs tRC (72) even when tRP after the PRE holds (Ramulator 2, DRAMsim3).
    assert check("0,0,-1,ACT,0,-1", "45,0,-1,PRE,-1,-1",
                 "71,0,-1,REF,-1,-1").rules_broken() == {"tRC_REF"}
    assert check("0,0,-1,ACT,0,-1", "45,0,-1,PRE,-1,-1", "72,0,-1,REF,-1,-1").ok


PER_BANK = load_arch("hbm3:refresh=per-bank")


def test_per_bank_refresh_rules() -> None:
    """Per-bank refresh: REFpb only to a closed bank, tRFCpb before its bank's next ACT (not
    another bank's: tRREFD), tRRD_S after an ACT anywhere; each bank refreshed at its own
    rate (tREFIpb x 16 banks = 6240 cycles), by its REFpbs or a REF."""
    def per_bank(*lines: str):
        return check_schedule(parse_trace_csv(csv(*lines)), PER_BANK)

    assert per_bank("0,0,3,REFpb,-1,-1", "320,0,3,ACT,0,-1", "400,0,3,PRE,-1,-1").ok
    assert per_bank("0,0,3,REFpb,-1,-1", "319,0,3,ACT,0,-1").rules_broken() == {"tRFCpb"}
    assert per_bank("0,0,3,REFpb,-1,-1", "8,0,4,ACT,0,-1").ok
    assert per_bank("0,0,3,REFpb,-1,-1", "7,0,4,ACT,0,-1").rules_broken() == {"tRREFD"}
    assert per_bank("0,0,3,REFpb,-1,-1", "7,0,4,REFpb,-1,-1").rules_broken() == {"tRREFD"}
    assert per_bank("0,0,3,ACT,0,-1", "3,0,4,REFpb,-1,-1").rules_broken() == {"tRRD_S"}
    result = per_bank("0,0,3,ACT,0,-1", "100,0,3,REFpb,-1,-1")
    assert result.rules_broken() == {"bank-closed"}
    assert (result.violations[0].line, result.violations[0].other) == (3, 2)
    # Bank 5 never refreshed over 10 x 6240 cycles while the others are: only bank 5 breaks.
    refs = [f"{c + 9 * b},0,{b},REFpb,-1,-1" for c in range(0, 62400, 6240) for b in range(16)
            if b != 5]  # 9 cycles apart (tRREFD 8)
    result = per_bank(*refs, "62400,0,-1,OP,-1,-1")
    assert result.rules_broken() == {"refresh-gap", "refresh-rate"}
    assert all(v.message.startswith("bank 5: ") for v in result.violations)
    # A REF refreshes every bank.
    assert per_bank(*[f"{k * 6240},0,-1,REF,-1,-1" for k in range(1, 11)],
                    "63000,0,-1,OP,-1,-1").ok


def test_no_refresh_rule_without_trefi() -> None:
    """tREFI 0 in a user preset: no refresh, so no refresh rule; lpddr5x refreshes now."""
    arch = dataclasses.replace(HBM3, timing=dataclasses.replace(HBM3.timing, tREFI=0))
    lines = ("0,0,-1,ACT,0,-1", "31,0,-1,RD,0,0", "99999999,0,-1,OP,-1,-1")
    assert check_schedule(parse_trace_csv(csv(*lines)), arch).ok
    assert check(*lines).rules_broken() == {"refresh-gap", "refresh-rate"}


def test_channels_are_independent() -> None:
    lines = GOOD + [line.replace(",0,", ",1,", 1) for line in GOOD]
    assert check(*lines).ok and check(*lines).channels == 2
    broken = lines[:-1] + ["126,1,3,OP,-1,-1"]
    assert [(v.rule, v.line) for v in check(*broken).violations] == [("tCCD_L", 15)]


def test_limit_keeps_the_total() -> None:
    lines = ["0,0,-1,ACT,0,-1"] + [f"{31 + i},0,-1,RD,0,0" for i in range(200)]
    result = check(*lines, limit=5)
    # every RD one cycle after the previous one breaks tCCD_L (4) and tCCD_S (2)
    assert len(result.violations) == 5 and result.total == 2 * 199 and not result.ok
    assert [(v.line, v.rule) for v in result.violations] == [
        (4, "tCCD_L"), (4, "tCCD_S"), (5, "tCCD_L"), (5, "tCCD_S"), (6, "tCCD_L")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"cycle,bank\n", ":1: the header must be exactly"),
        (csv("0,0,-1,ACT,0"), ":2: expected 6 fields"),
        (csv("0,0,-1,ACT,0,-1", "5,0,-1,FOO,0,0"), ":3: unknown command 'FOO'"),
        (csv("0,0,-1,ACT,x,-1"), ":2: fields other than the command must be integers"),
        (csv("0,0,-1,ACT,0,-1", "", "40,0,-1,RD,0,0"), ":3: expected 6 fields"),
        (csv("0,0,16,ACT,0,-1"), ":2: bank outside -1..15"),
        (csv("0,0,-1,ACT,32768,-1"), ":2: row outside 0..32767"),
        (csv("0,0,-1,ACT,0,-1", "40,0,-1,RD,0,32"), ":3: col outside 0..31"),
        (csv("0,0,3,REF,-1,-1"), ":2: REF must name bank -1"),
        (csv("0,0,-1,REFpb,-1,-1"), ":2: REFpb must name one bank"),
        (csv("-1,0,-1,OP,-1,-1"), ":2: negative cycle"),
    ],
)
def test_malformed_traces(tmp_path, data: bytes, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_trace_csv(path, HBM3)


def test_unreadable_and_empty(tmp_path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        check_trace_csv(tmp_path / "missing.csv", HBM3)
    (tmp_path / "e.csv").write_bytes(HEADER + b"\n")
    assert check_trace_csv(tmp_path / "e.csv", HBM3).ok


def test_crlf_lines_parse() -> None:
    trace = parse_trace_csv(b"\r\n".join([HEADER, b"0,0,-1,ACT,0,-1", b"31,0,-1,RD,0,0"]))
    assert np.array_equal(trace.cycle, [0, 31]) and np.array_equal(trace.cmd, [0, 3])
