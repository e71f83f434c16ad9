"""`pimisa quantize` at real model sizes: end to end, per phase, memory, against baselines.

Measured in one run, as ratios against baselines of the same run (issue 14's targets):

- 4096^2 MX6 row `--golden --out`: the command end to end (a fresh process, best of
  --repeat; target <= 0.5 s) beside its floor (the same command on a 16 x 16 tensor:
  interpreter, imports, kernel cache and set-up; and `python -c "import numpy"` alone), and
  the same flow in process (quantize_stream with the .npz writer of the command) against the
  golden model's own quantize_dequantize on the same tensor (target <= 3x);
- 12288^2 / 4096^2 time of `--golden` (9x the elements; target <= 10), as commands and as
  in-process flows;
- with --big: 12288 x 49152 MX6 row `--golden` (target: peak RSS <= 6 GiB, <= 30 s), and one
  GPT-3 175B block's four weight matrices (QKV 12288 x 36864, attention out 12288 x 12288,
  FFN 12288 x 49152 and 49152 x 12288: 1.81 G weights) as a .safetensors checkpoint with
  `--golden` (target <= 90 s, <= 6 GiB);
- elements/s of each phase of the flow (phases overlap: the golden model runs on one helper
  thread beside the emulator, the output on another; "read" only maps the band, whose pages
  the layout and the golden model then read), and the input bandwidth reached (4 bytes read
  per element / wall time) as a share of this machine's memory bandwidth, measured here as
  the best numpy copy rate of a 256 MiB array (bytes read + written per second).

Each target's line says whether it is met in this run.

Every command is reported as wall time and CPU time (user + system of the child, os.wait4):
on a shared machine the wall time includes waiting for a core, the CPU time does not; the load
average is printed before and after. Peak RSS is the child's own VmHWM. Children run with
bytecode caching on and a kernel cache of their own (PIMISA_CACHE_DIR under --dir), warmed by
an untimed first run, as an installed pimisa runs. Inputs are written once to --dir (default
$TMPDIR) before anything is timed.

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

from pimisa.commands.quantize_cmd import band_writer, npz_arrays
from pimisa.fileio import atomic_open
from pimisa.mx.formats import quantize_dequantize
from pimisa.stream import PHASES, quantize_stream
from pimisa.tensorio import NpyFile, NpzWriter

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


def child_env(work: Path) -> dict[str, str]:
    """The environment of the timed commands (see module docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PIMISA_CACHE_DIR"] = str(work / "kernel-cache")
    return env


# Runs `pimisa ARGV` and, at exit, prints the process's own peak RSS (VmHWM, kB) as the last
# line of stderr. (A child's ru_maxrss is no use: Linux starts it at the RSS of the parent it
# was forked from, here the benchmark with its tensors.)
LAUNCH = """
import atexit, runpy, sys
def peak():
    hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")]
    print("VmHWM", hwm[0] if hwm else 0, file=sys.stderr)
atexit.register(peak)
sys.argv = ["pimisa", *sys.argv[1:]]
runpy.run_module("pimisa.cli", run_name="__main__")
"""


def run_cli(argv: list[str], env: dict[str, str], code: str = LAUNCH
            ) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS GiB) of one `pimisa` process (or of `python -c
    code` with other code; peak RSS then 0)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"pimisa {' '.join(argv)} failed ({proc.returncode}): {err[-500:]}")
    peak_kb = int(err.split()[-1]) if "VmHWM" in err else 0
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 2**20


def best_cli(argv: list[str], env: dict[str, str], repeat: int, code: str = LAUNCH
             ) -> tuple[float, float, float]:
    """The fastest of `repeat` runs (wall, CPU, peak RSS of that run)."""
    return min((run_cli(argv, env, code) for _ in range(repeat)), key=lambda r: r[0])


def verdict(ok: bool) -> str:
    """How a target comes out."""
    return "met" if ok else "NOT met"


def copy_bandwidth() -> float:
    """Bytes per second of a numpy copy of 256 MiB (read + write)."""
    a = np.ones(1 << 26, np.float32)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_time(lambda: np.copyto(b, a), 5)


def cpu_now() -> float:
    """CPU seconds of this process so far (every thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def flow(path: Path, out: Path | None) -> tuple[float, float, dict[str, float]]:
    """(wall, CPU, phase seconds) of the command's flow in process: stream, check, write."""
    source = NpyFile(path)
    seconds = dict.fromkeys(PHASES, 0.0)
    w0, c0 = time.perf_counter(), cpu_now()
    if out is None:
        result = quantize_stream(source, "mx6", "row", "hbm3", "c", golden=True, blocks=False)
    else:
        with atomic_open(out, "wb") as handle:
            writer = NpzWriter(handle, npz_arrays(source.shape, "mx6", "row"))
            result = quantize_stream(source, "mx6", "row", "hbm3", "c", golden=True,
                                     on_band=band_writer(writer, seconds), blocks=False)
            writer.close()
    wall, cpu = time.perf_counter() - w0, cpu_now() - c0
    for k, v in result.seconds.items():
        seconds[k] += v
    return wall, cpu, seconds


