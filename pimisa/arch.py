"""Architecture presets: device geometry and DRAM timing, loaded from validated TOML files.

Bundled presets live in `pimisa/presets/*.toml`; a user may pass the path of their own file of
the same shape. Validation reports every bad field at once (unknown key, wrong type,
impossible value), one line each.

Any geometry field of a preset, and its refresh mode, can be overridden where an architecture
is named: `NAME:FIELD=VALUE[,FIELD=VALUE...]` (e.g. `hbm2-pim:lane_bits=32`, `hbm3:lane_bits=16`,
`hbm3:refresh=per-bank`), the same for a file (`my.toml:lane_bits=16`); the overridden
architecture is validated like a file
and keeps the whole spec as its name, so a kernel assembled for it records how to rebuild it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimisa.errors import InputError
from pimisa.fileio import parse_toml, read_text
from pimisa.isa import ALL_BANKS, FIELD_BITS, PRED_MASK_BITS

DEFAULT_ARCH = "hbm3"
LANE_BITS = 32  # the default lane width (a preset without lane_bits)
LANE_WIDTHS = (32, 16)
MAX_LANES = 16


@dataclass(frozen=True)
class Geometry:
    """Device organisation; `channels` are the (pseudo-)channels of one stack."""

    stacks: int
    channels: int
    banks: int
    bank_groups: int
    rows: int
    row_bytes: int
    word_bits: int
    lanes: int  # word_bits / lane_bits (optional in TOML: derived when absent)
    vector_registers: int
    mask_registers: int
    banks_per_pim_unit: int
    lane_bits: int = LANE_BITS  # bits per SIMD lane: 32 or 16 (optional in TOML: 32)

    @property
    def lane_dtype(self) -> np.dtype:
        """numpy dtype of one lane: uint32 or uint16 (registers and memory hold these)."""
        return np.dtype(np.uint16 if self.lane_bits == 16 else np.uint32)

    @property
    def cols(self) -> int:
        """Column words per row."""
        return self.row_bytes * 8 // self.word_bits

    @property
    def units_per_channel(self) -> int:
        """PIM units per channel (banks / banks_per_pim_unit)."""
        return self.banks // self.banks_per_pim_unit

    @property
    def total_channels(self) -> int:
        """Channels over all stacks."""
        return self.stacks * self.channels

    @property
    def total_units(self) -> int:
        """PIM units of the whole device."""
        return self.total_channels * self.units_per_channel

    @property
    def word_bytes(self) -> int:
        """Bytes per column word."""
        return self.word_bits // 8


@dataclass(frozen=True)
class Timing:
    """DRAM timing in cycles of tCK_ns; 0 marks a constraint absent from the source."""

    tCK_ns: float
    CL: int
    CWL: int
    tRCD_RD: int
    tRCD_WR: int
    tRP: int
    tRAS: int
    tRC: int
    tWR: int
    tRTP_S: int
    tRTP_L: int
    tCCD_S: int
    tCCD_L: int
    tRRD_S: int
    tRRD_L: int
    tFAW: int
    tWTR_S: int
    tWTR_L: int
    tRFC: int
    tREFI: int
    nBL: int
    tRTW: int | None = None  # absent: derived as CL + nBL + 2 - CWL
    # Refresh: "all-bank" (REF every tREFI, tRFC) or "per-bank" (REFpb to the next bank in
    # turn every tREFIpb, tRFCpb; tRREFD between a REFpb and the next REFpb or ACT).
    refresh: str = "all-bank"
    tRFCpb: int = 0
    tREFIpb: int = 0
    tRREFD: int = 0

    @property
    def rtw(self) -> int:
        """Read-to-write turnaround, derived when the preset does not give tRTW."""
        if self.tRTW is not None:
            return self.tRTW
        return max(self.CL + self.nBL + 2 - self.CWL, 0)

    @property
    def per_bank(self) -> bool:
        """Whether refresh is per bank (REFpb)."""
        return self.refresh == "per-bank"

    def scheduled(self) -> dict[str, object]:
        """The fields the scheduler uses, by name: the per-bank refresh numbers only under
        per-bank refresh (what fingerprints and recorded workloads hash, so presets that
        refresh all banks hash as before those fields existed)."""
        fields = dataclasses.asdict(self)
        if not self.per_bank:
            for name in PER_BANK_FIELDS:
                del fields[name]
        return fields


@dataclass(frozen=True)
class Arch:
    """A whole architecture preset."""

    name: str
    description: str
    geometry: Geometry
    timing: Timing
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON-able form, with the derived quantities a user wants to see."""
        g = self.geometry
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "geometry": dataclasses.asdict(g),
            "timing": dataclasses.asdict(self.timing),
            "derived": {
                "cols": g.cols,
                "units_per_channel": g.units_per_channel,
                "total_units": g.total_units,
                "tRTW_effective": self.timing.rtw,
                "capacity_bytes": g.stacks * g.channels * g.banks * g.rows * g.row_bytes,
            },
        }


