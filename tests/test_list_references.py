"""References whose value is a list (a subnets lookup's `ids`): text cannot embed one. The loader
refuses those the lookup's metadata types as lists; plan refuses the rest once the value is known,
with the same diagnostic (file, line, field; a spec error, not an internal one)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from pacs_reconcile import api
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.resources.registry import LOOKUPS

REGION = "ap-northeast-2"
HEAD = """\
version: 1
stack: list-refs
region: ap-northeast-2
lookups:
  private_subnets: {kind: subnets, tags: {Tier: private}}
"""
SPEC = (
    HEAD
    + """\
sns_topics:
  alerts:
    name: list-refs-alerts
    display_name: "x-${lookups.private_subnets.ids}"
"""
)
EMBEDDED = (
    "${lookups.private_subnets.ids}: a list (the ids of lookup 'private_subnets') cannot be embedded "
    "in text: write it as the whole value of a list field"
)


@pytest.fixture
def private_subnet(aws: AwsContext) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.40.1.0/24",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Tier", "Value": "private"}]}],
    )["Subnet"]["SubnetId"]
    return str(subnet)


def _spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_a_list_lookup_attribute_in_text_is_refused_when_the_spec_loads(tmp_path: Path) -> None:
    with pytest.raises(api.SpecError) as refused:
        api.load(_spec_file(tmp_path))
    (problem,) = refused.value.diagnostics
    assert (problem.line, problem.field) == (9, "sns_topics.alerts.display_name")
    assert problem.message == EMBEDDED


def test_a_list_the_metadata_does_not_type_is_refused_at_plan_as_a_spec_error(
    aws: AwsContext, private_subnet: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attribute whose metadata does not say it is a list passes the load; plan, once it knows
    the value, reports it as the loader would (it was an internal error)."""
    untyped = LOOKUPS["subnets"]
    monkeypatch.setattr(untyped, "meta", replace(untyped.meta, list_attributes=frozenset()))
    spec = api.load(_spec_file(tmp_path))
    with pytest.raises(api.SpecError) as refused:
        api.plan(spec, aws=aws)
    (problem,) = refused.value.diagnostics
    assert (problem.line, problem.field) == (9, "sns_topics.alerts.display_name")
    assert problem.message == EMBEDDED


WHOLE = (
    HEAD
    + """\
ecs_services:
  api:
    name: list-refs-api
    cluster: list-refs
    task_definition: "list-refs-api:1"
    network:
      subnets: ${lookups.private_subnets.ids}
alarms:
  cpu:
    name: list-refs-cpu
    metric: {name: CPUUtilization, namespace: AWS/EC2, statistic: Average, period: 300}
    threshold: 80
    comparison: GreaterThanThreshold
    evaluation_periods: 3
    alarm_actions: ${lookups.private_subnets.ids}
"""
)


def test_a_whole_reference_to_a_list_fills_a_list_field_at_plan(
    aws: AwsContext, private_subnet: str, tmp_path: Path
) -> None:
    """A reference that is the whole value takes the value's type (docs/spec-language.md): a list
    field takes a list lookup attribute, unresolved until plan, which gives it the list."""
    path = tmp_path / "monitoring.yaml"
    path.write_text(WHOLE.split("alarms:")[0], encoding="utf-8")
    spec = api.load(path)
    assert spec.resources["ecs_services.api"].config["network"]["subnets"] == "${lookups.private_subnets.ids}"
    (change,) = api.plan(spec, aws=aws).changes
    subnets = {d.path: d.new for d in change.differences}["network.subnets"]
    assert subnets == [private_subnet]


def test_the_items_a_whole_list_reference_gives_are_checked_at_plan(
    aws: AwsContext, private_subnet: str, tmp_path: Path
) -> None:
    """Alarm actions are ARNs: subnet ids fit the list field but not its items, a spec error naming
    the item, the reference's line and what it gave."""
    path = tmp_path / "monitoring.yaml"
    path.write_text(WHOLE, encoding="utf-8")
    spec = api.load(path)
    with pytest.raises(api.SpecError) as refused:
        api.plan(spec, aws=aws)
    (problem,) = refused.value.diagnostics
    assert (problem.line, problem.field) == (20, "alarms.cpu.alarm_actions[0]")
    assert problem.message.startswith(f"${{lookups.private_subnets.ids}} gives {private_subnet!r}: ")


def test_a_whole_reference_to_a_single_value_is_still_not_a_list(tmp_path: Path) -> None:
    """Only a lookup attribute that is a list may stand for a list field: a subnet's id, or a
    resource's attribute, is refused when the spec loads, as before, saying why."""
    path = tmp_path / "monitoring.yaml"
    spec = WHOLE.split("alarms:")[0].replace(
        "  private_subnets: {kind: subnets, tags: {Tier: private}}\n",
        "  private_subnets: {kind: subnets, tags: {Tier: private}}\n"
        "  subnet_a: {kind: subnet, tags: {Name: a}}\n",
    )
    spec = spec.replace("subnets: ${lookups.private_subnets.ids}", "subnets: ${lookups.subnet_a.id}")
    spec = spec.replace("network:\n", "network:\n      security_groups: ${ecs_services.api.arn}\n")
    path.write_text(spec, encoding="utf-8")
    with pytest.raises(api.SpecError) as refused:
        api.load(path)
    fields = {p.field: p.message for p in refused.value.diagnostics}
    assert fields == {
        "ecs_services.api.network.security_groups": "must be a list; ${ecs_services.api.arn} is not one (a "
        "whole reference to a list, such as a subnets lookup's ids, may stand for one)",
        "ecs_services.api.network.subnets": "must be a list; ${lookups.subnet_a.id} is not one (a whole "
        "reference to a list, such as a subnets lookup's ids, may stand for one)",
    }
