"""`pimisa run`: run a kernel over input tensors on the emulator and save its outputs."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pimisa import kernels
from pimisa.arch import DEFAULT_ARCH, load_arch
from pimisa.commands.asm_cmd import add_define_option, parse_defines
from pimisa.emulator import EmulatorFault, TraceWriter, get_backend
from pimisa.emulator.launch import launch
from pimisa.emulator.run import ProgressFn
from pimisa.errors import UsageError
from pimisa.fileio import atomic_open, input_arg, input_spec_arg, load_npy, output_arg

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

VIEWS = {"f32": np.float32, "i32": np.int32, "u32": np.uint32}
PROGRESS_AFTER_S = 2.0  # show a progress bar once a run has taken this long


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` sub-command."""
    p = sub.add_parser(
        "run", help="run a kernel on the emulator",
        description="Lay input tensors out in bank memory, run the kernel over every tile on "
        "the emulator and save its declared outputs.")
    p.add_argument("kernel", metavar="KERNEL", type=input_arg,
                   help="a .pimasm source, a .pimb command stream or a bundled kernel name")
    p.add_argument("--arch", metavar="NAME|FILE", type=input_arg,
                   help="architecture preset or .toml file (default: the kernel's, else "
                   f"{DEFAULT_ARCH})")
    p.add_argument("--in", dest="inputs", metavar="NAME=FILE.npy", action="append", default=[],
                   type=input_spec_arg,
                   help="an input tensor for the kernel's input region NAME (repeatable)")
    p.add_argument("--out", metavar="RESULT.npz", type=output_arg,
                   help="write the output regions here")
    p.add_argument("--backend", choices=("auto", "c", "numpy"),
                   help="emulator backend (default: $PIMISA_BACKEND, else auto)")
    p.add_argument("--cast", action="store_true",
                   help="round float64 inputs to float32 (refused without it: it loses "
                   "precision); other byte and memory orders are converted exactly")
    p.add_argument("--trace", metavar="FILE", type=output_arg,
                   help="write a per-command trace log")
    p.add_argument("--view", choices=tuple(VIEWS),
                   help="reinterpret the bits of every output as float32, int32 or uint32 "
                   "(default: as the layout reads back: raw words uint32, hp16 float32)")
    add_define_option(p)
    p.set_defaults(func=run)


def load_inputs(specs: list[str], cast: bool = False) -> dict[str, np.ndarray]:
    """Arrays from `NAME=FILE.npy` arguments."""
    inputs: dict[str, np.ndarray] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--in {spec!r}: expected NAME=FILE.npy")
        if name in inputs:
            raise UsageError(f"--in: input {name!r} given twice")
        inputs[name] = load_npy(path, allow_cast=cast)
    return inputs


class ProgressBar:
    """A progress callback that shows a bar once a run has taken `after` seconds.

    The bar goes to `console` (default: stderr, only when it is a terminal).
    """

    def __init__(self, after: float = PROGRESS_AFTER_S, console: Console | None = None) -> None:
        self.after = after
        self.console = console
        self.start = time.perf_counter()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        """Report `done` of `total` steps."""
        if self.bar is None:
            if time.perf_counter() - self.start < self.after:
                return
            from rich.console import Console
            from rich.progress import Progress

            console = self.console or Console(stderr=True)
            if not console.is_terminal:
                return
            self.bar = Progress(*Progress.get_default_columns(), console=console,
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("running", total=total)
        self.bar.update(self.task, completed=done)  # type: ignore[arg-type]

    def close(self) -> None:
        """Remove the bar, if shown."""
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def _progress_bar() -> Iterator[ProgressFn]:
    bar = ProgressBar()
    try:
        yield bar
    finally:
        bar.close()


def run(args: argparse.Namespace) -> int:
    """Run the kernel and write its outputs."""
    backend = get_backend(args.backend)
    program = kernels.load(args.kernel, args.arch, parse_defines(args.define))
    arch = load_arch(args.arch or program.meta.arch or DEFAULT_ARCH)
    inputs = load_inputs(args.inputs, args.cast)
    fault: EmulatorFault | None = None
    with _progress_bar() as progress:
        if args.trace:
            with atomic_open(args.trace, "w") as handle:
                try:
                    result = launch(program, arch.geometry, inputs, backend, progress=progress,
                                    trace=TraceWriter(program, handle))
                except EmulatorFault as exc:
                    fault = exc
        else:
            result = launch(program, arch.geometry, inputs, backend, progress=progress)
    if fault is not None:
        raise fault
    outputs = result.outputs
    if args.view:
        outputs = {k: v.view(VIEWS[args.view]) if v.dtype.itemsize == 4 else v
                   for k, v in outputs.items()}
    if args.out:
        with atomic_open(args.out, "wb") as handle:
            np.savez(handle, **outputs)
    g, s = arch.geometry, result.stats
    name = program.meta.name or Path(args.kernel).stem
    shown = ", ".join(f"{k} {v.dtype} {'x'.join(map(str, v.shape))}" for k, v in outputs.items())
    wrote = f"; wrote {args.out} ({shown or 'no outputs'})" if args.out else ""
    print(f"{name}: {s.steps} commands executed ({s.commands} x {s.slots} slots) on "
          f"{arch.name}: {g.total_channels * g.banks} banks, {g.total_units} units x "
          f"{g.lanes} lanes; backend {s.backend}, {s.seconds:.3f} s{wrote}")
    return 0
