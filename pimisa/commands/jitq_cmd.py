"""`pimisa jitq`: slack, throughput loss and capacity savings of JIT-Q, per model, GPU, format."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from pimisa.errors import UsageError
from pimisa.jitq.capacity import RECOMPUTE, Setup
from pimisa.jitq.figures import figure_format, plot_slack
from pimisa.jitq.gpu import MX_FORMATS, select_gpus
from pimisa.jitq.pim import PimTimer
from pimisa.jitq.report import (
    Options,
    capacity_table,
    claims,
    slack_table,
    sweep,
    throughput_table,
    to_json,
)
from pimisa.jitq.throughput import DEFAULT_SLOWDOWN
from pimisa.jitq.workloads import select_models


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `jitq` sub-command."""
    p = sub.add_parser(
        "jitq", help="JIT-Q analysis: slack, throughput loss, memory savings",
        description="Can PIM quantize the next transformer block's weights while the GPU "
        "computes the current one, and what does that save in memory? PIM times are the DRAM "
        "scheduler's times of the mx*_row / mx*_col kernel launches (cached on disk).")
    p.add_argument("--model", metavar="NAME|FILE",
                   help="a GPT-3 preset (default: all 8) or a .toml file of models")
    p.add_argument("--gpu", metavar="NAME|FILE",
                   help="mi250x, mi300x, h100-sxm (default: all) or a .toml file of GPUs")
    p.add_argument("--format", choices=[*MX_FORMATS, "all"], default="all",
                   help="MX format (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--plot", metavar="FILE", help="write the slack figure (.png or .svg)")
    p.add_argument("--batch", type=_positive, default=1,
                   help="micro-batch: sequences per GEMM (default 1)")
    p.add_argument("--slowdown", type=_fraction, default=DEFAULT_SLOWDOWN,
                   help="GEMM slowdown while PIM is busy, as a fraction "
                   f"(default {DEFAULT_SLOWDOWN})")
    p.add_argument("--tp", type=_positive, help="fix the tensor-parallel degree "
                   "(default: the smallest parallelism whose baseline fits in the GPU)")
    p.add_argument("--pp", type=_positive, help="fix the pipeline-parallel degree")
    p.add_argument("--recompute", choices=RECOMPUTE, default="selective",
                   help="activation recomputation (default selective)")
    p.add_argument("--no-sequence-parallel", action="store_true",
                   help="tensor parallelism without sequence parallelism")
    p.add_argument("--dp-shard", type=_positive, default=1,
                   help="shard master weights and optimizer states over this many "
                   "data-parallel ranks (distributed optimizer; default 1: not sharded)")
    p.add_argument("--cache-dir", metavar="DIR", type=Path,
                   help="kernel timing cache (default ~/.cache/pimisa/jitq)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the sweep and print it."""
    if args.plot:
        figure_format(args.plot)
    if args.cache_dir is not None and args.cache_dir.exists() and not args.cache_dir.is_dir():
        raise UsageError(f"--cache-dir {args.cache_dir}: not a directory")
    models = select_models(args.model)
    gpus = select_gpus(args.gpu)
    fmts = list(MX_FORMATS) if args.format == "all" else [args.format]
    fixed = args.tp is not None or args.pp is not None
    setup = replace(Setup(), tp=args.tp or 1, pp=args.pp or 1, recompute=args.recompute,
                    sequence_parallel=not args.no_sequence_parallel, dp_shard=args.dp_shard)
    opts = Options(micro_batch=args.batch, slowdown=args.slowdown, setup=setup, fit=not fixed)
    rows = sweep(models, gpus, fmts, PimTimer(args.cache_dir), opts)
    checked = claims(rows)
    if args.plot:
        plot_slack(rows, args.plot)
    if args.json:
        doc = to_json(rows, opts)
        doc["claims"] = [vars(c) for c in checked]
        print(json.dumps(doc, indent=2))
        return 0
    print("Slack per block (GPU time of the block's GEMMs - PIM time of the next block's "
          "weights)")
    print(slack_table(rows))
    print("\nThroughput: one iteration's weight GEMMs")
    print(throughput_table(rows, opts.slowdown))
    print("\nCapacity per GPU (first pipeline stage), baseline keeps row + column LP copies")
    print(capacity_table(rows))
    print("\nThe paper's slack claims on these numbers:")
    for c in checked:
        print(f"  [{c.verdict}] {c.text}: {c.evidence}")
    return 0
