"""`pimisa debug`: stepping, breakpoints, until, watches, printing registers, masks and memory,
stopping at a fault; scripted through the CLI and the Python API."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.asm import assemble
from pimisa.cli import main
from pimisa.debugger import DebugError, Debugger
from pimisa.emulator import launch
from pimisa.emulator.launch import prepare

KERNEL = Path(__file__).parent / "data" / "fuzz" / "axpb.pimasm"
GEOMETRY = load_arch("hbm3").geometry


def _debugger(text: str, inputs: dict) -> tuple[Debugger, io.StringIO]:
    result = assemble(text, "k.pimasm")
    machine, _ = prepare(result.program, GEOMETRY, inputs)
    out = io.StringIO()
    return Debugger(result.program, machine, result.sources, out), out


X = {"X": np.arange(256, dtype=np.float32).reshape(1, 256)}


def test_break_step_print_and_the_final_state_equals_a_run():
    dbg, out = _debugger(KERNEL.read_text(), X)
    for line in ("break 9", "continue", "print v0 float", "step 2", "print [1, 0] float",
                 "print v0 int unit 3", "print m0", "continue"):
        dbg.execute(line)
    text = out.getvalue().splitlines()
    assert text[1] == "#4 s0 k.pimasm:9  fadd v0, v0, v2  | fadd v0, v0, v2"
    assert text[2] == "v0 unit 0 = [0.0 2.0 4.0 6.0 8.0 10.0 12.0 14.0]"
    assert text[3].startswith("#6 s0 k.pimasm:7  ld v0, [0, 1]")
    assert text[4] == "[1, 0] slot 0 unit 0 = [1.0 3.0 5.0 7.0 9.0 11.0 13.0 15.0]"
    assert text[5] == "v0 unit 3 = [" + " ".join(["1065353216"] * 8) + "]"  # 2 * 0 + 1.0
    assert text[6] == "m0 unit 0 = 0x0 (lanes 0..7: 00000000)"
    while not dbg.stepper.done:
        dbg.execute("continue")
    ran = launch(dbg.program, GEOMETRY, X)
    np.testing.assert_array_equal(dbg.stepper.machine.mem, ran.machine.mem)
    assert out.getvalue().rstrip().endswith("commands executed (130 x 1 slots)")


def test_until_and_watch():
    dbg, out = _debugger(KERNEL.read_text(), X)
    dbg.execute("until #10")
    assert out.getvalue().splitlines()[-1].startswith("#10 s0 k.pimasm:7  ld v0, [0, 2]")
    dbg.execute("until 8")
    assert out.getvalue().splitlines()[-1].startswith("#11 s0 k.pimasm:8")
    dbg.execute("watch v2")
    dbg.execute("continue")  # v2 never changes again: runs to the end
    assert "finished" in out.getvalue().splitlines()[-1]


def test_mask_watch_and_fault():
    text = "mset m1, 0b101\nli v3, 7 ?m1\nld v0, [5, 0]\n"  # no regions: one row per tile
    dbg, out = _debugger(text, {})
    dbg.execute("watch m1")
    dbg.execute("continue")
    dbg.execute("step")
    dbg.execute("print v3 uint")
    dbg.execute("continue")
    lines = out.getvalue().splitlines()
    assert lines[1] == "watch m1 unit 0 changed: 0x5 (lanes 0..7: 10100000)"
    assert lines[4] == "v3 unit 0 = [7 0 7 0 0 0 0 0]"
    assert lines[5].startswith("fault: k.pimasm:3:1") and "row" in lines[5]


@pytest.mark.parametrize("bad", ["print v99", "print q1", "step x", "until", "frob",
                                 "print [9999, 0]", "print v0 unit 100000", "break x"])
def test_bad_commands_raise(bad):
    dbg, _ = _debugger(KERNEL.read_text(), X)
    with pytest.raises(DebugError):
        dbg.execute(bad)


def test_cli_script(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("x.npy", X["X"])
    Path("s.dbg").write_text("; a comment\nbreak 10\ncontinue\nprint v0 float\nquit\nstep\n")
    assert main(["debug", str(KERNEL), "--in", "X=x.npy", "--script", "s.dbg"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("#0 s0 ") and out[-1] == "v0 unit 0 = [1.0 3.0 5.0 7.0 9.0 11.0 " \
        "13.0 15.0]"
    Path("bad.dbg").write_text("step\nprint v99\n")
    assert main(["debug", str(KERNEL), "--in", "X=x.npy", "--script", "bad.dbg"]) == 1
    assert "bad.dbg:2: v99 out of range" in capsys.readouterr().err
    assert main(["debug", str(KERNEL), "--in", "X=x.npy", "--script", "missing.dbg"]) == 1