def best_flow(path: Path, out: Path | None, repeat: int) -> tuple[float, float, dict]:
    """The fastest of `repeat` in-process flows."""
    return min((flow(path, out) for _ in range(repeat)), key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 12288x49152 and GPT-3 runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where inputs are written")
    args = parser.parse_args()
    work = Path(args.dir) / "pimisa-bench-quantize"
    work.mkdir(parents=True, exist_ok=True)
    env = child_env(work)
    small, mid = work / "w4096.npy", work / "w12288.npy"
    write_npy(small, (4096, 4096))
    write_npy(mid, (12288, 12288))
    bandwidth = copy_bandwidth()
    q = ["quantize", "--format", "mx6", "--direction", "row", "--golden", "--backend", "c"]
    out = work / "q.npz"
    run_cli([*q, "--in", str(small)], env)  # untimed: bytecode and kernel caches
    e2e = best_cli([*q, "--in", str(small), "--out", str(out)], env, args.repeat)
    # the floor under the end-to-end figure: the same command on a 16 x 16 tensor (interpreter,
    # imports, kernel cache, set-up), and the interpreter with numpy alone
    floor = best_cli([*q, "--random", "16x16"], env, args.repeat)
    numpy_floor = best_cli([], env, args.repeat, "import numpy")
    golden_small = best_cli([*q, "--in", str(small)], env, args.repeat)
    golden_mid = best_cli([*q, "--in", str(mid)], env, max(1, args.repeat - 1))
    x = np.load(small)
    qdq = best_time(lambda: quantize_dequantize(x, "mx6", "row"), args.repeat)
    flow(small, None)  # warm the in-process caches
    f_wall, f_cpu, phases = best_flow(small, out, args.repeat)
    s_wall = best_flow(small, None, args.repeat)[0]
    m_wall = best_flow(mid, None, max(1, args.repeat - 1))[0]
    n = x.size
    print(f"pimisa quantize MX6 row, C backend, {os.cpu_count()} CPUs (best of {args.repeat}); "
          f"memory copy bandwidth {bandwidth / 1e9:.1f} GB/s; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    print(f"  4096^2 --golden --out, command end to end  {e2e[0]:6.3f} s wall, {e2e[1]:6.3f} s "
          f"CPU (target <= 0.5 s: {verdict(e2e[0] <= 0.5)})")
    print(f"    of which the floor: the command on 16x16 {floor[0]:6.3f} s wall, {floor[1]:6.3f} s "
          f"CPU; python + import numpy {numpy_floor[0]:.3f} s wall, {numpy_floor[1]:.3f} s CPU")
    print(f"  4096^2 --golden --out flow in process     {f_wall:6.3f} s wall, {f_cpu:6.3f} s CPU "
          f"= {f_wall / qdq:4.2f}x golden quantize_dequantize {qdq:.3f} s (target <= 3x: "
          f"{verdict(f_wall <= 3 * qdq)})")
    print(f"  12288^2 / 4096^2 --golden, commands        {golden_mid[0] / golden_small[0]:6.2f}   "
          f"({golden_mid[0]:.2f} s / {golden_small[0]:.2f} s wall; CPU "
          f"{golden_mid[1]:.2f} s / {golden_small[1]:.2f} s; target <= 10: "
          f"{verdict(golden_mid[0] <= 10 * golden_small[0])})")
    print(f"  12288^2 / 4096^2 --golden, flows           {m_wall / s_wall:6.2f}   "
          f"({m_wall:.2f} s / {s_wall:.2f} s wall)")
    print("  phases of the 4096^2 --out flow (seconds in the phase, elements/s; read only maps "
          "the band, its pages are read in layout and golden):")
    for phase in PHASES:
        s = phases[phase]
        if s > 0:
            print(f"    {phase:8s} {s:7.3f} s  {n / s / 1e6:9.1f} M/s")
    rate = n / f_wall
    print(f"  whole flow {rate / 1e6:.1f} M elements/s; input read at "
          f"{4 * rate / 1e9:.2f} GB/s = {4 * rate / bandwidth:.1%} of the copy bandwidth")
    os.remove(out)
    if not args.big:
        print(f"  load average {os.getloadavg()[0]:.1f} at the end")
        return
    ffn = work / "w12288x49152.npy"
    write_npy(ffn, (12288, 49152))
    wall, cpu, rss = run_cli([*q, "--in", str(ffn)], env)
    elements = 12288 * 49152
    print(f"  12288x49152 --golden: {wall:.1f} s wall (target <= 30 s: {verdict(wall <= 30)}), "
          f"{cpu:.1f} s CPU, peak RSS {rss:.2f} GiB (target <= 6: {verdict(rss <= 6)}), "
          f"{elements / wall / 1e6:.0f} M elements/s, input at "
          f"{4 * elements / wall / bandwidth:.1%} of the copy bandwidth")
    block = work / "gpt3-block.safetensors"
    write_block(block)
    elements = sum(r * c for r, c in GPT3_BLOCK.values())
    wall, cpu, rss = run_cli([*q, "--in", str(block)], env)
    print(f"  GPT-3 175B block ({elements / 1e9:.2f} G weights, 4 matrices) --golden: "
          f"{wall:.1f} s wall (target <= 90 s: {verdict(wall <= 90)}), {cpu:.1f} s CPU, peak "
          f"RSS {rss:.2f} GiB (target <= 6: {verdict(rss <= 6)}), "
          f"{elements / wall / 1e6:.0f} M elements/s, input at "
          f"{4 * elements / wall / bandwidth:.1%} of the copy bandwidth")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
