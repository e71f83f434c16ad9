"""The `pimisa` command line: one sub-command module each, registered from COMMAND_MODULES."""

from __future__ import annotations

import argparse
import importlib
import sys

from pimisa import __version__
from pimisa.errors import PimisaError

# Each module defines `register(subparsers)`, which adds its sub-command(s) with
# `set_defaults(func=...)`; func(args) returns the exit code.
COMMAND_MODULES = [
    "pimisa.commands.arch_cmd",
    "pimisa.commands.isa_cmd",
    "pimisa.commands.asm_cmd",
    "pimisa.commands.run_cmd",
    "pimisa.commands.time_cmd",
    "pimisa.commands.jitq_cmd",
    "pimisa.commands.quantize_cmd",
    "pimisa.commands.fuzz_cmd",
]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as exit code 2 and one-line messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = _Parser(
        prog="pimisa",
        description="Write, assemble, run, time and fuzz processing-in-memory kernels.",
        epilog="Run `pimisa COMMAND --help` for a command's options. Exit codes: 0 success, "
        "1 error in the input (source, data, files), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"pimisa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one sub-command, turning PimisaError into a message and exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except PimisaError as exc:
        print(str(exc) if exc.located else f"pimisa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pimisa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
