"""Packed MX block layout: bit-exact round trips and the spec's worked example."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pimisa.mx.pack import PACKED_FORMATS, dequantize_blocks, pack_blocks, unpack_blocks

FMT = st.sampled_from(sorted(PACKED_FORMATS))


@given(FMT, st.integers(1, 6), st.data())
def test_pack_unpack_round_trip(name, n, data):
    fmt = PACKED_FORMATS[name]
    exp = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 255)))
    micro = data.draw(hnp.arrays(np.int64, (n, 8), elements=st.integers(0, 1)))
    sign = data.draw(hnp.arrays(np.int64, (n, 16), elements=st.integers(0, 1)))
    mag = data.draw(hnp.arrays(np.int64, (n, 16), elements=st.integers(0, 2**fmt.m - 1)))
    words = pack_blocks(exp, micro, sign, mag, fmt)
    assert words.shape == (n, fmt.words_per_block) and words.dtype == np.uint32
    back = unpack_blocks(words, fmt)
    for got, want in zip(back, (exp, micro, sign, mag), strict=True):
        np.testing.assert_array_equal(got, want)


def test_layout_bits_are_where_the_docstring_says():
    fmt = PACKED_FORMATS["mx6"]
    exp = np.array([0xAB])
    micro = np.zeros((1, 8), np.int64)
    micro[0, 3] = 1
    sign = np.zeros((1, 16), np.int64)
    mag = np.zeros((1, 16), np.int64)
    sign[0, 3], mag[0, 3] = 1, 0b1011  # element 3: bits 31..35, spanning words 0 and 1
    words = pack_blocks(exp, micro, sign, mag, fmt)[0]
    code = 0b11011
    assert words[0] == 0xAB | (1 << 11) | ((code << 31) & 0xFFFFFFFF)
    assert words[1] == code >> 1
    assert words[2] == 0


def test_spec_worked_example_mx9():
    fmt = PACKED_FORMATS["mx9"]
    signed = np.array([64, -48, 38, 13, 77, 70, -1, 3, 122, 127, 63, -33, 0, 64, 32, -16])
    micro = np.array([[0, 1, 1, 1, 0, 1, 1, 1]])
    values = dequantize_blocks(np.array([127]), micro, (signed < 0)[None].astype(np.int64),
                               np.abs(signed)[None], fmt)
    want = [1, -0.75, 0.296875, 0.1015625, 0.6015625, 0.546875, -0.0078125, 0.0234375,
            1.90625, 1.984375, 0.4921875, -0.2578125, 0, 0.5, 0.25, -0.125]
    np.testing.assert_array_equal(values[0], np.array(want, np.float32))


def test_nan_block():
    fmt = PACKED_FORMATS["mx4"]
    z = np.zeros((2, 16), np.int64)
    values = dequantize_blocks(np.array([255, 3]), np.zeros((2, 8), np.int64), z, z, fmt)
    assert np.isnan(values[0]).all() and (values[1] == 0).all()
