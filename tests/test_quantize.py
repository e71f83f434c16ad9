"""`pimisa quantize` and pimisa.mx.quantize: the bundled kernels end to end, the CLI, errors."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.mx.formats import decode, encode, quantize_dequantize
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.fuzzing import fuzz_arch
from pimisa.mx.pack import PACKED_FORMATS
from pimisa.mx.quantize import block_mismatches, quantize

SMALL = fuzz_arch(load_arch("hbm3"))
CASES = [(f, d) for f in ("mx9", "mx6", "mx4") for d in ("row", "col")]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_bundled_kernel_equals_golden(fmt: str, direction: str, backend: str) -> None:
    x = adversarial(np.random.default_rng(7), (37, 300))
    x[5, 7] = np.nan
    x[20, 200] = -np.inf
    result = quantize(x, fmt, direction, SMALL, backend, golden=True)
    want = encode(x, fmt, direction)
    assert result.stats.backend == backend
    assert result.mismatched_blocks() == 0
    for name in ("codes", "shared_exp", "micro_exp"):
        assert np.array_equal(getattr(result.codes, name), getattr(want, name)), name
    assert _same_bits(result.dequantized, quantize_dequantize(x, fmt, direction))
    assert result.dequantized.shape == x.shape and result.dequantized.dtype == np.float32


@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_footprint_and_timing(fmt: str, direction: str) -> None:
    lanes = SMALL.geometry.lanes
    x = np.random.default_rng(1).standard_normal((32, 16 * lanes * 3), np.float32)
    result = quantize(x, fmt, direction, SMALL, "c")
    wpb = PACKED_FORMATS[fmt].words_per_block
    assert result.tiles == 6
    assert result.lp_bytes == 6 * 16 * lanes * wpb * 4
    assert result.hp_bytes == x.size * 4
    nominal = {"mx9": 9, "mx6": 6, "mx4": 4}[fmt]
    assert nominal <= result.bits_per_element <= 1.125 * nominal
    assert result.timing.cycles > 0 and result.timing.slots == result.stats.slots


def test_block_mismatches_pin_the_block() -> None:
    x = adversarial(np.random.default_rng(3), (40, 70))
    for direction in ("row", "col"):
        want = encode(x, "mx6", direction)
        assert not block_mismatches(want, want).any()
        got = encode(x, "mx6", direction)
        got.codes[17, 33] ^= 1
        bad = block_mismatches(want, got)
        where = (17, 2) if direction == "row" else (1, 33)
        assert bad[where] and bad.sum() == 1


def test_block_mismatches_ignore_zero_signs_and_nan_block_codes() -> None:
    x = np.zeros((16, 16), np.float32)
    x[0, 0] = np.nan
    x[1] = 1.0
    want = encode(x, "mx4", "row")
    got = encode(x, "mx4", "row")
    got.codes[2, 3] = 1 << 2  # -0 instead of +0
    got.codes[0, 4] = 5  # a code inside the NaN block
    assert not block_mismatches(want, got).any()
    got.shared_exp[1, 0] += 1
    assert block_mismatches(want, got)[1, 0]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_cli_writes_kernel_output(workdir, capsys, backend: str) -> None:
    x = adversarial(np.random.default_rng(5), (20, 150))
    np.save("w.npy", x)
    assert main(["quantize", "--format", "mx6", "--direction", "col", "--in", "w.npy",
                 "--out", "q.npz", "--backend", backend]) == 0
    out = capsys.readouterr().out
    assert "20x150 float32 -> mx6 col" in out and "PIM time" in out and "cycles" in out
    assert "LP 6144 bytes vs HP 12000 bytes" in out and backend in out
    want = encode(x, "mx6", "col")
    with np.load("q.npz") as q:
        assert sorted(q.files) == ["codes", "dequantized", "micro_exp", "shared_exp"]
        assert _same_bits(q["dequantized"], decode(want))
        for name in ("codes", "shared_exp", "micro_exp"):
            assert np.array_equal(q[name], getattr(want, name))


def test_cli_random_and_golden(workdir, capsys) -> None:
    assert main(["quantize", "--format", "mx4", "--direction", "row", "--random", "16x256",
                 "--seed", "3", "--golden", "--out", "g.npz"]) == 0
    assert "matches the golden model" in capsys.readouterr().out
    x = np.random.default_rng(3).standard_normal((16, 256), np.float32)
    with np.load("g.npz") as q:
        assert _same_bits(q["dequantized"], quantize_dequantize(x, "mx4", "row"))


def test_cli_float64_needs_cast(workdir, capsys) -> None:
    np.save("w.npy", np.arange(40, dtype=np.float64).reshape(5, 8) / 3)
    args = ["quantize", "--format", "mx9", "--direction", "row", "--in", "w.npy", "--out", "q.npz"]
    assert main(args) == 1 and not (workdir / "q.npz").exists()
    assert "float64 data" in capsys.readouterr().err
    assert main([*args, "--cast"]) == 0
    expected = quantize_dequantize(np.load("w.npy").astype(np.float32), "mx9", "row")
    with np.load("q.npz") as q:
        assert _same_bits(q["dequantized"], expected)


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(">f4"), np.asfortranarray, lambda x: x.astype(np.float16)])
def test_cli_exact_conversions(workdir, convert) -> None:
    x = (np.arange(48, dtype=np.float32).reshape(6, 8) - 20) / 4
    np.save("w.npy", convert(x))
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy",
                 "--out", "q.npz"]) == 0
    with np.load("q.npz") as q:
        assert _same_bits(q["dequantized"], quantize_dequantize(x, "mx6", "row"))


@pytest.mark.parametrize(("make", "extra", "message"), [
    (None, [], "cannot read"),
    (lambda: open("w.npy", "w").write("junk"), [], "not a .npy file"),
    (lambda: np.save("w.npy", np.zeros((2, 3, 4), np.float32)), [], "2-D"),
    (lambda: np.save("w.npy", np.zeros((0, 3), np.float32)), [], "empty"),
    (lambda: np.save("w.npy", np.array([["a", "b"]])), [], "expected float32"),
    (lambda: np.save("w.npy", np.full((3, 3), np.nan, np.float32)), ["--reject-nan"],
     "NaN at [0, 0]"),
])
def test_cli_bad_inputs(workdir, capsys, make, extra, message) -> None:
    if make is not None:
        make()
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy",
                 "--out", "q.npz", *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert list(workdir.glob("q.npz*")) == [] and list(workdir.glob(".q.npz*")) == []


def test_cli_not_npy_and_usage_errors(workdir, capsys) -> None:
    open("w.txt", "w").write("1 2 3\n")
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "w.txt"]) == 1
    assert "expected a .npy file (or a .safetensors / .npz checkpoint)" in capsys.readouterr().err
    for argv in (["--in", "w.npy", "--random", "4x4"], ["--random", "4by4"], [],
                 ["--random", "0x4"]):
        with pytest.raises(SystemExit) as exc:
            code = main(["quantize", "--format", "mx6", "--direction", "row", *argv])
            raise SystemExit(code)
        assert exc.value.code == 2


def test_pimisa_run_reads_mx_packed_output_as_raw_words(workdir) -> None:
    from pimisa.mx.layout import codes_to_blocks

    x = adversarial(np.random.default_rng(9), (16, 128))
    np.save("w.npy", x)
    assert main(["run", "mx6_row", "--in", "W=w.npy", "--out", "o.npz"]) == 0
    with np.load("o.npz") as out:
        words = out["Q"]
    lanes = load_arch("hbm3").geometry.lanes
    tile0 = words[0].reshape(-1, lanes)[:48]  # 16 blocks x 3 words, per lane
    want = codes_to_blocks(encode(x, "mx6", "row"), lanes)[0, 0]  # (16, lanes, 3)
    assert np.array_equal(tile0, want.transpose(0, 2, 1).reshape(48, lanes))


def _broken_kernel(directory) -> str:
    """mx6_row with an extra store clobbering word 1 of block 1 (in every lane)."""
    import shutil

    from pimisa.kernels import resolve

    src = resolve("mx6_row")
    shutil.copy(src.parent / "mx_common.inc", directory / "mx_common.inc")
    lines = src.read_text().splitlines()
    lines += ["    li v15, 0x5A5A5A5A", "    st v15, [HP_ROWS, 4]"]
    path = directory / "broken.pimasm"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_cli_golden_fails_on_a_wrong_kernel_and_keeps_its_output(workdir, capsys) -> None:
    from pimisa.mx.quantize import load_quant_kernel

    kernel = _broken_kernel(workdir)
    x = np.random.default_rng(4).standard_normal((20, 150), np.float32)
    np.save("w.npy", x)
    assert main(["quantize", "--kernel", kernel, "--in", "w.npy", "--out", "q.npz",
                 "--golden"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err
    # block 1 of every lane of both tile rows: tensor rows 1 and 17, 10 blocks each
    assert "differs from the golden model in 20 of 200 mx6 row blocks" in err
    assert "first at block (1, 0) (row 1, columns 0..15)" in err and "golden E=" in err
    assert "differs in 20 of 200 blocks" in captured.out
    broken = quantize(x, "mx6", "row", golden=True,
                      program=load_quant_kernel(kernel, load_arch("hbm3")))
    assert broken.mismatched_blocks() == 20
    with np.load("q.npz") as q:  # the kernel's (wrong) output, not the golden model's
        assert _same_bits(q["dequantized"], broken.dequantized)
        for name in ("codes", "shared_exp", "micro_exp"):
            assert np.array_equal(q[name], getattr(broken.codes, name)), name
        assert not _same_bits(q["dequantized"], quantize_dequantize(x, "mx6", "row"))


def test_cli_user_kernel_format_from_the_kernel(workdir, capsys) -> None:
    from pimisa.kernels import resolve

    kernel = str(resolve("mx4_col"))
    assert main(["quantize", "--kernel", kernel, "--random", "40x300", "--golden",
                 "--out", "q.npz"]) == 0
    assert "40x300 float32 -> mx4 col" in capsys.readouterr().out
    x = np.random.default_rng(0).standard_normal((40, 300), np.float32)
    with np.load("q.npz") as q:
        assert _same_bits(q["dequantized"], quantize_dequantize(x, "mx4", "col"))
    assert main(["quantize", "--kernel", kernel, "--format", "mx6", "--random", "4x4"]) == 1
    assert "writes mx4 col blocks, not mx6 col" in capsys.readouterr().err
    assert main(["quantize", "--random", "4x4", "--format", "mx6"]) == 2
    assert "--direction required (or --kernel)" in capsys.readouterr().err
