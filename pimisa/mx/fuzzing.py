"""Property-based fuzzing of MX quantization kernels against the golden model.

    report = fuzz_kernel(program, "mx6", "row", max_examples=200, seed=1)
    if report.failure: print(report.failure.render())

Hypothesis draws adversarial tensors (pimisa.testing.adversarial_tensors), the kernel runs on
the emulator, and its decoded output is compared with pimisa.mx.formats: values bit for bit as
float32 (NaN == NaN, +0 == -0), and for finite blocks the shared exponent, micro-exponents and
element codes (the sign of a zero code is free). A failure shrinks to a small tensor; its
Mismatch names the first wrong block, expected against got, and the kernel's source line that
stored the wrong word (the last `st` that really wrote that lane of that word, predicates
included: pimisa.stepper.last_store replays the launch on the numpy twin).

`fuzz` does the same for any kernel against any reference (pimisa.references): a golden format
or a user's Python function; inputs are drawn per layout (pimisa.testing.kernel_inputs) and
outputs compare bit for bit, NaN == NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from pimisa.arch import Arch, Geometry
from pimisa.emulator import Backend, run
from pimisa.emulator.launch import prepare
from pimisa.errors import InputError
from pimisa.mx.formats import SharedMicroCodes, decode, encode
from pimisa.mx.layout import (
    NAN_BLOCK,
    blocks_to_codes,
    codes_to_blocks,
    packed_region,
    tile_grid,
)
from pimisa.mx.pack import BLOCK, PACKED_FORMATS
from pimisa.mx.quantize import block_mismatches, kernel_regions, mx_fields
from pimisa.program import Program, Region
from pimisa.references import LoadedReference, expected_outputs
from pimisa.stepper import last_store
from pimisa.testing import adversarial_tensors, kernel_inputs

FUZZ_CHANNELS = 1  # fuzz on one channel of the preset: same units, lanes and columns, less state


def fuzz_arch(arch: Arch, channels: int = FUZZ_CHANNELS) -> Arch:
    """`arch` cut down to `channels` channels of one stack (fast emulation of small tensors)."""
    g = dataclasses.replace(arch.geometry, stacks=1,
                            channels=min(channels, arch.geometry.channels))
    return dataclasses.replace(arch, geometry=g)


@dataclass
class Mismatch:
    """The first block where a kernel's output differs from the golden model."""

    fmt: str
    direction: str
    shape: tuple[int, int]
    block: tuple[int, int]  # index into shared_exp
    tensor_span: str  # which tensor elements the block covers
    inputs: np.ndarray  # the block's 16 float32 inputs (zero padded)
    expected: np.ndarray  # golden values of the block
    got: np.ndarray  # the kernel's values of the block
    expected_fields: tuple[int, list[int], list[int]]  # E, micro-exponents, codes
    got_fields: tuple[int, list[int], list[int]]
    where: str  # slot / unit / lane / block, region word
    source: str  # kernel source line of the last st to the wrong word

    def render(self) -> str:
        """Multi-line description for the terminal."""

        def fields(f: tuple[int, list[int], list[int]]) -> str:
            return f"E={f[0]} micro={f[1]} codes={f[2]}"

        def values(v: np.ndarray) -> str:
            return np.array2string(v, max_line_width=200, precision=9, separator=", ")

        return "\n".join([
            f"mismatch in {self.fmt} {self.direction} block {self.block} of a "
            f"{self.shape[0]}x{self.shape[1]} tensor ({self.tensor_span})",
            f"  input     {values(self.inputs)}",
            f"  expected  {values(self.expected)}",
            f"  got       {values(self.got)}",
            f"  expected  {fields(self.expected_fields)}",
            f"  got       {fields(self.got_fields)}",
            f"  {self.where}",
            f"  wrong word stored by {self.source}",
        ])


def _unit_row(program: Program, region: Region, word: int, geometry: Geometry) -> tuple[int, int]:
    """(tile row, column) of region word `word`."""
    return region.row + word // geometry.cols, word % geometry.cols


def _block_site(direction: str, block: tuple[int, int], lanes: int) -> tuple[int, ...]:
    """(tr, tc, b, k) of a block given by its shared_exp index."""
    i, j = block
    if direction == "row":
        return i // 16, j // lanes, i % 16, j % lanes
    return i, j // (16 * lanes), j % 16, (j // 16) % lanes


