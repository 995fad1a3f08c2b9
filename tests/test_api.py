"""pacs_reconcile.api: the reconcile loop from Python, typed results, nothing printed (moto in-process)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from pacs_reconcile import api
from pacs_reconcile.aws import AwsContext

SPEC = """\
version: 1
stack: api-test
region: ap-northeast-2
variables:
  retention: {type: int, default: 30}
log_groups:
  app:
    name: /api-test/app
    retention_days: ${var.retention}
    tags: {Team: imaging}
sns_topics:
  alerts:
    name: api-test-alerts
alarms:
  errors:
    name: api-test-errors
    metric: {name: Errors, namespace: ApiTest, statistic: Sum, period: 300}
    threshold: 5
    comparison: GreaterThanThreshold
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_everything_exported_exists() -> None:
    assert sorted(api.__all__) == api.__all__
    for name in api.__all__:
        assert hasattr(api, name), name


def test_load_plan_apply_drift(aws: AwsContext, spec_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = api.load(spec_file)
    assert isinstance(spec, api.Spec) and spec.stack == "api-test"

    first = api.plan(spec)
    assert isinstance(first, api.Plan)
    assert {c.address: c.action for c in first.changes} == {
        "log_groups.app": api.Action.CREATE,
        "sns_topics.alerts": api.Action.CREATE,
        "alarms.errors": api.Action.CREATE,
    }

    applied = api.apply(spec)
    assert isinstance(applied, api.Applied) and applied.ok
    assert {o.address for o in applied.result.outcomes} == {c.address for c in first.changes}
    assert not api.plan(spec).has_changes
    assert api.drift(spec).findings == []

    logs = boto3.client("logs", region_name="ap-northeast-2")
    logs.put_retention_policy(logGroupName="/api-test/app", retentionInDays=1)  # by hand
    report = api.drift(spec)
    assert isinstance(report, api.DriftReport)
    (item,) = report.findings
    assert (item.address, item.finding, item.paths) == (
        "log_groups.app",
        api.Finding.DRIFTED,
        ["retention_days"],
    )

    edited = api.load(spec_file, variables={"retention": "90"})  # the spec moves too: pending wins
    (item,) = api.drift(edited).findings
    assert item.finding is api.Finding.PENDING
    assert api.apply(edited).ok
    assert (
        logs.describe_log_groups(logGroupNamePrefix="/api-test/app")["logGroups"][0]["retentionInDays"] == 90
    )

    assert capsys.readouterr() == ("", "")  # the API prints nothing


def test_an_invalid_spec_raises_with_every_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(
        SPEC.replace("retention_days: ${var.retention}", "retention_days: 45").replace(
            "evaluation_periods: 1", "evaluation_periods: 0"
        ),
        encoding="utf-8",
    )
    with pytest.raises(api.SpecError) as raised:
        api.load(path)
    fields = [d.field for d in raised.value.diagnostics]
    assert fields == ["log_groups.app.retention_days", "alarms.errors.evaluation_periods"] or sorted(
        fields
    ) == sorted(["log_groups.app.retention_days", "alarms.errors.evaluation_periods"])
    assert all(isinstance(d, api.Diagnostic) and d.line > 0 for d in raised.value.diagnostics)


def test_a_refused_plan_applies_nothing(aws: AwsContext, spec_file: Path) -> None:
    boto3.client("logs", region_name="ap-northeast-2").create_log_group(
        logGroupName="/api-test/app"
    )  # not ours
    spec = api.load(spec_file)
    plan = api.plan(spec)
    assert [c.address for c in plan.refused] == ["log_groups.app"]
    with pytest.raises(api.PlanRefused):
        api.apply(spec)
    assert boto3.client("sns", region_name="ap-northeast-2").list_topics()["Topics"] == []
