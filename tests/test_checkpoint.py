"""Checkpoints (pimisa.checkpoint, pimisa.quantize_checkpoint, `pimisa quantize --in CKPT`):
every selected tensor quantized by the kernel equals the golden model, outputs round-trip
through the safetensors library and numpy, failures name the tensor and leave nothing."""

from __future__ import annotations

import io
import json

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.mx.formats import encode, quantize_dequantize
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.pack import PACKED_FORMATS, unpack_blocks
from pimisa.mx.quantize import load_quant_kernel
from pimisa.quantize_checkpoint import quantize_checkpoint


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    a = adversarial(rng, (40, 300))
    a[3, 5] = np.nan
    return {
        "layers.0.attn.w": a,
        "layers.0.attn.b": rng.standard_normal(300).astype(np.float32),
        "layers.0.mlp.w": rng.standard_normal((17, 33)).astype(np.float16),
        "layers.1.mlp.w": (rng.standard_normal((1, 70)) * 1e3).astype(ml_dtypes.bfloat16),
        "embed": rng.standard_normal((33, 1)).astype(np.float32),
        "counts": np.arange(12, dtype=np.int32).reshape(3, 4),
        "double": np.ones((4, 4)),
    }


def _as_f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.float32)


def _check_tensor(out: dict, name: str, x: np.ndarray, fmt: str, direction: str,
                  dequantized: bool) -> None:
    want = encode(_as_f32(x), fmt, direction)
    assert np.array_equal(out[f"{name}.shared_exp"], want.shared_exp), name
    assert np.array_equal(out[f"{name}.micro_exp"], want.micro_exp), name
    exp, _, sign, mag = unpack_blocks(out[f"{name}.blocks"], PACKED_FORMATS[fmt])
    assert np.array_equal(exp, want.shared_exp), name
    finite = want.shared_exp != 255
    codes = (sign << PACKED_FORMATS[fmt].m) | mag
    if direction == "row":
        flat = want.codes.reshape(want.shared_exp.shape + (16,))
    else:
        flat = want.codes.reshape(-1, 16, want.codes.shape[1]).transpose(0, 2, 1)
    zero_free = np.where(flat & ((1 << PACKED_FORMATS[fmt].m) - 1) == 0, 0, flat)
    got = np.where(codes & ((1 << PACKED_FORMATS[fmt].m) - 1) == 0, 0, codes)
    assert np.array_equal(got[finite], zero_free[finite]), name
    if dequantized:
        qdq = quantize_dequantize(_as_f32(x), fmt, direction)
        assert np.array_equal(out[f"{name}.dequantized"].view(np.uint32), qdq.view(np.uint32))
    else:
        assert f"{name}.dequantized" not in out


