"""SNS: topics (owned through their tags) and their subscriptions (children, untaggable).

Topics are found by the run's one Resource Groups Tagging API sweep plus GetTopicAttributes each
(a topic ARN is derived from its name, so a declared topic needs no listing, and its attributes
are read while the sweep runs). Subscriptions are listed per topic; one that waits for a person
to confirm it can be neither read nor deleted, so it is reported as pending. A subscription
endpoint may be a secret (a webhook URL): it never appears in a key, an error message or the
spec model's repr (the kind declares it sensitive, so the engine masks it in the state it shows).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..aws import AwsContext
from ..diff import (
    UNKNOWN,
    Delta,
    contains_unknown,
    tags_from_list,
    tags_to_list,
)
from ..policy import with_canonical_policy
from ._delivery_policy import check_subscription_delivery_policy, check_topic_delivery_policy
from ._fields import ROLE_ARN, ROLE_ARN_OR_EMPTY, holding_statements
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    both,
    claim_after_lost_create,
    concurrently,
    error_code,
    gone_is_fine,
    memo_until_write,
    names_with_prefix,
    owned_of,
    read_pages,
    unless_gone,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

AWS_DEFAULT_TOPIC_STATEMENT = "__default_statement_ID"
"""The Sid of the policy statement AWS gives every new topic."""

# Shared helpers --------------------------------------------------------------------------------


def set_attributes(
    set_attribute: Callable[[str, str], None],
    names: Mapping[str, str],
    changed: Sequence[str],
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
) -> dict[str, Any]:
    """Set each changed field's attribute (one Set*Attributes call per attribute, in order); the
    live state with those fields now as desired."""
    for field in changed:
        set_attribute(names[field], attribute_value(desired[field]))
    return {**live, **{f: desired[f] for f in changed}}


def topic_arn(ctx: AwsContext, name: str) -> str:
    return f"arn:{ctx.partition}:sns:{ctx.region}:{ctx.account_id}:{name}"


def topic_name(arn: str) -> str | None:
    """The topic name in a topic ARN; None for other SNS ARNs (platform apps, subscriptions)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sns" or "/" in parts[5]:
        return None
    return parts[5]


def attribute_value(value: Any) -> str:
    """A spec value as an SNS attribute string; an empty mapping clears the attribute."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True) if value else ""
    return str(value)


def initial_attributes(state: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """The create call's Attributes: each managed field with a value ("" and {} mean none)."""
    return {
        attribute: attribute_value(state[field])
        for field, attribute in names.items()
        if state.get(field) not in (None, "", {})
    }


def parsed_json(text: str | None) -> dict[str, Any]:
    """An SNS JSON attribute as a mapping; absent or "" (never set, or cleared) is {}."""
    return json.loads(text) if text else {}


def document_text(value: Any) -> Any:
    """A JSON document in the form compared whole: compact text with sorted keys, "" for none.

    Filter and redrive policies are documents whose keys are data, not fields: a key added out
    of band is a difference, which a key-by-key comparison of mappings would not report.
    """
    if value is None or contains_unknown(value):
        return UNKNOWN if value is not None else None
    if isinstance(value, str):  # already canonical (read back), or SNS's own text
        value = parsed_json(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":")) if value else ""


def check_fifo_name(name: Any, fifo: bool, what: str) -> None:
    """A FIFO topic's or queue's name ends with `.fifo`, and only theirs do (SNS CreateTopic, SQS
    CreateQueue)."""
    if not isinstance(name, str) or is_unresolved(name):
        return
    if fifo and not name.endswith(_FIFO_SUFFIX):
        raise ValueError(f"a FIFO {what}'s name must end with '.fifo'")
    if not fifo and name.endswith(_FIFO_SUFFIX):
        raise ValueError(f"the name ends with '.fifo', which only a FIFO {what} may use: set fifo: true")


def fifo_matches_name(what: str) -> AfterValidator:
    """The check of a `fifo` field against the `name` field before it (check_fifo_name); `what`
    ("topic", "queue") names the resource in the error."""

    def check(fifo: bool, info: ValidationInfo) -> bool:
        check_fifo_name(info.data.get("name"), fifo, what)
        return fifo

    return AfterValidator(check)


def is_true(text: str | None) -> bool:
    return (text or "").lower() == "true"


# Topics ----------------------------------------------------------------------------------------

TopicPolicy = Annotated[dict[str, Any], holding_statements("a policy document needs a 'Statement'")]

_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_SUFFIX = ".fifo"

