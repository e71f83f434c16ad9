"""Streaming quantization (pimisa.stream, pimisa.tensorio): bands equal one whole launch, the
golden check across bands, .npz written band by band, memory bounded by the band."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.mx.formats import encode
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.fuzzing import fuzz_arch
from pimisa.mx.quantize import block_mismatches, first_mismatch, quantize
from pimisa.stream import BYTES_PER_ELEMENT, quantize_stream
from pimisa.tensorio import NpyFile

SMALL = fuzz_arch(load_arch("hbm3"))
LANES = SMALL.geometry.lanes
SHAPES = [(1, 300), (300, 1), (37, 16 * LANES + 1), (16, 16 * LANES), (49, 17)]


def _concat(bands, name: str) -> np.ndarray:
    return np.concatenate([getattr(b.codes, name) for b in bands])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("fmt", "direction"), [("mx6", "row"), ("mx9", "col"), ("mx4", "col")])
def test_streamed_equals_one_launch(shape, fmt: str, direction: str) -> None:
    x = adversarial(np.random.default_rng(sum(shape)), shape)
    whole = quantize(x, fmt, direction, SMALL, "c")
    bands = []
    result = quantize_stream(x, fmt, direction, SMALL, "c", golden=True, on_band=bands.append,
                             band_elements=1)
    assert result.bands == len(bands) == -(-shape[0] // 16)  # one tile row per band
    assert [b.row0 for b in bands] == list(range(0, shape[0], 16))
    for name in ("codes", "shared_exp", "micro_exp"):
        assert np.array_equal(_concat(bands, name), getattr(whole.codes, name)), name
    assert result.mismatches == 0 and result.golden_problem() is None
    assert result.blocks == whole.codes.shared_exp.size
    assert result.pim.cycles == whole.timing.cycles and result.lp_bytes == whole.lp_bytes


def test_band_size_rounds_to_whole_slots() -> None:
    x = np.zeros((16 * 40, 16 * LANES * 3), np.float32)  # 3 tiles per tile row
    units = SMALL.geometry.total_units
    result = quantize_stream(x, "mx6", "row", SMALL, "c", band_elements=x.size // 4)
    tiles_per_band = result.band_rows // 16 * 3
    assert tiles_per_band % units == 0 or result.band_rows // 16 < units
    assert result.band_slots == -(-tiles_per_band // units)


def test_first_mismatch_in_tensor_coordinates() -> None:
    x = adversarial(np.random.default_rng(2), (16, 40))
    want, got = encode(x, "mx6", "col"), encode(x, "mx6", "col")
    got.codes[5, 33] ^= 3
    text = first_mismatch(want, got, block_mismatches(want, got), row0=48, shape=(100, 40))
    assert text.startswith("block (3, 33) (column 33, rows 48..63)")
    want, got = encode(x, "mx6", "row"), encode(x, "mx6", "row")
    got.shared_exp[2, 1] += 1
    text = first_mismatch(want, got, block_mismatches(want, got), row0=32, shape=(50, 40))
    assert text.startswith("block (34, 1) (row 34, columns 16..31)")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_band_size_does_not_change_the_output(workdir) -> None:
    x = adversarial(np.random.default_rng(11), (70, 33))
    np.save("w.npy", x)
    argv = ["quantize", "--format", "mx9", "--direction", "col", "--in", "w.npy", "--golden"]
    assert main([*argv, "--out", "one.npz"]) == 0
    assert main([*argv, "--out", "bands.npz", "--band", "1"]) == 0
    with np.load("one.npz") as a, np.load("bands.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            assert a[name].dtype == b[name].dtype
            assert np.array_equal(a[name].view(np.uint8), b[name].view(np.uint8)), name
    assert sorted(p.name for p in workdir.iterdir()) == ["bands.npz", "one.npz", "w.npy"]


def test_npy_file_reads_bands_and_checks_its_size(workdir) -> None:
    x = np.arange(60, dtype=">f4").reshape(6, 10)
    np.save("be.npy", x)
    f = NpyFile("be.npy")
    assert f.shape == (6, 10) and np.array_equal(f[2:5], x[2:5])
    np.save("f.npy", np.asfortranarray(x.astype(np.float32)))
    assert np.array_equal(NpyFile("f.npy")[1:4], x[1:4])
    with open("be.npy", "r+b") as handle:
        handle.truncate(100)
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "be.npy"]) == 1


def test_random_bands_equal_one_draw() -> None:
    from pimisa.commands.quantize_cmd import RandomTensor

    r = RandomTensor("40x7", 5)
    got = np.concatenate([r[0:16], r[16:32], r[32:40]])
    assert np.array_equal(got, np.random.default_rng(5).standard_normal((40, 7), np.float32))


SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from pimisa.cli import main
    from pimisa.mx.quantize import quantize
    from pimisa.stream import quantize_stream
    quantize(np.ones((16, 16), np.float32), "mx6", "row", "hbm3")  # load every library
    # and start the streaming helper thread (its stack and malloc arena: fixed, not per band)
    quantize_stream(np.ones((16, 16), np.float32), "mx6", "row", golden=True,
                    on_band=lambda band: None)
    size = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize"))
    limit = size * 1024 + int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.exit(main(sys.argv[2:]))
""")


def test_memory_is_bounded_by_the_band(tmp_path) -> None:
    """Under an address-space limit of BYTES_PER_ELEMENT x band + 48 MiB over the warmed-up
    interpreter, a 2048 x 4096 tensor (32 MiB of float32; about 1.1 GiB unstreamed) quantizes
    with --golden and --out; the same limit refuses it as one band."""
    band = 1 << 20
    budget = BYTES_PER_ELEMENT * band + (48 << 20)
    argv = ["quantize", "--format", "mx6", "--direction", "row", "--random", "2048x4096",
            "--golden", "--out", str(tmp_path / "q.npz")]
    ok = subprocess.run([sys.executable, "-c", SCRIPT, str(budget), *argv, "--band", str(band)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "matches the golden model" in ok.stdout
    with np.load(tmp_path / "q.npz") as q:
        assert q["dequantized"].shape == (2048, 4096)
    whole = subprocess.run([sys.executable, "-c", SCRIPT, str(budget), *argv[:-2],
                            "--band", str(2048 * 4096)],
                           capture_output=True, text=True, timeout=120)
    assert whole.returncode != 0
