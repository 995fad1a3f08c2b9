"""ECS task definitions (Fargate and EC2); their containers are described in _ecs_containers.

A task definition family is compared with its latest ACTIVE revision. AWS fills in defaults and
may reorder lists (AWS-NOTES item 1: `essential: true`, `cpu: 0`, `volumesFrom: []`,
`mountPoints: []`, `hostPort` = `containerPort` under awsvpc, protocol `tcp`; containers,
environment and secrets in any order), so both sides are normalized onto the spec's shape:
containers and volumes are mappings by name, environment and secrets mappings by variable name,
port mappings and mount points sorted lists. RegisterTaskDefinition always makes a new revision,
so it is called only when that comparison finds a real difference.

Superseded revisions: after a new revision, the previous `keep_revisions` ACTIVE ones stay (to
roll back to) and older ones are deregistered. The number the family was last applied with is
recorded on the latest revision in the bookkeeping tag `pacs-reconcile:keep-revisions` (never
shown among the resource's tags), so the live `keep_revisions` is that number while no more
superseded revisions than it are ACTIVE, and the count of ACTIVE superseded revisions otherwise.

Tags belong to each revision: a new revision is registered with the spec's tags, tag changes go
to the latest revision. Reads: ListTaskDefinitions (ACTIVE, exact family) and one
DescribeTaskDefinition(include TAGS) per family; owned families come from the run's tagging sweep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ..aws import AwsContext
from ..diff import Delta, TagChanges, diff_states
from ._ecs_containers import (
    FARGATE_ADDABLE_CAPABILITIES,
    FARGATE_MAX_STOP_TIMEOUT,
    ContainerSpec,
    NetworkMode,
    canonical_container,
    container_request,
    container_state,
    text_values,
)
from ._fields import ROLE_ARN_OR_EMPTY, matching
from ._look_before_retry import look_before_retrying
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    AccountListing,
    arn_resource,
    concurrently,
    declared_then_owned,
    made_by_this_apply,
    memo_until_write,
    names_with_prefix,
    one_by_one,
    owned_of,
    read_pages,
    unless_gone,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

KEEP_TAG = "pacs-reconcile:keep-revisions"
BOOKKEEPING_PREFIX = "pacs-reconcile:"
MAX_KEEP_REVISIONS = 100

# Fargate's valid task sizes: CPU units (1024 = 1 vCPU) -> memory in MiB.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

MIN_EC2_TASK_CPU, MAX_EC2_TASK_CPU = 128, 196608
"""Task-level cpu of an EC2 task: 128 (0.125 vCPU) to 196608 units (TaskDefinition.cpu)."""
DEFAULT_EPHEMERAL_GIB = 21
"""EphemeralStorage.sizeInGiB: 21 (what a Fargate task gets without one, and AWS reports) to 200."""

Compatibility = Literal["FARGATE", "EC2"]
OsFamily = Literal[
    "LINUX",
    "WINDOWS_SERVER_2016_FULL",
    "WINDOWS_SERVER_2019_FULL",
    "WINDOWS_SERVER_2019_CORE",
    "WINDOWS_SERVER_2004_CORE",
    "WINDOWS_SERVER_20H2_CORE",
    "WINDOWS_SERVER_2022_FULL",
    "WINDOWS_SERVER_2022_CORE",
    "WINDOWS_SERVER_2025_FULL",
    "WINDOWS_SERVER_2025_CORE",
]
"""OSFamily in the ECS API reference (RuntimePlatform)."""

_FAMILY = re.compile(r"[A-Za-z0-9_-]{1,255}")

# Validators ------------------------------------------------------------------------------------


def check_fargate_size(cpu: int | None, memory: int | None) -> None:
    if cpu is None or memory is None:
        raise ValueError("a FARGATE task definition sets the task's cpu and memory")
    sizes = FARGATE_MEMORY.get(cpu)
    if sizes is None:
        allowed = ", ".join(str(c) for c in FARGATE_MEMORY)
        raise ValueError(f"cpu {cpu} is not a Fargate task size; use one of {allowed} (1024 = 1 vCPU)")
    if memory not in sizes:
        step = sizes[1] - sizes[0]
        raise ValueError(
            f"cpu {cpu} takes memory {sizes[0]} to {sizes[-1]} MiB in steps of {step}; "
            f"{memory} is not one of them"
        )


def _fargate_only() -> list[Compatibility]:
    return ["FARGATE"]


# Spec models ------------------------------------------------------------------------------------


class EfsAuthorizationSpec(SpecModel):
    """How the task authenticates to EFS (ECS API reference, EFSAuthorizationConfig)."""

    access_point_id: str = ""
    """Mount through this EFS access point, e.g. `fsap-0123456789abcdef0` (needs transit
    encryption; root_directory must then be /). Empty: none."""
    iam: bool = False
    """Authenticate with the task's IAM role (needs transit encryption)."""