@pytest.mark.parametrize(("fmt", "direction"), [("mx6", "row"), ("mx9", "col")])
def test_safetensors_round_trip(workdir, capsys, fmt: str, direction: str) -> None:
    tensors = _tensors()
    save_file({k: v for k, v in tensors.items() if k != "double"}, "model.safetensors")
    assert main(["quantize", "--in", "model.safetensors", "--format", fmt, "--direction",
                 direction, "--golden", "--out", "q.safetensors", "--dequantized",
                 "--report", "r.json"]) == 0
    text = capsys.readouterr().out
    assert "layers.1.mlp.w: 1x70 BF16" in text and "golden ok" in text
    assert "layers.0.attn.b: skipped (1-D)" in text and "counts: skipped (dtype I32" in text
    out = load_file("q.safetensors")
    quantized = ["layers.0.attn.w", "layers.0.mlp.w", "layers.1.mlp.w", "embed"]
    assert sorted({k.rsplit(".", 1)[0] for k in out}) == sorted(quantized)
    for name in quantized:
        _check_tensor(out, name, tensors[name], fmt, direction, dequantized=True)
    meta = safe_open("q.safetensors", "numpy").metadata()
    assert meta["pimisa.format"] == fmt and meta["pimisa.direction"] == direction
    assert json.loads(meta["pimisa.shapes"])["layers.0.mlp.w"] == [17, 33]
    report = json.loads(open("r.json").read())
    rows = {t["name"]: t for t in report["tensors"]}
    assert set(rows) == set(quantized) and report["totals"]["mismatched_blocks"] == 0
    x = _as_f32(tensors["layers.0.mlp.w"])
    err = quantize_dequantize(x, fmt, direction).astype(np.float64) - x
    assert rows["layers.0.mlp.w"]["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)))
    nz = x != 0
    assert rows["layers.0.mlp.w"]["max_rel_error"] == pytest.approx(
        np.max(np.abs(err[nz]) / np.abs(x[nz])))
    assert rows["layers.0.attn.w"]["elements_in_nan_blocks"] > 0
    assert rows["embed"]["pim_cycles"] > 0 and rows["embed"]["shape"] == [33, 1]


def test_npz_in_and_out_with_select(workdir, capsys) -> None:
    tensors = {k: v for k, v in _tensors().items() if v.dtype != ml_dtypes.bfloat16}
    np.savez("model.npz", **tensors)
    np.savez_compressed("small.npz", **tensors)
    for source in ("model.npz", "small.npz"):
        assert main(["quantize", "--in", source, "--format", "mx4", "--direction", "row",
                     "--select", "layers.*.w", "--select", "double", "--out", "q.npz"]) == 0
        text = capsys.readouterr().out
        assert "double: skipped (float64" in text and "embed" not in text
        with np.load("q.npz") as q:
            out = {k: q[k] for k in q.files}
        assert sorted({k.rsplit(".", 1)[0] for k in out}) == ["layers.0.attn.w",
                                                               "layers.0.mlp.w"]
        for name in ("layers.0.attn.w", "layers.0.mlp.w"):
            _check_tensor(out, name, tensors[name], "mx4", "row", dequantized=False)


def test_band_size_and_checkpoint_equal_single_tensor_runs(workdir) -> None:
    x = adversarial(np.random.default_rng(8), (50, 40))
    save_file({"w": x}, "m.safetensors")
    assert main(["quantize", "--in", "m.safetensors", "--format", "mx6", "--direction", "col",
                 "--out", "a.safetensors", "--band", "1", "--dequantized"]) == 0
    np.save("w.npy", x)
    assert main(["quantize", "--in", "w.npy", "--format", "mx6", "--direction", "col",
                 "--out", "b.npz"]) == 0
    a = load_file("a.safetensors")
    with np.load("b.npz") as b:
        for key in ("dequantized", "shared_exp", "micro_exp"):
            assert np.array_equal(a[f"w.{key}"].view(np.uint8), b[key].view(np.uint8)), key


def test_failure_names_the_tensor_and_leaves_nothing(workdir, capsys) -> None:
    tensors = _tensors()
    save_file({k: v for k, v in tensors.items() if k != "double"}, "model.safetensors")
    assert main(["quantize", "--in", "model.safetensors", "--format", "mx6", "--direction",
                 "row", "--reject-nan", "--out", "q.safetensors", "--report", "r.json"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "pimisa: error: tensor 'layers.0.attn.w': NaN at [3, 5] (--reject-nan)"
    assert sorted(p.name for p in workdir.iterdir()) == ["model.safetensors"]
    open("bad.safetensors", "wb").write(b"\x10\0\0\0\0\0\0\0{not json}      ")
    assert main(["quantize", "--in", "bad.safetensors", "--format", "mx6", "--direction",
                 "row", "--out", "q.npz"]) == 1
    assert "not a valid .safetensors file" in capsys.readouterr().err
    np.savez("none.npz", v=np.zeros(3, np.float32))
    assert main(["quantize", "--in", "none.npz", "--format", "mx6", "--direction", "row"]) == 1
    assert "no tensor to quantize" in capsys.readouterr().err
    assert main(["quantize", "--in", "model.safetensors", "--format", "mx6", "--direction",
                 "row", "--out", "q.bin"]) == 2
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.safetensors", "model.safetensors",
                                                          "none.npz"]


def test_interrupt_leaves_no_output(workdir) -> None:
    save_file({"a": np.ones((32, 32), np.float32), "b": np.ones((32, 32), np.float32)},
              "m.safetensors")
    arch = load_arch("hbm3")
    program = load_quant_kernel("mx6_row", arch)

    def progress(name: str, done: int, rows: int, overall: int) -> None:
        if name == "b":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        quantize_checkpoint("m.safetensors", "q.safetensors", "mx6", "row", arch, program,
                            progress=progress)
    assert sorted(p.name for p in workdir.iterdir()) == ["m.safetensors"]


def test_wrong_kernel_fails_per_tensor_and_keeps_its_output(workdir, capsys) -> None:
    import shutil

    from pimisa.kernels import resolve

    src = resolve("mx6_row")
    shutil.copy(src.parent / "mx_common.inc", "mx_common.inc")
    lines = src.read_text().splitlines() + ["    li v15, 0x5A5A5A5A", "    st v15, [HP_ROWS, 4]"]
    open("broken.pimasm", "w").write("\n".join(lines) + "\n")
    save_file({"w": np.random.default_rng(1).standard_normal((20, 64), np.float32)},
              "m.safetensors")
    assert main(["quantize", "--in", "m.safetensors", "--kernel", "broken.pimasm", "--golden",
                 "--out", "q.safetensors"]) == 1
    captured = capsys.readouterr()
    assert "tensor 'w': the kernel's output differs from the golden model in 8 of 80" \
        in captured.err
    assert "golden: 8 blocks differ" in captured.out
    assert "w.blocks" in load_file("q.safetensors")


def test_progress_bars_name_the_tensor() -> None:
    from rich.console import Console

    from pimisa.commands.quantize_cmd import CheckpointProgress

    out = io.StringIO()
    bar = CheckpointProgress(100, Console(file=out, force_terminal=True, width=100))
    bar("layers.0.w", 5, 10, 50)
    bar.bar.refresh()
    bar.close()
    assert "layers.0.w" in out.getvalue() and "checkpoint" in out.getvalue()
    quiet = CheckpointProgress(100, Console(file=io.StringIO(), force_terminal=False))
    quiet("x", 1, 2, 3)
    assert quiet.bar is None


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 700),
       chunk=st.sampled_from([1, 7, 64, 1 << 16]))
