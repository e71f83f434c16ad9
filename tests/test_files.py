"""Special files, shared paths, absurd sizes: refused cleanly, nothing destroyed."""

from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

from pimisa import fileio, memory
from pimisa.cli import main
from pimisa.errors import InputError


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    memory.set_budget(None)


def _err(capsys) -> str:
    """What the command printed on stderr: never a traceback."""
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err, err
    return err


def _kernel(workdir) -> str:
    assert main(["asm", "mx6_row", "-o", "k.pimb"]) == 0
    return "k.pimb"


def test_dev_null_output_is_written_not_replaced(workdir, capsys) -> None:
    if not os.path.exists("/dev/null") or not os.access("/dev/null", os.W_OK):
        pytest.skip("no writable /dev/null")
    before = os.stat("/dev/null")
    assert main(["asm", "mx6_row", "-o", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert [p.name for p in workdir.iterdir()] == []


@pytest.mark.parametrize("make_args", [
    lambda: ["asm", "k.pimasm", "-o", "k.pimasm"],
    lambda: ["disasm", "k.pimb", "-o", "k.pimb"],
    lambda: ["run", "k.pimb", "--in", "W=w.npy", "--out", "w.npy"],
    lambda: ["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy",
             "--out", "w.npy"],
    lambda: ["time", "k.pimb", "--trace-csv", "k.pimb"],
])
def test_output_equal_to_an_input_is_refused(workdir, capsys, make_args) -> None:
    _kernel(workdir)
    (workdir / "k.pimasm").write_text(".kernel k\nnop\n")
    np.save("w.npy", np.ones((16, 16), np.float32))
    before = {p.name: p.read_bytes() for p in workdir.iterdir()}
    assert main(make_args()) == 2
    assert "also an input" in _err(capsys)
    assert {p.name: p.read_bytes() for p in workdir.iterdir()} == before


def test_default_asm_output_never_replaces_its_source(workdir, capsys) -> None:
    _kernel(workdir)
    os.rename("k.pimb", "x.pimb")
    (workdir / "x.pimb").write_bytes(b".kernel x\nnop\n")  # a source that is named .pimb
    assert main(["asm", "x.pimb"]) == 2
    assert "also an input" in _err(capsys)
    assert (workdir / "x.pimb").read_bytes() == b".kernel x\nnop\n"


@pytest.mark.parametrize(("target", "message"), [
    (".", "is a directory"),
    ("sub/", "names a directory"),
    ("nodir/k.pimb", "no directory"),
])
def test_bad_output_paths_are_usage_errors(workdir, capsys, target, message) -> None:
    assert main(["asm", "mx6_row", "-o", target]) == 2
    assert message in _err(capsys)
    assert list(workdir.iterdir()) == []


def test_empty_output_path(workdir, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["asm", "mx6_row", "-o", ""])
    assert exit_info.value.code == 2 and "empty output path" in _err(capsys)


def test_socket_output_is_refused(workdir, capsys) -> None:
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(workdir / "s"))
    try:
        assert main(["asm", "mx6_row", "-o", "s"]) == 2
        assert "not a regular file" in _err(capsys)
        assert stat.S_ISSOCK(os.stat("s").st_mode)
    finally:
        sock.close()


def test_fifo_output_without_reader_fails_fast_and_with_reader_is_written(workdir, capsys):
    os.mkfifo("f")
    assert main(["asm", "mx6_row", "-o", "f"]) == 1
    assert "cannot write" in _err(capsys)
    program = _kernel(workdir)
    got = []
    reader = threading.Thread(target=lambda: got.append(open("f", "rb").read()))
    reader.start()
    for _ in range(500):  # until the reader has opened its end
        if main(["disasm", program, "-o", "f"]) == 0:
            break
        threading.Event().wait(0.01)
    reader.join(10)
    assert got and b".kernel mx6_row" in got[0]
    assert stat.S_ISFIFO(os.stat("f").st_mode)


@pytest.mark.parametrize("make_args", [
    lambda: ["asm", "src.pimasm", "--listing"],        # .include of the special file
    lambda: ["asm", "arch.pimasm", "--listing"],       # .arch of the special file
    lambda: ["asm", "SPECIAL", "--listing"],
    lambda: ["arch", "--show", "SPECIAL.toml"],
    lambda: ["jitq", "--scenario", "SPECIAL.toml"],
    lambda: ["jitq", "--model", "SPECIAL.toml"],
    lambda: ["disasm", "SPECIAL"],
    lambda: ["check-trace", "SPECIAL"],
    lambda: ["run", "mx6_row", "--in", "W=SPECIAL"],
    lambda: ["quantize", "--format", "mx6", "--direction", "row", "--in", "SPECIAL.npy"],
])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_input_files_are_refused_without_reading(workdir, capsys, make_args, special):
    if special == "fifo":
        for name in ("SPECIAL", "SPECIAL.toml", "SPECIAL.npy"):
            os.mkfifo(name)
    else:
        for name in ("SPECIAL", "SPECIAL.toml", "SPECIAL.npy"):
            os.symlink(special, name)
    (workdir / "src.pimasm").write_text('.kernel k\n.include "SPECIAL"\nnop\n')
    (workdir / "arch.pimasm").write_text('.kernel k\n.arch "SPECIAL.toml"\nnop\n')
    assert main(make_args()) == 1
    err = _err(capsys)
    assert "not a regular file" in err or "SPECIAL: not a file" in err


def test_read_limits_are_checked_before_reading(workdir, monkeypatch) -> None:
    (workdir / "big.pimasm").write_text("nop\n" * 100)
    monkeypatch.setitem(fileio.READ_LIMITS, "source", 64)
    with pytest.raises(InputError, match="over the 64-byte limit for a source file"):
        fileio.read_regular("big.pimasm", "source")


def _npy_with_header(path, header: str, data: bytes = b"") -> None:
    body = header.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    with open(path, "wb") as handle:
        handle.write(b"\x93NUMPY\x01\x00" + (len(body) + pad + 1).to_bytes(2, "little"))
        handle.write(body + b" " * pad + b"\n" + data)


@pytest.mark.parametrize(("header", "data", "message"), [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", b"\0" * 16,
     "the header says (65536, 65536) float32"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"", "Python objects"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (__import__('os'),), }", b"",
     "malformed .npy header (not a Python literal)"),
    ("{'descr': '<f4', 'fortran_order': 3, 'shape': (2,), }", b"\0" * 8, "fortran_order"),
    ("{'descr': 'zz', 'fortran_order': False, 'shape': (2,), }", b"", "unsupported dtype"),
    ("[1, 2]", b"", "expected keys"),
])
def test_hostile_npy_headers(workdir, header, data, message) -> None:
    _npy_with_header("w.npy", header, data)
    with pytest.raises(InputError) as info:
        fileio.load_npy("w.npy")
    assert message in str(info.value)
    assert "allow_pickle" not in str(info.value) and "Call(" not in str(info.value)


