"""Tensor layouts: round trips on arbitrary shapes, documented positions, padding, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.arch import Geometry, load_arch
from pimisa.emulator import Machine
from pimisa.errors import InputError
from pimisa.layout import LAYOUTS, Layout, get_layout, register_layout, slots_needed
from pimisa.program import KernelMeta, Region

SMALL = Geometry(stacks=1, channels=2, banks=3, bank_groups=1, rows=64, row_bytes=32 * 8 * 4,
                 word_bits=256, lanes=8, vector_registers=4, mask_registers=1,
                 banks_per_pim_unit=1)
W = Region("w", "input", row=1, rows=8, layout="hp16")
META = KernelMeta("k", regions=[W, Region("r", "input", 9, 2, "raw")])


def dirty_machine(geometry: Geometry, slots: int) -> Machine:
    m = Machine(geometry, META.tile_rows, slots)
    m.mem[...] = 0xDEADBEEF
    return m


def floats(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 1 << 32, size=shape, dtype=np.uint32)
    return bits.view(np.float32)  # every bit pattern, NaN payloads included


@given(st.integers(1, 70), st.integers(1, 400), st.integers(0, 1 << 32))
def test_hp16_round_trip(rows: int, cols: int, seed: int) -> None:
    x = floats((rows, cols), seed)
    layout = get_layout("hp16")
    slots = slots_needed(META, SMALL, {"w": x.shape})
    m = dirty_machine(SMALL, slots)
    layout.place(m.region_words(W), x)
    back = layout.read_back(m.region_words(W), x.shape)
    assert back.dtype == np.float32 and np.array_equal(back.view(np.uint32), x.view(np.uint32))
    tiles = -(-rows // 16) * -(-cols // 128)
    assert slots == -(-tiles // SMALL.total_units)


@given(st.integers(1, 40), st.integers(1, 40))
def test_hp16_puts_each_element_where_documented(rows: int, cols: int) -> None:
    g = SMALL
    x = np.arange(1, rows * cols + 1, dtype=np.float32).reshape(rows, cols)
    m = dirty_machine(g, slots_needed(META, g, {"w": x.shape}))
    get_layout("hp16").place(m.region_words(W), x)
    tc_count = -(-cols // (16 * g.lanes))
    for r, c in [(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3)]:
        t = (r // 16) * tc_count + c // (16 * g.lanes)
        unit, slot = t % g.total_units, t // g.total_units
        lane = (c % (16 * g.lanes)) // 16
        word = 16 * (r % 16) + c % 16
        row = slot * m.tile_rows + W.row + word // g.cols
        assert m.mem[row, word % g.cols, unit, lane].view(np.float32) == x[r, c]


def test_hp16_pads_with_zeros_and_clears_unused_tiles() -> None:
    x = np.ones((17, 3), np.float32)
    m = dirty_machine(SMALL, 1)
    get_layout("hp16").place(m.region_words(W), x)
    words = m.region_words(W)[..., :256, :, :]
    assert words.view(np.float32).sum() == x.sum()
    assert int(np.count_nonzero(words)) == x.size


def test_hp16_on_hbm3_uses_8_dram_rows_and_lpddr5x_4() -> None:
    for name, rows in (("hbm3", 8), ("lpddr5x", 4)):
        g = load_arch(name).geometry
        layout = get_layout("hp16")
        layout.check_region(Region("w", "input", 0, rows, "hp16"), g)
        with pytest.raises(InputError, match=f"needs {rows} rows"):
            layout.check_region(Region("w", "input", 0, rows - 1, "hp16"), g)


@given(st.integers(1, 20), st.integers(1, 16 * 8), st.integers(0, 1 << 32))
def test_raw_round_trip(n: int, width: int, seed: int) -> None:
    x = np.random.default_rng(seed).integers(0, 1 << 32, (n, width), dtype=np.uint32)
    region = META.region("r")
    m = dirty_machine(SMALL, slots_needed(META, SMALL, {"r": x.shape}))
    layout = get_layout("raw")
    layout.place(m.region_words(region), x)
    assert np.array_equal(layout.read_back(m.region_words(region), x.shape), x)
    t = n - 1
    e = width - 1
    word = m.region_words(region)[t // SMALL.total_units, e // 8, t % SMALL.total_units, e % 8]
    assert word == x[t, e]
    whole = layout.read_back(m.region_words(region), None)
    assert whole.shape == (m.slots * SMALL.total_units, 2 * 32 * 8)
    assert np.array_equal(whole[:n, :width], x) and not whole[:n, width:].any()


def test_layout_errors() -> None:
    m = Machine(SMALL, META.tile_rows, 1)
    hp16, raw = get_layout("hp16"), get_layout("raw")
    with pytest.raises(InputError, match="unknown layout 'mx7'.*hp16"):
        get_layout("mx7")
    with pytest.raises(InputError, match="expected float32"):
        hp16.check_array("w", np.zeros((2, 2)))
    with pytest.raises(InputError, match="2-D"):
        hp16.check_array("w", np.zeros(3, np.float32))
    with pytest.raises(InputError, match="empty"):
        hp16.check_array("w", np.zeros((0, 3), np.float32))
    with pytest.raises(InputError, match="needs 7 tiles, the launch holds 6"):
        hp16.place(m.region_words(W), np.zeros((16 * 7, 1), np.float32))
    with pytest.raises(InputError, match="do not fit"):
        raw.place(m.region_words(META.region("r")), np.zeros((1, 2 * 32 * 8 + 1), np.uint32))
    with pytest.raises(InputError, match="outside the 11-row tile"):
        m.region_words(Region("x", "output", 10, 2))


def test_registering_a_layout() -> None:
    @register_layout("test-negated")
    class Negated(Layout):
        def tiles(self, shape, geometry):
            return shape[0]

        def words_needed(self, geometry):
            return 1

        def check_array(self, name, array):
            return array

        def place(self, words, array):
            words[0, 0, :len(array), 0] = ~array

        def read_back(self, words, shape):
            return ~words[0, 0, :shape[0], 0]

    try:
        layout = get_layout("test-negated")
        assert layout.name == "test-negated"
        m = Machine(SMALL, 1, 1)
        region = Region("a", "input", 0, 1, "test-negated")
        layout.place(m.region_words(region), np.arange(3, dtype=np.uint32))
        assert list(layout.read_back(m.region_words(region), (3,))) == [0, 1, 2]
        with pytest.raises(ValueError, match="already registered"):
            register_layout("test-negated")(Negated)
    finally:
        LAYOUTS.pop("test-negated", None)
