"""Time of the full JIT-Q sweep: 8 models x 3 GPUs x 3 formats x 2 directions.

Prints three runs measured in the same process: cold (an empty timing cache, every kernel
launch scheduled: the baseline), warm from disk (a new PimTimer on the same cache folder, as a
second `pimisa jitq` run), and warm in memory (same PimTimer again), with their ratios to the
cold run. Target: the disk-warm run under 30 s.
Usage: PYTHONPATH=. python benchmarks/bench_jitq.py [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pimisa.jitq.docs import full_sweep
from pimisa.jitq.pim import PimTimer


def timed(timer: PimTimer) -> tuple[float, int]:
    """Seconds of one full sweep and the launches it had to schedule."""
    before = timer.scheduled
    t0 = time.perf_counter()
    rows, _, _ = full_sweep(timer)
    elapsed = time.perf_counter() - t0
    assert len(rows) == 8 * 3 * 3
    return elapsed, timer.scheduled - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path,
                        help="cache folder to start from (default: a new empty one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.cache_dir or Path(tmp)
        first = PimTimer(folder)
        cold, cold_n = timed(first)
        disk, disk_n = timed(PimTimer(folder))
        memory, memory_n = timed(first)
    print("full sweep: 8 models x 3 GPUs x 3 formats x 2 directions (72 rows, 576 launches)")
    print(f"{'run':22s} {'seconds':>8s} {'scheduled':>10s} {'vs cold':>8s}")
    for name, secs, n in (("cold (baseline)", cold, cold_n), ("warm, disk cache", disk, disk_n),
                          ("warm, memory cache", memory, memory_n)):
        print(f"{name:22s} {secs:8.2f} {n:10d} {cold / secs:7.1f}x")
    print(f"target: warm run < 30 s: {'met' if disk < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
