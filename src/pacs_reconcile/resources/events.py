"""EventBridge: rules (a schedule or an event pattern) and their targets.

Rules are read with ListRules per event bus (100 a page), which carries every field the spec
manages. The tagging API does not list rules here (moto), so ownership needs each listed rule's
tags (ListTagsForResource, a few at a time), as for dashboards; AWS-managed rules are skipped.
Targets are listed per rule. PutTargets and RemoveTargets can fail for some entries while the
call succeeds (AWS-NOTES item 9): FailedEntryCount is checked and the failed entries named.

A rule is identified by its name on its bus: the key is NAME on the default bus, BUS/NAME on
another one (a rule name never holds a '/').
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, field_validator, model_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import AwsError
from ._fields import ROLE_ARN_OR_EMPTY, matching, matching_or_empty
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    arn_resource,
    chunks,
    claim_after_lost_create,
    concurrently,
    declared_then_owned,
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

DEFAULT_BUS = "default"
LIST_PAGE_SIZE = 100
"""The API's maximum Limit for ListRules and ListTargetsByRule."""
PAGING = {"PageSize": LIST_PAGE_SIZE}
TARGETS_PER_CALL = 100
"""RemoveTargets takes at most 100 ids a call."""
MAX_INPUT = 8192

_RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
_TARGET_ID = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
_QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?")
DeadLetterQueueArn = Annotated[
    str,
    matching_or_empty(
        _QUEUE_ARN, "a dead-letter target is an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
    ),
]
_RATE = re.compile(r"rate\((\d+) ([a-z]+)\)")
_RATE_UNITS = {"minute": "minutes", "hour": "hours", "day": "days"}
_CRON = re.compile(r"cron\(([^()]*)\)")
# fmt: off
_CRON_FIELDS = (  # name, allowed characters, largest plain number
    ("minutes", re.compile(r"[0-9,*/-]+"), 59),
    ("hours", re.compile(r"[0-9,*/-]+"), 23),
    ("day-of-month", re.compile(r"[0-9,*/?LW-]+"), 31),
    ("month", re.compile(r"[0-9A-Za-z,*/-]+"), None),
    ("day-of-week", re.compile(r"[0-9A-Za-z,*?L#-]+"), None),
    ("year", re.compile(r"[0-9,*/-]+"), None),
)
# fmt: on


# Validators ------------------------------------------------------------------------------------


def check_schedule(expression: str) -> str:
    """rate(N unit) with the unit singular for 1 and plural otherwise, or a 6-field cron(...)."""
    if is_unresolved(expression):
        return expression
    rate = _RATE.fullmatch(expression)
    if rate:
        _check_rate(int(rate.group(1)), rate.group(2))
    elif _CRON.fullmatch(expression):
        _check_cron(expression[5:-1].split())
    else:
        raise ValueError(
            "must be rate(VALUE UNIT), e.g. rate(5 minutes), or cron(MIN HOUR DAY MONTH WEEKDAY YEAR), "
            "e.g. cron(0 12 * * ? *)"
        )
    return expression


def _check_rate(value: int, unit: str) -> None:
    singular = {v: k for k, v in _RATE_UNITS.items()}.get(unit, unit)
    if singular not in _RATE_UNITS:
        raise ValueError(f"unknown rate unit {unit!r}: use minute(s), hour(s) or day(s)")
    if value < 1:
        raise ValueError("a rate must be at least 1")
    wanted = singular if value == 1 else _RATE_UNITS[singular]
    if unit != wanted:
        number = "singular for 1" if value == 1 else "plural above 1"
        raise ValueError(f"write rate({value} {wanted}): the unit is {number}")


def _check_cron(fields: list[str]) -> None:
    if len(fields) != len(_CRON_FIELDS):
        names = " ".join(name for name, _, _ in _CRON_FIELDS)
        raise ValueError(f"cron needs 6 fields ({names}), got {len(fields)}")
    for text, (name, allowed, largest) in zip(fields, _CRON_FIELDS, strict=True):
        if not allowed.fullmatch(text):
            raise ValueError(f"cron {name} field {text!r} has characters it does not allow")
        too_big = [n for n in re.findall(r"\d+", text) if largest is not None and int(n) > largest]
        if too_big:
            raise ValueError(f"cron {name} field {text!r}: {too_big[0]} is above {largest}")
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("cron: exactly one of day-of-month and day-of-week must be '?'")


def rule_key(bus: str, name: str) -> str:
    return name if bus == DEFAULT_BUS else f"{bus}/{name}"


