"""Trace files of a schedule, written incrementally and atomically, cut at a size limit.

CSV: a comment naming the preset (pimisa.dram.tracefile), the header
`cycle,channel,bank,command,row,col,slot,index,pim,source`, then one line per DRAM command;
bank -1 for all-bank commands and REF; row -1 for PRE/REF/OP; col -1 except for RD/WR; the
last four name the PIM command the DRAM command was issued for (pimisa.linecost): its tile
slot, record index, mnemonic and source `file:line`. Chrome trace-event JSON (opens in
Perfetto / chrome://tracing): one track per channel, every command a slice (its nominal
duration, clipped at the next command so slices never overlap; REF slices tRFC long; an OP
slice named by its mnemonic) with the same names in its args. Every channel has the same
schedule; the caller picks which channels to write. docs/dram.md, "Trace files".
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from pimisa.arch import Arch
from pimisa.dram.core import (
    CHUNK,
    CMD_NAMES,
    CSV_LINE_MAX,
    CSV_SLOT_MAX,
    NameTails,
    core_params,
    format_csv_lines,
    nominal_lengths,
)
from pimisa.dram.tracefile import COLUMNS, NAME_COLUMNS, TraceHeader, preset_fingerprint
from pimisa.fileio import atomic_open
from pimisa.linecost import AttributedRun, CommandNames

CSV_HEADER = ",".join(COLUMNS).encode() + b"\n"
OP = CMD_NAMES.index("OP")
CMD_JSON = [json.dumps(name) for name in CMD_NAMES]


def csv_field(text: str) -> bytes:
    """A CSV field, quoted when it holds a comma or a quote; CR and LF become '?'."""
    text = text.replace("\r", "?").replace("\n", "?")
    if "," in text or '"' in text:
        text = '"' + text.replace('"', '""') + '"'
    return text.encode()


CHROME_CLOSE_RESERVE = 512  # bytes kept free under the limit for the closing events


class CsvWriter:
    """Streams command chunks to a CSV trace until `limit` bytes (the preset comment first,
    given `arch`; the name columns given `names`)."""

    def __init__(self, handle: IO[bytes], channels: Sequence[int], limit: int,
                 arch: Arch | None = None, names: CommandNames | None = None) -> None:
        self.handle = handle
        self.channels = list(channels)
        self.limit = limit
        self.size = 0
        self.lines = 0
        self.cut = False
        header = CSV_HEADER
        self._tails: NameTails | None = None
        longest = 0
        if names is not None:
            header = header[:-1] + b"," + ",".join(NAME_COLUMNS).encode() + b"\n"
            self._tails = NameTails([b",%d,%s,%s\n" % (i, p.encode(), csv_field(f))
                                     for i, (p, f) in enumerate(zip(names.pim, names.source,
                                                                    strict=True))])
            longest = CSV_SLOT_MAX + self._tails.longest
        self._buf = bytearray(CHUNK * CSV_LINE_MAX + longest)  # one line always fits
        self._put((TraceHeader.of(arch).to_line() if arch else b"") + header)

    def _put(self, data: bytes | memoryview) -> None:
        """Write what fits under the limit, whole lines only; past it the trace is cut."""
        room = self.limit - self.size
        if len(data) > room:
            data = bytes(data[:room])
            data = data[: data.rfind(b"\n") + 1]
            self.lines += data.count(b"\n")
            self.cut = True
        self.handle.write(data)
        self.size += len(data)

    def write(self, cmds: np.ndarray, index: np.ndarray | None = None,
              slot: np.ndarray | None = None) -> None:
        """Append a chunk of commands (CMD_DTYPE; with names, their owners' record index and
        slot) for every selected channel."""
        for channel in self.channels:
            pos = 0
            while pos < len(cmds) and not self.cut:
                names = None
                if self._tails is not None and index is not None and slot is not None:
                    names = (self._tails, index[pos:], slot[pos:])
                done, used = format_csv_lines(cmds[pos:], channel, self._buf, names)
                if not done:
                    raise ValueError("a command of the trace has no owner record")
                self._put(memoryview(self._buf)[:used])
                if not self.cut:
                    self.lines += done
                pos += done

    def close(self) -> None:
        """Nothing to close in a CSV."""


class ChromeWriter:
    """Streams command chunks to a Chrome trace-event JSON file until about `limit` bytes."""

    def __init__(self, handle: IO[bytes], channels: Sequence[int], limit: int,
                 arch: Arch, names: CommandNames | None = None) -> None:
        p = core_params(arch) | nominal_lengths(arch)
        self.handle = handle
        self.channels = list(channels)
        self.limit = limit
        self.size = 0
        self.lines = 0
        self.cut = False
        self.us = arch.timing.tCK_ns / 1000.0
        self.nominal = np.array([p["tRCD_RD"], p["tRP"], p["tRFC"], p["tCCD_col"],
                                 p["tCCD_col"], p["tCCD_col"], p["tRFCpb"]],
                                dtype=np.int64).clip(min=1)
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # Per record: the name of its OP slices, and its args after "slot".
        self._op_name = [json.dumps(p) for p in names.pim] if names else []
        self._args = [f',"index":{i},"pim":{json.dumps(p)},"source":{json.dumps(f)}'
                      for i, (p, f) in enumerate(zip(names.pim, names.source, strict=True))
                      ] if names else []
        self._last_ts = 0.0
        head = {"displayTimeUnit": "ns",
                "otherData": {"arch": arch.name, "tCK_ns": arch.timing.tCK_ns,
                              "fingerprint": preset_fingerprint(arch),
                              "note": "every channel runs the same schedule"}}
        meta = [{"ph": "M", "pid": 0, "name": "process_name",
                 "args": {"name": f"{arch.name} PIM launch"}}]
        meta += [{"ph": "M", "pid": 0, "tid": ch, "name": "thread_name",
                  "args": {"name": f"channel {ch}"}} for ch in self.channels]
        text = json.dumps(head)[:-1] + ',"traceEvents":[\n'
        text += ",\n".join(json.dumps(m) for m in meta)
        self._put(text.encode())

    def _put(self, data: bytes) -> None:
        self.handle.write(data)
        self.size += len(data)

    def _events(self, cmds: np.ndarray, index: np.ndarray, slot: np.ndarray,
                durations: np.ndarray, channel: int) -> list[bytes]:
        us = self.us
        named = bool(self._args)
        return [
            (f',\n{{"ph":"X","pid":0,"tid":{channel},'
             f'"name":{self._op_name[i] if named and k == OP else CMD_JSON[k]},'
             f'"ts":{c * us:.6f},"dur":{d * us:.6f},'
             f'"args":{{"cycle":{c},"bank":{b},"row":{r},"col":{col}'
             + (f',"slot":{s}{self._args[i]}' if named else "") + "}}").encode()
            for c, k, b, r, col, d, i, s in zip(
                cmds["cycle"].tolist(), cmds["cmd"].tolist(), cmds["bank"].tolist(),
                np.where(np.isin(cmds["cmd"], (0, 3, 4)), cmds["row"], -1).tolist(),
                np.where(np.isin(cmds["cmd"], (3, 4)), cmds["col"], -1).tolist(),
                durations.tolist(), index.tolist(), slot.tolist(), strict=True)
        ]

    def _emit(self, cmds: np.ndarray, index: np.ndarray, slot: np.ndarray,
              next_cycle: np.ndarray) -> None:
        durations = np.minimum(self.nominal[cmds["cmd"]], next_cycle - cmds["cycle"])
        for channel in self.channels:
            events = self._events(cmds, index, slot, durations, channel)
            sizes = np.cumsum([len(e) for e in events])
            room = self.limit - CHROME_CLOSE_RESERVE - self.size
            fit = int(np.searchsorted(sizes, room, side="right"))
            self._put(b"".join(events[:fit]))
            self.lines += fit
            if fit:
                self._last_ts = float(cmds["cycle"][fit - 1]) * self.us
            if fit < len(events):
                self.cut = True
                return

    def write(self, cmds: np.ndarray, index: np.ndarray | None = None,
              slot: np.ndarray | None = None) -> None:
        """Append a chunk (with names: its owners' record index and slot); the last command
        waits for the next chunk to know its duration."""
        if self.cut or not len(cmds):
            return
        if index is None or slot is None:
            index = slot = np.zeros(len(cmds), np.int64)
        if self._pending is not None:
            last, last_index, last_slot = self._pending
            cmds = np.concatenate([last, cmds])
            index = np.concatenate([last_index, index])
            slot = np.concatenate([last_slot, slot])
        self._pending = cmds[-1:].copy(), index[-1:].copy(), slot[-1:].copy()
        if len(cmds) > 1:
            self._emit(cmds[:-1], index[:-1], slot[:-1], cmds["cycle"][1:])

    def close(self) -> None:
        """Flush the last command and close the JSON document."""
        if self._pending is not None and not self.cut:
            last, index, slot = self._pending
            self._emit(last, index, slot, last["cycle"] + self.nominal[last["cmd"]])
        tail = b"\n]}\n"
        if self.cut:
            cut = {"ph": "i", "s": "g", "pid": 0, "tid": self.channels[0], "ts": self._last_ts,
                   "name": "trace cut here: size limit reached"}
            tail = b",\n" + json.dumps(cut).encode() + tail
        self._put(tail)


def write_traces(
    run: AttributedRun,
    arch: Arch,
    csv_path: str | Path | None,
    chrome_path: str | Path | None,
    channels: Sequence[int],
    limit: int,
) -> list[str]:
    """Run `run` to the end, writing the requested traces (every DRAM command named by the PIM
    command it was issued for); returns a note per cut trace."""
    notes: list[str] = []
    names = CommandNames.of(run.program)
    with contextlib.ExitStack() as stack:
        writers: list[tuple[str, CsvWriter | ChromeWriter]] = []
        if csv_path is not None:
            handle = stack.enter_context(atomic_open(csv_path, "wb"))
            writers.append((str(csv_path), CsvWriter(handle, channels, limit, arch, names)))
        if chrome_path is not None:
            handle = stack.enter_context(atomic_open(chrome_path, "wb"))
            writers.append((str(chrome_path), ChromeWriter(handle, channels, limit, arch, names)))
        chunks = run.chunks()
        for cmds, index, slot in chunks:
            for _, writer in writers:
                writer.write(cmds, index, slot)
            if all(writer.cut for _, writer in writers):
                break
        chunks.close()
        run.finish()
        for path, writer in writers:
            writer.close()
            if writer.cut:
                notes.append(f"{path}: trace cut after {writer.lines} commands at the size "
                             f"limit of {limit / 2**20:g} MB (raise it with --trace-limit); the "
                             "summary covers the whole launch")
    return notes

