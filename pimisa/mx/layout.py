"""The "mx_packed" layout: packed MX9/MX6/MX4 blocks written by the JIT-Q quantization kernels.

A kernel declares its LP output as

    .output Q, rows=H:H+O, layout=mx_packed, fmt=mx6, dir=row

Per tile (one hp16 tile of the weights, tile t = slot x units + unit), region word
w = b x wpb + i (b = block 0..15, i = word of the block, wpb = words per packed block) in lane k
holds word i of packed block b of lane k (bit layout: pimisa.mx.pack). Which block is which:

- row direction: block b of lane k is tensor row 16 tr + b, columns 16 (lanes tc + k) .. +16;
- col direction: block b of lane k is tensor column 16 (lanes tc + k) + b, rows 16 tr .. +16;

where (tr, tc) is the tile's place in the row-major tile grid of the zero-padded tensor.

`pimisa run` reads such a region back as raw words (like the "raw" layout: one row per tile);
`gather_blocks` / `blocks_to_codes` turn the words of a launch into golden-model
SharedMicroCodes of the tensor's shape, so pimisa.mx.formats.decode gives its values.
"""

from __future__ import annotations

import numpy as np

from pimisa.arch import Geometry
from pimisa.errors import InputError
from pimisa.layout import SUB, Raw, register_layout
from pimisa.mx.formats import DIRECTIONS, SharedMicroCodes, get_format
from pimisa.mx.pack import BLOCK, PACKED_FORMATS, PackedFormat, pack_blocks
from pimisa.program import KernelMeta, Region

NAN_BLOCK = 255
PACKED_LAYOUTS = ("mx_packed", "mx_packed16")  # MX block outputs (mx_packed16: pimisa.layout16)


def packed_format(name: str) -> PackedFormat:
    """The packed geometry of MX format `name` (mx9, mx6, mx4); InputError otherwise."""
    try:
        return PACKED_FORMATS[str(name)]
    except KeyError:
        known = ", ".join(PACKED_FORMATS)
        raise InputError(f"unknown packed MX format {name!r} (known: {known})") from None


def region_format(region: Region) -> tuple[PackedFormat, str]:
    """The (format, direction) an mx_packed region declares in its fmt= and dir= parameters."""
    fmt = region.params.get("fmt")
    direction = region.params.get("dir")
    if fmt is None or direction is None:
        raise InputError(f"region {region.name!r} (layout mx_packed) must declare fmt= and dir=")
    if direction not in DIRECTIONS:
        raise InputError(f"region {region.name!r}: dir={direction!r} (want row or col)")
    return packed_format(str(fmt)), str(direction)


@register_layout("mx_packed")
class MXPacked(Raw):
    """Packed MX blocks: 16 blocks per lane and tile; placed and read back as raw words."""

    def words_needed(self, geometry: Geometry) -> int:
        """One block of the smallest format (check_region knows the region's format)."""
        return min(f.words_per_block for f in PACKED_FORMATS.values())

    def tile_words(self, fmt: PackedFormat, geometry: Geometry) -> int:
        """Region words a tile's blocks take: 16 blocks per lane."""
        return BLOCK * fmt.words_per_block

    def check_region(self, region: Region, geometry: Geometry) -> None:
        """InputError unless the region declares a format and holds a tile's blocks."""
        fmt, _ = region_format(region)
        need = self.tile_words(fmt, geometry)
        have = region.rows * geometry.cols
        if have < need:
            raise InputError(f"region {region.name!r} has {region.rows} rows ({have} words); "
                             f"the {fmt.name} blocks of a tile need {-(-need // geometry.cols)} "
                             f"rows ({need} words)")

    def subtiles(self, geometry: Geometry) -> int:
        """Sub-tiles side by side in a tile: one per lane."""
        return geometry.lanes

    def gather(self, words: np.ndarray, fmt: PackedFormat, shape: tuple[int, int]) -> np.ndarray:
        """Packed blocks of a tensor's tiles (gather_blocks)."""
        return gather_blocks(words, fmt, shape)

    def scatter(self, words: np.ndarray, blocks: np.ndarray, fmt: PackedFormat) -> None:
        """Write gathered blocks into a region view (scatter_blocks)."""
        scatter_blocks(words, blocks)

    def site(self, block: int, subtile: int, fmt: PackedFormat, word: int,
             lane_bits: int = 32) -> tuple[int, int]:
        """(region word, lane) of 32-bit word `word` of block `block` of sub-tile `subtile`."""
        return block * fmt.words_per_block + word, subtile


