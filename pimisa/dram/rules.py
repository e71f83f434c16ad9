"""The DRAM timing rules as one table, in the manner of Ramulator 2's timing-constraint records.

Each rule says: after a command of `prev`, a command of `nxt` that shares the rule's `scope`
with it waits at least `gap` cycles (a formula of the preset's timing fields). Scopes nest:
`bank` (both commands touch a common bank), `group` (they touch a common bank group) and
`channel` (any two commands of the channel). An all-bank command touches every bank; a command
to one part of every PIM unit (the even or odd banks, bank -2 / -3 in traces) touches the banks
of that part, which lie in every bank group. A `window` rule allows at most `window` ACT units
in any `gap` cycles (an all-bank or part ACT fills the window).

From this table come the C core's gap array (`cext/dram_rules.h`, generated), the generic
reference scheduler (pimisa/dram/reference.py), the checker's rule list and messages
(pimisa/dram/check.py) and the rules table of docs/dram.md.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass

from pimisa.arch import Arch

CMDS = ("ACT", "PRE", "REF", "RD", "WR", "OP", "REFpb")  # the C core's command codes, in order
SCOPES = ("bank", "group", "channel")
COLUMN = ("RD", "WR", "OP")


@dataclass(frozen=True)
class Rule:
    """One timing constraint: `prev` -> `nxt` within `scope`, at least `gap` cycles."""

    name: str
    prev: tuple[str, ...]
    nxt: tuple[str, ...]
    scope: str
    gap: str  # a sum of products of preset timing fields and integers
    doc: str
    window: int = 0


RULES: tuple[Rule, ...] = (
    Rule("tRCD_RD", ("ACT",), ("RD",), "bank", "tRCD_RD", "ACT -> RD of the row it opened"),
    Rule("tRCD_WR", ("ACT",), ("WR",), "bank", "tRCD_WR", "ACT -> WR of the row it opened"),
    Rule("tRAS", ("ACT",), ("PRE",), "bank", "tRAS", "ACT -> PRE: the row stays open tRAS"),
    Rule("tRC", ("ACT",), ("ACT",), "bank", "tRC", "ACT -> next ACT of the same bank"),
    Rule("tRC_REF", ("ACT",), ("REF", "REFpb"), "bank", "tRC",
         "ACT -> REF or REFpb: the row cycle ends before a refresh (Ramulator 2, DRAMsim3)"),
    Rule("tRTP", ("RD",), ("PRE",), "bank", "tRTP_L",
         "RD -> PRE of the bank read (a PRE closes only its own bank: tRTP_S never applies)"),
    Rule("tWR", ("WR",), ("PRE",), "bank", "CWL + nBL + tWR",
         "WR -> PRE: write recovery after the last data beat"),
    Rule("tRP", ("PRE",), ("ACT", "REF", "REFpb"), "bank", "tRP",
         "PRE -> ACT, REF or REFpb of the bank"),
    Rule("tRRD_L", ("ACT",), ("ACT",), "group", "tRRD_L", "ACT -> ACT in the same bank group"),
    Rule("tRRD_S", ("ACT",), ("ACT", "REFpb"), "channel", "tRRD_S",
         "ACT -> ACT (or REFpb, Ramulator 2's HBM3) in any bank group"),
    Rule("tFAW", ("ACT",), ("ACT",), "channel", "tFAW",
         "at most 4 ACTs in any tFAW cycles (an all-bank or part ACT counts as 4)", window=4),
    Rule("tCCD_L", COLUMN, COLUMN, "group", "tCCD_L",
         "column command (RD, WR, PIM OP) -> next in the same bank group; an all-bank "
         "command is in every group"),
    Rule("tCCD_S", COLUMN, COLUMN, "channel", "tCCD_S", "column command -> next in any group"),
    Rule("tRTW", ("RD",), ("WR",), "channel", "rtw", "RD -> WR turnaround on the channel"),
    Rule("tWTR_L", ("WR",), ("RD",), "group", "CWL + nBL + tWTR_L",
         "WR -> RD in the same bank group, after the last data beat"),
    Rule("tWTR_S", ("WR",), ("RD",), "channel", "CWL + nBL + tWTR_S",
         "WR -> RD in any bank group, after the last data beat"),
    Rule("tRFC", ("REF",), CMDS, "channel", "tRFC", "REF -> any next command"),
    Rule("tRFCpb", ("REFpb",), ("ACT", "PRE"), "bank", "tRFCpb",
         "REFpb -> the next ACT or PRE of the bank refreshed (per-bank refresh)"),
    Rule("tRREFD", ("REFpb",), ("REFpb", "ACT"), "channel", "tRREFD",
         "REFpb -> REFpb or ACT of any bank (Ramulator 2's HBM3)"),
)

BY_NAME = {r.name: r for r in RULES}
# Bumped whenever the scheduling policy (not a rule) changes how a stream is scheduled, so
# that times cached under the fingerprint are not reused.
POLICY_VERSION = 4
# PIM commands an all-bank command to one part of the units looks ahead to decide whether
# another part's open row is still needed (if not, it is precharged in an idle cycle): the
# command queue depth of PIMSimulator's system ini (CMD_QUEUE_DEPTH=64, system_hbm*.ini).
PART_LOOKAHEAD = 64

# Rules the checker verifies that are not gaps between two commands.
CHECKS: dict[str, str] = {
    "bus": "one command per cycle on a channel, in order (cycles strictly increase)",
    "row-open": "RD/WR only to a bank whose open row is the command's row",
    "bank-closed": "ACT only to a closed bank; REF only with every bank closed",
    "refresh-gap": "at most 9 x tREFI from the start to the first REF, between REFs, and "
                   "from the last REF to the end (per-bank refresh: per bank, its REFpbs, "
                   "with tREFI = tREFIpb x banks)",
    "refresh-rate": "at least floor(T / tREFI) - 8 REFs in any run of T cycles (per-bank "
                    "refresh: per bank, as above)",
}


def _names(arch: Arch) -> dict[str, int]:
    t = arch.timing
    values = {k: v for k, v in vars(t).items() if isinstance(v, int) and not isinstance(v, bool)}
    values["rtw"] = t.rtw
    return values


def evaluate(formula: str, names: dict[str, int]) -> int:
    """Value of a gap formula (+, -, * of names and integers), at least 0."""

    def ev(node: ast.expr) -> int:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else (
                a - b if isinstance(node.op, ast.Sub) else a * b)
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        raise ValueError(f"bad gap formula {formula!r}")

    return max(ev(ast.parse(formula, mode="eval").body), 0)


def gaps(arch: Arch) -> dict[str, int]:
    """Each rule's gap in cycles for a preset (0: the constraint is absent)."""
    names = _names(arch)
    return {r.name: evaluate(r.gap, names) for r in RULES}


