"""The JIT-Q sweep (models x GPUs x formats) and its text tables, JSON and claim checks.

Each (model, GPU) is analysed in one deployment: the smallest tensor/pipeline parallelism at
which the baseline (LP copies kept) fits in the GPU's memory (`capacity.fit_setup`), unless the
user fixes tp/pp. Slack and throughput use that deployment's per-GPU shard of the weights and a
micro-batch of `micro_batch` sequences per GEMM.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

from pimisa.jitq.capacity import GB, Memory, Setup, fit_setup, memory
from pimisa.jitq.gpu import Gpu, pass_time
from pimisa.jitq.pim import BlockPim, kernel_name
from pimisa.jitq.slack import DIRECTION, PASSES, SlackPoint, hiding_gemms, slack_points
from pimisa.jitq.throughput import DEFAULT_SLOWDOWN, Loss, Slowdown, iteration_loss
from pimisa.jitq.workloads import Gemm, Model, Weight, block_weights
from pimisa.kernels import addition_defines

MAX_BATCH = 1 << 16


class PimModel(Protocol):
    """What the analysis needs from PIM: the time of quantizing one block's weights."""

    def block(self, gpu: Gpu, weights: list[Weight], fmt: str, direction: str,
              kernel: str | None = None, per_block: bool = False,
              defines: tuple[tuple[str, int], ...] = ()) -> BlockPim:
        """PIM time, row opens and utilisation of one block's weights in `direction`."""


@dataclass(frozen=True)
class Options:
    """Sweep settings (a scenario's, `scenario_options`); tp/pp of `setup` are used only when
    `fit` is False."""

    micro_batch: int = 1
    slowdown: Slowdown = DEFAULT_SLOWDOWN
    setup: Setup = Setup()
    fit: bool = True
    seq: int = 0  # 0: each model's own sequence length
    attention: bool = False
    backward: str = "dgrad+wgrad"
    first_block_hidden: bool = False
    per_block: bool = False  # one launch per block instead of one per weight
    kernels: dict[str, str] = field(default_factory=dict)  # "mx6_row" -> kernel
    hp: str = "fp32"  # precision of the weights the bundled kernels read
    additions: tuple[str, ...] = ()  # ISA additions the bundled kernels use (kernel defines)

    def seq_of(self, model: Model) -> int:
        """Tokens per sequence for `model`."""
        return self.seq or model.seq

    def gemms(self, model: Model, tp: int, micro_batch: int | None = None) -> list[Gemm]:
        """The GEMMs of one block that hide PIM."""
        return hiding_gemms(model, micro_batch or self.micro_batch, self.seq_of(model), tp,
                            self.attention, self.backward)

    def kernel(self, fmt: str, direction: str, lane_bits: int = 32) -> str:
        """The kernel that quantizes to `fmt` in `direction` on lanes of `lane_bits`."""
        return self.kernels.get(kernel_name(fmt, direction)) or kernel_name(
            fmt, direction, self.hp, lane_bits)

    def defines(self) -> tuple[tuple[str, int], ...]:
        """The kernel defines of the chosen ISA additions, sorted."""
        return tuple(sorted(addition_defines(self.additions).items()))


@dataclass(frozen=True)
class Row:
    """Everything the analysis says about one (model, GPU, format)."""

    model: Model
    gpu: Gpu
    fmt: str
    setup: Setup
    fits: bool
    slack: list[SlackPoint]  # fwd, bwd
    loss: Loss
    memory: Memory
    pim: dict[str, BlockPim]  # per direction
    opts: Options

    @property
    def row_opens(self) -> dict[str, int]:
        """DRAM row activations per channel per direction, over the block's launches."""
        return {d: b.acts for d, b in self.pim.items()}

    @property
    def key(self) -> tuple[str, str, str]:
        """(model, GPU, format) names."""
        return (self.model.name, self.gpu.name, self.fmt)


def deployment(model: Model, gpu: Gpu, fmt: str, opts: Options) -> tuple[Setup, bool]:
    """The setup to analyse and whether its baseline fits in the GPU's memory."""
    if opts.fit:
        fitted = fit_setup(model, replace(opts.setup, micro_batch=opts.micro_batch), fmt,
                           gpu.memory_gb * GB)
        if fitted is not None:
            return fitted, True
        setup = replace(opts.setup, tp=8, pp=model.layers, micro_batch=opts.micro_batch)
    else:
        setup = replace(opts.setup, micro_batch=opts.micro_batch)
    return setup, memory(model, setup, fmt).baseline <= gpu.memory_gb * GB


_LANE_BITS: dict[tuple[object, ...], int] = {}