def packed_region(meta: KernelMeta) -> Region:
    """The kernel's single mx_packed output region; InputError if it has none or several."""
    found = [r for r in meta.regions if r.kind == "output" and r.layout in PACKED_LAYOUTS]
    if len(found) != 1:
        raise InputError(f"kernel {meta.name or '(unnamed)'!r} must have exactly one "
                         f"mx_packed output region, it has {len(found)}")
    return found[0]


def tile_grid(shape: tuple[int, int], lanes: int, height: int = SUB) -> tuple[int, int]:
    """(tile rows, tile columns) of the tile grid of a tensor of `shape`: tiles of `height`
    tensor rows (16: hp16; 32: the OCP kernels' tiles) by `height` x `lanes` columns."""
    rows, cols = shape
    return -(-rows // height), -(-cols // (height * lanes))


def check_gather(words: np.ndarray, need: int, fmt: PackedFormat, shape: tuple[int, int],
                 tiles: int) -> None:
    """InputError unless a region view holds `need` words per tile and `tiles` tiles."""
    slots, nwords, units, _ = words.shape
    if nwords < need:
        raise InputError(f"the region holds {nwords} words per tile; the {fmt.name} blocks "
                         f"of a tile need {need}")
    if tiles > slots * units:
        raise InputError(f"a {shape[0]}x{shape[1]} tensor needs {tiles} tiles, the launch "
                         f"holds {slots * units}")


def gather_blocks(words: np.ndarray, fmt: PackedFormat, shape: tuple[int, int]) -> np.ndarray:
    """Packed blocks of a tensor's tiles: (TR, TC, 16, lanes, words_per_block) uint32.

    `words` is a region view (slots, region words, units, lanes) (Machine.region_words).
    """
    slots, nwords, units, lanes = words.shape
    wpb = fmt.words_per_block
    tr, tc = tile_grid(shape, lanes)
    check_gather(words, BLOCK * wpb, fmt, shape, tr * tc)
    used = -(-tr * tc // units)
    blocks = words[:used, :BLOCK * wpb].reshape(used, BLOCK, wpb, units, lanes)
    blocks = blocks.transpose(0, 3, 1, 4, 2).reshape(used * units, BLOCK, lanes, wpb)
    return np.ascontiguousarray(blocks[:tr * tc]).reshape(tr, tc, BLOCK, lanes, wpb)


UNPACK_CHUNK = 1 << 14  # blocks unpacked per step: the temporaries stay in cache


def _field_into(out: np.ndarray, words: np.ndarray, offset: int, width: int) -> None:
    """out[:] = bits offset..offset+width-1 of each block (words: (n, wpb) uint32)."""
    w, sh = divmod(offset, 32)
    mask = (1 << width) - 1
    if sh + width <= 32:
        out[...] = (words[:, w] >> np.uint32(sh)) & np.uint32(mask)
    else:
        lo = words[:, w] >> np.uint32(sh)
        hi = words[:, w + 1] << np.uint32(32 - sh)
        out[...] = (lo | hi) & np.uint32(mask)


def _unpack(blocks: np.ndarray, fmt: PackedFormat) -> tuple[np.ndarray, ...]:
    """(E, micro (.., 8), codes (.., 16)) as uint8 from packed blocks (.., wpb) uint32."""
    lead = blocks.shape[:-1]
    flat = blocks.reshape(-1, fmt.words_per_block)
    n = flat.shape[0]
    exp = np.empty(n, np.uint8)
    micro_bits = np.empty(n, np.uint8)
    codes = np.empty((n, BLOCK), np.uint8)
    for b0 in range(0, n, UNPACK_CHUNK):
        part = flat[b0:b0 + UNPACK_CHUNK]
        _field_into(exp[b0:b0 + UNPACK_CHUNK], part, 0, 8)
        _field_into(micro_bits[b0:b0 + UNPACK_CHUNK], part, 8, 8)
        dst = codes[b0:b0 + UNPACK_CHUNK]
        for e in range(BLOCK):
            _field_into(dst[:, e], part, fmt.code_offset(e), fmt.code_bits)
    micro = np.unpackbits(micro_bits[:, None], axis=1, bitorder="little")
    return exp.reshape(lead), micro.reshape(lead + (8,)), codes.reshape(lead + (BLOCK,))


def blocks_to_codes(blocks: np.ndarray, fmt: PackedFormat, direction: str,
                    shape: tuple[int, int]) -> SharedMicroCodes:
    """SharedMicroCodes of an (R, C) tensor from its gathered packed blocks (gather_blocks).

    Codes and micro-exponents of NaN/Inf blocks (E = 255) are set to 0, as the golden model
    has them.
    """
    rows, cols = shape
    tr, tc, _, lanes, _ = blocks.shape
    exp, micro, codes = _unpack(blocks, fmt)
    bad = exp == NAN_BLOCK
    if bad.any():
        codes[bad] = 0
        micro[bad] = 0
    nb = -(-cols // BLOCK) if direction == "row" else -(-rows // BLOCK)
    if direction == "row":
        shared = exp.transpose(0, 2, 1, 3).reshape(tr * SUB, tc * lanes)[:rows, :nb]
        micro_exp = micro.transpose(0, 2, 1, 3, 4).reshape(tr * SUB, -1)[:rows, :nb * 8]
        code = codes.transpose(0, 2, 1, 3, 4).reshape(tr * SUB, -1)[:rows, :nb * BLOCK]
    else:
        shared = exp.transpose(0, 1, 3, 2).reshape(tr, -1)[:nb, :cols]
        micro_exp = micro.transpose(0, 4, 1, 3, 2).reshape(tr * 8, -1)[:nb * 8, :cols]
        code = codes.transpose(0, 4, 1, 3, 2).reshape(tr * SUB, -1)[:nb * BLOCK, :cols]
    return SharedMicroCodes(get_format(fmt.name), direction, (rows, cols),
                            np.ascontiguousarray(code), np.ascontiguousarray(shared),
                            np.ascontiguousarray(micro_exp))


def read_codes(words: np.ndarray, fmt: PackedFormat, direction: str,
               shape: tuple[int, int]) -> SharedMicroCodes:
    """The SharedMicroCodes a launch wrote into an mx_packed region view for an (R, C) tensor."""
    return blocks_to_codes(gather_blocks(words, fmt, shape), fmt, direction, shape)


def codes_to_blocks(enc: SharedMicroCodes, lanes: int) -> np.ndarray:
    """Inverse of blocks_to_codes: (TR, TC, 16, lanes, wpb) packed blocks, zero padded.

    How the golden model's codes look in bank memory (tests, fuzz reports).
    """
    fmt = packed_format(enc.fmt.name)
    m = fmt.m
    tr, tc = tile_grid(enc.shape, lanes)
    ncb = tc * lanes  # block columns (row) / 16-column groups (col) of the padded grid
    if enc.direction == "row":
        exp = np.zeros((tr * SUB, ncb), np.int64)
        micro = np.zeros((tr * SUB, ncb * 8), np.int64)
        code = np.zeros((tr * SUB, ncb * BLOCK), np.int64)
    else:
        exp = np.zeros((tr, ncb * SUB), np.int64)
        micro = np.zeros((tr * 8, ncb * SUB), np.int64)
        code = np.zeros((tr * SUB, ncb * SUB), np.int64)
    for dst, src in ((exp, enc.shared_exp), (micro, enc.micro_exp), (code, enc.codes)):
        dst[:src.shape[0], :src.shape[1]] = src
    if enc.direction == "row":
        exp = exp.reshape(tr, SUB, tc, lanes).transpose(0, 2, 1, 3)
        micro = micro.reshape(tr, SUB, tc, lanes, 8).transpose(0, 2, 1, 3, 4)
        code = code.reshape(tr, SUB, tc, lanes, BLOCK).transpose(0, 2, 1, 3, 4)
    else:
        exp = exp.reshape(tr, tc, lanes, SUB).transpose(0, 1, 3, 2)
        micro = micro.reshape(tr, 8, tc, lanes, SUB).transpose(0, 2, 4, 3, 1)
        code = code.reshape(tr, BLOCK, tc, lanes, SUB).transpose(0, 2, 4, 3, 1)
    return pack_blocks(exp, micro, code >> m, code & ((1 << m) - 1), fmt)


def scatter_blocks(words: np.ndarray, blocks: np.ndarray) -> None:
    """Write gathered packed blocks (TR, TC, 16, lanes, wpb) into a region view, tile by tile."""
    slots, _, units, lanes = words.shape
    tr, tc, _, _, wpb = blocks.shape
    tiles = blocks.reshape(tr * tc, BLOCK, lanes, wpb)
    full = np.zeros((slots * units, BLOCK, lanes, wpb), np.uint32)
    full[:tr * tc] = tiles
    words[:, :BLOCK * wpb] = full.reshape(slots, units, BLOCK, lanes, wpb).transpose(
        0, 2, 4, 1, 3).reshape(slots, BLOCK * wpb, units, lanes)
