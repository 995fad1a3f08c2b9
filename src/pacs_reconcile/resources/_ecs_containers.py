"""The containers of an ECS task definition: their spec model, the normal form both sides are
compared in, and the containerDefinition a spec entry registers.

AWS fills in defaults and reorders lists (AWS-NOTES item 1: `essential: true`, `cpu: 0`,
`volumesFrom: []`, `mountPoints: []`, `hostPort` = `containerPort` under awsvpc, protocol `tcp`),
and returns a health check with its documented defaults filled in (interval 30, timeout 5,
retries 3: API_HealthCheck; terraform-aws-modules/terraform-aws-ecs#148). Set-like lists
(environment, secrets, ulimits, dependencies, labels) are mappings here, so order never differs.

A field whose spec value is unset (None) is not managed, as everywhere in the spec; a value AWS
fills in when it is left out is the model's default, so leaving it out and writing the default
plan the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel, is_unresolved
from .common import set_parameters

NetworkMode = Literal["awsvpc", "bridge", "host", "none"]
"""NetworkMode in the ECS API reference (RegisterTaskDefinition)."""
DependencyCondition = Literal["START", "COMPLETE", "SUCCESS", "HEALTHY"]
"""ContainerCondition in the ECS API reference (ContainerDependency)."""
UlimitName = Literal[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
]
"""UlimitName in the ECS API reference (Ulimit)."""
Capability = Literal[
    "ALL",
    "AUDIT_CONTROL",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "WAKE_ALARM",
]
"""The values KernelCapabilities add/drop take (ECS API reference, KernelCapabilities)."""

FARGATE_ADDABLE_CAPABILITIES = frozenset({"SYS_PTRACE"})
"""KernelCapabilities: tasks on Fargate only support adding SYS_PTRACE."""
FARGATE_MAX_STOP_TIMEOUT = 120
"""ContainerDefinition.stopTimeout: on Fargate at most 120 seconds."""
MIN_CONTAINER_MEMORY = 6
"""ContainerDefinition.memory: Docker 20.10+ reserves at least 6 MiB for a container."""
HEALTH_CHECK_COMMAND_KINDS = ("CMD", "CMD-SHELL")
"""HealthCheck.command starts with CMD (arguments run directly) or CMD-SHELL (the default shell)."""

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY)$", re.IGNORECASE
)
_SECRET_SOURCE = re.compile(r"arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter/|secret:)\S+")
RELAX_PINNING = "set require_pinned_image: false on this container to accept it"


# Validators ------------------------------------------------------------------------------------


def digest_problem(image: str) -> str | None:
    """Why a digest reference is malformed (AWS would refuse it too), or None."""
    if is_unresolved(image) or "@" not in image:
        return None
    digest = image.split("@", 1)[1]
    return None if _DIGEST.fullmatch(digest) else "a digest is written @sha256: and 64 hex digits"


def pinning_problem(image: str) -> str | None:
    """Why an image reference names no single version (a lint of this tool: AWS accepts any
    reference), or None when it is pinned to a tag other than `latest` or to a digest."""
    if is_unresolved(image) or "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return (
            f"has no tag: pin a version (e.g. {image}:1.2.3) or a digest (@sha256:...), so a new "
            "revision runs exactly what was reviewed"
        )
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the moving tag 'latest': pin a version (e.g. prom/prometheus:v2.53.0) or a digest"
    return None


def _as_text(value: Any) -> Any:
    """YAML numbers and booleans as the strings ECS stores (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def text_values(value: Any) -> Any:
    """A mapping's YAML numbers and booleans as text (for string-valued maps ECS stores)."""
    return {k: _as_text(v) for k, v in value.items()} if isinstance(value, Mapping) else value


# Spec models ------------------------------------------------------------------------------------


class PortMappingSpec(SpecModel):
    """A port the container listens on."""

    container_port: int = Field(ge=1, le=65535)
    """The port, e.g. 9090."""
    protocol: Literal["tcp", "udp"] = "tcp"
    """`tcp` or `udp`."""
    host_port: int | None = Field(default=None, ge=0, le=65535)
    """Host port (network mode bridge only; under awsvpc and host it is always the container port).
    Unset or 0 under bridge: a dynamic port."""


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


class HealthCheckSpec(SpecModel):
    """A container health check (ECS API reference, HealthCheck); the defaults are AWS's."""

    command: list[str] = Field(min_length=2)
    """CMD and the command's arguments, or CMD-SHELL and a shell line, e.g.
    `[CMD-SHELL, "wget -q -O- http://localhost:9090/-/healthy || exit 1"]`."""
    interval: int = Field(default=30, ge=5, le=300)
    """Seconds between checks (5-300)."""
    timeout: int = Field(default=5, ge=2, le=60)
    """Seconds a check may take before it counts as failed (2-60)."""
    retries: int = Field(default=3, ge=1, le=10)
    """Failed checks in a row before the container is unhealthy (1-10)."""
    start_period: int = Field(default=0, ge=0, le=300)
    """Seconds after start during which failures do not count (0-300; 0: none)."""

    @field_validator("command")
    @classmethod
    def _kind(cls, value: list[str]) -> list[str]:
        if not is_unresolved(value[0]) and value[0] not in HEALTH_CHECK_COMMAND_KINDS:
            raise ValueError(
                "starts with CMD (the arguments are run directly) or CMD-SHELL (run by the "
                f"container's shell), not {value[0]!r}"
            )
        return value


class UlimitSpec(SpecModel):
    """One resource limit of the container. Its name is its key under `ulimits`."""

    soft_limit: int = Field(ge=0)
    """The soft limit."""
    hard_limit: int = Field(ge=0)
    """The hard limit (at least the soft limit)."""

    @model_validator(mode="after")
    def _ordered(self) -> UlimitSpec:
        if self.soft_limit > self.hard_limit:
            raise ValueError(f"soft_limit {self.soft_limit} is above hard_limit {self.hard_limit}")
        return self


class CapabilitiesSpec(SpecModel):
    """Linux capabilities added to or dropped from Docker's default set."""

    add: list[Capability] = Field(default_factory=list)
    """Capabilities to add (Fargate: only SYS_PTRACE)."""
    drop: list[Capability] = Field(default_factory=list)
    """Capabilities to drop."""


class TmpfsSpec(SpecModel):
    """A tmpfs mount (EC2 only)."""

    container_path: str
    """Absolute path in the container."""
    size: int = Field(ge=1)
    """Size in MiB."""
    mount_options: list[str] = Field(default_factory=list)
    """Mount options, e.g. [noexec, nosuid]."""


class LinuxParametersSpec(SpecModel):
    """Linux-specific options of the container (ECS API reference, LinuxParameters)."""

    init_process_enabled: bool = False
    """Run an init process that forwards signals and reaps processes (docker run --init)."""
    capabilities: CapabilitiesSpec = Field(default_factory=CapabilitiesSpec)
    """Capabilities added and dropped."""
    shared_memory_size: int | None = Field(default=None, ge=1)
    """Size of /dev/shm in MiB (EC2 only)."""
    max_swap: int | None = Field(default=None, ge=0)
    """Swap the container may use in MiB, 0: none (EC2 only)."""
    swappiness: int | None = Field(default=None, ge=0, le=100)
    """Memory swappiness 0-100 (EC2 only; needs max_swap)."""
    tmpfs: list[TmpfsSpec] = Field(default_factory=list)
    """tmpfs mounts (EC2 only)."""

    def ec2_only_fields(self) -> list[str]:
        """The fields set here that Fargate does not support (LinuxParameters)."""
        used = {
            "shared_memory_size": self.shared_memory_size is not None,
            "max_swap": self.max_swap is not None,
            "swappiness": self.swappiness is not None,
            "tmpfs": bool(self.tmpfs),
        }
        return [name for name, set_ in used.items() if set_]


class ContainerSpec(SpecModel):
    """One container of the task. Its name is its key under `containers`."""

    image: str = Field(min_length=1)
    """Image pinned to a version (a tag other than latest, or a digest), e.g. prom/prometheus:v2.53.0."""
    require_pinned_image: bool = True
    """Refuse an image that names no single version (no tag, `latest`, or a malformed digest).
    This is this tool's rule, not AWS's: set false to accept a moving tag on purpose."""
    essential: bool = True
    """The task stops when an essential container stops."""
    cpu: int = Field(default=0, ge=0)
    """CPU units reserved for this container (0: share the task's)."""
    memory: int | None = Field(default=None, ge=MIN_CONTAINER_MEMORY)
    """Hard memory limit in MiB: the container is killed above it. Unset: not managed."""
    memory_reservation: int | None = Field(default=None, ge=MIN_CONTAINER_MEMORY)
    """Soft memory limit in MiB (at most `memory`). Unset: not managed."""
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
    entry_point: list[str] = Field(default_factory=list)
    """Entry point replacing the image's ENTRYPOINT. Empty: the image's own."""
    command: list[str] = Field(default_factory=list)
    """Command (arguments) replacing the image's CMD. Empty: the image's own."""
    working_directory: str | None = None
    """Directory the command runs in. Unset: not managed (the image's WORKDIR)."""
    user: str | None = None
    """User (and group) the container runs as, e.g. `65534` or `nobody:nogroup`. Unset: not managed."""
    readonly_root_filesystem: bool = False
    """Mount the container's root file system read-only."""
    health_check: HealthCheckSpec | None = None
    """Container health check. Unset: none (one added by hand shows as a difference)."""
    depends_on: dict[str, DependencyCondition] = Field(default_factory=dict)
    """Containers of the task that must reach a state before this one starts, name -> START,
    COMPLETE, SUCCESS (COMPLETE and exit code 0) or HEALTHY (its health check passes)."""
    stop_timeout: int | None = Field(default=None, ge=0)
    """Seconds to wait after SIGTERM before the container is killed (Fargate: at most 120; AWS's
    default 30). Unset: not managed."""
    ulimits: dict[UlimitName, UlimitSpec] = Field(default_factory=dict)
    """Resource limits by name, e.g. `{nofile: {soft_limit: 65536, hard_limit: 65536}}`."""
    linux_parameters: LinuxParametersSpec | None = None
    """Linux-specific options. Unset: AWS's defaults (none set)."""
    docker_labels: dict[str, str] = Field(default_factory=dict)
    """Docker labels, name -> value."""

    @field_validator("environment", "docker_labels", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return text_values(value)

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
    def _coherent(self) -> ContainerSpec:
        malformed = digest_problem(self.image)
        if malformed is not None:
            raise ValueError(f"image {self.image!r}: {malformed}")
        unpinned = pinning_problem(self.image) if self.require_pinned_image else None
        if unpinned is not None:
            raise ValueError(f"image {self.image!r} {unpinned} (or {RELAX_PINNING})")
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"{', '.join(both)} set in both environment and secrets")
        reserved, limit = self.memory_reservation, self.memory
        if reserved is not None and limit is not None and reserved > limit:
            raise ValueError(
                f"memory_reservation {self.memory_reservation} is above memory {self.memory} "
                "(the soft limit must not exceed the hard limit)"
            )
        return self


# Normal form ---------------------------------------------------------------------------------


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _sorted_unique(items: list[Any]) -> list[Any]:
    unique = {_sort_key(item): item for item in items}
    return [unique[k] for k in sorted(unique)]


def canonical_container(container: Mapping[str, Any], network_mode: str = "awsvpc") -> dict[str, Any]:
    """The container's comparable form (idempotent; applied to desired and live alike)."""
    out = dict(container)
    if isinstance(out.get("environment"), Mapping):
        # ECS leaves a variable registered with an empty value out of the task definition it
        # returns (TF provider #39533): "" and unset are one state, or the plan never empties.
        out["environment"] = {k: v for k, v in out["environment"].items() if v != ""}
    if isinstance(out.get("port_mappings"), list):
        out["port_mappings"] = _sorted_unique(
            [_canonical_port(p, network_mode) for p in out["port_mappings"]]
        )
    if isinstance(out.get("mount_points"), list):
        out["mount_points"] = _sorted_unique(out["mount_points"])
    for optional in ("log", "health_check"):
        if out.get(optional) is None and optional in out:
            out[optional] = {}  # none: compared whole, so one added by hand shows
    if "linux_parameters" in out:
        out["linux_parameters"] = _canonical_linux(out["linux_parameters"])
    return out


def _canonical_port(mapping: Mapping[str, Any], network_mode: str) -> dict[str, Any]:
    out = dict(mapping)
    if network_mode in ("awsvpc", "host"):
        out["host_port"] = out.get("container_port")  # AWS stores the container port there
    elif not out.get("host_port"):
        out["host_port"] = 0  # unset and 0 both ask bridge mode for a dynamic port
    return out


def _canonical_linux(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Linux parameters with AWS's empty defaults as {} (nothing set), else every field sorted."""
    if not params:
        return {}
    out = dict(params)
    capabilities = dict(out.get("capabilities") or {})
    out["capabilities"] = {k: sorted(set(capabilities.get(k) or [])) for k in ("add", "drop")}
    out["tmpfs"] = _sorted_unique(list(out.get("tmpfs") or []))
    default = LinuxParametersSpec().model_dump(mode="json")
    default["capabilities"] = {"add": [], "drop": []}
    return {} if out == default else out


def container_state(
    container: Mapping[str, Any], region: str, network_mode: str = "awsvpc"
) -> dict[str, Any]:
    """A containerDefinition as the spec's shape (AWS's defaults are the spec's defaults)."""
    return canonical_container(
        {
            "image": container.get("image"),
            "require_pinned_image": pinning_problem(str(container.get("image", ""))) is None,
            "essential": container.get("essential", True),
            "cpu": container.get("cpu", 0),
            "memory": container.get("memory"),
            "memory_reservation": container.get("memoryReservation"),
            "port_mappings": [
                {
                    "container_port": p.get("containerPort"),
                    "protocol": p.get("protocol", "tcp"),
                    "host_port": p.get("hostPort"),
                }
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
            "entry_point": list(container.get("entryPoint", [])),
            "command": list(container.get("command", [])),
            "working_directory": container.get("workingDirectory"),
            "user": container.get("user"),
            "readonly_root_filesystem": bool(container.get("readonlyRootFilesystem", False)),
            "health_check": _health_state(container.get("healthCheck")),
            "depends_on": {d["containerName"]: d["condition"] for d in container.get("dependsOn", [])},
            "stop_timeout": container.get("stopTimeout"),
            "ulimits": {
                u["name"]: {"soft_limit": u["softLimit"], "hard_limit": u["hardLimit"]}
                for u in container.get("ulimits", [])
            },
            "linux_parameters": _linux_state(container.get("linuxParameters")),
            "docker_labels": dict(container.get("dockerLabels", {})),
        },
        network_mode,
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


def _health_state(check: Mapping[str, Any] | None) -> dict[str, Any]:
    if not check:
        return {}
    return {
        "command": list(check.get("command", [])),
        "interval": check.get("interval", 30),
        "timeout": check.get("timeout", 5),
        "retries": check.get("retries", 3),
        "start_period": check.get("startPeriod", 0),
    }


def _linux_state(params: Mapping[str, Any] | None) -> dict[str, Any]:
    if not params:
        return {}
    capabilities = params.get("capabilities") or {}
    return {
        "init_process_enabled": bool(params.get("initProcessEnabled", False)),
        "capabilities": {
            "add": list(capabilities.get("add", [])),
            "drop": list(capabilities.get("drop", [])),
        },
        "shared_memory_size": params.get("sharedMemorySize"),
        "max_swap": params.get("maxSwap"),
        "swappiness": params.get("swappiness"),
        "tmpfs": [
            {
                "container_path": t.get("containerPath"),
                "size": t.get("size"),
                "mount_options": list(t.get("mountOptions", [])),
            }
            for t in params.get("tmpfs", [])
        ],
    }


# The containerDefinition a spec entry registers --------------------------------------------------


def container_request(
    name: str, container: Mapping[str, Any], region: str, network_mode: str = "awsvpc"
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "name": name,
        "image": container["image"],
        "essential": container["essential"],
        "cpu": container["cpu"],
        "portMappings": [_port_request(p, network_mode) for p in container["port_mappings"]],
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
    optional = {
        "memory": container.get("memory"),
        "memoryReservation": container.get("memory_reservation"),
        "entryPoint": container.get("entry_point"),
        "command": container.get("command"),
        "workingDirectory": container.get("working_directory"),
        "user": container.get("user"),
        "readonlyRootFilesystem": container.get("readonly_root_filesystem") or None,
        "stopTimeout": container.get("stop_timeout"),
        "dockerLabels": container.get("docker_labels"),
    }
    request.update({key: value for key, value in optional.items() if value not in (None, [], {})})
    log = container.get("log")
    if log:
        options = {
            "awslogs-group": log["group"],
            "awslogs-region": region,
            "awslogs-stream-prefix": log["stream_prefix"],
        }
        request["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    check = container.get("health_check")
    if check:
        request["healthCheck"] = {
            "command": list(check["command"]),
            "interval": check["interval"],
            "timeout": check["timeout"],
            "retries": check["retries"],
            "startPeriod": check["start_period"],
        }
    if container.get("depends_on"):
        request["dependsOn"] = [
            {"containerName": other, "condition": condition}
            for other, condition in sorted(container["depends_on"].items())
        ]
    if container.get("ulimits"):
        request["ulimits"] = [
            {"name": limit, "softLimit": value["soft_limit"], "hardLimit": value["hard_limit"]}
            for limit, value in sorted(container["ulimits"].items())
        ]
    params = container.get("linux_parameters")
    if params:
        request["linuxParameters"] = _linux_request(params)
    return request


def _port_request(mapping: Mapping[str, Any], network_mode: str) -> dict[str, Any]:
    request = {"containerPort": mapping["container_port"], "protocol": mapping["protocol"]}
    if network_mode in ("awsvpc", "host"):
        request["hostPort"] = mapping["container_port"]
    elif mapping.get("host_port"):
        request["hostPort"] = mapping["host_port"]
    return request


def _linux_request(params: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"initProcessEnabled": params["init_process_enabled"]}
    capabilities = params["capabilities"]
    if capabilities["add"] or capabilities["drop"]:
        request["capabilities"] = {"add": list(capabilities["add"]), "drop": list(capabilities["drop"])}
    optional = {"shared_memory_size": "sharedMemorySize", "max_swap": "maxSwap", "swappiness": "swappiness"}
    request.update(set_parameters(params, optional))
    if params.get("tmpfs"):
        request["tmpfs"] = [
            {
                "containerPath": t["container_path"],
                "size": t["size"],
                "mountOptions": list(t["mount_options"]),
            }
            for t in params["tmpfs"]
        ]
    return request
