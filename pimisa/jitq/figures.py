"""The slack figure: slack as a share of the block's GPU time, per model, format, pass and GPU."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pimisa.errors import UsageError
from pimisa.fileio import atomic_open
from pimisa.jitq.report import Row
from pimisa.jitq.slack import DIRECTION, PASSES

FIGURE_FORMATS = ("png", "svg")
COLOURS = {"mx9": "#4c72b0", "mx6": "#dd8452", "mx4": "#55a868"}


def figure_format(path: str | Path) -> str:
    """'png' or 'svg' from the file name; UsageError otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        raise UsageError(f"{path}: the figure must be a .png or .svg file")
    return suffix


def data_digest(rows: list[Row]) -> str:
    """A digest of the values the figure plots, stored in its metadata: a figure whose digest
    matches fresh rows shows current data, whatever matplotlib version drew it."""
    values = [(r.model.name, r.gpu.name, r.fmt, p.passname, round(p.slack_fraction, 6))
              for r in rows for p in r.slack]
    return "pimisa-jitq-slack:" + hashlib.sha256(repr(values).encode()).hexdigest()[:32]


def plot_slack(rows: list[Row], path: str | Path) -> None:
    """Draw the slack figure and write it atomically to `path` (.png or .svg)."""
    kind = figure_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r.model.name for r in rows))
    gpus = list(dict.fromkeys(r.gpu.name for r in rows))
    fmts = list(dict.fromkeys(r.fmt for r in rows))
    by_key = {r.key: r for r in rows}
    fig, axes = plt.subplots(len(PASSES), len(gpus), figsize=(4.2 * len(gpus) + 1, 6.5),
                             squeeze=False, sharey="row")
    width = 0.8 / len(fmts)
    for row, passname in enumerate(PASSES):
        for col, gpu in enumerate(gpus):
            ax = axes[row][col]
            for i, fmt in enumerate(fmts):
                xs, ys = [], []
                for j, model in enumerate(models):
                    r = by_key.get((model, gpu, fmt))
                    if r is not None:
                        xs.append(j + (i - (len(fmts) - 1) / 2) * width)
                        ys.append(100 * r.slack[row].slack_fraction)
                ax.bar(xs, ys, width, label=fmt.upper(), color=COLOURS.get(fmt))
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_xticks(range(len(models)))
            ax.set_xticklabels([m.removeprefix("gpt3-") for m in models], rotation=45,
                               fontsize=8)
            ax.set_title(f"{gpu}: {passname} ({DIRECTION[passname]} quantization)", fontsize=9)
            if col == 0:
                ax.set_ylabel("slack (% of block GEMM time)")
            ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=len(fmts), fontsize=8)
    fig.suptitle("JIT-Q slack: GPU time of a block minus PIM time for the next block's weights",
                 fontsize=10, x=0.4)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    # a fixed salt keeps the SVG's element ids, and so the file, the same from run to run
    with matplotlib.rc_context({"svg.hashsalt": "pimisa-jitq"}), atomic_open(path, "wb") as handle:
        fig.savefig(handle, format=kind, dpi=110,
                    metadata={"Description": data_digest(rows), "Date": None}
                    if kind == "svg" else {"Description": data_digest(rows)})
    plt.close(fig)


def _save(fig: object, path: str | Path, digest: str) -> None:
    import matplotlib
    import matplotlib.pyplot as plt

    kind = figure_format(path)
    with matplotlib.rc_context({"svg.hashsalt": "pimisa-jitq"}), atomic_open(path, "wb") as handle:
        fig.savefig(handle, format=kind, dpi=110,  # type: ignore[attr-defined]
                    metadata={"Description": digest, "Date": None}
                    if kind == "svg" else {"Description": digest})
    plt.close(fig)  # type: ignore[arg-type]


def plot_metric(records: list[dict[str, object]], axis: str, metric: str,
                path: str | Path) -> None:
    """A sweep's `metric` (a fraction) against its first axis, one line per model, GPU and
    format; written atomically to `path` (.png or .svg)."""
    figure_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(dict.fromkeys(str(r[axis]) for r in records))
    lines: dict[str, dict[str, float]] = {}
    for r in records:
        key = f"{r['model']} {r['gpu']} {r['format']}"
        lines.setdefault(key, {})[str(r[axis])] = 100 * float(r[metric])  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, ys in lines.items():
        ax.plot([x for x in xs if x in ys], [ys[x] for x in xs if x in ys], marker="o",
                label=key, linewidth=1)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel(axis)
    ax.set_ylabel(f"{metric} (%)")
    ax.grid(alpha=0.3)
    if len(lines) <= 12:
        ax.legend(fontsize=7)
    fig.tight_layout()
    digest = hashlib.sha256(repr(sorted(lines.items())).encode()).hexdigest()[:32]
    _save(fig, path, f"pimisa-jitq-sweep:{digest}")


def _pyplot():  # noqa: ANN202 - matplotlib is imported lazily (it is slow to import)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_batches(series: dict[str, dict[str, list[float]]], batches: list[int],
                 path: str | Path) -> None:
    """Slack (%) vs micro-batch: one panel per scenario, a line per format and direction
    (`series[scenario]["MX6 fwd/row"]` = slack fractions at `batches`)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 4), squeeze=False,
                             sharey=True)
    for ax, (name, lines) in zip(axes[0], series.items(), strict=True):
        for label, ys in lines.items():
            fmt = label.split()[0].lower()
            ax.plot(batches, [100 * y for y in ys], marker="o", label=label,
                    color=COLOURS.get(fmt), linestyle="-" if "fwd" in label else "--")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("micro-batch (sequences per GEMM)")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("slack (% of block GEMM time)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path, digest("batch", [series, batches]))


def plot_capacity(bars: dict[str, dict[str, float]], path: str | Path) -> None:
    """Memory per GPU as stacked bars (`bars[label][component]` = GB)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(bars) + 3, 4.5))
    labels = list(bars)
    components = list(dict.fromkeys(c for b in bars.values() for c in b))
    bottom = [0.0] * len(labels)
    for comp in components:
        heights = [bars[lab].get(comp, 0.0) for lab in labels]
        ax.bar(range(len(labels)), heights, 0.6, bottom=bottom, label=comp)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8, rotation=30, ha="right")
    ax.set_ylabel("GB per GPU (first pipeline stage)")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, path, digest("capacity", bars))


def plot_loss(curves: dict[str, list[float]], slowdowns: list[float], target: float,
              path: str | Path) -> None:
    """Throughput loss (%) vs GEMM slowdown (%), a line per curve, the paper's figure dashed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys in curves.items():
        ax.plot([100 * s for s in slowdowns], [100 * y for y in ys], marker=".", label=label)
    ax.axhline(100 * target, color="grey", linestyle="--", linewidth=1,
               label=f"paper: {100 * target:g} %")
    ax.set_xlabel("GEMM slowdown while PIM runs (%)")
    ax.set_ylabel("throughput loss (%)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path, digest("loss", [curves, slowdowns, target]))


def digest(kind: str, data: object) -> str:
    """The metadata tag of a figure of `kind` drawn from `data` (rounded to 6 places)."""
    return f"pimisa-jitq-{kind}:" + hashlib.sha256(repr(_rounded(data)).encode()).hexdigest()[:32]


def _rounded(data: object) -> object:
    if isinstance(data, float):
        return round(data, 6)
    if isinstance(data, dict):
        return {k: _rounded(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_rounded(v) for v in data]
    return data
