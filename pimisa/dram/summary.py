"""The timing summary of a launch: what `pimisa time` prints and `time_launch` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pimisa.arch import Arch
from pimisa.dram.core import CoreStats


@dataclass(frozen=True)
class TimingSummary:
    """Timing of one launch. Counts are per channel: every channel has the same schedule.

    `bytes_moved` and `bandwidth_gbps` cover the whole device: the column words RD and WR move
    in every PIM unit (all-bank) or one bank (single-bank), over all channels and stacks.
    """

    arch: str
    channels: int
    slots: int
    pim_commands: int
    cycles: int
    ns: float
    commands: Mapping[str, int]
    all_bank_acts: int
    all_bank_pres: int
    row_hits: int
    row_misses: int
    row_conflicts: int
    refreshes: int
    bus_utilization: float
    bytes_moved: int
    bandwidth_gbps: float

    @classmethod
    def from_stats(cls, stats: CoreStats, arch: Arch, slots: int) -> TimingSummary:
        """Build from the core's per-channel statistics."""
        g = arch.geometry
        ns = stats.cycles * arch.timing.tCK_ns
        words = stats.mem_all * g.units_per_channel + stats.mem_single
        moved = words * g.word_bytes * g.total_channels
        return cls(
            arch=arch.name,
            channels=g.total_channels,
            slots=slots,
            pim_commands=stats.pim_commands,
            cycles=stats.cycles,
            ns=ns,
            commands=MappingProxyType(dict(stats.commands)),
            all_bank_acts=stats.all_bank_act,
            all_bank_pres=stats.all_bank_pre,
            row_hits=stats.row_hits,
            row_misses=stats.row_misses,
            row_conflicts=stats.row_conflicts,
            refreshes=stats.commands["REF"] + stats.commands["REFpb"],
            bus_utilization=sum(stats.commands.values()) / stats.cycles if stats.cycles else 0.0,
            bytes_moved=moved,
            bandwidth_gbps=moved / ns if ns else 0.0,
        )

    def to_json(self) -> dict[str, object]:
        """JSON-able form (`pimisa time --json`)."""
        doc = {name: getattr(self, name) for name in self.__dataclass_fields__}
        doc["commands"] = dict(self.commands)
        doc["per_channel"] = True
        return doc

    def render(self) -> str:
        """Human-readable summary."""
        c = self.commands
        total = sum(c.values())
        lines = [
            f"{self.arch}: {self.pim_commands} PIM commands per channel ({self.slots} tile "
            f"slot{'s' if self.slots != 1 else ''}); all {self.channels} channels have this "
            "schedule, counts are per channel",
            f"time         {self.cycles} cycles = {self.ns:.1f} ns",
            f"commands     {total}: ACT {c['ACT']} ({self.all_bank_acts} all-bank), "
            f"PRE {c['PRE']} ({self.all_bank_pres} all-bank), REF {c['REF']}, "
            + (f"REFpb {c['REFpb']}, " if c["REFpb"] else "")
            + f"RD {c['RD']}, WR {c['WR']}, OP {c['OP']}",
            f"rows         {self.row_hits} hits, {self.row_misses} misses "
            f"({self.row_conflicts} closing another row)",
            f"refreshes    {self.refreshes}",
            f"command bus  {100 * self.bus_utilization:.1f}% of cycles issue a command",
            f"bandwidth    {self.bytes_moved} bytes moved by RD/WR on all channels: "
            f"{self.bandwidth_gbps:.1f} GB/s",
        ]
        return "\n".join(lines)