PER_BANK_FIELDS = ("refresh", "tRFCpb", "tREFIpb", "tRREFD")
REFRESH_MODES = ("all-bank", "per-bank")
_OPTIONAL = {"tRTW", "lanes", "lane_bits", *PER_BANK_FIELDS}

# Upper bound of every preset field (the lower bound is 0; some fields check more below):
# sizes far beyond any real device, and timing values that fit the schedulers' 32-bit gaps.
FIELD_MAX: dict[str, int | float] = {
    "stacks": 64, "channels": 1024, "bank_groups": 64, "rows": 1 << 20,
    "row_bytes": 1 << 16, "word_bits": 4096, "vector_registers": 255, "mask_registers": 64,
    "banks_per_pim_unit": 64, "lane_bits": 32, "tCK_ns": 1e6,
}
DEFAULT_MAX = {"geometry": 1 << 16, "timing": 1 << 24}


def _check_section(
    cls: type, table: object, section: str, errors: list[str], where: str
) -> dict[str, object]:
    if not isinstance(table, dict):
        errors.append(f"{where}: [{section}] must be a table")
        return {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in fields:
            errors.append(f"{where}: [{section}] unknown key {key!r}")
            continue
        if key == "refresh":
            if value not in REFRESH_MODES:
                errors.append(f"{where}: [{section}] refresh must be one of "
                              f"{', '.join(map(repr, REFRESH_MODES))}, got {str(value)[:24]!r}")
            else:
                values[key] = value
            continue
        want_float = key == "tCK_ns"
        ok = isinstance(value, (int, float)) if want_float else isinstance(value, int)
        if isinstance(value, bool) or not ok:
            kind = "a number" if want_float else "an integer"
            errors.append(f"{where}: [{section}] {key} must be {kind}, got {value!r}")
            continue
        if value < 0:
            errors.append(f"{where}: [{section}] {key} must be >= 0, got {value}")
            continue
        limit = FIELD_MAX.get(key, DEFAULT_MAX.get(section, 1 << 24))
        if value > limit:
            errors.append(f"{where}: [{section}] {key} must be at most {limit}, got "
                          f"{str(value)[:24]}")
            continue
        values[key] = float(value) if want_float else value
    for name in fields:
        if name not in table and name not in _OPTIONAL:
            errors.append(f"{where}: [{section}] missing key {name!r}")
    return values


def _check_geometry(g: Geometry, errors: list[str], where: str) -> None:
    def bad(msg: str) -> None:
        errors.append(f"{where}: [geometry] {msg}")

    for name in ("stacks", "channels", "banks", "bank_groups", "rows", "row_bytes",
                 "word_bits", "lanes", "vector_registers", "banks_per_pim_unit"):
        if getattr(g, name) < 1:
            bad(f"{name} must be at least 1")
    if g.lane_bits not in LANE_WIDTHS:
        bad(f"lane_bits must be 32 or 16, got {g.lane_bits}")
    elif g.lanes * g.lane_bits != g.word_bits:
        bad(f"word_bits ({g.word_bits}) must equal lanes x lane_bits ({g.lanes} x "
            f"{g.lane_bits} = {g.lanes * g.lane_bits})")
    if g.lanes > MAX_LANES:
        bad(f"lanes must be at most {MAX_LANES} (a lane-mask immediate is a signed 32-bit "
            f"field), got {g.lanes}")
    if g.word_bits % 8 or (g.word_bits and (g.row_bytes * 8) % g.word_bits):
        bad(f"row_bytes ({g.row_bytes}) must hold a whole number of {g.word_bits}-bit words")
    elif g.word_bits and g.cols > (1 << FIELD_BITS["col"]):
        bad(f"a row of {g.cols} words exceeds the {1 << FIELD_BITS['col']} the col field holds")
    if g.banks >= ALL_BANKS:
        bad(f"banks must be below {ALL_BANKS}, got {g.banks}")
    if g.banks_per_pim_unit and g.banks % g.banks_per_pim_unit:
        bad(f"banks ({g.banks}) must be a multiple of banks_per_pim_unit")
    if g.bank_groups and g.banks % g.bank_groups:
        bad(f"banks ({g.banks}) must be a multiple of bank_groups ({g.bank_groups})")
    elif g.bank_groups and g.banks_per_pim_unit and (
            g.banks // g.bank_groups) % g.banks_per_pim_unit:
        bad(f"banks per bank group ({g.banks // g.bank_groups}) must be a multiple of "
            f"banks_per_pim_unit ({g.banks_per_pim_unit}): a unit's banks share a bank group")
    if g.vector_registers > 255:
        bad(f"vector_registers must be at most 255, got {g.vector_registers}")
    if not 1 <= g.mask_registers <= PRED_MASK_BITS + 1:
        bad(f"mask_registers must be in 1..{PRED_MASK_BITS + 1}, got {g.mask_registers}")
    if g.rows > (1 << FIELD_BITS["row"]):
        bad(f"rows must be at most 2^{FIELD_BITS['row']}, got {g.rows}")


def _check_timing(t: Timing, errors: list[str], where: str) -> None:
    if t.tCK_ns <= 0:
        errors.append(f"{where}: [timing] tCK_ns must be positive, got {t.tCK_ns}")
    if t.tCCD_L < 1:
        errors.append(f"{where}: [timing] tCCD_L must be at least 1 (one PIM command slot)")
    if t.tRC and t.tRAS > t.tRC:
        errors.append(f"{where}: [timing] tRAS ({t.tRAS}) cannot exceed tRC ({t.tRC})")
    if t.tREFI and t.tRFC >= t.tREFI:
        errors.append(f"{where}: [timing] tRFC ({t.tRFC}) must be below tREFI ({t.tREFI})")
    if t.per_bank and not (t.tREFIpb and t.tRFCpb):
        errors.append(f"{where}: [timing] refresh = 'per-bank' needs tRFCpb and tREFIpb")


def parse_arch(doc: dict[str, object], where: str) -> Arch:
    """Build and validate an Arch from parsed TOML; InputError lists every bad field."""
    errors: list[str] = []
    for key in doc:
        if key not in ("name", "description", "geometry", "timing"):
            errors.append(f"{where}: unknown key {key!r}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"{where}: 'name' must be a non-empty string")
        name = "?"
    description = doc.get("description", "")
    if not isinstance(description, str):
        errors.append(f"{where}: 'description' must be a string")
        description = ""
    gvals = _check_section(Geometry, doc.get("geometry"), "geometry", errors, where)
    tvals = _check_section(Timing, doc.get("timing"), "timing", errors, where)
    if errors:
        raise InputError("\n".join(errors))
    gvals.setdefault("lane_bits", LANE_BITS)
    if "lanes" not in gvals:
        gvals["lanes"] = int(gvals["word_bits"]) // max(int(gvals["lane_bits"]), 1)  # type: ignore[call-overload]
    geometry = Geometry(**gvals)  # type: ignore[arg-type]
    timing = Timing(**tvals)  # type: ignore[arg-type]
    _check_geometry(geometry, errors, where)
    _check_timing(timing, errors, where)
    if errors:
        raise InputError("\n".join(errors))
    return Arch(name, description, geometry, timing, where)


# The bundled presets (package pimisa.presets, installed as files beside this module; found
# without importlib.resources, which costs every command a few milliseconds to import).
PRESETS = Path(__file__).resolve().parent / "presets"


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    files = PRESETS.iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def _split_overrides(spec: str) -> tuple[str, dict[str, int | str]]:
    """`NAME:FIELD=VALUE,...` -> (NAME, {FIELD: VALUE}); no `:...=` part: no overrides."""
    base, colon, tail = spec.rpartition(":")
    if not colon or "=" not in tail or not base:
        return spec, {}
    overrides: dict[str, int | str] = {}
    fields = {f.name for f in dataclasses.fields(Geometry)}
    for item in tail.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if eq and key == "refresh":
            overrides[key] = value  # a [timing] choice, checked with the preset
            continue
        if not eq or key not in fields:
            raise InputError(f"architecture {spec!r}: {item.strip()!r} is not FIELD=VALUE with a "
                             f"geometry field ({', '.join(sorted(fields))}) or refresh")
        try:
            overrides[key] = int(value, 0)
        except ValueError:
            raise InputError(f"architecture {spec!r}: {key} must be an integer, got "
                             f"{value[:24]!r}") from None
    return base, overrides


def load_arch(spec: str | Path | None = None) -> Arch:
    """Load a bundled preset by name, or a user preset from a .toml path (default: hbm3),
    either with optional geometry overrides (`hbm2-pim:lane_bits=32`, module docstring)."""
    spec = DEFAULT_ARCH if spec is None else spec
    base, overrides = _split_overrides(str(spec))
    arch = _load_base(base, overrides, str(spec))
    return arch


def _load_base(text_spec: str, overrides: dict[str, int | str], full: str) -> Arch:
    if text_spec.endswith(".toml") or "/" in text_spec:
        path = Path(text_spec)
        text = read_text(path, "preset")
        where = str(path)
    else:
        if text_spec not in preset_names():
            raise InputError(
                f"unknown architecture {text_spec!r}; presets: {', '.join(preset_names())} "
                "(or pass a .toml file)"
            )
        text = (PRESETS / f"{text_spec}.toml").read_text(encoding="utf-8")
        where = f"preset {text_spec}"
    doc = parse_toml(text, where)
    if overrides:
        timing = doc.get("timing")
        if "refresh" in overrides and isinstance(timing, dict):
            timing["refresh"] = overrides.pop("refresh")
        geometry = doc.get("geometry")
        if isinstance(geometry, dict):
            if "lane_bits" in overrides and "lanes" not in overrides:
                geometry.pop("lanes", None)  # derived again from the new lane width
            geometry.update(overrides)
        where = f"architecture {full}"
        arch = parse_arch(doc, where)
        return dataclasses.replace(arch, name=full)
    return parse_arch(doc, where)
