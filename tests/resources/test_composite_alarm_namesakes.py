"""A composite alarm's create never replaces an alarm it does not own.

PutCompositeAlarm, like PutMetricAlarm, creates or replaces ("When you update an existing alarm,
its state is left unchanged, but the update completely overwrites the previous configuration of
the alarm", PutCompositeAlarm, CloudWatch API reference). An alarm's name is unique across metric
and composite alarms ("This name must be unique within the Region", AlarmName of both operations;
one ARN form, arn:aws:cloudwatch:Region:account-id:alarm:alarm-name, for both). So a composite
alarm someone else made between plan and apply, or a metric alarm of the name, is refused by the
create and keeps its configuration; and a metric alarm's create refuses a composite namesake."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.errors import ReconcileError

from .spec_cycle import applied, plan_of
from .test_composite_alarms import COMPOSITE, NAME, SPEC, desired

THEIR_TAGS = [{"Key": OWNER_TAG, "Value": "other"}]
THEIR_RULE = 'ALARM("someone-elses-alarm")'


def _their_composite(aws: AwsContext, name: str) -> None:
    aws.client("cloudwatch").put_composite_alarm(AlarmName=name, AlarmRule=THEIR_RULE, Tags=THEIR_TAGS)


def _their_metric_alarm(aws: AwsContext, name: str, tags: list[dict[str, str]]) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="QueueDepth",
        Namespace="Someone/Else",
        Statistic="Maximum",
        Period=120,
        EvaluationPeriods=3,
        Threshold=7,
        ComparisonOperator="LessThanThreshold",
        Tags=tags,
    )


def _alarms(aws: AwsContext, name: str) -> dict[str, list[dict[str, Any]]]:
    found = aws.client("cloudwatch").describe_alarms(
        AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    return {kind: found[kind] for kind in ("MetricAlarms", "CompositeAlarms")}


def _their_composite_is_kept(aws: AwsContext, name: str) -> None:
    alarms = _alarms(aws, name)
    assert alarms["MetricAlarms"] == []
    (theirs,) = alarms["CompositeAlarms"]
    assert theirs["AlarmRule"] == THEIR_RULE and "ActionsSuppressor" not in theirs


def _their_metric_alarm_is_kept(aws: AwsContext, name: str) -> None:
    alarms = _alarms(aws, name)
    assert alarms["CompositeAlarms"] == []
    (theirs,) = alarms["MetricAlarms"]
    kept = (theirs["MetricName"], theirs["Namespace"], theirs["Statistic"], theirs["Threshold"])
    assert kept == ("QueueDepth", "Someone/Else", "Maximum", 7.0)


@pytest.mark.parametrize(
    ("address", "make", "message", "kept"),
    [
        (  # a composite alarm of the composite's name, another stack's
            "composite_alarms.degraded",
            lambda aws: _their_composite(aws, NAME),
            f"CloudWatch composite alarm {NAME} was created meanwhile by someone else (stack 'other'",
            lambda aws: _their_composite_is_kept(aws, NAME),
        ),
        (  # a metric alarm of the composite's name, no stack's
            "composite_alarms.degraded",
            lambda aws: _their_metric_alarm(aws, NAME, []),
            f"CloudWatch composite alarm {NAME}: a metric alarm of that name exists (no stack)",
            lambda aws: _their_metric_alarm_is_kept(aws, NAME),
        ),
        (  # a composite alarm of a metric alarm's name, another stack's
            "alarms.cpu",
            lambda aws: _their_composite(aws, "pacs-backend-cpu"),
            "CloudWatch metric alarm pacs-backend-cpu: a composite alarm of that name exists (stack 'other')",
            lambda aws: _their_composite_is_kept(aws, "pacs-backend-cpu"),
        ),
    ],
)
def test_a_namesake_made_between_plan_and_apply_is_refused_and_kept(
    tmp_path: Path,
    aws: AwsContext,
    address: str,
    make: Callable[[AwsContext], None],
    message: str,
    kept: Callable[[AwsContext], None],
) -> None:
    plan = plan_of(tmp_path, aws, SPEC)  # nothing exists yet: every alarm is a create
    assert plan.values is not None
    make(aws)  # then someone else makes one of the name
    result = apply_plan(plan, plan.values, aws)
    problems = {o.address: o.message for o in result.outcomes if o.message}
    assert message in problems.get(address, ""), problems
    kept(aws)


def test_a_metric_namesake_with_this_creates_own_tags_is_not_taken_for_its_lost_attempt(
    aws: AwsContext,
) -> None:
    """A lost PutCompositeAlarm response leaves a composite alarm: a metric alarm of the name is never
    that, even tagged as this create tags (e.g. made by a metric alarm entry of the same name)."""
    want = desired(aws)
    _their_metric_alarm(aws, NAME, [{"Key": k, "Value": v} for k, v in want.tags.items()])
    with pytest.raises(ReconcileError, match="alarm names are unique across metric and composite alarms"):
        COMPOSITE.create(aws, want)
    _their_metric_alarm_is_kept(aws, NAME)


def test_a_composite_namesake_of_this_creates_own_making_is_carried_on_with(aws: AwsContext) -> None:
    """Its own first attempt (the response lost): the create carries on, and puts it again."""
    want = desired(aws)
    tags = [{"Key": k, "Value": v} for k, v in want.tags.items()]
    aws.client("cloudwatch").put_composite_alarm(
        AlarmName=NAME, AlarmRule=want.state["alarm_rule"], Tags=tags
    )
    live = COMPOSITE.create(aws, want)
    assert live.state["description"] == "d" and live.tags == want.tags


def _cloudwatch_calls(aws: AwsContext) -> dict[str, int]:
    return {name: count for name, count in aws.stats.calls.items() if name.startswith("cloudwatch.")}


@pytest.mark.parametrize(
    ("address", "make", "message"),
    [
        (  # a metric alarm of the composite's name, no stack's
            "composite_alarms.degraded",
            lambda aws: _their_metric_alarm(aws, NAME, []),
            f"CloudWatch composite alarm {NAME!r}: a metric alarm of that name exists",
        ),
        (  # a composite alarm of a metric alarm's name, another stack's
            "alarms.cpu",
            lambda aws: _their_composite(aws, "pacs-backend-cpu"),
            "CloudWatch metric alarm 'pacs-backend-cpu': a composite alarm of that name exists",
        ),
    ],
)
def test_a_namesake_of_the_other_type_is_refused_by_the_plan_at_no_extra_call(
    tmp_path: Path, aws: AwsContext, address: str, make: Callable[[AwsContext], None], message: str
) -> None:
    """Each kind reads its declared names; the read asks DescribeAlarms for both types in the call it
    makes anyway, so an alarm of the other type under a declared name is seen by the plan (not only
    by the apply's create), for the same calls as a plan where no alarm exists."""
    before = _cloudwatch_calls(aws)
    plan_of(tmp_path, aws, SPEC)
    alone = Counter(_cloudwatch_calls(aws)) - Counter(before)
    make(aws)
    aws.forget_all()
    before = _cloudwatch_calls(aws)
    plan = plan_of(tmp_path, aws, SPEC)
    assert Counter(_cloudwatch_calls(aws)) - Counter(before) == alone
    change = next(c for c in plan.changes if c.address == address)
    assert change.action is Action.REFUSED, (change.action, change.reason)
    assert message in change.reason and "unique across metric and composite alarms" in change.reason
    others = {c.address: c.action for c in plan.changes if c.address != address}
    assert Action.REFUSED not in others.values(), others


def test_an_owned_alarm_of_the_other_type_is_refused_by_the_plan(tmp_path: Path, aws: AwsContext) -> None:
    """The stack's own metric alarm, now declared as a composite alarm of its name: the plan deletes
    the metric alarm only after its creates, so PutCompositeAlarm would meet it; refused up front."""
    applied(tmp_path, aws, SPEC)
    spec = yaml.safe_load(SPEC)
    spec["composite_alarms"]["cpu_rollup"] = {"name": "pacs-backend-cpu", "alarm_rule": "TRUE"}
    del spec["alarms"]["cpu"]
    spec["composite_alarms"]["degraded"]["alarm_rule"] = 'ALARM("${alarms.maintenance.name}")'
    plan = plan_of(tmp_path, aws, yaml.safe_dump(spec))
    change = next(c for c in plan.changes if c.address == "composite_alarms.cpu_rollup")
    assert change.action is Action.REFUSED, (change.action, change.reason)
    assert "a metric alarm of that name exists, this stack's" in change.reason
