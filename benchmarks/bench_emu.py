"""Emulator speed and memory: C core vs the numpy twin on one all-bank stream, full hbm3 stack.

Prints, all measured in this run:
  - the C core on a 1 M-command all-bank stream over a full hbm3 stack (512 units x 8 lanes):
    wall time and lane-ops/s (one lane-op = one 32-bit lane of one unit executing one
    command), with the default threads (every CPU) and with one thread; target >= 2e9;
  - the numpy twin on a prefix of the same stream (checked to reach the same state as the C
    core), extrapolated to the whole stream, and the C core's speed-up; target >= 30x;
  - host memory of a whole launch (peak RSS growth of a fresh process, Linux /proc) against
    the bank memory the kernel uses; target <= 1.5x that + < 100 MB fixed;
  - lane widths: the C core on one thread, hbm3 (8 x 32-bit lanes) against hbm3:lane_bits=16
    (16 x 16-bit lanes, the same units), on a stream of every instruction of the width and on
    one of the instructions both widths have: elements/s (one element = one lane of one unit
    through one command, so elements/s = lane-ops/s) and each 16-bit figure as a ratio to the
    32-bit one of the same kind of stream (the baseline, measured in the same run). Target: the
    16-bit lane-ops/s per thread >= the 32-bit one. Where the CPU has F16C, the binary16 ops
    use its conversions; one more row runs the 16-bit stream on the software conversions
    (what a CPU without F16C gets).

The stream draws every instruction uniformly (registers, rows, columns, immediates at random;
a third of the predicable commands predicated): a worst case for branch prediction.
Timings on a shared machine vary with the load of the other core; the figures are the best of
`--repeat` runs.

Usage: python benchmarks/bench_emu.py [--commands N] [--twin-prefix N] [--tensor RxC]
                                     [--width-commands N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from pimisa.arch import Geometry, load_arch
from pimisa.emulator import Machine
from pimisa.emulator.cbackend import CBackend
from pimisa.emulator.opinfo import OPINFO
from pimisa.emulator.twin import NumpyBackend
from pimisa.isa import ALL_BANKS, LANE_WIDTHS, PRED_ON, RECORD_DTYPE

TILE_ROWS = 16


def stream(n: int, g: Geometry, seed: int = 0, widths: tuple[int, ...] = ()) -> np.ndarray:
    """n valid all-bank commands, instructions uniform over the ISA at the geometry's width
    (and at every width of `widths`)."""
    rng = np.random.default_rng(seed)
    ops = np.array(sorted(op for op, i in OPINFO.items()
                          if {g.lane_bits, *widths} <= set(i.ins.widths)))
    recs = np.zeros(n, RECORD_DTYPE)
    recs["op"] = rng.choice(ops, n)
    recs["bank"] = ALL_BANKS
    for op, info in OPINFO.items():
        sel = np.flatnonzero(recs["op"] == op)
        k = len(sel)
        for f in info.vregs:
            recs[f][sel] = rng.integers(0, g.vector_registers, k)
        for f in info.mregs:
            recs[f][sel] = rng.integers(0, g.mask_registers, k)
        if info.cc:
            recs["cc"][sel] = rng.integers(0, 10, k)
        if info.mem:
            recs["row"][sel] = rng.integers(0, TILE_ROWS, k)
            recs["col"][sel] = rng.integers(0, g.cols, k)
        top = {"imm32": 1 << g.lane_bits, "shamt": g.lane_bits, "bitfield": 1 << 21,
               "lanemask": 1 << g.lanes}.get(info.imm)
        if top:
            imm = rng.integers(0, top, k, dtype=np.uint64).astype(np.uint32)
            recs["imm"][sel] = imm.view(np.int32)
        if info.ins.predicable:
            on = sel[rng.integers(0, 3, k) == 0]
            recs["pred"][on] = PRED_ON | rng.integers(0, g.mask_registers, len(on))
    return recs


def best_time(backend, base: Machine, recs: np.ndarray, count: int,
              repeat: int) -> tuple[float, Machine]:
    best, machine = float("inf"), base
    for _ in range(repeat):
        machine = base.copy()
        start = time.perf_counter()
        fault = backend.execute(machine, recs, 0, count)
        best = min(best, time.perf_counter() - start)
        assert fault is None, fault
    return best, machine


def speed(n: int, prefix: int, repeat: int) -> None:
    g = load_arch("hbm3").geometry
    recs = stream(n, g)
    lanes = g.total_units * g.lanes
    print(f"stream: {n} all-bank commands on a full hbm3 stack ({g.total_units} units x "
          f"{g.lanes} lanes = {lanes} lanes per command, {n * lanes:.3g} lane-ops)")
    rng = np.random.default_rng(1)
    base = Machine(g, TILE_ROWS, 1)
    base.mem[...] = rng.integers(0, 1 << 32, base.mem.shape, dtype=np.uint32)
    base.vregs[...] = rng.integers(0, 1 << 32, base.vregs.shape, dtype=np.uint32)
    c_default = CBackend()
    c_seconds = {}
    for backend in (c_default, CBackend(threads=1)):
        seconds, _ = best_time(backend, base, recs, n, repeat)
        c_seconds[backend.threads] = seconds
        print(f"  C core, {backend.threads} thread(s): {seconds:.3f} s = "
              f"{n * lanes / seconds:.3g} lane-ops/s ({seconds / n * 1e9:.0f} ns per command)")
    twin_seconds, twin_state = best_time(NumpyBackend(), base, recs, prefix, 1)
    c_state = base.copy()
    CBackend().execute(c_state, recs, 0, prefix)
    same = all(np.array_equal(getattr(twin_state, a), getattr(c_state, a))
               for a in ("mem", "vregs", "masks"))
    twin_full = twin_seconds * n / prefix
    print(f"  numpy twin: {twin_seconds:.3f} s on the first {prefix} commands (final state equal "
          f"to the C core's: {same}); extrapolated to {n} commands: {twin_full:.1f} s")
    for threads, seconds in c_seconds.items():
        print(f"  speed-up of the C core ({threads} thread(s)) over the numpy twin: "
              f"{twin_full / seconds:.0f}x (target >= 30x)")
    best = min(c_seconds.values())
    print(f"  C core throughput: {n * lanes / best:.3g} lane-ops/s (target >= 2e9)")


def random_machine(g: Geometry, seed: int = 1) -> Machine:
    """A machine of TILE_ROWS rows with random memory and registers."""
    rng = np.random.default_rng(seed)
    m = Machine(g, TILE_ROWS, 1)
    top = 1 << g.lane_bits
    m.mem[...] = rng.integers(0, top, m.mem.shape, dtype=np.uint64).astype(g.lane_dtype)
    m.vregs[...] = rng.integers(0, top, m.vregs.shape, dtype=np.uint64).astype(g.lane_dtype)
    return m


def lane_widths(n: int, repeat: int) -> None:
    """The C core on one thread at both lane widths (see the module docstring)."""
    archs = ("hbm3", "hbm3:lane_bits=16")
    print(f"lane widths: the C core, 1 thread, {n} all-bank commands on a full hbm3 stack "
          f"(ratios: to the 32-bit row of the same stream)")
    backend, soft = CBackend(threads=1), CBackend(threads=1, soft_fp16=True)
    fp16 = "F16C conversions" if backend.hardware_fp16() else "software conversions"
    runs = [(archs[0], backend, ""), (archs[1], backend, f", FP16 by {fp16}")]
    if backend.hardware_fp16():
        runs.append((archs[1], soft, ", FP16 by software conversions"))
    for kind, widths in (("every instruction of the width", ()),
                         ("instructions of both widths", LANE_WIDTHS)):
        baseline = 0.0
        for name, core, note in runs:
            g = load_arch(name).geometry
            recs = stream(n, g, widths=widths)
            seconds, _ = best_time(core, random_machine(g), recs, n, repeat)
            rate = n * g.total_units * g.lanes / seconds
            baseline = baseline or rate
            print(f"  {kind:<31} {name:<18} {g.lanes:>2} x {g.lane_bits}-bit lanes{note}: "
                  f"{rate:.3g} elements/s = lane-ops/s per thread ({rate / baseline:.2f}x), "
                  f"{seconds / n * 1e9:.0f} ns per command")


CHILD = """
import sys, numpy as np
from pimisa.arch import load_arch
from pimisa.emulator import run
from pimisa.emulator.launch import prepare, read_outputs
from pimisa.encoding import encode
from pimisa.program import KernelMeta, Program, Region
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
def rss():
    return status("VmHWM")  # peak resident set since the last reset
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
g = load_arch("hbm3").geometry
recs = [encode(m, f) for r in range(8) for c in range(g.cols) for m, f in (
    ("ld", {"rd": 0, "row": r, "col": c}), ("fadd", {"rd": 0, "ra": 0, "rb": 0}),
    ("st", {"ra": 0, "row": 8 + r, "col": c}))]