# Spec field -> SNS topic attribute, for the attributes that can change in place.
TOPIC_ATTRIBUTES = {
    "display_name": "DisplayName",
    "kms_master_key_id": "KmsMasterKeyId",
    "policy": "Policy",
    "delivery_policy": "DeliveryPolicy",
    "content_based_deduplication": "ContentBasedDeduplication",
    "fifo_throughput_scope": "FifoThroughputScope",
    "archive_policy": "ArchivePolicy",
    "signature_version": "SignatureVersion",
    "tracing_config": "TracingConfig",
}
FIFO_ONLY = ("content_based_deduplication", "fifo_throughput_scope", "archive_policy")
MAX_ARCHIVE_DAYS = 365
STANDARD_ONLY = (
    "tracing_config",
)  # SetTopicAttributes: TracingConfig "is only supported on standard topics"
# Delivery-status logging (SetTopicAttributes): per protocol, {PREFIX}SuccessFeedbackRoleArn,
# {PREFIX}FailureFeedbackRoleArn and {PREFIX}SuccessFeedbackSampleRate.
FEEDBACK_PREFIXES = {
    "http": "HTTP",
    "firehose": "Firehose",
    "lambda": "Lambda",
    "sqs": "SQS",
    "application": "Application",
}
FEEDBACK_FIELDS = {
    "success_role_arn": "SuccessFeedbackRoleArn",
    "failure_role_arn": "FailureFeedbackRoleArn",
    "success_sample_rate": "SuccessFeedbackSampleRate",
}
FeedbackProtocol = Literal["http", "firehose", "lambda", "sqs", "application"]


class DeliveryStatusSpec(SpecModel):
    """Delivery-status logging to CloudWatch Logs for one subscriber protocol."""

    success_role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] | None = None
    """Role SNS uses to log successful deliveries. Unset: not managed; "" for none."""
    failure_role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] | None = None
    """Role SNS uses to log failed deliveries. Unset: not managed; "" for none."""
    success_sample_rate: int | None = Field(default=None, ge=0, le=100)
    """Percentage of successful deliveries logged (0-100). Unset: not managed."""


