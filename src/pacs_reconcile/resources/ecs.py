"""ECS task definitions (Fargate only).

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

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..aws import AwsContext
from ..diff import Delta, TagChanges
from .base import Desired, Key, KindMeta, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import arn_resource, concurrently, owned_of, read_pages
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

_FAMILY = re.compile(r"[A-Za-z0-9_-]{1,255}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY)$", re.IGNORECASE
)
_SECRET_SOURCE = re.compile(r"arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter/|secret:)\S+")


# Validators ------------------------------------------------------------------------------------


def check_pinned_image(image: str) -> str:
    """An image reference must name one version: a tag other than `latest`, or a digest."""
    if is_unresolved(image):
        return image
    if "@" in image:
        digest = image.split("@", 1)[1]
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"image {image!r}: a digest is written @sha256: and 64 hex digits")
        return image
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        raise ValueError(
            f"image {image!r} has no tag: pin a version (e.g. {image}:1.2.3) or a digest "
            "(@sha256:...), so a new revision runs exactly what was reviewed"
        )
    if last.rsplit(":", 1)[1] == "latest":
        raise ValueError(
            f"image {image!r} uses the moving tag 'latest': pin a version (e.g. "
            "prom/prometheus:v2.53.0) or a digest"
        )
    return image


def check_fargate_size(cpu: int, memory: int) -> None:
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


def _as_text(value: Any) -> Any:
    """YAML numbers and booleans as the strings ECS stores (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def _fargate_only() -> list[Literal["FARGATE"]]:
    return ["FARGATE"]


# Spec models ------------------------------------------------------------------------------------


class PortMappingSpec(SpecModel):
    """A port the container listens on (under awsvpc the host port is always the same)."""

    container_port: int = Field(ge=1, le=65535)
    """The port, e.g. 9090."""
    protocol: Literal["tcp", "udp"] = "tcp"
    """`tcp` or `udp`."""


class MountPointSpec(SpecModel):
    """Where a volume of the task appears inside the container."""

    source_volume: str
    """The name of one of the task's `volumes`."""
    container_path: str
    """Absolute path in the container, e.g. /etc/prometheus."""
    read_only: bool = False
    """Mount read-only."""

    @field_validator("container_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not is_unresolved(value) and not value.startswith("/"):
            raise ValueError("must be an absolute path such as /etc/prometheus")
        return value


class LogSpec(SpecModel):
    """The awslogs driver: the container's output goes to a CloudWatch Logs group of the stack's
    region (awslogs-region is always the region the task definition is registered in)."""

    group: str = Field(min_length=1, max_length=512)
    """The log group's name, e.g. `${log_groups.prometheus.name}`."""
    stream_prefix: str = Field(min_length=1)
    """Prefix of the log stream names (Fargate requires one), e.g. ecs."""


class ContainerSpec(SpecModel):
    """One container of the task. Its name is its key under `containers`."""

    image: str = Field(min_length=1)
    """Image pinned to a version (a tag other than latest, or a digest), e.g. prom/prometheus:v2.53.0."""
    essential: bool = True
    """The task stops when an essential container stops."""
    cpu: int = Field(default=0, ge=0)
    """CPU units reserved for this container (0: share the task's)."""
    port_mappings: list[PortMappingSpec] = Field(default_factory=list)
    """Ports the container listens on."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Plain environment variables, name -> value. Never secrets: those go in `secrets`."""
    secrets: dict[str, str] = Field(default_factory=dict)
    """Environment variables filled from SSM parameters or Secrets Manager at start, name -> ARN,
    e.g. `{GF_SECURITY_ADMIN_PASSWORD: "${ssm_parameters.grafana_admin_password.arn}"}`."""
    mount_points: list[MountPointSpec] = Field(default_factory=list)
    """Volumes mounted into the container."""
    log: LogSpec | None = None
    """awslogs configuration. Unset: the container's output is not collected."""
    command: list[str] = Field(default_factory=list)
    """Command (arguments) replacing the image's CMD. Empty: the image's own."""

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        return check_pinned_image(value)

    @field_validator("environment", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return {k: _as_text(v) for k, v in value.items()} if isinstance(value, Mapping) else value

    @field_validator("environment")
    @classmethod
    def _no_plain_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if _SECRET_NAME.search(name):
                raise ValueError(
                    f"{name} looks like a secret: pass it through `secrets` (an SSM "
                    "SecureString parameter ARN), not as a plain variable anyone who can "
                    "describe the task definition can read"
                )
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_sources(cls, value: dict[str, str]) -> dict[str, str]:
        for name, source in value.items():
            if not is_unresolved(source) and not _SECRET_SOURCE.fullmatch(source):
                raise ValueError(
                    f"{name} must come from an SSM parameter or Secrets Manager secret ARN, "
                    "e.g. ${ssm_parameters.NAME.arn}"
                )
        return value

    @model_validator(mode="after")
    def _distinct_variables(self) -> ContainerSpec:
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"{', '.join(both)} set in both environment and secrets")
        return self


class EfsVolumeSpec(SpecModel):
    """An EFS file system mounted as a task volume."""

    file_system_id: str
    """The file system, e.g. `${efs_file_systems.prometheus_config.id}`."""
    root_directory: str = "/"
    """Directory of the file system mounted as the volume's root."""
    transit_encryption: bool = True
    """Encrypt NFS traffic between the task and EFS (TLS)."""


class VolumeSpec(SpecModel):
    """A task volume. Its name is its key under `volumes`; Fargate volumes here are EFS."""

    efs: EfsVolumeSpec
    """The EFS file system behind the volume."""


class TaskDefinitionSpec(SpecModel):
    """An ECS task definition for Fargate (network mode awsvpc)."""

    family: str
    """The family name (the identity; each change registers a new revision in it)."""
    cpu: int
    """Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384 (1024 = 1 vCPU)."""
    memory: int
    """Task memory in MiB, valid for the cpu (Fargate's table), e.g. cpu 512 -> 1024 to 4096."""
    network_mode: Literal["awsvpc"] = "awsvpc"
    """Always awsvpc (Fargate)."""
    requires_compatibilities: list[Literal["FARGATE"]] = Field(default_factory=_fargate_only)
    """Always [FARGATE]."""
    execution_role_arn: str = ""
    """Role ECS uses to pull images, read `secrets` and write logs (needed for both). Empty: none."""
    task_role_arn: str = ""
    """Role the containers' code runs as. Empty: none."""
    containers: dict[str, ContainerSpec] = Field(min_length=1)
    """The containers, by name."""
    volumes: dict[str, VolumeSpec] = Field(default_factory=dict)
    """Task volumes, by name (mount them with a container's mount_points)."""
    keep_revisions: int = Field(default=1, ge=0, le=MAX_KEEP_REVISIONS)
    """How many superseded ACTIVE revisions to keep for rollback; older ones are deregistered."""

    @field_validator("family")
    @classmethod
    def _family(cls, value: str) -> str:
        if not is_unresolved(value) and not _FAMILY.fullmatch(value):
            raise ValueError("a family is 1-255 letters, digits, '-' and '_'")
        return value

    @field_validator("containers", "volumes")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _FAMILY.fullmatch(name):
                raise ValueError(f"name {name!r}: use 1-255 letters, digits, '-' and '_'")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> TaskDefinitionSpec:
        check_fargate_size(self.cpu, self.memory)
        if not any(c.essential for c in self.containers.values()):
            raise ValueError("at least one container must be essential")
        for name, container in self.containers.items():
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
        return self


# Normal form ---------------------------------------------------------------------------------


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def canonical_container(container: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(container)
    if isinstance(out.get("environment"), Mapping):
        # ECS leaves a variable registered with an empty value out of the task definition it
        # returns (TF provider #39533): "" and unset are one state, or the plan never empties.
        out["environment"] = {k: v for k, v in out["environment"].items() if v != ""}
    for field in ("port_mappings", "mount_points"):
        if isinstance(out.get(field), list):
            unique = {_sort_key(item): item for item in out[field]}
            out[field] = [unique[k] for k in sorted(unique)]
    if out.get("log") is None and "log" in out:
        out["log"] = {}  # no log configuration: compared whole, so one added by hand shows
    return out


def container_state(container: Mapping[str, Any], region: str) -> dict[str, Any]:
    """A containerDefinition as the spec's shape (AWS's defaults are the spec's defaults)."""
    return canonical_container(
        {
            "image": container.get("image"),
            "essential": container.get("essential", True),
            "cpu": container.get("cpu", 0),
            "port_mappings": [
                {"container_port": p.get("containerPort"), "protocol": p.get("protocol", "tcp")}
                for p in container.get("portMappings", [])
            ],
            "environment": {e["name"]: e.get("value", "") for e in container.get("environment", [])},
            "secrets": {s["name"]: s.get("valueFrom", "") for s in container.get("secrets", [])},
            "mount_points": [
                {
                    "source_volume": m.get("sourceVolume"),
                    "container_path": m.get("containerPath"),
                    "read_only": bool(m.get("readOnly", False)),
                }
                for m in container.get("mountPoints", [])
            ],
            "log": _log_state(container.get("logConfiguration"), region),
            "command": list(container.get("command", [])),
        }
    )


def _log_state(config: Mapping[str, Any] | None, region: str) -> dict[str, Any]:
    if not config:
        return {}
    if config.get("logDriver") != "awslogs":
        return {"driver": config.get("logDriver")}
    options = config.get("options", {})
    state = {"group": options.get("awslogs-group"), "stream_prefix": options.get("awslogs-stream-prefix")}
    if options.get("awslogs-region", region) != region:  # only a foreign region is a difference
        state["region"] = options["awslogs-region"]
    return state


def volume_state(volume: Mapping[str, Any]) -> dict[str, Any]:
    efs = volume.get("efsVolumeConfiguration")
    if efs is None:
        return {}
    return {
        "efs": {
            "file_system_id": efs.get("fileSystemId"),
            "root_directory": efs.get("rootDirectory", "/"),
            "transit_encryption": efs.get("transitEncryption") == "ENABLED",
        }
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
    request: dict[str, Any] = {
        "family": state["family"],
        "cpu": str(state["cpu"]),
        "memory": str(state["memory"]),
        "networkMode": state["network_mode"],
        "requiresCompatibilities": list(state["requires_compatibilities"]),
        "containerDefinitions": [
            _container_request(name, container, region)
            for name, container in sorted(state["containers"].items())
        ],
    }
    volumes = [_volume_request(n, v) for n, v in sorted(state.get("volumes", {}).items())]
    if volumes:
        request["volumes"] = volumes
    for field, key in (("execution_role_arn", "executionRoleArn"), ("task_role_arn", "taskRoleArn")):
        if state.get(field):
            request[key] = state[field]
    return request


def _container_request(name: str, container: Mapping[str, Any], region: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "name": name,
        "image": container["image"],
        "essential": container["essential"],
        "cpu": container["cpu"],
        "portMappings": [
            {"containerPort": p["container_port"], "hostPort": p["container_port"], "protocol": p["protocol"]}
            for p in container["port_mappings"]
        ],
        "environment": [{"name": k, "value": v} for k, v in sorted(container["environment"].items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(container["secrets"].items())],
        "mountPoints": [
            {
                "sourceVolume": m["source_volume"],
                "containerPath": m["container_path"],
                "readOnly": m["read_only"],
            }
            for m in container["mount_points"]
        ],
    }
    if container.get("command"):
        request["command"] = list(container["command"])
    log = container.get("log")
    if log:
        options = {
            "awslogs-group": log["group"],
            "awslogs-region": region,
            "awslogs-stream-prefix": log["stream_prefix"],
        }
        request["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    return request


def _volume_request(name: str, volume: Mapping[str, Any]) -> dict[str, Any]:
    efs = volume["efs"]
    return {
        "name": name,
        "efsVolumeConfiguration": {
            "fileSystemId": efs["file_system_id"],
            "rootDirectory": efs["root_directory"],
            "transitEncryption": "ENABLED" if efs["transit_encryption"] else "DISABLED",
        },
    }


def _ecs_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def family_of(arn: str) -> tuple[str, int]:
    """(family, revision) of a task definition ARN (…:task-definition/FAMILY:REVISION)."""
    family, _, revision = arn_resource(arn).removeprefix("task-definition/").rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


# The reconciler --------------------------------------------------------------------------------


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
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("containers"), Mapping):
            out["containers"] = {n: canonical_container(c) for n, c in out["containers"].items()}
        if isinstance(out.get("requires_compatibilities"), list):
            out["requires_compatibilities"] = sorted(out["requires_compatibilities"])
        return out

    # reading ----------------------------------------------------------------------------------
    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        owned = {family_of(arn)[0] for arn in owned_of(ctx, scope.stack, "ecs", "task-definition/")}
        families = sorted({str(k) for k in keys} | owned)
        found = concurrently(lambda family: self._read_family(ctx, family), families)
        return {live.key: live for live in found if live is not None}

    def _read_family(self, ctx: AwsContext, family: str) -> Live | None:
        active = active_revisions(ctx, family)
        if not active:
            return None
        described = ctx.client("ecs").describe_task_definition(taskDefinition=active[0], include=["TAGS"])
        tags = {t["key"]: t["value"] for t in described.get("tags", [])}
        return self._live(ctx, described["taskDefinition"], tags, len(active))

    def _live(
        self, ctx: AwsContext, definition: Mapping[str, Any], tags: dict[str, str], active: int
    ) -> Live:
        state = {
            "family": definition["family"],
            "cpu": _int(definition.get("cpu")),
            "memory": _int(definition.get("memory")),
            "network_mode": definition.get("networkMode"),
            "requires_compatibilities": sorted(definition.get("requiresCompatibilities", [])),
            "execution_role_arn": definition.get("executionRoleArn", ""),
            "task_role_arn": definition.get("taskRoleArn", ""),
            "containers": {
                c["name"]: container_state(c, ctx.region) for c in definition["containerDefinitions"]
            },
            "volumes": {v["name"]: volume_state(v) for v in definition.get("volumes", [])},
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
            result = Live(
                live.key,
                {**live.state, "keep_revisions": keep},
                dict(live.attrs),
                live.tags,
                live.handle,
                live.notes,
            )
        self._deregister_superseded(ctx, desired.state["family"], keep)
        return result

    def delete(self, ctx: AwsContext, live: Live) -> None:
        for arn in active_revisions(ctx, str(live.key)):
            _deregister(ctx, arn)

    def update_tags(self, ctx: AwsContext, live: Live, changes: TagChanges) -> None:
        # After a new revision `live` is that revision, registered with the spec's tags already.
        have = live.tags or {}
        to_set = {k: v for k, v in changes.to_set.items() if have.get(k) != v}
        to_unset = [k for k in changes.to_unset if k in have]
        ecs = ctx.client("ecs")
        if to_set:
            ecs.tag_resource(resourceArn=live.handle, tags=_ecs_tags(to_set))
        if to_unset:
            ecs.untag_resource(resourceArn=live.handle, tagKeys=to_unset)

    # helpers ----------------------------------------------------------------------------------
    def _register(self, ctx: AwsContext, desired: Desired, carried: Mapping[str, str]) -> Live:
        keep = desired.state["keep_revisions"]
        tags = {**carried, **desired.tags, KEEP_TAG: str(keep)}
        request = register_request(desired.state, ctx.region)
        registered = ctx.client("ecs").register_task_definition(**request, tags=_ecs_tags(tags))
        definition = registered["taskDefinition"]
        arn = definition["taskDefinitionArn"]
        state = {**self.canonical(dict(desired.state)), "keep_revisions": keep}
        shown = {k: v for k, v in tags.items() if k != KEEP_TAG}
        family = desired.state["family"]
        return Live(family, state, {"family": family, "arn": arn}, shown, arn)

    @staticmethod
    def _deregister_superseded(ctx: AwsContext, family: str, keep: int) -> None:
        for arn in active_revisions(ctx, family)[1 + keep :]:
            _deregister(ctx, arn)


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
    exact = [arn for arn in arns if family_of(arn)[0] == family]
    return sorted(exact, key=lambda arn: family_of(arn)[1], reverse=True)


def _deregister(ctx: AwsContext, arn: str) -> None:
    ctx.client("ecs").deregister_task_definition(taskDefinition=arn)
