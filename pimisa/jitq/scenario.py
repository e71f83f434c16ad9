"""Scenarios: every assumption of the JIT-Q analysis in one TOML file, each with its source.

A scenario is a bundled file (`pimisa/jitq/scenarios/NAME.toml`: `default` holds the
assumptions the analysis has always made, `paper` the ones chosen from public sources for the
paper's setting) or a user's file by path. Its sections and fields are the table `SCHEMA`
below (one table, which validates files, `--set` overrides and documents the fields); the
models and GPUs are `[models.NAME]` / `[gpus.NAME]` tables with the keys of the bundled
presets (`presets/models.toml`, `presets/gpus.toml`), or `from = "NAME"` to start from a
bundled preset and override some of its keys. Every table carries a one-line `source`.

`--set path=value` overrides one field before validation: the path is a TOML dotted key
(`capacity.dp_shard`, `gpus.mi300x.tflops.mx6`, `models."gpt3-1.3b".layers`), the value a TOML
value (a bare word is taken as a string).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pimisa.errors import InputError, UsageError
from pimisa.fileio import parse_toml, read_text
from pimisa.jitq import gpu as gpu_presets
from pimisa.jitq import workloads
from pimisa.jitq.capacity import Setup
from pimisa.jitq.gpu import MX_FORMATS, Gpu
from pimisa.jitq.report import Options
from pimisa.jitq.tomlpresets import Entry, Fields, is_path, load_entries
from pimisa.jitq.workloads import Model
from pimisa.kernels import ISA_ADDITIONS

PACKAGE = "pimisa.jitq.scenarios"
DEFAULT = "default"
DIRECTIONS = ("row", "col")
COMPONENTS = ("master", "working", "grads", "optimizer")


@dataclass(frozen=True)
class Kind:
    """How one field is checked and what it means (for messages and docs)."""

    check: Callable[[object], bool]
    expected: str


def _int(lo: int) -> Kind:
    return Kind(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= lo,
                f"an integer >= {lo}")


def _num(lo: float, strict: bool = False) -> Kind:
    def ok(v: object) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        return v > lo if strict else v >= lo
    return Kind(ok, f"a number {'>' if strict else '>='} {lo:g}")


def _choice(*options: str) -> Kind:
    return Kind(lambda v: v in options, "one of " + ", ".join(map(repr, options)))


def _subset(*options: str) -> Kind:
    return Kind(lambda v: isinstance(v, list) and all(x in options for x in v)
                and len(set(v)) == len(v),
                "a list of distinct values among " + ", ".join(map(repr, options)))


def _nonempty_subset(*options: str) -> Kind:
    base = _subset(*options)
    return Kind(lambda v: base.check(v) and bool(v), "a non-empty " + base.expected[2:])


def _pairs(v: object) -> bool:
    if not isinstance(v, list):
        return False
    ok = all(isinstance(p, list) and len(p) == 2 and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in p)
        for p in v)
    return ok and [p[0] for p in v] == sorted({p[0] for p in v})


BOOL = Kind(lambda v: isinstance(v, bool), "true or false")
TEXT = Kind(lambda v: isinstance(v, str), "a string")
NAMES = Kind(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
             "a list of names")
PAIRS = Kind(_pairs, "a list of [PIM share, slowdown] pairs, shares increasing, all >= 0")

# section -> field -> (kind, meaning). Every field is required in a scenario file.
SCHEMA: dict[str, dict[str, tuple[Kind, str]]] = {
    "workload": {
        "models": (NAMES, "models analysed (names of [models.NAME] tables), in order"),
        "gpus": (NAMES, "GPUs analysed (names of [gpus.NAME] tables), in order"),
        "formats": (_nonempty_subset(*MX_FORMATS), "MX formats analysed"),
        "micro_batch": (_int(1), "sequences per GEMM"),
        "seq": (_int(0), "tokens per sequence; 0 = each model's own"),
        "attention_gemms": (BOOL, "count the attention GEMMs (QK^T, AV) as GPU time that "
                            "hides PIM, besides the weight GEMMs"),
        "backward_gemms": (_choice("dgrad+wgrad", "dgrad"), "GEMMs of the backward window "
                           "that hide the column quantization"),
        "source": (TEXT, "where these choices come from"),
    },
    "pim": {
        "launch": (_choice("weight", "block"), "one kernel launch per weight matrix, or one "
                   "per block (the four weights share the PIM units)"),
        "hp": (_choice("fp32", "bf16"), "precision of the high-precision weights the kernels "
               "read: fp32 (kernels mx*_{row,col}) or bf16 (mx*_{row,col}_bf16, twice the "
               "elements per tile; mx*_{row,col}_bf16x16 on a GPU whose PIM has 16-bit lanes)"),
        "additions": (_subset(*(a.name for a in ISA_ADDITIONS)), "ISA additions beyond the "
                      "paper's masked compare and conditional shift that the bundled kernels "
                      "use (the kernel set; docs/jitq.md shows what each buys)"),
        "kernels": (Kind(lambda v: isinstance(v, dict), "a table"),
                    "kernel per format and direction, e.g. mx6_row = \"my.pimasm\" (bundled "
                    "name or .pimasm path); a missing entry is the bundled kernel for pim.hp"),
        "source": (TEXT, "where these choices come from"),
    },
    "throughput": {
        "slowdown": (_num(0), "GEMM slowdown while PIM runs, as a fraction (used when "
                     "slowdown_table is empty)"),
        "slowdown_table": (PAIRS, "slowdown as a function of the PIM share of the block "
                           "time (linear between points, constant beyond)"),
        "first_block_hidden": (BOOL, "the first block of each pass is quantized behind the "
                               "previous step (no fill time)"),
        "source": (TEXT, "where these choices come from"),
    },
    "deployment": {
        "fit": (BOOL, "choose the smallest tp x pp whose baseline fits in the GPU's memory"),
        "tp": (_int(1), "tensor-parallel degree when fit = false"),
        "pp": (_int(1), "pipeline-parallel degree when fit = false"),
        "sequence_parallel": (BOOL, "Megatron sequence parallelism"),
        "recompute": (_choice("none", "selective", "full"), "activation recomputation"),
        "source": (TEXT, "where these choices come from"),
    },
    "capacity": {
        "master_bytes": (_num(0), "bytes per parameter of the master weights"),
        "working_bytes": (_num(0), "bytes per parameter of the working (BF16) weight copy"),
        "grad_bytes": (_num(0), "bytes per parameter of the gradients"),
        "optimizer_bytes": (_num(0), "bytes per parameter of the optimizer state"),
        "dp_shard": (_int(1), "data-parallel ranks the sharded components are split over"),
        "sharded": (_subset(*COMPONENTS), "components split over dp_shard ranks"),
        "lp_copies": (_subset(*DIRECTIONS), "LP copies the baseline keeps in memory"),
        "lp_bits": (_choice("nominal", "packed"), "LP copy size: the format's nominal bits "
                    "or the kernels' packed words"),
        "source": (TEXT, "where these choices come from"),
    },
}
TOP = {"description": (TEXT, "one line: what this scenario is"),
       "source": (TEXT, "where its assumptions come from")}
OPEN_TABLES = ("models", "gpus")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the raw tables (for JSON and docs) and the objects built."""

    name: str
    doc: dict[str, object]
    models: list[Model]  # the ones workload.models selects, in order
    gpus: list[Gpu]
    all_models: dict[str, Model]  # every [models.NAME] table
    all_gpus: dict[str, Gpu]

    def get(self, section: str, key: str) -> object:
        """One field, e.g. get('capacity', 'dp_shard')."""
        return self.doc[section][key]  # type: ignore[index]


