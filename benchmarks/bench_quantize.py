"""End-to-end time of `pimisa quantize` on a 4096x4096 float32 tensor, C backend.

Prints, for the chosen format and direction (default mx6 row):
- the wall time of the whole command (a fresh `python -m pimisa.cli` process: imports, reading
  the .npy, assembly, layout, emulation, read-back, decoding, scheduling, writing the .npz;
  target <= 3 s) and of the in-process flow `pimisa.quantize.quantize`;
- the emulated kernel's time (the backend's run) against the numpy golden model
  (`pimisa.formats.quantize_dequantize` and `encode`) on the same tensor (aim: within 5x).

Usage: PYTHONPATH=. python benchmarks/bench_quantize.py [--size N] [--format mx6] [--direction row]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from benchutil import best_time

from pimisa.formats import encode, quantize_dequantize
from pimisa.quantize import quantize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="tensor is size x size")
    parser.add_argument("--format", default="mx6")
    parser.add_argument("--direction", default="row")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal((args.size, args.size), dtype=np.float32)
    fmt, d = args.format, args.direction
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "w.npy", Path(tmp) / "q.npz"
        np.save(src, x)
        cmd = [sys.executable, "-m", "pimisa.cli", "quantize", "--format", fmt, "--direction",
               d, "--in", str(src), "--out", str(out), "--backend", "c"]
        cli = best_time(lambda: subprocess.run(cmd, check=True, capture_output=True),
                        args.repeat)
    quantize(x, fmt, d, backend="c")  # warm caches (assembly, scheduler)
    flow = best_time(lambda: quantize(x, fmt, d, backend="c"), args.repeat)
    result = quantize(x, fmt, d, backend="c")
    emulated = min(quantize(x, fmt, d, backend="c").stats.seconds for _ in range(args.repeat))
    qdq = best_time(lambda: quantize_dequantize(x, fmt, d), args.repeat)
    enc = best_time(lambda: encode(x, fmt, d), args.repeat)
    print(f"pimisa quantize --format {fmt} --direction {d}, {args.size}x{args.size} float32, "
          f"C backend, {result.tiles} tiles / {result.stats.slots} slots (best of {args.repeat})")
    print(f"  command end to end        {cli:7.3f} s   (target <= 3 s)")
    print(f"  quantize() in process     {flow:7.3f} s")
    print(f"  emulated kernel run       {emulated:7.3f} s")
    print(f"  golden quantize_dequantize{qdq:7.3f} s   kernel / golden = {emulated / qdq:5.2f}x")
    print(f"  golden encode             {enc:7.3f} s   kernel / golden = {emulated / enc:5.2f}x")
    print(f"  modeled PIM time          {result.timing.ns / 1000:7.1f} us "
          f"({result.timing.cycles} cycles)")


if __name__ == "__main__":
    main()
