"""Task definition attributes beyond the basic Fargate shape, against moto: each is expressible,
converges (register -> read -> no difference -> nothing registered again), shows a change at its
path, is seen when changed by hand, and round-trips through export."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.ecs import TaskDefinitions, TaskDefinitionSpec, register_request

from .exported import exported_state
from .test_ecs import registered_by_hand

TASKS = TaskDefinitions()
REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pacs-ecs-task-execution"

FARGATE: dict[str, Any] = {
    "family": "pacs-exporter",
    "cpu": 1024,
    "memory": 2048,
    "runtime_platform": {"cpu_architecture": "ARM64"},
    "ephemeral_storage": 40,
    "execution_role_arn": EXECUTION_ROLE,
    "containers": {
        "exporter": {
            "image": "prom/node-exporter:v1.8.1",
            "memory": 1024,
            "memory_reservation": 512,
            "entry_point": ["/bin/node_exporter"],
            "command": ["--web.listen-address=:9100"],
            "working_directory": "/srv",
            "user": "65534",
            "readonly_root_filesystem": True,
            "stop_timeout": 60,
            "port_mappings": [{"container_port": 9100}],
            "health_check": {"command": ["CMD-SHELL", "wget -q -O- http://localhost:9100/ || exit 1"]},
            "depends_on": {"init": "SUCCESS", "envoy": "START"},
            "ulimits": {"nofile": {"soft_limit": 65536, "hard_limit": 65536}},
            "linux_parameters": {"init_process_enabled": True, "capabilities": {"add": ["SYS_PTRACE"]}},
            "docker_labels": {"team": "pacs", "scrape": True},
            "mount_points": [{"source_volume": "data", "container_path": "/data"}],
        },
        "init": {"image": "busybox:1.36", "essential": False, "command": ["true"]},
        "envoy": {"image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.5.0-prod", "user": "1337"},
    },
    "volumes": {
        "data": {
            "efs": {
                "file_system_id": "fs-12345678",
                "transit_encryption_port": 2999,
                "authorization_config": {"access_point_id": "fsap-0123456789abcdef0", "iam": True},
            }
        }
    },
    "proxy_configuration": {
        "container_name": "envoy",
        "properties": {"IgnoredUID": 1337, "ProxyIngressPort": 15000, "AppPorts": "9100"},
    },
}

EC2: dict[str, Any] = {
    "family": "pacs-ec2-agent",
    "requires_compatibilities": ["EC2"],
    "network_mode": "bridge",
    "containers": {
        "agent": {
            "image": "grafana/agent:v0.40.0",
            # Both limits; the soft limit alone is test_an_ec2_container_with_a_memory_reservation_alone.
            "memory": 512,
            "memory_reservation": 256,
            "port_mappings": [{"container_port": 12345, "host_port": 12345}, {"container_port": 80}],
            "linux_parameters": {
                "shared_memory_size": 64,
                "max_swap": 512,
                "swappiness": 10,
                "tmpfs": [{"container_path": "/tmp", "size": 64, "mount_options": ["noexec"]}],
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
            },
        }
    },
}


def desired_of(aws: AwsContext, spec: dict[str, Any]) -> Desired:
    state = TASKS.canonical(TaskDefinitionSpec.model_validate(spec).model_dump(mode="json"))
    return Desired("task_definitions.test", state["family"], state, {OWNER_TAG: aws.stack})


def read(aws: AwsContext, family: str) -> Live:
    return TASKS.read(aws, [family], ReadScope(aws.stack))[family]


def delta_of(desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, TASKS.canonical(dict(live.state)))


def edited(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return out


@pytest.mark.parametrize("spec", [FARGATE, EC2], ids=["fargate-arm64", "ec2-bridge"])
def test_every_attribute_converges(aws: AwsContext, spec: dict[str, Any]) -> None:
    desired = desired_of(aws, spec)
    TASKS.create(aws, desired)
    for _ in range(2):
        assert delta_of(desired, read(aws, spec["family"])).paths() == []
    assert aws.stats.mutating() == {"ecs.RegisterTaskDefinition": 1}, "registered once, never again"


def test_what_is_registered_is_what_aws_expects() -> None:
    request = register_request(desired_of_offline(FARGATE), REGION)
    assert request["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert request["ephemeralStorage"] == {"sizeInGiB": 40}
    assert request["proxyConfiguration"]["properties"][0] == {"name": "AppPorts", "value": "9100"}
    exporter = next(c for c in request["containerDefinitions"] if c["name"] == "exporter")
    assert exporter["dependsOn"] == [
        {"containerName": "envoy", "condition": "START"},
        {"containerName": "init", "condition": "SUCCESS"},
    ]
    assert exporter["healthCheck"] == {
        "command": ["CMD-SHELL", "wget -q -O- http://localhost:9100/ || exit 1"],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 0,
    }
    assert exporter["dockerLabels"] == {"team": "pacs", "scrape": "true"}
    assert exporter["linuxParameters"] == {
        "initProcessEnabled": True,
        "capabilities": {"add": ["SYS_PTRACE"], "drop": []},
    }
    efs = request["volumes"][0]["efsVolumeConfiguration"]
    assert efs["transitEncryptionPort"] == 2999
    assert efs["authorizationConfig"] == {"iam": "ENABLED", "accessPointId": "fsap-0123456789abcdef0"}
    ec2 = register_request(desired_of_offline(EC2), REGION)
    assert "cpu" not in ec2 and "memory" not in ec2, "an EC2 task may leave the task size out"
    ports = ec2["containerDefinitions"][0]["portMappings"]
    assert ports == [
        {"containerPort": 12345, "protocol": "tcp", "hostPort": 12345},
        {"containerPort": 80, "protocol": "tcp"},
    ], "bridge: a host port only where the spec names one (otherwise dynamic)"


def desired_of_offline(spec: dict[str, Any]) -> dict[str, Any]:
    return TASKS.canonical(TaskDefinitionSpec.model_validate(spec).model_dump(mode="json"))


EDITS: list[tuple[str, Any]] = [
    ("containers.exporter.memory", 1536),
    ("containers.exporter.memory_reservation", 256),
    ("containers.exporter.entry_point", ["/bin/sh"]),
    ("containers.exporter.command", []),
    ("containers.exporter.working_directory", "/"),
    ("containers.exporter.user", "0"),
    ("containers.exporter.readonly_root_filesystem", False),
    ("containers.exporter.stop_timeout", 120),
    ("containers.exporter.health_check.retries", 5),
    ("containers.exporter.depends_on.init", "COMPLETE"),
    ("containers.exporter.ulimits.nofile.soft_limit", 1024),
    ("containers.exporter.linux_parameters.init_process_enabled", False),
    ("containers.exporter.docker_labels.team", "ops"),
    ("runtime_platform.cpu_architecture", "X86_64"),
    ("ephemeral_storage", 21),
    ("proxy_configuration.properties.AppPorts", "9101"),
    ("volumes.data.efs.transit_encryption_port", 3049),
    ("volumes.data.efs.authorization_config.iam", False),
]


@pytest.mark.parametrize(("path", "value"), EDITS, ids=[e[0] for e in EDITS])
def test_a_change_shows_at_its_path_and_converges(aws: AwsContext, path: str, value: Any) -> None:
    TASKS.create(aws, desired_of(aws, FARGATE))
    changed = desired_of(aws, edited(FARGATE, path, value))
    live = read(aws, "pacs-exporter")
    delta = delta_of(changed, live)
    assert delta.paths() == [path]
    TASKS.update(aws, changed, live, delta)
    assert delta_of(changed, read(aws, "pacs-exporter")).paths() == []


def _container(request: dict[str, Any], name: str = "exporter") -> dict[str, Any]:
    return next(c for c in request["containerDefinitions"] if c["name"] == name)


OUT_OF_BAND = [
    (lambda r: _container(r)["healthCheck"].update(interval=10), "containers.exporter.health_check.interval"),
    (lambda r: _container(r).update(ulimits=[]), "containers.exporter.ulimits.nofile"),
    (lambda r: _container(r).update(user="root"), "containers.exporter.user"),
    (lambda r: _container(r)["dockerLabels"].update(extra="x"), "containers.exporter.docker_labels.extra"),
    (
        lambda r: _container(r, "init").update(healthCheck={"command": ["CMD", "true"]}),
        "containers.init.health_check",
    ),
    (
        lambda r: r.update(runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}),
        "runtime_platform.cpu_architecture",
    ),
    (lambda r: r.pop("proxyConfiguration"), "proxy_configuration.container_name"),
    (
        lambda r: r["volumes"][0]["efsVolumeConfiguration"].pop("authorizationConfig"),
        "volumes.data.efs.authorization_config.access_point_id",
    ),
]


@pytest.mark.parametrize(("change", "shown"), OUT_OF_BAND, ids=[o[1] for o in OUT_OF_BAND])
def test_a_change_by_hand_is_seen_and_restored(aws: AwsContext, change: Any, shown: str) -> None:
    desired = desired_of(aws, FARGATE)
    TASKS.create(aws, desired)
    registered_by_hand(aws, "pacs-exporter", change)
    live = read(aws, "pacs-exporter")
    delta = delta_of(desired, live)
    assert shown in delta.paths()
    TASKS.update(aws, desired, live, delta)
    assert delta_of(desired, read(aws, "pacs-exporter")).paths() == []


@pytest.mark.parametrize("spec", [FARGATE, EC2], ids=["fargate-arm64", "ec2-bridge"])
def test_export_round_trips(aws: AwsContext, spec: dict[str, Any]) -> None:
    desired = desired_of(aws, spec)
    TASKS.create(aws, desired)
    exported, result = exported_state(aws, "task_definitions", spec["family"])
    assert diff_states(exported, desired.state).paths() == []
    assert diff_states(desired.state, exported).paths() == []
    assert result.notes == [], "nothing left unmanaged"


def test_an_unpinned_image_is_refused_unless_the_entry_relaxes_it(aws: AwsContext) -> None:
    unpinned = edited(EC2, "containers.agent.image", "grafana/agent:latest")
    with pytest.raises(ValidationError, match="set require_pinned_image: false on this container"):
        TaskDefinitionSpec.model_validate(unpinned)
    relaxed = edited(unpinned, "containers.agent.require_pinned_image", False)
    desired = desired_of(aws, relaxed)
    TASKS.create(aws, desired)
    assert delta_of(desired, read(aws, "pacs-ec2-agent")).paths() == []
    result = export(aws, aws.stack, Selection(kinds=("task_definitions",), prefix="pacs-ec2-agent"))
    config = result.entries["task_definitions"][0].config
    assert config["containers"]["agent"]["require_pinned_image"] is False, "the export stays valid"
    with pytest.raises(ValidationError, match="64 hex digits"):
        TaskDefinitionSpec.model_validate(edited(relaxed, "containers.agent.image", "grafana/agent@sha256:x"))


def ec2_container(**changes: Any) -> dict[str, Any]:
    return edited(EC2, "containers.agent", {**EC2["containers"]["agent"], **changes})


def fargate_container(**changes: Any) -> dict[str, Any]:
    return edited(FARGATE, "containers.exporter", {**FARGATE["containers"]["exporter"], **changes})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (fargate_container(stop_timeout=121), "above Fargate's 120 seconds"),
        (fargate_container(memory=512, memory_reservation=1024), "soft limit must not exceed"),
        (fargate_container(memory=4), "greater than or equal to 6"),
        (fargate_container(health_check={"command": ["curl", "x"]}), "starts with CMD"),
        (
            fargate_container(health_check={"command": ["CMD", "x"], "interval": 1}),
            "greater than or equal to 5",
        ),
        (fargate_container(depends_on={"init": "HEALTHY"}), "HEALTHY needs init to have a health_check"),
        (fargate_container(depends_on={"envoy": "COMPLETE"}), "cannot name an essential container"),
        (fargate_container(depends_on={"nobody": "START"}), "not another container"),
        (fargate_container(ulimits={"nofile": {"soft_limit": 2, "hard_limit": 1}}), "above hard_limit"),
        (fargate_container(ulimits={"files": {"soft_limit": 1, "hard_limit": 1}}), "nofile"),
        (
            fargate_container(linux_parameters={"capabilities": {"add": ["NET_ADMIN"]}}),
            "FARGATE only lets a container add SYS_PTRACE",
        ),
        (
            fargate_container(linux_parameters={"shared_memory_size": 64}),
            "shared_memory_size: not supported on FARGATE",
        ),
        (edited(FARGATE, "ephemeral_storage", 201), "less than or equal to 200"),
        (edited(FARGATE, "runtime_platform.cpu_architecture", "ARM"), "X86_64"),
        (edited(FARGATE, "proxy_configuration.container_name", "nginx"), "not one of the containers"),
        (edited(FARGATE, "network_mode", "bridge"), "FARGATE needs network_mode awsvpc"),
        (edited(FARGATE, "cpu", None), "sets the task's cpu and memory"),
        (
            edited(FARGATE, "volumes.data.efs.transit_encryption", False),
            "needs transit_encryption: true",
        ),
        (edited(FARGATE, "volumes.data.efs.root_directory", "/data"), "root_directory must be /"),
        (ec2_container(memory=None, memory_reservation=None), "set memory or memory_reservation"),
        (
            edited(
                edited(EC2, "network_mode", "awsvpc"),
                "containers.agent.port_mappings",
                [{"container_port": 80, "host_port": 8080}],
            ),
            "leave host_port out",
        ),
        (edited(EC2, "requires_compatibilities", ["EXTERNAL"]), "FARGATE"),
        (edited(EC2, "cpu", 64), "greater than or equal to 128"),
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        TaskDefinitionSpec.model_validate(spec)


def test_an_ec2_container_with_a_memory_reservation_alone_converges(aws: AwsContext) -> None:
    """The soft limit alone is enough where the task sets no memory (ContainerDefinition,
    memoryReservation; ECS API reference)."""
    spec = ec2_container(memory=None, memory_reservation=256)
    desired = desired_of(aws, spec)
    TASKS.create(aws, desired)
    assert delta_of(desired, read(aws, "pacs-ec2-agent")).paths() == []
    exported, _ = exported_state(aws, "task_definitions", "pacs-ec2-agent")
    assert diff_states(exported, desired.state).paths() == []
