"""EventBridge kinds against moto: schedule validation, the rule and target cycles, patterns and
inputs compared as parsed JSON, rules on other buses, and partial failures of PutTargets and
RemoveTargets (AWS-NOTES item 9)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import AwsError
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.resources.events import Rules, RuleSpec, Targets, TargetSpec, check_schedule
from pacs_reconcile.resources.registry import KINDS

from .aws_faults import answer, fail

RULE = "pacs-custom-metrics"
FUNCTION_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:pacs-custom-metrics-collector"
PATTERN = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    "detail": {"lastStatus": ["STOPPED"]},
}
RULES = Rules()
TARGETS = Targets()


def desired_of(
    kind: Reconciler, spec: dict[str, Any], *, parent: Live | None = None, tags: dict[str, str] | None = None
) -> Desired:
    state = kind.canonical(kind.meta.model.model_validate(spec).model_dump(mode="json"))
    return Desired(
        f"{kind.meta.kind}.test", kind.key(state, parent.key if parent else None), state, tags or {}, parent
    )


def delta_of(kind: Reconciler, desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, kind.canonical(live.state))


def owner(aws: AwsContext, **extra: str) -> dict[str, str]:
    return {OWNER_TAG: aws.stack, **extra}


def make_rule(aws: AwsContext, **spec: Any) -> tuple[Desired, Live]:
    spec = {"name": RULE, **spec}
    if "event_pattern" not in spec:
        spec.setdefault("schedule", "rate(5 minutes)")
    desired = desired_of(RULES, spec, tags=owner(aws, Name=RULE))
    return desired, RULES.create(aws, desired)


def read_rule(aws: AwsContext, key: str = RULE) -> Live:
    found = RULES.read(aws, [key], ReadScope(aws.stack))
    assert key in found, f"{key} not read back"
    return found[key]


def events(aws: AwsContext) -> Any:
    return aws.client("events")


# Schedules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "cron(0 12 * * ? *)",
        "cron(0/15 * ? * MON-FRI *)",
        "cron(0 8 1 * ? 2027)",
        "cron(30 2 ? * 6L *)",
    ],
)
def test_valid_schedules(expression: str) -> None:
    assert check_schedule(expression) == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "write rate(1 minute): the unit is singular for 1"),
        ("rate(5 minute)", "write rate(5 minutes): the unit is plural above 1"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(5 weeks)", "unknown rate unit 'weeks'"),
        ("cron(0 12 * * ?)", "cron needs 6 fields"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(60 12 * * ? *)", "60 is above 59"),
        ("cron(0 24 * * ? *)", "24 is above 23"),
        ("every 5 minutes", "must be rate(VALUE UNIT)"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        check_schedule(expression)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": RULE}, "exactly one of schedule and event_pattern"),
        ({"name": RULE, "schedule": "rate(1 hour)", "event_pattern": PATTERN}, "exactly one of"),
        (
            {"name": RULE, "schedule": "rate(1 hour)", "event_bus": "pacs"},
            "only run on the default event bus",
        ),
        ({"name": RULE, "event_pattern": {}}, "at least one field"),
        ({"name": "bad name", "schedule": "rate(1 hour)"}, "rule names are"),
        ({"name": RULE, "schedule": "rate(1 hour)", "state": "enabled"}, "'ENABLED' or 'DISABLED'"),
    ],
)
def test_rule_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleSpec.model_validate(spec)


# Rules -------------------------------------------------------------------------------------------


def test_rule_cycle_create_read_drift_repair_delete(aws: AwsContext) -> None:
    desired, created = make_rule(aws, description="Runs the collector")
    assert created.attrs == {"name": RULE, "arn": f"arn:aws:events:ap-northeast-2:123456789012:rule/{RULE}"}
    live = read_rule(aws)
    assert not delta_of(RULES, desired, live)
    assert live.tags == owner(aws, Name=RULE)

    events(aws).disable_rule(Name=RULE)
    drifted = read_rule(aws)
    delta = delta_of(RULES, desired, drifted)
    assert delta.paths() == ["state"]

    RULES.update(aws, desired, drifted, delta)
    assert not delta_of(RULES, desired, read_rule(aws))

    RULES.delete(aws, live)
    assert RULES.read(aws, [RULE], ReadScope(aws.stack)) == {}
    RULES.delete(aws, live)  # already gone: no error


def test_a_schedule_changed_by_hand_shows_at_its_path(aws: AwsContext) -> None:
    desired, _ = make_rule(aws, description="d")
    events(aws).put_rule(Name=RULE, ScheduleExpression="rate(10 minutes)", Description="d")
    delta = delta_of(RULES, desired, read_rule(aws))
    assert delta.paths() == ["schedule"]


def test_an_event_pattern_compares_as_parsed_json(aws: AwsContext) -> None:
    desired, _ = make_rule(aws, event_pattern=PATTERN)
    # The same pattern stored as other text: keys reordered, other spacing.
    text = json.dumps(
        {
            "detail": {"lastStatus": ["STOPPED"]},
            "detail-type": ["ECS Task State Change"],
            "source": ["aws.ecs"],
        },
        indent=4,
    )
    events(aws).put_rule(Name=RULE, EventPattern=text, Description="")
    live = read_rule(aws)
    assert live.state["schedule"] == ""
    assert not delta_of(RULES, desired, live)

    events(aws).put_rule(Name=RULE, EventPattern=json.dumps({**PATTERN, "account": ["123456789012"]}))
    assert delta_of(RULES, desired, read_rule(aws)).paths() == ["event_pattern.account"]


def test_an_update_keeps_what_it_does_not_change(aws: AwsContext) -> None:
    desired, _ = make_rule(aws, description="from the spec")
    events(aws).put_rule(
        Name=RULE, ScheduleExpression="rate(1 hour)", Description="kept by ignore_changes", State="DISABLED"
    )
    live = read_rule(aws)
    delta = delta_of(RULES, desired, live).without(["description"])
    RULES.update(aws, desired, live, delta)
    rule = events(aws).describe_rule(Name=RULE)
    assert (rule["ScheduleExpression"], rule["State"], rule["Description"]) == (
        "rate(5 minutes)",
        "ENABLED",
        "kept by ignore_changes",
    )


def test_an_update_keeps_the_notes_and_handle_of_the_live_it_was_given(aws: AwsContext) -> None:
    desired, _ = make_rule(aws, description="from the spec")
    events(aws).put_rule(Name=RULE, ScheduleExpression="rate(1 hour)")
    drifted = replace(read_rule(aws), notes=("a remark for the plan",), handle="a handle")
    updated = RULES.update(aws, desired, drifted, delta_of(RULES, desired, drifted))
    assert updated == replace(drifted, state=updated.state)


def test_rule_tags_drift_and_repair(aws: AwsContext) -> None:
    _, created = make_rule(aws)
    events(aws).tag_resource(ResourceARN=created.attrs["arn"], Tags=[{"Key": "Owner", "Value": "bob"}])
    live = read_rule(aws)
    changes = compare_tags(live.tags, owner(aws, Name=RULE))
    assert changes.to_unset == ["Owner"] and not changes.to_set
    RULES.update_tags(aws, live, changes)
    assert read_rule(aws).tags == owner(aws, Name=RULE)


def test_owned_rules_are_found_and_others_are_not(aws: AwsContext) -> None:
    make_rule(aws)
    events(aws).put_rule(
        Name="foreign", ScheduleExpression="rate(1 hour)", Tags=[{"Key": OWNER_TAG, "Value": "another-stack"}]
    )
    events(aws).put_rule(Name="untagged", ScheduleExpression="rate(1 hour)")
    assert set(RULES.read(aws, [], ReadScope(aws.stack))) == {RULE}
    assert set(RULES.read(aws, ["untagged"], ReadScope(aws.stack))) == {RULE, "untagged"}


def test_a_rule_on_another_bus_is_keyed_by_bus_and_name(aws: AwsContext) -> None:
    events(aws).create_event_bus(Name="pacs")
    desired, created = make_rule(aws, event_pattern=PATTERN, event_bus="pacs")
    assert desired.key == f"pacs/{RULE}"
    assert created.attrs["arn"].endswith(f":rule/pacs/{RULE}")
    live = read_rule(aws, f"pacs/{RULE}")
    assert live.state["event_bus"] == "pacs"
    assert not delta_of(RULES, desired, live)
    RULES.delete(aws, live)
    assert events(aws).list_rules(EventBusName="pacs")["Rules"] == []


def test_a_failed_read_is_never_absent(aws: AwsContext) -> None:
    make_rule(aws)
    fail(events(aws), "ListTagsForResource", "AccessDeniedException", "no", status=400)
    with pytest.raises(ClientError, match="AccessDenied"):
        RULES.read(aws, [RULE], ReadScope(aws.stack))


# Targets -----------------------------------------------------------------------------------------


def make_target(aws: AwsContext, rule: Live, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(TARGETS, {"id": "CustomMetricsTarget", "arn": FUNCTION_ARN, **spec}, parent=rule)
    return desired, TARGETS.create(aws, desired)


def read_targets(aws: AwsContext, rule: Live) -> dict[Any, Live]:
    return TARGETS.read(aws, [], ReadScope(aws.stack, {rule.key: rule}))


def test_target_cycle_and_an_extra_one_made_by_hand(aws: AwsContext) -> None:
    _, rule = make_rule(aws)
    desired, _ = make_target(aws, rule, input={"source": "schedule", "detail": {"full": True}})
    found = read_targets(aws, rule)
    assert set(found) == {(RULE, "CustomMetricsTarget")}
    assert not delta_of(TARGETS, desired, found[desired.key])

    events(aws).put_targets(
        Rule=RULE,
        Targets=[
            {"Id": "CustomMetricsTarget", "Arn": FUNCTION_ARN, "Input": json.dumps({"source": "hand"})},
            {"Id": "extra", "Arn": FUNCTION_ARN},
        ],
    )
    found = read_targets(aws, rule)
    assert set(found) == {desired.key, (RULE, "extra")}
    delta = delta_of(TARGETS, desired, found[desired.key])
    assert sorted(delta.paths()) == ["input.detail", "input.source"]

    TARGETS.update(aws, desired, found[desired.key], delta)
    TARGETS.delete(aws, found[(RULE, "extra")])
    found = read_targets(aws, rule)
    assert set(found) == {desired.key}
    assert not delta_of(TARGETS, desired, found[desired.key])


def test_no_input_means_the_event_and_a_hand_added_input_shows(aws: AwsContext) -> None:
    _, rule = make_rule(aws)
    desired, _ = make_target(aws, rule)
    live = read_targets(aws, rule)[desired.key]
    assert live.state["input"] == {} and not delta_of(TARGETS, desired, live)
    events(aws).put_targets(
        Rule=RULE, Targets=[{"Id": "CustomMetricsTarget", "Arn": FUNCTION_ARN, "Input": '{"x": 1}'}]
    )
    assert delta_of(TARGETS, desired, read_targets(aws, rule)[desired.key]).paths() == ["input"]


def test_deleting_a_rule_removes_its_targets_first(aws: AwsContext) -> None:
    _, rule = make_rule(aws)
    make_target(aws, rule)
    RULES.delete(aws, rule)
    with pytest.raises(ClientError, match="ResourceNotFound"):
        events(aws).list_targets_by_rule(Rule=RULE)


def test_targets_of_a_missing_rule_are_none(aws: AwsContext) -> None:
    assert TARGETS.read(aws, [("nope", "t")], ReadScope(aws.stack)) == {}


# Partial failures (AWS-NOTES item 9) --------------------------------------------------------------


def test_put_targets_partial_failure_names_the_failed_entries(aws: AwsContext) -> None:
    _, rule = make_rule(aws)
    answer(
        events(aws),
        "PutTargets",
        {
            "FailedEntryCount": 1,
            "FailedEntries": [
                {
                    "TargetId": "CustomMetricsTarget",
                    "ErrorCode": "ConcurrentModificationException",
                    "ErrorMessage": "Rule was modified concurrently",
                }
            ],
        },
    )
    with pytest.raises(
        AwsError,
        match=r"PutTargets on rule pacs-custom-metrics: 1 target.*CustomMetricsTarget: "
        r"ConcurrentModificationException Rule was modified concurrently",
    ):
        make_target(aws, rule)


def test_remove_targets_partial_failure_names_the_failed_entries(aws: AwsContext) -> None:
    _, rule = make_rule(aws)
    _, target = make_target(aws, rule)
    answer(
        events(aws),
        "RemoveTargets",
        {
            "FailedEntryCount": 1,
            "FailedEntries": [
                {
                    "TargetId": "CustomMetricsTarget",
                    "ErrorCode": "InternalException",
                    "ErrorMessage": "try again",
                }
            ],
        },
    )
    with pytest.raises(AwsError, match=r"RemoveTargets.*CustomMetricsTarget: InternalException try again"):
        TARGETS.delete(aws, target)
    with pytest.raises(AwsError, match="RemoveTargets"):  # a rule is not deleted with targets left
        answer(events(aws), "RemoveTargets", {"FailedEntryCount": 1, "FailedEntries": []})
        RULES.delete(aws, rule)
    assert read_rule(aws)


def test_target_validation() -> None:
    with pytest.raises(ValidationError, match="target ids are"):
        TargetSpec.model_validate({"id": "bad id", "arn": FUNCTION_ARN})
    with pytest.raises(ValidationError, match="8192"):
        TargetSpec.model_validate({"id": "t", "arn": FUNCTION_ARN, "input": {"x": "y" * 9000}})
    assert TargetSpec.model_validate({"id": "t", "arn": "${lambda_functions.collector.arn}"})


def test_kinds_are_registered_with_their_metadata() -> None:
    assert isinstance(KINDS["event_rules"], Rules)
    assert KINDS["targets"].meta.parent == "event_rules"
    assert {"name", "arn"} <= set(KINDS["event_rules"].meta.attributes)
    assert Rules.meta.force_new == {"name", "event_bus"}


def test_a_rule_on_the_stacks_own_bus_is_read_without_its_key(aws: AwsContext) -> None:
    """Listing what the stack owns (export by owner tag; pruning a rule the spec no longer declares)
    finds a rule on a custom bus of the stack, not only those on the default bus."""
    events(aws).create_event_bus(Name="pacs-audit", Tags=[{"Key": OWNER_TAG, "Value": aws.stack}])
    make_rule(aws, event_bus="pacs-audit", event_pattern=PATTERN)
    make_rule(aws)
    assert sorted(RULES.read(aws, [], ReadScope(aws.stack))) == sorted([RULE, f"pacs-audit/{RULE}"])
