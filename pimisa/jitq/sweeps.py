"""Sweeps over scenario fields: the analysis at every point of a grid of `--set` values.

An axis is a field path and its values (`workload.micro_batch=1,2,4,8`, values as TOML);
the grid is the product of the axes. Each point loads the scenario with the point's overrides
(so every value is validated as a `--set` is) and analyses every model x GPU x format of it;
the PIM launches are memoised, so a point that only moves GPU-side fields schedules nothing.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pimisa.errors import UsageError
from pimisa.executor import Executor, SerialExecutor
from pimisa.jitq.gpu import Gpu
from pimisa.jitq.pim import PimTimer
from pimisa.jitq.report import PimModel, Row, sweep
from pimisa.jitq.scenario import Scenario, formats, load, options, parse_set
from pimisa.jitq.workloads import Model

MAX_POINTS = 100_000
METRICS = ("fwd_slack", "bwd_slack", "loss", "savings", "row_util", "col_util")


@dataclass(frozen=True)
class Axis:
    """One swept field and its values (as TOML text)."""

    path: str
    values: tuple[str, ...]


def parse_axis(text: str) -> Axis:
    """`path=v1,v2,...` (commas inside [] or quotes do not split); UsageError when malformed."""
    path, sep, rest = text.partition("=")
    path = path.strip()
    if not sep or not path or not rest.strip():
        raise UsageError(f"--axis {text!r}: expected path.field=v1,v2,...")
    values, depth, quote, cur = [], 0, "", ""
    for ch in rest:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(cur.strip())
            cur = ""
            continue
        cur += ch
    values.append(cur.strip())
    if any(not v for v in values):
        raise UsageError(f"--axis {text!r}: empty value")
    for v in values:
        parse_set(f"{path}={v}")
    return Axis(path, tuple(values))


def points(axes: list[Axis]) -> Iterator[tuple[str, ...]]:
    """Every combination of the axes' values, the first axis outermost."""
    return itertools.product(*(a.values for a in axes))


def count(axes: list[Axis]) -> int:
    """Number of grid points."""
    n = 1
    for a in axes:
        n *= len(a.values)
    return n


def record(values: dict[str, str], row: Row) -> dict[str, object]:
    """One output record: the point's axis values, the row's keys and metrics."""
    fwd, bwd = row.slack
    return {**values, "model": row.model.name, "gpu": row.gpu.name, "format": row.fmt,
            "tp": row.setup.tp, "pp": row.setup.pp, "fwd_slack": fwd.slack_fraction,
            "bwd_slack": bwd.slack_fraction, "loss": row.loss.loss,
            "savings": row.memory.savings, "row_util": row.pim["row"].utilisation,
            "col_util": row.pim["col"].utilisation}


Pick = tuple[list[Model], list[Gpu]]  # the models and GPUs a point analyses, by name


def _picked(scenario: Scenario, pick: Pick | None) -> Pick:
    """The point's own tables for the picked names (a point may override their fields), the
    picked objects where the point has no table of that name."""
    if pick is None:
        return scenario.models, scenario.gpus
    return ([scenario.all_models.get(m.name) or m for m in pick[0]],
            [scenario.all_gpus.get(g.name) or g for g in pick[1]])


def grid_point(spec: str, sets: list[str], point: list[str], values: dict[str, str],
               pick: Pick | None, pim: PimModel) -> list[dict[str, object]]:
    """The records of one grid point: the scenario with the point's overrides, analysed."""
    scenario = load(spec, [*sets, *point])
    models, gpus = _picked(scenario, pick)
    rows = sweep(models, gpus, formats(scenario), pim, options(scenario))
    return [record(values, r) for r in rows]


_TIMERS: dict[str, PimTimer] = {}


def remote_grid_point(spec: str, sets: list[str], point: list[str], values: dict[str, str],
                      pick: Pick | None, cache_dir: str) -> list[dict[str, object]]:
    """`grid_point` in a worker process, on that process's PimTimer over the shared cache."""
    if cache_dir not in _TIMERS:
        _TIMERS[cache_dir] = PimTimer(Path(cache_dir))
    return grid_point(spec, sets, point, values, pick, _TIMERS[cache_dir])


def run_grid(spec: str, sets: list[str], axes: list[Axis], pim: PimModel,
             pick: Pick | None = None, executor: Executor | None = None
             ) -> list[dict[str, object]]:
    """Records of every grid point, in grid order (`pick` narrows each point's models and
    GPUs). With a parallel `executor` the points run on its workers, each worker timing on a
    PimTimer over `pim`'s cache folder (a PimTimer's); the records are the same."""
    if count(axes) > MAX_POINTS:
        raise UsageError(f"the sweep has {count(axes)} points; at most {MAX_POINTS}")
    items = [([f"{a.path}={v}" for a, v in zip(axes, combo, strict=True)],
              {a.path: v for a, v in zip(axes, combo, strict=True)}) for combo in points(axes)]
    if executor is None or isinstance(executor, SerialExecutor):
        parts = [grid_point(spec, sets, point, values, pick, pim) for point, values in items]
    else:
        if not isinstance(pim, PimTimer):
            raise UsageError("a parallel sweep times on the scheduler (a PimTimer)")
        parts = list(executor.map(remote_grid_point,
                                  ((spec, sets, point, values, pick, str(pim.cache_dir))
                                   for point, values in items)))
    return [r for part in parts for r in part]


def to_csv(records: list[dict[str, object]]) -> str:
    """CSV with a header row."""
    if not records:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def to_json(records: list[dict[str, object]], axes: list[Axis]) -> str:
    """JSON: the axes and the records."""
    return json.dumps({"axes": {a.path: list(a.values) for a in axes}, "records": records},
                      indent=2)


def to_table(records: list[dict[str, object]]) -> str:
    """Aligned text table, fractions as percent."""
    if not records:
        return ""
    header = list(records[0])
    cells = [[f"{100 * v:.1f}" if k in METRICS else str(v) for k, v in r.items()]
             for r in records]
    head = [f"{k}_%" if k in METRICS else k for k in header]
    widths = [max(len(x) for x in col) for col in zip(head, *cells, strict=True)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True))
                     for line in [head, *cells])
