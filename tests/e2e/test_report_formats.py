"""The formats for pull requests and people through the CLI, on the emulator: Markdown plan, apply
and drift, the HTML drift page, and validate as GitHub annotations and SARIF."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Cli, Server


def test_markdown_and_html_through_the_reconcile_loop(cli: Cli, server: Server) -> None:
    planned = cli("plan", "--format", "markdown", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.stderr
    assert planned.stdout.startswith("### pacs-reconcile plan: stack <code>pacs-monitoring</code>")
    assert "#### Missing: declared but absent in AWS" in planned.stdout  # a fresh stack: all missing
    assert "\x1b[" not in planned.stdout and "(sensitive value)" in planned.stdout

    applied = cli("apply", "--auto-approve", "--format", "markdown")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.startswith("### pacs-reconcile apply: stack <code>pacs-monitoring</code>")
    assert "**Apply complete! Resources: " in applied.stdout
    assert "pacs-reconcile will perform" not in applied.stdout  # the text plan went to stderr

    server.client("logs").put_retention_policy(logGroupName="/aws/ecs/keycloak", retentionInDays=1)

    planned = cli("plan", "--format", "markdown")
    assert planned.exit_code == 0, planned.stderr
    drift_section = planned.stdout.split("#### Drift: changed in AWS outside pacs-reconcile (1)")[1]
    assert "<code>~ log_groups.keycloak</code>" in drift_section
    assert "~ retention_days = 1 -> 30" in drift_section

    drift = cli("drift", "--format", "markdown")
    assert drift.exit_code == 2, drift.stderr
    assert "| drifted | 1 | <code>log_groups.keycloak</code> |" in drift.stdout

    page = cli("drift", "--format", "html")
    assert page.exit_code == 2, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>")
    assert 'id="class-drifted"' in page.stdout and "log_groups.keycloak" in page.stdout
    assert "#logsV2:log-groups/log-group/$252Faws$252Fecs$252Fkeycloak" in page.stdout


def test_validate_for_code_review(cli: Cli, stack_dir: Path) -> None:
    sarif = cli("validate", "--format", "sarif")
    assert sarif.exit_code == 0, sarif.stderr
    assert json.loads(sarif.stdout)["runs"][0]["results"] == []

    logs = stack_dir / "specs" / "logs.yaml"
    logs.write_text(logs.read_text(encoding="utf-8").replace("retention_days:", "retention_dayz:", 1))
    annotated = cli("validate", "--format", "github")
    assert annotated.exit_code == 3
    (line,) = annotated.stdout.splitlines()
    assert line.startswith("::error file=") and "logs.yaml,line=" in line and "retention_dayz" in line
    assert "1 error in the spec" in annotated.stderr

    unknown = cli("drift", "--format", "pdf")
    assert unknown.exit_code == 3
