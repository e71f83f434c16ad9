"""Property-based fuzzing of quantization kernels against the golden models, and of any kernel
against any reference.

    report = fuzz_kernel(program, "mx6", "row", arch, max_examples=200, seed=1)
    if report.failure: print(report.failure.render())

`fuzz_kernel` takes a kernel with one packed output (mx_packed / mx_packed16 for MX9/MX6/MX4,
ocp_packed for the OCP MX formats). Hypothesis draws adversarial tensors (the input layout's
own strategy, else pimisa.testing.adversarial_tensors), the kernel runs on the emulator, and
its output is compared block by block with pimisa.mx.formats: MX9/MX6/MX4 finite blocks by
shared exponent, micro-exponents and element codes (the sign of a zero code is free), NaN/Inf
blocks by E = 255 only; OCP blocks by scale and every code, bit for bit. A failure shrinks to a
small tensor; its Mismatch names the first wrong block, its first differing element (tensor
index, input value as float and hex), that element's expected and actual value with its code
and the block's shared fields, and each wrong word (the element's code, the shared exponent /
micro-exponent / scale) with the last `st` that really wrote that lane of that word: an st
whose bank or predicate mask left the lane out did not (pimisa.stepper.last_store replays the
launch on the numpy twin). `explain` adds the st's source text and macro call sites.

`fuzz` does the same for any kernel against any reference (pimisa.references): a golden format
or a user's Python function; inputs are drawn per layout (pimisa.testing.kernel_inputs) and
outputs compare bit for bit, NaN == NaN; an OutputMismatch names the output element, the input
elements at its index and the st that wrote its word.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from pimisa.arch import Arch, Geometry
from pimisa.emulator import Backend, run
from pimisa.emulator.launch import prepare
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError
from pimisa.layout import get_layout
from pimisa.mx.formats import OcpCodes, decode, encode
from pimisa.mx.layout import NAN_BLOCK, PACKED_LAYOUTS, codes_to_blocks, tile_grid
from pimisa.mx.ocplayout import SUB32, codes_to_words
from pimisa.mx.pack import BLOCK, PACKED_FORMATS
from pimisa.mx.quantize import (
    OCP_OUTPUT,
    Codes,
    block_fields,
    block_mismatches,
    block_span,
    kernel_regions,
    read_output,
)
from pimisa.program import Program, Region
from pimisa.references import LoadedReference, expected_outputs
from pimisa.stepper import last_store
from pimisa.testing import adversarial_tensors, kernel_inputs

if TYPE_CHECKING:
    from pimisa.asm import Assembly

FUZZ_CHANNELS = 1  # fuzz on one channel of the preset: same units, lanes and columns, less state


def fuzz_arch(arch: Arch, channels: int = FUZZ_CHANNELS) -> Arch:
    """`arch` cut down to `channels` channels of one stack (fast emulation of small tensors)."""
    g = dataclasses.replace(arch.geometry, stacks=1,
                            channels=min(channels, arch.geometry.channels))
    return dataclasses.replace(arch, geometry=g)


@dataclass
class WrongWord:
    """An output word that differs from the reference and the command that last wrote it,
    mask aware: an `st` whose bank or predicate left the word's lane out did not write it."""

    what: str  # what the word holds, e.g. "the code of W[0, 3]"
    where: str  # slot, unit, lane and region word (with its value against the expected one)
    store: int | None  # record index of that st; None when no st wrote the lane
    source: str  # file:line:col of the st, or why there is none
    command: str = ""  # the st, disassembled
    text: str = ""  # its source line (add_expansion_notes)
    notes: list[str] = field(default_factory=list)  # its macro call sites, innermost first

    def render(self) -> list[str]:
        """Terminal lines."""
        by = "  ".join(p for p in (self.source, self.command) if p)
        if self.text:
            by += f"  | {self.text.strip()}"
        return ([f"  wrong word ({self.what}): {self.where}", f"    stored by {by}"]
                + [f"      {note}" for note in self.notes])


