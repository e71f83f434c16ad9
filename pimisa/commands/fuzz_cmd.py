"""`pimisa fuzz`: property-based fuzzing of a quantization kernel against the golden model."""

from __future__ import annotations

import argparse
import time

from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.errors import UsageError
from pimisa.formats import DIRECTIONS
from pimisa.quantize import FORMATS, load_quant_kernel


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `fuzz` sub-command."""
    p = sub.add_parser(
        "fuzz", help="fuzz an MX quantization kernel against the golden model",
        description="Run the kernel on hypothesis-generated adversarial tensors (normal, wide "
        "range, ties, near powers of two, subnormals, huge, zeros, sparse, NaN/Inf) and compare "
        "its packed output with the golden model; a failure is shrunk and shown with the "
        "source line that stored the wrong word. Runs on one channel of the architecture "
        "(same PIM units, lanes and columns per channel) so that small tensors emulate fast.")
    p.add_argument("kernel", metavar="KERNEL", help="a .pimasm source or a bundled kernel name")
    p.add_argument("--golden", required=True, choices=FORMATS, metavar="FORMAT",
                   help=f"golden format: {', '.join(FORMATS)}")
    p.add_argument("--direction", required=True, choices=DIRECTIONS, help="block direction")
    p.add_argument("--max-examples", type=int, default=200, metavar="N",
                   help="tensors to try (default 200)")
    p.add_argument("--seed", type=int, help="hypothesis seed (default: random)")
    p.add_argument("--arch", metavar="NAME|FILE", default=DEFAULT_ARCH,
                   help=f"architecture preset or .toml file (default {DEFAULT_ARCH})")
    p.add_argument("--backend", choices=("auto", "c", "numpy"),
                   help="emulator backend (default: $PIMISA_BACKEND, else auto)")
    add_define_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fuzz; 0 when every example matched, 1 with the shrunk mismatch otherwise."""
    if args.max_examples < 1:
        raise UsageError(f"--max-examples must be at least 1, got {args.max_examples}")
    from pimisa.fuzzing import fuzz_arch, fuzz_kernel

    arch = fuzz_arch(load_arch(args.arch))
    program = load_quant_kernel(args.kernel, arch, parse_defines(args.define))
    start = time.perf_counter()
    report = fuzz_kernel(program, args.golden, args.direction, arch, args.backend,
                         args.max_examples, args.seed)
    seconds = time.perf_counter() - start
    name = program.meta.name or args.kernel
    where = (f"{arch.name} cut to {arch.geometry.total_channels} channel(s), "
             f"{arch.geometry.total_units} units")
    if report.failure is not None:
        print(report.failure.render())
        print(f"{name}: FAILED against golden {args.golden} {args.direction} after "
              f"{report.examples} examples (shrinking included) on {where}, {seconds:.1f} s")
        return 1
    print(f"{name}: {report.examples} examples matched golden {args.golden} {args.direction} "
          f"on {where}, {seconds:.1f} s")
    return 0
