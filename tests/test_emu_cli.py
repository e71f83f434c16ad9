"""`pimisa run` end to end on .pimb kernels built with pimisa.program."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.cli import main
from pimisa.encoding import encode
from pimisa.program import SRCMAP_DTYPE, KernelMeta, Program, Region


def doubling_kernel(path, rows: int = 8, cols: int = 32) -> None:
    """out = 2 * w, word by word, for one hp16 tile (hbm3: 8 rows of 32 words)."""
    recs = []
    for r in range(rows):
        for c in range(cols):
            recs += [encode("ld", {"rd": 0, "row": r, "col": c}),
                     encode("fadd", {"rd": 0, "ra": 0, "rb": 0}),
                     encode("st", {"ra": 0, "row": rows + r, "col": c})]
    meta = KernelMeta("double", "hbm3", [Region("w", "input", 0, rows, "hp16"),
                                         Region("y", "output", rows, rows, "hp16")])
    Program(np.array(recs), meta).save(path)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doubling_kernel(tmp_path / "double.pimb")
    x = np.random.default_rng(0).standard_normal((40, 300)).astype(np.float32)
    np.save(tmp_path / "w.npy", x)
    return tmp_path


def test_run_both_backends_same_outputs_and_traces(workdir, capsys) -> None:
    for backend in ("c", "numpy"):
        assert main(["run", "double.pimb", "--in", "w=w.npy", "--out", f"{backend}.npz",
                     "--backend", backend, "--trace", f"{backend}.trace"]) == 0
        summary = capsys.readouterr().out
        assert summary.startswith("double: 768 commands executed (768 x 1 slots) on hbm3: "
                                  "512 banks, 512 units x 8 lanes; backend " + backend)
    x = np.load("w.npy")
    for backend in ("c", "numpy"):
        out = np.load(f"{backend}.npz")
        assert list(out) == ["y"] and np.array_equal(out["y"], 2 * x)
    c_trace = (workdir / "c.trace").read_text()
    assert c_trace == (workdir / "numpy.trace").read_text()
    lines = c_trace.splitlines()
    assert len(lines) == 768 and lines[2].startswith("2 s0 command #2 st v0, [8, 0] | [8,0] u0=[")


def test_bad_inputs_give_one_line_errors_and_no_output(workdir, capsys) -> None:
    np.save("w64.npy", np.zeros((4, 4)))
    np.save("w1d.npy", np.zeros(4, np.float32))
    cases = [
        (["--in", "w=w64.npy"], "w64.npy: float64 data"),
        (["--in", "w=w1d.npy"], "input w: expected a 2-D array, got shape (4,)"),
        (["--in", "w=nope.npy"], "nope.npy: cannot read"),
        (["--in", "v=w.npy"], "kernel 'double' has no input 'v' (its inputs: w)"),
        ([], "missing input 'w'"),
    ]
    for extra, message in cases:
        assert main(["run", "double.pimb", "--out", "o.npz", *extra]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    assert not (workdir / "o.npz").exists()
    assert main(["run", "double.pimb", "--in", "w"]) == 2
    assert "expected NAME=FILE.npy" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["run", "double.pimb", "--backend", "gpu"])
    assert exc.value.code == 2
    assert main(["run", "missing.pimb"]) == 1
    assert "missing.pimb: cannot read" in capsys.readouterr().err


def test_a_faulting_kernel_reports_its_source_line(workdir, capsys) -> None:
    recs = np.array([encode("li", {"rd": 0, "imm": 1}), encode("st", {"ra": 0, "row": 1})])
    srcmap = np.zeros(2, SRCMAP_DTYPE)
    srcmap["line"], srcmap["col"] = [7, 8], 3
    meta = KernelMeta("bad", regions=[Region("y", "output", 0, 1, "raw")])
    Program(recs, meta, srcmap, ["bad.pimasm"]).save("bad.pimb")
    assert main(["run", "bad.pimb", "--out", "o.npz", "--trace", "t.txt"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("bad.pimasm:8:3: error: `st v0, [1, 0]` reaches unit row 0 + 1 = 1")
    assert not (workdir / "o.npz").exists()
    trace = (workdir / "t.txt").read_text().splitlines()
    assert trace[0].startswith("0 s0 bad.pimasm:7:3 li v0, 1 | v0 u0=[00000001")
    assert trace[1] == f"fault: {err}"


def test_raw_output_of_a_kernel_without_inputs(workdir) -> None:
    recs = np.array([encode("li", {"rd": 0, "imm": 9}), encode("st", {"ra": 0, "col": 1})])
    meta = KernelMeta("fill", regions=[Region("y", "output", 0, 1, "raw")])
    Program(recs, meta).save("fill.pimb")
    assert main(["run", "fill.pimb", "--out", "o.npz", "--arch", "lpddr5x"]) == 0
    y = np.load("o.npz")["y"]
    assert y.shape == (8 * 16, 64 * 8) and (y[:, 8:16] == 9).all() and y.sum() == 9 * 8 * 128


TWICE = """\
.kernel twice
.input  A, rows=0:8, layout=hp16
.output B, rows=8:16, layout=hp16
.for r = 0, 8
    .for c = 0, 32
        ld   v0, [r, c]
        fmul v0, v0, v1 ?m0     ; only the lanes of m0 (lanes 0 and 2) are scaled
        st   v0, [8 + r, c]
    .endfor
