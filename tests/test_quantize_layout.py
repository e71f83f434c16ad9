"""The mx_packed layout: the block-placement contract, checked without any kernel.

A Python "reference kernel" reads each block straight from the hp16 input words of every lane
(row block b = words 16b..16b+15, column block b = words b, b+16, ...), quantizes it alone with
the golden model and stores the packed words where the contract says; pimisa.mx.layout must then
read back exactly the golden codes of the whole tensor.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.emulator import Machine
from pimisa.errors import InputError
from pimisa.layout import get_layout
from pimisa.mx.formats import decode, encode
from pimisa.mx.layout import (
    codes_to_blocks,
    packed_format,
    read_codes,
    region_format,
    scatter_blocks,
)
from pimisa.mx.pack import pack_blocks
from pimisa.program import Region
from pimisa.testing import adversarial_tensors

GEOMETRY = dataclasses.replace(load_arch("hbm3").geometry, channels=1)
HP_ROWS = 256 // GEOMETRY.cols
FORMATS = ("mx9", "mx6", "mx4")


def _machine(shape: tuple[int, int], fmt: str, direction: str) -> tuple[Machine, Region, Region]:
    wpb = packed_format(fmt).words_per_block
    out_rows = -(-16 * wpb // GEOMETRY.cols)
    w = Region("W", "input", 0, HP_ROWS, "hp16")
    q = Region("Q", "output", HP_ROWS, out_rows, "mx_packed", {"fmt": fmt, "dir": direction})
    slots = get_layout("hp16").slots(shape, GEOMETRY)
    return Machine(GEOMETRY, HP_ROWS + out_rows, slots), w, q


def reference_kernel(machine: Machine, w: Region, q: Region) -> None:
    """Quantize every block of every lane from the hp16 words, block by block, into Q."""
    fmt, direction = region_format(q)
    hp = machine.region_words(w)[:, :256].reshape(machine.slots, 16, 16, machine.units, -1)
    if direction == "row":
        blocks = hp.transpose(0, 3, 4, 1, 2)  # (slot, unit, lane, b, element)
    else:
        blocks = hp.transpose(0, 3, 4, 2, 1)
    values = blocks.reshape(-1, 16).view(np.float32)
    enc = encode(values, fmt.name, "row")  # each block alone, as one row block
    m = fmt.m
    code = enc.codes.astype(np.int64)
    packed = pack_blocks(enc.shared_exp[:, 0], enc.micro_exp, code >> m, code & ((1 << m) - 1),
                         fmt)
    packed = packed.reshape(blocks.shape[:4] + (fmt.words_per_block,))
    out = machine.region_words(q)
    words = packed.transpose(0, 3, 4, 1, 2).reshape(machine.slots, -1, machine.units,
                                                    machine.lanes)
    out[:, :words.shape[1]] = words


@given(adversarial_tensors(max_rows=70, max_cols=400), st.sampled_from(FORMATS),
       st.sampled_from(("row", "col")))
def test_contract_matches_golden(x: np.ndarray, fmt: str, direction: str) -> None:
    machine, w, q = _machine(x.shape, fmt, direction)
    get_layout("hp16").place(machine.region_words(w), x)
    reference_kernel(machine, w, q)
    got = read_codes(machine.region_words(q), packed_format(fmt), direction, x.shape)
    want = encode(x, fmt, direction)
    for name in ("codes", "shared_exp", "micro_exp"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert np.array_equal(decode(got).view(np.uint32), decode(want).view(np.uint32))


@given(adversarial_tensors(max_rows=40, max_cols=300), st.sampled_from(FORMATS),
       st.sampled_from(("row", "col")))
def test_scatter_read_round_trip(x: np.ndarray, fmt: str, direction: str) -> None:
    want = encode(x, fmt, direction)
    machine, _, q = _machine(x.shape, fmt, direction)
    scatter_blocks(machine.region_words(q), codes_to_blocks(want, GEOMETRY.lanes))
    got = read_codes(machine.region_words(q), packed_format(fmt), direction, x.shape)
    for name in ("codes", "shared_exp", "micro_exp"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name


def test_nan_block_fields_read_as_zero() -> None:
    x = np.ones((16, 16), np.float32)
    x[3, 5] = np.inf
    machine, _, q = _machine(x.shape, "mx6", "row")
    enc = encode(x, "mx6", "row")
    blocks = codes_to_blocks(enc, GEOMETRY.lanes)
    blocks[0, 0, 3, 0, 1:] = 0xFFFFFFFF  # garbage codes in the NaN block
    blocks[0, 0, 3, 0, 0] |= 0xFFFFFF00
    scatter_blocks(machine.region_words(q), blocks)
    got = read_codes(machine.region_words(q), packed_format("mx6"), "row", x.shape)
    assert got.shared_exp[3, 0] == 255
    assert not got.codes[3].any() and not got.micro_exp[3].any()
    assert np.isnan(decode(got)[3]).all() and not np.isnan(decode(got)[[0, 4]]).any()


def test_region_checks() -> None:
    layout = get_layout("mx_packed")
    with pytest.raises(InputError, match="must declare fmt= and dir="):
        layout.check_region(Region("Q", "output", 8, 2, "mx_packed"), GEOMETRY)
    with pytest.raises(InputError, match="unknown packed MX format"):
        layout.check_region(Region("Q", "output", 8, 2, "mx_packed",
                                   {"fmt": "mx5", "dir": "row"}), GEOMETRY)
    with pytest.raises(InputError, match="dir="):
        layout.check_region(Region("Q", "output", 8, 2, "mx_packed",
                                   {"fmt": "mx6", "dir": "diag"}), GEOMETRY)
    with pytest.raises(InputError, match="need 3 rows"):
        layout.check_region(Region("Q", "output", 8, 2, "mx_packed",
                                   {"fmt": "mx9", "dir": "row"}), GEOMETRY)
    layout.check_region(Region("Q", "output", 8, 2, "mx_packed", {"fmt": "mx6", "dir": "col"}),
                        GEOMETRY)
