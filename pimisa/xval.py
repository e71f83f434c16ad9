"""Cross-validation of the DRAM scheduler against DRAMsim3, Ramulator 2 and PIMSimulator.

Each workload is a single-channel pimisa command stream (`ld` = RD, `st` = WR) chosen to make
one group of timing rules bind. pimisa schedules it here; the same requests were run through
the real simulators, built from their public sources and configured with pimisa's own numbers
and an in-order, one-request-at-a-time policy (pimisa's policy), by `scripts/xval/*.py`, which
record each simulator's cycle count with its provenance in `tests/data/xval/<sim>.json`.
`compare` puts the two side by side; `tests/test_dram_xval.py` holds pimisa to them, and
`markdown` is the comparison table of docs/dram.md. Where pimisa and a simulator differ on
purpose, or pimisa has a known error not fixed yet, the DEVIATIONS table says so and why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimisa.arch import Arch, load_arch
from pimisa.dram import time_launch
from pimisa.encoding import encode
from pimisa.isa import ALL_BANKS, RECORD_DTYPE
from pimisa.program import KernelMeta, Program, Region

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "xval"

Request = tuple[bool, int, int, int]  # (is_write, bank (-1: all-bank), unit row, column)


@dataclass(frozen=True)
class Workload:
    """A request stream on one channel of `preset` (with `timing` overrides)."""

    name: str
    preset: str
    rules: str  # the rules the stream makes bind
    requests: tuple[Request, ...]
    timing: tuple[tuple[str, int], ...] = ()

    def arch(self) -> Arch:
        """The preset with this workload's timing overrides."""
        arch = load_arch(self.preset)
        if not self.timing:
            return arch
        return dataclasses.replace(arch, timing=dataclasses.replace(arch.timing,
                                                                    **dict(self.timing)))

    def digest(self) -> str:
        """SHA-256 of what the simulators ran (the preset's numbers with the overrides, the
        requests): a recorded reference whose digest differs is stale. The ALU's lane width is
        not something a DRAM simulator runs, so it is left out."""
        arch = self.arch()
        geometry = dataclasses.asdict(arch.geometry)
        geometry.pop("lane_bits")
        text = json.dumps([geometry, arch.timing.scheduled(),
                           list(self.requests)])
        return hashlib.sha256(text.encode()).hexdigest()

    def program(self) -> Program:
        """The stream as a pimisa program (one `ld` / `st` per request)."""
        recs = [encode("st", {"ra": 0, "row": row, "col": col},
                       bank=ALL_BANKS if bank < 0 else bank) if write else
                encode("ld", {"rd": 0, "row": row, "col": col},
                       bank=ALL_BANKS if bank < 0 else bank)
                for write, bank, row, col in self.requests]
        top = max(row for _, _, row, _ in self.requests) + 1
        return Program(np.array(recs, dtype=RECORD_DTYPE),
                       KernelMeta(name=self.name, regions=[Region("xval", "input", 0, top)]),
                       lane_bits=self.arch().geometry.lane_bits)


def pimisa_cycles(workload: Workload) -> int:
    """pimisa's cycle count for the workload (end of its last command, in the preset's tCK)."""
    return time_launch(workload.program(), workload.arch()).cycles


