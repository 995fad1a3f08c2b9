"""A FIFO topic subscription's replay policy (SNS message archiving and replay) on the emulator:
converges, a change shows at `replay_policy` and starts a new replay, one removed by hand is seen and
restored, export writes it back, its domain is checked, and a standard topic's subscription refuses it
as SNS does ("The following attributes apply only to FIFO topics: ReplayPolicy", Subscribe, SNS API
reference)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.sns import SubscriptionSpec

from .test_sns import SUBSCRIPTIONS, delta_of, desired_of, make_topic, read_subscriptions, subscribe

AUDIT = "pacs-audit.fifo"
QUEUE = "arn:aws:sqs:ap-northeast-2:123456789012:pacs-audit-replica.fifo"
REPLAY = {"PointType": "Timestamp", "StartingPoint": "2026-01-31T08:00:00Z"}


def fifo_topic(aws: AwsContext) -> Any:
    _, topic = make_topic(aws, name=AUDIT, fifo=True, archive_policy={"MessageRetentionPeriod": "30"})
    return topic


def spec(**extra: Any) -> dict[str, Any]:
    return {"protocol": "sqs", "endpoint": QUEUE, "raw_message_delivery": True, **extra}


def test_a_replay_policy_converges_and_a_change_starts_another_replay(aws: AwsContext) -> None:
    topic = fifo_topic(aws)
    want, _ = subscribe(aws, topic, spec(replay_policy=REPLAY))
    (live,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, want, live).paths() == []
    attributes = aws.client("sns").get_subscription_attributes(SubscriptionArn=live.handle)["Attributes"]
    assert attributes["ReplayStatus"] == "Completed"

    window = {**REPLAY, "EndingPoint": "2026-01-31T17:00:00Z"}
    narrower = desired_of(SUBSCRIPTIONS, spec(replay_policy=window), parent=topic)
    delta = delta_of(SUBSCRIPTIONS, narrower, live)
    assert delta.paths() == ["replay_policy"]
    SUBSCRIPTIONS.update(aws, narrower, live, delta)
    (again,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, narrower, again).paths() == []


def test_a_replay_policy_removed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    topic = fifo_topic(aws)
    want, created = subscribe(aws, topic, spec(replay_policy=REPLAY))
    aws.client("sns").set_subscription_attributes(
        SubscriptionArn=created.handle, AttributeName="ReplayPolicy", AttributeValue=""
    )
    (live,) = read_subscriptions(aws, topic).values()
    delta = delta_of(SUBSCRIPTIONS, want, live)
    assert delta.paths() == ["replay_policy"]
    SUBSCRIPTIONS.update(aws, want, live, delta)
    (again,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, want, again).paths() == []


def test_unset_is_not_managed(aws: AwsContext) -> None:
    topic = fifo_topic(aws)
    subscribe(aws, topic, spec(replay_policy=REPLAY))
    (live,) = read_subscriptions(aws, topic).values()
    assert delta_of(SUBSCRIPTIONS, desired_of(SUBSCRIPTIONS, spec(), parent=topic), live).paths() == []


def test_export_writes_the_replay_policy_back(aws: AwsContext) -> None:
    """Every policy document of a subscription (compared whole, as JSON text) is written back as
    the mapping a spec declares, not left unmanaged."""
    topic = fifo_topic(aws)
    documents = {
        "filter_policy": {"severity": ["critical"]},
        "redrive_policy": {"deadLetterTargetArn": QUEUE.replace("replica", "dlq")},
    }
    subscribe(aws, topic, spec(replay_policy=REPLAY, **documents))
    result = export(aws, aws.stack, Selection(kinds=("sns_topics",), prefix=AUDIT))
    (entry,) = result.entries["sns_topics"]
    (subscription,) = entry.children["subscriptions"]
    assert subscription.config["replay_policy"] == REPLAY
    assert {k: subscription.config[k] for k in documents} == documents
    assert not [note for note in result.notes if "subscriptions" in note and "unmanaged" in note]
    assert SubscriptionSpec.model_validate({**subscription.config, "endpoint": QUEUE}).replay_policy == REPLAY


def test_a_standard_topic_refuses_a_replay_policy(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    with pytest.raises(ClientError, match="ReplayPolicy"):
        subscribe(aws, topic, spec(endpoint=QUEUE.removesuffix(".fifo"), replay_policy=REPLAY))


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"PointType": "Sequence", "StartingPoint": "2026-01-31T08:00:00Z"}, "PointType must be Timestamp"),
        ({"PointType": "Timestamp"}, "needs StartingPoint"),
        ({**REPLAY, "StartingPoint": "yesterday"}, "ISO 8601"),
        ({**REPLAY, "StartingPoint": "2026-01-31T08:00:00"}, "needs a time zone"),
        ({**REPLAY, "EndingPoint": "2026-01-30T08:00:00Z"}, "EndingPoint must be after StartingPoint"),
        ({**REPLAY, "Until": "2026-01-30T08:00:00Z"}, "unknown key 'Until'"),
    ],
)
def test_replay_policy_domain(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SubscriptionSpec.model_validate(spec(replay_policy=policy))
