"""`verify` reaches people only when asked (`--notify`), and counts warnings as warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.sns.models import sns_backends
from typer.testing import CliRunner, Result

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app
from pacs_reconcile.verify import Check, Outcome, Summary

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
SPEC = """\
version: 1
stack: verify-contract
region: ap-northeast-2
sns_topics:
  alerts:
    name: verify-alerts
    subscriptions:
      oncall: {protocol: email, endpoint: oncall@example.com}
log_groups:
  app: {name: /verify/app, retention_days: 7}
alarms:
  errors:
    name: verify-errors
    metric: {name: Errors, namespace: Verify/Application, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
"""


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["--no-color", *args], catch_exceptions=False)


@pytest.fixture
def applied(tmp_path: Path, aws: AwsContext) -> Path:
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert cli("apply", "-f", str(spec), "--auto-approve").exit_code == 0
    return spec


def _topic_messages() -> list[str]:
    topic = sns_backends[ACCOUNT][REGION].topics[f"arn:aws:sns:{REGION}:{ACCOUNT}:verify-alerts"]
    return [n[2] for n in topic.sent_notifications]


def _alarm_reasons() -> list[str]:
    return [h[1] for h in cloudwatch_backends[ACCOUNT][REGION].alarms["verify-errors"].history]


def test_verify_does_not_reach_people_unless_asked(applied: Path) -> None:
    result = cli("verify", "-f", str(applied), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["notified"] is False
    assert not any("test message" in c["check"] for c in document["checks"])
    assert _topic_messages() == []
    assert not any("pacs-reconcile verify" in reason for reason in _alarm_reasons())
    assert "--notify publishes a test message" in cli("verify", "-f", str(applied)).stderr


def test_verify_notify_publishes_and_flips(applied: Path) -> None:
    result = cli("verify", "-f", str(applied), "--notify", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert _topic_messages() == ["[pacs-reconcile verify] test notification"]
    assert "pacs-reconcile verify: testing the ALARM path" in _alarm_reasons()


def test_the_summary_counts_warnings_apart(applied: Path) -> None:
    result = cli("verify", "-f", str(applied))
    document = json.loads(cli("verify", "-f", str(applied), "--format", "json").stdout)
    outcomes = [c["outcome"] for c in document["checks"]]
    assert "warn" in outcomes  # no metric data and no log streams yet: the control for this test
    summary = document["summary"]
    assert summary == {
        "passed": outcomes.count("pass"),
        "warnings": outcomes.count("warn"),
        "failed": outcomes.count("fail"),
    }
    assert f"{summary['passed']} passed, {summary['warnings']} warning" in result.stderr


@pytest.mark.parametrize(
    ("outcomes", "text"),
    [
        ([Outcome.PASS] * 6 + [Outcome.WARN] * 4, "6 passed, 4 warnings"),
        ([Outcome.PASS, Outcome.WARN, Outcome.FAIL], "1 passed, 1 warning, 1 failed"),
        ([Outcome.PASS], "1 passed"),
    ],
)
def test_summary_wording(outcomes: list[Outcome], text: str) -> None:
    assert str(Summary.of([Check(f"c{i}", o, "") for i, o in enumerate(outcomes)])) == text
