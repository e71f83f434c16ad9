"""Speed of the JIT-Q analysis: the full sweep (8 models x 3 GPUs x 3 formats x 2 directions)
and a 1,000-point `jitq sweep` grid.

Prints, measured in the same process: the full sweep cold (an empty timing cache, every kernel
launch scheduled: the baseline), warm from disk (a new PimTimer on the same cache folder, as a
second `pimisa jitq` run), and warm in memory (same PimTimer again); then a 1,000-point grid
(micro-batch x GPU FP8 rate x slowdown on GPT3-175B, MI300X, MX6) warm, with each figure's ratio
to the cold sweep. Targets (issue 13): full default sweep warm < 2 s, 1,000 points < 60 s.
Usage: PYTHONPATH=. python benchmarks/bench_jitq.py [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pimisa.jitq.docs import full_sweep
from pimisa.jitq.pim import PimTimer
from pimisa.jitq.sweeps import parse_axis, run_grid

GRID = ["workload.micro_batch=" + ",".join(str(b) for b in range(1, 11)),
        "gpus.mi300x.tflops.mx6=" + ",".join(str(1000 + 250 * i) for i in range(10)),
        "throughput.slowdown=" + ",".join(f"{0.02 * i:g}" for i in range(10))]
PICK = ["workload.models=[\"gpt3-175b\"]", "workload.gpus=[\"mi300x\"]",
        "workload.formats=[\"mx6\"]"]


def timed_sweep(timer: PimTimer) -> tuple[float, int]:
    """Seconds of one full sweep and the launches it had to schedule."""
    before = timer.scheduled
    t0 = time.perf_counter()
    rows, _, _ = full_sweep(timer)
    elapsed = time.perf_counter() - t0
    assert len(rows) == 8 * 3 * 3
    return elapsed, timer.scheduled - before


def timed_grid(timer: PimTimer) -> tuple[float, int]:
    """Seconds of the 1,000-point grid and its record count."""
    t0 = time.perf_counter()
    records = run_grid("default", PICK, [parse_axis(a) for a in GRID], timer)
    return time.perf_counter() - t0, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path,
                        help="cache folder to start from (default: a new empty one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.cache_dir or Path(tmp)
        first = PimTimer(folder)
        cold, cold_n = timed_sweep(first)
        disk, disk_n = timed_sweep(PimTimer(folder))
        memory, memory_n = timed_sweep(first)
        grid, records = timed_grid(first)
    print("full sweep: 8 models x 3 GPUs x 3 formats x 2 directions (72 rows, 576 launches)")
    print(f"{'run':28s} {'seconds':>8s} {'scheduled':>10s} {'vs cold':>8s}")
    for name, secs, n in (("cold (baseline)", cold, cold_n), ("warm, disk cache", disk, disk_n),
                          ("warm, memory cache", memory, memory_n)):
        print(f"{name:28s} {secs:8.2f} {n:10d} {cold / secs:7.1f}x")
    print(f"{'1,000-point grid, warm':28s} {grid:8.2f} {records:>10d} {cold / grid:7.1f}x"
          "  (records)")
    print(f"target: full sweep warm (disk) < 2 s: {'met' if disk < 2 else 'NOT met'}; "
          f"1,000 points < 60 s: {'met' if grid < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
