"""Layouts from users' packages (entry point group pimisa.layouts), run --view, and what the
layout documentation states about read-back dtypes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pimisa import layout as layout_module
from pimisa.asm import assemble_source
from pimisa.cli import main
from pimisa.emulator.launch import launch
from pimisa.errors import InputError

PLUGIN = textwrap.dedent('''
    from pimisa.layout import Raw, register_layout

    @register_layout("rev_test")
    class Reversed(Raw):
        def place(self, words, array):
            super().place(words, array[:, ::-1])

        def read_back(self, words, shape):
            return super().read_back(words, shape)[:, ::-1]
''')

KERNEL = """.input A, rows=0:1, layout=rev_test
.output B, rows=1:2, layout=rev_test, like=A
ld v0, [0, 0]
st v0, [1, 0]
"""


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A fake installed package whose entry point registers layout rev_test."""
    (tmp_path / "revlayout.py").write_text(PLUGIN)
    info = tmp_path / "revlayout-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: revlayout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pimisa.layouts]\nrev = revlayout\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(layout_module, "_plugins_loaded", False)
    yield tmp_path
    layout_module.LAYOUTS.pop("rev_test", None)
    sys.modules.pop("revlayout", None)


def test_entry_point_layout_is_found(plugin):
    program = assemble_source(KERNEL)
    a = np.arange(2 * 256, dtype=np.uint32).reshape(2, 256)
    out = launch(program, __import__("pimisa.arch").arch.load_arch("hbm3").geometry,
                 {"A": a}).outputs["B"]
    # the kernel copies word 0 of each tile: the last 8 elements of each reversed row
    np.testing.assert_array_equal(out[:, -8:], a[:, -8:])
    assert not out[:, :-8].any()


def test_entry_point_from_the_cli(plugin, tmp_path):
    (tmp_path / "k.pimasm").write_text(KERNEL)
    np.save(tmp_path / "a.npy", np.ones((1, 256), np.float32))
    env = dict(os.environ, PYTHONPATH=str(plugin))
    done = subprocess.run([sys.executable, "-m", "pimisa.cli", "run", "k.pimasm", "--in",
                           "A=a.npy", "--out", "r.npz", "--view", "f32"], cwd=tmp_path,
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    b = np.load(tmp_path / "r.npz")["B"]
    assert b.dtype == np.float32 and b[0, -1] == 1.0


def test_a_plugin_layout_is_fuzzed_with_its_base_strategy(plugin):
    from pimisa.arch import load_arch
    from pimisa.mx.fuzzing import fuzz, fuzz_arch
    from pimisa.references import LoadedReference

    arch = fuzz_arch(load_arch("hbm3"))
    program = assemble_source(KERNEL.replace("layout=rev_test, like=A", "like=A"), arch=arch)
    seen = []

    def last_lanes(inputs):  # B (raw) gets word 0 of A's tiles: A's rows reversed, 8 lanes
        a = inputs["A"]
        seen.append(a.shape)
        out = np.zeros_like(a)
        out[:, :8] = a[:, ::-1][:, :8]
        return out

    report = fuzz(program, arch, LoadedReference(last_lanes, "ref"), "numpy", 10, seed=2)
    assert report.failure is None and report.examples == 10
    assert all(len(s) == 2 and s[1] == 256 for s in seen)  # raw arrays: tiles x 256 words


def test_a_broken_plugin_is_named(plugin):
    (plugin / "revlayout.py").write_text("raise RuntimeError('broken on purpose')\n")
    with pytest.raises(InputError, match="layout plug-in 'rev'.*broken on purpose"):
        layout_module.get_layout("rev_test")


def test_run_view_reinterprets_bits(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.pimasm").write_text(".output B, rows=0:1\nli v0, -1.5\nst v0, [0, 0]\n")
    for view, dtype, value in (("f32", np.float32, -1.5), ("i32", np.int32, -1077936128),
                               (None, np.uint32, 0xBFC00000)):
        args = ["run", "k.pimasm", "--out", "r.npz"] + (["--view", view] if view else [])
        assert main(args) == 0
        b = np.load("r.npz")["B"]
        assert b.dtype == dtype and b[0, 0] == dtype(value)
        # the summary says what was written: the dtype and shape of every output
        shape = "x".join(map(str, b.shape))
        assert capsys.readouterr().out.rstrip().endswith(
            f"wrote r.npz (B {np.dtype(dtype).name} {shape})")


def test_layout_doc_states_the_read_back_dtypes():
    from pimisa.layoutdoc import layout_markdown

    text = layout_markdown()
    layout_module.get_layout("raw")  # loads the bundled layout modules
    bundled = {n for n, lay in layout_module.LAYOUTS.items()
               if type(lay).__module__.startswith("pimisa.")}
    assert {"raw", "hp16", "hp32", "mx_packed", "ocp_packed"} <= bundled
    for name in bundled:
        assert f"## {name}:" in text, name
    assert "| raw, mx_packed, mx_packed16, ocp_packed | uint32 (the words) |" in text
    assert "shared/" not in text  # the docs stand on their own
