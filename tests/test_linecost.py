"""Per-source-line cost: attribution of the scheduler's DRAM commands to PIM commands (against
prefix runs of the reference scheduler), exact sums, per-line and per-macro folding, command
names, the CLI."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.asm import assemble
from pimisa.cli import main
from pimisa.dram import time_launch
from pimisa.dram.core import CMD_NAMES
from pimisa.dram.reference import ReferenceScheduler
from pimisa.isa import BY_MNEMONIC
from pimisa.linecost import AttributedRun, CommandNames, command_costs, line_costs
from pimisa.program import KernelMeta, Program, Region
from pimisa.testing import timing_streams

ARCH = load_arch("hbm3")
TILE_ROWS = 3


def _program(records: np.ndarray) -> Program:
    return Program(records, KernelMeta(name="t", regions=[Region("t", "input", 0, TILE_ROWS)]))


def _owners(records: np.ndarray, slots: int) -> list[int]:
    """The launch position (slot x n + index) of the PIM command each DRAM command was issued
    for, from prefix runs of the reference scheduler: what step k added is step k's."""
    steps = np.concatenate([records] * slots)
    mem = np.isin(records["op"], [BY_MNEMONIC["ld"].opcode, BY_MNEMONIC["st"].opcode])
    for s in range(slots):
        steps["row"][s * len(records):(s + 1) * len(records)][mem] += s * TILE_ROWS
    owners: list[int] = []
    for k in range(len(steps)):
        ref = ReferenceScheduler(ARCH)
        ref.run(steps[:k + 1], 1, TILE_ROWS)
        owners += [k] * (len(ref.commands) - len(owners))
    return owners


@settings(max_examples=25, deadline=None)
@given(timing_streams(ARCH.geometry, max_size=25, tile_rows=TILE_ROWS), st.integers(1, 3))
def test_each_dram_command_goes_to_the_pim_command_that_issued_it(records, slots):
    """Exactly, except that a refresh between two barriers goes to the first one."""
    n = len(records)
    got: list[int] = []
    codes: list[int] = []
    for cmds, index, slot in AttributedRun(_program(records), ARCH, slots).chunks():
        assert ((0 <= index) & (index < n) & (0 <= slot) & (slot < slots)).all()
        got += (slot * n + index).tolist()
        codes += cmds["cmd"].tolist()
    want = _owners(records, slots)
    assert len(got) == len(want)
    barrier = records["op"] == BY_MNEMONIC["barrier"].opcode
    for code, mine, theirs in zip(codes, got, want, strict=True):
        if mine != theirs:
            assert CMD_NAMES[code] == "REF" and mine < theirs
            assert all(barrier[k % n] for k in range(mine, theirs))


@settings(max_examples=25, deadline=None)
@given(timing_streams(ARCH.geometry, max_size=25, tile_rows=TILE_ROWS), st.integers(1, 3))
def test_command_costs_sum_exactly(records, slots):
    per = command_costs(_program(records), ARCH, slots)
    summary = time_launch(_program(records), ARCH, slots)
    assert per.command_cycles.sum() == per.cycles == summary.cycles
    assert per.dram_commands.sum() == sum(summary.commands.values())
    assert per.row_misses.sum() == summary.commands["ACT"]
    assert (per.command_cycles >= 0).all() and (per.stalls >= 0).all()


def test_command_names():
    result = assemble("ld v0, [0, 0]\ncmp.gtu m0, v0, v0\n  mov v1, v0 ?m0\nbarrier\n", "n.pimasm")
    names = CommandNames.of(result.program)
    assert names.pim == ["ld", "cmp.gtu", "mov", "barrier"]
    assert names.source == ["n.pimasm:1", "n.pimasm:2", "n.pimasm:3", "n.pimasm:4"]
    bare = _program(result.program.records)
    assert CommandNames.of(bare).source == [""] * 4


SOURCE = """.input A, rows=0:2
.macro two r
    ld v0, [r, 0]
    ld v1, [r, 1]
.endm
.rept 3
    two 0
.endr
two 1
fadd v2, v0, v1
"""


def test_lines_and_macro_invocations():
    result = assemble(SOURCE, "k.pimasm")
    program = result.program
    costs = line_costs(program, ARCH, 2, result.sources, result.record_stacks, result.stacks)
    assert sum(c.cycles for c in costs.lines) == costs.cycles
    assert costs.cycles == time_launch(program, ARCH, 2).cycles
    by_line = {c.line: c for c in costs.lines}
    assert set(by_line) == {3, 4, 10}
    assert by_line[3].commands == 4 * 2 and by_line[10].commands == 2
    assert by_line[3].source.strip() == "ld v0, [r, 0]"
    calls = {c.line: c for c in costs.macros}
    assert set(calls) == {7, 9} and calls[7].macro == "two"
    assert calls[7].commands == 3 * 2 * 2 and calls[9].commands == 2 * 2
    assert calls[7].cycles + calls[9].cycles + by_line[10].cycles == costs.cycles
    assert [c.cycles for c in costs.lines] == sorted((c.cycles for c in costs.lines),
                                                     reverse=True)


def test_cli_by_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.pimasm").write_text(SOURCE)
    assert main(["time", "k.pimasm", "--by-line", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sum(c["cycles"] for c in doc["lines"]) == doc["cycles"]
    assert {"file", "line", "source", "commands", "cycles", "row_misses"} <= set(doc["lines"][0])
    assert main(["time", "k.pimasm", "--by-line", "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert "cycles by source line" in out and "two (call)" in out
    assert main(["time", "k.pimasm", "--top", "1"]) == 2