def wrong_word(program: Program, geometry: Geometry, inputs: dict[str, np.ndarray],
               region: Region, what: str, site: tuple[int, int, int, int],
               values: str = "") -> WrongWord:
    """The WrongWord at `site` = (slot, region word, unit, lane) of `region`, replaying the
    launch over `inputs` to find the last st that wrote it."""
    slot, word, unit, lane = site
    row, col = region.row + word // geometry.cols, word % geometry.cols
    machine, _ = prepare(program, geometry, inputs)
    store = last_store(program, machine, slot, unit, lane, row, col)
    where = (f"tile slot {slot}, unit {unit}, lane {lane}: region {region.name!r} word {word} "
             f"(tile row {row}, column {col}){values}")
    if store is None:
        return WrongWord(what, where, None, "no st (an st whose bank or mask leaves the lane "
                         "out does not write it)")
    return WrongWord(what, where, store, program.location(store),
                     disassemble_one(program.records[store]))


def add_expansion_notes(failure: Mismatch | OutputMismatch | None, assembly: Assembly) -> None:
    """Give each wrong word of `failure` its store's source text and macro call sites, from
    the Assembly of the fuzzed kernel (a Program, as a .pimb, does not keep them)."""
    if failure is None or assembly.program is None:
        return
    for word in failure.words:
        if word.store is None:
            continue
        word.source = assembly.program.location(word.store)
        loc = assembly.program.srcmap[word.store] if assembly.program.srcmap is not None \
            else None
        if loc is not None and int(loc["line"]):
            lines = assembly.sources.get(assembly.program.files[int(loc["file"])], [])
            line = int(loc["line"])
            word.text = lines[line - 1] if line <= len(lines) else ""
        if assembly.record_stacks is not None:
            stack = assembly.stacks[int(assembly.record_stacks[word.store])]
            word.notes = [f"in expansion of macro '{name}' from {call}"
                          for name, call in reversed(stack)]


def explain(failure: Mismatch | OutputMismatch | None, kernel: str, arch: Arch | None,
            defines: dict[str, int] | None = None) -> None:
    """add_expansion_notes for a failure of `kernel` (a .pimasm path or bundled name,
    re-assembled with `arch` and `defines`; nothing to add for a .pimb)."""
    if failure is None or str(kernel).endswith(".pimb"):
        return
    from pimisa.asm import assemble_path
    from pimisa.kernels import resolve

    add_expansion_notes(failure, assemble_path(resolve(str(kernel)), arch, defines))


def _block_site(direction: str, block: tuple[int, int], subtiles: int,
                size: int) -> tuple[int, int, int, int]:
    """(tile row, tile column, block within the sub-tile, sub-tile) of a block given by its
    shared_exp / scale index (blocks of `size`, `subtiles` sub-tiles side by side)."""
    i, j = block
    if direction == "row":
        return i // size, j // subtiles, i % size, j % subtiles
    return i, j // (size * subtiles), j % size, (j // size) % subtiles


