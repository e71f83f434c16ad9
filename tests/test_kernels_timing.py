"""The bundled JIT-Q kernels' documented timing trade-off: column blocks open more DRAM rows."""

import pytest

from pimisa.arch import load_arch
from pimisa.asm import assemble_file
from pimisa.dram import time_launch
from pimisa.kernels import resolve
from pimisa.mxpack import PACKED_FORMATS


@pytest.mark.parametrize("preset", ["hbm3", "hbm2-pim", "lpddr5x"])
@pytest.mark.parametrize("fmt", sorted(PACKED_FORMATS))
def test_column_kernels_need_more_activations_and_time(fmt, preset):
    arch = load_arch(preset)
    row = time_launch(assemble_file(resolve(f"{fmt}_row"), arch=arch), arch, slots=4)
    col = time_launch(assemble_file(resolve(f"{fmt}_col"), arch=arch), arch, slots=4)
    # Same work: every element read twice (once for E, once to quantize), same packed output.
    assert row.commands["RD"] == col.commands["RD"] == 4 * 2 * 256
    assert row.commands["WR"] == col.commands["WR"] == 4 * 16 * PACKED_FORMATS[fmt].words_per_block
    # A column block spans every DRAM row of the tile: far more activations, so more time.
    assert col.commands["ACT"] > 4 * row.commands["ACT"]
    assert col.cycles > row.cycles
