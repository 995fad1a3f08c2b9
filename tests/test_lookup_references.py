"""What a stack points at but does not own, found by lookups instead of literal ARNs: a log group
encrypted with a KMS key found by alias, an alarm on an EC2 instance found by its Name tag, an
EventBridge rule on a bus found by name (the bus is part of the rule's key) whose target's
dead-letter queue is found by name, and an SNS subscription whose endpoint
(its identity) is a queue found by name. Plan resolves them, apply converges, and the next plan is
empty (moto in-process)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from pacs_reconcile import api
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.errors import LookupFailed

REGION = "ap-northeast-2"
SPEC = """\
version: 1
stack: lookup-refs
region: ap-northeast-2
lookups:
  logs_key: {kind: kms_key, alias: pacs-logs}
  events_dlq: {kind: sqs_queue, name: pacs-events-dlq}
  bus: {kind: event_bus, name: pacs-events}
  orthanc: {kind: ec2_instance, tags: {Name: pacs-orthanc}}
log_groups:
  app:
    name: /lookup-refs/app
    kms_key_id: ${lookups.logs_key.arn}
sns_topics:
  alerts:
    name: lookup-refs-alerts
    subscriptions:
      audit_queue:
        protocol: sqs
        endpoint: ${lookups.events_dlq.arn}
        raw_message_delivery: true
alarms:
  orthanc_cpu:
    name: lookup-refs-orthanc-cpu
    metric:
      name: CPUUtilization
      namespace: AWS/EC2
      statistic: Average
      period: 300
      dimensions: {InstanceId: "${lookups.orthanc.id}"}
    threshold: 80
    comparison: GreaterThanThreshold
    evaluation_periods: 3
event_rules:
  studies:
    name: lookup-refs-studies
    event_bus: ${lookups.bus.name}
    event_pattern: {source: [pacs.orthanc]}
    targets:
      alerts:
        id: alerts
        arn: ${sns_topics.alerts.arn}
        dead_letter_arn: ${lookups.events_dlq.arn}
"""


@pytest.fixture
def dependencies(aws: AwsContext) -> dict[str, str]:
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="pacs logs")["KeyMetadata"]
    kms.create_alias(AliasName="alias/pacs-logs", TargetKeyId=key["KeyId"])
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="pacs-events-dlq")["QueueUrl"]
    boto3.client("events", region_name=REGION).create_event_bus(Name="pacs-events")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    instance = boto3.client("ec2", region_name=REGION).run_instances(
        ImageId="ami-03cf127a",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "pacs-orthanc"}]}],
    )["Instances"][0]
    return {"key_arn": key["Arn"], "queue_arn": queue_arn, "instance_id": instance["InstanceId"]}


def test_looked_up_dependencies_are_resolved_applied_and_converge(
    aws: AwsContext, dependencies: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    spec = api.load(path)

    first = api.plan(spec, aws=aws)
    assert first.lookups["logs_key"]["arn"] == dependencies["key_arn"]
    assert api.apply(spec, aws=aws).ok
    assert not api.plan(spec, aws=aws).has_changes

    group = aws.client("logs").describe_log_groups(logGroupNamePrefix="/lookup-refs/app")["logGroups"][0]
    assert group["kmsKeyId"] == dependencies["key_arn"]
    alarm = aws.client("cloudwatch").describe_alarms(AlarmNames=["lookup-refs-orthanc-cpu"])["MetricAlarms"][
        0
    ]
    assert alarm["Dimensions"] == [{"Name": "InstanceId", "Value": dependencies["instance_id"]}]
    events = aws.client("events")
    (target,) = events.list_targets_by_rule(Rule="lookup-refs-studies", EventBusName="pacs-events")["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": dependencies["queue_arn"]}
    sns = aws.client("sns")
    (topic,) = sns.list_topics()["Topics"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("sqs", dependencies["queue_arn"])


def test_an_identity_may_name_a_lookup_but_not_a_resource(tmp_path: Path) -> None:
    """A subscription's endpoint is its identity: a lookup's value is known before anything is read,
    a resource's attribute may not be (it could be created by this very apply)."""
    path = tmp_path / "monitoring.yaml"
    path.write_text(
        SPEC.replace("${lookups.events_dlq.arn}\n", "${sns_topics.alerts.arn}\n", 1), encoding="utf-8"
    )
    with pytest.raises(api.SpecError) as refused:
        api.load(path)
    (problem,) = refused.value.diagnostics
    assert problem.field == "sns_topics.alerts.subscriptions.audit_queue.endpoint"
    assert "no resource references (a lookup's attribute is fine)" in problem.message


def test_a_missing_dependency_fails_the_plan_naming_what_was_searched(
    aws: AwsContext, tmp_path: Path
) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    with pytest.raises(LookupFailed) as failed:
        api.plan(api.load(path), aws=aws)
    message = str(failed.value)
    assert "KMS key with alias 'alias/pacs-logs' not found" in message
    assert "SQS queue 'pacs-events-dlq' not found" in message
    assert "EC2 instance with tags Name=pacs-orthanc not found" in message


BUS_ONLY = """\
version: 1
stack: lookup-bus
region: ap-northeast-2
lookups:
  bus: {kind: event_bus, name: pacs-events}
sns_topics:
  alerts:
    name: lookup-bus-alerts
event_rules:
  studies:
    name: lookup-bus-studies
    event_bus: ${lookups.bus.name}
    event_pattern: {source: [pacs.orthanc]}
    targets:
      alerts: {id: alerts, arn: "${sns_topics.alerts.arn}"}
"""


def test_a_rule_on_a_looked_up_bus_converges(aws: AwsContext, tmp_path: Path) -> None:
    """The bus is part of a rule's key, not its identity: a lookup there is resolved first too."""
    boto3.client("events", region_name=REGION).create_event_bus(Name="pacs-events")
    path = tmp_path / "monitoring.yaml"
    path.write_text(BUS_ONLY, encoding="utf-8")
    spec = api.load(path)
    assert api.apply(spec, aws=aws).ok
    assert not api.plan(spec, aws=aws).has_changes
    rules = aws.client("events").list_rules(EventBusName="pacs-events")["Rules"]
    assert [r["Name"] for r in rules] == ["lookup-bus-studies"]
