"""Speed of the DRAM command scheduler (one core), against the plain-Python scheduler.

Prints M DRAM commands scheduled per second by the C core (statistics only, and with every
command delivered to Python in chunks), the CSV trace writer and the independent checker, the
pure-Python reference scheduler (pimisa.dram.reference, same rules) measured in the same run on
a smaller stream, the speed-up, and the published speeds of other simulators. First, the peak
memory of a 100 M-command launch.
Usage: PYTHONPATH=. python benchmarks/bench_dram.py [--arch NAME] [--commands M]
"""

from __future__ import annotations

import argparse
import io
import math
import resource
import time

import numpy as np

from pimisa.arch import Arch, load_arch
from pimisa.dram import start_launch
from pimisa.dram.check import check_schedule, parse_trace_csv
from pimisa.dram.reference import ReferenceScheduler
from pimisa.dram.traces import CsvWriter
from pimisa.encoding import encode
from pimisa.isa import RECORD_DTYPE
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


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="hbm3")
    parser.add_argument("--commands", type=float, default=20.0,
                        help="M DRAM commands in the timed launch (default 20)")
    args = parser.parse_args()
    arch = load_arch(args.arch)
    program, slots, per_slot = sized_launch(arch, args.commands * 1e6)
    print(f"{arch.name}: tile of {len(program)} PIM commands = {per_slot} DRAM commands, "
          f"{slots} tile slots per unit")

    big, big_slots, _ = sized_launch(arch, 110e6)
    dt, n = timed(lambda: dram_commands(arch, big, big_slots))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n / 1e6:.0f} M-command launch (statistics only): {dt:.1f} s, peak RSS so far "
          f"{peak:.0f} MB")

    def fast() -> int:
        run = start_launch(program, arch, slots)
        run.finish()
        return sum(run.stats().commands.values())

    def chunks() -> int:
        return sum(len(c) for c in start_launch(program, arch, slots).chunks())

    dt, n = timed(fast)
    c_rate = n / dt / 1e6
    print(f"C core, statistics only    {n / 1e6:8.1f} M commands  {c_rate:8.1f} M/s")
    dt, n = timed(chunks)
    print(f"C core, chunks to Python   {n / 1e6:8.1f} M commands  {n / dt / 1e6:8.1f} M/s")

    sample, sample_slots, _ = sized_launch(arch, 1e6)
    buf = io.BytesIO()

    def csv() -> int:
        writer = CsvWriter(buf, [0], 1 << 40)
        for chunk in start_launch(sample, arch, sample_slots).chunks():
            writer.write(chunk)
        return writer.lines

    dt, n = timed(csv)
    print(f"CSV trace writer           {n / 1e6:8.2f} M commands  {n / dt / 1e6:8.1f} M/s "
          f"({buf.tell() / dt / 1e6:.0f} MB/s)")
    dt, result = timed(lambda: check_schedule(parse_trace_csv(buf.getvalue()), arch))
    assert result.ok, result.violations[:3]
    print(f"checker (parse + check)    {n / 1e6:8.2f} M commands  {n / dt / 1e6:8.1f} M/s")

    small, small_slots, _ = sized_launch(arch, 0.1e6)

    def reference() -> int:
        ref = ReferenceScheduler(arch)
        ref.run(small.records, small_slots, small.meta.tile_rows)
        return len(ref.commands)

    dt, n = timed(reference)
    py_rate = n / dt / 1e6
    print(f"pure-Python reference      {n / 1e6:8.2f} M commands  {py_rate:8.2f} M/s")
    print(f"C core / Python reference  {c_rate / py_rate:8.0f}x")
    for name, rate in OTHERS.items():
        print(f"C core / {name:30s} {c_rate / rate:6.0f}x  ({rate} M/s published)")


if __name__ == "__main__":
    main()
