"""Independent checker of DRAM schedules: every rule of the timing table, from the trace alone.

It shares no code with the scheduler (cext/dram_core.c, pimisa.dram.core, .reference) but the
rules table (pimisa.dram.rules: which rules, their gaps and docs): it reads a trace in the CSV
format of `pimisa time --trace-csv` and checks every command with numpy, channel by channel,
bank group by bank group and bank by bank, each over the commands that touch it (an all-bank
command touches every bank). Each violation names both commands by CSV line.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pimisa.arch import Arch
from pimisa.dram import rules
from pimisa.dram.rules import CHECKS
from pimisa.dram.rules import RULES as TABLE
from pimisa.dram.tracefile import (
    COLUMNS,
    NAME_COLUMNS,
    TraceHeader,
    resolve_arch,
    split_header,
)
from pimisa.errors import InputError
from pimisa.fileio import read_regular

HEADER = ",".join(COLUMNS).encode()
NAMES = ("ACT", "PRE", "REF", "RD", "WR", "OP", "REFpb")
ACT, PRE, REF, RD, WR, OP, REFPB = range(7)
ALL = -1  # bank of an all-bank command and of REF
# With k > 1 banks per PIM unit, bank -2 - p is an all-bank command to part p of every unit
# (bank unit x k + p): with k = 2, -2 the even banks and -3 the odd ones.
PART_NAMES = {ALL: "all banks", -2: "even banks", -3: "odd banks"}
FIRST_LINE = 2  # the line of the first command without a '# pimisa-trace' comment

# Every rule the checker verifies, with its one-line doc (the gap rules from the table).
RULES = {r.name: r.doc for r in TABLE} | CHECKS
GAP_RULES = [r for r in TABLE if not r.window]
CODES = {name: i for i, name in enumerate(NAMES)}


def rule_gaps(arch: Arch) -> dict[str, int]:
    """Minimum gap in cycles of each timing rule for the preset (the rules table's formulas)."""
    return rules.gaps(arch)


@dataclass
class Trace:
    """A schedule as columns (int64), in file order: command i is on CSV line i + first_line;
    `header` is the trace's preset comment, if it has one."""

    cycle: np.ndarray
    channel: np.ndarray
    bank: np.ndarray
    cmd: np.ndarray
    row: np.ndarray
    col: np.ndarray
    first_line: int = FIRST_LINE
    header: TraceHeader | None = None

    @classmethod
    def from_columns(cls, table: np.ndarray, first_line: int = FIRST_LINE,
                     header: TraceHeader | None = None) -> Trace:
        """From an (N, 6) integer table in CSV column order."""
        table = np.asarray(table, dtype=np.int64).reshape(-1, 6)
        return cls(*(np.ascontiguousarray(table[:, i]) for i in range(6)), first_line, header)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the later command's line, the earlier one's (0: none), what broke."""

    rule: str
    line: int
    other: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass
class CheckResult:
    """The first violations (by line) and how many there are in all."""

    commands: int
    channels: int
    total: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the schedule satisfies every rule."""
        return self.total == 0

    def rules_broken(self) -> set[str]:
        """Names of the rules among the reported violations."""
        return {v.rule for v in self.violations}


def _slow_parse(lines: list[bytes], where: str, first_line: int, named: bool) -> np.ndarray:
    """Parse line by line, raising InputError at the first malformed line (of the first six
    columns; the name columns are pimisa.dram.tracefile.parse_names' business)."""
    table = np.empty((len(lines), 6), dtype=np.int64)
    for i, raw in enumerate(lines):
        parts = raw.rstrip(b"\r").split(b",", 6 if named else -1)[:7]
        if named and len(parts) == 7:
            parts.pop()
        lineno = i + first_line
        if len(parts) != 6 or (named and raw.count(b",") < 9):
            want = COLUMNS + (NAME_COLUMNS if named else ())
            raise InputError(f"{where}:{lineno}: expected {len(want)} fields "
                             f"({','.join(want)}), got {raw.count(b',') + 1}")
        name = parts[3].decode("utf-8", "replace")
        if name not in NAMES:
            raise InputError(f"{where}:{lineno}: unknown command {name!r} "
                             f"(one of {', '.join(NAMES)})")
        try:
            values = [int(p) for j, p in enumerate(parts) if j != 3]
        except ValueError:
            raise InputError(f"{where}:{lineno}: fields other than the command must be "
                             "integers") from None
        if any(abs(v) >= 1 << 62 for v in values):
            raise InputError(f"{where}:{lineno}: a field does not fit 62 bits")
        table[i] = values[:3] + [NAMES.index(name)] + values[3:]
    return table


def _enough_fields(body: bytes, count: int) -> bool:
    """Whether each of the `count` lines of `body` has at least the 10 fields of a named line
    (9 commas; a quoted source may hold more)."""
    raw = np.frombuffer(body, np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    commas = np.flatnonzero(raw == ord(","))
    per_line = np.bincount(np.searchsorted(ends, commas), minlength=count + 1)[:count]
    return bool((per_line >= len(COLUMNS) + len(NAME_COLUMNS) - 1).all())


def parse_trace_csv(data: bytes, where: str = "<trace>") -> Trace:
    """Parse trace CSV bytes (fast numpy path; a line-by-line pass locates any error)."""
    header, named, body, first_line = split_header(data, where)
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return Trace.from_columns(np.empty((0, 6), dtype=np.int64), first_line, header)
    if named and not _enough_fields(body, len(lines)):
        return Trace.from_columns(_slow_parse(lines, where, first_line, named), first_line,
                                  header)
    coded = body
    for code, name in enumerate(NAMES):
        coded = coded.replace(b"," + name.encode() + b",", b",%d," % code)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = np.loadtxt(io.BytesIO(coded), delimiter=",", dtype=np.int64, ndmin=2,
                               comments=None, usecols=range(6) if named else None,
                               quotechar='"' if named else None)
        fast_ok = table.shape == (len(lines), 6)
    except ValueError:
        fast_ok = False
    if not fast_ok:
        table = _slow_parse(lines, where, first_line, named)
    return Trace.from_columns(table, first_line, header)


def _validate(trace: Trace, arch: Arch, where: str) -> None:
    """InputError at the first command whose fields do not fit the preset."""
    g = arch.geometry
    k = trace.cmd
    lowest = -1 if g.banks_per_pim_unit == 1 else -1 - g.banks_per_pim_unit  # parts: -2 - k
    has_row = np.isin(k, (ACT, RD, WR))
    has_col = np.isin(k, (RD, WR))
    problems = [
        (trace.cycle < 0, "negative cycle"),
        (trace.channel < 0, "negative channel"),
        ((trace.bank < lowest) | (trace.bank >= g.banks),
         f"bank outside {lowest}..{g.banks - 1}"),
        ((k == REF) & (trace.bank != -1), "REF must name bank -1 (all banks)"),
        ((k == REFPB) & (trace.bank < 0), "REFpb must name one bank"),
        (has_row & ((trace.row < 0) | (trace.row >= g.rows)), f"row outside 0..{g.rows - 1}"),
        (has_col & ((trace.col < 0) | (trace.col >= g.cols)), f"col outside 0..{g.cols - 1}"),
    ]
    first = None
    for bad, reason in problems:
        idx = np.flatnonzero(bad)
        if idx.size and (first is None or idx[0] < first[0]):
            first = (int(idx[0]), reason)
    if first is not None:
        raise InputError(f"{where}:{first[0] + trace.first_line}: {first[1]} for {arch.name}")


def load_trace(path: str | Path, arch: Arch | str | Path | None = None) -> tuple[Trace, Arch]:
    """Read and validate a trace CSV file, with the preset to check it against: `arch` (which
    must be the one the trace's header names, if it has one), else the header's preset."""
    data = read_regular(path, "trace")
    trace = parse_trace_csv(data, str(path))
    resolved = resolve_arch(trace.header, arch, str(path))
    _validate(trace, resolved, str(path))
    return trace, resolved


def read_trace_csv(path: str | Path, arch: Arch) -> Trace:
    """Read and validate a trace CSV file of preset `arch`."""
    return load_trace(path, arch)[0]


def _last_before(mask: np.ndarray) -> np.ndarray:
    """For each position, the index of the last earlier position where mask holds, or -1."""
    idx = np.where(mask, np.arange(len(mask)), -1)
    out = np.full(len(mask), -1, dtype=np.int64)
    if len(mask) > 1:
        out[1:] = np.maximum.accumulate(idx)[:-1]
    return out


class _Collector:
    """Gathers violations as index pairs, removes duplicates, renders the first few."""

    def __init__(self, trace: Trace, gaps: dict[str, int]) -> None:
        self.trace = trace
        self.gaps = gaps
        self.pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.texts: list[Violation] = []

    def pairs_of(self, rule: str, later: np.ndarray, earlier: np.ndarray) -> None:
        """Record violations of `rule`: trace indices of the later and earlier commands."""
        if later.size:
            self.pairs.setdefault(rule, []).append((later, earlier))

    def gap(self, rule: str, idx: np.ndarray, cycles: np.ndarray, later: np.ndarray,
            earlier: np.ndarray) -> None:
        """Check cycle[later] - cycle[earlier] >= the rule's gap (positions in `idx`)."""
        sel = later & (earlier >= 0)
        pos = np.flatnonzero(sel)
        prev = earlier[pos]
        bad = cycles[pos] - cycles[prev] < self.gaps[rule]
        self.pairs_of(rule, idx[pos[bad]], idx[prev[bad]])

    def text(self, violation: Violation) -> None:
        """Record a violation whose message is already written (refresh rules)."""
        self.texts.append(violation)

    def _describe(self, i: int) -> str:
        t = self.trace
        name = NAMES[int(t.cmd[i])]
        bank = int(t.bank[i])
        where = f"bank {bank}" if bank >= 0 else PART_NAMES.get(bank, f"banks of part {-2 - bank}")
        if t.cmd[i] in (ACT, RD, WR):
            where += f" row {int(t.row[i])}"
        return f"{name} ({where}, cycle {int(t.cycle[i])})"

    def _message(self, rule: str, i: int, j: int) -> str:
        t = self.trace
        later, line_j = self._describe(i), j + t.first_line
        if rule == "row-open":
            if j < 0:
                return f"{later} but the bank was never opened"
            if t.cmd[j] == ACT:
                return f"{later} but line {line_j} opened row {int(t.row[j])}"
            return f"{later} but the bank was closed by line {line_j}"
        if rule == "bank-closed":
            return f"{later} but line {line_j} opened row {int(t.row[j])} and it is still open"
        if rule == "bus":
            return f"{later} not after line {line_j} (cycle {int(t.cycle[j])})"
        gap = int(t.cycle[i] - t.cycle[j])
        entry = rules.BY_NAME[rule]
        if entry.window:
            return (f"{later} makes more than {entry.window} ACTs (all-bank ACT = "
                    f"{entry.window}) within {self.gaps[rule]} cycles of line {line_j} "
                    f"(cycle {int(t.cycle[j])})")
        return (f"{later} is {gap} cycles after line {line_j}: {self._describe(j)}; "
                f"{rule} ({entry.gap}) needs {self.gaps[rule]}: {entry.doc}")

    def result(self, limit: int) -> CheckResult:
        """Deduplicated violations (all-bank commands are seen on every bank), first by line."""
        t = self.trace
        found: list[tuple[int, int, str]] = []
        total = len(self.texts)
        for rule, chunks in self.pairs.items():
            later = np.concatenate([a for a, _ in chunks])
            earlier = np.concatenate([b for _, b in chunks])
            pairs = np.unique(np.stack([later, earlier], axis=1), axis=0)
            total += len(pairs)
            found.extend((int(a), int(b), rule) for a, b in pairs[:limit])
        first = t.first_line
        violations = [Violation(rule, i + first, j + first if j >= 0 else 0,
                                self._message(rule, i, j)) for i, j, rule in found]
        violations += self.texts
        violations.sort(key=lambda v: (v.line, v.other, v.rule))
        channels = len(np.unique(t.channel))
        return CheckResult(len(t.cycle), channels, total, violations[:limit])


def _codes(names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(CODES[n] for n in names)


def _check_scope(scope: str, idx: np.ndarray, c: np.ndarray, k: np.ndarray,
                 out: _Collector) -> None:
    """Every gap rule of `scope` over the commands `idx` (in order) that share one unit of it."""
    for rule in GAP_RULES:
        if rule.scope == scope:
            out.gap(rule.name, idx, c, np.isin(k, _codes(rule.nxt)),
                    _last_before(np.isin(k, _codes(rule.prev))))


def _check_channel(idx: np.ndarray, trace: Trace, arch: Arch, out: _Collector) -> None:
    c, k, b, r = trace.cycle[idx], trace.cmd[idx], trace.bank[idx], trace.row[idx]
    g = arch.geometry
    per_group = g.banks // g.bank_groups
    order = np.flatnonzero(c[1:] <= c[:-1]) + 1
    out.pairs_of("bus", idx[order], idx[order - 1])
    _check_scope("channel", idx, c, k, out)
    wide = b < 0
    for group in range(g.bank_groups):
        sub = np.flatnonzero(wide | (b // per_group == group))
        _check_scope("group", idx[sub], c[sub], k[sub], out)
    for bank in range(g.banks):
        sub = np.flatnonzero((b == bank) | (b == -1) | (b == -2 - bank % g.banks_per_pim_unit))
        _check_scope("bank", idx[sub], c[sub], k[sub], out)
        sub = sub[k[sub] != OP]
        _check_rows(idx[sub], k[sub], r[sub], out)
    _check_window(idx, c, k, b, arch, out)
    t = arch.timing
    if t.per_bank:
        for bank in range(g.banks):  # each bank refreshed by its REFpbs (or a REF)
            _check_refresh(idx, c, (k == REF) | ((k == REFPB) & (b == bank)),
                           t.tREFIpb * g.banks, out, f"bank {bank}: ")
    elif t.tREFI:
        _check_refresh(idx, c, k == REF, t.tREFI, out)


def _check_rows(idx: np.ndarray, k: np.ndarray, r: np.ndarray, out: _Collector) -> None:
    """Row state of one bank, over the commands that touch it (its own and all-bank ones)."""
    act, pre = _last_before(k == ACT), _last_before(k == PRE)
    is_open = act > pre
    open_row = np.where(act >= 0, r[act], -1)
    access = (k == RD) | (k == WR)
    bad = np.flatnonzero(access & ~(is_open & (open_row == r)))
    earlier = np.where(is_open, act, pre)[bad]
    out.pairs_of("row-open", idx[bad], np.where(earlier >= 0, idx[earlier], -1))
    bad = np.flatnonzero(np.isin(k, (ACT, REF, REFPB)) & is_open)
    out.pairs_of("bank-closed", idx[bad], idx[act[bad]])


def _check_window(idx: np.ndarray, c: np.ndarray, k: np.ndarray, b: np.ndarray,
                  arch: Arch, out: _Collector) -> None:
    """The window rules (tFAW) over all ACTs of the channel; a multi-bank ACT fills one."""
    acts = np.flatnonzero(k == ACT)
    if not acts.size:
        return
    gaps = out.gaps
    for rule in (r for r in TABLE if r.window):
        span = gaps[rule.name]
        if not span:
            continue
        order = np.argsort(c[acts], kind="stable")
        ac = c[acts][order]
        weight = np.where(b[acts][order] < 0, rule.window, 1)
        before = np.concatenate([[0], np.cumsum(weight)])
        start = np.searchsorted(ac, ac - span, side="right")
        bad = np.flatnonzero(before[1:] - before[start] > rule.window)
        out.pairs_of(rule.name, idx[acts[order[bad]]], idx[acts[order[start[bad]]]])


def _check_refresh(idx: np.ndarray, c: np.ndarray, refreshed: np.ndarray, refi: int,
                   out: _Collector, what: str = "") -> None:
    """The refresh rate of one channel (or, `what` naming it, of one bank) over the cycles
    [0, last command]: `refreshed` marks the commands that refresh it."""
    refs = np.flatnonzero(refreshed)
    last = len(c) - 1
    first = out.trace.first_line
    lines = np.concatenate([[0], idx[refs] + first, [idx[last] + first]])
    points = np.concatenate([[0], c[refs], [c[last]]])
    for j in np.flatnonzero(np.diff(points) > 9 * refi):
        start = "the start" if j == 0 else f"REF on line {lines[j]}"
        end = "the last command" if j == len(refs) else "the next REF"
        out.text(Violation("refresh-gap", int(lines[j + 1]), int(lines[j]),
                           f"{what}{int(points[j + 1] - points[j])} cycles from {start} "
                           f"(cycle {int(points[j])}) to {end} (cycle {int(points[j + 1])}); "
                           f"at most 9 x tREFI = {9 * refi}"))
    # Windows (r_i, r_j) between REFs (or the start / end) hold j - i - 1 REFs over
    # T = r_j - r_i - 1 cycles; the rule holds for all i < j iff h_j - min(h_i) <= 8 tREFI
    # with h_m = r_m - m tREFI.
    r = np.concatenate([[-1], c[refs], [c[last] + 1]])
    h = r - np.arange(len(r)) * refi
    low = np.minimum.accumulate(h)
    for j in np.flatnonzero(h[1:] - low[:-1] > 8 * refi) + 1:
        i = int(np.argmin(h[:j]))
        span = int(r[j] - r[i] - 1)
        out.text(Violation("refresh-rate", int(lines[j]), int(lines[i]),
                           f"{what}{j - i - 1} REFs in the {span} cycles from cycle "
                           f"{int(r[i] + 1)} "
                           f"to {int(r[j] - 1)}; at least floor(T / tREFI) - 8 = "
                           f"{span // refi - 8} needed"))


def check_schedule(trace: Trace, arch: Arch, limit: int = 100) -> CheckResult:
    """Check a schedule against every rule; at most `limit` violations are rendered."""
    out = _Collector(trace, rule_gaps(arch))
    for channel in np.unique(trace.channel):
        _check_channel(np.flatnonzero(trace.channel == channel), trace, arch, out)
    return out.result(limit)


def check_trace_csv(path: str | Path, arch: Arch | str | Path | None = None,
                    limit: int = 100) -> CheckResult:
    """Read a trace CSV and check it against `arch`, by default the preset its header names
    (`pimisa check-trace`)."""
    trace, resolved = load_trace(path, arch)
    return check_schedule(trace, resolved, limit)
