"""CloudWatch composite alarms: an alarm whose state is a rule over other alarms' states.

AWS behaviours handled (CloudWatch API reference: PutCompositeAlarm, CompositeAlarm,
DescribeAlarms):
- One PutCompositeAlarm creates or replaces the whole configuration (what is not sent is reset):
  an update sends everything, with what the spec leaves unmanaged taken from the live alarm. Its
  Tags are applied only when it creates the alarm ("If you are using this operation to update an
  existing alarm, any tags you specify in this parameter are ignored"): tags go through
  TagResource/UntagResource, as for metric alarms.
- ActionsEnabled defaults to true ("The default is TRUE"); an alarm without a description has
  no AlarmDescription; the action lists come back empty, not absent.
- ActionConfiguration (tag propagation) is taken as PutMetricAlarm takes it; unset, it is not
  managed and an update resends the live one.
- ActionsSuppressor names an alarm by name or ARN; ActionsSuppressorWaitPeriod and
  ActionsSuppressorExtensionPeriod are "required only when ActionsSuppressor is specified".
- The name is the alarm's identity: a new name is a new alarm (force_new). PutCompositeAlarm
  creates or replaces ("the update completely overwrites the previous configuration of the
  alarm"), so a create first looks for an alarm of the name, composite or metric (names are
  unique across both types), and refuses one that is not its own (AlarmKind.refuse_namesake).
- DescribeAlarms returns metric alarms only unless AlarmTypes asks for composite ones: the
  declared and owned alarms are described once, both types together, and shared with the metric
  alarms (cloudwatch.alarm_descriptions), so a composite alarm is not described again as a
  metric alarm (nor a metric alarm as a composite one).
moto 5.2.5 has no PutCompositeAlarm: the emulator adds it (emulator/patch_cloudwatch.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from pydantic import Field

from ..aws import AwsContext
from ..diff import Delta, tags_to_list
from .base import Desired, Live, SpecModel
from .cloudwatch import (
    ALARM_NAMES,
    COMPOSITE_ALARM,
    SWEPT_ALARMS,
    TAGS,
    AlarmKind,
    TagPropagation,
    alarm_kind_actions,
    canonical_tag_propagation,
    tag_propagation_request,
    tag_propagation_state,
    with_action_sets,
)
from .common import names_with_prefix, read_pages
from .kind import KindMeta
from .registry import register

MAX_ACTIONS = 5
"""AlarmActions, OKActions and InsufficientDataActions: "Maximum number of 5 items"."""


class ActionsSuppressorSpec(SpecModel):
    """Suppress the composite alarm's actions while another alarm is in ALARM."""

    alarm: Annotated[str, Field(min_length=1, max_length=1600)]
    """The suppressor alarm, by name or ARN (e.g. `${alarms.maintenance.name}`)."""
    wait_period: Annotated[int, Field(ge=0)]
    """Seconds the composite alarm waits for the suppressor to go into ALARM before acting."""
    extension_period: Annotated[int, Field(ge=0)]
    """Seconds the composite alarm keeps waiting after the suppressor leaves ALARM."""


class CompositeAlarmSpec(SpecModel):
    """A CloudWatch composite alarm: ALARM when its rule over other alarms' states is true."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    """The alarm's name (its identity; renaming makes a new alarm)."""
    alarm_rule: Annotated[str, Field(min_length=1, max_length=10240)]
    """The rule, e.g. `ALARM("${alarms.cpu.name}") AND NOT OK("${alarms.memory.name}")`: the
    functions ALARM, OK and INSUFFICIENT_DATA over alarm names or ARNs, with AND, OR, NOT,
    parentheses, TRUE and FALSE."""
    description: Annotated[str, Field(max_length=1024)] | None = None
    """The alarm's description (unset: not managed)."""
    actions_enabled: bool = True
    """Whether the actions run on a change of state (AWS's default: true)."""
    alarm_actions: Annotated[list[str], Field(max_length=MAX_ACTIONS)] = []
    """ARNs notified on entering ALARM (at most 5), e.g. `${sns_topics.alerts.arn}`."""
    ok_actions: Annotated[list[str], Field(max_length=MAX_ACTIONS)] = []
    """ARNs notified on entering OK (at most 5)."""
    insufficient_data_actions: Annotated[list[str], Field(max_length=MAX_ACTIONS)] = []
    """ARNs notified on entering INSUFFICIENT_DATA (at most 5)."""
    actions_suppressor: ActionsSuppressorSpec | None = None
    """Another alarm whose ALARM state suppresses this alarm's actions (unset: none)."""
    tag_propagation: TagPropagation | None = None
    """Whether the alarm's tags go into its notifications and state-change events
    (PutCompositeAlarm ActionConfiguration.AlarmTagsPropagation). Unset: not managed."""