def test_empty_and_non_npy_files(workdir) -> None:
    (workdir / "e.npy").write_bytes(b"")
    with pytest.raises(InputError, match="not a .npy file \\(empty\\)"):
        fileio.load_npy("e.npy")
    np.save("p.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="Python objects"):
        fileio.load_npy("p.npy")


def test_npy_round_trips_and_converts_exactly(workdir) -> None:
    x = np.arange(24, dtype=np.float32).reshape(4, 6) / 7
    for variant in (x, x.astype(">f4"), np.asfortranarray(x)):
        np.save("w.npy", variant)
        got = fileio.load_npy("w.npy")
        assert got.dtype == np.float32 and got.flags.c_contiguous
        assert np.array_equal(got.view(np.uint32), x.view(np.uint32))


def test_memory_budget_refuses_before_allocating(workdir, capsys) -> None:
    np.save("w.npy", np.zeros((512, 512), np.float32))
    assert main(["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy",
                 "--max-memory", "64K"]) == 1
    assert "over the memory budget of 64.0 KiB" in _err(capsys)
    with pytest.raises(InputError, match="needs 16.0 GiB"):
        memory.zeros((1 << 32,), np.float32, "a test array")


@pytest.mark.parametrize(("text", "value"), [
    ("4G", 4 << 30), ("512MiB", 512 << 20), ("1000", 1000), ("1.5k", 1536)])
def test_parse_size(text, value) -> None:
    assert memory.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "-4G", "0", "12Q", "150%", "abc"])
def test_bad_max_memory_is_a_usage_error(workdir, capsys, text) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["isa", "--max-memory", text])
    assert exit_info.value.code == 2 and "--max-memory" in _err(capsys)


def test_reading_a_small_file_does_not_reserve_the_kind_limit(workdir, monkeypatch) -> None:
    (workdir / "t.csv").write_bytes(b"x" * 10)
    monkeypatch.setitem(fileio.READ_LIMITS, "trace", 1 << 50)  # a buffer of that would fail
    assert fileio.read_regular("t.csv", "trace") == b"x" * 10


@pytest.mark.parametrize(("edit", "message"), [
    (("channels = 32", "channels = 1000000000"), "[geometry] channels must be at most 1024"),
    (("tRFC = ", "tRFC = 99999999999999999999 #"), "[timing] tRFC must be at most 16777216"),
    (("rows = 32768", "rows = 1099511627776"), "[geometry] rows must be at most"),
])
def test_preset_fields_are_bounded(workdir, capsys, edit, message) -> None:
    from importlib import resources

    text = resources.files("pimisa.presets").joinpath("hbm3.toml").read_text()
    assert edit[0] in text
    (workdir / "p.toml").write_text(text.replace(edit[0], edit[1], 1))
    assert main(["arch", "--show", "p.toml"]) == 1
    assert message in _err(capsys)


@pytest.mark.parametrize("data", [
    "a = " + "[" * 3000 + "]" * 3000 + "\n", "name = 'x'\n".encode("utf-16"), b"\xff\xfe"])
def test_hostile_toml_is_one_clean_error(workdir, capsys, data) -> None:
    path = workdir / "p.toml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    assert main(["arch", "--show", "p.toml"]) == 1
    err = _err(capsys)
    assert err.startswith("pimisa: error: p.toml") and len(err.splitlines()) == 1


def test_trace_numbers_out_of_range(workdir, capsys) -> None:
    (workdir / "t.csv").write_text("cycle,channel,bank,command,row,col\n"
                                   "99999999999999999999,0,0,ACT,0,0\n")
    assert main(["check-trace", "t.csv"]) == 1
    assert "t.csv:2: a field does not fit 62 bits" in _err(capsys)
