"""Kernel parameters: `.default NAME, value` takes a define's value; `.equ` stays a constant;
-D on asm, run and time; defines through the Python API."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.asm import assemble, assemble_file, assemble_source
from pimisa.cli import main
from pimisa.errors import SourceError, UsageError
from pimisa.kernels import load

SOURCE = ".default N, 3\n.equ C, 2\nli v0, N * C\n"


def imm(program) -> int:
    return int(program.records["imm"][0])


def test_default_value_and_override():
    assert imm(assemble_source(SOURCE)) == 6
    assert imm(assemble_source(SOURCE, defines={"N": 5})) == 10


def test_defining_a_constant_is_an_error_at_the_equ():
    result = assemble(SOURCE, defines={"C": 7})
    assert result.program is None
    assert "<string>:2:6: error: 'C' is a constant (.equ)" in result.rendered
    assert "'.default C, value'" in result.rendered


def test_redefinitions_stay_errors():
    for text in (".default N, 1\n.default N, 2\n", ".default N, 1\n.equ N, 2\n"):
        for defines in (None, {"N": 4}):
            result = assemble(text, defines=defines)
            assert "2:" in result.rendered and "redefinition of 'N'" in result.rendered, \
                (text, defines)
    result = assemble(".equ N, 1\n.default N, 2\n")
    assert "2:10: error: redefinition of 'N'" in result.rendered
    assert "1:6: note: previous definition" in result.rendered


def test_default_only_at_top_level_and_well_formed():
    result = assemble(".rept 2\n.default N, 1\n.endr\n")
    assert "'.default' is only allowed at the top level" in result.rendered
    result = assemble(".macro m\n.default N, 1\n.endm\nm\n")
    assert "'.default' is only allowed at the top level" in result.rendered
    assert "expected '.default NAME, value'" in assemble(".default 3, 1\n").rendered


def test_undeclared_define_is_a_global_symbol():
    assert imm(assemble_source("li v0, K\n", defines={"K": 9})) == 9


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "k.pimasm"
    path.write_text(".output R, rows=0:1\n.default VALUE, 3\nli v0, VALUE\nst v0, [0, 0]\n")
    return path


def test_file_api_and_loader(kernel):
    assert imm(assemble_file(kernel, defines={"VALUE": 4})) == 4
    assert imm(load(str(kernel), None, {"VALUE": 8})) == 8
    assemble_file(kernel).save("k.pimb")
    with pytest.raises(UsageError, match="assembled .pimb"):
        load("k.pimb", None, {"VALUE": 1})
    with pytest.raises(SourceError, match="'X' is a constant"):
        assemble_source(".equ X, 1\n", defines={"X": 2})


def test_run_and_time_take_defines(kernel, capsys):
    assert main(["run", str(kernel), "-D", "VALUE=0x2a", "--out", "r.npz"]) == 0
    assert int(np.load("r.npz")["R"][0, 0]) == 42
    assert main(["time", str(kernel), "-D", "VALUE=1", "--json"]) == 0
    capsys.readouterr()
    assert main(["run", str(kernel), "-D", "VALUE"]) == 2
    assert "expected NAME=INTEGER" in capsys.readouterr().err
