"""Regenerate tests/data/xval/pimsim.json: the element-wise ADD of Samsung's PIMSimulator.

    python scripts/xval/pimsim.py --sim /path/to/PIMSimulator --commit HASH \\
        --driver /path/to/pimsim_add

Our driver pimsim_add (scripts/xval/pimsim_add.cpp: the `executeEltwise(ADD)` call of
PIMSimulator's PIMBenchFixture.add test on one channel) runs 16384 and 65536 elements per
channel with the simulator's own HBM2 ini (HBM2_samsung_2M_16B_x64.ini, the source of pimisa's
hbm2-pim preset), its own controller and its system ini with DEBUG_CMD_TRACE and
SHOW_SIM_OUTPUT on, on 256 MB per channel: one rank, the preset's pseudo-channel. First the
script checks that the driver reproduces the simulator's own test binary
(`sim --gtest_filter=PIMBenchFixture.add`, 1M FP16 elements over 64 channels, 16384 per
channel, 512 MB per channel, so two ranks) with `pimsim_add 16384 512`, cycle for cycle; at
this commit the test exits 1 because its own speed-up check, > 2.0 over the non-PIM run, fails
at 1.986. The compute phase (`computeAddOrMul`) is the run of DRAM commands of channel 0
between the ACT of row 0x3fff that enables PIM mode and the one that disables it; an all-bank
command is printed once per bank and counted once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import end_cycle, parser, sha256, write_references

from pimisa.xval import TITLES, WORKLOADS

LINE = re.compile(r"^(ACTIVATE|READ|WRITE|PRECHARGE|REF) ch(\d+) ra\d+(?: bg\d+ b\d+ r(\d+))?"
                  r".*?@ ?(\d+)")
TOTAL = re.compile(r"(?:> Cycle :|xval total cycles) (\d+)")  # the whole kernel, mode changes too
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NAMES = {"ACTIVATE": "ACT", "READ": "RD", "WRITE": "WR", "PRECHARGE": "PRE", "REF": "REF"}
MODE_ROW = 0x3FFF  # PIM configuration / mode-change row
MEGS = 256  # one rank of the ini's organisation per channel: the hbm2-pim pseudo-channel
OWN_TEST = "sim --gtest_filter=PIMBenchFixture.add"
SETUP = ("its own HBM2 ini and controller (its policy, not pimisa's: a 64-entry command queue), "
         "one channel of one rank (256 MB, the preset's pseudo-channel); the compute phase of "
         "`executeEltwise(ADD)`, run by our driver, which reproduces the simulator's own "
         "PIMBenchFixture.add (512 MB, two ranks per channel) cycle for cycle.")


def compute_phase(text: str) -> list[tuple[int, str]]:
    """Channel 0's commands between PIM-mode enable and disable, all-bank copies merged."""
    cmds: list[tuple[int, str, int]] = []
    for line in ANSI.sub("", text).splitlines():
        m = LINE.search(line)
        if not m or m.group(2) != "0":
            continue
        row = int(m.group(3)) if m.group(3) else -1
        cmds.append((int(m.group(4)), NAMES[m.group(1)], row))
    # the last PIM run: ACT of the mode row to enable PIM mode, compute, ACT to disable it
    marks = [i for i, (_, name, row) in enumerate(cmds) if row == MODE_ROW and name == "ACT"]
    first, last = marks[-2], marks[-1]
    phase = [(c, n) for c, n, row in cmds[first + 1:last] if row != MODE_ROW]
    merged = sorted(set(phase))
    while merged and merged[0][1] == "PRE":  # closing the mode row belongs to the mode change
        merged.pop(0)
    return merged


def _workdir(sim: Path, tmp: Path) -> None:
    """The simulator's ini files (command trace on) and data in a scratch directory."""
    shutil.copytree(sim / "ini", tmp / "ini")
    (tmp / "data").symlink_to(sim / "data")
    for ini in sim.glob("system_hbm*.ini"):
        text = re.sub(r"^(DEBUG_CMD_TRACE|SHOW_SIM_OUTPUT)=\w+", r"\1=true", ini.read_text(),
                      flags=re.M)
        (tmp / ini.name).write_text(text)


def run(cmd: list[str], name: str, sim: Path, megs: int) -> dict[str, object]:
    """Run `cmd` (`megs` MB per channel) in a scratch directory; the reference entry of
    workload `name`."""
    with tempfile.TemporaryDirectory() as tmp:
        _workdir(sim, Path(tmp))
        # PIMBenchFixture.add exits 1 at this commit (its speed-up check); counts are checked
        out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True).stdout
        ini = (Path(tmp) / "ini" / "HBM2_samsung_2M_16B_x64.ini").read_text()
    w = WORKLOADS[name]
    totals = TOTAL.findall(ANSI.sub("", out))  # the test prints PIM off, then PIM on
    if not totals:
        sys.exit(f"pimsim {name}: `{' '.join(cmd)}` printed no cycle count")
    phase = compute_phase(out)
    counts = {n: sum(1 for _, c in phase if c == n) for n in ("RD", "WR")}
    expect = {"RD": sum(1 for r in w.requests if not r[0]), "WR": sum(1 for r in w.requests
                                                                     if r[0])}
    if counts != expect:
        sys.exit(f"pimsim {name}: compute phase has {counts} column commands, expected {expect}")
    return {"cycles": end_cycle(phase, w.arch()), "commands": len(phase),
            "kernel_cycles": int(totals[-1]), "workload_sha256": w.digest(),
            "run": " ".join(Path(c).name for c in cmd),
            "config": {"ini": "ini/HBM2_samsung_2M_16B_x64.ini", "megabytes_per_channel": megs},
            "config_sha256": sha256(ini)}


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--driver", type=Path, required=True, help="the compiled pimsim_add")
    args = p.parse_args()
    own = run([str(args.sim / "sim"), OWN_TEST.split()[1]], "pim_add_16384",
              args.sim, 512)
    same = run([str(args.driver), "16384", "512"], "pim_add_16384", args.sim, 512)
    if (same["cycles"], same["kernel_cycles"]) != (own["cycles"], own["kernel_cycles"]):
        sys.exit("pimsim: the driver (512 MB per channel) and PIMBenchFixture.add disagree")
    results = {name: run([str(args.driver), str(n), str(MEGS)], name, args.sim, MEGS)
               for name, n in (("pim_add_16384", 16384), ("pim_add_65536", 65536))
               if not args.only or name in args.only}
    for name, ref in results.items():
        print(f"{name}: {ref['cycles']} cycles ({ref['run']})")
    check = {"run": OWN_TEST, "cycles": own["cycles"], "kernel_cycles": own["kernel_cycles"],
             "reproduced_by": "pimsim_add 16384 512"}
    path = write_references("pimsim", {"tool": TITLES["pimsim"], "version": "1.0 (SAITPublic)",
                                       "commit": args.commit, "setup": SETUP,
                                       "own_test": check}, results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
