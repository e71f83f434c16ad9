"""Streaming quantization: a tensor of any size through the emulated kernel in bounded memory.

The tensor is cut into bands of whole tile rows (16 tensor rows each, 32 for OCP; blocks of both
directions lie inside one tile row, so a band's codes are exactly those rows of the whole
tensor's codes). Each band is one launch of `band_slots` tile slots: lay it out, emulate, read
the packed blocks back, check them against the golden model, hand them to a sink, and reuse the
same machine for the next band. Nothing of the size of the tensor is ever allocated: peak memory
is about BYTES_PER_ELEMENT x the band's elements (plus the interpreter and the kernel), whatever
the tensor's size. The input may be a memory-mapped .npy (pimisa.tensorio.map_npy): a band is
read from it only when it is processed.

The PIM time is that of the whole tensor's launch (all slots at once), split into several
launches when the slots exceed a PIM unit's rows; it does not depend on the band size.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from pimisa import streamcore
from pimisa.arch import DEFAULT_ARCH, Arch, load_arch
from pimisa.dram import time_launch
from pimisa.emulator import Backend, get_backend, run
from pimisa.emulator.state import Machine
from pimisa.errors import InputError
from pimisa.executor import Executor, SerialExecutor
from pimisa.layout import HP16, SUB, get_layout
from pimisa.mx.formats import decode, encode
from pimisa.mx.layout import MXPacked, gather_blocks, tile_grid
from pimisa.mx.pack import PACKED_FORMATS
from pimisa.mx.quantize import (
    Codes,
    Footprint,
    as_tensor,
    block_mismatches,
    check_choice,
    check_dtype,
    first_mismatch,
    golden_message,
    kernel_name,
    kernel_regions,
    load_quant_kernel,
    packed_bytes,
    read_output,
    subtile_columns,
    tile_grid_of,
    tile_height,
)
from pimisa.program import Program

BAND_ELEMENTS = 1 << 22  # tensor elements per band (default): 16 MiB of float32
# Measured peak of a band's working set (machine, band copy, packed words, unpacked and golden
# codes, check and decode temporaries, writer buffers), bytes per band element; see
# tests/test_stream.py, which runs a tensor under an address-space limit derived from it.
BYTES_PER_ELEMENT = 40
PHASES = ("read", "layout", "emulate", "readout", "golden", "check", "decode", "write")


@dataclass(frozen=True)
class PimTime:
    """Modeled PIM time of the tensor's launches (DRAM scheduler)."""

    cycles: int
    ns: float
    launches: int
    slots: int


@dataclass
class Band:
    """What one band produced: its kernel codes, golden codes and check."""

    index: int
    row0: int  # first tensor row of the band
    hp: np.ndarray  # the band's float32 input (rows x cols)
    codes: Codes  # the kernel's, for the band's rows
    blocks: np.ndarray | None  # the kernel's packed words (read_output), None unless asked
    golden: Codes | None
    mismatches: int  # differing blocks (0 without golden)
    first: str | None  # the first differing block, in tensor coordinates
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))


@dataclass
class StreamResult(Footprint):
    """A streamed quantization: sizes, costs and the golden check of the whole tensor."""

    fmt: str
    direction: str
    shape: tuple[int, int]
    arch: Arch
    tiles: int
    bands: int
    band_rows: int
    band_slots: int
    commands: int
    backend: str
    pim: PimTime
    lp_bytes: int
    golden: bool
    mismatches: int = 0
    blocks: int = 0
    first_mismatch: str | None = None
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    @property
    def emulator_seconds(self) -> float:
        """Wall time of the emulated kernel runs."""
        return self.seconds["emulate"]

    def golden_problem(self) -> str | None:
        """None when the kernel matched the golden model (or no check ran), else the count
        and the first differing block."""
        if not self.mismatches:
            return None
        return golden_message(self.fmt, self.direction, self.mismatches, self.blocks,
                              self.first_mismatch or "")


