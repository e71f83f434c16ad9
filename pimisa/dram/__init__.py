"""DRAM timing of PIM kernel launches.

`time_launch(program, arch, slots)` gives a TimingSummary (C core, cached); `start_launch`
gives the run whose DRAM commands `pimisa.dram.traces` writes as CSV / Chrome traces;
`pimisa.dram.check` re-verifies a schedule independently. See docs/dram.md for the model.
"""

from pimisa.dram.launch import slots_for_tiles
from pimisa.dram.summary import TimingSummary
from pimisa.dram.timing import start_launch, time_launch

__all__ = ["TimingSummary", "slots_for_tiles", "start_launch", "time_launch"]