class EfsVolumeSpec(SpecModel):
    """An EFS file system mounted as a task volume."""

    file_system_id: str
    """The file system, e.g. `${efs_file_systems.prometheus_config.id}`."""
    root_directory: str = "/"
    """Directory of the file system mounted as the volume's root."""
    transit_encryption: bool = True
    """Encrypt NFS traffic between the task and EFS (TLS)."""
    transit_encryption_port: int | None = Field(default=None, ge=1, le=65535)
    """Local port of the encrypted NFS traffic. Unset: not managed (the EFS mount helper picks one)."""
    authorization_config: EfsAuthorizationSpec = Field(default_factory=EfsAuthorizationSpec)
    """Access point and IAM authorization."""

    @model_validator(mode="after")
    def _coherent(self) -> EfsVolumeSpec:
        auth = self.authorization_config
        uses = [what for what, used in (("an access point", auth.access_point_id), ("IAM", auth.iam)) if used]
        if uses and not self.transit_encryption:
            raise ValueError(f"authorization with {' and '.join(uses)} needs transit_encryption: true")
        if self.transit_encryption_port is not None and not self.transit_encryption:
            raise ValueError("transit_encryption_port needs transit_encryption: true")
        if auth.access_point_id and self.root_directory not in ("/", ""):
            raise ValueError(
                "with an access point, root_directory must be / (the access point's own path applies)"
            )
        return self


class VolumeSpec(SpecModel):
    """A task volume. Its name is its key under `volumes`; volumes here are EFS."""

    efs: EfsVolumeSpec
    """The EFS file system behind the volume."""


class RuntimePlatformSpec(SpecModel):
    """The platform the task runs on (ECS API reference, RuntimePlatform); the defaults are what
    AWS reports for a task definition registered without one."""

    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    """X86_64 or ARM64 (Graviton)."""
    operating_system_family: OsFamily = "LINUX"
    """LINUX or a WINDOWS_SERVER_* family."""


