"""Transformer workloads: GPT-3 presets (or a user TOML file) and the weight GEMMs of a block.

A block (one transformer layer) has four weight matrices, stored as PyTorch `Linear` weights of
shape (out, in): QKV (3h x h), the attention output projection (h x h), FC1 (ffn x h) and FC2
(h x ffn). With tensor parallelism of degree t each GPU holds 1/t of each (QKV and FC1 split
along `out`, projection and FC2 along `in`, as in Megatron-LM). Per weight and per pass:

- forward:  fprop  Y[T, out] = X[T, in] . W^T          (M=T,   N=out, K=in)
- backward: dgrad  dX[T, in] = dY[T, out] . W          (M=T,   N=in,  K=out)
            wgrad  dW[out, in] = dY^T[out, T] . X[T, in] (M=out, N=in,  K=T)

with T = micro-batch x sequence tokens. Row-quantized weights feed fprop (blocks along `in`, its
reduction axis), column-quantized weights feed dgrad (blocks along `out`); wgrad uses no weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimisa.errors import InputError, UsageError
from pimisa.jitq.tomlpresets import Fields, load_entries, select

BUNDLED = "models"
DEFAULT_SEQ = 2048
DEFAULT_VOCAB = 50257
WEIGHTS = ("qkv", "proj", "fc1", "fc2")


@dataclass(frozen=True)
class Model:
    """A GPT-style decoder: sizes of Brown et al. 2020, Table 2.1 (or a user's)."""

    name: str
    hidden: int
    layers: int
    heads: int
    ffn: int
    seq: int = DEFAULT_SEQ
    vocab: int = DEFAULT_VOCAB
    params: float = 0.0  # nominal count, for display
    description: str = ""
    source: str = ""

    @property
    def block_weight_params(self) -> int:
        """Elements of the four weight matrices of one block (what JIT-Q quantizes)."""
        h = self.hidden
        return 4 * h * h + 2 * h * self.ffn

    @property
    def block_params(self) -> int:
        """All parameters of one block: weights, biases, two layer norms."""
        h = self.hidden
        return self.block_weight_params + (3 * h + h + self.ffn + h) + 4 * h

    @property
    def embedding_params(self) -> int:
        """Token and position embeddings (the output layer shares the token embedding)."""
        return (self.vocab + self.seq) * self.hidden

    @property
    def total_params(self) -> int:
        """Parameters of the whole model, counted from its sizes."""
        return self.layers * self.block_params + self.embedding_params + 2 * self.hidden


@dataclass(frozen=True)
class Weight:
    """One weight matrix of a block on one GPU: PyTorch (out, in) shape."""

    name: str
    out: int
    inp: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) = (out, in)."""
        return (self.out, self.inp)

    @property
    def elements(self) -> int:
        """Number of elements."""
        return self.out * self.inp


@dataclass(frozen=True)
class Gemm:
    """One GEMM of a block: C[M, N] = A[M, K] . B[K, N], and which operands are what."""

    weight: str  # qkv | proj | fc1 | fc2 | qk | av (attention: no weight)
    kind: str  # fprop | dgrad | wgrad
    m: int
    n: int
    k: int
    batch: int = 1  # independent GEMMs of this shape (attention: sequences x heads)

    @property
    def flops(self) -> int:
        """2 M N K per GEMM of the batch."""
        return 2 * self.m * self.n * self.k * self.batch

    @property
    def passname(self) -> str:
        """'fwd' for fprop, 'bwd' for dgrad and wgrad."""
        return "fwd" if self.kind == "fprop" else "bwd"


def _split(model: Model, tp: int) -> None:
    for what, size in (("hidden", model.hidden), ("ffn", model.ffn), ("heads", model.heads)):
        if size % tp:
            raise UsageError(f"model {model.name}: {what} ({size}) is not divisible by the "
                             f"tensor-parallel degree {tp}")


def block_weights(model: Model, tp: int = 1) -> list[Weight]:
    """The four weight matrices of one block as held by one GPU of a tensor-parallel group."""
    _split(model, tp)
    h, f = model.hidden, model.ffn
    return [Weight("qkv", 3 * h // tp, h), Weight("proj", h, h // tp),
            Weight("fc1", f // tp, h), Weight("fc2", h, f // tp)]


def block_gemms(model: Model, tokens: int, tp: int = 1) -> list[Gemm]:
    """Forward and backward weight GEMMs of one block on one GPU, for `tokens` tokens."""
    gemms = []
    for w in block_weights(model, tp):
        gemms.append(Gemm(w.name, "fprop", tokens, w.out, w.inp))
        gemms.append(Gemm(w.name, "dgrad", tokens, w.inp, w.out))
        gemms.append(Gemm(w.name, "wgrad", w.out, w.inp, tokens))
    return gemms


def attention_gemms(model: Model, micro_batch: int, seq: int, tp: int = 1) -> list[Gemm]:
    """The attention GEMMs of one block on one GPU (heads / tp heads, d_head = h / heads):
    forward S = Q K^T (s x s x d) and O = A V (s x d x s); backward dQ, dK (s x d x s), dA
    (s x s x d) and dV (s x d x s), each batched over micro-batch x heads / tp."""
    _split(model, tp)
    d = model.hidden // model.heads
    n = micro_batch * model.heads // tp
    return [Gemm("qk", "fprop", seq, seq, d, n), Gemm("av", "fprop", seq, d, seq, n),
            Gemm("qk", "dgrad", seq, d, seq, n), Gemm("qk", "dgrad", seq, d, seq, n),
            Gemm("av", "dgrad", seq, seq, d, n), Gemm("av", "dgrad", seq, d, seq, n)]


def model_from(fields: Fields) -> Model:
    """A model from one validated preset table (errors pile up in `fields.errors`)."""
    hidden = fields.positive_int("hidden")
    model = Model(
        name=fields.entry.name,
        hidden=hidden,
        layers=fields.positive_int("layers"),
        heads=fields.positive_int("heads"),
        ffn=fields.positive_int("ffn", 4 * hidden),
        seq=fields.positive_int("seq", DEFAULT_SEQ),
        vocab=fields.positive_int("vocab", DEFAULT_VOCAB),
        params=fields.positive_number("params", 1.0),
        description=fields.string("description", ""),
        source=fields.string("source", ""),
    )
    fields.unknown()
    return model


def load_models(spec: str = BUNDLED) -> dict[str, Model]:
    """Every model of a preset file (default: the bundled GPT-3 family), by name."""
    errors: list[str] = []
    models = {e.name: model_from(Fields(e, errors))
              for e in load_entries(spec, "models", BUNDLED)}
    if errors:
        raise InputError("\n".join(errors))
    return models


def select_models(spec: str | None) -> list[Model]:
    """Models for a `--model` argument: None = all bundled, a bundled name, or a .toml file."""
    return select(spec, load_models, "model")
