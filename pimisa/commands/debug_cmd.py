"""`pimisa debug`: step through a kernel on the numpy twin, interactively or from a script."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pimisa import kernels
from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.commands.run_cmd import load_inputs
from pimisa.errors import InputError, SourceError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `debug` sub-command."""
    from pimisa.debugger import __doc__ as commands

    p = sub.add_parser(
        "debug", help="step through a kernel launch (breakpoints, registers, memory, watches)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Lay the inputs out as `pimisa run` does and execute the launch one "
        "command at a time on the numpy twin. Commands come from --script FILE (one per "
        "line), else from standard input.\n\n" + commands.split("Commands", 1)[1].split(
            "\n", 1)[1])
    p.add_argument("kernel", metavar="KERNEL", help="a .pimasm source, .pimb or bundled name")
    p.add_argument("--in", dest="inputs", metavar="NAME=FILE.npy", action="append", default=[],
                   help="an input tensor for the kernel's input region NAME (repeatable)")
    p.add_argument("--script", metavar="FILE", help="debugger commands, one per line")
    p.add_argument("--arch", metavar="NAME|FILE",
                   help=f"architecture preset or .toml file (default: the kernel's, else "
                   f"{DEFAULT_ARCH})")
    add_define_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prepare the launch and run the debugger commands."""
    from pimisa.debugger import DebugError, Debugger
    from pimisa.emulator.launch import prepare

    defines = parse_defines(args.define)
    sources = None
    if args.kernel.endswith(".pimb"):
        program = kernels.load(args.kernel, args.arch, defines)
    else:
        from pimisa.asm import assemble_path

        result = assemble_path(kernels.resolve(args.kernel), args.arch, defines)
        if result.program is None:
            raise SourceError(result.rendered)
        program, sources = result.program, result.sources
    arch = load_arch(args.arch or program.meta.arch or DEFAULT_ARCH)
    machine, _ = prepare(program, arch.geometry, load_inputs(args.inputs))
    dbg = Debugger(program, machine, sources)
    if args.script:
        try:
            script = Path(args.script).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{args.script}: cannot read: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        dbg.run_script(script.splitlines(), args.script)
        return 0
    interactive = sys.stdin.isatty()
    dbg.execute("where")
    while True:
        if interactive:
            sys.stdout.write("(pimisa) ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return 0
        try:
            if not dbg.execute(line):
                return 0
        except DebugError as exc:
            if not interactive:
                raise InputError(f"<stdin>: {exc}") from None
            print(f"error: {exc}")
