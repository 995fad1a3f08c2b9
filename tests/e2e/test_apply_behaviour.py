"""Apply's contract: ownership, pruning, stateful retention, saved plans, partial failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile import aws as aws_module

from .conftest import Cli, Server


def _fail_operation(
    monkeypatch: pytest.MonkeyPatch, event: str, code: str = "AccessDenied", name: str | None = None
) -> None:
    """Every AwsContext made from now on fails `event` (e.g. 'before-call.sns.CreateTopic'), or with
    `name` only the calls whose request has that Name (a 'before-parameter-build' event)."""
    original = aws_module.AwsContext.__init__

    def init(ctx: aws_module.AwsContext, *args: Any, **kwargs: Any) -> None:
        original(ctx, *args, **kwargs)

        def fail(params: dict[str, Any] | None = None, **_: Any) -> None:
            if name is not None and (params or {}).get("Name") != name:
                return
            raise ClientError(
                {"Error": {"Code": code, "Message": "injected by the test"}}, event.rsplit(".", 1)[1]
            )

        ctx.events.register(event, fail)

    monkeypatch.setattr(aws_module.AwsContext, "__init__", init)


def test_unowned_same_name_resource_is_refused_and_nothing_is_applied(cli: Cli, server: Server) -> None:
    server.client("logs").create_log_group(logGroupName="/aws/ecs/keycloak", tags={"Team": "identity"})
    planned = cli("plan")
    assert planned.exit_code == 1
    assert "log_groups.keycloak" in planned.stderr
    assert "exists but is not owned by this stack" in planned.stderr
    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 1
    assert applied.mutating_calls == {}
    tags = server.client("logs").list_tags_log_group(logGroupName="/aws/ecs/keycloak")["tags"]
    assert tags == {"Team": "identity"}


def test_adopt_takes_over_and_tags_an_unowned_resource(cli: Cli, server: Server, stack_dir: Path) -> None:
    server.client("logs").create_log_group(logGroupName="/aws/ecs/keycloak", tags={"Team": "identity"})
    logs_spec = stack_dir / "specs" / "logs.yaml"
    text = logs_spec.read_text()
    marker = "    name: /aws/ecs/keycloak${var.name_suffix}\n"
    assert marker in text
    logs_spec.write_text(text.replace(marker, marker + "    lifecycle: {adopt: true}\n"))
    planned = cli("plan", "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    change = next(c for c in json.loads(planned.stdout)["changes"] if c["address"] == "log_groups.keycloak")
    assert change["action"] == "update"
    assert "adopted: will be tagged as owned by this stack" in change["notes"]
    paths = {d["path"] for d in change["differences"]}
    assert {"tags.pacs-reconcile:stack", "tags.Team", "retention_days"} <= paths
    assert cli("apply", "--auto-approve").exit_code == 0
    tags = server.client("logs").list_tags_log_group(logGroupName="/aws/ecs/keycloak")["tags"]
    assert tags["pacs-reconcile:stack"] == "pacs-monitoring"
    assert "Team" not in tags
    assert cli("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.usefixtures("converged")
def test_undeclared_owned_resources_are_deleted_but_log_groups_only_when_named(
    cli: Cli, server: Server, stack_dir: Path
) -> None:
    alarms = stack_dir / "specs" / "alarms.yaml"
    text = alarms.read_text()
    alarms.write_text(text[: text.index("  s3_bucket_size:")] + text[text.index("  auto_scaling_cpu:") :])
    logs = stack_dir / "specs" / "logs.yaml"
    text = logs.read_text()
    # keycloak's group: nothing else in the spec refers to it (vpc_flow's feeds the VPC flow log).
    logs.write_text(text[: text.index("  keycloak:")] + text[text.index("  vpc_flow:") :])

    planned = cli("plan", "--format", "json")
    changes = {c["address"]: c for c in json.loads(planned.stdout)["changes"] if c["action"] != "no-op"}
    assert changes['alarms["s3-bucket-size"]']["action"] == "delete"
    assert changes['log_groups["/aws/ecs/keycloak"]']["action"] == "retained"
    assert "--allow-destroy" in changes['log_groups["/aws/ecs/keycloak"]']["reason"]

    assert cli("apply", "--auto-approve").exit_code == 0
    assert server.client("cloudwatch").describe_alarms(AlarmNames=["s3-bucket-size"])["MetricAlarms"] == []
    assert server.client("logs").describe_log_groups(logGroupNamePrefix="/aws/ecs/keycloak")["logGroups"]

    named = cli("apply", "--auto-approve", "--allow-destroy", 'log_groups["/aws/ecs/keycloak"]')
    assert named.exit_code == 0, named.stdout + named.stderr
    assert (
        server.client("logs").describe_log_groups(logGroupNamePrefix="/aws/ecs/keycloak")["logGroups"] == []
    )
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_resources_owned_by_nobody_or_another_stack_are_never_deleted(cli: Cli, server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    common = dict(
        MetricName="m",
        Namespace="n",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.put_metric_alarm(AlarmName="someone-elses", **common)
    cloudwatch.put_metric_alarm(
        AlarmName="other-stack", Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}], **common
    )
    assert cli("apply", "--auto-approve").exit_code == 0
    names = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert {"someone-elses", "other-stack"} <= names


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file)).exit_code == 0
    applied = cli("apply", str(plan_file))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert cli("plan", "--detailed-exitcode").exit_code == 0

    stale = tmp_path / "stale.json"
    server.client("logs").put_retention_policy(logGroupName="/aws/ecs/grafana", retentionInDays=1)
    assert cli("plan", "--out", str(stale)).exit_code == 0
    server.client("logs").put_retention_policy(logGroupName="/aws/ecs/grafana", retentionInDays=30)
    refused = cli("apply", str(stale))
    assert refused.exit_code == 1
    assert "the saved plan is stale" in refused.stderr
    assert "log_groups.grafana" in refused.stderr
    assert refused.mutating_calls == {}


def test_a_failure_skips_only_its_dependents_and_the_next_apply_converges(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = json.loads(cli("plan", "--format", "json").stdout)["changes"]
    dependents = _dependents(planned, "sns_topics.alerts")
    assert "alarms.rds_connections" in dependents and "sns_topics.alerts.subscriptions.email" in dependents
    independent = len(planned) - 1 - len(dependents)
    with monkeypatch.context() as patch:
        # the alert topic only (the stack has another topic, for undelivered alerts)
        _fail_operation(patch, "before-parameter-build.sns.CreateTopic", name="pacs-alerts")
        failed = cli("apply", "--auto-approve")
    assert failed.exit_code == 1
    assert "failed: sns_topics.alerts: CreateTopic: AccessDenied: injected by the test" in failed.stdout
    assert "skipped: alarms.pacs_backend_error_rate: skipped: depends on sns_topics.alerts" in failed.stdout
    assert (
        f"Resources: {independent} added, 0 changed, 0 replaced, 0 destroyed; "
        f"1 failed, {len(dependents)} not done."
    ) in failed.stdout
    # independent work finished (log groups, dashboards, the scaling alarms...); the topic failed, so
    # its subscription and the alarms that notify it were not attempted
    assert server.client("cloudwatch").describe_alarms(AlarmNames=["pacs-auto-scaling-cpu"])["MetricAlarms"]
    assert not server.client("cloudwatch").describe_alarms(AlarmNames=["rds-connections"])["MetricAlarms"]

    healed = cli("apply", "--auto-approve")
    assert healed.exit_code == 0, healed.stdout
    assert f"Resources: {len(dependents) + 1} added" in healed.stdout
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def _dependents(changes: list[dict[str, Any]], address: str) -> set[str]:
    """Addresses that depend on `address`, directly or through others (from plan JSON)."""
    found: set[str] = set()
    frontier = {address}
    while frontier:
        frontier = {c["address"] for c in changes if set(c["depends_on"]) & frontier} - found
        found |= frontier
    return found


def test_references_to_resources_not_yet_created_are_known_after_apply(cli: Cli, server: Server) -> None:
    planned = cli("plan", "--format", "json")
    alarm = next(c for c in json.loads(planned.stdout)["changes"] if c["address"] == "alarms.rds_connections")
    actions = next(d for d in alarm["differences"] if d["path"] == "alarm_actions")
    assert actions["new_unknown"] == [True]  # the topic's ARN, the list's one item, is known after apply
    assert actions["new"] == [None]
    text = cli("plan")
    assert "alarm_actions" in text.stdout and "(known after apply)" in text.stdout


def test_destroy_removes_what_the_stack_owns_but_keeps_log_groups(cli: Cli, server: Server) -> None:
    planned = json.loads(cli("plan", "--format", "json").stdout)["changes"]
    log_groups = [c for c in planned if c["kind"] == "log_groups"]
    assert cli("apply", "--auto-approve").exit_code == 0
    destroyed = cli("destroy", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.stdout + destroyed.stderr
    assert server.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert server.client("sns").list_topics()["Topics"] == []
    assert len(server.client("logs").describe_log_groups()["logGroups"]) == len(log_groups)