class ProxyConfigurationSpec(SpecModel):
    """An App Mesh proxy for the task (ECS API reference, ProxyConfiguration)."""

    type: Literal["APPMESH"] = "APPMESH"
    """The proxy type: APPMESH."""
    container_name: str
    """The task's container that is the proxy (e.g. envoy)."""
    properties: dict[str, str] = Field(default_factory=dict)
    """Proxy settings, e.g. `{IgnoredUID: "1337", ProxyIngressPort: "15000", AppPorts: "9090"}`."""

    @field_validator("properties", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return text_values(value)


class TaskDefinitionSpec(SpecModel):
    """An ECS task definition for Fargate (network mode awsvpc) or EC2."""

    family: Annotated[str, matching(_FAMILY, "a family is 1-255 letters, digits, '-' and '_'")]
    """The family name (the identity; each change registers a new revision in it)."""
    cpu: int | None = Field(default=None, ge=MIN_EC2_TASK_CPU, le=MAX_EC2_TASK_CPU)
    """Task CPU units (1024 = 1 vCPU). FARGATE: 256, 512, 1024, 2048, 4096, 8192 or 16384.
    EC2 only: optional, 128 to 196608."""
    memory: int | None = Field(default=None, ge=1)
    """Task memory in MiB. FARGATE: valid for the cpu (Fargate's table), e.g. cpu 512 -> 1024 to
    4096. EC2 only: optional (each container then sets memory or memory_reservation)."""
    network_mode: NetworkMode = "awsvpc"
    """awsvpc (FARGATE needs it), or for EC2 only: bridge, host or none."""
    requires_compatibilities: list[Compatibility] = Field(default_factory=_fargate_only, min_length=1)
    """Launch types the task definition is validated for: FARGATE, EC2 or both."""
    runtime_platform: RuntimePlatformSpec = Field(default_factory=RuntimePlatformSpec)
    """CPU architecture and operating system family (e.g. ARM64 for Graviton)."""
    ephemeral_storage: int = Field(default=DEFAULT_EPHEMERAL_GIB, ge=DEFAULT_EPHEMERAL_GIB, le=200)
    """Ephemeral storage of a Fargate task in GiB, 21 (AWS's default) to 200."""
    execution_role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] = ""
    """Role ECS uses to pull images, read `secrets` and write logs (needed for both). Empty: none."""
    task_role_arn: Annotated[str, ROLE_ARN_OR_EMPTY] = ""
    """Role the containers' code runs as. Empty: none."""
    containers: dict[str, ContainerSpec] = Field(min_length=1)
    """The containers, by name."""
    volumes: dict[str, VolumeSpec] = Field(default_factory=dict)
    """Task volumes, by name (mount them with a container's mount_points)."""
    proxy_configuration: ProxyConfigurationSpec | None = None
    """App Mesh proxy configuration. Unset: none (one added by hand shows as a difference)."""
    keep_revisions: int = Field(default=1, ge=0, le=MAX_KEEP_REVISIONS)
    """How many superseded ACTIVE revisions to keep for rollback; older ones are deregistered."""

    @field_validator("containers", "volumes")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _FAMILY.fullmatch(name):
                raise ValueError(f"name {name!r}: use 1-255 letters, digits, '-' and '_'")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> TaskDefinitionSpec:
        fargate = "FARGATE" in self.requires_compatibilities
        if fargate:
            self._check_fargate()
        if not any(c.essential for c in self.containers.values()):
            raise ValueError("at least one container must be essential")
        for name, container in self.containers.items():
            self._check_container(name, container, fargate)
        proxy = self.proxy_configuration
        if proxy is not None and proxy.container_name not in self.containers:
            raise ValueError(
                f"proxy_configuration container_name {proxy.container_name!r} is not one of the containers"
            )
        return self

    def _check_fargate(self) -> None:
        check_fargate_size(self.cpu, self.memory)
        if self.network_mode != "awsvpc":
            raise ValueError(f"FARGATE needs network_mode awsvpc, not {self.network_mode}")

    def _check_container(self, name: str, container: ContainerSpec, fargate: bool) -> None:
        for mount in container.mount_points:
            if not is_unresolved(mount.source_volume) and mount.source_volume not in self.volumes:
                raise ValueError(
                    f"container {name}: mount point source_volume {mount.source_volume!r} "
                    "is not one of the task's volumes"
                )
        uses = (("secrets", container.secrets), ("awslogs", container.log))
        needs = [what for what, used in uses if used]
        if needs and not self.execution_role_arn:
            raise ValueError(
                f"container {name} uses {' and '.join(needs)}: set execution_role_arn (the "
                "role ECS uses to read secrets and write logs)"
            )
        for other, condition in container.depends_on.items():
            _check_dependency(name, other, condition, self.containers)
        if self.memory is None and container.memory is None and container.memory_reservation is None:
            raise ValueError(f"container {name}: set memory or memory_reservation (the task sets no memory)")
        for mapping in container.port_mappings:
            if self.network_mode != "bridge" and mapping.host_port not in (None, mapping.container_port):
                raise ValueError(
                    f"container {name}: under network_mode {self.network_mode} the host port is "
                    f"the container port ({mapping.container_port}); leave host_port out"
                )
        if fargate:
            _check_fargate_container(name, container)


def _check_dependency(name: str, other: str, condition: str, containers: Mapping[str, ContainerSpec]) -> None:
    """ContainerDependency: COMPLETE and SUCCESS cannot name an essential container; HEALTHY
    needs the other container's health check."""
    target = containers.get(other)
    if target is None or other == name:
        raise ValueError(f"container {name}: depends_on {other!r} is not another container of the task")
    if condition in ("COMPLETE", "SUCCESS") and target.essential:
        raise ValueError(
            f"container {name}: depends_on {other}: {condition} cannot name an essential container "
            "(it would stop the task when it exits)"
        )
    if condition == "HEALTHY" and target.health_check is None:
        raise ValueError(
            f"container {name}: depends_on {other}: HEALTHY needs {other} to have a health_check"
        )


