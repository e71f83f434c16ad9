"""The adversarial CLI campaign (scripts/fuzz_cli.py), quick version: no bad outcome."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz_cli.py"


@pytest.fixture(scope="module")
def fuzz_cli():
    spec = importlib.util.spec_from_file_location("fuzz_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_cli"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_quick_campaign_has_no_bad_outcome(fuzz_cli) -> None:
    counts, bad = fuzz_cli.campaign(cases=12, seed=7, timeout=120)
    assert sum(counts.values()) == 12
    assert bad == {}, {k: [(" ".join(c.argv), d) for c, d in v] for k, v in bad.items()}


def test_classifier_sees_leftovers_and_destroyed_inputs(fuzz_cli) -> None:
    clean = fuzz_cli.Case("t", ["asm", "k.pimasm", "-o", "k.pimb"], {"k.pimasm": b"nop\n"},
                          ("k.pimb",))
    assert fuzz_cli.run_case(clean, 120)[0] == "ok"
    unexpected = fuzz_cli.Case("t", ["asm", "k.pimasm", "-o", "k.pimb"], {"k.pimasm": b"nop\n"})
    assert fuzz_cli.run_case(unexpected, 120) == ("leftover", "k.pimb")
    overwrite = fuzz_cli.Case("t", ["asm", "k.pimasm", "-o", "x.pimb"],
                              {"k.pimasm": b"nop\n", "x.pimb": b"old"}, ("x.pimb",))
    assert fuzz_cli.run_case(overwrite, 120) == ("destroyed", "x.pimb")
