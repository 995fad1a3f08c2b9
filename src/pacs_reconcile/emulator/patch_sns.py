"""SNS topic attributes moto 5.2.5 stores but never returns, returned as SNS does.

moto's CreateTopic and SetTopicAttributes keep any attribute on the topic, but GetTopicAttributes
answers only a fixed few, so a topic's signature version, tracing mode, FIFO throughput scope,
archive policy and delivery-status logging settings could be set and never read back. After
install(), GetTopicAttributes also returns each of these that was set (SetTopicAttributes and
GetTopicAttributes in the SNS API reference; an attribute never set is left out, as SNS leaves
out SignatureVersion for a topic on the default version 1). Works in-process and in server mode.

Topics: CreateTopic of an existing name with other tags is refused, as SNS refuses it (moto
answers the existing topic's ARN).

Subscriptions: moto refuses the ReplayPolicy attribute. After install(), Subscribe and
SetSubscriptionAttributes take it on a FIFO topic's subscription, and refuse it on a standard
topic's ("The following attributes apply only to FIFO topics: ReplayPolicy ... ReplayStatus",
Subscribe in the SNS API reference); GetSubscriptionAttributes returns it with ReplayStatus
`Completed` (the emulator keeps no archive, so every replay is done at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"
FEEDBACK_PROTOCOLS = ("HTTP", "Firehose", "Lambda", "SQS", "Application")
FEEDBACK_ATTRIBUTES = tuple(
    f"{protocol}{suffix}"
    for protocol in FEEDBACK_PROTOCOLS
    for suffix in ("SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate")
)
RETURNED_WHEN_SET = (
    "SignatureVersion",
    "TracingConfig",
    "FifoThroughputScope",
    "ArchivePolicy",
    *FEEDBACK_ATTRIBUTES,
)


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.sns.responses import SNSResponse

    if getattr(SNSResponse, _PATCHED_MARK, False):
        return
    from moto.sns.models import SNSBackend

    SNSResponse.get_topic_attributes = _with_stored_attributes(SNSResponse.get_topic_attributes)  # type: ignore[method-assign]
    SNSBackend.set_subscription_attributes = _accepting_replay_policy(SNSBackend.set_subscription_attributes)  # type: ignore[method-assign]
    SNSBackend.create_topic = _refusing_other_tags(SNSBackend.create_topic)  # type: ignore[method-assign]
    setattr(SNSResponse, _PATCHED_MARK, True)


def _with_stored_attributes(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core.utils import camelcase_to_underscores

    def get_topic_attributes(self: Any) -> Any:
        result = original(self)
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        attributes = result.result["Attributes"]
        for name in RETURNED_WHEN_SET:
            value = getattr(topic, camelcase_to_underscores(name), None)
            if value not in (None, ""):
                attributes[name] = str(value)
        return result

    return get_topic_attributes


def _accepting_replay_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.sns.exceptions import SNSInvalidParameter, SNSNotFoundError

    def set_subscription_attributes(self: Any, arn: str, name: str, value: Any) -> None:
        if name != "ReplayPolicy":
            return original(self, arn, name, value)  # type: ignore[no-any-return]
        subscription = next((s for s in self.subscriptions.values() if s.arn == arn), None)
        if subscription is None:
            raise SNSNotFoundError(f"Subscription with arn {arn} not found")
        if not subscription.topic.fifo_topic:
            raise SNSInvalidParameter(
                "Invalid parameter: ReplayPolicy: only FIFO topics support message replay"
            )
        if value:
            subscription.attributes.update({"ReplayPolicy": value, "ReplayStatus": "Completed"})
        else:
            subscription.attributes.pop("ReplayPolicy", None)
            subscription.attributes.pop("ReplayStatus", None)
        return None

    return set_subscription_attributes


def _refusing_other_tags(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateTopic of an existing name answers that topic's ARN ("This action is idempotent, so if
    the requester already owns a topic with the specified name, that topic's ARN is returned
    without creating a new topic", SNS API reference, CreateTopic), but refuses tags other than
    the topic's: "Invalid parameter: Tags Reason: Topic already exists with different tags" (the
    real service's answer, localstack/localstack#2405 and #3928). moto returns the ARN and keeps
    the old tags, so a create would silently take over a namesake someone else made."""

    def create_topic(
        self: Any, name: str, attributes: dict[str, str] | None = None, tags: dict[str, str] | None = None
    ) -> Any:
        from moto.sns.exceptions import SNSInvalidParameter

        existing = next((t for t in self.topics.values() if t.name == name), None)
        if existing is not None and tags and dict(tags) != dict(self.list_tags_for_resource(existing.arn)):
            raise SNSInvalidParameter(
                "Invalid parameter: Tags Reason: Topic already exists with different tags"
            )
        return original(self, name, attributes, tags)

    return create_topic
