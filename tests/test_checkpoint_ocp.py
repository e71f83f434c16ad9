"""Checkpoints quantized to the OCP MX formats: per tensor NAME.blocks (the kernel's packed codes)
and NAME.scale, checked against the golden model with a bit unpacker of the test's own, the
report's statistics, band invariance, and the errors."""

from __future__ import annotations

import json
import shutil

import ml_dtypes
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from pimisa.cli import main
from pimisa.kernels import resolve
from pimisa.mx.formats import FORMATS, OcpFormat, encode, quantize_dequantize

OCP = [name for name, f in FORMATS.items() if isinstance(f, OcpFormat)]


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    big = rng.standard_normal((45, 70)).astype(np.float32) * np.float32(3)
    big[2, 5], big[40, 3] = np.inf, 1e-40  # a NaN/Inf block and a subnormal
    return {"big": big,
            "half": rng.standard_normal((33, 20)).astype(np.float16),
            "brain": (rng.standard_normal((3, 40)) * 100).astype(ml_dtypes.bfloat16),
            "bias": np.ones(7, np.float32)}


def _unpack(blocks: np.ndarray, bits: int) -> np.ndarray:
    """(..., W) uint32 words -> (..., 32) codes: code e is bits e*bits.. of the words' stream."""
    stream = [int(w) for w in blocks.reshape(-1)]
    w = blocks.shape[-1]
    out = np.empty(blocks.size // w * 32, np.uint8)
    for n in range(len(out)):
        block, e = divmod(n, 32)
        value = 0
        for i in range(w):
            value |= stream[block * w + i] << 32 * i
        out[n] = value >> e * bits & (1 << bits) - 1
    return out.reshape(*blocks.shape[:-1], 32)


def _block_codes(codes: np.ndarray, direction: str) -> np.ndarray:
    """The golden codes grouped per block in the checkpoint's order: row (R, C/32, 32),
    column (R/32, C, 32)."""
    if direction == "row":
        return codes.reshape(codes.shape[0], -1, 32)
    return codes.reshape(-1, 32, codes.shape[1]).transpose(0, 2, 1)


@pytest.mark.parametrize("direction", ["row", "col"])
@pytest.mark.parametrize("fmt", OCP)
def test_checkpoint_to_ocp_format(fmt, direction, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    tensors = _tensors()
    save_file(tensors, "model.safetensors")
    assert main(["quantize", "--in", "model.safetensors", "--format", fmt, "--direction",
                 direction, "--out", "q.safetensors", "--golden", "--dequantized",
                 "--report", "r.json"]) == 0
    out = capsys.readouterr().out
    assert "bias: skipped (1-D)" in out and f"-> {fmt} {direction}" in out
    q = load_file("q.safetensors")
    report = json.loads(open("r.json").read())
    assert report["format"] == fmt and report["skipped"] == {"bias": "1-D"}
    bits = FORMATS[fmt].element_bits
    for t in report["tensors"]:
        x = np.asarray(tensors[t["name"]], np.float32)
        enc = encode(x, fmt, direction)
        assert set(k for k in q if k.startswith(t["name"] + ".")) == {
            f"{t['name']}.{a}" for a in ("blocks", "scale", "dequantized")}
        blocks, scale = q[f"{t['name']}.blocks"], q[f"{t['name']}.scale"]
        assert blocks.dtype == np.uint32 and blocks.shape == (*enc.scale.shape, bits)
        assert scale.dtype == np.uint8
        np.testing.assert_array_equal(scale, enc.scale)
        np.testing.assert_array_equal(_unpack(blocks, bits), _block_codes(enc.codes, direction))
        want = quantize_dequantize(x, fmt, direction)
        got = q[f"{t['name']}.dequantized"]
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
        ok = np.isfinite(x) & ~np.isnan(want)
        err = want[ok].astype(np.float64) - x[ok]
        assert t["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-12)
        nz = ok & (x != 0)
        rel = np.abs(want[nz].astype(np.float64) - x[nz]) / np.abs(x[nz].astype(np.float64))
        assert t["max_rel_error"] == pytest.approx(rel.max(), rel=1e-12)
        assert t["elements_in_nan_blocks"] == int((np.isfinite(x) & np.isnan(want)).sum())
        assert t["mismatched_blocks"] == 0 and t["blocks"] == enc.scale.size
    assert report["tensors"][0]["elements_in_nan_blocks"] > 0  # the Inf's block
    with safe_open("q.safetensors", "numpy") as f:
        meta = f.metadata()
    assert meta["pimisa.format"] == fmt and json.loads(meta["pimisa.shapes"])["big"] == [45, 70]


def test_bands_and_npz_give_the_same_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(5).standard_normal((100, 300)).astype(np.float32)
    np.savez("m.npz", w=x)
    for band, out in (("1000", "a.npz"), ("100000", "b.npz")):  # 32-row bands vs one band
        assert main(["quantize", "--in", "m.npz", "--format", "mxfp6_e3m2", "--direction",
                     "col", "--out", out, "--band", band]) == 0
    a, b = np.load("a.npz"), np.load("b.npz")
    assert sorted(a.files) == ["w.blocks", "w.scale"]
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(a["w.scale"], encode(x, "mxfp6_e3m2", "col").scale)


def test_a_broken_kernel_fails_the_golden_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    src = resolve("mxfp8_e4m3_row")
    shutil.copy(src.parent / "ocp_common.inc", "ocp_common.inc")
    open("bad.pimasm", "w").write(src.read_text().replace(".equ MAXCODE, 0x7e",
                                                          ".equ MAXCODE, 0x7d"))
    x = np.zeros((4, 40), np.float32)
    x[3, 33] = 448.0
    save_file({"ok": np.ones((4, 4), np.float32), "w": x}, "m.safetensors")
    assert main(["quantize", "--in", "m.safetensors", "--kernel", "bad.pimasm", "--golden",
                 "--out", "q.safetensors"]) == 1
    err = capsys.readouterr().err
    assert "tensor 'w'" in err and "1 of 8 blocks" in err and "block (3, 1)" in err


def test_bf16_weights_have_no_ocp_kernel(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    save_file({"w": np.ones((4, 4), np.float32)}, "m.safetensors")
    assert main(["quantize", "--in", "m.safetensors", "--format", "mxint8", "--direction",
                 "row", "--hp", "bf16", "--out", "q.npz"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no bf16 kernel" in err
