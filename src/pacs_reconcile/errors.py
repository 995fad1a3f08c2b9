"""The error taxonomy and the exit codes scripts and cron jobs rely on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    INVALID = 3
    INTERRUPTED = 130


class ReconcileError(Exception):
    """Base of every error the tool reports without a traceback."""

    exit_status: ExitStatus = ExitStatus.ERROR


@dataclass(frozen=True)
class Diagnostic:
    """One problem in the spec, located at file:line:col and a dotted field path."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SpecError(ReconcileError):
    """The spec or the command's arguments are invalid; carries every problem found at once."""

    exit_status = ExitStatus.INVALID

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.field))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(ReconcileError):
    """A command-line argument is wrong (an unknown --target, a malformed --var...)."""

    exit_status = ExitStatus.INVALID


class AwsError(ReconcileError):
    """An AWS call failed: names the operation and the resource it was for."""

    def __init__(self, operation: str, resource: str, message: str) -> None:
        self.operation = operation
        self.resource = resource
        super().__init__(f"{operation} on {resource}: {message}")


class LookupFailed(ReconcileError):
    """An existing resource the spec looks up is missing or ambiguous."""


class PlanRefused(ReconcileError):
    """The plan cannot be carried out (e.g. a resource exists but is not owned by this stack)."""


class Interrupted(ReconcileError):
    exit_status = ExitStatus.INTERRUPTED
