"""Machine state of a whole device for one launch: unit memories, vector registers, lane masks.

Layout (C order; mem and vregs hold lanes of the geometry's lane_dtype, uint32 or uint16, masks
uint32 words), chosen so one all-bank command touches one contiguous slab:

    mem    (rows, cols, units, lanes)   rows = slots x tile_rows, only what the launch uses
    vregs  (vector_registers, units, lanes)
    masks  (mask_registers, units)      bit k = lane k; bits >= lanes are always 0

Units are numbered channel-major over every channel of every stack: unit = channel x
units_per_channel + u. A PIM unit owns banks_per_pim_unit banks and its memory rows are those
banks concatenated: unit row r lives in bank u x banks_per_pim_unit + r // rows, DRAM row
r % rows. Slot s of a launch sees its tile at unit rows s x tile_rows onwards.
"""

from __future__ import annotations

import numbers

import numpy as np

from pimisa import memory
from pimisa.arch import Geometry
from pimisa.errors import InputError
from pimisa.program import Region


class Machine:
    """Device state sized for `slots` tiles of `tile_rows` rows per unit."""

    def __init__(self, geometry: Geometry, tile_rows: int = 1, slots: int = 1) -> None:
        g = geometry
        if not isinstance(geometry, Geometry):
            raise InputError(f"a machine needs a Geometry, got a {type(geometry).__name__}")
        for name, value in (("tile_rows", tile_rows), ("slots", slots)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise InputError(f"{name} must be an integer, got a {type(value).__name__}")
        tile_rows, slots = int(tile_rows), int(slots)
        if tile_rows < 1 or slots < 1:
            raise InputError(f"a launch needs at least one slot of one row "
                             f"(got {slots} slots x {tile_rows} rows)")
        rows = slots * tile_rows
        capacity = g.rows * g.banks_per_pim_unit
        if rows > capacity:
            raise InputError(f"the launch needs {slots} slots x {tile_rows} rows = {rows} rows "
                             f"per PIM unit, but a unit has {capacity} rows")
        self.geometry = g
        self.tile_rows = tile_rows
        self.slots = slots
        units, lanes = g.total_units, g.lanes
        self.mem = memory.zeros((rows, g.cols, units, lanes), g.lane_dtype,
                                f"the emulator's bank memory ({rows} rows x {units} PIM units)")
        self.vregs = np.zeros((g.vector_registers, units, lanes), g.lane_dtype)
        self.masks = np.zeros((g.mask_registers, units), np.uint32)

    @property
    def rows(self) -> int:
        """Allocated unit rows."""
        return int(self.mem.shape[0])

    @property
    def units(self) -> int:
        """PIM units of the device."""
        return int(self.vregs.shape[1])

    @property
    def lanes(self) -> int:
        """Lanes per unit."""
        return self.geometry.lanes

    @property
    def all_lanes(self) -> int:
        """The mask word with every lane set."""
        return (1 << self.geometry.lanes) - 1

    @property
    def nbytes(self) -> int:
        """Host bytes of the state arrays."""
        return self.mem.nbytes + self.vregs.nbytes + self.masks.nbytes

    def region_words(self, region: Region) -> np.ndarray:
        """View (slots, region words, units, lanes) of a region in every tile.

        Word w of the region is row region.row + w // cols, column w % cols of the tile.
        """
        g = self.geometry
        if region.row < 0 or region.rows < 1 or region.row + region.rows > self.tile_rows:
            raise InputError(f"region {region.name!r} (rows {region.row}.."
                             f"{region.row + region.rows - 1}) is outside the "
                             f"{self.tile_rows}-row tile")
        tiles = self.mem.reshape(self.slots, self.tile_rows * g.cols, self.units, g.lanes)
        return tiles[:, region.row * g.cols:(region.row + region.rows) * g.cols]

    def bank_of(self, unit: int, row: int) -> tuple[int, int, int]:
        """(channel, bank, DRAM row) holding unit row `row` of unit `unit`."""
        g = self.geometry
        channel, u = divmod(unit, g.units_per_channel)
        return channel, u * g.banks_per_pim_unit + row // g.rows, row % g.rows

    def copy(self) -> Machine:
        """An independent copy of the state."""
        other = Machine.__new__(Machine)
        other.geometry, other.tile_rows, other.slots = self.geometry, self.tile_rows, self.slots
        other.mem, other.vregs, other.masks = self.mem.copy(), self.vregs.copy(), self.masks.copy()
        return other