def _check_fargate_container(name: str, container: ContainerSpec) -> None:
    """What Fargate refuses in a container (ContainerDefinition, LinuxParameters, KernelCapabilities)."""
    if container.stop_timeout is not None and container.stop_timeout > FARGATE_MAX_STOP_TIMEOUT:
        raise ValueError(
            f"container {name}: stop_timeout {container.stop_timeout} is above Fargate's "
            f"{FARGATE_MAX_STOP_TIMEOUT} seconds"
        )
    params = container.linux_parameters
    if params is None:
        return
    ec2_only = params.ec2_only_fields()
    if ec2_only:
        raise ValueError(
            f"container {name}: linux_parameters {', '.join(ec2_only)}: not supported on FARGATE"
        )
    added = sorted(set(params.capabilities.add) - FARGATE_ADDABLE_CAPABILITIES)
    if added:
        raise ValueError(
            f"container {name}: FARGATE only lets a container add SYS_PTRACE, not {', '.join(added)}"
        )


# Normal form ---------------------------------------------------------------------------------


def volume_state(volume: Mapping[str, Any]) -> dict[str, Any]:
    efs = volume.get("efsVolumeConfiguration")
    if efs is None:
        return {}
    auth = efs.get("authorizationConfig") or {}
    return {
        "efs": {
            "file_system_id": efs.get("fileSystemId"),
            "root_directory": efs.get("rootDirectory", "/"),
            "transit_encryption": efs.get("transitEncryption") == "ENABLED",
            "transit_encryption_port": efs.get("transitEncryptionPort"),
            "authorization_config": {
                "access_point_id": auth.get("accessPointId", ""),
                "iam": auth.get("iam") == "ENABLED",
            },
        }
    }


def runtime_platform_state(platform: Mapping[str, Any] | None) -> dict[str, Any]:
    """A task definition registered without a runtime platform reads as X86_64 / LINUX."""
    platform = platform or {}
    return {
        "cpu_architecture": platform.get("cpuArchitecture", "X86_64"),
        "operating_system_family": platform.get("operatingSystemFamily", "LINUX"),
    }


def proxy_state(proxy: Mapping[str, Any] | None) -> dict[str, Any]:
    if not proxy:
        return {}
    return {
        "type": proxy.get("type", "APPMESH"),
        "container_name": proxy.get("containerName"),
        "properties": {p["name"]: p.get("value", "") for p in proxy.get("properties", [])},
    }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def kept_revisions(tags: Mapping[str, str], active: int) -> int:
    """The live keep_revisions: the recorded number while no more are kept, else the count kept."""
    superseded = max(active - 1, 0)
    recorded = _int(tags.get(KEEP_TAG))
    return recorded if recorded is not None and superseded <= recorded else superseded


# AWS request shapes ------------------------------------------------------------------------------


def register_request(state: Mapping[str, Any], region: str) -> dict[str, Any]:
    mode = state["network_mode"]
    request: dict[str, Any] = {
        "family": state["family"],
        "networkMode": mode,
        "requiresCompatibilities": list(state["requires_compatibilities"]),
        "containerDefinitions": [
            container_request(name, container, region, mode)
            for name, container in sorted(state["containers"].items())
        ],
    }
    for field in ("cpu", "memory"):
        if state.get(field) is not None:
            request[field] = str(state[field])
    volumes = [_volume_request(n, v) for n, v in sorted(state.get("volumes", {}).items())]
    if volumes:
        request["volumes"] = volumes
    for field, key in (("execution_role_arn", "executionRoleArn"), ("task_role_arn", "taskRoleArn")):
        if state.get(field):
            request[key] = state[field]
    platform = state.get("runtime_platform")
    if platform and platform != runtime_platform_state(None):
        request["runtimePlatform"] = {
            "cpuArchitecture": platform["cpu_architecture"],
            "operatingSystemFamily": platform["operating_system_family"],
        }
    if state.get("ephemeral_storage", DEFAULT_EPHEMERAL_GIB) != DEFAULT_EPHEMERAL_GIB:
        request["ephemeralStorage"] = {"sizeInGiB": state["ephemeral_storage"]}
    proxy = state.get("proxy_configuration")
    if proxy:
        request["proxyConfiguration"] = {
            "type": proxy["type"],
            "containerName": proxy["container_name"],
            "properties": [{"name": k, "value": v} for k, v in sorted(proxy["properties"].items())],
        }
    return request