def _list_composite_alarms(ctx: AwsContext, prefix: str) -> list[str]:
    params = {"AlarmNamePrefix": prefix} if prefix else {}
    alarms = read_pages(
        ctx.client("cloudwatch"), "describe_alarms", "CompositeAlarms", AlarmTypes=[COMPOSITE_ALARM], **params
    )
    return names_with_prefix([a["AlarmName"] for a in alarms], prefix)


def composite_alarm_state(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeAlarms' CompositeAlarm onto the spec's shape (an allow-list of fields)."""
    suppressor = alarm.get("ActionsSuppressor")
    return {
        "name": alarm["AlarmName"],
        "alarm_rule": alarm["AlarmRule"],
        "description": alarm.get("AlarmDescription"),
        "actions_enabled": alarm.get("ActionsEnabled", True),
        "alarm_actions": list(alarm.get("AlarmActions") or []),
        "ok_actions": list(alarm.get("OKActions") or []),
        "insufficient_data_actions": list(alarm.get("InsufficientDataActions") or []),
        "actions_suppressor": {
            "alarm": suppressor,
            "wait_period": alarm.get("ActionsSuppressorWaitPeriod"),
            "extension_period": alarm.get("ActionsSuppressorExtensionPeriod"),
        }
        if suppressor
        else None,
        "tag_propagation": tag_propagation_state(alarm.get("ActionConfiguration")),
    }


def put_composite_alarm_request(state: Mapping[str, Any]) -> dict[str, Any]:
    """The complete PutCompositeAlarm configuration (it replaces everything not sent)."""
    request: dict[str, Any] = {
        "AlarmName": state["name"],
        "AlarmRule": state["alarm_rule"],
        "ActionsEnabled": state["actions_enabled"],
        "AlarmActions": list(state["alarm_actions"]),
        "OKActions": list(state["ok_actions"]),
        "InsufficientDataActions": list(state["insufficient_data_actions"]),
    }
    if state.get("description") is not None:
        request["AlarmDescription"] = state["description"]
    suppressor = state.get("actions_suppressor")
    if suppressor:
        request["ActionsSuppressor"] = suppressor["alarm"]
        request["ActionsSuppressorWaitPeriod"] = suppressor["wait_period"]
        request["ActionsSuppressorExtensionPeriod"] = suppressor["extension_period"]
    return {**request, **tag_propagation_request(state.get("tag_propagation"))}


@register
class CompositeAlarms(AlarmKind):
    meta = KindMeta(
        kind="composite_alarms",
        model=CompositeAlarmSpec,
        title="CloudWatch composite alarm",
        attributes=("name", "arn"),
        force_new=frozenset({"name"}),
        lister=_list_composite_alarms,
        tag_api=TAGS,
        actions=alarm_kind_actions("PutCompositeAlarm"),
        identity_namespace=ALARM_NAMES,
        swept_type=SWEPT_ALARMS,
    )

    alarm_type = COMPOSITE_ALARM

    def state_of(self, alarm: Mapping[str, Any]) -> dict[str, Any]:
        return composite_alarm_state(alarm)

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        return canonical_tag_propagation(with_action_sets(state))

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        request = put_composite_alarm_request(desired.state)
        self.refuse_namesake(ctx, request["AlarmName"], desired.tags)
        ctx.client("cloudwatch").put_composite_alarm(**request, Tags=tags_to_list(desired.tags))
        return self._written(ctx, desired.state, dict(desired.tags))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # One call converges every path in delta: PutCompositeAlarm takes the whole configuration.
        state = dict(desired.state)
        for field in ("description", "tag_propagation"):
            if state.get(field) is None:  # not managed: kept as it is
                state[field] = live.state.get(field)
        ctx.client("cloudwatch").put_composite_alarm(**put_composite_alarm_request(state))
        return replace(live, state=self.canonical(state))  # what was written, not read back
