"""`pimisa time`, `pimisa check-trace`, the trace files and the `time_launch` API."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.dram import TimingSummary, slots_for_tiles, time_launch
from pimisa.dram.check import parse_trace_csv
from pimisa.dram.core import CMD_DTYPE
from pimisa.dram.tracefile import TraceHeader, parse_names, preset_fingerprint
from pimisa.dram.traces import CsvWriter
from pimisa.encoding import encode
from pimisa.errors import InputError, UsageError
from pimisa.isa import RECORD_DTYPE, TABLE
from pimisa.linecost import CommandNames
from pimisa.program import KernelMeta, Program, Region

HEADER = "cycle,channel,bank,command,row,col"
NAMED = HEADER + ",slot,index,pim,source"
COMMENT = "# pimisa-trace "


def kernel(rows: int = 3, words: int = 32, writes: int = 8, lane_bits: int = 32) -> Program:
    """Read `rows` rows word by word, write `writes` words to the next row."""
    recs = [encode("ld", {"rd": 0, "row": r, "col": c}) for r in range(rows) for c in range(words)]
    recs += [encode("add", {"rd": 0, "ra": 0, "rb": 0})]
    recs += [encode("st", {"ra": 0, "row": rows, "col": c}) for c in range(writes)]
    return Program(np.array(recs, dtype=RECORD_DTYPE),
                   KernelMeta(name="k", regions=[Region("t", "input", 0, rows + 1)]),
                   lane_bits=lane_bits)


@pytest.fixture
def pimb(tmp_path: Path) -> Path:
    path = tmp_path / "k.pimb"
    kernel().save(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_time_summary(capsys, pimb: Path) -> None:
    code, out, err = run(capsys, "time", str(pimb))
    assert code == 0 and err == ""
    summary = time_launch(kernel(), load_arch("hbm3"))
    assert f"{summary.cycles} cycles" in out
    assert "all 32 channels have this schedule" in out
    assert "tiles        512 over 512 PIM units" in out


def test_time_json(capsys, pimb: Path) -> None:
    code, out, _ = run(capsys, "time", str(pimb), "--json", "--arch", "hbm2-pim:lane_bits=32",
                       "--tiles", "1000")
    doc = json.loads(out)
    assert code == 0
    assert {"cycles", "ns", "commands", "row_hits", "row_misses", "refreshes"} <= set(doc)
    arch = load_arch("hbm2-pim:lane_bits=32")  # the kernel's 32-bit lanes
    assert doc["slots"] == 8 == slots_for_tiles(1000, arch.geometry)  # 128 units
    summary = time_launch(kernel(), arch, 8)
    assert doc["cycles"] == summary.cycles and doc["ns"] == summary.cycles * 1.0
    assert doc["commands"] == dict(summary.commands)
    assert set(doc["commands"]) == {"ACT", "PRE", "REF", "RD", "WR", "OP", "REFpb"}
    # 8 slots x (96 RD + 8 WR) all-bank commands, one word per unit (8 per channel), 16 channels
    assert doc["bytes_moved"] == 8 * 104 * 8 * 32 * 16


def test_summary_bandwidth_and_bus() -> None:
    arch = load_arch("hbm3")
    s = time_launch(kernel(), arch, 2)
    assert isinstance(s, TimingSummary)
    assert s.bandwidth_gbps == pytest.approx(s.bytes_moved / s.ns)
    assert s.bus_utilization == pytest.approx(sum(s.commands.values()) / s.cycles)
    assert s.row_hits + s.row_misses == s.commands["RD"] + s.commands["WR"]
    assert s.pim_commands == 2 * len(kernel())


def test_time_launch_is_cached() -> None:
    arch = load_arch("hbm3")
    first = time_launch(kernel(), arch, 3)
    assert time_launch(kernel(), "hbm3", 3) is first
    assert time_launch(kernel(), arch, 4) is not first
    with pytest.raises(TypeError):
        first.commands["RD"] = 0  # type: ignore[index]


def read_csv(path: Path) -> list[list[str]]:
    """The column header and the command lines (the preset comment, line 1, dropped)."""
    lines = path.read_text().splitlines()
    assert lines[0].startswith(COMMENT)
    return [line.split(",") for line in lines[1:]]


def test_csv_trace_and_check(capsys, pimb: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    code, out, _ = run(capsys, "time", str(pimb), "--trace-csv", str(trace), "--tiles", "99999")
    assert code == 0 and "traces       channel 0" in out
    rows = read_csv(trace)
    assert ",".join(rows[0]) == NAMED
    assert {r[1] for r in rows[1:]} == {"0"}
    summary = time_launch(kernel(), load_arch("hbm3"), slots_for_tiles(99999,
                                                                      load_arch("hbm3").geometry))
    assert len(rows) - 1 == sum(summary.commands.values())
    assert summary.refreshes > 0 and sum(r[3] == "REF" for r in rows) == summary.refreshes
    code, out, _ = run(capsys, "check-trace", str(trace), "--arch", "hbm3")
    assert code == 0 and "satisfy every timing rule of hbm3" in out


def test_all_channels(capsys, pimb: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    code, _, _ = run(capsys, "time", str(pimb), "--arch", "lpddr5x", "--trace-csv", str(trace),
                     "--all-channels")
    rows = read_csv(trace)[1:]
    assert code == 0
    per_channel = {ch: [r[:1] + r[2:] for r in rows if r[1] == ch] for ch in map(str, range(8))}
    assert len({json.dumps(v) for v in per_channel.values()}) == 1
    assert len(rows) == 8 * len(per_channel["0"])
    code, out, _ = run(capsys, "check-trace", str(trace), "--arch", "lpddr5x")
    assert code == 0 and "on 8 channel(s)" in out


def test_check_trace_reports_violations(capsys, pimb: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    run(capsys, "time", str(pimb), "--trace-csv", str(trace))
    lines = trace.read_text().splitlines()
    lines[3] = lines[3].replace("31,", "30,", 1)  # the first RD, one cycle early
    trace.write_text("\n".join(lines) + "\n")
    code, out, _ = run(capsys, "check-trace", str(trace))
    assert code == 1
    assert f"{trace}:4: tRCD_RD: RD (all banks row 0, cycle 30) is 30 cycles after line 3" in out
    assert out.strip().endswith("1 violation(s) of hbm3's timing rules")


def test_chrome_trace_is_well_formed(capsys, pimb: Path, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    code, _, _ = run(capsys, "time", str(pimb), "--chrome-trace", str(path), "--tiles", "9999",
                     "--all-channels", "--arch", "hbm2-pim:lane_bits=32")
    assert code == 0
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    assert names == {ch: f"channel {ch}" for ch in range(16)}
    slices = [e for e in events if e["ph"] == "X"]
    for e in slices:
        assert {"name", "ts", "dur", "pid", "tid", "args"} <= set(e)
        assert e["name"] in ("ACT", "PRE", "REF", "RD", "WR", "ld", "add", "st") and e["dur"] > 0
        assert e["name"] in (e["args"]["pim"], "ACT", "PRE", "REF", "RD", "WR")
    for ch in range(16):
        mine = sorted((e["ts"], e["dur"]) for e in slices if e["tid"] == ch)
        assert all(a[0] + a[1] <= b[0] + 1e-9 for a, b in zip(mine, mine[1:], strict=False))
    refs = [e for e in slices if e["name"] == "REF"]
    assert refs and all(e["dur"] == pytest.approx(0.350) for e in refs)  # tRFC 350 x 1 ns
    wide = load_arch("hbm2-pim:lane_bits=32")
    summary = time_launch(kernel(), wide, slots_for_tiles(9999, wide.geometry))
    assert len(slices) == 16 * sum(summary.commands.values())


def test_traces_are_cut_at_the_limit(capsys, pimb: Path, tmp_path: Path) -> None:
    csv_path, json_path = tmp_path / "t.csv", tmp_path / "t.json"
    code, _, err = run(capsys, "time", str(pimb), "--trace-csv", str(csv_path), "--chrome-trace",
                       str(json_path), "--tiles", "99999", "--trace-limit", "0.05")
    assert code == 0
    limit = int(0.05 * 2**20)
    assert csv_path.stat().st_size <= limit
    assert json_path.stat().st_size <= limit
    assert f"{csv_path}: trace cut after" in err and f"{json_path}: trace cut after" in err
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith(COMMENT) and lines[1] == NAMED
    assert all(len(line.split(",")) == 10 for line in lines[1:])
    assert f"cut after {len(lines) - 2} commands" in err
    events = json.loads(json_path.read_text())["traceEvents"]
    assert events[-1]["name"] == "trace cut here: size limit reached"
    code, _, _ = run(capsys, "check-trace", str(csv_path))
    assert code == 0


def test_user_preset_file(capsys, pimb: Path, tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "pimisa/presets/hbm3.toml").read_text()
    preset = tmp_path / "slow.toml"
    preset.write_text(text.replace("tRCD_RD = 31", "tRCD_RD = 60"))
    code, out, _ = run(capsys, "time", str(pimb), "--json", "--arch", str(preset))
    fast = time_launch(kernel(), load_arch("hbm3"))
    assert code == 0 and json.loads(out)["cycles"] > fast.cycles


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--tiles", "0"], 2, "--tiles must be at least 1"),
        (["--trace-limit", "0"], 2, "--trace-limit must be positive"),
        (["--tiles", "100000000"], 1, "beyond the 32768 rows of a PIM unit of hbm3"),
        (["--arch", "nope"], 1, "unknown architecture 'nope'"),
    ],
)
def test_time_errors(capsys, pimb: Path, argv: list[str], code: int, message: str) -> None:
    got, out, err = run(capsys, "time", str(pimb), *argv)
    assert got == code and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_kernels(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "time", str(tmp_path / "missing.pimb"))
    assert code == 1 and "cannot read" in err
    recs = np.array([encode("ld", {"rd": 0, "row": 0, "col": 0})], dtype=RECORD_DTYPE)
    recs["col"] = 40  # beyond hbm3's 32 columns
    bad = tmp_path / "bad.pimb"
    Program(recs).save(bad)
    code, _, err = run(capsys, "time", str(bad))
    assert code == 1 and err.strip() == "pimisa: error: command #0: ld: column 40 out of range " \
        "(0..31)"


def test_no_partial_trace_on_error(capsys, tmp_path: Path) -> None:
    recs = np.array([encode("ld", {"rd": 0, "row": 5, "col": 0})], dtype=RECORD_DTYPE)
    prog = tmp_path / "k.pimb"
    Program(recs).save(prog)
    out = tmp_path / "t.csv"
    code, _, _ = run(capsys, "time", str(prog), "--tiles", str(512 * 40000), "--trace-csv",
                     str(out))
    assert code == 1 and not out.exists() and list(tmp_path.iterdir()) == [prog]
    code, _, err = run(capsys, "time", str(prog), "--trace-csv", str(tmp_path / "no/t.csv"))
    assert code == 2 and "no directory" in err


def test_slots_for_tiles() -> None:
    g = load_arch("hbm3").geometry
    assert [slots_for_tiles(n, g) for n in (1, 512, 513, 1024)] == [1, 1, 2, 2]
    with pytest.raises(UsageError):
        slots_for_tiles(0, g)


def test_check_trace_errors(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "check-trace", str(tmp_path / "none.csv"))
    assert code == 1 and "cannot read" in err
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n0,0,-1,ACT,0\n")
    code, _, err = run(capsys, "check-trace", str(bad))
    assert code == 1 and f"{bad}:2: expected 6 fields" in err


def trace_of(capsys, pimb: Path, path: Path, arch: str, *extra: str) -> Path:
    """The trace of the kernel (assembled for the arch's lane width) timed on `arch`."""
    kernel(lane_bits=load_arch(arch).geometry.lane_bits).save(pimb)
    code, _, _ = run(capsys, "time", str(pimb), "--arch", arch, "--trace-csv", str(path), *extra)
    assert code == 0
    return path


@pytest.mark.parametrize("name", ["hbm3", "hbm2-pim", "lpddr5x"])
def test_check_trace_takes_the_preset_from_the_header(capsys, pimb: Path, tmp_path: Path,
                                                      name: str) -> None:
    trace = trace_of(capsys, pimb, tmp_path / "t.csv", name, "--tiles", "99999")
    header = TraceHeader.parse(trace.read_bytes().split(b"\n")[0], str(trace))
    assert header == TraceHeader(name, preset_fingerprint(load_arch(name)),
                                 load_arch(name).timing.tCK_ns)
    code, out, err = run(capsys, "check-trace", str(trace))
    assert code == 0 and err == "" and f"satisfy every timing rule of {name}" in out
    other = "hbm3" if name != "hbm3" else "hbm2-pim"
    code, out, err = run(capsys, "check-trace", str(trace), "--arch", other)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert err.strip() == f"pimisa: error: {trace}:1: the trace was scheduled with preset " \
        f"{name!r}, not {other!r}"


def test_header_recognises_a_user_preset(capsys, pimb: Path, tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "pimisa/presets/hbm3.toml").read_text()
    slow = tmp_path / "slow.toml"
    slow.write_text(text.replace("tRCD_RD = 31", "tRCD_RD = 60"))
    trace = trace_of(capsys, pimb, tmp_path / "t.csv", str(slow))
    code, out, _ = run(capsys, "check-trace", str(trace), "--arch", str(slow))
    assert code == 0 and "satisfy every timing rule of hbm3" in out
    # Same name, other numbers: the bundled hbm3 is not the preset the trace was scheduled with.
    for argv in ([], ["--arch", "hbm3"]):
        code, out, err = run(capsys, "check-trace", str(trace), *argv)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
        assert f"{trace}:1: the trace was scheduled with a preset 'hbm3' whose geometry or " \
            "timing differs from preset hbm3" in err
    renamed = tmp_path / "mine.toml"
    renamed.write_text(text.replace('name = "hbm3"', 'name = "mine"'))
    trace = trace_of(capsys, pimb, tmp_path / "m.csv", str(renamed))
    code, _, err = run(capsys, "check-trace", str(trace))
    assert code == 1 and err.strip() == (
        f"pimisa: error: {trace}:1: the trace names preset 'mine', which is not bundled "
        "(hbm2-pim, hbm3, lpddr5x): pass its .toml with --arch")
    code, out, _ = run(capsys, "check-trace", str(trace), "--arch", str(renamed))
    assert code == 0 and "satisfy every timing rule of mine" in out


def test_traces_without_the_header(capsys, pimb: Path, tmp_path: Path) -> None:
    """Older traces (no comment line) are checked against --arch, and need it."""
    trace = trace_of(capsys, pimb, tmp_path / "t.csv", "hbm2-pim")
    old = tmp_path / "old.csv"
    old.write_bytes(trace.read_bytes().split(b"\n", 1)[1])
    code, out, _ = run(capsys, "check-trace", str(old), "--arch", "hbm2-pim")
    assert code == 0 and "satisfy every timing rule of hbm2-pim" in out
    code, out, err = run(capsys, "check-trace", str(old))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "has no '# pimisa-trace' header naming its preset" in err and "--arch" in err


@pytest.mark.parametrize(
    ("first", "message"),
    [
        ("# a note", ":1: the only comment a trace may have is line 1, '# pimisa-trace {...}'"),
        ("# pimisa-trace {", ":1: the '# pimisa-trace' comment must be a JSON object"),
        ("# pimisa-trace []", ":1: the '# pimisa-trace' comment must be a JSON object"),
        ('# pimisa-trace {"version": 2}', ":1: trace header version 2 is not 1"),
        ('# pimisa-trace {"version": 1, "arch": "hbm3"}', ":1: the trace header needs 'arch'"),
        ('# pimisa-trace {"version": 1, "arch": "hbm3", "fingerprint": "0", "tCK_ns": true}',
         ":1: the trace header needs 'arch'"),
        ('# pimisa-trace {"version": 1, "arch": "hbm3", "fingerprint": "0", "tCK_ns": 1}',
         ":1: the trace was scheduled with a preset 'hbm3' whose geometry or timing differs"),
        ("# pimisa-trace \udcff", ":1: the '# pimisa-trace' comment must be a JSON object"),
        ("\udcff", ":1: the header must be exactly 'cycle,channel,bank,command,row,col' or "
         "'cycle,channel,bank,command,row,col,slot,index,pim,source'"),
    ],
)
def test_bad_trace_headers(capsys, tmp_path: Path, first: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(first.encode("utf-8", "surrogateescape") + b"\n" + HEADER.encode() + b"\n")
    code, out, err = run(capsys, "check-trace", str(bad))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert f"{bad}{message}" in err and "Traceback" not in err


def test_time_assembles_a_source(capsys, tmp_path: Path) -> None:
    """hbm2-pim by hand: ACT 0, RD 14; PRE 33 (tRAS), ACT 47, RD 61; OP 69 (ccd 8);
    PRE 80 (ACT 47 + tRAS), ACT 94 (tRP, tRC), WR 104 (tRCD_WR); end 104 + CWL 8 + nBL 2."""
    src = tmp_path / "t.pimasm"
    src.write_text("ld v0, [0, 0]\nld v1, [1, 0]\nadd v2, v0, v1\nst v2, [0, 1]\n")
    code, out, _ = run(capsys, "time", str(src), "--arch", "hbm2-pim", "--json")
    assert code == 0 and json.loads(out)["cycles"] == 114
    src.write_text("ld v0, [0, 99]\n")
    code, _, err = run(capsys, "time", str(src))
    assert code == 1 and err.startswith(f"{src}:1:12: error: column 99 out of range")


SOURCE = "ld v0, [0, 0]\nld v1, [1, 0]\nfadd v2, v0, v1\nbarrier\nst v2, [0, 1]\n"


EXPECTED = [("ACT", 0, "ld", 1), ("RD", 0, "ld", 1), ("PRE", 1, "ld", 2), ("ACT", 1, "ld", 2),
            ("RD", 1, "ld", 2), ("OP", 2, "fadd", 3), ("PRE", 3, "barrier", 4),
            ("ACT", 4, "st", 5), ("WR", 4, "st", 5)]  # command, index, mnemonic, line


def test_csv_names_each_command(capsys, tmp_path: Path) -> None:
    """The row switch's PRE and ACT go to the second ld, the barrier's PRE to the barrier."""
    src = tmp_path / "t.pimasm"
    src.write_text(SOURCE)
    trace = tmp_path / "t.csv"
    code, _, _ = run(capsys, "time", str(src), "--trace-csv", str(trace), "--tiles", "1024")
    assert code == 0
    rows = read_csv(trace)
    assert ",".join(rows[0]) == NAMED
    got = [(r[3], int(r[7]), r[8], r[9]) for r in rows[1:] if r[6] == "0"]
    assert got == [(c, i, p, f"{src}:{line}") for c, i, p, line in EXPECTED]
    # Slot 1 (rows 5..9) first closes the row slot 0's st left open: its first ld's PRE.
    second = [(r[3], int(r[7])) for r in rows[1:] if r[6] == "1"]
    assert second == [("PRE", 0)] + [(c, i) for c, i, _, _ in EXPECTED]
    code, out, _ = run(capsys, "check-trace", str(trace))
    assert code == 0 and "satisfy every timing rule of hbm3" in out


def test_chrome_trace_names_each_command(capsys, tmp_path: Path) -> None:
    src = tmp_path / "t.pimasm"
    src.write_text(SOURCE)
    path = tmp_path / "t.json"
    code, _, _ = run(capsys, "time", str(src), "--chrome-trace", str(path))
    assert code == 0
    doc = json.loads(path.read_text())
    assert doc["otherData"]["fingerprint"] == preset_fingerprint(load_arch("hbm3"))
    slices = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    got = [(e["name"], e["args"]["index"], e["args"]["pim"], e["args"]["source"],
            e["args"]["slot"]) for e in slices]
    assert got == [("fadd" if c == "OP" else c, i, p, f"{src}:{line}", 0)
                   for c, i, p, line in EXPECTED]


def test_trace_without_a_source_map(capsys, pimb: Path, tmp_path: Path) -> None:
    """A .pimb without a source map: empty source fields, mnemonics still named."""
    trace = trace_of(capsys, pimb, tmp_path / "t.csv", "hbm3")
    rows = read_csv(trace)
    assert ",".join(rows[0]) == NAMED
    assert {r[8] for r in rows[1:]} == {"ld", "add", "st"} and {r[9] for r in rows[1:]} == {""}
    op = next(r for r in rows[1:] if r[3] == "OP")
    assert op[7:9] == [str(3 * 32), "add"]


def test_half_bank_commands_in_traces(capsys, tmp_path: Path) -> None:
    """Bank -2 / -3 (an all-bank command to the even / odd banks of two-bank units) counts on
    those banks only; other presets refuse them."""
    bad = tmp_path / "h.csv"
    bad.write_text("\n".join([HEADER, "0,0,-2,ACT,0,-1", "13,0,0,RD,0,0", "14,0,1,RD,0,0",
                              "40,0,-3,ACT,5,-1", "54,0,-3,RD,5,3"]) + "\n")
    code, out, err = run(capsys, "check-trace", str(bad), "--arch", "hbm2-pim")
    assert code == 1 and err == ""
    assert f"{bad}:3: tRCD_RD: RD (bank 0 row 0, cycle 13) is 13 cycles after line 2: ACT " \
        "(even banks row 0, cycle 0)" in out
    assert f"{bad}:4: row-open: RD (bank 1 row 0, cycle 14) but the bank was never opened" in out
    assert ":6:" not in out  # the odd-bank RD is 14 cycles after its ACT
    code, out, err = run(capsys, "check-trace", str(bad), "--arch", "hbm3")
    assert code == 1 and out == "" and err.strip() == f"pimisa: error: {bad}:2: bank outside " \
        "-1..15 for hbm3"


def test_old_six_column_traces_still_read(capsys, pimb: Path, tmp_path: Path) -> None:
    trace = trace_of(capsys, pimb, tmp_path / "t.csv", "hbm3", "--tiles", "2000")
    lines = trace.read_text().splitlines()
    six = tmp_path / "six.csv"
    six.write_text("\n".join([lines[0], HEADER] + [",".join(x.split(",")[:6]) for x in lines[2:]])
                   + "\n")
    code, out, _ = run(capsys, "check-trace", str(six))
    assert code == 0 and f"{len(lines) - 2} commands on 1 channel(s)" in out
    code, out, _ = run(capsys, "check-trace", str(trace))
    assert code == 0 and f"{len(lines) - 2} commands on 1 channel(s)" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0,0,-1,ACT,0,-1,0,0", ":3: expected 10 fields (cycle,channel,bank,command,row,col,"
         "slot,index,pim,source), got 8"),
        ("0,0,-1,ACT,x,-1,0,0,ld,a.pimasm:1", ":3: fields other than the command must be"),
        ("0,0,-1,NOP,0,-1,0,0,ld,a.pimasm:1", ":3: unknown command 'NOP'"),
        ('0,0,-1,ACT,0,-1,0,0,ld,"a.pim', ":3: "),
    ],
)
def test_bad_named_lines(capsys, tmp_path: Path, line: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    head = TraceHeader.of(load_arch("hbm3")).to_line().decode()
    bad.write_text(head + NAMED + "\n" + line + "\n")
    code, out, err = run(capsys, "check-trace", str(bad))
    if message == ":3: ":  # an unterminated quote in the source column: not check-trace's
        assert code == 0, err
        with pytest.raises(InputError, match=r"bad\.csv:3: "):
            parse_names(bad.read_bytes(), str(bad))
        return
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert f"{bad}{message}" in err and "Traceback" not in err


MNEMONICS = sorted({ins.mnemonic for ins in TABLE})


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_csv_round_trip(data) -> None:
    """CsvWriter -> parse_trace_csv / parse_names gives back every field (sources quoted when
    they hold a comma or quote; CR and LF written as '?')."""
    n = data.draw(st.integers(1, 4), label="records")
    names = CommandNames(data.draw(st.lists(st.sampled_from(MNEMONICS), min_size=n, max_size=n)),
                         data.draw(st.lists(st.text(max_size=12), min_size=n, max_size=n)))
    count = data.draw(st.integers(0, 30), label="commands")
    cmds = np.zeros(count, CMD_DTYPE)
    for name, low, high in (("cycle", 0, 2**40), ("row", -1, 2**31 - 1), ("bank", -3, 255),
                            ("cmd", 0, 5), ("col", 0, 255)):
        cmds[name] = data.draw(st.lists(st.integers(low, high), min_size=count,
                                        max_size=count), label=name)
    index = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count)),
                     np.int64)
    slot = np.array(data.draw(st.lists(st.integers(0, 2**40), min_size=count, max_size=count)),
                    np.int64)
    channels = data.draw(st.lists(st.integers(0, 1023), min_size=1, max_size=3))
    split = data.draw(st.integers(0, count))
    arch = load_arch(data.draw(st.sampled_from(["hbm3", "hbm2-pim", "lpddr5x"])))
    buf = io.BytesIO()
    writer = CsvWriter(buf, channels, 1 << 40, arch, names)
    for part in (slice(0, split), slice(split, count)):
        writer.write(cmds[part], index[part], slot[part])
    text = buf.getvalue()
    trace = parse_trace_csv(text)
    assert trace.header == TraceHeader.of(arch) and trace.first_line == 3
    k = cmds["cmd"].astype(np.int64)
    parts = [(0, split), (split, count)]
    order = np.concatenate([np.arange(a, b) for a, b in parts for _ in channels]).astype(int)
    chans = np.concatenate([[c] * (b - a) for a, b in parts for c in channels]).astype(np.int64)
    has_row, has_col = np.isin(k, (0, 3, 4)), np.isin(k, (3, 4))
    wide = {name: cmds[name].astype(np.int64) for name in ("cycle", "bank", "row", "col")}
    want = {"cycle": wide["cycle"], "bank": wide["bank"], "cmd": k,
            "row": np.where(has_row, wide["row"], -1), "col": np.where(has_col, wide["col"], -1)}
    for field, values in want.items():
        np.testing.assert_array_equal(getattr(trace, field), values[order])
    np.testing.assert_array_equal(trace.channel, chans)
    got = parse_names(text)
    assert got is not None
    np.testing.assert_array_equal(got.slot, slot[order])
    np.testing.assert_array_equal(got.index, index[order])
    assert got.pim == [names.pim[i] for i in index[order]]
    clean = [s.replace("\r", "?").replace("\n", "?") for s in names.source]
    assert got.source == [clean[i] for i in index[order]]
