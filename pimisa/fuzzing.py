"""Property-based fuzzing of MX quantization kernels against the golden model.

    report = fuzz_kernel(program, "mx6", "row", max_examples=200, seed=1)
    if report.failure: print(report.failure.render())

Hypothesis draws adversarial tensors (pimisa.testing.adversarial_tensors), the kernel runs on
the emulator, and its decoded output is compared with pimisa.formats: values bit for bit as
float32 (NaN == NaN, +0 == -0), and for finite blocks the shared exponent, micro-exponents and
element codes (the sign of a zero code is free). A failure shrinks to a small tensor; its
Mismatch names the first wrong block, expected against got, and the kernel's source line that
stored the wrong word (the last `st` to that region word).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from pimisa.arch import Arch, Geometry
from pimisa.emulator import Backend, run
from pimisa.emulator.launch import prepare
from pimisa.formats import SharedMicroCodes, decode, encode
from pimisa.isa import ALL_BANKS, BY_MNEMONIC
from pimisa.mxlayout import (
    NAN_BLOCK,
    blocks_to_codes,
    codes_to_blocks,
    gather_blocks,
    packed_region,
    tile_grid,
)
from pimisa.mxpack import BLOCK, PACKED_FORMATS
from pimisa.program import Program, Region
from pimisa.quantize import block_mismatches, kernel_regions
from pimisa.testing import adversarial_tensors

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


def last_store(program: Program, region: Region, word: int, unit: int, slot: int,
               geometry: Geometry) -> int | None:
    """Index of the last `st` that writes region word `word` in `unit`'s tile, or None."""
    rec = program.records
    cols = geometry.cols
    row, col = region.row + word // cols, word % cols
    unit_row = slot * program.meta.tile_rows + row
    bank = (unit % geometry.units_per_channel) * geometry.banks_per_pim_unit
    bank += unit_row // geometry.rows
    hits = ((rec["op"] == BY_MNEMONIC["st"].opcode) & (rec["row"] == row) & (rec["col"] == col)
            & ((rec["bank"] == ALL_BANKS) | (rec["bank"] == bank)))
    found = np.flatnonzero(hits)
    return int(found[-1]) if found.size else None


def _block_site(direction: str, block: tuple[int, int], lanes: int) -> tuple[int, ...]:
    """(tr, tc, b, k) of a block given by its shared_exp index."""
    i, j = block
    if direction == "row":
        return i // 16, j // lanes, i % 16, j % lanes
    return i, j // (16 * lanes), j % 16, (j // 16) % lanes


def _fields_of(enc: SharedMicroCodes, block: tuple[int, int]) -> tuple[int, list[int], list[int]]:
    i, j = block
    if enc.direction == "row":
        micro = enc.micro_exp[i, 8 * j:8 * j + 8]
        codes = enc.codes[i, 16 * j:16 * j + 16]
    else:
        micro = enc.micro_exp[8 * i:8 * i + 8, j]
        codes = enc.codes[16 * i:16 * i + 16, j]
    return int(enc.shared_exp[i, j]), [int(v) for v in micro], [int(v) for v in codes]


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


def describe_mismatch(program: Program, geometry: Geometry, x: np.ndarray,
                      expected: SharedMicroCodes, got: SharedMicroCodes, got_blocks: np.ndarray,
                      block: tuple[int, int]) -> Mismatch:
    """A Mismatch for `block` (a shared_exp index) of a launch's output."""
    region = packed_region(program.meta)
    lanes, units = geometry.lanes, geometry.total_units
    d = expected.direction
    tr, tc, b, k = _block_site(d, block, lanes)
    _, tcs = tile_grid(x.shape, lanes)
    slot, unit = divmod(tr * tcs + tc, units)
    want_words = codes_to_blocks(expected, lanes)[tr, tc, b, k]
    have_words = got_blocks[tr, tc, b, k]
    if expected.shared_exp[block] == NAN_BLOCK:
        wrong = 0
    else:
        differ = np.flatnonzero(want_words != have_words)
        wrong = int(differ[0]) if differ.size else 0
    word = b * len(want_words) + wrong
    store = last_store(program, region, word, unit, slot, geometry)
    i, j = block
    first, real = (16 * j, x.shape[1]) if d == "row" else (16 * i, x.shape[0])
    span = (f"row {i}, columns {first}..{first + 15}" if d == "row"
            else f"column {j}, rows {first}..{first + 15}")
    if first + 16 > real:
        span += f"; {max(real, first)}..{first + 15} are zero padding"
    return Mismatch(
        expected.fmt.name, d, x.shape, block, span, _block_values(x, d, block),
        _block_values(decode(expected), d, block), _block_values(decode(got), d, block),
        _fields_of(expected, block), _fields_of(got, block),
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
    blocks = gather_blocks(machine.region_words(region), declared, x.shape)
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
    failure: Mismatch | None


def fuzz_kernel(program: Program, fmt: str, direction: str, arch: Arch,
                backend: Backend | str | None = None, max_examples: int = 100,
                seed: int | None = None, max_rows: int = 80, max_cols: int = 300,
                nan: bool = True) -> FuzzReport:
    """Fuzz a quantization kernel with hypothesis on `arch` (pass fuzz_arch(...) for speed).

    Emulator faults and other PimisaErrors propagate (after shrinking).
    """
    kernel_regions(program, fmt, direction)
    count = 0

    @settings(max_examples=max_examples, deadline=None, database=None, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(adversarial_tensors(max_rows, max_cols, nan))
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