def feedback_state(attributes: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Delivery-status logging by protocol, for the protocols with any of its attributes set."""
    out: dict[str, dict[str, Any]] = {}
    for protocol, prefix in FEEDBACK_PREFIXES.items():
        values = {field: attributes.get(prefix + name) for field, name in FEEDBACK_FIELDS.items()}
        if any(values.values()):
            rate = values["success_sample_rate"]
            out[protocol] = {
                "success_role_arn": values["success_role_arn"] or "",
                "failure_role_arn": values["failure_role_arn"] or "",
                "success_sample_rate": int(rate) if rate else None,
            }
    return out


def feedback_attributes(
    wanted: Mapping[str, Mapping[str, Any]], have: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """The attribute writes turning `have` into `wanted`: "" clears a protocol the spec leaves out."""
    writes: dict[str, str] = {}
    for protocol in sorted(set(wanted) | set(have)):
        prefix = FEEDBACK_PREFIXES[protocol]
        want, live = wanted.get(protocol), have.get(protocol) or {}
        for field, name in FEEDBACK_FIELDS.items():
            value = (
                (want or {}).get(field)
                if want is not None
                else ("" if field != "success_sample_rate" else None)
            )
            if value is not None and value != live.get(field):
                writes[prefix + name] = str(value)
    return writes


class TopicSpec(SpecModel):
    """An SNS topic."""

    name: str
    """Topic name: 1-256 letters, digits, `-` or `_`; a FIFO topic's name ends with `.fifo`."""
    display_name: str | None = None
    """Display name (at most 100 characters), used as the sender name of SMS and email."""
    fifo: Annotated[bool, fifo_matches_name("topic")] = False
    """A FIFO topic (ordered, deduplicated). Changing it replaces the topic."""
    kms_master_key_id: str | None = None
    """KMS key (id, ARN or alias such as `alias/aws/sns`) encrypting messages at rest; `""`
    turns encryption off."""
    policy: TopicPolicy | None = None
    """The topic's access policy as a mapping (an IAM policy document). When not set, the
    policy is not managed (AWS's default policy stays)."""
    delivery_policy: Annotated[dict[str, Any], AfterValidator(check_topic_delivery_policy)] | None = None
    """HTTP/S delivery policy as a mapping, e.g. `{http: {defaultHealthyRetryPolicy: {numRetries: 5}}}`
    (checked as SNS documents it: retry delays 1-3600 s, 0-100 retries, a backoff function, a
    throttle of at least 1 a second, a Content-Type); `{}` removes it."""
    content_based_deduplication: bool | None = None
    """FIFO topics: deduplicate by a hash of the message body. Unset: not managed."""
    fifo_throughput_scope: Literal["Topic", "MessageGroup"] | None = None
    """FIFO topics: deduplication scope, Topic (AWS's default) or MessageGroup (higher
    throughput). Unset: not managed."""
    archive_policy: dict[str, Any] | None = None
    """FIFO topics: message archiving, e.g. `{MessageRetentionPeriod: "30"}` (days); `{}` turns it
    off. Unset: not managed."""
    signature_version: Literal["1", "2"] | None = None
    """Signature of the messages SNS sends: 1 (SHA1withRSA, AWS's default) or 2 (SHA256withRSA).
    Unset: not managed."""
    tracing_config: Literal["PassThrough", "Active"] | None = None
    """Standard topics: X-Ray tracing, PassThrough (AWS's default) or Active. Unset: not managed."""
    delivery_status_logging: dict[FeedbackProtocol, DeliveryStatusSpec] | None = None
    """Delivery-status logging by subscriber protocol (http, firehose, lambda, sqs, application);
    a protocol left out is turned off. Unset: not managed."""

    @field_validator("archive_policy")
    @classmethod
    def _archive_retention(cls, policy: dict[str, Any] | None) -> dict[str, Any] | None:
        """`{}`, or MessageRetentionPeriod in days: "You can set a retention period from 1 to 365
        days" (AWS::SNS::Topic ArchivePolicy; SNS developer guide, message archiving and replay)."""
        if not policy:
            return policy
        if set(policy) != {"MessageRetentionPeriod"}:
            raise ValueError("an archive policy is {MessageRetentionPeriod: DAYS}, or {} for none")
        days = policy["MessageRetentionPeriod"]
        if is_unresolved(days):
            return policy
        text = str(days)
        if isinstance(days, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_ARCHIVE_DAYS:
            raise ValueError(
                f"an archive keeps messages 1 to {MAX_ARCHIVE_DAYS} days: MessageRetentionPeriod is a "
                "whole number of days in that range"
            )
        return policy

    @field_validator("signature_version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _topic_type_options(self) -> TopicSpec:
        fifo_only = [f for f in FIFO_ONLY if getattr(self, f) not in (None, {}) and not self.fifo]
        if fifo_only:
            raise ValueError(f"{', '.join(fifo_only)}: only for a FIFO topic (fifo: true)")
        standard_only = [f for f in STANDARD_ONLY if getattr(self, f) is not None and self.fifo]
        if standard_only:
            raise ValueError(f"{', '.join(standard_only)}: only for a standard topic")
        return self

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if is_unresolved(name):
            return name
        base = name.removesuffix(_FIFO_SUFFIX)
        if not _TOPIC_NAME.fullmatch(base) or len(name) > 256:
            raise ValueError("must be 1-256 letters, digits, '-' or '_' (a FIFO topic ends with '.fifo')")
        return name

    @field_validator("display_name")
    @classmethod
    def _short_display_name(cls, value: str | None) -> str | None:
        if value is not None and not is_unresolved(value) and len(value) > 100:
            raise ValueError(f"at most 100 characters (got {len(value)})")
        return value


def _list_topics(ctx: AwsContext, prefix: str) -> list[str]:
    topics = read_pages(ctx.client("sns"), "list_topics", "Topics")
    return names_with_prefix([t["TopicArn"].rsplit(":", 1)[-1] for t in topics], prefix)


@register
class Topics(Reconciler):
    meta = KindMeta(
        kind="sns_topics",
        model=TopicSpec,
        title="SNS topic",
        attributes=("name", "arn"),
        force_new=frozenset({"name", "fifo"}),
        lister=_list_topics,
        tag_api=TagApi("sns", "tag_resource", "untag_resource", "ResourceArn"),
        actions=KindActions(
            listing=frozenset({"sns:ListTopics"}),
            read=frozenset({"sns:GetTopicAttributes", "sns:ListTagsForResource"}),
            write=frozenset(
                {"sns:CreateTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"}
            ),
            delete=frozenset({"sns:DeleteTopic"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = with_canonical_policy(state)
        if isinstance(out.get("delivery_status_logging"), Mapping):
            # A protocol with no role and no rate is logging turned off, as a protocol left out.
            out["delivery_status_logging"] = {
                protocol: settings
                for protocol, settings in out["delivery_status_logging"].items()
                if any(value not in (None, "") for value in settings.values())
            }
        return out

    def shape_export(self, config: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
        # Every topic gets AWS's default policy: writing it out would manage it for no reason.
        statements = (config.get("policy") or {}).get("Statement") or []
        if len(statements) == 1 and statements[0].get("Sid") == AWS_DEFAULT_TOPIC_STATEMENT:
            return (
                {k: v for k, v in config.items() if k != "policy"},
                "its access policy is AWS's default: left unmanaged",
            )
        return config, ""

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = sorted(set(map(str, keys)))
        owned, attributes = both(
            lambda: self._owned_topics(ctx, scope.stack), lambda: self._attributes_of(ctx, declared)
        )
        attributes.update(self._attributes_of(ctx, sorted(set(owned) - set(declared))))  # owned, undeclared
        # Topics outside the sweep (unowned, or tagged too recently for it): their own tag read.
        untagged = [name for name in attributes if name not in owned]
        read_tags = concurrently(lambda name: self._tags(ctx, topic_arn(ctx, name)), untagged)
        tags = {**dict(zip(untagged, read_tags, strict=True)), **owned}
        return {
            name: self._live(name, topic_arn(ctx, name), attributes[name], tags[name])
            for name in sorted(attributes)
        }

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        # CreateTopic on an existing name ignores new attributes and tags: the engine calls this
        # only for a topic its read did not find.
        state = desired.state
        attributes = initial_attributes(state, TOPIC_ATTRIBUTES)
        if state["fifo"]:
            attributes["FifoTopic"] = "true"
        attributes.update(feedback_attributes(state.get("delivery_status_logging") or {}, {}))
        try:
            arn = ctx.client("sns").create_topic(
                Name=state["name"], Attributes=attributes, Tags=tags_to_list(desired.tags)
            )["TopicArn"]
        except ClientError as error:
            # A namesake with other tags (SNS: "Topic already exists with different tags"); the
            # same request again, e.g. after a lost response, is answered with the topic's ARN.
            if error_code(error) != "InvalidParameter" or "already exists" not in str(error):
                raise
            arn = topic_arn(ctx, state["name"])
            claim_after_lost_create(f"SNS topic {state['name']}", self._tags(ctx, arn), desired.tags)
        return Live(desired.key, dict(state), self._attrs(state["name"], arn), dict(desired.tags), arn)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        sns = ctx.client("sns")

        def set_attribute(name: str, value: str) -> None:
            sns.set_topic_attributes(TopicArn=live.handle, AttributeName=name, AttributeValue=value)

        changed = [f for f in TOPIC_ATTRIBUTES if delta.different_at(f)]
        state = set_attributes(set_attribute, TOPIC_ATTRIBUTES, changed, desired.state, live.state)
        if delta.different_at("delivery_status_logging"):
            wanted = desired.state["delivery_status_logging"]
            for name, value in feedback_attributes(wanted, live.state["delivery_status_logging"]).items():
                set_attribute(name, value)
            state["delivery_status_logging"] = wanted
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        # AWS deletes the topic's subscriptions with it; DeleteTopic on a gone topic succeeds.
        ctx.client("sns").delete_topic(TopicArn=live.handle)

    # reading ----------------------------------------------------------------------------------
    @staticmethod
    def _owned_topics(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
        """Name -> tags of every topic in the region carrying this stack's owner tag (the run's sweep)."""
        owned: dict[str, dict[str, str]] = {}
        for arn, tags in owned_of(ctx, stack, "sns").items():
            name = topic_name(arn)
            if name is not None:
                owned[name] = tags
        return owned

    def _attributes_of(self, ctx: AwsContext, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """{name: attributes} of the named topics that exist, a few at a time."""
        arns = {name: topic_arn(ctx, name) for name in names}  # the account id is looked up once, here
        found = concurrently(lambda name: self._attributes(ctx, arns[name]), names)
        return {name: found_ for name, found_ in zip(names, found, strict=True) if found_ is not None}

    @staticmethod
    def _attributes(ctx: AwsContext, arn: str) -> dict[str, str] | None:
        return unless_gone(
            lambda: dict(ctx.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]), "NotFound"
        )

    @staticmethod
    def _tags(ctx: AwsContext, arn: str) -> dict[str, str]:
        return tags_from_list(ctx.client("sns").list_tags_for_resource(ResourceArn=arn).get("Tags"))

    def _live(self, name: str, arn: str, attributes: Mapping[str, str], tags: dict[str, str]) -> Live:
        state = {
            "name": name,
            "display_name": attributes.get("DisplayName", ""),
            "fifo": is_true(attributes.get("FifoTopic")),
            "kms_master_key_id": attributes.get("KmsMasterKeyId", ""),
            "policy": parsed_json(attributes.get("Policy")),
            "delivery_policy": parsed_json(attributes.get("DeliveryPolicy")),
            # GetTopicAttributes leaves out an attribute on its default: "If the API response does not
            # include the SignatureVersion attribute, ... the SignatureVersion for the topic has value 1."
            "signature_version": attributes.get("SignatureVersion", "1"),
            "delivery_status_logging": feedback_state(attributes),
        }
        fifo = state["fifo"]
        state["content_based_deduplication"] = (
            is_true(attributes.get("ContentBasedDeduplication")) if fifo else None
        )
        state["fifo_throughput_scope"] = attributes.get("FifoThroughputScope", "Topic") if fifo else None
        state["archive_policy"] = parsed_json(attributes.get("ArchivePolicy")) if fifo else None
        state["tracing_config"] = None if fifo else attributes.get("TracingConfig", "PassThrough")
        return Live(name, self.canonical(state), self._attrs(name, arn), tags, arn)

    @staticmethod
    def _attrs(name: str, arn: str) -> dict[str, Any]:
        return {"name": name, "arn": arn}


# Subscriptions ---------------------------------------------------------------------------------

Protocol = Literal["email", "email-json", "http", "https", "sqs", "lambda", "sms", "application", "firehose"]
FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]

_ARN = r"arn:aws(?:-[a-z]+)*:"
_ACCOUNT_REGION = r"[a-z0-9-]+:\d{12}:"
_EMAIL = (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"), "an email address")
_ENDPOINT_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "email": _EMAIL,
    "email-json": _EMAIL,
    "sms": (re.compile(r"\+[1-9][0-9]{1,14}"), "a phone number in E.164 form (+821012345678)"),
    "sqs": (
        re.compile(_ARN + "sqs:" + _ACCOUNT_REGION + r"[A-Za-z0-9_-]{1,80}(?:\.fifo)?"),
        "an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:QUEUE)",
    ),
    "lambda": (
        re.compile(_ARN + "lambda:" + _ACCOUNT_REGION + r"function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]+)?"),
        "a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
    ),
    "application": (
        re.compile(_ARN + "sns:" + _ACCOUNT_REGION + r"endpoint/\S+"),
        "an SNS platform endpoint ARN",
    ),
    "firehose": (
        re.compile(_ARN + "firehose:" + _ACCOUNT_REGION + r"deliverystream/[A-Za-z0-9_.-]{1,64}"),
        "a Firehose delivery stream ARN",
    ),
}
_RAW_DELIVERY_PROTOCOLS = frozenset({"http", "https", "sqs", "firehose"})
_DOCUMENT_FIELDS = ("filter_policy", "redrive_policy", "delivery_policy", "replay_policy")
_DELIVERY_POLICY_PROTOCOLS = frozenset({"http", "https"})


def _only_for_protocols(protocols: frozenset[str], rule: str) -> AfterValidator:
    """The check of a subscription field that applies to some protocols only: "RULE, not PROTOCOL"
    when the subscription's protocol is another."""

    def check(value: Any, info: ValidationInfo) -> Any:
        protocol = info.data.get("protocol")
        if protocol is not None and protocol not in protocols:
            raise ValueError(f"{rule}, not {protocol}")
        return value

    return AfterValidator(check)


RawMessageDelivery = Annotated[
    bool,
    _only_for_protocols(
        _RAW_DELIVERY_PROTOCOLS, "only applies to http, https, sqs and firehose subscriptions"
    ),
]
DeliveryPolicy = Annotated[
    dict[str, Any],
    _only_for_protocols(
        _DELIVERY_POLICY_PROTOCOLS, "a subscription's delivery policy applies to http and https"
    ),
    AfterValidator(check_subscription_delivery_policy),
]
_PENDING_ARNS = frozenset({"PendingConfirmation", "pending confirmation"})
_DELETED_ARN = "Deleted"  # shown for a while after a pending subscription was removed
PENDING_NOTE = "awaiting confirmation"

# Spec field -> SNS subscription attribute, in the order they are set (see _ordered_changes).
SUBSCRIPTION_ATTRIBUTES = {
    "raw_message_delivery": "RawMessageDelivery",
    "filter_policy": "FilterPolicy",
    "filter_policy_scope": "FilterPolicyScope",
    "redrive_policy": "RedrivePolicy",
    "subscription_role_arn": "SubscriptionRoleArn",
    "delivery_policy": "DeliveryPolicy",
    "replay_policy": "ReplayPolicy",
}
REPLAY_POINT_TYPES = ("Timestamp",)
"""ReplayPolicy PointType values: a replay starts (and may end) at a time in the topic's archive."""
REPLAY_POLICY_KEYS = frozenset({"PointType", "StartingPoint", "EndingPoint"})


def check_replay_policy(policy: Mapping[str, Any]) -> None:
    """A replay policy as SNS documents it for FIFO topic subscribers ("Amazon SNS message replay
    for FIFO topic subscribers", SNS developer guide): PointType Timestamp, a StartingPoint and an
    optional EndingPoint, both ISO 8601 times, the end after the start."""
    unknown = sorted(set(policy) - REPLAY_POLICY_KEYS)
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r}; a replay policy has PointType, StartingPoint, EndingPoint"
        )
    if policy.get("PointType") not in REPLAY_POINT_TYPES:
        raise ValueError("PointType must be Timestamp")
    points = {k: policy[k] for k in ("StartingPoint", "EndingPoint") if policy.get(k) is not None}
    if "StartingPoint" not in points:
        raise ValueError("needs StartingPoint, the time the replay starts from")
    times: dict[str, datetime] = {}
    for key, value in points.items():
        if is_unresolved(str(value)):
            return
        try:
            times[key] = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{key} must be an ISO 8601 time, e.g. 2026-01-31T08:00:00Z") from None
        if times[key].tzinfo is None:
            raise ValueError(f"{key} needs a time zone, e.g. 2026-01-31T08:00:00Z")
    if "EndingPoint" in times and times["EndingPoint"] <= times["StartingPoint"]:
        raise ValueError("EndingPoint must be after StartingPoint")


def endpoint_problem(protocol: str, endpoint: str) -> str | None:
    """Why `endpoint` does not suit `protocol`, or None. Never quotes the endpoint (a secret)."""
    if protocol in ("http", "https"):
        url = urlsplit(endpoint)
        if url.scheme != protocol or not url.netloc or any(c.isspace() for c in endpoint):
            return f"must be a URL starting with {protocol}://"
        return None
    pattern, meaning = _ENDPOINT_FORMS[protocol]
    return None if pattern.fullmatch(endpoint) else f"must be {meaning} for protocol {protocol}"


def endpoint_fingerprint(endpoint: str) -> str:
    """Stands for the endpoint in keys: equal endpoints give equal keys, and none is shown."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:16]


class SubscriptionSpec(SpecModel):
    """A subscription of an endpoint to its parent topic. It has no name: protocol and endpoint
    identify it, so changing either makes a new subscription (the old one is removed)."""

    # The endpoint may be a secret: never echo the input in validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    protocol: Protocol
    """Delivery protocol."""
    endpoint: str = Field(repr=False)
    """Where messages go, in the protocol's form: an email address (email, email-json), a URL
    (http, https), a queue ARN (sqs; `${sqs_queues.NAME.arn}` for a queue of this spec, which plan
    derives from its name), a function ARN (lambda; `${lambda_functions.NAME.arn}` likewise), an
    E.164 number (sms), a platform endpoint ARN (application) or a delivery stream ARN (firehose).
    Always masked in output."""
    filter_policy: dict[str, Any] | None = None
    """Filter policy as a mapping: only matching messages are delivered; `{}` removes it."""
    filter_policy_scope: FilterPolicyScope | None = None
    """What the filter policy applies to (AWS's default: MessageAttributes)."""
    raw_message_delivery: RawMessageDelivery | None = None
    """Deliver the message body without the SNS envelope (http, https, sqs and firehose only)."""
    redrive_policy: dict[str, Any] | None = None
    """Dead-letter queue for undeliverable messages, e.g. `{deadLetterTargetArn: ARN}`; `{}`
    removes it."""
    subscription_role_arn: Annotated[str, ROLE_ARN] | None = None
    """IAM role SNS assumes to write to the delivery stream (firehose only, and required there)."""
    delivery_policy: DeliveryPolicy | None = None
    """Delivery policy of this HTTP/S subscription (overrides the topic's), e.g.
    `{healthyRetryPolicy: {numRetries: 5}}`, checked as SNS documents it (healthyRetryPolicy,
    throttlePolicy, requestPolicy); `{}` removes it. Unset: not managed."""
    replay_policy: dict[str, Any] | None = None
    """FIFO topics with an archive policy only: replay archived messages to this subscription, e.g.
    `{PointType: Timestamp, StartingPoint: "2026-01-31T08:00:00Z", EndingPoint: ...}` (a change
    starts a new replay). Unset: not managed."""

    @field_validator("replay_policy")
    @classmethod
    def _replay_policy(cls, policy: dict[str, Any] | None) -> dict[str, Any] | None:
        if policy:
            check_replay_policy(policy)
        return policy

    @field_validator("endpoint")
    @classmethod
    def _endpoint_suits_protocol(cls, endpoint: str, info: ValidationInfo) -> str:
        protocol = info.data.get("protocol")
        if protocol is None or is_unresolved(endpoint):
            return endpoint
        problem = endpoint_problem(protocol, endpoint)
        if problem:
            raise ValueError(problem)
        return endpoint

    @field_validator("filter_policy_scope")
    @classmethod
    def _scope_needs_policy(cls, scope: str | None, info: ValidationInfo) -> str | None:
        if scope is not None and not info.data.get("filter_policy"):
            raise ValueError("needs a non-empty filter_policy")
        return scope

    @field_validator("subscription_role_arn")
    @classmethod
    def _role_for_firehose(cls, role: str | None, info: ValidationInfo) -> str | None:
        protocol = info.data.get("protocol")
        if protocol == "firehose" and role is None:
            raise ValueError("a firehose subscription needs subscription_role_arn")
        if protocol not in (None, "firehose") and role is not None:
            raise ValueError("only applies to firehose subscriptions")
        return role


@register
class Subscriptions(Reconciler):
    meta = KindMeta(
        kind="subscriptions",
        model=SubscriptionSpec,
        title="SNS subscription",
        identity="endpoint",
        attributes=("arn",),
        force_new=frozenset({"protocol", "endpoint"}),
        taggable=False,
        parent="sns_topics",
        sensitive_fields=frozenset({"endpoint"}),
        actions=KindActions(
            read=frozenset({"sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes"}),
            write=frozenset(
                {"sns:Subscribe", "sns:SetSubscriptionAttributes", "sns:GetSubscriptionAttributes"}
            ),
            delete=frozenset({"sns:Unsubscribe"}),
        ),
    )

    def key(self, state: Mapping[str, Any], parent_key: Key | None) -> Key:
        return self._key(parent_key, state["protocol"], state["endpoint"])

    def parent_problems(self, config: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, str]:
        """SNS takes a replay policy only for a FIFO topic's subscription ("The following attributes
        apply only to FIFO topics: ReplayPolicy", Subscribe and SetSubscriptionAttributes, SNS API
        reference): refused here, before any call, rather than by AWS halfway through an apply."""
        if config.get("replay_policy") is not None and parent.get("fifo") is False:
            topic = parent.get("name")
            why = f"SNS replays messages only to a FIFO topic's subscriptions: {topic} is not FIFO"
            return {"replay_policy": why}
        return {}

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        documents = {f: document_text(state[f]) for f in _DOCUMENT_FIELDS if f in state}
        return {**state, **documents}

    @staticmethod
    def _key(topic: Key | None, protocol: str, endpoint: Any) -> Key:
        fingerprint = endpoint_fingerprint(endpoint) if isinstance(endpoint, str) else repr(endpoint)
        return (topic, f"{protocol}:{fingerprint}")

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        # The declared subscriptions' topics listed and those subscriptions' attributes read, as
        # the read would (it takes them up): the rest of an owned topic's are the read's.
        self.read(ctx, keys, ReadScope(stack))

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        wanted = set(keys)
        topics = sorted({_topic_of(k) for k in keys} | {str(p) for p in scope.parents})
        arns = [
            scope.parents[topic].attrs["arn"] if topic in scope.parents else topic_arn(ctx, topic)
            for topic in topics
        ]
        to_read: list[tuple[Key, dict[str, Any]]] = []
        listings = concurrently(lambda arn: self._listed(ctx, arn), arns)
        for topic, subscriptions in zip(topics, listings, strict=True):
            for listed in subscriptions:
                key = self._key(topic, listed["Protocol"], listed["Endpoint"])
                if topic in scope.parents or key in wanted:
                    to_read.append((key, listed))
        found = concurrently(lambda item: self._read_one(ctx, *item), to_read)
        return {live.key: live for live in found if live is not None}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        parent_arn = desired.parent.attrs["arn"] if desired.parent else topic_arn(ctx, _topic_of(desired.key))
        attributes = initial_attributes(state, SUBSCRIPTION_ATTRIBUTES)
        arn = ctx.client("sns").subscribe(
            TopicArn=parent_arn,
            Protocol=state["protocol"],
            Endpoint=state["endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        listed = {"SubscriptionArn": arn, "Protocol": state["protocol"], "Endpoint": state["endpoint"]}
        live = self._read_one(ctx, desired.key, listed)
        if live is None:  # deleted in the instant since; report what was asked for
            return Live(desired.key, dict(state), {"arn": arn}, None, arn)
        return live

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        sns = ctx.client("sns")

        def set_attribute(name: str, value: str) -> None:
            sns.set_subscription_attributes(
                SubscriptionArn=live.handle, AttributeName=name, AttributeValue=value
            )

        changed = _ordered_changes(desired.state, delta)
        state = set_attributes(set_attribute, SUBSCRIPTION_ATTRIBUTES, changed, desired.state, live.state)
        return replace(live, state=state, tags=None)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        if live.pending:  # AWS refuses to remove it and drops it after 48 hours itself
            return
        with gone_is_fine("NotFound"):  # already gone, e.g. with its topic
            ctx.client("sns").unsubscribe(SubscriptionArn=live.handle)

    # reading ----------------------------------------------------------------------------------
    @staticmethod
    def _listed(ctx: AwsContext, topic: str) -> list[dict[str, Any]]:
        """The topic's subscriptions as a plan reads them: once, shared by the read ahead and the
        read, and read again once the run writes."""
        return memo_until_write(ctx, f"sns:subscriptions:{topic}", lambda: Subscriptions._list(ctx, topic))

    @staticmethod
    def _list(ctx: AwsContext, topic: str) -> list[dict[str, Any]]:
        """Every subscription of the topic (AWS pages by 100); none when the topic is gone."""
        pages = ctx.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        try:
            return [
                s for page in pages for s in page["Subscriptions"] if s["SubscriptionArn"] != _DELETED_ARN
            ]
        except ClientError as error:
            if error_code(error) == "NotFound":
                return []
            raise

    def _read_one(self, ctx: AwsContext, key: Key, listed: Mapping[str, Any]) -> Live | None:
        arn = listed["SubscriptionArn"]
        if arn in _PENDING_ARNS:
            return self._pending(key, listed, None)
        sns = ctx.client("sns")
        attributes = memo_until_write(  # shared by the read ahead and the read, until the run writes
            ctx,
            f"sns:subscription-attributes:{arn}",
            lambda: unless_gone(
                lambda: sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"], "NotFound"
            ),
        )
        if attributes is None:
            return None
        if is_true(attributes.get("PendingConfirmation")):
            return self._pending(key, listed, arn)
        return Live(key, self._state(listed, attributes), {"arn": arn}, None, arn)

    @staticmethod
    def _pending(key: Key, listed: Mapping[str, Any], arn: str | None) -> Live:
        state = {"protocol": listed["Protocol"], "endpoint": listed["Endpoint"]}
        return Live(key, state, {"arn": arn}, None, arn, pending=PENDING_NOTE)

    @staticmethod
    def _state(listed: Mapping[str, Any], attributes: Mapping[str, str]) -> dict[str, Any]:
        return {
            "protocol": listed["Protocol"],
            "endpoint": listed["Endpoint"],
            "filter_policy": document_text(attributes.get("FilterPolicy", "")),
            # AWS reports a scope only with a policy; without one the default applies.
            "filter_policy_scope": attributes.get("FilterPolicyScope") or "MessageAttributes",
            "raw_message_delivery": is_true(attributes.get("RawMessageDelivery")),
            "redrive_policy": document_text(attributes.get("RedrivePolicy", "")),
            "subscription_role_arn": attributes.get("SubscriptionRoleArn"),
            "delivery_policy": document_text(attributes.get("DeliveryPolicy", "")),
            "replay_policy": document_text(attributes.get("ReplayPolicy", "")),
        }


def _topic_of(key: Key) -> str:
    """The parent topic's name in a subscription key."""
    assert isinstance(key, tuple), f"not a subscription key: {key!r}"
    return str(key[0])


def _ordered_changes(desired: Mapping[str, Any], delta: Delta) -> list[str]:
    """The managed attributes that differ, in an order SNS accepts.

    SNS checks a filter policy against the current scope, and a nested (message body) policy is
    invalid for MessageAttributes: moving to MessageBody, set the scope first; otherwise the
    policy first (a flat policy is valid under either scope).
    """
    changed = [f for f in SUBSCRIPTION_ATTRIBUTES if delta.different_at(f)]
    to_body = desired.get("filter_policy_scope") == "MessageBody"
    if to_body and "filter_policy_scope" in changed:
        changed.remove("filter_policy_scope")
        changed.insert(0, "filter_policy_scope")
    return changed
