"""Saved plans carry where their spec is: `apply PLAN` works from any folder, a plan applied with
another spec is refused naming both files (before any AWS call), and `--out -` / `apply -` pipe the
plan through stdout and stdin. Runs on moto in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner, Result

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app

REGION = "ap-northeast-2"
SPEC = """\
version: 1
stack: {stack}
region: ap-northeast-2
log_groups:
  app: {{name: /{stack}/app, retention_days: 7}}
"""


@pytest.fixture
def folders(tmp_path: Path, aws: AwsContext) -> Iterator[tuple[Path, Path]]:
    """Two projects, a/ and b/, each with its own monitoring.yaml (stacks alpha and beta)."""
    before = Path.cwd()
    for name, stack in (("a", "alpha"), ("b", "beta")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "monitoring.yaml").write_text(SPEC.format(stack=stack), encoding="utf-8")
    yield tmp_path / "a", tmp_path / "b"
    os.chdir(before)


def cli(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["--no-color", *args], input=stdin, catch_exceptions=False)


def log_groups() -> list[str]:
    groups = boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]
    return sorted(g["logGroupName"] for g in groups)


def test_a_plan_made_in_one_folder_applies_from_another(folders: tuple[Path, Path]) -> None:
    a, b = folders
    os.chdir(a)
    assert cli("plan", "--out", "plan.json").exit_code == 0
    os.chdir(b)  # b has a monitoring.yaml of its own (stack beta): it must not be read
    applied = cli("apply", str(a / "plan.json"))
    assert applied.exit_code == 0, applied.stderr
    assert log_groups() == ["/alpha/app"]


def test_the_saved_plan_names_its_spec_absolutely(folders: tuple[Path, Path]) -> None:
    a, _ = folders
    os.chdir(a)
    assert cli("plan", "--out", "plan.json").exit_code == 0
    saved = json.loads((a / "plan.json").read_text(encoding="utf-8"))["saved_plan"]
    assert saved["spec_path"] == str((a / "monitoring.yaml").resolve())


def test_a_plan_applied_with_another_spec_is_refused_naming_both(folders: tuple[Path, Path]) -> None:
    a, b = folders
    os.chdir(a)
    assert cli("plan", "--out", "plan.json").exit_code == 0
    os.chdir(b)
    refused = cli("apply", str(a / "plan.json"), "-f", "monitoring.yaml", "--format", "json")
    assert refused.exit_code == 1
    message = json.loads(refused.stdout)["error"]["message"]
    assert (
        f"this plan was made from {(a / 'monitoring.yaml').resolve()}, not {b / 'monitoring.yaml'}" in message
    )
    assert "deleted in AWS" not in refused.stderr
    assert log_groups() == []


def test_the_same_spec_in_another_checkout_is_accepted(folders: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = folders
    os.chdir(a)
    assert cli("plan", "--out", "plan.json").exit_code == 0
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "monitoring.yaml").write_text(SPEC.format(stack="alpha"), encoding="utf-8")
    (a / "monitoring.yaml").unlink()  # the first job's workspace is gone
    os.chdir(checkout)
    applied = cli("apply", str(a / "plan.json"), "-f", "monitoring.yaml")
    assert applied.exit_code == 0, applied.stderr
    assert log_groups() == ["/alpha/app"]


def test_a_plan_whose_spec_is_gone_asks_for_it(folders: tuple[Path, Path]) -> None:
    a, b = folders
    os.chdir(a)
    assert cli("plan", "--out", "plan.json").exit_code == 0
    (a / "monitoring.yaml").unlink()
    os.chdir(b)
    result = cli("apply", str(a / "plan.json"))
    assert result.exit_code == 3
    assert "which is not there now; name the spec with -f FILE" in result.stderr


def test_out_dash_writes_the_plan_to_stdout_and_apply_dash_reads_it(folders: tuple[Path, Path]) -> None:
    a, _ = folders
    os.chdir(a)
    planned = cli("plan", "--out", "-")
    assert planned.exit_code == 0
    document = json.loads(planned.stdout)  # the saved plan alone on stdout
    assert document["saved_plan"]["spec_path"] == str((a / "monitoring.yaml").resolve())
    assert "log_groups.app" in planned.stderr  # the people's view went to stderr
    assert not (a / "-").exists()
    applied = cli("apply", "-", stdin=planned.stdout)
    assert applied.exit_code == 0, applied.stderr
    assert log_groups() == ["/alpha/app"]


def test_out_dash_with_json_output_is_a_usage_error(folders: tuple[Path, Path]) -> None:
    os.chdir(folders[0])
    result = cli("plan", "--out", "-", "--format", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["type"] == "usage"
