"""ecs_services against moto (with the emulator's ECS patch): the cycle (create, read back equal, a
hand-made change at its path, update in place, delete), the normal form of AWS's answers, which
changes replace the service, bounded waits (steady after create/update, INACTIVE after delete),
the idempotent create, batched reads and validation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import ReconcileError
from pacs_reconcile.resources import _retry, ecs_services
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.ecs_services import (
    Services,
    ServiceSpec,
    service_state,
    update_request,
)
from pacs_reconcile.resources.registry import KINDS

SERVICES = Services()
CLUSTER = "pacs-cluster"
NAME = "prometheus"
KEY = f"{CLUSTER}/{NAME}"
REGISTRY = "arn:aws:servicediscovery:ap-northeast-2:123456789012:service/srv-0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "POLL_SECONDS", 0.0)


@pytest.fixture
def infra(aws: AwsContext) -> dict[str, Any]:
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    groups = [
        ec2.create_security_group(GroupName=f"g{i}", Description="tasks", VpcId=vpc)["GroupId"]
        for i in (1, 2)
    ]
    ecs.create_cluster(clusterName=CLUSTER)
    revisions = [
        ecs.register_task_definition(
            family="prometheus",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="512",
            memory="1024",
            containerDefinitions=[
                {"name": "prometheus", "image": image, "portMappings": [{"containerPort": 9090}]}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        for image in ("prom/prometheus:v2.53.0", "prom/prometheus:v2.54.0")
    ]
    return {"subnets": subnets, "groups": groups, "revisions": revisions}


def spec(infra: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": NAME,
        "cluster": CLUSTER,
        "task_definition": infra["revisions"][0],
        "network": {"subnets": infra["subnets"], "security_groups": infra["groups"][:1]},
        **changes,
    }
    return ServiceSpec.model_validate(body).model_dump(mode="json")


def desired(aws: AwsContext, state: dict[str, Any], tags: dict[str, str] | None = None) -> Desired:
    return Desired(
        "ecs_services.prometheus",
        SERVICES.key(state, None),
        SERVICES.canonical(dict(state)),
        tags or {OWNER_TAG: aws.stack, "Name": "prometheus"},
    )


def read(aws: AwsContext, *keys: str) -> dict[Any, Live]:
    return SERVICES.read(aws, list(keys or [KEY]), ReadScope(aws.stack))


def delta(want: Desired, live: Live) -> Delta:
    return diff_states(want.state, SERVICES.canonical(dict(live.state)))


@pytest.fixture
def calls(aws: AwsContext) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    made: list[tuple[str, dict[str, Any]]] = []
    aws.client("ecs").meta.events.register(
        "provide-client-params.ecs.*",
        lambda params, model, **_: made.append((model.name, dict(params))),
    )
    yield made


# The cycle --------------------------------------------------------------------------------------


def test_cycle_create_read_change_by_hand_delete(aws: AwsContext, infra: dict[str, Any]) -> None:
    want = desired(aws, spec(infra))
    created = SERVICES.create(aws, want)
    assert created.handle == f"arn:aws:ecs:ap-northeast-2:123456789012:service/{CLUSTER}/{NAME}"
    live = read(aws)[KEY]
    assert live.attrs == {"name": NAME, "arn": created.handle, "cluster": CLUSTER}
    assert live.tags == want.tags, "tags are set by CreateService itself"
    assert not delta(want, live)

    aws.client("ecs").update_service(cluster=CLUSTER, service=NAME, desiredCount=3)
    assert delta(want, read(aws)[KEY]).paths() == ["desired_count"]

    aws.client("ecs").tag_resource(resourceArn=created.handle, tags=[{"key": "Owner", "value": "bob"}])
    changes = compare_tags(read(aws)[KEY].tags, want.tags)
    assert changes.to_unset == ["Owner"]
    SERVICES.update_tags(aws, read(aws)[KEY], changes)
    assert read(aws)[KEY].tags == want.tags

    SERVICES.delete(aws, read(aws)[KEY])
    assert read(aws) == {}, "a deleted (INACTIVE) service is absent"
    SERVICES.delete(aws, live)  # already gone: fine


def test_owned_services_are_found_by_the_owner_tag_sweep(aws: AwsContext, infra: dict[str, Any]) -> None:
    SERVICES.create(aws, desired(aws, spec(infra)))
    assert list(SERVICES.read(aws, [], ReadScope(aws.stack))) == [KEY]
    assert SERVICES.read(aws, [], ReadScope("another-stack")) == {}


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"desired_count": 2}, "desired_count"),
        ({"task_definition": "REVISION_2"}, "task_definition"),
        ({"platform_version": "1.4.0"}, "platform_version"),
        ({"network": {"subnets": "SUBNETS", "security_groups": "GROUPS"}}, "network.security_groups"),
        ({"network": {"subnets": "SUBNETS", "security_groups": [], "assign_public_ip": True}}, "network"),
        ({"deployment": {"minimum_healthy_percent": 50, "maximum_percent": 150}}, "deployment"),
        (
            {"deployment": {"circuit_breaker": {"enable": True, "rollback": True}}},
            "deployment.circuit_breaker",
        ),
        ({"enable_execute_command": True}, "enable_execute_command"),
        ({"propagate_tags": "SERVICE"}, "propagate_tags"),
        ({"health_check_grace_period_seconds": 60}, "health_check_grace_period_seconds"),
        ({"service_registries": [{"registry_arn": REGISTRY}]}, "service_registries"),
    ],
)
def test_a_change_is_made_in_place_and_converges(
    aws: AwsContext, infra: dict[str, Any], changes: dict[str, Any], path: str
) -> None:
    SERVICES.create(aws, desired(aws, spec(infra)))
    resolved = _resolve(changes, infra)
    want = desired(aws, spec(infra, **resolved))
    found = delta(want, read(aws)[KEY])
    assert found and all(p.startswith(path) for p in found.paths()), found.paths()
    assert SERVICES.replacing_paths(found) == []

    SERVICES.update(aws, want, read(aws)[KEY], found)

    assert not delta(want, read(aws)[KEY])


def _resolve(value: Any, infra: dict[str, Any]) -> Any:
    names = {"REVISION_2": infra["revisions"][1], "SUBNETS": infra["subnets"], "GROUPS": infra["groups"]}
    return _by_name(value, names)


def test_registries_and_load_balancers_can_be_removed(aws: AwsContext, infra: dict[str, Any]) -> None:
    """UpdateService: "You can remove existing serviceRegistries by passing an empty list"."""
    SERVICES.create(aws, desired(aws, spec(infra, service_registries=[{"registry_arn": REGISTRY}])))
    want = desired(aws, spec(infra))
    found = delta(want, read(aws)[KEY])
    assert found.paths() == ["service_registries"]
    assert update_request(want.state, found)["serviceRegistries"] == []
    SERVICES.update(aws, want, read(aws)[KEY], found)
    assert not delta(want, read(aws)[KEY])


def test_only_what_changed_is_sent_and_ecs_exec_forces_a_deployment(
    aws: AwsContext, infra: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    SERVICES.create(aws, desired(aws, spec(infra)))
    want = desired(aws, spec(infra, enable_execute_command=True, desired_count=2))
    SERVICES.update(aws, want, read(aws)[KEY], delta(want, read(aws)[KEY]))
    (update,) = [params for name, params in calls if name == "UpdateService"]
    assert update == {
        "cluster": CLUSTER,
        "service": NAME,
        "desiredCount": 2,
        "enableExecuteCommand": True,
        # "This parameter doesn't trigger a new service deployment" (UpdateService.enableExecuteCommand)
        "forceNewDeployment": True,
    }


@pytest.mark.parametrize(
    ("changes", "replacing"),
    [
        ({"name": "prometheus-2"}, ["name"]),
        ({"cluster": "other-cluster"}, ["cluster"]),
    ],
)
def test_name_and_cluster_replace_the_service(
    aws: AwsContext, infra: dict[str, Any], changes: dict[str, Any], replacing: list[str]
) -> None:
    live = SERVICES.create(aws, desired(aws, spec(infra)))
    want = desired(aws, spec(infra, **changes))
    assert sorted(SERVICES.replacing_paths(delta(want, live))) == replacing


def test_a_service_on_another_launch_type_is_replaced(infra: dict[str, Any]) -> None:
    """UpdateService has no launchType: a service found running on EC2 (or a capacity provider
    strategy, no launch type at all) cannot be moved to Fargate in place."""
    for launch_type in ("EC2", None):
        answer = {**_described(infra), "launchType": launch_type}
        if launch_type is None:
            del answer["launchType"]
        state = service_state(answer)
        found = diff_states(SERVICES.canonical(spec(infra)), SERVICES.canonical(state))
        assert SERVICES.replacing_paths(found) == ["launch_type"]


# Changed by hand (out of band): read at its exact path, then repaired -------------------------------

OUT_OF_BAND: dict[str, tuple[dict[str, Any], str]] = {
    "desired count": ({"desiredCount": 3}, "desired_count"),
    "task definition rolled back": ({"taskDefinition": "prometheus:1"}, "task_definition"),
    "security group swapped": (
        {
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": "SUBNETS", "securityGroups": "GROUP_2"}
            }
        },
        "network.security_groups",
    ),
    "public IP turned on": (
        {
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": "SUBNETS",
                    "securityGroups": "GROUP_1",
                    "assignPublicIp": "ENABLED",
                }
            }
        },
        "network.assign_public_ip",
    ),
    "circuit breaker turned off": (
        {"deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100}},
        "deployment.circuit_breaker",
    ),
    "minimum healthy percent": (
        {
            "deploymentConfiguration": {
                "maximumPercent": 200,
                "minimumHealthyPercent": 50,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            }
        },
        "deployment.minimum_healthy_percent",
    ),
    "ECS Exec turned on": ({"enableExecuteCommand": True}, "enable_execute_command"),
    "tags propagated": ({"propagateTags": "SERVICE"}, "propagate_tags"),
    "Cloud Map registration removed": ({"serviceRegistries": []}, "service_registries"),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BAND))
def test_a_change_by_hand_is_read_at_its_path_and_repaired(
    aws: AwsContext, infra: dict[str, Any], case: str
) -> None:
    body = {
        "task_definition": infra["revisions"][1],
        "deployment": {"circuit_breaker": {"enable": True, "rollback": True}},
        "service_registries": [{"registry_arn": REGISTRY}],
    }
    want = desired(aws, spec(infra, **body))
    SERVICES.create(aws, want)
    params, path = OUT_OF_BAND[case]
    names = {"SUBNETS": infra["subnets"], "GROUP_1": infra["groups"][:1], "GROUP_2": infra["groups"][1:]}
    aws.client("ecs").update_service(cluster=CLUSTER, service=NAME, **_by_name(params, names))

    found = delta(want, read(aws)[KEY])
    assert found.paths() and all(p.startswith(path) for p in found.paths()), found.paths()
    SERVICES.update(aws, want, read(aws)[KEY], found)
    assert not delta(want, read(aws)[KEY])


def _by_name(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _by_name(v, names) for k, v in value.items()}
    return names.get(value, value) if isinstance(value, str) else value


def test_a_service_deleted_by_hand_is_missing(aws: AwsContext, infra: dict[str, Any]) -> None:
    SERVICES.create(aws, desired(aws, spec(infra)))
    aws.client("ecs").delete_service(cluster=CLUSTER, service=NAME, force=True)
    assert read(aws) == {}


# AWS's answers ---------------------------------------------------------------------------------


def _described(infra: dict[str, Any]) -> dict[str, Any]:
    """A DescribeServices entry as botocore's own example shows one: no circuit breaker, no platform
    version, no ECS Exec, grace period or tag propagation fields, the short ARN format."""
    return {
        "serviceArn": f"arn:aws:ecs:ap-northeast-2:123456789012:service/{NAME}",
        "serviceName": NAME,
        "clusterArn": f"arn:aws:ecs:ap-northeast-2:123456789012:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": 1,
        "launchType": "FARGATE",
        "taskDefinition": infra["revisions"][0],
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(reversed(infra["subnets"])),
                "securityGroups": infra["groups"][:1],
            }
        },
        "loadBalancers": [],
        "deployments": [],
    }


def test_aws_defaults_left_out_of_an_answer_read_as_the_specs_defaults(infra: dict[str, Any]) -> None:
    state = service_state(_described(infra))
    assert not diff_states(SERVICES.canonical(spec(infra)), SERVICES.canonical(state))
    assert state["deployment"]["circuit_breaker"] == {"enable": False, "rollback": False}
    assert state["platform_version"] == "LATEST"
    assert state["network"]["assign_public_ip"] is False


def test_the_task_definition_compares_as_family_and_revision(infra: dict[str, Any]) -> None:
    by_name = SERVICES.canonical(spec(infra, task_definition="prometheus:1"))
    assert by_name["task_definition"] == "prometheus:1"
    assert not diff_states(by_name, SERVICES.canonical(service_state(_described(infra))))


def test_a_failed_deployment_is_a_note(infra: dict[str, Any]) -> None:
    answer = _described(infra)
    answer["deployments"] = [
        {"status": "PRIMARY", "rolloutState": "FAILED", "rolloutStateReason": "tasks failed to start"}
    ]
    live = Services._live(answer)
    assert live.notes == ("its last deployment failed: tasks failed to start",)


# Waiting, with a bound ----------------------------------------------------------------------------


def test_create_waits_until_steady_and_gives_up_after_its_bound(
    aws: AwsContext, infra: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    never_started = {**_described(infra), "runningCount": 0, "deployments": [{"status": "PRIMARY"}]}
    monkeypatch.setattr(ecs_services, "_describe_one", lambda *_: never_started)
    monkeypatch.setattr(ecs_services, "STABLE_SECONDS", 0.0)
    with pytest.raises(_retry.WaitTimedOut, match="prometheus to become steady"):
        SERVICES.create(aws, desired(aws, spec(infra)))


def test_a_deployment_the_circuit_breaker_failed_fails_the_apply_at_once(
    aws: AwsContext, infra: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = {
        **_described(infra),
        "runningCount": 0,
        "deployments": [
            {"status": "PRIMARY", "rolloutState": "FAILED", "rolloutStateReason": "circuit breaker"}
        ],
    }
    polls: list[int] = []
    monkeypatch.setattr(ecs_services, "_describe_one", lambda *_: polls.append(1) or failed)
    with pytest.raises(ReconcileError, match="the deployment failed: circuit breaker"):
        SERVICES.create(aws, desired(aws, spec(infra)))
    assert len(polls) == 1


def test_delete_scales_to_zero_deletes_and_waits_for_inactive(
    aws: AwsContext, infra: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    SERVICES.create(aws, desired(aws, spec(infra, desired_count=2)))
    live = read(aws)[KEY]
    calls.clear()
    SERVICES.delete(aws, live)
    assert [name for name, _ in calls] == ["UpdateService", "DeleteService", "DescribeServices"]
    assert calls[0][1]["desiredCount"] == 0
    assert aws.client("ecs").describe_services(cluster=CLUSTER, services=[NAME])["services"][0]["status"] == (
        "INACTIVE"
    )


def test_delete_gives_up_on_a_service_draining_past_its_bound(
    aws: AwsContext, infra: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    SERVICES.create(aws, desired(aws, spec(infra)))
    live = read(aws)[KEY]
    monkeypatch.setattr(ecs_services, "_describe_one", lambda *_: {**_described(infra), "status": "DRAINING"})
    monkeypatch.setattr(ecs_services, "INACTIVE_SECONDS", 0.0)
    with pytest.raises(_retry.WaitTimedOut, match="prometheus to stop its tasks"):
        SERVICES.delete(aws, live)


# Creating: idempotent, and after a namesake is gone ------------------------------------------------


def test_a_retried_create_gets_the_first_ones_service(
    aws: AwsContext, infra: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """botocore retries a call whose response was lost with the same clientToken (AWS answers with
    the first attempt's service); a later call carries a new token ("You should not reuse the same
    client token for other API requests", ECS API reference) and meets the service as its own
    namesake, this stack's, of this spec."""
    sent: list[str] = []

    def lose_the_first_answer(request: Any, event_name: str, **_: Any) -> None:
        from moto.core.models import botocore_stubber

        sent.append(json.loads(request.body)["clientToken"])
        if len(sent) == 1:
            botocore_stubber(event_name=event_name, request=request)  # AWS acts, the answer is lost
            raise ConnectionClosedError(endpoint_url=str(request.url))

    aws.client("ecs").meta.events.register_first("before-send.ecs.CreateService", lose_the_first_answer)
    want = desired(aws, spec(infra))
    first = SERVICES.create(aws, want)
    assert len(sent) == 2 and sent[0] == sent[1] and 0 < len(sent[0]) <= 36
    again = SERVICES.create(aws, want)
    assert again.handle == first.handle
    tokens = [params["clientToken"] for name, params in calls if name == "CreateService"]
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_a_namesake_of_another_stack_is_never_taken(aws: AwsContext, infra: dict[str, Any]) -> None:
    SERVICES.create(aws, desired(aws, spec(infra), {OWNER_TAG: "another-stack"}))
    with pytest.raises(ReconcileError, match="created meanwhile by someone else"):
        SERVICES.create(aws, desired(aws, spec(infra, desired_count=2)))


def test_create_waits_for_a_draining_namesake_to_go(
    aws: AwsContext, infra: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "If you attempt to create a new service with the same name as an existing service in either
    ACTIVE or DRAINING status, you receive an error" (DeleteService)."""
    from moto.ecs.models import ecs_backends

    SERVICES.create(aws, desired(aws, spec(infra)))
    old = ecs_backends["123456789012"]["ap-northeast-2"].services[f"{CLUSTER}:{NAME}"]
    old.status = "DRAINING"
    assert read(aws) == {}, "a DRAINING service is a deleted one"
    described = ecs_services._describe_one
    polls: list[str] = []

    def tasks_stop_between_polls(ctx: AwsContext, cluster: str, name: str) -> Any:
        found = described(ctx, cluster, name)
        polls.append(found["status"])
        old.status = "INACTIVE"
        return found

    monkeypatch.setattr(ecs_services, "_describe_one", tasks_stop_between_polls)
    SERVICES.create(aws, desired(aws, spec(infra, desired_count=2)))
    assert polls[:2] == ["DRAINING", "INACTIVE"], "the create waited for the namesake to go"
    assert read(aws)[KEY].state["desired_count"] == 2


# Reads ------------------------------------------------------------------------------------------


def test_reads_ask_for_ten_services_a_call_per_cluster(
    aws: AwsContext, infra: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> None:
    names = [f"svc-{i:02}" for i in range(12)]
    found = read(aws, *[f"{CLUSTER}/{n}" for n in names], "no-such-cluster/svc")
    assert found == {}
    described = [params for name, params in calls if name == "DescribeServices"]
    assert sorted(len(p["services"]) for p in described) == [1, 2, 10]
    assert all(p["include"] == ["TAGS"] for p in described)


def test_a_cluster_given_by_arn_is_the_same_service(aws: AwsContext, infra: dict[str, Any]) -> None:
    arn = f"arn:aws:ecs:ap-northeast-2:123456789012:cluster/{CLUSTER}"
    want = desired(aws, spec(infra, cluster=arn))
    assert want.key == KEY
    SERVICES.create(aws, want)
    assert not delta(want, read(aws)[KEY])


# Validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cluster": "${lookups.cluster.name}"}, "must be known before plan"),
        ({"cluster": "pacs cluster"}, "must be a cluster name"),
        ({"task_definition": "prometheus"}, "name a revision"),
        ({"name": "prometheus.svc"}, "1-255 letters, digits"),
        ({"launch_type": "EC2"}, "Input should be 'FARGATE'"),
        ({"network": {"subnets": []}}, "at least 1 item"),
        ({"service_registries": [{"registry_arn": REGISTRY}, {"registry_arn": REGISTRY}]}, "at most 1 item"),
        ({"propagate_tags": "TASK"}, "'NONE', 'SERVICE' or 'TASK_DEFINITION'"),
        ({"desired_count": -1}, "greater than or equal to 0"),
    ],
)
def test_validation(changes: dict[str, Any], message: str) -> None:
    body = {
        "name": NAME,
        "cluster": CLUSTER,
        "task_definition": "prometheus:3",
        "network": {"subnets": ["subnet-0123456789abcdef0"]},
        **changes,
    }
    with pytest.raises(ValidationError, match=message):
        ServiceSpec.model_validate(body)


def test_registered() -> None:
    assert isinstance(KINDS["ecs_services"], Services)


def test_export_lists_services_by_name_prefix_in_every_cluster(
    aws: AwsContext, infra: dict[str, Any]
) -> None:
    from pacs_reconcile.export import listers

    LISTERS = listers()
    aws.client("ecs").create_cluster(clusterName="other")
    for cluster, name in ((CLUSTER, "pacs-kept"), ("other", "pacs-kept-too"), (CLUSTER, "other-left")):
        SERVICES.create(aws, desired(aws, spec(infra, cluster=cluster, name=name)))
    SERVICES.delete(aws, read(aws, f"{CLUSTER}/other-left")[f"{CLUSTER}/other-left"])

    assert LISTERS["ecs_services"](aws, "pacs-") == ["other/pacs-kept-too", f"{CLUSTER}/pacs-kept"]
    assert LISTERS["ecs_services"](aws, "") == ["other/pacs-kept-too", f"{CLUSTER}/pacs-kept"], (
        "a deleted service is not listed"
    )


# Through the engine: plan -> apply -> empty plan -> no write; a new revision rolls out -------------

STACK_SPEC = """\
version: 1
stack: pacs-test
region: ap-northeast-2
variables:
  cluster: {default: pacs-cluster}
  image: {default: "prom/prometheus:v2.53.0"}
  service_name: {default: prometheus}
task_definitions:
  prometheus:
    family: prom-stack
    cpu: 512
    memory: 1024
    containers:
      prometheus:
        image: ${var.image}
        port_mappings: [{container_port: 9090}]
security_groups:
  prometheus:
    name: prometheus-tasks
    description: Prometheus tasks
    vpc_id: VPC
ecs_services:
  prometheus:
    name: ${var.service_name}
    cluster: ${var.cluster}
    task_definition: ${task_definitions.prometheus.arn}
    network:
      subnets: [SUBNET_A, SUBNET_B]
      security_groups: ["${security_groups.prometheus.id}"]
    deployment: {circuit_breaker: {enable: true, rollback: true}}
    tags: {Name: prometheus}
"""


def _stack_plan(tmp_path: Any, aws: AwsContext, infra: dict[str, Any], **variables: str) -> Any:
    from pacs_reconcile.engine.plan import PlanOptions, make_plan
    from pacs_reconcile.spec.loader import load_spec

    vpc = aws.client("ec2").describe_subnets(SubnetIds=infra["subnets"][:1])["Subnets"][0]["VpcId"]
    text = STACK_SPEC.replace("VPC", vpc)
    text = text.replace("SUBNET_A", infra["subnets"][0]).replace("SUBNET_B", infra["subnets"][1])
    (tmp_path / "monitoring.yaml").write_text(text, encoding="utf-8")
    spec = load_spec(tmp_path / "monitoring.yaml", cli_vars=variables)
    return make_plan(spec, aws, PlanOptions())


def _stack_apply(tmp_path: Any, aws: AwsContext, infra: dict[str, Any], **variables: str) -> dict[str, Any]:
    from pacs_reconcile.engine.apply import apply_plan

    plan = _stack_plan(tmp_path, aws, infra, **variables)
    result = apply_plan(plan, plan.values, aws)
    assert result.ok, result.outcomes
    return {c.address: (c.action.value, sorted(d.path for d in c.differences)) for c in plan.changes}


def _writes(aws: AwsContext) -> int:
    from pacs_reconcile.aws import is_mutating

    return sum(n for name, n in dict(aws.stats.calls).items() if is_mutating(name.partition(".")[2]))


def test_the_stack_converges_and_a_new_revision_rolls_out(
    tmp_path: Any, aws: AwsContext, infra: dict[str, Any]
) -> None:
    first = _stack_apply(tmp_path, aws, infra)
    assert first["ecs_services.prometheus"][0] == "create"

    clean = _stack_plan(tmp_path, aws, infra)
    assert [c.address for c in clean.changes if c.action.value != "no-op"] == []
    writes = _writes(aws)
    _stack_apply(tmp_path, aws, infra)
    assert _writes(aws) == writes, "a second apply makes no write"

    rolled = _stack_apply(tmp_path, aws, infra, image="prom/prometheus:v2.54.0")
    assert rolled["ecs_services.prometheus"] == ("update", ["task_definition"])
    live = read(aws)[KEY]
    assert live.state["task_definition"] == "prom-stack:2", "the new revision runs"
    assert not [
        c
        for c in _stack_plan(tmp_path, aws, infra, image="prom/prometheus:v2.54.0").changes
        if c.action.value != "no-op"
    ]

    renamed = _stack_apply(tmp_path, aws, infra, image="prom/prometheus:v2.54.0", service_name="prometheus-2")
    # A new identity (CLUSTER/NAME): the new service is made beside the old one's removal.
    assert renamed["ecs_services.prometheus"][0] == "create"
    assert renamed[f'ecs_services["{KEY}"]'][0] == "delete"
    assert list(read(aws, f"{CLUSTER}/prometheus-2")) == [f"{CLUSTER}/prometheus-2"]
    assert KEY not in read(aws), "the old service is deleted"


def test_a_refused_read_is_an_error_never_an_absent_service(aws: AwsContext) -> None:
    from botocore.stub import Stubber

    with Stubber(aws.client("ecs")) as ecs, Stubber(aws.client("resourcegroupstaggingapi")) as tagging:
        tagging.add_response("get_resources", {"ResourceTagMappingList": []})
        ecs.add_client_error("describe_services", "AccessDeniedException", http_status_code=400)
        with pytest.raises(ClientError, match="AccessDenied"):
            read(aws)


def test_a_missing_service_or_cluster_is_absent(aws: AwsContext, infra: dict[str, Any]) -> None:
    """DescribeServices answers an unknown name with a failure (reason MISSING), an unknown cluster
    with ClusterNotFoundException: both mean the service does not exist."""
    assert read(aws, KEY, "no-such-cluster/prometheus") == {}
