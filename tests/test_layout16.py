"""The 16-bit layouts (pimisa.layout16): documented element-to-word/position mapping, round
trips on arbitrary shapes, the same bytes seen as 32-bit lanes, exactness errors, rounding."""

from __future__ import annotations

import dataclasses

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.emulator.state import Machine
from pimisa.errors import InputError
from pimisa.layout import get_layout
from pimisa.layout16 import halves, hp_bits, hp_tensors_of_shape, round_bf16_bits
from pimisa.mx.formats import encode
from pimisa.mx.layout import codes_to_blocks
from pimisa.program import Region
from pimisa.testing import tensor_shapes

SMALL = dataclasses.replace(load_arch("hbm3").geometry, channels=1)


def _machine(rows: int = 8, slots: int = 1) -> Machine:
    return Machine(SMALL, rows, slots)


@given(tensor_shapes(40, 600), st.sampled_from(["bf16", "fp16"]), st.data())
def test_hp16_half_round_trip(shape, element, data):
    x = data.draw(hp_tensors_of_shape(shape, element))
    layout = get_layout(f"hp16_{element}")
    region = Region("W", "input", 0, 8, layout.name)
    m = _machine(slots=layout.slots(shape, SMALL))
    layout.place(m.region_words(region), layout.check_array("W", x))
    back = layout.read_back(m.region_words(region), shape)
    nan = np.isnan(x)  # stored as the quiet NaN of its sign
    np.testing.assert_array_equal(np.isnan(back), nan)
    np.testing.assert_array_equal(np.signbit(back[nan]), np.signbit(x[nan]))
    np.testing.assert_array_equal(back[~nan].view(np.uint32), x[~nan].view(np.uint32))


