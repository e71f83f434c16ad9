"""Just-in-time quantization on the emulator: the whole `pimisa quantize` flow as a library.

    result = quantize(x, "mx6", "row")            # kernel mx6_row on hbm3, auto backend
    result.dequantized, result.codes               # decoded from the kernel's own output
    quantize(x, "mxfp8_e4m3", "col")               # an OCP MX format: kernel mxfp8_e4m3_col

Steps: assemble the bundled kernel `FORMAT_{row,col}` for the architecture, lay the float32
tensor out in its input region (hp16 for MX9/MX6/MX4, hp32 for the OCP MX formats), run every
tile on the emulator, read the packed blocks of its output region back (mx_packed:
pimisa.mx.layout, ocp_packed: pimisa.mx.ocplayout) as golden-model codes, decode them with the
golden decoder, and time the launch with the DRAM scheduler. A tile is one block high: 16
tensor rows for MX9/MX6/MX4, 32 for the OCP formats (`tile_height`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimisa.arch import DEFAULT_ARCH, Arch, load_arch
from pimisa.dram import TimingSummary, time_launch
from pimisa.emulator import Backend, RunStats, run
from pimisa.emulator.launch import prepare
from pimisa.errors import InputError, UsageError
from pimisa.mx.formats import (
    DIRECTIONS,
    OcpCodes,
    OcpFormat,
    SharedMicroCodes,
    decode,
    encode,
    get_format,
)
from pimisa.mx.formats import FORMATS as ALL_FORMATS
from pimisa.mx.layout import (
    NAN_BLOCK,
    PACKED_FORMATS,
    blocks_to_codes,
    packed_region,
    region_format,
    tile_grid,
)
from pimisa.mx.pack import BLOCK
from pimisa.program import Program, Region

MX_FORMATS = tuple(PACKED_FORMATS)
OCP_FORMATS = tuple(n for n, f in ALL_FORMATS.items() if isinstance(f, OcpFormat))
FORMATS = MX_FORMATS + OCP_FORMATS
HP_LAYOUTS = {"hp16": "fp32", "hp16_bf16": "bf16"}  # MX kernel inputs: HP precision
OCP_INPUT, OCP_OUTPUT = "hp32", "ocp_packed"  # the OCP kernels' input and output layouts
Codes = SharedMicroCodes | OcpCodes


class Footprint:
    """HP and LP sizes of a quantized tensor (`shape`, `lp_bytes`): shared by the results of
    one launch (QuantizeResult) and of a streamed run (pimisa.stream.StreamResult)."""

    shape: tuple[int, int]
    lp_bytes: int

    @property
    def hp_bytes(self) -> int:
        """Bytes of the float32 tensor."""
        return self.shape[0] * self.shape[1] * 4

    @property
    def bits_per_element(self) -> float:
        """LP footprint per tensor element, in bits."""
        return self.lp_bytes * 8 / (self.shape[0] * self.shape[1])


@dataclass
class QuantizeResult(Footprint):
    """What one quantization launch produced and cost."""

    fmt: str
    direction: str
    shape: tuple[int, int]
    codes: Codes  # decoded from the kernel's packed output
    dequantized: np.ndarray  # decode(codes), float32 of `shape`
    tiles: int
    stats: RunStats
    timing: TimingSummary
    arch: Arch
    lp_bytes: int  # bytes of the packed words the kernel wrote (packed_bytes)
    golden: Codes | None = None

    def mismatched_blocks(self) -> int:
        """Blocks whose kernel output differs from the golden model (needs `golden`)."""
        if self.golden is None:
            raise ValueError("no golden codes: quantize(..., golden=True)")
        return int(block_mismatches(self.golden, self.codes).sum())

    def golden_problem(self) -> str | None:
        """None when the kernel matched the golden model, else the count and the first
        differing block (needs `golden`)."""
        if self.golden is None:
            raise ValueError("no golden codes: quantize(..., golden=True)")
        bad = block_mismatches(self.golden, self.codes)
        if not bad.any():
            return None
        return mismatch_message(self.golden, self.codes, bad)


def is_ocp(fmt: str) -> bool:
    """Is `fmt` one of the OCP MX formats (block 32, E8M0 scale)?"""
    return fmt in OCP_FORMATS


def tile_height(fmt: str) -> int:
    """Tensor rows per tile of the kernels quantizing to `fmt` (the block size: 16 or 32)."""
    return get_format(fmt).block_size


def tile_grid_of(fmt: str, shape: tuple[int, int], subtiles: int) -> tuple[int, int]:
    """(tile rows, tile columns) of the tile grid of a tensor of `shape` for `fmt` kernels."""
    return tile_grid(shape, subtiles, tile_height(fmt))


def check_choice(fmt: str, direction: str) -> None:
    """UsageError unless fmt is a format with bundled kernels and direction row/col."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if direction not in DIRECTIONS:
        raise UsageError(f"--direction {direction!r}: expected row or col")


