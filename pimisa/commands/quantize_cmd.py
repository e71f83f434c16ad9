"""`pimisa quantize`: quantize a float32 tensor to MX9/MX6/MX4 or an OCP MX format with a
JIT-Q kernel (emulated)."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.errors import InputError, UsageError
from pimisa.fileio import atomic_open, input_arg, output_arg
from pimisa.hpsource import HP_BYTES, HP_CHOICES, HPSource, check_hp
from pimisa.mx.formats import DIRECTIONS, OcpCodes, get_format
from pimisa.mx.formats.blocks import padded_shape
from pimisa.mx.quantize import (
    FORMATS,
    is_ocp,
    kernel_choice,
    kernel_hp,
    kernel_name,
    load_quant_kernel,
)
from pimisa.program import Program
from pimisa.stream import (
    BAND_ELEMENTS,
    PHASES,
    Band,
    StreamResult,
    check_source,
    dequantized_rows,
    quantize_stream,
)
from pimisa.tensorio import NpyFile, NpzWriter

MAX_RANDOM_ELEMENTS = 1 << 32


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `quantize` sub-command."""
    p = sub.add_parser(
        "quantize", help="quantize a tensor to MX9/MX6/MX4 or an OCP MX format on the emulator",
        description="Lay a 2-D float32 tensor out in bank memory, run the JIT-Q kernel "
        "FORMAT_{row,col} (mx9/mx6/mx4, or the OCP MX v1.0 mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, "
        "mxfp6_e2m3, mxfp4_e2m1, mxint8; or your own, --kernel) on every tile, read the packed "
        "LP blocks back and decode them. --out always holds the kernel's output; with --golden, a "
        "kernel output that differs from the golden model is an error (exit 1).")
    p.add_argument("--format", choices=FORMATS,
                   help="MX format (required unless --kernel; then default: the kernel's)")
    p.add_argument("--direction", choices=DIRECTIONS,
                   help="block direction (required unless --kernel; then default: the "
                   "kernel's)")
    p.add_argument("--kernel", metavar="K.pimasm",
                   help="run this quantization kernel (.pimasm, .pimb or bundled name) instead "
                   "of the bundled FORMAT_{row,col}; it needs one hp16 input region and one "
                   "mx_packed output region (OCP formats: hp32 and ocp_packed)")
    p.add_argument("--hp", choices=HP_CHOICES,
                   help="high-precision type of the weights: fp32 (kernels mx*_{row,col}) or "
                   "bf16 (kernels mx*_{row,col}_bf16, mx*_{row,col}_bf16x16 on an --arch of "
                   "16-bit lanes: float32 input must hold BF16 values, or a BF16 .npy: '<V2' "
                   "as ml_dtypes saves it, or uint16 bit patterns); default fp32 (32-bit lanes "
                   "only), or the --kernel's")
    p.add_argument("--round-hp", action="store_true",
                   help="with --hp bf16: round float32 values to BF16 (nearest, ties to even) "
                   "instead of refusing the first that is not a BF16 value")
    add_define_option(p)
    ck = p.add_argument_group("checkpoints (--in *.safetensors / *.npz)")
    ck.add_argument("--select", metavar="GLOB", action="append", default=[],
                    help="quantize only tensors whose name matches (repeatable; fnmatch)")
    ck.add_argument("--dequantized", action="store_true",
                    help="also write NAME.dequantized (float32) per tensor")
    ck.add_argument("--report", metavar="R.json",
                    help="write per-tensor statistics (shape, PIM time, mismatches, RMSE, max "
                    "relative error) as JSON")
    par = p.add_argument_group("scaling out (optional extra: pip install \"pimisa[dask]\")")
    par.add_argument("--workers", type=int, metavar="N",
                     help="run bands on a local Dask cluster of N worker processes")
    par.add_argument("--scheduler", metavar="ADDRESS",
                     help="run bands on an existing Dask cluster (e.g. tcp://host:8786)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--in", dest="input", metavar="W.npy|CKPT", type=input_arg,
                     help="the tensor (.npy, 2-D), or a checkpoint (.safetensors or .npz): "
                     "every 2-D float32/float16/bfloat16 tensor of it, or those of --select")
    src.add_argument("--random", metavar="RxC", help="a random normal float32 tensor instead")
    p.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    p.add_argument("--out", metavar="Q.npz|Q.safetensors", type=output_arg,
                   help="a tensor: write dequantized, codes, shared_exp, micro_exp (.npz; OCP "
                   "formats: dequantized, codes, scale); a "
                   "checkpoint: per tensor NAME.blocks and NAME.shared_exp, NAME.micro_exp (OCP "
                   "formats: NAME.blocks, NAME.scale), + NAME.dequantized with --dequantized, "
                   "as .safetensors or .npz (docs/layout.md)")
    p.add_argument("--arch", metavar="NAME|FILE", type=input_arg, default=DEFAULT_ARCH,
                   help=f"architecture preset or .toml file (default {DEFAULT_ARCH})")
    p.add_argument("--backend", choices=("auto", "c", "numpy"),
                   help="emulator backend (default: $PIMISA_BACKEND, else auto)")
    p.add_argument("--golden", action="store_true",
                   help="check the kernel's output bit for bit against the golden model; exit "
                   "1 with the number of differing blocks and the first of them")
    p.add_argument("--reject-nan", action="store_true", help="refuse a tensor holding NaN")
    p.add_argument("--cast", action="store_true",
                   help="round a float64 input to float32 (refused without it: it loses "
                   "precision); other byte and memory orders are converted exactly")
    p.add_argument("--band", type=int, default=BAND_ELEMENTS, metavar="ELEMENTS",
                   help="tensor elements per streamed band, rounded to whole 16-row tile rows "
                   f"(default {BAND_ELEMENTS}); peak memory grows with it, not with the tensor")
    p.set_defaults(func=run)


