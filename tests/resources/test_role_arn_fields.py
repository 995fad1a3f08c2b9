"""Fields naming an IAM role take a role ARN (arn:aws:iam::ACCOUNT:role/NAME), "" where the field
says none, or a reference: what EventBridge (PutRule and PutTargets RoleArn), SNS (the
delivery-status feedback roles, SubscriptionRoleArn) and ECS (executionRoleArn, taskRoleArn) take.
A name, a user or a policy ARN is refused offline, at the field, rather than by AWS mid-apply."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pacs_reconcile.resources.ecs import TaskDefinitionSpec
from pacs_reconcile.resources.events import RuleSpec, TargetSpec
from pacs_reconcile.resources.sns import SubscriptionSpec, TopicSpec

ROLE = "arn:aws:iam::123456789012:role/service-role/pacs-events"
STREAM = "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/pacs-audit"


def rule(role: Any) -> dict[str, Any]:
    return {"name": "pacs-nightly", "schedule": "rate(1 day)", "role_arn": role}


def target(role: Any) -> dict[str, Any]:
    return {"id": "bus", "arn": "arn:aws:events:ap-northeast-2:123456789012:event-bus/pacs", "role_arn": role}


def topic(role: Any) -> dict[str, Any]:
    return {"name": "pacs-alerts", "delivery_status_logging": {"lambda": {"success_role_arn": role}}}


def subscription(role: Any) -> dict[str, Any]:
    return {"protocol": "firehose", "endpoint": STREAM, "subscription_role_arn": role}


def task(role: Any) -> dict[str, Any]:
    return {
        "family": "pacs-exporter",
        "cpu": 256,
        "memory": 512,
        "execution_role_arn": role,
        "containers": {"app": {"image": "busybox:1.36"}},
    }


FIELDS: list[tuple[type[BaseModel], Any, bool]] = [
    (RuleSpec, rule, True),
    (TargetSpec, target, True),
    (TopicSpec, topic, True),
    (SubscriptionSpec, subscription, False),
    (TaskDefinitionSpec, task, True),
]
IDS = ["rule", "target", "topic-feedback", "subscription", "task-definition"]


@pytest.mark.parametrize(("model", "config", "empty_ok"), FIELDS, ids=IDS)
@pytest.mark.parametrize(
    "wrong",
    ["pacs-events", "arn:aws:iam::123456789012:user/pacs", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
)
def test_a_role_field_refuses_what_is_not_a_role_arn(
    model: type[BaseModel], config: Any, empty_ok: bool, wrong: str
) -> None:
    with pytest.raises(ValidationError, match="must be a role ARN"):
        model.model_validate(config(wrong))


@pytest.mark.parametrize(("model", "config", "empty_ok"), FIELDS, ids=IDS)
def test_a_role_field_takes_a_role_arn_a_reference_and_none_where_it_may(
    model: type[BaseModel], config: Any, empty_ok: bool
) -> None:
    model.model_validate(config(ROLE))
    model.model_validate(config("${iam_roles.events.arn}"))
    if empty_ok:
        model.model_validate(config(""))
