"""PIM quantization time: the DRAM scheduler's time of the real MX kernel launch, cached.

To quantize a weight matrix, the host launches the kernel `mx{9,6,4}_{row,col}` (or the one the
scenario names) over the matrix's hp16 tiles spread over every PIM unit of every bank, channel
and stack of the GPU's memory: slots = ceil(tiles / units), and `pimisa.dram.time_launch`
schedules the launch's command stream on the GPU's DRAM preset with the GPU's stack count.
A block is quantized by one launch per weight matrix, or by one launch over the tiles of all
four (`block(..., per_block=True)`): the four share the PIM units, so a small weight does not
take a whole slot of every unit. Utilisation = tiles / (slots x units).

Scheduling a launch is the slow part, so its result is cached in memory and on disk, keyed by
the kernel's command records, the architecture (geometry and timing), the slot count and the
fingerprint of the scheduler's rules table (`pimisa.dram.rules.fingerprint`): a changed
kernel, preset or timing rule never reuses a stale time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pimisa.arch import Arch
from pimisa.dram import rules, time_launch
from pimisa.errors import InputError
from pimisa.fileio import atomic_write_bytes
from pimisa.isa import RECORD_DTYPE
from pimisa.jitq.gpu import Gpu
from pimisa.jitq.workloads import Weight
from pimisa.kernelcache import assemble_cached
from pimisa.kernels import resolve
from pimisa.layout import get_layout
from pimisa.program import Program

CACHE_VERSION = 1
INPUT_LAYOUTS = ("hp16", "hp16_bf16")  # float32 weights, BF16 weights (twice per tile)
Defines = tuple[tuple[str, int], ...]  # kernel parameters, sorted by name


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/pimisa/jitq, or ~/.cache/pimisa/jitq."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pimisa" / "jitq"


@dataclass(frozen=True)
class Launch:
    """What the analysis keeps of one scheduled launch (counts per channel)."""

    ns: float
    cycles: int
    slots: int
    acts: int
    row_hits: int
    row_misses: int
    refreshes: int


@dataclass(frozen=True)
class BlockPim:
    """PIM time of quantizing one block's four weights in one direction."""

    seconds: float
    acts: int  # DRAM row activations per channel, over the block's launches
    tiles: int
    slots: int  # over the block's launches
    units: int

    @property
    def utilisation(self) -> float:
        """Share of the PIM units' tile slots that hold a tile."""
        return self.tiles / (self.slots * self.units)


@dataclass(frozen=True)
class TileCost:
    """A kernel's cost per tile: PIM commands, elements quantized, the one-slot launch."""

    commands: int
    elements: int
    launch: Launch

    @property
    def slots_per_element(self) -> float:
        """PIM command slots per quantized element (every command acts on every lane)."""
        return self.commands / self.elements


def kernel_name(fmt: str, direction: str, hp: str = "fp32", lane_bits: int = 32) -> str:
    """The bundled kernel that quantizes `hp` weights to `fmt` in `direction` on lanes of
    `lane_bits`, e.g. mx6_row (float32), mx6_row_bf16 (BF16, 32-bit lanes) or mx6_row_bf16x16
    (BF16, 16-bit lanes); InputError for float32 weights on 16-bit lanes."""
    if lane_bits == 16:
        if hp == "fp32":
            raise InputError("pim.hp fp32: float32 weights do not fit the 16-bit lanes of the "
                             "GPU's PIM memory: set pim.hp = \"bf16\", or give the GPU 32-bit "
                             "lanes (dram = \"NAME:lane_bits=32\")")
        return f"{fmt}_{direction}_{hp}x16"
    return f"{fmt}_{direction}" + ("" if hp == "fp32" else f"_{hp}")


def input_region(program: Program) -> str:
    """The name of the kernel's hp16 or hp16_bf16 input region (the weights it quantizes)."""
    for region in program.meta.regions:
        if region.kind == "input" and region.layout in INPUT_LAYOUTS:
            return region.name
    raise InputError(f"kernel {program.meta.name!r} has no {' or '.join(INPUT_LAYOUTS)} "
                     "input region")


