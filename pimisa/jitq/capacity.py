"""Training memory per GPU, and what JIT-Q saves by not storing the low-precision weight copies.

Counted on the most loaded GPU (the first pipeline stage, which also holds the embeddings):

- weight state per parameter (Megatron-LM's accounting, theoretical_memory_usage.py: 18 bytes
  without a distributed optimizer, 6 + 12/d with one): FP32 master weights (4 B), BF16 working
  weights (2 B), FP32 gradients (4 B), Adam moments (8 B); a distributed optimizer shards the
  master weights and moments over `dp_shard` data-parallel ranks;
- the low-precision (LP) copies the GPU keeps without JIT-Q: the four weight matrices of every
  block, in the training format, row-blocked (forward) and column-blocked (backward) (or the
  `lp_copies` the scenario names), at the format's nominal bits per element (MX9 9, MX6 6, MX4
  4, exponents included) or as the kernels pack them (`lp_bits = "packed"`: MX9 10);
- the components named in `sharded` are split over `dp_shard` data-parallel ranks;
- activations, Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer
  Models", Table 2 and Section 4.3), 16-bit activations, per layer:
      no recomputation:       sbh(34 + 5as/h) / t            with sequence parallelism (or t = 1)
                              sbh(10 + 24/t + 5as/(ht))      tensor parallelism only
      selective recompute:    34 sbh / t                     with sequence parallelism
                              sbh(10 + 24/t)                 tensor parallelism only
      full recompute:         2 sbh (/ t with sequence parallelism: the stored layer input is
                              sequence-sharded)
  times L layers (the first stage keeps L/p layers for p micro-batches in flight), plus the
  embedding dropout mask sbhp (/ t with sequence parallelism) and, when p = 1, the output layer
  and loss 4sbh(1 + v/h)/t.

JIT-Q saves the LP copies: savings = LP bytes / baseline bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pimisa.errors import UsageError
from pimisa.jitq.workloads import Model
from pimisa.mx.formats import get_format
from pimisa.mx.pack import PACKED_FORMATS

RECOMPUTE = ("none", "selective", "full")
GB = 1e9
TP_DEGREES = (1, 2, 4, 8)
BLOCK = 16  # elements per MX9/MX6/MX4 block


@dataclass(frozen=True)
class Setup:
    """How the model is trained: parallelism, recomputation, bytes per parameter."""

    tp: int = 1
    pp: int = 1
    micro_batch: int = 1
    sequence_parallel: bool = True
    recompute: str = "selective"
    master_bytes: float = 4.0
    working_bytes: float = 2.0
    grad_bytes: float = 4.0
    optimizer_bytes: float = 8.0
    dp_shard: int = 1
    sharded: tuple[str, ...] = ("master", "optimizer")  # split over dp_shard ranks
    lp_copies: tuple[str, ...] = ("row", "col")  # LP copies the baseline keeps
    lp_bits: str = "nominal"  # or "packed": the kernels' whole 32-bit words per block

    def check(self, model: Model) -> None:
        """UsageError for a setup the model cannot be trained with."""
        if self.recompute not in RECOMPUTE:
            raise UsageError(f"recompute must be one of {', '.join(RECOMPUTE)}, "
                             f"got {self.recompute!r}")
        for name in ("tp", "pp", "micro_batch", "dp_shard"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.pp > model.layers:
            raise UsageError(f"pipeline degree {self.pp} exceeds the {model.layers} layers "
                             f"of {model.name}")


@dataclass(frozen=True)
class Memory:
    """Bytes per GPU by component; `lp` holds the LP copies by direction."""

    master: float
    working: float
    grads: float
    optimizer: float
    activations: float
    lp: dict[str, float]

    @property
    def jitq(self) -> float:
        """Bytes with JIT-Q (no LP copies)."""
        return self.master + self.working + self.grads + self.optimizer + self.activations

    @property
    def baseline(self) -> float:
        """Bytes without JIT-Q (LP copies kept)."""
        return self.jitq + sum(self.lp.values())

    @property
    def savings(self) -> float:
        """Fraction of the baseline that JIT-Q removes."""
        return sum(self.lp.values()) / self.baseline

    def to_json(self) -> dict[str, object]:
        """JSON-able form in GB (1e9 bytes)."""
        return {"master_gb": self.master / GB, "working_gb": self.working / GB,
                "grads_gb": self.grads / GB, "optimizer_gb": self.optimizer / GB,
                "activations_gb": self.activations / GB,
                "lp_copies_gb": {d: v / GB for d, v in self.lp.items()},
                "baseline_gb": self.baseline / GB, "jitq_gb": self.jitq / GB,
                "savings": self.savings}


def activation_bytes(model: Model, setup: Setup, layers: float | None = None) -> float:
    """Korthikanti et al. 2022 activation memory of the first pipeline stage."""
    s, b, h, a, t = model.seq, setup.micro_batch, model.hidden, model.heads, setup.tp
    sbh = s * b * h
    sp = setup.sequence_parallel or t == 1
    if setup.recompute == "none":
        per_layer = (sbh * (34 + 5 * a * s / h) / t if sp
                     else sbh * (10 + 24 / t + 5 * a * s / (h * t)))
    elif setup.recompute == "selective":
        per_layer = 34 * sbh / t if sp else sbh * (10 + 24 / t)
    else:
        per_layer = 2 * sbh / t if sp else 2 * sbh
    total = per_layer * (model.layers if layers is None else layers)
    total += sbh * setup.pp / (t if sp else 1)
    if setup.pp == 1:
        total += 4 * sbh * (1 + model.vocab / h) / t
    return total


def lp_bits_per_element(fmt: str, mode: str = "nominal") -> float:
    """Bits an LP copy takes per element: nominal (exponents included) or as packed."""
    if mode == "packed":
        packed = PACKED_FORMATS[fmt]
        return packed.words_per_block * 32 / BLOCK
    return get_format(fmt).bits_per_element


def memory(model: Model, setup: Setup, fmt: str, layers: float | None = None) -> Memory:
    """Memory of the most loaded GPU when training `model` in `fmt` (optionally with a
    different, possibly fractional, layer count, to ask how large a model fits)."""
    setup.check(model)
    bits = lp_bits_per_element(fmt, setup.lp_bits)
    total_layers = model.layers if layers is None else layers
    stage_layers = math.ceil(total_layers / setup.pp) if layers is None else layers / setup.pp
    params = (stage_layers * model.block_params + model.embedding_params) / setup.tp
    weights = stage_layers * model.block_weight_params / setup.tp
    lp_bytes = weights * bits / 8

    def state(name: str, per_param: float) -> float:
        return params * per_param / (setup.dp_shard if name in setup.sharded else 1)

    return Memory(
        master=state("master", setup.master_bytes),
        working=state("working", setup.working_bytes),
        grads=state("grads", setup.grad_bytes),
        optimizer=state("optimizer", setup.optimizer_bytes),
        activations=activation_bytes(model, setup, total_layers),
        lp={d: lp_bytes for d in setup.lp_copies},
    )


def fit_setup(model: Model, base: Setup, fmt: str, capacity_bytes: float) -> Setup | None:
    """The smallest parallelism (tensor degree in 1, 2, 4, 8 dividing hidden and heads, then
    pipeline degree dividing the layers; fewest GPUs first, then the lower pipeline degree) at
    which the baseline fits in `capacity_bytes`; None if none does."""
    pps = [p for p in range(1, model.layers + 1) if model.layers % p == 0]
    tps = [t for t in TP_DEGREES if model.hidden % t == 0 and model.heads % t == 0]
    for t, p in sorted(((t, p) for t in tps for p in pps), key=lambda tp: (tp[0] * tp[1], tp[1])):
        setup = replace(base, tp=t, pp=p)
        if memory(model, setup, fmt).baseline <= capacity_bytes:
            return setup
    return None


def larger_model(model: Model, setup: Setup, fmt: str) -> float:
    """How many more layers (fraction of the model) fit with JIT-Q in the baseline's memory.

    Memory is affine in the layer count, so the layer count L' with JIT-Q memory equal to the
    baseline memory is solved exactly; the answer is L'/L - 1 (parameters grow with L)."""
    budget = memory(model, setup, fmt).baseline
    at_l = memory(model, setup, fmt, float(model.layers)).jitq
    at_2l = memory(model, setup, fmt, 2.0 * model.layers).jitq
    per_layer = (at_2l - at_l) / model.layers
    return (budget - at_l) / per_layer / model.layers


def lower_tp(model: Model, setup: Setup, fmt: str) -> tuple[int, float]:
    """The smallest tensor-parallel degree t' at which JIT-Q fits in the baseline's memory at
    degree setup.tp (other settings equal), and the relative reduction 1 - t'/tp. t' is any
    integer; Megatron-LM also needs t' to divide the heads and hidden size (see `fit_setup`)."""
    budget = memory(model, setup, fmt).baseline
    for t in range(1, setup.tp + 1):
        if memory(model, replace(setup, tp=t), fmt).jitq <= budget:
            return t, 1 - t / setup.tp
    return setup.tp, 0.0
