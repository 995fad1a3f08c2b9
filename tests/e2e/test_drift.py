"""`drift`: every out-of-band change classified correctly, pending spec edits told apart, no false
alarms over repeated runs, the metric and the notification verified in moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto.sns.models import sns_backends

from .conftest import REGION, Cli, Server
from .test_out_of_band import CASES, FOLLOWERS

ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:pacs-alerts"

# Every other case changes an attribute or a tag of a declared resource: "drifted".
EXPECTED_CLASS = {
    "log group deleted": "missing",
    "flow log deleted": "missing",
    "alarm deleted": "missing",
    "lambda permission removed": "missing",
    "role policy detached": "missing",
    "rule target removed": "missing",
    "task definition deregistered": "missing",
    "mount target deleted": "missing",
    "cloud map service deleted": "missing",
    "extra metric filter": "unmanaged",
    "extra subscription": "unmanaged",
    "extra lambda permission": "unmanaged",
    "extra inline role policy": "unmanaged",
    "extra rule target": "unmanaged",
}


def _findings(result_stdout: str) -> list[dict[str, object]]:
    return [f for f in json.loads(result_stdout)["findings"] if f["class"] != "info"]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.usefixtures("converged")
def test_out_of_band_changes_are_classified(cli: Cli, server: Server, case: str) -> None:
    mutate, address, path = CASES[case]
    assert cli("drift").exit_code == 0
    mutate(server)
    result = cli("drift", "--format", "json")
    assert result.exit_code == 2, result.stderr
    findings = _findings(result.stdout)
    # the resources that follow the changed one (an ECS service onto a repaired task definition)
    followers = {str(f["address"]): f for f in findings if f["address"] in FOLLOWERS.get(case, {})}
    assert {a: [d["path"] for d in f["differences"]] for a, f in followers.items()} == {  # type: ignore[attr-defined]
        a: [p] for a, p in FOLLOWERS.get(case, {}).items()
    }
    findings = [f for f in findings if f["address"] not in followers]
    assert len(findings) == 1, findings
    finding = findings[0]
    assert str(finding["address"]).startswith(address)
    assert finding["class"] == EXPECTED_CLASS.get(case, "drifted")
    if path:
        paths = [d["path"] for d in finding["differences"]]  # type: ignore[attr-defined]
        assert paths and all(p.startswith(path) for p in paths)
    assert result.mutating_calls == {}, "drift must only read"


@pytest.mark.usefixtures("converged")
def test_spec_edit_not_applied_is_pending_then_clean_after_apply(cli: Cli, stack_dir: Path) -> None:
    logs = stack_dir / "specs" / "logs.yaml"
    logs.write_text(
        logs.read_text().replace('pattern: \'[timestamp, level="WARN"', 'pattern: \'[ts, level="WARN"')
    )
    alarms = stack_dir / "specs" / "alarms.yaml"
    alarms.write_text(alarms.read_text().replace("threshold: 5000", "threshold: 4000"))
    result = cli("drift", "--format", "json")
    assert result.exit_code == 2
    classes = {f["address"]: f["class"] for f in _findings(result.stdout)}
    assert classes == {
        "alarms.pacs_backend_response_time": "pending",
        "log_groups.keycloak": "pending",  # its fingerprint covers its children
        "log_groups.keycloak.metric_filters.auth_failures": "pending",
    }
    assert cli("apply", "--auto-approve").exit_code == 0
    assert cli("drift").exit_code == 0


@pytest.mark.usefixtures("converged")
def test_converged_stack_reports_clean_twenty_times_with_a_pending_email_subscription(cli: Cli) -> None:
    topic = sns_backends[ACCOUNT][REGION].topics[TOPIC_ARN]
    subscriptions = [s for s in sns_backends[ACCOUNT][REGION].subscriptions.values() if s.topic is topic]
    # The alert topic e-mails the on-call and invokes the alert notifier (a lambda subscription,
    # confirmed at once): only the e-mail subscription waits for its confirmation.
    assert sorted(s.protocol for s in subscriptions) == ["email", "lambda"]
    email = next(s for s in subscriptions if s.protocol == "email")
    email.attributes["PendingConfirmation"] = "true"
    for _ in range(20):
        result = cli("drift", "--format", "json")
        assert result.exit_code == 0, result.stdout
        document = json.loads(result.stdout)
        assert document["drift_detected"] is False
        info = [f for f in document["findings"] if f["class"] == "info"]
        assert [f["address"] for f in info] == ["sns_topics.alerts.subscriptions.email"]


@pytest.mark.usefixtures("converged")
def test_metric_and_notification_only_when_findings_change(cli: Cli, server: Server, tmp_path: Path) -> None:
    notify = ("drift", "--publish-metric", "--notify-topic", "sns_topics.alerts", "--format", "json")
    clean = cli(*notify)
    assert clean.exit_code == 0
    assert json.loads(clean.stdout)["notification"]["sent"] is False
    sent = sns_backends[ACCOUNT][REGION].topics[TOPIC_ARN].sent_notifications
    assert sent == []

    server.client("logs").put_retention_policy(logGroupName="/aws/ecs/keycloak", retentionInDays=1)
    report = tmp_path / "drift.json"
    first = cli(*notify, "--report", str(report))
    assert first.exit_code == 2
    assert json.loads(first.stdout)["notification"]["sent"] is True
    assert len(sent) == 1
    _, body, subject, _, _ = sent[0]
    assert subject == "[pacs-reconcile] pacs-monitoring: 1 drifted, 0 pending"
    assert "- drifted: log_groups.keycloak (retention_days)" in body
    assert json.loads(report.read_text())["drifted_resources"] == 1

    second = cli(*notify)
    assert second.exit_code == 2
    assert json.loads(second.stdout)["notification"]["sent"] is False
    assert len(sent) == 1, "the same findings must not be announced twice"

    assert cli("apply", "--auto-approve").exit_code == 0
    cleared = cli(*notify)
    assert cleared.exit_code == 0
    assert len(sent) == 2 and "drift cleared" in str(sent[1][2])
    assert cli("plan", "--detailed-exitcode").exit_code == 0, "the digest tag on the topic is not drift"

    cloudwatch = server.client("cloudwatch")
    now = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace="PACS/Reconcile",
        MetricName="DriftedResources",
        Dimensions=[{"Name": "Stack", "Value": "pacs-monitoring"}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert max(p["Maximum"] for p in stats) == 1.0
    per_kind = cloudwatch.list_metrics(Namespace="PACS/Reconcile", MetricName="DriftedResources")["Metrics"]
    assert {"Name": "Kind", "Value": "log_groups"} in [d for m in per_kind for d in m["Dimensions"]]


def test_drift_exit_codes_for_errors_and_invalid_specs(cli: Cli, stack_dir: Path) -> None:
    (stack_dir / "specs" / "broken.yaml").write_text("alarms:\n  x: {name: 5\n")
    assert cli("drift").exit_code == 3
