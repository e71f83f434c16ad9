"""Shared by the scripts that regenerate tests/data/xval/<sim>.json from a built simulator.

Each script writes the simulator's config and request trace for every workload of
pimisa.xval from pimisa's own preset numbers, runs the simulator (given the path where it was
built, outside the repository), reads the issue cycle of every DRAM command it reports and
records the cycle count with its provenance. The cycle count of a run is the end of the last
command up to the last column command (RD issue + CL + nBL, WR + CWL + nBL, PRE + tRP,
REF + tRFC, REFpb + tRFCpb, any other + 1), counted from the simulator's first command: the
rule pimisa uses for `cycles` (its first command issues at cycle 0), applied to the
simulator's schedule.
Maintenance commands a simulator issues after the stream has ended are not counted, nor the
cycles a request takes to reach its controller's queue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from pimisa.arch import Arch
from pimisa.xval import REFERENCE_DIR

Command = tuple[int, str]  # (issue cycle in tCK, "ACT" | "PRE" | "RD" | "WR" | "REF" | "REFpb")


def end_cycle(commands: Iterable[Command], arch: Arch) -> int:
    """End of the last command up to the last column command, from the first command."""
    t = arch.timing
    done = {"RD": t.CL + t.nBL, "WR": t.CWL + t.nBL, "PRE": t.tRP, "REF": t.tRFC,
            "REFpb": t.tRFCpb}
    cmds = list(commands)
    last = max(i for i, (_, name) in enumerate(cmds) if name in ("RD", "WR"))
    return max(cycle + done.get(name, 1) for cycle, name in cmds[:last + 1]) - cmds[0][0]


def sha256(text: str) -> str:
    """Hex digest of a trace or config text, recorded as provenance."""
    return hashlib.sha256(text.encode()).hexdigest()


def parser(description: str) -> argparse.ArgumentParser:
    """The common command line: --sim DIR (the built simulator), --commit, --only."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--sim", type=Path, required=True, help="directory the simulator was built in")
    p.add_argument("--commit", required=True, help="the simulator's git commit that was built")
    p.add_argument("--only", nargs="*", help="workloads to re-run (default: all of this sim)")
    return p


def write_references(sim: str, meta: dict[str, object],
                     workloads: dict[str, dict[str, object]]) -> Path:
    """Merge `workloads` into tests/data/xval/<sim>.json (meta replaced) and write it."""
    path = REFERENCE_DIR / f"{sim}.json"
    old = json.loads(path.read_text())["workloads"] if path.exists() else {}
    doc = dict(meta, workloads={**old, **workloads})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return path
