"""The emulator's ECS patch: services answer as the ECS API reference describes them (the deployment
configuration and ECS Exec kept with AWS's defaults, tasks started so the service becomes steady,
namesakes refused unless the clientToken repeats, deleted services left out of ListServices)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile.aws import AwsContext

CLUSTER = "pacs-cluster"


@pytest.fixture
def ecs(aws: AwsContext) -> Any:
    client = aws.client("ecs")
    client.create_cluster(clusterName=CLUSTER)
    client.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}]
    )
    return client


def create(ecs: Any, name: str = "svc", **extra: Any) -> dict[str, Any]:
    return dict(
        ecs.create_service(
            cluster=CLUSTER, serviceName=name, taskDefinition="app:1", desiredCount=2, **extra
        )["service"]
    )


def described(ecs: Any, name: str = "svc") -> dict[str, Any]:
    return dict(ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0])


def test_a_service_made_without_a_deployment_configuration_reports_awss_defaults(ecs: Any) -> None:
    create(ecs)
    service = described(ecs)
    assert service["deploymentConfiguration"] == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    assert service["enableExecuteCommand"] is False
    assert "healthCheckGracePeriodSeconds" not in service


def test_what_create_service_is_given_is_kept(ecs: Any) -> None:
    create(
        ecs,
        deploymentConfiguration={
            "maximumPercent": 150,
            "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        enableExecuteCommand=True,
        healthCheckGracePeriodSeconds=30,
    )
    service = described(ecs)
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert service["deploymentConfiguration"]["maximumPercent"] == 150
    assert (service["enableExecuteCommand"], service["healthCheckGracePeriodSeconds"]) == (True, 30)


def test_a_new_service_becomes_steady(ecs: Any) -> None:
    create(ecs)
    service = described(ecs)
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    # botocore's own services-stable waiter: one deployment, as many running as desired
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=["svc"], WaiterConfig={"Delay": 0, "MaxAttempts": 1}
    )


def test_a_namesake_is_refused_unless_the_client_token_repeats(ecs: Any) -> None:
    first = create(ecs, clientToken="token-1")
    assert create(ecs, clientToken="token-1")["serviceArn"] == first["serviceArn"]
    with pytest.raises(ClientError, match="Creation of service was not idempotent"):
        create(ecs, clientToken="token-2")
    with pytest.raises(ClientError, match="Creation of service was not idempotent"):
        create(ecs)

    ecs.update_service(cluster=CLUSTER, service="svc", desiredCount=0)
    ecs.delete_service(cluster=CLUSTER, service="svc")
    assert create(ecs)["status"] == "ACTIVE", "an INACTIVE service's name is free again"


def test_deleted_services_are_not_listed(ecs: Any) -> None:
    create(ecs, "kept")
    create(ecs, "deleted")
    ecs.update_service(cluster=CLUSTER, service="deleted", desiredCount=0)
    ecs.delete_service(cluster=CLUSTER, service="deleted")
    arns = ecs.list_services(cluster=CLUSTER)["serviceArns"]
    assert [arn.rsplit("/", 1)[-1] for arn in arns] == ["kept"]
    assert described(ecs, "deleted")["status"] == "INACTIVE", "still described"


def test_an_ec2_container_may_set_its_memory_reservation_alone(ecs: Any) -> None:
    """ "If a task-level memory value is not specified, you must specify a non-zero integer for one or
    both of memory or memoryReservation in a container definition" (ContainerDefinition,
    memoryReservation; ECS API reference): moto wanted the hard limit under EC2."""
    registered = ecs.register_task_definition(
        family="agent",
        requiresCompatibilities=["EC2"],
        networkMode="bridge",
        containerDefinitions=[{"name": "agent", "image": "grafana/agent:v0.40.0", "memoryReservation": 256}],
    )["taskDefinition"]
    assert registered["containerDefinitions"][0]["memoryReservation"] == 256
    assert "memory" not in registered["containerDefinitions"][0]
    with pytest.raises(ClientError, match="At least one of 'memory' or 'memoryReservation'"):
        ecs.register_task_definition(
            family="agent",
            requiresCompatibilities=["EC2"],
            networkMode="bridge",
            containerDefinitions=[{"name": "agent", "image": "grafana/agent:v0.40.0"}],
        )