@given(st.integers(0, 40), st.integers(0, 600))
def test_hp16_bf16_documented_position(r, c):
    """Element (r, c) is at word 16 (r % 16) + c % 16, position (c % 256) // 16 of tile
    (r // 16, c // 256), i.e. in the low (even position) or high half of lane position // 2."""
    shape = (41, 601)
    x = np.zeros(shape, np.float32)
    x[r, c] = 1.5  # BF16 0x3FC0
    layout = get_layout("hp16_bf16")
    m = _machine(slots=layout.slots(shape, SMALL))
    words = m.region_words(Region("W", "input", 0, 8, "hp16_bf16"))
    layout.place(words, x)
    tc = -(-shape[1] // 256)
    tile = (r // 16) * tc + c // 256
    slot, unit = divmod(tile, SMALL.total_units)
    p, word = (c % 256) // 16, 16 * (r % 16) + c % 16
    lane, half = divmod(p, 2)
    assert int(words[slot, word, unit, lane]) == 0x3FC0 << (16 * half)
    assert np.count_nonzero(words) == 1
    assert int(halves(words)[slot, word, unit, p]) == 0x3FC0


def test_hp16_bf16_accepts_patterns_and_ml_dtypes():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((20, 300)).astype(ml_dtypes.bfloat16)
    layout = get_layout("hp16_bf16")
    want = values.astype(np.float32)
    for given_array in (values, values.view(np.uint16), values.view("<V2"),
                        values.view(np.uint16).astype(">u2")):
        np.testing.assert_array_equal(layout.check_array("W", given_array), want)


def test_hp16_errors_name_the_first_inexact_element():
    x = np.ones((3, 5), np.float32)
    x[2, 1] = 1 + 2.0 ** -10
    x[2, 4] = 1 + 2.0 ** -12
    with pytest.raises(InputError, match=r"input W: element \[2, 1\] = 1.0009765625 "
                                         r"\(0x3f802000\) is not a BF16 value"):
        get_layout("hp16_bf16").check_array("W", x)
    get_layout("hp16_fp16").check_array("W", x[:, :4])  # FP16 holds 1 + 2^-10
    with pytest.raises(InputError, match=r"element \[2, 4\] .* is not an FP16 value"):
        get_layout("hp16_fp16").check_array("W", x)
    with pytest.raises(InputError, match="expected bf16 values"):
        get_layout("hp16_bf16").check_array("W", np.ones((2, 2), np.int32))
    with pytest.raises(InputError, match="2-D"):
        get_layout("hp16_bf16").check_array("W", np.ones(3, np.float32))


@given(st.integers(0, 0xFFFFFFFF))
def test_round_bf16_is_ml_dtypes(bits):
    x = np.array([bits], np.uint32).view(np.float32)
    want = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    got = round_bf16_bits(x)
    if np.isnan(x[0]):
        assert got[0] & 0x7FC0 == 0x7FC0 and (got[0] >> 15) == (bits >> 31)
    else:
        assert got[0] == want[0]


def test_nan_stays_nan():
    x = np.array([[0x7F800001, 0xFF800001, 0x7FC00000]], np.uint32).view(np.float32)
    assert hp_bits(x, "bf16", "x").tolist() == [[0x7FC0, 0xFFC0, 0x7FC0]]


@given(st.integers(1, 2 * SMALL.total_units), st.integers(1, 8 * 256), st.data())
def test_raw16_round_trip_and_positions(rows, width, data):
    seed = data.draw(st.integers(0, 2 ** 32 - 1))
    a = np.random.default_rng(seed).integers(0, 1 << 16, (rows, width), dtype=np.uint16)
    layout = get_layout("raw16")
    region = Region("A", "input", 0, 8, "raw16")
    m = _machine(slots=-(-rows // SMALL.total_units))
    words = m.region_words(region)
    layout.place(words, layout.check_array("A", a.view(np.float16)))
    np.testing.assert_array_equal(layout.read_back(words, a.shape), a)
    t, e = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, width - 1))
    slot, unit = divmod(t, SMALL.total_units)
    lane, half = divmod(e % 16, 2)
    assert (int(words[slot, e // 16, unit, lane]) >> (16 * half)) & 0xFFFF == a[t, e]


def test_raw16_refuses_other_widths():
    with pytest.raises(InputError, match="expected 16-bit values"):
        get_layout("raw16").check_array("A", np.ones((2, 2), np.float32))


@given(tensor_shapes(40, 600), st.sampled_from(["mx9", "mx6", "mx4"]),
       st.sampled_from(["row", "col"]), st.sampled_from([32, 16]), st.data())
def test_mx_packed16_gather_inverts_scatter(shape, fmt, direction, lane_bits, data):
    """Round trip and the documented place of every block, on 32-bit lanes (two sub-tiles
    per lane) and on 16-bit lanes (a view of 16 uint16 lanes: one sub-tile per lane, 16-bit
    words)."""
    from pimisa.layout16 import halfwords_per_block
    from pimisa.mx.pack import PACKED_FORMATS

    x = data.draw(hp_tensors_of_shape(shape, "bf16"))
    layout = get_layout("mx_packed16")
    blocks = codes_to_blocks(encode(x, fmt, direction), 16)
    packed = PACKED_FORMATS[fmt]
    region = Region("Q", "output", 0, 8, "mx_packed16", {"fmt": fmt, "dir": direction})
    tiles = blocks.shape[0] * blocks.shape[1]
    m = _machine(slots=-(-tiles // SMALL.total_units))
    words = m.region_words(region)
    if lane_bits == 16:
        words = halves(words)
    layout.scatter(words, blocks, packed)
    np.testing.assert_array_equal(layout.gather(words, packed, shape), blocks)
    tr, tc, b, p = (data.draw(st.integers(0, n - 1)) for n in blocks.shape[:4])
    slot, unit = divmod(tr * blocks.shape[1] + tc, SMALL.total_units)
    word = data.draw(st.integers(0, packed.words_per_block - 1))
    where, lane = layout.site(b, p, packed, word, lane_bits)
    want = int(blocks[tr, tc, b, p, word])
    if lane_bits == 32:  # block b of sub-tile p = 2k + h at lane k, words (16 h + b) W ..
        assert lane == p // 2 and where == (16 * (p % 2) + b) * packed.words_per_block + word
        assert int(words[slot, where, unit, lane]) == want
    else:  # block b of lane p at 16-bit words b W16 .. (the stream in 16-bit pieces)
        w16 = halfwords_per_block(packed)
        assert lane == p and where == b * w16 + 2 * word
        assert int(words[slot, where, unit, lane]) == want & 0xFFFF
        if 2 * word + 1 < w16:
            assert int(words[slot, where + 1, unit, lane]) == want >> 16
        else:
            assert want >> 16 == 0


COPY16 = """
.kernel copy16
.input  A, rows=0:1, layout=raw16, dtype=bfloat16, width=200
.input  W, rows=1:9, layout=hp16_bf16
.output B, rows=9:10, layout=raw16, like=A
.output V, rows=10:18, layout=hp16_bf16, like=W
.for c = 0, COLS
    ld v0, [0, c]
    st v0, [9, c]
.endfor
.for w = 0, 256
    ld v1, [1 + w / COLS, w % COLS]
    srli v1, v1, 0
    st v1, [10 + w / COLS, w % COLS]
.endfor
"""


@pytest.mark.parametrize(("expected_pass", "shift"), [(True, 0), (False, 1)])
def test_fuzz_draws_16bit_inputs(expected_pass, shift):
    """pimisa fuzz --ref draws raw16 and hp16_bf16 inputs from their layouts' strategies: a
    copy kernel matches, one that shifts the hp16_bf16 words is caught."""
    from pimisa.asm import assemble_source
    from pimisa.mx.fuzzing import fuzz, fuzz_arch
    from pimisa.references import LoadedReference

    arch = fuzz_arch(load_arch("hbm3"))
    program = assemble_source(COPY16.replace("srli v1, v1, 0", f"srli v1, v1, {shift}"),
                              arch=arch)

    def ref(inputs):
        assert inputs["A"].dtype == np.uint16 and inputs["A"].shape[1] == 200
        return {"B": inputs["A"], "V": inputs["W"]}

    report = fuzz(program, arch, LoadedReference(ref, "copy"), "numpy", max_examples=8, seed=1)
    assert (report.failure is None) == expected_pass, report.failure and report.failure.render()