def bundled_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files(PACKAGE).iterdir()
                  if p.name.endswith(".toml"))


def _read(spec: str) -> tuple[str, str]:
    if is_path(spec):
        return read_text(spec, "preset"), spec
    if spec not in bundled_names():
        raise UsageError(f"unknown scenario {spec!r}; bundled: {', '.join(bundled_names())} "
                         "(or pass a .toml file)")
    return resources.files(PACKAGE).joinpath(f"{spec}.toml").read_text("utf-8"), spec


def parse_set(item: str) -> dict[str, object]:
    """`path=value` as a nested table (UsageError naming the item when it is malformed)."""
    path, sep, value = item.partition("=")
    path, value = path.strip(), value.strip()
    if not sep or not path:
        raise UsageError(f"--set {item!r}: expected path.field=value")
    for text in (f"{path} = {value}", f"{path} = {_quote(value)}"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
    raise UsageError(f"--set {item!r}: {path!r} is not a dotted field path")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _merge(into: dict[str, object], new: dict[str, object], at: str, seen: set[str]) -> None:
    for key, value in new.items():
        here = f"{at}.{key}" if at else key
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, here, seen)  # type: ignore[arg-type]
        else:
            into[key] = value
            seen.add(here)


def _leaf_paths(table: dict[str, object], at: str = "") -> list[str]:
    out = []
    for key, value in table.items():
        here = f"{at}.{key}" if at else key
        out += _leaf_paths(value, here) if isinstance(value, dict) else [here]
    return out


