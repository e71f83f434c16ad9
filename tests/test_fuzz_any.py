"""Fuzzing any kernel: a Python reference or a golden format, inputs per layout, mask-aware
source location of the wrong word, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from pimisa.arch import load_arch
from pimisa.asm import assemble_file, assemble_source
from pimisa.cli import main
from pimisa.errors import InputError, UsageError
from pimisa.mx.fuzzing import check_outputs, fuzz, fuzz_arch
from pimisa.references import LoadedReference, golden_reference, load_reference
from pimisa.testing import kernel_inputs, raw_arrays

DATA = Path(__file__).parent / "data" / "fuzz"
KERNEL = DATA / "axpb.pimasm"
REF = f"{DATA / 'axpb_ref.py'}"
ARCH = fuzz_arch(load_arch("hbm3"))


def test_reference_from_a_file_passes_and_its_strategies_are_used():
    ref = load_reference(f"{REF}:axpb")
    assert set(ref.strategies) == {"X"}
    program = assemble_file(KERNEL, ARCH)
    seen = []

    def spy(inputs):
        seen.append(inputs["X"])
        return ref.func(inputs)

    report = fuzz(program, ARCH, LoadedReference(spy, "spy", ref.strategies), "c", 10, seed=1)
    assert report.failure is None and report.examples == 10
    assert all(x.shape == (1, 256) and len(set(x.ravel().tolist())) == 1 for x in seen)


def test_a_wrong_element_is_named_with_its_store():
    program = assemble_file(KERNEL, ARCH)
    report = fuzz(program, ARCH, load_reference(f"{REF}:wrong"), "c", 20, seed=2)
    failure = report.failure
    assert failure is not None and failure.index == (0, 43)
    assert "lane 3: region 'Y' word 5 " in failure.words[0].where
    assert failure.source == f"{KERNEL}:10:5"
    assert failure.inputs[0].startswith("X[0, 43] = ")


MASKED = """.input X, rows=0:1, dtype=int32
.output Y, rows=1:2, like=X
ld v0, [0, 0]
st v0, [1, 0]
mset m0, 0b1000
li v9, 7
st v9, [1, 0] ?m0
mset m1, 0
st v9, [1, 0] ?m1
"""


def test_the_store_that_wrote_the_lane_is_found_through_predicates():
    program = assemble_source(MASKED, "masked.pimasm", ARCH)
    x = np.arange(256, dtype=np.int32).reshape(1, 256)
    copy = LoadedReference(lambda inputs: inputs["X"], "copy")
    mismatch = check_outputs(program, ARCH, {"X": x}, copy, "numpy")
    assert mismatch is not None and mismatch.index == (0, 3)
    assert mismatch.source == "masked.pimasm:7:1"  # not the later store under the empty m1
    assert "expected  3 (0x00000003)" in mismatch.render()
    assert "got       7 (0x00000007)" in mismatch.render()


def test_nan_compares_equal_and_shapes_must_match():
    program = assemble_file(KERNEL, ARCH)
    x = np.full((2, 256), np.nan, np.float32)
    nan = LoadedReference(lambda i: np.full((2, 256), np.float32("nan")), "nan")
    assert check_outputs(program, ARCH, {"X": x}, nan) is None
    short = LoadedReference(lambda i: np.zeros((2, 3), np.float32), "short")
    text = check_outputs(program, ARCH, {"X": x}, short).render()
    assert "shape (2, 3)" in text and "(2, 256)" in text


def test_golden_reference_needs_one_input_and_output():
    program = assemble_source(".input A, rows=0:1\n.input B, rows=1:2\n.output C, "
                              "rows=2:3\n", arch=ARCH)
    with pytest.raises(InputError, match="one input and one output"):
        golden_reference(program, "mxint8", "row")
    with pytest.raises(UsageError):
        golden_reference(program, "mx7", "row")


def test_reference_errors_are_input_errors(tmp_path):
    program = assemble_file(KERNEL, ARCH)
    x = {"X": np.zeros((1, 256), np.float32)}
    boom = LoadedReference(lambda i: 1 / 0, "boom")
    with pytest.raises(InputError, match="reference boom raised ZeroDivisionError"):
        check_outputs(program, ARCH, x, boom)
    bad = LoadedReference(lambda i: {"Q": i["X"]}, "bad")
    with pytest.raises(InputError, match="'Q', which is not an output"):
        check_outputs(program, ARCH, x, bad)
    (tmp_path / "broken.py").write_text("import nosuchmodule\n")
    with pytest.raises(InputError, match="importing .* failed: ModuleNotFoundError"):
        load_reference(f"{tmp_path / 'broken.py'}:f")
    with pytest.raises(InputError, match="defines no function 'g'"):
        load_reference(f"{REF}:g")
    with pytest.raises(UsageError):
        load_reference("nocolon")


@settings(max_examples=20)
@given(raw_arrays(3, 40, "int32"))
def test_raw_arrays_have_the_shape_and_dtype(x):
    assert x.shape == (3, 40) and x.dtype == np.int32


def test_kernel_inputs_follow_layouts():
    program = assemble_source(".input A, rows=0:8, layout=hp16\n.input B, rows=8:9, "
                              "dtype=uint32, width=20\n.output C, rows=9:10\n", arch=ARCH)

    @settings(max_examples=15)
    @given(kernel_inputs(program, ARCH.geometry))
    def check(inputs):
        assert inputs["A"].dtype == np.float32 and inputs["A"].ndim == 2
        assert inputs["B"].dtype == np.uint32 and inputs["B"].shape[1] == 20
        assert 1 <= inputs["B"].shape[0] <= 2 * ARCH.geometry.total_units + 1

    check()


def test_cli(capsys):
    assert main(["fuzz", str(KERNEL), "--ref", f"{REF}:axpb", "--max-examples", "5",
                 "--seed", "1"]) == 0
    assert "5 examples matched axpb_ref.py:axpb" in capsys.readouterr().out
    assert main(["fuzz", str(KERNEL), "--ref", f"{REF}:wrong", "--max-examples", "5",
                 "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert "mismatch in output Y[0, 43]" in out and "axpb.pimasm:10:5" in out
    assert main(["fuzz", str(KERNEL), "--golden", "mxint8"]) == 2
    assert "--golden needs --direction" in capsys.readouterr().err
    assert main(["fuzz", str(KERNEL), "--ref", f"{REF}:axpb", "--direction", "row"]) == 2
