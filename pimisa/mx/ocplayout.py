"""Layouts of the OCP MX kernels (block 32, E8M0 scale): "hp32" input and "ocp_packed" output.

hp32 -- the float32 weights, each lane a 32 x 32 sub-tile. A tile is 32 rows x 32*lanes
columns of the tensor; lane k holds columns 32k..32k+31 of it, row-major over 1024 region words
(word 32 i + j = element (i, j) of the sub-tile). A row block (32 elements of a tensor row) is
32 consecutive words, a column block every 32nd word, so every block of 32 lies in one lane.

ocp_packed -- what the kernels write, declared as

    .output Q, rows=..., layout=ocp_packed, fmt=mxfp8_e4m3, dir=row

Per tile and lane: 32 blocks, then their 32 scales. Block b occupies words b*WPB .. b*WPB+WPB-1
(WPB = element bits: 8, 6 or 4 words); element e's code sits at bit e*bits of the block's bit
stream (bit o is bit o % 32 of word o // 32, so 6-bit codes may straddle two words). The E8M0
scale of block b is byte b % 4 of word 32*WPB + b // 4. A tile thus takes 32*WPB + 8 words per
lane for 1024 elements: 8.25, 6.25 and 4.25 bits per element, the formats' nominal sizes.
Block b of lane k is tensor row 32 tr + b, columns 32 (lanes tc + k) .. +32 (row direction) or
tensor column 32 (lanes tc + k) + b, rows 32 tr .. +32 (column direction), (tr, tc) being the
tile's place in the row-major tile grid of the zero-padded tensor.

`pimisa run` reads ocp_packed regions back as raw words (one row per tile, like "raw");
`read_codes` turns the words of a launch into golden-model OcpCodes, `codes_to_words` does the
reverse; `tensor_blocks` puts a launch's packed blocks in tensor order (checkpoint outputs).
"""

from __future__ import annotations

import numpy as np

from pimisa.arch import Geometry
from pimisa.errors import InputError
from pimisa.layout import (
    Layout,
    Raw,
    _check_2d,
    _check_capacity,
    gather_tiles,
    register_layout,
    scatter_tiles,
    zero_tiles_from,
)
from pimisa.mx.formats import DIRECTIONS, OcpCodes, OcpFormat, get_format
from pimisa.mx.layout import tile_grid
from pimisa.program import Region

SUB32 = 32  # hp32 sub-tile side = OCP block size
SCALE_WORDS = SUB32 // 4  # 32 one-byte scales per lane and tile


def tile_grid32(shape: tuple[int, ...], lanes: int) -> tuple[int, int]:
    """(tile rows, tile columns) of the hp32 tile grid of a tensor of `shape`."""
    return tile_grid(shape, lanes, SUB32)