def kernel_name(fmt: str, direction: str, hp: str = "fp32", arch: Arch | None = None) -> str:
    """The bundled kernel quantizing `hp` weights (fp32 or bf16) to `fmt` along `direction`
    on `arch`'s lanes, e.g. mx6_row, mx6_row_bf16 (32-bit lanes), mx6_row_bf16x16 (16-bit
    lanes); UsageError for float32 weights on 16-bit lanes (a float32 element fills a lane of
    32 bits)."""
    from pimisa.kernels import lane_spec

    check_choice(fmt, direction)
    if hp != "fp32" and is_ocp(fmt):
        raise UsageError(f"--hp {hp}: the {fmt} kernels read float32 weights (no {hp} kernel)")
    if arch is not None and arch.geometry.lane_bits == 16:
        if hp == "fp32":
            way = "" if is_ocp(fmt) else "quantize BF16 weights (--hp bf16) or "
            raise UsageError(f"float32 weights (--hp fp32) do not fit the 16-bit lanes of "
                             f"{arch.name}: {way}pick 32-bit lanes (--arch "
                             f"{lane_spec(arch, 32)})")
        return f"{fmt}_{direction}_{hp}x16"
    return f"{fmt}_{direction}" + ("" if hp == "fp32" else f"_{hp}")


def load_quant_kernel(spec: str, arch: Arch, defines: dict[str, int] | None = None) -> Program:
    """A quantization kernel: a .pimasm source or bundled name assembled for `arch` (`defines`
    set its parameters, as -D does), or a .pimb.

    Assembled kernels come from pimisa.kernelcache (per kernel source, architecture and
    defines; a change to the kernel or an included file invalidates the entry).
    """
    from pimisa.kernels import load

    return load(str(spec), arch, defines)


def output_region(program: Program) -> tuple[Region, str, str]:
    """A quantization kernel's packed output region (mx_packed or ocp_packed) and the
    (format, direction) it declares; InputError unless it has exactly one."""
    meta = program.meta
    ocp = [r for r in meta.regions if r.kind == "output" and r.layout == OCP_OUTPUT]
    if not ocp:
        region = packed_region(meta)
        fmt, direction = region_format(region)
        return region, fmt.name, direction
    from pimisa.mx.ocplayout import region_format as ocp_region_format

    outputs = [r for r in meta.regions if r.kind == "output"]
    if len(outputs) != 1:
        raise InputError(f"kernel {meta.name or '(unnamed)'!r} must have exactly one packed "
                         f"output region, it has {len(outputs)} outputs")
    ofmt, direction = ocp_region_format(ocp[0])
    return ocp[0], ofmt.name, direction


def kernel_choice(program: Program) -> tuple[str, str]:
    """The (format, direction) a kernel's packed output region declares."""
    _, fmt, direction = output_region(program)
    return fmt, direction


def check_dtype(dtype: np.dtype, where: str = "input", allow_cast: bool = False) -> None:
    """InputError unless `dtype` converts to float32 as the tool promises: float32 (any byte
    order) and float16 exactly, float64 only with `allow_cast` (rounding loses precision)."""
    dtype = np.dtype(dtype).newbyteorder("=")
    if dtype.itemsize == 2 and dtype.kind in "uiV":
        raise InputError(f"{where}: dtype {dtype} (16-bit patterns): for BF16 weights pass "
                         "--hp bf16")
    if dtype == np.float64 and not allow_cast:
        raise InputError(f"{where}: float64 data; the kernels take float32, and rounding to "
                         "float32 loses precision: pass --cast to round it")
    if dtype not in (np.float32, np.float16, np.float64):
        raise InputError(f"{where}: dtype {dtype}: expected float32 (float16 converts exactly; "
                         "round anything else to float32 first)")