def fingerprint() -> str:
    """A hash of the table and the policy version: cached DRAM times keyed on it (pimisa.jitq)
    are invalidated by a rule or policy change."""
    text = repr([POLICY_VERSION, PART_LOOKAHEAD] +
                [(r.name, r.prev, r.nxt, r.scope, r.gap, r.window) for r in RULES])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def c_header() -> str:
    """cext/dram_rules.h: rule ids, scopes, command masks and windows of every rule."""
    lines = [
        "/* Generated from pimisa/dram/rules.py by `python -m pimisa.codegen`; do not edit.",
        " * The timing rules of the scheduler: rule r constrains a command of DRAM_RULES[r].next",
        " * after one of DRAM_RULES[r].prev sharing its scope by dram_params.gap[r] cycles. */",
        "#ifndef PIMISA_DRAM_RULES_H",
        "#define PIMISA_DRAM_RULES_H",
        "#include <stdint.h>",
        "",
        f"#define DRAM_RULES_HASH 0x{fingerprint()}ULL",
        f"#define DRAM_NRULES {len(RULES)}",
        "",
    ]
    lines += [f"#define DRAM_SCOPE_{s.upper()} {i}" for i, s in enumerate(SCOPES)]
    lines += [f"#define DRAM_NSCOPES {len(SCOPES)}", ""]
    lines += [f"#define DRAM_RULE_{r.name} {i}  /* {r.doc} */" for i, r in enumerate(RULES)]
    lines += [
        "",
        "typedef struct {",
        "    uint8_t prev, next;  /* masks of command codes (bit DRAM_ACT ...) */",
        "    uint8_t scope, window;",
        "} dram_rule;",
        "",
        "static const dram_rule DRAM_RULES[DRAM_NRULES] = {",
    ]
    for r in RULES:
        prev = sum(1 << CMDS.index(c) for c in r.prev)
        nxt = sum(1 << CMDS.index(c) for c in r.nxt)
        lines.append(f"    [DRAM_RULE_{r.name}] = {{0x{prev:02X}, 0x{nxt:02X}, "
                     f"DRAM_SCOPE_{r.scope.upper()}, {r.window}}},")
    lines += ["};", "", "#endif", ""]
    return "\n".join(lines)


def markdown_table() -> str:
    """The rules table of docs/dram.md."""
    out = ["| rule | after | before | scope | at least | meaning |", "|---|---|---|---|---|---|"]
    for r in RULES:
        gap = f"{r.window} ACTs per {r.gap}" if r.window else r.gap
        out.append(f"| {r.name} | {', '.join(r.prev)} | {', '.join(r.nxt)} | {r.scope} | "
                   f"{gap} | {r.doc} |")
    for name, doc in CHECKS.items():
        out.append(f"| {name} | | | channel | | {doc} |")
    return "\n".join(out) + "\n"
