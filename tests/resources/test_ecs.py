"""ECS task definitions against moto: compare with the latest ACTIVE revision after normalizing
AWS's defaults and ordering (AWS-NOTES item 1), register only on a real difference, deregister
superseded revisions beyond keep_revisions, tags per revision, and the spec's validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.ecs import (
    KEEP_TAG,
    TaskDefinitions,
    TaskDefinitionSpec,
    active_revisions,
    container_state,
)
from pacs_reconcile.resources.registry import KINDS

TASKS = TaskDefinitions()
FAMILY = "prometheus"
REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pacs-ecs-task-execution"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/pacs/grafana/admin-password"

SPEC: dict[str, Any] = {
    "family": FAMILY,
    "cpu": 512,
    "memory": 1024,
    "execution_role_arn": EXECUTION_ROLE,
    "containers": {
        "prometheus": {
            "image": "prom/prometheus:v2.53.0",
            "port_mappings": [{"container_port": 9090}],
            "environment": {"B_SECOND": "2", "A_FIRST": "1"},
            "secrets": {"ADMIN_PASSWORD_FILE_CONTENT": PARAMETER},
            "mount_points": [
                {"source_volume": "config", "container_path": "/etc/prometheus", "read_only": True}
            ],
            "log": {"group": "/aws/ecs/prometheus", "stream_prefix": "ecs"},
            "command": ["--config.file=/etc/prometheus/prometheus.yml"],
        },
        "sidecar": {"image": "busybox:1.36", "essential": False},
    },
    "volumes": {"config": {"efs": {"file_system_id": "fs-12345678"}}},
}


def spec_with(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SPEC), **changes}


def desired_of(aws: AwsContext, spec: dict[str, Any] | None = None, **tags: str) -> Desired:
    state = TASKS.canonical(TaskDefinitionSpec.model_validate(spec or SPEC).model_dump(mode="json"))
    return Desired("task_definitions.test", state["family"], state, {OWNER_TAG: aws.stack, **tags})


def delta_of(desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, TASKS.canonical(dict(live.state)))


def read(aws: AwsContext, *families: str) -> dict[Any, Live]:
    return TASKS.read(aws, list(families), ReadScope(aws.stack))


def ecs(aws: AwsContext) -> Any:
    return aws.client("ecs")


def mutations(aws: AwsContext, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in aws.stats.mutating().items() if v != before.get(k, 0)}


def revisions(aws: AwsContext, family: str = FAMILY) -> list[int]:
    return [int(arn.rsplit(":", 1)[1]) for arn in active_revisions(aws, family)]


def registered_by_hand(aws: AwsContext, family: str = FAMILY, edit: Any = None, **changes: Any) -> str:
    """A new revision registered outside the tool: a copy of the latest, tags included, with
    `changes` set and `edit` (a function changing the request in place) applied."""
    latest = ecs(aws).describe_task_definition(taskDefinition=family, include=["TAGS"])
    definition = latest["taskDefinition"]
    keep = (
        "family",
        "containerDefinitions",
        "cpu",
        "memory",
        "networkMode",
        "requiresCompatibilities",
        "executionRoleArn",
        "taskRoleArn",
        "volumes",
        "runtimePlatform",
        "ephemeralStorage",
        "proxyConfiguration",
    )
    request = copy.deepcopy({k: definition[k] for k in keep if k in definition})
    request.update(changes)
    if edit is not None:
        edit(request)
    made = ecs(aws).register_task_definition(**request, tags=latest.get("tags") or [])
    return str(made["taskDefinition"]["taskDefinitionArn"])


# Registry ---------------------------------------------------------------------------------------------


def test_kind_is_registered_with_its_metadata() -> None:
    kind = KINDS["task_definitions"]
    assert isinstance(kind, TaskDefinitions) and kind.meta.taggable
    assert kind.meta.identity == "family"
    assert set(kind.meta.attributes) == {"family", "arn"}
    assert not kind.meta.stateful


# The cycle ----------------------------------------------------------------------------------------------


def test_create_read_drift_update_delete(aws: AwsContext) -> None:
    desired = desired_of(aws, Name="prometheus")
    created = TASKS.create(aws, desired)
    assert created.attrs["arn"].endswith(":task-definition/prometheus:1")
    assert aws.stats.mutating() == {"ecs.RegisterTaskDefinition": 1}, "tags go in the register call"

    live = read(aws, FAMILY)[FAMILY]
    assert delta_of(desired, live).paths() == []
    assert live.tags == desired.tags, "the keep-revisions bookkeeping tag is not shown"
    assert live.attrs["arn"] == created.attrs["arn"]

    # By hand: a new revision with another image and one environment variable more.
    containers = ecs(aws).describe_task_definition(taskDefinition=FAMILY)["taskDefinition"][
        "containerDefinitions"
    ]
    changed = copy.deepcopy(containers)
    for container in changed:
        if container["name"] == "prometheus":
            container["image"] = "prom/prometheus:v2.50.0"
            container["environment"].append({"name": "EXTRA", "value": "x"})
    registered_by_hand(aws, containerDefinitions=changed)
    ecs(aws).untag_resource(resourceArn=active_revisions(aws, FAMILY)[0], tagKeys=["Name"])

    drifted = read(aws, FAMILY)[FAMILY]
    delta = delta_of(desired, drifted)
    assert delta.paths() == ["containers.prometheus.image", "containers.prometheus.environment.EXTRA"]
    tag_changes = compare_tags(drifted.tags, desired.tags)
    assert tag_changes.to_set == {"Name": "prometheus"}

    before = dict(aws.stats.mutating())
    updated = TASKS.update(aws, desired, drifted, delta)
    assert mutations(aws, before) == {"ecs.RegisterTaskDefinition": 1, "ecs.DeregisterTaskDefinition": 1}
    assert revisions(aws) == [3, 2], "the previous revision stays (keep_revisions: 1), older ones go"
    assert updated.attrs["arn"].endswith(":3")

    fixed = read(aws, FAMILY)[FAMILY]
    assert delta_of(desired, fixed).paths() == []
    assert fixed.tags == desired.tags, "a new revision carries the spec's tags"

    TASKS.delete(aws, fixed)
    assert revisions(aws) == []
    assert read(aws, FAMILY) == {}


def test_an_unchanged_family_is_never_registered_again(aws: AwsContext) -> None:
    desired = desired_of(aws)
    TASKS.create(aws, desired)
    for _ in range(3):
        assert delta_of(desired, read(aws, FAMILY)[FAMILY]).paths() == []
    assert aws.stats.mutating() == {"ecs.RegisterTaskDefinition": 1}
    assert revisions(aws) == [1]


# Trap 1: AWS's defaults and ordering --------------------------------------------------------------------


def test_aws_defaults_and_ordering_do_not_differ(aws: AwsContext) -> None:
    """A revision written the way a person (or AWS) writes it, not the way this tool does."""
    ecs(aws).register_task_definition(
        family=FAMILY,
        cpu="512",
        memory="1024",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        executionRoleArn=EXECUTION_ROLE,
        containerDefinitions=[
            {"name": "sidecar", "image": "busybox:1.36", "essential": False, "volumesFrom": []},
            {
                "name": "prometheus",
                "image": "prom/prometheus:v2.53.0",  # essential, cpu and protocol left out
                "portMappings": [{"containerPort": 9090, "hostPort": 9090}],
                "environment": [{"name": "A_FIRST", "value": "1"}, {"name": "B_SECOND", "value": "2"}],
                "secrets": [{"name": "ADMIN_PASSWORD_FILE_CONTENT", "valueFrom": PARAMETER}],
                "mountPoints": [
                    {"sourceVolume": "config", "containerPath": "/etc/prometheus", "readOnly": True}
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-stream-prefix": "ecs",
                        "awslogs-region": REGION,
                        "awslogs-group": "/aws/ecs/prometheus",
                    },
                },
                "command": ["--config.file=/etc/prometheus/prometheus.yml"],
            },
        ],
        volumes=[
            {
                "name": "config",
                "efsVolumeConfiguration": {
                    "fileSystemId": "fs-12345678",
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                },
            }
        ],
        tags=[{"key": OWNER_TAG, "value": aws.stack}, {"key": KEEP_TAG, "value": "1"}],
    )
    assert delta_of(desired_of(aws), read(aws, FAMILY)[FAMILY]).paths() == []


@pytest.mark.parametrize(
    ("written", "returned"),
    [
        (
            {"portMappings": [{"containerPort": 80}]},
            {"portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]},
        ),
        (
            {},
            {
                "essential": True,
                "cpu": 0,
                "mountPoints": [],
                "volumesFrom": [],
                "environment": [],
                "secrets": [],
            },
        ),
        (
            {"environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]},
        ),
        (
            {"portMappings": [{"containerPort": 80}, {"containerPort": 53, "protocol": "udp"}]},
            {
                "portMappings": [
                    {"containerPort": 53, "hostPort": 53, "protocol": "udp"},
                    {"containerPort": 80, "hostPort": 80, "protocol": "tcp"},
                ]
            },
        ),
    ],
)
def test_container_normal_form(written: dict[str, Any], returned: dict[str, Any]) -> None:
    base = {"name": "c", "image": "x:1"}
    assert container_state({**base, **written}, REGION) == container_state({**base, **returned}, REGION)


def test_a_log_configuration_is_compared_field_by_field(aws: AwsContext) -> None:
    elsewhere = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"},
    }
    state = container_state({"name": "c", "image": "x:1", "logConfiguration": elsewhere}, REGION)
    assert state["log"] == {"group": "g", "stream_prefix": "ecs", "region": "us-east-1"}
    assert diff_states({"log": {"group": "g", "stream_prefix": "ecs"}}, state).paths() == ["log.region"]
    none = container_state({"name": "c", "image": "x:1"}, REGION)
    assert diff_states({"log": {}}, state).paths() == ["log"], "a log configuration added by hand shows"
    assert none["log"] == {}


# Revisions kept ------------------------------------------------------------------------------------------


def test_keep_revisions_change_deregisters_without_registering(aws: AwsContext) -> None:
    desired = desired_of(aws)
    TASKS.create(aws, desired)
    registered_by_hand(aws)
    registered_by_hand(aws)  # three identical revisions: two superseded, one more than kept
    live = read(aws, FAMILY)[FAMILY]
    assert delta_of(desired, live).paths() == ["keep_revisions"]
    assert live.state["keep_revisions"] == 2

    before = dict(aws.stats.mutating())
    TASKS.update(aws, desired, live, delta_of(desired, live))
    assert mutations(aws, before) == {"ecs.DeregisterTaskDefinition": 1, "ecs.TagResource": 1}
    assert revisions(aws) == [3, 2]
    assert delta_of(desired, read(aws, FAMILY)[FAMILY]).paths() == []

    none_kept = desired_of(aws, spec_with(keep_revisions=0))
    live = read(aws, FAMILY)[FAMILY]
    assert delta_of(none_kept, live).paths() == ["keep_revisions"]
    TASKS.update(aws, none_kept, live, delta_of(none_kept, live))
    assert revisions(aws) == [3]
    assert delta_of(none_kept, read(aws, FAMILY)[FAMILY]).paths() == []


def test_fewer_superseded_revisions_than_kept_is_no_difference(aws: AwsContext) -> None:
    desired = desired_of(aws, spec_with(keep_revisions=5))
    TASKS.create(aws, desired)
    assert read(aws, FAMILY)[FAMILY].state["keep_revisions"] == 5
    assert delta_of(desired, read(aws, FAMILY)[FAMILY]).paths() == []


# Reads ------------------------------------------------------------------------------------------------------


def test_read_covers_owned_families_and_requested_unowned_ones(aws: AwsContext) -> None:
    TASKS.create(aws, desired_of(aws))  # owned, not requested
    plain = {
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{"name": "c", "image": "x:1"}],
    }
    ecs(aws).register_task_definition(
        family="prometheus-exporter", **plain, tags=[{"key": "Team", "value": "pacs"}]
    )
    ecs(aws).register_task_definition(family="other", **plain, tags=[{"key": OWNER_TAG, "value": "other"}])

    found = read(aws, "prometheus-exporter", "absent")

    assert set(found) == {FAMILY, "prometheus-exporter"}
    assert found["prometheus-exporter"].tags == {"Team": "pacs"}
    assert revisions(aws, FAMILY) == [1], "familyPrefix matches longer names: only the exact family counts"


def test_the_latest_active_revision_is_compared(aws: AwsContext) -> None:
    desired = desired_of(aws)
    TASKS.create(aws, desired)
    newest = registered_by_hand(aws, cpu="1024", memory="2048")
    ecs(aws).deregister_task_definition(taskDefinition=newest)  # INACTIVE: no longer what runs next
    live = read(aws, FAMILY)[FAMILY]
    assert live.attrs["arn"].endswith(":1")
    assert delta_of(desired, live).paths() == []


def test_several_families_are_listed_in_one_call_and_hand_made_revisions_still_show(aws: AwsContext) -> None:
    desired = desired_of(aws)
    grafana = desired_of(aws, spec_with(family="grafana"))
    TASKS.create(aws, desired)
    TASKS.create(aws, grafana)
    registered_by_hand(aws, cpu="1024", memory="2048")  # a newer revision of prometheus, by hand
    registered_by_hand(aws, family="grafana")  # one more ACTIVE grafana revision than kept
    registered_by_hand(aws, family="grafana")
    before = dict(aws.stats.calls)

    found = read(aws, FAMILY, "grafana")

    calls = {k: v - before.get(k, 0) for k, v in aws.stats.calls.items() if v != before.get(k, 0)}
    assert calls["ecs.ListTaskDefinitions"] == 1  # the account's ACTIVE revisions, not one call a family
    assert found[FAMILY].attrs["arn"].endswith(":2")
    assert delta_of(desired, found[FAMILY]).paths() == ["cpu", "memory"]
    assert found["grafana"].state["keep_revisions"] == 2
    assert delta_of(grafana, found["grafana"]).paths() == ["keep_revisions"]


def test_an_account_of_many_task_definitions_is_read_family_by_family(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AWS lists 100 task definitions a page (moto lists all at once): more pages than families
    # means the account listing stops and each family is listed by its name.
    from pacs_reconcile.resources.common import AccountListing

    TASKS.create(aws, desired_of(aws))
    TASKS.create(aws, desired_of(aws, spec_with(family="grafana")))
    monkeypatch.setattr(AccountListing, "within", lambda self, max_pages: None)
    before = dict(aws.stats.calls)
    found = read(aws, FAMILY, "grafana")
    assert set(found) == {FAMILY, "grafana"}
    assert aws.stats.calls["ecs.ListTaskDefinitions"] - before.get("ecs.ListTaskDefinitions", 0) == 2


# Validation -------------------------------------------------------------------------------------------------


def container(**changes: Any) -> dict[str, Any]:
    return spec_with(containers={"prometheus": {"image": "prom/prometheus:v2.53.0", **changes}})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (container(image="prom/prometheus:latest"), "moving tag 'latest'"),
        (container(image="prom/prometheus"), "has no tag: pin a version"),
        (container(image="registry.local:5000/prometheus"), "has no tag"),
        (container(image="prom/prometheus@sha256:abc"), "64 hex digits"),
        (spec_with(cpu=512, memory=512), "cpu 512 takes memory 1024 to 4096 MiB in steps of 1024"),
        (spec_with(cpu=300), "not a Fargate task size"),
        (container(environment={"GF_SECURITY_ADMIN_PASSWORD": "x"}), "looks like a secret"),
        (container(secrets={"TOKEN": "plain-text"}), "must come from an SSM parameter or Secrets Manager"),
        (
            container(environment={"A": "1"}, secrets={"A": PARAMETER}),
            "A set in both environment and secrets",
        ),
        (
            container(mount_points=[{"source_volume": "data", "container_path": "/data"}]),
            "not one of the task's",
        ),
        (container(mount_points=[{"source_volume": "config", "container_path": "data"}]), "absolute path"),
        (container(essential=False), "at least one container must be essential"),
        (
            {**container(log={"group": "g", "stream_prefix": "ecs"}), "execution_role_arn": ""},
            "uses awslogs: set execution_role_arn",
        ),
        (spec_with(network_mode="bridge"), "awsvpc"),
        (spec_with(containers={}), "at least 1 item"),
        (container(port_mappings=[{"container_port": 70000}]), "less than or equal to 65535"),
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        TaskDefinitionSpec.model_validate(spec)


def test_pinned_images_and_plain_environment_values_are_accepted() -> None:
    digest = "prom/prometheus@sha256:" + "a" * 64
    spec = TaskDefinitionSpec.model_validate(
        container(image=digest, environment={"PORT": 9090, "DEBUG": True})
    )
    assert spec.containers["prometheus"].environment == {"PORT": "9090", "DEBUG": "true"}
    for image in ("grafana/grafana:11.1.0", "registry.local:5000/team/app:2024-06-01", "${var.image}"):
        TaskDefinitionSpec.model_validate(container(image=image))
