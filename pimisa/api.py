"""The supported Python API in one place, with one signature style (docs/api.md).

Every function takes the thing it works on first (a kernel, a Program, a tensor) and everything
else by keyword. `arch` is always a preset name, a .toml path or an Arch, and None means the
kernel's own `.arch` (else hbm3). Kernels are given as a .pimasm path, a bundled kernel name, a
.pimb path or a Program. Errors are pimisa.errors exceptions (InputError, UsageError,
SourceError) with a one-line message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pimisa.arch import DEFAULT_ARCH, Arch, load_arch
from pimisa.dram import TimingSummary, slots_for_tiles, time_launch
from pimisa.emulator import Backend, LaunchResult, launch
from pimisa.linecost import LineCosts, line_costs
from pimisa.mx.fuzzing import FuzzReport, explain, fuzz_arch, fuzz_kernel, writes_packed
from pimisa.mx.quantize import QuantizeResult
from pimisa.program import Program
from pimisa.references import LoadedReference, Reference, golden_reference, load_reference

Kernel = str | Path | Program
ArchSpec = Arch | str | None

__all__ = ["assemble", "fuzz", "profile", "quantize", "run", "time"]


def _arch(arch: ArchSpec, program: Program | None = None) -> Arch:
    if isinstance(arch, Arch):
        return arch
    return load_arch(arch or (program.meta.arch if program else None) or DEFAULT_ARCH)


def assemble(kernel: Kernel, *, arch: ArchSpec = None,
             defines: dict[str, int] | None = None) -> Program:
    """A kernel as a Program: a source or bundled name assembled (with `defines` for its
    `.default` parameters), a .pimb loaded, a Program returned as it is."""
    if isinstance(kernel, Program):
        return kernel
    from pimisa.kernels import load

    return load(str(kernel), arch if arch is not None else None, defines)


def run(kernel: Kernel, inputs: Mapping[str, np.ndarray], *, arch: ArchSpec = None,
        backend: Backend | str | None = None,
        defines: dict[str, int] | None = None) -> LaunchResult:
    """Run the kernel over input tensors (by region name) on the emulator; the outputs come
    back through their layouts (docs/layout.md)."""
    program = assemble(kernel, arch=arch, defines=defines)
    return launch(program, _arch(arch, program).geometry, inputs, backend)


def time(kernel: Kernel, *, arch: ArchSpec = None, tiles: int | None = None,
         defines: dict[str, int] | None = None) -> TimingSummary:
    """DRAM timing of a launch over `tiles` tiles (default: one per PIM unit)."""
    program = assemble(kernel, arch=arch, defines=defines)
    a = _arch(arch, program)
    return time_launch(program, a, slots_for_tiles(tiles or a.geometry.total_units, a.geometry))


def profile(kernel: str | Path, *, arch: ArchSpec = None, tiles: int | None = None,
            defines: dict[str, int] | None = None) -> LineCosts:
    """Per-source-line and per-macro-invocation cost of a launch (`pimisa time --by-line`)."""
    from pimisa.asm import assemble_path
    from pimisa.errors import SourceError
    from pimisa.kernels import resolve

    result = assemble_path(resolve(kernel), None if arch is None else _arch(arch), defines)
    if result.program is None:
        raise SourceError(result.rendered)
    a = _arch(arch, result.program)
    slots = slots_for_tiles(tiles or a.geometry.total_units, a.geometry)
    return line_costs(result.program, a, slots, result.sources, result.record_stacks,
                      result.stacks)


def quantize(tensor: np.ndarray, *, fmt: str, direction: str, arch: ArchSpec = None,
             kernel: Kernel | None = None, hp: str = "fp32",
             backend: Backend | str | None = None, golden: bool = False,
             defines: dict[str, int] | None = None) -> QuantizeResult:
    """Quantize a 2-D tensor to `fmt` blocks along `direction` on the emulator with the
    bundled kernel FORMAT_{row,col} (BF16 weights: hp="bf16"), or `kernel`; `defines` set
    the kernel's parameters; `golden` also encodes the tensor with the golden model
    (`result.golden_problem()`)."""
    from pimisa.mx.quantize import check_choice, kernel_name
    from pimisa.mx.quantize import quantize as quantize_tensor

    check_choice(fmt, direction)
    if kernel is None:
        a = _arch(arch)
        kernel = kernel_name(fmt, direction, hp, a) if defines else None
        program = None if kernel is None else assemble(kernel, arch=a, defines=defines)
    else:
        program = assemble(kernel, arch=arch, defines=defines)
        a = _arch(arch, program)
    return quantize_tensor(tensor, fmt, direction, a, backend, golden, program, hp)


def fuzz(kernel: Kernel, *, golden: str | None = None, direction: str | None = None,
         ref: str | Reference | None = None, arch: ArchSpec = None,
         backend: Backend | str | None = None, max_examples: int = 100,
         seed: int | None = None, defines: dict[str, int] | None = None) -> FuzzReport:
    """Fuzz the kernel on one channel of `arch` against a golden format (`golden` and
    `direction`) or a reference (`ref`: a function, or "FILE.py:FUNC")."""
    from pimisa.errors import UsageError

    if (golden is None) == (ref is None):
        raise UsageError("fuzz: give golden= (with direction=) or ref=")
    a = fuzz_arch(_arch(arch, kernel if isinstance(kernel, Program) else None))
    program = assemble(kernel, arch=a, defines=defines)
    if golden is not None:
        if direction is None:
            raise UsageError("fuzz: golden= needs direction='row' or 'col'")
        if writes_packed(program):
            report = fuzz_kernel(program, golden, direction, a, backend, max_examples, seed)
            return _explained(report, kernel, a, defines)
        reference = golden_reference(program, golden, direction)
    elif isinstance(ref, str):
        reference = load_reference(ref)
    else:
        reference = LoadedReference(ref, getattr(ref, "__name__", "reference"))  # type: ignore[arg-type]
    from pimisa.mx.fuzzing import fuzz as fuzz_any

    return _explained(fuzz_any(program, a, reference, backend, max_examples, seed), kernel, a,
                      defines)


def _explained(report: FuzzReport, kernel: Kernel, arch: Arch,
               defines: dict[str, int] | None) -> FuzzReport:
    """The report with the macro call sites of its wrong words' stores (kernel sources only)."""
    if not isinstance(kernel, Program):
        explain(report.failure, str(kernel), arch, defines)
    return report
