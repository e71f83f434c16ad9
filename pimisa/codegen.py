"""Files generated from the ISA table: the C header of the emulator core and docs/isa.md.

`python -m pimisa.codegen` rewrites them; `python -m pimisa.codegen --check` exits 1 when a
checked-in copy is stale (the tests do the same check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pimisa.isa import (
    ALL_BANKS,
    CANONICAL_NAN,
    CONDITIONS,
    ISA_HASH,
    OPERAND_KINDS,
    PRED_INVERT,
    PRED_MASK_BITS,
    PRED_ON,
    RECORD_DTYPE,
    SEM_CLASSES,
    TABLE,
)
from pimisa.layoutdoc import layout_markdown

ROOT = Path(__file__).resolve().parent.parent
C_HEADER_PATH = Path("cext") / "pimisa_isa.h"
ISA_DOC_PATH = Path("docs") / "isa.md"

_C_TYPES = {"|u1": "uint8_t", "<u2": "uint16_t", "<u4": "uint32_t", "<i4": "int32_t"}


def c_header() -> str:
    """The C header: record struct, opcodes, semantics classes, condition codes."""
    lines = [
        "/* Generated from pimisa/isa.py by `python -m pimisa.codegen`; do not edit. */",
        "#ifndef PIMISA_ISA_H",
        "#define PIMISA_ISA_H",
        "#include <stdint.h>",
        "",
        f"#define PIMISA_ISA_HASH 0x{ISA_HASH:016x}ULL",
        f"#define PIMISA_ALL_BANKS 0x{ALL_BANKS:02X}",
        f"#define PIMISA_PRED_ON 0x{PRED_ON:02X}",
        f"#define PIMISA_PRED_INVERT 0x{PRED_INVERT:02X}",
        f"#define PIMISA_PRED_MASK_BITS 0x{PRED_MASK_BITS:02X}",
        f"#define PIMISA_CANONICAL_NAN 0x{CANONICAL_NAN:08X}u",
        "",
        "typedef struct {",
    ]
    for name in RECORD_DTYPE.names:
        lines.append(f"    {_C_TYPES[RECORD_DTYPE[name].str]} {name};")
    lines += [f"}} pimisa_record; /* {RECORD_DTYPE.itemsize} bytes */", ""]
    for ins in TABLE:
        lines.append(f"#define OP_{ins.mnemonic.upper()} 0x{ins.opcode:02X}  /* {ins.syntax} */")
    lines.append("")
    for i, cls in enumerate(SEM_CLASSES):
        lines.append(f"#define SEM_{cls.upper()} {i}")
    lines.append("")
    for name, (code, signed, _f) in CONDITIONS.items():
        kind = "signed" if signed else "unsigned"
        lines.append(f"#define CC_{name.upper()} {code}  /* {kind} */")
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def isa_markdown() -> str:
    """docs/isa.md: the ISA reference."""
    out = [
        "# pimisa ISA reference",
        "",
        "Generated from `pimisa/isa.py` by `python -m pimisa.codegen`; a test fails when this",
        "file is stale. Every lane is 32 bits; registers hold raw bits viewed as int32, uint32 or",
        "float32 by each operation. Float results that are NaN become 0x7FC00000.",
        "",
        f"ISA hash: `{ISA_HASH:#018x}`",
        "",
        "## Instructions",
        "",
        "| opcode | syntax | class | predicable | description |",
        "|---|---|---|---|---|",
    ]
    for ins in TABLE:
        out.append(f"| `0x{ins.opcode:02X}` | `{ins.syntax}` | {ins.sem_class} | "
                   f"{'yes' if ins.predicable else 'no'} | {ins.doc} |")
    out += [
        "",
        "## Operands",
        "",
        "| operand | record field(s) | kind |",
        "|---|---|---|",
    ]
    for name, (fields, kind) in OPERAND_KINDS.items():
        out.append(f"| `{name}` | {fields} | {kind} |")
    out += [
        "",
        "## Compare conditions (`cmp.<cc>`, `cmpi.<cc>`)",
        "",
        "| cc | code | comparison |",
        "|---|---|---|",
    ]
    for name, (code, signed, _f) in CONDITIONS.items():
        out.append(f"| `{name}` | {code} | {'signed' if signed else 'unsigned'} |")
    out += [
        "",
        "## Predication and bank selection",
        "",
        "A predicable instruction may end in `?mN` (only lanes whose bit is set in mask mN are",
        "written) or `?!mN` (only lanes whose bit is clear). A command may end in `@bN` to run in",
        "bank N only (single-bank mode); otherwise it runs in every bank of the channel.",
        "",
        "## Record layout (16 bytes, little-endian)",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
    ]
    meanings = {
        "op": "opcode", "pred": "bit 7 predicated, bit 6 inverted, bits 0-5 mask register",
        "rd": "destination register", "ra": "first source register", "rb": "second source",
        "cc": "compare condition", "bank": f"single-bank target, {ALL_BANKS:#x} = all banks",
        "col": "column word", "row": "row, relative to the tile base",
        "imm": "immediate (float immediates as bits)",
    }
    for name in RECORD_DTYPE.names:
        out.append(f"| {name} | `{RECORD_DTYPE[name].str}` | {meanings[name]} |")
    out.append("")
    return "\n".join(out)


LAYOUT_DOC_PATH = Path("docs") / "layout.md"  # generator: pimisa/layoutdoc.py
GENERATED = {C_HEADER_PATH: c_header, ISA_DOC_PATH: isa_markdown, LAYOUT_DOC_PATH: layout_markdown}


def stale_files(root: Path = ROOT) -> list[Path]:
    """Generated files whose checked-in text differs from what the table generates."""
    stale = []
    for rel, make in GENERATED.items():
        path = root / rel
        if not path.exists() or path.read_text() != make():
            stale.append(rel)
    return stale


def main(argv: list[str] | None = None) -> int:
    """Write (default) or check (--check) the generated files."""
    parser = argparse.ArgumentParser(prog="python -m pimisa.codegen")
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for rel in stale:
            print(f"{rel}: stale; run `python -m pimisa.codegen`", file=sys.stderr)
        return 1 if stale else 0
    for rel, make in GENERATED.items():
        (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / rel).write_text(make())
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