def _volume_request(name: str, volume: Mapping[str, Any]) -> dict[str, Any]:
    efs = volume["efs"]
    config: dict[str, Any] = {
        "fileSystemId": efs["file_system_id"],
        "rootDirectory": efs["root_directory"],
        "transitEncryption": "ENABLED" if efs["transit_encryption"] else "DISABLED",
    }
    if efs.get("transit_encryption_port") is not None:
        config["transitEncryptionPort"] = efs["transit_encryption_port"]
    auth = efs.get("authorization_config") or {}
    if auth.get("access_point_id") or auth.get("iam"):
        config["authorizationConfig"] = {"iam": "ENABLED" if auth["iam"] else "DISABLED"}
        if auth["access_point_id"]:
            config["authorizationConfig"]["accessPointId"] = auth["access_point_id"]
    return {"name": name, "efsVolumeConfiguration": config}


def _ecs_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def family_of(arn: str) -> tuple[str, int]:
    """(family, revision) of a task definition ARN (…:task-definition/FAMILY:REVISION)."""
    family, _, revision = arn_resource(arn).removeprefix("task-definition/").rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


# The reconciler --------------------------------------------------------------------------------


ECS_TAGS = TagApi(
    "ecs",
    "tag_resource",
    "untag_resource",
    "resourceArn",
    tags_param="tags",
    tag_fields=("key", "value"),
    keys_param="tagKeys",
)
"""ECS resources (task definitions, services) are tagged by ARN (`Live.handle`), with lower-case
key/value fields."""


def _list_task_definitions(ctx: AwsContext, prefix: str) -> list[str]:
    params = {"familyPrefix": prefix} if prefix else {}
    families = read_pages(
        ctx.client("ecs"), "list_task_definition_families", "families", status="ACTIVE", **params
    )
    return names_with_prefix(families, prefix)


