"""Record PIMSimulator's FP16 GEMV cycles in tests/data/xval/pimsim_fp16.json.

    python scripts/xval/pimsim_fp16.py --sim /path/to/PIMSimulator --commit HASH \\
        --driver /path/to/pimsim_gemv

Our driver pimsim_gemv (scripts/xval/pimsim_gemv.cpp, built like pimsim_add: docs/dram.md)
runs PIMSimulator's `preloadGemv` + `executeGemv(is_tree = false)` on one channel for an
OUT x IN FP16 weight matrix, with the simulator's own HBM2 ini and its system ini with
DEBUG_CMD_TRACE on. The compute phase is channel 0's commands from the ACT of the first MAC
to the end of the last GRFB_TO_BANK write (the partial sums written back), all-bank copies
merged; the kernel cycles are executeGemv's whole run (mode changes and parking included).
tests/test_fp16_kernels.py compares the bundled fp16_gemv (and fp16_add with pimsim.json's
ADD, scripts/xval/pimsim.py) with them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from common import end_cycle, parser, sha256, write_references
from pimsim import ANSI, NAMES, _workdir

from pimisa.arch import load_arch

LINE = re.compile(r"^(ACTIVATE|READ|WRITE|PRECHARGE|REF) ch0 .*?@ ?(\d+)(?: tag : (\w*))?")
TOTAL = re.compile(r"xval total cycles (\d+)")
GEMVS = {"gemv_64x256": (64, 256), "gemv_64x1024": (64, 1024)}  # one channel: 8 units x 8
SETUP = ("its own HBM2 ini and controller; our one-channel driver running `preloadGemv` + "
         "`executeGemv` (no adder tree) for OUT x IN FP16 weights; cycles: the compute phase "
         "(first MAC's ACT to the end of the last GRFB_TO_BANK write), kernel_cycles: the "
         "whole executeGemv.")
def gemv_phase(text: str) -> list[tuple[int, str]]:
    """Channel 0's commands of the GEMV compute phase (see the module docstring)."""
    cmds: list[tuple[int, str, str]] = []
    for line in ANSI.sub("", text).splitlines():
        m = LINE.search(line)
        if m:
            cmds.append((int(m.group(2)), NAMES[m.group(1)], m.group(3) or ""))
    start = next(i for i, c in enumerate(cmds) if c[2] == "MAC_")
    last_wb = max(i for i, c in enumerate(cmds) if c[2] == "GRFB_TO_BANK_")
    end = next((i for i in range(last_wb + 1, len(cmds)) if cmds[i][1] == "ACT"), len(cmds))
    return sorted({(c, n) for c, n, _ in cmds[start:end]})


def run(driver: Path, sim: Path, out: int, inp: int) -> dict[str, object]:
    """The reference entry of one GEMV size."""
    with tempfile.TemporaryDirectory() as tmp:
        _workdir(sim, Path(tmp))
        text = subprocess.run([str(driver), str(out), str(inp)], cwd=tmp, capture_output=True,
                              text=True, check=True).stdout
        ini = (Path(tmp) / "ini" / "HBM2_samsung_2M_16B_x64.ini").read_text()
    total = TOTAL.findall(text)
    if not total:
        sys.exit(f"pimsim_gemv {out} {inp} printed no cycle count")
    phase = gemv_phase(text)
    return {"cycles": end_cycle(phase, load_arch("hbm2-pim")), "commands": len(phase),
            "kernel_cycles": int(total[-1]), "run": f"pimsim_gemv {out} {inp}",
            "config": {"ini": "ini/HBM2_samsung_2M_16B_x64.ini"}, "config_sha256": sha256(ini),
            "trace_sha256": sha256(ANSI.sub("", text))}


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--driver", type=Path, required=True, help="the compiled pimsim_gemv")
    args = p.parse_args()
    results = {name: run(args.driver, args.sim, *dims) for name, dims in GEMVS.items()
               if not args.only or name in args.only}
    path = write_references("pimsim_fp16", {"tool": "PIMSimulator",
                                            "version": "1.0 (SAITPublic)",
                                            "commit": args.commit, "setup": SETUP}, results)
    for name, ref in results.items():
        print(f"{name}: {ref['cycles']} cycles ({ref['run']})")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
