"""`pimisa fuzz`: property-based fuzzing of any kernel against a golden format or a reference."""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.errors import UsageError
from pimisa.fileio import input_arg
from pimisa.mx.formats import DIRECTIONS, FORMATS
from pimisa.mx.quantize import load_quant_kernel


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `fuzz` sub-command."""
    p = sub.add_parser(
        "fuzz", help="fuzz a kernel against a golden format or your own Python reference",
        description="Run the kernel on hypothesis-generated inputs (chosen per input layout: "
        "adversarial float32 tensors for hp16, adversarial words of the region's dtype for "
        "raw; a reference module's STRATEGIES replace them) and compare its outputs bit for "
        "bit (NaN == NaN) with the golden model of --golden FORMAT or with --ref FILE.py:FUNC "
        "(FUNC takes the inputs as numpy arrays by region name and returns the outputs: a "
        "dict by output region name, or one array for a single output). A failure is shrunk "
        "and shown with the input element (index, value as float and hex), its expected and "
        "actual value (for packed MX outputs with its code and the block's exponent or "
        "scale), and each wrong word with the st that last wrote its lane (an st whose mask "
        "leaves the lane out does not count), its source line and macro call sites. Runs on "
        "one channel of the architecture (same PIM units, lanes and columns per channel) so "
        "that small inputs emulate fast.")
    p.add_argument("kernel", metavar="KERNEL", type=input_arg,
                   help="a .pimasm source or a bundled kernel name")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--golden", choices=FORMATS, metavar="FORMAT",
                      help=f"golden format: {', '.join(FORMATS)} (needs --direction)")
    what.add_argument("--ref", metavar="FILE.py:FUNC", type=input_arg,
                      help="a Python reference function")
    p.add_argument("--direction", choices=DIRECTIONS, help="block direction of --golden")
    p.add_argument("--max-examples", type=int, default=200, metavar="N",
                   help="inputs to try (default 200)")
    p.add_argument("--seed", type=int, help="hypothesis seed (default: random)")
    p.add_argument("--arch", metavar="NAME|FILE", default=DEFAULT_ARCH,
                   help=f"architecture preset or .toml file (default {DEFAULT_ARCH})")
    p.add_argument("--backend", choices=("auto", "c", "numpy"),
                   help="emulator backend (default: $PIMISA_BACKEND, else auto)")
    add_define_option(p)
    p.add_argument("--workers", type=int, metavar="N",
                   help="a campaign of N independent fuzzing runs (seeds SEED, SEED + 1, ...; "
                   "the examples split between them) on a local Dask cluster of N processes "
                   "(the optional extra pimisa[dask]); the reports are merged")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="the same campaign on an existing Dask cluster, one run per worker")
    p.set_defaults(func=run)


def fuzz_part(kernel: str, defines: dict[str, int], arch_spec: str, golden: str | None,
              direction: str | None, ref_spec: str | None, backend: str | None,
              examples: int, seed: int | None) -> tuple[str, object]:
    """One fuzzing run (here or on a worker): what it was checked against and its FuzzReport."""
    from pimisa.mx.fuzzing import fuzz, fuzz_arch, fuzz_kernel, writes_packed
    from pimisa.references import golden_reference, load_reference

    arch = fuzz_arch(load_arch(arch_spec))
    program = load_quant_kernel(kernel, arch, defines)
    if golden and writes_packed(program):
        return (f"golden {golden} {direction}",
                fuzz_kernel(program, golden, direction, arch, backend, examples, seed))
    ref = (golden_reference(program, golden, direction) if golden
           else load_reference(ref_spec))
    return ref.name, fuzz(program, arch, ref, backend, examples, seed)


def run(args: argparse.Namespace) -> int:
    """Fuzz; 0 when every example matched, 1 with the shrunk mismatch otherwise."""
    if args.max_examples < 1:
        raise UsageError(f"--max-examples must be at least 1, got {args.max_examples}")
    if args.golden and not args.direction:
        raise UsageError("--golden needs --direction row|col")
    if args.ref and args.direction:
        raise UsageError("--direction goes with --golden, not --ref")
    from pimisa.executor import SerialExecutor, make_executor
    from pimisa.mx.fuzzing import fuzz_arch

    arch = fuzz_arch(load_arch(args.arch))
    defines = parse_defines(args.define)
    program = load_quant_kernel(args.kernel, arch, defines)
    start = time.perf_counter()
    executor = make_executor(args.workers, args.scheduler)
    try:
        if isinstance(executor, SerialExecutor):
            parts = [(args.max_examples, args.seed)]
        else:
            runs = args.workers or executor.workers()
            base = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
            parts = [(args.max_examples // runs + (i < args.max_examples % runs), base + i)
                     for i in range(min(runs, args.max_examples))]
        kernel = str(Path(args.kernel).resolve()) if Path(args.kernel).is_file() else args.kernel
        results = list(executor.map(fuzz_part, [(kernel, defines, args.arch, args.golden,
                                                 args.direction, args.ref, args.backend, n, seed)
                                                for n, seed in parts]))
    finally:
        executor.close()
    against = results[0][0]
    failed = next((r for _, r in results if r.failure is not None), None)
    report = failed or results[0][1]
    examples = sum(r.examples for _, r in results)
    seconds = time.perf_counter() - start
    name = program.meta.name or args.kernel
    where = (f"{arch.name} cut to {arch.geometry.total_channels} channel(s), "
             f"{arch.geometry.total_units} units")
    if report.failure is not None:
        from pimisa.mx.fuzzing import explain

        explain(report.failure, kernel, arch, defines)
        print(report.failure.render())
        print(f"{name}: FAILED against {against} after {examples} examples "
              f"(shrinking included) on {where}, {seconds:.1f} s")
        return 1
    runs = f" in {len(parts)} runs" if len(parts) > 1 else ""
    print(f"{name}: {examples} examples matched {against}{runs} on {where}, {seconds:.1f} s")
    return 0
