"""`pimisa fuzz`: property-based fuzzing of any kernel against a golden format or a reference."""

from __future__ import annotations

import argparse
import time

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
        "and shown with the input element, expected and actual value and the source line of "
        "the st that wrote the wrong word. Runs on one channel of the architecture (same PIM "
        "units, lanes and columns per channel) so that small inputs emulate fast.")
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
    p.set_defaults(func=run)


def _is_mx_packed(program: object, fmt: str) -> bool:
    from pimisa.mx.layout import PACKED_LAYOUTS
    from pimisa.mx.pack import PACKED_FORMATS

    regions = program.meta.regions  # type: ignore[attr-defined]
    return fmt in PACKED_FORMATS and any(
        r.kind == "output" and r.layout in PACKED_LAYOUTS for r in regions)


def run(args: argparse.Namespace) -> int:
    """Fuzz; 0 when every example matched, 1 with the shrunk mismatch otherwise."""
    if args.max_examples < 1:
        raise UsageError(f"--max-examples must be at least 1, got {args.max_examples}")
    if args.golden and not args.direction:
        raise UsageError("--golden needs --direction row|col")
    if args.ref and args.direction:
        raise UsageError("--direction goes with --golden, not --ref")
    from pimisa.mx.fuzzing import fuzz, fuzz_arch, fuzz_kernel
    from pimisa.references import golden_reference, load_reference

    arch = fuzz_arch(load_arch(args.arch))
    program = load_quant_kernel(args.kernel, arch, parse_defines(args.define))
    start = time.perf_counter()
    if args.golden and _is_mx_packed(program, args.golden):
        against = f"golden {args.golden} {args.direction}"
        report = fuzz_kernel(program, args.golden, args.direction, arch, args.backend,
                             args.max_examples, args.seed)
    else:
        ref = (golden_reference(program, args.golden, args.direction, arch.geometry) if args.golden
               else load_reference(args.ref))
        against = ref.name
        report = fuzz(program, arch, ref, args.backend, args.max_examples, args.seed)
    seconds = time.perf_counter() - start
    name = program.meta.name or args.kernel
    where = (f"{arch.name} cut to {arch.geometry.total_channels} channel(s), "
             f"{arch.geometry.total_units} units")
    if report.failure is not None:
        print(report.failure.render())
        print(f"{name}: FAILED against {against} after {report.examples} examples "
              f"(shrinking included) on {where}, {seconds:.1f} s")
        return 1
    print(f"{name}: {report.examples} examples matched {against} on {where}, {seconds:.1f} s")
    return 0
