"""Lookups against moto: each kind resolves after seeding, and fails clearly when missing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.emulator.seed import seed_existing_infrastructure
from pacs_reconcile.errors import LookupFailed
from pacs_reconcile.resources.registry import LOOKUPS

REGION = "ap-northeast-2"
SERVICE_ID = "service/pacs-cluster/pacs-backend"

SPECS: dict[str, dict[str, Any]] = {
    "vpc": {"kind": "vpc", "tags": {"Name": "pacs-vpc"}},
    "subnets": {"kind": "subnets", "tags": {"Tier": "private"}},
    "subnet": {"kind": "subnet", "tags": {"Name": "pacs-private-a"}},
    "rds_instance": {"kind": "rds_instance", "identifier": "pacs-postgresql"},
    "s3_bucket": {"kind": "s3_bucket", "name": "pacs-storage"},
    "load_balancer": {"kind": "load_balancer", "name": "pacs-alb"},
    "autoscaling_group": {"kind": "autoscaling_group", "name": "pacs-backend-asg"},
    "ecs_service": {"kind": "ecs_service", "cluster": "pacs-cluster", "service": "pacs-backend"},
    "scaling_policy": {
        "kind": "scaling_policy",
        "resource_id": SERVICE_ID,
        "name": "pacs-backend-scale-out-cpu",
    },
    "iam_role": {"kind": "iam_role", "name": "pacs-ecs-task-execution"},
}

MISSING = {
    "vpc": "VPC with tags Name=pacs-vpc not found in ap-northeast-2",
    "subnets": "Subnets with tags Tier=private not found in ap-northeast-2",
    "subnet": "Subnet with tags Name=pacs-private-a not found in ap-northeast-2",
    "rds_instance": "RDS instance 'pacs-postgresql' not found in ap-northeast-2",
    "s3_bucket": "S3 bucket 'pacs-storage' not found in ap-northeast-2",
    "load_balancer": "Load balancer 'pacs-alb' not found in ap-northeast-2",
    "autoscaling_group": "Auto Scaling group 'pacs-backend-asg' not found in ap-northeast-2",
    "ecs_service": "ECS cluster 'pacs-cluster' not found in ap-northeast-2",
    "scaling_policy": f"Scaling policy 'pacs-backend-scale-out-cpu' on {SERVICE_ID} not found in {REGION}",
    "iam_role": "IAM role 'pacs-ecs-task-execution' not found",
}


@pytest.fixture
def seeded(aws: AwsContext) -> dict[str, str]:
    return seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION)


def resolve(aws: AwsContext, kind: str, **overrides: Any) -> dict[str, Any]:
    return LOOKUPS[kind].resolve(aws, {**SPECS[kind], **overrides})


def test_every_kind_is_registered_and_tested() -> None:
    assert set(LOOKUPS) == set(SPECS) == set(MISSING)
    for kind, lookup in LOOKUPS.items():
        assert lookup.meta.kind == kind
        assert lookup.meta.model.model_fields["kind"].is_required()


def test_every_lookup_resolves_after_seeding(aws: AwsContext, seeded: dict[str, str]) -> None:
    found = {kind: resolve(aws, kind) for kind in SPECS}

    for kind, attributes in found.items():
        assert set(attributes) == set(LOOKUPS[kind].meta.attributes), kind

    assert found["vpc"]["id"] == seeded["vpc_id"]
    assert found["vpc"]["cidr_block"] == "10.0.0.0/16"
    assert found["vpc"]["arn"] == f"arn:aws:ec2:{REGION}:123456789012:vpc/{seeded['vpc_id']}"
    private = sorted([seeded["private_subnet_a"], seeded["private_subnet_b"]])
    assert found["subnets"]["ids"] == private
    blocks = dict(zip(found["subnets"]["ids"], found["subnets"]["cidr_blocks"], strict=True))
    assert blocks == {seeded["private_subnet_a"]: "10.0.1.0/24", seeded["private_subnet_b"]: "10.0.2.0/24"}
    rds = found["rds_instance"]
    assert rds["id"] == "pacs-postgresql"
    assert rds["endpoint"] == f"{rds['address']}:{rds['port']}" and isinstance(rds["port"], int)
    assert found["s3_bucket"] == {"name": "pacs-storage", "arn": "arn:aws:s3:::pacs-storage"}
    alb = found["load_balancer"]
    assert alb["arn"] == seeded["load_balancer_arn"]
    assert alb["arn_suffix"].startswith("app/pacs-alb/") and alb["arn"].endswith(alb["arn_suffix"])
    assert found["autoscaling_group"]["name"] == "pacs-backend-asg"
    service = found["ecs_service"]
    assert (service["name"], service["cluster_name"]) == ("pacs-backend", "pacs-cluster")
    assert service["cluster_arn"].endswith(":cluster/pacs-cluster")
    assert found["scaling_policy"]["arn"] == seeded["scale_out_cpu_policy_arn"]
    assert found["iam_role"]["arn"] == seeded["task_execution_role_arn"]


def test_lookups_by_other_criteria(aws: AwsContext, seeded: dict[str, str]) -> None:
    assert resolve(aws, "vpc", tags=None, id=seeded["vpc_id"])["id"] == seeded["vpc_id"]
    by_vpc = resolve(aws, "subnets", tags=None, vpc_id=seeded["vpc_id"])
    assert len(by_vpc["ids"]) == 4
    memory = resolve(aws, "scaling_policy", name="pacs-backend-scale-out-memory")
    assert memory["arn"] == seeded["scale_out_memory_policy_arn"]


@pytest.mark.parametrize("kind", sorted(MISSING))
def test_each_missing_lookup_fails_with_what_was_searched(aws: AwsContext, kind: str) -> None:
    with pytest.raises(LookupFailed) as caught:
        resolve(aws, kind)
    assert str(caught.value) == MISSING[kind]


def test_missing_service_in_an_existing_cluster(aws: AwsContext, seeded: dict[str, str]) -> None:
    with pytest.raises(LookupFailed, match="ECS service 'pacs-worker' in cluster 'pacs-cluster' not found"):
        resolve(aws, "ecs_service", service="pacs-worker")


def test_a_deleted_service_is_missing(aws: AwsContext, seeded: dict[str, str]) -> None:
    ecs = aws.client("ecs")
    ecs.update_service(cluster="pacs-cluster", service="pacs-backend", desiredCount=0)
    ecs.delete_service(cluster="pacs-cluster", service="pacs-backend")
    with pytest.raises(LookupFailed, match="not found"):
        resolve(aws, "ecs_service")


def test_a_tag_search_matching_several_vpcs_is_ambiguous(aws: AwsContext, seeded: dict[str, str]) -> None:
    ec2 = aws.client("ec2")
    twin = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "pacs-vpc"}]}],
    )["Vpc"]["VpcId"]
    with pytest.raises(LookupFailed) as caught:
        resolve(aws, "vpc")
    message = str(caught.value)
    assert message.startswith("VPC with tags Name=pacs-vpc is ambiguous in ap-northeast-2: 2 match (")
    assert twin in message and seeded["vpc_id"] in message


def test_other_errors_are_not_turned_into_missing(aws: AwsContext) -> None:
    with Stubber(aws.client("iam")) as stub:
        stub.add_client_error("list_roles", "AccessDenied", http_status_code=403)  # then asked alone
        stub.add_client_error("get_role", "AccessDenied", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDenied"):
            resolve(aws, "iam_role")


def test_subnet_lookups_share_one_listing_and_role_lookups_one_role_listing(
    aws: AwsContext, seeded: dict[str, str]
) -> None:
    """The repository's spec looks up two subnets and two roles: one DescribeSubnets and one
    ListRoles in all, not one call per lookup."""
    before = Counter(aws.stats.calls)
    a = resolve(aws, "subnet")
    b = resolve(aws, "subnet", tags={"Name": "pacs-private-b"})
    by_id = resolve(aws, "subnet", tags=None, id=seeded["public_subnet_a"])
    wildcard = resolve(
        aws,
        "subnet",
        tags={"Name": "pacs-public-?", "Tier": "pub*"},
        availability_zone=by_id["availability_zone"],
    )
    execution = resolve(aws, "iam_role")
    task = resolve(aws, "iam_role", name="pacs-ecs-task")
    assert dict(Counter(aws.stats.calls) - before) == {"ec2.DescribeSubnets": 1, "iam.ListRoles": 1}
    assert (a["id"], b["id"]) == (seeded["private_subnet_a"], seeded["private_subnet_b"])
    assert wildcard["id"] == by_id["id"] == seeded["public_subnet_a"]
    assert (execution["arn"], task["arn"]) == (seeded["task_execution_role_arn"], seeded["task_role_arn"])


def test_a_role_the_listing_lacks_is_asked_for_alone(aws: AwsContext, seeded: dict[str, str]) -> None:
    """IAM's lists lag behind its writes: a role the run's listing lacks (here: made by someone
    else after it) is still found."""
    assert resolve(aws, "iam_role")["name"] == "pacs-ecs-task-execution"
    someone_else = boto3.client("iam", region_name=REGION)
    arn = someone_else.create_role(RoleName="made-later", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    before = Counter(aws.stats.calls)
    assert resolve(aws, "iam_role", name="made-later")["arn"] == arn
    assert dict(Counter(aws.stats.calls) - before) == {"iam.GetRole": 1}


def test_a_subnet_matching_twice_is_still_ambiguous(aws: AwsContext, seeded: dict[str, str]) -> None:
    with pytest.raises(LookupFailed, match="ambiguous"):
        resolve(aws, "subnet", tags={"Name": "pacs-private-*"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "vpc"}, "give the VPC's id or tags"),
        ({"kind": "subnets"}, "give vpc_id or tags"),
        ({"kind": "s3_bucket", "name": "Bad_Bucket"}, "3-63 lowercase"),
        ({"kind": "rds_instance"}, "Field required"),
        ({"kind": "iam_role", "name": "r", "path": "/"}, "Extra inputs"),
    ],
)
def test_lookup_spec_errors(aws: AwsContext, spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LOOKUPS[spec["kind"]].resolve(aws, spec)


def test_unresolved_references_pass_validation() -> None:
    model = LOOKUPS["s3_bucket"].meta.model
    assert model.model_validate({"kind": "s3_bucket", "name": "${var.bucket}"})
