"""Named preset tables (`[models.NAME]`, `[gpus.NAME]`) from a bundled or a user TOML file.

Both preset kinds of the JIT-Q analysis share this loader so they validate the same way: every
bad key is reported at once, one line each, naming the file and the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pimisa.errors import InputError, UsageError
from pimisa.fileio import parse_toml, read_text

PACKAGE = "pimisa.jitq.presets"
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One named table of a preset file and where it came from (for messages)."""

    name: str
    table: dict[str, object]
    where: str  # e.g. "preset models [models.gpt3-125m]" or "mine.toml [gpus.x]"


def is_path(spec: str) -> bool:
    """True when a preset argument names a file rather than a bundled preset."""
    return spec.endswith(".toml") or "/" in spec


def select(spec: str | None, load: Callable[..., dict[str, T]], kind: str) -> list[T]:
    """Presets for a command-line argument: None = every bundled one, a bundled name, or every
    entry of a .toml file (`load()` reads the bundled file, `load(path)` a user file)."""
    if spec is not None and is_path(spec):
        return list(load(spec).values())
    bundled = load()
    if spec is None:
        return list(bundled.values())
    if spec not in bundled:
        raise UsageError(f"unknown {kind} {spec!r}; presets: {', '.join(bundled)} "
                         "(or pass a .toml file)")
    return [bundled[spec]]


def _read(spec: str, bundled: str) -> tuple[str, str]:
    if is_path(spec):
        path = Path(spec)
        return read_text(path, "preset"), str(path)
    text = resources.files(PACKAGE).joinpath(f"{bundled}.toml").read_text(encoding="utf-8")
    return text, f"preset {bundled}"


def load_entries(spec: str, section: str, bundled: str) -> list[Entry]:
    """The `[section.NAME]` tables of a file (`spec` is a path) or of the bundled file.

    A top-level `source` string applies to every entry that gives none.
    """
    text, where = _read(spec, bundled)
    doc = parse_toml(text, where)
    errors = [f"{where}: unknown top-level key {k!r} (expected [{section}.NAME] tables)"
              for k in doc if k not in (section, "source")]
    tables = doc.get(section)
    if not isinstance(tables, dict) or not tables:
        errors.append(f"{where}: no [{section}.NAME] table")
        tables = {}
    source = doc.get("source", "")
    entries = []
    for name, table in tables.items():
        here = f"{where} [{section}.{name}]"
        if not isinstance(table, dict):
            errors.append(f"{here}: must be a table")
            continue
        table = dict(table)
        if source and "source" not in table:
            table["source"] = source
        entries.append(Entry(name, table, here))
    if errors:
        raise InputError("\n".join(errors))
    return entries


class Fields:
    """Typed, validated reads of one entry's keys; errors pile up in `errors`."""

    def __init__(self, entry: Entry, errors: list[str]) -> None:
        self.entry = entry
        self.errors = errors
        self.seen: set[str] = set()

    def _get(self, key: str, default: object) -> object:
        self.seen.add(key)
        if key not in self.entry.table:
            if default is None:
                self.errors.append(f"{self.entry.where}: missing key {key!r}")
            return default
        return self.entry.table[key]

    def positive_int(self, key: str, default: int | None = None) -> int:
        """An integer >= 1."""
        value = self._get(key, default)
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.errors.append(f"{self.entry.where}: {key} must be a positive integer, "
                               f"got {value!r}")
            return 1
        return value

    def positive_number(self, key: str, default: float | None = None) -> float:
        """A number > 0."""
        value = self._get(key, default)
        if value is None:
            return 1.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            self.errors.append(f"{self.entry.where}: {key} must be a positive number, "
                               f"got {value!r}")
            return 1.0
        return float(value)

    def string(self, key: str, default: str | None = None) -> str:
        """A string."""
        value = self._get(key, default)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.errors.append(f"{self.entry.where}: {key} must be a string, got {value!r}")
            return ""
        return value

    def table(self, key: str) -> Fields:
        """A sub-table, read with the same rules (a missing one reports its missing keys)."""
        self.seen.add(key)
        value = self.entry.table.get(key, {})
        if not isinstance(value, dict):
            self.errors.append(f"{self.entry.where}: {key} must be a table")
            value = {}
        return Fields(Entry(self.entry.name, value, f"{self.entry.where}.{key}"), self.errors)

    def unknown(self) -> None:
        """Report the keys that were never read."""
        for key in self.entry.table:
            if key not in self.seen:
                self.errors.append(f"{self.entry.where}: unknown key {key!r}")