def lane_bits(gpu: Gpu) -> int:
    """The lane width of the PIM units in `gpu`'s memory (memoised per DRAM preset)."""
    key = (gpu.dram, gpu.pim)
    if key not in _LANE_BITS:
        _LANE_BITS[key] = gpu.arch().geometry.lane_bits
    return _LANE_BITS[key]


def analyse(model: Model, gpu: Gpu, fmt: str, pim: PimModel, opts: Options) -> Row:
    """One row of the sweep."""
    setup, fits = deployment(model, gpu, fmt, opts)
    weights = block_weights(model, setup.tp)
    lanes = lane_bits(gpu)
    blocks = {d: pim.block(gpu, weights, fmt, d, opts.kernel(fmt, d, lanes), opts.per_block,
                           opts.defines())
              for d in DIRECTION.values()}
    points = slack_points(model, gpu, fmt, opts.gemms(model, setup.tp),
                          {d: b.seconds for d, b in blocks.items()})
    return Row(model, gpu, fmt, setup, fits, points,
               iteration_loss(points, model.layers, opts.slowdown, opts.first_block_hidden),
               memory(model, setup, fmt), blocks, opts)


def min_batch(row: Row, passname: str) -> int | None:
    """The smallest micro-batch (sequences per GEMM) at which the GPU time of the block's
    `passname` GEMMs covers the PIM time (PIM time does not depend on the batch; the
    deployment's tp is kept and its memory is not re-checked), None beyond MAX_BATCH."""
    point = row.slack[PASSES.index(passname)]

    def covers(batch: int) -> bool:
        gemms = row.opts.gemms(row.model, row.setup.tp, batch)
        return pass_time(row.gpu, gemms, row.fmt, passname) >= point.pim_s

    hi = 1
    while not covers(hi):
        hi *= 2
        if hi > MAX_BATCH:
            return None
    lo = hi // 2  # covers(lo) is False unless hi == 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if covers(mid) else (mid, hi)
    return hi


def sweep(models: list[Model], gpus: list[Gpu], fmts: list[str], pim: PimModel,
          opts: Options) -> list[Row]:
    """Every (model, GPU, format) row, models outermost."""
    return [analyse(m, g, f, pim, opts) for m in models for g in gpus for f in fmts]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
                     for r in [header, *rows])


def slack_table(rows: list[Row]) -> str:
    """Per block: GPU time, PIM time and slack of each pass."""
    body = [[r.model.name, r.gpu.name, r.fmt, p.passname, p.direction, f"{p.gpu_s * 1e6:.1f}",
             f"{p.pim_s * 1e6:.1f}", f"{p.slack_s * 1e6:.1f}", f"{100 * p.slack_fraction:.1f}",
             str(min_batch(r, p.passname) or "-")]
            for r in rows for p in r.slack]
    return _table(["model", "gpu", "format", "pass", "dir", "gpu_us", "pim_us", "slack_us",
                   "slack_%", "min_batch"], body)


def throughput_table(rows: list[Row], slowdown: float) -> str:
    """Iteration time of the weight GEMMs with and without JIT-Q, and the loss."""
    body = [[r.model.name, r.gpu.name, r.fmt, f"{r.loss.baseline_s * 1e3:.2f}",
             f"{r.loss.jitq_s * 1e3:.2f}", f"{r.loss.unhidden_s * 1e3:.3f}",
             f"{100 * r.loss.loss:.2f}"] for r in rows]
    title = f"(GEMM slowdown while PIM is busy: {100 * slowdown:g} %)\n"
    return title + _table(["model", "gpu", "format", "base_ms", "jitq_ms", "unhidden_ms",
                           "loss_%"], body)


def capacity_table(rows: list[Row]) -> str:
    """Memory per GPU with and without the LP copies."""
    body = [[r.model.name, r.gpu.name, r.fmt, f"{r.setup.tp}x{r.setup.pp}",
             f"{r.memory.activations / GB:.1f}", f"{sum(r.memory.lp.values()) / GB:.2f}",
             f"{r.memory.baseline / GB:.1f}", f"{r.memory.jitq / GB:.1f}",
             f"{100 * r.memory.savings:.1f}", "yes" if r.fits else "no"] for r in rows]
    return _table(["model", "gpu", "format", "tp x pp", "act_GB", "lp_GB", "base_GB",
                   "jitq_GB", "saved_%", "fits"], body)