class RandomTensor:
    """A standard normal float32 tensor of shape "RxC", generated band by band in row order
    (the same values as one `standard_normal((R, C))` call of the seeded generator)."""

    def __init__(self, spec: str, seed: int) -> None:
        match = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*", spec)
        if not match:
            raise UsageError(f"--random {spec!r}: expected RxC, e.g. 4096x4096")
        rows, cols = int(match[1]), int(match[2])
        if rows < 1 or cols < 1 or rows * cols > MAX_RANDOM_ELEMENTS:
            raise UsageError(f"--random {spec!r}: want 1..{MAX_RANDOM_ELEMENTS} elements")
        if seed < 0:
            raise UsageError(f"--seed must not be negative, got {seed}")
        self.shape, self.dtype, self.ndim = (rows, cols), np.dtype(np.float32), 2
        self._rng = np.random.default_rng(seed)
        self._next = 0

    def __getitem__(self, rows: slice) -> np.ndarray:
        r0, r1, _ = rows.indices(self.shape[0])
        if r0 != self._next:
            raise ValueError(f"random rows must be drawn in order (asked {r0}, next {self._next})")
        self._next = r1
        return self._rng.standard_normal((r1 - r0, self.shape[1]), np.float32)


def open_tensor(path: str) -> NpyFile:
    """A .npy file to stream; InputError for anything else."""
    if not path.endswith(".npy"):
        raise InputError(f"{path}: expected a .npy file (or a .safetensors / .npz checkpoint)")
    return NpyFile(path)


def summary(result: StreamResult, wall: float, hp: str = "fp32") -> str:
    """The lines `pimisa quantize` prints (`hp`: the weights' type, fp32 or bf16)."""
    g = result.arch.geometry
    t = result.pim
    rows, cols = result.shape
    hp_bytes = rows * cols * HP_BYTES[hp]
    launches = f" in {t.launches} launches" if t.launches > 1 else ""
    lines = [
        f"{rows}x{cols} {'float32' if hp == 'fp32' else hp} -> {result.fmt} "
        f"{result.direction} blocks on {result.arch.name}:"
        f" {result.tiles} tiles in {t.slots} slot(s) of "
        f"{g.total_units} PIM units ({g.total_channels * g.banks} banks)",
        f"emulator     {result.emulator_seconds:.3f} s ({result.backend} backend, "
        f"{result.commands} commands per tile); whole flow {wall:.3f} s, "
        f"{result.bands} band(s) of {result.band_rows} rows",
        f"PIM time     {t.cycles} cycles = {t.ns / 1000:.3f} us (modeled launch{launches}, "
        "DRAM scheduler)",
        f"footprint    LP {result.lp_bytes} bytes vs HP {hp_bytes} bytes: "
        f"{result.lp_bytes / hp_bytes:.4f}x, {result.bits_per_element:.3f} bits/element",
    ]
    if result.golden:
        bad = result.mismatches
        verdict = ("matches the golden model" if not bad
                   else f"differs in {bad} of {result.blocks} blocks")
        lines.append(f"golden       kernel output {verdict}")
    return "\n".join(lines)