def _block_values(a: np.ndarray, direction: str, block: tuple[int, int]) -> np.ndarray:
    """The 16 entries of a (zero padded) tensor in a block."""
    i, j = block
    if direction == "row":
        part = a[i, 16 * j:16 * j + 16]
    else:
        part = a[16 * i:16 * i + 16, j]
    out = np.zeros(BLOCK, np.float32)
    out[:part.size] = part
    return out


def kernel_input(program: Program) -> Region:
    """The first input region of a kernel."""
    return next(r for r in program.meta.regions if r.kind == "input")


def describe_mismatch(program: Program, geometry: Geometry, x: np.ndarray,
                      expected: SharedMicroCodes, got: SharedMicroCodes, got_blocks: np.ndarray,
                      block: tuple[int, int]) -> Mismatch:
    """A Mismatch for `block` (a shared_exp index) of a launch's output."""
    from pimisa.layout import get_layout

    region = packed_region(program.meta)
    packed = get_layout(region.layout)
    subtiles, units = got_blocks.shape[3], geometry.total_units
    d = expected.direction
    tr, tc, b, p = _block_site(d, block, subtiles)
    _, tcs = tile_grid(x.shape, subtiles)
    slot, unit = divmod(tr * tcs + tc, units)
    want_words = codes_to_blocks(expected, subtiles)[tr, tc, b, p]
    have_words = got_blocks[tr, tc, b, p]
    if expected.shared_exp[block] == NAN_BLOCK:
        wrong = 0
    else:
        differ = np.flatnonzero(want_words != have_words)
        wrong = int(differ[0]) if differ.size else 0
    site = packed.site  # type: ignore[attr-defined]
    word, k = site(b, p, PACKED_FORMATS[expected.fmt.name], wrong,
                   getattr(geometry, "lane_bits", 32))
    row, col = _unit_row(program, region, word, geometry)
    machine, _ = prepare(program, geometry, {kernel_input(program).name: x})
    store = last_store(program, machine, slot, unit, k, row, col)
    i, j = block
    first, real = (16 * j, x.shape[1]) if d == "row" else (16 * i, x.shape[0])
    span = (f"row {i}, columns {first}..{first + 15}" if d == "row"
            else f"column {j}, rows {first}..{first + 15}")
    if first + 16 > real:
        span += f"; {max(real, first)}..{first + 15} are zero padding"
    return Mismatch(
        expected.fmt.name, d, x.shape, block, span, _block_values(x, d, block),
        _block_values(decode(expected), d, block), _block_values(decode(got), d, block),
        mx_fields(expected, block), mx_fields(got, block),
        f"tile slot {slot}, unit {unit}, lane {k}, block {b}: region {region.name!r} word "
        f"{word} (word {wrong} of the block) = {int(have_words[wrong]):#010x}, expected "
        f"{int(want_words[wrong]):#010x}",
        program.location(store) if store is not None else "no st instruction (never written)",
    )


def check_launch(program: Program, arch: Arch, x: np.ndarray, fmt: str, direction: str,
                 backend: Backend | str | None = None) -> Mismatch | None:
    """Run the kernel over `x` and compare with the golden model: the first Mismatch or None."""
    source, region = kernel_regions(program, fmt, direction)
    declared = PACKED_FORMATS[fmt]
    machine, _ = prepare(program, arch.geometry, {source.name: x})
    run(program, machine, backend)
    from pimisa.layout import get_layout

    blocks = get_layout(region.layout).gather(  # type: ignore[attr-defined]
        machine.region_words(region), declared, x.shape)
    got = blocks_to_codes(blocks, declared, direction, x.shape)
    expected = encode(x, fmt, direction)
    bad = np.argwhere(block_mismatches(expected, got))
    if not bad.size:
        return None
    block = (int(bad[0][0]), int(bad[0][1]))
    return describe_mismatch(program, arch.geometry, x, expected, got, blocks, block)


class KernelMismatch(AssertionError):
    """Raised inside the hypothesis test so that hypothesis shrinks the failing tensor."""

    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(mismatch.render())
        self.mismatch = mismatch


@dataclass
class FuzzReport:
    """How a fuzzing session went: examples run (shrinking included) and the failure, if any."""

    examples: int
    failure: Mismatch | OutputMismatch | None