def load(spec: str = DEFAULT, sets: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override and validate a scenario. Errors: every bad field, one line each, naming
    the file and the field; UsageError when a `--set` caused one, else InputError."""
    text, where = _read(spec)
    doc = parse_toml(text, where)
    from_cli: set[str] = set()
    for item in sets:
        _merge(doc, parse_set(item), "", from_cli)
    errors: list[tuple[str, str]] = []  # (field path, message)
    _check(doc, errors)
    models = _build(doc, "models", workloads.BUNDLED, workloads.model_from, errors)
    gpus = _build(doc, "gpus", gpu_presets.BUNDLED, gpu_presets.gpu_from, errors)
    _check_selection(doc, models, gpus, errors)
    if errors:
        cli = [p for p, _ in errors if any(p == s or p.startswith(s + ".") or s.startswith(p)
                                           for s in from_cli)]
        lines = [f"{'--set ' if p in cli else where + ': '}{p}: {m}" for p, m in errors]
        raise (UsageError if cli else InputError)("\n".join(lines))
    name = Path(where).stem if is_path(spec) else spec
    selected_models = [models[n] for n in doc["workload"]["models"]]  # type: ignore[index]
    selected_gpus = [gpus[n] for n in doc["workload"]["gpus"]]  # type: ignore[index]
    return Scenario(name, doc, selected_models, selected_gpus, models, gpus)  # type: ignore[arg-type]


def _check(doc: dict[str, object], errors: list[tuple[str, str]]) -> None:
    known = {**SCHEMA, **dict.fromkeys(OPEN_TABLES)}
    for key in doc:
        if key not in known and key not in TOP:
            errors.append((key, f"unknown field (sections: {', '.join(known)})"))
    for key, (kind, _) in TOP.items():
        if key in doc and not kind.check(doc[key]):
            errors.append((key, f"must be {kind.expected}, got {doc[key]!r}"))
    for section, fields in SCHEMA.items():
        table = doc.get(section)
        if not isinstance(table, dict):
            errors.append((section, "missing table" if table is None else "must be a table"))
            continue
        for key in table:
            if key not in fields:
                errors.append((f"{section}.{key}", "unknown field (fields: "
                               f"{', '.join(fields)})"))
        for key, (kind, _) in fields.items():
            if key not in table:
                errors.append((f"{section}.{key}", "missing"))
            elif not kind.check(table[key]):
                errors.append((f"{section}.{key}", f"must be {kind.expected}, "
                               f"got {table[key]!r}"))
    kernels = doc.get("pim", {}).get("kernels") if isinstance(doc.get("pim"), dict) else None
    if isinstance(kernels, dict):
        wanted = [f"{f}_{d}" for f in MX_FORMATS for d in DIRECTIONS]
        for key, value in kernels.items():
            if key not in wanted:
                errors.append((f"pim.kernels.{key}", f"unknown field (fields: "
                               f"{', '.join(wanted)})"))
            elif not isinstance(value, str) or not value:
                errors.append((f"pim.kernels.{key}", f"must be a kernel name, got {value!r}"))


def _build(doc: dict[str, object], section: str, bundled: str,
           make: Callable[[Fields], object], errors: list[tuple[str, str]]) -> dict[str, object]:
    tables = doc.get(section, {})
    if not isinstance(tables, dict):
        errors.append((section, "must be a table of [" + section + ".NAME] tables"))
        return {}
    library = {e.name: e.table for e in load_entries(bundled, section, bundled)}
    out = {}
    for name, table in tables.items():
        here = f"{section}.{name}"
        if not isinstance(table, dict):
            errors.append((here, "must be a table"))
            continue
        table = dict(table)
        base = table.pop("from", None)
        if base is not None:
            if base not in library:
                errors.append((f"{here}.from", f"no bundled {section[:-1]} {base!r} "
                               f"(bundled: {', '.join(library)})"))
                continue
            table = _overlay(library[base], table)
        messages: list[str] = []
        out[name] = make(Fields(Entry(name, table, here), messages))
        for m in messages:
            field, _, text = m.partition(": ")
            key, _, rest = text.partition(" ")
            if rest.startswith("must"):  # "mx6 must be ..." -> field gpus.X.tflops.mx6
                field, text = f"{field}.{key}", rest
            errors.append((field, text))
    return out


def _overlay(base: dict[str, object], over: dict[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)  # type: ignore[arg-type]
        else:
            merged[key] = value
    return merged


def _check_selection(doc: dict[str, object], models: dict[str, object],
                     gpus: dict[str, object], errors: list[tuple[str, str]]) -> None:
    workload = doc.get("workload")
    if not isinstance(workload, dict):
        return
    for key, have in (("models", models), ("gpus", gpus)):
        names = workload.get(key)
        if not isinstance(names, list):
            continue
        if not names:
            errors.append((f"workload.{key}", "must name at least one"))
        for n in names:
            if isinstance(n, str) and n not in have:
                errors.append((f"workload.{key}", f"{n!r} has no [{key}.{n}] table"))


def field_docs() -> list[tuple[str, str, str]]:
    """(path, expected value, meaning) of every scenario field, for docs and --help."""
    rows = [(k, kind.expected, text) for k, (kind, text) in TOP.items()]
    for section, fields in SCHEMA.items():
        rows += [(f"{section}.{k}", kind.expected, text) for k, (kind, text) in fields.items()]
    return rows


def leaf_fields(scenario: Scenario) -> list[str]:
    """Every settable field path of a loaded scenario (sweep axes)."""
    return _leaf_paths(scenario.doc)


def options(scenario: Scenario) -> Options:
    """The analysis settings a scenario gives."""
    w, p, t, d, c = (scenario.doc[k] for k in ("workload", "pim", "throughput", "deployment",
                                                "capacity"))
    table = tuple((float(a), float(b)) for a, b in t["slowdown_table"])  # type: ignore[index]
    setup = Setup(tp=d["tp"], pp=d["pp"], micro_batch=w["micro_batch"],  # type: ignore[index]
                  sequence_parallel=d["sequence_parallel"], recompute=d["recompute"],
                  master_bytes=float(c["master_bytes"]), working_bytes=float(c["working_bytes"]),
                  grad_bytes=float(c["grad_bytes"]), optimizer_bytes=float(c["optimizer_bytes"]),
                  dp_shard=c["dp_shard"], sharded=tuple(c["sharded"]),
                  lp_copies=tuple(c["lp_copies"]), lp_bits=c["lp_bits"])
    return Options(micro_batch=w["micro_batch"],  # type: ignore[index]
                   slowdown=table or float(t["slowdown"]), setup=setup, fit=d["fit"],
                   seq=w["seq"], attention=w["attention_gemms"], backward=w["backward_gemms"],
                   first_block_hidden=t["first_block_hidden"], per_block=p["launch"] == "block",
                   kernels=dict(p["kernels"]), hp=p["hp"], additions=tuple(p["additions"]))


def formats(scenario: Scenario) -> list[str]:
    """The formats a scenario analyses."""
    return list(scenario.get("workload", "formats"))  # type: ignore[arg-type]
