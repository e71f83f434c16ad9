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