class PimTimer:
    """The scheduler-backed PIM model of the JIT-Q analysis (see `report.PimModel`)."""

    def __init__(self, cache_dir: Path | None = None, use_disk: bool = True) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.use_disk = use_disk
        self._programs: dict[tuple[str, str, Defines], Program] = {}
        self._arches: dict[tuple[object, ...], Arch] = {}
        self._launches: dict[str, Launch] = {}
        self.scheduled = 0  # launches scheduled (cache misses), for the benchmark

    def program(self, kernel: str, arch: Arch, defines: Defines = ()) -> Program:
        """The assembled kernel for `arch` with `defines` (pimisa.kernelcache: assembled once,
        then read from its on-disk cache)."""
        key = (kernel, arch.name, defines)
        if key not in self._programs:
            self._programs[key] = assemble_cached(resolve(kernel), arch, dict(defines) or None)
        return self._programs[key]

    def _arch(self, gpu: Gpu) -> Arch:
        key = (gpu.dram, gpu.hbm_stacks, gpu.pim)
        if key not in self._arches:
            self._arches[key] = gpu.arch()
        return self._arches[key]

    def tiles(self, gpu: Gpu, weight: Weight, kernel: str, defines: Defines = ()) -> int:
        """Tiles of `weight` in `kernel`'s input layout."""
        arch = self._arch(gpu)
        program = self.program(kernel, arch, defines)
        layout = program.meta.region(input_region(program)).layout
        return get_layout(layout).tiles(weight.shape, arch.geometry)

    def launch(self, gpu: Gpu, weight: Weight, fmt: str, direction: str,
               kernel: str | None = None, defines: Defines = ()) -> Launch:
        """The timed launch that quantizes `weight` on all of `gpu`'s PIM units."""
        geometry = self._arch(gpu).geometry
        kernel = kernel or kernel_name(fmt, direction, lane_bits=geometry.lane_bits)
        units = geometry.total_units
        tiles = self.tiles(gpu, weight, kernel, defines)
        return self.timed(gpu, kernel, max(1, -(-tiles // units)), defines)

    def block(self, gpu: Gpu, weights: list[Weight], fmt: str, direction: str,
              kernel: str | None = None, per_block: bool = False,
              defines: Defines = ()) -> BlockPim:
        """PIM time of one block's weights: one launch each, or one launch over all tiles."""
        geometry = self._arch(gpu).geometry
        kernel = kernel or kernel_name(fmt, direction, lane_bits=geometry.lane_bits)
        units = geometry.total_units
        tiles = [self.tiles(gpu, w, kernel, defines) for w in weights]
        groups = [sum(tiles)] if per_block else tiles
        launches = [self.timed(gpu, kernel, max(1, -(-t // units)), defines) for t in groups]
        return BlockPim(sum(x.ns for x in launches) * 1e-9, sum(x.acts for x in launches),
                        sum(tiles), sum(x.slots for x in launches), units)

    def timed(self, gpu: Gpu, kernel: str, slots: int, defines: Defines = ()) -> Launch:
        """The scheduler's launch of `kernel` over `slots` tile slots (memoised)."""
        arch = self._arch(gpu)
        program = self.program(kernel, arch, defines)
        key = _key(kernel, program, arch, slots)
        hit = self._launches.get(key) or self._load(key)
        if hit is None:
            summary = time_launch(program, arch, slots)
            hit = Launch(summary.ns, summary.cycles, slots, summary.commands["ACT"],
                         summary.row_hits, summary.row_misses, summary.refreshes)
            self.scheduled += 1
            self._store(key, hit)
        self._launches[key] = hit
        return hit

    def tile_cost(self, gpu: Gpu, kernel: str, defines: Defines = ()) -> TileCost:
        """Commands per tile, elements per tile and the one-slot launch of `kernel`."""
        arch = self._arch(gpu)
        program = self.program(kernel, arch, defines)
        probe = Weight("probe", 1 << 12, 1 << 12)
        elements = probe.out * probe.inp // self.tiles(gpu, probe, kernel, defines)
        return TileCost(len(program.records), elements, self.timed(gpu, kernel, 1, defines))

    def seconds(self, gpu: Gpu, weight: Weight, fmt: str, direction: str) -> float:
        """Seconds to quantize `weight`."""
        return self.launch(gpu, weight, fmt, direction).ns * 1e-9

    def row_opens(self, gpu: Gpu, weight: Weight, fmt: str, direction: str) -> int:
        """DRAM row activations per channel of that launch."""
        return self.launch(gpu, weight, fmt, direction).acts

    def _path(self, key: str) -> Path:
        return self.cache_dir / f"{key}.json"

    def _load(self, key: str) -> Launch | None:
        if not self.use_disk:
            return None
        try:
            doc = json.loads(self._path(key).read_text(encoding="utf-8"))
            return Launch(**doc)
        except (OSError, ValueError, TypeError):
            return None  # absent or unreadable: schedule again and overwrite

    def _store(self, key: str, launch: Launch) -> None:
        if not self.use_disk:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self._path(key), json.dumps(asdict(launch)).encode())
        except (OSError, InputError):
            self.use_disk = False  # an unwritable cache only costs speed


def _key(kernel: str, program: Program, arch: Arch, slots: int) -> str:
    records = np.ascontiguousarray(program.records, dtype=RECORD_DTYPE)
    h = hashlib.blake2b(digest_size=16)
    h.update(memoryview(records).cast("B"))
    h.update(json.dumps([CACHE_VERSION, rules.fingerprint(), kernel, program.meta.tile_rows,
                         asdict(arch.geometry), asdict(arch.timing), slots],
                        sort_keys=True).encode())
    return f"{kernel}-{h.hexdigest()}"