def fuzz_kernel(program: Program, fmt: str, direction: str, arch: Arch,
                backend: Backend | str | None = None, max_examples: int = 100,
                seed: int | None = None, max_rows: int = 80, max_cols: int = 300,
                nan: bool = True) -> FuzzReport:
    """Fuzz a quantization kernel with hypothesis on `arch` (pass fuzz_arch(...) for speed).

    Emulator faults and other PimisaErrors propagate (after shrinking).
    """
    from pimisa.layout import get_layout

    source, _ = kernel_regions(program, fmt, direction)
    own = getattr(get_layout(source.layout), "tensors", None)
    tensors = own(max_rows, max_cols, nan) if own is not None else \
        adversarial_tensors(max_rows, max_cols, nan)
    count = 0

    @settings(max_examples=max_examples, deadline=None, database=None, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(tensors)
    def check(x: np.ndarray) -> None:
        nonlocal count
        count += 1
        mismatch = check_launch(program, arch, x, fmt, direction, backend)
        if mismatch is not None:
            raise KernelMismatch(mismatch)

    test = hypothesis_seed(seed)(check) if seed is not None else check
    try:
        test()
    except KernelMismatch as exc:
        return FuzzReport(count, exc.mismatch)
    return FuzzReport(count, None)


# ---- any kernel against any reference ----


@dataclass
class OutputMismatch:
    """The first output element where a kernel differs from its reference."""

    output: str
    index: tuple[int, ...] | None  # None: the shapes differ
    expected: str  # value as text (typed and hex)
    got: str
    inputs: list[str]  # input elements at the same index, "W[3, 4] = 1.5 (0x3fc00000)"
    where: str  # slot / unit / lane / region word of the wrong element, if known
    source: str  # source line of the st that wrote the wrong word
    shapes: dict[str, tuple[int, ...]]  # of every input

    def render(self) -> str:
        """Multi-line description for the terminal."""
        ins = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in self.shapes.items())
        if self.index is None:
            return (f"output {self.output}: {self.got} (inputs {ins})\n"
                    f"  expected {self.expected}")
        at = ", ".join(map(str, self.index))
        lines = [f"mismatch in output {self.output}[{at}] (inputs {ins})",
                 f"  expected  {self.expected}", f"  got       {self.got}"]
        lines += [f"  input     {text}" for text in self.inputs]
        if self.where:
            lines.append(f"  {self.where}")
        lines.append(f"  wrong word stored by {self.source}")
        return "\n".join(lines)


def _text(value: np.generic, float_view: bool) -> str:
    bits = int(np.asarray(value).astype(np.int64) & 0xFFFFFFFF) if not float_view else \
        int(np.asarray(value, np.float32).view(np.uint32))
    if float_view:
        return f"{float(value)!r} ({bits:#010x})"
    return f"{int(value)} ({bits:#010x})"


def _compare(expected: np.ndarray, got: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per element: does `got` equal `expected` bit for bit (NaN == NaN)? And whether the
    values are floats."""
    if expected.dtype.kind == "f":
        with np.errstate(all="ignore"):
            want = np.ascontiguousarray(expected, np.float32)
        have = np.ascontiguousarray(got).view(np.float32) if got.dtype.itemsize == 4 else \
            np.asarray(got, np.float32)
        same = want.view(np.uint32) == have.view(np.uint32)
        return same | (np.isnan(want) & np.isnan(have)), True
    want = np.asarray(expected).astype(np.int64) & 0xFFFFFFFF
    have = (np.ascontiguousarray(got).view(np.uint32) if got.dtype.itemsize == 4
            else np.asarray(got).astype(np.int64) & 0xFFFFFFFF)
    return want == have, False


def _gathers(layout: object) -> bool:
    """True when the layout's read_back picks region words unchanged (so a marker read back
    tells which word an output element came from)."""
    return getattr(layout, "gathers_words", True)


def _word_of(machine_words: np.ndarray, layout: object, shape: tuple[int, ...] | None,
             index: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(slot, region word, unit, lane) that output element `index` was read from."""
    if not _gathers(layout):
        return None
    marker = np.arange(machine_words.size, dtype=np.uint32).reshape(machine_words.shape)
    try:
        ids = np.asarray(layout.read_back(marker, shape)).view(np.uint32)  # type: ignore[attr-defined]
        flat = int(ids[index])
    except (InputError, ValueError, IndexError, TypeError):
        return None
    return tuple(int(v) for v in np.unravel_index(flat, machine_words.shape))  # type: ignore[return-value]


