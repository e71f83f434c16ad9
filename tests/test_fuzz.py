"""Kernel fuzzing: every bundled MX kernel on both backends, and what a failure report shows."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.kernels import resolve
from pimisa.mx.fuzzing import check_launch, fuzz_arch, fuzz_kernel
from pimisa.mx.quantize import load_quant_kernel
from pimisa.testing import EDGE_COLS, adversarial_tensors, float32_bits

ARCH = fuzz_arch(load_arch("hbm3"))
CASES = [(f, d) for f in ("mx9", "mx6", "mx4") for d in ("row", "col")]
EXAMPLES = {"c": 40, "numpy": 8}


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_bundled_kernels_survive_fuzzing(fmt: str, direction: str, backend: str) -> None:
    program = load_quant_kernel(f"{fmt}_{direction}", ARCH)
    report = fuzz_kernel(program, fmt, direction, ARCH, backend, EXAMPLES[backend], seed=11)
    assert report.failure is None, report.failure.render()
    assert report.examples == EXAMPLES[backend]


@settings(max_examples=40)
@given(adversarial_tensors(max_rows=50, max_cols=200, nan=False))
def test_tensors_are_bounded_finite_float32(x: np.ndarray) -> None:
    assert x.dtype == np.float32 and x.ndim == 2
    assert 1 <= x.shape[0] <= 50 and 1 <= x.shape[1] <= 200
    assert np.isfinite(x).all()


@settings(max_examples=200)
@given(float32_bits(nan=False))
def test_element_bits_are_finite_float32(bits: int) -> None:
    assert 0 <= bits < 1 << 32
    assert np.isfinite(np.uint32(bits).view(np.float32))


def test_edge_shapes_straddle_blocks_and_tiles() -> None:
    lanes = ARCH.geometry.lanes
    assert {16 * lanes - 1, 16 * lanes, 16 * lanes + 1} <= set(EDGE_COLS)


def _broken_kernel(tmp_path) -> tuple[str, int]:
    """mx6_row with an extra store that clobbers word 1 of block 1; (path, its line)."""
    src = resolve("mx6_row")
    shutil.copy(src.parent / "mx_common.inc", tmp_path / "mx_common.inc")
    lines = src.read_text().splitlines()
    lines += ["    li v15, 0x5A5A5A5A", "    st v15, [HP_ROWS, 4]"]
    path = tmp_path / "broken.pimasm"
    path.write_text("\n".join(lines) + "\n")
    return str(path), len(lines)


def test_check_launch_rejects_a_format_mismatch() -> None:
    program = load_quant_kernel("mx4_col", ARCH)
    with pytest.raises(Exception, match="writes mx4 col blocks, not mx6 col"):
        check_launch(program, ARCH, np.zeros((4, 4), np.float32), "mx6", "col")


def test_cli_success_and_failure(tmp_path, capsys) -> None:
    assert main(["fuzz", "mx4_row", "--golden", "mx4", "--direction", "row",
                 "--max-examples", "10", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "10 examples matched golden mx4 row" in out and "1 channel" in out
    path, line = _broken_kernel(tmp_path)
    assert main(["fuzz", path, "--golden", "mx6", "--direction", "row", "--max-examples", "30",
                 "--seed", "2"]) == 1
    out = capsys.readouterr().out
    assert f"stored by {path}:{line}:" in out and "FAILED" in out


def test_cli_errors(capsys) -> None:
    assert main(["fuzz", "no_such_kernel", "--golden", "mx6", "--direction", "row"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["fuzz", "mx6_row", "--golden", "mx9", "--direction", "row",
                 "--max-examples", "2"]) == 1
    assert "writes mx6 row blocks, not mx9 row" in capsys.readouterr().err
    assert main(["fuzz", "mx6_row", "--golden", "mx6", "--direction", "row",
                 "--max-examples", "0"]) == 2