def _hits(write: bool, banks: list[int], n: int, cols: int = 32) -> tuple[Request, ...]:
    """`n` row hits cycling over `banks` (row 0), never the same address twice in a row."""
    return tuple((write, banks[i % len(banks)], 0, (i // len(banks)) % cols) for i in range(n))


def _switches(pattern: str, per_row: int, rows: int, bank: int = 0) -> tuple[Request, ...]:
    """`rows` rows of one bank in turn, `per_row` requests each; pattern 'R', 'W' or 'RW'."""
    return tuple((pattern[i % len(pattern)] == "W", bank, r, i) for r in range(rows)
                 for i in range(per_row))


def _turnaround(rd_bank: int, wr_bank: int, n: int) -> tuple[Request, ...]:
    """Alternating RD (rd_bank) and WR (wr_bank), row hits after the first two."""
    return tuple((i % 2 == 1, wr_bank if i % 2 else rd_bank, 0, i % 32) for i in range(n))


def _act_burst(rounds: int) -> tuple[Request, ...]:
    """One RD to each of the 16 banks, bank groups interleaved, a new row every round."""
    order = [g * 4 + b for b in range(4) for g in range(4)]
    return tuple((False, bank, r, 0) for r in range(rounds) for bank in order)


def _mixed(n: int, seed: int = 7) -> tuple[Request, ...]:
    """A seeded random mix over 4 banks in 2 bank groups, 3 rows, reads and writes."""
    rng = np.random.default_rng(seed)
    banks, rows, writes = rng.integers(0, 4, n), rng.integers(0, 3, n), rng.random(n) < 0.4
    return tuple((bool(w), int([0, 1, 4, 5][b]), int(r), i % 32)
                 for i, (b, r, w) in enumerate(zip(banks, rows, writes, strict=True)))


def pim_add(elements: int) -> tuple[Request, ...]:
    """PIMSimulator's element-wise ADD compute phase on one channel (`executeEltwise(ADD)`):
    per tile of 8 column words and per half (even banks, then odd banks of every 2-bank unit),
    8 all-bank reads of input 0 (row 0), 8 of input 1 (row 128), 8 writes of the result
    (row 256); 16 FP16 per 32-byte word, 16 banks. The odd half is unit row `rows + r`."""
    tiles = elements // (16 * 16 * 8)
    half_rows = load_arch("hbm2-pim").geometry.rows
    out: list[Request] = []
    for tile in range(tiles):
        row, col = divmod(8 * tile, 32)
        for half in range(2):
            for write, base in ((False, 0), (False, 128), (True, 256)):
                out += [(write, -1, half * half_rows + base + row, col + j) for j in range(8)]
    return tuple(out)


PER_BANK = "hbm3:refresh=per-bank"
FAW_TIMING = (("tRCD_RD", 3), ("tRCD_WR", 3), ("tRRD_S", 6), ("tRRD_L", 8), ("tFAW", 40))

WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("row_hit_rd", "hbm3", "tRCD_RD, tCCD_L (same bank)", _hits(False, [0], 256)),
    Workload("row_hit_wr", "hbm3", "tRCD_WR, tCCD_L (same bank)", _hits(True, [0], 256)),
    Workload("row_switch_rd_trc", "hbm3", "tRC, tRAS, tRP (one RD per row)",
             _switches("R", 1, 64)),
    Workload("row_switch_rd", "hbm3", "tRTP, tRP, tRCD_RD (4 RD per row)",
             _switches("R", 4, 48)),
    Workload("row_switch_wr", "hbm3", "tWR, tRP, tRCD_WR (4 WR per row)",
             _switches("W", 4, 48)),
    Workload("row_switch_rw", "hbm3", "tRTW, tWTR_L, tWR (RD/WR per row)",
             _switches("RW", 4, 48)),
    Workload("same_bg_banks_rd", "hbm3", "tCCD_L across banks of one bank group",
             _hits(False, [0, 1, 2, 3], 256)),
    Workload("bg_round_robin_rd", "hbm3", "tCCD_S (RD across bank groups)",
             _hits(False, [0, 4, 8, 12], 256)),
    Workload("bg_round_robin_wr", "hbm3", "tCCD_S (WR across bank groups)",
             _hits(True, [0, 4, 8, 12], 256)),
    Workload("act_burst_faw", "hbm3", "tRRD_S, tRRD_L, tFAW, tRC (tRCD 3, tFAW 40)",
             _act_burst(8), FAW_TIMING),
    Workload("rd_wr_same_bank", "hbm3", "tRTW, tWTR_L (one bank)", _turnaround(0, 0, 128)),
    Workload("rd_wr_same_bg", "hbm3", "tRTW, tWTR_L (two banks, one bank group)",
             _turnaround(0, 1, 128)),
    Workload("rd_wr_cross_bg", "hbm3", "tRTW, tWTR_S (two bank groups)",
             _turnaround(0, 4, 128)),
    Workload("refresh_rd", "hbm3", "tREFI, tRFC, refresh PRE (row hits over 2.6 tREFI)",
             _hits(False, [0], 4096)),
    Workload("refresh_row_switch", "hbm3", "refresh between row switches (2 tREFI)",
             _switches("R", 4, 160)),
    Workload("mixed", "hbm3", "every rule above, random order (seeded)", _mixed(400)),
    Workload("refpb_rd", PER_BANK, "tREFIpb, tRFCpb, REFpb PRE (row hits over 10 tREFIpb)",
             _hits(False, [0], 1024)),
    Workload("refpb_bg_round_robin_rd", PER_BANK,
             "tREFIpb, tRFCpb, REFpb PRE in 4 bank groups (over 14 tREFIpb)",
             _hits(False, [0, 4, 8, 12], 2048)),
    Workload("refpb_act_burst", PER_BANK, "tRREFD, tRFCpb among ACT bursts (tRRD_S, tFAW)",
             _act_burst(32)),
    Workload("refpb_row_switch", PER_BANK, "REFpb between row switches (8 tREFIpb)",
             _switches("R", 4, 48)),
    Workload("pim_add_16384", "hbm2-pim", "PIMSimulator ADD, 16384 elements per channel",
             pim_add(16384)),
    Workload("pim_add_65536", "hbm2-pim", "PIMSimulator ADD, 65536 elements per channel",
             pim_add(65536)),
)}

SIMULATORS = ("dramsim3", "ramulator2", "pimsim")
TOLERANCE = {"dramsim3": 0.01, "ramulator2": 0.01, "pimsim": 0.05}
TITLES = {"dramsim3": "DRAMsim3", "ramulator2": "Ramulator 2", "pimsim": "PIMSimulator"}


@dataclass(frozen=True)
class Deviation:
    """A recorded difference: `kind` 'design' (pimisa differs on purpose, the ratio must stay
    in [low, high]) or 'error' (a pimisa error not fixed yet: the ratio must stay outside the
    tolerance and in [low, high], so the entry has to go when the fix lands)."""

    kind: str
    rule: str
    why: str
    low: float
    high: float


DEVIATIONS: dict[tuple[str, str], Deviation] = {
    ("dramsim3", "row_switch_rd_trc"): Deviation(
        "design", "tRC", "DRAMsim3 has no tRC parameter and derives tRC = tRAS + tRP (71); the "
        "preset's tRC is 72, one cycle more per row switch", 1.012, 1.016),
    ("ramulator2", "row_switch_rd"): Deviation(
        "design", "half-cycle ACT", "Ramulator's HBM3 ticks half cycles: ACT takes 1.5 tCK on "
        "the row bus and the RD after it waits for a rising edge, one cycle more per row "
        "switch where tRP and tRCD bind (48 rows: 48 cycles)", 0.980, 0.995),
    ("ramulator2", "row_switch_wr"): Deviation(
        "design", "half-cycle ACT", "as for row_switch_rd (48 rows: 48 cycles)", 0.980, 0.995),
    ("ramulator2", "refresh_row_switch"): Deviation(
        "design", "half-cycle ACT", "as for row_switch_rd (160 rows: 160 cycles)", 0.980,
        0.995),
    ("ramulator2", "refpb_act_burst"): Deviation(
        "design", "REFpb timing", "Ramulator's refresh manager sends a due REFpb at the due "
        "tick with priority (HBM34PerBankRefresh::tick, priority_send), so its PRE and the "
        "REFpb issue inside another request's ACT -> RD wait and their order with the "
        "request's own PRE changes; pimisa refreshes between PIM commands (the first at 442 "
        "against Ramulator's 416, and the bank's next ACT tRFCpb after it). With a row miss "
        "per request, every REFpb meets one; plus the half-cycle ACT (512 ACTs)", 0.930, 0.945),
    ("pimsim", "pim_add_65536"): Deviation(
        "design", "refresh", "PIMSimulator issues REF the cycle after the PRE that closes the "
        "rows (src/CommandQueue.cpp line 416: a REF is always issuable; process_refresh, line "
        "168, waits only until no bank is active, and a precharging one is not), where pimisa "
        "waits tRP: 13 cycles more for each of the 2 refreshes; and its refresh is due tREFI "
        "after its own start, 207 cycles before the compute phase", 1.0, 1.01),
}


def references(sim: str, root: Path = REFERENCE_DIR) -> dict[str, object]:
    """The recorded reference file of `sim` (tests/data/xval/<sim>.json)."""
    return json.loads((root / f"{sim}.json").read_text())


@dataclass(frozen=True)
class Row:
    """One workload compared with one simulator."""

    sim: str
    workload: str
    pimisa: int
    reference: int
    deviation: Deviation | None

    @property
    def ratio(self) -> float:
        """pimisa cycles / simulator cycles."""
        return self.pimisa / self.reference

    def problem(self) -> str | None:
        """Why this row breaks the cross-validation contract, or None."""
        tol = TOLERANCE[self.sim]
        within = abs(self.ratio - 1) <= tol
        where = f"{self.sim} {self.workload}: pimisa {self.pimisa}, {self.sim} {self.reference}"
        dev = self.deviation
        if dev is None:
            return None if within else f"{where}, ratio {self.ratio:.4f} beyond {tol:.0%}"
        if dev.kind == "error" and within:
            return (f"{where}: the known {dev.rule} deviation is gone (ratio {self.ratio:.4f}); "
                    "remove it from pimisa.xval.DEVIATIONS")
        if not dev.low <= self.ratio <= dev.high:
            return (f"{where}: ratio {self.ratio:.4f} outside the recorded {dev.rule} deviation "
                    f"[{dev.low}, {dev.high}]")
        return None


def compare(sim: str, root: Path = REFERENCE_DIR) -> list[Row]:
    """Every recorded workload of `sim` next to pimisa's cycle count."""
    refs = references(sim, root)["workloads"]
    assert isinstance(refs, dict)
    return [Row(sim, name, pimisa_cycles(WORKLOADS[name]), int(ref["cycles"]),
                DEVIATIONS.get((sim, name))) for name, ref in refs.items()]


def markdown(root: Path = REFERENCE_DIR) -> str:
    """The cross-validation tables of docs/dram.md (one per simulator)."""
    out: list[str] = []
    for sim in SIMULATORS:
        if not (root / f"{sim}.json").exists():
            continue
        doc = references(sim, root)
        out += [f"**{TITLES[sim]}** {doc['version']} (commit `{str(doc['commit'])[:12]}`): "
                f"{doc['setup']} Target: within {TOLERANCE[sim]:.0%}.", "",
                "| workload | preset | rules | pimisa cycles | simulator cycles | ratio | note |",
                "|---|---|---|---|---|---|---|"]
        for row in compare(sim, root):
            w = WORKLOADS[row.workload]
            dev = row.deviation
            note = f"{dev.kind} ({dev.rule}): {dev.why}" if dev else ""
            out.append(f"| {w.name} | {w.preset} | {w.rules} | {row.pimisa} | "
                       f"{row.reference} | {row.ratio:.3f} | {note} |")
        out.append("")
    return "\n".join(out)
