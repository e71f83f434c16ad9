"""Files generated from the ISA table: the C header of the emulator core and docs/isa.md.

`python -m pimisa.codegen` rewrites them; `python -m pimisa.codegen --check` exits 1 when a
checked-in copy is stale (the tests do the same check).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from pimisa.editordefs import GRAMMAR_PATH, LEXER_PATH, grammar_json, lexer_source
from pimisa.emulator.opinfo import FLAG_DOCS, FLAGS, c_flags
from pimisa.isa import (
    ALL_BANKS,
    CANONICAL_NAN,
    CANONICAL_NAN_BF16,
    CANONICAL_NAN_F16,
    CONDITIONS,
    ISA_HASH,
    LANE_WIDTHS,
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
        f"#define PIMISA_CANONICAL_NAN_F16 0x{CANONICAL_NAN_F16:04X}u",
        f"#define PIMISA_CANONICAL_NAN_BF16 0x{CANONICAL_NAN_BF16:04X}u",
        "",
        "typedef struct {",
    ]
    for name in RECORD_DTYPE.names:
        lines.append(f"    {_C_TYPES[RECORD_DTYPE[name].str]} {name};")
    lines += [f"}} pimisa_record; /* {RECORD_DTYPE.itemsize} bytes */", ""]
    for ins in TABLE:
        lines.append(f"#define OP_{ins.c_name} 0x{ins.opcode:02X}  /* {ins.syntax} */")
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
    from pimisa import validate as v

    out = [
        "# pimisa ISA reference",
        "",
        "Generated from `pimisa/isa.py` by `python -m pimisa.codegen`; a test fails when this",
        "file is stale.",
        "",
        f"ISA hash: `{ISA_HASH:#018x}`",
        "",
        "## Lane widths",
        "",
        "A geometry's `lane_bits` (docs/files.md; `pimisa arch --show NAME`) makes its PIM unit",
        "word `word_bits / lane_bits` lanes of 32 or 16 bits: `hbm3` and `lpddr5x` have 8 x 32,",
        "`hbm2-pim` 16 x 16 (Samsung's HBM-PIM, whose PIM unit computes 16 FP16 lanes of a",
        "256-bit word). Any preset takes the other width as `NAME:lane_bits=16|32`",
        "(`--arch hbm3:lane_bits=16`). Registers hold raw lane bits; each operation views them",
        "as it needs:",
        "",
        "| | 32-bit lanes | 16-bit lanes |",
        "|---|---|---|",
        "| integer ops | uint32 / int32, wrapping | uint16 / int16, wrapping |",
        "| shift amounts `sh` | 0..31 | 0..15 |",
        "| immediates | 32 bits | the low 16 bits act (the assembler takes -32768..0xffff) |",
        "| bit fields `field` (bfx, bfi) | s, p in 0..31, w in 0..63 | s, p in 0..15, w in "
        "0..63 (the same 32-bit encoding) |",
        "| float ops | `fadd` `fsub` `fmul` `fmac`: float32 | `.f16`: IEEE binary16, `.bf16`: "
        "bfloat16 |",
        f"| NaN results | `0x{CANONICAL_NAN:08X}` | `0x{CANONICAL_NAN_F16:04X}` (FP16), "
        f"`0x{CANONICAL_NAN_BF16:04X}` (BF16) |",
        "| lane masks | 8 bits | 16 bits |",
        "",
        "A kernel selects FP16 or BF16 per instruction by the lane-type suffix of the mnemonic",
        "(`fmac.f16 v0, v1, v2`, `fadd.bf16 v3, v3, v4`): one lane holds either, and a kernel may",
        "mix them. The float32 ops exist only on 32-bit lanes and the suffixed ones only on",
        "16-bit lanes; the assembler reports any other use at its line and column, and running a",
        "program on a machine of another lane width is an error (the .pimb header records the",
        "width). A 16-bit float op converts both operands exactly to float32, computes in",
        "float32 and rounds the result to nearest, ties to even, to the lane type, subnormals",
        "included, as numpy's float16 and ml_dtypes' bfloat16 arithmetic do (float32 holds the",
        "exact result of a binary16 or bfloat16 add, subtract or multiply to within the",
        "2p + 2 bits that make this double rounding exact: Figueroa, \"When is double rounding",
        "innocuous?\", SIGNUM Newsletter 30(3), 1995). `fmac` rounds twice (the product, then",
        "the sum). NaN results are the canonical quiet NaN above (positive, top fraction bit",
        "only), whatever the operands' NaN payloads.",
        "",
        "## Instructions",
        "",
        "| opcode | syntax | class | predicable | 32-bit lanes | 16-bit lanes |",
        "|---|---|---|---|---|---|",
    ]
    for ins in TABLE:
        cells = [(ins.doc_at(w) or "—").replace("|", "\\|") for w in (32, 16)]
        out.append(f"| `0x{ins.opcode:02X}` | `{ins.syntax}` | {ins.sem_class} | "
                   f"{'yes' if ins.predicable else 'no'} | {cells[0]} | {cells[1]} |")
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
        "## Record validation and fault order",
        "",
        "Every consumer checks a record against one table (`pimisa/validate.py`, generated into",
        "the C core's `cext/emu_isa.h`): each field of each instruction has a limit, and a record",
        "with several bad fields raises the first fault of this order, with the same message from",
        "the loader, the assembler, the C core and the numpy twin. Fields an instruction does not",
        "use must be 0. The row is checked last, at run time: it is relative to the tile base of",
        "the slot.",
        "",
        "| code | fault | raised when |",
        "|---|---|---|",
        *[f"| {code} | {name} | {v.FAULT_DOCS[name]} |" for name, code in v.FAULT_CODES.items()],
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


def _c_int(value: int) -> str:
    return f"{value}LL" if value >= 0 else f"({value + 1}LL - 1)"


def emu_header() -> str:
    """cext/emu_isa.h: the emulator core's operand table (pimisa/emulator/opinfo.py) and record
    validator (pimisa/validate.py)."""
    from pimisa import validate as v

    lines = [
        "/* Generated from pimisa/isa.py, pimisa/emulator/opinfo.py and pimisa/validate.py by",
        " * `python -m pimisa.codegen`; do not edit. The emulator core's operand table and",
        " * record validator: fault codes in fault order, operand flags per opcode, the limit",
        " * kind of every field of every opcode, and the range of each kind on a machine. A",
        " * record's fault is the lowest code among its fields outside their range. */",
        "#ifndef PIMISA_EMU_ISA_H",
        "#define PIMISA_EMU_ISA_H",
        '#include "pimisa_isa.h"',
        "",
        f"#define PIMISA_VALIDATOR_HASH 0x{v.VALIDATOR_HASH:016x}ULL",
        "",
        "/* Fault codes, in fault order. */",
    ]
    for name, code in v.FAULT_CODES.items():
        lines.append(f"#define EMU_FAULT_{name.upper()} {code}  /* {v.FAULT_DOCS[name]} */")
    lines += ["", "/* Operand flags of PIMISA_OPINFO (bits 0-3: the SEM_ class). */"]
    for name, bit in FLAGS.items():
        lines.append(f"#define EMU_F_{name} 0x{bit:X}  /* {FLAG_DOCS[name]} */")
    lines += ["", "/* Class and operand flags of each opcode (0: no instruction). */",
              "static const uint32_t PIMISA_OPINFO[256] = {"]
    for ins in TABLE:
        lines.append(f"    [OP_{ins.c_name}] = 0x{c_flags(ins.opcode):05X},")
    lines += ["};", "", "/* Limit kinds of a record field. */"]
    for i, (name, limit) in enumerate(v.LIMITS.items()):
        lines.append(f"#define PIMISA_LIM_{name.upper()} {i}  /* {limit.doc} */")
    lines += [
        f"#define PIMISA_NUM_LIMITS {len(v.LIMITS)}",
        f"#define PIMISA_NUM_FIELDS {len(v.FIELDS)}",
        "",
        "/* Valid values x: lo <= (x & keep) <= hi, or x == also; fault 0 = nothing to check. */",
        "typedef struct {",
        "    int64_t lo, hi, also, keep;",
        "    int32_t fault;",
        "} pimisa_limit;",
        "",
        "/* Field j of a record (fields in record order). */",
        "static inline int64_t pimisa_field(const pimisa_record *r, unsigned j) {",
        "    switch (j) {",
    ]
    for j, f in enumerate(v.FIELDS):
        lines.append(f"    case {j}: return r->{f};")
    lines += [
        "    default: return 0;",
        "    }",
        "}",
        "",
        "/* The range of every limit kind on a machine of these sizes. */",
        "static inline void pimisa_limits(pimisa_limit lim[PIMISA_NUM_LIMITS], "
        + ", ".join(f"int64_t {t}" for t in v.TERMS) + ") {",
    ]
    for t in v.TERMS:
        lines.append(f"    (void){t};")
    for name, limit in v.LIMITS.items():
        hi = _c_int(limit.hi) + (f" + {limit.term}" if limit.term else "")
        also = _c_int(v.NO_ALSO if limit.also is None else limit.also)
        fault = f"EMU_FAULT_{limit.fault.upper()}" if limit.fault else "0"
        lines.append(f"    lim[PIMISA_LIM_{name.upper()}] = (pimisa_limit){{{_c_int(limit.lo)}, "
                     f"{hi}, {also}, {_c_int(~limit.ignore)}, {fault}}};")
    lines += [
        "}",
        "",
        "/* Lane widths: PIMISA_FIELD_LIMITS[pimisa_width_index(lane bits)] (-1: none). */",
        f"#define PIMISA_NUM_WIDTHS {len(LANE_WIDTHS)}",
        "static inline int pimisa_width_index(uint32_t lane_bits) {",
        "    switch (lane_bits) {",
        *[f"    case {w}: return {i};" for i, w in enumerate(LANE_WIDTHS)],
        "    default: return -1;",
        "    }",
        "}",
        "",
        "typedef uint8_t pimisa_kinds[PIMISA_NUM_FIELDS];",
        "",
        "/* The limit kind of each field (record order) of each opcode, per lane width (an",
        " * instruction that does not exist at a width has the unknown opcode's kinds there). */",
        "static const pimisa_kinds PIMISA_FIELD_LIMITS[PIMISA_NUM_WIDTHS][256] = {",
    ]
    names = list(v.LIMITS)
    for w in LANE_WIDTHS:
        lines.append(f"  {{ /* {w}-bit lanes */")
        for op in range(256):
            kinds = v.FIELD_KINDS[w][op]
            row = ", ".join(str(names.index(kinds[f])) for f in v.FIELDS)
            lines.append(f"    {{{row}}},  /* {op:#04x} */")
        lines.append("  },")
    lines += ["};", "", "#endif", ""]
    return "\n".join(lines)


DRAM_RULES_PATH = Path("cext") / "dram_rules.h"


def dram_rules_header() -> str:
    """cext/dram_rules.h, from pimisa/dram/rules.py."""
    from pimisa.dram.rules import c_header as rules_header

    return rules_header()


LAYOUT_DOC_PATH = Path("docs") / "layout.md"  # generator: pimisa/layoutdoc.py
EMU_HEADER_PATH = Path("cext") / "emu_isa.h"
DRAM_DOC_PATH = Path("docs") / "dram.md"


def _xval_section() -> str:
    from pimisa.xval import markdown

    return markdown()


# Generated sections of docs/dram.md (the rest is prose): name -> text between the markers
# `<!-- name:begin -->` and `<!-- name:end -->`.
def _rules_section() -> str:
    from pimisa.dram.rules import markdown_table

    return markdown_table()


DRAM_DOC_SECTIONS: dict[str, Callable[[], str]] = {"rules": _rules_section,
                                                   "xval": _xval_section}


def splice(text: str, name: str, body: str, where: Path = DRAM_DOC_PATH) -> str:
    """`text` with the part between the markers of section `name` replaced by `body`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, found, rest = text.partition(begin)
    if not found or end not in rest:
        raise ValueError(f"{where}: markers {begin} ... {end} missing")
    return f"{head}{begin}\n{body.rstrip()}\n{end}{rest.partition(end)[2]}"


