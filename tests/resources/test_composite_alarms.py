"""composite_alarms on the emulator: a composite alarm over two metric alarms (its rule and its
suppressor naming them by reference) converges (apply -> empty plan -> zero writes); each
attribute changed by hand shows at its path and is repaired; a rename is a replacement; the owned
alarms are described once for both kinds, so neither kind takes the other's alarms; export
round-trips; and the spec refuses what CloudWatch refuses."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.composite_alarms import CompositeAlarms, CompositeAlarmSpec
from pacs_reconcile.resources.registry import KINDS

from .spec_cycle import actions, applied, converges, exported_plans_nothing, plan_of, repaired_by_hand_change

COMPOSITE: CompositeAlarms = KINDS["composite_alarms"]  # type: ignore[assignment]
NAME = "pacs-backend-degraded"
TOPIC = "arn:aws:sns:ap-northeast-2:123456789012:pacs-alerts"
_METRIC = "metric: {name: CPUUtilization, namespace: AWS/ECS, statistic: Average, period: 300}"
SPEC = f"""\
version: 1
stack: pacs-test
alarms:
  cpu:
    name: pacs-backend-cpu
    {_METRIC}
    threshold: 80
    comparison: GreaterThanThreshold
    evaluation_periods: 2
  maintenance:
    name: pacs-maintenance-window
    {_METRIC}
    threshold: 0
    comparison: GreaterThanThreshold
    evaluation_periods: 1
composite_alarms:
  degraded:
    name: {NAME}
    alarm_rule: ALARM("${{alarms.cpu.name}}") AND NOT ALARM("${{alarms.maintenance.arn}}")
    description: The backend is degraded
    alarm_actions: ["{TOPIC}"]
    actions_suppressor:
      alarm: ${{alarms.maintenance.name}}
      wait_period: 120
      extension_period: 60
    tags: {{Name: pacs-backend-degraded}}
"""


def desired(aws: AwsContext, **spec: Any) -> Desired:
    config = {"name": NAME, "alarm_rule": 'ALARM("pacs-backend-cpu")', "description": "d", **spec}
    state = COMPOSITE.canonical(CompositeAlarmSpec.model_validate(config).model_dump(mode="json"))
    return Desired("composite_alarms.degraded", NAME, state, {OWNER_TAG: aws.stack, "Name": NAME})


def _cloudwatch(aws: AwsContext) -> Any:
    return aws.client("cloudwatch")


def _put(aws: AwsContext, **changes: Any) -> None:
    """PutCompositeAlarm by hand with the live configuration, some of it changed."""
    (alarm,) = _cloudwatch(aws).describe_alarms(AlarmNames=[NAME], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    keep = (
        "AlarmName",
        "AlarmRule",
        "AlarmDescription",
        "ActionsEnabled",
        "AlarmActions",
        "OKActions",
        "ActionsSuppressor",
        "ActionsSuppressorWaitPeriod",
        "ActionsSuppressorExtensionPeriod",
    )
    _cloudwatch(aws).put_composite_alarm(**{**{k: alarm[k] for k in keep if k in alarm}, **changes})


def test_registered_with_its_facts() -> None:
    assert COMPOSITE.meta.force_new == {"name"} and COMPOSITE.meta.taggable
    assert COMPOSITE.meta.tag_api is KINDS["alarms"].meta.tag_api
    assert "cloudwatch:PutCompositeAlarm" in COMPOSITE.meta.actions.write


def test_a_composite_alarm_converges_over_its_metric_alarms(tmp_path: Path, aws: AwsContext) -> None:
    assert set(actions(plan_of(tmp_path, aws, SPEC)).values()) == {Action.CREATE}
    converges(tmp_path, aws, SPEC)
    (alarm,) = _cloudwatch(aws).describe_alarms(AlarmNames=[NAME], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    maintenance_arn = "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:pacs-maintenance-window"
    assert alarm["AlarmRule"] == f'ALARM("pacs-backend-cpu") AND NOT ALARM("{maintenance_arn}")'
    assert alarm["ActionsSuppressor"] == "pacs-maintenance-window"
    assert (alarm["ActionsSuppressorWaitPeriod"], alarm["ActionsSuppressorExtensionPeriod"]) == (120, 60)
    tags = _cloudwatch(aws).list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert {"Key": OWNER_TAG, "Value": "pacs-test"} in tags, "tagged on create"


def test_each_kind_reads_only_its_own_alarms_from_one_shared_description(
    tmp_path: Path, aws: AwsContext
) -> None:
    applied(tmp_path, aws, SPEC)
    aws.forget_all()
    before = dict(aws.stats.calls)
    metric = KINDS["alarms"].read(aws, [], ReadScope("pacs-test"))
    composite = COMPOSITE.read(aws, [], ReadScope("pacs-test"))
    assert set(metric) == {"pacs-backend-cpu", "pacs-maintenance-window"}
    assert set(composite) == {NAME}
    described = aws.stats.calls.get("cloudwatch.DescribeAlarms", 0) - before.get(
        "cloudwatch.DescribeAlarms", 0
    )
    assert described == 1, "the owned alarms of both types in one DescribeAlarms"


def test_a_plan_describes_every_alarm_name_either_kind_declares_in_one_shared_call(
    tmp_path: Path, aws: AwsContext
) -> None:
    """The plan gives each alarm kind the other's declared names (ReadScope.namesakes): both kinds
    share one description of them all, made while the sweep runs. Without them each kind would
    describe its own names, then the other's as owned and undeclared: four calls, not one."""
    applied(tmp_path, aws, SPEC)
    aws.forget_all()
    before = dict(aws.stats.calls)
    plan = plan_of(tmp_path, aws, SPEC)
    assert actions(plan) == {}
    made = Counter(aws.stats.calls) - Counter(before)
    assert made["cloudwatch.DescribeAlarms"] == 1, "the declared alarms of both kinds in one DescribeAlarms"
    assert made["cloudwatch.ListTagsForResource"] == 0, "every tag from the sweep"


