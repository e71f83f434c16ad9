"""Error types that the CLI turns into one-line messages and exit codes (never tracebacks)."""

from __future__ import annotations


class PimisaError(Exception):
    """A user-facing error: its message is printed as is; `exit_code` is the process status."""

    exit_code: int = 1
    located: bool = False  # True when the message already starts with `file:line:col: error:`


class UsageError(PimisaError):
    """Bad command-line usage or a bad argument value (exit code 2)."""

    exit_code = 2


class InputError(PimisaError):
    """Bad input data: a missing, corrupt or ill-shaped file, an invalid preset (exit code 1)."""


class SourceError(PimisaError):
    """Assembly source errors; the message holds every rendered diagnostic (exit code 1)."""

    located = True