def dram_markdown() -> str:
    """docs/dram.md with every generated section fresh."""
    text = (ROOT / DRAM_DOC_PATH).read_text()
    for name, make in DRAM_DOC_SECTIONS.items():
        text = splice(text, name, make())
    return text


GENERATED = {C_HEADER_PATH: c_header, EMU_HEADER_PATH: emu_header, ISA_DOC_PATH: isa_markdown,
             LAYOUT_DOC_PATH: layout_markdown, Path(LEXER_PATH): lexer_source,
             Path(GRAMMAR_PATH): grammar_json, DRAM_RULES_PATH: dram_rules_header,
             DRAM_DOC_PATH: dram_markdown}


def stale_files(root: Path = ROOT, jitq: bool = True) -> list[Path]:
    """Generated files whose checked-in text differs from what the table generates (and the
    JIT-Q page and figures, from the `default` and `paper` scenarios)."""
    from pimisa.jitq import docs as jitq_docs
    from pimisa.jitq.pim import PimTimer

    stale = []
    for rel, make in GENERATED.items():
        path = root / rel
        if not path.exists() or path.read_text() != make():
            stale.append(rel)
    if jitq:
        stale += [Path("docs") / n for n in jitq_docs.stale(root / "docs", PimTimer())]
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
    from pimisa.jitq import docs as jitq_docs
    from pimisa.jitq.pim import PimTimer

    for path in jitq_docs.write(ROOT / "docs", PimTimer()):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
