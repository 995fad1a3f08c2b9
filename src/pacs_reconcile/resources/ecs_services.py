"""ECS services on Fargate (`ecs_services`): the task definition kept running, in the VPC's subnets.

Sources (ECS API reference): CreateService, UpdateService, DescribeServices, DeleteService,
DeploymentConfiguration, DeploymentCircuitBreaker, AwsVpcConfiguration, ServiceRegistry,
LoadBalancer, Deployment; botocore's `services-stable` and `services-inactive` waiters.

Identity: a service name is unique within its cluster, so a service is keyed `CLUSTER/NAME` (the
cluster's name, also when the spec gives its ARN). Both are known before plan: the cluster is a
name, an ARN or `${var.X}`, never a resource reference.

Normal form (DescribeServices answers with much more than the spec manages; only these fields are
compared, AWS's defaults filled in where a response leaves a field out):
- `deploymentConfiguration`: "The default maximumPercent value for a service using the REPLICA
  service scheduler is 200%"; "The default value for a replica service for minimumHealthyPercent
  is 100%"; no `deploymentCircuitBreaker` is a circuit breaker turned off (botocore's own
  DescribeServices example has none);
- `platformVersion`: "If one isn't specified, the LATEST platform version is used", and a service
  of the ECS deployment controller reports `LATEST` as such (aws/containers-roadmap#2840);
- `assignPublicIp`: "When you use create-service or update-service, the default is DISABLED";
- `healthCheckGracePeriodSeconds`: "If you do not specify a health check grace period value, the
  default value of 0 is used"; `propagateTags`: "The default is NONE"; `enableExecuteCommand`
  absent is false;
- subnets, security groups, load balancers and service registries are sets (AWS keeps its order);
- the task definition is compared as `family:revision`, whether written as an ARN or not (a bare
  family would run whatever revision is latest: refused by validation).
Ignored: counts, events, deployments, `createdAt`/`createdBy`, `platformFamily`, `roleArn`,
`schedulingStrategy` (REPLICA), `deploymentController` (ECS), `availabilityZoneRebalancing`
(ENABLED by default on create), `enableECSManagedTags`, capacity providers, placement.

Changes: UpdateService changes, for the rolling update (ECS) controller, "the desired count,
deployment configuration, network configuration, load balancers, service registries, enable ECS
managed tags option, propagate tags option, task placement constraints and strategies, and task
definition", plus the platform version, the health check grace period and ECS Exec. It has no
launch type, name or cluster: those replace the service (load balancers and service registries
once did too; UpdateService now takes them, "You can remove existing serviceRegistries by passing
an empty list"). `enableExecuteCommand` "doesn't trigger a new service deployment": when it
changes a new deployment is forced, so the running tasks get (or lose) ECS Exec.

Waiting: after a create or update, apply waits until the service is steady as the
`services-stable` waiter defines it (one deployment, runningCount == desiredCount), at most
STABLE_SECONDS (the waiter's own bound, 40 polls 15 s apart); a deployment the circuit breaker
marks FAILED fails the apply at once with AWS's reason.

Deletion: "You can delete a service if you have no running tasks in it and the desired task count
is zero": the service is scaled to 0, deleted, and awaited until INACTIVE (DRAINING until its
tasks have stopped; "If you attempt to create a new service with the same name as an existing
service in either ACTIVE or DRAINING status, you receive an error"), at most INACTIVE_SECONDS. A
create meeting a DRAINING namesake waits for it the same way.

Reads: DescribeServices (up to 10 services a call, tags included) per cluster, for the declared
services and those the owner-tag sweep lists; DRAINING and INACTIVE services are deleted ones.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from ..aws import AwsContext
from ..diff import Delta
from ..errors import ReconcileError
from . import _retry
from ._fields import matching
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    arn_resource,
    batched,
    claim_after_lost_create,
    declared_then_owned,
    error_code,
    owned_of,
    read_pages,
    set_parameters,
)
from .ecs import ECS_TAGS
from .kind import KindActions, KindMeta
from .registry import register

DESCRIBE_BATCH = 10
"""DescribeServices: "You may specify up to 10 services to describe in a single operation"."""
STABLE_SECONDS = 600.0
"""How long apply waits for a service to become steady (services-stable: 40 polls, 15 s apart)."""
INACTIVE_SECONDS = 600.0
"""How long a deletion waits for the service's tasks to stop (services-inactive: the same bound)."""
CLIENT_TOKEN_LENGTH = 36
"""CreateService's clientToken: "Up to 36 ASCII characters in the range of 33-126"."""
DEFAULT_MAXIMUM_PERCENT = 200
DEFAULT_MINIMUM_HEALTHY_PERCENT = 100
DEFAULT_PLATFORM_VERSION = "LATEST"
GONE = ("DRAINING", "INACTIVE")
"""Statuses of a deleted service (DescribeServices still lists it for a while)."""
NOT_FOUND = ("ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException")

