"""EventBridge attributes beyond a rule and a plain target, on the emulator: a rule's role, schedule
and pattern rules (one on a custom bus) whose targets use an input transformer, a dead-letter queue
and a retry policy. Each converges, shows a change at its path, is seen when changed by hand, and
round-trips through export."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.resources.events import Rules, RuleSpec, Targets, TargetSpec

RULES, TARGETS = Rules(), Targets()
ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:pacs-alerts"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:pacs-events-dlq"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pacs-events"
BUS = "pacs-events"

SCHEDULED = {"name": "pacs-nightly", "schedule": "cron(0 3 * * ? *)", "role_arn": ROLE}
PATTERNED = {
    "name": "pacs-task-stopped",
    "event_bus": BUS,
    "event_pattern": {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]},
}
TARGET: dict[str, Any] = {
    "id": "notify",
    "arn": TOPIC,
    "input_transformer": {
        "input_paths": {"task": "$.detail.taskArn", "reason": "$.detail.stoppedReason"},
        "input_template": '{"task": <task>, "reason": <reason>}',
    },
    "dead_letter_arn": QUEUE,
    "retry_policy": {"maximum_retry_attempts": 3, "maximum_event_age_seconds": 3600},
}


def state_of(kind: Reconciler, spec: dict[str, Any]) -> dict[str, Any]:
    model = RuleSpec if kind is RULES else TargetSpec
    return kind.canonical(model.model_validate(spec).model_dump(mode="json"))


def rule_desired(aws: AwsContext, spec: dict[str, Any]) -> Desired:
    state = state_of(RULES, spec)
    return Desired(f"event_rules.{spec['name']}", RULES.key(state, None), state, {OWNER_TAG: aws.stack})


def make(aws: AwsContext, rule: dict[str, Any], target: dict[str, Any] | None) -> tuple[Live, Desired | None]:
    if rule.get("event_bus"):
        aws.client("events").create_event_bus(Name=rule["event_bus"])
    live = RULES.create(aws, rule_desired(aws, rule))
    if target is None:
        return live, None
    state = state_of(TARGETS, target)
    wanted = Desired("event_rules.r.targets.t", (live.key, target["id"]), state, {}, live)
    TARGETS.create(aws, wanted)
    return live, wanted


def read_target(aws: AwsContext, rule: Live, target_id: str = "notify") -> Live:
    found = TARGETS.read(aws, [], ReadScope(aws.stack, {rule.key: rule}))
    return found[(rule.key, target_id)]


def differences(kind: Reconciler, wanted: dict[str, Any], live: Live) -> list[str]:
    return diff_states(wanted, kind.canonical(dict(live.state))).paths()


@pytest.mark.parametrize("rule", [SCHEDULED, PATTERNED], ids=["schedule-with-role", "pattern-on-custom-bus"])
def test_rules_and_targets_converge(aws: AwsContext, rule: dict[str, Any]) -> None:
    live, target = make(aws, rule, TARGET)
    assert target is not None
    again = RULES.read(aws, [live.key], ReadScope(aws.stack))[live.key]
    assert differences(RULES, rule_desired(aws, rule).state, again) == []
    assert differences(TARGETS, target.state, read_target(aws, live)) == []
    written = aws.client("events").list_targets_by_rule(
        Rule=rule["name"], EventBusName=rule.get("event_bus", "default")
    )
    (sent,) = written["Targets"]
    assert sent["DeadLetterConfig"] == {"Arn": QUEUE}
    assert sent["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert sent["InputTransformer"]["InputPathsMap"] == {
        "task": "$.detail.taskArn",
        "reason": "$.detail.stoppedReason",
    }


TARGET_EDITS: list[tuple[str, Any]] = [
    ("input_transformer.input_template", "<task> stopped: <reason>"),
    ("input_transformer.input_paths.task", "$.detail.taskDefinitionArn"),
    ("dead_letter_arn", ""),
    ("retry_policy.maximum_retry_attempts", 0),
    ("retry_policy.maximum_event_age_seconds", 60),
]


@pytest.mark.parametrize(("path", "value"), TARGET_EDITS, ids=[e[0] for e in TARGET_EDITS])
def test_a_target_change_shows_at_its_path_and_converges(aws: AwsContext, path: str, value: Any) -> None:
    rule, _ = make(aws, PATTERNED, TARGET)
    edited = copy.deepcopy(TARGET)
    *parents, last = path.split(".")
    node = edited
    for part in parents:
        node = node[part]
    node[last] = value
    wanted = Desired("t", (rule.key, "notify"), state_of(TARGETS, edited), {}, rule)
    live = read_target(aws, rule)
    delta = diff_states(wanted.state, TARGETS.canonical(dict(live.state)))
    assert delta.paths() == [path]
    TARGETS.update(aws, wanted, live, delta)
    assert differences(TARGETS, wanted.state, read_target(aws, rule)) == []


def test_a_rule_role_changed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    live, _ = make(aws, SCHEDULED, None)
    aws.client("events").put_rule(
        Name=SCHEDULED["name"], ScheduleExpression=SCHEDULED["schedule"], RoleArn=ROLE + "-2"
    )
    drifted = RULES.read(aws, [live.key], ReadScope(aws.stack))[live.key]
    wanted = rule_desired(aws, SCHEDULED)
    delta = diff_states(wanted.state, RULES.canonical(dict(drifted.state)))
    assert delta.paths() == ["role_arn"]
    RULES.update(aws, wanted, drifted, delta)
    fixed = RULES.read(aws, [live.key], ReadScope(aws.stack))[live.key]
    assert differences(RULES, wanted.state, fixed) == []


def test_a_retry_policy_changed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    rule, target = make(aws, PATTERNED, TARGET)
    assert target is not None
    aws.client("events").put_targets(
        Rule=PATTERNED["name"],
        EventBusName=BUS,
        Targets=[
            {
                "Id": "notify",
                "Arn": TOPIC,
                "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
            }
        ],
    )
    live = read_target(aws, rule)
    delta = diff_states(target.state, TARGETS.canonical(dict(live.state)))
    assert "retry_policy.maximum_retry_attempts" in delta.paths()
    assert "dead_letter_arn" in delta.paths() and "input_transformer.input_template" in delta.paths()
    TARGETS.update(aws, target, live, delta)
    assert differences(TARGETS, target.state, read_target(aws, rule)) == []


def test_export_round_trips(aws: AwsContext) -> None:
    make(aws, SCHEDULED, TARGET)
    result = export(aws, aws.stack, Selection(kinds=("event_rules",), prefix="pacs-nightly"))
    (entry,) = result.entries["event_rules"]
    assert diff_states(state_of(RULES, SCHEDULED), state_of(RULES, entry.config)).paths() == []
    (child,) = entry.children["targets"]
    config = {**child.config, "arn": TOPIC}  # export links the topic ARN only when the topic is exported too
    assert diff_states(state_of(TARGETS, TARGET), state_of(TARGETS, config)).paths() == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({**TARGET, "input": {"a": 1}}, "at most one of input and input_transformer"),
        ({**TARGET, "dead_letter_arn": TOPIC}, "SQS queue ARN"),
        ({**TARGET, "retry_policy": {"maximum_retry_attempts": 186}}, "less than or equal to 185"),
        ({**TARGET, "retry_policy": {"maximum_event_age_seconds": 59}}, "greater than or equal to 60"),
        (
            {**TARGET, "input_transformer": {"input_paths": {"AWSx": "$.a"}, "input_template": "x"}},
            "may not start with AWS",
        ),
        (
            {**TARGET, "input_transformer": {"input_paths": {"a": "detail"}, "input_template": "x"}},
            "not a JSON path",
        ),
    ],
)
def test_target_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        TargetSpec.model_validate(spec)
