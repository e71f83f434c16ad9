"""docs/api.md: every Python example runs; examples/: every documented fuzz command passes, and
the bf16 reference catches a broken rounding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pimisa.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "api.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)
COMMANDS = re.findall(r"\| `(pimisa fuzz [^`]+)` \|", DOC)


def test_the_doc_has_examples_and_commands():
    assert len(BLOCKS) >= 5 and len(COMMANDS) == 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_api_doc_example_runs(code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/api.md", "exec"), {"__name__": "api_doc"})


@pytest.mark.parametrize("command", COMMANDS)
def test_example_fuzz_command_passes(command, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    args = command.split()[1:] + ["--max-examples", "8", "--seed", "3"]
    assert main(args) == 0, capsys.readouterr().out
    assert "examples matched" in capsys.readouterr().out


def test_bf16_reference_catches_round_half_up(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    broken = (ROOT / "examples" / "bf16.pimasm").read_text().replace(
        "andi v1, v1, 1 ", "andi v1, v1, 0 ")
    assert broken != (ROOT / "examples" / "bf16.pimasm").read_text()
    (tmp_path / "bf16.pimasm").write_text(broken)
    assert main(["fuzz", str(tmp_path / "bf16.pimasm"), "--ref",
                 "examples/bf16_ref.py:to_bf16", "--max-examples", "50", "--seed", "1"]) == 1
    assert "bf16.pimasm:21:5" in capsys.readouterr().out  # the st of the wrong word


def test_api_quantize_with_a_kernel_of_ones_own(tmp_path):
    import numpy as np

    from pimisa import api
    from pimisa.errors import UsageError
    from pimisa.kernels import resolve

    src = resolve("mxfp8_e4m3_row")
    (tmp_path / "ocp_common.inc").write_text((src.parent / "ocp_common.inc").read_text())
    bad = tmp_path / "bad.pimasm"
    bad.write_text(src.read_text().replace(".equ MAXCODE, 0x7e", ".equ MAXCODE, 0x7d"))
    x = np.zeros((4, 40), np.float32)
    x[2, 3] = 448.0
    good = api.quantize(x, fmt="mxfp8_e4m3", direction="row", golden=True)
    assert good.golden_problem() is None
    result = api.quantize(x, fmt="mxfp8_e4m3", direction="row", kernel=bad, golden=True)
    assert "1 of 8 mxfp8_e4m3 row blocks" in result.golden_problem()
    assert result.dequantized[2, 3] == 416.0  # the broken kernel's own output
    with pytest.raises(UsageError, match="no bf16 kernel"):
        api.quantize(x, fmt="mxint8", direction="row", hp="bf16")
    with pytest.raises(UsageError):
        api.quantize(x, fmt="mx7", direction="row")
