"""The `pimisa` command line: one sub-command module each, registered from COMMANDS.

Only the module of the command being run is imported (and its heavy modules only when it
runs), so `pimisa quantize ...` does not pay for the assembler, the JIT-Q model or the fuzzer;
help and usage errors that list every command import them all.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pimisa import __version__, fileio, memory
from pimisa.errors import PimisaError

# Each module defines `register(subparsers)`, which adds its sub-command(s) with
# `set_defaults(func=...)`; func(args) returns the exit code. Command name -> its module.
COMMANDS = {
    "arch": "pimisa.commands.arch_cmd",
    "isa": "pimisa.commands.isa_cmd",
    "asm": "pimisa.commands.asm_cmd",
    "disasm": "pimisa.commands.asm_cmd",
    "run": "pimisa.commands.run_cmd",
    "time": "pimisa.commands.time_cmd",
    "check-trace": "pimisa.commands.time_cmd",
    "jitq": "pimisa.commands.jitq_cmd",
    "quantize": "pimisa.commands.quantize_cmd",
    "fuzz": "pimisa.commands.fuzz_cmd",
    "debug": "pimisa.commands.debug_cmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as exit code 2 and one-line messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own asks shutil for the width (shutil imports bz2 and lzma: milliseconds
        # of every command, since every add_argument makes a formatter); the same width here
        return self.formatter_class(prog=self.prog, width=_columns() - 2)


def _columns() -> int:
    """The terminal width as shutil.get_terminal_size gives it ($COLUMNS, else stdout's
    terminal, else 80)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _size(text: str) -> int:
    try:
        return memory.parse_size(text)
    except PimisaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def command_of(argv: list[str]) -> str | None:
    """The sub-command an argument list runs (its first non-option word), if it is one."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: with `command`, of just that command's module, else of every
    sub-command."""
    parser = _Parser(
        prog="pimisa",
        description="Write, assemble, run, time and fuzz processing-in-memory kernels.",
        epilog="Run `pimisa COMMAND --help` for a command's options. Exit codes: 0 success, "
        "1 error in the input (source, data, files), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"pimisa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in [COMMANDS[command]] if command else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():
        command.add_argument(
            "--max-memory", metavar="SIZE", type=_size,
            help="memory budget for data sized from the input, e.g. 4G or 25%% (default: "
            f"{round(memory.DEFAULT_FRACTION * 100)}%% of physical memory)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one sub-command, turning PimisaError into a message and exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        memory.set_budget(getattr(args, "max_memory", None))
        fileio.check_outputs(vars(args).values())
        return int(args.func(args) or 0)
    except PimisaError as exc:
        print(str(exc) if exc.located else f"pimisa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print("pimisa: error: out of memory (lower the input size or raise --max-memory)",
              file=sys.stderr)
        return 1
    except RecursionError:
        print("pimisa: error: input nested too deeply", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pimisa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
