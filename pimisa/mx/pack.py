"""Packed bit layout of MX9/MX6/MX4 blocks in bank memory, as the PIM kernels write it.

Each 16-element block is one bit stream held in one SIMD lane, starting at a word boundary:

    bits 0..7               shared exponent E (255 marks a NaN/Inf block)
    bits 8..15              micro-exponent of pair k at bit 8 + k
    bits 16 + e*(m+1) ...   element e: magnitude M in the low m bits, sign in bit m

The stream is padded to whole 32-bit words: MX9 takes 5 words (144 bits used, 10 bits per
element stored, 1.11x nominal), MX6 3 words and MX4 2 words (exactly nominal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 16
PAIRS = BLOCK // 2
EXP_BITS = 8
MICRO_OFFSET = 8
CODES_OFFSET = 16


@dataclass(frozen=True)
class PackedFormat:
    """Bit geometry of one shared-micro-exponent format's packed block."""

    name: str
    m: int  # magnitude bits

    @property
    def code_bits(self) -> int:
        """Bits per element code (sign + magnitude)."""
        return self.m + 1

    @property
    def block_bits(self) -> int:
        """Bits a block uses before padding."""
        return CODES_OFFSET + BLOCK * self.code_bits

    @property
    def words_per_block(self) -> int:
        """32-bit words a block occupies."""
        return -(-self.block_bits // 32)

    def code_offset(self, element: int) -> int:
        """Bit offset of element `element`'s code in the block stream."""
        return CODES_OFFSET + element * self.code_bits


PACKED_FORMATS = {name: PackedFormat(name, m) for name, m in (("mx9", 7), ("mx6", 4), ("mx4", 2))}


def _field(words64: np.ndarray, offset: int, width: int) -> np.ndarray:
    """Bits offset..offset+width-1 of each block stream (words64: (..., nwords+1) uint64)."""
    w, sh = divmod(offset, 32)
    pair = words64[..., w] | (words64[..., w + 1] << np.uint64(32))
    return ((pair >> np.uint64(sh)) & np.uint64((1 << width) - 1)).astype(np.int64)


def unpack_blocks(words: np.ndarray, fmt: PackedFormat) -> tuple[np.ndarray, ...]:
    """Split packed blocks (..., words_per_block) uint32 into their fields.

    Returns (E (...), micro (..., 8), sign (..., 16), magnitude (..., 16)), all int64.
    """
    w64 = np.zeros(words.shape[:-1] + (fmt.words_per_block + 1,), dtype=np.uint64)
    w64[..., :-1] = words
    exp = _field(w64, 0, EXP_BITS)
    micro = np.stack([_field(w64, MICRO_OFFSET + k, 1) for k in range(PAIRS)], axis=-1)
    codes = np.stack([_field(w64, fmt.code_offset(e), fmt.code_bits) for e in range(BLOCK)],
                     axis=-1)
    return exp, micro, codes >> fmt.m, codes & ((1 << fmt.m) - 1)


def pack_blocks(exp: np.ndarray, micro: np.ndarray, sign: np.ndarray, mag: np.ndarray,
                fmt: PackedFormat) -> np.ndarray:
    """Inverse of unpack_blocks: the fields -> (..., words_per_block) uint32."""
    w64 = np.zeros(np.shape(exp) + (fmt.words_per_block + 1,), dtype=np.uint64)

    def put(value: np.ndarray, offset: int) -> None:
        w, sh = divmod(offset, 32)
        v = np.asarray(value).astype(np.uint64) << np.uint64(sh)
        w64[..., w] |= v & np.uint64(0xFFFFFFFF)
        w64[..., w + 1] |= v >> np.uint64(32)

    put(exp, 0)
    for k in range(PAIRS):
        put(micro[..., k], MICRO_OFFSET + k)
    for e in range(BLOCK):
        put(mag[..., e] | (sign[..., e] << fmt.m), fmt.code_offset(e))
    return w64[..., :-1].astype(np.uint32)


def dequantize_blocks(exp: np.ndarray, micro: np.ndarray, sign: np.ndarray, mag: np.ndarray,
                      fmt: PackedFormat) -> np.ndarray:
    """Float32 values of unpacked blocks: (-1)^sign M 2^(E - 127 - d + 1 - m); E=255 is NaN."""
    d = np.repeat(micro, 2, axis=-1)
    scale = np.ldexp(1.0, (exp[..., None] - 127 - d + 1 - fmt.m).astype(np.int32))
    values = (np.where(sign != 0, -mag, mag) * scale).astype(np.float32)
    values[exp == 255] = np.nan
    return values
