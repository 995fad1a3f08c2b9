"""Cloud Map against moto (with the emulator's namespace patch): a private DNS namespace of a VPC and
its services converge (create -> empty plan -> no writes), out-of-band changes show at their path
and are repaired, a TTL changes in place while a record type or the routing policy replaces the
service, and a failed operation fails the apply with AWS's reason."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions, make_plan
from pacs_reconcile.resources import servicediscovery
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.spec.loader import load_spec

SPEC = """\
version: 1
stack: pacs-test
region: ap-northeast-2
service_discovery_namespaces:
  monitoring:
    name: pacs-monitoring.local
    vpc_id: {vpc}
    description: PACS monitoring services
    tags: {{Name: pacs-monitoring}}
    services:
      prometheus:
        name: prometheus
        description: Prometheus tasks
        dns_records: {{A: {ttl}}}
        routing_policy: {policy}
      grafana:
        name: grafana
"""


def spec_text(vpc: str, ttl: int = 10, policy: str = "MULTIVALUE") -> str:
    return SPEC.format(vpc=vpc, ttl=ttl, policy=policy)


def plan_of(tmp_path: Path, aws: AwsContext, text: str) -> Plan:
    path = tmp_path / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    return make_plan(load_spec(path), aws, PlanOptions())


def applied(tmp_path: Path, aws: AwsContext, text: str) -> Plan:
    plan = plan_of(tmp_path, aws, text)
    assert plan.values is not None
    result = apply_plan(plan, plan.values, aws)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    return plan


def actions(plan: Plan) -> dict[str, Action]:
    return {c.address: c.action for c in plan.changes}


@pytest.fixture
def vpc(aws: AwsContext) -> str:
    return str(aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"])


def sd(aws: AwsContext) -> Any:
    return aws.client("servicediscovery")


def service_id(aws: AwsContext, name: str) -> str:
    return str(next(s["Id"] for s in sd(aws).list_services()["Services"] if s["Name"] == name))


def test_kinds_are_registered_with_their_metadata() -> None:
    namespaces, services = KINDS["service_discovery_namespaces"], KINDS["services"]
    assert namespaces.meta.taggable and namespaces.meta.force_new == {"name", "vpc_id"}
    assert services.meta.parent == "service_discovery_namespaces" and not services.meta.taggable
    assert "arn" in services.meta.attributes  # what an ECS service's registry names


def test_namespace_and_services_converge(tmp_path: Path, aws: AwsContext, vpc: str) -> None:
    first = applied(tmp_path, aws, spec_text(vpc))
    assert actions(first) == {
        "service_discovery_namespaces.monitoring": Action.CREATE,
        "service_discovery_namespaces.monitoring.services.prometheus": Action.CREATE,
        "service_discovery_namespaces.monitoring.services.grafana": Action.CREATE,
    }
    (namespace,) = sd(aws).list_namespaces()["Namespaces"]
    assert (namespace["Name"], namespace["Type"]) == ("pacs-monitoring.local", "DNS_PRIVATE")
    zone = aws.client("route53").get_hosted_zone(Id=namespace["Properties"]["DnsProperties"]["HostedZoneId"])
    assert [v["VPCId"] for v in zone["VPCs"]] == [vpc]
    tags = {
        t["Key"]: t["Value"] for t in sd(aws).list_tags_for_resource(ResourceARN=namespace["Arn"])["Tags"]
    }
    assert tags["pacs-reconcile:stack"] == "pacs-test"
    prometheus = sd(aws).get_service(Id=service_id(aws, "prometheus"))["Service"]
    assert prometheus["NamespaceId"] == namespace["Id"]
    assert prometheus["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    assert prometheus["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert prometheus["HealthCheckCustomConfig"] is not None

    again = plan_of(tmp_path, aws, spec_text(vpc))
    assert set(actions(again).values()) == {Action.NOOP}
    before = aws.stats.mutating()
    assert again.values is not None
    apply_plan(again, again.values, aws)
    assert aws.stats.mutating() == before, "an in-sync apply writes nothing"


def test_out_of_band_changes_are_planned_at_their_path_and_repaired(
    tmp_path: Path, aws: AwsContext, vpc: str
) -> None:
    applied(tmp_path, aws, spec_text(vpc))
    (namespace,) = sd(aws).list_namespaces()["Namespaces"]
    sd(aws).update_private_dns_namespace(Id=namespace["Id"], Namespace={"Description": "by hand"})
    sd(aws).untag_resource(ResourceARN=namespace["Arn"], TagKeys=["Name"])
    sd(aws).update_service(
        Id=service_id(aws, "prometheus"),
        Service={"Description": "by hand", "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 300}]}},
    )
    sd(aws).delete_service(Id=service_id(aws, "grafana"))
    plan = plan_of(tmp_path, aws, spec_text(vpc))
    by_address = plan.by_address()
    ns = by_address["service_discovery_namespaces.monitoring"]
    assert ns.action is Action.UPDATE
    assert {d.path for d in ns.differences} == {"description", "tags.Name"}
    prometheus = by_address["service_discovery_namespaces.monitoring.services.prometheus"]
    assert prometheus.action is Action.UPDATE
    assert {d.path for d in prometheus.differences} == {"description", "dns_records.A"}
    assert by_address["service_discovery_namespaces.monitoring.services.grafana"].action is Action.CREATE

    applied(tmp_path, aws, spec_text(vpc))
    assert set(actions(plan_of(tmp_path, aws, spec_text(vpc))).values()) == {Action.NOOP}


def test_a_ttl_changes_in_place_a_record_type_or_the_policy_replaces(
    tmp_path: Path, aws: AwsContext, vpc: str
) -> None:
    applied(tmp_path, aws, spec_text(vpc))
    original = service_id(aws, "prometheus")
    ttl = applied(tmp_path, aws, spec_text(vpc, ttl=60))
    assert actions(ttl)["service_discovery_namespaces.monitoring.services.prometheus"] is Action.UPDATE
    assert service_id(aws, "prometheus") == original

    weighted = plan_of(tmp_path, aws, spec_text(vpc, ttl=60, policy="WEIGHTED"))
    assert actions(weighted)["service_discovery_namespaces.monitoring.services.prometheus"] is Action.REPLACE
    srv = plan_of(tmp_path, aws, spec_text(vpc, ttl=60).replace("{A: 60}", "{A: 60, SRV: 60}"))
    change = srv.by_address()["service_discovery_namespaces.monitoring.services.prometheus"]
    assert change.action is Action.REPLACE and "dns_records.SRV" in change.reason


def test_a_failed_operation_fails_with_awss_reason(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {
        "Id": "op-1",
        "Status": "FAIL",
        "Type": "CREATE_NAMESPACE",
        "ErrorCode": "CANNOT_CREATE_HOSTED_ZONE",
        "ErrorMessage": "The VPC vpc-0abc is not in this Region",
    }
    client = sd(aws)
    monkeypatch.setattr(client, "get_operation", lambda **_: {"Operation": failed})
    with pytest.raises(servicediscovery.OperationFailed, match="CANNOT_CREATE_HOSTED_ZONE The VPC vpc-0abc"):
        servicediscovery.wait_for_operation(aws, "op-1")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("name: pacs monitoring", "must be a domain name"),
        ("vpc_id: subnet-0123456789abcdef0", "must be a VPC id"),
    ],
)
def test_bad_namespaces_are_spec_errors(tmp_path: Path, entry: str, message: str) -> None:
    from typer.testing import CliRunner

    from pacs_reconcile.cli import app

    text = spec_text("vpc-0123456789abcdef0")
    key = entry.split(":")[0]
    text = "\n".join(f"    {entry}" if line.startswith(f"    {key}:") else line for line in text.splitlines())
    path = tmp_path / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["--no-color", "validate", "-f", str(path)])
    assert result.exit_code == 3, result.stderr
    assert message in result.stderr


NAMESPACES = KINDS["service_discovery_namespaces"]
NAMESPACE = "pacs-monitoring.local"


def _hold_until(aws: AwsContext, held: tuple[str, str], until: tuple[str, str]) -> tuple[list[bool], Any]:
    """`held` (service, operation) waits (5 s at most) until an `until` call is made; the list tells
    whether it was. Returns it and the function that removes the hooks."""
    made = threading.Event()
    met: list[bool] = []
    hooks = []
    for (service, operation), handler in (
        (until, lambda **_: made.set()),
        (held, lambda **_: met.append(made.wait(5.0))),
    ):
        client = aws.client(service)
        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        client.meta.events.register(event, handler)
        hooks.append((client, event, handler))

    def remove() -> None:
        for client, event, handler in hooks:
            client.meta.events.unregister(event, handler)

    return met, remove


def test_a_declared_namespace_s_vpc_is_read_while_its_tags_are(
    tmp_path: Path, aws: AwsContext, vpc: str
) -> None:
    """Its hosted zone (its VPC) is read whatever its tags say: not after them."""
    applied(tmp_path, aws, spec_text(vpc))
    aws.forget_all()
    met, remove = _hold_until(aws, ("servicediscovery", "ListTagsForResource"), ("route53", "GetHostedZone"))
    try:
        found = NAMESPACES.read(aws, [NAMESPACE], ReadScope(aws.stack))
    finally:
        remove()
    assert met == [True]
    assert found[NAMESPACE].state["vpc_id"] == vpc


def test_the_declared_services_are_read_ahead_and_the_read_takes_them_up(
    tmp_path: Path, aws: AwsContext, vpc: str
) -> None:
    """Their namespace found in the listing the namespaces' read makes, their services listed
    before the namespaces are read: neither read lists them again."""
    applied(tmp_path, aws, spec_text(vpc))
    aws.forget_all()
    keys = [(NAMESPACE, "prometheus"), (NAMESPACE, "grafana")]
    before = Counter(aws.stats.calls)
    KINDS["services"].read_ahead(aws, keys, aws.stack)
    ahead = Counter(aws.stats.calls) - before
    assert dict(ahead) == {"servicediscovery.ListNamespaces": 1, "servicediscovery.ListServices": 1}
    namespaces = NAMESPACES.read(aws, [NAMESPACE], ReadScope(aws.stack))
    found = KINDS["services"].read(aws, keys, ReadScope(aws.stack, namespaces))
    made = Counter(aws.stats.calls) - before - ahead
    assert set(found) == set(keys)
    assert "servicediscovery.ListNamespaces" not in made and "servicediscovery.ListServices" not in made, made