def test_error_stats_chunked_equal_the_whole_array_formula(seed, size, chunk):
    """Chunked error statistics against the unchunked definition, for adversarial values with
    NaN/Inf inputs, NaN outputs (NaN blocks) and zeros, any chunk boundary."""
    from pimisa import quantize_checkpoint as qc

    rng = np.random.default_rng(seed)
    hp = adversarial(rng, (1, size))
    values = quantize_dequantize(hp, "mx6", "row")
    values[0, rng.integers(0, size, size // 5)] = np.nan  # NaN outputs of finite inputs too
    old = qc.STATS_CHUNK
    qc.STATS_CHUNK = chunk
    try:
        sumsq, counted, max_rel, nan = qc.error_stats(values, hp)
    finally:
        qc.STATS_CHUNK = old
    h, v = hp.astype(np.float64).ravel(), values.astype(np.float64).ravel()
    ok = np.isfinite(h) & ~np.isnan(v)
    err = v[ok] - h[ok]
    nz = h[ok] != 0
    assert counted == ok.sum() and nan == (np.isfinite(h) & np.isnan(v)).sum()
    assert sumsq == pytest.approx(float(np.sum(err ** 2)), rel=1e-12)
    want = float(np.max(np.abs(err[nz]) / np.abs(h[ok][nz]))) if nz.any() else 0.0
    assert max_rel == want


def test_a_compressed_member_is_decompressed_once_per_tensor(workdir, monkeypatch):
    import pimisa.checkpoint as ck

    x = np.random.default_rng(3).standard_normal((64, 40)).astype(np.float32)
    np.savez_compressed("c.npz", w=x, v=x[:20])
    loads = []
    real = np.load
    monkeypatch.setattr(ck.np, "load", lambda *a, **k: loads.append(a) or real(*a, **k))
    arch = load_arch("hbm3")
    report = quantize_checkpoint("c.npz", None, "mx6", "row", arch,
                                 load_quant_kernel("mx6_row", arch), "c", True, band_elements=1)
    assert [t.mismatched_blocks for t in report.tensors] == [0, 0]
    assert len(loads) == 2  # one per tensor, not one per band (4 and 2 bands)
