"""The C band steps (pimisa.streamcore) against their numpy references, bit for bit."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa import streamcore
from pimisa.arch import load_arch
from pimisa.emulator.state import Machine
from pimisa.layout import get_layout
from pimisa.mx.formats import decode, encode
from pimisa.mx.layout import codes_to_blocks, read_codes, scatter_blocks
from pimisa.mx.pack import PACKED_FORMATS
from pimisa.mx.quantize import kernel_name, kernel_regions, load_quant_kernel
from pimisa.stream import Band, dequantize_band, dequantized_rows

pytestmark = pytest.mark.skipif(streamcore.core() is None, reason="pimisa._streamcore not built")

FORMATS = ("mx9", "mx6", "mx4")
DIRECTIONS = ("row", "col")
shapes = st.tuples(st.integers(1, 70), st.integers(1, 300))


def tensor(shape: tuple[int, int], seed: int) -> np.ndarray:
    """float32 over the whole exponent range, with zeros, subnormals, NaN and Inf."""
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        x = (rng.standard_normal(shape) * 2.0 ** rng.integers(-150, 128, shape)).astype(
            np.float32)
    x[rng.random(shape) < 0.05] = 0
    x[rng.random(shape) < 0.005] = np.nan
    x[rng.random(shape) < 0.005] = -np.inf
    return x


def machine(arch: str, fmt: str, direction: str, shape: tuple[int, int]):
    a = load_arch(arch)
    program = load_quant_kernel(kernel_name(fmt, direction), a)
    source, out = kernel_regions(program, fmt, direction)
    slots = get_layout("hp16").slots(shape, a.geometry) + 1  # a slot of unused tiles too
    return Machine(a.geometry, program.meta.tile_rows, slots), source, out, a.geometry


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), arch=st.sampled_from(("hbm3", "lpddr5x")))
def test_place_matches_numpy(shape, seed, arch):
    x = tensor(shape, seed)
    m1, source, _, _ = machine(arch, "mx6", "row", shape)
    m2 = m1.copy()
    m1.mem[:] = m2.mem[:] = 0xA5A5A5A5  # stale words must be overwritten or left alike
    get_layout("hp16").place(m1.region_words(source), x)
    assert streamcore.place_hp16(m2.region_words(source), x)
    assert np.array_equal(m1.mem, m2.mem)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), fmt=st.sampled_from(FORMATS),
       direction=st.sampled_from(DIRECTIONS), arch=st.sampled_from(("hbm3", "lpddr5x")),
       garbage=st.booleans())
def test_readout_and_decode_match_numpy(shape, seed, fmt, direction, arch, garbage):
    m, _, out, g = machine(arch, fmt, direction, shape)
    words = m.region_words(out)
    if garbage:  # any bits at all, NaN blocks (E = 255) included
        words[...] = np.random.default_rng(seed).integers(0, 2**32, words.shape, np.uint32)
    else:
        scatter_blocks(words, codes_to_blocks(encode(tensor(shape, seed), fmt, direction),
                                              g.lanes))
    ref = read_codes(words, PACKED_FORMATS[fmt], direction, shape)
    got = streamcore.read_mx(words, fmt, direction, shape)
    for name in ("codes", "shared_exp", "micro_exp"):
        assert np.array_equal(getattr(ref, name), getattr(got, name)), name
    want = decode(ref).view(np.uint32)
    assert np.array_equal(streamcore.decode_mx(got).view(np.uint32), want)
    band = Band(0, 0, np.zeros(shape, np.float32), got, np.zeros(0), None, 0, None)
    chunks = [c.copy() for c in dequantized_rows(band)]
    assert np.array_equal(np.concatenate(chunks).view(np.uint32), want)
    assert np.array_equal(dequantize_band(band).view(np.uint32), want)


def test_decode_row_ranges_and_out():
    x = tensor((40, 33), 3)
    enc = encode(x, "mx6", "col")
    want = decode(enc)
    out = np.full((20, 33), 7, np.float32)
    got = streamcore.decode_mx(enc, (16, 36), out)
    assert got.base is out and np.array_equal(got.view(np.uint32), want[16:36].view(np.uint32))
    with pytest.raises(ValueError, match="multiple of 16"):
        streamcore.decode_mx(enc, (8, 16))
    with pytest.raises(ValueError, match="at least 20 rows"):
        streamcore.decode_mx(enc, (16, 36), np.empty((19, 33), np.float32))


def test_cases_left_to_numpy():
    """What the core does not take is refused before anything is written."""
    m, source, out, _ = machine("hbm3", "mx6", "row", (16, 128))
    words = m.region_words(source)
    before = m.mem.copy()
    x = tensor((16, 128), 1)
    assert not streamcore.place_hp16(words, x.astype(">f4"))  # other byte order
    assert not streamcore.place_hp16(words, x[:, ::2])  # non-contiguous rows
    unaligned = np.frombuffer(b"\0" + x.tobytes(), np.float32, x.size, 1).reshape(x.shape)
    assert not streamcore.place_hp16(words, unaligned)
    assert not streamcore.place_hp16(words, np.ones((16 * 1100, 128), np.float32))  # > 1024 tiles
    assert np.array_equal(m.mem, before)
    assert streamcore.read_mx(m.region_words(out), "mxfp8_e4m3", "row", (16, 128)) is None
    enc = encode(x, "mx6", "row")
    assert streamcore.decode_mx(encode(x, "mxfp4_e2m1", "row")) is None
    assert streamcore.decode_mx(type(enc)(enc.fmt, "row", enc.shape, enc.codes.astype(np.int16),
                                          enc.shared_exp, enc.micro_exp)) is None


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=0, max_size=20000), start=st.integers(0, 15),
       crc=st.integers(0, 2**32 - 1))
def test_crc32_matches_zlib(data, start, crc):
    view = memoryview(data)[start:]  # any alignment
    assert streamcore.crc32(view, crc) == zlib.crc32(view, crc)
    lib, ffi = streamcore.core().lib, streamcore.core().ffi  # the C path below 4096 bytes too
    assert lib.sc_crc32(ffi.from_buffer("uint8_t[]", view), len(view), crc) == \
        zlib.crc32(view, crc)
