"""Per-source-line cost: attribution of the scheduler's DRAM commands to PIM commands (against
prefix runs of the reference scheduler), exact sums, per-line and per-macro folding, the CLI."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.asm import assemble
from pimisa.cli import main
from pimisa.dram import time_launch
from pimisa.dram.reference import ReferenceScheduler
from pimisa.isa import BY_MNEMONIC
from pimisa.linecost import line_costs, per_command
from pimisa.program import KernelMeta, Program, Region
from pimisa.testing import timing_streams

ARCH = load_arch("hbm3")
TILE_ROWS = 3


def _program(records: np.ndarray) -> Program:
    return Program(records, KernelMeta(name="t", regions=[Region("t", "input", 0, TILE_ROWS)]))


def _oracle(records: np.ndarray, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """DRAM commands and ACTs per PIM command from prefix runs of the reference scheduler."""
    steps = np.concatenate([records] * slots)
    for s in range(slots):
        rows = steps["row"][s * len(records):(s + 1) * len(records)]
        mem = np.isin(records["op"], [BY_MNEMONIC["ld"].opcode, BY_MNEMONIC["st"].opcode])
        rows[mem] += s * TILE_ROWS
    dram = np.zeros(len(records), np.int64)
    acts = np.zeros(len(records), np.int64)
    before = []
    for k in range(len(steps) + 1):
        ref = ReferenceScheduler(ARCH)
        ref.run(steps[:k], 1, TILE_ROWS)
        before.append(ref.commands)
    for k in range(len(steps)):
        new = before[k + 1][len(before[k]):]
        dram[k % len(records)] += len(new)
        acts[k % len(records)] += sum(c[2] == "ACT" for c in new)
    return dram, acts


@settings(max_examples=25)
@given(timing_streams(ARCH.geometry, max_size=25, tile_rows=TILE_ROWS), st.integers(1, 3))
def test_attribution_matches_prefix_runs_and_sums_exactly(records, slots):
    records = records.copy()
    records["op"][records["op"] == BY_MNEMONIC["barrier"].opcode] = BY_MNEMONIC["nop"].opcode
    dram, cycles, acts, total = per_command(_program(records), ARCH, slots)
    want_dram, want_acts = _oracle(records, slots)
    np.testing.assert_array_equal(dram, want_dram)
    np.testing.assert_array_equal(acts, want_acts)
    assert cycles.sum() == total == time_launch(_program(records), ARCH, slots).cycles
    assert (cycles >= 0).all()


@settings(max_examples=25)
@given(timing_streams(ARCH.geometry, max_size=25, tile_rows=TILE_ROWS), st.integers(1, 3))
def test_barriers_keep_the_sums(records, slots):
    dram, cycles, _, total = per_command(_program(records), ARCH, slots)
    summary = time_launch(_program(records), ARCH, slots)
    assert cycles.sum() == total == summary.cycles
    assert dram.sum() == sum(summary.commands.values())


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
