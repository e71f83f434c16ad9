"""The C scheduler core from Python: parameters from a preset, chunked runs, raw statistics.

`CoreRun` schedules one channel's command stream for a whole launch (`slots` passes over the
program, slot s adding s x tile_rows to every row). It either runs to the end keeping only
statistics (`finish`), or yields the DRAM commands chunk by chunk into one reused numpy buffer
(`chunks`), so a launch of any length needs bounded memory. The C call releases the GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from pimisa._dramcore import ffi, lib
from pimisa.arch import Arch
from pimisa.dram import rules
from pimisa.errors import InputError
from pimisa.isa import RECORD_DTYPE

CMD_NAMES = rules.CMDS
CMD_DTYPE = np.dtype(
    [("cycle", "<i8"), ("row", "<i4"), ("bank", "<i2"), ("cmd", "u1"), ("col", "u1")]
)
CHUNK = 1 << 16


def _check_layout() -> None:
    """The numpy dtypes must match the C structs the core reads and writes."""
    for dtype, ctype in ((RECORD_DTYPE, "pimisa_record"), (CMD_DTYPE, "dram_cmd")):
        same = ffi.sizeof(ctype) == dtype.itemsize and all(
            field.offset == dtype.fields[name][1] for name, field in ffi.typeof(ctype).fields
        )
        if not same:
            raise ImportError(f"pimisa._dramcore: C struct {ctype} does not match its numpy "
                              "dtype; rebuild with `pip install -e .`")


_check_layout()


def _check_rules() -> None:
    """The C core must be built from the current rules table (checked at first use, so that
    `python -m pimisa.codegen` can regenerate the table's header before a rebuild)."""
    if lib.DRAM_NRULES != len(rules.RULES) or f"{lib.DRAM_RULES_HASH:016x}" != rules.fingerprint():
        raise RuntimeError("pimisa._dramcore was built from another rules table; rebuild with "
                           "`pip install -e .`")


@dataclass(frozen=True)
class CoreStats:
    """Raw per-channel statistics of a run (C struct dram_stats)."""

    commands: dict[str, int]
    all_bank_act: int
    all_bank_pre: int
    row_hits: int
    row_misses: int
    row_conflicts: int
    mem_all: int  # RD/WR in all-bank mode
    mem_single: int  # RD/WR in single-bank mode
    pim_commands: int
    cycles: int  # end of the launch: the last command has finished


def core_params(arch: Arch) -> dict[str, object]:
    """The scheduler's numbers for a preset: every rule's gap (pimisa.dram.rules), the
    refresh mode and interval, the end-of-launch latencies, the geometry and the part
    look-ahead."""
    t, g = arch.timing, arch.geometry
    gap = rules.gaps(arch)
    return {
        "gap": [gap[r.name] for r in rules.RULES],
        "tCCD_col": t.tCCD_L,
        "tREFI": t.tREFIpb if t.per_bank else t.tREFI,
        "rd_done": t.CL + t.nBL,
        "wr_done": t.CWL + t.nBL,
        "banks": g.banks,
        "bank_groups": g.bank_groups,
        "rows": g.rows,
        "bpu": g.banks_per_pim_unit,
        "lookahead": rules.PART_LOOKAHEAD,
        "per_bank": int(t.per_bank),
    }


def nominal_lengths(arch: Arch) -> dict[str, int]:
    """Nominal duration of ACT, PRE, REF and REFpb in cycles (trace slices): tRCD_RD, tRP,
    tRFC, tRFCpb."""
    t = arch.timing
    return {"tRCD_RD": t.tRCD_RD, "tRP": t.tRP, "tRFC": t.tRFC, "tRFCpb": t.tRFCpb}


def _locate_default(index: int) -> str:
    return f"command #{index}"


class CoreRun:
    """One launch scheduled by the C core (one channel; every channel runs the same stream)."""

    def __init__(
        self,
        records: np.ndarray,
        arch: Arch,
        slots: int,
        tile_rows: int,
        locate: Callable[[int], str] = _locate_default,
    ) -> None:
        self._records = np.ascontiguousarray(records, dtype=RECORD_DTYPE)
        self._n = len(self._records)
        self._slots = slots
        self._tile_rows = tile_rows
        self._locate = locate
        self._rows = arch.geometry.rows * arch.geometry.banks_per_pim_unit
        _check_rules()
        self._state = ffi.new("dram_state *")
        params = core_params(arch)
        if params["rows"] > 0x7FFFFFFF:
            raise InputError(f"{arch.source}: the scheduler supports at most 2^31-1 rows per bank")
        if lib.dram_init(self._state, ffi.new("dram_params *", params)) != 0:
            raise InputError(f"{arch.source}: a timing parameter exceeds the scheduler's range "
                             "(2^40 cycles)")
        self._recs = ffi.from_buffer("pimisa_record[]", self._records) if self._n else ffi.NULL
        self._out_len = ffi.new("int64_t *")
        self.done = False

    def _step(self, out: object, cap: int) -> int:
        rc = lib.dram_run(self._state, self._recs, self._n, self._slots, self._tile_rows,
                          out, cap, self._out_len)
        if rc == lib.DRAM_DONE:
            self.done = True
        elif rc != lib.DRAM_FULL:
            self._raise(rc)
        return int(self._out_len[0])

    def _raise(self, rc: int) -> None:
        index = int(self._state.err_index)
        where = self._locate(index)
        slot = int(self._state.slot)
        if rc == lib.DRAM_EROW:
            raise InputError(f"{where}: row (+ tile slot {slot} base) beyond the unit's "
                             f"{self._rows} rows")
        if rc == lib.DRAM_EBANK:
            raise InputError(f"{where}: bank out of range")
        raise InputError(f"scheduler core rejected its arguments (code {rc})")

    def chunks(self, size: int = CHUNK) -> Iterator[np.ndarray]:
        """Yield the DRAM commands in issue order (CMD_DTYPE views of one reused buffer).

        Each yielded array is overwritten by the next one: consume it before advancing.
        """
        buf = np.empty(max(size, lib.DRAM_MAX_PER_PIM), dtype=CMD_DTYPE)
        out = ffi.from_buffer("dram_cmd[]", buf)
        while not self.done:
            count = self._step(out, len(buf))
            if count:
                yield buf[:count]

    def finish(self) -> None:
        """Schedule whatever remains without recording commands (statistics only)."""
        if not self.done:
            self._step(ffi.NULL, 0)

    def stats(self) -> CoreStats:
        """Statistics of the finished run (per channel)."""
        if not self.done:
            raise RuntimeError("stats() before the run finished")
        s = self._state.s
        return CoreStats(
            commands={name: int(s.commands[i]) for i, name in enumerate(CMD_NAMES)},
            all_bank_act=int(s.all_bank_act),
            all_bank_pre=int(s.all_bank_pre),
            row_hits=int(s.row_hits),
            row_misses=int(s.row_misses),
            row_conflicts=int(s.row_conflicts),
            mem_all=int(s.mem_all),
            mem_single=int(s.mem_single),
            pim_commands=int(s.pim_commands),
            cycles=int(s.end_cycle),
        )


class NameTails:
    """The end of each record's trace line (`,index,pim,source` and the newline, as bytes) in
    the form dram_format_csv reads: one text and each tail's offset."""

    def __init__(self, tails: list[bytes]) -> None:
        self.text = b"".join(tails)
        self.at = np.zeros(len(tails) + 1, np.int64)
        np.cumsum([len(t) for t in tails], out=self.at[1:])
        self.longest = max(map(len, tails), default=0)


def format_csv_lines(cmds: np.ndarray, channel: int, buf: bytearray,
                     names: tuple[NameTails, np.ndarray, np.ndarray] | None = None
                     ) -> tuple[int, int]:
    """Format commands as trace CSV lines into `buf`: (commands formatted, bytes used). With
    `names` (the tails, each command's record index and tile slot) the lines end with the
    name columns."""
    cmds = np.ascontiguousarray(cmds, dtype=CMD_DTYPE)
    used = ffi.new("int64_t *")
    c_names = ffi.NULL
    keep: list[object] = []
    if names is not None:
        tails, index, slot = names
        index = np.ascontiguousarray(index, dtype=np.int64)
        slot = np.ascontiguousarray(slot, dtype=np.int64)
        keep = [index, slot]
        c_names = ffi.new("dram_names *", {
            "slot": ffi.from_buffer("int64_t[]", slot),
            "index": ffi.from_buffer("int64_t[]", index),
            "text": ffi.from_buffer("char[]", tails.text) if tails.text else ffi.NULL,
            "at": ffi.from_buffer("int64_t[]", tails.at), "count": len(tails.at) - 1})
    done = lib.dram_format_csv(ffi.from_buffer("dram_cmd[]", cmds), len(cmds), channel,
                               c_names, ffi.from_buffer(buf), len(buf), used)
    del keep
    return int(done), int(used[0])


CSV_LINE_MAX = lib.DRAM_CSV_LINE_MAX
CSV_SLOT_MAX = lib.DRAM_CSV_SLOT_MAX