@register_layout("hp32")
class HP32(Layout):
    """float32 weights, each lane a 32 x 32 sub-tile (see the module docstring)."""

    def tiles(self, shape: tuple[int, ...], geometry: Geometry) -> int:
        """Tiles of the padded tensor."""
        tr, tc = tile_grid32(shape, geometry.lanes)
        return tr * tc

    def words_needed(self, geometry: Geometry) -> int:
        """1024 words per tile."""
        return SUB32 * SUB32

    def check_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """A 2-D float32 array."""
        return _check_2d(name, array, "f", "float32 values (hp32 layout)")

    def place(self, words: np.ndarray, array: np.ndarray) -> None:
        """Write the tensor tile row by tile row."""
        lanes = words.shape[3]
        rows, cols = array.shape
        tr, tc = tile_grid32(array.shape, lanes)
        _check_capacity(words, tr * tc, f"a {rows}x{cols} tensor in layout hp32")
        bits = array.view(np.uint32)
        for r in range(tr):
            band = np.zeros((SUB32, tc * SUB32 * lanes), np.uint32)
            src = bits[r * SUB32:(r + 1) * SUB32]
            band[:src.shape[0], :cols] = src
            tiles = band.reshape(SUB32, tc, lanes, SUB32).transpose(1, 0, 3, 2)
            scatter_tiles(words, tiles.reshape(tc, SUB32 * SUB32, lanes), r * tc)
        zero_tiles_from(words, tr * tc)

    def read_back(self, words: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """The float32 tensor of `shape` (required)."""
        if shape is None or len(shape) != 2:
            raise InputError(f"layout hp32 reads back a 2-D tensor; got shape {shape}")
        lanes = words.shape[3]
        rows, cols = shape
        tr, tc = tile_grid32(shape, lanes)
        _check_capacity(words, tr * tc, f"a {rows}x{cols} tensor in layout hp32")
        out = np.empty((rows, cols), np.uint32)
        for r in range(tr):
            tiles = gather_tiles(words, r * tc, tc, SUB32 * SUB32)
            band = tiles.reshape(tc, SUB32, SUB32, lanes).transpose(1, 0, 3, 2)
            dst = out[r * SUB32:(r + 1) * SUB32]
            dst[...] = band.reshape(SUB32, -1)[:dst.shape[0], :cols]
        return out.view(np.float32)


def words_per_block(fmt: OcpFormat) -> int:
    """Words one packed block of 32 codes takes (the element bits)."""
    return fmt.element_bits


def tile_words(fmt: OcpFormat) -> int:
    """Words per lane and tile of an ocp_packed region: 32 blocks and 8 scale words."""
    return SUB32 * words_per_block(fmt) + SCALE_WORDS


def ocp_format(name: object) -> OcpFormat:
    """The OCP format called `name`; InputError otherwise."""
    from pimisa.mx.formats import FORMATS

    fmt = FORMATS.get(str(name))
    if not isinstance(fmt, OcpFormat):
        known = ", ".join(n for n, f in FORMATS.items() if isinstance(f, OcpFormat))
        raise InputError(f"unknown OCP MX format {name!r} (known: {known})")
    return fmt


def region_format(region: Region) -> tuple[OcpFormat, str]:
    """The (format, direction) an ocp_packed region declares in fmt= and dir=."""
    fmt, direction = region.params.get("fmt"), region.params.get("dir")
    if fmt is None or direction is None:
        raise InputError(f"region {region.name!r} (layout ocp_packed) must declare fmt= and "
                         "dir=")
    if direction not in DIRECTIONS:
        raise InputError(f"region {region.name!r}: dir={direction!r} (want row or col)")
    return ocp_format(fmt), str(direction)


@register_layout("ocp_packed")
class OcpPacked(Raw):
    """Packed OCP MX blocks and scales; placed and read back as raw words."""

    def words_needed(self, geometry: Geometry) -> int:
        """The smallest format's tile (check_region knows the region's format)."""
        return SUB32 * 4 + SCALE_WORDS

    def check_region(self, region: Region, geometry: Geometry) -> None:
        """InputError unless the region declares a format and holds a tile of it."""
        fmt, _ = region_format(region)
        need = tile_words(fmt)
        have = region.rows * geometry.cols
        if have < need:
            raise InputError(f"region {region.name!r} has {region.rows} rows ({have} words); "
                             f"32 {fmt.name} blocks and their scales need "
                             f"{-(-need // geometry.cols)} rows ({need} words) per tile")

    def subtiles(self, geometry: Geometry) -> int:
        """Sub-tiles side by side in a tile: one per lane."""
        return geometry.lanes


def _tile_codes(codes: np.ndarray, scale: np.ndarray, direction: str, lanes: int,
                grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Padded codes / scales -> per tile (T, 32 blocks, lanes, 32 elements) and (T, 32, lanes)."""
    tr, tc = grid
    c = np.zeros((tr * SUB32, tc * SUB32 * lanes), np.uint32)
    s_shape = (tr * SUB32, tc * lanes) if direction == "row" else (tr, tc * lanes * SUB32)
    s = np.zeros(s_shape, np.uint32)
    c[:codes.shape[0], :codes.shape[1]] = codes
    s[:scale.shape[0], :scale.shape[1]] = scale
    c5 = c.reshape(tr, SUB32, tc, lanes, SUB32)  # (tr, i, tc, k, j)
    if direction == "row":  # block b = sub-tile row i, element e = column j
        blocks = c5.transpose(0, 2, 1, 3, 4)
        scales = s.reshape(tr, SUB32, tc, lanes).transpose(0, 2, 1, 3)
    else:  # block b = sub-tile column j, element e = row i
        blocks = c5.transpose(0, 2, 4, 3, 1)
        scales = s.reshape(tr, tc, lanes, SUB32).transpose(0, 1, 3, 2)
    return blocks.reshape(tr * tc, SUB32, lanes, SUB32), scales.reshape(tr * tc, SUB32, lanes)


def _pack(blocks: np.ndarray, scales: np.ndarray, fmt: OcpFormat) -> np.ndarray:
    """(T, 32, lanes, 32) codes and (T, 32, lanes) scales -> (T, tile_words, lanes) words."""
    bits = fmt.element_bits
    wpb = words_per_block(fmt)
    t, _, lanes, _ = blocks.shape
    stream = np.zeros((t, SUB32, lanes, wpb + 1), np.uint64)
    for e in range(SUB32):
        w, sh = divmod(e * bits, 32)
        v = blocks[..., e].astype(np.uint64) << np.uint64(sh)
        stream[..., w] |= v & np.uint64(0xFFFFFFFF)
        stream[..., w + 1] |= v >> np.uint64(32)
    out = np.zeros((t, tile_words(fmt), lanes), np.uint32)
    out[:, :SUB32 * wpb] = stream[..., :wpb].astype(np.uint32).transpose(0, 1, 3, 2).reshape(
        t, SUB32 * wpb, lanes)
    sc = scales.reshape(t, SCALE_WORDS, 4, lanes).astype(np.uint32)
    out[:, SUB32 * wpb:] = sc[:, :, 0] | sc[:, :, 1] << 8 | sc[:, :, 2] << 16 | sc[:, :, 3] << 24
    return out


def codes_to_words(enc: OcpCodes, lanes: int) -> np.ndarray:
    """The golden model's codes as a launch writes them: (tiles, tile_words, lanes) uint32."""
    grid = tile_grid32(enc.shape, lanes)
    blocks, scales = _tile_codes(np.asarray(enc.codes), np.asarray(enc.scale), enc.direction,
                                 lanes, grid)
    return _pack(blocks, scales, enc.fmt)


def tensor_blocks(tiles: np.ndarray, fmt: OcpFormat | str, direction: str,
                  shape: tuple[int, int]) -> np.ndarray:
    """The packed blocks of an (R, C) tensor in tensor order, from its launch's tile words
    (tiles, words per tile, lanes) as pimisa.mx.quantize.read_output gives them: W words per
    block of 32 codes (W = element bits), row (R, ceil(C/32), W), column (ceil(R/32), C, W)."""
    fmt = fmt if isinstance(fmt, OcpFormat) else ocp_format(fmt)
    lanes = tiles.shape[2]
    tr, tc = tile_grid32(shape, lanes)
    wpb = words_per_block(fmt)
    blocks = tiles[:tr * tc, :SUB32 * wpb].reshape(tr, tc, SUB32, wpb, lanes)
    rows, cols = shape
    if direction == "row":  # block (32 tr + b, lanes tc + k)
        out = blocks.transpose(0, 2, 1, 4, 3).reshape(tr * SUB32, tc * lanes, wpb)
        return np.ascontiguousarray(out[:rows, :-(-cols // SUB32)])
    out = blocks.transpose(0, 1, 4, 2, 3).reshape(tr, tc * lanes * SUB32, wpb)  # (tr, column)
    return np.ascontiguousarray(out[:-(-rows // SUB32), :cols])


def read_codes(words: np.ndarray, fmt: OcpFormat | str, direction: str,
               shape: tuple[int, int]) -> OcpCodes:
    """The OcpCodes a launch wrote into an ocp_packed region view (slots, words, units, lanes)
    for an (R, C) tensor."""
    fmt = fmt if isinstance(fmt, OcpFormat) else ocp_format(fmt)
    lanes = words.shape[3]
    tr, tc = tile_grid32(shape, lanes)
    need = tile_words(fmt)
    if words.shape[1] < need:
        raise InputError(f"the region holds {words.shape[1]} words per tile; a {fmt.name} tile "
                         f"needs {need}")
    _check_capacity(words, tr * tc, f"a {shape[0]}x{shape[1]} tensor in layout ocp_packed")
    tiles = gather_tiles(words, 0, tr * tc, need)  # (T, need, lanes)
    bits, wpb = fmt.element_bits, words_per_block(fmt)
    stream = np.zeros((tr * tc, SUB32, lanes, wpb + 1), np.uint64)
    stream[..., :wpb] = tiles[:, :SUB32 * wpb].reshape(tr * tc, SUB32, wpb, lanes).transpose(
        0, 1, 3, 2)
    codes = np.empty((tr * tc, SUB32, lanes, SUB32), np.uint8)
    for e in range(SUB32):
        w, sh = divmod(e * bits, 32)
        pair = stream[..., w] | (stream[..., w + 1] << np.uint64(32))
        codes[..., e] = (pair >> np.uint64(sh)) & np.uint64((1 << bits) - 1)
    sw = tiles[:, SUB32 * wpb:need]  # (T, 8, lanes)
    scales = np.stack([(sw >> (8 * i)) & 0xFF for i in range(4)], axis=2).reshape(
        tr * tc, SUB32, lanes).astype(np.uint8)
    c = codes.reshape(tr, tc, SUB32, lanes, SUB32)
    rows, cols = shape
    if direction == "row":  # (tr, tc, b=i, k, e=j) -> (tr, i, tc, k, j)
        full = c.transpose(0, 2, 1, 3, 4).reshape(tr * SUB32, -1)
        sc = scales.reshape(tr, tc, SUB32, lanes).transpose(0, 2, 1, 3).reshape(tr * SUB32, -1)
        nb = -(-cols // SUB32)
        code, scale = full[:rows, :nb * SUB32], sc[:rows, :nb]
    else:  # (tr, tc, b=j, k, e=i) -> (tr, i, tc, k, j)
        full = c.transpose(0, 4, 1, 3, 2).reshape(tr * SUB32, -1)
        sc = scales.reshape(tr, tc, SUB32, lanes).transpose(0, 1, 3, 2).reshape(tr, -1)
        nb = -(-rows // SUB32)
        code, scale = full[:nb * SUB32, :cols], sc[:nb, :cols]
    return OcpCodes(get_format(fmt.name), direction, (rows, cols), np.ascontiguousarray(code),
                    np.ascontiguousarray(scale))
