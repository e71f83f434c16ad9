"""`pimisa jitq sweep`: the JIT-Q analysis over a grid of scenario field values."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pimisa.errors import UsageError
from pimisa.fileio import atomic_open, output_arg


def register_sweep(sub: argparse._SubParsersAction,
                   shared: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `jitq sweep` (options after the word `sweep`)."""
    p = sub.add_parser(
        "sweep", help="the analysis over a grid of scenario field values",
        description="Run the JIT-Q analysis at every combination of --axis values (each a "
        "scenario field, validated like --set) and print one record per point x model x GPU x "
        "format: slack of each pass, throughput loss, capacity savings, PIM utilisation.")
    shared(p)
    p.add_argument("--axis", metavar="PATH=V1,V2,...", action="append", default=[],
                   help="a swept field and its values, e.g. --axis workload.micro_batch=1,2,4 "
                   "(repeatable; the grid is the product)")
    p.add_argument("--output", choices=("table", "csv", "json"), default="table",
                   help="what to print (default table)")
    p.add_argument("--out", metavar="FILE", type=output_arg,
                   help="write the output to FILE instead of stdout")
    p.add_argument("--plot", metavar="FILE", type=output_arg,
                   help="draw a metric against the first axis "
                   "(.png or .svg)")
    p.add_argument("--metric", default="fwd_slack",
                   help="metric of --plot: fwd_slack, bwd_slack, loss, savings, row_util, "
                   "col_util (default fwd_slack)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="run the grid points on a local Dask cluster of N processes "
                   "(the optional extra pimisa[dask]); same records as one process")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the grid points on an existing Dask cluster")
    p.set_defaults(func=run_sweep)


def run_sweep(args: argparse.Namespace) -> int:
    """Run the grid and print or write it."""
    from pimisa.commands.jitq_cmd import cli_sets, setup_run
    from pimisa.executor import make_executor
    from pimisa.jitq.figures import figure_format, plot_metric
    from pimisa.jitq.pim import PimTimer
    from pimisa.jitq.sweeps import METRICS, parse_axis, run_grid, to_csv, to_json, to_table

    if args.plot:
        figure_format(args.plot)
        if not args.axis:
            raise UsageError("--plot needs at least one --axis")
    if args.metric not in METRICS:
        raise UsageError(f"--metric {args.metric!r}: one of {', '.join(METRICS)}")
    axes = [parse_axis(a) for a in args.axis]
    _, models, gpus = setup_run(args)  # validates the base scenario once
    executor = make_executor(args.workers, args.scheduler)
    try:
        records = run_grid(args.scenario, cli_sets(args), axes, PimTimer(args.cache_dir),
                           (models, gpus), executor)
    finally:
        executor.close()
    text = {"table": to_table, "csv": to_csv}.get(args.output)
    body = text(records) if text else to_json(records, axes)
    if args.plot:
        plot_metric(records, axes[0].path, args.metric, args.plot)
    if args.out:
        with atomic_open(args.out, "w") as handle:
            handle.write(body if body.endswith("\n") else body + "\n")
    else:
        print(body)
    return 0
