"""`pimisa time` (DRAM timing of a kernel launch) and `pimisa check-trace` (verify a schedule)."""

from __future__ import annotations

import argparse
import json
import sys

from pimisa import kernels
from pimisa.arch import load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.errors import UsageError
from pimisa.fileio import input_arg, output_arg

DEFAULT_TRACE_LIMIT_MB = 1024.0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `time` and `check-trace` sub-commands."""
    p = sub.add_parser(
        "time", help="time a kernel launch on DRAM timing",
        description="Schedule a kernel launch as a memory controller would (ACT/PRE/REF "
        "inserted, every timing constraint of the preset honoured) and print how long it "
        "takes. Every channel runs the same command stream, so one schedule serves them all.")
    p.add_argument("kernel", metavar="KERNEL", type=input_arg,
                   help="a .pimb file, a .pimasm source or the name of a bundled kernel")
    p.add_argument("--arch", metavar="NAME|FILE", type=input_arg,
                   help="architecture preset or .toml file (default: the kernel's, else hbm3)")
    p.add_argument("--tiles", type=int, metavar="N",
                   help="tiles to process over the whole device (default: one per PIM unit)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--trace-csv", metavar="FILE", type=output_arg,
                   help="write every DRAM command as CSV, with the PIM command it was issued "
                   "for (tile slot, index, mnemonic, source file:line)")
    p.add_argument("--chrome-trace", metavar="FILE.json", type=output_arg,
                   help="write a Chrome trace-event JSON file (opens in Perfetto)")
    p.add_argument("--all-channels", action="store_true",
                   help="traces: write every channel (identical schedules); default channel 0")
    p.add_argument("--trace-limit", type=float, default=DEFAULT_TRACE_LIMIT_MB, metavar="MB",
                   help=f"cut each trace file at this size (default {DEFAULT_TRACE_LIMIT_MB:g})")
    p.add_argument("--by-line", action="store_true",
                   help="also attribute the launch's commands, cycles, row misses and stalls "
                   "to source lines and macro invocations, costliest first (with --json: the "
                   "'lines' and 'macros' lists)")
    p.add_argument("--top", type=int, metavar="N", help="--by-line: show the N costliest rows")
    add_define_option(p)
    p.set_defaults(func=run_time)

    c = sub.add_parser(
        "check-trace", help="verify a DRAM schedule against every timing rule",
        description="Re-verify a CSV trace (as written by `pimisa time --trace-csv`) against "
        "every rule of the timing table, independently of the scheduler. Exit code 1 when a "
        "rule is broken; each violation names both commands by line.")
    c.add_argument("trace", metavar="TRACE.csv", type=input_arg)
    c.add_argument("--arch", metavar="NAME|FILE", type=input_arg,
                   help="architecture preset (default: the one the trace's '# pimisa-trace' "
                   "header names; it must match the header when both are given)")
    c.add_argument("--max-violations", type=int, default=50, metavar="N",
                   help="print at most N violations (default 50)")
    c.set_defaults(func=run_check)


def run_time(args: argparse.Namespace) -> int:
    """Schedule the launch, print the summary, write the requested traces."""
    from pimisa.dram import slots_for_tiles, start_launch
    from pimisa.dram.summary import TimingSummary
    from pimisa.dram.traces import write_traces

    if args.trace_limit <= 0:
        raise UsageError(f"--trace-limit must be positive, got {args.trace_limit:g}")
    if args.top is not None and (args.top < 1 or not args.by_line):
        raise UsageError("--top N needs --by-line and N >= 1")
    defines = parse_defines(args.define)
    assembly = None
    if args.by_line and not args.kernel.endswith(".pimb"):
        from pimisa.asm import assemble_path

        assembly = assemble_path(kernels.resolve(args.kernel), args.arch, defines)
        if assembly.program is None:
            from pimisa.errors import SourceError

            raise SourceError(assembly.rendered)
        program = assembly.program
    else:
        program = kernels.load(args.kernel, args.arch, defines)
    arch = load_arch(args.arch or program.meta.arch)
    tiles = arch.geometry.total_units if args.tiles is None else args.tiles
    slots = slots_for_tiles(tiles, arch.geometry)
    channels = list(range(arch.geometry.total_channels)) if args.all_channels else [0]
    notes: list[str] = []
    if args.trace_csv or args.chrome_trace:
        from pimisa.linecost import AttributedRun

        run = AttributedRun(program, arch, slots)
        notes = write_traces(run, arch, args.trace_csv, args.chrome_trace, channels,
                             int(args.trace_limit * 2**20))
    else:
        run = start_launch(program, arch, slots)
        run.finish()
    summary = TimingSummary.from_stats(run.stats(), arch, slots)
    costs = None
    if args.by_line:
        from pimisa.linecost import line_costs

        costs = line_costs(program, arch, slots, assembly.sources if assembly else None,
                           assembly.record_stacks if assembly else None,
                           assembly.stacks if assembly else None)
    if args.json:
        doc = summary.to_json()
        doc["tiles"] = tiles
        if costs is not None:
            doc["lines"] = [c.to_json() for c in costs.lines[:args.top]]
            doc["macros"] = [c.to_json() for c in costs.macros[:args.top]]
        print(json.dumps(doc, indent=2))
    else:
        print(summary.render())
        if costs is not None:
            print()
            print(costs.render(args.top))
        print(f"tiles        {tiles} over {arch.geometry.total_units} PIM units")
        if args.trace_csv or args.chrome_trace:
            which = "every channel" if args.all_channels else "channel 0 (the others are the same)"
            print(f"traces       {which}")
    for note in notes:
        print(f"pimisa: {note}", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Check a trace; exit 1 if any rule is broken."""
    from pimisa.dram.check import check_schedule, load_trace

    if args.max_violations < 0:
        raise UsageError(f"--max-violations must be >= 0, got {args.max_violations}")
    trace, arch = load_trace(args.trace, args.arch)
    result = check_schedule(trace, arch, args.max_violations)
    for v in result.violations:
        print(f"{args.trace}:{v.line}: {v.rule}: {v.message}")
    if result.ok:
        print(f"{args.trace}: {result.commands} commands on {result.channels} channel(s) "
              f"satisfy every timing rule of {arch.name}")
        return 0
    shown = len(result.violations)
    more = f" ({shown} shown)" if shown < result.total else ""
    print(f"{args.trace}: {result.total} violation(s){more} of {arch.name}'s timing rules")
    return 1
