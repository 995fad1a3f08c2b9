"""Conventions SREs expect from a command-line tool: colors only when wanted, errors on stderr, JSON on
stdout even on failure, shell completion, AWS_ENDPOINT_URL, a fast start; and `--target`/`--exclude`
selecting what plan and apply look at."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner, Result

from pacs_reconcile import aws as aws_module
from pacs_reconcile.cli import app
from pacs_reconcile.emulator.server import free_port
from pacs_reconcile.engine.plan import PlanOptions, _selection
from pacs_reconcile.errors import UsageError
from pacs_reconcile.spec.loader import load_spec

REGION = "ap-northeast-2"
SCRIPT = Path(sys.executable).parent / "pacs-reconcile"
ANSI = re.compile(r"\x1b\[")
ANSI_COLOR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7]|4[0-9]|10[0-7])[0-9;]*m")
"""An SGR sequence that sets a foreground or background color (bold alone is not a color)."""
FORCE_TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
"""Make rich believe it writes to a color terminal, as it would for a person."""

VALID = """\
version: 1
stack: conventions
region: ap-northeast-2
lookups:
  rds: {kind: rds_instance, identifier: pacs-postgresql}
sns_topics:
  alerts:
    name: conventions-alerts
    subscriptions:
      email: {protocol: email, endpoint: oncall@example.com}
log_groups:
  app:
    name: /conventions/app
    retention_days: 7
    metric_filters:
      errors:
        name: errors
        pattern: ERROR
        metric: {name: Errors, namespace: Conventions}
  other:
    name: /conventions/other
alarms:
  errors:
    name: conventions-errors
    metric: {name: Errors, namespace: Conventions, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
"""
INVALID = VALID.replace("retention_days: 7", "retention_days: 8")


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, Path]:
    paths = {"valid": tmp_path / "valid.yaml", "invalid": tmp_path / "invalid.yaml"}
    paths["valid"].write_text(VALID, encoding="utf-8")
    paths["invalid"].write_text(INVALID, encoding="utf-8")
    return paths


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


# Colors ------------------------------------------------------------------------------------------


def test_a_terminal_gets_colors_by_default(specs: dict[str, Path]) -> None:
    """The control for the tests below: without NO_COLOR, diagnostics are colored."""
    result = invoke("validate", "-f", str(specs["invalid"]), env=FORCE_TERMINAL)
    assert result.exit_code == 3
    assert ANSI_COLOR.search(result.stderr)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {**FORCE_TERMINAL, "NO_COLOR": "1"}),
        (("--no-color",), FORCE_TERMINAL),
    ],
)
def test_no_color_and_the_no_color_option_remove_colors(
    specs: dict[str, Path], args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = invoke(*args, "validate", "-f", str(specs["invalid"]), env=env)
    assert result.exit_code == 3
    assert "retention_days" in result.stderr
    assert not ANSI_COLOR.search(result.stderr + result.stdout)


def test_no_color_output_has_no_escape_sequence_at_all(specs: dict[str, Path]) -> None:
    result = invoke("--no-color", "validate", "-f", str(specs["invalid"]), env=FORCE_TERMINAL)
    assert not ANSI.search(result.stderr + result.stdout)


# Streams and exit codes --------------------------------------------------------------------------


def test_errors_go_to_stderr_and_stdout_stays_clean(specs: dict[str, Path]) -> None:
    result = invoke("--no-color", "validate", "-f", str(specs["invalid"]))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert re.search(r"invalid\.yaml:\d+:\d+: log_groups\.app\.retention_days: ", result.stderr)


def test_json_on_stdout_for_an_invalid_spec(specs: dict[str, Path]) -> None:
    result = invoke("--no-color", "plan", "-f", str(specs["invalid"]), "--format", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)  # exactly one JSON document
    assert document["error"]["type"] == "invalid_spec"
    assert document["error"]["diagnostics"][0]["field"] == "log_groups.app.retention_days"
    assert "retention_days" in result.stderr  # people still get the text


def test_json_on_stdout_when_aws_cannot_be_reached(
    specs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt instead of eight: the behaviour is the same, the test is 20 s faster.
    monkeypatch.setattr(aws_module, "AwsSettings", functools.partial(aws_module.AwsSettings, max_attempts=1))
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        "--no-color", "--endpoint-url", closed, "plan", "-f", str(specs["valid"]), "--format", "json"
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["error"]["type"] == "aws"
    assert document["error"]["exception"] == "EndpointConnectionError"
    assert closed in document["error"]["message"]
    assert "error:" in result.stderr


def test_an_unknown_target_is_a_usage_error_before_any_aws_call(
    specs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = aws_module.AwsContext._on_before_call
    monkeypatch.setattr(
        aws_module.AwsContext,
        "_on_before_call",
        lambda self, model, **kw: (calls.append(model.name), original(self, model, **kw)),
    )
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        "--endpoint-url",
        closed,
        "plan",
        "-f",
        str(specs["valid"]),
        "--target",
        "alarms.nope",
        "--format",
        "json",
    )
    assert result.exit_code == 3
    assert "no such resource" in json.loads(result.stdout)["error"]["message"]
    assert calls == []


# Shell completion and start-up -------------------------------------------------------------------


def test_shell_completion_script_and_completions() -> None:
    # With shellingham installed, typer's --show-completion is a flag and the shell is detected
    # from the process's ancestors, which a test run started under nohup or by a scheduler does not
    # have (the script then fails with "Shell  not supported."): typer's switch for tests makes the
    # option take the shell named here instead.
    script = subprocess.run(
        [str(SCRIPT), "--show-completion", "bash"],
        env={**os.environ, "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert script.returncode == 0
    assert "_PACS_RECONCILE_COMPLETE" in script.stdout
    env = {
        **os.environ,
        "_PACS_RECONCILE_COMPLETE": "complete_bash",
        "COMP_WORDS": "pacs-reconcile ex",
        "COMP_CWORD": "1",
    }
    completed = subprocess.run(
        [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "export" in completed.stdout.split()
    assert all(word.startswith("ex") for word in completed.stdout.split())


_IMPORTS = """
import sys
from pacs_reconcile.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    print("exit", exit.code, file=sys.stderr)
print("boto3" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["validate", "-f", "{valid}"], ["graph", "-f", "{valid}"], ["schema"]]
)
def test_offline_commands_do_not_import_boto3(specs: dict[str, Path], args: list[str]) -> None:
    argv = [a.format(valid=specs["valid"]) for a in args]
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    lines = done.stderr.strip().splitlines()
    assert lines[-2] == "exit 0", done.stderr
    assert lines[-1] == "False", f"{' '.join(args)} imported boto3"


