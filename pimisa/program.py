"""An assembled program (command records, kernel metadata, source map) and its .pimb file.

File layout (little-endian):

    0   4 bytes  magic b"PIMB"
    4   u16      format version
    6   u16      record size in bytes (16)
    8   u64      ISA hash (pimisa.isa.ISA_HASH of the assembler that wrote it)
    16  u64      command count N
    24  u32      metadata length L (UTF-8 JSON: arch, kernel metadata, source files)
    28  u16      lane bits the records were assembled for (32 or 16; version 1 files: 0 = 32)
    30  u16      reserved (0)
    32  L bytes  metadata, then zero padding to a multiple of 16
    ..  N x 16   records (pimisa.isa.RECORD_DTYPE)
    ..  N x 8    source map (SRCMAP_DTYPE: file index, line, column; line 0 = unknown)

Loading is a numpy view of the records, never a Python loop over commands. A program runs
only on a geometry of its lane width (`width_problem`): the same opcode means another operation
on lanes of another width, and some instructions exist at one width only.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pimisa.errors import InputError
from pimisa.fileio import atomic_write_bytes, read_regular
from pimisa.isa import ISA_HASH, LANE_WIDTHS, RECORD_DTYPE
from pimisa.schema import validate

MAGIC = b"PIMB"
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)  # version 1: no lane width recorded (always 32-bit lanes)
HEADER = struct.Struct("<4sHHQQIHH")
SRCMAP_DTYPE = np.dtype([("file", "<u2"), ("col", "<u2"), ("line", "<u4")])
MAX_COMMANDS = 1 << 34
MAX_METADATA = 16 << 20  # bytes of JSON metadata
REGION_KINDS = ("input", "output", "scratch")


@dataclass
class Region:
    """A named range of rows in each tile: a kernel input, output or scratch area.

    `row` is relative to the tile base; `layout` names how pimisa.layout maps a tensor onto
    the region's words; `params` holds the directive's extra key=value settings.
    """

    name: str
    kind: str = field(metadata={"check": lambda v: None if v in REGION_KINDS else
                                f"expected one of {', '.join(REGION_KINDS)}, got {v[:20]!r}"})
    row: int = field(metadata={"check": lambda v: None if v >= 0 else "must be >= 0"})
    rows: int = field(metadata={"check": lambda v: None if v >= 1 else "must be >= 1"})
    layout: str = "raw"
    params: dict[str, int | str] = field(default_factory=dict)


@dataclass
class KernelMeta:
    """What a kernel declares about itself in directives."""

    name: str = ""
    arch: str | None = None
    regions: list[Region] = field(default_factory=list)
    params: dict[str, int | str] = field(default_factory=dict)

    @property
    def tile_rows(self) -> int:
        """Rows one tile occupies in a bank: the end of the last region (at least 1)."""
        return max([r.row + r.rows for r in self.regions], default=1) or 1

    def region(self, name: str) -> Region:
        """The region called `name`; InputError if the kernel declares none."""
        for r in self.regions:
            if r.name == name:
                return r
        names = ", ".join(r.name for r in self.regions) or "none"
        raise InputError(f"kernel {self.name!r} declares no region {name!r} (it has: {names})")

    def to_json(self) -> dict[str, object]:
        """JSON-able form."""
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> KernelMeta:
        """Inverse of to_json."""
        regions = [Region(**r) for r in doc.get("regions", [])]  # type: ignore[arg-type]
        return cls(
            name=str(doc.get("name", "")),
            arch=doc.get("arch"),  # type: ignore[arg-type]
            regions=regions,
            params=dict(doc.get("params", {})),  # type: ignore[arg-type]
        )


@dataclass
class Metadata:
    """The JSON metadata block of a .pimb file (its schema: see pimisa.schema)."""

    kernel: KernelMeta
    files: list[str]


@dataclass
class Program:
    """Command records plus what is needed to run, time and explain them."""

    records: np.ndarray  # RECORD_DTYPE, shape (N,)
    meta: KernelMeta = field(default_factory=KernelMeta)
    srcmap: np.ndarray | None = None  # SRCMAP_DTYPE, shape (N,)
    files: list[str] = field(default_factory=list)
    lane_bits: int = 32  # the lane width the records were assembled for

    def width_problem(self, lane_bits: int, target: str) -> str | None:
        """Why the program cannot run on lanes of `lane_bits` bits (`target` names them, e.g.
        an arch), or None if it can."""
        if lane_bits == self.lane_bits:
            return None
        return (f"the kernel was assembled for {self.lane_bits}-bit lanes, but {target} has "
                f"{lane_bits}-bit lanes; re-assemble it for the target (or pick a target of "
                f"its width, e.g. --arch NAME:lane_bits={self.lane_bits})")

    def __len__(self) -> int:
        return int(self.records.shape[0])

    def location(self, index: int) -> str:
        """`file:line:col` of command `index`, or `command #index` if unknown."""
        if self.srcmap is not None and 0 <= index < len(self.srcmap):
            entry = self.srcmap[index]
            line = int(entry["line"])
            f = int(entry["file"])
            if line and f < len(self.files):
                return f"{self.files[f]}:{line}:{int(entry['col'])}"
        return f"command #{index}"

    def to_bytes(self) -> bytes:
        """Serialise to the .pimb format."""
        n = len(self)
        srcmap = self.srcmap if self.srcmap is not None else np.zeros(n, SRCMAP_DTYPE)
        meta = json.dumps(
            {"kernel": self.meta.to_json(), "files": self.files}, sort_keys=True
        ).encode()
        pad = b"\0" * (-(HEADER.size + len(meta)) % 16)
        header = HEADER.pack(MAGIC, FORMAT_VERSION, RECORD_DTYPE.itemsize, ISA_HASH, n,
                             len(meta), self.lane_bits, 0)
        records = np.ascontiguousarray(self.records, dtype=RECORD_DTYPE)
        return b"".join([header, meta, pad, records.tobytes(),
                         np.ascontiguousarray(srcmap, dtype=SRCMAP_DTYPE).tobytes()])

    def save(self, path: str | Path) -> None:
        """Write the .pimb file atomically."""
        atomic_write_bytes(path, self.to_bytes())


def program_from_bytes(data: bytes, where: str = "<bytes>") -> Program:
    """Parse a .pimb image; InputError with a one-line cause for anything malformed."""
    if len(data) < HEADER.size:
        raise InputError(f"{where}: not a .pimb file (truncated header, {len(data)} bytes)")
    magic, version, recsize, isa_hash, n, meta_len, lane_bits, _ = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise InputError(f"{where}: not a .pimb file (bad magic {magic!r})")
    if version not in READ_VERSIONS:
        raise InputError(f"{where}: unsupported .pimb format version {version} "
                         f"(this pimisa reads versions {READ_VERSIONS[0]}..{FORMAT_VERSION})")
    if version == 1 and lane_bits == 0:
        lane_bits = 32
    if lane_bits not in LANE_WIDTHS:
        raise InputError(f"{where}: corrupt header (lane width {lane_bits}; expected "
                         f"{' or '.join(map(str, LANE_WIDTHS))})")
    if recsize != RECORD_DTYPE.itemsize:
        raise InputError(f"{where}: record size {recsize} != {RECORD_DTYPE.itemsize}")
    if isa_hash != ISA_HASH:
        raise InputError(f"{where}: written for another ISA (hash {isa_hash:#018x}, this "
                         f"pimisa has {ISA_HASH:#018x}); re-assemble the source")
    if n > MAX_COMMANDS:
        raise InputError(f"{where}: corrupt header (command count {n})")
    if meta_len > MAX_METADATA:
        raise InputError(f"{where}: corrupt header (metadata of {meta_len} bytes)")
    meta_end = HEADER.size + meta_len
    rec_start = meta_end + (-meta_end % 16)
    expected = rec_start + n * (RECORD_DTYPE.itemsize + SRCMAP_DTYPE.itemsize)
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise InputError(f"{where}: file {what} ({len(data)} bytes, header says {expected})")
    try:
        doc = json.loads(data[HEADER.size:meta_end].decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:80]
        raise InputError(f"{where}: corrupt metadata (not JSON: {reason})") from None
    errors: list[str] = []
    validate(doc, Metadata, "metadata", errors)
    if errors:
        raise InputError("\n".join(f"{where}: corrupt {e}" for e in errors))
    meta = KernelMeta.from_json(doc["kernel"])
    files = list(doc["files"])
    records = np.frombuffer(data, dtype=RECORD_DTYPE, count=n, offset=rec_start)
    srcmap = np.frombuffer(data, dtype=SRCMAP_DTYPE, count=n,
                           offset=rec_start + n * RECORD_DTYPE.itemsize)
    return Program(records, meta, srcmap, files, lane_bits)


def load_program(path: str | Path) -> Program:
    """Read a .pimb file (records are checked against an architecture by the consumer)."""
    data = read_regular(path, "program")
    return program_from_bytes(data, str(path))