def _wrong_bits(want: np.ndarray, have: np.ndarray,
                fields: list[tuple[str, int, int]]) -> list[tuple[str, int]]:
    """(what, first differing bit) for each word of a bit stream (uint32 words) where one of
    the named fields (what, first bit, width) differs; else the first differing word."""
    out: dict[int, tuple[list[str], int]] = {}
    for what, lo, width in fields:
        bit = next((b for b in range(lo, lo + width)
                    if (int(want[b // 32]) ^ int(have[b // 32])) >> b % 32 & 1), None)
        if bit is not None:
            out.setdefault(bit // 32, ([], bit))[0].append(what)
    if not out:
        differ = np.flatnonzero(want != have)
        return [("a word of the block", 32 * int(differ[0]) if differ.size else 0)]
    return [(" and ".join(names), bit) for names, bit in out.values()]


def _value_text(v: np.float32 | None) -> str:
    if v is None:
        return "(zero padding)"
    return f"{float(v)!r} ({int(np.float32(v).view(np.uint32)):#010x})"


@dataclass
class Mismatch:
    """The first block where a quantization kernel's output differs from the golden model:
    its first differing input element, that element's expected and actual value and fields,
    and each wrong word with the st that last wrote it."""

    fmt: str
    direction: str
    shape: tuple[int, int]
    block: tuple[int, int]  # index into shared_exp (MX9/MX6/MX4) or scale (OCP)
    tensor_span: str  # which tensor elements the block covers
    element: tuple[int, int] | None  # the first element whose value or code differs (None:
    #                                  only the block's shared fields do)
    input: str  # that input element, "W[0, 3] = 1.5 (0x3fc00000)"
    expected: str  # its golden value and fields
    got: str  # the kernel's
    expected_fields: str  # the whole block's fields (pimisa.mx.quantize.block_fields)
    got_fields: str
    words: list[WrongWord]

    @property
    def source(self) -> str:
        """Where the first wrong word was stored (file:line:col)."""
        return self.words[0].source

    def render(self) -> str:
        """Multi-line description for the terminal."""
        lines = [f"mismatch in {self.fmt} {self.direction} block {self.block} of a "
                 f"{self.shape[0]}x{self.shape[1]} tensor ({self.tensor_span})",
                 f"  input     {self.input}",
                 f"  expected  {self.expected}",
                 f"  got       {self.got}",
                 f"  block     expected {self.expected_fields}",
                 f"            got      {self.got_fields}"]
        for word in self.words:
            lines += word.render()
        return "\n".join(lines)


def kernel_input(program: Program) -> Region:
    """The first input region of a kernel."""
    return next(r for r in program.meta.regions if r.kind == "input")


class _Packing:
    """Where the fields of one block sit in the words a launch wrote: the block's bit stream
    (expected and got), its fields and the (slot, region word, unit, lane) of a bit."""

    def __init__(self, program: Program, geometry: Geometry, region: Region, x: np.ndarray,
                 expected: Codes, got_words: np.ndarray, block: tuple[int, int]) -> None:
        self.expected, self.block, self.units = expected, block, geometry.total_units
        size = expected.fmt.block_size
        if isinstance(expected, OcpCodes):  # got_words: (tiles, tile words, lanes)
            lanes = got_words.shape[2]
            tr, tc, self.b, self.lane = _block_site(expected.direction, block, lanes, size)
            self.tile = tr * tile_grid(x.shape, lanes, size)[1] + tc
            self.want = codes_to_words(expected, lanes)[self.tile, :, self.lane]
            self.have = got_words[self.tile, :, self.lane]
        else:  # got_words: gathered blocks (tile rows, tile columns, block, sub-tile, words)
            subtiles = got_words.shape[3]
            tr, tc, self.b, self.p = _block_site(expected.direction, block, subtiles, size)
            self.tile = tr * tile_grid(x.shape, subtiles)[1] + tc
            self.want = codes_to_blocks(expected, subtiles)[tr, tc, self.b, self.p]
            self.have = got_words[tr, tc, self.b, self.p]
            self.packed = get_layout(region.layout)
            self.lane_bits = getattr(geometry, "lane_bits", 32)

    def fields(self, e: int | None, code: str) -> list[tuple[str, int, int]]:
        """(what, first bit, width) of element e's code (if e is given) and the shared
        fields, in the order a report names them."""
        fmt, b = self.expected.fmt, self.b
        if isinstance(self.expected, OcpCodes):
            bits = fmt.element_bits  # type: ignore[union-attr]
            out = [(code, b * bits * 32 + e * bits, bits)] if e is not None else []
            return out + [("the block's scale", (SUB32 * bits + b // 4) * 32 + 8 * (b % 4), 8)]
        pf = PACKED_FORMATS[fmt.name]
        out = [(code, pf.code_offset(e), pf.code_bits)] if e is not None else []
        pairs = ([e // 2] if e is not None else []) + [
            k for k in range(BLOCK // 2) if e is None or k != e // 2]
        return out + [("the shared exponent", 0, 8)] + [
            (f"the micro-exponent of pair {k}", 8 + k, 1) for k in pairs]

    def site(self, bit: int) -> tuple[tuple[int, int, int, int], str]:
        """(slot, region word, unit, lane) of a bit of the stream, and ", = got, expected"."""
        slot, unit = divmod(self.tile, self.units)
        w = bit // 32
        got, want = int(self.have[w]), int(self.want[w])
        if isinstance(self.expected, OcpCodes):
            word, lane = w, self.lane
        else:
            pf = PACKED_FORMATS[self.expected.fmt.name]
            word, lane = self.packed.site(self.b, self.p, pf, w, self.lane_bits)  # type: ignore[attr-defined]
            if self.lane_bits == 16:  # a 16-bit word: the half holding the bit
                half = bit % 32 // 16
                word += half
                got, want = got >> 16 * half & 0xFFFF, want >> 16 * half & 0xFFFF
        return (slot, word, unit, lane), f" = {got:#010x}, expected {want:#010x}"


def _element_fields(c: Codes, cell: tuple[int, int], block: tuple[int, int]) -> str:
    """"code .., scale .." (OCP) or "code .., micro-exponent .., shared exponent .." of the
    element at `cell` of `block`."""
    if isinstance(c, OcpCodes):
        s = int(c.scale[block])
        scale = "0xff (NaN/Inf block)" if s == 0xFF else f"{s:#04x} (2^{s - 127})"
        return f"code {int(c.codes[cell]):#04x}, scale {scale}"
    r, col = cell
    micro = c.micro_exp[(r, col // 2) if c.direction == "row" else (r // 2, col)]
    e = int(c.shared_exp[block])
    shared = "255 (NaN/Inf block)" if e == NAN_BLOCK else str(e)
    return (f"code {int(c.codes[cell]):#04x}, micro-exponent {int(micro)}, shared exponent "
            f"{shared}")


def describe_mismatch(program: Program, geometry: Geometry, x: np.ndarray, expected: Codes,
                      got: Codes, got_words: np.ndarray, block: tuple[int, int]) -> Mismatch:
    """A Mismatch for `block` (a shared_exp or scale index) of a launch over `x`; `got_words`
    is what pimisa.mx.quantize.read_output gave with `got`."""
    d, size = expected.direction, expected.fmt.block_size
    ocp = isinstance(expected, OcpCodes)
    source, region = kernel_regions(program, expected.fmt.name, d)
    i, j = block
    cells = [(i, size * j + e) if d == "row" else (size * i + e, j) for e in range(size)]
    dec_e, dec_g = decode(expected), decode(got)  # type: ignore[arg-type]

    def value(dec: np.ndarray, cell: tuple[int, int]) -> np.float32 | None:
        inside = cell[0] < x.shape[0] and cell[1] < x.shape[1]
        return np.float32(dec[cell]) if inside else None

    mag = 0xFF if ocp else (1 << expected.fmt.mag_bits) - 1  # type: ignore[union-attr]

    def differs(cell: tuple[int, int]) -> bool:
        a, b = int(expected.codes[cell]), int(got.codes[cell])
        if a != b and (a | b) & mag:  # the sign of an MX zero is free
            return True
        va, vb = value(dec_e, cell), value(dec_g, cell)
        if va is None or vb is None or np.isnan(va) and np.isnan(vb):
            return False
        same = va.view(np.uint32) == vb.view(np.uint32) or (not ocp and va == vb == 0)
        return not same

    e = next((k for k, cell in enumerate(cells) if differs(cell)), None)
    cell = cells[e] if e is not None else cells[0]
    at = f"{source.name}[{cell[0]}, {cell[1]}]"
    packing = _Packing(program, geometry, region, x, expected, got_words, block)
    inputs = {source.name: x}
    words = []
    for what, bit in _wrong_bits(packing.want, packing.have,
                                 packing.fields(e, f"the code of {at}")):
        site, values = packing.site(bit)
        words.append(wrong_word(program, geometry, inputs, region, what, site, values))
    x_value = value(x, cell)
    if e is None:
        element = "(no element differs: the block's shared fields do)"
    else:
        element = f"{at} = {_value_text(x_value)}"
    return Mismatch(
        expected.fmt.name, d, x.shape, block, block_span(d, block, x.shape, size),
        cell if e is not None else None, element,
        f"{_value_text(value(dec_e, cell))}: {_element_fields(expected, cell, block)}",
        f"{_value_text(value(dec_g, cell))}: {_element_fields(got, cell, block)}",
        block_fields(expected, block), block_fields(got, block), words)


def check_launch(program: Program, arch: Arch, x: np.ndarray, fmt: str, direction: str,
                 backend: Backend | str | None = None) -> Mismatch | None:
    """Run the kernel over `x` and compare with the golden model: the first Mismatch or None."""
    source, region = kernel_regions(program, fmt, direction)
    machine, _ = prepare(program, arch.geometry, {source.name: x})
    run(program, machine, backend)
    got, words = read_output(region, machine.region_words(region), fmt, direction, x.shape)
    expected = encode(x, fmt, direction)
    bad = np.argwhere(block_mismatches(expected, got))
    if not bad.size:
        return None
    block = (int(bad[0][0]), int(bad[0][1]))
    return describe_mismatch(program, arch.geometry, x, expected, got, words, block)


def writes_packed(program: Program) -> bool:
    """Does the kernel write a packed MX output (mx_packed, mx_packed16 or ocp_packed), which
    fuzz_kernel checks block by block?"""
    return any(r.kind == "output" and (r.layout in PACKED_LAYOUTS or r.layout == OCP_OUTPUT)
               for r in program.meta.regions)


class KernelMismatch(AssertionError):
    """Raised inside the hypothesis test so that hypothesis shrinks the failing inputs."""

    def __init__(self, mismatch: Mismatch | OutputMismatch) -> None:
        super().__init__(mismatch.render())
        self.mismatch = mismatch


def first_mismatch(check: Callable[[], None], seed: int | None
                   ) -> Mismatch | OutputMismatch | None:
    """Run a campaign (a hypothesis test raising KernelMismatch), seeded when `seed` is given;
    the shrunk mismatch it found, or None."""
    test = hypothesis_seed(seed)(check) if seed is not None else check
    try:
        test()
    except KernelMismatch as exc:
        return exc.mismatch
    return None


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

    mismatch = first_mismatch(check, seed)
    return FuzzReport(count, mismatch)


# ---- any kernel against any reference ----


@dataclass
class OutputMismatch:
    """The first output element where a kernel differs from its reference."""

    output: str
    index: tuple[int, ...] | None  # None: the shapes differ
    expected: str  # value as text (typed and hex)
    got: str
    inputs: list[str]  # input elements at the same index, "W[3, 4] = 1.5 (0x3fc00000)"
    words: list[WrongWord]  # the word the element was read from, if the layout tells
    shapes: dict[str, tuple[int, ...]]  # of every input

    @property
    def source(self) -> str:
        """Where the wrong word was stored (file:line:col), if known."""
        return self.words[0].source if self.words else \
            "unknown (the layout does not map elements to single words)"

    def render(self) -> str:
        """Multi-line description for the terminal."""
        ins = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in self.shapes.items())
        if self.index is None:
            return (f"output {self.output}: {self.got} (inputs {ins})\n"
                    f"  expected {self.expected}")
        at = ", ".join(map(str, self.index))
        lines = [f"mismatch in output {self.output}[{at}] (inputs {ins})"]
        lines += [f"  input     {text}" for text in self.inputs]
        lines += [f"  expected  {self.expected}", f"  got       {self.got}"]
        for word in self.words:
            lines += word.render()
        if not self.words:
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

    shapes = {k: tuple(v.shape) for k, v in inputs.items()}
    if expected.shape != got.shape:
        return OutputMismatch(name, None, f"shape {expected.shape} (the reference's)",
                              f"the kernel's output has shape {got.shape}", [], [], shapes)
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
    found = [] if site is None else [wrong_word(
        program, geometry, inputs, region, f"{name}[{', '.join(map(str, index))}]", site)]
    return OutputMismatch(name, index, _text(want[index], is_float),
                          _text(have[index], is_float), elements, found, shapes)


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
            raise KernelMismatch(mismatch)

    mismatch = first_mismatch(check, seed)
    return FuzzReport(count, mismatch)
