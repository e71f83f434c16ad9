"""What a fuzz failure says, for every kind of kernel: broken copies of the bundled MX9/MX6/MX4,
OCP and BF16 kernels and a raw-layout kernel must be reported with the right input element,
its expected and actual value and fields, and the st that really wrote the wrong word (a
later st whose mask leaves the lane out does not count), with its macro call sites."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pimisa import api
from pimisa.arch import load_arch
from pimisa.asm import assemble_path
from pimisa.cli import main
from pimisa.kernels import resolve
from pimisa.mx.fuzzing import (
    add_expansion_notes,
    check_launch,
    check_outputs,
    fuzz_arch,
    fuzz_kernel,
)
from pimisa.mx.quantize import load_quant_kernel
from pimisa.references import LoadedReference

ARCH = fuzz_arch(load_arch("hbm3"))  # 32 columns, 8 lanes of 32 bits
STORE_WORD = "    st reg, [HP_ROWS + (w) / COLS, (w) % COLS]"  # ocp_common.inc's one st


def _copy(tmp_path: Path, kernel: str, edit: tuple[str, str] | None = None,
          extra: list[str] | None = None) -> tuple[Path, int]:
    """A copy of a bundled kernel (and its includes) with one text replaced and lines added:
    (its path, the line of the last added line)."""
    src = resolve(kernel)
    for inc in src.parent.glob("*.inc"):
        shutil.copy(inc, tmp_path / inc.name)
    text = src.read_text()
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1])
    lines = text.splitlines() + (extra or [])
    path = tmp_path / f"broken_{kernel}.pimasm"
    path.write_text("\n".join(lines) + "\n")
    return path, len(lines)


def _line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def _explained(path: Path, failure) -> None:
    add_expansion_notes(failure, assemble_path(path, ARCH))


# MXFP8 E4M3 with the saturation bound one code too low (0x7d instead of 0x7e), and a stray
# store of 0x12345678 to word 9 (block 1, elements 4..7) under a mask that holds lane 1 only.
MAXCODE = (".equ MAXCODE, 0x7e", ".equ MAXCODE, 0x7d")
STRAY = ["mset m1, 0b10", "li v15, 0x12345678", "st v15, [HP_ROWS + 9 / COLS, 9 % COLS] ?m1"]


@pytest.fixture
def ocp_row(tmp_path):
    path, stray_line = _copy(tmp_path, "mxfp8_e4m3_row", MAXCODE, STRAY)
    return path, stray_line, load_quant_kernel(str(path), ARCH)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_ocp_element_value_fields_and_store(ocp_row, backend):
    path, _, program = ocp_row
    x = np.zeros((3, 20), np.float32)
    x[1, 7] = 448.0  # E4M3's largest normal: code 0x7e, scale 2^0
    failure = check_launch(program, ARCH, x, "mxfp8_e4m3", "row", backend)
    assert failure is not None and failure.block == (1, 0) and failure.element == (1, 7)
    assert failure.input == "W[1, 7] = 448.0 (0x43e00000)"
    assert failure.expected == "448.0 (0x43e00000): code 0x7e, scale 0x7f (2^0)"
    assert failure.got == "416.0 (0x43d00000): code 0x7d, scale 0x7f (2^0)"
    [word] = failure.words  # the scale is right: only the code's word is named
    assert word.what == "the code of W[1, 7]"
    assert "lane 0: region 'Q' word 9 " in word.where  # block 1, bits 56..63 of its stream
    assert word.where.endswith("= 0x7d000000, expected 0x7e000000")
    inc = path.parent / "ocp_common.inc"
    # the stray st to word 9 comes later, but its mask m1 leaves lane 0 out
    assert word.source == f"{inc}:{_line_of(inc, STORE_WORD)}:5"
    _explained(path, failure)
    assert word.text.strip() == STORE_WORD.strip()
    assert word.notes[0].startswith("in expansion of macro 'store_word' from ")
    assert word.notes[-1] == f"in expansion of macro 'quantize_tile' from {path}:16:1"
    text = failure.render()
    assert "input     W[1, 7] = 448.0" in text and "quantize_tile" in text


def test_ocp_masked_store_into_its_lane_is_named(ocp_row):
    path, stray_line, program = ocp_row
    x = np.zeros((3, 70), np.float32)  # lanes 0..2; all-zero blocks: codes 0, scale 0
    failure = check_launch(program, ARCH, x, "mxfp8_e4m3", "row", "numpy")
    assert failure is not None and failure.block == (1, 1)
    assert failure.element == (1, 36)  # element 4 of block 1 of lane 1: byte 0x78
    assert failure.got.endswith("code 0x78, scale 0x00 (2^-127)")
    assert failure.words[0].what == "the code of W[1, 36]"
    assert failure.words[0].where.endswith("= 0x12345678, expected 0x00000000")
    assert failure.words[0].source == f"{path}:{stray_line}:1"


def test_ocp_column_kernel_wrong_element(tmp_path):
    path, _ = _copy(tmp_path, "mxfp8_e4m3_col", MAXCODE)
    program = load_quant_kernel(str(path), ARCH)
    x = np.zeros((40, 9), np.float32)
    x[1, 7] = -448.0
    failure = check_launch(program, ARCH, x, "mxfp8_e4m3", "col")
    assert failure.block == (0, 7) and failure.element == (1, 7)
    assert failure.expected.startswith("-448.0 (0xc3e00000): code 0xfe")
    assert failure.got.startswith("-416.0 (0xc3d00000): code 0xfd")
    # column block 7 of lane 0, element 1 (row 1): bits 7 * 256 + 8 .. of the lane's words
    assert "lane 0: region 'Q' word 56 " in failure.words[0].where


def test_mx_shared_exponent_under_a_mask(tmp_path):
    # mx9_col with E = 1 stored over block 1 of lane 2 (tensor column 33) under mask 0b100
    path, line = _copy(tmp_path, "mx9_col", None,
                       ["mset m1, 0b100", "li v15, 1", "st v15, [HP_ROWS, 5] ?m1"])
    program = load_quant_kernel(str(path), ARCH)
    assert check_launch(program, ARCH, np.ones((16, 30), np.float32), "mx9", "col") is None
    x = np.zeros((16, 40), np.float32)
    failure = check_launch(program, ARCH, x, "mx9", "col")
    assert failure is not None and failure.block == (0, 33)
    assert failure.element is None  # zero codes decode to 0 under any exponent
    assert failure.input.startswith("(no element differs")
    [word] = failure.words
    assert word.what == "the shared exponent"
    assert "lane 2: region 'Q' word 5 " in word.where and word.where.endswith("= 0x00000001, "
                                                                             "expected 0x00000000")
    assert word.source == f"{path}:{line}:1"


def test_mx_element_code_from_the_fuzzer(tmp_path):
    # mx6_row storing a constant over word 1 of block 1 (codes of elements 3..6)
    path, line = _copy(tmp_path, "mx6_row", None, ["li v15, 0x5A5A5A5A", "st v15, [HP_ROWS, 4]"])
    program = load_quant_kernel(str(path), ARCH)
    failure = fuzz_kernel(program, "mx6", "row", ARCH, "c", max_examples=30, seed=3).failure
    assert failure is not None and failure.block[0] % 16 == 1
    r, c = failure.element
    assert r == failure.block[0] and 3 <= c % 16 <= 6  # an element whose code is in word 1
    assert failure.input.startswith(f"W[{r}, {c}] = ")
    assert failure.words[0].what.startswith(f"the code of W[{r}, {c}]")
    assert "word 4 " in failure.words[0].where and "= 0x5a5a5a5a" in failure.words[0].where
    assert failure.source == f"{path}:{line}:1"
    assert failure.shape[0] * failure.shape[1] <= 16  # shrunk


def test_bf16_kernel_element_code(tmp_path):
    # mx9_row_bf16 with bit 16 (element 0's code) set in word 0 of lane 0's low half, block 0
    path, line = _copy(tmp_path, "mx9_row_bf16", None,
                       ["mset m1, 0b1", "li v15, 0x10000", "st v15, [HP_ROWS, 0] ?m1"])
    program = load_quant_kernel(str(path), ARCH)
    failure = check_launch(program, ARCH, np.zeros((2, 20), np.float32), "mx9", "row")
    assert failure is not None and failure.block == (0, 0) and failure.element == (0, 0)
    assert failure.input == "W[0, 0] = 0.0 (0x00000000)"
    assert "code 0x01" in failure.got and "code 0x00" in failure.expected
    assert failure.words[0].what.startswith("the code of W[0, 0]")
    assert failure.words[0].source == f"{path}:{line}:1"


RAW = """.kernel twice
.input  X, rows=0:1, dtype=float32
.output Y, rows=1:2, like=X
.macro put reg, c
    st reg, [1, c]
