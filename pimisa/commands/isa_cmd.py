"""`pimisa isa`: print the instruction set (text, JSON or the markdown reference)."""

from __future__ import annotations

import argparse
import json

from pimisa.codegen import isa_markdown
from pimisa.isa import ISA_HASH, TABLE, table_fingerprint


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `isa` sub-command."""
    p = sub.add_parser("isa", help="print the instruction set",
                       description="Print the PIM instruction set from the ISA table.")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable table")
    fmt.add_argument("--markdown", action="store_true", help="the docs/isa.md reference")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table in the chosen form."""
    if args.markdown:
        print(isa_markdown(), end="")
    elif args.json:
        doc = table_fingerprint()
        doc["isa_hash"] = f"{ISA_HASH:#018x}"
        doc["docs"] = {i.mnemonic: {"syntax": i.syntax, "doc": i.doc} for i in TABLE}
        print(json.dumps(doc, indent=2))
    else:
        for ins in TABLE:
            print(f"{ins.opcode:#04x}  {ins.syntax:26s} {ins.doc}")
    return 0
