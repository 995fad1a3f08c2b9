"""SNS topic attributes beyond the basics, on the emulator: FIFO deduplication, throughput scope and
archive policy; signature version; tracing; delivery-status logging per protocol. Each converges,
shows a change at its path, is seen when changed by hand, and round-trips through export."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.sns import TopicSpec

from .exported import exported_state

TOPICS = KINDS["sns_topics"]
ROLE = "arn:aws:iam::123456789012:role/pacs-sns-feedback"

STANDARD: dict[str, Any] = {
    "name": "pacs-alerts",
    "signature_version": 2,
    "tracing_config": "Active",
    "delivery_status_logging": {
        "sqs": {"success_role_arn": ROLE, "failure_role_arn": ROLE, "success_sample_rate": 50},
        "lambda": {"failure_role_arn": ROLE},
    },
}
FIFO: dict[str, Any] = {
    "name": "pacs-audit.fifo",
    "fifo": True,
    "content_based_deduplication": True,
    "fifo_throughput_scope": "MessageGroup",
    "archive_policy": {"MessageRetentionPeriod": "30"},
}


def desired(aws: AwsContext, spec: dict[str, Any]) -> Desired:
    state = TOPICS.canonical(TopicSpec.model_validate(spec).model_dump(mode="json"))
    return Desired(f"sns_topics.{spec['name']}", spec["name"], state, {OWNER_TAG: aws.stack})


def read(aws: AwsContext, name: str) -> Live:
    return TOPICS.read(aws, [name], ReadScope(aws.stack))[name]


def paths(want: Desired, live: Live) -> list[str]:
    return diff_states(want.state, TOPICS.canonical(dict(live.state))).paths()


@pytest.mark.parametrize("spec", [STANDARD, FIFO], ids=["standard", "fifo"])
def test_topic_attributes_converge(aws: AwsContext, spec: dict[str, Any]) -> None:
    want = desired(aws, spec)
    TOPICS.create(aws, want)
    assert paths(want, read(aws, spec["name"])) == []
    assert aws.stats.mutating() == {"sns.CreateTopic": 1}


EDITS: list[tuple[dict[str, Any], str, Any]] = [
    (STANDARD, "signature_version", "1"),
    (STANDARD, "tracing_config", "PassThrough"),
    (STANDARD, "delivery_status_logging.sqs.success_sample_rate", 100),
    (STANDARD, "delivery_status_logging.lambda", {"failure_role_arn": ""}),
    (FIFO, "content_based_deduplication", False),
    (FIFO, "fifo_throughput_scope", "Topic"),
    (FIFO, "archive_policy.MessageRetentionPeriod", "60"),
]


@pytest.mark.parametrize(("spec", "path", "value"), EDITS, ids=[e[1] for e in EDITS])
def test_a_change_shows_at_its_path_and_converges(
    aws: AwsContext, spec: dict[str, Any], path: str, value: Any
) -> None:
    TOPICS.create(aws, desired(aws, spec))
    edited = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = edited
    for part in parents:
        node = node[part]
    node[last] = value
    want = desired(aws, edited)
    live = read(aws, spec["name"])
    delta = diff_states(want.state, TOPICS.canonical(dict(live.state)))
    assert delta.paths() == [path]
    TOPICS.update(aws, want, live, delta)
    assert paths(want, read(aws, spec["name"])) == []


def test_logging_turned_on_by_hand_for_another_protocol_is_seen_and_turned_off(aws: AwsContext) -> None:
    want = desired(aws, STANDARD)
    live = TOPICS.create(aws, want)
    aws.client("sns").set_topic_attributes(
        TopicArn=live.handle, AttributeName="HTTPSuccessFeedbackRoleArn", AttributeValue=ROLE
    )
    drifted = read(aws, STANDARD["name"])
    delta = diff_states(want.state, TOPICS.canonical(dict(drifted.state)))
    assert delta.paths() == ["delivery_status_logging.http"]
    TOPICS.update(aws, want, drifted, delta)
    assert paths(want, read(aws, STANDARD["name"])) == []


def test_defaults_aws_leaves_out_read_as_the_defaults(aws: AwsContext) -> None:
    aws.client("sns").create_topic(Name="plain")
    live = read(aws, "plain")
    assert (live.state["signature_version"], live.state["tracing_config"]) == ("1", "PassThrough")
    assert live.state["delivery_status_logging"] == {}
    spelled_out = desired(aws, {"name": "plain", "signature_version": "1", "tracing_config": "PassThrough"})
    assert paths(spelled_out, live) == []


@pytest.mark.parametrize("spec", [STANDARD, FIFO], ids=["standard", "fifo"])
def test_export_round_trips(aws: AwsContext, spec: dict[str, Any]) -> None:
    want = desired(aws, spec)
    TOPICS.create(aws, want)
    exported, result = exported_state(aws, "sns_topics", spec["name"])
    assert diff_states(want.state, exported).paths() == []
    assert not [n for n in result.notes if "not written" in n], "nothing left unmanaged to stay valid"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"name": "t", "content_based_deduplication": True}, "only for a FIFO topic"),
        ({"name": "t", "archive_policy": {"MessageRetentionPeriod": "30"}}, "only for a FIFO topic"),
        ({**FIFO, "tracing_config": "Active"}, "only for a standard topic"),
        # "You can set a retention period from 1 to 365 days" (AWS::SNS::Topic ArchivePolicy).
        ({**FIFO, "archive_policy": {"MessageRetentionPeriod": "366"}}, "1 to 365 days"),
        ({**FIFO, "archive_policy": {"MessageRetentionPeriod": 0}}, "1 to 365 days"),
        ({**FIFO, "archive_policy": {"MessageRetentionPeriod": "a month"}}, "1 to 365 days"),
        ({**FIFO, "archive_policy": {"RetentionDays": "30"}}, "MessageRetentionPeriod"),
        ({"name": "t", "signature_version": 3}, "'1' or '2'"),
        ({"name": "t", "delivery_status_logging": {"smtp": {}}}, "http"),
        (
            {"name": "t", "delivery_status_logging": {"sqs": {"success_sample_rate": 101}}},
            "less than or equal to 100",
        ),
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        TopicSpec.model_validate(spec)


# A subscription's own delivery policy ------------------------------------------------------------


def test_an_https_subscription_delivery_policy_converges_and_shows_a_change(aws: AwsContext) -> None:
    from .test_sns import (
        SUBSCRIPTIONS,
        WEBHOOK,
        delta_of,
        desired_of,
        make_topic,
        read_subscriptions,
        subscribe,
    )

    _, topic = make_topic(aws)
    spec = {
        "protocol": "https",
        "endpoint": WEBHOOK,
        "delivery_policy": {"healthyRetryPolicy": {"numRetries": 5}},
    }
    want, _ = subscribe(aws, topic, spec)
    (live,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, want, live).paths() == []
    more = desired_of(
        SUBSCRIPTIONS, {**spec, "delivery_policy": {"healthyRetryPolicy": {"numRetries": 8}}}, parent=topic
    )
    delta = delta_of(SUBSCRIPTIONS, more, live)
    assert delta.paths() == ["delivery_policy"]
    SUBSCRIPTIONS.update(aws, more, live, delta)
    (again,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, more, again).paths() == []


def test_a_subscription_delivery_policy_is_for_http_and_https_only() -> None:
    from pacs_reconcile.resources.sns import SubscriptionSpec

    with pytest.raises(ValidationError, match="applies to http and https"):
        SubscriptionSpec.model_validate(
            {
                "protocol": "sqs",
                "endpoint": "arn:aws:sqs:ap-northeast-2:123456789012:q",
                "delivery_policy": {"healthyRetryPolicy": {"numRetries": 5}},
            }
        )


def test_the_emulator_refuses_a_namesake_topic_with_other_tags_as_sns_does(aws: AwsContext) -> None:
    """SNS answers CreateTopic of an existing name with its ARN (idempotent), but "Invalid
    parameter: Tags Reason: Topic already exists with different tags" when the tags differ
    (localstack/localstack#2405, #3928 report the real service's answer)."""
    sns = aws.client("sns")
    tags = [{"Key": OWNER_TAG, "Value": "someone"}]
    arn = sns.create_topic(Name="pacs-namesake", Tags=tags)["TopicArn"]
    assert sns.create_topic(Name="pacs-namesake", Tags=tags)["TopicArn"] == arn
    with pytest.raises(sns.exceptions.InvalidParameterException, match="already exists with different tags"):
        sns.create_topic(Name="pacs-namesake", Tags=[{"Key": OWNER_TAG, "Value": "pacs"}])
