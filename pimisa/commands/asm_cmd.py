"""`pimisa asm` (assemble a kernel, optionally print its listing) and `pimisa disasm`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pimisa.arch import Arch, load_arch
from pimisa.errors import InputError, SourceError, UsageError
from pimisa.fileio import atomic_open, check_output, input_arg, output_arg, read_stream
from pimisa.kernels import bundled, check_width, is_bundled, resolve
from pimisa.program import Program, load_program

if TYPE_CHECKING:
    from pimisa.asm import Assembly


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `asm` and `disasm` sub-commands."""
    p = sub.add_parser(
        "asm", help="assemble a kernel to a .pimb command stream",
        description="Assemble a pimasm kernel (a file, a bundled kernel name such as "
        f"{', '.join(bundled()) or 'example_gemv'}, or - for standard input). Without -o the "
        "output is KERNEL.pimb in the current directory; with --listing alone nothing is "
        "written and the listing is printed.")
    p.add_argument("source", metavar="KERNEL", type=input_arg,
                   help="kernel source, bundled name or -")
    p.add_argument("-o", "--output", metavar="FILE.pimb", type=output_arg,
                   help="write the command stream here")
    p.add_argument("--listing", action="store_true",
                   help="print index, record bytes, instruction and source line per command")
    p.add_argument("--arch", metavar="NAME|FILE.toml", type=input_arg,
                   help="target architecture (overrides the source's .arch; default hbm3)")
    add_define_option(p)
    p.set_defaults(func=run_asm)

    d = sub.add_parser(
        "disasm", help="print a .pimb command stream as pimasm source",
        description="Disassemble a .pimb file (validated against its architecture) to pimasm "
        "text, metadata directives included, that re-assembles to the same bytes.")
    d.add_argument("program", metavar="PROGRAM.pimb", type=input_arg)
    d.add_argument("-o", "--output", metavar="FILE.pimasm", type=output_arg,
                   help="write here instead of stdout")
    d.add_argument("--arch", metavar="NAME|FILE.toml", type=input_arg,
                   help="architecture to validate against (default: the program's own)")
    d.add_argument("--locations", action="store_true",
                   help="comment every command with its source location")
    d.set_defaults(func=run_disasm)


def _arch_option(spec: str | None) -> Arch | None:
    if spec is None:
        return None
    try:
        return load_arch(spec)
    except InputError as exc:
        raise UsageError(f"--arch: {exc}") from None


def add_define_option(p: argparse.ArgumentParser) -> None:
    """The -D NAME=VALUE option (repeatable) of every command that assembles a source."""
    p.add_argument("-D", "--define", metavar="NAME=VALUE", action="append", default=[],
                   help="set kernel parameter NAME (declared '.default NAME, value') or "
                   "define an integer symbol; a .equ constant cannot be changed (repeatable)")


_DEFINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(-?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+))")


def parse_defines(items: list[str]) -> dict[str, int]:
    """The -D NAME=INTEGER arguments as a dict; UsageError for a malformed one."""
    if not items:
        return {}
    from pimisa.asm.parse import is_register_name

    out = {}
    for item in items:
        m = _DEFINE.fullmatch(item)
        if m is None or is_register_name(m.group(1)):
            raise UsageError(f"-D {item[:60]}: expected NAME=INTEGER (e.g. -D ROWS=8; "
                             "v<N>, m<N>, b<N> are register names)")
        text = m.group(2)
        negative = text.startswith("-")
        digits = text.lstrip("-")
        if len(digits) > 70:
            raise UsageError(f"-D {item[:40]}...: the value does not fit 64 bits")
        base = {"0x": 16, "0b": 2}.get(digits[:2].lower(), 10)
        value = int(digits[2:] if base != 10 else digits, base)
        out[m.group(1)] = -value if negative else value
        if not -(1 << 63) <= out[m.group(1)] < (1 << 63):
            raise UsageError(f"-D {item}: the value does not fit 64 bits")
    return out


def _print(lines: object) -> None:
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="backslashreplace")
    for line in lines:  # type: ignore[attr-defined]
        out.write(line + "\n")


def run_asm(args: argparse.Namespace) -> int:
    """Assemble; write the .pimb (atomically) and/or print the listing."""
    from pimisa.asm import assemble, assemble_path
    from pimisa.asm.listing import listing

    arch = _arch_option(args.arch)
    defines = parse_defines(args.define)
    if args.source == "-":
        if not args.output and not args.listing:
            raise UsageError("reading standard input: give -o FILE.pimb or --listing")
        result: Assembly = assemble(read_stream(sys.stdin, "<stdin>", "source"), "<stdin>",
                                    arch, defines)
        stem = "stdin"
    else:
        path = resolve(args.source)
        result = assemble_path(path, arch, defines)
        stem = path.stem
    if result.program is None:
        if arch is not None and args.source != "-" and is_bundled(path):
            check_width(path, arch, defines)  # a bundled kernel of the other lane width
        raise SourceError(result.rendered)
    if result.rendered:
        print(result.rendered, file=sys.stderr)
    program = result.program
    if args.output or not args.listing:
        out = Path(args.output or f"{stem}.pimb")
        if not args.output and args.source != "-":
            check_output(out, [path])
        try:
            program.save(out)
        except ValueError as exc:  # e.g. a NUL byte in the path (only via the Python API)
            raise UsageError(f"-o {args.output!r}: {exc}") from None
        print(f"pimisa asm: wrote {out} ({len(program)} commands for {program.meta.arch})",
              file=sys.stderr)
    if args.listing:
        _print(listing(program, result.sources))
    return 0


def validated_program(path: str, arch_spec: str | None = None) -> tuple[Program, Arch]:
    """Load a .pimb and check every record against its architecture (or `arch_spec`)."""
    from pimisa.validate import check_records

    try:
        program = load_program(path)
    except ValueError as exc:
        raise UsageError(f"{path!r}: {exc}") from None
    arch = _arch_option(arch_spec)
    if arch is None:
        name = program.meta.arch or "hbm3"
        try:
            arch = load_arch(name)
        except InputError:
            raise InputError(f"{path}: written for architecture {name!r}, which is not a "
                             "preset; pass --arch FILE.toml") from None
    width = program.width_problem(arch.geometry.lane_bits, f"'{arch.name}'")
    if width is not None:
        raise InputError(f"{path}: {width}")
    problem = check_records(program.records, arch.geometry)
    if problem is not None:
        index, reason = problem
        raise InputError(f"{path}: command #{index} ({program.location(index)}): {reason} "
                         f"(for {arch.name})")
    return program, arch


def run_disasm(args: argparse.Namespace) -> int:
    """Disassemble to stdout or (atomically) to -o."""
    from pimisa.asm.disasm import disassemble_program

    program, _arch = validated_program(args.program, args.arch)
    text = disassemble_program(program, args.locations, Path(args.program).name)
    if args.output:
        try:
            with atomic_open(args.output, "w") as handle:
                handle.write(text)
        except ValueError as exc:
            raise UsageError(f"-o {args.output!r}: {exc}") from None
    else:
        _print(text.splitlines())
    return 0
