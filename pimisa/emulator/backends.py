"""Backend selection: PIMISA_BACKEND=auto|c|numpy (or --backend); auto = C if it loads."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from pimisa.emulator.cbackend import CBackend, CoreUnavailable, load_core
from pimisa.emulator.faults import Fault
from pimisa.emulator.state import Machine
from pimisa.emulator.twin import NumpyBackend
from pimisa.errors import InputError, UsageError

ENV = "PIMISA_BACKEND"
NAMES = ("auto", "c", "numpy")


class Backend(Protocol):
    """Runs steps [begin, end) of a launch (step t = command t % n of slot t // n)."""

    name: str

    def execute(self, machine: Machine, records: np.ndarray, begin: int,
                end: int) -> Fault | None: ...


def _requested(name: str | None) -> str:
    chosen = (name or os.environ.get(ENV) or "auto").strip().lower()
    if chosen not in NAMES:
        where = "--backend" if name else ENV
        raise UsageError(f"{where}: unknown backend {chosen!r} (choose from {', '.join(NAMES)})")
    return chosen


def c_core_problem() -> str | None:
    """Why the C core cannot be used, or None if it can."""
    try:
        load_core()
    except CoreUnavailable as exc:
        return str(exc)
    return None


def get_backend(name: str | None = None) -> Backend:
    """The backend `name` (default: $PIMISA_BACKEND, else auto)."""
    chosen = _requested(name)
    if chosen == "numpy":
        return NumpyBackend()
    try:
        return CBackend()
    except CoreUnavailable as exc:
        if chosen == "c":
            raise InputError(f"the C emulator core is unavailable: {exc} (reinstall pimisa with "
                             "a C compiler, or use the numpy backend)") from None
        return NumpyBackend()


def active_backend(name: str | None = None) -> str:
    """Name ("c" or "numpy") of the backend `get_backend(name)` gives."""
    return get_backend(name).name