_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_CLUSTER_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/([A-Za-z0-9_-]{1,255})")
_TASK_DEFINITION_ARN = re.compile(
    r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/([A-Za-z0-9_-]+:\d+)"
)
_TASK_DEFINITION = re.compile(
    r"(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}:\d+"
)
"""A task definition revision: its ARN or FAMILY:REVISION."""


# Spec models ------------------------------------------------------------------------------------


class NetworkSpec(SpecModel):
    """Where the tasks run (awsvpc, the only network mode of Fargate): AwsVpcConfiguration."""

    subnets: list[str] = Field(min_length=1, max_length=16)
    """Subnet ids, all in one VPC (at most 16), e.g. the private subnets `${lookups.private_subnet_a.id}`."""
    security_groups: list[str] = Field(default_factory=list, max_length=5)
    """Security group ids of the tasks' network interfaces (at most 5). Empty: the VPC's default group."""
    assign_public_ip: bool = False
    """Give each task a public IP address (needed in a public subnet without a NAT gateway)."""


class CircuitBreakerSpec(SpecModel):
    """The deployment circuit breaker (DeploymentCircuitBreaker)."""

    enable: bool = False
    """Fail a deployment whose tasks cannot reach a steady state (it stops launching tasks)."""
    rollback: bool = False
    """Roll a failed deployment back to the last one that completed."""


class DeploymentSpec(SpecModel):
    """How a rolling deployment replaces tasks (DeploymentConfiguration)."""

    minimum_healthy_percent: int = Field(default=DEFAULT_MINIMUM_HEALTHY_PERCENT, ge=0)
    """Tasks that must stay RUNNING during a deployment, in percent of the desired count (AWS's
    default 100)."""
    maximum_percent: int = Field(default=DEFAULT_MAXIMUM_PERCENT, ge=0)
    """Tasks allowed RUNNING or PENDING during a deployment, in percent of the desired count (AWS's
    default 200)."""
    circuit_breaker: CircuitBreakerSpec = Field(default_factory=CircuitBreakerSpec)
    """Stop (and optionally roll back) a deployment that cannot become steady. Default: off."""


class LoadBalancerSpec(SpecModel):
    """A target group the service registers its tasks with (LoadBalancer)."""

    target_group_arn: str
    """The target group, e.g. `${lookups.grafana_target_group.arn}`."""
    container_name: str = Field(min_length=1)
    """The container of the task definition the target group sends traffic to."""
    container_port: int = Field(ge=1, le=65535)
    """That container's port (one of its port mappings)."""


