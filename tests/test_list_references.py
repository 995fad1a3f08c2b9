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
SPEC = """\
version: 1
stack: list-refs
region: ap-northeast-2
lookups:
  private_subnets: {kind: subnets, tags: {Tier: private}}
sns_topics:
  alerts:
    name: list-refs-alerts
    display_name: "x-${lookups.private_subnets.ids}"
"""
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