def blocks_of(shape: tuple[int, int], direction: str, size: int = SUB) -> int:
    """Blocks of `size` a tensor of `shape` has along `direction`."""
    rows, cols = shape
    return rows * -(-cols // size) if direction == "row" else -(-rows // size) * cols


def band_tile_rows(shape: tuple[int, int], geometry, band_elements: int,
                   subtiles: int | None = None, height: int = SUB) -> int:
    """Tile rows per band: about `band_elements` elements, rounded to whole slots if possible
    (`subtiles`: sub-tiles side by side in a tile, default the lanes; `height`: tensor rows
    per tile, 16, or 32 for the OCP formats)."""
    subtiles = subtiles or geometry.lanes
    tr, tc = tile_grid(shape, subtiles, height)
    units = geometry.total_units
    per_tile_row = height * tc * height * subtiles
    k = max(1, band_elements // per_tile_row)
    whole = units // math.gcd(tc, units)  # tile rows that fill a whole number of slots
    if k >= whole:
        k = k // whole * whole
    return min(k, tr)


def pim_time(program: Program, arch: Arch, slots: int) -> PimTime:
    """Time of `slots` tile slots: one launch, or as many full launches as a unit's rows hold."""
    cap = max(1, arch.geometry.rows * arch.geometry.banks_per_pim_unit // program.meta.tile_rows)
    full, rest = divmod(slots, cap)
    cycles, ns, launches = 0, 0.0, 0
    for count, n in ((full, cap), (1 if rest else 0, rest)):
        if count:
            t = time_launch(program, arch, n)
            cycles += count * t.cycles
            ns += count * t.ns
            launches += count
    return PimTime(cycles, ns, launches, slots)


class BandRunner:
    """Runs bands of a tensor through one kernel on one reused machine."""

    def __init__(self, program: Program, arch: Arch, fmt: str, direction: str,
                 backend: Backend | str | None, max_slots: int) -> None:
        self.program, self.arch, self.fmt, self.direction = program, arch, fmt, direction
        self.source, self.region = kernel_regions(program, fmt, direction)
        self.layout = get_layout(self.source.layout)
        self.layout.check_region(self.source, arch.geometry)
        self.packed = get_layout(self.region.layout)
        self.packed.check_region(self.region, arch.geometry)
        self.backend = backend if backend is not None and not isinstance(backend, str) \
            else get_backend(backend)
        self.machine = Machine(arch.geometry, program.meta.tile_rows, max_slots)
        # the one-pass C steps (pimisa.streamcore) where the layouts are the bundled ones
        self.fast_place = type(self.layout) is HP16 and \
            self.source.rows * arch.geometry.cols == SUB * SUB
        self.fast_read = type(self.packed) is MXPacked and fmt in PACKED_FORMATS

    def _machine(self, slots: int) -> Machine:
        """A fresh-state machine of `slots` slots sharing the reused memory."""
        big = self.machine
        m = Machine.__new__(Machine)
        m.geometry, m.tile_rows, m.slots = big.geometry, big.tile_rows, slots
        m.mem = big.mem[:slots * big.tile_rows]
        if self.fast_place:  # either placement writes every word of the 256-word input rows
            rows = m.mem.reshape(slots, big.tile_rows, -1)
            rows[:, :self.source.row].fill(0)
            rows[:, self.source.row + self.source.rows:].fill(0)
        else:
            m.mem.fill(0)
        m.vregs = np.zeros_like(big.vregs)
        m.masks = np.zeros_like(big.masks)
        return m

    def run(self, hp: np.ndarray, seconds: dict[str, float], blocks: bool = True
            ) -> tuple[Codes, np.ndarray | None]:
        """The kernel's codes for one band (a float32 array of whole tile rows but the last)
        and, with `blocks`, its packed blocks (gather_blocks: tile row, tile, block, lane,
        word; else None)."""
        t0 = time.perf_counter()
        g = self.arch.geometry
        slots = self.layout.slots(hp.shape, g)
        machine = self._machine(slots)
        words = machine.region_words(self.source)
        if not (self.fast_place and streamcore.place_hp16(words, hp)):
            self.layout.place(words, hp)
        t1 = time.perf_counter()
        run(self.program, machine, self.backend)
        t2 = time.perf_counter()
        words = machine.region_words(self.region)
        codes = streamcore.read_mx(words, self.fmt, self.direction, hp.shape) \
            if self.fast_read else None
        if codes is None:
            codes, packed = read_output(self.region, words, self.fmt, self.direction, hp.shape)
        else:
            packed = gather_blocks(words, PACKED_FORMATS[self.fmt], hp.shape) if blocks \
                else None
        t3 = time.perf_counter()
        seconds["layout"] += t1 - t0
        seconds["emulate"] += t2 - t1
        seconds["readout"] += t3 - t2
        return codes, packed if blocks else None


def band_rows_of(shape: tuple[int, int], arch: Arch, band_elements: int,
                 subtiles: int | None = None, height: int = SUB) -> int:
    """Tensor rows per band (whole tiles of `height` rows)."""
    return height * band_tile_rows(shape, arch.geometry, band_elements, subtiles, height)


def band_starts(rows: int, band_rows: int) -> Iterator[tuple[int, int]]:
    """(first row, end row) of each band."""
    for r0 in range(0, rows, band_rows):
        yield r0, min(rows, r0 + band_rows)


def golden_codes(hp: np.ndarray, fmt: str, direction: str) -> tuple[Codes, float]:
    """The golden model's codes of a band and the seconds it took."""
    t0 = time.perf_counter()
    return encode(hp, fmt, direction), time.perf_counter() - t0


def check_band(codes: Codes, ref: Codes, row0: int,
               shape: tuple[int, int], seconds: dict[str, float]) -> tuple[int, str | None]:
    """(differing blocks, first differing block) of a band's kernel codes against the golden
    ones: fields compared, nothing decoded."""
    t0 = time.perf_counter()
    bad = block_mismatches(ref, codes)
    count = int(np.count_nonzero(bad))
    first = first_mismatch(ref, codes, bad, row0, shape) if count else None
    seconds["check"] += time.perf_counter() - t0
    return count, first


class Call:
    """A call handed to a helper thread: `result()` waits for it and returns its value or
    raises its exception; `wait()` only waits."""

    def __init__(self, fn: Callable, args: tuple) -> None:
        self._fn, self._args = fn, args
        self._done = threading.Event()
        self._value: object = None
        self._error: BaseException | None = None

    def run(self) -> None:
        """Run the call (on the helper thread)."""
        try:
            self._value = self._fn(*self._args)
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc
        finally:
            self._fn = self._args = None  # type: ignore[assignment]
            self._done.set()

    def wait(self) -> None:
        """Wait until the call has run."""
        self._done.wait()

    def result(self) -> object:
        """The call's value (its exception is raised here)."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class Helper:
    """One daemon thread running the calls submitted to it, in order (a single-thread pool
    without concurrent.futures, which costs the command line a few milliseconds to import)."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[Call] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            self._calls.get().run()

    def submit(self, fn: Callable, *args: object) -> Call:
        """Run fn(*args) on the thread after the calls before it."""
        call = Call(fn, args)
        self._calls.put(call)
        return call


_HELPERS: dict[str, Helper] = {}
os.register_at_fork(after_in_child=_HELPERS.clear)  # a forked child has none of the threads


def helper(name: str = "golden") -> Helper:
    """One of the process's two helper threads: "golden", where the golden model runs while
    the emulator runs the same band, and "sink", where each band's output is written while
    the next band runs (the three overlap on two cores)."""
    if name not in _HELPERS:
        _HELPERS[name] = Helper(f"pimisa-{name}")
    return _HELPERS[name]


def check_source(x: object, where: str = "input", allow_cast: bool = False) -> None:
    """InputError unless `x` is a non-empty 2-D float32 array (or band source: shape, dtype
    and row slicing, like pimisa.tensorio.NpyFile). float16 converts to float32 exactly;
    float64 only with `allow_cast` (rounding loses precision); anything else is refused."""
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None or not hasattr(x, "__getitem__"):
        raise InputError(f"{where}: expected an array, got {type(x).__name__}")
    if len(shape) != 2:
        raise InputError(f"{where}: expected a 2-D array, got shape {tuple(shape)}")
    if 0 in shape:
        raise InputError(f"{where}: the array is empty (shape {tuple(shape)})")
    check_dtype(dtype, where, allow_cast)


@dataclass(frozen=True)
class Plan:
    """Everything a band needs besides its rows (picklable: sent to Dask workers)."""

    program: Program
    arch: Arch
    fmt: str
    direction: str
    backend: str | None
    golden: bool
    shape: tuple[int, int]
    band_rows: int
    band_slots: int
    where: str
    reject_nan: bool
    blocks: bool = True  # keep each band's packed words (Band.blocks)


_RUNNERS: dict[tuple, BandRunner] = {}


def _runner(plan: Plan) -> BandRunner:
    """The process's BandRunner for this kernel, architecture and band size (reused)."""
    key = (id(plan.program), plan.arch.name, plan.arch.geometry, plan.fmt, plan.direction,
           plan.backend, plan.band_slots)
    runner = _RUNNERS.get(key)
    if runner is None or runner.program is not plan.program:
        _RUNNERS.clear()  # one machine at a time: memory stays bounded by one band
        runner = _RUNNERS[key] = BandRunner(plan.program, plan.arch, plan.fmt, plan.direction,
                                            plan.backend, plan.band_slots)
    return runner


def run_band(plan: Plan, rows: np.ndarray, index: int, row0: int) -> Band:
    """Quantize one band (rows row0.. of the tensor, already read) and check it."""
    seconds = dict.fromkeys(PHASES, 0.0)
    t0 = time.perf_counter()
    hp = as_tensor(rows, plan.where, allow_cast=True)  # check_source checked the dtype
    if plan.reject_nan and np.isnan(hp).any():
        r, c = np.argwhere(np.isnan(hp))[0]
        raise InputError(f"{plan.where}: NaN at [{row0 + r}, {c}] (--reject-nan)")
    seconds["read"] += time.perf_counter() - t0
    golden = helper().submit(golden_codes, hp, plan.fmt, plan.direction) if plan.golden \
        else None
    try:
        codes, blocks = _runner(plan).run(hp, seconds, plan.blocks)
    finally:
        if golden is not None:
            golden.wait()  # its memory is released before the error (or band) moves on
    ref, count, first = None, 0, None
    if golden is not None:
        ref, seconds["golden"] = golden.result()
        count, first = check_band(codes, ref, row0, plan.shape, seconds)
    band = Band(index, row0, hp, codes, blocks, ref, count, first)
    band.seconds = seconds
    return band


def _band_task(plan: Plan, source: object, index: int, row0: int, row1: int,
               process: Callable[[Band], object] | None, sliced: bool = False
               ) -> tuple[Band | object, dict, int, str | None]:
    """Read (unless `sliced`: source is the band), run and post-process one band:
    (payload, phase seconds, mismatches, first)."""
    t0 = time.perf_counter()
    rows = source if sliced else source[row0:row1]
    read = time.perf_counter() - t0
    band = run_band(plan, rows, index, row0)
    band.seconds["read"] += read
    payload = process(band) if process is not None else band
    return payload, band.seconds, band.mismatches, band.first


def quantize_stream(
    x: np.ndarray,
    fmt: str,
    direction: str,
    arch: Arch | str = DEFAULT_ARCH,
    backend: Backend | str | None = None,
    golden: bool = False,
    program: Program | None = None,
    on_band: Callable[[Band], None] | None = None,
    band_elements: int = BAND_ELEMENTS,
    progress: Callable[[int, int], None] | None = None,
    where: str = "input",
    reject_nan: bool = False,
    allow_cast: bool = False,
    process: Callable[[Band], object] | None = None,
    on_result: Callable[[object], None] | None = None,
    executor: Executor | None = None,
    blocks: bool = True,
) -> StreamResult:
    """Quantize a 2-D tensor (any real dtype, e.g. a memory map) band by band on the emulator.

    `on_band(band)` receives each band in row order (write it, accumulate statistics);
    `progress(rows done, rows)` is called after each band. With `golden`, every band is
    checked against the golden model; the result counts the differing blocks.

    With an `executor` (pimisa.executor), bands run where it runs them: `process(band)` runs
    there too and its (small, picklable) result goes to `on_result` here, in row order. A
    source that reads itself from a file (`remote_bands`) is sent as is, other arrays band by
    band. Results are identical to a serial run.

    Without `blocks`, the bands' packed words are not gathered (Band.blocks is None).
    """
    check_choice(fmt, direction)
    arch = arch if isinstance(arch, Arch) else load_arch(arch)
    check_source(x, where, allow_cast)
    if band_elements < 1:
        raise InputError(f"the band size must be at least one element, got {band_elements}")
    if program is None:
        program = load_quant_kernel(kernel_name(fmt, direction, arch=arch), arch)
    shape = (int(x.shape[0]), int(x.shape[1]))
    g = arch.geometry
    _, out_region = kernel_regions(program, fmt, direction)
    subtiles = subtile_columns(out_region, arch)
    height = tile_height(fmt)
    rows_per_band = band_rows_of(shape, arch, band_elements, subtiles, height)
    tr, tc = tile_grid_of(fmt, shape, subtiles)
    band_slots = -(-(rows_per_band // height) * tc // g.total_units)
    backend_name = backend if isinstance(backend, str) or backend is None else backend.name
    plan = Plan(program, arch, fmt, direction, backend_name, golden, shape, rows_per_band,
                band_slots, where, reject_nan, blocks)
    runner = _runner(plan)
    total_slots = -(-tr * tc // g.total_units)
    result = StreamResult(
        fmt, direction, shape, arch, tr * tc, -(-shape[0] // rows_per_band), rows_per_band,
        band_slots, len(program), runner.backend.name, pim_time(program, arch, total_slots),
        packed_bytes(fmt, tr * tc, subtiles, g.lane_bits), golden,
        blocks=blocks_of(shape, direction, height))
    remote = getattr(x, "remote_bands", False)
    local = executor is None or isinstance(executor, SerialExecutor)

    def tasks() -> Iterator[tuple]:
        for index, (r0, r1) in enumerate(band_starts(shape[0], rows_per_band)):
            if local or remote:  # here, `process` runs with the sinks (below)
                yield plan, x, index, r0, r1, None if local else process
            else:
                yield plan, np.asarray(x[r0:r1]), index, r0, r1, process, True

    def finish(payload: object) -> None:
        if local and process is not None:
            payload = process(payload)  # type: ignore[arg-type]
        if on_band is not None:
            on_band(payload)  # type: ignore[arg-type]
        if on_result is not None:
            on_result(payload)

    # Band i's sinks (process, on_band, on_result) run on the sink thread while band i+1
    # runs here: at most two bands are alive at once.
    results = map(lambda t: _band_task(*t), tasks()) if local \
        else executor.map(_band_task, tasks())  # type: ignore[union-attr]
    sinks = on_band is not None or on_result is not None or (local and process is not None)
    pending: Call | None = None
    done = 0

    def drain() -> None:
        nonlocal pending, done
        if pending is not None:
            call, pending = pending, None
            call.result()
            done = min(shape[0], done + rows_per_band)
            if progress is not None:
                progress(done, shape[0])

    try:
        for payload, seconds, count, first in results:
            for k, v in seconds.items():
                result.seconds[k] += v
            if count and result.first_mismatch is None:
                result.first_mismatch = first
            result.mismatches += count
            drain()
            pending = helper("sink").submit(finish, payload) if sinks else _done_call()
        drain()
    finally:
        if pending is not None:
            pending.wait()  # never leave a write running under a caller that cleans up
    return result


def _done_call() -> Call:
    call = Call(lambda: None, ())
    call.run()
    return call


def dequantize_band(band: Band, seconds: dict[str, float] | None = None) -> np.ndarray:
    """The float32 values of a band's kernel codes (decoded once, table-driven)."""
    t0 = time.perf_counter()
    values = streamcore.decode_mx(band.codes)
    if values is None:
        values = decode(band.codes)
    if seconds is not None:
        seconds["decode"] += time.perf_counter() - t0
    return values


CHUNK_BYTES = 1 << 18  # dequantized bytes per chunk of dequantized_rows: they stay in cache


def dequantized_rows(band: Band, seconds: dict[str, float] | None = None
                     ) -> Iterator[np.ndarray]:
    """The values of dequantize_band in consecutive chunks of rows, each decoded into the same
    small buffer while the previous one is written out (use each before asking for the next):
    what is written next is still in the cache. One chunk when only numpy can decode them."""
    rows, cols = band.hp.shape
    step = max(SUB, CHUNK_BYTES // (4 * cols) // SUB * SUB)
    buffer = np.empty((min(step, rows), cols), np.float32)
    for r0 in range(0, rows, step):
        t0 = time.perf_counter()
        values = streamcore.decode_mx(band.codes, (r0, min(rows, r0 + step)), buffer)
        if values is None:  # numpy: the whole band
            yield dequantize_band(band, seconds)
            return
        if seconds is not None:
            seconds["decode"] += time.perf_counter() - t0
        yield values
