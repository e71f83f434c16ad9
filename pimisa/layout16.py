"""Layouts of 16-bit data: BF16 / FP16 weights in hp16 sub-tiles, raw 16-bit words, and the
packed MX blocks the BF16-weight JIT-Q kernels write.

Every layout here is defined on the 16-bit *positions* of a column word, not on its lanes, so
that the same bytes serve 32-bit and 16-bit lanes: position p of a word is its bits
16 p .. 16 p + 15 (p = 0 .. word_bits / 16 - 1; 16 positions in a 256-bit word). With 16-bit
lanes, position p is lane p; with 32-bit lanes, lane k holds positions 2k (its low half, bits
0..15) and 2k + 1 (its high half). Because every value sits in one position, a block of 16
values still lies in one lane whatever the lane width.

hp16_bf16, hp16_fp16 -- the high-precision weights as BF16 (or FP16), 16 x 16 sub-tiles: a tile
is 16 tensor rows x 16 x P columns (P positions per word: 256 on every preset); position p of
the tile's 256 words holds tile columns 16 p .. 16 p + 15 row-major (word 16 i + j = element
(i, j)). A row block is 16 consecutive words and a column block every 16th word, as in the
float32 hp16 layout, so both directions read this one layout; a tile holds twice the elements
of an hp16 tile in the same 256 words. Input: float32 (or float16) whose values are exactly
representable in the element type -- any other value is an error naming the first one -- or the
elements' 16-bit patterns (uint16/int16, numpy's '<V2' as ml_dtypes writes a bfloat16 .npy,
an ml_dtypes array). NaN of any payload becomes the quiet NaN of its sign. Read back: float32.

raw16 -- 16-bit words as they are: row t of a 2-D array of a 2-byte dtype is tile t, element e
of a row at word e // P, position e % P. Read back: uint16.

mx_packed16 -- what the BF16-weight kernels write:

    .output Q, rows=..., layout=mx_packed16, fmt=mx6, dir=row

The 16 blocks of sub-tile p = 2k + h (lane k, half h) are MX bit streams of 32-bit words as in
mx_packed (pimisa.mx.pack), block b of half h at lane k's region words (16 h + b) W .. + W - 1
(W words per block): the low half's 16 blocks, then the high half's. Block b of sub-tile p is
tensor row 16 tr + b, columns 16 (P tc + p) .. +16 (row direction) or tensor column
16 (P tc + p) + b, rows 16 tr .. +16 (column direction), (tr, tc) the tile's place in the
hp16_bf16 tile grid. On 16-bit lanes (one sub-tile per lane) the same bit streams are cut
into 16-bit words: block b of lane p at its words b W16 .. + W16 - 1 (W16 = the block's bits
/ 16, rounded up), bit o of the stream at bit o % 16 of word o / 16.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

from pimisa.arch import Geometry
from pimisa.errors import InputError
from pimisa.layout import (
    SUB,
    Layout,
    Raw,
    check_matrix,
    place_subtiles,
    read_subtiles,
    register_layout,
)
from pimisa.mx.layout import MXPacked, check_gather
from pimisa.mx.pack import BLOCK, PackedFormat
from pimisa.program import Region

if TYPE_CHECKING:  # hypothesis is imported when a strategy is asked for, not to run kernels
    from hypothesis import strategies as st

HALF_BITS = 16
BF16_QNAN = 0x0040  # the quiet bit of a BF16 NaN
ELEMENTS = ("bf16", "fp16")


def positions(geometry: Geometry) -> int:
    """16-bit positions per column word (16 on every preset)."""
    return geometry.word_bits // HALF_BITS


def halves(words: np.ndarray) -> np.ndarray:
    """A region view (slots, words, units, lanes) as its 16-bit positions (.., positions).

    32-bit lanes are split low half first (position 2k = bits 0..15 of lane k), whatever the
    host's byte order; a view of 16-bit lanes is returned as is.
    """
    if words.dtype.itemsize == 2:
        return words
    view = words.view(np.dtype("<u2") if sys.byteorder == "little" else np.dtype(">u2"))
    if sys.byteorder != "little":  # the view splits each lane high half first: swap
        view = view.reshape(*view.shape[:-1], -1, 2)[..., ::-1].reshape(view.shape)
    return view


def bf16_exact_bits(x: np.ndarray, where: str, row0: int = 0, hint: str = "") -> np.ndarray:
    """BF16 bit patterns (uint16) of float32 values that are BF16 values; InputError naming the
    first one that is not (index [row0 + r, c], its value). NaN becomes the quiet NaN of its
    sign."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    nan = np.isnan(x)
    bad = ((bits & np.uint32(0xFFFF)) != 0) & ~nan
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        index = (row0 + first[0],) + first[1:]
        value = float(np.asarray(x)[first])
        raise InputError(f"{where}: element [{', '.join(map(str, index))}] = {value!r} "
                         f"({int(bits[first]):#010x}) is not a BF16 value{hint}")
    out = (bits >> np.uint32(16)).astype(np.uint16)
    out[nan] |= np.uint16(BF16_QNAN)
    return out