class ServiceRegistrySpec(SpecModel):
    """A Cloud Map service the tasks are registered in, for discovery by DNS (ServiceRegistry)."""

    registry_arn: str
    """The Cloud Map service's ARN, e.g. `${servicediscovery_services.prometheus.arn}`."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """Port of SRV records (with awsvpc, when the Cloud Map service uses SRV and no container is named)."""
    container_name: str | None = None
    """Container whose port SRV records carry (with container_port)."""
    container_port: int | None = Field(default=None, ge=1, le=65535)
    """Port of that container for SRV records."""


class ServiceSpec(SpecModel):
    """An ECS service on Fargate: keeps `desired_count` tasks of a task definition running."""

    name: Annotated[str, matching(_NAME, "a service name is 1-255 letters, digits, '-' and '_'")]
    """The service's name, unique in its cluster (1-255 letters, digits, '-' and '_'). Changing it
    replaces the service."""
    cluster: str
    """The cluster's name or ARN, e.g. `${var.backend_cluster}`. Part of the service's identity:
    known before plan (no resource references). Changing it replaces the service."""
    task_definition: Annotated[
        str,
        matching(
            _TASK_DEFINITION,
            "name a revision: ${task_definitions.X.arn}, a task definition ARN or FAMILY:REVISION "
            "(a bare family runs whatever revision is latest and could never be compared)",
        ),
    ]
    """The task definition revision to run: `${task_definitions.X.arn}` (or FAMILY:REVISION). A new
    revision is rolled out by a deployment."""
    desired_count: int = Field(default=1, ge=0)
    """How many tasks to keep running. With Application Auto Scaling on the service, add
    `desired_count` to `lifecycle.ignore_changes`."""
    launch_type: Literal["FARGATE"] = "FARGATE"
    """FARGATE (the only one supported). A service found with another launch type, or a capacity
    provider strategy, is replaced."""
    platform_version: str = Field(default=DEFAULT_PLATFORM_VERSION, min_length=1)
    """The Fargate platform version, e.g. `1.4.0`; LATEST (AWS's default) follows AWS's latest."""
    network: NetworkSpec
    """Subnets, security groups and public IP of the tasks (awsvpc)."""
    deployment: DeploymentSpec = Field(default_factory=DeploymentSpec)
    """Rolling deployment settings: minimum/maximum percent and the circuit breaker."""
    health_check_grace_period_seconds: int = Field(default=0, ge=0, le=2147483647)
    """Seconds after a task starts during which failing load balancer and container health checks
    are ignored (AWS's default 0)."""
    enable_execute_command: bool = False
    """Allow ECS Exec (`aws ecs execute-command`) into the tasks; a change starts a new deployment."""
    propagate_tags: Literal["NONE", "SERVICE", "TASK_DEFINITION"] = "NONE"
    """Copy the service's or the task definition's tags to the tasks it starts (AWS's default NONE)."""
    load_balancers: list[LoadBalancerSpec] = Field(default_factory=list)
    """Target groups the tasks are registered with. Empty: none."""
    service_registries: list[ServiceRegistrySpec] = Field(default_factory=list, max_length=1)
    """The Cloud Map service the tasks are registered in (at most one: "Multiple service
    registries for each service isn't supported"). Empty: none."""

    @field_validator("cluster")
    @classmethod
    def _valid_cluster(cls, value: str) -> str:
        if is_unresolved(value):
            raise ValueError(
                "the cluster is part of the service's identity and must be known before plan: "
                "write its name, ARN or ${var.X}, not a resource reference"
            )
        if not (_NAME.fullmatch(value) or _CLUSTER_ARN.fullmatch(value)):
            raise ValueError("must be a cluster name (letters, digits, '-', '_') or a cluster ARN")
        return value


# Normal form ------------------------------------------------------------------------------------


def cluster_name(cluster: str) -> str:
    """A cluster's name, from its name or ARN."""
    found = _CLUSTER_ARN.fullmatch(cluster)
    return found.group(1) if found else cluster


def service_key(cluster: str, name: str) -> str:
    return f"{cluster_name(cluster)}/{name}"


def split_key(key: Key) -> tuple[str, str]:
    """(cluster, name) of a service key."""
    cluster, _, name = str(key).partition("/")
    return cluster, name


def task_definition_revision(value: Any) -> Any:
    """FAMILY:REVISION of a task definition ARN; anything else as it is."""
    found = _TASK_DEFINITION_ARN.fullmatch(value) if isinstance(value, str) else None
    return found.group(1) if found else value


def _sorted(items: Iterable[Any]) -> list[Any]:
    """A set-like list in one order (values known after apply included)."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def network_state(configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    vpc = (configuration or {}).get("awsvpcConfiguration") or {}
    return {
        "subnets": _sorted(vpc.get("subnets") or []),
        "security_groups": _sorted(vpc.get("securityGroups") or []),
        "assign_public_ip": vpc.get("assignPublicIp") == "ENABLED",
    }


def deployment_state(configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    configuration = configuration or {}
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    return {
        "minimum_healthy_percent": configuration.get(
            "minimumHealthyPercent", DEFAULT_MINIMUM_HEALTHY_PERCENT
        ),
        "maximum_percent": configuration.get("maximumPercent", DEFAULT_MAXIMUM_PERCENT),
        "circuit_breaker": {
            "enable": bool(breaker.get("enable", False)),
            "rollback": bool(breaker.get("rollback", False)),
        },
    }


def load_balancer_state(balancer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "target_group_arn": balancer.get("targetGroupArn"),
        "container_name": balancer.get("containerName"),
        "container_port": balancer.get("containerPort"),
    }


def service_registry_state(registry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "registry_arn": registry.get("registryArn"),
        "port": registry.get("port"),
        "container_name": registry.get("containerName"),
        "container_port": registry.get("containerPort"),
    }


def service_state(service: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeServices service on the spec's shape."""
    return {
        "name": service["serviceName"],
        "cluster": cluster_name(str(service.get("clusterArn", ""))),
        "task_definition": task_definition_revision(service.get("taskDefinition", "")),
        "desired_count": service.get("desiredCount", 0),
        # A service on a capacity provider strategy has no launch type.
        "launch_type": service.get("launchType", ""),
        "platform_version": service.get("platformVersion") or DEFAULT_PLATFORM_VERSION,
        "network": network_state(service.get("networkConfiguration")),
        "deployment": deployment_state(service.get("deploymentConfiguration")),
        "health_check_grace_period_seconds": service.get("healthCheckGracePeriodSeconds", 0),
        "enable_execute_command": bool(service.get("enableExecuteCommand", False)),
        "propagate_tags": service.get("propagateTags", "NONE"),
        "load_balancers": _sorted(load_balancer_state(b) for b in service.get("loadBalancers") or []),
        "service_registries": _sorted(
            service_registry_state(r) for r in service.get("serviceRegistries") or []
        ),
    }


# AWS request shapes -----------------------------------------------------------------------------


def network_request(network: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(network["subnets"]),
            "securityGroups": list(network["security_groups"]),
            "assignPublicIp": "ENABLED" if network["assign_public_ip"] else "DISABLED",
        }
    }


def deployment_request(deployment: Mapping[str, Any]) -> dict[str, Any]:
    breaker = deployment["circuit_breaker"]
    return {
        "minimumHealthyPercent": deployment["minimum_healthy_percent"],
        "maximumPercent": deployment["maximum_percent"],
        "deploymentCircuitBreaker": {"enable": breaker["enable"], "rollback": breaker["rollback"]},
    }


def load_balancers_request(balancers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "targetGroupArn": b["target_group_arn"],
            "containerName": b["container_name"],
            "containerPort": b["container_port"],
        }
        for b in balancers
    ]


