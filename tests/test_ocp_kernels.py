"""The bundled OCP MX kernels (mxfp8/mxfp6/mxfp4/mxint8, row and column): bit-exact against the
golden model on both backends, fuzzed, packed at the nominal size; the hp32 and ocp_packed
layouts round trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.emulator import run
from pimisa.emulator.launch import prepare
from pimisa.isa import BY_MNEMONIC
from pimisa.kernels import bundled, load
from pimisa.layout import get_layout, scatter_tiles
from pimisa.mx.formats import FORMATS, OcpFormat, encode
from pimisa.mx.formats.samples import adversarial
from pimisa.mx.fuzzing import fuzz_arch, fuzz_kernel
from pimisa.mx.ocplayout import codes_to_words, read_codes, tile_words
from pimisa.testing import tensor_shapes, tensors_of_shape

ARCH = fuzz_arch(load_arch("hbm3"))
OCP = [name for name, f in FORMATS.items() if isinstance(f, OcpFormat)]
KERNELS = [(f, d) for f in OCP for d in ("row", "col")]


def test_every_ocp_format_has_both_kernels():
    assert {f"{f}_{d}" for f, d in KERNELS} <= set(bundled())


def _launch(name: str, x: np.ndarray, backend: str, arch=ARCH):
    program = load(name, arch)
    region = program.meta.region("Q")
    machine, _ = prepare(program, arch.geometry, {"W": x})
    run(program, machine, backend)
    return program, region, machine


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_kernel_equals_golden_codes(fmt, direction, backend):
    rng = np.random.default_rng(7)
    x = adversarial(rng, (40, 260))
    x[1, 2], x[33, 250], x[5, 70] = np.nan, -np.inf, np.finfo(np.float32).max
    _, region, machine = _launch(f"{fmt}_{direction}", x, backend)
    got = read_codes(machine.region_words(region), fmt, direction, x.shape)
    want = encode(x, fmt, direction)
    np.testing.assert_array_equal(got.scale, want.scale)
    np.testing.assert_array_equal(got.codes, want.codes)


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
def test_kernel_survives_fuzzing(fmt, direction):
    program = load(f"{fmt}_{direction}", ARCH)
    report = fuzz_kernel(program, fmt, direction, ARCH, "c", max_examples=12, seed=5)
    assert report.failure is None, report.failure.render()


@pytest.mark.parametrize("fmt", OCP)
def test_packed_output_is_nominal_size(fmt):
    f = FORMATS[fmt]
    program = load(f"{fmt}_row", ARCH)
    words = tile_words(f)
    assert words * 32 / 1024 == f.bits_per_element  # 8.25, 6.25, 4.25 bits per element
    rec = program.records
    stores = rec[rec["op"] == BY_MNEMONIC["st"].opcode]
    assert len(stores) == words  # every word written once, nothing else
    region = program.meta.region("Q")
    addresses = {(int(r), int(c)) for r, c in zip(stores["row"], stores["col"], strict=True)}
    assert len(addresses) == words
    assert all(region.row <= r < region.row + region.rows for r, _ in addresses)


def test_kernels_assemble_for_every_preset():
    for arch in ("hbm2-pim:lane_bits=32", "lpddr5x"):  # float32 kernels: 32-bit lanes
        x = adversarial(np.random.default_rng(1), (33, 70))
        small = fuzz_arch(load_arch(arch))
        _, region, machine = _launch("mxfp4_e2m1_col", x, "c", small)
        got = read_codes(machine.region_words(region), "mxfp4_e2m1", "col", x.shape)
        np.testing.assert_array_equal(got.codes, encode(x, "mxfp4_e2m1", "col").codes)


@settings(max_examples=30)
@given(st.sampled_from(OCP), st.sampled_from(["row", "col"]),
       tensor_shapes(70, 600).flatmap(tensors_of_shape))
def test_packed_words_round_trip(fmt, direction, x):
    enc = encode(x, fmt, direction)
    g = ARCH.geometry
    tiles = codes_to_words(enc, g.lanes)
    slots = -(-len(tiles) // g.total_units)
    words = np.zeros((slots, tiles.shape[1], g.total_units, g.lanes), np.uint32)
    scatter_tiles(words, tiles, 0)
    back = read_codes(words, fmt, direction, x.shape)
    np.testing.assert_array_equal(back.codes, enc.codes)
    np.testing.assert_array_equal(back.scale, enc.scale)


@settings(max_examples=30)
@given(tensor_shapes(70, 600).flatmap(tensors_of_shape))
def test_hp32_round_trip_and_sub_tiles(x):
    g = ARCH.geometry
    layout = get_layout("hp32")
    slots = layout.slots(x.shape, g)
    words = np.zeros((slots, 1024, g.total_units, g.lanes), np.uint32)
    layout.place(words, x)
    np.testing.assert_array_equal(layout.read_back(words, x.shape).view(np.uint32),
                                  x.view(np.uint32))
    i, j = x.shape[0] - 1, x.shape[1] - 1  # element (i, j): tile (i // 32, j // 256), lane
    tile = (i // 32) * -(-x.shape[1] // 256) + j // 256
    slot, unit = divmod(tile, g.total_units)
    lane = (j % 256) // 32
    assert words[slot, 32 * (i % 32) + j % 32, unit, lane] == x.view(np.uint32)[i, j]