def choose(args: argparse.Namespace) -> tuple[str, str, str, Program | None]:
    """(format, direction, HP type, user kernel or None) from --format, --direction, --hp and
    --kernel."""
    defines = parse_defines(args.define)
    check_hp(args.hp or "fp32", args.round_hp)
    if args.kernel is None:
        missing = [o for o, v in (("--format", args.format), ("--direction", args.direction))
                   if v is None]
        if missing:
            raise UsageError(f"{' and '.join(missing)} required (or --kernel)")
        hp = args.hp or "fp32"
        arch = load_arch(args.arch)
        name = kernel_name(args.format, args.direction, hp, arch)
        if not defines and hp == "fp32":
            return args.format, args.direction, hp, None
        program = load_quant_kernel(name, arch, defines)
        return args.format, args.direction, hp, program
    program = load_quant_kernel(args.kernel, load_arch(args.arch), defines)
    fmt, direction = kernel_choice(program)
    hp = kernel_hp(program)
    if args.hp is not None and args.hp != hp:
        raise UsageError(f"--hp {args.hp}: kernel {args.kernel!r} reads {hp} weights")
    check_hp(hp, args.round_hp)
    return args.format or fmt, args.direction or direction, hp, program


def hp_wrapper(hp: str, round_hp: bool):
    """None for fp32, else a function wrapping a band source into BF16 bands (HPSource)."""
    if hp == "fp32":
        return None
    return lambda source, where: HPSource(source, where, round_hp)