_REGISTRY_FIELDS = (
    ("port", "port"),
    ("container_name", "containerName"),
    ("container_port", "containerPort"),
)


_REGISTRY_PARAMETERS = {"port": "port", "container_name": "containerName", "container_port": "containerPort"}
"""A service registry's optional fields, sent only when set."""


def service_registries_request(registries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"registryArn": r["registry_arn"], **set_parameters(r, _REGISTRY_PARAMETERS)} for r in registries]


def _grace_period(state: Mapping[str, Any]) -> dict[str, Any]:
    # Sent only when it can matter: 0 is AWS's default, and older API versions refused a grace
    # period on a service without a load balancer.
    seconds = state["health_check_grace_period_seconds"]
    return {"healthCheckGracePeriodSeconds": seconds} if seconds or state["load_balancers"] else {}


def create_request(state: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "cluster": state["cluster"],
        "serviceName": state["name"],
        "taskDefinition": state["task_definition"],
        "desiredCount": state["desired_count"],
        "launchType": state["launch_type"],
        "platformVersion": state["platform_version"],
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "networkConfiguration": network_request(state["network"]),
        "deploymentConfiguration": deployment_request(state["deployment"]),
        "enableExecuteCommand": state["enable_execute_command"],
        "propagateTags": state["propagate_tags"],
        "tags": ecs_tags(tags),
        **_grace_period(state),
    }
    if state["load_balancers"]:
        request["loadBalancers"] = load_balancers_request(state["load_balancers"])
    if state["service_registries"]:
        request["serviceRegistries"] = service_registries_request(state["service_registries"])
    return request


