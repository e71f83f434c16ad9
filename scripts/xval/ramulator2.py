"""Regenerate tests/data/xval/ramulator2.json: pimisa's workloads on Ramulator 2's HBM3.

    python scripts/xval/ramulator2.py --sim /path/to/ramulator2 --commit HASH \\
        --python /path/to/python-ramulator-was-built-for

Ramulator 2's controllers schedule FR-FCFS. To give it pimisa's policy, ramulator2_drive.py
(our driver) runs Ramulator's own HBM34 controller and HBM3 device through its test harness
and sends each request only after the previous one's RD / WR has issued, with read and write
buffers of one entry, so the scheduler never has two requests to choose from. The HBM3
device is its HBM3_4Gb organisation on one pseudo-channel with pimisa's rows, and its
HBM3_6400Mbps timing preset with every parameter pimisa has overridden by pimisa's number.
What stays Ramulator's own is its HBM3 model: half-cycle ticks (ACT takes 1.5 tCK, PRE and
REF may issue on a falling edge, column commands only on a rising one), separate row and
column command buses, and its timing-constraint table.
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import end_cycle, parser, sha256, write_references

from pimisa.arch import Arch
from pimisa.xval import TITLES, WORKLOADS, Workload, pimisa_cycles

NAMES = {"ACT": "ACT", "PREpb": "PRE", "PREab": "PRE", "RD": "RD", "WR": "WR", "REFab": "REF",
         "REFpb": "REFpb"}
TICKS_PER_CK = 2  # HBM3's tick_multiplier
SETUP = ("Ramulator's HBM34 controller and HBM3 device with pimisa's numbers, one "
         "pseudo-channel, FR-FCFS with one-entry read and write buffers fed one request at a "
         "time (each sent after the previous RD / WR issued), so it cannot reorder; open row; "
         "all-bank refresh every tREFI (on a per-bank refresh preset its HBM34PerBankRefresh: "
         "a REFpb to the next bank in turn every tREFIpb). Its HBM3 model keeps half-cycle row "
         "commands (ACT 1.5 tCK) and separate row and column buses.")
WORKLOAD_NAMES = [n for n in WORKLOADS if not n.startswith("pim_add_")]


def timing(arch: Arch) -> dict[str, int]:
    """Ramulator 2 HBM3 timing overrides: pimisa's numbers (the per-bank refresh ones on a
    per-bank refresh preset)."""
    t = arch.timing
    out = {"nBL": t.nBL, "nCL": t.CL, "nCWL": t.CWL, "nRCDRD": t.tRCD_RD, "nRCDWR": t.tRCD_WR,
           "nRP": t.tRP, "nRAS": t.tRAS, "nRC": t.tRC, "nWR": t.tWR, "nRTP": t.tRTP_L,
           "nCCDS": t.tCCD_S, "nCCDL": t.tCCD_L, "nRRDS": t.tRRD_S, "nRRDL": t.tRRD_L,
           "nFAW": t.tFAW, "nWTRS": t.tWTR_S, "nWTRL": t.tWTR_L, "nRTW": t.rtw,
           "nRFC": t.tRFC, "nREFI": t.tREFI, "nPPD": 1}
    if t.per_bank:
        out |= {"nRFCpb": t.tRFCpb, "nREFIpb": t.tREFIpb, "nRREFD": t.tRREFD}
    return out


def job(w: Workload) -> dict[str, object]:
    """The driver's input for one workload."""
    arch = w.arch()
    g = arch.geometry
    per_group = g.banks // g.bank_groups
    requests = [[write, {"BankGroup": bank // per_group, "Bank": bank % per_group, "Row": row,
                         "Column": col * 8}]  # Ramulator's HBM3 columns count BL8 beats
                for write, bank, row, col in w.requests]
    return {"org_preset": "HBM3_4Gb", "timing_preset": "HBM3_6400Mbps",
            "org": {"pseudochannel": 1, "row": g.rows}, "timing": timing(arch),
            "refresh": arch.timing.tREFI > 0, "requests": requests,
            "tick_limit": 4 * TICKS_PER_CK * pimisa_cycles(w) + 10_000} | (
                {"per_bank": True} if arch.timing.per_bank else {})


def run(w: Workload, args: object) -> dict[str, object]:
    """Run one workload through the driver; its reference entry."""
    text = json.dumps(job(w))
    out = subprocess.run([str(args.python), str(args.drive), str(args.sim)], input=text,
                         capture_output=True, text=True, check=True)
    cmds = [(clk / TICKS_PER_CK, NAMES[name]) for clk, name in json.loads(out.stdout)]
    cycles = end_cycle(cmds, w.arch())
    return {"cycles": int(cycles) if cycles == int(cycles) else cycles, "commands": len(cmds),
            "workload_sha256": w.digest(), "config": json.loads(text)["timing"],
            "config_sha256": sha256(text)}


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--python", required=True, help="the Python Ramulator 2 was built for")
    args = p.parse_args()
    from pathlib import Path

    args.drive = Path(__file__).with_name("ramulator2_drive.py")
    results = {}
    for name in args.only or WORKLOAD_NAMES:
        results[name] = run(WORKLOADS[name], args)
        print(f"{name}: {results[name]['cycles']} cycles", flush=True)
    path = write_references("ramulator2", {"tool": TITLES["ramulator2"], "version": "2.1",
                                           "commit": args.commit, "setup": SETUP}, results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