def as_tensor(x: np.ndarray, where: str = "input", reject_nan: bool = False,
              allow_cast: bool = False) -> np.ndarray:
    """The 2-D float32 tensor to quantize; InputError naming `where` if unusable."""
    from pimisa.layout import check_matrix

    x = check_matrix(where, x)
    check_dtype(x.dtype, where, allow_cast)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(x, dtype=np.float32)
    if reject_nan and np.isnan(out).any():
        r, c = np.argwhere(np.isnan(out))[0]
        raise InputError(f"{where}: NaN at [{r}, {c}] (--reject-nan)")
    return out


def kernel_regions(program: Program, fmt: str, direction: str) -> tuple[Region, Region]:
    """The (input, packed output) regions of a kernel that quantizes to `fmt` along
    `direction` (hp16 and mx_packed for MX9/MX6/MX4, hp32 and ocp_packed for the OCP
    formats); InputError when the kernel declares anything else."""
    region, declared, declared_dir = output_region(program)
    if (declared, declared_dir) != (fmt, direction):
        raise InputError(f"kernel {program.meta.name or '(unnamed)'!r} writes "
                         f"{declared} {declared_dir} blocks, not {fmt} {direction}")
    layouts = (OCP_INPUT,) if is_ocp(fmt) else tuple(HP_LAYOUTS)
    inputs = [r for r in program.meta.regions if r.kind == "input"]
    if len(inputs) != 1 or inputs[0].layout not in layouts:
        raise InputError(f"kernel {program.meta.name or '(unnamed)'!r} must have exactly one "
                         f"input region, of layout {' or '.join(layouts)}")
    return inputs[0], region


def kernel_hp(program: Program) -> str:
    """The HP precision a quantization kernel reads: fp32 (hp16) or bf16 (hp16_bf16)."""
    inputs = [r for r in program.meta.regions if r.kind == "input"]
    return HP_LAYOUTS.get(inputs[0].layout, "fp32") if inputs else "fp32"


def subtile_columns(region: Region, arch: Arch) -> int:
    """Sub-tiles side by side in a tile of the kernel writing packed region `region` (the
    lanes for float32 weights, the 16-bit positions of a word for BF16)."""
    from pimisa.layout import get_layout

    return get_layout(region.layout).subtiles(arch.geometry)  # type: ignore[attr-defined]


def read_output(region: Region, words: np.ndarray, fmt: str, direction: str,
                shape: tuple[int, int]) -> tuple[Codes, np.ndarray]:
    """The golden-model codes a kernel wrote into packed region `region` (its words in a
    launch) for a tensor of `shape`, and the packed words themselves: mx_packed gives
    gather_blocks' (tile row, tile, block, lane, word) blocks, ocp_packed the
    (tiles, words per tile, lanes) tile words."""
    from pimisa.layout import gather_tiles, get_layout

    if is_ocp(fmt):
        from pimisa.mx.ocplayout import read_codes, tile_grid32, tile_words

        codes = read_codes(words, fmt, direction, shape)
        tr, tc = tile_grid32(shape, words.shape[3])
        return codes, gather_tiles(words, 0, tr * tc, tile_words(codes.fmt))
    declared = PACKED_FORMATS[fmt]
    blocks = get_layout(region.layout).gather(words, declared, shape)  # type: ignore[attr-defined]
    return blocks_to_codes(blocks, declared, direction, shape), blocks


