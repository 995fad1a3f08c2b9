"""The emulator's CloudWatch patch: dashboard tags as real CloudWatch handles them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.server import ThreadedMotoServer

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.emulator import patch_cloudwatch

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
BODY = json.dumps({"widgets": []})


def dashboard_arn(name: str) -> str:
    return f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"


def tags_of(client: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_dashboard_arns_can_be_tagged_listed_and_untagged(aws: AwsContext) -> None:
    client = aws.client("cloudwatch")
    client.put_dashboard(DashboardName="main", DashboardBody=BODY)
    arn = dashboard_arn("main")

    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    assert tags_of(client, arn) == {"a": "1", "b": "2"}
    client.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert tags_of(client, arn) == {"b": "2"}


UNKNOWN_ARNS = [dashboard_arn("nowhere"), f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:nowhere"]
TAG_OPERATIONS: dict[str, dict[str, Any]] = {
    "tag_resource": {"Tags": [{"Key": "a", "Value": "1"}]},
    "untag_resource": {"TagKeys": ["a"]},
    "list_tags_for_resource": {},
}


@pytest.mark.parametrize("arn", UNKNOWN_ARNS, ids=["dashboard", "alarm"])
@pytest.mark.parametrize("operation", list(TAG_OPERATIONS))
def test_unknown_arns_are_not_found(aws: AwsContext, arn: str, operation: str) -> None:
    client = aws.client("cloudwatch")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        getattr(client, operation)(ResourceARN=arn, **TAG_OPERATIONS[operation])


def test_put_dashboard_tags_count_on_create_only(aws: AwsContext) -> None:
    client = aws.client("cloudwatch")
    client.put_dashboard(DashboardName="main", DashboardBody=BODY, Tags=[{"Key": "a", "Value": "1"}])
    client.put_dashboard(DashboardName="main", DashboardBody=BODY, Tags=[{"Key": "a", "Value": "changed"}])
    assert tags_of(client, dashboard_arn("main")) == {"a": "1"}


def test_deleting_drops_tags(aws: AwsContext) -> None:
    client = aws.client("cloudwatch")
    client.put_dashboard(DashboardName="main", DashboardBody=BODY, Tags=[{"Key": "a", "Value": "1"}])
    client.put_metric_alarm(
        AlarmName="cpu", MetricName="CPUUtilization", Namespace="AWS/RDS", Statistic="Average", Period=300,
        EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "a", "Value": "1"}],
    )  # fmt: skip
    client.delete_dashboards(DashboardNames=["main"])
    client.delete_alarms(AlarmNames=["cpu"])

    client.put_dashboard(DashboardName="main", DashboardBody=BODY)
    client.put_metric_alarm(
        AlarmName="cpu", MetricName="CPUUtilization", Namespace="AWS/RDS", Statistic="Average", Period=300,
        EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    assert tags_of(client, dashboard_arn("main")) == {}
    assert tags_of(client, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cpu") == {}


def test_failed_delete_keeps_tags(aws: AwsContext) -> None:
    client = aws.client("cloudwatch")
    client.put_dashboard(DashboardName="main", DashboardBody=BODY, Tags=[{"Key": "a", "Value": "1"}])
    with pytest.raises(client.exceptions.ClientError):
        client.delete_dashboards(DashboardNames=["main", "missing"])  # all or nothing
    assert tags_of(client, dashboard_arn("main")) == {"a": "1"}


def test_install_is_idempotent() -> None:
    methods = (CloudWatchBackend.delete_dashboards, CloudWatchResponse.put_dashboard)
    patch_cloudwatch.install()
    patch_cloudwatch.install()
    assert (CloudWatchBackend.delete_dashboards, CloudWatchResponse.put_dashboard) == methods
    assert CloudWatchBackend.tag_resource is patch_cloudwatch._tag_resource


@pytest.fixture
def server() -> Iterator[str]:
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        moto_server.stop()


def test_server_mode_tags_dashboards(server: str) -> None:
    client = boto3.client(
        "cloudwatch", region_name=REGION, endpoint_url=server, aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # fmt: skip
    name = "server-mode-dashboard"
    client.put_dashboard(DashboardName=name, DashboardBody=BODY, Tags=[{"Key": "a", "Value": "1"}])
    arn = client.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"][0]["DashboardArn"]
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert tags_of(client, arn) == {"a": "1", "b": "2"}
    client.delete_dashboards(DashboardNames=[name])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(ResourceARN=arn)


# Extended statistics beyond percentiles -------------------------------------------------------------

AWS_EXTENDED_STATISTICS = [
    "p99",
    "p99.9",
    "tm90",
    "TM(2%:98%)",
    "IQM",
    "wm98",
    "PR(:300)",
    "tc90",
    "TS(80%:)",
]
"""Each spelled as CloudWatch's statistics definitions spell them (Statistics-definitions.html)."""


def _put_alarm(client: Any, statistic: str) -> None:
    client.put_metric_alarm(
        AlarmName="latency",
        MetricName="Latency",
        Namespace="PACS/Application",
        ExtendedStatistic=statistic,
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )


@pytest.mark.parametrize("statistic", AWS_EXTENDED_STATISTICS)
def test_every_extended_statistic_aws_accepts_is_accepted_and_returned(
    aws: AwsContext, statistic: str
) -> None:
    client = aws.client("cloudwatch")
    _put_alarm(client, statistic)
    alarm = client.describe_alarms(AlarmNames=["latency"])["MetricAlarms"][0]
    assert alarm["ExtendedStatistic"] == statistic


@pytest.mark.parametrize("statistic", ["q99", "TM(2%:)x", "p101", "IQR"])
def test_a_statistic_aws_does_not_define_is_still_refused(aws: AwsContext, statistic: str) -> None:
    client = aws.client("cloudwatch")
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        _put_alarm(client, statistic)


@pytest.mark.parametrize("statistic", ["tm90", "TS(80%:)"])
def test_an_alarm_on_a_trimmed_statistic_converges(aws: AwsContext, statistic: str) -> None:
    from pacs_reconcile import OWNER_TAG
    from pacs_reconcile.diff import diff_states
    from pacs_reconcile.resources.base import Desired, ReadScope
    from pacs_reconcile.resources.cloudwatch import AlarmSpec
    from pacs_reconcile.resources.registry import KINDS

    alarms = KINDS["alarms"]
    config = {
        "name": "pacs-latency-trimmed",
        "metric": {
            "name": "Latency",
            "namespace": "PACS/Application",
            "extended_statistic": statistic,
            "period": 60,
        },
        "threshold": 2,
        "comparison": "GreaterThanThreshold",
        "evaluation_periods": 1,
    }
    state = alarms.canonical(AlarmSpec.model_validate(config).model_dump(mode="json"))
    alarms.create(aws, Desired("alarms.latency", config["name"], state, {OWNER_TAG: aws.stack}))
    live = alarms.read(aws, [config["name"]], ReadScope(aws.stack))[config["name"]]
    assert diff_states(state, alarms.canonical(dict(live.state))).paths() == []
