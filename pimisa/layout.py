"""Tensor layouts: how a host tensor maps onto the words of a kernel region, tile by tile.

A kernel is the program for one tile; a launch runs it in every PIM unit, once per slot. Tile t
of a tensor goes to unit t % units, slot t // units. A layout sees a region through
`Machine.region_words(region)`: an array `words[slot, word, unit, lane]` (uint32), where word w
of the region is its row w // cols, column w % cols.

Layouts are registered by name (the `layout=` of a kernel's region directive):

    @register_layout("mine")
    class Mine(Layout):
        def tiles(self, shape, geometry): ...       # how many tiles a tensor of `shape` needs
        def words_needed(self, geometry): ...       # region words per tile it uses
        def check_array(self, name, array): ...     # validated host array (InputError if bad)
        def place(self, words, array): ...          # write the tensor (all tiles, zero-padded)
        def read_back(self, words, shape): ...      # the tensor of `shape` from the words

Bundled here: "hp16" (float32 weights, 16 x 16 sub-tiles per lane) and "raw" (uint32 words);
the 16-bit layouts (hp16_bf16, hp16_fp16, raw16, mx_packed16) are in pimisa.layout16.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from pimisa.arch import Geometry
from pimisa.errors import InputError
from pimisa.program import KernelMeta, Region

CHUNK_WORDS = 1 << 20  # host words converted per step, bounding temporary memory


class Layout(ABC):
    """How one kind of tensor is laid out in a region (see the module docstring)."""

    name: str = ""

    @abstractmethod
    def tiles(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """Tiles a tensor of `shape` occupies."""

    @abstractmethod
    def words_needed(self, geometry: Geometry) -> int:
        """Region words one tile of this layout needs at least."""

    @abstractmethod
    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """The array to place (validated; InputError naming `name` if unusable)."""

    @abstractmethod
    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write `array` into `words` (slots, region words, units, lanes); unused tiles zero."""

    @abstractmethod
    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """The tensor of `shape` held in `words` (None: the whole region, if defined)."""

    def slots(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """Slots a launch needs to hold a tensor of `shape` (at least 1)."""
        return max(1, -(-self.tiles(shape, geometry) // geometry.total_units))

    def check_region(self, region: Region, geometry: Geometry) -> None:
        """InputError if `region` is too small for one tile of this layout."""
        need = self.words_needed(geometry)
        have = region.rows * geometry.cols
        if have < need:
            rows = -(-need // geometry.cols)
            raise InputError(f"region {region.name!r} has {region.rows} rows ({have} words); "
                             f"layout {self.name} needs {rows} rows ({need} words) per tile")


LAYOUTS: dict[str, Layout] = {}


def register_layout(name: str) -> Callable[[type[Layout]], type[Layout]]:
    """Class decorator: register an instance of the Layout subclass under `name`."""

    def add(cls: type[Layout]) -> type[Layout]:
        if name in LAYOUTS:
            raise ValueError(f"layout {name!r} is already registered")
        layout = cls()
        layout.name = name
        LAYOUTS[name] = layout
        return cls

    return add


# Modules that register further bundled layouts; imported on the first lookup (they import
# this module, so they cannot be imported at its top).
BUNDLED_LAYOUT_MODULES = ("pimisa.mx.layout", "pimisa.mx.ocplayout", "pimisa.layout16")


ENTRY_POINT_GROUP = "pimisa.layouts"  # modules of installed packages that register layouts
_plugins_loaded = False


def load_plugin_layouts() -> None:
    """Import every module of the `pimisa.layouts` entry point group (once)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a user's plug-in: any failure is reported, located
            raise InputError(f"layout plug-in {ep.name!r} ({ep.value}, entry point group "
                             f"{ENTRY_POINT_GROUP}): {type(exc).__name__}: {exc}") from None


def get_layout(name: str) -> Layout:
    """The layout called `name`; InputError listing the known ones otherwise."""
    for module in BUNDLED_LAYOUT_MODULES:
        importlib.import_module(module)
    if name not in LAYOUTS:
        load_plugin_layouts()
    try:
        return LAYOUTS[name]
    except KeyError:
        known = ", ".join(sorted(LAYOUTS))
        raise InputError(f"unknown layout {name!r} (known: {known})") from None


def slots_needed(meta: KernelMeta, geometry: Geometry,
                 shapes: Mapping[str, tuple[int, ...]]) -> int:
    """Slots a launch of the kernel needs for input tensors of these shapes (by region name)."""
    slots = 1
    for name, shape in shapes.items():
        region = meta.region(name)
        slots = max(slots, get_layout(region.layout).slots(tuple(shape), geometry))
    return slots


def _tile_pieces(t0: int, t1: int, units: int) -> Iterator[tuple[int, int, int, int]]:
    """Split tiles [t0, t1) into runs within one slot: (slot, first unit, last unit + 1, i0)."""
    t = t0
    while t < t1:
        slot, u = divmod(t, units)
        take = min(t1 - t, units - u)
        yield slot, u, u + take, t - t0
        t += take


def scatter_tiles(words: np.ndarray, tiles: np.ndarray, t0: int) -> None:
    """words[slot, :n, unit, :] = tiles[i] for tiles t0.. (tiles: (count, n, lanes))."""
    n = tiles.shape[1]
    for slot, ua, ub, i in _tile_pieces(t0, t0 + len(tiles), words.shape[2]):
        words[slot, :n, ua:ub, :] = tiles[i:i + ub - ua].transpose(1, 0, 2)


def gather_tiles(words: np.ndarray, t0: int, count: int, n: int) -> np.ndarray:
    """Tiles t0..t0+count-1 as (count, n, lanes): the first n words of each."""
    out = np.empty((count, n, words.shape[3]), words.dtype)
    for slot, ua, ub, i in _tile_pieces(t0, t0 + count, words.shape[2]):
        out[i:i + ub - ua] = words[slot, :n, ua:ub, :].transpose(1, 0, 2)
    return out


def zero_tiles_from(words: np.ndarray, t0: int) -> None:
    """Zero every tile from t0 to the end of the region (tiles no tensor element reaches)."""
    total = words.shape[0] * words.shape[2]
    for slot, ua, ub, _ in _tile_pieces(min(t0, total), total, words.shape[2]):
        words[slot, :, ua:ub, :] = 0


def _check_2d(name: str, array: np.ndarray, kinds: str, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise InputError(f"input {name}: expected an array, got {type(array).__name__}")
    if array.dtype.kind not in kinds or array.dtype.itemsize != 4:
        raise InputError(f"input {name}: expected {what}, got {array.dtype}")
    if array.ndim != 2:
        raise InputError(f"input {name}: expected a 2-D array, got shape {array.shape}")
    if 0 in array.shape:
        raise InputError(f"input {name}: the array is empty (shape {array.shape})")
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))


def check_matrix(where: str, array: object) -> np.ndarray:
    """A non-empty 2-D ndarray (InputError naming `where` otherwise)."""
    if not isinstance(array, np.ndarray):
        raise InputError(f"{where}: expected an array, got {type(array).__name__}")
    if array.ndim != 2:
        raise InputError(f"{where}: expected a 2-D array, got shape {array.shape}")
    if 0 in array.shape:
        raise InputError(f"{where}: the array is empty (shape {array.shape})")
    return array


def _check_capacity(words: np.ndarray, tiles: int, what: str) -> None:
    have = words.shape[0] * words.shape[2]
    if tiles > have:
        raise InputError(f"{what} needs {tiles} tiles, the launch holds {have} "
                         f"({words.shape[0]} slots x {words.shape[2]} units)")


SUB = 16  # hp16: a lane holds a SUB x SUB sub-tile


@register_layout("hp16")
class HP16(Layout):
    """The high-precision weight layout: float32, each lane a 16 x 16 sub-tile.

    A tile is 16 rows x 16*lanes columns of the tensor; lane k holds columns 16k..16k+15 of it,
    row-major across 256 consecutive region words (word 16 i + j = element (i, j) of the
    sub-tile): 8 DRAM rows of 32 words on hbm3, 4 of 64 on lpddr5x. A row block (16 elements
    of one tensor row) is 16 consecutive words; a column block is every 16th word. Tiles are
    numbered row-major over the zero-padded tensor.
    """

    def _grid(self, shape: tuple[int, ...], lanes: int) -> tuple[int, int]:
        rows, cols = shape
        return -(-rows // SUB), -(-cols // (SUB * lanes))

    def tiles(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """Tiles of the padded tensor."""
        tr, tc = self._grid(shape, geometry.lanes)
        return tr * tc

    def words_needed(self, geometry: Geometry) -> int:
        """256 words per tile."""
        return SUB * SUB

    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """A 2-D float32 array."""
        return _check_2d(name, array, "f", "float32 values (hp16 layout)")

    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write the tensor tile by tile, a few tile rows at a time."""
        place_subtiles(words, array.view(np.uint32), "hp16")

    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """The float32 tensor of `shape` (required: hp16 has no natural whole-region shape)."""
        return read_subtiles(words, shape, "hp16").view(np.float32)


def _chunk_rows(tc: int, per_word: int) -> int:
    return max(1, CHUNK_WORDS // (SUB * SUB * tc * per_word))


def place_subtiles(words: np.ndarray, bits: np.ndarray, name: str) -> None:
    """Write a 2-D array of element bits as 16 x 16 sub-tiles, one per word position.

    `words` (slots, region words, units, positions) has the dtype of `bits`; position p of a
    tile's words holds tile columns 16 p .. 16 p + 15 (word 16 i + j = element (i, j)). Tiles
    are 16 rows x 16 x positions columns, row-major over the zero-padded tensor; unused tiles
    are zeroed. `name` (the layout) goes into the capacity error.
    """
    per_word = words.shape[3]
    rows, cols = bits.shape
    tr, tc = -(-rows // SUB), -(-cols // (SUB * per_word))
    _check_capacity(words, tr * tc, f"a {rows}x{cols} tensor in layout {name}")
    step = _chunk_rows(tc, per_word)
    for r0 in range(0, tr, step):
        r1 = min(tr, r0 + step)
        block = np.zeros(((r1 - r0) * SUB, tc * SUB * per_word), words.dtype)
        src = bits[r0 * SUB:r1 * SUB]
        block[:src.shape[0], :cols] = src
        tiles = block.reshape(r1 - r0, SUB, tc, per_word, SUB).transpose(0, 2, 1, 4, 3)
        scatter_tiles(words, tiles.reshape(-1, SUB * SUB, per_word), r0 * tc)
    zero_tiles_from(words, tr * tc)


def read_subtiles(words: np.ndarray, shape: tuple[int, ...] | None, name: str) -> np.ndarray:
    """The element bits (dtype of `words`) of a 2-D tensor of `shape` placed by place_subtiles."""
    if shape is None or len(shape) != 2:
        raise InputError(f"layout {name} reads back a 2-D tensor; got shape {shape}")
    per_word = words.shape[3]
    rows, cols = shape
    tr, tc = -(-rows // SUB), -(-cols // (SUB * per_word))
    _check_capacity(words, tr * tc, f"a {rows}x{cols} tensor in layout {name}")
    out = np.empty((rows, cols), words.dtype)
    step = _chunk_rows(tc, per_word)
    for r0 in range(0, tr, step):
        r1 = min(tr, r0 + step)
        tiles = gather_tiles(words, r0 * tc, (r1 - r0) * tc, SUB * SUB)
        block = tiles.reshape(r1 - r0, tc, SUB, SUB, per_word).transpose(0, 2, 1, 4, 3)
        block = block.reshape((r1 - r0) * SUB, tc * SUB * per_word)
        dst = out[r0 * SUB:r1 * SUB]
        dst[...] = block[:dst.shape[0], :cols]
    return out


@register_layout("raw")
class Raw(Layout):
    """Raw 32-bit words: row t of a 2-D array is tile t, in memory order (word, then lane).

    Element e of a row goes to region word e // lanes, lane e % lanes. Any 4-byte dtype is
    placed as its bits; read back gives uint32 (shape None: every tile, whole region).
    """

    def tiles(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """One tile per row."""
        return int(shape[0])

    def words_needed(self, geometry: Geometry) -> int:
        """One word."""
        return 1

    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """A 2-D array of 32-bit values."""
        return _check_2d(name, array, "uif", "32-bit values (raw layout)")

    def _fit(self, words: np.ndarray, shape: tuple[int, ...]) -> int:
        per_tile = words.shape[1] * words.shape[3]
        if shape[1] > per_tile:
            raise InputError(f"layout raw: rows of {shape[1]} words do not fit a region of "
                             f"{per_tile} words per tile")
        _check_capacity(words, shape[0], f"a {shape[0]}-row raw tensor")
        return -(-shape[1] // words.shape[3])

    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write row t into tile t."""
        lanes = words.shape[3]
        nwords = self._fit(words, array.shape)
        bits = array.view(words.dtype)
        step = max(1, CHUNK_WORDS // (nwords * lanes))
        for t0 in range(0, array.shape[0], step):
            src = bits[t0:t0 + step]
            block = np.zeros((src.shape[0], nwords * lanes), words.dtype)
            block[:, :src.shape[1]] = src
            scatter_tiles(words, block.reshape(-1, nwords, lanes), t0)
        zero_tiles_from(words, array.shape[0])
        for slot, ua, ub, _ in _tile_pieces(0, array.shape[0], words.shape[2]):
            words[slot, nwords:, ua:ub, :] = 0

    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """uint32 array of `shape` (tiles x words), or every tile's whole region."""
        lanes = words.shape[3]
        if shape is None:
            shape = (words.shape[0] * words.shape[2], words.shape[1] * lanes)
        if len(shape) != 2:
            raise InputError(f"layout raw reads back a 2-D array; got shape {shape}")
        nwords = self._fit(words, shape)
        out = np.empty(shape, words.dtype)
        step = max(1, CHUNK_WORDS // (nwords * lanes))
        for t0 in range(0, shape[0], step):
            count = min(step, shape[0] - t0)
            tiles = gather_tiles(words, t0, count, nwords).reshape(count, nwords * lanes)
            out[t0:t0 + count] = tiles[:, :shape[1]]
        return out
