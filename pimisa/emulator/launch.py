"""A whole launch: lay input tensors out, run every slot, read the declared outputs back.

Slots come from the inputs (`pimisa.layout.slots_needed`). The logical shape read back for an
output region is, in order: its `shape` parameter ("RxC"; "*xC": as many rows as the input
below), the shape of the input named by its `like` parameter, the shape of the first input with
the same layout, or None (the layout's whole-region default, e.g. every tile of a raw region).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pimisa.arch import Geometry
from pimisa.emulator.backends import Backend
from pimisa.emulator.run import ProgressFn, RunStats, run
from pimisa.emulator.state import Machine
from pimisa.emulator.trace import TraceWriter
from pimisa.errors import InputError
from pimisa.layout import get_layout, slots_needed
from pimisa.program import Program, Region


@dataclass
class LaunchResult:
    """Outputs by region name, run statistics and the final machine state."""

    outputs: dict[str, np.ndarray]
    stats: RunStats
    machine: Machine


def _parse_shape(region: Region, text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(p) for p in str(text).lower().replace(",", "x").split("x"))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise InputError(f"output {region.name!r}: bad shape parameter {text!r} (want RxC)")
    return shape


def output_shape(region: Region, program: Program,
                 inputs: Mapping[str, np.ndarray]) -> tuple[int, ...] | None:
    """The logical shape to read output `region` back as (see the module docstring)."""
    like = region.params.get("like")
    if like is not None and like not in inputs:
        raise InputError(f"output {region.name!r} is declared like input {like!r}, "
                         "which was not given")
    model = tuple(inputs[str(like)].shape) if like is not None else next(
        (tuple(inputs[r.name].shape) for r in program.meta.regions
         if r.kind == "input" and r.layout == region.layout and r.name in inputs), None)
    if "shape" in region.params:
        text = str(region.params["shape"])
        if text.startswith("*"):  # the model input's row count
            if model is None:
                raise InputError(f"output {region.name!r}: shape {text!r} takes its rows from "
                                 "an input of its layout (or like=), and none was given")
            return (model[0], *_parse_shape(region, "1" + text[1:])[1:])
        return _parse_shape(region, text)
    return model


def prepare(program: Program, geometry: Geometry,
            inputs: Mapping[str, np.ndarray]) -> tuple[Machine, dict[str, np.ndarray]]:
    """Check the inputs against the kernel's regions, size the machine, place the tensors."""
    meta = program.meta
    declared = {r.name: r for r in meta.regions if r.kind == "input"}
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        raise InputError(f"kernel {meta.name or '(unnamed)'!r} has no input {unknown[0]!r} "
                         f"(its inputs: {', '.join(declared) or 'none'})")
    missing = [name for name in declared if name not in inputs]
    if missing:
        raise InputError(f"missing input {missing[0]!r} (the kernel's inputs: "
                         f"{', '.join(declared)})")
    checked: dict[str, np.ndarray] = {}
    for name, region in declared.items():
        layout = get_layout(region.layout)
        layout.check_region(region, geometry)
        checked[name] = layout.check_array(name, inputs[name])
    for region in meta.regions:
        if region.kind == "output":
            get_layout(region.layout).check_region(region, geometry)
    slots = slots_needed(meta, geometry, {k: v.shape for k, v in checked.items()})
    machine = Machine(geometry, meta.tile_rows, slots)
    for name, array in checked.items():
        region = declared[name]
        get_layout(region.layout).place(machine.region_words(region), array)
    return machine, checked


def read_outputs(program: Program, machine: Machine,
                 inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every output region of the kernel, read back through its layout."""
    out = {}
    for region in program.meta.regions:
        if region.kind == "output":
            shape = output_shape(region, program, inputs)
            layout = get_layout(region.layout)
            out[region.name] = layout.read_back(machine.region_words(region), shape)
    return out


def launch(
    program: Program,
    geometry: Geometry,
    inputs: Mapping[str, np.ndarray],
    backend: Backend | str | None = None,
    *,
    progress: ProgressFn | None = None,
    trace: TraceWriter | None = None,
) -> LaunchResult:
    """Lay out `inputs` (by region name), run the kernel over every tile, read its outputs."""
    machine, checked = prepare(program, geometry, inputs)
    stats = run(program, machine, backend, progress=progress, trace=trace)
    return LaunchResult(read_outputs(program, machine, checked), stats, machine)
