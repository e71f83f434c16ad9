"""Slack: how much GPU time is left after PIM has quantized the next block's weights.

While the GPU runs the weight GEMMs of block i, PIM quantizes the weights of the block the GPU
needs next: in the forward pass the row-blocked copy of block i+1 (for fprop), in the backward
pass the column-blocked copy of block i-1 (for dgrad). All blocks are the same, so

    slack(pass) = GPU time of one block's GEMMs of that pass - PIM time of one block's weights

and PIM keeps up when slack >= 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pimisa.jitq.gpu import Gpu, pass_time
from pimisa.jitq.workloads import Model, Weight, block_gemms, block_weights

PASSES = ("fwd", "bwd")
DIRECTION = {"fwd": "row", "bwd": "col"}  # which LP copy each pass needs

# seconds PIM takes to quantize one weight matrix: (weight, format, direction) -> seconds
PimTime = Callable[[Weight, str, str], float]


@dataclass(frozen=True)
class SlackPoint:
    """GPU and PIM time of one block for one (model, GPU, format, pass)."""

    model: str
    gpu: str
    fmt: str
    passname: str
    gpu_s: float
    pim_s: float

    @property
    def direction(self) -> str:
        """'row' for the forward pass, 'col' for the backward pass."""
        return DIRECTION[self.passname]

    @property
    def slack_s(self) -> float:
        """GPU time minus PIM time (negative: PIM is late)."""
        return self.gpu_s - self.pim_s

    @property
    def slack_fraction(self) -> float:
        """Slack as a fraction of the GPU time."""
        return self.slack_s / self.gpu_s

    def to_json(self) -> dict[str, float | str]:
        """JSON-able form (times in microseconds)."""
        return {"direction": self.direction, "gpu_us": self.gpu_s * 1e6,
                "pim_us": self.pim_s * 1e6, "slack_us": self.slack_s * 1e6,
                "slack_fraction": self.slack_fraction}


def block_pim_time(model: Model, tp: int, fmt: str, direction: str, pim_time: PimTime) -> float:
    """Seconds PIM takes to quantize all four weight matrices of one block (one GPU's shard)."""
    return sum(pim_time(w, fmt, direction) for w in block_weights(model, tp))


def slack_points(model: Model, gpu: Gpu, fmt: str, tokens: int, tp: int,
                 pim_time: PimTime) -> list[SlackPoint]:
    """The forward and backward slack of one block, in that order."""
    gemms = block_gemms(model, tokens, tp)
    return [SlackPoint(model.name, gpu.name, fmt, p, pass_time(gpu, gemms, fmt, p),
                       block_pim_time(model, tp, fmt, DIRECTION[p], pim_time))
            for p in PASSES]