@register
class TaskDefinitions(Reconciler):
    meta = KindMeta(
        kind="task_definitions",
        model=TaskDefinitionSpec,
        title="ECS task definition",
        identity="family",
        attributes=("family", "arn"),
        force_new=frozenset({"family"}),
        taggable=True,
        lister=_list_task_definitions,
        tag_api=ECS_TAGS,
        actions=KindActions(
            listing=frozenset({"ecs:ListTaskDefinitionFamilies"}),
            read=frozenset({"ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"}),
            write=frozenset(
                {
                    "ecs:RegisterTaskDefinition",
                    "ecs:DeregisterTaskDefinition",
                    "ecs:ListTaskDefinitions",
                    "ecs:TagResource",
                    "ecs:UntagResource",
                }
            ),
            delete=frozenset({"ecs:DeregisterTaskDefinition", "ecs:ListTaskDefinitions"}),
            passes_role_to="ecs-tasks.amazonaws.com",
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        mode = str(out.get("network_mode") or "awsvpc")
        if isinstance(out.get("containers"), Mapping):
            out["containers"] = {n: _compared_container(c, mode) for n, c in out["containers"].items()}
        if out.get("proxy_configuration") is None and "proxy_configuration" in out:
            out["proxy_configuration"] = {}  # none: compared whole, so one added by hand shows
        if isinstance(out.get("requires_compatibilities"), list):
            out["requires_compatibilities"] = sorted(out["requires_compatibilities"])
        return out

    def renewed_by_update(self, delta: Delta) -> frozenset[str]:
        # Any change but keep_revisions and tags registers a new revision: a new ARN, which services
        # referencing ${task_definitions.X.arn} must roll out in the same apply.
        return frozenset({"arn"}) if delta.without(["keep_revisions", "tags"]) else frozenset()

    # reading ----------------------------------------------------------------------------------
    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        def read_families(families: list[str]) -> dict[str, Live | None]:
            revisions = active_revisions_of(ctx, families)
            return one_by_one(lambda family: self._read_family(ctx, revisions[family]))(families)

        found = declared_then_owned(
            map(str, keys),
            lambda: (family_of(arn)[0] for arn in owned_of(ctx, scope.stack, "ecs", "task-definition/")),
            read_families,
        )
        return {live.key: live for _, live in sorted(found.items()) if live is not None}

    def _read_family(self, ctx: AwsContext, active: list[str]) -> Live | None:
        """The family's latest ACTIVE revision (`active`: its ACTIVE revisions, newest first)."""
        if not active:
            return None
        described = ctx.client("ecs").describe_task_definition(taskDefinition=active[0], include=["TAGS"])
        tags = {t["key"]: t["value"] for t in described.get("tags", [])}
        return self._live(ctx, described["taskDefinition"], tags, len(active))

    def _live(
        self, ctx: AwsContext, definition: Mapping[str, Any], tags: dict[str, str], active: int
    ) -> Live:
        mode = definition.get("networkMode", "bridge")  # ECS's default network mode on Linux
        state = {
            "family": definition["family"],
            "cpu": _int(definition.get("cpu")),
            "memory": _int(definition.get("memory")),
            "network_mode": mode,
            # Without requiresCompatibilities a definition is validated for EC2, the default launch type.
            "requires_compatibilities": sorted(definition.get("requiresCompatibilities") or ["EC2"]),
            "runtime_platform": runtime_platform_state(definition.get("runtimePlatform")),
            "ephemeral_storage": (definition.get("ephemeralStorage") or {}).get(
                "sizeInGiB", DEFAULT_EPHEMERAL_GIB
            ),
            "execution_role_arn": definition.get("executionRoleArn", ""),
            "task_role_arn": definition.get("taskRoleArn", ""),
            "containers": {
                c["name"]: container_state(c, ctx.region, mode) for c in definition["containerDefinitions"]
            },
            "volumes": {v["name"]: volume_state(v) for v in definition.get("volumes", [])},
            "proxy_configuration": proxy_state(definition.get("proxyConfiguration")),
            "keep_revisions": kept_revisions(tags, active),
        }
        arn = definition["taskDefinitionArn"]
        shown = {k: v for k, v in tags.items() if k != KEEP_TAG}
        return Live(definition["family"], state, {"family": definition["family"], "arn": arn}, shown, arn)

    # changing ---------------------------------------------------------------------------------
    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        return self._register(ctx, desired, carried={})

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        keep = desired.state["keep_revisions"]
        if delta.without(["keep_revisions"]):
            # Bookkeeping tags of the old revision (e.g. another tool's) carry over to the new one.
            carried = {k: v for k, v in (live.tags or {}).items() if k.startswith(BOOKKEEPING_PREFIX)}
            result = self._register(ctx, desired, carried)
        else:
            ctx.client("ecs").tag_resource(resourceArn=live.handle, tags=_ecs_tags({KEEP_TAG: str(keep)}))
            result = replace(live, state={**live.state, "keep_revisions": keep})
        self._deregister_superseded(ctx, desired.state["family"], keep)
        return result

    def delete(self, ctx: AwsContext, live: Live) -> None:
        for arn in active_revisions(ctx, str(live.key)):
            _deregister(ctx, arn)

    def update_tags(self, ctx: AwsContext, live: Live, changes: TagChanges) -> None:
        # Kept as an override: after a new revision `live` is that revision, registered with the
        # spec's tags already, so only what it lacks is tagged.
        have = live.tags or {}
        super().update_tags(
            ctx,
            live,
            TagChanges(
                {k: v for k, v in changes.to_set.items() if have.get(k) != v},
                [k for k in changes.to_unset if k in have],
            ),
        )

    # helpers ----------------------------------------------------------------------------------
    def _register(self, ctx: AwsContext, desired: Desired, carried: Mapping[str, str]) -> Live:
        keep = desired.state["keep_revisions"]
        tags = {**carried, **desired.tags, KEEP_TAG: str(keep)}
        request = register_request(desired.state, ctx.region)
        ecs = ctx.client("ecs")
        # Every RegisterTaskDefinition makes a revision, a repeated one too: a retry after a lost
        # response first looks whether the lost attempt registered it.
        registered = look_before_retrying(
            ecs,
            "RegisterTaskDefinition",
            lambda: ecs.register_task_definition(**request, tags=_ecs_tags(tags)),
            lambda: self._registered_by_this_apply(ctx, desired),
        )
        definition = registered["taskDefinition"]
        arn = definition["taskDefinitionArn"]
        state = {**self.canonical(dict(desired.state)), "keep_revisions": keep}
        shown = {k: v for k, v in tags.items() if k != KEEP_TAG}
        family = desired.state["family"]
        return Live(family, state, {"family": family, "arn": arn}, shown, arn)

    def _registered_by_this_apply(self, ctx: AwsContext, desired: Desired) -> dict[str, Any] | None:
        """The family's latest ACTIVE revision when it is the one `desired` asks for, registered with
        this apply's owner and fingerprint tags (a revision is registered only when none matches, so
        one that now does was made by this very call); else None."""
        family = desired.state["family"]
        ecs = ctx.client("ecs")
        described = unless_gone(  # None: no ACTIVE revision, none was made
            lambda: ecs.describe_task_definition(taskDefinition=family, include=["TAGS"]), "ClientException"
        )
        if described is None:
            return None
        tags = {t["key"]: t["value"] for t in described.get("tags", [])}
        if not made_by_this_apply(tags, desired.tags):
            return None
        live = self._live(ctx, described["taskDefinition"], tags, 1)
        unmanaged = {"keep_revisions": None}
        wanted = {**self.canonical(dict(desired.state)), **unmanaged}
        if diff_states(wanted, self.canonical({**live.state, **unmanaged})).differences:
            return None
        return dict(described)

    @staticmethod
    def _deregister_superseded(ctx: AwsContext, family: str, keep: int) -> None:
        for arn in active_revisions(ctx, family)[1 + keep :]:
            _deregister(ctx, arn)


def _compared_container(container: Mapping[str, Any], network_mode: str) -> dict[str, Any]:
    out = canonical_container(container, network_mode)
    out.pop("require_pinned_image", None)  # this tool's lint, nothing AWS stores
    return out


def active_revisions_of(ctx: AwsContext, families: Sequence[str]) -> dict[str, list[str]]:
    """{family: its ACTIVE revisions' ARNs, newest first} for the given families.

    ListTaskDefinitions filters by one full family name (familyPrefix: "the full family name",
    ECS API reference) or lists every task definition of the account, 100 a page. For several
    families the account's ACTIVE listing is used while it costs fewer calls than one per family;
    past that many pages (an account of many other task definitions) it stops and lists family by
    family (common.AccountListing), so the read never costs more than twice the per-family one.
    """
    wanted = set(families)
    # One family alone is listed by name, unless the listing of the run (shared until it writes:
    # the declared families are read while the sweep runs, the owned others after) is whole already.
    listed = _active_listing(ctx).within(len(wanted) if len(wanted) > 1 else 0)
    if listed is None:
        per_family = concurrently(lambda family: active_revisions(ctx, family), families)
        return dict(zip(families, per_family, strict=True))
    by_family: dict[str, list[str]] = {family: [] for family in families}
    for arn in listed:
        family = family_of(arn)[0]
        if family in wanted:
            by_family[family].append(arn)
    return {family: _newest_first(arns) for family, arns in by_family.items()}


def _active_listing(ctx: AwsContext) -> AccountListing:
    """The account's ACTIVE task definitions, 100 a page (ListTaskDefinitions' largest maxResults)."""
    return memo_until_write(
        ctx,
        "ecs:active-task-definitions",
        lambda: AccountListing(
            ctx.client("ecs"), "list_task_definitions", "taskDefinitionArns", status="ACTIVE", maxResults=100
        ),
    )


def _newest_first(arns: list[str]) -> list[str]:
    return sorted(arns, key=lambda arn: family_of(arn)[1], reverse=True)


def active_revisions(ctx: AwsContext, family: str) -> list[str]:
    """ARNs of the family's ACTIVE revisions, newest first (familyPrefix also matches longer names)."""
    arns = read_pages(
        ctx.client("ecs"),
        "list_task_definitions",
        "taskDefinitionArns",
        familyPrefix=family,
        status="ACTIVE",
        sort="DESC",
    )
    return _newest_first([arn for arn in arns if family_of(arn)[0] == family])


def _deregister(ctx: AwsContext, arn: str) -> None:
    ctx.client("ecs").deregister_task_definition(taskDefinition=arn)