.endfor
"""


def test_run_assembles_a_source_file(workdir, capsys) -> None:
    (workdir / "twice.pimasm").write_text(
        TWICE.replace(".for r", "    li v1, 2.0\n    mset m0, 0b101\n.for r", 1))
    outs = []
    for backend in ("c", "numpy"):
        assert main(["run", "twice.pimasm", "--in", "A=w.npy", "--out", "o.npz",
                     "--backend", backend]) == 0
        outs.append(np.load("o.npz")["B"])
    x = np.load("w.npy")
    lane = (np.arange(x.shape[1]) % 128) // 16
    expected = np.where(np.isin(lane, [0, 2]), 2 * x, x)
    assert np.array_equal(outs[0], expected) and np.array_equal(outs[1], expected)
    assert capsys.readouterr().out.startswith("twice: 770 commands executed")


def test_run_a_bundled_kernel(workdir) -> None:
    rng = np.random.default_rng(3)
    w = rng.standard_normal((256, 8)).astype(np.float32)
    x = rng.standard_normal(256).astype(np.float32)
    np.save("W.npy", w.reshape(1, -1))
    np.save("X.npy", np.repeat(x, 8).reshape(1, -1))
    ys = []
    for backend in ("c", "numpy"):
        assert main(["run", "example_gemv", "--in", "W=W.npy", "--in", "X=X.npy", "--out",
                     "y.npz", "--backend", backend]) == 0
        ys.append(np.load("y.npz")["Y"])
    assert np.array_equal(ys[0], ys[1]) and ys[0].shape == (1, 8)
    assert np.allclose(ys[0].view(np.float32)[0], w.T.astype(np.float64) @ x, rtol=1e-4)


def test_progress_bar_appears_on_a_terminal_for_slow_runs() -> None:
    import io

    from rich.console import Console

    from pimisa.commands.run_cmd import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(after=0.0, console=Console(file=out, force_terminal=True))
    bar(1, 4)
    bar(4, 4)
    bar.close()
    assert bar.bar is not None and "running" in out.getvalue()
    quiet = ProgressBar(after=3600.0, console=Console(file=io.StringIO(), force_terminal=True))
    quiet(1, 4)
    assert quiet.bar is None
    piped = ProgressBar(after=0.0, console=Console(file=io.StringIO(), force_terminal=False))
    piped(1, 4)
    assert piped.bar is None
