"""The CSV trace format: its header (the preset a trace was scheduled with, its columns) and
the optional name columns.

Line 1 of a trace written by `pimisa time --trace-csv` is a comment naming its preset,
`# pimisa-trace {"arch": NAME, "fingerprint": HEX, "tCK_ns": T, "version": 1}` (one line of
JSON), and line 2 the column header. The fingerprint is a hash of the preset's geometry and
timing, so a trace is recognised as belonging to a user's .toml preset as well as to a bundled
one, and a bundled preset whose numbers changed since the trace was written is not mistaken for
the one it was scheduled with. Traces without the comment (older ones) are read as before.
Line 2 names the columns: COLUMNS, optionally followed by NAME_COLUMNS (the PIM command each
DRAM command was issued for: tile slot, record index, mnemonic, source `file:line`, a CSV
field quoted when it holds a comma or a quote). docs/dram.md, "Trace files".
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimisa.arch import Arch, load_arch, preset_names
from pimisa.errors import InputError, UsageError

MARK = b"# pimisa-trace "
VERSION = 1
COLUMNS = ("cycle", "channel", "bank", "command", "row", "col")
NAME_COLUMNS = ("slot", "index", "pim", "source")


def preset_fingerprint(arch: Arch) -> str:
    """16 hex digits identifying a preset's geometry and timing (not its name or file)."""
    doc = {"geometry": dataclasses.asdict(arch.geometry),
           "timing": arch.timing.scheduled()}
    text = json.dumps(doc, sort_keys=True).encode()
    return hashlib.blake2b(text, digest_size=8).hexdigest()


@dataclass(frozen=True)
class TraceHeader:
    """What line 1 of a trace says about the preset it was scheduled with."""

    arch: str
    fingerprint: str
    tCK_ns: float

    @classmethod
    def of(cls, arch: Arch) -> TraceHeader:
        """The header of a trace scheduled with `arch`."""
        return cls(arch.name, preset_fingerprint(arch), arch.timing.tCK_ns)

    def to_line(self) -> bytes:
        """The comment line, newline included."""
        doc = {"arch": self.arch, "fingerprint": self.fingerprint, "tCK_ns": self.tCK_ns,
               "version": VERSION}
        return MARK + json.dumps(doc, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, line: bytes, where: str) -> TraceHeader:
        """Parse a comment line (without its newline); InputError naming `where`:1."""
        try:
            doc = json.loads(line[len(MARK):].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            doc = None
        if not isinstance(doc, dict):
            raise InputError(f"{where}:1: the '# pimisa-trace' comment must be a JSON object")
        if doc.get("version") != VERSION:
            raise InputError(f"{where}:1: trace header version {doc.get('version')!r} is not "
                             f"{VERSION}")
        arch, fingerprint, tck = doc.get("arch"), doc.get("fingerprint"), doc.get("tCK_ns")
        if not (isinstance(arch, str) and arch and isinstance(fingerprint, str)
                and isinstance(tck, int | float) and not isinstance(tck, bool)):
            raise InputError(f"{where}:1: the trace header needs 'arch' (a name), "
                             "'fingerprint' (a string) and 'tCK_ns' (a number)")
        return cls(arch, fingerprint, float(tck))

    def mismatch(self, arch: Arch) -> str | None:
        """Why `arch` is not the preset of this trace, or None."""
        if arch.name != self.arch:
            return f"the trace was scheduled with preset {self.arch!r}, not {arch.name!r}"
        got = preset_fingerprint(arch)
        if got != self.fingerprint:
            return (f"the trace was scheduled with a preset {self.arch!r} whose geometry or "
                    f"timing differs from {arch.source} (fingerprint {self.fingerprint}, "
                    f"that one {got})")
        return None


def split_header(data: bytes, where: str) -> tuple[TraceHeader | None, bool, bytes, int]:
    """(preset header or None, whether the name columns follow, the command lines, the line
    number of the first)."""
    header = None
    first = 1
    if data.startswith(b"#"):
        line, _, data = data.partition(b"\n")
        line = line.rstrip(b"\r")
        if not line.startswith(MARK):
            raise InputError(f"{where}:1: the only comment a trace may have is line 1, "
                             "'# pimisa-trace {...}'")
        header = TraceHeader.parse(line, where)
        first = 2
    names, _, body = data.partition(b"\n")
    columns = tuple(names.rstrip(b"\r").decode("utf-8", "replace").split(","))
    if columns not in (COLUMNS, COLUMNS + NAME_COLUMNS):
        raise InputError(f"{where}:{first}: the header must be exactly "
                         f"{','.join(COLUMNS)!r} or {','.join(COLUMNS + NAME_COLUMNS)!r}")
    return header, columns != COLUMNS, body, first + 1


@dataclass
class TraceNames:
    """The name columns of a trace, one entry per command line."""

    slot: np.ndarray  # int64
    index: np.ndarray  # int64
    pim: list[str]
    source: list[str]


def parse_names(data: bytes, where: str = "<trace>") -> TraceNames | None:
    """The name columns of trace CSV bytes (None when it has none); InputError at a bad line."""
    _, named, body, first = split_header(data, where)
    if not named:
        return None
    text = body.decode("utf-8", "surrogateescape")
    slot, index, pim, source = [], [], [], []
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in rows:
            line = first + rows.line_num - 1
            if len(row) != len(COLUMNS) + len(NAME_COLUMNS):
                raise InputError(f"{where}:{line}: expected {len(COLUMNS) + len(NAME_COLUMNS)} "
                                 f"fields, got {len(row)}")
            try:
                s, i = int(row[6]), int(row[7])
            except ValueError:
                raise InputError(f"{where}:{line}: slot and index must be integers") from None
            if not (0 <= s < 1 << 62 and 0 <= i < 1 << 62):
                raise InputError(f"{where}:{line}: slot and index must be in 0..2^62-1")
            slot.append(s)
            index.append(i)
            pim.append(row[8])
            source.append(row[9])
    except csv.Error as exc:
        raise InputError(f"{where}:{first + rows.line_num - 1}: {exc}") from None
    return TraceNames(np.array(slot, np.int64), np.array(index, np.int64), pim, source)


def resolve_arch(header: TraceHeader | None, spec: str | Path | Arch | None,
                 where: str) -> Arch:
    """The preset to check a trace against: `spec` (which must match the header), else the
    bundled preset the header names. UsageError when neither says which."""
    if spec is not None:
        arch = spec if isinstance(spec, Arch) else load_arch(spec)
        why = header.mismatch(arch) if header else None
        if why:
            raise InputError(f"{where}:1: {why}")
        return arch
    if header is None:
        raise UsageError(f"{where} has no '# pimisa-trace' header naming its preset (a trace "
                         "written before headers existed): pass --arch NAME|FILE")
    if header.arch not in preset_names():
        raise InputError(f"{where}:1: the trace names preset {header.arch!r}, which is not "
                         f"bundled ({', '.join(preset_names())}): pass its .toml with --arch")
    arch = load_arch(header.arch)
    why = header.mismatch(arch)
    if why:
        raise InputError(f"{where}:1: {why}; pass the preset it was scheduled with as --arch "
                         "FILE.toml")
    return arch