def split_rule_key(key: Key) -> tuple[str, str]:
    """(bus, name) of a rule key."""
    bus, _, name = str(key).rpartition("/")
    return bus or DEFAULT_BUS, name


# Rules -----------------------------------------------------------------------------------------


class RuleSpec(SpecModel):
    """An EventBridge rule: on a schedule, or when an event matches a pattern."""

    name: Annotated[str, matching(_RULE_NAME, "rule names are 1-64 letters, digits, '.', '-' or '_'")]
    """Rule name (1-64 letters, digits, '.', '-' or '_'), unique on its bus. Changing it replaces
    the rule."""
    description: str = Field(default="", max_length=512)
    """What the rule is for."""
    schedule: Annotated[
        str | None, AfterValidator(lambda value: None if value is None else check_schedule(value))
    ] = None
    """When to run: `rate(5 minutes)` (the unit singular for 1: `rate(1 hour)`) or a 6-field
    `cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)` in UTC, one of the day fields `?`.
    Give either this or event_pattern; schedules only run on the default bus."""
    event_pattern: dict[str, Any] | None = None
    """Which events match, as a mapping, e.g. `{source: [aws.ecs], detail-type: [ECS Task State
    Change]}`. Compared as parsed JSON."""
    state: Literal["ENABLED", "DISABLED"] = "ENABLED"
    """Whether the rule runs."""
    event_bus: Annotated[
        str,
        matching(_BUS_NAME, "an event bus name is 1-256 letters, digits, '/', '.', '-' or '_' (not an ARN)"),
    ] = DEFAULT_BUS
    """The event bus's name, e.g. `pacs-audit`, or `${event_buses.NAME.name}` for a bus of this
    spec (resolved when the spec is loaded, as the bus is part of the rule's identity; the rule is
    created after the bus). Changing it replaces the rule."""
    role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] | None = None
    """Role the rule uses (PutRule RoleArn), e.g. to send events to a bus of another account.
    Unset: not managed."""

    @field_validator("event_pattern")
    @classmethod
    def _valid_pattern(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not value:
            raise ValueError("an event pattern needs at least one field to match")
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> RuleSpec:
        if (self.schedule is None) == (self.event_pattern is None):
            raise ValueError("give exactly one of schedule and event_pattern")
        if self.schedule is not None and self.event_bus != DEFAULT_BUS:
            raise ValueError("schedules only run on the default event bus")
        return self


def _list_rules(ctx: AwsContext, prefix: str) -> list[str]:
    # The default bus only (a rule on another bus is named BUS/NAME in the spec's keys).
    params = {"NamePrefix": prefix} if prefix else {}
    rules = read_pages(ctx.client("events"), "list_rules", "Rules", **params)
    return names_with_prefix([r["Name"] for r in rules if not r.get("ManagedBy")], prefix)


@register
class Rules(Reconciler):
    meta = KindMeta(
        kind="event_rules",
        model=RuleSpec,
        title="EventBridge rule",
        attributes=("name", "arn"),
        key_fields=("event_bus",),
        force_new=frozenset({"name", "event_bus"}),
        lister=_list_rules,
        tag_api=TagApi("events", "tag_resource", "untag_resource", "ResourceARN", resource_attribute="arn"),
        actions=KindActions(
            read=frozenset({"events:ListRules", "events:ListTagsForResource"}),
            write=frozenset({"events:PutRule", "events:TagResource", "events:UntagResource"}),
            delete=frozenset({"events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule"}),
        ),
    )

    def key(self, state: Mapping[str, Any], parent_key: Key | None) -> Key:
        return rule_key(state.get("event_bus") or DEFAULT_BUS, state["name"])

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # A rule has one trigger: the other is "none", compared as such (a hand-added one shows).
        out = dict(state)
        if "schedule" in out and out["schedule"] is None:
            out["schedule"] = ""
        if "event_pattern" in out and out["event_pattern"] is None:
            out["event_pattern"] = {}
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        wanted = {str(k) for k in keys}

        def read_buses(buses: list[str]) -> dict[str, list[tuple[dict[str, Any], dict[str, str] | None]]]:
            """Per bus, its rules (those a service manages only when declared) with their tags."""
            listed = {bus: self._list(ctx, bus) for bus in buses}
            candidates = [
                (bus, rule)
                for bus, rules in listed.items()
                for rule in rules
                if not rule.get("ManagedBy") or _rule_key_of(rule) in wanted
            ]
            tag_sets = concurrently(lambda candidate: self._tags(ctx, candidate[1]["Arn"]), candidates)
            found: dict[str, list[tuple[dict[str, Any], dict[str, str] | None]]] = {bus: [] for bus in buses}
            for (bus, rule), tags in zip(candidates, tag_sets, strict=True):
                found[bus].append((rule, tags))
            return found

        # The default bus and the buses of the declared rules are read while the sweep runs; then
        # the stack's own buses none names: a rule on one is this stack's even when no key names it
        # (export by owner tag; pruning a rule removed from the spec).
        by_bus = declared_then_owned(
            [DEFAULT_BUS, *(split_rule_key(k)[0] for k in wanted)],
            lambda: (
                arn_resource(arn).removeprefix("event-bus/")
                for arn in owned_of(ctx, scope.stack, "events", "event-bus/")
            ),
            read_buses,
        )
        out: dict[Key, Live] = {}
        for _, rules in sorted(by_bus.items()):
            for rule, tags in rules:
                key = _rule_key_of(rule)
                if tags is not None and (key in wanted or tags.get(OWNER_TAG) == scope.stack):
                    out[key] = self._live(rule, tags)
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        # PutRule creates or replaces: it would silently take over a rule of the same name someone
        # else made since the plan (and a repeat after a lost response is harmless). Look first.
        bus, name = split_rule_key(desired.key)
        path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
        existing = self._tags(ctx, f"arn:{ctx.partition}:events:{ctx.region}:{ctx.account_id}:rule/{path}")
        if existing is not None:
            claim_after_lost_create(f"EventBridge rule {desired.key}", existing, desired.tags)
        request = {**_put_rule_request(desired.state), "Tags": tags_to_list(desired.tags)}
        arn = ctx.client("events").put_rule(**request)["RuleArn"]
        attrs = _rule_attrs(desired.state["name"], arn)
        return Live(desired.key, dict(desired.state), attrs, dict(desired.tags))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # PutRule replaces the whole rule: unchanged (or ignored) fields keep their live values.
        state = {**live.state, **{f: v for f, v in desired.state.items() if delta.different_at(f)}}
        ctx.client("events").put_rule(**_put_rule_request(state))
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        """Remove the rule's targets (AWS refuses to delete a rule that has some), then the rule."""
        events = ctx.client("events")
        bus, name = split_rule_key(live.key)
        with gone_is_fine("ResourceNotFoundException"):
            targets = read_pages(events, "list_targets_by_rule", "Targets", Rule=name, EventBusName=bus)
            ids = [t["Id"] for t in targets]
            for batch in chunks(ids, TARGETS_PER_CALL):
                response = events.remove_targets(Rule=name, EventBusName=bus, Ids=list(batch))
                check_failed_entries(response, "RemoveTargets", str(live.key))
            events.delete_rule(Name=name, EventBusName=bus)

    @staticmethod
    def _list(ctx: AwsContext, bus: str) -> list[dict[str, Any]]:
        paginator = ctx.client("events").get_paginator("list_rules")
        try:
            pages = paginator.paginate(EventBusName=bus, PaginationConfig=PAGING)
            rules = [rule for page in pages for rule in page.get("Rules", [])]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":  # the bus does not exist (yet)
                return []
            raise
        return [{**rule, "EventBusName": rule.get("EventBusName") or bus} for rule in rules]

    @staticmethod
    def _tags(ctx: AwsContext, arn: str) -> dict[str, str] | None:
        events = ctx.client("events")
        found = unless_gone(  # None: deleted since it was listed
            lambda: events.list_tags_for_resource(ResourceARN=arn), "ResourceNotFoundException"
        )
        return None if found is None else tags_from_list(found.get("Tags"))

    def _live(self, rule: Mapping[str, Any], tags: dict[str, str]) -> Live:
        pattern = rule.get("EventPattern")
        state = {
            "name": rule["Name"],
            "description": rule.get("Description") or "",
            "schedule": rule.get("ScheduleExpression") or "",
            "event_pattern": json.loads(pattern) if pattern else {},
            "state": rule.get("State", "ENABLED"),
            "event_bus": rule["EventBusName"],
            "role_arn": rule.get("RoleArn") or "",
        }
        return Live(_rule_key_of(rule), state, _rule_attrs(rule["Name"], rule["Arn"]), tags)


def _rule_key_of(rule: Mapping[str, Any]) -> str:
    return rule_key(str(rule.get("EventBusName") or DEFAULT_BUS), str(rule["Name"]))


def _rule_attrs(name: str, arn: str) -> dict[str, Any]:
    return {"name": name, "arn": arn}


def _put_rule_request(state: Mapping[str, Any]) -> dict[str, Any]:
    """PutRule's parameters for the whole rule (it replaces what it is not given)."""
    request: dict[str, Any] = {
        "Name": state["name"],
        "EventBusName": state["event_bus"],
        "Description": state["description"],
        "State": state["state"],
    }
    if state.get("schedule"):
        request["ScheduleExpression"] = state["schedule"]
    else:
        request["EventPattern"] = json.dumps(state["event_pattern"])
    if state.get("role_arn"):
        request["RoleArn"] = state["role_arn"]
    return request


def check_failed_entries(response: Mapping[str, Any], operation: str, rule: str) -> None:
    """PutTargets/RemoveTargets succeed as calls even when entries fail: raise naming those."""
    failed = response.get("FailedEntries") or []
    count = int(response.get("FailedEntryCount") or len(failed))
    if count:
        detail = "; ".join(
            f"{e.get('TargetId', '?')}: {e.get('ErrorCode', 'Error')} {e.get('ErrorMessage', '')}".rstrip()
            for e in failed
        )
        raise AwsError(operation, f"rule {rule}", f"{count} target(s) failed: {detail or 'no detail given'}")


# Targets (children of a rule) ------------------------------------------------------------------------


class InputTransformerSpec(SpecModel):
    """A document built from the event (EventBridge InputTransformer)."""

    input_paths: dict[str, str] = Field(default_factory=dict, max_length=100)
    """Names for parts of the event, name -> JSON path, e.g. `{state: $.detail.state}`."""
    input_template: str = Field(min_length=1, max_length=MAX_INPUT)
    """The document sent, with `<name>` where a path's value goes, e.g.
    `'{"task": <task>, "state": <state>}'` or a plain text line."""

    @field_validator("input_paths")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if name.upper().startswith("AWS"):
                raise ValueError(f"{name}: a name may not start with AWS (reserved)")
            if not is_unresolved(path) and not path.startswith("$"):
                raise ValueError(f"{name}: {path!r} is not a JSON path (it starts with $)")
        return value


class RetryPolicySpec(SpecModel):
    """Delivery retries of a target (EventBridge RetryPolicy)."""

    maximum_retry_attempts: int = Field(default=185, ge=0, le=185)
    """Retries before the event is dropped or sent to the dead-letter queue (0-185)."""
    maximum_event_age_seconds: int = Field(default=86400, ge=60, le=86400)
    """Seconds an event is retried for (60-86400)."""


class TargetSpec(SpecModel):
    """Where a rule sends what it matches (or its scheduled event)."""

    id: Annotated[str, matching(_TARGET_ID, "target ids are 1-64 letters, digits, '.', '-' or '_'")]
    """Target id, unique within the rule (1-64 letters, digits, '.', '-' or '_')."""
    arn: str = Field(min_length=1, max_length=1600)
    """The target's ARN, e.g. `${lambda_functions.NAME.arn}`."""
    input: dict[str, Any] | None = None
    """A constant JSON document sent instead of the event, as a mapping. Unset: the event itself."""
    role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] | None = None
    """Role EventBridge assumes to reach the target (needed by some target types, not Lambda)."""
    input_transformer: InputTransformerSpec | None = None
    """Send a document built from the event instead of the event (not with `input`). Unset: not
    managed."""
    dead_letter_arn: DeadLetterQueueArn | None = None
    """SQS queue receiving the events that could not be delivered, e.g.
    `arn:aws:sqs:ap-northeast-2:123456789012:pacs-events-dlq`. Unset: not managed; "" for none."""
    retry_policy: RetryPolicySpec | None = None
    """How long and how often delivery is retried. Unset: not managed (AWS's default is 185
    attempts within 24 hours)."""

    @model_validator(mode="after")
    def _one_input(self) -> TargetSpec:
        # Target: Input, InputPath and InputTransformer are mutually exclusive.
        if self.input is not None and self.input_transformer is not None:
            raise ValueError("give at most one of input and input_transformer")
        return self

    @field_validator("input")
    @classmethod
    def _small_input(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > MAX_INPUT:
            raise ValueError(f"the input is above EventBridge's {MAX_INPUT} characters")
        return value


@register
class Targets(Reconciler):
    meta = KindMeta(
        kind="targets",
        model=TargetSpec,
        title="EventBridge target",
        identity="id",
        attributes=("id",),
        taggable=False,
        parent="event_rules",
        actions=KindActions(
            read=frozenset({"events:ListTargetsByRule"}),
            write=frozenset({"events:PutTargets", "events:RemoveTargets"}),
            delete=frozenset({"events:RemoveTargets"}),
            passes_role_to="events.amazonaws.com",
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # No input means the event is sent; no role means none: both compared as such.
        out = dict(state)
        if "input" in out and out["input"] is None:
            out["input"] = {}
        if "role_arn" in out and out["role_arn"] is None:
            out["role_arn"] = ""
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        concurrently(lambda rule: self._listed(ctx, rule), sorted({_target_key(k)[0] for k in keys}))

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        wanted = set(keys)
        rules = sorted({str(p) for p in scope.parents} | {_target_key(k)[0] for k in keys})
        listed = concurrently(lambda rule: self._listed(ctx, rule), rules)
        out: dict[Key, Live] = {}
        for rule, targets in zip(rules, listed, strict=True):
            for target in targets:
                key = (rule, target["Id"])
                if rule in scope.parents or key in wanted:
                    out[key] = self._live(key, target)
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        return self._put(ctx, desired)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return self._put(ctx, desired)  # PutTargets replaces the target with this id

    def delete(self, ctx: AwsContext, live: Live) -> None:
        rule, target_id = _target_key(live.key)
        bus, name = split_rule_key(rule)
        try:
            response = ctx.client("events").remove_targets(Rule=name, EventBusName=bus, Ids=[target_id])
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":  # the rule is gone, and its targets
                return
            raise
        check_failed_entries(response, "RemoveTargets", rule)

    def _put(self, ctx: AwsContext, desired: Desired) -> Live:
        rule, target_id = _target_key(desired.key)
        bus, name = split_rule_key(rule)
        state = desired.state
        target: dict[str, Any] = {"Id": target_id, "Arn": state["arn"]}
        if state.get("input"):
            target["Input"] = json.dumps(state["input"])
        if state.get("role_arn"):
            target["RoleArn"] = state["role_arn"]
        transformer = state.get("input_transformer")
        if transformer:
            target["InputTransformer"] = {"InputTemplate": transformer["input_template"]}
            if transformer["input_paths"]:
                target["InputTransformer"]["InputPathsMap"] = dict(transformer["input_paths"])
        if state.get("dead_letter_arn"):
            target["DeadLetterConfig"] = {"Arn": state["dead_letter_arn"]}
        retry = state.get("retry_policy")
        if retry:
            target["RetryPolicy"] = {
                "MaximumRetryAttempts": retry["maximum_retry_attempts"],
                "MaximumEventAgeInSeconds": retry["maximum_event_age_seconds"],
            }
        response = ctx.client("events").put_targets(Rule=name, EventBusName=bus, Targets=[target])
        check_failed_entries(response, "PutTargets", rule)
        return self._live((rule, target_id), target)

    @staticmethod
    def _listed(ctx: AwsContext, rule: str) -> list[dict[str, Any]]:
        """The rule's targets as a plan reads them: once, shared by the read ahead and the read,
        and read again once the run writes."""
        return memo_until_write(ctx, f"events:targets:{rule}", lambda: Targets._list(ctx, rule))

    @staticmethod
    def _list(ctx: AwsContext, rule: str) -> list[dict[str, Any]]:
        bus, name = split_rule_key(rule)
        paginator = ctx.client("events").get_paginator("list_targets_by_rule")
        try:
            pages = paginator.paginate(Rule=name, EventBusName=bus, PaginationConfig=PAGING)
            return [target for page in pages for target in page.get("Targets", [])]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":  # no such rule: no targets
                return []
            raise

    def _live(self, key: tuple[str, str], target: Mapping[str, Any]) -> Live:
        text = target.get("Input")
        state = {
            "id": target["Id"],
            "arn": target["Arn"],
            "input": json.loads(text) if text else {},
            "role_arn": target.get("RoleArn") or "",
            "input_transformer": _transformer_state(target.get("InputTransformer")),
            "dead_letter_arn": (target.get("DeadLetterConfig") or {}).get("Arn") or "",
            "retry_policy": _retry_state(target.get("RetryPolicy")),
        }
        return Live(key, state, {"id": target["Id"]})


def _transformer_state(transformer: Mapping[str, Any] | None) -> dict[str, Any]:
    if not transformer:
        return {}
    return {
        "input_paths": dict(transformer.get("InputPathsMap") or {}),
        "input_template": transformer.get("InputTemplate", ""),
    }


def _retry_state(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """No RetryPolicy means AWS's default: 185 attempts within 86400 seconds (RetryPolicy)."""
    policy = policy or {}
    return {
        "maximum_retry_attempts": policy.get("MaximumRetryAttempts", 185),
        "maximum_event_age_seconds": policy.get("MaximumEventAgeInSeconds", 86400),
    }


def _target_key(key: Key) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"expected a (rule, target id) key, got {key!r}")
    return str(key[0]), str(key[1])