def packed_bytes(fmt: str, tiles: int, subtiles: int, lane_bits: int = 32) -> int:
    """Bytes of the packed words `tiles` tiles of `subtiles` sub-tiles take in format `fmt`
    (what the kernel writes: blocks and their scales). On 16-bit lanes an MX block is cut
    into 16-bit words (pimisa.layout16: 9, 6, 4 for MX9, MX6, MX4), on 32-bit lanes into
    32-bit words."""
    if is_ocp(fmt):
        from pimisa.mx.ocplayout import ocp_format, tile_words

        return tiles * subtiles * tile_words(ocp_format(fmt)) * 4
    blocks = tiles * tile_height(fmt) * subtiles
    if lane_bits == 16:
        from pimisa.layout16 import halfwords_per_block

        return blocks * halfwords_per_block(PACKED_FORMATS[fmt]) * 2
    return blocks * PACKED_FORMATS[fmt].words_per_block * 4


def run_kernel(program: Program, arch: Arch, x: np.ndarray, fmt: str, direction: str,
               backend: Backend | str | None = None) -> tuple[Codes, RunStats, int]:
    """Run a quantization kernel over tensor `x`: (its decoded codes, run stats, tiles).

    The kernel needs one input region and one packed output region declaring fmt=`fmt`,
    dir=`direction` (kernel_regions).
    """
    source, region = kernel_regions(program, fmt, direction)
    machine, _ = prepare(program, arch.geometry, {source.name: x})
    stats = run(program, machine, backend)
    codes, _ = read_output(region, machine.region_words(region), fmt, direction, x.shape)
    tr, tc = tile_grid_of(fmt, x.shape, subtile_columns(region, arch))
    return codes, stats, tr * tc


def quantize(x: np.ndarray, fmt: str, direction: str, arch: Arch | str = DEFAULT_ARCH,
             backend: Backend | str | None = None, golden: bool = False,
             program: Program | None = None, hp: str = "fp32") -> QuantizeResult:
    """Quantize a 2-D float32 tensor with the bundled kernel (or `program`) on the emulator.

    `golden` also encodes `x` with the golden model (QuantizeResult.golden) for comparison.
    `hp` = "bf16" picks the BF16-weight kernel of the arch's lane width (kernel_name); `x`
    must then hold BF16 values.
    """
    check_choice(fmt, direction)
    arch = arch if isinstance(arch, Arch) else load_arch(arch)
    x = as_tensor(x)
    if program is None:
        program = load_quant_kernel(kernel_name(fmt, direction, hp, arch), arch)
    codes, stats, tiles = run_kernel(program, arch, x, fmt, direction, backend)
    timing = time_launch(program, arch, stats.slots)
    region, _, _ = output_region(program)
    lp = packed_bytes(fmt, tiles, subtile_columns(region, arch), arch.geometry.lane_bits)
    ref = encode(x, fmt, direction) if golden else None
    return QuantizeResult(fmt, direction, x.shape, codes, decode(codes), tiles, stats, timing,
                          arch, lp, ref)


