"""The Prometheus and Grafana tasks start with the stack's own execution role, and that role may do
exactly what ECS does for them (specs/task_execution.yaml), derived here from the task definitions:

- write the containers' awslogs output: logs:CreateLogStream and logs:PutLogEvents on each log group
  a container names (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html);
- hand over `secrets` from SSM: ssm:GetParameters on each parameter, plus kms:Decrypt on its key
  when it declares one ("Required only if your parameter uses a custom KMS key and not the default
  key", same page, "Systems Manager permissions");
- pull images: the ECR actions only when an image is in a private ECR repository (public Docker Hub
  images need no credentials).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import api

REPO = Path(__file__).resolve().parents[1]
ROLE_REF = re.compile(r"^\$\{iam_roles\.(\w+)\.arn\}$")
LOG_GROUP_REF = re.compile(r"^\$\{log_groups\.(\w+)\.name\}$")
PARAMETER_REF = re.compile(r"^\$\{ssm_parameters\.(\w+)\.arn\}$")
ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
# What pulling from a private ECR repository takes (AmazonECSTaskExecutionRolePolicy, same page).
ECR_PULL = {
    "ecr:GetAuthorizationToken": "*",
    "ecr:BatchCheckLayerAvailability": None,
    "ecr:GetDownloadUrlForLayer": None,
    "ecr:BatchGetImage": None,
}

Grants = dict[str, set[str]]


def as_set(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


def needed(resources: Mapping[str, Any], role: str) -> Grants:
    """Action -> resources the task definitions run with `role` need it to have."""
    out: Grants = defaultdict(set)
    for node in resources.values():
        if (
            node.kind != "task_definitions"
            or node.config["execution_role_arn"] != f"${{iam_roles.{role}.arn}}"
        ):
            continue
        for container in node.config["containers"].values():
            log = container.get("log")
            if log is not None:
                group = LOG_GROUP_REF.match(log["group"])
                assert group, f"{node.address}: log group {log['group']} is not a declared log group"
                for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    out[action].add(f"${{log_groups.{group[1]}.arn}}:*")
            for source in container["secrets"].values():
                parameter = PARAMETER_REF.match(source)
                assert parameter, f"{node.address}: secret {source} is not a declared SSM parameter"
                out["ssm:GetParameters"].add(source)
                key = resources[f"ssm_parameters.{parameter[1]}"].config.get("key_id")
                if key is not None:
                    out["kms:Decrypt"].add(key)
            if ECR_IMAGE.match(container["image"]):
                repository = container["image"].split("/", 1)[1].split(":")[0].split("@")[0]
                for action, resource in ECR_PULL.items():
                    out[action].add(resource or f"arn:aws:ecr:*:*:repository/{repository}")
    return dict(out)


def granted(resources: Mapping[str, Any], role: str) -> Grants:
    """Action -> resources the policies attached to `role` allow."""
    names = {
        node.config["policy"]
        for node in resources.values()
        if node.kind == "policy_attachments" and node.parent == f"iam_roles.{role}"
    }
    out: Grants = defaultdict(set)
    for node in resources.values():
        if node.kind != "iam_policies" or node.config["name"] not in names:
            continue
        for statement in node.config["document"]["Statement"]:
            assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
            for action in as_set(statement["Action"]):
                out[action] |= as_set(statement["Resource"])
    return dict(out)


def execution_role_problems(resources: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    roles: set[str] = set()
    for node in resources.values():
        if node.kind == "task_definitions":
            match = ROLE_REF.match(node.config["execution_role_arn"])
            if match is None:
                problems.append(f"{node.address}: the execution role is not one the stack declares")
            else:
                roles.add(match[1])
    for role in sorted(roles):
        trust = resources[f"iam_roles.{role}"].config["assume_role_policy"]["Statement"]
        if [(s["Effect"], s["Principal"], s["Action"]) for s in trust] != [
            ("Allow", {"Service": "ecs-tasks.amazonaws.com"}, "sts:AssumeRole")
        ]:
            problems.append(f"iam_roles.{role}: only ECS tasks may assume it")
        want, have = needed(resources, role), granted(resources, role)
        for action in sorted(set(want) | set(have)):
            missing = want.get(action, set()) - have.get(action, set())
            extra = have.get(action, set()) - want.get(action, set())
            if missing:
                problems.append(f"iam_roles.{role}: {action} missing on {sorted(missing)}")
            if extra:
                problems.append(f"iam_roles.{role}: {action} not needed on {sorted(extra)}")
    return problems


@pytest.fixture(scope="module")
def spec() -> api.Spec:
    return api.load(REPO / "monitoring.yaml")


def test_the_tasks_execution_role_is_the_stacks_own_and_grants_exactly_what_ecs_needs(spec: api.Spec) -> None:
    assert execution_role_problems(spec.resources) == []
    grants = granted(spec.resources, "task_execution")
    assert grants["ssm:GetParameters"] == {
        "${ssm_parameters.grafana_admin_password.arn}",
        "${ssm_parameters.prometheus_config.arn}",
    }
    assert not any(action.startswith(("ecr:", "kms:")) for action in grants), "public images, aws/ssm key"


def test_the_check_finds_a_looked_up_role_a_missing_and_an_extra_permission(spec: api.Spec) -> None:
    resources = copy.deepcopy(spec.resources)
    resources["task_definitions.grafana"].config["execution_role_arn"] = "${lookups.task_role.arn}"
    problems = execution_role_problems(resources)
    assert problems[0] == "task_definitions.grafana: the execution role is not one the stack declares"
    # and what the role grants for Grafana alone is now more than its tasks need
    secret = "${ssm_parameters.grafana_admin_password.arn}"
    assert f"iam_roles.task_execution: ssm:GetParameters not needed on ['{secret}']" in problems

    resources = copy.deepcopy(spec.resources)
    grafana = resources["task_definitions.grafana"].config["containers"]["grafana"]
    grafana["image"] = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/grafana:11.1.0"
    resources["ssm_parameters.grafana_admin_password"].config["key_id"] = (
        "arn:aws:kms:ap-northeast-2:123456789012:key/k"
    )
    policy = resources["iam_policies.task_execution"].config["document"]
    policy["Statement"].append({"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"})
    problems = execution_role_problems(resources)
    assert (
        "iam_roles.task_execution: ecr:BatchGetImage missing on ['arn:aws:ecr:*:*:repository/grafana']"
        in problems
    )
    assert (
        "iam_roles.task_execution: kms:Decrypt missing on ['arn:aws:kms:ap-northeast-2:123456789012:key/k']"
        in problems
    )
    assert "iam_roles.task_execution: logs:CreateLogGroup not needed on ['*']" in problems
