"""The PIM emulator: device state, two backends with one semantics, launches and traces.

    machine = Machine(geometry, tile_rows, slots)     # state sized for one launch
    stats = run(program, machine, backend="c")        # every slot, faults located at the source

`get_backend(name)` gives the C core (`c`) or the numpy twin (`numpy`); the default is
$PIMISA_BACKEND or `auto` (C if the compiled core loads, else numpy); `active_backend()` says
which one that is. `launch` lays out input tensors, runs, and reads outputs back.
"""

from pimisa.emulator.backends import Backend, active_backend, c_core_problem, get_backend
from pimisa.emulator.faults import EmulatorFault, Fault, LocatedError
from pimisa.emulator.launch import LaunchResult, launch
from pimisa.emulator.run import RunStats, run
from pimisa.emulator.state import Machine
from pimisa.emulator.trace import TraceWriter

__all__ = [
    "Backend",
    "EmulatorFault",
    "Fault",
    "LaunchResult",
    "LocatedError",
    "Machine",
    "RunStats",
    "TraceWriter",
    "active_backend",
    "c_core_problem",
    "get_backend",
    "launch",
    "run",
]