def update_request(state: Mapping[str, Any], delta: Delta) -> dict[str, Any]:
    """UpdateService with what `delta` names (the rest left as it is)."""
    request: dict[str, Any] = {"cluster": state["cluster"], "service": state["name"]}
    if delta.different_at("task_definition"):
        request["taskDefinition"] = state["task_definition"]
    if delta.different_at("desired_count"):
        request["desiredCount"] = state["desired_count"]
    if delta.different_at("platform_version"):
        request["platformVersion"] = state["platform_version"]
    if delta.different_at("network"):
        request["networkConfiguration"] = network_request(state["network"])
    if delta.different_at("deployment"):
        request["deploymentConfiguration"] = deployment_request(state["deployment"])
    if delta.different_at("health_check_grace_period_seconds"):
        request["healthCheckGracePeriodSeconds"] = state["health_check_grace_period_seconds"]
    if delta.different_at("propagate_tags"):
        request["propagateTags"] = state["propagate_tags"]
    if delta.different_at("load_balancers"):  # [] removes them all
        request["loadBalancers"] = load_balancers_request(state["load_balancers"])
    if delta.different_at("service_registries"):  # [] removes it
        request["serviceRegistries"] = service_registries_request(state["service_registries"])
    if delta.different_at("enable_execute_command"):
        request["enableExecuteCommand"] = state["enable_execute_command"]
        request["forceNewDeployment"] = True  # running tasks get ECS Exec only when replaced
    return request


def ecs_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def client_token() -> str:
    """A new token for each CreateService call, kept by botocore for every retry of it: a retry
    after a lost response gets the first attempt's service. Never the same token for a later call
    ("You should not reuse the same client token for other API requests", Amazon ECS API
    reference, Ensuring idempotency): a create after the service was deleted would meet the old one."""
    return str(uuid.uuid4())[:CLIENT_TOKEN_LENGTH]


# Waiting ----------------------------------------------------------------------------------------


def steady(service: Mapping[str, Any] | None) -> bool:
    """services-stable's success: one deployment and as many tasks running as desired. A deployment
    the circuit breaker failed, or a service deleted meanwhile, is an error (the waiter's failures)."""
    if service is None or service.get("status") in GONE:
        raise ReconcileError("the ECS service was deleted while apply waited for it to become steady")
    deployments = service.get("deployments") or []
    for deployment in deployments:
        if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "FAILED":
            reason = deployment.get("rolloutStateReason") or "no reason given"
            raise ReconcileError(f"ECS service {service.get('serviceName')}: the deployment failed: {reason}")
    return len(deployments) == 1 and service.get("runningCount") == service.get("desiredCount")


