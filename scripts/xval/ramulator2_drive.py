"""Drive Ramulator 2's own HBM3 controller in order, one request at a time (our driver).

Run by scripts/xval/ramulator2.py with the Python that Ramulator 2 was built for, from its
source tree: `python ramulator2_drive.py SIM_DIR < job.json > issued.json`. It builds the
HBM34 controller (FR-FCFS scheduler, open row, all-bank, per-bank or no refresh, read and
write buffers of one entry) through Ramulator's test harness `_ControllerUnderTest`, sends request
i + 1 only in the tick after request i's RD / WR issued, so FR-FCFS never sees two requests
and cannot reorder them, and prints every issued command as [tick, name].
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    sim = sys.argv[1]
    sys.path.insert(0, f"{sim}/python")
    import ramulator
    from ramulator._ramulator_test import _ControllerUnderTest

    job = json.load(sys.stdin)
    dram = ramulator.dram.HBM3(org_preset=job["org_preset"], timing_preset=job["timing_preset"],
                               **job["org"], **job["timing"])
    refresh = (ramulator.refresh_manager.HBM34PerBankRefresh() if job.get("per_bank")
               else ramulator.refresh_manager.AllBank() if job["refresh"]
               else ramulator.refresh_manager.NoRefresh())
    ctrl = ramulator.controller.HBM34(
        dram=dram, scheduler=ramulator.scheduler.FRFCFS(), refresh_manager=refresh,
        row_policy=ramulator.row_policy.Open(),
        addr_mapper=ramulator.addr_mapper.PassThroughAddrMapper(), controller_plugins=[],
        read_buffer_size=1, write_buffer_size=1)
    cut = _ControllerUnderTest(ctrl.to_config(), 1)
    levels = list(cut.level_names)
    types = {name: i for i, name in enumerate(type(dram).supported_requests)}
    issued: list[list[object]] = []
    ticks = 0
    for write, where in job["requests"]:
        vec = [where.get(name, 0) for name in levels]
        cut.send_request(types["Write" if write else "Read"], vec, 0)
        done = False
        while not done:
            ticks += 1
            if ticks > job["tick_limit"]:
                sys.exit("ramulator2_drive: tick limit reached")
            for item in cut.tick():
                issued.append([item["clk"], item["command"]])
                done |= item["type_id"] >= 0 and item["command"] in ("RD", "WR")
    json.dump(issued, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
