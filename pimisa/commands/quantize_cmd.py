"""`pimisa quantize`: quantize a float32 tensor to MX9/MX6/MX4 with a JIT-Q kernel (emulated)."""

from __future__ import annotations

import argparse
import re
import time

import numpy as np

from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.errors import InputError, UsageError
from pimisa.fileio import atomic_open, load_npy
from pimisa.formats import DIRECTIONS
from pimisa.program import Program
from pimisa.quantize import (
    FORMATS,
    QuantizeResult,
    as_tensor,
    kernel_choice,
    load_quant_kernel,
    quantize,
)

MAX_RANDOM_ELEMENTS = 1 << 28


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `quantize` sub-command."""
    p = sub.add_parser(
        "quantize", help="quantize a tensor to MX9/MX6/MX4 on the emulator",
        description="Lay a 2-D float32 tensor out in bank memory, run the JIT-Q kernel "
        "mx{9,6,4}_{row,col} (or your own, --kernel) on every tile, read the packed LP blocks "
        "back and decode them. --out always holds the kernel's output; with --golden, a "
        "kernel output that differs from the golden model is an error (exit 1).")
    p.add_argument("--format", choices=FORMATS,
                   help="MX format (required unless --kernel; then default: the kernel's)")
    p.add_argument("--direction", choices=DIRECTIONS,
                   help="block direction (required unless --kernel; then default: the "
                   "kernel's)")
    p.add_argument("--kernel", metavar="K.pimasm",
                   help="run this quantization kernel (.pimasm, .pimb or bundled name) instead "
                   "of the bundled mx{9,6,4}_{row,col}; it needs one hp16 input region and one "
                   "mx_packed output region")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--in", dest="input", metavar="W.npy", help="the tensor (2-D, float32)")
    src.add_argument("--random", metavar="RxC", help="a random normal float32 tensor instead")
    p.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    p.add_argument("--out", metavar="Q.npz",
                   help="write dequantized, codes, shared_exp, micro_exp here")
    p.add_argument("--arch", metavar="NAME|FILE", default=DEFAULT_ARCH,
                   help=f"architecture preset or .toml file (default {DEFAULT_ARCH})")
    p.add_argument("--backend", choices=("auto", "c", "numpy"),
                   help="emulator backend (default: $PIMISA_BACKEND, else auto)")
    p.add_argument("--golden", action="store_true",
                   help="check the kernel's output bit for bit against the golden model; exit "
                   "1 with the number of differing blocks and the first of them")
    p.add_argument("--reject-nan", action="store_true", help="refuse a tensor holding NaN")
    p.set_defaults(func=run)


def random_tensor(spec: str, seed: int) -> np.ndarray:
    """A standard normal float32 tensor of shape "RxC"."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*", spec)
    if not match:
        raise UsageError(f"--random {spec!r}: expected RxC, e.g. 4096x4096")
    rows, cols = int(match[1]), int(match[2])
    if rows < 1 or cols < 1 or rows * cols > MAX_RANDOM_ELEMENTS:
        raise UsageError(f"--random {spec!r}: want 1..{MAX_RANDOM_ELEMENTS} elements")
    return np.random.default_rng(seed).standard_normal((rows, cols), np.float32)


def load_tensor(path: str) -> np.ndarray:
    """The array of a .npy file; InputError for anything else."""
    if not path.endswith(".npy"):
        raise InputError(f"{path}: expected a .npy file")
    return load_npy(path)


def summary(result: QuantizeResult, wall: float, emulator: float) -> str:
    """The lines `pimisa quantize` prints."""
    g = result.arch.geometry
    t = result.timing
    rows, cols = result.shape
    lines = [
        f"{rows}x{cols} float32 -> {result.fmt} {result.direction} blocks on {result.arch.name}:"
        f" {result.tiles} tiles in {result.stats.slots} slot(s) of "
        f"{g.total_units} PIM units ({g.total_channels * g.banks} banks)",
        f"emulator     {emulator:.3f} s ({result.stats.backend} backend, "
        f"{result.stats.commands} commands per tile); whole flow {wall:.3f} s",
        f"PIM time     {t.cycles} cycles = {t.ns / 1000:.3f} us (modeled launch, DRAM scheduler)",
        f"footprint    LP {result.lp_bytes} bytes vs HP {result.hp_bytes} bytes: "
        f"{result.lp_bytes / result.hp_bytes:.4f}x, {result.bits_per_element:.3f} bits/element",
    ]
    if result.golden is not None:
        bad = result.mismatched_blocks()
        total = result.golden.shared_exp.size
        verdict = "matches the golden model" if not bad else f"differs in {bad} of {total} blocks"
        lines.append(f"golden       kernel output {verdict}")
    return "\n".join(lines)


def choose(args: argparse.Namespace) -> tuple[str, str, Program | None]:
    """(format, direction, user kernel or None) from --format, --direction and --kernel."""
    if args.kernel is None:
        missing = [o for o, v in (("--format", args.format), ("--direction", args.direction))
                   if v is None]
        if missing:
            raise UsageError(f"{' and '.join(missing)} required (or --kernel)")
        return args.format, args.direction, None
    program = load_quant_kernel(args.kernel, load_arch(args.arch))
    fmt, direction = kernel_choice(program)
    return args.format or fmt, args.direction or direction, program


def run(args: argparse.Namespace) -> int:
    """Quantize, write the .npz, print the summary."""
    start = time.perf_counter()
    fmt, direction, program = choose(args)
    if args.input is not None:
        x = as_tensor(load_tensor(args.input), args.input, args.reject_nan)
    else:
        x = as_tensor(random_tensor(args.random, args.seed), "--random", args.reject_nan)
    result = quantize(x, fmt, direction, args.arch, args.backend, golden=args.golden,
                      program=program)
    if args.out:
        enc = result.codes
        with atomic_open(args.out, "wb") as handle:
            np.savez(handle, dequantized=result.dequantized, codes=enc.codes,
                     shared_exp=enc.shared_exp, micro_exp=enc.micro_exp)
    wall = time.perf_counter() - start
    print(summary(result, wall, result.stats.seconds))
    if args.out:
        print(f"wrote {args.out} (the kernel's output)")
    problem = result.golden_problem() if result.golden is not None else None
    if problem is not None:
        raise InputError(problem)
    return 0
