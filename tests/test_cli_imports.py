"""The command line imports only what the command being run needs."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

from pimisa import cli


def test_commands_table_names_what_each_module_registers():
    for module in cli.COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert {n for n, m in cli.COMMANDS.items() if m == module} == set(sub.choices), module
    assert set(cli.build_parser()._subparsers._group_actions[0].choices) == set(cli.COMMANDS)


def test_command_of_finds_the_subcommand():
    assert cli.command_of(["quantize", "--random", "4x4"]) == "quantize"
    assert cli.command_of(["--version"]) is None
    assert cli.command_of(["frobnicate"]) is None
    assert cli.command_of([]) is None


def test_quantize_does_not_import_the_assembler_or_other_commands(tmp_path):
    env_cache = {"PIMISA_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys; from pimisa.cli import main; "
            "main(['quantize', '--format', 'mx6', '--direction', 'row', '--random', '16x32', "
            "'--golden']); "
            "print(sorted({m.split('.')[0] if not m.startswith('pimisa.') else m "
            "for m in sys.modules}))")
    env = {**os.environ, **env_cache}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout
    assert "lark" in first  # nothing cached yet: the kernel is assembled
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout
    loaded = again.splitlines()[-1]
    for heavy in ("'lark'", "'hypothesis'", "pimisa.asm", "pimisa.jitq", "pimisa.codegen",
                  "pimisa.commands.jitq_cmd", "pimisa.commands.fuzz_cmd", "'rich'"):
        assert heavy not in loaded, heavy
    # nor stdlib modules the flow can do without (each a few milliseconds of every run)
    for spare in ("'concurrent'", "'logging'", "'tempfile'", "'shutil'", "'zipfile'"):
        assert spare not in loaded, spare
    assert "matches the golden model" in again
