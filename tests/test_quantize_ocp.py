"""`pimisa quantize` to the OCP MX formats (block 32, E8M0 scale) with the bundled kernels: the
.npz layout of docs/layout.md, the golden check, the packed footprint, streaming and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.kernels import resolve
from pimisa.mx.formats import FORMATS, decode, encode
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.fuzzing import fuzz_arch
from pimisa.mx.quantize import OCP_FORMATS, block_mismatches, quantize

SMALL = fuzz_arch(load_arch("hbm3"))
# awkward shapes: one element, shorter than a block, not a multiple of a block or a tile
SHAPES = [(1, 1), (33, 45), (70, 31), (5, 300), (64, 33), (31, 97)]
CASES = [(f, d, SHAPES[i % len(SHAPES)])
         for i, (f, d) in enumerate((f, d) for f in OCP_FORMATS for d in ("row", "col"))]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _padded(n: int) -> int:
    return -(-n // 32) * 32


def test_every_ocp_format_is_a_choice():
    assert set(OCP_FORMATS) == {n for n, f in FORMATS.items() if f.family == "ocp"}


@pytest.mark.parametrize(("fmt", "direction", "shape"), CASES)
def test_cli_writes_the_documented_npz(workdir, capsys, fmt, direction, shape):
    x = adversarial(np.random.default_rng(11), shape)
    if x.size > 40:
        x.flat[7], x.flat[40] = np.nan, -np.inf
    np.save("w.npy", x)
    assert main(["quantize", "--format", fmt, "--direction", direction, "--in", "w.npy",
                 "--out", "q.npz", "--golden"]) == 0
    out = capsys.readouterr().out
    assert f"{shape[0]}x{shape[1]} float32 -> {fmt} {direction} blocks" in out
    assert "kernel output matches the golden model" in out
    rows, cols = shape
    want = encode(x, fmt, direction)
    codes_shape = (rows, _padded(cols)) if direction == "row" else (_padded(rows), cols)
    scale_shape = (rows, _padded(cols) // 32) if direction == "row" else \
        (_padded(rows) // 32, cols)
    with np.load("q.npz") as q:
        assert sorted(q.files) == ["codes", "dequantized", "scale"]
        assert q["codes"].shape == codes_shape and q["codes"].dtype == np.uint8
        assert q["scale"].shape == scale_shape and q["scale"].dtype == np.uint8
        assert q["dequantized"].shape == shape and q["dequantized"].dtype == np.float32
        np.testing.assert_array_equal(q["codes"], want.codes)
        np.testing.assert_array_equal(q["scale"], want.scale)
        assert np.array_equal(q["dequantized"].view(np.uint32), decode(want).view(np.uint32))


@pytest.mark.parametrize("fmt", OCP_FORMATS)
def test_packed_footprint_is_nominal_for_whole_tiles(fmt):
    lanes = SMALL.geometry.lanes
    x = np.random.default_rng(2).standard_normal((64, 32 * lanes), np.float32)
    result = quantize(x, fmt, "col", SMALL, "c", golden=True)
    assert result.tiles == 2 and result.mismatched_blocks() == 0
    assert result.bits_per_element == FORMATS[fmt].bits_per_element  # 8.25, 6.25 or 4.25
    small = quantize(x[:33, :40], fmt, "row", SMALL, "c")
    assert small.bits_per_element > FORMATS[fmt].bits_per_element  # padding of partial tiles


def test_cli_prints_the_nominal_footprint(workdir, capsys):
    assert main(["quantize", "--format", "mxfp6_e3m2", "--direction", "row",
                 "--random", "64x1024", "--golden"]) == 0
    assert "6.250 bits/element" in capsys.readouterr().out


@pytest.mark.parametrize("direction", ["row", "col"])
def test_bands_change_nothing(workdir, direction):
    x = adversarial(np.random.default_rng(4), (100, 70))
    np.save("w.npy", x)
    base = ["quantize", "--format", "mxint8", "--direction", direction, "--in", "w.npy"]
    assert main([*base, "--out", "one.npz"]) == 0
    assert main([*base, "--out", "bands.npz", "--band", "1"]) == 0  # one 32-row tile row each
    with np.load("one.npz") as a, np.load("bands.npz") as b:
        for name in a.files:
            assert np.array_equal(a[name].view(np.uint8), b[name].view(np.uint8)), name


def _broken_kernel(tmp: Path) -> Path:
    """mxfp8_e4m3_row saturating one code below the largest (0x7d instead of 0x7e)."""
    source = resolve("mxfp8_e4m3_row")
    text = source.read_text(encoding="utf-8")
    text = text.replace(".equ MAXCODE, 0x7e", ".equ MAXCODE, 0x7d")
    text = text.replace('.include "ocp_common.inc"', f'.include "{source.parent}/ocp_common.inc"')
    assert "0x7d" in text
    path = tmp / "broken.pimasm"
    path.write_text(text, encoding="utf-8")
    return path


def test_golden_names_the_first_differing_block(workdir, capsys):
    x = np.ones((40, 70), np.float32)
    x[35, 40] = 448.0  # the largest E4M3 value: code 0x7e, the broken kernel stores 0x7d
    np.save("w.npy", x)
    kernel = _broken_kernel(workdir)
    assert main(["quantize", "--kernel", str(kernel), "--in", "w.npy", "--out", "q.npz"]) == 0
    capsys.readouterr()
    assert main(["quantize", "--kernel", str(kernel), "--in", "w.npy", "--golden"]) == 1
    err = capsys.readouterr().err.strip()
    assert "differs from the golden model in 1 of 120 mxfp8_e4m3 row blocks" in err
    assert "block (35, 1) (row 35, columns 32..63)" in err
    want = encode(x, "mxfp8_e4m3", "row")
    assert f"golden scale={int(want.scale[35, 1])} " in err
    with np.load("q.npz") as q:
        assert q["codes"][35, 40] == 0x7d and want.codes[35, 40] == 0x7e
    assert len(err.splitlines()) == 1 and "Traceback" not in err


@settings(max_examples=30, deadline=None)
@given(fmt=st.sampled_from(OCP_FORMATS), direction=st.sampled_from(["row", "col"]),
       shape=st.tuples(st.integers(1, 70), st.integers(1, 70)), data=st.data())
def test_block_mismatches_pin_the_block(fmt, direction, shape, data):
    x = adversarial(np.random.default_rng(0), shape)
    want = encode(x, fmt, direction)
    assert not block_mismatches(want, want).any()
    got = encode(x, fmt, direction)
    field = data.draw(st.sampled_from(["codes", "scale"]))
    arr = getattr(got, field)
    i = data.draw(st.integers(0, arr.shape[0] - 1))
    j = data.draw(st.integers(0, arr.shape[1] - 1))
    arr[i, j] ^= 1
    bad = block_mismatches(want, got)
    if field == "scale":
        block = (i, j)
    else:
        block = (i, j // 32) if direction == "row" else (i // 32, j)
    assert bad[block] and bad.sum() == 1


@pytest.mark.parametrize(("extra", "message"), [
    (["--hp", "bf16"], "the mxfp6_e2m3 kernels read float32 weights"),
    (["--kernel", "mx6_row"], "writes mx6 row blocks, not mxfp6_e2m3 row"),
])
def test_cli_errors(workdir, capsys, extra, message):
    np.save("w.npy", np.ones((4, 4), np.float32))
    code = main(["quantize", "--format", "mxfp6_e2m3", "--direction", "row", "--in", "w.npy",
                 *extra])
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and "Traceback" not in err