# AWS_ENDPOINT_URL --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_aws_endpoint_url_is_honoured(tmp_path: Path, endpoint: str) -> None:
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(
        "version: 1\nstack: endpoint-env\nregion: ap-northeast-2\n"
        "log_groups:\n  app: {name: /endpoint-env/app, retention_days: 7}\n",
        encoding="utf-8",
    )
    result = invoke(
        "--no-color", "apply", "-f", str(spec), "--auto-approve", env={"AWS_ENDPOINT_URL": endpoint}
    )
    assert result.exit_code == 0, result.stderr
    logs = boto3.client("logs", region_name=REGION, endpoint_url=endpoint)
    groups = logs.describe_log_groups(logGroupNamePrefix="/endpoint-env/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/endpoint-env/app"]


# Target selection (offline: what plan and apply are limited to) -----------------------------------


def selected(spec_file: Path, targets: list[str], excludes: list[str] | None = None) -> set[str]:
    return _selection(load_spec(spec_file), PlanOptions(targets=targets, excludes=excludes or []))


def test_a_target_pulls_in_its_dependencies_and_their_children(specs: dict[str, Path]) -> None:
    assert selected(specs["valid"], ["alarms.errors"]) == {
        "alarms.errors",
        "sns_topics.alerts",
        "sns_topics.alerts.subscriptions.email",
    }


def test_a_target_pulls_in_its_children(specs: dict[str, Path]) -> None:
    assert selected(specs["valid"], ["log_groups.app"]) == {
        "log_groups.app",
        "log_groups.app.metric_filters.errors",
    }


def test_a_child_target_pulls_in_its_parent_but_not_its_siblings_dependents(specs: dict[str, Path]) -> None:
    assert selected(specs["valid"], ["log_groups.app.metric_filters.errors"]) == {
        "log_groups.app",
        "log_groups.app.metric_filters.errors",
    }


def test_exclude_removes_a_resource_and_its_children(specs: dict[str, Path]) -> None:
    everything = set(load_spec(specs["valid"]).resources)
    assert selected(specs["valid"], [], ["log_groups.app"]) == everything - {
        "log_groups.app",
        "log_groups.app.metric_filters.errors",
    }
    assert selected(specs["valid"], ["alarms.errors"], ["sns_topics.alerts.subscriptions.email"]) == {
        "alarms.errors",
        "sns_topics.alerts",
    }


@pytest.mark.parametrize("address", ["alarms['errors']", "nope.x"])
def test_targets_are_checked_against_the_spec(specs: dict[str, Path], address: str) -> None:
    with pytest.raises(UsageError, match="no such resource"):
        selected(specs["valid"], [address])


_HELP_IMPORTS = """
import sys
from pacs_reconcile.cli import app
try:
    app(["--help"])
except SystemExit:
    pass
heavy = ("rich", "importlib.metadata", "pydantic", "yaml")
print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)
"""


def test_help_imports_neither_rich_nor_package_metadata() -> None:
    """Start-up imports only what a command needs: `--help` prints no rich text and no version
    (rich and importlib.metadata were a third of its start-up)."""
    done = subprocess.run(
        [sys.executable, "-c", _HELP_IMPORTS], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
