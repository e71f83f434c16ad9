"""Speed of the DRAM command scheduler (one core), against the plain-Python scheduler.

Prints M DRAM commands scheduled per second as a user gets them: `pimisa time` (C core,
statistics only: the launch checks and set-up included), every command delivered to Python in
chunks, `pimisa time --trace-csv` (the named CSV trace, to a file) and the independent checker;
the pure-Python reference scheduler (pimisa.dram.reference, same rules) measured in the same
run on a smaller stream; the speed-ups; and the published speeds of other simulators. Each
figure is the best of --repeat runs, as wall-clock and as this process's CPU time: on a
machine shared with other work the wall-clock rate drops (the load average is printed) while
the CPU-time rate stays what an idle machine's wall clock shows. First, the peak memory of a
100 M-command launch.
Usage: PYTHONPATH=. python benchmarks/bench_dram.py [--arch NAME] [--commands M] [--repeat N]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from pimisa.arch import Arch, load_arch
from pimisa.dram import start_launch
from pimisa.dram.check import check_schedule, parse_trace_csv
from pimisa.dram.reference import ReferenceScheduler
from pimisa.dram.traces import write_traces
from pimisa.encoding import encode
from pimisa.isa import RECORD_DTYPE
from pimisa.linecost import AttributedRun
from pimisa.program import KernelMeta, Program, Region

# Throughputs measured on this kind of 2-core machine: Samsung's PIMSimulator, a GEMV 4096x4096
# FP16 (about 1.37 M commands in 8.4 s); DRAMsim3, HBM2 with 8 channels.
OTHERS = {"Samsung HBM-PIM simulator": 0.16, "DRAMsim3 (HBM2, 8 channels)": 0.6}


def tile_kernel(arch: Arch, passes: int) -> Program:
    """A quantization-like tile: `passes` passes reading 8 rows word by word with 3 lane ops
    per word (all-bank), the packed result written to 3 more rows, a few single-bank loads and
    a barrier."""
    cols = arch.geometry.cols
    recs = []
    for _ in range(passes):
        for row in range(8):
            for col in range(cols):
                recs.append(encode("ld", {"rd": 0, "row": row, "col": col}))
                recs += [encode("max", {"rd": 1, "ra": 1, "rb": 0})] * 3
    for row in range(8, 11):
        recs += [encode("st", {"ra": 1, "row": row, "col": col}) for col in range(cols)]
    recs += [encode("ld", {"rd": 2, "row": 11, "col": 0}, bank=b) for b in range(4)]
    recs.append(encode("barrier"))
    return Program(np.array(recs, dtype=RECORD_DTYPE),
                   KernelMeta(name="bench", regions=[Region("t", "input", 0, 12)]))


def sized_launch(arch: Arch, commands: float) -> tuple[Program, int, int]:
    """(program, slots, DRAM commands per slot) of a launch of about `commands` DRAM commands,
    every unit full of tiles (more passes per tile when the unit's rows run out)."""
    slots = arch.geometry.rows * arch.geometry.banks_per_pim_unit // 12
    per_pass = dram_commands(arch, tile_kernel(arch, 1), 1)
    passes = max(1, math.ceil(commands / slots / per_pass))
    program = tile_kernel(arch, passes)
    per_slot = dram_commands(arch, program, 1)
    return program, max(1, min(slots, math.ceil(commands / per_slot))), per_slot


def dram_commands(arch: Arch, program: Program, slots: int) -> int:
    run = start_launch(program, arch, slots)
    run.finish()
    return sum(run.stats().commands.values())


T = TypeVar("T")


def timed(fn: Callable[[], T], repeat: int = 1) -> tuple[float, float, T]:
    """(wall seconds, CPU seconds, fn's value): the fastest of `repeat` runs by each clock."""
    wall = cpu = math.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, value


def report(name: str, wall: float, cpu: float, n: int) -> float:
    """Print one speed line; the CPU-time rate (M/s)."""
    print(f"{name:30s} {n / 1e6:8.2f} M commands  {n / wall / 1e6:8.1f} M/s wall  "
          f"{n / cpu / 1e6:8.1f} M/s CPU")
    return n / cpu / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="hbm3")
    parser.add_argument("--commands", type=float, default=20.0,
                        help="M DRAM commands in the timed launch (default 20)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measurement; the fastest counts (default 3)")
    args = parser.parse_args()
    arch = load_arch(args.arch)
    program, slots, per_slot = sized_launch(arch, args.commands * 1e6)
    print(f"{arch.name}: tile of {len(program)} PIM commands = {per_slot} DRAM commands, "
          f"{slots} tile slots per unit; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")

    big, big_slots, _ = sized_launch(arch, 110e6)
    wall, _, n = timed(lambda: dram_commands(arch, big, big_slots))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n / 1e6:.0f} M-command launch (statistics only): {wall:.1f} s, peak RSS so far "
          f"{peak:.0f} MB")

    def chunks() -> int:
        return sum(len(c) for c in start_launch(program, arch, slots).chunks())

    c_rate = report("C core, statistics only", *timed(
        lambda: dram_commands(arch, program, slots), args.repeat))
    report("C core, chunks to Python", *timed(chunks, args.repeat))

    sample, sample_slots, _ = sized_launch(arch, 1e6)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.csv"

        def csv() -> int:
            run = AttributedRun(sample, arch, sample_slots)
            write_traces(run, arch, path, None, [0], 1 << 40)
            return sum(run.stats().commands.values())

        wall, cpu, n = timed(csv, args.repeat)
        report("CSV trace (--trace-csv)", wall, cpu, n)
        print(f"{'':30s} {path.stat().st_size / cpu / 1e6:8.0f} MB/s CPU")
        text = path.read_bytes()
    wall, cpu, result = timed(lambda: check_schedule(parse_trace_csv(text), arch))
    assert result.ok, result.violations[:3]
    report("checker (parse + check)", wall, cpu, n)

    small, small_slots, _ = sized_launch(arch, 0.1e6)

    def reference() -> int:
        ref = ReferenceScheduler(arch)
        ref.run(small.records, small_slots, small.meta.tile_rows)
        return len(ref.commands)

    py_rate = report("pure-Python reference", *timed(reference))
    print(f"C core / Python reference  {c_rate / py_rate:8.0f}x (CPU time)")
    for name, rate in OTHERS.items():
        print(f"C core / {name:30s} {c_rate / rate:6.0f}x  ({rate} M/s published)")


if __name__ == "__main__":
    main()