.endm
.for c = 0, COLS
    ld   v0, [0, c]
    fadd v0, v0, v0
    put  v0, c
.endfor
mset m1, 0b1000
li v3, 0x3f800000
st v3, [1, 5] ?m1
"""


def _twice(inputs):
    with np.errstate(all="ignore"):
        return inputs["X"] * np.float32(2)


def test_raw_kernel_masked_store_is_named(tmp_path):
    path = tmp_path / "twice.pimasm"
    path.write_text(RAW)
    program = assemble_path(path, ARCH).program
    x = np.arange(256, dtype=np.float32).reshape(1, 256)
    failure = check_outputs(program, ARCH, {"X": x}, LoadedReference(_twice, "twice"))
    # raw: element i of a tile row is word i // 8, lane i % 8; the stray st wrote lane 3 of
    # word 5, and m1 kept it out of every other lane of that word
    assert failure.index == (0, 43) and failure.got == "1.0 (0x3f800000)"
    assert failure.expected == "86.0 (0x42ac0000)"
    assert failure.inputs == ["X[0, 43] = 43.0 (0x422c0000)"]
    assert failure.source == f"{path}:14:1"
    assert check_outputs(program, ARCH, {"X": x[:, :43]}, LoadedReference(_twice, "t")) is None


def test_api_fuzz_adds_the_macro_call_sites(tmp_path):
    path = tmp_path / "twice.pimasm"
    path.write_text("\n".join(RAW.splitlines()[:-3]) + "\n")  # without the stray st
    report = api.fuzz(path, ref=lambda i: _twice(i) + np.float32(1), arch=ARCH,
                      max_examples=10, seed=1)
    word = report.failure.words[0]
    assert word.source == f"{path}:5:5" and word.text.strip() == "st reg, [1, c]"
    assert word.notes == [f"in expansion of macro 'put' from {path}:10:5"]


def test_cli_report_names_element_and_call_sites(tmp_path, capsys):
    path, _ = _copy(tmp_path, "mxfp8_e4m3_row", MAXCODE)
    assert main(["fuzz", str(path), "--golden", "mxfp8_e4m3", "--direction", "row",
                 "--max-examples", "60", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert "input     W[" in out and "wrong word (the code of W[" in out
    assert re.search(r"expected  .*: code 0x[7f]e, ", out)  # +-448 saturated one code low
    assert re.search(r"got       .*: code 0x[7f]d, ", out)
    assert f"in expansion of macro 'quantize_tile' from {path}:16:1" in out


def test_bf16_kernel_on_16_bit_lanes_names_the_half_word(tmp_path):
    # mx9_row_bf16x16: 16-bit words; word 1 of block 0 of lane 0 holds stream bits 16..31,
    # element 0's code from bit 16 on
    arch16 = fuzz_arch(load_arch("hbm3:lane_bits=16"))
    path, line = _copy(tmp_path, "mx9_row_bf16x16", None,
                       ["mset m1, 0b1", "li v15, 1", "st v15, [HP_ROWS, 1] ?m1"])
    program = load_quant_kernel(str(path), arch16)
    failure = check_launch(program, arch16, np.zeros((2, 20), np.float32), "mx9", "row")
    assert failure is not None and failure.element == (0, 0)
    assert failure.words[0].what == "the code of W[0, 0]"
    assert "lane 0: region 'Q' word 1 " in failure.words[0].where
    assert failure.words[0].where.endswith("= 0x00000001, expected 0x00000000")
    assert failure.words[0].source == f"{path}:{line}:1"