def npz_arrays(shape: tuple[int, int], fmt: str, direction: str) -> dict:
    """Names, shapes and dtypes of the .npz `pimisa quantize --out` writes (docs/layout.md)."""
    k = get_format(fmt).block_size
    rows, cols = padded_shape(shape, k, direction)
    if is_ocp(fmt):
        scale = (rows, cols // k) if direction == "row" else (rows // k, cols)
        return {"dequantized": (shape, np.float32), "codes": ((rows, cols), np.uint8),
                "scale": (scale, np.uint8)}
    per_block = (rows, cols // k) if direction == "row" else (rows // k, cols)
    per_pair = (rows, cols // 2) if direction == "row" else (rows // 2, cols)
    return {"dequantized": (shape, np.float32), "codes": ((rows, cols), np.uint8),
            "shared_exp": (per_block, np.uint8), "micro_exp": (per_pair, np.uint8)}


def band_writer(writer: NpzWriter, seconds: dict[str, float]):
    """on_band callback writing a band's dequantized values and codes."""

    def write(band: Band) -> None:
        for values in dequantized_rows(band, seconds):
            t0 = time.perf_counter()
            writer.write("dequantized", values)
            seconds["write"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        enc = band.codes
        writer.write("codes", enc.codes)
        if isinstance(enc, OcpCodes):
            writer.write("scale", enc.scale)
        else:
            writer.write("shared_exp", enc.shared_exp)
            writer.write("micro_exp", enc.micro_exp)
        seconds["write"] += time.perf_counter() - t0

    return write


class CheckpointProgress:
    """Two rich bars, the current tensor and the whole checkpoint, on a terminal."""

    def __init__(self, total: int, console=None) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.console = console or Console(stderr=True)
        self.bar = None
        if self.console.is_terminal:
            self.bar = Progress(*Progress.get_default_columns(), console=self.console,
                                transient=True)
            self.overall = self.bar.add_task("checkpoint", total=total)
            self.tensor = self.bar.add_task("", total=1)
            self.bar.start()
        self.name: str | None = None

    def __call__(self, name: str, done: int, rows: int, overall: int) -> None:
        """Report rows `done` of `rows` of tensor `name`, `overall` elements in all."""
        if self.bar is None:
            return
        if name != self.name:
            self.name = name
            self.bar.reset(self.tensor, total=rows, description=name)
        self.bar.update(self.tensor, completed=done)
        self.bar.update(self.overall, completed=overall)

    def close(self) -> None:
        """Remove the bars."""
        if self.bar is not None:
            self.bar.stop()


def run_checkpoint(args: argparse.Namespace, fmt: str, direction: str, hp: str,
                   program: Program | None, executor) -> int:
    """Quantize a checkpoint; print a line per tensor; 1 if a golden check fails."""
    from pimisa.checkpoint import open_checkpoint, select
    from pimisa.fileio import atomic_write_bytes
    from pimisa.quantize_checkpoint import quantize_checkpoint

    arch = load_arch(args.arch)
    if program is None:
        program = load_quant_kernel(kernel_name(fmt, direction, arch=arch), arch)
    chosen, _ = select(open_checkpoint(args.input), args.select)
    bar = CheckpointProgress(sum(e.shape[0] * e.shape[1] for e in chosen) or 1)
    try:
        report = quantize_checkpoint(
            args.input, args.out, fmt, direction, arch, program, args.backend, args.golden,
            args.select, args.dequantized, args.band, executor, bar, args.reject_nan,
            hp_wrapper(hp, args.round_hp))
    finally:
        bar.close()
    for t in report.tensors:
        check = "" if t.mismatched_blocks is None else (
            ", golden ok" if not t.mismatched_blocks
            else f", golden: {t.mismatched_blocks} blocks differ")
        print(f"{t.name}: {t.shape[0]}x{t.shape[1]} {t.dtype} -> {fmt} {direction}, PIM "
              f"{t.pim_us:.1f} us, RMSE {t.rmse:.3g}, max rel {t.max_rel_error:.3g}{check}")
    for name, why in report.skipped.items():
        print(f"{name}: skipped ({why})")
    if args.report:
        atomic_write_bytes(args.report, report.to_json().encode())
        print(f"wrote {args.report}")
    if args.out:
        print(f"wrote {args.out} ({len(report.tensors)} tensors, the kernel's output)")
    problem = report.failure()
    if problem is not None:
        raise InputError(problem)
    return 0


def run(args: argparse.Namespace) -> int:
    """Quantize band by band, write the .npz, print the summary; 1 if the golden check fails."""
    from pimisa.checkpoint import is_checkpoint
    from pimisa.executor import make_executor

    start = time.perf_counter()
    if args.band < 1:
        raise UsageError(f"--band must be at least 1, got {args.band}")
    fmt, direction, hp, program = choose(args)
    checkpoint = args.input is not None and is_checkpoint(args.input)
    if not checkpoint and (args.select or args.dequantized or args.report):
        raise UsageError("--select, --dequantized and --report apply to checkpoints "
                         "(--in *.safetensors or *.npz)")
    executor = make_executor(args.workers, args.scheduler)
    try:
        if checkpoint:
            return run_checkpoint(args, fmt, direction, hp, program, executor)
        return run_tensor(args, fmt, direction, hp, program, executor, start)
    finally:
        executor.close()


def run_tensor(args: argparse.Namespace, fmt: str, direction: str, hp: str,
               program: Program | None, executor, start: float) -> int:
    """Quantize one tensor (.npy or --random; with --hp bf16, --random is rounded to BF16)."""
    source = open_tensor(args.input) if args.input is not None else \
        RandomTensor(args.random, args.seed)
    where = args.input or "--random"
    wrap = hp_wrapper(hp, args.round_hp or args.input is None)
    if wrap is not None:
        source = wrap(source, where)
    common = dict(arch=args.arch, backend=args.backend, golden=args.golden, program=program,
                  band_elements=args.band, where=where, reject_nan=args.reject_nan,
                  allow_cast=args.cast, executor=executor, blocks=False)
    check_source(source, where, args.cast)
    if args.out:
        shape = (int(source.shape[0]), int(source.shape[1]))
        target = Path(args.out)
        spool = target.parent if not target.exists() or target.is_file() else None
        with atomic_open(args.out, "wb") as handle:
            seconds = dict.fromkeys(PHASES, 0.0)
            writer = NpzWriter(handle, npz_arrays(shape, fmt, direction), spool)
            try:
                result = quantize_stream(source, fmt, direction,
                                         on_band=band_writer(writer, seconds), **common)
                writer.close()
            except BaseException:
                writer.abort()
                raise
            for k, v in seconds.items():
                result.seconds[k] += v
    else:
        result = quantize_stream(source, fmt, direction, **common)
    print(summary(result, time.perf_counter() - start, hp))
    if args.out:
        print(f"wrote {args.out} (the kernel's output)")
    problem = result.golden_problem()
    if problem is not None:
        raise InputError(problem)
    return 0