def describe_output_mismatch(program: Program, geometry: Geometry,
                             inputs: dict[str, np.ndarray], name: str, expected: np.ndarray,
                             got: np.ndarray) -> OutputMismatch | None:
    """The first element of output `name` that differs from `expected`, explained; or None."""
    from pimisa.emulator.launch import output_shape
    from pimisa.layout import get_layout

    shapes = {k: tuple(v.shape) for k, v in inputs.items()}
    if expected.shape != got.shape:
        return OutputMismatch(name, None, f"shape {expected.shape} (the reference's)",
                              f"the kernel's output has shape {got.shape}", [], "", "", shapes)
    same, is_float = _compare(expected, got)
    bad = np.argwhere(~same)
    if not bad.size:
        return None
    index = tuple(int(i) for i in bad[0])
    want = np.asarray(expected, np.float32) if is_float else expected
    have = np.ascontiguousarray(got).view(np.float32) if is_float and got.dtype.itemsize == 4 \
        else got
    elements = []
    for k, arr in inputs.items():
        if arr.shape == expected.shape:
            elements.append(f"{k}[{', '.join(map(str, index))}] = "
                            f"{_text(arr[index], arr.dtype.kind == 'f')}")
    region = program.meta.region(name)
    layout = get_layout(region.layout)
    machine, placed = prepare(program, geometry, inputs)
    words = machine.region_words(region)
    site = _word_of(words, layout, output_shape(region, program, placed), index)
    where, source = "", "unknown (the layout does not map elements to single words)"
    if site is not None:
        slot, word, unit, lane = site
        row, col = _unit_row(program, region, word, geometry)
        where = (f"tile slot {slot}, unit {unit}, lane {lane}: region {name!r} word {word} "
                 f"(tile row {row}, column {col})")
        store = last_store(program, machine, slot, unit, lane, row, col)
        source = program.location(store) if store is not None else \
            "no st instruction (never written)"
    return OutputMismatch(name, index, _text(want[index], is_float),
                          _text(have[index], is_float), elements, where, source, shapes)


class OutputFailure(AssertionError):
    """Raised inside the hypothesis test so that hypothesis shrinks the failing inputs."""

    def __init__(self, mismatch: OutputMismatch) -> None:
        super().__init__(mismatch.render())
        self.mismatch = mismatch


def check_outputs(program: Program, arch: Arch, inputs: dict[str, np.ndarray],
                  reference: LoadedReference,
                  backend: Backend | str | None = None) -> OutputMismatch | None:
    """Run the kernel on `inputs` and compare every output the reference gives."""
    from pimisa.emulator.launch import launch

    result = launch(program, arch.geometry, inputs, backend)
    expected = expected_outputs(reference, program, inputs)
    for name, want in expected.items():
        mismatch = describe_output_mismatch(program, arch.geometry, inputs, name, want,
                                            result.outputs[name])
        if mismatch is not None:
            return mismatch
    return None


def _resolve(strategies: dict, program: Program, geometry: Geometry) -> dict:
    """Strategies by region name; a callable is called with (region, geometry)."""
    out = {}
    for name, value in strategies.items():
        region = program.meta.region(name)
        if region.kind != "input":
            raise InputError(f"STRATEGIES names {name!r}, which is not an input region")
        out[name] = value(region, geometry) if callable(value) and not isinstance(
            value, SearchStrategy) else value
    return out


def fuzz(program: Program, arch: Arch, reference: LoadedReference,
         backend: Backend | str | None = None, max_examples: int = 100,
         seed: int | None = None, strategies: dict | None = None, max_rows: int = 80,
         max_cols: int = 300) -> FuzzReport:
    """Fuzz any kernel against a reference (pimisa.references) on `arch` (fuzz_arch for speed).

    Inputs come from pimisa.testing.kernel_inputs, with the reference module's STRATEGIES and
    then `strategies` replacing those of the regions they name. Emulator faults and other
    PimisaErrors propagate (after shrinking).
    """
    overrides = _resolve({**reference.strategies, **(strategies or {})}, program, arch.geometry)
    g = arch.geometry
    slots = max(1, g.rows * g.banks_per_pim_unit // program.meta.tile_rows)
    max_tiles = min(2 * g.total_units + 1, slots * g.total_units)  # what a launch can hold
    count = 0

    @settings(max_examples=max_examples, deadline=None, database=None, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(kernel_inputs(program, arch.geometry, overrides, max_rows, max_cols, max_tiles))
    def check(inputs: dict[str, np.ndarray]) -> None:
        nonlocal count
        count += 1
        mismatch = check_outputs(program, arch, inputs, reference, backend)
        if mismatch is not None:
            raise OutputFailure(mismatch)

    test = hypothesis_seed(seed)(check) if seed is not None else check
    try:
        test()
    except OutputFailure as exc:
        return FuzzReport(count, exc.mismatch)
    return FuzzReport(count, None)
