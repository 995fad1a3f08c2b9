"""ECS service gaps in moto 5.2.5, filled as the ECS API reference describes the service.

- CreateService ignores `deploymentConfiguration`, `enableExecuteCommand` and
  `healthCheckGracePeriodSeconds`: DescribeServices never returns them. AWS keeps them, and
  reports a deployment configuration with its defaults when none was given ("The default
  maximumPercent value for a service using the REPLICA service scheduler is 200%", "The default
  value for a replica service for minimumHealthyPercent is 100%"; DeploymentConfiguration).
- A new service's tasks never start (runningCount stays 0, its deployment IN_PROGRESS), so no
  service ever becomes steady as the `services-stable` waiter defines it. The emulator has no
  tasks to run: they start at once, and the deployment is COMPLETED ("When the service reaches a
  steady state, the deployment transitions to a COMPLETED state"; Deployment.rolloutState).
- CreateService with the name of an ACTIVE or DRAINING service replaces it silently. AWS: "If you
  attempt to create a new service with the same name as an existing service in either ACTIVE or
  DRAINING status, you receive an error" (DeleteService) — unless the request repeats the
  `clientToken` of the one that made it ("An identifier that you provide to ensure the
  idempotency of the request"; CreateService), which answers with that service.
- ListServices lists deleted services. AWS: a deleted service "is no longer visible in the
  console or in the ListServices API operation" (DeleteService).
- RegisterTaskDefinition under EC2 refuses a container setting memoryReservation without memory.
  AWS: "If a task-level memory value is not specified, you must specify a non-zero integer for
  one or both of memory or memoryReservation in a container definition" (ContainerDefinition).

The patches are on moto's response and backend classes, so they hold in-process (mock_aws) and in
server mode alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"
DEFAULT_DEPLOYMENT = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}
NOT_IDEMPOTENT = "Creation of service was not idempotent."


def install() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    if getattr(EC2ContainerServiceResponse, _PATCHED_MARK, False):
        return
    original_create: Callable[..., Any] = EC2ContainerServiceResponse.create_service
    original_list: Callable[..., list[str]] = EC2ContainerServiceBackend.list_services

    def create_service(self: EC2ContainerServiceResponse) -> Any:
        from moto.ecs.exceptions import InvalidParameterException

        token = self._get_param("clientToken")
        existing = _namesake(
            self.ecs_backend, self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        if existing is not None:
            if token and getattr(existing, "pacs_client_token", None) == token:
                from moto.core.responses import ActionResult

                return ActionResult({"service": existing})
            raise InvalidParameterException(NOT_IDEMPOTENT)
        result = original_create(self)
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        _settle(service, self)
        service.pacs_client_token = token  # type: ignore[attr-defined]
        return result

    def list_services(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[str]:
        active = {s.arn for s in self.services.values() if s.status == "ACTIVE"}
        return [arn for arn in original_list(self, *args, **kwargs) if arn in active]

    EC2ContainerServiceBackend._validate_container_defs = staticmethod(_validate_container_defs)  # type: ignore[method-assign]
    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.list_services = list_services  # type: ignore[method-assign]
    setattr(EC2ContainerServiceResponse, _PATCHED_MARK, True)


def _validate_container_defs(
    memory: str | None,
    container_definitions: list[dict[str, Any]],
    requires_compatibilities: list[str] | None,
) -> None:
    """moto's checks of a task definition's containers, with a container's memory (hard limit or
    reservation) needed only when the task sets none, whatever the compatibilities. The capitalised
    keys are CloudFormation's."""
    from moto.ecs.exceptions import TaskDefinitionMemoryError, TaskDefinitionMissingPropertyError

    for container in container_definitions:
        for key in ("name", "image"):
            if key not in container and key.capitalize() not in container:
                raise TaskDefinitionMissingPropertyError(key)
        limits = ("memory", "Memory", "memoryReservation", "MemoryReservation")
        if not memory and not any(key in container for key in limits):
            raise TaskDefinitionMemoryError(container["name"])


def _namesake(backend: Any, cluster: str, name: str) -> Any:
    """The ACTIVE or DRAINING service of that name in that cluster, if any."""
    cluster_name = cluster.rsplit("/", 1)[-1]
    service = backend.services.get(f"{cluster_name}:{name}")
    return service if service is not None and service.status in ("ACTIVE", "DRAINING") else None


def _settle(service: Any, response: Any) -> None:
    """Keep what CreateService was given, and start the service's tasks."""
    given = response._get_param("deploymentConfiguration") or {}
    service.deployment_configuration = {**DEFAULT_DEPLOYMENT, **given}
    service.enable_execute_command = bool(response._get_param("enableExecuteCommand", False))
    grace = response._get_param("healthCheckGracePeriodSeconds")
    if grace is not None:
        service.health_check_grace_period_seconds = grace
    service.running_count = service.desired_count
    service.pending_count = 0
    for deployment in service.deployments:
        deployment.update(
            runningCount=service.desired_count,
            pendingCount=0,
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        )
