"""`pimisa quantize` at real model sizes: end to end, per phase, memory, against baselines.

Measured in one run, as ratios against baselines of the same run (issue 14's targets):

- 4096^2 MX6 row `--golden --out`: the command end to end (a fresh process, best of
  --repeat; target <= 0.5 s), and the in-process streamed flow against the golden model's own
  quantize_dequantize on the same tensor (target <= 3x);
- 12288^2 / 4096^2 time of `--golden` (9x the elements; target <= 10);
- with --big: 12288 x 49152 MX6 row `--golden` (target: peak RSS <= 6 GiB, <= 30 s), and one
  GPT-3 175B block's four weight matrices (QKV 12288 x 36864, attention out 12288 x 12288,
  FFN 12288 x 49152 and 49152 x 12288: 1.81 G weights) as a .safetensors checkpoint with
  `--golden` (target <= 90 s, <= 6 GiB);
- elements/s of each phase of the flow, and the input bandwidth reached (4 bytes read per
  element / wall time) as a share of this machine's memory bandwidth, measured here as the
  best numpy copy rate of a 256 MiB array (bytes read + written per second).

Peak RSS is the child process's ru_maxrss. Inputs are written once to a temporary directory
(--dir, default $TMPDIR) before anything is timed.

Usage: PYTHONPATH=. python benchmarks/bench_quantize.py [--big] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchutil import best_time

from pimisa.formats import quantize_dequantize
from pimisa.stream import PHASES, quantize_stream
from pimisa.tensorio import NpyFile

GPT3_BLOCK = {"attn.qkv": (12288, 36864), "attn.out": (12288, 12288),
              "mlp.up": (12288, 49152), "mlp.down": (49152, 12288)}


def write_npy(path: Path, shape: tuple[int, int], seed: int = 0) -> None:
    """A standard normal float32 .npy, written in bands."""
    if path.exists():
        return
    m = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    rng = np.random.default_rng(seed)
    for r in range(0, shape[0], 1024):
        m[r:r + 1024] = rng.standard_normal((min(1024, shape[0] - r), shape[1]), np.float32)
    m.flush()
    del m


def write_block(path: Path) -> None:
    """The GPT-3 block checkpoint (.safetensors, F32), written tensor by tensor."""
    if path.exists():
        return
    import json
    import struct

    header, offset = {}, 0
    for name, (r, c) in GPT3_BLOCK.items():
        header[name] = {"dtype": "F32", "shape": [r, c], "data_offsets": [offset,
                                                                          offset + r * c * 4]}
        offset += r * c * 4
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    rng = np.random.default_rng(1)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for r, c in GPT3_BLOCK.values():
            for r0 in range(0, r, 1024):
                f.write(rng.standard_normal((min(1024, r - r0), c), np.float32).tobytes())


def run_cli(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS GiB) of one `pimisa` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pimisa.cli", *argv], check=True,
                   capture_output=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 2**20


def copy_bandwidth() -> float:
    """Bytes per second of a numpy copy of 256 MiB (read + write)."""
    a = np.ones(1 << 26, np.float32)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_time(lambda: np.copyto(b, a), 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 12288x49152 and GPT-3 runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where inputs are written")
    args = parser.parse_args()
    work = Path(args.dir) / "pimisa-bench-quantize"
    work.mkdir(exist_ok=True)
    small, mid = work / "w4096.npy", work / "w12288.npy"
    write_npy(small, (4096, 4096))
    write_npy(mid, (12288, 12288))
    bandwidth = copy_bandwidth()
    q = ["quantize", "--format", "mx6", "--direction", "row", "--golden", "--backend", "c"]
    out = str(work / "q.npz")
    e2e = min(run_cli([*q, "--in", str(small), "--out", out])[0] for _ in range(args.repeat))
    golden_small = min(run_cli([*q, "--in", str(small)])[0] for _ in range(args.repeat))
    golden_mid = min(run_cli([*q, "--in", str(mid)])[0] for _ in range(max(1, args.repeat - 1)))
    x = np.load(small)
    qdq = best_time(lambda: quantize_dequantize(x, "mx6", "row"), args.repeat)
    quantize_stream(NpyFile(small), "mx6", "row", "hbm3", "c", golden=True)  # warm caches
    flows = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        r = quantize_stream(NpyFile(small), "mx6", "row", "hbm3", "c", golden=True)
        flows.append((time.perf_counter() - t0, r))
    flow, result = min(flows, key=lambda f: f[0])
    n = x.size
    print(f"pimisa quantize MX6 row, C backend, this machine (best of {args.repeat}); "
          f"memory copy bandwidth {bandwidth / 1e9:.1f} GB/s")
    print(f"  4096^2 --golden --out, command end to end  {e2e:7.3f} s   (target <= 0.5 s)")
    print(f"  4096^2 streamed flow in process           {flow:7.3f} s   "
          f"= {flow / qdq:5.2f}x golden quantize_dequantize {qdq:.3f} s (target <= 3x)")
    print(f"  12288^2 / 4096^2 --golden command         {golden_mid / golden_small:7.2f}    "
          f"({golden_mid:.2f} s / {golden_small:.2f} s; target <= 10)")
    print("  phases of the 4096^2 flow (elements/s):")
    for phase in PHASES:
        s = result.seconds[phase]
        if s > 0:
            print(f"    {phase:8s} {s:7.3f} s  {n / s / 1e6:9.1f} M/s")
    rate = n / flow
    print(f"  whole flow {rate / 1e6:.1f} M elements/s; input read at "
          f"{4 * rate / 1e9:.2f} GB/s = {4 * rate / bandwidth:.1%} of the copy bandwidth")
    if not args.big:
        return
    ffn = work / "w12288x49152.npy"
    write_npy(ffn, (12288, 49152))
    wall, rss = run_cli([*q, "--in", str(ffn)])
    print(f"  12288x49152 --golden: {wall:.1f} s (target <= 30 s), peak RSS {rss:.2f} GiB "
          f"(target <= 6), {12288 * 49152 / wall / 1e6:.0f} M elements/s")
    block = work / "gpt3-block.safetensors"
    write_block(block)
    elements = sum(r * c for r, c in GPT3_BLOCK.values())
    wall, rss = run_cli([*q, "--in", str(block)])
    print(f"  GPT-3 175B block ({elements / 1e9:.2f} G weights, 4 matrices) --golden: "
          f"{wall:.1f} s (target <= 90 s), peak RSS {rss:.2f} GiB (target <= 6), "
          f"{elements / wall / 1e6:.0f} M elements/s")
    os.remove(out)


if __name__ == "__main__":
    main()
