"""Slack: how much GPU time is left after PIM has quantized the next block's weights.

While the GPU runs the weight GEMMs of block i, PIM quantizes the weights of the block the GPU
needs next: in the forward pass the row-blocked copy of block i+1 (for fprop), in the backward
pass the column-blocked copy of block i-1 (for dgrad). All blocks are the same, so

    slack(pass) = GPU time of one block's GEMMs of that pass - PIM time of one block's weights

and PIM keeps up when slack >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimisa.jitq.gpu import Gpu, pass_time
from pimisa.jitq.workloads import Gemm, Model, attention_gemms, block_gemms

PASSES = ("fwd", "bwd")
DIRECTION = {"fwd": "row", "bwd": "col"}  # which LP copy each pass needs
BACKWARD_GEMMS = ("dgrad+wgrad", "dgrad")


def hiding_gemms(model: Model, micro_batch: int, seq: int, tp: int, attention: bool = False,
                 backward: str = "dgrad+wgrad") -> list[Gemm]:
    """The GEMMs of one block whose GPU time hides PIM: the weight GEMMs (backward: dgrad and
    wgrad, or dgrad only), plus the attention GEMMs if `attention`."""
    gemms = block_gemms(model, micro_batch * seq, tp)
    if backward == "dgrad":
        gemms = [g for g in gemms if g.kind != "wgrad"]
    if attention:
        gemms += attention_gemms(model, micro_batch, seq, tp)
    return gemms


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


def slack_points(model: Model, gpu: Gpu, fmt: str, gemms: list[Gemm],
                 pim_s: dict[str, float]) -> list[SlackPoint]:
    """The forward and backward slack of one block, in that order (`pim_s`: seconds PIM takes
    for the block's four weights, by direction)."""
    return [SlackPoint(model.name, gpu.name, fmt, p, pass_time(gpu, gemms, fmt, p),
                       pim_s[DIRECTION[p]]) for p in PASSES]
