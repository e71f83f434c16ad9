"""Band-by-band output files (pimisa.tensorio): .npz and .safetensors written in place read
back as written (ZIP64 records included), and an interrupted quantize leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa import tensorio
from pimisa.cli import main
from pimisa.tensorio import NpzWriter, SafetensorsWriter

DTYPES = [np.dtype(np.float32), np.dtype(np.uint8), np.dtype(np.uint32)]


@st.composite
def array_sets(draw) -> dict[str, np.ndarray]:
    names = draw(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="/\\\0"),
                                  min_size=1, max_size=6), min_size=1, max_size=4,
                          unique=True))
    out = {}
    for name in names:
        shape = tuple(draw(st.lists(st.integers(0, 9), min_size=1, max_size=3)))
        dtype = draw(st.sampled_from(DTYPES))
        out[name] = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) \
            .astype(dtype) * draw(st.integers(1, 7))
    return out


def _write(writer, arrays: dict[str, np.ndarray], cuts) -> None:
    for name, a in arrays.items():  # bands of each array in order, arrays interleaved
        r0 = 0
        for step in cuts:
            if r0 >= a.shape[0]:
                break
            writer.write(name, a[r0:r0 + step])
            r0 += step
        if r0 < a.shape[0] or a.shape[0] == 0:
            writer.write(name, a[r0:])
    writer.close()


@settings(max_examples=40)
@given(arrays=array_sets(), cuts=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       limit=st.sampled_from([tensorio.ZIP64_LIMIT, 0, 100, 1000]))
def test_npz_reads_back_as_written(tmp_path_factory, arrays, cuts, limit):
    path = tmp_path_factory.mktemp("npz") / "a.npz"
    old = tensorio.ZIP64_LIMIT
    tensorio.ZIP64_LIMIT = limit  # as if every size or offset past `limit` were past 4 GiB
    try:
        with open(path, "wb") as handle:
            _write(NpzWriter(handle, {k: (a.shape, a.dtype) for k, a in arrays.items()}),
                   arrays, cuts)
    finally:
        tensorio.ZIP64_LIMIT = old
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # every CRC-32 checks
        assert [i.filename for i in z.infolist()] == [f"{k}.npy" for k in arrays]
    with np.load(path) as q:
        for name, a in arrays.items():
            assert q[name].dtype == a.dtype and np.array_equal(q[name], a)


@settings(max_examples=20)
@given(arrays=array_sets(), cuts=st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_safetensors_reads_back_as_written(tmp_path_factory, arrays, cuts):
    from safetensors.numpy import load_file

    path = tmp_path_factory.mktemp("st") / "a.safetensors"
    with open(path, "wb") as handle:
        _write(SafetensorsWriter(handle, {k: (a.shape, a.dtype) for k, a in arrays.items()},
                                 {"k": "v"}), arrays, cuts)
    got = load_file(path)
    for name, a in arrays.items():
        assert got[name].dtype == a.dtype and np.array_equal(got[name], a)


def test_rows_must_continue_and_complete_the_array(tmp_path):
    with open(tmp_path / "a.npz", "wb") as handle:
        w = NpzWriter(handle, {"a": ((4, 2), np.float32)})
        w.write("a", np.zeros((3, 2)))
        with pytest.raises(ValueError, match="do not continue"):
            w.write("a", np.zeros((2, 2)))
        with pytest.raises(ValueError, match="3 of 4 rows written"):
            w.close()


def test_quantize_to_a_fifo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("out.npz")
    got = []
    reader = threading.Thread(target=lambda: got.append(open("out.npz", "rb").read()))
    reader.start()
    argv = ["quantize", "--format", "mx6", "--direction", "row", "--random", "40x70",
            "--out", "out.npz", "--band", "1"]
    for _ in range(500):  # until the reader has opened its end
        if main(argv) == 0:
            break
        time.sleep(0.01)
    reader.join(10)
    (tmp_path / "copy.npz").write_bytes(got[0])
    with np.load(tmp_path / "copy.npz") as q:
        assert q["dequantized"].shape == (40, 70)
    assert sorted(os.listdir(tmp_path)) == ["copy.npz", "out.npz"]


def test_interrupt_leaves_no_output_and_keeps_the_old_file(tmp_path):
    """SIGINT in the middle of a streamed quantize: exit 130, the old output untouched, no
    temporary file left."""
    out = tmp_path / "q.npz"
    out.write_bytes(b"old")
    argv = [sys.executable, "-m", "pimisa.cli", "quantize", "--format", "mx6", "--direction",
            "row", "--random", "4096x4096", "--golden", "--out", str(out), "--band", "65536"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(n.endswith(".tmp") for n in os.listdir(tmp_path)):  # writing has begun
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["q.npz"]