meta = KernelMeta("double", "hbm3", [Region("w", "input", 0, 8, "hp16"),
                                     Region("y", "output", 8, 8, "hp16")])
program = Program(np.array(recs), meta)
imported = status("VmRSS")
x = np.ones(tuple(int(v) for v in sys.argv[1].split("x")), np.float32)
reset_peak()
before = status("VmRSS")
machine, inputs = prepare(program, g, {"w": x})
run(program, machine, "c")
ran = rss()
outputs = read_outputs(program, machine, inputs)
done = rss()
print(imported, before, ran, done, machine.nbytes, outputs["y"].nbytes, machine.slots)
"""


def memory(tensor: str) -> None:
    out = subprocess.run([sys.executable, "-c", CHILD, tensor], check=True,
                         capture_output=True, text=True).stdout.split()
    imported, before, ran, done, state, output, slots = (int(v) for v in out)
    mb = 2 ** 20
    bank = state  # the machine state: the rows the launch uses in every unit, plus registers
    allowed = 1.5 * bank + 100 * mb
    rows, cols = (int(v) for v in tensor.split("x"))
    print(f"memory: a {tensor} float32 tensor ({rows * cols * 4 / mb:.0f} MB) through a doubling "
          f"kernel over {slots} slots of a full hbm3 stack")
    print(f"  bank memory the launch uses: {bank / mb:.0f} MB; process RSS after imports "
          f"{imported / mb:.0f} MB")
    print(f"  peak RSS growth over the input tensor: {(ran - before) / mb:.0f} MB to lay out and "
          f"run ({(ran - before) / bank:.2f}x bank memory), {(done - before) / mb:.0f} MB with "
          f"the {output / mb:.0f} MB output read back")
    print(f"  target: <= 1.5x bank memory + 100 MB = {allowed / mb:.0f} MB: "
          f"{'met' if done - before <= allowed else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--twin-prefix", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tensor", default="8192x8192", help="memory test tensor, RxC")
    parser.add_argument("--width-commands", type=int, default=200_000)
    args = parser.parse_args()
    speed(args.commands, min(args.twin_prefix, args.commands), args.repeat)
    memory(args.tensor)
    lane_widths(args.width_commands, args.repeat)


if __name__ == "__main__":
    main()
