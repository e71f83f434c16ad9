"""Quantize a whole checkpoint: every selected tensor streamed through the kernel, one output
file (pimisa.checkpoint names) and a per-tensor report.

The report (`CheckpointReport.to_json`) gives, per tensor: its shape and stored dtype, the
modeled PIM time of its launch(es), the golden check (differing blocks), and the quantization
error against the high-precision values: RMSE and the largest relative error |q - x| / |x|
over the finite non-zero inputs (elements of NaN/Inf blocks are counted, not included).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pimisa.arch import Arch
from pimisa.checkpoint import (
    Entry,
    open_checkpoint,
    output_arrays,
    select,
    tensor_blocks,
)
from pimisa.errors import InputError, PimisaError, UsageError
from pimisa.executor import Executor
from pimisa.fileio import atomic_open
from pimisa.mx.formats import OcpCodes
from pimisa.mx.ocplayout import tensor_blocks as ocp_tensor_blocks
from pimisa.program import Program
from pimisa.stream import Band, StreamResult, dequantize_band, quantize_stream
from pimisa.tensorio import NpzWriter, SafetensorsWriter

OUT_SUFFIXES = (".safetensors", ".npz")


@dataclass
class BandPiece:
    """What a band contributes to the output and the statistics (computed where it ran)."""

    arrays: dict[str, np.ndarray]
    sumsq: float
    finite: int
    max_rel: float
    nan_blocks_elements: int


@dataclass
class TensorReport:
    """Per-tensor line of the report."""

    name: str
    shape: tuple[int, int]
    dtype: str
    tiles: int
    pim_cycles: int
    pim_us: float
    launches: int
    mismatched_blocks: int | None
    blocks: int
    first_mismatch: str | None
    rmse: float
    max_rel_error: float
    elements_in_nan_blocks: int
    seconds: float


@dataclass
class CheckpointReport:
    """The whole run: format, tensors quantized and skipped, totals."""

    source: str
    fmt: str
    direction: str
    arch: str
    tensors: list[TensorReport] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def mismatches(self) -> int:
        """Differing blocks over every tensor."""
        return sum(t.mismatched_blocks or 0 for t in self.tensors)

    def to_json(self) -> str:
        """The report as JSON text."""
        doc = {"source": self.source, "format": self.fmt, "direction": self.direction,
               "arch": self.arch, "tensors": [asdict(t) for t in self.tensors],
               "skipped": self.skipped,
               "totals": {"tensors": len(self.tensors),
                          "elements": sum(t.shape[0] * t.shape[1] for t in self.tensors),
                          "pim_us": sum(t.pim_us for t in self.tensors),
                          "mismatched_blocks": self.mismatches}}
        return json.dumps(doc, indent=2) + "\n"

    def failure(self) -> str | None:
        """The golden failure (first tensor that differs), or None."""
        for t in self.tensors:
            if t.mismatched_blocks:
                return (f"tensor {t.name!r}: the kernel's output differs from the golden model "
                        f"in {t.mismatched_blocks} of {t.blocks} blocks; first at "
                        f"{t.first_mismatch}")
        return None


STATS_CHUNK = 1 << 16  # elements per step of the error statistics: temporaries stay in cache


def error_stats(values: np.ndarray, hp: np.ndarray) -> tuple[float, int, float, int]:
    """(sum of squared errors, elements counted, largest relative error, finite inputs in
    NaN/Inf blocks) of dequantized `values` against the HP values `hp`: errors over the
    finite inputs whose value is not NaN, in float64, relative ones over the non-zero inputs;
    chunked, so the temporaries stay small."""
    v, h = values.reshape(-1), hp.reshape(-1)
    sumsq, counted, max_rel, nan = 0.0, 0, 0.0, 0
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, v.size, STATS_CHUNK):
            vc, hc = v[i:i + STATS_CHUNK], h[i:i + STATS_CHUNK]
            finite = np.isfinite(hc)
            lost = np.isnan(vc)
            nan += int(np.count_nonzero(finite & lost))
            ok = finite & ~lost
            err = np.subtract(vc, hc, dtype=np.float64)
            err[~ok] = 0.0
            sumsq += float(np.einsum("i,i->", err, err))  # not BLAS: no thread spin-up
            counted += int(np.count_nonzero(ok))
            np.abs(err, out=err)
            rel = np.divide(err, np.abs(hc), out=np.zeros_like(err), where=ok & (hc != 0))
            max_rel = max(max_rel, float(rel.max(initial=0.0)))
    return sumsq, counted, max_rel, nan


def make_piece(name: str, direction: str, dequantized: bool) -> Callable[[Band], BandPiece]:
    """The per-band work done beside the kernel run: output arrays and error statistics."""

    def piece(band: Band) -> BandPiece:
        values = dequantize_band(band)
        enc = band.codes
        if isinstance(enc, OcpCodes):
            arrays = {f"{name}.blocks": ocp_tensor_blocks(band.blocks, enc.fmt, direction,
                                                          band.hp.shape),
                      f"{name}.scale": enc.scale}
        else:
            arrays = {f"{name}.blocks": tensor_blocks(band.blocks, direction, band.hp.shape),
                      f"{name}.shared_exp": enc.shared_exp, f"{name}.micro_exp": enc.micro_exp}
        if dequantized:
            arrays[f"{name}.dequantized"] = values
        return BandPiece(arrays, *error_stats(values, band.hp))

    return piece


def _writer(handle, out: str, arrays: dict, fmt: str, direction: str, shapes: dict):
    spool = Path(out).parent
    if out.endswith(".safetensors"):
        meta = {"pimisa.format": fmt, "pimisa.direction": direction,
                "pimisa.shapes": json.dumps(shapes, separators=(",", ":"))}
        return SafetensorsWriter(handle, arrays, meta, spool)
    return NpzWriter(handle, arrays, spool)


def quantize_checkpoint(
    path: str,
    out: str | None,
    fmt: str,
    direction: str,
    arch: Arch,
    program: Program,
    backend: str | None = None,
    golden: bool = False,
    patterns: list[str] | None = None,
    dequantized: bool = False,
    band_elements: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str, int, int, int], None] | None = None,
    reject_nan: bool = False,
    wrap: Callable[[object, str], object] | None = None,
) -> CheckpointReport:
    """Quantize the selected tensors of checkpoint `path` into `out` (None: check only).

    `progress(tensor name, rows done, rows, elements done overall)` follows the work. A
    failure in one tensor names it and leaves no output (written atomically at the end).
    `wrap(source, where)` replaces each tensor's band source (pimisa.hpsource: BF16 weights).
    """
    if out is not None and not out.endswith(OUT_SUFFIXES):
        raise UsageError(f"--out {out}: a checkpoint is written as .safetensors or .npz")
    chosen, skipped = select(open_checkpoint(path), patterns or [])
    if not chosen:
        why = "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:5])
        raise InputError(f"{path}: no tensor to quantize (2-D float16/bfloat16/float32"
                         f"{', matching --select' if patterns else ''})" +
                         (f"; skipped {why}" if why else ""))
    report = CheckpointReport(path, fmt, direction, arch.name, skipped=skipped)
    arrays: dict = {}
    for e in chosen:
        arrays.update(output_arrays(e.name, e.shape, fmt, direction, dequantized))
    shapes = {e.name: list(e.shape) for e in chosen}
    extra = {} if band_elements is None else {"band_elements": band_elements}

    def run_all(writer) -> None:
        done_elements = 0
        for e in chosen:
            report.tensors.append(_one(e, writer, done_elements))
            done_elements += e.shape[0] * e.shape[1]

    def _one(e: Entry, writer, before: int) -> TensorReport:
        stats = {"sumsq": 0.0, "finite": 0, "max_rel": 0.0, "nan": 0}

        def on_result(piece: BandPiece) -> None:
            if writer is not None:
                for key, value in piece.arrays.items():
                    writer.write(key, value)
            stats["sumsq"] += piece.sumsq
            stats["finite"] += piece.finite
            stats["max_rel"] = max(stats["max_rel"], piece.max_rel)
            stats["nan"] += piece.nan_blocks_elements

        def on_progress(done: int, rows: int) -> None:
            if progress is not None:
                progress(e.name, done, rows, before + done * e.shape[1])

        start = time.perf_counter()
        try:
            where = f"tensor {e.name!r}"
            result: StreamResult = quantize_stream(
                e.source if wrap is None else wrap(e.source, where), fmt, direction, arch,
                backend, golden=golden, program=program, where=where,
                process=make_piece(e.name, direction, dequantized),
                on_result=on_result, executor=executor, progress=on_progress,
                reject_nan=reject_nan, **extra)
        except PimisaError as exc:
            text = str(exc)
            raise InputError(text if e.name in text else f"tensor {e.name!r}: {text}") from None
        finally:
            if e.source is not None:
                e.source.release()  # a decompressed member is not kept past its tensor
        rmse = float(np.sqrt(stats["sumsq"] / stats["finite"])) if stats["finite"] else 0.0
        return TensorReport(
            e.name, (int(e.shape[0]), int(e.shape[1])), e.stored, result.tiles,
            result.pim.cycles, result.pim.ns / 1000, result.pim.launches,
            result.mismatches if golden else None, result.blocks, result.first_mismatch,
            rmse, stats["max_rel"], stats["nan"], time.perf_counter() - start)

    if out is None:
        run_all(None)
        return report
    with atomic_open(out, "wb") as handle:
        writer = _writer(handle, out, arrays, fmt, direction, shapes)
        try:
            run_all(writer)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return report