def to_json(rows: list[Row], opts: Options) -> dict[str, object]:
    """JSON keyed model -> GPU -> format -> {slack: pass -> direction, throughput, capacity}."""
    slowdown = ([list(p) for p in opts.slowdown] if isinstance(opts.slowdown, tuple)
                else opts.slowdown)
    doc: dict[str, object] = {
        "settings": {"micro_batch": opts.micro_batch, "slowdown": slowdown,
                     "fit": opts.fit, "setup": asdict(opts.setup), "seq": opts.seq,
                     "attention_gemms": opts.attention, "backward_gemms": opts.backward,
                     "first_block_hidden": opts.first_block_hidden,
                     "launch": "block" if opts.per_block else "weight",
                     "kernels": dict(opts.kernels),  # the scenario's; per row: pim.kernel
                     "hp": opts.hp, "additions": list(opts.additions)},
        "results": {},
    }
    results: dict[str, dict[str, dict[str, object]]] = doc["results"]  # type: ignore[assignment]
    for r in rows:
        slack = {p.passname: {p.direction: {**p.to_json(), "min_batch": min_batch(r, p.passname)}}
                 for p in r.slack}
        results.setdefault(r.model.name, {}).setdefault(r.gpu.name, {})[r.fmt] = {
            "setup": {"tp": r.setup.tp, "pp": r.setup.pp, "fits": r.fits},
            "slack": slack,
            "row_opens": r.row_opens,
            "pim": {d: {"kernel": opts.kernel(r.fmt, d, lane_bits(r.gpu)), "tiles": b.tiles,
                        "slots": b.slots, "units": b.units, "utilisation": b.utilisation}
                    for d, b in r.pim.items()},
            "throughput": r.loss.to_json(),
            "capacity": r.memory.to_json(),
        }
    return doc


@dataclass(frozen=True)
class Claim:
    """One of the paper's qualitative claims, checked against the sweep."""

    text: str
    holds: bool | None  # None: the sweep has nothing to compare (e.g. a single format)
    evidence: str

    @property
    def verdict(self) -> str:
        """'holds', 'does not hold' or 'not checked'."""
        return {True: "holds", False: "does not hold", None: "not checked"}[self.holds]


def _worst(points: list[SlackPoint]) -> SlackPoint:
    return min(points, key=lambda p: p.slack_fraction)


def claims(rows: list[Row]) -> list[Claim]:
    """The paper's slack claims, each with whether our numbers support it and why."""
    points = [p for r in rows for p in r.slack]
    out = []
    for passname in PASSES:
        mine = [p for p in points if p.passname == passname]
        worst = _worst(mine)
        late = [p for p in mine if p.slack_s < 0]
        out.append(Claim(
            f"the {passname} pass has enough slack to hide PIM quantization",
            not late,
            f"{len(mine) - len(late)}/{len(mine)} cases hide it; least slack "
            f"{100 * worst.slack_fraction:.1f} % ({worst.model}, {worst.gpu}, {worst.fmt})"))
    more_opens = [r for r in rows if r.row_opens["col"] > r.row_opens["row"]]
    slower = [r for r in rows if r.slack[1].pim_s > r.slack[0].pim_s]
    out.append(Claim(
        "column quantization takes longer than row quantization (more DRAM row opens)",
        len(slower) == len(rows) and len(more_opens) == len(rows),
        f"column PIM time > row PIM time in {len(slower)}/{len(rows)} cases, more row opens "
        f"in {len(more_opens)}/{len(rows)}"))
    less = [r for r in rows if r.slack[1].slack_fraction < r.slack[0].slack_fraction]
    out.append(Claim(
        "column quantization (backward) leaves less slack than row quantization (forward)",
        len(less) == len(rows),
        f"backward slack fraction < forward in {len(less)}/{len(rows)} cases (the backward "
        "pass also has twice the GEMM work of the forward pass)"))
    out.append(_precision_claim(rows))
    return out


def _precision_claim(rows: list[Row]) -> Claim:
    by_key = {r.key: r for r in rows}
    order = ("mx9", "mx6", "mx4")
    pairs = 0
    lower = 0
    for (model, gpu, fmt), r in by_key.items():
        i = order.index(fmt)
        if i + 1 < len(order) and (model, gpu, order[i + 1]) in by_key:
            nxt = by_key[(model, gpu, order[i + 1])]
            for a, b in zip(r.slack, nxt.slack, strict=True):
                pairs += 1
                lower += b.slack_fraction < a.slack_fraction
    remains = all(p.slack_s >= 0 for r in rows if r.fmt == "mx4" for p in r.slack)
    if not pairs:
        return Claim("lower precision lowers slack, but slack remains", None,
                     "needs at least two formats of the same model and GPU")
    return Claim("lower precision lowers slack, but slack remains",
                 lower == pairs and remains,
                 f"slack fraction drops from each format to the next lower one in "
                 f"{lower}/{pairs} cases; MX4 slack is {'' if remains else 'not '}"
                 "non-negative everywhere")
