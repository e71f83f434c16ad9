"""Throughput of the format golden models on a 4096x4096 float32 tensor, one core.

Prints M elements/s of `quantize_dequantize` and `encode` for every format and direction,
and the speed-up over the straightforward float64 baseline (pimisa.mx.formats.baseline)
measured in the same run. Usage: PYTHONPATH=. python benchmarks/bench_formats.py [--size N]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
from benchutil import best_time

from pimisa.mx.formats import DIRECTIONS, FORMATS, baseline, encode, quantize_dequantize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="tensor is size x size")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.size, args.size), dtype=np.float32)
    n = x.size / 1e6
    print(f"{args.size}x{args.size} float32, M elements/s (best of {args.repeat})")
    print(f"{'format':12s} {'dir':4s} {'qdq':>8s} {'encode':>8s} {'baseline':>9s} {'speed-up':>9s}")
    for name in FORMATS:
        for direction in DIRECTIONS:
            qdq = best_time(partial(quantize_dequantize, x, name, direction), args.repeat)
            enc = best_time(partial(encode, x, name, direction), args.repeat)
            base = best_time(partial(baseline.quantize_dequantize, x, name, direction), args.repeat)
            print(
                f"{name:12s} {direction:4s} {n / qdq:8.1f} {n / enc:8.1f} {n / base:9.1f} "
                f"{base / qdq:8.1f}x"
            )


if __name__ == "__main__":
    main()