# Listing (export --prefix) ----------------------------------------------------------------------


def list_services(ctx: AwsContext, prefix: str) -> list[Key]:
    """Keys of the services, in every cluster, whose name starts with `prefix` (keys are CLUSTER/NAME,
    so the prefix is matched on the name). ListServices leaves deleted services out."""
    ecs = ctx.client("ecs")
    keys = {
        service_key(cluster_arn, arn.rsplit("/", 1)[-1])
        for cluster_arn in read_pages(ecs, "list_clusters", "clusterArns")
        for arn in read_pages(ecs, "list_services", "serviceArns", cluster=cluster_arn)
        if arn.rsplit("/", 1)[-1].startswith(prefix)
    }
    return [key for key in sorted(keys)]


# The reconciler --------------------------------------------------------------------------------


@register
class Services(Reconciler):
    meta = KindMeta(
        kind="ecs_services",
        model=ServiceSpec,
        title="ECS service",
        attributes=("name", "arn", "cluster"),
        force_new=frozenset({"name", "cluster", "launch_type"}),
        taggable=True,
        lister=list_services,
        tag_api=ECS_TAGS,
        actions=KindActions(
            listing=frozenset({"ecs:ListClusters", "ecs:ListServices"}),
            read=frozenset({"ecs:DescribeServices"}),
            write=frozenset(
                {
                    "ecs:CreateService",
                    "ecs:UpdateService",
                    "ecs:DescribeServices",
                    "ecs:TagResource",  # also what CreateService's tags are authorized as
                    "ecs:UntagResource",
                }
            ),
            delete=frozenset({"ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"}),
        ),
    )

    def key(self, state: Mapping[str, Any], parent_key: Key | None) -> Key:
        return service_key(str(state["cluster"]), str(state["name"]))

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("cluster"), str):
            out["cluster"] = cluster_name(out["cluster"])
        if "task_definition" in out:
            out["task_definition"] = task_definition_revision(out["task_definition"])
        network = out.get("network")
        if isinstance(network, Mapping):
            out["network"] = {
                **network,
                "subnets": _sorted(network.get("subnets") or []),
                "security_groups": _sorted(network.get("security_groups") or []),
            }
        for field in ("load_balancers", "service_registries"):
            if isinstance(out.get(field), list):
                out[field] = _sorted(out[field])
        return out

    # reading ----------------------------------------------------------------------------------
    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared_clusters = sorted({split_key(k)[0] for k in keys})

        def owned() -> set[str]:
            found: set[str] = set()
            for arn in owned_of(ctx, scope.stack, "ecs", "service/"):
                parts = arn_resource(arn).split("/")
                if len(parts) == 3:  # service/CLUSTER/NAME
                    found.add(service_key(parts[1], parts[2]))
                else:  # the short ARN format of services made before 2021 does not name the cluster
                    found.update(service_key(cluster, parts[-1]) for cluster in declared_clusters)
            return found

        def describe(services: list[str]) -> dict[str, Live]:
            by_cluster: dict[str, list[str]] = {}
            for cluster, name in sorted(map(split_key, services)):
                by_cluster.setdefault(cluster, []).append(name)
            out: dict[str, Live] = {}
            for cluster, names in by_cluster.items():
                for service in batched(partial(_describe, ctx, cluster), names, DESCRIBE_BATCH):
                    if service.get("status") not in GONE:
                        live = self._live(service)
                        out[str(live.key)] = live
            return out

        # The declared services are described while the sweep runs, then the owned ones none declares.
        return {key: live for key, live in declared_then_owned(map(str, keys), owned, describe).items()}

    @staticmethod
    def _live(service: Mapping[str, Any]) -> Live:
        state = service_state(service)
        key = service_key(state["cluster"], state["name"])
        arn = str(service["serviceArn"])
        tags = {t["key"]: t["value"] for t in service.get("tags") or []}
        attrs = {"name": state["name"], "arn": arn, "cluster": state["cluster"]}
        return Live(key, state, attrs, tags, arn, _notes(service))

    # changing ---------------------------------------------------------------------------------
    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        ecs = ctx.client("ecs")
        request = create_request(desired.state, desired.tags)
        try:
            service = ecs.create_service(**request, clientToken=client_token())["service"]
        except ClientError as error:
            if error_code(error) != "InvalidParameterException" or "idempotent" not in str(error):
                raise
            # A namesake exists: one being deleted (wait for it to go, then create), or this
            # apply's own service whose first create lost its response.
            existing = _describe_one(ctx, desired.state["cluster"], desired.state["name"])
            if existing is not None and existing.get("status") == "ACTIVE":
                claim_after_lost_create(
                    f"ECS service {desired.key}",
                    {t["key"]: t["value"] for t in existing.get("tags") or []},
                    desired.tags,
                )
                service = existing
            else:
                self._wait_until_inactive(ctx, desired.state["cluster"], desired.state["name"])
                service = ecs.create_service(**request, clientToken=client_token())["service"]
        self._wait_until_steady(ctx, desired.state["cluster"], desired.state["name"])
        return self._result(desired, str(service["serviceArn"]))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        request = update_request(desired.state, delta)
        if len(request) > 2:  # more than cluster and service
            ctx.client("ecs").update_service(**request)
            self._wait_until_steady(ctx, desired.state["cluster"], desired.state["name"])
        return self._result(desired, str(live.handle), live.tags)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        cluster, name = split_key(live.key)
        ecs = ctx.client("ecs")
        try:
            if live.state.get("desired_count"):
                ecs.update_service(cluster=cluster, service=name, desiredCount=0)
            ecs.delete_service(cluster=cluster, service=name)
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return
            raise
        self._wait_until_inactive(ctx, cluster, name)

    # helpers ----------------------------------------------------------------------------------
    def _result(self, desired: Desired, arn: str, tags: Mapping[str, str] | None = None) -> Live:
        state = self.canonical(dict(desired.state))
        attrs = {"name": state["name"], "arn": arn, "cluster": state["cluster"]}
        shown = dict(desired.tags) if tags is None else dict(tags)
        return Live(desired.key, state, attrs, shown, arn)

    @staticmethod
    def _wait_until_steady(ctx: AwsContext, cluster: str, name: str) -> None:
        _retry.wait_until(
            f"ECS service {name} to become steady (as many tasks running as desired)",
            lambda: steady(_describe_one(ctx, cluster, name)),
            STABLE_SECONDS,
        )

    @staticmethod
    def _wait_until_inactive(ctx: AwsContext, cluster: str, name: str) -> None:
        def gone() -> bool:
            service = _describe_one(ctx, cluster, name)
            return service is None or service.get("status") == "INACTIVE"

        _retry.wait_until(f"ECS service {name} to stop its tasks (INACTIVE)", gone, INACTIVE_SECONDS)


def _notes(service: Mapping[str, Any]) -> tuple[str, ...]:
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "FAILED":
            reason = deployment.get("rolloutStateReason") or "no reason given"
            return (f"its last deployment failed: {reason}",)
    return ()


def _describe(ctx: AwsContext, cluster: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """DescribeServices of up to 10 names in one cluster; a missing cluster has no services."""
    try:
        answer = ctx.client("ecs").describe_services(cluster=cluster, services=list(names), include=["TAGS"])
    except ClientError as error:
        if error_code(error) == "ClusterNotFoundException":
            return []
        raise
    return list(answer.get("services") or [])


def _describe_one(ctx: AwsContext, cluster: str, name: str) -> dict[str, Any] | None:
    found = _describe(ctx, cluster, [name])
    return found[0] if found else None
