"""Running a program over a machine: validation, chunked execution, progress, trace, faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pimisa.emulator.backends import Backend, get_backend
from pimisa.emulator.calls import check_machine, check_records_array
from pimisa.emulator.faults import LocatedError, fault_error
from pimisa.emulator.state import Machine
from pimisa.emulator.trace import TraceWriter
from pimisa.program import Program
from pimisa.validate import check_records

ProgressFn = Callable[[int, int], None]
CHUNK_SECONDS = 0.2  # target wall time of one backend call when running in chunks


@dataclass(frozen=True)
class RunStats:
    """What a run did: commands per slot, slots, steps executed, wall time, backend name."""

    commands: int
    slots: int
    steps: int
    seconds: float
    backend: str


def check_program(program: Program, machine: Machine) -> None:
    """Raise a located error for the first record invalid on the machine's geometry."""
    check_machine(machine)
    g = machine.geometry
    width = program.width_problem(g.lane_bits, "the machine")
    if width is not None:
        raise LocatedError(f"{program.location(0)}: error: {width}")
    problem = check_records(check_records_array(program.records), g)
    if problem is not None:
        index, reason = problem
        raise LocatedError(f"{program.location(index)}: error: {reason}")


def run(
    program: Program,
    machine: Machine,
    backend: Backend | str | None = None,
    *,
    progress: ProgressFn | None = None,
    trace: TraceWriter | None = None,
) -> RunStats:
    """Run `program` once per slot of `machine` (slot s at row base s x tile_rows).

    Records are validated first; a command that faults at run time (a row outside the launch's
    rows) raises EmulatorFault located at its source line. `progress(done, total)` is called
    between chunks of about CHUNK_SECONDS; with `trace`, every step is logged.
    """
    be = backend if backend is not None and not isinstance(backend, str) else get_backend(backend)
    check_program(program, machine)
    n, total = len(program), len(program) * machine.slots
    start = time.perf_counter()
    done, chunk = 0, 64
    while done < total:
        end = min(total, done + (1 if trace else chunk))
        t0 = time.perf_counter()
        fault = be.execute(machine, program.records, done, end)
        elapsed = time.perf_counter() - t0
        if fault is not None:
            err = fault_error(fault, program, machine.geometry, machine.rows, machine.tile_rows)
            if trace:
                trace.fault(str(err))
            raise err
        if trace:
            trace.step(machine, done % n, done // n)
        done = end
        if elapsed < CHUNK_SECONDS / 2:
            chunk *= 2
        elif elapsed > CHUNK_SECONDS * 2:
            chunk = max(1, chunk // 2)
        if progress:
            progress(done, total)
    return RunStats(n, machine.slots, total, time.perf_counter() - start, be.name)
