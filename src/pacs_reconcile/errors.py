"""The error taxonomy and the exit codes scripts and cron jobs rely on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    INVALID = 3
    INTERRUPTED = 130


class ErrorType(StrEnum):
    """The `error.type` of JSON error documents: one small vocabulary scripts can branch on."""

    USAGE = "usage"
    """A command-line argument is wrong (exit 3)."""
    INVALID_SPEC = "invalid_spec"
    """The spec is invalid; `error.diagnostics` lists every problem (exit 3)."""
    AWS = "aws"
    """An AWS call failed or AWS is not in the state the run needs (exit 1)."""
    REFUSED = "refused"
    """The tool refused to go on, for the reason in the message: a stale or mismatched saved plan,
    an unowned resource, a held lock, a cancelled confirmation (exit 1)."""
    INTERRUPTED = "interrupted"
    """Ctrl-C or SIGINT (exit 130)."""
    INTERNAL = "internal"
    """A bug in pacs-reconcile (exit 1); --traceback shows where."""


class ReconcileError(Exception):
    """Base of every error the tool reports without a traceback."""

    exit_status: ExitStatus = ExitStatus.ERROR
    error_type: ErrorType = ErrorType.REFUSED


@dataclass(frozen=True)
class Diagnostic:
    """One problem in the spec, located at file:line:col and a dotted field path.

    `file` is as a person at this shell would open it: relative to the current directory, or
    absolute outside it (`--var` and `--env` name the command line). The column points at the
    offending value (at the key when the key itself is wrong, or the value spans several lines).
    """

    file: str
    line: int
    column: int
    field: str
    message: str
    help: str = ""
    """What to do about it, when there is something to suggest ("did you mean 'x'?")."""
    notes: tuple[str, ...] = ()
    """Where the value came from, when not from the line shown (an environment's overlay)."""
    environment: str | None = None
    """The environment (--env) whose overlay makes this problem; None: the base spec."""
    snippet: str = ""
    """The source line at `line`, sensitive values masked (shown under the message)."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} [--env {self.environment}]" if self.environment else text

    @property
    def identity(self) -> tuple[str, int, int, str, str]:
        """Two diagnostics with this in common report the same problem."""
        return (self.file, self.line, self.column, self.field, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "help": self.help,
            "notes": list(self.notes),
            "environment": self.environment,
        }


class SpecError(ReconcileError):
    """The spec or the command's arguments are invalid; carries every problem found at once."""

    exit_status = ExitStatus.INVALID
    error_type = ErrorType.INVALID_SPEC

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.field))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(ReconcileError):
    """A command-line argument is wrong (an unknown --target, a malformed --var...)."""

    exit_status = ExitStatus.INVALID
    error_type = ErrorType.USAGE


class AwsError(ReconcileError):
    """An AWS call failed: names the operation and the resource it was for."""

    error_type = ErrorType.AWS

    def __init__(self, operation: str, resource: str, message: str) -> None:
        self.operation = operation
        self.resource = resource
        super().__init__(f"{operation} on {resource}: {message}")


class LookupFailed(ReconcileError):
    """An existing resource the spec looks up is missing or ambiguous."""

    error_type = ErrorType.AWS


class PlanRefused(ReconcileError):
    """The plan cannot be carried out (e.g. a resource exists but is not owned by this stack)."""