def round_bf16_bits(x: np.ndarray) -> np.ndarray:
    """BF16 bit patterns (uint16) of float32 values rounded to nearest, ties to even (as
    ml_dtypes converts); NaN becomes the quiet NaN of its sign, overflow Inf."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    lsb = (bits >> np.uint32(16)) & np.uint32(1)
    rounded = ((bits + np.uint32(0x7FFF) + lsb) >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(x)
    rounded[nan] = (bits[nan] >> np.uint32(16)).astype(np.uint16) | np.uint16(BF16_QNAN)
    return rounded


def bf16_to_float32(bits: np.ndarray) -> np.ndarray:
    """float32 values of BF16 bit patterns (exact)."""
    return (np.asarray(bits, np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def fp16_exact_bits(x: np.ndarray, where: str, row0: int = 0) -> np.ndarray:
    """FP16 bit patterns of float32 values that are FP16 values (InputError naming the first
    that is not)."""
    x = np.ascontiguousarray(x, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        half = x.astype(np.float16)
    nan = np.isnan(x)
    bad = (half.astype(np.float32) != x) & ~nan
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        index = (row0 + first[0],) + first[1:]
        raise InputError(f"{where}: element [{', '.join(map(str, index))}] = "
                         f"{float(x[first])!r} is not an FP16 value")
    return half.view(np.uint16)


def hp_bits(x: np.ndarray, element: str, where: str, round_hp: bool = False,
            row0: int = 0, hint: str = "") -> np.ndarray:
    """The 16-bit patterns of float values for element type bf16 or fp16 (exact, or rounded
    to nearest even with `round_hp`; `hint` ends the error of an inexact value)."""
    if element == "bf16":
        return round_bf16_bits(x) if round_hp else bf16_exact_bits(x, where, row0, hint)
    if round_hp:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.ascontiguousarray(x, np.float32).astype(np.float16).view(np.uint16)
    return fp16_exact_bits(x, where, row0)


def hp_values(bits: np.ndarray, element: str) -> np.ndarray:
    """float32 values (exact) of bf16 / fp16 bit patterns."""
    if element == "bf16":
        return bf16_to_float32(bits)
    return np.asarray(bits, np.uint16).view(np.float16).astype(np.float32)


def is_16bit_pattern(dtype: np.dtype) -> bool:
    """True for dtypes holding 16-bit patterns rather than values numpy converts: uint16,
    int16, '<V2' (a bfloat16 .npy) and ml_dtypes' bfloat16."""
    dtype = np.dtype(dtype)
    return dtype.itemsize == 2 and (dtype.kind in "uiV" or dtype.name == "bfloat16")


def pattern_view(array: np.ndarray) -> np.ndarray:
    """uint16 bit patterns of a 2-byte array (native order, contiguous)."""
    if array.dtype.kind in "ui" and array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("="))
    return np.ascontiguousarray(array).view(np.uint16)


