"""SNS kinds against moto: the create/read/drift/update/delete cycle, pending subscriptions,
policy canonical form and spec validation (an endpoint never shows in an error)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.policy import canonical_policy
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.sns import (
    PENDING_NOTE,
    Subscriptions,
    SubscriptionSpec,
    Topics,
    TopicSpec,
    topic_arn,
)

TOPIC = "pacs-alerts"
EMAIL = "oncall@pacs.example.com"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/s3cr3tT0k3n"
QUEUE_ARN = "arn:aws:sqs:ap-northeast-2:123456789012:pacs-alerts-queue"
ROLE_ARN = "arn:aws:iam::123456789012:role/r"

TOPICS = Topics()
SUBSCRIPTIONS = Subscriptions()


# Helpers ---------------------------------------------------------------------------------------


def desired_of(
    kind: Reconciler, spec: dict[str, Any], *, tags: dict[str, str] | None = None, parent: Live | None = None
) -> Desired:
    """What the engine hands to create/update: the validated, dumped, canonical spec."""
    state = kind.canonical(kind.meta.model.model_validate(spec).model_dump(mode="json"))
    key = kind.key(state, parent.key if parent else None)
    return Desired(f"{kind.meta.kind}.test", key, state, tags or {}, parent)


def delta_of(kind: Reconciler, desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, kind.canonical(live.state))


def owner_tags(aws: AwsContext, **extra: str) -> dict[str, str]:
    return {OWNER_TAG: aws.stack, **extra}


def read_topic(aws: AwsContext, name: str = TOPIC) -> Live:
    found = TOPICS.read(aws, [name], ReadScope(aws.stack))
    assert name in found, f"{name} not read back"
    return found[name]


def read_subscriptions(aws: AwsContext, parent: Live, keys: list[Any] | None = None) -> dict[Any, Live]:
    return SUBSCRIPTIONS.read(aws, keys or [], ReadScope(aws.stack, {parent.key: parent}))


def make_topic(aws: AwsContext, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(TOPICS, {"name": TOPIC, **spec}, tags=owner_tags(aws, Name=TOPIC))
    return desired, TOPICS.create(aws, desired)


def sns(aws: AwsContext) -> Any:
    return aws.client("sns")


# Registry ----------------------------------------------------------------------------------------


def test_kinds_are_registered_with_their_metadata() -> None:
    topics, subscriptions = KINDS["sns_topics"], KINDS["subscriptions"]
    assert isinstance(topics, Topics) and topics.meta.taggable
    assert topics.meta.force_new == frozenset({"name", "fifo"})
    assert set(topics.meta.attributes) == {"name", "arn"}
    assert isinstance(subscriptions, Subscriptions)
    assert subscriptions.meta.parent == "sns_topics" and not subscriptions.meta.taggable
    assert subscriptions.meta.sensitive_fields == frozenset({"endpoint"})


# Topics: the full cycle ----------------------------------------------------------------------------

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": f"arn:aws:sns:ap-northeast-2:123456789012:{TOPIC}",
        }
    ],
}


def test_topic_create_read_drift_update_delete(aws: AwsContext) -> None:
    desired, created = make_topic(aws, display_name="PACS alerts", policy=POLICY)
    assert created.attrs == {"name": TOPIC, "arn": topic_arn(aws, TOPIC)}
    assert aws.stats.mutating() == {"sns.CreateTopic": 1}, "tags and attributes go in the create call"

    live = read_topic(aws)
    assert delta_of(TOPICS, desired, live).paths() == []
    assert live.tags == owner_tags(aws, Name=TOPIC)
    assert compare_tags(live.tags, desired.tags).to_set == {}

    # Out-of-band changes: display name, policy (another statement), a tag added and one removed.
    arn = live.attrs["arn"]
    sns(aws).set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="hacked")
    foreign = {**POLICY, "Statement": [*POLICY["Statement"], {**POLICY["Statement"][0], "Sid": "Extra"}]}
    sns(aws).set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(foreign))
    sns(aws).tag_resource(ResourceArn=arn, Tags=[{"Key": "Rogue", "Value": "yes"}])
    sns(aws).untag_resource(ResourceArn=arn, TagKeys=["Name"])

    drifted = read_topic(aws)
    delta = delta_of(TOPICS, desired, drifted)
    assert delta.paths() == ["display_name", "policy.Statement"]
    tag_changes = compare_tags(drifted.tags, desired.tags)
    assert (tag_changes.to_set, tag_changes.to_unset) == ({"Name": TOPIC}, ["Rogue"])

    before = dict(aws.stats.calls)
    TOPICS.update(aws, desired, drifted, delta)
    TOPICS.update_tags(aws, drifted, tag_changes)
    made = {k: v - before.get(k, 0) for k, v in aws.stats.mutating().items() if v != before.get(k, 0)}
    assert made == {"sns.SetTopicAttributes": 2, "sns.TagResource": 1, "sns.UntagResource": 1}

    fixed = read_topic(aws)
    assert delta_of(TOPICS, desired, fixed).paths() == []
    assert fixed.tags == desired.tags

    TOPICS.delete(aws, fixed)
    assert TOPICS.read(aws, [TOPIC], ReadScope(aws.stack)) == {}


def test_an_update_keeps_the_notes_of_the_live_it_was_given(aws: AwsContext) -> None:
    desired, _ = make_topic(aws, display_name="PACS alerts")
    sns(aws).set_topic_attributes(
        TopicArn=topic_arn(aws, TOPIC), AttributeName="DisplayName", AttributeValue="changed by hand"
    )
    drifted = replace(read_topic(aws), notes=("a remark for the plan",))
    updated = TOPICS.update(aws, desired, drifted, delta_of(TOPICS, desired, drifted))
    assert updated == replace(drifted, state=updated.state)


def test_unmanaged_attributes_never_differ(aws: AwsContext) -> None:
    desired, _ = make_topic(aws)  # no policy, display name, key or delivery policy declared
    assert desired.state["policy"] is None
    assert delta_of(TOPICS, desired, read_topic(aws)).paths() == []


def test_every_attribute_converges(aws: AwsContext) -> None:
    delivery = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 10}}}
    desired, _ = make_topic(aws, kms_master_key_id="alias/aws/sns", delivery_policy=delivery)
    live = read_topic(aws)
    assert live.state["kms_master_key_id"] == "alias/aws/sns"
    assert live.state["delivery_policy"] == delivery
    assert delta_of(TOPICS, desired, live).paths() == []

    # "" turns encryption off and {} removes the delivery policy.
    cleared = desired_of(TOPICS, {"name": TOPIC, "kms_master_key_id": "", "delivery_policy": {}})
    delta = delta_of(TOPICS, cleared, live)
    assert delta.paths() == ["kms_master_key_id", "delivery_policy"]
    TOPICS.update(aws, cleared, live, delta)
    assert delta_of(TOPICS, cleared, read_topic(aws)).paths() == []


def test_fifo_topic_round_trips(aws: AwsContext) -> None:
    desired = desired_of(TOPICS, {"name": "pacs-events.fifo", "fifo": True}, tags=owner_tags(aws))
    TOPICS.create(aws, desired)
    live = read_topic(aws, "pacs-events.fifo")
    assert live.state["fifo"] is True
    assert delta_of(TOPICS, desired, live).paths() == []


def test_read_covers_owned_topics_and_requested_unowned_ones(aws: AwsContext) -> None:
    make_topic(aws)  # owned, not requested: found by the tagging sweep
    other_stack = sns(aws).create_topic(Name="other", Tags=[{"Key": OWNER_TAG, "Value": "someone-else"}])
    unowned = sns(aws).create_topic(Name="unowned", Tags=[{"Key": "Team", "Value": "pacs"}])

    found = TOPICS.read(aws, ["unowned", "absent"], ReadScope(aws.stack))

    assert set(found) == {TOPIC, "unowned"}
    assert found["unowned"].tags == {"Team": "pacs"}, "tags of a requested topic outside the sweep"
    assert found["unowned"].attrs["arn"] == unowned["TopicArn"]
    assert other_stack["TopicArn"] not in {live.attrs["arn"] for live in found.values()}


def test_read_error_is_never_absence(aws: AwsContext) -> None:
    with Stubber(sns(aws)) as stub:
        stub.add_client_error("get_topic_attributes", "AuthorizationError", http_status_code=403)
        with pytest.raises(ClientError, match="AuthorizationError"):
            TOPICS.read(aws, [TOPIC], ReadScope(aws.stack))


# Policy canonical form -------------------------------------------------------------------------

STATEMENT = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "arn:x"}


@pytest.mark.parametrize(
    ("written", "returned"),
    [
        pytest.param(
            {"Statement": [{**STATEMENT, "Action": "sns:Publish"}]},
            {"Statement": [{**STATEMENT, "Action": ["sns:Publish"]}]},
            id="scalar-vs-one-element-list",
        ),
        pytest.param(
            {"Statement": [{**STATEMENT, "Principal": "*"}]},
            {"Statement": [{**STATEMENT, "Principal": {"AWS": "*"}}]},
            id="principal-star-vs-aws-star",
        ),
        pytest.param(
            {"Statement": [{**STATEMENT, "Sid": "A"}, {**STATEMENT, "Sid": "B"}]},
            {"Statement": [{**STATEMENT, "Sid": "B"}, {**STATEMENT, "Sid": "A"}]},
            id="statement-order",
        ),
        pytest.param(
            {"Statement": {**STATEMENT}},
            {"Statement": [{**STATEMENT}]},
            id="single-statement-vs-list",
        ),
        pytest.param(
            {"Statement": [{**STATEMENT, "Action": ["sns:Publish", "sns:Subscribe"]}]},
            {"Statement": [{**STATEMENT, "Action": ["sns:Subscribe", "sns:Publish", "sns:Publish"]}]},
            id="action-order-and-duplicates",
        ),
        pytest.param(
            {"Statement": [{**STATEMENT, "Condition": {"Bool": {"aws:SecureTransport": True}}}]},
            {"Statement": [{**STATEMENT, "Condition": {"Bool": {"aws:SecureTransport": ["true"]}}}]},
            id="condition-value-types",
        ),
        pytest.param(
            {"Statement": [{**STATEMENT, "Principal": {"AWS": ["arn:b", "arn:a"]}}]},
            {"Statement": [{**STATEMENT, "Principal": {"AWS": ["arn:a", "arn:b"]}}]},
            id="principal-list-order",
        ),
    ],
)
def test_equivalent_policies_have_one_canonical_form(
    written: dict[str, Any], returned: dict[str, Any]
) -> None:
    assert canonical_policy(written) == canonical_policy(returned)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"Statement": [STATEMENT]}, {"Statement": [{**STATEMENT, "Effect": "Deny"}]}),
        (
            {"Statement": [STATEMENT]},
            {"Statement": [{**STATEMENT, "Action": ["sns:Publish", "sns:Subscribe"]}]},
        ),
        ({"Statement": [STATEMENT]}, {"Statement": [{**STATEMENT, "Principal": {"Service": "*"}}]}),
    ],
)
def test_different_policies_stay_different(one: dict[str, Any], other: dict[str, Any]) -> None:
    assert canonical_policy(one) != canonical_policy(other)


def test_policy_written_one_way_reads_back_equal(aws: AwsContext) -> None:
    # Written with scalars and Principal "*"; moto (like AWS) stores it as given, and another
    # tool may rewrite it in list form: either way no difference is planned.
    policy: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{**STATEMENT, "Resource": "arn:aws:sns:::x"}],
    }
    desired, live = make_topic(aws, policy=policy)
    listed = {
        **policy,
        "Statement": [{**policy["Statement"][0], "Principal": {"AWS": ["*"]}, "Action": ["sns:Publish"]}],
    }
    sns(aws).set_topic_attributes(
        TopicArn=live.handle, AttributeName="Policy", AttributeValue=json.dumps(listed)
    )
    assert delta_of(TOPICS, desired, read_topic(aws)).paths() == []


# Topic validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"name": ""}, "name", "1-256 letters"),
        ({"name": "a" * 257}, "name", "1-256 letters"),
        ({"name": "has space"}, "name", "1-256 letters"),
        ({"name": "events", "fifo": True}, "fifo", "must end with '.fifo'"),
        ({"name": "events.fifo"}, "fifo", "only a FIFO topic"),
        ({"name": "x", "display_name": "d" * 101}, "display_name", "at most 100"),
        ({"name": "x", "policy": {"Version": "2012-10-17"}}, "policy", "Statement"),
        ({"name": "x", "tracing": "Active"}, "tracing", "Extra inputs"),
    ],
)
def test_topic_spec_errors(spec: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TopicSpec.model_validate(spec)
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [(field,)]
    assert message in errors[0]["msg"]


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "pacs-alerts"},
        {"name": "a" * 256},
        {"name": "events.fifo", "fifo": True},
        {"name": "${var.prefix}-alerts"},  # references are checked once resolved
        {"name": "${var.topic}", "fifo": True},
    ],
)
def test_topic_spec_accepts(spec: dict[str, Any]) -> None:
    TopicSpec.model_validate(spec)


# Subscriptions: the full cycle ---------------------------------------------------------------------


def subscribe(aws: AwsContext, parent: Live, spec: dict[str, Any]) -> tuple[Desired, Live]:
    desired = desired_of(SUBSCRIPTIONS, spec, parent=parent)
    return desired, SUBSCRIPTIONS.create(aws, desired)


def test_subscription_create_read_drift_update_delete(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    email, _ = subscribe(aws, topic, {"protocol": "email", "endpoint": EMAIL})
    slack, _ = subscribe(
        aws, topic, {"protocol": "https", "endpoint": WEBHOOK, "filter_policy": {"severity": ["critical"]}}
    )
    queue, created = subscribe(
        aws,
        topic,
        {
            "protocol": "sqs",
            "endpoint": QUEUE_ARN,
            "raw_message_delivery": True,
            "redrive_policy": {"deadLetterTargetArn": QUEUE_ARN + "-dlq"},
        },
    )
    assert created.attrs["arn"].startswith(topic.attrs["arn"] + ":")
    declared = {d.key: d for d in (email, slack, queue)}

    live = read_subscriptions(aws, topic)
    assert set(live) == set(declared)
    for key, desired in declared.items():
        assert delta_of(SUBSCRIPTIONS, desired, live[key]).paths() == [], key
        assert live[key].pending is None

    # Out of band: someone changes the Slack filter policy and subscribes another address.
    slack_arn = live[slack.key].handle
    sns(aws).set_subscription_attributes(
        SubscriptionArn=slack_arn,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"severity": ["info"]}),
    )
    sns(aws).subscribe(TopicArn=topic.attrs["arn"], Protocol="email", Endpoint="intruder@example.com")

    drifted = read_subscriptions(aws, topic)
    extra = set(drifted) - set(declared)
    assert len(extra) == 1, "the hand-made subscription is listed so the engine can prune it"
    assert drifted[extra.pop()].state["endpoint"] == "intruder@example.com"
    assert delta_of(SUBSCRIPTIONS, slack, drifted[slack.key]).paths() == ["filter_policy"]
    assert delta_of(SUBSCRIPTIONS, email, drifted[email.key]).paths() == []

    SUBSCRIPTIONS.update(aws, slack, drifted[slack.key], delta_of(SUBSCRIPTIONS, slack, drifted[slack.key]))
    for key in set(drifted) - set(declared):
        SUBSCRIPTIONS.delete(aws, drifted[key])

    fixed = read_subscriptions(aws, topic)
    assert set(fixed) == set(declared)
    assert all(delta_of(SUBSCRIPTIONS, d, fixed[k]).paths() == [] for k, d in declared.items())

    for live_one in fixed.values():
        SUBSCRIPTIONS.delete(aws, live_one)
    assert read_subscriptions(aws, topic) == {}


def test_a_changed_endpoint_is_a_new_subscription(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    old = desired_of(SUBSCRIPTIONS, {"protocol": "email", "endpoint": EMAIL}, parent=topic)
    new = desired_of(SUBSCRIPTIONS, {"protocol": "email", "endpoint": "ops@pacs.example.com"}, parent=topic)
    same = desired_of(
        SUBSCRIPTIONS, {"protocol": "email", "endpoint": EMAIL, "filter_policy": {}}, parent=topic
    )
    assert old.key != new.key
    assert old.key == same.key
    assert isinstance(old.key, tuple) and old.key[0] == TOPIC


def test_requested_subscription_of_a_parent_outside_scope(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    wanted, _ = subscribe(aws, topic, {"protocol": "email", "endpoint": EMAIL})
    subscribe(aws, topic, {"protocol": "email", "endpoint": "other@pacs.example.com"})
    # No parents in scope: only the requested key is read, through the ARN derived from its name.
    found = SUBSCRIPTIONS.read(aws, [wanted.key], ReadScope(aws.stack))
    assert list(found) == [wanted.key]
    assert SUBSCRIPTIONS.read(aws, [("absent-topic", "email:0")], ReadScope(aws.stack)) == {}


def test_filter_policy_cleared_and_scope_moved_to_message_body(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    flat = {"protocol": "sqs", "endpoint": QUEUE_ARN, "filter_policy": {"severity": ["critical"]}}
    desired, _ = subscribe(aws, topic, flat)

    # A nested policy is only valid for the message body: the scope must be set first.
    nested = {**flat, "filter_policy": {"alarm": {"state": ["ALARM"]}}, "filter_policy_scope": "MessageBody"}
    to_body = desired_of(SUBSCRIPTIONS, nested, parent=topic)
    live = read_subscriptions(aws, topic)[desired.key]
    delta = delta_of(SUBSCRIPTIONS, to_body, live)
    assert delta.paths() == ["filter_policy", "filter_policy_scope"]
    SUBSCRIPTIONS.update(aws, to_body, live, delta)
    live = read_subscriptions(aws, topic)[desired.key]
    assert delta_of(SUBSCRIPTIONS, to_body, live).paths() == []

    cleared = desired_of(SUBSCRIPTIONS, {**flat, "filter_policy": {}}, parent=topic)
    delta = delta_of(SUBSCRIPTIONS, cleared, live)
    assert delta.paths() == ["filter_policy"]
    SUBSCRIPTIONS.update(aws, cleared, live, delta)
    assert read_subscriptions(aws, topic)[desired.key].state["filter_policy"] == ""


def test_subscriptions_of_a_deleted_topic_are_gone(aws: AwsContext) -> None:
    _, topic = make_topic(aws)
    _, created = subscribe(aws, topic, {"protocol": "email", "endpoint": EMAIL})
    TOPICS.delete(aws, topic)
    assert read_subscriptions(aws, topic) == {}
    SUBSCRIPTIONS.delete(aws, created)  # already gone with its topic: no error


# Pending confirmation (moto confirms at once: stubbed) ------------------------------------------


def topic_live() -> Live:
    arn = f"arn:aws:sns:ap-northeast-2:123456789012:{TOPIC}"
    return Live(TOPIC, {}, {"name": TOPIC, "arn": arn}, {}, arn)


def listed(arn: str, protocol: str, endpoint: str) -> dict[str, str]:
    topic = f"arn:aws:sns:ap-northeast-2:123456789012:{TOPIC}"
    return {
        "SubscriptionArn": arn,
        "Owner": "123456789012",
        "Protocol": protocol,
        "Endpoint": endpoint,
        "TopicArn": topic,
    }


def test_pending_subscriptions_are_reported_pending(aws: AwsContext) -> None:
    topic = topic_live()
    confirmed_arn = topic.attrs["arn"] + ":1111"
    returned_arn = topic.attrs["arn"] + ":2222"  # pending, but created with ReturnSubscriptionArn
    page = [
        listed("PendingConfirmation", "email", EMAIL),
        listed(returned_arn, "https", WEBHOOK),
        listed(confirmed_arn, "sqs", QUEUE_ARN),
        listed("Deleted", "email", "gone@pacs.example.com"),
    ]
    with Stubber(sns(aws)) as stub:
        stub.add_response(
            "list_subscriptions_by_topic", {"Subscriptions": page}, {"TopicArn": topic.attrs["arn"]}
        )
        stub.add_response(
            "get_subscription_attributes",
            {"Attributes": {"PendingConfirmation": "true", "Protocol": "https", "Endpoint": WEBHOOK}},
            {"SubscriptionArn": returned_arn},
        )
        stub.add_response(
            "get_subscription_attributes",
            {"Attributes": {"PendingConfirmation": "false", "RawMessageDelivery": "true"}},
            {"SubscriptionArn": confirmed_arn},
        )
        found = read_subscriptions(aws, topic)
        stub.assert_no_pending_responses()

    by_protocol = {live.state["protocol"]: live for live in found.values()}
    assert set(by_protocol) == {"email", "https", "sqs"}, "a Deleted entry is not a subscription"
    for protocol in ("email", "https"):
        pending = by_protocol[protocol]
        assert pending.pending == PENDING_NOTE
        assert set(pending.state) == {"protocol", "endpoint"}
    assert by_protocol["sqs"].pending is None
    assert by_protocol["sqs"].state["raw_message_delivery"] is True

    # A pending subscription cannot be removed: delete makes no call (the stub has no responses).
    with Stubber(sns(aws)):
        SUBSCRIPTIONS.delete(aws, by_protocol["email"])


def test_subscription_listing_follows_pages(aws: AwsContext) -> None:
    topic = topic_live()
    arn = topic.attrs["arn"]
    first = [listed("PendingConfirmation", "email", f"user{i}@pacs.example.com") for i in range(100)]
    second = [listed("PendingConfirmation", "email", "last@pacs.example.com")]
    with Stubber(sns(aws)) as stub:
        stub.add_response(
            "list_subscriptions_by_topic", {"Subscriptions": first, "NextToken": "t"}, {"TopicArn": arn}
        )
        stub.add_response(
            "list_subscriptions_by_topic", {"Subscriptions": second}, {"TopicArn": arn, "NextToken": "t"}
        )
        found = read_subscriptions(aws, topic)
    assert len(found) == 101


# Subscription validation; the endpoint is never shown -------------------------------------------

VALID_ENDPOINTS = [
    ("email", EMAIL),
    ("email-json", EMAIL),
    ("http", "http://alerts.internal:8080/sns"),
    ("https", WEBHOOK),
    ("sqs", QUEUE_ARN),
    ("sqs", "arn:aws:sqs:ap-northeast-2:123456789012:events.fifo"),
    ("lambda", "arn:aws:lambda:ap-northeast-2:123456789012:function:pacs-notify"),
    ("lambda", "arn:aws:lambda:ap-northeast-2:123456789012:function:pacs-notify:live"),
    ("sms", "+821012345678"),
    ("application", "arn:aws:sns:ap-northeast-2:123456789012:endpoint/GCM/pacs/abcd-1234"),
    ("https", "${var.slack_webhook_url}"),
    ("sqs", "${sqs_queues.alerts.arn}"),
]
INVALID_ENDPOINTS = [
    ("email", "not-an-address", "email address"),
    ("email", "two@@example.com", "email address"),
    ("http", WEBHOOK, "http://"),
    ("https", "http://hooks.example.com/x", "https://"),
    ("https", "https:///no-host", "https://"),
    ("sqs", "https://sqs.ap-northeast-2.amazonaws.com/123456789012/q", "SQS queue ARN"),
    ("sqs", "arn:aws:sns:ap-northeast-2:123456789012:topic", "SQS queue ARN"),
    ("lambda", "arn:aws:lambda:ap-northeast-2:123456789012:pacs-notify", "Lambda function ARN"),
    ("sms", "010-1234-5678", "E.164"),
    ("sms", "+0123", "E.164"),
    ("firehose", "arn:aws:s3:::bucket", "delivery stream ARN"),
]


@pytest.mark.parametrize(("protocol", "endpoint"), VALID_ENDPOINTS)
def test_valid_endpoints(protocol: str, endpoint: str) -> None:
    SubscriptionSpec.model_validate({"protocol": protocol, "endpoint": endpoint})


@pytest.mark.parametrize(("protocol", "endpoint", "message"), INVALID_ENDPOINTS)
def test_invalid_endpoints_are_rejected_without_showing_them(
    protocol: str, endpoint: str, message: str
) -> None:
    spec = {"protocol": protocol, "endpoint": endpoint}
    if protocol == "firehose":
        spec["subscription_role_arn"] = "arn:aws:iam::123456789012:role/sns-firehose"
    with pytest.raises(ValidationError) as caught:
        SubscriptionSpec.model_validate(spec)
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [("endpoint",)]
    assert message in errors[0]["msg"]
    # The loader shows each error's msg; str() is what a traceback would show.
    assert endpoint not in str(caught.value)
    assert all(endpoint not in e["msg"] for e in errors)


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"protocol": "email", "endpoint": EMAIL, "raw_message_delivery": True},
            "raw_message_delivery",
            "only",
        ),
        (
            {"protocol": "sqs", "endpoint": QUEUE_ARN, "filter_policy_scope": "MessageBody"},
            "filter_policy_scope",
            "filter_policy",
        ),
        (
            {
                "protocol": "firehose",
                "endpoint": "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/s",
            },
            "subscription_role_arn",
            "needs",
        ),
        (
            {"protocol": "sqs", "endpoint": QUEUE_ARN, "subscription_role_arn": ROLE_ARN},
            "subscription_role_arn",
            "only",
        ),
        ({"protocol": "carrier-pigeon", "endpoint": EMAIL}, "protocol", "Input should be"),
    ],
)
def test_subscription_spec_errors(spec: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SubscriptionSpec.model_validate(spec)
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [(field,)]
    assert message in errors[0]["msg"]


def test_endpoint_is_kept_out_of_keys_labels_and_reprs() -> None:
    spec = SubscriptionSpec.model_validate({"protocol": "https", "endpoint": WEBHOOK})
    assert "s3cr3t" not in repr(spec)
    desired = desired_of(SUBSCRIPTIONS, {"protocol": "https", "endpoint": WEBHOOK}, parent=topic_live())
    shown = [repr(desired.key), str(desired.key), SUBSCRIPTIONS.label(desired.key)]
    assert not [text for text in shown if "s3cr3t" in text or "hooks.slack.com" in text]
    assert SUBSCRIPTIONS.label(desired.key).startswith("https:")
