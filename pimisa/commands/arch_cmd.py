"""`pimisa arch`: list and show architecture presets."""

from __future__ import annotations

import argparse
import json

from pimisa.arch import DEFAULT_ARCH, load_arch, preset_names
from pimisa.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `arch` sub-command."""
    p = sub.add_parser("arch", help="list or show architecture presets",
                       description="List the bundled architecture presets or show one "
                       "(a bundled name or the path of your own .toml file).")
    p.add_argument("--list", action="store_true", help="list the bundled presets")
    p.add_argument("--show", metavar="NAME|FILE", help="show one preset (name or .toml path)")
    p.add_argument("--json", action="store_true", help="with --show: print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List or show presets."""
    if args.show:
        arch = load_arch(args.show)
        if args.json:
            print(json.dumps(arch.to_dict(), indent=2))
            return 0
        doc = arch.to_dict()
        print(f"{arch.name}: {arch.description}  ({arch.source})")
        for section in ("geometry", "timing", "derived"):
            print(f"[{section}]")
            for key, value in doc[section].items():  # type: ignore[union-attr]
                print(f"  {key:20s} {value}")
        return 0
    if args.json:
        raise UsageError("--json goes with --show")
    for name in preset_names():
        arch = load_arch(name)
        mark = " (default)" if name == DEFAULT_ARCH else ""
        print(f"{name:10s} {arch.description}{mark}")
    return 0
