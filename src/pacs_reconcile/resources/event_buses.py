"""EventBridge custom event buses (`event_buses`): encryption key, dead-letter queue, logging,
resource policy and tags.

CreateEventBus takes everything but the policy (tags included, so a bus is owned from its first
moment); UpdateEventBus changes the description, KMS key, dead-letter queue and logging in place
and is sent with all four (what the spec leaves unmanaged keeps its live value); the resource
policy is PutPermission(Policy) and RemovePermission(RemoveAllPermissions) (EventBridge API
reference). A custom bus name has no `/` (partner buses' do) and is never `default`.

Reads: DescribeEventBus per bus (ListEventBuses lacks the key, dead-letter queue and logging),
a few at a time; tags from the run's owner-tag sweep (ListTagsForResource for a declared bus
outside it). A bus DescribeEventBus answers without LogConfig logs nothing (Level OFF).

Rules name their bus by name or by reference (`event_rules.X.event_bus: ${event_buses.audit.name}`):
a rule's identity holds the bus name, so the reference is resolved when the spec is loaded to the
name the bus's spec sets (KindMeta.key_fields), and it still orders the rule after the bus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..policy import with_canonical_policy
from ._fields import PolicyDocument, matching
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel
from .common import (
    arn_resource,
    both,
    claim_after_lost_create,
    concurrently,
    gone_is_fine,
    names_with_prefix,
    owned_of,
    unless_gone,
)
from .events import DEFAULT_BUS
from .kind import KindActions, KindMeta, TagApi
from .registry import register

LIST_PAGE_SIZE = 100
"""ListEventBuses' maximum Limit."""
_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,256}")
_QUEUE_ARN_OR_NONE = re.compile(r"(arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?)?")
_KMS_KEY = re.compile(r"[a-zA-Z0-9_\-/:]{0,2048}")
"""CreateEventBus KmsKeyIdentifier: a key ARN, key id, alias or alias ARN."""
LOG_OFF = {"include_detail": "NONE", "level": "OFF"}
"""A bus without a LogConfig sends no logs."""


class LogConfigSpec(SpecModel):
    """What the bus logs (EventBridge LogConfig)."""

    level: Literal["OFF", "ERROR", "INFO", "TRACE"] = "OFF"
    """How much: OFF, ERROR, INFO or TRACE."""
    include_detail: Literal["NONE", "FULL"] = "NONE"
    """Whether log records carry the event and target details (FULL) or not (NONE)."""


class EventBusSpec(SpecModel):
    """A custom EventBridge event bus."""

    name: Annotated[str, matching(_NAME, "a custom event bus name is 1-256 letters, digits, '.', '-' or '_'")]
    """Bus name (1-256 letters, digits, '.', '-' or '_'; not `default`, the account's own bus).
    Changing it replaces the bus."""
    description: str = Field(default="", max_length=512)
    """What the bus is for."""
    kms_key_identifier: (
        Annotated[str, matching(_KMS_KEY, "must be a KMS key ARN, key id, alias or alias ARN")] | None
    ) = None
    """KMS customer managed key encrypting the bus's events, e.g. `${kms_keys.events.arn}`; ""
    for the AWS owned key. Unset: not managed."""
    dead_letter_arn: (
        Annotated[
            str,
            matching(
                _QUEUE_ARN_OR_NONE, "a dead-letter queue is an SQS queue ARN, e.g. ${sqs_queues.NAME.arn}"
            ),
        ]
        | None
    ) = None
    """SQS queue receiving the events the bus cannot process (e.g. its KMS key disabled), e.g.
    `${sqs_queues.events_dlq.arn}`; "" for none. Unset: not managed."""
    log_config: LogConfigSpec | None = None
    """Logging of the events the bus handles. Unset: not managed (AWS's default: no logs)."""
    policy: PolicyDocument | None = None
    """The bus's resource policy as a mapping (an IAM policy document), e.g. to let another
    account put events; compared by meaning; `{}` for none. Unset: not managed."""

    @field_validator("name")
    @classmethod
    def _not_default(cls, value: str) -> str:
        if value == DEFAULT_BUS:
            raise ValueError("`default` is the account's own event bus: a custom bus needs another name")
        return value


def _list_buses(ctx: AwsContext, prefix: str) -> list[str]:
    """Custom buses whose name starts with `prefix` (not `default`, not partner buses: theirs hold
    a '/')."""
    # ListEventBuses has no botocore paginator: its NextToken is followed here.
    events = ctx.client("events")
    params: dict[str, Any] = {"Limit": LIST_PAGE_SIZE} | ({"NamePrefix": prefix} if prefix else {})
    buses: list[dict[str, Any]] = []
    while True:
        page = events.list_event_buses(**params)
        buses.extend(page.get("EventBuses", []))
        if not page.get("NextToken"):
            break
        params["NextToken"] = page["NextToken"]
    names = [b["Name"] for b in buses if b["Name"] != DEFAULT_BUS and "/" not in b["Name"]]
    return names_with_prefix(names, prefix)


