"""How spec problems read: files named from where the person stands, a caret under the value, a
help line, plain words, one error per cause, and `validate` checking every environment."""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pacs_reconcile.cli import app
from pacs_reconcile.diagnostics import span_at

GOLDEN = Path(__file__).parent / "golden" / "broken"
DIAGNOSTICS = Path(__file__).parent / "golden" / "diagnostics"
"""The exact stderr of the tests below that compare it whole."""

ROOT = """\
version: 1
stack: diag
region: ap-northeast-2
include: [specs/*.yaml]
variables:
  log_retention_days: {type: int, default: 30}
environments:
  dev: {variables: {log_retention_days: 7}}
  prod: {variables: {log_retention_days: 45}}
"""
LOGS = """\
log_groups:
  app:
    name: /diag/app
    retention_days: ${var.log_retention_days}
  audit:
    name: /diag/audit
    retention_days: 45
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp_path/other/monitoring.yaml including specs/logs.yaml; the working directory is tmp_path."""
    folder = tmp_path / "other"
    (folder / "specs").mkdir(parents=True)
    (folder / "monitoring.yaml").write_text(ROOT, encoding="utf-8")
    (folder / "specs" / "logs.yaml").write_text(LOGS, encoding="utf-8")
    return folder


@pytest.fixture
def cwd() -> Iterator[None]:
    """Restore the working directory the tests below change."""
    before = Path.cwd()
    yield
    os.chdir(before)


def validate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["--no-color", "validate", *args], env=env, catch_exceptions=False)


def test_the_caret_points_at_the_value_with_a_help_line(project: Path, cwd: None) -> None:
    os.chdir(project)
    result = validate("--env", "dev")
    assert result.exit_code == 3
    assert result.stderr == (DIAGNOSTICS / "caret.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("where", "named"),
    [(".", "other/specs/logs.yaml"), ("other", "specs/logs.yaml"), ("other/specs", "logs.yaml")],
)
def test_paths_are_relative_to_the_working_directory(
    project: Path, cwd: None, where: str, named: str
) -> None:
    os.chdir(project.parent / where)
    spec = os.path.relpath(project / "monitoring.yaml")
    result = validate("-f", spec, "--env", "dev")
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{named}:7:21: log_groups.audit.retention_days: ")
    assert Path(named).is_file()  # the name opens the file it names, from here


def test_a_file_outside_the_working_directory_is_named_absolutely(
    project: Path, cwd: None, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    result = validate("-f", str(project / "monitoring.yaml"), "--env", "dev")
    assert result.stderr.startswith(f"{project / 'specs' / 'logs.yaml'}:7:21: ")


def test_validate_without_env_checks_every_environment(project: Path, cwd: None) -> None:
    """prod's overlay sets 45 days: reported at the use site, naming the environment and the overlay
    line; dev's 7 days are valid; the base spec's own error is reported once, without an env."""
    os.chdir(project)
    result = validate()
    assert result.exit_code == 3
    assert result.stderr == (DIAGNOSTICS / "every-environment.txt").read_text(encoding="utf-8")


def test_the_overlay_error_in_json_names_the_environment(project: Path, cwd: None) -> None:
    os.chdir(project)
    result = validate("--format", "json")
    diagnostics = json.loads(result.stdout)["error"]["diagnostics"]
    prod = [d for d in diagnostics if d["environment"] == "prod"]
    assert len(prod) == 1 and prod[0]["field"] == "log_groups.app.retention_days"
    assert prod[0]["notes"] == [
        "${var.log_retention_days} = 45 comes from environments.prod.variables.log_retention_days "
        "at monitoring.yaml:9:42"
    ]
    assert prod[0]["help"] == "the nearest allowed values are 30 and 60"


def test_a_valid_spec_reports_the_environments_checked(project: Path, cwd: None) -> None:
    (project / "specs" / "logs.yaml").write_text(LOGS.replace("45", "30"), encoding="utf-8")
    (project / "monitoring.yaml").write_text(ROOT.replace("45", "60"), encoding="utf-8")
    os.chdir(project)
    result = validate()
    assert result.exit_code == 0, result.stderr
    assert "environments dev, prod" in result.stderr
    assert json.loads(validate("--format", "json").stdout)["environments"] == ["dev", "prod"]


def test_an_invalid_lookup_is_one_error_not_one_per_use(tmp_path: Path, cwd: None) -> None:
    (tmp_path / "monitoring.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            stack: diag
            region: ap-northeast-2
            lookups:
              alb: {kind: load_balancer, name: [pacs-alb]}
            alarms:
              a:
                name: a
                metric:
                  {name: X, namespace: N, statistic: Sum, period: 60, dimensions: {LB: "${lookups.alb.name}"}}
                comparison: GreaterThanThreshold
                threshold: 1
                evaluation_periods: 1
              b:
                name: b
                metric:
                  {name: X, namespace: N, statistic: Sum, period: 60, dimensions: {LB: "${lookups.alb.name}"}}
                comparison: GreaterThanThreshold
                threshold: 1
                evaluation_periods: 1
            """
        ),
        encoding="utf-8",
    )
    os.chdir(tmp_path)
    result = validate()
    assert result.exit_code == 3
    assert "no lookup" not in result.stderr
    assert result.stderr.splitlines()[0] == "monitoring.yaml:5:36: lookups.alb.name: must be text"
    assert result.stderr.splitlines()[-1] == "1 error in the spec; nothing was sent to AWS."


def test_no_golden_diagnostic_speaks_pydantic_or_python() -> None:
    """Plain words: no pydantic phrasing, no Python list reprs in anything a person reads."""
    for expected in sorted(GOLDEN.glob("*/expected.txt")):
        text = expected.read_text(encoding="utf-8")
        for phrase in ("Input should", "Value error", "String should", "type=", "pydantic"):
            assert phrase not in text, f"{expected.parent.name}: {phrase!r}"
        assert not re.search(r"\['[^']*', '", text), f"{expected.parent.name}: a Python list"


@pytest.mark.parametrize(
    ("line", "column", "width"),
    [
        ("    retention_days: 45", 21, 2),
        ('    name: "quoted value" # note', 11, 14),
        ("    alarm_actions: [${sns.a.arn}, b]", 21, 12),
        ("    dims: {A: x, B: yy}", 21, 2),
        ("    threshhold: 10", 5, 10),
        ("  app:", 3, 3),
        ("    name: plain words here # comment", 11, 16),
    ],
)
def test_the_caret_spans_the_value(line: str, column: int, width: int) -> None:
    assert span_at(line, column - 1) == width
