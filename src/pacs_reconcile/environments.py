"""`--env all`: one command run for every environment of the spec, concurrently, one report.

Each environment runs as the command would with `--env NAME` (its own stack, region, account guard
and assumed role, its own AWS clients and retry budget) on a session whose output is captured;
the outputs are then printed one section per environment, in the spec's order, so concurrent runs
never interleave. Runs are API-bound (waiting on AWS, not on this machine's CPU), so a few at a
time cut the wall time nearly by that factor; ENVIRONMENT_WORKERS bounds it so the calls of all
environments together stay modest beside the per-account API quotas (botocore's adaptive retry
slows each environment's clients down when AWS throttles them).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .commands import Session, SpecInputs
from .errors import ExitStatus, UsageError

ALL = "all"
ENVIRONMENT_WORKERS = 4
"""Environments checked at once (each reads with up to 8 concurrent calls of its own)."""
SEVERITY = (ExitStatus.INTERRUPTED, ExitStatus.ERROR, ExitStatus.INVALID, ExitStatus.CHANGES, ExitStatus.OK)
"""The combined exit code is the most severe one: a failed environment is not hidden by drift."""

CommandRun = Callable[[SpecInputs, Session], int]


@dataclass
class CapturedSession(Session):
    """A session whose stdout, stderr and JSON documents are kept, to be printed in order later."""

    documents: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from rich.console import Console  # here: a command run without --env all makes no such session

        self.out_buffer, self.err_buffer = io.StringIO(), io.StringIO()
        self.stdout = Console(file=self.out_buffer, no_color=True, color_system=None, soft_wrap=True)
        self.stderr = Console(file=self.err_buffer, no_color=True, color_system=None, soft_wrap=True)

    def emit_json(self, document: dict[str, Any]) -> None:
        self.documents.append(self.redactor.data(document))

    def emit_document(self, text: str) -> None:
        self.out_buffer.write(self.redactor.text(text))


@dataclass
class EnvironmentRun:
    environment: str
    exit_code: int
    session: CapturedSession


def environment_names(inputs: SpecInputs) -> list[str] | None:
    """The environments the root file declares (read without validating it: each run does);
    None when the file cannot be read as a mapping (a run without --env reports why)."""
    from .spec.yamlsrc import YamlProblem, read_yaml

    try:
        data = read_yaml(inputs.path, inputs.path.name).data
    except YamlProblem:
        return None
    if not isinstance(data, dict):
        return None
    environments = data.get("environments")
    if not isinstance(environments, dict) or not environments:
        raise UsageError(f"--env all: {inputs.path.name} declares no environments")
    return [str(name) for name in environments]


def run_every_environment(inputs: SpecInputs, session: Session, run_one: CommandRun) -> int:
    """`run_one` for every environment at once (bounded); sections printed in the spec's order."""
    names = environment_names(inputs)
    if names is None:
        return run_one(SpecInputs(inputs.path, None, inputs.variables), session)
    with ThreadPoolExecutor(max_workers=min(ENVIRONMENT_WORKERS, len(names))) as pool:
        runs = list(pool.map(lambda name: _run(inputs, session, name, run_one), names))
    if session.json_output:
        session.emit_json(
            {
                "format_version": 1,
                "environments": {
                    r.environment: (r.session.documents[-1] if r.session.documents else None) for r in runs
                },
                "exit_codes": {r.environment: int(r.exit_code) for r in runs},
            }
        )
    for run in runs:
        title = f"== environment {run.environment} (exit {int(run.exit_code)}) =="
        if not session.document_output:
            session.stdout.print(title, highlight=False, soft_wrap=True)
            session.stdout.out(run.session.out_buffer.getvalue(), end="", highlight=False)
        elif not session.json_output:
            session.emit_document(run.session.out_buffer.getvalue())
        for line in run.session.err_buffer.getvalue().splitlines():
            session.stderr.out(f"[{run.environment}] {line}", highlight=False)
    return combined_exit_code([r.exit_code for r in runs])


def combined_exit_code(codes: list[int]) -> int:
    present = set(codes)
    return next((code for code in SEVERITY if code in present), ExitStatus.OK)


def _run(inputs: SpecInputs, session: Session, name: str, run_one: CommandRun) -> EnvironmentRun:
    import typer

    from .cli_framework import run

    captured = CapturedSession(session.options, session.output_format)
    one = SpecInputs(inputs.path, name, dict(inputs.variables))
    try:
        run(captured, lambda: run_one(one, captured))
    except typer.Exit as done:
        return EnvironmentRun(name, int(done.exit_code), captured)
    raise AssertionError("cli_framework.run always ends with typer.Exit")


def report_path_for(path: Any, environment: str) -> Any:
    """drift --report FILE under --env all: one file per environment, FILE's name + .ENV."""
    return path.with_name(f"{path.stem}.{environment}{path.suffix}")
