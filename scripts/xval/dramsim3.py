"""Regenerate tests/data/xval/dramsim3.json: pimisa's workloads run through DRAMsim3.

DRAMsim3 must be built with its command trace (see docs/dram.md, "Cross-validation"):
    python scripts/xval/dramsim3.py --sim /path/to/DRAMsim3 --commit HASH
The .ini is pimisa's preset (HBM protocol, one channel, one rank); the controller is made
in-order with one request at a time: a unified transaction queue of 1, one per-rank command
queue of depth 1, no dual-command issue, no self refresh. DRAMsim3 has no tRC parameter (it
derives tRC = tRAS + tRP) and a single tRTP (pimisa's tRTP_L); tRTRS is set so that its
read-to-write gap RL + burst - WL + tRTRS equals pimisa's tRTW.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import end_cycle, parser, sha256, write_references

from pimisa.arch import Arch
from pimisa.xval import WORKLOADS, Workload, pimisa_cycles

NAMES = {"read": "RD", "write": "WR", "activate": "ACT", "precharge": "PRE", "refresh": "REF"}
SKIP = ("pim_add_",)
SETUP = ("pimisa's preset numbers in an HBM .ini, one channel and rank; in order, one request "
         "at a time (unified transaction queue 1, one per-rank command queue of depth 1, no "
         "dual command issue); all-rank refresh every tREFI; trace of all requests at cycle 0; "
         "cycles from its command trace (`-DCMD_TRACE`).")


def config(arch: Arch) -> dict[str, dict[str, object]]:
    """The .ini sections for `arch` (pimisa's numbers)."""
    t, g = arch.timing, arch.geometry
    per_group = g.banks // g.bank_groups
    columns = g.row_bytes * 8 // (64 * 2)  # DRAMsim3 HBM: columns x 2 x device_width bits
    megs = g.row_bytes * (g.rows // 1024) // 1024 * g.banks
    return {
        "dram_structure": {"protocol": "HBM", "bankgroups": g.bank_groups,
                           "banks_per_group": per_group, "rows": g.rows, "columns": columns,
                           "device_width": 64, "BL": 2 * t.nBL, "hbm_dual_cmd": "false"},
        "timing": {"tCK": t.tCK_ns, "AL": 0, "CL": t.CL, "CWL": t.CWL, "tRCDRD": t.tRCD_RD,
                   "tRCDWR": t.tRCD_WR, "tRP": t.tRP, "tRAS": t.tRAS, "tRTP": t.tRTP_L,
                   "tWR": t.tWR, "tCCD_S": t.tCCD_S, "tCCD_L": t.tCCD_L, "tRRD_S": t.tRRD_S,
                   "tRRD_L": t.tRRD_L, "tFAW": t.tFAW, "tWTR_S": t.tWTR_S, "tWTR_L": t.tWTR_L,
                   "tRTRS": t.rtw - (t.CL + t.nBL - t.CWL), "tRFC": t.tRFC, "tREFI": t.tREFI,
                   "tPPD": 0},
        "system": {"channel_size": megs, "channels": 1, "bus_width": 64,
                   "address_mapping": "rorabgbachco", "queue_structure": "PER_RANK",
                   "row_buf_policy": "OPEN_PAGE", "cmd_queue_size": 1, "trans_queue_size": 1,
                   "unified_queue": "true", "refresh_policy": "RANK_LEVEL_SIMULTANEOUS",
                   "enable_self_refresh": "false"},
        "other": {"epoch_period": 1 << 30, "output_level": 0},
    }


def ini_text(sections: dict[str, dict[str, object]]) -> str:
    """The .ini file."""
    return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
                   for name, keys in sections.items())


def trace_text(w: Workload) -> str:
    """Every request at cycle 0 (the queues admit them one at a time), rorabgbachco order."""
    g = w.arch().geometry
    per_group = g.banks // g.bank_groups
    lines = []
    for write, bank, row, col in w.requests:
        bg, ba = divmod(bank, per_group)
        addr = ((((row * g.bank_groups + bg) * per_group + ba) * g.cols) + col) * 32
        lines.append(f"0x{addr:x} {'WRITE' if write else 'READ'} 0\n")
    return "".join(lines)


def run(w: Workload, sim: Path) -> dict[str, object]:
    """Run one workload; its reference entry."""
    arch = w.arch()
    sections = config(arch)
    ini, trace = ini_text(sections), trace_text(w)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "x.ini").write_text(ini)
        (Path(tmp) / "x.trace").write_text(trace)
        budget = 3 * pimisa_cycles(w) + 10 * arch.timing.tRFC  # a bound; counts are checked
        subprocess.run([str(sim / "dramsim3main.out"), "x.ini", "-t", "x.trace", "-c",
                        str(budget), "-o", "."], cwd=tmp, check=True, capture_output=True)
        lines = (Path(tmp) / "dramsim3ch_0cmd.trace").read_text().split("\n")
    cmds = [(int(f[0]), NAMES[f[1]]) for f in (line.split() for line in lines) if f]
    counts = {n: sum(1 for _, c in cmds if c == n) for n in ("RD", "WR")}
    expect = {"RD": sum(1 for r in w.requests if not r[0]), "WR": sum(1 for r in w.requests
                                                                     if r[0])}
    if counts != expect:
        sys.exit(f"dramsim3 {w.name}: column commands {counts}, requests {expect}")
    return {"cycles": end_cycle(cmds, arch), "commands": len(cmds), "workload_sha256": w.digest(),
            "config": sections["timing"], "config_sha256": sha256(ini),
            "trace_sha256": sha256(trace)}


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    names = args.only or [n for n in WORKLOADS if not n.startswith(SKIP)]
    results = {}
    for name in names:
        results[name] = run(WORKLOADS[name], args.sim)
        print(f"{name}: {results[name]['cycles']} cycles", flush=True)
    path = write_references("dramsim3", {"tool": "DRAMsim3", "version": "1.0 (umd-memsys)",
                                         "commit": args.commit, "setup": SETUP}, results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
