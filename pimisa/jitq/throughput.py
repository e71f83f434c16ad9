"""Training-throughput loss of JIT-Q: GEMMs slowed while PIM is busy, plus un-hidden PIM time.

Model (per block and pass, GPU time G of the block's GEMMs, PIM time P of the next block's
weights, GEMM slowdown s while PIM runs, i.e. GEMMs progress at rate 1/(1+s) during PIM):

    if PIM finishes first (P <= G(1+s)):  time = G + P s/(1+s)
    else (PIM is late):                   time = P
    block time = max(G + P s/(1+s), P)

Iteration time = layers x (forward block time + backward block time) + the first block's
quantization of each pass, which has no earlier GEMM to hide behind. Baseline (LP copies kept in
memory, no PIM) = layers x (G_fwd + G_bwd). Only the weight GEMMs are counted in the iteration,
which makes the loss an upper bound (attention, element-wise and communication time would
dilute it).

The default slowdown, DEFAULT_SLOWDOWN = 10 %, is an assumption of this project: the paper
reports the resulting loss but the slowdown it measured is not reproduced here. PIM in all-bank
mode holds every bank of a channel and the channel's command bus while it runs, so a concurrent
GEMM loses part of its DRAM bandwidth; the GEMMs of these workloads are compute-bound on these
GPUs, so a modest slowdown is assumed. `slowdown_for_loss` gives the slowdown that a reported
loss implies, and docs/jitq.md shows the loss over a range of slowdowns.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimisa.errors import UsageError
from pimisa.jitq.slack import SlackPoint

DEFAULT_SLOWDOWN = 0.10
# a GEMM slowdown: one value, or a table of (PIM share of the block's GEMM time, slowdown)
Slowdown = float | tuple[tuple[float, float], ...]


def slowdown_at(slowdown: Slowdown, share: float) -> float:
    """The slowdown for a PIM share (P / G, capped at 1): the value itself, or the table
    interpolated linearly between its points and held constant beyond its ends."""
    if not isinstance(slowdown, tuple):
        return float(slowdown)
    share = min(share, 1.0)
    points = list(slowdown)
    if share <= points[0][0]:
        return float(points[0][1])
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if share <= x1:
            return y0 + (y1 - y0) * (share - x0) / (x1 - x0)
    return float(points[-1][1])


def block_time(gpu_s: float, pim_s: float, slowdown: float) -> float:
    """Wall time of one block's GEMMs of one pass with PIM quantizing concurrently."""
    if slowdown < 0:
        raise UsageError(f"GEMM slowdown must be >= 0, got {slowdown}")
    return max(gpu_s + pim_s * slowdown / (1 + slowdown), pim_s)


@dataclass(frozen=True)
class Loss:
    """Iteration time with and without JIT-Q for one (model, GPU, format)."""

    baseline_s: float
    jitq_s: float
    unhidden_s: float  # PIM time the GEMMs did not cover (late PIM plus the first blocks)

    @property
    def loss(self) -> float:
        """Relative throughput loss: 1 - baseline / JIT-Q time."""
        return 1 - self.baseline_s / self.jitq_s

    def to_json(self) -> dict[str, float]:
        """JSON-able form."""
        return {"baseline_ms": self.baseline_s * 1e3, "jitq_ms": self.jitq_s * 1e3,
                "unhidden_ms": self.unhidden_s * 1e3, "loss": self.loss}


def iteration_loss(points: list[SlackPoint], layers: int, slowdown: Slowdown,
                   first_block_hidden: bool = False) -> Loss:
    """Loss of one training iteration from the forward and backward slack points of a block
    (the first block of each pass adds its PIM time unless `first_block_hidden`)."""
    baseline = layers * sum(p.gpu_s for p in points)
    s = [slowdown_at(slowdown, p.pim_s / p.gpu_s) for p in points]
    blocks = layers * sum(block_time(p.gpu_s, p.pim_s, x) for p, x in zip(points, s, strict=True))
    fill = 0.0 if first_block_hidden else sum(p.pim_s for p in points)
    late = layers * sum(max(p.pim_s - p.gpu_s * (1 + x), 0.0)
                        for p, x in zip(points, s, strict=True))
    return Loss(baseline, blocks + fill, late + fill)


def slowdown_for_loss(points: list[SlackPoint], layers: int, target: float,
                      first_block_hidden: bool = False) -> float | None:
    """The GEMM slowdown at which the loss equals `target` (bisection; the loss grows with the
    slowdown), or None when even no slowdown gives a loss above `target`."""
    def loss(s: float) -> float:
        return iteration_loss(points, layers, s, first_block_hidden).loss

    if loss(0.0) > target:
        return None
    lo, hi = 0.0, 1.0
    while loss(hi) < target:
        lo, hi = hi, 2 * hi
        if hi > 1e6:
            return None
    for _ in range(80):
        mid = (lo + hi) / 2
        if loss(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