@register
class EventBuses(Reconciler):
    meta = KindMeta(
        kind="event_buses",
        model=EventBusSpec,
        title="EventBridge event bus",
        attributes=("name", "arn"),
        force_new=frozenset({"name"}),
        lister=_list_buses,
        tag_api=TagApi("events", "tag_resource", "untag_resource", "ResourceARN", resource_attribute="arn"),
        actions=KindActions(
            read=frozenset({"events:DescribeEventBus", "events:ListTagsForResource"}),
            write=frozenset(
                {
                    "events:CreateEventBus",
                    "events:UpdateEventBus",
                    "events:PutPermission",
                    "events:RemovePermission",
                    "events:TagResource",
                    "events:UntagResource",
                }
            ),
            delete=frozenset({"events:DeleteEventBus"}),
            listing=frozenset({"events:ListEventBuses"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = with_canonical_policy(state)
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = sorted({str(k) for k in keys})
        owned, found = both(
            lambda: {
                arn_resource(a).removeprefix("event-bus/"): t
                for a, t in owned_of(ctx, scope.stack, "events", "event-bus/").items()
            },
            lambda: self._describe(ctx, declared),
        )
        found.update(self._describe(ctx, sorted(set(owned) - set(declared))))
        untagged = [name for name in found if name not in owned]
        read_tags = concurrently(lambda name: _tags(ctx, str(found[name]["Arn"])), untagged)
        tags = {**dict(zip(untagged, read_tags, strict=True)), **owned}
        return {name: self._live(bus, tags[name]) for name, bus in found.items()}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        request: dict[str, Any] = {
            "Name": state["name"],
            "Description": state["description"],
            "Tags": tags_to_list(desired.tags),
        }
        if state.get("kms_key_identifier"):
            request["KmsKeyIdentifier"] = state["kms_key_identifier"]
        if state.get("dead_letter_arn"):
            request["DeadLetterConfig"] = {"Arn": state["dead_letter_arn"]}
        if state.get("log_config"):
            request["LogConfig"] = _log_request(state["log_config"])
        events = ctx.client("events")
        try:
            arn = events.create_event_bus(**request)["EventBusArn"]
        except events.exceptions.ResourceAlreadyExistsException:  # our own first attempt, response lost?
            arn = events.describe_event_bus(Name=state["name"])["Arn"]
            claim_after_lost_create(f"EventBridge event bus {state['name']}", _tags(ctx, arn), desired.tags)
        if state.get("policy"):
            events.put_permission(EventBusName=state["name"], Policy=json.dumps(state["policy"]))
        live_state = {
            **state,
            "kms_key_identifier": state.get("kms_key_identifier") or "",
            "dead_letter_arn": state.get("dead_letter_arn") or "",
            "log_config": state.get("log_config") or LOG_OFF,
            "policy": state.get("policy") or {},
        }
        return Live(
            desired.key, self.canonical(live_state), {"name": state["name"], "arn": arn}, dict(desired.tags)
        )

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        events = ctx.client("events")
        name = live.state["name"]
        managed = ("description", "kms_key_identifier", "dead_letter_arn", "log_config")
        state = {**live.state, **{f: desired.state[f] for f in (*managed, "policy") if delta.different_at(f)}}
        if any(delta.different_at(f) for f in managed):
            # UpdateEventBus is sent whole: the fields the spec does not manage keep their live values.
            # A dead-letter queue is removed with `DeadLetterConfig={}`: the object's Arn is optional
            # (UpdateEventBus and DeadLetterConfig, EventBridge API reference), and a field left out
            # keeps its value (hashicorp/terraform-provider-aws internal/service/events/bus.go: "To
            # unset the description, the only way is to explicitly set it to the empty string").
            # AWS documents no way of clearing the queue; none was found reported either way.
            events.update_event_bus(
                Name=name,
                Description=state["description"],
                KmsKeyIdentifier=state["kms_key_identifier"],
                DeadLetterConfig={"Arn": state["dead_letter_arn"]} if state["dead_letter_arn"] else {},
                LogConfig=_log_request(state["log_config"]),
            )
        if delta.different_at("policy"):
            if state["policy"]:
                events.put_permission(EventBusName=name, Policy=json.dumps(state["policy"]))
            else:
                events.remove_permission(EventBusName=name, RemoveAllPermissions=True)
        return Live(live.key, self.canonical(state), dict(live.attrs), live.tags, live.handle, live.notes)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        # DeleteEventBus on a bus that is gone succeeds; its rules must be deleted first (the
        # engine deletes rules, which name the bus, before it).
        with gone_is_fine("ResourceNotFoundException"):
            ctx.client("events").delete_event_bus(Name=live.state["name"])

    @staticmethod
    def _describe(ctx: AwsContext, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = concurrently(lambda name: _bus(ctx, name), names)
        return {name: bus for name, bus in zip(names, found, strict=True) if bus is not None}

    def _live(self, bus: Mapping[str, Any], tags: dict[str, str]) -> Live:
        log = bus.get("LogConfig") or {}
        policy = bus.get("Policy")
        state = {
            "name": bus["Name"],
            "description": bus.get("Description") or "",
            "kms_key_identifier": bus.get("KmsKeyIdentifier") or "",
            "dead_letter_arn": (bus.get("DeadLetterConfig") or {}).get("Arn") or "",
            "log_config": {
                "level": log.get("Level") or LOG_OFF["level"],
                "include_detail": log.get("IncludeDetail") or LOG_OFF["include_detail"],
            },
            "policy": json.loads(policy) if policy else {},
        }
        attrs = {"name": bus["Name"], "arn": bus["Arn"]}
        return Live(bus["Name"], self.canonical(state), attrs, tags)


def _bus(ctx: AwsContext, name: str) -> dict[str, Any] | None:
    return unless_gone(
        lambda: dict(ctx.client("events").describe_event_bus(Name=name)), "ResourceNotFoundException"
    )


def _tags(ctx: AwsContext, arn: str) -> dict[str, str]:
    return tags_from_list(ctx.client("events").list_tags_for_resource(ResourceARN=arn).get("Tags"))


def _log_request(log: Mapping[str, Any]) -> dict[str, str]:
    return {"Level": log["level"], "IncludeDetail": log["include_detail"]}
