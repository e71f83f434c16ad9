"""Timing a launch: `time_launch` (statistics only, cached) and `start_launch` (for traces)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from pimisa.arch import Arch, load_arch
from pimisa.dram.core import CoreRun
from pimisa.dram.launch import check_launch
from pimisa.dram.summary import TimingSummary
from pimisa.isa import RECORD_DTYPE
from pimisa.program import Program

CACHE_SIZE = 1024
_cache: OrderedDict[tuple[object, ...], TimingSummary] = OrderedDict()


def _as_arch(arch: Arch | str) -> Arch:
    return arch if isinstance(arch, Arch) else load_arch(arch)


def start_launch(program: Program, arch: Arch | str, slots: int = 1) -> CoreRun:
    """Check the launch and set up its C scheduler run (not started yet)."""
    arch = _as_arch(arch)
    check_launch(program, arch, slots)
    return CoreRun(program.records, arch, slots, program.meta.tile_rows, program.location)


def time_launch(program: Program, arch: Arch | str, slots: int = 1) -> TimingSummary:
    """Time `program` run in `slots` tile slots on every PIM unit of `arch`.

    Fast (C core, no per-command output) and memoised on the records, tile size, preset and
    slots, so sweeps may call it freely. Raises InputError for a launch that does not fit.
    """
    arch = _as_arch(arch)
    records = np.ascontiguousarray(program.records, dtype=RECORD_DTYPE)
    digest = hashlib.blake2b(memoryview(records).cast("B"), digest_size=16).digest()
    key = (digest, program.meta.tile_rows, arch.name, arch.geometry, arch.timing, slots)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    run = start_launch(program, arch, slots)
    run.finish()
    summary = TimingSummary.from_stats(run.stats(), arch, slots)
    _cache[key] = summary
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return summary
