"""The BF16-weight JIT-Q kernels mx{9,6,4}_{row,col}_bf16: bit-exact against the golden model
applied to the BF16 values on both backends, fuzzed with adversarial BF16 tensors (also through
`pimisa fuzz`), and the two-elements-per-lane tile geometry in the quantize flow."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.kernels import bundled
from pimisa.mx.formats import decode, quantize_dequantize
from pimisa.mx.fuzzing import fuzz_arch, fuzz_kernel
from pimisa.mx.quantize import kernel_hp, load_quant_kernel, quantize

ARCH = fuzz_arch(load_arch("hbm3"))
KERNELS = [(f, d) for f in ("mx9", "mx6", "mx4") for d in ("row", "col")]


def _bf16_tensor(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32) * np.float32(2.0) ** rng.integers(
        -130, 100, shape).astype(np.float32)
    x[1, 2], x[33, 250], x[5, 70] = np.nan, -np.inf, 3e38
    x[16:32, 300] = 2.0 ** -133  # a block of BF16 subnormals
    x[40, 32:48] = 2.0 ** np.arange(16)  # ties and a wide range inside one row block
    return x.astype(ml_dtypes.bfloat16).astype(np.float32)


def test_every_format_has_both_bf16_kernels():
    assert {f"{f}_{d}_bf16" for f, d in KERNELS} <= set(bundled())


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_kernel_equals_golden(fmt, direction, backend):
    x = _bf16_tensor((50, 530), 11)
    program = load_quant_kernel(f"{fmt}_{direction}_bf16", ARCH)
    assert kernel_hp(program) == "bf16"
    r = quantize(x, fmt, direction, ARCH, backend, golden=True, program=program)
    assert r.golden_problem() is None
    want = quantize_dequantize(x, fmt, direction)
    got = decode(r.codes)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
    # 256 columns per tile: 16 tile columns -> 3 x 3 tiles of 16 x 256
    assert r.tiles == 4 * 3


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
def test_kernel_survives_fuzzing(fmt, direction):
    program = load_quant_kernel(f"{fmt}_{direction}_bf16", ARCH)
    report = fuzz_kernel(program, fmt, direction, ARCH, "c", max_examples=15, seed=3,
                         max_cols=600)
    assert report.failure is None, report.failure.render()


def test_fuzz_catches_a_broken_bf16_kernel(tmp_path):
    """A kernel that drops the lowest mantissa bit of each BF16 value fails, and the report
    names a lane of the right half and the storing source line."""
    from pimisa.kernels import resolve

    src = resolve("mx6_row_bf16")
    for name in ("mx_common.inc", "mx_common_bf16.inc"):
        text = (src.parent / name).read_text()
        (tmp_path / name).write_text(text.replace("andi reg, reg, 0x7FFF0000",
                                                  "andi reg, reg, 0x7FFE0000"))
    (tmp_path / "k.pimasm").write_text(src.read_text())
    program = load_quant_kernel(str(tmp_path / "k.pimasm"), ARCH)
    report = fuzz_kernel(program, "mx6", "row", ARCH, "c", max_examples=200, seed=2)
    assert report.failure is not None
    text = report.failure.render()
    assert "mx_common_bf16.inc:" in text and "lane" in text


def test_fuzz_cli_accepts_bf16_kernels(capsys):
    assert main(["fuzz", "mx4_col_bf16", "--golden", "mx4", "--direction", "col",
                 "--max-examples", "5", "--seed", "1"]) == 0
    assert "5 examples matched golden mx4 col" in capsys.readouterr().out