def _per_block(a: np.ndarray, direction: str, size: int) -> np.ndarray:
    """any() over each block's `size` entries along the block axis (a: bool)."""
    if direction == "row":
        if size % 8 == 0 and a.flags.c_contiguous:
            words = a.view(np.uint64).reshape(a.shape[0], -1, size // 8)
            return np.bitwise_or.reduce(words, axis=2) != 0 if size > 8 else words[..., 0] != 0
        return a.reshape(a.shape[0], -1, size).any(axis=2)
    return np.logical_or.reduce(a.reshape(-1, size, a.shape[1]), axis=1)


def block_mismatches(expected: Codes, got: Codes) -> np.ndarray:
    """Boolean per block (the shape of shared_exp or scale): does `got` differ from
    `expected`?

    MX9/MX6/MX4: finite blocks compare E, micro-exponents and codes (the sign of a zero
    magnitude is free); NaN/Inf blocks only their E = 255. Equal fields decode to equal
    values (+0 == -0), so nothing is decoded; identical arrays (the usual case) cost one
    comparison each. OCP formats: the scale and every element code, bit for bit.
    """
    if isinstance(expected, OcpCodes):
        return _ocp_mismatches(expected, got)  # type: ignore[arg-type]
    d = expected.direction
    e_exp = np.asarray(expected.shared_exp)
    a, b = np.asarray(expected.codes), np.asarray(got.codes)
    ma, mb = np.asarray(expected.micro_exp), np.asarray(got.micro_exp)
    bad = e_exp != np.asarray(got.shared_exp)
    if not bad.any() and np.array_equal(a, b) and np.array_equal(ma, mb):
        return bad
    mag = np.uint8((1 << expected.fmt.mag_bits) - 1)
    # codes differ unless equal or both zero magnitudes (then only a sign can differ)
    codes = _per_block((a != b) & (((a | b) & mag) != 0), d, BLOCK)
    micro = _per_block(ma != mb, d, BLOCK // 2)
    bad |= (e_exp != NAN_BLOCK) & (codes | micro)
    return bad


def _ocp_mismatches(expected: OcpCodes, got: OcpCodes) -> np.ndarray:
    """Per block (the shape of scale): does the scale or any element code differ?"""
    bad = np.asarray(expected.scale) != np.asarray(got.scale)
    a, b = np.asarray(expected.codes), np.asarray(got.codes)
    if np.array_equal(a, b):
        return bad
    k = expected.fmt.block_size
    return bad | _per_block(a != b, expected.direction, k)


def mx_fields(enc: SharedMicroCodes, block: tuple[int, int]) -> tuple[int, list[int], list[int]]:
    """(shared exponent, 8 micro-exponents, 16 codes) of one MX9/MX6/MX4 block (an index of
    shared_exp)."""
    i, j = block
    if enc.direction == "row":
        micro = enc.micro_exp[i, 8 * j:8 * j + 8]
        codes = enc.codes[i, 16 * j:16 * j + 16]
    else:
        micro = enc.micro_exp[8 * i:8 * i + 8, j]
        codes = enc.codes[16 * i:16 * i + 16, j]
    return int(enc.shared_exp[i, j]), [int(v) for v in micro], [int(v) for v in codes]


def block_fields(enc: Codes, block: tuple[int, int]) -> str:
    """"E=.. micro=[..] codes=[..]" (MX) or "scale=.. codes=[..]" (OCP) of one block (an
    index of shared_exp or scale)."""
    i, j = block
    if isinstance(enc, OcpCodes):
        k = enc.fmt.block_size
        codes = enc.codes[i, k * j:k * j + k] if enc.direction == "row" \
            else enc.codes[k * i:k * i + k, j]
        return f"scale={int(enc.scale[i, j])} codes={[int(v) for v in codes]}"
    shared, micro, codes = mx_fields(enc, block)
    return f"E={shared} micro={micro} codes={codes}"


def block_span(direction: str, block: tuple[int, int], shape: tuple[int, int],
               size: int = BLOCK) -> str:
    """Which tensor elements a block (a shared_exp or scale index) of `size` covers."""
    i, j = block
    real = shape[1] if direction == "row" else shape[0]
    last = min(size * (j if direction == "row" else i) + size - 1, real - 1)
    if direction == "row":
        return f"row {i}, columns {size * j}..{last}"
    return f"column {j}, rows {size * i}..{last}"


def first_mismatch(expected: Codes, got: Codes, bad: np.ndarray,
                   row0: int = 0, shape: tuple[int, int] | None = None) -> str:
    """The first differing block (golden vs kernel fields), for codes of rows row0.. of a
    tensor of `shape` (default: the codes are the whole tensor)."""
    where = np.argwhere(bad)
    local = (int(where[0][0]), int(where[0][1]))
    d = expected.direction
    size = expected.fmt.block_size
    block = (local[0] + (row0 if d == "row" else row0 // size), local[1])
    span = block_span(d, block, shape or expected.shape, size)
    return (f"block {block} ({span}): golden {block_fields(expected, local)}, "
            f"kernel {block_fields(got, local)}")


def golden_message(fmt: str, direction: str, count: int, total: int, first: str) -> str:
    """The one-line failure of a golden check."""
    return (f"the kernel's output differs from the golden model in {count} of {total} "
            f"{fmt} {direction} blocks; first at {first}")


def mismatch_message(expected: Codes, got: Codes, bad: np.ndarray) -> str:
    """One line: how many blocks differ and the first of them (golden vs kernel fields)."""
    return golden_message(expected.fmt.name, expected.direction, int(bad.sum()), bad.size,
                          first_mismatch(expected, got, bad))
