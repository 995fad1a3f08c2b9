"""Every kind: a change made by hand with boto3 is shown by plan at its exact path, and apply restores it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Cli, Server

BACKEND = "/aws/ecs/pacs-backend"


def _group_arn(server: Server, name: str) -> str:
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return str(next(g["logGroupArn"] for g in groups if g["logGroupName"] == name))


def _topic_arn(server: Server) -> str:
    return f"arn:aws:sns:ap-northeast-2:123456789012:pacs-alerts"


def _alarm_with(server: Server, name: str, **changes: Any) -> None:
    cloudwatch = server.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    keep = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
            "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
            "EvaluationPeriods", "ComparisonOperator", "TreatMissingData", "Threshold")
    cloudwatch.put_metric_alarm(**{**{k: alarm[k] for k in keep if k in alarm}, **changes})


def _query_id(server: Server, name: str) -> str:
    found = server.client("logs").describe_query_definitions(queryDefinitionNamePrefix=name)["queryDefinitions"]
    return str(found[0]["queryDefinitionId"])


Mutation = Callable[[Server], None]

CASES: dict[str, tuple[Mutation, str, str]] = {
    # name: (mutation, address, expected difference path — or "" for a create/delete of the whole resource)
    "log group retention": (
        lambda s: s.client("logs").put_retention_policy(logGroupName=BACKEND, retentionInDays=7),
        "log_groups.pacs_backend", "retention_days"),
    "log group tag removed": (
        lambda s: s.client("logs").untag_resource(resourceArn=_group_arn(s, BACKEND), tagKeys=["Name"]),
        "log_groups.pacs_backend", "tags.Name"),
    "log group tag added": (
        lambda s: s.client("logs").tag_resource(resourceArn=_group_arn(s, BACKEND), tags={"Owner": "bob"}),
        "log_groups.pacs_backend", "tags.Owner"),
    "log group deleted": (
        lambda s: s.client("logs").delete_log_group(logGroupName="/aws/vpc/flowlogs"),
        "log_groups.vpc_flow", ""),
    "metric filter pattern": (
        lambda s: s.client("logs").put_metric_filter(
            logGroupName=BACKEND, filterName="pacs-backend-errors", filterPattern="ERROR",
            metricTransformations=[{"metricName": "PACSBackendErrors", "metricNamespace": "PACS/Application",
                                    "metricValue": "1"}]),
        "log_groups.pacs_backend.metric_filters.errors", "pattern"),
    "extra metric filter": (
        lambda s: s.client("logs").put_metric_filter(
            logGroupName=BACKEND, filterName="hand-made", filterPattern="WARN",
            metricTransformations=[{"metricName": "Warn", "metricNamespace": "Hand", "metricValue": "1"}]),
        'log_groups.pacs_backend.metric_filters["hand-made"]', ""),
    "query definition text": (
        lambda s: s.client("logs").put_query_definition(
            queryDefinitionId=_query_id(s, "PACS Error Analysis"), name="PACS Error Analysis",
            queryString="fields @message | limit 5", logGroupNames=[BACKEND]),
        "log_groups.pacs_backend.query_definitions.error_analysis", "query"),
    "alarm threshold": (
        lambda s: _alarm_with(s, "rds-connections", Threshold=500.0),
        "alarms.rds_connections", "threshold"),
    "alarm action removed": (
        lambda s: _alarm_with(s, "rds-connections", OKActions=[]),
        "alarms.rds_connections", "ok_actions"),
    "alarm deleted": (
        lambda s: s.client("cloudwatch").delete_alarms(AlarmNames=["s3-bucket-size"]),
        "alarms.s3_bucket_size", ""),
    "dashboard widget": (
        lambda s: s.client("cloudwatch").put_dashboard(
            DashboardName="PACS-Infrastructure-Dashboard",
            DashboardBody=json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                                   "properties": {"markdown": "hand edit"}}]})),
        "dashboards.pacs_infrastructure", "body.widgets"),
    "topic display name": (
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=_topic_arn(s), AttributeName="DisplayName", AttributeValue="hand edit"),
        "sns_topics.alerts", "display_name"),
    "extra subscription": (
        lambda s: s.client("sns").subscribe(TopicArn=_topic_arn(s), Protocol="email", Endpoint="intruder@example.com"),
        "sns_topics.alerts.subscriptions", ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_out_of_band_change_is_planned_at_its_path_and_repaired(cli: Cli, server: Server, case: str) -> None:
    mutate, address, path = CASES[case]
    assert cli("apply", "--auto-approve").exit_code == 0
    mutate(server)

    drifted = cli("plan", "--detailed-exitcode", "--format", "json")
    assert drifted.exit_code == 2, drifted.stderr
    changes = [c for c in json.loads(drifted.stdout)["changes"] if c["action"] != "no-op"]
    assert len(changes) == 1, changes
    change = changes[0]
    assert change["address"].startswith(address)
    if path:
        assert change["action"] == "update"
        assert [d["path"] for d in change["differences"]] == [path] or all(
            d["path"].startswith(path) for d in change["differences"])
    else:
        assert change["action"] in ("create", "delete")

    repaired = cli("apply", "--auto-approve")
    assert repaired.exit_code == 0, repaired.stdout + repaired.stderr
    assert cli("plan", "--detailed-exitcode").exit_code == 0
