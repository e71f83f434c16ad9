"""`pimisa jitq`: slack, throughput loss and capacity savings of JIT-Q, per model, GPU, format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pimisa.commands.jitq_sweep_cmd import register_sweep
from pimisa.errors import UsageError
from pimisa.fileio import input_arg, output_arg
from pimisa.jitq.capacity import RECOMPUTE
from pimisa.jitq.figures import figure_format, plot_slack
from pimisa.jitq.gpu import MX_FORMATS, Gpu, select_gpus
from pimisa.jitq.paperclaims import paper_claims
from pimisa.jitq.pim import PimTimer
from pimisa.jitq.report import (
    capacity_table,
    claims,
    slack_table,
    sweep,
    throughput_table,
    to_json,
)
from pimisa.jitq.scenario import DEFAULT, Scenario, bundled_names, formats, load, options
from pimisa.jitq.workloads import Model, load_models, select_models


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


def _shared(p: argparse.ArgumentParser) -> None:
    """Options of both `pimisa jitq` and `pimisa jitq sweep`: the scenario and its overrides."""
    p.add_argument("--scenario", metavar="NAME|FILE", type=input_arg, default=DEFAULT,
                   help=f"bundled scenario ({', '.join(bundled_names())}; default {DEFAULT}) "
                   "or a scenario .toml file")
    p.add_argument("--set", metavar="PATH=VALUE", action="append", default=[], dest="sets",
                   help="override one scenario field, e.g. --set capacity.dp_shard=8 or "
                   "--set gpus.mi300x.tflops.mx6=5229.8 (repeatable; TOML values)")
    p.add_argument("--model", metavar="NAME|FILE", type=input_arg,
                   help="one of the scenario's models or a GPT-3 preset, or a .toml file of "
                   "models (default: the scenario's)")
    p.add_argument("--gpu", metavar="NAME|FILE", type=input_arg,
                   help="one of the scenario's GPUs or a bundled preset (mi250x, mi300x, "
                   "h100-sxm), or a .toml file of GPUs (default: the scenario's)")
    p.add_argument("--format", choices=[*MX_FORMATS, "all"],
                   help="MX format (default: the scenario's)")
    p.add_argument("--batch", type=_positive, help="micro-batch: sequences per GEMM "
                   "(= --set workload.micro_batch=N)")
    p.add_argument("--slowdown", type=_fraction, help="GEMM slowdown while PIM is busy, as a "
                   "fraction (= --set throughput.slowdown=S)")
    p.add_argument("--tp", type=_positive, help="fix the tensor-parallel degree (default: "
                   "the smallest parallelism whose baseline fits in the GPU)")
    p.add_argument("--pp", type=_positive, help="fix the pipeline-parallel degree")
    p.add_argument("--recompute", choices=RECOMPUTE,
                   help="activation recomputation (= --set deployment.recompute=R)")
    p.add_argument("--no-sequence-parallel", action="store_true",
                   help="tensor parallelism without sequence parallelism")
    p.add_argument("--dp-shard", type=_positive, help="shard the scenario's sharded "
                   "components over this many data-parallel ranks (= --set capacity.dp_shard=D)")
    p.add_argument("--cache-dir", metavar="DIR", type=Path,
                   help="kernel timing cache (default ~/.cache/pimisa/jitq)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `jitq` sub-command (and `jitq sweep`)."""
    p = sub.add_parser(
        "jitq", help="JIT-Q analysis: slack, throughput loss, memory savings",
        description="Can PIM quantize the next transformer block's weights while the GPU "
        "computes the current one, and what does that save in memory? Every assumption is a "
        "field of a scenario (--scenario, --set). PIM times are the DRAM scheduler's times of "
        "the scenario's kernel launches (cached on disk).")
    _shared(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--plot", metavar="FILE", type=output_arg,
                   help="write the slack figure (.png or .svg)")
    p.set_defaults(func=run)
    register_sweep(p.add_subparsers(dest="jitq_command", metavar="{sweep}"), _shared)


def cli_sets(args: argparse.Namespace) -> list[str]:
    """The scenario overrides of the command line: the shortcuts first, then --set (wins)."""
    sets = []
    for flag, path in (("batch", "workload.micro_batch"), ("slowdown", "throughput.slowdown"),
                       ("tp", "deployment.tp"), ("pp", "deployment.pp"),
                       ("dp_shard", "capacity.dp_shard")):
        if getattr(args, flag) is not None:
            sets.append(f"{path}={getattr(args, flag)}")
    if args.recompute:
        sets.append(f"deployment.recompute={args.recompute}")
    if args.tp is not None or args.pp is not None:
        sets.append("deployment.fit=false")
    if args.no_sequence_parallel:
        sets.append("deployment.sequence_parallel=false")
    if args.format and args.format != "all":
        sets.append(f'workload.formats=["{args.format}"]')
    elif args.format == "all":
        sets.append(f"workload.formats={list(MX_FORMATS)!r}".replace("'", '"'))
    return sets + list(args.sets)


def setup_run(args: argparse.Namespace) -> tuple[Scenario, list[Model], list[Gpu]]:
    """The scenario with the command line's overrides, and the models and GPUs to analyse."""
    if args.cache_dir is not None and args.cache_dir.exists() and not args.cache_dir.is_dir():
        raise UsageError(f"--cache-dir {args.cache_dir}: not a directory")
    scenario = load(args.scenario, cli_sets(args))
    models = scenario.models
    if args.model is not None:
        models = ([scenario.all_models[args.model]] if args.model in scenario.all_models
                  else select_models(args.model))
    gpus = scenario.gpus
    if args.gpu is not None:
        gpus = ([scenario.all_gpus[args.gpu]] if args.gpu in scenario.all_gpus
                else select_gpus(args.gpu))
    return scenario, models, gpus


def run(args: argparse.Namespace) -> int:
    """Run the sweep and print it."""
    if args.plot:
        figure_format(args.plot)
    scenario, models, gpus = setup_run(args)
    opts = options(scenario)
    rows = sweep(models, gpus, formats(scenario), PimTimer(args.cache_dir), opts)
    big = scenario.all_models.get("gpt3-175b") or load_models()["gpt3-175b"]
    checked = claims(rows) + paper_claims(rows, big, opts.setup, formats(scenario))
    if args.plot:
        plot_slack(rows, args.plot)
    if args.json:
        doc = to_json(rows, opts)
        doc["scenario"] = {"name": scenario.name, "fields": scenario.doc}
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
    print(f"\nThe paper's claims on these numbers (scenario {scenario.name}; capacity claims "
          "on GPT3-175B at tp 8 x pp 8):")
    for c in checked:
        print(f"  [{c.verdict}] {c.text}: {c.evidence}")
    return 0
