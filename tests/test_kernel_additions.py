"""The ISA additions of the bundled MX kernels (pimisa.kernels.ISA_ADDITIONS): each turns on
its instruction in every float32 MX kernel, which stays bit-exact with the golden model on both
backends and survives fuzzing; without a define the kernels use none of them (the paper's ALU)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.errors import InputError
from pimisa.isa import BY_MNEMONIC
from pimisa.kernels import ISA_ADDITIONS, addition_defines
from pimisa.mx.formats import encode
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.fuzzing import fuzz_arch, fuzz_kernel
from pimisa.mx.quantize import load_quant_kernel, quantize

ARCH = fuzz_arch(load_arch("hbm3"))
CASES = [(f, d) for f in ("mx9", "mx6", "mx4") for d in ("row", "col")]
SETS = [(a.name,) for a in ISA_ADDITIONS] + [tuple(a.name for a in ISA_ADDITIONS)]


def _opcodes(program) -> set[int]:
    return set(np.unique(program.records["op"]).tolist())


@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_the_bundled_kernels_use_no_addition(fmt: str, direction: str) -> None:
    used = _opcodes(load_quant_kernel(f"{fmt}_{direction}", ARCH))
    assert not used & {BY_MNEMONIC[a.mnemonic].opcode for a in ISA_ADDITIONS}


@pytest.mark.parametrize("additions", SETS, ids="+".join)
@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_additions_are_used_and_bit_exact(fmt: str, direction: str, additions) -> None:
    program = load_quant_kernel(f"{fmt}_{direction}", ARCH, addition_defines(additions))
    assert {BY_MNEMONIC[n].opcode for n in additions} <= _opcodes(program)
    x = adversarial(np.random.default_rng(5), (40, 300))
    x[3, 9] = np.nan
    for backend in ("c", "numpy"):
        result = quantize(x, fmt, direction, ARCH, backend, program=program)
        want = encode(x, fmt, direction)
        for name in ("codes", "shared_exp", "micro_exp"):
            assert np.array_equal(getattr(result.codes, name), getattr(want, name)), name


@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_all_additions_survive_fuzzing(fmt: str, direction: str) -> None:
    program = load_quant_kernel(f"{fmt}_{direction}", ARCH, addition_defines(SETS[-1]))
    report = fuzz_kernel(program, fmt, direction, ARCH, "c", 25, seed=3)
    assert report.failure is None, report.failure.render()


def test_unknown_addition() -> None:
    with pytest.raises(InputError, match="unknown ISA addition 'fma'"):
        addition_defines(["fma"])


@pytest.mark.parametrize(("fmt", "direction"), CASES)
def test_the_bf16_kernels_take_the_additions_too(fmt: str, direction: str) -> None:
    program = load_quant_kernel(f"{fmt}_{direction}_bf16", ARCH, addition_defines(SETS[-1]))
    assert {BY_MNEMONIC[n].opcode for n in SETS[-1]} <= _opcodes(program)
    x = adversarial(np.random.default_rng(8), (40, 300))
    x = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    result = quantize(x, fmt, direction, ARCH, "c", golden=True, program=program)
    assert result.golden_problem() is None
