"""Golden corpus of broken specs: `validate` rejects each one with exactly the expected diagnostics.

Every directory under tests/golden/broken/ holds a monitoring.yaml (and specs/ files where the case
is about includes) plus expected.txt: the exact stderr of

    pacs-reconcile --no-color validate -f <case>/monitoring.yaml

run from the case directory (the tool prints paths relative to the current directory; the case
directory's path is removed where a test runs elsewhere).

To regenerate the expectations after an intended change of messages:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_specs.py

then read every changed expected.txt (`git diff tests/golden`) before committing it. A golden file
records what a person will read: a wrong or unhelpful message is fixed at its cause, never frozen.

The CLI runs in-process (typer's CliRunner; click >= 8.2, installed here, always captures stderr
apart from stdout and has no mix_stderr; older click gets mix_stderr=False), with botocore's
`_make_api_call` patched to fail the test: validating must never talk to AWS. A few cases also run
as a real subprocess. tests/golden/.gitattributes keeps git from touching the bytes (04 holds
non-UTF-8 on purpose, 02 a tab; 66 is a symlink that points outside its case).
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from typer.testing import CliRunner, Result

from pacs_reconcile.cli import app

GOLDEN = Path(__file__).parent / "golden" / "broken"
CASES = sorted(path for path in GOLDEN.iterdir() if path.is_dir())
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
REPO = Path(__file__).parent.parent

# Variables the corpus's specs read from the environment: a developer's shell must not change the
# outcome (39-missing-required-variable relies on its variable being unset).
CLEAN_ENV: dict[str, str | None] = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "PACS_GOLDEN_ALERT_EMAIL": None,
    "PACS_ALERT_EMAIL": None,
    "SLACK_WEBHOOK_URL": None,
    "TEAMS_WEBHOOK_URL": None,
}

DIAGNOSTIC = re.compile(r"^(?P<file>[^:\s]+(?:\.ya?ml)?|--var|--env)(?::(?P<line>\d+):(?P<col>\d+))?: \S")
SUMMARY = re.compile(r"^(?P<count>\d+) errors? in the spec; nothing was sent to AWS\.$")


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS API call attempted during the test; each one also fails loudly."""
    calls: list[str] = []

    def refuse(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(operation_name)
        raise AssertionError(f"validate made an AWS call: {operation_name}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    yield calls


def make_runner() -> CliRunner:
    """A runner that keeps stderr apart: always so since click 8.2, opt-in before (mix_stderr)."""
    options: dict[str, Any] = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # click < 8.2
        options["mix_stderr"] = False
    return CliRunner(**options)


def run_validate(spec: Path) -> Result:
    """`validate -f monitoring.yaml` from the spec's folder, as a person in that folder would type it."""
    cwd = Path.cwd()
    os.chdir(spec.parent)
    try:
        return make_runner().invoke(app, ["--no-color", "validate", "-f", spec.name], env=CLEAN_ENV)
    finally:
        os.chdir(cwd)


def without_case_dir(text: str, case: Path) -> str:
    for prefix in {f"{case}{os.sep}", f"{case.resolve()}{os.sep}"}:
        text = text.replace(prefix, "")
    return text


def check_shape(stderr: str) -> None:
    """What holds for any rejected spec: located lines sorted by position, then an exact count.

    Each diagnostic is one unindented `file:line:col: [field: ]message` line, followed by indented
    lines (the source line with a caret under the value, notes, help)."""
    lines = stderr.splitlines()
    assert lines, "no diagnostics on stderr"
    summary = SUMMARY.match(lines[-1])
    assert summary, f"last line is not the error count: {lines[-1]!r}"
    assert lines[0] and not lines[0].startswith(" "), f"does not start with a diagnostic: {lines[0]!r}"
    assert all(line.startswith("  ") for line in lines[:-1] if line.startswith(" ")), "odd indentation"
    diagnostics = [line for line in lines[:-1] if not line.startswith(" ")]
    assert int(summary["count"]) == len(diagnostics) >= 1
    keys: list[tuple[str, int, int]] = []
    for line in diagnostics:
        match = DIAGNOSTIC.match(line)
        assert match, f"not `file:line:col: [field: ]message`: {line!r}"
        keys.append((match["file"], int(match["line"] or 0), int(match["col"] or 0)))
    assert keys == sorted(keys), "diagnostics are not sorted by file, line and column"


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    names = [case.name for case in CASES]
    assert all(re.fullmatch(r"\d{2,3}-[a-z0-9-]+", name) for name in names), names
    assert len({name.split("-")[0] for name in names}) == len(names), "two cases share a number"
    for case in CASES:
        assert (case / "monitoring.yaml").is_file() or (case / "monitoring.yaml").is_symlink()
        assert UPDATE or (case / "expected.txt").is_file(), f"{case.name} has no expected.txt"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_broken_spec_is_rejected(case: Path, aws_calls: list[str]) -> None:
    result = run_validate(case / "monitoring.yaml")
    stderr = without_case_dir(result.stderr, case)

    assert "Traceback" not in stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 3, stderr
    assert result.stdout == ""
    assert aws_calls == []
    check_shape(stderr)

    expected = case / "expected.txt"
    if UPDATE:
        expected.write_text(stderr, encoding="utf-8")
    assert stderr == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name", ["01-yaml-syntax-error", "37-duplicate-log-group-across-includes", "58-several-errors-sorted"]
)
def test_console_script_prints_the_same(name: str, tmp_path: Path) -> None:
    """The real process (no CliRunner, a pipe for stderr) gives byte-identical output."""
    case = GOLDEN / name
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    # An unreachable endpoint: were validate to call AWS, the call could never reach a real account.
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    command = ["--no-color", "validate", "-f", str(case / "monitoring.yaml")]
    completed = subprocess.run(
        [sys.executable, "-m", "pacs_reconcile.cli", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 3
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert without_case_dir(completed.stderr, case) == (case / "expected.txt").read_text(encoding="utf-8")


def test_the_real_spec_is_valid(aws_calls: list[str]) -> None:
    """The corpus means something only if a good spec passes the same command."""
    result = run_validate(REPO / "monitoring.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Valid: ")
    assert aws_calls == []


def test_the_aws_guard_catches_a_call(aws_calls: list[str]) -> None:
    """The guard the corpus relies on does fire (so `aws_calls == []` above means something)."""
    import boto3

    client = boto3.client("sns", region_name="ap-northeast-2")
    with pytest.raises(AssertionError, match="validate made an AWS call: ListTopics"):
        client.list_topics()
    assert aws_calls == ["ListTopics"]
