"""What a kernel's outputs should be: golden-format references and users' Python references.

A reference is a function `ref(inputs) -> outputs`: `inputs` maps the kernel's input region
names to numpy arrays (as placed), the result is a dict by output region name or, for a kernel
with a single output, one array. `pimisa fuzz --ref FILE.py:FUNC` loads one from a file; the
module may also define `STRATEGIES = {"REGION": strategy}` (hypothesis strategies, or
functions `(region, geometry) -> strategy`) to replace the input strategy of a region.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pimisa.errors import InputError, UsageError
from pimisa.mx.formats import FORMATS, check_direction, get_format, quantize_dequantize
from pimisa.program import Program

Reference = Callable[[Mapping[str, np.ndarray]], Any]


@dataclass
class LoadedReference:
    """A reference function, where it came from and the module's input strategies."""

    func: Reference
    name: str
    strategies: dict[str, Any] = field(default_factory=dict)


def golden_reference(program: Program, fmt: str, direction: str) -> LoadedReference:
    """The golden model of `fmt` as a reference for a kernel with one (float32) input x and
    one output, which must hold quantize_dequantize(x, fmt, direction). (A kernel writing a
    packed output, mx_packed or ocp_packed, is checked block by block by
    pimisa.mx.fuzzing.fuzz_kernel instead.)"""
    if fmt not in FORMATS:
        raise UsageError(f"--golden {fmt!r}: expected one of {', '.join(FORMATS)}")
    get_format(fmt)
    check_direction(direction)
    inputs = [r.name for r in program.meta.regions if r.kind == "input"]
    outputs = [r.name for r in program.meta.regions if r.kind == "output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(f"kernel {program.meta.name or '(unnamed)'!r}: --golden needs one "
                         f"input and one output region (it has {len(inputs)} and "
                         f"{len(outputs)}); use --ref for other kernels")

    from pimisa.mx.fuzzing import writes_packed

    if writes_packed(program):
        raise InputError(f"kernel {program.meta.name or '(unnamed)'!r} writes packed blocks: "
                         "fuzz it with pimisa.mx.fuzzing.fuzz_kernel")

    def ref(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = np.asarray(arrays[inputs[0]]).view(np.float32)
        return {outputs[0]: quantize_dequantize(x, fmt, direction)}

    return LoadedReference(ref, f"golden {fmt} {direction}")


def load_reference(spec: str) -> LoadedReference:
    """`FILE.py:FUNC` -> the function and the module's STRATEGIES; UsageError/InputError."""
    path_text, sep, func_name = spec.rpartition(":")
    if not sep or not path_text or not func_name.isidentifier():
        raise UsageError(f"--ref {spec!r}: expected FILE.py:FUNCTION")
    path = Path(path_text)
    if path.suffix != ".py" or not path.is_file():
        raise InputError(f"--ref {spec}: {path_text} is not a .py file")
    name = f"pimisa_reference_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise InputError(f"--ref {spec}: cannot load {path_text}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's module: report any error in it as an input error
        raise InputError(f"--ref {spec}: importing {path_text} failed: "
                         f"{type(exc).__name__}: {exc}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise InputError(f"--ref {spec}: {path_text} defines no function {func_name!r}")
    strategies = getattr(module, "STRATEGIES", {})
    if not isinstance(strategies, dict):
        raise InputError(f"--ref {spec}: STRATEGIES must be a dict by input region name")
    return LoadedReference(func, f"{path.name}:{func_name}", dict(strategies))


def expected_outputs(ref: LoadedReference, program: Program,
                     inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Call the reference and normalise its result to a dict of arrays by output name."""
    outputs = [r.name for r in program.meta.regions if r.kind == "output"]
    try:
        result = ref.func({k: v.copy() for k, v in inputs.items()})
    except Exception as exc:  # the user's reference failing is an input error, located
        raise InputError(f"reference {ref.name} raised {type(exc).__name__}: {exc}") from None
    if not isinstance(result, Mapping):
        if len(outputs) != 1:
            raise InputError(f"reference {ref.name} returned one array, but the kernel has "
                             f"{len(outputs)} outputs ({', '.join(outputs)}): return a dict")
        result = {outputs[0]: result}
    unknown = sorted(set(result) - set(outputs))
    if unknown:
        raise InputError(f"reference {ref.name} returned {unknown[0]!r}, which is not an "
                         f"output region of the kernel (outputs: {', '.join(outputs)})")
    return {name: np.asarray(value) for name, value in result.items()}
