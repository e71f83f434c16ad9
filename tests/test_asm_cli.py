"""`pimisa asm` and `pimisa disasm`: outputs, exit codes, atomic writes, no tracebacks."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.asm import assemble_file
from pimisa.cli import main
from pimisa.kernels import bundled, resolve
from pimisa.program import Program, load_program

SOURCE = """.kernel tiny
.input A, rows=0:2, layout=hp16
.output B, rows=2:3, block=16
.equ N, 2
.param N, N
.for i = 0, N
    ld v(i), [i, i]
.endfor
    fadd v0, v0, v1 ?!m1
    st v0, [2, 0] @b3
"""


def run(args: list[str], capsys, stdin: str | None = None, monkeypatch=None) -> tuple[
        int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.pimasm").write_text(SOURCE)
    return tmp_path / "tiny.pimasm"


def test_bundled_kernels_resolve_by_name():
    assert "example_gemv" in bundled()
    assert resolve("example_gemv") == resolve("example_gemv.pimasm")
    assert resolve("example_gemv").is_file()
    assert len(assemble_file(resolve("example_gemv"))) > 100


def test_listing_of_a_bundled_kernel(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["asm", "example_gemv", "--listing"], capsys)
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].startswith("; kernel example_gemv for hbm3: 776 commands")
    body = [ln for ln in lines if not ln.startswith(";")]
    assert len(body) == 776
    first = body[0].split()
    assert first[:17] == ["0", "11", "00", "00", "00", "00", "00", "ff", "00",
                          "00", "00", "00", "00", "00", "00", "00", "00"]
    assert "li v(a), 0.0" in body[0]
    assert list(tmp_path.iterdir()) == []  # --listing alone writes nothing


def test_asm_writes_the_pimb(capsys, kernel):
    code, out, err = run(["asm", str(kernel), "-o", "out.pimb"], capsys)
    assert code == 0 and not out
    assert "wrote out.pimb (4 commands for hbm3)" in err
    program = load_program("out.pimb")
    expected = assemble_file(kernel)
    assert program.records.tobytes() == expected.records.tobytes()
    assert program.meta == expected.meta
    assert program.location(3) == f"{kernel}:10:5"
    code, _, _ = run(["asm", str(kernel)], capsys)
    assert code == 0 and (kernel.parent / "tiny.pimb").exists()


def test_source_errors_exit_1_and_leave_no_output(capsys, kernel):
    (kernel.parent / "out.pimb").write_bytes(b"old")
    kernel.write_text(SOURCE + "add v1, v2\nld v99, [0, 0]\n")
    code, out, err = run(["asm", str(kernel), "-o", "out.pimb"], capsys)
    assert code == 1 and not out
    assert "tiny.pimasm:11:1: error: 'add' takes 3 operands" in err
    assert "tiny.pimasm:12:4: error: vector register v99" in err
    assert err.rstrip().endswith("2 errors generated.")
    assert (kernel.parent / "out.pimb").read_bytes() == b"old"
    assert sorted(p.name for p in kernel.parent.iterdir()) == ["out.pimb", "tiny.pimasm"]


def test_usage_errors_exit_2(capsys, kernel):
    assert run(["asm", str(kernel), "--arch", "hbm9"], capsys)[0] == 2
    assert run(["asm", str(kernel), "-D", "X"], capsys)[0] == 2
    assert run(["asm"], capsys)[0] == 2
    assert run(["asm", str(kernel), "--bogus"], capsys)[0] == 2


def test_missing_input_exits_1(capsys, kernel):
    code, _, err = run(["asm", "nosuch.pimasm"], capsys)
    assert code == 1 and "no such file, and no bundled kernel" in err
    code, _, err = run(["disasm", "nosuch.pimb"], capsys)
    assert code == 1 and "cannot read" in err


def test_arch_and_defines(capsys, kernel):
    kernel.write_text(".for i = 0, N\n    ld v1, [32767 + i, 0]\n.endfor\n")
    code, _, err = run(["asm", str(kernel), "-D", "N=2", "--arch", "hbm2-pim", "-o", "x.pimb"],
                       capsys)
    assert code == 1 and "row 32768 out of range (0..32767)" in err
    code, _, err = run(["asm", str(kernel), "-D", "N=0x1", "--arch", "hbm2-pim", "-o", "x.pimb"],
                       capsys)
    assert code == 0 and load_program("x.pimb").meta.arch == "hbm2-pim"


def test_standard_input(capsys, kernel, monkeypatch):
    code, out, _ = run(["asm", "-", "--listing"], capsys, "nop\nnop @b1\n", monkeypatch)
    assert code == 0 and out.count("<stdin>") == 1 and "nop @b1" in out
    code, _, err = run(["asm", "-"], capsys, "nop\n", monkeypatch)
    assert code == 2 and "give -o" in err


def test_disasm_round_trip(capsys, kernel):
    assert run(["asm", str(kernel), "-o", "k.pimb"], capsys)[0] == 0
    code, out, err = run(["disasm", "k.pimb"], capsys)
    assert code == 0 and not err
    assert ".input A, rows=0:2, layout=hp16" in out
    assert ".output B, rows=2:3, layout=raw, block=16" in out
    (kernel.parent / "again.pimasm").write_text(out)
    again = assemble_file("again.pimasm")
    original = load_program("k.pimb")
    assert again.records.tobytes() == original.records.tobytes()
    assert again.meta.to_json() == original.meta.to_json()
    code, _, _ = run(["disasm", "k.pimb", "-o", "d.pimasm", "--locations"], capsys)
    text = (kernel.parent / "d.pimasm").read_text()
    assert code == 0 and f"; {kernel}:7:5" in text


def test_disasm_validates_the_program(capsys, kernel):
    (kernel.parent / "junk.pimb").write_bytes(b"PIMBxx")
    code, _, err = run(["disasm", "junk.pimb"], capsys)
    assert code == 1 and "not a .pimb file" in err
    program = assemble_file(kernel)
    records = program.records.copy()
    records["rd"][1] = 40
    Program(records, program.meta, program.srcmap, program.files).save("bad.pimb")
    code, _, err = run(["disasm", "bad.pimb"], capsys)
    assert code == 1 and "command #1" in err and "v40 out of range" in err
    assert run(["disasm", "bad.pimb", "--arch", "nope"], capsys)[0] == 2
    program.meta.arch = "custom"
    program.save("custom.pimb")
    code, _, err = run(["disasm", "custom.pimb"], capsys)
    assert code == 1 and "pass --arch FILE.toml" in err
    assert run(["disasm", "custom.pimb", "--arch", "hbm3"], capsys)[0] == 0


@settings(max_examples=30)
@given(st.text(max_size=120))
def test_cli_never_prints_a_traceback(tmp_path_factory, text):
    import contextlib

    directory = tmp_path_factory.mktemp("cli")
    path = directory / "g.pimasm"
    path.write_text(text, encoding="utf-8", errors="replace")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["asm", str(path), "-o", str(directory / "g.pimb")])
    assert code in (0, 1)
    assert "Traceback" not in err.getvalue()
    assert (directory / "g.pimb").exists() == (code == 0)


def test_the_real_process(tmp_path):
    bad = tmp_path / "bad.pimasm"
    bad.write_bytes(b"\xff\x00 add v1,\n.for\n")
    proc = subprocess.run([sys.executable, "-m", "pimisa.cli", "asm", str(bad), "-o",
                           str(tmp_path / "bad.pimb")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "error:" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "pimisa.cli", "asm", "example_gemv",
                           "--listing"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count("\n") > 776


def test_defines_must_be_64_bit_integers(capsys, kernel):
    for bad in ["N=" + "9" * 30, "N=" + "1" * 5000, "v1=3", "N=1.5"]:
        assert run(["asm", str(kernel), "-D", bad, "--listing"], capsys)[0] == 2