class HP16Half(Layout):
    """16-bit weights in hp16 sub-tiles, one per 16-bit position (see the module docstring)."""

    element = "bf16"
    gathers_words = False  # 16-bit positions: fuzz reports cannot trace a value to one word

    def _grid(self, shape: tuple[int, ...], geometry: Geometry) -> tuple[int, int]:
        rows, cols = shape
        return -(-rows // SUB), -(-cols // (SUB * positions(geometry)))

    def tiles(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """Tiles of the padded tensor (16 rows x 16 x positions columns each)."""
        tr, tc = self._grid(shape, geometry)
        return tr * tc

    def words_needed(self, geometry: Geometry) -> int:
        """256 words per tile."""
        return SUB * SUB

    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """float32 values of the element type (from floats that are exact, or 16-bit patterns)."""
        array = check_matrix(f"input {name}", array)
        if is_16bit_pattern(array.dtype):
            return hp_values(pattern_view(array), self.element)
        if array.dtype.kind != "f" or array.dtype.itemsize not in (2, 4):
            raise InputError(f"input {name}: expected {self.element} values (float32, float16 "
                             f"or 16-bit patterns; layout {self.name}), got {array.dtype}")
        values = np.ascontiguousarray(array, np.float32)
        hp_bits(values, self.element, f"input {name}")
        return values

    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write the tensor's 16-bit patterns (float32 values must be exact)."""
        bits = pattern_view(array) if is_16bit_pattern(array.dtype) else \
            hp_bits(array, self.element, f"layout {self.name}")
        place_subtiles(halves(words), bits, self.name)

    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """float32 values (exact) of a tensor of `shape`."""
        return hp_values(read_subtiles(halves(words), shape, self.name), self.element)

    def strategy(self, region: Region, geometry: Geometry, shared: dict
                 ) -> st.SearchStrategy[np.ndarray]:
        """Adversarial tensors of the element type (pimisa fuzz), of the example's shape."""
        return hp_tensors_of_shape(shared["shape"], self.element)

    def tensors(self, max_rows: int, max_cols: int, nan: bool = True
                ) -> st.SearchStrategy[np.ndarray]:
        """Adversarial tensors of the element type, of any shape (MX kernel fuzzing)."""
        from pimisa.testing import tensor_shapes

        return tensor_shapes(max_rows, max_cols).flatmap(
            lambda shape: hp_tensors_of_shape(shape, self.element, nan))


@register_layout("hp16_bf16")
class HP16BF16(HP16Half):
    """BF16 weights in hp16 sub-tiles."""

    element = "bf16"


@register_layout("hp16_fp16")
class HP16FP16(HP16Half):
    """FP16 weights in hp16 sub-tiles."""

    element = "fp16"


# BF16 patterns that break quantizers: zeros, subnormals, the largest finite, powers of two
# and their neighbours are drawn by _bf16_edge; these are the special ones.
BF16_SPECIAL = (0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80,
                0x7FC0, 0xFFC0, 0x7F81, 0x7FFF)
FP16_SPECIAL = (0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                0x7E00, 0x7C01)


def _edge16(element: str) -> st.SearchStrategy[int]:
    """16-bit patterns of adversarial elements: specials, any exponent, a few ulps around
    powers of two, any pattern."""
    from hypothesis import strategies as st

    man = 7 if element == "bf16" else 10
    top = (1 << (15 - man)) - 2  # largest finite exponent field
    special = BF16_SPECIAL if element == "bf16" else FP16_SPECIAL
    sign = st.sampled_from([0, 0x8000])
    near_pow2 = st.builds(lambda e, u, s: (((e << man) + u) & 0x7FFF) | s,
                          st.integers(1, top), st.integers(-3, 3), sign)
    return st.one_of(st.sampled_from(special), near_pow2, st.integers(0, 0xFFFF))


def hp_tensors_of_shape(shape: tuple[int, int], element: str, nan: bool = True,
                        max_overlay: int = 24) -> st.SearchStrategy[np.ndarray]:
    """An adversarial float32 tensor of `shape` whose values are exact in `element`.

    The float32 adversarial base (pimisa.testing.tensors_of_shape: runs of ties, near powers
    of two, subnormals, huge values...) rounded to the element type, then up to `max_overlay`
    single elements drawn as 16-bit patterns (NaN/Inf only when `nan`).
    """
    from hypothesis import strategies as st

    from pimisa.testing import tensors_of_shape

    @st.composite
    def draw_tensor(draw: st.DrawFn) -> np.ndarray:
        base = draw(tensors_of_shape(shape, nan, 0))
        bits = hp_bits(base, element, "", round_hp=True)
        cells = st.tuples(st.integers(0, shape[0] - 1), st.integers(0, shape[1] - 1),
                          _edge16(element))
        for r, c, value in draw(st.lists(cells, max_size=max_overlay)):
            bits[r, c] = value
        values = hp_values(bits, element)
        if not nan:
            values[~np.isfinite(values)] = 0
        return values

    return draw_tensor()


RAW16_DTYPES = ("uint16", "int16", "float16", "bfloat16")


@register_layout("raw16")
class Raw16(Raw):
    """Raw 16-bit words: row t of a 2-D array is tile t, element e at word e // positions,
    position e % positions. Any 2-byte dtype is placed as its bits; read back gives uint16."""

    gathers_words = False  # 16-bit positions: fuzz reports cannot trace a value to one word

    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """A 2-D array of 16-bit values (its bit patterns, uint16)."""
        array = check_matrix(f"input {name}", array)
        if array.dtype.itemsize != 2 or array.dtype.kind not in "uifV":
            raise InputError(f"input {name}: expected 16-bit values (raw16 layout), got "
                             f"{array.dtype}")
        if array.dtype.kind == "f":
            array = array.astype(np.dtype(np.float16).newbyteorder("="))
        return pattern_view(array)

    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write row t into tile t."""
        super().place(halves(words), pattern_view(array))

    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """uint16 array of `shape` (tiles x elements), or every tile's whole region."""
        return super().read_back(halves(words), shape)

    def strategy(self, region: Region, geometry: Geometry, shared: dict
                 ) -> st.SearchStrategy[np.ndarray]:
        """(tiles, width) patterns of the region's dtype= (default float16): edge-biased."""
        dtype = str(region.params.get("dtype", "float16"))
        if dtype not in RAW16_DTYPES:
            raise InputError(f"input {region.name!r}: dtype={dtype!r} (want "
                             f"{', '.join(RAW16_DTYPES)})")
        whole = region.rows * geometry.cols * positions(geometry)
        width = region.params.get("width", whole)
        if not isinstance(width, int) or not 1 <= width <= whole:
            raise InputError(f"input {region.name!r}: width={width!r} must be an integer in "
                             f"1..{whole} (the region's words x positions)")
        element = "fp16" if dtype == "float16" else "bf16"
        view = np.dtype(np.float16 if dtype == "float16" else
                        np.uint16 if dtype == "bfloat16" else dtype)
        return raw16_arrays(shared["tiles"], width, element).map(lambda a: a.view(view))


def _raw16_fill(seed: int, shape: tuple[int, int], element: str) -> np.ndarray:
    """Seeded 16-bit patterns: uniform, a quarter of them special values."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 1 << 16, size=shape, dtype=np.uint16)
    special = np.array(BF16_SPECIAL if element == "bf16" else FP16_SPECIAL, np.uint16)
    pick = rng.integers(0, 4, size=shape) == 0
    out[pick] = rng.choice(special, size=int(pick.sum()))
    return out


def raw16_arrays(rows: int, width: int, element: str = "fp16", max_overlay: int = 16
                 ) -> st.SearchStrategy[np.ndarray]:
    """(rows, width) uint16 patterns: zeros or a seeded edge-biased base, plus up to
    `max_overlay` drawn elements (shrinks toward zeros holding the elements that matter)."""
    from hypothesis import strategies as st

    @st.composite
    def draw_patterns(draw: st.DrawFn) -> np.ndarray:
        x = (np.zeros((rows, width), np.uint16) if draw(st.booleans())
             else _raw16_fill(draw(st.integers(0, (1 << 32) - 1)), (rows, width), element))
        cells = st.tuples(st.integers(0, rows - 1), st.integers(0, width - 1),
                          _edge16(element))
        for r, c, v in draw(st.lists(cells, max_size=max_overlay)):
            x[r, c] = v
        return x

    return draw_patterns()


def halfwords_per_block(fmt: PackedFormat) -> int:
    """16-bit words of one packed block (a 16-bit lane's stream)."""
    return -(-fmt.block_bits // HALF_BITS)


@register_layout("mx_packed16")
class MXPacked16(MXPacked):
    """Packed MX blocks of hp16_bf16 tiles (see the module docstring): 32 blocks per 32-bit
    lane, or 16 per 16-bit lane, per tile."""

    def tile_words(self, fmt: PackedFormat, geometry: Geometry) -> int:
        """Region words a tile's blocks take: 32 blocks per 32-bit lane, or 16 blocks of
        16-bit words per 16-bit lane."""
        if getattr(geometry, "lane_bits", 32) == HALF_BITS:
            return BLOCK * halfwords_per_block(fmt)
        return 2 * BLOCK * fmt.words_per_block

    def subtiles(self, geometry: Geometry) -> int:
        """Sub-tiles side by side in a tile: the word's 16-bit positions."""
        return positions(geometry)

    @staticmethod
    def _shape(words: np.ndarray, fmt: PackedFormat) -> tuple[int, int, int]:
        """(lane words of a tile's blocks, blocks per lane, lane words per block)."""
        if words.dtype.itemsize == 2:
            w16 = halfwords_per_block(fmt)
            return BLOCK * w16, BLOCK, w16
        return 2 * BLOCK * fmt.words_per_block, 2 * BLOCK, fmt.words_per_block

    def gather(self, words: np.ndarray, fmt: PackedFormat, shape: tuple[int, int]) -> np.ndarray:
        """Packed blocks of a tensor's tiles: (TR, TC, 16, positions, W) uint32."""
        slots, nwords, units, lanes = words.shape
        wpb = fmt.words_per_block
        need, _, lane_wpb = self._shape(words, fmt)
        per = lanes if words.dtype.itemsize == 2 else 2 * lanes
        rows, cols = shape
        tr, tc = -(-rows // SUB), -(-cols // (SUB * per))
        check_gather(words, need, fmt, shape, tr * tc)
        used = -(-tr * tc // units)
        if words.dtype.itemsize == 2:  # one block per lane: 16-bit words, paired into 32
            blocks = words[:used, :need].reshape(used, BLOCK, lane_wpb, units, lanes)
            blocks = blocks.transpose(0, 3, 1, 4, 2).reshape(used * units, BLOCK, per, lane_wpb)
            pairs = np.zeros(blocks.shape[:-1] + (2 * wpb,), np.dtype("<u2"))
            pairs[..., :lane_wpb] = blocks
            blocks = pairs.view("<u4").astype(np.uint32)
        else:  # two sub-tiles per lane: the low half's blocks, then the high half's
            blocks = words[:used, :need].reshape(used, 2, BLOCK, wpb, units, lanes)
            blocks = blocks.transpose(0, 4, 2, 5, 1, 3).reshape(used * units, BLOCK, per, wpb)
        return np.ascontiguousarray(blocks[:tr * tc]).reshape(tr, tc, BLOCK, per, wpb)

    def site(self, block: int, subtile: int, fmt: PackedFormat, word: int,
             lane_bits: int = 32) -> tuple[int, int]:
        """(region word, lane) holding 32-bit word `word` of block `block` of sub-tile
        `subtile` (on 16-bit lanes: the 16-bit word with its low half)."""
        if lane_bits == HALF_BITS:
            return block * halfwords_per_block(fmt) + 2 * word, subtile
        lane, half = divmod(subtile, 2)
        return (half * BLOCK + block) * fmt.words_per_block + word, lane

    def scatter(self, words: np.ndarray, blocks: np.ndarray, fmt: PackedFormat) -> None:
        """Inverse of gather: write (TR, TC, 16, positions, W) blocks into a region view."""
        slots, _, units, lanes = words.shape
        tr, tc, _, per, wpb = blocks.shape
        if words.dtype.itemsize == 2:
            w16 = halfwords_per_block(fmt)
            halves16 = np.ascontiguousarray(blocks, "<u4").view("<u2")
            full = np.zeros((slots * units, BLOCK, per, 2 * wpb), np.uint16)
            full[:tr * tc] = halves16.reshape(tr * tc, BLOCK, per, 2 * wpb)
            words[:, :BLOCK * w16] = full[..., :w16].reshape(
                slots, units, BLOCK, lanes, w16).transpose(0, 2, 4, 1, 3).reshape(
                slots, BLOCK * w16, units, lanes)
            return
        tiles = blocks.reshape(tr * tc, BLOCK, lanes, 2, wpb)
        full = np.zeros((slots * units, BLOCK, lanes, 2, wpb), np.uint32)
        full[:tr * tc] = tiles
        words[:, :2 * BLOCK * wpb] = full.reshape(slots, units, BLOCK, lanes, 2, wpb).transpose(
            0, 4, 2, 5, 1, 3).reshape(slots, 2 * BLOCK * wpb, units, lanes)
