"""Where independent pieces of work run: here, one after another, or on a Dask cluster.

`Executor.map(fn, items)` yields fn(*item) for each item, in order. `SerialExecutor` runs them
here; `DaskExecutor` (the optional extra: `pip install "pimisa[dask]"`) runs them on a local
Dask cluster of N worker processes or on an existing one (a scheduler address), keeping a
bounded number of pieces in flight so memory stays bounded on both sides.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from pimisa.errors import UsageError

DASK_HINT = 'needs Dask: pip install "pimisa[dask]" (or: pip install "dask[distributed]")'


class Executor(Protocol):
    """Runs fn(*item) for every item, yielding the results in order."""

    def map(self, fn: Callable, items: Iterable[tuple]) -> Iterator: ...


class SerialExecutor:
    """Everything here, one item after another."""

    def map(self, fn: Callable, items: Iterable[tuple]) -> Iterator:
        """fn(*item) for each item, in order."""
        for item in items:
            yield fn(*item)

    def close(self) -> None:
        """Nothing to release."""


class DaskExecutor:
    """Items on a Dask cluster: a LocalCluster of `workers` processes, or `scheduler`."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 in_flight: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            option = "--scheduler" if scheduler else "--workers"
            raise UsageError(f"{option} {DASK_HINT}") from None
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            if workers is None or workers < 1:
                raise UsageError(f"--workers must be at least 1, got {workers}")
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None,
                                        silence_logs=50)
            self.client = Client(self.cluster)
        self.in_flight = in_flight or 2 * self.workers()

    def map(self, fn: Callable, items: Iterable[tuple]) -> Iterator:
        """fn(*item) for each item on the cluster, at most `in_flight` at a time, in order."""
        pending: deque = deque()
        try:
            for item in items:
                pending.append(self.client.submit(fn, *item, pure=False))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def workers(self) -> int:
        """How many workers the cluster has now (at least 1)."""
        return len(self.client.scheduler_info().get("workers", {})) or 1

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int | None, scheduler: str | None) -> SerialExecutor | DaskExecutor:
    """The executor the --workers / --scheduler options ask for (serial when neither)."""
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler exclude each other")
    if workers is None and scheduler is None:
        return SerialExecutor()
    return DaskExecutor(workers, scheduler)
