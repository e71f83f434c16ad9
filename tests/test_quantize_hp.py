"""`pimisa quantize --hp bf16`: BF16 weights through the BF16-weight kernels, from float32 that
is BF16-exact, BF16 .npy files ('<V2' as ml_dtypes writes them, uint16 patterns) and
checkpoints; --round-hp; the errors (one line, exit 1 / 2, nothing written)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from pimisa.cli import main
from pimisa.mx.formats import quantize_dequantize


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bf16(shape, seed=4) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 7
    return x.astype(ml_dtypes.bfloat16)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("store", [
    lambda b: b.astype(np.float32),  # float32 holding BF16 values
    lambda b: b,  # ml_dtypes bfloat16: np.save writes '<V2'
    lambda b: b.view(np.uint16),  # the bit patterns
    lambda b: b.astype(np.float32).astype(">f4"),
])
@pytest.mark.parametrize(("fmt", "direction"), [("mx6", "row"), ("mx9", "col")])
def test_bf16_inputs_quantize_exactly(workdir, capsys, store, fmt, direction):
    b = _bf16((40, 300))
    np.save("w.npy", store(b))
    assert main(["quantize", "--hp", "bf16", "--format", fmt, "--direction", direction,
                 "--in", "w.npy", "--out", "q.npz", "--golden"]) == 0
    out = capsys.readouterr().out
    assert f"40x300 bf16 -> {fmt} {direction}" in out and "matches the golden model" in out
    assert "HP 24000 bytes" in out  # 2 bytes per BF16 weight
    with np.load("q.npz") as q:
        assert _same(q["dequantized"], quantize_dequantize(b.astype(np.float32), fmt, direction))


def test_inexact_float32_is_an_error_unless_rounded(workdir, capsys):
    x = _bf16((20, 40)).astype(np.float32)
    x[17, 33] = np.float32(1.0) + np.float32(2.0 ** -20)
    np.save("w.npy", x)
    args = ["quantize", "--hp", "bf16", "--format", "mx4", "--direction", "row", "--in",
            "w.npy", "--out", "q.npz", "--band", "256"]  # the bad element is in a later band
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert "element [17, 33] = 1.0000009536743164 (0x3f800008) is not a BF16 value" in err
    assert "--round-hp" in err and "\n" not in err
    assert list(workdir.glob("*q.npz*")) == []
    assert main([*args, "--round-hp", "--golden"]) == 0
    rounded = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    with np.load("q.npz") as q:
        assert _same(q["dequantized"], quantize_dequantize(rounded, "mx4", "row"))


def test_random_bf16(workdir, capsys):
    assert main(["quantize", "--hp", "bf16", "--format", "mx6", "--direction", "col",
                 "--random", "32x512", "--golden"]) == 0
    assert "32x512 bf16 -> mx6 col" in capsys.readouterr().out


def test_bf16_checkpoint(workdir, capsys):
    from safetensors.numpy import save_file

    b = _bf16((48, 260))
    f32 = _bf16((16, 300), 9).astype(np.float32)
    save_file({"a": b, "c": f32}, "m.safetensors")  # "a" is stored as safetensors BF16
    assert main(["quantize", "--hp", "bf16", "--in", "m.safetensors", "--format", "mx6",
                 "--direction", "row", "--golden", "--out", "q.safetensors"]) == 0
    out = capsys.readouterr().out
    assert "a: 48x260 BF16 -> mx6 row" in out and "c: 16x300 F32" in out
    assert out.count("golden ok") == 2


def test_bf16_npz_member(workdir, capsys):
    np.savez("m.npz", w=_bf16((16, 256)))  # an ml_dtypes array: member dtype V2
    assert main(["quantize", "--hp", "bf16", "--in", "m.npz", "--format", "mx4",
                 "--direction", "col", "--golden"]) == 0
    assert "w: 16x256 BF16" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--round-hp"], 2, "--round-hp rounds the input to BF16: it needs --hp bf16"),
    (["--hp", "bf16", "--kernel", "mx6_row"], 2, "--hp bf16: kernel 'mx6_row' reads fp32"),
])
def test_usage_errors(workdir, capsys, argv, code, message):
    np.save("w.npy", np.zeros((4, 4), np.float32))
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["quantize", "--format", "mx6", "--direction", "row", "--in",
                               "w.npy", *argv]))
    assert exc.value.code == code
    assert message in capsys.readouterr().err


def test_patterns_need_hp_bf16(workdir, capsys):
    np.save("w.npy", _bf16((4, 4)))
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy"]) == 1
    assert "--hp bf16" in capsys.readouterr().err