def test_a_create_and_an_update_are_not_read_back(aws: AwsContext) -> None:
    """PutCompositeAlarm takes the whole configuration: what it answered for is the alarm. The
    create's only other call is its look for a namesake; the update is the one Put."""
    assert aws.account_id == "123456789012"  # the ARN's account: asked of STS once per context
    before = dict(aws.stats.calls)
    created = COMPOSITE.create(aws, desired(aws))
    made = {op: n - before.get(op, 0) for op, n in aws.stats.calls.items() if n != before.get(op, 0)}
    assert made == {"cloudwatch.DescribeAlarms": 1, "cloudwatch.PutCompositeAlarm": 1}
    arn = f"arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:{NAME}"
    assert created.attrs == {"name": NAME, "arn": arn}
    (read,) = COMPOSITE.read(aws, [NAME], ReadScope(aws.stack)).values()
    assert diff_states(read.state, created.state).paths() == [], "what was written is what AWS holds"

    before = dict(aws.stats.calls)
    updated = COMPOSITE.update(aws, desired(aws, description="changed"), read, None)  # type: ignore[arg-type]
    made = {op: n - before.get(op, 0) for op, n in aws.stats.calls.items() if n != before.get(op, 0)}
    assert made == {"cloudwatch.PutCompositeAlarm": 1}
    assert updated.state["description"] == "changed" and updated.handle == read.handle


def test_defaults_are_no_difference(aws: AwsContext) -> None:
    _cloudwatch(aws).put_composite_alarm(AlarmName=NAME, AlarmRule='ALARM("pacs-backend-cpu")')
    live = COMPOSITE.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    want = desired(aws, description=None)
    assert diff_states(want.state, live.state).paths() == []
    assert live.state["description"] is None and live.state["actions_suppressor"] is None


OUT_OF_BAND = {
    "rule": (lambda aws: _put(aws, AlarmRule='OK("pacs-backend-cpu")'), "alarm_rule"),
    "description": (lambda aws: _put(aws, AlarmDescription="hand edit"), "description"),
    "actions disabled": (lambda aws: _put(aws, ActionsEnabled=False), "actions_enabled"),
    "ok action added": (lambda aws: _put(aws, OKActions=[TOPIC]), "ok_actions"),
    "suppressor wait period": (lambda aws: _put(aws, ActionsSuppressorWaitPeriod=300), "actions_suppressor"),
    "tag added": (
        lambda aws: _cloudwatch(aws).tag_resource(
            ResourceARN=f"arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:{NAME}",
            Tags=[{"Key": "Owner", "Value": "bob"}],
        ),
        "tags",
    ),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BAND))
def test_a_change_by_hand_shows_at_its_path_and_is_repaired(aws: AwsContext, case: str) -> None:
    mutate, path = OUT_OF_BAND[case]
    suppressor = {"alarm": "pacs-maintenance-window", "wait_period": 120, "extension_period": 60}
    want = desired(aws, alarm_actions=[TOPIC], actions_suppressor=suppressor)
    repaired_by_hand_change(COMPOSITE, aws, want, mutate, path)


def test_a_rename_is_a_replacement(aws: AwsContext) -> None:
    COMPOSITE.create(aws, desired(aws))
    live = COMPOSITE.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    delta = diff_states(desired(aws, name="pacs-backend-degraded-2").state, live.state)
    assert COMPOSITE.replacing_paths(delta) == ["name"]


def test_an_unmanaged_description_is_kept_by_an_update(aws: AwsContext) -> None:
    COMPOSITE.create(aws, desired(aws, description="set by hand"))
    live = COMPOSITE.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    want = desired(aws, description=None, actions_enabled=False)
    updated = COMPOSITE.update(aws, want, live, diff_states(want.state, live.state))
    assert updated.state["description"] == "set by hand" and updated.state["actions_enabled"] is False


def test_export_round_trips(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, SPEC)
    result = export(aws, aws.stack, Selection(kinds=("alarms", "composite_alarms"), prefix="pacs-"))
    (entry,) = result.entries["composite_alarms"]
    assert entry.config["actions_suppressor"]["alarm"] == "${alarms.pacs_maintenance_window.name}"
    exported_plans_nothing(tmp_path, aws, result)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"alarm_rule": ""}, "at least 1 character"),
        ({"alarm_actions": [TOPIC] * 6}, "at most 5 items"),
        ({"actions_suppressor": {"alarm": "x", "wait_period": 60}}, "extension_period"),
        ({"actions_suppressor": {"alarm": "x", "wait_period": -1, "extension_period": 0}}, "greater than"),
        ({"description": "x" * 1025}, "at most 1024 characters"),
    ],
)
def test_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CompositeAlarmSpec.model_validate({"name": NAME, "alarm_rule": "TRUE", **spec})
